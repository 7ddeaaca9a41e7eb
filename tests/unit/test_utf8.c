/* test_utf8.c: the one UTF-8 checker (recorder/base/utf8.c), each rule as its callers
 * relied on it before they shared it.
 *
 * Plan:
 *   valid_strict       utf8_valid (HAR query strings): well-formed text of 1 to 4 bytes
 *                      passes, NUL too; overlong forms, surrogates, > U+10FFFF, stray
 *                      continuation bytes, 0xF8+ leads and cut sequences fail
 *   printable_shape    utf8_printable (key tails, Basic user names): shape only, so
 *                      overlong forms, surrogates and > U+10FFFF pass; ASCII controls,
 *                      bad shapes and cut sequences fail
 *   body_rules         utf8_scan as prepare_body uses it: NUL fails; a sequence cut at
 *                      the end drops it with UTF8_ALLOW_CUT, fails without; an error
 *                      before the end fails either way
 *   chars              utf8_chars counts lead and ASCII bytes; utf8_is_cont
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/utf8.h"

#define U(s) ((const unsigned char *)(s))
#define VALID(s) utf8_valid(U(s), sizeof(s) - 1)
#define PRINTABLE(s) utf8_printable(U(s), sizeof(s) - 1)

static const unsigned BODY = UTF8_STRICT | UTF8_NO_NUL;
#define BODY_LEN(s, cut) utf8_scan(U(s), sizeof(s) - 1, BODY | ((cut) ? UTF8_ALLOW_CUT : 0u))

static void valid_strict(void **state) {
  (void)state;
  assert_true(VALID(""));
  assert_true(VALID("plain ascii\t\n"));
  assert_true(VALID("a\0b"));                     /* NUL is allowed here */
  assert_true(VALID("\xC2\x80"));                 /* U+0080 */
  assert_true(VALID("\xDF\xBF\xE0\xA0\x80"));     /* U+07FF, U+0800 */
  assert_true(VALID("\xED\x9F\xBF\xEE\x80\x80")); /* U+D7FF, U+E000 */
  assert_true(VALID("\xEF\xBF\xBF\xF0\x90\x80\x80\xF4\x8F\xBF\xBF"));
  assert_false(VALID("\xC0\xAF"));         /* overlong '/' */
  assert_false(VALID("\xC1\xBF"));         /* overlong */
  assert_false(VALID("\xE0\x9F\xBF"));     /* overlong U+07FF */
  assert_false(VALID("\xF0\x8F\xBF\xBF")); /* overlong U+FFFF */
  assert_false(VALID("\xED\xA0\x80"));     /* U+D800 */
  assert_false(VALID("\xED\xBF\xBF"));     /* U+DFFF */
  assert_false(VALID("\xF4\x90\x80\x80")); /* U+110000 */
  assert_false(VALID("\xF7\xBF\xBF\xBF")); /* U+1FFFFF */
  assert_false(VALID("\xF8\x88\x80\x80\x80"));
  assert_false(VALID("\xFF"));
  assert_false(VALID("\x80"));
  assert_false(VALID("a\xBF"));
  assert_false(VALID("\xC3"));        /* cut */
  assert_false(VALID("\xE2\x82"));    /* cut */
  assert_false(VALID("\xF0\x9F\x98")); /* cut */
  assert_false(VALID("\xC3(a"));      /* not a continuation byte */
}

static void printable_shape(void **state) {
  (void)state;
  assert_true(PRINTABLE(""));
  assert_true(PRINTABLE("abc~ #"));
  assert_true(PRINTABLE("\xC3\xA9t\xC3\xA9"));
  assert_true(PRINTABLE("\xC2\x85"));         /* C1 controls are not refused */
  assert_true(PRINTABLE("\xC0\xAF"));         /* overlong: shape only */
  assert_true(PRINTABLE("\xED\xA0\x80"));     /* surrogate: shape only */
  assert_true(PRINTABLE("\xF7\xBF\xBF\xBF")); /* > U+10FFFF: shape only */
  assert_false(PRINTABLE("a\0b"));
  assert_false(PRINTABLE("a\tb"));
  assert_false(PRINTABLE("\x1F"));
  assert_false(PRINTABLE("\x7F"));
  assert_false(PRINTABLE("\x80"));
  assert_false(PRINTABLE("\xF8\x88\x80\x80\x80"));
  assert_false(PRINTABLE("\xE2\x82"));   /* cut */
  assert_false(PRINTABLE("\xE2\x82x")); /* not a continuation byte */
}

static void body_rules(void **state) {
  (void)state;
  assert_int_equal(BODY_LEN("{\"a\":\"\xC3\xA9\"}", 0), 10);
  assert_int_equal(BODY_LEN("a\0b", 0), UTF8_INVALID);
  assert_int_equal(BODY_LEN("a\0b", 1), UTF8_INVALID);
  assert_int_equal(BODY_LEN("ab\xE2\x82", 0), UTF8_INVALID);
  assert_int_equal(BODY_LEN("ab\xE2\x82", 1), 2);
  assert_int_equal(BODY_LEN("ab\xF0", 1), 2);
  /* the lead byte is fewer than its length from the end: the rest goes unchecked */
  assert_int_equal(BODY_LEN("ab\xE2x", 1), 2);
  assert_int_equal(BODY_LEN("\xC3(ab", 1), UTF8_INVALID);
  assert_int_equal(BODY_LEN("\xC0\xAF", 1), UTF8_INVALID);     /* overlong */
  assert_int_equal(BODY_LEN("\xED\xA0\x80", 1), UTF8_INVALID); /* surrogate */
  assert_int_equal(BODY_LEN("\xF4\x90\x80\x80", 1), UTF8_INVALID);
  assert_int_equal(BODY_LEN("\x80" "abc", 1), UTF8_INVALID);
}

static void chars(void **state) {
  (void)state;
  assert_int_equal(utf8_chars("", 0), 0);
  assert_int_equal(utf8_chars("abcd", 4), 4);
  assert_int_equal(utf8_chars("\xC3\xA9t\xE2\x82\xAC\xF0\x9F\x98\x80", 10), 4);
  assert_int_equal(utf8_chars("\xBF\xBF", 2), 0); /* continuation bytes start nothing */
  assert_int_equal(utf8_chars("abcd", 2), 2);
  assert_true(utf8_is_cont(0x80));
  assert_true(utf8_is_cont(0xBF));
  assert_false(utf8_is_cont(0x7F));
  assert_false(utf8_is_cont(0xC0));
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(valid_strict),
    cmocka_unit_test(printable_shape),
    cmocka_unit_test(body_rules),
    cmocka_unit_test(chars),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
