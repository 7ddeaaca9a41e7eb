/* test_pg_store.c: the team store's foundation (recorder/pg/) against a real throwaway
 * PostgreSQL cluster (tests/lib/testpg.c).
 *
 * Plan:
 *   migrate at once   4 processes open a new store at the same moment: each migration is
 *                     applied once, all 4 succeed, the tables and pg_trgm are there
 *   newer refused     a store whose schema is newer than this build is refused with a
 *                     message saying so, and nothing is written to it
 *   partitions        the days of a range get calls_YYYYMMDD with bounds at UTC midnight
 *                     (a row at midnight lands in the new day, one microsecond earlier
 *                     in the day before, before 1970 too); 4 processes creating the same
 *                     new days at once all succeed
 *   request id        a store from before 005_request_id.sql with calls whose stored
 *                     response headers carry X-Request-Id / Request-Id / a redacted one:
 *                     opening it adds the column and fills it as the default list says
 *                     (the same ids as SQLite's 005), and the request_id filter finds it
 *   few matches       12,000 calls in the newest day and a few older: a word no call
 *                     of the newest day holds, one it holds twice, one no call holds,
 *                     one every call holds: `list -q` gives the store the same calls as
 *                     the SQLite history they were shipped from, whole pages and cut
 *                     ones (the first two are read with the store's plan for words with
 *                     few matches, pg_read.c few_matches())
 *   password hidden   a password in the URI (user:password@, password=, percent-encoded)
 *                     appears in no error, whatever fails: the URI's syntax, the socket,
 *                     the password itself; what is not a libpq URI is refused
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pg/pg.h"
#include "testpg.h"
#include "testutil.h"

/* ------------------------------------------------------------------ migrate at once */

static void test_migrate_at_once(void **state) {
  tpg *t = *state;
  if (!t)
    skip();
  char *uri = tpg_createdb(t, "migrate");
  assert_int_equal(tpg_at_once(4, tpg_open_store, uri), 0);
  PGconn *c = tpg_conn(uri);
  int known = pg_migrate_count();
  assert_true(known >= 1);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM reqlog_schema"), known);
  assert_int_equal(tpg_int(c, "SELECT count(DISTINCT version) FROM reqlog_schema"), known);
  assert_int_equal(tpg_int(c, "SELECT max(version) FROM reqlog_schema"), known);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'"), 1);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM pg_partitioned_table "
                              "WHERE partrelid = 'calls'::regclass"), 1);
  assert_int_equal(tpg_int(c, "SELECT to_regclass('ship_state') IS NOT NULL::int"), 1);
  /* opening again changes nothing */
  char *before = tpg_text(c, "SELECT string_agg(version || '@' || applied_at, ',') FROM reqlog_schema");
  assert_int_equal(tpg_open_store(uri), 0);
  char *after = tpg_text(c, "SELECT string_agg(version || '@' || applied_at, ',') FROM reqlog_schema");
  assert_string_equal(before, after);
  printf("checked: 4 processes opening a new store at once all succeed and apply each of "
         "the %d migrations once (%s)\n", known, after);
  free(before);
  free(after);
  PQfinish(c);
  free(uri);
}

/* ------------------------------------------------------------------ request id */

#define DEC5 INT64_C(1796428800000000)
#define DAY INT64_C(86400000000)


