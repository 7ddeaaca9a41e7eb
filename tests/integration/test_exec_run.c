/* test_exec_run.c: how `reqlog exec` runs a program: its exit status, the signal state
 * and environment it starts with, and what happens when the shim has no parent to talk
 * to. The fixture: testexec.h.
 *
 * Plan:
 *   exit codes        curl's 7 (with its transport error row), 3, 128+SIGTERM, 127 for
 *                     a missing program, usage errors, --help
 *   signals           the program starts with the signal state it has without exec:
 *                     ignored stays ignored, default stays default, the same mask
 *   no parent         the shim preloaded with no parent, a missing one, or one that
 *                     hangs up: the program's output and exit code never change
 *   environment       LD_PRELOAD is appended to the program's own; a missing shim is
 *                     a clear error and the program does not run
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reqlog.h"
#include "exec/shim_wire.h"
#include "testexec.h"

static void test_exit_codes(void **state) {
  (void)state;
  char *db = te_new_db();
  const char *refused[] = {"curl", "-s", "http://127.0.0.1:1/nothing", NULL};
  char *out, *err, *err2;
  assert_int_equal(te_run_plain(refused, NULL, NULL, NULL, &err), 7);
  assert_int_equal(te_run_exec(db, refused, NULL, NULL, NULL, &err2), 7);
  assert_string_equal(err, err2);
  free(err);
  free(err2);
  cJSON *rows = te_rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), 1);
  cJSON *row = cJSON_GetArrayItem(rows, 0);
  assert_true(tu_is_null(row, "status"));
  assert_non_null(tu_str(row, "error"));
  assert_true(strstr(tu_str(row, "error"), "connect") != NULL);
  printf("checked: curl to a closed port exits 7 with and without exec; its row has no "
         "status and the error '%s'\n", tu_str(row, "error"));
  cJSON_Delete(rows);

  const char *three[] = {"sh", "-c", "echo out; echo err >&2; exit 3", NULL};
  assert_int_equal(te_run_exec(db, three, NULL, NULL, &out, &err), 3);
  assert_string_equal(out, "out\n");
  assert_string_equal(err, "err\n");
  free(out);
  free(err);
  const char *killed[] = {"sh", "-c", "kill -TERM $$", NULL};
  assert_int_equal(te_run_exec(db, killed, NULL, NULL, NULL, NULL), 128 + SIGTERM);
  const char *missing[] = {"reqlog-no-such-program", "x", NULL};
  assert_int_equal(te_run_exec(db, missing, NULL, NULL, &out, &err), 127);
  assert_true(strstr(err, "reqlog-no-such-program") != NULL);
  assert_string_equal(out, "");
  free(out);
  free(err);
  char *noexec = tu_path(TE->dir, "not-executable.sh");
  tu_write_file(noexec, "echo should not run\n", 0644);
  const char *cannot[] = {noexec, NULL};
  assert_int_equal(te_run_exec(db, cannot, NULL, NULL, &out, &err), 126);
  assert_true(strstr(err, "not-executable.sh") != NULL);
  assert_string_equal(out, "");
  free(out);
  free(err);
  free(noexec);
  /* like system(): a ^C is the program's; reqlog waits for it and reports its end */
  const char *sigint_parent[] = {"sh", "-c", "kill -INT $PPID; sleep 0.1; echo alive", NULL};
  assert_int_equal(te_run_exec(db, sigint_parent, NULL, NULL, &out, NULL), 0);
  assert_string_equal(out, "alive\n");
  free(out);
  const char *sigint_child[] = {"sh", "-c", "kill -INT $$; sleep 1", NULL};
  assert_int_equal(te_run_exec(db, sigint_child, NULL, NULL, NULL, NULL), 128 + SIGINT);
  printf("checked: a program's exit 3 and its stdout/stderr pass through; killed by "
         "SIGTERM gives %d; a missing program gives 127 and one without execute "
         "permission 126, naming it; a SIGINT sent to "
         "reqlog leaves it waiting for the program, one the program dies of gives %d\n",
         128 + SIGTERM, 128 + SIGINT);

  const char *noprog[] = {"--db", db, "exec", NULL};
  assert_int_equal(tu_run(noprog, NULL, NULL, NULL, &err), 2);
  assert_true(strstr(err, "PROGRAM") != NULL);
  free(err);
  const char *badopt[] = {"--db", db, "exec", "--frobnicate", "curl", NULL};
  assert_int_equal(tu_run(badopt, NULL, NULL, NULL, &err), 2);
  assert_true(strstr(err, "--frobnicate") != NULL);
  free(err);
  const char *help[] = {"exec", "--help", NULL};
  assert_int_equal(tu_run(help, NULL, NULL, &out, NULL), 0);
  assert_true(strstr(out, "usage: reqlog exec") != NULL);
  assert_true(strstr(out, "REQLOG_DB=calls.db reqlog exec -- curl") != NULL);
  free(out);
  /* options after PROGRAM are PROGRAM's, even without -- */
  const char *noddash[] = {"--db", db, "exec", "sh", "-c", "echo $0", "-x", NULL};
  assert_int_equal(tu_run(noddash, NULL, NULL, &out, NULL), 0);
  assert_string_equal(out, "-x\n");
  free(out);
  printf("checked: exec without PROGRAM or with an unknown option exits 2 naming it; "
         "--help shows the example; options after PROGRAM are left to it\n");
  free(db);
}

