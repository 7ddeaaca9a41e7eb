/* test_fakeapi.c: the tests' fake API server (demo/, include/reqlog_demo.h) against libcurl,
 * on 127.0.0.1 with a port the system picks.
 *
 * Plan:
 *   - health needs no key; unknown paths are 404 JSON, wrong methods 405, HEAD works
 *   - 401 for a missing, non-Bearer, empty, unknown or revoked key; 403 for the
 *     read-only key on writes; every JSON answer says application/json
 *   - rate limit per key in a fixed window (own server: 3 per 2 s): headers, 429 with
 *     Retry-After, invalid keys not counted, other keys unaffected, window reset; the
 *     default is 60 per minute; /bench is never limited
 *   - /participants: list, show, 404, create (400/422/201 with ids 101, 102), PUT,
 *     PATCH, DELETE
 *   - /slow (and that it stalls no other call, and that a stop cuts it short), /large,
 *     /binary, /gzip, /redirect, /drop, /flaky, /status with Retry-After, /echo,
 *     /session, /oauth/token, /bench
 *   - request bodies over 8 MiB get 413 (announced, unannounced, chunked)
 *   - fakeapi_hits(), custom keys, start errors
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <pthread.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>
#include "reqlog_demo.h"

#define MIB (1024L * 1024)

static fakeapi *srv; /* shared by most tests; its rate limit is out of the way */

static void checked(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Says what a test just verified, so the log reads as a list of behaviours. */
static void checked(const char *fmt, ...)
{
  va_list ap;

  fputs("    checked: ", stdout);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  fputc('\n', stdout);
  fflush(stdout);
}

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ an HTTP client */

struct req {
  const char *method;          /* NULL: GET, or POST when there is a body */
  const char *path;            /* after the base URL, e.g. "/participants" */
  const char *key;             /* sent as "Authorization: Bearer KEY"; NULL: none */
  const char *auth;            /* a raw Authorization value instead of KEY */
  const char *header;          /* one extra "Name: value" line */
  const char *header2;
  const char *body;            /* NULL: no body */
  size_t body_len;             /* 0: strlen(body) */
  size_t chunked;              /* > 0: upload this many bytes chunked instead */
  bool follow;                 /* follow redirects */
  bool decode;                 /* ask for and decode compressed bodies */
  const char *url;             /* a full URL instead of base URL + path */
};

#define MAX_HEADERS 32
struct resp {
  CURLcode rc;
  long status;
  long redirects;
  char *body;
  size_t len;
  struct {
    char name[64];
    char value[512];
  } h[MAX_HEADERS]; /* the final response's headers */
  int nh;
  size_t upload_left;
};

static size_t on_body(char *p, size_t size, size_t n, void *cls)
{
  struct resp *r = cls;
  char *grown = realloc(r->body, r->len + size * n + 1);

  if (grown == NULL)
    return 0;
  r->body = grown;
  memcpy(r->body + r->len, p, size * n);
  r->len += size * n;
  r->body[r->len] = '\0';
  return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *cls)
{
  struct resp *r = cls;
  size_t len = size * n, name_len;
  const char *colon = memchr(p, ':', len), *v;

  if (len >= 5 && memcmp(p, "HTTP/", 5) == 0)
    r->nh = 0; /* a new response (after a redirect or a 100): keep only the last */
  if (colon == NULL || r->nh == MAX_HEADERS)
    return len;
  name_len = (size_t)(colon - p);
  if (name_len >= sizeof r->h[0].name)
    return len;
  memcpy(r->h[r->nh].name, p, name_len);
  r->h[r->nh].name[name_len] = '\0';
  v = colon + 1;
  while (v < p + len && *v == ' ')
    v++;
  len -= (size_t)(v - p);
  while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n'))
    len--;
  if (len >= sizeof r->h[0].value)
    len = sizeof r->h[0].value - 1;
  memcpy(r->h[r->nh].value, v, len);
  r->h[r->nh].value[len] = '\0';
  r->nh++;
  return size * n;
}

/* Feeds a chunked upload of 'a's. */
static size_t on_upload(char *p, size_t size, size_t n, void *cls)
{
  struct resp *r = cls;
  size_t len = size * n < r->upload_left ? size * n : r->upload_left;

  memset(p, 'a', len);
  r->upload_left -= len;
  return len;
}

static const char *header(const struct resp *r, const char *name)
{
  int i;

  for (i = 0; i < r->nh; i++)
    if (strcasecmp(r->h[i].name, name) == 0)
      return r->h[i].value;
  return NULL;
}

static void resp_free(struct resp *r)
{
  free(r->body);
  memset(r, 0, sizeof *r);
}

static void http_on(fakeapi *api, const struct req *q, struct resp *r)
{
  CURL *curl = curl_easy_init();
  struct curl_slist *hs = NULL;
  char url[512], auth[256];

  memset(r, 0, sizeof *r);
  assert_non_null(curl);
  if (q->url != NULL)
    snprintf(url, sizeof url, "%s", q->url);
  else
    snprintf(url, sizeof url, "%s%s", fakeapi_base_url(api), q->path);
  if (q->key != NULL || q->auth != NULL) {
    if (q->auth != NULL)
      snprintf(auth, sizeof auth, "Authorization: %s", q->auth);
    else
      snprintf(auth, sizeof auth, "Authorization: Bearer %s", q->key);
    hs = curl_slist_append(hs, auth);
  }
  if (q->header != NULL)
    hs = curl_slist_append(hs, q->header);
  if (q->header2 != NULL)
    hs = curl_slist_append(hs, q->header2);
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hs);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, q->follow ? 1L : 0L);
  if (q->decode)
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
  if (q->body != NULL) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, q->body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)(q->body_len ? q->body_len : strlen(q->body)));
  }
  if (q->chunked > 0) {
    r->upload_left = q->chunked;
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_upload);
    curl_easy_setopt(curl, CURLOPT_READDATA, r);
  }
  if (q->method != NULL && strcmp(q->method, "HEAD") == 0)
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  else if (q->method != NULL)
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, q->method);
  r->rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
  curl_easy_getinfo(curl, CURLINFO_REDIRECT_COUNT, &r->redirects);
  curl_easy_cleanup(curl);
  curl_slist_free_all(hs);
}

