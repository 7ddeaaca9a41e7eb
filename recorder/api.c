/* api.c: the reqlog handle: open and close (of a history file, of a team store's spool
 * and its shipper), settings, and the error handler (which is also handed the notices of
 * opening, see base/notice.h). The public reading functions are in api_read.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handle.h"
#include "base/reqid.h"
#include "base/utf8.h"
#include "pg/pg.h"
#include "pg/pg_record.h"
#include "base/util.h"

const char *reqlog_version(void) {
  return REQLOG_VERSION;
}

reqlog_err reqlog_global_init(void) {
  return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK ? REQLOG_OK : REQLOG_ERR_ARG;
}

void reqlog_free(void *p) {
  free(p);
}

void handle_report(reqlog *r, reqlog_err err, const char *msg) {
  pthread_rwlock_rdlock(&r->cfg);
  reqlog_error_fn fn = r->err_fn;
  void *ctx = r->err_ctx;
  pthread_rwlock_unlock(&r->cfg);
  if (fn)
    fn(ctx, err, msg);
}

/* The writer thread's hook: redaction under the settings lock. */
static reqlog_err prepare_row(void *ctx, const record *rec, row_values *v) {
  reqlog *r = ctx;
  pthread_rwlock_rdlock(&r->cfg);
  reqlog_err err = row_prepare(r->rd, rec, v);
  pthread_rwlock_unlock(&r->cfg);
  return err;
}

/* V as a notice may quote it: V itself when it is printable UTF-8 of a sensible length,
 * else a description (a control character would reach the user's terminal). */
static const char *env_shown(const char *v) {
  size_t n = strlen(v);
  return n <= 256 && utf8_printable((const unsigned char *)v, n) ? v
                                                                  : "(unprintable or too long)";
}

/* *out gets the number in the environment variable NAME, or DFLT when it is unset or
 * empty, or (kept as a notice for the error handler) not a number from MIN to MAX.
 * Returns REQLOG_OK, or REQLOG_ERR_NOMEM when the notice cannot be kept. */
static reqlog_err env_long(reqlog *r, const char *name, long dflt, long min, long max,
                           long *out) {
  *out = dflt;
  const char *v = getenv(name);
  if (!v || !*v)
    return REQLOG_OK;
  char *end = NULL;
  long n = strtol(v, &end, 10);
  if (*end || n < min || n > max)
    return notice_add(&r->notices, "ignoring %s=%s (not a number from %ld to %ld)", name,
                      env_shown(v),
                      min, max);
  *out = n;
  return REQLOG_OK;
}

/* The settings the environment gives a new handle (see reqlog_open() in reqlog.h). */
static reqlog_err env_settings(reqlog *r) {
  long rate, timeout, cap;
  reqlog_err err = env_long(r, "REQLOG_RATE", 60, 0, 100000, &rate);
  if (err == REQLOG_OK)
    err = env_long(r, "REQLOG_RATE_WINDOW_MS", 60000, 100, 3600000, &r->rate_window_ms);
  if (err == REQLOG_OK)
    err = env_long(r, "REQLOG_TIMEOUT_MS", 60000, 1, 86400000, &timeout);
  if (err == REQLOG_OK)
    err = env_long(r, "REQLOG_BODY_CAP", DEFAULT_BODY_CAP, 0, 1L << 30, &cap);
  if (err == REQLOG_OK)
    err = env_long(r, "REQLOG_SHIP_WAIT_MS", 1500, 0, 600000, &r->ship_wait_ms);
  if (err != REQLOG_OK)
    return err;
  r->rate = (int)rate;
  r->timeout_ms = timeout;
  r->body_cap = (size_t)cap;
  const char *d = getenv("REQLOG_DURABILITY");
  r->durability = (d && strcmp(d, "sync") == 0) ? REQLOG_DURABILITY_SYNC : REQLOG_DURABILITY_BATCH;
  const char *base = getenv("REQLOG_BASE_URL");
  r->base_url = strdup(base && *base ? base : DEFAULT_BASE_URL);
  err = r->base_url ? redactor_new(&r->rd) : REQLOG_ERR_NOMEM;
  if (err == REQLOG_OK && getenv("REQLOG_REDACT"))
    err = redactor_add_list(r->rd, getenv("REQLOG_REDACT"));
  if (err == REQLOG_OK && getenv("REQLOG_API_KEY") && *getenv("REQLOG_API_KEY"))
    err = reqlog_set_api_key(r, getenv("REQLOG_API_KEY"));
  return err;
}

