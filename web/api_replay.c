/* api_replay.c: POST /api/requests/{id}/replay: the recorded call sent again through the
 * recorder, with the server's own key (REQLOG_API_KEY, read by reqlog_open()), and the
 * new row as the answer. What the row cannot give back faithfully is left out (redacted
 * headers, hop-by-hop headers) or refused (a truncated or binary body: 409). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "handlers.h"
#include "params.h"
#include "reply.h"

/* Headers libcurl sets itself for this request, headers meant for one hop only, and
 * the Authorization the recorder adds from the server's own key. */
static const char *const dropped[] = {
  "Host", "Content-Length", "Authorization", "Connection", "Keep-Alive",
  "Proxy-Connection", "Proxy-Authorization", "Proxy-Authenticate", "TE", "Trailer",
  "Transfer-Encoding", "Upgrade", "Expect", "Accept-Encoding",
};

static int is_token(const char *s) {
  if (!*s)
    return 0;
  for (; *s; s++)
    if (*s <= ' ' || *s >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", *s))
      return 0;
  return 1;
}

/* Non-zero when the stored header NAME: VALUE is sent again. */
static int keep_header(const char *name, const char *value) {
  if (!is_token(name) || strstr(value, "[REDACTED]"))
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

/* Sends ROW's call again; answers with the new row. */
static enum MHD_Result replay(web_req *q, const cJSON *row) {
  const cJSON *body = cJSON_GetObjectItemCaseSensitive(row, "request_body");
  const cJSON *method = cJSON_GetObjectItemCaseSensitive(row, "method");
  const cJSON *url = cJSON_GetObjectItemCaseSensitive(row, "url");
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "request_truncated")))
    return conflict(q, "The recorded request body was truncated: the call cannot be sent again.");
  if (!cJSON_IsNull(body) && !cJSON_IsString(body))
    return conflict(q, "The recorded request body is binary: the call cannot be sent again.");
  if (!cJSON_IsString(method) || !is_token(method->valuestring) || !cJSON_IsString(url))
    return conflict(q, "The recorded call has no usable method or URL.");
  char **headers = replay_headers(row);
  if (!headers)
    return reply_json(q, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
  const char *text = cJSON_IsString(body) ? body->valuestring : NULL;
  reqlog_response *resp = NULL;
  reqlog_err err = reqlog_request(q->s->r, method->valuestring, url->valuestring, text,
                                  text ? strlen(text) : 0, (const char *const *)headers, &resp);
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
  cJSON *fresh = NULL;
  char *cause = NULL;
  err = reqlog_get(q->s->r, new_id, &fresh, &cause);
  if (err != REQLOG_OK)
    return reply_lib_error(q, err, cause);
  return reply_json(q, MHD_HTTP_CREATED, fresh);
}

enum MHD_Result api_replay(web_req *q, const char *arg) {
  cJSON *row = NULL;
  enum MHD_Result ret;
  if (api_requests_load(q, arg, &row, &ret) != 0)
    return ret;
  ret = replay(q, row);
  cJSON_Delete(row);
  return ret;
}
