/* test_redact_db.c: redaction as seen in the raw database files. Calls are recorded
 * through the real library against the test API server, each secret a unique canary,
 * and the .db, -wal and -shm files are grepped for the canaries (while the history is
 * open, when the WAL holds the rows, and again after close).
 *
 * Plan:
 *   folded_names     accessToken / refresh-token / CLIENT-SECRET / apiKey style names, and
 *                    added names in another spelling than the one added, in the JSON body,
 *                    the query string, a form body, multipart field names and headers:
 *                    no canary in any file; what is not secret is stored (the grep can fail)
 *   basic_auth       a Basic Authorization (libcurl's own, from CURLOPT_USERPWD) and a
 *                    Basic Proxy-Authorization: stored as "Basic <user>:[REDACTED]", the
 *                    row's key is NULL (shown as "-" by reqlog list), and neither the
 *                    password nor the fingerprint the old versions stored (its 8 hex
 *                    digits, its last four base64 characters) is in any file or in the
 *                    CLI's list and export output
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reqlog.h"
#include "testutil.h"

#define NCANARY 16

/* CANARY[i]: "CNRY<pid><time>x<i>", unique to this run, so a match in the files can only
 * come from this test's calls. */
typedef struct canaries {
  char c[NCANARY][48];
} canaries;

/* What each test starts with: a folder with history file DB (not created yet), the test
 * API, and fresh canaries. */
typedef struct fixture {
  char *dir, *db;
  fakeapi *api;
  canaries cs;
} fixture;

static int start(void **state) {
  fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  f->dir = tu_tmpdir();
  f->db = tu_path(f->dir, "h.db");
  f->api = tu_api(1000, 60000);
  long long now = (long long)tu_now_us();
  for (int i = 0; i < NCANARY; i++)
    snprintf(f->cs.c[i], sizeof f->cs.c[i], "CNRY%ld%lldx%02d", (long)getpid(), now, i);
  *state = f;
  return 0;
}

static int finish(void **state) {
  fixture *f = *state;
  fakeapi_stop(f->api);
  tu_rmtree(f->dir);
  free(f->dir);
  free(f->db);
  free(f);
  return 0;
}

static size_t discard(char *p, size_t s, size_t n, void *arg) {
  (void)p;
  (void)arg;
  return s * n;
}

/* How many of the first N canaries are in DB's files (each one found is printed). */
static int leaks(const char *db, const canaries *cs, int n) {
  int found = 0;
  for (int i = 0; i < n; i++)
    found += tu_db_files_contain(db, cs->c[i]);
  return found;
}

/* reqlog_easy_perform of METHOD URL with HEADERS (NULL-ended), a MIME body when MIME
 * is not NULL, and Basic USERPWD when not NULL. */
static void perform(reqlog *r, const char *url, const char *const *headers, curl_mime *mime,
                    const char *userpwd) {
  CURL *c = curl_easy_init();
  assert_non_null(c);
  struct curl_slist *h = NULL;
  for (size_t i = 0; headers && headers[i]; i++)
    h = curl_slist_append(h, headers[i]);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  if (mime)
    curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
  if (userpwd) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
  }
  assert_int_equal(reqlog_easy_perform(r, c), CURLE_OK);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
}