/* The signal state a program starts with under `reqlog exec`, as the kernel reports
 * it: the SigBlk and SigIgn lines of its /proc/self/status (grep reads its own), after
 * checking that it is the state the program has when run by itself. */
static char *signal_state(const char *db) {
  const char *argv[] = {"grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status", NULL};
  char *plain = NULL, *traced = NULL;
  assert_int_equal(te_run_plain(argv, NULL, NULL, &plain, NULL), 0);
  assert_int_equal(te_run_exec(db, argv, NULL, NULL, &traced, NULL), 0);
  assert_string_equal(plain, traced);
  free(plain);
  return traced;
}

/* Whether SIG is set in the hex mask of the status line NAME ("SigIgn:") in STATE. */
static int mask_has(const char *state, const char *name, int sig) {
  const char *line = strstr(state, name);
  assert_non_null(line);
  unsigned long long mask = strtoull(line + strlen(name), NULL, 16);
  return (int)(mask >> (sig - 1) & 1);
}

/* A program run by `reqlog exec` starts with the signal state it has when the shell runs
 * it itself: ignored signals stay ignored (a background job's SIGINT), the others are at
 * their default although reqlog ignores SIGINT and SIGQUIT while it waits, and the mask
 * of blocked signals is the same. */
static void test_signal_state(void **state) {
  (void)state;
  char *db = te_new_db();
  char *traced = signal_state(db);
  assert_false(mask_has(traced, "SigIgn:", SIGINT));
  assert_false(mask_has(traced, "SigIgn:", SIGQUIT));
  printf("checked: started with SIGINT and SIGQUIT at their default, the program sees them "
         "at their default under exec too:\n%s", traced);
  free(traced);

  /* as `make test &` from a shell without job control starts it: SIGINT and SIGQUIT
   * ignored; and a signal blocked, as some supervisors leave it */
  struct sigaction ign = {0}, old_int, old_quit, old_pipe;
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  sigaction(SIGINT, &ign, &old_int);
  sigaction(SIGQUIT, &ign, &old_quit);
  sigaction(SIGPIPE, &ign, &old_pipe);
  sigset_t usr1, old_mask;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, &old_mask);
  traced = signal_state(db);
  pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGQUIT, &old_quit, NULL);
  sigaction(SIGPIPE, &old_pipe, NULL);
  assert_true(mask_has(traced, "SigIgn:", SIGINT));
  assert_true(mask_has(traced, "SigIgn:", SIGQUIT));
  assert_true(mask_has(traced, "SigIgn:", SIGPIPE));
  assert_true(mask_has(traced, "SigBlk:", SIGUSR1));
  printf("checked: started with SIGINT, SIGQUIT and SIGPIPE ignored and SIGUSR1 blocked, "
         "the program sees exactly that under exec too, as when run by itself:\n%s", traced);
  free(traced);
  free(db);
}

/* ------------------------------------------------------------------ without a parent */

/* Accepts connections on a Unix socket and hangs up on each at once. */
typedef struct hangup {
  int fd;
  volatile int stop;
  int accepted;
} hangup;

static void *hangup_main(void *arg) {
  hangup *h = arg;
  while (!h->stop) {
    int c = accept(h->fd, NULL, NULL);
    if (c >= 0) {
      h->accepted++;
      close(c);
    }
  }
  return NULL;
}

