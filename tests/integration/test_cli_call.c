/* test_cli.c: the `reqlog` command as a black box: the real binary run against the tests'
 * fake API on loopback, recording into a real SQLite file. Checks exit codes, what it
 * prints, and what it stored, against SQL over that file.
 *
 * Plan:
 *   call           2xx: body on stdout, status line on stderr; 422: the API's message and
 *                  one line per field error; GET /drop and a refused port exit 3 with the
 *                  transport error; no key: 401 "Unauthenticated.", exit 1; -d 'not json'
 *                  exits 2 naming -d; --key/-k/--api-key refused (exit 2, value never
 *                  echoed); --key-file; -d @FILE and -d @- send exactly those bytes; -i
 *                  puts the header block first; every call is a row with source "cli";
 *                  the database file is mode 0600
 *   history        `reqlog demo` plus calls of every kind (other host and key, 422s,
 *                  transport error, slow, CSV-hostile bodies) into one database, some
 *                  rows moved back 2 hours and 3 days; built once, read by the tests below
 *   list filters   every filter alone and several together: `list --json` gives exactly
 *                  the ids SQL over the file gives (newest first), `export --format
 *                  ndjson` the same ids oldest first, `stats --json` the same total
 *   bad filters    malformed values and unknown options exit 2 naming the filter, print
 *                  nothing on stdout, never repeat a key
 *   list output    --json rows have no bodies; the table has a header line;
 *                  --limit/--before pages cover every row once
 *   show           show ID --json is the list row plus the bodies stored; 999999 -> 5,
 *                  abc -> 2
 *   export csv     exact header row; with --bodies, commas, quotes, CR/LF, UTF-8 and
 *                  cells starting with = + - @ read back through an RFC 4180 reader:
 *                  every cell equals the stored value, formula cells get one leading '
 *   export ndjson  each line is show --json of its id; --format har gives one HAR entry
 *                  per row (HAR itself: tests/integration/test_har.c)
 *   export -o      file mode 0600, same bytes as stdout; on failure (bad filter, missing folder,
 *                  a folder as target) no file and no temporary file are left behind and
 *                  an existing file is untouched
 *   stats / prune  total and by_status / by_class match SQL; prune needs an option;
 *                  --older-than and --max-rows leave exactly the rows SQL predicts, and
 *                  search still works afterwards
 *   misc           --version, --help, COMMAND --help, unknown command / option, a reader
 *                  on a missing database creates nothing
 *   usage errors   extra/missing arguments, bad numbers, bad -H/-d, unknown options:
 *                  exit 2 naming what is wrong, nothing created; a METHOD `call` accepts
 *                  but the library refuses (M-SEARCH) is at least named
 *   secrets        a key (env and --key-file), a cookie and a password sent through
 *                  `call` are in none of the raw database files nor in show/export output
 *   numeric bodies a body that looks like a number ("1e3", "007", "-1.50") is kept as
 *                  sent, not rewritten as another number
 *   q consistency  the same search over the same rows gives the same rows before and
 *                  after the background full-text indexer has reached them
 *   key origin     call with REQLOG_API_KEY to a second fake API (another port) reaches it
 *                  without Authorization (401, no key on the row); to the base URL, with
 *                  it; a call whose connection is refused records the key it carried
 *   schemes        call GET file:///etc/passwd, gopher://..., --base-url gopher://...:
 *                  exit 2 "only http and https", nothing read, sent or recorded
 *   input files    call -d @missing, --key-file missing and import missing.har: exit 4
 *                  with the same "cannot read FILE: ..." wording
 *   method filter  --method 'G T' exit 2; --method FROB runs but warns that no standard
 *                  method is called that; --method get, PATCH do not warn
 *   export -o DIR  DIR, DIR/ and . exit 4 saying "is a directory", nothing left behind
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reqlog.h" /* REQLOG_VERSION, cJSON */
#include "testutil.h"

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Bodies that a CSV writer must quote, escape or neutralise (history()). */
#define NASTY_TEXT "=SUM(A1,B1)\r\n\"q\" Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac, end"
#define NASTY_URL "/echo?x==SUM(A1)&note=a,b"
#define PLUS_TEXT "+1 \"quoted\", and more"
#define AT_TEXT "@SUM(A1)"
#define UTF8_JSON "{\"name\":\"Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac\",\"note\":\"a,b \\\"q\\\"\"}"
#define PRETTY_JSON "{\n  \"city\": \"Zo\xc3\xab, \xe6\x97\xa5\xe6\x9c\xac\",\n  \"n\": 1\n}"

#define CSV_HEADER                                                                        \
  "id,started_at,method,url,status,duration_ms,key,attempt,retry_of,source,error,"       \
  "error_message,request_size,response_size"

typedef struct env {
  char *dir;
  fakeapi *api;
  char base_env[256];     /* REQLOG_BASE_URL=<the fake API> */
  char fp1[64], fp2[64];  /* fingerprints of FAKEAPI_KEY and FAKEAPI_KEY2 */
  char *hist;             /* the shared history database, built by history() */
  int hist_ready;
  int64_t hist_rows;
  cJSON *shows;           /* `show ID --json` output by id, parsed (show_row()) */
} env;

/* ------------------------------------------------------------------ small helpers */

/* Runs `reqlog [--db DB] ARGS...` with the fake API as base URL, the client-side limiter
 * off and, when KEY is not NULL, REQLOG_API_KEY=KEY. Returns the exit code. */
static int rl(const env *e, const char *db, const char *key, const char *in,
              const char *const *args, char **out, char **err) {
  const char *argv[64];
  size_t n = 0;
  if (db) {
    argv[n++] = "--db";
    argv[n++] = db;
  }
  for (size_t i = 0; args[i]; i++) {
    assert_true(n < 62);
    argv[n++] = args[i];
  }
  argv[n] = NULL;
  char keyenv[256];
  snprintf(keyenv, sizeof keyenv, "REQLOG_API_KEY=%s", key ? key : "");
  const char *envv[] = {e->base_env, "REQLOG_RATE=0", key ? keyenv : NULL, NULL};
  return tu_run(argv, in, envv, out, err);
}

/* Fails the test, showing what reqlog printed, when RC is not WANT. */
static void expect_exit(int rc, int want, const char *what, const char *err) {
  if (rc != want)
    fprintf(stderr, "%s: exit %d, expected %d; stderr:\n%s\n", what, rc, want,
            err ? err : "");
  assert_int_equal(rc, want);
}

static void expect_has(const char *hay, const char *needle, const char *what) {
  if (!strstr(hay, needle))
    fprintf(stderr, "%s: '%s' not found in:\n%s\n", what, needle, hay);
  assert_non_null(strstr(hay, needle));
}

static void free2(char **a, char **b) {
  free(*a);
  free(*b);
  *a = *b = NULL;
}

