/* test_backends.c: the reading side over both backends from one table of cases. The same
 * calls are loaded into a SQLite history (the library's own schema) and into a team store
 * on a throwaway PostgreSQL cluster (tests/lib/testpg.c; schema/pg/ applied by opening
 * it), in the same order, so both give the calls the same ids. Then every filter case
 * of the table is read from both through the public functions (reqlog_query rows as
 * JSON, reqlog_count, reqlog_get, reqlog_stats, reqlog_export CSV / CSV with bodies /
 * NDJSON / HAR) and the two outputs must be byte for byte equal, and not empty where
 * rows match. The calls span three UTC days, so stats read whole days from the rollups
 * of each backend and the partial days around them from the calls.
 *
 * Plan:
 *   same_answers   every case x every reader: SQLite's output == PostgreSQL's
 *   paging         keyset pages (limit, before, after, oldest first) agree
 *   same_cli       every case x the reading commands of the reqlog binary (list --json,
 *                  stats --json, export --format csv; show, stats, ndjson and har
 *                  exports once) with --db FILE and --db postgresql://: the same
 *                  stdout and exit code
 *   same_serve     every case x `reqlog serve` of the binary on each backend (one server
 *                  each): GET /api/requests (limit 500), /api/stats and
 *                  /api/export?format=csv with the case's filters, and a detail, the
 *                  NDJSON and the HAR export once: the same status and body
 *   one_bucket     the store's reqlog_hist_bucket() is store/histogram.h's bucket
 *   same_prune     `reqlog prune --older-than` (a whole day dropped, an edge day cut)
 *                  then `--max-rows`: the same output on both, and the same answers after
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/pg.h"
#include "store/histogram.h"
#include "reqlog.h"
#include "testpg.h"
#include "testutil.h"
#include "testweb.h"

#define NCALLS 60
#define DAY_US (INT64_C(86400) * 1000000)

/* ------------------------------------------------------------------ the calls */

struct call {
  int64_t started_at, duration_us, ttfb_us, req_size, resp_size;
  int status; /* 0: no response */
  const char *method, *path, *key, *error, *source, *error_message, *error_fields, *field;
  char url[160], req_body[200], resp_body[200];
  int resp_binary;
};

static const char *const keys[] = {"\xe2\x80\xa6" "abcd#3f2a9c1e", "\xe2\x80\xa6" "wxyz#00ff00aa"};

static void make_calls(struct call *c, int64_t base) {
  static const int statuses[] = {200, 201, 404, 422, 429, 500, 0, 200, 401, 200};
  static const char *const methods[] = {"GET", "POST", "put", "DELETE"};
  static const char *const paths[] = {"/public/v1/participants/7", "/public/v1/notes",
                                      "/public/v1/groups/3/notes", "/other/50%_off"};
  for (int i = 0; i < NCALLS; i++) {
    struct call *k = &c[i];
    memset(k, 0, sizeof *k);
    /* three UTC days, so the store has three partitions */
    k->started_at = base + (int64_t)(i % 3) * DAY_US + (int64_t)i * 1000003;
    k->status = statuses[i % 10];
    k->method = methods[i % 4];
    k->path = paths[i % 4];
    snprintf(k->url, sizeof k->url, "https://api.example.com%s?page=%d", k->path, i);
    k->duration_us = 1000 + (int64_t)i * 7919 % 300000;
    k->ttfb_us = k->status ? k->duration_us / 2 : 0;
    k->key = i % 5 == 4 ? NULL : keys[i % 2];
    k->error = k->status ? NULL : "connection refused";
    k->source = i % 2 ? "proxy" : "library";
    snprintf(k->req_body, sizeof k->req_body, "{\"email\":\"user%d@example.com\",\"note\":\"%s\"}",
             i, i % 7 == 0 ? "Invalid Quokka" : "plain");
    if (k->status == 422) {
      k->error_message = "The given data was invalid.";
      k->error_fields = "{\"email\":[\"The email field is required.\"]}";
      k->field = "email";
    }
    k->resp_binary = i % 11 == 5;
    snprintf(k->resp_body, sizeof k->resp_body, "{\"id\":%d,\"message\":\"%s\"}", i,
             k->error_message ? k->error_message : "ok");
    k->req_size = (int64_t)strlen(k->req_body);
    k->resp_size = k->resp_binary ? 4 : (int64_t)strlen(k->resp_body);
  }
}

