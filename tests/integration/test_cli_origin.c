/* test_cli_origin.c: where each call was recorded (the row's `origin`, issue 12) through
 * the real binary: set by --origin on the recording commands or REQLOG_ORIGIN, shown by
 * list, show and every export, found by the --origin filter, and kept by a HAR export
 * imported elsewhere. Calls go to the tests' fake API on loopback; rows are checked
 * against SQL over the same file.
 *
 * Plan:
 *   recording   call --origin NAME and REQLOG_ORIGIN=NAME name the row; without either
 *               the row names this host (gethostname); REQLOG_ORIGIN with a control
 *               character is ignored with a warning; --origin "" or " x" exits 2 before
 *               anything is sent or recorded
 *   reading     list --json and show --json carry origin; show prints it; the table has
 *               an ORIGIN column only when the calls listed come from more than one;
 *               list --origin NAME is an exact match of one name; --origin "" exits 2
 *   exports     CSV's last column is origin (before --bodies' two), NDJSON has the field
 *   har         export --format har, imported into another history with --origin X: each
 *               row keeps the origin it was recorded with; an entry without
 *               _reqlog.origin (a browser's HAR) gets X; a bad _reqlog.origin is refused
 *               with its JSON path and nothing is imported
 *   help        the recording commands' --help says --origin names what they record; the
 *               reading commands' says it filters
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testcli.h"

/* `reqlog --db DB ARGS` as tc_run() runs it with FAKEAPI_KEY, and REQLOG_ORIGIN=ORIGIN
 * when not NULL. */
static int run_origin(const tc_env *e, const char *db, const char *origin,
                      const char *const *args, char **out, char **err) {
  char origin_env[512];
  snprintf(origin_env, sizeof origin_env, "REQLOG_ORIGIN=%s", origin ? origin : "");
  return tc_run_env(e, db, FAKEAPI_KEY, NULL, origin ? origin_env : NULL, args, out, err);
}

/* The origin of row ID in DB (malloc'd). */
static char *origin_of(const char *db, int64_t id) {
  sqlite3 *h = tu_db(db);
  char *o = tu_textf(h, "SELECT origin FROM calls WHERE id = %lld", (long long)id);
  sqlite3_close(h);
  return o;
}

static void host_name(char out[256]) {
  memset(out, 0, 256);
  assert_int_equal(gethostname(out, 255), 0);
}

/* A history of three calls: #1 --origin ci-runner-3, #2 REQLOG_ORIGIN=laptop-ada,
 * #3 this host. */
static char *three_origins(tc_env *e, const char *name) {
  char *db = tu_path(e->dir, name);
  char *out = NULL, *err = NULL;
  int rc = run_origin(e, db, NULL, ARGS("call", "--origin", "ci-runner-3", "GET", "/participants"),
                      &out, &err);
  tu_expect_exit(rc, 0, "call --origin", err);
  tu_free2(&out, &err);
  rc = run_origin(e, db, "laptop-ada", ARGS("call", "GET", "/participants"), &out, &err);
  tu_expect_exit(rc, 0, "call with REQLOG_ORIGIN", err);
  tu_free2(&out, &err);
  rc = run_origin(e, db, NULL, ARGS("call", "GET", "/participants"), &out, &err);
  tu_expect_exit(rc, 0, "call", err);
  tu_free2(&out, &err);
  return db;
}

/* ------------------------------------------------------------------ recording */

