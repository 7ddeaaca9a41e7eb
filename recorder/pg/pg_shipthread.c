/* pg_shipthread.c: the shipper inside a recording process (docs/design.md §9): one
 * thread running reqlog_ship()'s loop (pg_shiprun.c) over the handle's spool, following,
 * with its own read-only connection to the spool and its own to the store, so the
 * threads that record never wait on the network; and at close a bounded drain: ship
 * what is committed, then stop. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reqlog_ship.h"
#include "pg/pg.h"
#include "pg/pg_record.h"
#include "base/util.h"

/* After the drain's bound, how long a thread told to stop may take to end (it stops
 * between batches and while it waits; a network call in flight may hold it longer). */
#define STOP_GRACE_MS 200

struct pg_shipthread {
  pthread_mutex_t lock;
  pthread_cond_t ended;     /* signalled when done is set */
  pthread_t tid;
  char *spool, *url;
  volatile sig_atomic_t stop, drain;
  pg_ship_report_fn report; /* NULL once the finish returned: nobody to tell */
  void *ctx;
  int done;                 /* reqlog_ship() returned */
  int orphaned;             /* the finish left the thread: it frees T itself */
  int caught_up;            /* as of the last progress */
  int64_t pending;          /* as of the last progress; -1 before one */
};

static void free_thread(pg_shipthread *t) {
  pthread_mutex_destroy(&t->lock);
  pthread_cond_destroy(&t->ended);
  if (t->url) /* it may hold a password */
    explicit_bzero(t->url, strlen(t->url));
  free(t->url);
  free(t->spool);
  free(t);
}

/* Hands MSG to the handle, unless it is gone. */
static void tell(pg_shipthread *t, reqlog_err err, const char *msg) {
  pthread_mutex_lock(&t->lock);
  if (t->report)
    t->report(t->ctx, err, msg);
  pthread_mutex_unlock(&t->lock);
}

static void on_progress(void *ctx, const reqlog_ship_progress *p) {
  pg_shipthread *t = ctx;
  pthread_mutex_lock(&t->lock);
  t->caught_up = p->caught_up;
  t->pending = p->pending;
  pthread_mutex_unlock(&t->lock);
}

static void on_notice(void *ctx, const char *msg) {
  tell(ctx, REQLOG_OK, msg);
}

static void *ship_main(void *arg) {
  pg_shipthread *t = arg;
  reqlog_ship_opts o = {.follow = 1, .stop = &t->stop, .drain = &t->drain, .spool_open_here = 1,
                        .progress = on_progress, .notice = on_notice, .ctx = t};
  char *cause = NULL;
  reqlog_err e = reqlog_ship(t->spool, t->url, &o, &cause);
  if (e != REQLOG_OK) {
    char *shown = pg_url_shown(t->url);
    char msg[2048];
    snprintf(msg, sizeof msg, "not shipping to %s: %s; the calls stay in the spool %s",
             shown ? shown : "the store", cause ? cause : reqlog_strerror(e), t->spool);
    free(shown);
    tell(t, e, msg);
  }
  free(cause);
  pthread_mutex_lock(&t->lock);
  if (e != REQLOG_OK)
    t->caught_up = 0;
  t->done = 1;
  int orphaned = t->orphaned;
  pthread_cond_broadcast(&t->ended);
  pthread_mutex_unlock(&t->lock);
  if (orphaned)
    free_thread(t);
  return NULL;
}

reqlog_err pg_shipthread_start(const char *spool, const char *url, pg_ship_report_fn fn,
                               void *ctx, pg_shipthread **out, char **cause) {
  *out = NULL;
  pg_shipthread *t = calloc(1, sizeof *t);
  if (!t)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_mutex_init(&t->lock, NULL);
  pthread_cond_init(&t->ended, &ca);
  pthread_condattr_destroy(&ca);
  t->report = fn;
  t->ctx = ctx;
  t->pending = -1;
  t->spool = util_strdup(spool);
  t->url = util_strdup(url);
  if (!t->spool || !t->url) {
    free_thread(t);
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  }
  /* the thread takes no signal meant for the program */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(&t->tid, NULL, ship_main, t);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    free_thread(t);
    return util_fail(cause, REQLOG_ERR_NOMEM, "cannot start the shipper thread");
  }
  *out = t;
  return REQLOG_OK;
}

/* Waits (T locked) until the thread is done or MS passed. */
static void wait_done(pg_shipthread *t, long ms) {
  struct timespec until = util_deadline(CLOCK_MONOTONIC, (int64_t)ms * 1000);
  while (!t->done && pthread_cond_timedwait(&t->ended, &t->lock, &until) == 0)
    ;
}

pg_ship_end pg_shipthread_finish(pg_shipthread *t, long wait_ms) {
  pg_ship_end end = {.caught_up = 0, .pending = -1};
  if (!t)
    return end;
  pthread_mutex_lock(&t->lock);
  t->drain = 1;
  wait_done(t, wait_ms);
  int stopped = !t->done;
  if (stopped) {
    t->stop = 1;
    wait_done(t, STOP_GRACE_MS);
  }
  /* a drain that ended caught up covers every row committed before it was asked; one
   * stopped at the bound may have last said so before the drain */
  end.caught_up = t->done && !stopped && t->caught_up;
  end.pending = t->pending;
  int done = t->done;
  t->report = NULL;
  t->orphaned = !done;
  pthread_mutex_unlock(&t->lock);
  if (done) {
    pthread_join(t->tid, NULL);
    free_thread(t);
  } else {
    pthread_detach(t->tid);
  }
  return end;
}
