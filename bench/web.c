/* web.c: the dashboard server (`reqlog serve`) on a large generated history
 * (bench/gen_history.c), or on a large team store (a postgresql:// URL: bench/gen_pg.c):
 * latency of the list and stats endpoints against the library answering the same filter
 * in this process (the SQL + row JSON floor), throughput of the list endpoint under wrk
 * against a static file of the same server, and the CSV export against `sqlite3 -csv`
 * (or `psql \copy ... csv`) of the same 18 columns from the same store, with the
 * server's peak RSS, and the problems of 24 h (issue 14) against a SQLite GROUP BY of the
 * same rows. Every baseline is measured in the same run; goals (the SQLite
 * history's, or the team store's of issue 12) are printed next to the results; nothing
 * passes or fails on timing. Files (logs, exports) go next to HISTORY_DB, or into
 * $WEB_DIR (a store URL has no folder).
 * Usage: web REQLOG_BINARY HISTORY_DB|URL [LIST_REQUESTS] */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/history.h"
#include "reqlog.h"

#define WARM 20               /* untimed requests before each measured series, */
#define SERIES_MAX_S 20.0     /* a series stops early after this long (slow queries) */
#define SERIES_MIN 5          /* ... but never fewer samples than this (3 for stats) */
#define WARM_MAX_S 3.0        /* ... or fewer when they take longer than this */
#define STATS_REQUESTS 20
/* the goals: a SQLite history of 1M rows, and the team store of 10M (issue 12) */
static double list_goal_ms = 10.0, stats_goal_ms[2] = {100.0, 100.0}, rps_goal = 5000.0;
/* issue 14: problems of 24 h on the 1M-row history, exact counts */
static double problems_goal_ms = 200.0;
static int on_pg;          /* HISTORY_DB is a team store's URL */
static int stats_missing;  /* the library has no stats on this store: say so, skip them */
#define EXPORT_RATIO_GOAL 1.5
#define EXPORT_RSS_GOAL_KB (32 * 1024)
#define EXPORT_ROUNDS 2

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Nearest-rank percentile P of T[0..N), which it sorts. */
static double pct(double *t, int n, int p) {
  if (n == 0)
    return 0;
  qsort(t, (size_t)n, sizeof *t, cmp_double);
  int rank = (p * n + 99) / 100;
  return t[rank > 0 ? rank - 1 : 0];
}

/* ------------------------------------------------------------------ the queries */

typedef struct param {
  const char *name, *value;
} param;

typedef struct query {
  const char *label;
  param p[4];           /* filters, ending at a NULL name */
} query;

static char key_fp[48];

/* The list queries of the dashboard issue, plus field=email (the call_fields lookup). */
static query list_queries[] = {
  {"no filter", {{NULL, NULL}}},
  {"status=422", {{"status", "422"}, {NULL, NULL}}},
  {"status=4xx&path=/public/v1/participants&since=24h",
   {{"status", "4xx"}, {"path", HISTORY_PATH_PREFIX}, {"since", "24h"}, {NULL, NULL}}},
  {"key=KEY&method=POST", {{"key", key_fp}, {"method", "POST"}, {NULL, NULL}}},
  {"q=" HISTORY_RARE_WORD " (rare)", {{"q", HISTORY_RARE_WORD}, {NULL, NULL}}},
  {"q=" HISTORY_COMMON_WORD " (common)", {{"q", HISTORY_COMMON_WORD}, {NULL, NULL}}},
  {"field=email", {{"field", "email"}, {NULL, NULL}}},
};
#define NLIST (sizeof list_queries / sizeof list_queries[0])

static query stats_queries[] = {
  {"since=24h", {{"since", "24h"}, {NULL, NULL}}},
  {"since=30d", {{"since", "30d"}, {NULL, NULL}}},
};
#define NSTATS (sizeof stats_queries / sizeof stats_queries[0])

/* BASE + PATH + "?" + the escaped filters of Q + EXTRA ("limit=50"; may be NULL). */
static void make_url(char *out, size_t cap, const char *base, const char *path,
                     const query *q, const char *extra) {
  size_t n = (size_t)snprintf(out, cap, "%s%s", base, path);
  char sep = '?';
  for (const param *p = q ? q->p : NULL; p && p->name; p++) {
    char *v = curl_easy_escape(NULL, p->value, 0);
    n += (size_t)snprintf(out + n, cap - n, "%c%s=%s", sep, p->name, v);
    curl_free(v);
    sep = '&';
  }
  if (extra)
    snprintf(out + n, cap - n, "%c%s", sep, extra);
}

