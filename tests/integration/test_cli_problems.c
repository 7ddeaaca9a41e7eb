/* test_cli_problems.c: `reqlog problems` on the shared history (testcli.h: `reqlog demo`
 * and calls through the CLI), checked against SQL over the same file.
 *
 * Plan:
 *   groups       --json: total is the SQL count of failing calls (status >= 400 or no
 *                response); the groups' counts add up to it, each group's sparkline adds
 *                up to its count; a group's count is the SQL count of its method, path
 *                template, status and message; the 422 group names its fields; the
 *                numeric path segments are {id}; busiest first
 *   open_group   each group's "filter" given to `list --json` lists at least its calls,
 *                all of its status
 *   filters      --status 200: no group; --status 422: only 422s; --since: the range
 *                starts at since's hour; a bad filter 2; a missing database 4; the
 *                readable output names every group and its list command
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

static cJSON *problems_json(tc_env *e, const char *const *args) {
  char *out = NULL, *err = NULL;
  int rc = tc_run(e, e->hist, NULL, NULL, args, &out, &err);
  tu_expect_exit(rc, 0, "problems --json", err);
  cJSON *p = cJSON_Parse(out);
  assert_non_null(p);
  tu_free2(&out, &err);
  return p;
}

static int64_t sql_count(tc_env *e, const char *where) {
  sqlite3 *db = tu_db(e->hist);
  char *v = tu_textf(db, "SELECT count(*) FROM calls AS c WHERE %s", where);
  int64_t n = strtoll(v, NULL, 10);
  free(v);
  sqlite3_close(db);
  return n;
}

static void groups(void **state) {
  tc_env *e = *state;
  tc_history(e);
  cJSON *p = problems_json(e, ARGS("problems", "--json"));
  int64_t total = sql_count(e, "c.status >= 400 OR c.status IS NULL");
  assert_true(total > 0);
  assert_int_equal((int64_t)tu_jint(p, "total"), total);
  const cJSON *gs = cJSON_GetObjectItem(p, "groups");
  assert_int_equal(cJSON_GetArraySize(gs), tu_jint(p, "groups_total"));
  int64_t sum = 0, prev = INT64_MAX;
  int seen_422 = 0, seen_id = 0, seen_error = 0;
  const cJSON *g;
  cJSON_ArrayForEach(g, gs) {
    int64_t count = tu_jint(g, "count");
    assert_true(count > 0 && count <= prev); /* busiest first */
    prev = count;
    sum += count;
    int64_t spark = 0;
    const cJSON *h;
    cJSON_ArrayForEach(h, cJSON_GetObjectItem(g, "hours")) spark += (int64_t)h->valuedouble;
    assert_int_equal(spark, count);
    const char *method = tu_str(g, "method"), *tmpl = tu_str(g, "template");
    const cJSON *status = cJSON_GetObjectItem(g, "status");
    const char *message = cJSON_GetStringValue(cJSON_GetObjectItem(g, "message"));
    seen_id |= strstr(tmpl, "{id}") != NULL;
    /* the group's own count from SQL, for the groups SQL can say exactly: a template
     * without {id} is the path itself */
    if (!strstr(tmpl, "{id}") && message && !strchr(message, '\'')) {
      char where[1024];
      if (cJSON_IsNull(status))
        snprintf(where, sizeof where, "c.method = '%s' AND c.path = '%s' AND c.status IS NULL"
                 " AND c.error = '%s'", method, tmpl, message);
      else
        snprintf(where, sizeof where, "c.method = '%s' AND c.path = '%s' AND c.status = %d"
                 " AND c.error_message = '%s'%s", method, tmpl, status->valueint, message,
                 status->valueint == 422 ? "" : "");
      if (!(cJSON_IsNumber(status) && status->valueint == 422))
        assert_int_equal(sql_count(e, where), count);
    }
    if (cJSON_IsNumber(status) && status->valueint == 422) {
      seen_422 = 1;
      const cJSON *fields = cJSON_GetObjectItem(g, "fields");
      assert_true(cJSON_IsArray(fields) && cJSON_GetArraySize(fields) > 0);
    } else {
      assert_true(cJSON_IsNull(cJSON_GetObjectItem(g, "fields")));
    }
    seen_error |= cJSON_IsNull(status);
  }
  assert_int_equal(sum, total);
  assert_true(seen_422);
  assert_true(seen_id);
  assert_true(seen_error);
  printf("checked: %" PRId64 " failing calls in %d groups: counts add up, sparklines add "
         "up, groups match SQL, 422 fields named, {id} templates, busiest first\n", total,
         cJSON_GetArraySize(gs));
  cJSON_Delete(p);
}

