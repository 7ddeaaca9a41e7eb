/* testweb.c: the fixture the dashboard suites (tests/integration/test_web_*.c) share: a
 * history recorded from the fake API and a web server on loopback over it (tw_setup,
 * tw_teardown), HTTP requests with libcurl and checks of their JSON answers, filters and
 * ids from the library to compare with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reqlog.h"
#include "reqlog_web.h"
#include "testutil.h"
#include "testweb.h"

tw_env *tw_e;

/* A curl write callback into a growing NUL-terminated buffer. */
size_t tw_collect(char *p, size_t s, size_t n, void *arg) {
  tw_membuf *b = arg;
  char *q = realloc(b->p, b->len + s * n + 1);
  assert_non_null(q);
  memcpy(q + b->len, p, s * n);
  b->len += s * n;
  q[b->len] = '\0';
  b->p = q;
  return s * n;
}

void tw_resp_free(tw_reply *r) {
  free(r->body);
  free(r->headers);
  memset(r, 0, sizeof *r);
}

/* METHOD BASE+PATH with extra HEADERS (NULL-ended, may be NULL) and BODY (may be NULL),
 * giving up after TIMEOUT_S. Returns curl's result; *out is filled either way. */
CURLcode tw_http_try(const char *base, const char *method, const char *path,
                         const char *const *headers, const char *body, size_t body_len,
                         long timeout_s, tw_reply *out) {
  tw_reply r = {0};
  tw_membuf b = {0}, h = {0};
  char url[70000];
  snprintf(url, sizeof url, "%s%s", base, path);
  CURL *c = curl_easy_init();
  struct curl_slist *list = NULL;
  for (int i = 0; headers && headers[i]; i++)
    list = curl_slist_append(list, headers[i]);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tw_collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, tw_collect);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
  curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L); /* send "/static/../x" as it is */
  if (body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
  }
  CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(c);
  r.body = b.p ? b.p : strdup("");
  r.len = b.len;
  r.headers = h.p ? h.p : strdup("");
  r.hlen = h.len;
  *out = r;
  return rc;
}

/* As http_try, asserting that an answer came within a minute. */
tw_reply tw_http_at(const char *base, const char *method, const char *path,
                    const char *const *headers, const char *body, size_t body_len) {
  tw_reply r;
  CURLcode rc = tw_http_try(base, method, path, headers, body, body_len, 60L, &r);
  if (rc != CURLE_OK)
    fprintf(stderr, "curl %s %s: %s\n", method, path, curl_easy_strerror(rc));
  assert_int_equal(rc, CURLE_OK);
  return r;
}

tw_reply tw_http(const char *method, const char *path, const char *const *headers) {
  return tw_http_at(tw_e->url, method, path, headers, NULL, 0);
}

tw_reply tw_get(const char *path) {
  return tw_http("GET", path, NULL);
}

/* The value of response header NAME (malloc'd, without CR LF), or NULL. */
char *tw_header(const tw_reply *r, const char *name) {
  size_t n = strlen(name);
  for (const char *line = r->headers; line && *line;) {
    const char *end = strchr(line, '\n');
    if (!end)
      end = line + strlen(line);
    if ((size_t)(end - line) > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
      const char *v = line + n + 1;
      while (*v == ' ')
        v++;
      size_t len = (size_t)(end - v);
      while (len && (v[len - 1] == '\r' || v[len - 1] == ' '))
        len--;
      return strndup(v, len);
    }
    line = *end ? end + 1 : end;
  }
  return NULL;
}

cJSON *tw_json_of(const tw_reply *r) {
  const char *end = NULL;
  cJSON *j = cJSON_ParseWithOpts(r->body, &end, 1);
  if (!j)
    fprintf(stderr, "not JSON (%ld): %.300s\n", r->status, r->body);
  assert_non_null(j);
  return j;
}

