/* test_row.c: the row model (recorder/read/row.c) and reading rows (recorder/read/query.c) on a real
 * SQLite database made from schema/001_init.sql (run from the repository root).
 *
 * Plan:
 *   full_row            every §8 field of a fully populated row: JSON type and value
 *   transport_error     a row without a response: status, error, key, timings... null
 *   blob_body_base64    binary bodies come back as {"base64"} and decode to the same bytes
 *   base64_vectors      the encoder against RFC 4648's test vectors
 *   invalid_json        stored header / error_fields text that is not JSON -> [] / null
 *   columns_and_bodies  ROW_COLUMNS has RC_COUNT columns; lists without bodies omit them
 *   query_order_paging  newest/oldest first, before_id, limit, DONE, not found, filter
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "read/read.h"
#include "testutil.h"
#include "base/base64.h"
#include "read/row.h"

/* ------------------------------------------------------------------ helpers */

/* A fresh database with the library's own embedded schema. */
static sqlite3 *open_db(void) {
  return tu_memdb();
}

static void exec(sqlite3 *db, const char *sql) {
  tu_exec(db, sql);
}

static cJSON *get_row(sqlite3 *db, int64_t id) {
  cJSON *row = NULL;
  char *cause = NULL;
  reqlog_err err = rs_get(db, id, &row, &cause);
  if (err != REQLOG_OK)
    print_error("rs_get(%lld): %s\n", (long long)id, cause ? cause : "?");
  free(cause);
  assert_int_equal(err, REQLOG_OK);
  assert_non_null(row);
  return row;
}

static cJSON *field(const cJSON *obj, const char *name) {
  cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (!v)
    print_error("field %s missing\n", name);
  assert_non_null(v);
  return v;
}

static void want_string(const cJSON *obj, const char *name, const char *want) {
  cJSON *v = field(obj, name);
  assert_true(cJSON_IsString(v));
  assert_string_equal(v->valuestring, want);
}

static void want_number(const cJSON *obj, const char *name, double want) {
  cJSON *v = field(obj, name);
  assert_true(cJSON_IsNumber(v));
  if (fabs(v->valuedouble - want) > 1e-9)
    print_error("%s: %.9f, want %.9f\n", name, v->valuedouble, want);
  assert_true(fabs(v->valuedouble - want) <= 1e-9);
}

static void want_null(const cJSON *obj, const char *name) {
  assert_true(cJSON_IsNull(field(obj, name)));
}

static void want_bool(const cJSON *obj, const char *name, int want) {
  cJSON *v = field(obj, name);
  assert_true(cJSON_IsBool(v));
  assert_int_equal(cJSON_IsTrue(v) ? 1 : 0, want);
}

/* The JSON text of V, compared with WANT (cJSON's unformatted printing). */
static void want_json(const cJSON *v, const char *want) {
  char *text = cJSON_PrintUnformatted(v);
  assert_non_null(text);
  assert_string_equal(text, want);
  cJSON_free(text);
}

static int b64_value(char c) {
  const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const char *p = strchr(alphabet, c);
  return c && p ? (int)(p - alphabet) : -1;
}

/* A plain decoder written for the test, independent of the encoder under test. */
static unsigned char *b64_decode(const char *s, size_t *len) {
  size_t n = strlen(s);
  assert_int_equal(n % 4, 0);
  unsigned char *out = malloc(n / 4 * 3 + 1);
  assert_non_null(out);
  size_t o = 0;
  for (size_t i = 0; i < n; i += 4) {
    int v[4];
    for (int k = 0; k < 4; k++)
      v[k] = s[i + k] == '=' ? 0 : b64_value(s[i + k]);
    for (int k = 0; k < 4; k++)
      assert_true(v[k] >= 0);
    uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
    out[o++] = (unsigned char)(w >> 16);
    if (s[i + 2] != '=')
      out[o++] = (unsigned char)(w >> 8);
    if (s[i + 3] != '=')
      out[o++] = (unsigned char)w;
  }
  *len = o;
  return out;
}

