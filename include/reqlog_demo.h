/* reqlog_demo.h: the demo API, a fake of the Astalty public API (docs/design.md §1, §8): an HTTP
 * server on 127.0.0.1 that answers like the real one (401/403/404/422/429 bodies, a
 * per-key rate limit) plus endpoints that misbehave on purpose (slow, large, binary,
 * gzip, redirects, dropped connections, flaky). Used by the tests, `reqlog demo` and
 * the standalone `reqlog-testapi`.
 *
 * Threads: every function may be called from any thread while the server runs; the
 * server answers each connection on its own thread, so a slow call never stalls others.
 * Routes, all under FAKEAPI_BASE_PATH (anything else is a 404):
 *   GET  /health                       200 {"ok":true}, the only route without a key
 *   GET  /participants                 200 {"data":[5 participants],"meta":{...}}
 *   POST /participants                 201 / 400 malformed JSON / 422 invalid
 *   GET|PUT|PATCH|DELETE /participants/{id}   200 / 204 / 404 / 422
 *   GET  /slow?ms=N                    waits N ms (at most 30000)
 *   GET  /large?bytes=N                N bytes of valid JSON (default 2 MiB)
 *   GET  /binary?bytes=N               N bytes i%256 (default 4096)
 *   GET  /gzip                         gzip-encoded JSON, whatever Accept-Encoding says
 *   GET  /redirect?to=PATH, /redirect/N   302s ending at /participants
 *   GET  /drop                         closes the connection without an answer
 *   GET|POST /flaky?fail=N&id=T        503 for the first N calls with id T, then 200
 *   GET  /status/CODE[?retry_after=S[&retry_after_date=1]]
 *   ANY  /echo                         the request as JSON (Authorization included)
 *   GET  /session                      Set-Cookie: session=SESSSECRET123; HttpOnly
 *   POST /oauth/token                  a body full of tokens
 *   GET  /bench                        1024 bytes of JSON, no rate limit
 * Writes to /participants are validated and answered but not stored: every caller sees
 * the same five participants.
 */
#ifndef FAKEAPI_H
#define FAKEAPI_H

#ifdef __cplusplus
extern "C" {
#endif

#define FAKEAPI_BASE_PATH "/public/v1"

/* The default keys. FAKEAPI_KEY_RO may read but gets 403 on POST/PUT/PATCH/DELETE;
 * FAKEAPI_KEY_REVOKED always gets 401 "This API key has been revoked." */
#define FAKEAPI_KEY "sk_test_4f9a2c7e1b8d6053alpha"
#define FAKEAPI_KEY2 "sk_test_bravo_77d1e0c9a3f24b6e"
#define FAKEAPI_KEY_RO "sk_test_readonly_0c5e9b2a71d8"
#define FAKEAPI_KEY_REVOKED "sk_test_revoked_9a9a9a9a9a9a"

#define FAKEAPI_DEFAULT_RATE 60         /* requests per window per key, like Astalty */
#define FAKEAPI_DEFAULT_WINDOW_MS 60000L
#define FAKEAPI_MAX_UPLOAD (8L * 1024 * 1024) /* request bodies beyond this get 413 */

typedef struct fakeapi fakeapi;

typedef struct fakeapi_opts {
  int port;                         /* 0 = any free port on 127.0.0.1 */
  int rate;                         /* requests allowed per window per key; 0 = 60 */
  long window_ms;                   /* rate window; 0 = 60000 */
  const char *const *keys;          /* valid keys, NULL-terminated; NULL = FAKEAPI_KEY
                                       and FAKEAPI_KEY2 */
  const char *const *readonly_keys; /* also valid, but 403 on writes; NULL-terminated;
                                       NULL = FAKEAPI_KEY_RO */
} fakeapi_opts;

/* Starts a server on 127.0.0.1. OPTS may be NULL (all defaults); the key strings are
 * copied, so the caller's arrays need not outlive this call. Returns 0 and *out (free it
 * with fakeapi_stop()), or -1 with *out NULL and, when CAUSE is not NULL, a message in
 * *cause that the caller frees with free(). */
int fakeapi_start(const fakeapi_opts *opts, fakeapi **out, char **cause);

/* The port the server listens on (the one the system chose when opts->port was 0). */
int fakeapi_port(const fakeapi *f);

/* "http://127.0.0.1:PORT/public/v1", without a trailing slash. Owned by F: valid until
 * fakeapi_stop(F). */
const char *fakeapi_base_url(const fakeapi *f);

/* How many requests arrived whose path (without the query, as sent, e.g.
 * "/public/v1/flaky") starts with PATH_PREFIX; NULL counts every request. A request is
 * counted as soon as its headers arrive, so dropped and rejected requests count too. */
long fakeapi_hits(const fakeapi *f, const char *path_prefix);

/* Stops the server: wakes calls waiting in /slow, closes every connection, joins the
 * server's threads and frees F. Accepts NULL. */
void fakeapi_stop(fakeapi *f);

#ifdef __cplusplus
}
#endif

#endif
