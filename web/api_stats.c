/* api_stats.c: GET /api/stats: reqlog_stats() over the filtered rows, plus the
 * client-side rate limit the keys are measured against. */
#include "handlers.h"
#include "params.h"
#include "reply.h"

enum MHD_Result api_stats(web_req *q, const char *arg) {
  (void)arg;
  web_params p;
  enum MHD_Result ret;
  if (params_take(q, PARAM_FILTERS, &p, &ret) != 0)
    return ret;
  cJSON *stats = NULL;
  char *cause = NULL;
  reqlog_err err = reqlog_stats(q->s->r, p.filter, &stats, &cause);
  params_free(&p);
  if (err != REQLOG_OK)
    return reply_lib_error(q, err, cause);
  int limit = q->s->limit_per_minute;
  cJSON *v = limit > 0 ? cJSON_CreateNumber(limit) : cJSON_CreateNull();
  if (!cJSON_AddItemToObject(stats, "limit_per_minute", v)) {
    cJSON_Delete(v);
    cJSON_Delete(stats);
    return reply_json(q, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
  }
  return reply_json(q, MHD_HTTP_OK, stats);
}
