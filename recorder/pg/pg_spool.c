/* pg_spool.c: the local history a shipper reads (its spool), through the store's
 * read-only open (the file checks, an older schema upgraded by its owner), or, in the
 * process that records into it, through a plain read-only connection: its
 * history_id, how many rows lie above an id, and the rows above an id in id order, in
 * the column order of PG_SPOOL_COLS, header JSON and bodies as recorded (unpacked: the
 * store gets plain values). The spool may be being recorded into meanwhile:
 * every read is one snapshot of what was committed. */
#include "pg/pg_spool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/errors.h"
#include "base/util.h"
#include "store/store.h"

struct pg_spool {
  store *st;
  sqlite3 *db;
  sqlite3_stmt *rows, *count, *max, *oldest;
  int64_t history_id;
};

/* The rows above ?1, oldest first, up to ?2. The field names of error_fields (what
 * call_fields holds: the keys of the API's "errors" object) come from the JSON itself,
 * since call_fields has no index by call. */
static const char ROWS_SQL[] =
  "SELECT id, started_at, method, url, host, path, status, error, duration_us, queued_us,"
  " dns_us, connect_us, tls_us, ttfb_us, key, attempt, retry_of, source,"
  " reqlog_unpack(packed, request_headers), reqlog_unpack(packed, response_headers),"
  " request_size, request_truncated, reqlog_unpack(packed, request_sha256),"
  " response_size, response_truncated, reqlog_unpack(packed, response_sha256),"
  " content_type, http_version, remote_ip, error_message, error_fields, origin,"
  " CASE WHEN json_valid(error_fields) THEN CASE WHEN json_type(error_fields) = 'object'"
  "  THEN (SELECT json_group_array(DISTINCT key) FROM json_each(calls.error_fields)) END END,"
  " request_id, replay_of,"
  " reqlog_unpack(packed, request_body), reqlog_unpack(packed, response_body)"
  " FROM calls WHERE id > ?1 ORDER BY id LIMIT ?2";

static reqlog_err prepare(pg_spool *sp, const char *sql, sqlite3_stmt **st, char **cause) {
  int rc = sqlite3_prepare_v2(sp->db, sql, -1, st, NULL);
  return rc == SQLITE_OK ? REQLOG_OK
                         : util_fail(cause, errors_from_sqlite(rc), "cannot read the spool: %s",
                                     sqlite3_errmsg(sp->db));
}

/* REQLOG_OK when a step returned RC = a row or the end, else the failure. */
static reqlog_err stepped(pg_spool *sp, int rc, char **cause) {
  return rc == SQLITE_ROW || rc == SQLITE_DONE
           ? REQLOG_OK
           : util_fail(cause, errors_from_sqlite(rc), "cannot read the spool: %s",
                       sqlite3_errmsg(sp->db));
}

/* The connection of SP is open: reads its history_id and prepares the statements. */
static reqlog_err prepare_all(pg_spool *sp, const char *path, reqlog_err e, pg_spool **out,
                              char **cause) {
  sqlite3_stmt *hid = NULL;
  if (e == REQLOG_OK)
    e = prepare(sp, "SELECT value FROM meta WHERE name = 'history_id'", &hid, cause);
  if (e == REQLOG_OK) {
    int rc = sqlite3_step(hid);
    if (rc == SQLITE_ROW)
      sp->history_id = sqlite3_column_int64(hid, 0);
    else
      e = util_fail(cause, rc == SQLITE_DONE ? REQLOG_ERR_DB : errors_from_sqlite(rc),
                    "%s has no history_id: %s", path,
                    rc == SQLITE_DONE ? "not a reqlog history" : sqlite3_errmsg(sp->db));
  }
  sqlite3_finalize(hid);
  if (e == REQLOG_OK)
    e = prepare(sp, ROWS_SQL, &sp->rows, cause);
  if (e == REQLOG_OK)
    e = prepare(sp, "SELECT count(*) FROM calls WHERE id > ?1", &sp->count, cause);
  if (e == REQLOG_OK)
    e = prepare(sp, "SELECT id, origin FROM calls ORDER BY id DESC LIMIT 1", &sp->max, cause);
  if (e == REQLOG_OK)
    e = prepare(sp, "SELECT started_at + duration_us FROM calls WHERE id > ?1 ORDER BY id "
                    "LIMIT 1", &sp->oldest, cause);
  if (e != REQLOG_OK) {
    pg_spool_close(sp);
    return e;
  }
  *out = sp;
  return REQLOG_OK;
}

