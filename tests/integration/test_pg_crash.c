/* test_pg_crash.c: kill -9 of the PostgreSQL server under a following shipper loses and
 * repeats nothing. A real throwaway cluster (tests/lib/testpg.c), a spool with a large
 * backlog that a recording thread keeps adding calls to (the library, through the fake
 * API on loopback), and `reqlog ship --to URL --follow` shipping it; the server's every
 * process is SIGKILLed while a batch is in flight (its COPY or INSERT seen in
 * pg_stat_activity), then started again (crash recovery), round after round.
 *
 * Plan:
 *   server kill -9   at least 6 rounds, each: the shipper commits a batch after the last
 *                    restart (it resumed by itself), a batch is in flight, the server is
 *                    killed; the shipper is still running after every kill. At the end
 *                    every spool row is in the store exactly once: the same
 *                    (history_id, spool_id) set and count, ship_state is the spool's
 *                    max id, the outage was said and its end; SIGTERM ends the shipper
 *                    with exit 0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testpg.h"
#include "testutil.h"

#define BACKLOG 30000 /* rows waiting when the shipper starts: 15 batches of 2,000 */
#define IN_FLIGHT_KILLS 6
#define MAX_ROUNDS 24

/* The recording side: a thread calling the fake API through the library into SPOOL until
 * told to stop. */
typedef struct recorder {
  const char *spool, *base_url;
  atomic_int stop;
  atomic_long calls;
  reqlog_err opened;
} recorder;

static void *record_loop(void *arg) {
  recorder *k = arg;
  reqlog *r = NULL;
  k->opened = reqlog_open(k->spool, &r, NULL);
  if (k->opened != REQLOG_OK)
    return NULL;
  reqlog_set_rate_limit(r, 6000); /* 100 calls a second: a busy integration */
  reqlog_set_retry(r, 1, 10, 1000);
  reqlog_set_base_url(r, k->base_url);
  reqlog_set_api_key(r, FAKEAPI_KEY);
  while (!atomic_load(&k->stop)) {
    reqlog_response *resp = NULL;
    reqlog_request(r, "GET", "/echo", NULL, 0, NULL, &resp);
    reqlog_response_free(resp);
    atomic_fetch_add(&k->calls, 1);
  }
  k->opened = reqlog_close(r);
  return NULL;
}

/* How many times NEEDLE occurs in the file at PATH. */
static int occurrences(const char *path, const char *needle) {
  char *text = tu_read_file(path);
  int n = 0;
  for (const char *p = text; p && (p = strstr(p, needle)); p += strlen(needle))
    n++;
  free(text);
  return n;
}

static int64_t shipped_of(PGconn *c, int64_t hid) {
  return tpg_intf(c, "SELECT coalesce((SELECT shipped_id FROM ship_state WHERE history_id = %"
                  PRId64 "), 0)", hid);
}

/* What teardown ends even when the test failed half-way: the shipper, the recording
 * thread, the cluster. */
typedef struct fixture {
  tpg *pg;
  char *dir;
  pid_t shipper;
  recorder rec;
  pthread_t th;
  int recording;
} fixture;

static int setup(void **state) {
  fixture *fx = calloc(1, sizeof *fx);
  fx->pg = tpg_start();
  fx->dir = tu_tmpdir();
  *state = fx;
  return 0;
}

static void stop_recording(fixture *fx) {
  if (fx->recording) {
    atomic_store(&fx->rec.stop, 1);
    pthread_join(fx->th, NULL);
    fx->recording = 0;
  }
}

static int teardown(void **state) {
  fixture *fx = *state;
  if (fx->shipper > 0) {
    kill(fx->shipper, SIGKILL);
    tu_wait_exit(fx->shipper);
  }
  stop_recording(fx);
  tpg_stop(fx->pg);
  tu_rmtree(fx->dir);
  free(fx->dir);
  free(fx);
  return 0;
}

