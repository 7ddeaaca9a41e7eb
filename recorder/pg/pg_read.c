/* pg_read.c: reading the team store: a pool of read connections to one database, its
 * rows as row sources (rowsrc.h) for the one row model and writers, and the public
 * reading functions over it (query, get, count, stats, prune, and a
 * shipped row found by its history and spool id; exports: pg_export.c). Every query is the filter's
 * own SQL (filter_sql.c in PostgreSQL's dialect) with $n parameters, and rows come one
 * at a time (libpq's single-row mode), never the whole result in memory. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pg/pg_int.h"
#include "read/cursor.h"
#include "read/export.h"
#include "read/filter.h"
#include "read/row.h"
#include "read/sqlq.h"
#include "base/util.h"

/* Connections kept open for reuse: each holds its prepared statements (pg_stmt.c), so a
 * reader waits a little for one of them rather than connect and plan anew. */
#define POOL_MAX 16
/* How long pg_store_acquire() waits for a pooled connection before it connects one more
 * (which also keeps a caller that already holds one, such as a cursor's, from waiting on
 * itself for long). */
#define POOL_WAIT_MS 500

/* A row of calls_day_ids: a day partition and the lowest and highest id it was given. */
struct day_ids {
  int64_t day, min_id, max_id;
};

struct pg_store {
  char *url;
  pthread_mutex_t lock;
  pthread_cond_t freed;
  pg_db *idle[POOL_MAX];
  int nidle;
  int nopen;   /* connections open, idle or in use */
  /* the day partition that held the newest ids when last looked (newest_page()) */
  struct day_ids newest;
  int have_newest;
};

/* ------------------------------------------------------------------ the pool */

reqlog_err pg_store_open(const char *url, pg_store **out, char **cause) {
  *out = NULL;
  pg_store *s = calloc(1, sizeof *s);
  if (!s || !(s->url = util_strdup(url))) {
    free(s);
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  }
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->freed, NULL);
  pg_db *db = NULL;
  reqlog_err err = pg_open(url, &db, cause); /* migrates (or refuses a newer schema) */
  if (err != REQLOG_OK) {
    pg_store_close(s);
    return err;
  }
  s->idle[s->nidle++] = db;
  s->nopen = 1;
  *out = s;
  return REQLOG_OK;
}

void pg_store_close(pg_store *s) {
  if (!s)
    return;
  for (int i = 0; i < s->nidle; i++)
    pg_close(s->idle[i]);
  if (s->url) {
    memset(s->url, 0, strlen(s->url)); /* may hold a password */
    free(s->url);
  }
  pthread_cond_destroy(&s->freed);
  pthread_mutex_destroy(&s->lock);
  free(s);
}

reqlog_err pg_store_acquire(pg_store *s, pg_db **db, char **cause) {
  pthread_mutex_lock(&s->lock);
  if (s->nidle == 0 && s->nopen >= POOL_MAX) {
    struct timespec until = util_deadline(CLOCK_REALTIME, (int64_t)POOL_WAIT_MS * 1000);
    while (s->nidle == 0 && s->nopen >= POOL_MAX &&
           pthread_cond_timedwait(&s->freed, &s->lock, &until) == 0) {
    }
  }
  *db = s->nidle > 0 ? s->idle[--s->nidle] : NULL;
  if (!*db)
    s->nopen++;
  pthread_mutex_unlock(&s->lock);
  if (*db)
    return REQLOG_OK;
  reqlog_err err = pg_connect(s->url, db, cause);
  if (err != REQLOG_OK) {
    pthread_mutex_lock(&s->lock);
    s->nopen--;
    pthread_mutex_unlock(&s->lock);
  }
  return err;
}

/* Back to the pool when it is idle and healthy and the pool has room, else closed. */
void pg_store_release(pg_store *s, pg_db *db) {
  if (!db)
    return;
  int healthy = PQstatus(db->conn) == CONNECTION_OK &&
                PQtransactionStatus(db->conn) == PQTRANS_IDLE && pg_stmt_plain(db) == 0;
  pthread_mutex_lock(&s->lock);
  if (healthy && s->nidle < POOL_MAX && s->nopen <= POOL_MAX) {
    s->idle[s->nidle++] = db;
    db = NULL;
  } else {
    s->nopen--;
  }
  pthread_cond_signal(&s->freed);
  pthread_mutex_unlock(&s->lock);
  pg_close(db);
}

