/* fuzz_filter.c: the filter parser (recorder/read/filter.c) and what the readers build from a
 * filter, through the public API, against a real history file holding a few calls.
 *
 * Input: lines "NAME=VALUE"; each is given to reqlog_filter_set() (NAME any text, so
 * unknown names are tried too; VALUE up to the line's end). Properties checked:
 *   - a set that fails gives a cause and leaves the filter as it was (the rows the filter
 *     matches are the same before and after);
 *   - every filter the parser accepts reads without error: reqlog_query() (its SQL, the
 *     full-text MATCH text it builds for q, the status branches), reqlog_count() and
 *     reqlog_stats() all succeed;
 *   - they agree: the rows the cursor returns, the count and the stats' total are one
 *     number, and the newest-first and the oldest-first readings return as many rows. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "base/util.h"
#include "reqlog.h"

#define MAX_LINES 16

/* The calls the filters run against: statuses of each class, no response, an error with
 * fields, two keys, several hosts, methods, paths, words and times. ' stands for ". */
#define ENTRY(time, method, url, auth, status, body, ms)                                      \
  "{'startedDateTime':'" time "','time':" ms ",'request':{'method':'" method "','url':'" url \
  "','httpVersion':'HTTP/1.1','headers':[{'name':'Authorization','value':'Bearer " auth      \
  "'}],'postData':{'mimeType':'application/json','text':'{\\'name\\':\\'alpha beta\\'}'}},"  \
  "'response':{'status':" status ",'statusText':'','httpVersion':'HTTP/1.1','headers':[],"  \
  "'content':{'size':0,'mimeType':'application/json','text':'" body "'}},'timings':{'send':0,"\
  "'wait':" ms ",'receive':0}}"
static const char seed_har[] =
  "{'log':{'version':'1.2','entries':["
  ENTRY("2026-11-27T21:04:05.123Z", "GET", "https://api.example.com/v1/clients?page=2",
        "sk_live_one_1234", "200", "{\\'ok\\':true}", "12.5") ","
  ENTRY("2026-11-28T08:00:00Z", "POST", "https://api.example.com/v1/clients", "sk_live_one_1234",
        "422", "{\\'errors\\':{\\'email\\':[\\'is invalid\\'],\\'name\\':[\\'taken\\']}}", "250")
  ","
  ENTRY("2026-11-28T09:30:00+10:00", "DELETE", "http://other.test:8080/v2/items/7",
        "tok_two_abcd", "404", "not found", "3") ","
  ENTRY("2026-12-01T00:00:00Z", "PUT", "https://api.example.com/v1/items/9?q=caf%C3%A9",
        "tok_two_abcd", "503", "{\\'message\\':\\'down for maintenance\\'}", "1500") ","
  ENTRY("2026-12-02T12:00:00Z", "PATCH", "https://api.example.com/v1/clients/3", "sk_live_one_1234",
        "429", "{\\'message\\':\\'slow down\\'}", "7") ","
  ENTRY("2026-12-03T12:00:00Z", "GET", "https://api.example.com/v1/ping", "tok_two_abcd",
        "0", "", "30000")
  "]}}";

static reqlog *handle;

static void setup(void) {
  char db[128];
  snprintf(db, sizeof db, "%s/filter.db", fuzz_temp_dir());
  unsetenv("REQLOG_REDACT");
  char *cause = NULL;
  if (reqlog_open(db, &handle, &cause) != REQLOG_OK) {
    fprintf(stderr, "fuzz_filter: %s\n", cause ? cause : "?");
    fuzz_fail("the history file opens");
  }
  char *har = strdup(seed_har);
  FUZZ_CHECK(har != NULL, "memory for the seed");
  for (char *p = har; *p; p++)
    if (*p == '\'')
      *p = '"';
  const char *path;
  fuzz_input_file((const uint8_t *)har, strlen(har), &path);
  free(har);
  int64_t n = 0;
  if (reqlog_import_har(handle, path, &n, &cause) != REQLOG_OK) {
    fprintf(stderr, "fuzz_filter: seed import: %s\n", cause ? cause : "?");
    fuzz_fail("the seed calls import");
  }
  FUZZ_CHECK(n == 6, "the six seed calls are imported");
}