static void server_kill9(void **state) {
  fixture *fx = *state;
  tpg *pg = fx->pg;
  TPG_SKIP_WITHOUT(pg);
  const char *dir = fx->dir;
  char *uri = tpg_createdb(pg, "crash");
  /* testpg.c turns synchronous_commit off for speed, and a server killed then loses the
   * last commits, ship_state with its rows; shippers would re-ship them (nothing lost),
   * but every round would start again from the same batch. A team's server commits
   * synchronously: so does this store, and the rounds make progress. */
  PGconn *c = tpg_conn(uri);
  tpg_exec(c, "ALTER DATABASE crash SET synchronous_commit = on");
  PQfinish(c);
  char *spool = tu_new_history(dir, "spool.db");
  char *log = tu_path(dir, "follow.log");
  /* two days back, so batches make partitions as they go; bodies of about 1.5 kB make a
   * batch of 2,000 rows a few MB, long enough to be seen in flight */
  tu_gen_calls(spool, BACKLOG, "host-crash", tu_now_us() - INT64_C(2) * 86400000000, 5000000,
               1500);
  int64_t hid = tu_file_int(spool, "SELECT value FROM meta WHERE name = 'history_id'");
  assert_true(hid != 0);

  /* the store's tables first (any command opening the store makes them) */
  char *out = NULL, *err = NULL;
  int rc = tu_run(ARGS("--db", spool, "ship", "--status", "--to", uri), NULL, NULL, &out, &err);
  tu_expect_exit(rc, 0, "ship --status", err);
  tu_free2(&out, &err);

  fakeapi *api = tu_api(1000000, 60000);
  recorder *rec = &fx->rec;
  rec->spool = spool;
  rec->base_url = fakeapi_base_url(api);
  assert_int_equal(pthread_create(&fx->th, NULL, record_loop, rec), 0);
  fx->recording = 1;
  pid_t pid = fx->shipper = tu_spawn(ARGS("--db", spool, "ship", "--to", uri, "--follow"),
                                     NULL, log);

  srand(4711);
  int rounds = 0, in_flight = 0, procs = 0;
  int64_t at_kill[MAX_ROUNDS] = {0};
  for (; rounds < MAX_ROUNDS && in_flight < IN_FLIGHT_KILLS; rounds++) {
    c = tpg_conn(uri);
    /* the shipper resumed by itself: a batch committed since the server came back */
    int64_t s0 = shipped_of(c, hid), s = s0;
    for (int i = 0; i < 1200 && s <= s0; i++) {
      tu_sleep_ms(100);
      s = shipped_of(c, hid);
    }
    if (s <= s0)
      fail_msg("round %d: the shipper shipped nothing after the server came back (at %" PRId64
               ")\n%s", rounds, s0, tu_read_file(log));
    /* then a batch in flight */
    int seen = 0;
    for (int i = 0; i < 20000 && !(seen = tpg_ship_in_flight(c)); i++)
      tu_sleep_ms(1);
    in_flight += seen;
    at_kill[rounds] = s;
    print_message("round %d: shipped_id %" PRId64 " -> %" PRId64 ", batch in flight: %s; %ld "
                  "calls recorded so far\n", rounds, s0, s, seen ? "yes" : "no",
                  (long)atomic_load(&rec->calls));
    PQfinish(c);
    procs += tpg_server_kill9(pg);
    int st;
    if (waitpid(pid, &st, WNOHANG) != 0)
      fail_msg("round %d: the shipper ended with the server\n%s", rounds, tu_read_file(log));
    /* recording goes on while the server is down */
    tu_sleep_ms(rand() % 400);
    tpg_server_start(pg);
  }
  assert_true(in_flight >= IN_FLIGHT_KILLS);
  /* the kills fell on the backlog, not only on the trickle of live calls */
  assert_true(at_kill[0] < BACKLOG);

  stop_recording(fx);
  assert_int_equal(rec->opened, REQLOG_OK);
  fakeapi_stop(api);
  int64_t n = tu_file_int(spool, "SELECT count(*) FROM calls");
  int64_t max = tu_file_int(spool, "SELECT max(id) FROM calls");
  long calls = atomic_load(&rec->calls);
  assert_true(calls > 0);
  print_message("spool: %" PRId64 " rows, ids %" PRId64 "..%" PRId64 "\n", n,
                tu_file_int(spool, "SELECT min(id) FROM calls"), max);
  assert_int_equal(n, BACKLOG + calls);

  c = tpg_conn(uri);
  char sql[160];
  snprintf(sql, sizeof sql, "SELECT shipped_id FROM ship_state WHERE history_id = %" PRId64, hid);
  assert_int_equal(tpg_wait_int(c, sql, max), max);
  /* exactly once: the same count, no pair twice, nothing of another history */
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM calls"), n);
  assert_int_equal(tpg_int(c, "SELECT count(DISTINCT (history_id, spool_id)) FROM calls"), n);
  assert_int_equal(tpg_intf(c, "SELECT count(*) FROM calls WHERE history_id <> %" PRId64, hid), 0);
  assert_int_equal(tpg_intf(c, "SELECT rows FROM ship_state WHERE history_id = %" PRId64, hid), n);
  /* the same set of ids */
  sqlite3 *s = tu_db(spool);
  char *want = tu_text(s, "SELECT group_concat(id, ',') FROM (SELECT id FROM calls ORDER BY id)");
  sqlite3_close(s);
  char *got = tpg_text(c, "SELECT string_agg(spool_id::text, ',' ORDER BY spool_id) FROM calls");
  assert_non_null(want);
  assert_non_null(got);
  if (strcmp(want, got) != 0)
    fail_msg("the store's spool ids differ from the spool's");
  free(want);
  free(got);
  PQfinish(c);

  /* it kept following all along, said each outage it saw, and ends cleanly */
  int st;
  assert_int_equal(waitpid(pid, &st, WNOHANG), 0);
  kill(pid, SIGTERM);
  rc = tu_wait_exit(pid);
  fx->shipper = 0;
  int waits = occurrences(log, "waiting for the store");
  int agains = occurrences(log, "answers again");
  if (rc != 0 || waits < 1 || agains < 1)
    fail_msg("shipper: exit %d, %d outages said, %d ends said\n%s", rc, waits, agains,
             tu_read_file(log));
  print_message("%d rounds (%d with a batch in flight, %d server processes SIGKILLed), "
                "%" PRId64 " calls (%d backlog + %ld recorded meanwhile): every call in the "
                "store once, ship_state = %" PRId64 "; the shipper said %d outages and kept "
                "following\n", rounds, in_flight, procs, n, BACKLOG, calls, max, waits);
  free(log);
  free(spool);
  free(uri);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(server_kill9),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
