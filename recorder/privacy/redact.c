/* redact.c: removes secrets from captured headers, URLs and bodies before anything is
 * written (docs/design.md §4). Every function reads the original bytes once and copies them
 * unchanged except for the spans it replaces; no memory is allocated until the first
 * replacement, so the common case (nothing secret) costs a single pass and no malloc. */
#include "privacy/redact.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/util.h"

/* Longest name redactor_add() accepts; also bounds the buffers that decode names. */
#define NAME_MAX_LEN 255
/* JSON nesting tracked per level; a container deeper than this is redacted whole. */
#define JSON_MAX_DEPTH 512
/* A multipart boundary is at most 70 characters (RFC 2046); leave room for junk. */
#define BOUNDARY_MAX_LEN 200

typedef struct {
  const char *s;
  size_t n;
} name_t;

#define NAME(lit) { lit, sizeof(lit) - 1 }
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The name lists (docs/design.md §4) are written folded (see fold_name): access_token is
 * "accesstoken" and also matches accessToken, access-token and ACCESS-TOKEN. */
static const name_t default_params[] = {
  NAME("accesstoken"), NAME("idtoken"), NAME("refreshtoken"), NAME("token"), NAME("code"),
  NAME("clientsecret"), NAME("apikey"), NAME("key"), NAME("password"), NAME("secret"),
  NAME("signature"), NAME("sig"),
};

static const name_t default_keys[] = {
  NAME("password"), NAME("passwordconfirmation"), NAME("currentpassword"),
  NAME("newpassword"), NAME("secret"), NAME("clientsecret"), NAME("token"),
  NAME("accesstoken"), NAME("refreshtoken"), NAME("idtoken"), NAME("apikey"),
  NAME("authorization"), NAME("privatekey"), NAME("sessionid"),
};

static const name_t header_names[] = {
  NAME("proxyauthorization"), NAME("cookie"), NAME("setcookie"), NAME("xapikey"),
};

/* A header whose folded name contains one of these is redacted. The last two go beyond
 * the list of docs/design.md §4 on purpose: Cookie2 / Set-Cookie2 and X-Goog-Api-Key style names. */
static const name_t header_parts[] = {
  NAME("auth"), NAME("token"), NAME("secret"), NAME("session"), NAME("password"),
  NAME("signature"), NAME("cookie"), NAME("apikey"),
};

/* Headers whose value is a URL: they get the URL rule (an OAuth redirect carries
 * ?code=... or #access_token=... in Location). */
static const name_t url_headers[] = {
  NAME("location"), NAME("contentlocation"), NAME("referer"),
};

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

struct redactor {
  char **names; /* added names, folded */
  size_t *lens;
  size_t n, cap;
};

/* ------------------------------------------------------------------ characters */

static unsigned char lower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

