/* testutil.c: helpers shared by the integration tests (see testutil.h): temp folders,
 * the fake API, running the reqlog binary, reading its database and files, and checks
 * that fail the running cmocka test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "store/schema.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void die(const char *what) {
  fprintf(stderr, "testutil: %s: %s\n", what, strerror(errno));
  abort();
}

char *tu_tmpdir(void) {
  const char *base = getenv("TMPDIR");
  char *tmpl = NULL;
  if (asprintf(&tmpl, "%s/reqlog-test-XXXXXX", base && *base ? base : "/tmp") < 0)
    die("asprintf");
  if (!mkdtemp(tmpl))
    die("mkdtemp");
  return tmpl;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(p);
}

void tu_rmtree(const char *dir) {
  if (dir)
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *tu_path(const char *dir, const char *name) {
  char *p = NULL;
  if (asprintf(&p, "%s/%s", dir, name) < 0)
    die("asprintf");
  return p;
}

fakeapi *tu_api(int rate, long window_ms) {
  fakeapi_opts o = {0};
  o.rate = rate;
  o.window_ms = window_ms;
  fakeapi *f = NULL;
  char *cause = NULL;
  if (fakeapi_start(&o, &f, &cause) != 0) {
    fprintf(stderr, "testutil: fake API did not start: %s\n", cause ? cause : "?");
    abort();
  }
  return f;
}

int tu_file_contains(const char *path, const char *needle) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return 0;
  size_t cap = 1 << 20, len = 0;
  char *buf = malloc(cap);
  size_t n;
  while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
    len += n;
    if (len == cap) {
      char *nb = realloc(buf, cap * 2);
      if (!nb)
        break;
      buf = nb;
      cap *= 2;
    }
  }
  fclose(f);
  int found = buf && memmem(buf, len, needle, strlen(needle)) != NULL;
  free(buf);
  return found;
}

int tu_db_files_contain(const char *db, const char *needle) {
  const char *suffix[] = {"", "-wal", "-shm", "-journal"};
  int found = 0;
  for (int i = 0; i < 4; i++) {
    char *p = NULL;
    if (asprintf(&p, "%s%s", db, suffix[i]) < 0)
      die("asprintf");
    if (tu_file_contains(p, needle)) {
      fprintf(stderr, "SECRET FOUND: '%s' is in %s\n", needle, p);
      found = 1;
    }
    free(p);
  }
  return found;
}

/* Reads everything from FD into a malloc'd string. */
static void drain(int fd, char **buf, size_t *len, size_t *cap) {
  char tmp[8192];
  ssize_t n = read(fd, tmp, sizeof tmp);
  if (n <= 0)
    return;
  if (*len + (size_t)n + 1 > *cap) {
    while (*len + (size_t)n + 1 > *cap)
      *cap = *cap ? *cap * 2 : 16384;
    *buf = realloc(*buf, *cap);
    if (!*buf)
      die("realloc");
  }
  memcpy(*buf + *len, tmp, (size_t)n);
  *len += (size_t)n;
  (*buf)[*len] = '\0';
}

void tu_give(char *s, char **to) {
  if (to)
    *to = s;
  else
    free(s);
}

