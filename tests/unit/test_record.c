/* test_record.c: a record turned into row values (row_prepare), the writer thread's
 * per-call work. Plan: header blocks become [name, value] JSON exactly as stored (escapes,
 * raw non-UTF-8 bytes, trimmed values, skipped folded and colon-less lines, nothing after
 * the blank line); the Authorization fingerprint becomes the key; a body keeps its SHA-256
 * only while the stored bytes are the ones received (not after redaction, not after a
 * learnt secret is scrubbed from it); a record's slab hands out its strings and lends
 * body buffers, and record_free() frees exactly what is not the slab's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "capture/record.h"
#include "privacy/prepare.h"
#include "privacy/redact.h"

static record *make(const char *req_head, const char *resp_head, const char *req_body,
                    const char *resp_body) {
  record *r = record_new(1 << 20);
  assert_non_null(r);
  r->method = strdup("POST");
  r->url = strdup("https://api.example.com/v1/things?page=2");
  r->req_head = strdup(req_head);
  r->req_head_len = strlen(req_head);
  r->resp_head = strdup(resp_head);
  r->resp_head_len = strlen(resp_head);
  if (req_body)
    capbuf_append(&r->req_body, req_body, strlen(req_body));
  if (resp_body)
    capbuf_append(&r->resp_body, resp_body, strlen(resp_body));
  capbuf_finish(&r->req_body);
  capbuf_finish(&r->resp_body);
  r->status = 200;
  r->content_type = strdup("application/json");
  return r;
}

static void test_headers_json(void **state) {
  (void)state;
  redactor *rd = NULL;
  assert_int_equal(redactor_new(&rd), REQLOG_OK);
  record *r = make("POST /v1/things HTTP/1.1\r\n"
                   "Host: api.example.com\r\n"
                   "X-Quote:  say \"hi\" \\ back\x01\x1f\tend  \r\n"
                   "X-Bytes: \xff\xfe caf\xc3\xa9\r\n"
                   "\t folded continuation\r\n"
                   "no colon here\r\n"
                   ": empty name\r\n"
                   "X-Empty:\r\n"
                   "Content-Type: application/json\r\n"
                   "\r\n"
                   "After: the blank line\r\n",
                   "HTTP/1.1 200 OK\nX-Lf-Only: yes\n", NULL, NULL);
  row_values v;
  assert_int_equal(row_prepare(rd, r, &v), REQLOG_OK);
  assert_string_equal(v.req_headers,
                      "[[\"Host\",\"api.example.com\"],"
                      "[\"X-Quote\",\"say \\\"hi\\\" \\\\ back\\u0001\\u001f\\tend\"],"
                      "[\"X-Bytes\",\"\xff\xfe caf\xc3\xa9\"],"
                      "[\"\",\"empty name\"],"
                      "[\"X-Empty\",\"\"],"
                      "[\"Content-Type\",\"application/json\"]]");
  assert_string_equal(v.resp_headers, "[[\"X-Lf-Only\",\"yes\"]]");
  assert_null(v.key);
  row_values_free(&v);
  record_free(r);

  r = make("GET / HTTP/1.1", "", NULL, NULL); /* a request line only; no response */
  assert_int_equal(row_prepare(rd, r, &v), REQLOG_OK);
  assert_string_equal(v.req_headers, "[]");
  assert_string_equal(v.resp_headers, "[]");
  row_values_free(&v);
  record_free(r);
  redactor_free(rd);
  printf("checked: header blocks stored as exact [name, value] JSON\n");
}

