/* base64.h: standard base64 (RFC 4648, with padding) of bytes, the one encoder of the
 * row model's binary bodies and of every text format that carries them, and the one
 * decoder (HAR bodies, the row model's {"base64": ...} bodies read back by the mock). */
#ifndef REQLOG_BASE_BASE64_H
#define REQLOG_BASE_BASE64_H

#include <stddef.h>

/* The base64 of the N bytes at IN, written to OUT, which holds at least BASE64_LEN(N)
 * bytes; no NUL is written. Returns the length written. Encoding in pieces whose
 * lengths are multiples of 3 gives the same text as one call. */
#define BASE64_LEN(n) (((n) + 2) / 3 * 4)
size_t base64_encode(const unsigned char *in, size_t n, char *out);

/* Receives decoded bytes, in pieces. */
typedef void (*base64_sink)(void *ctx, const unsigned char *p, size_t n);

/* Decodes the base64 TEXT (NUL-terminated; standard or URL-safe alphabet, padding
 * optional, white space ignored) into SINK, in pieces of at most a few KiB. Returns 0,
 * or -1 when TEXT is not base64 (SINK may have had the bytes before the fault). At
 * most BASE64_DECODED_MAX(strlen(TEXT)) bytes come out. */
#define BASE64_DECODED_MAX(n) ((n) / 4 * 3 + 3)
int base64_decode(const char *text, base64_sink sink, void *ctx);

#endif