/* Asserts a JSON error reply: STATUS, and MESSAGE when not NULL. */
void tw_expect_error(const tw_reply *r, long status, const char *message) {
  if (r->status != status)
    fprintf(stderr, "expected %ld, got %ld: %.300s\n", status, r->status, r->body);
  assert_int_equal(r->status, status);
  char *ct = tw_header(r, "Content-Type");
  assert_non_null(ct);
  assert_string_equal(ct, "application/json");
  free(ct);
  cJSON *j = tw_json_of(r);
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
  assert_true(cJSON_IsString(m));
  if (message)
    assert_string_equal(m->valuestring, message);
  cJSON_Delete(j);
}

/* A 400 whose errors object names PARAM. */
void tw_expect_400_naming(const tw_reply *r, const char *param) {
  tw_expect_error(r, 400, "The given data was invalid.");
  cJSON *j = tw_json_of(r);
  const cJSON *errors = cJSON_GetObjectItemCaseSensitive(j, "errors");
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(errors, param);
  if (!cJSON_IsArray(list))
    fprintf(stderr, "errors do not name %s: %s\n", param, r->body);
  assert_true(cJSON_IsArray(list));
  assert_true(cJSON_IsString(cJSON_GetArrayItem(list, 0)));
  cJSON_Delete(j);
}

