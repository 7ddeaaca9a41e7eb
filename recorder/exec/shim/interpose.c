/* interpose.c: the libcurl functions the exec shim replaces in a traced program. Each
 * calls the program's own libcurl (found with dlsym(RTLD_NEXT)) and around it runs a
 * capture session per transfer: from curl_easy_perform's start to its return, or from
 * curl_multi_add_handle to the transfer's CURLMSG_DONE in curl_multi_info_read (or its
 * curl_multi_remove_handle / curl_easy_cleanup, if the program stops it first).
 *
 * A session needs the handle's debug stream, which the program may use itself: a table
 * keeps each handle's CURLOPT_DEBUGFUNCTION / DEBUGDATA / VERBOSE / STDERR as the
 * program set them (curl_easy_setopt), the session passes the stream on to them, and
 * they are put back when it ends; curl_easy_init, _reset, _duphandle and _cleanup keep
 * the table right. libcurl itself calls some of these functions (curl_easy_perform runs
 * a private multi handle), so a handle has at most one session and the inner calls pass
 * straight through. With no parent to send to, every function only passes through.
 *
 * Locking: one mutex guards the table; it is never held while calling into libcurl,
 * because libcurl may call back into the functions below. */
#include <curl/curl.h>
/* curl.h turns these into type-checking macros under GCC optimisation; the shim
 * defines the functions themselves */
#undef curl_easy_setopt
#undef curl_easy_getinfo

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capsess.h"
#include "exec/shim/shim.h"
#include "exec/shim_wire.h"
#include "base/util.h"

#define SHIM_EXPORT __attribute__((visibility("default")))
#define NBUCKETS 1024
#define DEFAULT_CAP (1024 * 1024)

/* The program's libcurl. */
static struct {
  CURL *(*easy_init)(void);
  CURLcode (*easy_perform)(CURL *);
  CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
  CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
  const char *(*easy_strerror)(CURLcode);
  void (*easy_reset)(CURL *);
  void (*easy_cleanup)(CURL *);
  CURL *(*easy_duphandle)(CURL *);
  CURLMcode (*multi_add_handle)(CURLM *, CURL *);
  CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
  CURLMsg *(*multi_info_read)(CURLM *, int *);
} real;

static pthread_once_t env_once = PTHREAD_ONCE_INIT, curl_once = PTHREAD_ONCE_INIT;
static int parent_set;  /* the environment names a parent to send to */
static int recording;   /* set once: a parent, and every real function found */
static size_t body_cap = DEFAULT_CAP;

/* One transfer being recorded. */
typedef struct xfer {
  capsess sess;
  record *rec;
  int via_multi;       /* started by curl_multi_add_handle, else by curl_easy_perform */
} xfer;

/* What the shim knows about one easy handle. */
typedef struct entry {
  struct entry *next;
  CURL *easy;
  capsess_chain chain; /* the program's debug settings; a session passes the stream on */
  xfer *x;             /* the transfer being recorded, or NULL */
} entry;

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static entry *table[NBUCKETS];

/* ------------------------------------------------------------------ setup */

static void before_fork(void) {
  pthread_mutex_lock(&table_lock);
  shim_parent_lock();
}

static void after_fork(void) {
  shim_parent_unlock();
  pthread_mutex_unlock(&table_lock);
}

/* Reads the environment the parent set, before the program's main() can change it. */
static void read_env(void) {
  const char *cap = getenv(WIRE_ENV_BODY_CAP);
  if (cap && *cap) {
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(cap, &end, 10);
    if (errno == 0 && *end == '\0' && v <= SIZE_MAX)
      body_cap = (size_t)v;
  }
  parent_set = shim_parent_init(getenv(WIRE_ENV_SOCKET)) == 0 &&
               pthread_atfork(before_fork, after_fork, after_fork) == 0;
}

/* The program's libcurl function NAME: the next definition after the shim's, or, when
 * the program loaded libcurl privately (dlopen without RTLD_GLOBAL, so RTLD_NEXT does
 * not see it), the one in whichever libcurl is loaded. */
static void *real_fn(const char *name) {
  static const char *const libs[] = {"libcurl.so.4", "libcurl-gnutls.so.4", "libcurl-nss.so.4"};
  void *fn = dlsym(RTLD_NEXT, name);
  for (size_t i = 0; !fn && i < sizeof libs / sizeof libs[0]; i++) {
    void *lib = dlopen(libs[i], RTLD_LAZY | RTLD_NOLOAD);
    if (lib) {
      fn = dlsym(lib, name);
      dlclose(lib);
    }
  }
  return fn;
}

