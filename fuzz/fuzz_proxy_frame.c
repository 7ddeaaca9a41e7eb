/* fuzz_proxy_frame.c: how the proxy's own upstream client reads an answer's framing
 * (recorder/proxy/proxy_frame.c): the status line, the fields that frame the body, the
 * decision between no body, a length, chunked, until close or refused, whether the
 * connection goes on, and chunk-size lines. The upstream's bytes are untrusted.
 *
 * Input: lines separated by '\n' (a '\r' before it is dropped, as the client does). The
 * first is the status line; the next, up to an empty line, are header fields; every line
 * after that is a chunk-size line. The input's last byte, when odd, makes it the answer
 * to a HEAD request.
 * Properties: the same input gives the same result twice; a status line is taken exactly
 * when it reads "HTTP/1.0" or "HTTP/1.1", a space, three digits from 100, then the end or
 * a space; by this file's own reading of the fields, a length body has no
 * Transfer-Encoding and every Content-Length element is the same digit string's number;
 * a refused one has a Content-Length that is not; chunked has chunked as the last field's
 * last coding; a body is only absent for HEAD, 1xx, 204, 304 or a length of 0; a kept
 * connection never follows a body read until close, a bad length or both framings; a
 * chunk size is taken exactly when the line is 1 to 16 hex digits, blanks, then ';' or
 * nothing, and its value is theirs. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "proxy/proxy_frame.h"

#define MAX_LINES 256

typedef struct line {
  const char *p;
  size_t n;
} line;

/* Cuts DATA into lines (a '\r' before each '\n' dropped). Returns how many. */
static size_t cut(const char *data, size_t size, line *out, size_t max) {
  size_t k = 0, start = 0;
  for (size_t i = 0; i <= size && k < max; i++) {
    if (i == size || data[i] == '\n') {
      size_t n = i - start;
      if (n && data[start + n - 1] == '\r')
        n--;
      if (i < size || n)
        out[k++] = (line){data + start, n};
      start = i + 1;
    }
  }
  return k;
}

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}

