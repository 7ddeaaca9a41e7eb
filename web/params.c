/* params.c: query-string parameters of the JSON API (API.md, JSON API): filters go to
 * reqlog_filter_set() unchanged, so the web API accepts and refuses exactly what the
 * CLI does, with the library's message naming the filter. */
#include "params.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"

enum { LIMIT_DEFAULT = 50, LIMIT_MAX = 500 };

/* A query string can carry thousands of bad parameters; answering about the first few
 * is enough and keeps the error reply small. */
enum { ERRORS_MAX = 20 };

/* The endpoint's own parameters; bit i of web_params.seen is own[i]. */
static const struct own_param {
  const char *name;
  unsigned group;
} own[] = {
  {"limit", PARAM_PAGING}, {"before", PARAM_PAGING}, {"after", PARAM_AFTER},
  {"format", PARAM_EXPORT}, {"bodies", PARAM_EXPORT}, {"lang", PARAM_LANG},
};
#define NOWN (sizeof own / sizeof own[0])

static void add_error(web_params *p, const char *param, const char *text) {
  if (p->nerrors++ >= ERRORS_MAX)
    return;
  if (reply_add_error(&p->errors, param, text) != 0)
    p->nomem = 1;
}

/* "NAME: 'VALUE' WHAT", the value shortened: the answer stays small whatever was sent. */
static void bad_value(web_params *p, const char *name, const char *value, const char *what) {
  char text[200];
  snprintf(text, sizeof text, "%s: '%.60s' %s", name, value ? value : "", what);
  add_error(p, name, text);
}

/* Parses TEXT as a whole decimal number from MIN to MAX. */
static int parse_int(const char *text, int64_t min, int64_t max, int64_t *out) {
  if (!text || *text < '0' || *text > '9')
    return -1;
  char *end = NULL;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (errno || *end || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

int params_row_id(const char *text, int64_t *id) {
  return parse_int(text, 1, INT64_MAX, id);
}

int params_path_id(web_req *q, const char *text, int64_t *id, enum MHD_Result *ret) {
  if (params_row_id(text, id) == 0)
    return 0;
  char msg[120];
  snprintf(msg, sizeof msg, "id: '%.60s' is not a row id", text ? text : "");
  *ret = reply_bad_param(q, "id", msg);
  return -1;
}

static void set_own(web_params *p, size_t i, const char *value) {
  const char *name = own[i].name;
  if (p->seen & (1u << i)) {
    char text[64];
    snprintf(text, sizeof text, "%s: given twice", name);
    add_error(p, name, text);
    return;
  }
  p->seen |= 1u << i;
  if (strcmp(name, "limit") == 0) {
    if (parse_int(value, 1, LIMIT_MAX, &p->limit) != 0)
      bad_value(p, name, value, "is not a number from 1 to 500");
  } else if (strcmp(name, "before") == 0) {
    if (parse_int(value, 1, INT64_MAX, &p->before) != 0)
      bad_value(p, name, value, "is not a row id");
  } else if (strcmp(name, "after") == 0) {
    if (parse_int(value, 0, INT64_MAX, &p->after) != 0)
      bad_value(p, name, value, "is not a row id (or 0)");
  } else if (strcmp(name, "format") == 0) {
    p->format_given = 1;
    static const struct { const char *name; reqlog_format f; } formats[] = {
      {"csv", REQLOG_FORMAT_CSV}, {"ndjson", REQLOG_FORMAT_NDJSON}, {"har", REQLOG_FORMAT_HAR},
    };
    for (size_t k = 0; k < sizeof formats / sizeof formats[0]; k++) {
      if (value && strcmp(value, formats[k].name) == 0) {
        p->format = formats[k].f;
        p->has_format = 1;
      }
    }
    if (!p->has_format)
      bad_value(p, name, value, "is not csv, ndjson or har");
  } else if (strcmp(name, "lang") == 0) {
    for (const char *const *l = reqlog_snippet_langs(); *l; l++)
      if (value && strcmp(value, *l) == 0)
        p->lang = *l;
    if (!p->lang)
      bad_value(p, name, value, "is not curl, python, node, php, httpie or go");
  } else if (strcmp(name, "bodies") == 0) {
    if (value && (strcmp(value, "1") == 0 || strcmp(value, "true") == 0))
      p->bodies = 1;
    else if (value && (strcmp(value, "0") == 0 || strcmp(value, "false") == 0))
      p->bodies = 0;
    else
      bad_value(p, name, value, "is not 1 or 0");
  }
}

static void set_filter(web_params *p, const char *name, const char *value) {
  char *cause = NULL;
  reqlog_err err = reqlog_filter_set(p->filter, name, value ? value : "", &cause);
  if (err == REQLOG_ERR_NOMEM) {
    p->nomem = 1;
  } else if (err != REQLOG_OK) {
    char fallback[80];
    if (!cause)
      snprintf(fallback, sizeof fallback, "%s: %s", name, reqlog_strerror(err));
    add_error(p, name, cause ? cause : fallback);
  }
  reqlog_free(cause);
}

static enum MHD_Result each_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value) {
  (void)kind;
  web_params *p = cls;
  if (!key || !*key) /* "a=1&&b=2": nothing between the two & */
    return MHD_YES;
  if ((p->accepted & PARAM_FILTERS) && reqlog_filter_is_name(key)) {
    set_filter(p, key, value);
    return MHD_YES;
  }
  for (size_t i = 0; i < NOWN; i++) {
    if ((p->accepted & own[i].group) && strcmp(key, own[i].name) == 0) {
      set_own(p, i, value);
      return MHD_YES;
    }
  }
  char shown[64], text[100];
  snprintf(shown, sizeof shown, "%s", key);
  snprintf(text, sizeof text, "%s: unknown parameter", shown);
  add_error(p, shown, text);
  return MHD_YES;
}

int params_parse(web_req *q, unsigned accepted, web_params *p) {
  memset(p, 0, sizeof *p);
  p->accepted = accepted;
  p->limit = LIMIT_DEFAULT;
  p->after = -1;
  if (reqlog_filter_new(&p->filter) != REQLOG_OK) {
    p->nomem = 1;
    return -1;
  }
  MHD_get_connection_values(q->conn, MHD_GET_ARGUMENT_KIND, each_arg, p);
  if ((accepted & PARAM_EXPORT) && !p->format_given)
    add_error(p, "format", "format: required: csv, ndjson or har");
  if ((accepted & PARAM_LANG) && !p->lang && !(p->seen & (1u << (NOWN - 1))))
    add_error(p, "lang", "lang: required: curl, python, node, php, httpie or go");
  return p->errors || p->nomem ? -1 : 0;
}

void params_free(web_params *p) {
  reqlog_filter_free(p->filter);
  cJSON_Delete(p->errors);
  p->filter = NULL;
  p->errors = NULL;
}

/* Answers 400 with P's errors (taking them) or 500 when memory ran out. */
static enum MHD_Result reply_error(web_req *q, web_params *p) {
  if (p->nomem)
    return reply_json(q, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
  cJSON *errors = p->errors;
  p->errors = NULL;
  return reply_invalid(q, errors);
}

int params_take(web_req *q, unsigned accepted, web_params *p, enum MHD_Result *ret) {
  if (params_parse(q, accepted, p) == 0)
    return 0;
  *ret = reply_error(q, p);
  params_free(p);
  return -1;
}
