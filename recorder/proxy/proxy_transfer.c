/* proxy_transfer.c: the upstream side of a proxied exchange, one libcurl transfer in the
 * loop's multi handle from start to end: its options, starting it (libcurl's timer), the
 * callbacks that bring the response head and body (into the exchange's response ring,
 * waking the client's connection) and take the client's body (from the upload ring),
 * pausing a direction that waits for the client, and the end of the transfer: its
 * outcome at once, its record and handle (pooled for the next exchange when clean) once
 * the loop's turn has written its answers. */
#include <stdlib.h>
#include <string.h>

#include "base/textbuf.h"
#include "base/util.h"
#include "proxy/proxy_int.h"

#define RESP_RING (256 * 1024)     /* response bytes waiting for the client */
#define UP_RESUME (64 * 1024)      /* room a suspended upload needs before it goes on */
#define HEAD_MAX (1024 * 1024)     /* a response header block beyond this is cut */

/* Appends DATA (LEN bytes) to EX's response head, as long as it stays within HEAD_MAX
 * (bytes beyond are left out, and those that find no memory). */
static void head_append(exchange *ex, const char *data, size_t len) {
  if (ex->head.len + len + 1 > HEAD_MAX)
    return;
  tb_bytes(&ex->head, data, len);
  tb_terminate(&ex->head);
}

static size_t on_header(char *data, size_t size, size_t n, void *arg) {
  exchange *ex = arg;
  size_t len = size * n;
  ex->last_activity = ex->p->now;
  if (ex->head_ready) /* trailers: the head is already on its way to the client */
    return len;
  if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
    /* a new response head: an interim 1xx is replaced by what follows */
    ex->head.len = 0;
    const char *sp = memchr(data, ' ', len);
    ex->status = sp ? strtol(sp + 1, NULL, 10) : 0;
  }
  head_append(ex, data, len);
  int blank = (len == 2 && data[0] == '\r') || (len == 1 && data[0] == '\n');
  if (blank && ex->head.data && ex->status >= 200) {
    ex->head_ready = 1;
    proxy_exchange_wake(ex); /* the client can be answered */
  }
  return len;
}

uint64_t proxy_transfer_declared_length(const exchange *ex) {
  char te[64], cl[32];
  util_header_value(ex->head.data, "Transfer-Encoding", te, sizeof te);
  util_header_value(ex->head.data, "Content-Length", cl, sizeof cl);
  if (te[0] || cl[0] < '0' || cl[0] > '9')
    return UINT64_MAX;
  return strtoull(cl, NULL, 10);
}

