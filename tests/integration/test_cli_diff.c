/* test_cli_diff.c: `reqlog diff A B` on calls recorded by `reqlog call` against the fake
 * API: exit codes, the --json shape, volatile values, --ignore / --keep, `prev`.
 *
 * Plan:
 *   equal_calls    the same GET twice: exit 0, "equal" true, the Date and rate-limit
 *                  headers reported as ignored (volatile), timing side by side
 *   different      two participants: exit 1; --json names the changed body paths with
 *                  both values; the readable output marks them; --ignore of those
 *                  paths (and the URL) makes them equal (0); --keep brings a volatile
 *                  header back as a difference (1)
 *   text_bodies    two POSTs with text bodies: a line diff
 *   prev           ID prev compares with the call before it to the same endpoint (the
 *                  older as A); the first call has none: 5
 *   usage          one id, three ids, a bad id, an unknown option: 2; an unknown id: 5
 *                  naming it; a missing database: 4; --help: 0 and the exit codes
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

/* Records `call ARGS` into DB, returns the row id. */
static int64_t record(tc_env *e, const char *db, const char *const *args) {
  char *out = NULL, *err = NULL;
  int rc = tc_run(e, db, FAKEAPI_KEY, NULL, args, &out, &err);
  int64_t id = tc_recorded_id(err);
  if (id <= 0)
    fprintf(stderr, "call: rc %d, stderr: %s\n", rc, err);
  assert_true(id > 0);
  tu_free2(&out, &err);
  return id;
}

/* `diff ARGS --json` parsed; *rc gets the exit code. */
static cJSON *diff_json(tc_env *e, const char *db, const char *const *args, int *rc) {
  char *out = NULL, *err = NULL;
  *rc = tc_run(e, db, NULL, NULL, args, &out, &err);
  cJSON *d = cJSON_Parse(out);
  if (!d)
    fprintf(stderr, "diff --json: rc %d, stdout: %.300s, stderr: %s\n", *rc, out, err);
  assert_non_null(d);
  tu_free2(&out, &err);
  return d;
}

static const cJSON *entry_at(const cJSON *list, const char *path) {
  const cJSON *x;
  cJSON_ArrayForEach(x, list) {
    if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(x, "path")), path) == 0)
      return x;
  }
  return NULL;
}

typedef struct {
  char *db;
  int64_t one_a, one_b, two, text_a, text_b;
} fixture;

static fixture fx;

static void make_fixture(tc_env *e) {
  if (fx.db)
    return;
  fx.db = tu_path(e->dir, "diff.db");
  fx.one_a = record(e, fx.db, ARGS("call", "GET", "/participants/1"));
  fx.one_b = record(e, fx.db, ARGS("call", "GET", "/participants/1"));
  fx.two = record(e, fx.db, ARGS("call", "GET", "/participants/2"));
  fx.text_a = record(e, fx.db, ARGS("call", "POST", "/echo", "-H", "Content-Type: text/plain",
                                    "-d", "alpha\nbeta\ngamma\n"));
  fx.text_b = record(e, fx.db, ARGS("call", "POST", "/echo", "-H", "Content-Type: text/plain",
                                    "-d", "alpha\nBETA\ngamma\n"));
}

static char *id_text(int64_t id) {
  static char buf[4][24];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%" PRId64, id);
  return buf[k];
}

/* ------------------------------------------------------------------ tests */

