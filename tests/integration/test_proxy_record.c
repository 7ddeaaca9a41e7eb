/* test_proxy_record.c: what `reqlog proxy` passes through and what it records. The real
 * binary between real clients (the curl command-line tool and node's fetch()) and the
 * tests' fake API on loopback, recording into a real SQLite file; what the clients get
 * is checked against the same calls made directly, and what was stored through
 * `reqlog show --json` and SQL. The suite's fixture is tests/lib/testproxy.c; errors and
 * refusals are in test_proxy_errors.c, large bodies and concurrency in
 * test_proxy_stream.c.
 *
 * Plan:
 *   GET            curl through the proxy gets the bytes and headers a direct call gets;
 *                  the row holds every field of the row model (source "proxy", the
 *                  upstream URL, the client's own headers with its key fingerprinted,
 *                  timing phases, remote address, HTTP version...)
 *   POST / 422     curl -d with a bearer key: 201 and the body stored as sent; a 422
 *                  passes through with the API's message and field errors in the row
 *   bodies         /large 5 MB byte-identical to direct, stored cut at the cap with the
 *                  full size and the SHA-256 of all of it; /binary identical and stored
 *                  as a BLOB; /gzip with --compressed identical, stored decoded; HEAD
 *   429            passed through unchanged (status, Retry-After, body) and sent to the
 *                  upstream exactly once: no retries of the proxy's own
 *   node fetch     GET and POST from node 20 through the proxy equal the direct calls
 *   redaction      the key sent in the client's Authorization header, a password in a
 *                  JSON body, a Set-Cookie session and the key echoed back by /echo are
 *                  in none of the raw database files
 *   locations      an upstream with a path (/public/v1): a relative Location under it
 *                  comes back in the proxy's URL space and curl -L follows it to a 200;
 *                  absolute upstream URLs in Location and Content-Location are rewritten
 *                  to the proxy's address, foreign hosts and paths outside the upstream's
 *                  path are left alone
 *   stats          a proxy started with --stats, 7 requests through it, SIGTERM: exit 0,
 *                  its stderr is the one summary line, counting the 7 requests, the
 *                  loops' turns, no wait for the recording queue; 7 rows
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
#include <strings.h>

#include "reqlog.h"
#include "testproxy.h"

/* ------------------------------------------------------------------ helpers */

/* Header names of a raw head block after the status line, in order, lower-cased,
 * without Date (which differs between two answers). */
static void head_names(const char *block, char *out, size_t outlen) {
  out[0] = '\0';
  const char *p = strchr(block, '\n');
  while (p && *++p && *p != '\r' && *p != '\n') {
    size_t n = strcspn(p, ":\r\n");
    if (strncasecmp(p, "Date", n) != 0 || n != 4) {
      size_t at = strlen(out);
      for (size_t i = 0; i < n && at + 2 < outlen; i++)
        out[at++] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
      out[at++] = ' ';
      out[at] = '\0';
    }
    p = strchr(p, '\n');
  }
}

/* Splits curl -i tp_output into its last head block (returned) and body (*body). */
static char *split_head(tp_output *o, const char **body, size_t *body_len) {
  char *end = strstr(o->p, "\r\n\r\n");
  assert_non_null(end);
  *body = end + 4;
  *body_len = o->len - (size_t)(end + 4 - o->p);
  return strndup(o->p, (size_t)(end + 2 - o->p));
}

/* ------------------------------------------------------------------ tests */

