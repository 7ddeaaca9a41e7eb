/* overhead.c: what recording costs the caller. N sequential keep-alive GETs of a 1 KB
 * JSON body from the fake API (its own process) with plain curl_easy_perform, and the
 * same through reqlog_easy_perform into a fresh database, interleaved in blocks so both
 * see the same machine; prints p50 / mean / p99 of each and the ratios. Goal: <= 1.10.
 * With a team store's URL and the reqlog binary, a third kind joins the rotation:
 * recording with shipping on, against recording into SQLite alone: the shipper's cost to
 * the caller (goal <= 1.10), and every call in the store at the end. Shipping on is a
 * handle opened on the URL (its spool at DB_PATH-spool.db through REQLOG_SPOOL, shipped
 * by the library's own thread) when the library records into a store, else a handle
 * on that spool with `reqlog ship --to URL --follow` running beside the caller (the
 * sidecar form).
 * Usage: overhead [CALLS] [DB_PATH] [STORE_URL REQLOG_BINARY] */
#include <curl/curl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reqlog_demo.h"
#include "reqlog.h"

#define BLOCK 1000

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static size_t discard(char *p, size_t s, size_t n, void *arg) {
  (void)p;
  (void)arg;
  return s * n;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

typedef struct summary {
  double p50, mean, p99;
} summary;

static summary summarize(double *t, int n) {
  double sum = 0;
  for (int i = 0; i < n; i++)
    sum += t[i];
  qsort(t, (size_t)n, sizeof *t, cmp);
  summary s = {t[n / 2], sum / n, t[(int)(n * 0.99)]};
  return s;
}

/* The fake API in a child process, so its threads do not share our address space;
 * returns its pid and writes its base URL into URL. */
static pid_t start_server(char *url, size_t len) {
  int fds[2];
  if (pipe(fds) != 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    fakeapi *f = NULL;
    if (fakeapi_start(NULL, &f, NULL) != 0)
      _exit(1);
    const char *u = fakeapi_base_url(f);
    if (write(fds[1], u, strlen(u) + 1) < 0)
      _exit(1);
    close(fds[1]);
    for (;;)
      pause();
  }
  close(fds[1]);
  ssize_t n = read(fds[0], url, len - 1);
  close(fds[0]);
  if (n <= 0)
    return -1;
  url[n] = '\0';
  return pid;
}

/* Starts `BIN --db SPOOL ship --to URL --follow` (its output into LOG); its pid, or -1. */
static pid_t start_shipper(const char *bin, const char *spool, const char *url,
                           const char *log) {
  pid_t pid = fork();
  if (pid == 0) {
    FILE *f = fopen(log, "w");
    if (f) {
      dup2(fileno(f), 1);
      dup2(fileno(f), 2);
    }
    execl(bin, bin, "--db", spool, "ship", "--to", url, "--follow", (char *)NULL);
    _exit(127);
  }
  return pid;
}

/* Rows in the store's calls (-1 when it cannot be asked). */
static long long store_rows(const char *url) {
  PGconn *c = PQconnectdb(url);
  long long n = -1;
  PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, "SELECT count(*) FROM calls") : NULL;
  if (r && PQresultStatus(r) == PGRES_TUPLES_OK)
    n = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  PQfinish(c);
  return n;
}

static CURL *handle(const char *url, struct curl_slist *h) {
  CURL *c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  return c;
}

