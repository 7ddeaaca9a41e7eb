/* proxy_ring.c: the bounded byte buffer each direction of a proxied exchange streams
 * through (the client's body on its way to libcurl, the upstream's on its way to MHD):
 * a fixed-size ring, so a body of any size goes through in bounded memory. */
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy_int.h"

int proxy_ring_alloc(ring *g, size_t cap) {
  g->buf = malloc(cap);
  g->cap = g->buf ? cap : 0;
  return g->buf ? 0 : -1;
}

size_t proxy_ring_room(const ring *g) {
  return g->cap - g->len;
}

size_t proxy_ring_put(ring *g, const void *src, size_t n) {
  const unsigned char *s = src;
  size_t k = n < proxy_ring_room(g) ? n : proxy_ring_room(g);
  size_t tail = (g->head + g->len) % (g->cap ? g->cap : 1);
  size_t first = k < g->cap - tail ? k : g->cap - tail;
  memcpy(g->buf + tail, s, first);
  memcpy(g->buf, s + first, k - first);
  g->len += k;
  return k;
}

size_t proxy_ring_get(ring *g, void *dst, size_t n) {
  unsigned char *d = dst;
  size_t k = n < g->len ? n : g->len;
  size_t first = k < g->cap - g->head ? k : g->cap - g->head;
  memcpy(d, g->buf + g->head, first);
  memcpy(d + first, g->buf, k - first);
  g->head = (g->head + k) % g->cap;
  g->len -= k;
  if (g->len == 0)
    g->head = 0;
  return k;
}
