/* test_compact.c: the compact history (docs/design.md §10): header JSON and bodies packed
 * with zstd and a dictionary trained on the history, the search index as a candidate
 * filter, and the conversion of an older history (schema/004_compact.sql).
 *
 * Plan:
 *   round trip   1,200 imported calls (text, binary, invalid UTF-8, empty, hex, short,
 *                truncated big bodies) packed without a dictionary, one trained, 1,200
 *                more packed with it: every reader (the library's rows and get, `export`
 *                as NDJSON, HAR and CSV with bodies) gives back exactly what was recorded
 *   storage      `stats --storage`: parts adding up to the file, packed against plain
 *   hidden       a marker in a packed body is not in the raw file bytes, and the tests'
 *                secret check (tu_db_files_contain) still finds it
 *   candidates   q finds words in packed bodies through the index and by scan, and not
 *                a word whose trigrams a row holds apart ("abcXbcd" is no "abcd")
 *   prune        pruning the rows the dictionary was trained on deletes it (no text of
 *                theirs stays in the file) and packs the kept rows with a new one
 *   convert      a schema-3 history of 30,000 calls: the conversion (`reqlog list`)
 *                killed mid-way (-9) leaves every row readable as recorded; run again it
 *                ends: all rows packed, searchable, counted by stats, the file smaller
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "store/schema.h"
#include "store/store.h"

#define NCALLS 1200
#define BIG (300 * 1024) /* above the default body cap: stored cut */
#define SECOND 10000     /* the second import's first call number */

/* ------------------------------------------------------------------ the bodies */

/* The response body of call I (*len bytes, malloc'd); *binary when it goes into the HAR
 * as base64. */
static unsigned char *body_of(int i, size_t *len, int *binary) {
  unsigned char *b = malloc(BIG + 64);
  *binary = 0;
  switch (i % 8) {
  case 0:
    *len = (size_t)sprintf((char *)b, "{\"id\":%d,\"first_name\":\"Participant%d\",\"email\":"
                           "\"p%d@example.org\",\"notes\":\"physiotherapy review %d\","
                           "\"status\":\"active\",\"batch\":\"%s\"}", i, i, i, i % 97,
                           i < SECOND ? "firstimportonly" : "second");
    break;
  case 1: /* bytes */
    *len = 300;
    for (size_t k = 0; k < *len; k++)
      b[k] = (unsigned char)((i * 131 + k * 17) ^ (k >> 3));
    *binary = 1;
    break;
  case 2: /* invalid UTF-8 */
    *len = (size_t)sprintf((char *)b, "ab\xff\xfe cd %d \xc3", i);
    *binary = 1;
    break;
  case 3:
    *len = 0;
    break;
  case 4: /* lower-case hex: packed as its bytes */
    for (int k = 0; k < 64; k++)
      b[k] = "0123456789abcdef"[(i + k * 7) % 16];
    *len = 64;
    break;
  case 5:
    *len = (size_t)sprintf((char *)b, "007");
    break;
  case 6: /* big, every 48th call: cut at the cap */
    if (i % 48 == 6) {
      for (size_t k = 0; k < BIG; k++)
        b[k] = (unsigned char)("{\"rows\":[1,2,3]} "[k % 17]);
      *len = BIG;
      break;
    }
    *len = (size_t)sprintf((char *)b, "{\"list\":[%d,%d,%d]}", i, i + 1, i + 2);
    break;
  default: /* the candidate check: trigrams of "abcd" without "abcd" */
    *len = (size_t)sprintf((char *)b, "{\"text\":\"abcXbcd zanzibar%d\"}", i % 3);
    break;
  }
  b[*len] = '\0';
  return b;
}

