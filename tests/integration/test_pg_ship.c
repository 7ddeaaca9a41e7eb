/* test_pg_ship.c: `reqlog ship` (recorder/pg/pg_ship*.c) from real local histories into
 * a real throwaway PostgreSQL cluster (tests/lib/testpg.c).
 *
 * Plan:
 *   same values      a spool recorded by `reqlog demo` (every status class, retries,
 *                    binary and gzip bodies, 422 field errors) plus hand-made rows (a
 *                    binary body with NUL, text with tab/newline/backslash, text that is
 *                    not UTF-8, a retry of a row shipped in the same batch and one of a
 *                    row the spool lacks, replay_of likewise): every column of every row
 *                    is in the store as
 *                    in the spool; shipping again ships nothing; --status says 0 waiting
 *   restart          `ship --follow` ships; PostgreSQL stops while more calls go into
 *                    the spool; it starts again and every call is in the store once,
 *                    the outage said once; SIGTERM ends the follower with exit 0
 *   kill -9          30 times a shipper is killed at a random moment of a large backfill:
 *                    after each, the store holds exactly the spool's first shipped_id
 *                    rows; at the end every row once
 *   four spools      4 spools of 4 origins shipped at once into one store: exact counts
 *                    per origin
 *   password         a password in --to is warned about and printed nowhere (success,
 *                    a wrong password, --status)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testpg.h"
#include "testutil.h"

typedef struct env {
  tpg *pg;
  char *dir;
} env;

static int setup(void **state) {
  env *e = calloc(1, sizeof *e);
  e->pg = tpg_start();
  e->dir = tu_tmpdir();
  *state = e;
  return 0;
}

static int teardown(void **state) {
  env *e = *state;
  tpg_stop(e->pg);
  tu_rmtree(e->dir);
  free(e->dir);
  free(e);
  return 0;
}

/* ------------------------------------------------------------------ same values */

/* The columns compared as text between spool and store (all but id, retry_of, the
 * bodies and the booleans, checked on their own). */
static const char *const COLS[] = {
  "started_at", "method", "url", "host", "path", "status", "error", "duration_us",
  "queued_us", "dns_us", "connect_us", "tls_us", "ttfb_us", "key", "attempt", "source",
  "request_headers", "response_headers", "request_size", "request_sha256", "response_size",
  "response_sha256", "content_type", "http_version", "remote_ip", "error_message",
  "error_fields", "origin", NULL};

/* Column COL of the spool as recorded: header JSON, bodies and digests are stored packed
 * (docs/design.md §10) and read through reqlog_unpack; the rest as they are. */
static const char *spool_col(const char *col, char *buf, size_t cap) {
  static const char *const packed[] = {"request_headers", "response_headers", "request_body",
                                       "response_body", "request_sha256", "response_sha256",
                                       NULL};
  for (int i = 0; packed[i]; i++)
    if (strcmp(col, packed[i]) == 0) {
      snprintf(buf, cap, "reqlog_unpack(packed, %s)", col);
      return buf;
    }
  return col;
}

