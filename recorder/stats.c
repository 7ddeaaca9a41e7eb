/* stats.c: statistics over the recorded calls that match a filter (reqlog stats, the
 * dashboard's stats view). Everything is counted in SQL; no query loads all rows.
 *
 * The object rs_stats() returns (every member always present, so readers need no
 * "missing means zero" rule):
 *   total          rows matching the filter
 *   errors         transport errors (status NULL)
 *   by_class       {"1xx","2xx","3xx","4xx","5xx","other","error": n}, zeros included;
 *                  "other" is a status outside 100..599; the members add up to total
 *   by_status      {"200": n, ...} for each status present, in ascending order
 *   latency_ms     {p50, p95, p99, max}: nearest-rank percentiles of duration over the
 *                  rows that got a status; each null when there is none
 *   rate_limited   rows with status 429
 *   keys           [{key, count, peak_per_minute, limit}], busiest key first; key is null
 *                  for calls sent without one; peak_per_minute is the most calls of that
 *                  key in one calendar minute (UTC); limit is RATE_LIMIT, null when <= 0
 *   first, last    started_at of the oldest / newest row (ISO 8601), null when none
 *   bucket_s       width of the per_minute buckets in seconds: 60, or wider when the
 *                  range spans more than 1440 minutes
 *   per_minute     [{minute, count}] from the minute of `first` to the one of `last`,
 *                  one point per bucket (zeros included), at most 1440 points
 */
#include <stdio.h>
#include <stdlib.h>

#include "filter.h"
#include "readside.h"
#include "row.h"
#include "sqlq.h"
#include "util.h"

#define US_PER_MINUTE INT64_C(60000000)
#define MAX_POINTS 1440

/* Prepares Q's text so far + " FROM calls AS c WHERE <filter>" + TAIL. Frees Q. */
static reqlog_err prepare(sqlite3 *db, sqlq *q, const reqlog_filter *f, int64_t now_us,
                          const char *tail, sqlite3_stmt **st, char **cause) {
  sqlq_add(q, " FROM calls AS c WHERE ");
  filter_sql(f, now_us, q);
  if (tail)
    sqlq_add(q, tail);
  reqlog_err err = sqlq_prepare(q, db, st, cause);
  sqlq_free(q);
  return err;
}

static reqlog_err step_failed(sqlite3 *db, int rc, char **cause) {
  return util_fail(cause, row_db_err(rc), "stats: %s", sqlite3_errmsg(db));
}

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t d = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? d - 1 : d;
}

static cJSON *iso_or_null(int64_t us, int have) {
  if (!have)
    return cJSON_CreateNull();
  char iso[32];
  util_format_time(us, iso);
  return cJSON_CreateString(iso);
}

static cJSON *ms_or_null(int64_t us, int have) {
  return have ? cJSON_CreateNumber((double)us / 1000.0) : cJSON_CreateNull();
}

/* As row.c's put(): adds ITEM (NULL = out of memory) and returns 0 on failure. */
static int put(cJSON *obj, const char *name, cJSON *item) {
  if (!item)
    return 0;
  if (!cJSON_AddItemToObject(obj, name, item)) {
    cJSON_Delete(item);
    return 0;
  }
  return 1;
}

static int put_int(cJSON *obj, const char *name, int64_t v) {
  return put(obj, name, cJSON_CreateNumber((double)v));
}

static reqlog_err nomem(char **cause) {
  return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
}

/* The figures of the one-pass totals query. */
struct totals {
  int64_t total, errors, with_status;
  int64_t classes[5];  /* 1xx .. 5xx */
  int64_t rate_limited;
  int64_t first_us, last_us;
  int64_t max_us;      /* slowest answered call; valid when with_status > 0 */
};

static reqlog_err read_totals(sqlite3 *db, const reqlog_filter *f, int64_t now_us,
                              struct totals *t, char **cause) {
  sqlq q = {0};
  sqlq_add(&q, "SELECT count(*), coalesce(sum(c.status IS NULL), 0),"
               " coalesce(sum(c.status >= 100 AND c.status < 200), 0),"
               " coalesce(sum(c.status >= 200 AND c.status < 300), 0),"
               " coalesce(sum(c.status >= 300 AND c.status < 400), 0),"
               " coalesce(sum(c.status >= 400 AND c.status < 500), 0),"
               " coalesce(sum(c.status >= 500 AND c.status < 600), 0),"
               " coalesce(sum(c.status = 429), 0),"
               " min(c.started_at), max(c.started_at),"
               " max(CASE WHEN c.status IS NOT NULL THEN c.duration_us END)");
  sqlite3_stmt *st = NULL;
  reqlog_err err = prepare(db, &q, f, now_us, NULL, &st, cause);
  if (err != REQLOG_OK)
    return err;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    t->total = sqlite3_column_int64(st, 0);
    t->errors = sqlite3_column_int64(st, 1);
    t->with_status = t->total - t->errors;
    for (int i = 0; i < 5; i++)
      t->classes[i] = sqlite3_column_int64(st, 2 + i);
    t->rate_limited = sqlite3_column_int64(st, 7);
    t->first_us = sqlite3_column_int64(st, 8);
    t->last_us = sqlite3_column_int64(st, 9);
    t->max_us = sqlite3_column_int64(st, 10);
  } else {
    err = step_failed(db, rc, cause);
  }
  sqlite3_finalize(st);
  return err;
}

