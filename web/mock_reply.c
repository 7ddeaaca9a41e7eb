/* mock_reply.c: the mock server's answers. A recorded response goes back with its
 * status, its headers in recorded order and its stored body, except what this
 * connection frames itself (Content-Length, Transfer-Encoding, Connection and the other
 * hop-by-hop headers, and those the recorded Connection header names), Content-Encoding
 * (stored bodies are decoded), and any header whose name is not a token or whose value
 * holds a control character (recorded data is hostile: a CR or LF would split the
 * response). X-Reqlog-Mock-Id and X-Reqlog-Mock-Match say which call answered and how
 * (recorded X-Reqlog-Mock-* headers, from a mock's recorded answers, are not copied). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mock_int.h"

/* Headers this server's own framing decides, never copied from the recording. */
static const char *const framing[] = {
  "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding",
  "Upgrade", "Content-Length", "Content-Encoding", NULL};

/* Non-zero when NAME is one of the comma-separated names of the Connection header
 * value LIST (may be NULL). */
static int listed(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *p = list; p && *p;) {
    p += strspn(p, " \t,");
    size_t len = strcspn(p, " \t,");
    if (len == n && strncasecmp(p, name, n) == 0)
      return 1;
    p += len;
  }
  return 0;
}

static int value_safe(const char *v) {
  for (const unsigned char *p = (const unsigned char *)v; *p; p++)
    if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
      return 0;
  return 1;
}

static int served(const reqlog_mock_call *call, const reqlog_mock_header *h) {
  if (!reqlog_is_token(h->name) || !value_safe(h->value))
    return 0;
  if (strncasecmp(h->name, "X-Reqlog-Mock-", 14) == 0)
    return 0; /* ours, recorded from a mock: this answer says its own */
  for (size_t i = 0; framing[i]; i++)
    if (strcasecmp(h->name, framing[i]) == 0)
      return 0;
  for (size_t i = 0; i < call->nheaders; i++)
    if (strcasecmp(call->headers[i].name, "Connection") == 0 &&
        listed(call->headers[i].value, h->name))
      return 0;
  return 1;
}

static const char *kind_name(reqlog_mock_match_kind kind) {
  return kind == REQLOG_MOCK_EXACT ? "exact" : kind == REQLOG_MOCK_TEMPLATE ? "template"
                                                                             : "none";
}

enum MHD_Result mockd_reply_call(struct MHD_Connection *conn, const reqlog_mock_call *call,
                                 reqlog_mock_match_kind kind) {
  /* the mock outlives its daemon: the body is served from its memory, not copied */
  struct MHD_Response *resp = MHD_create_response_from_buffer(
    call->body_len, (void *)call->body, MHD_RESPMEM_PERSISTENT);
  if (!resp)
    return MHD_NO;
  int ok = 1;
  for (size_t i = 0; i < call->nheaders && ok; i++)
    if (served(call, &call->headers[i]))
      /* MHD refuses what it frames itself too; such a header is left out */
      (void)MHD_add_response_header(resp, call->headers[i].name, call->headers[i].value);
  char id[32];
  snprintf(id, sizeof id, "%lld", (long long)call->id);
  ok = MHD_add_response_header(resp, "X-Reqlog-Mock-Id", id) == MHD_YES &&
       MHD_add_response_header(resp, "X-Reqlog-Mock-Match", kind_name(kind)) == MHD_YES;
  if (ok && call->body_truncated) {
    char size[32];
    snprintf(size, sizeof size, "%lld", (long long)call->body_size);
    ok = MHD_add_response_header(resp, "X-Reqlog-Mock-Truncated", size) == MHD_YES;
  }
  enum MHD_Result r = ok ? MHD_queue_response(conn, (unsigned)call->status, resp) : MHD_NO;
  MHD_destroy_response(resp);
  return r;
}

/* BODY (taken) as JSON text with STATUS. */
static enum MHD_Result reply_json(struct MHD_Connection *conn, unsigned status, cJSON *body) {
  char *text = body ? cJSON_PrintUnformatted(body) : NULL;
  cJSON_Delete(body);
  if (!text)
    return MHD_NO;
  struct MHD_Response *resp =
    MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
  if (!resp) {
    free(text);
    return MHD_NO;
  }
  enum MHD_Result r = MHD_NO;
  if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json") ==
        MHD_YES &&
      MHD_add_response_header(resp, "X-Reqlog-Mock-Match", "none") == MHD_YES &&
      MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") == MHD_YES)
    r = MHD_queue_response(conn, status, resp);
  MHD_destroy_response(resp);
  return r;
}

enum MHD_Result mockd_reply_message(struct MHD_Connection *conn, unsigned status,
                                    const char *message) {
  cJSON *o = cJSON_CreateObject();
  if (o && !cJSON_AddStringToObject(o, "message", message)) {
    cJSON_Delete(o);
    o = NULL;
  }
  return reply_json(conn, status, o);
}

/* The N closest calls, as many as a reader takes in at a glance. */
enum { CLOSEST_MAX = 5 };

/* The members of the 404's "closest" items: which call, and what it was. */
static int add_call(cJSON *list, const reqlog_mock_call *call) {
  cJSON *c = cJSON_CreateObject();
  if (!c || !cJSON_AddItemToArray(list, c)) {
    cJSON_Delete(c);
    return 0;
  }
  return cJSON_AddNumberToObject(c, "id", (double)call->id) &&
         cJSON_AddStringToObject(c, "method", call->method) &&
         cJSON_AddStringToObject(c, "path", call->path) &&
         cJSON_AddStringToObject(c, "url", call->url) &&
         cJSON_AddNumberToObject(c, "status", call->status);
}

enum MHD_Result mockd_reply_none(struct MHD_Connection *conn, const reqlog_mock *m,
                                 const reqlog_mock_request *req) {
  const reqlog_mock_call *near[CLOSEST_MAX];
  size_t n = reqlog_mock_closest(m, req, near, CLOSEST_MAX);
  /* the message first, as the API's error bodies have it */
  cJSON *o = cJSON_CreateObject();
  int ok = o && cJSON_AddStringToObject(o, "message", "No recorded call matches this request.");
  cJSON *request = ok ? cJSON_AddObjectToObject(o, "request") : NULL;
  ok = request && cJSON_AddStringToObject(request, "method", req->method) &&
       cJSON_AddStringToObject(request, "path", req->path) &&
       (req->query ? cJSON_AddStringToObject(request, "query", req->query)
                   : cJSON_AddNullToObject(request, "query"));
  cJSON *closest = ok ? cJSON_AddArrayToObject(o, "closest") : NULL;
  ok = closest != NULL;
  for (size_t i = 0; i < n && ok; i++)
    ok = add_call(closest, near[i]);
  if (!ok) {
    cJSON_Delete(o);
    return MHD_NO;
  }
  return reply_json(conn, MHD_HTTP_NOT_FOUND, o);
}
