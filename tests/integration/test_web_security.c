/* test_web_security.c: what keeps the dashboard (web/server.h) to its own tab and its
 * own machine, over the shared fixture of tests/lib/testweb.h.
 *
 * Plan:
 *   host + headers       a foreign Host gets 421; loopback names pass; security headers
 *                        (CSP without 'unsafe-inline', nosniff, frame-ancestors 'none')
 *                        on the page, no-store on the API; static files and traversal;
 *                        every /api/ answer (exports too) is sandboxed by its CSP
 *   token mode           401 without auth, Bearer works, /login sets an HttpOnly
 *                        SameSite=Strict cookie that works; non-loopback generates one
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
#include <sys/stat.h>
#include <unistd.h>

#include "reqlog.h"
#include "reqlog_web.h"
#include "testutil.h"
#include "testweb.h"

static void test_host_check(void **state) {
  (void)state;
  char h[128];
  snprintf(h, sizeof h, "Host: evil.example:%d", tw_e->port);
  const char *evil[] = {h, NULL};
  tw_reply res = tw_http("GET", "/api/stats", evil);
  tw_expect_error(&res, 421, "Unknown host.");
  tw_resp_free(&res);
  res = tw_http("GET", "/", evil);
  tw_expect_error(&res, 421, "Unknown host.");
  tw_resp_free(&res);
  snprintf(h, sizeof h, "Host: 127.0.0.1:%d", tw_e->port + 1);
  res = tw_http("GET", "/api/stats", evil);
  tw_expect_error(&res, 421, "Unknown host.");
  tw_resp_free(&res);
  static const char *const ok[] = {"localhost", "LOCALHOST", "127.0.0.1", "[::1]"};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    snprintf(h, sizeof h, "Host: %s:%d", ok[i], tw_e->port);
    res = tw_http("GET", "/api/stats", evil);
    assert_int_equal(res.status, 200);
    tw_resp_free(&res);
  }
  printf("checked: a foreign Host (or port) gets 421 {\"message\":\"Unknown host.\"}; "
         "localhost, 127.0.0.1 and [::1] with our port pass\n");
}

static void test_security_headers(void **state) {
  (void)state;
  tw_reply res = tw_get("/");
  assert_int_equal(res.status, 200);
  char *csp = tw_header(&res, "Content-Security-Policy");
  assert_non_null(csp);
  assert_string_equal(csp, "default-src 'none'; script-src 'self'; style-src 'self'; "
                           "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
                           "base-uri 'none'; form-action 'self'");
  assert_null(strstr(csp, "unsafe-inline"));
  char *nosniff = tw_header(&res, "X-Content-Type-Options");
  char *xfo = tw_header(&res, "X-Frame-Options");
  char *ref = tw_header(&res, "Referrer-Policy");
  char *ct = tw_header(&res, "Content-Type");
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
  tw_resp_free(&res);

  res = tw_get("/api/stats");
  char *cc = tw_header(&res, "Cache-Control");
  nosniff = tw_header(&res, "X-Content-Type-Options");
  assert_string_equal(cc, "no-store");
  assert_string_equal(nosniff, "nosniff");
  free(cc);
  free(nosniff);
  tw_resp_free(&res);
  printf("checked: API answers carry Cache-Control: no-store and nosniff\n");

  /* every embedded file is served with its type; traversal is refused */
  res = tw_get("/static/index.html");
  assert_int_equal(res.status, 200);
  tw_resp_free(&res);
  res = tw_get("/static/app.js");
  if (res.status == 200) {
    ct = tw_header(&res, "Content-Type");
    assert_string_equal(ct, "text/javascript; charset=utf-8");
    free(ct);
  }
  tw_resp_free(&res);
  static const char *const sneaky[] = {"/static/..%2Fserver.h", "/static/%2e%2e%2fweb.db",
                                       "/static/.hidden", "/static/..", "/static/a%00b"};
  for (size_t i = 0; i < sizeof sneaky / sizeof sneaky[0]; i++) {
    res = tw_get(sneaky[i]);
    assert_int_equal(res.status, 404);
    tw_resp_free(&res);
  }
  printf("checked: static files with their types; traversal and hidden names 404\n");
}

