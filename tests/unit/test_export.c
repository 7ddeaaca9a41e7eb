/* test_export.c: CSV and NDJSON export (recorder/read/export.c) on a real SQLite database made
 * from schema/001_init.sql (run from the repository root).
 *
 * Plan:
 *   csv_cells          header row exact; every cell, read back with a strict RFC 4180
 *                      reader written here, equals the stored value: commas, quotes, CR/LF,
 *                      UTF-8 "Zoë 日本", NULLs empty, formula cells = + - @ TAB CR
 *                      neutralised with a leading ' (inside the quotes when quoted)
 *   csv_raw_text       the exact bytes of a few tricky cells, CRLF ends, no BOM
 *   csv_bodies         with bodies: text as is, BLOB as base64:..., bodies over 64 KB
 *   csv_filter_empty   a filter narrows the rows; an empty result is the header alone
 *   ndjson_lines       every line parses and equals rs_get()'s row; oldest first
 *   cancel             a writer returning non-zero mid-stream or at the last flush stops
 *                      the export with REQLOG_ERR_CANCELLED
 *   progress           about every 1%, increasing, last call done == total
 *   har_empty          HAR of an empty history is a valid HAR 1.2 envelope (the rest:
 *                      tests/integration/test_har.c)
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

#include "read/read.h"
#include "testutil.h"
#include "base/base64.h"
#include "read/row.h"

/* ------------------------------------------------------------------ database */

/* A fresh database with the library's own embedded schema. */
static sqlite3 *open_db(void) {
  return tu_memdb();
}

static void exec(sqlite3 *db, const char *sql) {
  tu_exec(db, sql);
}

/* Rows with every kind of awkward text. Bodies are bound, so BLOBs stay BLOBs. */
static void insert_tricky(sqlite3 *db) {
  exec(db,
       "INSERT INTO calls(id, started_at, method, url, host, path, status, error,"
       " duration_us, key, attempt, retry_of, source, error_message, request_size,"
       " response_size, origin) VALUES"
       " (1, 1795813445123456, 'GET', 'https://h/p?a=1,2', 'h', '/p', 200,"
       "  'line1' || char(13,10) || 'line2' || char(10) || 'line3' || char(13),"
       "  123456, '=HYPERLINK(\"http://evil\")', 1, NULL, 'cli', 'say \"hi\"', 0, 17,"
       "  'ci-runner-3'),"
       " (2, 1795813445000001, 'POST', '-2+3', 'h', '/', NULL, char(9) || 'TAB', 5,"
       "  '+1', 2, 1, '@SUM(A1)', 'Zoë 日本', 3, 0, '=cmd|\"/c calc\"'),"
       " (3, 1795899845999999, 'PATCH', 'plain', 'h', '/', 422, '=1,2', 1000,"
       "  '-', 1, NULL, 'proxy', char(13) || 'CR start', 1, 2, 'büro, 2. Stock'),"
       " (4, 0, 'DELETE', 'x', 'h', '/', 500, NULL, 0, '', 1, NULL, 'import', '', 0, 0,"
       "  'laptop')");
}

/* ------------------------------------------------------------------ export to memory */

struct sink {
  char *data;
  size_t len, cap;
  int calls;
  int stop_at;  /* return non-zero on this call (1-based); 0 = never */
};

static int sink_write(void *ctx, const char *data, size_t len) {
  struct sink *s = ctx;
  s->calls++;
  assert_true(len > 0 && len <= 65536);
  if (s->stop_at && s->calls == s->stop_at)
    return 1;
  if (s->len + len + 1 > s->cap) {
    s->cap = (s->len + len + 1) * 2;
    s->data = realloc(s->data, s->cap);
    assert_non_null(s->data);
  }
  memcpy(s->data + s->len, data, len);
  s->len += len;
  s->data[s->len] = '\0';
  return 0;
}

static struct sink export(sqlite3 *db, const reqlog_filter *f, reqlog_format format,
                          int with_bodies) {
  struct sink s = {0};
  reqlog_export_opts o = {.format = format, .with_bodies = with_bodies};
  char *cause = NULL;
  reqlog_err err = rs_export(db, f, 0, &o, sink_write, &s, &cause);
  if (err != REQLOG_OK)
    print_error("rs_export: %s\n", cause ? cause : "?");
  free(cause);
  assert_int_equal(err, REQLOG_OK);
  if (!s.data) {
    s.data = calloc(1, 1);
    assert_non_null(s.data);
  }
  return s;
}

