/* proxy_net.h: addresses and hops for the recording proxy: the listening socket, the
 * destinations it refuses to forward to (the upstream among them when it is the proxy
 * itself), hop-by-hop headers. */
#ifndef REQLOG_PROXY_NET_H
#define REQLOG_PROXY_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proxy/proxy_upstream.h"
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

/* REQLOG_ERR_ARG when U resolves to an address the proxy listens on (it would forward
 * every request to itself); an upstream that does not resolve now is not an error. */
reqlog_err proxy_net_check_upstream(const proxy_net *n, const proxy_upstream *u,
                                    char **cause);

/* Non-zero when header NAME (NLEN bytes) is hop-by-hop (RFC 9110 7.6.1), a Proxy-* one,
 * or named by the message's CONNECTION header (may be NULL). */
int proxy_hop_by_hop(const char *name, size_t nlen, const char *connection);

#endif
