/* exec.c: reqlog_exec, the parent side of `reqlog exec`. Runs a program with the exec
 * shim preloaded, listens on a Unix socket in a private folder for the records the shim
 * sends (from the program and every process it starts), and submits each to the store,
 * so redaction and storage take the one path every capture takes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture/capsess.h"
#include "handle.h"
#include "exec/shim_wire.h"
#include "base/util.h"
#include "store/store.h"

#define SHIM_FILE "libreqlog-shim.so"
/* After the program exits, processes it left behind get this long without sending
 * anything before the socket closes. */
#define DRAIN_IDLE_MS 300
/* Child exit is noticed through a pidfd; without one, by polling this often. */
#define WAIT_POLL_MS 20

extern char **environ;

typedef struct conn {
  int fd;
  wire_reader rd;
} conn;

typedef struct run {
  reqlog *r;
  size_t body_cap;
  char *dir;              /* private folder (0700) holding the socket */
  char *sock_path;
  int listen_fd;
  conn *conns;
  size_t nconns, aconns;
  int told_malformed, told_partial, told_garbage, told_version, told_stranger;
  int told_unseen;
} run;

/* A malloc'd printf result, or NULL. */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...) {
  char *s = NULL;
  va_list ap;
  va_start(ap, f);
  if (vasprintf(&s, f, ap) < 0)
    s = NULL;
  va_end(ap);
  return s;
}

/* ------------------------------------------------------------------ the shim */

static int usable_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
}

/* The absolute path of the shim in *out (malloc'd): GIVEN, else $REQLOG_SHIM, else
 * next to the running program (a build folder) or in ../lib/reqlog/ (an install). */
static reqlog_err find_shim(const char *given, char **out, char **cause) {
  *out = NULL;
  const char *env = getenv("REQLOG_SHIM");
  char *cand[2] = {NULL, NULL};
  const char *why = NULL;
  if (given && *given) {
    cand[0] = strdup(given);
    why = "the path given";
  } else if (env && *env) {
    cand[0] = strdup(env);
    why = "REQLOG_SHIM";
  } else {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
      return util_fail(cause, REQLOG_ERR_IO,
                       "cannot find the exec shim: /proc/self/exe: %s; set REQLOG_SHIM",
                       strerror(errno));
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0';
    if (asprintf(&cand[0], "%s/%s", exe, SHIM_FILE) < 0)
      cand[0] = NULL;
    if (asprintf(&cand[1], "%s/../lib/reqlog/%s", exe, SHIM_FILE) < 0)
      cand[1] = NULL;
    if (!cand[0] || !cand[1]) {
      free(cand[0]);
      free(cand[1]);
      return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
    }
  }
  if (!cand[0])
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  for (int i = 0; i < 2 && cand[i] && !*out; i++)
    if (usable_file(cand[i]))
      *out = realpath(cand[i], NULL);
  reqlog_err err = REQLOG_OK;
  if (!*out && why)
    err = util_fail(cause, REQLOG_ERR_IO, "the exec shim %s (%s) is missing or unreadable",
                    cand[0], why);
  else if (!*out)
    err = util_fail(cause, REQLOG_ERR_IO,
                    "the exec shim " SHIM_FILE " was not found at %s or %s; build it with "
                    "make, or set REQLOG_SHIM to its path", cand[0], cand[1]);
  else if (strpbrk(*out, ": \t\n"))
    /* LD_PRELOAD splits at colons and spaces */
    err = util_fail(cause, REQLOG_ERR_IO,
                    "the exec shim's path %s has a colon or a space, which LD_PRELOAD cannot "
                    "take; move it or set REQLOG_SHIM", *out);
  if (err != REQLOG_OK) {
    free(*out);
    *out = NULL;
  }
  free(cand[0]);
  free(cand[1]);
  return err;
}

/* ------------------------------------------------------------------ the socket */

/* A listening socket at DIR/s, DIR a new 0700 folder under $TMPDIR (or /tmp when that
 * path would not fit a socket address): only this user's processes can connect. */
