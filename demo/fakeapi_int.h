/* fakeapi_int.h: what the fake API's source files share and nothing outside
 * demo/ may use: the server object, the shared state under its lock, a request
 * as the route handlers see it, and the reply they fill in. */
#ifndef FAKEAPI_INT_H
#define FAKEAPI_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <pthread.h>
#include <cjson/cJSON.h>
#include <microhttpd.h>
#include "reqlog_demo.h"

/* A known key and its fixed rate window. The table is built once at start; only
 * window_start_ms and count change afterwards, under fakeapi.lock. */
struct fa_key {
  char *key;
  bool readonly;
  long long window_start_ms; /* monotonic clock; the window runs window_ms from here */
  int count;                 /* requests taken in the current window */
};

/* A counter per distinct string (request path, flaky id). Few distinct strings show up
 * in a test run, so a list is enough. */
struct fa_counter {
  char *name;
  long n;
  struct fa_counter *next;
};

struct fakeapi {
  struct MHD_Daemon *daemon;
  int port;
  char *base_url;
  int rate;
  long window_ms;
  struct fa_key *keys;
  size_t nkeys;

  bool locks_ready;          /* lock and wake were initialised */
  pthread_mutex_t lock;      /* guards everything below */
  pthread_cond_t wake;       /* signalled on stop, so /slow sleepers return at once */
  bool stopping;
  struct fa_counter *hits;   /* per request path */
  struct fa_counter *flaky;  /* per /flaky id */
  long created;              /* participants created so far, for their ids */

  char *bench_body;          /* /bench's body, built once */
  struct MHD_Response *bench; /* shared by every /bench answer (MHD responses are
                                 reference-counted and may be queued many times) */
};

/* One request, as the handlers see it. Everything is borrowed from the connection and
 * valid only while the handler runs. */
struct fa_call {
  fakeapi *api;
  struct MHD_Connection *conn;
  const char *method;
  const char *path;       /* full decoded path, e.g. "/public/v1/participants/3" */
  const char *query;      /* raw query string after '?', "" when there is none */
  const char *param;      /* the {} segment of the route, or NULL */
  size_t param_len;
  const char *body;       /* the request body, NUL-terminated (may hold other NULs) */
  size_t body_len;
};

/* The answer a handler describes; fa_reply_queue() turns it into an HTTP response. */
#define FA_MAX_HEADERS 8
struct fa_header {
  const char *name;  /* a string literal */
  char *value;       /* malloc'd */
};

struct fa_reply {
  unsigned status;
  cJSON *json;              /* owned; the body, sent as application/json */
  char *raw;                /* owned; the body when json is NULL */
  size_t raw_len;
  void (*raw_free)(void *); /* how raw is freed (free, cJSON_free) */
  const char *content_type; /* of raw; a string literal */
  struct MHD_Response *shared; /* sent as is, not owned (e.g. fakeapi.bench) */
  struct fa_header hdr[FA_MAX_HEADERS];
  size_t nhdr;
  bool drop;                /* close the connection without answering */
  bool oom;                 /* building the reply failed: drop the connection too */
};

/* ------------------------------------------------------------ fakeapi_reply.c */

/* Sets STATUS and the JSON body (taking ownership). JSON NULL means an allocation
 * failed: the connection is dropped instead. */
void fa_reply_json(struct fa_reply *r, unsigned status, cJSON *json);
/* STATUS with {"message": MSG}. */
void fa_reply_message(struct fa_reply *r, unsigned status, const char *msg);
/* 422 {"message":"The given data was invalid.","errors":{FIELD:[MSG]}}. */
void fa_reply_invalid(struct fa_reply *r, const char *field, const char *msg);
/* Sets STATUS and a body of LEN bytes taken over from RAW, which FREE_FN frees later;
 * RAW NULL means no body. */
void fa_reply_raw(struct fa_reply *r, unsigned status, const char *content_type,
                  char *raw, size_t len, void (*free_fn)(void *));
