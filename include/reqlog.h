/* reqlog.h: the public interface of libreqlog, which records HTTP API calls made with
 * libcurl into a SQLite history and reads that history back (filters, rows, exports).
 *
 * Threads: a reqlog handle may be used from several threads at once; a cursor or a
 * filter belongs to one thread at a time. Strings are UTF-8 and NUL-terminated.
 * Memory: every function that returns allocated memory names the function that frees it.
 */
#ifndef REQLOG_H
#define REQLOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

#define REQLOG_VERSION "0.1.0"

/* Error codes. Stable: values are never renumbered, new ones are appended. */
typedef enum {
  REQLOG_OK = 0,
  REQLOG_ERR_NOMEM = 1,     /* out of memory */
  REQLOG_ERR_ARG = 2,       /* a bad argument (NULL handle, unknown name, bad number) */
  REQLOG_ERR_IO = 3,        /* a file could not be read or written */
  REQLOG_ERR_DB = 4,        /* SQLite failed (corrupt file, schema from a newer reqlog...) */
  REQLOG_ERR_BUSY = 5,      /* the database stayed locked longer than the busy timeout */
  REQLOG_ERR_READONLY = 6,  /* the database file or its folder is read-only */
  REQLOG_ERR_FULL = 7,      /* the disk is full */
  REQLOG_ERR_FILTER = 8,    /* a filter is unknown or malformed; the cause names it */
  REQLOG_ERR_NOTFOUND = 9,  /* no row with that id */
  REQLOG_ERR_TRANSPORT = 10,/* the HTTP call got no response (DNS, refused, timeout...) */
  REQLOG_ERR_HTTP = 11,     /* the HTTP call got a response with status >= 400 */
  REQLOG_ERR_DONE = 12,     /* a cursor has no more rows (not a failure) */
  REQLOG_ERR_LOST = 13,     /* recorded calls were dropped after the store kept failing */
  REQLOG_ERR_CANCELLED = 14 /* a callback asked to stop */
} reqlog_err;

/* A static English text for an error code; never NULL. */
const char *reqlog_strerror(reqlog_err err);

/* The library's version string, REQLOG_VERSION at build time. */
const char *reqlog_version(void);

/* Optional process-wide setup for a program that reads the history from many threads
 * at once (reqlog serve): turns off SQLite's memory statistics, whose one global lock
 * is otherwise taken around every allocation SQLite makes, in every thread. In this
 * process sqlite3_memory_used(), sqlite3_status64() and SQLite's heap limits then stop
 * working. Call it first, from one thread, before anything in the process uses SQLite.
 * Returns REQLOG_OK, or REQLOG_ERR_ARG when SQLite was already in use (nothing changed). */
reqlog_err reqlog_global_init(void);

/* ------------------------------------------------------------------ handle */

typedef struct reqlog reqlog;

/* Opens (creating it when absent, mode 0600) the history database at PATH, in WAL mode
 * with a busy timeout, applying any schema migration this build knows. PATH NULL gives a
 * handle that makes calls but records nothing (a caller that cannot open its database can
 * still make its API calls). Starts the background writer thread.
 * The handle reads its defaults from the environment: REQLOG_API_KEY, REQLOG_BASE_URL,
 * REQLOG_RATE (requests per minute per key, 0 = off), REQLOG_BODY_CAP (bytes),
 * REQLOG_REDACT (comma list of extra names to redact: headers, query parameters and
 * JSON keys), REQLOG_DURABILITY ("batch" or "sync"), REQLOG_REQUEST_ID_HEADERS (see
 * reqlog_set_request_id_headers()). A number out of its range is
 * ignored (the default is kept) and said to the error handler once one is set.
 * Returns REQLOG_OK and *out, or an error with *out NULL and, when CAUSE is not NULL, a
 * message in *cause that the caller frees with reqlog_free(). */
reqlog_err reqlog_open(const char *path, reqlog **out, char **cause);
/* Recording for a team store. PATH may be a PostgreSQL URL (see reqlog_is_store_url()):
 * then calls are committed, exactly as above, to a local history, the spool
 * (reqlog_spool_path(): $REQLOG_SPOOL, else $XDG_STATE_HOME/reqlog/spool-HASH.db or
 * ~/.local/state/reqlog/spool-HASH.db, HASH naming the URL without its password; the
 * folders made 0700), and a thread of the handle copies the committed rows into the store
 * in batches. Recording never waits on the network: the shipper has its own connections
 * to the spool and the store. A store that cannot be reached is waited for with backoff
 * and said once to the error handler (with REQLOG_OK: nothing is lost, the calls wait in
 * the spool), and so is its return; a store that refuses (password, database, a schema
 * from a newer reqlog) stops shipping with an error to the handler. A new spool is said
 * once too (REQLOG_OK). reqlog_close() ships what was committed, for at most
 * $REQLOG_SHIP_WAIT_MS (default 1500, 0 to 600000) or until the store fails to answer;
 * what is left waits in the spool for the next process recording into it or for
 * `reqlog ship` (said to the handler with REQLOG_OK). Several processes may share a
 * spool: each call reaches the store once. Reading a store: reqlog_open_readonly(). */
/* The spool of a handle opened with a store URL (valid until reqlog_close()), else NULL. */
const char *reqlog_spool_path(const reqlog *r);
/* Non-zero when DB names a PostgreSQL team store (a libpq URI: postgresql://... or
 * postgres://..., any case) rather than a history file: what --db, REQLOG_DB and
 * reqlog_open() tell apart. */
int reqlog_is_store_url(const char *db);
/* Non-zero when the store URL URL holds a password (user:password@ or password=): a
 * command line should not (other users see it); libpq reads PGPASSFILE, ~/.pgpass and
 * PGPASSWORD instead. */
int reqlog_store_url_has_password(const char *url);
/* A copy of the store URL URL fit to show (a message, a log): its password replaced by
 * [REDACTED]; free it with reqlog_free(). NULL when URL is NULL or out of memory. */
