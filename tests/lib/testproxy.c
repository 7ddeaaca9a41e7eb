/* testproxy.c: the test_proxy_* suites' fixture (see testproxy.h): children run and
 * their output captured, the proxy started and stopped, its rows read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "testproxy.h"

/* ------------------------------------------------------------------ processes */

void tp_out_append(tp_output *o, const char *data, size_t len) {
  if (o->len + len + 1 > o->cap) {
    while (o->len + len + 1 > o->cap)
      o->cap = o->cap ? o->cap * 2 : 65536;
    o->p = realloc(o->p, o->cap);
    assert_non_null(o->p);
  }
  memcpy(o->p + o->len, data, len);
  o->len += len;
  o->p[o->len] = '\0';
}

void tp_sink_output(void *ctx, const char *data, size_t len) {
  tp_out_append(ctx, data, len);
}

pid_t tp_spawn(const char *const *argv, const char *const *env, int *out_fd,
               const char *err_path) {
  int o[2];
  assert_int_equal(pipe(o), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(o[1], 1);
    close(o[0]);
    close(o[1]);
    int in = open("/dev/null", O_RDONLY);
    dup2(in, 0);
    if (err_path) {
      int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(e, 2);
    }
    for (int i = 0; env && env[i]; i++)
      putenv((char *)env[i]);
    execvp(argv[0], (char *const *)argv);
    fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  close(o[1]);
  *out_fd = o[0];
  return pid;
}

void tp_drain_fd(int fd, tp_sink_fn sink, void *ctx) {
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    sink(ctx, buf, (size_t)n);
  }
  close(fd);
}

int tp_wait_exit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int tp_run_sink(const char *const *argv, tp_sink_fn sink, void *ctx) {
  int fd = -1;
  pid_t pid = tp_spawn(argv, NULL, &fd, NULL);
  tp_drain_fd(fd, sink, ctx);
  return tp_wait_exit(pid);
}

int tp_run_out(const char *const *argv, tp_output *out) {
  memset(out, 0, sizeof *out);
  tp_out_append(out, "", 0);
  return tp_run_sink(argv, tp_sink_output, out);
}

/* ------------------------------------------------------------------ the proxy */

static const char *bin(void) {
  const char *b = getenv("REQLOG_TEST_BIN");
  return b && *b ? b : "build/reqlog";
}

/* ASan keeps freed memory in a quarantine (256 MB by default), which would count in the
 * proxy's peak RSS; a small one keeps the memory check meaningful under ASan. */
static char asan_env[512];

static const char *const *child_env(void) {
  static const char *env[2];
  const char *cur = getenv("ASAN_OPTIONS");
  snprintf(asan_env, sizeof asan_env, "ASAN_OPTIONS=%s%squarantine_size_mb=4",
           cur ? cur : "", cur && *cur ? ":" : "");
  env[0] = asan_env;
  env[1] = NULL;
  return env;
}

/* Proxies still running, killed by the group teardown when a failed test left them. */
static pid_t live[16];

static void track(pid_t pid, int add) {
  for (int i = 0; i < 16; i++) {
    if (add ? live[i] == 0 : live[i] == pid) {
      live[i] = add ? pid : 0;
      return;
    }
  }
}

int tp_start_env(const char *dir, const char *db, const char *const *args,
                 const char *const *extra_env, tp_proc *p) {
  static int n;
  const char *argv[32];
  int k = 0;
  argv[k++] = bin();
  argv[k++] = "--db";
  argv[k++] = db;
  argv[k++] = "proxy";
  for (int i = 0; args[i]; i++)
    argv[k++] = args[i];
  argv[k] = NULL;
  memset(p, 0, sizeof *p);
  snprintf(p->err_path, sizeof p->err_path, "%s/proxy-%d.err", dir, n++);
  int fd = -1;
  const char *env[16];
  int ne = 0;
  for (const char *const *c = child_env(); *c; c++)
    env[ne++] = *c;
  for (int i = 0; extra_env && extra_env[i] && ne < 15; i++)
    env[ne++] = extra_env[i];
  env[ne] = NULL;
  p->pid = tp_spawn(argv, env, &fd, p->err_path);
  track(p->pid, 1);
  char line[512];
  size_t len = 0;
  struct pollfd pf = {fd, POLLIN, 0};
  while (len < sizeof line - 1 && poll(&pf, 1, 20000) > 0) {
    ssize_t r = read(fd, line + len, 1);
    if (r <= 0 || line[len] == '\n')
      break;
    len++;
  }
  line[len] = '\0';
  close(fd);
  if (sscanf(line, "proxying %127s -> ", p->url) != 1) {
    int rc = tp_wait_exit(p->pid);
    track(p->pid, 0);
    p->pid = 0;
    return rc ? rc : -1;
  }
  return 0;
}

int tp_start(const char *dir, const char *db, const char *const *args, tp_proc *p) {
  return tp_start_env(dir, db, args, NULL, p);
}

int tp_kill(tp_proc *p, int sig) {
  kill(p->pid, sig);
  int rc = tp_wait_exit(p->pid);
  track(p->pid, 0);
  p->pid = 0;
  return rc;
}