/* A HAR of NCALLS calls to /v1/TAG/items/I, I from FIRST on (the body is call I's). */
static char *make_har(const char *tag, int first) {
  cJSON *entries = cJSON_CreateArray();
  for (int i = first; i < first + NCALLS; i++) {
    size_t len;
    int binary;
    unsigned char *b = body_of(i, &len, &binary);
    char url[128], *b64 = binary ? tu_base64(b, len) : NULL;
    snprintf(url, sizeof url, "https://api.example.com/v1/%s/items/%d", tag, i);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "startedDateTime", "2026-11-27T21:04:05.123Z");
    cJSON_AddNumberToObject(e, "time", 12.5);
    cJSON *rq = cJSON_AddObjectToObject(e, "request");
    cJSON_AddStringToObject(rq, "method", "GET");
    cJSON_AddStringToObject(rq, "url", url);
    cJSON_AddStringToObject(rq, "httpVersion", "HTTP/1.1");
    cJSON *h = cJSON_AddArrayToObject(rq, "headers");
    cJSON *hv = cJSON_CreateObject();
    cJSON_AddStringToObject(hv, "name", "Accept");
    cJSON_AddStringToObject(hv, "value", "application/json");
    cJSON_AddItemToArray(h, hv);
    cJSON_AddArrayToObject(rq, "queryString");
    cJSON_AddArrayToObject(rq, "cookies");
    cJSON_AddNumberToObject(rq, "headersSize", -1);
    cJSON_AddNumberToObject(rq, "bodySize", 0);
    cJSON *rs = cJSON_AddObjectToObject(e, "response");
    cJSON_AddNumberToObject(rs, "status", 200);
    cJSON_AddStringToObject(rs, "statusText", "OK");
    cJSON_AddStringToObject(rs, "httpVersion", "HTTP/1.1");
    cJSON_AddArrayToObject(rs, "headers");
    cJSON_AddArrayToObject(rs, "cookies");
    cJSON *c = cJSON_AddObjectToObject(rs, "content");
    cJSON_AddNumberToObject(c, "size", (double)len);
    cJSON_AddStringToObject(c, "mimeType", binary ? "application/octet-stream"
                                                  : "application/json");
    cJSON_AddStringToObject(c, "text", b64 ? b64 : (const char *)b);
    if (b64)
      cJSON_AddStringToObject(c, "encoding", "base64");
    cJSON_AddStringToObject(rs, "redirectURL", "");
    cJSON_AddNumberToObject(rs, "headersSize", -1);
    cJSON_AddNumberToObject(rs, "bodySize", (double)len);
    cJSON_AddObjectToObject(e, "cache");
    cJSON *t = cJSON_AddObjectToObject(e, "timings");
    cJSON_AddNumberToObject(t, "send", 0);
    cJSON_AddNumberToObject(t, "wait", 10);
    cJSON_AddNumberToObject(t, "receive", 2.5);
    cJSON_AddItemToArray(entries, e);
    free(b);
    free(b64);
  }
  cJSON *doc = cJSON_CreateObject(), *log = cJSON_AddObjectToObject(doc, "log");
  cJSON_AddStringToObject(log, "version", "1.2");
  cJSON *cr = cJSON_AddObjectToObject(log, "creator");
  cJSON_AddStringToObject(cr, "name", "t");
  cJSON_AddStringToObject(cr, "version", "1");
  cJSON_AddItemToObject(log, "entries", entries);
  char *text = cJSON_PrintUnformatted(doc);
  cJSON_Delete(doc);
  return text;
}

/* The call number in URL ("/items/I"). */
static int call_of(const char *url) {
  const char *p = strstr(url, "/items/");
  assert_non_null(p);
  return atoi(p + 7);
}

/* BODY (a row model's response_body: a string or {"base64": ...}) is call I's body, cut
 * when TRUNCATED. */
