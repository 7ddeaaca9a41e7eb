/* stats.h: the statistics of both backends from one accumulator and one JSON builder
 * (stats.c). A backend is a stats_source: it feeds the accumulator the calls of a time
 * range, the rollups of whole UTC days, or the calls matching a filter, one row at a
 * time (SQLite, stats_sqlite.c) or already counted by the server (PostgreSQL,
 * recorder/pg/pg_stats.c); stats_build() decides which days and hours come from the
 * rollups, so both backends answer the same figures for the same calls. */
#ifndef REQLOG_READ_STATS_H
#define REQLOG_READ_STATS_H

#include <stdint.h>
#include <cjson/cJSON.h>
#include "reqlog.h"

typedef struct stats_acc stats_acc;

/* ---------------------------------------------------------- feeding the accumulator */

/* One call; calls come in started_at order. No status: a transport error. */
void stats_acc_row(stats_acc *a, int64_t started_us, int have_status, int64_t status,
                   int64_t duration_us, const char *key);
/* N calls with STATUS (-1: transport error). */
void stats_acc_status(stats_acc *a, int64_t status, int64_t n);
/* N calls of KEY ("" or NULL: none) in UTC MINUTE (minutes since the epoch, floored);
 * minutes come in ascending order, across every feed of one answer. */
void stats_acc_minute(stats_acc *a, int64_t minute, const char *key, int64_t n);
/* The calls of whole days already counted: N calls in MINUTE (any key; in any order,
 * and any minute of the same point of the per_minute chart stands for all of them, see
 * stats_acc_chart), and per key its COUNT and its PEAK calls in one minute of those days. */
void stats_acc_minute_total(stats_acc *a, int64_t minute, int64_t n);
/* The per_minute chart of the answer: its FIRST_MINUTE and the WIDTH in minutes of each
 * point, so that a source may count whole days per point (known once the time range's
 * rows are found, before any rollup is read). */
void stats_acc_chart(const stats_acc *a, int64_t *first_minute, int64_t *width);
void stats_acc_key(stats_acc *a, const char *key, int64_t count, int64_t peak);
/* N answered calls whose duration is in histogram bucket BUCKET (store/histogram.h). */
void stats_acc_hist(stats_acc *a, int64_t bucket, int64_t n);
/* Non-zero when latencies come from the histogram (a whole day was read from the
 * rollups): a source that counts on the server then feeds buckets (stats_acc_hist),
 * else the exact figures of stats_acc_latency(). */
int stats_acc_bucketed(const stats_acc *a);
/* The exact latencies of the N answered calls fed by counts: the durations at the
 * 1-based ranks stats_rank(STATS_P50 / P95 / P99, N) and the largest. Given once. */
enum { STATS_P50 = 50, STATS_P95 = 95, STATS_P99 = 99 };
void stats_acc_latency(stats_acc *a, int64_t n, int64_t p50, int64_t p95, int64_t p99,
                       int64_t max);
/* The nearest rank (1-based) of percentile P among N values. */
int64_t stats_rank(int p, int64_t n);
/* The oldest and newest started_at of calls fed by counts (merged with the others). */
void stats_acc_span(stats_acc *a, int64_t first_us, int64_t last_us);
/* Non-zero once memory ran out (the answer is then REQLOG_ERR_NOMEM). */
int stats_acc_failed(const stats_acc *a);

/* ---------------------------------------------------------- the source */

typedef struct stats_source {
  void *ctx;
  /* The oldest and newest started_at of the calls with SINCE <= started_at < UNTIL;
   * *HAVE 0 when there are none. */
  reqlog_err (*edges)(void *ctx, int64_t since, int64_t until, int *have, int64_t *first,
                      int64_t *last, char **cause);
  /* The calls with FROM <= started_at < TO (FROM < TO). */
  reqlog_err (*range)(void *ctx, int64_t from, int64_t to, stats_acc *a, char **cause);
  /* The whole UTC days D1 <= day < D2 (D1 >= 0), from the rollups. */
  reqlog_err (*days)(void *ctx, int64_t d1, int64_t d2, stats_acc *a, char **cause);
  /* The whole UTC hours H1 <= hour < H2 (H1 >= 0; stats_build() asks for whole days
   * with days()), from the hourly rollups; NULL when the backend has none: the whole
   * hours outside whole days are then read as ranges of calls (the figures are the
   * same, latencies bucketed either way). */
  reqlog_err (*hours)(void *ctx, int64_t h1, int64_t h2, stats_acc *a, char **cause);
  /* The calls matching F (a filter of more than time bounds), with their span. */
  reqlog_err (*matching)(void *ctx, const reqlog_filter *f, int64_t now_us, stats_acc *a,
                         char **cause);
} stats_source;

/* The statistics of the calls matching F (the object described in stats.c). */
reqlog_err stats_build(const stats_source *src, const reqlog_filter *f, int64_t now_us,
                       int rate_limit, cJSON **out, char **cause);

#endif
