/* test_pg_migrate.c: migrating a team store that holds calls from before
 * schema/pg/005_request_id.sql (schema 4) to the current schema, against a real
 * throwaway PostgreSQL cluster (tests/lib/testpg.c): the request ids of the calls
 * already there are filled in steps (recorder/pg/pg_fill.c).
 *
 * Plan:
 *   killed, resumed   a schema-4 store with calls over 6 days, whose response headers
 *                     mix every case the fill reads (X-Request-Id, Request-Id, several
 *                     candidates in any order and case, a redacted value, values too
 *                     long or empty or not strings, no id, headers that are not an
 *                     array): `reqlog list` migrates it and is killed (SIGKILL) in the
 *                     middle of the fill, after some days and before others, a day
 *                     half filled when it can be caught so; calls shipped meanwhile
 *                     (with the column) into a day still to fill keep their own value;
 *                     a day still to do dropped meanwhile (prune) is passed over;
 *                     `reqlog list` again finishes it: schema version current, every
 *                     call's request_id what 005's single UPDATE gives, each filled call
 *                     updated once (the server's row counters), the progress table gone,
 *                     every index of calls complete (valid, on every day partition), the
 *                     new column's statistics on every day; one more open fills nothing
 *                     again
 *   at once           3 processes open a schema-4 store at the same moment: all succeed,
 *                     each call is filled once, the same ids as the single UPDATE
 *   from schema 7     a store at schema 7 (008's covering index missing) gets that index
 *                     built on each day partition after the schema's transaction, and
 *                     valid; no call is updated
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pg/pg.h"
#include "testpg.h"
#include "testutil.h"

#define DAY INT64_C(86400000000)
#define DEC1 INT64_C(1796083200000000) /* 2026-12-01T00:00:00Z */
#define NDAYS 6
#define PER_DAY 2600

/* 005_request_id.sql's fill as it was before it was split into steps: one UPDATE of
 * every call (the result every stepped fill must equal), here of the copy `expected`. */
static const char OLD_FILL[] =
  "UPDATE expected SET request_id = ("
  "  SELECT h.value ->> 1 FROM jsonb_array_elements(expected.response_headers::jsonb) AS h(value)"
  "  WHERE jsonb_typeof(h.value) = 'array'"
  "    AND lower(h.value ->> 0) IN ('x-request-id', 'request-id', 'x-amzn-requestid', 'x-trace-id')"
  "    AND jsonb_typeof(h.value -> 1) = 'string'"
  "    AND length(h.value ->> 1) BETWEEN 1 AND 256"
  "    AND position('[REDACTED]' IN h.value ->> 1) = 0"
  "  ORDER BY array_position(ARRAY['x-request-id', 'request-id', 'x-amzn-requestid', 'x-trace-id'],"
  "                          lower(h.value ->> 0))"
  "  LIMIT 1)"
  "WHERE response_headers ILIKE '%id\"%' AND left(ltrim(response_headers), 1) = '['";

/* The response headers of call I: one of these, by I modulo their count ('%s' is a
 * value made from I). */
static const char *const HEADERS[] = {
  "[[\"Date\",\"x\"],[\"X-Request-Id\",\"xr-%s\"]]",
  "[[\"Request-Id\",\"r-%s\"]]",
  "[[\"Date\",\"x\"],[\"Request-Id\",\"second\"],[\"X-Request-Id\",\"first-%s\"]]",
  "[[\"x-trace-id\",\"trace\"],[\"X-AMZN-RequestId\",\"amzn-%s\"]]",
  "[[\"X-Request-Id\",\"[REDACTED]\"],[\"Request-Id\",\"fallback-%s\"]]",
  "[[\"X-REQUEST-ID\",\"%s-ab[REDACTED]cd\"]]",
  "[[\"X-Request-Id\",\"@257\"],[\"x-trace-id\",\"short-%s\"]]",
  "[[\"X-Request-Id\",\"@256\"]]",
  "[[\"Date\",\"%s\"]]",
  "{\"X-Request-Id\":\"obj-%s\"}",
  "[]",
  "[[\"X-Request-Id\",123],[\"Request-Id\",[\"%s\"]]]",
  "[\"X-Request-Id\",\"flat-%s\"]",
  "[[\"X-Request-Id\",\"\"]]",
  "[[\"Paid\",\"%s\"],[\"Content-Type\",\"application/json\"]]",
  "  [[\"request-id\",\"spaced-%s\"]]",
  "[[\"X-Request-Id\"]]",
};
#define NHEADERS (int)(sizeof HEADERS / sizeof HEADERS[0])

