/* gen_history.c: a realistic recorded history for the dashboard benchmarks (bench/web.c):
 * N rows (default 1,000,000) of bench/lib/genrow.c (what a row looks like is said there)
 * in the real schema, with the call_fields of 422s, then the full-text index built the
 * way the store builds it.
 *
 * Usage: gen_history [ROWS] [DB_PATH]   (replaces DB_PATH) */
#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/genrow.h"
#include "lib/history.h"
#include "reqlog.h"
#include "store/schema.h"
#include "store/store.h"

#define TXN_ROWS 10000   /* rows per generating transaction */
#define DICT_ROWS 2000   /* rows packed without a dictionary before it is trained */
#define FTS_CHUNK 500    /* rows per indexing transaction, as the store's writer does */
#define US_PER_S INT64_C(1000000)

typedef gen_row row;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ database */

/* Header JSON and bodies packed as the store's writer packs them (STORE_INSERT_SQL). */
#define NEWEST_DICT "coalesce((SELECT max(id) FROM zdict WHERE length(dict) > 0), 0)"
#define PACK "reqlog_pack(?, " NEWEST_DICT ")"
static const char INSERT_SQL[] =
  "INSERT INTO calls(id, started_at, method, url, host, path, status, error, duration_us,"
  " queued_us, dns_us, connect_us, tls_us, ttfb_us, key, attempt, retry_of, source,"
  " request_headers, response_headers, request_size, request_truncated, request_sha256,"
  " response_size, response_truncated, response_sha256, content_type, http_version,"
  " remote_ip, error_message, error_fields, request_body, response_body, packed)"
  " VALUES (?,?,?,?,?,?,?,NULL,?,?,?,?,?,?,?,?,?,?," PACK "," PACK ",?,0,reqlog_pack(?, 0),"
  "?,0,reqlog_pack(?, 0),?,?,?,?,?," PACK "," PACK ", 1)";

static void bind_text(sqlite3_stmt *st, int i, const char *s) {
  if (s)
    sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, i);
}

static int insert_row(sqlite3_stmt *st, sqlite3_stmt *fld, const row *r) {
  sqlite3_reset(st);
  int i = 1;
  sqlite3_bind_int64(st, i++, r->id);
  sqlite3_bind_int64(st, i++, r->started_at);
  bind_text(st, i++, r->method);
  bind_text(st, i++, r->url);
  bind_text(st, i++, "api.app.astalty.com.au");
  bind_text(st, i++, r->path);
  sqlite3_bind_int(st, i++, r->status);
  sqlite3_bind_int64(st, i++, r->duration);
  sqlite3_bind_int64(st, i++, r->queued);
  sqlite3_bind_int64(st, i++, r->dns);
  sqlite3_bind_int64(st, i++, r->connect);
  sqlite3_bind_int64(st, i++, r->tls);
  sqlite3_bind_int64(st, i++, r->ttfb);
  bind_text(st, i++, r->key);
  sqlite3_bind_int(st, i++, r->attempt);
  if (r->retry_of)
    sqlite3_bind_int64(st, i++, r->retry_of);
  else
    sqlite3_bind_null(st, i++);
  bind_text(st, i++, r->source);
  bind_text(st, i++, r->req_headers);
  bind_text(st, i++, r->resp_headers);
  sqlite3_bind_int64(st, i++, r->req_body ? (int64_t)strlen(r->req_body) : 0);
  bind_text(st, i++, r->req_body ? r->req_sha : NULL);
  sqlite3_bind_int64(st, i++, r->resp_body ? (int64_t)strlen(r->resp_body) : 0);
  bind_text(st, i++, r->resp_body ? r->resp_sha : NULL);
  bind_text(st, i++, r->resp_body ? "application/json" : NULL);
  bind_text(st, i++, "HTTP/2");
  bind_text(st, i++, "13.54.120.17");
  bind_text(st, i++, r->error_message);
  bind_text(st, i++, r->error_fields);
  bind_text(st, i++, r->req_body);
  bind_text(st, i++, r->resp_body);
  if (sqlite3_step(st) != SQLITE_DONE)
    return -1;
  for (int f = 0; f < r->nfields; f++) {
    sqlite3_reset(fld);
    sqlite3_bind_int64(fld, 1, r->id);
    sqlite3_bind_text(fld, 2, r->fields[f], -1, SQLITE_STATIC);
    if (sqlite3_step(fld) != SQLITE_DONE)
      return -1;
  }
  return 0;
}