static void http(const struct req *q, struct resp *r)
{
  http_on(srv, q, r);
}

/* ------------------------------------------------------------ assertions */

/* The body as JSON, after checking it was sent as JSON. Free with cJSON_Delete(). */
static cJSON *json_of(const struct resp *r)
{
  cJSON *j;

  assert_int_equal(r->rc, CURLE_OK);
  assert_non_null(header(r, "Content-Type"));
  assert_string_equal(header(r, "Content-Type"), "application/json");
  assert_non_null(r->body);
  j = cJSON_ParseWithLength(r->body, r->len);
  assert_non_null(j);
  return j;
}

static const char *jstr(const cJSON *o, const char *name)
{
  const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));

  assert_non_null(s);
  return s;
}

static double jnum(const cJSON *o, const char *name)
{
  const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, name);

  assert_true(cJSON_IsNumber(n));
  return cJSON_GetNumberValue(n);
}

/* STATUS with exactly {"message": MSG}. */
static void assert_message(const struct resp *r, long status, const char *msg)
{
  cJSON *j = json_of(r);

  assert_int_equal(r->status, status);
  assert_int_equal(cJSON_GetArraySize(j), 1);
  assert_string_equal(jstr(j, "message"), msg);
  cJSON_Delete(j);
}

/* STATUS with {"message": MSG}, then a request of the same kind. */
static void expect_message(const struct req *q, long status, const char *msg)
{
  struct resp r;

  http(q, &r);
  assert_message(&r, status, msg);
  resp_free(&r);
}

/* The messages of errors[FIELD] in a 422, joined with '|'. */
static void assert_field_errors(const cJSON *j, const char *field, const char *messages)
{
  const cJSON *list =
    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "errors"), field);
  const cJSON *m;
  char joined[512] = "";

  assert_true(cJSON_IsArray(list));
  cJSON_ArrayForEach(m, list)
  {
    if (joined[0] != '\0')
      strcat(joined, "|");
    strncat(joined, cJSON_GetStringValue(m), sizeof joined - strlen(joined) - 2);
  }
  assert_string_equal(joined, messages);
}

static void assert_participant(const cJSON *p, long id, const char *first,
                               const char *last, const char *email)
{
  assert_int_equal((long)jnum(p, "id"), id);
  assert_string_equal(jstr(p, "first_name"), first);
  if (last != NULL)
    assert_string_equal(jstr(p, "last_name"), last);
  assert_string_equal(jstr(p, "email"), email);
  assert_non_null(cJSON_GetObjectItemCaseSensitive(p, "date_of_birth"));
}

/* ------------------------------------------------------------ routing and auth */

static void test_health(void **state)
{
  struct resp r;
  cJSON *j;

  http(&(struct req){.path = "/health"}, &r);
  j = json_of(&r);
  assert_int_equal(r.status, 200);
  assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok")));
  assert_null(header(&r, "X-RateLimit-Limit"));
  checked("GET /health without a key -> 200 {\"ok\":true}, application/json, no rate headers");
  cJSON_Delete(j);
  resp_free(&r);
}

static void test_routing(void **state)
{
  struct resp r;
  char url[256];

  snprintf(url, sizeof url, "http://127.0.0.1:%d/elsewhere", fakeapi_port(srv));
  expect_message(&(struct req){.url = url, .key = FAKEAPI_KEY}, 404,
                 "The route elsewhere could not be found.");
  checked("a path outside /public/v1 -> 404 JSON");
  expect_message(&(struct req){.path = "/nope"}, 404,
                 "The route public/v1/nope could not be found.");
  checked("an unknown route under /public/v1 -> 404 JSON, even without a key");
  expect_message(&(struct req){.method = "DELETE", .path = "/participants",
                               .key = FAKEAPI_KEY},
                 405, "The DELETE method is not supported for this route.");
  checked("DELETE /participants -> 405 JSON");
  http(&(struct req){.method = "HEAD", .path = "/participants", .key = FAKEAPI_KEY}, &r);
  assert_int_equal(r.rc, CURLE_OK);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.len, 0);
  checked("HEAD /participants -> 200 without a body");
  resp_free(&r);
}

static void test_auth(void **state)
{
  struct resp r;
  cJSON *j;

  expect_message(&(struct req){.path = "/participants"}, 401, "Unauthenticated.");
  checked("no Authorization -> 401 Unauthenticated.");
  expect_message(&(struct req){.path = "/participants", .auth = "Basic dXNlcjpwYXNz"},
                 401, "Unauthenticated.");
  checked("Authorization: Basic ... -> 401 Unauthenticated.");
  expect_message(&(struct req){.path = "/participants", .auth = "Bearer"}, 401,
                 "Unauthenticated.");
  expect_message(&(struct req){.path = "/participants", .auth = "Bearer    "}, 401,
                 "Unauthenticated.");
  checked("Authorization: Bearer with an empty token -> 401 Unauthenticated.");
  expect_message(&(struct req){.path = "/participants", .key = "sk_test_unknown"}, 401,
                 "Unauthenticated.");
  checked("an unknown key -> 401 Unauthenticated.");
  expect_message(&(struct req){.path = "/participants", .key = FAKEAPI_KEY_REVOKED}, 401,
                 "This API key has been revoked.");
  checked("the revoked key -> 401 This API key has been revoked.");
  expect_message(&(struct req){.path = "/oauth/token", .method = "POST"}, 401,
                 "Unauthenticated.");
  checked("POST /oauth/token needs a key too");

  http(&(struct req){.path = "/participants/1", .auth = "bearer " FAKEAPI_KEY2}, &r);
  j = json_of(&r);
  assert_int_equal(r.status, 200);
  checked("the second key works, and the Bearer scheme is case-insensitive");
  cJSON_Delete(j);
  resp_free(&r);
}