#define RESOLVE(field, name) (real.field = (__typeof__(real.field))real_fn(name))

/* Runs on the first call of any function below: by then the caller's libcurl is loaded. */
static void resolve(void) {
  int found = RESOLVE(easy_init, "curl_easy_init") != NULL;
  found &= RESOLVE(easy_perform, "curl_easy_perform") != NULL;
  found &= RESOLVE(easy_setopt, "curl_easy_setopt") != NULL;
  found &= RESOLVE(easy_getinfo, "curl_easy_getinfo") != NULL;
  found &= RESOLVE(easy_strerror, "curl_easy_strerror") != NULL;
  found &= RESOLVE(easy_reset, "curl_easy_reset") != NULL;
  found &= RESOLVE(easy_cleanup, "curl_easy_cleanup") != NULL;
  found &= RESOLVE(easy_duphandle, "curl_easy_duphandle") != NULL;
  found &= RESOLVE(multi_add_handle, "curl_multi_add_handle") != NULL;
  found &= RESOLVE(multi_remove_handle, "curl_multi_remove_handle") != NULL;
  found &= RESOLVE(multi_info_read, "curl_multi_info_read") != NULL;
  recording = found && parent_set;
}

__attribute__((constructor)) static void shim_load(void) {
  pthread_once(&env_once, read_env);
}

int shim_active(void) {
  pthread_once(&env_once, read_env);
  return parent_set;
}

static void shim_init(void) {
  pthread_once(&env_once, read_env); /* a library constructor may use libcurl first */
  pthread_once(&curl_once, resolve);
}

/* ------------------------------------------------------------------ the table */

static entry **bucket(CURL *easy) {
  uintptr_t h = (uintptr_t)easy;
  return &table[(h >> 4 ^ h >> 14) % NBUCKETS];
}

/* The entry of EASY, or NULL. Table lock held. */
static entry *find(CURL *easy) {
  for (entry *e = *bucket(easy); e; e = e->next)
    if (e->easy == easy)
      return e;
  return NULL;
}

/* The entry of EASY, made when missing; NULL when out of memory. Table lock held. */
static entry *find_or_add(CURL *easy) {
  entry *e = find(easy);
  if (e)
    return e;
  e = calloc(1, sizeof *e);
  if (!e)
    return NULL;
  e->easy = easy;
  entry **b = bucket(easy);
  e->next = *b;
  *b = e;
  return e;
}

/* Takes EASY's entry out of the table and returns it (NULL if none). Table lock held. */
static entry *unlink_entry(CURL *easy) {
  for (entry **p = bucket(easy); *p; p = &(*p)->next) {
    if ((*p)->easy == easy) {
      entry *e = *p;
      *p = e->next;
      return e;
    }
  }
  return NULL;
}

/* ------------------------------------------------------------------ sessions */

static void set_debug(CURL *easy, curl_debug_callback fn, void *data, long verbose) {
  real.easy_setopt(easy, CURLOPT_DEBUGFUNCTION, fn);
  real.easy_setopt(easy, CURLOPT_DEBUGDATA, data);
  real.easy_setopt(easy, CURLOPT_VERBOSE, verbose);
}

static void xfer_free(xfer *x) {
  capsess_discard(&x->sess);
  record_free(x->rec);
  free(x);
}

/* Starts recording the transfer on EASY, unless one already is (libcurl's own inner
 * calls). Returns the session, or NULL when none was started. */
static xfer *xfer_begin(CURL *easy, int via_multi) {
  xfer *x = calloc(1, sizeof *x);
  record *rec = x ? record_new(body_cap) : NULL;
  if (!rec) {
    free(x);
    return NULL;
  }
  x->rec = rec;
  x->via_multi = via_multi;
  rec->started_us = util_now_us();
  memcpy(rec->source, "exec", 5);
  pthread_mutex_lock(&table_lock);
  entry *e = find_or_add(easy);
  if (!e || e->x) {
    pthread_mutex_unlock(&table_lock);
    record_free(rec);
    free(x);
    return NULL;
  }
  e->x = x;
  capsess_init(&x->sess, rec, &e->chain);
  pthread_mutex_unlock(&table_lock);
  set_debug(easy, capsess_debug, &x->sess, 1L);
  return x;
}

/* The transfer on EASY ended with CODE: fill the record and send it. The program's
 * debug settings are already back on EASY, so nothing can reach the session any more.
 * STOPPED: the program ended it before libcurl said it was done. */
