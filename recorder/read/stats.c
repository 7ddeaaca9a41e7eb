/* stats.c: statistics over the recorded calls that match a filter (reqlog stats, the
 * dashboard's stats view) for both backends: the accumulator a stats_source feeds
 * (stats.h), which days come from the rollups, and the JSON.
 *
 * The object stats_build() returns (every member always present, so readers need no
 * "missing means zero" rule):
 *   total          rows matching the filter
 *   errors         transport errors (status NULL)
 *   by_class       {"1xx","2xx","3xx","4xx","5xx","other","error": n}, zeros included;
 *                  "other" is a status outside 100..599; the members add up to total
 *   by_status      {"200": n, ...} for each status present, in ascending order
 *   latency_ms     {p50, p95, p99, max}: nearest-rank percentiles of duration over the
 *                  rows that got a status; each null when there is none
 *   latency_exact  true when latency_ms is exact; false when the range held a whole
 *                  UTC hour, read from the duration histograms (002_stats.sql by day,
 *                  pg/003_stats_hour.sql by hour), whose buckets keep three
 *                  significant digits: each figure is then its bucket's midpoint,
 *                  within 0.5% of the exact value (exact under 1 ms)
 *   rate_limited   rows with status 429
 *   keys           [{key, count, peak_per_minute, limit}], busiest key first; key is null
 *                  for calls sent without one; peak_per_minute is the most calls of that
 *                  key in one calendar minute (UTC); limit is RATE_LIMIT, null when <= 0
 *   first, last    started_at of the oldest / newest row (ISO 8601), null when none
 *   range          {from, to}: the filter's since/until as resolved for this answer
 *                  (ISO 8601; a relative "24h" counted back from now); from null without
 *                  since; to null without either, else until or now
 *   bucket_s       width of the per_minute buckets in seconds: 60, or wider when the
 *                  range spans more than 1440 minutes
 *   per_minute     [{minute, count}] from the minute of `first` to the one of `last`,
 *                  one point per bucket (zeros included), at most 1440 points
 *
 * Where the figures come from: a filter of time bounds only (or none) — the dashboard's
 * usual view — reads the whole UTC days inside the range of the matching rows from the
 * backend's rollups (002_stats.sql of either schema: calls per minute and key, per day
 * and status, per day and duration bucket), the whole hours around them from the
 * hourly rollups where the backend keeps them (the team store: pg/003_stats_hour.sql;
 * SQLite reads them as calls) and the rest of the range (less than an hour at each end)
 * from the calls themselves; any other filter reads the matching calls. Both feed one
 * accumulator, in started_at order, so every figure has one definition; a backend may
 * feed calls one by one (SQLite, stats_sqlite.c) or counted by its server (PostgreSQL,
 * recorder/pg/pg_stats.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "read/filter.h"
#include "read/row.h"
#include "read/stats.h"
#include "store/histogram.h"
#include "base/util.h"

#define US_PER_MINUTE INT64_C(60000000)
#define US_PER_HOUR INT64_C(3600000000)
#define US_PER_DAY INT64_C(86400000000)
#define HOURS_PER_DAY 24
#define MAX_POINTS 1440

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t d = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? d - 1 : d;
}

static reqlog_err nomem(char **cause) {
  return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
}

/* ------------------------------------------------------------------ duration buckets */

/* The midpoint of bucket B in microseconds (the value itself when the bucket is one
 * value wide). */
static int64_t bucket_value(int b) {
  int len = b / 1000, lead = b % 1000;
  if (len <= 3)
    return lead;
  int64_t width = 1;
  for (int i = 3; i < len; i++)
    width *= 10;
  return lead * width + width / 2;
}

/* ------------------------------------------------------------------ the accumulator */

typedef struct status_n {
  int64_t status, n;
} status_n;

typedef struct minute_n {
  int64_t minute, n;
} minute_n;

typedef struct key_acc {
  char *key;                 /* "" for calls without a key */
  int64_t count, peak, cur_minute, cur_n;
} key_acc;

