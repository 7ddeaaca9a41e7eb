/* test_cli_export.c: `reqlog export` of the shared history (testcli.h) in each format,
 * to stdout and to a file, read back and compared with the stored rows.
 *
 * Plan:
 *   export csv     exact header row; with --bodies, commas, quotes, CR/LF, UTF-8 and
 *                  cells starting with = + - @ read back through an RFC 4180 reader:
 *                  every cell equals the stored value, formula cells get one leading '
 *   export ndjson  each line is show --json of its id; --format har gives one HAR entry
 *                  per row (HAR itself: tests/integration/test_har_*.c)
 *   export -o      file mode 0600, same bytes as stdout; on failure (bad filter, missing folder,
 *                  a folder as target) no file and no temporary file are left behind and
 *                  an existing file is untouched
 *   export -o DIR  DIR, DIR/ and . exit 4 saying "is a directory", nothing left behind
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testcli.h"

#define CSV_HEADER                                                                        \
  "id,started_at,method,url,status,duration_ms,key,attempt,retry_of,source,error,"       \
  "error_message,request_size,response_size,origin,request_id,tags,note"

/* ------------------------------------------------------------------ RFC 4180 reader */

typedef struct csv {
  char ***rows;    /* rows[i][j]: NUL-terminated cells */
  size_t *ncells;
  size_t nrows;
} csv;

typedef struct sbuf {
  char *p;
  size_t len, cap;
} sbuf;

static void sb_put(sbuf *b, char c) {
  if (b->len + 2 > b->cap) {
    b->cap = b->cap ? 2 * b->cap : 64;
    b->p = realloc(b->p, b->cap);
    assert_non_null(b->p);
  }
  b->p[b->len++] = c;
  b->p[b->len] = '\0';
}

static char *sb_take(sbuf *b) {
  char *s = b->p ? b->p : strdup("");
  b->p = NULL;
  b->len = b->cap = 0;
  return s;
}

/* Strict RFC 4180: records end in CRLF; a field is either plain (no '"', CR or LF) or
 * quoted with '"' doubled inside. Returns 0, or -1 with the byte offset of the problem
 * in *AT. */
static int csv_parse(const char *t, size_t len, csv *out, size_t *at) {
  memset(out, 0, sizeof *out);
  size_t i = 0;
  sbuf cell = {0};
  while (i < len) {
    char **cells = NULL;
    size_t n = 0;
    for (;;) { /* one field */
      if (t[i] == '"') {
        i++;
        for (;;) {
          if (i >= len)
            goto bad;
          if (t[i] == '"') {
            if (i + 1 < len && t[i + 1] == '"') {
              sb_put(&cell, '"');
              i += 2;
              continue;
            }
            i++;
            break;
          }
          sb_put(&cell, t[i++]);
        }
      } else {
        while (i < len && t[i] != ',' && t[i] != '\r') {
          if (t[i] == '"' || t[i] == '\n')
            goto bad;
          sb_put(&cell, t[i++]);
        }
      }
      cells = realloc(cells, (n + 1) * sizeof *cells);
      assert_non_null(cells);
      cells[n++] = sb_take(&cell);
      if (i < len && t[i] == ',') {
        i++;
        continue;
      }
      if (i + 1 < len && t[i] == '\r' && t[i + 1] == '\n') {
        i += 2;
        break;
      }
      goto bad; /* the last record must end in CRLF too */
    }
    out->rows = realloc(out->rows, (out->nrows + 1) * sizeof *out->rows);
    out->ncells = realloc(out->ncells, (out->nrows + 1) * sizeof *out->ncells);
    assert_true(out->rows && out->ncells);
    out->rows[out->nrows] = cells;
    out->ncells[out->nrows++] = n;
    continue;
  bad:
    *at = i;
    for (size_t k = 0; k < n; k++)
      free(cells[k]);
    free(cells);
    free(cell.p);
    return -1;
  }
  return 0;
}

