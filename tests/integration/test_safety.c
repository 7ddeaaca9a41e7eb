/* test_safety.c: what must hold whatever happens: secrets never reach the database
 * files, a recording failure never changes the call's result, several processes
 * recording at once lose nothing, committed rows survive kill -9, pruned text leaves the
 * files, and the history file is private, ours, and what it claims to be.
 *
 * Plan:
 *   secrets        a key, cookies, tokens and passwords sent through every channel
 *                  (Authorization, Cookie, X-Api-Key, query, JSON body, form body, URL
 *                  userinfo, echoed response, Set-Cookie, token response) are absent
 *                  from the raw .db, -wal and -shm files
 *   disk full      with a file-size limit the recording fails, the calls still return
 *                  their full results, and the failure is reported
 *   locked         another connection holds the write lock for longer than the busy
 *                  timeout: calls return at once, rows arrive after the lock is gone
 *   processes      4 processes record 150 calls each into one file: 600 rows, no
 *                  "database is locked" reported
 *   page size      a new history has 16 KiB pages; a 4 KiB one (older versions) keeps
 *                  them and goes on recording
 *   kill -9        batch mode: rows appear without close; sync mode: a row is on disk
 *                  when its call returns, so kill -9 right after loses nothing
 *   prune          a pruned body's text and its full-text index term are in neither the
 *                  .db nor the -wal bytes afterwards (also with a reader open); kept rows
 *                  are still found by q=; a reader holding an old snapshot makes prune
 *                  exit 4, and the next prune finishes the wipe
 *   private        a touched 0644 file, a 0640 history and its -wal/-shm become 0600 with
 *                  one warning; the library tells its error handler; new files are 0600
 *   symlink        a link (and a dangling one) as the history is refused; no target made
 *   other owner    a history, an empty file or a -wal of another user is refused for
 *                  recording (exit 4), nothing written into it
 *   read-only      as the nobody user (setpriv): list/show/stats/export read a history in
 *                  a folder they cannot write (with and without a -wal) and an own 0444
 *                  one; an old-schema history is upgraded for its owner, refused otherwise
 *   not a history  a text file, a directory, an empty file (for reading commands): named
 *                  as such, exit 4, left as they were
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reqlog.h"
#include "store/schema.h"
#include "testutil.h"
#include "store/store.h"

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static size_t discard(char *p, size_t s, size_t n, void *arg) {
  (void)p;
  (void)arg;
  return s * n;
}

/* Every channel a secret can travel through, each with its own marker. */
static void test_secrets_never_on_disk(void **state) {
  (void)state;
  char *dir = tu_tmpdir(), *db = tu_path(dir, "s.db");
  fakeapi *api = tu_api(1000, 60000);
  reqlog *r = NULL;
  setenv("REQLOG_REDACT", " medicare_number , ndis_number", 1);
  assert_int_equal(reqlog_open(db, &r, NULL), REQLOG_OK);
  unsetenv("REQLOG_REDACT");
  reqlog_set_base_url(r, fakeapi_base_url(api));
  reqlog_set_api_key(r, FAKEAPI_KEY);
  reqlog_set_rate_limit(r, 0);
  reqlog_add_redaction(r, "date_of_birth");
  reqlog_response *resp = NULL;

  const char *echo_hdrs[] = {"Cookie: sid=COOKIESECRET77; theme=dark", "X-Api-Key: XAPIKEYSECRET88",
                             "X-Session-Token: SESSHDRSECRET99", NULL};
  const char *json = "{\"name\":\"a\",\"password\":\"PWSECRET-hunter2\",\"nested\":{\"access_token\":"
                     "\"ATSECRET-zz\",\"list\":[{\"client_secret\":\"CSSECRET-1\"}]},"
                     "\"note\":\"Bearer INLINEBEARERSECRET123\",\"date_of_birth\":\"1990-01-01\","
                     "\"medicare_number\":\"MEDICARE2953\",\"ndis_number\":4300123456}";
  assert_int_equal(reqlog_request(r, "POST", "/echo?access_token=QSECRET-aa&key=QKEYSECRET-bb&page=2",
                                  json, strlen(json), echo_hdrs, &resp), REQLOG_OK);
  /* the call itself got everything: redaction happens only on the way to disk */
  assert_non_null(strstr(resp->body, "PWSECRET-hunter2"));
  reqlog_response_free(resp);
  const char *form_hdrs[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
  const char *form = "username=ann&password=FORMPWSECRET&remember=1";
  assert_int_equal(reqlog_request(r, "POST", "/echo", form, strlen(form), form_hdrs, &resp), REQLOG_OK);
  reqlog_response_free(resp);
  assert_int_equal(reqlog_request(r, "GET", "/session", NULL, 0, NULL, &resp), REQLOG_OK);
  reqlog_response_free(resp);
  assert_int_equal(reqlog_request(r, "POST", "/oauth/token", "{}", 2, NULL, &resp), REQLOG_OK);
  assert_non_null(strstr(resp->body, "at_SECRET_abc"));
  reqlog_response_free(resp);

  /* the drop-in, with credentials in the URL and a JWT in a header */
  char url[300];
  snprintf(url, sizeof url, "http://ann:USERINFOSECRET@127.0.0.1:%d/public/v1/echo", fakeapi_port(api));
  CURL *c = curl_easy_init();
  struct curl_slist *h = curl_slist_append(NULL, "Authorization: Bearer " FAKEAPI_KEY2);
  h = curl_slist_append(h, "X-Trace: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJKV1RTRUNSRVQifQ.c2lnbmF0dXJlSldU");
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  assert_int_equal(reqlog_easy_perform(r, c), CURLE_OK);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  assert_int_equal(reqlog_flush(r, NULL), REQLOG_OK);

  /* what is kept instead: fingerprints and [REDACTED], valid JSON */
  sqlite3 *s = tu_db(db);
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls"), 5);
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls WHERE request_body LIKE '%[REDACTED]%'"), 2);
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls WHERE json_valid(request_body) AND "
                             "path = '/public/v1/echo' AND method = 'POST'"), 1);
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls WHERE key IS NOT NULL"), 5);
  sqlite3_close(s);
  assert_int_equal(reqlog_close(r), REQLOG_OK);

  const char *secrets[] = {FAKEAPI_KEY, FAKEAPI_KEY2, "COOKIESECRET77", "XAPIKEYSECRET88",
                           "SESSHDRSECRET99", "PWSECRET-hunter2", "ATSECRET-zz", "CSSECRET-1",
                           "INLINEBEARERSECRET123", "1990-01-01", "QSECRET-aa", "QKEYSECRET-bb",
                           "FORMPWSECRET", "SESSSECRET123", "at_SECRET_abc", "rt_SECRET_def",
                           "USERINFOSECRET", "c2lnbmF0dXJlSldU", "MEDICARE2953", "4300123456", NULL};
  int leaks = 0;
  for (int i = 0; secrets[i]; i++)
    leaks += tu_db_files_contain(db, secrets[i]);
  assert_int_equal(leaks, 0);
  /* and the check can fail: a marker that is stored on purpose is found */
  assert_true(tu_file_contains(db, "remember=1") || tu_file_contains(db, "theme=dark"));
  printf("checked: %d secrets sent through headers, query, JSON, form, userinfo, JWT, "
         "Set-Cookie, token bodies and $REQLOG_REDACT names are in none of the raw database "
         "files\n", 20);
  fakeapi_stop(api);
  tu_rmtree(dir);
  free(dir);
  free(db);
}