int main(int argc, char **argv) {
  int calls = argc > 1 ? atoi(argv[1]) : 20000;
  const char *db = argc > 2 ? argv[2] : "build/bench/overhead.db";
  const char *store = argc > 4 ? argv[3] : NULL, *bin = argc > 4 ? argv[4] : NULL;
  int kinds = store ? 3 : 2; /* plain, recorded, recorded and shipped */
  if (calls < BLOCK * 2)
    calls = BLOCK * 2;
  calls -= calls % BLOCK;
  calls *= kinds; /* CALLS of each kind */
  char base[256], url[300];
  pid_t server = start_server(base, sizeof base);
  if (server < 0) {
    fprintf(stderr, "overhead: the fake API did not start\n");
    return 1;
  }
  snprintf(url, sizeof url, "%s/bench", base);
  char wal[600], shm[600];
  snprintf(wal, sizeof wal, "%s-wal", db);
  snprintf(shm, sizeof shm, "%s-shm", db);
  remove(db);
  remove(wal);
  remove(shm);
  char spool[600], spool_side[620], ship_log[620];
  snprintf(spool, sizeof spool, "%s-spool.db", db);
  snprintf(ship_log, sizeof ship_log, "%s-ship.log", db);
  remove(spool);
  snprintf(spool_side, sizeof spool_side, "%s-wal", spool);
  remove(spool_side);
  snprintf(spool_side, sizeof spool_side, "%s-shm", spool);
  remove(spool_side);

  curl_global_init(CURL_GLOBAL_DEFAULT);
  reqlog *r = NULL;
  char *cause = NULL;
  if (reqlog_open(db, &r, &cause) != REQLOG_OK) {
    fprintf(stderr, "overhead: %s\n", cause);
    kill(server, SIGTERM);
    return 1;
  }
  reqlog *rs = NULL; /* recording with shipping on */
  pid_t shipper = -1;
  int in_process = 0;
  if (store) {
    setenv("REQLOG_SPOOL", spool, 1);
    in_process = reqlog_open(store, &rs, NULL) == REQLOG_OK;
    if (!in_process && reqlog_open(spool, &rs, &cause) != REQLOG_OK) {
      fprintf(stderr, "overhead: %s\n", cause);
      kill(server, SIGTERM);
      return 1;
    }
  }
  struct curl_slist *h = curl_slist_append(NULL, "Authorization: Bearer " FAKEAPI_KEY);
  h = curl_slist_append(h, "Accept: application/json");
  /* one handle, one connection, one server thread for both kinds: on a 2-core machine
   * where each connection gets its own server thread, two handles would measure where
   * the scheduler put those threads rather than what recording costs */
  CURL *plain = handle(url, h), *rec = plain;
  for (int i = 0; i < 500; i++) { /* warm both connections and caches */
    curl_easy_perform(plain);
    reqlog_easy_perform(r, rec);
    if (rs)
      reqlog_easy_perform(rs, rec);
  }
  if (rs) { /* shipping, until the store holds the warm-up rows */
    if (!in_process)
      shipper = start_shipper(bin, spool, store, ship_log);
    for (int i = 0; i < 600 && store_rows(store) < 500; i++)
      usleep(100000);
  }
  double *tp = malloc(sizeof(double) * (size_t)calls);
  double *tr = malloc(sizeof(double) * (size_t)calls);
  double *ts = malloc(sizeof(double) * (size_t)calls);
  int np = 0, nr = 0, ns = 0, fails = 0;
  double wall0 = now_us();
  const char *verbose_blocks = getenv("OVERHEAD_BLOCKS");
  for (int b = 0; b < calls / BLOCK; b++) {
    int kind = b % kinds, recorded = kind == 1;
    int first = recorded ? nr : np;
    for (int i = 0; i < BLOCK; i++) {
      double t0 = now_us();
      CURLcode code = kind == 2   ? reqlog_easy_perform(rs, rec)
                      : recorded ? reqlog_easy_perform(r, rec)
                                 : curl_easy_perform(plain);
      double t = now_us() - t0;
      fails += code != CURLE_OK;
      if (kind == 2)
        ts[ns++] = t;
      else if (recorded)
        tr[nr++] = t;
      else
        tp[np++] = t;
    }
    if (kind == 2)
      continue;
    if (verbose_blocks) {
      double *blk = recorded ? tr + first : tp + first;
      double tmp[BLOCK];
      memcpy(tmp, blk, sizeof tmp);
      qsort(tmp, BLOCK, sizeof *tmp, cmp);
      fprintf(stderr, "block %d %s p50 %.1f\n", b, recorded ? "reqlog" : "plain ", tmp[BLOCK / 2]);
    }
  }
  double wall = now_us() - wall0;
  long long in_store = 0;
  double lag_s = 0;
  if (store) { /* every call in the store, shipping still on */
    while ((in_store = store_rows(store)) != ns + 500 && now_us() - (wall0 + wall) < 60e6)
      usleep(20000);
    lag_s = (now_us() - (wall0 + wall)) / 1e6;
    if (shipper > 0) {
      kill(shipper, SIGTERM);
      waitpid(shipper, NULL, 0);
    }
  }
  double c0 = now_us();
  reqlog_err cerr = reqlog_close(r);
  double close_ms = (now_us() - c0) / 1000;
  if (rs && reqlog_close(rs) != REQLOG_OK)
    cerr = REQLOG_ERR_DB;

  summary sp = summarize(tp, np), sr = summarize(tr, nr);
  printf("recording overhead: %d plain + %d recorded keep-alive GETs of 1 KB JSON, "
         "interleaved in blocks of %d (%.1f s)\n", np, nr, BLOCK, wall / 1e6);
  printf("  plain libcurl      p50 %7.1f us   mean %7.1f us   p99 %7.1f us\n", sp.p50, sp.mean, sp.p99);
  printf("  through reqlog     p50 %7.1f us   mean %7.1f us   p99 %7.1f us\n", sr.p50, sr.mean, sr.p99);
  printf("  ratio              p50 %7.3f      mean %7.3f      p99 %7.3f     (goal <= 1.10)\n",
         sr.p50 / sp.p50, sr.mean / sp.mean, sr.p99 / sp.p99);
  printf("  close (final flush) %.1f ms; transport failures %d; close: %s\n", close_ms, fails,
         reqlog_strerror(cerr));
  int shipped_ok = 1;
  if (store) {
    summary ss = summarize(ts, ns);
    printf("  recorded, shipped  p50 %7.1f us   mean %7.1f us   p99 %7.1f us   (%s)\n", ss.p50,
           ss.mean, ss.p99, in_process ? "the library's shipper thread, REQLOG_SPOOL"
                                        : "a spool, with `reqlog ship --follow` beside it");
    printf("  ratio to recorded  p50 %7.3f      mean %7.3f      p99 %7.3f     (goal <= 1.10: %s)\n",
           ss.p50 / sr.p50, ss.mean / sr.mean, ss.p99 / sr.p99,
           ss.mean / sr.mean <= 1.10 ? "met" : "MISSED");
    printf("  in the store %.2f s after the last call: %lld rows (expected %d)\n", lag_s,
           in_store, ns + 500);
    shipped_ok = in_store == ns + 500;
  }

  /* every recorded call is a row */
  reqlog *check = NULL;
  int64_t rows = -1;
  if (reqlog_open(db, &check, NULL) == REQLOG_OK)
    reqlog_count(check, NULL, &rows, NULL);
  reqlog_close(check);
  printf("  rows in the database: %lld (expected %d)\n", (long long)rows, nr + 500);

  curl_easy_cleanup(plain);
  curl_slist_free_all(h);
  free(tp);
  free(tr);
  free(ts);
  kill(server, SIGTERM);
  waitpid(server, NULL, 0);
  curl_global_cleanup();
  return rows == nr + 500 && fails == 0 && shipped_ok ? 0 : 1;
}
