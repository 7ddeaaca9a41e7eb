/* testcli.c: the fixture the test_cli_* suites share (see testcli.h): the fake API and a
 * temp folder per suite, reqlog run against them, the shared history built once, and the
 * row ids read back from list, export and SQL. */
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

int tc_run(const tc_env *e, const char *db, const char *key, const char *in,
           const char *const *args, char **out, char **err) {
  return tc_run_env(e, db, key, in, NULL, args, out, err);
}

int tc_run_env(const tc_env *e, const char *db, const char *key, const char *in,
               const char *extra_env, const char *const *args, char **out, char **err) {
  const char *argv[64];
  size_t n = 0;
  if (db) {
    argv[n++] = "--db";
    argv[n++] = db;
  }
  for (size_t i = 0; args[i]; i++) {
    assert_true(n < 62);
    argv[n++] = args[i];
  }
  argv[n] = NULL;
  char keyenv[256];
  snprintf(keyenv, sizeof keyenv, "REQLOG_API_KEY=%s", key ? key : "");
  const char *envv[5] = {e->base_env, "REQLOG_RATE=0"};
  size_t k = 2;
  if (key)
    envv[k++] = keyenv;
  if (extra_env)
    envv[k++] = extra_env;
  envv[k] = NULL;
  return tu_run(argv, in, envv, out, err);
}

int64_t tc_recorded_id(const char *err) {
  const char *p = strstr(err, "recorded as #");
  return p ? strtoll(p + 13, NULL, 10) : -1;
}

char *tc_json_ids(const char *text, int *n) {
  cJSON *arr = cJSON_Parse(text);
  if (!cJSON_IsArray(arr))
    fprintf(stderr, "not a JSON array: %.300s\n", text);
  assert_true(cJSON_IsArray(arr));
  size_t cap = 64, len = 0;
  char *ids = calloc(1, cap);
  assert_non_null(ids);
  const cJSON *row;
  *n = 0;
  cJSON_ArrayForEach(row, arr) {
    assert_null(cJSON_GetObjectItemCaseSensitive(row, "request_body"));
    assert_null(cJSON_GetObjectItemCaseSensitive(row, "response_body"));
    char one[32];
    int w = snprintf(one, sizeof one, "%s%" PRId64, *n ? "," : "", tu_jint(row, "id"));
    if (len + (size_t)w + 1 > cap) {
      cap = 2 * (len + (size_t)w + 1);
      ids = realloc(ids, cap);
      assert_non_null(ids);
    }
    memcpy(ids + len, one, (size_t)w + 1);
    len += (size_t)w;
    (*n)++;
  }
  cJSON_Delete(arr);
  return ids;
}

char *tc_ndjson_ids(const char *text, int *n) {
  size_t cap = strlen(text) + 2, len = 0;
  char *ids = calloc(1, cap);
  assert_non_null(ids);
  *n = 0;
  for (const char *p = text; *p;) {
    const char *nl = strchr(p, '\n');
    assert_non_null(nl);
    char *line = strndup(p, (size_t)(nl - p));
    cJSON *row = cJSON_Parse(line);
    assert_true(cJSON_IsObject(row));
    len += (size_t)snprintf(ids + len, cap - len, "%s%" PRId64, *n ? "," : "", tu_jint(row, "id"));
    cJSON_Delete(row);
    free(line);
    (*n)++;
    p = nl + 1;
  }
  return ids;
}

char *tc_sql_ids(sqlite3 *db, const char *where, int desc, int *n) {
  char *ids = tu_textf(db, "SELECT coalesce(group_concat(id, ','), '') FROM (SELECT id FROM "
                           "calls AS c WHERE %s ORDER BY id %s)", where, desc ? "DESC" : "ASC");
  assert_non_null(ids);
  *n = (int)tu_intf(db, "SELECT count(*) FROM calls AS c WHERE %s", where);
  return ids;
}

const cJSON *tc_show_row(tc_env *e, int64_t id) {
  char name[32];
  snprintf(name, sizeof name, "%" PRId64, id);
  const cJSON *have = cJSON_GetObjectItemCaseSensitive(e->shows, name);
  if (have)
    return have;
  char *out = NULL, *err = NULL;
  int rc = tc_run(e, e->hist, NULL, NULL, ARGS("show", name, "--json"), &out, &err);
  tu_expect_exit(rc, 0, "show --json", err);
  cJSON *row = cJSON_Parse(out);
  assert_true(cJSON_IsObject(row));
  assert_int_equal(tu_jint(row, "id"), id);
  cJSON_AddItemToObject(e->shows, name, row);
  tu_free2(&out, &err);
  return row;
}

int tc_setup(void **state) {
  /* the tests say exactly what reqlog sees */
  static const char *const clear[] = {"REQLOG_API_KEY", "REQLOG_DB", "REQLOG_BASE_URL",
                                      "REQLOG_RATE", "REQLOG_REDACT", "REQLOG_TIMEOUT_MS",
                                      NULL};
  for (int i = 0; clear[i]; i++)
    unsetenv(clear[i]);
  tc_env *e = calloc(1, sizeof *e);
  e->dir = tu_tmpdir();
  e->api = tu_api(100000, 60000);
  snprintf(e->base_env, sizeof e->base_env, "REQLOG_BASE_URL=%s", fakeapi_base_url(e->api));
  tu_fingerprint(FAKEAPI_KEY, e->fp1);
  tu_fingerprint(FAKEAPI_KEY2, e->fp2);
  e->shows = cJSON_CreateObject();
  *state = e;
  return 0;
}

