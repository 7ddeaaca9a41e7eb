/* test_snippet.c: "copy as code" that runs. A call is recorded against the tests' fake
 * API (its /echo answers with the method, path, query, headers and body it received),
 * then `reqlog snippet ID --lang L` prints it as code, and the code is RUN: sh with curl,
 * python3 with requests, node (fetch), php with its curl extension. Each run's /echo
 * answer must match the original call's: method, path, query, body byte for byte, the
 * headers that matter (Content-Type, Accept, a custom header with quotes and $), and the
 * key, which the snippet reads from $REQLOG_API_KEY (the history holds only its
 * fingerprint). A language whose interpreter is absent is skipped, and said.
 *
 * Plan:
 *   runs_as_recorded  the four languages, run, against the original call
 *   every_language    curl, python, node, php, httpie and go: the key only as the
 *                     environment variable, never the key or its fingerprint; a redacted
 *                     header and [REDACTED] values are said in a note
 *   refused           an unknown language (exit 2), an unknown id (exit 5)
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
#include <strings.h>

#include "reqlog.h"
#include "reqlog_demo.h"
#include "testutil.h"

/* A body and a header a careless snippet would break: quotes of every kind, a
 * backslash, shell and PHP variables, a newline, UTF-8. */
#define BODY "{\"name\":\"O'Brien \\\"the\\\" $HOME `id` \\\\ back\",\"note\":\"Zo\xc3\xab\\nline 2\",\"n\":1}"
#define TRACE "a'b\"c $PATH {x}"

typedef struct env {
  char *dir, *db;
  fakeapi *api;
  int64_t id;
  cJSON *original; /* the original call's /echo answer */
} env;

static env *E;

static int group_setup(void **state) {
  (void)state;
  E = calloc(1, sizeof *E);
  E->dir = tu_tmpdir();
  E->db = tu_path(E->dir, "snippet.db");
  E->api = tu_api(100000, 60000);
  reqlog *r = NULL;
  assert_int_equal(reqlog_open(E->db, &r, NULL), REQLOG_OK);
  reqlog_set_rate_limit(r, 0);
  reqlog_set_retry(r, 1, 10, 1000);
  assert_int_equal(reqlog_set_base_url(r, fakeapi_base_url(E->api)), REQLOG_OK);
  reqlog_set_api_key(r, FAKEAPI_KEY);
  reqlog_set_durability(r, REQLOG_DURABILITY_SYNC);
  const char *const headers[] = {"Content-Type: application/json", "X-Trace: " TRACE,
                                 "Cookie: session=abc", NULL};
  reqlog_response *resp = NULL;
  reqlog_request(r, "PATCH", "/echo?page=2&q=a%20b&x=%24y", BODY, strlen(BODY), headers,
                 &resp);
  assert_non_null(resp);
  assert_int_equal(resp->status, 200);
  E->id = resp->row_id;
  E->original = cJSON_Parse(resp->body);
  assert_non_null(E->original);
  reqlog_response_free(resp);
  assert_true(E->id > 0);
  assert_int_equal(reqlog_close(r), REQLOG_OK);
  setenv("REQLOG_API_KEY", FAKEAPI_KEY, 1);
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  fakeapi_stop(E->api);
  cJSON_Delete(E->original);
  tu_rmtree(E->dir);
  free(E->dir);
  free(E->db);
  free(E);
  return 0;
}

/* `reqlog snippet ID --lang LANG`: its stdout, exit 0. */
static char *snippet(const char *lang) {
  char id[24];
  snprintf(id, sizeof id, "%" PRId64, E->id);
  char *out = NULL, *err = NULL;
  int rc = tu_run(ARGS("--db", E->db, "snippet", id, "--lang", lang), NULL, NULL, &out, &err);
  tu_expect_exit(rc, 0, lang, err);
  free(err);
  return out;
}

/* The value of header NAME (any case) in an /echo answer's "headers", or NULL. */
static const char *header(const cJSON *echo, const char *name) {
  const cJSON *h;
  cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(echo, "headers")) {
    const cJSON *n = cJSON_GetArrayItem(h, 0), *v = cJSON_GetArrayItem(h, 1);
    if (cJSON_IsString(n) && strcasecmp(n->valuestring, name) == 0 && cJSON_IsString(v))
      return v->valuestring;
  }
  return NULL;
}

static const char *str(const cJSON *o, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Non-zero when the shell command CHECK succeeds (an interpreter is there). */
static int have(const char *check) {
  char cmd[300];
  snprintf(cmd, sizeof cmd, "%s >/dev/null 2>&1", check);
  return system(cmd) == 0;
}

/* Runs CMD (its stdout) and returns the /echo answer at the end of what it printed:
 * the first line starting with '{'. */
static cJSON *run(const char *cmd, const char *lang) {
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  char *all = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&all, &len);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0)
    fwrite(buf, 1, n, m);
  fclose(m);
  int rc = pclose(p);
  if (rc != 0)
    print_error("%s: %s exited %d:\n%s\n", lang, cmd, rc, all);
  assert_int_equal(rc, 0);
  const char *json = all[0] == '{' ? all : strstr(all, "\n{");
  if (!json)
    print_error("%s printed no /echo answer:\n%s\n", lang, all);
  assert_non_null(json);
  cJSON *echo = cJSON_Parse(json[0] == '{' ? json : json + 1);
  if (!echo)
    print_error("%s: not JSON:\n%s\n", lang, all);
  assert_non_null(echo);
  free(all);
  return echo;
}

