/* test_stats.c: statistics (recorder/read/stats.c) on a real SQLite database made from
 * schema/001_init.sql (run from the repository root).
 *
 * Plan:
 *   counts_and_classes  total, errors, by_class (zeros included), by_status, 429s,
 *                       first/last, over 100 answered calls and 2 transport errors
 *   percentiles         nearest rank over durations 1..100 ms and 10..70 ms; transport
 *                       errors' (huge) durations are left out; max
 *   keys_peak           per key count and busiest calendar minute, busiest key first, null
 *                       key for calls without one, limit from the caller (null when 0)
 *   per_minute          one zero-filled point per minute of the range; wider buckets
 *                       (bucket_s) past 1440 minutes, never more than 1440 points
 *   empty_and_filter    no rows: zeros, nulls, empty lists; a filter narrows every figure
 *   rollups_agree       10 days of calls: the time-only path (whole days from the rollup
 *                       tables of 002_stats.sql) gives the same counts, keys, peaks and
 *                       series as the row path (forced by a filter that holds for every
 *                       row), and percentiles within 0.5% flagged latency_exact false;
 *                       a range inside one day stays exact
 *   migration_backfills a 001 database with rows gets rollups of its indexed rows from 002
 *   triggers_follow     after deletes and updates of calls the rollup tables equal a
 *                       fresh GROUP BY of calls
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "read/read.h"
#include "store/schema.h"
#include "store/store.h"
#include "testutil.h"

/* 2026-11-27T21:04:00Z, on a minute boundary. */
#define T0 INT64_C(1795813440000000)
#define SEC INT64_C(1000000)

/* A fresh database with the library's own embedded schema. */
static sqlite3 *open_db(void) {
  return tu_memdb();
}

/* One row; STATUS < 0 stores NULL (a transport error), KEY NULL stores NULL. */
static void insert(sqlite3 *db, int64_t started, int status, int64_t duration_us,
                   const char *key, const char *method) {
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(db,
                                      "INSERT INTO calls(started_at, method, url, host, path,"
                                      " status, error, duration_us, key, source)"
                                      " VALUES (?, ?, 'u', 'h', '/p', ?, ?, ?, ?, 'library')",
                                      -1, &st, NULL),
                   SQLITE_OK);
  sqlite3_bind_int64(st, 1, started);
  sqlite3_bind_text(st, 2, method, -1, SQLITE_STATIC);
  if (status < 0) {
    sqlite3_bind_null(st, 3);
    sqlite3_bind_text(st, 4, "Connection refused", -1, SQLITE_STATIC);
  } else {
    sqlite3_bind_int(st, 3, status);
  }
  sqlite3_bind_int64(st, 5, duration_us);
  if (key)
    sqlite3_bind_text(st, 6, key, -1, SQLITE_STATIC);
  assert_int_equal(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
}

/* 100 answered GETs, call x (1..100) lasting x ms, and 2 POSTs that got no response:
 *   statuses: 90 x 200, 201, 302, 404, 2 x 422, 3 x 429, 500, 503
 *   key A: x = 1..70, one per second from T0 (minute 0: 60 calls, minute 1: 10)
 *   key B: x = 71..100, one every 3 s from T0+120 s (minute 2: 20 calls, minute 3: 10)
 *   no key: the 2 errors at T0+300 s and T0+301 s (minute 5); minute 4 is empty */
static sqlite3 *sample_db(void) {
  sqlite3 *db = open_db();
  static const int odd[] = {201, 302, 404, 422, 422, 429, 429, 429, 500, 503};
  assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
  for (int x = 1; x <= 100; x++) {
    int status = x % 10 == 5 ? odd[x / 10] : 200;
    int64_t at = x <= 70 ? T0 + (x - 1) * SEC : T0 + 120 * SEC + (x - 71) * 3 * SEC;
    if (x == 60)
      at = T0 + 60 * SEC - 1; /* the last microsecond of minute 0 */
    insert(db, at, status, x * 1000, x <= 70 ? "…aaaa#11111111" : "…bbbb#22222222", "GET");
  }
  insert(db, T0 + 300 * SEC, -1, 999999000, NULL, "POST");
  insert(db, T0 + 301 * SEC, -1, 999999000, NULL, "POST");
  assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  return db;
}

