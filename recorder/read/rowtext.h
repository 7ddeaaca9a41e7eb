/* rowtext.h: the row model (row.h) written straight into text, without building the
 * cJSON object: what the list endpoint and NDJSON export send for every row. */
#ifndef REQLOG_ROWTEXT_H
#define REQLOG_ROWTEXT_H

#include <sqlite3.h>
#include "base/textbuf.h"

/* Appends the current result row of ST (selected with row_columns()) to T as the JSON
 * text of row_json(ST, WITH_BODIES): the same members in the same order with the same
 * values. Integers are written as integers, milliseconds in their shortest exact form.
 * Stored header and error_fields text is copied as it is when it is plain JSON of the
 * expected type (checked, not parsed); anything else goes through row_json()'s parse,
 * so it reads as [] / null exactly when row_json() says so. The text never holds a raw
 * byte below 0x20, so a row fits on one line (NDJSON, server-sent events).
 * Failures show in T (nomem, stopped). */
void row_text(sqlite3_stmt *st, int with_bodies, textbuf *t);

#endif