static int is_alpha(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_alnum(unsigned char c) {
  return is_alpha(c) || (c >= '0' && c <= '9');
}

static int hex_val(unsigned char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  c = lower(c);
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/* base64url alphabet: the characters of a JWT segment. */
static int is_b64url(unsigned char c) {
  return is_alnum(c) || c == '-' || c == '_';
}

/* RFC 6750 b64token characters (without the '=' padding). */
static int is_b64token(unsigned char c) {
  return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' ||
         c == '/';
}

static int is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* P[0..N) equals the lower-case name NM, ASCII case-insensitively. */
static int eq_nocase(const char *p, size_t n, const name_t *nm) {
  if (n != nm->n)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (lower((unsigned char)p[i]) != (unsigned char)nm->s[i])
      return 0;
  return 1;
}

/* P[0..N) is one of the lower-case words of LIST, ASCII case-insensitively (words of
 * prose and schemes, not names: see name_listed). */
static int word_in(const name_t *list, size_t count, const char *p, size_t n) {
  for (size_t i = 0; i < count; i++)
    if (eq_nocase(p, n, &list[i]))
      return 1;
  return 0;
}

/* ------------------------------------------------------------------ folded names */

#define NOT_FOLDED ((size_t)-1)

/* The one rule by which names compare: ASCII letters in lower case, '_' and '-' left
 * out, so accessToken, access_token, access-token, ACCESS-TOKEN and AccessToken all
 * read "accesstoken". Writes the folded P[0..N) to OUT (CAP bytes) and returns its
 * length, or NOT_FOLDED when N > CAP (no listed name is that long). Every JSON key and
 * header of every call is folded, so the loop has no branch on the byte. */
static size_t fold_name(const char *p, size_t n, char *out, size_t cap) {
  if (n > cap)
    return NOT_FOLDED;
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    out[m] = (char)lower(c);
    m += c != '_' && c != '-';
  }
  return m;
}

/* The folded F[0..M) (M > 0) is one of LIST's names (written folded) or, RD not NULL,
 * one of the names added to RD. */
static int folded_listed(const redactor *rd, const name_t *list, size_t count,
                         const char *f, size_t m) {
  /* the first byte is compared before memcmp, which most names fail */
  for (size_t i = 0; i < count; i++)
    if (list[i].n == m && list[i].s[0] == f[0] && memcmp(list[i].s, f, m) == 0)
      return 1;
  for (size_t i = 0; rd && i < rd->n; i++)
    if (rd->lens[i] == m && rd->names[i][0] == f[0] && memcmp(rd->names[i], f, m) == 0)
      return 1;
  return 0;
}

/* P[0..N) is, folded, one of LIST's names or one of RD's added names. Every list lookup
 * goes through here. A name that folds to nothing matches nothing. */
static int name_listed(const redactor *rd, const name_t *list, size_t count, const char *p,
                       size_t n) {
  char f[NAME_MAX_LEN];
  size_t m = fold_name(p, n, f, sizeof f);
  return m != NOT_FOLDED && m > 0 && folded_listed(rd, list, count, f, m);
}

/* ------------------------------------------------------------------ names */

reqlog_err redactor_new(redactor **out) {
  if (!out)
    return REQLOG_ERR_ARG;
  *out = calloc(1, sizeof **out);
  return *out ? REQLOG_OK : REQLOG_ERR_NOMEM;
}

void redactor_free(redactor *rd) {
  if (!rd)
    return;
  for (size_t i = 0; i < rd->n; i++)
    free(rd->names[i]);
  free(rd->names);
  free(rd->lens);
  free(rd);
}

/* Adds P[0..N), trimmed and folded; an empty name is ignored, a repeated one (in any
 * spelling) kept once. */
static reqlog_err add_name(redactor *rd, const char *p, size_t n) {
  while (n && is_space((unsigned char)*p)) {
    p++;
    n--;
  }
  while (n && is_space((unsigned char)p[n - 1]))
    n--;
  if (n > NAME_MAX_LEN)
    return REQLOG_ERR_ARG;
  char f[NAME_MAX_LEN];
  size_t m = fold_name(p, n, f, sizeof f);
  if (m == 0 || folded_listed(rd, NULL, 0, f, m))
    return REQLOG_OK; /* empty once folded ("", "--"), or there already */
  if (rd->n == rd->cap) {
    size_t cap = rd->cap ? rd->cap * 2 : 8;
    char **names = realloc(rd->names, cap * sizeof *names);
    if (!names)
      return REQLOG_ERR_NOMEM;
    rd->names = names;
    size_t *lens = realloc(rd->lens, cap * sizeof *lens);
    if (!lens)
      return REQLOG_ERR_NOMEM;
    rd->lens = lens;
    rd->cap = cap;
  }
  char *copy = util_strndup(f, m);
  if (!copy)
    return REQLOG_ERR_NOMEM;
  rd->names[rd->n] = copy;
  rd->lens[rd->n] = m;
  rd->n++;
  return REQLOG_OK;
}

reqlog_err redactor_add(redactor *rd, const char *name) {
  if (!rd || !name)
    return REQLOG_ERR_ARG;
  return add_name(rd, name, strlen(name));
}

reqlog_err redactor_add_list(redactor *rd, const char *list) {
  if (!rd)
    return REQLOG_ERR_ARG;
  if (!list)
    return REQLOG_OK;
  for (const char *p = list;;) {
    const char *comma = strchr(p, ',');
    size_t n = comma ? (size_t)(comma - p) : strlen(p);
    reqlog_err err = add_name(rd, p, n);
    if (err != REQLOG_OK)
      return err;
    if (!comma)
      return REQLOG_OK;
    p = comma + 1;
  }
}

/* A query or form parameter name P[0..N), percent-decoded ('+' is a space), is sensitive.
 * Bracketed form names count by their last part: user[password], password[]. */
static int param_name_sensitive(const redactor *rd, const char *p, size_t n) {
  char buf[NAME_MAX_LEN + 1];
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    if (c == '%' && i + 2 < n && hex_val((unsigned char)p[i + 1]) >= 0 &&
        hex_val((unsigned char)p[i + 2]) >= 0) {
      c = (unsigned char)(hex_val((unsigned char)p[i + 1]) * 16 +
                          hex_val((unsigned char)p[i + 2]));
      i += 2;
    } else if (c == '+') {
      c = ' ';
    }
    if (m == sizeof buf)
      return 0; /* longer than any name */
    buf[m++] = (char)c;
  }
  if (name_listed(rd, default_params, COUNT(default_params), buf, m))
    return 1;
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
  return name_listed(rd, default_params, COUNT(default_params), buf + start, m - start);
}

/* Appends the UTF-8 encoding of CP to BUF (at most CAP bytes). 0 when it does not fit. */
static int put_utf8(char *buf, size_t cap, size_t *m, uint32_t cp) {
  unsigned char u[4];
  size_t k;
  if (cp < 0x80) {
    u[0] = (unsigned char)cp;
    k = 1;
  } else if (cp < 0x800) {
    u[0] = (unsigned char)(0xC0 | (cp >> 6));
    u[1] = (unsigned char)(0x80 | (cp & 0x3F));
    k = 2;
  } else if (cp < 0x10000) {
    u[0] = (unsigned char)(0xE0 | (cp >> 12));
    u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (unsigned char)(0x80 | (cp & 0x3F));
    k = 3;
  } else {
    u[0] = (unsigned char)(0xF0 | (cp >> 18));
    u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (unsigned char)(0x80 | (cp & 0x3F));
    k = 4;
  }
  if (*m + k > cap)
    return 0;
  memcpy(buf + *m, u, k);
  *m += k;
  return 1;
}

