/* test_exec_curl.c: `reqlog exec` runs the curl command (which no one here wrote) with
 * the shim preloaded, against the fake API on loopback: the rows hold its transfers while
 * it behaves exactly as without reqlog. The fixture: testexec.h.
 *
 * Plan:
 *   curl GET          stdout, stderr and exit code identical with and without exec; one
 *                     row with every field; the key only as its fingerprint, on disk too
 *   curl POST         -d JSON (201) and -d @- from stdin (422 with message and errors)
 *   redirects         -L /redirect/2 is one row, the final request; without -L the 302
 *   several URLs      one curl process, serial transfers: a row each, in order
 *   parallel          curl -Z (the multi interface): a row per transfer, bodies as saved
 *   verbose           curl -v: the program's own debug output is unchanged
 *   large body        past the cap: full size, truncated, the SHA-256 of the whole body
 *   children          sh -c 'curl; curl & wait': processes the program starts are recorded
 * How exec runs a program: test_exec_run.c; git, PHP and plugins: test_exec_programs.c;
 * a libcurl program and the wire protocol: test_exec_self.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reqlog.h"
#include "testexec.h"

static void sha256_hex(const void *p, size_t n, char out[65]) {
  unsigned char d[32];
  unsigned int len = 0;
  EVP_Digest(p, n, d, &len, EVP_sha256(), NULL);
  for (int i = 0; i < 32; i++)
    snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* ------------------------------------------------------------------ curl */

static void test_curl_get(void **state) {
  (void)state;
  char *db = te_new_db(), url[300];
  te_url_of(url, sizeof url, "/participants?page=1");
  const char *argv[] = {"curl", "-s", "-H", TE->auth, "-H", "Accept: application/json", url,
                        NULL};
  char *out1, *err1, *out2, *err2;
  int rc1 = te_run_plain(argv, NULL, NULL, &out1, &err1);
  int64_t before = tu_now_us();
  int rc2 = te_run_exec(db, argv, NULL, NULL, &out2, &err2);
  assert_int_equal(rc1, 0);
  assert_int_equal(rc2, 0);
  assert_string_equal(out1, out2);
  assert_string_equal(err1, err2);
  assert_true(strstr(out2, "\"data\"") != NULL);
  printf("checked: curl GET: exit 0, the same %zu bytes on stdout and the same (empty) "
         "stderr with and without reqlog exec\n", strlen(out2));

  cJSON *rows = te_rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), 1);
  cJSON *row = cJSON_GetArrayItem(rows, 0);
  assert_string_equal(tu_str(row, "source"), "exec");
  assert_string_equal(tu_str(row, "method"), "GET");
  assert_string_equal(tu_str(row, "url"), url);
  assert_string_equal(tu_str(row, "host"), "127.0.0.1");
  assert_string_equal(tu_str(row, "path"), "/public/v1/participants");
  assert_int_equal((int)tu_num(row, "status"), 200);
  assert_true(tu_is_null(row, "error"));
  int64_t at = 0;
  assert_int_equal(reqlog_parse_time(tu_str(row, "started_at"), 0, &at), REQLOG_OK);
  assert_true(at >= before - 1000000 && at <= tu_now_us());
  assert_true(tu_num(row, "duration_ms") > 0);
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(row, "timing");
  assert_true(tu_num(t, "total_ms") == tu_num(row, "duration_ms"));
  assert_true(tu_num(t, "dns_ms") + tu_num(t, "connect_ms") + tu_num(t, "tls_ms") +
              tu_num(t, "ttfb_ms") <= tu_num(t, "total_ms") + 0.001);
  assert_string_equal(tu_str(row, "key"), TE->fp);
  char want_auth[80];
  snprintf(want_auth, sizeof want_auth, "Bearer %s", TE->fp);
  assert_string_equal(tu_header(row, "request_headers", "Authorization"), want_auth);
  assert_string_equal(tu_header(row, "request_headers", "Accept"), "application/json");
  assert_non_null(tu_header(row, "request_headers", "User-Agent"));
  assert_non_null(tu_header(row, "response_headers", "Content-Type"));
  assert_int_equal((int)tu_num(row, "attempt"), 1);
  assert_true(tu_is_null(row, "retry_of"));
  assert_true(tu_is_null(row, "request_body"));
  assert_string_equal(tu_str(row, "response_body"), out2);
  assert_int_equal((size_t)tu_num(row, "response_size"), strlen(out2));
  assert_string_equal(tu_str(row, "content_type"), "application/json");
  assert_string_equal(tu_str(row, "http_version"), "HTTP/1.1");
  assert_string_equal(tu_str(row, "remote_ip"), "127.0.0.1");
  te_assert_clean(db, rows);
  printf("checked: one row, source exec: GET %s, 200, timing phases adding up, key %s, "
         "Authorization stored as its fingerprint, response body = curl's stdout, "
         "HTTP/1.1 from 127.0.0.1; the key is in none of the db, -wal, -shm files\n",
         tu_str(row, "path"), TE->fp);
  cJSON_Delete(rows);
  free(out1);
  free(err1);
  free(out2);
  free(err2);
  free(db);
}

