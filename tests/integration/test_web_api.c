/* test_web_api.c: the dashboard's JSON API (web/API.md) over a real history recorded
 * from the tests' fake API (tests/lib/testweb.h), checked with libcurl on loopback.
 *
 * Plan:
 *   list + paging        keyset pages of /api/requests cover every row once, newest
 *                        first, without bodies; next is null on the last page
 *   every filter         each FILTER (and repeats of status/method) as query parameters
 *                        gives the same ids as reqlog_query() with that filter, and the
 *                        same total in /api/stats
 *   bad input            bad filter value, bad limit, unknown parameter: 400 naming it;
 *                        unknown id 404, non-numeric id 400; wrong method 405 + Allow;
 *                        unknown path 404 JSON
 *   diff                 /api/requests/{id}/diff?with=: reqlog_diff's JSON, ignore and
 *                        keep passed on, with=previous (the older as a), 400 naming with
 *                        or an unknown parameter, 404 naming the missing id
 *   replay               POST without Origin / with a foreign Origin 403; same origin
 *                        201 with a new row sent with the server's key; 409 for
 *                        truncated and binary bodies; 404; 413 for a large body
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reqlog.h"
#include "reqlog_web.h"
#include "testutil.h"
#include "testweb.h"

static void test_list_and_paging(void **state) {
  (void)state;
  reqlog *r = tw_recorder();
  char *want = tw_lib_ids(r, "");
  reqlog_close(r);
  char got[65536] = "", path[128] = "/api/requests?limit=4";
  int pages = 0;
  for (;;) {
    tw_reply res = tw_get(path);
    assert_int_equal(res.status, 200);
    char *cc = tw_header(&res, "Cache-Control");
    assert_string_equal(cc, "no-store");
    free(cc);
    cJSON *j = tw_json_of(&res);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(j, "items");
    assert_true(cJSON_IsArray(items));
    assert_true(cJSON_GetArraySize(items) <= 4);
    const cJSON *row;
    cJSON_ArrayForEach(row, items) {
      assert_null(cJSON_GetObjectItemCaseSensitive(row, "request_body"));
      assert_null(cJSON_GetObjectItemCaseSensitive(row, "response_body"));
      assert_non_null(cJSON_GetObjectItemCaseSensitive(row, "started_at"));
    }
    tw_append_ids(got, sizeof got, items);
    pages++;
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(j, "next");
    if (cJSON_IsNull(next)) {
      cJSON_Delete(j);
      tw_resp_free(&res);
      break;
    }
    assert_true(cJSON_IsNumber(next));
    assert_true(next->valuedouble == tu_num(cJSON_GetArrayItem(items, 3), "id"));
    snprintf(path, sizeof path, "/api/requests?limit=4&before=%.0f", next->valuedouble);
    cJSON_Delete(j);
    tw_resp_free(&res);
  }
  assert_string_equal(got, want);
  printf("checked: %d keyset pages of 4 list every row once, newest first, without bodies "
         "(%s)\n", pages, got);
  free(want);

  tw_reply res = tw_get("/api/requests");
  cJSON *j = tw_json_of(&res);
  assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "next")));
  cJSON_Delete(j);
  tw_resp_free(&res);
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
    "status=2xx&method=GET&path=/public/v1/participants", "origin=ci-runner-3",
    "origin=laptop-ada&method=POST", "origin=laptop-ada,ci-runner-3",
  };
  reqlog *r = tw_recorder();
  for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
    char *want = tw_lib_ids(r, specs[i]);
    char *q = tw_query_of(specs[i]);
    char path[4200];
    snprintf(path, sizeof path, "/api/requests?limit=500&%s", q);
    tw_reply res = tw_get(path);
    if (res.status != 200)
      fprintf(stderr, "%s: %s\n", specs[i], res.body);
    assert_int_equal(res.status, 200);
    cJSON *j = tw_json_of(&res);
    char got[65536] = "";
    tw_append_ids(got, sizeof got, cJSON_GetObjectItemCaseSensitive(j, "items"));
    assert_string_equal(got, want);
    cJSON_Delete(j);
    tw_resp_free(&res);

    snprintf(path, sizeof path, "/api/stats?%s", q);
    res = tw_get(path);
    assert_int_equal(res.status, 200);
    j = tw_json_of(&res);
    int64_t count = 0;
    reqlog_filter *f = tw_filter_of(specs[i]);
    assert_int_equal(reqlog_count(r, f, &count, NULL), REQLOG_OK);
    reqlog_filter_free(f);
    assert_int_equal((int64_t)tu_num(j, "total"), count);
    cJSON_Delete(j);
    tw_resp_free(&res);
    printf("checked: filter %s gives the library's ids [%s] and stats total %" PRId64 "\n",
           specs[i], want, count);
    free(q);
    free(want);
  }
  reqlog_close(r);
  /* the filters above must not all be empty matches */
  tw_reply res = tw_get("/api/requests?field=email");
  cJSON *j = tw_json_of(&res);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "items")), 1);
  cJSON_Delete(j);
  tw_resp_free(&res);
  res = tw_get("/api/requests?origin=ci-runner-3");
  j = tw_json_of(&res);
  const cJSON *items = cJSON_GetObjectItemCaseSensitive(j, "items");
  assert_int_equal(cJSON_GetArraySize(items), 2);
  assert_string_equal(tu_str(cJSON_GetArrayItem(items, 0), "origin"), "ci-runner-3");
  cJSON_Delete(j);
  tw_resp_free(&res);
  res = tw_get("/api/requests?origin=");
  tw_expect_400_naming(&res, "origin");
  tw_resp_free(&res);
  res = tw_get("/api/filters");
  assert_int_equal(res.status, 200);
  assert_non_null(strstr(res.body, "{\"name\":\"origin\",\"repeatable\":false,"));
  tw_resp_free(&res);
  printf("checked: origin=ci-runner-3 lists its 2 rows, each with origin; origin= is a 400 "
         "naming it; /api/filters lists origin\n");
  res = tw_get("/api/stats");
  j = tw_json_of(&res);
  assert_int_equal((int)tu_num(j, "limit_per_minute"), 60);
  assert_non_null(cJSON_GetObjectItemCaseSensitive(j, "latency_ms"));
  assert_non_null(cJSON_GetObjectItemCaseSensitive(j, "per_minute"));
  cJSON_Delete(j);
  tw_resp_free(&res);
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
    tw_reply res = tw_get(cases[i].path);
    tw_expect_400_naming(&res, cases[i].param);
    tw_resp_free(&res);
  }
  printf("checked: %zu bad or unknown parameters each get 400 with errors naming them\n",
         sizeof cases / sizeof cases[0]);
  tw_reply res = tw_get("/api/requests?status=4yy&bogus=2");
  tw_expect_400_naming(&res, "status");
  tw_expect_400_naming(&res, "bogus");
  assert_non_null(strstr(res.body, "status: '4yy' is not"));
  tw_resp_free(&res);
  printf("checked: every problem of one request is named, with the library's message\n");
}