static int same(const char *a, const char *b) {
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Every row of the spool S against the store C (history HID); returns the mismatches,
 * each printed. */
static int compare_all(sqlite3 *s, PGconn *c, int64_t hid) {
  int bad = 0;
  sqlite3_stmt *ids = NULL;
  assert_int_equal(sqlite3_prepare_v2(s, "SELECT id FROM calls ORDER BY id", -1, &ids, NULL), SQLITE_OK);
  while (sqlite3_step(ids) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(ids, 0);
    for (int k = 0; COLS[k]; k++) {
      char expr[96];
      char *want = tu_textf(s, "SELECT %s FROM calls WHERE id = %" PRId64,
                            spool_col(COLS[k], expr, sizeof expr), id);
      char sql[256];
      snprintf(sql, sizeof sql, "SELECT %s::text FROM calls WHERE history_id = %" PRId64
               " AND spool_id = %" PRId64, COLS[k], hid, id);
      char *got = tpg_text(c, sql);
      /* row 2's message is not UTF-8: the store has U+FFFD for the bad byte */
      if (id == 2 && strcmp(COLS[k], "error_message") == 0) {
        free(want);
        want = strdup("ab\xEF\xBF\xBD" "c");
      }
      if (!same(want, got)) {
        fprintf(stderr, "row %" PRId64 " %s: spool '%s', store '%s'\n", id, COLS[k],
                want ? want : "NULL", got ? got : "NULL");
        bad++;
      }
      free(want);
      free(got);
    }
    /* booleans */
    for (int k = 0; k < 2; k++) {
      const char *col = k ? "response_truncated" : "request_truncated";
      int64_t want = tu_intf(s, "SELECT %s FROM calls WHERE id = %" PRId64, col, id);
      int64_t got = tpg_intf(c, "SELECT %s::int FROM calls WHERE history_id = %" PRId64
                             " AND spool_id = %" PRId64, col, hid, id);
      if ((want != 0) != (got != 0)) {
        fprintf(stderr, "row %" PRId64 " %s: %" PRId64 " vs %" PRId64 "\n", id, col, want, got);
        bad++;
      }
    }
    /* bodies: text stays text, blobs become bytea (compared as hex) */
    for (int k = 0; k < 2; k++) {
      const char *col = k ? "response_body" : "request_body";
      char expr[96];
      spool_col(col, expr, sizeof expr);
      char *type = tu_textf(s, "SELECT typeof(%s) FROM calls WHERE id = %" PRId64, expr, id);
      char *want = tu_textf(s, "SELECT lower(hex(%s)) FROM calls WHERE id = %" PRId64, expr, id);
      char sql[320];
      snprintf(sql, sizeof sql,
               "SELECT CASE WHEN %s IS NOT NULL THEN 'text:' || encode(convert_to(%s, 'UTF8'), 'hex')"
               " WHEN %s_bin IS NOT NULL THEN 'blob:' || encode(%s_bin, 'hex') END FROM calls"
               " WHERE history_id = %" PRId64 " AND spool_id = %" PRId64,
               col, col, col, col, hid, id);
      char *got = tpg_text(c, sql);
      char *expect = NULL;
      if (strcmp(type, "null") != 0)
        assert_true(asprintf(&expect, "%s:%s", strcmp(type, "text") == 0 ? "text" : "blob",
                             want ? want : "") > 0);
      /* text that is not UTF-8 (row 2) is stored as bytes */
      if (expect && got && strncmp(expect, "text:", 5) == 0 && strncmp(got, "blob:", 5) == 0 &&
          id == 2 && strcmp(expect + 5, got + 5) == 0)
        free(expect), expect = strdup(got);
      if (!same(expect, got)) {
        fprintf(stderr, "row %" PRId64 " %s: spool %s, store %s\n", id, col,
                expect ? expect : "NULL", got ? got : "NULL");
        bad++;
      }
      free(type);
      free(want);
      free(got);
      free(expect);
    }
    /* retry_of: the store id of the spool row retried, or NULL when the spool lacks it */
    int64_t retry = tu_intf(s, "SELECT coalesce((SELECT r.id FROM calls c JOIN calls r ON "
                               "r.id = c.retry_of WHERE c.id = %" PRId64 "), 0)", id);
    int64_t got = tpg_intf(c, "SELECT coalesce((SELECT r.spool_id FROM calls c JOIN calls r "
                              "ON r.id = c.retry_of WHERE c.history_id = %" PRId64
                              " AND c.spool_id = %" PRId64 "), 0)", hid, id);
    int64_t dangling = tpg_intf(c, "SELECT count(*) FROM calls c WHERE c.retry_of IS NOT NULL "
                                   "AND NOT EXISTS (SELECT 1 FROM calls r WHERE r.id = c.retry_of)");
    if (retry != got || dangling) {
      fprintf(stderr, "row %" PRId64 " retry_of: spool row %" PRId64 ", store row of spool %" PRId64
              " (%" PRId64 " dangling)\n", id, retry, got, dangling);
      bad++;
    }
    /* replay_of: the store id of the spool row replayed, or NULL when the spool lacks it */
    int64_t replay = tu_intf(s, "SELECT coalesce((SELECT r.id FROM calls c JOIN calls r ON "
                                "r.id = c.replay_of WHERE c.id = %" PRId64 "), 0)", id);
    int64_t rgot = tpg_intf(c, "SELECT coalesce((SELECT r.spool_id FROM calls c JOIN calls r "
                               "ON r.id = c.replay_of WHERE c.history_id = %" PRId64
                               " AND c.spool_id = %" PRId64 "), 0)", hid, id);
    if (replay != rgot) {
      fprintf(stderr, "row %" PRId64 " replay_of: spool row %" PRId64 ", store row of spool %"
              PRId64 "\n", id, replay, rgot);
      bad++;
    }
    /* error_field_list: call_fields of the row */
    char *want = tu_textf(s, "SELECT group_concat(field, ',') FROM (SELECT field FROM "
                             "call_fields WHERE call_id = %" PRId64 " ORDER BY field)", id);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT array_to_string(ARRAY(SELECT unnest(error_field_list) "
             "ORDER BY 1), ',') FROM calls WHERE history_id = %" PRId64 " AND spool_id = %"
             PRId64, hid, id);
    char *gotf = tpg_text(c, sql);
    if (gotf && !*gotf)
      free(gotf), gotf = NULL;
    if (!same(want, gotf)) {
      fprintf(stderr, "row %" PRId64 " fields: spool %s, store %s\n", id, want ? want : "NULL",
              gotf ? gotf : "NULL");
      bad++;
    }
    free(want);
    free(gotf);
  }
  sqlite3_finalize(ids);
  return bad;
}

/* Rows no recording makes often: ids 1 to 3, and TU_FULL_ROW_SQL's 7 (a retry of 6,
 * which the spool lacks). */
static void odd_rows(const char *path) {
  sqlite3 *db = tu_db(path);
  tu_exec(db,
          "INSERT INTO calls(id, started_at, method, url, host, path, status, duration_us,"
          " source, request_body, response_body, request_size, response_size) VALUES"
          " (1, 1795813440000000, 'POST', 'https://h.example/a', 'h.example', '/a', 200, 5,"
          "  'library', X'00FF1041626300', 'tab' || char(9) || 'nl' || char(10) || 'cr' ||"
          "  char(13) || 'bs\\\\N\\end', 7, 20)");
  tu_exec(db,
          "INSERT INTO calls(id, started_at, method, url, host, path, status, duration_us,"
          " source, request_body, error_message, error_fields) VALUES"
          " (2, 1795813441000000, 'POST', 'https://h.example/b', 'h.example', '/b', 500, 5,"
          "  'library', CAST(X'C328' AS TEXT), CAST(X'6162FF63' AS TEXT), NULL)");
  tu_exec(db,
          "INSERT INTO calls(id, started_at, method, url, host, path, status, duration_us,"
          " source, attempt, retry_of, error_message, error_fields, response_body) VALUES"
          " (3, 1795813442000000, 'POST', 'https://h.example/a', 'h.example', '/a', 422, 5,"
          "  'library', 2, 1, 'bad', '{\"email\":[\"no\"],\"name\":[\"no\"]}',"
          "  '{\"message\":\"bad\",\"errors\":{\"email\":[\"no\"],\"name\":[\"no\"]}}')");
  tu_exec(db, "INSERT INTO call_fields(call_id, field) VALUES (3, 'email'), (3, 'name')");
  tu_exec(db, TU_FULL_ROW_SQL);
  tu_exec(db, "INSERT INTO call_fields(call_id, field) VALUES (7, 'email')");
  /* a replay of a row of the same batch, and one of a row the spool lacks */
  tu_exec(db, "UPDATE calls SET replay_of = 1 WHERE id = 3");
  tu_exec(db, "UPDATE calls SET replay_of = 5 WHERE id = 2");
  sqlite3_close(db);
}

static void test_same_values(void **state) {
  env *e = *state;
  TPG_SKIP_WITHOUT(e->pg);
  char *uri = tpg_createdb(e->pg, "same");
  char *spool = tu_new_history(e->dir, "same.db");
  odd_rows(spool);
  char *out = NULL, *err = NULL;
  int rc = tu_run(ARGS("--db", spool, "demo"), NULL, NULL, &out, &err);
  tu_expect_exit(rc, 0, "reqlog demo", err);
  tu_free2(&out, &err);
  int64_t n = tu_file_int(spool, "SELECT count(*) FROM calls");
  int64_t hid = tu_file_int(spool, "SELECT value FROM meta WHERE name = 'history_id'");
  assert_true(n > 40);
  assert_true(tu_file_int(spool, "SELECT count(*) FROM calls WHERE retry_of IS NOT NULL") > 3);
  assert_true(tu_file_int(spool, "SELECT count(*) FROM calls"
                                 " WHERE typeof(reqlog_unpack(packed, response_body)) = 'blob'") > 0);

  rc = tu_run(ARGS("--db", spool, "ship", "--to", uri), NULL, NULL, &out, &err);
  tu_expect_exit(rc, 0, "ship", err);
  char want[64];
  snprintf(want, sizeof want, "shipped %" PRId64 " calls", n);
  tu_expect_has(out, want, "ship's summary");
  tu_free2(&out, &err);

  PGconn *c = tpg_conn(uri);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM calls"), n);
  sqlite3 *s = tu_db(spool);
  int bad = compare_all(s, c, hid);
  sqlite3_close(s);
  assert_int_equal(bad, 0);
  assert_int_equal(tpg_int(c, "SELECT retry_of IS NULL::int FROM calls WHERE spool_id = 7"), 1);
  assert_int_equal(tpg_int(c, "SELECT replay_of IS NULL::int FROM calls WHERE spool_id = 2"), 1);
  assert_int_equal(tpg_int(c, "SELECT r.spool_id FROM calls c JOIN calls r ON r.id = c.replay_of"
                              " WHERE c.spool_id = 3"), 1);
  char *msg = tpg_text(c, "SELECT error_message FROM calls WHERE spool_id = 2");
  assert_string_equal(msg, "ab\xEF\xBF\xBD" "c");
  free(msg);
  assert_int_equal(tpg_intf(c, "SELECT shipped_id FROM ship_state WHERE history_id = %" PRId64, hid),
                   tu_file_int(spool, "SELECT max(id) FROM calls"));
  assert_int_equal(tpg_intf(c, "SELECT rows FROM ship_state WHERE history_id = %" PRId64, hid), n);

  /* again: nothing new */
  int64_t seq = tpg_int(c, "SELECT last_value FROM calls_id_seq");
  rc = tu_run(ARGS("--db", spool, "ship", "--to", uri), NULL, NULL, &out, &err);
  tu_expect_exit(rc, 0, "ship again", err);
  tu_expect_has(out, "shipped 0 calls", "ship again");
  tu_free2(&out, &err);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM calls"), n);
  assert_int_equal(tpg_int(c, "SELECT last_value FROM calls_id_seq"), seq);

  rc = tu_run(ARGS("--db", spool, "ship", "--status", "--to", uri), NULL, NULL, &out, &err);
  tu_expect_exit(rc, 0, "ship --status", err);
  tu_expect_has(out, "waiting        0", "status");
  snprintf(want, sizeof want, "history %" PRId64, hid);
  tu_expect_has(out, want, "status");
  printf("%s", out);
  tu_free2(&out, &err);
  rc = tu_run(ARGS("--db", uri, "ship", "--status"), NULL, NULL, &out, &err);
  tu_expect_exit(rc, 0, "ship --status of the store", err);
  tu_expect_has(out, want, "status of the store");
  tu_free2(&out, &err);
  printf("checked: %" PRId64 " calls (demo + odd rows) in the store with every column as in "
         "the spool; a second ship ships nothing\n", n);
  PQfinish(c);
  free(spool);
  free(uri);
}

/* ------------------------------------------------------------------ restart */

static void test_restart(void **state) {
  env *e = *state;
  TPG_SKIP_WITHOUT(e->pg);
  char *uri = tpg_createdb(e->pg, "restart");
  char *spool = tu_new_history(e->dir, "restart.db");
  int64_t t0 = tu_now_us() - INT64_C(86400000000);
  tu_gen_calls(spool, 3000, "host-r", t0, 1000, 300);
  char *log = tu_path(e->dir, "follow.log");
  pid_t pid = tu_spawn(ARGS("--db", spool, "ship", "--to", uri, "--follow"), NULL, log);
  PGconn *c = tpg_conn(uri);
  assert_int_equal(tpg_wait_int(c, "SELECT count(*) FROM calls", 3000), 3000);
  PQfinish(c);

  tpg_server_stop(e->pg);
  /* recording goes on into the spool meanwhile */
  tu_gen_calls(spool, 2000, "host-r", t0 + INT64_C(5000000000), 1000, 300);
  /* the follower finds the store gone (and says so) before it comes back */
  int said = 0;
  for (int i = 0; i < 1200 && !said; i++) {
    char *text = tu_read_file(log);
    said = text && strstr(text, "waiting for the store") != NULL;
    free(text);
    if (!said)
      tu_sleep_ms(100);
  }
  assert_true(said);
  tu_gen_calls(spool, 1000, "host-r", t0 + INT64_C(9000000000), 1000, 300);
  tpg_server_start(e->pg);

  c = tpg_conn(uri);
  assert_int_equal(tpg_wait_int(c, "SELECT count(*) FROM calls", 6000), 6000);
  assert_int_equal(tpg_int(c, "SELECT count(DISTINCT spool_id) FROM calls"), 6000);
  assert_int_equal(tpg_int(c, "SELECT max(spool_id) FROM calls"), 6000);
  assert_int_equal(tpg_int(c, "SELECT rows FROM ship_state"), 6000);
  /* and it keeps following */
  tu_gen_calls(spool, 10, "host-r", t0 + INT64_C(20000000000), 1000, 300);
  assert_int_equal(tpg_wait_int(c, "SELECT count(*) FROM calls", 6010), 6010);
  kill(pid, SIGTERM);
  int rc = tu_wait_exit(pid);
  char *text = tu_read_file(log);
  printf("follower said:\n%s", text);
  assert_int_equal(rc, 0);
  char *first = strstr(text, "waiting for the store");
  assert_non_null(first);
  assert_null(strstr(first + 1, "waiting for the store"));
  tu_expect_has(text, "answers again", "the follower's output");
  free(text);
  printf("checked: PostgreSQL stopped and started under a following shipper: 6010 calls, "
         "each once; the outage said once; SIGTERM exits 0\n");
  PQfinish(c);
  free(log);
  free(spool);
  free(uri);
}

/* ------------------------------------------------------------------ kill -9 */

static void test_kill9(void **state) {
  env *e = *state;
  TPG_SKIP_WITHOUT(e->pg);
  char *uri = tpg_createdb(e->pg, "kill9");
  char *spool = tu_new_history(e->dir, "kill9.db");
  const int n = 40000;
  /* three days, so batches need new partitions as they go */
  tu_gen_calls(spool, n, "host-k", tu_now_us() - INT64_C(3) * 86400000000, 6000000, 100);
  char *log = tu_path(e->dir, "kill9.log");
  char *out = NULL, *err = NULL;
  /* the store's tables first, so that the kills fall on batches */
  int rc = tu_run(ARGS("--db", spool, "ship", "--status", "--to", uri), NULL, NULL, &out, &err);
  tu_expect_exit(rc, 0, "ship --status", err);
  tu_free2(&out, &err);
  PGconn *c = tpg_conn(uri);
  srand(12345);
  int mid = 0, bad = 0;
  int64_t rows = 0;
  for (int i = 0; i < 30; i++) {
    pid_t pid = tu_spawn(ARGS("--db", spool, "ship", "--to", uri), NULL, log);
    if (i % 2) {
      /* at a random moment: shipping makes progress between the kills */
      tu_sleep_ms(rand() % 600);
    } else {
      /* in the middle of a batch */
      for (int k = 0; k < 20000 && !tpg_ship_in_flight(c); k++)
        tu_sleep_ms(1);
      mid += tpg_ship_in_flight(c);
      tu_sleep_ms(rand() % 20);
    }
    kill(pid, SIGKILL);
    tu_wait_exit(pid);
    /* what the store has is exactly the spool's rows up to shipped_id */
    int64_t shipped = tpg_int(c, "SELECT coalesce(max(shipped_id), 0) FROM ship_state");
    rows = tpg_int(c, "SELECT count(*) FROM calls");
    int64_t distinct = tpg_int(c, "SELECT count(DISTINCT spool_id) FROM calls");
    int64_t above = tpg_intf(c, "SELECT count(*) FROM calls WHERE spool_id > %" PRId64, shipped);
    if (rows != shipped || distinct != rows || above != 0) {
      fprintf(stderr, "after kill %d: %" PRId64 " rows, %" PRId64 " distinct, shipped_id %"
              PRId64 ", %" PRId64 " above it\n", i, rows, distinct, shipped, above);
      bad++;
    }
  }
  assert_int_equal(bad, 0);
  /* the kills did fall on batches */
  assert_true(mid >= 10);
  rc = tu_run(ARGS("--db", spool, "ship", "--to", uri), NULL, NULL, &out, &err);
  tu_expect_exit(rc, 0, "ship after the kills", err);
  tu_free2(&out, &err);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM calls"), n);
  assert_int_equal(tpg_int(c, "SELECT count(DISTINCT spool_id) FROM calls"), n);
  assert_int_equal(tpg_int(c, "SELECT rows FROM ship_state"), n);
  printf("checked: 30 kill -9 of a shipper of %d calls (%d seen with a batch in flight; "
         "%" PRId64 " calls were in the store after the last): never a row lost or twice\n",
         n, mid, rows);
  PQfinish(c);
  free(log);
  free(spool);
  free(uri);
}

/* ------------------------------------------------------------------ four spools */

static void test_four_spools(void **state) {
  env *e = *state;
  TPG_SKIP_WITHOUT(e->pg);
  char *uri = tpg_createdb(e->pg, "four");
  static const char *const origins[] = {"host-a", "host-b", "host-c", "host-d"};
  const int each = 5000;
  char *spools[4], *logs[4];
  pid_t pids[4];
  for (int i = 0; i < 4; i++) {
    char name[32];
    snprintf(name, sizeof name, "four-%d.db", i);
    spools[i] = tu_new_history(e->dir, name);
    tu_gen_calls(spools[i], each, origins[i], tu_now_us() - INT64_C(86400000000) * (i + 1),
             1000000, 300);
    snprintf(name, sizeof name, "four-%d.log", i);
    logs[i] = tu_path(e->dir, name);
  }
  for (int i = 0; i < 4; i++)
    pids[i] = tu_spawn(ARGS("--db", spools[i], "ship", "--to", uri), NULL, logs[i]);
  int failed = 0;
  for (int i = 0; i < 4; i++) {
    if (tu_wait_exit(pids[i]) != 0) {
      char *text = tu_read_file(logs[i]);
      fprintf(stderr, "shipper %d failed:\n%s", i, text);
      free(text);
      failed++;
    }
  }
  assert_int_equal(failed, 0);
  PGconn *c = tpg_conn(uri);
  for (int i = 0; i < 4; i++) {
    assert_int_equal(tpg_intf(c, "SELECT count(*) FROM calls WHERE origin = '%s'", origins[i]), each);
    assert_int_equal(tpg_intf(c, "SELECT count(DISTINCT spool_id) FROM calls WHERE origin = '%s'",
                              origins[i]), each);
    free(spools[i]);
    free(logs[i]);
  }
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM calls"), 4 * each);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM ship_state"), 4);
  assert_int_equal(tpg_int(c, "SELECT count(DISTINCT id) FROM calls"), 4 * each);
  printf("checked: 4 spools of 4 origins shipped at once: %d calls each, ids unique\n", each);
  PQfinish(c);
  free(uri);
}

