/* listen.c: "HOST:PORT" to a socket address for the dashboard's daemon
 * (web_parse_listen of include/reqlog_web.h). */
#include "reqlog_web.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char **cause, const char *text, const char *why) {
  if (cause && asprintf(cause, "--listen: '%.200s' %s", text, why) < 0)
    *cause = NULL;
  return -1;
}

static void classify(web_listen *out) {
  if (out->addr.ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)&out->addr;
    uint32_t ip = ntohl(a->sin_addr.s_addr);
    out->loopback = (ip >> 24) == 127;
    out->wildcard = ip == INADDR_ANY;
  } else {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&out->addr;
    out->loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
    out->wildcard = IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr);
  }
}

int web_parse_listen(const char *text, web_listen *out, char **cause) {
  if (cause)
    *cause = NULL;
  memset(out, 0, sizeof *out);
  if (!text)
    text = "127.0.0.1:8080";
  char host[256];
  const char *port_text;
  int bracketed = text[0] == '[';
  if (bracketed) {
    const char *close = strchr(text, ']');
    if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof host)
      return fail(cause, text, "is not HOST:PORT (an IPv6 address as [::1]:8080)");
    memcpy(host, text + 1, (size_t)(close - text - 1));
    host[close - text - 1] = '\0';
    port_text = close + 2;
  } else {
    const char *colon = strrchr(text, ':');
    if (!colon || (size_t)(colon - text) >= sizeof host || strchr(text, ':') != colon)
      return fail(cause, text, "is not HOST:PORT (e.g. 127.0.0.1:8080)");
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    port_text = colon + 1;
  }
  char *end = NULL;
  errno = 0;
  unsigned long port = strtoul(port_text, &end, 10);
  if (!*port_text || !isdigit((unsigned char)*port_text) || errno || *end || port > 65535)
    return fail(cause, text, "has no port from 0 to 65535");
  if (!*host)
    return fail(cause, text, "has no host (use 0.0.0.0 for every interface)");

  struct addrinfo hints = {0}, *res = NULL;
  hints.ai_family = bracketed ? AF_INET6 : AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo(host, NULL, &hints, &res);
  if (rc != 0 || !res) {
    if (res)
      freeaddrinfo(res);
    char why[300];
    snprintf(why, sizeof why, "cannot be resolved: %s", gai_strerror(rc));
    return fail(cause, text, why);
  }
  /* a name may resolve to both families: prefer IPv4, which "localhost" means everywhere */
  const struct addrinfo *pick = res;
  for (const struct addrinfo *a = res; a; a = a->ai_next) {
    if (a->ai_family == AF_INET) {
      pick = a;
      break;
    }
  }
  if ((pick->ai_family != AF_INET && pick->ai_family != AF_INET6) ||
      pick->ai_addrlen > sizeof out->addr) {
    freeaddrinfo(res);
    return fail(cause, text, "is not an IPv4 or IPv6 address");
  }
  memcpy(&out->addr, pick->ai_addr, pick->ai_addrlen);
  out->addr_len = pick->ai_addrlen;
  freeaddrinfo(res);
  if (out->addr.ss_family == AF_INET)
    ((struct sockaddr_in *)&out->addr)->sin_port = htons((uint16_t)port);
  else
    ((struct sockaddr_in6 *)&out->addr)->sin6_port = htons((uint16_t)port);
  out->port = (unsigned)port;
  classify(out);
  snprintf(out->host, sizeof out->host, bracketed ? "[%s]" : "%s", host);
  for (char *p = out->host; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  return 0;
}