static void test_one_row(void **state) {
  (void)state;
  char path[64];
  snprintf(path, sizeof path, "/api/requests/%" PRId64, tw_e->post_201_id);
  tw_reply res = tw_get(path);
  assert_int_equal(res.status, 200);
  reqlog *r = tw_recorder();
  cJSON *want = NULL;
  assert_int_equal(reqlog_get(r, tw_e->post_201_id, &want, NULL), REQLOG_OK);
  reqlog_close(r);
  cJSON *got = tw_json_of(&res);
  assert_true(cJSON_Compare(got, want, 1));
  assert_non_null(strstr(tu_str(got, "request_body"), "Zanzibar"));
  printf("checked: /api/requests/%" PRId64 " is reqlog_get's full row, bodies included\n",
         tw_e->post_201_id);
  cJSON_Delete(got);
  cJSON_Delete(want);
  tw_resp_free(&res);

  res = tw_get("/api/requests/987654");
  tw_expect_error(&res, 404, "Not found.");
  tw_resp_free(&res);
  static const char *const bad[] = {"abc", "-1", "1.5", "0x10", "99999999999999999999999"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    snprintf(path, sizeof path, "/api/requests/%s", bad[i]);
    res = tw_get(path);
    tw_expect_400_naming(&res, "id");
    tw_resp_free(&res);
  }
  printf("checked: unknown id 404 JSON; non-numeric ids 400 naming id\n");
}

