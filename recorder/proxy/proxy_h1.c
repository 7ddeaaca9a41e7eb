/* proxy_h1.c: reqlog's own HTTP/1.1 client, the upstream side of an exchange when the
 * upstream is plain http at an IP address (libcurl carries https, names, proxies and
 * chunked request bodies). It does what a proxy's upstream side needs and no more: one
 * request per connection at a time on non-blocking sockets in the loop's epoll set,
 * keep-alive connections kept per loop, the request head written with its body in one
 * writev, the answer's head and body framing (Content-Length, chunked, until close; none
 * for HEAD, 1xx, 204, 304) read from one buffer, body bytes handed on as they come.
 * A request that met a kept connection the upstream had closed meanwhile (nothing came
 * back, none of its body went out) is sent once more on a new connection, as libcurl
 * does. Errors are told with libcurl's codes, so an answer and a record read the same
 * whichever client carried the exchange. Why: libcurl costs the loop ~70,000
 * instructions per request (a header byte ~75 of them through its printf), about half
 * the proxy's own CPU per request on one connection. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/util.h"
#include "proxy/proxy_frame.h"
#include "proxy/proxy_int.h"

#define IN_CAP (64 * 1024)         /* a connection's read buffer: a head line must fit */
#define HEAD_LIMIT (1024 * 1024)   /* an answer's head beyond this is refused */

/* What the connection reads next. */
typedef enum {
  RD_HEAD,        /* a line of the answer's head */
  RD_LENGTH,      /* body bytes up to Content-Length */
  RD_CHUNK_SIZE,  /* a chunk's size line */
  RD_CHUNK_DATA,  /* a chunk's bytes */
  RD_CHUNK_END,   /* the line end after a chunk's bytes */
  RD_TRAILER,     /* trailer lines after the last chunk */
  RD_CLOSE        /* body bytes until the upstream closes */
} rd_state;

struct h1conn {
  loop *p;
  int fd;
  exchange *ex;            /* the exchange it carries; NULL while idle */
  int connecting;          /* connect() under way */
  unsigned watched;        /* the epoll events asked for now */
  int in_set;              /* FD is in the loop's epoll set */
  int uses;                /* exchanges it was given, this one included */
  int wdead;               /* writing failed: only the answer may still be read */
  int got;                 /* a byte of this exchange's answer came */
  unsigned char *in;       /* bytes read: IN[off .. len) not yet parsed */
  size_t len, off;
  rd_state rd;
  uint64_t left;           /* bytes left in the body or chunk */
  int lines;               /* lines of the current head so far */
  size_t head_bytes;
  proxy_frame frame;       /* what the current head says of its framing */
  proxy_body body;         /* the final head's framing, once complete */
};

/* ------------------------------------------------------------------ setup */

void proxy_h1_setup(reqlog_proxy *px) {
  px->h1_on = 0;
  const proxy_upstream *u = &px->up;
  if (px->env_proxy || strcmp(u->scheme, "http") != 0)
    return;
  char host[64];
  size_t hl = strlen(u->host);
  memset(&px->h1_sa, 0, sizeof px->h1_sa);
  if (hl > 2 && u->host[0] == '[' && u->host[hl - 1] == ']' && hl - 2 < sizeof host) {
    memcpy(host, u->host + 1, hl - 2);
    host[hl - 2] = '\0';
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&px->h1_sa;
    if (strchr(host, '%') || inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
      return; /* a zone index: libcurl knows what to do with it */
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)u->port);
    px->h1_salen = sizeof *s6;
  } else {
    struct sockaddr_in *s4 = (struct sockaddr_in *)&px->h1_sa;
    if (hl >= sizeof host || inet_pton(AF_INET, u->host, &s4->sin_addr) != 1)
      return; /* a name: resolving it is libcurl's (asynchronous) job */
    memcpy(host, u->host, hl + 1);
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)u->port);
    px->h1_salen = sizeof *s4;
  }
  snprintf(px->h1_ip, sizeof px->h1_ip, "%s", host);
  px->h1_on = 1;
}

int proxy_h1_usable(const loop *p, const exchange *ex) {
  if (!p->px->h1_on || (ex->has_body && (ex->body_len < 0 || ex->head_only)))
    return 0;
  for (const unsigned char *t = (const unsigned char *)ex->target; *t; t++)
    if (*t <= 0x20 || *t >= 0x7f || *t == '#')
      return 0;
  return 1;
}

/* ------------------------------------------------------------------ the connection */