static cJSON *stats(sqlite3 *db, const reqlog_filter *f, int limit) {
  cJSON *s = NULL;
  char *cause = NULL;
  reqlog_err err = rs_stats(db, f, 0, limit, &s, &cause);
  if (err != REQLOG_OK)
    print_error("rs_stats: %s\n", cause ? cause : "?");
  free(cause);
  assert_int_equal(err, REQLOG_OK);
  assert_non_null(s);
  assert_true(sqlite3_get_autocommit(db)); /* its read transaction is over */
  return s;
}

static cJSON *get(const cJSON *obj, const char *name) {
  cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (!v)
    print_error("member %s missing\n", name);
  assert_non_null(v);
  return v;
}

static double num(const cJSON *obj, const char *name) {
  cJSON *v = get(obj, name);
  assert_true(cJSON_IsNumber(v));
  return v->valuedouble;
}

static void want_json(const cJSON *v, const char *want) {
  char *text = cJSON_PrintUnformatted(v);
  assert_non_null(text);
  if (strcmp(text, want) != 0)
    print_error("got  %s\nwant %s\n", text, want);
  assert_string_equal(text, want);
  cJSON_free(text);
}

static void counts_and_classes(void **state) {
  sqlite3 *db = sample_db();
  cJSON *s = stats(db, NULL, 60);
  assert_int_equal(num(s, "total"), 102);
  assert_int_equal(num(s, "errors"), 2);
  want_json(get(s, "by_class"),
            "{\"1xx\":0,\"2xx\":91,\"3xx\":1,\"4xx\":6,\"5xx\":2,\"other\":0,\"error\":2}");
  want_json(get(s, "by_status"), "{\"200\":90,\"201\":1,\"302\":1,\"404\":1,\"422\":2,"
                                 "\"429\":3,\"500\":1,\"503\":1}");
  assert_int_equal(num(s, "rate_limited"), 3);
  assert_string_equal(get(s, "first")->valuestring, "2026-11-27T21:04:00.000000Z");
  assert_string_equal(get(s, "last")->valuestring, "2026-11-27T21:09:01.000000Z");
  print_message("102 calls: total, 2 transport errors, by_class with zeros (sums to total), "
                "by_status in order, 3 x 429, first/last ISO\n");
  cJSON_Delete(s);
  sqlite3_close(db);
}

static void percentiles(void **state) {
  sqlite3 *db = sample_db();
  cJSON *s = stats(db, NULL, 60);
  want_json(get(s, "latency_ms"), "{\"p50\":50,\"p95\":95,\"p99\":99,\"max\":100}");
  cJSON_Delete(s);
  sqlite3_close(db);

  db = open_db();
  static const int ms[] = {70, 10, 40, 20, 60, 30, 50}; /* stored out of order */
  for (int i = 0; i < 7; i++)
    insert(db, T0 + i, 200, ms[i] * 1000 + 500, "k", "GET");
  s = stats(db, NULL, 60);
  want_json(get(s, "latency_ms"), "{\"p50\":40.5,\"p95\":70.5,\"p99\":70.5,\"max\":70.5}");
  cJSON_Delete(s);
  sqlite3_close(db);
  print_message("nearest rank: 1..100 ms -> p50 50, p95 95, p99 99, max 100 (errors' "
                "999999 ms left out); 7 values 10.5..70.5 -> p50 40.5 (rank 4), p95/p99 "
                "70.5 (rank 7)\n");
}

