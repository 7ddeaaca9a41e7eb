/* test_timeparse.c: reqlog_parse_time() and reqlog_parse_duration() (recorder/base/timeparse.c).
 *
 * Plan:
 *   iso_forms         every accepted ISO 8601 form gives the exact Unix microseconds
 *   iso_bad           malformed dates, out-of-range fields and offsets -> REQLOG_ERR_ARG
 *   relative_forms    "30s" "15m" "24h" "7d" "2w" are now minus that age
 *   duration_forms    each unit, leading zeros, surrounding blanks; the largest value
 *   duration_bad      zero, no unit, unknown or upper-case unit, sign, overflow
 *   round_trip        util_format_time()'s output parses back to the same microseconds
 *   null_args         NULL text or result pointer -> REQLOG_ERR_ARG
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "reqlog.h"
#include "base/util.h"

#define S INT64_C(1000000)
#define T20261127 (INT64_C(1795737600) * S)               /* 2026-11-27T00:00:00Z */
#define T2104 (INT64_C(1795813445) * S)                   /* 2026-11-27T21:04:05Z */

typedef struct time_case {
  const char *text;
  int64_t want;
} time_case;

static void iso_forms(void **state) {
  static const time_case cases[] = {
    {"2026-11-27", T20261127},
    {"2026-11-27T21:04:05", T2104},
    {"2026-11-27T21:04:05Z", T2104},
    {"2026-11-27t21:04:05z", T2104},
    {"2026-11-27 21:04:05", T2104},
    {"2026-11-27T21:04", T2104 - 5 * S},
    {"2026-11-27T21:04Z", T2104 - 5 * S},
    {"2026-11-27T21:04:05.1Z", T2104 + 100000},
    {"2026-11-27T21:04:05.123456Z", T2104 + 123456},
    {"2026-11-27T21:04:05,123456Z", T2104 + 123456},
    {"2026-11-27T21:04:05.123456789Z", T2104 + 123456},
    {"2026-11-27T21:04:05.000001", T2104 + 1},
    {"2026-11-27T23:04:05+02:00", T2104},
    {"2026-11-27T23:04:05+0200", T2104},
    {"2026-11-27T23:04:05+02", T2104},
    {"2026-11-28T02:34:05.5+05:30", T2104 + 500000},
    {"2026-11-27T15:04:05-06:00", T2104},
    {"2026-11-27T21:04:05-00:00", T2104},
    {"  2026-11-27T21:04:05Z  ", T2104},
    {"2024-02-29", INT64_C(1709164800) * S},
    {"2000-02-29", INT64_C(951782400) * S},
    {"1970-01-01", 0},
    {"1969-12-31T23:59:59.5Z", -S / 2},
    {"9999-12-31T23:59:59Z", INT64_C(253402300799) * S},
    {"0001-01-01", INT64_C(-62135596800) * S},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int64_t got = 0;
    reqlog_err err = reqlog_parse_time(cases[i].text, 0, &got);
    if (err != REQLOG_OK || got != cases[i].want)
      print_error("'%s': err %d, got %lld, want %lld\n", cases[i].text, err,
                  (long long)got, (long long)cases[i].want);
    assert_int_equal(err, REQLOG_OK);
    assert_true(got == cases[i].want);
    printf("checked: parse_time('%s') = %lld\n", cases[i].text, (long long)got);
  }
}

static void iso_bad(void **state) {
  static const char *const bad[] = {
    "", "   ", "yesterday", "now", "2026", "2026-11", "2026-1-27", "26-11-27", "2026/11/27",
    "2026-13-01", "2026-00-10", "2026-11-00", "2026-11-31", "2026-02-29", "2026-02-30",
    "1900-02-29", "2026-11-27T", "2026-11-27T21", "2026-11-27T21:4", "2026-11-27T24:00:00",
    "2026-11-27T23:60:00", "2026-11-27T23:59:60", "2026-11-27T21:04:05.",
    "2026-11-27T21:04:05.1234567890", "2026-11-27T21:04:05+2", "2026-11-27T21:04:05+24:00",
    "2026-11-27T21:04:05+02:60", "2026-11-27T21:04:05+02:", "2026-11-27T21:04:05 +02:00",
    "2026-11-27T21:04:05ZZ", "2026-11-27T21:04:05Z junk", "2026-11-27Z", "2026-11-27X21:04:05",
    "2026-11-27T21:04:05.12a", "+2026-11-27", "2026-11-27T21:04:05.123+", "1700000000",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int64_t got = 42;
    reqlog_err err = reqlog_parse_time(bad[i], T2104, &got);
    if (err != REQLOG_ERR_ARG)
      print_error("'%s' was accepted as %lld\n", bad[i], (long long)got);
    assert_int_equal(err, REQLOG_ERR_ARG);
    printf("checked: parse_time('%s') is REQLOG_ERR_ARG\n", bad[i]);
  }
}

