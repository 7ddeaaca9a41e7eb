/* test_cli_list.c: what `reqlog list` and `reqlog show` print for the shared history
 * (testcli.h), checked against SQL over the same file.
 *
 * Plan:
 *   list output    --json rows have no bodies; the table has a header line;
 *                  --limit/--before pages cover every row once
 *   show           show ID --json is the list row plus the bodies stored; 999999 -> 5,
 *                  abc -> 2
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

/* ------------------------------------------------------------------ list output */

static void test_list_output(void **state) {
  tc_env *e = *state;
  tc_history(e);
  char *out = NULL, *err = NULL;
  int rc = tc_run(e, e->hist, NULL, NULL, ARGS("list", "--limit", "0", "--json"), &out, &err);
  tu_expect_exit(rc, 0, "list --json", err);
  int n = 0;
  char *all = tc_json_ids(out, &n); /* also: no row has a body */
  assert_int_equal(n, e->hist_rows);
  cJSON *arr = cJSON_Parse(out);
  static const char *const fields[] = {
    "id", "started_at", "method", "url", "host", "path", "status", "error", "duration_ms",
    "timing", "key", "attempt", "retry_of", "source", "request_headers", "response_headers",
    "request_size", "response_size", "request_truncated", "response_truncated",
    "content_type", "http_version", "remote_ip", "error_message", "error_fields", NULL};
  const cJSON *row;
  cJSON_ArrayForEach(row, arr)
    for (int i = 0; fields[i]; i++)
      assert_non_null(cJSON_GetObjectItemCaseSensitive(row, fields[i]));
  cJSON_Delete(arr);
  tu_free2(&out, &err);
  sqlite3 *s = tu_db(e->hist);
  int sn = 0;
  char *want = tc_sql_ids(s, "1", 1, &sn);
  assert_string_equal(all, want);
  free(want);
  printf("checked: list --limit 0 --json: a JSON array of all %d rows newest first, every "
         "row-model field present, no request_body/response_body\n", n);

  /* pages of 7 with --before cover every row once, in order */
  size_t cap = strlen(all) + 2;
  char *paged = calloc(1, cap), before[32] = "";
  int pages = 0;
  for (;;) {
    const char *a[] = {"list", "--limit", "7", "--json", before[0] ? "--before" : NULL,
                       before, NULL};
    rc = tc_run(e, e->hist, NULL, NULL, a, &out, &err);
    tu_expect_exit(rc, 0, "list --before", err);
    int pn = 0;
    char *ids = tc_json_ids(out, &pn);
    tu_free2(&out, &err);
    if (pn == 0) {
      free(ids);
      break;
    }
    assert_true(pn <= 7);
    pages++;
    assert_true(strlen(paged) + strlen(ids) + 2 <= cap); /* no row twice */
    if (paged[0])
      strcat(paged, ",");
    strcat(paged, ids);
    const char *last = strrchr(ids, ',');
    snprintf(before, sizeof before, "%s", last ? last + 1 : ids);
    free(ids);
  }
  assert_string_equal(paged, all);
  free(paged);
  printf("checked: --limit 7 --before ID: %d pages cover all rows once, newest first\n",
         pages);

  /* paging with a filter */
  rc = tc_run(e, e->hist, NULL, NULL, ARGS("list", "--status", "2xx", "--limit", "4", "--json"),
              &out, &err);
  tu_expect_exit(rc, 0, "list 2xx page 1", err);
  int pn = 0;
  char *p1 = tc_json_ids(out, &pn);
  assert_int_equal(pn, 4);
  tu_free2(&out, &err);
  rc = tc_run(e, e->hist, NULL, NULL, ARGS("list", "--status", "2xx", "--limit", "4", "--json",
                                           "--before", strrchr(p1, ',') + 1), &out, &err);
  tu_expect_exit(rc, 0, "list 2xx page 2", err);
  char *p2 = tc_json_ids(out, &pn);
  tu_free2(&out, &err);
  char *w = tu_textf(s, "SELECT group_concat(id, ',') FROM (SELECT id FROM calls WHERE status "
                        "BETWEEN 200 AND 299 ORDER BY id DESC LIMIT 8)");
  char both[256];
  snprintf(both, sizeof both, "%s,%s", p1, p2);
  assert_string_equal(both, w);
  free(w);
  free(p1);
  free(p2);
  printf("checked: --status 2xx --limit 4, then --before the last id: the 8 newest 2xx "
         "rows as SQL gives them\n");

  /* the table: a header line, one line per row, the next page on stderr */
  rc = tc_run(e, e->hist, NULL, NULL, ARGS("list", "--limit", "3"), &out, &err);
  tu_expect_exit(rc, 0, "list table", err);
  char *nl = strchr(out, '\n');
  assert_non_null(nl);
  char *header = strndup(out, (size_t)(nl - out));
  const char *h = header + strspn(header, " ");
  assert_int_equal(strncmp(h, "ID", 2), 0);
  tu_expect_has(header, "METHOD", "table header");
  tu_expect_has(header, "STATUS", "table header");
  tu_expect_has(header, "PATH", "table header");
  int lines = 0;
  int64_t first_ids[3] = {0};
  for (char *p = nl + 1; *p; p = strchr(p, '\n') + 1) {
    assert_true(lines < 3);
    first_ids[lines++] = strtoll(p, NULL, 10);
  }
  assert_int_equal(lines, 3);
  char *top3 = tu_textf(s, "SELECT group_concat(id, ',') FROM (SELECT id FROM calls ORDER BY id "
                           "DESC LIMIT 3)");
  char got3[96];
  snprintf(got3, sizeof got3, "%" PRId64 ",%" PRId64 ",%" PRId64, first_ids[0], first_ids[1],
           first_ids[2]);
  assert_string_equal(got3, top3);
  char more[64];
  snprintf(more, sizeof more, "--before %" PRId64, first_ids[2]);
  tu_expect_has(err, more, "table's next-page hint");
  printf("checked: list --limit 3 table: header '%s', 3 rows %s, stderr points to '%s'\n",
         h, got3, more);
  free(top3);
  free(header);
  tu_free2(&out, &err);
  rc = tc_run(e, e->hist, NULL, NULL, ARGS("list", "--limit", "0", "--status", "599"), &out, &err);
  tu_expect_exit(rc, 0, "list no match", err);
  assert_string_equal(out, "");
  tu_expect_has(err, "no calls match", "empty table");
  tu_free2(&out, &err);
  rc = tc_run(e, e->hist, NULL, NULL, ARGS("list", "--limit", "-1"), &out, &err);
  tu_expect_exit(rc, 2, "list --limit -1", err);
  tu_expect_has(err, "--limit", "--limit named");
  tu_free2(&out, &err);
  rc = tc_run(e, e->hist, NULL, NULL, ARGS("list", "--before", "x"), &out, &err);
  tu_expect_exit(rc, 2, "list --before x", err);
  tu_expect_has(err, "--before", "--before named");
  tu_free2(&out, &err);
  printf("checked: no match: empty stdout, 'no calls match' on stderr, exit 0; --limit -1 "
         "and --before x exit 2 naming the option\n");
  free(all);
  sqlite3_close(s);
}

