/* test_proxy_stream.c: `reqlog proxy` under load: bodies far beyond the store's cap
 * streamed both ways through it in bounded memory, a slow call that does not hold up a
 * fast one, and one event loop reusing its libcurl handle call after call. The real
 * binary between curl and the tests' fake API or the test's own server on loopback,
 * recording into real SQLite files; the fixture is tests/lib/testproxy.c.
 *
 * Plan:
 *   parallel       a /slow call in flight does not hold up a fast one: the fast call
 *                  completes while the slow one is still running
 *   handle reuse   on one event loop, nine calls of six methods in a row each reach the
 *                  upstream with their own method and body (/echo says what it got)
 *   streaming      100 MiB download and a 24 MiB chunked one through the proxy from the
 *                  test's own server, byte-exact (SHA-256), and a 30 MiB upload: rows
 *                  hold the full sizes and digests; the proxy's peak RSS (VmHWM) stays
 *                  at or under 64 MiB
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reqlog.h"
#include "testproxy.h"

#define BIG_BYTES (100LL * 1024 * 1024)
#define CHUNKED_BYTES (24LL * 1024 * 1024)
#define UPLOAD_BYTES (30LL * 1024 * 1024)
#define PATTERN_LEN 65521 /* prime, so the pattern never lines up with a buffer size */
#define RSS_LIMIT_KB (64 * 1024)

/* Peak resident memory of PID in kB (VmHWM), or -1. */
static long peak_rss_kb(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "VmHWM:", 6) == 0)
      kb = strtol(line + 6, NULL, 10);
  if (f)
    fclose(f);
  return kb;
}

/* ------------------------------------------------------------------ the test's server */

/* Serves GET /big (BIG_BYTES, Content-Length), GET /chunked (CHUNKED_BYTES, no length)
 * of a fixed pattern, and POST /sink, which answers with the size and SHA-256 of the
 * body it was sent: bodies larger than the fake API allows, streamed. */
static unsigned char pattern[PATTERN_LEN];

static void fill_pattern(void) {
  uint32_t x = 2463534242u;
  for (size_t i = 0; i < PATTERN_LEN; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    pattern[i] = (unsigned char)x;
  }
}

static void pattern_copy(uint64_t pos, char *buf, size_t n) {
  while (n) {
    size_t at = (size_t)(pos % PATTERN_LEN), k = PATTERN_LEN - at;
    if (k > n)
      k = n;
    memcpy(buf, pattern + at, k);
    buf += k;
    pos += k;
    n -= k;
  }
}

/* SHA-256 of the first LEN bytes of the pattern stream, as hex. */
static void pattern_digest(uint64_t len, char out[65]) {
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  EVP_DigestInit_ex(c, EVP_sha256(), NULL);
  char buf[65536];
  for (uint64_t pos = 0; pos < len;) {
    size_t n = len - pos < sizeof buf ? (size_t)(len - pos) : sizeof buf;
    pattern_copy(pos, buf, n);
    EVP_DigestUpdate(c, buf, n);
    pos += n;
  }
  unsigned char d[32];
  unsigned dn = 0;
  EVP_DigestFinal_ex(c, d, &dn);
  EVP_MD_CTX_free(c);
  tp_hex(d, 32, out);
}

static ssize_t pattern_reader(void *cls, uint64_t pos, char *buf, size_t max) {
  uint64_t total = (uint64_t)(uintptr_t)cls;
  if (pos >= total)
    return MHD_CONTENT_READER_END_OF_STREAM;
  size_t n = total - pos < max ? (size_t)(total - pos) : max;
  pattern_copy(pos, buf, n);
  return (ssize_t)n;
}

#define LONG_SENT 3000 /* a request header value longer than any stack buffer on the way */
#define LONG_BACK 2000 /* and a response header value */

typedef struct sink_req {
  EVP_MD_CTX *sha;
  uint64_t bytes;
} sink_req;

