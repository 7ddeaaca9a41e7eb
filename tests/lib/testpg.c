/* testpg.c: the throwaway PostgreSQL cluster of testpg.h: made with initdb, configured
 * for a Unix socket only, started and stopped with pg_ctl, run as `postgres` when the
 * tests run as root; and small helpers to query it from the tests and to open a store
 * from several processes at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pg/pg.h"
#include "testpg.h"
#include "testutil.h"

/* Runs ARGV (the binary named by its first element, from T's bindir) with its output
 * appended to T's log, through runuser when T says so. Returns its exit status. */
static int run(tpg *t, const char *const *argv) {
  const char *full[32];
  char prog[640];
  int n = 0;
  if (t->as_postgres) {
    full[n++] = "runuser";
    full[n++] = "-u";
    full[n++] = "postgres";
    full[n++] = "--";
  }
  snprintf(prog, sizeof prog, "%s/%s", t->bindir, argv[0]);
  full[n++] = prog;
  for (int i = 1; argv[i] && n < 31; i++)
    full[n++] = argv[i];
  full[n] = NULL;
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    int fd = open(t->log, O_WRONLY | O_CREAT | O_APPEND, 0666);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    int nul = open("/dev/null", O_RDONLY);
    if (nul >= 0)
      dup2(nul, 0);
    execvp(full[0], (char *const *)full);
    _exit(127);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void show_log(tpg *t) {
  char *text = tu_read_file(t->log);
  fprintf(stderr, "--- %s\n%s---\n", t->log, text ? text : "(no log)\n");
  free(text);
}

/* The folder of PostgreSQL's binaries into OUT; 0 when found. */
static int find_bindir(char *out, size_t size) {
  const char *env = getenv("REQLOG_PG_BINDIR");
  if (env && *env) {
    snprintf(out, size, "%s", env);
    char initdb[600];
    snprintf(initdb, sizeof initdb, "%s/initdb", env);
    return access(initdb, X_OK) == 0 ? 0 : -1;
  }
  glob_t g;
  int found = -1;
  if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) == 0 && g.gl_pathc > 0) {
    /* the newest version: glob sorts, and versions have two digits since 10 */
    snprintf(out, size, "%s", g.gl_pathv[g.gl_pathc - 1]);
    char *slash = strrchr(out, '/');
    if (slash)
      *slash = '\0';
    found = 0;
  }
  globfree(&g);
  return found;
}

/* Appends TEXT to the file PATH (fails the test when it cannot). */
static void append(const char *path, const char *text) {
  FILE *f = fopen(path, "a");
  if (!f) {
    fail_msg("cannot write %s: %s", path, strerror(errno));
  }
  fputs(text, f);
  fclose(f);
}

tpg *tpg_start(void) {
  tpg *t = calloc(1, sizeof *t);
  assert_non_null(t);
  if (find_bindir(t->bindir, sizeof t->bindir) != 0) {
    free(t);
    const char *ci = getenv("CI");
    if (ci && strcmp(ci, "true") == 0)
      fail_msg("PostgreSQL's binaries (initdb, pg_ctl) are missing: scripts/deps.sh installs "
               "them (postgresql), and under CI=true the PostgreSQL tests must run");
    fprintf(stderr, "PostgreSQL's binaries are missing (scripts/deps.sh installs them): "
                    "skipping the PostgreSQL tests\n");
    return NULL;
  }
  t->as_postgres = geteuid() == 0;
  /* a folder the postgres user can reach: under /tmp when running as root */
  const char *base = t->as_postgres ? "/tmp" : getenv("TMPDIR");
  char tmpl[256];
  snprintf(tmpl, sizeof tmpl, "%s/reqlog-pg-XXXXXX", base && *base ? base : "/tmp");
  assert_non_null(mkdtemp(tmpl));
  t->dir = strdup(tmpl);
  t->sockdir = t->dir;
  t->data = tu_path(t->dir, "data");
  t->log = tu_path(t->dir, "server.log");
  if (t->as_postgres) {
    struct passwd *pw = getpwnam("postgres");
    if (!pw)
      fail_msg("running as root, and there is no `postgres` user to run PostgreSQL as");
    assert_int_equal(chown(t->dir, pw->pw_uid, pw->pw_gid), 0);
    int fd = open(t->log, O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(chown(t->log, pw->pw_uid, pw->pw_gid), 0);
  }
  /* the superuser gets the name of the user running the tests, so a URI without a user
   * connects as it */
  struct passwd *me = getpwuid(geteuid());
  assert_non_null(me);
  char user[128];
  snprintf(user, sizeof user, "--username=%s", me->pw_name);
  if (run(t, (const char *const[]){"initdb", "-D", t->data, user, "--auth=trust", "-E",
                                   "UTF8", "--locale=C", "-N", NULL}) != 0) {
    show_log(t);
    fail_msg("initdb failed (log above)");
  }
  char *conf = tu_path(t->data, "postgresql.conf"), *hba = tu_path(t->data, "pg_hba.conf");
  char *text = NULL;
  assert_true(asprintf(&text,
                       "\n# testpg.c: Unix socket only, nothing made durable\n"
                       "listen_addresses = ''\n"
                       "unix_socket_directories = '%s'\n"
                       "fsync = off\nfull_page_writes = off\nsynchronous_commit = off\n"
                       "shared_buffers = 32MB\nmax_connections = 60\n",
                       t->sockdir) > 0);
  append(conf, text);
  free(text);
  /* first match wins: the password role, then everything trusted */
  FILE *f = fopen(hba, "w");
  assert_non_null(f);
  fputs("local all " TPG_PW_USER " scram-sha-256\nlocal all all trust\n", f);
  fclose(f);
  free(conf);
  free(hba);
  tpg_server_start(t);
  assert_true(asprintf(&t->uri, "postgresql:///postgres?host=%s", t->sockdir) > 0);
  PGconn *c = tpg_conn(t->uri);
  tpg_exec(c, "CREATE ROLE " TPG_PW_USER " LOGIN PASSWORD '" TPG_PW_SECRET "'");
  PQfinish(c);
  return t;
}

void tpg_server_start(tpg *t) {
  /* the postmaster outlives pg_ctl: it becomes this process's child (see testpg.h) */
  if (prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L) != 0)
    fail_msg("prctl(PR_SET_CHILD_SUBREAPER): %s", strerror(errno));
  if (run(t, (const char *const[]){"pg_ctl", "-D", t->data, "-l", t->log, "-w", "-t", "120",
                                   "start", NULL}) != 0) {
    show_log(t);
    fail_msg("pg_ctl start failed (log above)");
  }
}

