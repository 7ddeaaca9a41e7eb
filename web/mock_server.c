/* mock_server.c: the mock's daemon (include/reqlog_mock.h): libmicrohttpd with a thread
 * per connection; each request's target is taken as sent (the URI logger), its body
 * gathered (up to MOCKD_MAX_BODY), then matched against the recorded calls
 * (reqlog_mock_match) and answered by mock_reply.c. The Host header must name this
 * server, as the dashboard's must (a page whose DNS name rebinds to 127.0.0.1 would
 * otherwise read the recorded answers); unmatched requests are counted and kept. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cause.h"
#include "mock_int.h"
#include "reqlog_web.h"
#include "security.h"

enum {
  CONNECTION_LIMIT = 64,
  CONNECTION_TIMEOUT_S = 30
};

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
  (void)cls;
  (void)conn;
  mockd_req *q = calloc(1, sizeof *q);
  if (q && !(q->target = strdup(uri ? uri : ""))) {
    free(q);
    q = NULL;
  }
  return q; /* NULL: the access handler closes the connection */
}

/* Keeps the unmatched request METHOD TARGET (counted once per distinct one) and tells
 * the CLI. */
static void missed(mockd *s, const char *method, const char *target) {
  pthread_mutex_lock(&s->lock);
  s->missed++;
  size_t i = 0;
  while (i < s->nmisses &&
         (strcmp(s->misses[i].method, method) || strcmp(s->misses[i].target, target)))
    i++;
  if (i < s->nmisses) {
    s->misses[i].count++;
  } else if (s->nmisses < MOCKD_UNMATCHED_KEPT) {
    mockd_miss *m = &s->misses[s->nmisses];
    m->method = strdup(method);
    m->target = strdup(target);
    if (m->method && m->target) {
      m->count = 1;
      s->nmisses++;
    } else {
      free(m->method);
      free(m->target);
      m->method = m->target = NULL;
    }
  }
  if (s->unmatched)
    s->unmatched(s->ctx, method, target);
  pthread_mutex_unlock(&s->lock);
}

static enum MHD_Result answer(mockd *s, struct MHD_Connection *conn, mockd_req *q,
                              const char *method) {
  pthread_mutex_lock(&s->lock);
  s->answered++;
  pthread_mutex_unlock(&s->lock);
  if (q->too_large)
    return mockd_reply_message(conn, MHD_HTTP_CONTENT_TOO_LARGE,
                               "The request body is too large for the mock.");
  /* path ? query: both as sent */
  char *query = strchr(q->target, '?');
  if (query)
    *query++ = '\0';
  reqlog_mock_request req = {method, q->target, query, q->body, q->len};
  const reqlog_mock_call *call = NULL;
  reqlog_mock_match_kind kind = reqlog_mock_match(s->mock, &req, &call);
  if (kind == REQLOG_MOCK_NONE && strcmp(method, "HEAD") == 0) {
    /* a HEAD is a GET without the body (RFC 9110): MHD leaves the body out */
    req.method = "GET";
    kind = reqlog_mock_match(s->mock, &req, &call);
    req.method = method;
  }
  if (kind != REQLOG_MOCK_NONE)
    return mockd_reply_call(conn, call, kind);
  enum MHD_Result r = mockd_reply_none(conn, s->mock, &req);
  if (query)
    query[-1] = '?'; /* the target as sent, for the list of unmatched requests */
  missed(s, method, q->target);
  return r;
}

/* The first call for a request comes with its headers; the body follows in pieces, and
 * a last call with none ends it. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
  (void)url; /* decoded and without the query: the target as sent is Q's */
  (void)version;
  mockd *s = cls;
  mockd_req *q = *con_cls;
  if (!q)
    return MHD_NO;
  if (q->answered)
    return MHD_YES;
  if (!q->started) {
    q->started = 1;
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (!security_host_names(host, s->host, s->port, s->wildcard)) {
      q->answered = 1;
      return mockd_reply_message(conn, MHD_HTTP_MISDIRECTED_REQUEST, "Unknown host.");
    }
    const char *len = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                  MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (len && (strlen(len) > 12 || strtoull(len, NULL, 10) > MOCKD_MAX_BODY)) {
      q->answered = 1; /* MHD will not read the body */
      return mockd_reply_message(conn, MHD_HTTP_CONTENT_TOO_LARGE,
                                 "The request body is too large for the mock.");
    }
    return MHD_YES;
  }
  if (*upload_data_size) {
    size_t n = *upload_data_size;
    *upload_data_size = 0;
    if (q->too_large || q->len + n > MOCKD_MAX_BODY) {
      q->too_large = 1; /* dropped; a 413 at its end */
      return MHD_YES;
    }
    if (q->len + n > q->cap) {
      size_t cap = q->cap ? q->cap : 4096;
      while (cap < q->len + n)
        cap *= 2;
      unsigned char *p = realloc(q->body, cap);
      if (!p)
        return MHD_NO;
      q->body = p;
      q->cap = cap;
    }
    memcpy(q->body + q->len, upload_data, n);
    q->len += n;
    return MHD_YES;
  }
  q->answered = 1;
  return answer(s, conn, q, method);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)cls;
  (void)conn;
  (void)toe;
  mockd_req *q = *con_cls;
  if (q) {
    free(q->target);
    free(q->body);
    free(q);
  }
  *con_cls = NULL;
}