static void test_recording(void **state) {
  tc_env *e = *state;
  char host[256];
  host_name(host);
  char *db = three_origins(e, "rec.db");
  char *o1 = origin_of(db, 1), *o2 = origin_of(db, 2), *o3 = origin_of(db, 3);
  assert_string_equal(o1, "ci-runner-3");
  assert_string_equal(o2, "laptop-ada");
  assert_string_equal(o3, host);
  printf("checked: call --origin ci-runner-3 -> '%s', REQLOG_ORIGIN=laptop-ada -> '%s', "
         "neither -> this host '%s'\n", o1, o2, o3);
  free(o1);
  free(o2);
  free(o3);

  /* --origin wins over REQLOG_ORIGIN */
  char *out = NULL, *err = NULL;
  int rc = run_origin(e, db, "laptop-ada", ARGS("call", "--origin", "svc/billing", "GET",
                                                "/participants"), &out, &err);
  tu_expect_exit(rc, 0, "call --origin with REQLOG_ORIGIN", err);
  tu_free2(&out, &err);
  char *o4 = origin_of(db, 4);
  assert_string_equal(o4, "svc/billing");
  free(o4);

  /* a bad REQLOG_ORIGIN: said, then this host's name */
  rc = run_origin(e, db, "ci\x01runner", ARGS("call", "GET", "/participants"), &out, &err);
  tu_expect_exit(rc, 0, "call with a bad REQLOG_ORIGIN", err);
  tu_expect_has(err, "ignoring REQLOG_ORIGIN", "bad REQLOG_ORIGIN said");
  assert_null(strchr(err, '\x01')); /* the control character never reaches the terminal */
  tu_free2(&out, &err);
  char *o5 = origin_of(db, 5);
  assert_string_equal(o5, host);
  free(o5);
  printf("checked: --origin beats REQLOG_ORIGIN; REQLOG_ORIGIN with a control character "
         "is ignored with a warning (which does not quote the control character) and the row "
         "names this host\n");

  /* a bad --origin: exit 2 before anything is sent or recorded */
  static const char *const bad[] = {"", " x", "x ", "a\tb", "\xff"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    rc = run_origin(e, db, NULL, ARGS("call", "--origin", bad[i], "GET", "/participants"),
                    &out, &err);
    tu_expect_exit(rc, 2, "call --origin BAD", err);
    tu_expect_has(err, "reqlog: call: --origin: not an origin name", "bad --origin named");
    assert_string_equal(out, "");
    tu_free2(&out, &err);
  }
  sqlite3 *h = tu_db(db);
  assert_int_equal(tu_int(h, "SELECT count(*) FROM calls"), 5);
  sqlite3_close(h);
  static const char *const recorders[] = {"proxy", "exec", "import"};
  for (size_t i = 0; i < sizeof recorders / sizeof recorders[0]; i++) {
    rc = run_origin(e, db, NULL, ARGS(recorders[i], "--origin", "", "x"), &out, &err);
    tu_expect_exit(rc, 2, recorders[i], err);
    tu_expect_has(err, "--origin: not an origin name", "bad --origin named");
    tu_free2(&out, &err);
  }
  printf("checked: --origin '', ' x', 'x ', a tab, invalid UTF-8: exit 2 naming --origin, "
         "no call made, no row; proxy, exec and import refuse --origin '' too\n");
  free(db);
}

/* ------------------------------------------------------------------ reading */

