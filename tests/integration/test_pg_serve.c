/* test_pg_serve.c: `reqlog serve --db postgresql://…`: the dashboard's API on a team store
 * in a throwaway PostgreSQL cluster, loaded by `reqlog ship --to`. The real binary
 * serves on loopback; libcurl asks it.
 *
 * Plan:
 *   dashboard on the store   /api/requests (list, a filter, a page), /api/requests/{id},
 *                            /api/stats, /api/export?format=csv, /api/stream?after=N
 *                            (the rows shipped after N arrive), replay refused with a
 *                            clear message (nothing to record into)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testpg.h"
#include "testutil.h"
#include "testweb.h"

/* Adds N calls to the history at PATH (status 200, 404 or 500 in turn), started a
 * second apart from START_US. */
static void add_calls(const char *path, int n, int64_t start_us) {
  sqlite3 *db = tu_db(path);
  char *sql = sqlite3_mprintf(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
    " INSERT INTO calls(started_at, method, url, host, path, status, duration_us, source,"
    " request_headers, response_headers, response_body, response_size, origin)"
    " SELECT %lld + i * 1000000, 'GET', 'https://api.example/v1/items/' || i, 'api.example',"
    " '/v1/items/' || i, CASE i %% 3 WHEN 0 THEN 200 WHEN 1 THEN 404 ELSE 500 END, 1000 + i, 'library', '[]',"
    " '[]', '{\"id\":' || i || '}', 9, 'serve-test' FROM n",
    n, (long long)start_us);
  tu_exec(db, sql);
  sqlite3_free(sql);
  sqlite3_close(db);
}

static void ship(const char *spool, const char *uri) {
  char *out = NULL, *err = NULL;
  int rc = tu_run(ARGS("--db", spool, "ship", "--to", uri), NULL, NULL, &out, &err);
  tu_expect_exit(rc, 0, "ship", err);
  tu_free2(&out, &err);
}

/* Starts `reqlog --db URI serve --listen 127.0.0.1:0`; its base URL into BASE. */
static pid_t serve(const char *uri, const char *outfile, char *base, size_t size) {
  const char *bin = getenv("REQLOG_TEST_BIN");
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    dup2(fd, 2);
    execl(bin ? bin : "build/reqlog", "reqlog", "--db", uri, "serve", "--listen",
          "127.0.0.1:0", (char *)NULL);
    _exit(127);
  }
  /* wait for its "serving URL" line (or its end) */
  for (int i = 0; i < 600; i++) {
    char *text = tu_read_file(outfile);
    const char *at = text ? strstr(text, "serving ") : NULL;
    if (at && strchr(at, '\n')) {
      snprintf(base, size, "%.*s", (int)(strchr(at, '\n') - at - 8), at + 8);
      free(text);
      return pid;
    }
    free(text);
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid)
      break;
    nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
  }
  char *text = tu_read_file(outfile);
  fail_msg("reqlog serve did not start: %s", text ? text : "(no output)");
  return -1;
}

static void dashboard_on_store(void **state) {
  (void)state;
  tpg *pg = tpg_start();
  if (!pg)
    skip();
  char *dir = tu_tmpdir();
  char *spool = tu_path(dir, "spool.db");
  char *log = tu_path(dir, "serve.log");
  char *uri = tpg_createdb(pg, "serve");
  reqlog *r = NULL;
  assert_int_equal(reqlog_open(spool, &r, NULL), REQLOG_OK);
  reqlog_close(r);
  int64_t start = tu_now_us() - INT64_C(3600000000);
  add_calls(spool, 30, start);
  ship(spool, uri);

  char base[128];
  pid_t pid = serve(uri, log, base, sizeof base);

  tw_reply rep = tw_http_at(base, "GET", "/api/requests?limit=10", NULL, NULL, 0);
  assert_int_equal(rep.status, 200);
  cJSON *j = tw_json_of(&rep);
  cJSON *rows = cJSON_GetObjectItem(j, "items");
  assert_true(cJSON_IsArray(rows));
  assert_int_equal(cJSON_GetArraySize(rows), 10);
  assert_int_equal(tu_jint(cJSON_GetArrayItem(rows, 0), "id"), 30);
  assert_string_equal(tu_str(cJSON_GetArrayItem(rows, 0), "origin"), "serve-test");
  cJSON_Delete(j);
  tw_resp_free(&rep);

  rep = tw_http_at(base, "GET", "/api/requests?status=404&limit=500", NULL, NULL, 0);
  assert_int_equal(rep.status, 200);
  assert_non_null(strstr(rep.body, "\"status\":404"));
  assert_null(strstr(rep.body, "\"status\":200"));
  tw_resp_free(&rep);

  rep = tw_http_at(base, "GET", "/api/requests/7", NULL, NULL, 0);
  assert_int_equal(rep.status, 200);
  j = tw_json_of(&rep);
  assert_int_equal(tu_jint(j, "id"), 7);
  assert_string_equal(tu_str(j, "response_body"), "{\"id\":7}");
  cJSON_Delete(j);
  tw_resp_free(&rep);

  rep = tw_http_at(base, "GET", "/api/requests/999", NULL, NULL, 0);
  assert_int_equal(rep.status, 404);
  tw_resp_free(&rep);

  rep = tw_http_at(base, "GET", "/api/stats", NULL, NULL, 0);
  assert_int_equal(rep.status, 200);
  j = tw_json_of(&rep);
  assert_int_equal(tu_jint(j, "total"), 30);
  cJSON *by_class = cJSON_GetObjectItem(j, "by_class");
  assert_int_equal(tu_jint(by_class, "4xx"), 10);
  assert_int_equal(tu_jint(by_class, "5xx"), 10);
  cJSON_Delete(j);
  tw_resp_free(&rep);

  rep = tw_http_at(base, "GET", "/api/export?format=csv", NULL, NULL, 0);
  assert_int_equal(rep.status, 200);
  assert_non_null(strstr(rep.body, "id,started_at,method,url,status"));
  int lines = 0;
  for (const char *p = rep.body; (p = strstr(p, "\r\n")); p += 2)
    lines++;
  assert_int_equal(lines, 31);
  tw_resp_free(&rep);

  /* the tail: rows shipped after id 30 come as events of a stream opened after 30 */
  add_calls(spool, 3, start + INT64_C(60000000));
  ship(spool, uri);
  tw_reply st = {0};
  tw_http_try(base, "GET", "/api/stream?after=30", NULL, NULL, 0, 3, &st);
  assert_int_equal(st.status, 200);
  for (int id = 31; id <= 33; id++) {
    char want[32];
    snprintf(want, sizeof want, "\"id\":%d", id);
    if (!st.body || !strstr(st.body, want))
      fail_msg("stream lacks row %d: %s", id, st.body ? st.body : "");
  }
  tw_resp_free(&st);

  /* replay: refused before anything is sent */
  char origin[160];
  snprintf(origin, sizeof origin, "Origin: %s", base);
  rep = tw_http_at(base, "POST", "/api/requests/7/replay",
                   (const char *const[]){origin, NULL}, NULL, 0);
  tw_expect_error(&rep, 409, NULL);
  assert_non_null(strstr(rep.body, "team store"));
  tw_resp_free(&rep);

  print_message("serve --db postgresql://: list, filter, detail, 404, stats, CSV export and "
                "the stream by id answer from the store; replay refused (409)\n");
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  char *text = tu_read_file(log);
  assert_null(strstr(text, "password"));
  free(text);
  free(uri);
  free(spool);
  free(log);
  tpg_stop(pg);
  tu_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(dashboard_on_store),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
