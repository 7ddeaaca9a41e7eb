/* test_mock_match.c: the mock's matching rules in the library (recorder/read/mock*.c,
 * pathtmpl.c) on rows built here: path templates, query and body comparisons, the
 * dedupe (the newest of one request stays), exact before template, the closest calls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "read/mock.h"
#include "read/pathtmpl.h"

static void tpl_of(const char *path, const char *want) {
  char *got = path_template_dup(path);
  assert_non_null(got);
  if (strcmp(got, want) != 0)
    fail_msg("template of %s: want %s, got %s", path, want, got);
  free(got);
}

static void templates(void **state) {
  (void)state;
  tpl_of("/public/v1/participants/42", "/public/v1/participants/{id}");
  tpl_of("/p/1/notes/2/", "/p/{id}/notes/{id}/");
  tpl_of("/p/3f2a9c1e-0b7d-4c55-9e21-A0B1C2D3E4F5", "/p/{id}");
  tpl_of("/p/3f2a9c1e-0b7d-4c55-9e21-a0b1c2d3e4f", "/p/3f2a9c1e-0b7d-4c55-9e21-a0b1c2d3e4f");
  tpl_of("/v1/x", "/v1/x");          /* v1 is not a number */
  tpl_of("/p/12a", "/p/12a");
  tpl_of("/", "/");
  tpl_of("", "");
  tpl_of("//7", "//{id}");
}

static int params_match(const char *rec, const char *given) {
  mock_params a, b;
  assert_int_equal(mock_params_parse(rec, strlen(rec), &a), REQLOG_OK);
  assert_int_equal(mock_params_parse(given, strlen(given), &b), REQLOG_OK);
  int m = mock_params_match(&a, &b);
  mock_params_free(&a);
  mock_params_free(&b);
  return m;
}

static void params(void **state) {
  (void)state;
  assert_true(params_match("a=1&b=2", "b=2&a=1"));
  assert_true(params_match("a=x%20y", "a=x+y"));
  assert_true(params_match("q=%5B1%5D", "q=[1]"));
  assert_true(params_match("token=[REDACTED]&n=1", "n=1&token=abc"));
  assert_true(params_match("token=%5BREDACTED%5D", "token=zz"));
  assert_true(params_match("", ""));
  assert_true(params_match("a&&b", "b&a"));
  assert_false(params_match("a=1&a=2", "a=2&a=1")); /* repeats keep their order */
  assert_false(params_match("a=1", "a=2"));
  assert_false(params_match("a=1", "a=1&b=2"));
  assert_false(params_match("a=1", ""));
  assert_false(params_match("n=1", "n=[REDACTED]x"));
  assert_true(params_match("a=%zz", "a=%25zz")); /* a bad escape stays as it is */
  assert_true(params_match("a=%zz", "a=%zz"));
}

static int body_match(const char *rec, int truncated, const char *given) {
  mock_body r, g;
  assert_int_equal(mock_body_init(&r, (const unsigned char *)rec, rec ? strlen(rec) : 0,
                                  truncated), REQLOG_OK);
  assert_int_equal(mock_body_init(&g, (const unsigned char *)given, given ? strlen(given) : 0,
                                  0), REQLOG_OK);
  int m = mock_body_match(&r, &g);
  mock_body_free(&r);
  mock_body_free(&g);
  return m;
}

static void bodies(void **state) {
  (void)state;
  assert_true(body_match(NULL, 0, NULL));
  assert_true(body_match(NULL, 0, ""));
  assert_false(body_match(NULL, 0, "{}"));
  assert_false(body_match("{}", 0, NULL));
  assert_true(body_match("{\"a\":1,\"b\":[1,2]}", 0, "{ \"b\": [1, 2], \"a\": 1.0 }"));
  assert_false(body_match("{\"a\":1,\"b\":[1,2]}", 0, "{\"b\":[2,1],\"a\":1}"));
  assert_false(body_match("{\"a\":1}", 0, "{\"a\":1,\"c\":2}"));
  assert_false(body_match("{\"a\":1}", 0, "{\"a\":\"1\"}"));
  assert_false(body_match("{\"a\":true}", 0, "{\"a\":false}"));
  assert_true(body_match("{\"password\":\"[REDACTED]\",\"n\":{\"x\":null}}", 0,
                         "{\"n\":{\"x\":null},\"password\":{\"any\":[1]}}"));
  assert_false(body_match("{\"a\":1}", 0, "{\"a\":1} trailing"));
  assert_false(body_match("{\"a\":1} x", 0, "{\"a\":1}"));
  assert_true(body_match("{\"b\":{\"y\":1,\"x\":[{\"q\":1,\"p\":2}]},\"a\":null}", 0,
                         "{\"a\":null,\"b\":{\"x\":[{\"p\":2,\"q\":1}],\"y\":1}}"));
  assert_false(body_match("{\"a\":1}", 0, "a=1"));
  assert_false(body_match("a=1", 0, "{\"a\":1}"));
  assert_true(body_match("plain text", 0, "plain text"));
  assert_false(body_match("plain text", 0, "plain  text"));
  assert_true(body_match("abc", 1, "abcdef")); /* cut at the cap */
  assert_false(body_match("abc", 1, "ab"));
  assert_false(body_match("abc", 1, "abX"));
  assert_true(body_match("user=ann&password=[REDACTED]", 0, "password=x&user=ann"));
  assert_false(body_match("user=ann&password=[REDACTED]", 0, "user=bob&password=x"));
}