static void test_readonly(void **state)
{
  static const char *const writes[] = {"POST", "PUT", "PATCH", "DELETE"};
  static const char *const paths[] = {"/participants", "/participants/1",
                                      "/participants/1", "/participants/1"};
  struct resp r;
  cJSON *j;
  size_t i;

  http(&(struct req){.path = "/participants", .key = FAKEAPI_KEY_RO}, &r);
  j = json_of(&r);
  assert_int_equal(r.status, 200);
  cJSON_Delete(j);
  resp_free(&r);
  checked("the read-only key may GET /participants");
  for (i = 0; i < 4; i++) {
    expect_message(&(struct req){.method = writes[i], .path = paths[i],
                                 .key = FAKEAPI_KEY_RO,
                                 .body = "{\"first_name\":\"A\",\"email\":\"a@b.c\"}"},
                   403, "This action is unauthorized.");
    checked("the read-only key: %s %s -> 403 This action is unauthorized.", writes[i],
            paths[i]);
  }
  expect_message(&(struct req){.path = "/echo", .key = FAKEAPI_KEY_RO, .body = "x"}, 403,
                 "This action is unauthorized.");
  checked("the read-only key: POST /echo -> 403");
}

/* ------------------------------------------------------------ rate limit */

static void test_rate_limit(void **state)
{
  fakeapi_opts opts = {.rate = 3, .window_ms = 2000};
  fakeapi *api = NULL;
  struct resp r;
  char *cause = NULL;
  char expect[8];
  long after;
  int i;

  assert_int_equal(fakeapi_start(&opts, &api, &cause), 0);
  for (i = 0; i < 5; i++) {
    http_on(api, &(struct req){.path = "/participants", .key = "sk_wrong"}, &r);
    assert_int_equal(r.status, 401);
    resp_free(&r);
  }
  for (i = 0; i < 3; i++) {
    http_on(api, &(struct req){.path = "/participants", .key = FAKEAPI_KEY}, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "X-RateLimit-Limit"), "3");
    snprintf(expect, sizeof expect, "%d", 2 - i);
    assert_string_equal(header(&r, "X-RateLimit-Remaining"), expect);
    resp_free(&r);
  }
  checked("5 calls with a wrong key are not counted; then 3 calls -> 200 with "
          "X-RateLimit-Limit 3 and Remaining 2, 1, 0");

  http_on(api, &(struct req){.path = "/participants/1", .key = FAKEAPI_KEY}, &r);
  assert_message(&r, 429, "Too Many Attempts.");
  after = strtol(header(&r, "Retry-After"), NULL, 10);
  assert_in_range(after, 1, 2);
  assert_string_equal(header(&r, "X-RateLimit-Limit"), "3");
  assert_string_equal(header(&r, "X-RateLimit-Remaining"), "0");
  checked("the 4th call in the window -> 429 Too Many Attempts., Retry-After %ld, "
          "X-RateLimit-Remaining 0", after);
  resp_free(&r);

  http_on(api, &(struct req){.path = "/participants", .key = FAKEAPI_KEY2}, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(header(&r, "X-RateLimit-Remaining"), "2");
  resp_free(&r);
  checked("another key has its own window");

  for (i = 0; i < 10; i++) {
    http_on(api, &(struct req){.path = "/bench", .key = FAKEAPI_KEY}, &r);
    assert_int_equal(r.status, 200);
    assert_null(header(&r, "X-RateLimit-Limit"));
    resp_free(&r);
  }
  checked("/bench is not limited: 10 calls on an exhausted key -> 200, no rate headers");

  struct timespec wait = {2, 100 * 1000000L};
  nanosleep(&wait, NULL);
  http_on(api, &(struct req){.path = "/participants", .key = FAKEAPI_KEY}, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(header(&r, "X-RateLimit-Remaining"), "2");
  resp_free(&r);
  checked("after the window -> 200 again, Remaining 2");
  fakeapi_stop(api);
}

static void test_default_limit(void **state)
{
  fakeapi *api = NULL;
  struct resp r;
  long after;
  int i;

  assert_int_equal(fakeapi_start(NULL, &api, NULL), 0);
  for (i = 1; i <= 60; i++) {
    http_on(api, &(struct req){.path = "/participants/2", .key = FAKEAPI_KEY}, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "X-RateLimit-Limit"), "60");
    resp_free(&r);
  }
  http_on(api, &(struct req){.path = "/participants/2", .key = FAKEAPI_KEY}, &r);
  assert_message(&r, 429, "Too Many Attempts.");
  after = strtol(header(&r, "Retry-After"), NULL, 10);
  assert_in_range(after, 50, 60);
  resp_free(&r);
  checked("default options: 60 calls -> 200 (X-RateLimit-Limit 60), the 61st -> 429 "
          "with Retry-After %ld s", after);
  fakeapi_stop(api);
}

/* ------------------------------------------------------------ participants */

static void test_participants_read(void **state)
{
  static const char *const missing[] = {"/participants/0", "/participants/6",
                                        "/participants/abc", "/participants/99999999999"};
  struct resp r;
  cJSON *j, *p;
  char path[64];
  int i;

  http(&(struct req){.path = "/participants", .key = FAKEAPI_KEY}, &r);
  j = json_of(&r);
  assert_int_equal(r.status, 200);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "data")), 5);
  i = 1;
  cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(j, "data"))
  {
    assert_int_equal((long)jnum(p, "id"), i++);
    jstr(p, "first_name");
    jstr(p, "last_name");
    assert_non_null(strchr(jstr(p, "email"), '@'));
    assert_int_equal(strlen(jstr(p, "date_of_birth")), 10);
  }
  p = cJSON_GetObjectItemCaseSensitive(j, "meta");
  assert_int_equal((long)jnum(p, "current_page"), 1);
  assert_int_equal((long)jnum(p, "total"), 5);
  checked("GET /participants -> 200, 5 participants with id, first_name, last_name, "
          "email, date_of_birth; meta current_page 1, total 5");
  cJSON_Delete(j);
  resp_free(&r);

  for (i = 1; i <= 5; i++) {
    snprintf(path, sizeof path, "/participants/%d", i);
    http(&(struct req){.path = path, .key = FAKEAPI_KEY}, &r);
    j = json_of(&r);
    assert_int_equal(r.status, 200);
    assert_int_equal((long)jnum(j, "id"), i);
    cJSON_Delete(j);
    resp_free(&r);
  }
  checked("GET /participants/1..5 -> 200 with that id");
  for (i = 0; i < 4; i++)
    expect_message(&(struct req){.path = missing[i], .key = FAKEAPI_KEY}, 404,
                   "Participant not found.");
  checked("GET /participants/0, /6, /abc, /99999999999 -> 404 Participant not found.");
}

