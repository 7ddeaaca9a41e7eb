/* api_diff.c: GET /api/requests/{id}/diff?with=ID|previous&ignore=P,...&keep=P,...: the
 * call compared with another (reqlog_diff, the library's one diff, as `reqlog diff`);
 * with=previous is the call before it to the same endpoint (reqlog_previous_call), the
 * older one being A. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "params.h"
#include "reply.h"

/* Paths at most in ignore and keep together: a page sends a handful. */
enum { PATHS_MAX = 64 };

typedef struct {
  const char *with;
  int with_seen;
  char *ignore[PATHS_MAX + 1];
  char *keep[PATHS_MAX + 1];
  size_t nignore, nkeep;
  cJSON *errors;
  int nomem;
} diff_args;

static void bad(diff_args *d, const char *param, const char *text) {
  if (reply_add_error(&d->errors, param, text) != 0)
    d->nomem = 1;
}

/* The comma list VALUE added to LIST (*N items). */
static void add_paths(diff_args *d, const char *param, const char *value, char **list,
                      size_t *n) {
  const char *p = value ? value : "";
  while (*p) {
    size_t len = strcspn(p, ",");
    if (len && d->nignore + d->nkeep >= PATHS_MAX) {
      bad(d, param, "at most 64 paths");
      return;
    }
    if (len) {
      char *s = strndup(p, len);
      if (!s) {
        d->nomem = 1;
        return;
      }
      list[(*n)++] = s;
      list[*n] = NULL;
    }
    p += len + (p[len] == ',');
  }
}

static enum MHD_Result each_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value) {
  (void)kind;
  diff_args *d = cls;
  char text[100];
  if (!key || !*key)
    return MHD_YES;
  if (strcmp(key, "with") == 0) {
    if (d->with_seen++)
      bad(d, "with", "with: given twice");
    d->with = value;
  } else if (strcmp(key, "ignore") == 0) {
    add_paths(d, "ignore", value, d->ignore, &d->nignore);
  } else if (strcmp(key, "keep") == 0) {
    add_paths(d, "keep", value, d->keep, &d->nkeep);
  } else {
    snprintf(text, sizeof text, "%.60s: unknown parameter", key);
    bad(d, key, text);
  }
  return MHD_YES;
}

static void free_args(diff_args *d) {
  for (size_t i = 0; i < d->nignore; i++)
    free(d->ignore[i]);
  for (size_t i = 0; i < d->nkeep; i++)
    free(d->keep[i]);
  cJSON_Delete(d->errors);
}

/* The answer for a library error: 404 with the library's message for an unknown id or
 * no previous call, else reply_lib_error(). */
static enum MHD_Result lib_error(web_req *q, reqlog_err err, char *cause) {
  if (err != REQLOG_ERR_NOTFOUND)
    return reply_lib_error(q, err, cause);
  enum MHD_Result ret = reply_message(q, MHD_HTTP_NOT_FOUND, cause ? cause : "Not found.");
  reqlog_free(cause);
  return ret;
}

enum MHD_Result api_diff(web_req *q, const char *arg) {
  int64_t id = 0, other = 0;
  enum MHD_Result ret;
  if (params_path_id(q, arg, &id, &ret) != 0)
    return ret;
  diff_args d = {0};
  d.ignore[0] = d.keep[0] = NULL;
  MHD_get_connection_values(q->conn, MHD_GET_ARGUMENT_KIND, each_arg, &d);
  int previous = d.with && strcmp(d.with, "previous") == 0;
  if (!d.with)
    bad(&d, "with", "with: required: a row id or 'previous'");
  else if (!previous && params_row_id(d.with, &other) != 0)
    bad(&d, "with", "with: not a row id or 'previous'");
  if (d.nomem) {
    free_args(&d);
    return reply_json(q, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
  }
  if (d.errors) {
    cJSON *errors = d.errors;
    d.errors = NULL;
    free_args(&d);
    return reply_invalid(q, errors);
  }
  char *cause = NULL;
  reqlog_err err = REQLOG_OK;
  int64_t a = id, b = other;
  if (previous) { /* older first, as `reqlog diff ID prev` */
    b = id;
    err = reqlog_previous_call(q->s->r, id, &a, &cause);
  }
  cJSON *out = NULL;
  reqlog_diff_opts opts = {(const char *const *)d.ignore, (const char *const *)d.keep};
  if (err == REQLOG_OK)
    err = reqlog_diff(q->s->r, a, b, &opts, &out, &cause);
  free_args(&d);
  if (err != REQLOG_OK)
    return lib_error(q, err, cause);
  return reply_json(q, MHD_HTTP_OK, out);
}
