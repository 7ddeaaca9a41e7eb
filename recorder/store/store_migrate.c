/* store_migrate.c: the schema version of a history (PRAGMA user_version counts the
 * migrations of schema/ applied): applying those this build has and the file lacks, and
 * checking that a history opened for reading is one this reqlog reads, upgrading an
 * older one first when this user may write it. */
#include "store/store_int.h"
#include "base/errors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/schema.h"
#include "base/util.h"

int store_migrate_count(void) {
  int n = 0;
  while (reqlog_schema_files[n].name)
    n++;
  return n;
}

static reqlog_err newer_schema(char **cause, int version) {
  return util_fail(cause, REQLOG_ERR_DB,
                   "the database has schema version %d but this reqlog knows only %d: "
                   "it was written by a newer reqlog", version, store_migrate_count());
}

/* The user_version of DB; 0 when it cannot be read (as a new database's). */
static int user_version(sqlite3 *db) {
  sqlite3_stmt *st = NULL;
  int version = 0;
  int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
  if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    version = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return version;
}

/* The text of migration I, with '@local_origin@' (003_origin.sql) replaced by this
 * host's name as an SQL literal; NULL when out of memory. Free with sqlite3_free(). */
static char *migration_sql(int i) {
  static const char mark[] = "'@local_origin@'";
  const char *sql = (const char *)reqlog_schema_files[i].data;
  const char *at = strstr(sql, mark);
  if (!at)
    return sqlite3_mprintf("%s", sql);
  char host[UTIL_ORIGIN_MAX + 1];
  util_host_origin(host, sizeof host);
  return sqlite3_mprintf("%.*s%Q%s", (int)(at - sql), sql, host, at + sizeof mark - 1);
}

/* Runs migrations VERSION up to KNOWN, then records KNOWN, in the open transaction. */
static reqlog_err apply(sqlite3 *db, int version, int known, char **cause) {
  for (int i = version; i < known; i++) {
    char *msg = NULL;
    char *sql = migration_sql(i);
    int rc = sql ? sqlite3_exec(db, sql, NULL, NULL, &msg) : SQLITE_NOMEM;
    sqlite3_free(sql);
    if (rc != SQLITE_OK) {
      reqlog_err e = util_fail(cause, errors_from_sqlite(rc), "migration %s failed: %s",
                               reqlog_schema_files[i].name, msg ? msg : sqlite3_errstr(rc));
      sqlite3_free(msg);
      return e;
    }
  }
  if (known == version)
    return REQLOG_OK;
  char sql[64];
  snprintf(sql, sizeof sql, "PRAGMA user_version = %d", known);
  int rc = store_conn_exec(db, sql);
  return rc == SQLITE_OK ? REQLOG_OK
                         : store_conn_fail(db, rc, cause, "cannot record the schema version");
}

/* ------------------------------------------------------------------ 004's data part */

#define COMPACT_CHUNK 2000        /* rows converted per transaction */

/* meta.compact_top (004_compact.sql): the last row the conversion must reach, 0 when
 * there is no conversion left to do. */
static int64_t compact_top(sqlite3 *db) {
  sqlite3_stmt *st = NULL;
  int64_t top = 0;
  if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE name = 'compact_top'", -1, &st,
                         NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    top = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return top;
}

static void progress(int tty, int64_t done, int64_t top, int64_t t0) {
  if (!tty)
    return;
  double s = (double)(util_mono_us() - t0) / 1e6;
  fprintf(stderr, "\rreqlog: converting the history to its compact form: %lld / %lld rows"
          " (%.0f%%, %.0f s)", (long long)done, (long long)top,
          top > 0 ? 100.0 * (double)done / (double)top : 100.0, s);
  fflush(stderr);
}

/* The data part of 004_compact.sql: every row indexed, rolled up and packed again by the
 * indexer's own catch-up (store_index.c), a chunk per transaction, so a conversion that
 * is interrupted (kill -9 included) loses nothing and goes on from its last chunk the
 * next time the history is opened by its owner; then the file is compacted (VACUUM: the
 * space the old index and the plain values took is given back to the file system) and
 * the mark of the conversion removed. Progress goes to stderr when it is a terminal. */
