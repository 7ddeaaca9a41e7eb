/* options.h: checks of the dashboard's options (server.h's web_opts) that web_start()
 * makes and the CLI can make first, to tell a usage error from a failure to start. */
#ifndef REQLOG_WEB_OPTIONS_H
#define REQLOG_WEB_OPTIONS_H

#include <sys/socket.h>

typedef struct web_listen {
  struct sockaddr_storage addr; /* what to bind */
  socklen_t addr_len;
  char host[300];               /* as it appears in URLs and Host: lower-case, IPv6 in [] */
  unsigned port;                /* 0: any free port */
  int loopback;                 /* 127.0.0.0/8 or ::1 */
  int wildcard;                 /* 0.0.0.0 or :: (every interface) */
} web_listen;

/* Parses a listen address "HOST:PORT" (TEXT NULL: "127.0.0.1:8080"): HOST is an IPv4
 * address, an IPv6 address in brackets, or a name that resolves (localhost). Returns 0
 * and *OUT, or -1 with a malloc'd message in *cause (free()) when CAUSE is not NULL. */
int web_parse_listen(const char *text, web_listen *out, char **cause);

/* Non-zero when TOKEN can be an access token: 1 to 256 of A-Z a-z 0-9 - . _ ~, so that
 * it fits a cookie and a URL unchanged. */
int web_token_valid(const char *token);

#endif