static cJSON *by_class(const struct totals *t) {
  static const char *const names[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  cJSON *obj = cJSON_CreateObject();
  if (!obj)
    return NULL;
  int ok = 1;
  int64_t classed = 0;
  for (int i = 0; i < 5; i++) {
    classed += t->classes[i];
    ok &= put_int(obj, names[i], t->classes[i]);
  }
  ok &= put_int(obj, "other", t->with_status - classed);
  ok &= put_int(obj, "error", t->errors);
  if (!ok) {
    cJSON_Delete(obj);
    return NULL;
  }
  return obj;
}

static reqlog_err add_by_status(sqlite3 *db, const reqlog_filter *f, int64_t now_us,
                                cJSON *out, char **cause) {
  sqlq q = {0};
  sqlq_add(&q, "SELECT c.status, count(*)");
  sqlite3_stmt *st = NULL;
  reqlog_err err = prepare(db, &q, f, now_us,
                           " AND c.status IS NOT NULL GROUP BY c.status ORDER BY c.status",
                           &st, cause);
  if (err != REQLOG_OK)
    return err;
  cJSON *by_status = cJSON_CreateObject();
  if (!put(out, "by_status", by_status)) {
    sqlite3_finalize(st);
    return nomem(cause);
  }
  for (;;) {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
      break;
    if (rc != SQLITE_ROW) {
      err = step_failed(db, rc, cause);
      break;
    }
    char name[24];
    snprintf(name, sizeof name, "%lld", (long long)sqlite3_column_int64(st, 0));
    if (!put_int(by_status, name, sqlite3_column_int64(st, 1))) {
      err = nomem(cause);
      break;
    }
  }
  sqlite3_finalize(st);
  return err;
}

/* Nearest rank: the P-th percentile of N sorted values is the value at rank ceil(P*N/100)
 * (1-based), read with ORDER BY ... LIMIT 1 OFFSET rank-1: SQLite sorts the durations
 * alone and hands back one value, so no row ever reaches this process. (An index on
 * duration_us would make it an index walk; 001_init.sql has none.) */
static reqlog_err add_latency(sqlite3 *db, const reqlog_filter *f, int64_t now_us,
                              const struct totals *t, cJSON *out, char **cause) {
  static const struct { const char *name; int p; } pcts[] = {
    {"p50", 50}, {"p95", 95}, {"p99", 99}};
  cJSON *lat = cJSON_CreateObject();
  if (!put(out, "latency_ms", lat))
    return nomem(cause);
  int64_t n = t->with_status;
  if (n == 0) {
    for (size_t i = 0; i < sizeof pcts / sizeof pcts[0]; i++)
      if (!put(lat, pcts[i].name, cJSON_CreateNull()))
        return nomem(cause);
    return put(lat, "max", cJSON_CreateNull()) ? REQLOG_OK : nomem(cause);
  }
  /* The offset is the last value bound; it is bound again for each percentile. */
  sqlq q = {0};
  sqlq_add(&q, "SELECT c.duration_us FROM calls AS c WHERE ");
  filter_sql(f, now_us, &q);
  sqlq_add(&q, " AND c.status IS NOT NULL ORDER BY c.duration_us LIMIT 1 OFFSET ");
  sqlq_int(&q, 0);
  sqlite3_stmt *st = NULL;
  reqlog_err err = sqlq_prepare(&q, db, &st, cause);
  sqlq_free(&q);
  if (err != REQLOG_OK)
    return err;
  int offset_param = sqlite3_bind_parameter_count(st);
  for (size_t i = 0; err == REQLOG_OK && i < sizeof pcts / sizeof pcts[0]; i++) {
    int64_t rank = (pcts[i].p * n + 99) / 100;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, offset_param, rank - 1);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      err = step_failed(db, rc, cause);
      break;
    }
    /* DONE only if rows vanished mid-read, which the snapshot rules out; show null. */
    if (!put(lat, pcts[i].name, ms_or_null(sqlite3_column_int64(st, 0), rc == SQLITE_ROW)))
      err = nomem(cause);
  }
  sqlite3_finalize(st);
  if (err == REQLOG_OK && !put(lat, "max", ms_or_null(t->max_us, 1)))
    err = nomem(cause);
  return err;
}

