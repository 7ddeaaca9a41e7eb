/* test_store_histogram.c: the duration histogram's bucket is one rule in three
 * spellings (recorder/store/histogram.h): histogram_bucket() in C, HISTOGRAM_BUCKET_SQL
 * in the statements the library runs, and the expression written out in the triggers
 * and first rollup of schema/002_stats.sql (which must work from the plain sqlite3 shell,
 * so cannot call C). This checks that they agree.
 *
 * Plan:
 *   c_matches_sql      histogram_bucket(d) == SQLite's value of HISTOGRAM_BUCKET_SQL for
 *                      d = -5..20000, every power of ten and its neighbours, INT64_MAX
 *                      and 200000 pseudo-random values over the whole range
 *   schema_spells_it   002_stats.sql (white space folded) holds the macro's expression
 *                      for duration_us, old.duration_us and new.duration_us, and no
 *                      other bucket expression
 *   rollups_match_c    rows indexed (store_index_fts), then deleted and updated
 *                      (triggers): stats_hist equals a GROUP BY of calls by the C
 *                      function (registered in SQLite for the test)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store/histogram.h"
#include "store/schema.h"
#include "store/store.h"
#include "testutil.h"

static int sql_bucket(sqlite3_stmt *st, int64_t d) {
  sqlite3_reset(st);
  sqlite3_bind_int64(st, 1, d);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  return sqlite3_column_int(st, 0);
}

static void check(sqlite3_stmt *st, int64_t d) {
  int c = histogram_bucket(d), s = sql_bucket(st, d);
  if (c != s)
    fail_msg("duration %lld: C bucket %d, SQL bucket %d", (long long)d, c, s);
  assert_true(c >= 0 && c < HISTOGRAM_BUCKETS);
}

/* The next of a pseudo-random sequence (xorshift64) in *X. */
static uint64_t next_random(uint64_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

static void c_matches_sql(void **state) {
  (void)state;
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, "SELECT " HISTOGRAM_BUCKET_SQL("?1"), -1, &st, NULL),
                   SQLITE_OK);
  for (int64_t d = -5; d <= 20000; d++)
    check(st, d);
  for (int64_t p = 1; p <= INT64_MAX / 10; p *= 10) {
    check(st, p * 10 - 1);
    check(st, p * 10);
    check(st, p * 10 + 1);
  }
  check(st, INT64_MAX);
  check(st, INT64_MIN);
  uint64_t x = 88172645463325252u;
  for (int i = 0; i < 200000; i++) {
    next_random(&x);
    check(st, (int64_t)(x >> (x % 63)) & INT64_MAX);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
}

/* TEXT with every run of white space made one space; malloc'd. */
static char *fold(const char *text) {
  char *out = malloc(strlen(text) + 1);
  assert_non_null(out);
  size_t n = 0;
  for (const char *p = text; *p; p++) {
    int space = *p == ' ' || *p == '\n' || *p == '\t' || *p == '\r';
    if (!space)
      out[n++] = *p;
    else if (n && out[n - 1] != ' ')
      out[n++] = ' ';
  }
  out[n] = 0;
  return out;
}

static int count(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
    n++;
  return n;
}

static void schema_spells_it(void **state) {
  (void)state;
  const char *sql = NULL;
  for (int i = 0; reqlog_schema_files[i].name; i++)
    if (strstr(reqlog_schema_files[i].name, "002_stats.sql"))
      sql = (const char *)reqlog_schema_files[i].data;
  assert_non_null(sql);
  char *text = fold(sql);
  int plain = count(text, "bucket, n) SELECT started_at / 86400000000, "
                          HISTOGRAM_BUCKET_SQL("duration_us") ",");
  int old = count(text, "bucket = " HISTOGRAM_BUCKET_SQL("old.duration_us"));
  int young = count(text, HISTOGRAM_BUCKET_SQL("new.duration_us"));
  assert_int_equal(plain, 1);   /* the first rollup */
  assert_int_equal(old, 4);     /* the triggers take back the old row */
  assert_int_equal(young, 1);   /* and count the updated one */
  assert_int_equal(count(text, "length(max("), plain + old + young);
  free(text);
}

static void bucket_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  sqlite3_result_int(ctx, histogram_bucket(sqlite3_value_int64(argv[0])));
}

/* stats_hist equals the rows up to the mark grouped by the C function. */
static void assert_hist_matches(sqlite3 *db) {
  const char *by_c =
    "SELECT started_at / 86400000000 AS day, c_bucket(duration_us) AS bucket, count(*) AS n"
    " FROM calls WHERE status IS NOT NULL"
    " AND id <= (SELECT value FROM meta WHERE name = 'fts_indexed') GROUP BY 1, 2";
  char sql[1024];
  snprintf(sql, sizeof sql,
           "SELECT (SELECT count(*) FROM (SELECT day, bucket, n FROM stats_hist EXCEPT %s))"
           " + (SELECT count(*) FROM (%s EXCEPT SELECT day, bucket, n FROM stats_hist))",
           by_c, by_c);
  assert_int_equal(tu_int(db, sql), 0);
}

static void rollups_match_c(void **state) {
  (void)state;
  sqlite3 *db = tu_memdb();
  assert_int_equal(sqlite3_create_function(db, "c_bucket", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                           NULL, bucket_fn, NULL, NULL),
                   SQLITE_OK);
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(db,
                                      "INSERT INTO calls(started_at, method, url, host, path,"
                                      " status, duration_us, source)"
                                      " VALUES (?, 'GET', 'u', 'h', '/p', ?, ?, 'library')",
                                      -1, &st, NULL),
                   SQLITE_OK);
  uint64_t x = 2463534242u;
  for (int i = 0; i < 3000; i++) {
    next_random(&x);
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, INT64_C(1795813440000000) + (int64_t)(x % 5) * 86400000000);
    if (i % 17 == 0)
      sqlite3_bind_null(st, 2);
    else
      sqlite3_bind_int(st, 2, 200);
    sqlite3_bind_int64(st, 3, i % 50 == 0 ? -7 : (int64_t)(x >> (x % 40)) % 100000000);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
  }
  sqlite3_finalize(st);
  int done = 0;
  do
    assert_int_equal(store_index_fts(db, 700, &done), REQLOG_OK);
  while (done > 0);
  assert_hist_matches(db);
  tu_exec(db, "DELETE FROM calls WHERE id % 7 = 0");
  tu_exec(db, "UPDATE calls SET duration_us = duration_us * 3 + 1 WHERE id % 5 = 0");
  tu_exec(db, "UPDATE calls SET duration_us = -1 WHERE id % 11 = 0");
  assert_hist_matches(db);
  sqlite3_close(db);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(c_matches_sql),
    cmocka_unit_test(schema_spells_it),
    cmocka_unit_test(rollups_match_c),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
