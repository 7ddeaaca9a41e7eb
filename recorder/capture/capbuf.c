/* capbuf.c: capped body buffer with streamed SHA-256 past the cap (see capbuf.h). */
#include "capture/capbuf.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

void capbuf_init(capbuf *b, size_t limit) {
  memset(b, 0, sizeof *b);
  b->limit = limit;
}

void capbuf_lend(capbuf *b, void *buf, size_t n) {
  if (b->data || !buf)
    return;
  b->data = buf;
  b->alloc = n < b->limit ? n : b->limit;
  b->lent = 1;
}

static int grow(capbuf *b, size_t need) {
  if (need <= b->alloc)
    return 0;
  size_t n = b->alloc ? b->alloc * 2 : 1024;
  while (n < need)
    n *= 2;
  if (n > b->limit)
    n = b->limit;
  unsigned char *p = b->lent ? malloc(n) : realloc(b->data, n);
  if (!p)
    return -1;
  if (b->lent) {
    memcpy(p, b->data, b->len);
    b->lent = 0;
  }
  b->data = p;
  b->alloc = n;
  return 0;
}

/* Starts the streamed digest over what is kept so far: called once, when the body
 * first passes the cap. */
static void start_stream(capbuf *b) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (!ctx || EVP_DigestInit_ex(ctx, util_sha256_md(), NULL) != 1) {
    EVP_MD_CTX_free(ctx);
    b->oom = 1;
    return;
  }
  if (b->len)
    EVP_DigestUpdate(ctx, b->data, b->len);
  b->sha = ctx;
}

void capbuf_append(capbuf *b, const void *p, size_t len) {
  if (!len)
    return;
  const unsigned char *src = p;
  size_t room = b->len < b->limit ? b->limit - b->len : 0;
  size_t keep = len < room ? len : room;
  if (keep && !b->oom) {
    if (grow(b, b->len + keep) == 0) {
      memcpy(b->data + b->len, src, keep);
      b->len += keep;
    } else {
      b->oom = 1;
    }
  }
  if (keep < len) {
    if (!b->truncated) {
      /* first byte past the cap: the digest starts over what is kept, which already
       * includes this chunk's first KEEP bytes */
      b->truncated = 1;
      if (!b->oom)
        start_stream(b);
    }
    if (b->sha)
      EVP_DigestUpdate(b->sha, src + keep, len - keep);
  }
  b->total += len;
}

void capbuf_finish(capbuf *b) {
  if (b->have_digest || !b->sha)
    return;
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(b->sha, b->digest, &n) == 1 && n == 32)
    b->have_digest = 1;
  EVP_MD_CTX_free(b->sha);
  b->sha = NULL;
}

void capbuf_reset(capbuf *b) {
  size_t limit = b->limit;
  capbuf_free(b);
  capbuf_init(b, limit);
}

void capbuf_free(capbuf *b) {
  if (b->sha)
    EVP_MD_CTX_free(b->sha);
  if (!b->lent)
    free(b->data);
  memset(b, 0, sizeof *b);
}

void capbuf_hex_digest(const capbuf *b, char out[65]) {
  unsigned char d[32];
  out[0] = '\0';
  if (b->have_digest) {
    memcpy(d, b->digest, sizeof d);
  } else if (b->total > 0 && !b->truncated && !b->oom && b->len == b->total) {
    /* a body within the cap is hashed here, on the writer thread, not while recording */
    if (util_sha256(b->data, b->len, d) != 0)
      return;
  } else {
    return;
  }
  util_hex_encode(d, sizeof d, out);
}
