/* test_web.c: the dashboard server (web/server.h) answers as web/API.md says, over a
 * real history recorded from the tests' fake API, checked with libcurl on loopback.
 *
 * Plan:
 *   list + paging        keyset pages of /api/requests cover every row once, newest
 *                        first, without bodies; next is null on the last page
 *   every filter         each FILTER (and repeats of status/method) as query parameters
 *                        gives the same ids as reqlog_query() with that filter, and the
 *                        same total in /api/stats
 *   bad input            bad filter value, bad limit, unknown parameter: 400 naming it;
 *                        unknown id 404, non-numeric id 400; wrong method 405 + Allow;
 *                        unknown path 404 JSON; raw garbage (huge query, no Host, odd
 *                        methods, %00, thousands of parameters) never stops the server
 *   host + headers       a foreign Host gets 421; loopback names pass; security headers
 *                        (CSP without 'unsafe-inline', nosniff, frame-ancestors 'none')
 *                        on the page, no-store on the API; static files and traversal;
 *                        every /api/ answer (exports too) is sandboxed by its CSP
 *   replay               POST without Origin / with a foreign Origin 403; same origin
 *                        201 with a new row sent with the server's key; 409 for
 *                        truncated and binary bodies; 404; 413 for a large body
 *   token mode           401 without auth, Bearer works, /login sets an HttpOnly
 *                        SameSite=Strict cookie that works; non-loopback generates one
 *   export               CSV header row, formula cells neutralised, bytes equal to
 *                        reqlog_export() for the same filter (with and without bodies);
 *                        NDJSON lines parse; HAR has one entry per row; missing format 400
 *   live stream          a call recorded after connecting arrives as an event, one that
 *                        does not match the filter does not; after=ID replays in order;
 *                        past 8 streams from one address a 503 JSON, until one closes
 *   slow clients         40 connections of `reqlog serve` trickling request heads (and
 *                        reconnecting) do not keep GET / and /api/requests from answering;
 *                        a head that never ends is closed by the server
 *   100k rows            exporting 100,000 rows (about 100 MB of CSV) grows the
 *                        process's peak RSS by less than 32 MB
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reqlog.h"
#include "reqlog_web.h"
#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__)
/* ASan keeps freed memory in a quarantine (256 MB by default), which would count as
 * growth in the memory test; a small one keeps that test meaningful under ASan. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
  return "quarantine_size_mb=8";
}
#endif

typedef struct env {
  char *dir, *db;
  fakeapi *api;
  web_server *web;
  const char *url;       /* web_url(web) */
  int port;
  int64_t post_201_id;   /* a POST /participants answered 201, with a JSON body */
  int64_t truncated_id;  /* a POST whose stored body was cut at the cap */
  int64_t binary_id;     /* a POST with a binary body */
} env;

static env *E;

/* ------------------------------------------------------------------ HTTP helpers */

typedef struct reply {
  long status;
  char *body;
  size_t len;
  char *headers;
  size_t hlen;
} reply;

typedef struct membuf {
  char *p;
  size_t len;
} membuf;

/* A curl write callback into a growing NUL-terminated buffer. */
static size_t collect(char *p, size_t s, size_t n, void *arg) {
  membuf *b = arg;
  char *q = realloc(b->p, b->len + s * n + 1);
  assert_non_null(q);
  memcpy(q + b->len, p, s * n);
  b->len += s * n;
  q[b->len] = '\0';
  b->p = q;
  return s * n;
}

static void resp_free(reply *r) {
  free(r->body);
  free(r->headers);
  memset(r, 0, sizeof *r);
}

/* METHOD BASE+PATH with extra HEADERS (NULL-ended, may be NULL) and BODY (may be NULL),
 * giving up after TIMEOUT_S. Returns curl's result; *out is filled either way. */