/* Recorded data leaves the server only as inert downloads or JSON: whatever a tab does
 * with an API answer (open it, save it), it is never a page in the dashboard's origin. */
static void test_api_answers_are_sandboxed(void **state) {
  (void)state;
  char one[64];
  snprintf(one, sizeof one, "/api/requests/%" PRId64, tw_e->binary_id);
  static const char *const exports[] = {"/api/export?format=csv", "/api/export?format=ndjson",
                                        "/api/export?format=har"};
  const char *paths[] = {"/api/requests", one, "/api/stats", "/api/requests/999999",
                         "/api/nothing", exports[0], exports[1], exports[2]};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    tw_reply res = tw_get(paths[i]);
    char *csp = tw_header(&res, "Content-Security-Policy");
    char *nosniff = tw_header(&res, "X-Content-Type-Options");
    char *ct = tw_header(&res, "Content-Type");
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
      char *cd = tw_header(&res, "Content-Disposition");
      assert_non_null(cd);
      assert_true(strncmp(cd, "attachment; filename=\"reqlog-", 29) == 0);
      free(cd);
    }
    free(csp);
    free(nosniff);
    free(ct);
    tw_resp_free(&res);
  }
  printf("checked: every /api/ answer (rows, a binary row, stats, errors, the three exports) "
         "carries CSP sandbox; default-src 'none', nosniff and a non-active type; exports "
         "are attachments\n");
}

static void test_assets_dir(void **state) {
  (void)state;
  char *dir = tu_path(tw_e->dir, "assets");
  assert_int_equal(mkdir(dir, 0700), 0);
  char *file = tu_path(dir, "index.html");
  FILE *f = fopen(file, "w");
  fputs("<!doctype html><title>from the folder</title>", f);
  fclose(f);
  char *css = tu_path(dir, "x.css");
  f = fopen(css, "w");
  fputs("body{}", f);
  fclose(f);
  char *secret = tu_path(tw_e->dir, "secret.txt");
  f = fopen(secret, "w");
  fputs("secret", f);
  fclose(f);
  web_opts o = {.db_path = tw_e->db, .listen = "127.0.0.1:0", .assets_dir = dir};
  web_server *s = NULL;
  assert_int_equal(web_start(&o, &s, NULL), 0);
  tw_reply res = tw_http_at(web_url(s), "GET", "/", NULL, NULL, 0);
  assert_int_equal(res.status, 200);
  assert_non_null(strstr(res.body, "from the folder"));
  tw_resp_free(&res);
  res = tw_http_at(web_url(s), "GET", "/static/x.css", NULL, NULL, 0);
  char *ct = tw_header(&res, "Content-Type");
  assert_string_equal(ct, "text/css; charset=utf-8");
  free(ct);
  tw_resp_free(&res);
  res = tw_http_at(web_url(s), "GET", "/static/..%2Fsecret.txt", NULL, NULL, 0);
  assert_int_equal(res.status, 404);
  assert_null(strstr(res.body, "secret"));
  tw_resp_free(&res);
  web_stop(s);
  printf("checked: --assets-dir serves that folder, with types, and nothing outside it\n");
  free(dir);
  free(file);
  free(css);
  free(secret);
}

