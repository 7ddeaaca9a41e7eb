/* server.c: the dashboard's daemon (include/reqlog_web.h): opens the history, binds,
 * and runs libmicrohttpd with a thread per connection, so a live stream or an export may
 * block its own connection's thread without holding up anyone else. MHD's limits (below) are
 * completed by conns.h: a deadline for each request to arrive whole, room kept for
 * clients that send their request at once, and a cap on live streams. */
#include "reqlog_web.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cause.h"
#include "replay_rec.h"
#include "reply.h"
#include "router.h"
#include "security.h"
#include "web_int.h"

/* Daemon limits (API.md, Security). */
enum {
  CONNECTION_LIMIT = 128,
  PER_IP_LIMIT = 64,    /* above WEB_WAITING_PER_IP: a new connection always gets in */
  CONNECTION_MEMORY = 128 * 1024,
  DISCARD_MAX = 1024 * 1024 /* body bytes read (and dropped) before a 413 */
};

/* The first call for a request arrives with its headers only; the body (if any) follows
 * in pieces, and a last call with no data ends it. A body is kept in q->body up to
 * WEB_MAX_BODY (a JSON body of the notes API); past it the rest is dropped and the
 * request gets 413 (at once when Content-Length says so). */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
  (void)version;
  web_req *q = *con_cls;
  if (!q) {
    q = calloc(1, sizeof *q);
    if (!q)
      return MHD_NO;
    q->s = cls;
    q->conn = conn;
    q->method = method;
    q->path = url;
    q->is_api = strncmp(url, "/api/", 5) == 0 || strcmp(url, "/api") == 0;
    *con_cls = q;
    const char *len = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                  MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (len && (strlen(len) > 12 || strtoull(len, NULL, 10) > WEB_MAX_BODY)) {
      q->answered = 1; /* MHD will not read the body */
      conns_request_received(&q->s->conns, conn);
      return reply_message(q, MHD_HTTP_CONTENT_TOO_LARGE, "The request body is too large.");
    }
    return MHD_YES;
  }
  if (q->answered)
    return MHD_YES;
  if (*upload_data_size) {
    q->body_len += *upload_data_size;
    if (q->body_len <= WEB_MAX_BODY &&
        reqlog_buf_add(&q->body, upload_data, *upload_data_size) != REQLOG_OK)
      q->too_large = 1; /* out of memory: answered as too large */
    *upload_data_size = 0;
    /* MHD takes no answer while a body is arriving: drop the rest and answer 413 at its
     * end, unless it goes on and on (then close the connection) */
    q->too_large |= q->body_len > WEB_MAX_BODY;
    return q->body_len > DISCARD_MAX ? MHD_NO : MHD_YES;
  }
  q->answered = 1;
  conns_request_received(&q->s->conns, conn);
  if (q->too_large)
    return reply_message(q, MHD_HTTP_CONTENT_TOO_LARGE, "The request body is too large.");
  return router_dispatch(q);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)toe;
  web_server *s = cls;
  /* a kept-alive connection now waits for its next request, held to the deadline */
  conns_request_done(&s->conns, conn);
  web_req *q = *con_cls;
  if (q)
    reqlog_buf_free(&q->body);
  free(q);
  *con_cls = NULL;
}

/* The client-side rate limit the handle got from REQLOG_RATE, read the way reqlog_open()
 * reads it (reqlog.h has a setter but no getter): the server sets it back explicitly so
 * what /api/stats reports is what the handle does. */
static int env_rate(void) {
  const char *v = getenv("REQLOG_RATE");
  if (!v || !*v)
    return 60;
  char *end = NULL;
  long n = strtol(v, &end, 10);
  return (*end || n < 0 || n > 100000) ? 60 : (int)n;
}

static int open_history(web_server *s, const char *path, char **cause) {
  if (!path || !*path)
    return web_fail(cause, "no database given");
  s->team_store = reqlog_is_store_url(path);
  if (!s->team_store && access(path, F_OK) != 0)
    return web_fail(cause, "no database at %s (%s)", path, strerror(errno));
  char *why = NULL;
  /* A team store is read through the library's store handle (replays are recorded
   * through another, replay_rec.c). */
  reqlog_err err = s->team_store ? reqlog_open_readonly(path, &s->r, &why)
                                 : reqlog_open(path, &s->r, &why);
  if (err == REQLOG_ERR_READONLY) {
    /* a history we may not write (read-only, another user's): shown, not replayed into */
    reqlog_free(why);
    why = NULL;
    err = reqlog_open_readonly(path, &s->r, &why);
  }
  if (err != REQLOG_OK) {
    web_fail(cause, "cannot open %s: %s", path, why ? why : reqlog_strerror(err));
    reqlog_free(why);
    return -1;
  }
  s->limit_per_minute = env_rate();
  if (web_recording_setup(s, s->r) != 0)
    return web_fail(cause, "cannot set up the history handle");
  /* a team store's replays are recorded by a handle of their own (replay_rec.c) */
  if (s->team_store && !(s->store_url = strdup(path)))
    return web_fail(cause, "out of memory");
  return 0;
}

