/* security.h: the dashboard's request checks (docs/design.md §6, API.md Security): the Host
 * header against DNS rebinding, the access token (Bearer or session cookie), the
 * same-origin rule for POST, and the /login page that sets the cookie. */
#ifndef REQLOG_WEB_SECURITY_H
#define REQLOG_WEB_SECURITY_H

#include "web_int.h"

/* Non-zero when Q's Host header names this server: the bound host (any name when bound
 * to a wildcard address) or localhost, 127.0.0.1, [::1], with the bound port. */
int security_host_ok(const web_req *q);
/* The same check of the Host header value H (NULL: none) for a server bound to HOST
 * (lower case, IPv6 in brackets) and PORT, WILDCARD when bound to every interface;
 * the mock server (mock_server.c) uses it too. */
int security_host_names(const char *h, const char *host, unsigned port, int wildcard);

/* Non-zero when no token is needed, or Q carries it as "Authorization: Bearer T" or in
 * the reqlog_session cookie. */
int security_authorized(const web_req *q);

/* Non-zero when Q's Origin header is this server's own origin, "http://" + Host. */
int security_origin_ok(const web_req *q);

/* GET /login?token=T: 303 to / setting the session cookie when T is the token, else 401. */
enum MHD_Result security_login(web_req *q);

/* Writes a new random token (32 bytes as 64 hex digits and a NUL) into OUT. Returns 0,
 * or -1 when the system has no randomness to give. */
int security_new_token(char out[65]);

#endif
