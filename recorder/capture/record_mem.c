/* record_mem.c: allocating and freeing a record, apart from privacy/prepare.c (the
 * redaction of a record into row values) so the exec shim can link it without cJSON or
 * the redactor. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/record.h"

record *record_new_slab(size_t cap, size_t slab) {
  record *r = malloc(sizeof *r + slab);
  if (!r)
    return NULL;
  memset(r, 0, sizeof *r); /* the slab is handed out as it is */
  capbuf_init(&r->req_body, cap);
  capbuf_init(&r->resp_body, cap);
  r->attempt = 1;
  if (slab) {
    r->slab = (char *)(r + 1);
    r->slab_cap = slab;
  }
  return r;
}

record *record_new(size_t cap) {
  return record_new_slab(cap, 0);
}

void *record_slab_take(record *r, size_t n) {
  size_t a = (n + 7) & ~(size_t)7; /* keeps the next piece 8-byte aligned */
  if (a < n || r->slab_cap - r->slab_len < a)
    return NULL;
  void *p = r->slab + r->slab_len;
  r->slab_len += a;
  return p;
}

void *record_alloc(record *r, size_t n) {
  void *p = record_slab_take(r, n);
  return p ? p : malloc(n ? n : 1);
}

char *record_strndup(record *r, const char *s, size_t n) {
  char *p = n + 1 > n ? record_alloc(r, n + 1) : NULL;
  if (p) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

static int in_slab(const record *r, const void *p) {
  uintptr_t a = (uintptr_t)p, lo = (uintptr_t)r->slab;
  return r->slab && a >= lo && a < lo + r->slab_cap;
}

/* Frees P unless it is part of R's slab. */
static void release(const record *r, void *p) {
  if (p && !in_slab(r, p))
    free(p);
}

size_t record_mem_bytes(const record *r) {
  size_t n = sizeof *r + r->slab_cap;
  if (!r->req_body.lent)
    n += r->req_body.alloc;
  if (!r->resp_body.lent)
    n += r->resp_body.alloc;
  return n;
}

void record_free(record *r) {
  if (!r)
    return;
  release(r, r->method);
  release(r, r->url);
  release(r, r->req_head);
  release(r, r->resp_head);
  capbuf_free(&r->req_body); /* a body buffer lent from the slab is not freed */
  capbuf_free(&r->resp_body);
  release(r, r->error);
  release(r, r->content_type);
  release(r, r->http_version);
  release(r, r->remote_ip);
  release(r, r->origin);
  free(r);
}