static void keys_peak(void **state) {
  sqlite3 *db = sample_db();
  cJSON *s = stats(db, NULL, 60);
  want_json(get(s, "keys"),
            "[{\"key\":\"…aaaa#11111111\",\"count\":70,\"peak_per_minute\":60,\"limit\":60},"
            "{\"key\":\"…bbbb#22222222\",\"count\":30,\"peak_per_minute\":20,\"limit\":60},"
            "{\"key\":null,\"count\":2,\"peak_per_minute\":2,\"limit\":60}]");
  cJSON_Delete(s);
  s = stats(db, NULL, 0);
  assert_true(cJSON_IsNull(get(cJSON_GetArrayItem(get(s, "keys"), 0), "limit")));
  cJSON_Delete(s);
  print_message("keys: A 70 calls peak 60/min (a call at 59.999999 s stays in minute 0), "
                "B 30 peak 20, no-key 2 peak 2; busiest first; limit 60, null when 0\n");
  sqlite3_close(db);
}

static void per_minute(void **state) {
  sqlite3 *db = sample_db();
  cJSON *s = stats(db, NULL, 60);
  assert_int_equal(num(s, "bucket_s"), 60);
  want_json(get(s, "per_minute"),
            "[{\"minute\":\"2026-11-27T21:04:00.000000Z\",\"count\":60},"
            "{\"minute\":\"2026-11-27T21:05:00.000000Z\",\"count\":10},"
            "{\"minute\":\"2026-11-27T21:06:00.000000Z\",\"count\":20},"
            "{\"minute\":\"2026-11-27T21:07:00.000000Z\",\"count\":10},"
            "{\"minute\":\"2026-11-27T21:08:00.000000Z\",\"count\":0},"
            "{\"minute\":\"2026-11-27T21:09:00.000000Z\",\"count\":2}]");
  cJSON_Delete(s);
  sqlite3_close(db);

  /* spans of 1440, 1441 and 4320 minutes */
  static const struct { int64_t minutes; int bucket_s, points; } wide[] = {
    {1440, 60, 1440}, {1441, 120, 721}, {4320, 180, 1440}};
  for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++) {
    db = open_db();
    int64_t last = T0 + (wide[i].minutes - 1) * 60 * SEC + 59 * SEC;
    insert(db, T0 + 30 * SEC, 200, 1, "k", "GET");
    insert(db, T0 + 600 * SEC, 200, 1, "k", "GET");
    insert(db, last, 200, 1, "k", "GET");
    s = stats(db, NULL, 60);
    assert_int_equal(num(s, "bucket_s"), wide[i].bucket_s);
    cJSON *pts = get(s, "per_minute");
    assert_int_equal(cJSON_GetArraySize(pts), wide[i].points);
    int64_t sum = 0;
    cJSON *p = NULL;
    cJSON_ArrayForEach(p, pts) sum += (int64_t)num(p, "count");
    assert_int_equal(sum, 3);
    assert_string_equal(get(cJSON_GetArrayItem(pts, 0), "minute")->valuestring,
                        "2026-11-27T21:04:00.000000Z");
    assert_int_equal(num(cJSON_GetArrayItem(pts, 0), "count"), 1);
    assert_int_equal(num(cJSON_GetArrayItem(pts, wide[i].points - 1), "count"), 1);
    cJSON_Delete(s);
    sqlite3_close(db);
  }
  print_message("per_minute: 6 points with an empty minute as 0; 1440 min -> 1440 x 60 s, "
                "1441 min -> 721 x 120 s, 3 days -> 1440 x 180 s; counts sum to total\n");
}

