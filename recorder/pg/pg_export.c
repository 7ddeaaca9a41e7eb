/* pg_export.c: the exports of the team store (pg_read_export). The rows come as one
 * `COPY (SELECT ...) TO STDOUT` stream, the way psql's \copy reads them: the server
 * writes rows without waiting for the client to ask for the next batch (a cursor's
 * FETCH) and the client reads one line per row without building a result set for it.
 * Each line (COPY's text format) is cut into its columns in place and handed to the one
 * set of writers (read/export.c) as a row source (rowsrc.h). COPY takes no parameters,
 * so the filter's values are written into the statement as literals escaped by libpq.
 * Only the columns the writer reads are sent (the CSV writer reads 15 of them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/pg_int.h"
#include "read/export.h"
#include "read/filter.h"
#include "read/problems.h"
#include "read/row.h"
#include "read/sqlq.h"

#define NFIELDS (RC_COUNT + 2) /* the row columns, then the two bytea bodies */

struct pg_export {
  pg_db *db;
  const reqlog_filter *f;
  int64_t now_us;
  char *line;                 /* the current row (libpq's buffer), cut in place */
  char *field[NFIELDS];       /* NULL: SQL NULL */
  size_t len[NFIELDS];
  unsigned char *bin[2];      /* the bytea bodies decoded from the current row */
  size_t binlen[2];
  rowsrc src;
  int copying;                /* the COPY has rows still to come */
};

/* ------------------------------------------------------------------ the statement */

/* Q's text with each $n replaced by its value as a literal into *SQL (malloc'd):
 * integers in parentheses (a negative one after a minus is no comment), texts quoted by
 * PQescapeLiteral. */
static reqlog_err inline_values(pg_db *db, const sqlq *q, char **sql, char **cause) {
  *sql = NULL;
  if (q->oom)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory while building a query");
  const sqlq_val *vals = sqlq_values(q);
  textbuf out = {0};
  reqlog_err err = REQLOG_OK;
  for (const char *p = q->sql.data; *p && err == REQLOG_OK; p++) {
    if (*p != '$' || p[1] < '1' || p[1] > '9') {
      tb_byte(&out, *p);
      continue;
    }
    size_t n = 0;
    while (p[1] >= '0' && p[1] <= '9')
      n = n * 10 + (size_t)(*++p - '0');
    if (n > q->nvals) {
      err = util_fail(cause, REQLOG_ERR_ARG, "export: no value for $%zu", n);
    } else if (!vals[n - 1].is_text) {
      tb_byte(&out, '(');
      tb_int(&out, vals[n - 1].i);
      tb_byte(&out, ')');
    } else {
      char *lit = PQescapeLiteral(db->conn, vals[n - 1].s, strlen(vals[n - 1].s));
      if (lit)
        tb_str(&out, lit);
      else
        err = pg_fail(db, NULL, cause, "export");
      PQfreemem(lit);
    }
  }
  tb_terminate(&out);
  if (err == REQLOG_OK && (out.nomem || !out.data))
    err = util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  if (err != REQLOG_OK) {
    free(out.data);
    return err;
  }
  *sql = out.data;
  return REQLOG_OK;
}

/* ------------------------------------------------------------------ one row */

/* Undoes COPY's text escapes of the field at P (LEN bytes) in place; its new length. */
static size_t unescape(char *p, size_t len) {
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    if (p[i] != '\\' || i + 1 == len) {
      p[o++] = p[i];
      continue;
    }
    char c = p[++i];
    switch (c) {
    case 'b': p[o++] = '\b'; break;
    case 'f': p[o++] = '\f'; break;
    case 'n': p[o++] = '\n'; break;
    case 'r': p[o++] = '\r'; break;
    case 't': p[o++] = '\t'; break;
    case 'v': p[o++] = '\v'; break;
    default:
      if (c >= '0' && c <= '7') { /* up to three octal digits */
        int v = c - '0';
        for (int k = 0; k < 2 && i + 1 < len && p[i + 1] >= '0' && p[i + 1] <= '7'; k++)
          v = v * 8 + (p[++i] - '0');
        p[o++] = (char)v;
      } else { /* \\ and any other character stand for themselves */
        p[o++] = c;
      }
    }
  }
  p[o] = '\0';
  return o;
}

static void forget_bodies(struct pg_export *x) {
  for (int i = 0; i < 2; i++) {
    PQfreemem(x->bin[i]);
    x->bin[i] = NULL;
  }
}

static void forget_line(struct pg_export *x) {
  forget_bodies(x);
  PQfreemem(x->line);
  x->line = NULL;
}

