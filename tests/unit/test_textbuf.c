/* test_textbuf.c: the byte buffer of exported and served text and its writers
 * (recorder/base/textbuf.c), in both of its kinds.
 *
 * Plan:
 *   growing_writes   bytes, strings, single bytes and integers (0, negatives, the int64
 *                    limits) append in order; tb_terminate() puts a NUL after LEN
 *   ms_forms         microseconds as milliseconds, fixed and shortest, negatives, and
 *                    the %.17g form from 2^53 on
 *   base64_vectors   RFC 4648's test vectors, and bytes 0..255
 *   json_strings     escapes as cJSON prints them, for every byte 1..255 and mixes
 *   sinking          a 64-byte buffer gives the sink exactly what a growing buffer holds,
 *                    for long strings, base64 and JSON strings; a sink that refuses
 *                    stops the buffer and is not called again
 *   public_buf       tb_from_buf()/tb_to_buf() continue a reqlog_buf; reqlog_buf_add()
 *                    appends and refuses bad arguments; an impossible size sets nomem
 *                    and drops later writes
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "base/textbuf.h"

/* The text of T (growing) as a NUL-terminated string, which T keeps. */
static const char *text_of(textbuf *t) {
  assert_false(t->nomem);
  tb_terminate(t);
  assert_non_null(t->data);
  return t->data;
}

static void growing_writes(void **state) {
  (void)state;
  textbuf t = {0};
  tb_bytes(&t, "ab\0c", 4);
  tb_str(&t, "-");
  tb_byte(&t, 'x');
  tb_int(&t, 0);
  tb_byte(&t, ' ');
  tb_int(&t, -42);
  tb_byte(&t, ' ');
  tb_int(&t, INT64_MIN);
  tb_byte(&t, ' ');
  tb_int(&t, INT64_MAX);
  tb_bytes(&t, NULL, 0);
  assert_int_equal(t.len, 4 + 1 + 1 + 1 + 1 + 3 + 1 + 20 + 1 + 19);
  assert_memory_equal(t.data, "ab\0c", 4);
  assert_string_equal(text_of(&t) + 4, "-x0 -42 -9223372036854775808 9223372036854775807");

  /* Many small writes cross several reallocations. */
  textbuf big = {0};
  for (int i = 0; i < 5000; i++)
    tb_byte(&big, (char)('a' + i % 26));
  assert_int_equal(big.len, 5000);
  assert_true(big.cap > big.len);
  for (int i = 0; i < 5000; i++)
    assert_int_equal(big.data[i], 'a' + i % 26);
  free(big.data);
  free(t.data);
  printf("checked: bytes with a NUL, strings, bytes and int64 limits in order; 5000 bytes "
         "across reallocations\n");
}

/* tb_ms(US, FIXED) as a string. */
static void expect_ms(int64_t us, int fixed, const char *want) {
  textbuf t = {0};
  tb_ms(&t, us, fixed);
  const char *got = text_of(&t);
  if (strcmp(got, want) != 0)
    print_error("tb_ms(%lld, %d) = '%s', want '%s'\n", (long long)us, fixed, got, want);
  assert_string_equal(got, want);
  free(t.data);
}

static void ms_forms(void **state) {
  (void)state;
  expect_ms(0, 0, "0");
  expect_ms(0, 1, "0.000");
  expect_ms(12345, 0, "12.345");
  expect_ms(12000, 0, "12");
  expect_ms(12000, 1, "12.000");
  expect_ms(1500, 0, "1.5");
  expect_ms(1500, 1, "1.500");
  expect_ms(1, 0, "0.001");
  expect_ms(-1, 0, "-0.001");
  expect_ms(-2500, 1, "-2.500");
  expect_ms(INT64_C(9007199254740991), 0, "9007199254740.991"); /* 2^53 - 1 */
  expect_ms(INT64_C(9007199254740991), 1, "9007199254740.991");
  char want[40];
  snprintf(want, sizeof want, "%.17g", (double)INT64_MAX / 1000.0);
  expect_ms(INT64_MAX, 0, want);
  expect_ms(INT64_MAX, 1, "9223372036854775.807");
  expect_ms(INT64_MIN, 1, "-9223372036854775.808");
  printf("checked: milliseconds fixed and shortest, negatives, 2^53 - 1 exact, %%.17g above\n");
}

/* Standard base64 of DATA (N bytes) through tb_base64(). */
static char *base64(const void *data, size_t n) {
  textbuf t = {0};
  tb_base64(&t, data, n);
  tb_byte(&t, '\0');
  assert_false(t.nomem);
  return t.data;
}