static void test_curl_post(void **state) {
  (void)state;
  char *db = te_new_db(), url[300];
  te_url_of(url, sizeof url, "/participants");
  const char *good = "{\"first_name\":\"Ada\",\"last_name\":\"Lovelace\","
                     "\"email\":\"ada@example.org\"}";
  const char *argv1[] = {"curl", "-s", "-H", TE->auth, "-H", "Content-Type: application/json",
                         "-d", good, url, NULL};
  /* the body comes on stdin: reqlog exec leaves stdin to the program */
  const char *bad = "{\"first_name\":\"Ada\"}";
  const char *argv2[] = {"curl", "-s", "-w", "%{http_code}", "-H", TE->auth, "-H",
                         "Content-Type: application/json", "--data-binary", "@-", url, NULL};
  char *o1, *o2, *o3, *o4;
  assert_int_equal(te_run_plain(argv1, NULL, NULL, &o1, NULL), 0);
  assert_int_equal(te_run_exec(db, argv1, NULL, NULL, &o2, NULL), 0);
  /* the fake API numbers each new participant: compare what follows the id */
  assert_true(strchr(o1, ',') && strchr(o2, ','));
  assert_string_equal(strchr(o1, ','), strchr(o2, ','));
  assert_int_equal(te_run_plain(argv2, bad, NULL, &o3, NULL), 0);
  assert_int_equal(te_run_exec(db, argv2, bad, NULL, &o4, NULL), 0);
  assert_string_equal(o3, o4);
  assert_true(strstr(o4, "422") != NULL);

  cJSON *rows = te_rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), 2);
  cJSON *r1 = cJSON_GetArrayItem(rows, 0), *r2 = cJSON_GetArrayItem(rows, 1);
  assert_string_equal(tu_str(r1, "method"), "POST");
  assert_int_equal((int)tu_num(r1, "status"), 201);
  assert_string_equal(tu_str(r1, "request_body"), good);
  assert_int_equal((size_t)tu_num(r1, "request_size"), strlen(good));
  assert_string_equal(tu_str(r1, "response_body"), o2);
  assert_string_equal(tu_str(r2, "method"), "POST");
  assert_int_equal((int)tu_num(r2, "status"), 422);
  assert_string_equal(tu_str(r2, "request_body"), bad);
  assert_string_equal(tu_str(r2, "error_message"), "The given data was invalid.");
  const cJSON *fields = cJSON_GetObjectItemCaseSensitive(r2, "error_fields");
  assert_non_null(cJSON_GetObjectItemCaseSensitive(fields, "email"));
  te_assert_clean(db, rows);
  printf("checked: curl POST -d JSON: 201, request body stored as sent; --data-binary @- "
         "from stdin: 422 with message '%s' and errors.email; outputs identical\n",
         tu_str(r2, "error_message"));
  cJSON_Delete(rows);
  free(o1);
  free(o2);
  free(o3);
  free(o4);
  free(db);
}

static void test_curl_redirects(void **state) {
  (void)state;
  char *db = te_new_db(), url[300], final[300];
  te_url_of(url, sizeof url, "/redirect/2");
  te_url_of(final, sizeof final, "/participants");
  const char *follow[] = {"curl", "-s", "-L", "-H", TE->auth, url, NULL};
  const char *stay[] = {"curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                        "-H", TE->auth, url, NULL};
  char *o1, *o2, *o3, *o4;
  assert_int_equal(te_run_plain(follow, NULL, NULL, &o1, NULL), 0);
  assert_int_equal(te_run_exec(db, follow, NULL, NULL, &o2, NULL), 0);
  assert_string_equal(o1, o2);
  assert_int_equal(te_run_plain(stay, NULL, NULL, &o3, NULL), 0);
  assert_int_equal(te_run_exec(db, stay, NULL, NULL, &o4, NULL), 0);
  assert_string_equal(o3, o4);

  cJSON *rows = te_rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), 2);
  cJSON *r1 = cJSON_GetArrayItem(rows, 0), *r2 = cJSON_GetArrayItem(rows, 1);
  assert_string_equal(tu_str(r1, "url"), final);
  assert_int_equal((int)tu_num(r1, "status"), 200);
  assert_string_equal(tu_str(r1, "response_body"), o2);
  assert_string_equal(tu_str(r1, "key"), TE->fp);
  assert_string_equal(tu_str(r2, "url"), url);
  assert_int_equal((int)tu_num(r2, "status"), 302);
  assert_non_null(tu_header(r2, "response_headers", "Location"));
  te_assert_clean(db, rows);
  printf("checked: curl -L /redirect/2: one row, the final GET %s with 200 and the body "
         "curl printed; without -L: one 302 row with its Location (%s)\n",
         tu_str(r1, "path"), o4);
  cJSON_Delete(rows);
  free(o1);
  free(o2);
  free(o3);
  free(o4);
  free(db);
}

