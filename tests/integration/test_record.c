/* test_record.c: the library records real calls to the tests' fake API into a real
 * SQLite file, and the stored rows hold what was sent and received.
 *
 * Plan:
 *   drop-in GET            every field of the row model; the caller's write callback
 *                          gets the same bytes as with plain libcurl
 *   debug passthrough      a caller's debug callback still sees the traffic; settings
 *                          restored afterwards
 *   422                    message and per-field errors in the response and the row;
 *                          field filter finds it; request body stored as sent
 *   retries                503 chain for GET (linked rows), POST not retried,
 *                          429 with Retry-After retried, dropped connection retried
 *   caps / binary / gzip   truncation with full size and SHA-256, BLOB round trip,
 *                          gzip stored decoded, redirects stored as the final request
 *   rate limit             the client limiter keeps a burst under the server's limit
 *   key origin             the key goes with a path or a URL of the base URL's scheme,
 *                          host and port only: a second fake API on another port gets no
 *                          Authorization (its /echo answers 401); the row keeps no
 *                          fingerprint for it
 *   http and https only    file:, gopher:, ftp: are refused before anything is sent
 *                          (REQLOG_ERR_ARG, no row), a redirect to ftp: is not followed,
 *                          a base URL of another scheme is refused
 *   key of a failed call   a call that never wrote its headers (nothing listens) still
 *                          records the fingerprint of the key it was sent with
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reqlog.h"
#include "testutil.h"

typedef struct env {
  char *dir, *db;
  fakeapi *api;
  reqlog *r;
  char url[256];
} env;

static int setup_rate(void **state, int rate, long window) {
  env *e = calloc(1, sizeof *e);
  e->dir = tu_tmpdir();
  e->db = tu_path(e->dir, "t.db");
  e->api = tu_api(rate, window);
  char *cause = NULL;
  assert_int_equal(reqlog_open(e->db, &e->r, &cause), REQLOG_OK);
  reqlog_set_base_url(e->r, fakeapi_base_url(e->api));
  reqlog_set_api_key(e->r, FAKEAPI_KEY);
  reqlog_set_rate_limit(e->r, 0);
  reqlog_set_retry(e->r, 4, 20, 10000);
  snprintf(e->url, sizeof e->url, "%s", fakeapi_base_url(e->api));
  *state = e;
  return 0;
}

static int setup(void **state) {
  return setup_rate(state, 1000, 60000);
}

static int teardown(void **state) {
  env *e = *state;
  reqlog_close(e->r);
  fakeapi_stop(e->api);
  tu_rmtree(e->dir);
  free(e->dir);
  free(e->db);
  free(e);
  return 0;
}

typedef struct buf {
  char *p;
  size_t len;
} buf;

static size_t collect(char *p, size_t s, size_t n, void *arg) {
  buf *b = arg;
  b->p = realloc(b->p, b->len + s * n + 1);
  memcpy(b->p + b->len, p, s * n);
  b->len += s * n;
  b->p[b->len] = '\0';
  return s * n;
}

/* The newest row with bodies, after everything queued is written. */
static cJSON *newest(env *e, int with_bodies) {
  assert_int_equal(reqlog_flush(e->r, NULL), REQLOG_OK);
  reqlog_cursor *c = NULL;
  reqlog_query_opts o = {.limit = 1, .with_bodies = with_bodies};
  assert_int_equal(reqlog_query(e->r, NULL, &o, &c, NULL), REQLOG_OK);
  cJSON *row = NULL;
  assert_int_equal(reqlog_cursor_next(c, &row), REQLOG_OK);
  reqlog_cursor_free(c);
  return row;
}

/* All rows oldest first. */
static cJSON *all_rows(env *e) {
  assert_int_equal(reqlog_flush(e->r, NULL), REQLOG_OK);
  reqlog_cursor *c = NULL;
  reqlog_query_opts o = {.with_bodies = 1, .oldest_first = 1};
  assert_int_equal(reqlog_query(e->r, NULL, &o, &c, NULL), REQLOG_OK);
  cJSON *arr = cJSON_CreateArray(), *row = NULL;
  while (reqlog_cursor_next(c, &row) == REQLOG_OK)
    cJSON_AddItemToArray(arr, row);
  reqlog_cursor_free(c);
  return arr;
}

static double num(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  assert_true(cJSON_IsNumber(v));
  return v->valuedouble;
}


