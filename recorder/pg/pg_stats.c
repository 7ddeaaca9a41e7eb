/* pg_stats.c: reqlog_stats over the team store: read/stats.h's source on one
 * connection, in one snapshot (REPEATABLE READ), the counting done by the server: the
 * calls of a range of time or of a filter come as counts per status, per minute and key,
 * and per duration bucket (or, when latencies are exact, the durations at the
 * percentile ranks), never one row each; whole days come from the rollups of
 * schema/pg/002_stats.sql and whole hours from those of 003_stats_hour.sql, which the
 * store's triggers keep for every committed row. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/pg_int.h"
#include "read/filter.h"
#include "read/sqlq.h"
#include "read/stats.h"

#define US_PER_DAY INT64_C(86400000000)

/* The floored UTC minute of started_at (C's floor division, for times before 1970). */
#define MINUTE_SQL "(c.started_at / 60000000 - (c.started_at % 60000000 < 0)::int)"

typedef struct {
  pg_db *db;
} pgs;

/* Runs Q (PostgreSQL dialect) with its values as text parameters; the result in *RES. */
static reqlog_err run(pg_db *db, const sqlq *q, PGresult **res, char **cause) {
  pg_params p;
  reqlog_err err = pg_params_of(q, &p, cause);
  if (err == REQLOG_OK)
    err = pg_query(db, q->sql.data, p.n, p.v, res, cause, "stats");
  pg_params_free(&p);
  return err;
}