/* A new store (created by pg_open) with day partitions DEC1 .. DEC1 + NDAYS days, taken
 * back to schema 4 (tpg_back_to_schema4), filled with NDAYS * PER_DAY calls. Returns its
 * URI (malloc'd). */
static char *schema4_store(tpg *t, const char *name) {
  char *uri = tpg_createdb(t, name);
  pg_db *db = NULL;
  char *cause = NULL;
  if (pg_open(uri, &db, &cause) != REQLOG_OK)
    fail_msg("pg_open: %s", cause);
  assert_int_equal(pg_partition_ensure(db, DEC1, DEC1 + NDAYS * DAY - 1, NULL), REQLOG_OK);
  pg_close(db);
  PGconn *c = tpg_conn(uri);
  tpg_back_to_schema4(c);
  /* the header cases as a table, so that one INSERT makes every call */
  tpg_exec(c, "CREATE TEMP TABLE hcase (n int PRIMARY KEY, fmt text NOT NULL)");
  for (int i = 0; i < NHEADERS; i++) {
    char *lit = PQescapeLiteral(c, HEADERS[i], strlen(HEADERS[i]));
    assert_non_null(lit);
    char sql[512];
    snprintf(sql, sizeof sql, "INSERT INTO hcase VALUES (%d, %s)", i, lit);
    PQfreemem(lit);
    tpg_exec(c, sql);
  }
  /* bodies of varied sizes, so that pages hold several calls of different sizes */
  char sql[2048];
  snprintf(sql, sizeof sql,
           "INSERT INTO calls (history_id, spool_id, id, started_at, method, url, host, path,"
           " status, duration_us, source, response_headers, response_body, origin)"
           " SELECT 1, g, g, %lld + (g - 1) / %d * %lld + (g %% %d) * 1000000, 'GET',"
           " 'https://h/p/' || g, 'h', '/p', 200, 1000, 'library',"
           " replace(replace(replace(h.fmt, '%%s', g::text), '@257', repeat('a', 257)),"
           " '@256', repeat('b', 255) || (g %% 10)::text),"
           " repeat('body ', ((g * 7919) %% 300)::int), 'o'"
           " FROM generate_series(1::bigint, %d) g JOIN hcase h ON h.n = (g %% %d)::int",
           (long long)DEC1, PER_DAY, (long long)DAY, PER_DAY, NDAYS * PER_DAY, NHEADERS);
  tpg_exec(c, sql);
  tpg_exec(c, "SELECT setval('calls_id_seq', (SELECT max(id) FROM calls))");
  /* the single UPDATE's result, from a copy of the calls */
  tpg_exec(c, "CREATE TABLE expected AS SELECT id, response_headers, NULL::text AS request_id"
              " FROM calls");
  tpg_exec(c, OLD_FILL);
  tpg_exec(c, "VACUUM ANALYZE calls");
  PQfinish(c);
  return uri;
}

/* The test's store at schema 4 (schema4_store) and a connection to it, *uri its URI;
 * skips the test without PostgreSQL. store_done() closes and frees them. */
static PGconn *store4(void **state, const char *name, char **uri) {
  TPG_SKIP_WITHOUT(*state);
  *uri = schema4_store(*state, name);
  return tpg_conn(*uri);
}

static void store_done(PGconn *c, char *uri) {
  PQfinish(c);
  free(uri);
}

static void check_expected_cases(PGconn *c) {
  /* the cases the expected ids hold (the copy's UPDATE did what 005 did) */
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM expected WHERE request_id LIKE 'first-%'"),
                   tpg_int(c, "SELECT count(*) FROM expected WHERE response_headers LIKE '%second%'"));
  assert_true(tpg_int(c, "SELECT count(*) FROM expected WHERE request_id LIKE 'amzn-%'") > 0);
  assert_true(tpg_int(c, "SELECT count(*) FROM expected WHERE request_id LIKE 'fallback-%'") > 0);
  assert_true(tpg_int(c, "SELECT count(*) FROM expected WHERE request_id LIKE 'short-%'") > 0);
  assert_true(tpg_int(c, "SELECT count(*) FROM expected WHERE length(request_id) = 256") > 0);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM expected WHERE request_id LIKE '%REDACTED%'"
                              " OR request_id LIKE 'obj-%' OR request_id LIKE 'flat-%'"
                              " OR request_id = ''"), 0);
  assert_true(tpg_int(c, "SELECT count(*) FROM expected WHERE request_id IS NULL") > 0);
}

