/* testhar.h: the fixture the test_har_* suites share: a varied history recorded through
 * the library from the fake API into a real SQLite file, its HAR export by the CLI, and
 * the small readers the HAR checks are written with. */
#ifndef TESTHAR_H
#define TESTHAR_H

#include <stddef.h>
#include <stdint.h>

#include "reqlog.h"
#include "testutil.h"

#define BODY_CAP 8192
#define QUERY_SECRET "QSECRET_tok_9f8e7d6c"

typedef struct th_env {
  char *dir, *db, *har;  /* the history and its HAR export (by the CLI) */
  fakeapi *api;
  reqlog *r;
  cJSON *rows;           /* the history's rows, oldest first, with bodies */
  char *har_text;
  cJSON *har_doc;
} th_env;

/* cmocka group setup and teardown: libcurl's global state, a temp folder, the fake API,
 * the history (GET, POST 201, 422, 404, binary, gzip, a body past BODY_CAP, a query
 * token, a binary request body, a 503 -> 503 -> 200 retry chain, a dropped connection)
 * and its HAR export; *state is the th_env. */
int th_setup(void **state);
int th_teardown(void **state);

/* JSON written with ' for " so the cases stay readable: a malloc'd copy of S. */
char *th_q(const char *s);

/* A reqlog_export writer collecting into P (malloc'd, NUL-terminated). */
struct th_sink {
  char *p;
  size_t len;
};
int th_sink_write(void *ctx, const char *data, size_t len);

/* Member K of O (NULL when absent); member path "a.b.c" of O, or NULL. Strings and
 * numbers: tu_str, tu_num. */
cJSON *th_get(const cJSON *o, const char *k);
cJSON *th_at(const cJSON *o, const char *path);
/* Fails the test when GOT is further than 0.0015 from WANT. */
void th_near(double got, double want, const char *what);

/* The HAR export of R (filter F may be NULL) through the library. */
char *th_export_har(reqlog *r, reqlog_filter *f);
/* TEXT parsed as JSON, or a failure. */
cJSON *th_parse(const char *text);
/* log.entries of a HAR document, which must be an array. */
cJSON *th_entries_of(const cJSON *har);
/* Fails the test unless entries[I] has every member HAR 1.2 requires, with its type
 * (as har-schema has them), and timings that HAR allows. */
void th_check_shape(const cJSON *entry, int i);
/* `reqlog --db DB ARGS...`; returns the exit code. */
int th_run(const char *db, const char *const *args, char **out, char **err);

#endif