static CURLcode http_try(const char *base, const char *method, const char *path,
                         const char *const *headers, const char *body, size_t body_len,
                         long timeout_s, reply *out) {
  reply r = {0};
  membuf b = {0}, h = {0};
  char url[70000];
  snprintf(url, sizeof url, "%s%s", base, path);
  CURL *c = curl_easy_init();
  struct curl_slist *list = NULL;
  for (int i = 0; headers && headers[i]; i++)
    list = curl_slist_append(list, headers[i]);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
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
static reply http_at(const char *base, const char *method, const char *path,
                    const char *const *headers, const char *body, size_t body_len) {
  reply r;
  CURLcode rc = http_try(base, method, path, headers, body, body_len, 60L, &r);
  if (rc != CURLE_OK)
    fprintf(stderr, "curl %s %s: %s\n", method, path, curl_easy_strerror(rc));
  assert_int_equal(rc, CURLE_OK);
  return r;
}

static reply http(const char *method, const char *path, const char *const *headers) {
  return http_at(E->url, method, path, headers, NULL, 0);
}

static reply get(const char *path) {
  return http("GET", path, NULL);
}

/* The value of response header NAME (malloc'd, without CR LF), or NULL. */
static char *header(const reply *r, const char *name) {
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

static cJSON *json_of(const reply *r) {
  const char *end = NULL;
  cJSON *j = cJSON_ParseWithOpts(r->body, &end, 1);
  if (!j)
    fprintf(stderr, "not JSON (%ld): %.300s\n", r->status, r->body);
  assert_non_null(j);
  return j;
}

/* Asserts a JSON error reply: STATUS, and MESSAGE when not NULL. */
static void expect_error(const reply *r, long status, const char *message) {
  if (r->status != status)
    fprintf(stderr, "expected %ld, got %ld: %.300s\n", status, r->status, r->body);
  assert_int_equal(r->status, status);
  char *ct = header(r, "Content-Type");
  assert_non_null(ct);
  assert_string_equal(ct, "application/json");
  free(ct);
  cJSON *j = json_of(r);
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
  assert_true(cJSON_IsString(m));
  if (message)
    assert_string_equal(m->valuestring, message);
  cJSON_Delete(j);
}

/* A 400 whose errors object names PARAM. */
static void expect_400_naming(const reply *r, const char *param) {
  expect_error(r, 400, "The given data was invalid.");
  cJSON *j = json_of(r);
  const cJSON *errors = cJSON_GetObjectItemCaseSensitive(j, "errors");
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(errors, param);
  if (!cJSON_IsArray(list))
    fprintf(stderr, "errors do not name %s: %s\n", param, r->body);
  assert_true(cJSON_IsArray(list));
  assert_true(cJSON_IsString(cJSON_GetArrayItem(list, 0)));
  cJSON_Delete(j);
}

static double num(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  assert_true(cJSON_IsNumber(v));
  return v->valuedouble;
}

static const char *str(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* "?a=b&c=d" query text from "a=b&c=d" with every value percent-encoded. */
static char *query_of(const char *spec) {
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
static reqlog_filter *filter_of(const char *spec) {
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
static char *lib_ids(reqlog *r, const char *spec) {
  reqlog_filter *f = filter_of(spec);
  reqlog_cursor *c = NULL;
  assert_int_equal(reqlog_query(r, f, NULL, &c, NULL), REQLOG_OK);
  char *out = calloc(1, 65536);
  cJSON *row = NULL;
  while (reqlog_cursor_next(c, &row) == REQLOG_OK) {
    snprintf(out + strlen(out), 65536 - strlen(out), "%s%.0f", *out ? "," : "", num(row, "id"));
    cJSON_Delete(row);
  }
  reqlog_cursor_free(c);
  reqlog_filter_free(f);
  return out;
}

/* Ids of ITEMS as a comma list appended to OUT. */
static void append_ids(char *out, size_t cap, const cJSON *items) {
  const cJSON *row;
  cJSON_ArrayForEach(row, items)
    snprintf(out + strlen(out), cap - strlen(out), "%s%.0f", *out ? "," : "", num(row, "id"));
}

/* ------------------------------------------------------------------ the history */

static int64_t newest_id(reqlog *r) {
  reqlog_cursor *c = NULL;
  reqlog_query_opts o = {.limit = 1};
  assert_int_equal(reqlog_query(r, NULL, &o, &c, NULL), REQLOG_OK);
  cJSON *row = NULL;
  int64_t id = 0;
  if (reqlog_cursor_next(c, &row) == REQLOG_OK)
    id = (int64_t)num(row, "id");
  cJSON_Delete(row);
  reqlog_cursor_free(c);
  return id;
}

static int64_t call(reqlog *r, const char *method, const char *path, const char *body,
                    size_t len) {
  reqlog_response *resp = NULL;
  reqlog_request(r, method, path, body, len, NULL, &resp);
  assert_non_null(resp);
  reqlog_response_free(resp);
  assert_int_equal(reqlog_flush(r, NULL), REQLOG_OK);
  return newest_id(r);
}

static reqlog *recorder(void) {
  reqlog *r = NULL;
  assert_int_equal(reqlog_open(E->db, &r, NULL), REQLOG_OK);
  reqlog_set_base_url(r, fakeapi_base_url(E->api));
  reqlog_set_api_key(r, FAKEAPI_KEY);
  reqlog_set_rate_limit(r, 0);
  reqlog_set_retry(r, 2, 10, 1000);
  return r;
}

/* A mix of every status class, methods, keys, a 422 with fields, a slow call, a retry
 * chain, a transport error, a searchable body, truncated and binary request bodies, and
 * one row (inserted with SQL) whose error message starts with '='. */
static void seed(void) {
  reqlog *r = recorder();
  call(r, "GET", "/participants", NULL, 0);
  call(r, "GET", "/participants/1", NULL, 0);
  call(r, "GET", "/participants/999", NULL, 0);
  const char *ok =
    "{\"first_name\":\"Zanzibar\",\"last_name\":\"Quux\",\"email\":\"z@example.com\"}";
  E->post_201_id = call(r, "POST", "/participants", ok, strlen(ok));
  const char *bad = "{\"last_name\":\"Hopper\",\"email\":\"not-an-email\"}";
  call(r, "POST", "/participants", bad, strlen(bad));
  call(r, "PATCH", "/participants/2", "{\"email\":\"grace@example.com\"}", 29);
  call(r, "DELETE", "/participants/3", NULL, 0);
  call(r, "GET", "/slow?ms=120", NULL, 0);
  call(r, "GET", "/status/500", NULL, 0);
  call(r, "GET", "/flaky?fail=1&id=webseed", NULL, 0);
  call(r, "GET", "/binary?bytes=64", NULL, 0);
  call(r, "GET", "http://127.0.0.1:1/refused", NULL, 0);
  reqlog_set_api_key(r, FAKEAPI_KEY2);
  call(r, "GET", "/participants?page=1", NULL, 0);
  call(r, "GET", "/participants/4", NULL, 0);
  reqlog_set_api_key(r, FAKEAPI_KEY_RO);
  call(r, "POST", "/participants", ok, strlen(ok));
  reqlog_set_api_key(r, FAKEAPI_KEY);
  reqlog_set_body_cap(r, 16);
  E->truncated_id = call(r, "POST", "/participants", ok, strlen(ok));
  reqlog_set_body_cap(r, 1024 * 1024);
  const char bin[] = {'\xff', '\xfe', '\x00', '\x01', '\x80'};
  E->binary_id = call(r, "POST", "/participants", bin, sizeof bin);
  assert_int_equal(reqlog_close(r), REQLOG_OK);

  sqlite3 *db = tu_db(E->db);
  tu_exec(db, "INSERT INTO calls(started_at, method, url, host, path, status, duration_us,"
              " source, error_message) VALUES (strftime('%s','now') * 1000000, 'GET',"
              " 'http://127.0.0.1:9/formula', '127.0.0.1', '/formula', 400, 1000, 'import',"
              " '=HYPERLINK(\"http://evil.example\")')");
  sqlite3_close(db);
}

static int group_setup(void **state) {
  E = calloc(1, sizeof *E);
  E->dir = tu_tmpdir();
  E->db = tu_path(E->dir, "web.db");
  E->api = tu_api(100000, 60000);
  /* the server's replays send this key, to the fake API only; reqlog_open() reads them */
  setenv("REQLOG_API_KEY", FAKEAPI_KEY, 1);
  setenv("REQLOG_BASE_URL", fakeapi_base_url(E->api), 1);
  seed();
  web_opts o = {.db_path = E->db, .listen = "127.0.0.1:0"};
  char *cause = NULL;
  if (web_start(&o, &E->web, &cause) != 0)
    fprintf(stderr, "web_start: %s\n", cause);
  assert_non_null(E->web);
  E->url = web_url(E->web);
  E->port = atoi(strrchr(E->url, ':') + 1);
  assert_true(E->port > 0);
  assert_null(web_token(E->web));
  *state = E;
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  web_stop(E->web);
  fakeapi_stop(E->api);
  tu_rmtree(E->dir);
  free(E->dir);
  free(E->db);
  free(E);
  unsetenv("REQLOG_API_KEY");
  unsetenv("REQLOG_BASE_URL");
  return 0;
}

/* ------------------------------------------------------------------ tests */

static void test_list_and_paging(void **state) {
  (void)state;
  reqlog *r = recorder();
  char *want = lib_ids(r, "");
  reqlog_close(r);
  char got[65536] = "", path[128] = "/api/requests?limit=4";
  int pages = 0;
  for (;;) {
    reply res = get(path);
    assert_int_equal(res.status, 200);
    char *cc = header(&res, "Cache-Control");
    assert_string_equal(cc, "no-store");
    free(cc);
    cJSON *j = json_of(&res);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(j, "items");
    assert_true(cJSON_IsArray(items));
    assert_true(cJSON_GetArraySize(items) <= 4);
    const cJSON *row;
    cJSON_ArrayForEach(row, items) {
      assert_null(cJSON_GetObjectItemCaseSensitive(row, "request_body"));
      assert_null(cJSON_GetObjectItemCaseSensitive(row, "response_body"));
      assert_non_null(cJSON_GetObjectItemCaseSensitive(row, "started_at"));
    }
    append_ids(got, sizeof got, items);
    pages++;
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(j, "next");
    if (cJSON_IsNull(next)) {
      cJSON_Delete(j);
      resp_free(&res);
      break;
    }
    assert_true(cJSON_IsNumber(next));
    assert_true(next->valuedouble == num(cJSON_GetArrayItem(items, 3), "id"));
    snprintf(path, sizeof path, "/api/requests?limit=4&before=%.0f", next->valuedouble);
    cJSON_Delete(j);
    resp_free(&res);
  }
  assert_string_equal(got, want);
  printf("checked: %d keyset pages of 4 list every row once, newest first, without bodies "
         "(%s)\n", pages, got);
  free(want);

  reply res = get("/api/requests");
  cJSON *j = json_of(&res);
  assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "next")));
  cJSON_Delete(j);
  resp_free(&res);
  printf("checked: the default page (50) holds the whole small history and next is null\n");
}

static void test_every_filter(void **state) {
  (void)state;
  char fp[48], fp2[48], spec_key[128], spec_last4[64], until[64];
  reqlog_key_fingerprint(FAKEAPI_KEY2, fp);
  reqlog_key_fingerprint(FAKEAPI_KEY, fp2);
  snprintf(spec_key, sizeof spec_key, "key=%s", fp);
  snprintf(spec_last4, sizeof spec_last4, "key=%s", FAKEAPI_KEY + strlen(FAKEAPI_KEY) - 4);
  time_t later = time(NULL) + 3600;
  strftime(until, sizeof until, "until=%Y-%m-%dT%H:%M:%SZ", gmtime(&later));
  const char *specs[] = {
    "status=4xx", "status=422", "status=401,403", "status=error", "status=2xx&status=5xx",
    "method=POST", "method=post&method=DELETE", "path=/public/v1/participants",
    "path=*flaky*", "host=127.0.0.1", spec_key, spec_last4, "since=1h", until,
    "since=1h&until=2100-01-01", "min_ms=100", "q=Zanzibar", "field=email",
    "status=2xx&method=GET&path=/public/v1/participants",
  };
  reqlog *r = recorder();
  for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
    char *want = lib_ids(r, specs[i]);
    char *q = query_of(specs[i]);
    char path[4200];
    snprintf(path, sizeof path, "/api/requests?limit=500&%s", q);
    reply res = get(path);
    if (res.status != 200)
      fprintf(stderr, "%s: %s\n", specs[i], res.body);
    assert_int_equal(res.status, 200);
    cJSON *j = json_of(&res);
    char got[65536] = "";
    append_ids(got, sizeof got, cJSON_GetObjectItemCaseSensitive(j, "items"));
    assert_string_equal(got, want);
    cJSON_Delete(j);
    resp_free(&res);

    snprintf(path, sizeof path, "/api/stats?%s", q);
    res = get(path);
    assert_int_equal(res.status, 200);
    j = json_of(&res);
    int64_t count = 0;
    reqlog_filter *f = filter_of(specs[i]);
    assert_int_equal(reqlog_count(r, f, &count, NULL), REQLOG_OK);
    reqlog_filter_free(f);
    assert_int_equal((int64_t)num(j, "total"), count);
    cJSON_Delete(j);
    resp_free(&res);
    printf("checked: filter %s gives the library's ids [%s] and stats total %" PRId64 "\n",
           specs[i], want, count);
    free(q);
    free(want);
  }
  reqlog_close(r);
  /* the filters above must not all be empty matches */
  reply res = get("/api/requests?field=email");
  cJSON *j = json_of(&res);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "items")), 1);
  cJSON_Delete(j);
  resp_free(&res);
  res = get("/api/stats");
  j = json_of(&res);
  assert_int_equal((int)num(j, "limit_per_minute"), 60);
  assert_non_null(cJSON_GetObjectItemCaseSensitive(j, "latency_ms"));
  assert_non_null(cJSON_GetObjectItemCaseSensitive(j, "per_minute"));
  cJSON_Delete(j);
  resp_free(&res);
  printf("checked: /api/stats carries reqlog_stats' members plus limit_per_minute 60\n");
}

