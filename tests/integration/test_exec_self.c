/* test_exec_self.c: `reqlog exec` tracing this test binary itself, run again in a mode
 * of its own (main's --wire-client and --libcurl-client): as an ordinary threaded libcurl
 * application, and as a process speaking the shim's wire protocol by hand. The fixture:
 * testexec.h.
 *
 * Plan:
 *   libcurl program   this binary as a threaded libcurl application: its own debug
 *                     callbacks (also on a duphandle copy, gone after reset) and its
 *                     CURLOPT_STDERR get what they get without exec; multi interface
 *   wire              a traced process speaking the protocol by hand: frames split into
 *                     single bytes, another version, garbage, a malformed record, an
 *                     unknown message type and field, a frame cut short; good records
 *                     are stored (redacted, source exec), the rest reported once each
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reqlog.h"
#include "capture/record.h"
#include "exec/shim_wire.h"
#include "testexec.h"

/* ------------------------------------------------------------------ the wire */

/* Sends LEN bytes one at a time, so the parent's reads see every possible split. Stops
 * quietly when the parent hangs up (it does, on what it rejects). */
static void send_slowly(int fd, const unsigned char *p, size_t len) {
  for (size_t i = 0; i < len; i++) {
    if (write(fd, p + i, 1) != 1)
      return;
    if (i % 64 == 0)
      usleep(200);
  }
}

static int connect_parent(void) {
  const char *path = getenv(WIRE_ENV_SOCKET);
  if (!path)
    exit(90);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a = {0};
  a.sun_family = AF_UNIX;
  snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
    exit(91);
  return fd;
}

/* A record frame for URL, with an Authorization header in its request head. */
static unsigned char *frame_for(const char *url, size_t *len) {
  record *rec = record_new(1 << 20);
  rec->method = strdup("GET");
  rec->url = strdup(url);
  char head[512];
  snprintf(head, sizeof head, "GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n",
           FAKEAPI_KEY);
  rec->req_head = strdup(head);
  rec->req_head_len = strlen(head);
  rec->status = 200;
  rec->started_us = tu_now_us();
  rec->total_us = 1000;
  capbuf_append(&rec->resp_body, "{\"ok\":true}", 11);
  memcpy(rec->source, "library", 8); /* the parent decides: these rows are exec's */
  unsigned char *frame = NULL;
  if (wire_encode_record(rec, &frame, len) != 0)
    exit(92);
  record_free(rec);
  return frame;
}

/* The traced program of test_wire: this binary run by `reqlog exec`, talking to the
 * parent by hand. Exits 0 when everything was sent. */
static int wire_client(void) {
  signal(SIGPIPE, SIG_IGN);
  size_t n;
  /* 1: a good record, one byte per write */
  unsigned char *f = frame_for("http://wire.test/one", &n);
  int fd = connect_parent();
  send_slowly(fd, f, n);
  free(f);
  /* 2: a frame of another version: that connection is dropped */
  f = frame_for("http://wire.test/version", &n);
  f[4] = 2;
  int v = connect_parent();
  send_slowly(v, f, n);
  free(f);
  /* 3: not the protocol at all */
  int g = connect_parent();
  send_slowly(g, (const unsigned char *)"GET / HTTP/1.1\r\n\r\n", 18);
  /* 4: a well-framed but malformed record (a field overruns), then a good one on the
   * same connection: frames stay in step */
  unsigned char bad[WIRE_HEADER_LEN + 6] = {'R', 'Q', 'L', 'W', 1, 0, WIRE_MSG_RECORD, 0, 6, 0,
                                            0, 0, 2, 0, 0xff, 0, 0, 0};
  send_slowly(fd, bad, sizeof bad);
  f = frame_for("http://wire.test/two", &n);
  send_slowly(fd, f, n);
  free(f);
  /* 5: a message type from a newer shim, then a record with a field from one */
  unsigned char other[WIRE_HEADER_LEN + 3] = {'R', 'Q', 'L', 'W', 1, 0, 99, 0, 3, 0, 0, 0,
                                              'a', 'b', 'c'};
  send_slowly(fd, other, sizeof other);
  f = frame_for("http://wire.test/three", &n);
  f = realloc(f, n + 9);
  unsigned char extra[9] = {0xe7, 0x03, 3, 0, 0, 0, 'x', 'y', 'z'}; /* tag 999 */
  memcpy(f + n, extra, sizeof extra);
  uint32_t plen = (uint32_t)(n + 9 - WIRE_HEADER_LEN);
  for (int i = 0; i < 4; i++)
    f[8 + i] = (unsigned char)(plen >> (8 * i));
  send_slowly(fd, f, n + 9);
  free(f);
  /* 6: a frame cut short by the sender's exit */
  int cut = connect_parent();
  f = frame_for("http://wire.test/cut", &n);
  send_slowly(cut, f, n / 2);
  free(f);
  return 0;
}

