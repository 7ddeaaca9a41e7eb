/* proxy_frame.c: an HTTP/1.x answer's framing from the lines of its head (RFC 9112 §6):
 * the status line, Content-Length (a list of the same value is one value; another value
 * or anything else is an error), Transfer-Encoding (chunked only as the last coding;
 * with Content-Length too it wins and the connection ends after), Connection, the
 * bodiless answers, and the size line of a chunk. Pure: no I/O, no allocation. */
#include <string.h>
#include <strings.h>

#include "proxy/proxy_frame.h"

static int digit(char c) {
  return c >= '0' && c <= '9';
}

/* The value of hex digit C, or -1. */
static int hexval(char c) {
  if (digit(c))
    return c - '0';
  c = (char)(c | 0x20);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int proxy_frame_status(proxy_frame *f, const char *l, size_t n) {
  memset(f, 0, sizeof *f);
  if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') ||
      l[8] != ' ' || l[9] < '1' || !digit(l[9]) || !digit(l[10]) || !digit(l[11]) ||
      (n > 12 && l[12] != ' '))
    return -1;
  f->minor = l[7] - '0';
  f->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
  return 0;
}

/* S .. END without the spaces and tabs at either end. */
static void trim(const char **s, const char **end) {
  while (*s < *end && (**s == ' ' || **s == '\t'))
    (*s)++;
  while (*end > *s && ((*end)[-1] == ' ' || (*end)[-1] == '\t'))
    (*end)--;
}

/* A Content-Length value V .. END: one length, or a list of the same one. */
static void content_length(proxy_frame *f, const char *v, const char *end) {
  if (v == end)
    f->cl_bad = 1;
  while (v < end) {
    const char *item = v;
    const char *comma = memchr(v, ',', (size_t)(end - v));
    const char *stop = comma ? comma : end;
    trim(&item, &stop);
    uint64_t x = 0;
    const char *d = item;
    for (; d < stop && digit(*d); d++) {
      if (x > (UINT64_MAX - 9) / 10) {
        f->cl_bad = 1; /* more than any body */
        break;
      }
      x = x * 10 + (uint64_t)(*d - '0');
    }
    if (d == item || d != stop || (f->cl_seen && x != f->cl))
      f->cl_bad = 1;
    f->cl = x;
    f->cl_seen = 1;
    v = comma ? comma + 1 : end;
  }
}

/* The Connection header's tokens V .. END. */
static void connection(proxy_frame *f, const char *v, const char *end) {
  while (v < end) {
    const char *comma = memchr(v, ',', (size_t)(end - v));
    const char *a = v, *b = comma ? comma : end;
    trim(&a, &b);
    if (b - a == 5 && strncasecmp(a, "close", 5) == 0)
      f->conn_close = 1;
    if (b - a == 10 && strncasecmp(a, "keep-alive", 10) == 0)
      f->conn_keep = 1;
    v = comma ? comma + 1 : end;
  }
}

void proxy_frame_field(proxy_frame *f, const char *l, size_t n) {
  const char *colon = memchr(l, ':', n);
  if (!colon)
    return;
  size_t nl = (size_t)(colon - l);
  const char *v = colon + 1, *end = l + n;
  trim(&v, &end);
  if (nl == 14 && strncasecmp(l, "Content-Length", 14) == 0) {
    content_length(f, v, end);
  } else if (nl == 17 && strncasecmp(l, "Transfer-Encoding", 17) == 0) {
    /* the codings of all its fields are one list: the last field's last one counts */
    size_t k = (size_t)(end - v);
    f->te_seen = 1;
    f->te_chunked = k >= 7 && strncasecmp(end - 7, "chunked", 7) == 0 &&
                    (k == 7 || end[-8] == ',' || end[-8] == ' ' || end[-8] == '\t');
  } else if (nl == 10 && strncasecmp(l, "Connection", 10) == 0) {
    connection(f, v, end);
  }
}

proxy_body proxy_frame_body(const proxy_frame *f, int head_request) {
  int st = f->status;
  if (head_request || (st >= 100 && st < 200) || st == 204 || st == 304)
    return PROXY_BODY_NONE;
  if (f->te_seen)
    return f->te_chunked ? PROXY_BODY_CHUNKED : PROXY_BODY_CLOSE;
  if (f->cl_bad)
    return PROXY_BODY_BAD;
  if (f->cl_seen)
    return f->cl ? PROXY_BODY_LENGTH : PROXY_BODY_NONE;
  return PROXY_BODY_CLOSE;
}

int proxy_frame_keep(const proxy_frame *f, proxy_body body) {
  if (body == PROXY_BODY_CLOSE || f->cl_bad || (f->te_seen && f->cl_seen))
    return 0;
  return f->minor >= 1 ? !f->conn_close : f->conn_keep && !f->conn_close;
}

int proxy_frame_chunk_size(const char *l, size_t n, uint64_t *size) {
  uint64_t x = 0;
  size_t i = 0;
  for (; i < n; i++) {
    int d = hexval(l[i]);
    if (d < 0)
      break;
    if (i == 16)
      return -1; /* over 64 bits */
    x = x * 16 + (uint64_t)d;
  }
  if (i == 0)
    return -1;
  while (i < n && (l[i] == ' ' || l[i] == '\t'))
    i++;
  if (i < n && l[i] != ';')
    return -1;
  *size = x;
  return 0;
}