static void check_body(const cJSON *body, int i, int truncated) {
  size_t len;
  int binary;
  unsigned char *want = body_of(i, &len, &binary);
  const unsigned char *got;
  size_t got_len;
  unsigned char *dec = NULL;
  if (len == 0 && cJSON_IsNull(body)) { /* an empty HAR body is imported as none */
    free(want);
    return;
  }
  if (cJSON_IsString(body)) {
    assert_false(binary);
    got = (const unsigned char *)body->valuestring;
    got_len = strlen(body->valuestring);
  } else {
    const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(body, "base64");
    if (!binary || !cJSON_IsString(b64)) {
      char *t = cJSON_PrintUnformatted(body);
      fprintf(stderr, "call %d (kind %d): %s\n", i, i % 8, t ? t : "?");
      free(t);
    }
    assert_true(binary && cJSON_IsString(b64));
    /* compare encoded: the expected bytes in base64 */
    char *enc = tu_base64(want, len);
    assert_string_equal(b64->valuestring, enc);
    free(enc);
    free(want);
    return;
  }
  if (truncated) {
    assert_true(got_len < len);
    assert_memory_equal(got, want, got_len);
  } else {
    assert_int_equal(got_len, len);
    assert_memory_equal(got, want, len);
  }
  free(dec);
  free(want);
}

/* ------------------------------------------------------------------ round trip */

typedef struct env {
  char *dir, *db, *har1, *har2;
} env;

static void import(const env *e, const char *har) {
  const char *argv[] = {"--db", e->db, "import", har, NULL};
  const char *vars[] = {"REQLOG_BODY_CAP=262144", NULL}; /* BIG bodies are cut */
  char *out = NULL, *err = NULL;
  int rc = tu_run(argv, NULL, vars, &out, &err);
  tu_expect_exit(rc, 0, "import", err);
  tu_free2(&out, &err);
}

/* Catches the indexer up as a recording process's idle writer would: the dictionary is
 * trained on its first run once the history holds 1,000 rows. */
static void index_all(const char *db) {
  sqlite3 *h = tu_db(db);
  int done = 0;
  do
    assert_int_equal(store_index_fts(h, 500, &done), REQLOG_OK);
  while (done > 0);
  sqlite3_close(h);
}

static int setup(void **state) {
  env *e = calloc(1, sizeof *e);
  e->dir = tu_tmpdir();
  e->db = tu_path(e->dir, "c.db");
  e->har1 = tu_path(e->dir, "one.har");
  e->har2 = tu_path(e->dir, "two.har");
  char *t = make_har("one", 0);
  tu_write_file(e->har1, t, 0600);
  free(t);
  t = make_har("two", SECOND);
  tu_write_file(e->har2, t, 0600);
  free(t);
  import(e, e->har1);  /* packed without a dictionary */
  index_all(e->db);    /* trains one */
  import(e, e->har2);  /* packed with it */
  *state = e;
  return 0;
}

static int teardown(void **state) {
  env *e = *state;
  tu_rmtree(e->dir);
  free(e->dir);
  free(e->db);
  free(e->har1);
  free(e->har2);
  free(e);
  return 0;
}

static void test_packed_as_said(void **state) {
  env *e = *state;
  sqlite3 *h = tu_db(e->db);
  assert_int_equal(tu_int(h, "SELECT count(*) FROM calls"), 2 * NCALLS);
  assert_int_equal(tu_int(h, "SELECT count(*) FROM calls WHERE packed = 1"), 2 * NCALLS);
  assert_int_equal(tu_int(h, "SELECT count(*) FROM zdict WHERE length(dict) > 0"), 1);
  /* the second import's text bodies refer to the dictionary (kind 1, dictionary id 1) */
  int64_t with_dict = tu_int(h, "SELECT count(*) FROM calls WHERE url LIKE '%/two/%'"
                                " AND typeof(response_body) = 'blob'"
                                " AND substr(response_body, 1, 2) = x'0101'");
  int64_t first_dict = tu_int(h, "SELECT count(*) FROM calls WHERE url LIKE '%/one/%'"
                                 " AND substr(response_body, 1, 2) = x'0101'");
  assert_true(with_dict >= NCALLS / 8);
  assert_int_equal(first_dict, 0);
  /* the digests are their 32 bytes (kind 3) */
  assert_true(tu_int(h, "SELECT count(*) FROM calls WHERE length(response_sha256) = 33"
                        " AND substr(response_sha256, 1, 1) = x'03'") > NCALLS);
  int64_t plain = tu_int(h, "SELECT sum(length(reqlog_unpack(packed, response_body)))"
                            " FROM calls WHERE url LIKE '%/two/%'");
  int64_t stored = tu_int(h, "SELECT sum(length(response_body)) FROM calls"
                             " WHERE url LIKE '%/two/%'");
  sqlite3_close(h);
  printf("checked: %lld of the second import's bodies use the dictionary; its bodies take "
         "%lld bytes stored for %lld plain\n", (long long)with_dict, (long long)stored,
         (long long)plain);
  assert_true(stored * 3 < plain);
}

