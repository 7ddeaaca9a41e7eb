/* pg_partition.c: the day partitions of calls (calls_YYYYMMDD, one per UTC day, bounds
 * in microseconds): which exist, and creating the missing ones before rows of those days
 * are inserted, under an advisory lock so that hosts shipping the same new day at once
 * do not collide. */
#include "pg/pg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/util.h"

#define DAY_US INT64_C(86400000000)

int64_t pg_day_of(int64_t us) {
  return us >= 0 ? us / DAY_US : -((-us + DAY_US - 1) / DAY_US);
}

void pg_partition_name(int64_t day, char out[32]) {
  time_t t = (time_t)(day * 86400);
  struct tm tm;
  if (!gmtime_r(&t, &tm)) {
    snprintf(out, 32, "calls_d%lld", (long long)day);
    return;
  }
  snprintf(out, 32, "calls_%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

void pg_partition_forget(pg_db *db) {
  db->ndays = 0;
}

static int cmp_day(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static int known(const pg_db *db, int64_t day) {
  return db->ndays && bsearch(&day, db->days, db->ndays, sizeof day, cmp_day) != NULL;
}

/* Adds DAY to the days DB knows (forgetting them all when the list is full). */
static void remember(pg_db *db, int64_t day) {
  if (known(db, day))
    return;
  if (db->ndays == db->capdays) {
    size_t cap = db->capdays ? db->capdays * 2 : 64;
    int64_t *d = cap <= 8192 ? realloc(db->days, cap * sizeof *d) : NULL;
    if (!d) {
      db->ndays = 0;
      if (!db->capdays)
        return;
    } else {
      db->days = d;
      db->capdays = cap;
    }
  }
  db->days[db->ndays++] = day;
  qsort(db->days, db->ndays, sizeof *db->days, cmp_day);
}

/* Creates the partition of DAY unless it exists, in the open transaction, with the
 * statistics target of q's columns that schema/pg/001_init.sql gives calls (a partition
 * does not inherit it): a histogram of 20 values per column, not 100, keeps planning a
 * q (ILIKE, its selectivity tried on every histogram value of every day) to ~9 ms
 * instead of ~45 ms on 31 days, with the same plans for a rare and a common word
 * (bench/pg.sh). */
static reqlog_err create_day(pg_db *db, int64_t day, char **cause) {
  char name[32], sql[512];
  pg_partition_name(day, name);
  snprintf(sql, sizeof sql,
           "CREATE TABLE IF NOT EXISTS %s PARTITION OF calls FOR VALUES FROM (%lld) TO (%lld);"
           " ALTER TABLE %s ALTER COLUMN url SET STATISTICS 20,"
           " ALTER COLUMN request_body SET STATISTICS 20,"
           " ALTER COLUMN response_body SET STATISTICS 20",
           name, (long long)(day * DAY_US), (long long)((day + 1) * DAY_US), name);
  return pg_exec(db, sql, cause, "cannot create a day partition of calls");
}

/* Which of the N days at DAYS have a partition: those are remembered. */
static reqlog_err look_up(pg_db *db, const int64_t *days, size_t n, char **cause) {
  size_t cap = 16 + n * 40;
  char *list = malloc(cap);
  if (!list)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  size_t len = 0;
  list[len++] = '{';
  for (size_t i = 0; i < n; i++) {
    char name[32];
    pg_partition_name(days[i], name);
    len += (size_t)snprintf(list + len, cap - len, "%s%s", i ? "," : "", name);
  }
  snprintf(list + len, cap - len, "}");
  const char *const params[] = {list};
  PGresult *res = NULL;
  reqlog_err e = pg_query(db,
                          "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                          "WHERE i.inhparent = 'calls'::regclass AND c.relname = ANY($1::text[])",
                          1, params, &res, cause, "cannot list the day partitions");
  free(list);
  if (e != REQLOG_OK)
    return e;
  for (int r = 0; r < PQntuples(res); r++)
    for (size_t i = 0; i < n; i++) {
      char name[32];
      pg_partition_name(days[i], name);
      if (strcmp(name, PQgetvalue(res, r, 0)) == 0)
        remember(db, days[i]);
    }
  PQclear(res);
  return REQLOG_OK;
}

reqlog_err pg_partition_ensure_days(pg_db *db, const int64_t *days, size_t n, char **cause) {
  int64_t *missing = malloc((n ? n : 1) * sizeof *missing);
  if (!missing)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (!known(db, days[i]))
      missing[m++] = days[i];
  qsort(missing, m, sizeof *missing, cmp_day);
  size_t u = 0;
  for (size_t i = 0; i < m; i++)
    if (!u || missing[u - 1] != missing[i])
      missing[u++] = missing[i];
  reqlog_err e = u ? look_up(db, missing, u, cause) : REQLOG_OK;
  size_t still = 0;
  for (size_t i = 0; e == REQLOG_OK && i < u; i++)
    if (!known(db, missing[i]))
      missing[still++] = missing[i];
  if (e == REQLOG_OK && still) {
    char lock[128];
    snprintf(lock, sizeof lock, "BEGIN; SELECT pg_advisory_xact_lock(%d, %d)", PG_LOCK_CLASS,
             PG_LOCK_PARTITION);
    e = pg_exec(db, lock, cause, "cannot lock the day partitions");
    for (size_t i = 0; e == REQLOG_OK && i < still; i++)
      e = create_day(db, missing[i], cause);
    if (e == REQLOG_OK)
      e = pg_exec(db, "COMMIT", cause, "cannot commit the day partitions");
    if (e != REQLOG_OK && pg_connected(db))
      PQclear(PQexec(db->conn, "ROLLBACK"));
    for (size_t i = 0; e == REQLOG_OK && i < still; i++)
      remember(db, missing[i]);
  }
  free(missing);
  return e;
}

reqlog_err pg_partition_ensure(pg_db *db, int64_t from_us, int64_t to_us, char **cause) {
  int64_t a = pg_day_of(from_us < to_us ? from_us : to_us);
  int64_t b = pg_day_of(from_us < to_us ? to_us : from_us);
  if (b - a > 36600)
    return util_fail(cause, REQLOG_ERR_ARG, "a range of more than 100 years of partitions");
  size_t n = (size_t)(b - a + 1);
  int64_t *days = malloc(n * sizeof *days);
  if (!days)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    days[i] = a + (int64_t)i;
  reqlog_err e = pg_partition_ensure_days(db, days, n, cause);
  free(days);
  return e;
}
