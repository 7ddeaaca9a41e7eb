/* prepare.c: a captured transfer (record) redacted into row values (row_prepare). It
 * puts the parts together in their order: the URL, the header blocks (prepare_head.c),
 * the bodies (prepare_body.c), then what redaction removed anywhere scrubbed from the
 * whole row, the digests and the API's error fields. Done on the writer thread so the
 * recording thread only copies bytes. */
#include "privacy/prepare_int.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "base/errbody.h"
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
  free(v->request_id);
  for (size_t i = 0; i < v->nfields; i++)
    free(v->fields[i]);
  free(v->fields);
  memset(v, 0, sizeof *v);
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
    err = body_scrub(t, &v->req_body, &v->req_body_len, v->req_body_text, v->req_body_null,
                     &v->req_body_own);
  if (err == REQLOG_OK)
    err = body_scrub(t, &v->resp_body, &v->resp_body_len, v->resp_body_text, v->resp_body_null,
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
  reqlog_err err = head_json(rd, t, r->req_head ? r->req_head : "", r->req_head_len,
                                &v->req_headers, key_fp, req_ctype);
  if (err != REQLOG_OK)
    return err;
  char unused_fp[48];
  err = head_json(rd, t, r->resp_head ? r->resp_head : "", r->resp_head_len,
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
