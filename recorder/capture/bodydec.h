/* bodydec.h: turns a body as it crossed the wire into the body the application sees:
 * removes HTTP/1.1 chunked framing and inflates gzip/deflate Content-Encoding, streaming
 * into a capbuf. Used on libcurl's debug stream, which shows bodies before decoding. */
#ifndef REQLOG_BODYDEC_H
#define REQLOG_BODYDEC_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>
#include "capture/capbuf.h"

typedef struct bodydec {
  capbuf *out;
  int chunked;
  int cstate;           /* chunk parser state */
  uint64_t chunk_left;
  int inflating;        /* 0 none, 1 active, -1 failed (rest passed through raw) */
  z_stream z;
} bodydec;

/* CHUNKED: the message had Transfer-Encoding: chunked. ENCODING: the Content-Encoding
 * value or NULL; gzip, x-gzip and deflate are inflated, anything else is kept as is. */
void bodydec_init(bodydec *d, capbuf *out, int chunked, const char *encoding);
void bodydec_feed(bodydec *d, const char *p, size_t len);
void bodydec_end(bodydec *d);

#endif
