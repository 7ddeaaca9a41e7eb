/* proxy.c: reqlog_proxy, the recording reverse proxy. Event loops (one per CPU core unless
 * opts->threads says otherwise) each serve the clients their libmicrohttpd daemon accepts
 * on the shared listening socket and run those exchanges' upstream transfers: MHD in
 * external epoll mode reads the requests and writes the answers, a libcurl multi handle
 * (socket interface, its own cache of keep-alive upstream connections) runs the transfers,
 * and both sit in the loop's epoll set. A connection that waits for the upstream (its
 * head, more body bytes, room for more of the client's body) is suspended in MHD and
 * resumed by the libcurl callback that brings what it waits for; a direction with nothing
 * to do is paused in libcurl, so bodies stream through bounded buffers whatever their
 * size. Each exchange is recorded like any other call: bytes are copied into a record
 * here, redaction and SQL happen on the store's writer thread.
 *
 * Threads: an exchange lives on its loop's thread from start to end; loops share only
 * the reqlog_proxy (read-only once started) and the store. reqlog_proxy_stop() sets
 * px->stop_asked, wakes every loop and joins them. */
#include <curl/curl.h>
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "capture/bodydec.h"
#include "handle.h"
#include "proxy/proxy_head.h"
#include "proxy/proxy_net.h"
#include "capture/record.h"
#include "store/store.h"
#include "base/util.h"

#define DEFAULT_LISTEN "127.0.0.1:8081"
#define DEFAULT_TIMEOUT_MS 60000L
#define RESP_RING (256 * 1024)     /* response bytes waiting for the client */
#define UNPAUSE_FREE (64 * 1024)   /* room a paused download needs before it goes on */
#define UP_RING (256 * 1024)       /* request body bytes waiting for the upstream */
#define UP_RESUME (64 * 1024)      /* room a suspended upload needs before it goes on */
#define MHD_BLOCK (64 * 1024)      /* what the content reader hands MHD at most */
#define RECORD_SLAB 4096          /* a record's own room: its strings and a small body,
                                      so the writer frees one block, not a dozen */
#define CONN_MEMORY (32 * 1024)    /* MHD's memory per connection: the request head, the
                                      response head; MHD zeroes it for every request */
#define HEAD_MAX (1024 * 1024)     /* a response header block beyond this is cut */
#define POOL_MAX 64                /* idle easy handles kept for the next exchanges */
#define MAX_CONNECTS 256L          /* idle upstream connections kept for keep-alive */
#define SCAN_MS 50                 /* how often transfers are checked for a silent upstream */
#define STOP_FLUSH_MS 200          /* how long stop lets the last answers go out */
#define EVENTS 64
#define MAX_LOOPS 16

/* What the loop knows of a libcurl socket. A socket the proxy opened stays in the epoll set
 * (for input) while its connection idles in libcurl's cache, so the next exchange on it
 * costs no epoll_ctl; an event on it while idle takes it out. */
#define SOCK_OURS 1u     /* opened by on_open_socket, closed by on_close_socket */
#define SOCK_IN_SET 2u   /* in the loop's epoll set ... */
#define SOCK_IN 4u       /* ... for input */
#define SOCK_OUT 8u      /* ... for output */
#define SOCK_WANTED 16u  /* libcurl waits on it now */

/* ------------------------------------------------------------------ types */

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
  CURL *pool[POOL_MAX];
  int npool;
  unsigned char *sock;       /* SOCK_* of each libcurl socket, by descriptor */
  size_t nsock;
} loop;

struct reqlog_proxy {
  reqlog *r;
  proxy_upstream up;         /* the base URL, in parts */
  char url[96];              /* http://HOST:PORT as bound */
  long timeout_ms;
  int env_proxy;             /* a proxy variable for libcurl was set at the start */
  proxy_net net;
  int listen_fd;             /* shared by every loop's daemon */
  atomic_int stop_asked;
  int nloops;
  loop loops[MAX_LOOPS];
};

struct exchange {
  loop *p;                   /* the loop that runs it */
  int refs;                  /* the MHD request's, the MHD response's, the transfer's */
  exchange *prev, *next;     /* in p->active while the transfer runs */
  CURL *easy;                /* the transfer's handle while it runs */
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
  long status;
  char *head;                /* final response header block, status line first */
  size_t head_len, head_alloc;

  int done;                  /* the transfer ended; code, why and error are set */
  CURLcode code;
  why why;
  const proxy_guard *refused;
  char *error;               /* transport error text when it failed */
  int64_t started_mono, last_activity;
  char errbuf[CURL_ERROR_SIZE];
};

/* ------------------------------------------------------------------ small helpers */

static size_t ring_free(const ring *g) {
  return g->cap - g->len;
}

/* Copies up to N bytes in; returns how many fitted. */
static size_t ring_put(ring *g, const void *src, size_t n) {
  const unsigned char *s = src;
  size_t k = n < ring_free(g) ? n : ring_free(g);
  size_t tail = (g->head + g->len) % (g->cap ? g->cap : 1);
  size_t first = k < g->cap - tail ? k : g->cap - tail;
  memcpy(g->buf + tail, s, first);
  memcpy(g->buf, s + first, k - first);
  g->len += k;
  return k;
}

/* Copies up to N bytes out; returns how many. */
static size_t ring_get(ring *g, void *dst, size_t n) {
  unsigned char *d = dst;
  size_t k = n < g->len ? n : g->len;
  size_t first = k < g->cap - g->head ? k : g->cap - g->head;
  memcpy(d, g->buf + g->head, first);
  memcpy(d + first, g->buf, k - first);
  g->head = (g->head + k) % g->cap;
  g->len -= k;
  if (g->len == 0)
    g->head = 0;
  return k;
}

/* ------------------------------------------------------------------ exchange lifetime */

static exchange *exchange_new(loop *p, const char *target) {
  exchange *ex = calloc(1, sizeof *ex);
  if (!ex)
    return NULL;
  ex->target = strdup(target);
  if (!ex->target) {
    free(ex);
    return NULL;
  }
  ex->p = p;
  ex->refs = 1;
  ex->body_len = -1;
  return ex;
}

static void exchange_unref(exchange *ex) {
  if (--ex->refs > 0)
    return;
  if (ex->reqdec_on)
    bodydec_end(&ex->reqdec);
  if (ex->respdec_on)
    bodydec_end(&ex->respdec);
  record_free(ex->rec);
  curl_slist_free_all(ex->headers);
  free(ex->up.buf);
  free(ex->resp.buf);
  free(ex->head);
  free(ex->error);
  free(ex->method);
  free(ex->target);
  free(ex);
}

