/* proxy_response.c: the answer libmicrohttpd sends the proxy's client: the upstream's
 * status and header fields (less the hop-by-hop ones, a Location moved into the proxy's
 * URL space) with its body, in one piece when it is all here already, else streamed from
 * the exchange's response ring; or, when the transfer ended without a head or the proxy
 * refused the request, the proxy's own JSON message with a status that says why. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"
#include "proxy/proxy_int.h"

#define UNPAUSE_FREE (64 * 1024)   /* room a paused download needs before it goes on */
#define MHD_BLOCK (64 * 1024)      /* what the content reader hands MHD at most */
/* The largest answer head that, with the request's head, fits libmicrohttpd's memory for
 * a connection (beyond ~29 KiB in all it closes the connection without a word) */
#define HEAD_PASS_MAX (CONN_MEMORY - 4 * 1024)

enum MHD_Result proxy_response_message(struct MHD_Connection *conn, unsigned status,
                                       const char *msg, int close) {
  cJSON *o = cJSON_CreateObject();
  char *text = NULL;
  if (o && cJSON_AddStringToObject(o, "message", msg))
    text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  if (!text)
    return MHD_NO;
  struct MHD_Response *resp =
    MHD_create_response_from_buffer_with_free_callback(strlen(text), text, cJSON_free);
  if (!resp) {
    cJSON_free(text);
    return MHD_NO;
  }
  MHD_add_response_header(resp, "Content-Type", "application/json");
  if (close)
    MHD_add_response_header(resp, "Connection", "close");
  enum MHD_Result ret = MHD_queue_response(conn, status, resp);
  MHD_destroy_response(resp);
  return ret;
}

/* MHD's content reader of a streamed answer: the bytes in the ring, the end, or parks
 * the connection until the transfer brings more. */
static ssize_t read_body(void *cls, uint64_t pos, char *buf, size_t max) {
  exchange *ex = cls;
  if (ex->resp.len) {
    size_t k = proxy_ring_get(&ex->resp, buf, max);
    size_t room = ex->resp.cap < UNPAUSE_FREE ? ex->resp.cap : UNPAUSE_FREE;
    if (ex->recv_paused && proxy_ring_room(&ex->resp) >= room)
      proxy_transfer_pause(ex, 0, ex->send_paused);
    return (ssize_t)k;
  }
  if (ex->done)
    return ex->code == CURLE_OK && ex->why == WHY_NONE
             ? MHD_CONTENT_READER_END_OF_STREAM
             : MHD_CONTENT_READER_END_WITH_ERROR; /* the client sees a cut body, as it was */
  if (ex->recv_paused)
    proxy_transfer_pause(ex, 0, ex->send_paused);
  proxy_exchange_park(ex); /* until on_body brings bytes or the transfer ends */
  return 0;
}

static void response_done(void *cls) {
  proxy_exchange_unref(cls);
}

/* The Content-Length of the upstream's answer, or MHD_SIZE_UNKNOWN. */
static uint64_t body_size(const exchange *ex) {
  if (ex->status == 204 || ex->status == 304)
    return 0;
  uint64_t n = proxy_answer_declared_length(ex);
  return n == UINT64_MAX ? MHD_SIZE_UNKNOWN : n;
}

/* Non-zero when the whole body is already in the buffer, in one piece (the usual case
 * for a small JSON answer, which then goes out with its head in one write). */
static int whole_body(const exchange *ex) {
  if (ex->head_only)
    return 0;
  uint64_t size = body_size(ex);
  size_t have = ex->resp.len;
  if (ex->done && ex->code == CURLE_OK && ex->why == WHY_NONE)
    return ex->resp.head == 0 && (size == MHD_SIZE_UNKNOWN || size == have);
  return size != MHD_SIZE_UNKNOWN && size == have && ex->resp.head == 0;
}

/* "http://HOST" as the client of CONN reached the proxy (its Host header), into OUT. */
static const char *client_base(const exchange *ex, struct MHD_Connection *conn, char *out,
                               size_t outlen) {
  const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
  if (!host || !*host || host[strcspn(host, "/?#@ \t")] ||
      snprintf(out, outlen, "http://%s", host) >= (int)outlen)
    snprintf(out, outlen, "%s", ex->p->px->url);
  return out;
}

/* Adds header NAME: VALUE of the upstream's answer to RESP; a Location or
 * Content-Location in the upstream's URL space is moved into the proxy's. */
static void add_upstream_header(exchange *ex, struct MHD_Connection *conn,
                                struct MHD_Response *resp, const char *name,
                                const char *value) {
  char *mapped = NULL;
  if (strcasecmp(name, "Location") == 0 || strcasecmp(name, "Content-Location") == 0) {
    char base[320];
    mapped = proxy_upstream_map_location(&ex->p->px->up, value, client_base(ex, conn, base, sizeof base));
  }
  MHD_add_response_header(resp, name, mapped ? mapped : value); /* MHD refuses unsafe values */
  free(mapped);
}

/* Adds the header line LINE (LL bytes, no line end) of the upstream's answer to RESP,
 * unless it is hop-by-hop (by the answer's CONNECTION header) or Content-Length (MHD
 * writes that and the framing for the client itself). */