/* ------------------------------------------------------------------ rows */

void pg_add_columns(sqlq *q, row_cols cols) {
  for (int c = 0; c < RC_COUNT; c++) {
    sqlq_add(q, c ? ", " : "");
    if (!(cols & ROW_COL(c))) {
      sqlq_add(q, "NULL");
      continue;
    }
    sqlq_add(q, row_col_plain_sql[c]);
    if (c == RC_REQUEST_TRUNCATED || c == RC_RESPONSE_TRUNCATED)
      sqlq_add(q, "::int");
  }
  sqlq_add(q, cols & ROW_COL(RC_REQUEST_BODY) ? ", c.request_body_bin" : ", NULL");
  sqlq_add(q, cols & ROW_COL(RC_RESPONSE_BODY) ? ", c.response_body_bin" : ", NULL");
}

/* Row I of a result (one of a single-row-mode result, or of a cursor's batch), and the
 * bytea bodies decoded from it. */
struct pg_row {
  PGresult *res;
  int i;
  unsigned char *bin[2];
  size_t binlen[2];
};

/* Forgets the bodies decoded from the current row. */
static void row_bodies_clear(struct pg_row *pr) {
  for (int i = 0; i < 2; i++) {
    PQfreemem(pr->bin[i]);
    pr->bin[i] = NULL;
  }
}

static void row_clear(struct pg_row *pr) {
  PQclear(pr->res);
  pr->res = NULL;
  pr->i = 0;
  row_bodies_clear(pr);
}

static const struct pg_row *prow(const rowsrc *r) {
  return r->impl;
}

static int pgr_is_null(const rowsrc *r, int col) {
  const struct pg_row *pr = prow(r);
  if (PQgetisnull(pr->res, pr->i, col) == 0)
    return 0;
  if (col == RC_REQUEST_BODY || col == RC_RESPONSE_BODY)
    return PQgetisnull(pr->res, pr->i, RC_COUNT + (col == RC_RESPONSE_BODY));
  return 1;
}

static int pgr_int64(const rowsrc *r, int col, int64_t *v) {
  const struct pg_row *pr = prow(r);
  *v = 0;
  if (PQgetisnull(pr->res, pr->i, col))
    return 0;
  *v = strtoll(PQgetvalue(pr->res, pr->i, col), NULL, 10);
  return 1;
}

static const unsigned char *pgr_text(const rowsrc *r, int col, size_t *len) {
  const struct pg_row *pr = prow(r);
  if (len)
    *len = 0;
  if (PQgetisnull(pr->res, pr->i, col))
    return NULL;
  if (len)
    *len = (size_t)PQgetlength(pr->res, pr->i, col);
  return (const unsigned char *)PQgetvalue(pr->res, pr->i, col);
}

static rowsrc_kind pgr_body(const rowsrc *r, int col, const unsigned char **data,
                            size_t *len) {
  struct pg_row *pr = r->impl;
  *data = pgr_text(r, col, len);
  if (*data)
    return ROWSRC_TEXT;
  int b = col == RC_RESPONSE_BODY;
  if (PQgetisnull(pr->res, pr->i, RC_COUNT + b))
    return ROWSRC_NULL;
  if (!pr->bin[b]) {
    pr->bin[b] = PQunescapeBytea(
      (const unsigned char *)PQgetvalue(pr->res, pr->i, RC_COUNT + b), &pr->binlen[b]);
    if (!pr->bin[b])
      return ROWSRC_NULL; /* out of memory: shown as no body rather than a wrong one */
  }
  *data = pr->bin[b];
  *len = pr->binlen[b];
  return ROWSRC_BLOB;
}

static const struct rowsrc_ops pg_ops = {
  .is_null = pgr_is_null, .int64 = pgr_int64, .text = pgr_text, .body = pgr_body,
};

