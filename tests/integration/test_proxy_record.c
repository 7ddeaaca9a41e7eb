/* test_proxy.c: `reqlog proxy` as a black box: the real binary between real clients (the
 * curl command-line tool and node's fetch()) and the tests' fake API on loopback,
 * recording into a real SQLite file. Checks what the clients get against the same calls
 * made directly, and what was stored, through `reqlog show --json` and SQL.
 *
 * Plan:
 *   usage          --help has an example; no --upstream, a bad URL or a non-loopback
 *                  --listen without --allow-remote exit 2 naming the problem; with
 *                  --allow-remote it starts with a warning; SIGINT and SIGTERM stop it
 *                  with exit 0 and nothing on stderr
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
 *   parallel       a /slow call in flight does not hold up a fast one: the fast call
 *                  completes while the slow one is still running
 *   handle reuse   on one event loop, nine calls of six methods in a row each reach the
 *                  upstream with their own method and body (/echo says what it got)
 *   proxy env      http_proxy to a closed port: 502 and a recorded error; with no_proxy
 *                  naming the upstream, or no proxy variable: 200
 *   redaction      the key sent in the client's Authorization header, a password in a
 *                  JSON body, a Set-Cookie session and the key echoed back by /echo are
 *                  in none of the raw database files
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
 *                  the reason; the same Content-Length twice and bare-LF line ends with
 *                  trailing spaces pass
 *   locations      an upstream with a path (/public/v1): a relative Location under it
 *                  comes back in the proxy's URL space and curl -L follows it to a 200;
 *                  absolute upstream URLs in Location and Content-Location are rewritten
 *                  to the proxy's address, foreign hosts and paths outside the upstream's
 *                  path are left alone
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
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reqlog.h"
#include "testutil.h"

extern char **environ;

#define BIG_BYTES (100LL * 1024 * 1024)
#define CHUNKED_BYTES (24LL * 1024 * 1024)
#define UPLOAD_BYTES (30LL * 1024 * 1024)
#define PATTERN_LEN 65521 /* prime, so the pattern never lines up with a buffer size */
#define RSS_LIMIT_KB (64 * 1024)

/* ------------------------------------------------------------------ processes */

typedef void (*sink_fn)(void *ctx, const char *data, size_t len);

typedef struct output {
  char *p;
  size_t len, cap;
} output;

static void out_append(output *o, const char *data, size_t len) {
  if (o->len + len + 1 > o->cap) {
    while (o->len + len + 1 > o->cap)
      o->cap = o->cap ? o->cap * 2 : 65536;
    o->p = realloc(o->p, o->cap);
    assert_non_null(o->p);
  }
  memcpy(o->p + o->len, data, len);
  o->len += len;
  o->p[o->len] = '\0';
}

static void sink_output(void *ctx, const char *data, size_t len) {
  out_append(ctx, data, len);
}

/* Starts ARGV[0] (searched in PATH) with stdout to a pipe (*out_fd) and stderr to
 * ERR_PATH (NULL: inherited); ENV entries are added to the environment. */
static pid_t spawn(const char *const *argv, const char *const *env, int *out_fd,
                   const char *err_path) {
  int o[2];
  assert_int_equal(pipe(o), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(o[1], 1);
    close(o[0]);
    close(o[1]);
    int in = open("/dev/null", O_RDONLY);
    dup2(in, 0);
    if (err_path) {
      int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(e, 2);
    }
    for (int i = 0; env && env[i]; i++)
      putenv((char *)env[i]);
    execvp(argv[0], (char *const *)argv);
    fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  close(o[1]);
  *out_fd = o[0];
  return pid;
}

/* Reads FD to its end into SINK; closes it. */
static void drain_fd(int fd, sink_fn sink, void *ctx) {
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    sink(ctx, buf, (size_t)n);
  }
  close(fd);
}

static int wait_exit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Runs a program to its end, its stdout into SINK. Returns its exit code. */
static int run_sink(const char *const *argv, sink_fn sink, void *ctx) {
  int fd = -1;
  pid_t pid = spawn(argv, NULL, &fd, NULL);
  drain_fd(fd, sink, ctx);
  return wait_exit(pid);
}

/* Runs a program; *out gets its stdout (free it). Returns its exit code. */
static int run_out(const char *const *argv, output *out) {
  memset(out, 0, sizeof *out);
  out_append(out, "", 0);
  return run_sink(argv, sink_output, out);
}

/* A reqlog binary running `proxy`. */
typedef struct proxy_proc {
  pid_t pid;
  char url[128];
  char err_path[512];
} proxy_proc;

static const char *bin(void) {
  const char *b = getenv("REQLOG_TEST_BIN");
  return b && *b ? b : "build/reqlog";
}

/* ASan keeps freed memory in a quarantine (256 MB by default), which would count in the
 * proxy's peak RSS; a small one keeps the memory check meaningful under ASan. */
static char asan_env[512];

static const char *const *child_env(void) {
  static const char *env[2];
  const char *cur = getenv("ASAN_OPTIONS");
  snprintf(asan_env, sizeof asan_env, "ASAN_OPTIONS=%s%squarantine_size_mb=4",
           cur ? cur : "", cur && *cur ? ":" : "");
  env[0] = asan_env;
  env[1] = NULL;
  return env;
}

/* Proxies still running, killed by the group teardown when a failed test left them. */
static pid_t live[16];

static void track(pid_t pid, int add) {
  for (int i = 0; i < 16; i++) {
    if (add ? live[i] == 0 : live[i] == pid) {
      live[i] = add ? pid : 0;
      return;
    }
  }
}

/* Starts `reqlog --db DB proxy --listen 127.0.0.1:0 ARGS...` (EXTRA_ENV: NAME=VALUE
 * strings added to its environment) and reads the URL from its first line. Returns 0, or
 * the exit code when it did not start (its stderr is in p->err_path). */
