/* handlers.h: the endpoints of the dashboard (API.md), one file each, called by the
 * router once the request passed the Host, token and Origin checks. ARG is the path's
 * variable part ({id} or the static file's name), NULL when the route has none. Each
 * queues its answer and returns MHD's result. */
#ifndef REQLOG_WEB_HANDLERS_H
#define REQLOG_WEB_HANDLERS_H

#include "web_int.h"

typedef enum MHD_Result (*web_handler)(web_req *q, const char *arg);

/* api_requests.c: GET /api/requests, GET /api/requests/{id} */
enum MHD_Result api_requests_list(web_req *q, const char *arg);
enum MHD_Result api_requests_get(web_req *q, const char *arg);
/* For the endpoints on /api/requests/{id}: refuses query parameters, parses the id in
 * ARG and loads that row (with bodies). Returns 0 with *row (cJSON_Delete), or -1 after
 * queueing the answer (400, 404 or the library's error), whose result is in *ret. */
int api_requests_load(web_req *q, const char *arg, cJSON **row, enum MHD_Result *ret);

/* api_stats.c: GET /api/stats */
enum MHD_Result api_stats(web_req *q, const char *arg);

/* api_filters.c: GET /api/filters */
enum MHD_Result api_filters(web_req *q, const char *arg);

/* api_export.c: GET /api/export */
enum MHD_Result api_export(web_req *q, const char *arg);

/* api_stream.c: GET /api/stream (server-sent events) */
enum MHD_Result api_stream(web_req *q, const char *arg);

/* api_replay.c: GET /api/requests/{id}/replay (what a replay would send) and POST (send it) */
enum MHD_Result api_replay(web_req *q, const char *arg);

/* api_diff.c: GET /api/requests/{id}/diff?with=ID|previous (reqlog_diff) */
enum MHD_Result api_diff(web_req *q, const char *arg);

/* api_problems.c: GET /api/problems (reqlog_problems) */
enum MHD_Result api_problems(web_req *q, const char *arg);

/* api_mock.c: GET /api/mock (reqlog_mock_load: what `reqlog mock` would serve) */
enum MHD_Result api_mock(web_req *q, const char *arg);
/* api_notes.c: POST /api/requests/{id}/notes (note, tags, pin) */
enum MHD_Result api_notes(web_req *q, const char *arg);

/* api_snippet.c: GET /api/requests/{id}/snippet?lang=L (the call as code) */
enum MHD_Result api_snippet(web_req *q, const char *arg);

/* serve_assets.c: GET / (index.html) and GET /static/{name}, the files of web/static */
enum MHD_Result assets_index(web_req *q, const char *arg);
enum MHD_Result assets_file(web_req *q, const char *arg);

#endif
