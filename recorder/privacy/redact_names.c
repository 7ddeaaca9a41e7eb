/* redact_names.c: the names redaction looks for and the one rule by which they compare.
 * It holds the default lists of docs/design.md §4 (parameters, JSON keys, headers), the
 * names a redactor adds to them, and the folding that makes access_token, accessToken
 * and ACCESS-TOKEN one name. */
#include "privacy/redact_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/dynbuf.h"
#include "base/util.h"

#define NOT_FOLDED ((size_t)-1)

/* The name lists are written folded (see fold_name): access_token is "accesstoken" and
 * also matches accessToken, access-token and ACCESS-TOKEN. */
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

static const struct {
  const name_t *names;
  size_t count;
} lists[] = {
  [NAMES_PARAMS] = {default_params, COUNT(default_params)},
  [NAMES_KEYS] = {default_keys, COUNT(default_keys)},
  [NAMES_HEADERS] = {header_names, COUNT(header_names)},
  [NAMES_URL_HEADERS] = {url_headers, COUNT(url_headers)},
};

/* The most names redactor_add() keeps: far more than anyone lists, and a bound on the
 * scan every lookup makes through them. */
#define ADDED_MAX 65536

struct redactor {
  dynbuf added; /* the added names, folded: name_t entries, each S a malloc'd copy */
};

/* The names added to RD, *COUNT of them. */
static const name_t *added_names(const redactor *rd, size_t *count) {
  *count = rd->added.len / sizeof(name_t);
  return (const name_t *)(const void *)rd->added.data;
}

/* ------------------------------------------------------------------ words */

int names_eq_nocase(const char *p, size_t n, const name_t *nm) {
  if (n != nm->n)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (ch_lower((unsigned char)p[i]) != (unsigned char)nm->s[i])
      return 0;
  return 1;
}

int names_word_in(const name_t *list, size_t count, const char *p, size_t n) {
  for (size_t i = 0; i < count; i++)
    if (names_eq_nocase(p, n, &list[i]))
      return 1;
  return 0;
}

void names_trim(const char **p, size_t *n) {
  while (*n && ch_space((unsigned char)**p)) {
    (*p)++;
    (*n)--;
  }
  while (*n && ch_space((unsigned char)(*p)[*n - 1]))
    (*n)--;
}

/* ------------------------------------------------------------------ folded names */

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
    out[m] = (char)ch_lower(c);
    m += c != '_' && c != '-';
  }
  return m;
}

/* The folded F[0..M) (M > 0) is one of the COUNT names of LIST (written folded). */
static int folded_in(const name_t *list, size_t count, const char *f, size_t m) {
  /* the first byte is compared before memcmp, which most names fail */
  for (size_t i = 0; i < count; i++)
    if (list[i].n == m && list[i].s[0] == f[0] && memcmp(list[i].s, f, m) == 0)
      return 1;
  return 0;
}

/* The folded F[0..M) (M > 0) is one of LIST's names (written folded) or, RD not NULL,
 * one of the names added to RD. */
static int folded_listed(const redactor *rd, const name_t *list, size_t count,
                         const char *f, size_t m) {
  if (folded_in(list, count, f, m))
    return 1;
  if (!rd)
    return 0;
  size_t added;
  const name_t *names = added_names(rd, &added);
  return folded_in(names, added, f, m);
}

/* Every list lookup goes through here. A name that folds to nothing matches nothing. */
int names_listed(const redactor *rd, names_list list, const char *p, size_t n) {
  char f[NAME_MAX_LEN];
  size_t m = fold_name(p, n, f, sizeof f);
  return m != NOT_FOLDED && m > 0 &&
         folded_listed(rd, lists[list].names, lists[list].count, f, m);
}

/* Every header of every recorded call is checked, so the name is folded once, not once
 * per part. */
int names_has_secret_part(const char *name, size_t n) {
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

/* ------------------------------------------------------------------ added names */

reqlog_err redactor_new(redactor **out) {
  if (!out)
    return REQLOG_ERR_ARG;
  *out = calloc(1, sizeof **out);
  if (!*out)
    return REQLOG_ERR_NOMEM;
  dynbuf_init(&(*out)->added, ADDED_MAX * sizeof(name_t));
  return REQLOG_OK;
}

void redactor_free(redactor *rd) {
  if (!rd)
    return;
  size_t added;
  const name_t *names = added_names(rd, &added);
  for (size_t i = 0; i < added; i++)
    free((char *)names[i].s);
  dynbuf_free(&rd->added);
  free(rd);
}

/* Adds P[0..N), trimmed and folded; an empty name is ignored, a repeated one (in any
 * spelling) kept once. */
static reqlog_err add_name(redactor *rd, const char *p, size_t n) {
  names_trim(&p, &n);
  if (n > NAME_MAX_LEN)
    return REQLOG_ERR_ARG;
  char f[NAME_MAX_LEN];
  size_t m = fold_name(p, n, f, sizeof f);
  if (m == 0 || folded_listed(rd, NULL, 0, f, m))
    return REQLOG_OK; /* empty once folded ("", "--"), or there already */
  name_t nm = {util_strndup(f, m), m};
  if (!nm.s)
    return REQLOG_ERR_NOMEM;
  /* past ADDED_MAX too: REQLOG_ERR_FULL would read "disk is full" */
  if (dynbuf_add(&rd->added, &nm, sizeof nm) != REQLOG_OK) {
    free((char *)nm.s);
    return REQLOG_ERR_NOMEM;
  }
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