/* ------------------------------------------------------------------ running a query */

/* Sends Q (PostgreSQL dialect) with its values as text parameters, as the connection's
 * prepared statement for its text (pg_stmt.c) planned as MODE says (PG_PLAN_*), rows to
 * come one at a time when SINGLE_ROW. */
reqlog_err pg_params_of(const sqlq *q, pg_params *p, char **cause) {
  *p = (pg_params){0};
  if (q->oom)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory while building a query");
  p->v = calloc(q->nvals ? q->nvals : 1, sizeof *p->v);
  p->ints = calloc(q->nvals ? q->nvals : 1, sizeof *p->ints);
  if (!p->v || !p->ints)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  const sqlq_val *vals = sqlq_values(q);
  for (size_t i = 0; i < q->nvals; i++) {
    if (vals[i].is_text) {
      p->v[i] = vals[i].s;
    } else {
      snprintf(p->ints[i], sizeof p->ints[i], "%lld", (long long)vals[i].i);
      p->v[i] = p->ints[i];
    }
  }
  p->n = (int)q->nvals;
  return REQLOG_OK;
}

void pg_params_free(pg_params *p) {
  free(p->v);
  free(p->ints);
  *p = (pg_params){0};
}

static reqlog_err send_stmt(pg_db *db, const sqlq *q, int mode, int single_row, char **cause) {
  pg_params p;
  reqlog_err err = pg_params_of(q, &p, cause);
  if (err == REQLOG_OK)
    err = pg_stmt_send(db, q->sql.data, p.n, p.v, mode, cause);
  pg_params_free(&p);
  if (err == REQLOG_OK && single_row && !PQsetSingleRowMode(db->conn))
    return pg_fail(db, NULL, cause, "reading the store");
  return err;
}

/* The plan a query of F wants: without a filter one generic plan serves every page and
 * saves planning a query over every day partition with its indexes (5-10 ms at 31 days)
 * each time. With a filter only its values tell a walk down the id index, testing each
 * row, from collecting the matches by another index and sorting them: the generic plan of
 * status=$1 walked all 10M ids for status=418, which no call has (25 s), where the plan
 * with the value reads the status index (26 ms); a text pattern's words likewise. */
static int plan_of(const reqlog_filter *f) {
  return filter_is_empty(f) ? PG_PLAN_GENERIC : PG_PLAN_CUSTOM;
}

static reqlog_err send_query(pg_db *db, const sqlq *q, int mode, char **cause) {
  return send_stmt(db, q, mode, 1, cause);
}

/* The next row of the query sent on DB into PR: REQLOG_OK, REQLOG_ERR_DONE after the
 * last (the connection is then free again), or the server's error. */
static reqlog_err next_row(pg_db *db, struct pg_row *pr, int *finished, char **cause) {
  row_clear(pr);
  if (*finished)
    return REQLOG_ERR_DONE;
  PGresult *res = PQgetResult(db->conn);
  if (res && PQresultStatus(res) == PGRES_SINGLE_TUPLE) {
    pr->res = res;
    return REQLOG_OK;
  }
  reqlog_err err = REQLOG_ERR_DONE;
  if (res && PQresultStatus(res) != PGRES_TUPLES_OK) {
    err = pg_fail(db, res, cause, "reading the store");
    res = NULL;
  }
  PQclear(res);
  while ((res = PQgetResult(db->conn)) != NULL)
    PQclear(res);
  *finished = 1;
  return err;
}

/* Ends a query before its last row: asks the server to stop, then reads what is left. */
static void abandon(pg_db *db, int *finished) {
  if (*finished)
    return;
  PGcancel *cn = PQgetCancel(db->conn);
  char why[256];
  if (cn) {
    PQcancel(cn, why, sizeof why);
    PQfreeCancel(cn);
  }
  PGresult *res;
  while ((res = PQgetResult(db->conn)) != NULL)
    PQclear(res);
  *finished = 1;
}

/* ------------------------------------------------------------------ cursor */

struct pg_cursor {
  pg_store *s;
  pg_db *db;         /* NULL when the rows are all in row.res (a page read whole) */
  struct pg_row row;
  int finished;
};

