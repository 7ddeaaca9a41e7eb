/* test_web_limits.c: clients that misbehave do not stop the dashboard server: raw
 * garbage on the socket, and slow clients trickling request heads at `reqlog serve`
 * (tests/lib/testweb.h is the fixture).
 *
 * Plan:
 *   garbage              raw garbage (huge query, no Host, odd methods, %00, thousands
 *                        of parameters) never stops the server
 *   slow clients         72 connections of `reqlog serve` trickling request heads (and
 *                        reconnecting) do not keep GET / and /api/requests from answering;
 *                        a head that never ends is closed by the server
 *   kept-alive clients   32 connections of one client (a browser's tabs, `wrk -c32`)
 *                        opened at once, then three rounds of GET / on each: every
 *                        answer comes on the connection it was asked on (the server
 *                        closes none of them to make room: with 16 allowed to wait per
 *                        address it cut the oldest and the client reconnected forever)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <inttypes.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reqlog.h"
#include "reqlog_web.h"
#include "testutil.h"
#include "testweb.h"


/* Sends RAW on a fresh connection; returns the status of the answer, or 0 when the
 * server closed without one. */
static int raw_request(const char *raw, size_t len) {
  int fd = tw_connect_local(tw_e->port);
  assert_true(fd >= 0);
  struct timeval tv = {5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  size_t off = 0;
  while (off < len) {
    ssize_t n = send(fd, raw + off, len - off, MSG_NOSIGNAL);
    if (n <= 0)
      break;
    off += (size_t)n;
  }
  char buf[64] = "";
  ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
  close(fd);
  int status = 0;
  if (n > 12)
    sscanf(buf, "HTTP/1.%*d %d", &status);
  return status;
}

static void test_garbage_never_crashes(void **state) {
  (void)state;
  char host[64];
  snprintf(host, sizeof host, "Host: 127.0.0.1:%d\r\n", tw_e->port);
  size_t big = 300 * 1024;
  char *raw = malloc(big + 256);
  /* a query string far past the connection's memory */
  int n = snprintf(raw, 64, "GET /api/requests?q=");
  memset(raw + n, 'a', big);
  snprintf(raw + n + big, 200, " HTTP/1.1\r\n%s\r\n", host);
  int st = raw_request(raw, strlen(raw));
  assert_true(st == 0 || st >= 400);
  printf("checked: a 300 KB query string: %d, connection memory stays bounded\n", st);
  /* thousands of parameters */
  n = snprintf(raw, 64, "GET /api/requests?");
  for (int i = 0; i < 5000; i++)
    n += snprintf(raw + n, 32, "p%d=1&", i);
  snprintf(raw + n, 200, " HTTP/1.1\r\n%s\r\n", host);
  st = raw_request(raw, strlen(raw));
  assert_true(st == 400 || st == 414 || st == 431 || st == 0);
  printf("checked: 5000 unknown parameters: %d\n", st);
  free(raw);

  char req[512];
  static const char *const lines[] = {
    "GET /api/stats HTTP/1.0\r\n\r\n",   /* no Host */
    "BREW /api/stats HTTP/1.1\r\n%s\r\n",
    "GET /api/requests/%%00 HTTP/1.1\r\n%s\r\n",
    "GET /api/requests?status=%%ff%%fe HTTP/1.1\r\n%s\r\n",
    "GET /api/requests?q=%%00%%00&method=%%0d%%0a HTTP/1.1\r\n%s\r\n",
    "GET /static/%%2e%%2e/%%2e%%2e/etc/passwd HTTP/1.1\r\n%s\r\n",
    "GET /api/requests/18446744073709551616 HTTP/1.1\r\n%s\r\n",
    "GET /api/export?format=csv&format=ndjson HTTP/1.1\r\n%s\r\n",
    "POST /api/requests/1/replay HTTP/1.1\r\n%sContent-Length: 99999999999999999999\r\n\r\n",
    "GET /api/stream?after=99999999999999 HTTP/1.0\r\n%s\r\n",
    "this is not http\r\n\r\n",
    "GET\r\n\r\n",
  };
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    snprintf(req, sizeof req, lines[i], host);
    if (strstr(req, "/api/stream")) { /* an idle stream: just connect and leave */
      int fd = tw_connect_local(tw_e->port);
      assert_true(fd >= 0);
      assert_true(send(fd, req, strlen(req), MSG_NOSIGNAL) > 0);
      char buf[64];
      assert_true(recv(fd, buf, sizeof buf, 0) > 0);
      close(fd);
      continue;
    }
    st = raw_request(req, strlen(req));
    assert_true(st == 0 || st >= 400);
  }
  tw_reply res = tw_get("/api/stats");
  assert_int_equal(res.status, 200);
  tw_resp_free(&res);
  printf("checked: %zu malformed requests (no Host, odd methods, %%00, bad UTF-8, huge ids and "
         "lengths, not HTTP) answered with errors; the server still answers\n",
         sizeof lines / sizeof lines[0]);
}

