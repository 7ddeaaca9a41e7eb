/* proxy_transfer.c: the upstream side of a proxied exchange from start to end: on the
 * own HTTP/1.1 client (proxy_h1.c) when it can carry it, else one libcurl transfer in the
 * loop's multi handle: its options, starting it (libcurl's timer), the callbacks that
 * bring the response head and body (to proxy_answer.c) and take the client's body (from
 * the upload ring), pausing a direction that waits for the client, and the end of the
 * transfer, either client's: its outcome at once, its record (and libcurl's handle,
 * pooled for the next exchange when clean) once the loop's turn has written its answers.
 * proxy_h1.c and this file call each other: the start, pauses and end of a transfer go
 * to the client that carries it, which reports the end back here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/textbuf.h"
#include "base/util.h"
#include "proxy/proxy_int.h"

#define UP_RESUME (64 * 1024)      /* room a suspended upload needs before it goes on */

static size_t on_header(char *data, size_t size, size_t n, void *arg) {
  /* a head that cannot be passed on stops the transfer (end() says why) */
  return proxy_answer_head_line(arg, data, size * n) == 0 ? size * n : 0;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg) {
  size_t len = size * n;
  long k = proxy_answer_body(arg, data, len, 0);
  if (k < 0)
    return 0; /* out of memory: libcurl stops with a write error */
  return (size_t)k == len ? len : CURL_WRITEFUNC_PAUSE; /* libcurl offers them again */
}

void proxy_transfer_upload_taken(exchange *ex) {
  if (proxy_ring_room(&ex->up) >= (ex->up.cap < UP_RESUME ? ex->up.cap : UP_RESUME))
    proxy_exchange_wake(ex); /* room for more of the client's body */
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
  proxy_transfer_upload_taken(ex);
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

/* Lists EX's transfer as running on loop P, with a reference of its own. */
static void run(loop *p, exchange *ex) {
  ex->running = 1;
  ex->refs++; /* the transfer's, dropped in settle() */
  ex->next = p->active;
  if (p->active)
    p->active->prev = ex;
  p->active = ex;
}

int proxy_transfer_start(loop *p, exchange *ex) {
  if (proxy_h1_usable(p, ex)) {
    run(p, ex);
    ex->own = 1;
    atomic_store_explicit(&p->own_transfers,
                          atomic_load_explicit(&p->own_transfers, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    if (proxy_h1_start(p, ex) == 0)
      return 0;
    proxy_transfer_finish(ex, CURLE_OUT_OF_MEMORY, WHY_NONE);
    return -1;
  }
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
  run(p, ex);
  return 0;
}

void proxy_transfer_pause(exchange *ex, int recv, int send) {
  if (ex->done || (recv == ex->recv_paused && send == ex->send_paused))
    return;
  int was_recv = ex->recv_paused;
  ex->recv_paused = recv;
  ex->send_paused = send;
  ex->last_activity = ex->p->now;
  if (ex->own) {
    proxy_h1_pause(ex, was_recv);
    return;
  }
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
  if (ex->answer_fault && code != CURLE_OK && ex->why == WHY_NONE) {
    code = CURLE_WEIRD_SERVER_REPLY; /* libcurl only saw its header callback refuse */
    snprintf(ex->errbuf, sizeof ex->errbuf, "%s", ex->answer_fault);
  }
  ex->code = code;
  proxy_record_outcome(ex, code);
  unlist(ex);
  ex->done = 1;
  proxy_exchange_wake(ex);
}

/* Records EX's ended transfer, gives back its handle (or lets go of the own client's
 * connection, when the transfer ended before the answer) and drops the transfer's
 * reference. */
static void settle(exchange *ex) {
  loop *p = ex->p;
  ex->running = 0;
  if (ex->own) {
    proxy_h1_drop(ex);
    proxy_record_fill(ex, NULL);
    proxy_record_submit_when_done(ex);
    proxy_exchange_unref(ex);
    return;
  }
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
  if (ex->done || !ex->running)
    return;
  end(ex, code, w);
  settle(ex); /* libcurl may still be running it: out of the multi handle at once */
}

void proxy_transfer_done(exchange *ex, CURLcode code) {
  if (ex->done || !ex->running)
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

void proxy_transfer_kick(exchange *ex) {
  if (ex->own)
    proxy_h1_poll(ex);
  else
    proxy_transfer_run_timer(ex->p);
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