/* "?a=b&c=d" query text from "a=b&c=d" with every value percent-encoded. */
char *tw_query_of(const char *spec) {
  char *copy = strdup(spec), *save = NULL, *out = calloc(1, 4096);
  CURL *c = curl_easy_init();
  for (char *kv = strtok_r(copy, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
    char *eq = strchr(kv, '=');
    assert_non_null(eq);
    *eq = '\0';
    char *v = curl_easy_escape(c, eq + 1, 0);
    snprintf(out + strlen(out), 4096 - strlen(out), "%s%s=%s", *out ? "&" : "", kv, v);
    curl_free(v);
  }
  curl_easy_cleanup(c);
  free(copy);
  return out;
}

/* A filter from "a=b&c=d" (values unencoded). */
reqlog_filter *tw_filter_of(const char *spec) {
  reqlog_filter *f = NULL;
  assert_int_equal(reqlog_filter_new(&f), REQLOG_OK);
  char *copy = strdup(spec), *save = NULL;
  for (char *kv = strtok_r(copy, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
    char *eq = strchr(kv, '=');
    *eq = '\0';
    assert_int_equal(reqlog_filter_set(f, kv, eq + 1, NULL), REQLOG_OK);
  }
  free(copy);
  return f;
}

/* Ids (newest first) as a comma list, from the library with filter SPEC. */
char *tw_lib_ids(reqlog *r, const char *spec) {
  reqlog_filter *f = tw_filter_of(spec);
  reqlog_cursor *c = NULL;
  assert_int_equal(reqlog_query(r, f, NULL, &c, NULL), REQLOG_OK);
  char *out = calloc(1, 65536);
  cJSON *row = NULL;
  while (reqlog_cursor_next(c, &row) == REQLOG_OK) {
    snprintf(out + strlen(out), 65536 - strlen(out), "%s%.0f", *out ? "," : "", tu_num(row, "id"));
    cJSON_Delete(row);
  }
  reqlog_cursor_free(c);
  reqlog_filter_free(f);
  return out;
}

/* Ids of ITEMS as a comma list appended to OUT. */
void tw_append_ids(char *out, size_t cap, const cJSON *items) {
  const cJSON *row;
  cJSON_ArrayForEach(row, items)
    snprintf(out + strlen(out), cap - strlen(out), "%s%.0f", *out ? "," : "", tu_num(row, "id"));
}

/* ------------------------------------------------------------------ the history */

int64_t tw_newest_id(reqlog *r) {
  reqlog_cursor *c = NULL;
  reqlog_query_opts o = {.limit = 1};
  assert_int_equal(reqlog_query(r, NULL, &o, &c, NULL), REQLOG_OK);
  cJSON *row = NULL;
  int64_t id = 0;
  if (reqlog_cursor_next(c, &row) == REQLOG_OK)
    id = (int64_t)tu_num(row, "id");
  cJSON_Delete(row);
  reqlog_cursor_free(c);
  return id;
}

int64_t tw_call(reqlog *r, const char *method, const char *path, const char *body,
                    size_t len) {
  reqlog_response *resp = NULL;
  reqlog_request(r, method, path, body, len, NULL, &resp);
  assert_non_null(resp);
  reqlog_response_free(resp);
  assert_int_equal(reqlog_flush(r, NULL), REQLOG_OK);
  return tw_newest_id(r);
}

reqlog *tw_recorder(void) {
  reqlog *r = NULL;
  assert_int_equal(reqlog_open(tw_e->db, &r, NULL), REQLOG_OK);
  reqlog_set_base_url(r, fakeapi_base_url(tw_e->api));
  reqlog_set_api_key(r, FAKEAPI_KEY);
  reqlog_set_rate_limit(r, 0);
  reqlog_set_retry(r, 2, 10, 1000);
  return r;
}

/* A mix of every status class, methods, keys, a 422 with fields, a slow call, a retry
 * chain, a transport error, a searchable body, truncated and binary request bodies,
 * three origins (this host, then ci-runner-3 for the two calls with FAKEAPI_KEY2, then
 * laptop-ada), and one row (inserted with SQL) whose error message starts with '='. */
static void seed(void) {
  reqlog *r = tw_recorder();
  tw_call(r, "GET", "/participants", NULL, 0);
  tw_call(r, "GET", "/participants/1", NULL, 0);
  tw_call(r, "GET", "/participants/999", NULL, 0);
  const char *ok =
    "{\"first_name\":\"Zanzibar\",\"last_name\":\"Quux\",\"email\":\"z@example.com\"}";
  tw_e->post_201_id = tw_call(r, "POST", "/participants", ok, strlen(ok));
  const char *bad = "{\"last_name\":\"Hopper\",\"email\":\"not-an-email\"}";
  tw_call(r, "POST", "/participants", bad, strlen(bad));
  tw_call(r, "PATCH", "/participants/2", "{\"email\":\"grace@example.com\"}", 29);
  tw_call(r, "DELETE", "/participants/3", NULL, 0);
  tw_call(r, "GET", "/slow?ms=120", NULL, 0);
  tw_call(r, "GET", "/status/500", NULL, 0);
  tw_call(r, "GET", "/flaky?fail=1&id=webseed", NULL, 0);
  tw_call(r, "GET", "/binary?bytes=64", NULL, 0);
  tw_call(r, "GET", "http://127.0.0.1:1/refused", NULL, 0);
  reqlog_set_api_key(r, FAKEAPI_KEY2);
  assert_int_equal(reqlog_set_origin(r, "ci-runner-3"), REQLOG_OK); /* flushed per call */
  tw_call(r, "GET", "/participants?page=1", NULL, 0);
  tw_call(r, "GET", "/participants/4", NULL, 0);
  assert_int_equal(reqlog_set_origin(r, "laptop-ada"), REQLOG_OK);
  reqlog_set_api_key(r, FAKEAPI_KEY_RO);
  tw_call(r, "POST", "/participants", ok, strlen(ok));
  reqlog_set_api_key(r, FAKEAPI_KEY);
  reqlog_set_body_cap(r, 16);
  tw_e->truncated_id = tw_call(r, "POST", "/participants", ok, strlen(ok));
  reqlog_set_body_cap(r, 1024 * 1024);
  const char bin[] = {'\xff', '\xfe', '\x00', '\x01', '\x80'};
  tw_e->binary_id = tw_call(r, "POST", "/participants", bin, sizeof bin);
  assert_int_equal(reqlog_close(r), REQLOG_OK);

  sqlite3 *db = tu_db(tw_e->db);
  tu_exec(db, "INSERT INTO calls(started_at, method, url, host, path, status, duration_us,"
              " source, error_message) VALUES (strftime('%s','now') * 1000000, 'GET',"
              " 'http://127.0.0.1:9/formula', '127.0.0.1', '/formula', 400, 1000, 'import',"
              " '=HYPERLINK(\"http://evil.example\")')");
  sqlite3_close(db);
}

int tw_setup(void **state) {
  tw_e = calloc(1, sizeof *tw_e);
  tw_e->dir = tu_tmpdir();
  tw_e->db = tu_path(tw_e->dir, "web.db");
  tw_e->api = tu_api(100000, 60000);
  /* the server's replays send this key, to the fake API only; reqlog_open() reads them */
  setenv("REQLOG_API_KEY", FAKEAPI_KEY, 1);
  setenv("REQLOG_BASE_URL", fakeapi_base_url(tw_e->api), 1);
  seed();
  web_opts o = {.db_path = tw_e->db, .listen = "127.0.0.1:0"};
  char *cause = NULL;
  if (web_start(&o, &tw_e->web, &cause) != 0)
    fprintf(stderr, "web_start: %s\n", cause);
  assert_non_null(tw_e->web);
  tw_e->url = web_url(tw_e->web);
  tw_e->port = atoi(strrchr(tw_e->url, ':') + 1);
  assert_true(tw_e->port > 0);
  assert_null(web_token(tw_e->web));
  *state = tw_e;
  return 0;
}

int tw_teardown(void **state) {
  (void)state;
  web_stop(tw_e->web);
  fakeapi_stop(tw_e->api);
  tu_rmtree(tw_e->dir);
  free(tw_e->dir);
  free(tw_e->db);
  free(tw_e);
  unsetenv("REQLOG_API_KEY");
  unsetenv("REQLOG_BASE_URL");
  return 0;
}

/* A TCP connection to 127.0.0.1:PORT, or -1. */
int tw_connect_local(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    fd = -1;
  }
  return fd;
}

/* Waits for PID's line starting with MARK (then text, then " on " or nothing, then the
 * URL) in OUTFILE; the URL into BASE. */
static void wait_ready(pid_t pid, const char *outfile, const char *what, const char *mark,
                       const char *before_url, char *base, size_t size) {
  for (int i = 0; i < 1200; i++) {
    char *text = tu_read_file(outfile);
    const char *at = text ? strstr(text, mark) : NULL;
    const char *url = at ? strstr(at, before_url) : NULL;
    if (url && strchr(url, '\n')) {
      url += strlen(before_url);
      snprintf(base, size, "%.*s", (int)(strchr(url, '\n') - url), url);
      free(text);
      return;
    }
    free(text);
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid)
      break;
    tu_sleep_ms(50);
  }
  char *text = tu_read_file(outfile);
  fail_msg("%s did not start: %s", what, text ? text : "(no output)");
}

