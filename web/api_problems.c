/* api_problems.c: GET /api/problems?FILTERS: the failing calls of the filtered rows
 * grouped into problems (reqlog_problems, as `reqlog problems`). */
#include "handlers.h"
#include "params.h"
#include "reply.h"

enum MHD_Result api_problems(web_req *q, const char *arg) {
  (void)arg;
  web_params p;
  enum MHD_Result ret;
  if (params_take(q, PARAM_FILTERS, &p, &ret) != 0)
    return ret;
  cJSON *out = NULL;
  char *cause = NULL;
  reqlog_err err = reqlog_problems(q->s->r, p.filter, &out, &cause);
  params_free(&p);
  if (err != REQLOG_OK)
    return reply_lib_error(q, err, cause);
  return reply_json(q, MHD_HTTP_OK, out);
}
