/* stats_sqlite.c: rs_stats(), the statistics of a SQLite history: stats.c's source over
 * one connection, in one snapshot. A range of time is read from the calls_time index
 * (a covering index: started_at, status, duration_us, key) row by row; whole days from
 * the rollup tables of schema/002_stats.sql, which hold the rows up to the indexer's
 * mark, merged with the rows above the mark; any other filter reads the matching rows'
 * (started_at, status, duration_us, key). */
#include <stdio.h>

#include "read/filter.h"
#include "read/read.h"
#include "read/row.h"
#include "read/sqlq.h"
#include "read/stats.h"
#include "store/histogram.h"
#include "base/util.h"
#include "base/errors.h"

#define US_PER_MINUTE INT64_C(60000000)

static reqlog_err nomem(char **cause) {
  return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
}

static reqlog_err step_failed(sqlite3 *db, int rc, char **cause) {
  return util_fail(cause, errors_from_sqlite(rc), "stats: %s", sqlite3_errmsg(db));
}

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t d = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? d - 1 : d;
}

static void feed_row(stats_acc *a, sqlite3_stmt *st) {
  stats_acc_row(a, sqlite3_column_int64(st, 0), sqlite3_column_type(st, 1) != SQLITE_NULL,
                sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2),
                (const char *)sqlite3_column_text(st, 3));
}

/* When ERR (how preparing ST went) is REQLOG_OK, hands each row of ST to FN; finalizes
 * ST either way. */
static reqlog_err each_row(sqlite3 *db, sqlite3_stmt *st, reqlog_err err,
                           void (*fn)(stats_acc *, sqlite3_stmt *), stats_acc *a,
                           char **cause) {
  while (err == REQLOG_OK && !stats_acc_failed(a)) {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
      break;
    if (rc != SQLITE_ROW) {
      err = step_failed(db, rc, cause);
      break;
    }
    fn(a, st);
  }
  sqlite3_finalize(st);
  return err == REQLOG_OK && stats_acc_failed(a) ? nomem(cause) : err;
}

/* Feeds every row of Q's statement (started_at, status, duration_us, key) to A. Frees Q. */
static reqlog_err feed_rows(sqlite3 *db, sqlq *q, stats_acc *a, char **cause) {
  sqlite3_stmt *st = NULL;
  reqlog_err err = sqlq_prepare(q, db, &st, cause);
  sqlq_free(q);
  return each_row(db, st, err, feed_row, a, cause);
}

#define ROW_FIELDS "SELECT c.started_at, c.status, c.duration_us, c.key FROM calls AS c"

/* The rows with FROM <= started_at < TO. */
static reqlog_err src_range(void *ctx, int64_t from, int64_t to, stats_acc *a, char **cause) {
  sqlq q = {0};
  sqlq_add(&q, ROW_FIELDS " WHERE c.started_at >= ");
  sqlq_int(&q, from);
  sqlq_add(&q, " AND c.started_at < ");
  sqlq_int(&q, to);
  sqlq_add(&q, " ORDER BY c.started_at");
  return feed_rows(ctx, &q, a, cause);
}

static reqlog_err src_matching(void *ctx, const reqlog_filter *f, int64_t now_us,
                               stats_acc *a, char **cause) {
  sqlq q = {0};
  sqlq_add(&q, ROW_FIELDS " WHERE ");
  filter_sql(f, now_us, &q);
  sqlq_add(&q, " ORDER BY c.started_at");
  return feed_rows(ctx, &q, a, cause);
}

static reqlog_err prepare2(sqlite3 *db, const char *sql, int64_t d1, int64_t d2,
                           sqlite3_stmt **st, char **cause) {
  int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
  if (rc != SQLITE_OK)
    return util_fail(cause, errors_from_sqlite(rc), "stats: %s", sqlite3_errmsg(db));
  sqlite3_bind_int64(*st, 1, d1);
  sqlite3_bind_int64(*st, 2, d2);
  return REQLOG_OK;
}

/* Runs SQL with ?1, ?2 bound to LO, HI and hands each row to FN. */
static reqlog_err each_rollup_row(sqlite3 *db, const char *sql, int64_t lo, int64_t hi,
                                  void (*fn)(stats_acc *, sqlite3_stmt *), stats_acc *a,
                                  char **cause) {
  sqlite3_stmt *st = NULL;
  reqlog_err err = prepare2(db, sql, lo, hi, &st, cause);
  return each_row(db, st, err, fn, a, cause);
}

