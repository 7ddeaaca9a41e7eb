/* test_backends.c: the reading side over both backends from one table of cases. The same
 * calls are loaded into a SQLite history (the library's own schema) and into a team store
 * on a throwaway PostgreSQL cluster (tests/lib/testpg.c; schema/pg/ applied by opening
 * it), in the same order, so both give the calls the same ids. Then every filter case
 * of the table is read from both through the public functions (reqlog_query rows as
 * JSON, reqlog_count, reqlog_get, reqlog_stats, reqlog_problems, reqlog_export CSV / CSV with bodies /
 * NDJSON / HAR) and the two outputs must be byte for byte equal, and not empty where
 * rows match. The calls span three UTC days and hours of each, so stats read whole
 * days from the rollups of each backend, whole hours from the store's hourly ones, and
 * the rest from the calls; time ranges that cut hours are compared too.
 *
 * Plan:
 *   same_answers   every case x every reader: SQLite's output == PostgreSQL's (with
 *                  notes, tags and pins set through reqlog_annotate on both)
 *   paging         keyset pages (limit, before, after, oldest first) agree
 *   same_cli       every case x the reading commands of the reqlog binary (list --json,
 *                  stats --json, export --format csv; show, stats, ndjson and har
 *                  exports once) with --db FILE and --db postgresql://: the same
 *                  stdout and exit code
 *   same_serve     every case x `reqlog serve` of the binary on each backend (one server
 *                  each): GET /api/requests (limit 500), /api/stats and
 *                  /api/export?format=csv with the case's filters, and a detail, the
 *                  NDJSON and the HAR export once: the same status and body
 *   same_mock      every case x a mock of each backend (reqlog_mock_load): every call's
 *                  own request and its path with another id (a template match) answered
 *                  the same (kind, id, status, headers, body), and the same closest calls;
 *                  then `reqlog mock` of the binary on each: the same answers over HTTP
 *   one_bucket     the store's reqlog_hist_bucket() is store/histogram.h's bucket
 *   late_rows      a new day (its newest page read from its partition alone) and a call
 *                  shipped late into an old hour: pages and stats agree, and every
 *                  rollup equals the count made from the calls
 *   same_prune     `reqlog prune --older-than` (a whole day dropped, an edge day cut)
 *                  then `--max-rows`, keeping the pinned calls, then both again with
 *                  --include-pinned: the same output on both, the same answers after,
 *                  and no note left of a deleted call
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
#define HOUR_US (INT64_C(3600) * 1000000)
#define DAY_US (24 * HOUR_US)
#define MIN_US (INT64_C(60) * 1000000)
#define CALL_GAP_US INT64_C(601000003)

/* ------------------------------------------------------------------ the calls */

struct call {
  int64_t started_at, duration_us, ttfb_us, req_size, resp_size;
  int status; /* 0: no response */
  const char *method, *path, *key, *error, *source, *error_message, *error_fields, *field;
  char url[160], req_body[200], resp_body[200];
  char request_id[16]; /* "" for none */
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
    /* three UTC days, so the store has three partitions; about ten minutes apart, so
     * each day's calls span hours (stats read whole hours from the store's rollups) */
    k->started_at = base + (int64_t)(i % 3) * DAY_US + (int64_t)i * CALL_GAP_US;
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
    if (i % 3 == 0) /* the API's request id: two values, ten calls each */
      snprintf(k->request_id, sizeof k->request_id, "req-%d", i % 6);
    k->req_size = (int64_t)strlen(k->req_body);
    k->resp_size = k->resp_binary ? 4 : (int64_t)strlen(k->resp_body);
  }
}

static const unsigned char binary_body[4] = {0xff, 0x00, 0x10, 0x80};