reqlog_err pg_spool_open(const char *path, pg_spool **out, char **cause) {
  *out = NULL;
  pg_spool *sp = calloc(1, sizeof *sp);
  if (!sp)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  reqlog_err e = store_open_read(path, &sp->st, cause);
  if (e == REQLOG_OK)
    e = store_acquire(sp->st, &sp->db, cause);
  return prepare_all(sp, path, e, out, cause);
}

reqlog_err pg_spool_open_here(const char *path, pg_spool **out, char **cause) {
  *out = NULL;
  pg_spool *sp = calloc(1, sizeof *sp);
  if (!sp)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  int rc = sqlite3_open_v2(path, &sp->db, SQLITE_OPEN_READONLY, NULL);
  reqlog_err e = REQLOG_OK;
  if (rc != SQLITE_OK)
    e = util_fail(cause, errors_from_sqlite(rc), "cannot read the spool %s: %s", path,
                  sp->db ? sqlite3_errmsg(sp->db) : sqlite3_errstr(rc));
  else if ((rc = store_pack_register(sp->db)) != SQLITE_OK)
    e = util_fail(cause, errors_from_sqlite(rc), "cannot read the spool %s: %s", path,
                  sqlite3_errstr(rc));
  else
    sqlite3_busy_timeout(sp->db, 5000);
  return prepare_all(sp, path, e, out, cause);
}

void pg_spool_close(pg_spool *sp) {
  if (!sp)
    return;
  sqlite3_finalize(sp->rows);
  sqlite3_finalize(sp->count);
  sqlite3_finalize(sp->max);
  sqlite3_finalize(sp->oldest);
  if (sp->db && sp->st)
    store_release(sp->st, sp->db);
  else if (sp->db)
    sqlite3_close(sp->db);
  store_close(sp->st);
  free(sp);
}

int64_t pg_spool_history(const pg_spool *sp) {
  return sp->history_id;
}

/* Steps ST (bound), giving its first row's column 0 in *V (DEF when no row). */
static reqlog_err one_int(pg_spool *sp, sqlite3_stmt *st, int64_t def, int64_t *v, char **cause) {
  int rc = sqlite3_step(st);
  *v = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL ? sqlite3_column_int64(st, 0)
                                                                     : def;
  reqlog_err e = stepped(sp, rc, cause);
  sqlite3_reset(st);
  return e;
}

reqlog_err pg_spool_count_above(pg_spool *sp, int64_t id, int64_t *n, char **cause) {
  sqlite3_bind_int64(sp->count, 1, id);
  return one_int(sp, sp->count, 0, n, cause);
}

reqlog_err pg_spool_oldest_end_above(pg_spool *sp, int64_t id, int64_t *end_us, char **cause) {
  sqlite3_bind_int64(sp->oldest, 1, id);
  return one_int(sp, sp->oldest, -1, end_us, cause);
}

reqlog_err pg_spool_newest(pg_spool *sp, int64_t *id, char *origin, size_t size, char **cause) {
  int rc = sqlite3_step(sp->max);
  *id = 0;
  if (size)
    origin[0] = '\0';
  if (rc == SQLITE_ROW) {
    *id = sqlite3_column_int64(sp->max, 0);
    const char *o = (const char *)sqlite3_column_text(sp->max, 1);
    if (o && size)
      snprintf(origin, size, "%s", o);
  }
  reqlog_err e = stepped(sp, rc, cause);
  sqlite3_reset(sp->max);
  return e;
}

sqlite3_stmt *pg_spool_rows(pg_spool *sp, int64_t above, int limit) {
  sqlite3_reset(sp->rows);
  sqlite3_bind_int64(sp->rows, 1, above);
  sqlite3_bind_int(sp->rows, 2, limit);
  return sp->rows;
}

reqlog_err pg_spool_rows_done(pg_spool *sp, int rc, char **cause) {
  sqlite3_reset(sp->rows);
  return stepped(sp, rc, cause);
}