/* ------------------------------------------------------------------ RFC 4180 reader */

struct cell {
  char *text;
  size_t len;
};

struct table {
  struct cell **rows;
  size_t *ncells;
  size_t nrows;
};

static void push_cell(struct table *t, struct cell c) {
  size_t r = t->nrows - 1;
  t->rows[r] = realloc(t->rows[r], (t->ncells[r] + 1) * sizeof(struct cell));
  assert_non_null(t->rows[r]);
  t->rows[r][t->ncells[r]++] = c;
}

static void new_row(struct table *t) {
  t->rows = realloc(t->rows, (t->nrows + 1) * sizeof *t->rows);
  t->ncells = realloc(t->ncells, (t->nrows + 1) * sizeof *t->ncells);
  assert_non_null(t->rows);
  assert_non_null(t->ncells);
  t->rows[t->nrows] = NULL;
  t->ncells[t->nrows] = 0;
  t->nrows++;
}

/* Strict RFC 4180: records end with CRLF (the last one too); a quoted field doubles its
 * quotes and is followed by a comma or CRLF; an unquoted field holds no quote, CR or LF. */
static struct table csv_read(const char *p, size_t n) {
  struct table t = {0};
  size_t i = 0;
  while (i < n) {
    new_row(&t);
    for (;;) {
      char *buf = malloc(n - i + 1);
      assert_non_null(buf);
      size_t len = 0;
      if (p[i] == '"') {
        i++;
        for (;;) {
          assert_true(i < n); /* an unterminated quote is a failure */
          if (p[i] == '"') {
            if (i + 1 < n && p[i + 1] == '"') {
              buf[len++] = '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          buf[len++] = p[i++];
        }
      } else {
        while (i < n && p[i] != ',' && p[i] != '\r') {
          assert_true(p[i] != '"' && p[i] != '\n');
          buf[len++] = p[i++];
        }
      }
      buf[len] = '\0';
      push_cell(&t, (struct cell){buf, len});
      assert_true(i < n);
      if (p[i] == ',') {
        i++;
        continue;
      }
      assert_true(p[i] == '\r' && i + 1 < n && p[i + 1] == '\n');
      i += 2;
      break;
    }
  }
  return t;
}

static void table_free(struct table *t) {
  for (size_t r = 0; r < t->nrows; r++) {
    for (size_t c = 0; c < t->ncells[r]; c++)
      free(t->rows[r][c].text);
    free(t->rows[r]);
  }
  free(t->rows);
  free(t->ncells);
}

/* ------------------------------------------------------------------ expectations */

#define HEADER                                                                   \
  "id,started_at,method,url,status,duration_ms,key,attempt,retry_of,source,error," \
  "error_message,request_size,response_size,origin,request_id,tags,note"

/* What a text cell should read back as: the stored text, with a leading ' when it starts
 * like a formula. */
static char *neutral(const char *s, size_t n) {
  char *out = malloc(n + 2);
  assert_non_null(out);
  size_t k = 0;
  if (n > 0 && strchr("=+-@\t\r", s[0]))
    out[k++] = '\'';
  memcpy(out + k, s, n);
  out[k + n] = '\0';
  return out;
}

static void cell_equals(const struct cell *c, const char *want, size_t want_len,
                        size_t row, size_t col) {
  if (c->len != want_len || memcmp(c->text, want, want_len) != 0)
    print_error("row %zu col %zu: got [%s] want [%.*s]\n", row, col, c->text, (int)want_len,
                want);
  assert_int_equal(c->len, want_len);
  assert_memory_equal(c->text, want, want_len);
}

static void base64_of(const unsigned char *b, size_t n, char **out, size_t *len) {
  *out = malloc(7 + BASE64_LEN(n) + 1);
  assert_non_null(*out);
  memcpy(*out, "base64:", 7);
  *len = 7 + base64_encode(b, n, *out + 7);
  (*out)[*len] = '\0';
}

/* Compares every cell of T with the database, read with plain SQL here, and started_at
 * with rs_get()'s (util_format_time()). */
static void compare_table(sqlite3 *db, const struct table *t, int with_bodies) {
  sqlite3_stmt *st = NULL;
  assert_int_equal(
    sqlite3_prepare_v2(db,
                       "SELECT id, started_at, method, url, status, duration_us, key, attempt,"
                       " retry_of, source, error, error_message, request_size,"
                       " response_size, origin, request_id,"
                       " (SELECT tags FROM call_notes WHERE call_id = calls.id),"
                       " (SELECT note FROM call_notes WHERE call_id = calls.id),"
                       " request_body, response_body FROM calls"
                       " ORDER BY id",
                       -1, &st, NULL),
    SQLITE_OK);
  size_t ncols = with_bodies ? 20 : 18;
  size_t r = 1;
  for (; sqlite3_step(st) == SQLITE_ROW; r++) {
    assert_true(r < t->nrows);
    assert_int_equal(t->ncells[r], ncols);
    for (size_t c = 0; c < ncols; c++) {
      int col = (int)c;
      int type = sqlite3_column_type(st, col);
      char num[64];
      char *want = NULL;
      size_t len = 0;
      if (type == SQLITE_NULL) {
        want = strdup("");
      } else if (c == 1) {
        cJSON *row = NULL;
        assert_int_equal(rs_get(db, sqlite3_column_int64(st, 0), &row, NULL), REQLOG_OK);
        want = strdup(cJSON_GetObjectItemCaseSensitive(row, "started_at")->valuestring);
        cJSON_Delete(row);
      } else if (c == 5) {
        long long us = sqlite3_column_int64(st, col);
        snprintf(num, sizeof num, "%lld.%03lld", us / 1000, us % 1000);
        want = strdup(num);
      } else if (type == SQLITE_INTEGER) {
        snprintf(num, sizeof num, "%lld", (long long)sqlite3_column_int64(st, col));
        want = strdup(num);
      } else if (type == SQLITE_BLOB) {
        base64_of(sqlite3_column_blob(st, col), (size_t)sqlite3_column_bytes(st, col), &want,
                  &len);
      } else {
        const char *s = (const char *)sqlite3_column_text(st, col);
        want = neutral(s, (size_t)sqlite3_column_bytes(st, col));
      }
      assert_non_null(want);
      if (!len)
        len = strlen(want);
      cell_equals(&t->rows[r][c], want, len, r, c);
      free(want);
    }
  }
  sqlite3_finalize(st);
  assert_int_equal(r, t->nrows);
}

/* ------------------------------------------------------------------ tests */

static void csv_cells(void **state) {
  sqlite3 *db = open_db();
  insert_tricky(db);
  struct sink s = export(db, NULL, REQLOG_FORMAT_CSV, 0);
  struct table t = csv_read(s.data, s.len);
  assert_int_equal(t.nrows, 5);
  char header[sizeof HEADER];
  assert_int_equal(t.ncells[0], 18);
  size_t k = 0;
  for (size_t c = 0; c < 18; c++) {
    memcpy(header + k, t.rows[0][c].text, t.rows[0][c].len);
    k += t.rows[0][c].len;
    header[k++] = c < 17 ? ',' : '\0';
  }
  assert_string_equal(header, HEADER);
  compare_table(db, &t, 0);
  print_message("CSV read back with a strict RFC 4180 reader: header exact, 4 rows x 15 "
                "cells equal the stored values (commas, quotes, CR/LF, UTF-8, NULL empty, "
                "= + - @ TAB CR neutralised, duration in ms, ISO times)\n");
  table_free(&t);
  free(s.data);
  sqlite3_close(db);
}

static void csv_raw_text(void **state) {
  sqlite3 *db = open_db();
  insert_tricky(db);
  struct sink s = export(db, NULL, REQLOG_FORMAT_CSV, 0);
  assert_true(strncmp(s.data, HEADER "\r\n", sizeof HEADER + 1) == 0); /* no BOM */
  const char *want[] = {
    "1,2026-11-27T21:04:05.123456Z,GET,\"https://h/p?a=1,2\",200,123.456,"
    "\"'=HYPERLINK(\"\"http://evil\"\")\",1,,cli,"
    "\"line1\r\nline2\nline3\r\",\"say \"\"hi\"\"\",0,17,ci-runner-3,,,\r\n",
    "2,2026-11-27T21:04:05.000001Z,POST,'-2+3,,0.005,'+1,2,1,'@SUM(A1),'\tTAB,"
    "Zoë 日本,3,0,\"'=cmd|\"\"/c calc\"\"\",,,\r\n",
    "3,2026-11-28T21:04:05.999999Z,PATCH,plain,422,1.000,'-,1,,proxy,\"'=1,2\","
    "\"'\rCR start\",1,2,\"büro, 2. Stock\",,,\r\n",
    "4,1970-01-01T00:00:00.000000Z,DELETE,x,500,0.000,,1,,import,,,0,0,laptop,,,\r\n",
  };
  const char *p = s.data + sizeof HEADER + 1;
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    size_t n = strlen(want[i]);
    if (strncmp(p, want[i], n) != 0)
      print_error("line %zu:\n got: %.*s\nwant: %s\n", i + 1, (int)n, p, want[i]);
    assert_true(strncmp(p, want[i], n) == 0);
    p += n;
  }
  assert_int_equal(*p, '\0');
  print_message("CSV bytes: no BOM, CRLF ends, '\"'=1,2\"' (quote inside), doubled quotes, "
                "bare CR/LF quoted, UTF-8 as is, NULL status/retry_of/key empty, origin last "
                "(neutralised and quoted like any text)\n");
  free(s.data);
  sqlite3_close(db);
}

static void csv_bodies(void **state) {
  sqlite3 *db = open_db();
  insert_tricky(db);
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(db,
                                      "UPDATE calls SET request_body = ?, response_body = ?"
                                      " WHERE id = ?",
                                      -1, &st, NULL),
                   SQLITE_OK);
  size_t big = 200000;
  char *text = malloc(big + 1);
  unsigned char *bin = malloc(big);
  assert_non_null(text);
  assert_non_null(bin);
  for (size_t i = 0; i < big; i++) {
    text[i] = "ab\",\r\n日"[i % 9];
    bin[i] = (unsigned char)(i * 31 + 7);
  }
  text[big] = '\0';
  /* row 1: text bodies; row 2: a body starting like a formula and a BLOB; row 3: large */
  sqlite3_bind_text(st, 1, "{\"a\":\"x,y\"}\n", -1, SQLITE_STATIC);
  sqlite3_bind_blob(st, 2, "\x00\xff\x10", 3, SQLITE_STATIC);
  sqlite3_bind_int(st, 3, 1);
  assert_int_equal(sqlite3_step(st), SQLITE_DONE);
  sqlite3_reset(st);
  sqlite3_bind_text(st, 1, "-- not a formula", -1, SQLITE_STATIC);
  sqlite3_bind_null(st, 2);
  sqlite3_bind_int(st, 3, 2);
  assert_int_equal(sqlite3_step(st), SQLITE_DONE);
  sqlite3_reset(st);
  sqlite3_bind_text(st, 1, text, (int)big, SQLITE_STATIC);
  sqlite3_bind_blob(st, 2, bin, (int)big, SQLITE_STATIC);
  sqlite3_bind_int(st, 3, 3);
  assert_int_equal(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);

