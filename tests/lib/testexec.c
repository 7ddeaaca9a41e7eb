/* testexec.c: the fixture the test_exec_* suites share (see testexec.h): finding the
 * shim and the test programs, running a program with and without `reqlog exec`, and
 * reading what it recorded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/shim_wire.h"
#include "testexec.h"

te_suite *TE;

int te_run_plain(const char *const *argv, const char *stdin_data, const char *const *env,
                 char **out, char **err) {
  char *in = tu_path(TE->dir, "plain.in"), *o = tu_path(TE->dir, "plain.out");
  char *e = tu_path(TE->dir, "plain.err");
  tu_write_file(in, stdin_data ? stdin_data : "", 0644);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int fi = open(in, O_RDONLY), fo = open(o, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int fe = open(e, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fi, 0);
    dup2(fo, 1);
    dup2(fe, 2);
    for (int i = 0; env && env[i]; i++)
      putenv((char *)env[i]);
    execvp(argv[0], (char *const *)argv);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  tu_give(tu_slurp(o, NULL), out);
  tu_give(tu_slurp(e, NULL), err);
  free(in);
  free(o);
  free(e);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int te_run_exec(const char *db, const char *const *argv, const char *stdin_data,
                const char *const *env, char **out, char **err) {
  const char *args[64] = {"--db", db, "exec", "--"};
  int n = 4;
  for (int i = 0; argv[i]; i++)
    args[n++] = argv[i];
  args[n] = NULL;
  return tu_run(args, stdin_data, env, out, err);
}

char *te_new_db(void) {
  char name[32];
  snprintf(name, sizeof name, "exec%d.db", ++TE->ndb);
  return tu_path(TE->dir, name);
}

cJSON *te_rows_of(const char *db) {
  reqlog *r = NULL;
  assert_int_equal(reqlog_open(db, &r, NULL), REQLOG_OK);
  cJSON *arr = tu_rows(r);
  reqlog_close(r);
  return arr;
}

void te_url_of(char *out, size_t n, const char *path) {
  snprintf(out, n, "%s%s", TE->base, path);
}

void te_assert_clean(const char *db, const cJSON *rows) {
  assert_false(tu_db_files_contain(db, FAKEAPI_KEY));
  const cJSON *row;
  cJSON_ArrayForEach(row, rows)
    assert_string_equal(tu_str(row, "source"), "exec");
}

char *te_lines_with(const char *text, const char *prefix) {
  size_t cap = strlen(text) + 1, n = 0;
  char *out = calloc(1, cap);
  for (const char *p = text; p && *p;) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p + 1) : strlen(p);
    if (strncmp(p, prefix, strlen(prefix)) == 0) {
      memcpy(out + n, p, len);
      n += len;
    }
    p = nl ? nl + 1 : NULL;
  }
  return out;
}

/* NAME in the folder of the reqlog under test ($REQLOG_TEST_BIN, else build/reqlog), as
 * an absolute path in OUT; -1 (said on stderr) when it is not there. */
static int next_to_reqlog(const char *name, char out[4096]) {
  const char *bin = getenv("REQLOG_TEST_BIN");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", bin && *bin ? bin : "build/reqlog");
  char *slash = strrchr(dir, '/');
  if (slash)
    *slash = '\0';
  else
    snprintf(dir, sizeof dir, ".");
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (!realpath(path, out)) {
    fprintf(stderr, "test_exec: no %s: build it first\n", path);
    return -1;
  }
  return 0;
}

/* What the tests must not inherit: the REQLOG_ settings, a preload, a proxy; and SIGINT
 * and SIGQUIT with their default actions, which the tests send and expect (a shell that
 * starts this in the background without job control, `make test &`, has them ignored,
 * and an ignored signal stays ignored in every program started from here). */
static void clean_process(void) {
  static const char *const clear[] = {"REQLOG_API_KEY", "REQLOG_DB", "REQLOG_SHIM",
                                      "REQLOG_BODY_CAP", "LD_PRELOAD", WIRE_ENV_SOCKET,
                                      "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY",
                                      "CURL_HOME", "LD_BIND_NOW", NULL};
  for (int i = 0; clear[i]; i++)
    unsetenv(clear[i]);
  setenv("NO_PROXY", "127.0.0.1", 1);
  signal(SIGINT, SIG_DFL);
  signal(SIGQUIT, SIG_DFL);
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGQUIT);
  sigprocmask(SIG_UNBLOCK, &sigs, NULL);
}

int te_setup(void **state) {
  clean_process();
  TE = calloc(1, sizeof *TE);
  TE->dir = tu_tmpdir();
  TE->api = tu_api(100000, 60000);
  snprintf(TE->base, sizeof TE->base, "%s", fakeapi_base_url(TE->api));
  snprintf(TE->auth, sizeof TE->auth, "Authorization: Bearer %s", FAKEAPI_KEY);
  reqlog_key_fingerprint(FAKEAPI_KEY, TE->fp);
  if (next_to_reqlog("libreqlog-shim.so", TE->shim) != 0)
    return -1;
  ssize_t n = readlink("/proc/self/exe", TE->self, sizeof TE->self - 1);
  assert_true(n > 0);
  TE->self[n] = '\0';
  *state = TE;
  return 0;
}

int te_find_dlplug(void) {
  return next_to_reqlog("tests/progs/dlplug", TE->dlplug);
}

int te_teardown(void **state) {
  (void)state;
  fakeapi_stop(TE->api);
  tu_rmtree(TE->dir);
  free(TE->dir);
  free(TE);
  return 0;
}