/* ------------------------------------------------------------------ slow clients */

/* `reqlog --db DB serve --listen 127.0.0.1:0` (the binary under test) as a child. */
typedef struct serve_proc {
  pid_t pid;
  FILE *out;   /* its stdout, open until it stops */
  int port;
  char url[64];
} serve_proc;

/* The running child, for the teardown to stop when a failed assertion left it. */
static pid_t serve_child;

static int kill_serve(void **state) {
  (void)state;
  if (serve_child > 0) {
    kill(serve_child, SIGKILL);
    waitpid(serve_child, NULL, 0);
    serve_child = 0;
  }
  return 0;
}

static void serve_start(const char *db, serve_proc *p) {
  int o[2];
  assert_int_equal(pipe(o), 0);
  p->pid = fork();
  assert_true(p->pid >= 0);
  if (p->pid == 0) {
    dup2(o[1], 1);
    close(o[0]);
    close(o[1]);
    const char *b = getenv("REQLOG_TEST_BIN");
    if (!b || !*b)
      b = "build/reqlog";
    execl(b, b, "--db", db, "serve", "--listen", "127.0.0.1:0", (char *)NULL);
    fprintf(stderr, "exec %s: %s\n", b, strerror(errno));
    _exit(127);
  }
  close(o[1]);
  serve_child = p->pid;
  p->out = fdopen(o[0], "r");
  char line[256] = "";
  assert_non_null(fgets(line, sizeof line, p->out));
  p->port = 0;
  assert_int_equal(sscanf(line, "serving http://127.0.0.1:%d", &p->port), 1);
  snprintf(p->url, sizeof p->url, "http://127.0.0.1:%d", p->port);
}

