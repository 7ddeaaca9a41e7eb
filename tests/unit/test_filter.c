/* test_filter.c: the filter model (recorder/read/filter.c, filter_parse.c) and its SQL
 * (recorder/read/filter_sql.c, sqlq.c) on a
 * real SQLite database made from schema/001_init.sql (run from the repository root),
 * holding 30 hand-made calls; rows 1..15 are in the full-text index (fts_indexed = 15),
 * rows 16..30 are not yet, so `q` is checked through both of its halves.
 *
 * Plan:
 *   names               reqlog_filter_names() order, reqlog_filter_is_name()
 *   infos               reqlog_filter_info_at(): the same names in the same order, the
 *                       CLI flags (--min-ms, -q), repeatable status/method, one-line help
 *   empty_filter        NULL and empty filters give "1" and every row
 *   each_filter         every filter alone, then several together: the exact id list of
 *                       SELECT c.id FROM calls AS c WHERE <filter_sql> ORDER BY c.id
 *   relative_times      an age ("6h") is resolved each time the SQL is built
 *   injection           quotes, SQL and FTS5 syntax in q / path / key / field / host
 *                       match literally, never reach the SQL text, the table survives
 *   malformed           bad values -> REQLOG_ERR_FILTER, cause naming the filter; unknown
 *                       names; scalars given twice; since after until; a failed set
 *                       leaves the filter as it was; a key is never repeated in a cause
 *   status_branches     a status filter of several items, read as one merged index walk
 *                       per item (query.c), pages (3 rows, before/after) to exactly the
 *                       ids of the one-condition SQL, newest and oldest first, alone and
 *                       with other filters; each branch searches an index
 *   path_uses_index     EXPLAIN QUERY PLAN: a path prefix searches calls_path, a key's
 *                       last four searches calls_key
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "read/filter.h"
#include "read/read.h"
#include "testutil.h"
#include "read/sqlq.h"

#define H (INT64_C(3600) * 1000000)
#define T0 (INT64_C(1795737600) * 1000000) /* 2026-11-27T00:00:00Z; row N starts at T0 + N h */

/* ------------------------------------------------------------------ the rows */

#define A "api.app.astalty.com.au"
#define B "api.example.com"
#define C "localhost"
#define K1 "\xe2\x80\xa6" "abcd#3f2a9c1e"
#define K2 "\xe2\x80\xa6" "wxyz#0badf00d"
#define K3 "\xe2\x80\xa6" "ab%_#11111111"
#define K4 "\xe2\x80\xa6" "3f2a#deadbeef"
#define K5 "\xe2\x80\xa6" "abcd#99999999"
#define K6 "\xe2\x80\xa6" "abxy#22222222"
#define K7 "\xe2\x80\xa6" "ab#d#55555555" /* a key ending in "ab#d" */
#define K8 "\xe2\x80\xa6" "#77777777"      /* a key too short to show its tail */

typedef struct body {
  const char *data;     /* NULL: no body */
  size_t blob_len;      /* 0: TEXT; otherwise a BLOB of this many bytes */
} body;

typedef struct test_row {
  int id;
  const char *method, *host, *path;
  int status;           /* 0: NULL (transport error) */
  int64_t duration_us;
  const char *key;
  body req, resp;
  const char *fields;   /* comma list of 422 error fields */
} test_row;

#define INVALID "{\"message\":\"The given data was invalid.\",\"errors\":"

static const test_row rows[] = {
  {1, "GET", A, "/public/v1/participants", 200, 120000, K1, {NULL, 0},
   {"{\"data\":[{\"name\":\"Alice Example\",\"email\":\"alice@example.com\"}]}", 0}, NULL},
  {2, "POST", A, "/public/v1/participants", 422, 80000, K1, {"{\"name\":\"Bob\"}", 0},
   {INVALID "{\"email\":[\"The email field is required.\"]}}", 0}, "email"},
  {3, "POST", A, "/public/v1/participants", 201, 95500, K1,
   {"{\"name\":\"Bob\",\"email\":\"bob@example.com\"}", 0}, {"{\"id\":42}", 0}, NULL},
  {4, "GET", A, "/public/v1/participants/42", 200, 40000, K2, {NULL, 0},
   {"{\"id\":42,\"name\":\"Bob\"}", 0}, NULL},
  {5, "GET", A, "/public/v1/participants/43", 404, 30000, K2, {NULL, 0},
   {"{\"message\":\"Not found.\"}", 0}, NULL},
  {6, "GET", A, "/public/v1/participants", 401, 10000, NULL, {NULL, 0},
   {"{\"message\":\"Unauthenticated.\"}", 0}, NULL},
  {7, "GET", A, "/public/v1/notes", 403, 12000, K3, {NULL, 0},
   {"{\"message\":\"This action is unauthorized. drop table calls\"}", 0}, NULL},
  {8, "GET", A, "/public/v1/notes", 429, 5000, K1, {NULL, 0},
   {"{\"message\":\"Too Many Attempts.\"}", 0}, NULL},
  {9, "GET", A, "/public/v1/notes", 200, 250000, K1, {NULL, 0},
   {"{\"data\":[],\"hint\":\"SecretWord\"}", 0}, NULL},
  {10, "PUT", A, "/public/v1/notes/7", 422, 60000, K4, {"{\"title\":\"\"}", 0},
   {INVALID "{\"title\":[\"The title field is required.\"],"
    "\"body\":[\"The body must be a string.\"]}}", 0}, "title,body"},
  {11, "DELETE", A, "/public/v1/notes/7", 204, 45000, K4, {NULL, 0}, {NULL, 0}, NULL},
  {12, "GET", B, "/v2/items[1]", 500, 1500000, K5, {NULL, 0},
   {"Internal Server Error", 0}, NULL},
  {13, "GET", B, "/v2/what?", 502, 2000000, K5, {NULL, 0},
   {"\x00\x01secretword\xff", 13}, NULL},
  {14, "POST", B, "/upload", 0, 30000000, K2, {"\x89PNG secretword", 15}, {NULL, 0}, NULL},
  {15, "GET", C, "/o'brien/notes", 200, 1000, NULL, {NULL, 0},
   {"it's o'brien'; DROP TABLE calls; -- said NEAR(x y) and \"quoted\" -minus OR *star*", 0},
   NULL},
  /* ---- rows above the full-text mark ---- */
  {16, "GET", A, "/public/v1/participants", 200, 110000, K1, {NULL, 0},
   {"{\"data\":[{\"name\":\"Carol\",\"email\":\"carol@example.com\"}]}", 0}, NULL},
  {17, "POST", A, "/public/v1/participants", 422, 70000, K1,
   {"{\"email\":\"not-an-email\"}", 0},
   {INVALID "{\"email\":[\"The email field is required.\","
    "\"The email must be a valid email address.\"]}}", 0}, "email"},
  {18, "PATCH", A, "/public/v1/participants/42", 200, 90000, K2,
   {"{\"name\":\"Robert\"}", 0}, {"{\"id\":42}", 0}, NULL},
  {19, "get", A, "/public/v1/participants_archive", 200, 33000, K1, {NULL, 0}, {NULL, 0},
   NULL},
  {20, "GET", A, "/public/v1/notes", 503, 400000, K3, {NULL, 0},
   {"Service Unavailable", 0}, NULL},
  {21, "GET", A, "/public/v1/notes", 0, 5000000, K1, {NULL, 0}, {NULL, 0}, NULL},
  {22, "POST", A, "/public/v1/notes", 422, 50000, K4, {"{\"title\":\"\"}", 0},
   {INVALID "{\"title\":[\"The title field is required.\"]}}", 0}, "title"},
  {23, "GET", B, "/v2/what", 301, 20000, K7, {NULL, 0}, {NULL, 0}, NULL},
  {24, "GET", B, "/v2/items1", 200, 20000, K6, {NULL, 0}, {NULL, 0}, NULL},
  {25, "OPTIONS", C, "/weird/\xff\xfepath", 204, 2000, NULL, {NULL, 0}, {NULL, 0}, NULL},
  {26, "GET", C, "/weird/x", 200, 2000, K8, {NULL, 0}, {NULL, 0}, NULL},
  {27, "GET", C, "/o'brien/notes", 200, 3000, NULL, {NULL, 0},
   {"'; DROP TABLE calls; --", 0}, NULL},
  {28, "GET", A, "/public/v1/stream", 101, 12500, K1, {NULL, 0}, {NULL, 0}, NULL},
  {29, "POST", A, "/public/v1/uploads", 200, 12499, K1,
   {"\x89PNG email secretword", 21}, {NULL, 0}, NULL},
  {30, "GET", A, "/public/v1/participants", 200, 249999, K5, {NULL, 0},
   {"secretword here", 0}, NULL},
};
#define NROWS ((int)(sizeof rows / sizeof rows[0]))
#define FTS_MARK 15