/* Adds a header; NAME must be a string literal, the value is formatted and copied. */
void fa_reply_header(struct fa_reply *r, const char *name, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
/* Queues R on CONN. Returns what the access handler should return. */
enum MHD_Result fa_reply_queue(struct fa_reply *r, struct MHD_Connection *conn);
/* Frees what R owns. */
void fa_reply_free(struct fa_reply *r);
/* The {"message": MSG} object, or NULL on out of memory. */
cJSON *fa_message(const char *msg);
/* A JSON object printed to exactly BYTES bytes ({"data":"xxx..."}); BYTES >= 11.
 * Returns a buffer to free with cJSON_free(), or NULL on out of memory. */
char *fa_padded_json(size_t bytes);

/* ------------------------------------------------------------ fakeapi_state.c */

/* Sets up the lock, the stop signal, the rate settings and the key table (copied from
 * OPTS, which may be NULL, or the defaults). Returns NULL, or a static text saying what
 * failed; fa_state_free() cleans up either way. */
const char *fa_state_init(fakeapi *api, const fakeapi_opts *opts);
/* Frees what fa_state_init() and the counters allocated; the server must be stopped. */
void fa_state_free(fakeapi *api);

enum fa_auth { FA_AUTH_OK, FA_AUTH_UNAUTHENTICATED, FA_AUTH_REVOKED };
/* Checks an Authorization header value (NULL when absent). On FA_AUTH_OK, *key is the
 * matching entry of api->keys. */
enum fa_auth fa_authenticate(fakeapi *api, const char *authorization,
                             struct fa_key **key);

struct fa_rate {
  bool allowed;
  int limit, remaining;
  long retry_after_s;   /* when refused: whole seconds until the window resets, >= 1 */
  long long reset_unix; /* when refused: the reset as a Unix time */
};
/* Counts one request against KEY's window. */
struct fa_rate fa_rate_take(fakeapi *api, struct fa_key *key);

/* Adds one to the counter NAME in *LIST (under api->lock). Returns the new count, or -1
 * on out of memory. */
long fa_count(fakeapi *api, struct fa_counter **list, const char *name);
/* The next id for a created participant: 101, 102, ... */
long fa_next_created_id(fakeapi *api);
/* Sleeps MS milliseconds, or less when the server stops. Returns false if cut short. */
bool fa_sleep_ms(fakeapi *api, long ms);

/* ------------------------------------------------------------ fakeapi_routes.c */

enum {
  FA_PUBLIC = 1,    /* no key needed */
  FA_UNLIMITED = 2, /* not counted by the rate limiter */
};

typedef void (*fa_handler)(const struct fa_call *c, struct fa_reply *r);

struct fa_route {
  const char *method;  /* "GET" (also HEAD), "POST", ..., or "*" for any */
  const char *pattern; /* path after FAKEAPI_BASE_PATH; "{}" matches one segment */
  unsigned flags;
  fa_handler handler;
};

enum fa_match { FA_MATCH_OK, FA_MATCH_NONE, FA_MATCH_METHOD };
/* Finds the route for METHOD and PATH (relative to the base path). On FA_MATCH_OK sets
 * *route and the {} segment in *param / *param_len. */
enum fa_match fa_route_find(const char *method, const char *path,
                            const struct fa_route **route,
                            const char **param, size_t *param_len);

/* The route's {} segment as a number in [0, MAX]; false when it is not one. */
bool fa_param_long(const struct fa_call *c, long max, long *out);

/* Query parameter NAME as an integer in [MIN, MAX] (larger values are clamped to MAX),
 * DFLT when absent. Returns false after filling R with a 422 when it is not one. */
bool fa_query_long(const struct fa_call *c, struct fa_reply *r, const char *name,
                   long dflt, long min, long max, long *out);

/* ------------------------------------------------------------ fakeapi_participants.c */

void fa_participants_list(const struct fa_call *c, struct fa_reply *r);
void fa_participants_show(const struct fa_call *c, struct fa_reply *r);
void fa_participants_create(const struct fa_call *c, struct fa_reply *r);
void fa_participants_replace(const struct fa_call *c, struct fa_reply *r);
void fa_participants_patch(const struct fa_call *c, struct fa_reply *r);
void fa_participants_delete(const struct fa_call *c, struct fa_reply *r);
/* The five participants as a JSON array, or NULL on out of memory (for /gzip). */
cJSON *fa_participants_array(void);

#endif
