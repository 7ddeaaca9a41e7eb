/* testdb.c: the tests' SQL side (see testutil.h): connections for assertions, reading
 * one value with SQL (formatted or not), the schema in memory, a full row, new histories
 * and generated rows, and every row through the library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "store/schema.h"
#include "store/store.h"

sqlite3 *tu_db(const char *path) {
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
    fprintf(stderr, "testutil: cannot open %s: %s\n", path, sqlite3_errmsg(db));
    abort();
  }
  sqlite3_busy_timeout(db, 10000);
  if (store_pack_register(db) != SQLITE_OK) { /* as reqlog's connections: packed values */
    fprintf(stderr, "testutil: cannot register the packed form's functions\n");
    abort();
  }
  return db;
}

int64_t tu_int(sqlite3 *db, const char *sql) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "testutil: %s: %s\n", sql, sqlite3_errmsg(db));
    abort();
  }
  int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_finalize(st);
  return v;
}

int64_t tu_file_int(const char *path, const char *sql) {
  sqlite3 *db = tu_db(path);
  int64_t v = tu_int(db, sql);
  sqlite3_close(db);
  return v;
}

char *tu_text(sqlite3 *db, const char *sql) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "testutil: %s: %s\n", sql, sqlite3_errmsg(db));
    abort();
  }
  char *v = NULL;
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
    v = strdup((const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  return v;
}

int tu_db_values_contain(const char *db, const char *needle) {
  sqlite3 *h = NULL;
  int found = 0;
  if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      store_pack_register(h) == SQLITE_OK) {
    sqlite3_busy_timeout(h, 10000);
    sqlite3_stmt *st = NULL;
    const char *sql =
      "SELECT count(*) FROM calls WHERE"
      " instr(CAST(reqlog_unpack(packed, request_headers) AS BLOB), CAST(?1 AS BLOB)) > 0"
      " OR instr(CAST(reqlog_unpack(packed, response_headers) AS BLOB), CAST(?1 AS BLOB)) > 0"
      " OR instr(CAST(reqlog_unpack(packed, request_body) AS BLOB), CAST(?1 AS BLOB)) > 0"
      " OR instr(CAST(reqlog_unpack(packed, response_body) AS BLOB), CAST(?1 AS BLOB)) > 0";
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
      sqlite3_bind_text(st, 1, needle, -1, SQLITE_STATIC);
      int rc = sqlite3_step(st);
      if (rc == SQLITE_ROW)
        found = sqlite3_column_int(st, 0) > 0;
      else
        fprintf(stderr, "testutil: reading the values of %s: %s\n", db, sqlite3_errmsg(h));
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(h);
  return found;
}

int tu_history_contains(const char *db, const char *needle) {
  const char *suffix[] = {"", "-wal"};
  for (int i = 0; i < 2; i++) {
    char *p = NULL;
    if (asprintf(&p, "%s%s", db, suffix[i]) < 0)
      abort();
    int found = tu_file_contains(p, needle);
    free(p);
    if (found)
      return 1;
  }
  return tu_db_values_contain(db, needle);
}

sqlite3 *tu_memdb(void) {
  sqlite3 *db = NULL;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
    fprintf(stderr, "testutil: cannot open an in-memory database\n");
    abort();
  }
  if (store_pack_register(db) != SQLITE_OK) {
    fprintf(stderr, "testutil: cannot register the packed form's functions\n");
    abort();
  }
  for (int i = 0; reqlog_schema_files[i].name; i++)
    tu_exec(db, (const char *)reqlog_schema_files[i].data);
  return db;
}

void tu_exec(sqlite3 *db, const char *sql) {
  char *msg = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    fprintf(stderr, "testutil: SQL failed: %s\n%s\n", msg ? msg : "?", sql);
    abort();
  }
}

/* FMT and AP as a malloc'd string; fails the test when it cannot be made. */
static char *vformat(const char *fmt, va_list ap) {
  char *sql = NULL;
  assert_true(vasprintf(&sql, fmt, ap) >= 0);
  return sql;
}