char *reqlog_store_url_shown(const char *url);
/* The file checks of both opens, before SQLite sees the file: PATH must not be a
 * symbolic link or a directory, and a file that is not empty must be an SQLite database.
 * reqlog_open() also refuses a file, -wal, -shm or -journal of another user, and a file
 * it cannot write (both REQLOG_ERR_READONLY). Files of this user that others could read
 * are made private (0600); the error handler is told so (with REQLOG_OK) when it is set. */

/* Opens the existing history at PATH for reading only, for a reading program: never
 * creates or writes it (an empty file is refused), so it may be another user's or in a
 * read-only folder. A WAL history whose -wal and -shm are absent and cannot or should
 * not be created (a read-only folder, another user's file) is read as an immutable
 * snapshot. Recording through the handle fails with REQLOG_ERR_READONLY. */
reqlog_err reqlog_open_readonly(const char *path, reqlog **out, char **cause);

/* Waits until every recorded call is written, stops the writer and closes the database
 * (for a store URL, then ships within the bound described above reqlog_spool_path()).
 * Accepts NULL. Returns the first recording error not yet reported by reqlog_flush()
 * (REQLOG_OK when everything was written). The handle is freed in every case. */
reqlog_err reqlog_close(reqlog *r);

/* What the history's writer went through since R was opened: how the recording threads
 * fared against it. A proxy under load whose writer does not keep up fills the queue
 * (up to 64 MiB), and its clients then wait: waits says how often that happened. */
typedef struct reqlog_writer_stats {
  uint64_t rows;             /* records written as rows */
  uint64_t batches;          /* transactions that wrote them */
  uint64_t batch_max_us;     /* the longest of those transactions */
  uint64_t queue_peak_bytes; /* the most memory the queued records held at once */
  uint64_t waits;            /* times a recording thread waited for room in the queue */
  uint64_t wait_us;          /* the time those waits took, in all */
  uint64_t wait_max_us;      /* the longest of them */
} reqlog_writer_stats;

/* Fills *OUT (all zero for a history opened for reading). REQLOG_ERR_ARG without R or OUT. */
reqlog_err reqlog_writer_stats_get(reqlog *r, reqlog_writer_stats *out);

/* Blocks until every call recorded so far is committed to the database. Returns
 * REQLOG_OK, or the first recording error since the last flush (with its text in *cause
 * when CAUSE is not NULL; free it with reqlog_free()). Calls that could not be written
 * are kept and retried until reqlog_close(), unless more than 10,000 pile up. */
reqlog_err reqlog_flush(reqlog *r, char **cause);

/* Frees memory the library returned (causes, strings). Accepts NULL. */
void reqlog_free(void *p);

/* ------------------------------------------------------------------ settings */

/* How the writer makes rows durable. BATCH (default): rows are committed by a background
 * thread in batches, at least every 50 ms; a kill -9 of the process loses at most the
 * calls of the last 50 ms. SYNC: each recording call returns only after its row is
 * committed. Either way a power loss can lose the last transactions, never corrupt. */
typedef enum { REQLOG_DURABILITY_BATCH = 0, REQLOG_DURABILITY_SYNC = 1 } reqlog_durability;

reqlog_err reqlog_set_durability(reqlog *r, reqlog_durability d);

/* The API key sent as "Authorization: Bearer KEY" by reqlog_request(), to the base URL's
 * origin only (see reqlog_key_applies()). Copied; kept in memory only, never written
 * anywhere. NULL removes it. */
reqlog_err reqlog_set_api_key(reqlog *r, const char *key);

/* Base URL that reqlog_request() puts before a path starting with '/'; its scheme, host
 * and port are the one origin the API key is sent to. Must be an http or https URL
 * libcurl can read (REQLOG_ERR_ARG otherwise, the one in force is kept).
 * Default: $REQLOG_BASE_URL, else https://api.app.astalty.com.au/public/v1 */
reqlog_err reqlog_set_base_url(reqlog *r, const char *url);

/* Client-side rate limit for reqlog_request(): at most PER_MINUTE requests in any 60 s
 * window per key, shared through the database by every process using it. 0 turns it off.
 * Default 60 (or REQLOG_RATE). */
reqlog_err reqlog_set_rate_limit(reqlog *r, int per_minute);
/* The rate limit in force (requests per window per key; 0 = off), -1 for a NULL handle. */
int reqlog_rate_limit(const reqlog *r);

/* Retries of reqlog_request(): at most MAX_ATTEMPTS attempts in all (default 4, 1 = no
 * retry); backoff starts at BASE_MS (default 500) and doubles, with jitter, capped at
 * 30 s; a 429's Retry-After wins when present (capped at MAX_WAIT_MS, default 120000). */
reqlog_err reqlog_set_retry(reqlog *r, int max_attempts, long base_ms, long max_wait_ms);

/* Time one attempt of reqlog_request() may take, connecting included (default 60000 ms,
 * or REQLOG_TIMEOUT_MS). MS must be at least 1. */
reqlog_err reqlog_set_timeout(reqlog *r, long ms);

/* Largest body stored per request and per response (default 1 MiB, at least 0). The full
 * size and a SHA-256 are stored for every body; bodies past the cap are cut. */
reqlog_err reqlog_set_body_cap(reqlog *r, size_t bytes);

/* Adds NAME to what is redacted in headers, query parameters, form fields and JSON keys
 * at any depth, on top of the defaults. Names match with case, '_' and '-' ignored:
 * date_of_birth also redacts dateOfBirth and DATE-OF-BIRTH. */
reqlog_err reqlog_add_redaction(reqlog *r, const char *name);

/* Source written with each row: "library" (default), "cli", "proxy", "exec", "import". */
reqlog_err reqlog_set_source(reqlog *r, const char *source);

/* Origin written with each row: the name of the host or service that recorded it, so
 * that histories of several hosts can be told apart in a team store. 1 to 255 bytes of
 * UTF-8, no control character, no blank at either end (REQLOG_ERR_ARG otherwise).
 * Default: $REQLOG_ORIGIN, else this host's name. */
reqlog_err reqlog_set_origin(reqlog *r, const char *origin);

