/* pg_shipstatus.c: reqlog_ship_status_each() (include/reqlog_ship.h): how far histories
 * are shipped. For a spool: its rows, what the store has of it, what waits and for how
 * long; for a store alone: every history it has received (ship_state). The lag of a
 * history that is caught up is the time from its newest call's end (when it was
 * committed to the spool, give or take the writer's batching) to its batch becoming
 * visible in the store; of one that is not, how long its oldest waiting call has waited. */
#include "reqlog_ship.h"
#include "pg/pg_int.h"
#include "pg/pg_spool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char STATE_SQL[] =
  "SELECT history_id, origin, shipped_id, rows, updated_at, last_end_us FROM ship_state";

/* Fills ST's store part from row I of RES (STATE_SQL's columns). */
static void from_state(reqlog_ship_status *st, PGresult *res, int i) {
  st->history_id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
  snprintf(st->origin, sizeof st->origin, "%s", PQgetvalue(res, i, 1));
  st->shipped_id = strtoll(PQgetvalue(res, i, 2), NULL, 10);
  st->shipped_rows = strtoll(PQgetvalue(res, i, 3), NULL, 10);
  st->updated_at = strtoll(PQgetvalue(res, i, 4), NULL, 10);
  int64_t end = strtoll(PQgetvalue(res, i, 5), NULL, 10);
  st->lag_s = st->updated_at > end ? (double)(st->updated_at - end) / 1e6 : 0;
}

static void unknown(reqlog_ship_status *st) {
  memset(st, 0, sizeof *st);
  st->spool_rows = st->shipped_id = st->shipped_rows = st->pending = -1;
  st->lag_s = -1;
}

/* Every history of the store at URL. */
static reqlog_err each_in_store(pg_db *db, int (*fn)(void *, const reqlog_ship_status *),
                                void *ctx, char **cause) {
  PGresult *res = NULL;
  char sql[160];
  snprintf(sql, sizeof sql, "%s ORDER BY origin, history_id", STATE_SQL);
  reqlog_err e = pg_query(db, sql, 0, NULL, &res, cause, "cannot read ship_state");
  for (int i = 0; e == REQLOG_OK && i < PQntuples(res); i++) {
    reqlog_ship_status st;
    unknown(&st);
    from_state(&st, res, i);
    if (fn(ctx, &st))
      e = REQLOG_ERR_CANCELLED;
  }
  PQclear(res);
  return e;
}

/* The history of SPOOL, against DB when it is not NULL. */
static reqlog_err one_spool(pg_spool *sp, pg_db *db, reqlog_ship_status *st, char **cause) {
  unknown(st);
  st->history_id = pg_spool_history(sp);
  int64_t newest = 0;
  reqlog_err e = pg_spool_newest(sp, &newest, st->origin, sizeof st->origin, cause);
  if (e == REQLOG_OK)
    e = pg_spool_count_above(sp, 0, &st->spool_rows, cause);
  if (e != REQLOG_OK || !db)
    return e;
  char hid[24];
  snprintf(hid, sizeof hid, "%lld", (long long)st->history_id);
  const char *const params[] = {hid};
  char sql[160];
  snprintf(sql, sizeof sql, "%s WHERE history_id = $1::bigint", STATE_SQL);
  PGresult *res = NULL;
  e = pg_query(db, sql, 1, params, &res, cause, "cannot read ship_state");
  if (e != REQLOG_OK)
    return e;
  st->shipped_id = st->shipped_rows = 0;
  st->lag_s = 0;
  if (PQntuples(res) == 1)
    from_state(st, res, 0);
  PQclear(res);
  e = pg_spool_count_above(sp, st->shipped_id, &st->pending, cause);
  int64_t oldest = -1;
  if (e == REQLOG_OK && st->pending > 0)
    e = pg_spool_oldest_end_above(sp, st->shipped_id, &oldest, cause);
  if (e == REQLOG_OK && oldest >= 0) {
    int64_t now = util_now_us();
    st->lag_s = now > oldest ? (double)(now - oldest) / 1e6 : 0;
  }
  return e;
}

reqlog_err reqlog_ship_status_each(const char *spool, const char *url,
                                   int (*fn)(void *ctx, const reqlog_ship_status *st),
                                   void *ctx, char **cause) {
  if ((!spool && !url) || !fn)
    return util_fail(cause, REQLOG_ERR_ARG, "reqlog_ship_status_each: a spool or a store is needed");
  pg_db *db = NULL;
  pg_spool *sp = NULL;
  reqlog_err e = REQLOG_OK;
  if (spool)
    e = pg_spool_open(spool, &sp, cause);
  if (e == REQLOG_OK && url)
    e = pg_open(url, &db, cause);
  if (e == REQLOG_OK && sp) {
    reqlog_ship_status st;
    e = one_spool(sp, db, &st, cause);
    if (e == REQLOG_OK && fn(ctx, &st))
      e = REQLOG_ERR_CANCELLED;
  } else if (e == REQLOG_OK) {
    e = each_in_store(db, fn, ctx, cause);
  }
  pg_close(db);
  pg_spool_close(sp);
  return e;
}
