/* pg_int.h: what the files of recorder/pg/ share: the connection behind a pg_db, the
 * advisory lock keys, and error causes built from libpq's messages with the password
 * scrubbed out. The one header of the library that includes <libpq-fe.h>. */
#ifndef REQLOG_PG_INT_H
#define REQLOG_PG_INT_H

#include <libpq-fe.h>
#include "pg/pg.h"
#include "read/row.h"
#include "base/textbuf.h"
#include "base/util.h"

/* pg_advisory_xact_lock(PG_LOCK_CLASS, what): 'rqlg' and the thing locked. */
#define PG_LOCK_CLASS 1920035943
#define PG_LOCK_SCHEMA 1
#define PG_LOCK_PARTITION 2
/* Held from drawing the ids of calls to the commit that inserts them (pg_ship.c), and
 * by prune's deletes (pg_prune.c). */
#define PG_LOCK_INSERT 3
/* Held by the session doing what the migrations left to do on each day partition
 * (pg_fill.c). */
#define PG_LOCK_FILL 4
/* A lock key as SQL text: PG_SQL(PG_LOCK_INSERT) is "3". */
#define PG_SQL_(x) #x
#define PG_SQL(x) PG_SQL_(x)

struct pg_db {
  PGconn *conn;
  char *url;        /* as given (may hold a password): kept in memory to reconnect */
  char *shown;      /* without the password */
  int64_t *days;    /* the days whose partitions are known to exist, sorted */
  size_t ndays, capdays;
  struct pg_stmts *stmts; /* its prepared statements (pg_stmt.c), NULL until the first */
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

/* The values of a query built with read/sqlq.h (PostgreSQL dialect) as libpq's text
 * parameters: v[i] points into the query (a text) or into ints (an integer written out). */
struct sqlq;
typedef struct pg_params {
  const char **v;
  char (*ints)[24];
  int n;
} pg_params;
/* Fills P from Q (pg_read.c); fails when Q ran out of memory while it was built, or
 * now. Free with pg_params_free(), also after a failure. */
reqlog_err pg_params_of(const struct sqlq *q, pg_params *p, char **cause);
void pg_params_free(pg_params *p);

/* ------------------------------------------------------------------ pg_read.c */

/* A connection of the store's pool (waiting a little for an idle one), and back. */
reqlog_err pg_store_acquire(pg_store *s, pg_db **db, char **cause);
void pg_store_release(pg_store *s, pg_db *db);
/* Appends the select list of row columns COLS over `calls AS c` to Q: the row columns in
 * enum row_col order (booleans as integers, bodies as text or NULL), then the two bytea
 * bodies at RC_COUNT and RC_COUNT + 1; a column not in COLS is NULL (not sent). */
#define PG_BODY_COLS (ROW_COL(RC_REQUEST_BODY) | ROW_COL(RC_RESPONSE_BODY))
void pg_add_columns(struct sqlq *q, row_cols cols);
/* How many calls match F, on DB. */
reqlog_err pg_count_on(pg_db *db, const reqlog_filter *f, int64_t now_us, int64_t *n,
                       char **cause);

/* ------------------------------------------------------------------ pg_fill.c */

/* What the migrations left to do on the day partitions they found (the table
 * reqlog_fill lists them, schema/pg/005_request_id.sql): the request ids of the calls
 * that were in the store before the column, and each partition's part of the indexes
 * made ON ONLY calls; one day partition at a time in short transactions under a session
 * lock, so that hosts opening the store at once do each partition once and an
 * interrupted run goes on where it stopped; progress on stderr when it is a terminal.
 * Run by pg_migrate() after the schema is current. */
reqlog_err pg_fill_parts(pg_db *db, char **cause);

/* ------------------------------------------------------------------ pg_stmt.c */

/* How many statement texts a connection keeps prepared. */
#define PG_STMT_MAX 32
/* How PostgreSQL plans a statement: one generic plan reused whatever the values, or a
 * plan for each execution made with its values. */
#define PG_PLAN_GENERIC 0
#define PG_PLAN_CUSTOM 1
/* One generic plan made without sequential or plain index scans: each day partition's
 * matches collected by their indexes (bitmaps) and sorted. For a text whose matches are
 * known to be few (pg_read.c, a rare word): planning it with its values over 31 day
 * partitions costs more than running it. Only for texts run in no other mode: a cached
 * generic plan stays what it was when made. */
#define PG_PLAN_BITMAP 2
/* Sends SQL with its NPARAMS text PARAMS on DB (idle or in a transaction), as the named
 * statement prepared for that text on this connection (prepared now the first time),
 * planned as MODE says. The result is read with PQgetResult as after PQsendQueryParams. */
reqlog_err pg_stmt_send(pg_db *db, const char *sql, int nparams, const char *const *params,
                        int mode, char **cause);
/* Forgets DB's statements (the session that held them is gone or going). */
void pg_stmt_forget(pg_db *db);
/* Puts DB's planner settings back to what every reader expects (scans that
 * PG_PLAN_BITMAP turned off on again) before the connection goes back to the pool:
 * statistics, exports and the other readers run their SQL without pg_stmt_send. Returns
 * 0, or -1 when they could not be set (the connection should then be closed). */
int pg_stmt_plain(pg_db *db);

/* ------------------------------------------------------------------ pg_copy.c */

/* One value in COPY's text format, appended to B (the caller writes the tabs and the
 * newline between them). */
void pg_copy_null(textbuf *b);
void pg_copy_int(textbuf *b, int64_t v);
void pg_copy_bool(textbuf *b, int v);
/* N bytes as text: escaped, with what is not UTF-8 (and NUL) replaced by U+FFFD. */
void pg_copy_text(textbuf *b, const unsigned char *p, size_t n);
/* N bytes as bytea. */
void pg_copy_bytea(textbuf *b, const unsigned char *p, size_t n);
/* Non-zero when N bytes at P can be stored as text as they are: UTF-8 without NUL. */
int pg_copy_is_text(const unsigned char *p, size_t n);

#endif