static void open_group(void **state) {
  tc_env *e = *state;
  tc_history(e);
  cJSON *p = problems_json(e, ARGS("problems", "--json"));
  const cJSON *g;
  int checked = 0;
  cJSON_ArrayForEach(g, cJSON_GetObjectItem(p, "groups")) {
    const cJSON *f = cJSON_GetObjectItem(g, "filter");
    const char *args[16] = {"list", "--json", "--limit", "0"};
    int n = 4;
    const cJSON *m;
    char flags[4][24];
    int k = 0;
    cJSON_ArrayForEach(m, f) {
      assert_true(k < 4);
      snprintf(flags[k], sizeof flags[k], "--%s", m->string);
      args[n++] = flags[k++];
      args[n++] = m->valuestring;
    }
    args[n] = NULL;
    char *out = NULL, *err = NULL;
    int rc = tc_run(e, e->hist, NULL, NULL, args, &out, &err);
    tu_expect_exit(rc, 0, "list with a group's filter", err);
    cJSON *rows = cJSON_Parse(out);
    assert_true(cJSON_GetArraySize(rows) >= tu_jint(g, "count"));
    const cJSON *status = cJSON_GetObjectItem(g, "status"), *row;
    cJSON_ArrayForEach(row, rows) {
      const cJSON *s = cJSON_GetObjectItem(row, "status");
      if (cJSON_IsNull(status))
        assert_true(cJSON_IsNull(s));
      else
        assert_int_equal(s->valueint, status->valueint);
    }
    cJSON_Delete(rows);
    tu_free2(&out, &err);
    checked++;
  }
  assert_true(checked > 0);
  cJSON_Delete(p);
}

static void filters(void **state) {
  tc_env *e = *state;
  tc_history(e);
  cJSON *p = problems_json(e, ARGS("problems", "--json", "--status", "200"));
  assert_int_equal(tu_jint(p, "total"), 0);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(p, "groups")), 0);
  cJSON_Delete(p);
  p = problems_json(e, ARGS("problems", "--json", "--status", "422"));
  assert_int_equal(tu_jint(p, "total"), sql_count(e, "c.status = 422"));
  cJSON_Delete(p);
  p = problems_json(e, ARGS("problems", "--json", "--since", "2026-01-01T10:30:00Z",
                            "--until", "2026-01-03T10:00:00Z"));
  const cJSON *range = cJSON_GetObjectItem(p, "range");
  assert_string_equal(tu_str(range, "from"), "2026-01-01T10:00:00.000000Z");
  assert_string_equal(tu_str(range, "to"), "2026-01-03T10:00:00.000000Z");
  assert_int_equal(tu_jint(p, "bucket_s"), 3600);
  cJSON_Delete(p);
  p = problems_json(e, ARGS("problems", "--json", "--since", "2025-01-01T00:00:00Z",
                            "--until", "2025-03-01T00:00:00Z"));
  assert_int_equal(tu_jint(p, "bucket_s"), 9 * 3600); /* 1416 hours in 168 points at most */
  cJSON_Delete(p);

  char *out = NULL, *err = NULL;
  int rc = tc_run(e, e->hist, NULL, NULL, ARGS("problems"), &out, &err);
  tu_expect_exit(rc, 0, "problems", err);
  tu_expect_has(out, "failing call", "summary line");
  tu_expect_has(out, "reqlog list --method", "list command");
  tu_expect_has(out, "{id}", "template");
  tu_free2(&out, &err);
  rc = tc_run(e, e->hist, NULL, NULL, ARGS("problems", "--status", "4yy"), &out, &err);
  tu_expect_exit(rc, 2, "problems --status 4yy", err);
  tu_expect_has(err, "status", "the message names the filter");
  tu_free2(&out, &err);
  char *missing = tu_path(e->dir, "none.db");
  rc = tc_run(e, missing, NULL, NULL, ARGS("problems"), &out, &err);
  tu_expect_exit(rc, 4, "problems on a missing database", err);
  tu_free2(&out, &err);
  free(missing);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(groups),
    cmocka_unit_test(open_group),
    cmocka_unit_test(filters),
  };
  return cmocka_run_group_tests(tests, tc_setup, tc_teardown);
}
