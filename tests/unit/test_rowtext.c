/* test_rowtext.c: the row model written straight as text (recorder/read/rowtext.c, textbuf.c,
 * query_text.c) against the cJSON object of row_json() (recorder/read/row.c), on a real
 * SQLite database with the library's embedded schema.
 *
 * Every row is checked the same way (check_row): the text parses with cJSON, is
 * cJSON_Compare-equal to row_json()'s object, and printed by cJSON gives exactly what
 * row_json()'s object prints (so every number reads back as the very same double); it
 * holds no raw byte below 0x20 and no NUL. Where the stored JSON is compact and the
 * numbers are ordinary, the text is also byte for byte what cJSON prints today.
 *
 * Plan:
 *   cases_as_data    one base row changed by an UPDATE per case: NULLs, unicode, invalid
 *                    UTF-8, control characters, quotes, embedded NUL, big and negative
 *                    numbers, numbers stored as text or real, times before 1970, binary
 *                    and empty bodies, truncated flags, stored headers / error_fields that
 *                    are copied, re-printed (numbers, escapes, newlines, deep nesting) or
 *                    replaced ([] / null: not JSON, wrong type, bad surrogates, garbage)
 *   random_rows      2,000 rows of random bytes, numbers and stored JSON, with and
 *                    without bodies
 *   number_text      milliseconds in their shortest exact form, integers, escapes
 *   cursor_text      reqlog_cursor_next_text(): appends, ids, same rows as
 *                    reqlog_cursor_next(), DONE and staying done; reqlog_buf_add()
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "read/read.h"
#include "read/row.h"
#include "read/rowtext.h"
#include "testutil.h"

/* ------------------------------------------------------------------ checking one row */

/* The row text of ST as a NUL-terminated malloc'd string. */
static char *text_of(sqlite3_stmt *st, int with_bodies) {
  textbuf t = {0};
  rowsrc r = rowsrc_sqlite(st, NULL);
  row_text(&r, with_bodies, &t);
  assert_false(t.nomem);
  tb_terminate(&t);
  assert_non_null(t.data);
  return t.data;
}

/* Checks the current row of ST (selected with row_columns(WITH_BODIES)) as the plan says;
 * returns 1 when the text is byte for byte cJSON's printing of row_json(). */
static int check_row(sqlite3_stmt *st, int with_bodies, const char *label) {
  rowsrc r = rowsrc_sqlite(st, NULL);
  cJSON *want = row_json(&r, with_bodies);
  assert_non_null(want);
  char *want_text = cJSON_PrintUnformatted(want);
  char *text = text_of(st, with_bodies);
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    if (*p < 0x20)
      print_error("%s: raw byte 0x%02x in %s\n", label, *p, text);
    assert_true(*p >= 0x20);
  }
  const char *end = NULL;
  cJSON *got = cJSON_ParseWithOpts(text, &end, 1);
  if (!got)
    print_error("%s: does not parse: %s\n", label, text);
  assert_non_null(got);
  char *got_text = cJSON_PrintUnformatted(got);
  /* cJSON_Compare() looks members up by name, so an object with a repeated name (kept
   * from stored error_fields) is not even equal to a copy of itself: compare the
   * printed text alone there. */
  cJSON *copy = cJSON_Duplicate(want, 1);
  int comparable = cJSON_Compare(want, copy, 1);
  cJSON_Delete(copy);
  int same = (!comparable || cJSON_Compare(want, got, 1)) && strcmp(got_text, want_text) == 0;
  if (!same)
    print_error("%s:\n  row_json: %s\n  row_text: %s\n", label, want_text, text);
  assert_true(same);
  int identical = strcmp(text, want_text) == 0;
  cJSON_free(got_text);
  cJSON_Delete(got);
  cJSON_free(want_text);
  cJSON_Delete(want);
  free(text);
  return identical;
}

static sqlite3_stmt *select_rows(sqlite3 *db, int with_bodies, const char *where) {
  char sql[2048];
  snprintf(sql, sizeof sql, "SELECT %s FROM calls AS c %s ORDER BY c.id",
           row_columns(with_bodies), where);
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  return st;
}

/* ------------------------------------------------------------------ cases as data */

/* SET is applied to the full row of TU_FULL_ROW_SQL. IDENTICAL: the text must also be
 * byte for byte what cJSON prints (compact stored JSON, numbers cJSON prints the same way). */
