/* proxy_frame.h: how an HTTP/1.x answer frames its body and whether its connection goes
 * on, read from the lines of its head: pure functions over bytes, for the proxy's own
 * upstream client (proxy_h1.c). */
#ifndef REQLOG_PROXY_FRAME_H
#define REQLOG_PROXY_FRAME_H
#include <stddef.h>
#include <stdint.h>

/* What an answer's head says of its framing. */
typedef struct proxy_frame {
  int minor;           /* HTTP/1.<minor> */
  int status;
  int cl_seen, cl_bad; /* a Content-Length came; one was not a length or differed */
  uint64_t cl;
  int te_seen, te_chunked; /* Transfer-Encoding came; chunked is its last coding */
  int conn_close, conn_keep; /* the Connection header's close, keep-alive */
} proxy_frame;

/* How the body is framed once the head is complete. */
typedef enum {
  PROXY_BODY_NONE,     /* no body: HEAD, 1xx, 204, 304, or a Content-Length of 0 */
  PROXY_BODY_LENGTH,   /* Content-Length bytes */
  PROXY_BODY_CHUNKED,
  PROXY_BODY_CLOSE,    /* until the upstream closes */
  PROXY_BODY_BAD       /* a Content-Length that is not one length: not to be passed on */
} proxy_body;

/* Starts F from status line L (N bytes, no line end). Returns 0, or -1 when L is not
 * "HTTP/1.0" or "HTTP/1.1", a space, three digits (100-999), then the end or a space. */
int proxy_frame_status(proxy_frame *f, const char *l, size_t n);
/* Adds header line L (N bytes, no line end) to F: Content-Length (digits, or a list of
 * the same digits), Transfer-Encoding, Connection; other fields change nothing. */
void proxy_frame_field(proxy_frame *f, const char *l, size_t n);
/* The body's framing for F's complete head, the request being HEAD when HEAD_REQUEST. */
proxy_body proxy_frame_body(const proxy_frame *f, int head_request);
/* Non-zero when the connection may carry another request after F's answer, whose body
 * (framed as BODY) was read to the end: HTTP/1.1 without close, HTTP/1.0 with
 * keep-alive; never after a body read until close, a Content-Length that was not one
 * length (even where no body was read), or both Transfer-Encoding and Content-Length. */
int proxy_frame_keep(const proxy_frame *f, proxy_body body);
/* The size of chunk-size line L (N bytes, no line end: hex digits, then optional
 * extensions after ';'). Returns 0, or -1 when it has no digits, over 16, or junk. */
int proxy_frame_chunk_size(const char *l, size_t n, uint64_t *size);

#endif