/* Cuts the line of LEN bytes (ending with its newline) into the fields. */
static reqlog_err cut(struct pg_export *x, int len, char **cause) {
  char *p = x->line, *end = x->line + len;
  if (len > 0 && end[-1] == '\n')
    *--end = '\0';
  for (int i = 0; i < NFIELDS; i++) {
    char *tab = memchr(p, '\t', (size_t)(end - p));
    char *stop = tab ? tab : end;
    if ((tab == NULL) != (i == NFIELDS - 1))
      return util_fail(cause, REQLOG_ERR_DB, "export: a COPY row without its %d columns", NFIELDS);
    *stop = '\0';
    if (stop - p == 2 && p[0] == '\\' && p[1] == 'N') {
      x->field[i] = NULL;
      x->len[i] = 0;
    } else {
      x->field[i] = p;
      x->len[i] = unescape(p, (size_t)(stop - p));
    }
    p = stop + 1;
  }
  return REQLOG_OK;
}

static const struct pg_export *xrow(const rowsrc *r) {
  return r->impl;
}

static int x_is_null(const rowsrc *r, int col) {
  const struct pg_export *x = xrow(r);
  if (x->field[col])
    return 0;
  if (col == RC_REQUEST_BODY || col == RC_RESPONSE_BODY)
    return x->field[RC_COUNT + (col == RC_RESPONSE_BODY)] == NULL;
  return 1;
}

static int x_int64(const rowsrc *r, int col, int64_t *v) {
  const struct pg_export *x = xrow(r);
  *v = x->field[col] ? strtoll(x->field[col], NULL, 10) : 0;
  return x->field[col] != NULL;
}

static const unsigned char *x_text(const rowsrc *r, int col, size_t *len) {
  const struct pg_export *x = xrow(r);
  if (len)
    *len = x->len[col];
  return (const unsigned char *)x->field[col];
}

static rowsrc_kind x_body(const rowsrc *r, int col, const unsigned char **data, size_t *len) {
  struct pg_export *x = r->impl;
  *data = x_text(r, col, len);
  if (*data)
    return ROWSRC_TEXT;
  int b = col == RC_RESPONSE_BODY;
  const char *hex = x->field[RC_COUNT + b];
  if (!hex)
    return ROWSRC_NULL;
  if (!x->bin[b]) {
    x->bin[b] = PQunescapeBytea((const unsigned char *)hex, &x->binlen[b]);
    if (!x->bin[b])
      return ROWSRC_NULL; /* out of memory: shown as no body rather than a wrong one */
  }
  *data = x->bin[b];
  *len = x->binlen[b];
  return ROWSRC_BLOB;
}

static const struct rowsrc_ops copy_ops = {
  .is_null = x_is_null, .int64 = x_int64, .text = x_text, .body = x_body,
};

/* ------------------------------------------------------------------ the source */

static reqlog_err x_count(void *ctx, int64_t *n, char **cause) {
  struct pg_export *x = ctx;
  return pg_count_on(x->db, x->f, x->now_us, n, cause);
}

static reqlog_err x_open(void *ctx, row_cols cols, char **cause) {
  struct pg_export *x = ctx;
  x->src = (rowsrc){.ops = &copy_ops, .impl = x};
  sqlq q = {.dialect = SQLQ_PG};
  sqlq_add(&q, "COPY (SELECT ");
  pg_add_columns(&q, cols);
  sqlq_add(&q, " FROM calls AS c WHERE ");
  filter_sql(x->f, x->now_us, &q);
  sqlq_add(&q, " ORDER BY c.id ASC) TO STDOUT");
  char *sql = NULL;
  reqlog_err err = inline_values(x->db, &q, &sql, cause);
  sqlq_free(&q);
  /* Every row: PostgreSQL's cheapest plan sorts the whole table first (a parallel scan
   * and a sort of 10M rows: the first row after 25-60 s); merging the day partitions'
   * id indexes costs the same in all (35.8 vs 34.5 s, 41.2 vs 41.2 s at 10M) and starts
   * at once. With a filter the planner's choice stands: a rare match is found by its
   * index and sorted, where the merge would read every row. (In the transaction of
   * with_stream(): SET LOCAL ends with it.) */
  if (err == REQLOG_OK && filter_is_empty(x->f))
    err = pg_exec(x->db, "SET LOCAL enable_sort = off", cause, "reading the store");
  if (err != REQLOG_OK) {
    free(sql);
    return err;
  }
  PGresult *res = PQexec(x->db->conn, sql);
  free(sql);
  if (!res || PQresultStatus(res) != PGRES_COPY_OUT)
    return pg_fail(x->db, res, cause, "reading the store");
  PQclear(res);
  x->copying = 1;
  return REQLOG_OK;
}

