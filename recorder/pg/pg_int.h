/* pg_int.h: what the files of recorder/pg/ share: the connection behind a pg_db, the
 * advisory lock keys, and error causes built from libpq's messages with the password
 * scrubbed out. The one header of the library that includes <libpq-fe.h>. */
#ifndef REQLOG_PG_INT_H
#define REQLOG_PG_INT_H

#include <libpq-fe.h>
#include "pg/pg.h"

/* pg_advisory_xact_lock(PG_LOCK_CLASS, what): 'rqlg' and the thing locked. */
#define PG_LOCK_CLASS 1920035943
#define PG_LOCK_SCHEMA 1
#define PG_LOCK_PARTITION 2

struct pg_db {
  PGconn *conn;
  char *url;        /* as given (may hold a password): kept in memory to reconnect */
  char *shown;      /* without the password */
  int64_t *days;    /* the days whose partitions are known to exist, sorted */
  size_t ndays, capdays;
};

/* Fails with REQLOG_ERR_DB: "WHAT: libpq's message" (the connection's, or RES's when
 * RES is not NULL), the password scrubbed. Frees RES. */
reqlog_err pg_fail(pg_db *db, PGresult *res, char **cause, const char *what);
/* Runs SQL (no parameters, one or more statements); REQLOG_OK when it succeeded. */
reqlog_err pg_exec(pg_db *db, const char *sql, char **cause, const char *what);
/* Runs SQL with text parameters and returns its result (tuples or command ok) in *RES,
 * or fails like pg_fail. */
reqlog_err pg_query(pg_db *db, const char *sql, int nparams, const char *const *params,
                    PGresult **res, char **cause, const char *what);

#endif
