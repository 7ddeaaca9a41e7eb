/* prepare_body.c: a captured body turned into the values a row stores: text when it is
 * UTF-8 (a sequence cut by the cap dropped), else a blob; redacted (redact_body), then
 * scrubbed of what redaction removed elsewhere in the row; and its digest, only when
 * nothing was taken out of it. */
#include "privacy/prepare_int.h"

#include <stdlib.h>

#include "base/utf8.h"

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
  /* Text is strict UTF-8 without NUL; a sequence cut at the cap (truncated) is dropped
   * instead of making the body binary. */
  unsigned rules = UTF8_STRICT | UTF8_NO_NUL | (b->truncated ? UTF8_ALLOW_CUT : 0u);
  size_t tl = utf8_scan(b->data, b->len, rules);
  *is_text = tl != UTF8_INVALID;
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
