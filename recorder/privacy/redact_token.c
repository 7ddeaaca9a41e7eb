/* redact_token.c: finds the credentials that can stand anywhere in text, whatever its
 * kind (a header value, a URL, a JSON string, an error message, a binary upload):
 * "Bearer <token>" and JWTs, and replaces them. Every rule runs this scan over the
 * bytes it does not replace itself; redact_text is the scan alone. */
#include "privacy/redact_int.h"

#include <string.h>

/* Words that follow "bearer" in prose ("invalid bearer token", "Bearer realm=...");
 * they are not credentials and stay readable. */
static const name_t bearer_prose[] = {
  NAME("token"), NAME("tokens"), NAME("auth"), NAME("authentication"),
  NAME("authorization"), NAME("realm"), NAME("error"), NAME("scheme"), NAME("header"),
  NAME("credential"), NAME("credentials"), NAME("required"), NAME("missing"),
  NAME("invalid"), NAME("expected"), NAME("is"), NAME("was"), NAME("not"), NAME("must"),
  NAME("of"), NAME("the"), NAME("a"), NAME("an"), NAME("and"), NAME("or"), NAME("in"),
  NAME("for"), NAME("with"), NAME("to"), NAME("format"), NAME("prefix"), NAME("type"),
};

/* Length of the Bearer credential at S[I..TO): b64token characters, %XX escapes (URLs
 * and forms) and JSON's \/ escape (PHP writes '/' so), then '=' padding. *CORE gets the
 * length before the padding. */
static size_t bearer_token_len(const char *s, size_t i, size_t to, size_t *core) {
  size_t j = i;
  for (;;) {
    if (j < to && ch_b64token((unsigned char)s[j]))
      j++;
    else if (ch_pct_escape(s, j, to))
      j += 3;
    else if (j + 1 < to && s[j] == '\\' && s[j + 1] == '/')
      j += 2;
    else
      break;
  }
  *core = j - i;
  while (j < to && s[j] == '=')
    j++;
  return j - i;
}

/* A Bearer credential starting at S[I] ("Bearer" then spaces, tabs, '+' or %20):
 * returns non-zero with its span in [*TS, *TE). */
static int match_bearer(const edits *e, size_t i, size_t to, size_t *ts, size_t *te) {
  const char *s = e->src;
  static const name_t bearer = NAME("bearer");
  if (i + 6 >= to || !names_eq_nocase(s + i, 6, &bearer))
    return 0;
  if (i > 0 && ch_alnum((unsigned char)s[i - 1]))
    return 0;
  size_t j = i + 6;
  while (j < to) {
    if (s[j] == ' ' || s[j] == '\t' || s[j] == '+')
      j++;
    else if (j + 2 < to && s[j] == '%' && s[j + 1] == '2' && s[j + 2] == '0')
      j += 3;
    else
      break;
  }
  if (j == i + 6)
    return 0;
  size_t core = 0;
  size_t n = bearer_token_len(s, j, to, &core);
  if (core == 0 || names_word_in(bearer_prose, COUNT(bearer_prose), s + j, core))
    return 0;
  *ts = j;
  *te = j + n;
  return 1;
}

/* A JWT starting at S[I]: base64url segments separated by dots, the first starting with
 * "eyJ" (base64 of '{"') and at least 10 long, the second at least 4; the third may be
 * empty (unsigned tokens). A run cut by the end of the data needs only one dot: a body
 * truncated inside a token must not keep its payload. Returns the end, or 0. */
static size_t match_jwt(const edits *e, size_t i, size_t to) {
  const char *s = e->src;
  if (i + 3 > to || s[i] != 'e' || s[i + 1] != 'y' || s[i + 2] != 'J')
    return 0;
  if (i > 0 && ch_b64url((unsigned char)s[i - 1]))
    return 0;
  size_t j = i, dots = 0, seg1 = 0, seg2 = 0;
  while (j < to) {
    unsigned char c = (unsigned char)s[j];
    if (ch_b64url(c)) {
      if (dots == 0)
        seg1++;
      else if (dots == 1)
        seg2++;
    } else if (c != '.') {
      break;
    } else {
      dots++;
    }
    j++;
  }
  if (seg1 < 10 || dots == 0)
    return 0;
  if (!((dots >= 2 && seg2 >= 4) || (dots == 1 && j == e->len)))
    return 0;
  if (dots > 2 && s[j - 1] == '.')
    j--; /* a full stop after the token */
  while (j < to && s[j] == '=')
    j++;
  return j;
}

/* The end of a Bearer credential or JWT starting at S[I] (its start in *TS), or 0. */
static size_t match_token(const edits *e, size_t i, size_t to, size_t *ts) {
  unsigned char c = (unsigned char)e->src[i];
  size_t te = 0;
  if ((c | 0x20) == 'b')
    return match_bearer(e, i, to, ts, &te) ? te : 0;
  *ts = i;
  return c == 'e' ? match_jwt(e, i, to) : 0;
}

void token_scan(edits *e, size_t to) {
  /* The third byte of "bearer" (any case) or "eyJ" starting at I, I+1 or I+2 is one of
   * these; when S[I+2] is none of them, no match starts at any of the three. */
  static const unsigned char hint[256] = {
    ['b'] = 1, ['B'] = 1, ['e'] = 1, ['E'] = 1, ['a'] = 1, ['A'] = 1, ['y'] = 1, ['J'] = 1,
  };
  const char *s = e->src;
  size_t i = e->scanned;
  e->scanned = to;
  while (i < to) {
    while (i + 2 < to && !hint[(unsigned char)s[i + 2]])
      i += 3;
    if (i >= to)
      break;
    size_t ts = i, te = match_token(e, i, to, &ts);
    if (te) {
      out_replace(e, ts, te, REDACTED);
      i = te;
    } else {
      i++;
    }
  }
}

void token_span(edits *e, size_t start, size_t end, const char *rep) {
  token_scan(e, start);
  out_replace(e, start, end, rep);
  e->scanned = end;
}

char *token_redact_string(const redactor *rd, const char *text, token_rule rule) {
  if (!text)
    text = "";
  edits e;
  out_init(&e, text, strlen(text));
  if (rule)
    rule(rd, &e);
  token_scan(&e, e.len);
  return out_finish_string(&e);
}

char *redact_text(const redactor *rd, const char *text) {
  return token_redact_string(rd, text, NULL);
}
