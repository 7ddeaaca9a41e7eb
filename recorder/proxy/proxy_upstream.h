/* proxy_upstream.h: the recording proxy's upstream base URL, in parts, and the mapping of
 * the upstream's own URLs into the proxy's URL space. */
#ifndef REQLOG_PROXY_UPSTREAM_H
#define REQLOG_PROXY_UPSTREAM_H

#include "reqlog.h"

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

/* A Location or Content-Location VALUE from the upstream, moved into the proxy's URL
 * space: a path under U's path, or an absolute URL with U's scheme, host and port and a
 * path under U's path, becomes that path after U's (absolute ones prefixed with
 * CLIENT_BASE, "http://HOST[:PORT]"). Returns the new value (malloc'd), or NULL when
 * VALUE is left as it is (another host, a path outside U's, a relative reference) or
 * memory ran out. */
char *proxy_upstream_map_location(const proxy_upstream *u, const char *value,
                                  const char *client_base);

#endif
