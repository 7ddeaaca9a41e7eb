/* har_text.c: the text of a HAR import: header blocks and form bodies built on a capped
 * dynbuf (one error sticks, looked at once), and base64 text decoded into a body. */
#include "capture/har_text.h"

#include <string.h>

#include "base/base64.h"

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

static void to_capbuf(void *ctx, const unsigned char *p, size_t n) {
  capbuf_append(ctx, p, n);
}

/* Decodes base64 TEXT (standard or URL-safe alphabet, padding optional, white space
 * ignored) into B. Returns 0, or -1 when TEXT is not base64. */
int har_text_base64(capbuf *b, const char *text) {
  return base64_decode(text, to_capbuf, b);
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