static const unsigned char binary_body[4] = {0xff, 0x00, 0x10, 0x80};

static void load_sqlite(const char *path, const struct call *c) {
  reqlog *r = NULL;
  assert_int_equal(reqlog_open(path, &r, NULL), REQLOG_OK);
  reqlog_close(r);
  sqlite3 *db = tu_db(path);
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(db,
    "INSERT INTO calls(id, started_at, method, url, host, path, status, error, duration_us,"
    " ttfb_us, key, source, request_headers, response_headers, request_size, response_size,"
    " content_type, http_version, error_message, error_fields, request_body, response_body,"
    " origin) VALUES (?1, ?2, ?3, ?4, 'api.example.com', ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
    " '[[\"Accept\",\"application/json\"]]', '[[\"Content-Type\",\"application/json\"]]',"
    " ?12, ?13, 'application/json', '1.1', ?14, ?15, ?16, ?17, 'hostA')", -1, &st, NULL),
    SQLITE_OK);
  tu_exec(db, "BEGIN");
  for (int i = 0; i < NCALLS; i++) {
    const struct call *k = &c[i];
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, i + 1);
    sqlite3_bind_int64(st, 2, k->started_at);
    sqlite3_bind_text(st, 3, k->method, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, k->url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, k->path, -1, SQLITE_STATIC);
    if (k->status)
      sqlite3_bind_int(st, 6, k->status);
    else
      sqlite3_bind_null(st, 6);
    sqlite3_bind_text(st, 7, k->error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, k->duration_us);
    if (k->status)
      sqlite3_bind_int64(st, 9, k->ttfb_us);
    else
      sqlite3_bind_null(st, 9);
    sqlite3_bind_text(st, 10, k->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, k->source, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 12, k->req_size);
    sqlite3_bind_int64(st, 13, k->resp_size);
    sqlite3_bind_text(st, 14, k->error_message, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 15, k->error_fields, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 16, k->req_body, -1, SQLITE_STATIC);
    if (k->resp_binary)
      sqlite3_bind_blob(st, 17, binary_body, sizeof binary_body, SQLITE_STATIC);
    else
      sqlite3_bind_text(st, 17, k->resp_body, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    if (k->field)
      tu_exec(db, "INSERT INTO call_fields(call_id, field) VALUES (last_insert_rowid(), 'email')");
  }
  tu_exec(db, "COMMIT");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