static void test_participants_create(void **state)
{
  struct resp r;
  cJSON *j;

  expect_message(&(struct req){.path = "/participants", .key = FAKEAPI_KEY,
                               .body = "{\"first_name\": \"A\""},
                 400, "Malformed JSON.");
  expect_message(&(struct req){.path = "/participants", .key = FAKEAPI_KEY,
                               .body = "{} trailing"},
                 400, "Malformed JSON.");
  checked("POST /participants with broken JSON or trailing bytes -> 400 Malformed JSON.");

  http(&(struct req){.path = "/participants", .key = FAKEAPI_KEY, .body = "{}"}, &r);
  j = json_of(&r);
  assert_int_equal(r.status, 422);
  assert_string_equal(jstr(j, "message"), "The given data was invalid.");
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "errors")), 2);
  assert_field_errors(j, "first_name", "The first name field is required.");
  assert_field_errors(j, "email", "The email field is required.");
  checked("POST {} -> 422 with errors first_name and email \"field is required\"");
  cJSON_Delete(j);
  resp_free(&r);

  http(&(struct req){.path = "/participants", .key = FAKEAPI_KEY, .body = ""}, &r);
  assert_int_equal(r.status, 422);
  resp_free(&r);
  checked("POST with an empty body -> 422");

  http(&(struct req){.path = "/participants", .key = FAKEAPI_KEY,
                     .body = "{\"first_name\":\"Ann\",\"email\":\"ann.example.com\"}"},
       &r);
  j = json_of(&r);
  assert_int_equal(r.status, 422);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "errors")), 1);
  assert_field_errors(j, "email", "The email must be a valid email address.");
  checked("POST with an email without '@' -> 422 The email must be a valid email address.");
  cJSON_Delete(j);
  resp_free(&r);

  http(&(struct req){.path = "/participants", .key = FAKEAPI_KEY,
                     .body = "{\"first_name\":\"Ann\",\"last_name\":\"Lee\","
                             "\"email\":\"ann@example.com\"}"},
       &r);
  j = json_of(&r);
  assert_int_equal(r.status, 201);
  assert_participant(j, 101, "Ann", "Lee", "ann@example.com");
  assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "date_of_birth")));
  cJSON_Delete(j);
  resp_free(&r);
  http(&(struct req){.path = "/participants", .key = FAKEAPI_KEY2,
                     .body = "{\"first_name\":\"Bo\",\"email\":\"bo@example.com\"}"},
       &r);
  j = json_of(&r);
  assert_int_equal(r.status, 201);
  assert_int_equal((long)jnum(j, "id"), 102);
  checked("valid POSTs -> 201 with the object and ids 101, 102");
  cJSON_Delete(j);
  resp_free(&r);
}

static void test_participants_update(void **state)
{
  struct resp r;
  cJSON *j;

  http(&(struct req){.method = "PATCH", .path = "/participants/2", .key = FAKEAPI_KEY,
                     .body = "{\"last_name\":\"Brown\"}"},
       &r);
  j = json_of(&r);
  assert_int_equal(r.status, 200);
  assert_participant(j, 2, "Jack", "Brown", "jack.williams@example.com");
  checked("PATCH /participants/2 {last_name} -> 200, merged with the stored fields");
  cJSON_Delete(j);
  resp_free(&r);

  http(&(struct req){.method = "PATCH", .path = "/participants/2", .key = FAKEAPI_KEY,
                     .body = "{\"email\":\"nope\"}"},
       &r);
  j = json_of(&r);
  assert_int_equal(r.status, 422);
  assert_field_errors(j, "email", "The email must be a valid email address.");
  cJSON_Delete(j);
  resp_free(&r);
  checked("PATCH with a bad email -> 422");

  http(&(struct req){.method = "PUT", .path = "/participants/2", .key = FAKEAPI_KEY,
                     .body = "{\"first_name\":\"J\"}"},
       &r);
  j = json_of(&r);
  assert_int_equal(r.status, 422);
  assert_field_errors(j, "email", "The email field is required.");
  cJSON_Delete(j);
  resp_free(&r);
  checked("PUT without email -> 422 The email field is required.");

  http(&(struct req){.method = "PUT", .path = "/participants/2", .key = FAKEAPI_KEY,
                     .body = "{\"first_name\":\"Jackie\",\"email\":\"j@example.com\"}"},
       &r);
  j = json_of(&r);
  assert_int_equal(r.status, 200);
  assert_participant(j, 2, "Jackie", "Williams", "j@example.com");
  cJSON_Delete(j);
  resp_free(&r);
  checked("PUT /participants/2 with valid fields -> 200 merged object");

  expect_message(&(struct req){.method = "PUT", .path = "/participants/2",
                               .key = FAKEAPI_KEY, .body = "nope"},
                 400, "Malformed JSON.");
  expect_message(&(struct req){.method = "PATCH", .path = "/participants/9",
                               .key = FAKEAPI_KEY, .body = "{}"},
                 404, "Participant not found.");
  checked("PUT with broken JSON -> 400; PATCH /participants/9 -> 404");

  http(&(struct req){.method = "DELETE", .path = "/participants/3", .key = FAKEAPI_KEY},
       &r);
  assert_int_equal(r.rc, CURLE_OK);
  assert_int_equal(r.status, 204);
  assert_int_equal(r.len, 0);
  resp_free(&r);
  expect_message(&(struct req){.method = "DELETE", .path = "/participants/9",
                               .key = FAKEAPI_KEY},
                 404, "Participant not found.");
  checked("DELETE /participants/3 -> 204 without a body; DELETE /participants/9 -> 404");

  http(&(struct req){.path = "/participants/3", .key = FAKEAPI_KEY}, &r);
  assert_int_equal(r.status, 200);
  resp_free(&r);
  checked("writes are not stored: /participants/3 is still there");
}

/* ------------------------------------------------------------ slow */

/* Waits until API has seen more than N requests under PREFIX (one is in a handler). */
static void wait_for_hits(fakeapi *api, const char *prefix, long n)
{
  struct timespec tick = {0, 5 * 1000000L};

  while (fakeapi_hits(api, prefix) <= n)
    nanosleep(&tick, NULL);
}

