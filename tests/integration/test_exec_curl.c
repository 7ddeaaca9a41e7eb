/* test_exec.c: `reqlog exec` runs real programs that no one here wrote (the curl
 * command, git, PHP) with the shim preloaded, against the fake API and a local file
 * server on loopback, and the rows hold their transfers while the programs behave
 * exactly as without reqlog.
 *
 * Plan:
 *   curl GET          stdout, stderr and exit code identical with and without exec; one
 *                     row with every field; the key only as its fingerprint, on disk too
 *   curl POST         -d JSON (201) and -d @- from stdin (422 with message and errors)
 *   redirects         -L /redirect/2 is one row, the final request; without -L the 302
 *   several URLs      one curl process, serial transfers: a row each, in order
 *   parallel          curl -Z (the multi interface): a row per transfer, bodies as saved
 *   verbose           curl -v: the program's own debug output is unchanged
 *   libcurl program   this binary as a threaded libcurl application: its own debug
 *                     callbacks (also on a duphandle copy, gone after reset) and its
 *                     CURLOPT_STDERR get what they get without exec; multi interface
 *   large body        past the cap: full size, truncated, the SHA-256 of the whole body
 *   children          sh -c 'curl; curl & wait': processes the program starts are recorded
 *   exit codes        curl's 7 (with its transport error row), 3, 128+SIGTERM, 127 for
 *                     a missing program, usage errors, --help
 *   signals           the program starts with the signal state it has without exec:
 *                     ignored stays ignored, default stays default, the same mask
 *   git               git clone over HTTP from a local server: git-remote-http is a
 *                     grandchild using libcurl-gnutls and curl_multi; every request the
 *                     server saw is a row, the clone is the same
 *   php               php -r with the curl extension (loaded with RTLD_DEEPBIND): output
 *                     and exit code unchanged, curl_exec and curl_multi_exec are rows
 *   plugins           a libcurl plugin loaded with RTLD_DEEPBIND (as PHP loads its curl
 *                     extension) is recorded; one loaded with dlmopen cannot be, and
 *                     reqlog warns; neither warns when it makes no transfer
 *   no parent         the shim preloaded with no parent, a missing one, or one that
 *                     hangs up: the program's output and exit code never change
 *   environment       LD_PRELOAD is appended to the program's own; a missing shim is
 *                     a clear error and the program does not run
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

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reqlog.h"
#include "capture/record.h"
#include "exec/shim_wire.h"
#include "testutil.h"

typedef struct suite {
  char *dir;
  fakeapi *api;
  char base[128];   /* the fake API's base URL */
  char auth[128];   /* "Authorization: Bearer KEY" */
  char fp[48];      /* the key's fingerprint */
  char shim[4096];  /* the shim next to the reqlog binary under test */
  char self[4096];  /* this test binary, for the hand-written wire client */
  char dlplug[4096]; /* tests/progs/dlplug of the build under test */
  int ndb;
} suite;

static suite *E;

/* ------------------------------------------------------------------ helpers */

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  size_t cap = 4096, n = 0, got;
  char *buf = malloc(cap + 1);
  while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap)
      buf = realloc(buf, (cap *= 2) + 1);
  }
  fclose(f);
  buf[n] = '\0';
  if (len)
    *len = n;
  return buf;
}

static void spit(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* Runs ARGV directly (PATH lookup), the way tu_run runs reqlog: STDIN_DATA on stdin,
 * ENV added to the environment, *out and *err what it printed. Returns its exit code or
 * 128 + signal. */
static int run_plain(const char *const *argv, const char *stdin_data, const char *const *env,
                     char **out, char **err) {
  char *in = tu_path(E->dir, "plain.in"), *o = tu_path(E->dir, "plain.out");
  char *e = tu_path(E->dir, "plain.err");
  spit(in, stdin_data ? stdin_data : "");
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int fi = open(in, O_RDONLY), fo = open(o, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int fe = open(e, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fi, 0);
    dup2(fo, 1);
    dup2(fe, 2);
    for (int i = 0; env && env[i]; i++)
      putenv((char *)env[i]);
    execvp(argv[0], (char *const *)argv);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  char *ob = slurp(o, NULL), *eb = slurp(e, NULL);
  if (out)
    *out = ob;
  else
    free(ob);
  if (err)
    *err = eb;
  else
    free(eb);
  free(in);
  free(o);
  free(e);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Runs `reqlog --db DB exec -- ARGV...`. */
static int run_exec(const char *db, const char *const *argv, const char *stdin_data,
                    const char *const *env, char **out, char **err) {
  const char *args[64] = {"--db", db, "exec", "--"};
  int n = 4;
  for (int i = 0; argv[i]; i++)
    args[n++] = argv[i];
  args[n] = NULL;
  return tu_run(args, stdin_data, env, out, err);
}

/* A fresh database path for one test. */
static char *new_db(void) {
  char name[32];
  snprintf(name, sizeof name, "exec%d.db", ++E->ndb);
  return tu_path(E->dir, name);
}

/* Every row of DB, oldest first, with bodies. */
static cJSON *rows_of(const char *db) {
  reqlog *r = NULL;
  assert_int_equal(reqlog_open(db, &r, NULL), REQLOG_OK);
  reqlog_cursor *c = NULL;
  reqlog_query_opts o = {.with_bodies = 1, .oldest_first = 1};
  assert_int_equal(reqlog_query(r, NULL, &o, &c, NULL), REQLOG_OK);
  cJSON *arr = cJSON_CreateArray(), *row = NULL;
  while (reqlog_cursor_next(c, &row) == REQLOG_OK)
    cJSON_AddItemToArray(arr, row);
  reqlog_cursor_free(c);
  reqlog_close(r);
  return arr;
}

static double num(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  assert_true(cJSON_IsNumber(v));
  return v->valuedouble;
}


static void url_of(char *out, size_t n, const char *path) {
  snprintf(out, n, "%s%s", E->base, path);
}

/* Asserts the key never reached DB's files and every row says source exec. */
static void assert_clean(const char *db, const cJSON *rows) {
  assert_false(tu_db_files_contain(db, FAKEAPI_KEY));
  const cJSON *row;
  cJSON_ArrayForEach(row, rows)
    assert_string_equal(tu_str(row, "source"), "exec");
}

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
  char *db = new_db(), url[300];
  url_of(url, sizeof url, "/participants?page=1");
  const char *argv[] = {"curl", "-s", "-H", E->auth, "-H", "Accept: application/json", url,
                        NULL};
  char *out1, *err1, *out2, *err2;
  int rc1 = run_plain(argv, NULL, NULL, &out1, &err1);
  int64_t before = tu_now_us();
  int rc2 = run_exec(db, argv, NULL, NULL, &out2, &err2);
  assert_int_equal(rc1, 0);
  assert_int_equal(rc2, 0);
  assert_string_equal(out1, out2);
  assert_string_equal(err1, err2);
  assert_true(strstr(out2, "\"data\"") != NULL);
  printf("checked: curl GET: exit 0, the same %zu bytes on stdout and the same (empty) "
         "stderr with and without reqlog exec\n", strlen(out2));

  cJSON *rows = rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), 1);
  cJSON *row = cJSON_GetArrayItem(rows, 0);
  assert_string_equal(tu_str(row, "source"), "exec");
  assert_string_equal(tu_str(row, "method"), "GET");
  assert_string_equal(tu_str(row, "url"), url);
  assert_string_equal(tu_str(row, "host"), "127.0.0.1");
  assert_string_equal(tu_str(row, "path"), "/public/v1/participants");
  assert_int_equal((int)num(row, "status"), 200);
  assert_true(tu_is_null(row, "error"));
  int64_t at = 0;
  assert_int_equal(reqlog_parse_time(tu_str(row, "started_at"), 0, &at), REQLOG_OK);
  assert_true(at >= before - 1000000 && at <= tu_now_us());
  assert_true(num(row, "duration_ms") > 0);
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(row, "timing");
  assert_true(num(t, "total_ms") == num(row, "duration_ms"));
  assert_true(num(t, "dns_ms") + num(t, "connect_ms") + num(t, "tls_ms") + num(t, "ttfb_ms") <=
              num(t, "total_ms") + 0.001);
  assert_string_equal(tu_str(row, "key"), E->fp);
  char want_auth[80];
  snprintf(want_auth, sizeof want_auth, "Bearer %s", E->fp);
  assert_string_equal(tu_header(row, "request_headers", "Authorization"), want_auth);
  assert_string_equal(tu_header(row, "request_headers", "Accept"), "application/json");
  assert_non_null(tu_header(row, "request_headers", "User-Agent"));
  assert_non_null(tu_header(row, "response_headers", "Content-Type"));
  assert_int_equal((int)num(row, "attempt"), 1);
  assert_true(tu_is_null(row, "retry_of"));
  assert_true(tu_is_null(row, "request_body"));
  assert_string_equal(tu_str(row, "response_body"), out2);
  assert_int_equal((size_t)num(row, "response_size"), strlen(out2));
  assert_string_equal(tu_str(row, "content_type"), "application/json");
  assert_string_equal(tu_str(row, "http_version"), "HTTP/1.1");
  assert_string_equal(tu_str(row, "remote_ip"), "127.0.0.1");
  assert_clean(db, rows);
  printf("checked: one row, source exec: GET %s, 200, timing phases adding up, key %s, "
         "Authorization stored as its fingerprint, response body = curl's stdout, "
         "HTTP/1.1 from 127.0.0.1; the key is in none of the db, -wal, -shm files\n",
         tu_str(row, "path"), E->fp);
  cJSON_Delete(rows);
  free(out1);
  free(err1);
  free(out2);
  free(err2);
  free(db);
}