static int start_proxy_env(const char *dir, const char *db, const char *const *args,
                           const char *const *extra_env, proxy_proc *p) {
  static int n;
  const char *argv[32];
  int k = 0;
  argv[k++] = bin();
  argv[k++] = "--db";
  argv[k++] = db;
  argv[k++] = "proxy";
  for (int i = 0; args[i]; i++)
    argv[k++] = args[i];
  argv[k] = NULL;
  memset(p, 0, sizeof *p);
  snprintf(p->err_path, sizeof p->err_path, "%s/proxy-%d.err", dir, n++);
  int fd = -1;
  const char *env[16];
  int ne = 0;
  for (const char *const *c = child_env(); *c; c++)
    env[ne++] = *c;
  for (int i = 0; extra_env && extra_env[i] && ne < 15; i++)
    env[ne++] = extra_env[i];
  env[ne] = NULL;
  p->pid = spawn(argv, env, &fd, p->err_path);
  track(p->pid, 1);
  char line[512];
  size_t len = 0;
  struct pollfd pf = {fd, POLLIN, 0};
  while (len < sizeof line - 1 && poll(&pf, 1, 20000) > 0) {
    ssize_t r = read(fd, line + len, 1);
    if (r <= 0 || line[len] == '\n')
      break;
    len++;
  }
  line[len] = '\0';
  close(fd);
  if (sscanf(line, "proxying %127s -> ", p->url) != 1) {
    int rc = wait_exit(p->pid);
    track(p->pid, 0);
    p->pid = 0;
    return rc ? rc : -1;
  }
  return 0;
}

static int start_proxy(const char *dir, const char *db, const char *const *args,
                       proxy_proc *p) {
  return start_proxy_env(dir, db, args, NULL, p);
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  output o = {0};
  out_append(&o, "", 0);
  char buf[4096];
  size_t n;
  while (f && (n = fread(buf, 1, sizeof buf, f)) > 0)
    out_append(&o, buf, n);
  if (f)
    fclose(f);
  return o.p;
}

/* Stops the proxy with SIG; checks it exits 0 with nothing on stderr. */
static void stop_proxy(proxy_proc *p, int sig) {
  if (!p->pid)
    return;
  kill(p->pid, sig);
  int rc = wait_exit(p->pid);
  track(p->pid, 0);
  p->pid = 0;
  char *err = slurp(p->err_path);
  if (rc != 0 || *err)
    fprintf(stderr, "proxy exit %d, stderr:\n%s\n", rc, err);
  assert_int_equal(rc, 0);
  assert_string_equal(err, "");
  free(err);
}

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

static void hex(const unsigned char *d, unsigned n, char *out) {
  for (unsigned i = 0; i < n; i++)
    sprintf(out + 2 * i, "%02x", d[i]);
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
  hex(d, 32, out);
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
    hex(d, 32, h);
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

/* ------------------------------------------------------------------ shared state */

typedef struct env {
  char *dir, *db;
  fakeapi *api;
  proxy_proc proxy;     /* the main proxy in front of the fake API, recording into db */
  char direct[256];     /* the fake API's base URL */
  char fp[48];          /* FAKEAPI_KEY's fingerprint */
} env;

static int group_setup(void **state) {
  env *e = calloc(1, sizeof *e);
  e->dir = tu_tmpdir();
  e->db = tu_path(e->dir, "proxy.db");
  e->api = tu_api(100000, 60000);
  snprintf(e->direct, sizeof e->direct, "%s", fakeapi_base_url(e->api));
  reqlog_key_fingerprint(FAKEAPI_KEY, e->fp);
  const char *args[] = {"--upstream", e->direct, "--listen", "127.0.0.1:0", NULL};
  if (start_proxy(e->dir, e->db, args, &e->proxy) != 0) {
    char *err = slurp(e->proxy.err_path);
    fprintf(stderr, "the proxy did not start: %s\n", err);
    free(err);
    return -1;
  }
  fill_pattern();
  *state = e;
  return 0;
}

static int group_teardown(void **state) {
  env *e = *state;
  for (int i = 0; i < 16; i++) {
    if (live[i]) {
      kill(live[i], SIGTERM);
      wait_exit(live[i]);
    }
  }
  fakeapi_stop(e->api);
  tu_rmtree(e->dir);
  free(e->dir);
  free(e->db);
  free(e);
  return 0;
}

/* ------------------------------------------------------------------ reading rows */

/* The id of the newest row whose URL contains MARK, waiting for the proxy's writer
 * (rows are committed in batches). */
static int64_t row_id(const char *db, const char *mark) {
  sqlite3 *h = tu_db(db);
  char sql[512];
  snprintf(sql, sizeof sql, "SELECT coalesce(max(id), 0) FROM calls WHERE instr(url, '%s') > 0",
           mark);
  int64_t id = 0;
  for (int i = 0; i < 400 && id <= 0; i++) {
    id = tu_int(h, sql);
    if (id <= 0) {
      struct timespec ts = {0, 25 * 1000000};
      nanosleep(&ts, NULL);
    }
  }
  sqlite3_close(h);
  if (id <= 0)
    fprintf(stderr, "no row with '%s' in its URL\n", mark);
  assert_true(id > 0);
  return id;
}

/* `reqlog show ID --json` parsed. */
static cJSON *show(const char *db, int64_t id) {
  char ids[32];
  snprintf(ids, sizeof ids, "%lld", (long long)id);
  const char *argv[] = {"--db", db, "show", ids, "--json", NULL};
  char *out = NULL, *err = NULL;
  assert_int_equal(tu_run(argv, NULL, NULL, &out, &err), 0);
  cJSON *row = cJSON_Parse(out);
  assert_non_null(row);
  free(out);
  free(err);
  return row;
}

static cJSON *row_for(const char *db, const char *mark) {
  return show(db, row_id(db, mark));
}

static double num(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  if (!cJSON_IsNumber(v))
    fprintf(stderr, "%s is not a number\n", k);
  assert_true(cJSON_IsNumber(v));
  return v->valuedouble;
}

static int is_true(const cJSON *o, const char *k) {
  return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k));
}


/* The value of header NAME in a raw header block ("Name: value\r\n" lines), or "". */
static char *block_header(const char *block, const char *name, char *out, size_t outlen) {
  out[0] = '\0';
  size_t nl = strlen(name);
  for (const char *p = block; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
    if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
      const char *v = p + nl + 1;
      while (*v == ' ')
        v++;
      size_t n = strcspn(v, "\r\n");
      snprintf(out, outlen, "%.*s", (int)(n < outlen ? n : outlen - 1), v);
      break;
    }
  }
  return out;
}

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

/* ------------------------------------------------------------------ curl helpers */

#define AUTH "Authorization: Bearer " FAKEAPI_KEY

