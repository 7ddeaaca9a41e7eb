/* test_cli_call.c: `reqlog call` as a black box: the real binary run against the tests'
 * fake API on loopback, recording into a real SQLite file; checks its exit codes, what it
 * prints, and the row it stores, against SQL over that file.
 *
 * Plan:
 *   call           2xx: body on stdout, status line on stderr; 422: the API's message and
 *                  one line per field error; GET /drop and a refused port exit 3 with the
 *                  transport error; no key: 401 "Unauthenticated.", exit 1; -d 'not json'
 *                  exits 2 naming -d; --key/-k/--api-key refused (exit 2, value never
 *                  echoed); --key-file; -d @FILE and -d @- send exactly those bytes; -i
 *                  puts the header block first; every call is a row with source "cli";
 *                  the database file is mode 0600
 *   method named   a lower-case METHOD is sent upper-cased; a METHOD `call` accepts but the
 *                  library refuses (M-SEARCH) is at least named; only a 2xx exits 0
 *   key origin     call with REQLOG_API_KEY to a second fake API (another port) reaches it
 *                  without Authorization (401, no key on the row); to the base URL, with
 *                  it; a call whose connection is refused records the key it carried
 *   schemes        call GET file:///etc/passwd, gopher://..., --base-url gopher://...:
 *                  exit 2 "only http and https", nothing read, sent or recorded
 *   input files    call -d @missing, --key-file missing and import missing.har: exit 4
 *                  with the same "cannot read FILE: ..." wording
 * What call keeps on disk: test_cli_stored.c; the rest of the CLI: test_cli_*.c.
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
#include <sys/stat.h>
#include <unistd.h>

#include "testcli.h"

/* ------------------------------------------------------------------ call */

/* call's stderr ends with "reqlog: call: TEXT" where TEXT is the transport error, which
 * the stored error (curl's code text plus its detail) contains. */
static void check_transport_error(const char *err, const char *stored) {
  const char *p = strstr(err, "reqlog: call: ");
  assert_non_null(p);
  p += 14;
  char *text = strndup(p, strcspn(p, "\n"));
  assert_true(strlen(text) > 5);
  tu_expect_has(stored, text, "stored transport error");
  free(text);
}

