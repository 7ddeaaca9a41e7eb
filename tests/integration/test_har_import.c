/* test_har_import.c: HAR import (`reqlog import`, reqlog_import_har): the history's own
 * export read back (testhar.h), and files that are not valid HAR refused whole.
 *
 * Plan:
 *   round trip    export -> `reqlog import` into a new database -> export: every entry the
 *                 same (ids aside, retry links to the same entries, source "import"),
 *                 except the Authorization fingerprint, which is fingerprinted again
 *   malformed     cases as data: each file is rejected with exactly its JSON path message
 *                 and no row is added, even when earlier entries were fine
 *   cli           import prints "imported N calls from FILE"; a malformed file exits 2
 *                 naming FILE and the path; a missing file exits 4 and creates no
 *                 database; --help has an example; no argument exits 2
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testhar.h"

static int64_t count_rows(reqlog *r) {
  int64_t n = -1;
  assert_int_equal(reqlog_flush(r, NULL), REQLOG_OK);
  assert_int_equal(reqlog_count(r, NULL, &n, NULL), REQLOG_OK);
  return n;
}

/* ------------------------------------------------------------------ round trip */

/* ENTRY with what an import cannot keep set aside: the id, the key and source, the
 * Authorization value (checked to be a fingerprint first); retry_of becomes the index of
 * the entry it names in ENTRIES. */
static void normalise(cJSON *entry, const cJSON *entries) {
  cJSON *x = th_get(entry, "_reqlog");
  cJSON *retry = th_get(x, "retry_of");
  int index = -1;
  if (cJSON_IsNumber(retry)) {
    int k = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, entries) {
      if (tu_num(th_get(it, "_reqlog"), "id") == retry->valuedouble)
        index = k;
      k++;
    }
    assert_true(index >= 0);
  }
  cJSON_ReplaceItemInObject(x, "retry_of", cJSON_CreateNumber(index));
  const char *key = tu_str(x, "key");
  cJSON *h;
  cJSON_ArrayForEach(h, th_at(entry, "request.headers")) {
    if (strcasecmp(tu_str(h, "name"), "Authorization") != 0)
      continue;
    const char *v = tu_str(h, "value");
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
  th_env *e = *state;
  char *db2 = tu_path(e->dir, "imported.db");
  char *har2 = tu_path(e->dir, "imported.har");
  char *out = NULL, *err = NULL;
  int rc = th_run(db2, ARGS("import", e->har), &out, &err);
  tu_expect_exit(rc, 0, "import", err);
  int n = cJSON_GetArraySize(th_entries_of(e->har_doc));
  char want[512];
  snprintf(want, sizeof want, "imported %d calls from %s\n", n, e->har);
  assert_string_equal(out, want);
  free(out);
  free(err);
  rc = th_run(db2, ARGS("export", "--format", "har", "-o", har2), NULL, &err);
  tu_expect_exit(rc, 0, "export of the imported history", err);
  free(err);

  char *text = tu_read_file(har2);
  cJSON *doc2 = th_parse(text);
  cJSON *a = cJSON_Duplicate(th_entries_of(e->har_doc), 1), *b = th_entries_of(doc2);
  assert_int_equal(cJSON_GetArraySize(b), n);
  const cJSON *it;
  cJSON_ArrayForEach(it, b)
    assert_string_equal(th_at(it, "_reqlog.source")->valuestring, "import");
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
  cJSON *rows = tu_rows(r2);
  assert_int_equal(cJSON_GetArraySize(rows), n);
  assert_string_equal(tu_str(cJSON_GetArrayItem(rows, 0), "key"),
                      th_at(cJSON_GetArrayItem(b0, 0), "_reqlog.key")->valuestring);
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
  /* the column counts characters: the two bytes of \xc3\xa9 are one */
  {"{'log':'caf\xc3\xa9' x}", "not valid JSON (line 1, column 15)"},
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
  th_env *e = *state;
  char *db = tu_path(e->dir, "malformed.db");
  char *file = tu_path(e->dir, "bad.har");
  reqlog *r = NULL;
  assert_int_equal(reqlog_open(db, &r, NULL), REQLOG_OK);
  /* one good entry first, so "nothing added" is a count that stays at 1 */
  char *good = th_q(HAR(GOOD));
  tu_write_file(file, good, 0644);
  free(good);
  int64_t n = -1;
  assert_int_equal(reqlog_import_har(r, file, &n, NULL), REQLOG_OK);
  assert_int_equal(n, 1);
  size_t ncases = sizeof bad_cases / sizeof bad_cases[0];
  for (size_t i = 0; i < ncases; i++) {
    char *text = th_q(bad_cases[i].har);
    tu_write_file(file, text, 0644);
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
  th_env *e = *state;
  char *db = tu_path(e->dir, "cli.db");
  char *file = tu_path(e->dir, "cli.har");
  char *out = NULL, *err = NULL;

  int rc = th_run(db, ARGS("import", "--help"), &out, &err);
  tu_expect_exit(rc, 0, "import --help", err);
  assert_non_null(strstr(out, "usage: reqlog import [--origin NAME] FILE.har"));
  assert_non_null(strstr(out, "Example"));
  free(out);
  free(err);

  rc = th_run(db, ARGS("import"), &out, &err);
  tu_expect_exit(rc, 2, "import without a file", err);
  assert_non_null(strstr(err, "HAR file is required"));
  free(out);
  free(err);

  char *missing = tu_path(e->dir, "nope.har");
  rc = th_run(db, ARGS("import", missing), &out, &err);
  tu_expect_exit(rc, 4, "import of a missing file", err);
  assert_non_null(strstr(err, "reqlog: import: cannot read "));
  assert_int_equal(access(db, F_OK), -1); /* no database created for nothing */
  free(out);
  free(err);

  char *text = th_q(HAR(GOOD "," WITH_REQ("'method':'GET'")));
  tu_write_file(file, text, 0644);
  free(text);
  rc = th_run(db, ARGS("import", file), &out, &err);
  tu_expect_exit(rc, 2, "import of a malformed file", err);
  char want[512];
  snprintf(want, sizeof want, "reqlog: import: %s: log.entries[1].request.url: missing\n", file);
  assert_string_equal(err, want);
  assert_string_equal(out, "");
  free(out);
  free(err);

  text = th_q(HAR(""));
  tu_write_file(file, text, 0644);
  free(text);
  rc = th_run(db, ARGS("import", file), &out, &err);
  tu_expect_exit(rc, 0, "import of an empty HAR", err);
  snprintf(want, sizeof want, "imported 0 calls from %s\n", file);
  assert_string_equal(out, want);
  free(out);
  free(err);

  text = th_q(HAR(GOOD));
  tu_write_file(file, text, 0644);
  free(text);
  rc = th_run(db, ARGS("import", file), &out, &err);
  tu_expect_exit(rc, 0, "import of one entry", err);
  snprintf(want, sizeof want, "imported 1 call from %s\n", file);
  assert_string_equal(out, want);
  free(out);
  free(err);
  rc = th_run(db, ARGS("list", "--json"), &out, &err);
  tu_expect_exit(rc, 0, "list", err);
  cJSON *rows = th_parse(out);
  assert_int_equal(cJSON_GetArraySize(rows), 1);
  assert_string_equal(tu_str(cJSON_GetArrayItem(rows, 0), "source"), "import");
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

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_round_trip),
    cmocka_unit_test(test_malformed),
    cmocka_unit_test(test_cli),
  };
  return cmocka_run_group_tests_name("har_import", tests, th_setup, th_teardown);
}
