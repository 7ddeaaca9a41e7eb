/* test_replay.c: the dashboard's replay (POST /api/requests/{id}/replay) and its preview
 * (GET on the same path) against two real fake APIs on loopback, through a real server
 * on a real SQLite file. The server's key (REQLOG_API_KEY) belongs to the first API, the
 * configured base URL (REQLOG_BASE_URL).
 *
 * Plan:
 *   same origin      a row of the base URL's API, recorded with a key: the preview says
 *                    the key goes (its fingerprint), the replay's /echo saw it
 *   other origin     a row of the second API (another port): the preview says no
 *                    Authorization and why; the replay reaches it without one (401),
 *                    the new row has no key
 *   keyless row      a row of the base URL's API recorded without a key: replayed
 *                    without one although the server has one
 *   refused rows     gopher: and file: URLs, a method that is not a token: preview and
 *                    replay answer 409 with the reason, nothing is sent or recorded
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
#include <strings.h>

#include "reqlog.h"
#include "reqlog_web.h"
#include "testutil.h"

typedef struct env {
  char *dir, *db;
  fakeapi *api, *other;
  web_server *web;
  const char *url;
  char fp[48];
  int64_t own_id, other_id, keyless_id, gopher_id, file_id, badmethod_id;
} env;

static env *E;

/* ------------------------------------------------------------------ HTTP */

typedef struct reply {
  long status;
  char *body;
  size_t len;
} reply;

static size_t collect(char *p, size_t size, size_t n, void *arg) {
  reply *r = arg;
  char *q = realloc(r->body, r->len + size * n + 1);
  assert_non_null(q);
  r->body = q;
  memcpy(r->body + r->len, p, size * n);
  r->len += size * n;
  r->body[r->len] = '\0';
  return size * n;
}

/* METHOD PATH on the dashboard, same-origin (with its Origin header), BODY (may be NULL)
 * as its request body. */
static reply web_body(const char *method, const char *path, const char *body) {
  reply r = {0};
  char url[300], origin[300];
  snprintf(url, sizeof url, "%s%s", E->url, path);
  snprintf(origin, sizeof origin, "Origin: %s", E->url);
  CURL *c = curl_easy_init();
  assert_non_null(c);
  struct curl_slist *h = curl_slist_append(NULL, origin);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  if (strcmp(method, "POST") == 0) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  if (!r.body)
    r.body = strdup("");
  return r;
}

static reply web(const char *method, const char *path) {
  return web_body(method, path, NULL);
}

static cJSON *json_of(const reply *r) {
  cJSON *j = cJSON_Parse(r->body);
  if (!j)
    fprintf(stderr, "not JSON: %s\n", r->body);
  assert_non_null(j);
  return j;
}

static const cJSON *member(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  assert_non_null(v);
  return v;
}

static char *replay_path(int64_t id) {
  char *p = NULL;
  assert_true(asprintf(&p, "/api/requests/%" PRId64 "/replay", id) > 0);
  return p;
}

/* ------------------------------------------------------------------ fixtures */

static int64_t newest_id(reqlog *r) {
  assert_int_equal(reqlog_flush(r, NULL), REQLOG_OK);
  reqlog_cursor *c = NULL;
  reqlog_query_opts o = {.limit = 1};
  assert_int_equal(reqlog_query(r, NULL, &o, &c, NULL), REQLOG_OK);
  cJSON *row = NULL;
  assert_int_equal(reqlog_cursor_next(c, &row), REQLOG_OK);
  int64_t id = (int64_t)cJSON_GetObjectItemCaseSensitive(row, "id")->valuedouble;
  cJSON_Delete(row);
  reqlog_cursor_free(c);
  return id;
}

static int64_t rec(reqlog *r, const char *url) {
  reqlog_response *resp = NULL;
  reqlog_request(r, "GET", url, NULL, 0, NULL, &resp);
  assert_non_null(resp);
  reqlog_response_free(resp);
  return newest_id(r);
}