static void load_pg(const char *uri, const struct call *c) {
  reqlog *r = NULL;
  char *cause = NULL;
  reqlog_err err = reqlog_open_readonly(uri, &r, &cause); /* applies schema/pg/ */
  if (err != REQLOG_OK)
    print_error("open %s: %s\n", uri, cause ? cause : "?");
  assert_int_equal(err, REQLOG_OK);
  reqlog_close(r);
  pg_db *db = NULL;
  assert_int_equal(pg_connect(uri, &db, NULL), REQLOG_OK);
  assert_int_equal(pg_partition_ensure(db, c[0].started_at, c[0].started_at + 3 * DAY_US, NULL),
                   REQLOG_OK);
  pg_close(db);
  PGconn *pc = tpg_conn(uri);
  for (int i = 0; i < NCALLS; i++) {
    const struct call *k = &c[i];
    char id[24], at[24], status[16], dur[24], ttfb[24], rq[24], rs[24];
    snprintf(id, sizeof id, "%d", i + 1);
    snprintf(at, sizeof at, "%lld", (long long)k->started_at);
    snprintf(status, sizeof status, "%d", k->status);
    snprintf(dur, sizeof dur, "%lld", (long long)k->duration_us);
    snprintf(ttfb, sizeof ttfb, "%lld", (long long)k->ttfb_us);
    snprintf(rq, sizeof rq, "%lld", (long long)k->req_size);
    snprintf(rs, sizeof rs, "%lld", (long long)k->resp_size);
    const char *v[] = {id, at, k->method, k->url, k->path, k->status ? status : NULL,
                       k->error, dur, k->status ? ttfb : NULL, k->key, k->source, rq, rs,
                       k->error_message, k->error_fields, k->req_body,
                       k->resp_binary ? NULL : k->resp_body,
                       k->resp_binary ? (const char *)binary_body : NULL,
                       k->field ? "{email}" : NULL};
    int lens[19] = {0};
    int fmts[19] = {0};
    lens[17] = sizeof binary_body;
    fmts[17] = 1;
    PGresult *res = PQexecParams(pc,
      "INSERT INTO calls(history_id, spool_id, id, started_at, method, url, host, path,"
      " status, error, duration_us, ttfb_us, key, source, request_headers, response_headers,"
      " request_size, response_size, content_type, http_version, error_message,"
      " error_fields, request_body, response_body, response_body_bin, error_field_list,"
      " origin) VALUES (1, $1, $1, $2, $3, $4, 'api.example.com', $5, $6, $7, $8, $9, $10,"
      " $11, '[[\"Accept\",\"application/json\"]]',"
      " '[[\"Content-Type\",\"application/json\"]]', $12, $13, 'application/json', '1.1',"
      " $14, $15, $16, $17, $18, $19, 'hostA')",
      19, NULL, v, lens, fmts, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
      print_error("insert: %s\n", PQerrorMessage(pc));
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
  }
  PQfinish(pc);
}

/* ------------------------------------------------------------------ reading */

static int collect(void *ctx, const char *data, size_t len) {
  FILE *f = ctx;
  return fwrite(data, 1, len, f) == len ? 0 : 1;
}

/* Everything the readers say for filter F (name=value&name=value) and OPTS, as text. */
static char *read_all(reqlog *r, const char *filter, const reqlog_query_opts *opts) {
  reqlog_filter *f = NULL;
  assert_int_equal(reqlog_filter_new(&f), REQLOG_OK);
  char *spec = strdup(filter);
  for (char *save = NULL, *item = strtok_r(spec, "&", &save); item;
       item = strtok_r(NULL, "&", &save)) {
    char *eq = strchr(item, '=');
    *eq = '\0';
    char *cause = NULL;
    if (reqlog_filter_set(f, item, eq + 1, &cause) != REQLOG_OK)
      print_error("filter %s: %s\n", item, cause);
    assert_null(cause);
  }
  free(spec);
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&text, &size);
  int64_t n = -1;
  assert_int_equal(reqlog_count(r, f, &n, NULL), REQLOG_OK);
  fprintf(out, "count %lld\n", (long long)n);
  reqlog_cursor *c = NULL;
  char *cause = NULL;
  reqlog_err err = reqlog_query(r, f, opts, &c, &cause);
  if (err != REQLOG_OK)
    print_error("query: %s\n", cause);
  assert_int_equal(err, REQLOG_OK);
  cJSON *row = NULL;
  int64_t first = 0;
  while ((err = reqlog_cursor_next(c, &row)) == REQLOG_OK) {
    char *t = cJSON_PrintUnformatted(row);
    fprintf(out, "%s\n", t);
    if (!first)
      first = tu_jint(row, "id");
    free(t);
    cJSON_Delete(row);
  }
  assert_int_equal(err, REQLOG_ERR_DONE);
  reqlog_cursor_free(c);
  if (first) {
    assert_int_equal(reqlog_get(r, first, &row, NULL), REQLOG_OK);
    char *t = cJSON_PrintUnformatted(row);
    fprintf(out, "get %s\n", t);
    free(t);
    cJSON_Delete(row);
  }
  if (!opts) {
    cJSON *st = NULL;
    err = reqlog_stats(r, f, &st, &cause);
    if (err != REQLOG_OK)
      print_error("stats: %s\n", cause);
    assert_int_equal(err, REQLOG_OK);
    /* a relative bound is resolved against each call's own clock */
    if (strstr(filter, "until=7d"))
      cJSON_DeleteItemFromObject(st, "range");
    char *t = cJSON_PrintUnformatted(st);
    fprintf(out, "stats %s\n", t);
    free(t);
    cJSON_Delete(st);
    static const reqlog_export_opts formats[] = {
      {.format = REQLOG_FORMAT_CSV}, {.format = REQLOG_FORMAT_CSV, .with_bodies = 1},
      {.format = REQLOG_FORMAT_NDJSON}, {.format = REQLOG_FORMAT_HAR}};
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
      fflush(out);
      err = reqlog_export(r, f, &formats[i], collect, out, &cause);
      if (err != REQLOG_OK)
        print_error("export: %s\n", cause);
      assert_int_equal(err, REQLOG_OK);
    }
  }
  fclose(out);
  reqlog_filter_free(f);
  return text;
}

