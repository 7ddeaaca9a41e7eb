/* test_web_mock.c: the dashboard's GET /api/mock (web/API.md) over the dashboard
 * suites' history (tests/lib/testweb.h), against `reqlog mock` of the binary over the
 * same history.
 *
 * Plan:
 *   counts     for no filter and for status=4xx, path=/public/v1/participants: requests
 *              equals the N of the CLI mock's ready line ("serving N recorded calls"),
 *              recorded equals the history's rows of status 200 to 599 of the filter;
 *              every listed call is a row of that method, path and status; more is 0
 *   command    the command line names the filters as the CLI spells them; a hostile
 *              path value ('; $(...) and spaces) read back by /bin/sh is one word,
 *              the value exactly
 *   bad        a bad filter value and an unknown parameter: 400 naming it
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reqlog.h"
#include "testutil.h"
#include "testweb.h"

/* GET /api/mock?QUERY (QUERY as sent, already encoded); its JSON, status 200 checked. */
static cJSON *api_mock(const char *query) {
  char path[1024];
  snprintf(path, sizeof path, "/api/mock%s%s", *query ? "?" : "", query);
  tw_reply res = tw_get(path);
  if (res.status != 200)
    fail_msg("GET %s: %ld %s", path, res.status, res.body ? res.body : "");
  cJSON *j = tw_json_of(&res);
  tw_resp_free(&res);
  return j;
}

/* N of `reqlog mock FILTER_ARGS`' ready line "mock: serving N recorded calls". */
static long cli_serves(const char *const *filter_args, const char *name) {
  char base[128];
  char *log = tu_path(tw_e->dir, name);
  pid_t pid = tw_mock_bin(tw_e->db, filter_args, log, base, sizeof base);
  char *text = tu_read_file(log);
  const char *at = text ? strstr(text, "mock: serving ") : NULL;
  assert_non_null(at);
  long n = strtol(at + strlen("mock: serving "), NULL, 10);
  free(text);
  kill(pid, SIGTERM);
  tu_wait_exit(pid);
  free(log);
  return n;
}

static void expect_counts(const char *query, const char *const *cli_args, const char *where,
                          const char *log) {
  cJSON *j = api_mock(query);
  long want = cli_serves(cli_args, log);
  char sql[512];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM calls WHERE status BETWEEN 200 AND 599%s",
           where);
  int64_t recorded = tu_file_int(tw_e->db, sql);
  assert_int_equal((long)tu_num(j, "requests"), want);
  assert_int_equal((int64_t)tu_num(j, "recorded"), recorded);
  assert_int_equal((long)tu_num(j, "more"), 0);
  assert_true(want > 0 && recorded >= want);
  const cJSON *calls = cJSON_GetObjectItemCaseSensitive(j, "calls");
  assert_int_equal(cJSON_GetArraySize(calls), want);
  const cJSON *c;
  cJSON_ArrayForEach(c, calls) {
    int64_t id = (int64_t)tu_num(c, "id");
    const char *method = cJSON_GetObjectItemCaseSensitive(c, "method")->valuestring;
    const char *path = cJSON_GetObjectItemCaseSensitive(c, "path")->valuestring;
    assert_non_null(cJSON_GetObjectItemCaseSensitive(c, "template")->valuestring);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM calls WHERE id = %lld AND upper(method) = '%s' AND "
             "status = %d AND url LIKE '%%%s%%'",
             (long long)id, method, (int)tu_num(c, "status"), path);
    assert_int_equal(tu_file_int(tw_e->db, sql), 1);
  }
  printf("checked: /api/mock?%s serves %ld requests from %lld recorded calls, as `reqlog "
         "mock` does\n", query, want, (long long)recorded);
  cJSON_Delete(j);
}

static void test_counts(void **state) {
  (void)state;
  expect_counts("", NULL, "", "all.log");
  expect_counts("status=4xx", ARGS("--status", "4xx"), " AND status BETWEEN 400 AND 499",
                "4xx.log");
  expect_counts("path=/public/v1/participants", ARGS("--path", "/public/v1/participants"),
                " AND url LIKE '%/public/v1/participants%'", "path.log");
}

static void test_command(void **state) {
  (void)state;
  cJSON *j = api_mock("status=4xx&status=5xx&min_ms=0&method=GET");
  const char *cmd = cJSON_GetObjectItemCaseSensitive(j, "command")->valuestring;
  assert_string_equal(cmd, "reqlog mock --status 4xx --status 5xx --min-ms 0 --method GET");
  cJSON_Delete(j);

  const char *hostile = "/x'; touch pwned $(id) `id` \"a b\"*";
  char *q = tw_query_of("path=/x'; touch pwned $(id) `id` \"a b\"*");
  j = api_mock(q);
  free(q);
  cmd = cJSON_GetObjectItemCaseSensitive(j, "command")->valuestring;
  const char *prefix = "reqlog mock --path ";
  assert_int_equal(strncmp(cmd, prefix, strlen(prefix)), 0);
  /* the shell reads the words back: printf prints each on its own line */
  char script[1024];
  snprintf(script, sizeof script, "cd '%s' && printf '%%s\\n' %s", tw_e->dir,
           cmd + strlen("reqlog mock "));
  char *file = tu_path(tw_e->dir, "words.sh");
  FILE *f = fopen(file, "w");
  assert_non_null(f);
  fputs(script, f);
  fclose(f);
  char run[1024];
  snprintf(run, sizeof run, "/bin/sh '%s'", file);
  FILE *p = popen(run, "r");
  assert_non_null(p);
  char words[1024] = "";
  size_t n = fread(words, 1, sizeof words - 1, p);
  words[n] = '\0';
  assert_int_equal(pclose(p), 0);
  char want[1024];
  snprintf(want, sizeof want, "--path\n%s\n", hostile);
  assert_string_equal(words, want);
  char *pwned = tu_path(tw_e->dir, "pwned");
  FILE *leak = fopen(pwned, "r");
  assert_null(leak);
  free(pwned);
  free(file);
  printf("checked: %s reads back in /bin/sh as --path and the hostile value, one word\n",
         cmd);
  cJSON_Delete(j);
}

static void test_bad(void **state) {
  (void)state;
  tw_reply res = tw_get("/api/mock?status=4yy");
  tw_expect_400_naming(&res, "status");
  tw_resp_free(&res);
  res = tw_get("/api/mock?limit=5");
  tw_expect_400_naming(&res, "limit");
  tw_resp_free(&res);
  res = tw_get("/api/mock?since=yesterday-ish");
  tw_expect_400_naming(&res, "since");
  tw_resp_free(&res);
  printf("checked: a bad status, since and an unknown parameter get 400 naming them\n");
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_counts),
    cmocka_unit_test(test_command),
    cmocka_unit_test(test_bad),
  };
  int rc = cmocka_run_group_tests(tests, tw_setup, tw_teardown);
  curl_global_cleanup();
  return rc;
}
