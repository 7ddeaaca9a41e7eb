/* test_proxy_frame.c: an HTTP/1.x answer's framing as the proxy's own upstream client
 * reads it (recorder/proxy/proxy_frame.c). Plan: status lines taken and refused; heads
 * (a status line and fields) and what each says of the body (none, a length, chunked,
 * until close, a bad length) and of the connection after it (kept or closed), for the
 * cases RFC 9112 §6 settles: bodiless statuses and HEAD, Content-Length lists and
 * conflicts, Transfer-Encoding with chunked last or not, both together, HTTP/1.0 and
 * keep-alive, Connection tokens; chunk-size lines with extensions, upper case, 16 digits
 * and 17. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "proxy/proxy_frame.h"

static void test_status_lines(void **state) {
  static const struct {
    const char *line;
    int ok, minor, status;
  } cases[] = {
    {"HTTP/1.1 200 OK", 1, 1, 200},
    {"HTTP/1.1 200", 1, 1, 200},
    {"HTTP/1.0 404 Not Found", 1, 0, 404},
    {"HTTP/1.1 100 Continue", 1, 1, 100},
    {"HTTP/1.1 599 ", 1, 1, 599},
    {"HTTP/1.1 099 Low", 0, 0, 0},
    {"HTTP/1.1 20 OK", 0, 0, 0},
    {"HTTP/1.1 2000 OK", 0, 0, 0},
    {"HTTP/1.1 abc", 0, 0, 0},
    {"HTTP/1.2 200 OK", 0, 0, 0},
    {"HTTP/2 200", 0, 0, 0},
    {"HTTP/1.1  200 OK", 0, 0, 0},
    {"http/1.1 200 OK", 0, 0, 0},
    {"garbage", 0, 0, 0},
    {"", 0, 0, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    proxy_frame f;
    int rc = proxy_frame_status(&f, cases[i].line, strlen(cases[i].line));
    if ((rc == 0) != cases[i].ok || (rc == 0 && (f.minor != cases[i].minor ||
                                                  f.status != cases[i].status))) {
      fprintf(stderr, "status line '%s': rc %d minor %d status %d\n", cases[i].line, rc,
              f.minor, f.status);
      fail();
    }
  }
  printf("checked: %zu status lines taken or refused\n", sizeof cases / sizeof cases[0]);
}

typedef struct head_case {
  const char *lines[4]; /* the status line, then fields; NULL ends */
  int head_request;
  proxy_body body;
  uint64_t length;      /* for PROXY_BODY_LENGTH */
  int keep;
} head_case;