/* Inserts the N calls C into the SQLite history at PATH with ids FIRST_ID, FIRST_ID + 1... */
static void insert_sqlite(const char *path, const struct call *c, int n, int first_id) {
  sqlite3 *db = tu_db(path);
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(db,
    "INSERT INTO calls(id, started_at, method, url, host, path, status, error, duration_us,"
    " ttfb_us, key, source, request_headers, response_headers, request_size, response_size,"
    " content_type, http_version, error_message, error_fields, request_body, response_body,"
    " origin, request_id) VALUES (?1, ?2, ?3, ?4, 'api.example.com', ?5, ?6, ?7, ?8, ?9, ?10,"
    " ?11, '[[\"Accept\",\"application/json\"]]', '[[\"Content-Type\",\"application/json\"]]',"
    " ?12, ?13, 'application/json', '1.1', ?14, ?15, ?16, ?17, 'hostA', ?18)", -1, &st, NULL),
    SQLITE_OK);
  tu_exec(db, "BEGIN");
  for (int i = 0; i < n; i++) {
    const struct call *k = &c[i];
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, first_id + i);
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
    if (k->request_id[0])
      sqlite3_bind_text(st, 18, k->request_id, -1, SQLITE_STATIC);
    else
      sqlite3_bind_null(st, 18);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    if (k->field)
      tu_exec(db, "INSERT INTO call_fields(call_id, field) VALUES (last_insert_rowid(), 'email')");
  }
  tu_exec(db, "COMMIT");
  tu_exec(db, "UPDATE calls SET replay_of = 2 WHERE id IN (9, 33)"); /* two replays of 2 */
  sqlite3_finalize(st);
  sqlite3_close(db);
}

static void load_sqlite(const char *path, const struct call *c) {
  reqlog *r = NULL;
  assert_int_equal(reqlog_open(path, &r, NULL), REQLOG_OK);
  reqlog_close(r);
  insert_sqlite(path, c, NCALLS, 1);
}

/* Inserts the N calls C into the store at URI with ids FIRST_ID, FIRST_ID + 1..., one
 * INSERT each (as many statements as a shipper's batches would be), into day partitions
 * made first. */
static void insert_pg(const char *uri, const struct call *c, int n, int first_id) {
  pg_db *db = NULL;
  assert_int_equal(pg_connect(uri, &db, NULL), REQLOG_OK);
  for (int i = 0; i < n; i++)
    assert_int_equal(pg_partition_ensure(db, c[i].started_at, c[i].started_at, NULL), REQLOG_OK);
  pg_close(db);
  PGconn *pc = tpg_conn(uri);
  for (int i = 0; i < n; i++) {
    const struct call *k = &c[i];
    char id[24], at[24], status[16], dur[24], ttfb[24], rq[24], rs[24];
    snprintf(id, sizeof id, "%d", first_id + i);
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
                       k->field ? "{email}" : NULL, k->request_id[0] ? k->request_id : NULL};
    int lens[20] = {0};
    int fmts[20] = {0};
    lens[17] = sizeof binary_body;
    fmts[17] = 1;
    PGresult *res = PQexecParams(pc,
      "INSERT INTO calls(history_id, spool_id, id, started_at, method, url, host, path,"
      " status, error, duration_us, ttfb_us, key, source, request_headers, response_headers,"
      " request_size, response_size, content_type, http_version, error_message,"
      " error_fields, request_body, response_body, response_body_bin, error_field_list,"
      " origin, request_id) VALUES (1, $1, $1, $2, $3, $4, 'api.example.com', $5, $6, $7, $8,"
      " $9, $10, $11, '[[\"Accept\",\"application/json\"]]',"
      " '[[\"Content-Type\",\"application/json\"]]', $12, $13, 'application/json', '1.1',"
      " $14, $15, $16, $17, $18, $19, 'hostA', $20)",
      20, NULL, v, lens, fmts, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
      print_error("insert: %s\n", PQerrorMessage(pc));
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
  }
  PQclear(PQexec(pc, "UPDATE calls SET replay_of = 2 WHERE id IN (9, 33)"));
  PQfinish(pc);
}

static void load_pg(const char *uri, const struct call *c) {
  reqlog *r = NULL;
  char *cause = NULL;
  reqlog_err err = reqlog_open_readonly(uri, &r, &cause); /* applies schema/pg/ */
  if (err != REQLOG_OK)
    print_error("open %s: %s\n", uri, cause ? cause : "?");
  assert_int_equal(err, REQLOG_OK);
  reqlog_close(r);
  insert_pg(uri, c, NCALLS, 1);
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
    err = reqlog_problems(r, f, &st, &cause);
    if (err != REQLOG_OK)
      print_error("problems: %s\n", cause);
    assert_int_equal(err, REQLOG_OK);
    if (strstr(filter, "until=7d"))
      cJSON_DeleteItemFromObject(st, "range");
    t = cJSON_PrintUnformatted(st);
    fprintf(out, "problems %s\n", t);
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
  "request_id=req-3",
  "request_id=req-0&status=4xx",
  "request_id=req-9",
  "tag=bug-1",
  "tag=none-such",
  "pinned=1",
  "pinned=0",
  "tag=bug-1&pinned=1&status=4xx",
  "replay_of=2",
  "replay_of=3",
};

