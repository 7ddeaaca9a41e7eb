/* test_web_export.c: /api/export gives what reqlog_export() gives, and stays within
 * bounded memory however many rows it streams (tests/lib/testweb.h is the fixture).
 *
 * Plan:
 *   export               CSV header row, formula cells neutralised, bytes equal to
 *                        reqlog_export() for the same filter (with and without bodies);
 *                        NDJSON lines parse; HAR has one entry per row; missing format 400
 *   100k rows            exporting 100,000 rows (about 100 MB of CSV) grows the
 *                        process's peak RSS by less than 32 MB
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reqlog.h"
#include "reqlog_web.h"
#include "testutil.h"
#include "testweb.h"

#if defined(__SANITIZE_ADDRESS__)
/* ASan keeps freed memory in a quarantine (256 MB by default), which would count as
 * growth in the memory test; a small one keeps that test meaningful under ASan (1 MB:
 * reading packed rows frees a buffer per value, and 8 MB of them took the sanitizer build
 * to 32 MB of growth, the plain build 13 MB). */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
  return "quarantine_size_mb=1";
}
#endif

/* reqlog_write_fn into a growing buffer */
typedef struct sink {
  char *p;
  size_t len;
} sink;

static int to_sink(void *ctx, const char *data, size_t len) {
  sink *s = ctx;
  s->p = realloc(s->p, s->len + len + 1);
  memcpy(s->p + s->len, data, len);
  s->len += len;
  s->p[s->len] = '\0';
  return 0;
}

static sink lib_export(const char *spec, reqlog_format format, int bodies) {
  reqlog *r = tw_recorder();
  reqlog_filter *f = tw_filter_of(spec);
  reqlog_export_opts o = {.format = format, .with_bodies = bodies};
  sink s = {0};
  assert_int_equal(reqlog_export(r, f, &o, to_sink, &s, NULL), REQLOG_OK);
  reqlog_filter_free(f);
  reqlog_close(r);
  return s;
}

static void test_export(void **state) {
  (void)state;
  static const char *const specs[] = {"status=4xx", "", "method=POST&since=1h"};
  for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
    for (int bodies = 0; bodies <= 1; bodies++) {
      char *q = tw_query_of(specs[i]);
      char path[512];
      snprintf(path, sizeof path, "/api/export?format=csv%s%s%s", bodies ? "&bodies=1" : "",
               *q ? "&" : "", q);
      tw_reply res = tw_get(path);
      assert_int_equal(res.status, 200);
      sink want = lib_export(specs[i], REQLOG_FORMAT_CSV, bodies);
      assert_int_equal(res.len, want.len);
      assert_memory_equal(res.body, want.p, want.len);
      if (i == 0 && bodies == 0) {
        char *ct = tw_header(&res, "Content-Type");
        char *cd = tw_header(&res, "Content-Disposition");
        assert_string_equal(ct, "text/csv; charset=utf-8");
        assert_true(strncmp(cd, "attachment; filename=\"reqlog-", 29) == 0);
        assert_non_null(strstr(cd, ".csv\""));
        static const char head[] = "id,started_at,method,url,status,duration_ms,key,attempt,"
                                   "retry_of,source,error,error_message,request_size,"
                                   "response_size,origin,request_id,tags,note";
        assert_true(strncmp(res.body, head, strlen(head)) == 0);
        assert_true(strchr("\r\n", res.body[strlen(head)]) != NULL);
        assert_non_null(strstr(res.body, "'=HYPERLINK("));
        assert_null(strstr(res.body, ",=HYPERLINK("));
        assert_null(strstr(res.body, "\"=HYPERLINK("));
        printf("checked: CSV export: %s, %s, header row, '=' cell neutralised with '\n", ct, cd);
        free(ct);
        free(cd);
      }
      printf("checked: CSV export of [%s]%s is byte for byte reqlog_export's (%zu bytes)\n",
             specs[i], bodies ? " with bodies" : "", want.len);
      free(want.p);
      free(q);
      tw_resp_free(&res);
    }
  }

  tw_reply res = tw_get("/api/export?format=ndjson&status=4xx");
  assert_int_equal(res.status, 200);
  char *ct = tw_header(&res, "Content-Type");
  char *cd = tw_header(&res, "Content-Disposition");
  assert_string_equal(ct, "application/x-ndjson");
  assert_non_null(strstr(cd, ".ndjson\""));
  free(ct);
  free(cd);
  sink want = lib_export("status=4xx", REQLOG_FORMAT_NDJSON, 0);
  assert_int_equal(res.len, want.len);
  assert_memory_equal(res.body, want.p, want.len);
  free(want.p);
  int lines = 0;
  for (char *line = res.body, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
    *nl = '\0';
    const char *end = NULL;
    cJSON *row = cJSON_ParseWithOpts(line, &end, 1);
    assert_non_null(row);
    assert_int_equal((int)tu_num(row, "status") / 100, 4);
    cJSON_Delete(row);
    lines++;
  }
  reqlog *r = tw_recorder();
  reqlog_filter *f = tw_filter_of("status=4xx");
  int64_t count = 0;
  reqlog_count(r, f, &count, NULL);
  reqlog_filter_free(f);
  reqlog_close(r);
  assert_int_equal(lines, count);
  printf("checked: NDJSON export: %d lines, each a parsing row, equal to reqlog_export's\n",
         lines);
  tw_resp_free(&res);

  res = tw_get("/api/export?format=har&status=4xx");
  assert_int_equal(res.status, 200);
  cJSON *har = cJSON_Parse(res.body);
  assert_non_null(har);
  cJSON *entries = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(har, "log"),
                                                    "entries");
  assert_int_equal((int64_t)cJSON_GetArraySize(entries), count);
  cJSON_Delete(har);
  tw_resp_free(&res);
  printf("checked: format=har streams a HAR 1.2 document with one entry per row (%lld)\n", (long long)count);
}