static void base64_vectors(void **state) {
  (void)state;
  static const char *const vectors[][2] = {
    {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
    char *got = base64(vectors[i][0], strlen(vectors[i][0]));
    assert_string_equal(got, vectors[i][1]);
    free(got);
  }
  unsigned char all[256];
  for (int i = 0; i < 256; i++)
    all[i] = (unsigned char)i;
  char *got = base64(all, sizeof all);
  assert_int_equal(strlen(got), 344);
  assert_memory_equal(got, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g", 44);
  assert_string_equal(got + 340, "/w==");
  free(got);
  printf("checked: RFC 4648 base64 vectors; bytes 0..255\n");
}

/* tb_json_string(S) equals cJSON's printing of S. */
static void expect_like_cjson(const char *s) {
  cJSON *str = cJSON_CreateString(s);
  assert_non_null(str);
  char *want = cJSON_PrintUnformatted(str);
  assert_non_null(want);
  textbuf t = {0};
  tb_json_string(&t, s);
  const char *got = text_of(&t);
  if (strcmp(got, want) != 0)
    print_error("tb_json_string: '%s', cJSON: '%s'\n", got, want);
  assert_string_equal(got, want);
  free(t.data);
  cJSON_free(want);
  cJSON_Delete(str);
}

static void json_strings(void **state) {
  (void)state;
  expect_like_cjson("");
  expect_like_cjson("plain");
  expect_like_cjson("quote \" backslash \\ slash /");
  expect_like_cjson("\b\f\n\r\t\x01\x1f\x7f");
  expect_like_cjson("caf\xc3\xa9 \xe2\x80\xa6 \xf0\x9f\x98\x80");
  char one[2] = {0, 0};
  for (int c = 1; c < 256; c++) {
    one[0] = (char)c;
    expect_like_cjson(one);
  }
  textbuf t = {0};
  tb_json_string(&t, "\xff\xfe not UTF-8");
  assert_string_equal(text_of(&t), "\"\xff\xfe not UTF-8\"");
  free(t.data);
  printf("checked: JSON strings as cJSON prints them for every byte 1..255 and mixes; "
         "invalid UTF-8 kept as it is\n");
}

/* A sink gathering what it is handed in a growing buffer; refuses after REFUSE_AFTER
 * calls (-1: never). */
typedef struct sink_log {
  textbuf got;
  int calls;
  int refuse_after;
} sink_log;

static int log_sink(void *ctx, const char *data, size_t len) {
  sink_log *s = ctx;
  assert_true(len > 0);
  s->calls++;
  if (s->refuse_after >= 0 && s->calls > s->refuse_after)
    return -1;
  tb_bytes(&s->got, data, len);
  return 0;
}

/* Writes the same mix of text into T. */
static void write_mix(textbuf *t) {
  char line[300];
  for (size_t i = 0; i < sizeof line - 1; i++)
    line[i] = (char)('A' + i % 26);
  line[sizeof line - 1] = '\0';
  unsigned char bin[301];
  for (size_t i = 0; i < sizeof bin; i++)
    bin[i] = (unsigned char)(i * 7);
  for (int round = 0; round < 3; round++) {
    tb_str(t, line);
    tb_byte(t, '\n');
    tb_base64(t, bin, sizeof bin - (size_t)round);
    tb_int(t, INT64_MIN + round);
    tb_ms(t, 123456789 + round, round == 1);
    tb_json_string(t, "tab\there \"quoted\" \x01 caf\xc3\xa9");
  }
}

static void sinking(void **state) {
  (void)state;
  textbuf whole = {0};
  write_mix(&whole);
  const char *want = text_of(&whole);

  char small[64];
  sink_log log = {.refuse_after = -1};
  textbuf t = {.data = small, .cap = sizeof small, .sink = log_sink, .sink_ctx = &log};
  write_mix(&t);
  tb_flush(&t);
  assert_int_equal(t.len, 0);
  assert_false(t.stopped);
  assert_true(log.calls > 10);
  assert_int_equal(log.got.len, whole.len);
  assert_string_equal(text_of(&log.got), want);
  tb_flush(&t); /* nothing gathered: the sink is not called */
  int calls = log.calls;
  tb_flush(&t);
  assert_int_equal(log.calls, calls);
  free(log.got.data);

  sink_log refusing = {.refuse_after = 1};
  textbuf r = {.data = small, .cap = sizeof small, .sink = log_sink, .sink_ctx = &refusing};
  write_mix(&r);
  tb_flush(&r);
  assert_true(r.stopped);
  assert_int_equal(refusing.calls, 2);       /* one taken, one refused, then no more */
  assert_int_equal(refusing.got.len, sizeof small);
  assert_memory_equal(refusing.got.data, want, sizeof small);
  free(refusing.got.data);
  free(whole.data);
  printf("checked: a 64-byte sinking buffer hands over exactly the growing text (%zu bytes, "
         "%d calls); a refusing sink stops it after its first refusal\n", whole.len, calls);
}

static void public_buf(void **state) {
  (void)state;
  reqlog_buf b = {0};
  assert_int_equal(reqlog_buf_add(&b, "abc", 3), REQLOG_OK);
  assert_int_equal(reqlog_buf_add(&b, "", 0), REQLOG_OK);
  assert_int_equal(reqlog_buf_add(&b, NULL, 1), REQLOG_ERR_ARG);
  assert_int_equal(reqlog_buf_add(NULL, "x", 1), REQLOG_ERR_ARG);
  assert_int_equal(b.len, 3);
  assert_string_equal(b.data, "abc");

  textbuf t = tb_from_buf(&b);
  tb_str(&t, "def");
  tb_int(&t, 42);
  tb_terminate(&t);
  tb_to_buf(&t, &b);
  assert_int_equal(b.len, 8);
  assert_string_equal(b.data, "abcdef42");
  reqlog_buf_free(&b);
  assert_null(b.data);
  assert_int_equal(b.len + b.cap, 0);
  reqlog_buf_free(NULL);

  textbuf n = {0};
  tb_str(&n, "kept");
  assert_null(tb_reserve(&n, SIZE_MAX / 2));
  assert_true(n.nomem);
  tb_str(&n, " dropped");
  tb_int(&n, 1);
  assert_int_equal(n.len, 4);
  assert_memory_equal(n.data, "kept", 4);
  free(n.data);
  printf("checked: reqlog_buf_add() appends and refuses NULL; a textbuf continues a "
         "reqlog_buf; an impossible size sets nomem and drops later writes\n");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(growing_writes),
    cmocka_unit_test(ms_forms),
    cmocka_unit_test(base64_vectors),
    cmocka_unit_test(json_strings),
    cmocka_unit_test(sinking),
    cmocka_unit_test(public_buf),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
