/* genrow.h: the rows of a generated history (bench/lib/genrow.c), shared by the
 * benchmarks' generators: bench/gen_history.c (a SQLite history) and bench/gen_pg.c
 * (the team store on PostgreSQL). One sequence of rows for a given N: call
 * gen_start_times once, then gen_row_make for ids 1..N in order. */
#ifndef REQLOG_BENCH_GENROW_H
#define REQLOG_BENCH_GENROW_H

#include <stdint.h>

typedef struct gen_row {
  int64_t id, started_at, retry_of;     /* retry_of: 0 when a first attempt */
  const char *method, *source, *key;
  char url[256], path[160];
  int status, attempt, endpoint, item_id;
  int64_t duration, queued, dns, connect, tls, ttfb;
  char *req_headers, *resp_headers, *req_body, *resp_body, *error_message, *error_fields;
  char req_sha[65], resp_sha[65];
  const char *fields[4];  /* the fields named by a 422's errors */
  int nfields;
  int common;             /* the common word (history.h) is in this row */
} gen_row;

/* Fills R as the call with id ID at time AT; PREV is the row before (for retries, NULL
 * for the first); RARE puts the rare word in it; FPS are the keys' fingerprints. */
void gen_row_make(gen_row *r, int64_t id, int64_t at, const gen_row *prev, int rare,
                  char fps[][48]);
/* Frees what gen_row_make allocated in R. */
void gen_row_clear(gen_row *r);
/* N start times over the HISTORY_DAYS before END_US, busiest in Australian working
 * hours, ascending and distinct (so id order is time order); malloc'd, NULL when out of
 * memory. */
int64_t *gen_start_times(int n, int64_t end_us);
/* Whether row I (0-based) of N gets the rare word: HISTORY_RARE_ROWS rows spread evenly;
 * *NRARE counts those given so far. */
int gen_is_rare(int i, int n, int *nrare);

#endif