static void add_upstream_line(exchange *ex, struct MHD_Connection *conn,
                              struct MHD_Response *resp, const char *line, size_t ll,
                              const char *connection) {
  const char *colon = memchr(line, ':', ll);
  if (!colon || colon == line)
    return;
  size_t nl = (size_t)(colon - line);
  const char *v = colon + 1;
  while (v < line + ll && (*v == ' ' || *v == '\t'))
    v++;
  if (proxy_hop_by_hop(line, nl, connection) ||
      (nl == 14 && strncasecmp(line, "Content-Length", 14) == 0))
    return;
  /* name and value as C strings, on the stack when they fit (MHD copies them) */
  size_t vl = (size_t)(line + ll - v);
  char small[1024];
  char *name = nl + vl + 2 <= sizeof small ? small : malloc(nl + vl + 2);
  if (!name)
    return;
  memcpy(name, line, nl);
  name[nl] = '\0';
  memcpy(name + nl + 1, v, vl);
  name[nl + 1 + vl] = '\0';
  add_upstream_header(ex, conn, resp, name, name + nl + 1);
  if (name != small)
    free(name);
}

/* The upstream's answer to CONN as an MHD response: the body in hand when WHOLE, else one
 * that streams from the transfer. */
static struct MHD_Response *upstream_response(exchange *ex, struct MHD_Connection *conn,
                                              int whole) {
  char connection[512];
  util_header_value(ex->head.data, "Connection", connection, sizeof connection);
  struct MHD_Response *resp;
  if (whole) {
    resp = MHD_create_response_from_buffer_with_free_callback(ex->resp.len, ex->resp.buf, free);
    if (resp)
      ex->resp.buf = NULL; /* MHD's now; bytes still to come are only recorded */
    ex->resp.len = ex->resp.cap = 0;
    ex->client_done = 1;
  } else {
    uint64_t size = body_size(ex);
    size_t block = size != MHD_SIZE_UNKNOWN && size < MHD_BLOCK ? (size_t)size + 1 : MHD_BLOCK;
    resp = MHD_create_response_from_callback(size, block, read_body, ex, response_done);
    if (resp)
      ex->refs++; /* the response's, dropped in response_done */
  }
  if (!resp)
    return NULL;
  const char *line = strchr(ex->head.data, '\n');
  while (line && *++line) {
    const char *end = strchr(line, '\n');
    size_t ll = end ? (size_t)(end - line) : strlen(line);
    while (ll && (line[ll - 1] == '\r' || line[ll - 1] == ' ' || line[ll - 1] == '\t'))
      ll--;
    add_upstream_line(ex, conn, resp, line, ll, connection);
    line = end;
  }
  return resp;
}

/* The proxy's own answer when the transfer ended without a head: the status and message
 * say why. */
static enum MHD_Result answer_failure(exchange *ex, struct MHD_Connection *conn) {
  unsigned status = MHD_HTTP_BAD_GATEWAY;
  const char *prefix = "Bad Gateway";
  if (ex->why == WHY_REFUSED) {
    status = MHD_HTTP_LOOP_DETECTED;
    prefix = "Loop Detected";
  } else if (ex->why == WHY_TIMEOUT || ex->code == CURLE_OPERATION_TIMEDOUT) {
    status = MHD_HTTP_GATEWAY_TIMEOUT;
    prefix = "Gateway Timeout";
  } else if (ex->why == WHY_STOPPED) {
    status = MHD_HTTP_SERVICE_UNAVAILABLE;
    prefix = "Service Unavailable";
  }
  char *msg = NULL;
  if (asprintf(&msg, "%s: %s", prefix, ex->error ? ex->error : "no answer") < 0)
    msg = NULL;
  enum MHD_Result ret = proxy_response_message(conn, status, msg ? msg : prefix, 0);
  free(msg);
  return ret;
}

/* The upstream's head is too large to pass on (with the request's, REQ bytes): the client
 * gets a 502 that says so, the record the same (a transfer still running ends). */
static enum MHD_Result answer_head_too_large(exchange *ex, struct MHD_Connection *conn,
                                             size_t req) {
  char reason[200];
  snprintf(reason, sizeof reason, "the upstream's answer head is %zu bytes: with the request's "
           "%zu, more than the %d KiB the proxy can pass on", ex->head.len, req,
           HEAD_PASS_MAX / 1024);
  if (!ex->done) {
    snprintf(ex->errbuf, sizeof ex->errbuf, "%s", reason);
    proxy_transfer_finish(ex, CURLE_WEIRD_SERVER_REPLY, WHY_NONE);
  } else if (!ex->error) {
    char *e = NULL;
    if (asprintf(&e, "%s: %s", curl_easy_strerror(CURLE_WEIRD_SERVER_REPLY), reason) >= 0)
      ex->error = e; /* the record, not yet filled, says so */
  }
  char msg[240];
  snprintf(msg, sizeof msg, "Bad Gateway: %s", reason);
  return proxy_response_message(conn, MHD_HTTP_BAD_GATEWAY, msg, 0);
}

enum MHD_Result proxy_response_send(exchange *ex, struct MHD_Connection *conn) {
  if (!ex->head_ready)
    return answer_failure(ex, conn);
  const union MHD_ConnectionInfo *hs =
    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
  size_t req = hs && hs->header_size > 0 ? hs->header_size : 0;
  if (ex->head.len + req > HEAD_PASS_MAX)
    return answer_head_too_large(ex, conn, req);
  struct MHD_Response *resp = upstream_response(ex, conn, whole_body(ex));
  if (!resp)
    return proxy_response_message(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory", 0);
  enum MHD_Result ret = MHD_queue_response(conn, (unsigned)ex->status, resp);
  MHD_destroy_response(resp);
  return ret;
}