static enum MHD_Result big_handler(void *cls, struct MHD_Connection *c, const char *url,
                                   const char *method, const char *version,
                                   const char *data, size_t *data_size, void **con_cls) {
  if (strcmp(url, "/sink") == 0) {
    sink_req *s = *con_cls;
    if (!s) {
      s = calloc(1, sizeof *s);
      s->sha = EVP_MD_CTX_new();
      EVP_DigestInit_ex(s->sha, EVP_sha256(), NULL);
      *con_cls = s;
      return MHD_YES;
    }
    if (*data_size) {
      EVP_DigestUpdate(s->sha, data, *data_size);
      s->bytes += *data_size;
      *data_size = 0;
      return MHD_YES;
    }
    unsigned char d[32];
    unsigned dn = 0;
    char h[65], *body = NULL;
    EVP_DigestFinal_ex(s->sha, d, &dn);
    tp_hex(d, 32, h);
    /* a long request header arrives whole; a long response header goes back */
    const char *xl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Long");
    size_t xlen = xl ? strlen(xl) : 0, xa = xl ? strspn(xl, "a") : 0;
    int n = asprintf(&body, "{\"bytes\":%llu,\"sha256\":\"%s\",\"xlong\":%zu,\"xlong_a\":%zu}",
                     (unsigned long long)s->bytes, h, xlen, xa);
    struct MHD_Response *r =
      MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    char back[LONG_BACK + 1];
    memset(back, 'b', LONG_BACK);
    back[LONG_BACK] = '\0';
    MHD_add_response_header(r, "X-Long-Back", back);
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
  }
  if (!*con_cls) { /* answer after the head, like any server */
    *con_cls = (void *)1;
    return MHD_YES;
  }
  int chunked = strcmp(url, "/chunked") == 0;
  uint64_t total = chunked ? (uint64_t)CHUNKED_BYTES : (uint64_t)BIG_BYTES;
  struct MHD_Response *r = MHD_create_response_from_callback(
    chunked ? MHD_SIZE_UNKNOWN : total, 64 * 1024, pattern_reader, (void *)(uintptr_t)total, NULL);
  MHD_add_response_header(r, "Content-Type", "application/octet-stream");
  enum MHD_Result ret = MHD_queue_response(c, 200, r);
  MHD_destroy_response(r);
  return ret;
}

static void big_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                          enum MHD_RequestTerminationCode toe) {
  sink_req *s = *con_cls;
  if (s && s != (void *)1) {
    EVP_MD_CTX_free(s->sha);
    free(s);
  }
  *con_cls = NULL;
}

/* ------------------------------------------------------------------ tests */

static void test_parallel(void **state) {
  tp_env *e = *state;
  /* one event loop: the slow call waits without holding the thread */
  tp_proc one;
  const char *args[] = {"--upstream", e->direct, "--listen", "127.0.0.1:0", "--threads", "1",
                        NULL};
  assert_int_equal(tp_start(e->dir, e->db, args, &one), 0);
  char slow[300], fast[300];
  snprintf(slow, sizeof slow, "%s/slow?ms=1500&t=par_slow", one.url);
  snprintf(fast, sizeof fast, "%s/participants/3?t=par_fast", one.url);
  long before = fakeapi_hits(e->api, "/public/v1/slow");
  const char *sargv[] = {"curl", "-sS", "--noproxy", "*", "-o", "/dev/null", "-w",
                         "%{http_code}", "-H", TP_AUTH, slow, NULL};
  int sfd = -1;
  pid_t spid = tp_spawn(sargv, NULL, &sfd, NULL);
  /* the slow call is in flight once the API has seen it */
  for (int i = 0; i < 400 && fakeapi_hits(e->api, "/public/v1/slow") == before; i++) {
    struct timespec ts = {0, 10 * 1000000};
    nanosleep(&ts, NULL);
  }
  assert_true(fakeapi_hits(e->api, "/public/v1/slow") > before);
  const char *extra[] = {"-H", TP_AUTH, "-o", "/dev/null", "-w", "%{http_code}", NULL};
  tp_output f;
  assert_int_equal(tp_curl(fast, extra, &f), 0);
  assert_string_equal(f.p, "200");
  int status = 0;
  assert_int_equal(waitpid(spid, &status, WNOHANG), 0); /* still running */
  tp_output s = {0};
  tp_out_append(&s, "", 0);
  tp_drain_fd(sfd, tp_sink_output, &s);
  assert_int_equal(tp_wait_exit(spid), 0);
  assert_string_equal(s.p, "200");
  tp_stop(&one, SIGTERM);
  assert_true(tp_row_id(e->db, "t=par_fast") < tp_row_id(e->db, "t=par_slow"));
  free(f.p);
  free(s.p);
  printf("checked: with --threads 1, a fast call through the proxy completed while a /slow "
         "call was still in flight on another connection; both 200, the fast one recorded "
         "first\n");
}

/* One event loop keeps one idle libcurl handle and hands it to the next exchange: options
 * of one transfer (a method, NOBODY for HEAD, a body) must not leak into the next. */