/* C's record in its loop's table of descriptors (grown as needed). Returns 0, or -1 when
 * memory ran out. */
static int conn_index(loop *p, h1conn *c) {
  size_t fd = (size_t)c->fd;
  if (fd >= p->nh1fd) {
    size_t n = p->nh1fd ? p->nh1fd : 256;
    while (n <= fd)
      n *= 2;
    h1conn **t = realloc(p->h1fd, n * sizeof *t);
    if (!t)
      return -1;
    memset(t + p->nh1fd, 0, (n - p->nh1fd) * sizeof *t);
    p->h1fd = t;
    p->nh1fd = n;
  }
  p->h1fd[fd] = c;
  return 0;
}

int proxy_h1_owns(const loop *p, int fd) {
  return fd >= 0 && (size_t)fd < p->nh1fd && p->h1fd[fd];
}

/* Asks the loop's epoll set for EV (EPOLLIN, EPOLLOUT, both, or none) on C. With none,
 * C leaves the set: a hang-up is reported whatever is asked, and one while the answer
 * waits for the client would wake the loop at every turn. */
static void watch(h1conn *c, unsigned ev) {
  if (c->in_set ? c->watched == ev : ev == 0)
    return;
  if (ev == 0) {
    epoll_ctl(c->p->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    c->in_set = 0;
    c->watched = 0;
    return;
  }
  struct epoll_event e = {0};
  e.events = ev;
  e.data.fd = c->fd;
  if (epoll_ctl(c->p->epfd, c->in_set ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &e) == 0) {
    c->in_set = 1;
    c->watched = ev;
  }
}

static void conn_close(h1conn *c) {
  loop *p = c->p;
  if ((size_t)c->fd < p->nh1fd)
    p->h1fd[c->fd] = NULL;
  close(c->fd); /* out of the epoll set with it */
  free(c->in);
  free(c);
}

/* Takes idle connection C out of its loop's pool. */
static void unpool(h1conn *c) {
  loop *p = c->p;
  for (int i = 0; i < p->nh1idle; i++)
    if (p->h1idle[i] == c) {
      p->h1idle[i] = p->h1idle[--p->nh1idle];
      return;
    }
}

/* A new connection of loop P to the upstream for EX, its connect() under way; NULL with
 * EX's error set (a refused destination, no socket) or when memory ran out (errbuf empty). */
static h1conn *conn_open(loop *p, exchange *ex) {
  reqlog_proxy *px = p->px;
  const proxy_guard *g = proxy_net_refused(&px->net, (const struct sockaddr *)&px->h1_sa);
  if (g) {
    ex->refused = g;
    ex->why = WHY_REFUSED;
    return NULL;
  }
  h1conn *c = calloc(1, sizeof *c);
  unsigned char *in = malloc(IN_CAP);
  int fd = socket(px->h1_sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (!c || !in || fd < 0) {
    if (fd < 0)
      snprintf(ex->errbuf, sizeof ex->errbuf, "Failed to connect to %s port %u: %s",
               px->h1_ip, px->up.port, strerror(errno));
    if (fd >= 0)
      close(fd);
    free(in);
    free(c);
    return NULL;
  }
  c->p = p;
  c->fd = fd;
  c->in = in;
  if (conn_index(p, c) != 0) {
    c->fd = -1;
    close(fd);
    free(in);
    free(c);
    return NULL;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  if (connect(fd, (const struct sockaddr *)&px->h1_sa, px->h1_salen) != 0 &&
      errno != EINPROGRESS) {
    snprintf(ex->errbuf, sizeof ex->errbuf, "Failed to connect to %s port %u: %s",
             px->h1_ip, px->up.port, strerror(errno));
    conn_close(c);
    return NULL;
  }
  c->connecting = 1;
  watch(c, EPOLLOUT);
  return c;
}

/* Gives C to EX: a fresh head to read. */
static void attach(h1conn *c, exchange *ex) {
  c->ex = ex;
  ex->h1 = c;
  c->uses++;
  c->wdead = c->got = 0;
  c->rd = RD_HEAD;
  c->lines = 0;
  c->head_bytes = 0;
}

/* Takes C from its exchange: back to the pool when REUSE, else closed. */
static void detach(h1conn *c, int reuse) {
  loop *p = c->p;
  if (c->ex)
    c->ex->h1 = NULL;
  c->ex = NULL;
  if (reuse && p->nh1idle < POOL_MAX && !p->stopping) {
    c->len = c->off = 0;
    p->h1idle[p->nh1idle++] = c;
    watch(c, EPOLLIN); /* the upstream closing it, while idle, is seen */
  } else {
    conn_close(c);
  }
}

/* ------------------------------------------------------------------ ending */

static void send_request(h1conn *c);

/* Ends EX's transfer on C with CODE and the error text FMT (libcurl's wording where
 * libcurl has one), unless the request may go again on a new connection: C was kept
 * from an earlier exchange, nothing came back on it and none of the body went out. */
static void fail(h1conn *c, CURLcode code, const char *fmt, ...) {
  exchange *ex = c->ex;
  int stale = c->uses > 1 && !c->got && !ex->h1retried &&
              (code == CURLE_GOT_NOTHING || code == CURLE_SEND_ERROR ||
               code == CURLE_RECV_ERROR);
  int again = stale && ex->h1body_sent == 0;
  detach(c, 0);
  if (again) {
    ex->h1retried = 1;
    h1conn *n = conn_open(ex->p, ex);
    if (n) {
      attach(n, ex);
      ex->h1req_off = 0;
      return; /* written once connected */
    }
    code = CURLE_COULDNT_CONNECT;
  } else if (stale) { /* its body is gone from the ring: it cannot go again */
    code = CURLE_SEND_FAIL_REWIND;
    snprintf(ex->errbuf, sizeof ex->errbuf,
             "Send failed since rewinding of the data stream failed");
  } else {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ex->errbuf, sizeof ex->errbuf, fmt, ap);
    va_end(ap);
  }
  proxy_transfer_done(ex, code);
}

/* The answer is complete: the transfer ends well, C goes back to the pool when the
 * upstream keeps it and nothing of this exchange is left on it. */
static void complete(h1conn *c) {
  exchange *ex = c->ex;
  int clean = c->off == c->len && !c->wdead && ex->h1req_off == ex->h1req.len &&
              ex->h1body_left == 0;
  detach(c, clean && proxy_frame_keep(&c->frame, c->body));
  proxy_transfer_done(ex, CURLE_OK);
}

/* ------------------------------------------------------------------ the request */

/* Builds EX's request head: the request line, the upstream's Host, the forwarded fields
 * (a libcurl "Name;" line is an empty field, a "Name:" line one libcurl was told not to
 * add of its own, so not sent) and Content-Length when there is a body. Returns 0, or -1
 * when memory ran out. */
static int build_head(loop *p, exchange *ex) {
  textbuf *t = &ex->h1req;
  const proxy_upstream *u = &p->px->up;
  tb_str(t, ex->method);
  tb_byte(t, ' ');
  tb_str(t, u->path);
  tb_str(t, ex->target);
  tb_str(t, " HTTP/1.1\r\nHost: ");
  tb_str(t, u->authority);
  tb_str(t, "\r\n");
  for (const struct curl_slist *l = ex->headers; l; l = l->next) {
    size_t n = strlen(l->data);
    if (!n || l->data[n - 1] == ':')
      continue;
    if (l->data[n - 1] == ';') {
      tb_bytes(t, l->data, n - 1);
      tb_str(t, ":\r\n");
    } else {
      tb_bytes(t, l->data, n);
      tb_str(t, "\r\n");
    }
  }
  if (ex->has_body) {
    tb_str(t, "Content-Length: ");
    tb_int(t, ex->body_len);
    tb_str(t, "\r\n");
  }
  tb_str(t, "\r\n");
  return t->nomem ? -1 : 0;
}

/* Writes what C's exchange has ready: the rest of its head and the body bytes in the
 * upload ring, in one writev. */
static void send_request(h1conn *c) {
  exchange *ex = c->ex;
  if (c->connecting || c->wdead)
    return;
  struct iovec iov[3];
  int n = 0;
  size_t head_left = ex->h1req.len - ex->h1req_off;
  if (head_left)
    iov[n++] = (struct iovec){ex->h1req.data + ex->h1req_off, head_left};
  ring *g = &ex->up;
  size_t body = g->len < ex->h1body_left ? g->len : (size_t)ex->h1body_left;
  if (body) {
    size_t first = g->cap - g->head < body ? g->cap - g->head : body;
    iov[n++] = (struct iovec){g->buf + g->head, first};
    if (body > first)
      iov[n++] = (struct iovec){g->buf, body - first};
  }
  if (n) {
    ssize_t w = writev(c->fd, iov, n);
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      /* the upstream may have answered and closed (an early 413): what it sent is read */
      c->wdead = 1;
      if (!c->got && c->uses > 1 && ex->h1body_sent == 0)
        fail(c, CURLE_SEND_ERROR, "Send failure: %s", strerror(errno));
      else
        watch(c, EPOLLIN);
      return;
    }
    size_t k = w > 0 ? (size_t)w : 0;
    size_t h = k < head_left ? k : head_left;
    ex->h1req_off += h;
    k -= h;
    if (k) {
      g->head = (g->head + k) % g->cap;
      g->len -= k;
      ex->h1body_left -= k;
      ex->h1body_sent += k;
      ex->last_activity = c->p->now;
      proxy_transfer_upload_taken(ex);
    }
  }
  int head_out = ex->h1req_off == ex->h1req.len;
  if (!head_out || (ex->h1body_left && ex->up.len)) {
    watch(c, EPOLLIN | EPOLLOUT); /* the socket is full: more once it drains */
    return;
  }
  if (ex->h1body_left && !ex->req_eof)
    ex->send_paused = 1; /* until the client's body brings more (proxy_h1_pause) */
  watch(c, ex->recv_paused ? 0u : (unsigned)EPOLLIN);
}

/* An idle connection of loop P for a request, or NULL. One for a request with a body
 * (which could not go again) is first checked for a close the loop has not seen yet. */
static h1conn *take_idle(loop *p, int has_body) {
  while (p->nh1idle) {
    h1conn *c = p->h1idle[--p->nh1idle];
    char b;
    if (!has_body || (recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
                      (errno == EAGAIN || errno == EWOULDBLOCK)))
      return c;
    conn_close(c); /* closed by the upstream, or it spoke unasked */
  }
  return NULL;
}

int proxy_h1_start(loop *p, exchange *ex) {
  if (build_head(p, ex) != 0)
    return -1;
  ex->h1body_left = ex->has_body ? (uint64_t)ex->body_len : 0;
  h1conn *c = take_idle(p, ex->h1body_left > 0);
  if (!c) {
    c = conn_open(p, ex);
    if (!c) {
      if (!ex->errbuf[0] && ex->why != WHY_REFUSED)
        return -1;
      proxy_transfer_done(ex, CURLE_COULDNT_CONNECT);
      return 0;
    }
  }
  attach(c, ex);
  if (ex->h1body_left && !ex->up.len)
    ex->send_paused = 1; /* the head goes out with the body's first bytes */
  else
    send_request(c);
  return 0;
}

/* ------------------------------------------------------------------ the answer */

/* C's head ends here (the blank line not yet passed on): refuses what it cannot frame
 * before the client is answered with it. Returns 0, or -1 when it ended the transfer. */
static int head_check(h1conn *c) {
  if (c->frame.status == 101) {
    fail(c, CURLE_WEIRD_SERVER_REPLY, "the upstream switched protocols (101) unasked");
    return -1;
  }
  if (proxy_frame_body(&c->frame, c->ex->head_only) == PROXY_BODY_BAD) {
    fail(c, CURLE_WEIRD_SERVER_REPLY, "Invalid Content-Length: value");
    return -1;
  }
  return 0;
}

/* The head of C's answer is complete and passed on: how its body is read. Returns 0,
 * or -1 when it ended the transfer. */
static int head_done(h1conn *c) {
  exchange *ex = c->ex;
  ex->h1version = c->frame.minor;
  c->lines = 0;
  c->head_bytes = 0;
  if (c->frame.status < 200)
    return 0; /* an interim answer: the final head follows */
  c->body = proxy_frame_body(&c->frame, ex->head_only);
  switch (c->body) {
  case PROXY_BODY_LENGTH:
    c->rd = RD_LENGTH;
    c->left = c->frame.cl;
    return 0;
  case PROXY_BODY_CHUNKED:
    c->rd = RD_CHUNK_SIZE;
    return 0;
  case PROXY_BODY_CLOSE:
    c->rd = RD_CLOSE;
    return 0;
  default: /* none (a bad length was refused by head_check) */
    complete(c);
    return -1;
  }
}

/* Hands up to N body bytes at P to the exchange. Returns how many it took (fewer when
 * the client's ring is full), or -1 when it ended the transfer. */
static long body(h1conn *c, const unsigned char *p, size_t n) {
  long k = proxy_answer_body(c->ex, (const char *)p, n, 1);
  if (k < 0)
    fail(c, CURLE_OUT_OF_MEMORY, "the proxy ran out of memory");
  return k;
}

/* The next line in C's buffer: its start, its length without the line end into *N, or
 * NULL when it is not all here. *FULL: with its line end. */
static const char *next_line(h1conn *c, size_t *n, size_t *full) {
  const unsigned char *s = c->in + c->off;
  const unsigned char *nl = memchr(s, '\n', c->len - c->off);
  if (!nl)
    return NULL;
  *full = (size_t)(nl - s) + 1;
  *n = *full - 1 - (*full >= 2 && nl[-1] == '\r');
  return (const char *)s;
}

/* Parses what C's buffer holds, as far as it goes: the head's lines, body bytes (until
 * the client's ring is full), the end of the answer. Returns 0 when it wants more bytes,
 * 1 when it stopped (paused, or the transfer ended). */
static int parse(h1conn *c) {
  for (;;) {
    exchange *ex = c->ex;
    if (!ex)
      return 1;
    size_t avail = c->len - c->off;
    if (c->rd == RD_LENGTH || c->rd == RD_CHUNK_DATA || c->rd == RD_CLOSE) {
      if (!avail)
        return 0;
      size_t n = c->rd == RD_CLOSE || avail < c->left ? avail : (size_t)c->left;
      long k = body(c, c->in + c->off, n);
      if (k < 0)
        return 1;
      c->off += (size_t)k;
      if (c->rd != RD_CLOSE)
        c->left -= (uint64_t)k;
      if ((size_t)k < n)
        return 1; /* the client's ring is full: ex->recv_paused */
      if (c->rd == RD_LENGTH && !c->left) {
        complete(c);
        return 1;
      }
      if (c->rd == RD_CHUNK_DATA && !c->left)
        c->rd = RD_CHUNK_END;
      continue;
    }
    size_t n = 0, full = 0;
    const char *l = next_line(c, &n, &full);
    if (!l)
      return 0;
    c->off += full;
    if (c->rd == RD_HEAD) {
      c->head_bytes += full;
      if (c->head_bytes > HEAD_LIMIT) {
        fail(c, CURLE_WEIRD_SERVER_REPLY, "the upstream's answer head is over %d KiB",
             HEAD_LIMIT / 1024);
        return 1;
      }
      if (n == 0 && c->lines > 0) {
        if (head_check(c) != 0)
          return 1;
        proxy_answer_head_line(ex, l, full);
        if (head_done(c) != 0)
          return 1;
        continue;
      }
      if (c->lines > 0) {
        proxy_frame_field(&c->frame, l, n);
      } else if (proxy_frame_status(&c->frame, l, n) != 0) {
        /* libcurl's words for the two cases */
        fail(c, CURLE_UNSUPPORTED_PROTOCOL, n >= 5 && memcmp(l, "HTTP/", 5) == 0
                                                ? "Unsupported HTTP version in response"
                                                : "Received HTTP/0.9 when not allowed");
        return 1;
      }
      c->lines++;
      if (proxy_answer_head_line(ex, l, full) != 0) {
        fail(c, CURLE_WEIRD_SERVER_REPLY, "%s", ex->answer_fault);
        return 1;
      }
    } else if (c->rd == RD_CHUNK_SIZE) {
      uint64_t size = 0;
      if (proxy_frame_chunk_size(l, n, &size) != 0) {
        fail(c, CURLE_RECV_ERROR, "the upstream's chunked body is malformed");
        return 1;
      }
      c->left = size;
      c->rd = size ? RD_CHUNK_DATA : RD_TRAILER;
    } else if (c->rd == RD_CHUNK_END) {
      if (n != 0) {
        fail(c, CURLE_RECV_ERROR, "the upstream's chunked body is malformed");
        return 1;
      }
      c->rd = RD_CHUNK_SIZE;
    } else if (n == 0) { /* RD_TRAILER: its end */
      complete(c);
      return 1;
    }
  }
}

/* The upstream closed C: the end of a body read until close, else a failure. */
static void closed(h1conn *c) {
  if (c->rd == RD_CLOSE) {
    complete(c);
  } else if (!c->got || (c->rd == RD_HEAD && c->lines == 0 && c->off == c->len)) {
    fail(c, CURLE_GOT_NOTHING, "Empty reply from server");
  } else if (c->rd == RD_LENGTH) {
    fail(c, CURLE_PARTIAL_FILE, "transfer closed with %llu bytes remaining to read",
         (unsigned long long)c->left);
  } else if (c->rd == RD_HEAD) {
    fail(c, CURLE_RECV_ERROR, "the upstream closed the connection within the answer's head");
  } else {
    fail(c, CURLE_PARTIAL_FILE, "transfer closed with outstanding read data remaining");
  }
}

/* Reads what the upstream sent on C (once) and parses it. */
static void receive(h1conn *c) {
  exchange *ex = c->ex;
  if (ex->recv_paused)
    return;
  if (c->off && c->off == c->len) {
    c->off = c->len = 0;
  } else if (c->off && IN_CAP - c->len < IN_CAP / 4) { /* room for a line's rest */
    memmove(c->in, c->in + c->off, c->len - c->off);
    c->len -= c->off;
    c->off = 0;
  }
  ssize_t r = read(c->fd, c->in + c->len, IN_CAP - c->len);
  if (r < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
      return;
    int e = errno;
    if (!c->got && e == ECONNRESET) /* like a close: a kept connection it had ended */
      fail(c, CURLE_GOT_NOTHING, "Empty reply from server");
    else
      fail(c, CURLE_RECV_ERROR, "Recv failure: %s", strerror(e));
    return;
  }
  if (r == 0) {
    closed(c);
    return;
  }
  if (!c->got) {
    c->got = 1;
    ex->h1first = c->p->now;
  }
  c->len += (size_t)r;
  ex->last_activity = c->p->now;
  int more = parse(c) == 0;
  if (ex->h1 != c) /* the transfer ended (C may be gone) or went to a new connection */
    return;
  if (more && c->len == IN_CAP && c->off == 0)
    fail(c, CURLE_WEIRD_SERVER_REPLY, "a line of the upstream's answer is over %d KiB",
         IN_CAP / 1024);
  else if (ex->recv_paused)
    watch(c, c->watched & ~(unsigned)EPOLLIN);
}

/* ------------------------------------------------------------------ events */

/* C's connect() has finished: made (the request goes out), or failed. */
static void connected(h1conn *c) {
  exchange *ex = c->ex;
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
    err = errno;
  if (err == EINPROGRESS || err == EALREADY)
    return;
  c->connecting = 0;
  if (err) {
    reqlog_proxy *px = c->p->px;
    detach(c, 0);
    snprintf(ex->errbuf, sizeof ex->errbuf, "Failed to connect to %s port %u after %lld ms: %s",
             px->h1_ip, px->up.port,
             (long long)((ex->p->now - ex->started_mono) / 1000), strerror(err));
    proxy_transfer_done(ex, CURLE_COULDNT_CONNECT);
    return;
  }
  ex->h1connected = c->p->now;
  ex->last_activity = c->p->now;
  if (ex->h1body_left && !ex->up.len && !ex->req_eof)
    ex->send_paused = 1; /* the head goes out with the body's first bytes */
  else
    send_request(c);
  if (ex->h1 == c && !(c->watched & (unsigned)EPOLLOUT))
    watch(c, ex->recv_paused ? 0u : (unsigned)EPOLLIN);
}

void proxy_h1_event(loop *p, int fd, uint32_t events) {
  h1conn *c = p->h1fd[fd];
  if (!c->ex) { /* idle: the upstream closed it (or spoke unasked) */
    unpool(c);
    conn_close(c);
    return;
  }
  if (c->connecting) {
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
      connected(c);
    return;
  }
  exchange *ex = c->ex;
  if ((events & EPOLLOUT) && !c->wdead)
    send_request(c);
  if (ex->h1 == c && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
    receive(c);
}

void proxy_h1_pause(exchange *ex, int was_recv) {
  h1conn *c = ex->h1;
  if (!c || c->connecting)
    return;
  if (!ex->send_paused && (ex->h1body_left || ex->h1req_off < ex->h1req.len))
    send_request(c);
  if (ex->h1 != c || !was_recv || ex->recv_paused)
    return;
  /* bytes held back for the client's ring go first, then the socket again */
  if (parse(c) == 0 && ex->h1 == c && !ex->recv_paused)
    watch(c, c->watched | (unsigned)EPOLLIN);
}

void proxy_h1_poll(exchange *ex) {
  h1conn *c = ex->h1;
  if (c && !c->connecting && ex->h1req_off == ex->h1req.len && !ex->h1body_left)
    receive(c);
}

void proxy_h1_drop(exchange *ex) {
  if (ex->h1)
    detach(ex->h1, 0);
  free(ex->h1req.data);
  ex->h1req = (textbuf){0};
}

void proxy_h1_free(loop *p) {
  while (p->nh1idle)
    conn_close(p->h1idle[--p->nh1idle]);
  free(p->h1fd);
  p->h1fd = NULL;
  p->nh1fd = 0;
}
