/* utf8.c: UTF-8 checked once for the whole library: one scanner whose flags say how strict
 * to be (shape only or full RFC 3629, NUL and controls, a sequence cut at the end), and
 * the small questions the callers ask built on it (valid, printable, characters). */
#include "base/utf8.h"

#include <stdint.h>

int utf8_is_cont(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

/* The number of continuation bytes after lead byte C and the lead's own bits in *CP, or
 * -1 when C leads no sequence (a continuation byte, or 0xF8 and above). */
static int lead_length(unsigned char c, uint32_t *cp) {
  if ((c & 0xE0) == 0xC0) {
    *cp = c & 0x1F;
    return 1;
  }
  if ((c & 0xF0) == 0xE0) {
    *cp = c & 0x0F;
    return 2;
  }
  if ((c & 0xF8) == 0xF0) {
    *cp = c & 0x07;
    return 3;
  }
  return -1;
}

/* Non-zero when code point CP written in K+1 bytes breaks RFC 3629: an overlong form, a
 * surrogate, or beyond U+10FFFF. */
static int out_of_rule(uint32_t cp, int k) {
  return (k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
         cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF);
}

/* Non-zero when the ASCII byte C is refused under FLAGS. */
static int ascii_refused(unsigned char c, unsigned flags) {
  if ((flags & UTF8_NO_CONTROL) && (c < 0x20 || c == 0x7F))
    return 1;
  return (flags & UTF8_NO_NUL) && c == 0;
}

size_t utf8_scan(const unsigned char *p, size_t n, unsigned flags) {
  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      if (ascii_refused(c, flags))
        return UTF8_INVALID;
      i++;
      continue;
    }
    uint32_t cp = 0;
    int k = lead_length(c, &cp);
    if (k < 0)
      return UTF8_INVALID;
    if (i + (size_t)k >= n) /* the sequence runs past the end */
      return (flags & UTF8_ALLOW_CUT) ? i : UTF8_INVALID;
    for (int j = 1; j <= k; j++) {
      if (!utf8_is_cont(p[i + j]))
        return UTF8_INVALID;
      cp = (cp << 6) | (p[i + j] & 0x3F);
    }
    if ((flags & UTF8_STRICT) && out_of_rule(cp, k))
      return UTF8_INVALID;
    i += (size_t)k + 1;
  }
  return n;
}

int utf8_valid(const unsigned char *p, size_t n) {
  return utf8_scan(p, n, UTF8_STRICT) == n;
}

int utf8_printable(const unsigned char *p, size_t n) {
  return utf8_scan(p, n, UTF8_NO_CONTROL) == n;
}

size_t utf8_chars(const char *p, size_t n) {
  size_t chars = 0;
  for (size_t i = 0; i < n; i++)
    chars += !utf8_is_cont((unsigned char)p[i]);
  return chars;
}
