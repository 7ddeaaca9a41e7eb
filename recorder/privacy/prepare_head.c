/* prepare_head.c: a captured header block turned into the JSON array of [name, value]
 * pairs a row stores, every value redacted (redact_header) and what redaction removed
 * learnt into the row's taint; the key's fingerprint and the Content-Type are picked up
 * on the way. */
#include "privacy/prepare_int.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/dynbuf.h"
#include "base/util.h"

/* Trims spaces and tabs at both ends of [*p, *p + *n). */
static void trim(const char **p, size_t *n) {
  while (*n && (**p == ' ' || **p == '\t')) {
    (*p)++;
    (*n)--;
  }
  while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' || (*p)[*n - 1] == '\r'))
    (*n)--;
}

/* A header block being turned into a JSON array of [name, value] pairs. The array
 * refers to the names (cut out of one copy of the block) and to the redacted values
 * (kept in VALS) instead of copying each string again. */
typedef struct {
  const redactor *rd;
  taint *t;
  cJSON *arr;
  dynbuf vals; /* the redacted values the array refers to: an array of char * */
  size_t text; /* the most the printed array can take */
  char *key_fp;
  char **ctype;
} head_block;

/* How many values H->vals holds. */
static size_t head_nvals(const head_block *h) {
  return h->vals.len / sizeof(char *);
}

/* Room for one value per byte of a block of LEN bytes, more than it can have (a header
 * takes a line): the cap of H->vals is only a guard against a wrong size. */
static void head_vals_init(head_block *h, size_t len) {
  size_t most = len < SIZE_MAX / sizeof(char *) - 1 ? len + 1 : SIZE_MAX / sizeof(char *) - 1;
  dynbuf_init(&h->vals, most * sizeof(char *));
}

/* Frees the values in H->vals and the array. */
static void head_vals_free(head_block *h) {
  char **v = (char **)(void *)h->vals.data;
  for (size_t i = 0; i < head_nvals(h); i++)
    free(v[i]);
  dynbuf_free(&h->vals);
}

/* What redaction removed from header N: V (it became RV) is learnt into T. */
static void head_learn(taint *t, const char *n, const char *v, const char *rv) {
  if (strcmp(rv, v) == 0)
    return;
  if (strcasecmp(n, "Cookie") == 0 || strcasecmp(n, "Set-Cookie") == 0)
    taint_learn_cookie(t, v, strcasecmp(n, "Set-Cookie") == 0);
  else
    taint_learn(t, v, strlen(v), rv, strlen(rv));
}

/* Appends the pair [N, RV] to ARR, both by reference. */
static reqlog_err head_pair(cJSON *arr, const char *n, const char *rv) {
  cJSON *pair = cJSON_CreateArray();
  cJSON *jn = pair ? cJSON_CreateStringReference(n) : NULL;
  cJSON *jv = jn ? cJSON_CreateStringReference(rv) : NULL;
  if (!jv) {
    cJSON_Delete(pair);
    cJSON_Delete(jn);
    return REQLOG_ERR_NOMEM;
  }
  cJSON_AddItemToArray(pair, jn);
  cJSON_AddItemToArray(pair, jv);
  cJSON_AddItemToArray(arr, pair);
  return REQLOG_OK;
}

/* The header N: V (NUL-terminated, trimmed; N cut at NLEN bytes) into H: its value
 * redacted, what redaction removed learnt, the fingerprint and Content-Type kept. */
static reqlog_err head_add(head_block *h, const char *n, size_t nlen, const char *v) {
  char *rv = redact_header(h->rd, n, v, h->key_fp);
  if (!rv)
    return REQLOG_ERR_NOMEM;
  if (dynbuf_add(&h->vals, &rv, sizeof rv) != REQLOG_OK) {
    free(rv);
    return REQLOG_ERR_NOMEM;
  }
  head_learn(h->t, n, v, rv);
  if (h->ctype && !*h->ctype && strcasecmp(n, "Content-Type") == 0) {
    *h->ctype = strdup(v);
    if (!*h->ctype)
      return REQLOG_ERR_NOMEM;
  }
  if (head_pair(h->arr, n, rv) != REQLOG_OK)
    return REQLOG_ERR_NOMEM;
  h->text += 6 * (nlen + strlen(rv)) + 8; /* escaped strings, quotes, brackets, commas */
  return REQLOG_OK;
}

/* The header line P[0..LL) of the copy ("name: value"; a line without a colon is
 * skipped) into H. Name and value are cut out of the line in place. */
static reqlog_err head_line(head_block *h, char *p, size_t ll) {
  char *colon = memchr(p, ':', ll);
  if (!colon)
    return REQLOG_OK;
  const char *name = p, *val = colon + 1;
  size_t nlen = (size_t)(colon - p), vlen = ll - nlen - 1;
  trim(&name, &nlen);
  trim(&val, &vlen);
  /* both ends are inside this line of the copy: cut the two strings out of it */
  char *n = (char *)name, *v = (char *)val;
  n[nlen] = '\0';
  v[vlen] = '\0';
  return head_add(h, n, nlen, v);
}

/* The lines of the block COPY[0..LEN) after the first, up to an empty one, into H. */
static reqlog_err head_lines(head_block *h, char *copy, size_t len) {
  char *p = copy, *end = copy + len;
  int first = 1;
  while (p && p < end) {
    char *nl = memchr(p, '\n', (size_t)(end - p));
    char *le = nl ? nl : end;
    size_t ll = (size_t)(le - p);
    if (ll && p[ll - 1] == '\r')
      ll--;
    if (first) {
      first = 0;
    } else if (ll == 0) {
      break;
    } else if ((p[0] == ' ' || p[0] == '\t') && head_nvals(h)) {
      /* obsolete line folding: the line continues the previous value */
    } else if (head_line(h, p, ll) != REQLOG_OK) {
      return REQLOG_ERR_NOMEM;
    }
    p = nl ? nl + 1 : NULL;
  }
  return REQLOG_OK;
}

/* ARR printed into one buffer of the largest size it can need, TEXT (every byte escaped
 * as \u00XX), then shrunk to fit. */
static reqlog_err head_print(cJSON *arr, size_t text, char **out) {
  if (text > INT_MAX) {
    *out = cJSON_PrintUnformatted(arr);
    return *out ? REQLOG_OK : REQLOG_ERR_NOMEM;
  }
  char *buf = malloc(text);
  if (!buf)
    return REQLOG_ERR_NOMEM;
  if (!cJSON_PrintPreallocated(arr, buf, (int)text, 0)) {
    free(buf);
    return REQLOG_ERR_NOMEM;
  }
  char *fit = realloc(buf, strlen(buf) + 1);
  *out = fit ? fit : buf;
  return REQLOG_OK;
}

/* This runs for every recorded call on the writer thread, so it allocates little. */
reqlog_err head_json(const redactor *rd, taint *t, const char *blk, size_t len, char **out,
                     char key_fp[48], char **ctype) {
  reqlog_err err = REQLOG_ERR_NOMEM;
  char *copy = util_strndup(blk, len);
  head_block h = {.rd = rd, .t = t, .arr = cJSON_CreateArray(), .key_fp = key_fp,
                 .ctype = ctype};
  h.text = 16; /* brackets, NUL, cJSON's slack */
  head_vals_init(&h, len);
  if (copy && h.arr && head_lines(&h, copy, len) == REQLOG_OK)
    err = head_print(h.arr, h.text, out);
  cJSON_Delete(h.arr);
  head_vals_free(&h);
  free(copy);
  return err;
}
