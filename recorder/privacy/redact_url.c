/* redact_url.c: the URL and form rule. The password of user:password@ and the values of
 * sensitive query parameters (in the query, and in the fragment, where OAuth's implicit
 * flow puts #access_token=...) become [REDACTED]; an x-www-form-urlencoded body is read
 * as parameters by the same code. The rest of the URL is byte-for-byte unchanged. */
#include "privacy/redact_int.h"

#include <string.h>

/* Percent-decodes P[0..N) ('+' is a space) into BUF (NAME_MAX_LEN + 1 bytes): its length,
 * or (size_t)-1 when it is longer than any name. */
static size_t param_decode(const char *p, size_t n, char *buf) {
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    if (ch_pct_escape(p, i, n)) {
      c = (unsigned char)(ch_hex((unsigned char)p[i + 1]) * 16 + ch_hex((unsigned char)p[i + 2]));
      i += 2;
    } else if (c == '+') {
      c = ' ';
    }
    if (m == NAME_MAX_LEN + 1)
      return (size_t)-1;
    buf[m++] = (char)c;
  }
  return m;
}

int url_param_sensitive(const redactor *rd, const char *p, size_t n) {
  char buf[NAME_MAX_LEN + 1];
  size_t m = param_decode(p, n, buf);
  if (m == (size_t)-1)
    return 0; /* longer than any name */
  if (names_listed(rd, NAMES_PARAMS, buf, m))
    return 1;
  /* user[password], password[]: the last bracketed part */
  while (m >= 2 && buf[m - 2] == '[' && buf[m - 1] == ']')
    m -= 2;
  size_t start = 0;
  if (m >= 1 && buf[m - 1] == ']') {
    const char *open = NULL;
    for (size_t i = m - 1; i-- > 0;)
      if (buf[i] == '[') {
        open = buf + i;
        break;
      }
    if (!open)
      return 0;
    start = (size_t)(open - buf) + 1;
    m--;
  }
  return names_listed(rd, NAMES_PARAMS, buf + start, m - start);
}

void url_params(const redactor *rd, edits *e, size_t from, size_t to) {
  const char *s = e->src;
  size_t i = from;
  while (i < to) {
    const char *amp = memchr(s + i, '&', to - i);
    size_t pe = amp ? (size_t)(amp - s) : to;
    const char *eq = memchr(s + i, '=', pe - i);
    if (eq) {
      size_t vs = (size_t)(eq - s) + 1;
      if (vs < pe && url_param_sensitive(rd, s + i, (size_t)(eq - s) - i))
        token_span(e, vs, pe, REDACTED);
    }
    i = pe + 1;
  }
}

/* The start of the authority of E's URL ("scheme://" or "//" before it), or 0 when the
 * URL has none. */
static size_t url_authority(const edits *e) {
  const char *s = e->src;
  size_t len = e->len, i = 0;
  while (i < len && (ch_alnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' ||
                     s[i] == '.'))
    i++;
  if (i > 0 && ch_alpha((unsigned char)s[0]) && i + 3 <= len && memcmp(s + i, "://", 3) == 0)
    return i + 3;
  if (len >= 2 && s[0] == '/' && s[1] == '/')
    return 2;
  return 0;
}

/* Redacts the password of the userinfo in the authority starting at AUTH; returns the
 * end of the authority (where the path starts). */
static size_t url_userinfo(edits *e, size_t auth) {
  const char *s = e->src;
  size_t len = e->len, aend = auth;
  while (aend < len && s[aend] != '/' && s[aend] != '?' && s[aend] != '#')
    aend++;
  size_t at = aend;
  while (at > auth && s[at - 1] != '@')
    at--;
  if (at > auth) { /* s[at - 1] is the last '@' */
    const char *colon = memchr(s + auth, ':', at - 1 - auth);
    if (colon && (size_t)(colon - s) + 1 < at - 1)
      token_span(e, (size_t)(colon - s) + 1, at - 1, REDACTED);
  }
  return aend;
}

void url_redact(const redactor *rd, edits *e) {
  const char *s = e->src;
  size_t len = e->len, auth = url_authority(e);
  size_t path = auth ? url_userinfo(e, auth) : 0;

  const char *hash = memchr(s + path, '#', len - path);
  size_t qend = hash ? (size_t)(hash - s) : len;
  const char *q = memchr(s + path, '?', qend - path);
  if (q)
    url_params(rd, e, (size_t)(q - s) + 1, qend);
  if (hash) {
    size_t f = (size_t)(hash - s) + 1;
    const char *fq = memchr(s + f, '?', len - f); /* a route: #/reset?token=... */
    url_params(rd, e, fq ? (size_t)(fq - s) + 1 : f, len);
  }
}

char *redact_url(const redactor *rd, const char *url) {
  return token_redact_string(rd, url, url_redact);
}