static void test_request_id(void **state) {
  tpg *t = *state;
  if (!t)
    skip();
  char *uri = tpg_createdb(t, "reqid");
  assert_int_equal(tpg_open_store(uri), 0);
  pg_db *db = NULL;
  assert_int_equal(pg_open(uri, &db, NULL), REQLOG_OK);
  assert_int_equal(pg_partition_ensure(db, DEC5, DEC5 + DAY, NULL), REQLOG_OK);
  pg_close(db);
  PGconn *c = tpg_conn(uri);
  tpg_back_to_schema4(c); /* the store before the column */
  static const char *const headers[] = {
    "[[\"Date\",\"x\"],[\"Request-Id\",\"second\"],[\"X-Request-Id\",\"first\"]]",
    "[[\"request-id\",\"only-this\"]]",
    "[[\"X-Request-Id\",\"[REDACTED]\"]]",
    "[]",
  };
  for (int i = 0; i < 4; i++) {
    char sql[400];
    snprintf(sql, sizeof sql, "INSERT INTO calls(history_id, spool_id, id, started_at, method,"
             " url, host, path, duration_us, source, response_headers, origin) VALUES (1, %d,"
             " %d, %lld, 'GET', 'https://h/p', 'h', '/p', 1, 'library', '%s', 'o')", i + 1,
             i + 1, (long long)DEC5 + i, headers[i]);
    tpg_exec(c, sql);
  }
  assert_int_equal(tpg_open_store(uri), 0); /* applies 005 to 008 again */
  char *ids = tpg_text(c, "SELECT string_agg(coalesce(request_id, '-'), ',' ORDER BY id) FROM calls");
  assert_string_equal(ids, "first,only-this,-,-");
  free(ids);
  reqlog *r = NULL;
  assert_int_equal(reqlog_open_readonly(uri, &r, NULL), REQLOG_OK);
  reqlog_filter *f = NULL;
  assert_int_equal(reqlog_filter_new(&f), REQLOG_OK);
  assert_int_equal(reqlog_filter_set(f, "request_id", "only-this", NULL), REQLOG_OK);
  int64_t n = 0;
  assert_int_equal(reqlog_count(r, f, &n, NULL), REQLOG_OK);
  assert_int_equal(n, 1);
  reqlog_filter_free(f);
  reqlog_close(r);
  printf("checked: a store from before 005_request_id.sql gets the column filled from the "
         "stored headers (X-Request-Id before Request-Id, any case, a redacted one none), "
         "and request_id= finds the call\n");
  PQfinish(c);
  free(uri);
}

/* ------------------------------------------------------------------ newer refused */

static void test_newer_refused(void **state) {
  tpg *t = *state;
  if (!t)
    skip();
  char *uri = tpg_createdb(t, "newer");
  PGconn *c = tpg_conn(uri);
  /* a store a future reqlog made: version above ours, none of our tables */
  tpg_exec(c, "CREATE TABLE reqlog_schema (version integer PRIMARY KEY, name text NOT NULL, "
              "applied_at timestamptz NOT NULL DEFAULT now())");
  char sql[160];
  snprintf(sql, sizeof sql, "INSERT INTO reqlog_schema(version, name) VALUES (%d, 'future.sql')",
           pg_migrate_count() + 1);
  tpg_exec(c, sql);
  pg_db *db = NULL;
  char *cause = NULL;
  reqlog_err e = pg_open(uri, &db, &cause);
  assert_int_equal(e, REQLOG_ERR_DB);
  assert_null(db);
  assert_non_null(cause);
  printf("refused: %s\n", cause);
  tu_expect_has(cause, "newer reqlog", "the refusal");
  char want[64];
  snprintf(want, sizeof want, "schema version %d", pg_migrate_count() + 1);
  tu_expect_has(cause, want, "the refusal");
  free(cause);
  /* nothing written: no table, no extension, the version row alone */
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON "
                              "n.oid = c.relnamespace WHERE n.nspname = 'public'"), 2);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'"), 0);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM reqlog_schema"), 1);

  /* the same for a store of our version that a newer reqlog then upgraded */
  char *uri2 = tpg_createdb(t, "newer2");
  assert_int_equal(tpg_open_store(uri2), 0);
  PGconn *c2 = tpg_conn(uri2);
  tpg_exec(c2, sql);
  int64_t tables = tpg_int(c2, "SELECT count(*) FROM pg_class");
  assert_int_equal(pg_open(uri2, &db, &cause), REQLOG_ERR_DB);
  tu_expect_has(cause, "newer reqlog", "the refusal of an upgraded store");
  free(cause);
  cause = NULL;
  assert_int_equal(tpg_int(c2, "SELECT count(*) FROM pg_class"), tables);
  assert_int_equal(tpg_int(c2, "SELECT count(*) FROM reqlog_schema"), pg_migrate_count() + 1);
  printf("checked: a newer schema is refused and the database keeps exactly what it had\n");
  PQfinish(c2);
  PQfinish(c);
  free(uri2);
  free(uri);
}

/* ------------------------------------------------------------------ partitions */

/* 2026-12-05T00:00:00Z in Unix microseconds, and a day. */

