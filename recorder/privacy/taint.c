/* taint.c: secrets learnt from redaction, scrubbed from the rest of a row (taint.h). */
#include "privacy/taint.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "privacy/redact.h"

#define MIN_SECRET 4

static int is_sep(unsigned char c) {
  return c <= ' ' || strchr("\"'{}[](),:;&<>\\=?#", c) != NULL;
}

void taint_add(taint *t, const char *secret, size_t len) {
  if (t->oom || len < MIN_SECRET)
    return;
  for (size_t i = 0; i < t->n; i++)
    if (t->len[i] == len && memcmp(t->tok[i], secret, len) == 0)
      return;
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 8;
    char **tok = realloc(t->tok, cap * sizeof *tok);
    if (!tok) {
      t->oom = 1;
      return;
    }
    t->tok = tok;
    size_t *l = realloc(t->len, cap * sizeof *l);
    if (!l) {
      t->oom = 1;
      return;
    }
    t->len = l;
    t->cap = cap;
  }
  char *copy = malloc(len + 1);
  if (!copy) {
    t->oom = 1;
    return;
  }
  memcpy(copy, secret, len);
  copy[len] = '\0';
  t->tok[t->n] = copy;
  t->len[t->n] = len;
  t->n++;
}

/* ORIG[0..N) reading "Basic <base64 of user:password>" teaches the password decoded (an
 * API may quote it back in clear), or the user name when the password is empty (then it
 * is the secret, as with "sk_live_...:" keys). */
static void learn_basic(taint *t, const char *orig, size_t n) {
  while (n && (*orig == ' ' || *orig == '\t')) {
    orig++;
    n--;
  }
  while (n && (orig[n - 1] == ' ' || orig[n - 1] == '\t'))
    n--;
  if (n < 7 || strncasecmp(orig, "basic", 5) != 0 || (orig[5] != ' ' && orig[5] != '\t'))
    return;
  const char *cred = orig + 6;
  size_t cn = n - 6;
  while (cn && (*cred == ' ' || *cred == '\t')) {
    cred++;
    cn--;
  }
  size_t cap = cn / 4 * 3 + 3, un = 0, dn = 0;
  unsigned char *dec = malloc(cap);
  if (!dec) {
    t->oom = 1;
    return;
  }
  if (redact_basic_decode(cred, cn, dec, &un, &dn) == 0) {
    if (un + 1 < dn)
      taint_add(t, (const char *)dec + un + 1, dn - un - 1);
    else
      taint_add(t, (const char *)dec, un);
  }
  explicit_bzero(dec, cap);
  free(dec);
}

void taint_learn(taint *t, const char *orig, size_t orig_len, const char *red, size_t red_len) {
  learn_basic(t, orig, orig_len);
  size_t i = 0;
  while (i < orig_len) {
    while (i < orig_len && is_sep((unsigned char)orig[i]))
      i++;
    size_t start = i;
    while (i < orig_len && !is_sep((unsigned char)orig[i]))
      i++;
    size_t n = i - start;
    if (n >= MIN_SECRET && !memmem(red, red_len, orig + start, n) &&
        !memmem(REDACTED, sizeof REDACTED - 1, orig + start, n))
      taint_add(t, orig + start, n);
  }
}

void taint_learn_cookie(taint *t, const char *value, int set_cookie) {
  const char *p = value;
  while (p && *p) {
    const char *end = strchr(p, ';');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    const char *eq = memchr(p, '=', n);
    if (eq) {
      const char *v = eq + 1;
      size_t vn = n - (size_t)(v - p);
      while (vn && (*v == ' ' || *v == '"')) {
        v++;
        vn--;
      }
      while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '"'))
        vn--;
      taint_add(t, v, vn);
    }
    if (set_cookie || !end)
      break;
    p = end + 1;
  }
}

reqlog_err taint_scrub(const taint *t, const char *text, size_t len, char **out, size_t *out_len) {
  *out = NULL;
  *out_len = 0;
  if (!t->n || !text || !len)
    return REQLOG_OK;
  char *cur = NULL;
  size_t cur_len = len;
  const char *src = text;
  for (size_t k = 0; k < t->n; k++) {
    if (!memmem(src, cur_len, t->tok[k], t->len[k]))
      continue;
    /* count, then rebuild with every occurrence replaced */
    size_t hits = 0;
    for (const char *p = src; (p = memmem(p, cur_len - (size_t)(p - src), t->tok[k], t->len[k]));
         p += t->len[k])
      hits++;
    size_t nlen = cur_len - hits * t->len[k] + hits * (sizeof REDACTED - 1);
    char *next = malloc(nlen + 1);
    if (!next) {
      free(cur);
      return REQLOG_ERR_NOMEM;
    }
    char *w = next;
    const char *p = src, *end = src + cur_len, *hit;
    while ((hit = memmem(p, (size_t)(end - p), t->tok[k], t->len[k]))) {
      memcpy(w, p, (size_t)(hit - p));
      w += hit - p;
      memcpy(w, REDACTED, sizeof REDACTED - 1);
      w += sizeof REDACTED - 1;
      p = hit + t->len[k];
    }
    memcpy(w, p, (size_t)(end - p));
    w += end - p;
    *w = '\0';
    free(cur);
    cur = next;
    cur_len = (size_t)(w - next);
    src = cur;
  }
  *out = cur;
  *out_len = cur ? cur_len : 0;
  return REQLOG_OK;
}

reqlog_err taint_scrub_str(const taint *t, char **text) {
  if (!*text)
    return REQLOG_OK;
  char *out = NULL;
  size_t n = 0;
  reqlog_err err = taint_scrub(t, *text, strlen(*text), &out, &n);
  if (err == REQLOG_OK && out) {
    free(*text);
    *text = out;
  }
  return err;
}

void taint_free(taint *t) {
  for (size_t i = 0; i < t->n; i++) {
    memset(t->tok[i], 0, t->len[i]);
    free(t->tok[i]);
  }
  free(t->tok);
  free(t->len);
  memset(t, 0, sizeof *t);
}
