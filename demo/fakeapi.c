/* fakeapi.c: starting and stopping the fake API, and the libmicrohttpd glue: a request
 * object per request, the body collected under a cap, then the checks a real API makes
 * (route, key, rate limit, permission) in front of the route handlers. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "fakeapi_int.h"

/* One HTTP request, from its request line until MHD reports it complete. */
struct fa_request {
  char *query;     /* the raw query string; MHD only keeps the decoded arguments */
  bool seen;       /* the first access-handler call (headers only) happened */
  char *body;      /* NUL-terminated for the JSON parser; may hold other NULs */
  size_t len, cap;
  bool too_large;  /* the body passed FAKEAPI_MAX_UPLOAD; the rest is discarded */
  bool oom;
};

static void set_cause(char **cause, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

static void set_cause(char **cause, const char *fmt, ...)
{
  va_list ap;

  if (cause == NULL)
    return;
  va_start(ap, fmt);
  if (vasprintf(cause, fmt, ap) < 0)
    *cause = NULL;
  va_end(ap);
}

/* ------------------------------------------------------------ request lifetime */

/* MHD calls this with the raw request line's URI before anything else; what it returns
 * becomes the request's *con_cls, and on_completed() frees it. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
  struct fa_request *rq = calloc(1, sizeof *rq);
  const char *q = strchr(uri, '?');

  if (rq == NULL)
    return NULL;
  rq->query = strdup(q ? q + 1 : "");
  if (rq->query == NULL) {
    free(rq);
    return NULL;
  }
  return rq;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
  struct fa_request *rq = *con_cls;

  if (rq != NULL) {
    free(rq->query);
    free(rq->body);
    free(rq);
  }
  *con_cls = NULL;
}

/* Keeps up to FAKEAPI_MAX_UPLOAD bytes; past that, drops what it holds and discards the
 * rest, so an oversized upload costs no memory and still gets its 413. */
static void body_append(struct fa_request *rq, const char *data, size_t n)
{
  size_t want;
  char *grown;

  if (rq->too_large || rq->oom)
    return;
  if (n > (size_t)FAKEAPI_MAX_UPLOAD - rq->len) {
    rq->too_large = true;
    free(rq->body);
    rq->body = NULL;
    rq->len = rq->cap = 0;
    return;
  }
  if (rq->len + n + 1 > rq->cap) {
    want = rq->cap ? rq->cap * 2 : 4096;
    if (want < rq->len + n + 1)
      want = rq->len + n + 1;
    if (want > (size_t)FAKEAPI_MAX_UPLOAD + 1)
      want = (size_t)FAKEAPI_MAX_UPLOAD + 1;
    grown = realloc(rq->body, want);
    if (grown == NULL) {
      rq->oom = true;
      return;
    }
    rq->body = grown;
    rq->cap = want;
  }
  memcpy(rq->body + rq->len, data, n);
  rq->len += n;
  rq->body[rq->len] = '\0';
}

/* ------------------------------------------------------------ the checks */

static bool is_write(const char *method)
{
  return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
         strcmp(method, "PATCH") == 0 || strcmp(method, "DELETE") == 0;
}

/* Laravel's wording: "The route public/v1/nope could not be found." */
static void not_found(const struct fa_call *c, struct fa_reply *r)
{
  char *msg = NULL;

  if (asprintf(&msg, "The route %s could not be found.", c->path + 1) < 0) {
    r->oom = true;
    return;
  }
  fa_reply_message(r, 404, msg);
  free(msg);
}

static void method_not_allowed(const struct fa_call *c, struct fa_reply *r)
{
  char *msg = NULL;

  if (asprintf(&msg, "The %s method is not supported for this route.", c->method) < 0) {
    r->oom = true;
    return;
  }
  fa_reply_message(r, 405, msg);
  free(msg);
}

/* Who is calling, how often, and may they do this, in the order Laravel's middleware
 * asks. Returns false after filling R with the refusal. */
static bool gate(const struct fa_call *c, struct fa_reply *r, unsigned flags)
{
  struct fa_key *key;
  struct fa_rate rate;
  const char *auth =
    MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);

  switch (fa_authenticate(c->api, auth, &key)) {
  case FA_AUTH_REVOKED:
    fa_reply_message(r, 401, "This API key has been revoked.");
    return false;
  case FA_AUTH_UNAUTHENTICATED:
    fa_reply_message(r, 401, "Unauthenticated.");
    return false;
  case FA_AUTH_OK:
    break;
  }
  if ((flags & FA_UNLIMITED) == 0) {
    rate = fa_rate_take(c->api, key);
    fa_reply_header(r, "X-RateLimit-Limit", "%d", rate.limit);
    fa_reply_header(r, "X-RateLimit-Remaining", "%d", rate.remaining);
    if (!rate.allowed) {
      fa_reply_header(r, "Retry-After", "%ld", rate.retry_after_s);
      fa_reply_header(r, "X-RateLimit-Reset", "%lld", rate.reset_unix);
      fa_reply_message(r, 429, "Too Many Attempts.");
      return false;
    }
  }
  if (key->readonly && is_write(c->method)) {
    fa_reply_message(r, 403, "This action is unauthorized.");
    return false;
  }
  return true;
}