static void test_curl_post(void **state) {
  (void)state;
  char *db = new_db(), url[300];
  url_of(url, sizeof url, "/participants");
  const char *good = "{\"first_name\":\"Ada\",\"last_name\":\"Lovelace\","
                     "\"email\":\"ada@example.org\"}";
  const char *argv1[] = {"curl", "-s", "-H", E->auth, "-H", "Content-Type: application/json",
                         "-d", good, url, NULL};
  /* the body comes on stdin: reqlog exec leaves stdin to the program */
  const char *bad = "{\"first_name\":\"Ada\"}";
  const char *argv2[] = {"curl", "-s", "-w", "%{http_code}", "-H", E->auth, "-H",
                         "Content-Type: application/json", "--data-binary", "@-", url, NULL};
  char *o1, *o2, *o3, *o4;
  assert_int_equal(run_plain(argv1, NULL, NULL, &o1, NULL), 0);
  assert_int_equal(run_exec(db, argv1, NULL, NULL, &o2, NULL), 0);
  /* the fake API numbers each new participant: compare what follows the id */
  assert_true(strchr(o1, ',') && strchr(o2, ','));
  assert_string_equal(strchr(o1, ','), strchr(o2, ','));
  assert_int_equal(run_plain(argv2, bad, NULL, &o3, NULL), 0);
  assert_int_equal(run_exec(db, argv2, bad, NULL, &o4, NULL), 0);
  assert_string_equal(o3, o4);
  assert_true(strstr(o4, "422") != NULL);

  cJSON *rows = rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), 2);
  cJSON *r1 = cJSON_GetArrayItem(rows, 0), *r2 = cJSON_GetArrayItem(rows, 1);
  assert_string_equal(tu_str(r1, "method"), "POST");
  assert_int_equal((int)num(r1, "status"), 201);
  assert_string_equal(tu_str(r1, "request_body"), good);
  assert_int_equal((size_t)num(r1, "request_size"), strlen(good));
  assert_string_equal(tu_str(r1, "response_body"), o2);
  assert_string_equal(tu_str(r2, "method"), "POST");
  assert_int_equal((int)num(r2, "status"), 422);
  assert_string_equal(tu_str(r2, "request_body"), bad);
  assert_string_equal(tu_str(r2, "error_message"), "The given data was invalid.");
  const cJSON *fields = cJSON_GetObjectItemCaseSensitive(r2, "error_fields");
  assert_non_null(cJSON_GetObjectItemCaseSensitive(fields, "email"));
  assert_clean(db, rows);
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
  char *db = new_db(), url[300], final[300];
  url_of(url, sizeof url, "/redirect/2");
  url_of(final, sizeof final, "/participants");
  const char *follow[] = {"curl", "-s", "-L", "-H", E->auth, url, NULL};
  const char *stay[] = {"curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                        "-H", E->auth, url, NULL};
  char *o1, *o2, *o3, *o4;
  assert_int_equal(run_plain(follow, NULL, NULL, &o1, NULL), 0);
  assert_int_equal(run_exec(db, follow, NULL, NULL, &o2, NULL), 0);
  assert_string_equal(o1, o2);
  assert_int_equal(run_plain(stay, NULL, NULL, &o3, NULL), 0);
  assert_int_equal(run_exec(db, stay, NULL, NULL, &o4, NULL), 0);
  assert_string_equal(o3, o4);

  cJSON *rows = rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), 2);
  cJSON *r1 = cJSON_GetArrayItem(rows, 0), *r2 = cJSON_GetArrayItem(rows, 1);
  assert_string_equal(tu_str(r1, "url"), final);
  assert_int_equal((int)num(r1, "status"), 200);
  assert_string_equal(tu_str(r1, "response_body"), o2);
  assert_string_equal(tu_str(r1, "key"), E->fp);
  assert_string_equal(tu_str(r2, "url"), url);
  assert_int_equal((int)num(r2, "status"), 302);
  assert_non_null(tu_header(r2, "response_headers", "Location"));
  assert_clean(db, rows);
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
  char *db = new_db(), u1[300], u2[300], u3[300];
  url_of(u1, sizeof u1, "/participants/1");
  url_of(u2, sizeof u2, "/participants/404");
  url_of(u3, sizeof u3, "/participants/3");
  const char *argv[] = {"curl", "-s", "-H", E->auth, u1, u2, u3, NULL};
  char *o1, *o2;
  assert_int_equal(run_plain(argv, NULL, NULL, &o1, NULL), 0);
  assert_int_equal(run_exec(db, argv, NULL, NULL, &o2, NULL), 0);
  assert_string_equal(o1, o2);
  cJSON *rows = rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), 3);
  const char *urls[] = {u1, u2, u3};
  const int codes[] = {200, 404, 200};
  size_t joined = 0;
  for (int i = 0; i < 3; i++) {
    cJSON *row = cJSON_GetArrayItem(rows, i);
    assert_string_equal(tu_str(row, "url"), urls[i]);
    assert_int_equal((int)num(row, "status"), codes[i]);
    const char *body = tu_str(row, "response_body");
    assert_memory_equal(o2 + joined, body, strlen(body));
    joined += strlen(body);
  }
  assert_int_equal(joined, strlen(o2));
  assert_clean(db, rows);
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
  char *db = new_db();
  char urls[N][300], plain[N][64], traced[N][64];
  const char *argv_p[64] = {"curl", "-s", "-Z", "--parallel-immediate", "--parallel-max", "5",
                            "-H", E->auth};
  const char *argv_t[64];
  int n = 8;
  memcpy(argv_t, argv_p, sizeof argv_p);
  for (int i = 0; i < N; i++) {
    char path[64];
    snprintf(path, sizeof path, i == 2 ? "/slow?ms=%d" : "/participants/%d", i == 2 ? 150 : i + 1);
    url_of(urls[i], sizeof urls[i], path);
    snprintf(plain[i], sizeof plain[i], "%s/p%d.json", E->dir, i);
    snprintf(traced[i], sizeof traced[i], "%s/t%d.json", E->dir, i);
    argv_p[n] = "-o";
    argv_t[n++] = "-o";
    argv_p[n] = plain[i];
    argv_t[n++] = traced[i];
    argv_p[n] = urls[i];
    argv_t[n++] = urls[i];
  }
  argv_p[n] = argv_t[n] = NULL;
  assert_int_equal(run_plain(argv_p, NULL, NULL, NULL, NULL), 0);
  assert_int_equal(run_exec(db, argv_t, NULL, NULL, NULL, NULL), 0);

  cJSON *rows = rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), N);
  for (int i = 0; i < N; i++) {
    size_t lp = 0, lt = 0;
    char *bp = slurp(plain[i], &lp), *bt = slurp(traced[i], &lt);
    assert_non_null(bt);
    assert_int_equal(lp, lt);
    assert_memory_equal(bp, bt, lt);
    int found = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, rows) {
      if (strcmp(tu_str(row, "url"), urls[i]) != 0)
        continue;
      found++;
      assert_int_equal((int)num(row, "status"), 200);
      assert_string_equal(tu_str(row, "response_body"), bt);
      assert_string_equal(tu_str(row, "key"), E->fp);
    }
    assert_int_equal(found, 1);
    free(bp);
    free(bt);
  }
  assert_clean(db, rows);
  printf("checked: curl -Z with %d URLs (the multi interface, one of them slow): exit 0, "
         "%d rows, one per URL, each body equal to the file curl saved, identical files "
         "without exec\n", N, N);
  cJSON_Delete(rows);
  free(db);
}