static void test_handle_reuse(void **state) {
  tp_env *e = *state;
  tp_proc one;
  const char *args[] = {"--upstream", e->direct, "--listen", "127.0.0.1:0", "--threads", "1",
                        NULL};
  assert_int_equal(tp_start(e->dir, e->db, args, &one), 0);
  static const struct {
    const char *method, *body;
  } seq[] = {{"POST", "{\"a\":1}"}, {"GET", NULL},    {"HEAD", NULL},
             {"GET", NULL},          {"DELETE", NULL}, {"PUT", "x=1"},
             {"GET", NULL},          {"PATCH", "{}"},  {"GET", NULL}};
  enum { N = sizeof seq / sizeof seq[0] };
  char urls[N][300];
  const char *argv[N * 12 + 8];
  int k = 0;
  argv[k++] = "curl";
  for (int i = 0; i < N; i++) {
    if (i)
      argv[k++] = "--next";
    snprintf(urls[i], sizeof urls[i], "%s/echo?t=reuse%d", one.url, i);
    argv[k++] = "-sS";
    argv[k++] = "--noproxy";
    argv[k++] = "*";
    argv[k++] = "-o";
    argv[k++] = "/dev/null";
    argv[k++] = "-H";
    argv[k++] = TP_AUTH;
    if (strcmp(seq[i].method, "HEAD") == 0) {
      argv[k++] = "-I";
    } else {
      argv[k++] = "-X";
      argv[k++] = seq[i].method;
    }
    if (seq[i].body) {
      argv[k++] = "--data-raw";
      argv[k++] = seq[i].body;
    }
    argv[k++] = urls[i];
  }
  argv[k] = NULL;
  tp_output out;
  assert_int_equal(tp_run_out(argv, &out), 0);
  free(out.p);
  tp_stop(&one, SIGTERM);
  for (int i = 0; i < N; i++) {
    char mark[32];
    snprintf(mark, sizeof mark, "t=reuse%d", i);
    cJSON *row = tp_row_for(e->db, mark);
    assert_string_equal(tu_str(row, "method"), seq[i].method);
    assert_int_equal((int)tu_num(row, "status"), 200);
    if (strcmp(seq[i].method, "HEAD") == 0) {
      assert_true(tu_is_null(row, "response_body"));
    } else {
      /* what the upstream received, as /echo told it */
      cJSON *echo = cJSON_Parse(tu_str(row, "response_body"));
      assert_non_null(echo);
      assert_string_equal(tu_str(echo, "method"), seq[i].method);
      size_t want = seq[i].body ? strlen(seq[i].body) : 0;
      assert_int_equal((size_t)tu_num(echo, "body_size"), want);
      if (want)
        assert_string_equal(tu_str(echo, "body"), seq[i].body);
      cJSON_Delete(echo);
    }
    cJSON_Delete(row);
  }
  printf("checked: on one event loop, POST, GET, HEAD, GET, DELETE, PUT, GET, PATCH, GET in "
         "a row reach the upstream with their own method and body (no option of one "
         "transfer carried into the next)\n");
}

typedef struct hasher {
  EVP_MD_CTX *c;
  uint64_t n;
} hasher;

static void sink_hash(void *ctx, const char *data, size_t len) {
  hasher *h = ctx;
  EVP_DigestUpdate(h->c, data, len);
  h->n += len;
}

/* curl URL through the proxy into a SHA-256; returns the digest in OUT, the size. */
static uint64_t download_hash(const char *url, char out[65]) {
  hasher h = {EVP_MD_CTX_new(), 0};
  EVP_DigestInit_ex(h.c, EVP_sha256(), NULL);
  const char *argv[] = {"curl", "-sS", "--noproxy", "*", url, NULL};
  assert_int_equal(tp_run_sink(argv, sink_hash, &h), 0);
  unsigned char d[32];
  unsigned dn = 0;
  EVP_DigestFinal_ex(h.c, d, &dn);
  EVP_MD_CTX_free(h.c);
  tp_hex(d, 32, out);
  return h.n;
}

