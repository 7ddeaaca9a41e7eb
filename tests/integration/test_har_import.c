/* test_har.c: HAR 1.2 export (`reqlog export --format har`, reqlog_export) and import
 * (`reqlog import`, reqlog_import_har) against a real history recorded from the tests'
 * fake API, and HAR files written by hand in the shapes browsers and Playwright write.
 *
 * Plan:
 *   history       the library records a varied history into a real SQLite file: GET,
 *                 POST 201, 422 with field errors, 404, binary response, gzip, a body past
 *                 the cap, a query token, a binary request body, a 503 -> 503 -> 200 retry
 *                 chain and a dropped connection retried once; built once, shared
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
 *   round trip    export -> `reqlog import` into a new database -> export: every entry the
 *                 same (ids aside, retry links to the same entries, source "import"),
 *                 except the Authorization fingerprint, which is fingerprinted again
 *   malformed     cases as data: each file is rejected with exactly its JSON path message
 *                 and no row is added, even when earlier entries were fine
 *   cli           import prints "imported N calls from FILE"; a malformed file exits 2
 *                 naming FILE and the path; a missing file exits 4 and creates no
 *                 database; --help has an example; no argument exits 2
 *   browser HAR   Chrome and Playwright shapes (h2 pseudo-headers, [::1], _initiator,
 *                 _transferSize, -1 sizes and timings, text missing, base64 image, status
 *                 0 with _error and -1 with _failureText, postData params, +01:00 times,
 *                 304) import with the values mapped as documented; a data:, file: or
 *                 gopher: URL is refused with its path (only http and https are kept)
 *   secrets       a HAR holding a bearer key, cookies, Set-Cookie, ?access_token=, an API
 *                 key header, a JWT, passwords in postData text and params, tokens in a
 *                 response body: none of them reaches the db, -wal or -shm, nor the HAR
 *                 exported from it; the key's fingerprint is the row's key
 */
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
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reqlog.h"
#include "testutil.h"

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define BODY_CAP 8192
#define QUERY_SECRET "QSECRET_tok_9f8e7d6c"

typedef struct env {
  char *dir, *db, *har;  /* the history and its HAR export (by the CLI) */
  fakeapi *api;
  reqlog *r;
  cJSON *rows;           /* the history's rows, oldest first, with bodies */
  char *har_text;
  cJSON *har_doc;
} env;

/* ------------------------------------------------------------------ helpers */

/* JSON written with ' for " so the cases below stay readable. */
static char *q(const char *s) {
  char *t = strdup(s);
  for (char *p = t; *p; p++)
    if (*p == '\'')
      *p = '"';
  return t;
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
  assert_int_equal(fclose(f), 0);
}

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  size_t cap = 1 << 16, len = 0;
  char *p = malloc(cap);
  for (;;) {
    size_t n = fread(p + len, 1, cap - len - 1, f);
    if (n == 0)
      break;
    len += n;
    if (len + 1 == cap) {
      cap *= 2;
      p = realloc(p, cap);
    }
  }
  fclose(f);
  p[len] = '\0';
  return p;
}

struct sink {
  char *p;
  size_t len;
};

static int sink_write(void *ctx, const char *data, size_t len) {
  struct sink *s = ctx;
  s->p = realloc(s->p, s->len + len + 1);
  memcpy(s->p + s->len, data, len);
  s->len += len;
  s->p[s->len] = '\0';
  return 0;
}

