/* testhar.c: the fixture the test_har_* suites share (see testhar.h): the recorded
 * history and its HAR export, and the readers the HAR checks use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testhar.h"

char *th_q(const char *s) {
  char *t = strdup(s);
  for (char *p = t; *p; p++)
    if (*p == '\'')
      *p = '"';
  return t;
}

int th_sink_write(void *ctx, const char *data, size_t len) {
  struct th_sink *s = ctx;
  s->p = realloc(s->p, s->len + len + 1);
  memcpy(s->p + s->len, data, len);
  s->len += len;
  s->p[s->len] = '\0';
  return 0;
}

cJSON *th_get(const cJSON *o, const char *k) {
  return cJSON_GetObjectItemCaseSensitive(o, k);
}

void th_near(double got, double want, const char *what) {
  if (fabs(got - want) > 0.0015)
    fail_msg("%s: %.6f, expected %.6f", what, got, want);
}

cJSON *th_at(const cJSON *o, const char *path) {
  char buf[128];
  snprintf(buf, sizeof buf, "%s", path);
  cJSON *v = (cJSON *)o;
  for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && v; k = strtok_r(NULL, ".", &save))
    v = th_get(v, k);
  return v;
}

char *th_export_har(reqlog *r, reqlog_filter *f) {
  struct th_sink s = {0};
  reqlog_export_opts o = {.format = REQLOG_FORMAT_HAR};
  char *cause = NULL;
  reqlog_err err = reqlog_export(r, f, &o, th_sink_write, &s, &cause);
  if (err != REQLOG_OK)
    fail_msg("export: %s", cause ? cause : reqlog_strerror(err));
  return s.p;
}

cJSON *th_parse(const char *text) {
  const char *end = NULL;
  cJSON *v = cJSON_ParseWithOpts(text, &end, 1);
  if (!v)
    fail_msg("not JSON near: %.60s", end ? end : "?");
  return v;
}

cJSON *th_entries_of(const cJSON *har) {
  cJSON *e = th_at(har, "log.entries");
  assert_true(cJSON_IsArray(e));
  return e;
}

int th_run(const char *db, const char *const *args, char **out, char **err) {
  const char *argv[32];
  size_t n = 0;
  argv[n++] = "--db";
  argv[n++] = db;
  for (size_t i = 0; args[i]; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  return tu_run(argv, NULL, NULL, out, err);
}

void th_check_shape(const cJSON *entry, int i) {
  static const struct { const char *path; int type; } need[] = {
    {"startedDateTime", cJSON_String},     {"time", cJSON_Number},
    {"request.method", cJSON_String},      {"request.url", cJSON_String},
    {"request.httpVersion", cJSON_String}, {"request.cookies", cJSON_Array},
    {"request.headers", cJSON_Array},      {"request.queryString", cJSON_Array},
    {"request.headersSize", cJSON_Number}, {"request.bodySize", cJSON_Number},
    {"response.status", cJSON_Number},     {"response.statusText", cJSON_String},
    {"response.httpVersion", cJSON_String}, {"response.cookies", cJSON_Array},
    {"response.headers", cJSON_Array},     {"response.content", cJSON_Object},
    {"response.content.size", cJSON_Number}, {"response.content.mimeType", cJSON_String},
    {"response.redirectURL", cJSON_String}, {"response.headersSize", cJSON_Number},
    {"response.bodySize", cJSON_Number},   {"cache", cJSON_Object},
    {"timings", cJSON_Object},             {"timings.send", cJSON_Number},
    {"timings.wait", cJSON_Number},        {"timings.receive", cJSON_Number},
    {"_reqlog", cJSON_Object},
  };
  for (size_t k = 0; k < sizeof need / sizeof need[0]; k++) {
    const cJSON *v = th_at(entry, need[k].path);
    if (!v || (v->type & 0xFF) != need[k].type)
      fail_msg("entries[%d].%s: missing or of the wrong type", i, need[k].path);
  }
  const cJSON *pd = th_at(entry, "request.postData");
  if (pd && !cJSON_IsString(th_get(pd, "mimeType")))
    fail_msg("entries[%d].request.postData.mimeType missing", i);
  static const char *const timing[] = {"blocked", "dns", "connect", "ssl",
                                       "send", "wait", "receive"};
  for (size_t k = 0; k < 7; k++) {
    double v = tu_num(th_get(entry, "timings"), timing[k]);
    double min = k >= 4 ? 0 : -1; /* send, wait, receive must be >= 0 */
    if (v < min)
      fail_msg("entries[%d].timings.%s = %f", i, timing[k], v);
  }
  assert_true(tu_num(entry, "time") >= 0);
}