/* curl -sS [EXTRA...] URL: stdout into *out; returns curl's exit code. */
static int curl_get(const char *url, const char *const *extra, output *out) {
  const char *argv[40];
  int k = 0;
  argv[k++] = "curl";
  argv[k++] = "-sS";
  argv[k++] = "--noproxy";
  argv[k++] = "*";
  argv[k++] = "--max-time";
  argv[k++] = "120";
  for (int i = 0; extra && extra[i]; i++)
    argv[k++] = extra[i];
  argv[k++] = url;
  argv[k] = NULL;
  return run_out(argv, out);
}

/* Splits curl -i output into its last head block (returned) and body (*body). */
static char *split_head(output *o, const char **body, size_t *body_len) {
  char *end = strstr(o->p, "\r\n\r\n");
  assert_non_null(end);
  *body = end + 4;
  *body_len = o->len - (size_t)(end + 4 - o->p);
  return strndup(o->p, (size_t)(end + 2 - o->p));
}

/* ------------------------------------------------------------------ tests */

static void test_usage(void **state) {
  env *e = *state;
  char *out = NULL, *err = NULL;
  const char *help[] = {"proxy", "--help", NULL};
  assert_int_equal(tu_run(help, NULL, NULL, &out, &err), 0);
  assert_non_null(strstr(out, "--upstream URL"));
  assert_non_null(strstr(out, "Example:"));
  assert_non_null(strstr(out, "--allow-remote"));
  free(out);
  free(err);
  printf("checked: proxy --help lists the options with an example\n");

  const char *noup[] = {"--db", e->db, "proxy", NULL};
  assert_int_equal(tu_run(noup, NULL, NULL, &out, &err), 2);
  assert_non_null(strstr(err, "--upstream URL is required"));
  free(out);
  free(err);
  const char *badurl[] = {"--db", e->db, "proxy", "--upstream", "ftp://example.com/x", NULL};
  assert_int_equal(tu_run(badurl, NULL, NULL, &out, &err), 2);
  assert_non_null(strstr(err, "not an http or https URL"));
  free(out);
  free(err);
  const char *badlisten[] = {"--db", e->db, "proxy", "--upstream", e->direct, "--listen",
                             "localhost", NULL};
  assert_int_equal(tu_run(badlisten, NULL, NULL, &out, &err), 2);
  assert_non_null(strstr(err, "not HOST:PORT"));
  free(out);
  free(err);
  const char *remote[] = {"--db", e->db, "proxy", "--upstream", e->direct, "--listen",
                          "0.0.0.0:0", NULL};
  assert_int_equal(tu_run(remote, NULL, NULL, &out, &err), 2);
  assert_non_null(strstr(err, "--listen 0.0.0.0:0 is not a loopback address"));
  assert_non_null(strstr(err, "--allow-remote"));
  assert_string_equal(out, "");
  free(out);
  free(err);
  const char *threads[] = {"--db", e->db, "proxy", "--upstream", e->direct, "--threads", "0",
                           NULL};
  assert_int_equal(tu_run(threads, NULL, NULL, &out, &err), 2);
  assert_non_null(strstr(err, "--threads"));
  assert_non_null(strstr(err, "from 1 to 16"));
  free(out);
  free(err);
  printf("checked: no --upstream, a non-http URL, a bad --listen, a non-loopback "
         "--listen without --allow-remote and --threads 0 exit 2 naming the problem\n");

  proxy_proc p;
  const char *allow[] = {"--upstream", e->direct, "--listen", "0.0.0.0:0", "--allow-remote",
                         NULL};
  assert_int_equal(start_proxy(e->dir, e->db, allow, &p), 0);
  assert_non_null(strstr(p.url, "http://0.0.0.0:"));
  kill(p.pid, SIGINT);
  int rc = wait_exit(p.pid);
  track(p.pid, 0);
  assert_int_equal(rc, 0);
  char *perr = slurp(p.err_path);
  assert_non_null(strstr(perr, "warning: listening on http://0.0.0.0:"));
  assert_non_null(strstr(perr, "which is not loopback"));
  free(perr);
  printf("checked: --allow-remote starts on 0.0.0.0 with a warning; SIGINT exits 0\n");
}

