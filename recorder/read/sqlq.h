/* sqlq.h: SQL text built piece by piece together with the values bound to its '?'
 * placeholders, so captured or user-given data never enters SQL text. */
#ifndef REQLOG_SQLQ_H
#define REQLOG_SQLQ_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include "reqlog.h"
#include "base/dynbuf.h"

typedef struct sqlq_val {
  int is_text;
  int64_t i;
  char *s;
} sqlq_val;

/* The SQL a query is written in: the placeholders ('?' or $n) and, in the filter
 * builders (filter_sql.c), the few expressions the two databases spell differently. */
typedef enum { SQLQ_SQLITE = 0, SQLQ_PG } sqlq_dialect;

typedef struct sqlq {
  sqlq_dialect dialect;  /* set before the first append; zero: SQLite */
  dynbuf sql;       /* the text (a C string; data NULL until something is appended),
                     * capped at SQLQ_MAX_SQL bytes once the first append sets it up */
  dynbuf vals;      /* NVALS sqlq_val, one per '?' in the text, in order */
  size_t nvals;
  int oom;          /* set once an append failed; every later call is a no-op */
} sqlq;

/* The values of Q in order, an array of Q->nvals (NULL when there are none). */
const sqlq_val *sqlq_values(const sqlq *q);

/* The most SQL text a query may have: SQLite's default SQLITE_MAX_SQL_LENGTH, so a text
 * it stops at could not have been prepared anyway. */
#define SQLQ_MAX_SQL 1000000000u

/* Zero-initialise with `sqlq q = {0};`. Appends never fail loudly: they set q->oom (also
 * when the text would pass SQLQ_MAX_SQL), which sqlq_prepare() reports as
 * REQLOG_ERR_NOMEM. */
void sqlq_add(sqlq *q, const char *text);
void sqlq_int(sqlq *q, int64_t v);          /* appends "?" ($n) bound to V */
void sqlq_text(sqlq *q, const char *v);     /* appends "?" ($n) bound to a copy of V */

/* Prepares the SQL on DB and binds every value. Returns REQLOG_OK and *stmt, or an error
 * with the SQLite message in *cause (reqlog_free()). */
reqlog_err sqlq_prepare(const sqlq *q, sqlite3 *db, sqlite3_stmt **stmt, char **cause);
void sqlq_free(sqlq *q);

/* A query whose text begins with STMT_PARK_MARK (base/stmtpark.h) takes the statement
 * of the same text that a closed cursor parked on the connection, if there is one. */

#endif
