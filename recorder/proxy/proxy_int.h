/* proxy_int.h: what the files of the recording proxy share: the proxy, its event loops and
 * the exchanges they run (one client request, its upstream transfer and its record), and
 * the functions each file offers the others. The files, lowest first (each uses only those
 * above it): proxy_ring.c (bounded byte buffers), proxy_exchange.c (an exchange's lifetime,
 * parking its client connection), proxy_record.c (what the record of an exchange says,
 * handing it to the store), proxy_sock.c (libcurl's sockets in the loop's epoll set),
 * proxy_transfer.c (the upstream side: a libcurl transfer from start to end),
 * proxy_reqhead.c (the client's request head: the forwarded and the recorded copies),
 * proxy_response.c (the answer MHD sends the client), proxy_client.c (libmicrohttpd's
 * handlers), proxy_loop.c (the event loop) and proxy.c (reqlog_proxy_start/stop); the pure
 * pieces below them have headers of their own: proxy_head.h (a request head's framing
 * rules), proxy_frame.h (an answer head's framing, for proxy_h1.c), proxy_net.h (addresses, refused destinations, hop-by-hop fields) and
 * proxy_upstream.h (the upstream base URL, Location mapping). Threads: an exchange lives on
 * its loop's thread from start to end; loops share only the reqlog_proxy (read-only once
 * started) and the store. */
#ifndef REQLOG_PROXY_INT_H
#define REQLOG_PROXY_INT_H

#include <curl/curl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/textbuf.h"
#include "capture/bodydec.h"
#include "capture/record.h"
#include "handle.h"
#include "proxy/proxy_net.h"

#define POOL_MAX 64                /* idle easy handles kept for the next exchanges */
#define CONN_MEMORY (32 * 1024)    /* MHD's memory per connection: the request head, the
                                      response head; MHD zeroes it for every request */
#define MAX_LOOPS 16

/* ------------------------------------------------------------------ types */

/* A bounded byte buffer, one direction of an exchange's body. */
typedef struct ring {
  unsigned char *buf;
  size_t cap, head, len;
} ring;

typedef enum {
  WHY_NONE = 0,
  WHY_TIMEOUT,      /* the upstream was silent for timeout_ms */
  WHY_REFUSED,      /* the destination is a dashboard or the proxy itself */
  WHY_CLIENT_GONE,  /* the client went away before the exchange finished */
  WHY_STOPPED       /* reqlog_proxy_stop() */
} why;

typedef struct exchange exchange;
typedef struct h1conn h1conn;

/* One event loop: its thread, MHD daemon, multi handle and epoll set, and the exchanges
 * of the connections its daemon accepted. */
typedef struct loop {
  reqlog_proxy *px;
  struct MHD_Daemon *daemon;
  CURLM *multi;
  int epfd;                  /* the loop's epoll set: MHD's, libcurl's sockets, wakefd */
  int wakefd;                /* an eventfd reqlog_proxy_stop() writes to */
  int mhdfd;                 /* MHD's own epoll descriptor */
  pthread_t thread;
  int thread_on;
  /* the loop thread's own state */
  int stopping;
  int64_t stop_at;           /* when the loop ends once stopping (monotonic us) */
  int64_t curl_due;          /* when libcurl wants its timeout action, -1: never */
  int64_t mhd_due;           /* when MHD wants to run for its timeouts */
  int64_t next_scan;
  int64_t now;               /* monotonic us when the loop last woke: a transfer's
                                activity clock (coarse by design, like the silence check) */
  int resumed;               /* a connection was resumed since MHD last ran */
  int nsuspended;
  exchange *active;          /* exchanges whose transfer runs */
  exchange *settling;        /* transfers that ended, their records not yet made
                                (proxy_transfer_settle, once the turn's answers are out) */
  CURL *pool[POOL_MAX];
  int npool;
  unsigned char *sock;       /* SOCK_* of each libcurl socket, by descriptor (proxy_sock.c) */
  size_t nsock;
  h1conn **h1fd;             /* the own client's connections, by descriptor (proxy_h1.c) */
  size_t nh1fd;
  h1conn *h1idle[POOL_MAX];  /* its idle keep-alive connections, the newest last */
  int nh1idle;
  /* reqlog_proxy_stats: written by the loop thread only, read by any */
  _Atomic uint64_t exchanges, turns, slow_turns, turn_max_us, own_transfers;
} loop;