/* A row that no transfer made (an import could hold it): METHOD to URL. */
static int64_t insert_row(reqlog *r, const char *method, const char *url) {
  sqlite3 *db = tu_db(E->db);
  char *sql = sqlite3_mprintf("INSERT INTO calls(started_at, method, url, host, path, status, "
                              "duration_us, source) VALUES (strftime('%%s','now') * 1000000, "
                              "%Q, %Q, '127.0.0.1', '/x', 200, 1000, 'import')", method, url);
  tu_exec(db, sql);
  sqlite3_free(sql);
  int64_t id = sqlite3_last_insert_rowid(db);
  sqlite3_close(db);
  (void)r;
  return id;
}

static int group_setup(void **state) {
  (void)state;
  E = calloc(1, sizeof *E);
  E->dir = tu_tmpdir();
  E->db = tu_path(E->dir, "replay.db");
  E->api = tu_api(100000, 60000);
  E->other = tu_api(100000, 60000);
  reqlog_key_fingerprint(FAKEAPI_KEY, E->fp);

  reqlog *r = NULL;
  assert_int_equal(reqlog_open(E->db, &r, NULL), REQLOG_OK);
  reqlog_set_rate_limit(r, 0);
  reqlog_set_retry(r, 1, 10, 1000);
  assert_int_equal(reqlog_set_base_url(r, fakeapi_base_url(E->api)), REQLOG_OK);
  reqlog_set_api_key(r, FAKEAPI_KEY);
  E->own_id = rec(r, "/echo");
  /* the second API's row, recorded with its own base URL and key */
  assert_int_equal(reqlog_set_base_url(r, fakeapi_base_url(E->other)), REQLOG_OK);
  reqlog_set_api_key(r, FAKEAPI_KEY2);
  E->other_id = rec(r, "/echo");
  assert_int_equal(reqlog_set_base_url(r, fakeapi_base_url(E->api)), REQLOG_OK);
  reqlog_set_api_key(r, NULL);
  E->keyless_id = rec(r, "/echo");
  char gopher[200];
  snprintf(gopher, sizeof gopher, "gopher://127.0.0.1:%d/_GET%%20/", fakeapi_port(E->api));
  E->gopher_id = insert_row(r, "GET", gopher);
  E->file_id = insert_row(r, "GET", "file:///etc/passwd");
  E->badmethod_id = insert_row(r, "GET /x HTTP/1.1\r\nX:", fakeapi_base_url(E->api));
  assert_int_equal(reqlog_close(r), REQLOG_OK);

  /* the server's key and base URL: the first API's */
  setenv("REQLOG_API_KEY", FAKEAPI_KEY, 1);
  setenv("REQLOG_BASE_URL", fakeapi_base_url(E->api), 1);
  setenv("REQLOG_RATE", "0", 1);
  web_opts o = {.db_path = E->db, .listen = "127.0.0.1:0"};
  char *cause = NULL;
  if (web_start(&o, &E->web, &cause) != 0)
    fprintf(stderr, "web_start: %s\n", cause);
  assert_non_null(E->web);
  E->url = web_url(E->web);
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  web_stop(E->web);
  fakeapi_stop(E->api);
  fakeapi_stop(E->other);
  tu_rmtree(E->dir);
  free(E->dir);
  free(E->db);
  free(E);
  unsetenv("REQLOG_API_KEY");
  unsetenv("REQLOG_BASE_URL");
  unsetenv("REQLOG_RATE");
  return 0;
}

/* METHOD on ID's replay path; the JSON answer, which must come with status WANT. */
static cJSON *replay_json(const char *method, int64_t id, long want) {
  char *path = replay_path(id);
  reply res = web(method, path);
  if (res.status != want)
    fprintf(stderr, "%s %s: %ld %s\n", method, path, res.status, res.body);
  assert_int_equal(res.status, want);
  cJSON *j = json_of(&res);
  free(res.body);
  free(path);
  return j;
}

/* POSTs the replay of ID; returns the new row. */
static cJSON *replay_row(int64_t id) {
  return replay_json("POST", id, 201);
}

/* What the replay of ID would send. */
static cJSON *preview(int64_t id) {
  return replay_json("GET", id, 200);
}

