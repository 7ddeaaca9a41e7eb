/* har_check.c: the checks of a HAR import: typed members of the JSON with the path of
 * the first problem in the message ("log.entries[3].request.url: missing"), the URL,
 * the start time and the HTTP version. */
#include "capture/har_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"

#define MAX_MS 1e11 /* a timing beyond ~3 years is not a timing */

reqlog_err har_check_bad(const har_ctx *c, const char *path, const char *what) {
  return util_fail(c->cause, REQLOG_ERR_ARG, "log.entries[%zu]%s%s: %s", c->entry,
                   *path ? "." : "", path, what);
}

static const char *type_name(int type) {
  switch (type) {
  case cJSON_String: return "not a string";
  case cJSON_Number: return "not a number";
  case cJSON_Object: return "not an object";
  case cJSON_Array: return "not an array";
  default: return "not true or false";
  }
}

/* Member NAME of OBJ (at PATH, "" for the entry itself) when it has cJSON type TYPE
 * (cJSON_True stands for either boolean). *out is NULL when the member is absent, or
 * null and not REQUIRED. Returns REQLOG_OK, or REQLOG_ERR_ARG with the message. */
reqlog_err har_check_get(const har_ctx *c, const cJSON *obj, const char *path, const char *name,
                      int type, int required, const cJSON **out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  *out = NULL;
  char where[160];
  snprintf(where, sizeof where, "%s%s%s", path, *path ? "." : "", name);
  if (!v || (cJSON_IsNull(v) && !required))
    return required ? har_check_bad(c, where, "missing") : REQLOG_OK;
  int ok = type == cJSON_True ? cJSON_IsBool(v) : (v->type & 0xFF) == type;
  if (!ok)
    return har_check_bad(c, where, type_name(type));
  *out = v;
  return REQLOG_OK;
}

/* The value of an optional string member, or NULL. */
reqlog_err har_check_str(const har_ctx *c, const cJSON *obj, const char *path,
                          const char *name, const char **out) {
  const cJSON *v;
  reqlog_err err = har_check_get(c, obj, path, name, cJSON_String, 0, &v);
  *out = v ? v->valuestring : NULL;
  return err;
}

/* An optional time in milliseconds as µs: absent, null or negative (HAR's -1, "not
 * applicable") read as -1. */
reqlog_err har_check_ms(const har_ctx *c, const cJSON *obj, const char *path,
                         const char *name, int64_t *us) {
  const cJSON *v;
  reqlog_err err = har_check_get(c, obj, path, name, cJSON_Number, 0, &v);
  *us = -1;
  if (err != REQLOG_OK || !v || v->valuedouble < 0)
    return err;
  if (!(v->valuedouble <= MAX_MS)) {
    char where[160];
    snprintf(where, sizeof where, "%s%s%s", path, *path ? "." : "", name);
    return har_check_bad(c, where, "not a time in milliseconds");
  }
  *us = llround(v->valuedouble * 1000.0);
  return REQLOG_OK;
}

/* "scheme:rest" without control characters: what any HAR writer puts in request.url. */
static int is_absolute_url(const char *s) {
  size_t n = util_url_scheme_len(s);
  if (!n || !s[n + 1])
    return 0;
  for (const char *p = s; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      return 0;
  return 1;
}

/* The request's URL: absolute, and http or https, the only schemes reqlog sends (a row
 * is a call that may be replayed). Returns REQLOG_OK, or REQLOG_ERR_ARG with the path. */
reqlog_err har_check_url(const har_ctx *c, const char *url) {
  if (!is_absolute_url(url))
    return har_check_bad(c, "request.url", "not an absolute URL");
  size_t n = util_url_scheme_len(url);
  if (util_scheme_is_http(url, n))
    return REQLOG_OK;
  char what[64];
  snprintf(what, sizeof what, "scheme '%.*s' is not http or https", n > 20 ? 20 : (int)n, url);
  return har_check_bad(c, "request.url", what);
}

/* The start time: ISO 8601 (what reqlog_parse_time() reads as a date, not an age). */
int har_check_started(const char *s, int64_t *us) {
  for (int i = 0; i < 4; i++)
    if (s[i] < '0' || s[i] > '9')
      return 0;
  return s[4] == '-' && reqlog_parse_time(s, 0, us) == REQLOG_OK;
}

/* The HTTP version as reqlog writes it ("HTTP/1.1", "HTTP/2"), from what browsers write
 * ("http/1.1", "h2", "HTTP/2.0"); NULL for none or "unknown". Returns a malloc'd copy,
 * or NULL; *oom is set when a copy could not be made. */
char *har_check_version(const char *v, int *oom) {
  static const struct { const char *in, *out; } known[] = {
    {"http/1.0", "HTTP/1.0"}, {"http/1.1", "HTTP/1.1"}, {"h2", "HTTP/2"},
    {"http/2", "HTTP/2"},     {"http/2.0", "HTTP/2"},   {"h3", "HTTP/3"},
    {"http/3", "HTTP/3"},     {"http/3.0", "HTTP/3"},   {"h2c", "HTTP/2"},
  };
  if (!v || !*v || strcasecmp(v, "unknown") == 0)
    return NULL;
  const char *out = v;
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (strcasecmp(v, known[i].in) == 0)
      out = known[i].out;
  char *copy = strndup(out, 31);
  if (!copy)
    *oom = 1;
  return copy;
}
