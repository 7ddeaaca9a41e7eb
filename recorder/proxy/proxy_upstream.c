/* proxy_upstream.c: the recording proxy's upstream base URL: checked and split into the
 * parts the proxy uses (the base every request-target is put after, the Host libcurl
 * sends, scheme, host, port and path), and the upstream's own URLs in a Location or
 * Content-Location moved into the proxy's URL space. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"
#include "proxy/proxy_upstream.h"

static unsigned default_port(const char *scheme) {
  return strcasecmp(scheme, "https") == 0 ? 443u : 80u;
}

/* Fills U's parts from the checked URL UPSTREAM and its host and port as libcurl parsed
 * them (PORT NULL when none was given). */
static reqlog_err upstream_parts(proxy_upstream *u, const char *upstream, const char *host,
                                 const char *port) {
  size_t n = strlen(upstream);
  while (n && upstream[n - 1] == '/')
    n--;
  u->base = util_strndup(upstream, n);
  u->host = strdup(host);
  if (!u->base || !u->host)
    return REQLOG_ERR_NOMEM;
  u->port = port ? (unsigned)strtoul(port, NULL, 10) : default_port(u->scheme);
  const char *auth = strstr(u->base, "://");
  const char *path = auth ? strchr(auth + 3, '/') : NULL;
  u->path = strdup(path ? path : "");
  int r = u->port == default_port(u->scheme) ? asprintf(&u->authority, "%s", host)
                                             : asprintf(&u->authority, "%s:%u", host, u->port);
  if (r < 0)
    u->authority = NULL;
  return u->path && u->authority ? REQLOG_OK : REQLOG_ERR_NOMEM;
}

reqlog_err proxy_upstream_parse(const char *upstream, proxy_upstream *u, char **cause) {
  memset(u, 0, sizeof *u);
  CURLU *url = curl_url();
  char *scheme = NULL, *host = NULL, *port = NULL, *query = NULL, *frag = NULL;
  reqlog_err err = REQLOG_OK;
  if (!url)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  if (curl_url_set(url, CURLUPART_URL, upstream, 0) != CURLUE_OK ||
      curl_url_get(url, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
      curl_url_get(url, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
    err = util_fail(cause, REQLOG_ERR_ARG, "upstream: '%s' is not a URL like "
                    "https://api.example.com/v1", upstream);
  } else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
    err = util_fail(cause, REQLOG_ERR_ARG, "upstream: '%s' is not an http or https URL",
                    upstream);
  } else if (curl_url_get(url, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
             curl_url_get(url, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_OK) {
    err = util_fail(cause, REQLOG_ERR_ARG, "upstream: '%s' has a query or fragment; give the "
                    "base URL that paths are put after", upstream);
  } else {
    if (curl_url_get(url, CURLUPART_PORT, &port, 0) != CURLUE_OK)
      port = NULL;
    u->scheme = strdup(scheme);
    err = u->scheme ? upstream_parts(u, upstream, host, port) : REQLOG_ERR_NOMEM;
    if (err != REQLOG_OK)
      util_fail(cause, err, "out of memory");
  }
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_free(query);
  curl_free(frag);
  curl_url_cleanup(url);
  if (err != REQLOG_OK)
    proxy_upstream_free(u);
  return err;
}

void proxy_upstream_free(proxy_upstream *u) {
  free(u->base);
  free(u->scheme);
  free(u->host);
  free(u->path);
  free(u->authority);
  memset(u, 0, sizeof *u);
}

/* ------------------------------------------------------------------ Location */

/* Non-zero when PATH starts with PREFIX at a segment boundary; *REST: what follows. */
static int under_path(const char *path, const char *prefix, const char **rest) {
  size_t pl = strlen(prefix);
  if (strncmp(path, prefix, pl) != 0 || (path[pl] && !strchr("/?#", path[pl])))
    return 0;
  *rest = path + pl;
  return 1;
}

/* Non-zero when the absolute URL V names U's scheme, host and port; *REST: what follows
 * the authority. */
static int same_origin(const proxy_upstream *u, const char *v, const char **rest) {
  size_t sl = strlen(u->scheme);
  if (strncasecmp(v, u->scheme, sl) != 0 || strncmp(v + sl, "://", 3) != 0)
    return 0;
  const char *a = v + sl + 3;
  size_t al = strcspn(a, "/?#");
  if (memchr(a, '@', al)) /* credentials in it: not a URL the upstream makes for us */
    return 0;
  size_t hl = strlen(u->host);
  if (al < hl || strncasecmp(a, u->host, hl) != 0)
    return 0;
  unsigned port = default_port(u->scheme);
  if (al > hl) {
    if (a[hl] != ':' || al == hl + 1 || al - hl - 1 > 5)
      return 0;
    port = 0;
    for (size_t i = hl + 1; i < al; i++) {
      if (a[i] < '0' || a[i] > '9')
        return 0;
      port = port * 10 + (unsigned)(a[i] - '0');
    }
  }
  *rest = a + al;
  return port == u->port;
}

char *proxy_upstream_map_location(const proxy_upstream *u, const char *value,
                                  const char *client_base) {
  const char *rest = NULL;
  const char *base = "";
  if (value[0] == '/' && value[1] != '/') {
    if (!u->path[0] || !under_path(value, u->path, &rest))
      return NULL; /* already the proxy's path, or outside the upstream's */
  } else if (same_origin(u, value, &rest)) {
    if (*rest == '/') {
      if (!under_path(rest, u->path, &rest))
        return NULL;
    } else if (u->path[0]) {
      return NULL; /* the upstream's root ("http://host?q"): outside its path */
    }
    base = client_base;
  } else {
    return NULL;
  }
  char *out = NULL;
  if (asprintf(&out, "%s%s%s", base, *rest == '/' ? "" : "/", rest) < 0)
    return NULL;
  return out;
}

