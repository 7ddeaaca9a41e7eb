/* redact_header.c: the header rule. It picks, by the header's name, what its value gets:
 * Authorization a fingerprint of the key (the one place a key leaves a trace), Basic
 * credentials their own rule (redact_basic.c), secret headers [REDACTED] whole, URL
 * headers the URL rule, and every other value the Bearer/JWT scan. */
#include "privacy/redact_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* The length of the scheme word when P[0..N) reads "<scheme> <credentials>", else 0.
 * A scheme is a short word of letters, digits and '-' starting with a letter (Bearer,
 * Basic, Digest, AWS4-HMAC-SHA256); anything else is taken as a bare credential, so a
 * key that contains a space is not half shown. */
static size_t auth_scheme_len(const char *p, size_t n) {
  size_t w = 0;
  while (w < n && p[w] != ' ' && p[w] != '\t')
    w++;
  if (w == n || w == 0 || w > 20 || !ch_alpha((unsigned char)p[0]))
    return 0;
  for (size_t i = 0; i < w; i++)
    if (!ch_alnum((unsigned char)p[i]) && p[i] != '-')
      return 0;
  return w;
}

/* Non-zero when P[0..N) already is a fingerprint as reqlog_key_fingerprint() writes it:
 * "\u2026", at most 16 bytes of tail without '#' or space, '#', 8 lower-case hex digits. A
 * credential never starts with U+2026, so a value read back from reqlog's own export (a
 * HAR imported again) keeps its fingerprint instead of getting one of the fingerprint. */
static int is_fingerprint(const char *p, size_t n) {
  if (n < 3 + 1 + 8 || n > 3 + 16 + 1 + 8 || memcmp(p, "\xE2\x80\xA6", 3) != 0 ||
      p[n - 9] != '#')
    return 0;
  for (size_t i = 3; i < n - 9; i++)
    if (p[i] == '#' || p[i] == ' ' || p[i] == '\t')
      return 0;
  for (size_t i = n - 8; i < n; i++)
    if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
      return 0;
  return 1;
}

/* The Authorization value P[0..N) with scheme P[0..SL) (SL 0: none) and credentials
 * CRED[0..CN) that are not Basic: "<scheme> <fingerprint>", the fingerprint copied to
 * KEY_FP when not NULL. A value that already holds a fingerprint is kept. */
static char *auth_fingerprinted(const char *p, size_t n, size_t sl, const char *cred,
                                size_t cn, char key_fp[48]) {
  char fp[48];
  if (is_fingerprint(cred, cn)) {
    memcpy(fp, cred, cn);
    fp[cn] = '\0';
    char *kept = util_strndup(p, n);
    if (kept && key_fp)
      memcpy(key_fp, fp, cn + 1);
    return kept;
  }
  char *c = util_strndup(cred, cn);
  if (!c)
    return NULL;
  reqlog_key_fingerprint(c, fp);
  explicit_bzero(c, cn);
  free(c);
  size_t fl = strlen(fp);
  char *out = malloc(sl + 1 + fl + 1);
  if (!out)
    return NULL;
  size_t o = 0;
  if (sl) {
    memcpy(out, p, sl);
    out[sl] = ' ';
    o = sl + 1;
  }
  memcpy(out + o, fp, fl + 1);
  if (key_fp)
    memcpy(key_fp, fp, fl + 1);
  return out;
}

/* Authorization (PROXY zero): "<scheme> <fingerprint of the credentials>", the
 * fingerprint of a value without a scheme, or for Basic basic_value() and no
 * fingerprint. Proxy-Authorization (PROXY non-zero): basic_value() for Basic, else
 * [REDACTED]; it never gives a key. */
static char *authorization_value(const char *value, char key_fp[48], int proxy) {
  const char *p = value;
  size_t n = strlen(p);
  names_trim(&p, &n);
  if (n == 0)
    return strdup("");
  static const name_t bare_schemes[] = {
    NAME("bearer"), NAME("basic"), NAME("token"), NAME("digest"),
  };
  if (names_word_in(bare_schemes, COUNT(bare_schemes), p, n))
    return util_strndup(p, n); /* "Bearer " with an empty key: nothing to hide or count */
  size_t sl = auth_scheme_len(p, n);
  const char *cred = p + sl;
  size_t cn = n - sl;
  names_trim(&cred, &cn); /* its end is trimmed already */
  static const name_t basic = NAME("basic");
  if (sl && names_eq_nocase(p, sl, &basic))
    return basic_value(p, sl, cred, cn);
  if (proxy)
    return strdup(REDACTED);
  return auth_fingerprinted(p, n, sl, cred, cn, key_fp);
}

char *redact_header(const redactor *rd, const char *name, const char *value,
                    char key_fp[48]) {
  if (!name)
    name = "";
  if (!value)
    value = "";
  size_t nl = strlen(name);
  names_trim(&name, &nl);

  static const name_t authorization = NAME("authorization"),
                      proxy_authorization = NAME("proxy-authorization");
  if (names_eq_nocase(name, nl, &authorization))
    return authorization_value(value, key_fp, 0);
  if (names_eq_nocase(name, nl, &proxy_authorization))
    return authorization_value(value, NULL, 1);

  if (names_listed(rd, NAMES_HEADERS, name, nl) || names_has_secret_part(name, nl)) {
    /* An empty value hides nothing and tells a reader the header was sent empty. */
    const char *v = value;
    while (ch_space((unsigned char)*v))
      v++;
    return strdup(*v ? REDACTED : "");
  }

  if (names_listed(NULL, NAMES_URL_HEADERS, name, nl))
    return redact_url(rd, value);
  return redact_text(rd, value);
}