static void test_bad_parameters(void **state) {
  (void)state;
  static const struct { const char *path, *param; } cases[] = {
    {"/api/requests?status=4yy", "status"},
    {"/api/requests?method=G%20T", "method"},
    {"/api/requests?since=yesterday-ish", "since"},
    {"/api/requests?min_ms=abc", "min_ms"},
    {"/api/requests?path=", "path"},
    {"/api/requests?since=1h&since=2h", "since"},
    {"/api/requests?limit=0", "limit"},
    {"/api/requests?limit=501", "limit"},
    {"/api/requests?before=x", "before"},
    {"/api/requests?foo=1", "foo"},
    {"/api/requests?after=3", "after"},
    {"/api/stats?limit=5", "limit"},
    {"/api/stats?status=6xx", "status"},
    {"/api/export?format=xml", "format"},
    {"/api/export?status=4xx", "format"},
    {"/api/export?format=csv&bodies=maybe", "bodies"},
    {"/api/stream?after=-1", "after"},
    {"/api/stream?unknown=1", "unknown"},
    {"/api/requests/1?status=2xx", "status"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    reply res = get(cases[i].path);
    expect_400_naming(&res, cases[i].param);
    resp_free(&res);
  }
  printf("checked: %zu bad or unknown parameters each get 400 with errors naming them\n",
         sizeof cases / sizeof cases[0]);
  reply res = get("/api/requests?status=4yy&bogus=2");
  expect_400_naming(&res, "status");
  expect_400_naming(&res, "bogus");
  assert_non_null(strstr(res.body, "status: '4yy' is not"));
  resp_free(&res);
  printf("checked: every problem of one request is named, with the library's message\n");
}

static void test_one_row(void **state) {
  (void)state;
  char path[64];
  snprintf(path, sizeof path, "/api/requests/%" PRId64, E->post_201_id);
  reply res = get(path);
  assert_int_equal(res.status, 200);
  reqlog *r = recorder();
  cJSON *want = NULL;
  assert_int_equal(reqlog_get(r, E->post_201_id, &want, NULL), REQLOG_OK);
  reqlog_close(r);
  cJSON *got = json_of(&res);
  assert_true(cJSON_Compare(got, want, 1));
  assert_non_null(strstr(str(got, "request_body"), "Zanzibar"));
  printf("checked: /api/requests/%" PRId64 " is reqlog_get's full row, bodies included\n",
         E->post_201_id);
  cJSON_Delete(got);
  cJSON_Delete(want);
  resp_free(&res);

  res = get("/api/requests/987654");
  expect_error(&res, 404, "Not found.");
  resp_free(&res);
  static const char *const bad[] = {"abc", "-1", "1.5", "0x10", "99999999999999999999999"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    snprintf(path, sizeof path, "/api/requests/%s", bad[i]);
    res = get(path);
    expect_400_naming(&res, "id");
    resp_free(&res);
  }
  printf("checked: unknown id 404 JSON; non-numeric ids 400 naming id\n");
}

static void test_methods_and_paths(void **state) {
  (void)state;
  static const struct { const char *method, *path, *allow; } cases[] = {
    {"DELETE", "/api/requests/1", "GET"},
    {"PUT", "/api/requests", "GET"},
    {"POST", "/api/stats", "GET"},
    {"POST", "/api/export?format=csv", "GET"},
    {"PUT", "/api/requests/1/replay", "POST"},
    {"BREW", "/", "GET"},
    {"POST", "/login", "GET"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    reply res = http(cases[i].method, cases[i].path, NULL);
    expect_error(&res, 405, "Method not allowed.");
    char *allow = header(&res, "Allow");
    assert_non_null(allow);
    assert_non_null(strstr(allow, cases[i].allow));
    printf("checked: %s %s -> 405, Allow: %s\n", cases[i].method, cases[i].path, allow);
    free(allow);
    resp_free(&res);
  }
  static const char *const missing[] = {"/api/", "/api/nothing", "/api/requests/1/other",
                                        "/nothing", "/static/", "/static/nope.js"};
  for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
    reply res = get(missing[i]);
    expect_error(&res, 404, "Not found.");
    resp_free(&res);
  }
  printf("checked: unknown paths under /api/ and elsewhere: 404 JSON\n");
}

static void test_host_check(void **state) {
  (void)state;
  char h[128];
  snprintf(h, sizeof h, "Host: evil.example:%d", E->port);
  const char *evil[] = {h, NULL};
  reply res = http("GET", "/api/stats", evil);
  expect_error(&res, 421, "Unknown host.");
  resp_free(&res);
  res = http("GET", "/", evil);
  expect_error(&res, 421, "Unknown host.");
  resp_free(&res);
  snprintf(h, sizeof h, "Host: 127.0.0.1:%d", E->port + 1);
  res = http("GET", "/api/stats", evil);
  expect_error(&res, 421, "Unknown host.");
  resp_free(&res);
  static const char *const ok[] = {"localhost", "LOCALHOST", "127.0.0.1", "[::1]"};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    snprintf(h, sizeof h, "Host: %s:%d", ok[i], E->port);
    res = http("GET", "/api/stats", evil);
    assert_int_equal(res.status, 200);
    resp_free(&res);
  }
  printf("checked: a foreign Host (or port) gets 421 {\"message\":\"Unknown host.\"}; "
         "localhost, 127.0.0.1 and [::1] with our port pass\n");
}

static void test_security_headers(void **state) {
  (void)state;
  reply res = get("/");
  assert_int_equal(res.status, 200);
  char *csp = header(&res, "Content-Security-Policy");
  assert_non_null(csp);
  assert_string_equal(csp, "default-src 'none'; script-src 'self'; style-src 'self'; "
                           "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
                           "base-uri 'none'; form-action 'self'");
  assert_null(strstr(csp, "unsafe-inline"));
  char *nosniff = header(&res, "X-Content-Type-Options");
  char *xfo = header(&res, "X-Frame-Options");
  char *ref = header(&res, "Referrer-Policy");
  char *ct = header(&res, "Content-Type");
  assert_string_equal(nosniff, "nosniff");
  assert_string_equal(xfo, "DENY");
  assert_string_equal(ref, "no-referrer");
  assert_string_equal(ct, "text/html; charset=utf-8");
  assert_non_null(strstr(res.body, "<"));
  printf("checked: GET / is the page with CSP (%s), nosniff, X-Frame-Options DENY, "
         "no-referrer\n", csp);
  free(csp);
  free(nosniff);
  free(xfo);
  free(ref);
  free(ct);
  resp_free(&res);

  res = get("/api/stats");
  char *cc = header(&res, "Cache-Control");
  nosniff = header(&res, "X-Content-Type-Options");
  assert_string_equal(cc, "no-store");
  assert_string_equal(nosniff, "nosniff");
  free(cc);
  free(nosniff);
  resp_free(&res);
  printf("checked: API answers carry Cache-Control: no-store and nosniff\n");

  /* every embedded file is served with its type; traversal is refused */
  res = get("/static/index.html");
  assert_int_equal(res.status, 200);
  resp_free(&res);
  res = get("/static/app.js");
  if (res.status == 200) {
    ct = header(&res, "Content-Type");
    assert_string_equal(ct, "text/javascript; charset=utf-8");
    free(ct);
  }
  resp_free(&res);
  static const char *const sneaky[] = {"/static/..%2Fserver.h", "/static/%2e%2e%2fweb.db",
                                       "/static/.hidden", "/static/..", "/static/a%00b"};
  for (size_t i = 0; i < sizeof sneaky / sizeof sneaky[0]; i++) {
    res = get(sneaky[i]);
    assert_int_equal(res.status, 404);
    resp_free(&res);
  }
  printf("checked: static files with their types; traversal and hidden names 404\n");
}