/* The table of cases: every filter alone, and some together. */
static const char *const cases[] = {
  "",
  "status=4xx",
  "status=422,error",
  "status=2xx&status=5xx",
  "method=post",
  "method=get,put",
  "path=/public/v1/notes",
  "path=notes",
  "path=/public/*/notes",
  "path=50%_off",
  "host=api.example.com",
  "key=abcd",
  "key=3f2a9c1e",
  "min_ms=100",
  "q=quokka",
  "q=invalid example",
  "q=id\":1",
  "field=email",
  "status=422&field=email&method=put",
  "path=/nowhere",
};

struct fixture {
  tpg *pg;
  char *dir, *sqlite_path, *uri;
  reqlog *lite, *store;
  int64_t base;
  char day0[32]; /* YYYYMMDD of the oldest day */
  pid_t serve[2]; /* same_serve's servers (SQLite, PostgreSQL), ended by teardown */
};

static int setup(void **state) {
  struct fixture *fx = calloc(1, sizeof *fx);
  fx->pg = tpg_start();
  if (!fx->pg) {
    free(fx);
    return -1;
  }
  fx->dir = tu_tmpdir();
  fx->sqlite_path = tu_path(fx->dir, "history.db");
  fx->uri = tpg_createdb(fx->pg, "backends");
  /* whole days before now, so since=7d-style bounds see them all */
  fx->base = (tu_now_us() / DAY_US - 5) * DAY_US + 3600 * INT64_C(1000000);
  char name[32];
  pg_partition_name(fx->base / DAY_US, name);
  snprintf(fx->day0, sizeof fx->day0, "%s", name + strlen("calls_"));
  struct call *c = calloc(NCALLS, sizeof *c);
  make_calls(c, fx->base);
  load_sqlite(fx->sqlite_path, c);
  load_pg(fx->uri, c);
  free(c);
  assert_int_equal(reqlog_open_readonly(fx->sqlite_path, &fx->lite, NULL), REQLOG_OK);
  assert_int_equal(reqlog_open_readonly(fx->uri, &fx->store, NULL), REQLOG_OK);
  *state = fx;
  return 0;
}

/* Ends the servers of same_serve still running. */
static void stop_servers(struct fixture *fx) {
  for (int i = 0; i < 2; i++) {
    if (fx->serve[i] > 0) {
      kill(fx->serve[i], SIGTERM);
      tu_wait_exit(fx->serve[i]);
      fx->serve[i] = 0;
    }
  }
}

static int teardown(void **state) {
  struct fixture *fx = *state;
  stop_servers(fx);
  reqlog_close(fx->lite);
  reqlog_close(fx->store);
  tpg_stop(fx->pg);
  tu_rmtree(fx->dir);
  free(fx->dir);
  free(fx->sqlite_path);
  free(fx->uri);
  free(fx);
  return 0;
}

static void compare(struct fixture *fx, const char *filter, const reqlog_query_opts *opts,
                    const char *label) {
  char *a = read_all(fx->lite, filter, opts);
  char *b = read_all(fx->store, filter, opts);
  if (strcmp(a, b) != 0) {
    size_t i = 0;
    while (a[i] && a[i] == b[i])
      i++;
    size_t from = i > 120 ? i - 120 : 0;
    print_error("%s [%s]: differ at byte %zu\n  sqlite: %.240s\n  pg:     %.240s\n", label,
                filter, i, a + from, b + from);
  }
  assert_string_equal(a, b);
  free(a);
  free(b);
}