/* Parks EX's connection in MHD until wake(). Only from MHD's callbacks for it. */
static void park(exchange *ex) {
  if (ex->suspended || !ex->conn)
    return;
  MHD_suspend_connection(ex->conn);
  ex->suspended = 1;
  ex->p->nsuspended++;
}

/* Lets MHD go on with EX's connection: what it waited for may be there. */
static void wake(exchange *ex) {
  if (!ex->suspended)
    return;
  ex->suspended = 0;
  ex->p->nsuspended--;
  ex->p->resumed = 1;
  MHD_resume_connection(ex->conn);
}

/* Tells libcurl which directions of EX's transfer wait for the client (RECV: no room for
 * more response bytes; SEND: no request bytes yet). Never from a libcurl callback. */
static void set_pause(exchange *ex, int recv, int send) {
  if (ex->done || (recv == ex->recv_paused && send == ex->send_paused))
    return;
  ex->recv_paused = recv;
  ex->send_paused = send;
  ex->last_activity = ex->p->now;
  /* unpausing may hand held bytes to on_body at once, which may pause again */
  curl_easy_pause(ex->easy, (recv ? CURLPAUSE_RECV : 0) | (send ? CURLPAUSE_SEND : 0));
}

/* ------------------------------------------------------------------ libcurl callbacks */

static size_t on_header(char *data, size_t size, size_t n, void *arg) {
  exchange *ex = arg;
  size_t len = size * n;
  ex->last_activity = ex->p->now;
  if (ex->head_ready) /* trailers: the head is already on its way to the client */
    return len;
  if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
    /* a new response head: an interim 1xx is replaced by what follows */
    ex->head_len = 0;
    const char *sp = memchr(data, ' ', len);
    ex->status = sp ? strtol(sp + 1, NULL, 10) : 0;
  }
  if (ex->head_len + len + 1 <= HEAD_MAX) {
    if (ex->head_len + len + 1 > ex->head_alloc) {
      size_t a = ex->head_alloc ? ex->head_alloc : 2048;
      while (a < ex->head_len + len + 1)
        a *= 2;
      char *h = realloc(ex->head, a);
      if (h) {
        ex->head = h;
        ex->head_alloc = a;
      }
    }
    if (ex->head_len + len + 1 <= ex->head_alloc) {
      memcpy(ex->head + ex->head_len, data, len);
      ex->head_len += len;
      ex->head[ex->head_len] = '\0';
    }
  }
  int blank = (len == 2 && data[0] == '\r') || (len == 1 && data[0] == '\n');
  if (blank && ex->head && ex->status >= 200) {
    ex->head_ready = 1;
    wake(ex); /* the client can be answered */
  }
  return len;
}

/* Gives body buffer B of REC room for SIZE bytes in REC's slab, when they fit there. */
static void lend_body(record *rec, capbuf *b, uint64_t size) {
  if (size && size <= b->limit && size <= rec->slab_cap)
    capbuf_lend(b, record_slab_take(rec, (size_t)size), (size_t)size); /* NULL: no loan */
}

/* The response buffer: as large as a small body's Content-Length, else RESP_RING. */
static int resp_ring_init(exchange *ex) {
  char cl[32], te[64];
  size_t cap = RESP_RING;
  util_header_value(ex->head, "Content-Length", cl, sizeof cl);
  util_header_value(ex->head, "Transfer-Encoding", te, sizeof te);
  if (!te[0] && cl[0] >= '0' && cl[0] <= '9') {
    unsigned long long n = strtoull(cl, NULL, 10);
    if (n < cap)
      cap = n ? (size_t)n : 1;
  }
  ex->resp.buf = malloc(cap);
  ex->resp.cap = ex->resp.buf ? cap : 0;
  if (cap < RESP_RING)
    lend_body(ex->rec, &ex->rec->resp_body, cap); /* the size of the whole body */
  return ex->resp.buf ? 0 : -1;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg) {
  exchange *ex = arg;
  size_t len = size * n;
  ex->last_activity = ex->p->now;
  if (!ex->respdec_on) {
    if (resp_ring_init(ex) != 0)
      return 0; /* out of memory: libcurl stops with a write error */
    char ce[128];
    util_header_value(ex->head, "Content-Encoding", ce, sizeof ce);
    /* libcurl removed any chunked framing; a compressed body is recorded decoded */
    bodydec_init(&ex->respdec, &ex->rec->resp_body, 0, ce[0] ? ce : NULL);
    ex->respdec_on = 1;
  }
  if (!ex->client_done) {
    if (ring_free(&ex->resp) < len) {
      ex->recv_paused = 1; /* libcurl keeps these bytes and offers them again */
      wake(ex);
      return CURL_WRITEFUNC_PAUSE;
    }
    ring_put(&ex->resp, data, len);
    wake(ex);
  }
  bodydec_feed(&ex->respdec, data, len);
  return len;
}

static size_t on_upload(char *buf, size_t size, size_t n, void *arg) {
  exchange *ex = arg;
  if (!ex->up.len) {
    if (ex->req_eof)
      return 0;
    ex->send_paused = 1;
    return CURL_READFUNC_PAUSE;
  }
  size_t k = ring_get(&ex->up, buf, size * n);
  ex->last_activity = ex->p->now;
  if (ring_free(&ex->up) >= (ex->up.cap < UP_RESUME ? ex->up.cap : UP_RESUME))
    wake(ex); /* room for more of the client's body */
  return k;
}

/* The loop's record of libcurl socket FD (grown as needed), or NULL when memory ran out. */
static unsigned char *sock_state(loop *p, int fd) {
  if (fd < 0)
    return NULL;
  if ((size_t)fd >= p->nsock) {
    size_t n = p->nsock ? p->nsock : 256;
    while (n <= (size_t)fd)
      n *= 2;
    unsigned char *st = realloc(p->sock, n);
    if (!st)
      return NULL;
    memset(st + p->nsock, 0, n - p->nsock);
    p->sock = st;
    p->nsock = n;
  }
  return &p->sock[fd];
}

static curl_socket_t on_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a) {
  exchange *ex = arg;
  const proxy_guard *g = proxy_net_refused(&ex->p->px->net, &a->addr);
  if (g) {
    ex->refused = g;
    ex->why = WHY_REFUSED;
    return CURL_SOCKET_BAD;
  }
  int fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
  unsigned char *st = sock_state(ex->p, fd);
  if (st)
    *st = SOCK_OURS; /* new, so in no epoll set */
  return fd;
}