pid_t tw_serve_bin(const char *db, const char *outfile, char *base, size_t size,
                   const char *const *env) {
  return tw_serve_bin_with(db, NULL, env, outfile, base, size);
}

/* `reqlog --db DB COMMAND --listen 127.0.0.1:0 EXTRA...` started as tu_spawn. */
static pid_t spawn_listening(const char *db, const char *command, const char *const *extra,
                             const char *const *env, const char *outfile) {
  const char *argv[32] = {"--db", db, command, "--listen", "127.0.0.1:0"};
  size_t n = 5;
  for (size_t i = 0; extra && extra[i] && n < 31; i++)
    argv[n++] = extra[i];
  argv[n] = NULL;
  return tu_spawn(argv, env, outfile);
}

pid_t tw_serve_bin_with(const char *db, const char *const *extra, const char *const *env,
                        const char *outfile, char *base, size_t size) {
  pid_t pid = spawn_listening(db, "serve", extra, env, outfile);
  wait_ready(pid, outfile, "reqlog serve", "serving ", "serving ", base, size);
  return pid;
}

pid_t tw_mock_bin(const char *db, const char *const *extra, const char *outfile, char *base,
                  size_t size) {
  pid_t pid = spawn_listening(db, "mock", extra, NULL, outfile);
  wait_ready(pid, outfile, "reqlog mock", "mock: serving ", " on ", base, size);
  return pid;
}