/* Recorded data leaves the server only as inert downloads or JSON: whatever a tab does
 * with an API answer (open it, save it), it is never a page in the dashboard's origin. */
static void test_api_answers_are_sandboxed(void **state) {
  (void)state;
  char one[64];
  snprintf(one, sizeof one, "/api/requests/%" PRId64, E->binary_id);
  static const char *const exports[] = {"/api/export?format=csv", "/api/export?format=ndjson",
                                        "/api/export?format=har"};
  const char *paths[] = {"/api/requests", one, "/api/stats", "/api/requests/999999",
                         "/api/nothing", exports[0], exports[1], exports[2]};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    reply res = get(paths[i]);
    char *csp = header(&res, "Content-Security-Policy");
    char *nosniff = header(&res, "X-Content-Type-Options");
    char *ct = header(&res, "Content-Type");
    if (!csp || strcmp(csp, "sandbox; default-src 'none'; frame-ancestors 'none'") != 0)
      fprintf(stderr, "%s: Content-Security-Policy: %s\n", paths[i], csp ? csp : "(none)");
    assert_non_null(csp);
    assert_string_equal(csp, "sandbox; default-src 'none'; frame-ancestors 'none'");
    assert_string_equal(nosniff, "nosniff");
    assert_non_null(ct);
    assert_null(strstr(ct, "html"));
    assert_null(strstr(ct, "xml"));
    assert_null(strstr(ct, "javascript"));
    if (strncmp(paths[i], "/api/export", 11) == 0) {
      char *cd = header(&res, "Content-Disposition");
      assert_non_null(cd);
      assert_true(strncmp(cd, "attachment; filename=\"reqlog-", 29) == 0);
      free(cd);
    }
    free(csp);
    free(nosniff);
    free(ct);
    resp_free(&res);
  }
  printf("checked: every /api/ answer (rows, a binary row, stats, errors, the three exports) "
         "carries CSP sandbox; default-src 'none', nosniff and a non-active type; exports "
         "are attachments\n");
}

static void test_assets_dir(void **state) {
  (void)state;
  char *dir = tu_path(E->dir, "assets");
  assert_int_equal(mkdir(dir, 0700), 0);
  char *file = tu_path(dir, "index.html");
  FILE *f = fopen(file, "w");
  fputs("<!doctype html><title>from the folder</title>", f);
  fclose(f);
  char *css = tu_path(dir, "x.css");
  f = fopen(css, "w");
  fputs("body{}", f);
  fclose(f);
  char *secret = tu_path(E->dir, "secret.txt");
  f = fopen(secret, "w");
  fputs("secret", f);
  fclose(f);
  web_opts o = {.db_path = E->db, .listen = "127.0.0.1:0", .assets_dir = dir};
  web_server *s = NULL;
  assert_int_equal(web_start(&o, &s, NULL), 0);
  reply res = http_at(web_url(s), "GET", "/", NULL, NULL, 0);
  assert_int_equal(res.status, 200);
  assert_non_null(strstr(res.body, "from the folder"));
  resp_free(&res);
  res = http_at(web_url(s), "GET", "/static/x.css", NULL, NULL, 0);
  char *ct = header(&res, "Content-Type");
  assert_string_equal(ct, "text/css; charset=utf-8");
  free(ct);
  resp_free(&res);
  res = http_at(web_url(s), "GET", "/static/..%2Fsecret.txt", NULL, NULL, 0);
  assert_int_equal(res.status, 404);
  assert_null(strstr(res.body, "secret"));
  resp_free(&res);
  web_stop(s);
  printf("checked: --assets-dir serves that folder, with types, and nothing outside it\n");
  free(dir);
  free(file);
  free(css);
  free(secret);
}

static void test_replay(void **state) {
  (void)state;
  char path[80], origin[128], foreign[64];
  snprintf(path, sizeof path, "/api/requests/%" PRId64 "/replay", E->post_201_id);
  snprintf(origin, sizeof origin, "Origin: %s", E->url);
  snprintf(foreign, sizeof foreign, "Origin: http://evil.example:%d", E->port);
  reqlog *r = recorder();
  int64_t before = newest_id(r);

  reply res = http_at(E->url, "POST", path, NULL, "", 0);
  expect_error(&res, 403, "Cross-origin request refused.");
  resp_free(&res);
  const char *fh[] = {foreign, NULL};
  res = http_at(E->url, "POST", path, fh, "", 0);
  expect_error(&res, 403, "Cross-origin request refused.");
  resp_free(&res);
  assert_int_equal(newest_id(r), before);
  printf("checked: replay without Origin or with a foreign Origin: 403, nothing sent\n");

  const char *oh[] = {origin, NULL};
  res = http_at(E->url, "POST", path, oh, "", 0);
  if (res.status != 201)
    fprintf(stderr, "replay: %s\n", res.body);
  assert_int_equal(res.status, 201);
  cJSON *row = json_of(&res);
  int64_t id = (int64_t)num(row, "id");
  assert_true(id > before);
  assert_int_equal(id, newest_id(r));
  assert_string_equal(str(row, "method"), "POST");
  assert_string_equal(str(row, "path"), "/public/v1/participants");
  assert_int_equal((int)num(row, "status"), 201);
  assert_non_null(strstr(str(row, "request_body"), "Zanzibar"));
  char fp[48];
  reqlog_key_fingerprint(FAKEAPI_KEY, fp);
  assert_string_equal(str(row, "key"), fp);
  assert_int_equal(fakeapi_hits(E->api, "/public/v1/participants") > 0, 1);
  printf("checked: same-origin replay: 201 with new row %" PRId64 " (POST, 201, same body, "
         "sent with the server's key %s)\n", id, fp);
  cJSON_Delete(row);
  resp_free(&res);

  snprintf(path, sizeof path, "/api/requests/%" PRId64 "/replay", E->truncated_id);
  res = http_at(E->url, "POST", path, oh, "", 0);
  expect_error(&res, 409, NULL);
  assert_non_null(strstr(res.body, "truncated"));
  resp_free(&res);
  snprintf(path, sizeof path, "/api/requests/%" PRId64 "/replay", E->binary_id);
  res = http_at(E->url, "POST", path, oh, "", 0);
  expect_error(&res, 409, NULL);
  assert_non_null(strstr(res.body, "binary"));
  resp_free(&res);
  res = http_at(E->url, "POST", "/api/requests/987654/replay", oh, "", 0);
  expect_error(&res, 404, "Not found.");
  resp_free(&res);
  res = http_at(E->url, "POST", "/api/requests/x/replay", oh, "", 0);
  expect_400_naming(&res, "id");
  resp_free(&res);
  size_t big_len = 100 * 1024;
  char *big = malloc(big_len);
  memset(big, 'a', big_len);
  snprintf(path, sizeof path, "/api/requests/%" PRId64 "/replay", E->post_201_id);
  res = http_at(E->url, "POST", path, oh, big, big_len);
  expect_error(&res, 413, NULL);
  resp_free(&res);
  const char *chunked[] = {origin, "Transfer-Encoding: chunked", NULL};
  res = http_at(E->url, "POST", path, chunked, big, big_len);
  expect_error(&res, 413, NULL);
  resp_free(&res);
  free(big);
  assert_int_equal(newest_id(r), id);
  reqlog_close(r);
  printf("checked: 409 for truncated and binary bodies, 404 unknown id, 400 bad id, "
         "413 for a 100 KiB body (with and without Content-Length); nothing sent\n");
}

