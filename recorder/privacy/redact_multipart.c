/* redact_multipart.c: the multipart/form-data rule. It walks the parts between the
 * boundary's delimiters, reads each part's form name from its Content-Disposition, and
 * replaces the content of a part whose name is a sensitive parameter; a part cut by the
 * end of the data is redacted to the end. Also reads a parameter of a header value (the
 * form name, the Content-Type's boundary). */
#include "privacy/redact_int.h"

#include <string.h>

/* The first occurrence of the lower-case NEEDLE in P[0..N), case-insensitively. */
static const char *find_nocase(const char *p, size_t n, const name_t *needle) {
  for (size_t i = 0; i + needle->n <= n; i++)
    if (names_eq_nocase(p + i, needle->n, needle))
      return p + i;
  return NULL;
}

int multipart_param(const char *p, size_t n, const name_t *param, const char **v,
                    size_t *vn) {
  size_t off = 0;
  while (off < n) {
    const char *hit = find_nocase(p + off, n - off, param);
    if (!hit)
      return 0;
    size_t at = (size_t)(hit - p);
    off = at + 1;
    if (at > 0 && p[at - 1] != ';' && !ch_space((unsigned char)p[at - 1]))
      continue;
    size_t b = at + param->n, end = b;
    if (b < n && p[b] == '"') {
      b++;
      end = b;
      while (end < n && p[end] != '"')
        end++;
    } else {
      while (end < n && p[end] != ';' && !ch_space((unsigned char)p[end]))
        end++;
    }
    *v = p + b;
    *vn = end - b;
    return 1;
  }
  return 0;
}

/* The multipart text S[0..LEN) and its delimiter DELIM[0..DL), "--" and the boundary. */
typedef struct {
  const char *s;
  size_t len;
  const char *delim;
  size_t dl;
} mp_text;

/* The first delimiter at the start of a line in S[FROM..LEN), or NULL. */
static const char *mp_next_delim(const mp_text *t, size_t from) {
  for (;;) {
    const char *d = memmem(t->s + from, t->len - from, t->delim, t->dl);
    if (!d || d == t->s || d[-1] == '\n')
      return d;
    from = (size_t)(d - t->s) + 1;
  }
}

/* The start of the content of the part whose headers start at HS: after the empty line
 * that ends them, or 0 when the data ends inside the headers. */
static size_t mp_content_start(const mp_text *t, size_t hs) {
  size_t cs = hs;
  for (;;) {
    const char *nl = memchr(t->s + cs, '\n', t->len - cs);
    if (!nl)
      return 0;
    size_t line = (size_t)(nl - t->s) - cs;
    cs = (size_t)(nl - t->s) + 1;
    if (line == 0 || (line == 1 && t->s[cs - 2] == '\r'))
      return cs;
  }
}

/* The end of content that starts at CS and runs to the delimiter NEXT (NULL: to the end
 * of the data), the line break before the delimiter left out. */
static size_t mp_content_end(const mp_text *t, size_t cs, const char *next) {
  if (!next)
    return t->len;
  size_t ce = (size_t)(next - t->s) - 1; /* before the '\n' */
  if (ce > cs && t->s[ce - 1] == '\r')
    ce--;
  return ce < cs ? cs : ce;
}

void multipart_redact(const redactor *rd, edits *e, const char *bnd, size_t bn) {
  static const name_t name_eq = NAME("name=");
  char delim[2 + BOUNDARY_MAX_LEN];
  memcpy(delim, "--", 2);
  memcpy(delim + 2, bnd, bn);
  const mp_text t = {e->src, e->len, delim, bn + 2};
  const char *s = t.s;

  for (const char *d = mp_next_delim(&t, 0); d;) {
    size_t p = (size_t)(d - s) + t.dl;
    if (p + 2 <= t.len && s[p] == '-' && s[p + 1] == '-')
      return; /* the closing delimiter */
    const char *nl = memchr(s + p, '\n', t.len - p);
    if (!nl)
      return;
    size_t hs = (size_t)(nl - s) + 1, cs = mp_content_start(&t, hs);
    if (cs == 0)
      return; /* cut inside the headers: no content yet */
    const char *next = mp_next_delim(&t, cs);
    size_t ce = mp_content_end(&t, cs, next);
    const char *v;
    size_t vn;
    if (ce > cs && multipart_param(s + hs, cs - hs, &name_eq, &v, &vn) &&
        url_param_sensitive(rd, v, vn))
      token_span(e, cs, ce, REDACTED);
    d = next;
  }
}
