/* security.c: who may talk to the dashboard. Host must name this server (a page on
 * another site that rebinds its DNS name to 127.0.0.1 sends its own name), a token guards
 * non-loopback binds, and POST must come from the dashboard's own origin. */
#include "security.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "reqlog_web.h"
#include "reply.h"

/* Compares A and B in time that depends on their lengths only. */
static int same_secret(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la != lb)
    return 0;
  unsigned char diff = 0;
  for (size_t i = 0; i < la; i++)
    diff |= (unsigned char)(a[i] ^ b[i]);
  return diff == 0;
}

int security_host_ok(const web_req *q) {
  const char *h = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
  return security_host_names(h, q->s->host, q->s->port, q->s->wildcard);
}

int security_host_names(const char *h, const char *host, unsigned bound_port, int wildcard) {
  if (!h || !*h)
    return 0;
  /* split "name:port", "[v6]:port" or "name" (port 80) */
  const char *colon;
  if (h[0] == '[') {
    const char *close = strchr(h, ']');
    if (!close)
      return 0;
    colon = close[1] == ':' ? close + 1 : NULL;
    if (close[1] && !colon)
      return 0;
  } else {
    colon = strchr(h, ':');
  }
  size_t name_len = colon ? (size_t)(colon - h) : strlen(h);
  unsigned long port = 80;
  if (colon) {
    char *end = NULL;
    errno = 0;
    if (colon[1] < '0' || colon[1] > '9')
      return 0;
    port = strtoul(colon + 1, &end, 10);
    if (errno || *end || port > 65535)
      return 0;
  }
  if (port != bound_port || name_len == 0)
    return 0;
  if (wildcard)
    return 1;
  static const char *const loopback[] = {"localhost", "127.0.0.1", "[::1]"};
  for (size_t i = 0; i < sizeof loopback / sizeof loopback[0]; i++)
    if (strlen(loopback[i]) == name_len && strncasecmp(h, loopback[i], name_len) == 0)
      return 1;
  return strlen(host) == name_len && strncasecmp(h, host, name_len) == 0;
}

int security_authorized(const web_req *q) {
  const char *token = q->s->token;
  if (!token)
    return 1;
  const char *auth = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_AUTHORIZATION);
  if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
    const char *given = auth + 7;
    while (*given == ' ')
      given++;
    if (same_secret(given, token))
      return 1;
  }
  const char *cookie = MHD_lookup_connection_value(q->conn, MHD_COOKIE_KIND, "reqlog_session");
  return cookie && same_secret(cookie, token);
}

int security_origin_ok(const web_req *q) {
  const char *origin = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Origin");
  const char *host = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
  if (!origin || !host || strncasecmp(origin, "http://", 7) != 0)
    return 0;
  /* Host passed security_host_ok(), so it names this server; the origin must be it */
  return strcasecmp(origin + 7, host) == 0;
}

enum MHD_Result security_login(web_req *q) {
  const char *given = MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, "token");
  const char *token = q->s->token;
  if (token && !(given && same_secret(given, token)))
    return reply_message(q, MHD_HTTP_UNAUTHORIZED, "Unauthenticated.");
  struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"",
                                                              MHD_RESPMEM_PERSISTENT);
  if (!resp)
    return MHD_NO;
  int ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, "/") == MHD_YES;
  if (ok && token) {
    /* the token's characters are cookie-safe (web_token_valid) */
    char cookie[320];
    snprintf(cookie, sizeof cookie, "reqlog_session=%s; HttpOnly; SameSite=Strict; Path=/",
             token);
    ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie) == MHD_YES;
  }
  if (!ok) {
    MHD_destroy_response(resp);
    return MHD_NO;
  }
  return reply_send(q, MHD_HTTP_SEE_OTHER, resp);
}

int security_new_token(char out[65]) {
  unsigned char raw[32];
  size_t got = 0;
  while (got < sizeof raw) {
    ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    got += (size_t)n;
  }
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < sizeof raw; i++) {
    out[2 * i] = hex[raw[i] >> 4];
    out[2 * i + 1] = hex[raw[i] & 15];
  }
  out[64] = '\0';
  return 0;
}

int web_token_valid(const char *token) {
  size_t n = token ? strlen(token) : 0;
  if (n == 0 || n > 256)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = token[i];
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '.' || c == '_' || c == '~';
    if (!ok)
      return 0;
  }
  return 1;
}
