/* api_read.c: the public reading functions of a reqlog handle (query, get, count,
 * stats, export, prune, a shipped call's store id): each picks the backend (the team
 * store on PostgreSQL, pg/pg.h, or the SQLite history) and, for SQLite, lends a pooled connection of the
 * handle's store to the read side (read/read.h) and takes it back. */
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
  err = rs_query(db, f, opts, util_now_us(), store_release, r->st, out, cause);
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
