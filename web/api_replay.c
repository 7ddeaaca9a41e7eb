/* api_replay.c: POST /api/requests/{id}/replay: the recorded call sent again through the
 * recorder, and the new row as the answer; GET on the same path: what that POST would
 * send, for the page's confirmation. The server's own key (REQLOG_API_KEY, read by
 * reqlog_open()) goes only where the library sends it (the base URL's origin,
 * reqlog_key_applies()) and never with a row recorded without a key. What the row cannot
 * give back faithfully is left out (redacted headers, hop-by-hop headers) or refused (a
 * truncated or binary body, a method that is not a token, a URL that is not http or
 * https: 409). On a team store the call is recorded into a spool that is shipped to the
 * store (replay_rec.c), and the answer is the row as the store has it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "handlers.h"
#include "params.h"
#include "replay_rec.h"
#include "reply.h"

/* Headers libcurl sets itself for this request, headers meant for one hop only, and
 * the Authorization the recorder adds from the server's own key. */
static const char *const dropped[] = {
  "Host", "Content-Length", "Authorization", "Connection", "Keep-Alive",
  "Proxy-Connection", "Proxy-Authorization", "Proxy-Authenticate", "TE", "Trailer",
  "Transfer-Encoding", "Upgrade", "Expect", "Accept-Encoding",
};

/* Non-zero when the stored header NAME: VALUE is sent again. */
static int keep_header(const char *name, const char *value) {
  if (!reqlog_is_token(name) || strstr(value, "[REDACTED]"))
    return 0;
  for (const char *p = value; *p; p++)
    if ((unsigned char)*p < ' ' && *p != '\t')
      return 0;
  for (size_t i = 0; i < sizeof dropped / sizeof dropped[0]; i++)
    if (strcasecmp(name, dropped[i]) == 0)
      return 0;
  return 1;
}

/* "Name: value" strings (NULL-ended, free_headers()) for the headers of ROW to send. */
static char **replay_headers(const cJSON *row) {
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(row, "request_headers"), *h;
  char **out = calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof *out);
  size_t n = 0;
  if (!out)
    return NULL;
  cJSON_ArrayForEach(h, list) {
    const cJSON *name = cJSON_GetArrayItem(h, 0), *value = cJSON_GetArrayItem(h, 1);
    if (!cJSON_IsString(name) || !cJSON_IsString(value) ||
        !keep_header(name->valuestring, value->valuestring))
      continue;
    /* libcurl sends "Name;" as an empty header; "Name:" would remove it */
    const char *v = value->valuestring;
    int rc = *v ? asprintf(&out[n], "%s: %s", name->valuestring, v)
                : asprintf(&out[n], "%s;", name->valuestring);
    if (rc < 0) {
      out[n] = NULL;
      for (size_t i = 0; i < n; i++)
        free(out[i]);
      free(out);
      return NULL;
    }
    n++;
  }
  return out;
}

static void free_headers(char **h) {
  for (size_t i = 0; h && h[i]; i++)
    free(h[i]);
  free(h);
}

static enum MHD_Result conflict(web_req *q, const char *why) {
  return reply_message(q, MHD_HTTP_CONFLICT, why);
}

/* What a replay of a row sends. */
typedef struct plan {
  const char *method, *url, *body; /* the row's; BODY NULL for none */
  int sends_key;
  char key_fp[48];                 /* the key's fingerprint when SENDS_KEY */
  const char *why;                 /* why no key is sent, when none is */
  int withhold_key;                /* the library would send it, the row had none */
} plan;

/* Fills P from ROW. Returns 0, or -1 after queueing the answer (409: the row cannot be
 * sent again) whose result is in *RET. */
static int plan_replay(web_req *q, const cJSON *row, plan *p, enum MHD_Result *ret) {
  const cJSON *body = cJSON_GetObjectItemCaseSensitive(row, "request_body");
  const cJSON *method = cJSON_GetObjectItemCaseSensitive(row, "method");
  const cJSON *url = cJSON_GetObjectItemCaseSensitive(row, "url");
  memset(p, 0, sizeof *p);
  const char *refusal = NULL;
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "request_truncated")))
    refusal = "The recorded request body was truncated: the call cannot be sent again.";
  else if (!cJSON_IsNull(body) && !cJSON_IsString(body))
    refusal = "The recorded request body is binary: the call cannot be sent again.";
  else if (!cJSON_IsString(method) || !reqlog_is_token(method->valuestring) ||
           !cJSON_IsString(url))
    refusal = "The recorded call has no usable method or URL.";
  if (refusal) {
    *ret = conflict(q, refusal);
    return -1;
  }
  p->method = method->valuestring;
  p->url = url->valuestring;
  p->body = cJSON_IsString(body) ? body->valuestring : NULL;
  char *cause = NULL;
  reqlog_key_use use = reqlog_key_applies(q->s->r, p->url, p->key_fp, &cause);
  if (use == REQLOG_KEY_REFUSED) {
    char msg[300];
    snprintf(msg, sizeof msg, "The recorded call cannot be sent again: %s.",
             cause ? cause : "its URL is refused");
    reqlog_free(cause);
    *ret = conflict(q, msg);
    return -1;
  }
  int row_had_key = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(row, "key"));
  p->sends_key = use == REQLOG_KEY_SENT && row_had_key;
  p->withhold_key = use == REQLOG_KEY_SENT && !row_had_key;
  if (!p->sends_key)
    p->key_fp[0] = '\0';
  if (use == REQLOG_KEY_OTHER_ORIGIN)
    p->why = "The row's host is not the configured API's host (REQLOG_BASE_URL): the key "
             "goes to that host only.";
  else if (use == REQLOG_KEY_UNSET)
    p->why = "The server has no API key (REQLOG_API_KEY is not set).";
  else if (!row_had_key)
    p->why = "The call was recorded without a key.";
  return 0;
}

