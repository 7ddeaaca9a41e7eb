/* test_cli_request_id.c: the API's request id (X-Request-Id, which the fake API sends)
 * recorded by `reqlog call` and read back by show, list, export and the request-id
 * filter; the list of headers from --request-id-headers and REQLOG_REQUEST_ID_HEADERS;
 * a history from before the column filled by its upgrade (schema/005_request_id.sql).
 *
 * Plan:
 *   recorded     show --json's request_id is the call's X-Request-Id; list --request-id
 *                finds exactly that call; the table has a REQUEST ID column; CSV ends
 *                with request_id; a call without response (transport error) has none
 *   header_list  --request-id-headers and REQLOG_REQUEST_ID_HEADERS pick another
 *                header; a bad list is exit 2 (flag) or a warning and the default (env)
 *   upgrade      a history at schema 4 (the column dropped, its version set back) whose
 *                rows carry X-Request-Id / Request-Id / a redacted one: opened by a
 *                reading command, it is upgraded and the rows read back with the ids
 *                the default list picks
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

static char *header_value(const cJSON *row, const char *want) {
  const cJSON *h;
  cJSON_ArrayForEach(h, cJSON_GetObjectItem(row, "response_headers")) {
    const char *name = cJSON_GetStringValue(cJSON_GetArrayItem(h, 0));
    if (name && strcasecmp(name, want) == 0)
      return cJSON_GetStringValue(cJSON_GetArrayItem(h, 1));
  }
  return NULL;
}

static cJSON *show(tc_env *e, const char *db, int64_t id) {
  char ids[24], *out = NULL, *err = NULL;
  snprintf(ids, sizeof ids, "%" PRId64, id);
  int rc = tc_run(e, db, NULL, NULL, ARGS("show", ids, "--json"), &out, &err);
  tu_expect_exit(rc, 0, "show --json", err);
  cJSON *row = cJSON_Parse(out);
  assert_non_null(row);
  tu_free2(&out, &err);
  return row;
}

static int64_t record_env(tc_env *e, const char *db, const char *env, const char *const *args) {
  char *out = NULL, *err = NULL;
  tc_run_env(e, db, FAKEAPI_KEY, NULL, env, args, &out, &err);
  int64_t id = tc_recorded_id(err);
  if (id <= 0)
    fprintf(stderr, "call: %s\n", err);
  assert_true(id > 0);
  tu_free2(&out, &err);
  return id;
}

static void recorded(void **state) {
  tc_env *e = *state;
  char *db = tu_path(e->dir, "reqid.db"), *out = NULL, *err = NULL;
  int64_t a = record_env(e, db, NULL, ARGS("call", "GET", "/participants/1"));
  int64_t b = record_env(e, db, NULL, ARGS("call", "GET", "/participants/2"));
  cJSON *ra = show(e, db, a), *rb = show(e, db, b);
  const char *ida = cJSON_GetStringValue(cJSON_GetObjectItem(ra, "request_id"));
  assert_non_null(ida);
  assert_string_equal(ida, header_value(ra, "X-Request-Id"));
  const char *idb = cJSON_GetStringValue(cJSON_GetObjectItem(rb, "request_id"));
  assert_non_null(idb);
  assert_string_not_equal(ida, idb);

  int rc = tc_run(e, db, NULL, NULL, ARGS("list", "--request-id", ida, "--json"), &out, &err);
  tu_expect_exit(rc, 0, "list --request-id", err);
  int n = 0;
  char *ids = tc_json_ids(out, &n);
  char want[32];
  snprintf(want, sizeof want, "%" PRId64, a);
  assert_string_equal(ids, want);
  free(ids);
  tu_free2(&out, &err);

  rc = tc_run(e, db, NULL, NULL, ARGS("list"), &out, &err);
  tu_expect_exit(rc, 0, "list", err);
  tu_expect_has(out, "REQUEST ID", "list table header");
  tu_expect_has(out, idb, "list table row");
  tu_free2(&out, &err);

  rc = tc_run(e, db, NULL, NULL, ARGS("show", want), &out, &err);
  tu_expect_exit(rc, 0, "show", err);
  tu_expect_has(out, "request id", "show");
  tu_expect_has(out, ida, "show");
  tu_free2(&out, &err);

  rc = tc_run(e, db, NULL, NULL, ARGS("export", "--format", "csv"), &out, &err);
  tu_expect_exit(rc, 0, "export csv", err);
  tu_expect_has(out, ",origin,request_id,tags,note\r\n", "CSV header");
  char line_end[96];
  snprintf(line_end, sizeof line_end, ",%s,,\r\n", ida);
  tu_expect_has(out, line_end, "CSV row: the request id before the (empty) tags and note");
  tu_free2(&out, &err);

  rc = tc_run(e, db, NULL, NULL, ARGS("list", "--request-id", "no-such-id", "--json"), &out, &err);
  tu_expect_exit(rc, 0, "list --request-id no-such-id", err);
  assert_string_equal(out, "[]\n");
  tu_free2(&out, &err);
  rc = tc_run(e, db, NULL, NULL, ARGS("list", "--request-id", ""), &out, &err);
  tu_expect_exit(rc, 2, "list --request-id ''", err);
  tu_expect_has(err, "request_id", "the message names the filter");
  tu_free2(&out, &err);
  cJSON_Delete(ra);
  cJSON_Delete(rb);
  free(db);
}

static void header_list(void **state) {
  tc_env *e = *state;
  char *db = tu_path(e->dir, "reqid-list.db"), *out = NULL, *err = NULL;
  int64_t a = record_env(e, db, NULL, ARGS("--request-id-headers", "X-Missing, X-RateLimit-Limit",
                                          "call", "GET", "/participants/1"));
  int64_t b = record_env(e, db, "REQLOG_REQUEST_ID_HEADERS=x-ratelimit-remaining",
                         ARGS("call", "GET", "/participants/1"));
  int64_t c = record_env(e, db, "REQLOG_REQUEST_ID_HEADERS=not a list",
                         ARGS("call", "GET", "/participants/1"));
  cJSON *ra = show(e, db, a), *rb = show(e, db, b), *rc_ = show(e, db, c);
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(ra, "request_id")),
                      header_value(ra, "X-RateLimit-Limit"));
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(rb, "request_id")),
                      header_value(rb, "X-RateLimit-Remaining"));
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(rc_, "request_id")),
                      header_value(rc_, "X-Request-Id"));
  cJSON_Delete(ra);
  cJSON_Delete(rb);
  cJSON_Delete(rc_);
  /* the bad environment value is said */
  int rc = tc_run_env(e, db, FAKEAPI_KEY, NULL, "REQLOG_REQUEST_ID_HEADERS=not a list",
                      ARGS("call", "GET", "/participants/1"), &out, &err);
  tu_expect_exit(rc, 0, "call with a bad REQLOG_REQUEST_ID_HEADERS", err);
  tu_expect_has(err, "ignoring REQLOG_REQUEST_ID_HEADERS", "the warning");
  tu_free2(&out, &err);
  rc = tc_run(e, db, FAKEAPI_KEY, NULL,
              ARGS("--request-id-headers", "a b", "call", "GET", "/participants/1"), &out, &err);
  tu_expect_exit(rc, 2, "--request-id-headers 'a b'", err);
  tu_expect_has(err, "--request-id-headers", "the message");
  tu_free2(&out, &err);
  free(db);
}

