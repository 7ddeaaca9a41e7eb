/* pg_record.h: recording with a PostgreSQL URL, as the handle (api.c) uses it: where the
 * local spool of a store URL lives (pg_spoolpath.c) and the shipper thread that copies
 * its committed rows into the store while the process records (pg_shipthread.c).
 * docs/design.md §9. */
#ifndef REQLOG_PG_RECORD_H
#define REQLOG_PG_RECORD_H

#include <stdint.h>
#include "reqlog.h"

/* ------------------------------------------------------------------ pg_spoolpath.c */

/* The spool of the store URL, malloc'd into *out: $REQLOG_SPOOL when set and not empty
 * (a file path: a URL there is REQLOG_ERR_ARG), else
 * $XDG_STATE_HOME/reqlog/spool-HASH.db (else ~/.local/state/reqlog/...), HASH being 16 hex
 * digits of the SHA-256 of URL with its password replaced (so the path never depends on
 * the password, nor shows it). The folders it needs are created, mode 0700. */
reqlog_err pg_spool_path(const char *url, char **out, char **cause);

/* ------------------------------------------------------------------ pg_shipthread.c */

typedef struct pg_shipthread pg_shipthread;

/* How the shipper reports, from its own thread: ERR REQLOG_OK for notices (the store
 * cannot be reached and it waits, it ships again), an error when it stopped for good
 * (a store that refuses: password, database, a newer schema). Never called once
 * pg_shipthread_finish() has returned. */
typedef void (*pg_ship_report_fn)(void *ctx, reqlog_err err, const char *msg);

/* Starts a thread shipping the history at SPOOL into the store URL (reqlog_ship(),
 * following): its own read-only connection to the spool, its own to the store; it
 * connects, waits for an unreachable store and reports through FN with CTX. */
reqlog_err pg_shipthread_start(const char *spool, const char *url, pg_ship_report_fn fn,
                               void *ctx, pg_shipthread **out, char **cause);

/* What pg_shipthread_finish() saw. */
typedef struct pg_ship_end {
  int caught_up;   /* every row committed before the finish is in the store */
  int64_t pending; /* when not: rows of the spool not shipped as of the last look, -1
                    * when not known */
} pg_ship_end;

/* Ships what the spool has committed until the store has it all, the store fails to
 * answer, or WAIT_MS passed; then stops the thread and frees T (a thread held up in a
 * network call past the bound is left to end by itself, reporting nothing). */
pg_ship_end pg_shipthread_finish(pg_shipthread *t, long wait_ms);

#endif