static reqlog_err add_keys(sqlite3 *db, const reqlog_filter *f, int64_t now_us,
                           int rate_limit, cJSON *out, char **cause) {
  sqlq q = {0};
  sqlq_add(&q, "SELECT key, sum(n), max(n) FROM (SELECT c.key AS key, count(*) AS n");
  sqlite3_stmt *st = NULL;
  reqlog_err err = prepare(db, &q, f, now_us,
                           " GROUP BY c.key, c.started_at / 60000000)"
                           " GROUP BY key ORDER BY sum(n) DESC, key",
                           &st, cause);
  if (err != REQLOG_OK)
    return err;
  cJSON *keys = cJSON_CreateArray();
  if (!put(out, "keys", keys)) {
    sqlite3_finalize(st);
    return nomem(cause);
  }
  for (;;) {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
      break;
    if (rc != SQLITE_ROW) {
      err = step_failed(db, rc, cause);
      break;
    }
    const char *key = (const char *)sqlite3_column_text(st, 0);
    cJSON *k = cJSON_CreateObject();
    int ok = k != NULL && cJSON_AddItemToArray(keys, k);
    if (!ok)
      cJSON_Delete(k);
    ok = ok && put(k, "key", key ? cJSON_CreateString(key) : cJSON_CreateNull());
    ok = ok && put_int(k, "count", sqlite3_column_int64(st, 1));
    ok = ok && put_int(k, "peak_per_minute", sqlite3_column_int64(st, 2));
    ok = ok && put(k, "limit", rate_limit > 0 ? cJSON_CreateNumber(rate_limit)
                                              : cJSON_CreateNull());
    if (!ok) {
      err = nomem(cause);
      break;
    }
  }
  sqlite3_finalize(st);
  return err;
}

static reqlog_err add_per_minute(sqlite3 *db, const reqlog_filter *f, int64_t now_us,
                                 const struct totals *t, cJSON *out, char **cause) {
  int64_t first_min = t->total ? floor_div(t->first_us, US_PER_MINUTE) : 0;
  int64_t span = t->total ? floor_div(t->last_us, US_PER_MINUTE) - first_min + 1 : 0;
  int64_t width = span <= MAX_POINTS ? 1 : (span + MAX_POINTS - 1) / MAX_POINTS;
  int64_t points = (span + width - 1) / width;
  int64_t origin_us = first_min * US_PER_MINUTE;
  int64_t bucket_us = width * US_PER_MINUTE;

  cJSON *series = cJSON_CreateArray();
  if (!put_int(out, "bucket_s", width * 60) || !put(out, "per_minute", series)) {
    cJSON_Delete(series);
    return nomem(cause);
  }
  if (points == 0)
    return REQLOG_OK;

  int64_t *counts = calloc((size_t)points, sizeof *counts);
  if (!counts)
    return nomem(cause);
  sqlq q = {0};
  sqlq_add(&q, "SELECT (c.started_at - ");
  sqlq_int(&q, origin_us);
  sqlq_add(&q, ") / ");
  sqlq_int(&q, bucket_us);
  sqlq_add(&q, " AS b, count(*)");
  sqlite3_stmt *st = NULL;
  reqlog_err err = prepare(db, &q, f, now_us, " GROUP BY b", &st, cause);
  while (err == REQLOG_OK) {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
      break;
    if (rc != SQLITE_ROW) {
      err = step_failed(db, rc, cause);
      break;
    }
    int64_t b = sqlite3_column_int64(st, 0);
    if (b >= 0 && b < points)
      counts[b] += sqlite3_column_int64(st, 1);
  }
  sqlite3_finalize(st);
  for (int64_t i = 0; err == REQLOG_OK && i < points; i++) {
    cJSON *pt = cJSON_CreateObject();
    int ok = pt != NULL && cJSON_AddItemToArray(series, pt);
    if (!ok)
      cJSON_Delete(pt);
    ok = ok && put(pt, "minute", iso_or_null(origin_us + i * bucket_us, 1));
    ok = ok && put_int(pt, "count", counts[i]);
    if (!ok)
      err = nomem(cause);
  }
  free(counts);
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
  struct totals t = {0};
  cJSON *s = cJSON_CreateObject();
  if (!s) {
    err = nomem(cause);
    goto fail;
  }
  err = read_totals(db, f, now_us, &t, cause);
  if (err != REQLOG_OK)
    goto fail;
  if (!put_int(s, "total", t.total) || !put_int(s, "errors", t.errors) ||
      !put(s, "by_class", by_class(&t))) {
    err = nomem(cause);
    goto fail;
  }
  err = add_by_status(db, f, now_us, s, cause);
  if (err == REQLOG_OK)
    err = add_latency(db, f, now_us, &t, s, cause);
  if (err == REQLOG_OK && !put_int(s, "rate_limited", t.rate_limited))
    err = nomem(cause);
  if (err == REQLOG_OK)
    err = add_keys(db, f, now_us, rate_limit, s, cause);
  if (err == REQLOG_OK && (!put(s, "first", iso_or_null(t.first_us, t.total > 0)) ||
                           !put(s, "last", iso_or_null(t.last_us, t.total > 0))))
    err = nomem(cause);
  if (err == REQLOG_OK)
    err = add_per_minute(db, f, now_us, &t, s, cause);
  if (err != REQLOG_OK)
    goto fail;
  row_snapshot_end(db, owned);
  *out = s;
  return REQLOG_OK;

fail:
  row_snapshot_end(db, owned);
  cJSON_Delete(s);
  return err;
}
