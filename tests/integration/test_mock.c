/* test_mock.c: `reqlog mock` of the binary, serving a history recorded from the fake API
 * by `reqlog call` (plus one row with hostile headers written in SQL), asked with
 * libcurl.
 *
 * Plan:
 *   exact            a recorded GET comes back byte for byte: status, body, every
 *                    recorded header in order (X-Reqlog-Mock-Id / -Match say which)
 *   query_order      parameters in another order match; another value does not
 *   tpl              /participants/42 and a UUID answered by /participants/3 (template)
 *   newest           a 503 then a 200 of one request: the newer answers
 *   post_body        POST bodies pick their call (JSON members in any order); a body
 *                    never recorded gets the 404
 *   closest          the 404's JSON names the closest calls (same path, other method
 *                    first)
 *   bodies           binary, gzip (decoded, no Content-Encoding), 3 MB, a body cut at
 *                    the cap (X-Reqlog-Mock-Truncated), byte for byte as stored
 *   hostile          a recorded header value with CR LF, a name that is no token,
 *                    framing and hop-by-hop headers: none reaches the answer
 *   redacted         Set-Cookie stays [REDACTED]; a query value recorded [REDACTED]
 *                    matches any value
 *   head             HEAD is answered by the recorded GET, without its body
 *   host             a foreign Host header gets 421
 *   too_large        a request body past 16 MiB gets 413
 *   not_recorded     the mock's answers add no row to the history
 *   strict           --strict: exit 1 naming the unmatched request; 0 when all matched;
 *                    without --strict, 0 either way
 *   filters          --status 4xx serves only the 4xx calls
 *   record           --record: the exchanges (matched and not) become rows of a copy of
 *                    the history (source proxy), the answers unchanged
 *   usage            --help, a bad filter, a non-loopback --listen, extra arguments,
 *                    a missing history
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testcli.h"
#include "testweb.h"

#define P "/public/v1"
#define POST_OK "{\"first_name\":\"Ada\",\"last_name\":\"Lovelace\",\"email\":\"ada@example.org\"}"
#define POST_OK_REORDERED \
  "{ \"email\": \"ada@example.org\", \"first_name\": \"Ada\", \"last_name\": \"Lovelace\" }"
#define POST_BAD "{\"first_name\":\"Ada\",\"email\":\"not-an-email\"}"
#define UUID "3f2a9c1e-0b7d-4c55-9e21-a0b1c2d3e4f5"

static struct fixture {
  tc_env *e;
  char *db;
  int64_t list, p3, flaky_old, flaky_new, post_ok, post_bad, s404, binary, gzip, large,
    cut, session, echo, hostile;
  int64_t rows;
  pid_t pid;
  char base[128];
  char *log;
} fx;

/* `reqlog call ARGS` into the history with EXTRA_ENV (may be NULL); the id of the
 * (last attempt's) row. */
static int64_t call(const char *extra_env, const char *const *args) {
  char *out = NULL, *err = NULL;
  int rc = tc_run_env(fx.e, fx.db, FAKEAPI_KEY, NULL, extra_env, args, &out, &err);
  int64_t id = tc_recorded_id(err);
  if (id <= 0)
    fail_msg("reqlog call %s %s (exit %d) recorded nothing: %s", args[1], args[2], rc, err);
  tu_free2(&out, &err);
  return id;
}

/* tw_mock_bin() with BASE the mock's URL + the API's path. */
static pid_t start_mock(const char *db, const char *const *extra, const char *log, char *base,
                        size_t size) {
  pid_t pid = tw_mock_bin(db, extra, log, base, size);
  size_t n = strlen(base);
  snprintf(base + n, size - n, "%s", P);
  return pid;
}

/* SIGTERM to PID; its exit code. */
static int stop_mock(pid_t pid) {
  kill(pid, SIGTERM);
  return tu_wait_exit(pid);
}

static int64_t row_count(void) {
  return tu_file_int(fx.db, "SELECT count(*) FROM calls");
}