/* The response headers whose value is written as each recorded call's request_id (the
 * API's request id, the one a vendor's support desk asks for): NAMES, a comma list of 1
 * to 16 header names (any case), tried in order; the first present with a value of 1 to
 * 256 bytes, not redacted, wins. REQLOG_ERR_ARG for anything else (the list in force is
 * kept). Default: $REQLOG_REQUEST_ID_HEADERS, else
 * "X-Request-Id,Request-Id,X-Amzn-RequestId,X-Trace-Id". */
reqlog_err reqlog_set_request_id_headers(reqlog *r, const char *names);

/* Called from the writer thread (or the recording thread) when recording fails: the call
 * itself is never affected. MSG is valid during the callback only. Also called from
 * reqlog_set_error_handler() itself, with ERR REQLOG_OK, once for each notice of opening:
 * an environment variable that was ignored (not a number in its range), the history
 * file that was made private. The library never prints these (or anything) itself:
 * they wait, kept, until a handler is set, and are said once. */
typedef void (*reqlog_error_fn)(void *ctx, reqlog_err err, const char *msg);
reqlog_err reqlog_set_error_handler(reqlog *r, reqlog_error_fn fn, void *ctx);

/* ------------------------------------------------------------------ recording */

/* Performs the transfer set up on the caller's own easy handle EASY, exactly as
 * curl_easy_perform() would, and records it. The handle is the caller's: reqlog neither
 * adds a key nor limits its protocols (reqlog_request() allows http and https only; a
 * caller that wants that on its own handle sets CURLOPT_PROTOCOLS_STR and
 * CURLOPT_REDIR_PROTOCOLS_STR to "http,https"). Recorded: request line, headers and body actually
 * sent, status, response headers and body, timing phases, sizes, HTTP version, remote
 * address, transport error. Returns curl_easy_perform()'s result, unchanged by any
 * recording failure (those go to the error handler and reqlog_flush()).
 * The caller's write and header callbacks are not touched. reqlog watches the transfer
 * through CURLOPT_DEBUGFUNCTION and restores the handle's debug settings afterwards to
 * "no debug callback, not verbose"; a caller that uses its own debug callback or VERBOSE
 * passes them to reqlog_easy_perform_debug() instead. R NULL: a plain perform. */
CURLcode reqlog_easy_perform(reqlog *r, CURL *easy);

/* As reqlog_easy_perform(), passing libcurl's debug stream on to FN with DATA when
 * VERBOSE is non-zero (FN NULL: libcurl's own default, text to stderr), and restoring
 * those three settings on EASY afterwards. */
CURLcode reqlog_easy_perform_debug(reqlog *r, CURL *easy, curl_debug_callback fn,
                                   void *data, long verbose);

/* The answer to a reqlog_request(). Owned by the caller, freed by reqlog_response_free. */
typedef struct reqlog_response {
  long status;              /* HTTP status of the last attempt, 0 when none came */
  CURLcode curl_code;       /* libcurl's result of the last attempt */
  char *error;              /* transport error text, or NULL */
  char *headers;            /* the last attempt's response header block as received */
  char *body;               /* the whole response body (not capped), NUL-terminated */
  size_t body_len;
  char *error_message;      /* the API's "message" when status >= 400, else NULL */
  cJSON *error_fields;      /* the API's "errors" object, or NULL */
  int attempts;             /* attempts made (1 when there was no retry) */
  double queued_ms;         /* total time waited on the client-side rate limiter */
  int64_t row_id;           /* id of the last attempt's row once committed, 0 if unknown */
  reqlog_err record_err;    /* REQLOG_OK, or why recording this call failed */
} reqlog_response;

/* One API call in the API's conventions: METHOD (an RFC 9110 token, see
 * reqlog_is_token(), of at most 64 bytes) to URL_OR_PATH (a path is put after the base
 * URL; an absolute URL must be http or https), with BODY (BODY_LEN bytes, may be NULL)
 * sent as JSON, "Authorization: Bearer KEY" when a key is set and the URL is on the base
 * URL's origin (reqlog_key_applies()), "Accept: application/json", and HEADERS
 * (NULL-terminated "Name: value" strings, may be NULL; they override the defaults; an
 * empty "Authorization:" sends no Authorization at all). Only http and https are spoken,
 * redirects included. Waits on the rate limiter, retries as reqlog_set_retry() says,
 * records every attempt (with the fingerprint of the key it carried, even when no header
 * could be written).
 * Returns REQLOG_OK on a 2xx, REQLOG_ERR_HTTP on a status >= 400 (other statuses count
 * as OK), REQLOG_ERR_TRANSPORT when no response came, REQLOG_ERR_ARG (a bad method, or a
 * URL that is not http or https: nothing sent or recorded) / NOMEM before any attempt;
 * *out is set in the first three cases. */
reqlog_err reqlog_request(reqlog *r, const char *method, const char *url_or_path,
                          const char *body, size_t body_len, const char *const *headers,
                          reqlog_response **out);

void reqlog_response_free(reqlog_response *resp);

/* Where reqlog_request() would send the API key, decided before anything is sent. */
typedef enum {
  REQLOG_KEY_SENT = 1,          /* a key is set and the URL has the base URL's scheme,
                                   host and port: "Authorization: Bearer KEY" goes */
  REQLOG_KEY_UNSET = 0,         /* no key is set: no Authorization */
  REQLOG_KEY_OTHER_ORIGIN = -1, /* the URL's scheme, host or port is not the base URL's
                                   (another site, another port): no Authorization */
  REQLOG_KEY_REFUSED = -2       /* reqlog_request() refuses the URL (not http or https,
                                   or unreadable): nothing is sent */
} reqlog_key_use;

/* What reqlog_request() would do with the key for URL_OR_PATH when the caller's headers
 * carry no Authorization of their own. With REQLOG_KEY_SENT, FP (when not NULL, 48
 * bytes) gets the key's fingerprint, else "". With REQLOG_KEY_REFUSED, *cause (when
 * CAUSE is not NULL) says why ("only http and https URLs are sent; 'gopher' is another
 * scheme"); free it with reqlog_free(). */
reqlog_key_use reqlog_key_applies(reqlog *r, const char *url_or_path, char fp[48],
                                  char **cause);