static void test_streaming(void **state) {
  tp_env *e = *state;
  fill_pattern();
  struct sockaddr_in sin = {0};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct MHD_Daemon *srv = MHD_start_daemon(
    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL, 0, NULL,
    NULL, big_handler, NULL, MHD_OPTION_NOTIFY_COMPLETED, big_completed, NULL,
    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin, MHD_OPTION_END);
  assert_non_null(srv);
  int port = MHD_get_daemon_info(srv, MHD_DAEMON_INFO_BIND_PORT)->port;
  char *db = tu_path(e->dir, "stream.db");
  char up[64], url[300];
  snprintf(up, sizeof up, "http://127.0.0.1:%d", port);
  tp_proc p;
  const char *args[] = {"--upstream", up, "--listen", "127.0.0.1:0", NULL};
  assert_int_equal(tp_start(e->dir, db, args, &p), 0);
  long rss_start = peak_rss_kb(p.pid);

  char want[65], got[65];
  pattern_digest((uint64_t)BIG_BYTES, want);
  snprintf(url, sizeof url, "%s/big?t=big", p.url);
  assert_int_equal(download_hash(url, got), (uint64_t)BIG_BYTES);
  assert_string_equal(got, want);
  long rss_big = peak_rss_kb(p.pid);

  char want_c[65];
  pattern_digest((uint64_t)CHUNKED_BYTES, want_c);
  snprintf(url, sizeof url, "%s/chunked?t=chunked", p.url);
  assert_int_equal(download_hash(url, got), (uint64_t)CHUNKED_BYTES);
  assert_string_equal(got, want_c);

  /* a 30 MiB upload from a file, streamed to the server */
  char *file = tu_path(e->dir, "upload.bin");
  FILE *f = fopen(file, "wb");
  char buf[65536];
  for (uint64_t pos = 0; pos < (uint64_t)UPLOAD_BYTES; pos += sizeof buf) {
    pattern_copy(pos, buf, sizeof buf);
    fwrite(buf, 1, sizeof buf, f);
  }
  fclose(f);
  char want_u[65], data_arg[600];
  pattern_digest((uint64_t)UPLOAD_BYTES, want_u);
  snprintf(url, sizeof url, "%s/sink?t=upload", p.url);
  snprintf(data_arg, sizeof data_arg, "@%s", file);
  char xlong[LONG_SENT + 16], back[LONG_BACK + 32];
  memcpy(xlong, "X-Long: ", 8);
  memset(xlong + 8, 'a', LONG_SENT);
  xlong[8 + LONG_SENT] = '\0';
  memcpy(back, "X-Long-Back: ", 13);
  memset(back + 13, 'b', LONG_BACK);
  memcpy(back + 13 + LONG_BACK, "\r\n", 3);
  char *heads = tu_path(e->dir, "upload.heads");
  const char *up_extra[] = {"-H", "Content-Type: application/octet-stream", "-H", xlong,
                            "-D", heads, "--data-binary", data_arg, NULL};
  tp_output o;
  assert_int_equal(tp_curl(url, up_extra, &o), 0);
  cJSON *doc = cJSON_Parse(o.p);
  assert_non_null(doc);
  assert_int_equal((int64_t)tu_num(doc, "bytes"), UPLOAD_BYTES);
  assert_string_equal(tu_str(doc, "sha256"), want_u);
  assert_int_equal((int)tu_num(doc, "xlong"), LONG_SENT);
  assert_int_equal((int)tu_num(doc, "xlong_a"), LONG_SENT);
  cJSON_Delete(doc);
  free(o.p);
  char *got_heads = tu_read_file(heads);
  assert_non_null(got_heads);
  assert_non_null(strstr(got_heads, back));
  free(got_heads);
  free(heads);
  long rss_all = peak_rss_kb(p.pid);

  cJSON *row = tp_row_for(db, "t=big");
  assert_int_equal((int)tu_num(row, "status"), 200);
  assert_true(tu_num(row, "response_size") == (double)BIG_BYTES);
  assert_true(tu_is_true(row, "response_truncated"));
  assert_string_equal(tu_str(row, "response_sha256"), want);
  assert_true(tu_is_null(row, "error"));
  cJSON_Delete(row);
  row = tp_row_for(db, "t=chunked");
  assert_true(tu_num(row, "response_size") == (double)CHUNKED_BYTES);
  assert_string_equal(tu_str(row, "response_sha256"), want_c);
  cJSON_Delete(row);
  row = tp_row_for(db, "t=upload");
  assert_true(tu_num(row, "request_size") == (double)UPLOAD_BYTES);
  assert_true(tu_is_true(row, "request_truncated"));
  assert_string_equal(tu_str(row, "request_sha256"), want_u);
  cJSON_Delete(row);
  tp_stop(&p, SIGTERM);
  MHD_stop_daemon(srv);
  printf("checked: 100 MiB (Content-Length) and 24 MiB (chunked) downloads and a 30 MiB "
         "upload through the proxy are byte-exact, rows hold full sizes and digests\n");
  printf("checked: a %d-byte request header and a %d-byte response header pass whole\n",
         LONG_SENT, LONG_BACK);
  printf("checked: the proxy's peak RSS: %ld kB at start, %ld kB after 100 MiB, %ld kB "
         "after everything (limit %d kB)\n", rss_start, rss_big, rss_all, RSS_LIMIT_KB);
  assert_true(rss_big > 0 && rss_big <= RSS_LIMIT_KB);
  assert_true(rss_all <= RSS_LIMIT_KB);
  unlink(file);
  free(file);
  free(db);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_parallel),
    cmocka_unit_test(test_handle_reuse),
    cmocka_unit_test(test_streaming),
  };
  return tp_main("proxy_stream", tests, sizeof tests / sizeof tests[0]);
}
