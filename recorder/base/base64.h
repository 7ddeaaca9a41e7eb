/* base64.h: standard base64 (RFC 4648, with padding) of bytes, the one encoder of the
 * row model's binary bodies and of every text format that carries them. */
#ifndef REQLOG_BASE_BASE64_H
#define REQLOG_BASE_BASE64_H

#include <stddef.h>

/* The base64 of the N bytes at IN, written to OUT, which holds at least BASE64_LEN(N)
 * bytes; no NUL is written. Returns the length written. Encoding in pieces whose
 * lengths are multiples of 3 gives the same text as one call. */
#define BASE64_LEN(n) (((n) + 2) / 3 * 4)
size_t base64_encode(const unsigned char *in, size_t n, char *out);

#endif