/* ------------------------------------------------------------------ replay */

/* What a replay changes of the recorded call (reqlog_replay()); zeroed: nothing. */
typedef struct reqlog_replay_edit {
  const char *method;          /* NULL: the recorded method */
  const char *url;             /* NULL: the recorded URL; a path ("/x") goes after BASE_URL,
                                  else after the handle's base URL */
  const char *const *headers;  /* NULL: the recorded request headers, less the redacted
                                  ones and those libcurl sets itself; else "Name: value"
                                  strings, NULL-terminated, sent instead */
  const char *body;            /* with BODY_SET: the body to send (NULL or "": none) */
  int body_set;                /* 0: the recorded body (refused when it was truncated or
                                  binary) */
  const char *base_url;        /* NULL: the key goes to the handle's base URL's origin
                                  (REQLOG_BASE_URL) only; else to this http(s) base URL's
                                  origin only, for this replay */
  int unlinked;                /* non-zero: the new row gets no replay_of (the row replayed
                                  is not in the history recorded into, e.g. a team store's) */
} reqlog_replay_edit;

/* What a replay sends, decided before anything is sent. */
typedef struct reqlog_replay_plan {
  char method[72];
  char *url;                   /* the full URL (reqlog_replay_plan_free()) */
  int sends_key;               /* the key goes as "Authorization: Bearer KEY" */
  char key[48];                /* its fingerprint when SENDS_KEY, else "" */
  const char *why;             /* static text: why no key goes, or NULL */
} reqlog_replay_plan;

/* The plan for replaying ROW (the row model with bodies, reqlog_get()) changed by EDIT
 * (may be NULL). The key goes only when the call was recorded with one and the URL is on
 * the key's origin (see reqlog_replay_edit.base_url): never to a host a row names.
 * REQLOG_ERR_ARG with *cause when the replay is refused (a truncated or binary recorded
 * body kept, a method that is not a token, a URL that is not http or https, a bad
 * header or base URL): nothing would be sent. */
reqlog_err reqlog_replay_plan_of(reqlog *r, const cJSON *row, const reqlog_replay_edit *edit,
                                 reqlog_replay_plan *plan, char **cause);
void reqlog_replay_plan_free(reqlog_replay_plan *plan);

/* Sends ROW's call again as reqlog_replay_plan_of() plans it, through reqlog_request()
 * (one attempt per the handle's retry settings, recorded like any call), the new row
 * naming ROW's id as its replay_of (unless EDIT->unlinked). Returns what
 * reqlog_request() returns, or REQLOG_ERR_ARG (*cause) when the replay is refused. */
reqlog_err reqlog_replay(reqlog *r, const cJSON *row, const reqlog_replay_edit *edit,
                         reqlog_response **out, char **cause);

/* Non-zero when S is an RFC 9110 token: one or more letters, digits and
 * !#$%&'*+-.^_`|~, what an HTTP method and a header name must be. reqlog_request(), the
 * method filter and reqlog_import_har() refuse a method that is not one. */
int reqlog_is_token(const char *s);

/* ------------------------------------------------------------------ filters */

/* One set of filters (the FILTERS of the CLI, the web API and the exporters):
 * status (422 | 4xx | 401,403 | error), method, path (prefix, or substring with *),
 * host, key (fingerprint or its last four), since / until (ISO 8601 or 15m, 24h, 7d),
 * min_ms, q (full text over URL and bodies), field (a 422 error field), origin,
 * request_id (the API's request id, exactly), tag (a tag attached with
 * reqlog_annotate()), pinned (1: pinned calls, 0: the others). */
typedef struct reqlog_filter reqlog_filter;

reqlog_err reqlog_filter_new(reqlog_filter **out);
void reqlog_filter_free(reqlog_filter *f);

/* Sets filter NAME from its text VALUE. Setting status or method again adds to the list;
 * setting another filter twice is an error. On error *cause (free with reqlog_free())
 * names the filter: "status: '4yy' is not a status code, a class like 4xx, or 'error'".
 * A failed set leaves F as it was. */
reqlog_err reqlog_filter_set(reqlog_filter *f, const char *name, const char *value,
                             char **cause);

/* Non-zero when NAME is one of the filter names above. */
int reqlog_filter_is_name(const char *name);

/* Non-zero when F's method filter names a method that is no standard one (GET, HEAD,
 * POST, PUT, PATCH, DELETE, OPTIONS, TRACE, CONNECT): the first such, upper case, goes
 * to OUT (OUTLEN bytes). Such a filter is valid, as any token is a method, and matches
 * the rows of exactly that method; the CLI warns about it (a typo finds nothing). */
int reqlog_filter_odd_method(const reqlog_filter *f, char *out, size_t outlen);

/* The names, NULL-terminated, for help texts. */
const char *const *reqlog_filter_names(void);

/* One filter as help texts show it; the library's list is the one the CLI's options and
 * help and the dashboard's GET /api/filters are made from. */
typedef struct reqlog_filter_info {
  const char *name;   /* reqlog_filter_set()'s NAME, the web API's parameter: "min_ms" */
  const char *flag;   /* the CLI's long option, without "--": "min-ms" (NAME works too) */
  char short_flag;    /* the CLI's one-letter option ('q' for -q), or 0 */
  const char *arg;    /* the value's placeholder in help texts: "N" */
  const char *help;   /* what it selects, one line */
  int repeatable;     /* setting it again adds to it (status, method) */
} reqlog_filter_info;

/* Filter I (0, 1, ... in the order of reqlog_filter_names()), or NULL past the last. */
const reqlog_filter_info *reqlog_filter_info_at(size_t i);

/* ------------------------------------------------------------------ reading */

typedef struct reqlog_cursor reqlog_cursor;

typedef struct reqlog_query_opts {
  int64_t limit;        /* rows at most; 0 = no limit */
  int64_t before_id;    /* only rows with id < this (keyset paging); 0 = no bound */
  int with_bodies;      /* include request_body / response_body */
  int oldest_first;     /* ascending ids instead of newest first */
  int64_t after_id;     /* only rows with id > this (new rows for a live tail); 0 = none */
} reqlog_query_opts;