static void test_get_all_fields(void **state) {
  tp_env *e = *state;
  char purl[300], durl[300];
  snprintf(purl, sizeof purl, "%s/participants?page=1&t=get_fields", e->proxy.url);
  snprintf(durl, sizeof durl, "%s/participants?page=1&t=get_fields", e->direct);
  const char *extra[] = {"-i", "-H", TP_AUTH, "-H", "Accept: application/json", "-H",
                         "X-Request-Id: 42", NULL};
  tp_output viap, direct;
  int64_t before = tu_now_us();
  assert_int_equal(tp_curl(purl, extra, &viap), 0);
  assert_int_equal(tp_curl(durl, extra, &direct), 0);
  const char *pb, *db;
  size_t pbl, dbl;
  char *ph = split_head(&viap, &pb, &pbl), *dh = split_head(&direct, &db, &dbl);
  assert_true(strncmp(ph, "HTTP/1.1 200 OK\r\n", 17) == 0);
  assert_int_equal(pbl, dbl);
  assert_memory_equal(pb, db, pbl);
  char pn[1024], dn[1024], v1[256], v2[256];
  head_names(ph, pn, sizeof pn);
  head_names(dh, dn, sizeof dn);
  assert_string_equal(pn, dn);
  assert_string_equal(tp_block_header(ph, "Content-Type", v1, sizeof v1),
                      tp_block_header(dh, "Content-Type", v2, sizeof v2));
  assert_string_equal(tp_block_header(ph, "X-RateLimit-Limit", v1, sizeof v1), "100000");
  printf("checked: curl through the proxy gets the same %zu body bytes and the same "
         "headers (%s) as directly\n", pbl, pn);

  cJSON *row = tp_row_for(e->db, "t=get_fields");
  assert_true(tu_num(row, "id") >= 1);
  const char *ts = tu_str(row, "started_at");
  assert_non_null(ts);
  assert_int_equal(strlen(ts), 27);
  int64_t at = 0;
  assert_int_equal(reqlog_parse_time(ts, 0, &at), REQLOG_OK);
  assert_true(at >= before - 1000000 && at <= tu_now_us());
  assert_string_equal(tu_str(row, "method"), "GET");
  char want_url[300];
  snprintf(want_url, sizeof want_url, "%s/participants?page=1&t=get_fields", e->direct);
  assert_string_equal(tu_str(row, "url"), want_url);
  assert_string_equal(tu_str(row, "host"), "127.0.0.1");
  assert_string_equal(tu_str(row, "path"), "/public/v1/participants");
  assert_int_equal((int)tu_num(row, "status"), 200);
  assert_true(tu_is_null(row, "error"));
  assert_true(tu_num(row, "duration_ms") > 0);
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(row, "timing");
  const char *phases[] = {"queued_ms", "dns_ms", "connect_ms", "tls_ms", "ttfb_ms", "total_ms"};
  double sum = 0;
  for (int i = 0; i < 6; i++)
    assert_true(tu_num(t, phases[i]) >= 0);
  for (int i = 1; i < 5; i++)
    sum += tu_num(t, phases[i]);
  assert_true(tu_num(t, "queued_ms") == 0);
  assert_true(tu_num(t, "total_ms") == tu_num(row, "duration_ms"));
  assert_true(sum <= tu_num(t, "total_ms") + 0.001);
  assert_string_equal(tu_str(row, "key"), e->fp);
  assert_int_equal((int)tu_num(row, "attempt"), 1);
  assert_true(tu_is_null(row, "retry_of"));
  assert_string_equal(tu_str(row, "source"), "proxy");
  char want_auth[96];
  snprintf(want_auth, sizeof want_auth, "Bearer %s", e->fp);
  assert_string_equal(tu_header(row, "request_headers", "Authorization"), want_auth);
  assert_string_equal(tu_header(row, "request_headers", "X-Request-Id"), "42");
  assert_string_equal(tu_header(row, "request_headers", "Accept"), "application/json");
  assert_non_null(strstr(tu_header(row, "request_headers", "User-Agent"), "curl/"));
  /* the Host sent upstream (libcurl's), not the proxy's address the client used */
  char up_host[128];
  snprintf(up_host, sizeof up_host, "%.*s", (int)strcspn(e->direct + 7, "/"), e->direct + 7);
  assert_string_equal(tu_header(row, "request_headers", "Host"), up_host);
  assert_string_equal(tu_header(row, "response_headers", "Content-Type"), "application/json");
  assert_string_equal(tu_header(row, "response_headers", "X-RateLimit-Limit"), "100000");
  assert_true(tu_is_null(row, "request_body"));
  const char *rb = tu_str(row, "response_body");
  assert_non_null(rb);
  assert_int_equal(strlen(rb), pbl);
  assert_memory_equal(rb, pb, pbl);
  assert_int_equal((int)tu_num(row, "request_size"), 0);
  assert_int_equal((int)tu_num(row, "response_size"), (int)pbl);
  assert_false(tu_is_true(row, "request_truncated"));
  assert_false(tu_is_true(row, "response_truncated"));
  assert_string_equal(tu_str(row, "content_type"), "application/json");
  assert_string_equal(tu_str(row, "http_version"), "HTTP/1.1");
  assert_string_equal(tu_str(row, "remote_ip"), "127.0.0.1");
  assert_true(tu_is_null(row, "error_message"));
  assert_true(tu_is_null(row, "error_fields"));
  printf("checked: the row has every field of the row model: source proxy, the upstream "
         "URL, the client's headers (key fingerprinted as %s), the response as the "
         "client got it, timing phases, remote address, HTTP version\n", e->fp);
  cJSON_Delete(row);
  free(ph);
  free(dh);
  free(viap.p);
  free(direct.p);
}