static void csv_free(csv *c) {
  for (size_t i = 0; i < c->nrows; i++) {
    for (size_t j = 0; j < c->ncells[i]; j++)
      free(c->rows[i][j]);
    free(c->rows[i]);
  }
  free(c->rows);
  free(c->ncells);
}

/* ------------------------------------------------------------------ export */

/* What a CSV text cell must hold for VALUE: VALUE, with one ' in front when it starts
 * like a spreadsheet formula (= + - @, and tab / CR as reqlog.h says). */
static char *csv_expect_text(const char *value) {
  char *s = NULL;
  int formula = value[0] && strchr("=+-@\t\r", value[0]);
  assert_true(asprintf(&s, "%s%s", formula ? "'" : "", value) >= 0);
  return s;
}

static void test_export_csv(void **state) {
  tc_env *e = *state;
  tc_history(e);
  char *out = NULL, *err = NULL;
  int rc = tc_run(e, e->hist, NULL, NULL, ARGS("export", "--format", "csv"), &out, &err);
  tu_expect_exit(rc, 0, "export csv", err);
  assert_int_equal(strncmp(out, CSV_HEADER "\r\n", strlen(CSV_HEADER) + 2), 0);
  csv plain;
  size_t at = 0;
  int parsed = csv_parse(out, strlen(out), &plain, &at);
  if (parsed != 0)
    fprintf(stderr, "CSV not RFC 4180 at byte %zu: %.80s\n", at, out + at);
  assert_int_equal(parsed, 0);
  assert_int_equal(plain.nrows, e->hist_rows + 1);
  for (size_t i = 0; i < plain.nrows; i++)
    assert_int_equal(plain.ncells[i], 18);
  csv_free(&plain);
  tu_free2(&out, &err);
  printf("checked: export --format csv: header exactly '%s' + CRLF, %" PRId64 " records "
         "of 18 cells\n", CSV_HEADER, e->hist_rows);

  rc = tc_run(e, e->hist, NULL, NULL, ARGS("export", "--format", "csv", "--bodies"), &out, &err);
  tu_expect_exit(rc, 0, "export csv --bodies", err);
  assert_int_equal(strncmp(out, CSV_HEADER ",request_body,response_body\r\n",
                           strlen(CSV_HEADER) + 29), 0);
  tu_expect_has(out, "Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac", "UTF-8 kept as is");
  csv c;
  parsed = csv_parse(out, strlen(out), &c, &at);
  if (parsed != 0)
    fprintf(stderr, "CSV not RFC 4180 at byte %zu: %.80s\n", at, out + at);
  assert_int_equal(parsed, 0);
  tu_free2(&out, &err);

  rc = tc_run(e, e->hist, NULL, NULL, ARGS("list", "--limit", "0", "--json"), &out, &err);
  tu_expect_exit(rc, 0, "list", err);
  int listed = 0;
  char *ids = tc_json_ids(out, &listed);
  free(ids);
  tu_free2(&out, &err);
  assert_int_equal(c.nrows - 1, (size_t)listed);

  /* every cell against the stored row */
  sqlite3 *s = tu_db(e->hist);
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(s,
      "SELECT id, started_at, method, url, status, duration_us, key, attempt, retry_of, "
      "source, error, error_message, request_size, response_size, origin, request_id,"
      " (SELECT tags FROM call_notes WHERE call_id = calls.id),"
      " (SELECT note FROM call_notes WHERE call_id = calls.id),"
      " reqlog_unpack(packed, request_body), reqlog_unpack(packed, response_body)"
      " FROM calls ORDER BY id", -1, &st, NULL), SQLITE_OK);
  size_t r = 1;
  int cells = 0, formulas = 0, quoted = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    assert_true(r < c.nrows);
    assert_int_equal(c.ncells[r], 20);
    for (int k = 0; k < 20; k++) {
      char *want = NULL;
      int type = sqlite3_column_type(st, k);
      if (type == SQLITE_NULL) {
        want = strdup("");
      } else if (k == 1) {
        want = malloc(40);
        tu_iso_us(sqlite3_column_int64(st, k), want);
      } else if (k == 5) {
        int64_t us = sqlite3_column_int64(st, k);
        assert_true(asprintf(&want, "%" PRId64 ".%03" PRId64, us / 1000, us % 1000) > 0);
      } else if (type == SQLITE_INTEGER && k < 14) {
        assert_true(asprintf(&want, "%" PRId64, (int64_t)sqlite3_column_int64(st, k)) > 0);
      } else if (type == SQLITE_BLOB) {
        char *enc = tu_base64(sqlite3_column_blob(st, k), (size_t)sqlite3_column_bytes(st, k));
        assert_true(asprintf(&want, "base64:%s", enc) > 0);
        free(enc);
      } else {
        want = csv_expect_text((const char *)sqlite3_column_text(st, k));
        formulas += want[0] == '\'';
        quoted += strpbrk(want, ",\"\r\n") != NULL;
      }
      if (strcmp(c.rows[r][k], want) != 0)
        fprintf(stderr, "CSV row %zu (id %lld) column %d:\n  csv:    [%s]\n  stored: [%s]\n",
                r, (long long)sqlite3_column_int64(st, 0), k, c.rows[r][k], want);
      assert_string_equal(c.rows[r][k], want);
      free(want);
      cells++;
    }
    r++;
  }
  sqlite3_finalize(st);
  assert_int_equal(r, c.nrows);

  /* the hostile bodies, by value */
  static const char *const sent[] = {NASTY_TEXT, PLUS_TEXT, "-1", AT_TEXT, UTF8_JSON,
                                     PRETTY_JSON};
  static const int neutral[] = {1, 1, 1, 1, 0, 0};
  for (size_t i = 0; i < sizeof sent / sizeof sent[0]; i++) {
    int found = 0;
    for (size_t k = 1; k < c.nrows; k++) {
      const char *cell = c.rows[k][18];
      if (neutral[i] && cell[0] != '\'')
        continue;
      const char *v = neutral[i] ? cell + 1 : cell;
      if (strcmp(v, sent[i]) != 0)
        continue;
      found = 1;
      if (neutral[i]) {
        assert_int_equal(cell[0], '\'');
        assert_true(cell[1] != '\'');
      }
    }
    if (!found)
      fprintf(stderr, "no CSV request_body cell holds %s\n", sent[i]);
    assert_true(found);
  }
  int url_seen = 0;
  for (size_t k = 1; k < c.nrows; k++)
    url_seen += strstr(c.rows[k][3], NASTY_URL) != NULL;
  assert_int_equal(url_seen, 1);
  sqlite3_close(s);
  csv_free(&c);
  printf("checked: export --format csv --bodies: %d cells of %zu records read back through "
         "an RFC 4180 reader equal the stored values; %d text cells needed quoting (commas, "
         "quotes, CR/LF), %d formula cells (= + - @) got exactly one leading '; UTF-8 "
         "kept; a URL with '==SUM(A1)' and a comma kept whole; record count = list count "
         "%d\n", cells, c.nrows, quoted, formulas, listed);
}