static void day_status_row(stats_acc *a, sqlite3_stmt *st) {
  stats_acc_status(a, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
}

static void hist_row(stats_acc *a, sqlite3_stmt *st) {
  stats_acc_hist(a, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
}

/* The per-minute counts of the whole days [D1, D2): stats_minute holds the rows up to
 * the indexer's mark, the rows above it (recorded since the indexer last ran) are read
 * from calls by id; the two are merged in minute order, which per-key peaks need. */
static reqlog_err merge_minutes(sqlite3 *db, int64_t d1, int64_t d2, stats_acc *a,
                                char **cause) {
  sqlite3_stmt *roll = NULL, *raw = NULL;
  reqlog_err err = prepare2(db,
                            "SELECT minute, key, n FROM stats_minute"
                            " WHERE minute >= ?1 * 1440 AND minute < ?2 * 1440 ORDER BY minute",
                            d1, d2, &roll, cause);
  /* The rows above the mark are found by id, then sorted: neither a time range on
   * calls_time nor its order (which a plain ORDER BY would walk, all of it, to skip a
   * sort of a few rows) may drive this. */
  if (err == REQLOG_OK)
    err = prepare2(db,
                   "WITH t AS MATERIALIZED (SELECT c.started_at, c.status, c.duration_us,"
                   " c.key FROM calls AS c WHERE c.id > " FILTER_FTS_MARK
                   " AND +c.started_at >= ?1 * 86400000000 AND +c.started_at < ?2 * 86400000000)"
                   " SELECT * FROM t ORDER BY 1",
                   d1, d2, &raw, cause);
  int hr = err == REQLOG_OK ? sqlite3_step(roll) : SQLITE_DONE;
  int hw = err == REQLOG_OK ? sqlite3_step(raw) : SQLITE_DONE;
  while (err == REQLOG_OK && !stats_acc_failed(a) && (hr == SQLITE_ROW || hw == SQLITE_ROW)) {
    if (hr == SQLITE_ROW &&
        (hw != SQLITE_ROW ||
         sqlite3_column_int64(roll, 0) <= floor_div(sqlite3_column_int64(raw, 0), US_PER_MINUTE))) {
      stats_acc_minute(a, sqlite3_column_int64(roll, 0), (const char *)sqlite3_column_text(roll, 1),
                       sqlite3_column_int64(roll, 2));
      hr = sqlite3_step(roll);
    } else {
      feed_row(a, raw);
      hw = sqlite3_step(raw);
    }
  }
  if (err == REQLOG_OK && (hr != SQLITE_DONE && hr != SQLITE_ROW))
    err = step_failed(db, hr, cause);
  if (err == REQLOG_OK && (hw != SQLITE_DONE && hw != SQLITE_ROW))
    err = step_failed(db, hw, cause);
  if (err == REQLOG_OK && stats_acc_failed(a))
    err = nomem(cause);
  sqlite3_finalize(roll);
  sqlite3_finalize(raw);
  return err;
}

/* Whole days: the status and duration rollups, then the minutes. The rows above the
 * indexer's mark counted in merge_minutes() add their own status and duration there. */
static reqlog_err src_days(void *ctx, int64_t d1, int64_t d2, stats_acc *a, char **cause) {
  sqlite3 *db = ctx;
  reqlog_err err = each_rollup_row(db,
                                   "SELECT status, sum(n) FROM stats_day WHERE day >= ?1 AND day < ?2"
                                   " GROUP BY status",
                                   d1, d2, day_status_row, a, cause);
  if (err == REQLOG_OK)
    err = each_rollup_row(db,
                          "SELECT bucket, sum(n) FROM stats_hist WHERE day >= ?1 AND day < ?2"
                          " GROUP BY bucket",
                          d1, d2, hist_row, a, cause);
  if (err == REQLOG_OK)
    err = merge_minutes(db, d1, d2, a, cause);
  return err;
}

/* min or max of started_at over SINCE <= started_at < UNTIL into *OUT; 0 when no row. */
static reqlog_err time_edge(sqlite3 *db, const char *fn, int64_t since, int64_t until,
                            int *have, int64_t *out, char **cause) {
  char sql[160];
  snprintf(sql, sizeof sql,
           "SELECT %s(started_at) FROM calls WHERE started_at >= ?1 AND started_at < ?2", fn);
  sqlite3_stmt *st = NULL;
  reqlog_err err = prepare2(db, sql, since, until, &st, cause);
  if (err != REQLOG_OK)
    return err;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *have = sqlite3_column_type(st, 0) != SQLITE_NULL;
    *out = sqlite3_column_int64(st, 0);
  } else {
    err = step_failed(db, rc, cause);
  }
  sqlite3_finalize(st);
  return err;
}

static reqlog_err src_edges(void *ctx, int64_t since, int64_t until, int *have,
                            int64_t *first, int64_t *last, char **cause) {
  int have_last = 0;
  reqlog_err err = time_edge(ctx, "min", since, until, have, first, cause);
  if (err == REQLOG_OK && *have)
    err = time_edge(ctx, "max", since, until, &have_last, last, cause);
  return err;
}

reqlog_err rs_stats(sqlite3 *db, const reqlog_filter *f, int64_t now_us, int rate_limit,
                    cJSON **out, char **cause) {
  if (!out)
    return util_fail(cause, REQLOG_ERR_ARG, "stats: no place for the result");
  *out = NULL;
  if (!db)
    return util_fail(cause, REQLOG_ERR_ARG, "stats: no database");
  int owned = 0;
  reqlog_err err = row_snapshot_begin(db, &owned, cause);
  if (err != REQLOG_OK)
    return err;
  const stats_source src = {
    .ctx = db, .edges = src_edges, .range = src_range, .days = src_days,
    .matching = src_matching,
  };
  err = stats_build(&src, f, now_us, rate_limit, out, cause);
  row_snapshot_end(db, owned);
  return err;
}
