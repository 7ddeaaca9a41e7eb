/* proxy_net.c: what the recording proxy knows about addresses and hops: where it listens,
 * the destinations it never forwards to (a dashboard, itself, which the upstream must not
 * be), and which headers belong to one hop only. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy/proxy_net.h"
#include "base/util.h"

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
int proxy_hop_by_hop(const char *name, size_t nlen, const char *connection) {
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

static void netaddr_set(proxy_netaddr *n, const struct sockaddr *sa) {
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

static int ip_len(const proxy_netaddr *n) {
  return n->family == AF_INET ? 4 : 16;
}

static int ip_is_any(const proxy_netaddr *n) {
  static const unsigned char zero[16];
  return memcmp(n->ip, zero, (size_t)ip_len(n)) == 0;
}

static int ip_is_loopback(const proxy_netaddr *n) {
  static const unsigned char v6_loop[16] = {[15] = 1};
  if (n->family == AF_INET)
    return n->ip[0] == 127;
  return memcmp(n->ip, v6_loop, 16) == 0;
}

static int ip_equal(const proxy_netaddr *a, const proxy_netaddr *b) {
  return a->family == b->family && memcmp(a->ip, b->ip, (size_t)ip_len(a)) == 0;
}

/* Non-zero when a connection to N stays on this machine. */
static int ip_is_local(const proxy_net *p, const proxy_netaddr *n) {
  if (ip_is_any(n) || ip_is_loopback(n))
    return 1;
  for (size_t i = 0; i < p->nlocal; i++)
    if (ip_equal(&p->local[i], n))
      return 1;
  return 0;
}

/* Non-zero when connecting to DEST reaches a socket listening on L. */
static int reaches(const proxy_net *p, const proxy_netaddr *dest, const proxy_netaddr *l) {
  if (dest->port != l->port)
    return 0;
  if (ip_equal(dest, l))
    return 1;
  if (ip_is_any(l))
    return ip_is_local(p, dest);
  return ip_is_any(dest) && ip_is_local(p, l);
}

const proxy_guard *proxy_net_refused(const proxy_net *p, const struct sockaddr *sa) {
  proxy_netaddr dest;
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

static reqlog_err add_guard(proxy_net *p, const struct sockaddr *sa, int self,
                            const char *name) {
  proxy_guard *g = realloc(p->guards, (p->nguards + 1) * sizeof *g);
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

reqlog_err proxy_net_refuse(proxy_net *p, const char *const *refuse, char **cause) {
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

void proxy_net_load_local(proxy_net *p) {
  struct ifaddrs *ifa = NULL;
  if (getifaddrs(&ifa) != 0)
    return;
  for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
    if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
      continue;
    proxy_netaddr *l = realloc(p->local, (p->nlocal + 1) * sizeof *l);
    if (!l)
      break;
    p->local = l;
    netaddr_set(&p->local[p->nlocal++], i->ifa_addr);
  }
  freeifaddrs(ifa);
}

int proxy_net_listen(proxy_net *p, const char *listen_on, int allow_remote, char *url,
                     size_t urllen, reqlog_err *err, char **cause) {
  struct addrinfo *ai = NULL;
  *err = resolve("listen", listen_on, 1, &ai, cause);
  if (*err != REQLOG_OK)
    return -1;
  proxy_netaddr want;
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
  proxy_netaddr bound;
  if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
    close(fd);
    *err = util_fail(cause, REQLOG_ERR_IO, "cannot read the bound address: %s", strerror(errno));
    return -1;
  }
  netaddr_set(&bound, (struct sockaddr *)&ss);
  inet_ntop(bound.family, bound.ip, ip, sizeof ip);
  if (bound.family == AF_INET6)
    snprintf(url, urllen, "http://[%s]:%u", ip, (unsigned)bound.port);
  else
    snprintf(url, urllen, "http://%s:%u", ip, (unsigned)bound.port);
  *err = add_guard(p, (struct sockaddr *)&ss, 1, url + 7);
  if (*err != REQLOG_OK) {
    close(fd);
    util_fail(cause, *err, "out of memory");
    return -1;
  }
  return fd;
}

reqlog_err proxy_net_check_upstream(const proxy_net *p, const proxy_upstream *u,
                                    char **cause) {
  char host[256], port[8];
  size_t hl = strlen(u->host);
  const char *h = u->host;
  if (hl >= 2 && h[0] == '[') { /* getaddrinfo wants an IPv6 address bare */
    h++;
    hl -= 2;
  }
  if (hl >= sizeof host)
    return REQLOG_OK;
  memcpy(host, h, hl);
  host[hl] = '\0';
  snprintf(port, sizeof port, "%u", u->port);
  struct addrinfo hints = {0}, *ai = NULL;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  if (getaddrinfo(host, port, &hints, &ai) != 0)
    return REQLOG_OK; /* not resolvable now: each request says so (502) */
  reqlog_err err = REQLOG_OK;
  for (struct addrinfo *a = ai; a && err == REQLOG_OK; a = a->ai_next) {
    const proxy_guard *g = proxy_net_refused(p, a->ai_addr);
    if (g && g->self)
      err = util_fail(cause, REQLOG_ERR_ARG, "upstream: %s is this proxy's own listen "
                      "address (%s): every request would come back to the proxy; give "
                      "the API's URL", u->base, g->name);
  }
  freeaddrinfo(ai);
  return err;
}

void proxy_net_free(proxy_net *p) {
  free(p->guards);
  free(p->local);
  p->guards = NULL;
  p->local = NULL;
  p->nguards = p->nlocal = 0;
}
