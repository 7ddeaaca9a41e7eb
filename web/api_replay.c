/* api_replay.c: POST /api/requests/{id}/replay: the recorded call sent again through the
 * library's reqlog_replay(), as recorded or edited ("Edit and send": a JSON body naming
 * the method, URL, headers, body and the base URL whose host gets the key), and the new
 * row as the answer; with "dry_run" (or GET without a body), what that would send, for
 * the page's confirmation. The key goes where the library sends it: the configured base
 * URL's origin (REQLOG_BASE_URL), or the base URL given for this replay, and only with a
 * row recorded with a key. What cannot be sent is refused with 409 (a truncated or binary
 * body kept, a method that is not a token, a URL that is not http or https). On a team
 * store the call is recorded into a spool that is shipped to the store (replay_rec.c),
 * and the answer is the row as the store has it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "handlers.h"
#include "params.h"
#include "replay_rec.h"
#include "reply.h"

static enum MHD_Result conflict(web_req *q, const char *why, char *cause) {
  char msg[400];
  if (cause)
    snprintf(msg, sizeof msg, "The call cannot be sent: %s.", cause);
  reqlog_free(cause);
  return reply_message(q, MHD_HTTP_CONFLICT, cause ? msg : why);
}

/* An edit read from the request's JSON body: its strings point into DOC and HEADERS. */
typedef struct edit {
  cJSON *doc;
  char **headers;
  reqlog_replay_edit e;
  int dry_run;
} edit;

static void edit_free(edit *x) {
  cJSON_Delete(x->doc);
  free(x->headers);
}

/* The [[name, value], ...] of M as "Name: value" strings in X->headers, kept alive in a
 * cJSON array added to X->doc. NULL, or why M is not such a list. */
static const char *read_headers(edit *x, const cJSON *m) {
  if (!cJSON_IsArray(m))
    return "an array of [name, value] pairs";
  cJSON *keep = cJSON_CreateArray();
  if (!keep || !cJSON_AddItemToObject(x->doc, "\x01headers", keep)) {
    cJSON_Delete(keep);
    return "too much (out of memory)";
  }
  const cJSON *h;
  cJSON_ArrayForEach(h, m) {
    const cJSON *hn = cJSON_GetArrayItem(h, 0), *hv = cJSON_GetArrayItem(h, 1);
    char *line = NULL;
    if (!cJSON_IsString(hn) || !cJSON_IsString(hv))
      return "an array of [name, value] pairs of strings";
    if (asprintf(&line, "%s: %s", hn->valuestring, hv->valuestring) < 0)
      return "too much (out of memory)";
    cJSON *item = cJSON_CreateString(line);
    free(line);
    if (!item || !cJSON_AddItemToArray(keep, item)) {
      cJSON_Delete(item);
      return "too much (out of memory)";
    }
  }
  size_t n = (size_t)cJSON_GetArraySize(keep), k = 0;
  x->headers = calloc(n + 1, sizeof *x->headers);
  if (!x->headers)
    return "too much (out of memory)";
  cJSON_ArrayForEach(h, keep)
    x->headers[k++] = h->valuestring;
  x->e.headers = (const char *const *)x->headers;
  return NULL;
}

/* Reads q->body (empty: no edit) into X. Returns 0, or -1 after a 400 (in *RET). */
static int read_edit(web_req *q, edit *x, enum MHD_Result *ret) {
  memset(x, 0, sizeof *x);
  if (!q->body.data || q->body.len == 0)
    return 0;
  x->doc = cJSON_ParseWithLength(q->body.data, q->body.len);
  if (!cJSON_IsObject(x->doc)) {
    *ret = reply_bad_param(q, "body", "a JSON object: {\"method\", \"url\", \"headers\", "
                                      "\"body\", \"base_url\", \"dry_run\"}");
    return -1;
  }
  const cJSON *m;
  cJSON_ArrayForEach(m, x->doc) {
    const char *name = m->string, *why = NULL;
    const char **slot = strcmp(name, "method") == 0     ? &x->e.method
                        : strcmp(name, "url") == 0      ? &x->e.url
                        : strcmp(name, "base_url") == 0 ? &x->e.base_url
                                                        : NULL;
    if (slot) {
      if (cJSON_IsString(m) && m->valuestring[0])
        *slot = m->valuestring;
      else if (!cJSON_IsNull(m))
        why = "a non-empty string, or null";
    } else if (strcmp(name, "body") == 0) {
      x->e.body_set = 1;
      if (cJSON_IsString(m))
        x->e.body = m->valuestring;
      else if (!cJSON_IsNull(m))
        why = "a string, or null for none";
    } else if (strcmp(name, "dry_run") == 0) {
      if (cJSON_IsBool(m))
        x->dry_run = cJSON_IsTrue(m);
      else
        why = "true or false";
    } else if (strcmp(name, "headers") == 0) {
      why = read_headers(x, m);
    } else if (name[0] != '\x01') {
      why = "unknown member (method, url, headers, body, base_url and dry_run are known)";
    }
    if (why) {
      *ret = reply_bad_param(q, name, why);
      return -1;
    }
  }
  return 0;
}