/* ARGS joined by spaces into OUT (cut at SIZE), for messages. */
static const char *label_of(const char *const *args, char *out, size_t size) {
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

static int64_t qint(sqlite3 *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int64_t qint(sqlite3 *db, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *sql = NULL;
  assert_true(vasprintf(&sql, fmt, ap) >= 0);
  va_end(ap);
  int64_t v = tu_int(db, sql);
  free(sql);
  return v;
}

static char *qtext(sqlite3 *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *qtext(sqlite3 *db, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *sql = NULL;
  assert_true(vasprintf(&sql, fmt, ap) >= 0);
  va_end(ap);
  char *v = tu_text(db, sql);
  free(sql);
  return v;
}

/* The row id from call's status line "... recorded as #N", or -1. */
static int64_t recorded_id(const char *err) {
  const char *p = strstr(err, "recorded as #");
  return p ? strtoll(p + 13, NULL, 10) : -1;
}

/* "…abcd#3f2a9c1e": last four characters and the first 8 hex of SHA-256 (DESIGN §4). */
static void fingerprint(const char *key, char out[64]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  assert_int_equal(EVP_Digest(key, strlen(key), md, &n, EVP_sha256(), NULL), 1);
  snprintf(out, 64, "\xe2\x80\xa6%s#%02x%02x%02x%02x", key + strlen(key) - 4, md[0], md[1],
           md[2], md[3]);
}

/* Unix microseconds as the row model writes them: 2026-11-27T21:04:05.123456Z. */
static void iso_us(int64_t us, char out[40]) {
  time_t t = (time_t)(us / 1000000);
  struct tm tm;
  gmtime_r(&t, &tm);
  char secs[24];
  strftime(secs, sizeof secs, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, 40, "%.20s.%06dZ", secs, (int)(us % 1000000));
}

static void write_file(const char *path, const char *text, mode_t mode) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
  assert_int_equal(fclose(f), 0);
  assert_int_equal(chmod(path, mode), 0);
}

/* The whole file as a string (NUL-terminated), or NULL when it cannot be read. */
static char *read_file(const char *path) {
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
  return buf;
}

/* Entries of DIR whose name starts with PREFIX. */
static int dir_count(const char *dir, const char *prefix) {
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

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *base64(const unsigned char *s, size_t len) {
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

/* ------------------------------------------------------------------ JSON helpers */

static int64_t jint(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  assert_true(cJSON_IsNumber(v));
  return (int64_t)v->valuedouble;
}

/* The ids of a JSON array of rows, comma-separated, in order; *N gets how many. Fails
 * the test when a row carries a body (list --json rows have none). */
static char *json_ids(const char *text, int *n) {
  cJSON *arr = cJSON_Parse(text);
  if (!cJSON_IsArray(arr))
    fprintf(stderr, "not a JSON array: %.300s\n", text);
  assert_true(cJSON_IsArray(arr));
  size_t cap = 64, len = 0;
  char *ids = calloc(1, cap);
  assert_non_null(ids);
  const cJSON *row;
  *n = 0;
  cJSON_ArrayForEach(row, arr) {
    assert_null(cJSON_GetObjectItemCaseSensitive(row, "request_body"));
    assert_null(cJSON_GetObjectItemCaseSensitive(row, "response_body"));
    char one[32];
    int w = snprintf(one, sizeof one, "%s%" PRId64, *n ? "," : "", jint(row, "id"));
    if (len + (size_t)w + 1 > cap) {
      cap = 2 * (len + (size_t)w + 1);
      ids = realloc(ids, cap);
      assert_non_null(ids);
    }
    memcpy(ids + len, one, (size_t)w + 1);
    len += (size_t)w;
    (*n)++;
  }
  cJSON_Delete(arr);
  return ids;
}

/* The ids of NDJSON text, comma-separated, in order. */
static char *ndjson_ids(const char *text, int *n) {
  size_t cap = strlen(text) + 2, len = 0;
  char *ids = calloc(1, cap);
  assert_non_null(ids);
  *n = 0;
  for (const char *p = text; *p;) {
    const char *nl = strchr(p, '\n');
    assert_non_null(nl);
    char *line = strndup(p, (size_t)(nl - p));
    cJSON *row = cJSON_Parse(line);
    assert_true(cJSON_IsObject(row));
    len += (size_t)snprintf(ids + len, cap - len, "%s%" PRId64, *n ? "," : "", jint(row, "id"));
    cJSON_Delete(row);
    free(line);
    (*n)++;
    p = nl + 1;
  }
  return ids;
}

/* The ids of rows matching WHERE (SQL over `calls AS c`), comma-separated, newest first
 * (DESC) or oldest first; *N gets how many. */
static char *sql_ids(sqlite3 *db, const char *where, int desc, int *n) {
  char *ids = qtext(db, "SELECT coalesce(group_concat(id, ','), '') FROM (SELECT id FROM "
                        "calls AS c WHERE %s ORDER BY id %s)", where, desc ? "DESC" : "ASC");
  assert_non_null(ids);
  *n = (int)qint(db, "SELECT count(*) FROM calls AS c WHERE %s", where);
  return ids;
}

/* `show ID --json` of the history, parsed; kept in e->shows for the other tests. */
static const cJSON *show_row(env *e, int64_t id) {
  char name[32];
  snprintf(name, sizeof name, "%" PRId64, id);
  const cJSON *have = cJSON_GetObjectItemCaseSensitive(e->shows, name);
  if (have)
    return have;
  char *out = NULL, *err = NULL;
  int rc = rl(e, e->hist, NULL, NULL, ARGS("show", name, "--json"), &out, &err);
  expect_exit(rc, 0, "show --json", err);
  cJSON *row = cJSON_Parse(out);
  assert_true(cJSON_IsObject(row));
  assert_int_equal(jint(row, "id"), id);
  cJSON_AddItemToObject(e->shows, name, row);
  free2(&out, &err);
  return row;
}

/* ------------------------------------------------------------------ RFC 4180 reader */

typedef struct csv {
  char ***rows;    /* rows[i][j]: NUL-terminated cells */
  size_t *ncells;
  size_t nrows;
} csv;

typedef struct sbuf {
  char *p;
  size_t len, cap;
} sbuf;

static void sb_put(sbuf *b, char c) {
  if (b->len + 2 > b->cap) {
    b->cap = b->cap ? 2 * b->cap : 64;
    b->p = realloc(b->p, b->cap);
    assert_non_null(b->p);
  }
  b->p[b->len++] = c;
  b->p[b->len] = '\0';
}

static char *sb_take(sbuf *b) {
  char *s = b->p ? b->p : strdup("");
  b->p = NULL;
  b->len = b->cap = 0;
  return s;
}

/* Strict RFC 4180: records end in CRLF; a field is either plain (no '"', CR or LF) or
 * quoted with '"' doubled inside. Returns 0, or -1 with the byte offset of the problem
 * in *AT. */
static int csv_parse(const char *t, size_t len, csv *out, size_t *at) {
  memset(out, 0, sizeof *out);
  size_t i = 0;
  sbuf cell = {0};
  while (i < len) {
    char **cells = NULL;
    size_t n = 0;
    for (;;) { /* one field */
      if (t[i] == '"') {
        i++;
        for (;;) {
          if (i >= len)
            goto bad;
          if (t[i] == '"') {
            if (i + 1 < len && t[i + 1] == '"') {
              sb_put(&cell, '"');
              i += 2;
              continue;
            }
            i++;
            break;
          }
          sb_put(&cell, t[i++]);
        }
      } else {
        while (i < len && t[i] != ',' && t[i] != '\r') {
          if (t[i] == '"' || t[i] == '\n')
            goto bad;
          sb_put(&cell, t[i++]);
        }
      }
      cells = realloc(cells, (n + 1) * sizeof *cells);
      assert_non_null(cells);
      cells[n++] = sb_take(&cell);
      if (i < len && t[i] == ',') {
        i++;
        continue;
      }
      if (i + 1 < len && t[i] == '\r' && t[i + 1] == '\n') {
        i += 2;
        break;
      }
      goto bad; /* the last record must end in CRLF too */
    }
    out->rows = realloc(out->rows, (out->nrows + 1) * sizeof *out->rows);
    out->ncells = realloc(out->ncells, (out->nrows + 1) * sizeof *out->ncells);
    assert_true(out->rows && out->ncells);
    out->rows[out->nrows] = cells;
    out->ncells[out->nrows++] = n;
    continue;
  bad:
    *at = i;
    for (size_t k = 0; k < n; k++)
      free(cells[k]);
    free(cells);
    free(cell.p);
    return -1;
  }
  return 0;
}

static void csv_free(csv *c) {
  for (size_t i = 0; i < c->nrows; i++) {
    for (size_t j = 0; j < c->ncells[i]; j++)
      free(c->rows[i][j]);
    free(c->rows[i]);
  }
  free(c->rows);
  free(c->ncells);
}

/* ------------------------------------------------------------------ fixtures */

static int group_setup(void **state) {
  env *e = calloc(1, sizeof *e);
  e->dir = tu_tmpdir();
  e->api = tu_api(100000, 60000);
  snprintf(e->base_env, sizeof e->base_env, "REQLOG_BASE_URL=%s", fakeapi_base_url(e->api));
  fingerprint(FAKEAPI_KEY, e->fp1);
  fingerprint(FAKEAPI_KEY2, e->fp2);
  e->shows = cJSON_CreateObject();
  *state = e;
  return 0;
}

static int group_teardown(void **state) {
  env *e = *state;
  fakeapi_stop(e->api);
  tu_rmtree(e->dir);
  cJSON_Delete(e->shows);
  free(e->hist);
  free(e->dir);
  free(e);
  return 0;
}

/* One `call` of the history: its key, stdin, expected exit code and arguments. */
struct hcall {
  const char *key;
  const char *in;
  int want;
  const char *args[12];
};

/* The shared history: `reqlog demo` (every status class, retries, a 429, binary...)
 * then calls through the CLI that the demo lacks, then rows 1-10 moved 3 days and rows
 * 11-20 two hours into the past, so relative times have something to tell apart. */
static void history(env *e) {
  if (e->hist_ready)
    return;
  e->hist = tu_path(e->dir, "history.db");
  char *out = NULL, *err = NULL;
  int rc = rl(e, e->hist, NULL, NULL, ARGS("demo"), &out, &err);
  expect_exit(rc, 0, "demo", err);
  free2(&out, &err);

  char *keyfile = tu_path(e->dir, "hist-key2"), *atfile = tu_path(e->dir, "at-body.txt");
  write_file(keyfile, FAKEAPI_KEY2 "\n", 0600);
  write_file(atfile, AT_TEXT, 0600);
  char local_url[200], local_base[200], at_arg[300];
  snprintf(at_arg, sizeof at_arg, "@%s", atfile);
  snprintf(local_url, sizeof local_url, "http://localhost:%d/public/v1/participants/2",
           fakeapi_port(e->api));
  /* the key goes to the base URL's host only: name localhost as the base for it */
  snprintf(local_base, sizeof local_base, "http://localhost:%d/public/v1", fakeapi_port(e->api));
  const struct hcall calls[] = {
    {FAKEAPI_KEY, NULL, 0, {"call", "GET", "/participants"}},
    {NULL, NULL, 0, {"call", "--key-file", keyfile, "--base-url", local_base, "GET", local_url}},
    {FAKEAPI_KEY, NULL, 1, {"call", "POST", "/participants", "-d", "{\"last_name\":\"x\"}"}},
    {FAKEAPI_KEY2, NULL, 1, {"call", "POST", "/participants", "-d",
                             "{\"first_name\":\"Zo\xc3\xab\",\"last_name\":\"\xe6\x97\xa5\","
                             "\"email\":\"bad\"}"}},
    {FAKEAPI_KEY, NULL, 3, {"call", "--retries", "0", "GET", "/drop"}},
    {NULL, NULL, 1, {"call", "GET", "/participants"}},
    {FAKEAPI_KEY2, NULL, 0, {"call", "GET", "/slow?ms=150"}},
    {FAKEAPI_KEY, NULL, 0, {"call", "DELETE", "/participants/4"}},
    {FAKEAPI_KEY, NULL, 0, {"call", "-H", "Content-Type: text/plain", "POST", NASTY_URL,
                            "-d", NASTY_TEXT}},
    {FAKEAPI_KEY, NULL, 0, {"call", "-H", "Content-Type: text/plain", "POST", "/echo",
                            "-d", PLUS_TEXT}},
    {FAKEAPI_KEY, NULL, 0, {"call", "POST", "/echo", "-d", "-1"}},
    {FAKEAPI_KEY, NULL, 0, {"call", "-H", "Content-Type: text/plain", "POST", "/echo",
                            "-d", at_arg}},
    {FAKEAPI_KEY, NULL, 0, {"call", "POST", "/echo", "-d", UTF8_JSON}},
    {FAKEAPI_KEY, PRETTY_JSON, 0, {"call", "PUT", "/echo", "-d", "@-"}},
  };
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
    const struct hcall *c = &calls[i];
    char label[200];
    rc = rl(e, e->hist, c->key, c->in, c->args, &out, &err);
    expect_exit(rc, c->want, label_of(c->args, label, sizeof label), err);
    free2(&out, &err);
  }
  free(keyfile);
  free(atfile);

  sqlite3 *s = tu_db(e->hist);
  tu_exec(s, "UPDATE calls SET started_at = started_at - 3 * 86400000000 WHERE id <= 10");
  tu_exec(s, "UPDATE calls SET started_at = started_at - 2 * 3600000000 "
             "WHERE id > 10 AND id <= 20");
  e->hist_rows = tu_int(s, "SELECT count(*) FROM calls");
  assert_true(e->hist_rows >= 60);
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls WHERE source = 'cli'"),
                   (int64_t)(sizeof calls / sizeof calls[0]));
  sqlite3_close(s);
  printf("checked: history: demo plus %zu CLI calls, %" PRId64 " rows, rows 1-20 moved back "
         "in time\n", sizeof calls / sizeof calls[0], e->hist_rows);
  e->hist_ready = 1;
}

/* ------------------------------------------------------------------ call */

/* call's stderr ends with "reqlog: call: TEXT" where TEXT is the transport error, which
 * the stored error (curl's code text plus its detail) contains. */
static void check_transport_error(const char *err, const char *stored) {
  const char *p = strstr(err, "reqlog: call: ");
  assert_non_null(p);
  p += 14;
  char *text = strndup(p, strcspn(p, "\n"));
  assert_true(strlen(text) > 5);
  expect_has(stored, text, "stored transport error");
  free(text);
}

static void test_call(void **state) {
  env *e = *state;
  char *db = tu_path(e->dir, "call.db"), *out = NULL, *err = NULL;
  int rc, calls = 0;

  rc = rl(e, db, FAKEAPI_KEY, NULL, ARGS("call", "GET", "/participants"), &out, &err);
  expect_exit(rc, 0, "GET /participants", err);
  cJSON *doc = cJSON_Parse(out);
  assert_true(cJSON_IsObject(doc));
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "data")), 5);
  cJSON_Delete(doc);
  assert_int_equal(strncmp(err, "HTTP 200 ", 9), 0);
  assert_null(strstr(out, "HTTP 200"));
  int64_t id = recorded_id(err);
  assert_true(id > 0);
  calls++;
  sqlite3 *s = tu_db(db);
  assert_int_equal(qint(s, "SELECT count(*) FROM calls WHERE id = %" PRId64 " AND status = 200"
                           " AND method = 'GET' AND source = 'cli' AND path = "
                           "'/public/v1/participants'", id), 1);
  char *key = qtext(s, "SELECT key FROM calls WHERE id = %" PRId64, id);
  assert_string_equal(key, e->fp1);
  free(key);
  free2(&out, &err);
  printf("checked: call GET /participants: exit 0, the JSON body alone on stdout, "
         "'HTTP 200 ...' on stderr, row #%" PRId64 " with source cli and the key's "
         "fingerprint\n", id);

  rc = rl(e, db, FAKEAPI_KEY, NULL, ARGS("call", "POST", "/participants", "-d",
                                         "{\"last_name\":\"Lovelace\"}"), &out, &err);
  expect_exit(rc, 1, "POST /participants invalid", err);
  expect_has(err, "HTTP 422", "422 status line");
  expect_has(err, "error: The given data was invalid.\n", "422 message");
  expect_has(err, "\n  email: The email field is required.\n", "422 email line");
  expect_has(err, "\n  first_name: The first name field is required.\n", "422 first_name");
  doc = cJSON_Parse(out);
  assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "errors")));
  cJSON_Delete(doc);
  id = recorded_id(err);
  calls++;
  char *msg = qtext(s, "SELECT error_message FROM calls WHERE id = %" PRId64, id);
  assert_string_equal(msg, "The given data was invalid.");
  free(msg);
  assert_int_equal(qint(s, "SELECT count(*) FROM calls WHERE id = %" PRId64 " AND status = 422 "
                           "AND json_extract(error_fields, '$.email[0]') = "
                           "'The email field is required.'", id), 1);
  free2(&out, &err);
  printf("checked: call POST /participants with an invalid body: exit 1, stderr has "
         "'error: The given data was invalid.' and a line each for email and first_name\n");

  rc = rl(e, db, FAKEAPI_KEY, NULL, ARGS("call", "--retries", "0", "GET", "/drop"), &out, &err);
  expect_exit(rc, 3, "GET /drop", err);
  expect_has(err, "no response", "/drop status line");
  assert_string_equal(out, "");
  id = recorded_id(err);
  calls++;
  char *terr = qtext(s, "SELECT error FROM calls WHERE id = %" PRId64 " AND status IS NULL", id);
  assert_non_null(terr);
  check_transport_error(err, terr);
  printf("checked: call GET /drop: exit 3, 'no response' and the transport error on stderr, "
         "row with status NULL and error '%s'\n", terr);
  free(terr);
  free2(&out, &err);

  rc = rl(e, db, FAKEAPI_KEY, NULL, ARGS("call", "--retries", "0", "GET", "http://127.0.0.1:1/"),
          &out, &err);
  expect_exit(rc, 3, "GET port 1", err);
  id = recorded_id(err);
  calls++;
  terr = qtext(s, "SELECT error FROM calls WHERE id = %" PRId64 " AND status IS NULL AND "
                  "host = '127.0.0.1'", id);
  assert_non_null(terr);
  check_transport_error(err, terr);
  printf("checked: call GET http://127.0.0.1:1/: exit 3, the transport error on stderr, "
         "row with status NULL and error '%s'\n", terr);
  free(terr);
  free2(&out, &err);

  rc = rl(e, db, NULL, NULL, ARGS("call", "GET", "/participants"), &out, &err);
  expect_exit(rc, 1, "no key", err);
  expect_has(err, "HTTP 401", "401 status line");
  expect_has(err, "Unauthenticated.", "401 message");
  id = recorded_id(err);
  calls++;
  assert_int_equal(qint(s, "SELECT count(*) FROM calls WHERE id = %" PRId64 " AND status = 401 "
                           "AND key IS NULL", id), 1);
  free2(&out, &err);
  printf("checked: call without a key: 401, exit 1, 'Unauthenticated.' on stderr, row "
         "without a key\n");

  rc = rl(e, db, FAKEAPI_KEY, NULL, ARGS("call", "POST", "/participants", "-d", "not json"),
          &out, &err);
  expect_exit(rc, 2, "-d not json", err);
  expect_has(err, "-d", "-d named");
  expect_has(err, "JSON", "-d JSON named");
  assert_string_equal(out, "");
  free2(&out, &err);
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls"), calls);
  printf("checked: call -d 'not json': exit 2, stderr names -d and JSON, nothing sent or "
         "recorded\n");

  static const char *const key_forms[][3] = {
    {"--key", "sk_live_ARGVSECRET42", NULL},
    {"--key=sk_live_ARGVSECRET42", NULL, NULL},
    {"-k", "sk_live_ARGVSECRET42", NULL},
    {"--api-key", "sk_live_ARGVSECRET42", NULL},
  };
  for (size_t i = 0; i < sizeof key_forms / sizeof key_forms[0]; i++) {
    const char *a[8] = {"call", key_forms[i][0]};
    size_t n = 2;
    if (key_forms[i][1])
      a[n++] = key_forms[i][1];
    a[n++] = "GET";
    a[n++] = "/participants";
    a[n] = NULL;
    rc = rl(e, db, NULL, NULL, a, &out, &err);
    expect_exit(rc, 2, key_forms[i][0], err);
    expect_has(err, "never", "key refusal says never");
    expect_has(err, "command line", "key refusal says command line");
    expect_has(err, "REQLOG_API_KEY", "key refusal names the alternative");
    assert_null(strstr(err, "ARGVSECRET42"));
    assert_null(strstr(out, "ARGVSECRET42"));
    free2(&out, &err);
  }
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls"), calls);
  printf("checked: --key, --key=, -k and --api-key are refused with exit 2 and a message "
         "that keys never go on the command line; the value is never echoed\n");

  char *kf = tu_path(e->dir, "call-key");
  write_file(kf, FAKEAPI_KEY2 "\n", 0600);
  rc = rl(e, db, NULL, NULL, ARGS("call", "--key-file", kf, "GET", "/participants/3"), &out, &err);
  expect_exit(rc, 0, "--key-file", err);
  assert_null(strstr(err, "warning"));
  id = recorded_id(err);
  calls++;
  key = qtext(s, "SELECT key FROM calls WHERE id = %" PRId64, id);
  assert_string_equal(key, e->fp2);
  free(key);
  free2(&out, &err);
  char *missing = tu_path(e->dir, "no-such-key-file");
  rc = rl(e, db, NULL, NULL, ARGS("call", "--key-file", missing, "GET", "/participants"),
          &out, &err);
  expect_exit(rc, 4, "--key-file missing", err);
  expect_has(err, missing, "missing key file named");
  free2(&out, &err);
  free(missing);
  free(kf);
  printf("checked: --key-file FILE: the key in it is used (row fingerprint %s), no "
         "warning at mode 0600; a missing file exits 4 naming it\n", e->fp2);

  const char *file_body = "{\"from\":\"file\",\"list\":[1,2,3],\"s\":\"a b\"}";
  char *bf = tu_path(e->dir, "body.json");
  write_file(bf, file_body, 0644);
  char *at = NULL;
  assert_true(asprintf(&at, "@%s", bf) > 0);
  rc = rl(e, db, FAKEAPI_KEY, NULL, ARGS("call", "POST", "/echo", "-d", at), &out, &err);
  expect_exit(rc, 0, "-d @FILE", err);
  doc = cJSON_Parse(out);
  assert_string_equal(cJSON_GetObjectItemCaseSensitive(doc, "body")->valuestring, file_body);
  cJSON_Delete(doc);
  id = recorded_id(err);
  calls++;
  char *stored = qtext(s, "SELECT request_body FROM calls WHERE id = %" PRId64, id);
  assert_string_equal(stored, file_body);
  free(stored);
  free2(&out, &err);
  free(at);
  free(bf);

  const char *stdin_body = "{\"from\":\"stdin\",\"n\":7}";
  rc = rl(e, db, FAKEAPI_KEY, stdin_body, ARGS("call", "POST", "/echo", "-d", "@-"), &out, &err);
  expect_exit(rc, 0, "-d @-", err);
  doc = cJSON_Parse(out);
  assert_string_equal(cJSON_GetObjectItemCaseSensitive(doc, "body")->valuestring, stdin_body);
  cJSON_Delete(doc);
  id = recorded_id(err);
  calls++;
  stored = qtext(s, "SELECT request_body FROM calls WHERE id = %" PRId64, id);
  assert_string_equal(stored, stdin_body);
  free(stored);
  free2(&out, &err);
  printf("checked: -d @FILE and -d @- send exactly the file's and stdin's bytes (the "
         "echo and the stored request_body)\n");

  rc = rl(e, db, FAKEAPI_KEY, NULL, ARGS("call", "-i", "GET", "/participants/1"), &out, &err);
  expect_exit(rc, 0, "-i", err);
  assert_int_equal(strncmp(out, "HTTP/1.1 200", 12), 0);
  char *blank = strstr(out, "\r\n\r\n");
  assert_non_null(blank);
  *blank = '\0';
  expect_has(out, "\r\nContent-Type: application/json", "-i header block");
  doc = cJSON_Parse(blank + 4);
  assert_int_equal(jint(doc, "id"), 1);
  cJSON_Delete(doc);
  calls++;
  free2(&out, &err);
  printf("checked: call -i: stdout starts with 'HTTP/1.1 200', the header block, a blank "
         "line, then the JSON body\n");

  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls"), calls);
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls WHERE source = 'cli'"), calls);
  sqlite3_close(s);
  rc = rl(e, db, NULL, NULL, ARGS("list", "--limit", "0", "--json"), &out, &err);
  expect_exit(rc, 0, "list", err);
  int n = 0;
  char *ids = json_ids(out, &n);
  assert_int_equal(n, calls);
  free(ids);
  cJSON *arr = cJSON_Parse(out);
  const cJSON *row;
  cJSON_ArrayForEach(row, arr)
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(row, "source")->valuestring, "cli");
  cJSON_Delete(arr);
  free2(&out, &err);
  struct stat st;
  assert_int_equal(stat(db, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  printf("checked: all %d calls that reached the network are rows with source cli (SQL "
         "and list --json); usage errors recorded nothing; the database is mode 0600\n",
         calls);
  free(db);
}

/* ------------------------------------------------------------------ list filters */

/* SQL for "every word of q is in the URL or a text body", one word. */
#define QW(w)                                                                            \
  "(c.url LIKE '%" w "%' OR (typeof(c.request_body) = 'text' AND c.request_body LIKE '%" \
  w "%') OR (typeof(c.response_body) = 'text' AND c.response_body LIKE '%" w "%'))"
#define FIELD(f) "EXISTS (SELECT 1 FROM json_each(c.error_fields) AS j WHERE j.key = '" f "')"
#define PREFIX(p) "substr(c.path, 1, length('" p "')) = '" p "'"

/* A filter case: the options, the SQL condition they mean, and whether the answer
 * must be some but not all rows (1), no row (0), or anything (-1). */
struct fcase {
  const char *args[12];
  const char *sql;
  int some;
};

static void test_list_filters(void **state) {
  env *e = *state;
  history(e);
  sqlite3 *s = tu_db(e->hist);
  int64_t now = tu_now_us();
  /* a row in the middle of the fresh ones, as ISO (Z and +01:00) */
  int64_t mid_id = tu_int(s, "SELECT id FROM calls WHERE id > 20 ORDER BY id LIMIT 1 OFFSET 20");
  int64_t mid = qint(s, "SELECT started_at FROM calls WHERE id = %" PRId64, mid_id);
  char iso_mid[40], iso_off[48], day[16];
  iso_us(mid, iso_mid);
  time_t t1 = (time_t)(mid / 1000000) + 3600;
  struct tm tm;
  gmtime_r(&t1, &tm);
  char secs[24];
  strftime(secs, sizeof secs, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(iso_off, sizeof iso_off, "%.20s.%06d+01:00", secs, (int)(mid % 1000000));
  time_t tn = (time_t)(now / 1000000);
  gmtime_r(&tn, &tm);
  strftime(day, sizeof day, "%Y-%m-%d", &tm);
  int64_t midnight = (int64_t)(tn - (tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec)) * 1000000;

  char s_mid[80], u_mid[80], s_1d[80], s_1h[80], u_1h[80], w_7d1d[120], s_day[80];
  snprintf(s_mid, sizeof s_mid, "c.started_at >= %" PRId64, mid);
  snprintf(u_mid, sizeof u_mid, "c.started_at < %" PRId64, mid);
  snprintf(s_1d, sizeof s_1d, "c.started_at >= %" PRId64, now - INT64_C(86400000000));
  snprintf(s_1h, sizeof s_1h, "c.started_at >= %" PRId64, now - INT64_C(3600000000));
  snprintf(u_1h, sizeof u_1h, "c.started_at < %" PRId64, now - INT64_C(3600000000));
  snprintf(w_7d1d, sizeof w_7d1d, "c.started_at >= %" PRId64 " AND c.started_at < %" PRId64,
           now - 7 * INT64_C(86400000000), now - INT64_C(86400000000));
  snprintf(s_day, sizeof s_day, "c.started_at >= %" PRId64, midnight);

  const char *h1 = strchr(e->fp1, '#') + 1, *h2 = strchr(e->fp2, '#') + 1;
  char k_full[96], k_ascii[64], k_hash[96], k_hashmark[16], k_upper[16], k_hash2[96];
  char k_last4[64], k_last4b[64], k_combo[256];
  snprintf(k_full, sizeof k_full, "c.key = '%s'", e->fp1);
  snprintf(k_ascii, sizeof k_ascii, "...%s", e->fp1 + 3);
  snprintf(k_hash, sizeof k_hash, "c.key LIKE '%%#%s'", h1);
  snprintf(k_hashmark, sizeof k_hashmark, "#%s", h1);
  snprintf(k_upper, sizeof k_upper, "%s", h1);
  for (char *p = k_upper; *p; p++)
    if (*p >= 'a' && *p <= 'f')
      *p = (char)(*p - 'a' + 'A');
  snprintf(k_hash2, sizeof k_hash2, "c.key LIKE '%%#%s'", h2);
  snprintf(k_last4, sizeof k_last4, "c.key LIKE '\xe2\x80\xa6" "lpha#%%'");
  snprintf(k_last4b, sizeof k_last4b, "c.key LIKE '\xe2\x80\xa6" "4b6e#%%'");
  snprintf(k_combo, sizeof k_combo, "c.key LIKE '\xe2\x80\xa6" "lpha#%%' AND %s", s_1d);
  char f_combo[300], q_combo[300], p_combo[200], t_combo[200];
  snprintf(f_combo, sizeof f_combo, FIELD("email") " AND c.status = 422 AND %s", k_full);
  snprintf(q_combo, sizeof q_combo, "%s AND c.method = 'GET' AND c.host = '127.0.0.1'",
           QW("olivia"));
  snprintf(p_combo, sizeof p_combo, PREFIX("/public/v1/participants") " AND c.status "
                                    "BETWEEN 200 AND 299 AND c.duration_us >= 50");
  snprintf(t_combo, sizeof t_combo, "%s AND %s AND c.method = 'GET'", s_1d, u_1h);

  const struct fcase cases[] = {
    {{"--status", "422"}, "c.status = 422", 1},
    {{"--status", "4xx"}, "c.status BETWEEN 400 AND 499", 1},
    {{"--status", "401,403"}, "c.status IN (401, 403)", 1},
    {{"--status", "error"}, "c.status IS NULL", 1},
    {{"--status", "2xx,404"}, "c.status BETWEEN 200 AND 299 OR c.status = 404", 1},
    {{"--method", "POST"}, "c.method = 'POST'", 1},
    {{"--method", "delete"}, "c.method = 'DELETE'", 1},
    {{"--path", "/public/v1/participants"}, PREFIX("/public/v1/participants"), 1},
    {{"--path", "/public/v1/participants/"}, PREFIX("/public/v1/participants/"), 1},
    {{"--path", "articipants/"}, "instr(c.path, 'articipants/') > 0", 1},
    {{"--path", "echo"}, "instr(c.path, 'echo') > 0", 1},
    {{"--path", "/public/v1/*/1"}, "c.path GLOB '/public/v1/*/1*'", 1},
    {{"--host", "localhost"}, "c.host = 'localhost'", 1},
    {{"--host", "LOCALHOST"}, "c.host = 'localhost'", 1},
    {{"--host", "127.0.0.1"}, "c.host = '127.0.0.1'", 1},
    {{"--key", e->fp1}, k_full, 1},
    {{"--key", k_ascii}, k_full, 1},
    {{"--key", h1}, k_hash, 1},
    {{"--key", k_hashmark}, k_hash, 1},
    {{"--key", k_upper}, k_hash, 1},
    {{"--key", h2}, k_hash2, 1},
    {{"--key", "lpha"}, k_last4, 1},
    {{"--key", "4b6e"}, k_last4b, 1},
    {{"--since", "1d"}, s_1d, 1},
    {{"--since", "1h"}, s_1h, 1},
    {{"--until", "1h"}, u_1h, 1},
    {{"--since", "7d", "--until", "1d"}, w_7d1d, 1},
    {{"--since", iso_mid}, s_mid, 1},
    {{"--until", iso_mid}, u_mid, 1},
    {{"--since", iso_off}, s_mid, 1},
    {{"--since", day}, s_day, -1},
    {{"--min-ms", "100"}, "c.duration_us >= 100000", 1},
    {{"--min_ms", "0.25"}, "c.duration_us >= 250", -1},
    {{"-q", "lovelace"}, QW("lovelace"), 1},
    {{"--q", "olivia nguyen"}, QW("olivia") " AND " QW("nguyen"), 1},
    {{"-q", "OLIVIA"}, QW("olivia"), 1},
    {{"-q", "zo\xc3\xab"}, QW("zo\xc3\xab"), 1},
    {{"--field", "email"}, FIELD("email"), 1},
    {{"--field", "first_name"}, FIELD("first_name"), 1},
    {{"--field", "nosuchfield"}, FIELD("nosuchfield"), 0},
    {{"--status", "4xx", "--method", "POST"}, "c.status BETWEEN 400 AND 499 AND "
                                              "c.method = 'POST'", 1},
    {{"--key", "lpha", "--since", "1d"}, k_combo, 1},
    {{"--path", "/public/v1/participants", "--status", "2xx", "--min-ms", "0.05"}, p_combo, 1},
    {{"-q", "olivia", "--method", "GET", "--host", "127.0.0.1"}, q_combo, 1},
    {{"--status", "401,403", "--status", "error"}, "c.status IN (401, 403) OR "
                                                  "c.status IS NULL", 1},
    {{"--method", "GET", "--method", "DELETE"}, "c.method IN ('GET', 'DELETE')", 1},
    {{"--field", "email", "--status", "422", "--key", e->fp1}, f_combo, 1},
    {{"--since", "1d", "--until", "1h", "--method", "GET"}, t_combo, 1},
  };
  size_t ncases = sizeof cases / sizeof cases[0];
  for (size_t i = 0; i < ncases; i++) {
    const struct fcase *c = &cases[i];
    char where[1200];
    snprintf(where, sizeof where, "(%s)", c->sql);
    int want_n = 0, got_n = 0, exp_n = 0, st_n = 0;
    char *want = sql_ids(s, where, 1, &want_n);
    char *want_asc = sql_ids(s, where, 0, &exp_n);
    const char *a[24];
    size_t n = 0;
    a[n++] = "list";
    a[n++] = "--limit";
    a[n++] = "0";
    a[n++] = "--json";
    char label[300] = " ";
    for (size_t k = 0; c->args[k]; k++)
      a[n++] = c->args[k];
    a[n] = NULL;
    label_of(c->args, label + 1, sizeof label - 1);
    char *out = NULL, *err = NULL;
    int rc = rl(e, e->hist, NULL, NULL, a, &out, &err);
    expect_exit(rc, 0, label, err);
    char *got = json_ids(out, &got_n);
    if (strcmp(got, want) != 0)
      fprintf(stderr, "list%s:\n  reqlog: [%s]\n  SQL:    [%s]  (%s)\n", label, got, want,
              c->sql);
    assert_string_equal(got, want);
    if (c->some == 1)
      assert_true(want_n > 0 && want_n < e->hist_rows);
    else if (c->some == 0)
      assert_int_equal(want_n, 0);
    free(got);
    free2(&out, &err);

    /* the same filter through export and stats */
    a[0] = "export";
    a[1] = "--format";
    a[2] = "ndjson";
    a[3] = "--bodies";
    rc = rl(e, e->hist, NULL, NULL, a, &out, &err);
    expect_exit(rc, 0, label, err);
    got = ndjson_ids(out, &got_n);
    if (strcmp(got, want_asc) != 0)
      fprintf(stderr, "export%s:\n  reqlog: [%s]\n  SQL:    [%s]\n", label, got, want_asc);
    assert_string_equal(got, want_asc);
    free(got);
    free2(&out, &err);
    const char *sa[24] = {"stats", "--json"};
    for (size_t k = 0; c->args[k]; k++)
      sa[2 + k] = c->args[k];
    rc = rl(e, e->hist, NULL, NULL, sa, &out, &err);
    expect_exit(rc, 0, label, err);
    cJSON *stats = cJSON_Parse(out);
    st_n = (int)jint(stats, "total");
    cJSON_Delete(stats);
    assert_int_equal(st_n, want_n);
    free2(&out, &err);
    printf("checked: list/export/stats%s -> %d of %" PRId64 " rows, the ids SQL gives\n",
           label, want_n, e->hist_rows);
    free(want);
    free(want_asc);
  }
  sqlite3_close(s);
  printf("checked: %zu filter cases, each alone and combined, agree with SQL in list, "
         "export and stats\n", ncases);
}

/* A malformed filter or option: exit 2, stderr names it, nothing on stdout. */
struct badcase {
  const char *args[6];
  const char *named;  /* must be in stderr */
  const char *named2; /* or this, when not NULL */
};

static void test_bad_filters(void **state) {
  env *e = *state;
  history(e);
  const struct badcase cases[] = {
    {{"--status", "4yy"}, "status", NULL},
    {{"--status", "600"}, "status", NULL},
    {{"--status", ""}, "status", NULL},
    {{"--since", "yesterday"}, "since", NULL},
    {{"--until", "2026-13-45"}, "until", NULL},
    {{"--since", "7d", "--since", "1d"}, "since", NULL},
    {{"--since", "1d", "--until", "7d"}, "since", NULL},
    {{"--min-ms", "-1"}, "min-ms", "min_ms"},
    {{"--min-ms", "fast"}, "min-ms", "min_ms"},
    {{"--method", "G T"}, "method", NULL},
    {{"--host", "a b"}, "host", NULL},
    {{"--key", FAKEAPI_KEY}, "key", NULL},
    {{"--path", "/a", "--path", "/b"}, "path", NULL},
    {{"--colour"}, "--colour", NULL},
    {{"--frob=1"}, "--frob", NULL},
    {{"--status"}, "--status", NULL},
  };
  static const char *const cmds[] = {"list", "export", "stats"};
  int n = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    for (size_t c = 0; c < 3; c++) {
      const char *a[16];
      size_t k = 0;
      a[k++] = cmds[c];
      if (c == 1) {
        a[k++] = "--format";
        a[k++] = "csv";
      }
      for (size_t j = 0; cases[i].args[j]; j++)
        a[k++] = cases[i].args[j];
      a[k] = NULL;
      char *out = NULL, *err = NULL;
      int rc = rl(e, e->hist, NULL, NULL, a, &out, &err);
      char label[200];
      snprintf(label, sizeof label, "%s %s %s", cmds[c], cases[i].args[0],
               cases[i].args[1] ? cases[i].args[1] : "");
      expect_exit(rc, 2, label, err);
      assert_string_equal(out, "");
      if (!strstr(err, cases[i].named) && !(cases[i].named2 && strstr(err, cases[i].named2)))
        fprintf(stderr, "%s: stderr does not name '%s':\n%s\n", label, cases[i].named, err);
      assert_true(strstr(err, cases[i].named) ||
                  (cases[i].named2 && strstr(err, cases[i].named2)));
      assert_null(strstr(err, FAKEAPI_KEY));
      assert_null(strstr(err, "ARGVSECRET"));
      if (c == 0 && i < 4)
        printf("checked: list %s '%s' -> exit 2: %s", cases[i].args[0],
               cases[i].args[1] ? cases[i].args[1] : "", err);
      free2(&out, &err);
      n++;
    }
  }
  printf("checked: %d malformed filters and unknown options over list, export and stats "
         "exit 2 naming the filter, print nothing on stdout, never repeat a key\n", n);
}

/* ------------------------------------------------------------------ list output */

static void test_list_output(void **state) {
  env *e = *state;
  history(e);
  char *out = NULL, *err = NULL;
  int rc = rl(e, e->hist, NULL, NULL, ARGS("list", "--limit", "0", "--json"), &out, &err);
  expect_exit(rc, 0, "list --json", err);
  int n = 0;
  char *all = json_ids(out, &n); /* also: no row has a body */
  assert_int_equal(n, e->hist_rows);
  cJSON *arr = cJSON_Parse(out);
  static const char *const fields[] = {
    "id", "started_at", "method", "url", "host", "path", "status", "error", "duration_ms",
    "timing", "key", "attempt", "retry_of", "source", "request_headers", "response_headers",
    "request_size", "response_size", "request_truncated", "response_truncated",
    "content_type", "http_version", "remote_ip", "error_message", "error_fields", NULL};
  const cJSON *row;
  cJSON_ArrayForEach(row, arr)
    for (int i = 0; fields[i]; i++)
      assert_non_null(cJSON_GetObjectItemCaseSensitive(row, fields[i]));
  cJSON_Delete(arr);
  free2(&out, &err);
  sqlite3 *s = tu_db(e->hist);
  int sn = 0;
  char *want = sql_ids(s, "1", 1, &sn);
  assert_string_equal(all, want);
  free(want);
  printf("checked: list --limit 0 --json: a JSON array of all %d rows newest first, every "
         "row-model field present, no request_body/response_body\n", n);

  /* pages of 7 with --before cover every row once, in order */
  size_t cap = strlen(all) + 2;
  char *paged = calloc(1, cap), before[32] = "";
  int pages = 0;
  for (;;) {
    const char *a[] = {"list", "--limit", "7", "--json", before[0] ? "--before" : NULL,
                       before, NULL};
    rc = rl(e, e->hist, NULL, NULL, a, &out, &err);
    expect_exit(rc, 0, "list --before", err);
    int pn = 0;
    char *ids = json_ids(out, &pn);
    free2(&out, &err);
    if (pn == 0) {
      free(ids);
      break;
    }
    assert_true(pn <= 7);
    pages++;
    assert_true(strlen(paged) + strlen(ids) + 2 <= cap); /* no row twice */
    if (paged[0])
      strcat(paged, ",");
    strcat(paged, ids);
    const char *last = strrchr(ids, ',');
    snprintf(before, sizeof before, "%s", last ? last + 1 : ids);
    free(ids);
  }
  assert_string_equal(paged, all);
  free(paged);
  printf("checked: --limit 7 --before ID: %d pages cover all rows once, newest first\n",
         pages);

  /* paging with a filter */
  rc = rl(e, e->hist, NULL, NULL, ARGS("list", "--status", "2xx", "--limit", "4", "--json"),
          &out, &err);
  expect_exit(rc, 0, "list 2xx page 1", err);
  int pn = 0;
  char *p1 = json_ids(out, &pn);
  assert_int_equal(pn, 4);
  free2(&out, &err);
  rc = rl(e, e->hist, NULL, NULL, ARGS("list", "--status", "2xx", "--limit", "4", "--json",
                                       "--before", strrchr(p1, ',') + 1), &out, &err);
  expect_exit(rc, 0, "list 2xx page 2", err);
  char *p2 = json_ids(out, &pn);
  free2(&out, &err);
  char *w = qtext(s, "SELECT group_concat(id, ',') FROM (SELECT id FROM calls WHERE status "
                     "BETWEEN 200 AND 299 ORDER BY id DESC LIMIT 8)");
  char both[256];
  snprintf(both, sizeof both, "%s,%s", p1, p2);
  assert_string_equal(both, w);
  free(w);
  free(p1);
  free(p2);
  printf("checked: --status 2xx --limit 4, then --before the last id: the 8 newest 2xx "
         "rows as SQL gives them\n");

  /* the table: a header line, one line per row, the next page on stderr */
  rc = rl(e, e->hist, NULL, NULL, ARGS("list", "--limit", "3"), &out, &err);
  expect_exit(rc, 0, "list table", err);
  char *nl = strchr(out, '\n');
  assert_non_null(nl);
  char *header = strndup(out, (size_t)(nl - out));
  const char *h = header + strspn(header, " ");
  assert_int_equal(strncmp(h, "ID", 2), 0);
  expect_has(header, "METHOD", "table header");
  expect_has(header, "STATUS", "table header");
  expect_has(header, "PATH", "table header");
  int lines = 0;
  int64_t first_ids[3] = {0};
  for (char *p = nl + 1; *p; p = strchr(p, '\n') + 1) {
    assert_true(lines < 3);
    first_ids[lines++] = strtoll(p, NULL, 10);
  }
  assert_int_equal(lines, 3);
  char *top3 = qtext(s, "SELECT group_concat(id, ',') FROM (SELECT id FROM calls ORDER BY id "
                        "DESC LIMIT 3)");
  char got3[96];
  snprintf(got3, sizeof got3, "%" PRId64 ",%" PRId64 ",%" PRId64, first_ids[0], first_ids[1],
           first_ids[2]);
  assert_string_equal(got3, top3);
  char more[64];
  snprintf(more, sizeof more, "--before %" PRId64, first_ids[2]);
  expect_has(err, more, "table's next-page hint");
  printf("checked: list --limit 3 table: header '%s', 3 rows %s, stderr points to '%s'\n",
         h, got3, more);
  free(top3);
  free(header);
  free2(&out, &err);
  rc = rl(e, e->hist, NULL, NULL, ARGS("list", "--limit", "0", "--status", "599"), &out, &err);
  expect_exit(rc, 0, "list no match", err);
  assert_string_equal(out, "");
  expect_has(err, "no calls match", "empty table");
  free2(&out, &err);
  rc = rl(e, e->hist, NULL, NULL, ARGS("list", "--limit", "-1"), &out, &err);
  expect_exit(rc, 2, "list --limit -1", err);
  expect_has(err, "--limit", "--limit named");
  free2(&out, &err);
  rc = rl(e, e->hist, NULL, NULL, ARGS("list", "--before", "x"), &out, &err);
  expect_exit(rc, 2, "list --before x", err);
  expect_has(err, "--before", "--before named");
  free2(&out, &err);
  printf("checked: no match: empty stdout, 'no calls match' on stderr, exit 0; --limit -1 "
         "and --before x exit 2 naming the option\n");
  free(all);
  sqlite3_close(s);
}

/* ------------------------------------------------------------------ show */

static void test_show(void **state) {
  env *e = *state;
  history(e);
  char *out = NULL, *err = NULL;
  int rc = rl(e, e->hist, NULL, NULL, ARGS("list", "--limit", "0", "--json"), &out, &err);
  expect_exit(rc, 0, "list --json", err);
  cJSON *arr = cJSON_Parse(out);
  free2(&out, &err);
  sqlite3 *s = tu_db(e->hist);
  int n = 0, text_bodies = 0, blobs = 0;
  const cJSON *row;
  cJSON_ArrayForEach(row, arr) {
    int64_t id = jint(row, "id");
    cJSON *full = cJSON_Duplicate(show_row(e, id), 1);
    cJSON *rq = cJSON_DetachItemFromObjectCaseSensitive(full, "request_body");
    cJSON *rs = cJSON_DetachItemFromObjectCaseSensitive(full, "response_body");
    assert_non_null(rq);
    assert_non_null(rs);
    if (!cJSON_Compare(row, full, 1)) {
      char *a = cJSON_PrintUnformatted(row), *b = cJSON_PrintUnformatted(full);
      fprintf(stderr, "list row:  %s\nshow row:  %s\n", a, b);
      free(a);
      free(b);
    }
    assert_true(cJSON_Compare(row, full, 1));
    /* the bodies are the stored ones */
    const cJSON *bodies[2] = {rq, rs};
    static const char *const cols[2] = {"request_body", "response_body"};
    for (int k = 0; k < 2; k++) {
      char *type = qtext(s, "SELECT typeof(%s) FROM calls WHERE id = %" PRId64, cols[k], id);
      if (strcmp(type, "null") == 0) {
        assert_true(cJSON_IsNull(bodies[k]));
      } else if (strcmp(type, "blob") != 0) { /* text (numbers: see test_numeric_bodies) */
        char *v = qtext(s, "SELECT %s FROM calls WHERE id = %" PRId64, cols[k], id);
        assert_true(cJSON_IsString(bodies[k]));
        assert_string_equal(bodies[k]->valuestring, v);
        free(v);
        text_bodies++;
      } else {
        char *hex = qtext(s, "SELECT hex(%s) FROM calls WHERE id = %" PRId64, cols[k], id);
        size_t hl = strlen(hex);
        unsigned char *bin = malloc(hl / 2 + 1);
        for (size_t j = 0; j < hl / 2; j++) {
          unsigned v = 0;
          sscanf(hex + 2 * j, "%2x", &v);
          bin[j] = (unsigned char)v;
        }
        char *enc = base64(bin, hl / 2);
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(bodies[k], "base64");
        assert_true(cJSON_IsString(b));
        assert_string_equal(b->valuestring, enc);
        free(enc);
        free(bin);
        free(hex);
        blobs++;
      }
      free(type);
    }
    cJSON_Delete(rq);
    cJSON_Delete(rs);
    cJSON_Delete(full);
    n++;
  }
  cJSON_Delete(arr);
  assert_int_equal(n, e->hist_rows);
  assert_true(blobs > 0);
  printf("checked: show ID --json for all %d rows equals the list --json row plus "
         "request_body/response_body, which equal the stored bodies (%d text, %d binary "
         "as base64)\n", n, text_bodies, blobs);

  int64_t id422 = tu_int(s, "SELECT max(id) FROM calls WHERE status = 422");
  char idtext[32];
  snprintf(idtext, sizeof idtext, "%" PRId64, id422);
  rc = rl(e, e->hist, NULL, NULL, ARGS("show", idtext), &out, &err);
  expect_exit(rc, 0, "show 422", err);
  expect_has(out, "The given data was invalid.", "show text message");
  expect_has(out, "email", "show text field");
  free2(&out, &err);
  sqlite3_close(s);

  rc = rl(e, e->hist, NULL, NULL, ARGS("show", "999999"), &out, &err);
  expect_exit(rc, 5, "show 999999", err);
  expect_has(err, "999999", "show 999999 names the id");
  assert_string_equal(out, "");
  free2(&out, &err);
  rc = rl(e, e->hist, NULL, NULL, ARGS("show", "999999", "--json"), &out, &err);
  expect_exit(rc, 5, "show 999999 --json", err);
  free2(&out, &err);
  rc = rl(e, e->hist, NULL, NULL, ARGS("show", "abc"), &out, &err);
  expect_exit(rc, 2, "show abc", err);
  expect_has(err, "abc", "show abc names the value");
  free2(&out, &err);
  rc = rl(e, e->hist, NULL, NULL, ARGS("show"), &out, &err);
  expect_exit(rc, 2, "show without id", err);
  free2(&out, &err);
  printf("checked: show (text) of the 422 has its message and field; show 999999 exits 5 "
         "naming the id; show abc and show without an id exit 2\n");
}

/* ------------------------------------------------------------------ export */

/* What a CSV text cell must hold for VALUE: VALUE, with one ' in front when it starts
 * like a spreadsheet formula (= + - @, and tab / CR as reqlog.h says). */
static char *csv_expect_text(const char *value) {
  char *s = NULL;
  int formula = value[0] && strchr("=+-@\t\r", value[0]);
  assert_true(asprintf(&s, "%s%s", formula ? "'" : "", value) >= 0);
  return s;
}

static void test_export_csv(void **state) {
  env *e = *state;
  history(e);
  char *out = NULL, *err = NULL;
  int rc = rl(e, e->hist, NULL, NULL, ARGS("export", "--format", "csv"), &out, &err);
  expect_exit(rc, 0, "export csv", err);
  assert_int_equal(strncmp(out, CSV_HEADER "\r\n", strlen(CSV_HEADER) + 2), 0);
  csv plain;
  size_t at = 0;
  int parsed = csv_parse(out, strlen(out), &plain, &at);
  if (parsed != 0)
    fprintf(stderr, "CSV not RFC 4180 at byte %zu: %.80s\n", at, out + at);
  assert_int_equal(parsed, 0);
  assert_int_equal(plain.nrows, e->hist_rows + 1);
  for (size_t i = 0; i < plain.nrows; i++)
    assert_int_equal(plain.ncells[i], 14);
  csv_free(&plain);
  free2(&out, &err);
  printf("checked: export --format csv: header exactly '%s' + CRLF, %" PRId64 " records "
         "of 14 cells\n", CSV_HEADER, e->hist_rows);

  rc = rl(e, e->hist, NULL, NULL, ARGS("export", "--format", "csv", "--bodies"), &out, &err);
  expect_exit(rc, 0, "export csv --bodies", err);
  assert_int_equal(strncmp(out, CSV_HEADER ",request_body,response_body\r\n",
                           strlen(CSV_HEADER) + 29), 0);
  expect_has(out, "Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac", "UTF-8 kept as is");
  csv c;
  parsed = csv_parse(out, strlen(out), &c, &at);
  if (parsed != 0)
    fprintf(stderr, "CSV not RFC 4180 at byte %zu: %.80s\n", at, out + at);
  assert_int_equal(parsed, 0);
  free2(&out, &err);

  rc = rl(e, e->hist, NULL, NULL, ARGS("list", "--limit", "0", "--json"), &out, &err);
  expect_exit(rc, 0, "list", err);
  int listed = 0;
  char *ids = json_ids(out, &listed);
  free(ids);
  free2(&out, &err);
  assert_int_equal(c.nrows - 1, (size_t)listed);

  /* every cell against the stored row */
  sqlite3 *s = tu_db(e->hist);
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(s,
      "SELECT id, started_at, method, url, status, duration_us, key, attempt, retry_of, "
      "source, error, error_message, request_size, response_size, request_body, "
      "response_body FROM calls ORDER BY id", -1, &st, NULL), SQLITE_OK);
  size_t r = 1;
  int cells = 0, formulas = 0, quoted = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    assert_true(r < c.nrows);
    assert_int_equal(c.ncells[r], 16);
    for (int k = 0; k < 16; k++) {
      char *want = NULL;
      int type = sqlite3_column_type(st, k);
      if (type == SQLITE_NULL) {
        want = strdup("");
      } else if (k == 1) {
        want = malloc(40);
        iso_us(sqlite3_column_int64(st, k), want);
      } else if (k == 5) {
        int64_t us = sqlite3_column_int64(st, k);
        assert_true(asprintf(&want, "%" PRId64 ".%03" PRId64, us / 1000, us % 1000) > 0);
      } else if (type == SQLITE_INTEGER && k < 14) {
        assert_true(asprintf(&want, "%" PRId64, (int64_t)sqlite3_column_int64(st, k)) > 0);
      } else if (type == SQLITE_BLOB) {
        char *enc = base64(sqlite3_column_blob(st, k), (size_t)sqlite3_column_bytes(st, k));
        assert_true(asprintf(&want, "base64:%s", enc) > 0);
        free(enc);
      } else {
        want = csv_expect_text((const char *)sqlite3_column_text(st, k));
        formulas += want[0] == '\'';
        quoted += strpbrk(want, ",\"\r\n") != NULL;
      }
      if (strcmp(c.rows[r][k], want) != 0)
        fprintf(stderr, "CSV row %zu (id %lld) column %d:\n  csv:    [%s]\n  stored: [%s]\n",
                r, (long long)sqlite3_column_int64(st, 0), k, c.rows[r][k], want);
      assert_string_equal(c.rows[r][k], want);
      free(want);
      cells++;
    }
    r++;
  }
  sqlite3_finalize(st);
  assert_int_equal(r, c.nrows);

  /* the hostile bodies, by value */
  static const char *const sent[] = {NASTY_TEXT, PLUS_TEXT, "-1", AT_TEXT, UTF8_JSON,
                                     PRETTY_JSON};
  static const int neutral[] = {1, 1, 1, 1, 0, 0};
  for (size_t i = 0; i < sizeof sent / sizeof sent[0]; i++) {
    int found = 0;
    for (size_t k = 1; k < c.nrows; k++) {
      const char *cell = c.rows[k][14];
      if (neutral[i] && cell[0] != '\'')
        continue;
      const char *v = neutral[i] ? cell + 1 : cell;
      if (strcmp(v, sent[i]) != 0)
        continue;
      found = 1;
      if (neutral[i]) {
        assert_int_equal(cell[0], '\'');
        assert_true(cell[1] != '\'');
      }
    }
    if (!found)
      fprintf(stderr, "no CSV request_body cell holds %s\n", sent[i]);
    assert_true(found);
  }
  int url_seen = 0;
  for (size_t k = 1; k < c.nrows; k++)
    url_seen += strstr(c.rows[k][3], NASTY_URL) != NULL;
  assert_int_equal(url_seen, 1);
  sqlite3_close(s);
  csv_free(&c);
  printf("checked: export --format csv --bodies: %d cells of %zu records read back through "
         "an RFC 4180 reader equal the stored values; %d text cells needed quoting (commas, "
         "quotes, CR/LF), %d formula cells (= + - @) got exactly one leading '; UTF-8 "
         "kept; a URL with '==SUM(A1)' and a comma kept whole; record count = list count "
         "%d\n", cells, c.nrows, quoted, formulas, listed);
}

