/* reqlog_ship.h: the shipper (`reqlog ship`) as the CLI sees it: copies the rows of a
 * local history (the spool) into a PostgreSQL team store, and tells how far it got.
 * Implemented in recorder/pg/ (docs/design.md §9). Not installed. */
#ifndef REQLOG_SHIP_H
#define REQLOG_SHIP_H

#include <signal.h>
#include <stdint.h>
#include "reqlog.h"

/* After each batch committed, and once when caught up. */
typedef struct reqlog_ship_progress {
  int64_t history_id;
  int64_t shipped;     /* rows this run put into the store */
  int64_t pending;     /* rows of the spool not shipped yet (as of the last look) */
  int caught_up;       /* every committed row of the spool is in the store */
} reqlog_ship_progress;

typedef struct reqlog_ship_opts {
  int follow;                      /* keep shipping new rows until *stop */
  volatile sig_atomic_t *stop;     /* may be NULL; non-zero: end after the batch in flight */
  /* may be NULL; non-zero (a follower told to finish): return once every row committed
   * before it was set is in the store (caught_up), or at the first failure to reach the
   * store or ship a batch after it was set (said through notice, caught_up 0) */
  volatile sig_atomic_t *drain;
  /* this process records into SPOOL (the shipper thread of a handle): the spool is read
   * without the file checks of a read-only open, which would open and close the file and
   * so drop the recording connection's locks */
  int spool_open_here;
  /* may be NULL: */
  void (*progress)(void *ctx, const reqlog_ship_progress *p);
  /* what the shipper has to say while it goes on: the store is unreachable and it waits
   * (said once per outage), it is shipping again */
  void (*notice)(void *ctx, const char *message);
  void *ctx;
} reqlog_ship_opts;

/* Ships the rows of the history SPOOL (read-only; it may be being recorded into) that
 * the store URL does not have, in batches, each in one transaction with the store's
 * record of how far this history was shipped, so each row is stored once however often
 * shipping is interrupted. Without follow it returns once caught up. While the store is
 * unreachable it retries with backoff, forever when following (until drained), else for
 * about a minute (REQLOG_ERR_DB then). Returns REQLOG_OK when caught up, stopped or
 * drained. */
reqlog_err reqlog_ship(const char *spool, const char *url, const reqlog_ship_opts *opts,
                       char **cause);

/* How far one history is shipped. */
typedef struct reqlog_ship_status {
  int64_t history_id;
  char origin[256];     /* of the newest row shipped (or in the spool, when none is) */
  int64_t spool_rows;   /* rows in the spool; -1 when the spool is not known */
  int64_t shipped_id;   /* the highest spool id in the store; -1 when not known */
  int64_t shipped_rows; /* rows shipped in all; -1 when not known */
  int64_t pending;      /* spool rows above shipped_id; -1 when not known */
  double lag_s;         /* when pending: how long its oldest row has waited; else from the
                         * newest row's end to its batch being visible; -1 unknown */
  int64_t updated_at;   /* Unix microseconds of the last batch; 0 when none */
} reqlog_ship_status;

/* The status of the history SPOOL (may be NULL: then every history the store URL
 * knows) against the store URL (may be NULL when SPOOL is given: the spool alone).
 * FN is called once per history; a non-zero return stops (REQLOG_ERR_CANCELLED). */
reqlog_err reqlog_ship_status_each(const char *spool, const char *url,
                                   int (*fn)(void *ctx, const reqlog_ship_status *st),
                                   void *ctx, char **cause);

#endif
