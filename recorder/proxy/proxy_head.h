/* proxy_head.h: what the recording proxy checks in a request head before it forwards
 * anything (RFC 9110 / RFC 9112 framing), as one pure function: no I/O, no allocation,
 * so it can be unit-tested and fuzzed on its own. */
#ifndef REQLOG_PROXY_HEAD_H
#define REQLOG_PROXY_HEAD_H

#include <stddef.h>

/* One header field as received: NAME and VALUE need not be NUL-terminated. */
typedef struct proxy_hdr {
  const char *name;
  size_t nlen;
  const char *value;
  size_t vlen;
  int folded; /* the line was continued on the next one (obs-fold), as the caller saw it */
} proxy_hdr;

/* Non-zero when S[0..N) is a non-empty RFC 9110 token (1*tchar). */
int proxy_is_token(const char *s, size_t n);

/* Checks METHOD (NUL-terminated) and the header fields H[0..N) of a request:
 *   - the method is a token;
 *   - every field name is a token (so no whitespace before the colon);
 *   - no value holds CR, LF, NUL or another control character than HTAB;
 *   - no field was continued with obs-fold;
 *   - Content-Length is digits, and when repeated, the same number each time;
 *   - Transfer-Encoding is exactly "chunked" (the only coding the proxy decodes), given
 *     once, and not together with a Content-Length;
 *   - at most one Host.
 * Returns 0 when the head may be forwarded; else the status to answer (400, or 501 for a
 * transfer coding the proxy does not implement) with *WHY a static reason. */
int proxy_head_check(const char *method, const proxy_hdr *h, size_t n, const char **why);

#endif