/* SIGTERM; the server must stop cleanly (exit 0). */
static void serve_stop(serve_proc *p) {
  kill(p->pid, SIGTERM);
  int status = 0;
  while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
    ;
  serve_child = 0;
  fclose(p->out);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

enum { TRICKLERS = 72, TRICKLE_MS = 500 }; /* more than the server lets one address open */

/* Connections that send one byte of a request head every TRICKLE_MS and never end it:
 * "GET / HTTP/1.1\r\nHost: ...\r\nX-Slow: aaaa...". One the server closes is opened again
 * when RECONNECT is set, as a client bent on holding the server would. */
typedef struct trickle {
  int port, n, reconnect;
  char head[96];
  int fd[TRICKLERS];
  size_t sent[TRICKLERS];
  int64_t opened_ms[TRICKLERS];
  pthread_mutex_t lock;   /* guards what follows, for the thread of trickle_run */
  int stop;
  int open_now;           /* connections open after the last round */
  int closed;             /* connections the server closed */
  int64_t longest_ms;     /* the longest one lived before the server closed it */
} trickle;

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void trickle_open(trickle *t, int i) {
  t->fd[i] = tw_connect_local(t->port);
  t->sent[i] = 0;
  t->opened_ms[i] = mono_ms();
}

static void trickle_init(trickle *t, int port, int n, int reconnect) {
  memset(t, 0, sizeof *t);
  t->port = port;
  t->n = n;
  t->reconnect = reconnect;
  snprintf(t->head, sizeof t->head, "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Slow: ", port);
  pthread_mutex_init(&t->lock, NULL);
  for (int i = 0; i < n; i++)
    trickle_open(t, i);
}

/* One byte on every open connection; a connection the server closed (or answered) is
 * counted, and opened again when RECONNECT is set. */
static void trickle_round(trickle *t) {
  int open_now = 0;
  for (int i = 0; i < t->n; i++) {
    if (t->fd[i] < 0) {
      if (t->reconnect)
        trickle_open(t, i);
      continue;
    }
    size_t hl = strlen(t->head);
    char byte = t->sent[i] < hl ? t->head[t->sent[i]] : 'a';
    int gone = send(t->fd[i], &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1 && errno != EAGAIN;
    t->sent[i]++;
    char buf[256];
    ssize_t r = recv(t->fd[i], buf, sizeof buf, MSG_DONTWAIT);
    gone = gone || r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
    if (gone) {
      int64_t lived = mono_ms() - t->opened_ms[i];
      close(t->fd[i]);
      t->fd[i] = -1;
      pthread_mutex_lock(&t->lock);
      t->closed++;
      if (lived > t->longest_ms)
        t->longest_ms = lived;
      pthread_mutex_unlock(&t->lock);
      if (t->reconnect)
        trickle_open(t, i);
    }
    open_now += t->fd[i] >= 0;
  }
  pthread_mutex_lock(&t->lock);
  t->open_now = open_now;
  pthread_mutex_unlock(&t->lock);
}

static int trickle_stopped(trickle *t) {
  pthread_mutex_lock(&t->lock);
  int stop = t->stop;
  pthread_mutex_unlock(&t->lock);
  return stop;
}

static void *trickle_run(void *arg) {
  trickle *t = arg;
  while (!trickle_stopped(t)) {
    trickle_round(t);
    usleep(TRICKLE_MS * 1000);
  }
  return NULL;
}

static void trickle_free(trickle *t) {
  for (int i = 0; i < t->n; i++)
    if (t->fd[i] >= 0)
      close(t->fd[i]);
  pthread_mutex_destroy(&t->lock);
}

/* GET BASE+PATH until it answers 200, for at most SECONDS; returns the status last seen
 * (0: no answer at all). */
static long get_within(const char *base, const char *path, int seconds) {
  int64_t end = mono_ms() + seconds * 1000L;
  long status = 0;
  while (status != 200 && mono_ms() < end) {
    tw_reply r;
    if (tw_http_try(base, "GET", path, NULL, NULL, 0, 5L, &r) == CURLE_OK)
      status = r.status;
    tw_resp_free(&r);
    if (status != 200)
      usleep(200 * 1000);
  }
  return status;
}

/* 72 connections from this process trickling request heads must not keep the page
 * from loading, and a head that never ends is dropped by the server. */
static void test_trickling_clients(void **state) {
  (void)state;
  serve_proc srv;
  serve_start(tw_e->db, &srv);

  trickle *t = calloc(1, sizeof *t);
  trickle_init(t, srv.port, TRICKLERS, 1);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, trickle_run, t), 0);
  /* let the trickle take hold: a few rounds on every connection */
  usleep(3 * TRICKLE_MS * 1000);
  int64_t t0 = mono_ms();
  long page = get_within(srv.url, "/", 30);
  long list = get_within(srv.url, "/api/requests?limit=5", 30);
  int64_t took = mono_ms() - t0;
  pthread_mutex_lock(&t->lock);
  int open_now = t->open_now;
  pthread_mutex_unlock(&t->lock);
  pthread_mutex_lock(&t->lock);
  t->stop = 1;
  pthread_mutex_unlock(&t->lock);
  pthread_join(th, NULL);
  if (page != 200 || list != 200)
    fprintf(stderr, "with %d trickling connections: GET / %ld, GET /api/requests %ld\n",
            TRICKLERS, page, list);
  assert_int_equal(page, 200);
  assert_int_equal(list, 200);
  assert_true(open_now > 0); /* the trickle was still going */
  printf("checked: with %d connections trickling a byte every %d ms (%d open at the end, "
         "reconnecting when dropped), GET / and GET /api/requests answered 200 in %lld ms\n",
         TRICKLERS, TRICKLE_MS, open_now, (long long)took);
  trickle_free(t);

  /* one alone: its head never ends, so the server closes it (bound: 25 s) */
  trickle_init(t, srv.port, 1, 0);
  assert_true(t->fd[0] >= 0);
  int64_t end = mono_ms() + 25000;
  while (t->fd[0] >= 0 && mono_ms() < end) {
    trickle_round(t);
    usleep(TRICKLE_MS * 1000);
  }
  if (t->closed != 1)
    fprintf(stderr, "a trickling connection was still open after 25 s\n");
  assert_int_equal(t->closed, 1);
  printf("checked: a lone connection trickling its head was closed by the server after "
         "%lld ms\n", (long long)t->longest_ms);
  trickle_free(t);
  free(t);
  serve_stop(&srv);
}