static void test_token_mode(void **state) {
  (void)state;
  const char *token = "s3cret-Token_for.tests~1";
  web_opts o = {.db_path = tw_e->db, .listen = "127.0.0.1:0", .token = token};
  web_server *s = NULL;
  assert_int_equal(web_start(&o, &s, NULL), 0);
  assert_string_equal(web_token(s), token);
  const char *u = web_url(s);

  tw_reply res = tw_http_at(u, "GET", "/api/stats", NULL, NULL, 0);
  tw_expect_error(&res, 401, NULL);
  tw_resp_free(&res);
  res = tw_http_at(u, "GET", "/", NULL, NULL, 0);
  tw_expect_error(&res, 401, NULL);
  tw_resp_free(&res);
  const char *wrong[] = {"Authorization: Bearer s3cret-Token_for.tests~2", NULL};
  res = tw_http_at(u, "GET", "/api/stats", wrong, NULL, 0);
  tw_expect_error(&res, 401, NULL);
  tw_resp_free(&res);
  char bearer[128];
  snprintf(bearer, sizeof bearer, "Authorization: Bearer %s", token);
  const char *bh[] = {bearer, NULL};
  res = tw_http_at(u, "GET", "/api/stats", bh, NULL, 0);
  assert_int_equal(res.status, 200);
  tw_resp_free(&res);
  printf("checked: token mode: 401 without auth or with a wrong token, 200 with Bearer\n");

  res = tw_http_at(u, "GET", "/login?token=nope", NULL, NULL, 0);
  tw_expect_error(&res, 401, NULL);
  assert_null(tw_header(&res, "Set-Cookie"));
  tw_resp_free(&res);
  char path[128];
  snprintf(path, sizeof path, "/login?token=%s", token);
  res = tw_http_at(u, "GET", path, NULL, NULL, 0);
  assert_int_equal(res.status, 303);
  char *loc = tw_header(&res, "Location");
  char *cookie = tw_header(&res, "Set-Cookie");
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
  tw_resp_free(&res);
  char ch[160];
  snprintf(ch, sizeof ch, "Cookie: other=1; reqlog_session=%s", token);
  const char *cookies[] = {ch, NULL};
  res = tw_http_at(u, "GET", "/api/requests?limit=1", cookies, NULL, 0);
  assert_int_equal(res.status, 200);
  tw_resp_free(&res);
  const char *bad_cookie[] = {"Cookie: reqlog_session=guess", NULL};
  res = tw_http_at(u, "GET", "/api/requests?limit=1", bad_cookie, NULL, 0);
  tw_expect_error(&res, 401, NULL);
  tw_resp_free(&res);
  printf("checked: the session cookie works; a wrong one gets 401\n");
  web_stop(s);

  /* a non-loopback bind without a token gets one */
  web_opts any = {.db_path = tw_e->db, .listen = "0.0.0.0:0"};
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
  res = tw_http_at(local, "GET", "/api/stats", NULL, NULL, 0);
  tw_expect_error(&res, 401, NULL);
  tw_resp_free(&res);
  web_stop(s);
  printf("checked: listening on 0.0.0.0 without --token generates a 64-hex token and "
         "requires it\n");

  web_opts bad = {.db_path = tw_e->db, .listen = "127.0.0.1:0", .token = "has space"};
  s = NULL;
  assert_int_equal(web_start(&bad, &s, &cause), -1);
  assert_null(s);
  free(cause);
  web_opts nodb = {.db_path = "/nonexistent/x.db", .listen = "127.0.0.1:0"};
  assert_int_equal(web_start(&nodb, &s, &cause), -1);
  assert_non_null(strstr(cause, "no database"));
  free(cause);
  web_opts badlisten = {.db_path = tw_e->db, .listen = "127.0.0.1"};
  assert_int_equal(web_start(&badlisten, &s, &cause), -1);
  free(cause);
  printf("checked: web_start refuses a bad token, a missing database and a bad address\n");
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_host_check),
    cmocka_unit_test(test_security_headers),
    cmocka_unit_test(test_api_answers_are_sandboxed),
    cmocka_unit_test(test_assets_dir),
    cmocka_unit_test(test_token_mode),
  };
  int rc = cmocka_run_group_tests(tests, tw_setup, tw_teardown);
  curl_global_cleanup();
  return rc;
}
