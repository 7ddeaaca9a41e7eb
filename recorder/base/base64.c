/* base64.c: standard base64 (RFC 4648, with padding) of bytes into a caller's buffer, and
 * base64 text (either alphabet, padding optional) back into bytes. */
#include "base/base64.h"

#include <stdint.h>

static const char alphabet[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encode(const unsigned char *in, size_t n, char *out) {
  char *o = out;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    o[0] = alphabet[v >> 18];
    o[1] = alphabet[(v >> 12) & 63];
    o[2] = alphabet[(v >> 6) & 63];
    o[3] = alphabet[v & 63];
    o += 4;
  }
  if (i < n) {
    uint32_t v = (uint32_t)in[i] << 16;
    if (i + 1 < n)
      v |= (uint32_t)in[i + 1] << 8;
    o[0] = alphabet[v >> 18];
    o[1] = alphabet[(v >> 12) & 63];
    o[2] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
    o[3] = '=';
    o += 4;
  }
  return (size_t)(o - out);
}

static int b64_value(unsigned char ch) {
  if (ch >= 'A' && ch <= 'Z')
    return ch - 'A';
  if (ch >= 'a' && ch <= 'z')
    return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9')
    return ch - '0' + 52;
  if (ch == '+' || ch == '-')
    return 62;
  if (ch == '/' || ch == '_')
    return 63;
  return -1;
}

int base64_decode(const char *text, base64_sink sink, void *ctx) {
  unsigned char out[3072];
  size_t n = 0;
  uint32_t acc = 0;
  int have = 0, pad = 0;
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
      continue;
    if (*p == '=') {
      pad++;
      continue;
    }
    int v = b64_value(*p);
    if (v < 0 || pad)
      return -1; /* not base64, or data after the padding */
    acc = acc << 6 | (uint32_t)v;
    if (++have == 4) {
      out[n++] = (unsigned char)(acc >> 16);
      out[n++] = (unsigned char)(acc >> 8);
      out[n++] = (unsigned char)acc;
      have = 0;
      acc = 0;
      if (n == sizeof out) {
        sink(ctx, out, n);
        n = 0;
      }
    }
  }
  if (have == 1 || pad > 2 || (pad && (have + pad) % 4 != 0))
    return -1;
  if (have == 2) {
    out[n++] = (unsigned char)(acc >> 4);
  } else if (have == 3) {
    out[n++] = (unsigned char)(acc >> 10);
    out[n++] = (unsigned char)(acc >> 2);
  }
  if (n)
    sink(ctx, out, n);
  return 0;
}
