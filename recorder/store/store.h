/* store.h: the SQLite history, the room's interface to the rest of the library. Opens
 * and migrates the database (store_open.c, store_migrate.c), queues records
 * (store_queue.c) for the writer thread (store_writer.c) that turns them into rows in
 * batched transactions (store_batch.c) and indexes them for full-text search and the
 * stats rollups in the background (store_index.c), lends connections for reading
 * (store_readers.c) and prunes (store_prune.c). What these files share is in
 * store_int.h; the histogram bucket in histogram.h. */
#ifndef REQLOG_STORE_H
#define REQLOG_STORE_H

#include <sqlite3.h>
#include <stdint.h>
#include "capture/record.h"
#include "privacy/prepare.h"
#include "reqlog.h"

/* The page size of a new history database. Rows are a few KB and written in batches:
 * with 4 KiB pages the writer spent a third of its time in the WAL's two writes per page
 * and the checkpoint's copies; 16 KiB pages cut its CPU per row by about a fifth
 * (bench/ingest). An existing database keeps the page size it was created with. */
#define STORE_PAGE_SIZE 16384

typedef struct store store;

/* Turns a record into row values on the writer thread (redaction lives with the handle). */
typedef reqlog_err (*store_prepare_fn)(void *ctx, const record *r, row_values *v);

/* Opens PATH for recording (created 0600 when absent; the checks of store_file_claim()
 * first: not a link, this user's, private), WAL, busy timeout, migrations. */
reqlog_err store_open(const char *path, store_prepare_fn prepare, void *prepare_ctx,
                      store **out, char **cause);
/* Opens the existing history PATH for reading only (store_file_check_read()): read-only
 * connections, no writer thread; store_submit() refuses with REQLOG_ERR_READONLY. An
 * older schema is upgraded first when this user may write the file, else refused. */
reqlog_err store_open_read(const char *path, store **out, char **cause);
/* Writes what is queued (retrying a failing database for a short while), stops the
 * writer, closes. Returns the first unreported recording error. Accepts NULL. */
reqlog_err store_close(store *s);

/* Also hands FN, once and at once, the notice of opening (the file was made private),
 * with REQLOG_OK. */
void store_set_error_handler(store *s, reqlog_error_fn fn, void *ctx);
void store_set_sync(store *s, int sync);
/* The origin written into the rows the writer writes from now on (this host's name
 * until set); ORIGIN must pass util_is_origin(). */
void store_set_origin(store *s, const char *origin);

/* The response headers whose value is written as each new row's request_id, as
 * reqid_list_parse() writes a list (REQID_DEFAULT until set). */
void store_set_request_id_headers(store *s, const char *list);

/* The writer thread keeps its normal scheduling priority instead of lowering itself
 * (nice 10) when it starts writing: for a process whose job is recording, such as the
 * proxy, where a writer starved by the serving threads fills the queue and stalls them.
 * Returns 0, or -1 when rows were already written (the priority is lowered by then). */
int store_set_foreground(store *s);

/* Queues REC (the store owns it from here, also on error) and gives it a sequence
 * number (*seq). In sync mode waits until it is committed and sets *row_id (0 if it
 * failed); in batch mode *row_id is 0. Returns REQLOG_OK or the recording error. */
reqlog_err store_submit(store *s, record *rec, uint64_t *seq, int64_t *row_id);

/* What the writer went through since the store opened (reqlog_writer_stats_get). */
void store_stats(store *s, reqlog_writer_stats *out);

/* Waits for everything queued; returns the first error since the last flush. */
reqlog_err store_flush(store *s, char **cause);

/* A read connection from the pool, returned with store_release. */
reqlog_err store_acquire(store *s, sqlite3 **db, char **cause);
void store_release(void *s, sqlite3 *db);

/* The foreground connection (rate limiter, prune), locked while held. */
sqlite3 *store_fg_lock(store *s);
void store_fg_unlock(store *s);

/* The INSERT of one row into calls, and the binding of a record's values to it (used
 * by the writer, and by the ingest benchmark's raw baseline so both insert alike).
 * ORIGIN is the row's origin (see store_set_origin()). */
extern const char STORE_INSERT_SQL[];
void store_bind_row(sqlite3_stmt *ins, const record *r, const row_values *v, int64_t retry_of,
                    const char *origin);

/* Registers the SQL functions of the packed form (store_pack.c: reqlog_pack,
 * reqlog_unpack, reqlog_unpack_text) on DB, as every connection to a history needs to
 * read it. Returns an SQLite code. */
int store_pack_register(sqlite3 *db);

/* reqlog_prune_ex() on S: pinned calls kept unless INCLUDE_PINNED. */
reqlog_err store_prune(store *s, int64_t older_than_us, int64_t max_rows, int include_pinned,
                       int64_t *deleted, char **cause);

/* Indexes up to MAX_ROWS rows above meta.fts_indexed for search, adds them to the
 * stats rollups (002_stats.sql) and packs their header JSON and bodies (store_pack.c),
 * moving the mark past them; *done gets how many. */
reqlog_err store_index_fts(sqlite3 *db, int max_rows, int *done);

#endif
