/* capsess.c: one transfer's debug stream into a record (see capsess.h). Runs on the
 * transfer's own thread, so it only copies bytes: redaction and SQL come later, on the
 * store's writer thread. It calls libcurl only through the capsess_curl it is given. */
#include "capture/capsess.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"

/* Keeps a piece of a header block. A piece that would pass CAPSESS_HEAD_MAX, or that
 * memory cannot hold, is dropped (capsess.h): the transfer itself is never disturbed. */
static void head_append(dynbuf *h, const char *p, size_t n) {
  reqlog_err err = dynbuf_add(h, p, n);
  (void)err; /* dropped by design, see above */
}

static void setup_decoder(bodydec *d, capbuf *out, const dynbuf *h) {
  char te[128], ce[128];
  util_header_value(h->data, "Transfer-Encoding", te, sizeof te);
  util_header_value(h->data, "Content-Encoding", ce, sizeof ce);
  /* HTTP/2 and HTTP/3 have no chunked framing on the debug stream */
  int http1 = h->data && (strncmp(h->data, "HTTP/1", 6) == 0 || strstr(h->data, " HTTP/1"));
  bodydec_init(d, out, http1 && strcasestr(te, "chunked") != NULL, ce[0] ? ce : NULL);
}

static void end_decoders(capsess *s) {
  if (s->req_dec_ready)
    bodydec_end(&s->reqdec);
  if (s->resp_dec_ready)
    bodydec_end(&s->respdec);
  s->req_dec_ready = s->resp_dec_ready = 0;
}

/* A new request on the same transfer (redirect, auth round): forget the previous one. */
static void new_request(capsess *s) {
  dynbuf_clear(&s->req_head);
  dynbuf_clear(&s->resp_head);
  end_decoders(s);
  capbuf_reset(&s->rec->req_body);
  capbuf_reset(&s->rec->resp_body);
  s->resp_seen = 0;
}

/* What libcurl prints by itself when VERBOSE is on and no debug callback is set. */
static void default_debug(FILE *err, curl_infotype type, const char *data, size_t size) {
  static const char prefix[][3] = {"* ", "< ", "> "};
  if (type == CURLINFO_TEXT || type == CURLINFO_HEADER_IN || type == CURLINFO_HEADER_OUT) {
    fwrite(prefix[type], 2, 1, err);
    fwrite(data, size, 1, err);
  }
}

void capsess_init(capsess *s, record *rec, const capsess_chain *chain) {
  memset(s, 0, sizeof *s);
  s->rec = rec;
  s->chain = chain;
  dynbuf_init(&s->req_head, CAPSESS_HEAD_MAX - 1);
  dynbuf_init(&s->resp_head, CAPSESS_HEAD_MAX - 1);
}

int capsess_debug(CURL *easy, curl_infotype type, char *data, size_t size, void *sess) {
  capsess *s = sess;
  switch (type) {
  case CURLINFO_HEADER_OUT:
    if (s->resp_seen)
      new_request(s);
    head_append(&s->req_head, data, size);
    break;
  case CURLINFO_DATA_OUT:
    if (!s->req_dec_ready) {
      setup_decoder(&s->reqdec, &s->rec->req_body, &s->req_head);
      s->req_dec_ready = 1;
    }
    bodydec_feed(&s->reqdec, data, size);
    break;
  case CURLINFO_HEADER_IN:
    if (size >= 5 && memcmp(data, "HTTP/", 5) == 0) {
      /* a new response head: an interim 1xx or a redirect is replaced by what follows */
      dynbuf_clear(&s->resp_head);
      if (s->resp_dec_ready)
        bodydec_end(&s->respdec);
      s->resp_dec_ready = 0;
      capbuf_reset(&s->rec->resp_body);
      s->resp_seen = 1;
    }
    head_append(&s->resp_head, data, size);
    break;
  case CURLINFO_DATA_IN:
    if (!s->resp_dec_ready) {
      setup_decoder(&s->respdec, &s->rec->resp_body, &s->resp_head);
      s->resp_dec_ready = 1;
    }
    bodydec_feed(&s->respdec, data, size);
    break;
  case CURLINFO_TEXT:
    if (size > 1 && strncmp(data, "Closing connection", 18) != 0 &&
        strncmp(data, "Connection #", 12) != 0) {
      size_t n = size < sizeof s->last_text ? size : sizeof s->last_text - 1;
      memcpy(s->last_text, data, n);
      while (n && (s->last_text[n - 1] == '\n' || s->last_text[n - 1] == '\r'))
        n--;
      s->last_text[n] = '\0';
    }
    break;
  default:
    break;
  }
  const capsess_chain *c = s->chain;
  if (c && c->verbose) {
    if (c->fn)
      c->fn(easy, type, data, size, c->data);
    else
      default_debug(c->err ? c->err : stderr, type, data, size);
  }
  return 0;
}

