/* export.c: streams the recorded calls that match a filter, oldest first, as CSV or
 * NDJSON through the caller's write callback, in bounded memory: one 64 KB output buffer,
 * and for HAR one entry's JSON at a time. HAR is export_har.c's. */
#include <stdlib.h>
#include <string.h>

#include "read/export_har.h"
#include "read/filter.h"
#include "read/read.h"
#include "read/row.h"
#include "read/rowtext.h"
#include "read/sqlq.h"
#include "base/util.h"
#include "base/errors.h"

/* ------------------------------------------------------------------ output buffer */

/* Bytes are gathered in a sinking textbuf of OUT_CAP bytes and handed to the caller's
 * writer a buffer at a time. Once the writer asks to stop, later bytes are dropped and
 * the row loop ends at the next row. */
#define OUT_CAP 65536

/* ------------------------------------------------------------------ progress */

struct progress {
  reqlog_progress_fn fn;  /* NULL: no progress wanted, rows are not counted */
  void *ctx;
  int64_t total, done, step, next;
};

static void progress_row(struct progress *pr) {
  pr->done++;
  if (pr->fn && pr->done >= pr->next && pr->done < pr->total) {
    pr->fn(pr->ctx, pr->done, pr->total);
    pr->next = pr->done + pr->step;
  }
}

static void progress_end(struct progress *pr) {
  if (pr->fn)
    pr->fn(pr->ctx, pr->done, pr->total > pr->done ? pr->total : pr->done);
}

/* ------------------------------------------------------------------ CSV */

enum csv_kind {
  CK_INT,   /* integer; NULL is an empty cell */
  CK_TIME,  /* Unix µs as ISO 8601 with microseconds */
  CK_MS,    /* µs as milliseconds with three decimals */
  CK_TEXT,  /* text: quoted when needed, formulas neutralised */
  CK_BODY   /* text as CK_TEXT, binary as "base64:..." */
};

/* The CSV columns (docs/design.md §7): header name, what is selected, how it is written. The
 * header row and the SELECT are both made from this table, so they cannot drift apart. */
static const struct csv_col {
  const char *name;
  const char *expr;
  enum csv_kind kind;
} csv_cols[] = {
  {"id", "c.id", CK_INT},
  {"started_at", "c.started_at", CK_TIME},
  {"method", "c.method", CK_TEXT},
  {"url", "c.url", CK_TEXT},
  {"status", "c.status", CK_INT},
  {"duration_ms", "c.duration_us", CK_MS},
  {"key", "c.key", CK_TEXT},
  {"attempt", "c.attempt", CK_INT},
  {"retry_of", "c.retry_of", CK_INT},
  {"source", "c.source", CK_TEXT},
  {"error", "c.error", CK_TEXT},
  {"error_message", "c.error_message", CK_TEXT},
  {"request_size", "c.request_size", CK_INT},
  {"response_size", "c.response_size", CK_INT},
  {"origin", "c.origin", CK_TEXT},
  /* with bodies only: */
  {"request_body", "c.request_body", CK_BODY},
  {"response_body", "c.response_body", CK_BODY},
};
#define CSV_COLS_ALL (sizeof csv_cols / sizeof csv_cols[0])
#define CSV_COLS_PLAIN (CSV_COLS_ALL - 2)

/* Bytes that force a cell into quotes (RFC 4180). */
static const unsigned char csv_special[256] = {[','] = 1, ['"'] = 1, ['\r'] = 1, ['\n'] = 1};

/* A first character a spreadsheet would read as the start of a formula. */
static int csv_formula_start(unsigned char c) {
  return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

static void csv_text(textbuf *o, const unsigned char *s, size_t n) {
  int formula = n > 0 && csv_formula_start(s[0]);
  size_t i = 0;
  while (i < n && !csv_special[s[i]])
    i++;
  if (i == n) {
    if (formula)
      tb_byte(o, '\'');
    tb_bytes(o, s, n);
    return;
  }
  tb_byte(o, '"');
  if (formula)
    tb_byte(o, '\'');
  const unsigned char *p = s, *end = s + n;
  while (p < end) {
    const unsigned char *q = memchr(p, '"', (size_t)(end - p));
    if (!q) {
      tb_bytes(o, p, (size_t)(end - p));
      break;
    }
    tb_bytes(o, p, (size_t)(q - p) + 1);
    tb_byte(o, '"');
    p = q + 1;
  }
  tb_byte(o, '"');
}

/* Timestamps of one export mostly share their day, so the date part is formatted once per
 * day and the time of day by arithmetic; the text is util_format_time()'s. */
struct day_cache {
  int valid;
  int64_t day;
  char date[10];
};

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t d = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? d - 1 : d;
}