/* The response buffer: as large as a small body's Content-Length, else RESP_RING. */
static int resp_ring_init(exchange *ex) {
  size_t cap = RESP_RING;
  uint64_t n = proxy_transfer_declared_length(ex);
  if (n < cap)
    cap = n ? (size_t)n : 1;
  int rc = proxy_ring_alloc(&ex->resp, cap);
  if (cap < RESP_RING)
    proxy_record_lend_body(ex->rec, &ex->rec->resp_body, cap); /* the size of the whole body */
  return rc;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg) {
  exchange *ex = arg;
  size_t len = size * n;
  ex->last_activity = ex->p->now;
  if (!ex->respdec_on) {
    if (resp_ring_init(ex) != 0)
      return 0; /* out of memory: libcurl stops with a write error */
    char ce[128];
    util_header_value(ex->head.data, "Content-Encoding", ce, sizeof ce);
    /* libcurl removed any chunked framing; a compressed body is recorded decoded */
    bodydec_init(&ex->respdec, &ex->rec->resp_body, 0, ce[0] ? ce : NULL);
    ex->respdec_on = 1;
  }
  if (!ex->client_done) {
    if (proxy_ring_room(&ex->resp) < len) {
      ex->recv_paused = 1; /* libcurl keeps these bytes and offers them again */
      proxy_exchange_wake(ex);
      return CURL_WRITEFUNC_PAUSE;
    }
    proxy_ring_put(&ex->resp, data, len);
    proxy_exchange_wake(ex);
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
  size_t k = proxy_ring_get(&ex->up, buf, size * n);
  ex->last_activity = ex->p->now;
  if (proxy_ring_room(&ex->up) >= (ex->up.cap < UP_RESUME ? ex->up.cap : UP_RESUME))
    proxy_exchange_wake(ex); /* room for more of the client's body */
  return k;
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
  SET(CURLOPT_OPENSOCKETFUNCTION, proxy_sock_open);
  SET(CURLOPT_CLOSESOCKETFUNCTION, proxy_sock_close);
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

int proxy_transfer_start(loop *p, exchange *ex) {
  CURL *e = p->npool ? p->pool[--p->npool] : NULL;
  if (!e) {
    e = curl_easy_init();
    if (!e || setup_new_easy(p, e) != CURLE_OK) {
      curl_easy_cleanup(e);
      return -1;
    }
  }
  if (setup_easy(ex, e) != CURLE_OK || curl_multi_add_handle(p->multi, e) != CURLM_OK) {
    curl_easy_cleanup(e);
    return -1;
  }
  ex->easy = e;
  ex->refs++; /* the transfer's, dropped in proxy_transfer_finish() */
  ex->next = p->active;
  if (p->active)
    p->active->prev = ex;
  p->active = ex;
  return 0;
}

void proxy_transfer_pause(exchange *ex, int recv, int send) {
  if (ex->done || (recv == ex->recv_paused && send == ex->send_paused))
    return;
  ex->recv_paused = recv;
  ex->send_paused = send;
  ex->last_activity = ex->p->now;
  /* unpausing may hand held bytes to on_body at once, which may pause again */
  curl_easy_pause(ex->easy, (recv ? CURLPAUSE_RECV : 0) | (send ? CURLPAUSE_SEND : 0));
}

/* Takes EX out of its loop's list of running transfers. */
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

/* Marks EX's transfer ended with CODE (W: why, when the proxy ended it): out of the
 * running list, its outcome set, its client's connection woken. */
static void end(exchange *ex, CURLcode code, why w) {
  if (ex->why == WHY_NONE)
    ex->why = w;
  ex->code = code;
  proxy_record_outcome(ex, code);
  unlist(ex);
  ex->done = 1;
  proxy_exchange_wake(ex);
}

/* Records EX's ended transfer, gives back its handle and drops the transfer's reference. */
static void settle(exchange *ex) {
  loop *p = ex->p;
  proxy_record_fill(ex, ex->easy);
  curl_multi_remove_handle(p->multi, ex->easy);
  if (ex->code == CURLE_OK && ex->why == WHY_NONE && p->npool < POOL_MAX && !p->stopping)
    p->pool[p->npool++] = ex->easy;
  else
    curl_easy_cleanup(ex->easy); /* a handle left paused or aborted is not reused */
  ex->easy = NULL;
  proxy_record_submit_when_done(ex);
  proxy_exchange_unref(ex);
}

void proxy_transfer_finish(exchange *ex, CURLcode code, why w) {
  if (ex->done || !ex->easy)
    return;
  end(ex, code, w);
  settle(ex); /* libcurl may still be running it: out of the multi handle at once */
}

void proxy_transfer_done(exchange *ex, CURLcode code) {
  if (ex->done || !ex->easy)
    return;
  end(ex, code, WHY_NONE);
  ex->next = ex->p->settling;
  ex->p->settling = ex;
}

void proxy_transfer_reap(loop *p) {
  CURLMsg *m;
  int left = 0;
  while ((m = curl_multi_info_read(p->multi, &left)) != NULL) {
    if (m->msg != CURLMSG_DONE)
      continue;
    exchange *ex = NULL;
    CURLcode code = m->data.result;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&ex);
    if (ex)
      proxy_transfer_done(ex, code);
  }
}

void proxy_transfer_run_timer(loop *p) {
  if (p->curl_due < 0 || p->now < p->curl_due)
    return;
  int running = 0;
  p->curl_due = -1;
  curl_multi_socket_action(p->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  proxy_transfer_reap(p);
}

void proxy_transfer_settle(loop *p) {
  while (p->settling) {
    exchange *ex = p->settling;
    p->settling = ex->next;
    ex->next = NULL;
    settle(ex);
  }
}