static void upgrade(void **state) {
  tc_env *e = *state;
  char *db = tu_path(e->dir, "reqid-old.db"), *out = NULL, *err = NULL;
  record_env(e, db, NULL, ARGS("call", "GET", "/participants/1"));
  record_env(e, db, NULL, ARGS("call", "GET", "/participants/2"));
  record_env(e, db, NULL, ARGS("call", "GET", "/participants/3"));
  /* back to schema 4 (004_compact.sql the last): what 005 (request_id) and the migrations
   * after it add is taken out; the stored headers say what to find (plain text: a packed
   * history keeps text values it did not shrink as they are) */
  sqlite3 *s = tu_db(db);
  tu_exec(s, "DROP INDEX calls_request_id");
  tu_exec(s, "ALTER TABLE calls DROP COLUMN request_id");
  tu_exec(s, "DROP TABLE call_notes");
  tu_exec(s, "DROP TABLE call_tags");
  tu_exec(s, "DROP INDEX calls_replay_of");
  tu_exec(s, "ALTER TABLE calls DROP COLUMN replay_of");
  tu_exec(s, "UPDATE calls SET response_headers = "
             "'[[\"Date\",\"x\"],[\"Request-Id\",\"second\"],[\"X-Request-Id\",\"first\"]]' WHERE id = 1");
  tu_exec(s, "UPDATE calls SET response_headers = '[[\"request-id\",\"only-this\"]]' WHERE id = 2");
  tu_exec(s, "UPDATE calls SET response_headers = '[[\"X-Request-Id\",\"[REDACTED]\"]]' WHERE id = 3");
  tu_exec(s, "PRAGMA user_version = 4");
  sqlite3_close(s);

  int rc = tc_run(e, db, NULL, NULL, ARGS("export", "--format", "csv"), &out, &err);
  tu_expect_exit(rc, 0, "export of an upgraded history", err);
  tu_expect_has(out, ",first,,\r\n", "the default list's order: X-Request-Id first");
  tu_expect_has(out, ",only-this,,\r\n", "Request-Id, any case");
  assert_null(strstr(out, "[REDACTED],,\r\n")); /* a redacted value is no id */
  tu_free2(&out, &err);
  s = tu_db(db);
  char *v = tu_text(s, "PRAGMA user_version");
  assert_true(atoi(v) > 4); /* upgraded (to whatever this build's last migration is) */
  free(v);
  v = tu_text(s, "SELECT count(*) FROM calls WHERE request_id IS NULL");
  assert_string_equal(v, "1");
  free(v);
  sqlite3_close(s);
  free(db);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(recorded),
    cmocka_unit_test(header_list),
    cmocka_unit_test(upgrade),
  };
  return cmocka_run_group_tests(tests, tc_setup, tc_teardown);
}
