/* notes_sqlite.c: rs_annotate, a change to a call's notes, tags and pin on a SQLite
 * history (read.h): notes.c's statements in one write transaction, so two changes to
 * one call cannot interleave. */
#include "read/notes.h"
#include "read/read.h"

#include "base/errors.h"
#include "base/util.h"

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

/* Reads what call ID has into *OLD; REQLOG_ERR_NOTFOUND when there is no such call. */
static reqlog_err read_old(sqlite3 *db, int64_t id, notes_state *old, char **cause) {
  sqlq q = {0};
  notes_read_sql(id, &q);
  sqlite3_stmt *st = NULL;
  reqlog_err err = run(db, &q, &st, cause);
  sqlq_free(&q);
  if (err == REQLOG_ERR_DONE)
    return util_fail(cause, REQLOG_ERR_NOTFOUND, "no call with id %lld", (long long)id);
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
  notes_state old = {0}, now = {0};
  reqlog_err err = read_old(db, id, &old, cause);
  if (err == REQLOG_OK)
    err = notes_apply(&old, a, &now, cause);
  sqlq w[NOTES_WRITES] = {{0}};
  if (err == REQLOG_OK)
    notes_write_sql(id, &now, now_us, w);
  for (int i = 0; i < NOTES_WRITES; i++) {
    if (err == REQLOG_OK && (w[i].sql.data || w[i].oom))
      err = run(db, &w[i], NULL, cause);
    sqlq_free(&w[i]);
  }
  if (err == REQLOG_OK && (rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK)
    err = util_fail(cause, errors_from_sqlite(rc), "notes: cannot commit: %s",
                    sqlite3_errmsg(db));
  if (err != REQLOG_OK)
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  notes_state_free(&old);
  notes_state_free(&now);
  return err;
}