  struct sink s = export(db, NULL, REQLOG_FORMAT_CSV, 1);
  assert_true(strncmp(s.data, HEADER ",request_body,response_body\r\n", sizeof HEADER + 28)
              == 0);
  assert_non_null(strstr(s.data, ",\"{\"\"a\"\":\"\"x,y\"\"}\n\",base64:AP8Q\r\n"));
  assert_non_null(strstr(s.data, ",'-- not a formula,\r\n"));
  struct table t = csv_read(s.data, s.len);
  assert_int_equal(t.nrows, 5);
  assert_int_equal(t.ncells[0], 20);
  assert_string_equal(t.rows[0][14].text, "origin");
  assert_string_equal(t.rows[0][15].text, "request_id");
  assert_string_equal(t.rows[0][16].text, "tags");
  assert_string_equal(t.rows[0][17].text, "note");
  assert_string_equal(t.rows[0][18].text, "request_body");
  assert_string_equal(t.rows[0][19].text, "response_body");
  compare_table(db, &t, 1);
  assert_true(s.calls >= 8); /* > 600 KB went through the 64 KB buffer */
  print_message("CSV with bodies: header +request_body,response_body; text bodies quoted "
                "as needed, '-' body neutralised, BLOB as base64:AP8Q; 200 KB text and "
                "BLOB bodies read back equal across %d writes\n",
                s.calls);
  table_free(&t);
  free(s.data);
  free(text);
  free(bin);
  sqlite3_close(db);
}

