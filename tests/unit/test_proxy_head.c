/* test_proxy_head.c: the recording proxy's pure pieces. Plan: proxy_head_check answers 0,
 * 400 or 501 with a reason for a table of heads (each rule of RFC 9110/9112 it enforces,
 * and what it lets through: the same Content-Length twice, chunked alone, obs-text), and
 * in long values (a bearer token) finds a forbidden byte wherever it sits;
 * proxy_upstream_map_location moves the upstream's URLs into the proxy's space and leaves every
 * other URL alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy_head.h"
#include "proxy/proxy_upstream.h"

typedef struct head_case {
  const char *method;
  const char *fields[4][2]; /* name, value; NULL name ends */
  int folded;               /* the first field was folded */
  int status;
  const char *why;          /* part of the reason */
} head_case;

static int check(const head_case *c, const char **why) {
  proxy_hdr h[4];
  size_t n = 0;
  for (; n < 4 && c->fields[n][0]; n++) {
    h[n].name = c->fields[n][0];
    h[n].nlen = strlen(c->fields[n][0]);
    h[n].value = c->fields[n][1];
    h[n].vlen = strlen(c->fields[n][1]);
    h[n].folded = n == 0 && c->folded;
  }
  return proxy_head_check(c->method, h, n, why);
}

static void test_head_rules(void **state) {
  (void)state;
  static const head_case cases[] = {
    {"GET", {{"Host", "x"}, {"Accept", "*/*"}}, 0, 0, NULL},
    {"PROPFIND", {{"X-A", "caf\xc3\xa9 \tb"}}, 0, 0, NULL}, /* obs-text, SP, HTAB */
    {"GET|touch$IFS'x'|", {{"Host", "x"}}, 0, 0, NULL},    /* every byte a tchar */
    {"GET;touch${IFS}x", {{"Host", "x"}}, 0, 400, "method"},
    {"G\"T", {{"Host", "x"}}, 0, 400, "method"},
    {"", {{"Host", "x"}}, 0, 400, "method"},
    {"GET", {{"X A", "b"}}, 0, 400, "header name"},
    {"GET", {{"X-A ", "b"}}, 0, 400, "header name"},
    {"GET", {{"", "b"}}, 0, 400, "header name"},
    {"GET", {{"X-A", "a\rb"}}, 0, 400, "bare CR"},
    {"GET", {{"X-A", "a\nb"}}, 0, 400, "control character"},
    {"GET", {{"X-A", "a\x7f"}}, 0, 400, "control character"},
    {"GET", {{"X-A", "a"}}, 1, 400, "obs-fold"},
    {"POST", {{"Content-Length", "3"}, {"content-length", "3"}}, 0, 0, NULL},
    {"POST", {{"Content-Length", "3"}, {"Content-Length", "5"}}, 0, 400, "conflicting"},
    {"POST", {{"Content-Length", "3, 3"}}, 0, 400, "decimal"},
    {"POST", {{"Content-Length", "+3"}}, 0, 400, "decimal"},
    {"POST", {{"Content-Length", ""}}, 0, 400, "decimal"},
    {"POST", {{"Content-Length", "99999999999999999999999"}}, 0, 400, "decimal"},
    {"POST", {{"Transfer-Encoding", "chunked"}}, 0, 0, NULL},
    {"POST", {{"Transfer-Encoding", "CHUNKED"}}, 0, 0, NULL},
    {"POST", {{"Transfer-Encoding", "gzip"}, {"Content-Length", "3"}}, 0, 501, "transfer coding"},
    {"POST", {{"Transfer-Encoding", "gzip, chunked"}}, 0, 501, "transfer coding"},
    {"POST", {{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}}, 0, 400,
     "chunked, given once"},
    {"POST", {{"Transfer-Encoding", "chunked, chunked"}}, 0, 400, "chunked, given once"},
    {"POST", {{"Transfer-Encoding", "chunked;x=1"}}, 0, 400, "chunked, given once"},
    {"POST", {{"Transfer-Encoding", ""}}, 0, 400, "chunked, given once"},
    {"POST", {{"Transfer-Encoding", "chunked"}, {"Content-Length", "3"}}, 0, 400,
     "both Transfer-Encoding and Content-Length"},
    {"GET", {{"Host", "a"}, {"host", "b"}}, 0, 400, "more than one Host"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *why = NULL;
    int st = check(&cases[i], &why);
    if (st != cases[i].status || (cases[i].why && (!why || !strstr(why, cases[i].why))))
      fprintf(stderr, "case %zu (%s): %d '%s'\n", i, cases[i].method, st, why ? why : "");
    assert_int_equal(st, cases[i].status);
    if (cases[i].why)
      assert_non_null(strstr(why, cases[i].why));
  }
  assert_int_equal(proxy_head_check(NULL, NULL, 0, NULL), 400);
  printf("checked: %zu heads get the status and reason each rule gives\n",
         sizeof cases / sizeof cases[0]);
}

/* A value as long as a bearer JWT: every byte that is not allowed is found wherever it
 * sits (at each offset, so each position within a word the scan reads at once), and
 * allowed bytes (HTAB, SP, obs-text, 0x7e, 0x20) pass at any offset. */
static void test_long_values(void **state) {
  (void)state;
  char v[1100];
  memset(v, 'x', sizeof v);
  proxy_hdr h = {"Authorization", 13, v, sizeof v, 0};
  const char *why = NULL;
  assert_int_equal(proxy_head_check("GET", &h, 1, &why), 0);
  static const unsigned char bad[] = {'\r', '\n', '\0', 0x01, 0x08, 0x0a, 0x1f, 0x7f};
  static const unsigned char good[] = {'\t', ' ', 0x80, 0xff, 0x7e, 0x21, 0xc3};
  size_t checked = 0;
  for (size_t len = 1000; len < 1018; len++) {
    h.vlen = len;
    for (size_t at = 0; at < len; at += at < 40 || at > len - 40 ? 1 : 37) {
      for (size_t b = 0; b < sizeof bad; b++) {
        v[at] = (char)bad[b];
        why = NULL;
        int st = proxy_head_check("GET", &h, 1, &why);
        if (st != 400)
          fprintf(stderr, "byte 0x%02x at %zu of %zu: %d\n", bad[b], at, len, st);
        assert_int_equal(st, 400);
        assert_non_null(strstr(why, bad[b] == '\r' ? "bare CR" : "control character"));
        checked++;
      }
      for (size_t g = 0; g < sizeof good; g++) {
        v[at] = (char)good[g];
        assert_int_equal(proxy_head_check("GET", &h, 1, &why), 0);
        checked++;
      }
      v[at] = 'x';
    }
  }
  printf("checked: %zu long values (1000-1017 bytes) with one byte changed at each offset "
         "near their ends: every control byte found, HTAB/SP/obs-text passed\n", checked);
}

static void test_map_location(void **state) {
  (void)state;
  proxy_upstream u, root;
  assert_int_equal(proxy_upstream_parse("http://API.example:8000/public/v1/", &u, NULL), REQLOG_OK);
  assert_string_equal(u.path, "/public/v1");
  assert_string_equal(u.authority, "API.example:8000"); /* as libcurl sends it */
  assert_int_equal(u.port, 8000);
  assert_int_equal(proxy_upstream_parse("https://api.example", &root, NULL), REQLOG_OK);
  assert_string_equal(root.path, "");
  assert_string_equal(root.authority, "api.example");
  assert_int_equal(root.port, 443);
  static const char *const cases[][3] = {
    /* value, expected (NULL: left alone), upstream: u or root */
    {"/public/v1/x?q=1", "/x?q=1", "u"},
    {"/public/v1", "/", "u"},
    {"/public/v1?z", "/?z", "u"},
    {"/public/v10/x", NULL, "u"},
    {"/other/x", NULL, "u"},
    {"x/y", NULL, "u"},
    {"//api.example:8000/public/v1/x", NULL, "u"},
    {"http://api.example:8000/public/v1/x#f", "http://P:1/x#f", "u"},
    {"HTTP://Api.Example:8000/public/v1", "http://P:1/", "u"},
    {"http://api.example:8001/public/v1/x", NULL, "u"},
    {"http://api.example/public/v1/x", NULL, "u"},
    {"https://api.example:8000/public/v1/x", NULL, "u"},
    {"http://user@api.example:8000/public/v1/x", NULL, "u"},
    {"http://api.example:8000", NULL, "u"},
    {"http://api.example.evil:8000/public/v1/x", NULL, "u"},
    {"https://api.example/x", "http://P:1/x", "root"},
    {"https://api.example:443?q", "http://P:1/?q", "root"},
    {"https://api.example", "http://P:1/", "root"},
    {"/x", NULL, "root"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const proxy_upstream *up = strcmp(cases[i][2], "u") == 0 ? &u : &root;
    char *got = proxy_upstream_map_location(up, cases[i][0], "http://P:1");
    if ((got == NULL) != (cases[i][1] == NULL) || (got && strcmp(got, cases[i][1]) != 0))
      fprintf(stderr, "%s: got %s\n", cases[i][0], got ? got : "(left alone)");
    if (cases[i][1])
      assert_string_equal(got, cases[i][1]);
    else
      assert_null(got);
    free(got);
  }
  proxy_upstream_free(&u);
  proxy_upstream_free(&root);
  printf("checked: %zu Location values mapped or left alone\n", sizeof cases / sizeof cases[0]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_head_rules),
    cmocka_unit_test(test_long_values),
    cmocka_unit_test(test_map_location),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