/* ------------------------------------------------------------------ tests */

static void full_row(void **state) {
  sqlite3 *db = open_db();
  exec(db, TU_FULL_ROW_SQL);
  exec(db, "UPDATE calls SET origin = 'ci-runner-3' WHERE id = 7");
  cJSON *row = get_row(db, 7);

  want_number(row, "id", 7);
  want_string(row, "started_at", "2026-11-27T21:04:05.123456Z");
  want_string(row, "method", "POST");
  want_string(row, "url",
                "https://api.app.astalty.com.au/public/v1/participants?token=[REDACTED]&page=2");
  want_string(row, "host", "api.app.astalty.com.au");
  want_string(row, "path", "/public/v1/participants");
  want_number(row, "status", 422);
  want_null(row, "error");
  want_number(row, "duration_ms", 123.456);
  cJSON *t = field(row, "timing");
  assert_true(cJSON_IsObject(t));
  assert_int_equal(cJSON_GetArraySize(t), 6);
  want_number(t, "queued_ms", 1.5);
  want_number(t, "dns_ms", 2.001);
  want_number(t, "connect_ms", 3.002);
  want_number(t, "tls_ms", 4.003);
  want_number(t, "ttfb_ms", 100.004);
  want_number(t, "total_ms", 123.456);
  want_string(row, "key", "…abcd#3f2a9c1e");
  want_number(row, "attempt", 2);
  want_number(row, "retry_of", 6);
  want_string(row, "source", "cli");
  want_string(row, "origin", "ci-runner-3");
  cJSON *rq = field(row, "request_headers");
  assert_true(cJSON_IsArray(rq));
  want_json(rq, "[[\"Accept\",\"application/json\"],[\"X-A\",\"1\"],[\"X-A\",\"2\"]]");
  want_json(field(row, "response_headers"), "[[\"Content-Type\",\"application/json\"]]");
  want_string(row, "request_body", "{\"email\":\"\"}");
  want_string(row, "response_body", "{\"message\":\"The given data was invalid.\"}");
  want_number(row, "request_size", 12);
  want_number(row, "response_size", 5000000);
  want_bool(row, "request_truncated", 0);
  want_bool(row, "response_truncated", 1);
  want_string(row, "request_sha256", "aaaa");
  want_string(row, "response_sha256", "bbbb");
  want_string(row, "content_type", "application/json");
  want_string(row, "http_version", "HTTP/2");
  want_string(row, "remote_ip", "203.0.113.7");
  want_string(row, "error_message", "The given data was invalid.");
  cJSON *ef = field(row, "error_fields");
  assert_true(cJSON_IsObject(ef));
  want_json(ef, "{\"email\":[\"The email field is required.\"]}");
  /* Nothing beyond §8 (plus the two sha256 fields) sneaks in. */
  assert_true(cJSON_IsNull(field(row, "request_id"))); /* no X-Request-Id stored */
  /* a call without notes: not pinned, no tags, no note */
  assert_true(cJSON_IsFalse(field(row, "pinned")));
  want_json(field(row, "tags"), "[]");
  assert_true(cJSON_IsNull(field(row, "note")));
  assert_int_equal(cJSON_GetArraySize(row), 35);
  print_message("full row: all 35 fields have the §8 type and value; "
                "started_at ISO with µs, ms with µs precision, headers keep order/repeats\n");
  cJSON_Delete(row);
  sqlite3_close(db);
}