static void equal_calls(void **state) {
  tc_env *e = *state;
  make_fixture(e);
  int rc = 0;
  cJSON *d = diff_json(e, fx.db, ARGS("diff", id_text(fx.one_a), id_text(fx.one_b), "--json"), &rc);
  assert_int_equal(rc, 0);
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(d, "equal")));
  assert_int_equal(cJSON_GetObjectItem(d, "differences")->valueint, 0);
  assert_true(cJSON_GetObjectItem(d, "ignored")->valueint >= 1);
  /* the shape: both sides, the fields, timing, headers and bodies */
  assert_int_equal((int64_t)cJSON_GetObjectItem(cJSON_GetObjectItem(d, "a"), "id")->valuedouble,
                   fx.one_a);
  assert_int_equal((int64_t)cJSON_GetObjectItem(cJSON_GetObjectItem(d, "b"), "id")->valuedouble,
                   fx.one_b);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(d, "fields")), 4);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(d, "timing")), 6);
  const cJSON *rl = entry_at(cJSON_GetObjectItem(d, "response_headers"),
                             "response.headers.x-ratelimit-remaining");
  assert_non_null(rl);
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(rl, "state")), "changed");
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(rl, "ignored")), "volatile header");
  assert_non_null(entry_at(cJSON_GetObjectItem(d, "response_headers"), "response.headers.date"));
  const cJSON *body = cJSON_GetObjectItem(d, "response_body");
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(body, "kind")), "json");
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(body, "changes")), 0);
  cJSON_Delete(d);

  char *out = NULL, *err = NULL;
  rc = tc_run(e, fx.db, NULL, NULL, ARGS("diff", id_text(fx.one_a), id_text(fx.one_b)), &out, &err);
  tu_expect_exit(rc, 0, "diff of equal calls", err);
  tu_expect_has(out, "equal", "readable diff");
  tu_expect_has(out, "(ignored: volatile header)", "readable diff");
  tu_expect_has(out, "Timing (ms, not compared)", "readable diff");
  tu_free2(&out, &err);
}

static void different(void **state) {
  tc_env *e = *state;
  make_fixture(e);
  int rc = 0;
  cJSON *d = diff_json(e, fx.db, ARGS("diff", id_text(fx.one_a), id_text(fx.two), "--json"), &rc);
  assert_int_equal(rc, 1);
  assert_false(cJSON_IsTrue(cJSON_GetObjectItem(d, "equal")));
  const cJSON *changes = cJSON_GetObjectItem(cJSON_GetObjectItem(d, "response_body"), "changes");
  const cJSON *first = entry_at(changes, "response.body.first_name");
  assert_non_null(first);
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(first, "state")), "changed");
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(first, "a")), "Olivia");
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(first, "ignored")));
  const cJSON *id = entry_at(changes, "response.body.id");
  assert_int_equal(cJSON_GetObjectItem(id, "a")->valueint, 1);
  assert_int_equal(cJSON_GetObjectItem(id, "b")->valueint, 2);
  const cJSON *url = entry_at(cJSON_GetObjectItem(d, "fields"), "url");
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(url, "state")), "changed");
  int diffs = cJSON_GetObjectItem(d, "differences")->valueint;
  assert_true(diffs >= 4);
  cJSON_Delete(d);

  char *out = NULL, *err = NULL;
  rc = tc_run(e, fx.db, NULL, NULL, ARGS("diff", id_text(fx.one_a), id_text(fx.two)), &out, &err);
  tu_expect_exit(rc, 1, "diff of two participants", err);
  tu_expect_has(out, "~ response.body.first_name", "readable diff");
  tu_expect_has(out, "different", "readable diff");
  tu_free2(&out, &err);

  /* the differing paths ignored: equal; the ignored ones are still reported */
  d = diff_json(e, fx.db, ARGS("diff", id_text(fx.one_a), id_text(fx.two), "--json", "--ignore",
                               "url,response.body", "--ignore", "Content-Length"), &rc);
  assert_int_equal(rc, 0);
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(d, "equal")));
  first = entry_at(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "response_body"), "changes"),
                   "response.body.first_name");
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(first, "ignored")),
                      "ignored by request");
  cJSON_Delete(d);

  /* --keep: a volatile header counts again */
  d = diff_json(e, fx.db, ARGS("diff", id_text(fx.one_a), id_text(fx.one_b), "--json", "--keep",
                               "x-ratelimit-remaining"), &rc);
  assert_int_equal(rc, 1);
  assert_int_equal(cJSON_GetObjectItem(d, "differences")->valueint, 1);
  cJSON_Delete(d);
}

