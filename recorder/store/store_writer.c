/* store_writer.c: the writer thread, so that a recording caller never waits on the
 * disk: it sleeps until records are queued, lets them gather for up to FLUSH_US (less
 * when something is urgent), writes them in batches (store_batch.c), retries a failing
 * database with a growing pause and reports what failed, and, when idle or closing,
 * catches up the search index and rollups (store_index.c). */
#include "store/store_int.h"
#include "base/errors.h"

#include <stdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"

#define FLUSH_US 50000           /* a queued row is committed within this time */
#define IDLE_INDEX_US 200000     /* index for search after this long without new rows */
#define BACKOFF_MIN_US 100000    /* the pause after a failed batch, doubling ... */
#define BACKOFF_MAX_US 5000000   /* ... up to this */
#define CLOSING_RETRY_US 200000  /* the pause between a closing writer's tries */
#define CLOSING_TRIES 3          /* a closing writer gives a failing batch up after these */
#define BUSY_REPORT_TRIES 6      /* a lock is reported after this many busy batches */

/* What the writer remembers between batches. */
typedef struct writer {
  store *s;
  int64_t backoff_us;
  int busy_tries;                /* batches that found the database locked since a success */
  int stop_tries;                /* batches that failed since closing began */
} writer;

/* The outcome of one batch. */
typedef struct batch_result {
  record *list, *last;
  size_t n;
  int rc;
  char errbuf[256];
} batch_result;

/* Waits (locked) for the writer's wake-up, at most WAIT_US. */
static void timed_wait(store *s, int64_t wait_us) {
  struct timespec ts = util_deadline(CLOCK_REALTIME, wait_us);
  pthread_cond_timedwait(&s->wake, &s->lock, &ts);
}

/* Short-lived processes (one CLI call) never sit idle: a closing writer indexes a
 * bounded backlog on the way out, so the search index does not depend on a long-lived
 * process. Called unlocked. */
static void index_on_exit(store *s) {
  for (int chunk = 0; chunk < 4 && s->fts_backlog; chunk++) {
    int n = 0;
    if (store_index_fts(s->wdb, STORE_FTS_CHUNK, &n) != REQLOG_OK || n < STORE_FTS_CHUNK)
      break;
  }
}

/* The queue is empty (called locked): everything queued was tried; index for search when
 * idle long enough, else sleep. Returns 1 when the writer should end. */
static int on_empty(store *s, int64_t now) {
  s->tried_seq = s->next_seq;
  pthread_cond_broadcast(&s->done);
  if (s->stop) {
    pthread_mutex_unlock(&s->lock);
    index_on_exit(s);
    pthread_mutex_lock(&s->lock);
    return 1;
  }
  if (s->fts_backlog && now - s->last_submit_mono >= IDLE_INDEX_US) {
    pthread_mutex_unlock(&s->lock);
    int n = 0;
    reqlog_err e = store_index_fts(s->wdb, STORE_FTS_CHUNK, &n);
    pthread_mutex_lock(&s->lock);
    if (e != REQLOG_OK || n < STORE_FTS_CHUNK)
      s->fts_backlog = 0;
  } else if (s->fts_backlog) {
    timed_wait(s, IDLE_INDEX_US - (now - s->last_submit_mono));
  } else {
    pthread_cond_wait(&s->wake, &s->lock);
  }
  return 0;
}

/* Records are queued (called locked): 1 when a batch is due now, else waits for it
 * (after a failure, the pause; else until the oldest record is FLUSH_US old) and
 * returns 0. */
static int batch_due(writer *w, int64_t now) {
  store *s = w->s;
  int urgent = s->stop || s->flushers || s->sync || s->qlen >= STORE_BATCH_MAX ||
               s->qbytes > s->queue_resume_bytes;
  if (s->failing) {
    timed_wait(s, s->stop ? CLOSING_RETRY_US : w->backoff_us);
    s->failing = 0;
    return 0;
  }
  if (!urgent && now - s->first_queued_mono < FLUSH_US) {
    timed_wait(s, FLUSH_US - (now - s->first_queued_mono));
    return 0;
  }
  return 1;
}

/* Writing the history is background work: under CPU contention the application's own
 * threads go first. Done at the first batch (called locked), so that a process whose
 * job is recording (the proxy) can say otherwise first: the priority cannot be raised
 * back without privileges. Failure changes nothing. */
static void lower_priority(store *s) {
  if (s->lowered)
    return;
  s->lowered = 1;
  if (!s->foreground && setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10) != 0) {
    /* not permitted here: run at normal priority */
  }
}

/* Reports a failed batch as the writer's state says (called unlocked): a lock quietly
 * until it lasts, any other failure once per run of failures, with a growing pause. */
