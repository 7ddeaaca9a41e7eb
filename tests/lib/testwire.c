/* testwire.c: HTTP/1.1 messages read off a socket as they came (see testwire.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "testwire.h"

void tm_sock_init(tm_sock *s, int fd) {
  memset(s, 0, sizeof *s);
  s->fd = fd;
}

void tm_sock_close(tm_sock *s) {
  if (s->fd >= 0)
    close(s->fd);
  free(s->buf);
  memset(s, 0, sizeof *s);
  s->fd = -1;
}

/* Reads what S's peer sent next, waiting at most MS ms: 1 when bytes came, 0 at EOF, a
 * reset or silence. */
static int fill(tm_sock *s, int ms) {
  if (s->eof)
    return 0;
  struct pollfd pf = {s->fd, POLLIN, 0};
  int r;
  do
    r = poll(&pf, 1, ms);
  while (r < 0 && errno == EINTR);
  if (r <= 0)
    return 0;
  if (s->len + 65536 + 1 > s->cap) {
    s->cap = (s->len + 65536 + 1) * 2;
    s->buf = realloc(s->buf, s->cap);
    assert_non_null(s->buf);
  }
  ssize_t n;
  do
    n = read(s->fd, s->buf + s->len, 65536);
  while (n < 0 && errno == EINTR);
  if (n <= 0) {
    s->eof = 1;
    return 0;
  }
  s->len += (size_t)n;
  s->buf[s->len] = '\0';
  return 1;
}

/* Waits until S holds at least WANT bytes: 1, or 0 when they do not come. */
static int need(tm_sock *s, size_t want, int ms) {
  while (s->len < want)
    if (!fill(s, ms))
      return 0;
  return 1;
}

/* The offset just past the next LF at or after POS: 0 when none comes. */
static size_t line_end(tm_sock *s, size_t pos, int ms) {
  for (;;) {
    const char *lf = s->len > pos ? memchr(s->buf + pos, '\n', s->len - pos) : NULL;
    if (lf)
      return (size_t)(lf - s->buf) + 1;
    if (!fill(s, ms))
      return 0;
  }
}

/* The length of the head at the start of S (through its blank line): 0 when none comes. */
static size_t head_end(tm_sock *s, int ms) {
  size_t pos = 0;
  for (;;) {
    size_t e = line_end(s, pos, ms);
    if (!e)
      return 0;
    size_t ll = e - pos;
    if (pos > 0 && (ll == 1 || (ll == 2 && s->buf[pos] == '\r')))
      return e;
    pos = e;
  }
}

static void body_add(tm_msg *m, const char *data, size_t n) {
  m->body = realloc(m->body, m->bodylen + n + 1);
  assert_non_null(m->body);
  memcpy(m->body + m->bodylen, data, n);
  m->bodylen += n;
  m->body[m->bodylen] = '\0';
}

/* Moves the first N bytes of S into M's raw bytes (after those already there). */
static void take(tm_sock *s, size_t n, tm_msg *m) {
  m->raw = realloc(m->raw, m->rawlen + n + 1);
  assert_non_null(m->raw);
  memcpy(m->raw + m->rawlen, s->buf, n);
  m->rawlen += n;
  m->raw[m->rawlen] = '\0';
  memmove(s->buf, s->buf + n, s->len - n);
  s->len -= n;
  if (s->buf)
    s->buf[s->len] = '\0';
}

