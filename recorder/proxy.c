/* proxy.c: reqlog_proxy, the recording reverse proxy. libmicrohttpd serves clients with a
 * thread per connection, and that thread also drives the exchange's libcurl transfer (a
 * multi handle of its own) from inside MHD's callbacks: the upload chunks MHD hands over
 * are fed to libcurl's read callback, and MHD's content reader runs libcurl until body
 * bytes arrive. A direction with nothing to do is paused in libcurl, so bodies stream
 * through a bounded buffer whatever their size. Each exchange is recorded like any other
 * call: bytes are copied into a record here, redaction and SQL happen on the store's
 * writer thread.
 *
 * Threads: everything about an exchange happens on its connection's thread, except
 * reqlog_proxy_stop(), which sets ex->stop and wakes the transfer under p->lock. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bodydec.h"
#include "handle.h"
#include "record.h"
#include "store.h"
#include "util.h"

#define DEFAULT_LISTEN "127.0.0.1:8081"
#define DEFAULT_TIMEOUT_MS 60000L
#define RESP_RING (256 * 1024)     /* response bytes waiting for the client */
#define UNPAUSE_FREE (64 * 1024)   /* room a paused download needs before it goes on */
#define MHD_BLOCK (64 * 1024)      /* what the content reader hands MHD at most */
#define HEAD_MAX (1024 * 1024)     /* a response header block beyond this is cut */
#define POOL_MAX 64                /* idle upstream handles kept for keep-alive */
#define STOP_GRACE_MS 2000         /* how long stop lets open exchanges answer */

/* ------------------------------------------------------------------ types */

/* An IP address and port, IPv4-mapped IPv6 folded into IPv4, for comparisons. */
typedef struct netaddr {
  int family;
  unsigned char ip[16];
  uint16_t port;
} netaddr;

/* A destination the proxy never connects to: a dashboard (--refuse) or itself. */
typedef struct guard {
  netaddr a;
  int self;
  char name[96];   /* as the user wrote it, for messages */
} guard;

typedef struct ring {
  unsigned char *buf;
  size_t cap, head, len;
} ring;

/* One upstream client: an easy handle in its own multi handle, whose connection cache
 * keeps the upstream connection open from one exchange to the next. */
typedef struct lane {
  CURLM *multi;
  CURL *easy;
} lane;

typedef enum {
  WHY_NONE = 0,
  WHY_TIMEOUT,      /* the upstream was silent for timeout_ms */
  WHY_REFUSED,      /* the destination is a dashboard or the proxy itself */
  WHY_CLIENT_GONE,  /* the client went away before the exchange finished */
  WHY_STOPPED       /* reqlog_proxy_stop() */
} why;

/* What drive() runs the transfer for. */
typedef enum { UNTIL_UPLOADED, UNTIL_HEAD, UNTIL_BODY, UNTIL_DONE } goal;

typedef struct exchange exchange;

struct reqlog_proxy {
  reqlog *r;
  struct MHD_Daemon *daemon;
  char *upstream;            /* base URL without a trailing '/' */
  char url[96];              /* http://HOST:PORT as bound */
  long timeout_ms;
  guard *guards;
  size_t nguards;
  netaddr *local;            /* this machine's addresses, for wildcard listeners */
  size_t nlocal;
  pthread_mutex_t lock;      /* what follows, and every exchange's ln */
  int stopping;
  exchange *active;          /* exchanges with a transfer, for stop */
  lane *pool[POOL_MAX];
  int npool;
};

struct exchange {
  reqlog_proxy *p;
  int refs;                  /* the MHD request's and the MHD response's */
  exchange *prev, *next;     /* in p->active while listed */
  int listed;
  lane *ln;                  /* the transfer's handle until it ends */
  atomic_int stop;           /* set by reqlog_proxy_stop() */

  char *target;              /* the request-target as the client sent it */
  int begun;                 /* 1 forwarding, 2 answered by the proxy itself */
  char *method;
  int head_only;             /* HEAD */
  int has_body;
  long long body_len;        /* Content-Length, -1 when chunked */
  struct curl_slist *headers;/* what is forwarded */
  record *rec;               /* NULL once submitted */
  bodydec reqdec, respdec;
  int reqdec_on, respdec_on;

  const char *up;            /* the upload chunk libcurl is reading from */
  size_t up_len;
  int req_eof;               /* the client's body is complete (or abandoned) */
  ring resp;                 /* response bytes waiting for the client */
  int client_done;           /* MHD sent all it will send: later bytes are only recorded */
  int recv_paused, send_paused;

  int head_ready;            /* the final response header block is complete */
  long status;
  char *head;                /* final response header block, status line first */
  size_t head_len, head_alloc;

  int done;                  /* the transfer ended; code, why and error are set */
  CURLcode code;
  why why;
  const guard *refused;
  char *error;               /* transport error text when it failed */
  int64_t started_mono, last_activity;
  char errbuf[CURL_ERROR_SIZE];
};

/* ------------------------------------------------------------------ small helpers */

static size_t ring_free(const ring *g) {
  return g->cap - g->len;
}

/* Copies up to N bytes in; returns how many fitted. */
static size_t ring_put(ring *g, const void *src, size_t n) {
  const unsigned char *s = src;
  size_t k = n < ring_free(g) ? n : ring_free(g);
  size_t tail = (g->head + g->len) % (g->cap ? g->cap : 1);
  size_t first = k < g->cap - tail ? k : g->cap - tail;
  memcpy(g->buf + tail, s, first);
  memcpy(g->buf, s + first, k - first);
  g->len += k;
  return k;
}

/* Copies up to N bytes out; returns how many. */
static size_t ring_get(ring *g, void *dst, size_t n) {
  unsigned char *d = dst;
  size_t k = n < g->len ? n : g->len;
  size_t first = k < g->cap - g->head ? k : g->cap - g->head;
  memcpy(d, g->buf + g->head, first);
  memcpy(d + first, g->buf, k - first);
  g->head = (g->head + k) % g->cap;
  g->len -= k;
  if (g->len == 0)
    g->head = 0;
  return k;
}