static reqlog_filter *make_filter(const query *q) {
  reqlog_filter *f = NULL;
  if (reqlog_filter_new(&f) != REQLOG_OK)
    return NULL;
  for (const param *p = q->p; p->name; p++) {
    char *cause = NULL;
    if (reqlog_filter_set(f, p->name, p->value, &cause) != REQLOG_OK) {
      fprintf(stderr, "web: filter %s: %s\n", p->name, cause);
      reqlog_free(cause);
      reqlog_filter_free(f);
      return NULL;
    }
  }
  return f;
}

/* ------------------------------------------------------------------ HTTP client */

typedef struct body {
  char *p;
  size_t len, cap;
  FILE *file;           /* when set, bytes go here instead */
  long long bytes;
} body;

static size_t collect(char *p, size_t s, size_t n, void *arg) {
  body *b = arg;
  size_t len = s * n;
  b->bytes += (long long)len;
  if (b->file)
    return fwrite(p, 1, len, b->file);
  if (b->len + len + 1 > b->cap) {
    size_t cap = (b->len + len + 1) * 2;
    char *np = realloc(b->p, cap);
    if (!np)
      return 0;
    b->p = np;
    b->cap = cap;
  }
  memcpy(b->p + b->len, p, len);
  b->len += len;
  b->p[b->len] = '\0';
  return len;
}

/* GET URL on the keep-alive handle C; *status and the time in ms (total, and from the
 * request sent to the first byte back, the server's own time). Returns 0 on a response. */
static int get(CURL *c, const char *url, body *b, long *status, double *total_ms,
               double *server_ms) {
  b->len = 0;
  b->bytes = 0;
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
  double t0 = now_ms();
  CURLcode rc = curl_easy_perform(c);
  double t = now_ms() - t0;
  *status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
  if (total_ms)
    *total_ms = t;
  if (server_ms) {
    curl_off_t pre = 0, start = 0;
    curl_easy_getinfo(c, CURLINFO_PRETRANSFER_TIME_T, &pre);
    curl_easy_getinfo(c, CURLINFO_STARTTRANSFER_TIME_T, &start);
    *server_ms = (double)(start - pre) / 1000.0;
  }
  return rc == CURLE_OK ? 0 : -1;
}

static CURL *new_handle(void) {
  CURL *c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  return c;
}

/* ------------------------------------------------------------------ the server */

static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  int port = -1;
  if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
      getsockname(fd, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0)
    close(fd);
  return port;
}

typedef struct server {
  pid_t pid;
  char base[64];
  char log[600];
} server;

/* Starts `BIN --db DB serve --listen 127.0.0.1:PORT` (output to LOG) and waits until it
 * answers. Returns 0, or -1 (with the reason printed) when it does not come up. */
static int server_start(server *s, const char *bin, const char *db, const char *log) {
  int port = free_port();
  char listen[32];
  snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
  snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", port);
  snprintf(s->log, sizeof s->log, "%s", log);
  s->pid = fork();
  if (s->pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execl(bin, bin, "--db", db, "serve", "--listen", listen, (char *)NULL);
    _exit(127);
  }
  if (s->pid < 0)
    return -1;
  CURL *c = new_handle();
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 2L);
  body b = {0};
  char url[128];
  snprintf(url, sizeof url, "%s/api/requests?limit=1", s->base);
  int up = -1;
  for (int i = 0; i < 300 && up != 0; i++) { /* 30 s */
    int st;
    if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
      fprintf(stderr, "web: the server exited (%s): %s\n",
              WIFEXITED(st) ? "status" : "signal", log);
      s->pid = 0;
      break;
    }
    long status = 0;
    if (get(c, url, &b, &status, NULL, NULL) == 0 && status == 200)
      up = 0;
    else
      usleep(100000);
  }
  free(b.p);
  curl_easy_cleanup(c);
  if (up != 0 && s->pid > 0) {
    fprintf(stderr, "web: the server did not answer %s within 30 s (log: %s)\n", url, log);
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
  }
  return up;
}

static void server_stop(server *s) {
  if (s->pid <= 0)
    return;
  kill(s->pid, SIGTERM);
  for (int i = 0; i < 50; i++) {
    if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
      s->pid = 0;
      return;
    }
    usleep(100000);
  }
  kill(s->pid, SIGKILL);
  waitpid(s->pid, NULL, 0);
  s->pid = 0;
}

/* A field of /proc/PID/status in kB (VmHWM, VmRSS), or -1. */
static long proc_kb(pid_t pid, const char *field) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  long kb = -1;
  size_t n = strlen(field);
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, field, n) == 0 && line[n] == ':')
      kb = atol(line + n + 1);
  if (f)
    fclose(f);
  return kb;
}

/* ------------------------------------------------------------------ latency */

