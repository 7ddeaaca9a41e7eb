/* export_sqlite.c: rs_export, an export of a SQLite history: the rows that match a
 * filter, in id order, as an export source (export.h) for the one writer, export.c;
 * and rs_problems, the same rows (the failing ones) for the grouping of problems.c. */
#include <stdlib.h>

#include "read/export.h"
#include "read/filter.h"
#include "read/problems.h"
#include "read/read.h"
#include "read/sqlq.h"
#include "base/errors.h"
#include "base/util.h"

struct sq_export {
  sqlite3 *db;
  const reqlog_filter *f;
  int64_t now_us;
  sqlite3_stmt *st;
  int failing_since;             /* problems: read the failing rows since the filter's
                                    since through calls_time (see rs_problems) */
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
    sqlq_add(&q, row_col_sql_joined(c));
    x->pos[c] = (signed char)n++;
  }
  /* every row is read: the notes once per row (a join), not once per note column */
  sqlq_add(&q, " FROM calls AS c" ROW_NOTES_JOIN " WHERE ");
  filter_sql(x->f, x->now_us, &q);
  if (x->failing_since) {
    int64_t since = INT64_MIN, until = INT64_MAX;
    filter_bounds(x->f, x->now_us, &since, &until);
    sqlq_add(&q, " AND c.id IN (SELECT t.id FROM calls AS t INDEXED BY calls_time"
                 " WHERE t.started_at >= ");
    sqlq_int(&q, since);
    if (until != INT64_MAX) {
      sqlq_add(&q, " AND t.started_at < ");
      sqlq_int(&q, until);
    }
    sqlq_add(&q, " AND (t.status >= 400 OR t.status IS NULL))");
  }
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

reqlog_err rs_problems(sqlite3 *db, const reqlog_filter *f, int64_t now_us, cJSON **out,
                       char **cause) {
  *out = NULL;
  if (!db)
    return util_fail(cause, REQLOG_ERR_ARG, "problems: no database");
  reqlog_filter *failing = problems_filter(f);
  if (!failing)
    return util_fail(cause, REQLOG_ERR_NOMEM, "problems: out of memory");
  /* With a since, the failing rows are found in the covering calls_time index (time,
   * status) and read by id: left to itself, SQLite walks the status index through the
   * whole history and reads every 4xx row to test its time (2.5 s for 24 h of a 1M-row
   * history, 0.08 s so; bench/web.c). */
  int64_t since = INT64_MIN, until = INT64_MAX;
  filter_bounds(f, now_us, &since, &until);
  struct sq_export x = {.db = db, .f = failing, .now_us = now_us,
                        .failing_since = since != INT64_MIN};
  export_source src = {
    .ctx = &x, .count = sq_count, .open = sq_open, .next = sq_next, .close = sq_close,
  };
  int owned = 0;
  reqlog_err err = row_snapshot_begin(db, &owned, cause);
  if (err == REQLOG_OK)
    err = problems_run(&src, f, now_us, out, cause);
  row_snapshot_end(db, owned);
  reqlog_filter_free(failing);
  return err;
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
