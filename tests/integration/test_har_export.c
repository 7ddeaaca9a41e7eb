/* test_har_export.c: HAR 1.2 export (`reqlog export --format har`, reqlog_export) of a
 * real history recorded from the tests' fake API (testhar.h), checked entry by entry
 * against the stored rows.
 *
 * Plan:
 *   export        the CLI (-o) and reqlog_export give the same bytes; envelope (version
 *                 1.2, creator reqlog REQLOG_VERSION), one entry per row in id order, every
 *                 member HAR requires present with its type; each entry agrees with its row
 *                 (time, method, url, status, headers, bodies, sizes, timing phases:
 *                 send/wait/receive >= 0, time = sum, ssl -1 on plain http); binary bodies
 *                 as base64, transport errors as status 0 with _reqlog.error, 422 errors,
 *                 retry links, truncation, gzip bodySize -1, queryString decoded; no key
 *   empty         a filter matching nothing gives a valid HAR with no entries
 *   progress      progress ends at done == total == rows; a writer that refuses stops the
 *                 export with REQLOG_ERR_CANCELLED
 * Import: test_har_import.c; HAR files from browsers and secrets: test_har_browser.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testhar.h"

/* The row of the history whose URL ends with SUFFIX (the first one), or a failure. */
static const cJSON *row_by_url(const th_env *e, const char *suffix, int *index) {
  int i = 0;
  const cJSON *row;
  cJSON_ArrayForEach(row, e->rows) {
    const char *u = tu_str(row, "url");
    size_t n = strlen(u), m = strlen(suffix);
    if (n >= m && strcmp(u + n - m, suffix) == 0) {
      *index = i;
      return row;
    }
    i++;
  }
  fail_msg("no row with a URL ending in %s", suffix);
  return NULL;
}

/* ------------------------------------------------------------------ export */

/* HAR headers [{name, value}] equal the stored [[name, value]] pairs. */
static void same_headers(const cJSON *har, const cJSON *stored, const char *what) {
  assert_int_equal(cJSON_GetArraySize(har), cJSON_GetArraySize(stored));
  for (int k = 0; k < cJSON_GetArraySize(har); k++) {
    const cJSON *h = cJSON_GetArrayItem(har, k), *p = cJSON_GetArrayItem(stored, k);
    if (strcmp(tu_str(h, "name"), cJSON_GetArrayItem(p, 0)->valuestring) != 0 ||
        strcmp(tu_str(h, "value"), cJSON_GetArrayItem(p, 1)->valuestring) != 0)
      fail_msg("%s header %d: %s: %s", what, k, tu_str(h, "name"), tu_str(h, "value"));
  }
}

/* A HAR body (TEXT with its encoding marker ENC) equals the row's body (a string,
 * {"base64": ...} or null). */
static void same_body(const cJSON *text, const char *enc, const cJSON *row_body,
                      const char *what) {
  if (cJSON_IsNull(row_body)) {
    if (text)
      fail_msg("%s: a body in the HAR for a row without one", what);
    return;
  }
  assert_non_null(text);
  if (cJSON_IsObject(row_body)) {
    assert_string_equal(enc ? enc : "(none)", "base64");
    assert_string_equal(text->valuestring, tu_str(row_body, "base64"));
  } else {
    assert_null(enc);
    assert_string_equal(text->valuestring, row_body->valuestring);
  }
}

