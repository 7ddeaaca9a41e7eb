/* prepare_body.c: a captured body turned into the values a row stores: text when it is
 * UTF-8 (a sequence cut by the cap dropped), else a blob; redacted (redact_body), then
 * scrubbed of what redaction removed elsewhere in the row; and its digest, only when
 * nothing was taken out of it. */
#include "privacy/prepare_int.h"

#include <stdint.h>
#include <stdlib.h>

/* Length of the longest prefix of P that is valid UTF-8 without NUL, or (size_t)-1 when
 * the text is invalid before its last 3 bytes. ALLOW_CUT: a sequence cut at the end is
 * dropped instead of making the text binary (the body was truncated at the cap). */
static size_t utf8_text_len(const unsigned char *p, size_t n, int allow_cut) {
  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      if (c == 0)
        return (size_t)-1;
      i++;
      continue;
    }
    size_t k;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      k = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      k = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      k = 3;
      cp = c & 0x07;
    } else {
      return (size_t)-1;
    }
    if (i + k >= n) /* the sequence runs past the end */
      return allow_cut ? i : (size_t)-1;
    for (size_t j = 1; j <= k; j++) {
      if ((p[i + j] & 0xC0) != 0x80)
        return (size_t)-1;
      cp = (cp << 6) | (p[i + j] & 0x3F);
    }
    if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return (size_t)-1;
    i += k + 1;
  }
  return n;
}

/* Sets the body fields of V from B: text or blob, redacted (into *own when redaction
 * changed it). The digest is left to body_digest. */
reqlog_err body_values(const redactor *rd, taint *t, const capbuf *b, const char *ctype,
                       const void **data, size_t *len, int *is_text, int *is_null, char **own) {
  if (b->total == 0) {
    *is_null = 1;
    *data = NULL;
    *len = 0;
    *is_text = 1;
    return REQLOG_OK;
  }
  size_t tl = utf8_text_len(b->data, b->len, b->truncated);
  *is_text = tl != (size_t)-1;
  *data = b->data;
  *len = *is_text ? tl : b->len;
  char *red = NULL;
  size_t rlen = 0;
  reqlog_err err = redact_body(rd, *is_text ? ctype : "application/octet-stream",
                               (const char *)*data, *len, &red, &rlen);
  if (err != REQLOG_OK)
    return err;
  if (red) {
    if (*is_text)
      taint_learn(t, (const char *)*data, *len, red, rlen);
    *own = red;
    *data = red;
    *len = rlen;
  }
  return REQLOG_OK;
}

/* The body's digest into SHA, unless redaction or scrubbing changed the kept bytes (OWN
 * is their redacted copy): a digest of a body holding a secret would let anyone confirm a
 * guess of that secret. Taken last, so a body that loses a secret is never hashed. */
void body_digest(const capbuf *b, const char *own, char sha[65]) {
  sha[0] = '\0';
  if (!own)
    capbuf_hex_digest(b, sha);
}

/* The scrub of a text body: what redaction learnt anywhere in the row, replaced. */
reqlog_err body_scrub(const taint *t, const void **data, size_t *len, int is_text, int is_null,
                      char **own) {
  if (!is_text || is_null)
    return REQLOG_OK;
  char *out = NULL;
  size_t n = 0;
  reqlog_err err = taint_scrub(t, *data, *len, &out, &n);
  if (err != REQLOG_OK || !out)
    return err;
  free(*own);
  *own = out;
  *data = out;
  *len = n;
  return REQLOG_OK;
}