static void test_token_mode(void **state) {
  (void)state;
  const char *token = "s3cret-Token_for.tests~1";
  web_opts o = {.db_path = E->db, .listen = "127.0.0.1:0", .token = token};
  web_server *s = NULL;
  assert_int_equal(web_start(&o, &s, NULL), 0);
  assert_string_equal(web_token(s), token);
  const char *u = web_url(s);

  reply res = http_at(u, "GET", "/api/stats", NULL, NULL, 0);
  expect_error(&res, 401, NULL);
  resp_free(&res);
  res = http_at(u, "GET", "/", NULL, NULL, 0);
  expect_error(&res, 401, NULL);
  resp_free(&res);
  const char *wrong[] = {"Authorization: Bearer s3cret-Token_for.tests~2", NULL};
  res = http_at(u, "GET", "/api/stats", wrong, NULL, 0);
  expect_error(&res, 401, NULL);
  resp_free(&res);
  char bearer[128];
  snprintf(bearer, sizeof bearer, "Authorization: Bearer %s", token);
  const char *bh[] = {bearer, NULL};
  res = http_at(u, "GET", "/api/stats", bh, NULL, 0);
  assert_int_equal(res.status, 200);
  resp_free(&res);
  printf("checked: token mode: 401 without auth or with a wrong token, 200 with Bearer\n");

  res = http_at(u, "GET", "/login?token=nope", NULL, NULL, 0);
  expect_error(&res, 401, NULL);
  assert_null(header(&res, "Set-Cookie"));
  resp_free(&res);
  char path[128];
  snprintf(path, sizeof path, "/login?token=%s", token);
  res = http_at(u, "GET", path, NULL, NULL, 0);
  assert_int_equal(res.status, 303);
  char *loc = header(&res, "Location");
  char *cookie = header(&res, "Set-Cookie");
  assert_string_equal(loc, "/");
  assert_non_null(cookie);
  char want[160];
  snprintf(want, sizeof want, "reqlog_session=%s;", token);
  assert_true(strncmp(cookie, want, strlen(want)) == 0);
  assert_non_null(strstr(cookie, "HttpOnly"));
  assert_non_null(strstr(cookie, "SameSite=Strict"));
  assert_non_null(strstr(cookie, "Path=/"));
  printf("checked: /login?token=T: 303 to / with Set-Cookie: %s\n", cookie);
  free(loc);
  free(cookie);
  resp_free(&res);
  char ch[160];
  snprintf(ch, sizeof ch, "Cookie: other=1; reqlog_session=%s", token);
  const char *cookies[] = {ch, NULL};
  res = http_at(u, "GET", "/api/requests?limit=1", cookies, NULL, 0);
  assert_int_equal(res.status, 200);
  resp_free(&res);
  const char *bad_cookie[] = {"Cookie: reqlog_session=guess", NULL};
  res = http_at(u, "GET", "/api/requests?limit=1", bad_cookie, NULL, 0);
  expect_error(&res, 401, NULL);
  resp_free(&res);
  printf("checked: the session cookie works; a wrong one gets 401\n");
  web_stop(s);

  /* a non-loopback bind without a token gets one */
  web_opts any = {.db_path = E->db, .listen = "0.0.0.0:0"};
  s = NULL;
  char *cause = NULL;
  if (web_start(&any, &s, &cause) != 0) {
    printf("skipped: cannot bind 0.0.0.0 here (%s)\n", cause);
    free(cause);
    return;
  }
  const char *gen = web_token(s);
  assert_non_null(gen);
  assert_int_equal(strlen(gen), 64);
  assert_true(strspn(gen, "0123456789abcdef") == 64);
  char local[64];
  snprintf(local, sizeof local, "http://127.0.0.1:%s", strrchr(web_url(s), ':') + 1);
  res = http_at(local, "GET", "/api/stats", NULL, NULL, 0);
  expect_error(&res, 401, NULL);
  resp_free(&res);
  web_stop(s);
  printf("checked: listening on 0.0.0.0 without --token generates a 64-hex token and "
         "requires it\n");

  web_opts bad = {.db_path = E->db, .listen = "127.0.0.1:0", .token = "has space"};
  s = NULL;
  assert_int_equal(web_start(&bad, &s, &cause), -1);
  assert_null(s);
  free(cause);
  web_opts nodb = {.db_path = "/nonexistent/x.db", .listen = "127.0.0.1:0"};
  assert_int_equal(web_start(&nodb, &s, &cause), -1);
  assert_non_null(strstr(cause, "no database"));
  free(cause);
  web_opts badlisten = {.db_path = E->db, .listen = "127.0.0.1"};
  assert_int_equal(web_start(&badlisten, &s, &cause), -1);
  free(cause);
  printf("checked: web_start refuses a bad token, a missing database and a bad address\n");
}

/* reqlog_write_fn into a growing buffer */
typedef struct sink {
  char *p;
  size_t len;
} sink;

static int to_sink(void *ctx, const char *data, size_t len) {
  sink *s = ctx;
  s->p = realloc(s->p, s->len + len + 1);
  memcpy(s->p + s->len, data, len);
  s->len += len;
  s->p[s->len] = '\0';
  return 0;
}

static sink lib_export(const char *spec, reqlog_format format, int bodies) {
  reqlog *r = recorder();
  reqlog_filter *f = filter_of(spec);
  reqlog_export_opts o = {.format = format, .with_bodies = bodies};
  sink s = {0};
  assert_int_equal(reqlog_export(r, f, &o, to_sink, &s, NULL), REQLOG_OK);
  reqlog_filter_free(f);
  reqlog_close(r);
  return s;
}

static void test_export(void **state) {
  (void)state;
  static const char *const specs[] = {"status=4xx", "", "method=POST&since=1h"};
  for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
    for (int bodies = 0; bodies <= 1; bodies++) {
      char *q = query_of(specs[i]);
      char path[512];
      snprintf(path, sizeof path, "/api/export?format=csv%s%s%s", bodies ? "&bodies=1" : "",
               *q ? "&" : "", q);
      reply res = get(path);
      assert_int_equal(res.status, 200);
      sink want = lib_export(specs[i], REQLOG_FORMAT_CSV, bodies);
      assert_int_equal(res.len, want.len);
      assert_memory_equal(res.body, want.p, want.len);
      if (i == 0 && bodies == 0) {
        char *ct = header(&res, "Content-Type");
        char *cd = header(&res, "Content-Disposition");
        assert_string_equal(ct, "text/csv; charset=utf-8");
        assert_true(strncmp(cd, "attachment; filename=\"reqlog-", 29) == 0);
        assert_non_null(strstr(cd, ".csv\""));
        static const char head[] = "id,started_at,method,url,status,duration_ms,key,attempt,"
                                   "retry_of,source,error,error_message,request_size,"
                                   "response_size";
        assert_true(strncmp(res.body, head, strlen(head)) == 0);
        assert_true(strchr("\r\n", res.body[strlen(head)]) != NULL);
        assert_non_null(strstr(res.body, "'=HYPERLINK("));
        assert_null(strstr(res.body, ",=HYPERLINK("));
        assert_null(strstr(res.body, "\"=HYPERLINK("));
        printf("checked: CSV export: %s, %s, header row, '=' cell neutralised with '\n", ct, cd);
        free(ct);
        free(cd);
      }
      printf("checked: CSV export of [%s]%s is byte for byte reqlog_export's (%zu bytes)\n",
             specs[i], bodies ? " with bodies" : "", want.len);
      free(want.p);
      free(q);
      resp_free(&res);
    }
  }

  reply res = get("/api/export?format=ndjson&status=4xx");
  assert_int_equal(res.status, 200);
  char *ct = header(&res, "Content-Type");
  char *cd = header(&res, "Content-Disposition");
  assert_string_equal(ct, "application/x-ndjson");
  assert_non_null(strstr(cd, ".ndjson\""));
  free(ct);
  free(cd);
  sink want = lib_export("status=4xx", REQLOG_FORMAT_NDJSON, 0);
  assert_int_equal(res.len, want.len);
  assert_memory_equal(res.body, want.p, want.len);
  free(want.p);
  int lines = 0;
  for (char *line = res.body, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
    *nl = '\0';
    const char *end = NULL;
    cJSON *row = cJSON_ParseWithOpts(line, &end, 1);
    assert_non_null(row);
    assert_int_equal((int)num(row, "status") / 100, 4);
    cJSON_Delete(row);
    lines++;
  }
  reqlog *r = recorder();
  reqlog_filter *f = filter_of("status=4xx");
  int64_t count = 0;
  reqlog_count(r, f, &count, NULL);
  reqlog_filter_free(f);
  reqlog_close(r);
  assert_int_equal(lines, count);
  printf("checked: NDJSON export: %d lines, each a parsing row, equal to reqlog_export's\n",
         lines);
  resp_free(&res);

  res = get("/api/export?format=har&status=4xx");
  assert_int_equal(res.status, 200);
  cJSON *har = cJSON_Parse(res.body);
  assert_non_null(har);
  cJSON *entries = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(har, "log"),
                                                    "entries");
  assert_int_equal((int64_t)cJSON_GetArraySize(entries), count);
  cJSON_Delete(har);
  resp_free(&res);
  printf("checked: format=har streams a HAR 1.2 document with one entry per row (%lld)\n", (long long)count);
}

/* ------------------------------------------------------------------ live stream */

