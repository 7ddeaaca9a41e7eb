/* test_har_browser.c: importing HAR files written by hand in the shapes browsers and
 * Playwright write, and keeping the secrets such files carry out of the history.
 *
 * Plan:
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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "testhar.h"

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
  cJSON_ArrayForEach(it, th_get(row, "request_headers")) {
    if (strcasecmp(cJSON_GetArrayItem(it, 0)->valuestring, name) == 0)
      return cJSON_GetArrayItem(it, 1);
  }
  return NULL;
}

static void test_browser_har(void **state) {
  th_env *e = *state;
  char *db = tu_path(e->dir, "browser.db");
  char *file = tu_path(e->dir, "browser.har");
  char *text = th_q(browser_har);
  tu_write_file(file, text, 0644);
  free(text);
  reqlog *r = NULL;
  assert_int_equal(reqlog_open(db, &r, NULL), REQLOG_OK);
  int64_t n = 0;
  char *cause = NULL;
  reqlog_err err = reqlog_import_har(r, file, &n, &cause);
  if (err != REQLOG_OK)
    fail_msg("import: %s", cause);
  assert_int_equal(n, 7);
  cJSON *rows = tu_rows(r);
  assert_int_equal(cJSON_GetArraySize(rows), 7);
  const cJSON *w = cJSON_GetArrayItem(rows, 0), *t = th_get(w, "timing");

  /* 0: pseudo-headers left out, h2 as HTTP/2, IPv6 unbracketed, phases mapped */
  assert_string_equal(tu_str(w, "url"), "https://app.example.com/api/items?page=2");
  assert_string_equal(tu_str(w, "host"), "app.example.com");
  assert_string_equal(tu_str(w, "source"), "import");
  assert_string_equal(tu_str(w, "started_at"), "2026-11-27T21:04:05.100000Z");
  assert_string_equal(tu_str(w, "http_version"), "HTTP/2");
  assert_string_equal(tu_str(w, "remote_ip"), "2606:4700::6810:84e5");
  assert_string_equal(tu_str(w, "content_type"), "application/json");
  assert_string_equal(tu_str(w, "response_body"), "{\"items\":[]}");
  assert_int_equal(cJSON_GetArraySize(th_get(w, "request_headers")), 1);
  assert_string_equal(req_header(w, "accept")->valuestring, "application/json");
  assert_int_equal(cJSON_GetArraySize(th_get(w, "response_headers")), 1);
  th_near(tu_num(t, "queued_ms"), 1.2, "queued");
  th_near(tu_num(t, "dns_ms"), 0, "dns");
  th_near(tu_num(t, "connect_ms"), 0, "connect");
  th_near(tu_num(t, "tls_ms"), 0, "tls");
  th_near(tu_num(t, "ttfb_ms"), 20.6, "ttfb = send + wait");
  th_near(tu_num(t, "total_ms"), 21.5, "total = time - blocked");

  /* 1: the image as a BLOB, phases with ssl taken out of connect */
  w = cJSON_GetArrayItem(rows, 1);
  t = th_get(w, "timing");
  assert_string_equal(tu_str(th_get(w, "response_body"), "base64"), PNG_B64);
  assert_int_equal((int)tu_num(w, "response_size"), PNG_LEN);
  th_near(tu_num(t, "dns_ms"), 2, "dns");
  th_near(tu_num(t, "connect_ms"), 4, "connect - ssl");
  th_near(tu_num(t, "tls_ms"), 6, "tls");
  th_near(tu_num(t, "total_ms"), 5, "total");

  /* 2: no text: the size is known, the body is not */
  w = cJSON_GetArrayItem(rows, 2);
  assert_int_equal((int)tu_num(w, "response_size"), 5120);
  assert_true(cJSON_IsTrue(th_get(w, "response_truncated")));
  const cJSON *body = th_get(w, "response_body");
  assert_true(cJSON_IsNull(body) || (cJSON_IsString(body) && !*body->valuestring));

  /* 3, 4: no response */
  w = cJSON_GetArrayItem(rows, 3);
  assert_true(cJSON_IsNull(th_get(w, "status")));
  assert_string_equal(tu_str(w, "error"), "net::ERR_CONNECTION_REFUSED");
  assert_true(cJSON_IsNull(th_get(w, "http_version")));
  w = cJSON_GetArrayItem(rows, 4);
  assert_true(cJSON_IsNull(th_get(w, "status")));
  assert_string_equal(tu_str(w, "error"), "net::ERR_ABORTED");
  th_near(tu_num(th_get(w, "timing"), "total_ms"), 0, "total of -1 timings");

  /* 5: params form-encoded, the type from mimeType, +01:00 read as such */
  w = cJSON_GetArrayItem(rows, 5);
  assert_string_equal(tu_str(w, "request_body"), "q=a+b%26c&lang=en");
  assert_string_equal(req_header(w, "Content-Type")->valuestring,
                      "application/x-www-form-urlencoded");
  assert_string_equal(tu_str(w, "started_at"), "2026-11-27T21:04:05.600000Z");
  assert_string_equal(tu_str(w, "http_version"), "HTTP/2");
  assert_int_equal((int)tu_num(w, "status"), 204);

  /* 6: a 304 has no body of its own */
  w = cJSON_GetArrayItem(rows, 6);
  assert_int_equal((int)tu_num(w, "response_size"), 0);
  assert_false(cJSON_IsTrue(th_get(w, "response_truncated")));

  /* and what was imported exports as a HAR again */
  char *har = th_export_har(r, NULL);
  cJSON *doc = th_parse(har);
  int i = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, th_entries_of(doc))
    th_check_shape(it, i++);
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
  th_env *e = *state;
  static const char *const secrets[] = {S_BEARER, S_COOKIE, S_QUERY, S_APIKEY,
                                        S_SETCOOKIE, S_RESP, S_REFRESH, S_PASSWORD,
                                        S_PARAM, "SIGJWTSECRET0000abcdEFGH"};
  char *db = tu_path(e->dir, "secrets.db");
  char *file = tu_path(e->dir, "secrets.har");
  char *text = th_q(secrets_har);
  tu_write_file(file, text, 0644);
  free(text);
  /* the HAR does hold them */
  for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
    assert_true(tu_file_contains(file, secrets[i]));

  char *out = NULL, *err = NULL;
  int rc = th_run(db, ARGS("import", file), &out, &err);
  tu_expect_exit(rc, 0, "import of secrets.har", err);
  free(out);
  free(err);
  reqlog *r = NULL;
  assert_int_equal(reqlog_open(db, &r, NULL), REQLOG_OK);
  cJSON *rows = tu_rows(r);
  assert_int_equal(cJSON_GetArraySize(rows), 3);
  char fp[48];
  reqlog_key_fingerprint(S_BEARER, fp);
  const cJSON *w = cJSON_GetArrayItem(rows, 0);
  assert_string_equal(tu_str(w, "key"), fp);
  assert_string_equal(tu_str(w, "url"),
                      "https://api.example.com/v1/me?access_token=[REDACTED]&page=1");
  assert_true(cJSON_IsNull(th_get(cJSON_GetArrayItem(rows, 0), "error_message")));
  assert_string_equal(tu_str(cJSON_GetArrayItem(rows, 1), "error_message"), "Unauthenticated.");
  char *har = th_export_har(r, NULL);
  for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
    if (tu_db_files_contain(db, secrets[i]) || strstr(har, secrets[i]))
      fail_msg("secret %s was kept", secrets[i]);
  }
  /* the form's other values are kept: only the secret one went */
  assert_non_null(strstr(tu_str(cJSON_GetArrayItem(rows, 2), "request_body"), "user=ada"));
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
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_browser_har),
    cmocka_unit_test(test_secrets),
  };
  return cmocka_run_group_tests_name("har_browser", tests, th_setup, th_teardown);
}