static reqlog_err pgc_step(reqlog_cursor *c) {
  struct pg_cursor *pc = c->impl;
  if (!pc->db) { /* the next row of the page in hand */
    row_bodies_clear(&pc->row);
    if (!pc->row.res || pc->row.i + 1 >= PQntuples(pc->row.res))
      return REQLOG_ERR_DONE;
    pc->row.i++;
    return REQLOG_OK;
  }
  return next_row(pc->db, &pc->row, &pc->finished, NULL);
}

static void pgc_close(reqlog_cursor *c) {
  struct pg_cursor *pc = c->impl;
  row_clear(&pc->row);
  abandon(pc->db, &pc->finished);
  pg_store_release(pc->s, pc->db);
  free(pc);
}

static void add_page(sqlq *q, const reqlog_query_opts *opts) {
  if (opts->before_id > 0) {
    sqlq_add(q, " AND c.id < ");
    sqlq_int(q, opts->before_id);
  }
  if (opts->after_id > 0) {
    sqlq_add(q, " AND c.id > ");
    sqlq_int(q, opts->after_id);
  }
  sqlq_add(q, opts->oldest_first ? " ORDER BY c.id ASC" : " ORDER BY c.id DESC");
  if (opts->limit > 0) {
    /* written out, not a parameter: a generic plan then knows how few rows are wanted
     * (a handful of page sizes are in use, each its own statement) */
    char n[32];
    snprintf(n, sizeof n, " LIMIT %lld", (long long)opts->limit);
    sqlq_add(q, n);
  }
}

/* ------------------------------------------------------------------ the newest page */

/* The newest page of a list (newest first, no lower id bound, a page of at most this
 * many rows) is first read from the one day partition that held the newest ids, named
 * in the query: PostgreSQL then plans, locks and reads one partition and its indexes
 * instead of every day's (a generic plan of the query over calls locks all of them at
 * each execution; a plan with the values of a text pattern over all of them costs
 * ~9 ms of planning at 31 days). With a filter the page is planned with its values:
 * planning one partition costs ~0.3 ms, and only the values tell whether walking the
 * id index down and testing each row (a key of a third of the calls) beats collecting
 * the matches by another index and sorting them (a rare key, a rare word): at 10M
 * calls, key=K&method=POST took 29 ms with the generic plan and 1.4 ms with its own.
 * The page is right when that partition alone fills it with ids above every id of the
 * other days (schema/pg/004_day_ids.sql bounds them), checked in the same statement, so
 * in the same snapshot; otherwise (a new day has begun, a call was shipped late into an old
 * day, the filter matches few rows there) the query over calls answers, and the
 * partition to try is looked up again. */
#define NEWEST_MAX_LIMIT 1000

static int newest_wanted(const reqlog_filter *f, const reqlog_query_opts *opts) {
  return !opts->oldest_first && opts->after_id == 0 && opts->limit > 0 &&
         opts->limit <= NEWEST_MAX_LIMIT;
}

/* The day partition to try and its ids into *D (*HAVE 0: the store has no row). */
static reqlog_err newest_day(pg_store *s, pg_db *db, struct day_ids *d, int *have,
                             char **cause) {
  pthread_mutex_lock(&s->lock);
  *have = s->have_newest;
  *d = s->newest;
  pthread_mutex_unlock(&s->lock);
  if (*have)
    return REQLOG_OK;
  PGresult *res = NULL;
  reqlog_err err = pg_query(db, "SELECT day, min_id, max_id FROM calls_day_ids"
                                " ORDER BY max_id DESC LIMIT 1", 0, NULL, &res, cause,
                            "reading the store");
  if (err != REQLOG_OK)
    return err;
  *have = PQntuples(res) > 0;
  if (*have)
    *d = (struct day_ids){strtoll(PQgetvalue(res, 0, 0), NULL, 10),
                          strtoll(PQgetvalue(res, 0, 1), NULL, 10),
                          strtoll(PQgetvalue(res, 0, 2), NULL, 10)};
  PQclear(res);
  pthread_mutex_lock(&s->lock);
  s->have_newest = *have;
  s->newest = *d;
  pthread_mutex_unlock(&s->lock);
  return REQLOG_OK;
}

