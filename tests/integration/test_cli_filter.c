/* test_cli_filter.c: the filters that list, export and stats share, over the shared
 * history (testcli.h): what each selects, checked against SQL over the same file, and how
 * a malformed one is refused.
 *
 * Plan:
 *   list filters   every filter alone and several together: `list --json` gives exactly
 *                  the ids SQL over the file gives (newest first), `export --format
 *                  ndjson` the same ids oldest first, `stats --json` the same total
 *   bad filters    malformed values and unknown options exit 2 naming the filter, print
 *                  nothing on stdout, never repeat a key
 *   q consistency  the same search over the same rows gives the same rows before and
 *                  after the background full-text indexer has reached them
 *   method filter  --method 'G T' exit 2; --method FROB runs but warns that no standard
 *                  method is called that; --method get, PATCH do not warn
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reqlog.h"
#include "testcli.h"

/* ------------------------------------------------------------------ list filters */

#define FIELD(f) "EXISTS (SELECT 1 FROM json_each(c.error_fields) AS j WHERE j.key = '" f "')"
#define PREFIX(p) "substr(c.path, 1, length('" p "')) = '" p "'"

/* A filter case: the options, the SQL condition they mean, and whether the answer
 * must be some but not all rows (1), no row (0), or anything (-1). */
struct fcase {
  const char *args[12];
  const char *sql;
  int some;
};