typedef struct series {
  int n;
  double p50, p95, srv_p50, srv_p95;
} series;

/* The library's answer to Q in this process: rows as JSON, as the list endpoint builds
 * them ({"items": [...], "next": ...}), or the stats object. */
static double library_once(reqlog *r, const query *q, int stats, int *items) {
  reqlog_filter *f = make_filter(q);
  double t0 = now_ms();
  cJSON *out = NULL;
  char *cause = NULL;
  if (stats) {
    if (reqlog_stats(r, f, &out, &cause) != REQLOG_OK)
      fprintf(stderr, "web: stats: %s\n", cause);
  } else {
    reqlog_query_opts o = {.limit = 51};
    reqlog_cursor *cur = NULL;
    out = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(out, "items");
    int64_t last = 0;
    int n = 0;
    if (reqlog_query(r, f, &o, &cur, &cause) == REQLOG_OK) {
      cJSON *row = NULL;
      while (n < 50 && reqlog_cursor_next(cur, &row) == REQLOG_OK) {
        last = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(row, "id"));
        cJSON_AddItemToArray(arr, row);
        n++;
      }
      int more = n == 50 && reqlog_cursor_next(cur, &row) == REQLOG_OK;
      if (more)
        cJSON_Delete(row);
      cJSON_AddItemToObject(out, "next", more ? cJSON_CreateNumber((double)last)
                                              : cJSON_CreateNull());
    } else {
      fprintf(stderr, "web: query: %s\n", cause);
    }
    reqlog_cursor_free(cur);
    if (items)
      *items = n;
  }
  char *text = out ? cJSON_PrintUnformatted(out) : NULL;
  double t = now_ms() - t0;
  cJSON_free(text);
  cJSON_Delete(out);
  reqlog_free(cause);
  reqlog_filter_free(f);
  return t;
}

static series library_series(reqlog *r, const query *q, int stats, int want, int *items) {
  series s = {0};
  double *t = malloc(sizeof *t * (size_t)want);
  double w0 = now_ms();
  for (int i = 0; i < (stats ? 1 : WARM) && (i == 0 || now_ms() - w0 < WARM_MAX_S * 1e3); i++)
    library_once(r, q, stats, items);
  double start = now_ms();
  while (s.n < want && (s.n < (stats ? 3 : SERIES_MIN) || now_ms() - start < SERIES_MAX_S * 1e3))
    t[s.n++] = library_once(r, q, stats, NULL);
  s.p50 = pct(t, s.n, 50);
  s.p95 = pct(t, s.n, 95);
  free(t);
  return s;
}

/* Q against the server: WARM untimed requests, then up to WANT timed ones. *bad counts
 * answers other than 200; *desc gets what the first answer held. */
static series server_series(CURL *c, const char *url, int stats, int want, int *bad,
                            char *desc, size_t desc_cap) {
  series s = {0};
  double *t = malloc(sizeof *t * (size_t)want), *srv = malloc(sizeof *srv * (size_t)want);
  body b = {0};
  long status = 0;
  *bad = 0;
  double w0 = now_ms();
  for (int i = 0; i < (stats ? 1 : WARM) && (i == 0 || now_ms() - w0 < WARM_MAX_S * 1e3); i++)
    if (get(c, url, &b, &status, NULL, NULL) != 0 || status != 200)
      (*bad)++;
  if (desc_cap) {
    cJSON *j = b.p ? cJSON_Parse(b.p) : NULL;
    if (status != 200)
      snprintf(desc, desc_cap, "HTTP %ld: %.120s", status, b.p ? b.p : "");
    else if (stats)
      snprintf(desc, desc_cap, "total %.0f",
               cJSON_GetNumberValue(cJSON_GetObjectItem(j, "total")));
    else
      snprintf(desc, desc_cap, "%d items",
               cJSON_GetArraySize(cJSON_GetObjectItem(j, "items")));
    cJSON_Delete(j);
  }
  double start = now_ms();
  while (s.n < want && (s.n < (stats ? 3 : SERIES_MIN) || now_ms() - start < SERIES_MAX_S * 1e3)) {
    if (get(c, url, &b, &status, &t[s.n], &srv[s.n]) != 0 || status != 200)
      (*bad)++;
    s.n++;
  }
  s.p50 = pct(t, s.n, 50);
  s.p95 = pct(t, s.n, 95);
  s.srv_p50 = pct(srv, s.n, 50);
  s.srv_p95 = pct(srv, s.n, 95);
  free(t);
  free(srv);
  free(b.p);
  return s;
}