/* ------------------------------------------------------------------ tests */

static void test_same_origin(void **state) {
  (void)state;
  cJSON *p = preview(E->own_id);
  assert_string_equal(member(p, "method")->valuestring, "GET");
  char want[300];
  snprintf(want, sizeof want, "%s/echo", fakeapi_base_url(E->api));
  assert_string_equal(member(p, "url")->valuestring, want);
  assert_true(cJSON_IsTrue(member(p, "sends_key")));
  assert_string_equal(member(p, "key")->valuestring, E->fp);
  assert_true(cJSON_IsNull(member(p, "why")));
  cJSON_Delete(p);
  long before = fakeapi_hits(E->api, NULL);
  cJSON *row = replay_row(E->own_id);
  assert_int_equal(fakeapi_hits(E->api, NULL), before + 1);
  assert_int_equal((int)member(row, "status")->valuedouble, 200);
  assert_string_equal(member(row, "key")->valuestring, E->fp);
  cJSON *echo = cJSON_Parse(member(row, "response_body")->valuestring);
  assert_non_null(tu_header(echo, "headers", "Authorization"));
  cJSON_Delete(echo);
  cJSON_Delete(row);
  printf("checked: a row of the configured API: preview sends_key true with key %s; the "
         "replay carried it (200, row key %s)\n", E->fp, E->fp);
}

static void test_other_origin(void **state) {
  (void)state;
  cJSON *p = preview(E->other_id);
  assert_false(cJSON_IsTrue(member(p, "sends_key")));
  assert_true(cJSON_IsNull(member(p, "key")));
  const char *why = member(p, "why")->valuestring;
  assert_non_null(why);
  assert_non_null(strstr(why, "host"));
  printf("checked: preview of a row of another port: sends_key false, key null, why '%s'\n",
         why);
  cJSON_Delete(p);
  long before = fakeapi_hits(E->other, NULL);
  cJSON *row = replay_row(E->other_id);
  assert_int_equal(fakeapi_hits(E->other, NULL), before + 1);
  if ((int)member(row, "status")->valuedouble != 401)
    fprintf(stderr, "BUG: the server's key went to another host: %s\n",
            member(row, "response_body")->valuestring);
  assert_int_equal((int)member(row, "status")->valuedouble, 401);
  assert_true(cJSON_IsNull(member(row, "key")));
  cJSON_Delete(row);
  printf("checked: its replay reached the other server without Authorization (401), the "
         "new row has no key\n");
}

static void test_keyless_row(void **state) {
  (void)state;
  cJSON *p = preview(E->keyless_id);
  assert_false(cJSON_IsTrue(member(p, "sends_key")));
  assert_non_null(strstr(member(p, "why")->valuestring, "without a key"));
  cJSON_Delete(p);
  cJSON *row = replay_row(E->keyless_id);
  assert_int_equal((int)member(row, "status")->valuedouble, 401);
  assert_true(cJSON_IsNull(member(row, "key")));
  cJSON_Delete(row);
  printf("checked: a row recorded without a key is replayed without one (401, no key on "
         "the new row), though the server has a key for that host\n");
}

static void test_refused_rows(void **state) {
  (void)state;
  const struct { int64_t id; const char *says; } cases[] = {
    {E->gopher_id, "'gopher'"},
    {E->file_id, "'file'"},
    {E->badmethod_id, "method"},
  };
  long before = fakeapi_hits(E->api, NULL);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *path = replay_path(cases[i].id);
    const char *const methods[] = {"GET", "POST"};
    for (int m = 0; m < 2; m++) {
      reply res = web(methods[m], path);
      if (res.status != 409 || !strstr(res.body, cases[i].says))
        fprintf(stderr, "%s %s: %ld %s\n", methods[m], path, res.status, res.body);
      assert_int_equal(res.status, 409);
      assert_non_null(strstr(res.body, cases[i].says));
      free(res.body);
    }
    free(path);
  }
  assert_int_equal(fakeapi_hits(E->api, NULL), before);
  printf("checked: gopher:, file: and a method that is not a token: preview and replay "
         "answer 409 naming why; nothing reached the API\n");
}

