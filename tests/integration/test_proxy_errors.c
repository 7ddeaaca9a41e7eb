/* test_proxy_errors.c: `reqlog proxy` when something is wrong: bad options, an upstream
 * that cannot be reached, answers slowly or is refused, proxy variables that lead nowhere,
 * and requests whose framing is ambiguous (docs/design.md §6), sent as raw bytes. The
 * real binary in front of the tests' fake API on loopback, recording into real SQLite
 * files; the fixture is tests/lib/testproxy.c.
 *
 * Plan:
 *   usage          --help has an example; no --upstream, a bad URL or a non-loopback
 *                  --listen without --allow-remote exit 2 naming the problem; with
 *                  --allow-remote it starts with a warning; SIGINT and SIGTERM stop it
 *                  with exit 0 and nothing on stderr
 *   proxy env      http_proxy to a closed port: 502 and a recorded error; with no_proxy
 *                  naming the upstream, or no proxy variable: 200
 *   errors         unreachable upstream: 502 {"message":"Bad Gateway: ..."} and a row
 *                  with status null and the transport error; /slow beyond --timeout-ms:
 *                  504 JSON and a row with the timeout error; the default dashboard
 *                  address and a --refuse address: 508 JSON, nothing reaches the
 *                  upstream; an upstream that is the proxy's own listen address: exit 2
 *                  at start
 *   framing        raw bytes on a socket: a bare CR in a header value, two different
 *                  Content-Length values, obs-fold (last header or not), a method that
 *                  is not a token: 400; Transfer-Encoding gzip with a Content-Length: 501
 *                  at once (no wait for a body end that never comes); each closes the
 *                  connection, reaches nothing upstream and is recorded as a row with
 *                  the reason; the same Content-Length twice, a bare-LF head before a
 *                  body that begins with spaces, and bare-LF line ends with
 *                  trailing spaces pass
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "reqlog.h"
#include "testproxy.h"

static int free_port(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t l = sizeof a;
  assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(getsockname(s, (struct sockaddr *)&a, &l), 0);
  close(s);
  return ntohs(a.sin_port);
}

static void check_error_reply(const tp_output *o, const char *status_line, const char *prefix) {
  assert_true(strncmp(o->p, status_line, strlen(status_line)) == 0);
  char v[128];
  assert_string_equal(tp_block_header(o->p, "Content-Type", v, sizeof v), "application/json");
  const char *body = strstr(o->p, "\r\n\r\n");
  assert_non_null(body);
  cJSON *doc = cJSON_Parse(body + 4);
  assert_non_null(doc);
  const char *msg = tu_str(doc, "message");
  assert_non_null(msg);
  assert_true(strncmp(msg, prefix, strlen(prefix)) == 0);
  cJSON_Delete(doc);
}

/* ------------------------------------------------------------------ tests */