static const struct rt_case {
  const char *label;
  const char *set;
  int identical;
} cases[] = {
  {"base row", "id = id", 1},
  {"transport error: nulls",
   "status = NULL, error = 'Could not resolve host: nx.invalid', dns_us = NULL,"
   " connect_us = NULL, tls_us = NULL, ttfb_us = NULL, key = NULL, retry_of = NULL,"
   " request_sha256 = NULL, response_sha256 = NULL, content_type = NULL,"
   " http_version = NULL, remote_ip = NULL, error_message = NULL, error_fields = NULL,"
   " request_body = NULL, response_body = NULL",
   1},
  {"unicode", "url = 'https://x/Zoë/日本/😀', error_message = 'Ünïcödé ✓ 😀', "
              "request_body = '{\"name\":\"Zoë 日本\"}'", 1},
  {"invalid UTF-8", "url = CAST(X'68C328FF80E282' AS TEXT), request_body = CAST(X'FFFE41' AS TEXT)", 1},
  {"control characters",
   "error = 'a' || char(1) || char(8) || char(9) || char(10) || char(12) || char(13) ||"
   " char(27) || char(31) || char(127) || 'z', method = char(11) || 'GET'",
   1},
  {"quotes, backslashes, slashes",
   "url = 'https://x/a\"b\\c/d</script>', error_message = '\"\\\\\"'", 1},
  {"embedded NUL ends a string", "error = CAST(X'610062' AS TEXT), request_body = CAST(X'7B00' AS TEXT)", 1},
  {"empty strings", "method = '', error = '', request_body = '', key = ''", 1},
  {"binary bodies",
   "request_body = X'00FF10', response_body = zeroblob(1000), request_truncated = 1", 1},
  {"empty blob", "request_body = X'', response_body = X'01'", 1},
  {"truncated flags 2 and -1", "request_truncated = 2, response_truncated = -1", 1},
  {"big integers",
   "request_size = 9223372036854775807, response_size = 4294967296, id = 9007199254740993", 0},
  {"negative integers", "request_size = -1, attempt = -2147483649, status = -5", 1},
  {"integers past int", "response_size = 2147483648, request_size = 3000000000", 1},
  {"ms: shortest form", "duration_us = 1, queued_us = 10, dns_us = 100, connect_us = 1000,"
                        " tls_us = 1234567, ttfb_us = 999999", 1},
  {"ms: zero and negative", "duration_us = 0, queued_us = -5, dns_us = -1000, tls_us = -1234", 1},
  {"ms: huge", "duration_us = 123456789012345678, queued_us = 9007199254740993", 0},
  {"ms: large exact", "duration_us = 9007199254740991, queued_us = 4503599627370497", 0},
  {"number stored as text or real", "status = 'abc', duration_us = '12.5', attempt = 1.75,"
                                    " request_size = 1e3, ttfb_us = 'x'", 1},
  {"text column holding a number", "method = 123, key = 4.5", 1},
  {"text column holding a blob", "url = X'414243', key = X'41004243'", 1},
  {"started before 1970", "started_at = -1", 1},
  {"started at 0", "started_at = 0", 1},
  {"headers: empty array", "request_headers = '[]', response_headers = '[ ]'", 0},
  {"headers: escapes kept", "request_headers = '[[\"X\",\"a\\u00e9\\n\\t\\\"\\\\\\/\"]]'", 0},
  {"headers: surrogate pair", "request_headers = '[[\"X\",\"\\ud83d\\ude00\"]]'", 1},
  {"headers: lone surrogate", "request_headers = '[[\"X\",\"\\ud800\"]]'", 1},
  {"headers: \\u0000", "request_headers = '[[\"X\",\"a\\u0000b\"]]'", 1},
  {"headers: raw control char", "request_headers = '[[\"X\",\"a' || char(1) || 'b\"]]'", 1},
  {"headers: newlines and tabs",
   "request_headers = '[' || char(10) || ' [\"A\",' || char(9) || '\"b\"]' || char(13) || char(10) || ']'",
   1},
  {"headers: spaces", "request_headers = '  [ [ \"A\" , \"b\" ] ]  '", 0},
  {"headers: not JSON", "request_headers = '[[\"A\",', response_headers = 'nope'", 1},
  {"headers: wrong type", "request_headers = '{\"a\":1}', response_headers = '\"s\"'", 1},
  {"headers: null text", "request_headers = 'null', response_headers = ''", 1},
  {"headers: trailing garbage", "request_headers = '[]x', response_headers = '[] []'", 1},
  {"headers: blob holding JSON", "request_headers = CAST('[[\"A\",\"b\"]]' AS BLOB)", 1},
  {"headers: numbers and literals", "request_headers = '[1, 2.50, -0, 1e2, true, false, null]'", 1},
  {"headers: bad escapes", "request_headers = '[\"\\x\"]', response_headers = '[\"\\u12\"]'", 1},
  {"error_fields: nested", "error_fields = '{\"a\":{\"b\":[[],{},[\"c\"]]},\"\":[\"\"]}'", 1},
  {"error_fields: duplicate keys", "error_fields = '{\"a\":[\"1\"],\"a\":[\"2\"]}'", 1},
  {"error_fields: numbers", "error_fields = '{\"age\":[18, 1.5e3, 12345678901234567890]}'", 1},
  {"error_fields: array is the wrong type", "error_fields = '[\"x\"]'", 1},
  {"error_fields: not JSON", "error_fields = '{\"a\":}'", 1},
  {"error_fields: deep", "error_fields = '{\"a\":' || replace(hex(zeroblob(40)), '00', '[') ||"
                         " replace(hex(zeroblob(40)), '00', ']') || '}'", 1},
  {"error_fields: deeper than cJSON allows",
   "error_fields = '{\"a\":' || replace(hex(zeroblob(1100)), '00', '[') ||"
   " replace(hex(zeroblob(1100)), '00', ']') || '}'", 1},
  {"error_fields: unclosed", "error_fields = '{\"a\":[\"b\"]'", 1},
  {"error_fields: embedded NUL", "error_fields = CAST(X'7B7D0078' AS TEXT)", 1},
};