/* Runs the transfer in M until NEEDLE shows up in B or SECONDS pass. */
static int wait_for(CURLM *m, membuf *b, const char *needle, int seconds) {
  time_t end = time(NULL) + seconds;
  while (time(NULL) < end) {
    int running = 0;
    curl_multi_perform(m, &running);
    if (b->p && strstr(b->p, needle))
      return 1;
    if (!running)
      return 0;
    curl_multi_poll(m, NULL, 0, 100, NULL);
  }
  return 0;
}

/* Opens PATH as a stream from the local address FROM (NULL: the default, 127.0.0.1). */
static void open_stream_from(const char *path, const char *from, CURLM **m, CURL **c,
                             membuf *b) {
  char url[512];
  snprintf(url, sizeof url, "%s%s", E->url, path);
  *m = curl_multi_init();
  *c = curl_easy_init();
  if (from)
    curl_easy_setopt(*c, CURLOPT_INTERFACE, from);
  curl_easy_setopt(*c, CURLOPT_URL, url);
  curl_easy_setopt(*c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(*c, CURLOPT_WRITEDATA, b);
  curl_multi_add_handle(*m, *c);
}

static void open_stream(const char *path, CURLM **m, CURL **c, membuf *b) {
  open_stream_from(path, NULL, m, c, b);
}

static void close_stream(CURLM *m, CURL *c, membuf *b) {
  curl_multi_remove_handle(m, c);
  curl_easy_cleanup(c);
  curl_multi_cleanup(m);
  free(b->p);
}

static void test_live_stream(void **state) {
  (void)state;
  CURLM *m = NULL;
  CURL *c = NULL;
  membuf b = {0};
  open_stream("/api/stream?method=PUT", &m, &c, &b);
  assert_true(wait_for(m, &b, ": connected", 10));
  long code = 0;
  char *type = NULL;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
  assert_int_equal(code, 200);
  assert_string_equal(type, "text/event-stream");

  reqlog *r = recorder();
  int64_t skipped = call(r, "GET", "/participants/5", NULL, 0);
  int64_t wanted = call(r, "PUT", "/participants/5", "{\"first_name\":\"Live\"}", 21);
  reqlog_close(r);
  char needle[64];
  snprintf(needle, sizeof needle, "id: %" PRId64 "\nevent: row\ndata: {", wanted);
  assert_true(wait_for(m, &b, needle, 10));
  /* the row's data line is complete once the blank line after it came */
  assert_true(wait_for(m, &b, "}\n\n", 10));
  char *ev = strstr(b.p, needle);
  char *data = strstr(ev, "data: ") + 6;
  char *nl = strchr(data, '\n');
  *nl = '\0';
  cJSON *row = cJSON_Parse(data);
  assert_non_null(row);
  assert_int_equal((int64_t)num(row, "id"), wanted);
  assert_string_equal(str(row, "method"), "PUT");
  assert_null(cJSON_GetObjectItemCaseSensitive(row, "request_body"));
  cJSON_Delete(row);
  *nl = '\n';
  snprintf(needle, sizeof needle, "id: %" PRId64 "\n", skipped);
  assert_null(strstr(b.p, needle));
  printf("checked: /api/stream?method=PUT delivered row %" PRId64 " recorded after "
         "connecting (without bodies) and not row %" PRId64 " (a GET)\n", wanted, skipped);
  close_stream(m, c, &b);

  /* after=ID: the rows since then at once, oldest first */
  memset(&b, 0, sizeof b);
  char path[64];
  snprintf(path, sizeof path, "/api/stream?after=%" PRId64, skipped - 2);
  open_stream(path, &m, &c, &b);
  snprintf(needle, sizeof needle, "id: %" PRId64 "\n", wanted);
  assert_true(wait_for(m, &b, needle, 10));
  char ids[3][32];
  for (int i = 0; i < 3; i++)
    snprintf(ids[i], sizeof ids[i], "id: %" PRId64 "\n", skipped - 1 + i);
  assert_non_null(strstr(b.p, ids[0]));
  assert_true(strstr(b.p, ids[0]) < strstr(b.p, ids[1]));
  assert_true(strstr(b.p, ids[1]) < strstr(b.p, ids[2]));
  printf("checked: /api/stream?after=%" PRId64 " sends the three newer rows at once, oldest "
         "first\n", skipped - 2);
  close_stream(m, c, &b);
}

/* Opens /api/stream and runs it until it is connected (200) or answered otherwise
 * (within 10 s); returns the status. The stream stays open: close_stream(). */
static long stream_status(CURLM **m, CURL **c, membuf *b) {
  memset(b, 0, sizeof *b);
  open_stream("/api/stream", m, c, b);
  int connected = wait_for(*m, b, ": connected", 10);
  long code = 0;
  curl_easy_getinfo(*c, CURLINFO_RESPONSE_CODE, &code);
  return connected ? 200 : code;
}

/* stream_status() until a stream is connected (streams closed just before may take a
 * moment to be noticed gone), for about 15 s; returns the last status. */
static long stream_connect(CURLM **m, CURL **c, membuf *b) {
  long code = 0;
  for (int tries = 0; tries < 20 && code != 200; tries++) {
    code = stream_status(m, c, b);
    if (code != 200) {
      close_stream(*m, *c, b);
      usleep(500 * 1000);
    }
  }
  return code;
}

/* Live streams have no timeout, so they have a cap of their own: 8 from one address
 * (API.md), then 503 JSON; a closed stream frees its place. */
static void test_stream_cap(void **state) {
  (void)state;
  enum { CAP = 8 };
  CURLM *m[CAP + 1];
  CURL *c[CAP + 1];
  membuf b[CAP + 1];
  for (int i = 0; i < CAP; i++)
    assert_int_equal(stream_connect(&m[i], &c[i], &b[i]), 200);
  long code = stream_status(&m[CAP], &c[CAP], &b[CAP]);
  assert_int_equal(code, 503);
  char *type = NULL;
  curl_easy_getinfo(c[CAP], CURLINFO_CONTENT_TYPE, &type);
  assert_string_equal(type, "application/json");
  cJSON *j = cJSON_Parse(b[CAP].p);
  assert_non_null(j);
  const char *msg = str(j, "message");
  assert_non_null(msg);
  assert_non_null(strstr(msg, "Too many live streams"));
  printf("checked: %d live streams from 127.0.0.1 connect; one more gets 503 %s\n", CAP, b[CAP].p);
  cJSON_Delete(j);
  close_stream(m[CAP], c[CAP], &b[CAP]);

  /* the page still loads meanwhile, and a closed stream frees its place */
  reply res = get("/api/requests?limit=1");
  assert_int_equal(res.status, 200);
  resp_free(&res);
  close_stream(m[0], c[0], &b[0]);
  assert_int_equal(stream_connect(&m[0], &c[0], &b[0]), 200);
  printf("checked: GET /api/requests answers meanwhile; closing a stream lets a new one in\n");
  for (int i = 0; i < CAP; i++)
    close_stream(m[i], c[i], &b[i]);

  /* from another loopback address (its own count): HEAD /api/stream on CAP kept-alive
   * connections holds no stream's place once answered */
  char url[128];
  snprintf(url, sizeof url, "%s/api/stream", E->url);
  CURL *head[CAP];
  for (int i = 0; i < CAP; i++) {
    head[i] = curl_easy_init();
    curl_easy_setopt(head[i], CURLOPT_URL, url);
    curl_easy_setopt(head[i], CURLOPT_INTERFACE, "127.0.0.2");
    curl_easy_setopt(head[i], CURLOPT_NOBODY, 1L);
    curl_easy_setopt(head[i], CURLOPT_TIMEOUT, 10L);
    assert_int_equal(curl_easy_perform(head[i]), CURLE_OK);
    long st = 0;
    curl_easy_getinfo(head[i], CURLINFO_RESPONSE_CODE, &st);
    assert_int_equal(st, 200);
  }
  memset(&b[0], 0, sizeof b[0]);
  open_stream_from("/api/stream", "127.0.0.2", &m[0], &c[0], &b[0]);
  int connected = wait_for(m[0], &b[0], ": connected", 10);
  if (!connected)
    fprintf(stderr, "stream from 127.0.0.2 after %d HEADs: %s\n", CAP, b[0].p ? b[0].p : "");
  assert_true(connected);
  close_stream(m[0], c[0], &b[0]);
  for (int i = 0; i < CAP; i++)
    curl_easy_cleanup(head[i]);
  printf("checked: %d answered HEAD /api/stream on kept-alive connections from 127.0.0.2 "
         "hold no place: a stream from there connects\n", CAP);
}

/* ------------------------------------------------------------------ garbage */

/* A TCP connection to 127.0.0.1:PORT, or -1. */
static int connect_local(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    fd = -1;
  }
  return fd;
}