static int is_hex(char c) {
  return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* L names field NAME (a ':' right after it)? *V and *VN: its value, blanks trimmed. */
static int field(line l, const char *name, const char **v, size_t *vn) {
  size_t nl = strlen(name);
  if (l.n <= nl || l.p[nl] != ':' || strncasecmp(l.p, name, nl) != 0)
    return 0;
  const char *s = l.p + nl + 1, *e = l.p + l.n;
  while (s < e && (*s == ' ' || *s == '\t'))
    s++;
  while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
    e--;
  *v = s;
  *vn = (size_t)(e - s);
  return 1;
}

/* The Content-Length fields of FIELDS by this file's reading: 1 when every element is
 * a digit string and all are the same number (*VALUE), with only a trailing empty
 * element allowed; 0 when one is not; -1 when there is none; 2 when an element has over
 * 19 digits (near 2^64: this reading does not say). */
static int lengths(const line *fields, size_t n, unsigned long long *value) {
  int seen = 0;
  for (size_t i = 0; i < n; i++) {
    const char *v;
    size_t vn;
    if (!field(fields[i], "Content-Length", &v, &vn))
      continue;
    if (vn == 0)
      return 0;
    size_t at = 0;
    while (at < vn) {
      size_t end = at;
      while (end < vn && v[end] != ',')
        end++;
      size_t a = at, b = end;
      while (a < b && (v[a] == ' ' || v[a] == '\t'))
        a++;
      while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
        b--;
      if (b == a)
        return 0;
      if (b - a > 19)
        return 2;
      unsigned long long x = 0;
      for (size_t j = a; j < b; j++) {
        if (!is_digit(v[j]))
          return 0;
        x = x * 10 + (unsigned long long)(v[j] - '0');
      }
      if (seen && x != *value)
        return 0;
      *value = x;
      seen = 1;
      at = end + 1;
    }
  }
  return seen ? 1 : -1;
}

/* By this file's reading: a Transfer-Encoding came (*CHUNKED: its last field's last
 * coding is chunked). */
static int transfer_encoding(const line *fields, size_t n, int *chunked) {
  int seen = 0;
  for (size_t i = 0; i < n; i++) {
    const char *v;
    size_t vn;
    if (!field(fields[i], "Transfer-Encoding", &v, &vn))
      continue;
    seen = 1;
    *chunked = vn >= 7 && strncasecmp(v + vn - 7, "chunked", 7) == 0 &&
               (vn == 7 || v[vn - 8] == ',' || v[vn - 8] == ' ' || v[vn - 8] == '\t');
  }
  return seen;
}

static void check_status(line l, const proxy_frame *f, int rc) {
  int want = l.n >= 12 && memcmp(l.p, "HTTP/1.", 7) == 0 && (l.p[7] == '0' || l.p[7] == '1') &&
             l.p[8] == ' ' && l.p[9] >= '1' && l.p[9] <= '9' && is_digit(l.p[10]) &&
             is_digit(l.p[11]) && (l.n == 12 || l.p[12] == ' ');
  FUZZ_CHECK((rc == 0) == want, "a status line taken or refused against the rule");
  if (rc == 0)
    FUZZ_CHECK(f->minor == l.p[7] - '0' && f->status >= 100 &&
                 f->status == (l.p[9] - '0') * 100 + (l.p[10] - '0') * 10 + (l.p[11] - '0'),
               "the status line's version or code misread");
}

static void check_body(const line *fields, size_t n, const proxy_frame *f, proxy_body b,
                       int keep, int head) {
  unsigned long long len = 0;
  int cl = lengths(fields, n, &len);
  int chunked = 0;
  int te = transfer_encoding(fields, n, &chunked);
  int bodiless = head || f->status < 200 || f->status == 204 || f->status == 304;
  if (cl == 2 && !te && !bodiless)
    return;
  switch (b) {
  case PROXY_BODY_LENGTH:
    FUZZ_CHECK(!bodiless && !te && cl == 1 && len == f->cl && len > 0,
               "a length body without one clear length");
    break;
  case PROXY_BODY_BAD:
    FUZZ_CHECK(!bodiless && !te && cl == 0, "a length refused that was clear");
    break;
  case PROXY_BODY_CHUNKED:
    FUZZ_CHECK(!bodiless && te && chunked, "chunked without chunked last");
    break;
  case PROXY_BODY_CLOSE:
    FUZZ_CHECK(!bodiless && (te ? !chunked : cl == -1), "until close with a framing");
    break;
  case PROXY_BODY_NONE:
    FUZZ_CHECK(bodiless || (!te && cl == 1 && len == 0), "no body where one was framed");
    break;
  }
  if (keep)
    FUZZ_CHECK(b != PROXY_BODY_CLOSE && cl != 0 && !(te && cl >= 1),
               "a connection kept after an unclear framing");
}

static void check_chunk(line l) {
  uint64_t size = 0;
  int rc = proxy_frame_chunk_size(l.p, l.n, &size);
  size_t d = 0;
  while (d < l.n && is_hex(l.p[d]))
    d++;
  size_t r = d;
  while (r < l.n && (l.p[r] == ' ' || l.p[r] == '\t'))
    r++;
  int want = d >= 1 && d <= 16 && (r == l.n || l.p[r] == ';');
  FUZZ_CHECK((rc == 0) == want, "a chunk size taken or refused against the rule");
  if (rc == 0) {
    char hex[17];
    memcpy(hex, l.p, d);
    hex[d] = '\0';
    FUZZ_CHECK(size == strtoull(hex, NULL, 16), "a chunk size misread");
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static line lines[MAX_LINES];
  size_t n = cut((const char *)data, size, lines, MAX_LINES);
  if (n == 0)
    return 0;
  int head = size && (data[size - 1] & 1);
  proxy_frame f, g;
  int rc = proxy_frame_status(&f, lines[0].p, lines[0].n);
  FUZZ_CHECK(proxy_frame_status(&g, lines[0].p, lines[0].n) == rc, "not deterministic");
  check_status(lines[0], &f, rc);
  size_t i = 1;
  for (; i < n && lines[i].n; i++) {
    if (rc == 0) {
      proxy_frame_field(&f, lines[i].p, lines[i].n);
      proxy_frame_field(&g, lines[i].p, lines[i].n);
    }
  }
  if (rc == 0) {
    FUZZ_CHECK(memcmp(&f, &g, sizeof f) == 0, "not deterministic");
    proxy_body b = proxy_frame_body(&f, head);
    check_body(lines + 1, i - 1, &f, b, proxy_frame_keep(&f, b), head);
  }
  for (i++; i < n; i++)
    check_chunk(lines[i]);
  return 0;
}
