/* test_taint.c: secrets learnt from what redaction removed are scrubbed from the rest of
 * a row. Plan: learning keeps only removed words of 4+ bytes; scrubbing replaces every
 * occurrence, keeps JSON strings valid, returns NULL when nothing matches; Basic
 * credentials teach their decoded password. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "privacy/taint.h"

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

/* Basic credentials are learnt decoded: an API that quotes the password back ("wrong
 * password hunter2-xyz") must not put it on disk, though the header held only base64. */
static void test_learns_basic_password(void **state) {
  (void)state;
  taint t = {0};
  const char *orig = "Basic YWxpY2U6aHVudGVyMi14eXo="; /* alice:hunter2-xyz */
  const char *red = "Basic alice:[REDACTED]";
  taint_learn(&t, orig, strlen(orig), red, strlen(red));
  const char *body = "{\"message\":\"wrong password hunter2-xyz for alice\"}";
  char *out = NULL;
  size_t n = 0;
  assert_int_equal(taint_scrub(&t, body, strlen(body), &out, &n), REQLOG_OK);
  assert_non_null(out);
  assert_string_equal(out, "{\"message\":\"wrong password [REDACTED] for alice\"}");
  free(out);
  /* the base64 itself is learnt too, as any removed word */
  assert_int_equal(taint_scrub(&t, orig, strlen(orig), &out, &n), REQLOG_OK);
  assert_non_null(out);
  assert_null(strstr(out, "YWxpY2U6"));
  free(out);
  taint_free(&t);
  /* an empty password: the user name is the secret (a "sk_live_...:" key) */
  orig = "basic  c2tfbGl2ZV9hYmMxMjM6";
  red = "basic [REDACTED]";
  taint_learn(&t, orig, strlen(orig), red, strlen(red));
  const char *echo = "key sk_live_abc123 is not valid";
  assert_int_equal(taint_scrub(&t, echo, strlen(echo), &out, &n), REQLOG_OK);
  assert_non_null(out);
  assert_string_equal(out, "key [REDACTED] is not valid");
  free(out);
  taint_free(&t);
  /* not Basic, or not base64: nothing decoded, nothing more learnt */
  orig = "Basicish YWxpY2U6aHVudGVyMi14eXo=";
  taint_learn(&t, orig, strlen(orig), "[REDACTED]", 10);
  assert_int_equal(taint_scrub(&t, body, strlen(body), &out, &n), REQLOG_OK);
  assert_null(out);
  taint_free(&t);
  printf("checked: Basic credentials teach the decoded password (or the user name when the "
         "password is empty), which is then scrubbed where the API quotes it\n");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_learns_removed_words_only),
    cmocka_unit_test(test_scrubs_every_occurrence),
    cmocka_unit_test(test_learns_basic_password),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