/* Every socket on_open_socket made is closed here: closing takes it out of the loop's
 * epoll set, and the record says so. ARG is the proxy (a connection outlives exchanges). */
static int on_close_socket(void *arg, curl_socket_t fd) {
  unsigned char *st = sock_state(arg, fd);
  if (st)
    *st = 0;
  return close(fd);
}

#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val); } while (0)

/* Options every transfer of loop P has: set once, when the handle is made (a handle goes
 * back to the loop's pool only after a clean transfer and keeps them). */
static CURLcode setup_new_easy(loop *p, CURL *e) {
  CURLcode rc = CURLE_OK;
  SET(CURLOPT_PATH_AS_IS, 1L);
  SET(CURLOPT_NOSIGNAL, 1L);
  SET(CURLOPT_PROTOCOLS_STR, "http,https");
  SET(CURLOPT_HEADERFUNCTION, on_header);
  SET(CURLOPT_WRITEFUNCTION, on_body);
  SET(CURLOPT_READFUNCTION, on_upload);
  SET(CURLOPT_HTTP_CONTENT_DECODING, 0L); /* compressed bodies go to the client as they came */
  SET(CURLOPT_CONNECTTIMEOUT_MS, p->px->timeout_ms);
  SET(CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
  SET(CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
  SET(CURLOPT_CLOSESOCKETDATA, p);
  SET(CURLOPT_TCP_KEEPALIVE, 1L);
  if (!p->px->env_proxy) {
    /* no proxy variable in the environment: saying so spares libcurl reading them again
     * for every transfer (it would find the same nothing) */
    SET(CURLOPT_PROXY, "");
    SET(CURLOPT_NOPROXY, "");
  }
  return rc;
}

/* The options of EX's own transfer on E, a new handle or one from the pool: everything
 * that differs between transfers is set here, every time. */
static CURLcode setup_easy(exchange *ex, CURL *e) {
  CURLcode rc = CURLE_OK;
  SET(CURLOPT_URL, ex->rec->url);
  SET(CURLOPT_HTTPHEADER, ex->headers);
  SET(CURLOPT_HEADERDATA, ex);
  SET(CURLOPT_WRITEDATA, ex);
  SET(CURLOPT_READDATA, ex);
  SET(CURLOPT_OPENSOCKETDATA, ex);
  SET(CURLOPT_ERRORBUFFER, ex->errbuf);
  SET(CURLOPT_PRIVATE, ex);
  /* the method: HTTPGET and POST also undo a previous transfer's NOBODY */
  SET(CURLOPT_CUSTOMREQUEST, NULL);
  if (ex->head_only) {
    SET(CURLOPT_NOBODY, 1L);
  } else if (ex->has_body) {
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)ex->body_len); /* -1: chunked */
    if (strcmp(ex->method, "POST") != 0)
      SET(CURLOPT_CUSTOMREQUEST, ex->method);
  } else {
    SET(CURLOPT_HTTPGET, 1L);
    if (strcmp(ex->method, "GET") != 0)
      SET(CURLOPT_CUSTOMREQUEST, ex->method);
  }
#undef SET
  return rc;
}

/* ------------------------------------------------------------------ the end of a transfer */

static int64_t info_time(CURL *h, CURLINFO what) {
  curl_off_t t = 0;
  if (curl_easy_getinfo(h, what, &t) != CURLE_OK)
    return 0;
  return (int64_t)t;
}

/* The transport error text of a failed transfer (malloc'd), or NULL. */
static char *error_text(const exchange *ex, CURLcode code) {
  char *s = NULL;
  int r = 0;
  const char *base = curl_easy_strerror(code);
  long t = ex->p->px->timeout_ms;
  switch (ex->why) {
  case WHY_TIMEOUT:
    r = ex->head_ready ? asprintf(&s, "%s: the upstream sent nothing for %ld ms", base, t)
                       : asprintf(&s, "%s: no answer from the upstream within %ld ms", base, t);
    break;
  case WHY_REFUSED:
    r = asprintf(&s, "refused to forward to %s: %s", ex->refused->name,
                 ex->refused->self ? "that is this proxy itself (a loop)"
                                   : "a reqlog dashboard listens there");
    break;
  case WHY_CLIENT_GONE:
    r = asprintf(&s, "the client closed the connection before the exchange finished");
    break;
  case WHY_STOPPED:
    r = asprintf(&s, "the proxy stopped before the exchange finished");
    break;
  case WHY_NONE:
    if (code == CURLE_OK)
      return NULL;
    if (ex->errbuf[0] && !strstr(ex->errbuf, base))
      r = asprintf(&s, "%s: %s", base, ex->errbuf);
    else
      r = asprintf(&s, "%s", ex->errbuf[0] ? ex->errbuf : base);
    break;
  }
  return r < 0 ? NULL : s;
}

/* Fills the record from what libcurl knows about the transfer that just ended. */
static void fill_record(exchange *ex, CURL *h, CURLcode code) {
  record *r = ex->rec;
  r->status = ex->head_ready ? ex->status : 0;
  long ver = 0;
  const char *s = NULL;
  if (r->status && curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &ver) == CURLE_OK &&
      (s = record_version_text(ver)) != NULL)
    r->http_version = record_strndup(r, s, strlen(s));
  char *t = NULL;
  if (curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &t) == CURLE_OK && t && *t)
    r->remote_ip = record_strndup(r, t, strlen(t));
  t = NULL;
  if (r->status && curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &t) == CURLE_OK && t)
    r->content_type = record_strndup(r, t, strlen(t));
  if (ex->error)
    r->error = record_strndup(r, ex->error, strlen(ex->error));
  if (ex->head_ready && ex->head_len) {
    r->resp_head = record_strndup(r, ex->head, ex->head_len);
    r->resp_head_len = r->resp_head ? ex->head_len : 0;
  }
  int64_t to = info_time(h, CURLINFO_TOTAL_TIME_T);
  if (to <= 0 || code != CURLE_OK) /* a transfer ended by the proxy has no total of its own */
    to = util_mono_us() - ex->started_mono;
  record_set_phases(r, info_time(h, CURLINFO_NAMELOOKUP_TIME_T),
                    info_time(h, CURLINFO_CONNECT_TIME_T),
                    info_time(h, CURLINFO_APPCONNECT_TIME_T),
                    info_time(h, CURLINFO_STARTTRANSFER_TIME_T), to);
}

/* Hands EX's record to the store's writer. */
static void submit(exchange *ex) {
  record *rec = ex->rec;
  ex->rec = NULL;
  store *st = ex->p->px->r->st;
  if (st) {
    uint64_t seq = 0;
    int64_t row_id = 0;
    store_submit(st, rec, &seq, &row_id); /* failures reach the handle's error handler */
  } else {
    record_free(rec);
  }
}