/* ------------------------------------------------------------------ the history */

/* One request of the history through the library; its outcome is what is recorded. */
static void call(th_env *e, const char *method, const char *path, const char *body, size_t len,
                 const char *const *headers) {
  reqlog_response *resp = NULL;
  reqlog_request(e->r, method, path, body, len, headers, &resp);
  reqlog_response_free(resp);
}

int th_setup(void **state) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  th_env *e = calloc(1, sizeof *e);
  e->dir = tu_tmpdir();
  e->db = tu_path(e->dir, "history.db");
  e->har = tu_path(e->dir, "history.har");
  e->api = tu_api(1000, 60000);
  assert_int_equal(reqlog_open(e->db, &e->r, NULL), REQLOG_OK);
  reqlog_set_base_url(e->r, fakeapi_base_url(e->api));
  reqlog_set_api_key(e->r, FAKEAPI_KEY);
  reqlog_set_rate_limit(e->r, 0);
  reqlog_set_retry(e->r, 4, 20, 2000);
  reqlog_set_body_cap(e->r, BODY_CAP);

  const char *ada = "{\"first_name\":\"Ada\",\"email\":\"ada@example.org\"}";
  const char *bad = "{\"first_name\":\"\",\"email\":\"not-an-email\"}";
  const unsigned char bin[] = {0x00, 0x01, 0xfe, 0xff, 'b', 'i', 'n', 0x00, 0x80, 0x7f};
  call(e, "GET", "/participants", NULL, 0, NULL);
  call(e, "POST", "/participants", ada, strlen(ada), NULL);
  call(e, "POST", "/participants", bad, strlen(bad), NULL);
  call(e, "DELETE", "/participants/999", NULL, 0, NULL);
  call(e, "GET", "/binary?bytes=300", NULL, 0, NULL);
  call(e, "GET", "/gzip", NULL, 0, NULL);
  call(e, "GET", "/large?bytes=20000", NULL, 0, NULL);
  call(e, "GET", "/echo?access_token=" QUERY_SECRET "&x=a%20b+c&flag", NULL, 0, NULL);
  call(e, "POST", "/echo", (const char *)bin, sizeof bin,
       ARGS("Content-Type: application/octet-stream"));
  call(e, "GET", "/flaky?fail=2&id=har-chain", NULL, 0, NULL);
  reqlog_set_retry(e->r, 2, 20, 2000);
  call(e, "GET", "/drop", NULL, 0, NULL);
  e->rows = tu_rows(e->r);

  char *err = NULL;
  int rc = th_run(e->db, ARGS("export", "--format", "har", "-o", e->har), NULL, &err);
  tu_expect_exit(rc, 0, "export --format har -o", err);
  free(err);
  e->har_text = tu_read_file(e->har);
  e->har_doc = th_parse(e->har_text);
  *state = e;
  return 0;
}

int th_teardown(void **state) {
  th_env *e = *state;
  reqlog_close(e->r);
  fakeapi_stop(e->api);
  cJSON_Delete(e->rows);
  cJSON_Delete(e->har_doc);
  free(e->har_text);
  tu_rmtree(e->dir);
  free(e->dir);
  free(e->db);
  free(e->har);
  free(e);
  curl_global_cleanup();
  return 0;
}