static void test_drop_in_get_all_fields(void **state) {
  env *e = *state;
  char url[300];
  snprintf(url, sizeof url, "%s/participants?page=1", e->url);
  struct curl_slist *h = curl_slist_append(NULL, "Authorization: Bearer " FAKEAPI_KEY);
  h = curl_slist_append(h, "Accept: application/json");

  /* the same request without reqlog, for comparison */
  buf plain = {0}, rec = {0}, hplain = {0}, hrec = {0};
  CURL *c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &plain);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &hplain);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &rec);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &hrec);
  int64_t before = tu_now_us();
  assert_int_equal(reqlog_easy_perform(e->r, c), CURLE_OK);
  assert_int_equal(plain.len, rec.len);
  assert_memory_equal(plain.p, rec.p, plain.len);
  printf("checked: the caller's write callback got the same %zu bytes as without reqlog\n", rec.len);
  /* headers differ only in the X-RateLimit-Remaining count, so compare their names */
  int lines_plain = 0, lines_rec = 0;
  for (size_t i = 0; i < hplain.len; i++)
    lines_plain += hplain.p[i] == '\n';
  for (size_t i = 0; i < hrec.len; i++)
    lines_rec += hrec.p[i] == '\n';
  assert_int_equal(lines_plain, lines_rec);
  assert_true(strncmp(hrec.p, "HTTP/1.1 200", 12) == 0);
  printf("checked: the caller's header callback got the same %d header lines\n", lines_rec);

  cJSON *row = newest(e, 1);
  assert_true(num(row, "id") >= 1);
  const char *ts = tu_str(row, "started_at");
  assert_non_null(ts);
  assert_int_equal(strlen(ts), 27); /* 2026-11-27T21:04:05.123456Z */
  assert_int_equal(ts[26], 'Z');
  int64_t at = 0;
  assert_int_equal(reqlog_parse_time(ts, 0, &at), REQLOG_OK);
  assert_true(at >= before - 1000000 && at <= tu_now_us());
  assert_string_equal(tu_str(row, "method"), "GET");
  assert_string_equal(tu_str(row, "url"), url);
  assert_string_equal(tu_str(row, "host"), "127.0.0.1");
  assert_string_equal(tu_str(row, "path"), "/public/v1/participants");
  assert_int_equal((int)num(row, "status"), 200);
  assert_true(tu_is_null(row, "error"));
  assert_true(num(row, "duration_ms") > 0);
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(row, "timing");
  const char *phases[] = {"queued_ms", "dns_ms", "connect_ms", "tls_ms", "ttfb_ms", "total_ms"};
  for (int i = 0; i < 6; i++)
    assert_true(num(t, phases[i]) >= 0);
  assert_true(num(t, "total_ms") == num(row, "duration_ms"));
  assert_true(num(t, "dns_ms") + num(t, "connect_ms") + num(t, "tls_ms") + num(t, "ttfb_ms") <=
              num(t, "total_ms") + 0.001);
  char fp[48];
  reqlog_key_fingerprint(FAKEAPI_KEY, fp);
  assert_string_equal(tu_str(row, "key"), fp);
  assert_int_equal((int)num(row, "attempt"), 1);
  assert_true(tu_is_null(row, "retry_of"));
  assert_string_equal(tu_str(row, "source"), "library");
  char want_auth[80];
  snprintf(want_auth, sizeof want_auth, "Bearer %s", fp);
  assert_string_equal(tu_header(row, "request_headers", "Authorization"), want_auth);
  assert_string_equal(tu_header(row, "request_headers", "Accept"), "application/json");
  assert_non_null(tu_header(row, "request_headers", "Host"));
  assert_string_equal(tu_header(row, "response_headers", "Content-Type"), "application/json");
  assert_true(tu_is_null(row, "request_body"));
  assert_string_equal(tu_str(row, "response_body"), rec.p);
  assert_int_equal((int)num(row, "request_size"), 0);
  assert_int_equal((size_t)num(row, "response_size"), rec.len);
  assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(row, "request_truncated")));
  assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(row, "response_truncated")));
  assert_string_equal(tu_str(row, "content_type"), "application/json");
  assert_string_equal(tu_str(row, "http_version"), "HTTP/1.1");
  assert_string_equal(tu_str(row, "remote_ip"), "127.0.0.1");
  assert_true(tu_is_null(row, "error_message"));
  assert_true(tu_is_null(row, "error_fields"));
  printf("checked: every row-model field of a recorded GET (%s)\n", ts);
  cJSON_Delete(row);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  free(plain.p);
  free(rec.p);
  free(hplain.p);
  free(hrec.p);
}

typedef struct dbg {
  int header_out, text;
} dbg;

static int my_debug(CURL *h, curl_infotype type, char *data, size_t size, void *arg) {
  (void)h;
  (void)data;
  (void)size;
  dbg *d = arg;
  if (type == CURLINFO_HEADER_OUT)
    d->header_out++;
  if (type == CURLINFO_TEXT)
    d->text++;
  return 0;
}