static void test_post_and_422(void **state) {
  tp_env *e = *state;
  char url[300];
  const char *good = "{\"first_name\":\"Ada\",\"last_name\":\"Lovelace\",\"email\":\"ada@example.com\"}";
  snprintf(url, sizeof url, "%s/participants?t=post_201", e->proxy.url);
  const char *extra[] = {"-i", "-H", TP_AUTH, "-H", "Content-Type: application/json", "-d", good, NULL};
  tp_output o;
  assert_int_equal(tp_curl(url, extra, &o), 0);
  assert_true(strncmp(o.p, "HTTP/1.1 201", 12) == 0);
  cJSON *row = tp_row_for(e->db, "t=post_201");
  assert_string_equal(tu_str(row, "method"), "POST");
  assert_int_equal((int)tu_num(row, "status"), 201);
  assert_string_equal(tu_str(row, "request_body"), good);
  assert_int_equal((int)tu_num(row, "request_size"), (int)strlen(good));
  assert_string_equal(tu_header(row, "request_headers", "Content-Type"), "application/json");
  assert_string_equal(tu_str(row, "key"), e->fp);
  cJSON_Delete(row);
  free(o.p);
  printf("checked: curl -d with a bearer key through the proxy: 201, the body stored as "
         "sent, the key fingerprinted\n");

  const char *bad = "{\"last_name\":\"Hopper\",\"email\":\"not-an-email\"}";
  snprintf(url, sizeof url, "%s/participants?t=post_422", e->proxy.url);
  const char *extra2[] = {"-i", "-H", TP_AUTH, "-H", "Content-Type: application/json", "-d", bad, NULL};
  assert_int_equal(tp_curl(url, extra2, &o), 0);
  assert_true(strncmp(o.p, "HTTP/1.1 422", 12) == 0);
  const char *body;
  size_t blen;
  char *head = split_head(&o, &body, &blen);
  cJSON *doc = cJSON_Parse(body);
  assert_string_equal(tu_str(doc, "message"), "The given data was invalid.");
  row = tp_row_for(e->db, "t=post_422");
  assert_int_equal((int)tu_num(row, "status"), 422);
  assert_string_equal(tu_str(row, "error_message"), "The given data was invalid.");
  const cJSON *fields = cJSON_GetObjectItemCaseSensitive(row, "error_fields");
  assert_non_null(cJSON_GetObjectItemCaseSensitive(fields, "email"));
  assert_non_null(cJSON_GetObjectItemCaseSensitive(fields, "first_name"));
  assert_string_equal(tu_str(row, "response_body"), body);
  cJSON_Delete(doc);
  cJSON_Delete(row);
  free(head);
  free(o.p);

  const char *argv[] = {"--db", e->db, "list", "--field", "email", "--json", NULL};
  char *out = NULL, *err = NULL;
  assert_int_equal(tu_run(argv, NULL, NULL, &out, &err), 0);
  assert_non_null(strstr(out, "t=post_422"));
  free(out);
  free(err);
  printf("checked: a 422 passes through; the row has the API's message and field errors "
         "and `list --field email` finds it\n");
}