static void empty_and_filter(void **state) {
  sqlite3 *db = open_db();
  cJSON *s = stats(db, NULL, 60);
  want_json(s, "{\"total\":0,\"errors\":0,\"by_class\":{\"1xx\":0,\"2xx\":0,\"3xx\":0,"
               "\"4xx\":0,\"5xx\":0,\"other\":0,\"error\":0},\"by_status\":{},"
               "\"latency_ms\":{\"p50\":null,\"p95\":null,\"p99\":null,\"max\":null},"
               "\"latency_exact\":true,\"rate_limited\":0,\"keys\":[],\"first\":null,\"last\":null,"
               "\"range\":{\"from\":null,\"to\":null},\"bucket_s\":60,\"per_minute\":[]}");
  cJSON_Delete(s);
  sqlite3_close(db);

  db = sample_db();
  reqlog_filter *f = NULL;
  assert_int_equal(reqlog_filter_new(&f), REQLOG_OK);
  assert_int_equal(reqlog_filter_set(f, "method", "POST", NULL), REQLOG_OK);
  s = stats(db, f, 60);
  assert_int_equal(num(s, "total"), 2);
  assert_int_equal(num(s, "errors"), 2);
  assert_int_equal(num(get(s, "by_class"), "error"), 2);
  assert_int_equal(num(get(s, "by_class"), "2xx"), 0);
  assert_true(cJSON_IsNull(get(get(s, "latency_ms"), "p50")));
  assert_int_equal(cJSON_GetArraySize(get(s, "keys")), 1);
  assert_int_equal(cJSON_GetArraySize(get(s, "per_minute")), 1);
  reqlog_filter_free(f);
  cJSON_Delete(s);
  sqlite3_close(db);
  print_message("no rows: every member present, zeros / nulls / empty lists; method=POST "
                "narrows to the 2 transport errors in every figure\n");
}

/* The range the filter asked for, resolved by the server at NOW (the dashboard draws its
 * chart's axis from it instead of parsing times itself). */
static cJSON *stats_at(sqlite3 *db, const reqlog_filter *f, int64_t now_us) {
  cJSON *s = NULL;
  assert_int_equal(rs_stats(db, f, now_us, 60, &s, NULL), REQLOG_OK);
  return s;
}

static const char *range_end(const cJSON *s, const char *end) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(get(s, "range"), end);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void range_resolved(void **state) {
  sqlite3 *db = sample_db();
  const int64_t now = 1764979200LL * SEC; /* 2025-12-06T00:00:00Z */
  reqlog_filter *f = NULL;
  assert_int_equal(reqlog_filter_new(&f), REQLOG_OK);
  assert_int_equal(reqlog_filter_set(f, "since", "1h", NULL), REQLOG_OK);
  cJSON *s = stats_at(db, f, now);
  assert_string_equal(range_end(s, "from"), "2025-12-05T23:00:00.000000Z");
  assert_string_equal(range_end(s, "to"), "2025-12-06T00:00:00.000000Z"); /* no until: now */
  cJSON_Delete(s);
  /* another filter beside the times (the rows are read one by one): the same range */
  assert_int_equal(reqlog_filter_set(f, "status", "2xx", NULL), REQLOG_OK);
  assert_int_equal(reqlog_filter_set(f, "until", "2025-12-05T23:30:00Z", NULL), REQLOG_OK);
  s = stats_at(db, f, now);
  assert_string_equal(range_end(s, "from"), "2025-12-05T23:00:00.000000Z");
  assert_string_equal(range_end(s, "to"), "2025-12-05T23:30:00.000000Z");
  cJSON_Delete(s);
  reqlog_filter_free(f);
  /* until only: from stays null */
  assert_int_equal(reqlog_filter_new(&f), REQLOG_OK);
  assert_int_equal(reqlog_filter_set(f, "until", "2025-12-01T00:00:00Z", NULL), REQLOG_OK);
  s = stats_at(db, f, now);
  assert_null(range_end(s, "from"));
  assert_string_equal(range_end(s, "to"), "2025-12-01T00:00:00.000000Z");
  cJSON_Delete(s);
  reqlog_filter_free(f);
  sqlite3_close(db);
  print_message("range: since=1h at a fixed now -> [now-1h, now]; with status and until -> "
                "[now-1h, until]; until only -> [null, until]\n");
}