static void test_reading(void **state) {
  tc_env *e = *state;
  char host[256];
  host_name(host);
  char *db = three_origins(e, "read.db");
  char *out = NULL, *err = NULL;

  int rc = run_origin(e, db, NULL, ARGS("list", "--json"), &out, &err);
  tu_expect_exit(rc, 0, "list --json", err);
  cJSON *rows = cJSON_Parse(out);
  assert_int_equal(cJSON_GetArraySize(rows), 3);
  assert_string_equal(tu_str(cJSON_GetArrayItem(rows, 0), "origin"), host);
  assert_string_equal(tu_str(cJSON_GetArrayItem(rows, 1), "origin"), "laptop-ada");
  assert_string_equal(tu_str(cJSON_GetArrayItem(rows, 2), "origin"), "ci-runner-3");
  cJSON_Delete(rows);
  tu_free2(&out, &err);

  rc = run_origin(e, db, NULL, ARGS("list", "--origin", "laptop-ada", "--json"), &out, &err);
  tu_expect_exit(rc, 0, "list --origin", err);
  int n = 0;
  char *ids = tc_json_ids(out, &n);
  assert_string_equal(ids, "2");
  free(ids);
  tu_free2(&out, &err);
  static const char *const none[] = {"LAPTOP-ADA", "laptop", "laptop-ada,ci-runner-3"};
  for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
    rc = run_origin(e, db, NULL, ARGS("list", "--origin", none[i], "--json"), &out, &err);
    tu_expect_exit(rc, 0, "list --origin (no match)", err);
    assert_string_equal(out, "[]\n");
    tu_free2(&out, &err);
  }
  rc = run_origin(e, db, NULL, ARGS("list", "--origin", ""), &out, &err);
  tu_expect_exit(rc, 2, "list --origin ''", err);
  tu_expect_has(err, "reqlog: list: origin: empty value", "empty filter named");
  tu_free2(&out, &err);
  rc = run_origin(e, db, NULL, ARGS("stats", "--origin", "ci-runner-3", "--json"), &out, &err);
  tu_expect_exit(rc, 0, "stats --origin", err);
  cJSON *st = cJSON_Parse(out);
  assert_int_equal((int)tu_num(st, "total"), 1);
  cJSON_Delete(st);
  tu_free2(&out, &err);
  printf("checked: list --json rows carry origin; --origin laptop-ada finds #2 alone; "
         "other case, a prefix, a comma list find none; --origin '' exits 2; stats "
         "--origin counts 1\n");

  /* the table: ORIGIN only when the calls listed come from more than one */
  rc = run_origin(e, db, NULL, ARGS("list"), &out, &err);
  tu_expect_exit(rc, 0, "list", err);
  char *nl = strchr(out, '\n');
  assert_non_null(nl);
  *nl = '\0';
  tu_expect_has(out, "ORIGIN", "header with several origins");
  tu_expect_has(nl + 1, "ci-runner-3", "origin in the table");
  tu_expect_has(nl + 1, "laptop-ada", "origin in the table");
  tu_free2(&out, &err);
  rc = run_origin(e, db, NULL, ARGS("list", "--origin", "ci-runner-3"), &out, &err);
  tu_expect_exit(rc, 0, "list --origin table", err);
  assert_null(strstr(out, "ORIGIN"));
  assert_null(strstr(out, "ci-runner-3"));
  tu_expect_has(out, "/participants", "the row is listed");
  tu_free2(&out, &err);
  rc = run_origin(e, db, NULL, ARGS("list", "--limit", "1"), &out, &err);
  tu_expect_exit(rc, 0, "list --limit 1", err);
  assert_null(strstr(out, "ORIGIN")); /* the one row shown has one origin */
  tu_free2(&out, &err);
  printf("checked: the table has an ORIGIN column for rows of 3 origins, none for the "
         "rows of one (--origin ci-runner-3, --limit 1)\n");

  rc = run_origin(e, db, NULL, ARGS("show", "1"), &out, &err);
  tu_expect_exit(rc, 0, "show", err);
  tu_expect_has(out, "  origin     ci-runner-3\n", "show prints the origin");
  tu_free2(&out, &err);
  rc = run_origin(e, db, NULL, ARGS("show", "2", "--json"), &out, &err);
  tu_expect_exit(rc, 0, "show --json", err);
  cJSON *row = cJSON_Parse(out);
  assert_string_equal(tu_str(row, "origin"), "laptop-ada");
  cJSON_Delete(row);
  tu_free2(&out, &err);
  printf("checked: show prints 'origin     ci-runner-3'; show --json has origin\n");
  free(db);
}

/* ------------------------------------------------------------------ exports */

