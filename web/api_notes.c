/* api_notes.c: POST /api/requests/{id}/notes: the page's change to a call's note, tags
 * and pin (reqlog_annotate(): kept beside the recorded row, never in it), answered with
 * the call's full row. The body is JSON: {"note": text or null, "tags": [tag, ...],
 * "pinned": bool}, each member optional (absent: unchanged; note "" or null removes it,
 * tags replace the call's tags). Like every POST, only from the dashboard's own origin
 * (router.c). */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "params.h"
#include "reply.h"

/* A JSON array of strings as one comma list (malloc'd) into *OUT; -1 when an item is
 * not a string or holds a comma (then *why says so), -2 out of memory. */
static int tags_list(const cJSON *arr, char **out, const char **why) {
  size_t len = 1;
  const cJSON *t;
  *out = NULL;
  cJSON_ArrayForEach(t, arr) {
    if (!cJSON_IsString(t) || strchr(t->valuestring, ',')) {
      *why = "each tag is a string without a comma";
      return -1;
    }
    len += strlen(t->valuestring) + 1;
  }
  char *s = malloc(len), *o = s;
  if (!s)
    return -2;
  cJSON_ArrayForEach(t, arr) {
    if (o != s)
      *o++ = ',';
    size_t n = strlen(t->valuestring);
    memcpy(o, t->valuestring, n);
    o += n;
  }
  *o = '\0';
  *out = s;
  return 0;
}

/* Reads the body into *A (its strings point into DOC or *TAGS). Returns 0, or -1 after
 * queueing a 400 (in *RET). */
static int read_change(web_req *q, cJSON **doc, char **tags, reqlog_annotation *a,
                       enum MHD_Result *ret) {
  *a = (reqlog_annotation){.pin = -1, .tags_op = REQLOG_TAGS_SET};
  *doc = q->body.data ? cJSON_ParseWithLength(q->body.data, q->body.len) : NULL;
  if (!cJSON_IsObject(*doc)) {
    *ret = reply_bad_param(q, "body", "a JSON object: {\"note\", \"tags\", \"pinned\"}");
    return -1;
  }
  const cJSON *m;
  cJSON_ArrayForEach(m, *doc) {
    const char *name = m->string;
    const char *why = NULL;
    if (strcmp(name, "note") == 0) {
      if (cJSON_IsString(m))
        a->note = m->valuestring;
      else if (cJSON_IsNull(m))
        a->note = "";
      else
        why = "a string, or null to remove the note";
    } else if (strcmp(name, "pinned") == 0) {
      if (cJSON_IsBool(m))
        a->pin = cJSON_IsTrue(m);
      else
        why = "true or false";
    } else if (strcmp(name, "tags") == 0) {
      int rc = cJSON_IsArray(m) ? tags_list(m, tags, &why) : -1;
      if (rc == -2) {
        *ret = reply_json(q, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
        return -1;
      }
      if (rc == -1 && !why)
        why = "an array of tags";
      a->tags = *tags;
    } else {
      why = "unknown member (note, tags and pinned are known)";
    }
    if (why) {
      *ret = reply_bad_param(q, name, why);
      return -1;
    }
  }
  return 0;
}

enum MHD_Result api_notes(web_req *q, const char *arg) {
  web_params p;
  enum MHD_Result ret;
  if (params_take(q, 0, &p, &ret) != 0)
    return ret;
  params_free(&p);
  int64_t id = 0;
  if (params_path_id(q, arg, &id, &ret) != 0)
    return ret;
  cJSON *doc = NULL;
  char *tags = NULL;
  reqlog_annotation a;
  if (read_change(q, &doc, &tags, &a, &ret) != 0) {
    cJSON_Delete(doc);
    free(tags);
    return ret;
  }
  char *cause = NULL;
  reqlog_err err = reqlog_annotate(q->s->r, id, &a, &cause);
  cJSON_Delete(doc);
  free(tags);
  cJSON *row = NULL;
  if (err == REQLOG_OK)
    err = reqlog_get(q->s->r, id, &row, &cause);
  if (err == REQLOG_OK)
    return reply_json(q, MHD_HTTP_OK, row);
  if (err == REQLOG_ERR_NOTFOUND) {
    reqlog_free(cause);
    return reply_not_found(q);
  }
  if (err == REQLOG_ERR_ARG && cause) {
    /* "note: ..." or "tags: ...": the member it names */
    const char *member = strncmp(cause, "note:", 5) == 0 ? "note"
                         : strncmp(cause, "tags:", 5) == 0 ? "tags" : "body";
    ret = reply_bad_param(q, member, cause);
    reqlog_free(cause);
    return ret;
  }
  if (err == REQLOG_ERR_READONLY) {
    reqlog_free(cause);
    return reply_message(q, MHD_HTTP_CONFLICT,
                         "This history is open read-only: notes, tags and pins cannot be "
                         "saved.");
  }
  return reply_lib_error(q, err, cause);
}