/* The path and query as sent: no unescaping (the recorded paths are as sent too). */
static size_t keep_escapes(void *cls, struct MHD_Connection *conn, char *s) {
  (void)cls;
  (void)conn;
  return strlen(s);
}

int mockd_start(const mockd_opts *opts, mockd **out, char **cause) {
  if (cause)
    *cause = NULL;
  if (!out)
    return web_fail(cause, "mock: OUT is NULL");
  *out = NULL;
  if (!opts || !opts->mock)
    return web_fail(cause, "mock: nothing to serve");
  web_listen l;
  if (web_parse_listen(opts->listen ? opts->listen : "127.0.0.1:8089", &l, cause) != 0)
    return -1;
  if (!l.loopback && !opts->allow_remote)
    return web_fail(cause, "--listen: %s is not a loopback address: the recorded answers "
                    "would be served to the network (--allow-remote to do so)", l.host);
  mockd *s = calloc(1, sizeof *s);
  if (!s)
    return web_fail(cause, "out of memory");
  pthread_mutex_init(&s->lock, NULL);
  s->mock = opts->mock;
  s->unmatched = opts->unmatched;
  s->ctx = opts->ctx;
  s->wildcard = l.wildcard;
  snprintf(s->host, sizeof s->host, "%s", l.host);
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                   MHD_USE_POLL;
  if (l.addr.ss_family == AF_INET6)
    flags |= MHD_USE_IPv6;
  s->daemon = MHD_start_daemon(
    flags, (uint16_t)l.port, NULL, NULL, on_request, s,
    MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&l.addr,
    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT,
    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
    MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
    MHD_OPTION_UNESCAPE_CALLBACK, keep_escapes, s,
    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
    MHD_OPTION_END);
  if (!s->daemon) {
    web_fail(cause, "cannot listen on %s:%u (in use, or not an address of this machine?)",
             l.host, l.port);
    mockd_stop(s);
    return -1;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
  s->port = info && info->port ? info->port : l.port;
  if (asprintf(&s->url, "http://%s:%u", s->host, s->port) < 0) {
    s->url = NULL;
    web_fail(cause, "out of memory");
    mockd_stop(s);
    return -1;
  }
  *out = s;
  return 0;
}

const char *mockd_url(const mockd *s) {
  return s->url;
}

void mockd_counts(mockd *s, int64_t *answered, int64_t *unmatched) {
  pthread_mutex_lock(&s->lock);
  if (answered)
    *answered = s->answered;
  if (unmatched)
    *unmatched = s->missed;
  pthread_mutex_unlock(&s->lock);
}

int mockd_unmatched_at(mockd *s, size_t i, char *method, size_t method_size, char *target,
                       size_t target_size, int64_t *count) {
  pthread_mutex_lock(&s->lock);
  int have = i < s->nmisses;
  if (have) {
    snprintf(method, method_size, "%s", s->misses[i].method);
    snprintf(target, target_size, "%s", s->misses[i].target);
    *count = s->misses[i].count;
  }
  pthread_mutex_unlock(&s->lock);
  return have;
}

void mockd_stop(mockd *s) {
  if (!s)
    return;
  if (s->daemon)
    MHD_stop_daemon(s->daemon);
  for (size_t i = 0; i < s->nmisses; i++) {
    free(s->misses[i].method);
    free(s->misses[i].target);
  }
  pthread_mutex_destroy(&s->lock);
  free(s->url);
  free(s);
}