/* Row ID of the history, with bodies. */
static cJSON *row_of(int64_t id) {
  reqlog *r = NULL;
  assert_int_equal(reqlog_open_readonly(fx.db, &r, NULL), REQLOG_OK);
  cJSON *row = NULL;
  assert_int_equal(reqlog_get(r, id, &row, NULL), REQLOG_OK);
  reqlog_close(r);
  return row;
}

static int setup(void **state) {
  tc_setup(state);
  fx.e = *state;
  fx.db = tu_path(fx.e->dir, "mock.db");
  fx.list = call(NULL, ARGS("call", "GET", "/participants?page=1&per_page=2"));
  fx.p3 = call(NULL, ARGS("call", "GET", "/participants/3"));
  /* 503, retried, 200: two rows of one request */
  fx.flaky_new = call(NULL, ARGS("call", "GET", "/flaky?fail=1&id=mock-newest"));
  fx.flaky_old = fx.flaky_new - 1;
  fx.post_ok = call(NULL, ARGS("call", "POST", "/participants", "-d", POST_OK));
  fx.post_bad = call(NULL, ARGS("call", "POST", "/participants", "-d", POST_BAD));
  fx.s404 = call(NULL, ARGS("call", "GET", "/status/404"));
  fx.binary = call(NULL, ARGS("call", "GET", "/binary?bytes=5000"));
  fx.gzip = call(NULL, ARGS("call", "GET", "/gzip"));
  fx.large = call("REQLOG_BODY_CAP=4194304", ARGS("call", "GET", "/large?bytes=3000000"));
  fx.cut = call("REQLOG_BODY_CAP=1000", ARGS("call", "GET", "/large?bytes=50000"));
  fx.session = call(NULL, ARGS("call", "GET", "/session"));
  fx.echo = call(NULL, ARGS("call", "GET", "/echo?token=s3cret-query-value&n=1"));
  /* a row an importer or another tool could have written: hostile header values */
  sqlite3 *db = tu_db(fx.db);
  tu_exec(db, "CREATE TEMP TABLE t AS SELECT * FROM calls WHERE id = (SELECT max(id) FROM calls"
              " WHERE path = '" P "/participants/3')");
  tu_exec(db, "UPDATE t SET id = (SELECT max(id) + 1 FROM calls),"
              " url = replace(url, '/participants/3', '/hostile'), path = '" P "/hostile',"
              " response_headers = json_array(json_array('X-Evil', 'a' || char(13, 10) ||"
              " 'X-Injected: 1'), json_array('Bad Name', 'x'), json_array('X-Fine', 'ok'),"
              " json_array('Transfer-Encoding', 'chunked'), json_array('Content-Length', '999'),"
              " json_array('Connection', 'close, X-Hop'), json_array('X-Hop', 'hop'),"
              " json_array('X-Nul', 'a' || char(1) || 'b'),"
              " json_array('X-Reqlog-Mock-Id', '999'))");
  tu_exec(db, "INSERT INTO calls SELECT * FROM t");
  fx.hostile = tu_int(db, "SELECT max(id) FROM calls");
  sqlite3_close(db);
  fx.rows = row_count();
  fx.log = tu_path(fx.e->dir, "mock.log");
  fx.pid = start_mock(fx.db, NULL, fx.log, fx.base, sizeof fx.base);
  return 0;
}

static int teardown(void **state) {
  /* the mock that answered every test ends cleanly (under the sanitizers: no report) */
  int rc = fx.pid > 0 ? stop_mock(fx.pid) : 0;
  if (rc != 0) {
    char *text = tu_read_file(fx.log);
    print_error("reqlog mock exited %d: %s\n", rc, text ? text : "(no output)");
    free(text);
  }
  free(fx.db);
  free(fx.log);
  tc_teardown(state);
  return rc == 0 ? 0 : -1;
}

static tw_reply ask(const char *method, const char *path, const char *body) {
  return tw_http_at(fx.base, method, path, NULL, body, body ? strlen(body) : 0);
}

