/* pg_notes.c: reqlog_annotate() on the team store: read/notes.h's change (the same
 * statements SQLite runs, in PostgreSQL's dialect) in one transaction, with call_notes
 * locked against other writers of notes (readers go on) so two changes cannot
 * interleave. */
#include <stdlib.h>

#include "pg/pg_int.h"
#include "read/notes.h"

/* Runs Q on DB; its result (may be NULL) into *RES when RES is not NULL. */
static reqlog_err run(pg_db *db, sqlq *q, PGresult **res, char **cause) {
  pg_params p;
  PGresult *r = NULL;
  reqlog_err err = pg_params_of(q, &p, cause);
  if (err == REQLOG_OK)
    err = pg_query(db, q->sql.data, p.n, p.v, &r, cause, "notes");
  pg_params_free(&p);
  if (res)
    *res = r;
  else
    PQclear(r);
  return err;
}

static reqlog_err exec_one(void *ctx, sqlq *q, char **cause) {
  return run(ctx, q, NULL, cause);
}

static reqlog_err read_old(void *ctx, sqlq *q, notes_state *old, char **cause) {
  PGresult *res = NULL;
  reqlog_err err = run(ctx, q, &res, cause);
  if (err == REQLOG_OK && PQntuples(res) == 0)
    err = REQLOG_ERR_NOTFOUND;
  if (err == REQLOG_OK) {
    old->pinned = !PQgetisnull(res, 0, 1) && atoi(PQgetvalue(res, 0, 1)) != 0;
    if ((!PQgetisnull(res, 0, 2) && !(old->tags = util_strdup(PQgetvalue(res, 0, 2)))) ||
        (!PQgetisnull(res, 0, 3) && !(old->note = util_strdup(PQgetvalue(res, 0, 3)))))
      err = util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  }
  PQclear(res);
  return err;
}

reqlog_err pg_notes_on(pg_db *db, int64_t id, const reqlog_annotation *a, int64_t now_us,
                       char **cause) {
  reqlog_err err = pg_exec(db, "BEGIN; LOCK TABLE call_notes IN SHARE ROW EXCLUSIVE MODE",
                           cause, "notes: cannot start");
  if (err != REQLOG_OK)
    return err;
  static const notes_ops ops = {.read = read_old, .exec = exec_one};
  err = notes_change(id, a, now_us, SQLQ_PG, &ops, db, cause);
  if (err == REQLOG_OK)
    err = pg_exec(db, "COMMIT", cause, "notes: cannot commit");
  if (err != REQLOG_OK)
    PQclear(PQexec(db->conn, "ROLLBACK"));
  return err;
}