/* The 4 hex digits at P (P[0..4) readable), or -1. */
static long hex4(const char *p) {
  long v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hex_val((unsigned char)p[i]);
    if (h < 0)
      return -1;
    v = v * 16 + h;
  }
  return v;
}

/* A JSON object key P[0..N) (the text between the quotes) is sensitive. Escapes are
 * decoded first, so "pass\u0077ord" is "password". */
static int json_key_sensitive(const redactor *rd, const char *p, size_t n) {
  if (!memchr(p, '\\', n))
    return name_listed(rd, default_keys, COUNT(default_keys), p, n);
  char buf[NAME_MAX_LEN + 1];
  size_t m = 0;
  for (size_t i = 0; i < n;) {
    if (p[i] != '\\' || i + 1 >= n) {
      if (m == sizeof buf)
        return 0;
      buf[m++] = p[i++];
      continue;
    }
    char e = p[i + 1];
    uint32_t cp = (unsigned char)e;
    i += 2;
    switch (e) {
    case 'b': cp = '\b'; break;
    case 'f': cp = '\f'; break;
    case 'n': cp = '\n'; break;
    case 'r': cp = '\r'; break;
    case 't': cp = '\t'; break;
    case 'u': {
      long v = i + 4 <= n ? hex4(p + i) : -1;
      if (v < 0)
        break; /* not an escape after all: keep the 'u' */
      i += 4;
      cp = (uint32_t)v;
      if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 <= n && p[i] == '\\' && p[i + 1] == 'u') {
        long lo = hex4(p + i + 2);
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
          i += 6;
        }
      }
      break;
    }
    default: break; /* \" \\ \/ and unknown escapes stand for the character itself */
    }
    if (!put_utf8(buf, sizeof buf, &m, cp))
      return 0;
  }
  return name_listed(rd, default_keys, COUNT(default_keys), buf, m);
}

/* ------------------------------------------------------------------ the output */

/* The redacted copy of SRC[0..LEN) under construction: BUF holds SRC[0..DONE) with its
 * replacements made; BUF stays NULL until the first replacement. SRC[0..SCANNED) has
 * had its Bearer/JWT scan (SCANNED >= DONE). */
typedef struct {
  const char *src;
  size_t len;
  size_t done;
  size_t scanned;
  char *buf;
  size_t blen, bcap;
  int nomem;
} edits;

static void ed_init(edits *e, const char *src, size_t len) {
  memset(e, 0, sizeof *e);
  e->src = src;
  e->len = len;
}

static void ed_append(edits *e, const char *p, size_t n) {
  if (e->nomem)
    return;
  if (e->blen + n + 1 > e->bcap) { /* + 1: room for a final NUL */
    size_t cap = e->bcap ? e->bcap : 64;
    while (cap < e->blen + n + 1)
      cap *= 2;
    char *nb = realloc(e->buf, cap);
    if (!nb) {
      e->nomem = 1;
      return;
    }
    e->buf = nb;
    e->bcap = cap;
  }
  if (n)
    memcpy(e->buf + e->blen, p, n);
  e->blen += n;
}

/* Replaces SRC[START..END) (START >= DONE) by REP. A span that already reads REP is
 * left alone, so redacting redacted data changes nothing. */
static void ed_replace(edits *e, size_t start, size_t end, const char *rep) {
  size_t rn = strlen(rep);
  if (end - start == rn && memcmp(e->src + start, rep, rn) == 0)
    return;
  if (!e->buf && !e->nomem) {
    e->bcap = e->len + 64;
    e->buf = malloc(e->bcap);
    if (!e->buf)
      e->nomem = 1;
  }
  ed_append(e, e->src + e->done, start - e->done);
  ed_append(e, rep, rn);
  e->done = end;
}

/* Length of the Bearer credential at S[I..TO): b64token characters, %XX escapes (URLs
 * and forms) and JSON's \/ escape (PHP writes '/' so), then '=' padding. *CORE gets the
 * length before the padding. */
