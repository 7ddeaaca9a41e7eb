/* ingest.c: rows per second the store sustains for realistic calls (~1 KB bodies, a
 * mix of statuses, 30 paths, 5 keys), through its whole write path (redaction, header
 * JSON, SHA-256, batched transactions on the writer thread), against raw batched SQLite
 * inserts of the same final rows into the same schema in the same run. Goal >= 0.5.
 * Also (informative) row_prepare's CPU per row alone and the writer thread's CPU per row,
 * which is what recording takes from a proxy sharing the machine: steadier than rows/s on a
 * busy machine. Then the time the background full-text indexer needs to catch up.
 * Usage: ingest [ROWS] [DIR] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture/record.h"
#include "privacy/prepare.h"
#include "privacy/redact.h"
#include "store/schema.h"
#include "store/store.h"

static double clock_s(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void) {
  return clock_s(CLOCK_MONOTONIC);
}

static const char *const KEYS[] = {"sk_live_4f9a2c7e1b8d6053a1", "sk_live_b7d1e0c9a3f24b6e22",
                                   "sk_live_0c5e9b2a71d8ffe033", "sk_live_9a9a9a9a9a9a9a9a44",
                                   "sk_live_5d5d5d5d5d5d5d5d55"};

/* A realistic response body of about 1 KB. */
static void body_1k(char *out, size_t cap, int i) {
  int n = snprintf(out, cap, "{\"data\":[");
  for (int k = 0; k < 6 && n < (int)cap - 200; k++)
    n += snprintf(out + n, cap - (size_t)n,
                  "%s{\"id\":%d,\"first_name\":\"Participant%d\",\"last_name\":\"Example\","
                  "\"email\":\"p%d@example.org\",\"status\":\"active\"}",
                  k ? "," : "", i * 10 + k, k, i * 10 + k);
  snprintf(out + n, cap - (size_t)n, "],\"meta\":{\"current_page\":1,\"total\":%d}}", 6);
}

static record *make_record(int i, size_t cap) {
  static const int statuses[] = {200, 200, 200, 200, 201, 401, 403, 404, 422, 429};
  record *r = record_new(cap);
  if (!r)
    return NULL;
  int status = statuses[i % 10];
  const char *key = KEYS[i % 5];
  int post = status == 201 || status == 422;
  char buf[2048];
  r->started_us = 1795000000000000LL + (int64_t)i * 1000;
  r->method = strdup(post ? "POST" : "GET");
  snprintf(buf, sizeof buf, "https://api.app.astalty.com.au/public/v1/resource%d/%d?page=%d",
           i % 30, i % 977, i % 5);
  r->url = strdup(buf);
  int n = snprintf(buf, sizeof buf,
                   "%s /public/v1/resource%d/%d?page=%d HTTP/1.1\r\nHost: api.app.astalty.com.au\r\n"
                   "Authorization: Bearer %s\r\nAccept: application/json\r\n%s\r\n",
                   r->method, i % 30, i % 977, i % 5, key,
                   post ? "Content-Type: application/json\r\nContent-Length: 120\r\n" : "");
  r->req_head = strndup(buf, (size_t)n);
  r->req_head_len = (size_t)n;
  n = snprintf(buf, sizeof buf,
               "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nCache-Control: no-cache\r\n"
               "X-RateLimit-Limit: 60\r\nX-RateLimit-Remaining: %d\r\nDate: Sat, 28 Nov 2026 "
               "00:00:00 GMT\r\n\r\n", status, 59 - i % 60);
  r->resp_head = strndup(buf, (size_t)n);
  r->resp_head_len = (size_t)n;
  if (post) {
    n = snprintf(buf, sizeof buf, "{\"first_name\":\"Ann%d\",\"last_name\":\"Lee\",\"email\":"
                 "\"ann%d@example.org\",\"date_of_birth\":\"1990-01-01\",\"notes\":\"x\"}", i, i);
    capbuf_append(&r->req_body, buf, (size_t)n);
  }
  if (status == 422)
    n = snprintf(buf, sizeof buf, "{\"message\":\"The given data was invalid.\",\"errors\":"
                 "{\"email\":[\"The email must be a valid email address.\"]}}");
  else if (status >= 400)
    n = snprintf(buf, sizeof buf, "{\"message\":\"Status %d\"}", status);
  else
    body_1k(buf, sizeof buf, i), n = (int)strlen(buf);
  capbuf_append(&r->resp_body, buf, (size_t)n);
  capbuf_finish(&r->req_body);
  capbuf_finish(&r->resp_body);
  r->status = status;
  r->content_type = strdup("application/json");
  r->http_version = strdup("HTTP/1.1");
  r->remote_ip = strdup("203.0.113.7");
  r->total_us = 90000 + i % 5000;
  r->dns_us = 1000;
  r->connect_us = 2000;
  r->tls_us = 3000;
  r->ttfb_us = 80000;
  snprintf(r->source, sizeof r->source, "library");
  return r;
}

static reqlog_err prepare(void *ctx, const record *r, row_values *v) {
  return row_prepare(ctx, r, v);
}