static void test_debug_callback_passthrough(void **state) {
  env *e = *state;
  char url[300];
  snprintf(url, sizeof url, "%s/health", e->url);
  buf b = {0};
  dbg d = {0};
  CURL *c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  assert_int_equal(reqlog_easy_perform_debug(e->r, c, my_debug, &d, 1L), CURLE_OK);
  assert_true(d.header_out >= 1);
  assert_true(d.text >= 1);
  printf("checked: the caller's debug callback saw %d header-out and %d text events\n",
         d.header_out, d.text);
  /* the handle is left with the caller's settings: a plain perform still reaches it */
  dbg d2 = {0};
  curl_easy_setopt(c, CURLOPT_DEBUGDATA, &d2);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  assert_true(d2.header_out >= 1);
  cJSON *row = newest(e, 1);
  assert_string_equal(tu_str(row, "path"), "/public/v1/health");
  assert_int_equal((int)num(row, "status"), 200);
  assert_true(tu_is_null(row, "key"));
  printf("checked: debug settings restored on the handle; the call was recorded\n");
  cJSON_Delete(row);
  curl_easy_cleanup(c);
  free(b.p);
}

static void test_422_fields(void **state) {
  env *e = *state;
  const char *body = "{\"first_name\":\"\",\"email\":\"not-an-email\"}";
  reqlog_response *resp = NULL;
  assert_int_equal(reqlog_request(e->r, "POST", "/participants", body, strlen(body), NULL, &resp),
                   REQLOG_ERR_HTTP);
  assert_int_equal(resp->status, 422);
  assert_string_equal(resp->error_message, "The given data was invalid.");
  cJSON *em = cJSON_GetObjectItemCaseSensitive(resp->error_fields, "email");
  assert_true(cJSON_IsArray(em));
  assert_string_equal(cJSON_GetArrayItem(em, 0)->valuestring, "The email must be a valid email address.");
  reqlog_response_free(resp);

  cJSON *row = newest(e, 1);
  assert_int_equal((int)num(row, "status"), 422);
  assert_string_equal(tu_str(row, "method"), "POST");
  assert_string_equal(tu_str(row, "request_body"), body);
  assert_int_equal((size_t)num(row, "request_size"), strlen(body));
  assert_string_equal(tu_header(row, "request_headers", "Content-Type"), "application/json");
  assert_string_equal(tu_str(row, "error_message"), "The given data was invalid.");
  cJSON *fields = cJSON_GetObjectItemCaseSensitive(row, "error_fields");
  assert_true(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(fields, "email")));
  assert_true(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(fields, "first_name")));
  int64_t id = (int64_t)num(row, "id");
  cJSON_Delete(row);

  reqlog_filter *f = NULL;
  reqlog_filter_new(&f);
  assert_int_equal(reqlog_filter_set(f, "field", "email", NULL), REQLOG_OK);
  int64_t n = 0;
  assert_int_equal(reqlog_count(e->r, f, &n, NULL), REQLOG_OK);
  assert_int_equal(n, 1);
  reqlog_cursor *c = NULL;
  assert_int_equal(reqlog_query(e->r, f, NULL, &c, NULL), REQLOG_OK);
  assert_int_equal(reqlog_cursor_next(c, &row), REQLOG_OK);
  assert_int_equal((int64_t)num(row, "id"), id);
  cJSON_Delete(row);
  reqlog_cursor_free(c);
  reqlog_filter_free(f);
  printf("checked: 422 message and field errors in the response, the row, and field=email\n");
}

static void test_retry_chain_get(void **state) {
  env *e = *state;
  reqlog_response *resp = NULL;
  assert_int_equal(reqlog_request(e->r, "GET", "/flaky?fail=2&id=chain1", NULL, 0, NULL, &resp),
                   REQLOG_OK);
  assert_int_equal(resp->status, 200);
  assert_int_equal(resp->attempts, 3);
  reqlog_response_free(resp);
  cJSON *rows = all_rows(e);
  assert_int_equal(cJSON_GetArraySize(rows), 3);
  int expect[] = {503, 503, 200};
  double prev = 0;
  for (int i = 0; i < 3; i++) {
    cJSON *row = cJSON_GetArrayItem(rows, i);
    assert_int_equal((int)num(row, "status"), expect[i]);
    assert_int_equal((int)num(row, "attempt"), i + 1);
    if (i == 0)
      assert_true(tu_is_null(row, "retry_of"));
    else
      assert_true(num(row, "retry_of") == prev);
    prev = num(row, "id");
  }
  cJSON_Delete(rows);
  printf("checked: GET 503, 503, 200 recorded as attempts 1-3, each linked to the one before\n");
}

