/* store_conn.c: SQLite connections as every part of the store opens them (busy timeout,
 * extended result codes, the functions of the packed form; the checked file, not
 * replaced since its checks), and failures reported with their SQLite message (the
 * result code mapped by base/errors.h). */
#include "store/store_int.h"
#include "base/errors.h"
#include "base/stmtpark.h"

#include "base/util.h"

#define BUSY_TIMEOUT_MS 5000

reqlog_err store_conn_fail(sqlite3 *db, int rc, char **cause, const char *what) {
  return util_fail(cause, errors_from_sqlite(rc), "%s: %s", what,
                   db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

int store_conn_exec(sqlite3 *db, const char *sql) {
  return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

void store_conn_close(sqlite3 *db) {
  stmt_park_clear(db);
  sqlite3_close(db);
}

/* Opens one connection to PATH with the settings every connection needs. */
reqlog_err store_conn_open(const char *path, int flags, sqlite3 **out, char **cause) {
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2(path, &db, flags, NULL);
  if (rc != SQLITE_OK) {
    reqlog_err e = util_fail(cause, errors_from_sqlite(rc), "cannot open %s: %s", path,
                             db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return e;
  }
  sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
  sqlite3_extended_result_codes(db, 1);
  rc = store_pack_register(db);
  if (rc != SQLITE_OK) {
    sqlite3_close(db);
    return util_fail(cause, errors_from_sqlite(rc), "cannot open %s: %s", path,
                     sqlite3_errstr(rc));
  }
  *out = db;
  return REQLOG_OK;
}

/* A connection to the checked file, as the checks said to open it. */
reqlog_err store_conn_checked(store *s, sqlite3 **db, char **cause) {
  reqlog_err err = store_conn_open(s->file.open_name, s->file.open_flags | SQLITE_OPEN_NOMUTEX,
                                   db, cause);
  if (err == REQLOG_OK && store_file_same(s->path, &s->file) != 0) {
    sqlite3_close(*db);
    *db = NULL;
    err = util_fail(cause, REQLOG_ERR_IO, "%s was replaced while reqlog opened it", s->path);
  }
  return err;
}
