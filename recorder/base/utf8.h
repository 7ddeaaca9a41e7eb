/* utf8.h: the one UTF-8 checker of the library: how much of a byte string is UTF-8 (with
 * the rules a caller asks for), whether all of it is, whether it is printable, and how
 * many characters it holds. */
#ifndef REQLOG_BASE_UTF8_H
#define REQLOG_BASE_UTF8_H

#include <stddef.h>

/* What utf8_scan rejects or forgives, or-ed together. Without UTF8_STRICT only the shape
 * of each sequence is checked (a lead byte of 2 to 4 bytes, then continuation bytes):
 * overlong forms, surrogates and code points above U+10FFFF pass, as they always have in
 * a key fingerprint's tail and a Basic user name (changing that would change stored
 * fingerprints). */
enum {
  UTF8_STRICT = 1,     /* reject overlong forms, surrogates and code points > U+10FFFF */
  UTF8_NO_NUL = 2,     /* reject a NUL byte */
  UTF8_NO_CONTROL = 4, /* reject ASCII controls (0x00-0x1F and 0x7F) */
  UTF8_ALLOW_CUT = 8,  /* a sequence cut at the end ends the text instead of failing it */
};

/* Returned by utf8_scan when the text fails. */
#define UTF8_INVALID ((size_t)-1)

/* The length of P[0..N) that is UTF-8 under FLAGS: N when all of it is, the offset of a
 * sequence cut at the end with UTF8_ALLOW_CUT (the whole last sequence is dropped once
 * its lead byte is fewer than its length from the end), else UTF8_INVALID. */
size_t utf8_scan(const unsigned char *p, size_t n, unsigned flags);

/* Non-zero when P[0..N) is UTF-8 under UTF8_STRICT (NUL bytes allowed). */
int utf8_valid(const unsigned char *p, size_t n);

/* Non-zero when P[0..N) is UTF-8 by shape only and holds no ASCII control: what may be
 * shown as is of a key's tail or a Basic user name. */
int utf8_printable(const unsigned char *p, size_t n);

/* Characters in P[0..N): the bytes that are not UTF-8 continuation bytes (10xxxxxx). */
size_t utf8_chars(const char *p, size_t n);

/* Non-zero when byte C is a UTF-8 continuation byte (it starts no character). */
int utf8_is_cont(unsigned char c);

#endif
