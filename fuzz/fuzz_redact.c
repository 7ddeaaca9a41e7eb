/* fuzz_redact.c: the redaction scanners (recorder/privacy/redact.c): JSON, form and multipart
 * bodies, URLs, header values and free text.
 *
 * Input: a mode byte, then up to three '\n'-separated parts:
 *   mode % 4 == 0  body:   EXTRA-NAMES \n CONTENT-TYPE \n BODY (the rest, any bytes)
 *              1   URL:    EXTRA-NAMES \n URL
 *              2   header: EXTRA-NAMES \n NAME \n VALUE
 *              3   text:   EXTRA-NAMES \n TEXT
 * EXTRA-NAMES is a comma list given to redactor_add_list() (as $REQLOG_REDACT is).
 * Properties checked besides "no crash, no leak, no overread":
 *   - redaction is stable: redacting what redaction gave only redacts more (every part a
 *     second pass changes becomes [REDACTED]: a token replaced by the first pass can
 *     make new structure, "//Bearer /:x@" -> "//Bearer [REDACTED]:x@", never less), and
 *     an Authorization header keeps its key fingerprint;
 *   - a body that is valid JSON stays valid JSON;
 *   - "no change" is said only with nothing written, and a change has a length. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "base/util.h"
#include "privacy/redact.h"

/* The next '\n'-ended part of [*p, end) as a malloc'd string; *p moves past it. */
static char *part(const char **p, const char *end) {
  const char *nl = memchr(*p, '\n', (size_t)(end - *p));
  const char *stop = nl ? nl : end;
  char *s = util_strndup(*p, (size_t)(stop - *p));
  *p = nl ? nl + 1 : end;
  return s;
}

/* Non-zero when DATA[0..LEN) is one JSON value, nothing after it but white space.
 * cJSON takes every byte up to 0x20 for white space, JSON only space, tab, CR and LF: a
 * body with other control bytes is not taken for JSON here. */
static int is_json(const char *data, size_t len) {
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)data[i] < 0x20 && data[i] != '\t' && data[i] != '\r' && data[i] != '\n')
      return 0;
  const char *end = NULL;
  cJSON *v = cJSON_ParseWithLengthOpts(data, len, &end, 0);
  int ok = v != NULL;
  if (ok)
    for (const char *q = end; q < data + len; q++)
      if (!strchr(" \t\r\n", *q))
        ok = 0;
  cJSON_Delete(v);
  return ok;
}

/* Non-zero when TWICE[0..N2) is ONCE[0..N1) with some parts replaced by [REDACTED]:
 * TWICE, split at each [REDACTED], is a list of pieces that must appear in ONCE in order,
 * the first at its start and the last at its end (a glob match with '*' only, for which
 * taking each piece's leftmost place is exact). */
static int only_redacted_more(const char *once, size_t n1, const char *twice, size_t n2) {
  static const char mark[] = REDACTED;
  const size_t ml = sizeof mark - 1;
  const char *t = twice, *tend = twice + n2, *o = once, *oend = once + n1;
  int first = 1;
  for (;;) {
    const char *m = memmem(t, (size_t)(tend - t), mark, ml);
    size_t pl = (size_t)((m ? m : tend) - t);
    if (first) {
      if ((size_t)(oend - o) < pl || memcmp(o, t, pl) != 0)
        return 0;
      o += pl;
    } else if (!m) {
      return (size_t)(oend - o) >= pl && memcmp(oend - pl, t, pl) == 0;
    } else {
      const char *at = pl ? memmem(o, (size_t)(oend - o), t, pl) : o;
      if (!at)
        return 0;
      o = at + pl;
    }
    if (!m)
      return o == oend;
    first = 0;
    t = m + ml;
  }
}

/* Non-zero when redact_body() reads DATA as JSON whatever its type says: the first byte
 * after a byte order mark and white space is { or [. */
static int starts_like_json(const char *data, size_t len) {
  size_t i = len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
  while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
    i++;
  return i < len && (data[i] == '{' || data[i] == '[');
}

static void check_body(const redactor *rd, const char *ct, const char *body, size_t len) {
  char *out = NULL;
  size_t out_len = 0;
  if (redact_body(rd, ct, body, len, &out, &out_len) != REQLOG_OK)
    return; /* out of memory */
  if (!out) {
    FUZZ_CHECK(out_len == 0, "an unchanged body has no output length");
    return;
  }
  if (is_json(body, len))
    FUZZ_CHECK(is_json(out, out_len), "a valid JSON body stays valid JSON");
  char *again = NULL;
  size_t again_len = 0;
  if (redact_body(rd, ct, out, out_len, &again, &again_len) == REQLOG_OK && again) {
    /* A token replaced at the very start of a body that is not JSON leaves
     * "[REDACTED]..." there, which a second pass reads as JSON: any more it redacts
     * then is JSON redaction, whose edits are not all [REDACTED] (a cut string). */
    if (starts_like_json(out, out_len) == starts_like_json(body, len))
      FUZZ_CHECK(only_redacted_more(out, out_len, again, again_len),
                 "redacting a redacted body only redacts more");
  }
  free(again);
  free(out);
}

/* F is redact_url or redact_text: applies it twice and checks the second is a no-op. */
static void check_string(const redactor *rd, char *(*f)(const redactor *, const char *),
                         const char *in, const char *what) {
  char *once = f(rd, in);
  if (!once)
    return;
  char *twice = f(rd, once);
  if (twice)
    FUZZ_CHECK(only_redacted_more(once, strlen(once), twice, strlen(twice)), what);
  free(twice);
  free(once);
}

static void check_header(const redactor *rd, const char *name, const char *value) {
  char fp[48] = "";
  char *once = redact_header(rd, name, value, fp);
  if (!once)
    return;
  FUZZ_CHECK(memchr(fp, '\0', sizeof fp) != NULL, "the key fingerprint is a string");
  char fp2[48] = "";
  char *twice = redact_header(rd, name, once, fp2);
  if (twice) {
    FUZZ_CHECK(only_redacted_more(once, strlen(once), twice, strlen(twice)),
               "redacting a redacted header only redacts more");
    FUZZ_CHECK(strcmp(fp, fp2) == 0, "a redacted Authorization header keeps its key");
  }
  free(twice);
  free(once);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  const char *p = (const char *)data + 1, *end = (const char *)data + size;
  int mode = data[0] % 4;
  redactor *rd = NULL;
  char *extra = part(&p, end);
  if (!extra || redactor_new(&rd) != REQLOG_OK || redactor_add_list(rd, extra) != REQLOG_OK) {
    free(extra);
    redactor_free(rd);
    return 0;
  }
  char *a = NULL, *b = NULL;
  switch (mode) {
  case 0:
    a = part(&p, end);
    if (a)
      check_body(rd, a, p, (size_t)(end - p));
    break;
  case 1:
    a = util_strndup(p, (size_t)(end - p));
    if (a)
      check_string(rd, redact_url, a, "redacting a redacted URL only redacts more");
    break;
  case 2:
    a = part(&p, end);
    b = util_strndup(p, (size_t)(end - p));
    if (a && b)
      check_header(rd, a, b);
    break;
  default:
    a = util_strndup(p, (size_t)(end - p));
    if (a)
      check_string(rd, redact_text, a, "redacting redacted text only redacts more");
    break;
  }
  free(a);
  free(b);
  free(extra);
  redactor_free(rd);
  return 0;
}