/* POST the replay of ID with the edit BODY (JSON); the answer, with status WANT. */
static cJSON *edited(int64_t id, const char *body, long want) {
  char *path = replay_path(id);
  reply res = web_body("POST", path, body);
  if (res.status != want)
    fprintf(stderr, "POST %s %s: %ld %s\n", path, body, res.status, res.body);
  assert_int_equal(res.status, want);
  cJSON *j = json_of(&res);
  free(res.body);
  free(path);
  return j;
}

static void test_edit_and_send(void **state) {
  (void)state;
  cJSON *row = edited(E->own_id,
                      "{\"method\":\"PUT\",\"url\":\"/echo?edited=1\",\"headers\":[[\"X-Edit\","
                      "\"yes\"],[\"Authorization\",\"Bearer stolen\"]],\"body\":\"{\\\"a\\\":1}\"}",
                      201);
  assert_int_equal((int)member(row, "status")->valuedouble, 200);
  assert_string_equal(member(row, "method")->valuestring, "PUT");
  assert_int_equal((int64_t)member(row, "replay_of")->valuedouble, E->own_id);
  assert_string_equal(member(row, "key")->valuestring, E->fp);
  cJSON *echo = cJSON_Parse(member(row, "response_body")->valuestring);
  assert_non_null(echo);
  assert_string_equal(member(echo, "method")->valuestring, "PUT");
  assert_string_equal(member(echo, "query")->valuestring, "edited=1");
  assert_string_equal(member(echo, "body")->valuestring, "{\"a\":1}");
  assert_string_equal(tu_header(echo, "headers", "X-Edit"), "yes");
  cJSON_Delete(echo);
  /* the original's detail is unchanged; the new one names it */
  cJSON *orig = replay_json("GET", E->own_id, 200);
  cJSON_Delete(orig);
  cJSON_Delete(row);
  /* a bad edit: 400 naming it, nothing sent */
  long before = fakeapi_hits(E->api, NULL);
  cJSON *bad = edited(E->own_id, "{\"method\":\"GE T\"}", 409);
  cJSON_Delete(bad);
  bad = edited(E->own_id, "{\"nope\":1}", 400);
  cJSON_Delete(bad);
  bad = edited(E->own_id, "[1]", 400);
  cJSON_Delete(bad);
  assert_int_equal(fakeapi_hits(E->api, NULL), before);
  printf("checked: edit and send: PUT, an edited URL, header and body reached the API with "
         "the key (an Authorization of the edit is not sent), the new row's replay_of names "
         "#%lld; bad edits refused, nothing sent\n", (long long)E->own_id);
}

