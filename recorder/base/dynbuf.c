/* dynbuf.c: the growable byte buffer with a hard cap (see dynbuf.h). */
#include "base/dynbuf.h"

#include <stdlib.h>
#include <string.h>

#define DYNBUF_FIRST 1024 /* the first allocation, unless the first need is larger */

void dynbuf_init(dynbuf *b, size_t max) {
  memset(b, 0, sizeof b[0]);
  b->max = max < SIZE_MAX ? max : SIZE_MAX - 1;
}

reqlog_err dynbuf_reserve(dynbuf *b, size_t n) {
  if (n > b->max - b->len)
    return REQLOG_ERR_FULL;
  size_t need = b->len + n + 1; /* cannot overflow: len + n <= max < SIZE_MAX */
  if (need <= b->cap)
    return REQLOG_OK;
  /* doubling, or just what is needed when doubling is not enough; never past the cap */
  size_t cap = DYNBUF_FIRST;
  if (b->cap)
    cap = b->cap <= SIZE_MAX / 2 ? b->cap * 2 : SIZE_MAX;
  if (cap < need)
    cap = need;
  if (cap - 1 > b->max)
    cap = b->max + 1;
  char *p = realloc(b->data, cap);
  if (!p)
    return REQLOG_ERR_NOMEM;
  if (!b->data)
    p[0] = '\0';
  b->data = p;
  b->cap = cap;
  return REQLOG_OK;
}

void dynbuf_grew(dynbuf *b, size_t n) {
  b->len += n;
  b->data[b->len] = '\0';
}

reqlog_err dynbuf_add(dynbuf *b, const void *p, size_t n) {
  reqlog_err err = dynbuf_reserve(b, n);
  if (err != REQLOG_OK)
    return err;
  if (n)
    memcpy(b->data + b->len, p, n);
  dynbuf_grew(b, n);
  return REQLOG_OK;
}

reqlog_err dynbuf_add_str(dynbuf *b, const char *s) {
  return dynbuf_add(b, s, strlen(s));
}

void dynbuf_clear(dynbuf *b) {
  b->len = 0;
  if (b->data)
    b->data[0] = '\0';
}

char *dynbuf_take(dynbuf *b) {
  char *p = b->data;
  b->data = NULL;
  b->len = b->cap = 0;
  return p;
}

void dynbuf_free(dynbuf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}