static void test_folded_names(void **state) {
  fixture *f = *state;
  reqlog *r = NULL;
  /* added names, each then used in another spelling */
  setenv("REQLOG_REDACT", "date_of_birth, X-Tenant-Ref", 1);
  assert_int_equal(reqlog_open(f->db, &r, NULL), REQLOG_OK);
  unsetenv("REQLOG_REDACT");
  assert_int_equal(reqlog_add_redaction(r, "medicareNumber"), REQLOG_OK);
  reqlog_set_base_url(r, fakeapi_base_url(f->api));
  reqlog_set_api_key(r, FAKEAPI_KEY);
  reqlog_set_rate_limit(r, 0);
  reqlog_response *resp = NULL;

  /* JSON keys, query parameters and headers */
  char json[1024], path[512], h1[128], h2[128];
  snprintf(json, sizeof json,
           "{\"name\":\"visible-name\",\"accessToken\":\"%s\",\"auth\":{\"refreshToken\":\"%s\","
           "\"clientSecret\":\"%s\"},\"list\":[{\"apiKey\":\"%s\"}],\"ACCESS-TOKEN\":\"%s\","
           "\"dateOfBirth\":\"%s\",\"medicare_number\":\"%s\"}",
           f->cs.c[0], f->cs.c[1], f->cs.c[2], f->cs.c[3], f->cs.c[4], f->cs.c[5], f->cs.c[6]);
  snprintf(path, sizeof path, "/echo?accessToken=%s&Api-Key=%s&page=visible-page", f->cs.c[7],
           f->cs.c[8]);
  snprintf(h1, sizeof h1, "x_tenant_ref: %s", f->cs.c[9]);
  snprintf(h2, sizeof h2, "Date-Of-Birth: %s", f->cs.c[10]);
  const char *hdrs[] = {h1, h2, NULL};
  assert_int_equal(reqlog_request(r, "POST", path, json, strlen(json), hdrs, &resp), REQLOG_OK);
  /* the call itself carried the secrets: redaction is only on the way to disk */
  assert_non_null(strstr(resp->body, f->cs.c[0]));
  reqlog_response_free(resp);

  /* a form body */
  char form[512];
  snprintf(form, sizeof form, "user=visible-user&refresh-token=%s&ClientSecret=%s", f->cs.c[11],
           f->cs.c[12]);
  const char *form_hdrs[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
  assert_int_equal(reqlog_request(r, "POST", "/echo", form, strlen(form), form_hdrs, &resp),
                   REQLOG_OK);
  reqlog_response_free(resp);

  /* multipart field names, sent by libcurl's MIME API through the drop-in */
  char url[256];
  snprintf(url, sizeof url, "%s/echo", fakeapi_base_url(f->api));
  CURL *tmp = curl_easy_init();
  curl_mime *mime = curl_mime_init(tmp);
  curl_mimepart *part = curl_mime_addpart(mime);
  curl_mime_name(part, "clientSecret");
  curl_mime_data(part, f->cs.c[13], CURL_ZERO_TERMINATED);
  part = curl_mime_addpart(mime);
  curl_mime_name(part, "API-KEY");
  curl_mime_data(part, f->cs.c[14], CURL_ZERO_TERMINATED);
  part = curl_mime_addpart(mime);
  curl_mime_name(part, "comment");
  curl_mime_data(part, "visible-comment", CURL_ZERO_TERMINATED);
  const char *mp_hdrs[] = {"Authorization: Bearer " FAKEAPI_KEY, NULL};
  perform(r, url, mp_hdrs, mime, NULL);
  curl_mime_free(mime);
  curl_easy_cleanup(tmp);

  assert_int_equal(reqlog_flush(r, NULL), REQLOG_OK);
  int open_leaks = leaks(f->db, &f->cs, 15);
  assert_int_equal(reqlog_close(r), REQLOG_OK);
  int closed_leaks = leaks(f->db, &f->cs, 15);
  assert_int_equal(open_leaks, 0);
  assert_int_equal(closed_leaks, 0);
  sqlite3 *s = tu_db(f->db);
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls"), 3);
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls WHERE reqlog_unpack(packed, request_body) LIKE "
                             "'%[REDACTED]%'"), 3);
  sqlite3_close(s);
  /* the grep can fail: what is not secret was stored */
  assert_true(tu_history_contains(f->db, "visible-name"));
  assert_true(tu_history_contains(f->db, "visible-page"));
  assert_true(tu_history_contains(f->db, "visible-user"));
  assert_true(tu_history_contains(f->db, "visible-comment"));
  printf("checked: 15 canaries under accessToken/refreshToken/clientSecret/apiKey/ACCESS-TOKEN "
         "(JSON), accessToken/Api-Key (query), refresh-token/ClientSecret (form), "
         "clientSecret/API-KEY (multipart), and added names in other spellings (dateOfBirth, "
         "medicare_number, x_tenant_ref, Date-Of-Birth) are in none of the raw database "
         "files, open or closed; the non-secret values beside them are\n");
}

/* base64 of S, in OUT (at least 4 * (strlen(S) + 2) / 3 + 1 bytes). */
static void b64(const char *s, char *out) {
  EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)strlen(s));
}

