/* capbuf.h: a body buffer with a cap. It keeps the first LIMIT bytes, counts every byte
 * it is given, and once the body passes the cap it streams the whole body through
 * SHA-256 so the full size and digest are known without holding the body. */
#ifndef REQLOG_CAPBUF_H
#define REQLOG_CAPBUF_H

#include <stddef.h>
#include <stdint.h>
#include "reqlog.h"

typedef struct capbuf {
  unsigned char *data;  /* the first min(total, limit) bytes; NULL when empty */
  size_t len, alloc;
  size_t limit;
  uint64_t total;       /* every byte appended */
  int truncated;        /* total > limit */
  void *sha;            /* EVP_MD_CTX while streaming past the cap */
  int have_digest;
  unsigned char digest[32];
  int oom;              /* an allocation failed: data holds what fit */
  int lent;             /* data is a buffer capbuf_lend() gave, not capbuf's to free */
} capbuf;

void capbuf_init(capbuf *b, size_t limit);
/* Gives an empty B the buffer BUF of N bytes to fill first (it stays the lender's: B
 * never frees it, and moves to memory of its own if the body outgrows it). */
void capbuf_lend(capbuf *b, void *buf, size_t n);
/* Appends LEN bytes. Never fails loudly: on out of memory it sets b->oom and keeps
 * counting, so the recorded size stays right. */
void capbuf_append(capbuf *b, const void *p, size_t len);
/* Ends the body: finishes the digest streamed past the cap (cheap; bodies within the
 * cap are hashed later by capbuf_hex_digest, off the recording thread). */
void capbuf_finish(capbuf *b);
/* Drops the content, keeping the limit (a new request in a redirect chain). */
void capbuf_reset(capbuf *b);
void capbuf_free(capbuf *b);
/* Lower-case hex of the body's SHA-256 into OUT (65 bytes), computing it for a body
 * within the cap; empty string for an empty body or when it cannot be known. */
void capbuf_hex_digest(const capbuf *b, char out[65]);

#endif