/* Notes, tags and pins (reqlog_annotate), the same on both backends: id 4 (the oldest day)
 * and 45 pinned, so prune keeps them; tags and notes on others. */
static const struct {
  int64_t id;
  reqlog_annotation a;
} notes[] = {
  {4, {.tags = "bug-1,day0", .pin = 1, .note = "the 422 of ticket 4411"}},
  {7, {.tags = "bug-1", .pin = -1, .note = "line one\nline \"two\", =1+1"}},
  {30, {.tags = "zeta,bug-1", .pin = -1}},
  {30, {.tags = "bug-1", .tags_op = REQLOG_TAGS_REMOVE, .pin = -1}},
  {45, {.pin = 1}},
};

static void annotate(reqlog *r) {
  for (size_t i = 0; i < sizeof notes / sizeof notes[0]; i++) {
    char *cause = NULL;
    reqlog_err err = reqlog_annotate(r, notes[i].id, &notes[i].a, &cause);
    if (err != REQLOG_OK)
      print_error("annotate %lld: %s\n", (long long)notes[i].id, cause ? cause : "?");
    assert_int_equal(err, REQLOG_OK);
  }
  /* refused: no such call, a bad tag, a control character in a note */
  reqlog_annotation pin = {.pin = 1}, bad_tag = {.tags = "a b", .pin = -1},
                    bad_note = {.note = "bell\a", .pin = -1};
  assert_int_equal(reqlog_annotate(r, 999, &pin, NULL), REQLOG_ERR_NOTFOUND);
  assert_int_equal(reqlog_annotate(r, 7, &bad_tag, NULL), REQLOG_ERR_ARG);
  assert_int_equal(reqlog_annotate(r, 7, &bad_note, NULL), REQLOG_ERR_ARG);
}

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
  reqlog *w = NULL;
  assert_int_equal(reqlog_open(fx->sqlite_path, &w, NULL), REQLOG_OK);
  annotate(w);
  reqlog_close(w);
  assert_int_equal(reqlog_open_readonly(fx->sqlite_path, &fx->lite, NULL), REQLOG_OK);
  assert_int_equal(reqlog_open_readonly(fx->uri, &fx->store, NULL), REQLOG_OK);
  annotate(fx->store);
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

/* Time ranges that cut hours (and days) of the calls: stats read the whole hours inside
 * from the store's hourly rollups, the whole days from its daily ones and the cut hours
 * at both ends from the calls; SQLite reads its whole days from its rollups and the
 * rest from the calls. */
#define NRANGES 6
static void range_cases(const struct fixture *fx, char out[NRANGES][100]) {
  static const int64_t bounds[NRANGES][2] = {
    /* one day: whole hours inside, both ends cut */
    {DAY_US + 25 * MIN_US + 3, DAY_US + 7 * HOUR_US + 10 * MIN_US},
    /* across days: a whole day, whole hours on each side of it, cut hours at the ends */
    {30 * MIN_US, 2 * DAY_US + 3 * HOUR_US + 20 * MIN_US},
    /* no whole hour: exact latencies */
    {DAY_US + 5 * MIN_US, DAY_US + 50 * MIN_US},
    /* hour bounds exactly */
    {2 * HOUR_US, DAY_US + 5 * HOUR_US},
    /* from before the first call to after the last day's */
    {-HOUR_US, 3 * DAY_US},
    /* bounds in days whose calls all lie outside: the edges are in the day between */
    {12 * HOUR_US, 2 * DAY_US},
  };
  for (int i = 0; i < NRANGES; i++) {
    char a[40], b[40];
    tu_iso_us(fx->base + bounds[i][0], a);
    tu_iso_us(fx->base + bounds[i][1], b);
    snprintf(out[i], 100, "since=%s&until=%s", a, b);
  }
}