/* What the shipper thread has to say, for the handle's error handler. */
static void ship_report(void *ctx, reqlog_err err, const char *msg) {
  handle_report(ctx, err, msg);
}

/* Said once in a spool's life, when it is made: where the calls wait. */
static void spool_notice(reqlog *r, const char *url) {
  char *shown = pg_url_shown(url);
  notice_add(&r->notices, "recording into a new spool %s, shipped to %s (REQLOG_SPOOL "
             "chooses another file)", r->spool_path, shown ? shown : "the store");
  free(shown);
}

/* The last shipping of a handle that records for a team store: what this process
 * recorded goes to the store within the bound, else it waits in the spool (said). */
static void finish_shipping(reqlog *r) {
  pg_ship_end end = pg_shipthread_finish(r->ship, r->ship_wait_ms);
  r->ship = NULL;
  if (end.caught_up)
    return;
  char count[64] = "calls may not all be shipped yet";
  if (end.pending > 0)
    snprintf(count, sizeof count, "%lld call%s not shipped yet", (long long)end.pending,
             end.pending == 1 ? " is" : "s are");
  char msg[2048];
  snprintf(msg, sizeof msg, "%s: they wait in the spool %s for the next reqlog that "
           "records into it, or for `reqlog --db %s ship --to URL`", count, r->spool_path,
           r->spool_path);
  handle_report(r, REQLOG_OK, msg);
}

/* reqlog_open() and reqlog_open_readonly(). */
static reqlog_err open_handle(const char *path, int readonly, reqlog **out, char **cause) {
  if (!out)
    return util_fail(cause, REQLOG_ERR_ARG, "reqlog_open: OUT is NULL");
  *out = NULL;
  reqlog *r = calloc(1, sizeof *r);
  if (!r)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  pthread_rwlock_init(&r->cfg, NULL);
  pthread_mutex_init(&r->pool_lock, NULL);
  pthread_mutex_init(&r->rl_lock, NULL);
  r->max_attempts = 4;
  r->retry_base_ms = 500;
  r->retry_max_wait_ms = 120000;
  snprintf(r->source, sizeof r->source, "library");
  reqlog_err err = env_settings(r);
  if (err != REQLOG_OK) {
    util_fail(cause, err, "cannot set up reqlog: %s", reqlog_strerror(err));
    reqlog_close(r);
    return err;
  }
  /* OpenSSL initialises itself on first use; done first in the writer thread, its
   * per-thread error state of that init is never freed (LeakSanitizer: 904 bytes from
   * ERR_set_mark at exit, found by fuzz/fuzz_har.c). Here, in the opening thread, it is
   * freed by OpenSSL's own exit handler. */
  util_sha256_md();
  if (path && readonly && reqlog_is_store_url(path)) {
    err = pg_store_open(path, &r->pg, cause);
    if (err != REQLOG_OK) {
      reqlog_close(r);
      return err;
    }
  } else if (path) {
    const char *file = path;
    int new_spool = 0;
    if (reqlog_is_store_url(path)) {
      /* recording for a team store: into its local spool, shipped by a thread */
      err = pg_spool_path(path, &r->spool_path, cause);
      file = r->spool_path;
      new_spool = file && access(file, F_OK) != 0;
    }
    if (err == REQLOG_OK)
      err = readonly ? store_open_read(file, &r->st, cause)
                     : store_open(file, prepare_row, r, &r->st, cause);
    if (err == REQLOG_OK && r->spool_path)
      err = pg_shipthread_start(r->spool_path, path, ship_report, r, &r->ship, cause);
    if (err != REQLOG_OK) {
      reqlog_close(r);
      return err;
    }
    if (new_spool)
      spool_notice(r, path);
    store_set_sync(r->st, r->durability == REQLOG_DURABILITY_SYNC);
    const char *origin = getenv("REQLOG_ORIGIN");
    if (origin && *origin && reqlog_set_origin(r, origin) != REQLOG_OK)
      notice_add(&r->notices, "ignoring REQLOG_ORIGIN=%s (not 1 to 255 bytes of text without "
                 "control characters)", env_shown(origin));
    const char *reqid = getenv("REQLOG_REQUEST_ID_HEADERS");
    if (reqid && *reqid && reqlog_set_request_id_headers(r, reqid) != REQLOG_OK)
      notice_add(&r->notices, "ignoring REQLOG_REQUEST_ID_HEADERS=%s (not a comma list of 1 to "
                 "16 header names)", env_shown(reqid));
  }
  *out = r;
  return REQLOG_OK;
}

