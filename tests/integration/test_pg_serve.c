/* test_pg_serve.c: `reqlog serve --db postgresql://…`: the dashboard's API on a team store
 * in a throwaway PostgreSQL cluster, loaded by `reqlog ship --to`. The real binary
 * serves on loopback; libcurl asks it.
 *
 * Plan:
 *   dashboard on the store   /api/requests (list, a filter, a page), /api/requests/{id},
 *                            /api/stats, /api/export?format=csv, /api/stream?after=N
 *                            (the rows shipped after N arrive)
 *   replay on the store      rows of two fake APIs shipped to the store, served with the
 *                            first API's key and base URL: the preview says whether the
 *                            key goes; the replay answers 201 with the new call's store
 *                            id (method, URL, status as sent; the key reached the API's
 *                            origin only: the other API answered 401); with the store's
 *                            ship_state locked (the shipper cannot ship), 202 with the
 *                            spool id, and the call arrives once the lock goes; the
 *                            spool is said once on stderr; each call is in the store once
 *   export waits for store   serve --idle-timeout 2; the calls table locked by another
 *                            session for 4 s while a CSV export waits for its rows: the
 *                            export still answers every row (MHD counted the wait for the
 *                            store as the connection idling and cut it: issue 12's first
 *                            10M export round); an idle kept-alive connection is still
 *                            closed after the timeout
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

/* A throwaway cluster with a store NAME holding N calls from START_US (add_calls),
 * shipped from a spool in a temporary folder; LOG is for a server's output. */
struct served {
  tpg *pg;
  char *dir, *spool, *log, *uri;
};

static int served_start(struct served *x, const char *name, int n, int64_t start_us) {
  memset(x, 0, sizeof *x);
  x->pg = tpg_start();
  if (!x->pg)
    return -1;
  x->dir = tu_tmpdir();
  x->spool = tu_path(x->dir, "spool.db");
  x->log = tu_path(x->dir, "serve.log");
  x->uri = tpg_createdb(x->pg, name);
  reqlog *r = NULL;
  assert_int_equal(reqlog_open(x->spool, &r, NULL), REQLOG_OK);
  reqlog_close(r);
  add_calls(x->spool, n, start_us);
  ship(x->spool, x->uri);
  return 0;
}

/* Stops the server PID (it must exit 0 on SIGTERM, its output naming no password) and
 * removes everything of X. */
static void served_end(struct served *x, pid_t pid) {
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  char *text = tu_read_file(x->log);
  assert_null(strstr(text ? text : "", "password"));
  free(text);
  free(x->uri);
  free(x->spool);
  free(x->log);
  tpg_stop(x->pg);
  tu_rmtree(x->dir);
  free(x->dir);
}

static void dashboard_on_store(void **state) {
  (void)state;
  struct served x;
  int64_t start = tu_now_us() - INT64_C(3600000000);
  if (served_start(&x, "serve", 30, start) != 0)
    skip();
  const char *spool = x.spool, *log = x.log, *uri = x.uri;

  char base[128];
  pid_t pid = tw_serve_bin(uri, log, base, sizeof base, NULL);

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

  print_message("serve --db postgresql://: list, filter, detail, 404, stats, CSV export and "
                "the stream by id answer from the store\n");
  served_end(&x, pid);
}

static void *commit_later(void *arg) {
  tu_sleep_ms(4000);
  tpg_exec(arg, "COMMIT");
  return NULL;
}