static void two(char *p, int v) {
  p[0] = (char)('0' + v / 10);
  p[1] = (char)('0' + v % 10);
}

static void csv_time(textbuf *o, struct day_cache *dc, int64_t us) {
  int64_t secs = floor_div(us, 1000000);
  int64_t day = floor_div(secs, 86400);
  if (!dc->valid || dc->day != day) {
    char iso[32];
    util_format_time(us, iso);
    if (strlen(iso) != 27) { /* a year outside 0000..9999: no fast path */
      dc->valid = 0;
      tb_str(o, iso);
      return;
    }
    memcpy(dc->date, iso, 10);
    dc->day = day;
    dc->valid = 1;
  }
  int sod = (int)(secs - day * 86400);
  int frac = (int)(us - secs * 1000000);
  char *p = tb_reserve(o, 27);
  memcpy(p, dc->date, 10);
  p[10] = 'T';
  two(p + 11, sod / 3600);
  p[13] = ':';
  two(p + 14, sod / 60 % 60);
  p[16] = ':';
  two(p + 17, sod % 60);
  p[19] = '.';
  for (int i = 25; i >= 20; i--) {
    p[i] = (char)('0' + frac % 10);
    frac /= 10;
  }
  p[26] = 'Z';
  o->len += 27;
}

/* sqlite3_column_text() before sqlite3_column_bytes(), as SQLite asks: the text form's
 * length is then the one measured. */
static void csv_text_col(textbuf *o, sqlite3_stmt *st, int col) {
  const unsigned char *s = sqlite3_column_text(st, col);
  csv_text(o, s, (size_t)sqlite3_column_bytes(st, col));
}

static void csv_row(textbuf *o, sqlite3_stmt *st, size_t ncols, struct day_cache *dc) {
  for (size_t i = 0; i < ncols; i++) {
    int col = (int)i;
    if (i > 0)
      tb_byte(o, ',');
    int type = sqlite3_column_type(st, col);
    if (type == SQLITE_NULL)
      continue;
    switch (csv_cols[i].kind) {
    case CK_INT:
      tb_int(o, sqlite3_column_int64(st, col));
      break;
    case CK_TIME:
      csv_time(o, dc, sqlite3_column_int64(st, col));
      break;
    case CK_MS:
      tb_ms(o, sqlite3_column_int64(st, col), 1);
      break;
    case CK_BODY:
      if (type == SQLITE_BLOB) {
        const unsigned char *b = sqlite3_column_blob(st, col);
        size_t n = (size_t)sqlite3_column_bytes(st, col);
        tb_str(o, "base64:");
        tb_base64(o, b, n);
      } else {
        csv_text_col(o, st, col);
      }
      break;
    case CK_TEXT:
      csv_text_col(o, st, col);
      break;
    }
  }
  tb_bytes(o, "\r\n", 2);
}

static reqlog_err export_csv(sqlite3 *db, const reqlog_filter *f, int64_t now_us,
                             int with_bodies, textbuf *o, struct progress *pr,
                             char **cause) {
  size_t ncols = with_bodies ? CSV_COLS_ALL : CSV_COLS_PLAIN;
  sqlq q = {0};
  sqlq_add(&q, "SELECT ");
  for (size_t i = 0; i < ncols; i++) {
    if (i > 0) {
      sqlq_add(&q, ", ");
      tb_byte(o, ',');
    }
    sqlq_add(&q, csv_cols[i].expr);
    tb_str(o, csv_cols[i].name);
  }
  tb_bytes(o, "\r\n", 2);
  sqlq_add(&q, " FROM calls AS c WHERE ");
  filter_sql(f, now_us, &q);
  sqlq_add(&q, " ORDER BY c.id ASC");
  sqlite3_stmt *st = NULL;
  reqlog_err err = sqlq_prepare(&q, db, &st, cause);
  sqlq_free(&q);
  if (err != REQLOG_OK)
    return err;

  struct day_cache dc = {0};
  while (!o->stopped) {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
      break;
    if (rc != SQLITE_ROW) {
      err = util_fail(cause, errors_from_sqlite(rc), "export: %s", sqlite3_errmsg(db));
      break;
    }
    csv_row(o, st, ncols, &dc);
    progress_row(pr);
  }
  sqlite3_finalize(st);
  return err;
}

