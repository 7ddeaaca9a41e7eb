/* sqlq.c: SQL text built piece by piece with the values for its '?' placeholders kept
 * beside it, bound only when the statement is prepared. */
#include "read/sqlq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/errors.h"
#include "base/stmtpark.h"
#include "base/util.h"

void sqlq_add(sqlq *q, const char *text) {
  if (!q || q->oom || !text)
    return;
  if (!q->sql.max) /* zero-initialised: the first append sets the cap */
    dynbuf_init(&q->sql, SQLQ_MAX_SQL);
  if (dynbuf_add_str(&q->sql, text) != REQLOG_OK)
    q->oom = 1;
}

const sqlq_val *sqlq_values(const sqlq *q) {
  return (const sqlq_val *)(const void *)q->vals.data;
}

/* Appends "?" and V. Takes ownership of V.s (also on failure). */
static void add_value(sqlq *q, sqlq_val v) {
  if (q->oom) {
    free(v.s);
    return;
  }
  if (!q->vals.max) /* zero-initialised; the text's cap bounds the values (one '?' each) */
    dynbuf_init(&q->vals, SIZE_MAX);
  if (dynbuf_add(&q->vals, &v, sizeof v) != REQLOG_OK) {
    free(v.s);
    q->oom = 1;
    return;
  }
  q->nvals++;
  if (q->dialect == SQLQ_PG) {
    char n[24];
    snprintf(n, sizeof n, "$%zu", q->nvals);
    sqlq_add(q, n);
  } else {
    sqlq_add(q, "?");
  }
}

void sqlq_int(sqlq *q, int64_t v) {
  if (!q)
    return;
  sqlq_val val = {0, v, NULL};
  add_value(q, val);
}

void sqlq_text(sqlq *q, const char *v) {
  if (!q || q->oom)
    return;
  sqlq_val val = {1, 0, NULL};
  if (v) {
    val.s = util_strdup(v);
    if (!val.s) {
      q->oom = 1;
      return;
    }
  }
  add_value(q, val);
}

reqlog_err sqlq_prepare(const sqlq *q, sqlite3 *db, sqlite3_stmt **stmt, char **cause) {
  if (stmt)
    *stmt = NULL;
  if (!q || !db || !stmt)
    return util_fail(cause, REQLOG_ERR_ARG, "sqlq_prepare: no query, database or statement");
  if (q->oom)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory while building a query");
  if (!q->sql.data)
    return util_fail(cause, REQLOG_ERR_ARG, "sqlq_prepare: empty query");

  sqlite3_stmt *st = stmt_park_find(db, q->sql.data); /* NULL unless its text is marked */
  const char *tail = "";
  reqlog_err err = REQLOG_OK;
  int rc = st ? SQLITE_OK : sqlite3_prepare_v2(db, q->sql.data, -1, &st, &tail);
  if (rc != SQLITE_OK) {
    err = util_fail(cause, errors_from_sqlite(rc), "%s", sqlite3_errmsg(db));
    goto fail;
  }
  if (!st) {
    err = util_fail(cause, REQLOG_ERR_ARG, "sqlq_prepare: no SQL statement");
    goto fail;
  }
  /* One statement only: anything after it would be silently ignored. */
  tail += strspn(tail, " \t\r\n;");
  if (*tail) {
    err = util_fail(cause, REQLOG_ERR_ARG, "sqlq_prepare: more than one SQL statement");
    goto fail;
  }
  if ((size_t)sqlite3_bind_parameter_count(st) != q->nvals) {
    err = util_fail(cause, REQLOG_ERR_ARG, "sqlq_prepare: %d placeholders for %zu values",
                    sqlite3_bind_parameter_count(st), q->nvals);
    goto fail;
  }
  for (size_t i = 0; i < q->nvals; i++) {
    const sqlq_val *v = &sqlq_values(q)[i];
    int idx = (int)i + 1;
    if (!v->is_text)
      rc = sqlite3_bind_int64(st, idx, v->i);
    else if (v->s)
      rc = sqlite3_bind_text(st, idx, v->s, -1, SQLITE_TRANSIENT);
    else
      rc = sqlite3_bind_null(st, idx);
    if (rc != SQLITE_OK) {
      err = util_fail(cause, errors_from_sqlite(rc), "%s", sqlite3_errmsg(db));
      goto fail;
    }
  }
  *stmt = st;
  return REQLOG_OK;

fail:
  sqlite3_finalize(st);
  return err;
}

void sqlq_free(sqlq *q) {
  if (!q)
    return;
  for (size_t i = 0; i < q->nvals; i++)
    free(((sqlq_val *)(void *)q->vals.data)[i].s);
  dynbuf_free(&q->vals);
  dynbuf_free(&q->sql);
  memset(q, 0, sizeof *q);
}