static size_t bearer_token_len(const char *s, size_t i, size_t to, size_t *core) {
  size_t j = i;
  for (;;) {
    if (j < to && is_b64token((unsigned char)s[j]))
      j++;
    else if (j + 2 < to && s[j] == '%' && hex_val((unsigned char)s[j + 1]) >= 0 &&
             hex_val((unsigned char)s[j + 2]) >= 0)
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
  if (i + 6 >= to || !eq_nocase(s + i, 6, &bearer))
    return 0;
  if (i > 0 && is_alnum((unsigned char)s[i - 1]))
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
  if (core == 0 || word_in(bearer_prose, COUNT(bearer_prose), s + j, core))
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
  if (i > 0 && is_b64url((unsigned char)s[i - 1]))
    return 0;
  size_t j = i, dots = 0, seg1 = 0, seg2 = 0;
  while (j < to) {
    unsigned char c = (unsigned char)s[j];
    if (is_b64url(c)) {
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

/* Replaces Bearer credentials and JWTs in SRC[SCANNED..TO). */
static void scan_secrets(edits *e, size_t to) {
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
    unsigned char c = (unsigned char)s[i];
    if ((c | 0x20) == 'b') {
      size_t ts, te;
      if (match_bearer(e, i, to, &ts, &te)) {
        ed_replace(e, ts, te, REDACTED);
        i = te;
        continue;
      }
    } else if (c == 'e') {
      size_t end = match_jwt(e, i, to);
      if (end) {
        ed_replace(e, i, end, REDACTED);
        i = end;
        continue;
      }
    }
    i++;
  }
}

/* Replaces SRC[START..END) by REP after scanning the bytes before it for Bearer tokens
 * and JWTs. Spans come in increasing order; the scan covers everything between them. */
static void redact_span(edits *e, size_t start, size_t end, const char *rep) {
  scan_secrets(e, start);
  ed_replace(e, start, end, rep);
  e->scanned = end;
}

/* Scans what is left and hands back the result: REQLOG_OK with *OUT NULL when nothing
 * changed, else the buffer (NUL-terminated, *OUT_LEN without the NUL). */
static reqlog_err ed_finish(edits *e, char **out, size_t *out_len) {
  scan_secrets(e, e->len);
  if (e->buf)
    ed_append(e, e->src + e->done, e->len - e->done);
  if (e->nomem) {
    free(e->buf);
    *out = NULL;
    *out_len = 0;
    return REQLOG_ERR_NOMEM;
  }
  if (e->buf)
    e->buf[e->blen] = '\0';
  *out = e->buf;
  *out_len = e->blen;
  return REQLOG_OK;
}

/* ed_finish for a NUL-terminated string: always a malloc'd string, NULL on no memory. */
static char *ed_finish_string(edits *e) {
  char *out = NULL;
  size_t n = 0;
  if (ed_finish(e, &out, &n) != REQLOG_OK)
    return NULL;
  return out ? out : util_strndup(e->src, e->len);
}

/* ------------------------------------------------------------------ URLs and forms */

/* Query or form parameters in SRC[FROM..TO), '&'-separated: a sensitive name's non-empty
 * value becomes [REDACTED]. */
static void params_redact(const redactor *rd, edits *e, size_t from, size_t to) {
  const char *s = e->src;
  size_t i = from;
  while (i < to) {
    const char *amp = memchr(s + i, '&', to - i);
    size_t pe = amp ? (size_t)(amp - s) : to;
    const char *eq = memchr(s + i, '=', pe - i);
    if (eq) {
      size_t vs = (size_t)(eq - s) + 1;
      if (vs < pe && param_name_sensitive(rd, s + i, (size_t)(eq - s) - i))
        redact_span(e, vs, pe, REDACTED);
    }
    i = pe + 1;
  }
}

/* The URL rule over E's text: userinfo password, query parameters, and the same
 * parameters in the fragment (OAuth's implicit flow returns #access_token=...). */
static void url_redact(const redactor *rd, edits *e) {
  const char *s = e->src;
  size_t len = e->len, i = 0, path = 0;

  /* scheme "://" authority, or "//" authority */
  while (i < len && (is_alnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' ||
                     s[i] == '.'))
    i++;
  size_t auth = 0;
  int has_auth = 0;
  if (i > 0 && is_alpha((unsigned char)s[0]) && i + 3 <= len && memcmp(s + i, "://", 3) == 0) {
    auth = i + 3;
    has_auth = 1;
  } else if (len >= 2 && s[0] == '/' && s[1] == '/') {
    auth = 2;
    has_auth = 1;
  }
  if (has_auth) {
    size_t aend = auth;
    while (aend < len && s[aend] != '/' && s[aend] != '?' && s[aend] != '#')
      aend++;
    size_t at = aend;
    while (at > auth && s[at - 1] != '@')
      at--;
    if (at > auth) { /* s[at - 1] is the last '@' */
      const char *colon = memchr(s + auth, ':', at - 1 - auth);
      if (colon && (size_t)(colon - s) + 1 < at - 1)
        redact_span(e, (size_t)(colon - s) + 1, at - 1, REDACTED);
    }
    path = aend;
  }

  const char *hash = memchr(s + path, '#', len - path);
  size_t qend = hash ? (size_t)(hash - s) : len;
  const char *q = memchr(s + path, '?', qend - path);
  if (q)
    params_redact(rd, e, (size_t)(q - s) + 1, qend);
  if (hash) {
    size_t f = (size_t)(hash - s) + 1;
    const char *fq = memchr(s + f, '?', len - f); /* a route: #/reset?token=... */
    params_redact(rd, e, fq ? (size_t)(fq - s) + 1 : f, len);
  }
}

char *redact_url(const redactor *rd, const char *url) {
  if (!url)
    url = "";
  edits e;
  ed_init(&e, url, strlen(url));
  url_redact(rd, &e);
  return ed_finish_string(&e);
}

char *redact_text(const redactor *rd, const char *text) {
  if (!text)
    text = "";
  edits e;
  ed_init(&e, text, strlen(text));
  return ed_finish_string(&e);
}

/* ------------------------------------------------------------------ headers */

/* The length of the scheme word when P[0..N) reads "<scheme> <credentials>", else 0.
 * A scheme is a short word of letters, digits and '-' starting with a letter (Bearer,
 * Basic, Digest, AWS4-HMAC-SHA256); anything else is taken as a bare credential, so a
 * key that contains a space is not half shown. */
static size_t auth_scheme_len(const char *p, size_t n) {
  size_t w = 0;
  while (w < n && p[w] != ' ' && p[w] != '\t')
    w++;
  if (w == n || w == 0 || w > 20 || !is_alpha((unsigned char)p[0]))
    return 0;
  for (size_t i = 0; i < w; i++)
    if (!is_alnum((unsigned char)p[i]) && p[i] != '-')
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

/* Basic credentials ------------------------------------------------------------ */

/* Longest user name of Basic credentials that is shown. */
#define BASIC_USER_MAX 64

static const char b64_alphabet[64] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Decodes base64 P[0..N) (RFC 4648 alphabet; '=' padding optional, but only at the end)
 * into OUT, which holds at least N / 4 * 3 + 3 bytes. Returns 0 with *OUT_LEN set, or -1
 * when P is not base64. OpenSSL decodes; it takes '=' anywhere, hence the checks. */
static int b64_decode(const char *p, size_t n, unsigned char *out, size_t *out_len) {
  size_t data = n;
  while (data && n - data < 2 && p[data - 1] == '=')
    data--;
  if (data % 4 == 1 || (data < n && n % 4 != 0) || n > INT_MAX / 2)
    return -1;
  for (size_t i = 0; i < data; i++)
    if (!memchr(b64_alphabet, p[i], sizeof b64_alphabet))
      return -1;
  size_t whole = data - data % 4, o = whole / 4 * 3;
  if (whole && EVP_DecodeBlock(out, (const unsigned char *)p, (int)whole) != (int)o)
    return -1;
  if (data % 4) { /* the last 2 or 3 characters, padded for OpenSSL */
    unsigned char last[4] = {'=', '=', '=', '='}, three[3];
    memcpy(last, p + whole, data % 4);
    if (EVP_DecodeBlock(three, last, 4) != 3)
      return -1;
    memcpy(out + o, three, data % 4 - 1);
    o += data % 4 - 1;
    explicit_bzero(three, sizeof three);
  }
  *out_len = o;
  return 0;
}

int redact_basic_decode(const char *cred, size_t cn, unsigned char *dec, size_t *user_len,
                        size_t *dec_len) {
  size_t dn = 0;
  if (b64_decode(cred, cn, dec, &dn) != 0)
    return -1;
  const unsigned char *colon = memchr(dec, ':', dn);
  if (!colon)
    return -1;
  *user_len = (size_t)(colon - dec);
  *dec_len = dn;
  return 0;
}

/* U[0..N), the user name of Basic credentials, may be stored: not empty, at most
 * BASIC_USER_MAX bytes of printable UTF-8 without ':', and not itself a token (the
 * Bearer/JWT scan leaves it alone). */
static int basic_user_shown(const char *u, size_t n) {
  if (n == 0 || n > BASIC_USER_MAX || memchr(u, ':', n) ||
      !redact_printable_utf8((const unsigned char *)u, n))
    return 0;
  edits e;
  ed_init(&e, u, n);
  scan_secrets(&e, n);
  int clean = !e.buf && !e.nomem;
  free(e.buf);
  return clean;
}

/* Basic credentials (RFC 7617) are base64 of "user:password", and a password is a
 * low-entropy secret: anything computed from it (a hash, the last characters of the
 * base64) would confirm a guess offline. So SCHEME[0..SL) with credentials CRED[0..CN)
 * becomes "<scheme> <user>:[REDACTED]", the user name decoded ('[', ']' and ':' are not
 * base64, so no decoder takes it for credentials), or "<scheme> [REDACTED]" when there is
 * no user name to show: the value is not base64 of user:password, the user name is
 * empty or not basic_user_shown, or the password is empty (then the user name is the
 * secret, as with "sk_live_...:" keys). reqlog's own output stays as it is. */
static char *basic_value(const char *scheme, size_t sl, const char *cred, size_t cn) {
  static const char tail[] = ":" REDACTED;
  const size_t tl = sizeof tail - 1;
  const char *user = NULL;
  size_t un = 0;
  unsigned char *dec = NULL;
  size_t dcap = cn / 4 * 3 + 3;
  if (cn > tl && memcmp(cred + cn - tl, tail, tl) == 0) {
    user = cred; /* already "<user>:[REDACTED]" */
    un = cn - tl;
  } else {
    dec = malloc(dcap);
    if (!dec)
      return NULL;
    size_t dn = 0;
    if (redact_basic_decode(cred, cn, dec, &un, &dn) == 0 && un + 1 < dn)
      user = (const char *)dec;
    else
      un = 0;
  }
  if (user && !basic_user_shown(user, un)) {
    user = NULL;
    un = 0;
  }
  size_t len = sl + 1 + un + 1 + sizeof REDACTED;
  char *out = malloc(len);
  if (out)
    snprintf(out, len, "%.*s %.*s%s" REDACTED, (int)sl, scheme, (int)un, user ? user : "",
             user ? ":" : "");
  if (dec) {
    explicit_bzero(dec, dcap);
    free(dec);
  }
  return out;
}

/* Authorization (PROXY zero): "<scheme> <fingerprint of the credentials>", the
 * fingerprint of a value without a scheme, or for Basic basic_value() and no
 * fingerprint. Proxy-Authorization (PROXY non-zero): basic_value() for Basic, else
 * [REDACTED]; it never gives a key. */
static char *authorization_value(const char *value, char key_fp[48], int proxy) {
  const char *p = value;
  size_t n = strlen(p);
  while (n && is_space((unsigned char)*p)) {
    p++;
    n--;
  }
  while (n && is_space((unsigned char)p[n - 1]))
    n--;
  if (n == 0)
    return strdup("");
  static const name_t bare_schemes[] = {
    NAME("bearer"), NAME("basic"), NAME("token"), NAME("digest"),
  };
  if (word_in(bare_schemes, COUNT(bare_schemes), p, n))
    return util_strndup(p, n); /* "Bearer " with an empty key: nothing to hide or count */
  size_t sl = auth_scheme_len(p, n);
  const char *cred = p + sl;
  size_t cn = n - sl;
  while (cn && is_space((unsigned char)*cred)) {
    cred++;
    cn--;
  }
  static const name_t basic = NAME("basic");
  if (sl && eq_nocase(p, sl, &basic))
    return basic_value(p, sl, cred, cn);
  if (proxy)
    return strdup(REDACTED);
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

/* NAME[0..N), folded, contains one of header_parts. Every header of every recorded call
 * is checked, so the name is folded once, not once per part. */
static int has_secret_part(const char *name, size_t n) {
  char local[NAME_MAX_LEN];
  char *f = n <= sizeof local ? local : malloc(n);
  if (!f)
    return 1; /* out of memory: hiding the value is the safe answer */
  size_t m = fold_name(name, n, f, n <= sizeof local ? sizeof local : n);
  int hit = 0;
  for (size_t i = 0; i < COUNT(header_parts) && !hit; i++) {
    const name_t *part = &header_parts[i];
    for (size_t j = 0; j + part->n <= m && !hit; j++)
      hit = f[j] == part->s[0] && memcmp(f + j, part->s, part->n) == 0;
  }
  if (f != local)
    free(f);
  return hit;
}

char *redact_header(const redactor *rd, const char *name, const char *value,
                    char key_fp[48]) {
  if (!name)
    name = "";
  if (!value)
    value = "";
  size_t nl = strlen(name);
  while (nl && is_space((unsigned char)*name)) {
    name++;
    nl--;
  }
  while (nl && is_space((unsigned char)name[nl - 1]))
    nl--;

  static const name_t authorization = NAME("authorization"),
                      proxy_authorization = NAME("proxy-authorization");
  if (eq_nocase(name, nl, &authorization))
    return authorization_value(value, key_fp, 0);
  if (eq_nocase(name, nl, &proxy_authorization))
    return authorization_value(value, NULL, 1);

  int secret = name_listed(rd, header_names, COUNT(header_names), name, nl) ||
               has_secret_part(name, nl);
  if (secret) {
    /* An empty value hides nothing and tells a reader the header was sent empty. */
    const char *v = value;
    while (is_space((unsigned char)*v))
      v++;
    return strdup(*v ? REDACTED : "");
  }

  if (name_listed(NULL, url_headers, COUNT(url_headers), name, nl))
    return redact_url(rd, value);
  return redact_text(rd, value);
}

/* ------------------------------------------------------------------ JSON */

/* End of the JSON string whose opening quote is at S[I]: the index after its closing
 * quote, or LEN when the data ends first (*CLOSED 0). */
static size_t json_string_end(const char *s, size_t len, size_t i, int *closed) {
  size_t from = i + 1;
  for (;;) {
    const char *q = from < len ? memchr(s + from, '"', len - from) : NULL;
    if (!q) {
      *closed = 0;
      return len;
    }
    /* the quote is escaped when an odd number of backslashes comes before it (the
     * opening quote stops the count) */
    size_t at = (size_t)(q - s), k = 0;
    while (s[at - 1 - k] == '\\')
      k++;
    if (k % 2 == 0) {
      *closed = 1;
      return at + 1;
    }
    from = at + 1;
  }
}

/* Bytes that end a bare JSON token: white space and , : { } [ ] " */
static const unsigned char json_delim_tab[256] = {
  [' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\n'] = 1, [','] = 1, [':'] = 1,
  ['{'] = 1, ['}'] = 1, ['['] = 1, [']'] = 1, ['"'] = 1,
};

static int json_delim(unsigned char c) {
  return json_delim_tab[c];
}

/* End of the JSON value starting at S[I] (not white space nor , : } ]): a string, a
 * container with everything nested in it, or a bare token (number, true, junk). A value
 * cut by the end of the data ends at LEN. */
static size_t json_value_end(const char *s, size_t len, size_t i) {
  int closed;
  if (s[i] == '"')
    return json_string_end(s, len, i, &closed);
  if (s[i] == '{' || s[i] == '[') {
    size_t depth = 0;
    while (i < len) {
      char c = s[i];
      if (c == '"') {
        i = json_string_end(s, len, i, &closed);
        continue;
      }
      if (c == '{' || c == '[') {
        depth++;
      } else if (c == '}' || c == ']') {
        if (--depth == 0)
          return i + 1;
      }
      i++;
    }
    return len;
  }
  while (i < len && !json_delim((unsigned char)s[i]))
    i++;
  return i;
}

enum { J_VALUE, J_KEY, J_COLON, J_AFTER };

/* Replaces the values of sensitive keys in the JSON text of E, at any depth. A tolerant
 * scanner, not a parser: it follows strings, containers and bare tokens so that it
 * knows, for each string, whether it is an object key; malformed or truncated input is
 * scanned to its end without ever reading past it.
 *
 * One exception keeps the API's own error shape readable (docs/design.md §1): in a top-level
 * "errors" object, {"password": ["The password must be at least 8 characters."]} holds
 * validation messages about the field, not its value, so an ARRAY there is scanned like
 * any other value (its strings stay, the Bearer/JWT scan still applies) instead of being
 * replaced. Any other value type there is redacted as usual. */
static void json_redact(const redactor *rd, edits *e) {
  const char *s = e->src;
  size_t len = e->len, i = 0;
  unsigned char is_obj[JSON_MAX_DEPTH / 8] = {0}; /* one bit per open container */
  size_t depth = 0;
  int state = J_VALUE;
  int key_hit = 0;    /* the last key was sensitive */
  int errors_key = 0; /* the last key of the top-level object was "errors" */
  int in_errors = 0;  /* depth 2 is the top-level "errors" object */
  static const name_t errors = NAME("errors");

  while (i < len) {
    unsigned char c = (unsigned char)s[i];
    if (is_space(c)) {
      i++;
      continue;
    }
    int in_obj = depth > 0 && (is_obj[(depth - 1) / 8] >> ((depth - 1) % 8) & 1);
    /* A value of a sensitive key: after its colon, or where a colon was left out. */
    int secret = key_hit && (state == J_VALUE || state == J_COLON);
    switch (c) {
    case '{':
    case '[':
      if (secret && c == '[' && depth == 2 && in_errors)
        secret = 0; /* field -> messages, see above */
      if (secret || depth == JSON_MAX_DEPTH) {
        size_t end = json_value_end(s, len, i);
        redact_span(e, i, end, "\"" REDACTED "\"");
        i = end;
        state = J_AFTER;
        key_hit = 0;
        break;
      }
      if (c == '{')
        is_obj[depth / 8] |= (unsigned char)(1u << (depth % 8));
      else
        is_obj[depth / 8] &= (unsigned char)~(1u << (depth % 8));
      if (depth == 1)
        in_errors = c == '{' && in_obj && errors_key && state == J_VALUE;
      depth++;
      state = c == '{' ? J_KEY : J_VALUE;
      key_hit = 0;
      i++;
      break;
    case '}':
    case ']':
      if (depth > 0)
        depth--;
      if (depth < 2)
        in_errors = 0;
      state = J_AFTER;
      key_hit = 0;
      i++;
      break;
    case ',':
      state = in_obj ? J_KEY : J_VALUE;
      key_hit = 0;
      i++;
      break;
    case ':':
      state = J_VALUE; /* key_hit stays: it is this value's key */
      i++;
      break;
    case '"': {
      int closed;
      size_t end = json_string_end(s, len, i, &closed);
      if (secret) {
        redact_span(e, i, end, "\"" REDACTED "\"");
        state = J_AFTER;
        key_hit = 0;
      } else if (in_obj && (state == J_KEY || state == J_AFTER)) {
        /* J_AFTER: a key after a missing comma */
        key_hit = closed && json_key_sensitive(rd, s + i + 1, end - i - 2);
        if (depth == 1)
          errors_key = closed && eq_nocase(s + i + 1, end - i - 2, &errors);
        state = J_COLON;
      } else {
        state = J_AFTER;
        key_hit = 0;
      }
      i = end;
      break;
    }
    default: {
      size_t end = json_value_end(s, len, i);
      if (secret)
        redact_span(e, i, end, "\"" REDACTED "\"");
      state = J_AFTER;
      key_hit = 0;
      i = end;
      break;
    }
    }
  }
}

/* ------------------------------------------------------------------ multipart */

/* The first occurrence of the lower-case NEEDLE in P[0..N), case-insensitively. */
static const char *find_nocase(const char *p, size_t n, const name_t *needle) {
  for (size_t i = 0; i + needle->n <= n; i++)
    if (eq_nocase(p + i, needle->n, needle))
      return p + i;
  return NULL;
}

/* The value of parameter PARAM (lower case, with its '=') in header text P[0..N): quoted
 * or a bare token, preceded by ';' or white space so that "name=" skips "filename=". */
static int header_param(const char *p, size_t n, const name_t *param, const char **v,
                        size_t *vn) {
  size_t off = 0;
  while (off < n) {
    const char *hit = find_nocase(p + off, n - off, param);
    if (!hit)
      return 0;
    size_t at = (size_t)(hit - p);
    off = at + 1;
    if (at > 0 && p[at - 1] != ';' && !is_space((unsigned char)p[at - 1]))
      continue;
    size_t b = at + param->n, end = b;
    if (b < n && p[b] == '"') {
      b++;
      end = b;
      while (end < n && p[end] != '"')
        end++;
    } else {
      while (end < n && p[end] != ';' && !is_space((unsigned char)p[end]))
        end++;
    }
    *v = p + b;
    *vn = end - b;
    return 1;
  }
  return 0;
}

/* multipart/form-data: the content of a part whose form name is sensitive becomes
 * [REDACTED]; a part cut by the end of the data is redacted to the end. */
static void multipart_redact(const redactor *rd, edits *e, const char *bnd, size_t bn) {
  const char *s = e->src;
  size_t len = e->len;
  char delim[2 + BOUNDARY_MAX_LEN];
  memcpy(delim, "--", 2);
  memcpy(delim + 2, bnd, bn);
  size_t dl = bn + 2;
  static const name_t name_eq = NAME("name=");

  /* delimiters at the start of a line */
  size_t i = 0;
  const char *d = NULL;
  for (;;) {
    d = memmem(s + i, len - i, delim, dl);
    if (!d || d == s || d[-1] == '\n')
      break;
    i = (size_t)(d - s) + 1;
  }
  while (d) {
    size_t p = (size_t)(d - s) + dl;
    if (p + 2 <= len && s[p] == '-' && s[p + 1] == '-')
      return; /* the closing delimiter */
    const char *nl = memchr(s + p, '\n', len - p);
    if (!nl)
      return;
    size_t hs = (size_t)(nl - s) + 1, cs = hs;
    for (;;) { /* part headers up to an empty line */
      nl = memchr(s + cs, '\n', len - cs);
      if (!nl)
        return; /* cut inside the headers: no content yet */
      size_t line = (size_t)(nl - s) - cs;
      cs = (size_t)(nl - s) + 1;
      if (line == 0 || (line == 1 && s[cs - 2] == '\r'))
        break;
    }
    size_t q = cs;
    const char *next = NULL;
    for (;;) {
      next = memmem(s + q, len - q, delim, dl);
      if (!next || next[-1] == '\n')
        break;
      q = (size_t)(next - s) + 1;
    }
    size_t ce = len;
    if (next) {
      ce = (size_t)(next - s) - 1; /* before the '\n' */
      if (ce > cs && s[ce - 1] == '\r')
        ce--;
      if (ce < cs)
        ce = cs;
    }
    const char *v;
    size_t vn;
    if (ce > cs && header_param(s + hs, cs - hs, &name_eq, &v, &vn) &&
        param_name_sensitive(rd, v, vn))
      redact_span(e, cs, ce, REDACTED);
    d = next;
  }
}

/* ------------------------------------------------------------------ bodies */

/* The media type of CT (parameters and case ignored) is TYPE, lower case. */
static int media_is(const char *ct, const char *type) {
  while (is_space((unsigned char)*ct))
    ct++;
  size_t n = 0;
  while (ct[n] && ct[n] != ';' && !is_space((unsigned char)ct[n]))
    n++;
  name_t t = {type, strlen(type)};
  return eq_nocase(ct, n, &t);
}

/* application/json, text/json, anything+json, ndjson. */
static int media_is_json(const char *ct) {
  while (is_space((unsigned char)*ct))
    ct++;
  size_t n = 0;
  while (ct[n] && ct[n] != ';' && !is_space((unsigned char)ct[n]))
    n++;
  const char *slash = memchr(ct, '/', n);
  if (!slash)
    return 0;
  const char *sub = slash + 1;
  size_t sn = n - (size_t)(sub - ct);
  static const name_t json = NAME("json"), plus = NAME("+json"), nd = NAME("x-ndjson"),
                      nd2 = NAME("ndjson");
  return eq_nocase(sub, sn, &json) || eq_nocase(sub, sn, &nd) || eq_nocase(sub, sn, &nd2) ||
         (sn > plus.n && eq_nocase(sub + sn - plus.n, plus.n, &plus));
}

reqlog_err redact_body(const redactor *rd, const char *content_type,
                       const char *data, size_t len, char **out, size_t *out_len) {
  if (!out || !out_len)
    return REQLOG_ERR_ARG;
  *out = NULL;
  *out_len = 0;
  if (!data || len == 0)
    return REQLOG_OK;
  const char *ct = content_type ? content_type : "";
  edits e;
  ed_init(&e, data, len);

  size_t first = 0;
  if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
    first = 3; /* byte order mark */
  while (first < len && is_space((unsigned char)data[first]))
    first++;
  int json_like = first < len && (data[first] == '{' || data[first] == '[');

  static const name_t boundary = NAME("boundary=");
  const char *bv;
  size_t bn;
  /* JSON first: `curl -d '{...}'` labels JSON as a form. */
  if (json_like || media_is_json(ct)) {
    json_redact(rd, &e);
  } else if (media_is(ct, "application/x-www-form-urlencoded")) {
    params_redact(rd, &e, 0, len);
  } else if (media_is(ct, "multipart/form-data") &&
             header_param(ct, strlen(ct), &boundary, &bv, &bn) && bn > 0 &&
             bn <= BOUNDARY_MAX_LEN) {
    multipart_redact(rd, &e, bv, bn);
  }
  /* Everything else, binary included (application/octet-stream, NUL bytes, not UTF-8),
   * gets the Bearer/JWT scan only: it reads bytes, so it is as safe on binary as on
   * text, and a credential inside an upload is as secret as one in JSON. Its
   * replacements are ASCII, so they make no binary body "less binary". */
  return ed_finish(&e, out, out_len);
}
