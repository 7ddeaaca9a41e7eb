/* redact_jsonkey.c: whether a JSON object key names a secret. The key is read as JSON
 * reads it, escapes decoded (\n, \u0077, surrogate pairs), so that "pass\u0077ord" is
 * "password", then looked up in the JSON-key list. */
#include "privacy/redact_int.h"

#include <stdint.h>
#include <string.h>

/* Appends the UTF-8 encoding of CP to BUF (at most CAP bytes). 0 when it does not fit. */
static int put_utf8(char *buf, size_t cap, size_t *m, uint32_t cp) {
  unsigned char u[4];
  size_t k;
  if (cp < 0x80) {
    u[0] = (unsigned char)cp;
    k = 1;
  } else if (cp < 0x800) {
    u[0] = (unsigned char)(0xC0 | (cp >> 6));
    u[1] = (unsigned char)(0x80 | (cp & 0x3F));
    k = 2;
  } else if (cp < 0x10000) {
    u[0] = (unsigned char)(0xE0 | (cp >> 12));
    u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (unsigned char)(0x80 | (cp & 0x3F));
    k = 3;
  } else {
    u[0] = (unsigned char)(0xF0 | (cp >> 18));
    u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (unsigned char)(0x80 | (cp & 0x3F));
    k = 4;
  }
  if (*m + k > cap)
    return 0;
  memcpy(buf + *m, u, k);
  *m += k;
  return 1;
}

/* The 4 hex digits at P (P[0..4) readable), or -1. */
static long hex4(const char *p) {
  long v = 0;
  for (int i = 0; i < 4; i++) {
    int h = ch_hex((unsigned char)p[i]);
    if (h < 0)
      return -1;
    v = v * 16 + h;
  }
  return v;
}

/* The code point of the \u escape whose hex digits start at P[*I] (P[0..N)), with a low
 * surrogate that follows joined to it; *I moves past what was read. -1 when the four
 * digits are not there (then the 'u' stands for itself). */
static long unicode_escape(const char *p, size_t n, size_t *i) {
  long v = *i + 4 <= n ? hex4(p + *i) : -1;
  if (v < 0)
    return -1;
  *i += 4;
  if (v >= 0xD800 && v <= 0xDBFF && *i + 6 <= n && p[*i] == '\\' && p[*i + 1] == 'u') {
    long lo = hex4(p + *i + 2);
    if (lo >= 0xDC00 && lo <= 0xDFFF) {
      v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
      *i += 6;
    }
  }
  return v;
}

/* The code point the escape at P[*I] ('\\' with one more byte readable) stands for;
 * *I moves past it. */
static uint32_t escape_value(const char *p, size_t n, size_t *i) {
  char e = p[*i + 1];
  *i += 2;
  switch (e) {
  case 'b': return '\b';
  case 'f': return '\f';
  case 'n': return '\n';
  case 'r': return '\r';
  case 't': return '\t';
  case 'u': {
    long v = unicode_escape(p, n, i);
    return v < 0 ? (uint32_t)'u' : (uint32_t)v;
  }
  default: return (unsigned char)e; /* \" \\ \/ and unknown escapes: the character */
  }
}

int jsonkey_sensitive(const redactor *rd, const char *p, size_t n) {
  if (!memchr(p, '\\', n))
    return names_listed(rd, NAMES_KEYS, p, n);
  char buf[NAME_MAX_LEN + 1];
  size_t m = 0;
  for (size_t i = 0; i < n;) {
    if (p[i] != '\\' || i + 1 >= n) {
      if (m == sizeof buf)
        return 0;
      buf[m++] = p[i++];
      continue;
    }
    if (!put_utf8(buf, sizeof buf, &m, escape_value(p, n, &i)))
      return 0;
  }
  return names_listed(rd, NAMES_KEYS, buf, m);
}