char *tm_header(const tm_msg *m, const char *name, char *out, size_t outlen) {
  out[0] = '\0';
  size_t nl = strlen(name);
  const char *end = m->raw ? m->raw + m->headlen : NULL;
  const char *p = m->raw ? memchr(m->raw, '\n', m->headlen) : NULL;
  while (p && ++p < end) {
    const char *e = memchr(p, '\n', (size_t)(end - p));
    if (!e)
      break;
    if ((size_t)(e - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
      const char *v = p + nl + 1;
      while (v < e && (*v == ' ' || *v == '\t'))
        v++;
      const char *ve = e;
      while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
        ve--;
      snprintf(out, outlen, "%.*s", (int)(ve - v), v);
      break;
    }
    p = e;
  }
  return out;
}

/* Reads a chunked body from S into M (its raw bytes and decoded body). */
static void read_chunked(tm_sock *s, int ms, tm_msg *m) {
  for (;;) {
    size_t e = line_end(s, 0, ms);
    if (!e)
      return;
    unsigned long long size = strtoull(s->buf, NULL, 16);
    take(s, e, m);
    if (size == 0) {
      for (;;) { /* the trailer, to its blank line */
        e = line_end(s, 0, ms);
        if (!e)
          return;
        int blank = e == 1 || (e == 2 && s->buf[0] == '\r');
        take(s, e, m);
        if (blank) {
          m->complete = 1;
          return;
        }
      }
    }
    if (!need(s, (size_t)size, ms)) {
      body_add(m, s->buf, s->len);
      take(s, s->len, m);
      return;
    }
    body_add(m, s->buf, (size_t)size);
    take(s, (size_t)size, m);
    e = line_end(s, 0, ms);
    if (!e)
      return;
    take(s, e, m);
  }
}

/* Reads a body of LEN bytes, or to EOF when LEN is -1. */
static void read_sized(tm_sock *s, int ms, long long len, tm_msg *m) {
  if (len < 0) {
    while (fill(s, ms))
      ;
    m->complete = s->eof;
    len = (long long)s->len;
  } else {
    m->complete = need(s, (size_t)len, ms);
    if (!m->complete)
      len = (long long)s->len;
  }
  body_add(m, s->buf ? s->buf : "", (size_t)len);
  take(s, (size_t)len, m);
}

/* Reads a head into M; 0 when none came whole (M has what came). */
static int read_head(tm_sock *s, int ms, tm_msg *m) {
  memset(m, 0, sizeof *m);
  body_add(m, "", 0);
  size_t n = head_end(s, ms);
  m->got_any = s->len > 0;
  if (!n) {
    take(s, s->len, m);
    m->headlen = m->rawlen;
    return 0;
  }
  take(s, n, m);
  m->headlen = n;
  return 1;
}

/* Reads the body M's head announces: chunked, Content-Length, or (CLOSE_DELIMITED) to EOF. */
static void read_framed(tm_sock *s, int ms, int close_delimited, tm_msg *m) {
  char te[128], cl[64];
  tm_header(m, "Transfer-Encoding", te, sizeof te);
  tm_header(m, "Content-Length", cl, sizeof cl);
  if (strcasestr(te, "chunked"))
    read_chunked(s, ms, m);
  else if (cl[0])
    read_sized(s, ms, strtoll(cl, NULL, 10), m);
  else if (close_delimited)
    read_sized(s, ms, -1, m);
  else
    m->complete = 1;
}

void tm_read_request(tm_sock *s, int ms, int head_only, tm_msg *m) {
  if (read_head(s, ms, m) && !head_only)
    read_framed(s, ms, 0, m);
  m->peer_closed = s->eof;
}

void tm_read_request_body(tm_sock *s, int ms, tm_msg *m) {
  read_framed(s, ms, 0, m);
  m->peer_closed = s->eof;
}

void tm_read_response(tm_sock *s, int ms, int for_head, tm_msg *m) {
  if (read_head(s, ms, m)) {
    const char *sp = memchr(m->raw, ' ', m->headlen);
    m->status = sp ? atoi(sp + 1) : 0;
    if (for_head || (m->status >= 100 && m->status < 200) || m->status == 204 ||
        m->status == 304)
      m->complete = 1;
    else
      read_framed(s, ms, 1, m);
  }
  m->peer_closed = s->eof;
}

void tm_msg_free(tm_msg *m) {
  free(m->raw);
  free(m->body);
  memset(m, 0, sizeof *m);
}

int tm_write_all(int fd, const char *data, size_t len) {
  while (len) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    data += n;
    len -= (size_t)n;
  }
  return 0;
}
