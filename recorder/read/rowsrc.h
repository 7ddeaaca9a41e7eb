/* rowsrc.h: one result row of `calls`, whatever database it came from. The row model
 * (row.c), its text form (rowtext.c), CSV and HAR (export.c, export_har.c) read their
 * columns through it, so SQLite (inline here) and PostgreSQL (recorder/pg/, through
 * struct rowsrc_ops) give their rows to the same writers. Columns are named by enum
 * row_col (row.h). */
#ifndef REQLOG_ROWSRC_H
#define REQLOG_ROWSRC_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

typedef struct rowsrc rowsrc;

/* What a body column holds. */
typedef enum { ROWSRC_NULL, ROWSRC_TEXT, ROWSRC_BLOB } rowsrc_kind;

/* What a backend other than SQLite answers for row column COL (enum row_col) of its current row. A column
 * the reader did not select reads as NULL. Pointers stay valid until the row changes. */
struct rowsrc_ops {
  int (*is_null)(const rowsrc *r, int col);
  /* The column as an integer into *v; returns 0 (and *v 0) when it is NULL. */
  int (*int64)(const rowsrc *r, int col, int64_t *v);
  /* The column as NUL-terminated text (NULL when NULL), its length in *len (LEN may be
   * NULL when the caller needs no length). */
  const unsigned char *(*text)(const rowsrc *r, int col, size_t *len);
  /* A body column: text (NUL-terminated) or bytes in *data / *len, or NULL. */
  rowsrc_kind (*body)(const rowsrc *r, int col, const unsigned char **data, size_t *len);
};

/* A row of SQLite (ST set: answered inline, SQLite being the default and the hot path)
 * or of another backend (OPS and IMPL). */
struct rowsrc {
  sqlite3_stmt *st;
  const struct rowsrc_ops *ops;
  void *impl;              /* the other backend's current row */
  /* NULL: result column i is row column i. Else pos[col] is the result column of row
   * column COL, or -1 when it was not selected (it reads as NULL). */
  const signed char *pos;
};

/* Result column of row column COL in R, or -1. */
static inline int rowsrc_pos(const rowsrc *r, int col) {
  return r->pos ? r->pos[col] : col;
}

/* SQLite's type of row column COL (SQLITE_NULL when not selected). */
static inline int rowsrc_sqlite_type(const rowsrc *r, int col) {
  int i = rowsrc_pos(r, col);
  return i < 0 ? SQLITE_NULL : sqlite3_column_type(r->st, i);
}

static inline int rowsrc_null(const rowsrc *r, int col) {
  if (r->st)
    return rowsrc_sqlite_type(r, col) == SQLITE_NULL;
  return r->ops->is_null(r, col);
}

/* Column COL as an integer into *v; 0 (and *v 0) when NULL. */
static inline int rowsrc_int_or_null(const rowsrc *r, int col, int64_t *v) {
  if (!r->st)
    return r->ops->int64(r, col, v);
  *v = 0;
  if (rowsrc_sqlite_type(r, col) == SQLITE_NULL)
    return 0;
  *v = sqlite3_column_int64(r->st, rowsrc_pos(r, col));
  return 1;
}

/* Column COL as an integer, 0 when NULL. */
static inline int64_t rowsrc_int(const rowsrc *r, int col) {
  int64_t v;
  rowsrc_int_or_null(r, col, &v);
  return v;
}

/* SQLite: sqlite3_column_text() before sqlite3_column_bytes(), as SQLite asks, so the
 * length is the text form's. */
static inline const unsigned char *rowsrc_text(const rowsrc *r, int col, size_t *len) {
  if (!r->st)
    return r->ops->text(r, col, len);
  int i = rowsrc_pos(r, col);
  const unsigned char *s = i < 0 ? NULL : sqlite3_column_text(r->st, i);
  if (len)
    *len = s ? (size_t)sqlite3_column_bytes(r->st, i) : 0;
  return s;
}

static inline rowsrc_kind rowsrc_body(const rowsrc *r, int col, const unsigned char **data,
                                      size_t *len) {
  if (!r->st)
    return r->ops->body(r, col, data, len);
  int type = rowsrc_sqlite_type(r, col);
  *data = NULL;
  *len = 0;
  if (type == SQLITE_NULL)
    return ROWSRC_NULL;
  int i = rowsrc_pos(r, col);
  if (type != SQLITE_BLOB) {
    *data = sqlite3_column_text(r->st, i);
    if (!*data)
      return ROWSRC_NULL;
    *len = (size_t)sqlite3_column_bytes(r->st, i);
    return ROWSRC_TEXT;
  }
  *data = sqlite3_column_blob(r->st, i);
  *len = (size_t)sqlite3_column_bytes(r->st, i);
  return ROWSRC_BLOB;
}

/* The row source of ST's current row; ST's result columns are in enum row_col order, or
 * where POS says (see struct rowsrc; POS NULL: in order). */
static inline rowsrc rowsrc_sqlite(sqlite3_stmt *st, const signed char *pos) {
  return (rowsrc){.st = st, .pos = pos};
}

#endif