static void test_exports(void **state) {
  tc_env *e = *state;
  char host[256];
  host_name(host);
  char *db = three_origins(e, "export.db");
  char *out = NULL, *err = NULL;
  int rc = run_origin(e, db, NULL, ARGS("export", "--format", "csv"), &out, &err);
  tu_expect_exit(rc, 0, "export csv", err);
  char want_head[] = "id,started_at,method,url,status,duration_ms,key,attempt,retry_of,source,"
                     "error,error_message,request_size,response_size,origin,request_id,tags,"
                     "note\r\n";
  assert_int_equal(strncmp(out, want_head, strlen(want_head)), 0);
  static const char *const want_last[] = {"ci-runner-3", "laptop-ada", NULL};
  const char *line = out + strlen(want_head);
  for (int i = 0; i < 3; i++) {
    const char *end = strstr(line, "\r\n");
    assert_non_null(end);
    const char *next = end + 2;
    /* the empty tags and note cells of calls without notes end the record */
    assert_true(end - line > 2 && end[-1] == ',' && end[-2] == ',');
    end -= 2;
    const char *last = end; /* the request id (the fake API sends one) */
    while (last > line && last[-1] != ',')
      last--;
    assert_true(end - last > 4 && strncmp(last, "req_", 4) == 0);
    const char *comma = last - 1; /* the origin before it */
    while (comma > line && comma[-1] != ',')
      comma--;
    const char *want = want_last[i] ? want_last[i] : host;
    assert_int_equal((size_t)(last - 1 - comma), strlen(want));
    assert_memory_equal(comma, want, strlen(want));
    line = next;
  }
  assert_string_equal(line, "");
  tu_free2(&out, &err);
  rc = run_origin(e, db, NULL, ARGS("export", "--format", "csv", "--bodies", "--origin",
                                    "laptop-ada"), &out, &err);
  tu_expect_exit(rc, 0, "export csv --bodies --origin", err);
  tu_expect_has(out, ",response_size,origin,request_id,tags,note,request_body,response_body\r\n2,",
                "--bodies after origin, one row");
  tu_free2(&out, &err);

  rc = run_origin(e, db, NULL, ARGS("export", "--format", "ndjson"), &out, &err);
  tu_expect_exit(rc, 0, "export ndjson", err);
  line = out;
  for (int i = 0; i < 3; i++) {
    char *end = strchr(line, '\n');
    assert_non_null(end);
    char *one = strndup(line, (size_t)(end - line));
    cJSON *row = cJSON_Parse(one);
    assert_string_equal(tu_str(row, "origin"), want_last[i] ? want_last[i] : host);
    cJSON_Delete(row);
    free(one);
    line = end + 1;
  }
  tu_free2(&out, &err);
  printf("checked: CSV header ends ',origin,request_id', each row's origin before its "
         "request id; with "
         "--bodies the bodies follow it; --origin filters the export; NDJSON rows carry "
         "origin\n");
  free(db);
}

/* ------------------------------------------------------------------ HAR */

/* A browser's HAR entry (no _reqlog), and the same with a bad _reqlog.origin. */
#define BROWSER_ENTRY(custom)                                                            \
  "{\"startedDateTime\":\"2026-11-27T21:04:05.000Z\",\"time\":1,"                        \
  "\"request\":{\"method\":\"GET\",\"url\":\"http://example.test/a\","                   \
  "\"httpVersion\":\"HTTP/1.1\",\"cookies\":[],\"headers\":[],\"queryString\":[],"      \
  "\"headersSize\":-1,\"bodySize\":0},"                                                  \
  "\"response\":{\"status\":200,\"statusText\":\"OK\",\"httpVersion\":\"HTTP/1.1\","    \
  "\"cookies\":[],\"headers\":[],\"content\":{\"size\":0,\"mimeType\":\"text/plain\"}," \
  "\"redirectURL\":\"\",\"headersSize\":-1,\"bodySize\":0},"                             \
  "\"cache\":{},\"timings\":{\"send\":0,\"wait\":1,\"receive\":0}" custom "}"
#define HAR_OF(entries) \
  "{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"t\",\"version\":\"1\"}," \
  "\"entries\":[" entries "]}}"

