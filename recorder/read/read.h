/* read.h: the read half of the store (rows, counts, stats, exports) on a SQLite
 * connection the caller owns, its functions prefixed rs_ (read side). reqlog.h's public
 * functions (reqlog_query, reqlog_get, reqlog_count, reqlog_stats, reqlog_export) lend a
 * pooled read connection and call these; tests call them on a database of their own. */
#ifndef REQLOG_READ_READ_H
#define REQLOG_READ_READ_H

#include <sqlite3.h>
#include "reqlog.h"

/* Every read function takes NOW_US for relative filter times (since=15m). */

/* A cursor over DB; the cursor does not own DB, which must outlive it. RELEASE (may be
 * NULL) is called with (RELEASE_CTX, DB) by reqlog_cursor_free() so the pool gets the
 * connection back. */
reqlog_err rs_query(sqlite3 *db, const reqlog_filter *f, const reqlog_query_opts *opts,
                    int64_t now_us, void (*release)(void *, sqlite3 *), void *release_ctx,
                    reqlog_cursor **out, char **cause);
/* The same for a lender that knows of parked statements (base/stmtpark.h: the store's
 * pool finalizes them before it closes a connection): the cursor leaves its statement
 * parked on DB for the next query of the same text. rs_query leaves nothing on DB. */
reqlog_err rs_query_parked(sqlite3 *db, const reqlog_filter *f, const reqlog_query_opts *opts,
                           int64_t now_us, void (*release)(void *, sqlite3 *),
                           void *release_ctx, reqlog_cursor **out, char **cause);
reqlog_err rs_get(sqlite3 *db, int64_t id, cJSON **row, char **cause);
/* Where the history's bytes go (reqlog_storage(), storage.c). */
reqlog_err rs_storage(sqlite3 *db, cJSON **out, char **cause);
reqlog_err rs_count(sqlite3 *db, const reqlog_filter *f, int64_t now_us, int64_t *count,
                    char **cause);
/* The history's id (meta.history_id: what a team store keys its rows by, with their id
 * here) into *id. */
reqlog_err rs_history_id(sqlite3 *db, int64_t *id, char **cause);
/* RATE_LIMIT: the per-key limit reported next to each key's peak (per minute). */
reqlog_err rs_stats(sqlite3 *db, const reqlog_filter *f, int64_t now_us, int rate_limit,
                    cJSON **out, char **cause);
/* reqlog_problems() of F (problems.h). */
reqlog_err rs_problems(sqlite3 *db, const reqlog_filter *f, int64_t now_us, cJSON **out,
                       char **cause);
/* reqlog_annotate() on DB (a connection that may write), in one transaction (notes.h). */
reqlog_err rs_annotate(sqlite3 *db, int64_t id, const reqlog_annotation *a, int64_t now_us,
                       char **cause);
reqlog_err rs_export(sqlite3 *db, const reqlog_filter *f, int64_t now_us,
                     const reqlog_export_opts *opts, reqlog_write_fn write, void *ctx,
                     char **cause);

#endif