static void xfer_finish(xfer *x, CURL *easy, CURLcode code, int stopped) {
  const capsess_curl fns = {real.easy_getinfo, real.easy_strerror};
  int answered = capsess_got_response(&x->sess);
  capsess_finish(&x->sess, easy, code, &fns);
  record *rec = x->rec;
  if (stopped && !rec->error) {
    curl_off_t want = -1, got = 0;
    real.easy_getinfo(easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &want);
    real.easy_getinfo(easy, CURLINFO_SIZE_DOWNLOAD_T, &got);
    if (!answered)
      rec->error = util_strdup("stopped by the program before a response came");
    else if (want >= 0 && got < want &&
             asprintf(&rec->error, "stopped by the program after %lld of %lld body bytes",
                      (long long)got, (long long)want) < 0)
      rec->error = NULL;
  }
  shim_parent_send(rec);
  xfer_free(x);
}

/* Ends EASY's session if it is of the kind VIA_MULTI says: puts the program's debug
 * settings back, then records. */
static void xfer_end(CURL *easy, int via_multi, CURLcode code, int stopped) {
  pthread_mutex_lock(&table_lock);
  entry *e = find(easy);
  xfer *x = e ? e->x : NULL;
  if (!x || x->via_multi != via_multi) {
    pthread_mutex_unlock(&table_lock);
    return;
  }
  e->x = NULL;
  capsess_chain chain = e->chain;
  pthread_mutex_unlock(&table_lock);
  set_debug(easy, chain.fn, chain.data, chain.verbose);
  xfer_finish(x, easy, code, stopped);
}

/* Drops EASY's session without recording (the transfer never started). */
static void xfer_cancel(CURL *easy, xfer *x) {
  pthread_mutex_lock(&table_lock);
  entry *e = find(easy);
  capsess_chain chain = {0};
  if (e && e->x == x) {
    e->x = NULL;
    chain = e->chain;
  }
  pthread_mutex_unlock(&table_lock);
  set_debug(easy, chain.fn, chain.data, chain.verbose);
  xfer_free(x);
}

/* Forgets a stale entry at EASY's address (a handle libcurl freed without
 * curl_easy_cleanup, e.g. its own DoH probes). */
static void forget(CURL *easy) {
  pthread_mutex_lock(&table_lock);
  entry *e = unlink_entry(easy);
  pthread_mutex_unlock(&table_lock);
  if (e) {
    if (e->x)
      xfer_free(e->x);
    free(e);
  }
}

/* ------------------------------------------------------------------ easy interface */

SHIM_EXPORT CURL *curl_easy_init(void) {
  shim_init();
  if (!real.easy_init)
    return NULL;
  CURL *easy = real.easy_init();
  if (easy && recording)
    forget(easy);
  return easy;
}

SHIM_EXPORT CURLcode curl_easy_perform(CURL *easy) {
  shim_init();
  if (!real.easy_perform)
    return CURLE_FAILED_INIT;
  if (!recording || !easy)
    return real.easy_perform(easy);
  xfer *x = xfer_begin(easy, 0);
  CURLcode code = real.easy_perform(easy);
  if (x)
    xfer_end(easy, 0, code, 0);
  return code;
}

/* Remembers the program's debug setting OPTION on EASY. Returns 1 when a recorded
 * transfer is running on EASY: libcurl keeps the session's setting until it ends. */
static int remember(CURL *easy, CURLoption option, long lv, void *pv, curl_debug_callback fv) {
  pthread_mutex_lock(&table_lock);
  entry *e = find_or_add(easy);
  int running = e && e->x;
  if (e) {
    switch (option) {
    case CURLOPT_DEBUGFUNCTION: e->chain.fn = fv; break;
    case CURLOPT_DEBUGDATA: e->chain.data = pv; break;
    case CURLOPT_VERBOSE: e->chain.verbose = lv != 0; break;
    case CURLOPT_STDERR: e->chain.err = pv; running = 0; break;
    default: break;
    }
  }
  pthread_mutex_unlock(&table_lock);
  return running;
}