static void compare_download(tp_env *e, const char *path, const char *const *extra,
                             tp_output *via, tp_output *direct) {
  char purl[300], durl[300];
  snprintf(purl, sizeof purl, "%s%s", e->proxy.url, path);
  snprintf(durl, sizeof durl, "%s%s", e->direct, path);
  assert_int_equal(tp_curl(purl, extra, via), 0);
  assert_int_equal(tp_curl(durl, extra, direct), 0);
  assert_int_equal(via->len, direct->len);
  assert_memory_equal(via->p, direct->p, via->len);
}

static void test_bodies(void **state) {
  tp_env *e = *state;
  const char *auth[] = {"-H", TP_AUTH, NULL};
  tp_output via, direct;
  compare_download(e, "/large?bytes=5000000&t=large5m", auth, &via, &direct);
  assert_int_equal(via.len, 5000000);
  unsigned char d[32];
  unsigned dn = 0;
  EVP_Digest(via.p, via.len, d, &dn, EVP_sha256(), NULL);
  char want_sha[65];
  tp_hex(d, 32, want_sha);
  int64_t id = tp_row_id(e->db, "t=large5m");
  cJSON *row = tp_show(e->db, id);
  assert_int_equal((int)tu_num(row, "response_size"), 5000000);
  assert_true(tu_is_true(row, "response_truncated"));
  assert_string_equal(tu_str(row, "response_sha256"), want_sha);
  sqlite3 *h = tu_db(e->db);
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT length(reqlog_unpack(packed, response_body)) FROM calls WHERE id = %lld", (long long)id);
  assert_int_equal(tu_int(h, sql), 1024 * 1024);
  sqlite3_close(h);
  cJSON_Delete(row);
  free(via.p);
  free(direct.p);
  printf("checked: /large 5 MB through the proxy is byte-identical to direct; stored cut at "
         "1 MiB with size 5000000 and the SHA-256 of the whole body\n");

  compare_download(e, "/binary?bytes=3000&t=binary", auth, &via, &direct);
  assert_int_equal(via.len, 3000);
  row = tp_row_for(e->db, "t=binary");
  const cJSON *rb = cJSON_GetObjectItemCaseSensitive(row, "response_body");
  assert_true(cJSON_IsObject(rb));
  assert_non_null(tu_str(rb, "base64"));
  assert_int_equal((int)tu_num(row, "response_size"), 3000);
  cJSON_Delete(row);
  free(via.p);
  free(direct.p);
  printf("checked: /binary is byte-identical and stored as a BLOB ({\"base64\": ...})\n");

  const char *gz[] = {"-H", TP_AUTH, "--compressed", NULL};
  compare_download(e, "/gzip?t=gzip", gz, &via, &direct);
  row = tp_row_for(e->db, "t=gzip");
  assert_string_equal(tu_header(row, "response_headers", "Content-Encoding"), "gzip");
  assert_non_null(strstr(tu_header(row, "request_headers", "Accept-Encoding"), "gzip"));
  assert_string_equal(tu_str(row, "response_body"), via.p);
  cJSON_Delete(row);
  free(via.p);
  free(direct.p);
  /* without --compressed the client gets the gzip bytes exactly as the API sent them */
  const char *raw[] = {"-H", TP_AUTH, "-H", "Accept-Encoding: gzip", NULL};
  compare_download(e, "/gzip?t=gzipraw", raw, &via, &direct);
  assert_true(via.len > 2 && (unsigned char)via.p[0] == 0x1f && (unsigned char)via.p[1] == 0x8b);
  free(via.p);
  free(direct.p);
  printf("checked: /gzip with --compressed gives the same text as direct, the raw gzip "
         "bytes pass unchanged, and the row stores the body decoded\n");

  const char *headreq[] = {"-I", "-H", TP_AUTH, NULL};
  char purl[300];
  snprintf(purl, sizeof purl, "%s/participants/1?t=head", e->proxy.url);
  assert_int_equal(tp_curl(purl, headreq, &via), 0);
  char v[64];
  assert_true(strncmp(via.p, "HTTP/1.1 200", 12) == 0);
  assert_true(atoi(tp_block_header(via.p, "Content-Length", v, sizeof v)) > 0);
  row = tp_row_for(e->db, "t=head");
  assert_string_equal(tu_str(row, "method"), "HEAD");
  assert_int_equal((int)tu_num(row, "status"), 200);
  assert_true(tu_is_null(row, "response_body"));
  cJSON_Delete(row);
  free(via.p);
  printf("checked: HEAD passes through with the upstream's Content-Length and no body\n");
}

