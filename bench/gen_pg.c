/* gen_pg.c: a large team store for the dashboard benchmarks on PostgreSQL (bench/pg.sh,
 * bench/web.c): N rows of bench/lib/genrow.c (the very rows bench/gen_history.c writes
 * into a SQLite history, same distributions and search words) written as COPY text
 * straight into calls, as if four hosts had shipped them: each row gets an origin
 * (weighted; a retry keeps its first attempt's), that origin's history_id and the next
 * spool id of that history, and ship_state says each history was shipped to its end.
 * The store is migrated by the library (pg_open) and its day partitions made by it; the
 * secondary indexes are dropped during the load and built again afterwards from their
 * own definitions (pg_get_indexdef), which is much faster than keeping them up to date
 * row by row and gives the same indexes.
 *
 * Usage: gen_pg ROWS URL   (URL: an empty database, or one without calls yet) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/genrow.h"
#include "lib/history.h"
#include "pg/pg_int.h"
#include "reqlog.h"

#define TXN_ROWS 200000        /* rows per COPY (and transaction) */
#define SEND_BYTES (4u << 20)  /* COPY text sent in pieces of about this size */
#define US_PER_S INT64_C(1000000)
#define NORIGINS 4

static const char *const ORIGINS[NORIGINS] = {"api-worker-1", "api-worker-2", "ci-runner-3",
                                              "laptop-ada"};
static const int ORIGIN_W[NORIGINS] = {40, 30, 20, 10};
static const int64_t HISTORY_IDS[NORIGINS] = {INT64_C(7304511092233720001),
                                              INT64_C(1846002311957712003),
                                              INT64_C(5112993047781560005),
                                              INT64_C(2987100456623115007)};

static const char COPY_SQL[] =
  "COPY calls (id, history_id, spool_id, origin, started_at, method, url, host, path, status,"
  " error, duration_us, queued_us, dns_us, connect_us, tls_us, ttfb_us, key, attempt,"
  " retry_of, source, request_headers, response_headers, request_size, request_truncated,"
  " request_sha256, response_size, response_truncated, response_sha256, content_type,"
  " http_version, remote_ip, error_message, error_fields, error_field_list, request_body,"
  " response_body) FROM STDIN";

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *cause) {
  fprintf(stderr, "gen_pg: %s: %s\n", what, cause ? cause : "failed");
  exit(1);
}

static void run(pg_db *db, const char *sql) {
  char *cause = NULL;
  if (pg_exec(db, sql, &cause, sql) != REQLOG_OK)
    die("SQL", cause);
}

/* One column of a COPY line, followed by the tab that separates it from the next. */
static void col_int(textbuf *b, int64_t v) {
  pg_copy_int(b, v);
  tb_byte(b, '\t');
}

static void col_text(textbuf *b, const char *s) {
  if (s)
    pg_copy_text(b, (const unsigned char *)s, strlen(s));
  else
    pg_copy_null(b);
  tb_byte(b, '\t');
}

static void col_null(textbuf *b) {
  pg_copy_null(b);
  tb_byte(b, '\t');
}

static void col_false(textbuf *b) {
  pg_copy_bool(b, 0);
  tb_byte(b, '\t');
}

/* R as a line of COPY_SQL's text, from origin O with spool id SPOOL_ID. */
static void put_row(textbuf *b, const gen_row *r, int o, int64_t spool_id) {
  col_int(b, r->id);
  col_int(b, HISTORY_IDS[o]);
  col_int(b, spool_id);
  col_text(b, ORIGINS[o]);
  col_int(b, r->started_at);
  col_text(b, r->method);
  col_text(b, r->url);
  col_text(b, "api.app.astalty.com.au");
  col_text(b, r->path);
  col_int(b, r->status);
  col_null(b); /* error */
  col_int(b, r->duration);
  col_int(b, r->queued);
  col_int(b, r->dns);
  col_int(b, r->connect);
  col_int(b, r->tls);
  col_int(b, r->ttfb);
  col_text(b, r->key);
  col_int(b, r->attempt);
  if (r->retry_of)
    col_int(b, r->retry_of);
  else
    col_null(b);
  col_text(b, r->source);
  col_text(b, r->req_headers);
  col_text(b, r->resp_headers);
  col_int(b, r->req_body ? (int64_t)strlen(r->req_body) : 0);
  col_false(b);
  col_text(b, r->req_body ? r->req_sha : NULL);
  col_int(b, r->resp_body ? (int64_t)strlen(r->resp_body) : 0);
  col_false(b);
  col_text(b, r->resp_body ? r->resp_sha : NULL);
  col_text(b, r->resp_body ? "application/json" : NULL);
  col_text(b, "HTTP/2");
  col_text(b, "13.54.120.17");
  col_text(b, r->error_message);
  col_text(b, r->error_fields);
  if (r->nfields) { /* an array literal: field names are [a-z_.], nothing to quote */
    tb_byte(b, '{');
    for (int f = 0; f < r->nfields; f++) {
      if (f)
        tb_byte(b, ',');
      tb_str(b, r->fields[f]);
    }
    tb_str(b, "}\t");
  } else {
    col_null(b);
  }
  col_text(b, r->req_body);
  if (r->resp_body) /* the last column: no tab after it */
    pg_copy_text(b, (const unsigned char *)r->resp_body, strlen(r->resp_body));
  else
    pg_copy_null(b);
  tb_byte(b, '\n');
}

