/* har_text.c: the text of a HAR import: header blocks and form bodies built on a capped
 * dynbuf (one error sticks, looked at once), and base64 text decoded into a body. */
#include "capture/har_text.h"

#include <string.h>

#define HAR_TEXT_MAX ((size_t)HAR_MAX_BYTES * 4) /* more than any text a HAR file gives */

void har_text_init(har_text *b) {
  dynbuf_init(&b->d, HAR_TEXT_MAX);
  b->err = REQLOG_OK;
}

void har_text_add(har_text *b, const char *s, size_t n) {
  if (b->err == REQLOG_OK)
    b->err = dynbuf_add(&b->d, s, n);
}

void har_text_str(har_text *b, const char *s) {
  har_text_add(b, s, strlen(s));
}

/* S with CR, LF and other control characters as spaces: one header line stays one. */
void har_text_line_safe(har_text *b, const char *s) {
  while (*s) {
    size_t n = 0;
    while (s[n] && (unsigned char)s[n] >= 0x20 && s[n] != 0x7f)
      n++;
    har_text_add(b, s, n);
    s += n;
    if (*s) {
      har_text_add(b, " ", 1);
      s++;
    }
  }
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

/* Decodes base64 TEXT (standard or URL-safe alphabet, padding optional, white space
 * ignored) into B. Returns 0, or -1 when TEXT is not base64. */
int har_text_base64(capbuf *b, const char *text) {
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
        capbuf_append(b, out, n);
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
  capbuf_append(b, out, n);
  return 0;
}

/* S form-encoded (application/x-www-form-urlencoded) onto B. */
void har_text_form(har_text *b, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    char enc[3];
    if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
        strchr("-._~", ch)) {
      har_text_add(b, s, 1);
    } else if (ch == ' ') {
      har_text_add(b, "+", 1);
    } else {
      enc[0] = '%';
      enc[1] = hex[ch >> 4];
      enc[2] = hex[ch & 15];
      har_text_add(b, enc, 3);
    }
  }
}