/* Starts reading the rows that match F (NULL = all) as OPTS says (NULL = newest first,
 * no limit, no bodies). Free the cursor with reqlog_cursor_free(). */
reqlog_err reqlog_query(reqlog *r, const reqlog_filter *f, const reqlog_query_opts *opts,
                        reqlog_cursor **out, char **cause);

/* The next row as a JSON object in the row model (docs/design.md §7), owned by the caller
 * (cJSON_Delete). Returns REQLOG_ERR_DONE after the last row. */
reqlog_err reqlog_cursor_next(reqlog_cursor *c, cJSON **row);
void reqlog_cursor_free(reqlog_cursor *c);

/* Text the library appends to: start with {0}. DATA is malloc'd and grown with realloc;
 * after a successful append it is NUL-terminated (DATA[LEN] == '\0', not counted in
 * LEN). The caller may shorten LEN (to drop what it appended last) and frees DATA with
 * reqlog_buf_free() or reqlog_free(). */
typedef struct reqlog_buf {
  char *data;
  size_t len;
  size_t cap;
} reqlog_buf;

/* Appends the N bytes at TEXT to B. Returns REQLOG_OK, or REQLOG_ERR_NOMEM with B's
 * length and contents unchanged. */
reqlog_err reqlog_buf_add(reqlog_buf *b, const char *text, size_t n);
/* Frees B's data and empties B. Accepts NULL. */
void reqlog_buf_free(reqlog_buf *b);

/* As reqlog_cursor_next(), but appends the row to OUT as JSON text instead of building
 * a cJSON object: the text cJSON would print for reqlog_cursor_next()'s row (the same
 * members, order and values; numbers in their shortest exact form), on one line. *ID
 * (when ID is not NULL) gets the row's id. Returns REQLOG_OK; REQLOG_ERR_DONE after the
 * last row; or an error (NOMEM, BUSY, DB...). On any error OUT's length and contents
 * are unchanged (its memory may have moved). */
reqlog_err reqlog_cursor_next_text(reqlog_cursor *c, reqlog_buf *out, int64_t *id);

/* One full row by id, or REQLOG_ERR_NOTFOUND. *row is freed with cJSON_Delete. */
reqlog_err reqlog_get(reqlog *r, int64_t id, cJSON **row, char **cause);

/* The id in the team store of the call that REC (reqlog_open() of a store URL) recorded
 * in its spool as SPOOL_ID (reqlog_response.row_id), looked up through TEAM
 * (reqlog_open_readonly() of the same URL), into *id. REQLOG_ERR_NOTFOUND while the call
 * is not shipped yet; REQLOG_ERR_ARG when REC does not record for a store or TEAM does
 * not read one. */
reqlog_err reqlog_shipped_id(reqlog *team, reqlog *rec, int64_t spool_id, int64_t *id,
                             char **cause);

/* Rows matching F. */
reqlog_err reqlog_count(reqlog *r, const reqlog_filter *f, int64_t *count, char **cause);

/* Statistics over the rows matching F, as a JSON object (cJSON_Delete). Every member
 * is always present (zeros and nulls included):
 * {"total", "errors" (transport failures), "by_class":{"1xx".."5xx","error","other"},
 *  "by_status":{"200":n,...}, "latency_ms":{"p50","p95","p99","max"} (nearest rank over
 *  rows with a status), "latency_exact" (false when F has only since/until and the range
 *  holds whole UTC days, read from the schema's daily duration histogram: each figure is
 *  then within 0.5% of the exact one), "rate_limited" (429s),
 *  "keys":[{"key" (null: no key),"count","peak_per_minute","limit" (null when off)}],
 *  "first","last" (ISO times or null), "range":{"from","to"} (the filter's since/until as
 *  resolved now: from null without since, to null without either, else until or now),
 *  "bucket_s" (width of a per_minute point),
 *  "per_minute":[{"minute","count"}] (at most 1440 points, empty buckets as 0)} */
reqlog_err reqlog_stats(reqlog *r, const reqlog_filter *f, cJSON **out, char **cause);

/* Where the history's disk goes, as a JSON object (cJSON_Delete): {"calls" (rows),
 * "file_bytes", "parts":{"calls" (the table's rows), "search_index", "indexes",
 * "other_tables", "free_pages"} in bytes, "indexes":{name: bytes}, "packed":
 * {"headers_stored", "headers_plain", "bodies_stored", "bodies_plain"} (the header JSON
 * and bodies as stored, packed with zstd, and as recorded)}. On a team store the parts
 * are PostgreSQL's relation sizes ("calls" with its TOAST, "indexes", "other_tables")
 * and "packed" is empty (the store keeps plain values; its TOAST compresses). */
reqlog_err reqlog_storage(reqlog *r, cJSON **out, char **cause);
/* The failing calls among those matching F (status 400 or more, or no response; F's own
 * status filter, when given, narrows them further) grouped into problems: one group per
 * method, path template (numeric and UUID segments as {id}: /participants/{id}), status,
 * the API's message (the transport error when no response came) and, for a 422, the
 * failing fields. Counts are exact. *out (cJSON_Delete) is
 * {"total": failing calls, "groups_total": groups, "range": {"from", "to"} (whole
 *  hours: F's since, else the first failing call, to F's until or now), "bucket_s": the
 *  width of a sparkline point (3600, wider when the range holds more than 168 hours),
 *  "groups": [{"method", "template", "status" (null: no response), "message" (or null),
 *   "fields" (a 422's field names, sorted, or null), "count", "keys" (distinct keys),
 *   "key_names" (up to 8), "without_key" (some calls had none), "first", "last",
 *   "newest_id", "hours" (counts per point of the range), "filter" (the list filters
 *   that show the group's calls, as near as filters can: {method, path (each {id} a *),
 *   status, field (a single field)})}, ...]} busiest first, at most 500 groups. */
reqlog_err reqlog_problems(reqlog *r, const reqlog_filter *f, cJSON **out, char **cause);