/* Reads what is left of the COPY (its end, and the command's result). */
static reqlog_err finish(struct pg_export *x, char **cause) {
  x->copying = 0;
  reqlog_err err = REQLOG_OK;
  PGresult *res;
  while ((res = PQgetResult(x->db->conn)) != NULL) {
    if (err == REQLOG_OK && PQresultStatus(res) != PGRES_COMMAND_OK) {
      err = pg_fail(x->db, res, cause, "reading the store");
      continue;
    }
    PQclear(res);
  }
  return err;
}

static reqlog_err x_next(void *ctx, const rowsrc **row, char **cause) {
  struct pg_export *x = ctx;
  forget_line(x);
  if (!x->copying)
    return REQLOG_ERR_DONE;
  char *buf = NULL;
  int n = PQgetCopyData(x->db->conn, &buf, 0);
  if (n == -1) {
    reqlog_err err = finish(x, cause);
    return err == REQLOG_OK ? REQLOG_ERR_DONE : err;
  }
  if (n < 0) {
    reqlog_err err = pg_fail(x->db, NULL, cause, "reading the store");
    finish(x, NULL);
    return err;
  }
  x->line = buf;
  reqlog_err err = cut(x, n, cause);
  if (err == REQLOG_OK)
    *row = &x->src;
  return err;
}

static void x_close(void *ctx) {
  struct pg_export *x = ctx;
  forget_line(x);
  if (!x->copying)
    return;
  /* ended early (the reader went away, or a write failed): the server is told to stop,
   * and what it had sent is read and dropped */
  PGcancel *cn = PQgetCancel(x->db->conn);
  char why[256];
  if (cn) {
    PQcancel(cn, why, sizeof why);
    PQfreeCancel(cn);
  }
  char *buf = NULL;
  int n;
  while ((n = PQgetCopyData(x->db->conn, &buf, 0)) > 0)
    PQfreemem(buf);
  finish(x, NULL);
}

/* What reads the COPY stream: READER(SRC, ARG, CAUSE) with SRC the rows F matches. */
typedef reqlog_err (*stream_reader)(const export_source *src, void *arg, char **cause);

/* Runs READER over the rows of F in one snapshot (so the count behind an export's progress
 * is the count of the rows written), on a connection of S's pool. */
static reqlog_err with_stream(pg_store *s, const reqlog_filter *f, int64_t now_us,
                              const char *what, stream_reader reader, void *arg,
                              char **cause) {
  pg_db *db = NULL;
  reqlog_err err = pg_store_acquire(s, &db, cause);
  if (err != REQLOG_OK)
    return err;
  struct pg_export x = {.db = db, .f = f, .now_us = now_us};
  export_source src = {
    .ctx = &x, .count = x_count, .open = x_open, .next = x_next, .close = x_close,
  };
  err = pg_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", cause, what);
  if (err == REQLOG_OK) {
    err = reader(&src, arg, cause);
    PGresult *res = PQexec(db->conn, "COMMIT");
    PQclear(res);
  }
  pg_store_release(s, db);
  return err;
}

struct problems_arg {
  const reqlog_filter *f; /* as the caller gave it (the groups' list filters) */
  int64_t now_us;
  cJSON **out;
};

static reqlog_err read_problems(const export_source *src, void *arg, char **cause) {
  struct problems_arg *a = arg;
  return problems_run(src, a->f, a->now_us, a->out, cause);
}

/* The problems (read/problems.c) of the calls F matches, grouped from the same COPY
 * stream an export reads: only the failing calls are sent (problems_filter). */
reqlog_err pg_read_problems(pg_store *s, const reqlog_filter *f, int64_t now_us, cJSON **out,
                            char **cause) {
  *out = NULL;
  reqlog_filter *failing = problems_filter(f);
  if (!failing)
    return util_fail(cause, REQLOG_ERR_NOMEM, "problems: out of memory");
  struct problems_arg a = {.f = f, .now_us = now_us, .out = out};
  reqlog_err err = with_stream(s, failing, now_us, "problems", read_problems, &a, cause);
  reqlog_filter_free(failing);
  return err;
}

struct export_arg {
  const reqlog_export_opts *opts;
  reqlog_write_fn write;
  void *ctx;
};

static reqlog_err read_export(const export_source *src, void *arg, char **cause) {
  struct export_arg *a = arg;
  return export_run(src, a->opts, a->write, a->ctx, cause);
}

reqlog_err pg_read_export(pg_store *s, const reqlog_filter *f, int64_t now_us,
                          const reqlog_export_opts *opts, reqlog_write_fn write, void *ctx,
                          char **cause) {
  struct export_arg a = {.opts = opts, .write = write, .ctx = ctx};
  return with_stream(s, f, now_us, "export", read_export, &a, cause);
}