struct reqlog_proxy {
  reqlog *r;
  proxy_upstream up;         /* the base URL, in parts */
  char url[96];              /* http://HOST:PORT as bound */
  long timeout_ms;
  int env_proxy;             /* a proxy variable for libcurl was set at the start */
  int h1_on;                 /* the own HTTP/1.1 client may carry transfers: the upstream
                                is plain http at an IP address, no proxy variable, and
                                opts->libcurl_only was not set */
  struct sockaddr_storage h1_sa; /* the upstream's address, for the own client */
  socklen_t h1_salen;
  char h1_ip[64];            /* that address as text (what the record says) */
  proxy_net net;
  int listen_fd;             /* shared by every loop's daemon */
  atomic_int stop_asked;
  int nloops;
  loop loops[MAX_LOOPS];
};

struct exchange {
  loop *p;                   /* the loop that runs it */
  int refs;                  /* the MHD request's, the MHD response's, the transfer's */
  exchange *prev, *next;     /* in p->active while the transfer runs, then (next only)
                                in p->settling until it is settled */
  int running;               /* the transfer was started and is not settled yet */
  CURL *easy;                /* a libcurl transfer's handle until it is settled */
  int own;                   /* the transfer runs on the own client (proxy_h1.c) */
  h1conn *h1;                /* ... on this connection, until it ends */
  textbuf h1req;             /* ... its request head, written from h1req_off */
  size_t h1req_off;
  uint64_t h1body_left;      /* ... request body bytes still to write */
  uint64_t h1body_sent;
  int h1retried;             /* ... it was sent again on a new connection */
  int h1version;             /* ... the answer's HTTP/1.x minor version */
  int64_t h1connected, h1first; /* ... when its connection was made and the first byte of
                                the answer came (monotonic us; 0: not on this exchange) */
  struct MHD_Connection *conn; /* until MHD completes the request */
  int suspended;

  char *target;              /* the request-target as the client sent it */
  int begun;                 /* 1 forwarding, 2 answered by the proxy itself */
  char *method;
  int head_only;             /* HEAD */
  int has_body;
  long long body_len;        /* Content-Length, -1 when chunked */
  struct curl_slist *headers;/* what is forwarded */
  record *rec;               /* NULL once submitted */
  bodydec reqdec, respdec;
  int reqdec_on, respdec_on;

  ring up;                   /* the client's body bytes waiting for libcurl */
  int req_eof;               /* the client's body is complete (or abandoned) */
  ring resp;                 /* response bytes waiting for the client */
  int client_done;           /* MHD sent all it will send: later bytes are only recorded */
  int recv_paused, send_paused;

  int head_ready;            /* the final response header block is complete */
  int length_seen;           /* the head so far has a Content-Length: LENGTH_FIRST */
  uint64_t length_first;
  const char *answer_fault;  /* why the answer could not be passed on (static text) */
  long status;
  textbuf head;              /* final response header block, status line first (growing;
                                data NUL-terminated once there is any) */

  int done;                  /* the transfer ended; code, why and error are set */
  CURLcode code;
  why why;
  const proxy_guard *refused;
  char *error;               /* transport error text when it failed */
  int64_t started_mono, last_activity;
  int64_t ended_mono;        /* when the transfer ended (done) */
  char errbuf[CURL_ERROR_SIZE];
};

/* ------------------------------------------------------------------ proxy_ring.c */

/* Gives G a buffer of CAP bytes. Returns 0, or -1 (G left without one) when memory ran out. */
int proxy_ring_alloc(ring *g, size_t cap);
/* The room left in G. */
size_t proxy_ring_room(const ring *g);
/* Copies up to N bytes in; returns how many fitted. */
size_t proxy_ring_put(ring *g, const void *src, size_t n);
/* Copies up to N bytes out; returns how many. */
size_t proxy_ring_get(ring *g, void *dst, size_t n);

/* ------------------------------------------------------------------ proxy_exchange.c */

/* A new exchange of loop P for request-target TARGET, with one reference (the MHD
 * request's), or NULL when memory ran out. */
exchange *proxy_exchange_new(loop *p, const char *target);
/* Drops a reference; the last one frees EX. */
void proxy_exchange_unref(exchange *ex);
/* Parks EX's connection in MHD until proxy_exchange_wake(). Only from MHD's callbacks for it. */
void proxy_exchange_park(exchange *ex);
/* Lets MHD go on with EX's connection: what it waited for may be there. */
void proxy_exchange_wake(exchange *ex);