static void test_429_passthrough(void **state) {
  tp_env *e = *state;
  long hits = fakeapi_hits(e->api, "/public/v1/status");
  char purl[300], durl[300];
  snprintf(purl, sizeof purl, "%s/status/429?retry_after=7&t=s429", e->proxy.url);
  snprintf(durl, sizeof durl, "%s/status/429?retry_after=7&t=s429", e->direct);
  const char *extra[] = {"-i", "-H", TP_AUTH, NULL};
  tp_output via, direct;
  assert_int_equal(tp_curl(purl, extra, &via), 0);
  assert_int_equal(fakeapi_hits(e->api, "/public/v1/status"), hits + 1);
  assert_int_equal(tp_curl(durl, extra, &direct), 0);
  const char *pb, *dbody;
  size_t pbl, dbl;
  char *ph = split_head(&via, &pb, &pbl), *dh = split_head(&direct, &dbody, &dbl);
  char v1[64], v2[64];
  assert_true(strncmp(ph, "HTTP/1.1 429", 12) == 0);
  assert_string_equal(tp_block_header(ph, "Retry-After", v1, sizeof v1), "7");
  assert_string_equal(v1, tp_block_header(dh, "Retry-After", v2, sizeof v2));
  assert_int_equal(pbl, dbl);
  assert_memory_equal(pb, dbody, pbl);
  cJSON *row = tp_row_for(e->db, "t=s429");
  assert_int_equal((int)tu_num(row, "status"), 429);
  assert_int_equal((int)tu_num(row, "attempt"), 1);
  assert_true(tu_is_null(row, "retry_of"));
  assert_string_equal(tu_header(row, "response_headers", "Retry-After"), "7");
  cJSON_Delete(row);
  free(ph);
  free(dh);
  free(via.p);
  free(direct.p);
  printf("checked: a 429 with Retry-After reaches the client unchanged, the upstream saw "
         "it once (no retries), one row with attempt 1\n");
}

