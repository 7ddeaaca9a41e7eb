/* proxy_answer.c: the upstream's answer as it arrives, whichever client brings it
 * (libcurl's callbacks in proxy_transfer.c, or the own HTTP/1.1 client in proxy_h1.c):
 * the lines of its head, kept for the client's answer and the record (an interim 1xx
 * head replaced by what follows; the client's connection woken once the final head is
 * complete), and its body bytes, queued for the client in the exchange's response ring
 * (as large as a small body's declared length) and recorded, decoded when compressed. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/textbuf.h"
#include "base/util.h"
#include "proxy/proxy_int.h"

#define RESP_RING (256 * 1024)     /* response bytes waiting for the client */
#define HEAD_MAX (1024 * 1024)     /* a response header block beyond this is cut */

/* Appends DATA (LEN bytes) to EX's response head, as long as it stays within HEAD_MAX
 * (bytes beyond are left out, and those that find no memory). */
static void head_append(exchange *ex, const char *data, size_t len) {
  if (ex->head.len + len + 1 > HEAD_MAX)
    return;
  tb_bytes(&ex->head, data, len);
  tb_terminate(&ex->head);
}

/* Non-zero when header line DATA (LEN bytes) is a Content-Length whose value differs
 * from an earlier one of the same head (which libcurl would take the last of, the
 * response buffer the first: the answer would stall). */
static int length_conflict(exchange *ex, const char *data, size_t len) {
  if (len < 15 || strncasecmp(data, "Content-Length:", 15) != 0)
    return 0;
  const char *v = data + 15, *end = data + len;
  while (v < end && (*v == ' ' || *v == '\t'))
    v++;
  uint64_t n = 0;
  while (v < end && *v >= '0' && *v <= '9' && n < UINT64_MAX / 10)
    n = n * 10 + (uint64_t)(*v++ - '0');
  if (ex->length_seen && n != ex->length_first)
    return 1;
  ex->length_seen = 1;
  ex->length_first = n;
  return 0;
}

int proxy_answer_head_line(exchange *ex, const char *data, size_t len) {
  ex->last_activity = ex->p->now;
  if (ex->head_ready) /* trailers: the head is already on its way to the client */
    return 0;
  if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
    /* a new response head: an interim 1xx is replaced by what follows */
    ex->head.len = 0;
    ex->length_seen = 0;
    const char *sp = memchr(data, ' ', len);
    ex->status = sp ? strtol(sp + 1, NULL, 10) : 0;
  } else if (length_conflict(ex, data, len)) {
    ex->answer_fault = "the upstream's answer has two different Content-Length values";
    return -1;
  }
  head_append(ex, data, len);
  int blank = (len == 2 && data[0] == '\r') || (len == 1 && data[0] == '\n');
  if (blank && ex->head.data && ex->status >= 200) {
    ex->head_ready = 1;
    proxy_exchange_wake(ex); /* the client can be answered */
  }
  return 0;
}

uint64_t proxy_answer_declared_length(const exchange *ex) {
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
  uint64_t n = proxy_answer_declared_length(ex);
  if (n < cap)
    cap = n ? (size_t)n : 1;
  int rc = proxy_ring_alloc(&ex->resp, cap);
  if (cap < RESP_RING)
    proxy_record_lend_body(ex->rec, &ex->rec->resp_body, cap); /* the size of the whole body */
  return rc;
}

long proxy_answer_body(exchange *ex, const char *data, size_t len, int partial) {
  ex->last_activity = ex->p->now;
  if (!ex->respdec_on) {
    if (resp_ring_init(ex) != 0)
      return -1;
    char ce[128];
    util_header_value(ex->head.data, "Content-Encoding", ce, sizeof ce);
    /* any chunked framing is gone; a compressed body is recorded decoded */
    bodydec_init(&ex->respdec, &ex->rec->resp_body, 0, ce[0] ? ce : NULL);
    ex->respdec_on = 1;
  }
  size_t took = len;
  if (!ex->client_done) {
    size_t room = proxy_ring_room(&ex->resp);
    if (room < len) {
      took = partial ? room : 0;
      ex->recv_paused = 1; /* the rest waits until the client has taken some */
    }
    proxy_ring_put(&ex->resp, data, took);
    proxy_exchange_wake(ex);
  }
  bodydec_feed(&ex->respdec, data, took);
  return (long)took;
}