/* Submits the record once the transfer is over and the client's body is complete. */
static void maybe_submit(exchange *ex) {
  if (!ex->done || !ex->req_eof || ex->reqdec_on || !ex->rec)
    return;
  if (ex->respdec_on) {
    bodydec_end(&ex->respdec);
    ex->respdec_on = 0;
  }
  capbuf_finish(&ex->rec->resp_body);
  submit(ex);
}

static void unlist(exchange *ex) {
  loop *p = ex->p;
  if (ex->prev)
    ex->prev->next = ex->next;
  else
    p->active = ex->next;
  if (ex->next)
    ex->next->prev = ex->prev;
  ex->prev = ex->next = NULL;
}

/* Ends the transfer with CODE (W: why, when the proxy ended it), records it and drops the
 * transfer's reference: a caller that uses EX afterwards holds one of its own. Never from
 * a libcurl callback. */
static void finish(exchange *ex, CURLcode code, why w) {
  if (ex->done || !ex->easy)
    return;
  loop *p = ex->p;
  if (ex->why == WHY_NONE)
    ex->why = w;
  ex->code = code;
  ex->error = error_text(ex, code);
  fill_record(ex, ex->easy, code);
  curl_multi_remove_handle(p->multi, ex->easy);
  if (code == CURLE_OK && ex->why == WHY_NONE && p->npool < POOL_MAX && !p->stopping)
    p->pool[p->npool++] = ex->easy;
  else
    curl_easy_cleanup(ex->easy); /* a handle left paused or aborted is not reused */
  ex->easy = NULL;
  unlist(ex);
  ex->done = 1;
  maybe_submit(ex);
  wake(ex);
  exchange_unref(ex);
}

/* ------------------------------------------------------------------ client side */

/* Queues {"message": MSG} with STATUS; CLOSE: the connection ends after it (the request's
 * framing is not to be trusted for a next one). */
static enum MHD_Result reply_json_close(struct MHD_Connection *conn, unsigned status,
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

static enum MHD_Result reply_json(struct MHD_Connection *conn, unsigned status, const char *msg) {
  return reply_json_close(conn, status, msg, 0);
}

#define WALK_HDRS 32 /* header fields a walk keeps on the stack */

typedef struct head_walk {
  exchange *ex;
  const char *connection;   /* the request's Connection header */
  char *block;              /* the request head as the client sent it */
  size_t len, alloc;
  int have_ctype, have_accept, oom;
  char content_encoding[128];
  proxy_hdr *hdrs;          /* the fields as received, for proxy_head_check */
  size_t nhdrs, hdrs_cap;
  proxy_hdr small[WALK_HDRS];
} head_walk;

/* Non-zero when the header line whose value MHD handed over as VALUE (VLEN bytes) was
 * continued on the next line (obs-fold), which MHD 0.9.75 accepts and mangles: it parses
 * the head in place, turning each line's CR and LF into NULs, and glues a continuation
 * onto the field's name ("X-A: a" + " b" arrives as "X-Ab: a") but leaves the value
 * where it was. So the bytes after the value show how the next line began. Only that
 * layout (a NUL right after the value) is read; a head with bare-LF line ends whose body
 * starts with a space or tab reads as folded too, and is refused. */
static int mhd_line_folded(const char *value, size_t vlen) {
  const unsigned char *end = (const unsigned char *)value + vlen;
  if (end[0] != '\0')
    return 0;
  if (end[1] == ' ' || end[1] == '\t') /* LF, then a continuation */
    return 1;
  return end[1] == '\0' && (end[2] == ' ' || end[2] == '\t'); /* CR LF, then one */
}

/* Keeps a field for proxy_head_check. */
static void walk_keep(head_walk *w, const char *name, size_t nlen, const char *value,
                      size_t vlen) {
  if (w->nhdrs == w->hdrs_cap) {
    size_t cap = w->hdrs_cap * 2;
    proxy_hdr *h = malloc(cap * sizeof *h);
    if (!h) {
      w->oom = 1;
      return;
    }
    memcpy(h, w->hdrs, w->nhdrs * sizeof *h);
    if (w->hdrs != w->small)
      free(w->hdrs);
    w->hdrs = h;
    w->hdrs_cap = cap;
  }
  proxy_hdr *h = &w->hdrs[w->nhdrs++];
  h->name = name;
  h->nlen = nlen;
  h->value = value;
  h->vlen = vlen;
  h->folded = value ? mhd_line_folded(value, vlen) : 0;
}

static void walk_append(head_walk *w, const char *a, const char *b, const char *c) {
  size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
  if (w->len + la + lb + lc + 1 > w->alloc) {
    size_t n = w->alloc ? w->alloc : 1024;
    while (n < w->len + la + lb + lc + 1)
      n *= 2;
    char *q = realloc(w->block, n);
    if (!q) {
      w->oom = 1;
      return;
    }
    w->block = q;
    w->alloc = n;
  }
  memcpy(w->block + w->len, a, la);
  memcpy(w->block + w->len + la, b, lb);
  memcpy(w->block + w->len + la + lb, c, lc);
  w->len += la + lb + lc;
  w->block[w->len] = '\0';
}

static enum MHD_Result walk_header(void *cls, enum MHD_ValueKind kind, const char *name,
                                   size_t nlen, const char *value, size_t vlen) {
  head_walk *w = cls;
  walk_keep(w, name, nlen, value, vlen);
  if (!value)
    value = "";
  /* the recorded head has the Host sent upstream (libcurl's), put first by begin() */
  if (strcasecmp(name, "Host") != 0) {
    walk_append(w, name, ": ", value);
    walk_append(w, "\r\n", "", "");
  }
  if (strcasecmp(name, "Content-Type") == 0)
    w->have_ctype = 1;
  if (strcasecmp(name, "Accept") == 0)
    w->have_accept = 1;
  if (strcasecmp(name, "Content-Encoding") == 0)
    snprintf(w->content_encoding, sizeof w->content_encoding, "%s", value);
  /* libcurl writes Host, Content-Length and the framing for the upstream itself; MHD has
   * already answered any Expect: 100-continue */
  if (proxy_hop_by_hop(name, strlen(name), w->connection) || strcasecmp(name, "Host") == 0 ||
      strcasecmp(name, "Content-Length") == 0 || strcasecmp(name, "Expect") == 0)
    return MHD_YES;
  /* "Name;" is how libcurl is told to send a header with an empty value; the line is put
   * together on the stack when it fits (libcurl copies it) */
  char small[512], *line = small;
  int n = *value ? snprintf(small, sizeof small, "%s: %s", name, value)
                 : snprintf(small, sizeof small, "%s;", name);
  if (n >= (int)sizeof small &&
      (*value ? asprintf(&line, "%s: %s", name, value) : asprintf(&line, "%s;", name)) < 0) {
    w->oom = 1;
    return MHD_YES;
  }
  struct curl_slist *l = curl_slist_append(w->ex->headers, line);
  if (line != small)
    free(line);
  if (l)
    w->ex->headers = l;
  else
    w->oom = 1;
  return MHD_YES;
}

/* Header lines that stop libcurl adding defaults of its own that the client did not send. */
static int suppress_defaults(exchange *ex, const head_walk *w) {
  const char *lines[] = {"Expect:", w->have_accept ? NULL : "Accept:",
                         (ex->has_body && !w->have_ctype) ? "Content-Type:" : NULL};
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    if (!lines[i])
      continue;
    struct curl_slist *l = curl_slist_append(ex->headers, lines[i]);
    if (!l)
      return -1;
    ex->headers = l;
  }
  return 0;
}