static void test_basic_auth(void **state) {
  fixture *f = *state;
  reqlog *r = NULL;
  assert_int_equal(reqlog_open(f->db, &r, NULL), REQLOG_OK);

  /* Authorization by libcurl from CURLOPT_USERPWD (the test API answers 401) */
  char userpwd[128], url[256], cred[128], proxy_cred[128], proxy_hdr[200];
  snprintf(userpwd, sizeof userpwd, "alice:%s", f->cs.c[0]);
  snprintf(url, sizeof url, "%s/echo", fakeapi_base_url(f->api));
  perform(r, url, NULL, NULL, userpwd);
  /* Proxy-Authorization as a header of its own, beside a bearer key */
  char bob[128];
  snprintf(bob, sizeof bob, "bob:%s", f->cs.c[1]);
  b64(bob, proxy_cred);
  snprintf(proxy_hdr, sizeof proxy_hdr, "Proxy-Authorization: Basic %s", proxy_cred);
  const char *hdrs[] = {"Authorization: Bearer " FAKEAPI_KEY, proxy_hdr, NULL};
  perform(r, url, hdrs, NULL, NULL);
  assert_int_equal(reqlog_flush(r, NULL), REQLOG_OK);

  /* what the old versions stored: the fingerprint of the base64 credentials */
  b64(userpwd, cred);
  char old_fp[48], old_hex[9];
  reqlog_key_fingerprint(cred, old_fp);
  char *hash = strchr(old_fp, '#');
  assert_non_null(hash);
  snprintf(old_hex, sizeof old_hex, "%s", hash + 1);

  sqlite3 *s = tu_db(f->db);
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls"), 2);
  char *auth = tu_text(s, "SELECT value ->> 1 FROM calls, json_each(reqlog_unpack(packed, "
                          "request_headers)) WHERE status = 401 AND lower(value ->> 0) = 'authorization'");
  assert_non_null(auth);
  assert_string_equal(auth, "Basic alice:[REDACTED]");
  free(auth);
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls WHERE status = 401 AND key IS NULL"),
                   1);
  char *proxy = tu_text(s, "SELECT value ->> 1 FROM calls, json_each(reqlog_unpack(packed, "
                           "request_headers)) WHERE lower(value ->> 0) = 'proxy-authorization'");
  assert_non_null(proxy);
  assert_string_equal(proxy, "Basic bob:[REDACTED]");
  free(proxy);
  /* the bearer call beside it keeps its key fingerprint */
  char fp[48];
  reqlog_key_fingerprint(FAKEAPI_KEY, fp);
  char *key = tu_text(s, "SELECT key FROM calls WHERE status = 200");
  assert_non_null(key);
  assert_string_equal(key, fp);
  free(key);
  sqlite3_close(s);

  const char *never[] = {f->cs.c[0], f->cs.c[1], cred, proxy_cred, old_hex, NULL};
  int found = 0;
  for (int i = 0; never[i]; i++)
    found += tu_db_files_contain(f->db, never[i]);
  assert_int_equal(reqlog_close(r), REQLOG_OK);
  for (int i = 0; never[i]; i++)
    found += tu_db_files_contain(f->db, never[i]);
  assert_int_equal(found, 0);
  assert_true(tu_history_contains(f->db, "alice:[REDACTED]"));

  /* the CLI shows no key for the Basic call, and no trace of the old fingerprint */
  char *out = NULL, *err = NULL;
  const char *list[] = {"--db", f->db, "list", "--status", "401", NULL};
  int rc = tu_run(list, NULL, NULL, &out, &err);
  if (rc != 0)
    fprintf(stderr, "reqlog list: %d\n%s\n", rc, err);
  assert_int_equal(rc, 0);
  assert_non_null(strstr(out, " - "));
  assert_null(strstr(out, old_hex));
  assert_null(strstr(out, "\xE2\x80\xA6"));
  free(out);
  free(err);
  const char *fmts[] = {"csv", "ndjson", "har"};
  for (size_t i = 0; i < 3; i++) {
    const char *exp[] = {"--db", f->db, "export", "--format", fmts[i], NULL};
    rc = tu_run(exp, NULL, NULL, &out, &err);
    assert_int_equal(rc, 0);
    assert_null(strstr(out, old_hex));
    assert_null(strstr(out, f->cs.c[0]));
    assert_null(strstr(out, cred));
    if (strcmp(fmts[i], "har") == 0) /* the one with request headers */
      assert_non_null(strstr(out, "alice:[REDACTED]"));
    free(out);
    free(err);
  }
  printf("checked: Basic Authorization (libcurl's, from USERPWD) and Proxy-Authorization "
         "are stored as 'Basic <user>:[REDACTED]', the Basic call's key is NULL ('-' in "
         "list), the bearer call keeps its fingerprint; neither password, base64 credential "
         "nor the old fingerprint's hash (%s) is in the raw files or in list/csv/ndjson/har "
         "output\n", old_hex);
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_folded_names, start, finish),
    cmocka_unit_test_setup_teardown(test_basic_auth, start, finish),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  curl_global_cleanup();
  return rc;
}