/* Every row of the library's list (the row model behind list, show, the web API and
 * NDJSON), and reqlog_get of some. */
static void test_library_rows(void **state) {
  env *e = *state;
  reqlog *r = NULL;
  assert_int_equal(reqlog_open_readonly(e->db, &r, NULL), REQLOG_OK);
  cJSON *rows = tu_rows(r);
  assert_int_equal(cJSON_GetArraySize(rows), 2 * NCALLS);
  int truncated = 0;
  const cJSON *row;
  cJSON_ArrayForEach(row, rows) {
    int t = tu_is_true(row, "response_truncated");
    truncated += t;
    check_body(cJSON_GetObjectItemCaseSensitive(row, "response_body"),
               call_of(tu_str(row, "url")), t);
    assert_string_equal(tu_header(row, "request_headers", "Accept"), "application/json");
    const char *sha = tu_str(row, "response_sha256");
    if (sha)
      assert_int_equal(strlen(sha), 64);
  }
  for (int64_t id = 1; id <= 2 * NCALLS; id += 97) {
    cJSON *one = NULL;
    assert_int_equal(reqlog_get(r, id, &one, NULL), REQLOG_OK);
    check_body(cJSON_GetObjectItemCaseSensitive(one, "response_body"),
               call_of(tu_str(one, "url")), tu_is_true(one, "response_truncated"));
    cJSON_Delete(one);
  }
  cJSON_Delete(rows);
  reqlog_close(r);
  assert_true(truncated >= 2 * (NCALLS / 48));
  printf("checked: %d rows (text, bytes, invalid UTF-8, empty, hex, short, %d cut at the "
         "cap) read back as recorded through the row model\n", 2 * NCALLS, truncated);
}

static char *run_ok(const env *e, const char *const *args) {
  char *out = NULL, *err = NULL;
  int rc = tu_run(args, NULL, NULL, &out, &err);
  tu_expect_exit(rc, 0, args[2], err);
  free(err);
  return out;
}