SHIM_EXPORT CURLcode curl_easy_setopt(CURL *easy, CURLoption option, ...) {
  /* the argument's type follows from the option's number, as libcurl reads it */
  enum { T_LONG, T_PTR, T_FUNC, T_OFF } type;
  long lv = 0;
  void *pv = NULL;
  void (*fv)(void) = NULL;
  curl_off_t ov = 0;
  va_list ap;
  va_start(ap, option);
  if (option < CURLOPTTYPE_OBJECTPOINT) {
    type = T_LONG;
    lv = va_arg(ap, long);
  } else if (option < CURLOPTTYPE_FUNCTIONPOINT) {
    type = T_PTR;
    pv = va_arg(ap, void *);
  } else if (option < CURLOPTTYPE_OFF_T) {
    type = T_FUNC;
    fv = va_arg(ap, void (*)(void));
  } else if (option < CURLOPTTYPE_BLOB) {
    type = T_OFF;
    ov = va_arg(ap, curl_off_t);
  } else {
    type = T_PTR; /* a struct curl_blob * */
    pv = va_arg(ap, void *);
  }
  va_end(ap);

  shim_init();
  if (!real.easy_setopt)
    return CURLE_FAILED_INIT;
  if (recording && easy &&
      (option == CURLOPT_DEBUGFUNCTION || option == CURLOPT_DEBUGDATA ||
       option == CURLOPT_VERBOSE || option == CURLOPT_STDERR) &&
      remember(easy, option, lv, pv, (curl_debug_callback)fv))
    return CURLE_OK;
  switch (type) {
  case T_LONG: return real.easy_setopt(easy, option, lv);
  case T_FUNC: return real.easy_setopt(easy, option, fv);
  case T_OFF: return real.easy_setopt(easy, option, ov);
  default: return real.easy_setopt(easy, option, pv);
  }
}

SHIM_EXPORT void curl_easy_reset(CURL *easy) {
  shim_init();
  if (!real.easy_reset)
    return;
  if (recording && easy) {
    pthread_mutex_lock(&table_lock);
    entry *e = find(easy);
    if (e && !e->x)
      memset(&e->chain, 0, sizeof e->chain);
    pthread_mutex_unlock(&table_lock);
  }
  real.easy_reset(easy);
}

SHIM_EXPORT CURL *curl_easy_duphandle(CURL *easy) {
  shim_init();
  if (!real.easy_duphandle)
    return NULL;
  CURL *dup = real.easy_duphandle(easy);
  if (!dup || !recording)
    return dup;
  forget(dup);
  pthread_mutex_lock(&table_lock);
  entry *e = find(easy);
  capsess_chain chain = {0};
  int running = 0;
  if (e) {
    chain = e->chain;
    running = e->x != NULL;
    entry *d = find_or_add(dup);
    if (d)
      d->chain = chain;
  }
  pthread_mutex_unlock(&table_lock);
  if (running) /* the copy took the session's settings; it gets the program's */
    set_debug(dup, chain.fn, chain.data, chain.verbose);
  return dup;
}

SHIM_EXPORT void curl_easy_cleanup(CURL *easy) {
  shim_init();
  if (!real.easy_cleanup)
    return;
  if (recording && easy) {
    pthread_mutex_lock(&table_lock);
    entry *e = unlink_entry(easy);
    pthread_mutex_unlock(&table_lock);
    if (e && e->x) {
      /* still running (a multi transfer the program gives up on): record what came */
      set_debug(easy, e->chain.fn, e->chain.data, e->chain.verbose);
      xfer_finish(e->x, easy, CURLE_OK, 1);
    }
    free(e);
  }
  real.easy_cleanup(easy);
}

/* ------------------------------------------------------------------ multi interface */

SHIM_EXPORT CURLMcode curl_multi_add_handle(CURLM *multi, CURL *easy) {
  shim_init();
  if (!real.multi_add_handle)
    return CURLM_INTERNAL_ERROR;
  if (!recording || !easy)
    return real.multi_add_handle(multi, easy);
  xfer *x = xfer_begin(easy, 1);
  CURLMcode rc = real.multi_add_handle(multi, easy);
  if (x && rc != CURLM_OK)
    xfer_cancel(easy, x);
  return rc;
}

SHIM_EXPORT CURLMsg *curl_multi_info_read(CURLM *multi, int *msgs_in_queue) {
  shim_init();
  if (!real.multi_info_read)
    return NULL;
  CURLMsg *m = real.multi_info_read(multi, msgs_in_queue);
  if (recording && m && m->msg == CURLMSG_DONE && m->easy_handle)
    xfer_end(m->easy_handle, 1, m->data.result, 0);
  return m;
}

SHIM_EXPORT CURLMcode curl_multi_remove_handle(CURLM *multi, CURL *easy) {
  shim_init();
  if (!real.multi_remove_handle)
    return CURLM_INTERNAL_ERROR;
  CURLMcode rc = real.multi_remove_handle(multi, easy);
  /* still recording: the program took it out before its CURLMSG_DONE was read */
  if (recording && easy && rc == CURLM_OK)
    xfer_end(easy, 1, CURLE_OK, 1);
  return rc;
}