int tu_run(const char *const *argv, const char *stdin_data, const char *const *env,
           char **out, char **err) {
  const char *bin = getenv("REQLOG_TEST_BIN");
  if (!bin || !*bin)
    bin = "build/reqlog";
  int in[2], o[2], e[2];
  if (pipe(in) || pipe(o) || pipe(e))
    die("pipe");
  pid_t pid = fork();
  if (pid < 0)
    die("fork");
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(o[1], 1);
    dup2(e[1], 2);
    close(in[0]);
    close(in[1]);
    close(o[0]);
    close(o[1]);
    close(e[0]);
    close(e[1]);
    for (int i = 0; env && env[i]; i++)
      putenv((char *)env[i]);
    int n = 0;
    while (argv[n])
      n++;
    const char **args = calloc((size_t)n + 2, sizeof *args);
    args[0] = bin;
    for (int i = 0; i < n; i++)
      args[i + 1] = argv[i];
    execv(bin, (char *const *)args);
    fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
    _exit(127);
  }
  close(in[0]);
  close(o[1]);
  close(e[1]);
  signal(SIGPIPE, SIG_IGN);
  if (stdin_data) {
    size_t left = strlen(stdin_data);
    const char *p = stdin_data;
    while (left) {
      ssize_t w = write(in[1], p, left);
      if (w <= 0)
        break;
      p += w;
      left -= (size_t)w;
    }
  }
  close(in[1]);
  char *ob = NULL, *eb = NULL;
  size_t ol = 0, oc = 0, el = 0, ec = 0;
  struct pollfd pf[2] = {{o[0], POLLIN, 0}, {e[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    if (poll(pf, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      die("poll");
    }
    for (int i = 0; i < 2; i++) {
      if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      size_t before = i ? el : ol;
      if (i)
        drain(e[0], &eb, &el, &ec);
      else
        drain(o[0], &ob, &ol, &oc);
      if ((i ? el : ol) == before) {
        close(pf[i].fd);
        pf[i].fd = -1;
        open_fds--;
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!ob)
    ob = strdup("");
  if (!eb)
    eb = strdup("");
  tu_give(ob, out);
  tu_give(eb, err);
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

sqlite3 *tu_db(const char *path) {
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
    fprintf(stderr, "testutil: cannot open %s: %s\n", path, sqlite3_errmsg(db));
    abort();
  }
  sqlite3_busy_timeout(db, 10000);
  return db;
}

int64_t tu_int(sqlite3 *db, const char *sql) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "testutil: %s: %s\n", sql, sqlite3_errmsg(db));
    abort();
  }
  int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_finalize(st);
  return v;
}

char *tu_text(sqlite3 *db, const char *sql) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "testutil: %s: %s\n", sql, sqlite3_errmsg(db));
    abort();
  }
  char *v = NULL;
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
    v = strdup((const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  return v;
}

int64_t tu_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

sqlite3 *tu_memdb(void) {
  sqlite3 *db = NULL;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK)
    die("sqlite3_open");
  for (int i = 0; reqlog_schema_files[i].name; i++)
    tu_exec(db, (const char *)reqlog_schema_files[i].data);
  return db;
}

void tu_exec(sqlite3 *db, const char *sql) {
  char *msg = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    fprintf(stderr, "testutil: SQL failed: %s\n%s\n", msg ? msg : "?", sql);
    abort();
  }
}

const char *tu_str(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

int tu_is_null(const cJSON *o, const char *k) {
  return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, k));
}

const char *tu_header(const cJSON *row, const char *which, const char *name) {
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(row, which), *it;
  cJSON_ArrayForEach(it, arr) {
    const cJSON *n = cJSON_GetArrayItem(it, 0), *v = cJSON_GetArrayItem(it, 1);
    if (cJSON_IsString(n) && strcasecmp(n->valuestring, name) == 0 && cJSON_IsString(v))
      return v->valuestring;
  }
  return NULL;
}

const char TU_FULL_ROW_SQL[] =
  "INSERT INTO calls(id, started_at, method, url, host, path, status, error, duration_us,"
  " queued_us, dns_us, connect_us, tls_us, ttfb_us, key, attempt, retry_of, source,"
  " request_headers, response_headers, request_body, request_size, request_truncated,"
  " request_sha256, response_body, response_size, response_truncated, response_sha256,"
  " content_type, http_version, remote_ip, error_message, error_fields) VALUES ("
  " 7, 1795813445123456, 'POST',"
  " 'https://api.app.astalty.com.au/public/v1/participants?token=[REDACTED]&page=2',"
  " 'api.app.astalty.com.au', '/public/v1/participants', 422, NULL, 123456,"
  " 1500, 2001, 3002, 4003, 100004, '…abcd#3f2a9c1e', 2, 6, 'cli',"
  " '[[\"Accept\",\"application/json\"],[\"X-A\",\"1\"],[\"X-A\",\"2\"]]',"
  " '[[\"Content-Type\",\"application/json\"]]',"
  " '{\"email\":\"\"}', 12, 0, 'aaaa',"
  " '{\"message\":\"The given data was invalid.\"}', 5000000, 1, 'bbbb',"
  " 'application/json', 'HTTP/2', '203.0.113.7', 'The given data was invalid.',"
  " '{\"email\":[\"The email field is required.\"]}')";

void tu_iso_us(int64_t us, char out[40]) {
  time_t t = (time_t)(us / 1000000);
  struct tm tm;
  gmtime_r(&t, &tm);
  char secs[24];
  strftime(secs, sizeof secs, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, 40, "%.20s.%06dZ", secs, (int)(us % 1000000));
}