/* The calls whose request_id differs from the single UPDATE's (the calls shipped
 * after the migration left out: they are not in `expected`). */
static int64_t differing(PGconn *c) {
  return tpg_int(c, "SELECT count(*) FROM calls c JOIN expected e USING (id)"
                    " WHERE c.request_id IS DISTINCT FROM e.request_id");
}

/* Row updates the server counted on the day partitions (flushed by each backend when
 * its transaction ends or it exits, seen here a moment later). */
#define UPDATES_SQL                                                                    \
  "SELECT coalesce(sum(n_tup_upd), 0) FROM pg_stat_user_tables s JOIN pg_inherits i" \
  " ON i.inhrelid = s.relid WHERE i.inhparent = 'calls'::regclass"

/* Every index of calls is complete: valid, with its own index on every day partition. */
static void check_indexes(PGconn *c) {
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM pg_index x JOIN pg_class i"
                              " ON i.oid = x.indexrelid WHERE x.indrelid = 'calls'::regclass"
                              " AND NOT x.indisvalid"), 0);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM pg_index x JOIN pg_inherits p"
                              " ON p.inhparent = 'calls'::regclass"
                              " WHERE x.indrelid = 'calls'::regclass"
                              " AND NOT EXISTS (SELECT 1 FROM pg_inherits ii JOIN pg_index cx"
                              " ON cx.indexrelid = ii.inhrelid WHERE ii.inhparent = x.indexrelid"
                              " AND cx.indrelid = p.inhrelid)"), 0);
  /* the three the migrations from 005 make, on each day partition */
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM pg_inherits ii JOIN pg_class i"
                              " ON i.oid = ii.inhparent WHERE i.relname IN ('calls_request_id',"
                              " 'calls_replay_of', 'calls_started_stats')"),
                   3 * tpg_int(c, "SELECT count(*) FROM pg_inherits"
                                  " WHERE inhparent = 'calls'::regclass"));
}

static void check_done(PGconn *c, int64_t filled) {
  assert_int_equal(tpg_int(c, "SELECT max(version) FROM reqlog_schema"), pg_migrate_count());
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM reqlog_schema"), pg_migrate_count());
  assert_int_equal(tpg_int(c, "SELECT (to_regclass('reqlog_fill') IS NULL)::int"), 1);
  assert_int_equal(differing(c), 0);
  /* every day partition has statistics of the new column (the planner needs them to
   * look a request id up in its index rather than walk every day by id) */
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM pg_inherits i JOIN pg_class p"
                              " ON p.oid = i.inhrelid WHERE i.inhparent = 'calls'::regclass"
                              " AND NOT EXISTS (SELECT 1 FROM pg_stats s WHERE"
                              " s.tablename = p.relname AND s.attname = 'request_id')"), 0);
  /* every filled call written once: as many updates as calls given an id */
  assert_int_equal(tpg_wait_int(c, UPDATES_SQL, filled), filled);
  check_indexes(c);
}

/* ------------------------------------------------------------------ killed, resumed */

