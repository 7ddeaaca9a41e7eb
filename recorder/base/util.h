/* util.h: small helpers shared inside the library: clock, string copies, error causes. */
#ifndef REQLOG_UTIL_H
#define REQLOG_UTIL_H

#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>
#include <time.h>
#include <openssl/types.h>
#include "reqlog.h"

/* Wall-clock time, Unix microseconds (UTC). */
int64_t util_now_us(void);
/* Monotonic clock, microseconds. */
int64_t util_mono_us(void);
/* The time WAIT_US microseconds from now on CLOCK, as pthread_cond_timedwait() takes it
 * (CLOCK_REALTIME for a condition variable made without attributes). */
struct timespec util_deadline(clockid_t clock, int64_t wait_us);

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

/* Non-zero when C is an RFC 9110 tchar: a letter, a digit or one of !#$%&'*+-.^_`|~. */
int util_is_tchar(int c);
/* Non-zero when S is an RFC 9110 token (one tchar or more), what an HTTP method and a
 * header name must be. NULL is not. The one check of this kind: use it, do not copy it. */
int util_is_token(const char *s);
/* The longest method reqlog sends or stores, in bytes. */
#define UTIL_METHOD_MAX 64
/* Non-zero when S is a token of at most UTIL_METHOD_MAX bytes. */
int util_is_method(const char *s);

/* Length of the RFC 3986 scheme that starts S (a letter, then letters, digits, + - .)
 * when a ':' follows it; 0 when S does not start with "scheme:". */
size_t util_url_scheme_len(const char *s);
/* Non-zero when the N bytes at SCHEME are "http" or "https", in any case. */
int util_scheme_is_http(const char *scheme, size_t n);

/* What libcurl reads in the absolute URL URL. Returns 0 when it is an http or https URL,
 * with its origin "scheme://host:port" (lower case, the default port filled in) in
 * ORIGIN (ORIGIN_LEN bytes); -2 when its scheme is another one (copied, cut to 15 bytes,
 * into SCHEME); -1 when libcurl cannot read it (or ORIGIN is too short). */
int util_http_origin(const char *url, char *origin, size_t origin_len, char scheme[16]);

/* The value of hex digit C (either case), or -1 when C is not one. */
int util_hex_value(int c);
/* The 64-bit FNV-1a hash of the N bytes at P, going on from H (UTIL_FNV_SEED to begin):
 * the one hash of the library's own hash tables (stats' keys, the mock's requests). */
#define UTIL_FNV_SEED UINT64_C(14695981039346656037)
uint64_t util_fnv(uint64_t h, const void *p, size_t n);

/* P[0..N) form-decoded: '+' a space, %XX the byte XX, except %00 and a '%' without two
 * hex digits after it, kept as written (the result holds no NUL of its own). malloc'd
 * and NUL-terminated, its length in *LEN when LEN is not NULL; NULL when out of memory.
 * The one decoder of query strings and form bodies: use it, do not copy it. */
char *util_form_decode(const char *p, size_t n, size_t *len);
/* The N bytes at P as lower-case hex into OUT (2 * N + 1 bytes: a NUL ends it). The one
 * hex writer of the library: use it, do not copy it. */
void util_hex_encode(const unsigned char *p, size_t n, char *out);

/* SHA-256, fetched from OpenSSL once per process: EVP_sha256() alone makes every digest
 * look the algorithm up again, which costs more than hashing a small body. */
const EVP_MD *util_sha256_md(void);
/* The SHA-256 of the N bytes at P into OUT. Returns 0, or -1 when OpenSSL fails. */
int util_sha256(const void *p, size_t n, unsigned char out[32]);

/* The longest origin (the name of the host or service that recorded a call), in bytes. */
#define UTIL_ORIGIN_MAX 255
/* Non-zero when S can be an origin: 1 to UTIL_ORIGIN_MAX bytes of UTF-8 with no control
 * character and no blank at either end. */
int util_is_origin(const char *s);
/* This host's name as an origin into OUT (OUTLEN bytes): gethostname(), or "localhost"
 * when it has none that util_is_origin() accepts. */
void util_host_origin(char *out, size_t outlen);

/* Formats Unix microseconds as "2026-11-27T21:04:05.123456Z" into OUT (at least 32 bytes). */
void util_format_time(int64_t us, char out[32]);

#endif
