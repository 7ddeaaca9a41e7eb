/* rowtext.h: the row model (row.h) written straight into text, without building the
 * cJSON object: what the list endpoint and NDJSON export send for every row. */
#ifndef REQLOG_ROWTEXT_H
#define REQLOG_ROWTEXT_H

#include "base/textbuf.h"
#include "read/rowsrc.h"

/* Appends the current row of R (columns in enum row_col order) to T as the JSON
 * text of row_json(R, WITH_BODIES): the same members in the same order with the same
 * values. Integers are written as integers, milliseconds in their shortest exact form.
 * Stored header and error_fields text is copied as it is when it is plain JSON of the
 * expected type (checked, not parsed); anything else goes through row_json()'s parse,
 * so it reads as [] / null exactly when row_json() says so. The text never holds a raw
 * byte below 0x20, so a row fits on one line (NDJSON, server-sent events).
 * Failures show in T (nomem, stopped). */
void row_text(const rowsrc *r, int with_bodies, textbuf *t);

#endif