static void test_curl_several_urls(void **state) {
  (void)state;
  char *db = te_new_db(), u1[300], u2[300], u3[300];
  te_url_of(u1, sizeof u1, "/participants/1");
  te_url_of(u2, sizeof u2, "/participants/404");
  te_url_of(u3, sizeof u3, "/participants/3");
  const char *argv[] = {"curl", "-s", "-H", TE->auth, u1, u2, u3, NULL};
  char *o1, *o2;
  assert_int_equal(te_run_plain(argv, NULL, NULL, &o1, NULL), 0);
  assert_int_equal(te_run_exec(db, argv, NULL, NULL, &o2, NULL), 0);
  assert_string_equal(o1, o2);
  cJSON *rows = te_rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), 3);
  const char *urls[] = {u1, u2, u3};
  const int codes[] = {200, 404, 200};
  size_t joined = 0;
  for (int i = 0; i < 3; i++) {
    cJSON *row = cJSON_GetArrayItem(rows, i);
    assert_string_equal(tu_str(row, "url"), urls[i]);
    assert_int_equal((int)tu_num(row, "status"), codes[i]);
    const char *body = tu_str(row, "response_body");
    assert_memory_equal(o2 + joined, body, strlen(body));
    joined += strlen(body);
  }
  assert_int_equal(joined, strlen(o2));
  te_assert_clean(db, rows);
  printf("checked: one curl with 3 URLs: 3 rows in order (200, 404, 200) whose bodies "
         "joined are curl's stdout, identical without exec\n");
  cJSON_Delete(rows);
  free(o1);
  free(o2);
  free(db);
}

static void test_curl_parallel(void **state) {
  (void)state;
  enum { N = 5 };
  char *db = te_new_db();
  char urls[N][300], plain[N][64], traced[N][64];
  const char *argv_p[64] = {"curl", "-s", "-Z", "--parallel-immediate", "--parallel-max", "5",
                            "-H", TE->auth};
  const char *argv_t[64];
  int n = 8;
  memcpy(argv_t, argv_p, sizeof argv_p);
  for (int i = 0; i < N; i++) {
    char path[64];
    snprintf(path, sizeof path, i == 2 ? "/slow?ms=%d" : "/participants/%d", i == 2 ? 150 : i + 1);
    te_url_of(urls[i], sizeof urls[i], path);
    snprintf(plain[i], sizeof plain[i], "%s/p%d.json", TE->dir, i);
    snprintf(traced[i], sizeof traced[i], "%s/t%d.json", TE->dir, i);
    argv_p[n] = "-o";
    argv_t[n++] = "-o";
    argv_p[n] = plain[i];
    argv_t[n++] = traced[i];
    argv_p[n] = urls[i];
    argv_t[n++] = urls[i];
  }
  argv_p[n] = argv_t[n] = NULL;
  assert_int_equal(te_run_plain(argv_p, NULL, NULL, NULL, NULL), 0);
  assert_int_equal(te_run_exec(db, argv_t, NULL, NULL, NULL, NULL), 0);

  cJSON *rows = te_rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), N);
  for (int i = 0; i < N; i++) {
    size_t lp = 0, lt = 0;
    char *bp = tu_slurp(plain[i], &lp), *bt = tu_slurp(traced[i], &lt);
    assert_non_null(bt);
    assert_int_equal(lp, lt);
    assert_memory_equal(bp, bt, lt);
    int found = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, rows) {
      if (strcmp(tu_str(row, "url"), urls[i]) != 0)
        continue;
      found++;
      assert_int_equal((int)tu_num(row, "status"), 200);
      assert_string_equal(tu_str(row, "response_body"), bt);
      assert_string_equal(tu_str(row, "key"), TE->fp);
    }
    assert_int_equal(found, 1);
    free(bp);
    free(bt);
  }
  te_assert_clean(db, rows);
  printf("checked: curl -Z with %d URLs (the multi interface, one of them slow): exit 0, "
         "%d rows, one per URL, each body equal to the file curl saved, identical files "
         "without exec\n", N, N);
  cJSON_Delete(rows);
  free(db);
}

