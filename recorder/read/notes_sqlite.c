/* notes_sqlite.c: rs_annotate, a change to a call's notes, tags and pin on a SQLite
 * history (read.h): notes.c's change in one write transaction, so two changes to one
 * call cannot interleave. */
#include "read/notes.h"
#include "read/read.h"

#include "base/errors.h"
#include "base/util.h"

/* Runs Q on DB; its first row stays in *KEEP (the caller finalizes it) when KEEP is not
 * NULL, else the statement is stepped to its end. REQLOG_ERR_DONE: no row for KEEP. */
static reqlog_err run(sqlite3 *db, sqlq *q, sqlite3_stmt **keep, char **cause) {
  sqlite3_stmt *st = NULL;
  reqlog_err err = sqlq_prepare(q, db, &st, cause);
  if (err != REQLOG_OK)
    return err;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW && keep) {
    *keep = st;
    return REQLOG_OK;
  }
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    err = util_fail(cause, errors_from_sqlite(rc), "notes: %s", sqlite3_errmsg(db));
  else if (keep)
    err = REQLOG_ERR_DONE;
  sqlite3_finalize(st);
  return err;
}

static reqlog_err exec_one(void *ctx, sqlq *q, char **cause) {
  return run(ctx, q, NULL, cause);
}

static reqlog_err read_old(void *ctx, sqlq *q, notes_state *old, char **cause) {
  sqlite3_stmt *st = NULL;
  reqlog_err err = run(ctx, q, &st, cause);
  if (err != REQLOG_OK)
    return err;
  old->pinned = sqlite3_column_int(st, 1) != 0;
  const char *t = (const char *)sqlite3_column_text(st, 2);
  const char *n = (const char *)sqlite3_column_text(st, 3);
  if ((t && !(old->tags = util_strdup(t))) || (n && !(old->note = util_strdup(n))))
    err = util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  sqlite3_finalize(st);
  return err;
}

reqlog_err rs_annotate(sqlite3 *db, int64_t id, const reqlog_annotation *a, int64_t now_us,
                       char **cause) {
  int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return util_fail(cause, errors_from_sqlite(rc), "notes: cannot start writing: %s",
                     sqlite3_errmsg(db));
  static const notes_ops ops = {.read = read_old, .exec = exec_one};
  reqlog_err err = notes_change(id, a, now_us, SQLQ_SQLITE, &ops, db, cause);
  if (err == REQLOG_OK && (rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK)
    err = util_fail(cause, errors_from_sqlite(rc), "notes: cannot commit: %s",
                    sqlite3_errmsg(db));
  if (err != REQLOG_OK)
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  return err;
}