static cJSON *get(const cJSON *o, const char *k) {
  return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *str(const cJSON *o, const char *k) {
  const cJSON *v = get(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num(const cJSON *o, const char *k) {
  const cJSON *v = get(o, k);
  if (!cJSON_IsNumber(v))
    fail_msg("'%s' is not a number", k);
  return v->valuedouble;
}

static void near(double got, double want, const char *what) {
  if (fabs(got - want) > 0.0015)
    fail_msg("%s: %.6f, expected %.6f", what, got, want);
}

/* Member path "a.b.c" of O, or NULL. */
static cJSON *at(const cJSON *o, const char *path) {
  char buf[128];
  snprintf(buf, sizeof buf, "%s", path);
  cJSON *v = (cJSON *)o;
  for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && v; k = strtok_r(NULL, ".", &save))
    v = get(v, k);
  return v;
}

/* Every row of R, oldest first, with bodies. */
static cJSON *rows_of(reqlog *r) {
  assert_int_equal(reqlog_flush(r, NULL), REQLOG_OK);
  reqlog_cursor *c = NULL;
  reqlog_query_opts o = {.with_bodies = 1, .oldest_first = 1};
  assert_int_equal(reqlog_query(r, NULL, &o, &c, NULL), REQLOG_OK);
  cJSON *arr = cJSON_CreateArray(), *row = NULL;
  while (reqlog_cursor_next(c, &row) == REQLOG_OK)
    cJSON_AddItemToArray(arr, row);
  reqlog_cursor_free(c);
  return arr;
}

static int64_t count_rows(reqlog *r) {
  int64_t n = -1;
  assert_int_equal(reqlog_flush(r, NULL), REQLOG_OK);
  assert_int_equal(reqlog_count(r, NULL, &n, NULL), REQLOG_OK);
  return n;
}

/* The HAR export of R (filter F may be NULL) through the library. */
static char *export_har(reqlog *r, reqlog_filter *f) {
  struct sink s = {0};
  reqlog_export_opts o = {.format = REQLOG_FORMAT_HAR};
  char *cause = NULL;
  reqlog_err err = reqlog_export(r, f, &o, sink_write, &s, &cause);
  if (err != REQLOG_OK)
    fail_msg("export: %s", cause ? cause : reqlog_strerror(err));
  return s.p;
}

static cJSON *parse(const char *text) {
  const char *end = NULL;
  cJSON *v = cJSON_ParseWithOpts(text, &end, 1);
  if (!v)
    fail_msg("not JSON near: %.60s", end ? end : "?");
  return v;
}

static cJSON *entries_of(const cJSON *har) {
  cJSON *e = at(har, "log.entries");
  assert_true(cJSON_IsArray(e));
  return e;
}

/* `reqlog --db DB ARGS...`; returns the exit code. */
static int rl(const char *db, const char *const *args, char **out, char **err) {
  const char *argv[32];
  size_t n = 0;
  argv[n++] = "--db";
  argv[n++] = db;
  for (size_t i = 0; args[i]; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  return tu_run(argv, NULL, NULL, out, err);
}

static void expect_exit(int rc, int want, const char *what, const char *err) {
  if (rc != want)
    fprintf(stderr, "%s: exit %d, expected %d; stderr:\n%s\n", what, rc, want, err ? err : "");
  assert_int_equal(rc, want);
}

/* ------------------------------------------------------------------ the history */

static void call(env *e, const char *method, const char *path, const char *body, size_t len,
                 const char *const *headers) {
  reqlog_response *resp = NULL;
  reqlog_request(e->r, method, path, body, len, headers, &resp);
  reqlog_response_free(resp);
}

static int setup(void **state) {
  env *e = calloc(1, sizeof *e);
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
  e->rows = rows_of(e->r);

  char *err = NULL;
  int rc = rl(e->db, ARGS("export", "--format", "har", "-o", e->har), NULL, &err);
  expect_exit(rc, 0, "export --format har -o", err);
  free(err);
  e->har_text = read_file(e->har);
  e->har_doc = parse(e->har_text);
  *state = e;
  return 0;
}

static int teardown(void **state) {
  env *e = *state;
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
  return 0;
}

/* The row of the history whose URL ends with SUFFIX (the first one), or a failure. */
static const cJSON *row_by_url(const env *e, const char *suffix, int *index) {
  int i = 0;
  const cJSON *row;
  cJSON_ArrayForEach(row, e->rows) {
    const char *u = str(row, "url");
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

/* HAR's required members and their types (HAR 1.2 spec, as har-schema has them). */
static void check_shape(const cJSON *entry, int i) {
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
    const cJSON *v = at(entry, need[k].path);
    if (!v || (v->type & 0xFF) != need[k].type)
      fail_msg("entries[%d].%s: missing or of the wrong type", i, need[k].path);
  }
  const cJSON *pd = at(entry, "request.postData");
  if (pd && !cJSON_IsString(get(pd, "mimeType")))
    fail_msg("entries[%d].request.postData.mimeType missing", i);
  static const char *const timing[] = {"blocked", "dns", "connect", "ssl",
                                       "send", "wait", "receive"};
  for (size_t k = 0; k < 7; k++) {
    double v = num(get(entry, "timings"), timing[k]);
    double min = k >= 4 ? 0 : -1; /* send, wait, receive must be >= 0 */
    if (v < min)
      fail_msg("entries[%d].timings.%s = %f", i, timing[k], v);
  }
  assert_true(num(entry, "time") >= 0);
}

/* HAR headers [{name, value}] equal the stored [[name, value]] pairs. */
static void same_headers(const cJSON *har, const cJSON *stored, const char *what) {
  assert_int_equal(cJSON_GetArraySize(har), cJSON_GetArraySize(stored));
  for (int k = 0; k < cJSON_GetArraySize(har); k++) {
    const cJSON *h = cJSON_GetArrayItem(har, k), *p = cJSON_GetArrayItem(stored, k);
    if (strcmp(str(h, "name"), cJSON_GetArrayItem(p, 0)->valuestring) != 0 ||
        strcmp(str(h, "value"), cJSON_GetArrayItem(p, 1)->valuestring) != 0)
      fail_msg("%s header %d: %s: %s", what, k, str(h, "name"), str(h, "value"));
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
    assert_string_equal(text->valuestring, str(row_body, "base64"));
  } else {
    assert_null(enc);
    assert_string_equal(text->valuestring, row_body->valuestring);
  }
}

/* Entry I agrees with row ROW. */
static void entry_matches_row(const cJSON *en, const cJSON *row, int i) {
  const cJSON *rq = get(en, "request"), *rs = get(en, "response"), *t = get(en, "timings");
  const cJSON *x = get(en, "_reqlog"), *tm = get(row, "timing");
  assert_string_equal(str(en, "startedDateTime"), str(row, "started_at"));
  assert_string_equal(str(rq, "method"), str(row, "method"));
  assert_string_equal(str(rq, "url"), str(row, "url"));
  const char *ver = str(row, "http_version");
  assert_string_equal(str(rq, "httpVersion"), ver ? ver : "");
  assert_string_equal(str(rs, "httpVersion"), ver ? ver : "");
  const cJSON *status = get(row, "status");
  assert_int_equal((int)num(rs, "status"), cJSON_IsNull(status) ? 0 : (int)status->valuedouble);
  same_headers(get(rq, "headers"), get(row, "request_headers"), "request");
  same_headers(get(rs, "headers"), get(row, "response_headers"), "response");
  const cJSON *pd = get(rq, "postData"), *content = get(rs, "content");
  same_body(pd ? get(pd, "text") : NULL, pd ? str(pd, "_encoding") : NULL,
            get(row, "request_body"), "request");
  same_body(get(content, "text"), str(content, "encoding"), get(row, "response_body"),
            "response");
  assert_int_equal((int64_t)num(rq, "bodySize"), (int64_t)num(row, "request_size"));
  assert_int_equal((int64_t)num(content, "size"), (int64_t)num(row, "response_size"));
  const char *ctype = str(row, "content_type");
  assert_string_equal(str(content, "mimeType"), ctype ? ctype : "");
  const char *ip = str(row, "remote_ip");
  if (ip)
    assert_string_equal(str(en, "serverIPAddress"), ip);

  double dns = num(tm, "dns_ms"), conn = num(tm, "connect_ms"), tls = num(tm, "tls_ms");
  double ttfb = num(tm, "ttfb_ms"), total = num(tm, "total_ms"), queued = num(tm, "queued_ms");
  double receive = total - dns - conn - tls - ttfb;
  receive = receive > 0 ? receive : 0;
  near(num(t, "blocked"), queued, "blocked");
  near(num(t, "dns"), dns, "dns");
  near(num(t, "connect"), conn + tls, "connect (ssl included)");
  near(num(t, "ssl"), strncmp(str(row, "url"), "http:", 5) == 0 && tls == 0 ? -1 : tls, "ssl");
  near(num(t, "send"), 0, "send");
  near(num(t, "wait"), ttfb, "wait");
  near(num(t, "receive"), receive, "receive");
  near(num(en, "time"), queued + dns + conn + tls + ttfb + receive, "time");

  static const char *const same[] = {"id", "key", "attempt", "retry_of", "source", "error",
                                     "error_message", "error_fields", "request_truncated",
                                     "response_truncated", "request_size", "response_size"};
  for (size_t k = 0; k < sizeof same / sizeof same[0]; k++)
    if (!cJSON_Compare(get(x, same[k]), get(row, same[k]), 1))
      fail_msg("entries[%d]._reqlog.%s differs from the row", i, same[k]);
}

static void test_export_entries(void **state) {
  env *e = *state;
  const cJSON *log = get(e->har_doc, "log");
  assert_string_equal(str(log, "version"), "1.2");
  assert_string_equal(at(log, "creator.name")->valuestring, "reqlog");
  assert_string_equal(at(log, "creator.version")->valuestring, REQLOG_VERSION);
  const cJSON *entries = entries_of(e->har_doc);
  int n = cJSON_GetArraySize(entries);
  assert_int_equal(n, cJSON_GetArraySize(e->rows));
  assert_true(n >= 14);
  for (int i = 0; i < n; i++) {
    const cJSON *en = cJSON_GetArrayItem(entries, i);
    check_shape(en, i);
    entry_matches_row(en, cJSON_GetArrayItem(e->rows, i), i);
  }
  /* the library gives the very same bytes as the CLI */
  char *lib = export_har(e->r, NULL);
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
  env *e = *state;
  const cJSON *entries = entries_of(e->har_doc);
  int i;

  /* binary response: base64 that decodes to i % 256 */
  row_by_url(e, "/binary?bytes=300", &i);
  const cJSON *c = at(cJSON_GetArrayItem(entries, i), "response.content");
  assert_string_equal(str(c, "encoding"), "base64");
  assert_int_equal((int)num(c, "size"), 300);
  assert_true(strncmp(str(c, "text"), "AAECAwQFBgcICQoL", 16) == 0); /* bytes 0..11 */

  /* binary request body: base64 text marked by _encoding (postData has no encoding) */
  const cJSON *en = NULL, *it;
  cJSON_ArrayForEach(it, entries) {
    if (strcmp(at(it, "request.method")->valuestring, "POST") == 0 &&
        strstr(at(it, "request.url")->valuestring, "/echo"))
      en = it;
  }
  assert_non_null(en);
  const cJSON *pd = at(en, "request.postData");
  assert_string_equal(str(pd, "mimeType"), "application/octet-stream");
  assert_string_equal(str(pd, "_encoding"), "base64");
  assert_string_equal(str(pd, "text"), "AAH+/2JpbgCAfw==");
  assert_int_equal((int)num(get(en, "request"), "bodySize"), 10);

  /* 422: status, reason, the API's message and field errors in _reqlog */
  int found422 = 0;
  cJSON_ArrayForEach(it, entries) {
    if (num(get(it, "response"), "status") != 422)
      continue;
    found422 = 1;
    assert_string_equal(at(it, "response.statusText")->valuestring, "Unprocessable Content");
    assert_non_null(at(it, "_reqlog.error_message")->valuestring);
    assert_true(cJSON_IsArray(at(it, "_reqlog.error_fields.email")));
  }
  assert_true(found422);

  /* the dropped connection: no response, twice, the second a retry of the first */
  int drops = 0;
  const cJSON *first_drop = NULL;
  cJSON_ArrayForEach(it, entries) {
    if (!strstr(at(it, "request.url")->valuestring, "/drop"))
      continue;
    drops++;
    assert_int_equal((int)num(get(it, "response"), "status"), 0);
    assert_string_equal(at(it, "response.httpVersion")->valuestring, "");
    assert_int_equal((int)num(get(it, "response"), "bodySize"), -1);
    assert_true(cJSON_IsString(at(it, "_reqlog.error")));
    if (!first_drop) {
      first_drop = it;
      assert_true(cJSON_IsNull(at(it, "_reqlog.retry_of")));
    } else {
      assert_int_equal((int)num(get(it, "_reqlog"), "retry_of"),
                       (int)num(get(first_drop, "_reqlog"), "id"));
      assert_int_equal((int)num(get(it, "_reqlog"), "attempt"), 2);
    }
  }
  assert_int_equal(drops, 2);

  /* the 503 -> 503 -> 200 chain: each links to the one before */
  int chain = 0;
  double prev_id = 0;
  cJSON_ArrayForEach(it, entries) {
    if (!strstr(at(it, "request.url")->valuestring, "/flaky"))
      continue;
    chain++;
    assert_int_equal((int)num(get(it, "response"), "status"), chain < 3 ? 503 : 200);
    assert_int_equal((int)num(get(it, "_reqlog"), "attempt"), chain);
    if (chain > 1)
      near(num(get(it, "_reqlog"), "retry_of"), prev_id, "retry_of");
    prev_id = num(get(it, "_reqlog"), "id");
  }
  assert_int_equal(chain, 3);

  /* past the cap: the text kept, the full size */
  row_by_url(e, "/large?bytes=20000", &i);
  en = cJSON_GetArrayItem(entries, i);
  assert_int_equal((int)num(at(en, "response"), "bodySize"), 20000);
  assert_int_equal((int)num(at(en, "response.content"), "size"), 20000);
  assert_int_equal((int)strlen(at(en, "response.content.text")->valuestring), BODY_CAP);
  assert_true(cJSON_IsTrue(at(en, "_reqlog.response_truncated")));

  /* gzip: stored decoded, so its size on the wire is unknown */
  row_by_url(e, "/gzip", &i);
  en = cJSON_GetArrayItem(entries, i);
  assert_int_equal((int)num(at(en, "response"), "bodySize"), -1);
  assert_true(at(en, "response.content.text")->valuestring[0] == '{');

  /* the query string, decoded, with the token redacted */
  row_by_url(e, "&x=a%20b+c&flag", &i);
  const cJSON *qs = at(cJSON_GetArrayItem(entries, i), "request.queryString");
  assert_int_equal(cJSON_GetArraySize(qs), 3);
  assert_string_equal(str(cJSON_GetArrayItem(qs, 0), "name"), "access_token");
  assert_string_equal(str(cJSON_GetArrayItem(qs, 0), "value"), "[REDACTED]");
  assert_string_equal(str(cJSON_GetArrayItem(qs, 1), "value"), "a b c");
  assert_string_equal(str(cJSON_GetArrayItem(qs, 2), "name"), "flag");
  assert_string_equal(str(cJSON_GetArrayItem(qs, 2), "value"), "");
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
  env *e = *state;
  struct progress p = {0};
  struct sink s = {0};
  reqlog_export_opts o = {.format = REQLOG_FORMAT_HAR, .progress = on_progress,
                          .progress_ctx = &p};
  assert_int_equal(reqlog_export(e->r, NULL, &o, sink_write, &s, NULL), REQLOG_OK);
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
  env *e = *state;
  reqlog_filter *f = NULL;
  assert_int_equal(reqlog_filter_new(&f), REQLOG_OK);
  assert_int_equal(reqlog_filter_set(f, "status", "599", NULL), REQLOG_OK);
  char *text = export_har(e->r, f);
  cJSON *doc = parse(text);
  assert_int_equal(cJSON_GetArraySize(entries_of(doc)), 0);
  assert_string_equal(at(doc, "log.version")->valuestring, "1.2");
  printf("checked: a filter matching nothing exports a valid HAR with entries [] (%zu bytes)\n",
         strlen(text));
  cJSON_Delete(doc);
  free(text);
  reqlog_filter_free(f);
}

/* ------------------------------------------------------------------ round trip */

/* ENTRY with what an import cannot keep set aside: the id, the key and source, the
 * Authorization value (checked to be a fingerprint first); retry_of becomes the index of
 * the entry it names in ENTRIES. */
static void normalise(cJSON *entry, const cJSON *entries) {
  cJSON *x = get(entry, "_reqlog");
  cJSON *retry = get(x, "retry_of");
  int index = -1;
  if (cJSON_IsNumber(retry)) {
    int k = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, entries) {
      if (num(get(it, "_reqlog"), "id") == retry->valuedouble)
        index = k;
      k++;
    }
    assert_true(index >= 0);
  }
  cJSON_ReplaceItemInObject(x, "retry_of", cJSON_CreateNumber(index));
  const char *key = str(x, "key");
  cJSON *h;
  cJSON_ArrayForEach(h, at(entry, "request.headers")) {
    if (strcasecmp(str(h, "name"), "Authorization") != 0)
      continue;
    const char *v = str(h, "value");
    /* "Bearer …abcd#0123abcd" */
    assert_true(strncmp(v, "Bearer \xE2\x80\xA6", 10) == 0);
    const char *hash = strchr(v, '#');
    assert_non_null(hash);
    assert_int_equal(strspn(hash + 1, "0123456789abcdef"), 8);
    assert_int_equal(strlen(hash + 1), 8);
    assert_non_null(key);
    assert_string_equal(v + 7, key);
    cJSON_ReplaceItemInObject(h, "value", cJSON_CreateString("(fingerprint)"));
  }
  cJSON_DeleteItemFromObject(x, "id");
  cJSON_DeleteItemFromObject(x, "key");
  cJSON_DeleteItemFromObject(x, "source");
}

static void test_round_trip(void **state) {
  env *e = *state;
  char *db2 = tu_path(e->dir, "imported.db");
  char *har2 = tu_path(e->dir, "imported.har");
  char *out = NULL, *err = NULL;
  int rc = rl(db2, ARGS("import", e->har), &out, &err);
  expect_exit(rc, 0, "import", err);
  int n = cJSON_GetArraySize(entries_of(e->har_doc));
  char want[512];
  snprintf(want, sizeof want, "imported %d calls from %s\n", n, e->har);
  assert_string_equal(out, want);
  free(out);
  free(err);
  rc = rl(db2, ARGS("export", "--format", "har", "-o", har2), NULL, &err);
  expect_exit(rc, 0, "export of the imported history", err);
  free(err);

  char *text = read_file(har2);
  cJSON *doc2 = parse(text);
  cJSON *a = cJSON_Duplicate(entries_of(e->har_doc), 1), *b = entries_of(doc2);
  assert_int_equal(cJSON_GetArraySize(b), n);
  const cJSON *it;
  cJSON_ArrayForEach(it, b)
    assert_string_equal(at(it, "_reqlog.source")->valuestring, "import");
  cJSON *a0 = cJSON_Duplicate(a, 1), *b0 = cJSON_Duplicate(b, 1);
  for (int i = 0; i < n; i++) {
    normalise(cJSON_GetArrayItem(a, i), a0);
    normalise(cJSON_GetArrayItem(b, i), b0);
    if (!cJSON_Compare(cJSON_GetArrayItem(a, i), cJSON_GetArrayItem(b, i), 1)) {
      char *x = cJSON_Print(cJSON_GetArrayItem(a, i)), *y = cJSON_Print(cJSON_GetArrayItem(b, i));
      fprintf(stderr, "entry %d differs:\n%s\n---\n%s\n", i, x, y);
      free(x);
      free(y);
      fail();
    }
  }
  /* the imported rows are keyed by the fingerprint they now carry */
  reqlog *r2 = NULL;
  assert_int_equal(reqlog_open(db2, &r2, NULL), REQLOG_OK);
  cJSON *rows = rows_of(r2);
  assert_int_equal(cJSON_GetArraySize(rows), n);
  assert_string_equal(str(cJSON_GetArrayItem(rows, 0), "key"),
                      at(cJSON_GetArrayItem(b0, 0), "_reqlog.key")->valuestring);
  cJSON_Delete(rows);
  reqlog_close(r2);
  assert_false(tu_db_files_contain(db2, FAKEAPI_KEY));
  printf("checked: round trip: export -> reqlog import (\"imported %d calls from FILE\") -> "
         "export: all %d entries equal in time, method, url, versions, status, headers, "
         "bodies (text and base64), sizes, truncation, timings, address, attempt, error, "
         "message, field errors; retry links point to the same entries; source import; the "
         "Authorization value and key are a fingerprint of the stored fingerprint (not the "
         "original one)\n", n, n);
  cJSON_Delete(a);
  cJSON_Delete(a0);
  cJSON_Delete(b0);
  cJSON_Delete(doc2);
  free(text);
  free(db2);
  free(har2);
}

/* ------------------------------------------------------------------ malformed */

#define ENTRY_TIME "'startedDateTime':'2026-11-27T21:04:05.123Z','time':12.5"
#define ENTRY_REQ                                                                         \
  "'request':{'method':'GET','url':'https://api.example.com/v1/x?a=1','httpVersion':"     \
  "'HTTP/1.1','headers':[{'name':'Accept','value':'application/json'}],'queryString':[],"  \
  "'cookies':[],'headersSize':-1,'bodySize':0}"
#define ENTRY_RESP                                                                        \
  "'response':{'status':200,'statusText':'OK','httpVersion':'HTTP/1.1','headers':[],"     \
  "'cookies':[],'content':{'size':2,'mimeType':'application/json','text':'{}'},"          \
  "'redirectURL':'','headersSize':-1,'bodySize':2}"
#define ENTRY_TIMINGS "'cache':{},'timings':{'send':0,'wait':10,'receive':2.5}"
#define GOOD "{" ENTRY_TIME "," ENTRY_REQ "," ENTRY_RESP "," ENTRY_TIMINGS "}"
#define HAR(entries)                                                                      \
  "{'log':{'version':'1.2','creator':{'name':'t','version':'1'},'entries':[" entries "]}}"
/* An entry with one part replaced. */
#define WITH_TIME(t) "{" t "," ENTRY_REQ "," ENTRY_RESP "," ENTRY_TIMINGS "}"
#define WITH_REQ(r) "{" ENTRY_TIME ",'request':{" r "}," ENTRY_RESP "," ENTRY_TIMINGS "}"
#define WITH_RESP(r) "{" ENTRY_TIME "," ENTRY_REQ ",'response':{" r "}," ENTRY_TIMINGS "}"
#define REQ_BASE "'method':'POST','url':'https://api.example.com/v1/x','httpVersion':'HTTP/1.1'"
#define RESP_BASE "'status':200,'statusText':'OK','httpVersion':'HTTP/1.1'"

static const struct bad_case {
  const char *har;    /* ' for " */
  const char *cause;  /* exactly what reqlog_import_har says */
} bad_cases[] = {
  {"", "not valid JSON (line 1, column 1)"},
  {"{'log':{'entries':[]}", "not valid JSON (line 1, column 22)"},
  {"{'log':\n  {'entries': [}\n}", "not valid JSON (line 2, column 16)"},
  {HAR("") " trailing", "not valid JSON (line 1, column 77)"},
  {"[]", "not a HAR file: the top level is not a JSON object"},
  {"{}", "log: missing"},
  {"{'log':[]}", "log: not an object"},
  {"{'log':{'version':1.2,'entries':[]}}", "log.version: not a string"},
  {"{'log':{'version':'1.2'}}", "log.entries: missing"},
  {"{'log':{'entries':{}}}", "log.entries: not an array"},
  {HAR("5"), "log.entries[0]: not an object"},
  {HAR(GOOD "," GOOD "," GOOD "," WITH_REQ("'method':'GET'")),
   "log.entries[3].request.url: missing"},
  {HAR(WITH_TIME("'time':1")), "log.entries[0].startedDateTime: missing"},
  {HAR(WITH_TIME("'startedDateTime':'yesterday'")),
   "log.entries[0].startedDateTime: not an ISO 8601 time"},
  {HAR(WITH_TIME("'startedDateTime':'15m'")),
   "log.entries[0].startedDateTime: not an ISO 8601 time"},
  {HAR(WITH_TIME("'startedDateTime':'2026-13-01T00:00:00Z'")),
   "log.entries[0].startedDateTime: not an ISO 8601 time"},
  {HAR(WITH_TIME("'startedDateTime':1764277445")),
   "log.entries[0].startedDateTime: not a string"},
  {HAR(WITH_TIME("'startedDateTime':'2026-11-27T21:04:05Z','time':'12'")),
   "log.entries[0].time: not a number"},
  {HAR(WITH_TIME("'startedDateTime':'2026-11-27T21:04:05Z','time':1e300")),
   "log.entries[0].time: not a time in milliseconds"},
  {HAR("{" ENTRY_TIME "," ENTRY_RESP "}"), "log.entries[0].request: missing"},
  {HAR("{" ENTRY_TIME ",'request':[]," ENTRY_RESP "}"), "log.entries[0].request: not an object"},
  {HAR(WITH_REQ("'method':42,'url':'https://x/'")), "log.entries[0].request.method: not a string"},
  {HAR(WITH_REQ("'method':'GET /x','url':'https://x/'")),
   "log.entries[0].request.method: not an HTTP method"},
  {HAR(WITH_REQ("'method':'GET','url':'/relative/path'")),
   "log.entries[0].request.url: not an absolute URL"},
  {HAR(GOOD "," GOOD "," GOOD "," WITH_REQ("'method':'GET','url':'gopher://127.0.0.1:70/_x'")),
   "log.entries[3].request.url: scheme 'gopher' is not http or https"},
  {HAR(WITH_REQ("'method':'GET','url':'file:///etc/passwd'")),
   "log.entries[0].request.url: scheme 'file' is not http or https"},
  {HAR(WITH_REQ("'method':'GET','url':'data:image/gif;base64,R0lGODlhAQABAAAAACw='")),
   "log.entries[0].request.url: scheme 'data' is not http or https"},
  {HAR(WITH_REQ("'method':'GET(x)','url':'https://x/'")),
   "log.entries[0].request.method: not an HTTP method"},
  {HAR(WITH_REQ("'method':'GET\\r\\nX:','url':'https://x/'")),
   "log.entries[0].request.method: not an HTTP method"},
  {HAR(WITH_REQ("'method':'GET','url':null")), "log.entries[0].request.url: not a string"},
  {HAR(WITH_REQ("'method':'GET','url':'https://x/','httpVersion':2")),
   "log.entries[0].request.httpVersion: not a string"},
  {HAR(WITH_REQ(REQ_BASE ",'headers':{}")), "log.entries[0].request.headers: not an array"},
  {HAR(WITH_REQ(REQ_BASE ",'headers':[{'name':'A','value':'b'},{'value':'x'}]")),
   "log.entries[0].request.headers[1].name: missing"},
  {HAR(WITH_REQ(REQ_BASE ",'headers':[{'name':'A','value':7}]")),
   "log.entries[0].request.headers[0].value: not a string"},
  {HAR(WITH_REQ(REQ_BASE ",'headers':['A: b']")),
   "log.entries[0].request.headers[0]: not an object"},
  {HAR(WITH_REQ(REQ_BASE ",'postData':'a=1'")), "log.entries[0].request.postData: not an object"},
  {HAR(WITH_REQ(REQ_BASE ",'postData':{'mimeType':'x','text':'@@@','_encoding':'base64'}")),
   "log.entries[0].request.postData.text: not valid base64"},
  {HAR(WITH_REQ(REQ_BASE ",'postData':{'mimeType':'x','params':[{'value':'v'}]}")),
   "log.entries[0].request.postData.params[0].name: missing"},
  {HAR("{" ENTRY_TIME "," ENTRY_REQ "," ENTRY_TIMINGS "}"), "log.entries[0].response: missing"},
  {HAR(WITH_RESP("'statusText':'OK'")), "log.entries[0].response.status: missing"},
  {HAR(WITH_RESP("'status':'200'")), "log.entries[0].response.status: not a number"},
  {HAR(WITH_RESP("'status':1000")), "log.entries[0].response.status: not an HTTP status"},
  {HAR(WITH_RESP("'status':200.5")), "log.entries[0].response.status: not an HTTP status"},
  {HAR(WITH_RESP(RESP_BASE ",'headers':[{'name':'A'}]")),
   "log.entries[0].response.headers[0].value: missing"},
  {HAR(WITH_RESP(RESP_BASE ",'content':{'size':1,'mimeType':'x','text':5}")),
   "log.entries[0].response.content.text: not a string"},
  {HAR(WITH_RESP(RESP_BASE ",'content':{'size':3,'text':'abc!','encoding':'base64'}")),
   "log.entries[0].response.content.text: not valid base64"},
  {HAR(WITH_RESP(RESP_BASE ",'content':{'size':3,'text':'QQ===','encoding':'base64'}")),
   "log.entries[0].response.content.text: not valid base64"},
  {HAR("{" ENTRY_TIME "," ENTRY_REQ "," ENTRY_RESP ",'timings':{'wait':'10'}}"),
   "log.entries[0].timings.wait: not a number"},
  {HAR("{" ENTRY_TIME "," ENTRY_REQ "," ENTRY_RESP ",'timings':[]}"),
   "log.entries[0].timings: not an object"},
  {HAR("{" ENTRY_TIME "," ENTRY_REQ "," ENTRY_RESP ",'serverIPAddress':127}"),
   "log.entries[0].serverIPAddress: not a string"},
  {HAR("{" ENTRY_TIME "," ENTRY_REQ "," ENTRY_RESP ",'_reqlog':'x'}"),
   "log.entries[0]._reqlog: not an object"},
  {HAR("{" ENTRY_TIME "," ENTRY_REQ "," ENTRY_RESP ",'_reqlog':{'attempt':'2'}}"),
   "log.entries[0]._reqlog.attempt: not a number"},
};

static void test_malformed(void **state) {
  env *e = *state;
  char *db = tu_path(e->dir, "malformed.db");
  char *file = tu_path(e->dir, "bad.har");
  reqlog *r = NULL;
  assert_int_equal(reqlog_open(db, &r, NULL), REQLOG_OK);
  /* one good entry first, so "nothing added" is a count that stays at 1 */
  char *good = q(HAR(GOOD));
  write_file(file, good);
  free(good);
  int64_t n = -1;
  assert_int_equal(reqlog_import_har(r, file, &n, NULL), REQLOG_OK);
  assert_int_equal(n, 1);
  size_t ncases = sizeof bad_cases / sizeof bad_cases[0];
  for (size_t i = 0; i < ncases; i++) {
    char *text = q(bad_cases[i].har);
    write_file(file, text);
    char *cause = NULL;
    n = -1;
    reqlog_err err = reqlog_import_har(r, file, &n, &cause);
    if (err != REQLOG_ERR_ARG || !cause || strcmp(cause, bad_cases[i].cause) != 0)
      fail_msg("case %zu (%s): error %d, cause '%s', expected '%s'", i, text, (int)err,
               cause ? cause : "(null)", bad_cases[i].cause);
    assert_int_equal(n, 0);
    assert_int_equal(count_rows(r), 1);
    free(cause);
    free(text);
  }
  /* not the file at all */
  char *cause = NULL;
  char *missing = tu_path(e->dir, "missing.har");
  assert_int_equal(reqlog_import_har(r, missing, &n, &cause), REQLOG_ERR_IO);
  assert_non_null(strstr(cause, "No such file"));
  free(cause);
  assert_int_equal(reqlog_import_har(r, e->dir, &n, &cause), REQLOG_ERR_IO);
  assert_non_null(strstr(cause, "not a regular file"));
  free(cause);
  assert_int_equal(count_rows(r), 1);
  /* no database: nothing to import into */
  reqlog *nodb = NULL;
  assert_int_equal(reqlog_open(NULL, &nodb, NULL), REQLOG_OK);
  assert_int_equal(reqlog_import_har(nodb, file, &n, NULL), REQLOG_ERR_ARG);
  reqlog_close(nodb);
  reqlog_close(r);
  printf("checked: %zu malformed HARs (bad JSON with line and column, wrong top level, "
         "missing or mistyped log, entries, startedDateTime, time, request, method, url, "
         "httpVersion, headers, postData, params, response, status, content, base64, timings, "
         "serverIPAddress, _reqlog) each rejected with exactly its JSON path message and no "
         "row added, even after three good entries; a missing file and a folder are I/O "
         "errors; a handle without a database is refused\n", ncases);
  free(missing);
  free(db);
  free(file);
}

static void test_cli(void **state) {
  env *e = *state;
  char *db = tu_path(e->dir, "cli.db");
  char *file = tu_path(e->dir, "cli.har");
  char *out = NULL, *err = NULL;

  int rc = rl(db, ARGS("import", "--help"), &out, &err);
  expect_exit(rc, 0, "import --help", err);
  assert_non_null(strstr(out, "usage: reqlog import FILE.har"));
  assert_non_null(strstr(out, "Example"));
  free(out);
  free(err);

  rc = rl(db, ARGS("import"), &out, &err);
  expect_exit(rc, 2, "import without a file", err);
  assert_non_null(strstr(err, "HAR file is required"));
  free(out);
  free(err);

  char *missing = tu_path(e->dir, "nope.har");
  rc = rl(db, ARGS("import", missing), &out, &err);
  expect_exit(rc, 4, "import of a missing file", err);
  assert_non_null(strstr(err, "reqlog: import: cannot read "));
  assert_int_equal(access(db, F_OK), -1); /* no database created for nothing */
  free(out);
  free(err);

  char *text = q(HAR(GOOD "," WITH_REQ("'method':'GET'")));
  write_file(file, text);
  free(text);
  rc = rl(db, ARGS("import", file), &out, &err);
  expect_exit(rc, 2, "import of a malformed file", err);
  char want[512];
  snprintf(want, sizeof want, "reqlog: import: %s: log.entries[1].request.url: missing\n", file);
  assert_string_equal(err, want);
  assert_string_equal(out, "");
  free(out);
  free(err);

  text = q(HAR(""));
  write_file(file, text);
  free(text);
  rc = rl(db, ARGS("import", file), &out, &err);
  expect_exit(rc, 0, "import of an empty HAR", err);
  snprintf(want, sizeof want, "imported 0 calls from %s\n", file);
  assert_string_equal(out, want);
  free(out);
  free(err);

  text = q(HAR(GOOD));
  write_file(file, text);
  free(text);
  rc = rl(db, ARGS("import", file), &out, &err);
  expect_exit(rc, 0, "import of one entry", err);
  snprintf(want, sizeof want, "imported 1 call from %s\n", file);
  assert_string_equal(out, want);
  free(out);
  free(err);
  rc = rl(db, ARGS("list", "--json"), &out, &err);
  expect_exit(rc, 0, "list", err);
  cJSON *rows = parse(out);
  assert_int_equal(cJSON_GetArraySize(rows), 1);
  assert_string_equal(str(cJSON_GetArrayItem(rows, 0), "source"), "import");
  cJSON_Delete(rows);
  free(out);
  free(err);
  printf("checked: reqlog import: --help with an example; no FILE exits 2; a missing FILE "
         "exits 4 and creates no database; a malformed FILE exits 2 with 'reqlog: import: "
         "FILE: log.entries[1].request.url: missing' and nothing on stdout; an empty HAR "
         "imports 0 calls; 'imported 1 call from FILE' and the row has source import\n");
  free(missing);
  free(db);
  free(file);
}

/* ------------------------------------------------------------------ browser HARs */

/* A 1x1 PNG: 70 bytes, 20 of them NUL. */
#define PNG_B64                                                                           \
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
#define PNG_LEN 70

static const char browser_har[] =
  "{'log':{'version':'1.2','creator':{'name':'WebInspector','version':'537.36'},"
  "'pages':[{'startedDateTime':'2026-11-27T21:04:05.000Z','id':'page_1','title':'x',"
  "'pageTimings':{'onContentLoad':100,'onLoad':200}}],'entries':["
  /* 0: Chrome, HTTP/2 with pseudo-headers, IPv6 in brackets, Chrome's own fields */
  "{'_initiator':{'type':'script','stack':{'callFrames':["
  "{'url':'https://app.example.com/app.js'}]}},"
  "'_priority':'High','_resourceType':'fetch','cache':{},'connection':'443','pageref':'page_1',"
  "'request':{'method':'GET','url':'https://app.example.com/api/items?page=2',"
  "'httpVersion':'http/2.0','headers':[{'name':':authority','value':'app.example.com'},"
  "{'name':':method','value':'GET'},{'name':':path','value':'/api/items?page=2'},"
  "{'name':':scheme','value':'https'},{'name':'accept','value':'application/json'}],"
  "'queryString':[{'name':'page','value':'2'}],'cookies':[],'headersSize':-1,'bodySize':0},"
  "'response':{'status':200,'statusText':'','httpVersion':'h2','headers':["
  "{'name':'content-type','value':'application/json; charset=utf-8'}],'cookies':[],"
  "'content':{'size':13,'mimeType':'application/json','compression':0,'text':'{\\'items\\':[]}'},"
  "'redirectURL':'','headersSize':-1,'bodySize':-1,'_transferSize':120,'_error':null},"
  "'serverIPAddress':'[2606:4700::6810:84e5]','startedDateTime':'2026-11-27T21:04:05.100Z',"
  "'time':22.7,'timings':{'blocked':1.2,'dns':-1,'ssl':-1,'connect':-1,'send':0.1,"
  "'wait':20.5,'receive':0.9,'_blocked_queueing':0.8}},"
  /* 1: an image, base64 */
  "{'startedDateTime':'2026-11-27T21:04:05.200Z','time':5,'request':{'method':'GET',"
  "'url':'https://app.example.com/logo.png','httpVersion':'HTTP/1.1','headers':[],"
  "'queryString':[],'cookies':[],'headersSize':-1,'bodySize':0},'response':{'status':200,"
  "'statusText':'OK','httpVersion':'HTTP/1.1','headers':[{'name':'Content-Type','value':"
  "'image/png'}],'cookies':[],'content':{'size':70,'mimeType':'image/png','text':'" PNG_B64
  "','encoding':'base64'},'redirectURL':'','headersSize':-1,'bodySize':70},'cache':{},"
  "'timings':{'blocked':-1,'dns':2,'connect':10,'ssl':6,'send':0,'wait':3,'receive':1}},"
  /* 2: a stylesheet saved without content */
  "{'startedDateTime':'2026-11-27T21:04:05.300Z','time':4,'request':{'method':'GET',"
  "'url':'https://app.example.com/site.css','httpVersion':'HTTP/1.1','headers':[],"
  "'queryString':[],'cookies':[],'headersSize':-1,'bodySize':0},'response':{'status':200,"
  "'statusText':'OK','httpVersion':'HTTP/1.1','headers':[],'cookies':[],'content':{"
  "'size':5120,'mimeType':'text/css'},'redirectURL':'','headersSize':-1,'bodySize':-1,"
  "'_transferSize':-1},'cache':{},'timings':{'send':0,'wait':3,'receive':1}},"
  /* 3: Chrome, connection refused */
  "{'startedDateTime':'2026-11-27T21:04:05.400Z','time':0,'request':{'method':'GET',"
  "'url':'http://localhost:9/down','httpVersion':'','headers':[],'queryString':[],"
  "'cookies':[],'headersSize':-1,'bodySize':0},'response':{'status':0,'statusText':'',"
  "'httpVersion':'','headers':[],'cookies':[],'content':{'size':0,'mimeType':'x-unknown'},"
  "'redirectURL':'','headersSize':-1,'bodySize':-1,'_transferSize':0,"
  "'_error':'net::ERR_CONNECTION_REFUSED'},'cache':{},'timings':{'blocked':-1,'dns':-1,"
  "'ssl':-1,'connect':-1,'send':0,'wait':0,'receive':0}},"
  /* 4: Playwright, aborted */
  "{'startedDateTime':'2026-11-27T21:04:05.500Z','time':-1,'request':{'method':'GET',"
  "'url':'https://app.example.com/slow','httpVersion':'HTTP/1.1','headers':[],"
  "'queryString':[],'cookies':[],'headersSize':-1,'bodySize':-1},'response':{'status':-1,"
  "'statusText':'','httpVersion':'HTTP/1.1','headers':[],'cookies':[],'content':{'size':-1,"
  "'mimeType':'x-unknown'},'headersSize':-1,'bodySize':-1,'redirectURL':'',"
  "'_transferSize':-1,'_failureText':'net::ERR_ABORTED'},'cache':{},'timings':{'send':-1,"
  "'wait':-1,'receive':-1},'_frameref':'frame@1','_monotonicTime':123.4},"
  /* 5: a form posted as params only, Firefox-style time and version */
  "{'startedDateTime':'2026-11-27T22:04:05.600+01:00','time':3,'request':{'method':'POST',"
  "'url':'https://app.example.com/search','httpVersion':'HTTP/2.0','headers':[],"
  "'queryString':[],'cookies':[],'headersSize':-1,'bodySize':17,'postData':{"
  "'mimeType':'application/x-www-form-urlencoded','params':[{'name':'q','value':'a b&c'},"
  "{'name':'lang','value':'en'}]}},'response':{'status':204,'statusText':'No Content',"
  "'httpVersion':'HTTP/2.0','headers':[],'cookies':[],'content':{'size':0,'mimeType':''},"
  "'redirectURL':'','headersSize':-1,'bodySize':0},'cache':{},'timings':{'send':1,'wait':1,"
  "'receive':1}},"
  /* 6: a 304 whose size is the cached copy's */
  "{'startedDateTime':'2026-11-27T21:04:05.700Z','time':2,'request':{'method':'GET',"
  "'url':'https://app.example.com/app.js','httpVersion':'HTTP/1.1','headers':[],"
  "'queryString':[],'cookies':[],'headersSize':-1,'bodySize':0},'response':{'status':304,"
  "'statusText':'Not Modified','httpVersion':'HTTP/1.1','headers':[],'cookies':[],"
  "'content':{'size':9000,'mimeType':'text/javascript'},'redirectURL':'','headersSize':-1,"
  "'bodySize':0},'cache':{},'timings':{'send':0,'wait':1,'receive':1}}"
  "]}}";

static const cJSON *req_header(const cJSON *row, const char *name) {
  const cJSON *it;
  cJSON_ArrayForEach(it, get(row, "request_headers")) {
    if (strcasecmp(cJSON_GetArrayItem(it, 0)->valuestring, name) == 0)
      return cJSON_GetArrayItem(it, 1);
  }
  return NULL;
}

static void test_browser_har(void **state) {
  env *e = *state;
  char *db = tu_path(e->dir, "browser.db");
  char *file = tu_path(e->dir, "browser.har");
  char *text = q(browser_har);
  write_file(file, text);
  free(text);
  reqlog *r = NULL;
  assert_int_equal(reqlog_open(db, &r, NULL), REQLOG_OK);
  int64_t n = 0;
  char *cause = NULL;
  reqlog_err err = reqlog_import_har(r, file, &n, &cause);
  if (err != REQLOG_OK)
    fail_msg("import: %s", cause);
  assert_int_equal(n, 7);
  cJSON *rows = rows_of(r);
  assert_int_equal(cJSON_GetArraySize(rows), 7);
  const cJSON *w = cJSON_GetArrayItem(rows, 0), *t = get(w, "timing");

  /* 0: pseudo-headers left out, h2 as HTTP/2, IPv6 unbracketed, phases mapped */
  assert_string_equal(str(w, "url"), "https://app.example.com/api/items?page=2");
  assert_string_equal(str(w, "host"), "app.example.com");
  assert_string_equal(str(w, "source"), "import");
  assert_string_equal(str(w, "started_at"), "2026-11-27T21:04:05.100000Z");
  assert_string_equal(str(w, "http_version"), "HTTP/2");
  assert_string_equal(str(w, "remote_ip"), "2606:4700::6810:84e5");
  assert_string_equal(str(w, "content_type"), "application/json");
  assert_string_equal(str(w, "response_body"), "{\"items\":[]}");
  assert_int_equal(cJSON_GetArraySize(get(w, "request_headers")), 1);
  assert_string_equal(req_header(w, "accept")->valuestring, "application/json");
  assert_int_equal(cJSON_GetArraySize(get(w, "response_headers")), 1);
  near(num(t, "queued_ms"), 1.2, "queued");
  near(num(t, "dns_ms"), 0, "dns");
  near(num(t, "connect_ms"), 0, "connect");
  near(num(t, "tls_ms"), 0, "tls");
  near(num(t, "ttfb_ms"), 20.6, "ttfb = send + wait");
  near(num(t, "total_ms"), 21.5, "total = time - blocked");

  /* 1: the image as a BLOB, phases with ssl taken out of connect */
  w = cJSON_GetArrayItem(rows, 1);
  t = get(w, "timing");
  assert_string_equal(str(get(w, "response_body"), "base64"), PNG_B64);
  assert_int_equal((int)num(w, "response_size"), PNG_LEN);
  near(num(t, "dns_ms"), 2, "dns");
  near(num(t, "connect_ms"), 4, "connect - ssl");
  near(num(t, "tls_ms"), 6, "tls");
  near(num(t, "total_ms"), 5, "total");

  /* 2: no text: the size is known, the body is not */
  w = cJSON_GetArrayItem(rows, 2);
  assert_int_equal((int)num(w, "response_size"), 5120);
  assert_true(cJSON_IsTrue(get(w, "response_truncated")));
  const cJSON *body = get(w, "response_body");
  assert_true(cJSON_IsNull(body) || (cJSON_IsString(body) && !*body->valuestring));

  /* 3, 4: no response */
  w = cJSON_GetArrayItem(rows, 3);
  assert_true(cJSON_IsNull(get(w, "status")));
  assert_string_equal(str(w, "error"), "net::ERR_CONNECTION_REFUSED");
  assert_true(cJSON_IsNull(get(w, "http_version")));
  w = cJSON_GetArrayItem(rows, 4);
  assert_true(cJSON_IsNull(get(w, "status")));
  assert_string_equal(str(w, "error"), "net::ERR_ABORTED");
  near(num(get(w, "timing"), "total_ms"), 0, "total of -1 timings");

  /* 5: params form-encoded, the type from mimeType, +01:00 read as such */
  w = cJSON_GetArrayItem(rows, 5);
  assert_string_equal(str(w, "request_body"), "q=a+b%26c&lang=en");
  assert_string_equal(req_header(w, "Content-Type")->valuestring,
                      "application/x-www-form-urlencoded");
  assert_string_equal(str(w, "started_at"), "2026-11-27T21:04:05.600000Z");
  assert_string_equal(str(w, "http_version"), "HTTP/2");
  assert_int_equal((int)num(w, "status"), 204);

  /* 6: a 304 has no body of its own */
  w = cJSON_GetArrayItem(rows, 6);
  assert_int_equal((int)num(w, "response_size"), 0);
  assert_false(cJSON_IsTrue(get(w, "response_truncated")));

  /* and what was imported exports as a HAR again */
  char *har = export_har(r, NULL);
  cJSON *doc = parse(har);
  int i = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, entries_of(doc))
    check_shape(it, i++);
  assert_int_equal(i, 7);
  cJSON_Delete(doc);
  free(har);
  cJSON_Delete(rows);
  reqlog_close(r);
  printf("checked: a browser-shaped HAR (7 entries: Chrome h2 fetch with pseudo-headers, "
         "[IPv6] and _initiator; base64 PNG; CSS without text; connection refused with "
         "_error; Playwright abort with status -1 and _failureText; form params; 304) "
         "imports all 7: pseudo-headers dropped, h2/HTTP/2.0 -> HTTP/2, "
         "blocked -> queued, connect - ssl, send + wait -> ttfb, time - blocked -> total, "
         "-1 -> 0, +01:00 -> UTC, params form-encoded with their Content-Type, sizes kept; "
         "it exports back to a well-formed HAR\n");
  free(db);
  free(file);
}

/* ------------------------------------------------------------------ secrets */

#define S_BEARER "SK_LIVE_SECRET_abcdefghijkl1234"
#define S_COOKIE "COOKIE_SECRET_2222"
#define S_QUERY "QTOKEN_SECRET_1111"
#define S_APIKEY "XAPI_SECRET_3333"
#define S_SETCOOKIE "SETCOOKIE_SECRET_4444"
#define S_RESP "RESP_TOKEN_SECRET_5555"
#define S_REFRESH "REFRESH_SECRET_6666"
#define S_PASSWORD "PASSWORD_SECRET_8888"
#define S_PARAM "PARAM_SECRET_9999"
#define S_JWT "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJKV1RfU0VDUkVUIn0.SIGJWTSECRET0000abcdEFGH"

static const char secrets_har[] =
  "{'log':{'version':'1.2','creator':{'name':'WebInspector','version':'537.36'},'entries':["
  "{'startedDateTime':'2026-11-27T21:04:05.100Z','time':10,'request':{'method':'GET',"
  "'url':'https://api.example.com/v1/me?access_token=" S_QUERY "&page=1',"
  "'httpVersion':'HTTP/1.1','headers':[{'name':'Authorization','value':'Bearer " S_BEARER "'},"
  "{'name':'Cookie','value':'session=" S_COOKIE "; theme=dark'},"
  "{'name':'X-Api-Key','value':'" S_APIKEY "'},{'name':'X-Debug','value':'" S_JWT "'}],"
  "'queryString':[{'name':'access_token','value':'" S_QUERY "'}],"
  "'cookies':[{'name':'session','value':'" S_COOKIE "'}],'headersSize':-1,'bodySize':0},"
  "'response':{'status':200,'statusText':'OK','httpVersion':'HTTP/1.1','headers':["
  "{'name':'Set-Cookie','value':'sid=" S_SETCOOKIE "; HttpOnly'},"
  "{'name':'Content-Type','value':'application/json'}],"
  "'cookies':[{'name':'sid','value':'" S_SETCOOKIE "'}],'content':{'size':90,"
  "'mimeType':'application/json','text':'{\\'access_token\\':\\'" S_RESP "\\',"
  "\\'refresh_token\\':\\'" S_REFRESH "\\',\\'user\\':{\\'id\\':1}}'},'redirectURL':'',"
  "'headersSize':-1,'bodySize':90},'cache':{},'timings':{'send':0,'wait':9,'receive':1},"
  "'_initiator':{'type':'script','url':'https://app.example.com/a.js?token=" S_QUERY "'}},"
  "{'startedDateTime':'2026-11-27T21:04:06.100Z','time':10,'request':{'method':'POST',"
  "'url':'https://api.example.com/v1/login','httpVersion':'HTTP/1.1','headers':["
  "{'name':'Content-Type','value':'application/json'}],'queryString':[],'cookies':[],"
  "'headersSize':-1,'bodySize':50,'postData':{'mimeType':'application/json',"
  "'text':'{\\'email\\':\\'ada@example.org\\',\\'password\\':\\'" S_PASSWORD "\\'}'}},"
  "'response':{'status':401,'statusText':'Unauthorized','httpVersion':'HTTP/1.1',"
  "'headers':[],'cookies':[],'content':{'size':27,'mimeType':'application/json',"
  "'text':'{\\'message\\':\\'Unauthenticated.\\'}'},'redirectURL':'','headersSize':-1,"
  "'bodySize':27},'cache':{},'timings':{'send':0,'wait':9,'receive':1}},"
  "{'startedDateTime':'2026-11-27T21:04:07.100Z','time':10,'request':{'method':'POST',"
  "'url':'https://app.example.com/session','httpVersion':'HTTP/1.1','headers':[],"
  "'queryString':[],'cookies':[],'headersSize':-1,'bodySize':40,'postData':{"
  "'mimeType':'application/x-www-form-urlencoded','params':[{'name':'user','value':'ada'},"
  "{'name':'password','value':'" S_PARAM "'}]}},'response':{'status':302,"
  "'statusText':'Found','httpVersion':'HTTP/1.1','headers':[{'name':'Location','value':"
  "'/home?token=" S_QUERY "'}],'cookies':[],'content':{'size':0,'mimeType':''},"
  "'redirectURL':'/home?token=" S_QUERY "','headersSize':-1,'bodySize':0},'cache':{},"
  "'timings':{'send':0,'wait':9,'receive':1}}"
  "]}}";

static void test_secrets(void **state) {
  env *e = *state;
  static const char *const secrets[] = {S_BEARER, S_COOKIE, S_QUERY, S_APIKEY,
                                        S_SETCOOKIE, S_RESP, S_REFRESH, S_PASSWORD,
                                        S_PARAM, "SIGJWTSECRET0000abcdEFGH"};
  char *db = tu_path(e->dir, "secrets.db");
  char *file = tu_path(e->dir, "secrets.har");
  char *text = q(secrets_har);
  write_file(file, text);
  free(text);
  /* the HAR does hold them */
  for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
    assert_true(tu_file_contains(file, secrets[i]));

  char *out = NULL, *err = NULL;
  int rc = rl(db, ARGS("import", file), &out, &err);
  expect_exit(rc, 0, "import of secrets.har", err);
  free(out);
  free(err);
  reqlog *r = NULL;
  assert_int_equal(reqlog_open(db, &r, NULL), REQLOG_OK);
  cJSON *rows = rows_of(r);
  assert_int_equal(cJSON_GetArraySize(rows), 3);
  char fp[48];
  reqlog_key_fingerprint(S_BEARER, fp);
  const cJSON *w = cJSON_GetArrayItem(rows, 0);
  assert_string_equal(str(w, "key"), fp);
  assert_string_equal(str(w, "url"),
                      "https://api.example.com/v1/me?access_token=[REDACTED]&page=1");
  assert_true(cJSON_IsNull(get(cJSON_GetArrayItem(rows, 0), "error_message")));
  assert_string_equal(str(cJSON_GetArrayItem(rows, 1), "error_message"), "Unauthenticated.");
  char *har = export_har(r, NULL);
  for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
    if (tu_db_files_contain(db, secrets[i]) || strstr(har, secrets[i]))
      fail_msg("secret %s was kept", secrets[i]);
  }
  /* the form's other values are kept: only the secret one went */
  assert_non_null(strstr(str(cJSON_GetArrayItem(rows, 2), "request_body"), "user=ada"));
  free(har);
  cJSON_Delete(rows);
  reqlog_close(r);
  for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
    assert_false(tu_db_files_contain(db, secrets[i]));
  printf("checked: importing a HAR holding a bearer key, Cookie and cookies[], Set-Cookie, "
         "?access_token= (and queryString, _initiator, Location, redirectURL), X-Api-Key, "
         "a JWT, a JSON password, a password form param and tokens in a response body: "
         "none of the %zu secrets is in the db, -wal or -shm (open and closed) nor in its "
         "HAR export; key = fingerprint of the bearer key (%s); 401 message kept\n",
         sizeof secrets / sizeof secrets[0], fp);
  free(db);
  free(file);
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_export_entries),
    cmocka_unit_test(test_export_special_rows),
    cmocka_unit_test(test_export_empty),
    cmocka_unit_test(test_export_progress_cancel),
    cmocka_unit_test(test_round_trip),
    cmocka_unit_test(test_malformed),
    cmocka_unit_test(test_cli),
    cmocka_unit_test(test_browser_har),
    cmocka_unit_test(test_secrets),
  };
  int rc = cmocka_run_group_tests_name("har", tests, setup, teardown);
  curl_global_cleanup();
  return rc;
}
