/* export_sqlite.c: rs_export, an export of a SQLite history: the rows that match a
 * filter, in id order, as an export source (export.h) for the one writer, export.c. */
#include <stdlib.h>

#include "read/export.h"
#include "read/filter.h"
#include "read/read.h"
#include "read/sqlq.h"
#include "base/errors.h"
#include "base/util.h"

struct sq_export {
  sqlite3 *db;
  const reqlog_filter *f;
  int64_t now_us;
  sqlite3_stmt *st;
  signed char pos[RC_COUNT];     /* where each row column is in the result, or -1 */
  rowsrc row;
};

static reqlog_err sq_count(void *ctx, int64_t *n, char **cause) {
  struct sq_export *x = ctx;
  return rs_count(x->db, x->f, x->now_us, n, cause);
}

/* The columns of COLS alone (a CSV export reads 14 of them), placed by x->pos. */
static reqlog_err sq_open(void *ctx, row_cols cols, char **cause) {
  struct sq_export *x = ctx;
  sqlq q = {0};
  sqlq_add(&q, "SELECT ");
  int n = 0;
  for (int c = 0; c < RC_COUNT; c++) {
    x->pos[c] = -1;
    if (!(cols & ROW_COL(c)))
      continue;
    sqlq_add(&q, n > 0 ? ", " : "");
    sqlq_add(&q, row_col_sql_joined[c]);
    x->pos[c] = (signed char)n++;
  }
  /* every row is read: the notes once per row (a join), not once per note column */
  sqlq_add(&q, " FROM calls AS c" ROW_NOTES_JOIN " WHERE ");
  filter_sql(x->f, x->now_us, &q);
  sqlq_add(&q, " ORDER BY c.id ASC");
  reqlog_err err = sqlq_prepare(&q, x->db, &x->st, cause);
  sqlq_free(&q);
  x->row = rowsrc_sqlite(x->st, x->pos);
  return err;
}

static reqlog_err sq_next(void *ctx, const rowsrc **row, char **cause) {
  struct sq_export *x = ctx;
  int rc = sqlite3_step(x->st);
  if (rc == SQLITE_DONE)
    return REQLOG_ERR_DONE;
  if (rc != SQLITE_ROW)
    return util_fail(cause, errors_from_sqlite(rc), "export: %s", sqlite3_errmsg(x->db));
  *row = &x->row;
  return REQLOG_OK;
}

static void sq_close(void *ctx) {
  struct sq_export *x = ctx;
  sqlite3_finalize(x->st);
  x->st = NULL;
}

reqlog_err rs_export(sqlite3 *db, const reqlog_filter *f, int64_t now_us,
                     const reqlog_export_opts *opts, reqlog_write_fn write, void *ctx,
                     char **cause) {
  if (!db)
    return util_fail(cause, REQLOG_ERR_ARG, "export: no database, options or writer");
  struct sq_export x = {.db = db, .f = f, .now_us = now_us};
  export_source src = {
    .ctx = &x, .count = sq_count, .open = sq_open, .next = sq_next, .close = sq_close,
  };
  /* One read transaction, so the count behind the progress is the count of the rows
   * that are then written. */
  int owned = 0;
  reqlog_err err = row_snapshot_begin(db, &owned, cause);
  if (err == REQLOG_OK)
    err = export_run(&src, opts, write, ctx, cause);
  row_snapshot_end(db, owned);
  return err;
}