/* Deletes rows started before OLDER_THAN_US (Unix microseconds; 0 = no age bound) and
 * then the oldest rows beyond MAX_ROWS (0 = no count bound), but pinned calls
 * (reqlog_annotate(); reqlog_prune_ex() deletes them too). *deleted gets the count. */
reqlog_err reqlog_prune(reqlog *r, int64_t older_than_us, int64_t max_rows,
                        int64_t *deleted, char **cause);

/* ------------------------------------------------------------------ diff */

/* What reqlog_diff() leaves out on top of its defaults (NULL = nothing more). Paths are
 * the ones the diff reports: "method", "url", "status", "error",
 * "request.headers.NAME" (NAME in lower case), "response.body.items[2].name". A pattern
 * matches where it ends a path or a part of it, at segment boundaries: "id" is every key
 * called id, "response.body.data" the whole subtree, "[*]" any index, "*" any one key;
 * ASCII case ignored. */
typedef struct reqlog_diff_opts {
  const char *const *ignore; /* NULL-terminated: also ignored */
  const char *const *keep;   /* NULL-terminated: compared even when a default ignores it */
} reqlog_diff_opts;

/* Compares the recorded calls A and B (reqlog_get() of each; REQLOG_ERR_NOTFOUND with a
 * cause naming the id when one is absent) as reqlog_diff_rows() does. */
reqlog_err reqlog_diff(reqlog *r, int64_t a, int64_t b, const reqlog_diff_opts *opts,
                       cJSON **out, char **cause);

/* The id of the newest call before ID with the same method, host and path (the query
 * string aside): "the previous call to the same endpoint", into *prev. Looks at most at
 * the 20,000 calls before ID that the method, host and path prefix select.
 * REQLOG_ERR_NOTFOUND (with a cause) when ID or such a call does not exist. */
reqlog_err reqlog_previous_call(reqlog *r, int64_t id, int64_t *prev, char **cause);

/* Compares two rows of the row model (with bodies): method, URL, status and transport
 * error; headers by lower-case name whatever their order (repeats' values sorted and
 * joined with ", "); bodies that are both JSON structurally (objects by key, arrays by
 * index), other text bodies line by line, binary ones whole. Timing is given side by
 * side and is never a difference. Ignored by default, and reported as ignored with the
 * reason: volatile headers (Date, Expires, Last-Modified, Age, ETag, Content-Length, the
 * request-id and trace headers, rate-limit counters), JSON values that are date-times on
 * both sides or under a key like created_at / updated_at / request_id (case, '_', '-'
 * folded), and values already redacted ("[REDACTED]", a key fingerprint).
 * *out (cJSON_Delete) is
 * {"a": {id, started_at, method, url, status, error, duration_ms}, "b": {...},
 *  "equal": bool (no difference that is not ignored), "differences": N, "ignored": N,
 *  "fields": [ENTRY for method, url, status, error],
 *  "timing": [{"phase": "dns_ms", "a": ms|null, "b": ms|null}, ...],
 *  "request_headers": [ENTRY...], "response_headers": [ENTRY...],
 *  "request_body": BODY, "response_body": BODY}
 * ENTRY: {"path", "state": "same"|"changed"|"added"|"removed" (from A to B), "a", "b"
 *  (the values, null when absent), "ignored": the reason (a string) or null}; fields
 *  and headers list every entry, same ones included, bodies only differences.
 * BODY: {"kind": "json"|"text"|"binary"|"none", "differences": N, "ignored": N,
 *  "changes": [ENTRY...] (json, binary), "lines": [{"op": "same"|"removed"|"added"|"skip",
 *  "a": line number|null, "b": line number|null, "text"} (skip: "count" lines)] (text)}.
 * Returns REQLOG_OK, REQLOG_ERR_ARG (a row is not an object) or REQLOG_ERR_NOMEM. */
reqlog_err reqlog_diff_rows(const cJSON *a, const cJSON *b, const reqlog_diff_opts *opts,
                            cJSON **out, char **cause);
/* As reqlog_prune(), which keeps pinned calls (reqlog_annotate()) whatever their age or
 * place: with INCLUDE_PINNED non-zero they are deleted like any other. Either way the
 * notes and tags of the calls deleted go with them. */
reqlog_err reqlog_prune_ex(reqlog *r, int64_t older_than_us, int64_t max_rows,
                           int include_pinned, int64_t *deleted, char **cause);

/* ------------------------------------------------------------------ notes, tags, pins */

/* What reqlog_annotate() does with the tags it is given. */
typedef enum {
  REQLOG_TAGS_ADD = 0,     /* add them to the call's tags */
  REQLOG_TAGS_REMOVE = 1,  /* take them off (a tag the call lacks is no error) */
  REQLOG_TAGS_SET = 2      /* they become the call's tags ("" removes all) */
} reqlog_tags_op;

/* A change to what a developer attached to a recorded call. The recorded row itself is
 * never changed: notes, tags and pins are kept in their own tables and read with the row
 * (the row model's "pinned", "tags", "note"; the filters tag= and pinned=). */
typedef struct reqlog_annotation {
  const char *note;        /* NULL: unchanged; "": removed; else the note: UTF-8, at
                              most 4000 bytes, no control character but tab and newline */
  const char *tags;        /* NULL: unchanged; else a comma list of tags, each 1 to 64 of
                              the characters A-Z a-z 0-9 . _ - : / + (at most 32 a call) */
  reqlog_tags_op tags_op;
  int pin;                 /* -1: unchanged; 0: unpinned; 1: pinned (prune keeps it) */
} reqlog_annotation;

/* Applies A to call ID: REQLOG_ERR_NOTFOUND when there is no such call, REQLOG_ERR_ARG
 * (with *cause naming "note" or "tags") when a value is not allowed (nothing changed),
 * REQLOG_ERR_READONLY on a history opened read-only. Works on a history file and on a
 * team store (reqlog_open_readonly() of its URL: the notes are written there). */
reqlog_err reqlog_annotate(reqlog *r, int64_t id, const reqlog_annotation *a, char **cause);

/* ------------------------------------------------------------------ export */