typedef struct stats_acc {
  int oom;
  int64_t total, errors, rate_limited;
  status_n *statuses;        /* ascending */
  size_t nstatuses, capstatuses;
  int64_t first_us, last_us; /* of the rows fed; valid when have_span */
  int have_span;
  int64_t *durs;             /* exact durations of answered rows fed one by one */
  size_t ndurs, capdurs;
  int64_t *hist;             /* HISTOGRAM_BUCKETS counts, allocated when a rollup is read */
  minute_n *minutes;         /* ascending */
  size_t nminutes, capminutes;
  key_acc *keys;
  size_t nkeys, capkeys;
  size_t *slots;             /* open addressing over keys: index + 1, 0 = empty */
  size_t nslots;
  int exact_given;           /* stats_acc_latency() gave the figures below */
  int64_t lat_n, lat[4];     /* p50, p95, p99, max */
} acc;

static void acc_free(acc *a) {
  for (size_t i = 0; i < a->nkeys; i++)
    free(a->keys[i].key);
  free(a->keys);
  free(a->slots);
  free(a->statuses);
  free(a->durs);
  free(a->hist);
  free(a->minutes);
}

/* Grows *P (of *CAP elements of SIZE bytes) to hold one more. */
static int grow(void **p, size_t *cap, size_t n, size_t size) {
  if (n < *cap)
    return 1;
  size_t c = *cap ? *cap * 2 : 64;
  if (c > SIZE_MAX / size)
    return 0;
  void *q = realloc(*p, c * size);
  if (!q)
    return 0;
  *p = q;
  *cap = c;
  return 1;
}

static void add_status(acc *a, int64_t status, int64_t n) {
  size_t i = a->nstatuses;
  while (i > 0 && a->statuses[i - 1].status > status)
    i--;
  if (i > 0 && a->statuses[i - 1].status == status) {
    a->statuses[i - 1].n += n;
    return;
  }
  if (!grow((void **)&a->statuses, &a->capstatuses, a->nstatuses, sizeof *a->statuses)) {
    a->oom = 1;
    return;
  }
  memmove(&a->statuses[i + 1], &a->statuses[i], (a->nstatuses - i) * sizeof *a->statuses);
  a->statuses[i] = (status_n){status, n};
  a->nstatuses++;
}

/* N calls with STATUS (-1: transport error). */
static void count_status(acc *a, int64_t status, int64_t n) {
  a->total += n;
  if (status < 0) {
    a->errors += n;
    return;
  }
  if (status == 429)
    a->rate_limited += n;
  add_status(a, status, n);
}

static void add_minute(acc *a, int64_t minute, int64_t n) {
  if (a->nminutes > 0 && a->minutes[a->nminutes - 1].minute == minute) {
    a->minutes[a->nminutes - 1].n += n;
    return;
  }
  if (!grow((void **)&a->minutes, &a->capminutes, a->nminutes, sizeof *a->minutes)) {
    a->oom = 1;
    return;
  }
  a->minutes[a->nminutes++] = (minute_n){minute, n};
}

static size_t hash_key(const char *s) {
  return (size_t)util_fnv(UTIL_FNV_SEED, s, strlen(s));
}

static int rehash(acc *a, size_t nslots) {
  size_t *slots = calloc(nslots, sizeof *slots);
  if (!slots)
    return 0;
  for (size_t i = 0; i < a->nkeys; i++) {
    size_t h = hash_key(a->keys[i].key) & (nslots - 1);
    while (slots[h])
      h = (h + 1) & (nslots - 1);
    slots[h] = i + 1;
  }
  free(a->slots);
  a->slots = slots;
  a->nslots = nslots;
  return 1;
}

static key_acc *find_key(acc *a, const char *key) {
  if (a->nslots == 0 && !rehash(a, 64))
    return NULL;
  size_t h = hash_key(key) & (a->nslots - 1);
  for (; a->slots[h]; h = (h + 1) & (a->nslots - 1)) {
    key_acc *k = &a->keys[a->slots[h] - 1];
    if (strcmp(k->key, key) == 0)
      return k;
  }
  if (!grow((void **)&a->keys, &a->capkeys, a->nkeys, sizeof *a->keys))
    return NULL;
  char *copy = util_strdup(key);
  if (!copy)
    return NULL;
  a->keys[a->nkeys] = (key_acc){copy, 0, 0, INT64_MIN, 0};
  a->slots[h] = ++a->nkeys;
  if (a->nkeys * 2 > a->nslots && !rehash(a, a->nslots * 2))
    return NULL;
  return &a->keys[a->nkeys - 1];
}