void tu_fingerprint(const char *key, char out[64]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  assert_int_equal(EVP_Digest(key, strlen(key), md, &n, EVP_sha256(), NULL), 1);
  snprintf(out, 64, "\xe2\x80\xa6%s#%02x%02x%02x%02x", key + strlen(key) - 4, md[0], md[1],
           md[2], md[3]);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *tu_base64(const unsigned char *s, size_t len) {
  char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;
  assert_non_null(out);
  for (size_t i = 0; i < len; i += 3) {
    uint32_t v = (uint32_t)s[i] << 16;
    if (i + 1 < len)
      v |= (uint32_t)s[i + 1] << 8;
    if (i + 2 < len)
      v |= s[i + 2];
    *o++ = b64[(v >> 18) & 63];
    *o++ = b64[(v >> 12) & 63];
    *o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
    *o++ = i + 2 < len ? b64[v & 63] : '=';
  }
  *o = '\0';
  return out;
}

void tu_expect_exit(int rc, int want, const char *what, const char *err) {
  if (rc != want)
    fprintf(stderr, "%s: exit %d, expected %d; stderr:\n%s\n", what, rc, want,
            err ? err : "");
  assert_int_equal(rc, want);
}

void tu_expect_has(const char *hay, const char *needle, const char *what) {
  if (!strstr(hay, needle))
    fprintf(stderr, "%s: '%s' not found in:\n%s\n", what, needle, hay);
  assert_non_null(strstr(hay, needle));
}

void tu_free2(char **a, char **b) {
  free(*a);
  free(*b);
  *a = *b = NULL;
}

const char *tu_label_of(const char *const *args, char *out, size_t size) {
  size_t len = 0;
  out[0] = '\0';
  for (size_t k = 0; args[k] && len + 1 < size; k++) {
    int w = snprintf(out + len, size - len, "%s%s", k ? " " : "", args[k]);
    if (w < 0)
      break;
    len += (size_t)w < size - len ? (size_t)w : size - len - 1;
  }
  return out;
}

/* FMT and AP as a malloc'd string; fails the test when it cannot be made. */
static char *vformat(const char *fmt, va_list ap) {
  char *sql = NULL;
  assert_true(vasprintf(&sql, fmt, ap) >= 0);
  return sql;
}

int64_t tu_intf(sqlite3 *db, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *sql = vformat(fmt, ap);
  va_end(ap);
  int64_t v = tu_int(db, sql);
  free(sql);
  return v;
}

char *tu_textf(sqlite3 *db, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *sql = vformat(fmt, ap);
  va_end(ap);
  char *v = tu_text(db, sql);
  free(sql);
  return v;
}

void tu_write_file(const char *path, const char *text, mode_t mode) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
  assert_int_equal(fclose(f), 0);
  assert_int_equal(chmod(path, mode), 0);
}

char *tu_read_file(const char *path) {
  return tu_slurp(path, NULL);
}

char *tu_slurp(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  size_t cap = 1 << 16, len = 0, n;
  char *buf = malloc(cap);
  assert_non_null(buf);
  while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
    len += n;
    if (cap - len < 2) {
      cap *= 2;
      buf = realloc(buf, cap);
      assert_non_null(buf);
    }
  }
  fclose(f);
  buf[len] = '\0';
  if (size)
    *size = len;
  return buf;
}

int tu_dir_count(const char *dir, const char *prefix) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
      n++;
  closedir(d);
  return n;
}

int64_t tu_jint(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  assert_true(cJSON_IsNumber(v));
  return (int64_t)v->valuedouble;
}

double tu_num(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  if (!cJSON_IsNumber(v))
    fail_msg("'%s' is not a number", k);
  return v->valuedouble;
}

cJSON *tu_rows(reqlog *r) {
  assert_int_equal(reqlog_flush(r, NULL), REQLOG_OK);
  reqlog_cursor *c = NULL;
  reqlog_query_opts o = {.with_bodies = 1, .oldest_first = 1};
  assert_int_equal(reqlog_query(r, NULL, &o, &c, NULL), REQLOG_OK);
  cJSON *arr = cJSON_CreateArray(), *row = NULL;
  while (reqlog_cursor_next(c, &row) == REQLOG_OK)
    cJSON_AddItemToArray(arr, row);
  reqlog_cursor_free(c);
  return arr;
}