int64_t tu_intf(sqlite3 *db, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *sql = vformat(fmt, ap);
  va_end(ap);
  int64_t v = tu_int(db, sql);
  free(sql);
  return v;
}

char *tu_textf(sqlite3 *db, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *sql = vformat(fmt, ap);
  va_end(ap);
  char *v = tu_text(db, sql);
  free(sql);
  return v;
}

cJSON *tu_rows(reqlog *r) {
  assert_int_equal(reqlog_flush(r, NULL), REQLOG_OK);
  reqlog_cursor *c = NULL;
  reqlog_query_opts o = {.with_bodies = 1, .oldest_first = 1};
  assert_int_equal(reqlog_query(r, NULL, &o, &c, NULL), REQLOG_OK);
  cJSON *arr = cJSON_CreateArray(), *row = NULL;
  while (reqlog_cursor_next(c, &row) == REQLOG_OK)
    cJSON_AddItemToArray(arr, row);
  reqlog_cursor_free(c);
  return arr;
}

const char TU_FULL_ROW_SQL[] =
  "INSERT INTO calls(id, started_at, method, url, host, path, status, error, duration_us,"
  " queued_us, dns_us, connect_us, tls_us, ttfb_us, key, attempt, retry_of, source,"
  " request_headers, response_headers, request_body, request_size, request_truncated,"
  " request_sha256, response_body, response_size, response_truncated, response_sha256,"
  " content_type, http_version, remote_ip, error_message, error_fields) VALUES ("
  " 7, 1795813445123456, 'POST',"
  " 'https://api.app.astalty.com.au/public/v1/participants?token=[REDACTED]&page=2',"
  " 'api.app.astalty.com.au', '/public/v1/participants', 422, NULL, 123456,"
  " 1500, 2001, 3002, 4003, 100004, '…abcd#3f2a9c1e', 2, 6, 'cli',"
  " '[[\"Accept\",\"application/json\"],[\"X-A\",\"1\"],[\"X-A\",\"2\"]]',"
  " '[[\"Content-Type\",\"application/json\"]]',"
  " '{\"email\":\"\"}', 12, 0, 'aaaa',"
  " '{\"message\":\"The given data was invalid.\"}', 5000000, 1, 'bbbb',"
  " 'application/json', 'HTTP/2', '203.0.113.7', 'The given data was invalid.',"
  " '{\"email\":[\"The email field is required.\"]}')";

char *tu_new_history(const char *dir, const char *name) {
  char *path = tu_path(dir, name);
  reqlog *r = NULL;
  char *cause = NULL;
  if (reqlog_open(path, &r, &cause) != REQLOG_OK)
    fail_msg("reqlog_open %s: %s", path, cause ? cause : "?");
  reqlog_close(r);
  return path;
}

void tu_gen_calls(const char *path, int n, const char *origin, int64_t start_us,
                  int64_t step_us, int body) {
  sqlite3 *db = tu_db(path);
  char *sql = sqlite3_mprintf(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
    " INSERT INTO calls(started_at, method, url, host, path, status, duration_us, source,"
    " request_headers, response_headers, response_body, response_size, origin, key)"
    " SELECT %lld + i * %lld, 'GET', 'https://api.example/v1/items/' || i, 'api.example',"
    " '/v1/items/' || i, 200 + (i %% 3) * 100, 1000 + i %% 500, 'library', '[]',"
    " '[[\"Content-Type\",\"application/json\"]]',"
    " '{\"id\":' || i || ',\"pad\":\"' || hex(randomblob(%d)) || '\"}', %d, %Q,"
    " '…abcd#3f2a9c1e' FROM n",
    n, (long long)start_us, (long long)step_us, body / 2, body, origin);
  tu_exec(db, sql);
  sqlite3_free(sql);
  sqlite3_close(db);
}
