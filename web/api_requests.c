/* api_requests.c: GET /api/requests (newest first, keyset paging) and
 * GET /api/requests/{id} (one full row). */
#include <inttypes.h>
#include <stdio.h>

#include "handlers.h"
#include "params.h"
#include "reply.h"

/* {"items": [rows without bodies], "next": the last item's id while older rows exist},
 * written as text straight from the rows (reqlog_cursor_next_text), one buffer in all.
 * One row more than asked is read to know whether there is a next page. */
enum MHD_Result api_requests_list(web_req *q, const char *arg) {
  (void)arg;
  web_params p;
  enum MHD_Result ret;
  if (params_take(q, PARAM_FILTERS | PARAM_PAGING, &p, &ret) != 0)
    return ret;
  reqlog_query_opts opts = {.limit = p.limit + 1, .before_id = p.before};
  reqlog_cursor *c = NULL;
  char *cause = NULL;
  reqlog_err err = reqlog_query(q->s->r, p.filter, &opts, &c, &cause);
  if (err != REQLOG_OK) {
    params_free(&p);
    return reply_lib_error(q, err, cause);
  }
  reqlog_buf out = {0};
  int64_t n = 0, last = 0, id = 0;
  int more = 0;
  err = reqlog_buf_add(&out, "{\"items\":[", 10);
  while (err == REQLOG_OK) {
    size_t mark = out.len;
    if (n > 0)
      err = reqlog_buf_add(&out, ",", 1);
    if (err == REQLOG_OK)
      err = reqlog_cursor_next_text(c, &out, &id);
    if (err != REQLOG_OK || n == p.limit) {
      out.len = mark; /* the comma, and the row past the page */
      more = err == REQLOG_OK;
      break;
    }
    last = id;
    n++;
  }
  reqlog_cursor_free(c);
  params_free(&p);
  if (err == REQLOG_OK || err == REQLOG_ERR_DONE) {
    char tail[48];
    int len = more ? snprintf(tail, sizeof tail, "],\"next\":%" PRId64 "}", last)
                   : snprintf(tail, sizeof tail, "],\"next\":null}");
    err = reqlog_buf_add(&out, tail, (size_t)len);
  }
  if (err != REQLOG_OK) {
    reqlog_buf_free(&out);
    return reply_lib_error(q, err, NULL);
  }
  return reply_json_text(q, MHD_HTTP_OK, out.data, out.len);
}

int api_requests_load(web_req *q, const char *arg, cJSON **row, enum MHD_Result *ret) {
  *row = NULL;
  web_params p;
  if (params_take(q, 0, &p, ret) != 0)
    return -1;
  params_free(&p);
  int64_t id = 0;
  if (params_path_id(q, arg, &id, ret) != 0)
    return -1;
  char *cause = NULL;
  reqlog_err err = reqlog_get(q->s->r, id, row, &cause);
  if (err == REQLOG_OK)
    return 0;
  if (err == REQLOG_ERR_NOTFOUND) {
    reqlog_free(cause);
    *ret = reply_not_found(q);
  } else {
    *ret = reply_lib_error(q, err, cause);
  }
  return -1;
}

enum MHD_Result api_requests_get(web_req *q, const char *arg) {
  cJSON *row = NULL;
  enum MHD_Result ret;
  if (api_requests_load(q, arg, &row, &ret) != 0)
    return ret;
  return reply_json(q, MHD_HTTP_OK, row);
}