static void *slow_call(void *arg)
{
  struct resp *r = arg;

  http(&(struct req){.path = "/slow?ms=1500", .key = FAKEAPI_KEY}, r);
  return NULL;
}

static void test_slow(void **state)
{
  struct resp r, slow_r;
  pthread_t t;
  double t0, took;
  long slow_seen;
  cJSON *j;

  t0 = now_s();
  http(&(struct req){.path = "/slow?ms=300", .key = FAKEAPI_KEY}, &r);
  took = now_s() - t0;
  j = json_of(&r);
  assert_int_equal(r.status, 200);
  assert_int_equal((long)jnum(j, "slept_ms"), 300);
  assert_true(took >= 0.3);
  checked("GET /slow?ms=300 -> 200 {\"slept_ms\":300} after %.2f s", took);
  cJSON_Delete(j);
  resp_free(&r);

  http(&(struct req){.path = "/slow?ms=soon", .key = FAKEAPI_KEY}, &r);
  assert_int_equal(r.status, 422);
  resp_free(&r);
  checked("GET /slow?ms=soon -> 422");

  slow_seen = fakeapi_hits(srv, "/public/v1/slow");
  assert_int_equal(pthread_create(&t, NULL, slow_call, &slow_r), 0);
  wait_for_hits(srv, "/public/v1/slow", slow_seen);
  t0 = now_s();
  http(&(struct req){.path = "/participants", .key = FAKEAPI_KEY}, &r);
  took = now_s() - t0;
  assert_int_equal(r.status, 200);
  assert_true(took < 1.0);
  resp_free(&r);
  pthread_join(t, NULL);
  assert_int_equal(slow_r.status, 200);
  resp_free(&slow_r);
  checked("while /slow?ms=1500 runs, another call answers in %.3f s", took);
}

struct stopper {
  fakeapi *api;
  struct resp r;
};

static void *slow_call_on(void *arg)
{
  struct stopper *s = arg;

  http_on(s->api, &(struct req){.path = "/slow?ms=30000", .key = FAKEAPI_KEY}, &s->r);
  return NULL;
}

static void test_stop_cuts_slow_short(void **state)
{
  struct stopper s = {0};
  pthread_t t;
  double t0, took;

  assert_int_equal(fakeapi_start(NULL, &s.api, NULL), 0);
  assert_int_equal(pthread_create(&t, NULL, slow_call_on, &s), 0);
  wait_for_hits(s.api, "/public/v1/slow", 0);
  t0 = now_s();
  fakeapi_stop(s.api);
  took = now_s() - t0;
  pthread_join(t, NULL);
  assert_true(took < 5.0);
  assert_true(s.r.rc != CURLE_OK || s.r.status == 503);
  checked("fakeapi_stop() during /slow?ms=30000 returns in %.2f s (client got %s)", took,
          s.r.rc == CURLE_OK ? "503" : curl_easy_strerror(s.r.rc));
  resp_free(&s.r);
}

/* ------------------------------------------------------------ bodies */

static void test_large(void **state)
{
  struct resp r;
  cJSON *j;

  http(&(struct req){.path = "/large", .key = FAKEAPI_KEY}, &r);
  j = json_of(&r);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.len, 2097152);
  assert_int_equal(strlen(jstr(j, "data")), 2097152 - 11);
  checked("GET /large -> 200, exactly 2097152 bytes of valid JSON");
  cJSON_Delete(j);
  resp_free(&r);

  http(&(struct req){.path = "/large?bytes=1000", .key = FAKEAPI_KEY}, &r);
  j = json_of(&r);
  assert_int_equal(r.len, 1000);
  cJSON_Delete(j);
  resp_free(&r);
  http(&(struct req){.path = "/large?bytes=11", .key = FAKEAPI_KEY}, &r);
  assert_int_equal(r.len, 11);
  assert_string_equal(r.body, "{\"data\":\"\"}");
  resp_free(&r);
  http(&(struct req){.path = "/large?bytes=5", .key = FAKEAPI_KEY}, &r);
  assert_int_equal(r.status, 422);
  resp_free(&r);
  checked("GET /large?bytes=1000 -> 1000 bytes; bytes=11 -> {\"data\":\"\"}; bytes=5 -> 422");
}

static void test_binary(void **state)
{
  struct resp r;
  size_t i;

  http(&(struct req){.path = "/binary", .key = FAKEAPI_KEY}, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(header(&r, "Content-Type"), "application/octet-stream");
  assert_int_equal(r.len, 4096);
  for (i = 0; i < r.len; i++)
    assert_int_equal((unsigned char)r.body[i], i % 256);
  checked("GET /binary -> 200 application/octet-stream, 4096 bytes of i%%256 "
          "(NULs, invalid UTF-8)");
  resp_free(&r);

  http(&(struct req){.path = "/binary?bytes=300", .key = FAKEAPI_KEY}, &r);
  assert_int_equal(r.len, 300);
  assert_int_equal((unsigned char)r.body[299], 299 % 256);
  resp_free(&r);
  http(&(struct req){.path = "/binary?bytes=0", .key = FAKEAPI_KEY}, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.len, 0);
  resp_free(&r);
  checked("GET /binary?bytes=300 -> 300 bytes; bytes=0 -> empty body");
}

static void test_gzip(void **state)
{
  struct resp r;
  cJSON *j;
  size_t raw_len;

  http(&(struct req){.path = "/gzip", .key = FAKEAPI_KEY,
                     .header = "Accept-Encoding: identity"},
       &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(header(&r, "Content-Encoding"), "gzip");
  assert_string_equal(header(&r, "Content-Type"), "application/json");
  assert_true(r.len > 18);
  assert_int_equal((unsigned char)r.body[0], 0x1f);
  assert_int_equal((unsigned char)r.body[1], 0x8b);
  raw_len = r.len;
  resp_free(&r);
  checked("GET /gzip with Accept-Encoding: identity -> gzip anyway (1f 8b, %zu bytes)",
          raw_len);

  http(&(struct req){.path = "/gzip", .key = FAKEAPI_KEY, .decode = true}, &r);
  j = json_of(&r);
  assert_in_range(r.len, 1500, 3000);
  assert_true(r.len > raw_len);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "data")), 5);
  checked("decoded, /gzip is %zu bytes of JSON", r.len);
  cJSON_Delete(j);
  resp_free(&r);
}