/* The postmaster's pid from the first line of DATA/postmaster.pid, or 0. */
static pid_t postmaster_pid(const tpg *t) {
  char *path = tu_path(t->data, "postmaster.pid");
  char *text = tu_read_file(path);
  free(path);
  long pid = text ? strtol(text, NULL, 10) : 0;
  free(text);
  return pid > 0 ? (pid_t)pid : 0;
}

/* Reaps PID when it is this process's child (the postmaster, and once it is gone its
 * children, come to the subreaper); else waits until it is gone or a zombie. */
static void wait_gone(pid_t pid) {
  for (int i = 0; i < 120000; i++) {
    int st;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid)
      return;
    if (r < 0 && errno == ECHILD) {
      char path[64];
      snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
      char *text = tu_read_file(path);
      const char *paren = text ? strrchr(text, ')') : NULL;
      int gone = !paren || paren[1] == '\0' || paren[2] == 'Z' || paren[2] == 'X';
      free(text);
      if (gone)
        return;
    }
    tu_sleep_ms(1);
  }
  fail_msg("process %d did not end after SIGKILL", (int)pid);
}

/* The pids of the processes whose parent is PARENT into OUT (at most MAX); how many. */
static int children_of(pid_t parent, pid_t *out, int max) {
  DIR *d = opendir("/proc");
  assert_non_null(d);
  int n = 0;
  for (struct dirent *de; (de = readdir(d)) && n < max;) {
    char *end = NULL;
    long pid = strtol(de->d_name, &end, 10);
    if (pid <= 0 || *end)
      continue;
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    char *text = tu_read_file(path);
    /* pid (comm) state ppid ...: comm may hold anything, so read after the last ')' */
    const char *paren = text ? strrchr(text, ')') : NULL;
    char state;
    int ppid;
    if (paren && sscanf(paren + 1, " %c %d", &state, &ppid) == 2 && ppid == parent)
      out[n++] = (pid_t)pid;
    free(text);
  }
  closedir(d);
  return n;
}

int tpg_server_kill9(tpg *t) {
  pid_t pm = postmaster_pid(t);
  if (!pm || kill(pm, 0) != 0)
    fail_msg("no running postmaster in %s", t->data);
  /* stopped, the postmaster forks nothing between the list and the kills */
  assert_int_equal(kill(pm, SIGSTOP), 0);
  pid_t kids[256];
  int n = children_of(pm, kids, 256);
  for (int i = 0; i < n; i++)
    kill(kids[i], SIGKILL);
  assert_int_equal(kill(pm, SIGKILL), 0);
  wait_gone(pm);
  for (int i = 0; i < n; i++)
    wait_gone(kids[i]);
  return n + 1;
}

/* After pg_ctl stop: reaps the postmaster PM when it was this process's child. */
static void reap(pid_t pm) {
  if (pm)
    wait_gone(pm);
}

void tpg_server_stop(tpg *t) {
  pid_t pm = postmaster_pid(t);
  if (run(t, (const char *const[]){"pg_ctl", "-D", t->data, "-m", "fast", "-w", "-t", "120",
                                   "stop", NULL}) != 0) {
    show_log(t);
    fail_msg("pg_ctl stop failed (log above)");
  }
  reap(pm);
}