static void test_list_filters(void **state) {
  tc_env *e = *state;
  tc_history(e);
  sqlite3 *s = tu_db(e->hist);
  int64_t now = tu_now_us();
  /* a row in the middle of the fresh ones, as ISO (Z and +01:00) */
  int64_t mid_id = tu_int(s, "SELECT id FROM calls WHERE id > 20 ORDER BY id LIMIT 1 OFFSET 20");
  int64_t mid = tu_intf(s, "SELECT started_at FROM calls WHERE id = %" PRId64, mid_id);
  char iso_mid[40], iso_off[48], day[16];
  tu_iso_us(mid, iso_mid);
  time_t t1 = (time_t)(mid / 1000000) + 3600;
  struct tm tm;
  gmtime_r(&t1, &tm);
  char secs[24];
  strftime(secs, sizeof secs, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(iso_off, sizeof iso_off, "%.20s.%06d+01:00", secs, (int)(mid % 1000000));
  time_t tn = (time_t)(now / 1000000);
  gmtime_r(&tn, &tm);
  strftime(day, sizeof day, "%Y-%m-%d", &tm);
  int64_t midnight = (int64_t)(tn - (tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec)) * 1000000;

  char s_mid[80], u_mid[80], s_1d[80], s_1h[80], u_1h[80], w_7d1d[120], s_day[80];
  snprintf(s_mid, sizeof s_mid, "c.started_at >= %" PRId64, mid);
  snprintf(u_mid, sizeof u_mid, "c.started_at < %" PRId64, mid);
  snprintf(s_1d, sizeof s_1d, "c.started_at >= %" PRId64, now - INT64_C(86400000000));
  snprintf(s_1h, sizeof s_1h, "c.started_at >= %" PRId64, now - INT64_C(3600000000));
  snprintf(u_1h, sizeof u_1h, "c.started_at < %" PRId64, now - INT64_C(3600000000));
  snprintf(w_7d1d, sizeof w_7d1d, "c.started_at >= %" PRId64 " AND c.started_at < %" PRId64,
           now - 7 * INT64_C(86400000000), now - INT64_C(86400000000));
  snprintf(s_day, sizeof s_day, "c.started_at >= %" PRId64, midnight);

  const char *h1 = strchr(e->fp1, '#') + 1, *h2 = strchr(e->fp2, '#') + 1;
  char k_full[96], k_ascii[64], k_hash[96], k_hashmark[16], k_upper[16], k_hash2[96];
  char k_last4[64], k_last4b[64], k_combo[256];
  snprintf(k_full, sizeof k_full, "c.key = '%s'", e->fp1);
  snprintf(k_ascii, sizeof k_ascii, "...%s", e->fp1 + 3);
  snprintf(k_hash, sizeof k_hash, "c.key LIKE '%%#%s'", h1);
  snprintf(k_hashmark, sizeof k_hashmark, "#%s", h1);
  snprintf(k_upper, sizeof k_upper, "%s", h1);
  for (char *p = k_upper; *p; p++)
    if (*p >= 'a' && *p <= 'f')
      *p = (char)(*p - 'a' + 'A');
  snprintf(k_hash2, sizeof k_hash2, "c.key LIKE '%%#%s'", h2);
  snprintf(k_last4, sizeof k_last4, "c.key LIKE '\xe2\x80\xa6" "lpha#%%'");
  snprintf(k_last4b, sizeof k_last4b, "c.key LIKE '\xe2\x80\xa6" "4b6e#%%'");
  snprintf(k_combo, sizeof k_combo, "c.key LIKE '\xe2\x80\xa6" "lpha#%%' AND %s", s_1d);
  char f_combo[300], q_combo[300], p_combo[200], t_combo[200];
  snprintf(f_combo, sizeof f_combo, FIELD("email") " AND c.status = 422 AND %s", k_full);
  snprintf(q_combo, sizeof q_combo, "%s AND c.method = 'GET' AND c.host = '127.0.0.1'",
           QW("olivia"));
  snprintf(p_combo, sizeof p_combo, PREFIX("/public/v1/participants") " AND c.status "
                                    "BETWEEN 200 AND 299 AND c.duration_us >= 50");
  snprintf(t_combo, sizeof t_combo, "%s AND %s AND c.method = 'GET'", s_1d, u_1h);

  const struct fcase cases[] = {
    {{"--status", "422"}, "c.status = 422", 1},
    {{"--status", "4xx"}, "c.status BETWEEN 400 AND 499", 1},
    {{"--status", "401,403"}, "c.status IN (401, 403)", 1},
    {{"--status", "error"}, "c.status IS NULL", 1},
    {{"--status", "2xx,404"}, "c.status BETWEEN 200 AND 299 OR c.status = 404", 1},
    {{"--method", "POST"}, "c.method = 'POST'", 1},
    {{"--method", "delete"}, "c.method = 'DELETE'", 1},
    {{"--path", "/public/v1/participants"}, PREFIX("/public/v1/participants"), 1},
    {{"--path", "/public/v1/participants/"}, PREFIX("/public/v1/participants/"), 1},
    {{"--path", "articipants/"}, "instr(c.path, 'articipants/') > 0", 1},
    {{"--path", "echo"}, "instr(c.path, 'echo') > 0", 1},
    {{"--path", "/public/v1/*/1"}, "c.path GLOB '/public/v1/*/1*'", 1},
    {{"--host", "localhost"}, "c.host = 'localhost'", 1},
    {{"--host", "LOCALHOST"}, "c.host = 'localhost'", 1},
    {{"--host", "127.0.0.1"}, "c.host = '127.0.0.1'", 1},
    {{"--key", e->fp1}, k_full, 1},
    {{"--key", k_ascii}, k_full, 1},
    {{"--key", h1}, k_hash, 1},
    {{"--key", k_hashmark}, k_hash, 1},
    {{"--key", k_upper}, k_hash, 1},
    {{"--key", h2}, k_hash2, 1},
    {{"--key", "lpha"}, k_last4, 1},
    {{"--key", "4b6e"}, k_last4b, 1},
    {{"--since", "1d"}, s_1d, 1},
    {{"--since", "1h"}, s_1h, 1},
    {{"--until", "1h"}, u_1h, 1},
    {{"--since", "7d", "--until", "1d"}, w_7d1d, 1},
    {{"--since", iso_mid}, s_mid, 1},
    {{"--until", iso_mid}, u_mid, 1},
    {{"--since", iso_off}, s_mid, 1},
    {{"--since", day}, s_day, -1},
    {{"--min-ms", "100"}, "c.duration_us >= 100000", 1},
    {{"--min_ms", "0.25"}, "c.duration_us >= 250", -1},
    {{"-q", "lovelace"}, QW("lovelace"), 1},
    {{"--q", "olivia nguyen"}, QW("olivia") " AND " QW("nguyen"), 1},
    {{"-q", "OLIVIA"}, QW("olivia"), 1},
    {{"-q", "zo\xc3\xab"}, QW("zo\xc3\xab"), 1},
    {{"--field", "email"}, FIELD("email"), 1},
    {{"--field", "first_name"}, FIELD("first_name"), 1},
    {{"--field", "nosuchfield"}, FIELD("nosuchfield"), 0},
    {{"--status", "4xx", "--method", "POST"}, "c.status BETWEEN 400 AND 499 AND "
                                              "c.method = 'POST'", 1},
    {{"--key", "lpha", "--since", "1d"}, k_combo, 1},
    {{"--path", "/public/v1/participants", "--status", "2xx", "--min-ms", "0.05"}, p_combo, 1},
    {{"-q", "olivia", "--method", "GET", "--host", "127.0.0.1"}, q_combo, 1},
    {{"--status", "401,403", "--status", "error"}, "c.status IN (401, 403) OR "
                                                  "c.status IS NULL", 1},
    {{"--method", "GET", "--method", "DELETE"}, "c.method IN ('GET', 'DELETE')", 1},
    {{"--field", "email", "--status", "422", "--key", e->fp1}, f_combo, 1},
    {{"--since", "1d", "--until", "1h", "--method", "GET"}, t_combo, 1},
  };
  size_t ncases = sizeof cases / sizeof cases[0];
  for (size_t i = 0; i < ncases; i++) {
    const struct fcase *c = &cases[i];
    char where[1200];
    snprintf(where, sizeof where, "(%s)", c->sql);
    int want_n = 0, got_n = 0, exp_n = 0, st_n = 0;
    char *want = tc_sql_ids(s, where, 1, &want_n);
    char *want_asc = tc_sql_ids(s, where, 0, &exp_n);
    const char *a[24];
    size_t n = 0;
    a[n++] = "list";
    a[n++] = "--limit";
    a[n++] = "0";
    a[n++] = "--json";
    char label[300] = " ";
    for (size_t k = 0; c->args[k]; k++)
      a[n++] = c->args[k];
    a[n] = NULL;
    tu_label_of(c->args, label + 1, sizeof label - 1);
    char *out = NULL, *err = NULL;
    int rc = tc_run(e, e->hist, NULL, NULL, a, &out, &err);
    tu_expect_exit(rc, 0, label, err);
    char *got = tc_json_ids(out, &got_n);
    if (strcmp(got, want) != 0)
      fprintf(stderr, "list%s:\n  reqlog: [%s]\n  SQL:    [%s]  (%s)\n", label, got, want,
              c->sql);
    assert_string_equal(got, want);
    if (c->some == 1)
      assert_true(want_n > 0 && want_n < e->hist_rows);
    else if (c->some == 0)
      assert_int_equal(want_n, 0);
    free(got);
    tu_free2(&out, &err);

    /* the same filter through export and stats */
    a[0] = "export";
    a[1] = "--format";
    a[2] = "ndjson";
    a[3] = "--bodies";
    rc = tc_run(e, e->hist, NULL, NULL, a, &out, &err);
    tu_expect_exit(rc, 0, label, err);
    got = tc_ndjson_ids(out, &got_n);
    if (strcmp(got, want_asc) != 0)
      fprintf(stderr, "export%s:\n  reqlog: [%s]\n  SQL:    [%s]\n", label, got, want_asc);
    assert_string_equal(got, want_asc);
    free(got);
    tu_free2(&out, &err);
    const char *sa[24] = {"stats", "--json"};
    for (size_t k = 0; c->args[k]; k++)
      sa[2 + k] = c->args[k];
    rc = tc_run(e, e->hist, NULL, NULL, sa, &out, &err);
    tu_expect_exit(rc, 0, label, err);
    cJSON *stats = cJSON_Parse(out);
    st_n = (int)tu_jint(stats, "total");
    cJSON_Delete(stats);
    assert_int_equal(st_n, want_n);
    tu_free2(&out, &err);
    printf("checked: list/export/stats%s -> %d of %" PRId64 " rows, the ids SQL gives\n",
           label, want_n, e->hist_rows);
    free(want);
    free(want_asc);
  }
  sqlite3_close(s);
  printf("checked: %zu filter cases, each alone and combined, agree with SQL in list, "
         "export and stats\n", ncases);
}

/* A malformed filter or option: exit 2, stderr names it, nothing on stdout. */
struct badcase {
  const char *args[6];
  const char *named;  /* must be in stderr */
  const char *named2; /* or this, when not NULL */
};

static void test_bad_filters(void **state) {
  tc_env *e = *state;
  tc_history(e);
  const struct badcase cases[] = {
    {{"--status", "4yy"}, "status", NULL},
    {{"--status", "600"}, "status", NULL},
    {{"--status", ""}, "status", NULL},
    {{"--since", "yesterday"}, "since", NULL},
    {{"--until", "2026-13-45"}, "until", NULL},
    {{"--since", "7d", "--since", "1d"}, "since", NULL},
    {{"--since", "1d", "--until", "7d"}, "since", NULL},
    {{"--min-ms", "-1"}, "min-ms", "min_ms"},
    {{"--min-ms", "fast"}, "min-ms", "min_ms"},
    {{"--method", "G T"}, "method", NULL},
    {{"--host", "a b"}, "host", NULL},
    {{"--key", FAKEAPI_KEY}, "key", NULL},
    {{"--path", "/a", "--path", "/b"}, "path", NULL},
    {{"--colour"}, "--colour", NULL},
    {{"--frob=1"}, "--frob", NULL},
    {{"--status"}, "--status", NULL},
  };
  static const char *const cmds[] = {"list", "export", "stats"};
  int n = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    for (size_t c = 0; c < 3; c++) {
      const char *a[16];
      size_t k = 0;
      a[k++] = cmds[c];
      if (c == 1) {
        a[k++] = "--format";
        a[k++] = "csv";
      }
      for (size_t j = 0; cases[i].args[j]; j++)
        a[k++] = cases[i].args[j];
      a[k] = NULL;
      char *out = NULL, *err = NULL;
      int rc = tc_run(e, e->hist, NULL, NULL, a, &out, &err);
      char label[200];
      snprintf(label, sizeof label, "%s %s %s", cmds[c], cases[i].args[0],
               cases[i].args[1] ? cases[i].args[1] : "");
      tu_expect_exit(rc, 2, label, err);
      assert_string_equal(out, "");
      if (!strstr(err, cases[i].named) && !(cases[i].named2 && strstr(err, cases[i].named2)))
        fprintf(stderr, "%s: stderr does not name '%s':\n%s\n", label, cases[i].named, err);
      assert_true(strstr(err, cases[i].named) ||
                  (cases[i].named2 && strstr(err, cases[i].named2)));
      assert_null(strstr(err, FAKEAPI_KEY));
      assert_null(strstr(err, "ARGVSECRET"));
      if (c == 0 && i < 4)
        printf("checked: list %s '%s' -> exit 2: %s", cases[i].args[0],
               cases[i].args[1] ? cases[i].args[1] : "", err);
      tu_free2(&out, &err);
      n++;
    }
  }
  printf("checked: %d malformed filters and unknown options over list, export and stats "
         "exit 2 naming the filter, print nothing on stdout, never repeat a key\n", n);
}