/* Entry I agrees with row ROW. */
static void entry_matches_row(const cJSON *en, const cJSON *row, int i) {
  const cJSON *rq = th_get(en, "request"), *rs = th_get(en, "response"), *t = th_get(en, "timings");
  const cJSON *x = th_get(en, "_reqlog"), *tm = th_get(row, "timing");
  assert_string_equal(tu_str(en, "startedDateTime"), tu_str(row, "started_at"));
  assert_string_equal(tu_str(rq, "method"), tu_str(row, "method"));
  assert_string_equal(tu_str(rq, "url"), tu_str(row, "url"));
  const char *ver = tu_str(row, "http_version");
  assert_string_equal(tu_str(rq, "httpVersion"), ver ? ver : "");
  assert_string_equal(tu_str(rs, "httpVersion"), ver ? ver : "");
  const cJSON *status = th_get(row, "status");
  assert_int_equal((int)tu_num(rs, "status"), cJSON_IsNull(status) ? 0 : (int)status->valuedouble);
  same_headers(th_get(rq, "headers"), th_get(row, "request_headers"), "request");
  same_headers(th_get(rs, "headers"), th_get(row, "response_headers"), "response");
  const cJSON *pd = th_get(rq, "postData"), *content = th_get(rs, "content");
  same_body(pd ? th_get(pd, "text") : NULL, pd ? tu_str(pd, "_encoding") : NULL,
            th_get(row, "request_body"), "request");
  same_body(th_get(content, "text"), tu_str(content, "encoding"), th_get(row, "response_body"),
            "response");
  assert_int_equal((int64_t)tu_num(rq, "bodySize"), (int64_t)tu_num(row, "request_size"));
  assert_int_equal((int64_t)tu_num(content, "size"), (int64_t)tu_num(row, "response_size"));
  const char *ctype = tu_str(row, "content_type");
  assert_string_equal(tu_str(content, "mimeType"), ctype ? ctype : "");
  const char *ip = tu_str(row, "remote_ip");
  if (ip)
    assert_string_equal(tu_str(en, "serverIPAddress"), ip);

  double dns = tu_num(tm, "dns_ms"), conn = tu_num(tm, "connect_ms"), tls = tu_num(tm, "tls_ms");
  double ttfb = tu_num(tm, "ttfb_ms"), total = tu_num(tm, "total_ms");
  double queued = tu_num(tm, "queued_ms");
  double receive = total - dns - conn - tls - ttfb;
  receive = receive > 0 ? receive : 0;
  th_near(tu_num(t, "blocked"), queued, "blocked");
  th_near(tu_num(t, "dns"), dns, "dns");
  th_near(tu_num(t, "connect"), conn + tls, "connect (ssl included)");
  th_near(tu_num(t, "ssl"), strncmp(tu_str(row, "url"), "http:", 5) == 0 && tls == 0 ? -1 : tls,
          "ssl");
  th_near(tu_num(t, "send"), 0, "send");
  th_near(tu_num(t, "wait"), ttfb, "wait");
  th_near(tu_num(t, "receive"), receive, "receive");
  th_near(tu_num(en, "time"), queued + dns + conn + tls + ttfb + receive, "time");

  static const char *const same[] = {"id", "key", "attempt", "retry_of", "source", "error",
                                     "error_message", "error_fields", "request_truncated",
                                     "response_truncated", "request_size", "response_size"};
  for (size_t k = 0; k < sizeof same / sizeof same[0]; k++)
    if (!cJSON_Compare(th_get(x, same[k]), th_get(row, same[k]), 1))
      fail_msg("entries[%d]._reqlog.%s differs from the row", i, same[k]);
}