/* Non-zero when NAME (NLEN bytes) is in the comma-separated token list LIST. */
static int in_token_list(const char *list, const char *name, size_t nlen) {
  const char *s = list;
  while (s && *s) {
    while (*s == ' ' || *s == '\t' || *s == ',')
      s++;
    size_t n = strcspn(s, ",");
    size_t t = n;
    while (t && (s[t - 1] == ' ' || s[t - 1] == '\t'))
      t--;
    if (t == nlen && t && strncasecmp(s, name, nlen) == 0)
      return 1;
    s += n;
  }
  return 0;
}

/* Hop-by-hop headers (RFC 9110 7.6.1), plus those the message's Connection header names. */
static int hop_by_hop(const char *name, size_t nlen, const char *connection) {
  static const char *const hop[] = {"Connection", "Keep-Alive", "TE", "Trailer", "Trailers",
                                    "Transfer-Encoding", "Upgrade", NULL};
  for (int i = 0; hop[i]; i++)
    if (strlen(hop[i]) == nlen && strncasecmp(name, hop[i], nlen) == 0)
      return 1;
  if (nlen >= 6 && strncasecmp(name, "Proxy-", 6) == 0)
    return 1;
  return connection && in_token_list(connection, name, nlen);
}

/* ------------------------------------------------------------------ addresses */

static void netaddr_set(netaddr *n, const struct sockaddr *sa) {
  memset(n, 0, sizeof *n);
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
    n->family = AF_INET;
    memcpy(n->ip, &s4->sin_addr, 4);
    n->port = ntohs(s4->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
    n->port = ntohs(s6->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
      n->family = AF_INET;
      memcpy(n->ip, s6->sin6_addr.s6_addr + 12, 4);
    } else {
      n->family = AF_INET6;
      memcpy(n->ip, &s6->sin6_addr, 16);
    }
  }
}

static int ip_len(const netaddr *n) {
  return n->family == AF_INET ? 4 : 16;
}

static int ip_is_any(const netaddr *n) {
  static const unsigned char zero[16];
  return memcmp(n->ip, zero, (size_t)ip_len(n)) == 0;
}

static int ip_is_loopback(const netaddr *n) {
  static const unsigned char v6_loop[16] = {[15] = 1};
  if (n->family == AF_INET)
    return n->ip[0] == 127;
  return memcmp(n->ip, v6_loop, 16) == 0;
}

static int ip_equal(const netaddr *a, const netaddr *b) {
  return a->family == b->family && memcmp(a->ip, b->ip, (size_t)ip_len(a)) == 0;
}

/* Non-zero when a connection to N stays on this machine. */
static int ip_is_local(const reqlog_proxy *p, const netaddr *n) {
  if (ip_is_any(n) || ip_is_loopback(n))
    return 1;
  for (size_t i = 0; i < p->nlocal; i++)
    if (ip_equal(&p->local[i], n))
      return 1;
  return 0;
}

/* Non-zero when connecting to DEST reaches a socket listening on L. */
static int reaches(const reqlog_proxy *p, const netaddr *dest, const netaddr *l) {
  if (dest->port != l->port)
    return 0;
  if (ip_equal(dest, l))
    return 1;
  if (ip_is_any(l))
    return ip_is_local(p, dest);
  return ip_is_any(dest) && ip_is_local(p, l);
}

static const guard *refused_destination(const reqlog_proxy *p, const struct sockaddr *sa) {
  netaddr dest;
  netaddr_set(&dest, sa);
  if (!dest.family)
    return NULL;
  for (size_t i = 0; i < p->nguards; i++)
    if (reaches(p, &dest, &p->guards[i].a))
      return &p->guards[i];
  return NULL;
}

/* Splits "HOST:PORT" or "[V6]:PORT". Returns 0, or -1 when TEXT is not of that shape. */
static int split_hostport(const char *text, char *host, size_t hostlen, char *port,
                          size_t portlen) {
  const char *colon = strrchr(text, ':');
  if (!colon || colon == text || !colon[1] || strlen(colon + 1) >= portlen)
    return -1;
  const char *h = text;
  size_t hl = (size_t)(colon - text);
  if (h[0] == '[') {
    if (hl < 3 || h[hl - 1] != ']')
      return -1;
    h++;
    hl -= 2;
  }
  if (hl >= hostlen)
    return -1;
  for (const char *c = colon + 1; *c; c++)
    if (*c < '0' || *c > '9')
      return -1;
  if (atol(colon + 1) > 65535)
    return -1;
  memcpy(host, h, hl);
  host[hl] = '\0';
  snprintf(port, portlen, "%s", colon + 1);
  return 0;
}

static reqlog_err resolve(const char *what, const char *text, int passive,
                          struct addrinfo **out, char **cause) {
  char host[256], port[8];
  if (split_hostport(text, host, sizeof host, port, sizeof port) != 0)
    return util_fail(cause, REQLOG_ERR_ARG, "%s: '%s' is not HOST:PORT", what, text);
  struct addrinfo hints = {0};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  int rc = getaddrinfo(host, port, &hints, out);
  if (rc != 0)
    return util_fail(cause, REQLOG_ERR_ARG, "%s: cannot resolve '%s': %s", what, host,
                     gai_strerror(rc));
  return REQLOG_OK;
}

static reqlog_err add_guard(reqlog_proxy *p, const struct sockaddr *sa, int self,
                            const char *name) {
  guard *g = realloc(p->guards, (p->nguards + 1) * sizeof *g);
  if (!g)
    return REQLOG_ERR_NOMEM;
  p->guards = g;
  g += p->nguards++;
  memset(g, 0, sizeof *g);
  netaddr_set(&g->a, sa);
  g->self = self;
  snprintf(g->name, sizeof g->name, "%s", name);
  return REQLOG_OK;
}

static reqlog_err load_guards(reqlog_proxy *p, const char *const *refuse, char **cause) {
  for (size_t i = 0; refuse && refuse[i]; i++) {
    struct addrinfo *ai = NULL;
    reqlog_err err = resolve("refuse", refuse[i], 0, &ai, cause);
    if (err != REQLOG_OK)
      return err;
    for (struct addrinfo *a = ai; a && err == REQLOG_OK; a = a->ai_next)
      err = add_guard(p, a->ai_addr, 0, refuse[i]);
    freeaddrinfo(ai);
    if (err != REQLOG_OK)
      return util_fail(cause, err, "out of memory");
  }
  return REQLOG_OK;
}