static void test_export_ndjson(void **state) {
  env *e = *state;
  history(e);
  char *out = NULL, *err = NULL;
  int rc = rl(e, e->hist, NULL, NULL, ARGS("export", "--format", "ndjson"), &out, &err);
  expect_exit(rc, 0, "export ndjson", err);
  int lines = 0;
  int64_t prev = 0;
  for (char *p = out; *p;) {
    char *nl = strchr(p, '\n');
    assert_non_null(nl);
    *nl = '\0';
    cJSON *row = cJSON_Parse(p);
    if (!row)
      fprintf(stderr, "NDJSON line %d does not parse: %.200s\n", lines + 1, p);
    assert_true(cJSON_IsObject(row));
    int64_t id = jint(row, "id");
    assert_true(id > prev);
    prev = id;
    const cJSON *shown = show_row(e, id);
    if (!cJSON_Compare(row, shown, 1))
      fprintf(stderr, "NDJSON line for id %" PRId64 " differs from show --json\n", id);
    assert_true(cJSON_Compare(row, shown, 1));
    cJSON_Delete(row);
    lines++;
    p = nl + 1;
  }
  assert_int_equal(lines, e->hist_rows);
  free2(&out, &err);
  printf("checked: export --format ndjson: %d lines, oldest first, each parses and equals "
         "show --json of its id\n", lines);

  rc = rl(e, e->hist, NULL, NULL, ARGS("export", "--format", "har"), &out, &err);
  expect_exit(rc, 0, "export har", err);
  cJSON *har = cJSON_Parse(out);
  assert_non_null(har);
  cJSON *entries = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(har, "log"),
                                                    "entries");
  assert_int_equal((int64_t)cJSON_GetArraySize(entries), (int64_t)e->hist_rows);
  cJSON_Delete(har);
  free2(&out, &err);
  printf("checked: export --format har: one entry per row (%d)\n", (int)e->hist_rows);
  rc = rl(e, e->hist, NULL, NULL, ARGS("export", "--format", "xml"), &out, &err);
  expect_exit(rc, 2, "export xml", err);
  expect_has(err, "xml", "xml named");
  free2(&out, &err);
  rc = rl(e, e->hist, NULL, NULL, ARGS("export"), &out, &err);
  expect_exit(rc, 2, "export without format", err);
  expect_has(err, "--format", "--format named");
  free2(&out, &err);
  printf("checked: --format xml exits 2 naming the format; export without --format "
         "exits 2\n");
}

