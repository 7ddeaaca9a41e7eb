/* test_taint.c: secrets learnt from what redaction removed are scrubbed from the rest of
 * a row. Plan: learning keeps only removed words of 4+ bytes; scrubbing replaces every
 * occurrence, keeps JSON strings valid, returns NULL when nothing matches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "taint.h"

static void test_learns_removed_words_only(void **state) {
  (void)state;
  taint t = {0};
  const char *orig = "{\"user\":\"ann\",\"password\":\"hunter2-xyz\",\"pin\":\"123\"}";
  const char *red = "{\"user\":\"ann\",\"password\":\"[REDACTED]\",\"pin\":\"[REDACTED]\"}";
  taint_learn(&t, orig, strlen(orig), red, strlen(red));
  assert_int_equal(t.n, 1); /* "123" is shorter than 4 bytes; keys and "ann" were kept */
  assert_string_equal(t.tok[0], "hunter2-xyz");
  taint_learn_cookie(&t, "sid=COOKIEVAL99; theme=dark", 0);
  assert_int_equal(t.n, 3); /* + COOKIEVAL99 and dark: cookie values, never their names */
  assert_string_equal(t.tok[1], "COOKIEVAL99");
  taint_learn_cookie(&t, "session=SESSVAL123; HttpOnly; Path=/session", 1);
  assert_int_equal(t.n, 4); /* + SESSVAL123 only: not the name, not the attributes */
  assert_string_equal(t.tok[3], "SESSVAL123");
  taint_free(&t);
  printf("checked: only the words redaction removed, of 4+ bytes, are learnt\n");
}

static void test_scrubs_every_occurrence(void **state) {
  (void)state;
  taint t = {0};
  taint_add(&t, "sk_live_abcdef123456", 20);
  taint_add(&t, "hunter2-xyz", 11);
  const char *body = "{\"echo\":\"Bearer sk_live_abcdef123456\",\"body\":\"{\\\"password\\\":\\\"hunter2-xyz\\\"}\","
                     "\"again\":\"sk_live_abcdef123456\"}";
  char *out = NULL;
  size_t n = 0;
  assert_int_equal(taint_scrub(&t, body, strlen(body), &out, &n), REQLOG_OK);
  assert_non_null(out);
  assert_int_equal(strlen(out), n);
  assert_null(strstr(out, "sk_live"));
  assert_null(strstr(out, "hunter2"));
  assert_non_null(strstr(out, "\"again\":\"[REDACTED]\""));
  free(out);
  assert_int_equal(taint_scrub(&t, "nothing here", 12, &out, &n), REQLOG_OK);
  assert_null(out);
  taint_free(&t);
  printf("checked: every occurrence replaced, JSON strings stay strings, NULL when clean\n");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_learns_removed_words_only),
    cmocka_unit_test(test_scrubs_every_occurrence),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