static int ensure_ten(const void *arg) {
  pg_db *db = NULL;
  char *cause = NULL;
  reqlog_err e = pg_open(arg, &db, &cause);
  if (e == REQLOG_OK)
    e = pg_partition_ensure(db, DEC5 + 20 * DAY, DEC5 + 29 * DAY + 5, &cause);
  if (e != REQLOG_OK)
    fprintf(stderr, "child %d: %s\n", (int)getpid(), cause);
  free(cause);
  pg_close(db);
  return e == REQLOG_OK ? 0 : 1;
}

/* The partition the row inserted at US landed in. */
static char *landed(PGconn *c, int64_t us, int64_t spool_id) {
  char sql[512];
  snprintf(sql, sizeof sql,
           "INSERT INTO calls (history_id, spool_id, origin, started_at, method, url, host, "
           "path, duration_us, source) VALUES (1, %lld, 'h', %lld, 'GET', 'http://x/', 'x', "
           "'/', 1, 'cli') RETURNING tableoid::regclass::text",
           (long long)spool_id, (long long)us);
  return tpg_text(c, sql);
}

static void test_partitions(void **state) {
  tpg *t = *state;
  if (!t)
    skip();
  char *uri = tpg_createdb(t, "parts");
  pg_db *db = NULL;
  char *cause = NULL;
  assert_int_equal(pg_open(uri, &db, &cause), REQLOG_OK);
  char name[32];
  pg_partition_name(pg_day_of(DEC5), name);
  assert_string_equal(name, "calls_20261205");
  pg_partition_name(pg_day_of(-1), name);
  assert_string_equal(name, "calls_19691231");
  assert_int_equal(pg_day_of(-DAY), -1);
  assert_int_equal(pg_day_of(-DAY - 1), -2);

  /* 2026-12-05T23:00 to 2026-12-07T01:00: three days */
  assert_int_equal(pg_partition_ensure(db, DEC5 + 23 * DAY / 24, DEC5 + DAY * 2 + DAY / 24,
                                       &cause), REQLOG_OK);
  int64_t minus = -5;
  assert_int_equal(pg_partition_ensure_days(db, (int64_t[]){pg_day_of(minus), pg_day_of(DEC5)},
                                            2, &cause), REQLOG_OK);
  /* asked again: known, nothing to do */
  assert_int_equal(pg_partition_ensure(db, DEC5, DEC5 + DAY, &cause), REQLOG_OK);
  PGconn *c = tpg_conn(uri);
  char *list = tpg_text(c, "SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM "
                           "pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                           "WHERE i.inhparent = 'calls'::regclass");
  assert_string_equal(list, "calls_19691231,calls_20261205,calls_20261206,calls_20261207");
  free(list);
  /* q's columns have the small statistics target of calls in every day (not inherited) */
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM pg_attribute a JOIN pg_inherits i ON "
                              "i.inhrelid = a.attrelid WHERE i.inhparent = 'calls'::regclass AND "
                              "a.attname IN ('url', 'request_body', 'response_body') AND "
                              "a.attstattarget = 20"), 4 * 3);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM pg_attribute WHERE attrelid = "
                              "'calls'::regclass AND attname IN ('url', 'request_body', "
                              "'response_body') AND attstattarget = 20"), 3);
  struct {
    int64_t us;
    const char *part;
  } rows[] = {
    {DEC5 + DAY, "calls_20261206"},     {DEC5 + DAY - 1, "calls_20261205"},
    {DEC5, "calls_20261205"},           {DEC5 + 3 * DAY - 1, "calls_20261207"},
    {-5, "calls_19691231"},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    char *got = landed(c, rows[i].us, (int64_t)i + 1);
    assert_string_equal(got, rows[i].part);
    free(got);
  }
  pg_close(db);

  /* four hosts, the same ten new days, at once */
  assert_int_equal(tpg_at_once(4, ensure_ten, uri), 0);
  assert_int_equal(tpg_intf(c, "SELECT count(*) FROM pg_inherits WHERE inhparent = "
                               "'calls'::regclass"), 4 + 10);
  printf("checked: day partitions with UTC-midnight bounds (rows land in the right day, "
         "1969 included), and 4 processes creating the same 10 days at once\n");
  PQfinish(c);
  free(uri);
}