static void same_call(const cJSON *echo, const char *lang) {
  static const char *const members[] = {"method", "path", "query", "body"};
  for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
    const char *want = str(E->original, members[i]), *got = str(echo, members[i]);
    if (!got || strcmp(got, want) != 0)
      print_error("%s: %s is [%s], the original call's [%s]\n", lang, members[i],
                  got ? got : "(none)", want);
    assert_non_null(got);
    assert_string_equal(got, want);
  }
  static const char *const headers[] = {"Content-Type", "Accept", "X-Trace"};
  for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
    const char *want = header(E->original, headers[i]), *got = header(echo, headers[i]);
    assert_non_null(want);
    if (!got || strcmp(got, want) != 0)
      print_error("%s: header %s is [%s], the original's [%s]\n", lang, headers[i],
                  got ? got : "(none)", want);
    assert_non_null(got);
    assert_string_equal(got, want);
  }
  /* the key, from $REQLOG_API_KEY: the same Authorization as the original call */
  assert_string_equal(header(echo, "Authorization"), "Bearer " FAKEAPI_KEY);
  assert_string_equal(header(E->original, "Authorization"), "Bearer " FAKEAPI_KEY);
  /* the redacted cookie is not sent again */
  assert_null(header(echo, "Cookie"));
}

static void runs_as_recorded(void **state) {
  (void)state;
  static const struct {
    const char *lang, *file, *check, *interp;
  } langs[] = {
    {"curl", "s.sh", "curl --version", "sh"},
    {"python", "s.py", "python3 -c 'import requests'", "python3"},
    {"node", "s.mjs", "node -e 'fetch'", "node"},
    {"php", "s.php", "php -r 'exit(function_exists(\"curl_init\") ? 0 : 1);'", "php"},
  };
  int ran = 0;
  char skipped[200] = "";
  for (size_t i = 0; i < sizeof langs / sizeof langs[0]; i++) {
    if (!have(langs[i].check)) {
      strcat(skipped, skipped[0] ? ", " : "");
      strcat(skipped, langs[i].lang);
      continue;
    }
    char *code = snippet(langs[i].lang);
    char *path = tu_path(E->dir, langs[i].file);
    tu_write_file(path, code, 0600);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "cd '%s' && %s '%s'", E->dir, langs[i].interp, path);
    cJSON *echo = run(cmd, langs[i].lang);
    same_call(echo, langs[i].lang);
    cJSON_Delete(echo);
    free(path);
    free(code);
    ran++;
  }
  print_message("%d snippet languages run against the fake API made the original call "
                "(method, path, query, body, Content-Type, Accept, X-Trace, the key from "
                "$REQLOG_API_KEY)%s%s\n", ran, skipped[0] ? "; SKIPPED (interpreter absent): " : "",
                skipped);
  assert_true(ran >= 1);
}

static void every_language(void **state) {
  (void)state;
  char fp[48];
  reqlog_key_fingerprint(FAKEAPI_KEY, fp);
  static const char *const envs[] = {"$REQLOG_API_KEY", "os.environ[\"REQLOG_API_KEY\"]",
                                     "process.env.REQLOG_API_KEY", "getenv('REQLOG_API_KEY')",
                                     "$REQLOG_API_KEY", "os.Getenv(\"REQLOG_API_KEY\")"};
  size_t i = 0;
  for (const char *const *l = reqlog_snippet_langs(); *l; l++, i++) {
    char *code = snippet(*l);
    if (!strstr(code, envs[i]))
      print_error("%s:\n%s\n", *l, code);
    assert_non_null(strstr(code, envs[i]));
    assert_null(strstr(code, FAKEAPI_KEY));
    assert_null(strstr(code, fp));
    assert_non_null(strstr(code, "redacted when recorded, left out: Cookie"));
    free(code);
  }
  assert_int_equal(i, 6);
  print_message("curl, python, node, php, httpie, go: the key as the environment variable "
                "only, the redacted Cookie said in a note\n");
}

static void refused(void **state) {
  (void)state;
  char *out = NULL, *err = NULL;
  int rc = tu_run(ARGS("--db", E->db, "snippet", "1", "--lang", "cobol"), NULL, NULL, &out, &err);
  assert_int_equal(rc, 2);
  tu_free2(&out, &err);
  rc = tu_run(ARGS("--db", E->db, "snippet", "999"), NULL, NULL, &out, &err);
  assert_int_equal(rc, 5);
  tu_free2(&out, &err);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(runs_as_recorded),
    cmocka_unit_test(every_language),
    cmocka_unit_test(refused),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