static void load_local_addresses(reqlog_proxy *p) {
  struct ifaddrs *ifa = NULL;
  if (getifaddrs(&ifa) != 0)
    return;
  for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
    if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
      continue;
    netaddr *l = realloc(p->local, (p->nlocal + 1) * sizeof *l);
    if (!l)
      break;
    p->local = l;
    netaddr_set(&p->local[p->nlocal++], i->ifa_addr);
  }
  freeifaddrs(ifa);
}

/* Binds and listens on LISTEN; fills p->url and the guard against forwarding to itself.
 * Returns the socket, or -1 with *err and *cause set. */
static int open_listener(reqlog_proxy *p, const char *listen_on, int allow_remote,
                         reqlog_err *err, char **cause) {
  struct addrinfo *ai = NULL;
  *err = resolve("listen", listen_on, 1, &ai, cause);
  if (*err != REQLOG_OK)
    return -1;
  netaddr want;
  netaddr_set(&want, ai->ai_addr);
  if (!allow_remote && !ip_is_loopback(&want)) {
    freeaddrinfo(ai);
    *err = util_fail(cause, REQLOG_ERR_ARG,
                     "listen: %s is not a loopback address; anyone who can reach it could "
                     "send requests through the proxy (allow it explicitly with allow_remote)",
                     listen_on);
    return -1;
  }
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 511) != 0) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    freeaddrinfo(ai);
    *err = util_fail(cause, REQLOG_ERR_IO, "cannot listen on %s: %s", listen_on, strerror(e));
    return -1;
  }
  freeaddrinfo(ai);
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  char ip[INET6_ADDRSTRLEN] = "";
  netaddr bound;
  if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
    close(fd);
    *err = util_fail(cause, REQLOG_ERR_IO, "cannot read the bound address: %s", strerror(errno));
    return -1;
  }
  netaddr_set(&bound, (struct sockaddr *)&ss);
  inet_ntop(bound.family, bound.ip, ip, sizeof ip);
  if (bound.family == AF_INET6)
    snprintf(p->url, sizeof p->url, "http://[%s]:%u", ip, (unsigned)bound.port);
  else
    snprintf(p->url, sizeof p->url, "http://%s:%u", ip, (unsigned)bound.port);
  *err = add_guard(p, (struct sockaddr *)&ss, 1, p->url + 7);
  if (*err != REQLOG_OK) {
    close(fd);
    util_fail(cause, *err, "out of memory");
    return -1;
  }
  return fd;
}

/* Checks UPSTREAM (http or https, a host, no query or fragment) and keeps it without a
 * trailing '/'. */
static reqlog_err set_upstream(reqlog_proxy *p, const char *upstream, char **cause) {
  CURLU *u = curl_url();
  char *scheme = NULL, *host = NULL, *query = NULL, *frag = NULL;
  reqlog_err err = REQLOG_OK;
  if (!u)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  if (curl_url_set(u, CURLUPART_URL, upstream, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
    err = util_fail(cause, REQLOG_ERR_ARG, "upstream: '%s' is not a URL like "
                    "https://api.example.com/v1", upstream);
  } else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
    err = util_fail(cause, REQLOG_ERR_ARG, "upstream: '%s' is not an http or https URL",
                    upstream);
  } else if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
             curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_OK) {
    err = util_fail(cause, REQLOG_ERR_ARG, "upstream: '%s' has a query or fragment; give the "
                    "base URL that paths are put after", upstream);
  }
  curl_free(scheme);
  curl_free(host);
  curl_free(query);
  curl_free(frag);
  curl_url_cleanup(u);
  if (err != REQLOG_OK)
    return err;
  size_t n = strlen(upstream);
  while (n && upstream[n - 1] == '/')
    n--;
  p->upstream = util_strndup(upstream, n);
  return p->upstream ? REQLOG_OK : util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
}

/* ------------------------------------------------------------------ lanes */

static void lane_free(lane *ln) {
  if (!ln)
    return;
  curl_easy_cleanup(ln->easy);
  curl_multi_cleanup(ln->multi);
  free(ln);
}

static lane *lane_new(void) {
  lane *ln = calloc(1, sizeof *ln);
  if (!ln)
    return NULL;
  ln->multi = curl_multi_init();
  ln->easy = curl_easy_init();
  if (!ln->multi || !ln->easy) {
    lane_free(ln);
    return NULL;
  }
  return ln;
}

/* Gives EX a lane (an idle one when there is one) and lists it for stop. Returns 0, or
 * -1 when the proxy is stopping or memory ran out (*stopping tells which). */
static int lane_take(exchange *ex, int *stopping) {
  reqlog_proxy *p = ex->p;
  pthread_mutex_lock(&p->lock);
  *stopping = p->stopping;
  lane *ln = !p->stopping && p->npool ? p->pool[--p->npool] : NULL;
  pthread_mutex_unlock(&p->lock);
  if (*stopping)
    return -1;
  if (!ln)
    ln = lane_new();
  if (!ln)
    return -1;
  pthread_mutex_lock(&p->lock);
  *stopping = p->stopping;
  if (!p->stopping) {
    ex->ln = ln;
    ex->listed = 1;
    ex->next = p->active;
    if (p->active)
      p->active->prev = ex;
    p->active = ex;
    ln = NULL;
  }
  pthread_mutex_unlock(&p->lock);
  lane_free(ln);
  return ex->ln ? 0 : -1;
}

/* Takes EX's lane back: kept for the next exchange when its transfer ended cleanly; a
 * handle in an unknown state (aborted, paused) is dropped with its connection. */
static void lane_release(exchange *ex, int clean) {
  reqlog_proxy *p = ex->p;
  pthread_mutex_lock(&p->lock);
  lane *ln = ex->ln;
  ex->ln = NULL;
  if (clean && ln && p->npool < POOL_MAX && !p->stopping) {
    p->pool[p->npool++] = ln;
    ln = NULL;
  }
  pthread_mutex_unlock(&p->lock);
  lane_free(ln);
}