static void same_answers(void **state) {
  struct fixture *fx = *state;
  char since[80];
  char iso[40];
  tu_iso_us(fx->base + DAY_US, iso);
  snprintf(since, sizeof since, "since=%s&until=7d", iso);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    compare(fx, cases[i], NULL, "filter");
  compare(fx, since, NULL, "filter");
  /* the table is not vacuous: most cases match rows, one matches none */
  char *all = read_all(fx->store, "", NULL);
  assert_non_null(strstr(all, "count 60\n"));
  assert_non_null(strstr(all, "{\"base64\":\"/wAQgA==\"}"));
  /* stats of all: the middle day from the rollups (bucketed latencies) */
  assert_non_null(strstr(all, "stats {\"total\":60,"));
  assert_non_null(strstr(all, "\"latency_exact\":false"));
  free(all);
  all = read_all(fx->store, since, NULL);
  assert_non_null(strstr(all, "\"latency_exact\":true"));
  free(all);
  print_message("%zu filter cases: count, rows, get, stats, CSV, CSV with bodies, NDJSON and HAR "
                "are byte for byte the same from SQLite and PostgreSQL\n",
                sizeof cases / sizeof cases[0] + 1);
}

static void paging(void **state) {
  struct fixture *fx = *state;
  const reqlog_query_opts pages[] = {
    {.limit = 7}, {.limit = 7, .before_id = 30}, {.limit = 5, .after_id = 50},
    {.limit = 9, .oldest_first = 1}, {.limit = 4, .after_id = 10, .oldest_first = 1},
    {.with_bodies = 1, .limit = 3},
  };
  for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
    compare(fx, "", &pages[i], "page");
    compare(fx, "status=4xx,error", &pages[i], "page");
  }
  print_message("keyset pages (limit, before, after, oldest first, bodies) agree\n");
}

/* ------------------------------------------------------------------ the CLI */

/* `reqlog --db DB ARGS... FLAGS` where FLAGS are FILTER's name=value items as --name value;
 * stdout after the exit code. A stats --json answer loses its "range" when the filter
 * has a relative bound (resolved against each run's own clock). */
static char *cli(const char *db, const char *const *args, const char *filter) {
  const char *argv[64];
  int n = 0;
  argv[n++] = "--db";
  argv[n++] = db;
  for (; *args; args++)
    argv[n++] = *args;
  char *spec = strdup(filter);
  char flags[16][40];
  int nf = 0;
  for (char *save = NULL, *item = strtok_r(spec, "&", &save); item;
       item = strtok_r(NULL, "&", &save)) {
    char *eq = strchr(item, '=');
    *eq = '\0';
    snprintf(flags[nf], sizeof flags[nf], "--%s", item);
    argv[n++] = flags[nf++];
    argv[n++] = eq + 1;
  }
  argv[n] = NULL;
  char *out = NULL, *err = NULL;
  int rc = tu_run(argv, NULL, NULL, &out, &err);
  if (strstr(filter, "until=7d") && strcmp(argv[2], "stats") == 0 && rc == 0) {
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    cJSON_DeleteItemFromObject(j, "range");
    free(out);
    out = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
  }
  char *text = NULL;
  assert_true(asprintf(&text, "exit %d\n%s", rc, out) > 0);
  free(out);
  free(err);
  free(spec);
  return text;
}

static void compare_cli(struct fixture *fx, const char *const *args, const char *filter) {
  char *a = cli(fx->sqlite_path, args, filter);
  char *b = cli(fx->uri, args, filter);
  if (strcmp(a, b) != 0)
    print_error("reqlog %s [%s]:\n  sqlite: %.300s\n  pg:     %.300s\n", args[0], filter, a, b);
  assert_string_equal(a, b);
  assert_non_null(strstr(a, "exit 0\n"));
  free(a);
  free(b);
}

static void same_cli(void **state) {
  struct fixture *fx = *state;
  char since[80], iso[40];
  tu_iso_us(fx->base + DAY_US, iso);
  snprintf(since, sizeof since, "since=%s&until=7d", iso);
  for (size_t i = 0; i <= sizeof cases / sizeof cases[0]; i++) {
    const char *c = i < sizeof cases / sizeof cases[0] ? cases[i] : since;
    compare_cli(fx, ARGS("list", "--json"), c);
    compare_cli(fx, ARGS("stats", "--json"), c);
    compare_cli(fx, ARGS("export", "--format", "csv"), c);
  }
  compare_cli(fx, ARGS("list"), "");
  compare_cli(fx, ARGS("show", "7", "--json"), "");
  compare_cli(fx, ARGS("show", "7"), "");
  compare_cli(fx, ARGS("stats"), "");
  compare_cli(fx, ARGS("export", "--format", "ndjson"), "");
  compare_cli(fx, ARGS("export", "--format", "har"), "");
  compare_cli(fx, ARGS("export", "--format", "csv", "--bodies"), "");
  print_message("%zu filter cases x list --json, stats --json, export csv; list, show, "
                "stats, ndjson, har once: the same stdout and exit code with --db FILE and "
                "--db postgresql://\n", sizeof cases / sizeof cases[0] + 1);
}