/* N calls of KEY ("" for none) in MINUTE; minutes arrive in ascending order. */
static void count_key_minute(acc *a, const char *key, int64_t minute, int64_t n) {
  add_minute(a, minute, n);
  key_acc *k = find_key(a, key);
  if (!k) {
    a->oom = 1;
    return;
  }
  if (k->cur_minute != minute) {
    if (k->cur_n > k->peak)
      k->peak = k->cur_n;
    k->cur_minute = minute;
    k->cur_n = 0;
  }
  k->cur_n += n;
  k->count += n;
}

void stats_acc_span(stats_acc *a, int64_t first_us, int64_t last_us) {
  if (!a->have_span || first_us < a->first_us)
    a->first_us = first_us;
  if (!a->have_span || last_us > a->last_us)
    a->last_us = last_us;
  a->have_span = 1;
}

void stats_acc_row(stats_acc *a, int64_t started, int have_status, int64_t status,
                   int64_t duration, const char *key) {
  stats_acc_span(a, started, started);
  count_status(a, have_status ? status : -1, 1);
  count_key_minute(a, key ? key : "", floor_div(started, US_PER_MINUTE), 1);
  if (!have_status)
    return;
  if (!grow((void **)&a->durs, &a->capdurs, a->ndurs, sizeof *a->durs)) {
    a->oom = 1;
    return;
  }
  a->durs[a->ndurs++] = duration;
}

void stats_acc_status(stats_acc *a, int64_t status, int64_t n) {
  count_status(a, status, n);
}

void stats_acc_minute(stats_acc *a, int64_t minute, const char *key, int64_t n) {
  count_key_minute(a, key ? key : "", minute, n);
}

void stats_acc_minute_total(stats_acc *a, int64_t minute, int64_t n) {
  add_minute(a, minute, n);
}

/* The key's minutes of whole days are apart from those it was fed one by one (a whole
 * day has no minute in common with the partial days around it): its peak is the larger
 * of the two. */
void stats_acc_key(stats_acc *a, const char *key, int64_t count, int64_t peak) {
  key_acc *k = find_key(a, key ? key : "");
  if (!k) {
    a->oom = 1;
    return;
  }
  k->count += count;
  if (peak > k->peak)
    k->peak = peak;
}

void stats_acc_hist(stats_acc *a, int64_t bucket, int64_t n) {
  if (a->hist && bucket >= 0 && bucket < HISTOGRAM_BUCKETS)
    a->hist[bucket] += n;
}

int stats_acc_bucketed(const stats_acc *a) {
  return a->hist != NULL;
}

void stats_acc_latency(stats_acc *a, int64_t n, int64_t p50, int64_t p95, int64_t p99,
                       int64_t max) {
  a->exact_given = 1;
  a->lat_n = n;
  a->lat[0] = p50;
  a->lat[1] = p95;
  a->lat[2] = p99;
  a->lat[3] = max;
}

int64_t stats_rank(int p, int64_t n) {
  return (p * n + 99) / 100;
}

int stats_acc_failed(const stats_acc *a) {
  return a->oom;
}

/* ------------------------------------------------------------------ the source */

/* Reads [LO, HI) of one unit of time or another (microseconds, hours, days). */
typedef reqlog_err (*reader)(const stats_source *src, int64_t lo, int64_t hi, acc *a,
                             char **cause);

static reqlog_err by_range(const stats_source *src, int64_t lo, int64_t hi, acc *a,
                           char **cause) {
  return src->range(src->ctx, lo, hi, a, cause);
}

static reqlog_err by_hours(const stats_source *src, int64_t lo, int64_t hi, acc *a,
                           char **cause) {
  return src->hours(src->ctx, lo, hi, a, cause);
}

static reqlog_err by_days(const stats_source *src, int64_t lo, int64_t hi, acc *a,
                          char **cause) {
  return src->days(src->ctx, lo, hi, a, cause);
}

/* [LO, HI) cut at multiples of PER: the whole ones inside (LO / PER...) by WHOLE, the
 * ends (in LO's unit) by PART, in order. */
