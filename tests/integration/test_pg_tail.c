/* test_pg_tail.c: ids in the team store grow in commit order (recorder/pg/pg_ship.c
 * draws them under one lock held to the commit), so a reader tailing "id > X" (the
 * dashboard's live tail, `list --after`) never misses a row. Two shippers of two spools
 * ship many small batches at once into a throwaway PostgreSQL cluster while a reader
 * tails the store by id; every row must pass the reader once. Were ids drawn before
 * the lock (as in the COPY), one shipper's batch would commit below ids the reader had
 * already seen from the other.
 *
 * Plan:
 *   tail sees every row   2 shippers x ROUNDS batches of 2 rows, one tailing reader
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/pg_ship.h"
#include "testpg.h"
#include "testutil.h"

#define ROUNDS 300
#define PER_ROUND 2

struct shipper_arg {
  const char *spool, *uri;
  int origin;
  int rows_shipped;
  char *error; /* what went wrong, malloc'd */
};

/* Adds PER_ROUND calls to the spool, then ships until nothing is left; ROUNDS times. */
static void *ship_loop(void *p) {
  struct shipper_arg *a = p;
  pg_shipper *s = NULL;
  char *cause = NULL;
  if (pg_ship_open(a->spool, 0, &s, &cause) != REQLOG_OK ||
      pg_ship_connect(s, a->uri, &cause) != REQLOG_OK) {
    a->error = cause ? cause : strdup("cannot open the shipper");
    pg_ship_close(s);
    return NULL;
  }
  sqlite3 *db = NULL;
  sqlite3_open(a->spool, &db);
  sqlite3_busy_timeout(db, 10000);
  for (int round = 0; round < ROUNDS && !a->error; round++) {
    char *sql = sqlite3_mprintf(
      "WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < %d)"
      " INSERT INTO calls(started_at, method, url, host, path, status, duration_us, source,"
      " request_headers, response_headers, origin)"
      " SELECT %lld + value, 'GET', 'https://api.example/v1/x', 'api.example', '/v1/x', 200,"
      " 1000, 'library', '[]', '[]', 'host%d' FROM n",
      PER_ROUND, (long long)tu_now_us(), a->origin);
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
      a->error = strdup(err ? err : "insert");
      sqlite3_free(err);
    }
    sqlite3_free(sql);
    int n = 1;
    while (!a->error && n > 0) {
      if (pg_ship_batch(s, &n, &cause) != REQLOG_OK)
        a->error = cause ? cause : strdup("ship failed");
      a->rows_shipped += n;
    }
  }
  sqlite3_close(db);
  pg_ship_close(s);
  return NULL;
}

struct reader_arg {
  const char *uri;
  volatile int stop;
  int64_t seen, last;
  char *error;
};

/* One pass of the tail: the rows above the last id seen. */
static void tail_once(PGconn *c, struct reader_arg *a) {
  char last[24];
  snprintf(last, sizeof last, "%lld", (long long)a->last);
  const char *const params[] = {last};
  PGresult *r = PQexecParams(c, "SELECT id FROM calls WHERE id > $1::bigint ORDER BY id", 1,
                             NULL, params, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    if (!a->error)
      a->error = strdup(PQerrorMessage(c));
  } else {
    for (int i = 0; i < PQntuples(r); i++) {
      a->seen++;
      a->last = strtoll(PQgetvalue(r, i, 0), NULL, 10);
    }
  }
  PQclear(r);
}

static void *tail_loop(void *p) {
  struct reader_arg *a = p;
  PGconn *c = PQconnectdb(a->uri);
  if (PQstatus(c) != CONNECTION_OK) {
    a->error = strdup(PQerrorMessage(c));
    PQfinish(c);
    return NULL;
  }
  while (!a->stop && !a->error)
    tail_once(c, a);
  tail_once(c, a); /* after the shippers are done */
  PQfinish(c);
  return NULL;
}

static char *new_spool(const char *dir, const char *name) {
  char *path = tu_path(dir, name);
  reqlog *r = NULL;
  assert_int_equal(reqlog_open(path, &r, NULL), REQLOG_OK);
  reqlog_close(r);
  return path;
}

static void tail_sees_every_row(void **state) {
  (void)state;
  tpg *pg = tpg_start();
  if (!pg)
    skip();
  char *dir = tu_tmpdir();
  char *uri = tpg_createdb(pg, "tail");
  reqlog *r = NULL;
  assert_int_equal(reqlog_open_readonly(uri, &r, NULL), REQLOG_OK); /* the schema */
  reqlog_close(r);
  struct shipper_arg sa[2] = {
    {.spool = new_spool(dir, "a.db"), .uri = uri, .origin = 1},
    {.spool = new_spool(dir, "b.db"), .uri = uri, .origin = 2},
  };
  struct reader_arg ra = {.uri = uri};
  pthread_t reader, shippers[2];
  assert_int_equal(pthread_create(&reader, NULL, tail_loop, &ra), 0);
  for (int i = 0; i < 2; i++)
    assert_int_equal(pthread_create(&shippers[i], NULL, ship_loop, &sa[i]), 0);
  for (int i = 0; i < 2; i++)
    pthread_join(shippers[i], NULL);
  ra.stop = 1;
  pthread_join(reader, NULL);
  for (int i = 0; i < 2; i++) {
    if (sa[i].error)
      fail_msg("shipper %d: %s", i, sa[i].error);
    assert_int_equal(sa[i].rows_shipped, ROUNDS * PER_ROUND);
  }
  if (ra.error)
    fail_msg("reader: %s", ra.error);
  PGconn *c = tpg_conn(uri);
  int64_t stored = tpg_int(c, "SELECT count(*) FROM calls");
  PQfinish(c);
  assert_int_equal(stored, 2 * ROUNDS * PER_ROUND);
  print_message("%lld rows shipped in %d batches by 2 shippers at once; the reader tailing "
                "by id saw %lld of them\n", (long long)stored, 2 * ROUNDS, (long long)ra.seen);
  assert_int_equal(ra.seen, stored);
  for (int i = 0; i < 2; i++)
    free((char *)sa[i].spool);
  free(uri);
  tpg_stop(pg);
  tu_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(tail_sees_every_row),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
