/* query.c: reading recorded calls as rows of the row model: a cursor over the rows that
 * match a filter (keyset paging by id), one row by id, the count of matching rows, and
 * the history's id (which names its rows in a team store). */
#include <stdlib.h>

#include "read/cursor.h"
#include "read/filter.h"
#include "read/read.h"
#include "read/row.h"
#include "read/sqlq.h"
#include "base/util.h"
#include "base/errors.h"
#include "base/stmtpark.h"

/* Status items merged as separate index walks at most; more become one condition. */
#define MAX_BRANCHES 16

/* The keyset bounds, order and page size of OPTS on the id column COL. */
static void add_page(sqlq *q, const char *col, const reqlog_query_opts *opts) {
  if (opts->before_id > 0) {
    sqlq_add(q, " AND ");
    sqlq_add(q, col);
    sqlq_add(q, " < ");
    sqlq_int(q, opts->before_id);
  }
  if (opts->after_id > 0) {
    sqlq_add(q, " AND ");
    sqlq_add(q, col);
    sqlq_add(q, " > ");
    sqlq_int(q, opts->after_id);
  }
  sqlq_add(q, " ORDER BY ");
  sqlq_add(q, col);
  sqlq_add(q, opts->oldest_first ? " ASC" : " DESC");
  if (opts->limit > 0) {
    sqlq_add(q, " LIMIT ");
    sqlq_int(q, opts->limit);
  }
}

/* "SELECT <the row columns> FROM calls AS c WHERE " (FROM: FTS_JOIN for the calls_fts
 * part of a q query). */
#define FTS_JOIN "calls_fts AS fts CROSS JOIN calls AS c ON c.id = fts.rowid"
/* ... and for a field filter (filter.h: FILTER_FIELD_PART) */
#define FIELD_JOIN "call_fields AS fld CROSS JOIN calls AS c ON c.id = fld.call_id"
static void add_select(sqlq *q, const reqlog_query_opts *opts, const char *from) {
  sqlq_add(q, "SELECT ");
  sqlq_add(q, row_columns(opts->with_bodies));
  sqlq_add(q, " FROM ");
  sqlq_add(q, from);
  sqlq_add(q, " WHERE ");
}

/* Closes the last of a UNION ALL of pages, each in id order, and merges them into one. */
static void add_merge(sqlq *q, const reqlog_query_opts *opts) {
  sqlq_add(q, ") ORDER BY 1");
  sqlq_add(q, opts->oldest_first ? " ASC" : " DESC");
  if (opts->limit > 0) {
    sqlq_add(q, " LIMIT ");
    sqlq_int(q, opts->limit);
  }
}

/* ------------------------------------------------------------------ the SQLite cursor */

struct sq_cursor {
  sqlite3 *db;                          /* not owned; handed back through release */
  sqlite3_stmt *st;
  void (*release)(void *, sqlite3 *);
  void *release_ctx;
};

static reqlog_err sq_step(reqlog_cursor *c) {
  struct sq_cursor *sc = c->impl;
  int rc = sqlite3_step(sc->st);
  if (rc == SQLITE_DONE)
    return REQLOG_ERR_DONE;
  return rc == SQLITE_ROW ? REQLOG_OK : errors_from_sqlite(rc);
}

static void sq_close(reqlog_cursor *c) {
  struct sq_cursor *sc = c->impl;
  stmt_park(sc->st);
  if (sc->release)
    sc->release(sc->release_ctx, sc->db);
  free(sc);
}

/* A cursor is created only on success: when rs_query() fails, RELEASE is not called and
 * the caller still holds DB. Rows come in id order, never started_at order: ids grow with
 * the time of recording and give stable keyset pages ("before_id") even when two calls
 * started in the same microsecond or a clock stepped back. */