static void copy_begin(pg_db *db) {
  PGresult *res = PQexec(db->conn, COPY_SQL);
  if (PQresultStatus(res) != PGRES_COPY_IN)
    die("COPY", PQresultErrorMessage(res));
  PQclear(res);
}

static void copy_send(pg_db *db, textbuf *b) {
  if (b->len && PQputCopyData(db->conn, b->data, (int)b->len) != 1)
    die("COPY", PQerrorMessage(db->conn));
  b->len = 0;
}

static void copy_end(pg_db *db) {
  if (PQputCopyEnd(db->conn, NULL) != 1)
    die("COPY", PQerrorMessage(db->conn));
  PGresult *res;
  while ((res = PQgetResult(db->conn))) {
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
      die("COPY", PQresultErrorMessage(res));
    PQclear(res);
  }
}

static int weighted_origin(uint64_t *state) {
  *state ^= *state >> 12; /* its own xorshift64*: genrow's sequence stays gen_history's */
  *state ^= *state << 25;
  *state ^= *state >> 27;
  int x = (int)((*state * 0x2545f4914f6cdd1du) >> 33) % 100;
  for (int o = 0; o < NORIGINS; o++) {
    if (x < ORIGIN_W[o])
      return o;
    x -= ORIGIN_W[o];
  }
  return NORIGINS - 1;
}