/* ------------------------------------------------------------------ NDJSON and HAR */

/* NDJSON: one full row (bodies included) per line, the JSON text of rs_get()'s row.
 * HAR: the envelope, then one entry per row (export_har.c's mapping), then its end. */
static reqlog_err export_json(sqlite3 *db, const reqlog_filter *f, int64_t now_us,
                              reqlog_format format, textbuf *o, struct progress *pr,
                              char **cause) {
  int har = format == REQLOG_FORMAT_HAR;
  if (har) {
    char *head = har_envelope_head();
    if (!head)
      return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
    tb_str(o, head);
    free(head);
  }
  sqlq q = {0};
  sqlq_add(&q, "SELECT ");
  sqlq_add(&q, ROW_COLUMNS);
  sqlq_add(&q, " FROM calls AS c WHERE ");
  filter_sql(f, now_us, &q);
  sqlq_add(&q, " ORDER BY c.id ASC");
  sqlite3_stmt *st = NULL;
  reqlog_err err = sqlq_prepare(&q, db, &st, cause);
  sqlq_free(&q);
  if (err != REQLOG_OK)
    return err;

  while (!o->stopped) {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
      break;
    if (rc != SQLITE_ROW) {
      err = util_fail(cause, errors_from_sqlite(rc), "export: %s", sqlite3_errmsg(db));
      break;
    }
    if (har) {
      cJSON *row = row_json(st, 1);
      cJSON *entry = row ? har_entry(row) : NULL;
      cJSON_Delete(row);
      char *text = entry ? cJSON_PrintUnformatted(entry) : NULL;
      cJSON_Delete(entry);
      if (!text) {
        err = util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
        break;
      }
      if (pr->done > 0)
        tb_str(o, ",\n");
      tb_str(o, text);
      cJSON_free(text);
    } else {
      row_text(st, 1, o);
      tb_byte(o, '\n');
      if (o->nomem) {
        err = util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
        break;
      }
    }
    progress_row(pr);
  }
  sqlite3_finalize(st);
  if (har && err == REQLOG_OK)
    tb_str(o, HAR_ENVELOPE_TAIL);
  return err;
}

/* ------------------------------------------------------------------ entry point */

reqlog_err rs_export(sqlite3 *db, const reqlog_filter *f, int64_t now_us,
                     const reqlog_export_opts *opts, reqlog_write_fn write, void *ctx,
                     char **cause) {
  if (!db || !opts || !write)
    return util_fail(cause, REQLOG_ERR_ARG, "export: no database, options or writer");
  switch (opts->format) {
  case REQLOG_FORMAT_CSV:
  case REQLOG_FORMAT_NDJSON:
  case REQLOG_FORMAT_HAR:
    break;
  default:
    return util_fail(cause, REQLOG_ERR_ARG, "export: unknown format %d", (int)opts->format);
  }

  textbuf out = {.data = malloc(OUT_CAP), .cap = OUT_CAP, .sink = write, .sink_ctx = ctx};
  textbuf *o = &out;
  if (!o->data)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  struct progress pr = {.fn = opts->progress, .ctx = opts->progress_ctx};

  /* One read transaction, so the count behind the progress is the count of the rows
   * that are then written. */
  int owned = 0;
  reqlog_err err = row_snapshot_begin(db, &owned, cause);
  if (err != REQLOG_OK)
    goto done;
  if (pr.fn) {
    err = rs_count(db, f, now_us, &pr.total, cause);
    if (err != REQLOG_OK)
      goto done;
    pr.step = pr.total / 100 > 0 ? pr.total / 100 : 1;
    pr.next = pr.step;
  }
  if (opts->format == REQLOG_FORMAT_CSV)
    err = export_csv(db, f, now_us, opts->with_bodies, o, &pr, cause);
  else
    err = export_json(db, f, now_us, opts->format, o, &pr, cause);
  if (err != REQLOG_OK)
    goto done;
  tb_flush(o);
  if (o->stopped) {
    err = util_fail(cause, REQLOG_ERR_CANCELLED, "export stopped: the writer asked to stop");
    goto done;
  }
  progress_end(&pr);

done:
  row_snapshot_end(db, owned);
  free(o->data);
  return err;
}