/* The lines of TEXT starting with PREFIX, joined. */
static char *lines_with(const char *text, const char *prefix) {
  size_t cap = strlen(text) + 1, n = 0;
  char *out = calloc(1, cap);
  for (const char *p = text; p && *p;) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p + 1) : strlen(p);
    if (strncmp(p, prefix, strlen(prefix)) == 0) {
      memcpy(out + n, p, len);
      n += len;
    }
    p = nl ? nl + 1 : NULL;
  }
  return out;
}

static void test_curl_verbose(void **state) {
  (void)state;
  char *db = new_db(), url[300];
  url_of(url, sizeof url, "/participants/2");
  const char *argv[] = {"curl", "-s", "-v", "-H", E->auth, url, NULL};
  char *o1, *e1, *o2, *e2;
  assert_int_equal(run_plain(argv, NULL, NULL, &o1, &e1), 0);
  assert_int_equal(run_exec(db, argv, NULL, NULL, &o2, &e2), 0);
  assert_string_equal(o1, o2);
  /* request lines are the same bytes; response lines differ only in Date and the
   * rate-limit count, so compare their number */
  char *req1 = lines_with(e1, "> "), *req2 = lines_with(e2, "> ");
  char *resp1 = lines_with(e1, "< "), *resp2 = lines_with(e2, "< ");
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
  cJSON *rows = rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), 1);
  assert_clean(db, rows);
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
  char *db = new_db(), url[300];
  url_of(url, sizeof url, "/large?bytes=3000000");
  const char *argv[] = {"curl", "-s", "-H", E->auth, url, NULL};
  char *out = NULL;
  const char *env[] = {"REQLOG_BODY_CAP=65536", NULL};
  assert_int_equal(run_exec(db, argv, NULL, env, &out, NULL), 0);
  assert_int_equal(strlen(out), 3000000);
  cJSON *rows = rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), 1);
  cJSON *row = cJSON_GetArrayItem(rows, 0);
  assert_int_equal((int64_t)num(row, "response_size"), 3000000);
  assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "response_truncated")));
  assert_int_equal(strlen(tu_str(row, "response_body")), 65536);
  char want[65];
  sha256_hex(out, strlen(out), want);
  assert_string_equal(tu_str(row, "response_sha256"), want);
  assert_clean(db, rows);
  printf("checked: a 3,000,000-byte response with REQLOG_BODY_CAP=65536: the shim kept "
         "65536 bytes, the row has the full size, truncated and the SHA-256 of all of it\n");
  cJSON_Delete(rows);
  free(out);
  free(db);
}