static void csv_filter_empty(void **state) {
  sqlite3 *db = open_db();
  struct sink s = export(db, NULL, REQLOG_FORMAT_CSV, 0);
  assert_string_equal(s.data, HEADER "\r\n");
  free(s.data);

  insert_tricky(db);
  reqlog_filter *f = NULL;
  assert_int_equal(reqlog_filter_new(&f), REQLOG_OK);
  assert_int_equal(reqlog_filter_set(f, "method", "PATCH", NULL), REQLOG_OK);
  s = export(db, f, REQLOG_FORMAT_CSV, 0);
  struct table t = csv_read(s.data, s.len);
  assert_int_equal(t.nrows, 2);
  assert_string_equal(t.rows[1][0].text, "3");
  table_free(&t);
  free(s.data);
  reqlog_filter_free(f);
  print_message("CSV of no rows is the header alone; method=PATCH exports only row 3\n");
  sqlite3_close(db);
}

static void ndjson_lines(void **state) {
  sqlite3 *db = open_db();
  insert_tricky(db);
  exec(db, "UPDATE calls SET request_body = x'00ff', response_body = '{\"ok\":true}',"
           " request_headers = '[[\"A\",\"1\"]]', error_fields = '{\"email\":[\"x\"]}'"
           " WHERE id = 2");
  struct sink s = export(db, NULL, REQLOG_FORMAT_NDJSON, 0);
  assert_true(s.len > 0 && s.data[s.len - 1] == '\n');
  int64_t id = 0;
  int lines = 0;
  for (char *line = s.data; *line;) {
    char *nl = strchr(line, '\n');
    assert_non_null(nl);
    *nl = '\0';
    const char *end = NULL;
    cJSON *got = cJSON_ParseWithOpts(line, &end, 1);
    assert_non_null(got);
    int64_t this_id = (int64_t)cJSON_GetObjectItemCaseSensitive(got, "id")->valuedouble;
    assert_true(this_id > id);
    id = this_id;
    cJSON *want = NULL;
    assert_int_equal(rs_get(db, id, &want, NULL), REQLOG_OK);
    assert_true(cJSON_Compare(got, want, 1));
    assert_non_null(cJSON_GetObjectItemCaseSensitive(got, "request_body"));
    cJSON_Delete(got);
    cJSON_Delete(want);
    lines++;
    line = nl + 1;
  }
  assert_int_equal(lines, 4);
  print_message("NDJSON: 4 lines, oldest first, each parses and equals rs_get()'s row "
                "(bodies included, BLOB as base64)\n");
  free(s.data);
  sqlite3_close(db);
}

