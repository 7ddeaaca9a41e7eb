/* store_prune.c: prune: deletes the rows older than a time and beyond a count from the
 * history, with their search index entries and fields, and wipes what they held from
 * the file (secure_delete, the index rewritten, the WAL checkpointed and emptied). */
#include "store/store_int.h"
#include "base/errors.h"

#include "base/util.h"

/* Deletes the rows of the temp table prune_ids from the index, the field table, the
 * notes (schema/006_notes.sql) and calls, in the open transaction. The highest id the history ever had is kept first as
 * meta.id_floor, so that ids keep growing after the newest rows are deleted (see
 * STORE_INSERT_SQL). */
static int delete_ids(sqlite3 *db) {
  int rc = store_conn_exec(db,
      "INSERT INTO meta(name, value) SELECT 'id_floor', max(id) FROM calls"
      " WHERE id IN (SELECT id FROM temp.prune_ids) HAVING max(id) IS NOT NULL"
      " ON CONFLICT(name) DO UPDATE SET value = max(value, excluded.value)");
  if (rc == SQLITE_OK)
    rc = store_conn_exec(db,
      "INSERT INTO calls_fts(calls_fts, rowid, url, request_body, response_body)"
      " SELECT 'delete', id, " STORE_FTS_VALUES
      " FROM calls WHERE id IN (SELECT id FROM temp.prune_ids)"
      " AND id <= (SELECT value FROM meta WHERE name = 'fts_indexed')");
  if (rc == SQLITE_OK)
    rc = store_conn_exec(db, "DELETE FROM call_fields WHERE call_id IN (SELECT id FROM temp.prune_ids)");
  if (rc == SQLITE_OK)
    rc = store_conn_exec(db, "DELETE FROM call_tags WHERE call_id IN (SELECT id FROM temp.prune_ids)");
  if (rc == SQLITE_OK)
    rc = store_conn_exec(db, "DELETE FROM call_notes WHERE call_id IN (SELECT id FROM temp.prune_ids)");
  if (rc == SQLITE_OK)
    rc = store_conn_exec(db, "DELETE FROM calls WHERE id IN (SELECT id FROM temp.prune_ids)");
  return rc;
}

/* Collects in temp.prune_ids the rows older than OLDER_THAN_US (0: no bound) and those
 * beyond the newest MAX_ROWS (0: no bound), in the open transaction; pinned calls are
 * kept unless INCLUDE_PINNED (the newest MAX_ROWS are counted with them). */
static int select_prune_ids(sqlite3 *db, int64_t older_than_us, int64_t max_rows,
                            int include_pinned) {
  static const char *const sql[] = {
    "INSERT OR IGNORE INTO temp.prune_ids SELECT id FROM calls WHERE started_at < ?",
    /* keep the newest MAX_ROWS rows (ids grow with time of recording) */
    "INSERT OR IGNORE INTO temp.prune_ids SELECT id FROM calls"
    " ORDER BY id DESC LIMIT -1 OFFSET ?",
  };
  const int64_t bound[] = {older_than_us, max_rows};
  int rc = store_conn_exec(db, "DELETE FROM temp.prune_ids");
  for (int i = 0; i < 2 && rc == SQLITE_OK; i++) {
    if (bound[i] <= 0)
      continue;
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(db, sql[i], -1, &st, NULL);
    if (rc == SQLITE_OK) {
      sqlite3_bind_int64(st, 1, bound[i]);
      rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
    }
    sqlite3_finalize(st);
  }
  if (rc == SQLITE_OK && !include_pinned)
    rc = store_conn_exec(db, "DELETE FROM temp.prune_ids WHERE id IN"
                             " (SELECT call_id FROM call_notes WHERE pinned = 1)");
  return rc;
}

/* Pruned text must not stay in the file. secure_delete overwrites the deleted rows and
 * every page freed; the contentless full-text index, though, only adds delete markers
 * for them, next to the old entries that still hold their words: 'optimize' merges the
 * index into one segment without them (and frees, so overwrites, the old segments). The
 * whole index is rewritten, which is why prune does it once, after all its deletes.
 * Returns an SQLite code. */
static int delete_and_wipe(sqlite3 *db, int64_t *deleted) {
  int rc = delete_ids(db);
  if (rc == SQLITE_OK)
    *deleted = sqlite3_changes64(db);
  if (rc == SQLITE_OK && *deleted > 0)
    rc = store_dict_retire_pruned(db);
  if (rc == SQLITE_OK && *deleted > 0)
    rc = store_conn_exec(db, "INSERT INTO calls_fts(calls_fts) VALUES ('optimize')");
  return rc;
}

/* The deletes are in the WAL; the old pages are still in the database file (and the WAL
 * may hold copies of the rows from when they were written). A checkpoint copies the
 * overwritten pages into the file and TRUNCATE empties the WAL. It waits (busy timeout)
 * for readers of older snapshots; one that stays longer keeps the old pages: the rows
 * are gone, but that is reported. Done after every prune, so that running it again
 * finishes what a reader stopped. */
static reqlog_err wipe_wal(store *s, sqlite3 *db, int64_t deleted, char **cause) {
  int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
  if (rc == SQLITE_OK || deleted <= 0)
    return REQLOG_OK;
  return util_fail(cause, errors_from_sqlite(rc),
                   "pruned %lld calls, but their old pages are still in %s and its -wal: "
                   "another process kept reading (%s); run prune again when it is done",
                   (long long)deleted, s->path, sqlite3_errmsg(db));
}

reqlog_err store_prune(store *s, int64_t older_than_us, int64_t max_rows, int include_pinned,
                       int64_t *deleted, char **cause) {
  *deleted = 0;
  sqlite3 *db = store_fg_lock(s);
  int rc = store_conn_exec(db, "PRAGMA secure_delete = ON");
  if (rc == SQLITE_OK)
    rc = store_conn_exec(db, "CREATE TEMP TABLE IF NOT EXISTS prune_ids(id INTEGER PRIMARY KEY)");
  if (rc == SQLITE_OK)
    rc = store_conn_exec(db, "BEGIN IMMEDIATE");
  if (rc == SQLITE_OK)
    rc = select_prune_ids(db, older_than_us, max_rows, include_pinned);
  if (rc == SQLITE_OK)
    rc = delete_and_wipe(db, deleted);
  if (rc == SQLITE_OK)
    rc = store_conn_exec(db, "COMMIT");
  reqlog_err err = REQLOG_OK;
  if (rc != SQLITE_OK) {
    err = store_conn_fail(db, rc, cause, "prune failed");
    store_conn_exec(db, "ROLLBACK");
    *deleted = 0;
  } else {
    err = wipe_wal(s, db, *deleted, cause);
  }
  store_fg_unlock(s);
  return err;
}
