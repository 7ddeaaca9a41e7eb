/* handle.h: the inside of a reqlog handle, shared by the files of the library. */
#ifndef REQLOG_HANDLE_H
#define REQLOG_HANDLE_H

#include <pthread.h>
#include "base/notice.h"
#include "privacy/redact.h"
#include "reqlog.h"
#include "store/store.h"

#define DEFAULT_BASE_URL "https://api.app.astalty.com.au/public/v1"
#define DEFAULT_BODY_CAP (1024 * 1024)

struct pg_store;
struct pg_shipthread;

struct reqlog {
  store *st;                  /* NULL: calls are made but not recorded */
  struct pg_store *pg;        /* a read handle on the team store (PostgreSQL), else NULL */
  /* recording for a team store: ST is its local spool, shipped by this thread */
  char *spool_path;
  struct pg_shipthread *ship;
  long ship_wait_ms;          /* the bound of reqlog_close()'s last shipping */
  pthread_rwlock_t cfg;       /* settings and the redactor */
  redactor *rd;
  char *api_key;
  char key_fp[48];
  char *base_url;
  int rate;
  long rate_window_ms;        /* the limiter's window, 60000 unless REQLOG_RATE_WINDOW_MS */
  int max_attempts;
  long retry_base_ms, retry_max_wait_ms;
  long timeout_ms;
  size_t body_cap;
  char source[16];
  reqlog_durability durability;
  reqlog_error_fn err_fn;
  void *err_ctx;
  notice notices;             /* for the error handler, once one is set */
  pthread_mutex_t pool_lock;  /* idle easy handles of reqlog_request, reused for keep-alive */
  CURL *easy_pool[4];
  int neasy;
  /* in-process rate limiter, used when there is no database */
  pthread_mutex_t rl_lock;
  int64_t rl_times[600];
  int rl_n, rl_head;
};

/* Reports a recording failure that happened on the calling thread. */
void handle_report(reqlog *r, reqlog_err err, const char *msg);

#endif