static void test_usage(void **state) {
  tp_env *e = *state;
  char *out = NULL, *err = NULL;
  const char *help[] = {"proxy", "--help", NULL};
  assert_int_equal(tu_run(help, NULL, NULL, &out, &err), 0);
  assert_non_null(strstr(out, "--upstream URL"));
  assert_non_null(strstr(out, "Example:"));
  assert_non_null(strstr(out, "--allow-remote"));
  free(out);
  free(err);
  printf("checked: proxy --help lists the options with an example\n");

  /* each: the options after `proxy`, then what stderr must say (up to two texts) */
  const struct {
    const char *args[6];
    const char *says[2];
  } bad[] = {
    {{NULL}, {"--upstream URL is required"}},
    {{"--upstream", "ftp://example.com/x"}, {"not an http or https URL"}},
    {{"--upstream", e->direct, "--listen", "localhost"}, {"not HOST:PORT"}},
    {{"--upstream", e->direct, "--listen", "0.0.0.0:0"},
     {"--listen 0.0.0.0:0 is not a loopback address", "--allow-remote"}},
    {{"--upstream", e->direct, "--threads", "0"}, {"--threads", "from 1 to 16"}},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const char *argv[10] = {"--db", e->db, "proxy"};
    for (int k = 0; bad[i].args[k]; k++)
      argv[3 + k] = bad[i].args[k];
    char label[256];
    tu_label_of(argv, label, sizeof label);
    tu_expect_exit(tu_run(argv, NULL, NULL, &out, &err), 2, label, err);
    for (int k = 0; k < 2 && bad[i].says[k]; k++)
      tu_expect_has(err, bad[i].says[k], label);
    assert_string_equal(out, "");
    tu_free2(&out, &err);
  }
  printf("checked: no --upstream, a non-http URL, a bad --listen, a non-loopback "
         "--listen without --allow-remote and --threads 0 exit 2 naming the problem\n");

  tp_proc p;
  const char *allow[] = {"--upstream", e->direct, "--listen", "0.0.0.0:0", "--allow-remote",
                         NULL};
  assert_int_equal(tp_start(e->dir, e->db, allow, &p), 0);
  assert_non_null(strstr(p.url, "http://0.0.0.0:"));
  assert_int_equal(tp_kill(&p, SIGINT), 0);
  char *perr = tu_read_file(p.err_path);
  assert_non_null(perr);
  assert_non_null(strstr(perr, "warning: listening on http://0.0.0.0:"));
  assert_non_null(strstr(perr, "which is not loopback"));
  free(perr);
  printf("checked: --allow-remote starts on 0.0.0.0 with a warning; SIGINT exits 0\n");
}

/* The upstream side honours the proxy variables the proxy started with: http_proxy to a
 * closed port makes the call fail (502, recorded), no_proxy naming the upstream lets it
 * through, and without the variables it goes direct. */
