/* web_int.h: what the files of the dashboard server share: the server and the
 * per-request records. Not part of the interface (that is include/reqlog_web.h). */
#ifndef REQLOG_WEB_INT_H
#define REQLOG_WEB_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <microhttpd.h>

#include "conns.h"
#include "reqlog.h"
#include "reqlog_web.h"

/* Request bodies above this are refused with 413 (API.md, Security). */
#define WEB_MAX_BODY (64 * 1024)

struct web_server {
  struct MHD_Daemon *daemon;
  reqlog *r;               /* one handle for every connection (thread-safe) */
  char *url;               /* "http://HOST:PORT" */
  char *host;              /* the bound host as it appears in Host headers, lower-case;
                              IPv6 addresses in brackets */
  unsigned port;           /* the bound port */
  int wildcard;            /* bound to 0.0.0.0 or [::]: any host name with our port */
  char *token;             /* NULL: no authentication */
  char *assets_dir;        /* NULL: the embedded copy of web/static */
  unsigned idle_s;         /* seconds without a byte either way before a connection closes */
  int limit_per_minute;    /* the handle's client-side rate limit, 0 = off */
  int team_store;          /* the history is a team store (PostgreSQL) read through its
                              own connections (R reads it, REC records the replays) */
  char *store_url;         /* the team store's URL (may hold a password: wiped) */
  pthread_mutex_t rec_lock;
  reqlog *rec;             /* replays into a team store: recording for STORE_URL (a
                              spool and its shipper), opened at the first replay */

  /* Long-running responses (SSE) sleep on WAKE and end once STOPPING is set. */
  pthread_mutex_t lock;
  pthread_cond_t wake;     /* on CLOCK_MONOTONIC */
  int stopping;

  web_conns conns;         /* deadlines and caps beyond MHD's limits (conns.h) */
};

/* One request, from its first handler call to MHD's completion notice. */
typedef struct web_req {
  struct web_server *s;
  struct MHD_Connection *conn;
  const char *method;      /* as received; owned by MHD for the request's life */
  const char *path;        /* decoded path without the query; owned by MHD */
  int is_api;              /* path is under /api/: Cache-Control: no-store */
  size_t body_len;         /* request body bytes received */
  reqlog_buf body;         /* the body itself, while within WEB_MAX_BODY (the notes API
                              reads it; NUL-terminated once anything arrived) */
  int too_large;           /* body_len went past WEB_MAX_BODY */
  int answered;            /* a response is queued: later calls have nothing to do */
} web_req;

/* Gives the recording handle R the settings of replays (server.c). Returns 0, or -1. */
int web_recording_setup(struct web_server *s, reqlog *r);

/* Non-zero once web_stop() began: long-running responses should end. */
int web_stopping(struct web_server *s);

/* Sleeps up to MS milliseconds, less when the server is stopping. Returns non-zero
 * when the server is stopping. */
int web_sleep(struct web_server *s, long ms);

#endif