/* `export` as NDJSON, HAR and CSV with bodies. */
static void test_exports(void **state) {
  env *e = *state;
  const char *nd[] = {"--db", e->db, "export", "--format", "ndjson", NULL};
  char *out = run_ok(e, nd);
  int n = 0;
  for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"), n++) {
    cJSON *row = cJSON_Parse(line);
    assert_non_null(row);
    check_body(cJSON_GetObjectItemCaseSensitive(row, "response_body"),
               call_of(tu_str(row, "url")), tu_is_true(row, "response_truncated"));
    cJSON_Delete(row);
  }
  free(out);
  assert_int_equal(n, 2 * NCALLS);

  const char *har[] = {"--db", e->db, "export", "--format", "har", NULL};
  out = run_ok(e, har);
  cJSON *doc = cJSON_Parse(out);
  free(out);
  const cJSON *entry;
  n = 0;
  cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(
                              cJSON_GetObjectItemCaseSensitive(doc, "log"), "entries")) {
    const cJSON *rq = cJSON_GetObjectItemCaseSensitive(entry, "request");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(entry, "response"), "content");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(c, "text");
    const cJSON *enc = cJSON_GetObjectItemCaseSensitive(c, "encoding");
    int i = call_of(tu_str(rq, "url"));
    size_t len;
    int binary;
    unsigned char *want = body_of(i, &len, &binary);
    if (cJSON_IsString(enc)) {
      char *b64 = tu_base64(want, len);
      assert_true(binary);
      assert_string_equal(text->valuestring, b64);
      free(b64);
    } else if (cJSON_IsString(text) && len < BIG) {
      assert_false(binary);
      assert_string_equal(text->valuestring, (const char *)want);
    }
    free(want);
    n++;
  }
  cJSON_Delete(doc);
  assert_int_equal(n, 2 * NCALLS);

  const char *csv[] = {"--db", e->db, "export", "--format", "csv", "--bodies", "--q",
                       "zanzibar1", NULL};
  out = run_ok(e, csv);
  int cells = 0;
  for (const char *p = out; (p = strstr(p, "{\"\"text\"\":\"\"abcXbcd zanzibar1\"\"}")); p++)
    cells++;
  free(out);
  assert_int_equal(cells, 2 * (NCALLS / 24));
  printf("checked: export ndjson and har give every body as recorded; csv --bodies the "
         "%d text bodies of q=zanzibar1\n", cells);
}

/* `stats --storage`: the parts add up to the file, per call, packed against plain. */
static void test_stats_storage(void **state) {
  env *e = *state;
  const char *js[] = {"--db", e->db, "stats", "--storage", "--json", NULL};
  char *out = run_ok(e, js);
  cJSON *s = cJSON_Parse(out);
  free(out);
  assert_non_null(s);
  assert_int_equal(tu_jint(s, "calls"), 2 * NCALLS);
  const cJSON *parts = cJSON_GetObjectItemCaseSensitive(s, "parts"), *p;
  double sum = 0;
  cJSON_ArrayForEach(p, parts)
    sum += p->valuedouble;
  assert_true(sum == tu_num(s, "file_bytes"));
  assert_true(tu_num(parts, "calls") > 0 && tu_num(parts, "search_index") > 0);
  const cJSON *ix = cJSON_GetObjectItemCaseSensitive(s, "indexes");
  assert_true(tu_num(ix, "calls_time") > 0);
  assert_null(cJSON_GetObjectItemCaseSensitive(ix, "calls_status")); /* 004 dropped it */
  const cJSON *pk = cJSON_GetObjectItemCaseSensitive(s, "packed");
  sqlite3 *h = tu_db(e->db);
  assert_true(tu_num(pk, "bodies_plain") ==
              (double)tu_int(h, "SELECT sum(coalesce(length(reqlog_unpack(packed, request_body)),"
                                " 0) + coalesce(length(reqlog_unpack(packed, response_body)), 0))"
                                " FROM calls"));
  sqlite3_close(h);
  assert_true(tu_num(pk, "bodies_stored") * 3 < tu_num(pk, "bodies_plain"));
  assert_true(tu_num(pk, "headers_stored") < tu_num(pk, "headers_plain"));
  cJSON_Delete(s);
  const char *txt[] = {"--db", e->db, "stats", "--storage", NULL};
  out = run_ok(e, txt);
  tu_expect_has(out, "B/call", "stats --storage");
  tu_expect_has(out, "search index", "stats --storage");
  tu_expect_has(out, "packed from", "stats --storage");
  printf("%s", out);
  free(out);
  const char *bad[] = {"--db", e->db, "stats", "--storage", "--status", "200", NULL};
  char *err = NULL;
  int rc = tu_run(bad, NULL, NULL, &out, &err);
  tu_expect_exit(rc, 2, "stats --storage --status", err);
  tu_expect_has(err, "--storage takes no filters", "stats --storage --status");
  tu_free2(&out, &err);
}

/* The secret check reads packed values: a marker a packed body holds is not in the raw
 * bytes, yet is found. */