/* Records EX as refused by the proxy for REASON: nothing was forwarded. */
static void submit_refused(exchange *ex, const char *reason) {
  record *rec = ex->rec;
  size_t n = strlen(reason);
  rec->error = record_alloc(rec, n + 10);
  if (rec->error) {
    memcpy(rec->error, "refused: ", 9);
    memcpy(rec->error + 9, reason, n + 1);
  }
  record_set_phases(rec, 0, 0, 0, 0, util_mono_us() - ex->started_mono);
  capbuf_finish(&rec->req_body);
  capbuf_finish(&rec->resp_body);
  submit(ex);
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
  const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
  const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding");
  if (te && *te) {
    ex->has_body = 1;
    ex->body_len = -1;
  } else if (cl) {
    ex->has_body = 1;
    ex->body_len = strtoll(cl, NULL, 10);
  }

  pthread_rwlock_rdlock(&p->px->r->cfg);
  size_t cap = p->px->r->body_cap;
  pthread_rwlock_unlock(&p->px->r->cfg);
  record *rec = record_new_slab(cap, RECORD_SLAB);
  if (!rec) {
    handle_report(p->px->r, REQLOG_ERR_NOMEM, "recording failed: out of memory");
    return MHD_HTTP_INTERNAL_SERVER_ERROR;
  }
  ex->rec = rec;
  snprintf(rec->source, sizeof rec->source, "proxy");
  rec->started_us = util_now_us();
  ex->started_mono = ex->last_activity = util_mono_us();
  size_t ml = strlen(method), ul = strlen(p->px->up.base), tl = strlen(ex->target);
  rec->method = record_strndup(rec, method, ml);
  rec->url = record_alloc(rec, ul + tl + 1);
  if (rec->url) {
    memcpy(rec->url, p->px->up.base, ul);
    memcpy(rec->url + ul, ex->target, tl + 1);
  }

  head_walk w = {0};
  w.ex = ex;
  w.hdrs = w.small;
  w.hdrs_cap = WALK_HDRS;
  w.connection = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Connection");
  walk_append(&w, method, " ", ex->target);
  walk_append(&w, " ", version && *version ? version : "HTTP/1.1", "\r\n");
  walk_append(&w, "Host: ", p->px->up.authority, "\r\n");
  MHD_get_connection_values_n(conn, MHD_HEADER_KIND, walk_header, &w);
  walk_append(&w, "\r\n", "", "");
  const char *fault = NULL;
  unsigned refused = w.oom ? 0 : (unsigned)proxy_head_check(method, w.hdrs, w.nhdrs, &fault);
  if (w.hdrs != w.small)
    free(w.hdrs);
  rec->req_head = w.block ? record_strndup(rec, w.block, w.len) : NULL;
  rec->req_head_len = rec->req_head ? w.len : 0;
  free(w.block);
  if (w.oom || !rec->req_head || !rec->method || !rec->url || suppress_defaults(ex, &w) != 0)
    return MHD_HTTP_INTERNAL_SERVER_ERROR;
  if (refused) {
    submit_refused(ex, fault);
    *msg = fault;
    return refused;
  }
  if (ex->body_len > 0)
    lend_body(rec, &rec->req_body, (uint64_t)ex->body_len);
  bodydec_init(&ex->reqdec, &rec->req_body, 0, w.content_encoding[0] ? w.content_encoding : NULL);
  ex->reqdec_on = 1;

  CURL *e = p->npool ? p->pool[--p->npool] : NULL;
  if (!e) {
    e = curl_easy_init();
    if (!e || setup_new_easy(p, e) != CURLE_OK) {
      curl_easy_cleanup(e);
      return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
  }
  if (setup_easy(ex, e) != CURLE_OK || curl_multi_add_handle(p->multi, e) != CURLM_OK) {
    curl_easy_cleanup(e);
    return MHD_HTTP_INTERNAL_SERVER_ERROR;
  }
  ex->easy = e;
  ex->refs++; /* the transfer's, dropped in finish() */
  ex->next = p->active;
  if (p->active)
    p->active->prev = ex;
  p->active = ex;
  return 0;
}

/* A chunk of the client's body: recorded and queued for libcurl as far as there is room
 * (all of it once the transfer ended: the rest is only recorded). Returns what it took. */
static size_t upload(exchange *ex, const char *data, size_t len) {
  size_t took = len;
  if (!ex->done && !ex->up.buf) {
    size_t cap = ex->body_len > 0 && ex->body_len < UP_RING ? (size_t)ex->body_len : UP_RING;
    ex->up.buf = malloc(cap);
    ex->up.cap = ex->up.buf ? cap : 0;
    if (!ex->up.buf) {
      snprintf(ex->errbuf, sizeof ex->errbuf, "the proxy ran out of memory");
      finish(ex, CURLE_OUT_OF_MEMORY, WHY_NONE);
    }
  }
  if (!ex->done) {
    took = ring_put(&ex->up, data, len);
    if (took && ex->send_paused)
      set_pause(ex, ex->recv_paused, 0);
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
    set_pause(ex, ex->recv_paused, 0);
  maybe_submit(ex);
}

static ssize_t read_body(void *cls, uint64_t pos, char *buf, size_t max) {
  exchange *ex = cls;
  if (ex->resp.len) {
    size_t k = ring_get(&ex->resp, buf, max);
    size_t room = ex->resp.cap < UNPAUSE_FREE ? ex->resp.cap : UNPAUSE_FREE;
    if (ex->recv_paused && ring_free(&ex->resp) >= room)
      set_pause(ex, 0, ex->send_paused);
    return (ssize_t)k;
  }
  if (ex->done)
    return ex->code == CURLE_OK && ex->why == WHY_NONE
             ? MHD_CONTENT_READER_END_OF_STREAM
             : MHD_CONTENT_READER_END_WITH_ERROR; /* the client sees a cut body, as it was */
  if (ex->recv_paused)
    set_pause(ex, 0, ex->send_paused);
  park(ex); /* until on_body brings bytes or the transfer ends */
  return 0;
}

static void response_done(void *cls) {
  exchange_unref(cls);
}

/* The Content-Length of the upstream's answer, or MHD_SIZE_UNKNOWN. */
static uint64_t body_size(const exchange *ex) {
  char te[64], cl[32];
  util_header_value(ex->head, "Transfer-Encoding", te, sizeof te);
  util_header_value(ex->head, "Content-Length", cl, sizeof cl);
  if (ex->status == 204 || ex->status == 304)
    return 0;
  if (te[0] || cl[0] < '0' || cl[0] > '9')
    return MHD_SIZE_UNKNOWN;
  return strtoull(cl, NULL, 10);
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
    mapped = proxy_map_location(&ex->p->px->up, value, client_base(ex, conn, base, sizeof base));
  }
  MHD_add_response_header(resp, name, mapped ? mapped : value); /* MHD refuses unsafe values */
  free(mapped);
}

/* The upstream's answer to CONN as an MHD response: the body in hand when WHOLE, else one
 * that streams from the transfer. */
static struct MHD_Response *upstream_response(exchange *ex, struct MHD_Connection *conn,
                                              int whole) {
  char connection[512];
  util_header_value(ex->head, "Connection", connection, sizeof connection);
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
  const char *line = strchr(ex->head, '\n');
  while (line && *++line) {
    const char *end = strchr(line, '\n');
    size_t ll = end ? (size_t)(end - line) : strlen(line);
    while (ll && (line[ll - 1] == '\r' || line[ll - 1] == ' ' || line[ll - 1] == '\t'))
      ll--;
    const char *colon = memchr(line, ':', ll);
    if (colon && colon > line) {
      size_t nl = (size_t)(colon - line);
      const char *v = colon + 1;
      while (v < line + ll && (*v == ' ' || *v == '\t'))
        v++;
      /* MHD writes Content-Length and the framing for the client itself */
      if (!proxy_hop_by_hop(line, nl, connection) &&
          !(nl == 14 && strncasecmp(line, "Content-Length", 14) == 0)) {
        /* name and value as C strings, on the stack when they fit (MHD copies them) */
        size_t vl = (size_t)(line + ll - v);
        char small[1024];
        char *name = nl + vl + 2 <= sizeof small ? small : malloc(nl + vl + 2);
        if (name) {
          memcpy(name, line, nl);
          name[nl] = '\0';
          memcpy(name + nl + 1, v, vl);
          name[nl + 1 + vl] = '\0';
          add_upstream_header(ex, conn, resp, name, name + nl + 1);
          if (name != small)
            free(name);
        }
      }
    }
    line = end;
  }
  return resp;
}

/* The request is complete and the upstream's head is here (or the transfer ended
 * without one): answers with it, or with a JSON error. */
static enum MHD_Result respond(exchange *ex, struct MHD_Connection *conn) {
  if (ex->head_ready) {
    struct MHD_Response *resp = upstream_response(ex, conn, whole_body(ex));
    if (!resp)
      return reply_json(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)ex->status, resp);
    MHD_destroy_response(resp);
    return ret;
  }
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
  enum MHD_Result ret = reply_json(conn, status, msg ? msg : prefix);
  free(msg);
  return ret;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
  return exchange_new(cls, uri); /* NULL on out of memory: answered with a 500 */
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
  exchange *ex = *con_cls;
  if (!ex)
    return reply_json(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
  if (!ex->begun) { /* the head has arrived, the body (if any) has not */
    const char *msg = NULL;
    ex->conn = conn;
    unsigned status = begin(cls, ex, conn, method, version, &msg);
    ex->begun = status ? 2 : 1;
    /* a refused head's framing is not trusted for a next request on the connection */
    int close = status == MHD_HTTP_BAD_REQUEST || status == MHD_HTTP_NOT_IMPLEMENTED;
    return status ? reply_json_close(conn, status, msg, close) : MHD_YES;
  }
  if (ex->begun == 2) { /* already answered: a body still arriving is dropped */
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (*upload_data_size) {
    *upload_data_size -= upload(ex, upload_data, *upload_data_size);
    if (*upload_data_size)
      park(ex); /* MHD offers the rest again once libcurl has taken some */
    return MHD_YES;
  }
  if (!ex->req_eof)
    end_upload(ex);
  if (ex->head_ready || ex->done)
    return respond(ex, conn);
  park(ex); /* until the upstream's head arrives or the transfer ends */
  return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
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
      finish(ex, CURLE_ABORTED_BY_CALLBACK, ex->p->stopping ? WHY_STOPPED : WHY_CLIENT_GONE);
    } else if (!ex->done) {
      /* MHD sent the whole (known-length) body; the transfer ends on its own, and what
       * still comes is only recorded */
      ex->client_done = 1;
      set_pause(ex, 0, ex->send_paused);
    }
  }
  exchange_unref(ex);
}