/* ------------------------------------------------------------------ password */

static void test_password(void **state) {
  env *e = *state;
  TPG_SKIP_WITHOUT(e->pg);
  char *uri = tpg_createdb(e->pg, "pwship");
  PGconn *c = tpg_conn(uri);
  /* the password role may use the store: the schema is made by the owner first */
  tpg_exec(c, "GRANT ALL ON SCHEMA public TO " TPG_PW_USER);
  char *spool = tu_new_history(e->dir, "pw.db");
  tu_gen_calls(spool, 50, "host-p", tu_now_us(), 1000, 100);
  char good[512], wrong[512];
  tpg_pw_uri(e->pg, "pwship", TPG_PW_SECRET, good);
  tpg_pw_uri(e->pg, "pwship", "WrongZecret9", wrong);
  char *out = NULL, *err = NULL;
  int rc = tu_run(ARGS("--db", spool, "ship", "--to", good), NULL, NULL, &out, &err);
  tu_expect_exit(rc, 0, "ship with a password", err);
  tu_expect_has(err, "holds a password", "the warning");
  tu_expect_has(err, ".pgpass", "the warning");
  assert_null(strstr(out, TPG_PW_SECRET));
  assert_null(strstr(err, TPG_PW_SECRET));
  tu_free2(&out, &err);
  assert_int_equal(tpg_int(c, "SELECT count(*) FROM calls"), 50);

  const char *const *runs[] = {
    ARGS("--db", spool, "ship", "--to", wrong),
    ARGS("--db", spool, "ship", "--status", "--to", wrong),
    ARGS("--db", wrong, "ship", "--status"),
    ARGS("--db", spool, "ship", "--status", "--to", good),
  };
  const int want[] = {4, 4, 4, 0};
  for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
    rc = tu_run(runs[i], NULL, NULL, &out, &err);
    tu_expect_exit(rc, want[i], runs[i][3], err);
    printf("run %zu: %s%s", i, out, err);
    assert_null(strstr(out, "WrongZecret9"));
    assert_null(strstr(err, "WrongZecret9"));
    assert_null(strstr(out, TPG_PW_SECRET));
    assert_null(strstr(err, TPG_PW_SECRET));
    tu_expect_has(err, "holds a password", "the warning");
    tu_free2(&out, &err);
  }
  printf("checked: a password in --to or --db is warned about and never printed\n");
  PQfinish(c);
  free(spool);
  free(uri);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_same_values),
    cmocka_unit_test(test_restart),
    cmocka_unit_test(test_kill9),
    cmocka_unit_test(test_four_spools),
    cmocka_unit_test(test_password),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