static void judge(writer *w, const batch_result *b) {
  reqlog_err err = errors_from_sqlite(b->rc);
  if (b->rc == SQLITE_OK) {
    w->backoff_us = BACKOFF_MIN_US;
    w->busy_tries = 0;
    w->stop_tries = 0;
  } else if (err == REQLOG_ERR_BUSY && !w->s->stop) {
    /* another process holds the lock longer than the busy timeout: keep trying
     * quietly, a lock is not a failure until it lasts */
    if (++w->busy_tries == BUSY_REPORT_TRIES) {
      char msg[320];
      snprintf(msg, sizeof msg, "recording delayed: database locked for over 30 s (%s)", b->errbuf);
      store_report(w->s, REQLOG_ERR_BUSY, msg);
    }
  } else {
    char msg[400];
    snprintf(msg, sizeof msg, "recording failed: %s: %s (%zu calls kept, will retry)",
             reqlog_strerror(err), b->errbuf, b->n);
    if (w->backoff_us == BACKOFF_MIN_US)
      store_report(w->s, err, msg);
    w->backoff_us = w->backoff_us * 2 > BACKOFF_MAX_US ? BACKOFF_MAX_US : w->backoff_us * 2;
  }
}

/* Reports MSG (called locked: unlocks around the handler). */
static void report_locked(store *s, reqlog_err err, const char *msg) {
  pthread_mutex_unlock(&s->lock);
  store_report(s, err, msg);
  pthread_mutex_lock(&s->lock);
}

/* Settles the batch's records (called locked): written, they are freed; failing while
 * closing for the last time, they are given up and reported lost; else they go back in
 * front of the queue for a retry after a pause. */
static void settle(writer *w, batch_result *b) {
  store *s = w->s;
  s->broken = b->rc != SQLITE_OK;
  if (b->rc == SQLITE_OK) {
    store_queue_retire(s, b->list);
    s->fts_backlog = 1;
  } else if (s->stop && ++w->stop_tries >= CLOSING_TRIES) {
    size_t lost = store_queue_retire(s, b->list);
    char msg[400];
    snprintf(msg, sizeof msg, "recording failed: %zu calls could not be written: %s", lost,
             b->errbuf);
    report_locked(s, errors_from_sqlite(b->rc) == REQLOG_ERR_BUSY ? REQLOG_ERR_BUSY : REQLOG_ERR_LOST,
                  msg);
  } else {
    s->failing = 1;
    size_t dropped = store_queue_put_back(s, b->list, b->last, b->n);
    if (dropped) {
      char msg[160];
      snprintf(msg, sizeof msg, "recording failed: %zu calls dropped, more than %d waited",
               dropped, STORE_MAX_PENDING);
      report_locked(s, REQLOG_ERR_LOST, msg);
    }
  }
  pthread_cond_broadcast(&s->done);
}

/* Takes a batch off the queue (called locked), writes it unlocked, settles it. */
static void write_next(writer *w, int64_t now) {
  store *s = w->s;
  batch_result b = {.rc = SQLITE_OK};
  s->make_way = s->qbytes < STORE_YIELD_BELOW; /* before the batch leaves the queue */
  s->yielded_mono = now;
  b.list = store_queue_take(s, STORE_BATCH_MAX, &b.last, &b.n);
  s->first_queued_mono = now;
  pthread_mutex_unlock(&s->lock);
  b.rc = store_batch_write(s, b.list, b.errbuf, sizeof b.errbuf);
  uint64_t took = (uint64_t)(util_mono_us() - now);
  judge(w, &b);
  pthread_mutex_lock(&s->lock);
  if (b.rc == SQLITE_OK) {
    s->stats.rows += b.n;
    s->stats.batches++;
  }
  if (took > s->stats.batch_max_us)
    s->stats.batch_max_us = took;
  settle(w, &b);
}

static void *writer_main(void *arg) {
  writer w = {.s = arg, .backoff_us = BACKOFF_MIN_US};
  store *s = w.s;
  pthread_mutex_lock(&s->lock);
  for (;;) {
    int64_t now = util_mono_us();
    if (!s->head) {
      if (on_empty(s, now))
        break;
    } else if (batch_due(&w, now)) {
      lower_priority(s);
      write_next(&w, now);
    }
  }
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

reqlog_err store_writer_start(store *s, char **cause) {
  s->last_submit_mono = util_mono_us();
  s->fts_backlog = 1;
  if (pthread_create(&s->thread, NULL, writer_main, s) != 0)
    return util_fail(cause, REQLOG_ERR_NOMEM, "cannot start the writer thread");
  s->thread_started = 1;
  return REQLOG_OK;
}

/* Asks the writer to write what is queued and end, and waits for it. */
void store_writer_stop(store *s) {
  if (!s->thread_started)
    return;
  pthread_mutex_lock(&s->lock);
  s->stop = 1;
  pthread_cond_signal(&s->wake);
  pthread_mutex_unlock(&s->lock);
  pthread_join(s->thread, NULL);
  s->thread_started = 0;
}