/* Sends RAW on a fresh connection; returns the status of the answer, or 0 when the
 * server closed without one. */
static int raw_request(const char *raw, size_t len) {
  int fd = connect_local(E->port);
  assert_true(fd >= 0);
  struct timeval tv = {5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  size_t off = 0;
  while (off < len) {
    ssize_t n = send(fd, raw + off, len - off, MSG_NOSIGNAL);
    if (n <= 0)
      break;
    off += (size_t)n;
  }
  char buf[64] = "";
  ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
  close(fd);
  int status = 0;
  if (n > 12)
    sscanf(buf, "HTTP/1.%*d %d", &status);
  return status;
}

static void test_garbage_never_crashes(void **state) {
  (void)state;
  char host[64];
  snprintf(host, sizeof host, "Host: 127.0.0.1:%d\r\n", E->port);
  size_t big = 300 * 1024;
  char *raw = malloc(big + 256);
  /* a query string far past the connection's memory */
  int n = snprintf(raw, 64, "GET /api/requests?q=");
  memset(raw + n, 'a', big);
  snprintf(raw + n + big, 200, " HTTP/1.1\r\n%s\r\n", host);
  int st = raw_request(raw, strlen(raw));
  assert_true(st == 0 || st >= 400);
  printf("checked: a 300 KB query string: %d, connection memory stays bounded\n", st);
  /* thousands of parameters */
  n = snprintf(raw, 64, "GET /api/requests?");
  for (int i = 0; i < 5000; i++)
    n += snprintf(raw + n, 32, "p%d=1&", i);
  snprintf(raw + n, 200, " HTTP/1.1\r\n%s\r\n", host);
  st = raw_request(raw, strlen(raw));
  assert_true(st == 400 || st == 414 || st == 431 || st == 0);
  printf("checked: 5000 unknown parameters: %d\n", st);
  free(raw);

  char req[512];
  static const char *const lines[] = {
    "GET /api/stats HTTP/1.0\r\n\r\n",   /* no Host */
    "BREW /api/stats HTTP/1.1\r\n%s\r\n",
    "GET /api/requests/%%00 HTTP/1.1\r\n%s\r\n",
    "GET /api/requests?status=%%ff%%fe HTTP/1.1\r\n%s\r\n",
    "GET /api/requests?q=%%00%%00&method=%%0d%%0a HTTP/1.1\r\n%s\r\n",
    "GET /static/%%2e%%2e/%%2e%%2e/etc/passwd HTTP/1.1\r\n%s\r\n",
    "GET /api/requests/18446744073709551616 HTTP/1.1\r\n%s\r\n",
    "GET /api/export?format=csv&format=ndjson HTTP/1.1\r\n%s\r\n",
    "POST /api/requests/1/replay HTTP/1.1\r\n%sContent-Length: 99999999999999999999\r\n\r\n",
    "GET /api/stream?after=99999999999999 HTTP/1.0\r\n%s\r\n",
    "this is not http\r\n\r\n",
    "GET\r\n\r\n",
  };
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    snprintf(req, sizeof req, lines[i], host);
    if (strstr(req, "/api/stream")) { /* an idle stream: just connect and leave */
      int fd = connect_local(E->port);
      assert_true(fd >= 0);
      assert_true(send(fd, req, strlen(req), MSG_NOSIGNAL) > 0);
      char buf[64];
      assert_true(recv(fd, buf, sizeof buf, 0) > 0);
      close(fd);
      continue;
    }
    st = raw_request(req, strlen(req));
    assert_true(st == 0 || st >= 400);
  }
  reply res = get("/api/stats");
  assert_int_equal(res.status, 200);
  resp_free(&res);
  printf("checked: %zu malformed requests (no Host, odd methods, %%00, bad UTF-8, huge ids and "
         "lengths, not HTTP) answered with errors; the server still answers\n",
         sizeof lines / sizeof lines[0]);
}

/* ------------------------------------------------------------------ slow clients */

/* `reqlog --db DB serve --listen 127.0.0.1:0` (the binary under test) as a child. */
typedef struct serve_proc {
  pid_t pid;
  FILE *out;   /* its stdout, open until it stops */
  int port;
  char url[64];
} serve_proc;

/* The running child, for the teardown to stop when a failed assertion left it. */
static pid_t serve_child;

static int kill_serve(void **state) {
  (void)state;
  if (serve_child > 0) {
    kill(serve_child, SIGKILL);
    waitpid(serve_child, NULL, 0);
    serve_child = 0;
  }
  return 0;
}

static void serve_start(const char *db, serve_proc *p) {
  int o[2];
  assert_int_equal(pipe(o), 0);
  p->pid = fork();
  assert_true(p->pid >= 0);
  if (p->pid == 0) {
    dup2(o[1], 1);
    close(o[0]);
    close(o[1]);
    const char *b = getenv("REQLOG_TEST_BIN");
    if (!b || !*b)
      b = "build/reqlog";
    execl(b, b, "--db", db, "serve", "--listen", "127.0.0.1:0", (char *)NULL);
    fprintf(stderr, "exec %s: %s\n", b, strerror(errno));
    _exit(127);
  }
  close(o[1]);
  serve_child = p->pid;
  p->out = fdopen(o[0], "r");
  char line[256] = "";
  assert_non_null(fgets(line, sizeof line, p->out));
  p->port = 0;
  assert_int_equal(sscanf(line, "serving http://127.0.0.1:%d", &p->port), 1);
  snprintf(p->url, sizeof p->url, "http://127.0.0.1:%d", p->port);
}