/* ------------------------------------------------------------ redirects, drops, errors */

static void test_redirects(void **state)
{
  struct resp r;
  cJSON *j;

  http(&(struct req){.path = "/redirect", .key = FAKEAPI_KEY}, &r);
  assert_int_equal(r.status, 302);
  assert_string_equal(header(&r, "Location"), "/public/v1/participants");
  resp_free(&r);
  http(&(struct req){.path = "/redirect?to=/echo%3Fa%3D1", .key = FAKEAPI_KEY}, &r);
  assert_string_equal(header(&r, "Location"), "/public/v1/echo?a=1");
  resp_free(&r);
  checked("GET /redirect -> 302 Location /public/v1/participants; to=/echo?a=1 -> "
          "/public/v1/echo?a=1");

  http(&(struct req){.path = "/redirect?to=participants/3", .key = FAKEAPI_KEY,
                     .follow = true},
       &r);
  j = json_of(&r);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.redirects, 1);
  assert_int_equal((long)jnum(j, "id"), 3);
  cJSON_Delete(j);
  resp_free(&r);
  checked("following /redirect?to=participants/3 -> participant 3 after 1 redirect");

  http(&(struct req){.path = "/redirect/3", .key = FAKEAPI_KEY}, &r);
  assert_int_equal(r.status, 302);
  assert_string_equal(header(&r, "Location"), "/public/v1/redirect/2");
  resp_free(&r);
  http(&(struct req){.path = "/redirect/3", .key = FAKEAPI_KEY, .follow = true}, &r);
  j = json_of(&r);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.redirects, 3);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "data")), 5);
  cJSON_Delete(j);
  resp_free(&r);
  checked("/redirect/3 -> /redirect/2 -> /redirect/1 -> /participants (3 redirects)");

  http(&(struct req){.path = "/redirect?to=x%0d%0aX-Evil:%201", .key = FAKEAPI_KEY}, &r);
  assert_int_equal(r.status, 422);
  assert_null(header(&r, "X-Evil"));
  resp_free(&r);
  checked("a CR/LF in to= -> 422, no injected header");
}

static void test_drop(void **state)
{
  struct resp r;
  long before = fakeapi_hits(srv, "/public/v1/drop");

  http(&(struct req){.path = "/drop", .key = FAKEAPI_KEY}, &r);
  assert_int_equal(r.rc, CURLE_GOT_NOTHING);
  resp_free(&r);
  http(&(struct req){.method = "POST", .path = "/drop", .key = FAKEAPI_KEY, .body = "{}"},
       &r);
  assert_true(r.rc == CURLE_GOT_NOTHING || r.rc == CURLE_SEND_ERROR ||
              r.rc == CURLE_RECV_ERROR);
  resp_free(&r);
  assert_int_equal(fakeapi_hits(srv, "/public/v1/drop"), before + 2);
  checked("GET and POST /drop -> connection closed without a response (%s), both counted",
          curl_easy_strerror(CURLE_GOT_NOTHING));
  expect_message(&(struct req){.path = "/drop"}, 401, "Unauthenticated.");
  checked("/drop without a key -> 401 (the key is checked first)");
}

static void test_flaky(void **state)
{
  struct resp r;
  cJSON *j;
  int i;

  for (i = 0; i < 2; i++)
    expect_message(&(struct req){.path = "/flaky?fail=2&id=t1", .key = FAKEAPI_KEY}, 503,
                   "Service Unavailable.");
  http(&(struct req){.path = "/flaky?fail=2&id=t1", .key = FAKEAPI_KEY}, &r);
  j = json_of(&r);
  assert_int_equal(r.status, 200);
  assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok")));
  assert_int_equal((long)jnum(j, "attempts"), 3);
  cJSON_Delete(j);
  resp_free(&r);
  checked("GET /flaky?fail=2&id=t1 -> 503, 503, then 200 {\"ok\":true,\"attempts\":3}");

  expect_message(&(struct req){.path = "/flaky?fail=1&id=t2", .key = FAKEAPI_KEY,
                               .body = "{}"},
                 503, "Service Unavailable.");
  http(&(struct req){.path = "/flaky?fail=1&id=t2", .key = FAKEAPI_KEY, .body = "{}"}, &r);
  j = json_of(&r);
  assert_int_equal(r.status, 200);
  assert_int_equal((long)jnum(j, "attempts"), 2);
  cJSON_Delete(j);
  resp_free(&r);
  checked("POST /flaky?fail=1&id=t2 -> 503 then 200 attempts 2; ids count separately");
}

static void test_status(void **state)
{
  struct resp r;
  time_t when, now;

  expect_message(&(struct req){.path = "/status/418", .key = FAKEAPI_KEY}, 418,
                 "Status 418");
  expect_message(&(struct req){.method = "POST", .path = "/status/502",
                               .key = FAKEAPI_KEY, .body = "{}"},
                 502, "Status 502");
  checked("GET /status/418 -> 418 {\"message\":\"Status 418\"}; POST /status/502 -> 502");

  http(&(struct req){.path = "/status/503?retry_after=7", .key = FAKEAPI_KEY}, &r);
  assert_message(&r, 503, "Status 503");
  assert_string_equal(header(&r, "Retry-After"), "7");
  resp_free(&r);
  checked("/status/503?retry_after=7 -> Retry-After: 7");

  now = time(NULL);
  http(&(struct req){.path = "/status/429?retry_after=30&retry_after_date=1",
                     .key = FAKEAPI_KEY},
       &r);
  assert_int_equal(r.status, 429);
  assert_non_null(strstr(header(&r, "Retry-After"), " GMT"));
  when = curl_getdate(header(&r, "Retry-After"), NULL);
  assert_in_range(when, now + 28, now + 32);
  checked("retry_after=30&retry_after_date=1 -> Retry-After: %s", header(&r, "Retry-After"));
  resp_free(&r);

  http(&(struct req){.path = "/status/204", .key = FAKEAPI_KEY}, &r);
  assert_int_equal(r.status, 204);
  assert_int_equal(r.len, 0);
  resp_free(&r);
  http(&(struct req){.path = "/status/99", .key = FAKEAPI_KEY}, &r);
  assert_int_equal(r.status, 422);
  resp_free(&r);
  http(&(struct req){.path = "/status/abc", .key = FAKEAPI_KEY}, &r);
  assert_int_equal(r.status, 422);
  resp_free(&r);
  checked("/status/204 -> no body; /status/99 and /status/abc -> 422");
}