reqlog_err reqlog_open(const char *path, reqlog **out, char **cause) {
  return open_handle(path, 0, out, cause);
}

reqlog_err reqlog_open_readonly(const char *path, reqlog **out, char **cause) {
  if (!path) {
    if (out)
      *out = NULL;
    return util_fail(cause, REQLOG_ERR_ARG, "reqlog_open_readonly: no PATH");
  }
  return open_handle(path, 1, out, cause);
}

reqlog_err reqlog_close(reqlog *r) {
  if (!r)
    return REQLOG_OK;
  reqlog_err err = store_close(r->st); /* every recorded call committed to the spool */
  if (r->ship)
    finish_shipping(r);
  free(r->spool_path);
  pg_store_close(r->pg);
  for (int i = 0; i < r->neasy; i++)
    curl_easy_cleanup(r->easy_pool[i]);
  redactor_free(r->rd);
  if (r->api_key) {
    /* the key leaves memory as it came: wiped, not just freed */
    memset(r->api_key, 0, strlen(r->api_key));
    free(r->api_key);
  }
  free(r->base_url);
  notice_free(&r->notices);
  pthread_rwlock_destroy(&r->cfg);
  pthread_mutex_destroy(&r->pool_lock);
  pthread_mutex_destroy(&r->rl_lock);
  free(r);
  return err;
}

const char *reqlog_spool_path(const reqlog *r) {
  return r ? r->spool_path : NULL;
}

reqlog_err reqlog_flush(reqlog *r, char **cause) {
  if (cause)
    *cause = NULL;
  if (!r)
    return REQLOG_ERR_ARG;
  return r->st ? store_flush(r->st, cause) : REQLOG_OK;
}

reqlog_err reqlog_writer_stats_get(reqlog *r, reqlog_writer_stats *out) {
  if (!out)
    return REQLOG_ERR_ARG;
  memset(out, 0, sizeof *out);
  if (!r || !r->st)
    return REQLOG_ERR_ARG;
  store_stats(r->st, out); /* a history opened for reading: nothing written, all zero */
  return REQLOG_OK;
}

reqlog_err reqlog_set_durability(reqlog *r, reqlog_durability d) {
  if (!r || (d != REQLOG_DURABILITY_BATCH && d != REQLOG_DURABILITY_SYNC))
    return REQLOG_ERR_ARG;
  pthread_rwlock_wrlock(&r->cfg);
  r->durability = d;
  pthread_rwlock_unlock(&r->cfg);
  if (r->st)
    store_set_sync(r->st, d == REQLOG_DURABILITY_SYNC);
  return REQLOG_OK;
}

reqlog_err reqlog_set_api_key(reqlog *r, const char *key) {
  if (!r)
    return REQLOG_ERR_ARG;
  char *copy = NULL;
  if (key) {
    copy = strdup(key);
    if (!copy)
      return REQLOG_ERR_NOMEM;
  }
  pthread_rwlock_wrlock(&r->cfg);
  if (r->api_key) {
    memset(r->api_key, 0, strlen(r->api_key));
    free(r->api_key);
  }
  r->api_key = copy;
  if (copy)
    reqlog_key_fingerprint(copy, r->key_fp);
  else
    r->key_fp[0] = '\0';
  pthread_rwlock_unlock(&r->cfg);
  return REQLOG_OK;
}

int reqlog_is_token(const char *s) {
  return util_is_token(s);
}

reqlog_err reqlog_set_base_url(reqlog *r, const char *url) {
  char origin[512], scheme[16];
  if (!r || !url || !*url || util_http_origin(url, origin, sizeof origin, scheme) != 0)
    return REQLOG_ERR_ARG;
  char *copy = strdup(url);
  if (!copy)
    return REQLOG_ERR_NOMEM;
  size_t n = strlen(copy);
  while (n > 1 && copy[n - 1] == '/')
    copy[--n] = '\0';
  pthread_rwlock_wrlock(&r->cfg);
  free(r->base_url);
  r->base_url = copy;
  pthread_rwlock_unlock(&r->cfg);
  return REQLOG_OK;
}

