/* row.c: the one row model (docs/design.md §7): which columns of `calls` are read, and the JSON
 * object every reader (list, show, web API, NDJSON) gives for one recorded call, from a
 * row of either backend (rowsrc.h). */
#include "read/row.h"
#include "base/errors.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "base/util.h"

#define ROW_COL_NAME(u, l, ...) #l,
const char *const row_col_names[RC_COUNT] = {
  ROW_COL_LIST(ROW_COL_NAME) ROW_NOTE_COLS(ROW_COL_NAME) ROW_BODY_COLS(ROW_COL_NAME)};
#undef ROW_COL_NAME

#define ROW_COL_EXPR(u, l) "c." #l,
#define ROW_NOTE_EXPR(u, l, expr) expr,
const char *const row_col_plain_sql[RC_COUNT] = {
  ROW_COL_LIST(ROW_COL_EXPR) ROW_NOTE_COLS(ROW_NOTE_EXPR) ROW_BODY_COLS(ROW_COL_EXPR)};
#define ROW_NOTE_JOINED(u, l, expr) RC_##u == RC_PINNED ? "coalesce(n.pinned, 0)" : "n." #l,
static const char *const joined_sql[RC_COUNT] = {
  ROW_COL_LIST(ROW_COL_EXPR) ROW_NOTE_COLS(ROW_NOTE_JOINED) ROW_BODY_COLS(ROW_COL_EXPR)};
#undef ROW_NOTE_JOINED
#undef ROW_COL_EXPR
#undef ROW_NOTE_EXPR

/* The columns a history may hold packed (store_pack.c: header JSON and bodies
 * compressed, digests as bytes; calls.packed says so), read back as recorded through the
 * one SQL function that unpacks them. */
static const char *const packed_sql[RC_COUNT] = {
  [RC_REQUEST_HEADERS] = ROW_UNPACK("request_headers"),
  [RC_RESPONSE_HEADERS] = ROW_UNPACK("response_headers"),
  [RC_REQUEST_BODY] = ROW_UNPACK("request_body"),
  [RC_RESPONSE_BODY] = ROW_UNPACK("response_body"),
  [RC_REQUEST_SHA256] = ROW_UNPACK("request_sha256"),
  [RC_RESPONSE_SHA256] = ROW_UNPACK("response_sha256"),
};

const char *row_col_sql(int col) {
  return packed_sql[col] ? packed_sql[col] : row_col_plain_sql[col];
}

const char *row_col_sql_joined(int col) {
  return packed_sql[col] ? packed_sql[col] : joined_sql[col];
}

/* The two select lists, made once. */
static char select_list[2][4096];
static pthread_once_t select_once = PTHREAD_ONCE_INIT;

static void make_select_lists(void) {
  for (int with = 0; with < 2; with++) {
    char *o = select_list[with];
    size_t room = sizeof select_list[with];
    for (int c = 0; c < RC_COUNT; c++) {
      const char *e = with || (c != RC_REQUEST_BODY && c != RC_RESPONSE_BODY)
                        ? row_col_sql(c) : "NULL";
      int n = snprintf(o, room, "%s%s", c ? ", " : "", e);
      o += n;
      room -= (size_t)n; /* fixed text of about 1,000 bytes: it fits */
    }
  }
}

const char *row_columns(int with_bodies) {
  pthread_once(&select_once, make_select_lists);
  return select_list[with_bodies ? 1 : 0];
}

/* ------------------------------------------------------------------ JSON values */

/* Each maker returns a new item or NULL when out of memory. */

static cJSON *int_or_null(const rowsrc *r, int col) {
  int64_t v;
  if (!rowsrc_int_or_null(r, col, &v))
    return cJSON_CreateNull();
  return cJSON_CreateNumber((double)v);
}

/* Microseconds as milliseconds with microsecond precision. */
static cJSON *ms_or_null(const rowsrc *r, int col) {
  int64_t v;
  if (!rowsrc_int_or_null(r, col, &v))
    return cJSON_CreateNull();
  return cJSON_CreateNumber((double)v / 1000.0);
}