int capsess_got_response(const capsess *s) {
  return s->resp_seen;
}

static int64_t info_time(const capsess_curl *fns, CURL *easy, CURLINFO what) {
  curl_off_t t = 0;
  if (fns->getinfo(easy, what, &t) != CURLE_OK)
    return 0;
  return (int64_t)t;
}

static char *info_string(const capsess_curl *fns, CURL *easy, CURLINFO what) {
  char *s = NULL;
  if (fns->getinfo(easy, what, &s) != CURLE_OK || !s)
    return NULL;
  return strdup(s);
}

/* Reads what libcurl knows about the finished transfer into the record. */
static void fill_from_info(capsess *s, CURL *easy, CURLcode code, const capsess_curl *fns) {
  record *r = s->rec;
  r->method = info_string(fns, easy, CURLINFO_EFFECTIVE_METHOD);
  r->url = info_string(fns, easy, CURLINFO_EFFECTIVE_URL);
  long status = 0;
  fns->getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  r->status = s->resp_seen ? status : 0;
  long ver = 0;
  if (fns->getinfo(easy, CURLINFO_HTTP_VERSION, &ver) == CURLE_OK && r->status)
    r->http_version = util_strdup(record_version_text(ver));
  r->remote_ip = info_string(fns, easy, CURLINFO_PRIMARY_IP);
  if (r->remote_ip && !r->remote_ip[0]) {
    free(r->remote_ip);
    r->remote_ip = NULL;
  }
  r->content_type = info_string(fns, easy, CURLINFO_CONTENT_TYPE);
  if (code != CURLE_OK) {
    const char *base = fns->strerror(code);
    if (s->last_text[0] && !strstr(s->last_text, base)) {
      if (asprintf(&r->error, "%s: %s", base, s->last_text) < 0)
        r->error = NULL;
    } else {
      r->error = strdup(s->last_text[0] ? s->last_text : base);
    }
  }
  record_set_phases(r, info_time(fns, easy, CURLINFO_NAMELOOKUP_TIME_T),
                    info_time(fns, easy, CURLINFO_CONNECT_TIME_T),
                    info_time(fns, easy, CURLINFO_APPCONNECT_TIME_T),
                    info_time(fns, easy, CURLINFO_STARTTRANSFER_TIME_T),
                    info_time(fns, easy, CURLINFO_TOTAL_TIME_T));
  if (s->req_head.len) {
    r->req_head_len = s->req_head.len;
    r->req_head = dynbuf_take(&s->req_head);
  }
  if (s->resp_head.len) {
    r->resp_head_len = s->resp_head.len;
    r->resp_head = dynbuf_take(&s->resp_head);
  }
}

void capsess_finish(capsess *s, CURL *easy, CURLcode code, const capsess_curl *fns) {
  end_decoders(s);
  capbuf_finish(&s->rec->req_body);
  capbuf_finish(&s->rec->resp_body);
  fill_from_info(s, easy, code, fns);
  capsess_discard(s);
}

void capsess_discard(capsess *s) {
  end_decoders(s);
  dynbuf_free(&s->req_head);
  dynbuf_free(&s->resp_head);
}