static void test_export_entries(void **state) {
  th_env *e = *state;
  const cJSON *log = th_get(e->har_doc, "log");
  assert_string_equal(tu_str(log, "version"), "1.2");
  assert_string_equal(th_at(log, "creator.name")->valuestring, "reqlog");
  assert_string_equal(th_at(log, "creator.version")->valuestring, REQLOG_VERSION);
  const cJSON *entries = th_entries_of(e->har_doc);
  int n = cJSON_GetArraySize(entries);
  assert_int_equal(n, cJSON_GetArraySize(e->rows));
  assert_true(n >= 14);
  for (int i = 0; i < n; i++) {
    const cJSON *en = cJSON_GetArrayItem(entries, i);
    th_check_shape(en, i);
    entry_matches_row(en, cJSON_GetArrayItem(e->rows, i), i);
  }
  /* the library gives the very same bytes as the CLI */
  char *lib = th_export_har(e->r, NULL);
  assert_string_equal(lib, e->har_text);
  free(lib);
  struct stat st;
  assert_int_equal(stat(e->har, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_false(strstr(e->har_text, FAKEAPI_KEY));
  assert_false(strstr(e->har_text, QUERY_SECRET));
  printf("checked: export: version 1.2, creator reqlog %s; %d entries, one per row in id "
         "order; each has every member HAR requires with its type and agrees with its row "
         "(time, method, url, version, status, headers, bodies, sizes, mime type, address, "
         "timings with send/wait/receive >= 0 and time = their sum, _reqlog); CLI -o file "
         "(0600) and reqlog_export give the same bytes; no key or query token in it\n",
         REQLOG_VERSION, n);
}

static void test_export_special_rows(void **state) {
  th_env *e = *state;
  const cJSON *entries = th_entries_of(e->har_doc);
  int i;

  /* binary response: base64 that decodes to i % 256 */
  row_by_url(e, "/binary?bytes=300", &i);
  const cJSON *c = th_at(cJSON_GetArrayItem(entries, i), "response.content");
  assert_string_equal(tu_str(c, "encoding"), "base64");
  assert_int_equal((int)tu_num(c, "size"), 300);
  assert_true(strncmp(tu_str(c, "text"), "AAECAwQFBgcICQoL", 16) == 0); /* bytes 0..11 */

  /* binary request body: base64 text marked by _encoding (postData has no encoding) */
  const cJSON *en = NULL, *it;
  cJSON_ArrayForEach(it, entries) {
    if (strcmp(th_at(it, "request.method")->valuestring, "POST") == 0 &&
        strstr(th_at(it, "request.url")->valuestring, "/echo"))
      en = it;
  }
  assert_non_null(en);
  const cJSON *pd = th_at(en, "request.postData");
  assert_string_equal(tu_str(pd, "mimeType"), "application/octet-stream");
  assert_string_equal(tu_str(pd, "_encoding"), "base64");
  assert_string_equal(tu_str(pd, "text"), "AAH+/2JpbgCAfw==");
  assert_int_equal((int)tu_num(th_get(en, "request"), "bodySize"), 10);

  /* 422: status, reason, the API's message and field errors in _reqlog */
  int found422 = 0;
  cJSON_ArrayForEach(it, entries) {
    if (tu_num(th_get(it, "response"), "status") != 422)
      continue;
    found422 = 1;
    assert_string_equal(th_at(it, "response.statusText")->valuestring, "Unprocessable Content");
    assert_non_null(th_at(it, "_reqlog.error_message")->valuestring);
    assert_true(cJSON_IsArray(th_at(it, "_reqlog.error_fields.email")));
  }
  assert_true(found422);

  /* the dropped connection: no response, twice, the second a retry of the first */
  int drops = 0;
  const cJSON *first_drop = NULL;
  cJSON_ArrayForEach(it, entries) {
    if (!strstr(th_at(it, "request.url")->valuestring, "/drop"))
      continue;
    drops++;
    assert_int_equal((int)tu_num(th_get(it, "response"), "status"), 0);
    assert_string_equal(th_at(it, "response.httpVersion")->valuestring, "");
    assert_int_equal((int)tu_num(th_get(it, "response"), "bodySize"), -1);
    assert_true(cJSON_IsString(th_at(it, "_reqlog.error")));
    if (!first_drop) {
      first_drop = it;
      assert_true(cJSON_IsNull(th_at(it, "_reqlog.retry_of")));
    } else {
      assert_int_equal((int)tu_num(th_get(it, "_reqlog"), "retry_of"),
                       (int)tu_num(th_get(first_drop, "_reqlog"), "id"));
      assert_int_equal((int)tu_num(th_get(it, "_reqlog"), "attempt"), 2);
    }
  }
  assert_int_equal(drops, 2);

  /* the 503 -> 503 -> 200 chain: each links to the one before */
  int chain = 0;
  double prev_id = 0;
  cJSON_ArrayForEach(it, entries) {
    if (!strstr(th_at(it, "request.url")->valuestring, "/flaky"))
      continue;
    chain++;
    assert_int_equal((int)tu_num(th_get(it, "response"), "status"), chain < 3 ? 503 : 200);
    assert_int_equal((int)tu_num(th_get(it, "_reqlog"), "attempt"), chain);
    if (chain > 1)
      th_near(tu_num(th_get(it, "_reqlog"), "retry_of"), prev_id, "retry_of");
    prev_id = tu_num(th_get(it, "_reqlog"), "id");
  }
  assert_int_equal(chain, 3);

  /* past the cap: the text kept, the full size */
  row_by_url(e, "/large?bytes=20000", &i);
  en = cJSON_GetArrayItem(entries, i);
  assert_int_equal((int)tu_num(th_at(en, "response"), "bodySize"), 20000);
  assert_int_equal((int)tu_num(th_at(en, "response.content"), "size"), 20000);
  assert_int_equal((int)strlen(th_at(en, "response.content.text")->valuestring), BODY_CAP);
  assert_true(cJSON_IsTrue(th_at(en, "_reqlog.response_truncated")));

  /* gzip: stored decoded, so its size on the wire is unknown */
  row_by_url(e, "/gzip", &i);
  en = cJSON_GetArrayItem(entries, i);
  assert_int_equal((int)tu_num(th_at(en, "response"), "bodySize"), -1);
  assert_true(th_at(en, "response.content.text")->valuestring[0] == '{');

  /* the query string, decoded, with the token redacted */
  row_by_url(e, "&x=a%20b+c&flag", &i);
  const cJSON *qs = th_at(cJSON_GetArrayItem(entries, i), "request.queryString");
  assert_int_equal(cJSON_GetArraySize(qs), 3);
  assert_string_equal(tu_str(cJSON_GetArrayItem(qs, 0), "name"), "access_token");
  assert_string_equal(tu_str(cJSON_GetArrayItem(qs, 0), "value"), "[REDACTED]");
  assert_string_equal(tu_str(cJSON_GetArrayItem(qs, 1), "value"), "a b c");
  assert_string_equal(tu_str(cJSON_GetArrayItem(qs, 2), "name"), "flag");
  assert_string_equal(tu_str(cJSON_GetArrayItem(qs, 2), "value"), "");
  printf("checked: binary response base64 with content.encoding; binary request body base64 "
         "with postData._encoding and its mime type; 422 with statusText, message and field "
         "errors; dropped connection: status 0, httpVersion \"\", bodySize -1, the error, "
         "retry linked; 503->503->200 linked with attempts 1..3; past the cap: %d bytes of "
         "text, size 20000, truncated; gzip bodySize -1; queryString decoded (a b c, empty "
         "value) with access_token [REDACTED]\n", BODY_CAP);
}

struct progress {
  int calls;
  int64_t done, total;
};

static void on_progress(void *ctx, int64_t done, int64_t total) {
  struct progress *p = ctx;
  p->calls++;
  p->done = done;
  p->total = total;
}

static int refuse(void *ctx, const char *data, size_t len) {
  (void)data;
  *(size_t *)ctx += len;
  return 1;
}

static void test_export_progress_cancel(void **state) {
  th_env *e = *state;
  struct progress p = {0};
  struct th_sink s = {0};
  reqlog_export_opts o = {.format = REQLOG_FORMAT_HAR, .progress = on_progress,
                          .progress_ctx = &p};
  assert_int_equal(reqlog_export(e->r, NULL, &o, th_sink_write, &s, NULL), REQLOG_OK);
  int rows = cJSON_GetArraySize(e->rows);
  assert_true(p.calls >= 1);
  assert_int_equal(p.done, rows);
  assert_int_equal(p.total, rows);
  assert_string_equal(s.p, e->har_text);
  free(s.p);
  size_t given = 0;
  char *cause = NULL;
  reqlog_export_opts plain = {.format = REQLOG_FORMAT_HAR};
  assert_int_equal(reqlog_export(e->r, NULL, &plain, refuse, &given, &cause),
                   REQLOG_ERR_CANCELLED);
  assert_non_null(cause);
  assert_true(given > 0);
  free(cause);
  printf("checked: HAR export reports progress (%d calls, ending at %d of %d) and stops with "
         "REQLOG_ERR_CANCELLED when the writer refuses its first %zu bytes\n", p.calls, rows,
         rows, given);
}

static void test_export_empty(void **state) {
  th_env *e = *state;
  reqlog_filter *f = NULL;
  assert_int_equal(reqlog_filter_new(&f), REQLOG_OK);
  assert_int_equal(reqlog_filter_set(f, "status", "599", NULL), REQLOG_OK);
  char *text = th_export_har(e->r, f);
  cJSON *doc = th_parse(text);
  assert_int_equal(cJSON_GetArraySize(th_entries_of(doc)), 0);
  assert_string_equal(th_at(doc, "log.version")->valuestring, "1.2");
  printf("checked: a filter matching nothing exports a valid HAR with entries [] (%zu bytes)\n",
         strlen(text));
  cJSON_Delete(doc);
  free(text);
  reqlog_filter_free(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_export_entries),
    cmocka_unit_test(test_export_special_rows),
    cmocka_unit_test(test_export_empty),
    cmocka_unit_test(test_export_progress_cancel),
  };
  return cmocka_run_group_tests_name("har_export", tests, th_setup, th_teardown);
}
