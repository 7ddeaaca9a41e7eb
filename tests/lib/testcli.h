/* testcli.h: the fixture the test_cli_* suites share: a fake API on loopback, the reqlog
 * binary run against it, the shared history database built once per suite, and the ids
 * read back from list, export and SQL so that each can be compared with the others. */
#ifndef TESTCLI_H
#define TESTCLI_H

#include <sqlite3.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "testutil.h"

/* Bodies that a CSV writer must quote, escape or neutralise (tc_history()). */
#define NASTY_TEXT "=SUM(A1,B1)\r\n\"q\" Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac, end"
#define NASTY_URL "/echo?x==SUM(A1)&note=a,b"
#define PLUS_TEXT "+1 \"quoted\", and more"
#define AT_TEXT "@SUM(A1)"
#define UTF8_JSON "{\"name\":\"Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac\",\"note\":\"a,b \\\"q\\\"\"}"
#define PRETTY_JSON "{\n  \"city\": \"Zo\xc3\xab, \xe6\x97\xa5\xe6\x9c\xac\",\n  \"n\": 1\n}"

/* SQL for "every word of q is in the URL or a text body", one word. */
#define QW(w)                                                                            \
  "(c.url LIKE '%" w "%' OR reqlog_unpack_text(c.packed, c.request_body) LIKE '%" w "%'" \
  " OR reqlog_unpack_text(c.packed, c.response_body) LIKE '%" w "%')"

typedef struct tc_env {
  char *dir;
  fakeapi *api;
  char base_env[256];     /* REQLOG_BASE_URL=<the fake API> */
  char fp1[64], fp2[64];  /* fingerprints of FAKEAPI_KEY and FAKEAPI_KEY2 */
  char *hist;             /* the shared history database, built by tc_history() */
  int hist_ready;
  int64_t hist_rows;
  cJSON *shows;           /* `show ID --json` output by id, parsed (tc_show_row()) */
} tc_env;

/* cmocka group setup and teardown: clears the REQLOG_ variables so the tests say exactly
 * what reqlog sees, makes a temp folder and starts the fake API; *state is the tc_env. */
int tc_setup(void **state);
int tc_teardown(void **state);

/* Runs `reqlog [--db DB] ARGS...` with the fake API as base URL, the client-side limiter
 * off and, when KEY is not NULL, REQLOG_API_KEY=KEY; IN on stdin when not NULL. Returns
 * the exit code; *out and *err as tu_run. */
int tc_run(const tc_env *e, const char *db, const char *key, const char *in,
           const char *const *args, char **out, char **err);

/* tc_run() with EXTRA_ENV ("NAME=value", or NULL) added to the environment. */
int tc_run_env(const tc_env *e, const char *db, const char *key, const char *in,
               const char *extra_env, const char *const *args, char **out, char **err);

/* The row id from call's status line "... recorded as #N", or -1. */
int64_t tc_recorded_id(const char *err);

/* The shared history (e->hist, e->hist_rows), built on first use: `reqlog demo` then
 * calls through the CLI that the demo lacks, some rows moved back in time. */
void tc_history(tc_env *e);

/* The ids of a JSON array of rows, comma-separated, in order; *N gets how many. Fails
 * the test when a row carries a body (list --json rows have none). */
char *tc_json_ids(const char *text, int *n);
/* The ids of NDJSON text, comma-separated, in order. */
char *tc_ndjson_ids(const char *text, int *n);
/* The ids of rows matching WHERE (SQL over `calls AS c`), comma-separated, newest first
 * (DESC) or oldest first; *N gets how many. */
char *tc_sql_ids(sqlite3 *db, const char *where, int desc, int *n);
/* `show ID --json` of the history, parsed; kept in e->shows for the other tests. */
const cJSON *tc_show_row(tc_env *e, int64_t id);

#endif