/* stats --storage on both: the same calls; each backend's parts (SQLite's dbstat,
 * PostgreSQL's relation sizes), none empty, within the file or database. */
static void storage_both(void **state) {
  struct fixture *fx = *state;
  const char *dbs[2] = {fx->sqlite_path, fx->uri};
  double calls[2];
  for (int k = 0; k < 2; k++) {
    char *text = cli(dbs[k], ARGS("stats", "--storage", "--json"), "");
    assert_non_null(strstr(text, "exit 0\n"));
    cJSON *s = cJSON_Parse(strchr(text, '\n') + 1);
    assert_non_null(s);
    calls[k] = tu_num(s, "calls");
    const cJSON *parts = cJSON_GetObjectItemCaseSensitive(s, "parts");
    assert_true(tu_num(parts, "calls") > 0);
    assert_true(tu_num(parts, "indexes") > 0);
    assert_true(tu_num(parts, "calls") + tu_num(parts, "indexes") <= tu_num(s, "file_bytes"));
    cJSON_Delete(s);
    free(text);
  }
  assert_true(calls[0] > 0);
  assert_true(calls[0] == calls[1]);
  print_message("stats --storage: %.0f calls on both, each backend's parts\n", calls[0]);
}

/* ------------------------------------------------------------------ the dashboard */

/* GET BASE+PATH: "status N\nBODY", with a stats answer's "range" taken out when
 * DROP_RANGE (a relative bound is resolved against each server's own clock). */
static char *web_answer(const char *base, const char *path, int drop_range) {
  tw_reply rep = tw_http_at(base, "GET", path, NULL, NULL, 0);
  char *body = rep.body ? strdup(rep.body) : strdup("");
  if (drop_range && rep.status == 200) {
    cJSON *j = cJSON_Parse(body);
    assert_non_null(j);
    cJSON_DeleteItemFromObject(j, "range");
    free(body);
    body = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
  }
  char *text = NULL;
  assert_true(asprintf(&text, "status %ld\n%s", rep.status, body) > 0);
  free(body);
  tw_resp_free(&rep);
  return text;
}

/* PATH asked of both servers: the same answer, a 200; the SQLite one is returned. */
static char *compare_web(char base[2][128], const char *path, int drop_range) {
  char *a = web_answer(base[0], path, drop_range);
  char *b = web_answer(base[1], path, drop_range);
  if (strcmp(a, b) != 0)
    print_error("GET %s:\n  sqlite: %.300s\n  pg:     %.300s\n", path, a, b);
  assert_string_equal(a, b);
  if (strncmp(a, "status 200\n", 11) != 0)
    fail_msg("GET %s: %.300s", path, a);
  free(b);
  return a;
}

