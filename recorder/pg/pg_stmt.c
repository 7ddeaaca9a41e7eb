/* pg_stmt.c: the prepared statements of one connection. A reading query of a given
 * filter shape always has the same SQL text (its values are $n parameters), so each
 * connection keeps the last PG_STMT_MAX texts it ran as named statements: a text is
 * prepared (parsed) once, then only bound and executed. Whether PostgreSQL may reuse
 * one generic plan for it or plans each execution with its values (plan_cache_mode,
 * set on the connection when the next statement wants the other one) is the caller's
 * choice per text. docs/design.md §9 "Reading". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/pg_int.h"

struct pg_stmt {
  char *sql;            /* NULL: a free slot */
  unsigned long long used; /* when last run (the cache's clock) */
  unsigned serial;      /* its name: "rq<serial>" */
};

struct pg_stmts {
  struct pg_stmt slot[PG_STMT_MAX];
  unsigned long long clock;
  unsigned serial;
  int mode;             /* the connection's plan_cache_mode: PG_PLAN_* or -1 unknown */
};

void pg_stmt_forget(pg_db *db) {
  if (!db->stmts)
    return;
  for (int i = 0; i < PG_STMT_MAX; i++)
    free(db->stmts->slot[i].sql);
  free(db->stmts);
  db->stmts = NULL;
}

/* Sets the connection's planner settings to MODE's unless they are known to be that. */
static reqlog_err set_mode(pg_db *db, int mode, char **cause) {
  struct pg_stmts *st = db->stmts;
  if (st->mode == mode)
    return REQLOG_OK;
  static const char *const sql[] = {
    [PG_PLAN_GENERIC] = "SET plan_cache_mode = force_generic_plan; RESET enable_seqscan;"
                        " RESET enable_indexscan",
    [PG_PLAN_CUSTOM] = "SET plan_cache_mode = force_custom_plan; RESET enable_seqscan;"
                       " RESET enable_indexscan",
    [PG_PLAN_BITMAP] = "SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off;"
                       " SET enable_indexscan = off",
  };
  reqlog_err err = pg_exec(db, sql[mode], cause, "reading the store");
  /* Inside a transaction the setting ends with it when it rolls back: set it again
   * next time rather than trust it. */
  st->mode = err == REQLOG_OK && PQtransactionStatus(db->conn) == PQTRANS_IDLE ? mode : -1;
  return err;
}

/* The slot of SQL, prepared on the connection now when it was not. */
static reqlog_err prepared(pg_db *db, const char *sql, int nparams, struct pg_stmt **out,
                           char **cause) {
  struct pg_stmts *st = db->stmts;
  struct pg_stmt *victim = &st->slot[0];
  for (int i = 0; i < PG_STMT_MAX; i++) {
    struct pg_stmt *e = &st->slot[i];
    if (e->sql && strcmp(e->sql, sql) == 0) {
      e->used = ++st->clock;
      *out = e;
      return REQLOG_OK;
    }
    if (!e->sql || (victim->sql && e->used < victim->used))
      victim = e;
  }
  char name[32];
  if (victim->sql) { /* the least recently used text makes room */
    snprintf(name, sizeof name, "DEALLOCATE rq%u", victim->serial);
    free(victim->sql);
    victim->sql = NULL;
    reqlog_err err = pg_exec(db, name, cause, "reading the store");
    if (err != REQLOG_OK)
      return err;
  }
  char *copy = util_strdup(sql);
  if (!copy)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  unsigned serial = ++st->serial;
  snprintf(name, sizeof name, "rq%u", serial);
  PGresult *res = PQprepare(db->conn, name, sql, nparams, NULL);
  if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
    free(copy);
    return pg_fail(db, res, cause, "reading the store");
  }
  PQclear(res);
  victim->sql = copy;
  victim->serial = serial;
  victim->used = ++st->clock;
  *out = victim;
  return REQLOG_OK;
}

int pg_stmt_plain(pg_db *db) {
  if (!db->stmts || db->stmts->mode != PG_PLAN_BITMAP)
    return 0;
  return set_mode(db, PG_PLAN_GENERIC, NULL) == REQLOG_OK ? 0 : -1;
}

reqlog_err pg_stmt_send(pg_db *db, const char *sql, int nparams, const char *const *params,
                        int mode, char **cause) {
  if (!db->stmts) {
    db->stmts = calloc(1, sizeof *db->stmts);
    if (!db->stmts)
      return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
    db->stmts->mode = -1;
  }
  reqlog_err err = set_mode(db, mode, cause);
  struct pg_stmt *e = NULL;
  if (err == REQLOG_OK)
    err = prepared(db, sql, nparams, &e, cause);
  if (err != REQLOG_OK)
    return err;
  char name[32];
  snprintf(name, sizeof name, "rq%u", e->serial);
  if (!PQsendQueryPrepared(db->conn, name, nparams, params, NULL, NULL, 0))
    return pg_fail(db, NULL, cause, "reading the store");
  return REQLOG_OK;
}