static void test_get_all_fields(void **state) {
  env *e = *state;
  char purl[300], durl[300];
  snprintf(purl, sizeof purl, "%s/participants?page=1&t=get_fields", e->proxy.url);
  snprintf(durl, sizeof durl, "%s/participants?page=1&t=get_fields", e->direct);
  const char *extra[] = {"-i", "-H", AUTH, "-H", "Accept: application/json", "-H",
                         "X-Request-Id: 42", NULL};
  output viap, direct;
  int64_t before = tu_now_us();
  assert_int_equal(curl_get(purl, extra, &viap), 0);
  assert_int_equal(curl_get(durl, extra, &direct), 0);
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
  assert_string_equal(block_header(ph, "Content-Type", v1, sizeof v1),
                      block_header(dh, "Content-Type", v2, sizeof v2));
  assert_string_equal(block_header(ph, "X-RateLimit-Limit", v1, sizeof v1), "100000");
  printf("checked: curl through the proxy gets the same %zu body bytes and the same "
         "headers (%s) as directly\n", pbl, pn);

  cJSON *row = row_for(e->db, "t=get_fields");
  assert_true(num(row, "id") >= 1);
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
  assert_int_equal((int)num(row, "status"), 200);
  assert_true(tu_is_null(row, "error"));
  assert_true(num(row, "duration_ms") > 0);
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(row, "timing");
  const char *phases[] = {"queued_ms", "dns_ms", "connect_ms", "tls_ms", "ttfb_ms", "total_ms"};
  double sum = 0;
  for (int i = 0; i < 6; i++)
    assert_true(num(t, phases[i]) >= 0);
  for (int i = 1; i < 5; i++)
    sum += num(t, phases[i]);
  assert_true(num(t, "queued_ms") == 0);
  assert_true(num(t, "total_ms") == num(row, "duration_ms"));
  assert_true(sum <= num(t, "total_ms") + 0.001);
  assert_string_equal(tu_str(row, "key"), e->fp);
  assert_int_equal((int)num(row, "attempt"), 1);
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
  assert_int_equal((int)num(row, "request_size"), 0);
  assert_int_equal((int)num(row, "response_size"), (int)pbl);
  assert_false(is_true(row, "request_truncated"));
  assert_false(is_true(row, "response_truncated"));
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
  env *e = *state;
  char url[300];
  const char *good = "{\"first_name\":\"Ada\",\"last_name\":\"Lovelace\",\"email\":\"ada@example.com\"}";
  snprintf(url, sizeof url, "%s/participants?t=post_201", e->proxy.url);
  const char *extra[] = {"-i", "-H", AUTH, "-H", "Content-Type: application/json", "-d", good, NULL};
  output o;
  assert_int_equal(curl_get(url, extra, &o), 0);
  assert_true(strncmp(o.p, "HTTP/1.1 201", 12) == 0);
  cJSON *row = row_for(e->db, "t=post_201");
  assert_string_equal(tu_str(row, "method"), "POST");
  assert_int_equal((int)num(row, "status"), 201);
  assert_string_equal(tu_str(row, "request_body"), good);
  assert_int_equal((int)num(row, "request_size"), (int)strlen(good));
  assert_string_equal(tu_header(row, "request_headers", "Content-Type"), "application/json");
  assert_string_equal(tu_str(row, "key"), e->fp);
  cJSON_Delete(row);
  free(o.p);
  printf("checked: curl -d with a bearer key through the proxy: 201, the body stored as "
         "sent, the key fingerprinted\n");

  const char *bad = "{\"last_name\":\"Hopper\",\"email\":\"not-an-email\"}";
  snprintf(url, sizeof url, "%s/participants?t=post_422", e->proxy.url);
  const char *extra2[] = {"-i", "-H", AUTH, "-H", "Content-Type: application/json", "-d", bad, NULL};
  assert_int_equal(curl_get(url, extra2, &o), 0);
  assert_true(strncmp(o.p, "HTTP/1.1 422", 12) == 0);
  const char *body;
  size_t blen;
  char *head = split_head(&o, &body, &blen);
  cJSON *doc = cJSON_Parse(body);
  assert_string_equal(tu_str(doc, "message"), "The given data was invalid.");
  row = row_for(e->db, "t=post_422");
  assert_int_equal((int)num(row, "status"), 422);
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

static void compare_download(env *e, const char *path, const char *const *extra,
                             output *via, output *direct) {
  char purl[300], durl[300];
  snprintf(purl, sizeof purl, "%s%s", e->proxy.url, path);
  snprintf(durl, sizeof durl, "%s%s", e->direct, path);
  assert_int_equal(curl_get(purl, extra, via), 0);
  assert_int_equal(curl_get(durl, extra, direct), 0);
  assert_int_equal(via->len, direct->len);
  assert_memory_equal(via->p, direct->p, via->len);
}

static void test_bodies(void **state) {
  env *e = *state;
  const char *auth[] = {"-H", AUTH, NULL};
  output via, direct;
  compare_download(e, "/large?bytes=5000000&t=large5m", auth, &via, &direct);
  assert_int_equal(via.len, 5000000);
  unsigned char d[32];
  unsigned dn = 0;
  EVP_Digest(via.p, via.len, d, &dn, EVP_sha256(), NULL);
  char want_sha[65];
  hex(d, 32, want_sha);
  int64_t id = row_id(e->db, "t=large5m");
  cJSON *row = show(e->db, id);
  assert_int_equal((int)num(row, "response_size"), 5000000);
  assert_true(is_true(row, "response_truncated"));
  assert_string_equal(tu_str(row, "response_sha256"), want_sha);
  sqlite3 *h = tu_db(e->db);
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT length(response_body) FROM calls WHERE id = %lld", (long long)id);
  assert_int_equal(tu_int(h, sql), 1024 * 1024);
  sqlite3_close(h);
  cJSON_Delete(row);
  free(via.p);
  free(direct.p);
  printf("checked: /large 5 MB through the proxy is byte-identical to direct; stored cut at "
         "1 MiB with size 5000000 and the SHA-256 of the whole body\n");

  compare_download(e, "/binary?bytes=3000&t=binary", auth, &via, &direct);
  assert_int_equal(via.len, 3000);
  row = row_for(e->db, "t=binary");
  const cJSON *rb = cJSON_GetObjectItemCaseSensitive(row, "response_body");
  assert_true(cJSON_IsObject(rb));
  assert_non_null(tu_str(rb, "base64"));
  assert_int_equal((int)num(row, "response_size"), 3000);
  cJSON_Delete(row);
  free(via.p);
  free(direct.p);
  printf("checked: /binary is byte-identical and stored as a BLOB ({\"base64\": ...})\n");

  const char *gz[] = {"-H", AUTH, "--compressed", NULL};
  compare_download(e, "/gzip?t=gzip", gz, &via, &direct);
  row = row_for(e->db, "t=gzip");
  assert_string_equal(tu_header(row, "response_headers", "Content-Encoding"), "gzip");
  assert_non_null(strstr(tu_header(row, "request_headers", "Accept-Encoding"), "gzip"));
  assert_string_equal(tu_str(row, "response_body"), via.p);
  cJSON_Delete(row);
  free(via.p);
  free(direct.p);
  /* without --compressed the client gets the gzip bytes exactly as the API sent them */
  const char *raw[] = {"-H", AUTH, "-H", "Accept-Encoding: gzip", NULL};
  compare_download(e, "/gzip?t=gzipraw", raw, &via, &direct);
  assert_true(via.len > 2 && (unsigned char)via.p[0] == 0x1f && (unsigned char)via.p[1] == 0x8b);
  free(via.p);
  free(direct.p);
  printf("checked: /gzip with --compressed gives the same text as direct, the raw gzip "
         "bytes pass unchanged, and the row stores the body decoded\n");

  const char *headreq[] = {"-I", "-H", AUTH, NULL};
  char purl[300];
  snprintf(purl, sizeof purl, "%s/participants/1?t=head", e->proxy.url);
  assert_int_equal(curl_get(purl, headreq, &via), 0);
  char v[64];
  assert_true(strncmp(via.p, "HTTP/1.1 200", 12) == 0);
  assert_true(atoi(block_header(via.p, "Content-Length", v, sizeof v)) > 0);
  row = row_for(e->db, "t=head");
  assert_string_equal(tu_str(row, "method"), "HEAD");
  assert_int_equal((int)num(row, "status"), 200);
  assert_true(tu_is_null(row, "response_body"));
  cJSON_Delete(row);
  free(via.p);
  printf("checked: HEAD passes through with the upstream's Content-Length and no body\n");
}

static void test_429_passthrough(void **state) {
  env *e = *state;
  long hits = fakeapi_hits(e->api, "/public/v1/status");
  char purl[300], durl[300];
  snprintf(purl, sizeof purl, "%s/status/429?retry_after=7&t=s429", e->proxy.url);
  snprintf(durl, sizeof durl, "%s/status/429?retry_after=7&t=s429", e->direct);
  const char *extra[] = {"-i", "-H", AUTH, NULL};
  output via, direct;
  assert_int_equal(curl_get(purl, extra, &via), 0);
  assert_int_equal(fakeapi_hits(e->api, "/public/v1/status"), hits + 1);
  assert_int_equal(curl_get(durl, extra, &direct), 0);
  const char *pb, *dbody;
  size_t pbl, dbl;
  char *ph = split_head(&via, &pb, &pbl), *dh = split_head(&direct, &dbody, &dbl);
  char v1[64], v2[64];
  assert_true(strncmp(ph, "HTTP/1.1 429", 12) == 0);
  assert_string_equal(block_header(ph, "Retry-After", v1, sizeof v1), "7");
  assert_string_equal(v1, block_header(dh, "Retry-After", v2, sizeof v2));
  assert_int_equal(pbl, dbl);
  assert_memory_equal(pb, dbody, pbl);
  cJSON *row = row_for(e->db, "t=s429");
  assert_int_equal((int)num(row, "status"), 429);
  assert_int_equal((int)num(row, "attempt"), 1);
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
  env *e = *state;
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
  output via, direct;
  const char *pargv[] = {"node", "-e", script, e->proxy.url, FAKEAPI_KEY, NULL};
  const char *dargv[] = {"node", "-e", script, e->direct, FAKEAPI_KEY, NULL};
  assert_int_equal(run_out(pargv, &via), 0);
  assert_int_equal(run_out(dargv, &direct), 0);
  assert_string_equal(via.p, direct.p);
  cJSON *res = cJSON_Parse(via.p);
  assert_int_equal(cJSON_GetArrayItem(res, 0)->valueint, 200);
  assert_int_equal(cJSON_GetArrayItem(res, 2)->valueint, 422);
  assert_string_equal(cJSON_GetArrayItem(res, 4)->valuestring, "application/json");
  cJSON_Delete(res);
  cJSON *row = row_for(e->db, "t=node_get");
  assert_int_equal((int)num(row, "status"), 200);
  assert_string_equal(tu_str(row, "key"), e->fp);
  assert_string_equal(tu_header(row, "request_headers", "User-Agent"), "node");
  cJSON_Delete(row);
  row = row_for(e->db, "t=node_post");
  assert_int_equal((int)num(row, "status"), 422);
  assert_string_equal(tu_str(row, "request_body"), "{\"first_name\":\"Node\",\"email\":\"nope\"}");
  assert_string_equal(tu_str(row, "error_message"), "The given data was invalid.");
  cJSON_Delete(row);
  free(via.p);
  free(direct.p);
  printf("checked: node fetch() GET and POST through the proxy get what they get directly; "
         "both recorded\n");
}

static void test_parallel(void **state) {
  env *e = *state;
  /* one event loop: the slow call waits without holding the thread */
  proxy_proc one;
  const char *args[] = {"--upstream", e->direct, "--listen", "127.0.0.1:0", "--threads", "1",
                        NULL};
  assert_int_equal(start_proxy(e->dir, e->db, args, &one), 0);
  char slow[300], fast[300];
  snprintf(slow, sizeof slow, "%s/slow?ms=1500&t=par_slow", one.url);
  snprintf(fast, sizeof fast, "%s/participants/3?t=par_fast", one.url);
  long before = fakeapi_hits(e->api, "/public/v1/slow");
  const char *sargv[] = {"curl", "-sS", "--noproxy", "*", "-o", "/dev/null", "-w",
                         "%{http_code}", "-H", AUTH, slow, NULL};
  int sfd = -1;
  pid_t spid = spawn(sargv, NULL, &sfd, NULL);
  /* the slow call is in flight once the API has seen it */
  for (int i = 0; i < 400 && fakeapi_hits(e->api, "/public/v1/slow") == before; i++) {
    struct timespec ts = {0, 10 * 1000000};
    nanosleep(&ts, NULL);
  }
  assert_true(fakeapi_hits(e->api, "/public/v1/slow") > before);
  const char *extra[] = {"-H", AUTH, "-o", "/dev/null", "-w", "%{http_code}", NULL};
  output f;
  assert_int_equal(curl_get(fast, extra, &f), 0);
  assert_string_equal(f.p, "200");
  int status = 0;
  assert_int_equal(waitpid(spid, &status, WNOHANG), 0); /* still running */
  output s = {0};
  out_append(&s, "", 0);
  drain_fd(sfd, sink_output, &s);
  assert_int_equal(wait_exit(spid), 0);
  assert_string_equal(s.p, "200");
  stop_proxy(&one, SIGTERM);
  assert_true(row_id(e->db, "t=par_fast") < row_id(e->db, "t=par_slow"));
  free(f.p);
  free(s.p);
  printf("checked: with --threads 1, a fast call through the proxy completed while a /slow "
         "call was still in flight on another connection; both 200, the fast one recorded "
         "first\n");
}

/* One event loop keeps one idle libcurl handle and hands it to the next exchange: options
 * of one transfer (a method, NOBODY for HEAD, a body) must not leak into the next. */
static void test_handle_reuse(void **state) {
  env *e = *state;
  proxy_proc one;
  const char *args[] = {"--upstream", e->direct, "--listen", "127.0.0.1:0", "--threads", "1",
                        NULL};
  assert_int_equal(start_proxy(e->dir, e->db, args, &one), 0);
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
    argv[k++] = AUTH;
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
  output out;
  assert_int_equal(run_out(argv, &out), 0);
  free(out.p);
  stop_proxy(&one, SIGTERM);
  for (int i = 0; i < N; i++) {
    char mark[32];
    snprintf(mark, sizeof mark, "t=reuse%d", i);
    cJSON *row = row_for(e->db, mark);
    assert_string_equal(tu_str(row, "method"), seq[i].method);
    assert_int_equal((int)num(row, "status"), 200);
    if (strcmp(seq[i].method, "HEAD") == 0) {
      assert_true(tu_is_null(row, "response_body"));
    } else {
      /* what the upstream received, as /echo told it */
      cJSON *echo = cJSON_Parse(tu_str(row, "response_body"));
      assert_non_null(echo);
      assert_string_equal(tu_str(echo, "method"), seq[i].method);
      size_t want = seq[i].body ? strlen(seq[i].body) : 0;
      assert_int_equal((size_t)num(echo, "body_size"), want);
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

/* The upstream side honours the proxy variables the proxy started with: http_proxy to a
 * closed port makes the call fail (502, recorded), no_proxy naming the upstream lets it
 * through, and without the variables it goes direct. */
static void test_proxy_env(void **state) {
  env *e = *state;
  static const char *const cases[][3] = {
    {"http_proxy=http://127.0.0.1:1", "no_proxy=", "502"},
    {"http_proxy=http://127.0.0.1:1", "no_proxy=127.0.0.1", "200"},
    {"http_proxy=", "no_proxy=", "200"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *extra[] = {cases[i][0], cases[i][1], "HTTP_PROXY=", "all_proxy=",
                           "ALL_PROXY=", "NO_PROXY=", NULL};
    const char *args[] = {"--upstream", e->direct, "--listen", "127.0.0.1:0", NULL};
    proxy_proc px;
    assert_int_equal(start_proxy_env(e->dir, e->db, args, extra, &px), 0);
    char url[300];
    snprintf(url, sizeof url, "%s/participants/1?t=penv%zu", px.url, i);
    const char *opts[] = {"-H", AUTH, "-o", "/dev/null", "-w", "%{http_code}", NULL};
    output o;
    assert_int_equal(curl_get(url, opts, &o), 0);
    assert_string_equal(o.p, cases[i][2]);
    free(o.p);
    stop_proxy(&px, SIGTERM);
    char mark[32];
    snprintf(mark, sizeof mark, "t=penv%zu", i);
    cJSON *row = row_for(e->db, mark);
    if (strcmp(cases[i][2], "502") == 0) {
      assert_true(tu_is_null(row, "status"));
      assert_non_null(tu_str(row, "error"));
    } else {
      assert_int_equal((int)num(row, "status"), 200);
    }
    cJSON_Delete(row);
  }
  printf("checked: with http_proxy naming a closed port the upstream call fails (502, "
         "recorded); no_proxy naming the upstream, or no proxy variable, reaches it (200)\n");
}

static void test_redaction(void **state) {
  env *e = *state;
  char *db = tu_path(e->dir, "secrets.db");
  proxy_proc p;
  const char *listen_args[] = {"--upstream", e->direct, "--listen", "127.0.0.1:0", NULL};
  assert_int_equal(start_proxy(e->dir, db, listen_args, &p), 0);
  char url[300];
  output o;
  snprintf(url, sizeof url, "%s/echo?t=secret_echo", p.url);
  const char *echo[] = {"-H", AUTH, "-H", "Content-Type: application/json", "-d",
                        "{\"email\":\"a@b.c\",\"password\":\"hunter2-very-secret\"}", NULL};
  assert_int_equal(curl_get(url, echo, &o), 0);
  assert_non_null(strstr(o.p, FAKEAPI_KEY)); /* /echo sends the key back in its body */
  free(o.p);
  snprintf(url, sizeof url, "%s/session?t=secret_cookie", p.url);
  const char *sess[] = {"-i", "-H", AUTH, "-H", "Cookie: session=CLIENTCOOKIE777", NULL};
  assert_int_equal(curl_get(url, sess, &o), 0);
  assert_non_null(strstr(o.p, "SESSSECRET123")); /* the client gets its cookie */
  free(o.p);
  stop_proxy(&p, SIGTERM); /* everything queued is written */
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

static void check_error_reply(const output *o, const char *status_line, const char *prefix) {
  assert_true(strncmp(o->p, status_line, strlen(status_line)) == 0);
  char v[128];
  assert_string_equal(block_header(o->p, "Content-Type", v, sizeof v), "application/json");
  const char *body = strstr(o->p, "\r\n\r\n");
  assert_non_null(body);
  cJSON *doc = cJSON_Parse(body + 4);
  assert_non_null(doc);
  const char *msg = tu_str(doc, "message");
  assert_non_null(msg);
  assert_true(strncmp(msg, prefix, strlen(prefix)) == 0);
  cJSON_Delete(doc);
}

static void test_errors(void **state) {
  env *e = *state;
  char *db = tu_path(e->dir, "errors.db");
  char up[128], url[300];
  output o;
  const char *inc[] = {"-i", "-H", AUTH, NULL};

  /* unreachable upstream */
  snprintf(up, sizeof up, "http://127.0.0.1:%d/v1", free_port());
  proxy_proc p;
  const char *a1[] = {"--upstream", up, "--listen", "127.0.0.1:0", NULL};
  assert_int_equal(start_proxy(e->dir, db, a1, &p), 0);
  snprintf(url, sizeof url, "%s/participants?t=unreachable", p.url);
  assert_int_equal(curl_get(url, inc, &o), 0);
  check_error_reply(&o, "HTTP/1.1 502", "Bad Gateway: ");
  assert_non_null(strstr(o.p, "Couldn't connect to server"));
  free(o.p);
  cJSON *row = row_for(db, "t=unreachable");
  assert_true(tu_is_null(row, "status"));
  assert_non_null(strstr(tu_str(row, "error"), "Couldn't connect to server"));
  assert_string_equal(tu_str(row, "source"), "proxy");
  assert_string_equal(tu_str(row, "key"), e->fp);
  cJSON_Delete(row);
  stop_proxy(&p, SIGTERM);
  printf("checked: an unreachable upstream gives 502 {\"message\":\"Bad Gateway: ...\"} and "
         "a row with status null and the transport error\n");

  /* a silent upstream */
  const char *a2[] = {"--upstream", e->direct, "--listen", "127.0.0.1:0", "--timeout-ms",
                      "300", NULL};
  assert_int_equal(start_proxy(e->dir, db, a2, &p), 0);
  snprintf(url, sizeof url, "%s/slow?ms=2500&t=timeout", p.url);
  assert_int_equal(curl_get(url, inc, &o), 0);
  check_error_reply(&o, "HTTP/1.1 504", "Gateway Timeout: Timeout was reached");
  free(o.p);
  row = row_for(db, "t=timeout");
  assert_true(tu_is_null(row, "status"));
  assert_non_null(strstr(tu_str(row, "error"), "Timeout was reached: no answer from the "
                                            "upstream within 300 ms"));
  assert_true(num(row, "duration_ms") >= 300);
  cJSON_Delete(row);
  stop_proxy(&p, SIGTERM);
  printf("checked: /slow beyond --timeout-ms 300 gives 504 JSON and a row with the "
         "timeout error\n");

  /* refused destinations: the default dashboard, --refuse, and the proxy itself */
  long hits = fakeapi_hits(e->api, NULL);
  const char *a3[] = {"--upstream", "http://localhost:8080/public/v1", "--listen",
                      "127.0.0.1:0", NULL};
  assert_int_equal(start_proxy(e->dir, db, a3, &p), 0);
  snprintf(url, sizeof url, "%s/participants?t=dashboard", p.url);
  assert_int_equal(curl_get(url, inc, &o), 0);
  check_error_reply(&o, "HTTP/1.1 508", "Loop Detected: refused to forward to ");
  assert_non_null(strstr(o.p, ":8080: a reqlog dashboard listens there"));
  free(o.p);
  stop_proxy(&p, SIGTERM);

  char refuse[64];
  snprintf(refuse, sizeof refuse, "127.0.0.1:%d", fakeapi_port(e->api));
  const char *a4[] = {"--upstream", e->direct, "--listen", "127.0.0.1:0", "--refuse", refuse,
                      NULL};
  assert_int_equal(start_proxy(e->dir, db, a4, &p), 0);
  snprintf(url, sizeof url, "%s/participants?t=refused", p.url);
  assert_int_equal(curl_get(url, inc, &o), 0);
  check_error_reply(&o, "HTTP/1.1 508", "Loop Detected: refused to forward to 127.0.0.1:");
  free(o.p);
  row = row_for(db, "t=refused");
  assert_true(tu_is_null(row, "status"));
  assert_non_null(strstr(tu_str(row, "error"), "a reqlog dashboard listens there"));
  cJSON_Delete(row);
  stop_proxy(&p, SIGTERM);

  assert_int_equal(fakeapi_hits(e->api, NULL), hits);

  /* the proxy's own address as upstream: refused at start, not a 508 for every call */
  int port = free_port();
  char listen[64];
  snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
  const char *hosts[] = {"127.0.0.1", "localhost"};
  for (int i = 0; i < 2; i++) {
    snprintf(up, sizeof up, "http://%s:%d/v1", hosts[i], port);
    const char *a5[] = {"--upstream", up, "--listen", listen, NULL};
    assert_int_equal(start_proxy(e->dir, db, a5, &p), 2);
    char *err = slurp(p.err_path);
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
static void raw_exchange(const char *url, const char *req, size_t len, output *out) {
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((uint16_t)atoi(strrchr(url, ':') + 1));
  int s = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(s >= 0);
  assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(write(s, req, len), (ssize_t)len);
  memset(out, 0, sizeof *out);
  out_append(out, "", 0);
  struct pollfd pf = {s, POLLIN, 0};
  char buf[4096];
  while (poll(&pf, 1, 20000) > 0) {
    ssize_t n = read(s, buf, sizeof buf);
    if (n <= 0)
      break;
    out_append(out, buf, (size_t)n);
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

static void test_framing(void **state) {
  env *e = *state;
  char *db = tu_path(e->dir, "framing.db");
  proxy_proc p;
  const char *args[] = {"--upstream", e->direct, "--listen", "127.0.0.1:0", NULL};
  assert_int_equal(start_proxy(e->dir, db, args, &p), 0);
  static const framing_case cases[] = {
    {"f_cr", "GET", "/participants", "X-A: a\rb\r\n\r\n", "HTTP/1.1 400", "bare CR"},
    {"f_cl", "POST", "/echo", "Content-Length: 3\r\nContent-Length: 5\r\n\r\nabcde",
     "HTTP/1.1 400", "Content-Length"},
    {"f_te", "POST", "/echo", "Transfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc",
     "HTTP/1.1 501", "transfer coding"},
    {"f_fold", "GET", "/participants", "X-A: a\r\n b\r\n\r\n", "HTTP/1.1 400", "obs-fold"},
    {"f_fold2", "GET", "/participants", "X-A: a\r\n\tmore words here\r\nX-B: c\r\n\r\n",
     "HTTP/1.1 400", "obs-fold"},
    {"f_method", "GET;touch${IFS}x;", "/participants", "\r\n", "HTTP/1.1 400", "method"},
  };
  long hits = fakeapi_hits(e->api, NULL);
  char req[1024];
  output o;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const framing_case *c = &cases[i];
    int n = snprintf(req, sizeof req, "%s %s?t=%s HTTP/1.1\r\nHost: x\r\n%s\r\n%s", c->method,
                     c->path, c->mark, AUTH, c->head);
    raw_exchange(p.url, req, (size_t)n, &o);
    if (strncmp(o.p, c->status, strlen(c->status)) != 0 || !strstr(o.p, c->why))
      fprintf(stderr, "%s: got '%s'\n", c->mark, o.p);
    assert_true(strncmp(o.p, c->status, strlen(c->status)) == 0);
    assert_non_null(strstr(o.p, c->why));
    char v[64];
    assert_string_equal(block_header(o.p, "Connection", v, sizeof v), "close");
    free(o.p);
    cJSON *row = row_for(db, c->mark);
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
                   AUTH);
  raw_exchange(p.url, req, (size_t)n, &o);
  if (strncmp(o.p, "HTTP/1.1 200", 12) != 0)
    fprintf(stderr, "f_samecl: got '%s'\n", o.p);
  assert_true(strncmp(o.p, "HTTP/1.1 200", 12) == 0);
  assert_non_null(strstr(o.p, "\"body\":\"abc\""));
  free(o.p);
  n = snprintf(req, sizeof req, "GET /participants?t=f_lf HTTP/1.1\nHost: x\n%s\n"
               "X-A: a b  \nConnection: close\n\n", AUTH);
  raw_exchange(p.url, req, (size_t)n, &o);
  assert_true(strncmp(o.p, "HTTP/1.1 200", 12) == 0);
  free(o.p);
  cJSON *row = row_for(db, "t=f_lf");
  assert_int_equal((int)num(row, "status"), 200);
  cJSON_Delete(row);
  stop_proxy(&p, SIGTERM);
  printf("checked: the same Content-Length twice, and bare LF line ends with trailing "
         "spaces in a value, are forwarded (200)\n");
  free(db);
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
  env *e = *state;
  output o;
  char url[300], v[256], want[300];
  /* the fake API's relative redirect under /public/v1, followed by curl */
  snprintf(url, sizeof url, "%s/redirect?to=participants/1&t=loc_rel", e->proxy.url);
  const char *inc[] = {"-i", "-H", AUTH, NULL};
  assert_int_equal(curl_get(url, inc, &o), 0);
  assert_true(strncmp(o.p, "HTTP/1.1 302", 12) == 0);
  assert_string_equal(block_header(o.p, "Location", v, sizeof v), "/participants/1");
  free(o.p);
  const char *follow[] = {"-L", "-H", AUTH, "-o", "/dev/null", "-w", "%{http_code} %{url_effective}", NULL};
  assert_int_equal(curl_get(url, follow, &o), 0);
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
  proxy_proc p;
  const char *args[] = {"--upstream", up, "--listen", "127.0.0.1:0", NULL};
  assert_int_equal(start_proxy(e->dir, db, args, &p), 0);
  static const char *const kinds[][3] = {
    /* path, Location, Content-Location; %s: the proxy's URL, %d: the server's port */
    {"abs", "%s/x?q=1", "%s/"},
    {"foreign", "http://127.0.0.2:%d/base/x", "https://127.0.0.1:%d/base/y"},
    {"outside", "/basement/x", "/?z=1"},
  };
  const char *plain[] = {"-i", NULL};
  for (size_t i = 0; i < 3; i++) {
    snprintf(url, sizeof url, "%s/%s", p.url, kinds[i][0]);
    assert_int_equal(curl_get(url, plain, &o), 0);
    for (int k = 1; k <= 2; k++) {
      if (strstr(kinds[i][k], "%s"))
        snprintf(want, sizeof want, kinds[i][k], p.url);
      else if (strstr(kinds[i][k], "%d"))
        snprintf(want, sizeof want, kinds[i][k], loc_port);
      else
        snprintf(want, sizeof want, "%s", kinds[i][k]);
      block_header(o.p, k == 1 ? "Location" : "Content-Location", v, sizeof v);
      if (strcmp(v, want) != 0)
        fprintf(stderr, "%s: %s\n", kinds[i][0], o.p);
      assert_string_equal(v, want);
    }
    free(o.p);
  }
  stop_proxy(&p, SIGTERM);
  MHD_stop_daemon(srv);
  free(db);
  printf("checked: absolute upstream URLs in Location and Content-Location become the "
         "proxy's (scheme and host compared case-insensitively); another host, another "
         "scheme and a path outside the upstream's are left alone\n");
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
  assert_int_equal(run_sink(argv, sink_hash, &h), 0);
  unsigned char d[32];
  unsigned dn = 0;
  EVP_DigestFinal_ex(h.c, d, &dn);
  EVP_MD_CTX_free(h.c);
  hex(d, 32, out);
  return h.n;
}

static void test_streaming(void **state) {
  env *e = *state;
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
  proxy_proc p;
  const char *args[] = {"--upstream", up, "--listen", "127.0.0.1:0", NULL};
  assert_int_equal(start_proxy(e->dir, db, args, &p), 0);
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
  output o;
  assert_int_equal(curl_get(url, up_extra, &o), 0);
  cJSON *doc = cJSON_Parse(o.p);
  assert_non_null(doc);
  assert_int_equal((int64_t)num(doc, "bytes"), UPLOAD_BYTES);
  assert_string_equal(tu_str(doc, "sha256"), want_u);
  assert_int_equal((int)num(doc, "xlong"), LONG_SENT);
  assert_int_equal((int)num(doc, "xlong_a"), LONG_SENT);
  cJSON_Delete(doc);
  free(o.p);
  char *got_heads = slurp(heads);
  assert_non_null(strstr(got_heads, back));
  free(got_heads);
  free(heads);
  long rss_all = peak_rss_kb(p.pid);

  cJSON *row = row_for(db, "t=big");
  assert_int_equal((int)num(row, "status"), 200);
  assert_true(num(row, "response_size") == (double)BIG_BYTES);
  assert_true(is_true(row, "response_truncated"));
  assert_string_equal(tu_str(row, "response_sha256"), want);
  assert_true(tu_is_null(row, "error"));
  cJSON_Delete(row);
  row = row_for(db, "t=chunked");
  assert_true(num(row, "response_size") == (double)CHUNKED_BYTES);
  assert_string_equal(tu_str(row, "response_sha256"), want_c);
  cJSON_Delete(row);
  row = row_for(db, "t=upload");
  assert_true(num(row, "request_size") == (double)UPLOAD_BYTES);
  assert_true(is_true(row, "request_truncated"));
  assert_string_equal(tu_str(row, "request_sha256"), want_u);
  cJSON_Delete(row);
  stop_proxy(&p, SIGTERM);
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
  signal(SIGPIPE, SIG_IGN);
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return 1;
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_usage),
    cmocka_unit_test(test_get_all_fields),
    cmocka_unit_test(test_post_and_422),
    cmocka_unit_test(test_bodies),
    cmocka_unit_test(test_429_passthrough),
    cmocka_unit_test(test_node_fetch),
    cmocka_unit_test(test_parallel),
    cmocka_unit_test(test_handle_reuse),
    cmocka_unit_test(test_proxy_env),
    cmocka_unit_test(test_redaction),
    cmocka_unit_test(test_errors),
    cmocka_unit_test(test_framing),
    cmocka_unit_test(test_locations),
    cmocka_unit_test(test_streaming),
  };
  const char *only = getenv("TEST_PROXY_ONLY"); /* e.g. "test_framing", for a quick run */
  if (only && *only)
    cmocka_set_test_filter(only);
  int rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
  curl_global_cleanup();
  return rc;
}