static void test_export_file(void **state) {
  env *e = *state;
  history(e);
  char *sub = tu_path(e->dir, "exports");
  assert_int_equal(mkdir(sub, 0755), 0);
  char *csvf = tu_path(sub, "out.csv"), *ndf = tu_path(sub, "out.ndjson");
  char *out = NULL, *err = NULL, *ref = NULL;

  int rc = rl(e, e->hist, NULL, NULL, ARGS("export", "--format", "csv", "--bodies"), &ref, &err);
  expect_exit(rc, 0, "export csv stdout", err);
  free(err);
  rc = rl(e, e->hist, NULL, NULL, ARGS("export", "--format", "csv", "--bodies", "-o", csvf),
          &out, &err);
  expect_exit(rc, 0, "export -o", err);
  assert_string_equal(out, "");
  struct stat st;
  assert_int_equal(stat(csvf, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  char *content = read_file(csvf);
  assert_string_equal(content, ref);
  free(content);
  free2(&out, &err);
  free(ref);
  assert_int_equal(dir_count(sub, ""), 2 + 1); /* ".", "..", out.csv */
  printf("checked: export -o FILE: nothing on stdout, FILE is mode 0600 and holds the same "
         "bytes as the export to stdout, nothing else in the folder\n");

  rc = rl(e, e->hist, NULL, NULL, ARGS("export", "--format", "ndjson"), &ref, &err);
  free(err);
  rc = rl(e, e->hist, NULL, NULL, ARGS("export", "-o", ndf), &out, &err);
  expect_exit(rc, 0, "export -o .ndjson", err);
  content = read_file(ndf);
  assert_string_equal(content, ref);
  free(content);
  free(ref);
  free2(&out, &err);
  printf("checked: export -o out.ndjson without --format: NDJSON, as to stdout\n");

  /* failures leave nothing behind and never touch an existing file */
  write_file(csvf, "OLD CONTENT\n", 0644);
  rc = rl(e, e->hist, NULL, NULL, ARGS("export", "--format", "csv", "--status", "4yy", "-o", csvf),
          &out, &err);
  expect_exit(rc, 2, "export --status 4yy -o existing", err);
  content = read_file(csvf);
  assert_string_equal(content, "OLD CONTENT\n");
  free(content);
  free2(&out, &err);
  char *harf = tu_path(sub, "out.xml");
  rc = rl(e, e->hist, NULL, NULL, ARGS("export", "-o", harf), &out, &err);
  expect_exit(rc, 2, "export -o out.xml", err);
  free2(&out, &err);
  assert_int_equal(dir_count(sub, "out.xml"), 0);
  assert_int_equal(dir_count(sub, "out.csv"), 1);
  printf("checked: a failing export (bad filter, unknown format) exits 2, leaves no file "
         "nor temporary file, and an existing out.csv keeps its content\n");

  char *missing = tu_path(sub, "missing/x.csv");
  rc = rl(e, e->hist, NULL, NULL, ARGS("export", "--format", "csv", "-o", missing), &out, &err);
  assert_true(rc != 0);
  expect_exit(rc, 4, "export -o missing/x.csv", err);
  expect_has(err, missing, "missing folder named");
  free2(&out, &err);
  assert_int_equal(dir_count(sub, "missing"), 0);
  char *asdir = tu_path(sub, "adir");
  assert_int_equal(mkdir(asdir, 0755), 0);
  rc = rl(e, e->hist, NULL, NULL, ARGS("export", "--format", "csv", "-o", asdir), &out, &err);
  expect_exit(rc, 4, "export -o a folder", err);
  free2(&out, &err);
  assert_int_equal(dir_count(sub, "adir"), 1); /* the folder itself, no adir.XXXXXX */
  assert_int_equal(dir_count(asdir, ""), 2);
  assert_int_equal(dir_count(sub, ""), 2 + 3); /* out.csv, out.ndjson, adir */
  printf("checked: -o into a missing folder exits 4 naming it and creates nothing; -o "
         "naming a folder exits 4 and leaves no temporary file\n");
  free(asdir);
  free(missing);
  free(harf);
  free(csvf);
  free(ndf);
  free(sub);
}

/* ------------------------------------------------------------------ stats / prune */

static void test_stats(void **state) {
  env *e = *state;
  history(e);
  char *out = NULL, *err = NULL;
  int rc = rl(e, e->hist, NULL, NULL, ARGS("stats", "--json"), &out, &err);
  expect_exit(rc, 0, "stats --json", err);
  cJSON *st = cJSON_Parse(out);
  assert_true(cJSON_IsObject(st));
  free2(&out, &err);
  sqlite3 *s = tu_db(e->hist);
  assert_int_equal(jint(st, "total"), tu_int(s, "SELECT count(*) FROM calls"));
  assert_int_equal(jint(st, "errors"), tu_int(s, "SELECT count(*) FROM calls WHERE status IS NULL"));
  assert_int_equal(jint(st, "rate_limited"),
                   tu_int(s, "SELECT count(*) FROM calls WHERE status = 429"));
  const cJSON *by = cJSON_GetObjectItemCaseSensitive(st, "by_status");
  sqlite3_stmt *q = NULL;
  assert_int_equal(sqlite3_prepare_v2(s, "SELECT status, count(*) FROM calls WHERE status IS "
                                         "NOT NULL GROUP BY status", -1, &q, NULL), SQLITE_OK);
  int statuses = 0;
  int64_t sum = 0;
  while (sqlite3_step(q) == SQLITE_ROW) {
    char code[16];
    snprintf(code, sizeof code, "%d", sqlite3_column_int(q, 0));
    assert_int_equal(jint(by, code), (int64_t)sqlite3_column_int64(q, 1));
    statuses++;
  }
  sqlite3_finalize(q);
  const cJSON *it;
  cJSON_ArrayForEach(it, by)
    sum += (int64_t)it->valuedouble;
  assert_int_equal(sum, tu_int(s, "SELECT count(*) FROM calls WHERE status IS NOT NULL"));
  const cJSON *cls = cJSON_GetObjectItemCaseSensitive(st, "by_class");
  for (int k = 1; k <= 5; k++) {
    char name[16];
    snprintf(name, sizeof name, "%dxx", k);
    assert_int_equal(jint(cls, name), qint(s, "SELECT count(*) FROM calls WHERE status BETWEEN "
                                              "%d AND %d", k * 100, k * 100 + 99));
  }
  printf("checked: stats --json: total %" PRId64 ", errors, 429s, %d by_status counts and "
         "the by_class counts equal SQL\n", jint(st, "total"), statuses);
  cJSON_Delete(st);

  rc = rl(e, e->hist, NULL, NULL, ARGS("stats", "--json", "--status", "4xx", "--key", "lpha"),
          &out, &err);
  expect_exit(rc, 0, "stats filtered", err);
  st = cJSON_Parse(out);
  assert_int_equal(jint(st, "total"), tu_int(s, "SELECT count(*) FROM calls WHERE status "
                                                "BETWEEN 400 AND 499 AND key LIKE '%lpha#%'"));
  cJSON_Delete(st);
  free2(&out, &err);
  rc = rl(e, e->hist, NULL, NULL, ARGS("stats"), &out, &err);
  expect_exit(rc, 0, "stats", err);
  char total[32];
  snprintf(total, sizeof total, "%" PRId64, e->hist_rows);
  expect_has(out, "calls", "readable stats");
  expect_has(out, total, "readable stats total");
  expect_has(out, "p95", "readable stats latency");
  free2(&out, &err);
  sqlite3_close(s);
  printf("checked: stats with filters counts what SQL counts; the readable form shows the "
         "total and percentiles\n");
}

static void test_prune(void **state) {
  env *e = *state;
  history(e);
  char *copy = tu_path(e->dir, "prune.db"), *out = NULL, *err = NULL;
  sqlite3 *s = tu_db(e->hist);
  char *sql = NULL;
  assert_true(asprintf(&sql, "VACUUM INTO '%s'", copy) > 0);
  tu_exec(s, sql);
  free(sql);
  sqlite3_close(s);

  int rc = rl(e, copy, NULL, NULL, ARGS("prune"), &out, &err);
  expect_exit(rc, 2, "prune without options", err);
  expect_has(err, "--older-than", "prune names its options");
  free2(&out, &err);
  rc = rl(e, copy, NULL, NULL, ARGS("prune", "--max-rows", "0"), &out, &err);
  expect_exit(rc, 2, "prune --max-rows 0", err);
  free2(&out, &err);
  rc = rl(e, copy, NULL, NULL, ARGS("prune", "--older-than", "soon"), &out, &err);
  expect_exit(rc, 2, "prune --older-than soon", err);
  free2(&out, &err);
  s = tu_db(copy);
  int64_t before = tu_int(s, "SELECT count(*) FROM calls");
  assert_int_equal(before, e->hist_rows);
  printf("checked: prune without options, --max-rows 0 and --older-than soon exit 2 and "
         "delete nothing\n");

  int64_t old = qint(s, "SELECT count(*) FROM calls WHERE started_at < %" PRId64,
                     tu_now_us() - INT64_C(86400000000));
  assert_int_equal(old, 10);
  rc = rl(e, copy, NULL, NULL, ARGS("prune", "--older-than", "1d"), &out, &err);
  expect_exit(rc, 0, "prune --older-than 1d", err);
  char msg[64];
  snprintf(msg, sizeof msg, "pruned %" PRId64 " calls", old);
  expect_has(out, msg, "prune count");
  free2(&out, &err);
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls"), before - old);
  assert_int_equal(tu_int(s, "SELECT min(id) FROM calls"), 11);

  char *top5 = tu_text(s, "SELECT group_concat(id, ',') FROM (SELECT id FROM calls ORDER BY "
                          "id DESC LIMIT 5)");
  rc = rl(e, copy, NULL, NULL, ARGS("prune", "--max-rows", "5"), &out, &err);
  expect_exit(rc, 0, "prune --max-rows 5", err);
  free2(&out, &err);
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls"), 5);
  rc = rl(e, copy, NULL, NULL, ARGS("list", "--limit", "0", "--json"), &out, &err);
  expect_exit(rc, 0, "list after prune", err);
  int n = 0;
  char *ids = json_ids(out, &n);
  assert_string_equal(ids, top5);
  free(ids);
  free2(&out, &err);
  /* the full-text index follows the deletions */
  rc = rl(e, copy, NULL, NULL, ARGS("list", "--limit", "0", "--json", "-q", "zo\xc3\xab"),
          &out, &err);
  expect_exit(rc, 0, "list -q after prune", err);
  ids = json_ids(out, &n);
  int wn = 0;
  char *want = sql_ids(s, QW("zo\xc3\xab"), 1, &wn);
  assert_string_equal(ids, want);
  free(want);
  free(ids);
  free2(&out, &err);
  char *ok = tu_text(s, "PRAGMA integrity_check");
  assert_string_equal(ok, "ok");
  free(ok);
  sqlite3_close(s);
  printf("checked: prune --older-than 1d deleted exactly the %" PRId64 " rows older than a "
         "day; --max-rows 5 left the 5 newest (%s); search and integrity_check still fine\n",
         old, top5);
  free(top5);
  free(copy);
}

/* ------------------------------------------------------------------ misc */

static void test_misc(void **state) {
  env *e = *state;
  char *out = NULL, *err = NULL;
  int rc = rl(e, NULL, NULL, NULL, ARGS("--version"), &out, &err);
  expect_exit(rc, 0, "--version", err);
  assert_int_equal(strncmp(out, "reqlog " REQLOG_VERSION, strlen("reqlog " REQLOG_VERSION)), 0);
  free2(&out, &err);
  rc = rl(e, NULL, NULL, NULL, ARGS("--help"), &out, &err);
  expect_exit(rc, 0, "--help", err);
  expect_has(out, "usage: reqlog", "--help");
  static const char *const cmds[] = {"call", "list", "show", "export", "stats", "prune",
                                     "demo"};
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
    char line[32];
    snprintf(line, sizeof line, "\n  %s ", cmds[i]);
    expect_has(out, line, "--help lists the command");
  }
  free2(&out, &err);
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
    rc = rl(e, NULL, NULL, NULL, ARGS(cmds[i], "--help"), &out, &err);
    expect_exit(rc, 0, cmds[i], err);
    char want[48];
    snprintf(want, sizeof want, "usage: reqlog ");
    assert_int_equal(strncmp(out, want, strlen(want)), 0);
    expect_has(out, cmds[i], "COMMAND --help names it");
    char *via_help = NULL;
    rc = rl(e, NULL, NULL, NULL, ARGS("help", cmds[i]), &via_help, NULL);
    assert_int_equal(rc, 0);
    assert_string_equal(via_help, out);
    free(via_help);
    free2(&out, &err);
  }
  printf("checked: --version prints 'reqlog %s'; --help lists all 7 commands; each "
         "COMMAND --help and 'help COMMAND' print the same usage, exit 0\n", REQLOG_VERSION);

  rc = rl(e, NULL, NULL, NULL, ARGS("frobnicate"), &out, &err);
  expect_exit(rc, 2, "unknown command", err);
  expect_has(err, "unknown command 'frobnicate'", "unknown command named");
  assert_string_equal(out, "");
  free2(&out, &err);
  rc = rl(e, NULL, NULL, NULL, ARGS("--frob", "list"), &out, &err);
  expect_exit(rc, 2, "unknown global option", err);
  expect_has(err, "--frob", "unknown global option named");
  free2(&out, &err);
  const char *none[] = {NULL};
  rc = rl(e, NULL, NULL, NULL, none, &out, &err);
  expect_exit(rc, 2, "no command", err);
  expect_has(err, "usage: reqlog", "no command: usage on stderr");
  free2(&out, &err);
  char *nodb = tu_path(e->dir, "never-created.db");
  static const char *const readers[] = {"list", "show", "export", "stats", "prune"};
  for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
    const char *a[] = {readers[i], i == 1 ? "1" : i == 2 ? "--format=csv" :
                       i == 4 ? "--max-rows=1" : NULL, NULL};
    rc = rl(e, nodb, NULL, NULL, a, &out, &err);
    expect_exit(rc, 4, readers[i], err);
    expect_has(err, nodb, "missing database named");
    free2(&out, &err);
    assert_int_not_equal(access(nodb, F_OK), 0);
  }
  free(nodb);
  printf("checked: an unknown command or global option exits 2 naming it; no command "
         "prints usage on stderr, exit 2; list/show/export/stats/prune on a missing "
         "database exit 4 naming it and create no file\n");
}

