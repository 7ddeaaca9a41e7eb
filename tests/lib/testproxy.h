/* testproxy.h: the fixture the test_proxy_* suites share: the real reqlog binary started
 * as `reqlog proxy` in front of the fake API, child programs (curl, node) run with their
 * output captured or streamed, and the rows the proxy recorded read back through
 * `reqlog show --json`. */
#ifndef TESTPROXY_H
#define TESTPROXY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "testutil.h"

/* What a child printed: LEN bytes at P, always followed by a NUL. */
typedef struct tp_output {
  char *p;
  size_t len, cap;
} tp_output;

/* Where a child's stdout goes, piece by piece. */
typedef void (*tp_sink_fn)(void *ctx, const char *data, size_t len);

/* Appends LEN bytes to O (fails the test when out of memory). */
void tp_out_append(tp_output *o, const char *data, size_t len);
/* A tp_sink_fn appending to the tp_output CTX. */
void tp_sink_output(void *ctx, const char *data, size_t len);

/* Starts ARGV[0] (searched in PATH) with stdout to a pipe (*out_fd) and stderr to
 * ERR_PATH (NULL: inherited); ENV entries are added to the environment. */
pid_t tp_spawn(const char *const *argv, const char *const *env, int *out_fd,
               const char *err_path);
/* Reads FD to its end into SINK; closes it. */
void tp_drain_fd(int fd, tp_sink_fn sink, void *ctx);
/* Waits for PID: its exit code, or 128 + the signal that ended it. */
int tp_wait_exit(pid_t pid);
/* Runs a program to its end, its stdout into SINK. Returns its exit code. */
int tp_run_sink(const char *const *argv, tp_sink_fn sink, void *ctx);
/* Runs a program; *out gets its stdout (free out->p). Returns its exit code. */
int tp_run_out(const char *const *argv, tp_output *out);

/* A reqlog binary running `proxy`. */
typedef struct tp_proc {
  pid_t pid;
  char url[128];      /* where it listens, from its first line */
  char err_path[512]; /* its stderr */
} tp_proc;

/* Starts `reqlog --db DB proxy ARGS...` (EXTRA_ENV: NAME=VALUE strings added to its
 * environment; may be NULL) with its stderr in a file of DIR, and reads the URL from its
 * first line. Returns 0, or the exit code when it did not start (its stderr is in
 * p->err_path). A proxy a failed test leaves running is killed by tp_teardown. */
int tp_start_env(const char *dir, const char *db, const char *const *args,
                 const char *const *extra_env, tp_proc *p);
int tp_start(const char *dir, const char *db, const char *const *args, tp_proc *p);
/* Sends SIG to the proxy and waits for it: its exit code. */
int tp_kill(tp_proc *p, int sig);
/* Stops the proxy with SIG; checks it exits 0 with nothing on stderr. */
void tp_stop(tp_proc *p, int sig);

/* The suite: the fake API and one proxy in front of it, recording into DB. */
typedef struct tp_env {
  char *dir, *db;
  fakeapi *api;
  tp_proc proxy;        /* the main proxy in front of the fake API, recording into db */
  char direct[256];     /* the fake API's base URL */
  char fp[48];          /* FAKEAPI_KEY's fingerprint */
} tp_env;

/* cmocka group setup and teardown: *state is the tp_env. */
int tp_setup(void **state);
int tp_teardown(void **state);

struct CMUnitTest;
/* Runs the N tests of the suite NAME in one group with tp_setup and tp_teardown, only
 * those matching $TEST_PROXY_ONLY when it is set (e.g. "test_framing", for a quick run).
 * Returns what main returns. */
int tp_main(const char *name, const struct CMUnitTest *tests, size_t n);
/* tp_main with the group's own SETUP and TEARDOWN (which build on tp_setup and
 * tp_teardown). */
int tp_main_group(const char *name, const struct CMUnitTest *tests, size_t n,
                  int (*setup)(void **), int (*teardown)(void **));

/* The id of the newest row of DB whose URL contains MARK, waiting for the proxy's writer
 * (rows are committed in batches); fails the test when none comes. */
int64_t tp_row_id(const char *db, const char *mark);
/* `reqlog show ID --json` parsed (cJSON_Delete it). */
cJSON *tp_show(const char *db, int64_t id);
/* tp_show of tp_row_id. */
cJSON *tp_row_for(const char *db, const char *mark);

/* The value of header NAME in a raw header block ("Name: value\r\n" lines) into OUT, or
 * ""; returns OUT. */
char *tp_block_header(const char *block, const char *name, char *out, size_t outlen);

/* The header a client sends with the fake API's key. */
#define TP_AUTH "Authorization: Bearer " FAKEAPI_KEY

/* curl -sS --noproxy '*' [EXTRA...] URL: stdout into *out; returns curl's exit code. */
int tp_curl(const char *url, const char *const *extra, tp_output *out);

/* N bytes at D as lower-case hex into OUT (2N + 1 bytes). */
void tp_hex(const unsigned char *d, unsigned n, char *out);

#endif