/* ------------------------------------------------------------------ q consistency */

/* `-q` finds rows the indexer has reached through the full-text index (word prefixes)
 * and newer rows by substring. The same query over the same rows must give the same
 * answer before and after the indexer reaches them. Rows written by a process that is
 * still running (the test itself, through the library, as an application or `reqlog
 * serve` would) are not indexed yet; the `list` process indexes them on its way out. */
static void test_q_consistent_across_indexing(void **state) {
  tc_env *e = *state;
  static const char *const words[] = {"participants", "olivia", "articipant", "livia"};
  int bad = 0, measured = 0;
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
    char name[32];
    snprintf(name, sizeof name, "fts%zu.db", i);
    char *db = tu_path(e->dir, name), *out = NULL, *err = NULL;
    reqlog *r = NULL;
    assert_int_equal(reqlog_open(db, &r, NULL), REQLOG_OK);
    reqlog_set_base_url(r, fakeapi_base_url(e->api));
    reqlog_set_api_key(r, FAKEAPI_KEY);
    reqlog_set_rate_limit(r, 0);
    reqlog_set_durability(r, REQLOG_DURABILITY_SYNC);
    for (int k = 0; k < 2; k++) {
      reqlog_response *resp = NULL;
      assert_int_equal(reqlog_request(r, "GET", "/participants", NULL, 0, NULL, &resp),
                       REQLOG_OK);
      reqlog_response_free(resp);
    }
    sqlite3 *s = tu_db(db);
    int64_t mark0 = tu_int(s, "SELECT value FROM meta WHERE name = 'fts_indexed'");
    int rc = tc_run(e, db, NULL, NULL, ARGS("list", "--limit", "0", "--json", "-q", words[i]),
                    &out, &err);
    tu_expect_exit(rc, 0, words[i], err);
    int nb = 0, na = 0;
    char *before = tc_json_ids(out, &nb);
    tu_free2(&out, &err);
    /* list reads without writing: the handle's writer indexes the rows once idle */
    for (int w = 0;
         w < 400 && tu_int(s, "SELECT value FROM meta WHERE name = 'fts_indexed'") < 2; w++)
      nanosleep(&(struct timespec){0, 50000000L}, NULL);
    rc = tc_run(e, db, NULL, NULL, ARGS("list", "--limit", "0", "--json", "-q", words[i]),
                &out, &err);
    tu_expect_exit(rc, 0, words[i], err);
    char *after = tc_json_ids(out, &na);
    tu_free2(&out, &err);
    int64_t mark1 = tu_int(s, "SELECT value FROM meta WHERE name = 'fts_indexed'");
    sqlite3_close(s);
    assert_int_equal(reqlog_close(r), REQLOG_OK);
    if (mark0 == 0 && mark1 >= 2) {
      measured++;
      int same = strcmp(before, after) == 0;
      bad += !same;
      printf("%s: list -q '%s' over 2 rows not yet indexed: [%s]; the same rows once "
             "indexed: [%s]\n", same ? "checked" : "MISMATCH", words[i], before, after);
    } else {
      printf("note: list -q '%s': index mark %" PRId64 " -> %" PRId64 ", not measured\n",
             words[i], mark0, mark1);
    }
    free(before);
    free(after);
    free(db);
  }
  assert_true(measured > 0);
  if (bad)
    fprintf(stderr, "BUG: %d of %d searches give other rows once the indexer has reached "
            "them (case-insensitive substring above the fts_indexed mark, token prefix "
            "through calls_fts below it)\n", bad, measured);
  assert_int_equal(bad, 0);
}

