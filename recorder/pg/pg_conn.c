/* pg_conn.c: a connection to the team store from a libpq URI: only postgresql:// and
 * postgres:// are taken (never a key=value string, a service name or a file), the URI's
 * own settings win over reqlog's defaults (a connect timeout, the application name),
 * notices are kept off stderr, and every error quotes libpq through pg_url_scrub, so a
 * password written in the URI never reaches a message. */
#include "pg/pg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* Seconds libpq waits for a server that does not answer, unless the URI says. */
#define PG_CONNECT_TIMEOUT "10"

static void quiet(void *arg, const char *message) {
  (void)arg;
  (void)message;
}

reqlog_err pg_fail(pg_db *db, PGresult *res, char **cause, const char *what) {
  const char *msg = res ? PQresultErrorMessage(res) : NULL;
  if (!msg || !*msg)
    msg = db && db->conn ? PQerrorMessage(db->conn) : "out of memory";
  char *clean = pg_url_scrub(msg, db ? db->url : NULL);
  if (clean) {
    /* one line: libpq's continuation lines ("\n\tThis probably means...") joined */
    size_t o = 0;
    for (size_t i = 0; clean[i]; i++) {
      int space = clean[i] == '\n' || clean[i] == '\t' || clean[i] == ' ';
      if (!space || (o && clean[o - 1] != ' '))
        clean[o++] = space ? ' ' : clean[i];
    }
    while (o && clean[o - 1] == ' ')
      o--;
    clean[o] = '\0';
  }
  reqlog_err e = util_fail(cause, REQLOG_ERR_DB, "%s: %s", what, clean ? clean : "out of memory");
  free(clean);
  PQclear(res);
  return e;
}

reqlog_err pg_query(pg_db *db, const char *sql, int nparams, const char *const *params,
                    PGresult **res, char **cause, const char *what) {
  *res = nparams ? PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0)
                 : PQexec(db->conn, sql);
  ExecStatusType st = *res ? PQresultStatus(*res) : PGRES_FATAL_ERROR;
  if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
    return REQLOG_OK;
  reqlog_err e = pg_fail(db, *res, cause, what);
  *res = NULL;
  return e;
}

reqlog_err pg_exec(pg_db *db, const char *sql, char **cause, const char *what) {
  PGresult *res = NULL;
  reqlog_err e = pg_query(db, sql, 0, NULL, &res, cause, what);
  PQclear(res);
  return e;
}

/* Opens DB->conn to DB->url. */
static reqlog_err connect_url(pg_db *db, char **cause) {
  /* defaults first: with expand_dbname the URI (the last dbname) overrides them */
  const char *const keys[] = {"connect_timeout", "application_name", "client_encoding",
                              "dbname", NULL};
  const char *const vals[] = {PG_CONNECT_TIMEOUT, "reqlog", "UTF8", db->url, NULL};
  db->conn = PQconnectdbParams(keys, vals, 1);
  if (!db->conn)
    return util_fail(cause, REQLOG_ERR_NOMEM, "cannot connect to %s: out of memory", db->shown);
  if (PQstatus(db->conn) != CONNECTION_OK) {
    char what[512];
    snprintf(what, sizeof what, "cannot connect to %s", db->shown);
    return pg_fail(db, NULL, cause, what);
  }
  PQsetNoticeProcessor(db->conn, quiet, NULL);
  /* No JIT: reqlog's statements are short and touch every day partition, so the plans
   * look costly and PostgreSQL would compile them for each run: 1.8 s of a shipping
   * batch of 2,000 rows into 31 days that runs in 9 ms without (bench/pg_ship.sh). */
  return pg_exec(db, "SET jit = off", cause, "cannot set up the connection");
}

reqlog_err pg_connect(const char *url, pg_db **out, char **cause) {
  *out = NULL;
  if (!reqlog_is_store_url(url))
    return util_fail(cause, REQLOG_ERR_ARG, "not a PostgreSQL URL (postgresql://... or "
                     "postgres://...)");
  pg_db *db = calloc(1, sizeof *db);
  if (db) {
    db->url = util_strdup(url);
    db->shown = pg_url_shown(url);
  }
  if (!db || !db->url || !db->shown) {
    pg_close(db);
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  }
  reqlog_err e = connect_url(db, cause);
  if (e != REQLOG_OK) {
    pg_close(db);
    return e;
  }
  *out = db;
  return REQLOG_OK;
}

reqlog_err pg_open(const char *url, pg_db **out, char **cause) {
  reqlog_err e = pg_connect(url, out, cause);
  if (e == REQLOG_OK && (e = pg_migrate(*out, cause)) != REQLOG_OK) {
    pg_close(*out);
    *out = NULL;
  }
  return e;
}

reqlog_err pg_reconnect(pg_db *db, char **cause) {
  PQfinish(db->conn);
  db->conn = NULL;
  pg_partition_forget(db);
  pg_stmt_forget(db);
  return connect_url(db, cause);
}

int pg_server_answers(const char *url) {
  const char *const keys[] = {"connect_timeout", "dbname", NULL};
  const char *const vals[] = {PG_CONNECT_TIMEOUT, url, NULL};
  return PQpingParams(keys, vals, 1) == PQPING_OK;
}

int pg_connected(const pg_db *db) {
  return db && db->conn && PQstatus(db->conn) == CONNECTION_OK;
}

const char *pg_shown(const pg_db *db) {
  return db->shown;
}

void pg_close(pg_db *db) {
  if (!db)
    return;
  PQfinish(db->conn);
  pg_stmt_forget(db);
  if (db->url)
    explicit_bzero(db->url, strlen(db->url));
  free(db->url);
  free(db->shown);
  free(db->days);
  free(db);
}
