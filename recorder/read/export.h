/* export.h: the one exporter (export.c) and what a backend gives it: the rows to export
 * as an export source. SQLite's source is export_sqlite.c's, PostgreSQL's recorder/pg/'s;
 * both end in the same CSV, NDJSON and HAR text. */
#ifndef REQLOG_EXPORT_H
#define REQLOG_EXPORT_H

#include <stdint.h>
#include "reqlog.h"
#include "read/row.h"
#include "read/rowsrc.h"

/* The rows of one export, from one backend, for one filter (held in CTX). */
typedef struct export_source {
  void *ctx;
  /* How many rows open() will give; called before open(), only when progress is wanted. */
  reqlog_err (*count)(void *ctx, int64_t *n, char **cause);
  /* Starts the rows, oldest first (id order), with columns COLS (the others may read as
   * NULL). close() is called after a successful open(), whatever happens next. */
  reqlog_err (*open)(void *ctx, row_cols cols, char **cause);
  /* The next row into *row (valid until the next call): REQLOG_OK, REQLOG_ERR_DONE after
   * the last row, or an error with *cause. */
  reqlog_err (*next)(void *ctx, const rowsrc **row, char **cause);
  void (*close)(void *ctx);
} export_source;

/* Writes SRC's rows in OPTS's format through WRITE(CTX, ...): checks OPTS, counts for
 * the progress callback, streams, flushes. A backend that wants the count and the rows to
 * agree runs this inside one read snapshot. */
reqlog_err export_run(const export_source *src, const reqlog_export_opts *opts,
                      reqlog_write_fn write, void *ctx, char **cause);

#endif