static reqlog_err listen_private(run *x, char **cause) {
  struct sockaddr_un addr = {0};
  addr.sun_family = AF_UNIX;
  const char *base = getenv("TMPDIR");
  if (!base || !*base || strlen(base) > sizeof addr.sun_path - 32)
    base = "/tmp";
  if (asprintf(&x->dir, "%s/reqlog-exec-XXXXXX", base) < 0) {
    x->dir = NULL;
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  }
  if (!mkdtemp(x->dir)) {
    reqlog_err err = util_fail(cause, REQLOG_ERR_IO, "cannot create a folder in %s: %s",
                               base, strerror(errno));
    free(x->dir);
    x->dir = NULL;
    return err;
  }
  if (asprintf(&x->sock_path, "%s/s", x->dir) < 0) {
    x->sock_path = NULL;
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  }
  memcpy(addr.sun_path, x->sock_path, strlen(x->sock_path) + 1);
  x->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (x->listen_fd < 0 || bind(x->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
      listen(x->listen_fd, SOMAXCONN) != 0)
    return util_fail(cause, REQLOG_ERR_IO, "cannot listen on %s: %s", x->sock_path,
                     strerror(errno));
  return REQLOG_OK;
}

/* Reports a problem with what the traced processes sent, once per kind and run. */
static void tell(run *x, int *told, const char *msg) {
  if (!*told)
    handle_report(x->r, REQLOG_ERR_IO, msg);
  *told = 1;
}

static void accept_all(run *x) {
  for (;;) {
    int fd = accept4(x->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      return; /* EAGAIN: none left; anything else: try again on the next wake-up */
    }
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != geteuid()) {
      /* the folder's mode already keeps others out; this is the second lock */
      tell(x, &x->told_stranger, "exec: a connection from another user was refused");
      close(fd);
      continue;
    }
    if (x->nconns == x->aconns) {
      size_t a = x->aconns ? x->aconns * 2 : 8;
      conn *c = realloc(x->conns, a * sizeof *c);
      if (!c) {
        close(fd);
        continue;
      }
      x->conns = c;
      x->aconns = a;
    }
    conn *c = &x->conns[x->nconns++];
    c->fd = fd;
    /* two capped bodies, two capped header blocks, and room for URL and short fields */
    size_t max = x->body_cap > (SIZE_MAX - 64 * 1024 * 1024) / 2
                   ? SIZE_MAX
                   : 2 * x->body_cap + 2 * CAPSESS_HEAD_MAX + 32 * 1024 * 1024;
    wire_reader_init(&c->rd, max);
  }
}

static void submit(run *x, const unsigned char *payload, size_t len) {
  record *rec = record_new(x->body_cap);
  if (!rec) {
    handle_report(x->r, REQLOG_ERR_NOMEM, "recording failed: out of memory");
    return;
  }
  if (wire_decode_record(payload, len, rec) != 0) {
    record_free(rec);
    tell(x, &x->told_malformed,
         "exec: a malformed record from the traced program was dropped");
    return;
  }
  /* whatever the sender says: these rows come from exec, and were first attempts */
  memcpy(rec->source, "exec", 5);
  rec->retry_of_seq = 0;
  uint64_t seq = 0;
  int64_t row_id = 0;
  store_submit(x->r->st, rec, &seq, &row_id); /* failures reach the error handler */
}

/* A traced process called libcurl past the shim (see recorder/exec/shim/reach.c): says
 * which library and which libcurl, once a run. */
static void unseen(run *x, const unsigned char *payload, size_t len) {
  wire_unseen u;
  if (wire_decode_unseen(payload, len, &u) != 0) {
    tell(x, &x->told_malformed, "exec: a malformed message from a traced process was dropped");
    return;
  }
  char *msg = fmt("exec: %s (pid %lld): %s calls %s directly, past the exec shim (it was "
                  "loaded with dlmopen, or with RTLD_DEEPBIND where reqlog cannot undo it); "
                  "the transfers it made were not recorded",
                  u.program ? u.program : "a traced program", (long long)u.pid,
                  u.caller ? u.caller : "a library", u.libcurl ? u.libcurl : "libcurl");
  tell(x, &x->told_unseen, msg ? msg : "exec: a traced program called libcurl past the exec "
                                       "shim; the transfers it made were not recorded");
  free(msg);
  wire_unseen_free(&u);
}

/* Reads and submits what connection I has now. Returns the bytes read, or -1 when the
 * connection is finished (closed by the sender, or unusable). */
static long serve(run *x, size_t i) {
  conn *c = &x->conns[i];
  long total = 0;
  for (;;) {
    long n = wire_reader_fill(&c->rd, c->fd);
    if (n < 0 && errno == EAGAIN)
      return total;
    if (n <= 0) {
      if (n == 0 && wire_reader_pending(&c->rd))
        tell(x, &x->told_partial,
             "exec: a traced process stopped mid-record; that call was not recorded");
      return -1;
    }
    total += n;
    for (;;) {
      int type = 0, version = 0;
      const unsigned char *payload = NULL;
      size_t len = 0;
      int got = wire_reader_next(&c->rd, &type, &payload, &len, &version);
      if (got == 0)
        break;
      if (got == 1) {
        if (type == WIRE_MSG_RECORD)
          submit(x, payload, len);
        else if (type == WIRE_MSG_UNSEEN)
          unseen(x, payload, len);
        /* other types are a newer shim's: skipped */
        continue;
      }
      if (version != WIRE_VERSION) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "exec: the shim speaks wire version %d, this reqlog %d (REQLOG_SHIM from "
                 "another build?); its calls were not recorded", version, WIRE_VERSION);
        tell(x, &x->told_version, msg);
      } else {
        tell(x, &x->told_garbage,
             "exec: a traced process sent something that is not a record; ignored");
      }
      return -1;
    }
  }
}

