/* api_mock.c: GET /api/mock?FILTERS: what `reqlog mock` would serve for the filters
 * (reqlog_mock_load, the CLI's own loader): the recorded calls it could serve, the
 * distinct requests it answers, the first MOCK_LIST_MAX of them, and the `reqlog mock`
 * command line for these filters, each value shell-quoted, for the user to copy. */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "params.h"
#include "reply.h"

enum { MOCK_LIST_MAX = 200 };

/* The command line being built; NOMEM once a growth failed. */
typedef struct cmdline {
  char *p;
  size_t len, cap;
  int nomem;
} cmdline;

static void put(cmdline *c, const char *s, size_t n) {
  if (c->nomem)
    return;
  if (c->len + n + 1 > c->cap) {
    size_t cap = (c->len + n + 1) * 2;
    char *p = realloc(c->p, cap);
    if (!p) {
      c->nomem = 1;
      return;
    }
    c->p = p;
    c->cap = cap;
  }
  memcpy(c->p + c->len, s, n);
  c->len += n;
  c->p[c->len] = '\0';
}

static void puts_(cmdline *c, const char *s) {
  put(c, s, strlen(s));
}

/* A word the shell reads as itself: letters, digits and _ . / : , @ % + = - only (not
 * starting with '-' nor empty, which would not read as a value at a glance). */
static int plain_word(const char *s) {
  if (!*s || *s == '-')
    return 0;
  for (; *s; s++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:,@%+=-", *s))
      return 0;
  return 1;
}

/* S as one shell word: as is when plain, else in single quotes with each ' as '\''. */
static void put_word(cmdline *c, const char *s) {
  if (plain_word(s)) {
    puts_(c, s);
    return;
  }
  put(c, "'", 1);
  for (const char *q; (q = strchr(s, '\'')); s = q + 1) {
    put(c, s, (size_t)(q - s));
    puts_(c, "'\\''");
  }
  puts_(c, s);
  put(c, "'", 1);
}

/* One filter parameter of the query string as the CLI spells it: " --flag VALUE". */
static enum MHD_Result each_filter(void *ctx, enum MHD_ValueKind kind, const char *key,
                                   const char *value) {
  (void)kind;
  cmdline *c = ctx;
  const reqlog_filter_info *fi = NULL;
  for (size_t i = 0; (fi = reqlog_filter_info_at(i)); i++)
    if (key && strcmp(fi->name, key) == 0)
      break;
  if (!fi)
    return MHD_YES; /* not a filter: params_take() refused anything else already */
  puts_(c, " --");
  puts_(c, fi->flag);
  put(c, " ", 1);
  put_word(c, value ? value : "");
  return MHD_YES;
}

static cJSON *call_json(const reqlog_mock_call *k) {
  cJSON *o = cJSON_CreateObject();
  if (!o || !cJSON_AddNumberToObject(o, "id", (double)k->id) ||
      !cJSON_AddStringToObject(o, "method", k->method) ||
      !cJSON_AddStringToObject(o, "path", k->path) ||
      !cJSON_AddStringToObject(o, "template", k->tpl) ||
      !cJSON_AddNumberToObject(o, "status", k->status)) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

/* The answer for M and the command line CMD; NULL when out of memory. */
static cJSON *mock_json(const reqlog_mock *m, const char *cmd) {
  size_t n = reqlog_mock_size(m), shown = n < MOCK_LIST_MAX ? n : MOCK_LIST_MAX;
  cJSON *out = cJSON_CreateObject();
  cJSON *calls = cJSON_CreateArray();
  if (!out || !calls || !cJSON_AddItemToObject(out, "calls", calls)) {
    cJSON_Delete(out);
    cJSON_Delete(calls);
    return NULL;
  }
  if (!cJSON_AddNumberToObject(out, "recorded", (double)reqlog_mock_recorded(m)) ||
      !cJSON_AddNumberToObject(out, "requests", (double)n) ||
      !cJSON_AddNumberToObject(out, "more", (double)(n - shown)) ||
      !cJSON_AddStringToObject(out, "command", cmd)) {
    cJSON_Delete(out);
    return NULL;
  }
  for (size_t i = 0; i < shown; i++) {
    cJSON *o = call_json(reqlog_mock_at(m, i));
    if (!o || !cJSON_AddItemToArray(calls, o)) {
      cJSON_Delete(o);
      cJSON_Delete(out);
      return NULL;
    }
  }
  return out;
}

enum MHD_Result api_mock(web_req *q, const char *arg) {
  (void)arg;
  web_params p;
  enum MHD_Result ret;
  if (params_take(q, PARAM_FILTERS, &p, &ret) != 0)
    return ret;
  reqlog_mock *m = NULL;
  char *cause = NULL;
  reqlog_err err = reqlog_mock_load(q->s->r, p.filter, &m, &cause);
  params_free(&p);
  if (err != REQLOG_OK)
    return reply_lib_error(q, err, cause);
  cmdline c = {0};
  puts_(&c, "reqlog mock");
  MHD_get_connection_values(q->conn, MHD_GET_ARGUMENT_KIND, each_filter, &c);
  cJSON *out = c.nomem ? NULL : mock_json(m, c.p);
  free(c.p);
  reqlog_mock_free(m);
  if (!out)
    return reply_json(q, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
  return reply_json(q, MHD_HTTP_OK, out);
}
