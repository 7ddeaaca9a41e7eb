/* export.c: the one CSV, NDJSON and HAR writer: streams the rows an export source gives
 * (export.h; either backend) through the caller's write callback, in bounded memory: one
 * 64 KB output buffer, and for HAR one entry's JSON at a time. The HAR mapping is
 * export_har.c's. */
#include <stdlib.h>
#include <string.h>

#include "read/export.h"
#include "read/export_har.h"
#include "read/row.h"
#include "read/rowtext.h"
#include "base/util.h"

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

/* The CSV columns (docs/design.md §7): header name, the row column read, how it is
 * written. The header row and the columns read are both made from this table, so they
 * cannot drift apart. */
static const struct csv_col {
  const char *name;
  int col;
  enum csv_kind kind;
} csv_cols[] = {
  {"id", RC_ID, CK_INT},
  {"started_at", RC_STARTED_AT, CK_TIME},
  {"method", RC_METHOD, CK_TEXT},
  {"url", RC_URL, CK_TEXT},
  {"status", RC_STATUS, CK_INT},
  {"duration_ms", RC_DURATION_US, CK_MS},
  {"key", RC_KEY, CK_TEXT},
  {"attempt", RC_ATTEMPT, CK_INT},
  {"retry_of", RC_RETRY_OF, CK_INT},
  {"source", RC_SOURCE, CK_TEXT},
  {"error", RC_ERROR, CK_TEXT},
  {"error_message", RC_ERROR_MESSAGE, CK_TEXT},
  {"request_size", RC_REQUEST_SIZE, CK_INT},
  {"response_size", RC_RESPONSE_SIZE, CK_INT},
  {"origin", RC_ORIGIN, CK_TEXT},
  {"request_id", RC_REQUEST_ID, CK_TEXT},
  {"tags", RC_TAGS, CK_TEXT},
  {"note", RC_NOTE, CK_TEXT},
  /* with bodies only: */
  {"request_body", RC_REQUEST_BODY, CK_BODY},
  {"response_body", RC_RESPONSE_BODY, CK_BODY},
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

static void csv_row(textbuf *o, const rowsrc *r, size_t ncols, struct day_cache *dc) {
  for (size_t i = 0; i < ncols; i++) {
    int col = csv_cols[i].col;
    if (i > 0)
      tb_byte(o, ',');
    int64_t v;
    const unsigned char *s;
    size_t n;
    switch (csv_cols[i].kind) {
    case CK_INT:
      if (rowsrc_int_or_null(r, col, &v))
        tb_int(o, v);
      break;
    case CK_TIME:
      if (rowsrc_int_or_null(r, col, &v))
        csv_time(o, dc, v);
      break;
    case CK_MS:
      if (rowsrc_int_or_null(r, col, &v))
        tb_ms(o, v, 1);
      break;
    case CK_BODY:
      switch (rowsrc_body(r, col, &s, &n)) {
      case ROWSRC_BLOB:
        tb_str(o, "base64:");
        tb_base64(o, s, n);
        break;
      case ROWSRC_TEXT:
        csv_text(o, s, n);
        break;
      case ROWSRC_NULL:
        break;
      }
      break;
    case CK_TEXT:
      s = rowsrc_text(r, col, &n);
      if (s)
        csv_text(o, s, n);
      break;
    }
  }
  tb_bytes(o, "\r\n", 2);
}

static row_cols csv_columns(size_t ncols) {
  row_cols cols = 0;
  for (size_t i = 0; i < ncols; i++)
    cols |= ROW_COL(csv_cols[i].col);
  return cols;
}

static void csv_header(textbuf *o, size_t ncols) {
  for (size_t i = 0; i < ncols; i++) {
    if (i > 0)
      tb_byte(o, ',');
    tb_str(o, csv_cols[i].name);
  }
  tb_bytes(o, "\r\n", 2);
}

/* ------------------------------------------------------------------ the rows */

/* One row of the export in its format. HAR entries after the first are preceded by
 * ",\n". Fails only when out of memory. */
static reqlog_err write_row(textbuf *o, const rowsrc *r, reqlog_format format, size_t ncols,
                            struct day_cache *dc, int first, char **cause) {
  switch (format) {
  case REQLOG_FORMAT_CSV:
    csv_row(o, r, ncols, dc);
    return REQLOG_OK;
  case REQLOG_FORMAT_NDJSON:
    /* NDJSON: one full row (bodies included) per line, the JSON text of rs_get()'s row */
    row_text(r, 1, o);
    tb_byte(o, '\n');
    if (o->nomem)
      return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
    return REQLOG_OK;
  default: {
    cJSON *row = row_json(r, 1);
    cJSON *entry = row ? har_entry(row) : NULL;
    cJSON_Delete(row);
    char *text = entry ? cJSON_PrintUnformatted(entry) : NULL;
    cJSON_Delete(entry);
    if (!text)
      return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
    if (!first)
      tb_str(o, ",\n");
    tb_str(o, text);
    cJSON_free(text);
    return REQLOG_OK;
  }
  }
}

/* The head (CSV header row, HAR envelope), every row SRC gives, then the HAR ending. */
static reqlog_err write_rows(const export_source *src, reqlog_format format, int with_bodies,
                             textbuf *o, struct progress *pr, char **cause) {
  size_t ncols = with_bodies ? CSV_COLS_ALL : CSV_COLS_PLAIN;
  row_cols cols = ROW_COLS_ALL;
  if (format == REQLOG_FORMAT_CSV) {
    csv_header(o, ncols);
    cols = csv_columns(ncols);
  } else if (format == REQLOG_FORMAT_HAR) {
    char *head = har_envelope_head();
    if (!head)
      return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
    tb_str(o, head);
    free(head);
  }
  reqlog_err err = src->open(src->ctx, cols, cause);
  if (err != REQLOG_OK)
    return err;
  struct day_cache dc = {0};
  while (!o->stopped) {
    const rowsrc *r = NULL;
    err = src->next(src->ctx, &r, cause);
    if (err == REQLOG_ERR_DONE) {
      err = REQLOG_OK;
      break;
    }
    if (err != REQLOG_OK)
      break;
    err = write_row(o, r, format, ncols, &dc, pr->done == 0, cause);
    if (err != REQLOG_OK)
      break;
    progress_row(pr);
  }
  src->close(src->ctx);
  if (format == REQLOG_FORMAT_HAR && err == REQLOG_OK)
    tb_str(o, HAR_ENVELOPE_TAIL);
  return err;
}

/* ------------------------------------------------------------------ entry point */

reqlog_err export_run(const export_source *src, const reqlog_export_opts *opts,
                      reqlog_write_fn write, void *ctx, char **cause) {
  if (!src || !opts || !write)
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

  reqlog_err err = REQLOG_OK;
  if (pr.fn) {
    err = src->count(src->ctx, &pr.total, cause);
    if (err != REQLOG_OK)
      goto done;
    pr.step = pr.total / 100 > 0 ? pr.total / 100 : 1;
    pr.next = pr.step;
  }
  err = write_rows(src, opts->format, opts->with_bodies, o, &pr, cause);
  if (err != REQLOG_OK)
    goto done;
  tb_flush(o);
  if (o->stopped) {
    err = util_fail(cause, REQLOG_ERR_CANCELLED, "export stopped: the writer asked to stop");
    goto done;
  }
  progress_end(&pr);

done:
  free(o->data);
  return err;
}