/* ------------------------------------------------------------------ helpers */

static void exec(sqlite3 *db, const char *sql) {
  tu_exec(db, sql);
}

/* A new in-memory database with the library's embedded schema (the migrations of schema/). */
static sqlite3 *open_db(void) {
  return tu_memdb();
}

static void bind_body(sqlite3_stmt *st, int idx, body b) {
  int rc;
  if (!b.data)
    rc = sqlite3_bind_null(st, idx);
  else if (b.blob_len)
    rc = sqlite3_bind_blob(st, idx, b.data, (int)b.blob_len, SQLITE_STATIC);
  else
    rc = sqlite3_bind_text(st, idx, b.data, -1, SQLITE_STATIC);
  assert_int_equal(rc, SQLITE_OK);
}

static int setup(void **state) {
  sqlite3 *db = open_db();
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(db,
      "INSERT INTO calls(id, started_at, method, url, host, path, status, error,"
      " duration_us, key, source, request_body, response_body)"
      " VALUES (?, ?, ?, 'https://' || ? || ?, ?, ?, ?, ?, ?, ?, 'library', ?, ?)",
      -1, &st, NULL), SQLITE_OK);
  sqlite3_stmt *fst = NULL;
  assert_int_equal(sqlite3_prepare_v2(db,
      "INSERT INTO call_fields(call_id, field) VALUES (?, ?)", -1, &fst, NULL), SQLITE_OK);
  for (int i = 0; i < NROWS; i++) {
    const test_row *r = &rows[i];
    assert_int_equal(r->id, i + 1);
    sqlite3_bind_int(st, 1, r->id);
    sqlite3_bind_int64(st, 2, T0 + r->id * H);
    sqlite3_bind_text(st, 3, r->method, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->host, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, r->host, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, r->path, -1, SQLITE_STATIC);
    if (r->status) {
      sqlite3_bind_int(st, 8, r->status);
      sqlite3_bind_null(st, 9);
    } else {
      sqlite3_bind_null(st, 8);
      sqlite3_bind_text(st, 9, "Operation timed out", -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(st, 10, r->duration_us);
    if (r->key)
      sqlite3_bind_text(st, 11, r->key, -1, SQLITE_STATIC);
    else
      sqlite3_bind_null(st, 11);
    bind_body(st, 12, r->req);
    bind_body(st, 13, r->resp);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);

    char fields[64];
    snprintf(fields, sizeof fields, "%s", r->fields ? r->fields : "");
    char *save = NULL;
    for (char *tok = strtok_r(fields, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
      sqlite3_bind_int(fst, 1, r->id);
      sqlite3_bind_text(fst, 2, tok, -1, SQLITE_TRANSIENT);
      assert_int_equal(sqlite3_step(fst), SQLITE_DONE);
      sqlite3_reset(fst);
    }
  }
  sqlite3_finalize(st);
  sqlite3_finalize(fst);
  /* Three origins: one a third of the rows, one with a comma, blanks and UTF-8 inside. */
  exec(db, "UPDATE calls SET origin = CASE WHEN id % 3 = 0 THEN 'ci-runner-3'"
           " WHEN id IN (7, 25) THEN 'Zoë''s büro, 2' ELSE 'laptop' END");
  /* As the writer's indexer does (recorder/store/store_index.c), for rows up to the mark only. */
  exec(db,
       "INSERT INTO calls_fts(rowid, url, request_body, response_body)"
       " SELECT id, url,"
       " CASE WHEN typeof(request_body) = 'text' THEN request_body END,"
       " CASE WHEN typeof(response_body) = 'text' THEN response_body END"
       " FROM calls WHERE id <= 15;"
       "UPDATE meta SET value = 15 WHERE name = 'fts_indexed';");
  *state = db;
  return 0;
}

static int teardown(void **state) {
  sqlite3_close(*state);
  return 0;
}

/* The SQL text filter_sql() builds, for checks on what it does not contain. */
static char *sql_of(const reqlog_filter *f, int64_t now) {
  sqlq q = {0};
  filter_sql(f, now, &q);
  assert_false(q.oom);
  char *s = strdup(q.sql.data);
  assert_non_null(s);
  sqlq_free(&q);
  return s;
}

/* The matching ids as "1,2,3" (malloc'd; "" for none). */
static char *ids_of(sqlite3 *db, const reqlog_filter *f, int64_t now) {
  sqlq q = {0};
  sqlq_add(&q, "SELECT c.id FROM calls AS c WHERE ");
  filter_sql(f, now, &q);
  sqlq_add(&q, " ORDER BY c.id");
  sqlite3_stmt *st = NULL;
  char *cause = NULL;
  reqlog_err err = sqlq_prepare(&q, db, &st, &cause);
  if (err != REQLOG_OK)
    print_error("prepare failed: %s\n%s\n", cause ? cause : "?", q.sql.data ? q.sql.data : "");
  assert_int_equal(err, REQLOG_OK);
  sqlq_free(&q);
  char *out = calloc(1, 4 * NROWS + 1);
  assert_non_null(out);
  size_t len = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    len += (size_t)sprintf(out + len, "%s%lld", len ? "," : "",
                           (long long)sqlite3_column_int64(st, 0));
  if (rc != SQLITE_DONE)
    print_error("step failed: %s\n", sqlite3_errmsg(db));
  assert_int_equal(rc, SQLITE_DONE);
  sqlite3_finalize(st);
  return out;
}

/* A filter from name/value pairs (NULL-terminated); each set must succeed. */
static reqlog_filter *make(const char *const *set) {
  reqlog_filter *f = NULL;
  assert_int_equal(reqlog_filter_new(&f), REQLOG_OK);
  for (size_t i = 0; set[i]; i += 2) {
    char *cause = NULL;
    reqlog_err err = reqlog_filter_set(f, set[i], set[i + 1], &cause);
    if (err != REQLOG_OK)
      print_error("%s=%s: %s\n", set[i], set[i + 1], cause ? cause : "?");
    assert_int_equal(err, REQLOG_OK);
    assert_null(cause);
  }
  return f;
}

/* "status=4xx method=POST", for messages. */
static void describe(const char *const *set, char *out, size_t size) {
  size_t len = 0;
  out[0] = '\0';
  for (size_t i = 0; set[i] && len < size; i += 2)
    len += (size_t)snprintf(out + len, size - len, "%s%s=%s", i ? " " : "", set[i],
                            set[i + 1]);
}

#define NOW (T0 + 30 * H + 60 * INT64_C(1000000)) /* 2026-11-28T06:01:00Z */

typedef struct filter_case {
  const char *set[13];  /* name, value, ..., NULL */
  const char *want;     /* matching ids */
} filter_case;

static void run_cases(sqlite3 *db, const filter_case *cases, size_t n, int64_t now) {
  for (size_t i = 0; i < n; i++) {
    reqlog_filter *f = make(cases[i].set);
    char *got = ids_of(db, f, now);
    char what[512];
    describe(cases[i].set, what, sizeof what);
    if (strcmp(got, cases[i].want) != 0)
      print_error("%s: got [%s], want [%s]\n", what, got, cases[i].want);
    assert_string_equal(got, cases[i].want);
    printf("checked: %s -> [%s]\n", what, got);
    free(got);
    reqlog_filter_free(f);
  }
}

#define ALL "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30"
#define KEY1 "1,2,3,8,9,16,17,19,21,28,29"

/* ------------------------------------------------------------------ tests */

static void names(void **state) {
  static const char *const want[] = {"status", "method", "path", "host", "origin", "key",
                                     "since", "until", "min_ms", "q", "field", "request_id",
                                     "tag", "pinned", "replay_of"};
  const char *const *got = reqlog_filter_names();
  size_t i = 0;
  for (; got[i]; i++) {
    assert_true(i < 15);
    assert_string_equal(got[i], want[i]);
    assert_true(reqlog_filter_is_name(got[i]));
  }
  assert_int_equal(i, 15);
  assert_false(reqlog_filter_is_name("foo"));
  assert_false(reqlog_filter_is_name("Status"));
  assert_false(reqlog_filter_is_name(""));
  assert_false(reqlog_filter_is_name(NULL));
  printf("checked: reqlog_filter_names() is status..replay_of in order; is_name agrees\n");
}

static void infos(void **state) {
  const char *const *names_ = reqlog_filter_names();
  size_t i = 0;
  for (const reqlog_filter_info *fi; (fi = reqlog_filter_info_at(i)) != NULL; i++) {
    assert_non_null(names_[i]);
    assert_string_equal(fi->name, names_[i]);
    const char *flag = strcmp(fi->name, "min_ms") == 0       ? "min-ms"
                       : strcmp(fi->name, "request_id") == 0 ? "request-id"
                       : strcmp(fi->name, "replay_of") == 0  ? "replay-of"
                                                              : fi->name;
    assert_string_equal(fi->flag, flag);
    assert_int_equal(fi->short_flag, strcmp(fi->name, "q") == 0 ? 'q' : 0);
    assert_int_equal(fi->repeatable,
                     strcmp(fi->name, "status") == 0 || strcmp(fi->name, "method") == 0);
    assert_true(fi->arg[0] != '\0' && fi->help[0] != '\0');
    assert_null(strchr(fi->help, '\n'));
  }
  assert_int_equal(i, 15);
  assert_null(names_[i]);
  assert_null(reqlog_filter_info_at(SIZE_MAX));
  printf("checked: reqlog_filter_info_at() lists the %zu names in order with their flags "
         "(--min-ms, -q), status/method repeatable, one-line help; NULL past the end\n", i);
}

static void empty_filter(void **state) {
  sqlite3 *db = *state;
  char *s = sql_of(NULL, NOW);
  assert_string_equal(s, "1");
  free(s);
  char *got = ids_of(db, NULL, NOW);
  assert_string_equal(got, ALL);
  free(got);
  reqlog_filter *f = NULL;
  assert_int_equal(reqlog_filter_new(&f), REQLOG_OK);
  assert_true(filter_is_empty(f));
  assert_true(filter_is_empty(NULL));
  got = ids_of(db, f, NOW);
  assert_string_equal(got, ALL);
  free(got);
  assert_int_equal(reqlog_filter_set(f, "status", "200", NULL), REQLOG_OK);
  assert_false(filter_is_empty(f));
  reqlog_filter_free(f);
  reqlog_filter_free(NULL);
  printf("checked: NULL and empty filters are \"1\" and match all 30 rows\n");
}

static void each_filter(void **state) {
  static const filter_case cases[] = {
    /* status */
    {{"status", "422", NULL}, "2,10,17,22"},
    {{"status", "4xx", NULL}, "2,5,6,7,8,10,17,22"},
    {{"status", "401,403", NULL}, "6,7"},
    {{"status", "error", NULL}, "14,21"},
    {{"status", " 5xx , ERROR ", NULL}, "12,13,14,20,21"},
    {{"status", "1xx", NULL}, "28"},
    {{"status", "2XX", NULL}, "1,3,4,9,11,15,16,18,19,24,25,26,27,29,30"},
    {{"status", "301,4xx,5xx", NULL}, "2,5,6,7,8,10,12,13,17,20,22,23"},
    {{"status", "404, 429, 404", NULL}, "5,8"},
    {{"status", "401", "status", "error", NULL}, "6,14,21"},
    {{"status", "422,4xx", NULL}, "2,5,6,7,8,10,17,22"},
    /* method */
    {{"method", "GET", NULL}, "1,4,5,6,7,8,9,12,13,15,16,19,20,21,23,24,26,27,28,30"},
    {{"method", "post,put", NULL}, "2,3,10,14,17,22,29"},
    {{"method", "delete", "method", "PATCH", NULL}, "11,18"},
    {{"method", "options", NULL}, "25"},
    /* path */
    {{"path", "/public/v1/participants", NULL}, "1,2,3,4,5,6,16,17,18,19,30"},
    {{"path", "/public/v1/participants/", NULL}, "4,5,18"},
    {{"path", "/", NULL}, ALL},
    {{"path", "notes", NULL}, "7,8,9,10,11,15,20,21,22,27"},
    {{"path", "PARTICIPANTS", NULL}, ""},
    {{"path", "/v2/items[1]", NULL}, "12"},
    {{"path", "/public/v1/*/42", NULL}, "4,18"},
    {{"path", "items[1]*", NULL}, "12"},
    {{"path", "/v2/wha*?", NULL}, "13"},
    {{"path", "*/notes/*", NULL}, "10,11"},
    {{"path", "/weird/\xff", NULL}, "25"},
    {{"path", "/weird/", NULL}, "25,26"},
    {{"path", "/o'brien", NULL}, "15,27"},
    /* host */
    {{"host", "API.Example.COM", NULL}, "12,13,14,23,24"},
    {{"host", "localhost", NULL}, "15,25,26,27"},
    {{"host", "api.app.astalty.com.au", NULL},
     "1,2,3,4,5,6,7,8,9,10,11,16,17,18,19,20,21,22,28,29,30"},
    {{"host", "example.com", NULL}, ""},
    /* key: every form of K1, then the last four */
    {{"key", K1, NULL}, KEY1},
    {{"key", "...abcd#3F2A9C1E", NULL}, KEY1},
    {{"key", "Bearer " K1, NULL}, KEY1},
    {{"key", "abcd#3f2a9c1e", NULL}, KEY1},
    {{"key", "3f2a9c1e", NULL}, KEY1},
    {{"key", "#3F2A9C1E", NULL}, KEY1},
    {{"key", "abcd", NULL}, "1,2,3,8,9,12,13,16,17,19,21,28,29,30"},
    {{"key", "3f2a", NULL}, "10,11,22"},
    {{"key", "ab%_", NULL}, "7,20"},
    {{"key", "\xe2\x80\xa6wxyz", NULL}, "4,5,14,18"},
    {{"key", "...wxyz#00000000", NULL}, ""},
    {{"key", "ab#d", NULL}, "23"},
    {{"key", K7, NULL}, "23"},
    {{"key", "55555555", NULL}, "23"},
    {{"key", K8, NULL}, "26"},
    {{"key", "...#77777777", NULL}, "26"},
    {{"key", "#77777777", NULL}, "26"},
    /* since / until, absolute */
    {{"since", "2026-11-28T00:00:00Z", NULL}, "24,25,26,27,28,29,30"},
    {{"until", "2026-11-27T03:00:00Z", NULL}, "1,2"},
    {{"since", "2026-11-27T05:00:00+02:00", "until", "2026-11-27 05:30:00", NULL}, "3,4,5"},
    {{"since", "2026-11-27", NULL}, ALL},
    {{"until", "2026-11-27", NULL}, ""},
    {{"since", "2026-11-27T05:00:00Z", "until", "2026-11-27T05:00:00Z", NULL}, ""},
    /* since / until, ages against NOW = T0 + 30 h 1 min */
    {{"since", "6h", NULL}, "25,26,27,28,29,30"},
    {{"since", "29h", "until", "1d", NULL}, "2,3,4,5,6"},
    {{"until", "2w", NULL}, ""},
    {{"since", "2026-11-27T20:00:00Z", "until", "5h", NULL}, "20,21,22,23,24,25"},
    /* min_ms */
    {{"min_ms", "250", NULL}, "9,12,13,14,20,21"},
    {{"min_ms", "249.999", NULL}, "9,12,13,14,20,21,30"},
    {{"min_ms", "249.9995", NULL}, "9,12,13,14,20,21"},
    {{"min_ms", "12.5", NULL},
     "1,2,3,4,5,9,10,11,12,13,14,16,17,18,19,20,21,22,23,24,28,30"},
    {{"min_ms", "0", NULL}, ALL},
    {{"min_ms", "1500", NULL}, "12,13,14,21"},
    /* q: rows 1..15 through calls_fts, 16..30 by substring */
    {{"q", "email", NULL}, "1,2,3,16,17"},
    {{"q", "example", NULL}, "1,3,12,13,14,16,23,24"},
    {{"q", "secretword", NULL}, "9,30"},
    {{"q", "email required", NULL}, "2,17"},
    {{"q", "  partic\t", NULL}, "1,2,3,4,5,6,16,17,18,19,30"},
    {{"q", "CAROL", NULL}, "16"},
    {{"q", "bob", NULL}, "2,3,4"},
    {{"q", "nothing-like-this", NULL}, ""},
    /* field */
    {{"field", "email", NULL}, "2,17"},
    {{"field", "title", NULL}, "10,22"},
    {{"field", "body", NULL}, "10"},
    {{"field", "nope", NULL}, ""},
    /* origin: one name, compared exactly (a comma is part of a name, not a list) */
    {{"origin", "ci-runner-3", NULL}, "3,6,9,12,15,18,21,24,27,30"},
    {{"origin", " laptop ", NULL}, "1,2,4,5,8,10,11,13,14,16,17,19,20,22,23,26,28,29"},
    {{"origin", "Zoë's büro, 2", NULL}, "7,25"},
    {{"origin", "CI-RUNNER-3", NULL}, ""},
    {{"origin", "ci-runner", NULL}, ""},
    {{"origin", "laptop,ci-runner-3", NULL}, ""},
    /* together */
    {{"status", "4xx", "method", "POST", NULL}, "2,17,22"},
    {{"status", "422", "since", "2026-11-27T12:00:00Z", NULL}, "17,22"},
    {{"host", A, "key", "abcd", "min_ms", "100", NULL}, "1,9,16,21,30"},
    {{"q", "email", "status", "422", NULL}, "2,17"},
    {{"path", "/public/v1/participants", "q", "example", NULL}, "1,3,16"},
    {{"field", "title", "method", "post", NULL}, "22"},
    {{"path", "notes", "status", "error", NULL}, "21"},
    {{"origin", "ci-runner-3", "status", "2xx", NULL}, "3,9,15,18,24,27,30"},
    {{"status", "2xx", "method", "GET", "path", "/public/v1/", "host", A, "key", K1,
      "until", "2026-11-27T20:00:00Z", NULL}, "1,9,16,19"},
  };
  run_cases(*state, cases, sizeof cases / sizeof cases[0], NOW);
}

static void relative_times(void **state) {
  sqlite3 *db = *state;
  reqlog_filter *f = make((const char *const[]){"since", "6h", NULL});
  char *got = ids_of(db, f, NOW);
  assert_string_equal(got, "25,26,27,28,29,30");
  free(got);
  got = ids_of(db, f, NOW + 2 * H);
  assert_string_equal(got, "27,28,29,30");
  free(got);
  reqlog_filter_free(f);
  printf("checked: since=6h is resolved at each build: [25..30] now, [27..30] 2 h later\n");
}

static void injection(void **state) {
  sqlite3 *db = *state;
  static const filter_case cases[] = {
    {{"q", "'; DROP TABLE calls; --", NULL}, "15,27"},
    {{"q", "NEAR(", NULL}, "15"},
    {{"q", "NEAR(x y)", NULL}, "15"},
    {{"q", "\"quoted\"", NULL}, "15"},
    {{"q", "\"", NULL}, "1,2,3,4,5,6,7,8,9,10,15,16,17,18,22"},
    {{"q", "*", NULL}, "15"},
    {{"q", "-minus", NULL}, "15"},
    {{"q", "brien';", NULL}, "15"},
    {{"q", "o'brien", NULL}, "15,27"},
    {{"q", "--", NULL}, "15,27"},
    /* AND and NOT are words, not operators: only 15 holds calls, drop, and, and "not"
     * (in its URL: /o'brien/notes). */
    {{"q", "calls AND NOT drop", NULL}, "15"},
    {{"q", "calls AND NOT drop table", NULL}, "15"},
    {{"q", "calls AND NOT nosuchword", NULL}, ""},
    {{"q", "x OR y", NULL}, "15"},
    {{"q", "^drop", NULL}, ""}, /* a substring no row holds: ^ is not syntax */
    {{"q", "url:participants", NULL}, ""},
    /* "OR" is a word here, not FTS5's operator, and like every word a case-insensitive
     * substring in both halves: "unauthorized", "Error", "SecretWord", "errors" */
    {{"q", "OR", NULL}, "2,7,9,10,12,15,17,22,30"},
    {{"path", "'; DROP TABLE calls; --", NULL}, ""},
    {{"path", "/o'brien/notes", NULL}, "15,27"},
    {{"path", "'", NULL}, "15,27"},
    {{"path", "%", NULL}, ""},
    {{"path", "/public/v1/participant_", NULL}, ""},
    {{"key", "a'--", NULL}, ""},
    {{"key", "...';DROP#3f2a9c1e", NULL}, ""},
    {{"field", "email' OR '1'='1", NULL}, ""},
    {{"host", "x'OR'1'='1", NULL}, ""},
    {{"origin", "x' OR '1'='1", NULL}, ""},
    {{"method", "GET'--", NULL}, ""},
  };
  run_cases(db, cases, sizeof cases / sizeof cases[0], NOW);

  /* The values never reach the SQL text. */
  reqlog_filter *f = make((const char *const[]){
      "q", "'; DROP TABLE calls; -- NEAR(", "path", "/o'brien", "key", "a'--",
      "field", "x' OR 1", NULL});
  char *sql = sql_of(f, NOW);
  assert_null(strstr(sql, "DROP"));
  assert_null(strstr(sql, "NEAR"));
  assert_null(strstr(sql, "brien"));
  assert_null(strstr(sql, "a'--"));
  assert_null(strstr(sql, "x' OR"));
  free(sql);
  reqlog_filter_free(f);

  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM calls", -1, &st, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_int_equal(sqlite3_column_int(st, 0), NROWS);
  sqlite3_finalize(st);
  printf("checked: no value reaches the SQL text; calls still holds %d rows\n", NROWS);
}

typedef struct bad_case {
  const char *set[7];   /* pairs set first (must succeed), then the failing pair */
  const char *cause;    /* the cause starts with this */
} bad_case;

static void malformed(void **state) {
  static const bad_case cases[] = {
    {{"status", "4yy", NULL},
     "status: '4yy' is not a status code, a class like 4xx, or 'error'"},
    {{"status", "600", NULL}, "status: '600' is not"},
    {{"status", "99", NULL}, "status: '99' is not"},
    {{"status", "0xx", NULL}, "status: '0xx' is not"},
    {{"status", "4xxx", NULL}, "status: '4xxx' is not"},
    {{"status", "errors", NULL}, "status: 'errors' is not"},
    {{"status", "401,,403", NULL}, "status: empty item in '401,,403'"},
    {{"status", "401,", NULL}, "status: empty item"},
    {{"status", "", NULL}, "status: empty value"},
    {{"method", "G ET", NULL}, "method: 'G ET' is not an HTTP method"},
    {{"method", "GE/T", NULL}, "method: 'GE/T' is not an HTTP method"},
    {{"method", "GET,", NULL}, "method: empty item"},
    {{"method", "ABCDEFGHIJKLMNOPQ", NULL}, "method: 'ABCDEFGHIJKLMNOPQ' is longer than 16"},
    {{"method", "  ", NULL}, "method: empty value"},
    {{"path", "", NULL}, "path: empty value"},
    {{"path", " \t ", NULL}, "path: empty value"},
    {{"host", "", NULL}, "host: empty value"},
    {{"host", "a b", NULL}, "host: 'a b' is not a host name"},
    {{"host", "https://api.example.com/", NULL}, "host: 'https://api.example.com/' is not"},
    {{"key", "", NULL}, "key: empty value"},
    {{"key", "abc", NULL}, "key: not a key fingerprint"},
    {{"key", "abcde", NULL}, "key: not a key fingerprint"},
    {{"key", "3f2a9c1", NULL}, "key: not a key fingerprint"},
    {{"key", "abcd#3f2a9c1", NULL}, "key: not a key fingerprint"},
    {{"key", "abcd#3f2a9c1g", NULL}, "key: not a key fingerprint"},
    {{"key", "#3f2a9c1e0", NULL}, "key: not a key fingerprint"},
    {{"key", "ab cd", NULL}, "key: not a key fingerprint"},
    {{"since", "yesterday", NULL}, "since: 'yesterday' is not a time"},
    {{"since", "2026-13-01", NULL}, "since: '2026-13-01' is not a time"},
    {{"since", "2026-02-30", NULL}, "since: '2026-02-30' is not a time"},
    {{"since", "2026-11-27T24:00:00", NULL}, "since: '2026-11-27T24:00:00' is not a time"},
    {{"since", "0m", NULL}, "since: '0m' is not a time"},
    {{"until", "2026-11-27T10:00:00+25:00", NULL}, "until: '2026-11-27T10:00:00+25:00'"},
    {{"until", "15M", NULL}, "until: '15M' is not a time"},
    {{"min_ms", "-1", NULL}, "min_ms: '-1' is not a number of milliseconds"},
    {{"min_ms", "abc", NULL}, "min_ms: 'abc' is not a number"},
    {{"min_ms", "1e3", NULL}, "min_ms: '1e3' is not a number"},
    {{"min_ms", "1.2.3", NULL}, "min_ms: '1.2.3' is not a number"},
    {{"min_ms", ".", NULL}, "min_ms: '.' is not a number"},
    {{"min_ms", "99999999999999999999", NULL}, "min_ms: '99999999999999999999' is too large"},
    {{"min_ms", "", NULL}, "min_ms: empty value"},
    {{"q", "", NULL}, "q: empty value"},
    {{"q", " \t ", NULL}, "q: empty value"},
    {{"field", "", NULL}, "field: empty value"},
    {{"origin", "", NULL}, "origin: empty value"},
    {{"origin", "ci\x01runner", NULL}, "origin: not an origin name"},
    {{"origin", "ci\x7frunner", NULL}, "origin: not an origin name"},
    {{"origin", "b\xfcro", NULL}, "origin: not an origin name"},
    {{"origin", "a", "origin", "b", NULL}, "origin: given twice"},
    {{"foo", "1", NULL},
     "unknown filter 'foo' (known: status, method, path, host, origin, key, since, until, "
     "min_ms, q, field, request_id, tag, pinned, replay_of)"},
    {{"request_id", "", NULL}, "request_id: empty value"},
    {{"request_id", "req\x01", NULL}, "request_id: not a request id"},
    {{"request_id", "a", "request_id", "b", NULL}, "request_id: given twice"},
    {{"replay_of", "x1", NULL}, "replay_of: 'x1' is not a call id"},
    {{"Status", "200", NULL}, "unknown filter 'Status'"},
    {{"tag", "a b", NULL}, "tag: 'a b' is not a tag"},
    {{"tag", "a,b", NULL}, "tag: 'a,b' is not a tag"},
    {{"tag", "a", "tag", "b", NULL}, "tag: given twice"},
    {{"pinned", "maybe", NULL}, "pinned: 'maybe' is not 1 (pinned) or 0 (not pinned)"},
    {{"host", "a", "host", "b", NULL}, "host: given twice"},
    {{"since", "1h", "since", "2h", NULL}, "since: given twice"},
    {{"q", "a", "q", "a", NULL}, "q: given twice"},
    {{"path", "/a", "path", "/b", NULL}, "path: given twice"},
    {{"until", "2026-11-27", "since", "2026-11-28", NULL},
     "since: '2026-11-28' is later than until: '2026-11-27'"},
    {{"since", "2026-11-28T00:00:00Z", "until", "2026-11-27T23:59:59Z", NULL},
     "until: '2026-11-27T23:59:59Z' is earlier than since: '2026-11-28T00:00:00Z'"},
    {{"since", "1d", "until", "29h", NULL}, "until: '29h' is earlier than since: '1d'"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const bad_case *c = &cases[i];
    reqlog_filter *f = NULL;
    assert_int_equal(reqlog_filter_new(&f), REQLOG_OK);
    size_t last = 0;
    while (c->set[last + 2])
      last += 2;
    for (size_t j = 0; j < last; j += 2)
      assert_int_equal(reqlog_filter_set(f, c->set[j], c->set[j + 1], NULL), REQLOG_OK);
    char *cause = NULL;
    reqlog_err err = reqlog_filter_set(f, c->set[last], c->set[last + 1], &cause);
    if (err != REQLOG_ERR_FILTER || !cause || strncmp(cause, c->cause, strlen(c->cause)))
      print_error("%s=%s: err %d, cause '%s', want '%s...'\n", c->set[last],
                  c->set[last + 1], err, cause ? cause : "(null)", c->cause);
    assert_int_equal(err, REQLOG_ERR_FILTER);
    assert_non_null(cause);
    assert_true(strncmp(cause, c->cause, strlen(c->cause)) == 0);
    printf("checked: %s='%s' -> %s\n", c->set[last], c->set[last + 1], cause);
    free(cause);
    reqlog_filter_free(f);
  }

  /* 201 characters, and 200 two-byte characters (which is fine). */
  char longf[402];
  memset(longf, 'x', 201);
  longf[201] = '\0';
  reqlog_filter *f = NULL;
  char *cause = NULL;
  assert_int_equal(reqlog_filter_new(&f), REQLOG_OK);
  assert_int_equal(reqlog_filter_set(f, "field", longf, &cause), REQLOG_ERR_FILTER);
  assert_string_equal(cause, "field: longer than 200 characters");
  free(cause);
  for (int i = 0; i < 200; i++)
    memcpy(longf + 2 * i, "\xc3\xa9", 2);
  longf[400] = '\0';
  assert_int_equal(reqlog_filter_set(f, "field", longf, NULL), REQLOG_OK);
  reqlog_filter_free(f);
  printf("checked: field of 201 characters refused, 200 (400 bytes) accepted\n");

  /* A real key pasted by mistake is not repeated in the cause. */
  assert_int_equal(reqlog_filter_new(&f), REQLOG_OK);
  assert_int_equal(reqlog_filter_set(f, "key", "sk_live_51Habcdef0123456789", &cause),
                   REQLOG_ERR_FILTER);
  assert_null(strstr(cause, "sk_live"));
  assert_null(strstr(cause, "0123"));
  printf("checked: key cause does not repeat the value: %s\n", cause);
  free(cause);

  /* Control characters and long values are shown tamed in causes. */
  assert_int_equal(reqlog_filter_set(f, "status", "\x1b[31m", &cause), REQLOG_ERR_FILTER);
  assert_string_equal(cause, "status: '?[31m' is not a status code, a class like 4xx, or "
                             "'error'");
  free(cause);
  char longv[200];
  memset(longv, 'z', sizeof longv - 1);
  longv[sizeof longv - 1] = '\0';
  assert_int_equal(reqlog_filter_set(f, "method", longv, &cause), REQLOG_ERR_FILTER);
  assert_true(strlen(cause) < 120);
  assert_non_null(strstr(cause, "zzz..."));
  free(cause);
  printf("checked: control characters become '?', long values are cut with '...'\n");

  /* NULL arguments. */
  assert_int_equal(reqlog_filter_set(NULL, "q", "x", NULL), REQLOG_ERR_ARG);
  assert_int_equal(reqlog_filter_set(f, NULL, "x", NULL), REQLOG_ERR_ARG);
  assert_int_equal(reqlog_filter_set(f, "q", NULL, &cause), REQLOG_ERR_FILTER);
  assert_string_equal(cause, "q: empty value");
  free(cause);
  assert_int_equal(reqlog_filter_new(NULL), REQLOG_ERR_ARG);
  reqlog_filter_free(f);
  printf("checked: NULL filter or name -> REQLOG_ERR_ARG, NULL value -> empty value\n");
}

/* A set that fails changes nothing: the items before the bad one are not added, and a
 * bound refused for its order leaves the old one. */
static void failed_set_keeps_filter(void **state) {
  sqlite3 *db = *state;
  reqlog_filter *f = make((const char *const[]){"status", "401", "method", "GET", NULL});
  assert_int_equal(reqlog_filter_set(f, "status", "403,4yy", NULL), REQLOG_ERR_FILTER);
  assert_int_equal(reqlog_filter_set(f, "method", "POST,G ET", NULL), REQLOG_ERR_FILTER);
  char *got = ids_of(db, f, NOW);
  assert_string_equal(got, "6");
  free(got);
  reqlog_filter_free(f);

  f = make((const char *const[]){"until", "2026-11-27T03:00:00Z", NULL});
  assert_int_equal(reqlog_filter_set(f, "since", "2026-11-28", NULL), REQLOG_ERR_FILTER);
  assert_int_equal(reqlog_filter_set(f, "since", "2026-11-27T02:00:00Z", NULL), REQLOG_OK);
  got = ids_of(db, f, NOW);
  assert_string_equal(got, "2");
  free(got);
  reqlog_filter_free(f);
  printf("checked: failed sets leave status/method/since as they were\n");
}

/* The ids rs_query() returns for F in pages of 3 ("1,2,3"; malloc'd), ascending. */
static char *paged_ids(sqlite3 *db, const reqlog_filter *f, int64_t now, int oldest) {
  int64_t got[NROWS + 1];
  size_t n = 0;
  reqlog_query_opts o = {.limit = 3, .oldest_first = oldest};
  for (;;) {
    reqlog_cursor *c = NULL;
    char *cause = NULL;
    reqlog_err err = rs_query(db, f, &o, now, NULL, NULL, &c, &cause);
    if (err != REQLOG_OK)
      print_error("rs_query: %s\n", cause ? cause : "?");
    assert_int_equal(err, REQLOG_OK);
    size_t page = 0;
    cJSON *row = NULL;
    while (reqlog_cursor_next(c, &row) == REQLOG_OK) {
      assert_true(n < NROWS);
      got[n++] = (int64_t)cJSON_GetObjectItemCaseSensitive(row, "id")->valuedouble;
      page++;
      cJSON_Delete(row);
    }
    reqlog_cursor_free(c);
    if (page < 3)
      break;
    if (oldest)
      o.after_id = got[n - 1];
    else
      o.before_id = got[n - 1];
  }
  char *out = calloc(1, 4 * NROWS + 1);
  assert_non_null(out);
  size_t len = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t id = got[oldest ? i : n - 1 - i];
    len += (size_t)sprintf(out + len, "%s%lld", len ? "," : "", (long long)id);
  }
  return out;
}

static void status_branches(void **state) {
  sqlite3 *db = *state;
  static const char *const sets[][7] = {
    {"status", "4xx,5xx", NULL},
    {"status", "422,5xx,error", NULL},
    {"status", "2xx,3xx,404", NULL},
    {"status", "4xx,5xx", "method", "GET", "since", "2026-11-27T05:00:00Z", NULL},
    {"status", "200,error", "q", "notes", NULL},
    {"status", "4xx", NULL},
  };
  for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
    reqlog_filter *f = make(sets[i]);
    char *want = ids_of(db, f, NOW);
    char what[256];
    describe(sets[i], what, sizeof what);
    for (int oldest = 0; oldest < 2; oldest++) {
      char *got = paged_ids(db, f, NOW, oldest);
      if (strcmp(got, want) != 0)
        print_error("%s (%s first): got [%s], want [%s]\n", what, oldest ? "oldest" : "newest",
                    got, want);
      assert_string_equal(got, want);
      free(got);
    }
    assert_true(strlen(want) > 0);
    printf("checked: %s -> [%s] in pages of 3, both orders (%zu branches)\n", what, want,
           filter_status_branches(f));
    free(want);
    reqlog_filter_free(f);
  }
  reqlog_filter *f = make((const char *const[]){"status", "4xx,5xx", NULL});
  assert_int_equal(filter_status_branches(f), 2);
  for (size_t b = 0; b < 2; b++) {
    sqlq q = {0};
    sqlq_add(&q, "EXPLAIN QUERY PLAN SELECT c.id FROM calls AS c WHERE ");
    filter_sql_branch(f, NOW, b, &q);
    sqlq_add(&q, " ORDER BY c.id DESC LIMIT 3");
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlq_prepare(&q, db, &st, NULL), REQLOG_OK);
    sqlq_free(&q);
    int indexed = 0, sorted = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
      const char *d = (const char *)sqlite3_column_text(st, 3);
      indexed |= strstr(d, "USING INDEX calls_class") != NULL;
      sorted |= strstr(d, "TEMP B-TREE") != NULL;
    }
    sqlite3_finalize(st);
    assert_true(indexed);
    assert_false(sorted);
  }
  reqlog_filter_free(f);
  printf("checked: status=4xx,5xx is 2 branches, each an ordered walk of calls_class\n");
}

