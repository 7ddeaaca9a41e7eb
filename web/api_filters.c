/* api_filters.c: GET /api/filters: the library's filters (reqlog_filter_info_at()) in
 * their order, so the page's filter bar takes their names from the one list:
 * {"filters": [{"name": "status", "repeatable": true, "help": "..."}, ...]}. */
#include "handlers.h"
#include "params.h"
#include "reply.h"

/* The answer's body, or NULL when memory ran out. */
static cJSON *filters_json(void) {
  cJSON *body = cJSON_CreateObject();
  cJSON *list = body ? cJSON_AddArrayToObject(body, "filters") : NULL;
  if (!list) {
    cJSON_Delete(body);
    return NULL;
  }
  const reqlog_filter_info *fi;
  for (size_t i = 0; (fi = reqlog_filter_info_at(i)) != NULL; i++) {
    cJSON *one = cJSON_CreateObject();
    if (!one || !cJSON_AddItemToArray(list, one)) {
      cJSON_Delete(one);
      goto fail;
    }
    if (!cJSON_AddStringToObject(one, "name", fi->name) ||
        !cJSON_AddBoolToObject(one, "repeatable", fi->repeatable) ||
        !cJSON_AddStringToObject(one, "help", fi->help))
      goto fail;
  }
  return body;
fail:
  cJSON_Delete(body);
  return NULL;
}

enum MHD_Result api_filters(web_req *q, const char *arg) {
  (void)arg;
  web_params p;
  enum MHD_Result ret;
  if (params_take(q, 0, &p, &ret) != 0)
    return ret;
  params_free(&p);
  return reply_json(q, MHD_HTTP_OK, filters_json());
}