static void transport_error(void **state) {
  sqlite3 *db = open_db();
  exec(db, "INSERT INTO calls(id, started_at, method, url, host, path, status, error,"
           " duration_us, key, source) VALUES (1, 0, 'GET', 'https://nx.invalid/a',"
           " 'nx.invalid', '/a', NULL, 'Could not resolve host: nx.invalid', 2500, NULL,"
           " 'library')");
  cJSON *row = get_row(db, 1);
  want_string(row, "started_at", "1970-01-01T00:00:00.000000Z");
  want_null(row, "status");
  want_string(row, "error", "Could not resolve host: nx.invalid");
  want_number(row, "duration_ms", 2.5);
  cJSON *t = field(row, "timing");
  want_number(t, "queued_ms", 0);
  want_null(t, "dns_ms");
  want_null(t, "connect_ms");
  want_null(t, "tls_ms");
  want_null(t, "ttfb_ms");
  want_number(t, "total_ms", 2.5);
  want_null(row, "key");
  want_number(row, "attempt", 1);
  want_null(row, "retry_of");
  want_json(field(row, "request_headers"), "[]");
  want_json(field(row, "response_headers"), "[]");
  want_null(row, "request_body");
  want_null(row, "response_body");
  want_number(row, "request_size", 0);
  want_number(row, "response_size", 0);
  want_bool(row, "request_truncated", 0);
  want_bool(row, "response_truncated", 0);
  want_null(row, "request_sha256");
  want_null(row, "response_sha256");
  want_null(row, "content_type");
  want_null(row, "http_version");
  want_null(row, "remote_ip");
  want_null(row, "error_message");
  want_null(row, "error_fields");
  print_message("transport error row: status, key, retry_of, timings, bodies, sha256, "
                "content_type, http_version, remote_ip, error_* are null; sizes 0\n");
  cJSON_Delete(row);
  sqlite3_close(db);
}

static void blob_body_base64(void **state) {
  sqlite3 *db = open_db();
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(db,
                     "INSERT INTO calls(id, started_at, method, url, host, path, status,"
                     " duration_us, source, request_body, response_body, response_size)"
                     " VALUES (?, 1, 'PUT', 'u', 'h', '/p', 200, 1, 'proxy', ?, ?, ?)",
                     -1, &st, NULL),
                   SQLITE_OK);
  /* Lengths 0..6 cover every padding case; 70001 a large body. */
  static const size_t lens[] = {0, 1, 2, 3, 4, 5, 6, 70001};
  unsigned char *bytes = malloc(70001);
  assert_non_null(bytes);
  for (size_t i = 0; i < 70001; i++)
    bytes[i] = (unsigned char)((i * 7919 + (i >> 8)) & 0xFF);
  bytes[0] = 0xFF;
  for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, (int64_t)k + 1);
    sqlite3_bind_blob(st, 2, "\x00\x01", 2, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, bytes, (int)lens[k], SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (int64_t)lens[k]);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
  }
  sqlite3_finalize(st);
  for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
    cJSON *row = get_row(db, (int64_t)k + 1);
    cJSON *rb = field(row, "response_body");
    assert_true(cJSON_IsObject(rb));
    assert_int_equal(cJSON_GetArraySize(rb), 1);
    cJSON *b64 = field(rb, "base64");
    assert_true(cJSON_IsString(b64));
    size_t n = 0;
    unsigned char *back = b64_decode(b64->valuestring, &n);
    assert_int_equal(n, lens[k]);
    assert_memory_equal(back, bytes, n);
    free(back);
    want_json(field(row, "request_body"), "{\"base64\":\"AAE=\"}");
    cJSON_Delete(row);
  }
  free(bytes);
  print_message("BLOB bodies of 0..6 and 70001 bytes: {\"base64\"} decodes to the stored "
                "bytes; \\x00\\x01 -> AAE=\n");
  sqlite3_close(db);
}

static void base64_vectors(void **state) {
  static const char *const vec[][2] = {{"", ""},         {"f", "Zg=="},
                                       {"fo", "Zm8="},   {"foo", "Zm9v"},
                                       {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                       {"foobar", "Zm9vYmFy"}};
  for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
    char out[16];
    size_t n = base64_encode((const unsigned char *)vec[i][0], strlen(vec[i][0]), out);
    assert_int_equal(n, BASE64_LEN(strlen(vec[i][0])));
    out[n] = '\0';
    assert_string_equal(out, vec[i][1]);
  }
  print_message("base64: RFC 4648 vectors '' f fo foo foob fooba foobar\n");
}