static int plan_uses(sqlite3 *db, const char *const *set, const char *index) {
  reqlog_filter *f = make(set);
  sqlq q = {0};
  sqlq_add(&q, "EXPLAIN QUERY PLAN SELECT c.id FROM calls AS c WHERE ");
  filter_sql(f, NOW, &q);
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlq_prepare(&q, db, &st, NULL), REQLOG_OK);
  sqlq_free(&q);
  int found = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    const char *detail = (const char *)sqlite3_column_text(st, 3);
    printf("  plan: %s\n", detail);
    if (detail && strstr(detail, index))
      found = 1;
  }
  sqlite3_finalize(st);
  reqlog_filter_free(f);
  return found;
}

static void path_uses_index(void **state) {
  sqlite3 *db = *state;
  assert_true(plan_uses(db, (const char *const[]){"path", "/public/v1/notes", NULL},
                        "INDEX calls_path (path>? AND path<?)"));
  printf("checked: path=/public/v1/notes searches calls_path by range\n");
  assert_true(plan_uses(db, (const char *const[]){"path", "/public/*/notes", NULL},
                        "INDEX calls_path (path>? AND path<?)"));
  printf("checked: path=/public/*/notes still narrows calls_path to /public/\n");
  assert_true(plan_uses(db, (const char *const[]){"key", "abcd", NULL},
                        "INDEX calls_key (key>? AND key<?)"));
  printf("checked: key=abcd searches calls_key by range\n");
  assert_true(plan_uses(db, (const char *const[]){"field", "email", NULL},
                        "call_fields USING PRIMARY KEY (field=?)"));
  printf("checked: field=email looks up call_fields by its primary key\n");
  assert_true(plan_uses(db, (const char *const[]){"q", "email", NULL}, "calls_fts VIRTUAL"));
  printf("checked: q=email uses the calls_fts index\n");
}