/* Routing comes first, as in Laravel: an unknown route is a 404 even without a key.
 * Every answer carries an X-Request-Id, as real APIs do (the id reqlog shows). */
static void dispatch(struct fa_call *c, struct fa_reply *r, bool too_large)
{
  static unsigned long long seq;
  const struct fa_route *route = NULL;
  size_t base = strlen(FAKEAPI_BASE_PATH);

  fa_reply_header(r, "X-Request-Id", "req_%x_%llu", (unsigned)getpid(),
                  __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));

  if (strncmp(c->path, FAKEAPI_BASE_PATH, base) != 0 || c->path[base] != '/') {
    not_found(c, r);
    return;
  }
  switch (fa_route_find(c->method, c->path + base, &route, &c->param, &c->param_len)) {
  case FA_MATCH_NONE:
    not_found(c, r);
    return;
  case FA_MATCH_METHOD:
    method_not_allowed(c, r);
    return;
  case FA_MATCH_OK:
    break;
  }
  if (too_large) {
    fa_reply_message(r, 413, "The request body is too large.");
    return;
  }
  if ((route->flags & FA_PUBLIC) == 0 && !gate(c, r, route->flags))
    return;
  route->handler(c, r);
}

/* A client announcing (Expect: 100-continue) a body over the cap gets its 413 before
 * sending it. Without that header the body is already on its way, and answering early
 * would close the socket on unread data: the kernel then resets the connection and the
 * client may never read the 413. So those uploads are read, discarded, then refused. */
static bool refuse_before_upload(struct MHD_Connection *conn)
{
  const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_EXPECT);
  const char *length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_CONTENT_LENGTH);

  return expect != NULL && strcasecmp(expect, "100-continue") == 0 && length != NULL &&
         strtoull(length, NULL, 10) > (unsigned long long)FAKEAPI_MAX_UPLOAD;
}

static enum MHD_Result answer(fakeapi *api, struct MHD_Connection *conn,
                              struct fa_request *rq, const char *url, const char *method)
{
  struct fa_call call = {
    .api = api, .conn = conn, .method = method, .path = url, .query = rq->query,
    .body = rq->body ? rq->body : "", .body_len = rq->len,
  };
  struct fa_reply reply = {0};
  enum MHD_Result ret;

  if (rq->oom)
    return MHD_NO;
  dispatch(&call, &reply, rq->too_large);
  ret = fa_reply_queue(&reply, conn);
  fa_reply_free(&reply);
  return ret;
}