typedef enum { REQLOG_FORMAT_CSV = 0, REQLOG_FORMAT_NDJSON = 1, REQLOG_FORMAT_HAR = 2 }
  reqlog_format;

/* Receives exported bytes; returns 0 to go on, non-zero to stop (REQLOG_ERR_CANCELLED). */
typedef int (*reqlog_write_fn)(void *ctx, const char *data, size_t len);
/* Told how far an export is, about every 1% and at the end. */
typedef void (*reqlog_progress_fn)(void *ctx, int64_t done, int64_t total);

typedef struct reqlog_export_opts {
  reqlog_format format;
  int with_bodies;              /* CSV: add request_body, response_body columns */
  reqlog_progress_fn progress;  /* may be NULL */
  void *progress_ctx;
} reqlog_export_opts;

/* Streams the rows matching F, oldest first, in OPTS->format to WRITE. CSV is RFC 4180,
 * UTF-8, with a header row; cells starting with = + - @ (or tab / CR) get a leading '.
 * NDJSON is one full row per line. HAR is HAR 1.2 (entries with request, response,
 * timings mapped from the phases, serverIPAddress, and "_reqlog" fields for id, key,
 * attempt, retry_of, source, errors); binary bodies in base64. */
reqlog_err reqlog_export(reqlog *r, const reqlog_filter *f, const reqlog_export_opts *opts,
                         reqlog_write_fn write, void *write_ctx, char **cause);

/* ------------------------------------------------------------------ snippets */

/* The languages of reqlog_snippet(), NULL-terminated: "curl", "python" (requests),
 * "node" (fetch), "php" (the curl extension), "httpie", "go" (net/http). */
const char *const *reqlog_snippet_langs(void);

/* ROW (the row model with bodies, reqlog_get()) as code in LANG that makes the call
 * again: its method, URL, request headers (but those the client sets itself and the
 * redacted ones) and text body. The key is never in a row: a call that carried one
 * reads it from the environment variable REQLOG_API_KEY ("$REQLOG_API_KEY",
 * os.environ, process.env, getenv). What cannot be given back as recorded (redacted
 * headers, [REDACTED] values in the URL or body, a truncated or binary body) is said in
 * comments. Shell commands single-quote every recorded part. *out is freed with
 * reqlog_free(); REQLOG_ERR_ARG for an unknown LANG or a row without method or URL. */
reqlog_err reqlog_snippet(const cJSON *row, const char *lang, char **out, char **cause);

/* ------------------------------------------------------------------ import */

/* Loads a HAR 1.2 file (saved by a browser's DevTools, by Playwright's recordHar, or by
 * reqlog export --format har) into the history with source "import", redacting every
 * entry like a recorded call. All or nothing: a malformed file is rejected with the JSON
 * path of the problem in *cause (e.g. "log.entries[3].request.url: missing") and no row
 * is added. *imported gets the number of rows added. */
reqlog_err reqlog_import_har(reqlog *r, const char *path, int64_t *imported, char **cause);

/* ------------------------------------------------------------------ proxy */

/* A recording reverse proxy: every request to it is forwarded to UPSTREAM unchanged
 * (minus hop-by-hop headers), the answer comes back unchanged, streamed both ways, and
 * the exchange is recorded with source "proxy" (no retries of its own). */
typedef struct reqlog_proxy reqlog_proxy;

typedef struct reqlog_proxy_opts {
  const char *upstream;      /* base URL requests are forwarded to, e.g. https://api…/v1 */
  const char *listen;        /* "HOST:PORT"; NULL = "127.0.0.1:8081"; port 0 = any free */
  int allow_remote;          /* non-zero to allow a non-loopback listen address */
  long timeout_ms;           /* upstream answer time before a 504; 0 = 60000 */
  const char *const *refuse; /* "HOST:PORT" strings never forwarded to (a running
                                dashboard); NULL-terminated, may be NULL */
  int threads;               /* event-loop threads; 0 = one per online CPU (at most 16) */
  int libcurl_only;          /* non-zero: every upstream transfer on libcurl. Otherwise a
                                plain http upstream at an IP address is reached through
                                reqlog's own HTTP/1.1 client (less CPU per request) */
} reqlog_proxy_opts;

/* Starts the proxy on its own threads, recording through R (which must outlive it). */
reqlog_err reqlog_proxy_start(reqlog *r, const reqlog_proxy_opts *opts, reqlog_proxy **out,
                              char **cause);
/* "http://HOST:PORT" as bound. Owned by P. */
const char *reqlog_proxy_url(const reqlog_proxy *p);
/* Stops accepting, finishes or aborts open exchanges, frees P. Accepts NULL. */
void reqlog_proxy_stop(reqlog_proxy *p);

/* How the proxy's event loops fared since the start (readable while it runs). A turn is
 * one wake-up of a loop and the work it then does; a turn of over a millisecond holds up
 * every client of that loop (a full recording queue, a long callback). */
typedef struct reqlog_proxy_stats {
  uint64_t exchanges;        /* requests taken */
  uint64_t own_client;       /* upstream transfers carried by the own HTTP/1.1 client
                                (the others by libcurl) */
  uint64_t turns;
  uint64_t slow_turns;       /* turns that took over 1 ms */
  uint64_t turn_max_us;      /* the longest turn */
} reqlog_proxy_stats;
void reqlog_proxy_stats_get(const reqlog_proxy *p, reqlog_proxy_stats *out);

/* ------------------------------------------------------------------ mock */

/* A mock of the API made from the history (`reqlog mock`): the recorded calls that got
 * a response (status 200 to 599) of a filter, loaded once and indexed by method and path
 * and by method and path template (numeric and UUID segments as {id}), each distinct
 * request (method, path, query, body) kept once, its newest call. A mock is read-only
 * once loaded: any number of threads may match against it at once. */
typedef struct reqlog_mock reqlog_mock;

/* One header as recorded (redacted values stay redacted), owned by the mock. */
typedef struct reqlog_mock_header {
  const char *name;
  const char *value;
} reqlog_mock_header;

/* A recorded call as the mock serves it; every pointer is owned by the mock and valid
 * until reqlog_mock_free(). */