/* sqlq on its own: values bound in order, one statement only, placeholder count. */
static void sqlq_checks(void **state) {
  sqlite3 *db = *state;
  sqlq q = {0};
  sqlq_add(&q, "SELECT ");
  sqlq_int(&q, INT64_MIN);
  sqlq_add(&q, ", ");
  sqlq_text(&q, "it's");
  sqlq_add(&q, ", ");
  sqlq_text(&q, NULL);
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlq_prepare(&q, db, &st, NULL), REQLOG_OK);
  sqlq_free(&q);
  sqlq_free(&q);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_true(sqlite3_column_int64(st, 0) == INT64_MIN);
  assert_string_equal((const char *)sqlite3_column_text(st, 1), "it's");
  assert_int_equal(sqlite3_column_type(st, 2), SQLITE_NULL);
  sqlite3_finalize(st);

  char *cause = NULL;
  sqlq_add(&q, "SELECT 1; DROP TABLE calls");
  assert_int_equal(sqlq_prepare(&q, db, &st, &cause), REQLOG_ERR_ARG);
  assert_null(st);
  assert_non_null(strstr(cause, "more than one"));
  free(cause);
  sqlq_free(&q);

  sqlq_add(&q, "SELECT ?, ");
  sqlq_int(&q, 1);
  assert_int_equal(sqlq_prepare(&q, db, &st, &cause), REQLOG_ERR_ARG);
  assert_non_null(strstr(cause, "2 placeholders for 1 values"));
  free(cause);
  sqlq_free(&q);

  sqlq_add(&q, "SELECT nosuchcolumn FROM calls");
  assert_int_equal(sqlq_prepare(&q, db, &st, &cause), REQLOG_ERR_DB);
  assert_non_null(strstr(cause, "no such column"));
  free(cause);
  sqlq_free(&q);

  assert_int_equal(sqlq_prepare(&q, db, &st, &cause), REQLOG_ERR_ARG);
  free(cause);
  q.oom = 1;
  sqlq_add(&q, "SELECT 1");
  assert_null(q.sql.data);
  assert_int_equal(sqlq_prepare(&q, db, &st, &cause), REQLOG_ERR_NOMEM);
  free(cause);
  sqlq_free(&q);
  printf("checked: sqlq binds int64/text/NULL in order; refuses two statements, a "
         "placeholder mismatch, bad SQL (with SQLite's message), empty and oom queries\n");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(names),
    cmocka_unit_test(infos),
    cmocka_unit_test(empty_filter),
    cmocka_unit_test(each_filter),
    cmocka_unit_test(relative_times),
    cmocka_unit_test(injection),
    cmocka_unit_test(malformed),
    cmocka_unit_test(failed_set_keeps_filter),
    cmocka_unit_test(status_branches),
    cmocka_unit_test(path_uses_index),
    cmocka_unit_test(sqlq_checks),
  };
  return cmocka_run_group_tests_name("filter", tests, setup, teardown);
}
