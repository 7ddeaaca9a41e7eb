/* test_cli_stored.c: what `reqlog call` keeps on disk, read back from the raw database
 * files and through show, list and export.
 *
 * Plan:
 *   secrets        a key (env and --key-file), a cookie and a password sent through
 *                  `call` are in none of the raw database files nor in show/export output
 *   numeric bodies a body that looks like a number ("1e3", "007", "-1.50") is kept as
 *                  sent, not rewritten as another number
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

/* ------------------------------------------------------------------ secrets */

static void test_secrets(void **state) {
  tc_env *e = *state;
  char *db = tu_path(e->dir, "secrets.db"), *out = NULL, *err = NULL;
  int rc = tc_run(e, db, FAKEAPI_KEY, NULL,
                  ARGS("call", "POST", "/echo", "-H", "Cookie: sid=CLICOOKIESECRET",
                       "-H", "X-Api-Key: CLIXAPISECRET", "-d", "{\"password\":\"CLIPWSECRET\"}"),
                  &out, &err);
  tu_expect_exit(rc, 0, "POST /echo with secrets", err);
  /* the call itself carried them: redaction happens on the way to disk */
  tu_expect_has(out, "CLIPWSECRET", "echo");
  tu_expect_has(out, "CLICOOKIESECRET", "echo");
  tu_free2(&out, &err);
  char *kf = tu_path(e->dir, "secret-key");
  tu_write_file(kf, FAKEAPI_KEY2 "\n", 0600);
  rc = tc_run(e, db, NULL, NULL, ARGS("call", "--key-file", kf, "GET", "/echo?token=CLIQSECRET"),
              &out, &err);
  tu_expect_exit(rc, 0, "--key-file echo", err);
  tu_free2(&out, &err);
  free(kf);

  static const char *const secrets[] = {FAKEAPI_KEY, FAKEAPI_KEY2, "CLICOOKIESECRET",
                                        "CLIXAPISECRET", "CLIPWSECRET", "CLIQSECRET", NULL};
  int leaks = 0;
  for (int i = 0; secrets[i]; i++)
    leaks += tu_db_files_contain(db, secrets[i]);
  assert_int_equal(leaks, 0);
  /* the check can fail: what is kept instead is there */
  char *wal = NULL;
  assert_true(asprintf(&wal, "%s-wal", db) > 0);
  assert_true(tu_file_contains(db, e->fp1) || tu_file_contains(wal, e->fp1));
  assert_true(tu_history_contains(db, "[REDACTED]"));
  free(wal);

  /* and nothing a user would attach to a ticket has them either */
  const char *const *reads[] = {ARGS("show", "1", "--json"), ARGS("show", "2"),
                                ARGS("export", "--format", "csv", "--bodies"),
                                ARGS("export", "--format", "ndjson"),
                                ARGS("list", "--json")};
  for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
    rc = tc_run(e, db, NULL, NULL, reads[i], &out, &err);
    tu_expect_exit(rc, 0, reads[i][0], err);
    for (int k = 0; secrets[k]; k++) {
      if (strstr(out, secrets[k]))
        fprintf(stderr, "SECRET in `%s` output: %s\n", reads[i][0], secrets[k]);
      assert_null(strstr(out, secrets[k]));
    }
    tu_free2(&out, &err);
  }
  printf("checked: a key from REQLOG_API_KEY and from --key-file, a Cookie, an X-Api-Key, "
         "a JSON password and a token query parameter sent with `reqlog call` are in none "
         "of the raw database files, nor in show, list or export output; the fingerprint "
         "and [REDACTED] are\n");
  free(db);
}

/* ------------------------------------------------------------------ stored bodies */

/* A body is kept as sent: text that looks like a number must not come back as another
 * number ("1e3" as "1000", "007" as "7", "-1.50" as "-1.5"). */
static void test_numeric_bodies(void **state) {
  tc_env *e = *state;
  char *db = tu_path(e->dir, "numbers.db"), *out = NULL, *err = NULL;
  static const struct {
    const char *body;
    int plain; /* sent as text/plain (not JSON) */
  } bodies[] = {{"1e3", 0}, {"-1.50", 0}, {"007", 1}, {"12345678901234567890", 0},
                {"42", 0}};
  size_t n = sizeof bodies / sizeof bodies[0];
  int bad = 0;
  for (size_t i = 0; i < n; i++) {
    const char *const plain[] = {"call", "-H", "Content-Type: text/plain", "POST", "/echo",
                                 "-d", bodies[i].body, NULL};
    const char *const json[] = {"call", "POST", "/echo", "-d", bodies[i].body, NULL};
    int rc = tc_run(e, db, FAKEAPI_KEY, NULL, bodies[i].plain ? plain : json, &out, &err);
    tu_expect_exit(rc, 0, bodies[i].body, err);
    int64_t id = tc_recorded_id(err);
    tu_free2(&out, &err);
    char idtext[32];
    snprintf(idtext, sizeof idtext, "%" PRId64, id);
    rc = tc_run(e, db, NULL, NULL, ARGS("show", idtext, "--json"), &out, &err);
    tu_expect_exit(rc, 0, "show", err);
    cJSON *row = cJSON_Parse(out);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(row, "request_body");
    const char *got = cJSON_IsString(b) ? b->valuestring : "(not a string)";
    int same = strcmp(got, bodies[i].body) == 0;
    printf("%s: -d '%s' (%s) is stored and shown as '%s'\n", same ? "checked" : "MISMATCH",
           bodies[i].body, bodies[i].plain ? "text/plain" : "JSON", got);
    bad += !same;
    cJSON_Delete(row);
    tu_free2(&out, &err);
  }
  sqlite3 *s = tu_db(db);
  int64_t numeric = tu_int(s, "SELECT count(*) FROM calls WHERE typeof(request_body) IN "
                              "('integer', 'real')");
  sqlite3_close(s);
  if (bad)
    fprintf(stderr, "BUG: %d of %zu request bodies changed on the way to disk; %" PRId64
            " are stored as SQLite numbers (the body columns are declared ANY in a table "
            "that is not STRICT, so they get NUMERIC affinity)\n", bad, n, numeric);
  free(db);
  assert_int_equal(bad, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_secrets),
    cmocka_unit_test(test_numeric_bodies),
  };
  return cmocka_run_group_tests(tests, tc_setup, tc_teardown);
}