static void invalid_json(void **state) {
  sqlite3 *db = open_db();
  exec(db, "INSERT INTO calls(id, started_at, method, url, host, path, status, duration_us,"
           " source, request_headers, response_headers, error_fields) VALUES"
           " (1, 1, 'GET', 'u', 'h', '/p', 200, 1, 'import', '[[\"A\",', 'not json',"
           "  '{\"email\":'),"
           " (2, 1, 'GET', 'u', 'h', '/p', 200, 1, 'import', '{\"A\":\"b\"}', '',"
           "  '[\"not an object\"]'),"
           " (3, 1, 'GET', 'u', 'h', '/p', 200, 1, 'import', '[] trailing', '[]', '{}')");
  for (int id = 1; id <= 3; id++) {
    cJSON *row = get_row(db, id);
    want_json(field(row, "request_headers"), "[]");
    want_json(field(row, "response_headers"), "[]");
    if (id < 3)
      want_null(row, "error_fields");
    else
      want_json(field(row, "error_fields"), "{}");
    cJSON_Delete(row);
  }
  print_message("stored headers that are cut, not JSON, an object, or followed by junk "
                "read as []; bad or non-object error_fields as null\n");
  sqlite3_close(db);
}

static void columns_and_bodies(void **state) {
  sqlite3 *db = open_db();
  exec(db, TU_FULL_ROW_SQL);
  exec(db, "UPDATE calls SET origin = 'ci-runner-3' WHERE id = 7");
  for (int wb = 0; wb <= 1; wb++) {
    char sql[2048];
    snprintf(sql, sizeof sql, "SELECT %s FROM calls AS c", row_columns(wb));
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_column_count(st), RC_COUNT);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_type(st, RC_REQUEST_BODY),
                     wb ? SQLITE_TEXT : SQLITE_NULL);
    assert_int_equal(sqlite3_column_int64(st, RC_DURATION_US), 123456);
    assert_string_equal((const char *)sqlite3_column_text(st, RC_ERROR_FIELDS),
                        "{\"email\":[\"The email field is required.\"]}");
    assert_string_equal((const char *)sqlite3_column_text(st, RC_ORIGIN), "ci-runner-3");
    sqlite3_finalize(st);
  }

  reqlog_query_opts opts = {.with_bodies = 0};
  reqlog_cursor *c = NULL;
  assert_int_equal(rs_query(db, NULL, &opts, 0, NULL, NULL, &c, NULL), REQLOG_OK);
  cJSON *row = NULL;
  assert_int_equal(reqlog_cursor_next(c, &row), REQLOG_OK);
  assert_null(cJSON_GetObjectItemCaseSensitive(row, "request_body"));
  assert_null(cJSON_GetObjectItemCaseSensitive(row, "response_body"));
  assert_int_equal(cJSON_GetArraySize(row), 33);
  cJSON_Delete(row);
  reqlog_cursor_free(c);
  print_message("ROW_COLUMNS / ROW_COLUMNS_NO_BODIES have RC_COUNT columns in enum order; "
                "bodies NULL without bodies; list rows have 29 fields, no bodies\n");
  sqlite3_close(db);
}

static int released;
static void release_fn(void *ctx, sqlite3 *db) {
  released++;
  assert_ptr_equal(ctx, &released);
}