int web_recording_setup(web_server *s, reqlog *r) {
  /* Replays must know their row: each recording returns once its row is committed. A
   * replay answers within about a minute: no long Retry-After waits, 30 s per attempt. */
  return reqlog_set_durability(r, REQLOG_DURABILITY_SYNC) != REQLOG_OK ||
                 reqlog_set_rate_limit(r, s->limit_per_minute) != REQLOG_OK ||
                 reqlog_set_retry(r, 3, 500, 10000) != REQLOG_OK ||
                 reqlog_set_timeout(r, 30000) != REQLOG_OK
           ? -1
           : 0;
}

static int start_daemon(web_server *s, const web_listen *l, char **cause) {
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                   MHD_USE_POLL;
  if (l->addr.ss_family == AF_INET6)
    flags |= MHD_USE_IPv6;
  s->daemon = MHD_start_daemon(
    flags, (uint16_t)l->port, NULL, NULL, on_request, s,
    MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&l->addr,
    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT,
    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)PER_IP_LIMIT,
    MHD_OPTION_CONNECTION_TIMEOUT, s->idle_s,
    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
    MHD_OPTION_NOTIFY_CONNECTION, conns_notify, s,
    MHD_OPTION_END);
  if (!s->daemon)
    return web_fail(cause, "cannot listen on %s:%u (in use, or not an address of this "
                    "machine?)", l->host, l->port);
  if (conns_start_reaper(s) != 0)
    return web_fail(cause, "cannot start a thread: %s", strerror(errno));
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
  s->port = info && info->port ? info->port : l->port;
  return 0;
}

int web_start(const web_opts *opts, web_server **out, char **cause) {
  if (cause)
    *cause = NULL;
  if (!out)
    return web_fail(cause, "web_start: OUT is NULL");
  *out = NULL;
  if (!opts)
    return web_fail(cause, "web_start: no options");
  web_listen l;
  if (web_parse_listen(opts->listen, &l, cause) != 0)
    return -1;
  if (opts->token && !web_token_valid(opts->token))
    return web_fail(cause, "--token: use 1 to 256 letters, digits, '-', '.', '_' or '~'");

  web_server *s = calloc(1, sizeof *s);
  if (!s)
    return web_fail(cause, "out of memory");
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&s->wake, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&s->lock, NULL);
  pthread_mutex_init(&s->rec_lock, NULL);
  conns_init(&s->conns);
  s->wildcard = l.wildcard;

  char generated[65] = "";
  const char *token = opts->token;
  if (!token && !l.loopback) {
    if (security_new_token(generated) != 0) {
      web_fail(cause, "cannot generate an access token: %s", strerror(errno));
      goto fail;
    }
    token = generated;
  }
  s->token = token ? strdup(token) : NULL;
  s->assets_dir = opts->assets_dir ? strdup(opts->assets_dir) : NULL;
  s->idle_s = opts->idle_s ? opts->idle_s : WEB_IDLE_DEFAULT_S;
  s->host = strdup(l.host);
  if ((token && !s->token) || (opts->assets_dir && !s->assets_dir) || !s->host) {
    web_fail(cause, "out of memory");
    goto fail;
  }
  if (open_history(s, opts->db_path, cause) != 0 || start_daemon(s, &l, cause) != 0)
    goto fail;
  if (asprintf(&s->url, "http://%s:%u", s->host, s->port) < 0) {
    s->url = NULL;
    web_fail(cause, "out of memory");
    goto fail;
  }
  memset(generated, 0, sizeof generated);
  *out = s;
  return 0;

fail:
  memset(generated, 0, sizeof generated);
  web_stop(s);
  return -1;
}

const char *web_url(const web_server *s) {
  return s->url;
}

const char *web_token(const web_server *s) {
  return s->token;
}

void web_stop(web_server *s) {
  if (!s)
    return;
  /* wake the live streams first: MHD_stop_daemon() joins their threads */
  pthread_mutex_lock(&s->lock);
  s->stopping = 1;
  pthread_cond_broadcast(&s->wake);
  pthread_mutex_unlock(&s->lock);
  conns_stop_reaper(&s->conns);
  if (s->daemon)
    MHD_stop_daemon(s->daemon);
  conns_destroy(&s->conns);
  replay_rec_close(s); /* ships what the replays recorded, within its bound */
  reqlog_close(s->r);
  if (s->store_url) /* it may hold a password */
    explicit_bzero(s->store_url, strlen(s->store_url));
  free(s->store_url);
  pthread_cond_destroy(&s->wake);
  pthread_mutex_destroy(&s->lock);
  pthread_mutex_destroy(&s->rec_lock);
  free(s->url);
  free(s->host);
  if (s->token)
    memset(s->token, 0, strlen(s->token));
  free(s->token);
  free(s->assets_dir);
  free(s);
}