static void test_call(void **state) {
  tc_env *e = *state;
  char *db = tu_path(e->dir, "call.db"), *out = NULL, *err = NULL;
  int rc, calls = 0;

  rc = tc_run(e, db, FAKEAPI_KEY, NULL, ARGS("call", "GET", "/participants"), &out, &err);
  tu_expect_exit(rc, 0, "GET /participants", err);
  cJSON *doc = cJSON_Parse(out);
  assert_true(cJSON_IsObject(doc));
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "data")), 5);
  cJSON_Delete(doc);
  assert_int_equal(strncmp(err, "HTTP 200 ", 9), 0);
  assert_null(strstr(out, "HTTP 200"));
  int64_t id = tc_recorded_id(err);
  assert_true(id > 0);
  calls++;
  sqlite3 *s = tu_db(db);
  assert_int_equal(tu_intf(s, "SELECT count(*) FROM calls WHERE id = %" PRId64 " AND status = 200"
                              " AND method = 'GET' AND source = 'cli' AND path = "
                              "'/public/v1/participants'", id), 1);
  char *key = tu_textf(s, "SELECT key FROM calls WHERE id = %" PRId64, id);
  assert_string_equal(key, e->fp1);
  free(key);
  tu_free2(&out, &err);
  printf("checked: call GET /participants: exit 0, the JSON body alone on stdout, "
         "'HTTP 200 ...' on stderr, row #%" PRId64 " with source cli and the key's "
         "fingerprint\n", id);

  rc = tc_run(e, db, FAKEAPI_KEY, NULL, ARGS("call", "POST", "/participants", "-d",
                                             "{\"last_name\":\"Lovelace\"}"), &out, &err);
  tu_expect_exit(rc, 1, "POST /participants invalid", err);
  tu_expect_has(err, "HTTP 422", "422 status line");
  tu_expect_has(err, "error: The given data was invalid.\n", "422 message");
  tu_expect_has(err, "\n  email: The email field is required.\n", "422 email line");
  tu_expect_has(err, "\n  first_name: The first name field is required.\n", "422 first_name");
  doc = cJSON_Parse(out);
  assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "errors")));
  cJSON_Delete(doc);
  id = tc_recorded_id(err);
  calls++;
  char *msg = tu_textf(s, "SELECT error_message FROM calls WHERE id = %" PRId64, id);
  assert_string_equal(msg, "The given data was invalid.");
  free(msg);
  assert_int_equal(tu_intf(s, "SELECT count(*) FROM calls WHERE id = %" PRId64 " AND status = 422 "
                              "AND json_extract(error_fields, '$.email[0]') = "
                              "'The email field is required.'", id), 1);
  tu_free2(&out, &err);
  printf("checked: call POST /participants with an invalid body: exit 1, stderr has "
         "'error: The given data was invalid.' and a line each for email and first_name\n");

  rc = tc_run(e, db, FAKEAPI_KEY, NULL, ARGS("call", "--retries", "0", "GET", "/drop"), &out, &err);
  tu_expect_exit(rc, 3, "GET /drop", err);
  tu_expect_has(err, "no response", "/drop status line");
  assert_string_equal(out, "");
  id = tc_recorded_id(err);
  calls++;
  char *terr = tu_textf(s, "SELECT error FROM calls WHERE id = %" PRId64 " AND status IS NULL", id);
  assert_non_null(terr);
  check_transport_error(err, terr);
  printf("checked: call GET /drop: exit 3, 'no response' and the transport error on stderr, "
         "row with status NULL and error '%s'\n", terr);
  free(terr);
  tu_free2(&out, &err);

  rc = tc_run(e, db, FAKEAPI_KEY, NULL,
              ARGS("call", "--retries", "0", "GET", "http://127.0.0.1:1/"), &out, &err);
  tu_expect_exit(rc, 3, "GET port 1", err);
  id = tc_recorded_id(err);
  calls++;
  terr = tu_textf(s, "SELECT error FROM calls WHERE id = %" PRId64 " AND status IS NULL AND "
                     "host = '127.0.0.1'", id);
  assert_non_null(terr);
  check_transport_error(err, terr);
  printf("checked: call GET http://127.0.0.1:1/: exit 3, the transport error on stderr, "
         "row with status NULL and error '%s'\n", terr);
  free(terr);
  tu_free2(&out, &err);

  rc = tc_run(e, db, NULL, NULL, ARGS("call", "GET", "/participants"), &out, &err);
  tu_expect_exit(rc, 1, "no key", err);
  tu_expect_has(err, "HTTP 401", "401 status line");
  tu_expect_has(err, "Unauthenticated.", "401 message");
  id = tc_recorded_id(err);
  calls++;
  assert_int_equal(tu_intf(s, "SELECT count(*) FROM calls WHERE id = %" PRId64 " AND status = 401 "
                              "AND key IS NULL", id), 1);
  tu_free2(&out, &err);
  printf("checked: call without a key: 401, exit 1, 'Unauthenticated.' on stderr, row "
         "without a key\n");

  rc = tc_run(e, db, FAKEAPI_KEY, NULL, ARGS("call", "POST", "/participants", "-d", "not json"),
              &out, &err);
  tu_expect_exit(rc, 2, "-d not json", err);
  tu_expect_has(err, "-d", "-d named");
  tu_expect_has(err, "JSON", "-d JSON named");
  assert_string_equal(out, "");
  tu_free2(&out, &err);
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls"), calls);
  printf("checked: call -d 'not json': exit 2, stderr names -d and JSON, nothing sent or "
         "recorded\n");

  static const char *const key_forms[][3] = {
    {"--key", "sk_live_ARGVSECRET42", NULL},
    {"--key=sk_live_ARGVSECRET42", NULL, NULL},
    {"-k", "sk_live_ARGVSECRET42", NULL},
    {"--api-key", "sk_live_ARGVSECRET42", NULL},
  };
  for (size_t i = 0; i < sizeof key_forms / sizeof key_forms[0]; i++) {
    const char *a[8] = {"call", key_forms[i][0]};
    size_t n = 2;
    if (key_forms[i][1])
      a[n++] = key_forms[i][1];
    a[n++] = "GET";
    a[n++] = "/participants";
    a[n] = NULL;
    rc = tc_run(e, db, NULL, NULL, a, &out, &err);
    tu_expect_exit(rc, 2, key_forms[i][0], err);
    tu_expect_has(err, "never", "key refusal says never");
    tu_expect_has(err, "command line", "key refusal says command line");
    tu_expect_has(err, "REQLOG_API_KEY", "key refusal names the alternative");
    assert_null(strstr(err, "ARGVSECRET42"));
    assert_null(strstr(out, "ARGVSECRET42"));
    tu_free2(&out, &err);
  }
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls"), calls);
  printf("checked: --key, --key=, -k and --api-key are refused with exit 2 and a message "
         "that keys never go on the command line; the value is never echoed\n");

  char *kf = tu_path(e->dir, "call-key");
  tu_write_file(kf, FAKEAPI_KEY2 "\n", 0600);
  rc = tc_run(e, db, NULL, NULL, ARGS("call", "--key-file", kf, "GET", "/participants/3"), &out,
              &err);
  tu_expect_exit(rc, 0, "--key-file", err);
  assert_null(strstr(err, "warning"));
  id = tc_recorded_id(err);
  calls++;
  key = tu_textf(s, "SELECT key FROM calls WHERE id = %" PRId64, id);
  assert_string_equal(key, e->fp2);
  free(key);
  tu_free2(&out, &err);
  char *missing = tu_path(e->dir, "no-such-key-file");
  rc = tc_run(e, db, NULL, NULL, ARGS("call", "--key-file", missing, "GET", "/participants"),
              &out, &err);
  tu_expect_exit(rc, 4, "--key-file missing", err);
  tu_expect_has(err, missing, "missing key file named");
  tu_free2(&out, &err);
  free(missing);
  free(kf);
  printf("checked: --key-file FILE: the key in it is used (row fingerprint %s), no "
         "warning at mode 0600; a missing file exits 4 naming it\n", e->fp2);

  const char *file_body = "{\"from\":\"file\",\"list\":[1,2,3],\"s\":\"a b\"}";
  char *bf = tu_path(e->dir, "body.json");
  tu_write_file(bf, file_body, 0644);
  char *at = NULL;
  assert_true(asprintf(&at, "@%s", bf) > 0);
  rc = tc_run(e, db, FAKEAPI_KEY, NULL, ARGS("call", "POST", "/echo", "-d", at), &out, &err);
  tu_expect_exit(rc, 0, "-d @FILE", err);
  doc = cJSON_Parse(out);
  assert_string_equal(cJSON_GetObjectItemCaseSensitive(doc, "body")->valuestring, file_body);
  cJSON_Delete(doc);
  id = tc_recorded_id(err);
  calls++;
  char *stored = tu_textf(s, "SELECT request_body FROM calls WHERE id = %" PRId64, id);
  assert_string_equal(stored, file_body);
  free(stored);
  tu_free2(&out, &err);
  free(at);
  free(bf);

  const char *stdin_body = "{\"from\":\"stdin\",\"n\":7}";
  rc = tc_run(e, db, FAKEAPI_KEY, stdin_body, ARGS("call", "POST", "/echo", "-d", "@-"), &out,
              &err);
  tu_expect_exit(rc, 0, "-d @-", err);
  doc = cJSON_Parse(out);
  assert_string_equal(cJSON_GetObjectItemCaseSensitive(doc, "body")->valuestring, stdin_body);
  cJSON_Delete(doc);
  id = tc_recorded_id(err);
  calls++;
  stored = tu_textf(s, "SELECT request_body FROM calls WHERE id = %" PRId64, id);
  assert_string_equal(stored, stdin_body);
  free(stored);
  tu_free2(&out, &err);
  printf("checked: -d @FILE and -d @- send exactly the file's and stdin's bytes (the "
         "echo and the stored request_body)\n");

  rc = tc_run(e, db, FAKEAPI_KEY, NULL, ARGS("call", "-i", "GET", "/participants/1"), &out, &err);
  tu_expect_exit(rc, 0, "-i", err);
  assert_int_equal(strncmp(out, "HTTP/1.1 200", 12), 0);
  char *blank = strstr(out, "\r\n\r\n");
  assert_non_null(blank);
  *blank = '\0';
  tu_expect_has(out, "\r\nContent-Type: application/json", "-i header block");
  doc = cJSON_Parse(blank + 4);
  assert_int_equal(tu_jint(doc, "id"), 1);
  cJSON_Delete(doc);
  calls++;
  tu_free2(&out, &err);
  printf("checked: call -i: stdout starts with 'HTTP/1.1 200', the header block, a blank "
         "line, then the JSON body\n");

  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls"), calls);
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls WHERE source = 'cli'"), calls);
  sqlite3_close(s);
  rc = tc_run(e, db, NULL, NULL, ARGS("list", "--limit", "0", "--json"), &out, &err);
  tu_expect_exit(rc, 0, "list", err);
  int n = 0;
  char *ids = tc_json_ids(out, &n);
  assert_int_equal(n, calls);
  free(ids);
  cJSON *arr = cJSON_Parse(out);
  const cJSON *row;
  cJSON_ArrayForEach(row, arr)
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(row, "source")->valuestring, "cli");
  cJSON_Delete(arr);
  tu_free2(&out, &err);
  struct stat st;
  assert_int_equal(stat(db, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  printf("checked: all %d calls that reached the network are rows with source cli (SQL "
         "and list --json); usage errors recorded nothing; the database is mode 0600\n",
         calls);
  free(db);
}

/* `call` accepts any RFC 9110 token as METHOD (cmd_call.c); a method the library then
 * refuses must at least be named in the message. */
static void test_call_method_named(void **state) {
  tc_env *e = *state;
  char *db = tu_path(e->dir, "method.db"), *out = NULL, *err = NULL;
  int rc = tc_run(e, db, FAKEAPI_KEY, NULL, ARGS("call", "get", "/participants/1"), &out, &err);
  tu_expect_exit(rc, 0, "call get", err);
  tu_free2(&out, &err);
  sqlite3 *s = tu_db(db);
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls WHERE method = 'GET'"), 1);
  sqlite3_close(s);
  printf("checked: call get ...: the method is upper-cased, sent and recorded as GET\n");
  rc = tc_run(e, db, FAKEAPI_KEY, NULL, ARGS("call", "M-SEARCH", "/echo"), &out, &err);
  int ok = rc == 0 || (rc == 2 && strstr(err, "M-SEARCH"));
  printf("%s: call M-SEARCH /echo -> exit %d, stderr: %s", ok ? "checked" : "MISMATCH", rc,
         err);
  if (!ok)
    fprintf(stderr, "BUG: `call` accepts M-SEARCH as a method, the library refuses it, and "
            "the message does not say what was wrong: %s", err);
  tu_free2(&out, &err);
  /* only a 2xx exits 0: a final 304 or 500 is not a success */
  rc = tc_run(e, db, FAKEAPI_KEY, NULL, ARGS("call", "GET", "/status/304"), &out, &err);
  tu_expect_exit(rc, 1, "call GET /status/304", err);
  tu_free2(&out, &err);
  rc = tc_run(e, db, FAKEAPI_KEY, NULL, ARGS("call", "GET", "/status/204"), &out, &err);
  tu_expect_exit(rc, 0, "call GET /status/204", err);
  tu_free2(&out, &err);
  printf("checked: call exits 1 on a final 304 and 0 on a 204\n");
  free(db);
  assert_true(ok);
}

/* ------------------------------------------------------------------ key origin, schemes */

static void test_call_key_origin(void **state) {
  tc_env *e = *state;
  char *db = tu_path(e->dir, "origin.db"), *out = NULL, *err = NULL;
  fakeapi *other = tu_api(1000, 60000);
  char url[300];

  int rc = tc_run(e, db, FAKEAPI_KEY, NULL, ARGS("call", "GET", "/echo"), &out, &err);
  tu_expect_exit(rc, 0, "call GET /echo", err);
  cJSON *echo = cJSON_Parse(out);
  const char *auth = tu_header(echo, "headers", "Authorization");
  assert_non_null(auth);
  assert_string_equal(auth, "Bearer " FAKEAPI_KEY);
  cJSON_Delete(echo);
  tu_free2(&out, &err);

  snprintf(url, sizeof url, "%s/echo", fakeapi_base_url(other));
  rc = tc_run(e, db, FAKEAPI_KEY, NULL, ARGS("call", "GET", url), &out, &err);
  tu_expect_exit(rc, 1, "call GET <other port>/echo", err);
  tu_expect_has(err, "HTTP 401", "other server's 401");
  int64_t id = tc_recorded_id(err);
  tu_free2(&out, &err);
  assert_int_equal(fakeapi_hits(other, NULL), 1);
  sqlite3 *s = tu_db(db);
  assert_int_equal(tu_intf(s, "SELECT count(*) FROM calls WHERE id = %" PRId64 " AND key IS NULL"
                              " AND request_headers NOT LIKE '%%uthorization%%'", id), 1);
  printf("checked: call with REQLOG_API_KEY: the base URL's /echo saw 'Bearer <key>'; a "
         "second server on another port got no Authorization (401), row %" PRId64
         " has no key\n", id);

  /* a refused connection to the base URL still names the key it carried */
  rc = tc_run(e, db, FAKEAPI_KEY, NULL,
              ARGS("call", "--retries", "0", "--base-url", "http://127.0.0.1:1/public/v1", "GET",
                   "/participants"),
              &out, &err);
  tu_expect_exit(rc, 3, "call to a closed port", err);
  id = tc_recorded_id(err);
  char *key = tu_textf(s, "SELECT key FROM calls WHERE id = %" PRId64, id);
  if (!key)
    fprintf(stderr, "BUG: a call sent with a key that got no connection records no key\n");
  assert_non_null(key);
  assert_string_equal(key, e->fp1);
  free(key);
  tu_free2(&out, &err);
  rc = tc_run(e, db, FAKEAPI_KEY, NULL, ARGS("list", "--key", strchr(e->fp1, '#') + 1, "--status",
                                             "error", "--json"), &out, &err);
  tu_expect_exit(rc, 0, "list --key --status error", err);
  int n = 0;
  char *ids = tc_json_ids(out, &n);
  assert_int_equal(n, 1);
  free(ids);
  tu_free2(&out, &err);
  printf("checked: call to a port where nothing listens records the key's fingerprint %s; "
         "list --key --status error finds it\n", e->fp1);
  sqlite3_close(s);
  fakeapi_stop(other);
  free(db);
}

static void test_call_schemes(void **state) {
  tc_env *e = *state;
  char *db = tu_path(e->dir, "schemes.db"), *out = NULL, *err = NULL;
  char gopher[200];
  snprintf(gopher, sizeof gopher, "gopher://127.0.0.1:%d/_GET%%20/", fakeapi_port(e->api));
  long hits = fakeapi_hits(e->api, NULL);
  const char *const targets[] = {"file:///etc/passwd", "FILE:///etc/hostname", gopher,
                                 "dict://127.0.0.1:1/x"};
  for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
    int rc = tc_run(e, db, FAKEAPI_KEY, NULL, ARGS("call", "GET", targets[i]), &out, &err);
    tu_expect_exit(rc, 2, targets[i], err);
    tu_expect_has(err, "only http and https", targets[i]);
    assert_string_equal(out, "");
    assert_null(strstr(err, "root:"));
    tu_free2(&out, &err);
  }
  int rc = tc_run(e, db, FAKEAPI_KEY, NULL, ARGS("call", "--base-url", "gopher://127.0.0.1:70/x",
                                                 "GET", "/participants"), &out, &err);
  tu_expect_exit(rc, 2, "--base-url gopher:", err);
  tu_expect_has(err, "--base-url", "--base-url named");
  tu_expect_has(err, "http", "--base-url: http named");
  tu_free2(&out, &err);
  assert_int_equal(fakeapi_hits(e->api, NULL), hits);
  if (access(db, F_OK) == 0) {
    sqlite3 *s = tu_db(db);
    assert_int_equal(tu_int(s, "SELECT count(*) FROM calls"), 0);
    sqlite3_close(s);
  }
  free(db);
  printf("checked: call GET file:, gopher:, dict: and --base-url gopher: exit 2 with 'only "
         "http and https', print nothing of the file, send and record nothing\n");
}

