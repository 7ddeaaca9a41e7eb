/* api_snippet.c: GET /api/requests/{id}/snippet?lang=L: the call as code that makes it
 * again (the library's reqlog_snippet(), the one implementation `reqlog snippet` prints
 * too): {"id", "lang", "code"}. The page's "Copy as" shows and copies it. */
#include <stdlib.h>

#include "handlers.h"
#include "params.h"
#include "reply.h"

enum MHD_Result api_snippet(web_req *q, const char *arg) {
  web_params p;
  enum MHD_Result ret;
  if (params_take(q, PARAM_LANG, &p, &ret) != 0)
    return ret;
  const char *lang = p.lang;
  params_free(&p);
  int64_t id = 0;
  if (params_path_id(q, arg, &id, &ret) != 0)
    return ret;
  cJSON *row = NULL;
  char *cause = NULL;
  reqlog_err err = reqlog_get(q->s->r, id, &row, &cause);
  if (err == REQLOG_ERR_NOTFOUND) {
    reqlog_free(cause);
    return reply_not_found(q);
  }
  if (err != REQLOG_OK)
    return reply_lib_error(q, err, cause);
  char *code = NULL;
  err = reqlog_snippet(row, lang, &code, &cause);
  cJSON_Delete(row);
  if (err == REQLOG_ERR_ARG) {
    ret = reply_message(q, MHD_HTTP_CONFLICT, "The recorded call has no usable method or URL.");
    reqlog_free(cause);
    return ret;
  }
  if (err != REQLOG_OK)
    return reply_lib_error(q, err, cause);
  cJSON *o = cJSON_CreateObject();
  int ok = o && cJSON_AddNumberToObject(o, "id", (double)id) &&
           cJSON_AddStringToObject(o, "lang", lang) && cJSON_AddStringToObject(o, "code", code);
  reqlog_free(code);
  if (!ok) {
    cJSON_Delete(o);
    return reply_json(q, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
  }
  return reply_json(q, MHD_HTTP_OK, o);
}