static void test_method_filter(void **state) {
  tc_env *e = *state;
  tc_history(e);
  char *out = NULL, *err = NULL;
  int rc = tc_run(e, e->hist, NULL, NULL, ARGS("list", "--method", "G T"), &out, &err);
  tu_expect_exit(rc, 2, "list --method 'G T'", err);
  tu_expect_has(err, "'G T'", "bad method named");
  assert_string_equal(out, "");
  tu_free2(&out, &err);
  const char *const warned[][2] = {{"list", "FROB"}, {"export", "FROB"}, {"stats", "frob"}};
  for (size_t i = 0; i < sizeof warned / sizeof warned[0]; i++) {
    const char *args[] = {warned[i][0], "--method", warned[i][1],
                          strcmp(warned[i][0], "export") == 0 ? "--format" : "--json",
                          strcmp(warned[i][0], "export") == 0 ? "ndjson" : NULL, NULL};
    rc = tc_run(e, e->hist, NULL, NULL, args, &out, &err);
    tu_expect_exit(rc, 0, warned[i][0], err);
    tu_expect_has(err, "warning", "--method FROB warns");
    tu_expect_has(err, "no standard method", "--method FROB says why");
    tu_expect_has(err, "FROB", "--method FROB named");
    tu_free2(&out, &err);
  }
  rc = tc_run(e, e->hist, NULL, NULL, ARGS("list", "--method", "get", "--method", "PATCH,options"),
              &out, &err);
  tu_expect_exit(rc, 0, "list --method get", err);
  assert_null(strstr(err, "warning"));
  tu_free2(&out, &err);
  printf("checked: --method 'G T' exits 2 naming it; --method FROB (list, export, stats) "
         "runs and warns that no standard method is called that; get, PATCH, options do "
         "not warn\n");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_list_filters),
    cmocka_unit_test(test_bad_filters),
    cmocka_unit_test(test_q_consistent_across_indexing),
    cmocka_unit_test(test_method_filter),
  };
  return cmocka_run_group_tests(tests, tc_setup, tc_teardown);
}