/* GET: what the replay would send, sent nowhere. */
static enum MHD_Result preview(web_req *q, const cJSON *row) {
  plan p;
  enum MHD_Result ret;
  if (plan_replay(q, row, &p, &ret) != 0)
    return ret;
  cJSON *o = cJSON_CreateObject();
  int ok = o && cJSON_AddStringToObject(o, "method", p.method) &&
           cJSON_AddStringToObject(o, "url", p.url) &&
           cJSON_AddBoolToObject(o, "sends_key", p.sends_key) &&
           (p.sends_key ? cJSON_AddStringToObject(o, "key", p.key_fp)
                        : cJSON_AddNullToObject(o, "key")) &&
           (p.why ? cJSON_AddStringToObject(o, "why", p.why) : cJSON_AddNullToObject(o, "why"));
  if (!ok) {
    cJSON_Delete(o);
    return reply_json(q, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
  }
  return reply_json(q, MHD_HTTP_OK, o);
}

/* ROW's headers to send, plus an empty Authorization (none at all) when the key must
 * stay home. NULL on out of memory. */
static char **plan_headers(const cJSON *row, const plan *p) {
  char **headers = replay_headers(row);
  if (!headers || !p->withhold_key)
    return headers;
  size_t n = 0;
  while (headers[n])
    n++;
  char **more = realloc(headers, (n + 2) * sizeof *more);
  char *none = strdup("Authorization:");
  if (!more || !none) {
    free(none);
    free_headers(more ? more : headers);
    return NULL;
  }
  more[n] = none;
  more[n + 1] = NULL;
  return more;
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

/* POST: sends ROW's call again; answers with the new row. */
static enum MHD_Result replay(web_req *q, const cJSON *row) {
  plan p;
  enum MHD_Result ret;
  if (plan_replay(q, row, &p, &ret) != 0)
    return ret;
  reqlog *rec = q->s->r;
  if (q->s->team_store) {
    char *msg = NULL;
    if (replay_rec_open(q->s, &rec, &msg) != 0) {
      ret = reply_message(q, MHD_HTTP_SERVICE_UNAVAILABLE,
                          msg ? msg : "Replay cannot record into a local spool.");
      free(msg);
      return ret;
    }
  }
  char **headers = plan_headers(row, &p);
  if (!headers)
    return reply_json(q, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
  reqlog_response *resp = NULL;
  reqlog_err err = reqlog_request(rec, p.method, p.url, p.body, p.body ? strlen(p.body) : 0,
                                  (const char *const *)headers, &resp);
  free_headers(headers);
  int64_t new_id = resp ? resp->row_id : 0;
  reqlog_err record_err = resp ? resp->record_err : REQLOG_OK;
  reqlog_response_free(resp);
  if (err == REQLOG_ERR_NOMEM)
    return reply_json(q, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
  if (err == REQLOG_ERR_ARG)
    return conflict(q, "The recorded call cannot be sent again (its method or URL is refused).");
  if (new_id <= 0) {
    char msg[160];
    snprintf(msg, sizeof msg, "The call was sent but not recorded: %s.",
             reqlog_strerror(record_err != REQLOG_OK ? record_err : REQLOG_ERR_DB));
    return reply_message(q, MHD_HTTP_INTERNAL_SERVER_ERROR, msg);
  }
  if (q->s->team_store)
    return replayed_on_store(q, rec, new_id);
  cJSON *fresh = NULL;
  char *cause = NULL;
  err = reqlog_get(rec, new_id, &fresh, &cause);
  if (err != REQLOG_OK)
    return reply_lib_error(q, err, cause);
  return reply_json(q, MHD_HTTP_CREATED, fresh);
}

/* POST sends, GET (and HEAD) previews: the router sends both here. */
enum MHD_Result api_replay(web_req *q, const char *arg) {
  cJSON *row = NULL;
  enum MHD_Result ret;
  if (api_requests_load(q, arg, &row, &ret) != 0)
    return ret;
  ret = strcmp(q->method, "POST") == 0 ? replay(q, row) : preview(q, row);
  cJSON_Delete(row);
  return ret;
}
