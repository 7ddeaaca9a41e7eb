/* capture.c: records a transfer made on the caller's own easy handle by watching
 * libcurl's debug stream (the only place that shows the headers and body actually sent),
 * leaving the caller's write and header callbacks untouched. The recording thread only
 * copies bytes into a record; redaction and SQL happen on the writer thread. */
#include "capture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bodydec.h"
#include "util.h"

#define HEAD_MAX (1024 * 1024)

typedef struct headbuf {
  char *p;
  size_t len, alloc;
} headbuf;

typedef struct cap {
  record *rec;
  const capture_meta *m;
  headbuf req_head, resp_head;
  bodydec reqdec, respdec;
  int req_dec_ready, resp_dec_ready;
  int resp_seen;           /* a status line arrived for the current request */
  char last_text[256];     /* the last informational line, for transport errors */
} cap;

static void head_append(headbuf *h, const char *p, size_t n) {
  if (h->len + n + 1 > HEAD_MAX)
    return;
  if (h->len + n + 1 > h->alloc) {
    size_t a = h->alloc ? h->alloc : 1024;
    while (a < h->len + n + 1)
      a *= 2;
    char *q = realloc(h->p, a);
    if (!q)
      return;
    h->p = q;
    h->alloc = a;
  }
  memcpy(h->p + h->len, p, n);
  h->len += n;
  h->p[h->len] = '\0';
}

/* Value of header NAME in a header block, copied into OUT (empty when absent). */
static void head_value(const headbuf *h, const char *name, char *out, size_t outlen) {
  out[0] = '\0';
  size_t nl = strlen(name);
  const char *p = h->p;
  while (p && *p) {
    if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
      const char *v = p + nl + 1;
      while (*v == ' ' || *v == '\t')
        v++;
      size_t n = strcspn(v, "\r\n");
      if (n >= outlen)
        n = outlen - 1;
      memcpy(out, v, n);
      out[n] = '\0';
      return;
    }
    p = strchr(p, '\n');
    if (p)
      p++;
  }
}

static void setup_decoder(bodydec *d, capbuf *out, const headbuf *h) {
  char te[128], ce[128];
  head_value(h, "Transfer-Encoding", te, sizeof te);
  head_value(h, "Content-Encoding", ce, sizeof ce);
  /* HTTP/2 and HTTP/3 have no chunked framing on the debug stream */
  int http1 = h->p && (strncmp(h->p, "HTTP/1", 6) == 0 || strstr(h->p, " HTTP/1"));
  bodydec_init(d, out, http1 && strcasestr(te, "chunked") != NULL, ce[0] ? ce : NULL);
}

/* A new request on the same transfer (redirect, auth round): forget the previous one. */
static void new_request(cap *c) {
  c->req_head.len = 0;
  c->resp_head.len = 0;
  if (c->req_head.p)
    c->req_head.p[0] = '\0';
  if (c->resp_head.p)
    c->resp_head.p[0] = '\0';
  if (c->req_dec_ready)
    bodydec_end(&c->reqdec);
  if (c->resp_dec_ready)
    bodydec_end(&c->respdec);
  c->req_dec_ready = c->resp_dec_ready = 0;
  capbuf_reset(&c->rec->req_body);
  capbuf_reset(&c->rec->resp_body);
  c->resp_seen = 0;
}

/* What libcurl prints by itself when VERBOSE is on and no debug callback is set. */
static void default_debug(curl_infotype type, const char *data, size_t size) {
  static const char prefix[][3] = {"* ", "< ", "> "};
  if (type == CURLINFO_TEXT || type == CURLINFO_HEADER_IN || type == CURLINFO_HEADER_OUT) {
    fwrite(prefix[type], 2, 1, stderr);
    fwrite(data, size, 1, stderr);
  }
}