/* The baseline: the same final values, prepared statement, 1000-row transactions. */
static double raw_insert(const char *path, record **recs, row_values *vals, int n) {
  sqlite3 *db = NULL;
  remove(path);
  sqlite3_open(path, &db);
  /* the store's INSERT packs header JSON and bodies in SQL (store_pack.c): the baseline
   * inserts the same final rows, so it packs them too */
  store_pack_register(db);
  char pragmas[128]; /* the store's page size: the two differ in the write path only */
  snprintf(pragmas, sizeof pragmas,
           "PRAGMA page_size=%d; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
           STORE_PAGE_SIZE);
  sqlite3_exec(db, pragmas, NULL, NULL, NULL);
  for (int i = 0; reqlog_schema_files[i].name; i++)
    sqlite3_exec(db, (const char *)reqlog_schema_files[i].data, NULL, NULL, NULL);
  sqlite3_stmt *st = NULL, *fld = NULL;
  sqlite3_prepare_v2(db, STORE_INSERT_SQL, -1, &st, NULL);
  sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO call_fields(call_id, field) VALUES (?, ?)", -1, &fld, NULL);
  double t0 = now_s();
  for (int i = 0; i < n; i++) {
    if (i % 1000 == 0)
      sqlite3_exec(db, i ? "COMMIT; BEGIN" : "BEGIN", NULL, NULL, NULL);
    row_values *v = &vals[i];
    store_bind_row(st, recs[i], v, 0, "bench");
    sqlite3_step(st);
    int64_t id = sqlite3_last_insert_rowid(db);
    for (size_t f = 0; f < v->nfields; f++) {
      sqlite3_reset(fld);
      sqlite3_bind_int64(fld, 1, id);
      sqlite3_bind_text(fld, 2, v->fields[f], -1, SQLITE_STATIC);
      sqlite3_step(fld);
    }
  }
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  double t = now_s() - t0;
  sqlite3_finalize(st);
  sqlite3_finalize(fld);
  sqlite3_close(db);
  return t;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 50000;
  const char *dir = argc > 2 ? argv[2] : "build/bench";
  char store_db[512], raw_db[512];
  snprintf(store_db, sizeof store_db, "%s/ingest-store.db", dir);
  snprintf(raw_db, sizeof raw_db, "%s/ingest-raw.db", dir);
  redactor *rd = NULL;
  if (redactor_new(&rd) != REQLOG_OK)
    return 1;

  /* the baseline's rows: the same records, prepared before timing */
  record **recs = calloc((size_t)n, sizeof *recs);
  row_values *vals = calloc((size_t)n, sizeof *vals);
  for (int i = 0; i < n; i++) {
    recs[i] = make_record(i, 1 << 20);
    if (!recs[i])
      return 1;
  }
  double p0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
  for (int i = 0; i < n; i++)
    if (row_prepare(rd, recs[i], &vals[i]) != REQLOG_OK)
      return 1;
  double prep_t = clock_s(CLOCK_THREAD_CPUTIME_ID) - p0;
  double raw_t = raw_insert(raw_db, recs, vals, n);
  for (int i = 0; i < n; i++) {
    row_values_free(&vals[i]);
    record_free(recs[i]);
  }
  free(vals);

  /* the store: records built and submitted as a recording thread would, timed until
   * every one is committed */
  char wal[600], shm[600];
  snprintf(wal, sizeof wal, "%s-wal", store_db);
  snprintf(shm, sizeof shm, "%s-shm", store_db);
  remove(store_db);
  remove(wal);
  remove(shm);
  store *s = NULL;
  char *cause = NULL;
  if (store_open(store_db, prepare, rd, &s, &cause) != REQLOG_OK) {
    fprintf(stderr, "ingest: %s\n", cause);
    return 1;
  }
  for (int i = 0; i < n; i++)
    recs[i] = make_record(i, 1 << 20);
  double t0 = now_s();
  double proc0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), self0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
  for (int i = 0; i < n; i++) {
    uint64_t seq;
    int64_t id;
    store_submit(s, recs[i], &seq, &id);
  }
  reqlog_err err = store_flush(s, NULL);
  double store_t = now_s() - t0;
  /* CPU the writer thread spent: the process's CPU less this (submitting) thread's */
  double writer_cpu = (clock_s(CLOCK_PROCESS_CPUTIME_ID) - proc0) -
                      (clock_s(CLOCK_THREAD_CPUTIME_ID) - self0);
  free(recs);
  store_close(s);

  /* the full-text index catching up, as the writer does when idle */
  sqlite3 *db = NULL;
  sqlite3_open(store_db, &db);
  sqlite3_busy_timeout(db, 5000);
  store_pack_register(db); /* the indexer packs what it indexed (store_pack.c) */
  double f0 = now_s();
  int total = 0, done = 0;
  do {
    if (store_index_fts(db, 500, &done) != REQLOG_OK)
      break;
    total += done;
  } while (done > 0);
  double fts_t = now_s() - f0;
  sqlite3_stmt *st = NULL;
  int64_t rows = 0;
  sqlite3_prepare_v2(db, "SELECT count(*) FROM calls", -1, &st, NULL);
  if (sqlite3_step(st) == SQLITE_ROW)
    rows = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  redactor_free(rd);

  printf("ingest: %d realistic rows (~1 KB response bodies, 10%% POST with bodies, 4xx mix)\n", n);
  printf("  raw batched SQLite inserts   %9.0f rows/s  (%.2f s, values prepared beforehand)\n",
         n / raw_t, raw_t);
  printf("  reqlog store, whole path     %9.0f rows/s  (%.2f s, redaction + JSON + SHA-256 + insert)\n",
         n / store_t, store_t);
  printf("  row_prepare alone (CPU)      %9.1f us/row (redaction + header JSON + SHA-256)\n",
         prep_t * 1e6 / n);
  printf("  store writer thread CPU      %9.1f us/row (informative: what it takes from the proxy's CPU)\n",
         writer_cpu * 1e6 / n);
  printf("  ratio store/raw              %9.2f         (goal >= 0.5)\n", raw_t / store_t);
  printf("  full-text index catch-up     %9.0f rows/s  (%d rows indexed in %.2f s, in the background)\n",
         total / fts_t, total, fts_t);
  printf("  rows in the store: %lld of %d; flush: %s\n", (long long)rows, n, reqlog_strerror(err));
  return rows == n && err == REQLOG_OK ? 0 : 1;
}