static void test_killed_resumed(void **state) {
  char *uri = NULL;
  PGconn *c = store4(state, "killed", &uri);
  check_expected_cases(c);
  int64_t filled = tpg_int(c, "SELECT count(*) FROM expected WHERE request_id IS NOT NULL");
  int64_t calls = tpg_int(c, "SELECT count(*) FROM calls");
  assert_int_equal(calls, NDAYS * PER_DAY);
  int64_t updates0 = tpg_int(c, UPDATES_SQL);
  assert_int_equal(updates0, 0);

  /* the looks below must not wait for the migration's locks (its process is stopped
   * while it holds them) */
  tpg_exec(c, "SET lock_timeout = '20ms'");
  char *dir = tu_tmpdir(), *log = tu_path(dir, "log");
  pid_t pid = tu_spawn(ARGS("--db", uri, "list", "--limit", "1"), NULL, log);
  /* stopped (SIGSTOP) before each look, so it cannot go on between the look and the
   * kill; killed once some days are done and some are not, preferably with a day half
   * filled (some of its calls have their id, its list row is still there) */
  int64_t left = -1, partial = 0;
  int caught = 0;
  for (int tries = 0; tries < 200000 && !caught; tries++) {
    if (tries) {
      kill(pid, SIGCONT);
      tu_sleep_ms(1);
    }
    kill(pid, SIGSTOP);
    if (waitpid(pid, NULL, WNOHANG) != 0)
      break; /* it ended: too late */
    PGresult *r = PQexec(c, "SELECT (SELECT count(*) FROM reqlog_fill),"
                            " (SELECT count(*) FROM calls c JOIN reqlog_fill f"
                            " ON c.tableoid = f.part::regclass WHERE c.request_id IS NOT NULL)");
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
      left = atoll(PQgetvalue(r, 0, 0));
      partial = atoll(PQgetvalue(r, 0, 1));
      caught = left > 0 && left < NDAYS && (partial > 0 || tries > 100000);
    }
    PQclear(r);
  }
  kill(pid, SIGKILL);
  kill(pid, SIGCONT);
  assert_int_equal(tu_wait_exit(pid), 128 + SIGKILL);
  printf("killed the fill with %lld of %d days left, %lld calls of those filled\n",
         (long long)left, NDAYS, (long long)partial);
  assert_true(caught);

  tpg_exec(c, "RESET lock_timeout");
  /* mid-way: the schema is current, the calls filled so far are right */
  assert_int_equal(tpg_int(c, "SELECT max(version) FROM reqlog_schema"), pg_migrate_count());
  int64_t top = tpg_int(c, "SELECT max(top) FROM reqlog_fill");
  assert_int_equal(top, calls);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM calls c JOIN expected e USING (id)"
                              " WHERE c.request_id IS NOT NULL"
                              " AND c.request_id IS DISTINCT FROM e.request_id"), 0);
  /* calls shipped meanwhile (with the column) into the last day, which is still to
   * fill: their values are their spool's and stay as they are, an id or none */
  char sql[1024];
  snprintf(sql, sizeof sql,
           "INSERT INTO calls (history_id, spool_id, started_at, method, url, host, path,"
           " duration_us, source, response_headers, origin, request_id) VALUES"
           " (2, 1, %lld, 'GET', 'https://h/late', 'h', '/late', 1, 'library',"
           " '[[\"X-Request-Id\",\"from-headers\"]]', 'o2', 'from-spool'),"
           " (2, 2, %lld, 'GET', 'https://h/late', 'h', '/late', 1, 'library',"
           " '[[\"X-Request-Id\",\"from-headers\"]]', 'o2', NULL)",
           (long long)(DEC1 + (NDAYS - 1) * DAY + 5), (long long)(DEC1 + (NDAYS - 1) * DAY + 6));
  tpg_exec(c, sql);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM reqlog_fill f JOIN calls c"
                              " ON c.tableoid = f.part::regclass WHERE c.history_id = 2"), 2);

  /* a day still to do dropped meanwhile (as prune drops a whole day): the rest is done
   * without it (neither the half-filled first one nor the last, which got the late calls) */
  char *victim = tpg_text(c, "SELECT part FROM reqlog_fill WHERE part <> (SELECT min(part)"
                             " FROM reqlog_fill) AND part <> 'calls_20261206'"
                             " ORDER BY part DESC LIMIT 1");
  if (victim) {
    snprintf(sql, sizeof sql, "DROP TABLE %s", victim);
    tpg_exec(c, sql);
    filled = tpg_int(c, "SELECT count(*) FROM expected e JOIN calls c USING (id)"
                        " WHERE e.request_id IS NOT NULL");
    printf("dropped %s, which was still to do\n", victim);
    free(victim);
  }

  /* opened again: the fill goes on from where it stopped, and ends */
  char *out = NULL, *err = NULL;
  int rc = tu_run(ARGS("--db", uri, "list", "--limit", "1"), NULL, NULL, &out, &err);
  if (rc != 0)
    fail_msg("reqlog list: %d: %s", rc, err);
  tu_free2(&out, &err);
  check_done(c, filled);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM calls WHERE history_id = 2"
                              " AND request_id = 'from-spool'"), 1);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM calls WHERE history_id = 2"
                              " AND request_id IS NULL"), 1);
  /* the filter finds a filled call through the day partitions' indexes */
  rc = tu_run(ARGS("--db", uri, "list", "--request-id", "amzn-3", "--json"), NULL, NULL, &out,
              &err);
  assert_int_equal(rc, 0);
  assert_non_null(strstr(out, "amzn-3"));
  tu_free2(&out, &err);

  /* once done, opening it again fills nothing */
  int64_t updates = tpg_int(c, UPDATES_SQL);
  rc = tu_run(ARGS("--db", uri, "list", "--limit", "1"), NULL, NULL, NULL, NULL);
  assert_int_equal(rc, 0);
  tpg_exec(c, "SELECT pg_stat_clear_snapshot()");
  assert_int_equal(tpg_int(c, UPDATES_SQL), updates);
  printf("checked: killed mid-fill and opened again, all %lld calls left (%lld with an id) "
         "hold what the single UPDATE gives, each filled once; the calls shipped meanwhile "
         "keep theirs; schema %d, every index complete\n",
         (long long)tpg_int(c, "SELECT count(*) FROM calls"), (long long)filled,
         pg_migrate_count());
  free(log);
  tu_rmtree(dir);
  free(dir);
  store_done(c, uri);
}