int main(int argc, char **argv) {
  if (argc != 3 || atoi(argv[1]) < 1000) {
    fprintf(stderr, "usage: gen_pg ROWS>=1000 postgresql://...\n");
    return 2;
  }
  int n = atoi(argv[1]);
  const char *url = argv[2];
  setvbuf(stdout, NULL, _IOLBF, 0);
  pg_db *db = NULL;
  char *cause = NULL;
  if (pg_open(url, &db, &cause) != REQLOG_OK)
    die("cannot open the store", cause);
  PGresult *res = PQexec(db->conn, "SELECT EXISTS (SELECT 1 FROM calls)");
  if (PQresultStatus(res) != PGRES_TUPLES_OK || strcmp(PQgetvalue(res, 0, 0), "f") != 0)
    die("the store already holds calls", "use an empty database");
  PQclear(res);

  char fps[HISTORY_NKEYS][48];
  for (int k = 0; k < HISTORY_NKEYS; k++)
    reqlog_key_fingerprint(HISTORY_KEYS[k], fps[k]);
  struct timespec wall;
  clock_gettime(CLOCK_REALTIME, &wall);
  int64_t end_us = (int64_t)wall.tv_sec * US_PER_S + wall.tv_nsec / 1000 - 60 * US_PER_S;
  int64_t *times = gen_start_times(n, end_us);
  if (!times)
    die("out of memory", NULL);
  if (pg_partition_ensure(db, times[0], times[n - 1], &cause) != REQLOG_OK)
    die("cannot make the day partitions", cause);

  /* the secondary indexes, dropped for the load and made again from their definitions */
  res = PQexec(db->conn, "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)"
                         " FROM pg_index i WHERE i.indrelid = 'calls'::regclass"
                         " AND NOT i.indisprimary AND NOT i.indisunique ORDER BY 1");
  if (PQresultStatus(res) != PGRES_TUPLES_OK)
    die("cannot read the indexes", PQresultErrorMessage(res));
  int nidx = PQntuples(res);
  char **defs = calloc((size_t)nidx + 1, sizeof *defs);
  for (int i = 0; i < nidx; i++) {
    char drop[300];
    /* the parent's definition says ON ONLY (no partition built): build them all */
    const char *def = PQgetvalue(res, i, 1), *only = strstr(def, " ON ONLY ");
    defs[i] = malloc(strlen(def) + 1);
    if (!defs[i])
      die("out of memory", NULL);
    if (only)
      sprintf(defs[i], "%.*s ON %s", (int)(only - def), def, only + strlen(" ON ONLY "));
    else
      strcpy(defs[i], def);
    snprintf(drop, sizeof drop, "DROP INDEX %s", PQgetvalue(res, i, 0));
    run(db, drop);
  }
  PQclear(res);

  printf("gen_pg: %d rows over %d days into %s (%d secondary indexes built after)\n", n,
         HISTORY_DAYS, pg_shown(db), nidx);
  double t0 = now_s();
  textbuf b = {0};
  gen_row prev, cur;
  int have_prev = 0, nrare = 0;
  int64_t spool[NORIGINS] = {0}, count[NORIGINS] = {0}, last_end[NORIGINS] = {0};
  uint64_t ostate = 0x5851f42d4c957f2du;
  int prev_origin = 0;
  for (int i = 0; i < n; i++) {
    if (i % TXN_ROWS == 0)
      copy_begin(db);
    int rare = gen_is_rare(i, n, &nrare);
    gen_row_make(&cur, i + 1, times[i], have_prev ? &prev : NULL, rare, fps);
    int o = weighted_origin(&ostate);
    if (cur.attempt > 1)
      o = prev_origin; /* a retry is made by the process that made its first attempt */
    put_row(&b, &cur, o, ++spool[o]);
    count[o]++;
    last_end[o] = cur.started_at + cur.duration;
    if (b.nomem)
      die("out of memory", NULL);
    if (b.len >= SEND_BYTES)
      copy_send(db, &b);
    if (have_prev)
      gen_row_clear(&prev);
    prev = cur;
    prev_origin = o;
    have_prev = 1;
    if ((i + 1) % TXN_ROWS == 0 || i + 1 == n) {
      copy_send(db, &b);
      copy_end(db);
      double t = now_s() - t0;
      printf("  rows %9d / %d  %7.1f s  %7.0f rows/s\n", i + 1, n, t, (i + 1) / t);
    }
  }
  if (have_prev)
    gen_row_clear(&prev);
  free(b.data);
  free(times);
  double load_t = now_s() - t0;

  char sql[512];
  snprintf(sql, sizeof sql, "SELECT setval('calls_id_seq', %d)", n);
  run(db, sql);
  for (int o = 0; o < NORIGINS; o++) {
    if (!count[o])
      continue;
    snprintf(sql, sizeof sql,
             "INSERT INTO ship_state (history_id, origin, shipped_id, rows, updated_at,"
             " last_end_us) VALUES (%lld, '%s', %lld, %lld, %lld, %lld)",
             (long long)HISTORY_IDS[o], ORIGINS[o], (long long)spool[o], (long long)count[o],
             (long long)end_us, (long long)last_end[o]);
    run(db, sql);
  }
  double i0 = now_s();
  for (int i = 0; i < nidx; i++) {
    double t = now_s();
    run(db, defs[i]);
    printf("  %-100.100s %7.1f s\n", defs[i], now_s() - t);
    free(defs[i]);
  }
  free(defs);
  double idx_t = now_s() - i0;
  double a0 = now_s();
  run(db, "VACUUM ANALYZE calls");
  double an_t = now_s() - a0;
  res = PQexec(db->conn, "SELECT pg_size_pretty(pg_database_size(current_database()))");
  printf("gen_pg: %d rows in %.1f s (%.0f rows/s) + indexes %.1f s + vacuum analyze %.1f s;"
         " %s on disk\n", n, load_t, n / load_t, idx_t, an_t,
         PQresultStatus(res) == PGRES_TUPLES_OK ? PQgetvalue(res, 0, 0) : "?");
  PQclear(res);
  printf("  origins:");
  for (int o = 0; o < NORIGINS; o++)
    printf(" %s %lld", ORIGINS[o], (long long)count[o]);
  printf("\n  rare word %s in %d rows; common word %s\n", HISTORY_RARE_WORD, nrare,
         HISTORY_COMMON_WORD);
  pg_close(db);
  return 0;
}