static void insert_many(sqlite3 *db, int n) {
  char sql[1024];
  snprintf(sql, sizeof sql,
           "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < %d)"
           " INSERT INTO calls(started_at, method, url, host, path, status, duration_us,"
           " key, source, error_message) SELECT 1795813445000000 + x * 1000, 'GET',"
           " 'https://api.app.astalty.com.au/public/v1/participants/' || x,"
           " 'api.app.astalty.com.au', '/public/v1/participants', 200, x * 10,"
           " '…abcd#3f2a9c1e', 'library', 'a message long enough to fill the buffer' FROM s",
           n);
  exec(db, sql);
}

static void cancel(void **state) {
  sqlite3 *db = open_db();
  insert_many(db, 3000); /* ~500 KB of CSV: several buffer flushes */
  reqlog_export_opts o = {.format = REQLOG_FORMAT_CSV};
  struct sink s = {.stop_at = 2};
  char *cause = NULL;
  assert_int_equal(rs_export(db, NULL, 0, &o, sink_write, &s, &cause), REQLOG_ERR_CANCELLED);
  assert_int_equal(s.calls, 2);
  assert_string_equal(cause, "export stopped: the writer asked to stop");
  free(cause);
  free(s.data);

  sqlite3 *small = open_db();
  insert_tricky(small);
  o.format = REQLOG_FORMAT_NDJSON;
  s = (struct sink){.stop_at = 1};
  assert_int_equal(rs_export(small, NULL, 0, &o, sink_write, &s, NULL), REQLOG_ERR_CANCELLED);
  assert_int_equal(s.calls, 1);
  assert_true(sqlite3_get_autocommit(small)); /* the read transaction was ended */
  free(s.data);
  print_message("cancel: writer stopping on its 2nd call ends a 3000-row CSV after 2 calls; "
                "stopping at the final flush of a small NDJSON also gives CANCELLED\n");
  sqlite3_close(small);
  sqlite3_close(db);
}

