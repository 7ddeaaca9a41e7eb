/* dynbuf.h: the library's growable byte buffer with a hard cap. The cap is given at
 * init; an append that would pass it fails with REQLOG_ERR_FULL and leaves the buffer
 * as it was: never a silent truncation. The bytes are always followed by a NUL, so a
 * buffer of text is a C string. */
#ifndef REQLOG_DYNBUF_H
#define REQLOG_DYNBUF_H

#include <stddef.h>
#include "reqlog.h"

typedef struct dynbuf {
  char *data;   /* LEN bytes and a NUL; NULL while nothing was ever added */
  size_t len;
  size_t cap;   /* bytes allocated (room for LEN, more bytes and the NUL) */
  size_t max;   /* the most bytes it may hold, the NUL not counted */
} dynbuf;

/* An empty buffer that may hold up to MAX bytes. */
void dynbuf_init(dynbuf *b, size_t max);

/* Room for N more bytes and a NUL after LEN; the caller may write them at DATA + LEN
 * and then call dynbuf_grew(). Returns REQLOG_OK, REQLOG_ERR_FULL when LEN + N would
 * pass the cap, or REQLOG_ERR_NOMEM; on error B is unchanged. */
reqlog_err dynbuf_reserve(dynbuf *b, size_t n);

/* Counts N bytes the caller wrote into reserved room, and puts the NUL after them. */
void dynbuf_grew(dynbuf *b, size_t n);

/* Appends the N bytes at P (errors as dynbuf_reserve(), B unchanged on error). */
reqlog_err dynbuf_add(dynbuf *b, const void *p, size_t n);
/* Appends the NUL-terminated S. */
reqlog_err dynbuf_add_str(dynbuf *b, const char *s);

/* Empties B, keeping its memory and its cap. */
void dynbuf_clear(dynbuf *b);

/* Hands the bytes (malloc'd, NUL-terminated; NULL when nothing was ever added) to the
 * caller and empties B. */
char *dynbuf_take(dynbuf *b);

void dynbuf_free(dynbuf *b);

#endif