/* R was answered by recorded call ID, as KIND. */
static void expect_answer(const tw_reply *r, int64_t id, const char *kind) {
  char *got_id = tw_header(r, "X-Reqlog-Mock-Id"), *got_kind = tw_header(r, "X-Reqlog-Mock-Match");
  char want[32];
  snprintf(want, sizeof want, "%lld", (long long)id);
  if (!got_id || strcmp(got_id, want) != 0 || !got_kind || strcmp(got_kind, kind) != 0)
    fail_msg("want call #%s (%s), got #%s (%s): %ld %.300s", want, kind,
             got_id ? got_id : "-", got_kind ? got_kind : "-", r->status, r->body);
  free(got_id);
  free(got_kind);
}

static void expect_none(const tw_reply *r) {
  char *kind = tw_header(r, "X-Reqlog-Mock-Match");
  if (r->status != 404 || !kind || strcmp(kind, "none") != 0)
    fail_msg("want the mock's 404, got %ld (%s): %.300s", r->status, kind ? kind : "-", r->body);
  free(kind);
}

/* The stored response body of ROW is the N bytes at P (text, or base64 of them). */
static void expect_stored_body(const cJSON *row, const char *p, size_t n) {
  const cJSON *b = cJSON_GetObjectItemCaseSensitive(row, "response_body");
  if (cJSON_IsString(b)) {
    assert_int_equal(strlen(b->valuestring), n);
    assert_memory_equal(b->valuestring, p, n);
    return;
  }
  const char *b64 = tu_str(b, "base64");
  assert_non_null(b64);
  char *mine = tu_base64((const unsigned char *)p, n);
  assert_string_equal(mine, b64);
  free(mine);
}

static void exact(void **state) {
  (void)state;
  tw_reply r = ask("GET", "/participants/3", NULL);
  assert_int_equal(r.status, 200);
  expect_answer(&r, fx.p3, "exact");
  cJSON *row = row_of(fx.p3);
  expect_stored_body(row, r.body, r.len);
  /* every recorded header but the framing ones, in the recorded order */
  const cJSON *h;
  const char *from = r.headers;
  int seen = 0;
  cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(row, "response_headers")) {
    const char *name = cJSON_GetArrayItem(h, 0)->valuestring;
    const char *value = cJSON_GetArrayItem(h, 1)->valuestring;
    if (!strcasecmp(name, "Content-Length") || !strcasecmp(name, "Connection") ||
        !strcasecmp(name, "Transfer-Encoding"))
      continue;
    char line[1024];
    snprintf(line, sizeof line, "%s: %s\r\n", name, value);
    const char *at = strstr(from, line);
    if (!at)
      fail_msg("recorded header '%s: %s' not served (in order): %s", name, value, r.headers);
    from = at + strlen(line);
    seen++;
  }
  assert_true(seen >= 2); /* Content-Type, X-RateLimit-*, ... */
  cJSON_Delete(row);
  tw_resp_free(&r);
}

static void query_order(void **state) {
  (void)state;
  tw_reply r = ask("GET", "/participants?per_page=2&page=1", NULL);
  assert_int_equal(r.status, 200);
  expect_answer(&r, fx.list, "exact");
  tw_resp_free(&r);
  r = ask("GET", "/participants?page=2&per_page=2", NULL);
  expect_none(&r);
  tw_resp_free(&r);
  r = ask("GET", "/participants", NULL); /* no query: not the call with one */
  expect_none(&r);
  tw_resp_free(&r);
}

static void tpl(void **state) {
  (void)state;
  tw_reply r = ask("GET", "/participants/42", NULL);
  assert_int_equal(r.status, 200);
  expect_answer(&r, fx.p3, "template");
  tw_resp_free(&r);
  r = ask("GET", "/participants/" UUID, NULL);
  expect_answer(&r, fx.p3, "template");
  tw_resp_free(&r);
  r = ask("GET", "/participants/abc", NULL); /* a name is not an id */
  expect_none(&r);
  tw_resp_free(&r);
}