/* ------------------------------------------------------------------ the event loop */

/* libcurl's socket callback: keeps the loop's epoll set in step with what it waits for. */
static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp) {
  loop *p = userp;
  unsigned char *st = sock_state(p, s);
  unsigned have = st ? *st : 0;
  if (what == CURL_POLL_REMOVE) {
    if (have & SOCK_OURS) { /* idle in the connection cache: stays in the set */
      *st = (unsigned char)(have & ~SOCK_WANTED);
      return 0;
    }
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, s, NULL);
    if (st)
      *st = 0;
    return 0;
  }
  unsigned want = ((what & CURL_POLL_IN) ? SOCK_IN : 0u) | ((what & CURL_POLL_OUT) ? SOCK_OUT : 0u);
  if (st && (have & SOCK_IN_SET) && (have & (SOCK_IN | SOCK_OUT)) == want) {
    *st = (unsigned char)(have | SOCK_WANTED);
    return 0;
  }
  struct epoll_event ev = {0};
  ev.events = ((want & SOCK_IN) ? EPOLLIN : 0u) | ((want & SOCK_OUT) ? EPOLLOUT : 0u);
  ev.data.fd = s;
  int op = (have & SOCK_IN_SET) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (epoll_ctl(p->epfd, op, s, &ev) != 0) {
    int again = errno == EEXIST ? EPOLL_CTL_MOD : errno == ENOENT ? EPOLL_CTL_ADD : -1;
    if (again < 0 || epoll_ctl(p->epfd, again, s, &ev) != 0)
      return -1; /* libcurl fails the transfers on this socket */
  }
  if (st)
    *st = (unsigned char)((have & SOCK_OURS) | SOCK_IN_SET | want | SOCK_WANTED);
  return 0;
}