/* SIGTERM; the server must stop cleanly (exit 0). */
static void serve_stop(serve_proc *p) {
  kill(p->pid, SIGTERM);
  int status = 0;
  while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
    ;
  serve_child = 0;
  fclose(p->out);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

enum { TRICKLERS = 40, TRICKLE_MS = 500 };

/* Connections that send one byte of a request head every TRICKLE_MS and never end it:
 * "GET / HTTP/1.1\r\nHost: ...\r\nX-Slow: aaaa...". One the server closes is opened again
 * when RECONNECT is set, as a client bent on holding the server would. */
typedef struct trickle {
  int port, n, reconnect;
  char head[96];
  int fd[TRICKLERS];
  size_t sent[TRICKLERS];
  int64_t opened_ms[TRICKLERS];
  pthread_mutex_t lock;   /* guards what follows, for the thread of trickle_run */
  int stop;
  int open_now;           /* connections open after the last round */
  int closed;             /* connections the server closed */
  int64_t longest_ms;     /* the longest one lived before the server closed it */
} trickle;

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void trickle_open(trickle *t, int i) {
  t->fd[i] = connect_local(t->port);
  t->sent[i] = 0;
  t->opened_ms[i] = mono_ms();
}

static void trickle_init(trickle *t, int port, int n, int reconnect) {
  memset(t, 0, sizeof *t);
  t->port = port;
  t->n = n;
  t->reconnect = reconnect;
  snprintf(t->head, sizeof t->head, "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Slow: ", port);
  pthread_mutex_init(&t->lock, NULL);
  for (int i = 0; i < n; i++)
    trickle_open(t, i);
}

/* One byte on every open connection; a connection the server closed (or answered) is
 * counted, and opened again when RECONNECT is set. */
static void trickle_round(trickle *t) {
  int open_now = 0;
  for (int i = 0; i < t->n; i++) {
    if (t->fd[i] < 0) {
      if (t->reconnect)
        trickle_open(t, i);
      continue;
    }
    size_t hl = strlen(t->head);
    char byte = t->sent[i] < hl ? t->head[t->sent[i]] : 'a';
    int gone = send(t->fd[i], &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1 && errno != EAGAIN;
    t->sent[i]++;
    char buf[256];
    ssize_t r = recv(t->fd[i], buf, sizeof buf, MSG_DONTWAIT);
    gone = gone || r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
    if (gone) {
      int64_t lived = mono_ms() - t->opened_ms[i];
      close(t->fd[i]);
      t->fd[i] = -1;
      pthread_mutex_lock(&t->lock);
      t->closed++;
      if (lived > t->longest_ms)
        t->longest_ms = lived;
      pthread_mutex_unlock(&t->lock);
      if (t->reconnect)
        trickle_open(t, i);
    }
    open_now += t->fd[i] >= 0;
  }
  pthread_mutex_lock(&t->lock);
  t->open_now = open_now;
  pthread_mutex_unlock(&t->lock);
}

static int trickle_stopped(trickle *t) {
  pthread_mutex_lock(&t->lock);
  int stop = t->stop;
  pthread_mutex_unlock(&t->lock);
  return stop;
}

static void *trickle_run(void *arg) {
  trickle *t = arg;
  while (!trickle_stopped(t)) {
    trickle_round(t);
    usleep(TRICKLE_MS * 1000);
  }
  return NULL;
}

static void trickle_free(trickle *t) {
  for (int i = 0; i < t->n; i++)
    if (t->fd[i] >= 0)
      close(t->fd[i]);
  pthread_mutex_destroy(&t->lock);
}

/* GET BASE+PATH until it answers 200, for at most SECONDS; returns the status last seen
 * (0: no answer at all). */
static long get_within(const char *base, const char *path, int seconds) {
  int64_t end = mono_ms() + seconds * 1000L;
  long status = 0;
  while (status != 200 && mono_ms() < end) {
    reply r;
    if (http_try(base, "GET", path, NULL, NULL, 0, 5L, &r) == CURLE_OK)
      status = r.status;
    resp_free(&r);
    if (status != 200)
      usleep(200 * 1000);
  }
  return status;
}

/* Forty connections from this process trickling request heads must not keep the page
 * from loading, and a head that never ends is dropped by the server. */
static void test_trickling_clients(void **state) {
  (void)state;
  serve_proc srv;
  serve_start(E->db, &srv);

  trickle *t = calloc(1, sizeof *t);
  trickle_init(t, srv.port, TRICKLERS, 1);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, trickle_run, t), 0);
  /* let the trickle take hold: a few rounds on every connection */
  usleep(3 * TRICKLE_MS * 1000);
  int64_t t0 = mono_ms();
  long page = get_within(srv.url, "/", 30);
  long list = get_within(srv.url, "/api/requests?limit=5", 30);
  int64_t took = mono_ms() - t0;
  pthread_mutex_lock(&t->lock);
  int open_now = t->open_now;
  pthread_mutex_unlock(&t->lock);
  pthread_mutex_lock(&t->lock);
  t->stop = 1;
  pthread_mutex_unlock(&t->lock);
  pthread_join(th, NULL);
  if (page != 200 || list != 200)
    fprintf(stderr, "with %d trickling connections: GET / %ld, GET /api/requests %ld\n",
            TRICKLERS, page, list);
  assert_int_equal(page, 200);
  assert_int_equal(list, 200);
  assert_true(open_now > 0); /* the trickle was still going */
  printf("checked: with %d connections trickling a byte every %d ms (%d open at the end, "
         "reconnecting when dropped), GET / and GET /api/requests answered 200 in %lld ms\n",
         TRICKLERS, TRICKLE_MS, open_now, (long long)took);
  trickle_free(t);

  /* one alone: its head never ends, so the server closes it (bound: 25 s) */
  trickle_init(t, srv.port, 1, 0);
  assert_true(t->fd[0] >= 0);
  int64_t end = mono_ms() + 25000;
  while (t->fd[0] >= 0 && mono_ms() < end) {
    trickle_round(t);
    usleep(TRICKLE_MS * 1000);
  }
  if (t->closed != 1)
    fprintf(stderr, "a trickling connection was still open after 25 s\n");
  assert_int_equal(t->closed, 1);
  printf("checked: a lone connection trickling its head was closed by the server after "
         "%lld ms\n", (long long)t->longest_ms);
  trickle_free(t);
  free(t);
  serve_stop(&srv);
}

/* ------------------------------------------------------------------ 100k export */

/* VmRSS or VmHWM of this process in KiB. */
static long vm_kib(const char *field) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  size_t n = strlen(field);
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, field, n) == 0 && line[n] == ':')
      kib = atol(line + n + 1);
  if (f)
    fclose(f);
  return kib;
}

typedef struct counter {
  size_t bytes, lines;
} counter;

static size_t count_bytes(char *p, size_t s, size_t n, void *arg) {
  counter *c = arg;
  for (size_t i = 0; i < s * n; i++)
    c->lines += p[i] == '\n';
  c->bytes += s * n;
  return s * n;
}

static size_t stop_at_once(char *p, size_t s, size_t n, void *arg) {
  (void)p;
  (void)s;
  (void)n;
  (void)arg;
  return 0;
}

static void test_export_100k_bounded(void **state) {
  (void)state;
  char *dir = tu_tmpdir();
  char *db = tu_path(dir, "big.db");
  reqlog *r = NULL;
  assert_int_equal(reqlog_open(db, &r, NULL), REQLOG_OK);
  assert_int_equal(reqlog_close(r), REQLOG_OK);
  sqlite3 *s = tu_db(db);
  time_t t0 = time(NULL);
  /* ~1 KB per row: a long URL and a 600-byte body each */
  tu_exec(s, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)"
             " INSERT INTO calls(started_at, method, url, host, path, status, duration_us, source,"
             " request_body, response_body)"
             " SELECT 1790000000000000 + i * 1000, 'GET',"
             " 'http://127.0.0.1:9/public/v1/participants/' || i || '?pad=' || hex(zeroblob(100)),"
             " '127.0.0.1', '/public/v1/participants/' || i, 200, 1500, 'import',"
             " '{\"n\":' || i || '}', '{\"data\":\"' || hex(zeroblob(300)) || '\"}' FROM n");
  /* the rows count as indexed, so the server's writer does not build the search index
   * while the test measures memory */
  tu_exec(s, "UPDATE meta SET value = (SELECT max(id) FROM calls) WHERE name = 'fts_indexed'");
  sqlite3_close(s);
  web_opts o = {.db_path = db, .listen = "127.0.0.1:0"};
  web_server *w = NULL;
  assert_int_equal(web_start(&o, &w, NULL), 0);
  printf("checked: 100,000 rows inserted in %ld s\n", (long)(time(NULL) - t0));

  /* Peak RSS from here on: reset the high-water mark where Linux allows it */
  FILE *cr = fopen("/proc/self/clear_refs", "w");
  int reset = cr && fputs("5", cr) >= 0;
  if (cr)
    reset = (fclose(cr) == 0) && reset;
  long rss0 = vm_kib("VmRSS"), hwm0 = vm_kib("VmHWM");
  long base = reset ? rss0 : hwm0;

  char url[128];
  snprintf(url, sizeof url, "%s/api/export?format=csv&bodies=1", web_url(w));
  counter cnt = {0};
  CURL *c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, count_bytes);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &cnt);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  clock_gettime(CLOCK_MONOTONIC, &b);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(c);
  assert_int_equal(code, 200);
  long hwm1 = vm_kib("VmHWM");
  long growth = hwm1 - base;
  assert_int_equal(cnt.lines, 100001);
  assert_true(cnt.bytes > 90u * 1024 * 1024);
  double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
  printf("checked: exporting 100,000 rows (%zu MB of CSV in %.1f s) raised peak RSS by "
         "%ld KiB (%s), under 32 MB\n", cnt.bytes >> 20, secs, growth,
         reset ? "high-water mark reset first" : "high-water mark not resettable");
  assert_true(growth >= 0 && growth < 32 * 1024);

  /* a client that leaves early stops the export */
  c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, stop_at_once);
  assert_int_equal(curl_easy_perform(c), CURLE_WRITE_ERROR);
  curl_easy_cleanup(c);
  web_stop(w); /* returns only once the export thread is gone */
  printf("checked: a client leaving mid-export does not hold up web_stop()\n");
  tu_rmtree(dir);
  free(dir);
  free(db);
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_list_and_paging),
    cmocka_unit_test(test_every_filter),
    cmocka_unit_test(test_bad_parameters),
    cmocka_unit_test(test_one_row),
    cmocka_unit_test(test_methods_and_paths),
    cmocka_unit_test(test_host_check),
    cmocka_unit_test(test_security_headers),
    cmocka_unit_test(test_api_answers_are_sandboxed),
    cmocka_unit_test(test_assets_dir),
    cmocka_unit_test(test_replay),
    cmocka_unit_test(test_token_mode),
    cmocka_unit_test(test_export),
    cmocka_unit_test(test_live_stream),
    cmocka_unit_test(test_stream_cap),
    cmocka_unit_test(test_garbage_never_crashes),
    cmocka_unit_test_teardown(test_trickling_clients, kill_serve),
    cmocka_unit_test(test_export_100k_bounded),
  };
  int rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
  curl_global_cleanup();
  return rc;
}