static void test_diff(void **state) {
  (void)state;
  reqlog *r = tw_recorder();
  int64_t a = tw_call(r, "GET", "/participants/1", NULL, 0);
  int64_t b = tw_call(r, "GET", "/participants/1", NULL, 0);
  int64_t c = tw_call(r, "GET", "/participants/2", NULL, 0);
  assert_int_equal(reqlog_flush(r, NULL), REQLOG_OK);
  const char *const ignore[] = {"first_name", NULL};
  reqlog_diff_opts opts = {ignore, NULL};
  cJSON *want = NULL;
  assert_int_equal(reqlog_diff(r, a, c, &opts, &want, NULL), REQLOG_OK);
  reqlog_close(r);
  char path[160];
  snprintf(path, sizeof path, "/api/requests/%" PRId64 "/diff?with=%" PRId64 "&ignore=first_name",
           a, c);
  tw_reply res = tw_get(path);
  assert_int_equal(res.status, 200);
  cJSON *got = tw_json_of(&res);
  assert_true(cJSON_Compare(got, want, 1));
  assert_false(cJSON_IsTrue(cJSON_GetObjectItem(got, "equal")));
  cJSON_Delete(got);
  cJSON_Delete(want);
  tw_resp_free(&res);

  snprintf(path, sizeof path, "/api/requests/%" PRId64 "/diff?with=previous", b);
  res = tw_get(path);
  assert_int_equal(res.status, 200);
  got = tw_json_of(&res);
  assert_int_equal((int64_t)cJSON_GetObjectItem(cJSON_GetObjectItem(got, "a"), "id")->valuedouble, a);
  assert_int_equal((int64_t)cJSON_GetObjectItem(cJSON_GetObjectItem(got, "b"), "id")->valuedouble, b);
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(got, "equal")));
  cJSON_Delete(got);
  tw_resp_free(&res);

  snprintf(path, sizeof path, "/api/requests/%" PRId64 "/diff?with=%" PRId64 "&keep=x-ratelimit-remaining", a, b);
  res = tw_get(path);
  got = tw_json_of(&res);
  assert_false(cJSON_IsTrue(cJSON_GetObjectItem(got, "equal")));
  cJSON_Delete(got);
  tw_resp_free(&res);

  const struct { const char *query; const char *param; } bad[] = {
    {"", "with"}, {"?with=abc", "with"}, {"?with=1&with=2", "with"}, {"?with=1&x=1", "x"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    snprintf(path, sizeof path, "/api/requests/%" PRId64 "/diff%s", a, bad[i].query);
    res = tw_get(path);
    tw_expect_400_naming(&res, bad[i].param);
    tw_resp_free(&res);
  }
  snprintf(path, sizeof path, "/api/requests/%" PRId64 "/diff?with=987654", a);
  res = tw_get(path);
  tw_expect_error(&res, 404, "no call with id 987654");
  tw_resp_free(&res);
  printf("checked: /api/requests/{id}/diff is reqlog_diff's JSON (ignore, keep, "
         "with=previous); 400 naming with or an unknown parameter; 404 naming the id\n");
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
    tw_reply res = tw_http(cases[i].method, cases[i].path, NULL);
    tw_expect_error(&res, 405, "Method not allowed.");
    char *allow = tw_header(&res, "Allow");
    assert_non_null(allow);
    assert_non_null(strstr(allow, cases[i].allow));
    printf("checked: %s %s -> 405, Allow: %s\n", cases[i].method, cases[i].path, allow);
    free(allow);
    tw_resp_free(&res);
  }
  static const char *const missing[] = {"/api/", "/api/nothing", "/api/requests/1/other",
                                        "/nothing", "/static/", "/static/nope.js"};
  for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
    tw_reply res = tw_get(missing[i]);
    tw_expect_error(&res, 404, "Not found.");
    tw_resp_free(&res);
  }
  printf("checked: unknown paths under /api/ and elsewhere: 404 JSON\n");
}