static void test_child_processes(void **state) {
  (void)state;
  char *db = new_db(), script[1200], u1[300], u2[300];
  url_of(u1, sizeof u1, "/participants/4");
  url_of(u2, sizeof u2, "/participants/5");
  snprintf(script, sizeof script, "curl -s -H '%s' '%s'; curl -s -H '%s' '%s' & wait; echo",
           E->auth, u1, E->auth, u2);
  const char *argv[] = {"sh", "-c", script, NULL};
  char *o1, *o2;
  assert_int_equal(run_plain(argv, NULL, NULL, &o1, NULL), 0);
  assert_int_equal(run_exec(db, argv, NULL, NULL, &o2, NULL), 0);
  assert_string_equal(o1, o2);
  cJSON *rows = rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), 2);
  int seen = 0;
  const cJSON *row;
  cJSON_ArrayForEach(row, rows) {
    seen |= strcmp(tu_str(row, "url"), u1) == 0 ? 1 : strcmp(tu_str(row, "url"), u2) == 0 ? 2 : 0;
    assert_int_equal((int)num(row, "status"), 200);
  }
  assert_int_equal(seen, 3);
  assert_clean(db, rows);
  printf("checked: sh -c 'curl; curl & wait': both curls, processes the program started "
         "(one in the background), are rows; the same output\n");
  cJSON_Delete(rows);
  free(o1);
  free(o2);
  free(db);
}

static void test_exit_codes(void **state) {
  (void)state;
  char *db = new_db();
  const char *refused[] = {"curl", "-s", "http://127.0.0.1:1/nothing", NULL};
  char *out, *err, *err2;
  assert_int_equal(run_plain(refused, NULL, NULL, NULL, &err), 7);
  assert_int_equal(run_exec(db, refused, NULL, NULL, NULL, &err2), 7);
  assert_string_equal(err, err2);
  free(err);
  free(err2);
  cJSON *rows = rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), 1);
  cJSON *row = cJSON_GetArrayItem(rows, 0);
  assert_true(tu_is_null(row, "status"));
  assert_non_null(tu_str(row, "error"));
  assert_true(strstr(tu_str(row, "error"), "connect") != NULL);
  printf("checked: curl to a closed port exits 7 with and without exec; its row has no "
         "status and the error '%s'\n", tu_str(row, "error"));
  cJSON_Delete(rows);

  const char *three[] = {"sh", "-c", "echo out; echo err >&2; exit 3", NULL};
  assert_int_equal(run_exec(db, three, NULL, NULL, &out, &err), 3);
  assert_string_equal(out, "out\n");
  assert_string_equal(err, "err\n");
  free(out);
  free(err);
  const char *killed[] = {"sh", "-c", "kill -TERM $$", NULL};
  assert_int_equal(run_exec(db, killed, NULL, NULL, NULL, NULL), 128 + SIGTERM);
  const char *missing[] = {"reqlog-no-such-program", "x", NULL};
  assert_int_equal(run_exec(db, missing, NULL, NULL, &out, &err), 127);
  assert_true(strstr(err, "reqlog-no-such-program") != NULL);
  assert_string_equal(out, "");
  free(out);
  free(err);
  char *noexec = tu_path(E->dir, "not-executable.sh");
  spit(noexec, "echo should not run\n");
  const char *cannot[] = {noexec, NULL};
  assert_int_equal(run_exec(db, cannot, NULL, NULL, &out, &err), 126);
  assert_true(strstr(err, "not-executable.sh") != NULL);
  assert_string_equal(out, "");
  free(out);
  free(err);
  free(noexec);
  /* like system(): a ^C is the program's; reqlog waits for it and reports its end */
  const char *sigint_parent[] = {"sh", "-c", "kill -INT $PPID; sleep 0.1; echo alive", NULL};
  assert_int_equal(run_exec(db, sigint_parent, NULL, NULL, &out, NULL), 0);
  assert_string_equal(out, "alive\n");
  free(out);
  const char *sigint_child[] = {"sh", "-c", "kill -INT $$; sleep 1", NULL};
  assert_int_equal(run_exec(db, sigint_child, NULL, NULL, NULL, NULL), 128 + SIGINT);
  printf("checked: a program's exit 3 and its stdout/stderr pass through; killed by "
         "SIGTERM gives %d; a missing program gives 127 and one without execute "
         "permission 126, naming it; a SIGINT sent to "
         "reqlog leaves it waiting for the program, one the program dies of gives %d\n",
         128 + SIGTERM, 128 + SIGINT);

  const char *noprog[] = {"--db", db, "exec", NULL};
  assert_int_equal(tu_run(noprog, NULL, NULL, NULL, &err), 2);
  assert_true(strstr(err, "PROGRAM") != NULL);
  free(err);
  const char *badopt[] = {"--db", db, "exec", "--frobnicate", "curl", NULL};
  assert_int_equal(tu_run(badopt, NULL, NULL, NULL, &err), 2);
  assert_true(strstr(err, "--frobnicate") != NULL);
  free(err);
  const char *help[] = {"exec", "--help", NULL};
  assert_int_equal(tu_run(help, NULL, NULL, &out, NULL), 0);
  assert_true(strstr(out, "usage: reqlog exec") != NULL);
  assert_true(strstr(out, "REQLOG_DB=calls.db reqlog exec -- curl") != NULL);
  free(out);
  /* options after PROGRAM are PROGRAM's, even without -- */
  const char *noddash[] = {"--db", db, "exec", "sh", "-c", "echo $0", "-x", NULL};
  assert_int_equal(tu_run(noddash, NULL, NULL, &out, NULL), 0);
  assert_string_equal(out, "-x\n");
  free(out);
  printf("checked: exec without PROGRAM or with an unknown option exits 2 naming it; "
         "--help shows the example; options after PROGRAM are left to it\n");
  free(db);
}

/* The signal state a program starts with under `reqlog exec`, as the kernel reports
 * it: the SigBlk and SigIgn lines of its /proc/self/status (grep reads its own), after
 * checking that it is the state the program has when run by itself. */
