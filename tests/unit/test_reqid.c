/* test_reqid.c: the API's request id picked from a row's stored response headers
 * (recorder/base/reqid.c).
 *
 * Plan:
 *   list_parse   names lower-cased, blanks trimmed; empty names, a blank inside a name,
 *                a non-token, 17 names, an over-long list refused with OUT unchanged
 *   pick         the list's order wins over the headers' order; names in any case;
 *                redacted, empty, over-long and control-character values skipped (the
 *                next name is tried); no match, not JSON, not an array: NULL
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/reqid.h"

static void list_parse(void **state) {
  (void)state;
  char out[REQID_LIST_MAX + 1] = "unchanged";
  assert_int_equal(reqid_list_parse(" X-Request-Id , Trace_ID,a", out), 0);
  assert_string_equal(out, "x-request-id,trace_id,a");
  assert_int_equal(reqid_list_parse(REQID_DEFAULT, out), 0);
  assert_string_equal(out, REQID_DEFAULT);
  strcpy(out, "unchanged");
  static const char *const bad[] = {"", " ", "a,,b", "a,", ",a", "a b", "a:b", "x(y)", NULL};
  for (size_t i = 0; bad[i]; i++) {
    assert_int_equal(reqid_list_parse(bad[i], out), -1);
    assert_string_equal(out, "unchanged");
  }
  assert_int_equal(reqid_list_parse(NULL, out), -1);
  char many[128] = "";
  for (int i = 0; i < 17; i++)
    strcat(many, i ? ",h" : "h");
  assert_int_equal(reqid_list_parse(many, out), -1);
  many[strlen(many) - 2] = '\0'; /* 16 names */
  assert_int_equal(reqid_list_parse(many, out), 0);
  char longer[REQID_LIST_MAX + 8];
  memset(longer, 'a', sizeof longer - 1);
  longer[sizeof longer - 1] = '\0';
  assert_int_equal(reqid_list_parse(longer, out), -1);
}

static void expect_pick(const char *list, const char *headers, const char *want) {
  char *got = reqid_pick(list, headers);
  if (want) {
    assert_non_null(got);
    assert_string_equal(got, want);
  } else {
    assert_null(got);
  }
  free(got);
}

static void pick(void **state) {
  (void)state;
  const char *h = "[[\"Date\",\"x\"],[\"X-Trace-Id\",\"t-1\"],[\"x-request-id\",\"r-1\"]]";
  expect_pick(REQID_DEFAULT, h, "r-1"); /* the list's order, not the headers' */
  expect_pick("x-trace-id,x-request-id", h, "t-1");
  expect_pick("request-id", h, NULL);
  expect_pick("x-request-id", "[[\"X-REQUEST-ID\",\"R-2\"]]", "R-2");
  /* redacted, empty, control characters, too long: the next name is tried */
  expect_pick("x-session-token,x-request-id",
              "[[\"X-Session-Token\",\"[REDACTED]\"],[\"X-Request-Id\",\"r-3\"]]", "r-3");
  expect_pick("a,b,c", "[[\"a\",\"\"],[\"b\",\"x\\u0001y\"],[\"c\",\"ok\"]]", "ok");
  char big[400];
  snprintf(big, sizeof big, "[[\"a\",\"%0300d\"]]", 0);
  expect_pick("a", big, NULL);
  /* not what a stored header list is */
  expect_pick("a", "not json \"a\"", NULL);
  expect_pick("a", "{\"a\":\"b\"}", NULL);
  expect_pick("a", "[[\"a\"],[\"a\",5],\"a\"]", NULL);
  expect_pick("a", NULL, NULL);
  expect_pick("", h, NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(list_parse),
    cmocka_unit_test(pick),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
