/* cursor.h: what a reqlog_cursor holds, whatever the backend: its current row as a row
 * source and how to step and close it. The backends make cursors (query.c for SQLite,
 * recorder/pg/ for PostgreSQL); cursor.c reads rows through them. */
#ifndef REQLOG_CURSOR_H
#define REQLOG_CURSOR_H

#include "reqlog.h"
#include "read/rowsrc.h"

struct reqlog_cursor {
  rowsrc row;                           /* the current row, once step() gave one */
  int with_bodies;
  int done;                             /* step() said REQLOG_ERR_DONE */
  /* The backend's: moves to the next row (REQLOG_OK), says REQLOG_ERR_DONE after the
   * last one, or fails; close() frees what the backend holds (not the cursor). */
  reqlog_err (*step)(reqlog_cursor *c);
  void (*close)(reqlog_cursor *c);
  void *impl;
};

/* Steps C to its next row: REQLOG_OK with the row in C->row, REQLOG_ERR_DONE after the
 * last row (and from then on), or the backend's error. */
static inline reqlog_err cursor_step(reqlog_cursor *c) {
  if (c->done)
    return REQLOG_ERR_DONE;
  reqlog_err err = c->step(c);
  if (err == REQLOG_ERR_DONE)
    c->done = 1;
  return err;
}

#endif