/* MHD calls this once when the headers are in, once per piece of body, and once more
 * with no data when the request is complete. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
  fakeapi *api = cls;
  struct fa_request *rq = *con_cls;
  struct fa_reply reply = {0};
  enum MHD_Result ret;

  if (rq == NULL)
    return MHD_NO; /* on_uri() ran out of memory */
  if (!rq->seen) {
    rq->seen = true;
    if (fa_count(api, &api->hits, url) < 0)
      return MHD_NO;
    if (!refuse_before_upload(conn))
      return MHD_YES;
    fa_reply_message(&reply, 413, "The request body is too large.");
    ret = fa_reply_queue(&reply, conn);
    fa_reply_free(&reply);
    return ret;
  }
  if (*upload_data_size != 0) {
    body_append(rq, upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  return answer(api, conn, rq, url, method);
}

/* ------------------------------------------------------------ start and stop */

/* /bench answers with one response built here, so a call costs no allocation. */
static int build_bench(fakeapi *api)
{
  api->bench_body = fa_padded_json(1024);
  if (api->bench_body == NULL)
    return -1;
  /* PERSISTENT: the buffer outlives the response, both go in fakeapi_stop(). */
  api->bench = MHD_create_response_from_buffer(1024, api->bench_body,
                                               MHD_RESPMEM_PERSISTENT);
  if (api->bench == NULL ||
      MHD_add_response_header(api->bench, MHD_HTTP_HEADER_CONTENT_TYPE,
                              "application/json") != MHD_YES)
    return -1;
  return 0;
}

static int listen_loopback(fakeapi *api, int port, char **cause)
{
  struct sockaddr_in sin;
  const union MHD_DaemonInfo *info;
  char buf[128];
  int err;

  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons((uint16_t)port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  /* A thread per connection, so /slow never holds up another call; poll() rather than
   * select(), because a test process may hold more than FD_SETSIZE descriptors. */
  errno = 0;
  api->daemon = MHD_start_daemon(
    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL,
    (uint16_t)port, NULL, NULL, on_request, api,
    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
    MHD_OPTION_URI_LOG_CALLBACK, on_uri, api,
    MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)512,
    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)256,
    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
    MHD_OPTION_END);
  if (api->daemon == NULL) {
    err = errno;
    set_cause(cause, "cannot listen on 127.0.0.1:%d: %s", port,
              err ? strerror_r(err, buf, sizeof buf) : "libmicrohttpd refused to start");
    return -1;
  }
  info = MHD_get_daemon_info(api->daemon, MHD_DAEMON_INFO_BIND_PORT);
  if (info == NULL || info->port == 0) {
    set_cause(cause, "cannot read the port libmicrohttpd bound");
    return -1;
  }
  api->port = info->port;
  return 0;
}

int fakeapi_start(const fakeapi_opts *opts, fakeapi **out, char **cause)
{
  fakeapi *api;
  const char *why;

  *out = NULL;
  if (cause != NULL)
    *cause = NULL;
  api = calloc(1, sizeof *api);
  if (api == NULL) {
    set_cause(cause, "out of memory");
    return -1;
  }
  why = fa_state_init(api, opts);
  if (why == NULL && build_bench(api) != 0)
    why = "out of memory";
  if (why != NULL) {
    set_cause(cause, "%s", why);
    goto fail;
  }
  if (listen_loopback(api, opts ? opts->port : 0, cause) != 0)
    goto fail;
  if (asprintf(&api->base_url, "http://127.0.0.1:%d%s", api->port,
               FAKEAPI_BASE_PATH) < 0) {
    api->base_url = NULL;
    set_cause(cause, "out of memory");
    goto fail;
  }
  *out = api;
  return 0;

fail:
  fakeapi_stop(api);
  return -1;
}

int fakeapi_port(const fakeapi *f)
{
  return f->port;
}

const char *fakeapi_base_url(const fakeapi *f)
{
  return f->base_url;
}

void fakeapi_stop(fakeapi *f)
{
  if (f == NULL)
    return;
  if (f->locks_ready) {
    pthread_mutex_lock(&f->lock);
    f->stopping = true;
    pthread_cond_broadcast(&f->wake);
    pthread_mutex_unlock(&f->lock);
  }
  /* Joins every connection thread, so nothing below is still in use. */
  if (f->daemon != NULL)
    MHD_stop_daemon(f->daemon);
  if (f->bench != NULL)
    MHD_destroy_response(f->bench);
  cJSON_free(f->bench_body);
  free(f->base_url);
  fa_state_free(f);
  free(f);
}