struct prog {
  int calls;
  int64_t last_done, last_total;
};

static void on_progress(void *ctx, int64_t done, int64_t total) {
  struct prog *p = ctx;
  assert_true(done > p->last_done || (done == 0 && p->calls == 0));
  assert_true(done <= total);
  p->calls++;
  p->last_done = done;
  p->last_total = total;
}

static void progress(void **state) {
  sqlite3 *db = open_db();
  insert_many(db, 2345);
  for (int fmt = 0; fmt <= 1; fmt++) {
    struct prog p = {0};
    reqlog_export_opts o = {.format = fmt ? REQLOG_FORMAT_NDJSON : REQLOG_FORMAT_CSV,
                            .progress = on_progress, .progress_ctx = &p};
    struct sink s = {0};
    assert_int_equal(rs_export(db, NULL, 0, &o, sink_write, &s, NULL), REQLOG_OK);
    assert_int_equal(p.last_done, 2345);
    assert_int_equal(p.last_total, 2345);
    assert_in_range(p.calls, 95, 102);
    free(s.data);
  }
  sqlite3 *empty = open_db();
  struct prog p = {0};
  reqlog_export_opts o = {.format = REQLOG_FORMAT_CSV, .progress = on_progress,
                          .progress_ctx = &p};
  struct sink s = {0};
  assert_int_equal(rs_export(empty, NULL, 0, &o, sink_write, &s, NULL), REQLOG_OK);
  assert_int_equal(p.calls, 1);
  assert_int_equal(p.last_total, 0);
  free(s.data);
  print_message("progress: 2345 rows, CSV and NDJSON, ~100 increasing calls ending with "
                "done == total == 2345; an empty export reports (0, 0) once\n");
  sqlite3_close(empty);
  sqlite3_close(db);
}

static void har_empty(void **state) {
  sqlite3 *db = open_db();
  reqlog_export_opts o = {.format = REQLOG_FORMAT_HAR};
  struct sink s = {0};
  char *cause = NULL;
  assert_int_equal(rs_export(db, NULL, 0, &o, sink_write, &s, &cause), REQLOG_OK);
  cJSON *har = cJSON_ParseWithLength(s.data, s.len);
  assert_non_null(har);
  cJSON *log = cJSON_GetObjectItemCaseSensitive(har, "log");
  assert_string_equal(cJSON_GetObjectItemCaseSensitive(log, "version")->valuestring, "1.2");
  assert_true(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(log, "entries")));
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(log, "entries")), 0);
  cJSON_Delete(har);
  free(s.data);
  print_message("HAR of an empty history: a valid HAR 1.2 envelope with no entries\n");
  sqlite3_close(db);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(csv_cells),   cmocka_unit_test(csv_raw_text),
    cmocka_unit_test(csv_bodies),  cmocka_unit_test(csv_filter_empty),
    cmocka_unit_test(ndjson_lines), cmocka_unit_test(cancel),
    cmocka_unit_test(progress),    cmocka_unit_test(har_empty),
  };
  return cmocka_run_group_tests_name("export", tests, NULL, NULL);
}