static void test_key_and_digests(void **state) {
  (void)state;
  redactor *rd = NULL;
  assert_int_equal(redactor_new(&rd), REQLOG_OK);
  const char *key = "sk_live_4f9a2c7e1b8d6053a1";
  char fp[48];
  reqlog_key_fingerprint(key, fp);

  /* nothing secret in either body: both keep their SHA-256 */
  record *r = make("POST /v1/things HTTP/1.1\r\nAuthorization: Bearer sk_live_4f9a2c7e1b8d6053a1\r\n"
                   "Content-Type: application/json\r\n\r\n",
                   "HTTP/1.1 200 OK\r\n\r\n", "{\"name\":\"Ann\"}", "abc");
  row_values v;
  assert_int_equal(row_prepare(rd, r, &v), REQLOG_OK);
  assert_string_equal(v.key, fp);
  assert_null(strstr(v.req_headers, key));
  assert_string_equal(v.resp_sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert_int_equal(strlen(v.req_sha), 64);
  row_values_free(&v);
  record_free(r);

  /* a redacted request body and a response echoing the key: neither keeps a digest */
  r = make("POST /v1/things HTTP/1.1\r\nAuthorization: Bearer sk_live_4f9a2c7e1b8d6053a1\r\n"
           "Content-Type: application/json\r\n\r\n",
           "HTTP/1.1 200 OK\r\n\r\n", "{\"password\":\"hunter2-xyz\"}",
           "{\"you_sent\":\"sk_live_4f9a2c7e1b8d6053a1\"}");
  assert_int_equal(row_prepare(rd, r, &v), REQLOG_OK);
  assert_string_equal(v.req_sha, "");
  assert_string_equal(v.resp_sha, "");
  assert_null(memmem(v.req_body, v.req_body_len, "hunter2", 7));
  assert_null(memmem(v.resp_body, v.resp_body_len, key, strlen(key)));
  row_values_free(&v);
  record_free(r);

  /* an empty body has no digest and is NULL */
  r = make("GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 204 No Content\r\n\r\n", NULL, NULL);
  assert_int_equal(row_prepare(rd, r, &v), REQLOG_OK);
  assert_string_equal(v.req_sha, "");
  assert_string_equal(v.resp_sha, "");
  assert_true(v.resp_body_null);
  row_values_free(&v);
  record_free(r);
  redactor_free(rd);
  printf("checked: key fingerprint kept, digests only of bodies stored as received\n");
}

/* A record's slab: strings that fit come from it, the rest from malloc, a body buffer
 * lent from it moves to memory of its own when the body outgrows it, and record_free()
 * frees exactly what is not the slab's (the sanitizer build catches a wrong free). */
static void test_slab(void **state) {
  (void)state;
  record *r = record_new_slab(1 << 20, 64);
  assert_non_null(r);
  const char *lo = r->slab, *hi = r->slab + r->slab_cap;
  r->method = record_strndup(r, "DELETE", 6);
  assert_string_equal(r->method, "DELETE");
  assert_true(r->method >= lo && r->method < hi);
  assert_int_equal(r->slab_len, 8); /* 7 bytes, rounded to 8 */
  char big[100];
  memset(big, 'u', sizeof big);
  r->url = record_strndup(r, big, sizeof big); /* more than is left: from malloc */
  assert_true(r->url < lo || r->url >= hi);
  assert_int_equal(strlen(r->url), sizeof big);
  assert_null(record_slab_take(r, 57));         /* 56 bytes are left */
  void *room = record_slab_take(r, 40);
  assert_non_null(room);
  capbuf_lend(&r->resp_body, room, 40);
  capbuf_append(&r->resp_body, "0123456789", 10);
  assert_ptr_equal(r->resp_body.data, room);
  assert_true(r->resp_body.lent);
  for (int i = 0; i < 5; i++) /* 60 bytes in all: no longer fits the loan */
    capbuf_append(&r->resp_body, "abcdefghij", 10);
  assert_false(r->resp_body.lent);
  assert_true(r->resp_body.data != room);
  assert_int_equal(r->resp_body.len, 60);
  assert_memory_equal(r->resp_body.data, "0123456789abcdefghij", 20);
  r->content_type = record_strndup(r, "application/json", 16); /* 16 left: malloc */
  assert_string_equal(r->content_type, "application/json");
  assert_true(r->content_type < lo || r->content_type >= hi);
  r->http_version = record_strndup(r, "HTTP/1.1", 8);         /* fits the last 16 */
  assert_true(r->http_version >= lo && r->http_version < hi);
  assert_int_equal(r->slab_len, r->slab_cap);
  record_free(r);

  /* a loan that is never outgrown stays the slab's */
  r = record_new_slab(1 << 20, 128);
  assert_non_null(r);
  room = record_slab_take(r, 100);
  capbuf_lend(&r->req_body, room, 100);
  capbuf_append(&r->req_body, big, 100);
  capbuf_finish(&r->req_body);
  assert_ptr_equal(r->req_body.data, room);
  char hex[65];
  capbuf_hex_digest(&r->req_body, hex);
  assert_int_equal(strlen(hex), 64);
  record_free(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_headers_json),
    cmocka_unit_test(test_key_and_digests),
    cmocka_unit_test(test_slab),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