static void test_post_not_retried(void **state) {
  env *e = *state;
  reqlog_response *resp = NULL;
  assert_int_equal(reqlog_request(e->r, "POST", "/flaky?fail=2&id=post1", "{}", 2, NULL, &resp),
                   REQLOG_ERR_HTTP);
  assert_int_equal(resp->status, 503);
  assert_int_equal(resp->attempts, 1);
  reqlog_response_free(resp);
  assert_int_equal(fakeapi_hits(e->api, "/public/v1/flaky"), 1);
  printf("checked: a POST that got 503 is not retried (one request, one row)\n");
}

static void test_429_retry_after(void **state) {
  env *e = *state;
  reqlog_response *resp = NULL;
  /* Retry-After as seconds, then as an HTTP date; the server keeps answering 429, so
   * every attempt is a 429 row, chained */
  reqlog_set_retry(e->r, 2, 20, 10000);
  assert_int_equal(reqlog_request(e->r, "GET", "/status/429?retry_after=1", NULL, 0, NULL, &resp),
                   REQLOG_ERR_HTTP);
  assert_int_equal(resp->attempts, 2);
  reqlog_response_free(resp);
  assert_int_equal(reqlog_request(e->r, "POST", "/status/429?retry_after=1&retry_after_date=1",
                                  "{}", 2, NULL, &resp), REQLOG_ERR_HTTP);
  assert_int_equal(resp->attempts, 2);
  reqlog_response_free(resp);
  /* a Retry-After longer than we may wait ends the retries at once */
  reqlog_set_retry(e->r, 3, 20, 500);
  assert_int_equal(reqlog_request(e->r, "GET", "/status/429?retry_after=30", NULL, 0, NULL, &resp),
                   REQLOG_ERR_HTTP);
  assert_int_equal(resp->attempts, 1);
  reqlog_response_free(resp);
  cJSON *rows = all_rows(e);
  assert_int_equal(cJSON_GetArraySize(rows), 5);
  assert_true(num(cJSON_GetArrayItem(rows, 1), "retry_of") == num(cJSON_GetArrayItem(rows, 0), "id"));
  assert_true(num(cJSON_GetArrayItem(rows, 3), "retry_of") == num(cJSON_GetArrayItem(rows, 2), "id"));
  assert_string_equal(tu_str(cJSON_GetArrayItem(rows, 3), "method"), "POST");
  assert_true(tu_header(cJSON_GetArrayItem(rows, 0), "response_headers", "Retry-After") != NULL);
  cJSON_Delete(rows);
  printf("checked: 429 retried after Retry-After (seconds and HTTP date, any method), "
         "not when it asks too long\n");
}

static void test_dropped_connection(void **state) {
  env *e = *state;
  reqlog_set_retry(e->r, 2, 10, 1000);
  reqlog_response *resp = NULL;
  assert_int_equal(reqlog_request(e->r, "GET", "/drop", NULL, 0, NULL, &resp), REQLOG_ERR_TRANSPORT);
  assert_int_equal(resp->status, 0);
  assert_int_equal(resp->attempts, 2);
  assert_non_null(resp->error);
  reqlog_response_free(resp);
  /* nothing listens on port 1 */
  assert_int_equal(reqlog_request(e->r, "GET", "http://127.0.0.1:1/x", NULL, 0, NULL, &resp),
                   REQLOG_ERR_TRANSPORT);
  reqlog_response_free(resp);
  cJSON *rows = all_rows(e);
  assert_int_equal(cJSON_GetArraySize(rows), 4);
  cJSON *row;
  cJSON_ArrayForEach(row, rows) {
    assert_true(tu_is_null(row, "status"));
    assert_non_null(tu_str(row, "error"));
  }
  printf("checked: dropped connection and refused connection stored with status null and "
         "error '%s'\n", tu_str(cJSON_GetArrayItem(rows, 3), "error"));
  reqlog_filter *f = NULL;
  reqlog_filter_new(&f);
  reqlog_filter_set(f, "status", "error", NULL);
  int64_t n = 0;
  assert_int_equal(reqlog_count(e->r, f, &n, NULL), REQLOG_OK);
  assert_int_equal(n, 4);
  reqlog_filter_free(f);
  cJSON_Delete(rows);
}

static void sha_hex(const void *p, size_t n, char out[65]) {
  unsigned char d[32];
  unsigned int len = 0;
  EVP_Digest(p, n, d, &len, EVP_sha256(), NULL);
  for (int i = 0; i < 32; i++)
    sprintf(out + 2 * i, "%02x", d[i]);
}