static void latency_table(reqlog *r, const server *sv, int want, int stats) {
  query *qs = stats ? stats_queries : list_queries;
  size_t nq = stats ? NSTATS : NLIST;
  if (stats && stats_missing) {
    printf("  GET /api/stats?since=24h, since=30d: not available on this store yet\n");
    return;
  }
  printf("  %-50s %15s %15s %15s %6s  %s\n", stats ? "GET /api/stats?" : "GET /api/requests?",
         "library p50/p95", "server p50/p95", "(server time)", "ratio", "goal: p95");
  CURL *c = sv ? new_handle() : NULL;
  for (size_t i = 0; i < nq; i++) {
    double goal = stats ? stats_goal_ms[i] : list_goal_ms;
    int items = 0;
    series lib = library_series(r, &qs[i], stats, want, &items);
    char lib_s[32];
    snprintf(lib_s, sizeof lib_s, "%.2f/%.2f", lib.p50, lib.p95);
    if (!sv) {
      char desc[32] = "";
      if (!stats)
        snprintf(desc, sizeof desc, " (%d items)", items);
      printf("  %-50s %15s %15s %15s %6s  <= %.0f ms%s\n", qs[i].label, lib_s, "-", "-", "-",
             goal, desc);
      continue;
    }
    char url[1024], desc[200] = "";
    make_url(url, sizeof url, sv->base, stats ? "/api/stats" : "/api/requests", &qs[i],
             stats ? NULL : "limit=50");
    int bad = 0;
    series s = server_series(c, url, stats, want, &bad, desc, sizeof desc);
    char srv_s[32], own_s[32];
    snprintf(srv_s, sizeof srv_s, "%.2f/%.2f", s.p50, s.p95);
    snprintf(own_s, sizeof own_s, "%.2f/%.2f", s.srv_p50, s.srv_p95);
    printf("  %-50s %15s %15s %15s %6.2f  <= %.0f ms %s (n=%d, %s%s)\n", qs[i].label, lib_s,
           srv_s, own_s, lib.p50 > 0 ? s.p50 / lib.p50 : 0, goal,
           s.p95 <= goal ? "met" : "MISSED", s.n, desc, bad ? ", NON-200 ANSWERS" : "");
    fflush(stdout);
  }
  if (c)
    curl_easy_cleanup(c);
}

/* ------------------------------------------------------------------ problems */

/* One reqlog_problems() of since=24h in this process; *groups / *total get its size. */
static double problems_once(reqlog *r, int *groups, int64_t *total) {
  reqlog_filter *f = NULL;
  reqlog_filter_new(&f);
  reqlog_filter_set(f, "since", "24h", NULL);
  double t0 = now_ms();
  cJSON *out = NULL;
  char *cause = NULL;
  if (reqlog_problems(r, f, &out, &cause) != REQLOG_OK)
    fprintf(stderr, "web: problems: %s\n", cause ? cause : "?");
  char *text = out ? cJSON_PrintUnformatted(out) : NULL;
  double t = now_ms() - t0;
  if (groups)
    *groups = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(out, "groups_total"));
  if (total)
    *total = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(out, "total"));
  cJSON_free(text);
  cJSON_Delete(out);
  reqlog_free(cause);
  reqlog_filter_free(f);
  return t;
}

/* The baseline, SQLite alone on the same rows: the failing calls of the last 24 h, found
 * through the same covering time index and read by id as the library reads them, and
 * grouped by method, path, status and message in SQL (no templates, fields, keys list or
 * sparklines): what reading them costs at the least. -1 when it cannot run. */
static double problems_floor_once(const char *db_path, int64_t *total) {
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    sqlite3_close(db);
    return -1;
  }
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t since = ((int64_t)ts.tv_sec - 86400) * 1000000;
  sqlite3_stmt *st = NULL;
  double t0 = now_ms();
  int rc = sqlite3_prepare_v2(db,
    "SELECT c.method, c.path, c.status, coalesce(c.error_message, c.error), count(*),"
    " count(DISTINCT c.key), min(c.started_at), max(c.started_at), max(c.id)"
    " FROM calls AS c WHERE c.id IN (SELECT t.id FROM calls AS t INDEXED BY calls_time"
    "  WHERE t.started_at >= ?1 AND (t.status >= 400 OR t.status IS NULL))"
    " GROUP BY 1, 2, 3, 4", -1, &st, NULL);
  *total = 0;
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(st, 1, since);
    while (sqlite3_step(st) == SQLITE_ROW)
      *total += sqlite3_column_int64(st, 4);
  }
  double t = now_ms() - t0;
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rc == SQLITE_OK ? t : -1;
}

