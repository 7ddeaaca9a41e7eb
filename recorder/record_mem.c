/* record_mem.c: allocating and freeing a record, apart from record.c (the redaction of
 * a record into row values) so the exec shim can link it without cJSON or the redactor. */
#include <stdlib.h>

#include "record.h"

record *record_new(size_t cap) {
  record *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  capbuf_init(&r->req_body, cap);
  capbuf_init(&r->resp_body, cap);
  r->attempt = 1;
  return r;
}

void record_free(record *r) {
  if (!r)
    return;
  free(r->method);
  free(r->url);
  free(r->req_head);
  free(r->resp_head);
  capbuf_free(&r->req_body);
  capbuf_free(&r->resp_body);
  free(r->error);
  free(r->content_type);
  free(r->http_version);
  free(r->remote_ip);
  free(r);
}