/* The stats of every range case agree on both backends (and the rows, exports...). */
static void compare_ranges(struct fixture *fx, const char *label) {
  char ranges[NRANGES][100];
  range_cases(fx, ranges);
  for (int i = 0; i < NRANGES; i++)
    compare(fx, ranges[i], NULL, label);
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
  compare_ranges(fx, "range");
  char ranges[NRANGES][100];
  range_cases(fx, ranges);
  char *r = read_all(fx->store, ranges[1], NULL);
  assert_non_null(strstr(r, "\"latency_exact\":false"));
  assert_null(strstr(r, "count 0\n"));
  free(r);
  r = read_all(fx->store, ranges[2], NULL);
  assert_non_null(strstr(r, "\"latency_exact\":true"));
  assert_null(strstr(r, "count 0\n"));
  free(r);
  /* the table is not vacuous: most cases match rows, one matches none */
  char *all = read_all(fx->store, "", NULL);
  assert_non_null(strstr(all, "count 60\n"));
  assert_non_null(strstr(all, "{\"base64\":\"/wAQgA==\"}"));
  /* stats of all: the middle day from the rollups (bucketed latencies) */
  assert_non_null(strstr(all, "stats {\"total\":60,"));
  assert_non_null(strstr(all, "\"latency_exact\":false"));
  /* the notes were read: the row model and the CSV carry them */
  assert_non_null(strstr(all, "\"pinned\":true,\"tags\":[\"bug-1\",\"day0\"],\"note\":\"the 422 of ticket 4411\""));
  assert_non_null(strstr(all, "\"tags\":[\"zeta\"],\"note\":null"));
  assert_non_null(strstr(all, ",origin,request_id,tags,note\r\n"));
  free(all);
  all = read_all(fx->store, "tag=bug-1", NULL);
  assert_non_null(strstr(all, "count 2\n"));
  free(all);
  all = read_all(fx->lite, "pinned=1", NULL);
  assert_non_null(strstr(all, "count 2\n"));
  free(all);
  all = read_all(fx->store, "replay_of=2", NULL);
  assert_non_null(strstr(all, "count 2\n"));
  assert_non_null(strstr(all, "\"replay_of\":2,"));
  free(all);
  all = read_all(fx->store, since, NULL);
  assert_non_null(strstr(all, "\"latency_exact\":true"));
  free(all);
  print_message("%zu filter cases and %d time ranges cutting hours: count, rows, get, stats,"
                " CSV, CSV with bodies, NDJSON and HAR are byte for byte the same from SQLite"
                " and PostgreSQL\n", sizeof cases / sizeof cases[0] + 1, NRANGES);
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
  /* the notes commands: the same answers, and the same state after, on both */
  compare_cli(fx, ARGS("show", "4"), "");
  compare_cli(fx, ARGS("note", "10", "from the CLI"), "");
  compare_cli(fx, ARGS("tag", "10", "cli,zeta"), "");
  compare_cli(fx, ARGS("tag", "10", "zeta", "--remove"), "");
  compare_cli(fx, ARGS("pin", "10"), "");
  compare_cli(fx, ARGS("unpin", "10"), "");
  compare_cli(fx, ARGS("note", "10", "--clear"), "");
  compare_cli(fx, ARGS("tag", "10", "", "--set"), "");
  compare_cli(fx, ARGS("list", "--json", "--tag", "cli"), "");
  char *a = cli(fx->sqlite_path, ARGS("show", "10", "--json"), "");
  assert_non_null(strstr(a, "\"pinned\":\tfalse,\n\t\"tags\":\t[],\n\t\"note\":\tnull"));
  free(a);
  a = cli(fx->uri, ARGS("tag", "10", "not a tag"), "");
  assert_non_null(strstr(a, "exit 2\n"));
  free(a);
  a = cli(fx->uri, ARGS("pin", "999"), "");
  assert_non_null(strstr(a, "exit 5\n"));
  free(a);
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

/* ------------------------------------------------------------------ the mock */

/* The request of call I of the table: its method, its path (or, with OTHER_ID, the path
 * with another id, which only a template can match), its query and its body. */
static reqlog_mock_request mock_request(const struct call *c, int i, int other_id,
                                        char query[24]) {
  static const char *const other[] = {"/public/v1/participants/70", "/public/v1/notes",
                                      "/public/v1/groups/31/notes", "/other/50%_off"};
  snprintf(query, 24, "page=%d", i);
  reqlog_mock_request q = {c[i].method, other_id ? other[i % 4] : c[i].path, query,
                           c[i].req_body, strlen(c[i].req_body)};
  return q;
}

/* What a mock of R with filter FILTER answers to every call's request (and its template
 * twin), as text; the closest calls of a request nothing matches. */
static char *mock_text(reqlog *r, const char *filter, const struct call *c) {
  reqlog_filter *f = tw_filter_of(filter);
  reqlog_mock *m = NULL;
  char *cause = NULL;
  reqlog_err err = reqlog_mock_load(r, f, &m, &cause);
  if (err != REQLOG_OK)
    fail_msg("mock [%s]: %s", filter, cause ? cause : reqlog_strerror(err));
  reqlog_filter_free(f);
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  fprintf(out, "size %zu\n", reqlog_mock_size(m));
  for (int i = 0; i < NCALLS; i++) {
    for (int other_id = 0; other_id < 2; other_id++) {
      char query[24];
      reqlog_mock_request q = mock_request(c, i, other_id, query);
      const reqlog_mock_call *call = NULL;
      reqlog_mock_match_kind kind = reqlog_mock_match(m, &q, &call);
      fprintf(out, "%s %s?%s: %d", q.method, q.path, q.query, (int)kind);
      if (call) {
        fprintf(out, " #%lld %d %s %s %s", (long long)call->id, call->status, call->method,
                call->url, call->tpl);
        for (size_t h = 0; h < call->nheaders; h++)
          fprintf(out, " [%s: %s]", call->headers[h].name, call->headers[h].value);
        fprintf(out, " body %zu:", call->body_len);
        for (size_t b = 0; b < call->body_len; b++)
          fprintf(out, "%02x", call->body[b]);
      }
      fputc('\n', out);
    }
  }
  reqlog_mock_request none = {"PATCH", "/public/v1/participants/7", "page=999", NULL, 0};
  const reqlog_mock_call *near[5];
  size_t n = reqlog_mock_closest(m, &none, near, 5);
  fputs("closest", out);
  for (size_t i = 0; i < n; i++)
    fprintf(out, " #%lld", (long long)near[i]->id);
  fputc('\n', out);
  fclose(out);
  reqlog_mock_free(m);
  return text;
}

/* "status N\nX-Reqlog-Mock-Id: ID\nBODY" of METHOD BASE+PATH with BODY. */
static char *mock_answer(const char *base, const char *method, const char *path,
                         const char *body) {
  tw_reply rep = tw_http_at(base, method, path, NULL, body, body ? strlen(body) : 0);
  char *id = tw_header(&rep, "X-Reqlog-Mock-Id");
  char *text = NULL;
  assert_true(asprintf(&text, "status %ld\nid %s\n%s", rep.status, id ? id : "-", rep.body) > 0);
  free(id);
  tw_resp_free(&rep);
  return text;
}

static void same_mock(void **state) {
  struct fixture *fx = *state;
  struct call *c = calloc(NCALLS, sizeof *c);
  make_calls(c, fx->base);
  int served = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *a = mock_text(fx->lite, cases[i], c);
    char *b = mock_text(fx->store, cases[i], c);
    if (strcmp(a, b) != 0)
      print_error("mock [%s]:\n  sqlite: %.600s\n  pg:     %.600s\n", cases[i], a, b);
    assert_string_equal(a, b);
    served += strncmp(a, "size 0\n", 7) != 0;
    if (!*cases[i]) { /* not vacuous: exact and template answers, and closest calls */
      assert_non_null(strstr(a, ": 1 #"));
      assert_non_null(strstr(a, ": 2 #"));
      assert_non_null(strstr(a, "closest #"));
      assert_non_null(strstr(a, "body 4:ff001080")); /* a binary body */
    }
    free(a);
    free(b);
  }
  assert_true(served >= 15);
  /* the binary: `reqlog mock` on the file and on the store */
  char base[2][160];
  const char *dbs[2] = {fx->sqlite_path, fx->uri};
  pid_t pid[2];
  for (int i = 0; i < 2; i++) {
    char name[32];
    snprintf(name, sizeof name, "mock-%d.log", i);
    char *log = tu_path(fx->dir, name);
    pid[i] = tw_mock_bin(dbs[i], NULL, log, base[i], sizeof base[i]);
    free(log);
  }
  const char *const asks[][4] = {
    {"GET", "/public/v1/participants/7?page=0", c[0].req_body, "status 200\nid 1\n"},
    {"POST", "/public/v1/notes?page=1", c[1].req_body, "status 201\nid 2\n"},
    {"GET", "/public/v1/participants/12?page=0", c[0].req_body, "status 200\nid 1\n"},
    {"GET", "/public/v1/participants/7?page=1", NULL, "status 404\nid -\n"},
  };
  for (size_t i = 0; i < sizeof asks / sizeof asks[0]; i++) {
    char *a = mock_answer(base[0], asks[i][0], asks[i][1], asks[i][2]);
    char *b = mock_answer(base[1], asks[i][0], asks[i][1], asks[i][2]);
    assert_string_equal(a, b);
    if (strncmp(a, asks[i][3], strlen(asks[i][3])) != 0)
      fail_msg("%s %s: want %s, got %.300s", asks[i][0], asks[i][1], asks[i][3], a);
    free(a);
    free(b);
  }
  for (int i = 0; i < 2; i++) {
    kill(pid[i], SIGTERM);
    assert_int_equal(tu_wait_exit(pid[i]), 0);
  }
  free(c);
  print_message("%zu filter cases (%d serve calls) x every call's request and its template "
                "twin: the same answers from a mock of SQLite and of PostgreSQL; `reqlog mock` "
                "of the binary on both answers the same over HTTP\n",
                sizeof cases / sizeof cases[0], served);
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

/* Every rollup of the store equals the same count made from its calls (both ways:
 * nothing missing, nothing extra), and every day with calls has its id bounds. */
static void rollups_exact(const char *uri) {
  static const char *const pairs[][2] = {
    {"SELECT minute, key, n FROM stats_minute",
     "SELECT started_at / 60000000, coalesce(key, ''), count(*) FROM calls GROUP BY 1, 2"},
    {"SELECT day, status, n FROM stats_day",
     "SELECT started_at / 86400000000, coalesce(status, -1), count(*) FROM calls GROUP BY 1, 2"},
    {"SELECT day, bucket, n FROM stats_hist",
     "SELECT started_at / 86400000000, reqlog_hist_bucket(duration_us), count(*) FROM calls"
     " WHERE status IS NOT NULL GROUP BY 1, 2"},
    {"SELECT hour, status, n FROM stats_hour",
     "SELECT started_at / 3600000000, coalesce(status, -1), count(*) FROM calls GROUP BY 1, 2"},
    {"SELECT hour, bucket, n FROM stats_hour_hist",
     "SELECT started_at / 3600000000, reqlog_hist_bucket(duration_us), count(*) FROM calls"
     " WHERE status IS NOT NULL GROUP BY 1, 2"},
    {"SELECT minute, n FROM stats_minute_all",
     "SELECT started_at / 60000000, count(*) FROM calls GROUP BY 1"},
    {"SELECT day, key, n, peak FROM stats_day_key",
     "SELECT d, k, sum(c), max(c) FROM (SELECT started_at / 86400000000 AS d,"
     " started_at / 60000000 AS m, coalesce(key, '') AS k, count(*) AS c FROM calls"
     " GROUP BY 1, 2, 3) AS x GROUP BY 1, 2"},
  };
  PGconn *c = tpg_conn(uri);
  for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
    int64_t extra = tpg_intf(c, "SELECT count(*) FROM (%s EXCEPT %s) AS x", pairs[i][0], pairs[i][1]);
    int64_t missing = tpg_intf(c, "SELECT count(*) FROM (%s EXCEPT %s) AS x", pairs[i][1], pairs[i][0]);
    if (extra || missing)
      fail_msg("%s: %lld rows the calls do not give, %lld missing", pairs[i][0],
               (long long)extra, (long long)missing);
  }
  assert_true(tpg_int(c, "SELECT count(*) FROM stats_hour") > 0);
  /* each day's ids lie within its bounds */
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM calls AS c LEFT JOIN calls_day_ids AS d"
                              " ON d.day = c.started_at / 86400000000"
                              " WHERE d.day IS NULL OR c.id NOT BETWEEN d.min_id AND d.max_id"), 0);
  PQfinish(c);
}

