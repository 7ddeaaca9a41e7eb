/* pg_prune.c: prune on the team store: the calls that started before a time and those
 * beyond the newest N (by id), as SQLite's prune chooses them. Whole day partitions
 * older than the cut are dropped (DROP TABLE: no row by row delete, no dead rows left
 * to vacuum) with the rollups and id bounds of their days; the rows of the edge day and
 * those beyond the count are deleted, the rollup triggers of schema/pg/002_stats.sql and
 * 003_stats_hour.sql taking them back. One transaction, under the partition lock (a
 * shipper creating a day waits) and the insert lock (no batch is being inserted
 * meanwhile). Pinned calls (call_notes, schema/pg/006_notes.sql) stay unless asked: a day
 * holding one is not dropped but deleted from row by row around it. The notes and tags
 * of deleted calls go with them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/pg_int.h"

#define US_PER_DAY INT64_C(86400000000)

/* The partitions of calls wholly before CUT: name and lower bound (microseconds). */
static const char OLD_PARTS_SQL[] =
  "SELECT p.relname, b[1]::bigint FROM pg_inherits AS i"
  " JOIN pg_class AS p ON p.oid = i.inhrelid,"
  " LATERAL regexp_match(pg_get_expr(p.relpartbound, p.oid),"
  "  'FROM \\(''?(-?\\d+)''?\\) TO \\(''?(-?\\d+)''?\\)') AS b"
  " WHERE i.inhparent = 'calls'::regclass AND b[2]::bigint <= $1::bigint"
  " ORDER BY 2";

static reqlog_err one_int(pg_db *db, const char *sql, int nparams, const char *const *params,
                          int64_t *v, int *have, char **cause) {
  PGresult *res = NULL;
  reqlog_err err = pg_query(db, sql, nparams, params, &res, cause, "prune");
  if (err != REQLOG_OK)
    return err;
  *have = PQntuples(res) > 0 && !PQgetisnull(res, 0, 0);
  *v = *have ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
  PQclear(res);
  return REQLOG_OK;
}

/* Drops the partitions wholly before CUT and the rollups of their days, with the notes
 * of their calls; their rows are added to *DELETED. A day with a pinned call is left to
 * the row by row delete unless INCLUDE_PINNED. */
static reqlog_err drop_old_days(pg_db *db, int64_t cut, int include_pinned, int64_t *deleted,
                                char **cause) {
  char cut_s[24];
  snprintf(cut_s, sizeof cut_s, "%lld", (long long)cut);
  const char *const p[] = {cut_s};
  PGresult *parts = NULL;
  reqlog_err err = pg_query(db, OLD_PARTS_SQL, 1, p, &parts, cause, "prune");
  for (int i = 0; err == REQLOG_OK && i < PQntuples(parts); i++) {
    char *name = PQescapeIdentifier(db->conn, PQgetvalue(parts, i, 0),
                                    (size_t)PQgetlength(parts, i, 0));
    if (!name) {
      err = pg_fail(db, NULL, cause, "prune");
      break;
    }
    int64_t day = strtoll(PQgetvalue(parts, i, 1), NULL, 10) / US_PER_DAY, n = 0;
    int have = 0;
    char sql[200], d[24];
    snprintf(d, sizeof d, "%lld", (long long)day);
    const char *const dp[] = {d};
    char notes_sql[400];
    int64_t pins = 0;
    snprintf(notes_sql, sizeof notes_sql,
             "SELECT count(*) FROM %s WHERE id IN (SELECT call_id FROM call_notes"
             " WHERE pinned = 1)", name);
    if (!include_pinned)
      err = one_int(db, notes_sql, 0, NULL, &pins, &have, cause);
    if (err != REQLOG_OK || pins > 0) {
      PQfreemem(name);
      continue;
    }
    snprintf(notes_sql, sizeof notes_sql,
             "WITH t AS (DELETE FROM call_tags WHERE call_id IN (SELECT id FROM %s))"
             " DELETE FROM call_notes WHERE call_id IN (SELECT id FROM %s)", name, name);
    err = pg_exec(db, notes_sql, cause, "prune: cannot delete a day's notes");
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", name);
    if (err == REQLOG_OK)
      err = one_int(db, sql, 0, NULL, &n, &have, cause);
    snprintf(sql, sizeof sql, "DROP TABLE %s", name);
    PQfreemem(name);
    if (err == REQLOG_OK)
      err = pg_exec(db, sql, cause, "prune: cannot drop a day");
    PGresult *res = NULL;
    if (err == REQLOG_OK)
      err = pg_query(db,
                     "WITH a AS (DELETE FROM stats_day WHERE day = $1::bigint),"
                     " b AS (DELETE FROM stats_hist WHERE day = $1::bigint),"
                     " h AS (DELETE FROM stats_hour WHERE hour >= $1::bigint * 24"
                     "  AND hour < ($1::bigint + 1) * 24),"
                     " g AS (DELETE FROM stats_hour_hist WHERE hour >= $1::bigint * 24"
                     "  AND hour < ($1::bigint + 1) * 24),"
                     " i AS (DELETE FROM calls_day_ids WHERE day = $1::bigint),"
                     " k AS (DELETE FROM stats_day_key WHERE day = $1::bigint),"
                     " m AS (DELETE FROM stats_minute_all WHERE minute >= $1::bigint * 1440"
                     "  AND minute < ($1::bigint + 1) * 1440)"
                     " DELETE FROM stats_minute WHERE minute >= $1::bigint * 1440"
                     " AND minute < ($1::bigint + 1) * 1440",
                     1, dp, &res, cause, "prune: cannot take back a day's rollups");
    PQclear(res);
    *deleted += n;
  }
  PQclear(parts);
  return err;
}