/* 10 days from T0 minus 5 days, 3000 calls with varied status, key and duration. */
static sqlite3 *days_db(void) {
  sqlite3 *db = open_db();
  static const int statuses[] = {200, 200, 200, 201, 401, 403, 404, 422, 429, -1};
  static const char *const keys[] = {"…aaaa#11111111", "…bbbb#22222222", NULL};
  assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
  uint64_t x = 12345;
  for (int i = 0; i < 3000; i++) {
    x = x * 6364136223846793005u + 1442695040888963407u;
    int64_t at = T0 - 5 * 86400 * SEC + (int64_t)((x >> 1) % (uint64_t)(10 * 86400 * SEC));
    int64_t dur = 200 + (int64_t)((x >> 7) % 2000000);
    if (i % 7 == 0)
      at = T0 + (i % 50) * SEC; /* a busy minute */
    insert(db, at, statuses[i % 10], dur, keys[i % 3], "GET");
  }
  assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  return db;
}

/* Member NAME of A and B printed alike. */
static void same(const cJSON *a, const cJSON *b, const char *name) {
  char *x = cJSON_PrintUnformatted(get(a, name)), *y = cJSON_PrintUnformatted(get(b, name));
  if (strcmp(x, y) != 0)
    print_error("%s differs:\n  rollup %s\n  rows   %s\n", name, x, y);
  assert_string_equal(x, y);
  cJSON_free(x);
  cJSON_free(y);
}

/* Moves the indexer's mark (and so the rollups) over up to N more rows. */
static void catch_up(sqlite3 *db, int n) {
  int done = 0;
  assert_int_equal(store_index_fts(db, n, &done), REQLOG_OK);
}

static void rollups_agree(void **state) {
  sqlite3 *db = days_db();
  static const char *const ranges[][2] = {
    {NULL, NULL}, {"2026-11-24T13:00:00Z", NULL}, {"2026-11-23", "2026-11-29T06:30:00Z"}};
  /* Stage 0: no row rolled up yet; 1: the first 1400; 2: all of them. The time-only
   * path (t) against the row path (tr: min_ms=0 holds for every row). */
  for (int stage = 0; stage < 3; stage++) {
  if (stage > 0)
    catch_up(db, stage == 1 ? 1400 : 100000);
  for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
    reqlog_filter *t = NULL, *tr = NULL;
    assert_int_equal(reqlog_filter_new(&t), REQLOG_OK);
    assert_int_equal(reqlog_filter_new(&tr), REQLOG_OK);
    assert_int_equal(reqlog_filter_set(tr, "min_ms", "0", NULL), REQLOG_OK);
    for (int k = 0; k < 2; k++)
      if (ranges[r][k]) {
        assert_int_equal(reqlog_filter_set(t, k ? "until" : "since", ranges[r][k], NULL),
                         REQLOG_OK);
        assert_int_equal(reqlog_filter_set(tr, k ? "until" : "since", ranges[r][k], NULL),
                         REQLOG_OK);
      }
    cJSON *a = stats(db, t, 60), *b = stats(db, tr, 60);
    static const char *const members[] = {"total", "errors", "by_class", "by_status",
                                          "rate_limited", "keys", "first", "last",
                                          "bucket_s", "per_minute"};
    for (size_t m = 0; m < sizeof members / sizeof members[0]; m++)
      same(a, b, members[m]);
    assert_true(num(a, "total") > 1000);
    assert_true(cJSON_IsFalse(get(a, "latency_exact")));
    assert_true(cJSON_IsTrue(get(b, "latency_exact")));
    static const char *const pcts[] = {"p50", "p95", "p99", "max"};
    for (size_t i = 0; i < 4; i++) {
      double approx = num(get(a, "latency_ms"), pcts[i]);
      double exact = num(get(b, "latency_ms"), pcts[i]);
      if (fabs(approx - exact) > exact * 0.005)
        print_error("%s: %.3f vs exact %.3f\n", pcts[i], approx, exact);
      assert_true(fabs(approx - exact) <= exact * 0.005);
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
    reqlog_filter_free(t);
    reqlog_filter_free(tr);
  }
  }
  /* Inside one day but over whole hours: read from the calls, yet bucketed as the team
   * store, whose hourly rollups answer it, must give the same figures. */
  reqlog_filter *day = NULL;
  assert_int_equal(reqlog_filter_new(&day), REQLOG_OK);
  assert_int_equal(reqlog_filter_set(day, "since", "2026-11-25T01:00:00Z", NULL), REQLOG_OK);
  assert_int_equal(reqlog_filter_set(day, "until", "2026-11-25T23:00:00Z", NULL), REQLOG_OK);
  cJSON *d = stats(db, day, 60);
  assert_true(cJSON_IsFalse(get(d, "latency_exact")));
  assert_true(num(d, "total") > 100);
  cJSON_Delete(d);
  reqlog_filter_free(day);
  /* Inside one hour nothing comes from a histogram: exact. */
  reqlog_filter *hour = NULL;
  assert_int_equal(reqlog_filter_new(&hour), REQLOG_OK);
  assert_int_equal(reqlog_filter_set(hour, "since", "2026-11-25T12:01:00Z", NULL), REQLOG_OK);
  assert_int_equal(reqlog_filter_set(hour, "until", "2026-11-25T12:59:00Z", NULL), REQLOG_OK);
  d = stats(db, hour, 60);
  assert_true(cJSON_IsTrue(get(d, "latency_exact")));
  assert_true(num(d, "total") > 0);
  cJSON_Delete(d);
  reqlog_filter_free(hour);
  sqlite3_close(db);
  print_message("3000 calls over 10 days, 3 ranges, with none / 1400 / all rows rolled up by the indexer: rollup path == row path for counts, "
                "classes, statuses, 429s, keys/peaks, first/last, series; p50/p95/p99/max "
                "within 0.5%% and flagged approximate, also over whole hours of one day; a range inside one hour is exact\n");
}