/* ------------------------------------------------------------------ password hidden */

/* ------------------------------------------------------------------ few matches */

/* The PATH column of `reqlog --db DB list ARGS...` (one line per call, ids aside). */
static char *list_paths(const char *db, const char *q, const char *limit) {
  char *out = NULL, *err = NULL;
  int rc = tu_run(ARGS("--db", db, "list", "-q", q, "--limit", limit), NULL, NULL, &out, &err);
  tu_expect_exit(rc, 0, "list", err);
  free(err);
  /* keep each line's last field (the path) and any line without one as it is */
  size_t n = strlen(out);
  char *paths = calloc(1, n + 1), *w = paths;
  for (char *line = out; line && *line;) {
    char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    const char *p = line;
    for (const char *s = line; s < line + len; s++)
      if (*s == ' ')
        p = s + 1;
    if (strncmp(line, "     ID", 7) != 0 && strncmp(line, "\xe2\x80\xa6 more", 8) != 0) {
      memcpy(w, p, (size_t)(line + len - p));
      w += line + len - p;
      *w++ = '\n';
    }
    line = end ? end + 1 : NULL;
  }
  free(out);
  return paths;
}

static void test_few_matches(void **state) {
  tpg *t = *state;
  char *dir = tu_tmpdir();
  char *spool = tu_path(dir, "history.db");
  char *uri = tpg_createdb(t, "few");
  reqlog *r = NULL;
  assert_int_equal(reqlog_open(spool, &r, NULL), REQLOG_OK);
  reqlog_close(r);
  int64_t now = tu_now_us(), day = INT64_C(86400000000);
  int64_t newest = (now / day) * day; /* today's midnight: the newest day's calls after it */
  sqlite3 *db = tu_db(spool);
  /* calls 1-4 days ago: 'wallaby' in 3 and 'numbat' in 2 of them; 12,000 calls today
   * (a call every 5 ms from midnight): 'numbat' in 2, 'common' in every one */
  char *sql = sqlite3_mprintf(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12010)"
    " INSERT INTO calls(started_at, method, url, host, path, status, duration_us, source,"
    " request_headers, response_headers, response_body, response_size, origin)"
    " SELECT CASE WHEN i <= 10 THEN %lld - i * %lld ELSE %lld + (i - 10) * 5000 END, 'GET',"
    " 'https://api.example/v1/items/' || i, 'api.example', '/v1/items/' || i, 200, 1000,"
    " 'library', '[]', '[]',"
    " '{\"note\":\"common ' || CASE WHEN i IN (2, 5, 9) THEN 'wallaby' WHEN i IN (3, 7, 500,"
    " 11000) THEN 'Numbat' ELSE 'plain' END || '\"}', 30, 'few-test' FROM n",
    (long long)newest, (long long)(day / 3), (long long)newest);
  tu_exec(db, sql);
  sqlite3_free(sql);
  sqlite3_close(db);
  char *out = NULL, *err = NULL;
  int rc = tu_run(ARGS("--db", spool, "ship", "--to", uri), NULL, NULL, &out, &err);
  tu_expect_exit(rc, 0, "ship", err);
  tu_free2(&out, &err);

  static const char *const cases[][2] = {
    {"wallaby", "50"}, {"wallaby", "2"}, {"numbat", "50"}, {"numbat", "3"},
    {"quoll", "50"}, {"common", "50"}, {"common numbat", "50"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *want = list_paths(spool, cases[i][0], cases[i][1]);
    char *got = list_paths(uri, cases[i][0], cases[i][1]);
    if (strcmp(want, got) != 0)
      fail_msg("q=%s limit %s: the history lists\n%s\nthe store\n%s", cases[i][0],
               cases[i][1], want, got);
    /* not vacuous: the words that are there are found */
    if (strcmp(cases[i][0], "quoll") != 0 && !strstr(got, "/v1/items/"))
      fail_msg("q=%s found nothing", cases[i][0]);
    free(want);
    free(got);
  }
  print_message("12,010 calls: rare, absent and common words list the same calls on both "
                "backends, whole and cut pages\n");
  free(uri);
  free(spool);
  tu_rmtree(dir);
  free(dir);
}

