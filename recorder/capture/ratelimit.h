/* ratelimit.h: the client-side rate limit (at most N requests per key in any window,
 * 60 per 60 s by default), shared through the database by every process recording into
 * it, so a batch job never causes a 429 by itself. */
#ifndef REQLOG_RATELIMIT_H
#define REQLOG_RATELIMIT_H

#include <stdint.h>
#include "handle.h"

/* Blocks until KEY_FP (may be "") may send one more request, then counts it.
 * *waited_us gets the time spent waiting. A database failure falls back to a limiter in
 * this process (reported), so the call is never refused because of the recorder. */
void ratelimit_acquire(reqlog *r, const char *key_fp, int per_window, long window_ms,
                       int64_t *waited_us);

#endif
