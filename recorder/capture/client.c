/* client.c: reqlog_request, one API call in the API's conventions (bearer key, JSON,
 * client-side rate limit, 429 / 5xx retries with Retry-After or backoff), every attempt
 * recorded as its own row linked to the one it retried. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "base/dynbuf.h"
#include "base/errbody.h"
#include "capture/capture.h"
#include "capture/client.h"
#include "capture/ratelimit.h"
#include "base/util.h"

#define BODY_MAX ((size_t)1 << 30) /* a response body or header block, with its NUL */

static size_t on_body(char *p, size_t size, size_t n, void *arg) {
  return dynbuf_add(arg, p, size * n) == REQLOG_OK ? size * n : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg) {
  dynbuf *g = arg;
  if (size * n >= 5 && memcmp(p, "HTTP/", 5) == 0)
    dynbuf_clear(g); /* a new response (after a 1xx or a redirect) replaces the last */
  return dynbuf_add(g, p, size * n) == REQLOG_OK ? size * n : 0;
}

static int idempotent(const char *m) {
  static const char *const ok[] = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE", NULL};
  for (int i = 0; ok[i]; i++)
    if (strcmp(ok[i], m) == 0)
      return 1;
  return 0;
}

/* Transport errors after which the request cannot have been processed, or that an
 * idempotent request may safely repeat. */
static int retryable_transport(CURLcode c) {
  switch (c) {
  case CURLE_COULDNT_CONNECT:
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_GOT_NOTHING:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_PARTIAL_FILE:
    return 1;
  default:
    return 0;
  }
}

/* Retry-After in microseconds from a header block: delta seconds or an HTTP date.
 * -1 when absent or unreadable. */
static int64_t retry_after_us(const char *head) {
  char val[128];
  if (!util_header_value(head, "Retry-After", val, sizeof val))
    return -1;
  /* a trailing blank or CR is not part of the value */
  size_t n = strlen(val);
  while (n && (val[n - 1] == ' ' || val[n - 1] == '\t'))
    val[--n] = '\0';
  if (isdigit((unsigned char)val[0])) {
    char *end = NULL;
    long long s = strtoll(val, &end, 10);
    if (*end == '\0' && s >= 0 && s < 86400LL * 365)
      return (int64_t)s * 1000000;
    return -1;
  }
  time_t when = curl_getdate(val, NULL);
  if (when < 0)
    return -1;
  int64_t d = (int64_t)when * 1000000 - util_now_us();
  return d > 0 ? d : 0;
}

