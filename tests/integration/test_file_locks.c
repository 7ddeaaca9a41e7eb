/* test_file_locks.c: opening a history a second time in a process that already has it open
 * keeps the SQLite locks that process holds on it. On POSIX, closing any descriptor of a
 * file drops every fcntl lock the process holds on that file, so a file check that
 * open()s and close()s the history, its -wal or its -shm would silently drop the locks of
 * the first handle's connections, and another process could then checkpoint and delete
 * the WAL under it.
 *
 * Plan:
 *   locks kept     a recording handle has the history open (WAL: a read lock on the
 *                  -shm's DMS byte, a shared lock on the database file). After a
 *                  reqlog_open_readonly() of the same path, a read, its close, and a
 *                  second reqlog_open() and its close, a forked child still finds both
 *                  locks held by this process (fcntl F_GETLK)
 *   no rows lost   the recording handle stays open while it is opened again and
 *                  `reqlog call` processes on the same file come and go between its
 *                  calls: every row of both is in the file at the end
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reqlog.h"
#include "testcli.h"

/* SQLite's unix VFS (os_unix.c): the -shm's dead-man-switch byte, held read-locked by every
 * connection that has the wal-index open (UNIX_SHM_BASE 120 + SQLITE_SHM_NLOCK 8), and the
 * database file's shared-lock range (PENDING_BYTE 0x40000000 + 2, 510 bytes). */
enum { SHM_DMS = 128 };
#define DB_SHARED_FIRST 0x40000002L
#define DB_SHARED_SIZE 510L

/* Whether another process sees a read lock of this process on LEN bytes at START of PATH:
 * a forked child asks fcntl(F_GETLK) for a write lock there. 1 held, 0 not, -1 error. */
static int read_lock_held(const char *path, long start, long len) {
  pid_t me = getpid();
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      _exit(3);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    if (fcntl(fd, F_GETLK, &fl) != 0)
      _exit(4);
    _exit(fl.l_type == F_RDLCK && fl.l_pid == me ? 0 : fl.l_type == F_UNLCK ? 1 : 5);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  int rc = WEXITSTATUS(status);
  return rc == 0 ? 1 : rc == 1 ? 0 : -1;
}

/* Asserts that this process still holds its locks on DB and its -shm, after WHAT. */
static void expect_locks(const char *db, const char *what) {
  char *shm = NULL;
  assert_true(asprintf(&shm, "%s-shm", db) > 0);
  int dms = read_lock_held(shm, SHM_DMS, 1);
  int shared = read_lock_held(db, DB_SHARED_FIRST, DB_SHARED_SIZE);
  if (dms != 1 || shared != 1)
    fprintf(stderr, "after %s: -shm DMS read lock %s, database shared lock %s\n", what,
            dms == 1 ? "held" : dms == 0 ? "GONE" : "?",
            shared == 1 ? "held" : shared == 0 ? "GONE" : "?");
  assert_int_equal(dms, 1);
  assert_int_equal(shared, 1);
  free(shm);
}

static reqlog *open_recording(const char *db, const tc_env *e) {
  reqlog *r = NULL;
  char *cause = NULL;
  if (reqlog_open(db, &r, &cause) != REQLOG_OK)
    fail_msg("reqlog_open %s: %s", db, cause ? cause : "?");
  reqlog_set_base_url(r, fakeapi_base_url(e->api));
  reqlog_set_api_key(r, FAKEAPI_KEY);
  reqlog_set_rate_limit(r, 0);
  return r;
}

static void record_one(reqlog *r) {
  reqlog_response *resp = NULL;
  assert_int_equal(reqlog_request(r, "GET", "/participants/2", NULL, 0, NULL, &resp),
                   REQLOG_OK);
  reqlog_response_free(resp);
  char *cause = NULL;
  if (reqlog_flush(r, &cause) != REQLOG_OK)
    fail_msg("flush: %s", cause ? cause : "?");
}

/* Opens DB read-only, reads its newest row, closes it; returns the rows read (1). */
static int read_once(const char *db) {
  reqlog *ro = NULL;
  char *cause = NULL;
  if (reqlog_open_readonly(db, &ro, &cause) != REQLOG_OK)
    fail_msg("reqlog_open_readonly %s: %s", db, cause ? cause : "?");
  reqlog_query_opts o = {.limit = 1};
  reqlog_cursor *c = NULL;
  assert_int_equal(reqlog_query(ro, NULL, &o, &c, NULL), REQLOG_OK);
  cJSON *row = NULL;
  int n = 0;
  while (reqlog_cursor_next(c, &row) == REQLOG_OK) {
    n++;
    cJSON_Delete(row);
  }
  reqlog_cursor_free(c);
  assert_int_equal(reqlog_close(ro), REQLOG_OK);
  return n;
}

static void test_second_open_keeps_locks(void **state) {
  tc_env *e = *state;
  char *db = tu_path(e->dir, "locks.db");
  reqlog *r = open_recording(db, e);
  record_one(r);
  expect_locks(db, "the first open and a recorded call"); /* what the test relies on */

  assert_int_equal(read_once(db), 1);
  expect_locks(db, "reqlog_open_readonly, a read and its close");

  reqlog *again = open_recording(db, e);
  assert_int_equal(reqlog_close(again), REQLOG_OK);
  expect_locks(db, "a second reqlog_open and its close");

  record_one(r);
  expect_locks(db, "recording again");
  assert_int_equal(reqlog_close(r), REQLOG_OK);
  printf("checked: a recording handle keeps its -shm DMS read lock and its database shared "
         "lock through a read-only open, read and close and a second open and close of "
         "the same file\n");
  free(db);
}

static void test_no_rows_lost(void **state) {
  tc_env *e = *state;
  char *db = tu_path(e->dir, "lost.db");
  enum { ROUNDS = 5 };
  reqlog *r = open_recording(db, e);
  int mine = 0, theirs = 0;
  for (int i = 0; i < ROUNDS; i++) {
    record_one(r);
    mine++;
    assert_int_equal(read_once(db), 1); /* a second open of the file in this process */
    reqlog *again = open_recording(db, e);
    assert_int_equal(reqlog_close(again), REQLOG_OK);
    char *out = NULL, *err = NULL;
    int rc = tc_run(e, db, FAKEAPI_KEY, NULL, (const char *const[]){"call", "GET",
                    "/participants/3", NULL}, &out, &err);
    tu_expect_exit(rc, 0, "reqlog call on the file held open", err);
    assert_true(tc_recorded_id(err) > 0);
    theirs++;
    tu_free2(&out, &err);
    record_one(r);
    mine++;
  }
  assert_int_equal(reqlog_close(r), REQLOG_OK);
  sqlite3 *s = tu_db(db);
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls WHERE path = '/public/v1/participants/2'"),
                   mine);
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls WHERE path = '/public/v1/participants/3'"),
                   theirs);
  sqlite3_close(s);
  printf("checked: %d calls recorded by a handle held open while the file was opened again "
         "and %d `reqlog call` processes came and went: all %d rows are in the file\n",
         mine, theirs, mine + theirs);
  free(db);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_second_open_keeps_locks),
      cmocka_unit_test(test_no_rows_lost),
  };
  return cmocka_run_group_tests(tests, tc_setup, tc_teardown);
}