typedef struct errlog {
  int count;
  reqlog_err last;
} errlog;

static void on_error(void *ctx, reqlog_err err, const char *msg) {
  errlog *l = ctx;
  l->count++;
  l->last = err;
  fprintf(stderr, "(reported) %s\n", msg);
}

/* In a child: a file-size limit makes every write past the current size fail (as on a
 * full disk). Calls must return their complete results; the failure must be reported. */
static void test_disk_full_keeps_calls_working(void **state) {
  (void)state;
  char *dir = tu_tmpdir(), *db = tu_path(dir, "f.db");
  fakeapi *api = tu_api(100000, 60000);
  reqlog *r = NULL;
  assert_int_equal(reqlog_open(db, &r, NULL), REQLOG_OK);
  reqlog_close(r);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    struct stat st;
    stat(db, &st);
    struct rlimit rl = {(rlim_t)st.st_size + 8192, (rlim_t)st.st_size + 8192};
    setrlimit(RLIMIT_FSIZE, &rl);
    errlog log = {0};
    int bad = 0;
    if (reqlog_open(db, &r, NULL) != REQLOG_OK)
      _exit(10);
    reqlog_set_error_handler(r, on_error, &log);
    reqlog_set_base_url(r, fakeapi_base_url(api));
    reqlog_set_api_key(r, FAKEAPI_KEY);
    reqlog_set_rate_limit(r, 0);
    reqlog_set_durability(r, REQLOG_DURABILITY_SYNC);
    for (int i = 0; i < 20; i++) {
      reqlog_response *resp = NULL;
      reqlog_err e = reqlog_request(r, "GET", "/large?bytes=200000", NULL, 0, NULL, &resp);
      if (e != REQLOG_OK || !resp || resp->status != 200 || resp->body_len != 200000)
        bad++;
      reqlog_response_free(resp);
    }
    reqlog_err closed = reqlog_close(r);
    fprintf(stderr, "child: %d bad calls, %d reports, close: %s\n", bad, log.count,
            reqlog_strerror(closed));
    _exit(bad ? 11 : (log.count == 0 ? 12 : 0));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  /* the database is still sound */
  sqlite3 *s = tu_db(db);
  char *ok = tu_text(s, "PRAGMA integrity_check");
  assert_string_equal(ok, "ok");
  free(ok);
  sqlite3_close(s);
  printf("checked: with the disk full, 20 calls returned complete 200 bodies, the failure "
         "was reported, the database stayed sound\n");
  fakeapi_stop(api);
  tu_rmtree(dir);
  free(dir);
  free(db);
}