static void export_waits_for_store(void **state) {
  (void)state;
  struct served x;
  if (served_start(&x, "idle", 40, tu_now_us() - INT64_C(3600000000)) != 0)
    skip();
  const char *uri = x.uri;
  char base[128];
  pid_t pid = tw_serve_bin_with(uri, ARGS("--idle-timeout", "2"), NULL, x.log, base, sizeof base);
  /* the server answers before the lock: its connections and statements are ready */
  tw_reply rep = tw_http_at(base, "GET", "/api/requests?limit=1", NULL, NULL, 0);
  assert_int_equal(rep.status, 200);
  tw_resp_free(&rep);

  PGconn *c = tpg_conn(uri);
  tpg_exec(c, "BEGIN");
  tpg_exec(c, "LOCK TABLE calls IN ACCESS EXCLUSIVE MODE");
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, commit_later, c), 0);
  int64_t t0 = tu_now_us();
  rep = tw_http_at(base, "GET", "/api/export?format=csv", NULL, NULL, 0);
  int64_t waited_ms = (tu_now_us() - t0) / 1000;
  pthread_join(t, NULL);
  PQfinish(c);
  assert_int_equal(rep.status, 200);
  /* not vacuous: the export did wait for the lock, longer than the idle timeout */
  if (waited_ms < 3000)
    fail_msg("the export came after %lld ms: it did not wait for the lock", (long long)waited_ms);
  int lines = 0;
  for (const char *p = rep.body; p && (p = strstr(p, "\r\n")); p += 2)
    lines++;
  if (lines != 41)
    fail_msg("the export has %d lines, not the header and 40 rows: %.200s", lines,
             rep.body ? rep.body : "(none)");
  tw_resp_free(&rep);

  /* the timeout is still in force for a connection that says nothing */
  const char *colon = strrchr(base, ':');
  int fd = tw_connect_local(atoi(colon + 1));
  assert_true(fd >= 0);
  tu_sleep_ms(3500);
  char byte;
  ssize_t got = recv(fd, &byte, 1, MSG_DONTWAIT);
  assert_int_equal(got, 0); /* closed by the server */
  close(fd);

  print_message("an export that waited %lld ms for a locked table with --idle-timeout 2: every "
                "row; a silent connection closed after the timeout\n", (long long)waited_ms);
  served_end(&x, pid);
}

/* The replay path of store id ID on BASE, sent same-origin. */
static tw_reply replay_at(const char *base, const char *method, int64_t id) {
  char path[64], origin[160];
  snprintf(path, sizeof path, "/api/requests/%lld/replay", (long long)id);
  snprintf(origin, sizeof origin, "Origin: %s", base);
  return tw_http_at(base, method, path, (const char *const[]){origin, NULL}, NULL, 0);
}

/* The JSON of a reply that must have status WANT. */
static cJSON *json_with(tw_reply *rep, long want) {
  if (rep->status != want)
    fail_msg("wanted %ld, got %ld: %s", want, rep->status, rep->body ? rep->body : "");
  cJSON *j = tw_json_of(rep);
  tw_resp_free(rep);
  return j;
}

/* Records GET BASE_URL/echo with KEY (NULL: none) into the history R. */
static void record_echo(reqlog *r, const char *base_url, const char *key) {
  assert_int_equal(reqlog_set_base_url(r, base_url), REQLOG_OK);
  assert_int_equal(reqlog_set_api_key(r, key), REQLOG_OK);
  reqlog_response *resp = NULL;
  reqlog_request(r, "GET", "/echo", NULL, 0, NULL, &resp);
  assert_non_null(resp);
  assert_true(resp->row_id > 0);
  reqlog_response_free(resp);
}

