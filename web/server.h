/* server.h: the dashboard server (`reqlog serve`): one libmicrohttpd daemon serving the
 * page app (assets embedded at build time, or from --assets-dir) and the JSON API over a
 * reqlog history, with the security defaults of DESIGN.md §6. Uses only reqlog.h. */
#ifndef REQLOG_WEB_SERVER_H
#define REQLOG_WEB_SERVER_H

typedef struct web_opts {
  const char *db_path;     /* the history; must exist */
  const char *listen;      /* "HOST:PORT"; NULL = "127.0.0.1:8080"; port 0 = any free */
  const char *token;       /* access token; NULL = none on loopback, generated otherwise */
  const char *assets_dir;  /* serve web/static from this folder instead of the embedded copy */
} web_opts;

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