int tc_teardown(void **state) {
  tc_env *e = *state;
  fakeapi_stop(e->api);
  tu_rmtree(e->dir);
  cJSON_Delete(e->shows);
  free(e->hist);
  free(e->dir);
  free(e);
  return 0;
}

/* One `call` of the history: its key, stdin, expected exit code and arguments. */
struct hcall {
  const char *key;
  const char *in;
  int want;
  const char *args[12];
};

/* The shared history: `reqlog demo` (every status class, retries, a 429, binary...)
 * then calls through the CLI that the demo lacks, then rows 1-10 moved 3 days and rows
 * 11-20 two hours into the past, so relative times have something to tell apart. */
void tc_history(tc_env *e) {
  if (e->hist_ready)
    return;
  e->hist = tu_path(e->dir, "history.db");
  char *out = NULL, *err = NULL;
  int rc = tc_run(e, e->hist, NULL, NULL, ARGS("demo"), &out, &err);
  tu_expect_exit(rc, 0, "demo", err);
  tu_free2(&out, &err);

  char *keyfile = tu_path(e->dir, "hist-key2"), *atfile = tu_path(e->dir, "at-body.txt");
  tu_write_file(keyfile, FAKEAPI_KEY2 "\n", 0600);
  tu_write_file(atfile, AT_TEXT, 0600);
  char local_url[200], local_base[200], at_arg[300];
  snprintf(at_arg, sizeof at_arg, "@%s", atfile);
  snprintf(local_url, sizeof local_url, "http://localhost:%d/public/v1/participants/2",
           fakeapi_port(e->api));
  /* the key goes to the base URL's host only: name localhost as the base for it */
  snprintf(local_base, sizeof local_base, "http://localhost:%d/public/v1", fakeapi_port(e->api));
  const struct hcall calls[] = {
    {FAKEAPI_KEY, NULL, 0, {"call", "GET", "/participants"}},
    {NULL, NULL, 0, {"call", "--key-file", keyfile, "--base-url", local_base, "GET", local_url}},
    {FAKEAPI_KEY, NULL, 1, {"call", "POST", "/participants", "-d", "{\"last_name\":\"x\"}"}},
    {FAKEAPI_KEY2, NULL, 1, {"call", "POST", "/participants", "-d",
                             "{\"first_name\":\"Zo\xc3\xab\",\"last_name\":\"\xe6\x97\xa5\","
                             "\"email\":\"bad\"}"}},
    {FAKEAPI_KEY, NULL, 3, {"call", "--retries", "0", "GET", "/drop"}},
    {NULL, NULL, 1, {"call", "GET", "/participants"}},
    {FAKEAPI_KEY2, NULL, 0, {"call", "GET", "/slow?ms=150"}},
    {FAKEAPI_KEY, NULL, 0, {"call", "DELETE", "/participants/4"}},
    {FAKEAPI_KEY, NULL, 0, {"call", "-H", "Content-Type: text/plain", "POST", NASTY_URL,
                            "-d", NASTY_TEXT}},
    {FAKEAPI_KEY, NULL, 0, {"call", "-H", "Content-Type: text/plain", "POST", "/echo",
                            "-d", PLUS_TEXT}},
    {FAKEAPI_KEY, NULL, 0, {"call", "POST", "/echo", "-d", "-1"}},
    {FAKEAPI_KEY, NULL, 0, {"call", "-H", "Content-Type: text/plain", "POST", "/echo",
                            "-d", at_arg}},
    {FAKEAPI_KEY, NULL, 0, {"call", "POST", "/echo", "-d", UTF8_JSON}},
    {FAKEAPI_KEY, PRETTY_JSON, 0, {"call", "PUT", "/echo", "-d", "@-"}},
  };
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
    const struct hcall *c = &calls[i];
    char label[200];
    rc = tc_run(e, e->hist, c->key, c->in, c->args, &out, &err);
    tu_expect_exit(rc, c->want, tu_label_of(c->args, label, sizeof label), err);
    tu_free2(&out, &err);
  }
  free(keyfile);
  free(atfile);

  sqlite3 *s = tu_db(e->hist);
  tu_exec(s, "UPDATE calls SET started_at = started_at - 3 * 86400000000 WHERE id <= 10");
  tu_exec(s, "UPDATE calls SET started_at = started_at - 2 * 3600000000 "
             "WHERE id > 10 AND id <= 20");
  e->hist_rows = tu_int(s, "SELECT count(*) FROM calls");
  assert_true(e->hist_rows >= 60);
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls WHERE source = 'cli'"),
                   (int64_t)(sizeof calls / sizeof calls[0]));
  sqlite3_close(s);
  printf("checked: history: demo plus %zu CLI calls, %" PRId64 " rows, rows 1-20 moved back "
         "in time\n", sizeof calls / sizeof calls[0], e->hist_rows);
  e->hist_ready = 1;
}