static void same_serve(void **state) {
  struct fixture *fx = *state;
  char base[2][128];
  const char *dbs[2] = {fx->sqlite_path, fx->uri};
  for (int i = 0; i < 2; i++) {
    char name[32];
    snprintf(name, sizeof name, "serve-%d.log", i);
    char *log = tu_path(fx->dir, name);
    fx->serve[i] = tw_serve_bin(dbs[i], log, base[i], sizeof base[i], NULL);
    free(log);
  }
  char since[80], iso[40];
  tu_iso_us(fx->base + DAY_US, iso);
  snprintf(since, sizeof since, "since=%s&until=7d", iso);
  int answered = 0;
  for (size_t i = 0; i <= sizeof cases / sizeof cases[0]; i++) {
    const char *c = i < sizeof cases / sizeof cases[0] ? cases[i] : since;
    char *q = tw_query_of(c);
    const char *amp = *q ? "&" : "";
    char path[600];
    snprintf(path, sizeof path, "/api/requests?limit=500%s%s", amp, q);
    char *rows = compare_web(base, path, 0);
    snprintf(path, sizeof path, "/api/stats%s%s", *q ? "?" : "", q);
    free(compare_web(base, path, strstr(c, "until=7d") != NULL));
    snprintf(path, sizeof path, "/api/export?format=csv%s%s", amp, q);
    char *csv = compare_web(base, path, 0);
    /* not vacuous: as many rows as the library counts (all 60 unfiltered), and CSV */
    reqlog_filter *f = tw_filter_of(c);
    int64_t n = -1;
    assert_int_equal(reqlog_count(fx->lite, f, &n, NULL), REQLOG_OK);
    reqlog_filter_free(f);
    cJSON *j = cJSON_Parse(strchr(rows, '\n') + 1);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "items")), n);
    cJSON_Delete(j);
    if (!*c)
      assert_int_equal(n, NCALLS);
    assert_non_null(strstr(csv, "id,started_at,method,url,status"));
    answered += n > 0;
    free(rows);
    free(csv);
    free(q);
  }
  assert_true(answered >= 15);
  free(compare_web(base, "/api/requests/7", 0));
  free(compare_web(base, "/api/export?format=ndjson", 0));
  free(compare_web(base, "/api/export?format=har", 0));
  free(compare_web(base, "/api/export?format=csv&bodies=1", 0));
  stop_servers(fx);
  print_message("%zu filter cases (%d of them match calls) x GET /api/requests, /api/stats, "
                "/api/export?format=csv; a detail, ndjson, har and csv with bodies once: the "
                "same answers from `reqlog serve` on the SQLite file and on the store\n",
                sizeof cases / sizeof cases[0] + 1, answered);
}

static void one_bucket(void **state) {
  struct fixture *fx = *state;
  PGconn *c = tpg_conn(fx->uri);
  int64_t v = -3;
  int n = 0;
  for (; v < INT64_C(4000000000000000000) && v >= -3; v = v < 1000 ? v + 1 : v + v / 7 + 3, n++)
    if (tpg_intf(c, "SELECT reqlog_hist_bucket(%lld)", (long long)v) != histogram_bucket(v))
      fail_msg("bucket of %lld: pg %lld, C %d", (long long)v,
               (long long)tpg_intf(c, "SELECT reqlog_hist_bucket(%lld)", (long long)v),
               histogram_bucket(v));
  PQfinish(c);
  print_message("reqlog_hist_bucket() == histogram_bucket() for %d durations\n", n);
}

static void same_prune(void **state) {
  struct fixture *fx = *state;
  /* the calls lie on days base, base + 1 and base + 2 (today - 5 .. today - 3) */
  const char *const steps[][3] = {{"prune", "--older-than", "4d"}, {"prune", "--max-rows", "15"}};
  for (int i = 0; i < 2; i++) {
    const char *args[] = {steps[i][0], steps[i][1], steps[i][2], NULL};
    char *a = cli(fx->sqlite_path, args, "");
    char *b = cli(fx->uri, args, "");
    print_message("%s %s: sqlite and pg say %s", steps[i][1], steps[i][2], strchr(a, '\n') + 1);
    assert_string_equal(a, b);
    assert_null(strstr(a, "pruned 0 calls"));
    free(a);
    free(b);
    compare(fx, "", NULL, "after prune");
    compare(fx, "status=4xx", NULL, "after prune");
  }
  char *all = read_all(fx->store, "", NULL);
  assert_non_null(strstr(all, "count 15\n"));
  free(all);
  PGconn *c = tpg_conn(fx->uri);
  /* the oldest day went whole: its partition is gone, and so are its rollups */
  assert_int_equal(tpg_intf(c, "SELECT count(*) FROM pg_class WHERE relname = 'calls_%s'", fx->day0),
                   0);
  assert_int_equal(tpg_intf(c, "SELECT count(*) FROM stats_day WHERE day <= %lld",
                            (long long)(fx->base / DAY_US)), 0);
  assert_int_equal(tpg_int(c, "SELECT sum(n) FROM stats_day"), 15);
  PQfinish(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(same_answers),
    cmocka_unit_test(paging),
    cmocka_unit_test(same_cli),
    cmocka_unit_test(storage_both),
    cmocka_unit_test(same_serve),
    cmocka_unit_test(one_bucket),
    cmocka_unit_test(same_prune),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