/* ------------------------------------------------------------------ exchange lifetime */

static exchange *exchange_new(reqlog_proxy *p, const char *target) {
  exchange *ex = calloc(1, sizeof *ex);
  if (!ex)
    return NULL;
  ex->target = strdup(target);
  if (!ex->target) {
    free(ex);
    return NULL;
  }
  ex->p = p;
  ex->refs = 1;
  ex->body_len = -1;
  atomic_init(&ex->stop, 0);
  return ex;
}

static void exchange_unref(exchange *ex) {
  if (--ex->refs > 0)
    return;
  reqlog_proxy *p = ex->p;
  if (ex->ln) { /* never started or left running: cannot happen after on_completed */
    curl_multi_remove_handle(ex->ln->multi, ex->ln->easy);
    lane_release(ex, 0);
  }
  if (ex->listed) {
    pthread_mutex_lock(&p->lock);
    if (ex->prev)
      ex->prev->next = ex->next;
    else
      p->active = ex->next;
    if (ex->next)
      ex->next->prev = ex->prev;
    pthread_mutex_unlock(&p->lock);
  }
  if (ex->reqdec_on)
    bodydec_end(&ex->reqdec);
  if (ex->respdec_on)
    bodydec_end(&ex->respdec);
  record_free(ex->rec);
  curl_slist_free_all(ex->headers);
  free(ex->resp.buf);
  free(ex->head);
  free(ex->error);
  free(ex->method);
  free(ex->target);
  free(ex);
}

/* ------------------------------------------------------------------ libcurl callbacks */

static size_t on_header(char *data, size_t size, size_t n, void *arg) {
  exchange *ex = arg;
  size_t len = size * n;
  ex->last_activity = util_mono_us();
  if (ex->head_ready) /* trailers: the head is already on its way to the client */
    return len;
  if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
    /* a new response head: an interim 1xx is replaced by what follows */
    ex->head_len = 0;
    const char *sp = memchr(data, ' ', len);
    ex->status = sp ? strtol(sp + 1, NULL, 10) : 0;
  }
  if (ex->head_len + len + 1 <= HEAD_MAX) {
    if (ex->head_len + len + 1 > ex->head_alloc) {
      size_t a = ex->head_alloc ? ex->head_alloc : 2048;
      while (a < ex->head_len + len + 1)
        a *= 2;
      char *h = realloc(ex->head, a);
      if (h) {
        ex->head = h;
        ex->head_alloc = a;
      }
    }
    if (ex->head_len + len + 1 <= ex->head_alloc) {
      memcpy(ex->head + ex->head_len, data, len);
      ex->head_len += len;
      ex->head[ex->head_len] = '\0';
    }
  }
  int blank = (len == 2 && data[0] == '\r') || (len == 1 && data[0] == '\n');
  if (blank && ex->head && ex->status >= 200)
    ex->head_ready = 1;
  return len;
}

/* The response buffer: as large as a small body's Content-Length, else RESP_RING. */
static int resp_ring_init(exchange *ex) {
  char cl[32], te[64];
  size_t cap = RESP_RING;
  util_header_value(ex->head, "Content-Length", cl, sizeof cl);
  util_header_value(ex->head, "Transfer-Encoding", te, sizeof te);
  if (!te[0] && cl[0] >= '0' && cl[0] <= '9') {
    unsigned long long n = strtoull(cl, NULL, 10);
    if (n < cap)
      cap = n ? (size_t)n : 1;
  }
  ex->resp.buf = malloc(cap);
  ex->resp.cap = ex->resp.buf ? cap : 0;
  return ex->resp.buf ? 0 : -1;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg) {
  exchange *ex = arg;
  size_t len = size * n;
  ex->last_activity = util_mono_us();
  if (!ex->respdec_on) {
    if (resp_ring_init(ex) != 0)
      return 0; /* out of memory: libcurl stops with a write error */
    char ce[128];
    util_header_value(ex->head, "Content-Encoding", ce, sizeof ce);
    /* libcurl removed any chunked framing; a compressed body is recorded decoded */
    bodydec_init(&ex->respdec, &ex->rec->resp_body, 0, ce[0] ? ce : NULL);
    ex->respdec_on = 1;
  }
  if (!ex->client_done) {
    if (ring_free(&ex->resp) < len) {
      ex->recv_paused = 1; /* libcurl keeps these bytes and offers them again */
      return CURL_WRITEFUNC_PAUSE;
    }
    ring_put(&ex->resp, data, len);
  }
  bodydec_feed(&ex->respdec, data, len);
  return len;
}

static size_t on_upload(char *buf, size_t size, size_t n, void *arg) {
  exchange *ex = arg;
  size_t max = size * n;
  if (!ex->up_len) {
    if (ex->req_eof)
      return 0;
    ex->send_paused = 1;
    return CURL_READFUNC_PAUSE;
  }
  size_t k = ex->up_len < max ? ex->up_len : max;
  memcpy(buf, ex->up, k);
  ex->up += k;
  ex->up_len -= k;
  ex->last_activity = util_mono_us();
  return k;
}