/* A usage error: the arguments, the exit code and what stderr must contain. */
struct usecase {
  const char *args[8];
  int want;
  const char *says;
};

static void test_usage_errors(void **state) {
  env *e = *state;
  char *db = tu_path(e->dir, "usage.db");
  const struct usecase cases[] = {
    {{"show", "1x"}, 2, "'1x'"},
    {{"show", "1", "2"}, 2, "one call ID"},
    {{"prune", "--max-rows", "5", "extra"}, 2, "'extra'"},
    {{"list", "extra"}, 2, "'extra'"},
    {{"list", "--limit", "99999999999999999999"}, 2, "--limit"},
    {{"call", "GET", "/participants", "extra"}, 2, "METHOD and PATH-or-URL"},
    {{"call", "GET"}, 2, "METHOD and PATH-or-URL"},
    {{"call", "", "/participants"}, 2, "must not be empty"},
    {{"call", "G T", "/participants"}, 2, "'G T'"},
    {{"call", "-H", "NoColon", "GET", "/participants"}, 2, "-H 'NoColon'"},
    {{"call", "-d", "{\"a\":1", "POST", "/echo"}, 2, "-d"},
    {{"call", "--retries", "many", "GET", "/participants"}, 2, "--retries"},
    {{"call", "--rate", "-5", "GET", "/participants"}, 2, "--rate"},
    {{"call", "--colour", "GET", "/participants"}, 2, "--colour"},
    {{"export", "--format", "csv", "-o", ""}, 2, "-o"},
    {{"demo", "--port", "70000"}, 2, "--port"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *out = NULL, *err = NULL;
    int rc = rl(e, db, FAKEAPI_KEY, NULL, cases[i].args, &out, &err);
    char label[200];
    label_of(cases[i].args, label, sizeof label);
    expect_exit(rc, cases[i].want, label, err);
    expect_has(err, cases[i].says, label);
    assert_string_equal(out, "");
    free2(&out, &err);
  }
  assert_int_not_equal(access(db, F_OK), 0);
  char *out = NULL, *err = NULL;
  const char *const empty_db[] = {"--db", "", "list", NULL};
  int rc = rl(e, NULL, NULL, NULL, empty_db, &out, &err);
  expect_exit(rc, 2, "--db ''", err);
  expect_has(err, "--db", "--db ''");
  free2(&out, &err);
  free(db);
  printf("checked: %zu usage errors (extra or missing arguments, bad numbers, bad -H and "
         "-d, unknown options, --db '') exit 2 with a message naming what is wrong, "
         "nothing on stdout, no database created\n", sizeof cases / sizeof cases[0] + 1);
}

/* `call` accepts any RFC 9110 token as METHOD (cmd_call.c); a method the library then
 * refuses must at least be named in the message. */
static void test_call_method_named(void **state) {
  env *e = *state;
  char *db = tu_path(e->dir, "method.db"), *out = NULL, *err = NULL;
  int rc = rl(e, db, FAKEAPI_KEY, NULL, ARGS("call", "get", "/participants/1"), &out, &err);
  expect_exit(rc, 0, "call get", err);
  free2(&out, &err);
  sqlite3 *s = tu_db(db);
  assert_int_equal(tu_int(s, "SELECT count(*) FROM calls WHERE method = 'GET'"), 1);
  sqlite3_close(s);
  printf("checked: call get ...: the method is upper-cased, sent and recorded as GET\n");
  rc = rl(e, db, FAKEAPI_KEY, NULL, ARGS("call", "M-SEARCH", "/echo"), &out, &err);
  int ok = rc == 0 || (rc == 2 && strstr(err, "M-SEARCH"));
  printf("%s: call M-SEARCH /echo -> exit %d, stderr: %s", ok ? "checked" : "MISMATCH", rc,
         err);
  if (!ok)
    fprintf(stderr, "BUG: `call` accepts M-SEARCH as a method, the library refuses it, and "
            "the message does not say what was wrong: %s", err);
  free2(&out, &err);
  /* only a 2xx exits 0: a final 304 or 500 is not a success */
  rc = rl(e, db, FAKEAPI_KEY, NULL, ARGS("call", "GET", "/status/304"), &out, &err);
  expect_exit(rc, 1, "call GET /status/304", err);
  free2(&out, &err);
  rc = rl(e, db, FAKEAPI_KEY, NULL, ARGS("call", "GET", "/status/204"), &out, &err);
  expect_exit(rc, 0, "call GET /status/204", err);
  free2(&out, &err);
  printf("checked: call exits 1 on a final 304 and 0 on a 204\n");
  free(db);
  assert_true(ok);
}

/* ------------------------------------------------------------------ secrets */

static void test_secrets(void **state) {
  env *e = *state;
  char *db = tu_path(e->dir, "secrets.db"), *out = NULL, *err = NULL;
  int rc = rl(e, db, FAKEAPI_KEY, NULL,
              ARGS("call", "POST", "/echo", "-H", "Cookie: sid=CLICOOKIESECRET",
                   "-H", "X-Api-Key: CLIXAPISECRET", "-d", "{\"password\":\"CLIPWSECRET\"}"),
              &out, &err);
  expect_exit(rc, 0, "POST /echo with secrets", err);
  /* the call itself carried them: redaction happens on the way to disk */
  expect_has(out, "CLIPWSECRET", "echo");
  expect_has(out, "CLICOOKIESECRET", "echo");
  free2(&out, &err);
  char *kf = tu_path(e->dir, "secret-key");
  write_file(kf, FAKEAPI_KEY2 "\n", 0600);
  rc = rl(e, db, NULL, NULL, ARGS("call", "--key-file", kf, "GET", "/echo?token=CLIQSECRET"),
          &out, &err);
  expect_exit(rc, 0, "--key-file echo", err);
  free2(&out, &err);
  free(kf);

  static const char *const secrets[] = {FAKEAPI_KEY, FAKEAPI_KEY2, "CLICOOKIESECRET",
                                        "CLIXAPISECRET", "CLIPWSECRET", "CLIQSECRET", NULL};
  int leaks = 0;
  for (int i = 0; secrets[i]; i++)
    leaks += tu_db_files_contain(db, secrets[i]);
  assert_int_equal(leaks, 0);
  /* the check can fail: what is kept instead is there */
  char *wal = NULL;
  assert_true(asprintf(&wal, "%s-wal", db) > 0);
  assert_true(tu_file_contains(db, e->fp1) || tu_file_contains(wal, e->fp1));
  assert_true(tu_file_contains(db, "[REDACTED]") || tu_file_contains(wal, "[REDACTED]"));
  free(wal);

  /* and nothing a user would attach to a ticket has them either */
  const char *const *reads[] = {ARGS("show", "1", "--json"), ARGS("show", "2"),
                                ARGS("export", "--format", "csv", "--bodies"),
                                ARGS("export", "--format", "ndjson"),
                                ARGS("list", "--json")};
  for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
    rc = rl(e, db, NULL, NULL, reads[i], &out, &err);
    expect_exit(rc, 0, reads[i][0], err);
    for (int k = 0; secrets[k]; k++) {
      if (strstr(out, secrets[k]))
        fprintf(stderr, "SECRET in `%s` output: %s\n", reads[i][0], secrets[k]);
      assert_null(strstr(out, secrets[k]));
    }
    free2(&out, &err);
  }
  printf("checked: a key from REQLOG_API_KEY and from --key-file, a Cookie, an X-Api-Key, "
         "a JSON password and a token query parameter sent with `reqlog call` are in none "
         "of the raw database files, nor in show, list or export output; the fingerprint "
         "and [REDACTED] are\n");
  free(db);
}