/* A text pattern's matches are taken to be few over the whole store (PG_PLAN_BITMAP) when
 * the newest day, of at least RARE_DAY_MIN ids, held so few that as many per id over
 * every id makes at most RARE_MATCHES_MAX. */
#define RARE_DAY_MIN 10000
#define RARE_MATCHES_MAX 2000

static int few_matches(const struct day_ids *d, int64_t found) {
  int64_t ids = d->max_id - d->min_id + 1;
  return ids >= RARE_DAY_MIN &&
         (double)(found + 1) * (double)d->max_id / (double)ids <= RARE_MATCHES_MAX;
}

static void newest_forget(pg_store *s) {
  pthread_mutex_lock(&s->lock);
  s->have_newest = 0;
  pthread_mutex_unlock(&s->lock);
}

/* The page of F and OPTS read from the newest day's partition into *PAGE, or *PAGE
 * NULL when that partition cannot tell it (the caller then reads calls; *RARE set when
 * F is a text pattern the whole day matched so few times that its matches in all are
 * few: few_matches()). */
static reqlog_err newest_page(pg_store *s, pg_db *db, const reqlog_filter *f,
                              const reqlog_query_opts *opts, int64_t now_us, PGresult **page,
                              int *rare, char **cause) {
  *page = NULL;
  *rare = 0;
  struct day_ids d = {0, 0, 0};
  int have = 0;
  reqlog_err err = newest_day(s, db, &d, &have, cause);
  if (err != REQLOG_OK || !have)
    return err;
  int64_t day = d.day;
  char rel[32];
  pg_partition_name(day, rel);
  sqlq q = {.dialect = SQLQ_PG};
  sqlq_add(&q, "SELECT ");
  pg_add_columns(&q, opts->with_bodies ? ROW_COLS_ALL : ROW_COLS_ALL & ~PG_BODY_COLS);
  /* the highest id the other days may hold below the page's bound */
  sqlq_add(&q, ", (SELECT coalesce(max(d.max_id), 0) FROM calls_day_ids AS d WHERE d.day <> ");
  sqlq_int(&q, day);
  if (opts->before_id > 0) {
    sqlq_add(&q, " AND d.min_id < ");
    sqlq_int(&q, opts->before_id);
  }
  sqlq_add(&q, ") FROM ");
  sqlq_add(&q, rel);
  sqlq_add(&q, " AS c WHERE ");
  filter_sql(f, now_us, &q);
  add_page(&q, opts);
  err = send_stmt(db, &q, plan_of(f), 0, cause);
  sqlq_free(&q);
  if (err != REQLOG_OK)
    return err;
  PGresult *res = PQgetResult(db->conn), *more;
  while ((more = PQgetResult(db->conn)) != NULL)
    PQclear(more);
  if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (state && strcmp(state, "42P01") == 0) { /* the day was dropped meanwhile */
      PQclear(res);
      newest_forget(s);
      return REQLOG_OK;
    }
    return pg_fail(db, res, cause, "reading the store");
  }
  int n = PQntuples(res), other_col = RC_COUNT + 2;
  int64_t other = n > 0 ? strtoll(PQgetvalue(res, 0, other_col), NULL, 10) : -1;
  int64_t last = n > 0 ? strtoll(PQgetvalue(res, n - 1, RC_ID), NULL, 10) : 0;
  if (other == 0 || (n == opts->limit && last > other)) {
    *page = res;
    return REQLOG_OK;
  }
  /* n < limit: every match of the whole day (no before bound) is in hand */
  *rare = filter_has_pattern(f) && opts->before_id == 0 && n < opts->limit &&
          few_matches(&d, n);
  PQclear(res);
  newest_forget(s);
  return REQLOG_OK;
}

