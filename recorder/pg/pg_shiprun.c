/* pg_shiprun.c: reqlog_ship() (include/reqlog_ship.h), the shipper's loop: batch after
 * batch until caught up (or, following, until asked to stop or to drain), telling
 * progress; a store that cannot be reached is waited for with backoff (said once per
 * outage) and shipping resumes by itself, from what the store says it has. */
#include "reqlog_ship.h"
#include "pg/pg_ship.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/util.h"

/* Backoff between attempts while the store cannot be reached or fails. */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
/* How often a follower looks for new rows in the spool. */
#define POLL_MS 100
/* Without follow, how long the store may stay unreachable before reqlog_ship gives up;
 * and how many times in a row a batch may fail on a connected store. */
#define GIVE_UP_US INT64_C(60000000)
#define MAX_FAILURES 5

typedef struct run {
  const reqlog_ship_opts *o;
  pg_shipper *s;
  const char *url;
  reqlog_ship_progress p;
  int waiting;   /* an outage was announced */
  long backoff_ms;
  int64_t failing_since; /* monotonic µs of the first failure in a row; 0 when fine */
  int failures;  /* batches failed in a row on a connected store */
  int refused;   /* connections failed in a row while the server answered */
} run;

static int stopped(const run *r) {
  return r->o->stop && *r->o->stop;
}

static int draining(const run *r) {
  return r->o->drain && *r->o->drain;
}

/* Sleeps MS, waking early when asked to stop or to drain. */
static void pause_ms(const run *r, long ms) {
  while (ms > 0 && !stopped(r) && !draining(r)) {
    long step = ms < 50 ? ms : 50;
    struct timespec ts = {0, step * 1000000L};
    nanosleep(&ts, NULL);
    ms -= step;
  }
}

static void say(const run *r, const char *msg) {
  if (r->o->notice)
    r->o->notice(r->o->ctx, msg);
}

static void progress(run *r) {
  if (r->o->progress)
    r->o->progress(r->o->ctx, &r->p);
}

/* Counts the spool's rows the store does not have yet. */
static reqlog_err count_pending(run *r, char **cause) {
  int64_t shipped = 0;
  reqlog_err e = pg_ship_shipped(r->s, &shipped, cause);
  return e == REQLOG_OK ? pg_spool_count_above(pg_ship_spool(r->s), shipped, &r->p.pending, cause)
                        : e;
}

/* After a failure with WHY, while CONNECTING or shipping: REQLOG_OK to try again after
 * the backoff, or the error to give up with (set in *cause). A server that answers but
 * refuses a connection (password, database, a newer schema) is tried once more, then
 * not waited for, nor one that keeps failing batches on a good connection; one that does not answer, or that
 * dropped the connection, is waited for (without follow, for GIVE_UP_US). DRAIN (asked
 * before this attempt): *gave_up is set and nothing waited for, the failure said. */
static reqlog_err failed(run *r, reqlog_err e, char *why, int connecting, int drain,
                         int *gave_up, char **cause) {
  int64_t now = util_mono_us();
  if (!r->failing_since)
    r->failing_since = now;
  int final = e == REQLOG_ERR_ARG || e == REQLOG_ERR_NOMEM;
  if (connecting && !final) {
    /* A server that answers now refused us (password, database, schema), or was starting
     * up or shutting down when we tried (a restart): it is tried once more, and a second
     * refusal in a row is final. Draining, there is no time for a second try. */
    if (pg_server_answers(r->url))
      final = drain || r->refused++ > 0;
    else
      r->refused = 0;
  }
  else if (pg_ship_connected(r->s))
    final = final || ++r->failures > MAX_FAILURES;
  if (!r->o->follow && now - r->failing_since > GIVE_UP_US)
    final = 1;
  if (final) {
    if (e == REQLOG_OK)
      e = REQLOG_ERR_DB;
    util_fail(cause, e, "%s", why ? why : "the store failed");
    free(why);
    return e;
  }
  if (!r->waiting) {
    char msg[1024];
    snprintf(msg, sizeof msg, "waiting for the store (%s); shipping resumes by itself", why);
    say(r, msg);
    r->waiting = 1;
  }
  free(why);
  if (drain) {
    *gave_up = 1;
    r->p.caught_up = 0;
    progress(r);
    return REQLOG_OK;
  }
  pause_ms(r, r->backoff_ms);
  r->backoff_ms = r->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : r->backoff_ms * 2;
  return REQLOG_OK;
}

static void recovered(run *r) {
  if (r->waiting)
    say(r, "the store answers again: shipping");
  r->waiting = 0;
  r->failing_since = 0;
  r->failures = 0;
  r->refused = 0;
  r->backoff_ms = BACKOFF_MIN_MS;
}

static reqlog_err loop(run *r, char **cause) {
  int announced_caught_up = 0, gave_up = 0;
  while (!stopped(r) && !gave_up) {
    /* asked before this round reads the spool: its "caught up" covers every row
     * committed before the drain was asked */
    int drain = draining(r);
    char *why = NULL;
    reqlog_err e = REQLOG_OK;
    if (!pg_ship_connected(r->s)) {
      e = pg_ship_connect(r->s, r->url, &why);
      if (e == REQLOG_OK)
        e = count_pending(r, &why);
      if (e != REQLOG_OK) {
        if ((e = failed(r, e, why, 1, drain, &gave_up, cause)) != REQLOG_OK)
          return e;
        continue;
      }
    }
    int n = 0;
    e = pg_ship_batch(r->s, &n, &why);
    if (e != REQLOG_OK) {
      if ((e = failed(r, e, why, 0, drain, &gave_up, cause)) != REQLOG_OK)
        return e;
      continue;
    }
    recovered(r);
    if (n > 0) {
      r->p.shipped += n;
      r->p.pending = r->p.pending > n ? r->p.pending - n : 0;
      r->p.caught_up = 0;
      announced_caught_up = 0;
      progress(r);
      continue;
    }
    /* nothing above what the store has: caught up (or another shipper moved on) */
    if ((e = count_pending(r, &why)) != REQLOG_OK) {
      if ((e = failed(r, e, why, 0, drain, &gave_up, cause)) != REQLOG_OK)
        return e;
      continue;
    }
    if (r->p.pending > 0)
      continue;
    r->p.caught_up = 1;
    if (!announced_caught_up)
      progress(r);
    announced_caught_up = 1;
    if (!r->o->follow || drain)
      break;
    pause_ms(r, POLL_MS);
  }
  return REQLOG_OK;
}

reqlog_err reqlog_ship(const char *spool, const char *url, const reqlog_ship_opts *opts,
                       char **cause) {
  static const reqlog_ship_opts none;
  if (!spool || !url)
    return util_fail(cause, REQLOG_ERR_ARG, "reqlog_ship: SPOOL and URL are needed");
  if (!reqlog_is_store_url(url))
    return util_fail(cause, REQLOG_ERR_ARG, "not a PostgreSQL URL (postgresql://... or "
                     "postgres://...)");
  run r = {.o = opts ? opts : &none, .url = url, .backoff_ms = BACKOFF_MIN_MS};
  reqlog_err e = pg_ship_open(spool, r.o->spool_open_here, &r.s, cause);
  if (e != REQLOG_OK)
    return e;
  r.p.history_id = pg_ship_history(r.s);
  e = loop(&r, cause);
  pg_ship_close(r.s);
  return e;
}