/* The rows before a time ($1) or up to an id ($2), with their tags and notes; the count
 * deleted. */
#define PRUNE_SQL(cond)                                                                  \
  "WITH d AS (DELETE FROM calls WHERE (started_at < $1::bigint OR id <= $2::bigint)"     \
  cond " RETURNING id),"                                                                 \
  " t AS (DELETE FROM call_tags WHERE call_id IN (SELECT id FROM d)),"                   \
  " n AS (DELETE FROM call_notes WHERE call_id IN (SELECT id FROM d))"                   \
  " SELECT count(*) FROM d"
static const char PRUNE_ALL_SQL[] = PRUNE_SQL("");
static const char PRUNE_UNPINNED_SQL[] =
  PRUNE_SQL(" AND id NOT IN (SELECT call_id FROM call_notes WHERE pinned = 1)");

reqlog_err pg_prune_on(pg_db *db, int64_t older_than_us, int64_t max_rows, int include_pinned,
                       int64_t *deleted, char **cause) {
  *deleted = 0;
  reqlog_err err = pg_exec(db,
                           "BEGIN; SELECT pg_advisory_xact_lock(" PG_SQL(PG_LOCK_CLASS) ", "
                           PG_SQL(PG_LOCK_PARTITION) "), pg_advisory_xact_lock("
                           PG_SQL(PG_LOCK_CLASS) ", " PG_SQL(PG_LOCK_INSERT) ")",
                           cause, "prune: cannot start");
  if (err != REQLOG_OK)
    return err;
  /* The id below the newest MAX_ROWS, chosen before anything goes, as SQLite does. */
  int64_t below = 0;
  int have_below = 0;
  if (max_rows > 0) {
    char n[24];
    snprintf(n, sizeof n, "%lld", (long long)max_rows);
    const char *const p[] = {n};
    err = one_int(db, "SELECT id FROM calls ORDER BY id DESC OFFSET $1::bigint LIMIT 1", 1, p,
                  &below, &have_below, cause);
  }
  if (err == REQLOG_OK && older_than_us > 0)
    err = drop_old_days(db, older_than_us, include_pinned, deleted, cause);
  if (err == REQLOG_OK && (older_than_us > 0 || have_below)) {
    char cut[24], id[24];
    snprintf(cut, sizeof cut, "%lld", (long long)(older_than_us > 0 ? older_than_us : INT64_MIN));
    snprintf(id, sizeof id, "%lld", (long long)(have_below ? below : 0));
    const char *const p[] = {cut, id};
    PGresult *res = NULL;
    err = pg_query(db, include_pinned ? PRUNE_ALL_SQL : PRUNE_UNPINNED_SQL, 2, p, &res, cause,
                   "prune");
    if (err == REQLOG_OK && PQntuples(res) == 1)
      *deleted += strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
  }
  if (err == REQLOG_OK)
    err = pg_exec(db, "COMMIT", cause, "prune: cannot commit");
  if (err != REQLOG_OK) {
    PQclear(PQexec(db->conn, "ROLLBACK"));
    *deleted = 0;
    return err;
  }
  pg_partition_forget(db);
  return REQLOG_OK;
}