/* ------------------------------------------------------------ echo, secrets, bench */

static bool has_pair(const cJSON *headers, const char *name, const char *value)
{
  const cJSON *pair;

  cJSON_ArrayForEach(pair, headers)
  {
    const char *n = cJSON_GetStringValue(cJSON_GetArrayItem(pair, 0));
    const char *v = cJSON_GetStringValue(cJSON_GetArrayItem(pair, 1));
    if (n && v && strcasecmp(n, name) == 0 && strcmp(v, value) == 0)
      return true;
  }
  return false;
}

static void test_echo(void **state)
{
  static const char bin[] = {'\0', (char)0xff, '\x01'};
  struct resp r;
  cJSON *j, *hs;

  http(&(struct req){.path = "/echo?x=1&access_token=abc%20d", .key = FAKEAPI_KEY,
                     .header = "X-Trace: t1", .header2 = "Content-Type: application/json",
                     .body = "{\"password\":\"hunter2\"}"},
       &r);
  j = json_of(&r);
  assert_int_equal(r.status, 200);
  assert_string_equal(jstr(j, "method"), "POST");
  assert_string_equal(jstr(j, "path"), "/public/v1/echo");
  assert_string_equal(jstr(j, "query"), "x=1&access_token=abc%20d");
  assert_string_equal(jstr(j, "body"), "{\"password\":\"hunter2\"}");
  hs = cJSON_GetObjectItemCaseSensitive(j, "headers");
  assert_true(has_pair(hs, "Authorization", "Bearer " FAKEAPI_KEY));
  assert_true(has_pair(hs, "X-Trace", "t1"));
  assert_true(has_pair(hs, "Content-Type", "application/json"));
  checked("POST /echo -> method, path, raw query, [name,value] headers (Authorization "
          "included) and the body as a string");
  cJSON_Delete(j);
  resp_free(&r);

  http(&(struct req){.method = "PUT", .path = "/echo", .key = FAKEAPI_KEY, .body = bin,
                     .body_len = sizeof bin},
       &r);
  j = json_of(&r);
  assert_string_equal(jstr(j, "method"), "PUT");
  assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "body")));
  assert_string_equal(jstr(j, "body_base64"), "AP8B");
  assert_int_equal((long)jnum(j, "body_size"), 3);
  checked("PUT /echo with bytes 00 ff 01 -> body null, body_base64 \"AP8B\"");
  cJSON_Delete(j);
  resp_free(&r);

  http(&(struct req){.method = "PURGE", .path = "/echo", .key = FAKEAPI_KEY}, &r);
  j = json_of(&r);
  assert_string_equal(jstr(j, "method"), "PURGE");
  assert_string_equal(jstr(j, "query"), "");
  assert_string_equal(jstr(j, "body"), "");
  checked("PURGE /echo -> any method is echoed; empty query and body");
  cJSON_Delete(j);
  resp_free(&r);
}

static void test_secrets(void **state)
{
  struct resp r;
  cJSON *j;

  http(&(struct req){.path = "/session", .key = FAKEAPI_KEY}, &r);
  j = json_of(&r);
  assert_int_equal(r.status, 200);
  assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok")));
  assert_string_equal(header(&r, "Set-Cookie"), "session=SESSSECRET123; HttpOnly");
  checked("GET /session -> 200, Set-Cookie: session=SESSSECRET123; HttpOnly");
  cJSON_Delete(j);
  resp_free(&r);

  http(&(struct req){.method = "POST", .path = "/oauth/token", .key = FAKEAPI_KEY}, &r);
  j = json_of(&r);
  assert_int_equal(r.status, 200);
  assert_string_equal(jstr(j, "access_token"), "at_SECRET_abc");
  assert_string_equal(jstr(j, "refresh_token"), "rt_SECRET_def");
  assert_string_equal(jstr(j, "token_type"), "Bearer");
  assert_int_equal((long)jnum(j, "expires_in"), 3600);
  checked("POST /oauth/token -> 200 with access_token, refresh_token, token_type, "
          "expires_in");
  cJSON_Delete(j);
  resp_free(&r);
  expect_message(&(struct req){.path = "/oauth/token", .key = FAKEAPI_KEY}, 405,
                 "The GET method is not supported for this route.");
  checked("GET /oauth/token -> 405");
}

static void test_bench(void **state)
{
  struct resp r;
  cJSON *j;
  int i;

  for (i = 0; i < 3; i++) {
    http(&(struct req){.path = "/bench", .key = FAKEAPI_KEY_RO}, &r);
    j = json_of(&r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 1024);
    assert_null(header(&r, "X-RateLimit-Remaining"));
    cJSON_Delete(j);
    resp_free(&r);
  }
  checked("GET /bench -> 200, 1024 bytes of valid JSON, no rate-limit headers");
  expect_message(&(struct req){.path = "/bench"}, 401, "Unauthenticated.");
  expect_message(&(struct req){.path = "/bench", .key = FAKEAPI_KEY_REVOKED}, 401,
                 "This API key has been revoked.");
  checked("/bench still checks the key: none -> 401, revoked -> 401");
}

/* ------------------------------------------------------------ uploads */

static void test_upload_cap(void **state)
{
  size_t big = (size_t)(9 * MIB), cap = (size_t)(8 * MIB);
  char *body = malloc(big);
  struct resp r;
  cJSON *j;

  assert_non_null(body);
  memset(body, 'a', big);
  expect_message(&(struct req){.path = "/echo", .key = FAKEAPI_KEY, .body = body,
                               .body_len = big, .header = "Expect: 100-continue"},
                 413, "The request body is too large.");
  checked("POST 9 MiB announced with Expect: 100-continue -> 413 before the upload");
  expect_message(&(struct req){.path = "/echo", .key = FAKEAPI_KEY, .body = body,
                               .body_len = big, .header = "Expect:"},
                 413, "The request body is too large.");
  checked("POST 9 MiB sent straight away -> read, discarded, 413");
  expect_message(&(struct req){.path = "/echo", .key = FAKEAPI_KEY, .chunked = big,
                               .header = "Transfer-Encoding: chunked", .header2 = "Expect:"},
                 413, "The request body is too large.");
  checked("POST 9 MiB chunked -> 413");

  http(&(struct req){.path = "/echo", .key = FAKEAPI_KEY, .body = body, .body_len = cap},
       &r);
  j = json_of(&r);
  assert_int_equal(r.status, 200);
  assert_int_equal((long)jnum(j, "body_size"), (long)cap);
  assert_int_equal(strlen(jstr(j, "body")), cap);
  checked("POST exactly 8 MiB -> 200, echoed whole");
  cJSON_Delete(j);
  resp_free(&r);
  free(body);
}

