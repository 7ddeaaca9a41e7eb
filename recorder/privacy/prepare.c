/* prepare.c: a captured transfer (record) redacted into row values (row_prepare): the
 * headers as JSON, the bodies as text or blob, what redaction removed scrubbed from the
 * whole row, the digests and the API's error fields. Done on the writer thread so the
 * recording thread only copies bytes. */
#include "capture/record.h"

#include <ctype.h>
#include <curl/curl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/errbody.h"
#include "privacy/taint.h"
#include "base/util.h"

void row_values_free(row_values *v) {
  free(v->method);
  free(v->url);
  free(v->host);
  free(v->path);
  free(v->error);
  free(v->key);
  free(v->req_headers);
  free(v->resp_headers);
  free(v->req_body_own);
  free(v->resp_body_own);
  free(v->error_message);
  free(v->error_fields);
  for (size_t i = 0; i < v->nfields; i++)
    free(v->fields[i]);
  free(v->fields);
  memset(v, 0, sizeof *v);
}

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
  char **vals; /* the redacted values the array refers to */
  size_t nvals, cap;
  size_t text; /* the most the printed array can take */
  char *key_fp;
  char **ctype;
} head_json;

/* Room in H->vals for one more value. */
static reqlog_err head_grow(head_json *h) {
  if (h->nvals < h->cap)
    return REQLOG_OK;
  size_t ncap = h->cap ? h->cap * 2 : 16;
  char **nv = realloc(h->vals, ncap * sizeof *nv);
  if (!nv)
    return REQLOG_ERR_NOMEM;
  h->vals = nv;
  h->cap = ncap;
  return REQLOG_OK;
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
static reqlog_err head_add(head_json *h, const char *n, size_t nlen, const char *v) {
  if (head_grow(h) != REQLOG_OK)
    return REQLOG_ERR_NOMEM;
  char *rv = redact_header(h->rd, n, v, h->key_fp);
  if (!rv)
    return REQLOG_ERR_NOMEM;
  h->vals[h->nvals++] = rv;
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
static reqlog_err head_line(head_json *h, char *p, size_t ll) {
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
static reqlog_err head_lines(head_json *h, char *copy, size_t len) {
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
    } else if ((p[0] == ' ' || p[0] == '\t') && h->nvals) {
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

/* Parses a header block (first line skipped) into a JSON array of [name, value], each
 * value redacted. Copies the fingerprint of an Authorization header into KEY_FP and the
 * Content-Type value into *ctype (malloc'd) when CTYPE is not NULL. What redaction
 * removed is learnt into T.
 * This runs for every recorded call on the writer thread, so it allocates little: names
 * and values are cut out of one copy of the block, and the array refers to them (and to
 * the redacted values) instead of copying each string again. */
static reqlog_err headers_json(const redactor *rd, taint *t, const char *blk, size_t len,
                               char **out, char key_fp[48], char **ctype) {
  reqlog_err err = REQLOG_ERR_NOMEM;
  char *copy = util_strndup(blk, len);
  head_json h = {.rd = rd, .t = t, .arr = cJSON_CreateArray(), .key_fp = key_fp,
                 .ctype = ctype};
  h.text = 16; /* brackets, NUL, cJSON's slack */
  if (copy && h.arr && head_lines(&h, copy, len) == REQLOG_OK)
    err = head_print(h.arr, h.text, out);
  cJSON_Delete(h.arr);
  for (size_t i = 0; i < h.nvals; i++)
    free(h.vals[i]);
  free(h.vals);
  free(copy);
  return err;
}

/* Length of the longest prefix of P that is valid UTF-8 without NUL, or (size_t)-1 when
 * the text is invalid before its last 3 bytes. ALLOW_CUT: a sequence cut at the end is
 * dropped instead of making the text binary (the body was truncated at the cap). */
static size_t utf8_text_len(const unsigned char *p, size_t n, int allow_cut) {
  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      if (c == 0)
        return (size_t)-1;
      i++;
      continue;
    }
    size_t k;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      k = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      k = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      k = 3;
      cp = c & 0x07;
    } else {
      return (size_t)-1;
    }
    if (i + k >= n) /* the sequence runs past the end */
      return allow_cut ? i : (size_t)-1;
    for (size_t j = 1; j <= k; j++) {
      if ((p[i + j] & 0xC0) != 0x80)
        return (size_t)-1;
      cp = (cp << 6) | (p[i + j] & 0x3F);
    }
    if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return (size_t)-1;
    i += k + 1;
  }
  return n;
}

/* Sets the body fields of V from B: text or blob, redacted (into *own when redaction
 * changed it). The digest is left to body_digest. */
static reqlog_err body_values(const redactor *rd, taint *t, const capbuf *b, const char *ctype,
                              const void **data, size_t *len, int *is_text, int *is_null,
                              char **own) {
  if (b->total == 0) {
    *is_null = 1;
    *data = NULL;
    *len = 0;
    *is_text = 1;
    return REQLOG_OK;
  }
  size_t tl = utf8_text_len(b->data, b->len, b->truncated);
  *is_text = tl != (size_t)-1;
  *data = b->data;
  *len = *is_text ? tl : b->len;
  char *red = NULL;
  size_t rlen = 0;
  reqlog_err err = redact_body(rd, *is_text ? ctype : "application/octet-stream",
                               (const char *)*data, *len, &red, &rlen);
  if (err != REQLOG_OK)
    return err;
  if (red) {
    if (*is_text)
      taint_learn(t, (const char *)*data, *len, red, rlen);
    *own = red;
    *data = red;
    *len = rlen;
  }
  return REQLOG_OK;
}

/* The body's digest into SHA, unless redaction or scrubbing changed the kept bytes (OWN
 * is their redacted copy): a digest of a body holding a secret would let anyone confirm a
 * guess of that secret. Taken last, so a body that loses a secret is never hashed. */
static void body_digest(const capbuf *b, const char *own, char sha[65]) {
  sha[0] = '\0';
  if (!own)
    capbuf_hex_digest(b, sha);
}

static reqlog_err url_parts(const char *url, char **host, char **path) {
  CURLU *u = curl_url();
  char *h = NULL, *p = NULL;
  if (u && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK) {
    curl_url_get(u, CURLUPART_HOST, &h, 0);
    curl_url_get(u, CURLUPART_PATH, &p, 0);
  }
  *host = strdup(h ? h : "");
  *path = strdup(p ? p : url);
  curl_free(h);
  curl_free(p);
  curl_url_cleanup(u);
  if (!*host || !*path)
    return REQLOG_ERR_NOMEM;
  for (char *c = *host; *c; c++)
    *c = (char)tolower((unsigned char)*c);
  return REQLOG_OK;
}

static reqlog_err error_values(row_values *v, const record *r) {
  if (r->status < 400 || !v->resp_body_text || v->resp_body_null)
    return REQLOG_OK;
  cJSON *errors = NULL;
  if (errbody_parse(v->resp_body, v->resp_body_len, &v->error_message, &errors) != 0)
    return REQLOG_ERR_NOMEM;
  if (!errors)
    return REQLOG_OK;
  v->error_fields = cJSON_PrintUnformatted(errors);
  int n = cJSON_GetArraySize(errors);
  v->fields = n > 0 ? calloc((size_t)n, sizeof *v->fields) : NULL;
  cJSON *it;
  cJSON_ArrayForEach(it, errors) {
    if (v->fields && it->string && v->nfields < (size_t)n)
      v->fields[v->nfields++] = strdup(it->string);
  }
  cJSON_Delete(errors);
  return v->error_fields ? REQLOG_OK : REQLOG_ERR_NOMEM;
}

/* Replaces what redaction learnt anywhere in the row's text. */
static reqlog_err scrub_body(const taint *t, const void **data, size_t *len, int is_text,
                             int is_null, char **own) {
  if (!is_text || is_null)
    return REQLOG_OK;
  char *out = NULL;
  size_t n = 0;
  reqlog_err err = taint_scrub(t, *data, *len, &out, &n);
  if (err != REQLOG_OK || !out)
    return err;
  free(*own);
  *own = out;
  *data = out;
  *len = n;
  return REQLOG_OK;
}

static reqlog_err scrub_row(taint *t, row_values *v) {
  if (t->oom)
    return REQLOG_ERR_NOMEM;
  if (!t->n)
    return REQLOG_OK;
  char *before = v->url;
  v->url = NULL;
  char *after = util_strdup(before);
  v->url = before;
  if (!after)
    return REQLOG_ERR_NOMEM;
  reqlog_err err = taint_scrub_str(t, &after);
  if (err == REQLOG_OK && strcmp(after, v->url) != 0) {
    /* the URL held a secret learnt elsewhere: host and path come from the clean URL */
    free(v->url);
    free(v->host);
    free(v->path);
    v->url = after;
    v->host = v->path = NULL;
    after = NULL;
    err = url_parts(v->url, &v->host, &v->path);
  }
  free(after);
  if (err == REQLOG_OK)
    err = taint_scrub_str(t, &v->error);
  if (err == REQLOG_OK)
    err = taint_scrub_str(t, &v->req_headers);
  if (err == REQLOG_OK)
    err = taint_scrub_str(t, &v->resp_headers);
  if (err == REQLOG_OK)
    err = scrub_body(t, &v->req_body, &v->req_body_len, v->req_body_text, v->req_body_null,
                     &v->req_body_own);
  if (err == REQLOG_OK)
    err = scrub_body(t, &v->resp_body, &v->resp_body_len, v->resp_body_text, v->resp_body_null,
                     &v->resp_body_own);
  return err;
}

/* The method, the redacted URL with its host and path, and the redacted error message
 * into V; what the URL lost is learnt into T. */
static reqlog_err prepare_url(const redactor *rd, taint *t, const record *r, row_values *v) {
  v->method = strdup(r->method ? r->method : "GET");
  v->url = redact_url(rd, r->url ? r->url : "");
  if (!v->method || !v->url)
    return REQLOG_ERR_NOMEM;
  reqlog_err err = url_parts(v->url, &v->host, &v->path);
  if (err != REQLOG_OK)
    return err;
  if (r->error) {
    v->error = redact_text(rd, r->error);
    if (!v->error)
      return REQLOG_ERR_NOMEM;
  }
  if (strcmp(v->url, r->url ? r->url : "") != 0)
    taint_learn(t, r->url, strlen(r->url), v->url, strlen(v->url));
  return REQLOG_OK;
}

/* Both header blocks as JSON into V, with the key's fingerprint; the request's
 * Content-Type into *REQ_CTYPE (malloc'd, NULL when there is none). */
static reqlog_err prepare_heads(const redactor *rd, taint *t, const record *r, row_values *v,
                                char **req_ctype) {
  char key_fp[48] = "";
  reqlog_err err = headers_json(rd, t, r->req_head ? r->req_head : "", r->req_head_len,
                                &v->req_headers, key_fp, req_ctype);
  if (err != REQLOG_OK)
    return err;
  char unused_fp[48];
  err = headers_json(rd, t, r->resp_head ? r->resp_head : "", r->resp_head_len,
                     &v->resp_headers, unused_fp, NULL);
  if (err != REQLOG_OK)
    return err;
  if (!key_fp[0] && r->req_head_len == 0 && r->key_fp[0])
    memcpy(key_fp, r->key_fp, sizeof key_fp); /* nothing was sent: the key it would carry */
  if (key_fp[0]) {
    v->key = strdup(key_fp);
    if (!v->key)
      return REQLOG_ERR_NOMEM;
  }
  return REQLOG_OK;
}

/* Both bodies into V, redacted, the request's read as REQ_CTYPE. */
static reqlog_err prepare_bodies(const redactor *rd, taint *t, const record *r, row_values *v,
                                 const char *req_ctype) {
  reqlog_err err = body_values(rd, t, &r->req_body, req_ctype, &v->req_body, &v->req_body_len,
                               &v->req_body_text, &v->req_body_null, &v->req_body_own);
  if (err != REQLOG_OK)
    return err;
  return body_values(rd, t, &r->resp_body, r->content_type, &v->resp_body, &v->resp_body_len,
                     &v->resp_body_text, &v->resp_body_null, &v->resp_body_own);
}

reqlog_err row_prepare(const redactor *rd, const record *r, row_values *v) {
  memset(v, 0, sizeof *v);
  taint t = {0};
  char *req_ctype = NULL;
  reqlog_err err = prepare_url(rd, &t, r, v);
  if (err == REQLOG_OK)
    err = prepare_heads(rd, &t, r, v, &req_ctype);
  if (err == REQLOG_OK)
    err = prepare_bodies(rd, &t, r, v, req_ctype);
  if (err == REQLOG_OK)
    err = scrub_row(&t, v);
  if (err == REQLOG_OK) {
    body_digest(&r->req_body, v->req_body_own, v->req_sha);
    body_digest(&r->resp_body, v->resp_body_own, v->resp_sha);
    err = error_values(v, r);
  }
  free(req_ctype);
  taint_free(&t);
  if (err != REQLOG_OK)
    row_values_free(v);
  return err;
}
