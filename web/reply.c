/* reply.c: JSON answers and errors in the API's shape, with the security headers every
 * response of the dashboard carries (API.md, Serving). */
#include "reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char csp[] =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/* /api/ answers hold recorded data: opened in a tab they get an opaque origin that may
 * run nothing, load nothing and not be framed, whatever their bytes are. */
static const char api_csp[] = "sandbox; default-src 'none'; frame-ancestors 'none'";

/* What is left to say when even building the error fails. */
static const char oom_body[] = "{\"message\":\"Out of memory.\"}";

enum MHD_Result reply_send(web_req *q, unsigned status, struct MHD_Response *resp) {
  if (!resp)
    return MHD_NO;
  /* The page's CSP is for HTML, but it does no harm on the other types and means no
   * HTML can ever be served without it; the API's is stricter (api_csp). */
  int ok = MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff") == MHD_YES &&
           MHD_add_response_header(resp, "Referrer-Policy", "no-referrer") == MHD_YES &&
           MHD_add_response_header(resp, "Content-Security-Policy",
                                   q->is_api ? api_csp : csp) == MHD_YES &&
           MHD_add_response_header(resp, "X-Frame-Options", "DENY") == MHD_YES;
  if (ok && q->is_api)
    ok = MHD_add_response_header(resp, "Cache-Control", "no-store") == MHD_YES;
  enum MHD_Result ret = ok ? MHD_queue_response(q->conn, status, resp) : MHD_NO;
  MHD_destroy_response(resp);
  return ret;
}

static struct MHD_Response *json_response(const char *text, size_t len,
                                          enum MHD_ResponseMemoryMode mode) {
  struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)text, mode);
  if (resp && MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                      "application/json") != MHD_YES) {
    MHD_destroy_response(resp);
    return NULL;
  }
  return resp;
}

enum MHD_Result reply_json_text(web_req *q, unsigned status, char *text, size_t len) {
  if (!text)
    return reply_send(q, MHD_HTTP_INTERNAL_SERVER_ERROR,
                      json_response(oom_body, strlen(oom_body), MHD_RESPMEM_PERSISTENT));
  struct MHD_Response *resp = json_response(text, len, MHD_RESPMEM_MUST_FREE);
  if (!resp)
    free(text);
  return reply_send(q, status, resp);
}

enum MHD_Result reply_json(web_req *q, unsigned status, cJSON *body) {
  char *text = body ? cJSON_PrintUnformatted(body) : NULL;
  cJSON_Delete(body);
  /* cJSON allocates with malloc (no hooks are installed), so MHD may free() it */
  return reply_json_text(q, status, text, text ? strlen(text) : 0);
}

enum MHD_Result reply_message(web_req *q, unsigned status, const char *message) {
  cJSON *o = cJSON_CreateObject();
  if (o && !cJSON_AddStringToObject(o, "message", message)) {
    cJSON_Delete(o);
    o = NULL;
  }
  return reply_json(q, o ? status : MHD_HTTP_INTERNAL_SERVER_ERROR, o);
}

enum MHD_Result reply_invalid(web_req *q, cJSON *errors) {
  cJSON *o = cJSON_CreateObject();
  if (!errors)
    errors = cJSON_CreateObject();
  if (!o || !errors || !cJSON_AddStringToObject(o, "message", "The given data was invalid.") ||
      !cJSON_AddItemToObject(o, "errors", errors)) {
    cJSON_Delete(errors); /* not attached to O when any step failed */
    cJSON_Delete(o);
    return reply_json(q, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
  }
  return reply_json(q, MHD_HTTP_BAD_REQUEST, o);
}

int reply_add_error(cJSON **errors, const char *param, const char *text) {
  if (!*errors)
    *errors = cJSON_CreateObject();
  if (!*errors)
    return -1;
  cJSON *list = cJSON_GetObjectItemCaseSensitive(*errors, param);
  if (!list) {
    list = cJSON_AddArrayToObject(*errors, param);
    if (!list)
      return -1;
  }
  cJSON *s = cJSON_CreateString(text);
  if (!s || !cJSON_AddItemToArray(list, s)) {
    cJSON_Delete(s);
    return -1;
  }
  return 0;
}

enum MHD_Result reply_bad_param(web_req *q, const char *param, const char *text) {
  cJSON *errors = NULL;
  if (reply_add_error(&errors, param, text) != 0) {
    cJSON_Delete(errors);
    return reply_json(q, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
  }
  return reply_invalid(q, errors);
}

enum MHD_Result reply_not_found(web_req *q) {
  return reply_message(q, MHD_HTTP_NOT_FOUND, "Not found.");
}

enum MHD_Result reply_not_allowed(web_req *q, const char *allow) {
  cJSON *o = cJSON_CreateObject();
  if (!o || !cJSON_AddStringToObject(o, "message", "Method not allowed.")) {
    cJSON_Delete(o);
    return reply_json(q, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
  }
  char *text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  if (!text)
    return reply_json(q, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
  struct MHD_Response *resp = json_response(text, strlen(text), MHD_RESPMEM_MUST_FREE);
  if (!resp) {
    free(text);
    return MHD_NO;
  }
  if (MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow) != MHD_YES) {
    MHD_destroy_response(resp);
    return MHD_NO;
  }
  return reply_send(q, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
}

enum MHD_Result reply_lib_error(web_req *q, reqlog_err err, char *cause) {
  /* The cause may name files and SQLite internals: it goes to the server's log, the
   * browser gets the error's plain name. */
  fprintf(stderr, "reqlog: serve: %s %s: %s\n", q->method, q->path,
          cause ? cause : reqlog_strerror(err));
  reqlog_free(cause);
  char msg[160];
  snprintf(msg, sizeof msg, "The history could not be read: %s.", reqlog_strerror(err));
  return reply_message(q, MHD_HTTP_INTERNAL_SERVER_ERROR, msg);
}
