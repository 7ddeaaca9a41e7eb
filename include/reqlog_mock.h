/* reqlog_mock.h: the mock server (`reqlog mock`) as the CLI sees it: one libmicrohttpd
 * daemon that answers every request with the recorded call that matches it (reqlog.h's
 * reqlog_mock_match()), or a JSON 404 naming the closest recorded calls. web/ implements
 * it (mock_server.c, mock_reply.c) using only reqlog.h. Not installed. */
#ifndef REQLOG_MOCK_H
#define REQLOG_MOCK_H

#include <stddef.h>
#include <stdint.h>

#include "reqlog.h"

/* A request no recorded call matched: METHOD and the request target (path and query as
 * sent), both as received from the client (hostile: print them with care). */
typedef void (*mockd_unmatched_fn)(void *ctx, const char *method, const char *target);

typedef struct mockd_opts {
  const reqlog_mock *mock;       /* what to serve; must outlive the server */
  const char *listen;            /* "HOST:PORT"; NULL = "127.0.0.1:8089"; port 0 = any */
  int allow_remote;              /* a non-loopback address is refused unless set */
  mockd_unmatched_fn unmatched;  /* told of each unmatched request (may be NULL), from
                                    the server's threads, one at a time */
  void *ctx;
} mockd_opts;

typedef struct mockd mockd;

/* Binds and starts serving. Returns 0 and *out, or -1 with *out NULL and a malloc'd
 * message in *cause (free()) when CAUSE is not NULL. */
int mockd_start(const mockd_opts *opts, mockd **out, char **cause);

/* "http://HOST:PORT" as bound (the real port when 0 was asked). Owned by S. */
const char *mockd_url(const mockd *s);

/* Requests answered so far: in all, and those no recorded call matched. */
void mockd_counts(mockd *s, int64_t *answered, int64_t *unmatched);

/* Unmatched request I (0, 1, ...: the first MOCKD_UNMATCHED_KEPT distinct ones, in the
 * order they first came), with how many times it came; 0 past the last. Copies into
 * METHOD and TARGET (cut to their sizes). */
#define MOCKD_UNMATCHED_KEPT 100
int mockd_unmatched_at(mockd *s, size_t i, char *method, size_t method_size, char *target,
                       size_t target_size, int64_t *count);

/* Stops serving (open connections are closed) and frees S. Accepts NULL. */
void mockd_stop(mockd *s);

#endif