static void test_no_parent(void **state) {
  (void)state;
  char u1[300], u2[300], sockenv[4200], preload[4200];
  te_url_of(u1, sizeof u1, "/participants/1");
  te_url_of(u2, sizeof u2, "/large?bytes=600000");
  const char *argv[] = {"curl", "-s", "-v", "-H", TE->auth, u1, u2, NULL};
  char *o0, *e0;
  assert_int_equal(te_run_plain(argv, NULL, NULL, &o0, &e0), 0);
  char *req0 = te_lines_with(e0, "> ");

  char *gone = tu_path(TE->dir, "gone.sock");
  char *hup = tu_path(TE->dir, "hangup.sock");
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a = {0};
  a.sun_family = AF_UNIX;
  snprintf(a.sun_path, sizeof a.sun_path, "%s", hup);
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(fd, 8), 0);
  struct timeval tv = {0, 50000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  hangup h = {fd, 0, 0};
  pthread_t t;
  pthread_create(&t, NULL, hangup_main, &h);

  snprintf(preload, sizeof preload, "LD_PRELOAD=%s", TE->shim);
  const char *cases[][2] = {{"no " WIRE_ENV_SOCKET, NULL},
                            {"a socket path that does not exist", gone},
                            {"a parent that hangs up at once", hup}};
  for (int i = 0; i < 3; i++) {
    snprintf(sockenv, sizeof sockenv, "%s=%s", WIRE_ENV_SOCKET,
             cases[i][1] ? cases[i][1] : "");
    const char *env[] = {preload, sockenv, NULL};
    char *o, *e;
    assert_int_equal(te_run_plain(argv, NULL, env, &o, &e), 0);
    assert_string_equal(o, o0);
    char *req = te_lines_with(e, "> ");
    assert_string_equal(req, req0);
    printf("checked: curl with the shim preloaded and %s: exit 0, the same %zu bytes of "
           "stdout and the same -v request lines\n", cases[i][0], strlen(o));
    free(req);
    free(o);
    free(e);
  }
  h.stop = 1;
  pthread_join(t, NULL);
  close(fd);
  assert_true(h.accepted >= 1);
  printf("checked: the hanging-up parent was reached %d time(s) and curl never noticed "
         "(no SIGPIPE, no output)\n", h.accepted);
  free(req0);
  free(o0);
  free(e0);
  free(gone);
  free(hup);
}

/* ------------------------------------------------------------------ environment */

static void test_environment(void **state) {
  (void)state;
  char *db = te_new_db();
  /* a library the program preloads itself stays first; the shim comes after it */
  Dl_info info;
  assert_true(dladdr((void *)cos, &info) && info.dli_fname);
  char preload[4200], asan[1024];
  snprintf(preload, sizeof preload, "LD_PRELOAD=%s", info.dli_fname);
  const char *asan_opts = getenv("ASAN_OPTIONS");
  /* reqlog itself may be ASan-built: let it start with a library preloaded */
  snprintf(asan, sizeof asan, "ASAN_OPTIONS=%s%sverify_asan_link_order=0",
           asan_opts ? asan_opts : "", asan_opts && *asan_opts ? ":" : "");
  const char *env[] = {preload, asan, NULL};
  const char *argv[] = {"sh", "-c", "printf '%s|%s' \"$LD_PRELOAD\" \"$" WIRE_ENV_SOCKET "\"",
                        NULL};
  char *out;
  assert_int_equal(te_run_exec(db, argv, NULL, env, &out, NULL), 0);
  char want[8400];
  snprintf(want, sizeof want, "%s:%s|", info.dli_fname, TE->shim);
  assert_true(strncmp(out, want, strlen(want)) == 0);
  assert_true(strstr(out, "/reqlog-exec-") != NULL);
  printf("checked: the program sees LD_PRELOAD=%s:%s (its own first) and the parent's "
         "socket in a private folder\n", info.dli_fname, TE->shim);
  free(out);

  /* the shim is in the program, SQLite is not */
  const char *maps[] = {"sh", "-c", "cat /proc/$$/maps", NULL};
  assert_int_equal(te_run_exec(db, maps, NULL, NULL, &out, NULL), 0);
  assert_true(strstr(out, "libreqlog-shim.so") != NULL);
  assert_null(strstr(out, "libsqlite3"));
  free(out);
  printf("checked: the traced program maps libreqlog-shim.so and no libsqlite3\n");

  char *err;
  char *nodb = tu_path(TE->dir, "no/such/folder/x.db");
  const char *args[] = {"--db", nodb, "exec", "--", "sh", "-c", "echo ran; exit 6", NULL};
  assert_int_equal(tu_run(args, NULL, NULL, &out, &err), 6);
  assert_string_equal(out, "ran\n");
  assert_true(strstr(err, "not recorded") != NULL);
  printf("checked: a database that cannot be opened: a warning, and the program still runs "
         "with its exit code: %s", err);
  free(out);
  free(err);
  free(nodb);

  const char *missing[] = {"REQLOG_SHIM=/nonexistent/libreqlog-shim.so", NULL};
  const char *echo[] = {"sh", "-c", "echo ran", NULL};
  assert_int_equal(te_run_exec(db, echo, NULL, missing, &out, &err), 4);
  assert_string_equal(out, "");
  assert_true(strstr(err, "/nonexistent/libreqlog-shim.so") != NULL);
  assert_true(strstr(err, "REQLOG_SHIM") != NULL);
  printf("checked: REQLOG_SHIM pointing nowhere: exit 4, the program does not run, %s", err);
  free(out);
  free(err);
  free(db);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_exit_codes),
    cmocka_unit_test(test_signal_state),
    cmocka_unit_test(test_no_parent),
    cmocka_unit_test(test_environment),
  };
  return cmocka_run_group_tests(tests, te_setup, te_teardown);
}