static void test_replay(void **state) {
  (void)state;
  char path[80], origin[128], foreign[64];
  snprintf(path, sizeof path, "/api/requests/%" PRId64 "/replay", tw_e->post_201_id);
  snprintf(origin, sizeof origin, "Origin: %s", tw_e->url);
  snprintf(foreign, sizeof foreign, "Origin: http://evil.example:%d", tw_e->port);
  reqlog *r = tw_recorder();
  int64_t before = tw_newest_id(r);

  tw_reply res = tw_http_at(tw_e->url, "POST", path, NULL, "", 0);
  tw_expect_error(&res, 403, "Cross-origin request refused.");
  tw_resp_free(&res);
  const char *fh[] = {foreign, NULL};
  res = tw_http_at(tw_e->url, "POST", path, fh, "", 0);
  tw_expect_error(&res, 403, "Cross-origin request refused.");
  tw_resp_free(&res);
  assert_int_equal(tw_newest_id(r), before);
  printf("checked: replay without Origin or with a foreign Origin: 403, nothing sent\n");

  const char *oh[] = {origin, NULL};
  res = tw_http_at(tw_e->url, "POST", path, oh, "", 0);
  if (res.status != 201)
    fprintf(stderr, "replay: %s\n", res.body);
  assert_int_equal(res.status, 201);
  cJSON *row = tw_json_of(&res);
  int64_t id = (int64_t)tu_num(row, "id");
  assert_true(id > before);
  assert_int_equal(id, tw_newest_id(r));
  assert_string_equal(tu_str(row, "method"), "POST");
  assert_string_equal(tu_str(row, "path"), "/public/v1/participants");
  assert_int_equal((int)tu_num(row, "status"), 201);
  assert_non_null(strstr(tu_str(row, "request_body"), "Zanzibar"));
  char fp[48];
  reqlog_key_fingerprint(FAKEAPI_KEY, fp);
  assert_string_equal(tu_str(row, "key"), fp);
  assert_int_equal(fakeapi_hits(tw_e->api, "/public/v1/participants") > 0, 1);
  printf("checked: same-origin replay: 201 with new row %" PRId64 " (POST, 201, same body, "
         "sent with the server's key %s)\n", id, fp);
  cJSON_Delete(row);
  tw_resp_free(&res);

  snprintf(path, sizeof path, "/api/requests/%" PRId64 "/replay", tw_e->truncated_id);
  res = tw_http_at(tw_e->url, "POST", path, oh, "", 0);
  tw_expect_error(&res, 409, NULL);
  assert_non_null(strstr(res.body, "truncated"));
  tw_resp_free(&res);
  snprintf(path, sizeof path, "/api/requests/%" PRId64 "/replay", tw_e->binary_id);
  res = tw_http_at(tw_e->url, "POST", path, oh, "", 0);
  tw_expect_error(&res, 409, NULL);
  assert_non_null(strstr(res.body, "binary"));
  tw_resp_free(&res);
  res = tw_http_at(tw_e->url, "POST", "/api/requests/987654/replay", oh, "", 0);
  tw_expect_error(&res, 404, "Not found.");
  tw_resp_free(&res);
  res = tw_http_at(tw_e->url, "POST", "/api/requests/x/replay", oh, "", 0);
  tw_expect_400_naming(&res, "id");
  tw_resp_free(&res);
  size_t big_len = 100 * 1024;
  char *big = malloc(big_len);
  memset(big, 'a', big_len);
  snprintf(path, sizeof path, "/api/requests/%" PRId64 "/replay", tw_e->post_201_id);
  res = tw_http_at(tw_e->url, "POST", path, oh, big, big_len);
  tw_expect_error(&res, 413, NULL);
  tw_resp_free(&res);
  const char *chunked[] = {origin, "Transfer-Encoding: chunked", NULL};
  res = tw_http_at(tw_e->url, "POST", path, chunked, big, big_len);
  tw_expect_error(&res, 413, NULL);
  tw_resp_free(&res);
  free(big);
  assert_int_equal(tw_newest_id(r), id);
  reqlog_close(r);
  printf("checked: 409 for truncated and binary bodies, 404 unknown id, 400 bad id, "
         "413 for a 100 KiB body (with and without Content-Length); nothing sent\n");
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_list_and_paging),
    cmocka_unit_test(test_every_filter),
    cmocka_unit_test(test_bad_parameters),
    cmocka_unit_test(test_one_row),
    cmocka_unit_test(test_diff),
    cmocka_unit_test(test_methods_and_paths),
    cmocka_unit_test(test_replay),
  };
  int rc = cmocka_run_group_tests(tests, tw_setup, tw_teardown);
  curl_global_cleanup();
  return rc;
}