static char *signal_state(const char *db) {
  const char *argv[] = {"grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status", NULL};
  char *plain = NULL, *traced = NULL;
  assert_int_equal(run_plain(argv, NULL, NULL, &plain, NULL), 0);
  assert_int_equal(run_exec(db, argv, NULL, NULL, &traced, NULL), 0);
  assert_string_equal(plain, traced);
  free(plain);
  return traced;
}

/* Whether SIG is set in the hex mask of the status line NAME ("SigIgn:") in STATE. */
static int mask_has(const char *state, const char *name, int sig) {
  const char *line = strstr(state, name);
  assert_non_null(line);
  unsigned long long mask = strtoull(line + strlen(name), NULL, 16);
  return (int)(mask >> (sig - 1) & 1);
}

/* A program run by `reqlog exec` starts with the signal state it has when the shell runs
 * it itself: ignored signals stay ignored (a background job's SIGINT), the others are at
 * their default although reqlog ignores SIGINT and SIGQUIT while it waits, and the mask
 * of blocked signals is the same. */
static void test_signal_state(void **state) {
  (void)state;
  char *db = new_db();
  char *traced = signal_state(db);
  assert_false(mask_has(traced, "SigIgn:", SIGINT));
  assert_false(mask_has(traced, "SigIgn:", SIGQUIT));
  printf("checked: started with SIGINT and SIGQUIT at their default, the program sees them "
         "at their default under exec too:\n%s", traced);
  free(traced);

  /* as `make test &` from a shell without job control starts it: SIGINT and SIGQUIT
   * ignored; and a signal blocked, as some supervisors leave it */
  struct sigaction ign = {0}, old_int, old_quit, old_pipe;
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  sigaction(SIGINT, &ign, &old_int);
  sigaction(SIGQUIT, &ign, &old_quit);
  sigaction(SIGPIPE, &ign, &old_pipe);
  sigset_t usr1, old_mask;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, &old_mask);
  traced = signal_state(db);
  pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGQUIT, &old_quit, NULL);
  sigaction(SIGPIPE, &old_pipe, NULL);
  assert_true(mask_has(traced, "SigIgn:", SIGINT));
  assert_true(mask_has(traced, "SigIgn:", SIGQUIT));
  assert_true(mask_has(traced, "SigIgn:", SIGPIPE));
  assert_true(mask_has(traced, "SigBlk:", SIGUSR1));
  printf("checked: started with SIGINT, SIGQUIT and SIGPIPE ignored and SIGUSR1 blocked, "
         "the program sees exactly that under exec too, as when run by itself:\n%s", traced);
  free(traced);
  free(db);
}

/* ------------------------------------------------------------------ git */

/* A static file server for git's "dumb" HTTP protocol, counting the requests it gets. */
typedef struct files {
  struct MHD_Daemon *d;
  const char *root;
  int port;
  int hits;
  pthread_mutex_t lock;
} files;

static enum MHD_Result serve_file(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *up,
                                  size_t *up_len, void **req) {
  (void)version;
  (void)up;
  (void)up_len;
  files *f = cls;
  if (!*req) { /* the first call of a request comes with its head only */
    *req = f;
    pthread_mutex_lock(&f->lock);
    f->hits++;
    pthread_mutex_unlock(&f->lock);
    return MHD_YES;
  }
  char path[4096];
  struct stat st;
  int fd = -1;
  snprintf(path, sizeof path, "%s%s", f->root, url);
  if (strcmp(method, "GET") == 0 && !strstr(url, "..") && stat(path, &st) == 0 &&
      S_ISREG(st.st_mode))
    fd = open(path, O_RDONLY);
  struct MHD_Response *resp =
    fd >= 0 ? MHD_create_response_from_fd((uint64_t)st.st_size, fd)
            : MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
  enum MHD_Result rc = MHD_queue_response(c, fd >= 0 ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND, resp);
  MHD_destroy_response(resp);
  return rc;
}

static void files_start(files *f, const char *root) {
  memset(f, 0, sizeof *f);
  pthread_mutex_init(&f->lock, NULL);
  f->root = root;
  struct sockaddr_in sin = {0};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  f->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL,
                          serve_file, f, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
                          MHD_OPTION_END);
  assert_non_null(f->d);
  f->port = MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_BIND_PORT)->port;
}

static int have_program(const char *name) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
  return system(cmd) == 0;
}

static void test_git_clone(void **state) {
  (void)state;
  if (!have_program("git")) {
    printf("skipped: git is not installed\n");
    skip();
  }
  char *db = new_db(), *home = tu_path(E->dir, "githome"), *srv = tu_path(E->dir, "gitsrv");
  char henv[4200], script[2000];
  mkdir(home, 0700);
  mkdir(srv, 0700);
  snprintf(henv, sizeof henv, "HOME=%s", home);
  const char *env[] = {henv, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "LC_ALL=C", NULL};
  snprintf(script, sizeof script,
           "set -e; cd '%s'; git init -q src; cd src; echo 'hello from git' > README;"
           "git add README; git -c user.name=t -c user.email=t@example.org commit -q -m one;"
           "cd ..; git clone -q --bare src repo.git; cd repo.git; git update-server-info",
           srv);
  const char *setup[] = {"sh", "-c", script, NULL};
  assert_int_equal(run_plain(setup, NULL, env, NULL, NULL), 0);

  files f;
  files_start(&f, srv);
  char url[128], c1[4200], c2[4200];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/repo.git", f.port);
  snprintf(c1, sizeof c1, "%s/plain", srv);
  snprintf(c2, sizeof c2, "%s/traced", srv);
  const char *plain[] = {"git", "clone", "-q", url, c1, NULL};
  const char *traced[] = {"git", "clone", "-q", url, c2, NULL};
  char *o1, *e1, *o2, *e2;
  assert_int_equal(run_plain(plain, NULL, env, &o1, &e1), 0);
  pthread_mutex_lock(&f.lock);
  int plain_hits = f.hits;
  f.hits = 0;
  pthread_mutex_unlock(&f.lock);
  assert_int_equal(run_exec(db, traced, NULL, env, &o2, &e2), 0);
  pthread_mutex_lock(&f.lock);
  int hits = f.hits;
  pthread_mutex_unlock(&f.lock);
  MHD_stop_daemon(f.d);
  assert_string_equal(o1, o2);
  assert_string_equal(e1, e2);
  char *readme = tu_path(c2, "README"), *text = slurp(readme, NULL);
  assert_string_equal(text, "hello from git\n");

  cJSON *rows = rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), hits);
  assert_int_equal(hits, plain_hits);
  assert_true(hits >= 3);
  int ok = 0;
  const cJSON *row;
  cJSON_ArrayForEach(row, rows) {
    assert_string_equal(tu_str(row, "method"), "GET");
    assert_true(strncmp(tu_str(row, "path"), "/repo.git/", 10) == 0);
    assert_false(tu_is_null(row, "status"));
    ok += (int)num(row, "status") == 200;
  }
  assert_true(ok >= 3);
  assert_clean(db, rows);
  printf("checked: git clone over HTTP (git-remote-http, a grandchild using "
         "libcurl-gnutls and curl_multi): exit 0, same output, the same README; all %d "
         "requests the server saw are rows (%d with 200), as many as without exec\n",
         hits, ok);
  cJSON_Delete(rows);
  pthread_mutex_destroy(&f.lock);
  free(readme);
  free(text);
  free(o1);
  free(e1);
  free(o2);
  free(e2);
  free(home);
  free(srv);
  free(db);
}