static void test_proxy_env(void **state) {
  tp_env *e = *state;
  static const char *const cases[][3] = {
    {"http_proxy=http://127.0.0.1:1", "no_proxy=", "502"},
    {"http_proxy=http://127.0.0.1:1", "no_proxy=127.0.0.1", "200"},
    {"http_proxy=", "no_proxy=", "200"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *extra[] = {cases[i][0], cases[i][1], "HTTP_PROXY=", "all_proxy=",
                           "ALL_PROXY=", "NO_PROXY=", NULL};
    const char *args[] = {"--upstream", e->direct, "--listen", "127.0.0.1:0", NULL};
    tp_proc px;
    assert_int_equal(tp_start_env(e->dir, e->db, args, extra, &px), 0);
    char url[300];
    snprintf(url, sizeof url, "%s/participants/1?t=penv%zu", px.url, i);
    const char *opts[] = {"-H", TP_AUTH, "-o", "/dev/null", "-w", "%{http_code}", NULL};
    tp_output o;
    assert_int_equal(tp_curl(url, opts, &o), 0);
    assert_string_equal(o.p, cases[i][2]);
    free(o.p);
    tp_stop(&px, SIGTERM);
    char mark[32];
    snprintf(mark, sizeof mark, "t=penv%zu", i);
    cJSON *row = tp_row_for(e->db, mark);
    if (strcmp(cases[i][2], "502") == 0) {
      assert_true(tu_is_null(row, "status"));
      assert_non_null(tu_str(row, "error"));
    } else {
      assert_int_equal((int)tu_num(row, "status"), 200);
    }
    cJSON_Delete(row);
  }
  printf("checked: with http_proxy naming a closed port the upstream call fails (502, "
         "recorded); no_proxy naming the upstream, or no proxy variable, reaches it (200)\n");
}

/* Starts a proxy with ARGS recording into DB, sends it `curl -i PATH` with the key, checks
 * that the answer is STATUS_LINE with a JSON message starting with PREFIX, and stops the
 * proxy (so its rows are written). *o gets the answer (free o->p). */
static void error_call(tp_env *e, const char *db, const char *const *args, const char *path,
                       const char *status_line, const char *prefix, tp_output *o) {
  tp_proc p;
  assert_int_equal(tp_start(e->dir, db, args, &p), 0);
  char url[300];
  snprintf(url, sizeof url, "%s%s", p.url, path);
  const char *inc[] = {"-i", "-H", TP_AUTH, NULL};
  assert_int_equal(tp_curl(url, inc, o), 0);
  check_error_reply(o, status_line, prefix);
  tp_stop(&p, SIGTERM);
}

static void test_errors(void **state) {
  tp_env *e = *state;
  char *db = tu_path(e->dir, "errors.db");
  char up[128];
  tp_output o;
  tp_proc p;

  /* unreachable upstream */
  snprintf(up, sizeof up, "http://127.0.0.1:%d/v1", free_port());
  const char *a1[] = {"--upstream", up, "--listen", "127.0.0.1:0", NULL};
  error_call(e, db, a1, "/participants?t=unreachable", "HTTP/1.1 502", "Bad Gateway: ", &o);
  assert_non_null(strstr(o.p, "Couldn't connect to server"));
  free(o.p);
  cJSON *row = tp_row_for(db, "t=unreachable");
  assert_true(tu_is_null(row, "status"));
  assert_non_null(strstr(tu_str(row, "error"), "Couldn't connect to server"));
  assert_string_equal(tu_str(row, "source"), "proxy");
  assert_string_equal(tu_str(row, "key"), e->fp);
  cJSON_Delete(row);
  printf("checked: an unreachable upstream gives 502 {\"message\":\"Bad Gateway: ...\"} and "
         "a row with status null and the transport error\n");

  /* a silent upstream */
  const char *a2[] = {"--upstream", e->direct, "--listen", "127.0.0.1:0", "--timeout-ms",
                      "300", NULL};
  error_call(e, db, a2, "/slow?ms=2500&t=timeout", "HTTP/1.1 504",
             "Gateway Timeout: Timeout was reached", &o);
  free(o.p);
  row = tp_row_for(db, "t=timeout");
  assert_true(tu_is_null(row, "status"));
  assert_non_null(strstr(tu_str(row, "error"), "Timeout was reached: no answer from the "
                                            "upstream within 300 ms"));
  assert_true(tu_num(row, "duration_ms") >= 300);
  cJSON_Delete(row);
  printf("checked: /slow beyond --timeout-ms 300 gives 504 JSON and a row with the "
         "timeout error\n");

  /* refused destinations: the default dashboard, --refuse, and the proxy itself */
  long hits = fakeapi_hits(e->api, NULL);
  const char *a3[] = {"--upstream", "http://localhost:8080/public/v1", "--listen",
                      "127.0.0.1:0", NULL};
  error_call(e, db, a3, "/participants?t=dashboard", "HTTP/1.1 508",
             "Loop Detected: refused to forward to ", &o);
  assert_non_null(strstr(o.p, ":8080: a reqlog dashboard listens there"));
  free(o.p);

  char refuse[64];
  snprintf(refuse, sizeof refuse, "127.0.0.1:%d", fakeapi_port(e->api));
  const char *a4[] = {"--upstream", e->direct, "--listen", "127.0.0.1:0", "--refuse", refuse,
                      NULL};
  error_call(e, db, a4, "/participants?t=refused", "HTTP/1.1 508",
             "Loop Detected: refused to forward to 127.0.0.1:", &o);
  free(o.p);
  row = tp_row_for(db, "t=refused");
  assert_true(tu_is_null(row, "status"));
  assert_non_null(strstr(tu_str(row, "error"), "a reqlog dashboard listens there"));
  cJSON_Delete(row);

  assert_int_equal(fakeapi_hits(e->api, NULL), hits);

  /* the proxy's own address as upstream: refused at start, not a 508 for every call */
  int port = free_port();
  char listen[64];
  snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
  const char *hosts[] = {"127.0.0.1", "localhost"};
  for (int i = 0; i < 2; i++) {
    snprintf(up, sizeof up, "http://%s:%d/v1", hosts[i], port);
    const char *a5[] = {"--upstream", up, "--listen", listen, NULL};
    assert_int_equal(tp_start(e->dir, db, a5, &p), 2);
    char *err = tu_read_file(p.err_path);
    assert_non_null(err);
    if (!strstr(err, "is this proxy's own listen address"))
      fprintf(stderr, "stderr: %s\n", err);
    assert_non_null(strstr(err, "is this proxy's own listen address"));
    free(err);
  }
  printf("checked: the default dashboard address (localhost:8080) and a --refuse address "
         "get 508 JSON, nothing reached the upstream; the proxy's own listen address as "
         "upstream (127.0.0.1 or localhost) exits 2 at start\n");
  free(db);
}

/* ------------------------------------------------------------------ raw requests */

/* Sends REQ (LEN bytes) to the proxy at URL (http://127.0.0.1:PORT) on a new connection
 * and reads what comes back until the proxy closes it (at most 20 s: a request the proxy
 * waits on for ever gets nothing). */
static void raw_exchange(const char *url, const char *req, size_t len, tp_output *out) {
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((uint16_t)atoi(strrchr(url, ':') + 1));
  int s = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(s >= 0);
  assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(write(s, req, len), (ssize_t)len);
  memset(out, 0, sizeof *out);
  tp_out_append(out, "", 0);
  struct pollfd pf = {s, POLLIN, 0};
  char buf[4096];
  while (poll(&pf, 1, 20000) > 0) {
    ssize_t n = read(s, buf, sizeof buf);
    if (n <= 0)
      break;
    tp_out_append(out, buf, (size_t)n);
  }
  close(s);
}

typedef struct framing_case {
  const char *mark;     /* in the request's query, so in the row's URL */
  const char *method;
  const char *path;
  const char *head;     /* header lines after Host and Authorization, then the body */
  const char *status;   /* the proxy's status line */
  const char *why;      /* in the answer and the row's error */
} framing_case;

/* Sends the N bytes of REQ (marked MARK) to the proxy at URL: it must be forwarded and
 * answered 200, with WANT (may be NULL) in the answer. */
static void expect_forwarded(const char *url, const char *mark, const char *req, int n,
                             const char *want) {
  tp_output o;
  raw_exchange(url, req, (size_t)n, &o);
  if (strncmp(o.p, "HTTP/1.1 200", 12) != 0)
    fprintf(stderr, "%s: got '%s'\n", mark, o.p);
  assert_true(strncmp(o.p, "HTTP/1.1 200", 12) == 0);
  if (want)
    assert_non_null(strstr(o.p, want));
  free(o.p);
}

static void test_framing(void **state) {
  tp_env *e = *state;
  char *db = tu_path(e->dir, "framing.db");
  tp_proc p;
  const char *args[] = {"--upstream", e->direct, "--listen", "127.0.0.1:0", NULL};
  assert_int_equal(tp_start(e->dir, db, args, &p), 0);
  static const framing_case cases[] = {
    {"f_cr", "GET", "/participants", "X-A: a\rb\r\n\r\n", "HTTP/1.1 400", "bare CR"},
    {"f_cl", "POST", "/echo", "Content-Length: 3\r\nContent-Length: 5\r\n\r\nabcde",
     "HTTP/1.1 400", "Content-Length"},
    {"f_te", "POST", "/echo", "Transfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc",
     "HTTP/1.1 501", "transfer coding"},
    {"f_fold", "GET", "/participants", "X-A: a\r\n b\r\n\r\n", "HTTP/1.1 400", "obs-fold"},
    {"f_fold2", "GET", "/participants", "X-A: a\r\n\tmore words here\r\nX-B: c\r\n\r\n",
     "HTTP/1.1 400", "obs-fold"},
    /* bare LF, folded last line: the head ends 2 bytes after the continuation's text */
    {"f_foldlf", "GET", "/participants", "X-A: a\n b\n\n", "HTTP/1.1 400", "obs-fold"},
    {"f_method", "GET;touch${IFS}x;", "/participants", "\r\n", "HTTP/1.1 400", "method"},
  };
  long hits = fakeapi_hits(e->api, NULL);
  char req[1024];
  tp_output o;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const framing_case *c = &cases[i];
    int n = snprintf(req, sizeof req, "%s %s?t=%s HTTP/1.1\r\nHost: x\r\n%s\r\n%s", c->method,
                     c->path, c->mark, TP_AUTH, c->head);
    raw_exchange(p.url, req, (size_t)n, &o);
    if (strncmp(o.p, c->status, strlen(c->status)) != 0 || !strstr(o.p, c->why))
      fprintf(stderr, "%s: got '%s'\n", c->mark, o.p);
    assert_true(strncmp(o.p, c->status, strlen(c->status)) == 0);
    assert_non_null(strstr(o.p, c->why));
    char v[64];
    assert_string_equal(tp_block_header(o.p, "Connection", v, sizeof v), "close");
    free(o.p);
    cJSON *row = tp_row_for(db, c->mark);
    assert_true(tu_is_null(row, "status"));
    const char *err = tu_str(row, "error");
    assert_non_null(err);
    assert_true(strncmp(err, "refused: ", 9) == 0);
    assert_non_null(strstr(err, c->why));
    assert_string_equal(tu_str(row, "method"), c->method);
    assert_string_equal(tu_str(row, "key"), e->fp);
    cJSON_Delete(row);
  }
  assert_int_equal(fakeapi_hits(e->api, NULL), hits);
  printf("checked: a bare CR in a value, two Content-Length values, obs-fold (last header "
         "or not) and a method that is not a token get 400, Transfer-Encoding gzip 501; "
         "each closes the connection, is recorded with its reason, reaches nothing\n");

  /* what is allowed: the same Content-Length twice; bare LF line ends, trailing spaces */
  int n = snprintf(req, sizeof req, "POST /echo?t=f_samecl HTTP/1.1\r\nHost: x\r\n%s\r\n"
                   "Content-Length: 3\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
                   TP_AUTH);
  expect_forwarded(p.url, "f_samecl", req, n, "\"body\":\"abc\"");
  n = snprintf(req, sizeof req, "GET /participants?t=f_lf HTTP/1.1\nHost: x\n%s\n"
               "X-A: a b  \nConnection: close\n\n", TP_AUTH);
  expect_forwarded(p.url, "f_lf", req, n, NULL);
  cJSON *row = tp_row_for(db, "t=f_lf");
  assert_int_equal((int)tu_num(row, "status"), 200);
  cJSON_Delete(row);
  /* bare LF line ends and a body that begins with a space: the bytes after the head's
   * last line are the body's, not a folded line (they were read as one: 400) */
  n = snprintf(req, sizeof req, "POST /echo?t=f_lfbody HTTP/1.1\nHost: x\n%s\n"
               "Content-Length: 5\nConnection: close\n\n  abc", TP_AUTH);
  expect_forwarded(p.url, "f_lfbody", req, n, "\"body\":\"  abc\"");
  tp_stop(&p, SIGTERM);
  printf("checked: the same Content-Length twice, and bare LF line ends with trailing "
         "spaces in a value, or before a body that begins with spaces, are forwarded "
         "(200)\n");
  free(db);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_usage),
    cmocka_unit_test(test_proxy_env),
    cmocka_unit_test(test_errors),
    cmocka_unit_test(test_framing),
  };
  return tp_main("proxy_errors", tests, sizeof tests / sizeof tests[0]);
}