static void replay_on_store(void **state) {
  (void)state;
  tpg *pg = tpg_start();
  TPG_SKIP_WITHOUT(pg);
  char *dir = tu_tmpdir();
  char *spool = tu_path(dir, "recorded.db");
  char *serve_spool = tu_path(dir, "serve-spool.db");
  char *log = tu_path(dir, "serve.log");
  char *uri = tpg_createdb(pg, "replay");
  fakeapi *api = tu_api(100000, 60000), *other = tu_api(100000, 60000);
  char fp[48];
  reqlog_key_fingerprint(FAKEAPI_KEY, fp);
  char api_echo[200];
  snprintf(api_echo, sizeof api_echo, "%s/echo", fakeapi_base_url(api));

  /* store ids 1, 2, 3: the API's call with its key, the other API's with its own, the
   * API's without a key */
  reqlog *r = NULL;
  assert_int_equal(reqlog_open(spool, &r, NULL), REQLOG_OK);
  reqlog_set_rate_limit(r, 0);
  reqlog_set_retry(r, 1, 10, 1000);
  reqlog_set_durability(r, REQLOG_DURABILITY_SYNC); /* each call's row id as it returns */
  record_echo(r, fakeapi_base_url(api), FAKEAPI_KEY);
  record_echo(r, fakeapi_base_url(other), FAKEAPI_KEY2);
  record_echo(r, fakeapi_base_url(api), NULL);
  assert_int_equal(reqlog_close(r), REQLOG_OK);
  ship(spool, uri);

  char key_env[128], base_env[256], spool_env[600];
  snprintf(key_env, sizeof key_env, "REQLOG_API_KEY=%s", FAKEAPI_KEY);
  snprintf(base_env, sizeof base_env, "REQLOG_BASE_URL=%s", fakeapi_base_url(api));
  snprintf(spool_env, sizeof spool_env, "REQLOG_SPOOL=%s", serve_spool);
  char rate_env[] = "REQLOG_RATE=0";
  const char *env[] = {key_env, base_env, spool_env, rate_env, NULL};
  char base[128];
  pid_t pid = tw_serve_bin(uri, log, base, sizeof base, env);

  tw_reply rep = tw_http_at(base, "GET", "/api/requests/1", NULL, NULL, 0);
  cJSON *j = json_with(&rep, 200);
  assert_string_equal(tu_str(j, "url"), api_echo);
  cJSON_Delete(j);

  /* the configured API's row: the key goes, and the new call is read from the store */
  j = json_with((rep = replay_at(base, "GET", 1), &rep), 200);
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "sends_key")));
  assert_string_equal(tu_str(j, "key"), fp);
  cJSON_Delete(j);
  long hits = fakeapi_hits(api, NULL);
  j = json_with((rep = replay_at(base, "POST", 1), &rep), 201);
  assert_int_equal(fakeapi_hits(api, NULL), hits + 1);
  int64_t first = tu_jint(j, "id");
  assert_int_equal(first, 4);
  assert_string_equal(tu_str(j, "method"), "GET");
  assert_string_equal(tu_str(j, "url"), api_echo);
  assert_int_equal(tu_jint(j, "status"), 200);
  assert_string_equal(tu_str(j, "key"), fp);
  cJSON *echo = cJSON_Parse(tu_str(j, "response_body"));
  assert_non_null(tu_header(echo, "headers", "Authorization"));
  cJSON_Delete(echo);
  cJSON_Delete(j);
  PGconn *c = tpg_conn(uri);
  assert_int_equal(tpg_int(c, "SELECT status FROM calls WHERE id = 4"), 200);

  /* another origin's row: no Authorization at all (the other API says 401) */
  j = json_with((rep = replay_at(base, "GET", 2), &rep), 200);
  assert_false(cJSON_IsTrue(cJSON_GetObjectItem(j, "sends_key")));
  assert_non_null(strstr(tu_str(j, "why"), "host"));
  cJSON_Delete(j);
  hits = fakeapi_hits(other, NULL);
  j = json_with((rep = replay_at(base, "POST", 2), &rep), 201);
  assert_int_equal(fakeapi_hits(other, NULL), hits + 1);
  assert_int_equal(tu_jint(j, "id"), 5);
  assert_int_equal(tu_jint(j, "status"), 401);
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "key")));
  cJSON_Delete(j);
  print_message("replay on the store: 201 with store ids 4 (200, the key went to the API) and "
                "5 (401 from the other API: no key)\n");

  /* the shipper held up (ship_state locked): the call is recorded, the answer says so */
  tpg_exec(c, "BEGIN");
  tpg_exec(c, "LOCK TABLE ship_state IN ACCESS EXCLUSIVE MODE");
  j = json_with((rep = replay_at(base, "POST", 3), &rep), 202);
  assert_int_equal(tu_jint(j, "spool_id"), 3);
  assert_non_null(strstr(tu_str(j, "message"), "recorded"));
  cJSON_Delete(j);
  tpg_exec(c, "COMMIT");
  int64_t n = 0;
  for (int i = 0; i < 600 && n < 6; i++) {
    n = tpg_int(c, "SELECT count(*) FROM calls");
    if (n < 6)
      nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
  }
  assert_int_equal(n, 6);
  assert_int_equal(tpg_int(c, "SELECT count(DISTINCT (history_id, spool_id)) FROM calls"), 6);
  assert_int_equal(tpg_int(c, "SELECT status FROM calls WHERE id = 6"), 401);
  print_message("with the shipper held up: 202 with spool id 3, then the call reached the "
                "store once it could\n");
  PQfinish(c);

  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  char *text = tu_read_file(log);
  const char *said = strstr(text, "replays are recorded into the spool ");
  if (!said || !strstr(said, serve_spool))
    fail_msg("the spool is not said: %s", text);
  assert_null(strstr(said + 1, "replays are recorded into the spool "));
  free(text);
  fakeapi_stop(api);
  fakeapi_stop(other);
  free(uri);
  free(spool);
  free(serve_spool);
  free(log);
  tpg_stop(pg);
  tu_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(dashboard_on_store),
    cmocka_unit_test(replay_on_store),
    cmocka_unit_test(export_waits_for_store),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