/* ------------------------------------------------------------------ from schema 7 */

static void test_from_schema7(void **state) {
  TPG_SKIP_WITHOUT(*state);
  char *uri = tpg_createdb(*state, "seven");
  pg_db *db = NULL;
  assert_int_equal(pg_open(uri, &db, NULL), REQLOG_OK);
  assert_int_equal(pg_partition_ensure(db, DEC1, DEC1 + NDAYS * DAY - 1, NULL), REQLOG_OK);
  pg_close(db);
  PGconn *c = tpg_conn(uri);
  char sql[512];
  snprintf(sql, sizeof sql,
           "INSERT INTO calls (history_id, spool_id, started_at, method, url, host, path,"
           " status, duration_us, source, origin, request_id)"
           " SELECT 1, g, %lld + g * 3600000000, 'GET', 'https://h/p', 'h', '/p', 200, g,"
           " 'library', 'o', 'id-' || g FROM generate_series(1::bigint, %d) g",
           (long long)DEC1, NDAYS * 24 - 1);
  tpg_exec(c, sql);
  /* back to schema 7: 008's index gone */
  tpg_exec(c, "DROP INDEX calls_started_stats");
  tpg_exec(c, "DELETE FROM reqlog_schema WHERE version = 8");
  char *out = NULL, *err = NULL;
  int rc = tu_run(ARGS("--db", uri, "stats", "--since", "2026-12-01T00:00:00Z"), NULL, NULL,
                  &out, &err);
  if (rc != 0)
    fail_msg("reqlog stats: %d: %s", rc, err);
  tu_free2(&out, &err);
  assert_int_equal(tpg_int(c, "SELECT max(version) FROM reqlog_schema"), pg_migrate_count());
  assert_int_equal(tpg_int(c, "SELECT (to_regclass('reqlog_fill') IS NULL)::int"), 1);
  check_indexes(c);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM pg_inherits WHERE"
                              " inhparent = 'calls_started_stats'::regclass"),
                   tpg_int(c, "SELECT count(*) FROM pg_inherits WHERE"
                              " inhparent = 'calls'::regclass"));
  /* nothing was filled: the request ids are the shipped ones */
  assert_int_equal(tpg_wait_int(c, UPDATES_SQL, 0), 0);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM calls WHERE request_id = 'id-' || duration_us"),
                   NDAYS * 24 - 1);
  printf("checked: a store at schema 7 gets 008's covering index on each of its day "
         "partitions after the schema's transaction, no call updated\n");
  store_done(c, uri);
}

/* ------------------------------------------------------------------ at once */

static void test_at_once(void **state) {
  char *uri = NULL;
  PGconn *c = store4(state, "atonce", &uri);
  int64_t filled = tpg_int(c, "SELECT count(*) FROM expected WHERE request_id IS NOT NULL");
  assert_int_equal(tpg_at_once(3, tpg_open_store, uri), 0);
  check_done(c, filled);
  printf("checked: 3 processes opening a schema-4 store at once all succeed; each of the "
         "%lld calls with an id filled once, as the single UPDATE does\n", (long long)filled);
  store_done(c, uri);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_killed_resumed),
    cmocka_unit_test(test_at_once),
    cmocka_unit_test(test_from_schema7),
  };
  return cmocka_run_group_tests(tests, tpg_group_setup, tpg_group_teardown);
}
