/* pg_spool.h: the spool as the shipper reads it (pg_spool.c): a local reqlog history,
 * opened read-only. Used by pg_ship.c and pg_shipstatus.c. */
#ifndef REQLOG_PG_SPOOL_H
#define REQLOG_PG_SPOOL_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include "reqlog.h"

typedef struct pg_spool pg_spool;

/* The columns of pg_spool_rows(), in order. */
enum {
  SP_ID, SP_STARTED_AT, SP_METHOD, SP_URL, SP_HOST, SP_PATH, SP_STATUS, SP_ERROR,
  SP_DURATION_US, SP_QUEUED_US, SP_DNS_US, SP_CONNECT_US, SP_TLS_US, SP_TTFB_US, SP_KEY,
  SP_ATTEMPT, SP_RETRY_OF, SP_SOURCE, SP_REQUEST_HEADERS, SP_RESPONSE_HEADERS,
  SP_REQUEST_SIZE, SP_REQUEST_TRUNCATED, SP_REQUEST_SHA256, SP_RESPONSE_SIZE,
  SP_RESPONSE_TRUNCATED, SP_RESPONSE_SHA256, SP_CONTENT_TYPE, SP_HTTP_VERSION,
  SP_REMOTE_IP, SP_ERROR_MESSAGE, SP_ERROR_FIELDS, SP_ORIGIN,
  SP_FIELDS,  /* JSON array of error_fields' keys, or NULL */
  SP_REQUEST_ID,
  SP_REPLAY_OF,
  SP_REQUEST_BODY, SP_RESPONSE_BODY, SP_NCOLS
};

/* Opens the history at PATH for reading (store_open_read: it must exist). */
reqlog_err pg_spool_open(const char *path, pg_spool **out, char **cause);
/* Opens for reading the spool at PATH that this process has open for recording (whose
 * open made the file checks and migrated it): a plain read-only SQLite connection, since
 * the checks open and close the file, and closing any descriptor of a file drops every
 * POSIX lock this process holds on it, the recording connection's included. */
reqlog_err pg_spool_open_here(const char *path, pg_spool **out, char **cause);
void pg_spool_close(pg_spool *sp);
/* The spool's meta.history_id. */
int64_t pg_spool_history(const pg_spool *sp);
/* How many rows have an id above ID. */
reqlog_err pg_spool_count_above(pg_spool *sp, int64_t id, int64_t *n, char **cause);
/* When the oldest call above ID ended (started_at + duration_us); -1 when none. */
reqlog_err pg_spool_oldest_end_above(pg_spool *sp, int64_t id, int64_t *end_us, char **cause);
/* The newest row's id (0 when empty) and origin (into ORIGIN, SIZE bytes). */
reqlog_err pg_spool_newest(pg_spool *sp, int64_t *id, char *origin, size_t size, char **cause);
/* The statement of up to LIMIT rows above ABOVE, oldest first, to step; then
 * pg_spool_rows_done() with the last step's result, which ends the read. */
sqlite3_stmt *pg_spool_rows(pg_spool *sp, int64_t above, int limit);
reqlog_err pg_spool_rows_done(pg_spool *sp, int rc, char **cause);

#endif