static void at_exit(void) {
  reqlog_close(handle);
  handle = NULL;
}

/* Rows the cursor returns for F, newest or oldest first; aborts on a read error. */
static int64_t rows_read(const reqlog_filter *f, int oldest_first) {
  reqlog_query_opts o = {.oldest_first = oldest_first};
  reqlog_cursor *c = NULL;
  char *cause = NULL;
  reqlog_err err = reqlog_query(handle, f, &o, &c, &cause);
  if (err != REQLOG_OK)
    fprintf(stderr, "fuzz_filter: query: %s\n", cause ? cause : reqlog_strerror(err));
  FUZZ_CHECK(err == REQLOG_OK, "an accepted filter can be queried");
  reqlog_free(cause);
  int64_t n = 0;
  cJSON *row = NULL;
  while ((err = reqlog_cursor_next(c, &row)) == REQLOG_OK) {
    n++;
    cJSON_Delete(row);
  }
  reqlog_cursor_free(c);
  FUZZ_CHECK(err == REQLOG_ERR_DONE, "an accepted filter's rows can all be read");
  return n;
}

static int64_t rows_counted(const reqlog_filter *f) {
  int64_t n = -1;
  char *cause = NULL;
  reqlog_err err = reqlog_count(handle, f, &n, &cause);
  if (err != REQLOG_OK)
    fprintf(stderr, "fuzz_filter: count: %s\n", cause ? cause : reqlog_strerror(err));
  FUZZ_CHECK(err == REQLOG_OK, "an accepted filter can be counted");
  reqlog_free(cause);
  return n;
}

static int64_t stats_total(const reqlog_filter *f) {
  cJSON *s = NULL;
  char *cause = NULL;
  reqlog_err err = reqlog_stats(handle, f, &s, &cause);
  if (err != REQLOG_OK)
    fprintf(stderr, "fuzz_filter: stats: %s\n", cause ? cause : reqlog_strerror(err));
  FUZZ_CHECK(err == REQLOG_OK, "an accepted filter has statistics");
  reqlog_free(cause);
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(s, "total");
  FUZZ_CHECK(cJSON_IsNumber(t), "the statistics have a total");
  int64_t n = (int64_t)t->valuedouble;
  cJSON_Delete(s);
  return n;
}

/* Gives line LINE ("NAME=VALUE"; no '=': all of it is the name, the value empty) to F. */
static void set_line(reqlog_filter *f, char *line) {
  char *eq = strchr(line, '=');
  const char *value = "";
  if (eq) {
    *eq = '\0';
    value = eq + 1;
  }
  int64_t before = rows_counted(f);
  char *cause = NULL;
  reqlog_err err = reqlog_filter_set(f, line, value, &cause);
  if (err == REQLOG_OK) {
    FUZZ_CHECK(cause == NULL, "an accepted filter gives no cause");
    return;
  }
  FUZZ_CHECK(err == REQLOG_ERR_FILTER || err == REQLOG_ERR_ARG || err == REQLOG_ERR_NOMEM,
             "a refused filter is a filter error");
  FUZZ_CHECK(cause != NULL && cause[0] != '\0', "a refused filter says why");
  reqlog_free(cause);
  FUZZ_CHECK(rows_counted(f) == before, "a refused filter leaves the filter as it was");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!handle) {
    setup();
    atexit(at_exit);
  }
  char *text = util_strndup((const char *)data, size);
  reqlog_filter *f = NULL;
  if (!text || reqlog_filter_new(&f) != REQLOG_OK) {
    free(text);
    return 0;
  }
  char *save = NULL;
  int lines = 0;
  for (char *line = strtok_r(text, "\n", &save); line && lines < MAX_LINES;
       line = strtok_r(NULL, "\n", &save), lines++)
    set_line(f, line);
  int64_t newest = rows_read(f, 0), oldest = rows_read(f, 1);
  int64_t counted = rows_counted(f), total = stats_total(f);
  FUZZ_CHECK(newest == oldest, "both reading orders return as many rows");
  FUZZ_CHECK(newest == counted, "the cursor returns as many rows as reqlog_count says");
  FUZZ_CHECK(counted == total, "reqlog_stats' total is reqlog_count's number");
  reqlog_filter_free(f);
  free(text);
  return 0;
}