/* What the replay would send, sent nowhere. */
static enum MHD_Result preview(web_req *q, const cJSON *row, const reqlog_replay_edit *e) {
  reqlog_replay_plan p;
  char *cause = NULL;
  if (reqlog_replay_plan_of(q->s->r, row, e, &p, &cause) != REQLOG_OK)
    return conflict(q, NULL, cause);
  cJSON *o = cJSON_CreateObject();
  int ok = o && cJSON_AddStringToObject(o, "method", p.method) &&
           cJSON_AddStringToObject(o, "url", p.url) &&
           cJSON_AddBoolToObject(o, "sends_key", p.sends_key) &&
           (p.sends_key ? cJSON_AddStringToObject(o, "key", p.key)
                        : cJSON_AddNullToObject(o, "key")) &&
           (p.why ? cJSON_AddStringToObject(o, "why", p.why) : cJSON_AddNullToObject(o, "why"));
  reqlog_replay_plan_free(&p);
  if (!ok) {
    cJSON_Delete(o);
    return reply_json(q, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
  }
  return reply_json(q, MHD_HTTP_OK, o);
}

/* The answer of a replay on a team store whose call REC recorded as SPOOL_ID: the new row
 * as the store has it (201), once shipped; 202 with the spool id when the store does not
 * have it within the bound (it will, once shipped: the call is recorded). */
static enum MHD_Result replayed_on_store(web_req *q, reqlog *rec, int64_t spool_id) {
  int64_t id = 0;
  if (replay_rec_store_id(q->s, rec, spool_id, &id) == 0) {
    cJSON *fresh = NULL;
    char *cause = NULL;
    reqlog_err err = reqlog_get(q->s->r, id, &fresh, &cause);
    if (err != REQLOG_OK)
      return reply_lib_error(q, err, cause);
    return reply_json(q, MHD_HTTP_CREATED, fresh);
  }
  cJSON *o = cJSON_CreateObject();
  if (!o || !cJSON_AddStringToObject(o, "message",
                                     "The call was sent and recorded, but it is not in the "
                                     "team store yet: it will appear in the list once it is "
                                     "shipped.") ||
      !cJSON_AddNumberToObject(o, "spool_id", (double)spool_id)) {
    cJSON_Delete(o);
    return reply_json(q, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
  }
  return reply_json(q, MHD_HTTP_ACCEPTED, o);
}

/* POST: sends ROW's call again (as E changes it); answers with the new row. */
static enum MHD_Result replay(web_req *q, const cJSON *row, reqlog_replay_edit *e) {
  reqlog_replay_plan p;
  char *cause = NULL;
  /* refused before a spool is opened: nothing is sent */
  if (reqlog_replay_plan_of(q->s->r, row, e, &p, &cause) != REQLOG_OK)
    return conflict(q, NULL, cause);
  reqlog_replay_plan_free(&p);
  reqlog *rec = q->s->r;
  if (q->s->team_store) {
    char *msg = NULL;
    if (replay_rec_open(q->s, &rec, &msg) != 0) {
      enum MHD_Result ret = reply_message(q, MHD_HTTP_SERVICE_UNAVAILABLE,
                                          msg ? msg : "Replay cannot record into a local spool.");
      free(msg);
      return ret;
    }
    /* the row replayed is the store's; the spool's rows cannot name it */
    e->unlinked = 1;
  }
  reqlog_response *resp = NULL;
  reqlog_err err = reqlog_replay(rec, row, e, &resp, &cause);
  int64_t new_id = resp ? resp->row_id : 0;
  reqlog_err record_err = resp ? resp->record_err : REQLOG_OK;
  reqlog_response_free(resp);
  if (err == REQLOG_ERR_NOMEM) {
    reqlog_free(cause);
    return reply_json(q, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
  }
  if (err == REQLOG_ERR_ARG)
    return conflict(q, NULL, cause);
  reqlog_free(cause);
  if (new_id <= 0) {
    char msg[160];
    snprintf(msg, sizeof msg, "The call was sent but not recorded: %s.",
             reqlog_strerror(record_err != REQLOG_OK ? record_err : REQLOG_ERR_DB));
    return reply_message(q, MHD_HTTP_INTERNAL_SERVER_ERROR, msg);
  }
  if (q->s->team_store)
    return replayed_on_store(q, rec, new_id);
  cJSON *fresh = NULL;
  err = reqlog_get(rec, new_id, &fresh, &cause);
  if (err != REQLOG_OK)
    return reply_lib_error(q, err, cause);
  return reply_json(q, MHD_HTTP_CREATED, fresh);
}

/* POST sends (or previews, with dry_run), GET (and HEAD) previews the replay as recorded:
 * the router sends both here. */
enum MHD_Result api_replay(web_req *q, const char *arg) {
  cJSON *row = NULL;
  enum MHD_Result ret;
  if (api_requests_load(q, arg, &row, &ret) != 0)
    return ret;
  edit x;
  if (read_edit(q, &x, &ret) != 0) {
    edit_free(&x);
    cJSON_Delete(row);
    return ret;
  }
  int send = strcmp(q->method, "POST") == 0 && !x.dry_run;
  ret = send ? replay(q, row, &x.e) : preview(q, row, &x.e);
  edit_free(&x);
  cJSON_Delete(row);
  return ret;
}
