/* testexec.h: the fixture the test_exec_* suites share: the fake API, the shim and this
 * test binary found next to the reqlog under test, running a program plainly and under
 * `reqlog exec` to compare the two, and reading what the traced program recorded. */
#ifndef TESTEXEC_H
#define TESTEXEC_H

#include <stddef.h>

#include "testutil.h"

typedef struct te_suite {
  char *dir;
  fakeapi *api;
  char base[128];   /* the fake API's base URL */
  char auth[128];   /* "Authorization: Bearer KEY" */
  char fp[48];      /* the key's fingerprint */
  char shim[4096];  /* the shim next to the reqlog binary under test */
  char self[4096];  /* this test binary, for the hand-written wire client */
  char dlplug[4096]; /* tests/progs/dlplug of the build under test (te_find_dlplug) */
  int ndb;
} te_suite;

/* The suite, made by te_setup (the tests read it; their cmocka state is the same). */
extern te_suite *TE;

/* cmocka group setup and teardown. te_setup clears what would change what reqlog and the
 * programs see (REQLOG_*, LD_PRELOAD, proxies...), gives SIGINT and SIGQUIT their default
 * actions, starts the fake API and finds the shim; it fails when the shim is not built. */
int te_setup(void **state);
int te_teardown(void **state);
/* Finds tests/progs/dlplug next to the reqlog under test; -1 (said on stderr) when it
 * is not built. */
int te_find_dlplug(void);

/* Runs ARGV directly (PATH lookup), the way tu_run runs reqlog: STDIN_DATA on stdin,
 * ENV added to the environment, *out and *err what it printed. Returns its exit code or
 * 128 + signal. */
int te_run_plain(const char *const *argv, const char *stdin_data, const char *const *env,
                 char **out, char **err);
/* Runs `reqlog --db DB exec -- ARGV...`. */
int te_run_exec(const char *db, const char *const *argv, const char *stdin_data,
                const char *const *env, char **out, char **err);

/* A fresh database path for one test. */
char *te_new_db(void);
/* Every row of DB, oldest first, with bodies. */
cJSON *te_rows_of(const char *db);
/* The fake API's URL for PATH into OUT (N bytes). */
void te_url_of(char *out, size_t n, const char *path);
/* Asserts the key never reached DB's files and every row says source exec. */
void te_assert_clean(const char *db, const cJSON *rows);
/* The lines of TEXT starting with PREFIX, joined (malloc'd). */
char *te_lines_with(const char *text, const char *prefix);

#endif