/* Calls arriving after the others: a new day whose ids are all above the older days'
 * (the newest page is read from its partition alone, with or without a filter, a text
 * pattern too: a page the day cannot fill is read from every day), then one shipped late into an
 * hour of the oldest day with the highest id of all (it must head the newest page, and
 * every hourly rollup must count it). */
static void late_rows(void **state) {
  struct fixture *fx = *state;
  struct call *c = calloc(NCALLS, sizeof *c);
  make_calls(c, fx->base);
  for (int i = 0; i < 8; i++)
    c[i].started_at = fx->base + 3 * DAY_US + i * CALL_GAP_US + 17;
  /* the minute (and key) of call 6, the oldest day's: two calls in one minute */
  c[8].started_at = fx->base + 6 * CALL_GAP_US + 20 * 1000000;
  c[8].key = c[6].key;
  /* the minute and key of call 2, of the third day, whose id prune's --max-rows takes:
   * the day's peak falls back from 2 to 1 then */
  c[9].started_at = fx->base + 2 * DAY_US + 2 * CALL_GAP_US + 30 * 1000000;
  c[9].key = c[2].key;
  const reqlog_query_opts pages[] = {{.limit = 7}, {.limit = 8}, {.limit = 9},
                                     {.limit = 3, .before_id = 66}};
  insert_sqlite(fx->sqlite_path, c, 8, NCALLS + 1);
  insert_pg(fx->uri, c, 8, NCALLS + 1);
  for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
    compare(fx, "", &pages[i], "new day");
    compare(fx, "status=2xx", &pages[i], "new day");
    compare(fx, "q=example", &pages[i], "new day");      /* every call: the day fills a page */
    compare(fx, "q=participants", &pages[i], "new day"); /* a quarter: it does not */
  }
  char *page = read_all(fx->store, "", &pages[0]);
  assert_non_null(strstr(page, "{\"id\":68,"));
  free(page);
  insert_sqlite(fx->sqlite_path, &c[8], 1, NCALLS + 9);
  insert_pg(fx->uri, &c[8], 1, NCALLS + 9);
  for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
    compare(fx, "", &pages[i], "late call");
    compare(fx, "status=2xx", &pages[i], "late call");
    compare(fx, "q=example", &pages[i], "late call");      /* every call: the day fills a page */
    compare(fx, "q=participants", &pages[i], "late call"); /* a quarter: it does not */
  }
  page = read_all(fx->store, "", &pages[0]);
  static const char head[] = "count 69\n{\"id\":69,"; /* the late call heads the page */
  assert_int_equal(strncmp(page, head, strlen(head)), 0);
  free(page);
  compare(fx, "", NULL, "late call");
  compare_ranges(fx, "late call");
  rollups_exact(fx->uri);
  insert_sqlite(fx->sqlite_path, &c[9], 1, NCALLS + 10);
  insert_pg(fx->uri, &c[9], 1, NCALLS + 10);
  compare(fx, "", NULL, "second late call");
  compare_ranges(fx, "second late call");
  rollups_exact(fx->uri);
  PGconn *pc = tpg_conn(fx->uri);
  assert_int_equal(tpg_int(pc, "SELECT max(peak) FROM stats_day_key"), 2);
  PQfinish(pc);
  free(c);
  print_message("a new day and a call shipped late into an old hour: pages, stats and the"
                " hourly rollups agree\n");
}

