/* reqlog_web.h: the dashboard server (`reqlog serve`) as the CLI sees it: one
 * libmicrohttpd daemon serving the page app (assets embedded at build time, or from
 * --assets-dir) and the JSON API over a reqlog history, with the security defaults of
 * docs/design.md §6. web/ implements it using only reqlog.h. Not installed. */
#ifndef REQLOG_WEB_H
#define REQLOG_WEB_H

#include <sys/socket.h>

/* Checks of the options (web_opts below) that web_start() makes and the CLI can make
 * first, to tell a usage error from a failure to start. */

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

typedef struct web_opts {
  const char *db_path;     /* the history; must exist */
  const char *listen;      /* "HOST:PORT"; NULL = "127.0.0.1:8080"; port 0 = any free */
  const char *token;       /* access token; NULL = none on loopback, generated otherwise */
  const char *assets_dir;  /* serve web/static from this folder instead of the embedded copy */
  unsigned idle_s;         /* close a connection that sends and receives nothing for this
                              many seconds; 0 = WEB_IDLE_DEFAULT_S */
} web_opts;

#define WEB_IDLE_DEFAULT_S 30u

typedef struct web_server web_server;

/* Opens the history, binds, starts serving. Returns 0 and *out, or -1 with *out NULL and
 * a malloc'd message in *cause (free()) when CAUSE is not NULL. */
int web_start(const web_opts *opts, web_server **out, char **cause);

/* "http://HOST:PORT" as bound (the real port when 0 was asked). Owned by S. */
const char *web_url(const web_server *s);

/* The token in force (given or generated), or NULL when none is needed. Owned by S. */
const char *web_token(const web_server *s);

/* Stops serving, closes every connection and the history, frees S. Accepts NULL. */
void web_stop(web_server *s);

#endif