static reqlog_err query(sqlite3 *db, const reqlog_filter *f, const reqlog_query_opts *opts,
                        int64_t now_us, void (*release)(void *, sqlite3 *),
                        void *release_ctx, int park, reqlog_cursor **out, char **cause) {
  static const reqlog_query_opts defaults = {0};
  if (!out)
    return util_fail(cause, REQLOG_ERR_ARG, "query: no place for the cursor");
  *out = NULL;
  if (!db)
    return util_fail(cause, REQLOG_ERR_ARG, "query: no database");
  if (!opts)
    opts = &defaults;
  if (opts->limit < 0)
    return util_fail(cause, REQLOG_ERR_ARG, "limit: %lld is negative",
                     (long long)opts->limit);
  if (opts->before_id < 0)
    return util_fail(cause, REQLOG_ERR_ARG, "before: %lld is negative",
                     (long long)opts->before_id);
  if (opts->after_id < 0)
    return util_fail(cause, REQLOG_ERR_ARG, "after: %lld is negative",
                     (long long)opts->after_id);

  int oom = 0;
  char *match = filter_fts_match(f, &oom);
  if (oom)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  sqlq q = {0};
  if (park)
    sqlq_add(&q, STMT_PARK_MARK); /* its cursor parks the statement (sq_close) */
  size_t branches = match ? 0 : filter_status_branches(f);
  if (!match && branches > 1 && branches <= MAX_BRANCHES) {
    /* One page per status item, each in id order, merged (filter.h). */
    for (size_t b = 0; b < branches; b++) {
      sqlq_add(&q, b ? ") UNION ALL SELECT * FROM (" : "SELECT * FROM (");
      add_select(&q, opts, "calls AS c");
      filter_sql_branch(f, now_us, b, &q);
      add_page(&q, "c.id", opts);
    }
    add_merge(&q, opts);
  } else if (!match && filter_field(f) && branches <= 1) {
    /* the field's calls from call_fields, newest first (filter.h) */
    add_select(&q, opts, FIELD_JOIN);
    sqlq_add(&q, "fld.field = ");
    sqlq_text(&q, filter_field(f));
    sqlq_add(&q, " AND ");
    filter_sql_part(f, now_us, FILTER_FIELD_PART, &q);
    add_page(&q, "fld.call_id", opts);
  } else if (!match) {
    add_select(&q, opts, "calls AS c");
    filter_sql(f, now_us, &q);
    add_page(&q, "c.id", opts);
  } else {
    /* Two disjoint parts, each in id order and cut at the page size, merged: the rows
     * above the indexer's mark by scan, the rows below it driven by calls_fts, which
     * hands out its rowids in order (filter.h). */
    sqlq_add(&q, "SELECT * FROM (");
    add_select(&q, opts, "calls AS c");
    filter_sql_part(f, now_us, FILTER_TAIL_PART, &q);
    add_page(&q, "c.id", opts);
    sqlq_add(&q, ") UNION ALL SELECT * FROM (");
    add_select(&q, opts, FTS_JOIN);
    sqlq_add(&q, "fts.calls_fts MATCH ");
    sqlq_text(&q, match);
    sqlq_add(&q, " AND fts.rowid <= " FILTER_FTS_MARK " AND ");
    filter_sql_part(f, now_us, FILTER_FTS_PART, &q);
    add_page(&q, "fts.rowid", opts);
    add_merge(&q, opts);
    free(match);
  }
  sqlite3_stmt *st = NULL;
  reqlog_err err = sqlq_prepare(&q, db, &st, cause);
  sqlq_free(&q);
  if (err != REQLOG_OK)
    return err;

  reqlog_cursor *c = calloc(1, sizeof *c);
  struct sq_cursor *sc = calloc(1, sizeof *sc);
  if (!c || !sc) {
    free(c);
    free(sc);
    sqlite3_finalize(st);
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  }
  *sc = (struct sq_cursor){.db = db, .st = st, .release = release, .release_ctx = release_ctx};
  c->row = rowsrc_sqlite(st, NULL);
  c->with_bodies = opts->with_bodies != 0;
  c->step = sq_step;
  c->close = sq_close;
  c->impl = sc;
  *out = c;
  return REQLOG_OK;
}

reqlog_err rs_query(sqlite3 *db, const reqlog_filter *f, const reqlog_query_opts *opts,
                    int64_t now_us, void (*release)(void *, sqlite3 *), void *release_ctx,
                    reqlog_cursor **out, char **cause) {
  return query(db, f, opts, now_us, release, release_ctx, 0, out, cause);
}

reqlog_err rs_query_parked(sqlite3 *db, const reqlog_filter *f, const reqlog_query_opts *opts,
                           int64_t now_us, void (*release)(void *, sqlite3 *),
                           void *release_ctx, reqlog_cursor **out, char **cause) {
  return query(db, f, opts, now_us, release, release_ctx, 1, out, cause);
}

reqlog_err rs_get(sqlite3 *db, int64_t id, cJSON **row, char **cause) {
  if (!row)
    return util_fail(cause, REQLOG_ERR_ARG, "get: no place for the row");
  *row = NULL;
  if (!db)
    return util_fail(cause, REQLOG_ERR_ARG, "get: no database");

  sqlq q = {0};
  sqlq_add(&q, "SELECT ");
  sqlq_add(&q, row_columns(1));
  sqlq_add(&q, " FROM calls AS c WHERE c.id = ");
  sqlq_int(&q, id);
  sqlite3_stmt *st = NULL;
  reqlog_err err = sqlq_prepare(&q, db, &st, cause);
  sqlq_free(&q);
  if (err != REQLOG_OK)
    return err;

  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    rowsrc src = rowsrc_sqlite(st, NULL);
    *row = row_json(&src, 1);
    err = *row ? REQLOG_OK : util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  } else if (rc == SQLITE_DONE) {
    err = util_fail(cause, REQLOG_ERR_NOTFOUND, "no call with id %lld", (long long)id);
  } else {
    err = util_fail(cause, errors_from_sqlite(rc), "reading call %lld: %s", (long long)id,
                    sqlite3_errmsg(db));
  }
  sqlite3_finalize(st);
  return err;
}

reqlog_err rs_count(sqlite3 *db, const reqlog_filter *f, int64_t now_us, int64_t *count,
                    char **cause) {
  if (!count)
    return util_fail(cause, REQLOG_ERR_ARG, "count: no place for the count");
  *count = 0;
  if (!db)
    return util_fail(cause, REQLOG_ERR_ARG, "count: no database");

  sqlq q = {0};
  sqlq_add(&q, "SELECT count(*) FROM calls AS c WHERE ");
  filter_sql(f, now_us, &q);
  sqlite3_stmt *st = NULL;
  reqlog_err err = sqlq_prepare(&q, db, &st, cause);
  sqlq_free(&q);
  if (err != REQLOG_OK)
    return err;

  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    *count = sqlite3_column_int64(st, 0);
  else
    err = util_fail(cause, errors_from_sqlite(rc), "counting calls: %s", sqlite3_errmsg(db));
  sqlite3_finalize(st);
  return err;
}

reqlog_err rs_history_id(sqlite3 *db, int64_t *id, char **cause) {
  *id = 0;
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE name = 'history_id'", -1, &st,
                              NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_step(st);
  reqlog_err err = REQLOG_OK;
  if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER)
    *id = sqlite3_column_int64(st, 0);
  else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
    err = util_fail(cause, REQLOG_ERR_DB, "the history has no history_id");
  else
    err = util_fail(cause, errors_from_sqlite(rc), "reading the history's id: %s",
                    sqlite3_errmsg(db));
  sqlite3_finalize(st);
  return err;
}