static void cases_as_data(void **state) {
  (void)state;
  int identical = 0, want_identical = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sqlite3 *db = tu_memdb();
    tu_exec(db, TU_FULL_ROW_SQL);
    char sql[8192];
    snprintf(sql, sizeof sql, "UPDATE calls SET %s", cases[i].set);
    tu_exec(db, sql);
    for (int bodies = 0; bodies <= 1; bodies++) {
      sqlite3_stmt *st = select_rows(db, bodies, "");
      assert_int_equal(sqlite3_step(st), SQLITE_ROW);
      int same = check_row(st, bodies, cases[i].label);
      if (cases[i].identical && !same) {
        char *text = text_of(st, bodies);
        print_error("%s: not byte for byte cJSON's text: %s\n", cases[i].label, text);
        free(text);
      }
      assert_true(same || !cases[i].identical);
      identical += same;
      want_identical += cases[i].identical;
      sqlite3_finalize(st);
    }
    sqlite3_close(db);
  }
  print_message("%zu cases, with and without bodies: all equal to row_json(); %d of them "
                "byte for byte cJSON's text (%d required)\n",
                sizeof cases / sizeof cases[0], identical, want_identical);
}

/* ------------------------------------------------------------------ random rows */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rnd(void) {
  /* xorshift64*: reproducible, no libc state */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 2685821657736338717u;
}

static const int64_t interesting_ints[] = {
  0, 1, -1, 999, 1000, 1001, 123456, 2147483647, 2147483648, -2147483648, 4294967295,
  9007199254740991, 9007199254740992, 9007199254740993, -9007199254740993,
  INT64_MAX, INT64_MIN, 1795813445123456,
};

static const char *const stored_pool[] = {
  "[]", "{}", "[[\"A\",\"b\"]]", "{\"email\":[\"required\"]}", "[[\"X\",\"\\u00e9\\\"\"]]",
  "[1,2]", "{\"a\":[1.5]}", "not json", "", "null", "[", "{\"a\":\"\\ud800\"}",
  "[\"\\u0000\"]", " [ ] ", "{\"k\" : [\"v\" , \"w\"]}", "[[\"t\",true],[\"f\",false,null]]",
};

static void bind_random_text(sqlite3_stmt *st, int i, int may_null) {
  uint64_t r = rnd();
  if (may_null && r % 7 == 0) {
    sqlite3_bind_null(st, i);
    return;
  }
  if (r % 11 == 0) {
    const char *s = stored_pool[rnd() % (sizeof stored_pool / sizeof stored_pool[0])];
    sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    return;
  }
  unsigned char buf[64];
  size_t n = rnd() % sizeof buf;
  int ascii = r % 3 == 0;
  for (size_t k = 0; k < n; k++) {
    uint64_t b = rnd();
    buf[k] = (unsigned char)(ascii ? 0x20 + b % 95 : b % 256);
  }
  if (r % 13 == 0)
    sqlite3_bind_blob(st, i, buf, (int)n, SQLITE_TRANSIENT);
  else
    sqlite3_bind_text(st, i, (const char *)buf, (int)n, SQLITE_TRANSIENT);
}