/* The rollup tables minus a fresh GROUP BY of calls, and the other way round: 0 rows. */
static int64_t rollup_diff(sqlite3 *db) {
#define ROLLED " WHERE id <= (SELECT value FROM meta WHERE name = 'fts_indexed')"
  static const char *const sql =
    "SELECT count(*) FROM ("
    " SELECT minute, key, n FROM stats_minute EXCEPT"
    " SELECT started_at / 60000000, coalesce(key, ''), count(*) FROM calls" ROLLED " GROUP BY 1, 2"
    " UNION ALL SELECT started_at / 60000000, coalesce(key, ''), count(*) FROM calls" ROLLED
    " GROUP BY 1, 2 EXCEPT SELECT minute, key, n FROM stats_minute"
    " UNION ALL SELECT day, status, n FROM stats_day EXCEPT"
    " SELECT started_at / 86400000000, coalesce(status, -1), count(*) FROM calls" ROLLED " GROUP BY 1, 2"
    " UNION ALL SELECT started_at / 86400000000, coalesce(status, -1), count(*) FROM calls" ROLLED
    " GROUP BY 1, 2 EXCEPT SELECT day, status, n FROM stats_day"
    " UNION ALL SELECT day, bucket, n FROM stats_hist EXCEPT"
    " SELECT started_at / 86400000000, length(duration_us) * 1000"
    "  + CAST(substr(duration_us, 1, 3) AS INTEGER), count(*) FROM calls"
    ROLLED "  AND status IS NOT NULL GROUP BY 1, 2"
    " UNION ALL SELECT started_at / 86400000000, length(duration_us) * 1000"
    "  + CAST(substr(duration_us, 1, 3) AS INTEGER), count(*) FROM calls"
    ROLLED "  AND status IS NOT NULL GROUP BY 1, 2 EXCEPT SELECT day, bucket, n FROM stats_hist)";
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  int64_t n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

static void triggers_follow(void **state) {
  sqlite3 *db = days_db();
  assert_int_equal(rollup_diff(db), 0);  /* nothing rolled up, nothing counted */
  catch_up(db, 1000);
  assert_int_equal(rollup_diff(db), 0);  /* the first 1000 */
  catch_up(db, 100000);
  assert_int_equal(sqlite3_exec(db, "DELETE FROM calls WHERE id % 3 = 0", NULL, NULL, NULL),
                   SQLITE_OK);
  assert_int_equal(rollup_diff(db), 0);
  assert_int_equal(sqlite3_exec(db,
                                "UPDATE calls SET started_at = started_at - 86400000000,"
                                " status = CASE WHEN status = 200 THEN NULL ELSE 200 END,"
                                " duration_us = duration_us * 3, key = NULL WHERE id % 5 = 1",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  assert_int_equal(rollup_diff(db), 0);
  /* A tampered rollup is seen: the check can fail. */
  assert_int_equal(sqlite3_exec(db, "UPDATE stats_day SET n = n + 1 WHERE day ="
                                    " (SELECT min(day) FROM stats_day)", NULL, NULL, NULL),
                   SQLITE_OK);
  assert_true(rollup_diff(db) > 0);
  assert_int_equal(sqlite3_exec(db, "DELETE FROM calls", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM stats_minute) +"
                                          " (SELECT count(*) FROM stats_hist)", -1, &st, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_int_equal(sqlite3_column_int64(st, 0), 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  print_message("rollups equal a fresh GROUP BY after insert, delete, update of every "
                "counted column; a tampered count is caught; emptied calls leave no "
                "rollup rows\n");
}

/* A database of schema 001 with rows, some indexed, migrated by 002: its backfill
 * rolls up exactly the rows up to the mark, and stats agree with the row path. */
static void migration_backfills(void **state) {
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
  assert_string_equal(reqlog_schema_files[0].name, "001_init.sql");
  tu_exec(db, (const char *)reqlog_schema_files[0].data);
  for (int i = 0; i < 500; i++)
    insert(db, T0 - (int64_t)(i % 9) * 86400 * SEC + i * 7 * SEC, i % 4 ? 200 : 422,
           1000 + i * 37, i % 2 ? "…aaaa#11111111" : NULL, "GET");
  tu_exec(db, "UPDATE meta SET value = 300 WHERE name = 'fts_indexed'");
  assert_string_equal(reqlog_schema_files[1].name, "002_stats.sql");
  tu_exec(db, (const char *)reqlog_schema_files[1].data);
  assert_int_equal(rollup_diff(db), 0);
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, "SELECT sum(n) FROM stats_day", -1, &st, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_int_equal(sqlite3_column_int64(st, 0), 300);
  sqlite3_finalize(st);
  reqlog_filter *rows = NULL;
  assert_int_equal(reqlog_filter_new(&rows), REQLOG_OK);
  assert_int_equal(reqlog_filter_set(rows, "min_ms", "0", NULL), REQLOG_OK);
  cJSON *a = stats(db, NULL, 60), *b = stats(db, rows, 60);
  static const char *const members[] = {"total", "by_status", "keys", "per_minute"};
  for (size_t m = 0; m < sizeof members / sizeof members[0]; m++)
    same(a, b, members[m]);
  assert_int_equal(num(a, "total"), 500);
  cJSON_Delete(a);
  cJSON_Delete(b);
  reqlog_filter_free(rows);
  sqlite3_close(db);
  print_message("001 database with 500 rows (300 indexed) migrated by 002: rollups hold "
                "exactly the 300, stats over all 500 agree with the row path\n");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(counts_and_classes), cmocka_unit_test(percentiles),
    cmocka_unit_test(keys_peak),          cmocka_unit_test(per_minute),
    cmocka_unit_test(empty_and_filter), cmocka_unit_test(range_resolved),
    cmocka_unit_test(rollups_agree),
    cmocka_unit_test(triggers_follow),   cmocka_unit_test(migration_backfills),
  };
  return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