void tpg_stop(tpg *t) {
  if (!t)
    return;
  pid_t pm = postmaster_pid(t);
  if (run(t, (const char *const[]){"pg_ctl", "-D", t->data, "-m", "immediate", "-w", "stop",
                                   NULL}) == 0)
    reap(pm);
  tu_rmtree(t->dir);
  free(t->dir);
  free(t->data);
  free(t->log);
  free(t->uri);
  free(t);
}

char *tpg_createdb(tpg *t, const char *name) {
  PGconn *c = tpg_conn(t->uri);
  char sql[256];
  snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", name);
  tpg_exec(c, sql);
  snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", name);
  tpg_exec(c, sql);
  snprintf(sql, sizeof sql, "GRANT ALL ON DATABASE \"%s\" TO " TPG_PW_USER, name);
  tpg_exec(c, sql);
  PQfinish(c);
  char *uri = NULL;
  assert_true(asprintf(&uri, "postgresql:///%s?host=%s", name, t->sockdir) > 0);
  return uri;
}

void tpg_pw_uri(const tpg *t, const char *db, const char *password, char out[512]) {
  snprintf(out, 512, "postgresql://%s:%s@/%s?host=%s", TPG_PW_USER, password, db, t->sockdir);
}

PGconn *tpg_conn(const char *uri) {
  PGconn *c = PQconnectdb(uri);
  if (!c || PQstatus(c) != CONNECTION_OK)
    fail_msg("cannot connect to %s: %s", uri, c ? PQerrorMessage(c) : "out of memory");
  PQclear(PQexec(c, "SET client_min_messages = warning"));
  return c;
}

/* The result of SQL, which must succeed. */
static PGresult *query(PGconn *c, const char *sql) {
  PGresult *r = PQexec(c, sql);
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    fprintf(stderr, "SQL failed: %s\n  %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    fail_msg("SQL failed: %s", sql);
  }
  return r;
}

void tpg_exec(PGconn *c, const char *sql) {
  PQclear(query(c, sql));
}

int64_t tpg_int(PGconn *c, const char *sql) {
  PGresult *r = query(c, sql);
  int64_t v = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
  PQclear(r);
  return v;
}

char *tpg_text(PGconn *c, const char *sql) {
  PGresult *r = query(c, sql);
  char *v = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? strdup(PQgetvalue(r, 0, 0)) : NULL;
  PQclear(r);
  return v;
}

int64_t tpg_intf(PGconn *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *sql = NULL;
  int n = vasprintf(&sql, fmt, ap);
  va_end(ap);
  assert_true(n >= 0);
  int64_t v = tpg_int(c, sql);
  free(sql);
  return v;
}

int64_t tpg_wait_int(PGconn *c, const char *sql, int64_t want) {
  int64_t v = -1;
  for (int i = 0; i < 1200; i++) {
    PGresult *r = PQexec(c, sql);
    v = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
          ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
    PQclear(r);
    if (v == want)
      break;
    tu_sleep_ms(100);
  }
  return v;
}

int tpg_ship_in_flight(PGconn *c) {
  return tpg_int(c, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'reqlog' "
                    "AND (query LIKE 'COPY reqlog_stage%' OR query LIKE 'WITH ins AS%')") > 0;
}

void tpg_back_to_schema4(PGconn *c) {
  tpg_exec(c, "DELETE FROM reqlog_schema WHERE version >= 5");
  tpg_exec(c, "DROP INDEX calls_started_stats");
  tpg_exec(c, "ALTER TABLE calls DROP COLUMN request_id");
  tpg_exec(c, "DROP TABLE call_notes, call_tags");
  tpg_exec(c, "ALTER TABLE calls DROP COLUMN replay_of");
}

int tpg_group_setup(void **state) {
  *state = tpg_start();
  return 0;
}

int tpg_group_teardown(void **state) {
  tpg_stop(*state);
  return 0;
}

int tpg_at_once(int n, int (*fn)(const void *), const void *arg) {
  int go[2];
  assert_true(n >= 1 && n <= 16);
  assert_int_equal(pipe(go), 0);
  pid_t pids[16];
  fflush(NULL);
  for (int i = 0; i < n; i++) {
    pids[i] = fork();
    assert_true(pids[i] >= 0);
    if (pids[i] == 0) {
      char c;
      close(go[1]);
      if (read(go[0], &c, 1) < 0)
        _exit(3);
      _exit(fn(arg));
    }
  }
  close(go[0]);
  close(go[1]); /* every child's read returns now */
  int bad = 0;
  for (int i = 0; i < n; i++) {
    int st = 0;
    waitpid(pids[i], &st, 0);
    bad += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  return bad;
}

int tpg_open_store(const void *uri) {
  pg_db *db = NULL;
  char *cause = NULL;
  reqlog_err e = pg_open(uri, &db, &cause);
  if (e != REQLOG_OK)
    fprintf(stderr, "process %d: pg_open: %s\n", (int)getpid(), cause);
  free(cause);
  pg_close(db);
  return e == REQLOG_OK ? 0 : 1;
}