/* ------------------------------------------------------------------ php */

static void test_php(void **state) {
  (void)state;
  if (!have_program("php") || system("php -m 2>/dev/null | grep -qx curl") != 0) {
    printf("skipped: php with the curl extension is not installed "
           "(apt-get install php-cli php-curl)\n");
    skip();
  }
  char *db = new_db(), code[1500], u1[300], u2[300];
  url_of(u1, sizeof u1, "/participants/1");
  url_of(u2, sizeof u2, "/participants/2");
  snprintf(code, sizeof code,
           "$h = ['%s'];"
           "$c = curl_init('%s'); curl_setopt($c, CURLOPT_HTTPHEADER, $h);"
           "curl_setopt($c, CURLOPT_RETURNTRANSFER, true); echo curl_exec($c), \"\\n\";"
           "$m = curl_multi_init(); $d = curl_init('%s');"
           "curl_setopt($d, CURLOPT_HTTPHEADER, $h); curl_setopt($d, CURLOPT_RETURNTRANSFER, true);"
           "curl_multi_add_handle($m, $d);"
           "do { curl_multi_exec($m, $run); curl_multi_select($m); } while ($run);"
           "echo curl_multi_getcontent($d), \"\\n\"; exit(5);",
           E->auth, u1, u2);
  const char *argv[] = {"php", "-r", code, NULL};
  char *o1, *e1, *o2, *e2;
  assert_int_equal(run_plain(argv, NULL, NULL, &o1, &e1), 5);
  assert_int_equal(run_exec(db, argv, NULL, NULL, &o2, &e2), 5);
  assert_string_equal(o1, o2);
  assert_string_equal(e1, e2);
  assert_true(strstr(o2, "\"id\":2") != NULL);
  cJSON *rows = rows_of(db);
  /* PHP loads its curl extension with RTLD_DEEPBIND; the shim opens it without */
  assert_int_equal(cJSON_GetArraySize(rows), 2);
  const char *urls[] = {u1, u2};
  for (int i = 0; i < 2; i++) {
    cJSON *row = cJSON_GetArrayItem(rows, i);
    assert_string_equal(tu_str(row, "url"), urls[i]);
    assert_int_equal((int)num(row, "status"), 200);
    assert_string_equal(tu_str(row, "key"), E->fp);
  }
  assert_clean(db, rows);
  printf("checked: php -r with curl_exec and curl_multi_exec: exit 5 and the same output "
         "with and without exec, nothing more on stderr; both transfers are rows (the "
         "curl extension, loaded with RTLD_DEEPBIND, is recorded)\n");
  cJSON_Delete(rows);
  free(o1);
  free(e1);
  free(o2);
  free(e2);
  free(db);
}

/* ------------------------------------------------------------------ plugins */

/* dlplug (tests/progs) loads a plugin that links libcurl with RTLD_DEEPBIND, as PHP
 * loads its curl extension: the plugin's libcurl calls are recorded all the same, the
 * program's output is unchanged, and nothing is said. */
static void test_deepbind_plugin(void **state) {
  (void)state;
  char *db = new_db(), url[300];
  url_of(url, sizeof url, "/participants/2");
  const char *argv[] = {E->dlplug, "deepbind", url, E->auth, NULL};
  char *o1, *o2, *err;
  assert_int_equal(run_plain(argv, NULL, NULL, &o1, NULL), 0);
  assert_int_equal(run_exec(db, argv, NULL, NULL, &o2, &err), 0);
  assert_string_equal(o1, o2);
  assert_true(strstr(o2, "\nstatus 200\n") != NULL);
  assert_string_equal(err, "");
  cJSON *rows = rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), 1);
  cJSON *row = cJSON_GetArrayItem(rows, 0);
  assert_string_equal(tu_str(row, "method"), "GET");
  assert_string_equal(tu_str(row, "url"), url);
  assert_int_equal((int)num(row, "status"), 200);
  assert_string_equal(tu_str(row, "key"), E->fp);
  const char *body = tu_str(row, "response_body");
  assert_memory_equal(o2, body, strlen(body));
  assert_clean(db, rows);
  printf("checked: a plugin loaded with RTLD_DEEPBIND (by its bare name, from the "
         "program's RUNPATH) that does a GET with its own libcurl: one row, 200, key %s, "
         "the body it printed; the same output as without exec, nothing on stderr\n",
         E->fp);
  cJSON_Delete(rows);
  free(o1);
  free(o2);
  free(err);

  const char *idle[] = {E->dlplug, "deepbind", "idle", NULL};
  assert_int_equal(run_exec(db, idle, NULL, NULL, &o2, &err), 0);
  assert_string_equal(err, "");
  rows = rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), 1);
  printf("checked: the same plugin making a handle but no transfer: no new row, no "
         "warning\n");
  cJSON_Delete(rows);
  free(o2);
  free(err);
  free(db);
}

/* A plugin in a namespace of its own (dlmopen) calls a libcurl the shim cannot stand in
 * front of: its transfer cannot be recorded, and reqlog says so rather than nothing;
 * loaded without a transfer, nothing is said. */