static reqlog_err compact(sqlite3 *db, char **cause) {
  int64_t top = compact_top(db);
  if (top <= 0)
    return REQLOG_OK;
  int tty = isatty(2);
  int64_t t0 = util_mono_us();
  int64_t done_rows = 0;
  for (;;) {
    int done = 0;
    reqlog_err err = store_index_fts(db, COMPACT_CHUNK, &done);
    if (err != REQLOG_OK)
      return util_fail(cause, err, "converting the history to its compact form: %s",
                       sqlite3_errmsg(db));
    if (done == 0)
      break;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE name = 'fts_indexed'", -1, &st,
                           NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
      done_rows = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    progress(tty, done_rows < top ? done_rows : top, top, t0);
  }
  if (tty)
    fprintf(stderr, "\nreqlog: compacting the file\n");
  /* VACUUM needs room for the compacted copy: without it the history is converted all
   * the same and keeps its size (SQLite reuses the free pages), said on a terminal */
  int rc = store_conn_exec(db, "VACUUM");
  if (rc != SQLITE_OK && tty)
    fprintf(stderr, "reqlog: the file could not be compacted (%s); it keeps its size, its "
            "free pages are used again\n", sqlite3_errmsg(db));
  rc = store_conn_exec(db, "DELETE FROM meta WHERE name = 'compact_top'");
  if (rc != SQLITE_OK)
    return store_conn_fail(db, rc, cause, "compacting the converted history");
  sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
  if (tty)
    fprintf(stderr, "reqlog: the history is converted (%.0f s)\n",
            (double)(util_mono_us() - t0) / 1e6);
  return REQLOG_OK;
}

/* Applies the migrations this build has and the database lacks, all in one transaction. */
static reqlog_err migrate_schema(sqlite3 *db, char **cause) {
  int rc = store_conn_exec(db, "BEGIN IMMEDIATE");
  if (rc != SQLITE_OK)
    return store_conn_fail(db, rc, cause, "cannot start the schema migration");
  int version = user_version(db);
  int known = store_migrate_count();
  reqlog_err err = version > known ? newer_schema(cause, version)
                                   : apply(db, version, known, cause);
  if (err != REQLOG_OK) {
    store_conn_exec(db, "ROLLBACK");
    return err;
  }
  rc = store_conn_exec(db, "COMMIT");
  if (rc != SQLITE_OK) {
    store_conn_exec(db, "ROLLBACK");
    return store_conn_fail(db, rc, cause, "cannot commit the schema migration");
  }
  /* A migration of a large history (new indexes, rollups) leaves a WAL as big as what
   * it wrote (tens of MB for 1M rows), kept on disk until a later checkpoint resets it.
   * Fold it into the database now; when another process is reading, this does what it
   * can and the WAL resets later. */
  if (known != version)
    sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
  return REQLOG_OK;
}

/* The schema, then the data part of a conversion that is still to do. */
reqlog_err store_migrate(sqlite3 *db, char **cause) {
  reqlog_err err = migrate_schema(db, cause);
  return err == REQLOG_OK ? compact(db, cause) : err;
}

/* A history written by an older reqlog is upgraded before it is read, by its owner
 * when the owner may write it (as opening it for recording would). */
static reqlog_err upgrade_for_reading(store *s, int version, char **cause) {
  store_file wf;
  sqlite3 *db = NULL;
  char *why = NULL;
  reqlog_err err = store_file_claim(s->path, &wf, &why);
  if (err == REQLOG_OK) {
    err = store_conn_open(wf.open_name, wf.open_flags | SQLITE_OPEN_NOMUTEX, &db, &why);
    store_file_free(&wf);
  }
  if (err == REQLOG_OK)
    err = store_migrate(db, &why);
  sqlite3_close(db);
  if (err != REQLOG_OK)
    util_fail(cause, err, "%s was written by an older reqlog (schema %d of %d): it must be "
              "upgraded by its owner, with any command that writes to it such as prune (%s)",
              s->path, version, store_migrate_count(), why ? why : reqlog_strerror(err));
  free(why);
  return err;
}

/* The read connection's history is one this reqlog reads: reqlog's, and no newer. */
reqlog_err store_migrate_check_readable(store *s, char **cause) {
  sqlite3_stmt *st = NULL;
  int version = -1;
  int rc = sqlite3_prepare_v2(s->fg, "PRAGMA user_version", -1, &st, NULL);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
      version = sqlite3_column_int(st, 0);
  }
  sqlite3_finalize(st);
  if (version < 0 && (rc & 0xff) == SQLITE_CANTOPEN)
    return util_fail(cause, REQLOG_ERR_READONLY, "cannot read %s: %s; a history being "
                     "written is read through its -wal and -shm files, which must be readable "
                     "or, when missing, possible to create in its folder", s->path,
                     sqlite3_errmsg(s->fg));
  if (version < 0)
    return store_conn_fail(s->fg, rc, cause, "cannot read the history");
  if (version == 0)
    return util_fail(cause, REQLOG_ERR_DB, "%s is not a reqlog history (an SQLite database "
                     "without reqlog's tables)", s->path);
  if (version > store_migrate_count())
    return newer_schema(cause, version);
  if (version < store_migrate_count())
    return upgrade_for_reading(s, version, cause);
  if (compact_top(s->fg) > 0) {
    /* a conversion that was interrupted goes on when its owner reads; anyone else reads
     * it as it is (rows not yet converted are plain and searched by scan) */
    char *why = NULL;
    if (upgrade_for_reading(s, version, &why) != REQLOG_OK)
      free(why);
  }
  return REQLOG_OK;
}
