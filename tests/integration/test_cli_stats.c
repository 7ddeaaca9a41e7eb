/* test_cli_stats.c: `reqlog stats` and `reqlog prune` over the shared history
 * (testcli.h): the counts against SQL, and what prune deletes (on a copy).
 *
 * Plan:
 *   stats / prune  total and by_status / by_class match SQL; prune needs an option;
 *                  --older-than and --max-rows leave exactly the rows SQL predicts, and
 *                  search still works afterwards
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testcli.h"

/* ------------------------------------------------------------------ stats / prune */

static void test_stats(void **state) {
  tc_env *e = *state;
  tc_history(e);
  char *out = NULL, *err = NULL;
  int rc = tc_run(e, e->hist, NULL, NULL, ARGS("stats", "--json"), &out, &err);
  tu_expect_exit(rc, 0, "stats --json", err);
  cJSON *st = cJSON_Parse(out);
  assert_true(cJSON_IsObject(st));
  tu_free2(&out, &err);
  sqlite3 *s = tu_db(e->hist);
  assert_int_equal(tu_jint(st, "total"), tu_int(s, "SELECT count(*) FROM calls"));
  assert_int_equal(tu_jint(st, "errors"),
                   tu_int(s, "SELECT count(*) FROM calls WHERE status IS NULL"));
  assert_int_equal(tu_jint(st, "rate_limited"),
                   tu_int(s, "SELECT count(*) FROM calls WHERE status = 429"));
  const cJSON *by = cJSON_GetObjectItemCaseSensitive(st, "by_status");
  sqlite3_stmt *q = NULL;
  assert_int_equal(sqlite3_prepare_v2(s, "SELECT status, count(*) FROM calls WHERE status IS "
                                         "NOT NULL GROUP BY status", -1, &q, NULL), SQLITE_OK);
  int statuses = 0;
  int64_t sum = 0;
  while (sqlite3_step(q) == SQLITE_ROW) {
    char code[16];
    snprintf(code, sizeof code, "%d", sqlite3_column_int(q, 0));
    assert_int_equal(tu_jint(by, code), (int64_t)sqlite3_column_int64(q, 1));
    statuses++;
  }
  sqlite3_finalize(q);
  const cJSON *it;
  cJSON_ArrayForEach(it, by)
    sum += (int64_t)it->valuedouble;
  assert_int_equal(sum, tu_int(s, "SELECT count(*) FROM calls WHERE status IS NOT NULL"));
  const cJSON *cls = cJSON_GetObjectItemCaseSensitive(st, "by_class");
  for (int k = 1; k <= 5; k++) {
    char name[16];
    snprintf(name, sizeof name, "%dxx", k);
    assert_int_equal(tu_jint(cls, name), tu_intf(s, "SELECT count(*) FROM calls WHERE status "
                                                    "BETWEEN %d AND %d", k * 100, k * 100 + 99));
  }
  printf("checked: stats --json: total %" PRId64 ", errors, 429s, %d by_status counts and "
         "the by_class counts equal SQL\n", tu_jint(st, "total"), statuses);
  cJSON_Delete(st);

  rc = tc_run(e, e->hist, NULL, NULL, ARGS("stats", "--json", "--status", "4xx", "--key", "lpha"),
              &out, &err);
  tu_expect_exit(rc, 0, "stats filtered", err);
  st = cJSON_Parse(out);
  assert_int_equal(tu_jint(st, "total"), tu_int(s, "SELECT count(*) FROM calls WHERE status "
                                                   "BETWEEN 400 AND 499 AND key LIKE '%lpha#%'"));
  cJSON_Delete(st);
  tu_free2(&out, &err);
  rc = tc_run(e, e->hist, NULL, NULL, ARGS("stats"), &out, &err);
  tu_expect_exit(rc, 0, "stats", err);
  char total[32];
  snprintf(total, sizeof total, "%" PRId64, e->hist_rows);
  tu_expect_has(out, "calls", "readable stats");
  tu_expect_has(out, total, "readable stats total");
  tu_expect_has(out, "p95", "readable stats latency");
  tu_free2(&out, &err);
  sqlite3_close(s);
  printf("checked: stats with filters counts what SQL counts; the readable form shows the "
         "total and percentiles\n");
}