static void same_prune(void **state) {
  struct fixture *fx = *state;
  /* the calls lie on days base, base + 1 and base + 2 (today - 5 .. today - 3); calls 4
   * (the oldest day) and 45 are pinned: kept until --include-pinned */
  const char *const steps[][4] = {
    {"prune", "--older-than", "4d", NULL}, {"prune", "--max-rows", "5", NULL},
    {"prune", "--older-than", "4d", "--include-pinned"},
    {"prune", "--max-rows", "5", "--include-pinned"},
  };
  /* 4 (older) and 45 (not among the newest 5) stay until --include-pinned. Where the
   * first step's cut falls among the edge day's calls depends on the time of day, so what
   * it leaves is counted here with plain SQL on the file before it runs: the calls at or
   * after now - 4 days, and the pinned ones (the calls are CALL_GAP_US, about 10 min,
   * apart, so the few milliseconds between this clock and the prune's decide nothing
   * unless a call lies that close to the cut) */
  sqlite3 *lite = tu_db(fx->sqlite_path);
  int64_t kept = tu_intf(lite, "SELECT count(*) FROM calls AS c WHERE c.started_at >= %lld"
                         " OR EXISTS (SELECT 1 FROM call_notes AS n WHERE n.call_id = c.id"
                         " AND n.pinned)", (long long)(tu_now_us() - 4 * DAY_US));
  sqlite3_close(lite);
  char first[32];
  snprintf(first, sizeof first, "count %lld\n", (long long)kept);
  const char *const counts[] = {first, "count 7\n", "count 6\n", "count 5\n"};
  for (int i = 0; i < 4; i++) {
    const char *args[] = {steps[i][0], steps[i][1], steps[i][2], steps[i][3], NULL};
    char *a = cli(fx->sqlite_path, args, "");
    char *b = cli(fx->uri, args, "");
    print_message("%s %s %s: sqlite and pg say %s", steps[i][1], steps[i][2],
                  steps[i][3] ? steps[i][3] : "", strchr(a, '\n') + 1);
    assert_string_equal(a, b);
    assert_null(strstr(a, "pruned 0 calls"));
    free(a);
    free(b);
    compare(fx, "", NULL, "after prune");
    compare(fx, "status=4xx", NULL, "after prune");
    char *all = read_all(fx->store, "", NULL);
    if (!strstr(all, counts[i])) {
      sqlite3 *db = tu_db(fx->sqlite_path);
      print_error("after step %d: expected %s ids %s\n", i, counts[i],
                  tu_text(db, "SELECT group_concat(id) FROM calls"));
      sqlite3_close(db);
    }
    assert_non_null(strstr(all, counts[i]));
    free(all);
    all = read_all(fx->lite, "pinned=1", NULL);
    assert_non_null(strstr(all, i < 2 ? "count 2\n" : i < 3 ? "count 1\n" : "count 0\n"));
    free(all);
  }
  PGconn *c = tpg_conn(fx->uri);
  /* the oldest day went whole: its partition is gone, and so are its rollups */
  assert_int_equal(tpg_intf(c, "SELECT count(*) FROM pg_class WHERE relname = 'calls_%s'", fx->day0),
                   0);
  assert_int_equal(tpg_intf(c, "SELECT count(*) FROM stats_day WHERE day <= %lld",
                            (long long)(fx->base / DAY_US)), 0);
  assert_int_equal(tpg_int(c, "SELECT sum(n) FROM stats_day"), 5);
  assert_int_equal(tpg_intf(c, "SELECT count(*) FROM calls_day_ids WHERE day <= %lld",
                            (long long)(fx->base / DAY_US)), 0);
  assert_int_equal(tpg_int(c, "SELECT sum(n) FROM stats_hour"), 5);
  /* late_rows's two-call minutes: one dropped with its day, one cut to a call */
  assert_int_equal(tpg_int(c, "SELECT max(peak) FROM stats_day_key"), 1);
  /* the notes of the deleted calls went with them */
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM call_notes"), 0);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM call_tags"), 0);
  PQfinish(c);
  sqlite3 *db = tu_db(fx->sqlite_path);
  assert_int_equal(tu_int(db, "SELECT count(*) FROM call_notes"), 0);
  assert_int_equal(tu_int(db, "SELECT count(*) FROM call_tags"), 0);
  sqlite3_close(db);
  rollups_exact(fx->uri);
  compare_ranges(fx, "after prune");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(same_answers),
    cmocka_unit_test(paging),
    cmocka_unit_test(same_cli),
    cmocka_unit_test(storage_both),
    cmocka_unit_test(same_serve),
    cmocka_unit_test(same_mock),
    cmocka_unit_test(one_bucket),
    cmocka_unit_test(late_rows),
    cmocka_unit_test(same_prune),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