static void text_bodies(void **state) {
  tc_env *e = *state;
  make_fixture(e);
  int rc = 0;
  cJSON *d = diff_json(e, fx.db, ARGS("diff", id_text(fx.text_a), id_text(fx.text_b), "--json"), &rc);
  assert_int_equal(rc, 1);
  const cJSON *rq = cJSON_GetObjectItem(d, "request_body");
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(rq, "kind")), "text");
  assert_int_equal(cJSON_GetObjectItem(rq, "differences")->valueint, 2);
  const cJSON *l, *removed = NULL, *added = NULL;
  cJSON_ArrayForEach(l, cJSON_GetObjectItem(rq, "lines")) {
    const char *op = cJSON_GetStringValue(cJSON_GetObjectItem(l, "op"));
    if (strcmp(op, "removed") == 0)
      removed = l;
    if (strcmp(op, "added") == 0)
      added = l;
  }
  assert_non_null(removed);
  assert_non_null(added);
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(removed, "text")), "beta");
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(added, "text")), "BETA");
  assert_int_equal(cJSON_GetObjectItem(added, "b")->valueint, 2);
  cJSON_Delete(d);
  char *out = NULL, *err = NULL;
  rc = tc_run(e, fx.db, NULL, NULL, ARGS("diff", id_text(fx.text_a), id_text(fx.text_b)), &out, &err);
  tu_expect_exit(rc, 1, "diff of text bodies", err);
  tu_expect_has(out, "- beta\n+ BETA\n", "readable line diff");
  tu_free2(&out, &err);
}

static void prev(void **state) {
  tc_env *e = *state;
  make_fixture(e);
  int rc = 0;
  cJSON *d = diff_json(e, fx.db, ARGS("diff", id_text(fx.one_b), "prev", "--json"), &rc);
  assert_int_equal(rc, 0);
  assert_int_equal((int64_t)cJSON_GetObjectItem(cJSON_GetObjectItem(d, "a"), "id")->valuedouble,
                   fx.one_a);
  assert_int_equal((int64_t)cJSON_GetObjectItem(cJSON_GetObjectItem(d, "b"), "id")->valuedouble,
                   fx.one_b);
  cJSON_Delete(d);
  char *out = NULL, *err = NULL;
  /* /participants/2 was called once: /participants/1 is another endpoint */
  rc = tc_run(e, fx.db, NULL, NULL, ARGS("diff", id_text(fx.two), "prev"), &out, &err);
  tu_expect_exit(rc, 5, "diff prev of a first call", err);
  tu_expect_has(err, "no call to GET /public/v1/participants/2 before", "the message");
  assert_string_equal(out, "");
  tu_free2(&out, &err);
}

static void usage(void **state) {
  tc_env *e = *state;
  make_fixture(e);
  const struct {
    const char *const *args;
    int rc;
    const char *says;
  } cases[] = {
    {ARGS("diff", "1"), 2, "expected two call IDs"},
    {ARGS("diff", "1", "2", "3"), 2, "expected two call IDs"},
    {ARGS("diff", "1", "x"), 2, "ID: 'x' is not a whole number"},
    {ARGS("diff", "0", "1"), 2, "ID: '0'"},
    {ARGS("diff", "1", "2", "--bogus"), 2, "--bogus"},
    {ARGS("diff", "1", "999999"), 5, "no call with id 999999"},
    {ARGS("diff", "999998", "1"), 5, "no call with id 999998"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *out = NULL, *err = NULL;
    int rc = tc_run(e, fx.db, NULL, NULL, cases[i].args, &out, &err);
    tu_expect_exit(rc, cases[i].rc, cases[i].says, err);
    tu_expect_has(err, cases[i].says, "the message");
    tu_free2(&out, &err);
  }
  char *missing = tu_path(e->dir, "absent.db"), *out = NULL, *err = NULL;
  int rc = tc_run(e, missing, NULL, NULL, ARGS("diff", "1", "2"), &out, &err);
  tu_expect_exit(rc, 4, "diff on a missing database", err);
  tu_free2(&out, &err);
  free(missing);
  rc = tc_run(e, fx.db, NULL, NULL, ARGS("diff", "--help"), &out, &err);
  tu_expect_exit(rc, 0, "diff --help", err);
  tu_expect_has(out, "Exit: 0 the two calls are equal", "help");
  tu_expect_has(out, "5 no call with one of the ids", "help");
  tu_free2(&out, &err);
}

static int teardown(void **state) {
  free(fx.db);
  fx.db = NULL;
  return tc_teardown(state);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(equal_calls), cmocka_unit_test(different), cmocka_unit_test(text_bodies),
    cmocka_unit_test(prev),        cmocka_unit_test(usage),
  };
  return cmocka_run_group_tests(tests, tc_setup, teardown);
}
