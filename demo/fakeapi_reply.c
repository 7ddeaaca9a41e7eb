/* fakeapi_reply.c: the reply a route handler fills in, and how it becomes a
 * libmicrohttpd response. Handlers never touch MHD responses themselves, so every JSON
 * answer gets its Content-Type here, in one place. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fakeapi_int.h"

cJSON *fa_message(const char *msg)
{
  cJSON *o = cJSON_CreateObject();
  if (o == NULL || cJSON_AddStringToObject(o, "message", msg) == NULL) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

void fa_reply_json(struct fa_reply *r, unsigned status, cJSON *json)
{
  cJSON_Delete(r->json);
  r->json = json;
  r->status = status;
  if (json == NULL)
    r->oom = true;
}

void fa_reply_message(struct fa_reply *r, unsigned status, const char *msg)
{
  fa_reply_json(r, status, fa_message(msg));
}

void fa_reply_invalid(struct fa_reply *r, const char *field, const char *msg)
{
  cJSON *body = fa_message("The given data was invalid.");
  cJSON *errors = body ? cJSON_AddObjectToObject(body, "errors") : NULL;
  cJSON *list = errors ? cJSON_AddArrayToObject(errors, field) : NULL;
  cJSON *item = list ? cJSON_CreateString(msg) : NULL;
  if (item == NULL) {
    cJSON_Delete(body);
    body = NULL;
  } else {
    cJSON_AddItemToArray(list, item);
  }
  fa_reply_json(r, 422, body);
}

void fa_reply_raw(struct fa_reply *r, unsigned status, const char *content_type,
                  char *raw, size_t len, void (*free_fn)(void *))
{
  if (r->raw != NULL)
    r->raw_free(r->raw);
  r->raw = raw;
  r->raw_free = free_fn;
  r->raw_len = len;
  r->content_type = content_type;
  r->status = status;
}

void fa_reply_header(struct fa_reply *r, const char *name, const char *fmt, ...)
{
  va_list ap;
  char *value = NULL;
  int n;

  if (r->nhdr == FA_MAX_HEADERS) {
    r->oom = true; /* a handler bug; dropping the connection makes it visible */
    return;
  }
  va_start(ap, fmt);
  n = vasprintf(&value, fmt, ap);
  va_end(ap);
  if (n < 0) {
    r->oom = true;
    return;
  }
  r->hdr[r->nhdr].name = name;
  r->hdr[r->nhdr].value = value;
  r->nhdr++;
}

/* A body that is exactly BYTES long: 11 bytes of {"data":""} around BYTES-11 x's. */
char *fa_padded_json(size_t bytes)
{
  char *pad, *out = NULL;
  cJSON *o;

  if (bytes < 11)
    return NULL;
  o = cJSON_CreateObject();
  pad = malloc(bytes - 11 + 1);
  if (o == NULL || pad == NULL)
    goto fail;
  memset(pad, 'x', bytes - 11);
  pad[bytes - 11] = '\0';
  /* A reference, not a copy: the pad may be tens of MiB. */
  if (!cJSON_AddItemToObject(o, "data", cJSON_CreateStringReference(pad)))
    goto fail;
  out = cJSON_PrintUnformatted(o);
  if (out != NULL && strlen(out) != bytes) { /* cJSON changed its layout: say so */
    cJSON_free(out);
    out = NULL;
  }
fail:
  cJSON_Delete(o);
  free(pad);
  return out;
}

/* The body as an MHD response; the response owns whatever buffer it was given. */
static struct MHD_Response *make_response(struct fa_reply *r)
{
  struct MHD_Response *resp;
  char *text;

  if (r->json != NULL) {
    text = cJSON_PrintUnformatted(r->json);
    if (text == NULL)
      return NULL;
    resp = MHD_create_response_from_buffer_with_free_callback(strlen(text), text,
                                                              cJSON_free);
    if (resp == NULL)
      cJSON_free(text);
    else
      MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    return resp;
  }
  if (r->raw == NULL)
    return MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
  resp = MHD_create_response_from_buffer_with_free_callback(r->raw_len, r->raw,
                                                            r->raw_free);
  if (resp == NULL)
    return NULL;
  r->raw = NULL; /* the response frees it now */
  if (r->content_type != NULL)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
  return resp;
}

enum MHD_Result fa_reply_queue(struct fa_reply *r, struct MHD_Connection *conn)
{
  struct MHD_Response *resp;
  enum MHD_Result ret;
  size_t i;

  if (r->drop || r->oom)
    return MHD_NO; /* MHD closes the connection without sending anything */
  if (r->shared != NULL)
    return MHD_queue_response(conn, r->status, r->shared);
  resp = make_response(r);
  if (resp == NULL)
    return MHD_NO;
  for (i = 0; i < r->nhdr; i++) {
    if (MHD_add_response_header(resp, r->hdr[i].name, r->hdr[i].value) != MHD_YES) {
      MHD_destroy_response(resp);
      return MHD_NO;
    }
  }
  ret = MHD_queue_response(conn, r->status, resp);
  MHD_destroy_response(resp); /* MHD keeps its own reference until it is sent */
  return ret;
}

void fa_reply_free(struct fa_reply *r)
{
  size_t i;

  cJSON_Delete(r->json);
  if (r->raw != NULL)
    r->raw_free(r->raw);
  for (i = 0; i < r->nhdr; i++)
    free(r->hdr[i].value);
  memset(r, 0, sizeof *r);
}
