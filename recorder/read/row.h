/* row.h: the one row model (docs/design.md §7). The columns read from `calls`, the JSON
 * object built from one row (of either backend, rowsrc.h), and small helpers every
 * reader of `calls` shares: a SQLite read snapshot, row_put. */
#ifndef REQLOG_ROW_H
#define REQLOG_ROW_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include <cjson/cJSON.h>
#include "reqlog.h"
#include "read/rowsrc.h"

/* The columns of `calls` a reader selects, in SELECT order: X(ENUM_SUFFIX, column). The
 * two bodies come last (ROW_BODY_COLS) so a reader can tell at a glance they are the
 * optional ones. */
#define ROW_COL_LIST(X)                                                                  \
  X(ID, id) X(STARTED_AT, started_at) X(METHOD, method) X(URL, url) X(HOST, host)        \
  X(PATH, path) X(STATUS, status) X(ERROR, error) X(DURATION_US, duration_us)            \
  X(QUEUED_US, queued_us) X(DNS_US, dns_us) X(CONNECT_US, connect_us) X(TLS_US, tls_us)  \
  X(TTFB_US, ttfb_us) X(KEY, key) X(ATTEMPT, attempt) X(RETRY_OF, retry_of)             \
  X(SOURCE, source) X(REQUEST_HEADERS, request_headers)                                  \
  X(RESPONSE_HEADERS, response_headers) X(REQUEST_SIZE, request_size)                    \
  X(REQUEST_TRUNCATED, request_truncated) X(REQUEST_SHA256, request_sha256)              \
  X(RESPONSE_SIZE, response_size) X(RESPONSE_TRUNCATED, response_truncated)              \
  X(RESPONSE_SHA256, response_sha256) X(CONTENT_TYPE, content_type)                      \
  X(HTTP_VERSION, http_version) X(REMOTE_IP, remote_ip) X(ERROR_MESSAGE, error_message)  \
  X(ERROR_FIELDS, error_fields) X(ORIGIN, origin) X(REQUEST_ID, request_id)            \
  X(REPLAY_OF, replay_of)
#define ROW_BODY_COLS(X) X(REQUEST_BODY, request_body) X(RESPONSE_BODY, response_body)
/* What a developer attached to the call (notes.h), not columns of `calls`: each read by
 * the same SQL on both backends, X(ENUM_SUFFIX, name, select expression over calls AS c);
 * a call without notes reads as not pinned, no tags (NULL), no note (NULL). */
#define ROW_NOTE_SQL(col) "(SELECT n." #col " FROM call_notes AS n WHERE n.call_id = c.id)"
#define ROW_NOTE_COLS(X)                                                                 \
  X(PINNED, pinned, "coalesce(" ROW_NOTE_SQL(pinned) ", 0)")                             \
  X(TAGS, tags, ROW_NOTE_SQL(tags)) X(NOTE, note, ROW_NOTE_SQL(note))

/* Result column indexes of row_columns(), in SELECT order. */
#define ROW_COL_ENUM(u, l, ...) RC_##u,
enum row_col {
  ROW_COL_LIST(ROW_COL_ENUM) ROW_NOTE_COLS(ROW_COL_ENUM) ROW_BODY_COLS(ROW_COL_ENUM) RC_COUNT
};
#undef ROW_COL_ENUM

/* A set of columns: bit 1 << RC_x for column RC_x. */
typedef uint64_t row_cols;
#define ROW_COL(c) ((row_cols)1 << (c))
#define ROW_COLS_ALL (ROW_COL(RC_COUNT) - 1)

/* The name of column COL in table `calls` (both backends use the same names); for the
 * note columns, the row model's name. */
extern const char *const row_col_names[RC_COUNT];
/* What a SELECT over `calls AS c` reads for column COL as stored, with no unpacking:
 * "c.NAME", or a note column's expression (the same in both dialects). The team store
 * keeps every value plain (its TOAST compresses), so it reads these. */
extern const char *const row_col_plain_sql[RC_COUNT];
/* The join a reader of many rows adds to `calls AS c` to read a call's notes once (one
 * lookup instead of one per note column); see row_col_sql_joined(). */
#define ROW_NOTES_JOIN " LEFT JOIN call_notes AS n ON n.call_id = c.id"

/* A column of `calls` that a history may hold packed (docs/design.md §10), as the SQL
 * expression that reads it back as recorded (the function is store_pack.c's). */
#define ROW_UNPACK(col) "reqlog_unpack(c.packed, c." col ")"

/* The SQL expression over `calls AS c` that reads row column COL of a history file as
 * recorded (a packed column through ROW_UNPACK, else row_col_plain_sql). */
const char *row_col_sql(int col);
/* The same over `calls AS c` ROW_NOTES_JOIN: the note columns read from the join. */
const char *row_col_sql_joined(int col);

/* The SELECT list (no "SELECT" keyword) over `calls AS c`, columns in enum row_col order;
 * without bodies, NULL in the two body places, so big bodies are never read. */
const char *row_columns(int with_bodies);

/* The current row of R (columns in enum row_col order) as a JSON object in the row
 * model; with WITH_BODIES, request_body and response_body are included (text as a string,
 * binary as {"base64": ...}, NULL as null), else the two fields are absent. Stored header
 * or error_fields text that is not valid JSON reads as [] / null. Returns a new object
 * the caller frees with cJSON_Delete(), or NULL when out of memory. */
cJSON *row_json(const rowsrc *r, int with_bodies);

/* The stored JSON text of column COL parsed, or NULL when absent, not JSON, or not of
 * type WANT (cJSON_Array, cJSON_Object). The caller frees it with cJSON_Delete(). */
cJSON *row_stored_json(const rowsrc *r, int col, int want);


/* Reads taken between row_snapshot_begin() and row_snapshot_end() see one state of the
 * database (one read transaction), so a count and the rows it counts agree. When DB is
 * already inside a transaction, nothing is started and *owned is 0. Returns REQLOG_OK or
 * an error with *cause. row_snapshot_end() ends what begin started (accepts owned 0). */
reqlog_err row_snapshot_begin(sqlite3 *db, int *owned, char **cause);
void row_snapshot_end(sqlite3 *db, int owned);

/* Adds ITEM to OBJ under NAME; returns 0 (deleting ITEM) when ITEM is NULL or adding
 * failed, so a JSON object is built as a run of `ok &= row_put(...)` (rows, stats, HAR). */
int row_put(cJSON *obj, const char *name, cJSON *item);

#endif
