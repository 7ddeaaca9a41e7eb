/* fuzz_proxy_head.c: the recording proxy's request-head check (recorder/proxy/proxy_head.c),
 * the one place that decides whether a request's framing is clear enough to forward.
 *
 * Input: lines separated by '\n'. The first line is the method (up to a NUL, as the
 * proxy gets it from libmicrohttpd); each further line is one header field "name:value"
 * (split at the first ':'; no ':' gives an empty value); a line that starts with '~' is a
 * field the caller saw continued with obs-fold (the '~' is dropped). Values keep every
 * other byte, CR and NUL included.
 * Properties: the answer is 0, 400 or 501, with a reason exactly when it is not 0; the
 * same head gets the same answer twice; and every head the check lets through satisfies,
 * by this file's own reading of RFC 9110/9112, what forwarding relies on: a token method
 * and field names, no control character in a value, no obs-fold, at most one Host, at
 * most one Transfer-Encoding and then exactly "chunked" and no Content-Length, and
 * Content-Length values that are digits and all the same number. (The check may refuse
 * more than this: that is not a failure.) */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "proxy/proxy_head.h"
#include "base/util.h"

#define MAX_FIELDS 64

static int same_name(const proxy_hdr *h, const char *name) {
  size_t n = strlen(name);
  return h->nlen == n && strncasecmp(h->name, name, n) == 0;
}

static int all_tchars(const char *s, size_t n) {
  if (n == 0)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!util_is_tchar((unsigned char)s[i]))
      return 0;
  return 1;
}

static int has_control(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return 1;
  }
  return 0;
}

/* S[0..N) without the blanks (SP, HTAB) around it. */
static void trim(const char **s, size_t *n) {
  while (*n && (**s == ' ' || **s == '\t')) {
    (*s)++;
    (*n)--;
  }
  while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
    (*n)--;
}

/* The digits of a Content-Length without leading zeros in *D and *DN; 0 when not digits. */
static int length_digits(const proxy_hdr *h, const char **d, size_t *dn) {
  const char *s = h->value;
  size_t n = h->vlen;
  trim(&s, &n);
  if (n == 0)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return 0;
  while (n > 1 && *s == '0') {
    s++;
    n--;
  }
  *d = s;
  *dn = n;
  return 1;
}

/* Non-zero when what forwarding relies on holds for the head METHOD + H[0..N). */
static int forwardable(const char *method, const proxy_hdr *h, size_t n) {
  if (!all_tchars(method, strlen(method)))
    return 0;
  size_t hosts = 0, codings = 0, lengths = 0;
  const char *first = NULL;
  size_t first_n = 0;
  for (size_t i = 0; i < n; i++) {
    if (!all_tchars(h[i].name, h[i].nlen) || has_control(h[i].value, h[i].vlen) ||
        h[i].folded)
      return 0;
    if (same_name(&h[i], "Host"))
      hosts++;
    if (same_name(&h[i], "Transfer-Encoding")) {
      const char *v = h[i].value;
      size_t vn = h[i].vlen;
      trim(&v, &vn);
      if (vn != 7 || strncasecmp(v, "chunked", 7) != 0)
        return 0;
      codings++;
    }
    if (same_name(&h[i], "Content-Length")) {
      const char *d;
      size_t dn;
      if (!length_digits(&h[i], &d, &dn))
        return 0;
      if (first && (dn != first_n || memcmp(d, first, dn) != 0))
        return 0;
      first = d;
      first_n = dn;
      lengths++;
    }
  }
  return hosts <= 1 && codings <= 1 && !(codings && lengths);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  FUZZ_CHECK(text != NULL, "out of memory");
  if (size)
    memcpy(text, data, size);
  text[size] = '\0';

  proxy_hdr h[MAX_FIELDS];
  size_t n = 0;
  char *line_end = memchr(text, '\n', size);
  size_t method_len = line_end ? (size_t)(line_end - text) : size;
  text[method_len] = '\0'; /* the method: up to the first NUL, as a C string */
  size_t off = line_end ? method_len + 1 : size;
  while (off < size && n < MAX_FIELDS) {
    char *line = text + off;
    char *nl = memchr(line, '\n', size - off);
    size_t len = nl ? (size_t)(nl - line) : size - off;
    memset(&h[n], 0, sizeof h[n]);
    if (len && line[0] == '~') {
      h[n].folded = 1;
      line++;
      len--;
    }
    char *colon = memchr(line, ':', len);
    h[n].name = line;
    h[n].nlen = colon ? (size_t)(colon - line) : len;
    h[n].value = colon ? colon + 1 : line + len;
    h[n].vlen = colon ? len - h[n].nlen - 1 : 0;
    n++;
    off += (nl ? len + 1 : len) + (size_t)h[n - 1].folded;
  }

  const char *why = NULL, *why2 = NULL;
  int status = proxy_head_check(text, h, n, &why);
  FUZZ_CHECK(status == 0 || status == 400 || status == 501, "status is not 0, 400 or 501");
  FUZZ_CHECK(status == 0 || (why != NULL && *why != '\0'), "a refusal without a reason");
  FUZZ_CHECK(proxy_head_check(text, h, n, &why2) == status, "the same head, another answer");
  if (status == 0)
    FUZZ_CHECK(forwardable(text, h, n), "a head forwarding cannot rely on was let through");
  free(text);
  return 0;
}