/* A row of the row model with bodies. */
static cJSON *row(int64_t id, const char *method, const char *url, int status,
                  const char *req_body, const char *resp_body) {
  cJSON *r = cJSON_CreateObject();
  cJSON_AddNumberToObject(r, "id", (double)id);
  cJSON_AddStringToObject(r, "method", method);
  cJSON_AddStringToObject(r, "url", url);
  const char *path = strstr(url, "://");
  path = path ? strchr(path + 3, '/') : url;
  char p[512];
  snprintf(p, sizeof p, "%.*s", (int)strcspn(path, "?#"), path);
  cJSON_AddStringToObject(r, "path", p);
  if (status)
    cJSON_AddNumberToObject(r, "status", status);
  else
    cJSON_AddNullToObject(r, "status");
  cJSON *h = cJSON_AddArrayToObject(r, "response_headers");
  cJSON *one = cJSON_CreateArray();
  cJSON_AddItemToArray(one, cJSON_CreateString("Content-Type"));
  cJSON_AddItemToArray(one, cJSON_CreateString("application/json"));
  cJSON_AddItemToArray(h, one);
  if (req_body)
    cJSON_AddStringToObject(r, "request_body", req_body);
  else
    cJSON_AddNullToObject(r, "request_body");
  cJSON_AddStringToObject(r, "response_body", resp_body);
  cJSON_AddBoolToObject(r, "request_truncated", 0);
  cJSON_AddBoolToObject(r, "response_truncated", 0);
  cJSON_AddNumberToObject(r, "response_size", (double)strlen(resp_body));
  return r;
}

static void add(reqlog_mock *m, cJSON *r) {
  mock_entry *e = NULL;
  char *cause = NULL;
  assert_int_equal(mock_entry_of_row(r, &e, &cause), REQLOG_OK);
  cJSON_Delete(r);
  if (e)
    assert_int_equal(mock_add(m, e), REQLOG_OK);
}

static int64_t answer(const reqlog_mock *m, const char *method, const char *path,
                      const char *query, const char *body, reqlog_mock_match_kind *kind) {
  reqlog_mock_request q = {method, path, query, body, body ? strlen(body) : 0};
  const reqlog_mock_call *c = NULL;
  *kind = reqlog_mock_match(m, &q, &c);
  return c ? c->id : 0;
}

static void set(void **state) {
  (void)state;
  reqlog_mock *m = mock_new();
  assert_non_null(m);
  /* newest first, as reqlog_query gives them */
  add(m, row(9, "GET", "https://h/v1/items/7?x=1", 200, NULL, "{\"v\":9}"));
  add(m, row(8, "GET", "https://h/v1/items/7?x=1", 503, NULL, "{\"v\":8}"));
  add(m, row(7, "get", "https://h/v1/items/5", 200, NULL, "{\"v\":7}"));
  add(m, row(6, "POST", "https://h/v1/items", 201, "{\"a\":1}", "{\"v\":6}"));
  add(m, row(5, "POST", "https://h/v1/items", 422, "{\"a\":2}", "{\"v\":5}"));
  add(m, row(4, "GET", "https://h/v1/items/5", 404, NULL, "{\"v\":4}"));
  add(m, row(3, "GET", "https://h/v1/down", 0, NULL, "")); /* no response: not served */
  add(m, row(2, "GET", "https://h/v1/items/6", 200, NULL, "{\"v\":2}"));
  assert_int_equal(mock_build(m), REQLOG_OK);
  /* 9 and 8 are one request (8 dropped), 7 and 4 too (4 dropped), 3 has no response */
  assert_int_equal(reqlog_mock_size(m), 5);

  reqlog_mock_match_kind k;
  assert_int_equal(answer(m, "GET", "/v1/items/7", "x=1", NULL, &k), 9);
  assert_int_equal(k, REQLOG_MOCK_EXACT);
  assert_int_equal(answer(m, "get", "/v1/items/5", NULL, NULL, &k), 7);
  assert_int_equal(k, REQLOG_MOCK_EXACT);
  /* a template match is the newest of the template with the same query and body */
  assert_int_equal(answer(m, "GET", "/v1/items/99", NULL, NULL, &k), 7);
  assert_int_equal(k, REQLOG_MOCK_TEMPLATE);
  assert_int_equal(answer(m, "GET", "/v1/items/99", "x=1", NULL, &k), 9);
  assert_int_equal(k, REQLOG_MOCK_TEMPLATE);
  assert_int_equal(answer(m, "POST", "/v1/items", NULL, "{\"a\":2}", &k), 5);
  assert_int_equal(answer(m, "POST", "/v1/items", NULL, "{\"a\":3}", &k), 0);
  assert_int_equal(k, REQLOG_MOCK_NONE);
  assert_int_equal(answer(m, "GET", "/v1/down", NULL, NULL, &k), 0);
  assert_int_equal(answer(m, "DELETE", "/v1/items/7", "x=1", NULL, &k), 0);

  /* the closest: same path other method, then same template, then shared segments */
  reqlog_mock_request q = {"DELETE", "/v1/items/7", NULL, NULL, 0};
  const reqlog_mock_call *near[8];
  size_t n = reqlog_mock_closest(m, &q, near, 8);
  assert_int_equal(n, 5);
  assert_int_equal(near[0]->id, 9);
  assert_int_equal(near[1]->id, 7); /* template, newest first */
  assert_int_equal(near[2]->id, 2);
  assert_int_equal(reqlog_mock_closest(m, &q, near, 2), 2);
  assert_int_equal(near[1]->id, 7);
  const reqlog_mock_call *c = NULL;
  reqlog_mock_request q9 = {"GET", "/v1/items/7", "x=1", NULL, 0};
  assert_int_equal(reqlog_mock_match(m, &q9, &c), REQLOG_MOCK_EXACT);
  assert_int_equal(c->status, 200);
  assert_int_equal(c->body_len, strlen("{\"v\":9}"));
  assert_memory_equal(c->body, "{\"v\":9}", c->body_len);
  assert_int_equal(c->nheaders, 1);
  assert_string_equal(c->headers[0].name, "Content-Type");
  assert_string_equal(c->tpl, "/v1/items/{id}");
  reqlog_mock_free(m);

  /* an empty set answers nothing */
  m = mock_new();
  assert_int_equal(mock_build(m), REQLOG_OK);
  assert_int_equal(answer(m, "GET", "/", NULL, NULL, &k), 0);
  assert_int_equal(reqlog_mock_closest(m, &q, near, 8), 0);
  reqlog_mock_free(m);
}