static reqlog_err split(const stats_source *src, int64_t lo, int64_t hi, int64_t per,
                        reader part, reader whole, acc *a, char **cause) {
  int64_t u1 = (lo + per - 1) / per, u2 = hi / per;
  if (u1 >= u2)
    return part(src, lo, hi, a, cause);
  reqlog_err err = REQLOG_OK;
  if (lo < u1 * per)
    err = part(src, lo, u1 * per, a, cause);
  if (err == REQLOG_OK)
    err = whole(src, u1, u2, a, cause);
  if (err == REQLOG_OK && u2 * per < hi)
    err = part(src, u2 * per, hi, a, cause);
  return err;
}

/* The whole hours [H1, H2): the whole days among them from the day rollups, the hours
 * around those from the hourly ones. */
static reqlog_err hours_and_days(const stats_source *src, int64_t h1, int64_t h2, acc *a,
                                 char **cause) {
  return split(src, h1, h2, HOURS_PER_DAY, by_hours, by_days, a, cause);
}

/* A time-bounds-only filter over [SINCE, UNTIL): rollups for the whole hours (and days)
 * inside the rows' range, the calls themselves for the rest. As soon as one whole hour
 * is inside, latencies come from the duration histogram, whether or not the backend
 * keeps hourly rollups (SQLite reads those hours as calls and buckets them), so both
 * backends give the same figures. The rows' range goes to A's span. */
static reqlog_err read_time_range(const stats_source *src, int64_t since, int64_t until,
                                  acc *a, char **cause) {
  int have = 0;
  int64_t first = 0, last = 0;
  reqlog_err err = src->edges(src->ctx, since, until, &have, &first, &last, cause);
  if (err != REQLOG_OK || !have)
    return err;
  /* The rows lie in [first, last]; whole hours are those inside it. Rollup hours, days
   * and minutes are truncating divisions, so only non-negative times use them. */
  int64_t lo = first, hi = last + 1;
  stats_acc_span(a, first, last); /* first, so the chart's points are known (stats_acc_chart) */
  if (lo < 0 || (lo + US_PER_HOUR - 1) / US_PER_HOUR >= hi / US_PER_HOUR) {
    err = src->range(src->ctx, lo, hi, a, cause);
  } else {
    a->hist = calloc(HISTOGRAM_BUCKETS, sizeof *a->hist);
    if (!a->hist)
      return nomem(cause);
    err = src->hours ? split(src, lo, hi, US_PER_HOUR, by_range, hours_and_days, a, cause)
                     : split(src, lo, hi, US_PER_DAY, by_range, by_days, a, cause);
  }
  return err;
}

/* ------------------------------------------------------------------ the JSON */