static int exec(sqlite3 *db, const char *sql) {
  char *msg = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    fprintf(stderr, "gen_history: %s: %s\n", sql, msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000000;
  const char *path = argc > 2 ? argv[2] : "build/bench/history.db";
  if (n < 1000) {
    fprintf(stderr, "usage: gen_history [ROWS >= 1000] [DB_PATH]\n");
    return 2;
  }
  char fps[HISTORY_NKEYS][48];
  for (int k = 0; k < HISTORY_NKEYS; k++)
    reqlog_key_fingerprint(HISTORY_KEYS[k], fps[k]);

  char side[600];
  remove(path);
  snprintf(side, sizeof side, "%s-wal", path);
  remove(side);
  snprintf(side, sizeof side, "%s-shm", path);
  remove(side);
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600); /* as the store creates it */
  if (fd < 0) {
    perror(path);
    return 1;
  }
  close(fd);

  sqlite3 *db = NULL;
  if (sqlite3_open(path, &db) != SQLITE_OK) {
    fprintf(stderr, "gen_history: cannot open %s\n", path);
    return 1;
  }
  sqlite3_busy_timeout(db, 5000);
  if (store_pack_register(db) != SQLITE_OK) /* as the store's connections have */
    return 1;
  char pgsz[48]; /* the page size the store gives a new database */
  snprintf(pgsz, sizeof pgsz, "PRAGMA page_size=%d", STORE_PAGE_SIZE);
  if (exec(db, pgsz) || exec(db, "PRAGMA journal_mode=WAL") ||
      exec(db, "PRAGMA synchronous=OFF") || exec(db, "PRAGMA cache_size=-65536"))
    return 1;
  int files = 0;
  for (; reqlog_schema_files[files].name; files++)
    if (exec(db, (const char *)reqlog_schema_files[files].data))
      return 1;
  char sql[64];
  snprintf(sql, sizeof sql, "PRAGMA user_version = %d", files); /* migrations applied */
  if (exec(db, sql))
    return 1;

  struct timespec wall;
  clock_gettime(CLOCK_REALTIME, &wall);
  int64_t end_us = (int64_t)wall.tv_sec * US_PER_S + wall.tv_nsec / 1000 - 60 * US_PER_S;
  int64_t *times = gen_start_times(n, end_us);
  sqlite3_stmt *st = NULL, *fld = NULL;
  if (!times || sqlite3_prepare_v2(db, INSERT_SQL, -1, &st, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO call_fields(call_id, field) VALUES (?, ?)",
                         -1, &fld, NULL) != SQLITE_OK) {
    fprintf(stderr, "gen_history: %s\n", sqlite3_errmsg(db));
    return 1;
  }

  printf("gen_history: %d rows over %d days into %s\n", n, HISTORY_DAYS, path);
  fflush(stdout);
  double t0 = now_s();
  row prev, cur;
  int have_prev = 0;
  int64_t rows_common = 0, rows_422 = 0, rows_retry = 0, body_bytes = 0, bodies = 0;
  int64_t rare_ids[HISTORY_RARE_ROWS];
  int nrare = 0;
  for (int i = 0; i < n; i++) {
    if (i % TXN_ROWS == 0 && exec(db, i ? "COMMIT; BEGIN" : "BEGIN"))
      return 1;
    if (i == DICT_ROWS) { /* the store's indexer trains the dictionary at its first run */
      int done = 0;
      if (exec(db, "COMMIT") || store_index_fts(db, FTS_CHUNK, &done) != REQLOG_OK ||
          exec(db, "BEGIN"))
        return 1;
    }
    /* the rare word: HISTORY_RARE_ROWS rows spread evenly over the history */
    int rare = gen_is_rare(i, n, &nrare);
    gen_row_make(&cur, i + 1, times[i], have_prev ? &prev : NULL, rare, fps);
    if (insert_row(st, fld, &cur) != 0) {
      fprintf(stderr, "gen_history: insert: %s\n", sqlite3_errmsg(db));
      return 1;
    }
    if (rare)
      rare_ids[nrare - 1] = cur.id;
    rows_common += cur.common;
    rows_422 += cur.status == 422;
    rows_retry += cur.attempt > 1;
    if (cur.resp_body) {
      body_bytes += (int64_t)strlen(cur.resp_body);
      bodies++;
    }
    if (have_prev)
      gen_row_clear(&prev);
    prev = cur;
    have_prev = 1;
    if ((i + 1) % 100000 == 0 || i + 1 == n) {
      double t = now_s() - t0;
      printf("  rows %8d / %d  %6.1f s  %7.0f rows/s\n", i + 1, n, t, (i + 1) / t);
      fflush(stdout);
    }
  }
  if (have_prev)
    gen_row_clear(&prev);
  if (exec(db, "COMMIT"))
    return 1;
  sqlite3_finalize(st);
  sqlite3_finalize(fld);
  free(times);
  double gen_t = now_s() - t0;

  /* the full-text index, in the store's own chunks and with its own function */
  double f0 = now_s();
  int64_t indexed = 0, next_report = 100000;
  for (;;) {
    int done = 0;
    if (store_index_fts(db, FTS_CHUNK, &done) != REQLOG_OK) {
      fprintf(stderr, "gen_history: indexing failed: %s\n", sqlite3_errmsg(db));
      return 1;
    }
    indexed += done;
    if (indexed >= next_report) {
      double t = now_s() - f0;
      printf("  indexed %8lld / %d  %6.1f s  %7.0f rows/s\n", (long long)indexed, n, t,
             indexed / t);
      fflush(stdout);
      next_report += 100000;
    }
    if (done == 0)
      break;
  }
  double fts_t = now_s() - f0;
  if (exec(db, "PRAGMA wal_checkpoint(TRUNCATE)"))
    return 1;
  sqlite3_close(db);

  struct stat sb;
  stat(path, &sb);
  printf("gen_history: %d rows in %.1f s + full-text index in %.1f s; %.0f MB on disk\n", n,
         gen_t, fts_t, (double)sb.st_size / 1e6);
  printf("  mean response body %.0f B; %lld 422s (with call_fields); %lld retries of 429s\n",
         bodies ? (double)body_bytes / (double)bodies : 0.0, (long long)rows_422,
         (long long)rows_retry);
  printf("  keys:");
  for (int k = 0; k < HISTORY_NKEYS; k++)
    printf(" %s", fps[k]);
  printf("\n  common word: %s (in %lld rows, %.0f%%)\n", HISTORY_COMMON_WORD,
         (long long)rows_common, 100.0 * (double)rows_common / n);
  printf("  rare word:   %s (in %d rows: ids", HISTORY_RARE_WORD, nrare);
  for (int r = 0; r < nrare; r++)
    printf(" %lld", (long long)rare_ids[r]);
  printf(")\n");
  return 0;
}