/* ------------------------------------------------------------ the C interface */

static void test_hits(void **state)
{
  fakeapi *api = NULL;
  struct resp r;
  char url[256];
  int i;

  assert_int_equal(fakeapi_start(NULL, &api, NULL), 0);
  assert_int_equal(fakeapi_hits(api, NULL), 0);
  for (i = 0; i < 3; i++) {
    http_on(api, &(struct req){.path = "/participants", .key = FAKEAPI_KEY}, &r);
    resp_free(&r);
  }
  for (i = 0; i < 2; i++) {
    http_on(api, &(struct req){.path = "/participants/1?x=1"}, &r);
    resp_free(&r);
  }
  snprintf(url, sizeof url, "http://127.0.0.1:%d/other", fakeapi_port(api));
  http_on(api, &(struct req){.url = url}, &r);
  resp_free(&r);
  assert_int_equal(fakeapi_hits(api, "/public/v1/participants"), 5);
  assert_int_equal(fakeapi_hits(api, "/public/v1/participants/"), 2);
  assert_int_equal(fakeapi_hits(api, "/other"), 1);
  assert_int_equal(fakeapi_hits(api, NULL), 6);
  assert_int_equal(fakeapi_hits(api, "/public/v1/health"), 0);
  checked("fakeapi_hits(): by path prefix (query ignored), 401s and 404s included, "
          "NULL counts all");
  fakeapi_stop(api);
}

static void test_interface(void **state)
{
  static const char *const keys[] = {"k_one", NULL};
  static const char *const ro[] = {"k_reader", NULL};
  fakeapi_opts opts = {.keys = keys, .readonly_keys = ro};
  fakeapi_opts busy = {0};
  fakeapi_opts bad = {.rate = -1};
  fakeapi *api = NULL;
  fakeapi *other = (fakeapi *)&opts; /* any non-NULL value: a failed start clears it */
  char *cause = NULL, expect[64];
  struct resp r;

  assert_int_equal(fakeapi_start(&opts, &api, &cause), 0);
  assert_null(cause);
  assert_true(fakeapi_port(api) > 0);
  snprintf(expect, sizeof expect, "http://127.0.0.1:%d/public/v1", fakeapi_port(api));
  assert_string_equal(fakeapi_base_url(api), expect);
  checked("fakeapi_start() on port 0 -> base URL %s", fakeapi_base_url(api));

  http_on(api, &(struct req){.path = "/participants", .key = "k_one"}, &r);
  assert_int_equal(r.status, 200);
  resp_free(&r);
  http_on(api, &(struct req){.path = "/participants", .key = FAKEAPI_KEY}, &r);
  assert_int_equal(r.status, 401);
  resp_free(&r);
  http_on(api, &(struct req){.path = "/participants", .key = "k_reader", .body = "{}"}, &r);
  assert_int_equal(r.status, 403);
  resp_free(&r);
  checked("custom keys replace the defaults; custom read-only keys get 403 on writes");

  busy.port = fakeapi_port(api);
  assert_int_equal(fakeapi_start(&busy, &other, &cause), -1);
  assert_null(other);
  assert_non_null(cause);
  assert_non_null(strstr(cause, "cannot listen on 127.0.0.1:"));
  checked("a busy port -> -1 with cause \"%s\"", cause);
  free(cause);
  cause = NULL;

  assert_int_equal(fakeapi_start(&bad, &other, &cause), -1);
  assert_non_null(cause);
  checked("a negative rate -> -1 with cause \"%s\"", cause);
  free(cause);
  assert_int_equal(fakeapi_start(&bad, &other, NULL), -1);

  fakeapi_stop(api);
  fakeapi_stop(NULL);
  checked("fakeapi_stop() accepts NULL");
}

/* ------------------------------------------------------------ main */

static int start_shared(void **state)
{
  /* A rate no test reaches: test_rate_limit uses its own server. */
  fakeapi_opts opts = {.rate = 1000000};
  char *cause = NULL;

  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return -1;
  if (fakeapi_start(&opts, &srv, &cause) != 0) {
    fprintf(stderr, "fakeapi_start: %s\n", cause ? cause : "?");
    free(cause);
    return -1;
  }
  return 0;
}

static int stop_shared(void **state)
{
  fakeapi_stop(srv);
  srv = NULL;
  curl_global_cleanup();
  return 0;
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_health),
    cmocka_unit_test(test_routing),
    cmocka_unit_test(test_auth),
    cmocka_unit_test(test_readonly),
    cmocka_unit_test(test_rate_limit),
    cmocka_unit_test(test_default_limit),
    cmocka_unit_test(test_participants_read),
    cmocka_unit_test(test_participants_create),
    cmocka_unit_test(test_participants_update),
    cmocka_unit_test(test_slow),
    cmocka_unit_test(test_stop_cuts_slow_short),
    cmocka_unit_test(test_large),
    cmocka_unit_test(test_binary),
    cmocka_unit_test(test_gzip),
    cmocka_unit_test(test_redirects),
    cmocka_unit_test(test_drop),
    cmocka_unit_test(test_flaky),
    cmocka_unit_test(test_status),
    cmocka_unit_test(test_echo),
    cmocka_unit_test(test_secrets),
    cmocka_unit_test(test_bench),
    cmocka_unit_test(test_upload_cap),
    cmocka_unit_test(test_hits),
    cmocka_unit_test(test_interface),
  };

  return cmocka_run_group_tests_name("fakeapi", tests, start_shared, stop_shared);
}