/* ------------------------------------------------------------------ stored bodies */

/* A body is kept as sent: text that looks like a number must not come back as another
 * number ("1e3" as "1000", "007" as "7", "-1.50" as "-1.5"). */
static void test_numeric_bodies(void **state) {
  env *e = *state;
  char *db = tu_path(e->dir, "numbers.db"), *out = NULL, *err = NULL;
  static const struct {
    const char *body;
    int plain; /* sent as text/plain (not JSON) */
  } bodies[] = {{"1e3", 0}, {"-1.50", 0}, {"007", 1}, {"12345678901234567890", 0},
                {"42", 0}};
  size_t n = sizeof bodies / sizeof bodies[0];
  int bad = 0;
  for (size_t i = 0; i < n; i++) {
    const char *const plain[] = {"call", "-H", "Content-Type: text/plain", "POST", "/echo",
                                 "-d", bodies[i].body, NULL};
    const char *const json[] = {"call", "POST", "/echo", "-d", bodies[i].body, NULL};
    int rc = rl(e, db, FAKEAPI_KEY, NULL, bodies[i].plain ? plain : json, &out, &err);
    expect_exit(rc, 0, bodies[i].body, err);
    int64_t id = recorded_id(err);
    free2(&out, &err);
    char idtext[32];
    snprintf(idtext, sizeof idtext, "%" PRId64, id);
    rc = rl(e, db, NULL, NULL, ARGS("show", idtext, "--json"), &out, &err);
    expect_exit(rc, 0, "show", err);
    cJSON *row = cJSON_Parse(out);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(row, "request_body");
    const char *got = cJSON_IsString(b) ? b->valuestring : "(not a string)";
    int same = strcmp(got, bodies[i].body) == 0;
    printf("%s: -d '%s' (%s) is stored and shown as '%s'\n", same ? "checked" : "MISMATCH",
           bodies[i].body, bodies[i].plain ? "text/plain" : "JSON", got);
    bad += !same;
    cJSON_Delete(row);
    free2(&out, &err);
  }
  sqlite3 *s = tu_db(db);
  int64_t numeric = tu_int(s, "SELECT count(*) FROM calls WHERE typeof(request_body) IN "
                              "('integer', 'real')");
  sqlite3_close(s);
  if (bad)
    fprintf(stderr, "BUG: %d of %zu request bodies changed on the way to disk; %" PRId64
            " are stored as SQLite numbers (the body columns are declared ANY in a table "
            "that is not STRICT, so they get NUMERIC affinity)\n", bad, n, numeric);
  free(db);
  assert_int_equal(bad, 0);
}