static void newest(void **state) {
  (void)state;
  sqlite3 *db = tu_db(fx.db);
  assert_int_equal(tu_intf(db, "SELECT status FROM calls WHERE id = %lld", (long long)fx.flaky_old), 503);
  assert_int_equal(tu_intf(db, "SELECT url = (SELECT url FROM calls WHERE id = %lld) FROM calls"
                           " WHERE id = %lld", (long long)fx.flaky_new, (long long)fx.flaky_old), 1);
  sqlite3_close(db);
  tw_reply r = ask("GET", "/flaky?fail=1&id=mock-newest", NULL);
  assert_int_equal(r.status, 200);
  expect_answer(&r, fx.flaky_new, "exact");
  tw_resp_free(&r);
}

static void post_body(void **state) {
  (void)state;
  tw_reply r = ask("POST", "/participants", POST_OK_REORDERED);
  assert_int_equal(r.status, 201);
  expect_answer(&r, fx.post_ok, "exact");
  tw_resp_free(&r);
  r = ask("POST", "/participants", POST_BAD);
  assert_int_equal(r.status, 422);
  expect_answer(&r, fx.post_bad, "exact");
  tu_expect_has(r.body, "\"errors\"", "the recorded 422 body");
  tw_resp_free(&r);
  r = ask("POST", "/participants", "{\"first_name\":\"Grace\"}");
  expect_none(&r);
  tw_resp_free(&r);
  r = ask("POST", "/participants", NULL);
  expect_none(&r);
  tw_resp_free(&r);
}

static void closest(void **state) {
  (void)state;
  tw_reply r = ask("DELETE", "/participants/3", NULL);
  expect_none(&r);
  cJSON *j = tw_json_of(&r);
  assert_string_equal(tu_str(j, "message"), "No recorded call matches this request.");
  const cJSON *req = cJSON_GetObjectItemCaseSensitive(j, "request");
  assert_string_equal(tu_str(req, "method"), "DELETE");
  assert_string_equal(tu_str(req, "path"), P "/participants/3");
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "closest");
  assert_true(cJSON_GetArraySize(list) >= 1 && cJSON_GetArraySize(list) <= 5);
  const cJSON *first = cJSON_GetArrayItem(list, 0);
  /* the same path with another method comes first; hostile is newer but another path */
  assert_int_equal(tu_jint(first, "id"), fx.p3);
  assert_string_equal(tu_str(first, "method"), "GET");
  assert_string_equal(tu_str(first, "path"), P "/participants/3");
  assert_int_equal(tu_jint(first, "status"), 200);
  cJSON_Delete(j);
  tw_resp_free(&r);
  char *log = tu_read_file(fx.log);
  tu_expect_has(log, "no recorded call matches DELETE " P "/participants/3", "the mock's stderr");
  free(log);
}

static void bodies(void **state) {
  (void)state;
  struct {
    const char *path;
    int64_t id;
    size_t min_len;
  } cases[] = {
    {"/binary?bytes=5000", fx.binary, 5000},
    {"/gzip", fx.gzip, 100},
    {"/large?bytes=3000000", fx.large, 3000000},
    {"/large?bytes=50000", fx.cut, 1000},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    tw_reply r = ask("GET", cases[i].path, NULL);
    assert_int_equal(r.status, 200);
    expect_answer(&r, cases[i].id, "exact");
    assert_true(r.len >= cases[i].min_len);
    cJSON *row = row_of(cases[i].id);
    expect_stored_body(row, r.body, r.len);
    char *enc = tw_header(&r, "Content-Encoding"), *len = tw_header(&r, "Content-Length");
    assert_null(enc); /* stored bodies are decoded */
    assert_non_null(len);
    assert_int_equal(strtoll(len, NULL, 10), (long long)r.len);
    char *cut = tw_header(&r, "X-Reqlog-Mock-Truncated");
    if (cases[i].id == fx.cut) {
      assert_int_equal(r.len, 1000);
      assert_non_null(cut);
      assert_string_equal(cut, "50000");
    } else {
      assert_null(cut);
    }
    free(cut);
    free(enc);
    free(len);
    cJSON_Delete(row);
    tw_resp_free(&r);
  }
}

