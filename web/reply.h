/* reply.h: every answer the dashboard server sends goes through here, so each carries
 * the security headers of API.md and errors have the API's JSON shape
 * {"message": ..., "errors": {param: [...]}}. Each function queues the response on
 * Q's connection and returns MHD's result for the access handler. */
#ifndef REQLOG_WEB_REPLY_H
#define REQLOG_WEB_REPLY_H

#include "web_int.h"

/* Adds the security headers (and, for /api/, Cache-Control: no-store) to RESP, queues it
 * with STATUS and drops the caller's reference. RESP NULL (a failed allocation): MHD_NO,
 * which closes the connection. */
enum MHD_Result reply_send(web_req *q, unsigned status, struct MHD_Response *resp);

/* BODY as application/json with STATUS; takes ownership of BODY (NULL: a 500). */
enum MHD_Result reply_json(web_req *q, unsigned status, cJSON *body);

/* The LEN bytes of JSON text at TEXT as application/json with STATUS; takes ownership of
 * TEXT, which must come from malloc (reqlog_buf's data does). TEXT NULL: a 500. */
enum MHD_Result reply_json_text(web_req *q, unsigned status, char *text, size_t len);

/* {"message": MESSAGE} with STATUS. */
enum MHD_Result reply_message(web_req *q, unsigned status, const char *message);

/* 400 {"message": "The given data was invalid.", "errors": ERRORS}; takes ERRORS. */
enum MHD_Result reply_invalid(web_req *q, cJSON *errors);

/* 400 naming one parameter: {"errors": {PARAM: [TEXT]}}. */
enum MHD_Result reply_bad_param(web_req *q, const char *param, const char *text);

/* 404 {"message": "Not found."}. */
enum MHD_Result reply_not_found(web_req *q);

/* 405 {"message": "Method not allowed."} with Allow: ALLOW. */
enum MHD_Result reply_not_allowed(web_req *q, const char *allow);

/* 500 for a library error ERR; CAUSE (may be NULL) is freed with reqlog_free(). */
enum MHD_Result reply_lib_error(web_req *q, reqlog_err err, char *cause);

/* Adds the error ("errors") entry TEXT for PARAM to *ERRORS, creating the object on first
 * use. Returns 0, or -1 when out of memory. */
int reply_add_error(cJSON **errors, const char *param, const char *text);

#endif
