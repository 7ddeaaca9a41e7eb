/* replay_rec.h: replays on a team store (replay_rec.c): the handle that records them
 * into a local spool shipped to the store, and the wait for a replayed call's store id. */
#ifndef REQLOG_WEB_REPLAY_REC_H
#define REQLOG_WEB_REPLAY_REC_H

#include <stdint.h>
#include "web_int.h"

/* How long a replay waits for its call to be shipped before answering without it. */
#define REPLAY_SHIP_WAIT_MS 2000

/* The handle recording S's replays (reqlog_open() of the store URL), opened at the first
 * call, its spool said once on stderr. Returns 0 and *out (owned by S), or -1 with a
 * malloc'd message in *msg (free()). */
int replay_rec_open(struct web_server *s, reqlog **out, char **msg);

/* The store id of the call REC recorded as SPOOL_ID, waited for while the shipper brings
 * it, for at most REPLAY_SHIP_WAIT_MS (less when the server stops). Returns 0 and *id, or
 * -1 when the store does not have it yet. */
int replay_rec_store_id(struct web_server *s, reqlog *rec, int64_t spool_id, int64_t *id);

/* Closes the handle when it was opened: what it recorded is shipped within the library's
 * bound (REQLOG_SHIP_WAIT_MS), else left in the spool. */
void replay_rec_close(struct web_server *s);

#endif