static void relative_forms(void **state) {
  static const time_case cases[] = {
    {"30s", T2104 - 30 * S},
    {"15m", T2104 - 15 * 60 * S},
    {"24h", T2104 - 24 * 3600 * S},
    {"7d", T2104 - 7 * 86400 * S},
    {"2w", T2104 - 14 * 86400 * S},
    {" 1h ", T2104 - 3600 * S},
    {"90m", T2104 - 5400 * S},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int64_t got = 0;
    assert_int_equal(reqlog_parse_time(cases[i].text, T2104, &got), REQLOG_OK);
    assert_true(got == cases[i].want);
    printf("checked: parse_time('%s', now) = now - %lld s\n", cases[i].text,
           (long long)((T2104 - got) / S));
  }
  /* An age that reaches before INT64_MIN is refused, not wrapped. */
  int64_t got = 0;
  assert_int_equal(reqlog_parse_time("1000w", INT64_MIN + 1, &got), REQLOG_ERR_ARG);
  printf("checked: an age before the smallest time is REQLOG_ERR_ARG\n");
}

static void duration_forms(void **state) {
  static const time_case cases[] = {
    {"1s", S},
    {"45s", 45 * S},
    {"15m", 900 * S},
    {"12h", 12 * 3600 * S},
    {"30d", 30 * 86400 * S},
    {"2w", 14 * 86400 * S},
    {"007m", 7 * 60 * S},
    {"\t30d ", 30 * 86400 * S},
    {"9223372036854s", INT64_C(9223372036854) * S},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int64_t got = 0;
    assert_int_equal(reqlog_parse_duration(cases[i].text, &got), REQLOG_OK);
    assert_true(got == cases[i].want);
    printf("checked: parse_duration('%s') = %lld us\n", cases[i].text, (long long)got);
  }
}

static void duration_bad(void **state) {
  static const char *const bad[] = {
    "", " ", "0d", "0s", "000m", "30", "d", "30x", "30M", "30D", "30 d", "-5m", "+5m",
    "1.5h", "5mm", "m5", "9223372036855s", "99999999999999999999999s", "15m ago",
    "2026-11-27",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int64_t got = 42;
    assert_int_equal(reqlog_parse_duration(bad[i], &got), REQLOG_ERR_ARG);
    assert_true(got == 42);
    printf("checked: parse_duration('%s') is REQLOG_ERR_ARG\n", bad[i]);
  }
}

static void round_trip(void **state) {
  static const int64_t times[] = {0, 1, T2104 + 123456, T20261127 - 1, -S / 2, -1};
  for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
    char iso[32];
    util_format_time(times[i], iso);
    int64_t got = 0;
    assert_int_equal(reqlog_parse_time(iso, 0, &got), REQLOG_OK);
    assert_true(got == times[i]);
    printf("checked: %lld -> %s -> %lld\n", (long long)times[i], iso, (long long)got);
  }
}

static void null_args(void **state) {
  int64_t got;
  assert_int_equal(reqlog_parse_time(NULL, 0, &got), REQLOG_ERR_ARG);
  assert_int_equal(reqlog_parse_time("2026-11-27", 0, NULL), REQLOG_ERR_ARG);
  assert_int_equal(reqlog_parse_duration(NULL, &got), REQLOG_ERR_ARG);
  assert_int_equal(reqlog_parse_duration("1d", NULL), REQLOG_ERR_ARG);
  printf("checked: NULL arguments are REQLOG_ERR_ARG\n");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(iso_forms),      cmocka_unit_test(iso_bad),
    cmocka_unit_test(relative_forms), cmocka_unit_test(duration_forms),
    cmocka_unit_test(duration_bad),   cmocka_unit_test(round_trip),
    cmocka_unit_test(null_args),
  };
  return cmocka_run_group_tests_name("timeparse", tests, NULL, NULL);
}
