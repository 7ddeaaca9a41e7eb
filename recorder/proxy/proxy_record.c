/* proxy_record.c: what the record of a proxied exchange says and when it goes to the
 * store: started with the request's method and upstream URL, filled from what libcurl
 * (or the own client) knows once the transfer ends (status, phases, the error text of a
 * failed or refused one), and handed to the store's writer once both the transfer and the client's body
 * are over. Bytes are copied into the record on the loop's thread; redaction and SQL
 * happen on the writer thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "proxy/proxy_int.h"
#include "store/store.h"

#define RECORD_SLAB 4096          /* a record's own room: its strings and a small body,
                                      so the writer frees one block, not a dozen */

int proxy_record_begin(exchange *ex, const char *method) {
  reqlog_proxy *px = ex->p->px;
  pthread_rwlock_rdlock(&px->r->cfg);
  size_t cap = px->r->body_cap;
  pthread_rwlock_unlock(&px->r->cfg);
  record *rec = record_new_slab(cap, RECORD_SLAB);
  if (!rec) {
    handle_report(px->r, REQLOG_ERR_NOMEM, "recording failed: out of memory");
    return -1;
  }
  ex->rec = rec;
  snprintf(rec->source, sizeof rec->source, "proxy");
  rec->started_us = util_now_us();
  ex->started_mono = ex->last_activity = util_mono_us();
  size_t ml = strlen(method), ul = strlen(px->up.base), tl = strlen(ex->target);
  rec->method = record_strndup(rec, method, ml);
  rec->url = record_alloc(rec, ul + tl + 1);
  if (rec->url) {
    memcpy(rec->url, px->up.base, ul);
    memcpy(rec->url + ul, ex->target, tl + 1);
  }
  return 0;
}

void proxy_record_lend_body(record *rec, capbuf *b, uint64_t size) {
  if (size && size <= b->limit && size <= rec->slab_cap)
    capbuf_lend(b, record_slab_take(rec, (size_t)size), (size_t)size); /* NULL: no loan */
}

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

void proxy_record_outcome(exchange *ex, CURLcode code) {
  ex->error = error_text(ex, code);
  ex->ended_mono = util_mono_us();
}

/* The record's HTTP version, remote address and content type: from libcurl for its
 * transfer H, from what EX and the own client know for one of the own client's. */
static void fill_peer(exchange *ex, CURL *h) {
  record *r = ex->rec;
  const char *s = NULL;
  char *t = NULL;
  long ver = 0;
  if (!h) {
    ver = ex->h1version == 0 ? CURL_HTTP_VERSION_1_0 : CURL_HTTP_VERSION_1_1;
    if (ex->h1connected || ex->h1first)
      t = ex->p->px->h1_ip;
  } else if (!r->status || curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &ver) != CURLE_OK) {
    ver = 0;
  }
  if (r->status && (s = record_version_text(ver)) != NULL)
    r->http_version = record_strndup(r, s, strlen(s));
  if (h && curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &t) != CURLE_OK)
    t = NULL;
  if (t && *t)
    r->remote_ip = record_strndup(r, t, strlen(t));
  if (!r->status)
    return;
  char ct[256];
  t = NULL;
  if (!h && util_header_value(ex->head.data, "Content-Type", ct, sizeof ct))
    t = ct;
  else if (h && curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &t) != CURLE_OK)
    t = NULL;
  if (t)
    r->content_type = record_strndup(r, t, strlen(t));
}

/* The marks of EX's own-client transfer since it started (monotonic us; 0 when not
 * reached). */
static int64_t since_start(const exchange *ex, int64_t mark) {
  return mark ? mark - ex->started_mono : 0;
}

void proxy_record_fill(exchange *ex, CURL *h) {
  record *r = ex->rec;
  r->status = ex->head_ready ? ex->status : 0;
  fill_peer(ex, h);
  if (ex->error)
    r->error = record_strndup(r, ex->error, strlen(ex->error));
  if (ex->head_ready && ex->head.len) {
    r->resp_head = record_strndup(r, ex->head.data, ex->head.len);
    r->resp_head_len = r->resp_head ? ex->head.len : 0;
  }
  int64_t whole = ex->ended_mono - ex->started_mono;
  if (!h) {
    record_set_phases(r, 0, since_start(ex, ex->h1connected), 0,
                      since_start(ex, ex->h1first), whole);
    return;
  }
  int64_t to = info_time(h, CURLINFO_TOTAL_TIME_T);
  if (to <= 0 || ex->code != CURLE_OK) /* one ended by the proxy has no total of its own */
    to = whole;
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

void proxy_record_submit_when_done(exchange *ex) {
  if (!ex->done || ex->running || !ex->req_eof || ex->reqdec_on || !ex->rec)
    return;
  if (ex->respdec_on) {
    bodydec_end(&ex->respdec);
    ex->respdec_on = 0;
  }
  capbuf_finish(&ex->rec->resp_body);
  submit(ex);
}

void proxy_record_refused(exchange *ex, const char *reason) {
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