reqlog_err pg_read_query(pg_store *s, const reqlog_filter *f, const reqlog_query_opts *opts,
                         int64_t now_us, reqlog_cursor **out, char **cause) {
  static const reqlog_query_opts defaults = {0};
  *out = NULL;
  if (!opts)
    opts = &defaults;
  if (opts->limit < 0)
    return util_fail(cause, REQLOG_ERR_ARG, "limit: %lld is negative", (long long)opts->limit);
  if (opts->before_id < 0)
    return util_fail(cause, REQLOG_ERR_ARG, "before: %lld is negative",
                     (long long)opts->before_id);
  if (opts->after_id < 0)
    return util_fail(cause, REQLOG_ERR_ARG, "after: %lld is negative",
                     (long long)opts->after_id);
  reqlog_cursor *c = calloc(1, sizeof *c);
  struct pg_cursor *pc = calloc(1, sizeof *pc);
  reqlog_err err = c && pc ? pg_store_acquire(s, &pc->db, cause)
                           : util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  int rare = 0;
  if (err == REQLOG_OK && newest_wanted(f, opts)) {
    err = newest_page(s, pc->db, f, opts, now_us, &pc->row.res, &rare, cause);
    if (err == REQLOG_OK && pc->row.res) { /* the page is in hand: the connection is free */
      pc->row.i = -1;
      pc->finished = 1;
      pg_store_release(s, pc->db);
      pc->db = NULL;
    }
  }
  if (err == REQLOG_OK && pc->db) {
    sqlq q = {.dialect = SQLQ_PG};
    /* a text of its own for the bitmap plan (PG_PLAN_BITMAP) */
    sqlq_add(&q, rare ? "SELECT /* few */ " : "SELECT ");
    pg_add_columns(&q, opts->with_bodies ? ROW_COLS_ALL : ROW_COLS_ALL & ~PG_BODY_COLS);
    sqlq_add(&q, " FROM calls AS c WHERE ");
    filter_sql(f, now_us, &q);
    add_page(&q, opts);
    err = send_query(pc->db, &q, rare ? PG_PLAN_BITMAP : plan_of(f), cause);
    sqlq_free(&q);
  }
  if (err != REQLOG_OK) {
    if (pc && pc->db) {
      abandon(pc->db, &pc->finished);
      pg_store_release(s, pc->db);
    }
    free(pc);
    free(c);
    return err;
  }
  pc->s = s;
  c->row = (rowsrc){.ops = &pg_ops, .impl = &pc->row};
  c->with_bodies = opts->with_bodies != 0;
  c->step = pgc_step;
  c->close = pgc_close;
  c->impl = pc;
  *out = c;
  return REQLOG_OK;
}

/* ------------------------------------------------------------------ get, find, count */

reqlog_err pg_read_get(pg_store *s, int64_t id, cJSON **row, char **cause) {
  *row = NULL;
  pg_db *db = NULL;
  reqlog_err err = pg_store_acquire(s, &db, cause);
  if (err != REQLOG_OK)
    return err;
  sqlq q = {.dialect = SQLQ_PG};
  sqlq_add(&q, "SELECT ");
  pg_add_columns(&q, ROW_COLS_ALL);
  sqlq_add(&q, " FROM calls AS c WHERE c.id = ");
  sqlq_int(&q, id);
  err = send_query(db, &q, PG_PLAN_GENERIC, cause);
  sqlq_free(&q);
  struct pg_row pr = {0};
  int finished = err != REQLOG_OK;
  if (err == REQLOG_OK)
    err = next_row(db, &pr, &finished, cause);
  if (err == REQLOG_OK) {
    rowsrc r = {.ops = &pg_ops, .impl = &pr};
    *row = row_json(&r, 1);
    if (!*row)
      err = util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  } else if (err == REQLOG_ERR_DONE) {
    err = util_fail(cause, REQLOG_ERR_NOTFOUND, "no call with id %lld", (long long)id);
  }
  row_clear(&pr);
  abandon(db, &finished);
  pg_store_release(s, db);
  return err;
}

/* Sends Q (freed) on DB and reads the first column of its first row as an integer into
 * *V; REQLOG_ERR_DONE when there is no row. */