static cJSON *text_or_null(const rowsrc *r, int col) {
  const char *s = (const char *)rowsrc_text(r, col, NULL);
  return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *time_iso(const rowsrc *r, int col) {
  char iso[32];
  util_format_time(rowsrc_int(r, col), iso);
  return cJSON_CreateString(iso);
}

/* The end pointer is our own: cJSON's global error pointer is not thread-safe. cJSON
 * cannot tell a parse that ran out of memory from bad text, so both read as "not JSON":
 * a row is still shown rather than failing. */
cJSON *row_stored_json(const rowsrc *r, int col, int want) {
  const char *s = (const char *)rowsrc_text(r, col, NULL);
  if (!s)
    return NULL;
  const char *end = NULL;
  cJSON *v = cJSON_ParseWithOpts(s, &end, 1);
  if (v && (v->type & 0xFF) != want) {
    cJSON_Delete(v);
    v = NULL;
  }
  return v;
}

static cJSON *headers(const rowsrc *r, int col) {
  cJSON *v = row_stored_json(r, col, cJSON_Array);
  return v ? v : cJSON_CreateArray();
}

/* The stored comma list of tags as an array of strings ([] when none). */
static cJSON *tags(const rowsrc *r, int col) {
  cJSON *a = cJSON_CreateArray();
  const char *s = (const char *)rowsrc_text(r, col, NULL);
  while (a && s && *s) {
    const char *e = strchr(s, ',');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (n == 0) {
      s++;
      continue;
    }
    char *t = util_strndup(s, n);
    cJSON *item = t ? cJSON_CreateString(t) : NULL;
    free(t);
    if (!item || !cJSON_AddItemToArray(a, item)) {
      cJSON_Delete(item);
      cJSON_Delete(a);
      return NULL;
    }
    s = e ? e + 1 : s + n;
  }
  return a;
}

static cJSON *error_fields(const rowsrc *r, int col) {
  cJSON *v = row_stored_json(r, col, cJSON_Object);
  return v ? v : cJSON_CreateNull();
}

/* Text as a string, binary as {"base64": "..."}, NULL as null. */
static cJSON *body(const rowsrc *r, int col) {
  const unsigned char *data;
  size_t n;
  rowsrc_kind kind = rowsrc_body(r, col, &data, &n);
  if (kind == ROWSRC_NULL)
    return cJSON_CreateNull();
  if (kind == ROWSRC_TEXT)
    return cJSON_CreateString((const char *)data);
  char *b64 = malloc(BASE64_LEN(n) + 1);
  if (!b64)
    return NULL;
  b64[base64_encode(data, n, b64)] = '\0';
  cJSON *obj = cJSON_CreateObject();
  if (obj && !cJSON_AddStringToObject(obj, "base64", b64)) {
    cJSON_Delete(obj);
    obj = NULL;
  }
  free(b64);
  return obj;
}

/* Adds ITEM to OBJ under NAME; returns 0 (deleting ITEM) when ITEM is NULL or adding
 * failed, so a row is built as a run of `ok &= row_put(...)`. */
int row_put(cJSON *obj, const char *name, cJSON *item) {
  if (!item)
    return 0;
  if (!cJSON_AddItemToObject(obj, name, item)) {
    cJSON_Delete(item);
    return 0;
  }
  return 1;
}

static cJSON *timing(const rowsrc *r) {
  cJSON *t = cJSON_CreateObject();
  if (!t)
    return NULL;
  int ok = 1;
  ok &= row_put(t, "queued_ms", ms_or_null(r, RC_QUEUED_US));
  ok &= row_put(t, "dns_ms", ms_or_null(r, RC_DNS_US));
  ok &= row_put(t, "connect_ms", ms_or_null(r, RC_CONNECT_US));
  ok &= row_put(t, "tls_ms", ms_or_null(r, RC_TLS_US));
  ok &= row_put(t, "ttfb_ms", ms_or_null(r, RC_TTFB_US));
  ok &= row_put(t, "total_ms", ms_or_null(r, RC_DURATION_US));
  if (!ok) {
    cJSON_Delete(t);
    return NULL;
  }
  return t;
}

cJSON *row_json(const rowsrc *r, int with_bodies) {
  cJSON *row = cJSON_CreateObject();
  if (!row)
    return NULL;
  int ok = 1;
  ok &= row_put(row, "id", int_or_null(r, RC_ID));
  ok &= row_put(row, "started_at", time_iso(r, RC_STARTED_AT));
  ok &= row_put(row, "method", text_or_null(r, RC_METHOD));
  ok &= row_put(row, "url", text_or_null(r, RC_URL));
  ok &= row_put(row, "host", text_or_null(r, RC_HOST));
  ok &= row_put(row, "path", text_or_null(r, RC_PATH));
  ok &= row_put(row, "status", int_or_null(r, RC_STATUS));
  ok &= row_put(row, "error", text_or_null(r, RC_ERROR));
  ok &= row_put(row, "duration_ms", ms_or_null(r, RC_DURATION_US));
  ok &= row_put(row, "timing", timing(r));
  ok &= row_put(row, "key", text_or_null(r, RC_KEY));
  ok &= row_put(row, "attempt", int_or_null(r, RC_ATTEMPT));
  ok &= row_put(row, "retry_of", int_or_null(r, RC_RETRY_OF));
  ok &= row_put(row, "replay_of", int_or_null(r, RC_REPLAY_OF));
  ok &= row_put(row, "source", text_or_null(r, RC_SOURCE));
  ok &= row_put(row, "origin", text_or_null(r, RC_ORIGIN));
  ok &= row_put(row, "request_id", text_or_null(r, RC_REQUEST_ID));
  ok &= row_put(row, "pinned", cJSON_CreateBool(rowsrc_int(r, RC_PINNED) != 0));
  ok &= row_put(row, "tags", tags(r, RC_TAGS));
  ok &= row_put(row, "note", text_or_null(r, RC_NOTE));
  ok &= row_put(row, "request_headers", headers(r, RC_REQUEST_HEADERS));
  ok &= row_put(row, "response_headers", headers(r, RC_RESPONSE_HEADERS));
  if (with_bodies) {
    ok &= row_put(row, "request_body", body(r, RC_REQUEST_BODY));
    ok &= row_put(row, "response_body", body(r, RC_RESPONSE_BODY));
  }
  ok &= row_put(row, "request_size", int_or_null(r, RC_REQUEST_SIZE));
  ok &= row_put(row, "response_size", int_or_null(r, RC_RESPONSE_SIZE));
  ok &= row_put(row, "request_truncated",
            cJSON_CreateBool(rowsrc_int(r, RC_REQUEST_TRUNCATED) != 0));
  ok &= row_put(row, "response_truncated",
            cJSON_CreateBool(rowsrc_int(r, RC_RESPONSE_TRUNCATED) != 0));
  ok &= row_put(row, "request_sha256", text_or_null(r, RC_REQUEST_SHA256));
  ok &= row_put(row, "response_sha256", text_or_null(r, RC_RESPONSE_SHA256));
  ok &= row_put(row, "content_type", text_or_null(r, RC_CONTENT_TYPE));
  ok &= row_put(row, "http_version", text_or_null(r, RC_HTTP_VERSION));
  ok &= row_put(row, "remote_ip", text_or_null(r, RC_REMOTE_IP));
  ok &= row_put(row, "error_message", text_or_null(r, RC_ERROR_MESSAGE));
  ok &= row_put(row, "error_fields", error_fields(r, RC_ERROR_FIELDS));
  if (!ok) {
    cJSON_Delete(row);
    return NULL;
  }
  return row;
}

/* ------------------------------------------------------------------ database helpers */

reqlog_err row_snapshot_begin(sqlite3 *db, int *owned, char **cause) {
  *owned = 0;
  if (!sqlite3_get_autocommit(db))
    return REQLOG_OK;
  int rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return util_fail(cause, errors_from_sqlite(rc), "cannot start a read: %s", sqlite3_errmsg(db));
  *owned = 1;
  return REQLOG_OK;
}

void row_snapshot_end(sqlite3 *db, int owned) {
  /* A read transaction has nothing to keep. COMMIT leaves any other statement still
   * reading on this connection alone; ROLLBACK is only the fallback. */
  if (owned && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}