static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *arg) {
  cap *c = arg;
  switch (type) {
  case CURLINFO_HEADER_OUT:
    if (c->resp_seen)
      new_request(c);
    head_append(&c->req_head, data, size);
    break;
  case CURLINFO_DATA_OUT:
    if (!c->req_dec_ready) {
      setup_decoder(&c->reqdec, &c->rec->req_body, &c->req_head);
      c->req_dec_ready = 1;
    }
    bodydec_feed(&c->reqdec, data, size);
    break;
  case CURLINFO_HEADER_IN:
    if (size >= 5 && memcmp(data, "HTTP/", 5) == 0) {
      /* a new response head: an interim 1xx or a redirect is replaced by what follows */
      c->resp_head.len = 0;
      if (c->resp_dec_ready)
        bodydec_end(&c->respdec);
      c->resp_dec_ready = 0;
      capbuf_reset(&c->rec->resp_body);
      c->resp_seen = 1;
    }
    head_append(&c->resp_head, data, size);
    break;
  case CURLINFO_DATA_IN:
    if (!c->resp_dec_ready) {
      setup_decoder(&c->respdec, &c->rec->resp_body, &c->resp_head);
      c->resp_dec_ready = 1;
    }
    bodydec_feed(&c->respdec, data, size);
    break;
  case CURLINFO_TEXT:
    if (size > 1 && strncmp(data, "Closing connection", 18) != 0 &&
        strncmp(data, "Connection #", 12) != 0) {
      size_t n = size < sizeof c->last_text ? size : sizeof c->last_text - 1;
      memcpy(c->last_text, data, n);
      while (n && (c->last_text[n - 1] == '\n' || c->last_text[n - 1] == '\r'))
        n--;
      c->last_text[n] = '\0';
    }
    break;
  default:
    break;
  }
  const capture_meta *m = c->m;
  if (m && m->user_verbose) {
    if (m->user_fn)
      m->user_fn(h, type, data, size, m->user_data);
    else
      default_debug(type, data, size);
  }
  return 0;
}

static const char *version_text(long v) {
  switch (v) {
  case CURL_HTTP_VERSION_1_0: return "HTTP/1.0";
  case CURL_HTTP_VERSION_1_1: return "HTTP/1.1";
  case CURL_HTTP_VERSION_2_0: return "HTTP/2";
  case CURL_HTTP_VERSION_3: return "HTTP/3";
  default: return NULL;
  }
}

static int64_t info_time(CURL *h, CURLINFO what) {
  curl_off_t t = 0;
  if (curl_easy_getinfo(h, what, &t) != CURLE_OK)
    return 0;
  return (int64_t)t;
}

/* Reads what libcurl knows about the finished transfer into the record. */
static void fill_from_info(cap *c, CURL *h, CURLcode code) {
  record *r = c->rec;
  char *s = NULL;
  if (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_METHOD, &s) == CURLE_OK && s)
    r->method = strdup(s);
  s = NULL;
  if (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &s) == CURLE_OK && s)
    r->url = strdup(s);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  r->status = c->resp_seen ? status : 0;
  long ver = 0;
  if (curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &ver) == CURLE_OK && r->status)
    r->http_version = util_strdup(version_text(ver));
  s = NULL;
  if (curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &s) == CURLE_OK && s && *s)
    r->remote_ip = strdup(s);
  s = NULL;
  if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &s) == CURLE_OK && s)
    r->content_type = strdup(s);
  if (code != CURLE_OK) {
    const char *base = curl_easy_strerror(code);
    if (c->last_text[0] && !strstr(c->last_text, base)) {
      if (asprintf(&r->error, "%s: %s", base, c->last_text) < 0)
        r->error = NULL;
    } else {
      r->error = strdup(c->last_text[0] ? c->last_text : base);
    }
  }
  int64_t nl = info_time(h, CURLINFO_NAMELOOKUP_TIME_T);
  int64_t co = info_time(h, CURLINFO_CONNECT_TIME_T);
  int64_t ap = info_time(h, CURLINFO_APPCONNECT_TIME_T);
  int64_t st = info_time(h, CURLINFO_STARTTRANSFER_TIME_T);
  int64_t to = info_time(h, CURLINFO_TOTAL_TIME_T);
  /* phases, not cumulative marks: dns + connect + tls + ttfb + download = total. The
   * marks are made monotonic first: on a reused connection connect and appconnect are 0
   * while namelookup is not. */
  int64_t m_dns = nl;
  int64_t m_conn = co > m_dns ? co : m_dns;
  int64_t m_tls = ap > m_conn ? ap : m_conn;
  int64_t m_first = st > m_tls ? st : m_tls;
  if (m_first > to && to > 0)
    m_first = to;
  r->dns_us = m_dns;
  r->connect_us = m_conn - m_dns;
  r->tls_us = m_tls - m_conn;
  r->ttfb_us = m_first > m_tls ? m_first - m_tls : 0;
  r->total_us = to;
  if (c->req_head.len) {
    r->req_head = c->req_head.p;
    r->req_head_len = c->req_head.len;
    c->req_head.p = NULL;
  }
  if (c->resp_head.len) {
    r->resp_head = c->resp_head.p;
    r->resp_head_len = c->resp_head.len;
    c->resp_head.p = NULL;
  }
}

