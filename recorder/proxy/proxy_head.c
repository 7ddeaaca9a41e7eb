/* proxy_head.c: the request-head checks of the recording proxy (proxy_head.h). Anything
 * that would let the proxy and the upstream disagree about where a request ends, or put
 * bytes on the upstream connection the client did not mean as one field, is refused here
 * rather than passed on. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "proxy/proxy_head.h"
#include "base/util.h"

int proxy_is_token(const char *s, size_t n) {
  if (!s || !n)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!util_is_tchar((unsigned char)s[i]))
      return 0;
  return 1;
}

static int name_is(const proxy_hdr *h, const char *name) {
  size_t l = strlen(name);
  return h->nlen == l && strncasecmp(h->name, name, l) == 0;
}

/* Non-zero when a byte of word W is below 0x20 or is 0x7f (exact: a borrow starts only
 * at such a byte, and a byte of 0x80 or above never sets its own high bit here). */
static int word_suspect(uint64_t w) {
  const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
  uint64_t del = w ^ (ones * 0x7f);
  return (((w - ones * 0x20) & ~w) | ((del - ones) & ~del)) & highs ? 1 : 0;
}

/* NULL when VALUE[0..N) holds only field-vchar, SP, HTAB and obs-text; else why not. A
 * value is read eight bytes at a time (a bearer token runs to a kilobyte): a word with no
 * byte below 0x20 and none 0x7f passes whole, any other (one with an HTAB too) is looked
 * at byte by byte. */
static const char *value_fault(const char *value, size_t n) {
  size_t i = 0;
  while (i < n) {
    if (i + 8 <= n) {
      uint64_t w;
      memcpy(&w, value + i, sizeof w);
      if (!word_suspect(w)) {
        i += 8;
        continue;
      }
    }
    for (size_t end = i + 8 < n ? i + 8 : n; i < end; i++) {
      unsigned char c = (unsigned char)value[i];
      if (c == '\r')
        return "a header value contains a bare CR";
      if ((c < 0x20 && c != '\t') || c == 0x7f)
        return "a header value contains a control character (LF, NUL or another)";
    }
  }
  return NULL;
}

/* The decimal number S[0..N) into *OUT; -1 when it is not 1*DIGIT or does not fit. */
static int parse_length(const char *s, size_t n, uint64_t *out) {
  uint64_t v = 0;
  if (!n)
    return -1;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - 9) / 10)
      return -1;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  *out = v;
  return 0;
}

typedef struct framing {
  size_t ncl, nte, nchunked, nhost;
  int unknown_coding, te_exact;
  uint64_t cl;
} framing;

/* Counts the codings of one Transfer-Encoding value into F. */
static void scan_codings(framing *f, const char *v, size_t n) {
  size_t i = 0;
  while (i < n) {
    while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
      i++;
    size_t start = i;
    while (i < n && v[i] != ',' && v[i] != ';' && v[i] != ' ' && v[i] != '\t')
      i++;
    size_t len = i - start;
    if (len == 7 && strncasecmp(v + start, "chunked", 7) == 0)
      f->nchunked++;
    else if (len)
      f->unknown_coding = 1;
    while (i < n && v[i] != ',') /* parameters and OWS up to the next element */
      i++;
  }
}

/* Adds field H to F; returns the reason when it is faulty on its own. */
static const char *add_framing(framing *f, const proxy_hdr *h) {
  if (name_is(h, "Content-Length")) {
    uint64_t v = 0;
    if (parse_length(h->value, h->vlen, &v) != 0)
      return "Content-Length is not a decimal number";
    if (f->ncl++ && v != f->cl)
      return "conflicting Content-Length values";
    f->cl = v;
  } else if (name_is(h, "Transfer-Encoding")) {
    f->nte++;
    f->te_exact = h->vlen == 7 && strncasecmp(h->value, "chunked", 7) == 0;
    scan_codings(f, h->value, h->vlen);
  } else if (name_is(h, "Host")) {
    f->nhost++;
  }
  return NULL;
}

int proxy_head_check(const char *method, const proxy_hdr *h, size_t n, const char **why) {
  static const char *unused;
  const char **w = why ? why : &unused;
  if (!method || !proxy_is_token(method, strlen(method))) {
    *w = "the method is not an RFC 9110 token";
    return 400;
  }
  framing f = {0};
  for (size_t i = 0; i < n; i++) {
    const char *fault = NULL;
    if (h[i].folded) /* first: a fold can also spoil the name */
      fault = "a header line continued on the next line (obs-fold) is not accepted";
    else if (!proxy_is_token(h[i].name, h[i].nlen))
      fault = "a header name is not an RFC 9110 token (whitespace before the colon?)";
    else if ((fault = value_fault(h[i].value, h[i].vlen)) == NULL)
      fault = add_framing(&f, &h[i]);
    if (fault) {
      *w = fault;
      return 400;
    }
  }
  if (f.unknown_coding) {
    *w = "a transfer coding other than chunked is not implemented";
    return 501;
  }
  const char *fault = NULL;
  if (f.nte && (f.nte > 1 || f.nchunked != 1 || !f.te_exact))
    fault = "Transfer-Encoding must be chunked, given once";
  else if (f.nte && f.ncl)
    fault = "both Transfer-Encoding and Content-Length: the body's end is ambiguous";
  else if (f.nhost > 1)
    fault = "more than one Host header";
  if (fault) {
    *w = fault;
    return 400;
  }
  return 0;
}
