/* api_read.c: the public reading functions of a reqlog handle (query, get, diff, count,
 * stats, export, prune, a shipped call's store id): each picks the backend (the team
 * store on PostgreSQL, pg/pg.h, or the SQLite history) and, for SQLite, lends a pooled connection of the
 * handle's store to the read side (read/read.h) and takes it back. */
#include <string.h>

#include "handle.h"
#include "pg/pg.h"
#include "read/read.h"
#include "base/util.h"

static reqlog_err need_store(reqlog *r, char **cause) {
  if (!r)
    return util_fail(cause, REQLOG_ERR_ARG, "no reqlog handle");
  if (!r->st)
    return util_fail(cause, REQLOG_ERR_ARG, "this reqlog handle has no database");
  return REQLOG_OK;
}

/* A read connection of R's store into *db, returned with store_release(). */
static reqlog_err lend_db(reqlog *r, sqlite3 **db, char **cause) {
  *db = NULL;
  reqlog_err err = need_store(r, cause);
  return err == REQLOG_OK ? store_acquire(r->st, db, cause) : err;
}

reqlog_err reqlog_query(reqlog *r, const reqlog_filter *f, const reqlog_query_opts *opts,
                        reqlog_cursor **out, char **cause) {
  *out = NULL;
  if (r && r->pg)
    return pg_read_query(r->pg, f, opts, util_now_us(), out, cause);
  sqlite3 *db = NULL;
  reqlog_err err = lend_db(r, &db, cause);
  if (err != REQLOG_OK)
    return err;
  err = rs_query_parked(db, f, opts, util_now_us(), store_release, r->st, out, cause);
  if (err != REQLOG_OK)
    store_release(r->st, db); /* else the cursor gives it back when it is freed */
  return err;
}

reqlog_err reqlog_get(reqlog *r, int64_t id, cJSON **row, char **cause) {
  if (r && r->pg && row)
    return pg_read_get(r->pg, id, row, cause);
  sqlite3 *db = NULL;
  reqlog_err err = lend_db(r, &db, cause);
  if (err != REQLOG_OK)
    return err;
  err = rs_get(db, id, row, cause);
  store_release(r->st, db);
  return err;
}

reqlog_err reqlog_shipped_id(reqlog *team, reqlog *rec, int64_t spool_id, int64_t *id,
                             char **cause) {
  if (!id)
    return util_fail(cause, REQLOG_ERR_ARG, "shipped id: no place for the id");
  *id = 0;
  if (!team || !team->pg)
    return util_fail(cause, REQLOG_ERR_ARG, "shipped id: the handle does not read a team store");
  if (!rec || !rec->spool_path)
    return util_fail(cause, REQLOG_ERR_ARG, "shipped id: the handle does not record for a "
                     "team store");
  sqlite3 *db = NULL;
  reqlog_err err = lend_db(rec, &db, cause);
  if (err != REQLOG_OK)
    return err;
  int64_t history = 0;
  err = rs_history_id(db, &history, cause);
  store_release(rec->st, db);
  return err == REQLOG_OK ? pg_read_find(team->pg, history, spool_id, id, cause) : err;
}

reqlog_err reqlog_count(reqlog *r, const reqlog_filter *f, int64_t *count, char **cause) {
  if (r && r->pg && count)
    return pg_read_count(r->pg, f, util_now_us(), count, cause);
  sqlite3 *db = NULL;
  reqlog_err err = lend_db(r, &db, cause);
  if (err != REQLOG_OK)
    return err;
  err = rs_count(db, f, util_now_us(), count, cause);
  store_release(r->st, db);
  return err;
}

reqlog_err reqlog_stats(reqlog *r, const reqlog_filter *f, cJSON **out, char **cause) {
  if (!out)
    return util_fail(cause, REQLOG_ERR_ARG, "stats: no place for the result");
  *out = NULL;
  int rate = 0;
  if (r) {
    pthread_rwlock_rdlock(&r->cfg);
    rate = r->rate;
    pthread_rwlock_unlock(&r->cfg);
  }
  if (r && r->pg)
    return pg_read_stats(r->pg, f, util_now_us(), rate, out, cause);
  sqlite3 *db = NULL;
  reqlog_err err = lend_db(r, &db, cause);
  if (err != REQLOG_OK)
    return err;
  err = rs_stats(db, f, util_now_us(), rate, out, cause);
  store_release(r->st, db);
  return err;
}

reqlog_err reqlog_storage(reqlog *r, cJSON **out, char **cause) {
  if (!out)
    return util_fail(cause, REQLOG_ERR_ARG, "storage: no place for the result");
  *out = NULL;
  if (r && r->pg)
    return pg_read_storage(r->pg, out, cause);
  sqlite3 *db = NULL;
  reqlog_err err = lend_db(r, &db, cause);
  if (err != REQLOG_OK)
    return err;
  err = rs_storage(db, out, cause);
  store_release(r->st, db);
  return err;
}

reqlog_err reqlog_problems(reqlog *r, const reqlog_filter *f, cJSON **out, char **cause) {
  if (!out)
    return util_fail(cause, REQLOG_ERR_ARG, "problems: no place for the result");
  *out = NULL;
  if (r && r->pg)
    return pg_read_problems(r->pg, f, util_now_us(), out, cause);
  sqlite3 *db = NULL;
  reqlog_err err = lend_db(r, &db, cause);
  if (err != REQLOG_OK)
    return err;
  err = rs_problems(db, f, util_now_us(), out, cause);
  store_release(r->st, db);
  return err;
}