static void sleep_us(int64_t us) {
  struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

/* Exponential backoff with jitter: between half and all of BASE * 2^(attempt-1), at
 * most 30 s, so that clients that failed together do not come back together. */
static int64_t backoff_us(long base_ms, int attempt, unsigned *seed) {
  int64_t b = (int64_t)base_ms * 1000;
  for (int i = 1; i < attempt && b < 30000000; i++)
    b *= 2;
  if (b > 30000000)
    b = 30000000;
  return b / 2 + (int64_t)((double)rand_r(seed) / RAND_MAX * (double)(b / 2));
}

static int has_header(const char *const *headers, const char *name) {
  size_t n = strlen(name);
  for (int i = 0; headers && headers[i]; i++)
    if (strncasecmp(headers[i], name, n) == 0 && headers[i][n] == ':')
      return 1;
  return 0;
}

/* The request headers: the API's defaults unless the caller gives the same name, then
 * the caller's own. NULL on out of memory. */
static struct curl_slist *build_headers(const char *key, int has_body,
                                        const char *const *headers) {
  struct curl_slist *l = NULL, *t;
  char *auth = NULL;
  int ok = 1;
  if (key && !has_header(headers, "Authorization")) {
    ok = asprintf(&auth, "Authorization: Bearer %s", key) >= 0;
    if (ok && (t = curl_slist_append(l, auth)) != NULL)
      l = t;
    else
      ok = 0;
    if (auth) {
      memset(auth, 0, strlen(auth));
      free(auth);
    }
  }
  if (ok && !has_header(headers, "Accept"))
    ok = (t = curl_slist_append(l, "Accept: application/json")) != NULL && (l = t);
  if (ok && has_body && !has_header(headers, "Content-Type"))
    ok = (t = curl_slist_append(l, "Content-Type: application/json")) != NULL && (l = t);
  if (ok && !has_header(headers, "Expect"))
    ok = (t = curl_slist_append(l, "Expect:")) != NULL && (l = t);
  for (int i = 0; ok && headers && headers[i]; i++)
    ok = (t = curl_slist_append(l, headers[i])) != NULL && (l = t);
  if (!ok) {
    curl_slist_free_all(l);
    return NULL;
  }
  return l;
}

static CURL *take_easy(reqlog *r) {
  CURL *e = NULL;
  pthread_mutex_lock(&r->pool_lock);
  if (r->neasy > 0)
    e = r->easy_pool[--r->neasy];
  pthread_mutex_unlock(&r->pool_lock);
  return e ? e : curl_easy_init();
}

static void give_easy(reqlog *r, CURL *e) {
  pthread_mutex_lock(&r->pool_lock);
  if (r->neasy < (int)(sizeof r->easy_pool / sizeof r->easy_pool[0])) {
    r->easy_pool[r->neasy++] = e;
    e = NULL;
  }
  pthread_mutex_unlock(&r->pool_lock);
  if (e)
    curl_easy_cleanup(e);
}

/* U itself when it is an absolute URL ("scheme://..."), else U put after BASE as a path
 * (a query holding "http://..." does not make a path absolute). NULL on out of memory. */
static char *full_url(const char *base, const char *u) {
  char *out = NULL;
  size_t n = u[0] == '/' ? 0 : util_url_scheme_len(u);
  if (n && u[n + 1] == '/' && u[n + 2] == '/')
    return strdup(u);
  if (asprintf(&out, "%s%s%s", base, u[0] == '/' ? "" : "/", u) < 0)
    return NULL;
  return out;
}

typedef struct settings {
  char *base, *key;
  char key_fp[48];
  int rate, max_attempts;
  long rate_window_ms, base_ms, max_wait_ms, timeout_ms;
} settings;

static void settings_free(settings *s) {
  free(s->base);
  if (s->key) {
    memset(s->key, 0, strlen(s->key));
    free(s->key);
  }
}

/* BASE (not NULL): the base URL of this one call, in place of the handle's: the key's
 * origin and what a path goes after. */
static reqlog_err settings_read(reqlog *r, settings *s, const char *base) {
  memset(s, 0, sizeof *s);
  pthread_rwlock_rdlock(&r->cfg);
  s->base = util_strdup(base ? base : r->base_url);
  s->key = util_strdup(r->api_key);
  memcpy(s->key_fp, r->key_fp, sizeof s->key_fp);
  s->rate = r->rate;
  s->rate_window_ms = r->rate_window_ms;
  s->max_attempts = r->max_attempts;
  s->base_ms = r->retry_base_ms;
  s->max_wait_ms = r->retry_max_wait_ms;
  s->timeout_ms = r->timeout_ms;
  int bad = !s->base || (r->api_key && !s->key);
  pthread_rwlock_unlock(&r->cfg);
  if (bad) {
    settings_free(s);
    return REQLOG_ERR_NOMEM;
  }
  return REQLOG_OK;
}

static void setup(CURL *e, const char *url, const char *method, const char *body,
                  size_t body_len, struct curl_slist *hdrs, long timeout_ms, dynbuf *rbody,
                  dynbuf *rhead, char *errbuf) {
  curl_easy_reset(e);
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
  /* http and https only, redirects included: never file:, gopher: or any other */
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 10000 ? timeout_ms : 10000L);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, rbody);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, rhead);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "reqlog/" REQLOG_VERSION);
  if (strcmp(method, "HEAD") == 0)
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  else if (strcmp(method, "GET") != 0)
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
  if (body) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    if (strcmp(method, "POST") != 0)
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
  }
}

/* Where URL may go and with what key: REQLOG_KEY_REFUSED when it is not an http or https
 * URL libcurl can read (*cause, when CAUSE is not NULL, says why), else REQLOG_KEY_UNSET
 * without a key, REQLOG_KEY_SENT when URL has the base URL's scheme, host and port, and
 * REQLOG_KEY_OTHER_ORIGIN otherwise. */
static reqlog_key_use key_use(const settings *s, const char *url, char **cause) {
  char origin[512], base_origin[512], scheme[16];
  int rc = util_http_origin(url, origin, sizeof origin, scheme);
  if (rc != 0) {
    if (rc == -2)
      util_fail(cause, REQLOG_ERR_ARG, "only http and https URLs are sent; '%s' is another "
                "scheme", scheme);
    else
      util_fail(cause, REQLOG_ERR_ARG, "not a URL reqlog can send");
    return REQLOG_KEY_REFUSED;
  }
  if (!s->key)
    return REQLOG_KEY_UNSET;
  if (util_http_origin(s->base, base_origin, sizeof base_origin, scheme) != 0 ||
      strcmp(origin, base_origin) != 0)
    return REQLOG_KEY_OTHER_ORIGIN;
  return REQLOG_KEY_SENT;
}