static void test_node_fetch(void **state) {
  tp_env *e = *state;
  const char *script =
    "const [base, key] = process.argv.slice(1);"
    "const h = {Authorization: 'Bearer ' + key, 'Content-Type': 'application/json'};"
    "(async () => {"
    "  const a = await fetch(base + '/participants/2?t=node_get', {headers: h});"
    "  const b = await fetch(base + '/participants?t=node_post', {method: 'POST', headers: h,"
    "    body: JSON.stringify({first_name: 'Node', email: 'nope'})});"
    "  console.log(JSON.stringify([a.status, await a.text(), b.status, await b.text(),"
    "    b.headers.get('content-type')]));"
    "})().catch(e => { console.error(e); process.exit(1); });";
  tp_output via, direct;
  const char *pargv[] = {"node", "-e", script, e->proxy.url, FAKEAPI_KEY, NULL};
  const char *dargv[] = {"node", "-e", script, e->direct, FAKEAPI_KEY, NULL};
  assert_int_equal(tp_run_out(pargv, &via), 0);
  assert_int_equal(tp_run_out(dargv, &direct), 0);
  assert_string_equal(via.p, direct.p);
  cJSON *res = cJSON_Parse(via.p);
  assert_int_equal(cJSON_GetArrayItem(res, 0)->valueint, 200);
  assert_int_equal(cJSON_GetArrayItem(res, 2)->valueint, 422);
  assert_string_equal(cJSON_GetArrayItem(res, 4)->valuestring, "application/json");
  cJSON_Delete(res);
  cJSON *row = tp_row_for(e->db, "t=node_get");
  assert_int_equal((int)tu_num(row, "status"), 200);
  assert_string_equal(tu_str(row, "key"), e->fp);
  assert_string_equal(tu_header(row, "request_headers", "User-Agent"), "node");
  cJSON_Delete(row);
  row = tp_row_for(e->db, "t=node_post");
  assert_int_equal((int)tu_num(row, "status"), 422);
  assert_string_equal(tu_str(row, "request_body"), "{\"first_name\":\"Node\",\"email\":\"nope\"}");
  assert_string_equal(tu_str(row, "error_message"), "The given data was invalid.");
  cJSON_Delete(row);
  free(via.p);
  free(direct.p);
  printf("checked: node fetch() GET and POST through the proxy get what they get directly; "
         "both recorded\n");
}

static void test_redaction(void **state) {
  tp_env *e = *state;
  char *db = tu_path(e->dir, "secrets.db");
  tp_proc p;
  const char *listen_args[] = {"--upstream", e->direct, "--listen", "127.0.0.1:0", NULL};
  assert_int_equal(tp_start(e->dir, db, listen_args, &p), 0);
  char url[300];
  tp_output o;
  snprintf(url, sizeof url, "%s/echo?t=secret_echo", p.url);
  const char *echo[] = {"-H", TP_AUTH, "-H", "Content-Type: application/json", "-d",
                        "{\"email\":\"a@b.c\",\"password\":\"hunter2-very-secret\"}", NULL};
  assert_int_equal(tp_curl(url, echo, &o), 0);
  assert_non_null(strstr(o.p, FAKEAPI_KEY)); /* /echo sends the key back in its body */
  free(o.p);
  snprintf(url, sizeof url, "%s/session?t=secret_cookie", p.url);
  const char *sess[] = {"-i", "-H", TP_AUTH, "-H", "Cookie: session=CLIENTCOOKIE777", NULL};
  assert_int_equal(tp_curl(url, sess, &o), 0);
  assert_non_null(strstr(o.p, "SESSSECRET123")); /* the client gets its cookie */
  free(o.p);
  tp_stop(&p, SIGTERM); /* everything queued is written */
  const char *secrets[] = {FAKEAPI_KEY, "hunter2-very-secret", "SESSSECRET123",
                           "CLIENTCOOKIE777", NULL};
  for (int i = 0; secrets[i]; i++)
    assert_false(tu_db_files_contain(db, secrets[i]));
  sqlite3 *h = tu_db(db);
  assert_int_equal(tu_int(h, "SELECT count(*) FROM calls WHERE source = 'proxy'"), 2);
  sqlite3_close(h);
  free(db);
  printf("checked: the client's key, its cookie, a password in its JSON body, a Set-Cookie "
         "session and the key echoed back in a response body are in none of the raw "
         "database files\n");
}

/* ------------------------------------------------------------------ locations */

static int loc_port; /* the port of the test's location server */