static void close_conn(run *x, size_t i) {
  close(x->conns[i].fd);
  wire_reader_free(&x->conns[i].rd);
  x->conns[i] = x->conns[--x->nconns];
}

static void run_free(run *x) {
  while (x->nconns)
    close_conn(x, 0);
  free(x->conns);
  if (x->listen_fd >= 0)
    close(x->listen_fd);
  if (x->sock_path)
    unlink(x->sock_path);
  if (x->dir)
    rmdir(x->dir);
  free(x->sock_path);
  free(x->dir);
}

/* ------------------------------------------------------------------ the child */

/* The environment for the program: ours, with the shim appended to LD_PRELOAD and the
 * parent's address. NULL when out of memory; free with free_env. */
static char **child_env(const char *shim, const run *x) {
  size_t n = 0;
  while (environ[n])
    n++;
  char **env = calloc(n + 4, sizeof *env);
  if (!env)
    return NULL;
  const char *preload = getenv("LD_PRELOAD");
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (strncmp(environ[i], "LD_PRELOAD=", 11) == 0 ||
        strncmp(environ[i], WIRE_ENV_SOCKET "=", sizeof WIRE_ENV_SOCKET) == 0 ||
        strncmp(environ[i], WIRE_ENV_BODY_CAP "=", sizeof WIRE_ENV_BODY_CAP) == 0)
      continue;
    env[k++] = strdup(environ[i]);
  }
  if (preload && *preload)
    env[k++] = fmt("LD_PRELOAD=%s:%s", preload, shim);
  else
    env[k++] = fmt("LD_PRELOAD=%s", shim);
  env[k++] = fmt("%s=%s", WIRE_ENV_SOCKET, x->sock_path);
  env[k++] = fmt("%s=%zu", WIRE_ENV_BODY_CAP, x->body_cap);
  for (size_t i = 0; i < k; i++) {
    if (!env[i]) {
      for (size_t j = 0; j < k; j++)
        free(env[j]);
      free(env);
      return NULL;
    }
  }
  return env;
}

static void free_env(char **env) {
  for (size_t i = 0; env && env[i]; i++)
    free(env[i]);
  free(env);
}

/* In the child: SIG as the program should start with it, the disposition reqlog had
 * (OLD) with a handler back at the default, as exec would put it. */
static void restore_signal(int sig, const struct sigaction *old) {
  struct sigaction sa = {0};
  int ignored = !(old->sa_flags & SA_SIGINFO) && old->sa_handler == SIG_IGN;
  sa.sa_handler = ignored ? SIG_IGN : SIG_DFL;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

/* Starts ARGV[0], looked up in PATH as execvp does, with ENV; *pid is its process.
 * SIGINT and SIGQUIT start as OLD_INT and OLD_QUIT say (reqlog ignores them meanwhile),
 * every other disposition and the signal mask as reqlog has them: the program starts as
 * it would without reqlog. fork and exec rather than posix_spawn, whose glibc version
 * leaves its own internal signals (32 and 33) ignored in the new program. The child
 * only calls async-signal-safe functions (execvpe searches PATH without malloc). Returns
 * 0, or the errno of the failed fork or exec. */
static int start_program(char *const argv[], char **env, const struct sigaction *old_int,
                         const struct sigaction *old_quit, pid_t *pid) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    return errno;
  *pid = fork();
  if (*pid < 0) {
    int e = errno;
    close(fds[0]);
    close(fds[1]);
    return e;
  }
  if (*pid == 0) {
    close(fds[0]);
    restore_signal(SIGINT, old_int);
    restore_signal(SIGQUIT, old_quit);
    execvpe(argv[0], argv, env);
    int e = errno;
    ssize_t told = write(fds[1], &e, sizeof e); /* nothing else to do if it fails */
    (void)told;
    _exit(127);
  }
  /* the pipe closes unread when the exec succeeds; else it carries the exec's errno */
  close(fds[1]);
  int e = 0;
  ssize_t n;
  do
    n = read(fds[0], &e, sizeof e);
  while (n < 0 && errno == EINTR);
  close(fds[0]);
  if (n != (ssize_t)sizeof e)
    return 0;
  while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
    ;
  return e ? e : ENOEXEC;
}