reqlog_err reqlog_set_rate_limit(reqlog *r, int per_minute) {
  if (!r || per_minute < 0)
    return REQLOG_ERR_ARG;
  pthread_rwlock_wrlock(&r->cfg);
  r->rate = per_minute;
  pthread_rwlock_unlock(&r->cfg);
  return REQLOG_OK;
}

int reqlog_rate_limit(const reqlog *r) {
  if (!r)
    return -1;
  pthread_rwlock_rdlock((pthread_rwlock_t *)&r->cfg);
  int rate = r->rate;
  pthread_rwlock_unlock((pthread_rwlock_t *)&r->cfg);
  return rate;
}

reqlog_err reqlog_set_retry(reqlog *r, int max_attempts, long base_ms, long max_wait_ms) {
  if (!r || max_attempts < 1 || max_attempts > 100 || base_ms < 0 || max_wait_ms < 0)
    return REQLOG_ERR_ARG;
  pthread_rwlock_wrlock(&r->cfg);
  r->max_attempts = max_attempts;
  r->retry_base_ms = base_ms;
  r->retry_max_wait_ms = max_wait_ms;
  pthread_rwlock_unlock(&r->cfg);
  return REQLOG_OK;
}

reqlog_err reqlog_set_timeout(reqlog *r, long ms) {
  if (!r || ms < 1)
    return REQLOG_ERR_ARG;
  pthread_rwlock_wrlock(&r->cfg);
  r->timeout_ms = ms;
  pthread_rwlock_unlock(&r->cfg);
  return REQLOG_OK;
}

reqlog_err reqlog_set_body_cap(reqlog *r, size_t bytes) {
  if (!r)
    return REQLOG_ERR_ARG;
  pthread_rwlock_wrlock(&r->cfg);
  r->body_cap = bytes;
  pthread_rwlock_unlock(&r->cfg);
  return REQLOG_OK;
}

reqlog_err reqlog_add_redaction(reqlog *r, const char *name) {
  if (!r || !name)
    return REQLOG_ERR_ARG;
  pthread_rwlock_wrlock(&r->cfg);
  reqlog_err err = redactor_add(r->rd, name);
  pthread_rwlock_unlock(&r->cfg);
  return err;
}

reqlog_err reqlog_set_source(reqlog *r, const char *source) {
  static const char *const known[] = {"library", "cli", "proxy", "exec", "import", NULL};
  if (!r || !source)
    return REQLOG_ERR_ARG;
  for (int i = 0; known[i]; i++) {
    if (strcmp(known[i], source) == 0) {
      pthread_rwlock_wrlock(&r->cfg);
      snprintf(r->source, sizeof r->source, "%s", source);
      pthread_rwlock_unlock(&r->cfg);
      return REQLOG_OK;
    }
  }
  return REQLOG_ERR_ARG;
}

reqlog_err reqlog_set_origin(reqlog *r, const char *origin) {
  if (!r || !util_is_origin(origin))
    return REQLOG_ERR_ARG;
  if (r->st)
    store_set_origin(r->st, origin);
  return REQLOG_OK;
}

reqlog_err reqlog_set_request_id_headers(reqlog *r, const char *names) {
  char list[REQID_LIST_MAX + 1];
  if (!r || reqid_list_parse(names, list) != 0)
    return REQLOG_ERR_ARG;
  if (r->st)
    store_set_request_id_headers(r->st, list);
  return REQLOG_OK;
}

reqlog_err reqlog_set_error_handler(reqlog *r, reqlog_error_fn fn, void *ctx) {
  if (!r)
    return REQLOG_ERR_ARG;
  pthread_rwlock_wrlock(&r->cfg);
  r->err_fn = fn;
  r->err_ctx = ctx;
  notice pending = fn ? notice_take(&r->notices) : (notice){0};
  pthread_rwlock_unlock(&r->cfg);
  notice_hand(&pending, fn, ctx); /* the environment's notices, said once */
  if (r->st)
    store_set_error_handler(r->st, fn, ctx);
  return REQLOG_OK;
}