reqlog_key_use client_key_applies(reqlog *r, const char *url_or_path, const char *base,
                                  char fp[48], char **cause) {
  if (fp)
    fp[0] = '\0';
  if (cause)
    *cause = NULL;
  if (!r || !url_or_path || !*url_or_path) {
    util_fail(cause, REQLOG_ERR_ARG, r ? "no URL" : "no reqlog handle");
    return REQLOG_KEY_REFUSED;
  }
  settings s;
  if (settings_read(r, &s, base) != REQLOG_OK) {
    util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
    return REQLOG_KEY_REFUSED;
  }
  char *url = full_url(s.base, url_or_path);
  reqlog_key_use use = REQLOG_KEY_REFUSED;
  if (url)
    use = key_use(&s, url, cause);
  else
    util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  if (use == REQLOG_KEY_SENT && fp)
    memcpy(fp, s.key_fp, 48);
  free(url);
  settings_free(&s);
  return use;
}

reqlog_key_use reqlog_key_applies(reqlog *r, const char *url_or_path, char fp[48],
                                  char **cause) {
  return client_key_applies(r, url_or_path, NULL, fp, cause);
}

/* One reqlog_request(): what it sends, and what its attempts got. */
typedef struct call {
  reqlog *r;
  settings s;
  const char *method, *body;
  size_t body_len;
  char *url;
  const char *key_fp;           /* the key the rows name, or NULL */
  const char *base;             /* this call's base URL, NULL: the handle's */
  int64_t replay_of;            /* the row this call replays, 0: none */
  struct curl_slist *hdrs;
  CURL *e;
  reqlog_response *resp;        /* allocated up front: nothing is sent without it */
  dynbuf rbody, rhead;
  char errbuf[CURL_ERROR_SIZE];
  CURLcode code;
  long status;
  int attempts;
  int64_t queued_total;
  capture_result cres;
} call;

static void call_free(call *c) {
  if (c->e) {
    curl_easy_reset(c->e); /* drops pointers to this call's buffers, keeps the connection */
    give_easy(c->r, c->e);
  }
  curl_slist_free_all(c->hdrs);
  free(c->url);
  free(c->resp);
  dynbuf_free(&c->rbody);
  dynbuf_free(&c->rhead);
  settings_free(&c->s);
}

/* Reads the settings and makes the URL, headers, easy handle and response of C (whose
 * R, METHOD, BODY and BODY_LEN are set). REQLOG_ERR_ARG for a URL that is not http or
 * https (nothing is sent), REQLOG_ERR_NOMEM; C is freed on error. */
static reqlog_err call_start(call *c, const char *url_or_path, const char *const *headers) {
  dynbuf_init(&c->rbody, BODY_MAX - 1);
  dynbuf_init(&c->rhead, BODY_MAX - 1);
  if (settings_read(c->r, &c->s, c->base) != REQLOG_OK)
    return REQLOG_ERR_NOMEM;
  c->url = full_url(c->s.base, url_or_path);
  reqlog_key_use use = c->url ? key_use(&c->s, c->url, NULL) : REQLOG_KEY_REFUSED;
  if (c->url && use == REQLOG_KEY_REFUSED) {
    call_free(c);
    return REQLOG_ERR_ARG;
  }
  /* the key goes to the base URL's origin only, and only when the caller's headers do not
   * say otherwise; the row then names it even when no header could be written */
  const char *key = use == REQLOG_KEY_SENT ? c->s.key : NULL;
  c->key_fp = key && !has_header(headers, "Authorization") ? c->s.key_fp : NULL;
  c->resp = calloc(1, sizeof *c->resp);
  c->hdrs = build_headers(key, c->body != NULL, headers);
  c->e = take_easy(c->r);
  if (!c->resp || !c->url || !c->hdrs || !c->e) {
    if (c->e)
      curl_easy_cleanup(c->e);
    c->e = NULL;
    call_free(c);
    return REQLOG_ERR_NOMEM;
  }
  return REQLOG_OK;
}

/* Attempt number N (its row retries the row of PREV_SEQ); sets CODE and STATUS and
 * returns the attempt's sequence number. */