/* Many calls (the request hash grows several times), each request twice: the newer
 * stays, and JSON bodies that differ in spacing and member order are one request. */
static void many(void **state) {
  (void)state;
  reqlog_mock *m = mock_new();
  assert_non_null(m);
  int64_t id = 10000;
  for (int i = 0; i < 500; i++) {
    char url[64], body[64];
    snprintf(url, sizeof url, "https://h/v1/things/%d?x=%d", i % 250, i % 3);
    snprintf(body, sizeof body, "{\"n\":%d,\"k\":\"v\"}", i % 250);
    add(m, row(id--, "POST", url, 200, body, "{}"));
  }
  /* older repeats, with the body written otherwise */
  for (int i = 0; i < 500; i++) {
    char url[64], body[64];
    snprintf(url, sizeof url, "https://h/v1/things/%d?x=%d", i % 250, i % 3);
    snprintf(body, sizeof body, "{ \"k\": \"v\", \"n\": %d }", i % 250);
    add(m, row(id--, "POST", url, 200, body, "{}"));
  }
  assert_int_equal(mock_build(m), REQLOG_OK);
  /* (i % 250, i % 3) for i < 500: 500 distinct requests (250 and 3 are coprime) */
  assert_int_equal(reqlog_mock_size(m), 500);
  reqlog_mock_match_kind k;
  const char *b7 = "{\"k\":\"v\",\"n\":7}";
  assert_int_equal(answer(m, "POST", "/v1/things/7", "x=1", b7, &k), 10000 - 7);
  assert_int_equal(k, REQLOG_MOCK_EXACT);
  assert_int_equal(answer(m, "POST", "/v1/things/7", "x=2", b7, &k), 10000 - 257);
  reqlog_mock_free(m);
}

static void binary_row(void **state) {
  (void)state;
  cJSON *r = row(1, "GET", "https://h/b", 200, NULL, "");
  cJSON_DeleteItemFromObject(r, "response_body");
  cJSON *b = cJSON_AddObjectToObject(r, "response_body");
  cJSON_AddStringToObject(b, "base64", "/wAQgA==");
  mock_entry *e = NULL;
  assert_int_equal(mock_entry_of_row(r, &e, NULL), REQLOG_OK);
  assert_non_null(e);
  assert_int_equal(e->call.body_len, 4);
  assert_memory_equal(e->call.body, "\xff\x00\x10\x80", 4);
  mock_entry_free(e);
  cJSON_ReplaceItemInObject(b, "base64", cJSON_CreateString("not base64!"));
  char *cause = NULL;
  assert_int_equal(mock_entry_of_row(r, &e, &cause), REQLOG_ERR_DB);
  assert_non_null(cause);
  free(cause);
  cJSON_Delete(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(templates), cmocka_unit_test(params), cmocka_unit_test(bodies),
    cmocka_unit_test(set),       cmocka_unit_test(many),   cmocka_unit_test(binary_row),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