static int64_t num(const PGresult *res, int row, int col) {
  return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* The condition of the calls to count: a range of started_at, or a filter. */
typedef struct {
  const reqlog_filter *f; /* NULL: the range */
  int64_t now_us, from, to;
} cond;

/* Appends "FROM calls AS c WHERE <C>" to Q. */
static void add_from(sqlq *q, const cond *c) {
  sqlq_add(q, " FROM calls AS c WHERE ");
  if (c->f) {
    filter_sql(c->f, c->now_us, q);
    return;
  }
  sqlq_add(q, "c.started_at >= ");
  sqlq_int(q, c->from);
  sqlq_add(q, " AND c.started_at < ");
  sqlq_int(q, c->to);
}

/* Which grouping set a row of feed()'s pass counts (GROUPING(s, m, b) of it). */
enum { BY_STATUS = 3, BY_MINUTE_KEY = 5, BY_BUCKET = 6 };

/* Feeds the calls of C: counts by status (and their span), by minute and key, and their
 * durations (buckets, or the exact figures at the percentile ranks). The counts come
 * from one pass over the calls (grouping sets), the exact figures from a second. */
static reqlog_err feed(pg_db *db, const cond *c, stats_acc *a, char **cause) {
  int bucketed = stats_acc_bucketed(a);
  sqlq q = {.dialect = SQLQ_PG};
  sqlq_add(&q, bucketed ? "SELECT GROUPING(s, m, b), s, m, k, b" : "SELECT GROUPING(s, m) * 2 + 1, s, m, k, NULL");
  sqlq_add(&q, ", count(*), min(t), max(t) FROM (SELECT coalesce(c.status, -1) AS s, " MINUTE_SQL
               " AS m, coalesce(c.key, '') AS k, c.started_at AS t");
  if (bucketed)
    sqlq_add(&q, ", CASE WHEN c.status IS NOT NULL THEN reqlog_hist_bucket(c.duration_us) END AS b");
  add_from(&q, c);
  sqlq_add(&q, bucketed ? ") AS r GROUP BY GROUPING SETS ((s), (m, k), (b)) ORDER BY 1, 3"
                        : ") AS r GROUP BY GROUPING SETS ((s), (m, k)) ORDER BY 1, 3");
  PGresult *res = NULL;
  reqlog_err err = run(db, &q, &res, cause);
  sqlq_free(&q);
  if (err != REQLOG_OK)
    return err;
  int64_t answered = 0;
  for (int i = 0; i < PQntuples(res); i++) {
    int64_t n = num(res, i, 5);
    switch (num(res, i, 0)) {
    case BY_STATUS:
      stats_acc_status(a, num(res, i, 1), n);
      stats_acc_span(a, num(res, i, 6), num(res, i, 7));
      if (num(res, i, 1) >= 0)
        answered += n;
      break;
    case BY_MINUTE_KEY: /* in minute order */
      stats_acc_minute(a, num(res, i, 2), PQgetvalue(res, i, 3), n);
      break;
    case BY_BUCKET:
      if (!PQgetisnull(res, i, 4)) /* (transport errors have no bucket) */
        stats_acc_hist(a, num(res, i, 4), n);
      break;
    }
  }
  PQclear(res);
  if (bucketed)
    return REQLOG_OK;

  /* the durations at the ranks of p50, p95, p99 and the largest (rank n) */
  q = (sqlq){.dialect = SQLQ_PG}; /* sqlq_free() zeroed it */
  sqlq_add(&q, "SELECT rn, d FROM (SELECT c.duration_us AS d,"
               " row_number() OVER (ORDER BY c.duration_us) AS rn");
  add_from(&q, c);
  sqlq_add(&q, " AND c.status IS NOT NULL) AS r WHERE rn IN (");
  sqlq_int(&q, stats_rank(STATS_P50, answered));
  sqlq_add(&q, ", ");
  sqlq_int(&q, stats_rank(STATS_P95, answered));
  sqlq_add(&q, ", ");
  sqlq_int(&q, stats_rank(STATS_P99, answered));
  sqlq_add(&q, ", ");
  sqlq_int(&q, answered);
  sqlq_add(&q, ")");
  err = run(db, &q, &res, cause);
  sqlq_free(&q);
  if (err != REQLOG_OK)
    return err;
  static const int pcts[] = {STATS_P50, STATS_P95, STATS_P99};
  int64_t v[4] = {0};
  for (int i = 0; i < PQntuples(res); i++)
    for (int k = 0; k < 4; k++)
      if (num(res, i, 0) == (k < 3 ? stats_rank(pcts[k], answered) : answered))
        v[k] = num(res, i, 1);
  stats_acc_latency(a, answered, v[0], v[1], v[2], v[3]);
  PQclear(res);
  return REQLOG_OK;
}

static reqlog_err src_range(void *ctx, int64_t from, int64_t to, stats_acc *a, char **cause) {
  const cond c = {.from = from, .to = to};
  return feed(((pgs *)ctx)->db, &c, a, cause);
}

static reqlog_err src_matching(void *ctx, const reqlog_filter *f, int64_t now_us,
                               stats_acc *a, char **cause) {
  const cond c = {.f = f, .now_us = now_us};
  return feed(((pgs *)ctx)->db, &c, a, cause);
}

/* Runs SQL with $1, $2 = D1, D2 (two units of time, or two times). */
static reqlog_err days_query(pg_db *db, const char *sql, int64_t d1, int64_t d2,
                             PGresult **res, char **cause) {
  char p1[24], p2[24];
  snprintf(p1, sizeof p1, "%lld", (long long)d1);
  snprintf(p2, sizeof p2, "%lld", (long long)d2);
  const char *const params[] = {p1, p2};
  return pg_query(db, sql, 2, params, res, cause, "stats");
}

/* The rollups of one unit of time: calls per unit and status, answered calls per unit
 * and duration bucket ($1 <= unit < $2), and the minutes of those units (NULL: read
 * otherwise). */
typedef struct {
  const char *status_sql, *hist_sql, *minutes_sql;
} rollups;

/* The minutes of [$1, $2) units of MINUTES minutes: the calls of each minute (all keys)
 * and each key's count and busiest minute, in one pass. */
#define MINUTES_SQL(per)                                                              \
  "SELECT grouping(key), minute, key, sum(n), max(n) FROM stats_minute"             \
  " WHERE minute >= $1::bigint * " per " AND minute < $2::bigint * " per             \
  " GROUP BY GROUPING SETS ((minute), (key)) ORDER BY 1, 2"

static const rollups DAYS = {
  "SELECT status, sum(n) FROM stats_day WHERE day >= $1::bigint AND day < $2::bigint"
  " GROUP BY status",
  "SELECT bucket, sum(n) FROM stats_hist WHERE day >= $1::bigint AND day < $2::bigint"
  " GROUP BY bucket",
  NULL, /* src_days() reads the keys and minutes of whole days its own way */
};

static const rollups HOURS = {
  "SELECT status, sum(n) FROM stats_hour WHERE hour >= $1::bigint AND hour < $2::bigint"
  " GROUP BY status",
  "SELECT bucket, sum(n) FROM stats_hour_hist WHERE hour >= $1::bigint AND hour < $2::bigint"
  " GROUP BY bucket",
  MINUTES_SQL("60"),
};

/* The whole units U1 <= unit < U2 of R: status and duration counts, then the minutes
 * (when R reads them). */
static reqlog_err whole_units(pg_db *db, const rollups *r, int64_t u1, int64_t u2,
                              stats_acc *a, char **cause) {
  PGresult *res = NULL;
  reqlog_err err = days_query(db, r->status_sql, u1, u2, &res, cause);
  if (err != REQLOG_OK)
    return err;
  for (int i = 0; i < PQntuples(res); i++)
    stats_acc_status(a, num(res, i, 0), num(res, i, 1));
  PQclear(res);
  err = days_query(db, r->hist_sql, u1, u2, &res, cause);
  if (err != REQLOG_OK)
    return err;
  for (int i = 0; i < PQntuples(res); i++)
    stats_acc_hist(a, num(res, i, 0), num(res, i, 1));
  PQclear(res);
  if (!r->minutes_sql)
    return REQLOG_OK;
  err = days_query(db, r->minutes_sql, u1, u2, &res, cause);
  if (err != REQLOG_OK)
    return err;
  for (int i = 0; i < PQntuples(res); i++) {
    if (num(res, i, 0)) /* key grouped away: a minute's total */
      stats_acc_minute_total(a, num(res, i, 1), num(res, i, 3));
    else
      stats_acc_key(a, PQgetvalue(res, i, 2), num(res, i, 3), num(res, i, 4));
  }
  PQclear(res);
  return REQLOG_OK;
}

/* Runs SQL with its N integer parameters V. */
static reqlog_err ints_query(pg_db *db, const char *sql, int n, const int64_t *v,
                             PGresult **res, char **cause) {
  char text[4][24];
  const char *params[4];
  for (int i = 0; i < n && i < 4; i++) {
    snprintf(text[i], sizeof text[i], "%lld", (long long)v[i]);
    params[i] = text[i];
  }
  return pg_query(db, sql, n, params, res, cause, "stats");
}

/* Whole days: status and duration counts per day, each key's count and busiest minute
 * (stats_day_key), and the calls of their minutes (stats_minute_all) summed per point
 * of the answer's per_minute chart by the server (a month is 43,200 minutes). */
static reqlog_err src_days(void *ctx, int64_t d1, int64_t d2, stats_acc *a, char **cause) {
  pg_db *db = ((pgs *)ctx)->db;
  PGresult *res = NULL;
  reqlog_err err = whole_units(db, &DAYS, d1, d2, a, cause);
  if (err != REQLOG_OK)
    return err;
  err = days_query(db,
                   "SELECT key, sum(n), max(peak) FROM stats_day_key"
                   " WHERE day >= $1::bigint AND day < $2::bigint GROUP BY key",
                   d1, d2, &res, cause);
  if (err != REQLOG_OK)
    return err;
  for (int i = 0; i < PQntuples(res); i++)
    stats_acc_key(a, PQgetvalue(res, i, 0), num(res, i, 1), num(res, i, 2));
  PQclear(res);
  int64_t v[4] = {d1, d2, 0, 1};
  stats_acc_chart(a, &v[2], &v[3]);
  err = ints_query(db,
                   "SELECT $3::bigint + (minute - $3::bigint) / $4::bigint * $4::bigint, sum(n)"
                   " FROM stats_minute_all WHERE minute >= $1::bigint * 1440"
                   " AND minute < $2::bigint * 1440 GROUP BY 1",
                   4, v, &res, cause);
  if (err != REQLOG_OK)
    return err;
  for (int i = 0; i < PQntuples(res); i++)
    stats_acc_minute_total(a, num(res, i, 0), num(res, i, 1));
  PQclear(res);
  return REQLOG_OK;
}

static reqlog_err src_hours(void *ctx, int64_t h1, int64_t h2, stats_acc *a, char **cause) {
  return whole_units(((pgs *)ctx)->db, &HOURS, h1, h2, a, cause);
}

/* min (LAST 0) or max (LAST 1) of started_at over [LO, HI) into *V (*HAVE 0: none). */
static reqlog_err edge_in(pg_db *db, int last, int64_t lo, int64_t hi, int *have, int64_t *v,
                          char **cause) {
  PGresult *res = NULL;
  reqlog_err err = days_query(db,
                              last ? "SELECT max(started_at) FROM calls"
                                     " WHERE started_at >= $1::bigint AND started_at < $2::bigint"
                                   : "SELECT min(started_at) FROM calls"
                                     " WHERE started_at >= $1::bigint AND started_at < $2::bigint",
                              lo, hi, &res, cause);
  if (err != REQLOG_OK)
    return err;
  *have = !PQgetisnull(res, 0, 0);
  *v = *have ? num(res, 0, 0) : 0;
  PQclear(res);
  return REQLOG_OK;
}

/* The oldest (LAST 0) or newest (LAST 1) started_at in [SINCE, UNTIL): planning one
 * query over every day partition of a month costs tens of milliseconds, so the days
 * with calls come from stats_day and only those partitions are read: the first day may
 * hold calls on the wrong side of the bound only, the next one then holds the edge.
 * *DONE 0 when the rollups cannot tell (days up to 1970-01-01, which they truncate). */
static reqlog_err edge(pg_db *db, int last, int64_t since, int64_t until, int *done,
                       int *have, int64_t *v, char **cause) {
  *done = 0;
  *have = 0;
  int64_t lo_day = since >= 0 ? since / US_PER_DAY : INT64_MIN;
  int64_t hi_day = until > 0 ? (until - 1) / US_PER_DAY : 0;
  PGresult *days = NULL;
  reqlog_err err = days_query(db,
                              last ? "SELECT day FROM stats_day WHERE day >= $1::bigint"
                                     " AND day <= $2::bigint GROUP BY day ORDER BY day DESC LIMIT 2"
                                   : "SELECT day FROM stats_day WHERE day >= $1::bigint"
                                     " AND day <= $2::bigint GROUP BY day ORDER BY day LIMIT 2",
                              lo_day, hi_day, &days, cause);
  if (err != REQLOG_OK)
    return err;
  int n = PQntuples(days);
  for (int i = 0; i < n; i++)
    if (num(days, i, 0) <= 0) {
      PQclear(days);
      return REQLOG_OK;
    }
  for (int i = 0; err == REQLOG_OK && i < n && !*have; i++) {
    int64_t day = num(days, i, 0);
    int64_t lo = day * US_PER_DAY > since ? day * US_PER_DAY : since;
    int64_t hi = (day + 1) * US_PER_DAY < until ? (day + 1) * US_PER_DAY : until;
    err = edge_in(db, last, lo, hi, have, v, cause);
  }
  PQclear(days);
  *done = 1;
  return err;
}

static reqlog_err src_edges(void *ctx, int64_t since, int64_t until, int *have,
                            int64_t *first, int64_t *last, char **cause) {
  pg_db *db = ((pgs *)ctx)->db;
  int done = 0, have_last = 0;
  reqlog_err err = edge(db, 0, since, until, &done, have, first, cause);
  if (err == REQLOG_OK && done && *have)
    err = edge(db, 1, since, until, &done, &have_last, last, cause);
  if (err != REQLOG_OK || (done && (!*have || have_last)))
    return err;
  /* the rollups could not tell: the range itself, every day of it */
  err = edge_in(db, 0, since, until, have, first, cause);
  if (err == REQLOG_OK && *have)
    err = edge_in(db, 1, since, until, &have_last, last, cause);
  return err;
}

reqlog_err pg_stats_on(pg_db *db, const reqlog_filter *f, int64_t now_us, int rate_limit,
                       cJSON **out, char **cause) {
  pgs ctx = {db};
  const stats_source src = {
    .ctx = &ctx, .edges = src_edges, .range = src_range, .days = src_days,
    .hours = src_hours, .matching = src_matching,
  };
  /* Each query is planned with its values, which prunes the day partitions a range
   * does not touch before they are opened: a pooled connection may be set to generic
   * plans (pg_stmt.c), which would plan and lock every day for each (10-25 ms each). */
  reqlog_err err = pg_exec(db,
                           "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;"
                           " SET LOCAL plan_cache_mode = force_custom_plan",
                           cause, "stats");
  if (err != REQLOG_OK)
    return err;
  err = stats_build(&src, f, now_us, rate_limit, out, cause);
  PQclear(PQexec(db->conn, err == REQLOG_OK ? "COMMIT" : "ROLLBACK"));
  return err;
}