/* As row.c's row_put(): adds ITEM (NULL = out of memory) and returns 0 on failure. */
static int put_int(cJSON *obj, const char *name, int64_t v) {
  return row_put(obj, name, cJSON_CreateNumber((double)v));
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

/* total, errors, by_class, by_status. */
static int add_counts(cJSON *s, const acc *a) {
  static const char *const names[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  int64_t classes[5] = {0}, other = 0;
  for (size_t i = 0; i < a->nstatuses; i++) {
    int64_t st = a->statuses[i].status;
    if (st >= 100 && st < 600)
      classes[st / 100 - 1] += a->statuses[i].n;
    else
      other += a->statuses[i].n;
  }
  cJSON *by_class = cJSON_CreateObject();
  if (!put_int(s, "total", a->total) || !put_int(s, "errors", a->errors) ||
      !row_put(s, "by_class", by_class))
    return 0;
  int ok = 1;
  for (int i = 0; i < 5; i++)
    ok &= put_int(by_class, names[i], classes[i]);
  ok &= put_int(by_class, "other", other);
  ok &= put_int(by_class, "error", a->errors);
  cJSON *by_status = cJSON_CreateObject();
  if (!ok || !row_put(s, "by_status", by_status))
    return 0;
  for (size_t i = 0; i < a->nstatuses; i++) {
    char name[24];
    snprintf(name, sizeof name, "%lld", (long long)a->statuses[i].status);
    if (!put_int(by_status, name, a->statuses[i].n))
      return 0;
  }
  return 1;
}

static void swap64(int64_t *x, int64_t *y) {
  int64_t t = *x;
  *x = *y;
  *y = t;
}

/* The K-th smallest (0-based) of V[0..N), which it reorders (quickselect). */
static int64_t select_kth(int64_t *v, size_t n, size_t k) {
  size_t lo = 0, hi = n - 1;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    /* Median of three as the pivot, moved to hi. */
    if (v[mid] < v[lo])
      swap64(&v[mid], &v[lo]);
    if (v[hi] < v[lo])
      swap64(&v[hi], &v[lo]);
    if (v[mid] < v[hi])
      swap64(&v[mid], &v[hi]);
    int64_t pivot = v[hi];
    size_t store = lo;
    for (size_t i = lo; i < hi; i++)
      if (v[i] < pivot)
        swap64(&v[i], &v[store++]);
    swap64(&v[store], &v[hi]);
    if (store == k)
      return v[k];
    if (store < k)
      lo = store + 1;
    else
      hi = store - 1;
  }
  return v[k];
}

static int add_latency(cJSON *s, acc *a) {
  static const struct { const char *name; int p; } pcts[] = {
    {"p50", 50}, {"p95", 95}, {"p99", 99}};
  cJSON *lat = cJSON_CreateObject();
  if (!row_put(s, "latency_ms", lat))
    return 0;
  int exact = a->hist == NULL;
  int64_t n = 0;
  if (a->exact_given) {
    for (int i = 0; i < 4; i++)
      if (!row_put(lat, i < 3 ? pcts[i].name : "max", ms_or_null(a->lat[i], a->lat_n > 0)))
        return 0;
    return row_put(s, "latency_exact", cJSON_CreateBool(1));
  }
  if (exact) {
    n = (int64_t)a->ndurs;
  } else {
    for (size_t i = 0; i < a->ndurs; i++)
      a->hist[histogram_bucket(a->durs[i])]++;
    for (int b = 0; b < HISTOGRAM_BUCKETS; b++)
      n += a->hist[b];
  }
  int64_t maxv = 0;
  if (n > 0 && exact) {
    for (size_t i = 0; i < a->ndurs; i++)
      if (a->durs[i] > maxv)
        maxv = a->durs[i];
  } else if (n > 0) {
    for (int b = HISTOGRAM_BUCKETS - 1; b >= 0; b--)
      if (a->hist[b]) {
        maxv = bucket_value(b);
        break;
      }
  }
  int b = 0;
  int64_t below = 0;     /* values in the buckets before b */
  for (size_t i = 0; i < sizeof pcts / sizeof pcts[0]; i++) {
    int64_t v = 0;
    int64_t rank = stats_rank(pcts[i].p, n);
    if (n > 0 && exact) {
      v = select_kth(a->durs, a->ndurs, (size_t)(rank - 1));
    } else if (n > 0) {
      while (below + a->hist[b] < rank)
        below += a->hist[b++];
      v = bucket_value(b);
    }
    if (!row_put(lat, pcts[i].name, ms_or_null(v, n > 0)))
      return 0;
  }
  return row_put(lat, "max", ms_or_null(maxv, n > 0)) &&
         row_put(s, "latency_exact", cJSON_CreateBool(exact));
}

static int cmp_keys(const void *x, const void *y) {
  const key_acc *a = x, *b = y;
  if (a->count != b->count)
    return a->count > b->count ? -1 : 1;
  return strcmp(a->key, b->key);   /* "" (no key) first, as NULL sorts in SQL */
}

static int add_keys(cJSON *s, acc *a, int rate_limit) {
  cJSON *keys = cJSON_CreateArray();
  if (!row_put(s, "keys", keys))
    return 0;
  for (size_t i = 0; i < a->nkeys; i++)
    if (a->keys[i].cur_n > a->keys[i].peak)
      a->keys[i].peak = a->keys[i].cur_n;
  if (a->nkeys > 1)
    qsort(a->keys, a->nkeys, sizeof *a->keys, cmp_keys);
  /* The slots point at the old order; nothing looks keys up after this. */
  for (size_t i = 0; i < a->nkeys; i++) {
    const key_acc *k = &a->keys[i];
    cJSON *o = cJSON_CreateObject();
    int ok = o != NULL && cJSON_AddItemToArray(keys, o);
    if (!ok)
      cJSON_Delete(o);
    ok = ok && row_put(o, "key", k->key[0] ? cJSON_CreateString(k->key) : cJSON_CreateNull());
    ok = ok && put_int(o, "count", k->count);
    ok = ok && put_int(o, "peak_per_minute", k->peak);
    ok = ok && row_put(o, "limit", rate_limit > 0 ? cJSON_CreateNumber(rate_limit)
                                              : cJSON_CreateNull());
    if (!ok)
      return 0;
  }
  return 1;
}

/* The per_minute series of rows spanning FIRST_US..LAST_US (HAVE 0: none): its first
 * minute, the minutes per point and the number of points. */
static void chart(int have, int64_t first_us, int64_t last_us, int64_t *first_min,
                  int64_t *width, int64_t *points) {
  *first_min = have ? floor_div(first_us, US_PER_MINUTE) : 0;
  int64_t span = have ? floor_div(last_us, US_PER_MINUTE) - *first_min + 1 : 0;
  *width = span <= MAX_POINTS ? 1 : (span + MAX_POINTS - 1) / MAX_POINTS;
  *points = (span + *width - 1) / *width;
}

void stats_acc_chart(const stats_acc *a, int64_t *first_minute, int64_t *width) {
  int64_t points;
  chart(a->have_span, a->first_us, a->last_us, first_minute, width, &points);
}

static int add_per_minute(cJSON *s, const acc *a, int have, int64_t first_us,
                          int64_t last_us) {
  int64_t first_min, width, points;
  chart(have, first_us, last_us, &first_min, &width, &points);
  int64_t bucket_us = width * US_PER_MINUTE;

  cJSON *series = cJSON_CreateArray();
  if (!put_int(s, "bucket_s", width * 60) || !row_put(s, "per_minute", series))
    return 0;
  if (points == 0)
    return 1;
  int64_t *counts = calloc((size_t)points, sizeof *counts);
  if (!counts)
    return 0;
  for (size_t i = 0; i < a->nminutes; i++) {
    int64_t b = (a->minutes[i].minute - first_min) / width;
    if (b >= 0 && b < points)
      counts[b] += a->minutes[i].n;
  }
  int ok = 1;
  for (int64_t i = 0; ok && i < points; i++) {
    cJSON *pt = cJSON_CreateObject();
    ok = pt != NULL && cJSON_AddItemToArray(series, pt);
    if (!ok)
      cJSON_Delete(pt);
    ok = ok && row_put(pt, "minute", iso_or_null(first_min * US_PER_MINUTE + i * bucket_us, 1));
    ok = ok && put_int(pt, "count", counts[i]);
  }
  free(counts);
  return ok;
}

/* "range": the filter's since/until at NOW_US, so that a reader (the dashboard's chart)
 * shows the range asked for without parsing times itself. */
static int add_range(cJSON *s, const reqlog_filter *f, int64_t now_us) {
  int64_t since, until;
  filter_bounds(f, now_us, &since, &until);
  int has_since = since != INT64_MIN, has_until = until != INT64_MAX;
  cJSON *r = cJSON_CreateObject();
  if (!r || !row_put(s, "range", r))
    return 0;
  return row_put(r, "from", iso_or_null(since, has_since)) &&
         row_put(r, "to", iso_or_null(has_until ? until : now_us, has_since || has_until));
}

/* ------------------------------------------------------------------ stats_build */

reqlog_err stats_build(const stats_source *src, const reqlog_filter *f, int64_t now_us,
                       int rate_limit, cJSON **out, char **cause) {
  if (!out)
    return util_fail(cause, REQLOG_ERR_ARG, "stats: no place for the result");
  *out = NULL;
  acc a = {0};
  int64_t since, until;
  reqlog_err err = filter_time_range(f, now_us, &since, &until)
                     ? read_time_range(src, since, until, &a, cause)
                     : src->matching(src->ctx, f, now_us, &a, cause);
  if (err == REQLOG_OK && a.oom)
    err = nomem(cause);
  int have = a.have_span;
  int64_t first = a.first_us, last = a.last_us;
  cJSON *s = err == REQLOG_OK ? cJSON_CreateObject() : NULL;
  if (err == REQLOG_OK &&
      (!s || !add_counts(s, &a) || !add_latency(s, &a) ||
       !put_int(s, "rate_limited", a.rate_limited) || !add_keys(s, &a, rate_limit) ||
       !row_put(s, "first", iso_or_null(first, have)) || !row_put(s, "last", iso_or_null(last, have)) ||
       !add_range(s, f, now_us) || !add_per_minute(s, &a, have, first, last)))
    err = nomem(cause);
  acc_free(&a);
  if (err != REQLOG_OK) {
    cJSON_Delete(s);
    return err;
  }
  *out = s;
  return REQLOG_OK;
}