static void bind_random_int(sqlite3_stmt *st, int i, int may_null) {
  uint64_t r = rnd();
  if (may_null && r % 5 == 0)
    sqlite3_bind_null(st, i);
  else if (r % 3 == 0)
    sqlite3_bind_int64(st, i, interesting_ints[rnd() % (sizeof interesting_ints /
                                                         sizeof interesting_ints[0])]);
  else if (r % 3 == 1)
    sqlite3_bind_int64(st, i, (int64_t)(rnd() % 100000000));
  else
    sqlite3_bind_int64(st, i, (int64_t)rnd());
}

static void random_rows(void **state) {
  (void)state;
  enum { ROWS = 2000 };
  sqlite3 *db = tu_memdb();
  tu_exec(db, "BEGIN");
  sqlite3_stmt *ins = NULL;
  const char *sql =
    "INSERT INTO calls(started_at, method, url, host, path, status, error, duration_us,"
    " queued_us, dns_us, connect_us, tls_us, ttfb_us, key, attempt, retry_of, source,"
    " request_headers, response_headers, request_body, request_size, request_truncated,"
    " request_sha256, response_body, response_size, response_truncated, response_sha256,"
    " content_type, http_version, remote_ip, error_message, error_fields)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
    " ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32)";
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &ins, NULL), SQLITE_OK);
  /* 1-based parameter numbers of the integer columns; NOT NULL ones first */
  static const int ints_not_null[] = {1, 8, 9, 15, 21, 22, 25, 26};
  static const int ints_null[] = {6, 10, 11, 12, 13, 16};
  static const int texts_not_null[] = {2, 3, 4, 5, 17, 18, 19};
  static const int texts_null[] = {7, 14, 20, 23, 24, 27, 28, 29, 30, 31, 32};
  for (int row = 0; row < ROWS; row++) {
    for (size_t k = 0; k < sizeof ints_not_null / sizeof ints_not_null[0]; k++)
      bind_random_int(ins, ints_not_null[k], 0);
    for (size_t k = 0; k < sizeof ints_null / sizeof ints_null[0]; k++)
      bind_random_int(ins, ints_null[k], 1);
    for (size_t k = 0; k < sizeof texts_not_null / sizeof texts_not_null[0]; k++)
      bind_random_text(ins, texts_not_null[k], 0);
    for (size_t k = 0; k < sizeof texts_null / sizeof texts_null[0]; k++)
      bind_random_text(ins, texts_null[k], 1);
    assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  tu_exec(db, "COMMIT");

  int n = 0, identical = 0;
  for (int bodies = 0; bodies <= 1; bodies++) {
    sqlite3_stmt *st = select_rows(db, bodies, "");
    while (sqlite3_step(st) == SQLITE_ROW) {
      char label[64];
      snprintf(label, sizeof label, "random row %lld (bodies %d)",
               (long long)sqlite3_column_int64(st, RC_ID), bodies);
      identical += check_row(st, bodies, label);
      n++;
    }
    sqlite3_finalize(st);
  }
  assert_int_equal(n, 2 * ROWS);
  print_message("%d random rows (random bytes, blobs, int64s, stored JSON) equal to "
                "row_json(); %d byte for byte cJSON's text\n", n, identical);
  sqlite3_close(db);
}

/* ------------------------------------------------------------------ writers */

static void want_text(void (*write)(textbuf *, int64_t), int64_t v, const char *want) {
  textbuf t = {0};
  write(&t, v);
  tb_terminate(&t);
  assert_non_null(t.data);
  if (strcmp(t.data, want) != 0)
    print_error("%lld: \"%s\", want \"%s\"\n", (long long)v, t.data, want);
  assert_string_equal(t.data, want);
  free(t.data);
}

static void ms_short(textbuf *t, int64_t us) {
  tb_ms(t, us, 0);
}

static void ms_fixed(textbuf *t, int64_t us) {
  tb_ms(t, us, 1);
}

static void json_string_of(textbuf *t, int64_t which) {
  static const char *const s[] = {"", "a\"b\\c/d", "\x01\x1f\x7f\xc3\xa9\xff", "\b\f\n\r\t"};
  tb_json_string(t, s[which]);
}