static uint64_t call_attempt(call *c, int n, uint64_t prev_seq) {
  dynbuf_clear(&c->rbody);
  dynbuf_clear(&c->rhead);
  c->errbuf[0] = '\0';
  setup(c->e, c->url, c->method, c->body, c->body_len, c->hdrs, c->s.timeout_ms, &c->rbody,
        &c->rhead, c->errbuf);
  int64_t queued = 0;
  ratelimit_acquire(c->r, c->s.key_fp, c->s.rate, c->s.rate_window_ms, &queued);
  c->queued_total += queued;
  capture_meta m = {0};
  m.attempt = n;
  m.retry_of_seq = prev_seq;
  m.queued_us = queued;
  m.key_fp = c->key_fp;
  m.replay_of = c->replay_of;
  c->code = capture_perform(c->r, c->e, &m, &c->cres);
  c->status = 0;
  curl_easy_getinfo(c->e, CURLINFO_RESPONSE_CODE, &c->status);
  if (c->code != CURLE_OK && c->rhead.len == 0)
    c->status = 0;
  return c->cres.seq;
}

/* Non-zero when the last attempt may be repeated; *wait gets the pause the server asked
 * for (Retry-After), or -1. */
static int call_retryable(const call *c, int64_t *wait) {
  const char *head = c->rhead.data ? c->rhead.data : "";
  *wait = -1;
  if (c->code != CURLE_OK && c->status == 0)
    return idempotent(c->method) && retryable_transport(c->code);
  if (c->status == 429) {
    *wait = retry_after_us(head);
    return 1; /* a 429 was not processed: safe to repeat whatever the method */
  }
  if (c->status == 502 || c->status == 503 || c->status == 504) {
    *wait = retry_after_us(head);
    return idempotent(c->method);
  }
  return 0;
}

/* The attempts: until one needs no retry, the attempts run out, or the server asks for
 * a longer pause than we may wait (its answer is handed back). */
static void call_run(call *c) {
  unsigned seed = (unsigned)(util_now_us() ^ (int64_t)getpid());
  uint64_t prev_seq = 0;
  for (c->attempts = 1;; c->attempts++) {
    prev_seq = call_attempt(c, c->attempts, prev_seq);
    int64_t wait;
    if (!call_retryable(c, &wait) || c->attempts >= c->s.max_attempts)
      return;
    if (wait < 0)
      wait = backoff_us(c->s.base_ms, c->attempts, &seed);
    if (wait > (int64_t)c->s.max_wait_ms * 1000)
      return;
    sleep_us(wait);
  }
}

/* The response of the last attempt, handed over (C keeps nothing of it). */
static reqlog_response *call_response(call *c) {
  reqlog_response *resp = c->resp;
  c->resp = NULL;
  resp->status = c->status;
  resp->curl_code = c->code;
  resp->attempts = c->attempts;
  resp->queued_ms = (double)c->queued_total / 1000.0;
  resp->row_id = c->cres.row_id;
  resp->record_err = c->cres.record_err;
  if (c->code != CURLE_OK)
    resp->error = strdup(c->errbuf[0] ? c->errbuf : curl_easy_strerror(c->code));
  resp->body_len = c->rbody.len;
  resp->headers = c->rhead.data ? dynbuf_take(&c->rhead) : strdup("");
  resp->body = c->rbody.data ? dynbuf_take(&c->rbody) : strdup("");
  if (c->status >= 400 &&
      errbody_parse(resp->body, resp->body_len, &resp->error_message, &resp->error_fields) != 0) {
    /* out of memory reading the error shape: the body is still there */
  }
  return resp;
}

reqlog_err reqlog_request(reqlog *r, const char *method, const char *url_or_path,
                          const char *body, size_t body_len, const char *const *headers,
                          reqlog_response **out) {
  return client_request(r, method, url_or_path, body, body_len, headers, NULL, 0, out);
}

reqlog_err client_request(reqlog *r, const char *method, const char *url_or_path,
                          const char *body, size_t body_len, const char *const *headers,
                          const char *base, int64_t replay_of, reqlog_response **out) {
  if (out)
    *out = NULL;
  if (!r || !out || !url_or_path || !*url_or_path || !util_is_method(method))
    return REQLOG_ERR_ARG;
  call c = {.r = r, .method = method, .body = body, .body_len = body_len, .base = base,
            .replay_of = replay_of};
  reqlog_err err = call_start(&c, url_or_path, headers);
  if (err != REQLOG_OK)
    return err;
  call_run(&c);
  *out = call_response(&c);
  long status = c.status;
  call_free(&c);
  if (status == 0)
    return REQLOG_ERR_TRANSPORT;
  return status >= 400 ? REQLOG_ERR_HTTP : REQLOG_OK;
}

void reqlog_response_free(reqlog_response *resp) {
  if (!resp)
    return;
  free(resp->error);
  free(resp->headers);
  free(resp->body);
  free(resp->error_message);
  cJSON_Delete(resp->error_fields);
  free(resp);
}
