/* test_web_stream.c: the dashboard's live stream (/api/stream, web/API.md) over the
 * shared fixture of tests/lib/testweb.h.
 *
 * Plan:
 *   live stream          a call recorded after connecting arrives as an event, one that
 *                        does not match the filter does not; after=ID replays in order;
 *                        past 8 streams from one address a 503 JSON, until one closes
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
#include <unistd.h>

#include "reqlog.h"
#include "reqlog_web.h"
#include "testutil.h"
#include "testweb.h"

/* ------------------------------------------------------------------ live stream */

/* Runs the transfer in M until NEEDLE shows up in B or SECONDS pass. */
static int wait_for(CURLM *m, tw_membuf *b, const char *needle, int seconds) {
  time_t end = time(NULL) + seconds;
  while (time(NULL) < end) {
    int running = 0;
    curl_multi_perform(m, &running);
    if (b->p && strstr(b->p, needle))
      return 1;
    if (!running)
      return 0;
    curl_multi_poll(m, NULL, 0, 100, NULL);
  }
  return 0;
}

/* Opens PATH as a stream from the local address FROM (NULL: the default, 127.0.0.1). */
static void open_stream_from(const char *path, const char *from, CURLM **m, CURL **c,
                             tw_membuf *b) {
  char url[512];
  snprintf(url, sizeof url, "%s%s", tw_e->url, path);
  *m = curl_multi_init();
  *c = curl_easy_init();
  if (from)
    curl_easy_setopt(*c, CURLOPT_INTERFACE, from);
  curl_easy_setopt(*c, CURLOPT_URL, url);
  curl_easy_setopt(*c, CURLOPT_WRITEFUNCTION, tw_collect);
  curl_easy_setopt(*c, CURLOPT_WRITEDATA, b);
  curl_multi_add_handle(*m, *c);
}

static void open_stream(const char *path, CURLM **m, CURL **c, tw_membuf *b) {
  open_stream_from(path, NULL, m, c, b);
}

static void close_stream(CURLM *m, CURL *c, tw_membuf *b) {
  curl_multi_remove_handle(m, c);
  curl_easy_cleanup(c);
  curl_multi_cleanup(m);
  free(b->p);
}

static void test_live_stream(void **state) {
  (void)state;
  CURLM *m = NULL;
  CURL *c = NULL;
  tw_membuf b = {0};
  open_stream("/api/stream?method=PUT", &m, &c, &b);
  assert_true(wait_for(m, &b, ": connected", 10));
  long code = 0;
  char *type = NULL;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
  assert_int_equal(code, 200);
  assert_string_equal(type, "text/event-stream");

  reqlog *r = tw_recorder();
  int64_t skipped = tw_call(r, "GET", "/participants/5", NULL, 0);
  int64_t wanted = tw_call(r, "PUT", "/participants/5", "{\"first_name\":\"Live\"}", 21);
  reqlog_close(r);
  char needle[64];
  snprintf(needle, sizeof needle, "id: %" PRId64 "\nevent: row\ndata: {", wanted);
  assert_true(wait_for(m, &b, needle, 10));
  /* the row's data line is complete once the blank line after it came */
  assert_true(wait_for(m, &b, "}\n\n", 10));
  char *ev = strstr(b.p, needle);
  char *data = strstr(ev, "data: ") + 6;
  char *nl = strchr(data, '\n');
  *nl = '\0';
  cJSON *row = cJSON_Parse(data);
  assert_non_null(row);
  assert_int_equal((int64_t)tu_num(row, "id"), wanted);
  assert_string_equal(tu_str(row, "method"), "PUT");
  assert_null(cJSON_GetObjectItemCaseSensitive(row, "request_body"));
  cJSON_Delete(row);
  *nl = '\n';
  snprintf(needle, sizeof needle, "id: %" PRId64 "\n", skipped);
  assert_null(strstr(b.p, needle));
  printf("checked: /api/stream?method=PUT delivered row %" PRId64 " recorded after "
         "connecting (without bodies) and not row %" PRId64 " (a GET)\n", wanted, skipped);
  close_stream(m, c, &b);

  /* after=ID: the rows since then at once, oldest first */
  memset(&b, 0, sizeof b);
  char path[64];
  snprintf(path, sizeof path, "/api/stream?after=%" PRId64, skipped - 2);
  open_stream(path, &m, &c, &b);
  snprintf(needle, sizeof needle, "id: %" PRId64 "\n", wanted);
  assert_true(wait_for(m, &b, needle, 10));
  char ids[3][32];
  for (int i = 0; i < 3; i++)
    snprintf(ids[i], sizeof ids[i], "id: %" PRId64 "\n", skipped - 1 + i);
  assert_non_null(strstr(b.p, ids[0]));
  assert_true(strstr(b.p, ids[0]) < strstr(b.p, ids[1]));
  assert_true(strstr(b.p, ids[1]) < strstr(b.p, ids[2]));
  printf("checked: /api/stream?after=%" PRId64 " sends the three newer rows at once, oldest "
         "first\n", skipped - 2);
  close_stream(m, c, &b);
}