void tp_stop(tp_proc *p, int sig) {
  if (!p->pid)
    return;
  int rc = tp_kill(p, sig);
  char *err = tu_read_file(p->err_path);
  if (rc != 0 || !err || *err)
    fprintf(stderr, "proxy exit %d, stderr:\n%s\n", rc, err ? err : "(none)");
  assert_int_equal(rc, 0);
  assert_non_null(err);
  assert_string_equal(err, "");
  free(err);
}

/* ------------------------------------------------------------------ the suite */

int tp_setup(void **state) {
  tp_env *e = calloc(1, sizeof *e);
  e->dir = tu_tmpdir();
  e->db = tu_path(e->dir, "proxy.db");
  e->api = tu_api(100000, 60000);
  snprintf(e->direct, sizeof e->direct, "%s", fakeapi_base_url(e->api));
  reqlog_key_fingerprint(FAKEAPI_KEY, e->fp);
  const char *args[] = {"--upstream", e->direct, "--listen", "127.0.0.1:0", NULL};
  if (tp_start(e->dir, e->db, args, &e->proxy) != 0) {
    char *err = tu_read_file(e->proxy.err_path);
    fprintf(stderr, "the proxy did not start: %s\n", err ? err : "(no stderr)");
    free(err);
    return -1;
  }
  *state = e;
  return 0;
}

int tp_teardown(void **state) {
  tp_env *e = *state;
  for (int i = 0; i < 16; i++) {
    if (live[i]) {
      kill(live[i], SIGTERM);
      tp_wait_exit(live[i]);
    }
  }
  fakeapi_stop(e->api);
  tu_rmtree(e->dir);
  free(e->dir);
  free(e->db);
  free(e);
  return 0;
}

int tp_main(const char *name, const struct CMUnitTest *tests, size_t n) {
  return tp_main_group(name, tests, n, tp_setup, tp_teardown);
}

int tp_main_group(const char *name, const struct CMUnitTest *tests, size_t n,
                  int (*setup)(void **), int (*teardown)(void **)) {
  signal(SIGPIPE, SIG_IGN);
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return 1;
  const char *only = getenv("TEST_PROXY_ONLY");
  if (only && *only)
    cmocka_set_test_filter(only);
  int rc = _cmocka_run_group_tests(name, tests, n, setup, teardown);
  curl_global_cleanup();
  return rc;
}

/* ------------------------------------------------------------------ reading rows */

int64_t tp_row_id(const char *db, const char *mark) {
  sqlite3 *h = tu_db(db);
  char sql[512];
  snprintf(sql, sizeof sql, "SELECT coalesce(max(id), 0) FROM calls WHERE instr(url, '%s') > 0",
           mark);
  int64_t id = 0;
  for (int i = 0; i < 400 && id <= 0; i++) {
    id = tu_int(h, sql);
    if (id <= 0) {
      struct timespec ts = {0, 25 * 1000000};
      nanosleep(&ts, NULL);
    }
  }
  sqlite3_close(h);
  if (id <= 0)
    fprintf(stderr, "no row with '%s' in its URL\n", mark);
  assert_true(id > 0);
  return id;
}

cJSON *tp_show(const char *db, int64_t id) {
  char ids[32];
  snprintf(ids, sizeof ids, "%lld", (long long)id);
  const char *argv[] = {"--db", db, "show", ids, "--json", NULL};
  char *out = NULL, *err = NULL;
  assert_int_equal(tu_run(argv, NULL, NULL, &out, &err), 0);
  cJSON *row = cJSON_Parse(out);
  assert_non_null(row);
  free(out);
  free(err);
  return row;
}

cJSON *tp_row_for(const char *db, const char *mark) {
  return tp_show(db, tp_row_id(db, mark));
}

char *tp_block_header(const char *block, const char *name, char *out, size_t outlen) {
  out[0] = '\0';
  size_t nl = strlen(name);
  for (const char *p = block; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
    if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
      const char *v = p + nl + 1;
      while (*v == ' ')
        v++;
      size_t n = strcspn(v, "\r\n");
      snprintf(out, outlen, "%.*s", (int)(n < outlen ? n : outlen - 1), v);
      break;
    }
  }
  return out;
}

/* ------------------------------------------------------------------ curl */

int tp_curl(const char *url, const char *const *extra, tp_output *out) {
  const char *argv[40];
  int k = 0;
  argv[k++] = "curl";
  argv[k++] = "-sS";
  argv[k++] = "--noproxy";
  argv[k++] = "*";
  argv[k++] = "--max-time";
  argv[k++] = "120";
  for (int i = 0; extra && extra[i]; i++)
    argv[k++] = extra[i];
  argv[k++] = url;
  argv[k] = NULL;
  return tp_run_out(argv, out);
}

void tp_hex(const unsigned char *d, unsigned n, char *out) {
  for (unsigned i = 0; i < n; i++)
    sprintf(out + 2 * i, "%02x", d[i]);
}