/* Reads every row of a query into IDS; returns how many. */
static int read_ids(sqlite3 *db, const reqlog_filter *f, const reqlog_query_opts *o,
                    int64_t *ids, int max) {
  reqlog_cursor *c = NULL;
  char *cause = NULL;
  reqlog_err err = rs_query(db, f, o, 0, release_fn, &released, &c, &cause);
  if (err != REQLOG_OK)
    print_error("rs_query: %s\n", cause ? cause : "?");
  free(cause);
  assert_int_equal(err, REQLOG_OK);
  int n = 0;
  for (;;) {
    cJSON *row = NULL;
    err = reqlog_cursor_next(c, &row);
    if (err == REQLOG_ERR_DONE) {
      assert_null(row);
      break;
    }
    assert_int_equal(err, REQLOG_OK);
    assert_true(n < max);
    ids[n++] = (int64_t)field(row, "id")->valuedouble;
    cJSON_Delete(row);
  }
  cJSON *row = NULL;
  assert_int_equal(reqlog_cursor_next(c, &row), REQLOG_ERR_DONE); /* stays done */
  int before = released;
  reqlog_cursor_free(c);
  assert_int_equal(released, before + 1);
  return n;
}

static void query_order_paging(void **state) {
  sqlite3 *db = open_db();
  /* started_at runs against id on purpose: order must follow id. */
  for (int id = 1; id <= 10; id++) {
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO calls(id, started_at, method, url, host, path, status, duration_us,"
             " source) VALUES (%d, %d, '%s', 'u', 'h', '/p', 200, 1, 'cli')",
             id, 1000 - id, id % 3 == 0 ? "POST" : "GET");
    exec(db, sql);
  }
  int64_t ids[16];
  assert_int_equal(read_ids(db, NULL, NULL, ids, 16), 10);
  for (int i = 0; i < 10; i++)
    assert_int_equal(ids[i], 10 - i);

  reqlog_query_opts asc = {.oldest_first = 1};
  assert_int_equal(read_ids(db, NULL, &asc, ids, 16), 10);
  for (int i = 0; i < 10; i++)
    assert_int_equal(ids[i], i + 1);

  reqlog_query_opts page = {.limit = 3, .before_id = 8};
  assert_int_equal(read_ids(db, NULL, &page, ids, 16), 3);
  assert_int_equal(ids[0], 7);
  assert_int_equal(ids[2], 5);

  reqlog_query_opts bad = {.limit = -1};
  reqlog_cursor *c = (reqlog_cursor *)&bad;
  char *cause = NULL;
  assert_int_equal(rs_query(db, NULL, &bad, 0, NULL, NULL, &c, &cause), REQLOG_ERR_ARG);
  assert_null(c);
  assert_string_equal(cause, "limit: -1 is negative");
  free(cause);

  int64_t n = -1;
  assert_int_equal(rs_count(db, NULL, 0, &n, NULL), REQLOG_OK);
  assert_int_equal(n, 10);

  reqlog_filter *f = NULL;
  assert_int_equal(reqlog_filter_new(&f), REQLOG_OK);
  assert_int_equal(reqlog_filter_set(f, "method", "POST", NULL), REQLOG_OK);
  assert_int_equal(read_ids(db, f, NULL, ids, 16), 3);
  assert_int_equal(ids[0], 9);
  assert_int_equal(ids[2], 3);
  assert_int_equal(rs_count(db, f, 0, &n, NULL), REQLOG_OK);
  assert_int_equal(n, 3);
  reqlog_filter_free(f);

  cJSON *row = (cJSON *)&n;
  cause = NULL;
  assert_int_equal(rs_get(db, 99, &row, &cause), REQLOG_ERR_NOTFOUND);
  assert_null(row);
  assert_string_equal(cause, "no call with id 99");
  free(cause);
  print_message("query: newest first by id (not started_at), oldest_first, before_id+limit "
                "paging, DONE twice, release called once, method filter, count, "
                "negative limit and unknown id errors\n");
  sqlite3_close(db);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(full_row),
    cmocka_unit_test(transport_error),
    cmocka_unit_test(blob_body_base64),
    cmocka_unit_test(base64_vectors),
    cmocka_unit_test(invalid_json),
    cmocka_unit_test(columns_and_bodies),
    cmocka_unit_test(query_order_paging),
  };
  return cmocka_run_group_tests_name("row", tests, NULL, NULL);
}
