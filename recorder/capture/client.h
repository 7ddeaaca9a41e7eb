/* client.h: reqlog_request() and reqlog_key_applies() (client.c) with what a replay adds
 * (replay.c): a base URL for this one call, in place of the handle's (the key's origin
 * and what a path goes after), and the row the call replays (its row's replay_of). */
#ifndef REQLOG_CAPTURE_CLIENT_H
#define REQLOG_CAPTURE_CLIENT_H

#include "handle.h"

/* reqlog_request() with BASE (NULL: the handle's base URL) and REPLAY_OF (0: none). */
reqlog_err client_request(reqlog *r, const char *method, const char *url_or_path,
                          const char *body, size_t body_len, const char *const *headers,
                          const char *base, int64_t replay_of, reqlog_response **out);

/* reqlog_key_applies() with BASE (NULL: the handle's base URL). */
reqlog_key_use client_key_applies(reqlog *r, const char *url_or_path, const char *base,
                                  char fp[48], char **cause);

#endif