static void test_unrecordable_plugin(void **state) {
  (void)state;
  char *db = new_db(), url[300];
  url_of(url, sizeof url, "/participants/3");
  const char *argv[] = {E->dlplug, "dlmopen", url, E->auth, NULL};
  char *o1, *o2, *err;
  assert_int_equal(run_plain(argv, NULL, NULL, &o1, NULL), 0);
  assert_int_equal(run_exec(db, argv, NULL, NULL, &o2, &err), 0);
  assert_string_equal(o1, o2);
  assert_true(strstr(err, "libreqlog-testplug.so") != NULL);
  assert_true(strstr(err, "libcurl") != NULL);
  assert_true(strstr(err, "not recorded") != NULL);
  cJSON *rows = rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), 0);
  printf("checked: a plugin loaded with dlmopen does its GET (same output), no row, and "
         "reqlog warns: %s", err);
  cJSON_Delete(rows);
  free(o1);
  free(o2);
  free(err);

  const char *idle[] = {E->dlplug, "dlmopen", "idle", NULL};
  assert_int_equal(run_exec(db, idle, NULL, NULL, &o2, &err), 0);
  assert_string_equal(err, "");
  printf("checked: the same plugin loaded with dlmopen, making no transfer: no "
         "warning\n");
  free(o2);
  free(err);
  free(db);
}

/* ------------------------------------------------------------------ without a parent */

/* Accepts connections on a Unix socket and hangs up on each at once. */
typedef struct hangup {
  int fd;
  volatile int stop;
  int accepted;
} hangup;

static void *hangup_main(void *arg) {
  hangup *h = arg;
  while (!h->stop) {
    int c = accept(h->fd, NULL, NULL);
    if (c >= 0) {
      h->accepted++;
      close(c);
    }
  }
  return NULL;
}

static void test_no_parent(void **state) {
  (void)state;
  char u1[300], u2[300], sockenv[4200], preload[4200];
  url_of(u1, sizeof u1, "/participants/1");
  url_of(u2, sizeof u2, "/large?bytes=600000");
  const char *argv[] = {"curl", "-s", "-v", "-H", E->auth, u1, u2, NULL};
  char *o0, *e0;
  assert_int_equal(run_plain(argv, NULL, NULL, &o0, &e0), 0);
  char *req0 = lines_with(e0, "> ");

  char *gone = tu_path(E->dir, "gone.sock");
  char *hup = tu_path(E->dir, "hangup.sock");
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a = {0};
  a.sun_family = AF_UNIX;
  snprintf(a.sun_path, sizeof a.sun_path, "%s", hup);
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(fd, 8), 0);
  struct timeval tv = {0, 50000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  hangup h = {fd, 0, 0};
  pthread_t t;
  pthread_create(&t, NULL, hangup_main, &h);

  snprintf(preload, sizeof preload, "LD_PRELOAD=%s", E->shim);
  const char *cases[][2] = {{"no " WIRE_ENV_SOCKET, NULL},
                            {"a socket path that does not exist", gone},
                            {"a parent that hangs up at once", hup}};
  for (int i = 0; i < 3; i++) {
    snprintf(sockenv, sizeof sockenv, "%s=%s", WIRE_ENV_SOCKET,
             cases[i][1] ? cases[i][1] : "");
    const char *env[] = {preload, sockenv, NULL};
    char *o, *e;
    assert_int_equal(run_plain(argv, NULL, env, &o, &e), 0);
    assert_string_equal(o, o0);
    char *req = lines_with(e, "> ");
    assert_string_equal(req, req0);
    printf("checked: curl with the shim preloaded and %s: exit 0, the same %zu bytes of "
           "stdout and the same -v request lines\n", cases[i][0], strlen(o));
    free(req);
    free(o);
    free(e);
  }
  h.stop = 1;
  pthread_join(t, NULL);
  close(fd);
  assert_true(h.accepted >= 1);
  printf("checked: the hanging-up parent was reached %d time(s) and curl never noticed "
         "(no SIGPIPE, no output)\n", h.accepted);
  free(req0);
  free(o0);
  free(e0);
  free(gone);
  free(hup);
}

/* ------------------------------------------------------------------ environment */

static void test_environment(void **state) {
  (void)state;
  char *db = new_db();
  /* a library the program preloads itself stays first; the shim comes after it */
  Dl_info info;
  assert_true(dladdr((void *)cos, &info) && info.dli_fname);
  char preload[4200], asan[1024];
  snprintf(preload, sizeof preload, "LD_PRELOAD=%s", info.dli_fname);
  const char *asan_opts = getenv("ASAN_OPTIONS");
  /* reqlog itself may be ASan-built: let it start with a library preloaded */
  snprintf(asan, sizeof asan, "ASAN_OPTIONS=%s%sverify_asan_link_order=0",
           asan_opts ? asan_opts : "", asan_opts && *asan_opts ? ":" : "");
  const char *env[] = {preload, asan, NULL};
  const char *argv[] = {"sh", "-c", "printf '%s|%s' \"$LD_PRELOAD\" \"$" WIRE_ENV_SOCKET "\"",
                        NULL};
  char *out;
  assert_int_equal(run_exec(db, argv, NULL, env, &out, NULL), 0);
  char want[8400];
  snprintf(want, sizeof want, "%s:%s|", info.dli_fname, E->shim);
  assert_true(strncmp(out, want, strlen(want)) == 0);
  assert_true(strstr(out, "/reqlog-exec-") != NULL);
  printf("checked: the program sees LD_PRELOAD=%s:%s (its own first) and the parent's "
         "socket in a private folder\n", info.dli_fname, E->shim);
  free(out);

  /* the shim is in the program, SQLite is not */
  const char *maps[] = {"sh", "-c", "cat /proc/$$/maps", NULL};
  assert_int_equal(run_exec(db, maps, NULL, NULL, &out, NULL), 0);
  assert_true(strstr(out, "libreqlog-shim.so") != NULL);
  assert_null(strstr(out, "libsqlite3"));
  free(out);
  printf("checked: the traced program maps libreqlog-shim.so and no libsqlite3\n");

  char *err;
  char *nodb = tu_path(E->dir, "no/such/folder/x.db");
  const char *args[] = {"--db", nodb, "exec", "--", "sh", "-c", "echo ran; exit 6", NULL};
  assert_int_equal(tu_run(args, NULL, NULL, &out, &err), 6);
  assert_string_equal(out, "ran\n");
  assert_true(strstr(err, "not recorded") != NULL);
  printf("checked: a database that cannot be opened: a warning, and the program still runs "
         "with its exit code: %s", err);
  free(out);
  free(err);
  free(nodb);

  const char *missing[] = {"REQLOG_SHIM=/nonexistent/libreqlog-shim.so", NULL};
  const char *echo[] = {"sh", "-c", "echo ran", NULL};
  assert_int_equal(run_exec(db, echo, NULL, missing, &out, &err), 4);
  assert_string_equal(out, "");
  assert_true(strstr(err, "/nonexistent/libreqlog-shim.so") != NULL);
  assert_true(strstr(err, "REQLOG_SHIM") != NULL);
  printf("checked: REQLOG_SHIM pointing nowhere: exit 4, the program does not run, %s", err);
  free(out);
  free(err);
  free(db);
}

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
  char *db = new_db(), asan[1024];
  const char *asan_opts = getenv("ASAN_OPTIONS");
  /* this test binary may be ASan-built; the shim is preloaded into it */
  snprintf(asan, sizeof asan, "ASAN_OPTIONS=%s%sverify_asan_link_order=0:detect_leaks=0",
           asan_opts ? asan_opts : "", asan_opts && *asan_opts ? ":" : "");
  const char *env[] = {asan, NULL};
  const char *argv[] = {E->self, "--wire-client", NULL};
  char *out, *err;
  assert_int_equal(run_exec(db, argv, NULL, env, &out, &err), 0);
  cJSON *rows = rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), 3);
  const char *want[] = {"http://wire.test/one", "http://wire.test/two",
                        "http://wire.test/three"};
  for (int i = 0; i < 3; i++) {
    cJSON *row = cJSON_GetArrayItem(rows, i);
    assert_string_equal(tu_str(row, "url"), want[i]);
    assert_string_equal(tu_str(row, "key"), E->fp);
    assert_string_equal(tu_str(row, "response_body"), "{\"ok\":true}");
  }
  assert_clean(db, rows);
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
  char *db = new_db(), asan[1024];
  char *err1 = tu_path(E->dir, "verbose1.txt"), *err2 = tu_path(E->dir, "verbose2.txt");
  const char *asan_opts = getenv("ASAN_OPTIONS");
  snprintf(asan, sizeof asan, "ASAN_OPTIONS=%s%sverify_asan_link_order=0",
           asan_opts ? asan_opts : "", asan_opts && *asan_opts ? ":" : "");
  const char *env[] = {asan, NULL};
  const char *plain[] = {E->self, "--libcurl-client", E->base, E->auth, err1, NULL};
  const char *traced[] = {E->self, "--libcurl-client", E->base, E->auth, err2, NULL};
  char *o1, *o2;
  assert_int_equal(run_plain(plain, NULL, NULL, &o1, NULL), 0);
  assert_int_equal(run_exec(db, traced, NULL, env, &o2, NULL), 0);
  assert_string_equal(o1, o2);
  assert_true(strstr(o2, "multi: 3 done") != NULL);
  char *v1 = slurp(err1, NULL), *v2 = slurp(err2, NULL);
  char *req1 = lines_with(v1, "> "), *req2 = lines_with(v2, "> ");
  assert_true(strlen(req1) > 0);
  assert_string_equal(req1, req2);
  cJSON *rows = rows_of(db);
  assert_int_equal(cJSON_GetArraySize(rows), 4 * 3 + 1 + 3);
  const cJSON *row;
  cJSON_ArrayForEach(row, rows) {
    assert_int_equal((int)num(row, "status"), 200);
    assert_string_equal(tu_str(row, "key"), E->fp);
  }
  assert_clean(db, rows);
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