/* GET /base/KIND answers 302 with a Location and a Content-Location of kind KIND. */
static enum MHD_Result loc_handler(void *cls, struct MHD_Connection *c, const char *url,
                                   const char *method, const char *version,
                                   const char *data, size_t *data_size, void **con_cls) {
  char loc[256] = "", cloc[256] = "";
  if (strcmp(url, "/base/abs") == 0) {
    snprintf(loc, sizeof loc, "http://127.0.0.1:%d/base/x?q=1", loc_port);
    snprintf(cloc, sizeof cloc, "HTTP://127.0.0.1:%d/base", loc_port);
  } else if (strcmp(url, "/base/foreign") == 0) {
    snprintf(loc, sizeof loc, "http://127.0.0.2:%d/base/x", loc_port);
    snprintf(cloc, sizeof cloc, "https://127.0.0.1:%d/base/y", loc_port);
  } else if (strcmp(url, "/base/outside") == 0) {
    snprintf(loc, sizeof loc, "/basement/x");
    snprintf(cloc, sizeof cloc, "/base?z=1");
  }
  struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
  MHD_add_response_header(r, "Location", loc);
  MHD_add_response_header(r, "Content-Location", cloc);
  enum MHD_Result ret = MHD_queue_response(c, 302, r);
  MHD_destroy_response(r);
  return ret;
}

static void test_locations(void **state) {
  tp_env *e = *state;
  tp_output o;
  char url[300], v[256], want[300];
  /* the fake API's relative redirect under /public/v1, followed by curl */
  snprintf(url, sizeof url, "%s/redirect?to=participants/1&t=loc_rel", e->proxy.url);
  const char *inc[] = {"-i", "-H", TP_AUTH, NULL};
  assert_int_equal(tp_curl(url, inc, &o), 0);
  assert_true(strncmp(o.p, "HTTP/1.1 302", 12) == 0);
  assert_string_equal(tp_block_header(o.p, "Location", v, sizeof v), "/participants/1");
  free(o.p);
  const char *follow[] = {"-L", "-H", TP_AUTH, "-o", "/dev/null", "-w", "%{http_code} %{url_effective}", NULL};
  assert_int_equal(tp_curl(url, follow, &o), 0);
  snprintf(want, sizeof want, "200 %s/participants/1", e->proxy.url);
  assert_string_equal(o.p, want);
  free(o.p);
  printf("checked: a relative Location under the upstream's path comes back in the "
         "proxy's URL space; curl -L follows it to a 200\n");

  struct sockaddr_in sin = {0};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct MHD_Daemon *srv = MHD_start_daemon(
    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL, loc_handler, NULL,
    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin, MHD_OPTION_END);
  assert_non_null(srv);
  loc_port = MHD_get_daemon_info(srv, MHD_DAEMON_INFO_BIND_PORT)->port;
  char *db = tu_path(e->dir, "loc.db");
  char up[64];
  snprintf(up, sizeof up, "http://127.0.0.1:%d/base/", loc_port);
  tp_proc p;
  const char *args[] = {"--upstream", up, "--listen", "127.0.0.1:0", NULL};
  assert_int_equal(tp_start(e->dir, db, args, &p), 0);
  static const char *const kinds[][3] = {
    /* path, Location, Content-Location; %s: the proxy's URL, %d: the server's port */
    {"abs", "%s/x?q=1", "%s/"},
    {"foreign", "http://127.0.0.2:%d/base/x", "https://127.0.0.1:%d/base/y"},
    {"outside", "/basement/x", "/?z=1"},
  };
  const char *plain[] = {"-i", NULL};
  for (size_t i = 0; i < 3; i++) {
    snprintf(url, sizeof url, "%s/%s", p.url, kinds[i][0]);
    assert_int_equal(tp_curl(url, plain, &o), 0);
    for (int k = 1; k <= 2; k++) {
      if (strstr(kinds[i][k], "%s"))
        snprintf(want, sizeof want, kinds[i][k], p.url);
      else if (strstr(kinds[i][k], "%d"))
        snprintf(want, sizeof want, kinds[i][k], loc_port);
      else
        snprintf(want, sizeof want, "%s", kinds[i][k]);
      tp_block_header(o.p, k == 1 ? "Location" : "Content-Location", v, sizeof v);
      if (strcmp(v, want) != 0)
        fprintf(stderr, "%s: %s\n", kinds[i][0], o.p);
      assert_string_equal(v, want);
    }
    free(o.p);
  }
  tp_stop(&p, SIGTERM);
  MHD_stop_daemon(srv);
  free(db);
  printf("checked: absolute upstream URLs in Location and Content-Location become the "
         "proxy's (scheme and host compared case-insensitively); another host, another "
         "scheme and a path outside the upstream's are left alone\n");
}