static void test_locked_database(void **state) {
  (void)state;
  char *dir = tu_tmpdir(), *db = tu_path(dir, "l.db");
  fakeapi *api = tu_api(100000, 60000);
  reqlog *r = NULL;
  errlog log = {0};
  assert_int_equal(reqlog_open(db, &r, NULL), REQLOG_OK);
  reqlog_set_error_handler(r, on_error, &log);
  reqlog_set_base_url(r, fakeapi_base_url(api));
  reqlog_set_api_key(r, FAKEAPI_KEY);
  reqlog_set_rate_limit(r, 0);
  sqlite3 *locker = tu_db(db);
  assert_int_equal(sqlite3_exec(locker, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
  for (int i = 0; i < 10; i++) {
    reqlog_response *resp = NULL;
    assert_int_equal(reqlog_request(r, "GET", "/participants/1", NULL, 0, NULL, &resp), REQLOG_OK);
    assert_int_equal(resp->status, 200);
    reqlog_response_free(resp);
  }
  /* hold the lock past the writer's busy timeout, then let go */
  sleep_ms(6000);
  assert_int_equal(sqlite3_exec(locker, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  assert_int_equal(reqlog_flush(r, NULL), REQLOG_OK);
  assert_int_equal(tu_int(locker, "SELECT count(*) FROM calls"), 10);
  sqlite3_close(locker);
  assert_int_equal(log.count, 0);
  assert_int_equal(reqlog_close(r), REQLOG_OK);
  printf("checked: 10 calls made while another connection held the lock for 6 s all "
         "returned 200 and all 10 rows arrived, nothing reported\n");
  fakeapi_stop(api);
  tu_rmtree(dir);
  free(dir);
  free(db);
}

static void test_processes_share_one_file(void **state) {
  (void)state;
  char *dir = tu_tmpdir(), *db = tu_path(dir, "p.db");
  fakeapi *api = tu_api(100000, 60000);
  enum { PROCS = 4, CALLS = 150 };
  pid_t pids[PROCS];
  for (int p = 0; p < PROCS; p++) {
    pids[p] = fork();
    assert_true(pids[p] >= 0);
    if (pids[p] == 0) {
      reqlog *r = NULL;
      errlog log = {0};
      if (reqlog_open(db, &r, NULL) != REQLOG_OK)
        _exit(10);
      reqlog_set_error_handler(r, on_error, &log);
      char url[200];
      snprintf(url, sizeof url, "%s/bench", fakeapi_base_url(api));
      CURL *c = curl_easy_init();
      struct curl_slist *h = curl_slist_append(NULL, "Authorization: Bearer " FAKEAPI_KEY);
      curl_easy_setopt(c, CURLOPT_URL, url);
      curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
      curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
      int bad = 0;
      for (int i = 0; i < CALLS; i++)
        bad += reqlog_easy_perform(r, c) != CURLE_OK;
      if (p % 2)
        reqlog_flush(r, NULL);
      reqlog_err e = reqlog_close(r);
      curl_slist_free_all(h);
      curl_easy_cleanup(c);
      _exit(bad ? 11 : e != REQLOG_OK ? 12 : log.count ? 13 : 0);
    }
  }
  for (int p = 0; p < PROCS; p++) {
    int status = 0;
    waitpid(pids[p], &status, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
  }
  sqlite3 *s = tu_db(db);
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls"), PROCS * CALLS);
  assert_int_equal(tu_int(s, "SELECT count(DISTINCT id) FROM calls"), PROCS * CALLS);
  sqlite3_close(s);
  printf("checked: %d processes x %d calls into one file: %d rows, no lock error surfaced\n",
         PROCS, CALLS, PROCS * CALLS);
  fakeapi_stop(api);
  tu_rmtree(dir);
  free(dir);
  free(db);
}

/* Records N calls into DB through the library; returns the reqlog_close() result. */
static reqlog_err record_calls(const char *db, fakeapi *api, int n) {
  reqlog *r = NULL;
  char *cause = NULL;
  if (reqlog_open(db, &r, &cause) != REQLOG_OK) {
    fprintf(stderr, "%s\n", cause);
    free(cause);
    return REQLOG_ERR_DB;
  }
  reqlog_set_base_url(r, fakeapi_base_url(api));
  reqlog_set_api_key(r, FAKEAPI_KEY);
  reqlog_set_rate_limit(r, 0);
  for (int i = 0; i < n; i++) {
    reqlog_response *resp = NULL;
    assert_int_equal(reqlog_request(r, "GET", "/participants/2", NULL, 0, NULL, &resp), REQLOG_OK);
    reqlog_response_free(resp);
  }
  return reqlog_close(r);
}

static void exec_ok(sqlite3 *h, const char *sql) {
  char *msg = NULL;
  if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK)
    fprintf(stderr, "%s: %s\n", sql, msg ? msg : "?");
  sqlite3_free(msg);
  assert_true(msg == NULL);
}

/* A new history gets 16 KiB pages; one with 4 KiB pages (as older reqlog versions made
 * them) keeps its page size and goes on recording, intact. */
static void test_page_size(void **state) {
  (void)state;
  char *dir = tu_tmpdir(), *db = tu_path(dir, "new.db"), *old = tu_path(dir, "old.db");
  fakeapi *api = tu_api(100000, 60000);
  assert_int_equal(record_calls(db, api, 3), REQLOG_OK);
  sqlite3 *h = tu_db(db);
  assert_int_equal(tu_int(h, "PRAGMA page_size"), 16384);
  assert_int_equal(tu_int(h, "SELECT count(*) FROM calls"), 3);
  sqlite3_close(h);

  /* the same history rewritten with 4 KiB pages */
  assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
  char sql[600];
  snprintf(sql, sizeof sql, "VACUUM INTO '%s'", old);
  exec_ok(h, sql);
  sqlite3_close(h);
  assert_int_equal(sqlite3_open(old, &h), SQLITE_OK);
  exec_ok(h, "PRAGMA journal_mode = DELETE; PRAGMA page_size = 4096; VACUUM; "
             "PRAGMA journal_mode = WAL");
  assert_int_equal(tu_int(h, "PRAGMA page_size"), 4096);
  sqlite3_close(h);

  assert_int_equal(record_calls(old, api, 2), REQLOG_OK);
  h = tu_db(old);
  assert_int_equal(tu_int(h, "PRAGMA page_size"), 4096);
  assert_int_equal(tu_int(h, "SELECT count(*) FROM calls"), 5);
  assert_int_equal(tu_int(h, "SELECT count(*) FROM pragma_integrity_check WHERE "
                             "integrity_check <> 'ok'"), 0);
  sqlite3_close(h);
  printf("checked: a new history has 16 KiB pages; a 4 KiB one keeps its page size, "
         "takes 2 more rows (5 in all) and passes integrity_check\n");
  fakeapi_stop(api);
  tu_rmtree(dir);
  free(dir);
  free(db);
  free(old);
}

/* A child records N calls, tells the parent after each, then waits to be killed. */
static pid_t recorder_child(const char *db, fakeapi *api, int sync, int n, int fd) {
  pid_t pid = fork();
  if (pid != 0)
    return pid;
  reqlog *r = NULL;
  char *cause = NULL;
  if (reqlog_open(db, &r, &cause) != REQLOG_OK) {
    fprintf(stderr, "child: %s\n", cause);
    _exit(10);
  }
  if (sync)
    reqlog_set_durability(r, REQLOG_DURABILITY_SYNC);
  reqlog_set_base_url(r, fakeapi_base_url(api));
  reqlog_set_api_key(r, FAKEAPI_KEY);
  reqlog_set_rate_limit(r, 0);
  for (int i = 0; i < n; i++) {
    reqlog_response *resp = NULL;
    reqlog_request(r, "GET", "/participants/2", NULL, 0, NULL, &resp);
    reqlog_response_free(resp);
    if (write(fd, "x", 1) != 1)
      _exit(11);
  }
  for (;;)
    pause();
}

static void test_kill9_durability(void **state) {
  (void)state;
  char *dir = tu_tmpdir(), *db = tu_path(dir, "k.db");
  fakeapi *api = tu_api(100000, 60000);
  reqlog *r = NULL;
  assert_int_equal(reqlog_open(db, &r, NULL), REQLOG_OK);
  reqlog_close(r);
  int fds[2];
  char b[64];
  /* sync: on disk when the call returns */
  assert_int_equal(pipe(fds), 0);
  pid_t pid = recorder_child(db, api, 1, 25, fds[1]);
  close(fds[1]);
  int got = 0;
  while (got < 25) {
    ssize_t n = read(fds[0], b, sizeof b);
    assert_true(n > 0);
    got += (int)n;
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  close(fds[0]);
  sqlite3 *s = tu_db(db);
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls"), 25);
  printf("checked: sync mode: kill -9 right after the 25th call returned, 25 rows on disk\n");
  /* batch: committed by the writer within its interval, without close or flush */
  assert_int_equal(pipe(fds), 0);
  pid = recorder_child(db, api, 0, 25, fds[1]);
  close(fds[1]);
  got = 0;
  while (got < 25) {
    ssize_t n = read(fds[0], b, sizeof b);
    assert_true(n > 0);
    got += (int)n;
  }
  int64_t rows = 0;
  for (int i = 0; i < 200 && rows < 50; i++) {
    sleep_ms(50);
    rows = tu_int(s, "SELECT count(*) FROM calls");
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  close(fds[0]);
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls"), 50);
  char *ok = tu_text(s, "PRAGMA integrity_check");
  assert_string_equal(ok, "ok");
  free(ok);
  sqlite3_close(s);
  printf("checked: batch mode: rows committed without close; after kill -9 all 50 rows "
         "there and the file passes integrity_check\n");
  fakeapi_stop(api);
  tu_rmtree(dir);
  free(dir);
  free(db);
}

/* POSTs N JSON bodies carrying WORD to /echo (so both bodies hold it), then closes. */
static void record_word(const char *db, fakeapi *api, const char *word, int n) {
  reqlog *r = NULL;
  assert_int_equal(reqlog_open(db, &r, NULL), REQLOG_OK);
  reqlog_set_base_url(r, fakeapi_base_url(api));
  reqlog_set_api_key(r, FAKEAPI_KEY);
  reqlog_set_rate_limit(r, 0);
  const char *hdrs[] = {"Content-Type: application/json", NULL};
  for (int i = 0; i < n; i++) {
    char body[160];
    snprintf(body, sizeof body, "{\"note\":\"call %d says %s and nothing else\"}", i, word);
    reqlog_response *resp = NULL;
    assert_int_equal(reqlog_request(r, "POST", "/echo", body, strlen(body), hdrs, &resp),
                     REQLOG_OK);
    reqlog_response_free(resp);
  }
  assert_int_equal(reqlog_close(r), REQLOG_OK);
}

/* How many rows a full-text search for WORD finds (the q= filter). */
static int64_t count_q(const char *db, const char *word) {
  reqlog *r = NULL;
  reqlog_filter *f = NULL;
  int64_t n = -1;
  assert_int_equal(reqlog_open(db, &r, NULL), REQLOG_OK);
  assert_int_equal(reqlog_filter_new(&f), REQLOG_OK);
  assert_int_equal(reqlog_filter_set(f, "q", word, NULL), REQLOG_OK);
  assert_int_equal(reqlog_count(r, f, &n, NULL), REQLOG_OK);
  reqlog_filter_free(f);
  reqlog_close(r);
  return n;
}

/* After a prune nothing of a pruned body is left in the .db or -wal: not the row (secure
 * delete), not the full-text index's copy of its words (whose delete markers must be
 * merged away), not an old WAL frame. Rows kept stay searchable. */
static void test_prune_leaves_no_trace(void **state) {
  (void)state;
  char *dir = tu_tmpdir(), *db = tu_path(dir, "pr.db"), *wal = tu_path(dir, "pr.db-wal");
  fakeapi *api = tu_api(100000, 60000);
  record_word(db, api, "PRUNEDCANARYQX7 ЖЩЮ", 6);
  record_word(db, api, "KEPTMARKERZW3", 4);
  assert_true(tu_db_files_contain(db, "PRUNEDCANARYQX7"));
  assert_true(tu_db_files_contain(db, "жщю"));
  assert_int_equal(count_q(db, "PRUNEDCANARYQX7"), 6);
  /* a reader holds the database open, as a dashboard would: the WAL stays */
  sqlite3 *reader = tu_db(db);
  assert_int_equal(tu_int(reader, "SELECT count(*) FROM calls"), 10);
  const char *argv[] = {"--db", db, "prune", "--max-rows", "4", NULL};
  char *out = NULL, *err = NULL;
  int rc = tu_run(argv, NULL, NULL, &out, &err);
  fprintf(stderr, "%s%s", out, err);
  assert_int_equal(rc, 0);
  assert_non_null(strstr(out, "pruned 6 calls"));
  free(out);
  free(err);
  /* the row's text, and the index's copy of one of its words: the trigram tokenizer
   * keeps "жщю" folded to lower case, and as the only term starting with "ж" it is
   * stored whole (a term sharing a prefix with the one before it is stored shortened) */
  int in_db = tu_file_contains(db, "PRUNEDCANARYQX7"), in_wal = tu_file_contains(wal, "PRUNEDCANARYQX7");
  int term_db = tu_file_contains(db, "жщю"), term_wal = tu_file_contains(wal, "жщю");
  fprintf(stderr, "after prune: canary in db %d, wal %d; index term in db %d, wal %d\n", in_db,
          in_wal, term_db, term_wal);
  assert_false(in_db);
  assert_false(in_wal);
  assert_false(term_db);
  assert_false(term_wal);
  sqlite3_close(reader);
  assert_int_equal(count_q(db, "PRUNEDCANARYQX7"), 0);
  assert_int_equal(count_q(db, "KEPTMARKERZW3"), 4);
  assert_int_equal(count_q(db, "ZW3"), 4);
  printf("checked: after pruning 6 of 10 calls neither the canary nor its trigrams are in "
         "the .db or -wal bytes; the 4 kept calls are still found by q=\n");
  fakeapi_stop(api);
  tu_rmtree(dir);
  free(dir);
  free(db);
  free(wal);
}

/* A prune that deletes every row leaves the ids going on from where they were: a new
 * row gets an id above every id the history ever had, so it is above the search index's
 * mark (found by q=, counted by stats) and above what a team store has of the history
 * (shipped). Before meta.id_floor, the next row got id 1 again and q= never found it. */
static void test_prune_all_ids_go_on(void **state) {
  (void)state;
  char *dir = tu_tmpdir(), *db = tu_path(dir, "ids.db");
  fakeapi *api = tu_api(100000, 60000);
  record_word(db, api, "FIRSTROUNDPX4", 3);
  /* the indexer's mark moves past the three rows, as it does in the background */
  sqlite3 *h = tu_db(db);
  int done = 0;
  assert_int_equal(store_index_fts(h, 100, &done), REQLOG_OK);
  assert_int_equal(tu_int(h, "SELECT value FROM meta WHERE name = 'fts_indexed'"), 3);
  sqlite3_close(h);
  reqlog *r = NULL;
  int64_t deleted = 0;
  assert_int_equal(reqlog_open(db, &r, NULL), REQLOG_OK);
  assert_int_equal(reqlog_prune(r, tu_now_us() + 3600 * INT64_C(1000000), 0, &deleted, NULL),
                   REQLOG_OK);
  assert_int_equal(reqlog_close(r), REQLOG_OK);
  assert_int_equal(deleted, 3);
  record_word(db, api, "SECONDROUNDQK5", 2);
  h = tu_db(db);
  assert_int_equal(tu_int(h, "SELECT count(*) FROM calls"), 2);
  assert_int_equal(tu_int(h, "SELECT min(id) FROM calls"), 4);
  assert_int_equal(tu_int(h, "SELECT value FROM meta WHERE name = 'id_floor'"), 3);
  sqlite3_close(h);
  assert_int_equal(count_q(db, "SECONDROUNDQK5"), 2);
  assert_int_equal(count_q(db, "FIRSTROUNDPX4"), 0);
  printf("checked: after a prune of every row the next rows are #4 and #5 (id_floor 3), "
         "found by q= above the index's mark\n");
  fakeapi_stop(api);
  tu_rmtree(dir);
  free(dir);
  free(db);
}

/* ------------------------------------------------------------------ the history file */

/* Runs the reqlog binary with "--db DB" and the NULL-ended arguments that follow; as the
 * `nobody` user (65534) when AS_NOBODY, through setpriv (the tests run as root, which
 * file modes do not stop). *out and *err get what it printed. Returns its exit code. */
static int run_db(int as_nobody, const char *db, char **out, char **err, ...) {
  const char *argv[16] = {"--db", db};
  int n = 2;
  va_list ap;
  va_start(ap, err);
  for (const char *a; n < 15 && (a = va_arg(ap, const char *)) != NULL;)
    argv[n++] = a;
  va_end(ap);
  argv[n] = NULL;
  if (!as_nobody)
    return tu_run(argv, NULL, NULL, out, err);
  const char *bin = getenv("REQLOG_TEST_BIN");
  char *real = realpath(bin && *bin ? bin : "build/reqlog", NULL), *saved = bin ? strdup(bin) : NULL;
  assert_non_null(real);
  /* a script that drops to nobody, in a folder nobody may read */
  char *dir = tu_tmpdir(), *script = tu_path(dir, "as-nobody");
  assert_int_equal(chmod(dir, 0755), 0);
  FILE *f = fopen(script, "w");
  assert_non_null(f);
  fprintf(f, "#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups '%s' \"$@\"\n",
          real);
  fclose(f);
  assert_int_equal(chmod(script, 0755), 0);
  setenv("REQLOG_TEST_BIN", script, 1);
  int rc = tu_run(argv, NULL, NULL, out, err);
  if (saved)
    setenv("REQLOG_TEST_BIN", saved, 1);
  else
    unsetenv("REQLOG_TEST_BIN");
  free(saved);
  free(real);
  free(script);
  tu_rmtree(dir);
  free(dir);
  return rc;
}

static int count_of(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
    n++;
  return n;
}

static unsigned mode_of(const char *path) {
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  return (unsigned)(st.st_mode & 07777);
}

static off_t size_of(const char *path) {
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  return st.st_size;
}

static void make_file(const char *path, const char *text, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  assert_int_equal(fchmod(fd, mode), 0); /* whatever the umask */
  close(fd);
}

static void make_history(const char *path) {
  reqlog *r = NULL;
  assert_int_equal(reqlog_open(path, &r, NULL), REQLOG_OK);
  assert_int_equal(reqlog_close(r), REQLOG_OK);
}

/* A history file that others can read is made private (0600) when reqlog opens it, with
 * one warning; its -wal and -shm too. The library says so through the error handler. */
static void test_history_made_private(void **state) {
  (void)state;
  char *dir = tu_tmpdir(), *db = tu_path(dir, "t.db"), *wal = tu_path(dir, "t.db-wal"),
       *shm = tu_path(dir, "t.db-shm");
  char *out = NULL, *err = NULL;
  make_file(db, "", 0644); /* touch t.db */
  assert_int_equal(run_db(0, db, &out, &err, "prune", "--max-rows", "5", NULL), 0);
  fprintf(stderr, "%s", err);
  assert_int_equal(mode_of(db), 0600);
  assert_int_equal(count_of(err, "readable by other users"), 1);
  free(out);
  free(err);
  assert_int_equal(run_db(0, db, &out, &err, "list", NULL), 0);
  assert_int_equal(count_of(err, "readable by other users"), 0);
  free(out);
  free(err);

  /* a history in use, its -wal and -shm made by SQLite with the file's mode (those a
   * reading command left, empty, go first) */
  unlink(wal);
  unlink(shm);
  assert_int_equal(chmod(db, 0640), 0);
  sqlite3 *h = tu_db(db);
  assert_int_equal(tu_int(h, "SELECT count(*) FROM calls"), 0);
  assert_int_equal(mode_of(wal), 0640);
  assert_int_equal(mode_of(shm), 0640);
  assert_int_equal(run_db(0, db, &out, &err, "list", NULL), 0);
  fprintf(stderr, "%s", err);
  assert_int_equal(count_of(err, "readable by other users"), 1);
  assert_int_equal(mode_of(db), 0600);
  assert_int_equal(mode_of(wal), 0600);
  assert_int_equal(mode_of(shm), 0600);
  free(out);
  free(err);
  sqlite3_close(h);

  /* the library prints nothing: it tells the error handler, once */
  assert_int_equal(chmod(db, 0604), 0);
  reqlog *r = NULL;
  errlog log = {0};
  assert_int_equal(reqlog_open(db, &r, NULL), REQLOG_OK);
  assert_int_equal(mode_of(db), 0600);
  reqlog_set_error_handler(r, on_error, &log);
  reqlog_set_error_handler(r, on_error, &log);
  assert_int_equal(log.count, 1);
  assert_int_equal(log.last, REQLOG_OK);
  assert_int_equal(reqlog_close(r), REQLOG_OK);
  /* a new history is 0600 whatever the umask */
  char *fresh = tu_path(dir, "fresh.db");
  mode_t old_mask = umask(0);
  make_history(fresh);
  umask(old_mask);
  assert_int_equal(mode_of(fresh), 0600);
  free(fresh);
  printf("checked: a touched 0644 file and a 0640 history with its -wal and -shm are made "
         "0600 by the next command, which says so once; the library tells its handler; a "
         "new history is 0600 under umask 0\n");
  tu_rmtree(dir);
  free(dir);
  free(db);
  free(wal);
  free(shm);
}

/* A symbolic link as the history is refused (the link itself, O_NOFOLLOW): recording
 * would write wherever it points, and a dangling one would create its target. */
static void test_history_symlink_refused(void **state) {
  (void)state;
  char *dir = tu_tmpdir(), *real = tu_path(dir, "real.db"), *link = tu_path(dir, "link.db"),
       *dangling = tu_path(dir, "dangling.db"), *target = tu_path(dir, "target.db");
  make_history(real);
  assert_int_equal(symlink(real, link), 0);
  assert_int_equal(symlink(target, dangling), 0);
  char *out = NULL, *err = NULL;
  assert_int_equal(run_db(0, link, &out, &err, "list", NULL), 4);
  fprintf(stderr, "%s", err);
  assert_non_null(strstr(err, "is a symbolic link"));
  free(out);
  free(err);
  assert_int_equal(run_db(0, link, &out, &err, "prune", "--max-rows", "1", NULL), 4);
  assert_non_null(strstr(err, "is a symbolic link"));
  free(out);
  free(err);
  reqlog *r = NULL;
  char *cause = NULL;
  assert_int_not_equal(reqlog_open(dangling, &r, &cause), REQLOG_OK);
  assert_null(r);
  fprintf(stderr, "%s\n", cause);
  assert_non_null(strstr(cause, "is a symbolic link"));
  reqlog_free(cause);
  assert_int_not_equal(access(target, F_OK), 0);
  printf("checked: a link to a history is refused by list and prune (exit 4), a dangling "
         "link by the library, which does not create its target\n");
  tu_rmtree(dir);
  free(dir);
  free(real);
  free(link);
  free(dangling);
  free(target);
}

/* A file of another user (a shared folder where someone created it first, or its -wal)
 * is refused for recording: nothing of ours goes into a file someone else controls. */
static void test_history_other_owner_refused(void **state) {
  (void)state;
  char *dir = tu_tmpdir(), *theirs = tu_path(dir, "theirs.db"), *trap = tu_path(dir, "trap.db"),
       *mine = tu_path(dir, "mine.db"), *mine_wal = tu_path(dir, "mine.db-wal");
  char *out = NULL, *err = NULL, *cause = NULL;
  reqlog *r = NULL;
  make_history(theirs);
  assert_int_equal(chown(theirs, 65534, 65534), 0);
  assert_int_equal(run_db(0, theirs, &out, &err, "prune", "--max-rows", "1", NULL), 4);
  fprintf(stderr, "%s", err);
  assert_non_null(strstr(err, "belongs to another user"));
  free(out);
  free(err);

  make_file(trap, "", 0666); /* created first by someone else, writable by all */
  assert_int_equal(chown(trap, 65534, 65534), 0);
  assert_int_not_equal(reqlog_open(trap, &r, &cause), REQLOG_OK);
  assert_null(r);
  fprintf(stderr, "%s\n", cause);
  assert_non_null(strstr(cause, "belongs to another user"));
  reqlog_free(cause);
  assert_int_equal(size_of(trap), 0);

  make_history(mine);
  make_file(mine_wal, "", 0666);
  assert_int_equal(chown(mine_wal, 65534, 65534), 0);
  assert_int_not_equal(reqlog_open(mine, &r, &cause), REQLOG_OK);
  fprintf(stderr, "%s\n", cause);
  assert_non_null(strstr(cause, "mine.db-wal belongs to another user"));
  reqlog_free(cause);
  assert_int_equal(size_of(mine_wal), 0);
  printf("checked: a history, an empty file and a -wal owned by another user are refused "
         "(exit 4 from prune; the library's cause names the file); nothing written\n");
  tu_rmtree(dir);
  free(dir);
  free(theirs);
  free(trap);
  free(mine);
  free(mine_wal);
}

/* Reading commands read a history they may not write (run as nobody: root ignores file
 * modes): a colleague's file in a folder we cannot write, with and without a -wal that
 * holds recent calls, and our own 0444 file. */
static void test_readonly_history(void **state) {
  (void)state;
  char *dir = tu_tmpdir(), *ro = tu_path(dir, "ro"), *db = tu_path(ro, "h.db"),
       *ro_wal = tu_path(ro, "h.db-wal");
  char *own_dir = tu_path(dir, "own"), *own = tu_path(own_dir, "h.db");
  char *out = NULL, *err = NULL;
  fakeapi *api = tu_api(100000, 60000);
  assert_int_equal(chmod(dir, 0755), 0);
  assert_int_equal(mkdir(ro, 0755), 0);
  assert_int_equal(record_calls(db, api, 3), REQLOG_OK);
  assert_int_equal(chmod(db, 0644), 0); /* shared to be read */
  const char *reads[][5] = {{"list", NULL}, {"show", "2", NULL}, {"stats", NULL},
                            {"export", "--format", "ndjson", NULL}};
  const char *expect[] = {"participants/2", "participants/2", "calls         3",
                          "participants/2"};
  for (int i = 0; i < 4; i++) {
    int rc = run_db(1, db, &out, &err, reads[i][0], reads[i][1], reads[i][2], reads[i][3],
                    NULL);
    fprintf(stderr, "%s: exit %d %s", reads[i][0], rc, err);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, expect[i]));
    free(out);
    free(err);
  }
  assert_int_not_equal(access(ro_wal, F_OK), 0);

  /* the owner is recording: a committed row is still in the -wal */
  sqlite3 *h = tu_db(db);
  tu_exec(h, TU_FULL_ROW_SQL);
  assert_int_equal(run_db(1, db, &out, &err, "show", "7", NULL), 0);
  fprintf(stderr, "%s", err);
  assert_non_null(strstr(out, "422"));
  free(out);
  free(err);
  sqlite3_close(h);

  /* our own history, mode 0444, in our own folder */
  assert_int_equal(mkdir(own_dir, 0755), 0);
  assert_int_equal(record_calls(own, api, 2), REQLOG_OK);
  assert_int_equal(chown(own_dir, 65534, 65534), 0);
  assert_int_equal(chown(own, 65534, 65534), 0);
  assert_int_equal(chmod(own, 0444), 0);
  assert_int_equal(run_db(1, own, &out, &err, "list", NULL), 0);
  fprintf(stderr, "%s", err);
  assert_non_null(strstr(out, "participants/2"));
  free(out);
  free(err);
  printf("checked: as nobody, list/show/stats/export read a 0644 history in a folder they "
         "cannot write (also with a committed row still in its -wal), and an own 0444 one\n");
  fakeapi_stop(api);
  tu_rmtree(dir);
  free(dir);
  free(ro);
  free(db);
  free(ro_wal);
  free(own_dir);
  free(own);
}

/* What is not a history is named as such (exit 4), and left as it was. */
static void test_not_a_history(void **state) {
  (void)state;
  char *dir = tu_tmpdir(), *text = tu_path(dir, "notes.db"), *folder = tu_path(dir, "folder.db"),
       *empty = tu_path(dir, "empty.db"), *empty_wal = tu_path(dir, "empty.db-wal");
  char *out = NULL, *err = NULL, msg[600];
  make_file(text, "hello, world\n", 0600);
  const char *cmds[][4] = {{"list", NULL}, {"prune", "--max-rows", "1", NULL}};
  for (int i = 0; i < 2; i++) {
    assert_int_equal(run_db(0, text, &out, &err, cmds[i][0], cmds[i][1], cmds[i][2], NULL), 4);
    fprintf(stderr, "%s", err);
    snprintf(msg, sizeof msg, "%s is not a reqlog history (not an SQLite database)", text);
    assert_non_null(strstr(err, msg));
    free(out);
    free(err);
  }
  assert_int_equal(size_of(text), 13);

  assert_int_equal(mkdir(folder, 0700), 0);
  for (int i = 0; i < 2; i++) {
    assert_int_equal(run_db(0, folder, &out, &err, cmds[i][0], cmds[i][1], cmds[i][2], NULL), 4);
    fprintf(stderr, "%s", err);
    snprintf(msg, sizeof msg, "%s is a directory", folder);
    assert_non_null(strstr(err, msg));
    free(out);
    free(err);
  }

  make_file(empty, "", 0600);
  const char *reads[][4] = {{"list", NULL}, {"show", "1", NULL}, {"stats", NULL},
                            {"export", "--format", "csv", NULL}};
  for (int i = 0; i < 4; i++) {
    int rc = run_db(0, empty, &out, &err, reads[i][0], reads[i][1], reads[i][2], NULL);
    fprintf(stderr, "%s: exit %d %s", reads[i][0], rc, err);
    assert_int_equal(rc, 4);
    snprintf(msg, sizeof msg, "%s is empty, not a reqlog history", empty);
    assert_non_null(strstr(err, msg));
    free(out);
    free(err);
    assert_int_equal(size_of(empty), 0);
    assert_int_not_equal(access(empty_wal, F_OK), 0);
  }
  printf("checked: a text file, a directory and (for reading commands) an empty file are "
         "named as not a history, exit 4, and stay as they were\n");
  tu_rmtree(dir);
  free(dir);
  free(text);
  free(folder);
  free(empty);
  free(empty_wal);
}

/* A reader that keeps an old snapshot stops prune's checkpoint: prune says so (exit 4,
 * after printing what it deleted), and the next prune, even one that deletes nothing,
 * finishes the job once the reader is done. */
static void test_prune_after_reader(void **state) {
  (void)state;
  char *dir = tu_tmpdir(), *db = tu_path(dir, "rd.db"), *wal = tu_path(dir, "rd.db-wal");
  fakeapi *api = tu_api(100000, 60000);
  record_word(db, api, "HELDCANARYJV8", 3);
  record_word(db, api, "KEPTMARKERZW3", 2);
  sqlite3 *reader = tu_db(db);
  exec_ok(reader, "BEGIN");
  assert_int_equal(tu_int(reader, "SELECT count(*) FROM calls"), 5);
  char *out = NULL, *err = NULL;
  assert_int_equal(run_db(0, db, &out, &err, "prune", "--max-rows", "2", NULL), 4);
  fprintf(stderr, "%s%s", out, err);
  assert_non_null(strstr(out, "pruned 3 calls"));
  assert_non_null(strstr(err, "run prune again"));
  free(out);
  free(err);
  exec_ok(reader, "COMMIT");
  assert_int_equal(run_db(0, db, &out, &err, "prune", "--max-rows", "2", NULL), 0);
  assert_non_null(strstr(out, "pruned 0 calls"));
  free(out);
  free(err);
  assert_false(tu_file_contains(db, "HELDCANARYJV8"));
  assert_false(tu_file_contains(wal, "HELDCANARYJV8"));
  assert_int_equal(tu_int(reader, "SELECT count(*) FROM calls"), 2);
  sqlite3_close(reader);
  printf("checked: prune during a long read exits 4 saying to run it again; the next prune "
         "(deleting nothing) leaves no pruned text in the .db or -wal\n");
  fakeapi_stop(api);
  tu_rmtree(dir);
  free(dir);
  free(db);
  free(wal);
}

/* Writes a history as the first reqlog version did: schema 001 only, one row. */
static void make_v1_history(const char *path) {
  sqlite3 *h = NULL;
  assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
  exec_ok(h, "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL");
  exec_ok(h, (const char *)reqlog_schema_files[0].data);
  exec_ok(h, "PRAGMA user_version = 1");
  exec_ok(h, TU_FULL_ROW_SQL);
  sqlite3_close(h);
  assert_int_equal(chmod(path, 0644), 0);
}

/* A reading command upgrades its user's history written by an older reqlog (as it did
 * when it opened it read-write), and names what to do with someone else's. */
static void test_reading_old_history(void **state) {
  (void)state;
  char *dir = tu_tmpdir(), *db = tu_path(dir, "v1.db"), *ro = tu_path(dir, "ro"),
       *theirs = tu_path(ro, "v1.db");
  char *out = NULL, *err = NULL;
  make_v1_history(db);
  assert_int_equal(run_db(0, db, &out, &err, "list", NULL), 0);
  assert_non_null(strstr(out, "/public/v1/participants"));
  free(out);
  free(err);
  int known = 0;
  while (reqlog_schema_files[known].name)
    known++;
  sqlite3 *h = tu_db(db);
  assert_int_equal(tu_int(h, "PRAGMA user_version"), known);
  /* 003_origin.sql: the old row reads as recorded on this host, the history got an id */
  char host[256] = "";
  assert_int_equal(gethostname(host, sizeof host - 1), 0);
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(h, "SELECT origin FROM calls", -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(st, 0), host);
  sqlite3_finalize(st);
  assert_true(tu_int(h, "SELECT value > 0 FROM meta WHERE name = 'history_id'"));
  sqlite3_close(h);
  /* ... and the reading commands show it and find it by that origin */
  assert_int_equal(run_db(0, db, &out, &err, "list", "--json", "--origin", host, NULL), 0);
  cJSON *rows = cJSON_Parse(out);
  assert_int_equal(cJSON_GetArraySize(rows), 1);
  assert_string_equal(tu_str(cJSON_GetArrayItem(rows, 0), "origin"), host);
  cJSON_Delete(rows);
  free(out);
  free(err);
  assert_int_equal(run_db(0, db, &out, &err, "export", "--format", "csv", NULL), 0);
  char *row = strstr(out, ",origin,request_id\r\n"); /* the header's last columns */
  assert_non_null(row);
  row += strlen(",origin,request_id\r\n");
  char *row_end = strstr(row, "\r\n");
  assert_non_null(row_end);
  *row_end = '\0';
  char *last = strrchr(row, ','); /* the request id (005_request_id.sql: from its headers) */
  assert_non_null(last);
  *last = '\0';
  char *origin = strrchr(row, ',');
  assert_non_null(origin);
  assert_string_equal(origin + 1, host);
  free(out);
  free(err);

  assert_int_equal(chmod(dir, 0755), 0);
  assert_int_equal(mkdir(ro, 0755), 0);
  make_v1_history(theirs);
  assert_int_equal(run_db(1, theirs, &out, &err, "list", NULL), 4);
  fprintf(stderr, "%s", err);
  char want[64];
  snprintf(want, sizeof want, "was written by an older reqlog (schema 1 of %d)", known);
  assert_non_null(strstr(err, want));
  free(out);
  free(err);
  printf("checked: list upgrades an own schema-1 history and shows its row, whose origin "
         "is this host (list --json --origin HOST finds it, CSV's origin cell); another "
         "user's is refused (exit 4) with what to do\n");
  tu_rmtree(dir);
  free(dir);
  free(db);
  free(ro);
  free(theirs);
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  if (getenv("TEST_FILTER")) /* e.g. TEST_FILTER='test_history*' */
    cmocka_set_test_filter(getenv("TEST_FILTER"));
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_secrets_never_on_disk),
    cmocka_unit_test(test_disk_full_keeps_calls_working),
    cmocka_unit_test(test_locked_database),
    cmocka_unit_test(test_processes_share_one_file),
    cmocka_unit_test(test_page_size),
    cmocka_unit_test(test_kill9_durability),
    cmocka_unit_test(test_prune_leaves_no_trace),
    cmocka_unit_test(test_history_made_private),
    cmocka_unit_test(test_history_symlink_refused),
    cmocka_unit_test(test_history_other_owner_refused),
    cmocka_unit_test(test_readonly_history),
    cmocka_unit_test(test_not_a_history),
    cmocka_unit_test(test_prune_after_reader),
    cmocka_unit_test(test_prune_all_ids_go_on),
    cmocka_unit_test(test_reading_old_history),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  curl_global_cleanup();
  return rc;
}