static void test_large_body_capped(void **state) {
  env *e = *state;
  reqlog_set_body_cap(e->r, 64 * 1024);
  reqlog_response *resp = NULL;
  assert_int_equal(reqlog_request(e->r, "GET", "/large?bytes=300000", NULL, 0, NULL, &resp), REQLOG_OK);
  assert_int_equal(resp->body_len, 300000);
  char want[65];
  sha_hex(resp->body, resp->body_len, want);
  cJSON *row = newest(e, 1);
  assert_int_equal((int)num(row, "response_size"), 300000);
  assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "response_truncated")));
  assert_int_equal(strlen(tu_str(row, "response_body")), 64 * 1024);
  assert_memory_equal(tu_str(row, "response_body"), resp->body, 64 * 1024);
  assert_string_equal(tu_str(row, "response_sha256"), want);
  printf("checked: a 300000-byte body capped at 64 KiB keeps its full size and SHA-256 %.12s…\n", want);
  cJSON_Delete(row);
  reqlog_response_free(resp);
}

static void test_binary_body(void **state) {
  env *e = *state;
  reqlog_response *resp = NULL;
  assert_int_equal(reqlog_request(e->r, "GET", "/binary?bytes=1000", NULL, 0, NULL, &resp), REQLOG_OK);
  assert_int_equal(resp->body_len, 1000);
  reqlog_response_free(resp);
  cJSON *row = newest(e, 1);
  cJSON *b = cJSON_GetObjectItemCaseSensitive(row, "response_body");
  assert_true(cJSON_IsObject(b));
  const char *b64 = tu_str(b, "base64");
  assert_non_null(b64);
  unsigned char out[1100];
  int n = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)strlen(b64));
  assert_true(n >= 1000);
  for (int i = 0; i < 1000; i++)
    assert_int_equal(out[i], i % 256);
  sqlite3 *db = tu_db(e->db);
  char *type = tu_text(db, "SELECT typeof(response_body) FROM calls ORDER BY id DESC LIMIT 1");
  assert_string_equal(type, "blob");
  free(type);
  sqlite3_close(db);
  printf("checked: a binary body is stored as a BLOB and comes back as base64, byte for byte\n");
  cJSON_Delete(row);
}

static void test_gzip_and_redirect(void **state) {
  env *e = *state;
  char url[300];
  snprintf(url, sizeof url, "%s/gzip", e->url);
  struct curl_slist *h = curl_slist_append(NULL, "Authorization: Bearer " FAKEAPI_KEY);
  buf b = {0};
  CURL *c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  assert_int_equal(reqlog_easy_perform(e->r, c), CURLE_OK);
  /* the caller asked for no decoding, so it got gzip bytes... */
  assert_true(b.len > 2 && (unsigned char)b.p[0] == 0x1f && (unsigned char)b.p[1] == 0x8b);
  cJSON *row = newest(e, 1);
  /* ...and the history shows the JSON it stands for */
  const char *body = tu_str(row, "response_body");
  assert_non_null(body);
  cJSON *parsed = cJSON_Parse(body);
  assert_non_null(parsed);
  cJSON_Delete(parsed);
  assert_string_equal(tu_header(row, "response_headers", "Content-Encoding"), "gzip");
  printf("checked: a gzip response is stored decoded (%zu bytes of JSON from %zu on the wire)\n",
         strlen(body), b.len);
  cJSON_Delete(row);

  snprintf(url, sizeof url, "%s/redirect/2", e->url);
  b.len = 0;
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  assert_int_equal(reqlog_easy_perform(e->r, c), CURLE_OK);
  row = newest(e, 1);
  assert_int_equal((int)num(row, "status"), 200);
  assert_string_equal(tu_str(row, "path"), "/public/v1/participants");
  assert_non_null(strstr(tu_str(row, "response_body"), "\"data\""));
  printf("checked: a redirect chain is stored as its final request and response\n");
  cJSON_Delete(row);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  free(b.p);
}

static int setup_limited(void **state) {
  /* the server allows 3 per second; the client limiter 3 per 1.2 s */
  setenv("REQLOG_RATE_WINDOW_MS", "1200", 1);
  int rc = setup_rate(state, 3, 1000);
  unsetenv("REQLOG_RATE_WINDOW_MS");
  return rc;
}

static void test_client_rate_limit(void **state) {
  env *e = *state;
  reqlog_set_rate_limit(e->r, 3);
  reqlog_set_retry(e->r, 1, 10, 1000); /* a 429 would show up as such */
  double queued = 0;
  for (int i = 0; i < 7; i++) {
    reqlog_response *resp = NULL;
    assert_int_equal(reqlog_request(e->r, "GET", "/participants", NULL, 0, NULL, &resp), REQLOG_OK);
    queued += resp->queued_ms;
    reqlog_response_free(resp);
  }
  assert_true(queued > 0);
  sqlite3 *db = tu_db(e->db);
  assert_int_equal(reqlog_flush(e->r, NULL), REQLOG_OK);
  assert_int_equal(tu_int(db, "SELECT count(*) FROM calls WHERE status = 200"), 7);
  assert_true(tu_int(db, "SELECT count(*) FROM calls WHERE queued_us > 0") >= 1);
  sqlite3_close(db);
  printf("checked: 7 calls against a 3/s server: no 429, %.0f ms spent queued on the limiter\n", queued);
}