/* ------------------------------------------------------------------ q consistency */

/* `-q` finds rows the indexer has reached through the full-text index (word prefixes)
 * and newer rows by substring. The same query over the same rows must give the same
 * answer before and after the indexer reaches them. Rows written by a process that is
 * still running (the test itself, through the library, as an application or `reqlog
 * serve` would) are not indexed yet; the `list` process indexes them on its way out. */
static void test_q_consistent_across_indexing(void **state) {
  env *e = *state;
  static const char *const words[] = {"participants", "olivia", "articipant", "livia"};
  int bad = 0, measured = 0;
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
    char name[32];
    snprintf(name, sizeof name, "fts%zu.db", i);
    char *db = tu_path(e->dir, name), *out = NULL, *err = NULL;
    reqlog *r = NULL;
    assert_int_equal(reqlog_open(db, &r, NULL), REQLOG_OK);
    reqlog_set_base_url(r, fakeapi_base_url(e->api));
    reqlog_set_api_key(r, FAKEAPI_KEY);
    reqlog_set_rate_limit(r, 0);
    reqlog_set_durability(r, REQLOG_DURABILITY_SYNC);
    for (int k = 0; k < 2; k++) {
      reqlog_response *resp = NULL;
      assert_int_equal(reqlog_request(r, "GET", "/participants", NULL, 0, NULL, &resp),
                       REQLOG_OK);
      reqlog_response_free(resp);
    }
    sqlite3 *s = tu_db(db);
    int64_t mark0 = tu_int(s, "SELECT value FROM meta WHERE name = 'fts_indexed'");
    int rc = rl(e, db, NULL, NULL, ARGS("list", "--limit", "0", "--json", "-q", words[i]),
                &out, &err);
    expect_exit(rc, 0, words[i], err);
    int nb = 0, na = 0;
    char *before = json_ids(out, &nb);
    free2(&out, &err);
    /* list reads without writing: the handle's writer indexes the rows once idle */
    for (int w = 0; w < 400 && tu_int(s, "SELECT value FROM meta WHERE name = 'fts_indexed'") < 2; w++)
      nanosleep(&(struct timespec){0, 50000000L}, NULL);
    rc = rl(e, db, NULL, NULL, ARGS("list", "--limit", "0", "--json", "-q", words[i]),
            &out, &err);
    expect_exit(rc, 0, words[i], err);
    char *after = json_ids(out, &na);
    free2(&out, &err);
    int64_t mark1 = tu_int(s, "SELECT value FROM meta WHERE name = 'fts_indexed'");
    sqlite3_close(s);
    assert_int_equal(reqlog_close(r), REQLOG_OK);
    if (mark0 == 0 && mark1 >= 2) {
      measured++;
      int same = strcmp(before, after) == 0;
      bad += !same;
      printf("%s: list -q '%s' over 2 rows not yet indexed: [%s]; the same rows once "
             "indexed: [%s]\n", same ? "checked" : "MISMATCH", words[i], before, after);
    } else {
      printf("note: list -q '%s': index mark %" PRId64 " -> %" PRId64 ", not measured\n",
             words[i], mark0, mark1);
    }
    free(before);
    free(after);
    free(db);
  }
  assert_true(measured > 0);
  if (bad)
    fprintf(stderr, "BUG: %d of %d searches give other rows once the indexer has reached "
            "them (case-insensitive substring above the fts_indexed mark, token prefix "
            "through calls_fts below it)\n", bad, measured);
  assert_int_equal(bad, 0);
}