static void test_hidden_marker_found(void **state) {
  env *e = *state;
  /* call 10296's first name, in a body the dictionary packed (not in the first import,
   * nor in the index: the second import is above its mark) */
  assert_false(tu_file_contains(e->db, "Participant10296"));
  assert_true(tu_db_values_contain(e->db, "Participant10296"));
  assert_true(tu_db_files_contain(e->db, "Participant10296"));
  assert_false(tu_db_files_contain(e->db, "NEVERRECORDEDMARKER"));
  printf("checked: a text of a packed body is not in the raw file, and the secret check "
         "finds it all the same\n");
}

static int64_t count_q(const char *db, const char *q) {
  const char *argv[] = {"--db", db, "export", "--format", "ndjson", "--q", q, NULL};
  char *out = NULL, *err = NULL;
  int rc = tu_run(argv, NULL, NULL, &out, &err);
  tu_expect_exit(rc, 0, q, err);
  int64_t n = 0;
  for (const char *p = out; *p; p++)
    n += *p == '\n';
  tu_free2(&out, &err);
  return n;
}

/* prune deletes the first import, on which the dictionary was trained: it goes, and the
 * rows kept are packed again with one trained on them. */
static void test_prune_retires_dictionary(void **state) {
  env *e = *state;
  sqlite3 *h = tu_db(e->db);
  int64_t old = tu_int(h, "SELECT max(id) FROM zdict WHERE length(dict) > 0");
  assert_true(tu_int(h, "SELECT sampled_from FROM zdict WHERE id = (SELECT max(id) FROM zdict"
                        " WHERE length(dict) > 0)") <= NCALLS);
  assert_true(tu_intf(h, "SELECT count(*) FROM calls WHERE reqlog_packed_dict(response_body)"
                         " = %lld", (long long)old) > 0);
  sqlite3_close(h);
  assert_true(tu_db_files_contain(e->db, "firstimportonly"));
  const char *argv[] = {"--db", e->db, "prune", "--max-rows", "1200", NULL};
  char *out = run_ok(e, argv);
  assert_non_null(strstr(out, "pruned 1200 calls"));
  free(out);
  assert_false(tu_db_files_contain(e->db, "firstimportonly"));
  h = tu_db(e->db);
  assert_int_equal(tu_intf(h, "SELECT count(*) FROM zdict WHERE id = %lld", (long long)old), 0);
  assert_int_equal(tu_int(h, "SELECT count(*) FROM zdict WHERE sampled_from <= 1200"), 0);
  assert_int_equal(tu_int(h, "SELECT count(*) FROM zdict WHERE length(dict) > 0"), 1);
  assert_true(tu_int(h, "SELECT count(*) FROM calls WHERE reqlog_packed_dict(response_body)"
                        " IS NOT NULL") >= NCALLS / 8);
  sqlite3_close(h);
  reqlog *r = NULL;
  assert_int_equal(reqlog_open_readonly(e->db, &r, NULL), REQLOG_OK);
  cJSON *rows = tu_rows(r);
  assert_int_equal(cJSON_GetArraySize(rows), NCALLS);
  const cJSON *row;
  cJSON_ArrayForEach(row, rows)
    check_body(cJSON_GetObjectItemCaseSensitive(row, "response_body"),
               call_of(tu_str(row, "url")), tu_is_true(row, "response_truncated"));
  cJSON_Delete(rows);
  reqlog_close(r);
  printf("checked: prune of the rows a dictionary was trained on deletes it (its text is in "
         "no file any more); the %d rows kept read back as recorded, packed with a new one\n",
         NCALLS);
}