/* Two processes share the limit through the database: 2 x 4 calls against a server
 * that allows 3 per second, with the client limiter at 3 per 1.2 s: no 429 at all. */
static void test_rate_limit_across_processes(void **state) {
  env *e = *state;
  reqlog_close(e->r);
  e->r = NULL;
  pid_t pids[2];
  for (int p = 0; p < 2; p++) {
    pids[p] = fork();
    assert_true(pids[p] >= 0);
    if (pids[p] == 0) {
      setenv("REQLOG_RATE_WINDOW_MS", "1200", 1);
      reqlog *r = NULL;
      if (reqlog_open(e->db, &r, NULL) != REQLOG_OK)
        _exit(10);
      reqlog_set_base_url(r, fakeapi_base_url(e->api));
      reqlog_set_api_key(r, FAKEAPI_KEY);
      reqlog_set_rate_limit(r, 3);
      reqlog_set_retry(r, 1, 10, 1000);
      int bad = 0;
      for (int i = 0; i < 4; i++) {
        reqlog_response *resp = NULL;
        bad += reqlog_request(r, "GET", "/participants", NULL, 0, NULL, &resp) != REQLOG_OK;
        reqlog_response_free(resp);
      }
      _exit(reqlog_close(r) != REQLOG_OK ? 11 : bad ? 12 : 0);
    }
  }
  for (int p = 0; p < 2; p++) {
    int status = 0;
    waitpid(pids[p], &status, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
  }
  sqlite3 *db = tu_db(e->db);
  assert_int_equal(tu_int(db, "SELECT count(*) FROM calls WHERE status = 200"), 8);
  assert_int_equal(tu_int(db, "SELECT count(*) FROM calls WHERE status = 429"), 0);
  int64_t queued = tu_int(db, "SELECT count(*) FROM calls WHERE queued_us > 0");
  assert_true(queued >= 1); /* 8 calls in ~2 windows of 3: someone had to wait */
  sqlite3_close(db);
  printf("checked: 2 processes x 4 calls share one 3-per-window limit: no 429, %lld calls "
         "waited on the limiter\n", (long long)queued);
}

/* ------------------------------------------------------------------ key origin */

/* The Authorization /echo saw, from its JSON answer BODY (malloc'd), or NULL. */
static char *echoed_auth(const char *body) {
  cJSON *doc = cJSON_Parse(body);
  const char *v = tu_header(doc, "headers", "Authorization");
  char *copy = v ? strdup(v) : NULL;
  cJSON_Delete(doc);
  return copy;
}

static void test_key_only_to_base_origin(void **state) {
  env *e = *state;
  fakeapi *other = tu_api(1000, 60000);
  char url[300], fp[48];
  reqlog_key_fingerprint(FAKEAPI_KEY, fp);
  reqlog_response *resp = NULL;

  /* the base URL's own origin, as a path and as an absolute URL: the key goes */
  assert_int_equal(reqlog_request(e->r, "GET", "/echo", NULL, 0, NULL, &resp), REQLOG_OK);
  char *auth = echoed_auth(resp->body);
  assert_non_null(auth);
  assert_string_equal(auth, "Bearer " FAKEAPI_KEY);
  free(auth);
  reqlog_response_free(resp);
  snprintf(url, sizeof url, "%s/echo", e->url);
  assert_int_equal(reqlog_request(e->r, "GET", url, NULL, 0, NULL, &resp), REQLOG_OK);
  assert_int_equal(resp->status, 200);
  reqlog_response_free(resp);
  cJSON *row = newest(e, 0);
  assert_string_equal(tu_str(row, "key"), fp);
  cJSON_Delete(row);
  /* a path whose query holds a URL is still a path of the base URL */
  assert_int_equal(reqlog_request(e->r, "GET", "/echo?next=http://elsewhere.example/", NULL, 0,
                                  NULL, &resp), REQLOG_OK);
  auth = echoed_auth(resp->body);
  assert_non_null(auth);
  free(auth);
  reqlog_response_free(resp);

  /* another port of the same host is another origin: no Authorization at all */
  snprintf(url, sizeof url, "%s/echo", fakeapi_base_url(other));
  assert_int_equal(reqlog_request(e->r, "GET", url, NULL, 0, NULL, &resp), REQLOG_ERR_HTTP);
  assert_int_equal(resp->status, 401);
  assert_string_equal(resp->error_message, "Unauthenticated.");
  reqlog_response_free(resp);
  row = newest(e, 0);
  assert_string_equal(tu_str(row, "url"), url);
  assert_true(tu_is_null(row, "key"));
  assert_null(tu_header(row, "request_headers", "Authorization"));
  cJSON_Delete(row);

  assert_int_equal(fakeapi_hits(other, NULL), 1);

  /* reqlog_key_applies() tells the same in advance */
  char got[48] = "x", *cause = NULL;
  assert_int_equal(reqlog_key_applies(e->r, "/echo", got, NULL), REQLOG_KEY_SENT);
  assert_string_equal(got, fp);
  snprintf(url, sizeof url, "%s/echo", e->url);
  assert_int_equal(reqlog_key_applies(e->r, url, got, NULL), REQLOG_KEY_SENT);
  snprintf(url, sizeof url, "%s/echo", fakeapi_base_url(other));
  assert_int_equal(reqlog_key_applies(e->r, url, got, NULL), REQLOG_KEY_OTHER_ORIGIN);
  assert_string_equal(got, "");
  snprintf(url, sizeof url, "https://127.0.0.1:%d/public/v1/echo", fakeapi_port(e->api));
  assert_int_equal(reqlog_key_applies(e->r, url, NULL, NULL), REQLOG_KEY_OTHER_ORIGIN);
  snprintf(url, sizeof url, "http://127.0.0.1:%d@evil.example/public/v1/echo",
           fakeapi_port(e->api));
  assert_int_equal(reqlog_key_applies(e->r, url, NULL, NULL), REQLOG_KEY_OTHER_ORIGIN);
  assert_int_equal(reqlog_key_applies(e->r, "gopher://127.0.0.1/x", got, &cause),
                   REQLOG_KEY_REFUSED);
  assert_non_null(cause);
  assert_non_null(strstr(cause, "'gopher'"));
  reqlog_free(cause);
  reqlog_set_api_key(e->r, NULL);
  assert_int_equal(reqlog_key_applies(e->r, "/echo", got, NULL), REQLOG_KEY_UNSET);
  fakeapi_stop(other);
  printf("checked: the key goes to the base URL's origin (path or absolute URL, row key "
         "%s) and not to a second server on another port (401, no Authorization sent or "
         "stored, no key on the row)\n", fp);
}

/* ------------------------------------------------------------------ schemes */

/* A one-shot HTTP server on loopback that answers any request with a 302 to LOCATION. */
typedef struct redirector {
  int fd, port;
  char location[200];
  pthread_t th;
} redirector;

static void *redirector_run(void *arg) {
  redirector *d = arg;
  int c = accept(d->fd, NULL, NULL);
  if (c < 0)
    return NULL;
  char req[4096];
  ssize_t n = recv(c, req, sizeof req, 0);
  (void)n;
  char reply[512];
  int len = snprintf(reply, sizeof reply, "HTTP/1.1 302 Found\r\nLocation: %s\r\n"
                     "Content-Length: 0\r\nConnection: close\r\n\r\n", d->location);
  if (send(c, reply, (size_t)len, MSG_NOSIGNAL) < 0) {
    /* the test then sees a transport error and fails on the code */
  }
  close(c);
  return NULL;
}

static void redirector_start(redirector *d, const char *location) {
  memset(d, 0, sizeof *d);
  snprintf(d->location, sizeof d->location, "%s", location);
  d->fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(d->fd >= 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(bind(d->fd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(d->fd, 4), 0);
  socklen_t al = sizeof a;
  assert_int_equal(getsockname(d->fd, (struct sockaddr *)&a, &al), 0);
  d->port = ntohs(a.sin_port);
  assert_int_equal(pthread_create(&d->th, NULL, redirector_run, d), 0);
}

static void redirector_stop(redirector *d) {
  shutdown(d->fd, SHUT_RDWR);
  pthread_join(d->th, NULL);
  close(d->fd);
}

static void test_http_and_https_only(void **state) {
  env *e = *state;
  char url[300];
  reqlog_response *resp = NULL;
  snprintf(url, sizeof url, "gopher://127.0.0.1:%d/_GET%%20/", fakeapi_port(e->api));
  const char *const refused[] = {"file:///etc/passwd", "FILE:///etc/hostname", url,
                                 "ftp://127.0.0.1:1/x", "dict://127.0.0.1:1/x"};
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    reqlog_err err = reqlog_request(e->r, "GET", refused[i], NULL, 0, NULL, &resp);
    if (err != REQLOG_ERR_ARG)
      fprintf(stderr, "%s: %s, status %ld, body %.60s\n", refused[i], reqlog_strerror(err),
              resp ? resp->status : -1, resp && resp->body ? resp->body : "");
    assert_int_equal(err, REQLOG_ERR_ARG);
    assert_null(resp);
  }
  assert_int_equal(reqlog_flush(e->r, NULL), REQLOG_OK);
  int64_t n = -1;
  assert_int_equal(reqlog_count(e->r, NULL, &n, NULL), REQLOG_OK);
  assert_int_equal(n, 0);
  assert_int_equal(fakeapi_hits(e->api, NULL), 0);
  printf("checked: file:, gopher:, ftp: and dict: URLs are refused with REQLOG_ERR_ARG "
         "before anything is sent or recorded\n");

  /* a redirect to another scheme is not followed */
  redirector d;
  redirector_start(&d, "ftp://127.0.0.1:1/x");
  snprintf(url, sizeof url, "http://127.0.0.1:%d/start", d.port);
  reqlog_set_retry(e->r, 1, 10, 1000);
  reqlog_err err = reqlog_request(e->r, "GET", url, NULL, 0, NULL, &resp);
  redirector_stop(&d);
  assert_non_null(resp);
  if (resp->curl_code != CURLE_UNSUPPORTED_PROTOCOL)
    fprintf(stderr, "redirect to ftp: %s (%d): %s\n", reqlog_strerror(err), resp->curl_code,
            resp->error ? resp->error : "");
  assert_int_equal(resp->curl_code, CURLE_UNSUPPORTED_PROTOCOL);
  reqlog_response_free(resp);
  printf("checked: a 302 to ftp: is not followed (CURLE_UNSUPPORTED_PROTOCOL)\n");

  assert_int_equal(reqlog_set_base_url(e->r, "gopher://127.0.0.1:70/x"), REQLOG_ERR_ARG);
  assert_int_equal(reqlog_set_base_url(e->r, "not a url"), REQLOG_ERR_ARG);
  assert_int_equal(reqlog_request(e->r, "GET", "/participants/1", NULL, 0, NULL, &resp),
                   REQLOG_OK);
  reqlog_response_free(resp);
  printf("checked: reqlog_set_base_url refuses gopher: and a non-URL and keeps the one "
         "in force\n");
}

/* ------------------------------------------------------------------ key of a failure */

static void test_key_recorded_without_headers(void **state) {
  env *e = *state;
  char fp[48];
  reqlog_key_fingerprint(FAKEAPI_KEY, fp);
  reqlog_set_retry(e->r, 1, 10, 1000);
  assert_int_equal(reqlog_set_base_url(e->r, "http://127.0.0.1:1/public/v1"), REQLOG_OK);
  reqlog_response *resp = NULL;
  assert_int_equal(reqlog_request(e->r, "GET", "/participants", NULL, 0, NULL, &resp),
                   REQLOG_ERR_TRANSPORT);
  reqlog_response_free(resp);
  cJSON *row = newest(e, 0);
  assert_true(tu_is_null(row, "status"));
  if (!tu_str(row, "key"))
    fprintf(stderr, "BUG: a refused call made with a key records no key\n");
  assert_non_null(tu_str(row, "key"));
  assert_string_equal(tu_str(row, "key"), fp);
  cJSON_Delete(row);
  /* without a key, none is recorded */
  reqlog_set_api_key(e->r, NULL);
  assert_int_equal(reqlog_request(e->r, "GET", "/participants", NULL, 0, NULL, &resp),
                   REQLOG_ERR_TRANSPORT);
  reqlog_response_free(resp);
  row = newest(e, 0);
  assert_true(tu_is_null(row, "key"));
  cJSON_Delete(row);
  printf("checked: a call to a port where nothing listens records the key it was sent "
         "with (%s); without a key, none\n", fp);
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_drop_in_get_all_fields, setup, teardown),
    cmocka_unit_test_setup_teardown(test_debug_callback_passthrough, setup, teardown),
    cmocka_unit_test_setup_teardown(test_422_fields, setup, teardown),
    cmocka_unit_test_setup_teardown(test_retry_chain_get, setup, teardown),
    cmocka_unit_test_setup_teardown(test_post_not_retried, setup, teardown),
    cmocka_unit_test_setup_teardown(test_429_retry_after, setup, teardown),
    cmocka_unit_test_setup_teardown(test_dropped_connection, setup, teardown),
    cmocka_unit_test_setup_teardown(test_large_body_capped, setup, teardown),
    cmocka_unit_test_setup_teardown(test_binary_body, setup, teardown),
    cmocka_unit_test_setup_teardown(test_gzip_and_redirect, setup, teardown),
    cmocka_unit_test_setup_teardown(test_client_rate_limit, setup_limited, teardown),
    cmocka_unit_test_setup_teardown(test_rate_limit_across_processes, setup_limited, teardown),
    cmocka_unit_test_setup_teardown(test_key_only_to_base_origin, setup, teardown),
    cmocka_unit_test_setup_teardown(test_http_and_https_only, setup, teardown),
    cmocka_unit_test_setup_teardown(test_key_recorded_without_headers, setup, teardown),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  curl_global_cleanup();
  return rc;
}