CURLcode capture_perform(reqlog *r, CURL *easy, const capture_meta *m, capture_result *res) {
  capture_meta none = {0};
  if (!m)
    m = &none;
  if (res)
    memset(res, 0, sizeof *res);
  if (!r || !r->st)
    return curl_easy_perform(easy);

  pthread_rwlock_rdlock(&r->cfg);
  size_t cap_bytes = r->body_cap;
  char source[16];
  memcpy(source, r->source, sizeof source);
  pthread_rwlock_unlock(&r->cfg);

  cap c = {0};
  c.m = m;
  c.rec = record_new(cap_bytes);
  if (!c.rec) {
    handle_report(r, REQLOG_ERR_NOMEM, "recording failed: out of memory");
    if (res)
      res->record_err = REQLOG_ERR_NOMEM;
    return curl_easy_perform(easy);
  }
  c.rec->started_us = util_now_us();
  c.rec->attempt = m->attempt > 0 ? m->attempt : 1;
  c.rec->retry_of_seq = m->retry_of_seq;
  c.rec->queued_us = m->queued_us;
  memcpy(c.rec->source, m->source ? m->source : source, sizeof c.rec->source);
  c.rec->source[sizeof c.rec->source - 1] = '\0';

  curl_easy_setopt(easy, CURLOPT_DEBUGFUNCTION, on_debug);
  curl_easy_setopt(easy, CURLOPT_DEBUGDATA, &c);
  curl_easy_setopt(easy, CURLOPT_VERBOSE, 1L);
  CURLcode code = curl_easy_perform(easy);
  curl_easy_setopt(easy, CURLOPT_DEBUGFUNCTION, m->user_fn);
  curl_easy_setopt(easy, CURLOPT_DEBUGDATA, m->user_data);
  curl_easy_setopt(easy, CURLOPT_VERBOSE, m->user_verbose);

  if (c.req_dec_ready)
    bodydec_end(&c.reqdec);
  if (c.resp_dec_ready)
    bodydec_end(&c.respdec);
  capbuf_finish(&c.rec->req_body);
  capbuf_finish(&c.rec->resp_body);
  fill_from_info(&c, easy, code);
  free(c.req_head.p);
  free(c.resp_head.p);

  uint64_t seq = 0;
  int64_t row_id = 0;
  reqlog_err err = store_submit(r->st, c.rec, &seq, &row_id);
  if (res) {
    res->seq = seq;
    res->row_id = row_id;
    res->record_err = err;
  }
  return code;
}

CURLcode reqlog_easy_perform(reqlog *r, CURL *easy) {
  return capture_perform(r, easy, NULL, NULL);
}

CURLcode reqlog_easy_perform_debug(reqlog *r, CURL *easy, curl_debug_callback fn,
                                   void *data, long verbose) {
  capture_meta m = {0};
  m.user_fn = fn;
  m.user_data = data;
  m.user_verbose = verbose;
  if (!r || !r->st) {
    curl_easy_setopt(easy, CURLOPT_DEBUGFUNCTION, fn);
    curl_easy_setopt(easy, CURLOPT_DEBUGDATA, data);
    curl_easy_setopt(easy, CURLOPT_VERBOSE, verbose);
    return curl_easy_perform(easy);
  }
  return capture_perform(r, easy, &m, NULL);
}
