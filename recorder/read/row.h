/* row.h: the one row model (docs/design.md §7). The SELECT list over `calls AS c`, the JSON
 * object built from one result row, and small helpers every reader of `calls` shares:
 * SQLite error mapping, a read snapshot, base64. */
#ifndef REQLOG_ROW_H
#define REQLOG_ROW_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include <cjson/cJSON.h>
#include "reqlog.h"

/* Result column indexes of ROW_COLUMNS / ROW_COLUMNS_NO_BODIES, in SELECT order. The two
 * bodies come last so a reader can tell at a glance they are the optional ones. */
enum row_col {
  RC_ID,
  RC_STARTED_AT,
  RC_METHOD,
  RC_URL,
  RC_HOST,
  RC_PATH,
  RC_STATUS,
  RC_ERROR,
  RC_DURATION_US,
  RC_QUEUED_US,
  RC_DNS_US,
  RC_CONNECT_US,
  RC_TLS_US,
  RC_TTFB_US,
  RC_KEY,
  RC_ATTEMPT,
  RC_RETRY_OF,
  RC_SOURCE,
  RC_REQUEST_HEADERS,
  RC_RESPONSE_HEADERS,
  RC_REQUEST_SIZE,
  RC_REQUEST_TRUNCATED,
  RC_REQUEST_SHA256,
  RC_RESPONSE_SIZE,
  RC_RESPONSE_TRUNCATED,
  RC_RESPONSE_SHA256,
  RC_CONTENT_TYPE,
  RC_HTTP_VERSION,
  RC_REMOTE_IP,
  RC_ERROR_MESSAGE,
  RC_ERROR_FIELDS,
  RC_ORIGIN,
  RC_REQUEST_BODY,
  RC_RESPONSE_BODY,
  RC_COUNT
};

/* The SELECT list (no "SELECT" keyword) over `calls AS c`, columns in enum row_col order.
 * ROW_COLUMNS_NO_BODIES has NULL in the two body places, so big bodies are never read. */
extern const char ROW_COLUMNS[];
extern const char ROW_COLUMNS_NO_BODIES[];

/* The select list to use for WITH_BODIES. */
const char *row_columns(int with_bodies);

/* The current result row of ST (selected with row_columns()) as a JSON object in the row
 * model; with WITH_BODIES, request_body and response_body are included (text as a string,
 * binary as {"base64": ...}, NULL as null), else the two fields are absent. Stored header
 * or error_fields text that is not valid JSON reads as [] / null. Returns a new object
 * the caller frees with cJSON_Delete(), or NULL when out of memory. */
cJSON *row_json(sqlite3_stmt *st, int with_bodies);

/* The stored JSON text of column COL parsed, or NULL when absent, not JSON, or not of
 * type WANT (cJSON_Array, cJSON_Object). The caller frees it with cJSON_Delete(). */
cJSON *row_stored_json(sqlite3_stmt *st, int col, int want);


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