static curl_socket_t on_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a) {
  exchange *ex = arg;
  const guard *g = refused_destination(ex->p, &a->addr);
  if (g) {
    ex->refused = g;
    ex->why = WHY_REFUSED;
    return CURL_SOCKET_BAD;
  }
  return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static CURLcode setup_easy(exchange *ex, CURL *e) {
  CURLcode rc = CURLE_OK;
  curl_easy_reset(e);
#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val); } while (0)
  SET(CURLOPT_URL, ex->rec->url);
  SET(CURLOPT_PATH_AS_IS, 1L);
  SET(CURLOPT_NOSIGNAL, 1L);
  SET(CURLOPT_PROTOCOLS_STR, "http,https");
  SET(CURLOPT_HTTPHEADER, ex->headers);
  SET(CURLOPT_HEADERFUNCTION, on_header);
  SET(CURLOPT_HEADERDATA, ex);
  SET(CURLOPT_WRITEFUNCTION, on_body);
  SET(CURLOPT_WRITEDATA, ex);
  SET(CURLOPT_HTTP_CONTENT_DECODING, 0L); /* compressed bodies go to the client as they came */
  SET(CURLOPT_CONNECTTIMEOUT_MS, ex->p->timeout_ms);
  SET(CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
  SET(CURLOPT_OPENSOCKETDATA, ex);
  SET(CURLOPT_ERRORBUFFER, ex->errbuf);
  SET(CURLOPT_TCP_KEEPALIVE, 1L);
  if (ex->head_only) {
    SET(CURLOPT_NOBODY, 1L);
  } else if (ex->has_body) {
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)ex->body_len); /* -1: chunked */
    SET(CURLOPT_READFUNCTION, on_upload);
    SET(CURLOPT_READDATA, ex);
    if (strcmp(ex->method, "POST") != 0)
      SET(CURLOPT_CUSTOMREQUEST, ex->method);
  } else if (strcmp(ex->method, "GET") == 0) {
    SET(CURLOPT_HTTPGET, 1L);
  } else {
    SET(CURLOPT_CUSTOMREQUEST, ex->method);
  }
#undef SET
  return rc;
}

/* ------------------------------------------------------------------ the end of a transfer */

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
  long t = ex->p->timeout_ms;
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

/* Fills the record from what libcurl knows about the transfer that just ended. */
static void fill_record(exchange *ex, CURL *h, CURLcode code) {
  record *r = ex->rec;
  r->status = ex->head_ready ? ex->status : 0;
  long ver = 0;
  if (r->status && curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &ver) == CURLE_OK)
    r->http_version = util_strdup(record_version_text(ver));
  char *s = NULL;
  if (curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &s) == CURLE_OK && s && *s)
    r->remote_ip = strdup(s);
  s = NULL;
  if (r->status && curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &s) == CURLE_OK && s)
    r->content_type = strdup(s);
  r->error = util_strdup(ex->error);
  if (ex->head_ready && ex->head_len) {
    r->resp_head = util_strndup(ex->head, ex->head_len);
    r->resp_head_len = r->resp_head ? ex->head_len : 0;
  }
  int64_t to = info_time(h, CURLINFO_TOTAL_TIME_T);
  if (to <= 0 || code != CURLE_OK) /* a transfer ended by the proxy has no total of its own */
    to = util_mono_us() - ex->started_mono;
  record_set_phases(r, info_time(h, CURLINFO_NAMELOOKUP_TIME_T),
                    info_time(h, CURLINFO_CONNECT_TIME_T),
                    info_time(h, CURLINFO_APPCONNECT_TIME_T),
                    info_time(h, CURLINFO_STARTTRANSFER_TIME_T), to);
}

/* Submits the record once the transfer is over and the client's body is complete. */
static void maybe_submit(exchange *ex) {
  if (!ex->done || !ex->req_eof || ex->reqdec_on || !ex->rec)
    return;
  if (ex->respdec_on) {
    bodydec_end(&ex->respdec);
    ex->respdec_on = 0;
  }
  capbuf_finish(&ex->rec->resp_body);
  record *rec = ex->rec;
  ex->rec = NULL;
  store *st = ex->p->r->st;
  if (st) {
    uint64_t seq = 0;
    int64_t row_id = 0;
    store_submit(st, rec, &seq, &row_id); /* failures reach the handle's error handler */
  } else {
    record_free(rec);
  }
}

/* Ends the transfer with CODE (W: why, when the proxy ended it) and records it. */
static void finish(exchange *ex, CURLcode code, why w) {
  if (ex->done || !ex->ln)
    return;
  if (ex->why == WHY_NONE)
    ex->why = w;
  ex->code = code;
  ex->error = error_text(ex, code);
  fill_record(ex, ex->ln->easy, code);
  curl_multi_remove_handle(ex->ln->multi, ex->ln->easy);
  lane_release(ex, code == CURLE_OK && ex->why == WHY_NONE);
  ex->done = 1;
  maybe_submit(ex);
}

static int goal_met(const exchange *ex, goal g) {
  switch (g) {
  case UNTIL_UPLOADED: return ex->up_len == 0;
  case UNTIL_HEAD: return ex->head_ready;
  case UNTIL_BODY: return ex->resp.len > 0;
  case UNTIL_DONE: return 0;
  }
  return 1;
}

/* Runs the transfer on this thread until goal G is met or the transfer ends (done,
 * failed, silent for timeout_ms, stopped). The direction G needs is unpaused; the other
 * stays as it is. Time outside drive() is the client's, so the silence clock restarts
 * on entry. */
static void drive(exchange *ex, goal g) {
  int64_t timeout_us = (int64_t)ex->p->timeout_ms * 1000;
  ex->last_activity = util_mono_us();
  while (!ex->done && !goal_met(ex, g)) {
    CURL *e = ex->ln->easy;
    CURLM *m = ex->ln->multi;
    if (atomic_load(&ex->stop)) {
      finish(ex, CURLE_ABORTED_BY_CALLBACK, WHY_STOPPED);
      return;
    }
    size_t room = ex->resp.cap < UNPAUSE_FREE ? ex->resp.cap : UNPAUSE_FREE;
    int recv = ex->recv_paused && !ex->client_done && ring_free(&ex->resp) < room;
    int send = ex->send_paused && !ex->up_len && !ex->req_eof;
    if (recv != ex->recv_paused || send != ex->send_paused) {
      ex->recv_paused = recv;
      ex->send_paused = send;
      /* may hand held bytes to on_body at once, which may pause again */
      curl_easy_pause(e, (recv ? CURLPAUSE_RECV : 0) | (send ? CURLPAUSE_SEND : 0));
    }
    int running = 0, left_msgs = 0;
    if (curl_multi_perform(m, &running) != CURLM_OK) {
      finish(ex, CURLE_OUT_OF_MEMORY, WHY_NONE);
      return;
    }
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(m, &left_msgs)) != NULL) {
      if (msg->msg == CURLMSG_DONE) {
        finish(ex, msg->data.result, WHY_NONE);
        return;
      }
    }
    if (goal_met(ex, g))
      return;
    int64_t left = ex->last_activity + timeout_us - util_mono_us();
    if (left <= 0) {
      finish(ex, CURLE_OPERATION_TIMEDOUT, WHY_TIMEOUT);
      return;
    }
    int wait_ms = left / 1000 + 1 < 1000 ? (int)(left / 1000 + 1) : 1000;
    curl_multi_poll(m, NULL, 0, wait_ms, NULL);
  }
}