static void test_export_ndjson(void **state) {
  tc_env *e = *state;
  tc_history(e);
  char *out = NULL, *err = NULL;
  int rc = tc_run(e, e->hist, NULL, NULL, ARGS("export", "--format", "ndjson"), &out, &err);
  tu_expect_exit(rc, 0, "export ndjson", err);
  int lines = 0;
  int64_t prev = 0;
  for (char *p = out; *p;) {
    char *nl = strchr(p, '\n');
    assert_non_null(nl);
    *nl = '\0';
    cJSON *row = cJSON_Parse(p);
    if (!row)
      fprintf(stderr, "NDJSON line %d does not parse: %.200s\n", lines + 1, p);
    assert_true(cJSON_IsObject(row));
    int64_t id = tu_jint(row, "id");
    assert_true(id > prev);
    prev = id;
    const cJSON *shown = tc_show_row(e, id);
    if (!cJSON_Compare(row, shown, 1))
      fprintf(stderr, "NDJSON line for id %" PRId64 " differs from show --json\n", id);
    assert_true(cJSON_Compare(row, shown, 1));
    cJSON_Delete(row);
    lines++;
    p = nl + 1;
  }
  assert_int_equal(lines, e->hist_rows);
  tu_free2(&out, &err);
  printf("checked: export --format ndjson: %d lines, oldest first, each parses and equals "
         "show --json of its id\n", lines);

  rc = tc_run(e, e->hist, NULL, NULL, ARGS("export", "--format", "har"), &out, &err);
  tu_expect_exit(rc, 0, "export har", err);
  cJSON *har = cJSON_Parse(out);
  assert_non_null(har);
  cJSON *entries = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(har, "log"),
                                                    "entries");
  assert_int_equal((int64_t)cJSON_GetArraySize(entries), (int64_t)e->hist_rows);
  cJSON_Delete(har);
  tu_free2(&out, &err);
  printf("checked: export --format har: one entry per row (%d)\n", (int)e->hist_rows);
  rc = tc_run(e, e->hist, NULL, NULL, ARGS("export", "--format", "xml"), &out, &err);
  tu_expect_exit(rc, 2, "export xml", err);
  tu_expect_has(err, "xml", "xml named");
  tu_free2(&out, &err);
  rc = tc_run(e, e->hist, NULL, NULL, ARGS("export"), &out, &err);
  tu_expect_exit(rc, 2, "export without format", err);
  tu_expect_has(err, "--format", "--format named");
  tu_free2(&out, &err);
  printf("checked: --format xml exits 2 naming the format; export without --format "
         "exits 2\n");
}