/* The program's exit status as a shell gives it: its code, or 128 + the signal. */
static int exit_code_of(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return 1;
}

static int pidfd_of(pid_t pid) {
#ifdef SYS_pidfd_open
  return (int)syscall(SYS_pidfd_open, pid, 0);
#else
  (void)pid;
  return -1;
#endif
}

/* Serves connections until the program exits and what its processes sent is read.
 * Returns its wait status. */
static int wait_serving(run *x, pid_t pid) {
  int pidfd = pidfd_of(pid);
  int status = 0, exited = 0;
  int64_t quiet_since = 0;
  struct pollfd *pf = NULL;
  size_t apf = 0;
  for (;;) {
    size_t need = x->nconns + 2, n = 0;
    if (need > apf) {
      struct pollfd *p = realloc(pf, need * sizeof *p);
      if (p) {
        pf = p;
        apf = need;
      }
    }
    /* poll only wakes this loop up; every connection is read each round, so when memory
     * is short, watching some of them is enough */
    if (apf)
      pf[n++] = (struct pollfd){x->listen_fd, POLLIN, 0};
    if (n < apf && !exited && pidfd >= 0)
      pf[n++] = (struct pollfd){pidfd, POLLIN, 0};
    for (size_t i = 0; i < x->nconns && n < apf; i++)
      pf[n++] = (struct pollfd){x->conns[i].fd, POLLIN, 0};
    int timeout = exited ? DRAIN_IDLE_MS : pidfd >= 0 ? -1 : WAIT_POLL_MS;
    if (n)
      poll(pf, n, timeout);
    else
      usleep(WAIT_POLL_MS * 1000);

    if (!exited) {
      pid_t w = waitpid(pid, &status, WNOHANG);
      if (w == pid || (w < 0 && errno == ECHILD)) {
        exited = 1;
        quiet_since = util_mono_us();
      }
    }
    size_t before = x->nconns;
    accept_all(x);
    int activity = x->nconns != before;
    for (size_t i = 0; i < x->nconns;) {
      /* read every connection each round: cheap, and no readiness bookkeeping */
      long got = serve(x, i);
      if (got < 0) {
        close_conn(x, i);
        activity = 1;
        continue;
      }
      activity |= got > 0;
      i++;
    }
    if (exited) {
      int64_t now = util_mono_us();
      if (activity)
        quiet_since = now;
      if (x->nconns == 0 || now - quiet_since >= DRAIN_IDLE_MS * 1000)
        break;
    }
  }
  free(pf);
  if (pidfd >= 0)
    close(pidfd);
  return status;
}

reqlog_err reqlog_exec(reqlog *r, char *const argv[], const char *shim_path, int *exit_code,
                       char **cause) {
  if (cause)
    *cause = NULL;
  if (!r || !argv || !argv[0] || !*argv[0] || !exit_code)
    return util_fail(cause, REQLOG_ERR_ARG, "exec: a handle, a program and an exit code "
                                            "pointer are required");
  run x = {0};
  x.r = r;
  x.listen_fd = -1;
  pthread_rwlock_rdlock(&r->cfg);
  x.body_cap = r->body_cap;
  pthread_rwlock_unlock(&r->cfg);

  char *shim = NULL;
  char **env = NULL;
  reqlog_err err = REQLOG_OK;
  if (r->st) { /* a handle without a database runs the program unrecorded */
    err = find_shim(shim_path, &shim, cause);
    if (err == REQLOG_OK)
      err = listen_private(&x, cause);
    if (err == REQLOG_OK) {
      env = child_env(shim, &x);
      if (!env)
        err = util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
    }
    if (err != REQLOG_OK)
      goto done;
  }

  /* as system() does: a ^C or ^\ is the program's to act on; reqlog waits, records what
   * it sent, and reports how it ended. */
  struct sigaction ign = {0}, old_int, old_quit;
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  sigaction(SIGINT, &ign, &old_int);
  sigaction(SIGQUIT, &ign, &old_quit);
  pid_t pid = 0;
  int rc = start_program(argv, env ? env : environ, &old_int, &old_quit, &pid);
  if (rc != 0) {
    *exit_code = rc == ENOENT ? 127 : 126; /* as a shell says "not found" / "cannot run" */
    err = util_fail(cause, REQLOG_ERR_IO, "cannot run %s: %s", argv[0], strerror(rc));
  } else if (r->st) {
    *exit_code = exit_code_of(wait_serving(&x, pid));
  } else {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
      ;
    *exit_code = exit_code_of(status);
  }
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGQUIT, &old_quit, NULL);

done:
  free_env(env);
  free(shim);
  run_free(&x);
  return err;
}