static void test_key_only_where_allowed(void **state) {
  (void)state;
  char body[600], other_echo[300];
  snprintf(other_echo, sizeof other_echo, "%s/echo", fakeapi_base_url(E->other));
  /* the URL edited to another host: no key there */
  snprintf(body, sizeof body, "{\"url\":\"%s\"}", other_echo);
  cJSON *row = edited(E->own_id, body, 201);
  assert_int_equal((int)member(row, "status")->valuedouble, 401);
  assert_true(cJSON_IsNull(member(row, "key")));
  cJSON_Delete(row);
  /* that host named as this replay's base URL: the key goes there */
  snprintf(body, sizeof body, "{\"url\":\"%s\",\"base_url\":\"%s\",\"dry_run\":true}",
           other_echo, fakeapi_base_url(E->other));
  cJSON *p = edited(E->own_id, body, 200);
  assert_true(cJSON_IsTrue(member(p, "sends_key")));
  assert_string_equal(member(p, "key")->valuestring, E->fp);
  cJSON_Delete(p);
  snprintf(body, sizeof body, "{\"url\":\"/echo\",\"base_url\":\"%s\"}",
           fakeapi_base_url(E->other));
  long before = fakeapi_hits(E->other, NULL);
  row = edited(E->own_id, body, 201);
  assert_int_equal(fakeapi_hits(E->other, NULL), before + 1);
  assert_int_equal((int)member(row, "status")->valuedouble, 200);
  assert_string_equal(member(row, "key")->valuestring, E->fp);
  cJSON_Delete(row);
  /* a base URL given, the URL on the configured API: the key goes to the given one only */
  snprintf(body, sizeof body, "{\"url\":\"%s/echo\",\"base_url\":\"%s\"}",
           fakeapi_base_url(E->api), fakeapi_base_url(E->other));
  row = edited(E->own_id, body, 201);
  assert_int_equal((int)member(row, "status")->valuedouble, 401);
  assert_true(cJSON_IsNull(member(row, "key")));
  cJSON_Delete(row);
  /* a base URL alone: the recorded call moved onto it, with the key */
  snprintf(body, sizeof body, "{\"base_url\":\"%s\"}", fakeapi_base_url(E->other));
  before = fakeapi_hits(E->other, "/public/v1/echo");
  row = edited(E->own_id, body, 201);
  assert_int_equal(fakeapi_hits(E->other, "/public/v1/echo"), before + 1);
  assert_int_equal((int)member(row, "status")->valuedouble, 200);
  cJSON_Delete(row);
  /* a file: base URL is refused */
  cJSON *bad = edited(E->own_id, "{\"base_url\":\"file:///etc\"}", 409);
  cJSON_Delete(bad);
  printf("checked: the key went to another host only when it was named as the replay's "
         "base URL (200 there); an edited URL alone (401) or a URL off the given base URL "
         "(401) got none\n");
}

static void test_cli_replay(void **state) {
  (void)state;
  char id[24], other[300], fpline[100];
  snprintf(id, sizeof id, "%lld", (long long)E->own_id);
  snprintf(other, sizeof other, "%s/echo", fakeapi_base_url(E->other));
  snprintf(fpline, sizeof fpline, "with key %s", E->fp);
  char key_env[100], base_env[300];
  snprintf(key_env, sizeof key_env, "REQLOG_API_KEY=%s", FAKEAPI_KEY);
  snprintf(base_env, sizeof base_env, "REQLOG_BASE_URL=%s", fakeapi_base_url(E->api));
  const char *const vars[] = {key_env, base_env, "REQLOG_RATE=0", NULL};
  char *out = NULL, *err = NULL;
  int rc = tu_run(ARGS("--db", E->db, "replay", id, "--base-url", fakeapi_base_url(E->other),
                       "-X", "POST", "-d", "{\"cli\":true}"), NULL, vars, &out, &err);
  tu_expect_exit(rc, 0, "replay --base-url", err);
  assert_non_null(strstr(err, fpline));
  assert_non_null(strstr(out, "(replay of #"));
  assert_non_null(strstr(out, "\\\"cli\\\":true")); /* in the echo's body string */
  tu_free2(&out, &err);
  rc = tu_run(ARGS("--db", E->db, "replay", id, "--url", other), NULL, vars, &out, &err);
  assert_int_equal(rc, 1); /* 401: no key to a host that is not the key's */
  assert_non_null(strstr(err, "with no Authorization"));
  tu_free2(&out, &err);
  rc = tu_run(ARGS("--db", E->db, "replay", id, "--dry-run"), NULL, vars, &out, &err);
  tu_expect_exit(rc, 0, "replay --dry-run", err);
  assert_non_null(strstr(err, fpline));
  tu_free2(&out, &err);
  rc = tu_run(ARGS("--db", E->db, "replay", "99999"), NULL, vars, &out, &err);
  assert_int_equal(rc, 5);
  tu_free2(&out, &err);
  printf("checked: reqlog replay --base-url sent the key there (said first: %s), --url to "
         "another host sent none (exit 1, 401), --dry-run sends nothing\n", fpline);
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_same_origin),
    cmocka_unit_test(test_other_origin),
    cmocka_unit_test(test_keyless_row),
    cmocka_unit_test(test_refused_rows),
    cmocka_unit_test(test_edit_and_send),
    cmocka_unit_test(test_key_only_where_allowed),
    cmocka_unit_test(test_cli_replay),
  };
  int rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
  curl_global_cleanup();
  return rc;
}