static void test_export_file(void **state) {
  tc_env *e = *state;
  tc_history(e);
  char *sub = tu_path(e->dir, "exports");
  assert_int_equal(mkdir(sub, 0755), 0);
  char *csvf = tu_path(sub, "out.csv"), *ndf = tu_path(sub, "out.ndjson");
  char *out = NULL, *err = NULL, *ref = NULL;

  int rc = tc_run(e, e->hist, NULL, NULL, ARGS("export", "--format", "csv", "--bodies"), &ref,
                  &err);
  tu_expect_exit(rc, 0, "export csv stdout", err);
  free(err);
  rc = tc_run(e, e->hist, NULL, NULL, ARGS("export", "--format", "csv", "--bodies", "-o", csvf),
              &out, &err);
  tu_expect_exit(rc, 0, "export -o", err);
  assert_string_equal(out, "");
  struct stat st;
  assert_int_equal(stat(csvf, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  char *content = tu_read_file(csvf);
  assert_string_equal(content, ref);
  free(content);
  tu_free2(&out, &err);
  free(ref);
  assert_int_equal(tu_dir_count(sub, ""), 2 + 1); /* ".", "..", out.csv */
  printf("checked: export -o FILE: nothing on stdout, FILE is mode 0600 and holds the same "
         "bytes as the export to stdout, nothing else in the folder\n");

  rc = tc_run(e, e->hist, NULL, NULL, ARGS("export", "--format", "ndjson"), &ref, &err);
  free(err);
  rc = tc_run(e, e->hist, NULL, NULL, ARGS("export", "-o", ndf), &out, &err);
  tu_expect_exit(rc, 0, "export -o .ndjson", err);
  content = tu_read_file(ndf);
  assert_string_equal(content, ref);
  free(content);
  free(ref);
  tu_free2(&out, &err);
  printf("checked: export -o out.ndjson without --format: NDJSON, as to stdout\n");

  /* failures leave nothing behind and never touch an existing file */
  tu_write_file(csvf, "OLD CONTENT\n", 0644);
  rc = tc_run(e, e->hist, NULL, NULL,
              ARGS("export", "--format", "csv", "--status", "4yy", "-o", csvf), &out, &err);
  tu_expect_exit(rc, 2, "export --status 4yy -o existing", err);
  content = tu_read_file(csvf);
  assert_string_equal(content, "OLD CONTENT\n");
  free(content);
  tu_free2(&out, &err);
  char *harf = tu_path(sub, "out.xml");
  rc = tc_run(e, e->hist, NULL, NULL, ARGS("export", "-o", harf), &out, &err);
  tu_expect_exit(rc, 2, "export -o out.xml", err);
  tu_free2(&out, &err);
  assert_int_equal(tu_dir_count(sub, "out.xml"), 0);
  assert_int_equal(tu_dir_count(sub, "out.csv"), 1);
  printf("checked: a failing export (bad filter, unknown format) exits 2, leaves no file "
         "nor temporary file, and an existing out.csv keeps its content\n");

  char *missing = tu_path(sub, "missing/x.csv");
  rc = tc_run(e, e->hist, NULL, NULL, ARGS("export", "--format", "csv", "-o", missing), &out, &err);
  assert_true(rc != 0);
  tu_expect_exit(rc, 4, "export -o missing/x.csv", err);
  tu_expect_has(err, missing, "missing folder named");
  tu_free2(&out, &err);
  assert_int_equal(tu_dir_count(sub, "missing"), 0);
  char *asdir = tu_path(sub, "adir");
  assert_int_equal(mkdir(asdir, 0755), 0);
  rc = tc_run(e, e->hist, NULL, NULL, ARGS("export", "--format", "csv", "-o", asdir), &out, &err);
  tu_expect_exit(rc, 4, "export -o a folder", err);
  tu_free2(&out, &err);
  assert_int_equal(tu_dir_count(sub, "adir"), 1); /* the folder itself, no adir.XXXXXX */
  assert_int_equal(tu_dir_count(asdir, ""), 2);
  assert_int_equal(tu_dir_count(sub, ""), 2 + 3); /* out.csv, out.ndjson, adir */
  printf("checked: -o into a missing folder exits 4 naming it and creates nothing; -o "
         "naming a folder exits 4 and leaves no temporary file\n");
  free(asdir);
  free(missing);
  free(harf);
  free(csvf);
  free(ndf);
  free(sub);
}

static void test_export_to_directory(void **state) {
  tc_env *e = *state;
  tc_history(e);
  char *sub = tu_path(e->dir, "export-dirs"), *out = NULL, *err = NULL;
  assert_int_equal(mkdir(sub, 0755), 0);
  char *target = tu_path(sub, "target"), *slash = NULL;
  assert_int_equal(mkdir(target, 0755), 0);
  assert_true(asprintf(&slash, "%s/", target) > 0);
  const char *const outputs[] = {target, slash, "."};
  for (size_t i = 0; i < sizeof outputs / sizeof outputs[0]; i++) {
    int rc = tc_run(e, e->hist, NULL, NULL, ARGS("export", "--format", "csv", "-o", outputs[i]),
                    &out, &err);
    tu_expect_exit(rc, 4, outputs[i], err);
    tu_expect_has(err, "is a directory", outputs[i]);
    tu_expect_has(err, outputs[i], outputs[i]);
    assert_null(strstr(err, "ermission"));
    tu_free2(&out, &err);
  }
  assert_int_equal(tu_dir_count(sub, ""), 2 + 1);
  assert_int_equal(tu_dir_count(target, ""), 2);
  printf("checked: export -o DIR, DIR/ and . exit 4 saying 'is a directory', and leave "
         "nothing behind\n");
  free(slash);
  free(target);
  free(sub);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_export_csv),
    cmocka_unit_test(test_export_ndjson),
    cmocka_unit_test(test_export_file),
    cmocka_unit_test(test_export_to_directory),
  };
  return cmocka_run_group_tests(tests, tc_setup, tc_teardown);
}
