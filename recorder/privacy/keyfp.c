/* keyfp.c: the fingerprint that stands for an API key in stored rows (docs/design.md §4):
 * "…abcd#3f2a9c1e", enough to tell keys apart and filter by key, never enough to use one. */
#include "reqlog.h"

#include <stdio.h>
#include <string.h>

#include "privacy/redact.h"
#include "base/util.h"

/* Keys shorter than this many characters show no tail: four of eleven characters would
 * give away too much of a short secret. */
#define FP_MIN_CHARS 12
#define FP_TAIL_CHARS 4
#define FP_TAIL_MAX_BYTES 16 /* four UTF-8 characters */

/* Non-zero when P[0..N) is valid UTF-8 without control characters. Shared with
 * redact_basic.c (redact.h): a key's tail and a Basic user name are stored as text and
 * shown as is only when this holds. */
int redact_printable_utf8(const unsigned char *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    size_t k;
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f)
        return 0;
      i++;
      continue;
    }
    if ((c & 0xE0) == 0xC0)
      k = 1;
    else if ((c & 0xF0) == 0xE0)
      k = 2;
    else if ((c & 0xF8) == 0xF0)
      k = 3;
    else
      return 0;
    if (i + k >= n) /* the sequence runs past the end */
      return 0;
    for (size_t j = 1; j <= k; j++)
      if ((p[i + j] & 0xC0) != 0x80)
        return 0;
    i += k + 1;
  }
  return 1;
}

/* Non-zero when a key's tail P[0..N) can be shown in its fingerprint: printable, and
 * without space or '#', so that the fingerprint reads back as one (redact.c's
 * is_fingerprint: a re-imported export keeps its key). */
static int tail_showable(const unsigned char *p, size_t n) {
  return redact_printable_utf8(p, n) && !memchr(p, ' ', n) && !memchr(p, '#', n);
}

void reqlog_key_fingerprint(const char *key, char out[48]) {
  if (!key)
    key = "";
  const unsigned char *k = (const unsigned char *)key;
  size_t len = strlen(key);

  unsigned char md[32];
  if (util_sha256(key, len, md) != 0)
    memset(md, 0, sizeof md); /* cannot happen with the default provider */

  /* Characters, not bytes: a UTF-8 continuation byte does not start one. */
  size_t chars = 0;
  for (size_t i = 0; i < len; i++)
    if ((k[i] & 0xC0) != 0x80)
      chars++;

  size_t tail = len; /* the tail is key[tail..len) */
  if (chars >= FP_MIN_CHARS) {
    size_t seen = 0;
    while (tail > 0 && seen < FP_TAIL_CHARS && len - tail < FP_TAIL_MAX_BYTES) {
      tail--;
      if ((k[tail] & 0xC0) != 0x80)
        seen++;
    }
    if (seen < FP_TAIL_CHARS || !tail_showable(k + tail, len - tail))
      tail = len;
  }

  snprintf(out, 48, "\xE2\x80\xA6%.*s#%02x%02x%02x%02x", (int)(len - tail), key + tail,
           md[0], md[1], md[2], md[3]);
}