static void test_prune(void **state) {
  tc_env *e = *state;
  tc_history(e);
  char *copy = tu_path(e->dir, "prune.db"), *out = NULL, *err = NULL;
  sqlite3 *s = tu_db(e->hist);
  char *sql = NULL;
  assert_true(asprintf(&sql, "VACUUM INTO '%s'", copy) > 0);
  tu_exec(s, sql);
  free(sql);
  sqlite3_close(s);

  int rc = tc_run(e, copy, NULL, NULL, ARGS("prune"), &out, &err);
  tu_expect_exit(rc, 2, "prune without options", err);
  tu_expect_has(err, "--older-than", "prune names its options");
  tu_free2(&out, &err);
  rc = tc_run(e, copy, NULL, NULL, ARGS("prune", "--max-rows", "0"), &out, &err);
  tu_expect_exit(rc, 2, "prune --max-rows 0", err);
  tu_free2(&out, &err);
  rc = tc_run(e, copy, NULL, NULL, ARGS("prune", "--older-than", "soon"), &out, &err);
  tu_expect_exit(rc, 2, "prune --older-than soon", err);
  tu_free2(&out, &err);
  s = tu_db(copy);
  int64_t before = tu_int(s, "SELECT count(*) FROM calls");
  assert_int_equal(before, e->hist_rows);
  printf("checked: prune without options, --max-rows 0 and --older-than soon exit 2 and "
         "delete nothing\n");

  int64_t old = tu_intf(s, "SELECT count(*) FROM calls WHERE started_at < %" PRId64,
                        tu_now_us() - INT64_C(86400000000));
  assert_int_equal(old, 10);
  rc = tc_run(e, copy, NULL, NULL, ARGS("prune", "--older-than", "1d"), &out, &err);
  tu_expect_exit(rc, 0, "prune --older-than 1d", err);
  char msg[64];
  snprintf(msg, sizeof msg, "pruned %" PRId64 " calls", old);
  tu_expect_has(out, msg, "prune count");
  tu_free2(&out, &err);
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls"), before - old);
  assert_int_equal(tu_int(s, "SELECT min(id) FROM calls"), 11);

  char *top5 = tu_text(s, "SELECT group_concat(id, ',') FROM (SELECT id FROM calls ORDER BY "
                          "id DESC LIMIT 5)");
  rc = tc_run(e, copy, NULL, NULL, ARGS("prune", "--max-rows", "5"), &out, &err);
  tu_expect_exit(rc, 0, "prune --max-rows 5", err);
  tu_free2(&out, &err);
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls"), 5);
  rc = tc_run(e, copy, NULL, NULL, ARGS("list", "--limit", "0", "--json"), &out, &err);
  tu_expect_exit(rc, 0, "list after prune", err);
  int n = 0;
  char *ids = tc_json_ids(out, &n);
  assert_string_equal(ids, top5);
  free(ids);
  tu_free2(&out, &err);
  /* the full-text index follows the deletions */
  rc = tc_run(e, copy, NULL, NULL, ARGS("list", "--limit", "0", "--json", "-q", "zo\xc3\xab"),
              &out, &err);
  tu_expect_exit(rc, 0, "list -q after prune", err);
  ids = tc_json_ids(out, &n);
  int wn = 0;
  char *want = tc_sql_ids(s, QW("zo\xc3\xab"), 1, &wn);
  assert_string_equal(ids, want);
  free(want);
  free(ids);
  tu_free2(&out, &err);
  char *ok = tu_text(s, "PRAGMA integrity_check");
  assert_string_equal(ok, "ok");
  free(ok);
  sqlite3_close(s);
  printf("checked: prune --older-than 1d deleted exactly the %" PRId64 " rows older than a "
         "day; --max-rows 5 left the 5 newest (%s); search and integrity_check still fine\n",
         old, top5);
  free(top5);
  free(copy);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_stats),
    cmocka_unit_test(test_prune),
  };
  return cmocka_run_group_tests(tests, tc_setup, tc_teardown);
}