/* ------------------------------------------------------------------ show */

static void test_show(void **state) {
  tc_env *e = *state;
  tc_history(e);
  char *out = NULL, *err = NULL;
  int rc = tc_run(e, e->hist, NULL, NULL, ARGS("list", "--limit", "0", "--json"), &out, &err);
  tu_expect_exit(rc, 0, "list --json", err);
  cJSON *arr = cJSON_Parse(out);
  tu_free2(&out, &err);
  sqlite3 *s = tu_db(e->hist);
  int n = 0, text_bodies = 0, blobs = 0;
  const cJSON *row;
  cJSON_ArrayForEach(row, arr) {
    int64_t id = tu_jint(row, "id");
    cJSON *full = cJSON_Duplicate(tc_show_row(e, id), 1);
    cJSON *rq = cJSON_DetachItemFromObjectCaseSensitive(full, "request_body");
    cJSON *rs = cJSON_DetachItemFromObjectCaseSensitive(full, "response_body");
    assert_non_null(rq);
    assert_non_null(rs);
    if (!cJSON_Compare(row, full, 1)) {
      char *a = cJSON_PrintUnformatted(row), *b = cJSON_PrintUnformatted(full);
      fprintf(stderr, "list row:  %s\nshow row:  %s\n", a, b);
      free(a);
      free(b);
    }
    assert_true(cJSON_Compare(row, full, 1));
    /* the bodies are the stored ones */
    const cJSON *bodies[2] = {rq, rs};
    static const char *const cols[2] = {"reqlog_unpack(packed, request_body)",
                                        "reqlog_unpack(packed, response_body)"};
    for (int k = 0; k < 2; k++) {
      char *type = tu_textf(s, "SELECT typeof(%s) FROM calls WHERE id = %" PRId64, cols[k], id);
      if (strcmp(type, "null") == 0) {
        assert_true(cJSON_IsNull(bodies[k]));
      } else if (strcmp(type, "blob") != 0) { /* text (numbers: see test_numeric_bodies) */
        char *v = tu_textf(s, "SELECT %s FROM calls WHERE id = %" PRId64, cols[k], id);
        assert_true(cJSON_IsString(bodies[k]));
        assert_string_equal(bodies[k]->valuestring, v);
        free(v);
        text_bodies++;
      } else {
        char *hex = tu_textf(s, "SELECT hex(%s) FROM calls WHERE id = %" PRId64, cols[k], id);
        size_t hl = strlen(hex);
        unsigned char *bin = malloc(hl / 2 + 1);
        for (size_t j = 0; j < hl / 2; j++) {
          unsigned v = 0;
          sscanf(hex + 2 * j, "%2x", &v);
          bin[j] = (unsigned char)v;
        }
        char *enc = tu_base64(bin, hl / 2);
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(bodies[k], "base64");
        assert_true(cJSON_IsString(b));
        assert_string_equal(b->valuestring, enc);
        free(enc);
        free(bin);
        free(hex);
        blobs++;
      }
      free(type);
    }
    cJSON_Delete(rq);
    cJSON_Delete(rs);
    cJSON_Delete(full);
    n++;
  }
  cJSON_Delete(arr);
  assert_int_equal(n, e->hist_rows);
  assert_true(blobs > 0);
  printf("checked: show ID --json for all %d rows equals the list --json row plus "
         "request_body/response_body, which equal the stored bodies (%d text, %d binary "
         "as base64)\n", n, text_bodies, blobs);

  int64_t id422 = tu_int(s, "SELECT max(id) FROM calls WHERE status = 422");
  char idtext[32];
  snprintf(idtext, sizeof idtext, "%" PRId64, id422);
  rc = tc_run(e, e->hist, NULL, NULL, ARGS("show", idtext), &out, &err);
  tu_expect_exit(rc, 0, "show 422", err);
  tu_expect_has(out, "The given data was invalid.", "show text message");
  tu_expect_has(out, "email", "show text field");
  tu_free2(&out, &err);
  sqlite3_close(s);

  rc = tc_run(e, e->hist, NULL, NULL, ARGS("show", "999999"), &out, &err);
  tu_expect_exit(rc, 5, "show 999999", err);
  tu_expect_has(err, "999999", "show 999999 names the id");
  assert_string_equal(out, "");
  tu_free2(&out, &err);
  rc = tc_run(e, e->hist, NULL, NULL, ARGS("show", "999999", "--json"), &out, &err);
  tu_expect_exit(rc, 5, "show 999999 --json", err);
  tu_free2(&out, &err);
  rc = tc_run(e, e->hist, NULL, NULL, ARGS("show", "abc"), &out, &err);
  tu_expect_exit(rc, 2, "show abc", err);
  tu_expect_has(err, "abc", "show abc names the value");
  tu_free2(&out, &err);
  rc = tc_run(e, e->hist, NULL, NULL, ARGS("show"), &out, &err);
  tu_expect_exit(rc, 2, "show without id", err);
  tu_free2(&out, &err);
  printf("checked: show (text) of the 422 has its message and field; show 999999 exits 5 "
         "naming the id; show abc and show without an id exit 2\n");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_list_output),
    cmocka_unit_test(test_show),
  };
  return cmocka_run_group_tests(tests, tc_setup, tc_teardown);
}