static void test_wire(void **state) {
  (void)state;
  char *db = te_new_db(), asan[1024];
  const char *asan_opts = getenv("ASAN_OPTIONS");
  /* this test binary may be ASan-built; the shim is preloaded into it */
  snprintf(asan, sizeof asan, "ASAN_OPTIONS=%s%sverify_asan_link_order=0:detect_leaks=0",
           asan_opts ? asan_opts : "", asan_opts && *asan_opts ? ":" : "");
  const char *env[] = {asan, NULL};
  const char *argv[] = {TE->self, "--wire-client", NULL};
  char *out, *err;
  assert_int_equal(te_run_exec(db, argv, NULL, env, &out, &err), 0);
  cJSON *rows = te_rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), 3);
  const char *want[] = {"http://wire.test/one", "http://wire.test/two",
                        "http://wire.test/three"};
  for (int i = 0; i < 3; i++) {
    cJSON *row = cJSON_GetArrayItem(rows, i);
    assert_string_equal(tu_str(row, "url"), want[i]);
    assert_string_equal(tu_str(row, "key"), TE->fp);
    assert_string_equal(tu_str(row, "response_body"), "{\"ok\":true}");
  }
  te_assert_clean(db, rows);
  assert_true(strstr(err, "wire version 2") != NULL);
  assert_true(strstr(err, "not a record") != NULL);
  assert_true(strstr(err, "malformed record") != NULL);
  assert_true(strstr(err, "mid-record") != NULL);
  printf("checked: records written one byte at a time arrive whole; another version, "
         "garbage, a malformed record and a frame cut short are each reported once "
         "and dropped; an unknown message type and field are skipped; 3 rows, source "
         "exec (not the 'library' sent), key fingerprinted; stderr:\n%s", err);
  cJSON_Delete(rows);
  free(out);
  free(err);
  free(db);
}

/* ------------------------------------------------------------------ a libcurl program */

/* What a program's own debug callback saw. */
typedef struct seen {
  size_t head_out, data_in;
  int text;
} seen;

static int count_debug(CURL *h, curl_infotype type, char *data, size_t size, void *arg) {
  (void)h;
  (void)data;
  seen *s = arg;
  if (type == CURLINFO_HEADER_OUT)
    s->head_out += size;
  else if (type == CURLINFO_DATA_IN)
    s->data_in += size;
  else if (type == CURLINFO_TEXT)
    s->text = 1;
  return 0;
}

static size_t count_body(char *p, size_t size, size_t n, void *arg) {
  (void)p;
  *(size_t *)arg += size * n;
  return size * n;
}

typedef struct job {
  const char *base, *auth;
  int id;
  char report[400];
} job;

static CURL *client_handle(const char *url, struct curl_slist *h, size_t *body) {
  CURL *c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, count_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
  return c;
}

/* One thread: a perform with the program's own debug callback, one on a duplicate of
 * that handle (which inherits it), and one after curl_easy_reset (which drops it). */
static void *client_thread(void *arg) {
  job *j = arg;
  char url[300];
  snprintf(url, sizeof url, "%s/participants/%d", j->base, j->id);
  struct curl_slist *h = curl_slist_append(NULL, j->auth);
  seen d1 = {0}, d2 = {0};
  size_t b1 = 0, b2 = 0, b3 = 0;
  CURL *c = client_handle(url, h, &b1);
  curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, count_debug);
  curl_easy_setopt(c, CURLOPT_DEBUGDATA, &d1);
  curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
  CURLcode r1 = curl_easy_perform(c);
  CURL *dup = curl_easy_duphandle(c);
  curl_easy_setopt(dup, CURLOPT_DEBUGDATA, &d2);
  curl_easy_setopt(dup, CURLOPT_WRITEDATA, &b2);
  CURLcode r2 = curl_easy_perform(dup);
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, count_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b3);
  CURLcode r3 = curl_easy_perform(c);
  snprintf(j->report, sizeof j->report,
           "thread %d: results %d %d %d, bodies %zu %zu %zu; own debug: %zu header bytes "
           "out, %zu body bytes in, text %d; on the copy: %zu, %zu, %d\n",
           j->id, r1, r2, r3, b1, b2, b3, d1.head_out, d1.data_in, d1.text, d2.head_out,
           d2.data_in, d2.text);
  curl_easy_cleanup(dup);
  curl_easy_cleanup(c);
  curl_slist_free_all(h);
  return NULL;
}

/* The traced program of test_libcurl_program: this binary as an ordinary libcurl
 * application (threads, debug callbacks, duphandle, reset, VERBOSE into its own
 * CURLOPT_STDERR, a multi handle). Prints what it saw; exits 0. */
