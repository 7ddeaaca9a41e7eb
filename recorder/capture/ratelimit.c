/* ratelimit.c: a sliding-window log of admitted requests per key, in the database
 * (table ratelimit) so that processes share it; see ratelimit.h. */
#include "capture/ratelimit.h"

#include <time.h>

#include "base/util.h"
#include "store/store.h"

static void sleep_us(int64_t us) {
  struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

/* One look at the shared log: admits the request (returns 0) or says how long to wait
 * (> 0), or -1 when the database failed. */
static int64_t try_db(sqlite3 *db, const char *key, int limit, int64_t window_us) {
  int64_t now = util_now_us();
  int64_t wait = -1;
  sqlite3_stmt *del = NULL, *sel = NULL, *ins = NULL;
  if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
    return -1;
  int rc = sqlite3_prepare_v2(db, "DELETE FROM ratelimit WHERE key = ? AND at <= ?", -1, &del, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(del, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(del, 2, now - window_us);
    rc = sqlite3_step(del) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
  }
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(db, "SELECT count(*), min(at) FROM ratelimit WHERE key = ?", -1, &sel, NULL);
  int64_t count = 0, oldest = 0;
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(sel, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(sel) == SQLITE_ROW) {
      count = sqlite3_column_int64(sel, 0);
      oldest = sqlite3_column_int64(sel, 1);
    } else {
      rc = SQLITE_ERROR;
    }
  }
  if (rc == SQLITE_OK && count < limit) {
    rc = sqlite3_prepare_v2(db, "INSERT INTO ratelimit(key, at) VALUES (?, ?)", -1, &ins, NULL);
    if (rc == SQLITE_OK) {
      sqlite3_bind_text(ins, 1, key, -1, SQLITE_STATIC);
      sqlite3_bind_int64(ins, 2, now);
      rc = sqlite3_step(ins) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    wait = 0;
  } else if (rc == SQLITE_OK) {
    wait = oldest + window_us - now;
    if (wait < 1000)
      wait = 1000;
  }
  sqlite3_finalize(del);
  sqlite3_finalize(sel);
  sqlite3_finalize(ins);
  if (rc == SQLITE_OK && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
    return wait;
  sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  return -1;
}

/* The same rule inside this process only. */
static int64_t try_local(reqlog *r, int limit, int64_t window_us) {
  int64_t now = util_now_us();
  int cap = (int)(sizeof r->rl_times / sizeof r->rl_times[0]);
  if (limit > cap)
    limit = cap;
  pthread_mutex_lock(&r->rl_lock);
  while (r->rl_n > 0 && r->rl_times[r->rl_head] <= now - window_us) {
    r->rl_head = (r->rl_head + 1) % cap;
    r->rl_n--;
  }
  int64_t wait = 0;
  if (r->rl_n < limit) {
    r->rl_times[(r->rl_head + r->rl_n) % cap] = now;
    r->rl_n++;
  } else {
    wait = r->rl_times[r->rl_head] + window_us - now;
    if (wait < 1000)
      wait = 1000;
  }
  pthread_mutex_unlock(&r->rl_lock);
  return wait;
}

void ratelimit_acquire(reqlog *r, const char *key_fp, int per_window, long window_ms,
                       int64_t *waited_us) {
  *waited_us = 0;
  if (per_window <= 0)
    return;
  /* a small margin: the server counts arrivals, which come a little after admission */
  int64_t window_us = (int64_t)window_ms * 1000;
  window_us += window_us / 60;
  int reported = 0;
  for (;;) {
    int64_t wait = -1;
    if (r->st) {
      sqlite3 *db = store_fg_lock(r->st);
      wait = try_db(db, key_fp ? key_fp : "", per_window, window_us);
      store_fg_unlock(r->st);
      if (wait < 0 && !reported) {
        handle_report(r, REQLOG_ERR_DB, "rate limiter: the database failed; limiting this process only");
        reported = 1;
      }
    }
    if (wait < 0)
      wait = try_local(r, per_window, window_us);
    if (wait == 0)
      return;
    sleep_us(wait);
    *waited_us += wait;
  }
}
