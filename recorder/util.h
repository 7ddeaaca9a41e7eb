/* util.h: small helpers shared inside the library: clock, string copies, error causes. */
#ifndef REQLOG_UTIL_H
#define REQLOG_UTIL_H

#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>
#include <openssl/types.h>
#include "reqlog.h"

/* Wall-clock time, Unix microseconds (UTC). */
int64_t util_now_us(void);
/* Monotonic clock, microseconds. */
int64_t util_mono_us(void);

/* Sets *cause (when CAUSE is not NULL) to a malloc'd printf-formatted message and returns
 * ERR, so error paths read `return util_fail(cause, REQLOG_ERR_ARG, "bad %s", x);`. */
reqlog_err util_fail(char **cause, reqlog_err err, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

/* strdup that accepts NULL (returns NULL). */
char *util_strdup(const char *s);
/* malloc'd copy of LEN bytes plus a NUL. NULL on out of memory. */
char *util_strndup(const char *s, size_t len);

/* The value of header NAME (case-insensitive) in the header block BLOCK ("Name: value"
 * lines ending in CRLF or LF; a request or status line never matches) copied into OUT
 * (cut to OUTLEN - 1 bytes), leading blanks skipped. Returns 1 when found; otherwise 0
 * with OUT empty. BLOCK may be NULL. */
int util_header_value(const char *block, const char *name, char *out, size_t outlen);

/* The value of hex digit C (either case), or -1 when C is not one. */
int util_hex_value(int c);

/* SHA-256, fetched from OpenSSL once per process: EVP_sha256() alone makes every digest
 * look the algorithm up again, which costs more than hashing a small body. */
const EVP_MD *util_sha256_md(void);
/* The SHA-256 of the N bytes at P into OUT. Returns 0, or -1 when OpenSSL fails. */
int util_sha256(const void *p, size_t n, unsigned char out[32]);

/* Formats Unix microseconds as "2026-11-27T21:04:05.123456Z" into OUT (at least 32 bytes). */
void util_format_time(int64_t us, char out[32]);

#endif
