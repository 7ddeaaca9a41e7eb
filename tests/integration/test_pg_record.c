/* test_pg_record.c: recording with a PostgreSQL URL (reqlog_open(URL), `--db URL` for
 * call and proxy): calls go into a local spool and the in-process shipper copies them to
 * a real throwaway PostgreSQL cluster (tests/lib/testpg.c), in front of the demo API.
 *
 * Plan:
 *   call ships       `reqlog --db URL call` twice: each row is in the store when call
 *                    exits; the spool is made once under $XDG_STATE_HOME/reqlog (0700),
 *                    said once (the first call), named without the password; `import`
 *                    with the URL ships what it imports
 *   store down       PostgreSQL stopped: call exits with the API's result (0, and 1 for
 *                    a 404), the rows in the spool, where they wait is said; started
 *                    again, the next call ships them with its own; `ship` finds nothing
 *   proxy burst      `reqlog --db URL proxy` under 300 parallel calls, then SIGTERM:
 *                    every call in the store exactly once
 *   kill -9          a recording proxy killed after a burst, 3 times: the store never
 *                    holds a row twice nor one the spool lacks, and the next process on
 *                    the spool ships the rest
 *   library          reqlog_open(URL) + reqlog_request + reqlog_close: rows in the store,
 *                    reqlog_spool_path(); with a password in the URL: the same spool path
 *                    for a right and a wrong password, the secret nowhere (spool files,
 *                    messages); the wrong one is said through the error handler
 * REQLOG_SHIP_WAIT_MS is large in these tests so that a slow machine still ships within
 * the bound; the bound ends as soon as everything is shipped, or the store does not
 * answer, so no test waits on it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testpg.h"
#include "testproxy.h"
#include "testutil.h"

#define WAIT_ENV "REQLOG_SHIP_WAIT_MS=600000"

typedef struct env {
  tpg *pg;
  char *dir;
  fakeapi *api;
  char base_env[256]; /* REQLOG_BASE_URL=<the demo API> */
  char xdg_env[512];  /* XDG_STATE_HOME=<dir>/state */
} env;

static int setup(void **state) {
  static const char *const clear[] = {"REQLOG_DB", "REQLOG_SPOOL", "REQLOG_ORIGIN",
                                      "REQLOG_API_KEY", "REQLOG_BASE_URL", "REQLOG_RATE",
                                      "REQLOG_SHIP_WAIT_MS", "REQLOG_DURABILITY",
                                      "XDG_STATE_HOME", NULL};
  for (int i = 0; clear[i]; i++)
    unsetenv(clear[i]);
  env *e = calloc(1, sizeof *e);
  e->pg = tpg_start();
  e->dir = tu_tmpdir();
  e->api = tu_api(100000, 60000);
  snprintf(e->base_env, sizeof e->base_env, "REQLOG_BASE_URL=%s", fakeapi_base_url(e->api));
  snprintf(e->xdg_env, sizeof e->xdg_env, "XDG_STATE_HOME=%s/state", e->dir);
  *state = e;
  return 0;
}

static int teardown(void **state) {
  env *e = *state;
  tpg_stop(e->pg);
  fakeapi_stop(e->api);
  tu_rmtree(e->dir);
  free(e->dir);
  free(e);
  return 0;
}

/* `reqlog --db DB call METHOD PATH` against the demo API with its key, the limiter off,
 * the large drain bound and SPOOL_ENV ("REQLOG_SPOOL=..." or the XDG one). */
static int call(const env *e, const char *db, const char *spool_env, const char *method,
                const char *path, char **out, char **err) {
  const char *const envs[] = {e->base_env, "REQLOG_API_KEY=" FAKEAPI_KEY, "REQLOG_RATE=0",
                              WAIT_ENV, spool_env, NULL};
  return tu_run(ARGS("--db", db, "call", method, path), NULL, envs, out, err);
}

static int count_of(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
    n++;
  return n;
}

/* Every row of the spool at SPOOL is in the store C once, and nothing else of its
 * history: fails the test otherwise. Returns the rows. */