/* ------------------------------------------------------------------ new-user findings */

static void test_input_files(void **state) {
  tc_env *e = *state;
  char *db = tu_path(e->dir, "inputs.db"), *out = NULL, *err = NULL;
  char *missing = tu_path(e->dir, "no-such-body.json"), *har = tu_path(e->dir, "no-such.har");
  char *at = NULL, *want = NULL;
  assert_true(asprintf(&at, "@%s", missing) > 0);
  int rc = tc_run(e, db, FAKEAPI_KEY, NULL, ARGS("call", "-d", at, "POST", "/echo"), &out, &err);
  tu_expect_exit(rc, 4, "call -d @missing", err);
  assert_true(asprintf(&want, "cannot read %s: No such file or directory", missing) > 0);
  tu_expect_has(err, want, "call -d @missing");
  free(want);
  tu_free2(&out, &err);
  rc = tc_run(e, db, FAKEAPI_KEY, NULL, ARGS("import", har), &out, &err);
  tu_expect_exit(rc, 4, "import missing.har", err);
  assert_true(asprintf(&want, "cannot read %s: No such file or directory", har) > 0);
  tu_expect_has(err, want, "import missing.har");
  free(want);
  tu_free2(&out, &err);
  char *dir = tu_path(e->dir, "a-folder");
  assert_int_equal(mkdir(dir, 0700), 0);
  free(at);
  assert_true(asprintf(&at, "@%s", dir) > 0);
  rc = tc_run(e, db, FAKEAPI_KEY, NULL, ARGS("call", "-d", at, "POST", "/echo"), &out, &err);
  tu_expect_exit(rc, 4, "call -d @DIR", err);
  tu_expect_has(err, dir, "call -d @DIR");
  tu_free2(&out, &err);
  assert_int_not_equal(access(db, F_OK), 0);
  printf("checked: call -d @missing and import missing.har both exit 4 with 'cannot read "
         "FILE: No such file or directory'; -d @DIR exits 4 too; nothing created\n");
  free(dir);
  free(at);
  free(har);
  free(missing);
  free(db);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_call),
    cmocka_unit_test(test_call_method_named),
    cmocka_unit_test(test_call_key_origin),
    cmocka_unit_test(test_call_schemes),
    cmocka_unit_test(test_input_files),
  };
  return cmocka_run_group_tests(tests, tc_setup, tc_teardown);
}
