/* proxy_client.c: the client side of the proxy, libmicrohttpd's handlers for each request
 * a loop's daemon accepts: the head arrives (checked, recorded, its transfer started),
 * the body arrives (recorded and queued for libcurl through the upload ring, the
 * connection parked while the ring is full), the request is complete (answered once the
 * upstream's head is here), and MHD is done with it (a client gone early ends the
 * transfer). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy_int.h"

#define UP_RING (256 * 1024)       /* request body bytes waiting for the upstream */

/* Whether the request has a body, and its length, from its framing headers. */
static void read_framing(exchange *ex, struct MHD_Connection *conn) {
  const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
  const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding");
  if (te && *te) {
    ex->has_body = 1;
    ex->body_len = -1;
  } else if (cl) {
    ex->has_body = 1;
    ex->body_len = strtoll(cl, NULL, 10);
  }
}

/* Builds the record and the forwarded request from the request head and starts the
 * transfer. Returns 0, or the status of the proxy's own answer with *msg (400 and 501:
 * a head refused by proxy_head_check, recorded). */
static unsigned begin(loop *p, exchange *ex, struct MHD_Connection *conn,
                      const char *method, const char *version, const char **msg) {
  *msg = "out of memory";
  if (p->stopping) {
    *msg = "the proxy is stopping";
    return MHD_HTTP_SERVICE_UNAVAILABLE;
  }
  if (ex->target[0] != '/') {
    *msg = "the proxy forwards paths such as /participants; absolute URLs and other "
           "request targets are not forwarded";
    return MHD_HTTP_BAD_REQUEST;
  }
  ex->method = strdup(method);
  if (!ex->method)
    return MHD_HTTP_INTERNAL_SERVER_ERROR;
  ex->head_only = strcmp(method, "HEAD") == 0;
  read_framing(ex, conn);
  if (proxy_record_begin(ex, method) != 0)
    return MHD_HTTP_INTERNAL_SERVER_ERROR;
  record *rec = ex->rec;
  const char *fault = NULL;
  char ce[128];
  int refused = proxy_reqhead_read(ex, conn, method, version, p->px->up.authority, &fault,
                                   ce, sizeof ce);
  if (refused < 0 || !rec->method || !rec->url)
    return MHD_HTTP_INTERNAL_SERVER_ERROR;
  if (refused) {
    proxy_record_refused(ex, fault);
    *msg = fault;
    return (unsigned)refused;
  }
  if (ex->body_len > 0)
    proxy_record_lend_body(rec, &rec->req_body, (uint64_t)ex->body_len);
  bodydec_init(&ex->reqdec, &rec->req_body, 0, ce[0] ? ce : NULL);
  ex->reqdec_on = 1;
  return proxy_transfer_start(p, ex) == 0 ? 0 : MHD_HTTP_INTERNAL_SERVER_ERROR;
}

/* A chunk of the client's body: recorded and queued for libcurl as far as there is room
 * (all of it once the transfer ended: the rest is only recorded). Returns what it took. */
static size_t upload(exchange *ex, const char *data, size_t len) {
  size_t took = len;
  if (!ex->done && !ex->up.buf) {
    size_t cap = ex->body_len > 0 && ex->body_len < UP_RING ? (size_t)ex->body_len : UP_RING;
    if (proxy_ring_alloc(&ex->up, cap) != 0) {
      snprintf(ex->errbuf, sizeof ex->errbuf, "the proxy ran out of memory");
      proxy_transfer_finish(ex, CURLE_OUT_OF_MEMORY, WHY_NONE);
    }
  }
  if (!ex->done) {
    took = proxy_ring_put(&ex->up, data, len);
    if (took && ex->send_paused)
      proxy_transfer_pause(ex, ex->recv_paused, 0);
  }
  bodydec_feed(&ex->reqdec, data, took);
  return took;
}

/* The client's body is complete, or abandoned: the record's copy is final, and libcurl
 * may read the end of it. */
static void end_upload(exchange *ex) {
  if (ex->reqdec_on) {
    bodydec_end(&ex->reqdec);
    ex->reqdec_on = 0;
  }
  if (ex->rec)
    capbuf_finish(&ex->rec->req_body);
  ex->req_eof = 1;
  if (ex->send_paused)
    proxy_transfer_pause(ex, ex->recv_paused, 0);
  proxy_record_submit_when_done(ex);
}

void *proxy_client_on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
  return proxy_exchange_new(cls, uri); /* NULL on out of memory: answered with a 500 */
}

enum MHD_Result proxy_client_on_request(void *cls, struct MHD_Connection *conn,
                                        const char *url, const char *method,
                                        const char *version, const char *upload_data,
                                        size_t *upload_data_size, void **con_cls) {
  exchange *ex = *con_cls;
  if (!ex)
    return proxy_response_message(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory", 0);
  if (!ex->begun) { /* the head has arrived, the body (if any) has not */
    const char *msg = NULL;
    ex->conn = conn;
    unsigned status = begin(cls, ex, conn, method, version, &msg);
    ex->begun = status ? 2 : 1;
    /* a refused head's framing is not trusted for a next request on the connection */
    int close = status == MHD_HTTP_BAD_REQUEST || status == MHD_HTTP_NOT_IMPLEMENTED;
    return status ? proxy_response_message(conn, status, msg, close) : MHD_YES;
  }
  if (ex->begun == 2) { /* already answered: a body still arriving is dropped */
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (*upload_data_size) {
    *upload_data_size -= upload(ex, upload_data, *upload_data_size);
    if (*upload_data_size)
      proxy_exchange_park(ex); /* MHD offers the rest again once libcurl has taken some */
    return MHD_YES;
  }
  if (!ex->req_eof)
    end_upload(ex);
  /* the transfer starts now, not after this pass of MHD: an upstream that has answered
   * by the time libcurl looks is answered at once, without parking the connection */
  if (!ex->head_ready && !ex->done)
    proxy_transfer_kick(ex);
  if (ex->head_ready || ex->done)
    return proxy_response_send(ex, conn);
  proxy_exchange_park(ex); /* until the upstream's head arrives or the transfer ends */
  return MHD_YES;
}

void proxy_client_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                               enum MHD_RequestTerminationCode toe) {
  exchange *ex = *con_cls;
  if (!ex)
    return;
  *con_cls = NULL;
  if (ex->suspended) { /* cannot happen: MHD completes no suspended request */
    ex->suspended = 0;
    ex->p->nsuspended--;
  }
  ex->conn = NULL;
  if (ex->begun == 1) {
    int abandoned = !ex->req_eof || toe != MHD_REQUEST_TERMINATED_COMPLETED_OK;
    if (!ex->req_eof)
      end_upload(ex);
    if (!ex->done && abandoned) {
      proxy_transfer_finish(ex, CURLE_ABORTED_BY_CALLBACK,
                            ex->p->stopping ? WHY_STOPPED : WHY_CLIENT_GONE);
    } else if (!ex->done) {
      /* MHD sent the whole (known-length) body; the transfer ends on its own, and what
       * still comes is only recorded */
      ex->client_done = 1;
      proxy_transfer_pause(ex, 0, ex->send_paused);
    }
  }
  proxy_exchange_unref(ex);
}