/* ------------------------------------------------------------------ client side */

/* Queues {"message": MSG} with STATUS. */
static enum MHD_Result reply_json(struct MHD_Connection *conn, unsigned status, const char *msg) {
  cJSON *o = cJSON_CreateObject();
  char *text = NULL;
  if (o && cJSON_AddStringToObject(o, "message", msg))
    text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  if (!text)
    return MHD_NO;
  struct MHD_Response *resp =
    MHD_create_response_from_buffer_with_free_callback(strlen(text), text, cJSON_free);
  if (!resp) {
    cJSON_free(text);
    return MHD_NO;
  }
  MHD_add_response_header(resp, "Content-Type", "application/json");
  enum MHD_Result ret = MHD_queue_response(conn, status, resp);
  MHD_destroy_response(resp);
  return ret;
}

typedef struct head_walk {
  exchange *ex;
  const char *connection;   /* the request's Connection header */
  char *block;              /* the request head as the client sent it */
  size_t len, alloc;
  int have_ctype, have_accept, oom;
  char content_encoding[128];
} head_walk;

static void walk_append(head_walk *w, const char *a, const char *b, const char *c) {
  size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
  if (w->len + la + lb + lc + 1 > w->alloc) {
    size_t n = w->alloc ? w->alloc : 1024;
    while (n < w->len + la + lb + lc + 1)
      n *= 2;
    char *q = realloc(w->block, n);
    if (!q) {
      w->oom = 1;
      return;
    }
    w->block = q;
    w->alloc = n;
  }
  memcpy(w->block + w->len, a, la);
  memcpy(w->block + w->len + la, b, lb);
  memcpy(w->block + w->len + la + lb, c, lc);
  w->len += la + lb + lc;
  w->block[w->len] = '\0';
}

static enum MHD_Result walk_header(void *cls, enum MHD_ValueKind kind, const char *name,
                                   const char *value) {
  head_walk *w = cls;
  if (!value)
    value = "";
  walk_append(w, name, ": ", value);
  walk_append(w, "\r\n", "", "");
  if (strcasecmp(name, "Content-Type") == 0)
    w->have_ctype = 1;
  if (strcasecmp(name, "Accept") == 0)
    w->have_accept = 1;
  if (strcasecmp(name, "Content-Encoding") == 0)
    snprintf(w->content_encoding, sizeof w->content_encoding, "%s", value);
  /* libcurl writes Host, Content-Length and the framing for the upstream itself; MHD has
   * already answered any Expect: 100-continue */
  if (hop_by_hop(name, strlen(name), w->connection) || strcasecmp(name, "Host") == 0 ||
      strcasecmp(name, "Content-Length") == 0 || strcasecmp(name, "Expect") == 0)
    return MHD_YES;
  char *line = NULL;
  /* "Name;" is how libcurl is told to send a header with an empty value */
  if ((*value ? asprintf(&line, "%s: %s", name, value) : asprintf(&line, "%s;", name)) < 0) {
    w->oom = 1;
    return MHD_YES;
  }
  struct curl_slist *l = curl_slist_append(w->ex->headers, line);
  free(line);
  if (l)
    w->ex->headers = l;
  else
    w->oom = 1;
  return MHD_YES;
}

/* Header lines that stop libcurl adding defaults of its own that the client did not send. */
static int suppress_defaults(exchange *ex, const head_walk *w) {
  const char *lines[] = {"Expect:", w->have_accept ? NULL : "Accept:",
                         (ex->has_body && !w->have_ctype) ? "Content-Type:" : NULL};
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    if (!lines[i])
      continue;
    struct curl_slist *l = curl_slist_append(ex->headers, lines[i]);
    if (!l)
      return -1;
    ex->headers = l;
  }
  return 0;
}

/* Builds the record and the forwarded request from the request head and starts the
 * transfer. Returns 0, or the status of the proxy's own answer with *msg. */
static unsigned begin(reqlog_proxy *p, exchange *ex, struct MHD_Connection *conn,
                      const char *method, const char *version, const char **msg) {
  *msg = "out of memory";
  if (ex->target[0] != '/') {
    *msg = "the proxy forwards paths such as /participants; absolute URLs and other "
           "request targets are not forwarded";
    return MHD_HTTP_BAD_REQUEST;
  }
  ex->method = strdup(method);
  if (!ex->method)
    return MHD_HTTP_INTERNAL_SERVER_ERROR;
  ex->head_only = strcmp(method, "HEAD") == 0;
  const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
  const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding");
  if (te && *te) {
    ex->has_body = 1;
    ex->body_len = -1;
  } else if (cl) {
    ex->has_body = 1;
    ex->body_len = strtoll(cl, NULL, 10);
  }

  pthread_rwlock_rdlock(&p->r->cfg);
  size_t cap = p->r->body_cap;
  pthread_rwlock_unlock(&p->r->cfg);
  record *rec = record_new(cap);
  if (!rec) {
    handle_report(p->r, REQLOG_ERR_NOMEM, "recording failed: out of memory");
    return MHD_HTTP_INTERNAL_SERVER_ERROR;
  }
  ex->rec = rec;
  snprintf(rec->source, sizeof rec->source, "proxy");
  rec->started_us = util_now_us();
  ex->started_mono = util_mono_us();
  rec->method = strdup(method);
  if (asprintf(&rec->url, "%s%s", p->upstream, ex->target) < 0)
    rec->url = NULL;

  head_walk w = {0};
  w.ex = ex;
  w.connection = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Connection");
  walk_append(&w, method, " ", ex->target);
  walk_append(&w, " ", version && *version ? version : "HTTP/1.1", "\r\n");
  MHD_get_connection_values(conn, MHD_HEADER_KIND, walk_header, &w);
  walk_append(&w, "\r\n", "", "");
  rec->req_head = w.block;
  rec->req_head_len = w.block ? w.len : 0;
  if (w.oom || !rec->method || !rec->url || suppress_defaults(ex, &w) != 0)
    return MHD_HTTP_INTERNAL_SERVER_ERROR;
  bodydec_init(&ex->reqdec, &rec->req_body, 0, w.content_encoding[0] ? w.content_encoding : NULL);
  ex->reqdec_on = 1;

  int stopping = 0;
  if (lane_take(ex, &stopping) != 0) {
    if (stopping)
      *msg = "the proxy is stopping";
    return stopping ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_INTERNAL_SERVER_ERROR;
  }
  if (setup_easy(ex, ex->ln->easy) != CURLE_OK ||
      curl_multi_add_handle(ex->ln->multi, ex->ln->easy) != CURLM_OK) {
    lane_release(ex, 0);
    return MHD_HTTP_INTERNAL_SERVER_ERROR;
  }
  return 0;
}