/* Opens /api/stream and runs it until it is connected (200) or answered otherwise
 * (within 10 s); returns the status. The stream stays open: close_stream(). */
static long stream_status(CURLM **m, CURL **c, tw_membuf *b) {
  memset(b, 0, sizeof *b);
  open_stream("/api/stream", m, c, b);
  int connected = wait_for(*m, b, ": connected", 10);
  long code = 0;
  curl_easy_getinfo(*c, CURLINFO_RESPONSE_CODE, &code);
  return connected ? 200 : code;
}

/* stream_status() until a stream is connected (streams closed just before may take a
 * moment to be noticed gone), for about 15 s; returns the last status. */
static long stream_connect(CURLM **m, CURL **c, tw_membuf *b) {
  long code = 0;
  for (int tries = 0; tries < 20 && code != 200; tries++) {
    code = stream_status(m, c, b);
    if (code != 200) {
      close_stream(*m, *c, b);
      usleep(500 * 1000);
    }
  }
  return code;
}

/* Live streams have no timeout, so they have a cap of their own: 8 from one address
 * (API.md), then 503 JSON; a closed stream frees its place. */
static void test_stream_cap(void **state) {
  (void)state;
  enum { CAP = 8 };
  CURLM *m[CAP + 1];
  CURL *c[CAP + 1];
  tw_membuf b[CAP + 1];
  for (int i = 0; i < CAP; i++)
    assert_int_equal(stream_connect(&m[i], &c[i], &b[i]), 200);
  long code = stream_status(&m[CAP], &c[CAP], &b[CAP]);
  assert_int_equal(code, 503);
  char *type = NULL;
  curl_easy_getinfo(c[CAP], CURLINFO_CONTENT_TYPE, &type);
  assert_string_equal(type, "application/json");
  cJSON *j = cJSON_Parse(b[CAP].p);
  assert_non_null(j);
  const char *msg = tu_str(j, "message");
  assert_non_null(msg);
  assert_non_null(strstr(msg, "Too many live streams"));
  printf("checked: %d live streams from 127.0.0.1 connect; one more gets 503 %s\n", CAP, b[CAP].p);
  cJSON_Delete(j);
  close_stream(m[CAP], c[CAP], &b[CAP]);

  /* the page still loads meanwhile, and a closed stream frees its place */
  tw_reply res = tw_get("/api/requests?limit=1");
  assert_int_equal(res.status, 200);
  tw_resp_free(&res);
  close_stream(m[0], c[0], &b[0]);
  assert_int_equal(stream_connect(&m[0], &c[0], &b[0]), 200);
  printf("checked: GET /api/requests answers meanwhile; closing a stream lets a new one in\n");
  for (int i = 0; i < CAP; i++)
    close_stream(m[i], c[i], &b[i]);

  /* from another loopback address (its own count): HEAD /api/stream on CAP kept-alive
   * connections holds no stream's place once answered */
  char url[128];
  snprintf(url, sizeof url, "%s/api/stream", tw_e->url);
  CURL *head[CAP];
  for (int i = 0; i < CAP; i++) {
    head[i] = curl_easy_init();
    curl_easy_setopt(head[i], CURLOPT_URL, url);
    curl_easy_setopt(head[i], CURLOPT_INTERFACE, "127.0.0.2");
    curl_easy_setopt(head[i], CURLOPT_NOBODY, 1L);
    curl_easy_setopt(head[i], CURLOPT_TIMEOUT, 10L);
    assert_int_equal(curl_easy_perform(head[i]), CURLE_OK);
    long st = 0;
    curl_easy_getinfo(head[i], CURLINFO_RESPONSE_CODE, &st);
    assert_int_equal(st, 200);
  }
  memset(&b[0], 0, sizeof b[0]);
  open_stream_from("/api/stream", "127.0.0.2", &m[0], &c[0], &b[0]);
  int connected = wait_for(m[0], &b[0], ": connected", 10);
  if (!connected)
    fprintf(stderr, "stream from 127.0.0.2 after %d HEADs: %s\n", CAP, b[0].p ? b[0].p : "");
  assert_true(connected);
  close_stream(m[0], c[0], &b[0]);
  for (int i = 0; i < CAP; i++)
    curl_easy_cleanup(head[i]);
  printf("checked: %d answered HEAD /api/stream on kept-alive connections from 127.0.0.2 "
         "hold no place: a stream from there connects\n", CAP);
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_live_stream),
    cmocka_unit_test(test_stream_cap),
  };
  int rc = cmocka_run_group_tests(tests, tw_setup, tw_teardown);
  curl_global_cleanup();
  return rc;
}