/* ------------------------------------------------------------------ main */

static int group_setup(void **state) {
  E = calloc(1, sizeof *E);
  E->dir = tu_tmpdir();
  E->api = tu_api(100000, 60000);
  snprintf(E->base, sizeof E->base, "%s", fakeapi_base_url(E->api));
  snprintf(E->auth, sizeof E->auth, "Authorization: Bearer %s", FAKEAPI_KEY);
  reqlog_key_fingerprint(FAKEAPI_KEY, E->fp);
  const char *bin = getenv("REQLOG_TEST_BIN");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", bin && *bin ? bin : "build/reqlog");
  char *slash = strrchr(dir, '/');
  if (slash)
    *slash = '\0';
  else
    snprintf(dir, sizeof dir, ".");
  char shim[4200];
  snprintf(shim, sizeof shim, "%s/libreqlog-shim.so", dir);
  if (!realpath(shim, E->shim)) {
    fprintf(stderr, "test_exec: no shim at %s: build it first\n", shim);
    return -1;
  }
  char prog[4200];
  snprintf(prog, sizeof prog, "%s/tests/progs/dlplug", dir);
  if (!realpath(prog, E->dlplug)) {
    fprintf(stderr, "test_exec: no %s: build it first\n", prog);
    return -1;
  }
  ssize_t n = readlink("/proc/self/exe", E->self, sizeof E->self - 1);
  assert_true(n > 0);
  E->self[n] = '\0';
  *state = E;
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  fakeapi_stop(E->api);
  tu_rmtree(E->dir);
  free(E->dir);
  free(E);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--wire-client") == 0)
    return wire_client();
  if (argc == 5 && strcmp(argv[1], "--libcurl-client") == 0)
    return libcurl_client(argv[2], argv[3], argv[4]);
  /* the tests say exactly what reqlog and the programs see */
  static const char *const clear[] = {"REQLOG_API_KEY", "REQLOG_DB", "REQLOG_SHIM",
                                      "REQLOG_BODY_CAP", "LD_PRELOAD", WIRE_ENV_SOCKET,
                                      "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY",
                                      "CURL_HOME", "LD_BIND_NOW", NULL};
  for (int i = 0; clear[i]; i++)
    unsetenv(clear[i]);
  setenv("NO_PROXY", "127.0.0.1", 1);
  /* the tests send SIGINT and SIGQUIT and expect their default actions: a shell that
   * starts this in the background without job control (`make test &`) has them ignored,
   * and an ignored signal stays ignored in every program started from here */
  signal(SIGINT, SIG_DFL);
  signal(SIGQUIT, SIG_DFL);
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGQUIT);
  sigprocmask(SIG_UNBLOCK, &sigs, NULL);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_curl_get),
    cmocka_unit_test(test_curl_post),
    cmocka_unit_test(test_curl_redirects),
    cmocka_unit_test(test_curl_several_urls),
    cmocka_unit_test(test_curl_parallel),
    cmocka_unit_test(test_curl_verbose),
    cmocka_unit_test(test_libcurl_program),
    cmocka_unit_test(test_large_body),
    cmocka_unit_test(test_child_processes),
    cmocka_unit_test(test_exit_codes),
    cmocka_unit_test(test_signal_state),
    cmocka_unit_test(test_git_clone),
    cmocka_unit_test(test_php),
    cmocka_unit_test(test_deepbind_plugin),
    cmocka_unit_test(test_unrecordable_plugin),
    cmocka_unit_test(test_no_parent),
    cmocka_unit_test(test_environment),
    cmocka_unit_test(test_wire),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
