/* proxy_net.h: addresses and hops for the recording proxy (proxy.c): the listening socket,
 * the destinations it refuses to forward to, the upstream base URL, hop-by-hop headers. */
#ifndef REQLOG_PROXY_NET_H
#define REQLOG_PROXY_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "reqlog.h"

/* An IP address and port, IPv4-mapped IPv6 folded into IPv4, for comparisons. */
typedef struct proxy_netaddr {
  int family;
  unsigned char ip[16];
  uint16_t port;
} proxy_netaddr;

/* A destination the proxy never connects to: a dashboard (--refuse) or itself. */
typedef struct proxy_guard {
  proxy_netaddr a;
  int self;
  char name[96]; /* as the user wrote it, for messages */
} proxy_guard;

typedef struct proxy_net {
  proxy_guard *guards;
  size_t nguards;
  proxy_netaddr *local; /* this machine's addresses, for wildcard listeners */
  size_t nlocal;
} proxy_net;

/* Adds a guard for each address each "HOST:PORT" of REFUSE (NULL-terminated) resolves to. */
reqlog_err proxy_net_refuse(proxy_net *n, const char *const *refuse, char **cause);

/* Learns this machine's interface addresses (best effort). */
void proxy_net_load_local(proxy_net *n);

/* Binds and listens on LISTEN_ON ("HOST:PORT"; loopback unless ALLOW_REMOTE), writes
 * http://HOST:PORT as bound into URL and guards against forwarding to itself. Returns the
 * socket, or -1 with *err and *cause set. */
int proxy_net_listen(proxy_net *n, const char *listen_on, int allow_remote, char *url,
                     size_t urllen, reqlog_err *err, char **cause);

/* The guard a connection to SA would reach, or NULL when SA may be connected to. */
const proxy_guard *proxy_net_refused(const proxy_net *n, const struct sockaddr *sa);

void proxy_net_free(proxy_net *n);

/* The upstream base URL in parts. */
typedef struct proxy_upstream {
  char *base;      /* the URL without a trailing '/' */
  char *scheme;    /* "http" or "https" */
  char *host;      /* as given; an IPv6 address in brackets */
  unsigned port;   /* as given, else the scheme's default */
  char *path;      /* the path without a trailing '/': "" for none */
  char *authority; /* the Host header libcurl sends: host, ":port" unless the default */
} proxy_upstream;

/* Checks UPSTREAM (http or https, a host, no query or fragment) and fills *U (free it
 * with proxy_upstream_free). */
reqlog_err proxy_upstream_parse(const char *upstream, proxy_upstream *u, char **cause);
void proxy_upstream_free(proxy_upstream *u);

/* REQLOG_ERR_ARG when U resolves to an address the proxy listens on (it would forward
 * every request to itself); an upstream that does not resolve now is not an error. */
reqlog_err proxy_net_check_upstream(const proxy_net *n, const proxy_upstream *u,
                                    char **cause);

/* A Location or Content-Location VALUE from the upstream, moved into the proxy's URL
 * space: a path under U's path, or an absolute URL with U's scheme, host and port and a
 * path under U's path, becomes that path after U's (absolute ones prefixed with
 * CLIENT_BASE, "http://HOST[:PORT]"). Returns the new value (malloc'd), or NULL when
 * VALUE is left as it is (another host, a path outside U's, a relative reference) or
 * memory ran out. */
char *proxy_map_location(const proxy_upstream *u, const char *value, const char *client_base);

/* Non-zero when header NAME (NLEN bytes) is hop-by-hop (RFC 9110 7.6.1), a Proxy-* one,
 * or named by the message's CONNECTION header (may be NULL). */
int proxy_hop_by_hop(const char *name, size_t nlen, const char *connection);

#endif