/* ------------------------------------------------------------------ key origin, schemes */

static void test_call_key_origin(void **state) {
  env *e = *state;
  char *db = tu_path(e->dir, "origin.db"), *out = NULL, *err = NULL;
  fakeapi *other = tu_api(1000, 60000);
  char url[300];

  int rc = rl(e, db, FAKEAPI_KEY, NULL, ARGS("call", "GET", "/echo"), &out, &err);
  expect_exit(rc, 0, "call GET /echo", err);
  cJSON *echo = cJSON_Parse(out);
  const char *auth = tu_header(echo, "headers", "Authorization");
  assert_non_null(auth);
  assert_string_equal(auth, "Bearer " FAKEAPI_KEY);
  cJSON_Delete(echo);
  free2(&out, &err);

  snprintf(url, sizeof url, "%s/echo", fakeapi_base_url(other));
  rc = rl(e, db, FAKEAPI_KEY, NULL, ARGS("call", "GET", url), &out, &err);
  expect_exit(rc, 1, "call GET <other port>/echo", err);
  expect_has(err, "HTTP 401", "other server's 401");
  int64_t id = recorded_id(err);
  free2(&out, &err);
  assert_int_equal(fakeapi_hits(other, NULL), 1);
  sqlite3 *s = tu_db(db);
  assert_int_equal(qint(s, "SELECT count(*) FROM calls WHERE id = %" PRId64 " AND key IS NULL"
                           " AND request_headers NOT LIKE '%%uthorization%%'", id), 1);
  printf("checked: call with REQLOG_API_KEY: the base URL's /echo saw 'Bearer <key>'; a "
         "second server on another port got no Authorization (401), row %" PRId64
         " has no key\n", id);

  /* a refused connection to the base URL still names the key it carried */
  rc = rl(e, db, FAKEAPI_KEY, NULL, ARGS("call", "--retries", "0", "--base-url",
                                         "http://127.0.0.1:1/public/v1", "GET", "/participants"),
          &out, &err);
  expect_exit(rc, 3, "call to a closed port", err);
  id = recorded_id(err);
  char *key = qtext(s, "SELECT key FROM calls WHERE id = %" PRId64, id);
  if (!key)
    fprintf(stderr, "BUG: a call sent with a key that got no connection records no key\n");
  assert_non_null(key);
  assert_string_equal(key, e->fp1);
  free(key);
  free2(&out, &err);
  rc = rl(e, db, FAKEAPI_KEY, NULL, ARGS("list", "--key", strchr(e->fp1, '#') + 1, "--status",
                                         "error", "--json"), &out, &err);
  expect_exit(rc, 0, "list --key --status error", err);
  int n = 0;
  char *ids = json_ids(out, &n);
  assert_int_equal(n, 1);
  free(ids);
  free2(&out, &err);
  printf("checked: call to a port where nothing listens records the key's fingerprint %s; "
         "list --key --status error finds it\n", e->fp1);
  sqlite3_close(s);
  fakeapi_stop(other);
  free(db);
}

static void test_call_schemes(void **state) {
  env *e = *state;
  char *db = tu_path(e->dir, "schemes.db"), *out = NULL, *err = NULL;
  char gopher[200];
  snprintf(gopher, sizeof gopher, "gopher://127.0.0.1:%d/_GET%%20/", fakeapi_port(e->api));
  long hits = fakeapi_hits(e->api, NULL);
  const char *const targets[] = {"file:///etc/passwd", "FILE:///etc/hostname", gopher,
                                 "dict://127.0.0.1:1/x"};
  for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
    int rc = rl(e, db, FAKEAPI_KEY, NULL, ARGS("call", "GET", targets[i]), &out, &err);
    expect_exit(rc, 2, targets[i], err);
    expect_has(err, "only http and https", targets[i]);
    assert_string_equal(out, "");
    assert_null(strstr(err, "root:"));
    free2(&out, &err);
  }
  int rc = rl(e, db, FAKEAPI_KEY, NULL, ARGS("call", "--base-url", "gopher://127.0.0.1:70/x",
                                             "GET", "/participants"), &out, &err);
  expect_exit(rc, 2, "--base-url gopher:", err);
  expect_has(err, "--base-url", "--base-url named");
  expect_has(err, "http", "--base-url: http named");
  free2(&out, &err);
  assert_int_equal(fakeapi_hits(e->api, NULL), hits);
  if (access(db, F_OK) == 0) {
    sqlite3 *s = tu_db(db);
    assert_int_equal(tu_int(s, "SELECT count(*) FROM calls"), 0);
    sqlite3_close(s);
  }
  free(db);
  printf("checked: call GET file:, gopher:, dict: and --base-url gopher: exit 2 with 'only "
         "http and https', print nothing of the file, send and record nothing\n");
}

/* ------------------------------------------------------------------ new-user findings */

static void test_input_files(void **state) {
  env *e = *state;
  char *db = tu_path(e->dir, "inputs.db"), *out = NULL, *err = NULL;
  char *missing = tu_path(e->dir, "no-such-body.json"), *har = tu_path(e->dir, "no-such.har");
  char *at = NULL, *want = NULL;
  assert_true(asprintf(&at, "@%s", missing) > 0);
  int rc = rl(e, db, FAKEAPI_KEY, NULL, ARGS("call", "-d", at, "POST", "/echo"), &out, &err);
  expect_exit(rc, 4, "call -d @missing", err);
  assert_true(asprintf(&want, "cannot read %s: No such file or directory", missing) > 0);
  expect_has(err, want, "call -d @missing");
  free(want);
  free2(&out, &err);
  rc = rl(e, db, FAKEAPI_KEY, NULL, ARGS("import", har), &out, &err);
  expect_exit(rc, 4, "import missing.har", err);
  assert_true(asprintf(&want, "cannot read %s: No such file or directory", har) > 0);
  expect_has(err, want, "import missing.har");
  free(want);
  free2(&out, &err);
  char *dir = tu_path(e->dir, "a-folder");
  assert_int_equal(mkdir(dir, 0700), 0);
  free(at);
  assert_true(asprintf(&at, "@%s", dir) > 0);
  rc = rl(e, db, FAKEAPI_KEY, NULL, ARGS("call", "-d", at, "POST", "/echo"), &out, &err);
  expect_exit(rc, 4, "call -d @DIR", err);
  expect_has(err, dir, "call -d @DIR");
  free2(&out, &err);
  assert_int_not_equal(access(db, F_OK), 0);
  printf("checked: call -d @missing and import missing.har both exit 4 with 'cannot read "
         "FILE: No such file or directory'; -d @DIR exits 4 too; nothing created\n");
  free(dir);
  free(at);
  free(har);
  free(missing);
  free(db);
}

static void test_method_filter(void **state) {
  env *e = *state;
  history(e);
  char *out = NULL, *err = NULL;
  int rc = rl(e, e->hist, NULL, NULL, ARGS("list", "--method", "G T"), &out, &err);
  expect_exit(rc, 2, "list --method 'G T'", err);
  expect_has(err, "'G T'", "bad method named");
  assert_string_equal(out, "");
  free2(&out, &err);
  const char *const warned[][2] = {{"list", "FROB"}, {"export", "FROB"}, {"stats", "frob"}};
  for (size_t i = 0; i < sizeof warned / sizeof warned[0]; i++) {
    const char *args[] = {warned[i][0], "--method", warned[i][1],
                          strcmp(warned[i][0], "export") == 0 ? "--format" : "--json",
                          strcmp(warned[i][0], "export") == 0 ? "ndjson" : NULL, NULL};
    rc = rl(e, e->hist, NULL, NULL, args, &out, &err);
    expect_exit(rc, 0, warned[i][0], err);
    expect_has(err, "warning", "--method FROB warns");
    expect_has(err, "no standard method", "--method FROB says why");
    expect_has(err, "FROB", "--method FROB named");
    free2(&out, &err);
  }
  rc = rl(e, e->hist, NULL, NULL, ARGS("list", "--method", "get", "--method", "PATCH,options"),
          &out, &err);
  expect_exit(rc, 0, "list --method get", err);
  assert_null(strstr(err, "warning"));
  free2(&out, &err);
  printf("checked: --method 'G T' exits 2 naming it; --method FROB (list, export, stats) "
         "runs and warns that no standard method is called that; get, PATCH, options do "
         "not warn\n");
}

static void test_export_to_directory(void **state) {
  env *e = *state;
  history(e);
  char *sub = tu_path(e->dir, "export-dirs"), *out = NULL, *err = NULL;
  assert_int_equal(mkdir(sub, 0755), 0);
  char *target = tu_path(sub, "target"), *slash = NULL;
  assert_int_equal(mkdir(target, 0755), 0);
  assert_true(asprintf(&slash, "%s/", target) > 0);
  const char *const outputs[] = {target, slash, "."};
  for (size_t i = 0; i < sizeof outputs / sizeof outputs[0]; i++) {
    int rc = rl(e, e->hist, NULL, NULL, ARGS("export", "--format", "csv", "-o", outputs[i]),
                &out, &err);
    expect_exit(rc, 4, outputs[i], err);
    expect_has(err, "is a directory", outputs[i]);
    expect_has(err, outputs[i], outputs[i]);
    assert_null(strstr(err, "ermission"));
    free2(&out, &err);
  }
  assert_int_equal(dir_count(sub, ""), 2 + 1);
  assert_int_equal(dir_count(target, ""), 2);
  printf("checked: export -o DIR, DIR/ and . exit 4 saying 'is a directory', and leave "
         "nothing behind\n");
  free(slash);
  free(target);
  free(sub);
}

int main(void) {
  /* the tests say exactly what reqlog sees */
  static const char *const clear[] = {"REQLOG_API_KEY", "REQLOG_DB", "REQLOG_BASE_URL",
                                      "REQLOG_RATE", "REQLOG_REDACT", "REQLOG_TIMEOUT_MS",
                                      NULL};
  for (int i = 0; clear[i]; i++)
    unsetenv(clear[i]);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_call),
    cmocka_unit_test(test_list_filters),
    cmocka_unit_test(test_bad_filters),
    cmocka_unit_test(test_list_output),
    cmocka_unit_test(test_show),
    cmocka_unit_test(test_export_csv),
    cmocka_unit_test(test_export_ndjson),
    cmocka_unit_test(test_export_file),
    cmocka_unit_test(test_stats),
    cmocka_unit_test(test_prune),
    cmocka_unit_test(test_misc),
    cmocka_unit_test(test_usage_errors),
    cmocka_unit_test(test_call_method_named),
    cmocka_unit_test(test_secrets),
    cmocka_unit_test(test_numeric_bodies),
    cmocka_unit_test(test_q_consistent_across_indexing),
    cmocka_unit_test(test_call_key_origin),
    cmocka_unit_test(test_call_schemes),
    cmocka_unit_test(test_input_files),
    cmocka_unit_test(test_method_filter),
    cmocka_unit_test(test_export_to_directory),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