static void test_curl_verbose(void **state) {
  (void)state;
  char *db = te_new_db(), url[300];
  te_url_of(url, sizeof url, "/participants/2");
  const char *argv[] = {"curl", "-s", "-v", "-H", TE->auth, url, NULL};
  char *o1, *e1, *o2, *e2;
  assert_int_equal(te_run_plain(argv, NULL, NULL, &o1, &e1), 0);
  assert_int_equal(te_run_exec(db, argv, NULL, NULL, &o2, &e2), 0);
  assert_string_equal(o1, o2);
  /* request lines are the same bytes; response lines differ only in Date and the
   * rate-limit count, so compare their number */
  char *req1 = te_lines_with(e1, "> "), *req2 = te_lines_with(e2, "> ");
  char *resp1 = te_lines_with(e1, "< "), *resp2 = te_lines_with(e2, "< ");
  assert_true(strlen(req1) > 0);
  assert_string_equal(req1, req2);
  assert_true(strstr(resp2, "< HTTP/1.1 200") != NULL);
  assert_int_equal(strlen(resp1) > 0, strlen(resp2) > 0);
  int n1 = 0, n2 = 0;
  for (char *p = resp1; *p; p++)
    n1 += *p == '\n';
  for (char *p = resp2; *p; p++)
    n2 += *p == '\n';
  assert_int_equal(n1, n2);
  /* the program's key is on its own stderr, as curl -v prints it; never in the db */
  cJSON *rows = te_rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), 1);
  te_assert_clean(db, rows);
  printf("checked: curl -v: its own debug callback still prints the same request lines "
         "(%zu bytes) and %d response header lines; one row recorded\n", strlen(req2), n2);
  cJSON_Delete(rows);
  free(req1);
  free(req2);
  free(resp1);
  free(resp2);
  free(o1);
  free(e1);
  free(o2);
  free(e2);
  free(db);
}

static void test_large_body(void **state) {
  (void)state;
  char *db = te_new_db(), url[300];
  te_url_of(url, sizeof url, "/large?bytes=3000000");
  const char *argv[] = {"curl", "-s", "-H", TE->auth, url, NULL};
  char *out = NULL;
  const char *env[] = {"REQLOG_BODY_CAP=65536", NULL};
  assert_int_equal(te_run_exec(db, argv, NULL, env, &out, NULL), 0);
  assert_int_equal(strlen(out), 3000000);
  cJSON *rows = te_rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), 1);
  cJSON *row = cJSON_GetArrayItem(rows, 0);
  assert_int_equal((int64_t)tu_num(row, "response_size"), 3000000);
  assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "response_truncated")));
  assert_int_equal(strlen(tu_str(row, "response_body")), 65536);
  char want[65];
  sha256_hex(out, strlen(out), want);
  assert_string_equal(tu_str(row, "response_sha256"), want);
  te_assert_clean(db, rows);
  printf("checked: a 3,000,000-byte response with REQLOG_BODY_CAP=65536: the shim kept "
         "65536 bytes, the row has the full size, truncated and the SHA-256 of all of it\n");
  cJSON_Delete(rows);
  free(out);
  free(db);
}

static void test_child_processes(void **state) {
  (void)state;
  char *db = te_new_db(), script[1200], u1[300], u2[300];
  te_url_of(u1, sizeof u1, "/participants/4");
  te_url_of(u2, sizeof u2, "/participants/5");
  snprintf(script, sizeof script, "curl -s -H '%s' '%s'; curl -s -H '%s' '%s' & wait; echo",
           TE->auth, u1, TE->auth, u2);
  const char *argv[] = {"sh", "-c", script, NULL};
  char *o1, *o2;
  assert_int_equal(te_run_plain(argv, NULL, NULL, &o1, NULL), 0);
  assert_int_equal(te_run_exec(db, argv, NULL, NULL, &o2, NULL), 0);
  assert_string_equal(o1, o2);
  cJSON *rows = te_rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), 2);
  int seen = 0;
  const cJSON *row;
  cJSON_ArrayForEach(row, rows) {
    seen |= strcmp(tu_str(row, "url"), u1) == 0 ? 1 : strcmp(tu_str(row, "url"), u2) == 0 ? 2 : 0;
    assert_int_equal((int)tu_num(row, "status"), 200);
  }
  assert_int_equal(seen, 3);
  te_assert_clean(db, rows);
  printf("checked: sh -c 'curl; curl & wait': both curls, processes the program started "
         "(one in the background), are rows; the same output\n");
  cJSON_Delete(rows);
  free(o1);
  free(o2);
  free(db);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_curl_get),
    cmocka_unit_test(test_curl_post),
    cmocka_unit_test(test_curl_redirects),
    cmocka_unit_test(test_curl_several_urls),
    cmocka_unit_test(test_curl_parallel),
    cmocka_unit_test(test_curl_verbose),
    cmocka_unit_test(test_large_body),
    cmocka_unit_test(test_child_processes),
  };
  return cmocka_run_group_tests(tests, te_setup, te_teardown);
}
