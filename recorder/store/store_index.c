/* store_index.c: the background catch-up behind the mark meta.fts_indexed: the rows
 * recorded since are indexed for full-text search (calls_fts), added to the stats
 * rollups of schema/002_stats.sql (and, in a history converted by 004_compact.sql,
 * packed: store_pack.c), in one transaction, so that recording pays for none of it. The
 * writer runs it when idle; benchmarks and tests call it directly. */
#include "store/store_int.h"
#include "base/errors.h"

#include "store/histogram.h"

/* Runs SQL with ?1 = FROM and ?2 = TO; returns an SQLite code. */
static int run_range(sqlite3 *db, const char *sql, int64_t from, int64_t to) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
  }
  sqlite3_finalize(st);
  return rc;
}

/* Adds the rows FROM < id <= TO to the stats rollups of 002_stats.sql (which take back
 * deleted and updated rows up to the indexer's mark through triggers). */
static int roll_up(sqlite3 *db, int64_t from, int64_t to) {
  static const char *const sql[] = {
    "INSERT INTO stats_minute(minute, key, n)"
    " SELECT started_at / 60000000, coalesce(key, ''), count(*) FROM calls"
    " WHERE id > ?1 AND id <= ?2 GROUP BY 1, 2"
    " ON CONFLICT(minute, key) DO UPDATE SET n = n + excluded.n",
    "INSERT INTO stats_day(day, status, n)"
    " SELECT started_at / 86400000000, coalesce(status, -1), count(*) FROM calls"
    " WHERE id > ?1 AND id <= ?2 GROUP BY 1, 2"
    " ON CONFLICT(day, status) DO UPDATE SET n = n + excluded.n",
    "INSERT INTO stats_hist(day, bucket, n)"
    " SELECT started_at / 86400000000, " HISTOGRAM_BUCKET_SQL("duration_us") ", count(*)"
    " FROM calls WHERE id > ?1 AND id <= ?2 AND status IS NOT NULL GROUP BY 1, 2"
    " ON CONFLICT(day, bucket) DO UPDATE SET n = n + excluded.n",
  };
  int rc = SQLITE_OK;
  for (size_t i = 0; rc == SQLITE_OK && i < sizeof sql / sizeof sql[0]; i++)
    rc = run_range(db, sql[i], from, to);
  return rc;
}

/* The mark (*mark) and the id of the last of the next MAX_ROWS rows above it (*top; not
 * above *mark when there are none), in the open transaction. Returns an SQLite code. */
static int next_range(sqlite3 *db, int max_rows, int64_t *mark, int64_t *top) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db,
      "SELECT (SELECT value FROM meta WHERE name = 'fts_indexed'),"
      " (SELECT max(id) FROM (SELECT id FROM calls WHERE id > (SELECT value FROM meta"
      " WHERE name = 'fts_indexed') ORDER BY id LIMIT ?))", -1, &st, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_int(st, 1, max_rows);
    if (sqlite3_step(st) == SQLITE_ROW) {
      *mark = sqlite3_column_int64(st, 0);
      *top = sqlite3_column_int64(st, 1);
    }
  }
  sqlite3_finalize(st);
  return rc;
}

/* Packs the header JSON and bodies of the rows FROM < id <= TO that were written plain
 * (by a reqlog before 004_compact.sql) with dictionary DICT. Returns an SQLite code. */
static int pack_range(sqlite3 *db, int64_t from, int64_t to, int64_t dict) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db,
      "UPDATE calls SET packed = 1,"
      " request_headers = reqlog_pack(request_headers, ?3),"
      " response_headers = reqlog_pack(response_headers, ?3),"
      " request_body = reqlog_pack(request_body, ?3),"
      " response_body = reqlog_pack(response_body, ?3),"
      " request_sha256 = reqlog_pack(request_sha256, 0),"
      " response_sha256 = reqlog_pack(response_sha256, 0)"
      " WHERE id > ?1 AND id <= ?2 AND packed = 0", -1, &st, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    sqlite3_bind_int64(st, 3, dict);
    rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
  }
  sqlite3_finalize(st);
  return rc;
}

/* Indexes the rows MARK < id <= TOP (*done gets how many), rolls them up, packs them
 * with DICT and moves the mark to TOP, in the open transaction. Returns an SQLite code. */
static int index_range(sqlite3 *db, int64_t mark, int64_t top, int64_t dict, int *done) {
  int rc = run_range(db,
      "INSERT INTO calls_fts(rowid, url, request_body, response_body)"
      " SELECT id, " STORE_FTS_VALUES " FROM calls WHERE id > ?1 AND id <= ?2", mark, top);
  if (rc == SQLITE_OK)
    *done = sqlite3_changes(db);
  if (rc == SQLITE_OK)
    rc = roll_up(db, mark, top);
  if (rc == SQLITE_OK)
    rc = pack_range(db, mark, top, dict);
  if (rc == SQLITE_OK)
    rc = run_range(db, "UPDATE meta SET value = ?2 WHERE name = 'fts_indexed'", mark, top);
  return rc;
}

reqlog_err store_index_fts(sqlite3 *db, int max_rows, int *done) {
  *done = 0;
  int64_t dict = 0;
  reqlog_err err = store_dict_current(db, &dict);
  if (err != REQLOG_OK)
    return err;
  int rc = store_conn_exec(db, "BEGIN IMMEDIATE");
  if (rc != SQLITE_OK)
    return errors_from_sqlite(rc);
  int64_t mark = 0, top = 0;
  rc = next_range(db, max_rows, &mark, &top);
  if (rc == SQLITE_OK && top > mark)
    rc = index_range(db, mark, top, dict, done);
  if (rc == SQLITE_OK)
    rc = store_conn_exec(db, "COMMIT");
  if (rc != SQLITE_OK) {
    store_conn_exec(db, "ROLLBACK");
    *done = 0;
  }
  return errors_from_sqlite(rc);
}