/* A chunk of the client's body: recorded, and sent on until libcurl has taken it all
 * (or the transfer ended, and the rest is only recorded). */
static void upload(exchange *ex, const char *data, size_t len) {
  bodydec_feed(&ex->reqdec, data, len);
  if (ex->done)
    return;
  ex->up = data;
  ex->up_len = len;
  drive(ex, UNTIL_UPLOADED);
  ex->up = NULL;
  ex->up_len = 0;
}

/* The client's body is complete, or abandoned: the record's copy is final. */
static void end_upload(exchange *ex) {
  if (ex->reqdec_on) {
    bodydec_end(&ex->reqdec);
    ex->reqdec_on = 0;
  }
  if (ex->rec)
    capbuf_finish(&ex->rec->req_body);
  ex->req_eof = 1;
  maybe_submit(ex);
}

static ssize_t read_body(void *cls, uint64_t pos, char *buf, size_t max) {
  exchange *ex = cls;
  if (!ex->resp.len && !ex->done)
    drive(ex, UNTIL_BODY);
  if (ex->resp.len)
    return (ssize_t)ring_get(&ex->resp, buf, max);
  if (ex->done && ex->code == CURLE_OK && ex->why == WHY_NONE)
    return MHD_CONTENT_READER_END_OF_STREAM;
  return MHD_CONTENT_READER_END_WITH_ERROR; /* the client sees a cut body, as it was */
}

static void response_done(void *cls) {
  exchange_unref(cls);
}

/* The Content-Length of the upstream's answer, or MHD_SIZE_UNKNOWN. */
static uint64_t body_size(const exchange *ex) {
  char te[64], cl[32];
  util_header_value(ex->head, "Transfer-Encoding", te, sizeof te);
  util_header_value(ex->head, "Content-Length", cl, sizeof cl);
  if (ex->status == 204 || ex->status == 304)
    return 0;
  if (te[0] || cl[0] < '0' || cl[0] > '9')
    return MHD_SIZE_UNKNOWN;
  return strtoull(cl, NULL, 10);
}

/* Non-zero when the whole body is already in the buffer, in one piece (the usual case
 * for a small JSON answer, which then goes out with its head in one write). */
static int whole_body(const exchange *ex) {
  if (ex->head_only)
    return 0;
  uint64_t size = body_size(ex);
  size_t have = ex->resp.len;
  if (ex->done && ex->code == CURLE_OK && ex->why == WHY_NONE)
    return ex->resp.head == 0 && (size == MHD_SIZE_UNKNOWN || size == have);
  return size != MHD_SIZE_UNKNOWN && size == have && ex->resp.head == 0;
}

/* The upstream's answer as an MHD response: the body in hand when WHOLE, else one that
 * streams from the transfer. */
static struct MHD_Response *upstream_response(exchange *ex, int whole) {
  char connection[512];
  util_header_value(ex->head, "Connection", connection, sizeof connection);
  struct MHD_Response *resp;
  if (whole) {
    resp = MHD_create_response_from_buffer_with_free_callback(ex->resp.len, ex->resp.buf, free);
    if (resp)
      ex->resp.buf = NULL; /* MHD's now; bytes still to come are only recorded */
    ex->resp.len = ex->resp.cap = 0;
    ex->client_done = 1;
  } else {
    uint64_t size = body_size(ex);
    size_t block = size != MHD_SIZE_UNKNOWN && size < MHD_BLOCK ? (size_t)size + 1 : MHD_BLOCK;
    resp = MHD_create_response_from_callback(size, block, read_body, ex, response_done);
    if (resp)
      ex->refs++; /* the response's, dropped in response_done */
  }
  if (!resp)
    return NULL;
  const char *line = strchr(ex->head, '\n');
  while (line && *++line) {
    const char *end = strchr(line, '\n');
    size_t ll = end ? (size_t)(end - line) : strlen(line);
    while (ll && (line[ll - 1] == '\r' || line[ll - 1] == ' ' || line[ll - 1] == '\t'))
      ll--;
    const char *colon = memchr(line, ':', ll);
    if (colon && colon > line) {
      size_t nl = (size_t)(colon - line);
      const char *v = colon + 1;
      while (v < line + ll && (*v == ' ' || *v == '\t'))
        v++;
      /* MHD writes Content-Length and the framing for the client itself */
      if (!hop_by_hop(line, nl, connection) &&
          !(nl == 14 && strncasecmp(line, "Content-Length", 14) == 0)) {
        char *name = util_strndup(line, nl);
        char *value = util_strndup(v, (size_t)(line + ll - v));
        if (name && value)
          MHD_add_response_header(resp, name, value); /* MHD refuses unsafe values */
        free(name);
        free(value);
      }
    }
    line = end;
  }
  return resp;
}

/* The request is complete: waits for the upstream's head and answers with it, or with
 * a JSON error when none came. */