/* ------------------------------------------------------------------ proxy_record.c */

/* Starts EX's record: METHOD and the upstream URL of EX's target (NULL in it when memory
 * ran out), the clocks. Returns 0, or -1 (reported to the handle) when there is no record. */
int proxy_record_begin(exchange *ex, const char *method);
/* Gives body buffer B of REC room for SIZE bytes in REC's slab, when they fit there. */
void proxy_record_lend_body(record *rec, capbuf *b, uint64_t size);
/* The outcome of EX's transfer, which ended with CODE (EX->why set): its error text (what
 * the proxy's own answer says when there is no head) and its end time. */
void proxy_record_outcome(exchange *ex, CURLcode code);
/* Fills EX's record from its outcome and what libcurl knows about transfer H (NULL: the
 * own client's transfer, what EX says of it). */
void proxy_record_fill(exchange *ex, CURL *h);
/* Submits the record once the transfer is over and settled (its record filled) and the
 * client's body is complete. */
void proxy_record_submit_when_done(exchange *ex);
/* Records EX as refused by the proxy for REASON and submits it: nothing was forwarded. */
void proxy_record_refused(exchange *ex, const char *reason);

/* ------------------------------------------------------------------ proxy_sock.c */

/* libcurl's CURLOPT_OPENSOCKETFUNCTION (data: the exchange): refuses guarded destinations. */
curl_socket_t proxy_sock_open(void *arg, curlsocktype purpose, struct curl_sockaddr *a);
/* libcurl's CURLOPT_CLOSESOCKETFUNCTION (data: the loop). */
int proxy_sock_close(void *arg, curl_socket_t fd);
/* libcurl's CURLMOPT_SOCKETFUNCTION (data: the loop): keeps the epoll set in step. */
int proxy_sock_watch(CURL *e, curl_socket_t s, int what, void *userp, void *socketp);
/* An epoll event EVENTS on libcurl socket FD of loop P. */
void proxy_sock_event(loop *p, int fd, uint32_t events);

/* ------------------------------------------------------------------ proxy_answer.c */

/* A line (LEN bytes with its line end) of a response head EX's transfer received: kept
 * as the head, the client woken when the final head is complete. Returns 0, or -1 (with
 * EX->answer_fault set) when the line makes the answer impossible to pass on: a
 * Content-Length other than an earlier one. */
int proxy_answer_head_line(exchange *ex, const char *data, size_t len);
/* Response body bytes EX's transfer received: queued for the client as far as the ring
 * has room (all of them; or none when they do not all fit, or with PARTIAL as many as
 * fit, either way setting EX->recv_paused) and recorded. Returns how many were taken, or
 * -1 when memory ran out. */
long proxy_answer_body(exchange *ex, const char *data, size_t len, int partial);
/* The body length the upstream's head declares (Content-Length without
 * Transfer-Encoding), or UINT64_MAX when it declares none. */
uint64_t proxy_answer_declared_length(const exchange *ex);

/* ------------------------------------------------------------------ proxy_h1.c */

/* Finds whether the upstream of PX can be reached by the own client (plain http at an
 * IP address, no proxy variable) and keeps its address in PX. */
void proxy_h1_setup(reqlog_proxy *px);
/* Non-zero when EX's transfer can run on the own client: the upstream can, the request's
 * body (if any) has a known length, its target is plain ASCII without a fragment. */
int proxy_h1_usable(const loop *p, const exchange *ex);
/* Starts EX's transfer on an idle connection or a new one: the request head is written
 * now when there is no body to wait for. A failure to connect ends the transfer
 * (proxy_transfer_done). Returns 0, or -1 when memory ran out (nothing started). */
int proxy_h1_start(loop *p, exchange *ex);
/* An epoll event EVENTS on the own client's connection FD of loop P. */
void proxy_h1_event(loop *p, int fd, uint32_t events);
/* Non-zero when FD is one of the own client's connections of loop P. */
int proxy_h1_owns(const loop *p, int fd);
/* EX's directions changed (proxy_transfer_pause): WAS_RECV was the old receive pause. */
void proxy_h1_pause(exchange *ex, int was_recv);
/* Reads what the upstream has sent for EX already, if its request is out (the client's
 * request just completed: an answer that is here is answered at once). */
void proxy_h1_poll(exchange *ex);
/* Lets go of EX's connection when its transfer ended before the answer did (closed). */
void proxy_h1_drop(exchange *ex);
/* Closes loop P's idle connections and frees what proxy_h1.c keeps in P. */
void proxy_h1_free(loop *p);