reqlog_err reqlog_export(reqlog *r, const reqlog_filter *f, const reqlog_export_opts *opts,
                         reqlog_write_fn write, void *write_ctx, char **cause) {
  if (r && r->pg) {
    if (!opts || !write)
      return util_fail(cause, REQLOG_ERR_ARG, "export: no database, options or writer");
    return pg_read_export(r->pg, f, util_now_us(), opts, write, write_ctx, cause);
  }
  sqlite3 *db = NULL;
  reqlog_err err = lend_db(r, &db, cause);
  if (err != REQLOG_OK)
    return err;
  err = rs_export(db, f, util_now_us(), opts, write, write_ctx, cause);
  store_release(r->st, db);
  return err;
}

reqlog_err reqlog_prune_ex(reqlog *r, int64_t older_than_us, int64_t max_rows,
                           int include_pinned, int64_t *deleted, char **cause) {
  if (older_than_us < 0 || max_rows < 0 || (!older_than_us && !max_rows))
    return util_fail(cause, REQLOG_ERR_ARG, "prune needs an age or a row count");
  if (r && r->pg)
    return pg_read_prune(r->pg, older_than_us, max_rows, include_pinned, deleted, cause);
  reqlog_err err = need_store(r, cause);
  if (err != REQLOG_OK)
    return err;
  return store_prune(r->st, older_than_us, max_rows, include_pinned, deleted, cause);
}

reqlog_err reqlog_prune(reqlog *r, int64_t older_than_us, int64_t max_rows,
                        int64_t *deleted, char **cause) {
  return reqlog_prune_ex(r, older_than_us, max_rows, 0, deleted, cause);
}

reqlog_err reqlog_annotate(reqlog *r, int64_t id, const reqlog_annotation *a, char **cause) {
  if (!a)
    return util_fail(cause, REQLOG_ERR_ARG, "annotate: no change given");
  if (r && r->pg)
    return pg_read_annotate(r->pg, id, a, util_now_us(), cause);
  reqlog_err err = need_store(r, cause);
  if (err != REQLOG_OK)
    return err;
  sqlite3 *db = store_fg_lock(r->st);
  err = rs_annotate(db, id, a, util_now_us(), cause);
  store_fg_unlock(r->st);
  return err;
}

reqlog_err reqlog_diff(reqlog *r, int64_t a, int64_t b, const reqlog_diff_opts *opts,
                       cJSON **out, char **cause) {
  if (!out)
    return util_fail(cause, REQLOG_ERR_ARG, "diff: no place for the result");
  *out = NULL;
  cJSON *ra = NULL, *rb = NULL;
  reqlog_err err = reqlog_get(r, a, &ra, cause);
  if (err == REQLOG_OK)
    err = reqlog_get(r, b, &rb, cause);
  if (err == REQLOG_ERR_NOTFOUND) {
    if (cause) {
      reqlog_free(*cause);
      *cause = NULL;
    }
    err = util_fail(cause, err, "no call with id %lld", (long long)(ra ? b : a));
  }
  if (err == REQLOG_OK)
    err = reqlog_diff_rows(ra, rb, opts, out, cause);
  cJSON_Delete(ra);
  cJSON_Delete(rb);
  return err;
}

/* The rows scanned at most by reqlog_previous_call(): a path prefix can match many
 * longer paths, and the answer must come in bounded time. */
enum { PREVIOUS_SCAN_MAX = 20000 };

reqlog_err reqlog_previous_call(reqlog *r, int64_t id, int64_t *prev, char **cause) {
  if (!prev)
    return util_fail(cause, REQLOG_ERR_ARG, "previous call: no place for the id");
  *prev = 0;
  cJSON *row = NULL;
  reqlog_err err = reqlog_get(r, id, &row, cause);
  if (err != REQLOG_OK)
    return err;
  const char *method = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "method"));
  const char *host = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "host"));
  const char *path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "path"));
  reqlog_filter *f = NULL;
  err = reqlog_filter_new(&f);
  /* the filters narrow the walk; the exact path is checked on each row */
  if (err == REQLOG_OK && method)
    err = reqlog_filter_set(f, "method", method, NULL);
  /* a host or path the filter refuses only narrows less: the row check stays exact */
  if (err == REQLOG_OK && host && *host)
    (void)reqlog_filter_set(f, "host", host, NULL);
  if (err == REQLOG_OK && path && path[0] == '/' && !strchr(path, '*'))
    (void)reqlog_filter_set(f, "path", path, NULL);
  reqlog_query_opts opts = {.before_id = id, .limit = PREVIOUS_SCAN_MAX};
  reqlog_cursor *c = NULL;
  if (err == REQLOG_OK)
    err = reqlog_query(r, f, &opts, &c, cause);
  while (err == REQLOG_OK) {
    cJSON *cand = NULL;
    err = reqlog_cursor_next(c, &cand);
    if (err != REQLOG_OK)
      break;
    const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cand, "path"));
    const char *h = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cand, "host"));
    const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cand, "method"));
    if (p && path && strcmp(p, path) == 0 && (!host || (h && strcmp(h, host) == 0)) &&
        m && method && strcmp(m, method) == 0)
      *prev = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(cand, "id"));
    cJSON_Delete(cand);
    if (*prev)
      break;
  }
  reqlog_cursor_free(c);
  reqlog_filter_free(f);
  if (err == REQLOG_ERR_DONE || (err == REQLOG_OK && !*prev))
    err = util_fail(cause, REQLOG_ERR_NOTFOUND, "no call to %s %s before #%lld",
                    method ? method : "?", path ? path : "?", (long long)id);
  cJSON_Delete(row);
  return err;
}