static reqlog_err int_on(pg_db *db, sqlq *q, int mode, int64_t *v, char **cause) {
  *v = 0;
  reqlog_err err = send_query(db, q, mode, cause);
  sqlq_free(q);
  struct pg_row pr = {0};
  int finished = err != REQLOG_OK;
  if (err == REQLOG_OK)
    err = next_row(db, &pr, &finished, cause);
  if (err == REQLOG_OK)
    *v = strtoll(PQgetvalue(pr.res, 0, 0), NULL, 10);
  row_clear(&pr);
  abandon(db, &finished);
  return err;
}

/* The store id of the row that history HISTORY_ID shipped as its SPOOL_ID. */
reqlog_err pg_read_find(pg_store *s, int64_t history_id, int64_t spool_id, int64_t *id,
                        char **cause) {
  *id = 0;
  pg_db *db = NULL;
  reqlog_err err = pg_store_acquire(s, &db, cause);
  if (err != REQLOG_OK)
    return err;
  sqlq q = {.dialect = SQLQ_PG};
  sqlq_add(&q, "SELECT c.id FROM calls AS c WHERE c.history_id = ");
  sqlq_int(&q, history_id);
  sqlq_add(&q, " AND c.spool_id = ");
  sqlq_int(&q, spool_id);
  err = int_on(db, &q, PG_PLAN_GENERIC, id, cause);
  if (err == REQLOG_ERR_DONE)
    err = util_fail(cause, REQLOG_ERR_NOTFOUND, "call %lld of the spool is not in the store yet",
                    (long long)spool_id);
  pg_store_release(s, db);
  return err;
}

reqlog_err pg_count_on(pg_db *db, const reqlog_filter *f, int64_t now_us, int64_t *n,
                       char **cause) {
  sqlq q = {.dialect = SQLQ_PG};
  sqlq_add(&q, "SELECT count(*) FROM calls AS c WHERE ");
  filter_sql(f, now_us, &q);
  reqlog_err err = int_on(db, &q, plan_of(f), n, cause);
  return err == REQLOG_ERR_DONE ? REQLOG_OK : err;
}

reqlog_err pg_read_count(pg_store *s, const reqlog_filter *f, int64_t now_us, int64_t *n,
                         char **cause) {
  pg_db *db = NULL;
  reqlog_err err = pg_store_acquire(s, &db, cause);
  if (err != REQLOG_OK)
    return err;
  err = pg_count_on(db, f, now_us, n, cause);
  pg_store_release(s, db);
  return err;
}

reqlog_err pg_read_stats(pg_store *s, const reqlog_filter *f, int64_t now_us, int rate_limit,
                         cJSON **out, char **cause) {
  *out = NULL;
  pg_db *db = NULL;
  reqlog_err err = pg_store_acquire(s, &db, cause);
  if (err != REQLOG_OK)
    return err;
  err = pg_stats_on(db, f, now_us, rate_limit, out, cause);
  pg_store_release(s, db);
  return err;
}

reqlog_err pg_read_storage(pg_store *s, cJSON **out, char **cause) {
  pg_db *db = NULL;
  reqlog_err err = pg_store_acquire(s, &db, cause);
  if (err != REQLOG_OK)
    return err;
  err = pg_storage_on(db, out, cause);
  pg_store_release(s, db);
  return err;
}

reqlog_err pg_read_prune(pg_store *s, int64_t older_than_us, int64_t max_rows,
                         int include_pinned, int64_t *deleted, char **cause) {
  *deleted = 0;
  pg_db *db = NULL;
  reqlog_err err = pg_store_acquire(s, &db, cause);
  if (err != REQLOG_OK)
    return err;
  err = pg_prune_on(db, older_than_us, max_rows, include_pinned, deleted, cause);
  pg_store_release(s, db);
  return err;
}

reqlog_err pg_read_annotate(pg_store *s, int64_t id, const reqlog_annotation *a,
                            int64_t now_us, char **cause) {
  pg_db *db = NULL;
  reqlog_err err = pg_store_acquire(s, &db, cause);
  if (err != REQLOG_OK)
    return err;
  err = pg_notes_on(db, id, a, now_us, cause);
  pg_store_release(s, db);
  return err;
}
