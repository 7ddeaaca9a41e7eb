/* mock_entry.c: one recorded call as the mock holds it, made from a row of the row
 * model (docs/design.md §7, with bodies): method in upper case, path and its template,
 * the query's parameters, the request body (to match), and the response (to serve):
 * status, headers in order, the body decoded from text or base64. */
#include "read/mock.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "base/util.h"
#include "read/pathtmpl.h"

void mock_entry_free(mock_entry *e) {
  if (!e)
    return;
  free(e->method);
  free(e->url);
  free(e->path);
  free(e->tpl);
  for (size_t i = 0; e->headers && i < e->call.nheaders; i++) {
    free((char *)e->headers[i].name);
    free((char *)e->headers[i].value);
  }
  free(e->headers);
  free(e->resp_body);
  mock_params_free(&e->query);
  mock_body_free(&e->body);
  free(e->req_body);
  free(e);
}

typedef struct bytes {
  unsigned char *p;
  size_t len;
} bytes;

static void to_bytes(void *ctx, const unsigned char *p, size_t n) {
  bytes *b = ctx;
  memcpy(b->p + b->len, p, n);
  b->len += n;
}

/* A body of the row model (a string, {"base64": ...} or null) into *out and *len
 * (*out NULL for none). Returns REQLOG_OK, NOMEM, or DB for base64 that is not. */
static reqlog_err body_of(const cJSON *v, unsigned char **out, size_t *len) {
  *out = NULL;
  *len = 0;
  if (cJSON_IsString(v)) {
    size_t n = strlen(v->valuestring);
    if (!(*out = malloc(n + 1)))
      return REQLOG_ERR_NOMEM;
    memcpy(*out, v->valuestring, n + 1);
    *len = n;
    return REQLOG_OK;
  }
  const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(v, "base64");
  if (!cJSON_IsString(b64))
    return REQLOG_OK;
  bytes b = {malloc(BASE64_DECODED_MAX(strlen(b64->valuestring)) + 1), 0};
  if (!b.p)
    return REQLOG_ERR_NOMEM;
  if (base64_decode(b64->valuestring, to_bytes, &b) != 0) {
    free(b.p);
    return REQLOG_ERR_DB;
  }
  b.p[b.len] = '\0';
  *out = b.p;
  *len = b.len;
  return REQLOG_OK;
}

/* The row's response headers ([[name, value], ...]) into E; entries of another shape
 * are skipped. */
static reqlog_err headers_of(const cJSON *list, mock_entry *e) {
  int n = cJSON_GetArraySize(list);
  if (n <= 0)
    return REQLOG_OK;
  e->headers = calloc((size_t)n, sizeof *e->headers);
  if (!e->headers)
    return REQLOG_ERR_NOMEM;
  const cJSON *h;
  cJSON_ArrayForEach(h, list) {
    const cJSON *name = cJSON_GetArrayItem(h, 0), *value = cJSON_GetArrayItem(h, 1);
    if (!cJSON_IsString(name) || !cJSON_IsString(value))
      continue;
    reqlog_mock_header *out = &e->headers[e->call.nheaders];
    out->name = util_strdup(name->valuestring);
    out->value = util_strdup(value->valuestring);
    e->call.nheaders++; /* counted first: mock_entry_free() frees what was copied */
    if (!out->name || !out->value)
      return REQLOG_ERR_NOMEM;
  }
  return REQLOG_OK;
}

static const char *str_of(const cJSON *row, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, name);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The request of ROW into E: method, URL, path and template, query, body. */
static reqlog_err fill_request(mock_entry *e, const cJSON *row, char **cause) {
  const char *method = str_of(row, "method"), *url = str_of(row, "url");
  const char *path = str_of(row, "path");
  if (!method || !url || !path)
    return util_fail(cause, REQLOG_ERR_DB, "mock: call #%lld has no method, URL or path",
                     (long long)e->call.id);
  e->method = util_strdup(method);
  e->url = util_strdup(url);
  e->path = util_strdup(path);
  e->tpl = path_template_dup(path);
  if (!e->method || !e->url || !e->path || !e->tpl)
    return REQLOG_ERR_NOMEM;
  for (char *c = e->method; *c; c++)
    *c = (char)toupper((unsigned char)*c);
  /* the query: after '?', before any '#' */
  const char *q = strchr(url, '?');
  if (q) {
    q++;
    reqlog_err err = mock_params_parse(q, strcspn(q, "#"), &e->query);
    if (err != REQLOG_OK)
      return err;
  }
  reqlog_err err = body_of(cJSON_GetObjectItemCaseSensitive(row, "request_body"), &e->req_body,
                           &e->req_body_len);
  if (err == REQLOG_ERR_DB)
    return util_fail(cause, err, "mock: call #%lld has a request body that is not base64",
                     (long long)e->call.id);
  if (err != REQLOG_OK)
    return err;
  e->req_truncated = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "request_truncated"));
  e->call.method = e->method;
  e->call.url = e->url;
  e->call.path = e->path;
  e->call.tpl = e->tpl;
  return mock_body_init(&e->body, e->req_body, e->req_body_len, e->req_truncated);
}

reqlog_err mock_entry_response(mock_entry *e, const cJSON *row, char **cause) {
  reqlog_err err = headers_of(cJSON_GetObjectItemCaseSensitive(row, "response_headers"), e);
  if (err == REQLOG_OK)
    err = body_of(cJSON_GetObjectItemCaseSensitive(row, "response_body"), &e->resp_body,
                  &e->call.body_len);
  if (err == REQLOG_ERR_DB)
    return util_fail(cause, err, "mock: call #%lld has a response body that is not base64",
                     (long long)e->call.id);
  if (err != REQLOG_OK)
    return err;
  e->call.body_truncated =
    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "response_truncated"));
  const cJSON *size = cJSON_GetObjectItemCaseSensitive(row, "response_size");
  e->call.body_size = cJSON_IsNumber(size) ? (int64_t)size->valuedouble
                                           : (int64_t)e->call.body_len;
  e->call.headers = e->headers;
  e->call.body = e->resp_body;
  return REQLOG_OK;
}

reqlog_err mock_entry_request(const cJSON *row, mock_entry **out, char **cause) {
  *out = NULL;
  const cJSON *status = cJSON_GetObjectItemCaseSensitive(row, "status");
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(row, "id");
  if (!cJSON_IsNumber(status) || status->valuedouble < 200 || status->valuedouble > 599)
    return REQLOG_OK; /* no response to serve */
  if (!cJSON_IsNumber(id))
    return util_fail(cause, REQLOG_ERR_DB, "mock: a row has no id");
  mock_entry *e = calloc(1, sizeof *e);
  if (!e)
    return REQLOG_ERR_NOMEM;
  e->call.id = (int64_t)id->valuedouble;
  e->call.status = (int)status->valuedouble;
  reqlog_err err = fill_request(e, row, cause);
  if (err != REQLOG_OK) {
    mock_entry_free(e);
    return err;
  }
  *out = e;
  return REQLOG_OK;
}

reqlog_err mock_entry_of_row(const cJSON *row, mock_entry **out, char **cause) {
  reqlog_err err = mock_entry_request(row, out, cause);
  if (err == REQLOG_OK && *out && (err = mock_entry_response(*out, row, cause)) != REQLOG_OK) {
    mock_entry_free(*out);
    *out = NULL;
  }
  return err;
}