static void test_heads(void **state) {
  static const head_case cases[] = {
    {{"HTTP/1.1 200 OK", "Content-Length: 12"}, 0, PROXY_BODY_LENGTH, 12, 1},
    {{"HTTP/1.1 200 OK", "content-length:12  "}, 0, PROXY_BODY_LENGTH, 12, 1},
    {{"HTTP/1.1 200 OK", "Content-Length: 0"}, 0, PROXY_BODY_NONE, 0, 1},
    {{"HTTP/1.1 200 OK", "Content-Length: 12, 12", "Content-Length: 12"}, 0,
     PROXY_BODY_LENGTH, 12, 1},
    {{"HTTP/1.1 200 OK", "Content-Length: 12, 13"}, 0, PROXY_BODY_BAD, 0, 0},
    {{"HTTP/1.1 200 OK", "Content-Length: 5", "Content-Length: 12"}, 0, PROXY_BODY_BAD, 0, 0},
    {{"HTTP/1.1 200 OK", "Content-Length: abc"}, 0, PROXY_BODY_BAD, 0, 0},
    {{"HTTP/1.1 200 OK", "Content-Length: -1"}, 0, PROXY_BODY_BAD, 0, 0},
    {{"HTTP/1.1 200 OK", "Content-Length: +12"}, 0, PROXY_BODY_BAD, 0, 0},
    {{"HTTP/1.1 200 OK", "Content-Length: 1 2"}, 0, PROXY_BODY_BAD, 0, 0},
    {{"HTTP/1.1 200 OK", "Content-Length:"}, 0, PROXY_BODY_BAD, 0, 0},
    /* an empty list element after the last is ignored (RFC 9110 §5.6.1); one before not */
    {{"HTTP/1.1 200 OK", "Content-Length: 12,"}, 0, PROXY_BODY_LENGTH, 12, 1},
    {{"HTTP/1.1 200 OK", "Content-Length: ,12"}, 0, PROXY_BODY_BAD, 0, 0},
    {{"HTTP/1.1 200 OK", "Content-Length: 99999999999999999999999"}, 0, PROXY_BODY_BAD, 0, 0},
    {{"HTTP/1.1 200 OK", "Content-Length: 18446744073709551606"}, 0, PROXY_BODY_LENGTH,
     18446744073709551606ull, 1},
    /* bodiless whatever the head says */
    {{"HTTP/1.1 200 OK", "Content-Length: 1234"}, 1, PROXY_BODY_NONE, 0, 1},
    {{"HTTP/1.1 204 No Content", "Content-Length: 9"}, 0, PROXY_BODY_NONE, 0, 1},
    {{"HTTP/1.1 304 Not Modified"}, 0, PROXY_BODY_NONE, 0, 1},
    {{"HTTP/1.1 103 Early Hints", "Link: </a>"}, 0, PROXY_BODY_NONE, 0, 1},
    {{"HTTP/1.1 200 OK", "Content-Length: abc"}, 1, PROXY_BODY_NONE, 0, 0},
    /* Transfer-Encoding */
    {{"HTTP/1.1 200 OK", "Transfer-Encoding: chunked"}, 0, PROXY_BODY_CHUNKED, 0, 1},
    {{"HTTP/1.1 200 OK", "Transfer-Encoding: gzip, Chunked"}, 0, PROXY_BODY_CHUNKED, 0, 1},
    {{"HTTP/1.1 200 OK", "Transfer-Encoding: gzip,chunked"}, 0, PROXY_BODY_CHUNKED, 0, 1},
    {{"HTTP/1.1 200 OK", "Transfer-Encoding: chunked, gzip"}, 0, PROXY_BODY_CLOSE, 0, 0},
    {{"HTTP/1.1 200 OK", "Transfer-Encoding: xchunked"}, 0, PROXY_BODY_CLOSE, 0, 0},
    {{"HTTP/1.1 200 OK", "Transfer-Encoding: gzip"}, 0, PROXY_BODY_CLOSE, 0, 0},
    {{"HTTP/1.1 200 OK", "Transfer-Encoding: chunked", "Content-Length: 5"}, 0,
     PROXY_BODY_CHUNKED, 0, 0},
    {{"HTTP/1.1 200 OK", "Content-Length: 5", "Transfer-Encoding: chunked"}, 0,
     PROXY_BODY_CHUNKED, 0, 0},
    /* no length: until close */
    {{"HTTP/1.1 200 OK", "Content-Type: text/plain"}, 0, PROXY_BODY_CLOSE, 0, 0},
    /* the connection */
    {{"HTTP/1.1 200 OK", "Content-Length: 1", "Connection: close"}, 0, PROXY_BODY_LENGTH, 1, 0},
    {{"HTTP/1.1 200 OK", "Content-Length: 1", "Connection: foo, Close"}, 0, PROXY_BODY_LENGTH,
     1, 0},
    {{"HTTP/1.1 200 OK", "Content-Length: 1", "Connection: closed"}, 0, PROXY_BODY_LENGTH, 1, 1},
    {{"HTTP/1.0 200 OK", "Content-Length: 1"}, 0, PROXY_BODY_LENGTH, 1, 0},
    {{"HTTP/1.0 200 OK", "Content-Length: 1", "Connection: Keep-Alive"}, 0, PROXY_BODY_LENGTH,
     1, 1},
    {{"HTTP/1.0 200 OK", "Content-Length: 1", "Connection: keep-alive, close"}, 0,
     PROXY_BODY_LENGTH, 1, 0},
    /* fields without a colon, or other fields, change nothing */
    {{"HTTP/1.1 200 OK", "Content-Lengthy: 5", "no colon here"}, 0, PROXY_BODY_CLOSE, 0, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const head_case *c = &cases[i];
    proxy_frame f;
    assert_int_equal(proxy_frame_status(&f, c->lines[0], strlen(c->lines[0])), 0);
    for (int k = 1; k < 4 && c->lines[k]; k++)
      proxy_frame_field(&f, c->lines[k], strlen(c->lines[k]));
    proxy_body b = proxy_frame_body(&f, c->head_request);
    int keep = proxy_frame_keep(&f, b);
    if (b != c->body || (b == PROXY_BODY_LENGTH && f.cl != c->length) || keep != c->keep) {
      fprintf(stderr, "head %zu ('%s' / '%s' / '%s', HEAD %d): body %d (wanted %d), length "
              "%llu, keep %d (wanted %d)\n", i, c->lines[0], c->lines[1] ? c->lines[1] : "",
              c->lines[2] ? c->lines[2] : "", c->head_request, (int)b, (int)c->body,
              (unsigned long long)f.cl, keep, c->keep);
      fail();
    }
  }
  printf("checked: %zu heads: the body's framing and whether the connection goes on\n",
         sizeof cases / sizeof cases[0]);
}

static void test_chunk_sizes(void **state) {
  static const struct {
    const char *line;
    int ok;
    uint64_t size;
  } cases[] = {
    {"0", 1, 0},
    {"5", 1, 5},
    {"1a", 1, 26},
    {"1A", 1, 26},
    {"5;name=value", 1, 5},
    {"5 ;ext", 1, 5},
    {"5\t", 1, 5},
    {"ffffffffffffffff", 1, UINT64_MAX},
    {"0000000000000010", 1, 16},
    {"10000000000000000", 0, 0},
    {"", 0, 0},
    {";ext", 0, 0},
    {"g", 0, 0},
    {"5x", 0, 0},
    {"5 6", 0, 0},
    {"-5", 0, 0},
    {"0x5", 0, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint64_t size = 12345;
    int rc = proxy_frame_chunk_size(cases[i].line, strlen(cases[i].line), &size);
    if ((rc == 0) != cases[i].ok || (rc == 0 && size != cases[i].size)) {
      fprintf(stderr, "chunk size '%s': rc %d size %llu\n", cases[i].line, rc,
              (unsigned long long)size);
      fail();
    }
  }
  /* a NUL is not a digit, even where strchr-style tests would take it for one */
  uint64_t size = 0;
  assert_int_equal(proxy_frame_chunk_size("5\0", 2, &size), -1);
  printf("checked: %zu chunk-size lines, and a NUL after the digits\n",
         sizeof cases / sizeof cases[0]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_status_lines),
    cmocka_unit_test(test_heads),
    cmocka_unit_test(test_chunk_sizes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