static void test_har(void **state) {
  tc_env *e = *state;
  char host[256];
  host_name(host);
  char *db = three_origins(e, "har.db");
  char *har = tu_path(e->dir, "three.har");
  char *other = tu_path(e->dir, "other.db");
  char *out = NULL, *err = NULL;
  int rc = run_origin(e, db, NULL, ARGS("export", "--format", "har", "-o", har), &out, &err);
  tu_expect_exit(rc, 0, "export har", err);
  tu_free2(&out, &err);
  char *text = tu_read_file(har);
  tu_expect_has(text, "\"origin\":\"ci-runner-3\"", "_reqlog.origin in the HAR");
  free(text);
  rc = run_origin(e, other, NULL, ARGS("import", "--origin", "importer", har), &out, &err);
  tu_expect_exit(rc, 0, "import --origin", err);
  tu_free2(&out, &err);
  char *o1 = origin_of(other, 1), *o2 = origin_of(other, 2), *o3 = origin_of(other, 3);
  assert_string_equal(o1, "ci-runner-3");
  assert_string_equal(o2, "laptop-ada");
  assert_string_equal(o3, host);
  free(o1);
  free(o2);
  free(o3);
  printf("checked: a HAR export imported elsewhere with --origin importer keeps each row's "
         "origin (ci-runner-3, laptop-ada, %s)\n", host);

  char *browser = tu_path(e->dir, "browser.har");
  tu_write_file(browser, HAR_OF(BROWSER_ENTRY("")), 0644);
  rc = run_origin(e, other, NULL, ARGS("import", "--origin", "importer", browser), &out, &err);
  tu_expect_exit(rc, 0, "import a browser's HAR --origin", err);
  tu_free2(&out, &err);
  rc = run_origin(e, other, "from-env", ARGS("import", browser), &out, &err);
  tu_expect_exit(rc, 0, "import a browser's HAR with REQLOG_ORIGIN", err);
  tu_free2(&out, &err);
  char *o4 = origin_of(other, 4), *o5 = origin_of(other, 5);
  assert_string_equal(o4, "importer");
  assert_string_equal(o5, "from-env");
  free(o4);
  free(o5);

  tu_write_file(browser, HAR_OF(BROWSER_ENTRY("") "," BROWSER_ENTRY(
                                  ",\"_reqlog\":{\"origin\":\"bad\\u0007\"}")), 0644);
  rc = run_origin(e, other, NULL, ARGS("import", browser), &out, &err);
  tu_expect_exit(rc, 2, "import a bad _reqlog.origin", err);
  tu_expect_has(err, "log.entries[1]._reqlog.origin: not an origin", "bad origin's path");
  tu_free2(&out, &err);
  tu_write_file(browser, HAR_OF(BROWSER_ENTRY(",\"_reqlog\":{\"origin\":7}")), 0644);
  rc = run_origin(e, other, NULL, ARGS("import", browser), &out, &err);
  tu_expect_exit(rc, 2, "import a number as _reqlog.origin", err);
  tu_expect_has(err, "log.entries[0]._reqlog.origin", "bad origin's path");
  tu_free2(&out, &err);
  sqlite3 *h = tu_db(other);
  assert_int_equal(tu_int(h, "SELECT count(*) FROM calls"), 5);
  sqlite3_close(h);
  printf("checked: a browser's entry (no _reqlog) gets --origin importer, or "
         "REQLOG_ORIGIN; _reqlog.origin with a BEL or of another type: exit 2 naming "
         "log.entries[N]._reqlog.origin, nothing imported\n");
  free(browser);
  free(har);
  free(other);
  free(db);
}

/* ------------------------------------------------------------------ help */

static void test_help(void **state) {
  tc_env *e = *state;
  char *out = NULL, *err = NULL;
  static const char *const recorders[] = {"call", "proxy", "exec", "import"};
  for (size_t i = 0; i < sizeof recorders / sizeof recorders[0]; i++) {
    int rc = tc_run(e, NULL, NULL, NULL, ARGS(recorders[i], "--help"), &out, &err);
    tu_expect_exit(rc, 0, recorders[i], err);
    tu_expect_has(out, "--origin NAME", "recording --origin in --help");
    tu_expect_has(out, "record the calls as made by NAME", "what it does");
    tu_free2(&out, &err);
  }
  static const char *const readers[] = {"list", "export", "stats"};
  for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
    int rc = tc_run(e, NULL, NULL, NULL, ARGS(readers[i], "--help"), &out, &err);
    tu_expect_exit(rc, 0, readers[i], err);
    tu_expect_has(out, "--origin NAME", "the filter in --help");
    tu_expect_has(out, "calls recorded by NAME", "what it does");
    assert_null(strstr(out, "record the calls as made by"));
    tu_free2(&out, &err);
  }
  printf("checked: call/proxy/exec/import --help: --origin NAME records as NAME; "
         "list/export/stats --help: --origin NAME filters\n");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_recording),
    cmocka_unit_test(test_reading),
    cmocka_unit_test(test_exports),
    cmocka_unit_test(test_har),
    cmocka_unit_test(test_help),
  };
  return cmocka_run_group_tests(tests, tc_setup, tc_teardown);
}