/* ------------------------------------------------------------------ 100k export */

/* VmRSS or VmHWM of this process in KiB. */
static long vm_kib(const char *field) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  size_t n = strlen(field);
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, field, n) == 0 && line[n] == ':')
      kib = atol(line + n + 1);
  if (f)
    fclose(f);
  return kib;
}

typedef struct counter {
  size_t bytes, lines;
} counter;

static size_t count_bytes(char *p, size_t s, size_t n, void *arg) {
  counter *c = arg;
  for (size_t i = 0; i < s * n; i++)
    c->lines += p[i] == '\n';
  c->bytes += s * n;
  return s * n;
}

static size_t stop_at_once(char *p, size_t s, size_t n, void *arg) {
  (void)p;
  (void)s;
  (void)n;
  (void)arg;
  return 0;
}

static void test_export_100k_bounded(void **state) {
  (void)state;
  char *dir = tu_tmpdir();
  char *db = tu_path(dir, "big.db");
  reqlog *r = NULL;
  assert_int_equal(reqlog_open(db, &r, NULL), REQLOG_OK);
  assert_int_equal(reqlog_close(r), REQLOG_OK);
  sqlite3 *s = tu_db(db);
  time_t t0 = time(NULL);
  /* ~1 KB per row: a long URL and a 600-byte body each */
  tu_exec(s, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)"
             " INSERT INTO calls(started_at, method, url, host, path, status, duration_us, source,"
             " request_body, response_body)"
             " SELECT 1790000000000000 + i * 1000, 'GET',"
             " 'http://127.0.0.1:9/public/v1/participants/' || i || '?pad=' || hex(zeroblob(100)),"
             " '127.0.0.1', '/public/v1/participants/' || i, 200, 1500, 'import',"
             " '{\"n\":' || i || '}', '{\"data\":\"' || hex(zeroblob(300)) || '\"}' FROM n");
  /* the rows count as indexed, so the server's writer does not build the search index
   * while the test measures memory */
  tu_exec(s, "UPDATE meta SET value = (SELECT max(id) FROM calls) WHERE name = 'fts_indexed'");
  sqlite3_close(s);
  web_opts o = {.db_path = db, .listen = "127.0.0.1:0"};
  web_server *w = NULL;
  assert_int_equal(web_start(&o, &w, NULL), 0);
  printf("checked: 100,000 rows inserted in %ld s\n", (long)(time(NULL) - t0));

  /* Peak RSS from here on: reset the high-water mark where Linux allows it */
  FILE *cr = fopen("/proc/self/clear_refs", "w");
  int reset = cr && fputs("5", cr) >= 0;
  if (cr)
    reset = (fclose(cr) == 0) && reset;
  long rss0 = vm_kib("VmRSS"), hwm0 = vm_kib("VmHWM");
  long base = reset ? rss0 : hwm0;

  char url[128];
  snprintf(url, sizeof url, "%s/api/export?format=csv&bodies=1", web_url(w));
  counter cnt = {0};
  CURL *c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, count_bytes);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &cnt);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  clock_gettime(CLOCK_MONOTONIC, &b);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(c);
  assert_int_equal(code, 200);
  long hwm1 = vm_kib("VmHWM");
  long growth = hwm1 - base;
  assert_int_equal(cnt.lines, 100001);
  assert_true(cnt.bytes > 90u * 1024 * 1024);
  double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
  printf("checked: exporting 100,000 rows (%zu MB of CSV in %.1f s) raised peak RSS by "
         "%ld KiB (%s), under 32 MB\n", cnt.bytes >> 20, secs, growth,
         reset ? "high-water mark reset first" : "high-water mark not resettable");
  assert_true(growth >= 0 && growth < 32 * 1024);

  /* a client that leaves early stops the export */
  c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, stop_at_once);
  assert_int_equal(curl_easy_perform(c), CURLE_WRITE_ERROR);
  curl_easy_cleanup(c);
  web_stop(w); /* returns only once the export thread is gone */
  printf("checked: a client leaving mid-export does not hold up web_stop()\n");
  tu_rmtree(dir);
  free(dir);
  free(db);
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_export),
    cmocka_unit_test(test_export_100k_bounded),
  };
  int rc = cmocka_run_group_tests(tests, tw_setup, tw_teardown);
  curl_global_cleanup();
  return rc;
}