/* An event on libcurl socket FD: handed to libcurl, unless the socket idles in its cache
 * (the upstream closed it, say), which takes it out of the set until libcurl wants it. */
static void socket_event(loop *p, int fd, uint32_t events) {
  unsigned char *st = fd < 0 || (size_t)fd >= p->nsock ? NULL : &p->sock[fd];
  if (st && (*st & SOCK_IN_SET) && !(*st & SOCK_WANTED)) {
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, NULL);
    *st &= SOCK_OURS;
    return;
  }
  int what = ((events & EPOLLIN) ? CURL_CSELECT_IN : 0) |
             ((events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
             ((events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
  int running = 0;
  curl_multi_socket_action(p->multi, fd, what, &running);
}

static int on_timer(CURLM *m, long timeout_ms, void *userp) {
  loop *p = userp;
  p->curl_due = timeout_ms < 0 ? -1 : p->now + (int64_t)timeout_ms * 1000;
  return 0;
}

/* Finishes the transfers libcurl says have ended. */
static void reap(loop *p) {
  CURLMsg *m;
  int left = 0;
  while ((m = curl_multi_info_read(p->multi, &left)) != NULL) {
    if (m->msg != CURLMSG_DONE)
      continue;
    exchange *ex = NULL;
    CURLcode code = m->data.result;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&ex);
    if (ex)
      finish(ex, code, WHY_NONE);
  }
}

/* Ends transfers whose upstream has been silent for timeout_ms while the proxy waited for
 * it (not while a direction waits for the client). */
static void end_silent(loop *p, int64_t now) {
  int64_t limit = (int64_t)p->px->timeout_ms * 1000;
  exchange *next;
  for (exchange *ex = p->active; ex; ex = next) {
    next = ex->next;
    if (ex->recv_paused || (ex->send_paused && !ex->req_eof))
      continue;
    if (now - ex->last_activity >= limit)
      finish(ex, CURLE_OPERATION_TIMEDOUT, WHY_TIMEOUT);
  }
}

/* Stop: no new connections; transfers under way end (their rows say so) and their
 * clients are answered (503, or a cut body); requests from here on get a 503. */
static void begin_stop(loop *p, int64_t now) {
  p->stopping = 1;
  p->stop_at = now + (int64_t)STOP_FLUSH_MS * 1000;
  MHD_quiesce_daemon(p->daemon); /* the listening socket is closed once, by stop */
  exchange *next;
  for (exchange *ex = p->active; ex; ex = next) {
    next = ex->next;
    finish(ex, CURLE_ABORTED_BY_CALLBACK, WHY_STOPPED);
  }
}

static int stop_done(loop *p, int64_t now) {
  if (p->active || p->nsuspended)
    return 0;
  const union MHD_DaemonInfo *i = MHD_get_daemon_info(p->daemon,
                                                      MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
  return now >= p->stop_at || !i || i->num_connections == 0;
}

/* How long the loop may sleep: until libcurl's, MHD's or the silence check's next due. */
static int sleep_ms(loop *p, int64_t now) {
  MHD_UNSIGNED_LONG_LONG mt = 0;
  p->mhd_due = now + 1000000;
  if (MHD_get_timeout(p->daemon, &mt) == MHD_YES && mt < 1000)
    p->mhd_due = now + (int64_t)mt * 1000;
  if (p->resumed)
    return 0;
  int64_t due = p->mhd_due;
  if (p->curl_due >= 0 && p->curl_due < due)
    due = p->curl_due;
  if (p->active && p->next_scan < due)
    due = p->next_scan;
  if (p->stopping && p->stop_at < due)
    due = p->stop_at;
  return due <= now ? 0 : (int)((due - now + 999) / 1000);
}

static void *loop_main(void *arg) {
  loop *p = arg;
  pthread_setname_np(pthread_self(), "reqlog-proxy");
  struct epoll_event ev[EVENTS];
  for (;;) {
    int n = epoll_wait(p->epfd, ev, EVENTS, sleep_ms(p, util_mono_us()));
    p->now = util_mono_us();
    int run_mhd = 0, running = 0;
    for (int i = 0; i < n; i++) {
      int fd = ev[i].data.fd;
      if (fd == p->mhdfd) {
        run_mhd = 1;
      } else if (fd == p->wakefd) {
        uint64_t v;
        if (read(p->wakefd, &v, sizeof v) < 0 && errno != EAGAIN)
          run_mhd = 1;
      } else {
        socket_event(p, fd, ev[i].events);
      }
    }
    int64_t now = p->now;
    if (p->curl_due >= 0 && now >= p->curl_due) {
      p->curl_due = -1;
      curl_multi_socket_action(p->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    reap(p);
    if (p->active && now >= p->next_scan) {
      end_silent(p, now);
      p->next_scan = now + (int64_t)SCAN_MS * 1000;
    }
    if (!p->stopping && atomic_load(&p->px->stop_asked))
      begin_stop(p, now);
    if (run_mhd || p->resumed || now >= p->mhd_due) {
      p->resumed = 0;
      MHD_run(p->daemon);
    }
    if (p->stopping && stop_done(p, util_mono_us()))
      break;
  }
  MHD_stop_daemon(p->daemon); /* closes the connections left (idle keep-alive ones) */
  p->daemon = NULL;
  return NULL;
}

/* ------------------------------------------------------------------ public */

static void loop_free(loop *p) {
  if (p->daemon) {
    MHD_quiesce_daemon(p->daemon); /* the shared listening socket stays open */
    MHD_stop_daemon(p->daemon);
  }
  for (int i = 0; i < p->npool; i++)
    curl_easy_cleanup(p->pool[i]);
  if (p->multi)
    curl_multi_cleanup(p->multi); /* closes cached connections through on_close_socket */
  if (p->epfd >= 0)
    close(p->epfd);
  if (p->wakefd >= 0)
    close(p->wakefd);
  free(p->sock);
}

static void proxy_free(reqlog_proxy *px) {
  for (int i = 0; i < px->nloops; i++)
    loop_free(&px->loops[i]);
  if (px->listen_fd >= 0)
    close(px->listen_fd);
  proxy_net_free(&px->net);
  proxy_upstream_free(&px->up);
  free(px);
}

static int watch(int epfd, int fd) {
  struct epoll_event ev = {0};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* Loop P's multi handle, epoll set, wake-up descriptor and MHD daemon on the shared
 * listening socket (MHD polled by the loop, suspend/resume being how a connection waits). */
static reqlog_err loop_init(loop *p, char **cause) {
  p->multi = curl_multi_init();
  p->epfd = epoll_create1(EPOLL_CLOEXEC);
  p->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (!p->multi || p->epfd < 0 || p->wakefd < 0 || watch(p->epfd, p->wakefd) != 0)
    return util_fail(cause, REQLOG_ERR_IO, "cannot set up the proxy's event loop: %s",
                     strerror(errno));
  CURLMcode rc = curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  if (rc == CURLM_OK)
    rc = curl_multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p);
  if (rc == CURLM_OK)
    rc = curl_multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, on_timer);
  if (rc == CURLM_OK)
    rc = curl_multi_setopt(p->multi, CURLMOPT_TIMERDATA, p);
  if (rc == CURLM_OK)
    rc = curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, MAX_CONNECTS);
  if (rc != CURLM_OK)
    return util_fail(cause, REQLOG_ERR_IO, "cannot set up libcurl: %s", curl_multi_strerror(rc));
  unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO;
  if (strchr(p->px->url + 7, '['))
    flags |= MHD_USE_IPv6;
  p->daemon = MHD_start_daemon(
    flags, 0, NULL, NULL, on_request, p,
    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)p->px->listen_fd,
    MHD_OPTION_URI_LOG_CALLBACK, on_uri, p,
    MHD_OPTION_NOTIFY_COMPLETED, on_completed, p,
    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1024,
    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)512,
    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
    MHD_OPTION_END);
  const union MHD_DaemonInfo *info =
    p->daemon ? MHD_get_daemon_info(p->daemon, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
  if (!info || (p->mhdfd = info->epoll_fd) < 0 || watch(p->epfd, p->mhdfd) != 0)
    return util_fail(cause, REQLOG_ERR_IO, "cannot start the HTTP server on %s", p->px->url);
  return REQLOG_OK;
}

/* Non-zero when the environment names a proxy for libcurl (http_proxy, https_proxy,
 * all_proxy and their upper-case forms; no_proxy alone changes nothing). */
static int env_proxy_set(void) {
  static const char *const names[] = {"http_proxy",  "HTTP_PROXY", "https_proxy",
                                      "HTTPS_PROXY", "all_proxy",  "ALL_PROXY"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    const char *v = getenv(names[i]);
    if (v && *v)
      return 1;
  }
  return 0;
}

/* How many loops: as asked, else one per online CPU, within 1..MAX_LOOPS. */
static int loop_count(int asked) {
  long n = asked > 0 ? asked : sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > MAX_LOOPS ? MAX_LOOPS : (int)n;
}

reqlog_err reqlog_proxy_start(reqlog *r, const reqlog_proxy_opts *opts, reqlog_proxy **out,
                              char **cause) {
  if (out)
    *out = NULL;
  if (!r || !opts || !out || !opts->upstream || opts->timeout_ms < 0 || opts->threads < 0)
    return util_fail(cause, REQLOG_ERR_ARG, "reqlog_proxy_start: a handle, options with an "
                     "upstream, a timeout and a thread count of at least 0 and an out "
                     "pointer are needed");
  reqlog_proxy *px = calloc(1, sizeof *px);
  if (!px)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  px->r = r;
  /* Recording is this process's job: its writer competes as an equal with the loops
   * (lowered, it fell behind under sustained load, and the full queue stalled whole
   * loops: p99 0.3-0.6 s against 8-10 ms). Too late for a handle that already wrote
   * rows, which keeps the lower priority. */
  if (r->st)
    store_set_foreground(r->st);
  px->listen_fd = -1;
  atomic_init(&px->stop_asked, 0);
  px->timeout_ms = opts->timeout_ms ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
  px->env_proxy = env_proxy_set();
  reqlog_err err = proxy_upstream_parse(opts->upstream, &px->up, cause);
  if (err == REQLOG_OK)
    err = proxy_net_refuse(&px->net, opts->refuse, cause);
  if (err != REQLOG_OK) {
    proxy_free(px);
    return err;
  }
  proxy_net_load_local(&px->net);
  const char *listen_on = opts->listen ? opts->listen : DEFAULT_LISTEN;
  px->listen_fd = proxy_net_listen(&px->net, listen_on, opts->allow_remote, px->url,
                                   sizeof px->url, &err, cause);
  if (px->listen_fd >= 0)
    err = proxy_net_check_upstream(&px->net, &px->up, cause);
  if (px->listen_fd < 0 || err != REQLOG_OK) {
    proxy_free(px);
    return err;
  }
  int n = loop_count(opts->threads);
  for (int i = 0; i < n && err == REQLOG_OK; i++) {
    loop *p = &px->loops[px->nloops++];
    p->px = px;
    p->epfd = p->wakefd = p->mhdfd = -1;
    p->curl_due = -1;
    err = loop_init(p, cause);
  }
  for (int i = 0; i < px->nloops && err == REQLOG_OK; i++) {
    loop *p = &px->loops[i];
    if (pthread_create(&p->thread, NULL, loop_main, p) != 0)
      err = util_fail(cause, REQLOG_ERR_IO, "cannot start the proxy's threads");
    else
      p->thread_on = 1;
  }
  if (err != REQLOG_OK) {
    reqlog_proxy_stop(px);
    return err;
  }
  *out = px;
  return REQLOG_OK;
}

const char *reqlog_proxy_url(const reqlog_proxy *px) {
  return px ? px->url : NULL;
}

void reqlog_proxy_stop(reqlog_proxy *px) {
  if (!px)
    return;
  atomic_store(&px->stop_asked, 1);
  for (int i = 0; i < px->nloops; i++) {
    uint64_t one = 1;
    if (px->loops[i].wakefd >= 0 && write(px->loops[i].wakefd, &one, sizeof one) < 0) {
      /* an eventfd write fails only on overflow: the loop is awake anyway */
    }
  }
  for (int i = 0; i < px->nloops; i++)
    if (px->loops[i].thread_on)
      pthread_join(px->loops[i].thread, NULL);
  proxy_free(px);
}