enum { KEPT_ALIVE = 32 };

/* Reads one answer on FD: its status, 0 when the connection ended or failed first. */
static int read_answer(int fd) {
  char buf[8192];
  size_t have = 0;
  for (;;) {
    ssize_t n = recv(fd, buf + have, sizeof buf - 1 - have, 0);
    if (n <= 0)
      return 0;
    have += (size_t)n;
    buf[have] = '\0';
    char *end = strstr(buf, "\r\n\r\n");
    if (!end)
      continue;
    int status = 0;
    long length = -1;
    sscanf(buf, "HTTP/1.1 %d", &status);
    const char *cl = strcasestr(buf, "\r\nContent-Length:");
    if (cl)
      length = strtol(cl + 17, NULL, 10);
    if (length < 0)
      return 0; /* every answer here has a length */
    long body = (long)(have - (size_t)(end + 4 - buf));
    while (body < length) { /* the rest of the body, dropped */
      n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0)
        return 0;
      body += n;
    }
    return status;
  }
}

static void test_kept_alive_clients(void **state) {
  (void)state;
  serve_proc srv;
  serve_start(tw_e->db, &srv);
  int fd[KEPT_ALIVE];
  for (int i = 0; i < KEPT_ALIVE; i++) {
    fd[i] = tw_connect_local(srv.port);
    assert_true(fd[i] >= 0);
    struct timeval tv = {10, 0};
    setsockopt(fd[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  char req[128];
  int len = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", srv.port);
  int answered = 0;
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < KEPT_ALIVE; i++) {
      int status = send(fd[i], req, (size_t)len, MSG_NOSIGNAL) == len ? read_answer(fd[i]) : 0;
      if (status != 200)
        fprintf(stderr, "round %d, connection %d: %s\n", round + 1, i + 1,
                status ? "not 200" : "closed by the server");
      assert_int_equal(status, 200);
      answered++;
    }
  }
  for (int i = 0; i < KEPT_ALIVE; i++)
    close(fd[i]);
  serve_stop(&srv);
  printf("checked: %d kept-alive connections of one client, opened at once, each answered "
         "3 times on its own connection (%d answers)\n", KEPT_ALIVE, answered);
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_garbage_never_crashes),
    cmocka_unit_test_teardown(test_trickling_clients, kill_serve),
    cmocka_unit_test_teardown(test_kept_alive_clients, kill_serve),
  };
  int rc = cmocka_run_group_tests(tests, tw_setup, tw_teardown);
  curl_global_cleanup();
  return rc;
}
