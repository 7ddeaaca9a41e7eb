/* router.c: the dashboard's routes as a table of {method, pattern, handler}; a pattern's
 * "*" segment is the handler's argument (an id or a file name). */
#include "router.h"

#include <string.h>

#include "handlers.h"
#include "reply.h"
#include "security.h"

static const struct route {
  const char *method;      /* "GET" also answers HEAD */
  const char *pattern;     /* segments; "*" matches one non-empty segment */
  web_handler handler;
} routes[] = {
  {"GET", "/", assets_index},
  {"GET", "/static/*", assets_file},
  {"GET", "/api/requests", api_requests_list},
  {"GET", "/api/requests/*", api_requests_get},
  {"POST", "/api/requests/*/replay", api_replay},
  {"GET", "/api/requests/*/replay", api_replay}, /* what the POST would send */
  {"GET", "/api/requests/*/diff", api_diff},
  {"POST", "/api/requests/*/notes", api_notes},
  {"GET", "/api/requests/*/snippet", api_snippet},
  {"GET", "/api/stats", api_stats},
  {"GET", "/api/problems", api_problems},
  {"GET", "/api/mock", api_mock},
  {"GET", "/api/filters", api_filters},
  {"GET", "/api/export", api_export},
  {"GET", "/api/stream", api_stream},
};
#define NROUTES (sizeof routes / sizeof routes[0])

/* Longest path segment the router hands to a handler; longer ones match no route. */
enum { ARG_MAX = 256 };

/* Non-zero when PATH matches PATTERN; the "*" segment is copied into ARG. */
static int match(const char *pattern, const char *path, char arg[ARG_MAX + 1]) {
  while (*pattern && *path) {
    if (*pattern == '*') {
      size_t n = strcspn(path, "/");
      if (n == 0 || n > ARG_MAX)
        return 0;
      memcpy(arg, path, n);
      arg[n] = '\0';
      path += n;
      pattern++;
    } else if (*pattern++ != *path++) {
      return 0;
    }
  }
  return *pattern == '\0' && *path == '\0';
}

static int method_is(const char *method, const char *route_method) {
  if (strcmp(method, route_method) == 0)
    return 1;
  return strcmp(route_method, "GET") == 0 && strcmp(method, "HEAD") == 0;
}

enum MHD_Result router_dispatch(web_req *q) {
  if (!security_host_ok(q))
    return reply_message(q, MHD_HTTP_MISDIRECTED_REQUEST, "Unknown host.");
  if (strcmp(q->path, "/login") == 0) {
    if (!method_is(q->method, "GET"))
      return reply_not_allowed(q, "GET, HEAD");
    return security_login(q);
  }
  if (!security_authorized(q))
    return reply_message(q, MHD_HTTP_UNAUTHORIZED, "Unauthenticated.");

  char arg[ARG_MAX + 1];
  char allow[64] = "";
  for (size_t i = 0; i < NROUTES; i++) {
    arg[0] = '\0';
    if (!match(routes[i].pattern, q->path, arg))
      continue;
    if (method_is(q->method, routes[i].method)) {
      if (strcmp(routes[i].method, "POST") == 0 && !security_origin_ok(q))
        return reply_message(q, MHD_HTTP_FORBIDDEN, "Cross-origin request refused.");
      return routes[i].handler(q, arg[0] ? arg : NULL);
    }
    /* the path exists with another method: remember it for Allow */
    const char *m = strcmp(routes[i].method, "GET") == 0 ? "GET, HEAD" : routes[i].method;
    if (!strstr(allow, m) && strlen(allow) + strlen(m) + 3 < sizeof allow) {
      if (allow[0])
        strcat(allow, ", ");
      strcat(allow, m);
    }
  }
  if (allow[0])
    return reply_not_allowed(q, allow);
  return reply_not_found(q);
}