/* ------------------------------------------------------------------ proxy_transfer.c */


/* Starts EX's upstream transfer on loop P (a pooled handle or a new one). Returns 0, or
 * -1 when it could not be started. */
int proxy_transfer_start(loop *p, exchange *ex);
/* Tells libcurl which directions of EX's transfer wait for the client (RECV: no room for
 * more response bytes; SEND: no request bytes yet). Never from a libcurl callback. */
void proxy_transfer_pause(exchange *ex, int recv, int send);
/* Ends the transfer with CODE (W: why the proxy ended it), records it and drops the
 * transfer's reference: a caller that uses EX afterwards holds one of its own. Never from
 * a libcurl callback. */
void proxy_transfer_finish(exchange *ex, CURLcode code, why w);
/* The transfer libcurl reports done with CODE: the outcome the client's answer needs is
 * set and the client's connection woken now; the record, the handle and the transfer's
 * reference wait in the loop's settling list for proxy_transfer_settle(). */
void proxy_transfer_done(exchange *ex, CURLcode code);
/* Ends (proxy_transfer_done) the transfers of loop P that libcurl reports done. */
void proxy_transfer_reap(loop *p);
/* Bytes of the client's body left EX's upload ring (either client): its connection is
 * woken once there is room enough for more. */
void proxy_transfer_upload_taken(exchange *ex);
/* The client's request is complete and EX's upstream has not answered yet: the transfer
 * goes on now (libcurl's timer, or a read of the own client). */
void proxy_transfer_kick(exchange *ex);
/* Runs libcurl's timer of loop P when it is due by P->now (a transfer just added asks
 * for a zero timeout: this starts it), then reaps. Never from a libcurl callback. */
void proxy_transfer_run_timer(loop *p);
/* Settles the transfers of loop P that ended: each one's record is filled from libcurl
 * and handed to the store (once the client's body is complete too), its handle pooled,
 * its reference dropped. The loop calls it after MHD has sent the turn's answers, so
 * the recording is not between the upstream's answer and the client. */
void proxy_transfer_settle(loop *p);

/* ------------------------------------------------------------------ proxy_reqhead.c */

/* Reads the request head of CONN (METHOD, VERSION): EX's forwarded header list, the
 * recorded head (with Host: AUTHORITY first), its Content-Encoding into CE (CELEN bytes)
 * and proxy_head_check's verdict. Returns 0 when the head may be forwarded, 400 or 501
 * with *FAULT a static reason when it is refused, or -1 when memory ran out. */
int proxy_reqhead_read(exchange *ex, struct MHD_Connection *conn, const char *method,
                       const char *version, const char *authority, const char **fault,
                       char *ce, size_t celen);

/* ------------------------------------------------------------------ proxy_response.c */

/* Queues the proxy's own answer {"message": MSG} with STATUS; CLOSE: the connection ends
 * after it (the request's framing is not to be trusted for a next one). */
enum MHD_Result proxy_response_message(struct MHD_Connection *conn, unsigned status,
                                       const char *msg, int close);
/* The request is complete and the upstream's head is here (or the transfer ended
 * without one): answers with it, or with a JSON error. */
enum MHD_Result proxy_response_send(exchange *ex, struct MHD_Connection *conn);

/* ------------------------------------------------------------------ proxy_client.c */

/* libmicrohttpd's callbacks (data: the loop): a request begins, arrives, completes. */
void *proxy_client_on_uri(void *cls, const char *uri, struct MHD_Connection *conn);
enum MHD_Result proxy_client_on_request(void *cls, struct MHD_Connection *conn,
                                        const char *url, const char *method,
                                        const char *version, const char *upload_data,
                                        size_t *upload_data_size, void **con_cls);
void proxy_client_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                               enum MHD_RequestTerminationCode toe);

/* ------------------------------------------------------------------ proxy_loop.c */

/* Loop P's multi handle, epoll set, wake-up descriptor and MHD daemon on the shared
 * listening socket. P->px, and P's descriptors set to -1, come first. */
reqlog_err proxy_loop_init(loop *p, char **cause);
/* The loop's thread (pthread start routine; ARG: the loop). */
void *proxy_loop_main(void *arg);
/* Frees what proxy_loop_init made (the thread has ended, or never started). */
void proxy_loop_free(loop *p);

#endif