static void problems_table(reqlog *r, const server *sv, const char *db_path) {
  enum { N = 10 };
  double lib[N], srv[N], flo[N];
  int groups = 0;
  int64_t total = 0, floor_total = 0;
  problems_once(r, &groups, &total); /* warm */
  for (int i = 0; i < N; i++)
    lib[i] = problems_once(r, NULL, NULL);
  int nf = 0;
  if (!on_pg) {
    problems_floor_once(db_path, &floor_total);
    for (; nf < N; nf++)
      if ((flo[nf] = problems_floor_once(db_path, &floor_total)) < 0)
        break;
  }
  int ns = 0, bad = 0;
  if (sv) {
    CURL *c = new_handle();
    body b = {0};
    long status = 0;
    char url[256];
    snprintf(url, sizeof url, "%s/api/problems?since=24h", sv->base);
    get(c, url, &b, &status, NULL, NULL);
    for (; ns < N; ns++)
      if (get(c, url, &b, &status, &srv[ns], NULL) != 0 || status != 200)
        bad++;
    free(b.p);
    curl_easy_cleanup(c);
  }
  double lp95 = pct(lib, N, 95);
  printf("  problems since=24h: %lld failing calls in %d groups (exact)\n", (long long)total,
         groups);
  printf("  %-34s p50 %8.2f  p95 %8.2f ms   <= %.0f ms %s\n", "library (reqlog_problems)",
         pct(lib, N, 50), lp95, problems_goal_ms, lp95 <= problems_goal_ms ? "met" : "MISSED");
  if (ns)
    printf("  %-34s p50 %8.2f  p95 %8.2f ms%s\n", "server (GET /api/problems)", pct(srv, ns, 50),
           pct(srv, ns, 95), bad ? "  NON-200 ANSWERS" : "");
  if (nf == N)
    printf("  %-34s p50 %8.2f  p95 %8.2f ms   library / floor %.2f (%lld calls)\n",
           "floor: SQLite GROUP BY, same rows", pct(flo, N, 50), pct(flo, N, 95),
           pct(lib, N, 50) / pct(flo, N, 50), (long long)floor_total);
  fflush(stdout);
}

/* ------------------------------------------------------------------ throughput */

/* wrk -t2 -c32 -d10s URL: requests per second (0 when wrk fails); LAT gets its p99 line. */
static double wrk(const char *url, char *lat, size_t cap, long *non2xx) {
  char cmd[1200], line[512];
  snprintf(cmd, sizeof cmd, "wrk -t2 -c32 -d10s --latency '%s' 2>&1", url);
  FILE *p = popen(cmd, "r");
  double rps = 0;
  *non2xx = 0;
  snprintf(lat, cap, "?");
  while (p && fgets(line, sizeof line, p)) {
    char *s = line;
    while (*s == ' ')
      s++;
    if (strncmp(s, "Requests/sec:", 13) == 0)
      rps = atof(s + 13);
    else if (strncmp(s, "99%", 3) == 0) {
      s[strcspn(s, "\n")] = '\0';
      snprintf(lat, cap, "%s", s + 3 + strspn(s + 3, " "));
    } else if (strncmp(s, "Non-2xx or 3xx responses:", 25) == 0)
      *non2xx = atol(s + 25);
  }
  if (p)
    pclose(p);
  return rps;
}

/* ------------------------------------------------------------------ export */

/* The CSV columns of docs/design.md §7 (the notes' tags and note last, read as the
 * exporter reads them) as stored: what sqlite3 dumps fastest. */
#define NOTE_COLS                                                                        \
  ", (SELECT n.tags FROM call_notes AS n WHERE n.call_id = calls.id) AS tags,"            \
  " (SELECT n.note FROM call_notes AS n WHERE n.call_id = calls.id) AS note"
static const char SQLITE_RAW[] =
  "SELECT id, started_at, method, url, status, duration_us, key, attempt, retry_of, source,"
  " error, error_message, request_size, response_size, origin, request_id" NOTE_COLS
  " FROM calls ORDER BY id";

/* The same columns in the text the server's exporter writes (ISO times with microseconds,
 * milliseconds with three decimals), so the two outputs can be compared. */
static const char SQLITE_FORMATTED[] =
  "SELECT id,"
  " strftime('%Y-%m-%dT%H:%M:%S', started_at / 1000000, 'unixepoch')"
  "   || printf('.%06dZ', started_at % 1000000) AS started_at,"
  " method, url, status, printf('%.3f', duration_us / 1000.0) AS duration_ms, key,"
  " attempt, retry_of, source, error, error_message, request_size, response_size, origin,"
  " request_id" NOTE_COLS " FROM calls ORDER BY id";

