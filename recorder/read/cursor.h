/* cursor.h: what a reqlog_cursor holds, shared by the functions that read rows through
 * it (query.c: cJSON rows; query_text.c: rows as text). */
#ifndef REQLOG_CURSOR_H
#define REQLOG_CURSOR_H

#include <sqlite3.h>
#include "reqlog.h"
#include "read/row.h"
#include "base/errors.h"

struct reqlog_cursor {
  sqlite3 *db;                          /* not owned; handed back through release */
  sqlite3_stmt *st;
  int with_bodies;
  int done;                             /* the statement returned SQLITE_DONE */
  void (*release)(void *, sqlite3 *);
  void *release_ctx;
};

/* Steps C to its next row: REQLOG_OK with the row in C->st, REQLOG_ERR_DONE after the
 * last row (and from then on), or the SQLite error. */
static inline reqlog_err cursor_step(reqlog_cursor *c) {
  if (c->done)
    return REQLOG_ERR_DONE;
  int rc = sqlite3_step(c->st);
  if (rc == SQLITE_DONE) {
    c->done = 1;
    return REQLOG_ERR_DONE;
  }
  return rc == SQLITE_ROW ? REQLOG_OK : errors_from_sqlite(rc);
}

#endif