typedef struct reqlog_mock_call {
  int64_t id;                        /* the call's id in the history */
  const char *method;                /* as recorded */
  const char *url;                   /* as recorded (redacted) */
  const char *path;                  /* the URL's path, without the query */
  const char *tpl;                   /* the path's template: /participants/{id} */
  int status;                        /* 200 to 599 */
  const reqlog_mock_header *headers; /* the response headers, in recorded order */
  size_t nheaders;
  const unsigned char *body;         /* the stored response body (decoded, de-chunked) */
  size_t body_len;
  int body_truncated;                /* the stored body was cut at the cap ... */
  int64_t body_size;                 /* ... of a body this long */
} reqlog_mock_call;

/* A request to answer. PATH is the request target's path as sent (not percent-decoded),
 * QUERY what followed the '?' (NULL or "" for none). */
typedef struct reqlog_mock_request {
  const char *method;
  const char *path;
  const char *query;
  const void *body;
  size_t body_len;
} reqlog_mock_request;

typedef enum {
  REQLOG_MOCK_NONE = 0,     /* no recorded call matches */
  REQLOG_MOCK_EXACT = 1,    /* a call with the same method, path, query and body */
  REQLOG_MOCK_TEMPLATE = 2  /* the same method, path template, query and body */
} reqlog_mock_match_kind;

/* Loads the calls of R matching F (NULL: all) into a new mock (*out, freed with
 * reqlog_mock_free()), through reqlog_query(): a SQLite history or a team store. */
reqlog_err reqlog_mock_load(reqlog *r, const reqlog_filter *f, reqlog_mock **out,
                            char **cause);

/* The calls the mock holds (distinct requests). */
size_t reqlog_mock_size(const reqlog_mock *m);

/* The recorded calls of the filter the mock could serve (status 200 to 599), older
 * calls of one request included: reqlog_mock_size() of them answer. */
size_t reqlog_mock_recorded(const reqlog_mock *m);

/* Call I (0 to reqlog_mock_size() - 1) of what the mock serves, ordered by path
 * template, method, then newest first; NULL past the last. Owned by M. */
const reqlog_mock_call *reqlog_mock_at(const reqlog_mock *m, size_t i);

/* The recorded call that answers REQ into *call: the newest call with REQ's method (any
 * case) and path, else the newest with its method and path template, whose query and
 * body also match. A query matches with its parameters in any order (repeats of one
 * name in order), percent-decoded; a JSON body matches structurally (members in any
 * order); a value recorded as [REDACTED] (query parameter, form field, JSON member)
 * matches any value; a body cut at the cap matches a body that starts with it. Returns
 * how it matched (*call NULL with REQLOG_MOCK_NONE). */
reqlog_mock_match_kind reqlog_mock_match(const reqlog_mock *m, const reqlog_mock_request *req,
                                         const reqlog_mock_call **call);

/* The at most MAX recorded calls closest to REQ (for a "no match" answer), best first:
 * same method and path (query or body differ), same path template, same path, then the
 * longest common leading path segments; newest first among equals. Returns how many
 * were put in OUT. */
size_t reqlog_mock_closest(const reqlog_mock *m, const reqlog_mock_request *req,
                           const reqlog_mock_call **out, size_t max);

/* Frees M. Accepts NULL. */
void reqlog_mock_free(reqlog_mock *m);

/* ------------------------------------------------------------------ helpers */

/* Parses a time: ISO 8601 ("2026-11-27T21:04:05Z", "2026-11-27", with optional fraction
 * and offset) or relative to now ("15m", "24h", "7d", "30s", "2w"). *us gets Unix
 * microseconds. Returns REQLOG_ERR_ARG when TEXT is neither. */
reqlog_err reqlog_parse_time(const char *text, int64_t now_us, int64_t *us);

/* Parses a duration such as "30d", "12h", "15m", "45s" into microseconds. */
reqlog_err reqlog_parse_duration(const char *text, int64_t *us);

/* The fingerprint of an API key as stored in rows: "…abcd#3f2a9c1e". OUT holds at least
 * 48 bytes. */
void reqlog_key_fingerprint(const char *key, char out[48]);

/* ------------------------------------------------------------------ exec */

/* Runs ARGV (ARGV[0] looked up in PATH, like a shell) with the exec shim preloaded
 * (appended to any LD_PRELOAD) and records every libcurl transfer it and the processes
 * it starts make, easy and multi interfaces, with source "exec", through R like any
 * other recorded call. The program is otherwise unchanged: same stdin, stdout, stderr,
 * environment (plus LD_PRELOAD and REQLOG_SHIM_*), and the same behaviour when
 * recording fails. Only calls into a dynamically linked libcurl are seen: a program
 * with libcurl built in, code that loads libcurl with RTLD_DEEPBIND (PHP's curl
 * extension), or another HTTP client runs unrecorded.
 * SHIM_PATH: the shim library; NULL for $REQLOG_SHIM, else libreqlog-shim.so next to
 * the running executable, else ../lib/reqlog/libreqlog-shim.so from it (an install).
 * Blocks until the program exits and the records its processes sent are stored (queued,
 * in batch mode); records from processes that outlive it are taken while they keep
 * coming, until 300 ms pass without one.
 * Like system(), ignores SIGINT and SIGQUIT meanwhile (the program gets them), so one
 * reqlog_exec at a time per process.
 * A handle opened without a database runs the program unrecorded.
 * Returns REQLOG_OK with *exit_code the program's exit status, or 128 + the signal
 * that ended it. REQLOG_ERR_IO when the shim is missing or the socket cannot be set up
 * (the program did not run), or when the program could not be started: then
 * *exit_code is 127 (not found) or 126, as a shell would say. REQLOG_ERR_ARG for a
 * NULL R, ARGV, ARGV[0] or EXIT_CODE; REQLOG_ERR_NOMEM before the program ran. *cause (when CAUSE is not NULL) gets a message
 * on error, freed with reqlog_free(). */
reqlog_err reqlog_exec(reqlog *r, char *const argv[], const char *shim_path, int *exit_code,
                       char **cause);

#ifdef __cplusplus
}
#endif
#endif