static enum MHD_Result respond(exchange *ex, struct MHD_Connection *conn) {
  end_upload(ex);
  drive(ex, UNTIL_HEAD);
  if (ex->head_ready) {
    struct MHD_Response *resp = upstream_response(ex, whole_body(ex));
    if (!resp)
      return reply_json(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)ex->status, resp);
    MHD_destroy_response(resp);
    return ret;
  }
  unsigned status = MHD_HTTP_BAD_GATEWAY;
  const char *prefix = "Bad Gateway";
  if (ex->why == WHY_REFUSED) {
    status = MHD_HTTP_LOOP_DETECTED;
    prefix = "Loop Detected";
  } else if (ex->why == WHY_TIMEOUT || ex->code == CURLE_OPERATION_TIMEDOUT) {
    status = MHD_HTTP_GATEWAY_TIMEOUT;
    prefix = "Gateway Timeout";
  } else if (ex->why == WHY_STOPPED) {
    status = MHD_HTTP_SERVICE_UNAVAILABLE;
    prefix = "Service Unavailable";
  }
  char *msg = NULL;
  if (asprintf(&msg, "%s: %s", prefix, ex->error ? ex->error : "no answer") < 0)
    msg = NULL;
  enum MHD_Result ret = reply_json(conn, status, msg ? msg : prefix);
  free(msg);
  return ret;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
  return exchange_new(cls, uri); /* NULL on out of memory: answered with a 500 */
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
  exchange *ex = *con_cls;
  if (!ex)
    return reply_json(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
  if (!ex->begun) { /* the head has arrived, the body (if any) has not */
    const char *msg = NULL;
    unsigned status = begin(cls, ex, conn, method, version, &msg);
    ex->begun = status ? 2 : 1;
    return status ? reply_json(conn, status, msg) : MHD_YES;
  }
  if (ex->begun == 2) { /* already answered: a body still arriving is dropped */
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (*upload_data_size) {
    upload(ex, upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  return respond(ex, conn);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  exchange *ex = *con_cls;
  if (!ex)
    return;
  *con_cls = NULL;
  if (ex->begun == 1) {
    int abandoned = !ex->req_eof || toe != MHD_REQUEST_TERMINATED_COMPLETED_OK;
    if (!ex->req_eof)
      end_upload(ex);
    if (!ex->done && abandoned) {
      finish(ex, CURLE_ABORTED_BY_CALLBACK,
             atomic_load(&ex->stop) ? WHY_STOPPED : WHY_CLIENT_GONE);
    } else if (!ex->done) {
      /* MHD sent the whole (known-length) body; let libcurl see the transfer's end */
      ex->client_done = 1;
      drive(ex, UNTIL_DONE);
    }
  }
  exchange_unref(ex);
}

/* ------------------------------------------------------------------ public */

static void proxy_free(reqlog_proxy *p) {
  for (int i = 0; i < p->npool; i++)
    lane_free(p->pool[i]);
  free(p->guards);
  free(p->local);
  free(p->upstream);
  pthread_mutex_destroy(&p->lock);
  free(p);
}

reqlog_err reqlog_proxy_start(reqlog *r, const reqlog_proxy_opts *opts, reqlog_proxy **out,
                              char **cause) {
  if (out)
    *out = NULL;
  if (!r || !opts || !out || !opts->upstream || opts->timeout_ms < 0)
    return util_fail(cause, REQLOG_ERR_ARG, "reqlog_proxy_start: a handle, options with an "
                     "upstream, a timeout of at least 0 and an out pointer are needed");
  reqlog_proxy *p = calloc(1, sizeof *p);
  if (!p)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  pthread_mutex_init(&p->lock, NULL);
  p->r = r;
  p->timeout_ms = opts->timeout_ms ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
  reqlog_err err = set_upstream(p, opts->upstream, cause);
  if (err == REQLOG_OK)
    err = load_guards(p, opts->refuse, cause);
  if (err != REQLOG_OK) {
    proxy_free(p);
    return err;
  }
  load_local_addresses(p);
  const char *listen_on = opts->listen ? opts->listen : DEFAULT_LISTEN;
  int fd = open_listener(p, listen_on, opts->allow_remote, &err, cause);
  if (fd < 0) {
    proxy_free(p);
    return err;
  }
  /* A thread per connection, so a slow upstream never holds up another client, and
   * poll() rather than select(), which stops at FD_SETSIZE descriptors. */
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                   MHD_USE_POLL | MHD_USE_ITC; /* ITC: quiesce on stop */
  if (strchr(p->url + 7, '['))
    flags |= MHD_USE_IPv6;
  p->daemon = MHD_start_daemon(
    flags, 0, NULL, NULL, on_request, p,
    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
    MHD_OPTION_URI_LOG_CALLBACK, on_uri, p,
    MHD_OPTION_NOTIFY_COMPLETED, on_completed, p,
    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1024,
    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)512,
    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
    MHD_OPTION_END);
  if (!p->daemon) {
    close(fd);
    proxy_free(p);
    return util_fail(cause, REQLOG_ERR_IO, "cannot start the HTTP server on %s", listen_on);
  }
  *out = p;
  return REQLOG_OK;
}

const char *reqlog_proxy_url(const reqlog_proxy *p) {
  return p ? p->url : NULL;
}

void reqlog_proxy_stop(reqlog_proxy *p) {
  if (!p)
    return;
  /* Transfers under way are ended (their rows say so) and requests from here on get a
   * 503; their clients get a moment to be answered before MHD closes every connection
   * and joins the threads, which submit the records. */
  pthread_mutex_lock(&p->lock);
  p->stopping = 1;
  for (exchange *ex = p->active; ex; ex = ex->next) {
    atomic_store(&ex->stop, 1);
    if (ex->ln)
      curl_multi_wakeup(ex->ln->multi);
  }
  pthread_mutex_unlock(&p->lock);
  MHD_socket listener = MHD_quiesce_daemon(p->daemon);
  for (int i = 0; i < STOP_GRACE_MS / 10; i++) {
    pthread_mutex_lock(&p->lock);
    int busy = p->active != NULL;
    pthread_mutex_unlock(&p->lock);
    if (!busy)
      break;
    struct timespec ts = {0, 10 * 1000000};
    nanosleep(&ts, NULL);
  }
  MHD_stop_daemon(p->daemon);
  if (listener != MHD_INVALID_SOCKET)
    close(listener);
  proxy_free(p);
}
