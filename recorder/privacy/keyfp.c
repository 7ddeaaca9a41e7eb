/* keyfp.c: the fingerprint that stands for an API key in stored rows (docs/design.md §4):
 * "…abcd#3f2a9c1e", enough to tell keys apart and filter by key, never enough to use one. */
#include "reqlog.h"

#include <stdio.h>
#include <string.h>

#include "privacy/redact.h"
#include "base/utf8.h"
#include "base/util.h"

/* Keys shorter than this many characters show no tail: four of eleven characters would
 * give away too much of a short secret. */
#define FP_MIN_CHARS 12
#define FP_TAIL_CHARS 4
#define FP_TAIL_MAX_BYTES 16 /* four UTF-8 characters */

/* Non-zero when a key's tail P[0..N) can be shown in its fingerprint: printable, and
 * without space or '#', so that the fingerprint reads back as one (redact.c's
 * is_fingerprint: a re-imported export keeps its key). */
static int tail_showable(const unsigned char *p, size_t n) {
  return utf8_printable(p, n) && !memchr(p, ' ', n) && !memchr(p, '#', n);
}

void reqlog_key_fingerprint(const char *key, char out[48]) {
  if (!key)
    key = "";
  const unsigned char *k = (const unsigned char *)key;
  size_t len = strlen(key);

  unsigned char md[32];
  if (util_sha256(key, len, md) != 0)
    memset(md, 0, sizeof md); /* cannot happen with the default provider */

  size_t chars = utf8_chars(key, len); /* characters, not bytes */

  size_t tail = len; /* the tail is key[tail..len) */
  if (chars >= FP_MIN_CHARS) {
    size_t seen = 0;
    while (tail > 0 && seen < FP_TAIL_CHARS && len - tail < FP_TAIL_MAX_BYTES) {
      tail--;
      seen += !utf8_is_cont(k[tail]);
    }
    if (seen < FP_TAIL_CHARS || !tail_showable(k + tail, len - tail))
      tail = len;
  }

  snprintf(out, 48, "\xE2\x80\xA6%.*s#%02x%02x%02x%02x", (int)(len - tail), key + tail,
           md[0], md[1], md[2], md[3]);
}