static void test_candidates_checked(void **state) {
  env *e = *state;
  sqlite3 *h = tu_db(e->db);
  /* the second import back above the indexer's mark (scanned), the first below it
   * (found through the index) */
  tu_exec(h, "BEGIN; INSERT INTO calls_fts(calls_fts, rowid, url, request_body, response_body)"
             " SELECT 'delete', id, url, reqlog_unpack_text(packed, request_body),"
             " reqlog_unpack_text(packed, response_body) FROM calls WHERE id > 1200;"
             " UPDATE meta SET value = 1200 WHERE name = 'fts_indexed'; COMMIT");
  sqlite3_close(h);
  assert_int_equal(count_q(e->db, "abcXbcd"), 2 * (NCALLS / 8));
  assert_int_equal(count_q(e->db, "ABCXBCD zanzibar2"), 2 * (NCALLS / 24));
  assert_int_equal(count_q(e->db, "abcd"), 0);   /* trigrams "abc", "bcd" apart */
  assert_int_equal(count_q(e->db, "bcXb"), 2 * (NCALLS / 8));
  index_all(e->db);
  assert_int_equal(count_q(e->db, "abcd"), 0);
  assert_int_equal(count_q(e->db, "abcXbcd"), 2 * (NCALLS / 8));
  assert_int_equal(count_q(e->db, "PHYSIOtherapy"), 2 * (NCALLS / 8));
  assert_int_equal(count_q(e->db, "Participant10296"), 1);
  printf("checked: q in packed bodies, indexed and scanned; a row with every trigram of "
         "'abcd' but not 'abcd' is not found\n");
}

/* ------------------------------------------------------------------ convert */

#define OLD_ROWS 30000

/* A history as reqlog wrote it before 004_compact.sql: schema 3, OLD_ROWS calls. */
static void make_schema3(const char *path) {
  sqlite3 *h = NULL;
  assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
  tu_exec(h, "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL");
  for (int i = 0; i < 3; i++)
    tu_exec(h, (const char *)reqlog_schema_files[i].data);
  tu_exec(h, "PRAGMA user_version = 3");
  sqlite3_close(h);
  chmod(path, 0600);
  tu_gen_calls(path, OLD_ROWS, "old-host", tu_now_us() - INT64_C(86400000000),
               1000000, 400);
  /* indexed for search as that reqlog's indexer did (detail=full) */
  h = tu_db(path);
  tu_exec(h, "INSERT INTO calls_fts(rowid, url, request_body, response_body)"
             " SELECT id, url, CASE WHEN typeof(request_body) = 'text' THEN request_body END,"
             " CASE WHEN typeof(response_body) = 'text' THEN response_body END FROM calls;"
             " UPDATE meta SET value = (SELECT max(id) FROM calls) WHERE name = 'fts_indexed';"
             " PRAGMA wal_checkpoint(TRUNCATE)");
  sqlite3_close(h);
}