/* The --stats line of a proxy run with ARGS (upstream the fake API, at 127.0.0.1) after
 * 7 requests: every request counted, OWN of them on the own HTTP/1.1 client, no waits,
 * nothing else on stderr, 7 rows. */
static void stats_run(tp_env *e, const char *name, const char *const *args,
                      unsigned long long own) {
  char db[600];
  snprintf(db, sizeof db, "%s/%s.db", e->dir, name);
  tp_proc px = {0};
  assert_int_equal(tp_start(e->dir, db, args, &px), 0);
  for (int i = 0; i < 7; i++) {
    char url[400];
    snprintf(url, sizeof url, "%s/participants?t=stats%d", px.url, i);
    const char *extra[] = {"-H", TP_AUTH, NULL};
    tp_output out;
    assert_int_equal(tp_curl(url, extra, &out), 0);
    assert_non_null(strstr(out.p, "Olivia"));
    free(out.p);
  }
  assert_int_equal(tp_kill(&px, SIGTERM), 0);
  char *err = tu_read_file(px.err_path);
  assert_non_null(err);
  unsigned long long requests = 99, turns = 0, waits = 99, on_own = 99;
  const char *line = strstr(err, "reqlog proxy: ");
  assert_non_null(line);
  assert_true(line == err); /* nothing else on stderr */
  assert_int_equal(sscanf(line, "reqlog proxy: %llu requests (%llu upstream transfers on the "
                          "own HTTP/1.1 client, the others on libcurl); event loops: %llu turns",
                          &requests, &on_own, &turns), 3);
  assert_int_equal(requests, 7);
  assert_int_equal(on_own, own);
  assert_true(turns >= 7);
  const char *w = strstr(line, "queue peak ");
  assert_non_null(w);
  w = strstr(w, " MiB, ");
  assert_non_null(w);
  assert_int_equal(sscanf(w, " MiB, %llu waits for room", &waits), 1);
  assert_int_equal(waits, 0);
  assert_non_null(strchr(line, '\n'));
  assert_int_equal(strchr(line, '\n')[1], '\0');
  sqlite3 *h = tu_db(db);
  assert_int_equal(tu_int(h, "SELECT count(*) FROM calls WHERE url LIKE '%t=stats%' AND "
                             "status = 200 AND http_version = 'HTTP/1.1' AND "
                             "remote_ip = '127.0.0.1'"), 7);
  sqlite3_close(h);
  free(err);
}

static void test_stats(void **state) {
  tp_env *e = *state;
  const char *own[] = {"--upstream", e->direct, "--stats", NULL};
  stats_run(e, "stats", own, 7);
  const char *curl[] = {"--upstream", e->direct, "--stats", "--libcurl", NULL};
  stats_run(e, "stats-curl", curl, 0);
  printf("checked: proxy --stats ends with one line counting its 7 requests (7 on the own "
         "HTTP/1.1 client, 0 with --libcurl), the loop turns and no wait for the recording "
         "queue; the rows say HTTP/1.1 from 127.0.0.1 either way\n");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_get_all_fields),
    cmocka_unit_test(test_post_and_422),
    cmocka_unit_test(test_bodies),
    cmocka_unit_test(test_429_passthrough),
    cmocka_unit_test(test_node_fetch),
    cmocka_unit_test(test_redaction),
    cmocka_unit_test(test_locations),
    cmocka_unit_test(test_stats),
  };
  return tp_main("proxy_record", tests, sizeof tests / sizeof tests[0]);
}