static void test_password_hidden(void **state) {
  tpg *t = *state;
  if (!t)
    skip();
  char *uri = tpg_createdb(t, "pw");
  struct {
    const char *uri_fmt; /* %s: the socket folder */
    const char *secret;  /* none of these may appear */
    const char *secret2;
    const char *says;    /* what the message does say */
  } cases[] = {
    /* libpq quotes the token it cannot decode */
    {"postgresql://" TPG_PW_USER ":Zecret%%ZZpw@/pw?host=%s", "Zecret", "%ZZpw", "percent"},
    {"postgresql://" TPG_PW_USER ":WrongZecret@/pw?host=%s", "WrongZecret", NULL,
     "password authentication failed"},
    {"postgres:///pw?host=%s&user=" TPG_PW_USER "&password=QueryZecret", "QueryZecret", NULL,
     "password authentication failed"},
    {"postgresql://u:Zecret%%41pw@/pw?host=%s/nowhere", "Zecret%41pw", "ZecretApw", "nowhere"},
    {"postgresql:///pw?host=%s&password=PortZecret&port=notaport", "PortZecret", NULL, "port"},
    {"postgresql:///pw?host=%s&password=ParamZecret&nosuchparam=1", "ParamZecret", NULL,
     "nosuchparam"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char u[512];
    snprintf(u, sizeof u, cases[i].uri_fmt, t->sockdir);
    assert_true(pg_url_has_password(u));
    pg_db *db = NULL;
    char *cause = NULL;
    reqlog_err e = pg_open(u, &db, &cause);
    assert_int_equal(e, REQLOG_ERR_DB);
    assert_non_null(cause);
    printf("case %zu: %s\n", i, cause);
    assert_null(strstr(cause, cases[i].secret));
    if (cases[i].secret2)
      assert_null(strstr(cause, cases[i].secret2));
    tu_expect_has(cause, cases[i].says, "the connection error");
    tu_expect_has(cause, "cannot connect to postgres", "the connection error");
    free(cause);
    char *shown = pg_url_shown(u);
    assert_null(strstr(shown, cases[i].secret));
    tu_expect_has(shown, "[REDACTED]", "the URL shown");
    free(shown);
  }
  /* the right password connects; a URI without one has none to hide */
  char good[512];
  snprintf(good, sizeof good, "postgresql://%s:%s@/pw?host=%s", TPG_PW_USER, TPG_PW_SECRET,
           t->sockdir);
  pg_db *db = NULL;
  char *cause = NULL;
  assert_int_equal(pg_connect(good, &db, &cause), REQLOG_OK);
  assert_null(strstr(pg_shown(db), TPG_PW_SECRET));
  pg_close(db);
  assert_false(pg_url_has_password(uri));
  char *shown = pg_url_shown(uri);
  assert_string_equal(shown, uri);
  free(shown);

  /* only libpq URIs: not a key=value string (whose password libpq would quote), not a file */
  const char *not_urls[] = {"host=/tmp dbname=pw password=KvZecret", "reqlog.db",
                            "file:reqlog.db", "postgresql:/x", "service=team"};
  for (size_t i = 0; i < sizeof not_urls / sizeof not_urls[0]; i++) {
    assert_false(reqlog_is_store_url(not_urls[i]));
    assert_int_equal(pg_open(not_urls[i], &db, &cause), REQLOG_ERR_ARG);
    assert_null(strstr(cause, "KvZecret"));
    free(cause);
    cause = NULL;
  }
  assert_true(reqlog_is_store_url("postgresql:///reqlog?host=/run/postgresql"));
  assert_true(reqlog_is_store_url("POSTGRES://h/db"));
  printf("checked: passwords in %zu failing URIs appear in no message nor shown URL\n",
         sizeof cases / sizeof cases[0]);
  free(uri);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_migrate_at_once),
    cmocka_unit_test(test_newer_refused),
    cmocka_unit_test(test_partitions),
    cmocka_unit_test(test_request_id),
    cmocka_unit_test(test_few_matches),
    cmocka_unit_test(test_password_hidden),
  };
  return cmocka_run_group_tests(tests, tpg_group_setup, tpg_group_teardown);
}