static void hostile(void **state) {
  (void)state;
  tw_reply r = ask("GET", "/hostile", NULL);
  assert_int_equal(r.status, 200);
  expect_answer(&r, fx.hostile, "exact");
  static const char *const absent[] = {"X-Injected", "X-Evil", "Bad Name", "X-Hop",
                                       "Transfer-Encoding", "X-Nul", NULL};
  for (int i = 0; absent[i]; i++) {
    char *v = tw_header(&r, absent[i]);
    if (v)
      fail_msg("header %s was served: %s", absent[i], r.headers);
  }
  if (strstr(r.headers, "X-Injected"))
    fail_msg("the recorded CR LF split a header: %s", r.headers);
  /* a recorded X-Reqlog-Mock-Id (a mock's answer recorded) gives way to this answer's */
  const char *first = strstr(r.headers, "X-Reqlog-Mock-Id:");
  assert_non_null(first);
  assert_null(strstr(first + 1, "X-Reqlog-Mock-Id:"));
  char *fine = tw_header(&r, "X-Fine"), *len = tw_header(&r, "Content-Length");
  assert_non_null(fine);
  assert_string_equal(fine, "ok");
  assert_non_null(len);
  assert_int_equal(strtoll(len, NULL, 10), (long long)r.len);
  assert_true(r.len > 10);
  free(fine);
  free(len);
  tw_resp_free(&r);
  /* the connection still answers the next request properly */
  r = ask("GET", "/participants/3", NULL);
  expect_answer(&r, fx.p3, "exact");
  tw_resp_free(&r);
}

static void redacted(void **state) {
  (void)state;
  tw_reply r = ask("GET", "/session", NULL);
  assert_int_equal(r.status, 200);
  expect_answer(&r, fx.session, "exact");
  char *cookie = tw_header(&r, "Set-Cookie");
  assert_non_null(cookie);
  tu_expect_has(cookie, "[REDACTED]", "the served Set-Cookie");
  assert_null(strstr(r.headers, "SESSSECRET123"));
  free(cookie);
  tw_resp_free(&r);
  /* token= was recorded [REDACTED]: any token matches, the key is in no answer */
  r = ask("GET", "/echo?n=1&token=another-value", NULL);
  assert_int_equal(r.status, 200);
  expect_answer(&r, fx.echo, "exact");
  assert_null(strstr(r.body, FAKEAPI_KEY));
  assert_null(strstr(r.body, "s3cret-query-value"));
  tw_resp_free(&r);
  r = ask("GET", "/echo?n=2&token=another-value", NULL);
  expect_none(&r);
  tw_resp_free(&r);
}