static int libcurl_client(const char *base, const char *auth, const char *errfile) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  enum { T = 4 };
  job jobs[T];
  pthread_t th[T];
  for (int i = 0; i < T; i++) {
    jobs[i] = (job){base, auth, i + 1, ""};
    pthread_create(&th[i], NULL, client_thread, &jobs[i]);
  }
  for (int i = 0; i < T; i++) {
    pthread_join(th[i], NULL);
    fputs(jobs[i].report, stdout);
  }

  /* VERBOSE without a debug callback: libcurl's own text, into the program's stream */
  char url[300];
  snprintf(url, sizeof url, "%s/participants/5", base);
  struct curl_slist *h = curl_slist_append(NULL, auth);
  FILE *err = fopen(errfile, "w");
  size_t body = 0;
  CURL *c = client_handle(url, h, &body);
  curl_easy_setopt(c, CURLOPT_STDERR, err);
  curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
  CURLcode rc = curl_easy_perform(c);
  curl_easy_cleanup(c);
  fclose(err);
  printf("verbose into CURLOPT_STDERR: result %d, body %zu\n", rc, body);

  /* the multi interface, one transfer with the program's own debug callback */
  CURLM *m = curl_multi_init();
  CURL *e[3];
  size_t bodies[3] = {0};
  seen d = {0};
  for (int i = 0; i < 3; i++) {
    snprintf(url, sizeof url, "%s/participants/%d", base, i + 1);
    e[i] = client_handle(url, h, &bodies[i]);
    if (i == 0) {
      curl_easy_setopt(e[i], CURLOPT_DEBUGFUNCTION, count_debug);
      curl_easy_setopt(e[i], CURLOPT_DEBUGDATA, &d);
      curl_easy_setopt(e[i], CURLOPT_VERBOSE, 1L);
    }
    curl_multi_add_handle(m, e[i]);
  }
  int running = 1, done = 0;
  while (running) {
    curl_multi_perform(m, &running);
    int left = 0;
    for (CURLMsg *msg = curl_multi_info_read(m, &left); msg;
         msg = curl_multi_info_read(m, &left))
      done += msg->msg == CURLMSG_DONE && msg->data.result == CURLE_OK;
    if (running)
      curl_multi_poll(m, NULL, 0, 1000, NULL);
  }
  for (int i = 0; i < 3; i++) {
    curl_multi_remove_handle(m, e[i]);
    curl_easy_cleanup(e[i]);
  }
  curl_multi_cleanup(m);
  curl_slist_free_all(h);
  printf("multi: %d done, bodies %zu %zu %zu; own debug: %zu, %zu, %d\n", done, bodies[0],
         bodies[1], bodies[2], d.head_out, d.data_in, d.text);
  curl_global_cleanup();
  return 0;
}

static void test_libcurl_program(void **state) {
  (void)state;
  char *db = te_new_db(), asan[1024];
  char *err1 = tu_path(TE->dir, "verbose1.txt"), *err2 = tu_path(TE->dir, "verbose2.txt");
  const char *asan_opts = getenv("ASAN_OPTIONS");
  snprintf(asan, sizeof asan, "ASAN_OPTIONS=%s%sverify_asan_link_order=0",
           asan_opts ? asan_opts : "", asan_opts && *asan_opts ? ":" : "");
  const char *env[] = {asan, NULL};
  const char *plain[] = {TE->self, "--libcurl-client", TE->base, TE->auth, err1, NULL};
  const char *traced[] = {TE->self, "--libcurl-client", TE->base, TE->auth, err2, NULL};
  char *o1, *o2;
  assert_int_equal(te_run_plain(plain, NULL, NULL, &o1, NULL), 0);
  assert_int_equal(te_run_exec(db, traced, NULL, env, &o2, NULL), 0);
  assert_string_equal(o1, o2);
  assert_true(strstr(o2, "multi: 3 done") != NULL);
  char *v1 = tu_slurp(err1, NULL), *v2 = tu_slurp(err2, NULL);
  char *req1 = te_lines_with(v1, "> "), *req2 = te_lines_with(v2, "> ");
  assert_true(strlen(req1) > 0);
  assert_string_equal(req1, req2);
  cJSON *rows = te_rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), 4 * 3 + 1 + 3);
  const cJSON *row;
  cJSON_ArrayForEach(row, rows) {
    assert_int_equal((int)tu_num(row, "status"), 200);
    assert_string_equal(tu_str(row, "key"), TE->fp);
  }
  te_assert_clean(db, rows);
  printf("checked: a threaded libcurl program (4 threads x perform, duphandle, reset; "
         "VERBOSE into its CURLOPT_STDERR; a multi handle) prints the same with and "
         "without exec: its debug callbacks saw the same bytes, libcurl's own verbose text "
         "went to its stream; all 16 transfers are rows:\n%s", o2);
  cJSON_Delete(rows);
  free(req1);
  free(req2);
  free(v1);
  free(v2);
  free(err1);
  free(err2);
  free(o1);
  free(o2);
  free(db);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--wire-client") == 0)
    return wire_client();
  if (argc == 5 && strcmp(argv[1], "--libcurl-client") == 0)
    return libcurl_client(argv[2], argv[3], argv[4]);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_libcurl_program),
    cmocka_unit_test(test_wire),
  };
  return cmocka_run_group_tests(tests, te_setup, te_teardown);
}