static void test_convert_killed_and_resumed(void **state) {
  char *dir = tu_tmpdir(), *db = tu_path(dir, "old.db"), *log = tu_path(dir, "log");
  make_schema3(db);
  struct stat before;
  assert_int_equal(stat(db, &before), 0);
  const char *argv[] = {"--db", db, "list", "--limit", "1", NULL};
  pid_t pid = tu_spawn(argv, NULL, log);
  /* wait for the conversion to be under way, then kill it there */
  sqlite3 *h = NULL;
  int64_t mark = 0;
  /* the converter is stopped (SIGSTOP) before each look, so it cannot run on between
   * the look and the kill; a look that finds nothing converted yet lets it go on */
  for (int tries = 0; tries < 60000 && mark == 0; tries++) {
    if (tries) {
      kill(pid, SIGCONT);
      tu_sleep_ms(1);
    }
    kill(pid, SIGSTOP);
    if (!h && sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
      sqlite3_close(h);
      h = NULL;
      continue;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, "SELECT value FROM meta WHERE name = 'fts_indexed' AND EXISTS"
                           " (SELECT 1 FROM meta WHERE name = 'compact_top')", -1, &st,
                           NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
      mark = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  kill(pid, SIGKILL);
  assert_int_equal(tu_wait_exit(pid), 128 + SIGKILL);
  sqlite3_close(h);
  printf("killed the conversion at row %lld of %d\n", (long long)mark, OLD_ROWS);
  assert_true(mark > 0 && mark < OLD_ROWS);

  /* mid-way: what is converted and what is not read back the same */
  h = tu_db(db);
  int migrations = 0; /* every schema step ran; only the data conversion is left */
  while (reqlog_schema_files[migrations].name)
    migrations++;
  assert_int_equal(tu_int(h, "PRAGMA user_version"), migrations);
  assert_int_equal(tu_int(h, "SELECT count(*) FROM calls"), OLD_ROWS);
  assert_true(tu_int(h, "SELECT count(*) FROM calls WHERE packed = 0") > 0);
  assert_int_equal(tu_int(h, "SELECT count(*) FROM calls"
                             " WHERE reqlog_unpack(packed, response_body) NOT LIKE"
                             " '{\"id\":' || id || ',\"pad\":\"%\"}'"), 0);
  sqlite3_close(h);

  /* resumed by the next reader, to the end */
  const char *q[] = {"--db", db, "export", "--format", "ndjson", "--q", "\"id\":29999,", NULL};
  char *out = NULL, *err = NULL;
  int rc = tu_run(q, NULL, NULL, &out, &err);
  tu_expect_exit(rc, 0, "export after the kill", err);
  assert_non_null(strstr(out, "\"url\":\"https://api.example/v1/items/29999\""));
  tu_free2(&out, &err);
  h = tu_db(db);
  assert_int_equal(tu_int(h, "SELECT count(*) FROM calls"), OLD_ROWS);
  assert_int_equal(tu_int(h, "SELECT count(*) FROM calls WHERE packed = 1"), OLD_ROWS);
  assert_int_equal(tu_int(h, "SELECT value FROM meta WHERE name = 'fts_indexed'"), OLD_ROWS);
  assert_int_equal(tu_int(h, "SELECT count(*) FROM meta WHERE name = 'compact_top'"), 0);
  assert_int_equal(tu_int(h, "SELECT count(*) FROM calls"
                             " WHERE reqlog_unpack(packed, response_body) NOT LIKE"
                             " '{\"id\":' || id || ',\"pad\":\"%\"}'"), 0);
  /* the rollups were made again once: they count every row once */
  assert_int_equal(tu_int(h, "SELECT sum(n) FROM stats_day"), OLD_ROWS);
  assert_int_equal(tu_int(h, "SELECT count(*) FROM (SELECT status, count(*) AS n FROM calls"
                             " GROUP BY status) AS c WHERE c.n <> (SELECT sum(n) FROM"
                             " stats_day AS s WHERE s.status = coalesce(c.status, -1))"), 0);
  assert_int_equal(tu_int(h, "SELECT count(*) FROM zdict WHERE length(dict) > 0"), 1);
  sqlite3_close(h);
  assert_int_equal(count_q(db, "v1/items/2999"), 11);
  struct stat after;
  assert_int_equal(stat(db, &after), 0);
  printf("checked: resumed to the end: %d rows packed and searchable, rollups count each "
         "once; the file %lld -> %lld bytes\n", OLD_ROWS, (long long)before.st_size,
         (long long)after.st_size);
  assert_true(after.st_size < before.st_size);
  tu_rmtree(dir);
  free(dir);
  free(db);
  free(log);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_packed_as_said),
    cmocka_unit_test(test_library_rows),
    cmocka_unit_test(test_exports),
    cmocka_unit_test(test_stats_storage),
    cmocka_unit_test(test_hidden_marker_found),
    cmocka_unit_test(test_candidates_checked),
    cmocka_unit_test(test_prune_retires_dictionary),
  };
  const struct CMUnitTest convert[] = {
    cmocka_unit_test(test_convert_killed_and_resumed),
  };
  int failed = cmocka_run_group_tests(tests, setup, teardown);
  return failed + cmocka_run_group_tests(convert, NULL, NULL);
}