static void head(void **state) {
  (void)state;
  const char *port = strrchr(fx.base + 7, ':') + 1;
  int fd = tw_connect_local(atoi(port));
  assert_true(fd >= 0);
  char req[256];
  int n = snprintf(req, sizeof req,
                   "HEAD " P "/participants/3 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                   "Connection: close\r\n\r\n", atoi(port));
  assert_int_equal(write(fd, req, (size_t)n), n);
  char buf[8192];
  size_t got = 0;
  ssize_t k;
  while (got < sizeof buf - 1 && (k = read(fd, buf + got, sizeof buf - 1 - got)) > 0)
    got += (size_t)k;
  buf[got] = '\0';
  close(fd);
  tu_expect_has(buf, "HTTP/1.1 200", "the answer to HEAD");
  char want[64];
  snprintf(want, sizeof want, "X-Reqlog-Mock-Id: %lld\r\n", (long long)fx.p3);
  tu_expect_has(buf, want, "the answer to HEAD");
  const char *end = strstr(buf, "\r\n\r\n");
  assert_non_null(end);
  assert_string_equal(end, "\r\n\r\n"); /* no body */
}

static void host(void **state) {
  (void)state;
  tw_reply r = tw_http_at(fx.base, "GET", "/participants/3",
                          (const char *const[]){"Host: attacker.example", NULL}, NULL, 0);
  assert_int_equal(r.status, 421);
  tw_resp_free(&r);
  char local[160];
  const char *port = strrchr(fx.base + 7, ':');
  snprintf(local, sizeof local, "Host: localhost%.*s", (int)strcspn(port, "/"), port);
  r = tw_http_at(fx.base, "GET", "/participants/3", (const char *const[]){local, NULL}, NULL, 0);
  assert_int_equal(r.status, 200);
  tw_resp_free(&r);
}

static void too_large(void **state) {
  (void)state;
  size_t n = 16 * 1024 * 1024 + 1;
  char *body = malloc(n + 1);
  memset(body, 'x', n);
  body[n] = '\0';
  tw_reply r = tw_http_at(fx.base, "POST", "/participants", NULL, body, n);
  assert_int_equal(r.status, 413);
  tw_resp_free(&r);
  free(body);
}

static void not_recorded(void **state) {
  (void)state;
  tw_reply r = ask("GET", "/participants/3", NULL);
  tw_resp_free(&r);
  r = ask("GET", "/nowhere", NULL);
  tw_resp_free(&r);
  assert_int_equal(row_count(), fx.rows);
}

static void strict(void **state) {
  (void)state;
  char base[128];
  /* a log of its own for each run: the parent may read it before the child truncates */
  char *log = tu_path(fx.e->dir, "strict1.log");
  /* an unmatched request: exit 1, naming it */
  pid_t pid = start_mock(fx.db, ARGS("--strict"), log, base, sizeof base);
  tw_reply r = tw_http_at(base, "GET", "/nope?x=1", NULL, NULL, 0);
  expect_none(&r);
  tw_resp_free(&r);
  r = tw_http_at(base, "GET", "/participants/3", NULL, NULL, 0);
  tw_resp_free(&r);
  int rc = stop_mock(pid);
  char *text = tu_read_file(log);
  tu_expect_exit(rc, 1, "mock --strict with an unmatched request", text);
  tu_expect_has(text, "GET " P "/nope?x=1", "the strict report");
  tu_expect_has(text, "--strict: 1 requests matched no recorded call", "the strict report");
  free(text);
  /* all matched: 0 */
  free(log);
  log = tu_path(fx.e->dir, "strict2.log");
  pid = start_mock(fx.db, ARGS("--strict"), log, base, sizeof base);
  r = tw_http_at(base, "GET", "/participants/3", NULL, NULL, 0);
  assert_int_equal(r.status, 200);
  tw_resp_free(&r);
  rc = stop_mock(pid);
  text = tu_read_file(log);
  tu_expect_exit(rc, 0, "mock --strict, every request matched", text);
  free(text);
  /* without --strict an unmatched request is no failure */
  free(log);
  log = tu_path(fx.e->dir, "strict3.log");
  pid = start_mock(fx.db, NULL, log, base, sizeof base);
  r = tw_http_at(base, "GET", "/nope", NULL, NULL, 0);
  tw_resp_free(&r);
  rc = stop_mock(pid);
  text = tu_read_file(log);
  tu_expect_exit(rc, 0, "mock without --strict", text);
  tu_expect_has(text, "answered 1 requests, 1 unmatched", "the mock's summary");
  free(text);
  free(log);
}

static void filters(void **state) {
  (void)state;
  char base[128];
  char *log = tu_path(fx.e->dir, "filters.log");
  pid_t pid = start_mock(fx.db, ARGS("--status", "4xx"), log, base, sizeof base);
  char *text = tu_read_file(log);
  tu_expect_has(text, "mock: serving 2 recorded calls", "the ready line"); /* 422, 404 */
  free(text);
  tw_reply r = tw_http_at(base, "POST", "/participants", NULL, POST_BAD, strlen(POST_BAD));
  assert_int_equal(r.status, 422);
  tw_resp_free(&r);
  r = tw_http_at(base, "GET", "/participants/3", NULL, NULL, 0);
  expect_none(&r);
  tw_resp_free(&r);
  assert_int_equal(stop_mock(pid), 0);
  free(log);
}

static void record(void **state) {
  (void)state;
  char *copy = tu_path(fx.e->dir, "record.db");
  sqlite3 *db = tu_db(fx.db);
  char *sql = NULL;
  assert_true(asprintf(&sql, "VACUUM INTO '%s'", copy) > 0);
  tu_exec(db, sql);
  free(sql);
  sqlite3_close(db);
  int64_t before = tu_file_int(copy, "SELECT count(*) FROM calls");
  int64_t top = tu_file_int(copy, "SELECT max(id) FROM calls");
  char base[128];
  char *log = tu_path(fx.e->dir, "record.log");
  pid_t pid = start_mock(copy, ARGS("--record"), log, base, sizeof base);
  char *text = tu_read_file(log);
  tu_expect_has(text, "mock: recording its exchanges into ", "the stderr of --record");
  free(text);
  tw_reply r = tw_http_at(base, "GET", "/participants/3", NULL, NULL, 0);
  assert_int_equal(r.status, 200);
  expect_answer(&r, fx.p3, "exact");
  tw_resp_free(&r);
  r = tw_http_at(base, "GET", "/nope", NULL, NULL, 0);
  expect_none(&r);
  tw_resp_free(&r);
  int rc = stop_mock(pid);
  text = tu_read_file(log);
  tu_expect_exit(rc, 0, "mock --record", text);
  free(text);
  assert_int_equal(tu_file_int(copy, "SELECT count(*) FROM calls"), before + 2);
  db = tu_db(copy);
  char *got = tu_textf(db, "SELECT group_concat(source || ' ' || status || ' ' || path, ', ')"
                       " FROM (SELECT * FROM calls WHERE id > %lld ORDER BY id)", (long long)top);
  assert_string_equal(got, "proxy 200 " P "/participants/3, proxy 404 " P "/nope");
  free(got);
  sqlite3_close(db);
  /* the history the fixture's mock serves is untouched */
  assert_int_equal(row_count(), fx.rows);
  free(log);
  free(copy);
}

static void usage(void **state) {
  (void)state;
  char *out = NULL, *err = NULL;
  int rc = tu_run(ARGS("mock", "--help"), NULL, NULL, &out, &err);
  tu_expect_exit(rc, 0, "mock --help", err);
  tu_expect_has(out, "--strict", "mock --help");
  tu_expect_has(out, "--status", "mock --help (the filters)");
  tu_free2(&out, &err);
  rc = tu_run(ARGS("--db", fx.db, "mock", "--status", "4yy"), NULL, NULL, &out, &err);
  tu_expect_exit(rc, 2, "mock --status 4yy", err);
  tu_expect_has(err, "status", "a bad filter's message");
  tu_free2(&out, &err);
  rc = tu_run(ARGS("--db", fx.db, "mock", "--listen", "0.0.0.0:0"), NULL, NULL, &out, &err);
  tu_expect_exit(rc, 2, "mock --listen 0.0.0.0:0", err);
  tu_expect_has(err, "--allow-remote", "a non-loopback listen address");
  tu_free2(&out, &err);
  rc = tu_run(ARGS("--db", fx.db, "mock", "extra"), NULL, NULL, &out, &err);
  tu_expect_exit(rc, 2, "mock extra", err);
  tu_free2(&out, &err);
  char *missing = tu_path(fx.e->dir, "missing.db");
  rc = tu_run(ARGS("--db", missing, "mock"), NULL, NULL, &out, &err);
  tu_expect_exit(rc, 4, "mock of a missing history", err);
  tu_free2(&out, &err);
  free(missing);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(exact),    cmocka_unit_test(query_order), cmocka_unit_test(tpl),
    cmocka_unit_test(newest),   cmocka_unit_test(post_body),   cmocka_unit_test(closest),
    cmocka_unit_test(bodies),   cmocka_unit_test(hostile),     cmocka_unit_test(redacted),
    cmocka_unit_test(head),     cmocka_unit_test(host),        cmocka_unit_test(too_large),
    cmocka_unit_test(not_recorded), cmocka_unit_test(strict),  cmocka_unit_test(filters),
    cmocka_unit_test(record),   cmocka_unit_test(usage),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