static int64_t check_once(PGconn *c, const char *spool) {
  int64_t hid = tu_file_int(spool, "SELECT value FROM meta WHERE name = 'history_id'");
  int64_t n = tu_file_int(spool, "SELECT count(*) FROM calls");
  int64_t max = tu_file_int(spool, "SELECT coalesce(max(id), 0) FROM calls");
  int64_t rows = tpg_intf(c, "SELECT count(*) FROM calls WHERE history_id = %" PRId64, hid);
  int64_t distinct = tpg_intf(c, "SELECT count(DISTINCT spool_id) FROM calls WHERE "
                              "history_id = %" PRId64, hid);
  int64_t beyond = tpg_intf(c, "SELECT count(*) FROM calls WHERE history_id = %" PRId64
                            " AND spool_id > %" PRId64, hid, max);
  if (rows != n || distinct != n || beyond != 0)
    fail_msg("spool %s: %" PRId64 " rows; store: %" PRId64 " rows, %" PRId64 " distinct, %"
             PRId64 " beyond the spool's last id", spool, n, rows, distinct, beyond);
  return n;
}

/* ------------------------------------------------------------------ call ships */

static void test_call_ships(void **state) {
  env *e = *state;
  TPG_SKIP_WITHOUT(e->pg);
  char *uri = tpg_createdb(e->pg, "callships");
  char *out = NULL, *err = NULL;
  int rc = call(e, uri, e->xdg_env, "GET", "/participants", &out, &err);
  tu_expect_exit(rc, 0, "call --db URL", err);
  printf("first call said:\n%s", err);
  char *folder = tu_path(e->dir, "state/reqlog");
  tu_expect_has(err, "recording into a new spool ", "the first call");
  tu_expect_has(err, folder, "the first call");
  tu_expect_has(err, "recorded as #1", "the first call");
  assert_null(strstr(err, "not shipped"));
  struct stat st;
  assert_int_equal(stat(folder, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);
  /* the spool named in the message is that folder's one history (and its -wal, -shm) */
  const char *named = strstr(err, folder);
  char spool[1024];
  assert_int_equal(sscanf(named, "%1023[^,]", spool), 1);
  assert_non_null(strstr(spool, "/spool-"));
  assert_int_equal(stat(spool, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  int files = tu_dir_count(folder, "spool-");
  assert_int_equal(tu_file_int(spool, "SELECT count(*) FROM calls"), 1);
  /* the row is in the store as the call exits */
  PGconn *c = tpg_conn(uri);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM calls"), 1);
  char *row = tpg_text(c, "SELECT method || ' ' || path || ' ' || status || ' ' || source "
                          "FROM calls");
  assert_string_equal(row, "GET /public/v1/participants 200 cli");
  free(row);
  tu_free2(&out, &err);

  /* a second call: the same spool, not announced again, shipped too */
  rc = call(e, uri, e->xdg_env, "GET", "/participants/3", &out, &err);
  tu_expect_exit(rc, 0, "second call", err);
  assert_null(strstr(err, "spool"));
  tu_expect_has(err, "recorded as #2", "the second call");
  assert_int_equal(tu_dir_count(folder, "spool-"), files);
  assert_int_equal(tu_file_int(spool, "SELECT count(*) FROM calls"), 2);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM calls"), 2);
  assert_int_equal(tpg_int(c, "SELECT count(DISTINCT spool_id) FROM calls"), 2);
  tu_free2(&out, &err);
  /* import with the URL: into a spool too, and shipped (another store, another spool) */
  char *har = tu_path(e->dir, "two.har");
  rc = tu_run(ARGS("--db", spool, "export", "--format", "har", "-o", har), NULL, NULL, &out,
              &err);
  tu_expect_exit(rc, 0, "export of the spool", err);
  tu_free2(&out, &err);
  char *uri2 = tpg_createdb(e->pg, "importing");
  char *spool2 = tu_path(e->dir, "import-spool.db");
  char spool_env[600];
  snprintf(spool_env, sizeof spool_env, "REQLOG_SPOOL=%s", spool2);
  const char *const envs[] = {spool_env, WAIT_ENV, NULL};
  rc = tu_run(ARGS("--db", uri2, "import", har), NULL, envs, &out, &err);
  tu_expect_exit(rc, 0, "import --db URL", err);
  tu_expect_has(out, "imported 2 calls", "import's summary");
  tu_free2(&out, &err);
  PGconn *c2 = tpg_conn(uri2);
  assert_int_equal(tpg_int(c2, "SELECT count(*) FROM calls WHERE source = 'import'"), 2);
  assert_int_equal(check_once(c2, spool2), 2);
  PQfinish(c2);
  free(spool2);
  free(uri2);
  free(har);
  printf("checked: two `call --db URL`, each row in the store when call exits; one spool "
         "(0700 folder), said once; `import --db URL` ships too\n");
  PQfinish(c);
  free(folder);
  free(uri);
}

/* ------------------------------------------------------------------ store down */

static void test_store_down(void **state) {
  env *e = *state;
  TPG_SKIP_WITHOUT(e->pg);
  char *uri = tpg_createdb(e->pg, "down");
  char *spool = tu_path(e->dir, "down.db");
  char spool_env[600];
  snprintf(spool_env, sizeof spool_env, "REQLOG_SPOOL=%s", spool);
  char *out = NULL, *err = NULL;
  /* the store's tables exist: it was used before it went down */
  int rc = call(e, uri, spool_env, "GET", "/participants", &out, &err);
  tu_expect_exit(rc, 0, "call with the store up", err);
  tu_free2(&out, &err);

  tpg_server_stop(e->pg);
  rc = call(e, uri, spool_env, "GET", "/participants/2", &out, &err);
  printf("a call with the store down said:\n%s", err);
  tu_expect_exit(rc, 0, "call with the store down", err);
  tu_expect_has(out, "\"id\"", "the API's answer");
  tu_expect_has(err, "recorded as #2", "the status line");
  tu_expect_has(err, "shipped yet: they wait in the spool", "where the call waits");
  tu_expect_has(err, spool, "where the call waits");
  tu_free2(&out, &err);
  rc = call(e, uri, spool_env, "GET", "/participants/999", &out, &err);
  tu_expect_exit(rc, 1, "a 404 with the store down", err);
  tu_expect_has(err, "HTTP 404", "the status line");
  tu_free2(&out, &err);
  assert_int_equal(tu_file_int(spool, "SELECT count(*) FROM calls"), 3);

  tpg_server_start(e->pg);
  PGconn *c = tpg_conn(uri);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM calls"), 1);
  /* the next call on the spool ships what waited, and its own */
  rc = call(e, uri, spool_env, "GET", "/participants/4", &out, &err);
  tu_expect_exit(rc, 0, "call with the store back", err);
  assert_null(strstr(err, "not shipped"));
  tu_free2(&out, &err);
  assert_int_equal(check_once(c, spool), 4);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM calls WHERE status = 404"), 1);
  rc = tu_run(ARGS("--db", spool, "ship", "--to", uri), NULL, NULL, &out, &err);
  tu_expect_exit(rc, 0, "ship after", err);
  tu_expect_has(out, "shipped 0 calls", "ship after");
  tu_free2(&out, &err);
  assert_int_equal(check_once(c, spool), 4);
  printf("checked: the store down, calls exit with the API's result, their rows wait in "
         "the spool (said) and the next call ships them, each once\n");
  PQfinish(c);
  free(spool);
  free(uri);
}

/* ------------------------------------------------------------------ password */

static void test_call_password(void **state) {
  env *e = *state;
  TPG_SKIP_WITHOUT(e->pg);
  char *uri = tpg_createdb(e->pg, "callpw");
  PGconn *c = tpg_conn(uri);
  tpg_exec(c, "GRANT ALL ON SCHEMA public TO " TPG_PW_USER);
  char good[512], wrong[512];
  tpg_pw_uri(e->pg, "callpw", TPG_PW_SECRET, good);
  tpg_pw_uri(e->pg, "callpw", "WrongZecret9", wrong);
  char *bad_spool = tu_path(e->dir, "pwdir");
  assert_int_equal(mkdir(bad_spool, 0700), 0);
  char bad_env[600];
  snprintf(bad_env, sizeof bad_env, "REQLOG_SPOOL=%s", bad_spool);
  /* right password; wrong password; a spool that cannot be opened */
  const char *const dbs[] = {good, wrong, good};
  const char *const spools[] = {e->xdg_env, e->xdg_env, bad_env};
  const char *const want[] = {"recorded as #1", "not shipping to postgresql://" TPG_PW_USER
                              ":[REDACTED]@", "the call is made but not recorded"};
  for (int i = 0; i < 3; i++) {
    char *out = NULL, *err = NULL;
    int rc = call(e, dbs[i], spools[i], "GET", "/participants", &out, &err);
    printf("run %d said:\n%s", i, err);
    tu_expect_exit(rc, 0, "call --db URL with a password", err);
    tu_expect_has(err, "holds a password", "the warning");
    tu_expect_has(err, want[i], "the call's stderr");
    assert_null(strstr(err, TPG_PW_SECRET));
    assert_null(strstr(err, "WrongZecret9"));
    assert_null(strstr(out, TPG_PW_SECRET));
    tu_free2(&out, &err);
  }
  /* one spool for both passwords, named and filled without them */
  char *folder = tu_path(e->dir, "state/reqlog");
  char *cmd = NULL;
  assert_true(asprintf(&cmd, "grep -rl -e '%s' -e WrongZecret9 '%s'", TPG_PW_SECRET, folder) > 0);
  assert_int_not_equal(system(cmd), 0);
  free(cmd);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM calls"), 1);
  printf("checked: a password in --db is warned about, in no message, no spool name and no "
         "spool file\n");
  PQfinish(c);
  free(folder);
  free(bad_spool);
  free(uri);
}

/* ------------------------------------------------------------------ proxy */

/* N calls through the proxy at PROXY_URL, 16 at a time, each to /bench?b=BATCH&i=I. */
static void burst(const env *e, const char *proxy_url, int batch, int n) {
  char *cfg = tu_path(e->dir, "burst.cfg");
  FILE *f = fopen(cfg, "w");
  assert_non_null(f);
  for (int i = 0; i < n; i++)
    fprintf(f, "url = \"%s/bench?b=%d&i=%d\"\noutput = \"/dev/null\"\n", proxy_url, batch, i);
  fclose(f);
  tp_output o = {0};
  int rc = tp_curl(NULL, ARGS("--no-progress-meter", "--parallel", "--parallel-max", "16", "-H", TP_AUTH, "-K", cfg),
                   &o);
  free(o.p);
  assert_int_equal(rc, 0);
  free(cfg);
}

static void test_proxy_burst(void **state) {
  env *e = *state;
  TPG_SKIP_WITHOUT(e->pg);
  char *uri = tpg_createdb(e->pg, "proxyburst");
  char *spool = tu_path(e->dir, "proxy.db");
  char spool_env[600];
  snprintf(spool_env, sizeof spool_env, "REQLOG_SPOOL=%s", spool);
  tp_proc p;
  const char *const envs[] = {spool_env, WAIT_ENV, NULL};
  assert_int_equal(tp_start_env(e->dir, uri, ARGS("--upstream", fakeapi_base_url(e->api), "--listen", "127.0.0.1:0"),
                                envs, &p), 0);
  const int n = 300;
  burst(e, p.url, 1, n);
  assert_int_equal(tp_kill(&p, SIGTERM), 0);
  char *text = tu_read_file(p.err_path);
  printf("the proxy said:\n%s", text ? text : "");
  tu_expect_has(text, "recording into a new spool", "the proxy's stderr");
  assert_null(strstr(text, "not shipped"));
  free(text);
  PGconn *c = tpg_conn(uri);
  assert_int_equal(tu_file_int(spool, "SELECT count(*) FROM calls"), n);
  assert_int_equal(check_once(c, spool), n);
  assert_int_equal(tpg_int(c, "SELECT count(DISTINCT url) FROM calls WHERE source = 'proxy'"),
                   n);
  printf("checked: %d calls through `proxy --db URL`, each in the store once after it "
         "stops\n", n);
  PQfinish(c);
  free(spool);
  free(uri);
}

/* ------------------------------------------------------------------ kill -9 */

static void test_kill9_recorder(void **state) {
  env *e = *state;
  TPG_SKIP_WITHOUT(e->pg);
  char *uri = tpg_createdb(e->pg, "killrec");
  char *spool = tu_path(e->dir, "kill.db");
  char spool_env[600];
  snprintf(spool_env, sizeof spool_env, "REQLOG_SPOOL=%s", spool);
  const char *const envs[] = {spool_env, WAIT_ENV, NULL};
  PGconn *c = tpg_conn(uri);
  int64_t last = 0;
  for (int round = 0; round < 3; round++) {
    tp_proc p;
    assert_int_equal(tp_start_env(e->dir, uri, ARGS("--upstream", fakeapi_base_url(e->api), "--listen", "127.0.0.1:0"),
                                  envs, &p), 0);
    /* some calls committed to the spool (waited for), then more that may not be */
    burst(e, p.url, round + 2, 200);
    for (int i = 0; i < 1200 && tu_file_int(spool, "SELECT count(*) FROM calls") <= last; i++)
      tu_sleep_ms(50);
    burst(e, p.url, round + 10, 100);
    assert_int_equal(tp_kill(&p, SIGKILL), 128 + SIGKILL);
    /* what the store has is some of the spool's rows, each once: nothing the spool lacks */
    int64_t hid = tu_file_int(spool, "SELECT value FROM meta WHERE name = 'history_id'");
    int64_t max = tu_file_int(spool, "SELECT coalesce(max(id), 0) FROM calls");
    if (max <= last)
      fail_msg("round %d: the spool's last id %" PRId64 ", before %" PRId64 " (%" PRId64
               " rows)", round, max, last, tu_file_int(spool, "SELECT count(*) FROM calls"));
    int64_t rows = tpg_intf(c, "SELECT count(*) FROM calls WHERE history_id = %" PRId64, hid);
    assert_int_equal(tpg_intf(c, "SELECT count(DISTINCT spool_id) FROM calls WHERE "
                              "history_id = %" PRId64, hid), rows);
    assert_int_equal(tpg_intf(c, "SELECT count(*) FROM calls WHERE history_id = %" PRId64
                              " AND spool_id > %" PRId64, hid, max), 0);
    printf("round %d: %" PRId64 " calls committed to the spool, %" PRId64 " in the store at "
           "the kill\n", round, max, rows);
    last = max;
  }
  /* the next process recording into the spool ships the rest */
  char *out = NULL, *err = NULL;
  int rc = call(e, uri, spool_env, "GET", "/participants", &out, &err);
  tu_expect_exit(rc, 0, "call after the kills", err);
  tu_free2(&out, &err);
  int64_t n = check_once(c, spool);
  printf("checked: 3 kill -9 of a recording proxy: the store never held a call twice; the "
         "next call shipped the rest (%" PRId64 " calls, each once)\n", n);
  PQfinish(c);
  free(spool);
  free(uri);
}

/* ------------------------------------------------------------------ library */

typedef struct said {
  char text[8192];
  int errors; /* reports with an error code */
} said;

static void on_report(void *ctx, reqlog_err err, const char *msg) {
  said *s = ctx;
  size_t len = strlen(s->text);
  snprintf(s->text + len, sizeof s->text - len, "%d: %s\n", (int)err, msg);
  if (err != REQLOG_OK)
    s->errors++;
}

/* Opens URL for recording as a library does, makes N calls, closes; what the error
 * handler heard into *S. Returns the spool's path (malloc'd). */
static char *record_n(const env *e, const char *url, int n, said *s) {
  reqlog *r = NULL;
  char *cause = NULL;
  if (reqlog_open(url, &r, &cause) != REQLOG_OK)
    fail_msg("reqlog_open: %s", cause);
  reqlog_set_error_handler(r, on_report, s);
  assert_int_equal(reqlog_set_base_url(r, fakeapi_base_url(e->api)), REQLOG_OK);
  assert_int_equal(reqlog_set_api_key(r, FAKEAPI_KEY), REQLOG_OK);
  reqlog_set_rate_limit(r, 0);
  char *spool = strdup(reqlog_spool_path(r));
  for (int i = 0; i < n; i++) {
    reqlog_response *resp = NULL;
    assert_int_equal(reqlog_request(r, "GET", "/participants", NULL, 0, NULL, &resp), REQLOG_OK);
    assert_int_equal(resp->status, 200);
    reqlog_response_free(resp);
  }
  assert_int_equal(reqlog_close(r), REQLOG_OK);
  return spool;
}

static void test_library(void **state) {
  env *e = *state;
  TPG_SKIP_WITHOUT(e->pg);
  char *uri = tpg_createdb(e->pg, "lib");
  PGconn *c = tpg_conn(uri);
  char *pw_uri = tpg_createdb(e->pg, "libpw");
  PGconn *pc = tpg_conn(pw_uri);
  /* the password role may make the store's tables */
  tpg_exec(pc, "GRANT ALL ON SCHEMA public TO " TPG_PW_USER);
  char *state_dir = tu_path(e->dir, "libstate");
  setenv("XDG_STATE_HOME", state_dir, 1);
  setenv("REQLOG_SHIP_WAIT_MS", "600000", 1);

  /* a file path: no spool */
  reqlog *r = NULL;
  char *file = tu_path(e->dir, "plain.db");
  assert_int_equal(reqlog_open(file, &r, NULL), REQLOG_OK);
  assert_null(reqlog_spool_path(r));
  reqlog_close(r);
  free(file);

  said s1 = {0};
  char *spool = record_n(e, uri, 3, &s1);
  printf("the handler heard:\n%s", s1.text);
  assert_int_equal(s1.errors, 0);
  assert_int_equal(count_of(s1.text, "recording into a new spool"), 1);
  assert_int_equal(strncmp(spool, state_dir, strlen(state_dir)), 0);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM calls WHERE source = 'library'"), 3);
  assert_int_equal(check_once(c, spool), 3);

  /* a password in the URL: the right one ships; the wrong one is refused, said to the
   * handler; both record into one spool, and the secret is nowhere */
  char good[512], wrong[512];
  tpg_pw_uri(e->pg, "libpw", TPG_PW_SECRET, good);
  tpg_pw_uri(e->pg, "libpw", "WrongZecret9", wrong);
  said s2 = {0}, s3 = {0};
  char *pw_spool = record_n(e, good, 2, &s2);
  char *wrong_spool = record_n(e, wrong, 1, &s3);
  printf("with the password:\n%swith a wrong one:\n%s", s2.text, s3.text);
  assert_string_equal(pw_spool, wrong_spool);
  assert_string_not_equal(pw_spool, spool);
  assert_int_equal(s2.errors, 0);
  assert_true(s3.errors > 0);
  tu_expect_has(s3.text, "not shipping to", "the wrong password's report");
  tu_expect_has(s3.text, "shipped yet: they wait in the spool", "the wrong password's report");
  assert_null(strstr(pw_spool, TPG_PW_SECRET));
  const char *const secrets[] = {TPG_PW_SECRET, "WrongZecret9", NULL};
  for (int i = 0; secrets[i]; i++) {
    assert_null(strstr(s2.text, secrets[i]));
    assert_null(strstr(s3.text, secrets[i]));
    assert_false(tu_db_files_contain(pw_spool, secrets[i]));
  }
  assert_int_equal(tu_file_int(pw_spool, "SELECT count(*) FROM calls"), 3);
  assert_int_equal(tpg_int(pc, "SELECT count(*) FROM calls"), 2);
  /* the right password again ships what the wrong one left */
  said s4 = {0};
  free(record_n(e, good, 0, &s4));
  assert_int_equal(s4.errors, 0);
  assert_int_equal(check_once(pc, pw_spool), 3);
  assert_int_equal(tpg_int(pc, "SELECT count(*) FROM calls"), 3);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM calls"), 3);

  unsetenv("XDG_STATE_HOME");
  unsetenv("REQLOG_SHIP_WAIT_MS");
  printf("checked: reqlog_open(URL) + reqlog_request + reqlog_close ships; the spool path "
         "ignores the password, which is nowhere in spool or messages\n");
  PQfinish(c);
  PQfinish(pc);
  free(pw_uri);
  free(pw_spool);
  free(wrong_spool);
  free(spool);
  free(state_dir);
  free(uri);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_call_ships),
    cmocka_unit_test(test_store_down),
    cmocka_unit_test(test_call_password),
    cmocka_unit_test(test_proxy_burst),
    cmocka_unit_test(test_kill9_recorder),
    cmocka_unit_test(test_library),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