/* The same two on PostgreSQL (started_at and duration_us as the exporter writes them). */
static const char PG_RAW[] =
  "SELECT id, started_at, method, url, status, duration_us, key, attempt, retry_of, source,"
  " error, error_message, request_size, response_size, origin, request_id" NOTE_COLS
  " FROM calls ORDER BY id";
static const char PG_FORMATTED[] =
  "SELECT id, to_char(to_timestamp(started_at / 1000000) AT TIME ZONE 'UTC',"
  "  'YYYY-MM-DD\"T\"HH24:MI:SS') || '.' || lpad((started_at % 1000000)::text, 6, '0') || 'Z'"
  "  AS started_at,"
  " method, url, status, to_char(duration_us / 1000.0, 'FM999999999990.000') AS duration_ms,"
  " key, attempt, retry_of, source, error, error_message, request_size, response_size, origin,"
  " request_id" NOTE_COLS " FROM calls ORDER BY id";

/* Runs `sqlite3 -readonly -csv -header DB SQL`, or for a store URL
 * `psql URL -c '\copy (SQL) TO STDOUT WITH (FORMAT csv, HEADER)'`, into OUT; returns the
 * wall time in ms (-1 on failure) and its peak RSS in kB in *rss_kb. */
static double sqlite3_export(const char *db, const char *sql, const char *out, long *rss_kb) {
  char copy[2048];
  snprintf(copy, sizeof copy, "\\copy (%s) TO STDOUT WITH (FORMAT csv, HEADER)", sql);
  double t0 = now_ms();
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
      _exit(127);
    dup2(fd, 1);
    if (on_pg)
      execlp("psql", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", db, "-c", copy, (char *)NULL);
    else
      execlp("sqlite3", "sqlite3", "-readonly", "-csv", "-header", db, sql, (char *)NULL);
    _exit(127);
  }
  int st = 0;
  struct rusage ru;
  if (pid < 0 || wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
    return -1;
  *rss_kb = ru.ru_maxrss;
  return now_ms() - t0;
}

static double server_export(const server *sv, const char *out, long long *bytes) {
  char url[256];
  snprintf(url, sizeof url, "%s/api/export?format=csv", sv->base);
  FILE *f = fopen(out, "w");
  if (!f)
    return -1;
  CURL *c = new_handle();
  body b = {.file = f};
  long status = 0;
  double t = 0;
  int rc = get(c, url, &b, &status, &t, NULL);
  curl_easy_cleanup(c);
  fclose(f);
  *bytes = b.bytes;
  return rc == 0 && status == 200 ? t : -1;
}

/* Compares files A and B ignoring '"' and CR: sqlite3 quotes every non-ASCII cell (the
 * server only cells that need it) and ends lines with LF (the server with CRLF). Returns the line (1-based) of the first difference, or 0
 * when they match; *la and *lb get their line counts. */
static long long first_difference(const char *a, const char *b, long long *la, long long *lb) {
  FILE *fa = fopen(a, "r"), *fb = fopen(b, "r");
  long long diff = 0;
  *la = *lb = 0;
  while (fa && fb) {
    int ca, cb;
    while ((ca = getc_unlocked(fa)) == '"' || ca == '\r')
      ;
    while ((cb = getc_unlocked(fb)) == '"' || cb == '\r')
      ;
    if (ca != cb && !diff)
      diff = *la + 1;
    *la += ca == '\n';
    *lb += cb == '\n';
    if (ca == EOF || cb == EOF) { /* count the rest of the longer one */
      FILE *rest = ca == EOF ? fb : fa;
      long long *l = ca == EOF ? lb : la;
      int ch;
      while (ca != cb && (ch = getc_unlocked(rest)) != EOF)
        *l += ch == '\n';
      break;
    }
  }
  if (fa)
    fclose(fa);
  if (fb)
    fclose(fb);
  return diff;
}

static void export_bench(const char *bin, const char *db, const char *dir) {
  char srv_csv[600], raw_csv[600], fmt_csv[600], log[600];
  snprintf(srv_csv, sizeof srv_csv, "%s/export-server.csv", dir);
  snprintf(raw_csv, sizeof raw_csv, "%s/export-sqlite3-raw.csv", dir);
  snprintf(fmt_csv, sizeof fmt_csv, "%s/export-sqlite3.csv", dir);
  snprintf(log, sizeof log, "%s/serve-export.log", dir);
  long raw_rss = 0, fmt_rss = 0;
  printf("\n  CSV export of every row (18 columns), best of %d rounds each, same file:\n",
         EXPORT_ROUNDS);
  const char *sql_raw = on_pg ? PG_RAW : SQLITE_RAW, *sql_fmt = on_pg ? PG_FORMATTED : SQLITE_FORMATTED;
  const char *tool = on_pg ? "psql \\copy csv" : "sqlite3 -csv";
  if (sqlite3_export(db, sql_raw, raw_csv, &raw_rss) < 0) { /* warms the page cache */
    printf("  %s failed; no export comparison\n", tool);
    return;
  }
  server sv = {0};
  int have_server = bin && server_start(&sv, bin, db, log) == 0;
  long idle_kb = have_server ? proc_kb(sv.pid, "VmHWM") : -1;
  double best_raw = 1e18, best_fmt = 1e18, best_srv = 1e18;
  long long bytes = 0;
  for (int round = 0; round < EXPORT_ROUNDS; round++) {
    double t = sqlite3_export(db, sql_raw, raw_csv, &raw_rss);
    if (t >= 0 && t < best_raw)
      best_raw = t;
    t = sqlite3_export(db, sql_fmt, fmt_csv, &fmt_rss);
    if (t >= 0 && t < best_fmt)
      best_fmt = t;
    if (have_server) {
      t = server_export(&sv, srv_csv, &bytes);
      if (t < 0)
        printf("  server export failed (round %d)\n", round + 1);
      else if (t < best_srv)
        best_srv = t;
    }
  }
  struct stat raw_sb, fmt_sb;
  stat(raw_csv, &raw_sb);
  stat(fmt_csv, &fmt_sb);
  printf("  %-16s columns as stored      %9.0f ms  %6.1f MB/s  peak RSS %6.1f MB\n", tool,
         best_raw, (double)raw_sb.st_size / 1e3 / best_raw, raw_rss / 1024.0);
  printf("  %-16s times formatted       %9.0f ms  %6.1f MB/s  peak RSS %6.1f MB\n", tool,
         best_fmt, (double)fmt_sb.st_size / 1e3 / best_fmt, fmt_rss / 1024.0);
  remove(raw_csv);
  if (!have_server || best_srv >= 1e18) {
    printf("  GET /api/export?format=csv               (no server)\n");
    server_stop(&sv);
    remove(fmt_csv);
    remove(srv_csv);
    return;
  }
  long hwm = proc_kb(sv.pid, "VmHWM");
  server_stop(&sv);
  long long la, lb;
  long long diff = first_difference(srv_csv, fmt_csv, &la, &lb);
  double ratio = best_srv / best_raw;
  printf("  GET /api/export?format=csv               %9.0f ms  %6.1f MB/s  peak RSS %6.1f MB"
         " (%.1f MB idle)\n", best_srv, (double)bytes / 1e3 / best_srv, hwm / 1024.0,
         idle_kb / 1024.0);
  printf("  ratio server / the dump as stored       %9.2f       (goal <= %.1f: %s); "
         "/ formatted %.2f\n", ratio, EXPORT_RATIO_GOAL,
         ratio <= EXPORT_RATIO_GOAL ? "met" : "MISSED", best_srv / best_fmt);
  printf("  server peak RSS (VmHWM, fresh process)   %9.1f MB    (goal <= %d MB: %s)\n",
         hwm / 1024.0, EXPORT_RSS_GOAL_KB / 1024, hwm <= EXPORT_RSS_GOAL_KB ? "met" : "MISSED");
  if (!diff && la == lb)
    printf("  outputs: the same %lld lines as the formatted dump (quotes and CR aside)\n",
           la);
  else
    printf("  outputs: DIFFER from line %lld (server %lld lines, %lld bytes; the dump %lld lines)"
           "\n", diff, la, bytes, lb);
  remove(srv_csv);
  remove(fmt_csv);
}

/* ------------------------------------------------------------------ main */

/* The team store's row count and size on disk (MB into *MB), by psql; 0 when it fails. */
static long long pg_size(const char *url, double *mb) {
  char cmd[1200], line[128];
  long long rows = 0;
  snprintf(cmd, sizeof cmd, "psql -X -At '%s' -c 'SELECT count(*) FROM calls' "
           "-c 'SELECT pg_database_size(current_database())'", url);
  FILE *p = popen(cmd, "r");
  if (p && fgets(line, sizeof line, p)) {
    rows = atoll(line);
    if (fgets(line, sizeof line, p))
      *mb = atof(line) / 1e6;
  }
  if (p)
    pclose(p);
  return rows;
}

/* The 1-minute load average: other work on the machine shows up in every figure here. */
static double load1(void) {
  double l = -1;
  FILE *f = fopen("/proc/loadavg", "r");
  if (f && fscanf(f, "%lf", &l) != 1)
    l = -1;
  if (f)
    fclose(f);
  return l;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: web REQLOG_BINARY HISTORY_DB [LIST_REQUESTS]\n");
    return 2;
  }
  const char *bin = argv[1], *db = argv[2];
  setvbuf(stdout, NULL, _IOLBF, 0); /* progress in order with the server's own messages */
  int want = argc > 3 ? atoi(argv[3]) : 200;
  if (want < SERIES_MIN)
    want = SERIES_MIN;
  on_pg = reqlog_is_store_url(db);
  if (on_pg) { /* issue 12's goals for the team store */
    list_goal_ms = 20.0;
    stats_goal_ms[1] = 500.0;
    rps_goal = 3000.0;
  }
  char dir[512] = ".";
  const char *web_dir = getenv("WEB_DIR"), *slash = strrchr(db, '/');
  if (web_dir && *web_dir)
    snprintf(dir, sizeof dir, "%s", web_dir);
  else if (!on_pg && slash)
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - db), db);
  reqlog_key_fingerprint(HISTORY_KEYS[0], key_fp);
  curl_global_init(CURL_GLOBAL_DEFAULT);

  /* the history's size, read directly */
  sqlite3 *sdb = NULL;
  sqlite3_stmt *st = NULL;
  long long rows = 0;
  double mb = 0;
  if (on_pg)
    rows = pg_size(db, &mb);
  else if (sqlite3_open_v2(db, &sdb, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_prepare_v2(sdb, "SELECT count(*) FROM calls", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    rows = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(sdb);
  struct stat sb;
  if (!on_pg && stat(db, &sb) == 0)
    mb = (double)sb.st_size / 1e6;
  if (rows == 0 || mb == 0) {
    fprintf(stderr, "web: %s is not a generated history (bench/gen_history, bench/gen_pg)\n", db);
    return 1;
  }
  printf("web: dashboard server on %lld rows (%.0f MB, %s); key %s; load %.2f\n", rows, mb, db,
         key_fp, load1());

  /* is there a `serve` command yet? */
  char log[600];
  snprintf(log, sizeof log, "%s/serve.log", dir);
  server sv = {0};
  int have_server = server_start(&sv, bin, db, log) == 0;
  if (!have_server)
    printf("  (no server: `%s serve` did not come up; library baselines and the dump only)\n", bin);

  reqlog *r = NULL;
  char *cause = NULL;
  if ((on_pg ? reqlog_open_readonly(db, &r, &cause) : reqlog_open(db, &r, &cause)) != REQLOG_OK) {
    fprintf(stderr, "web: %s\n", cause);
    server_stop(&sv);
    return 1;
  }
  cJSON *probe = NULL;
  if (reqlog_stats(r, NULL, &probe, &cause) != REQLOG_OK) { /* not on every store yet */
    stats_missing = 1;
    reqlog_free(cause);
    cause = NULL;
  }
  cJSON_Delete(probe);
  printf("\n  latency, ms: in-process library (SQL + row JSON) vs the server over loopback "
         "keep-alive (client total; server time = request sent to first byte)\n");
  latency_table(r, have_server ? &sv : NULL, want, 0);
  printf("\n");
  latency_table(r, have_server ? &sv : NULL, STATS_REQUESTS, 1);
  printf("\n");
  problems_table(r, have_server ? &sv : NULL, db);
  reqlog_close(r);

  if (have_server) {
    if (system("command -v wrk >/dev/null 2>&1") == 0) {
      char url[256], lat_s[64], lat_l[64];
      long bad_s, bad_l;
      snprintf(url, sizeof url, "%s/", sv.base);
      double static_rps = wrk(url, lat_s, sizeof lat_s, &bad_s);
      snprintf(url, sizeof url, "%s/api/requests?limit=50", sv.base);
      double list_rps = wrk(url, lat_l, sizeof lat_l, &bad_l);
      printf("\n  throughput, wrk -t2 -c32 -d10s (wrk shares the 2 cores with the server):\n");
      printf("  GET / (index.html, the HTTP floor)       %9.0f req/s  p99 %s%s\n", static_rps,
             lat_s, bad_s ? "  NON-2xx ANSWERS" : "");
      printf("  GET /api/requests?limit=50               %9.0f req/s  p99 %s%s\n", list_rps,
             lat_l, bad_l ? "  NON-2xx ANSWERS" : "");
      printf("  ratio list/static                        %9.2f        (goal >= %.0f req/s: %s)\n",
             static_rps > 0 ? list_rps / static_rps : 0, rps_goal,
             list_rps >= rps_goal ? "met" : "MISSED");
    } else {
      printf("\n  throughput: wrk not installed, skipped\n");
    }
  }
  server_stop(&sv);
  fflush(stdout);
  export_bench(have_server ? bin : NULL, db, dir);
  printf("  load average at the end: %.2f (above ~1 means other work shared the cores)\n",
         load1());
  return 0;
}