static void number_text(void **state) {
  (void)state;
  want_text(ms_short, 12345, "12.345");
  want_text(ms_short, 1500, "1.5");
  want_text(ms_short, 12000, "12");
  want_text(ms_short, 0, "0");
  want_text(ms_short, 1, "0.001");
  want_text(ms_short, 10, "0.01");
  want_text(ms_short, -5, "-0.005");
  want_text(ms_short, -1000, "-1");
  want_text(ms_short, 9007199254740991, "9007199254740.991");
  want_text(ms_fixed, 12000, "12.000");
  want_text(ms_fixed, -1, "-0.001");
  want_text(tb_int, 0, "0");
  want_text(tb_int, INT64_MIN, "-9223372036854775808");
  want_text(tb_int, INT64_MAX, "9223372036854775807");
  want_text(json_string_of, 0, "\"\"");
  want_text(json_string_of, 1, "\"a\\\"b\\\\c/d\"");
  want_text(json_string_of, 2, "\"\\u0001\\u001f\x7f\xc3\xa9\xff\"");
  want_text(json_string_of, 3, "\"\\b\\f\\n\\r\\t\"");
  /* every µs count that reaches 2^53 only as a double still reads back as US / 1000.0 */
  static const int64_t big[] = {9007199254740992, 9007199254740993, -9007199254740993,
                                INT64_MAX, INT64_MIN, 123456789012345678};
  for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
    textbuf t = {0};
    tb_ms(&t, big[i], 0);
    tb_terminate(&t);
    assert_true(strtod(t.data, NULL) == (double)big[i] / 1000.0);
    free(t.data);
  }
  print_message("ms shortest and fixed forms, int64 limits, JSON escapes as cJSON's, "
                "huge µs read back as the same double\n");
}

/* ------------------------------------------------------------------ the cursor */

static void cursor_text(void **state) {
  (void)state;
  sqlite3 *db = tu_memdb();
  tu_exec(db, TU_FULL_ROW_SQL);
  for (int i = 2; i <= 5; i++) {
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO calls(id, started_at, method, url, host, path, duration_us, source,"
             " request_body) VALUES (%d, %d, 'GET', 'https://h/p', 'h', '/p', %d, 'library',"
             " X'00%02x')", i * 10, i, i * 1111, i);
    tu_exec(db, sql);
  }
  for (int bodies = 0; bodies <= 1; bodies++) {
    reqlog_query_opts opts = {.with_bodies = bodies, .limit = 4};
    reqlog_cursor *c = NULL, *cj = NULL;
    assert_int_equal(rs_query(db, NULL, &opts, 0, NULL, NULL, &c, NULL), REQLOG_OK);
    assert_int_equal(rs_query(db, NULL, &opts, 0, NULL, NULL, &cj, NULL), REQLOG_OK);
    reqlog_buf buf = {0};
    assert_int_equal(reqlog_buf_add(&buf, "[", 1), REQLOG_OK);
    assert_string_equal(buf.data, "[");
    int64_t ids[4], id = 0;
    int n = 0;
    reqlog_err err;
    while ((err = reqlog_cursor_next_text(c, &buf, &id)) == REQLOG_OK) {
      assert_true(n < 4);
      assert_int_equal(strlen(buf.data), buf.len); /* NUL-terminated */
      ids[n++] = id;
      assert_int_equal(reqlog_buf_add(&buf, ",", 1), REQLOG_OK);
    }
    assert_int_equal(err, REQLOG_ERR_DONE);
    assert_int_equal(reqlog_cursor_next_text(c, &buf, &id), REQLOG_ERR_DONE);
    assert_int_equal(n, 4);
    buf.data[buf.len - 1] = ']'; /* the last comma */
    cJSON *got = cJSON_Parse(buf.data);
    assert_non_null(got);
    assert_int_equal(cJSON_GetArraySize(got), 4);
    for (int i = 0; i < 4; i++) {
      cJSON *row = NULL;
      assert_int_equal(reqlog_cursor_next(cj, &row), REQLOG_OK);
      assert_true(cJSON_Compare(row, cJSON_GetArrayItem(got, i), 1));
      assert_int_equal(ids[i], (int64_t)cJSON_GetObjectItem(row, "id")->valuedouble);
      cJSON_Delete(row);
    }
    assert_int_equal(ids[0], 50);
    assert_int_equal(ids[3], 20);
    cJSON_Delete(got);
    reqlog_buf_free(&buf);
    assert_null(buf.data);
    assert_int_equal(buf.len, 0);
    reqlog_cursor_free(c);
    reqlog_cursor_free(cj);
  }
  assert_int_equal(reqlog_cursor_next_text(NULL, NULL, NULL), REQLOG_ERR_ARG);
  reqlog_buf_free(NULL);
  sqlite3_close(db);
  print_message("cursor text: appends to the caller's buffer, NUL-terminated, ids given, "
                "same rows as reqlog_cursor_next(), DONE stays DONE\n");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(cases_as_data),
    cmocka_unit_test(random_rows),
    cmocka_unit_test(number_text),
    cmocka_unit_test(cursor_text),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
