/* har_entry.c: one entry of a HAR file checked and built into a record (the reverse of
 * export_har.c), as import_har.c's header says: request and response header blocks,
 * bodies, timings, the error of a call without an answer, and reqlog's own _reqlog. */
#include "capture/har_entry.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"
#include "capture/har_check.h"
#include "capture/har_text.h"

/* Non-zero when ENC (may be NULL) says base64. */
static int is_base64(const char *enc) {
  return enc && strcasecmp(enc, "base64") == 0;
}

/* The request body of POSTDATA (may be NULL) into B: its text, base64-decoded when
 * _encoding (or encoding) says so, else its params form-encoded. *mime gets mimeType. */
static reqlog_err request_body(const har_ctx *c, const cJSON *pd, capbuf *b,
                               const char **mime, int *oom) {
  const char *text = NULL, *enc = NULL, *enc2 = NULL;
  const cJSON *params = NULL;
  *mime = NULL;
  if (!pd)
    return REQLOG_OK;
  reqlog_err err = har_check_str(c, pd, "request.postData", "mimeType", mime);
  if (err == REQLOG_OK)
    err = har_check_str(c, pd, "request.postData", "text", &text);
  if (err == REQLOG_OK)
    err = har_check_str(c, pd, "request.postData", "_encoding", &enc);
  if (err == REQLOG_OK)
    err = har_check_str(c, pd, "request.postData", "encoding", &enc2);
  if (err == REQLOG_OK)
    err = har_check_get(c, pd, "request.postData", "params", cJSON_Array, 0, &params);
  if (err != REQLOG_OK)
    return err;
  if (text) {
    if (is_base64(enc) || is_base64(enc2)) {
      if (har_text_base64(b, text) != 0)
        return har_check_bad(c, "request.postData.text", "not valid base64");
    } else {
      capbuf_append(b, text, strlen(text));
    }
    return REQLOG_OK;
  }
  har_text form;
  har_text_init(&form);
  const cJSON *p;
  int k = 0;
  cJSON_ArrayForEach(p, params) {
    char path[64];
    const cJSON *name;
    const char *value;
    snprintf(path, sizeof path, "request.postData.params[%d]", k);
    if (!cJSON_IsObject(p))
      err = har_check_bad(c, path, "not an object");
    if (err == REQLOG_OK)
      err = har_check_get(c, p, path, "name", cJSON_String, 1, &name);
    if (err == REQLOG_OK)
      err = har_check_str(c, p, path, "value", &value);
    if (err != REQLOG_OK) {
      dynbuf_free(&form.d);
      return err;
    }
    if (k++ > 0)
      har_text_add(&form, "&", 1);
    har_text_form(&form, name->valuestring);
    har_text_add(&form, "=", 1);
    har_text_form(&form, value ? value : "");
  }
  if (form.err != REQLOG_OK)
    *oom = 1;
  else if (form.d.len)
    capbuf_append(b, form.d.data, form.d.len);
  dynbuf_free(&form.d);
  return REQLOG_OK;
}

/* Sets what a HAR knows of a body's real size when it holds less than the body: the
 * full SIZE (>= what B holds), cut short when TRUNCATED. The digest of what B holds is
 * then not the body's. */
static void body_size(capbuf *b, int64_t size, int truncated) {
  if (size < 0 || (uint64_t)size < b->len)
    return;
  if ((uint64_t)size != b->total || truncated) {
    b->total = (uint64_t)size;
    b->truncated = truncated || b->truncated;
    b->have_digest = 0;
  }
}

/* ------------------------------------------------------------------ headers */

/* HEADERS (a HAR array of {name, value}, may be NULL) at PATH as "Name: value\r\n" lines
 * onto B. *ctype gets the first Content-Type value. Names a header line cannot carry
 * (empty, HTTP/2 pseudo-headers like ":path", with ':' or white space) are left out. */
static reqlog_err header_lines(const har_ctx *c, const cJSON *headers, const char *path,
                               har_text *b, const char **ctype) {
  const cJSON *h;
  int k = 0;
  *ctype = NULL;
  cJSON_ArrayForEach(h, headers) {
    char where[64];
    const cJSON *name, *value;
    snprintf(where, sizeof where, "%s[%d]", path, k++);
    reqlog_err err = cJSON_IsObject(h) ? REQLOG_OK : har_check_bad(c, where, "not an object");
    if (err == REQLOG_OK)
      err = har_check_get(c, h, where, "name", cJSON_String, 1, &name);
    if (err == REQLOG_OK)
      err = har_check_get(c, h, where, "value", cJSON_String, 1, &value);
    if (err != REQLOG_OK)
      return err;
    const char *n = name->valuestring;
    if (!*n || n[strcspn(n, ": \t\r\n")] != '\0')
      continue;
    if (!*ctype && strcasecmp(n, "Content-Type") == 0)
      *ctype = value->valuestring;
    har_text_str(b, n);
    har_text_add(b, ": ", 2);
    har_text_line_safe(b, value->valuestring);
    har_text_add(b, "\r\n", 2);
  }
  return REQLOG_OK;
}

static int64_t nonneg(int64_t v) {
  return v > 0 ? v : 0;
}

/* The entry's timings as the record's phases. */
static reqlog_err timings(const har_ctx *c, const cJSON *e, record *rec) {
  const cJSON *t = NULL;
  int64_t time = -1, blocked = -1, dns = -1, connect = -1, ssl = -1, send = -1, wait = -1,
          receive = -1;
  reqlog_err err = har_check_get(c, e, "", "timings", cJSON_Object, 0, &t);
  if (err == REQLOG_OK)
    err = har_check_ms(c, e, "", "time", &time);
  if (err == REQLOG_OK)
    err = har_check_ms(c, t, "timings", "blocked", &blocked);
  if (err == REQLOG_OK)
    err = har_check_ms(c, t, "timings", "dns", &dns);
  if (err == REQLOG_OK)
    err = har_check_ms(c, t, "timings", "connect", &connect);
  if (err == REQLOG_OK)
    err = har_check_ms(c, t, "timings", "ssl", &ssl);
  if (err == REQLOG_OK)
    err = har_check_ms(c, t, "timings", "send", &send);
  if (err == REQLOG_OK)
    err = har_check_ms(c, t, "timings", "wait", &wait);
  if (err == REQLOG_OK)
    err = har_check_ms(c, t, "timings", "receive", &receive);
  if (err != REQLOG_OK)
    return err;
  /* -1 (not applicable) counts as 0 in a phase; a missing time is the phases' sum */
  blocked = nonneg(blocked);
  dns = nonneg(dns);
  connect = nonneg(connect);
  ssl = nonneg(ssl);
  send = nonneg(send);
  wait = nonneg(wait);
  receive = nonneg(receive);
  rec->queued_us = blocked;
  rec->dns_us = dns;
  rec->tls_us = ssl;
  rec->connect_us = connect >= ssl ? connect - ssl : connect; /* HAR's connect holds ssl */
  rec->ttfb_us = send + wait;
  if (time >= 0)
    rec->total_us = nonneg(time - blocked);
  else
    rec->total_us = dns + (connect >= ssl ? connect : connect + ssl) + send + wait + receive;
  return REQLOG_OK;
}

/* The request: method, URL and header block, body into REC. VERSION may be NULL. */
static reqlog_err request(const har_ctx *c, const cJSON *e, record *rec,
                          const char **version, int *oom) {
  const cJSON *req = NULL, *method = NULL, *url = NULL, *headers = NULL, *pd = NULL;
  reqlog_err err = har_check_get(c, e, "", "request", cJSON_Object, 1, &req);
  if (err == REQLOG_OK)
    err = har_check_get(c, req, "request", "method", cJSON_String, 1, &method);
  if (err == REQLOG_OK && !util_is_method(method->valuestring))
    err = har_check_bad(c, "request.method", "not an HTTP method");
  if (err == REQLOG_OK)
    err = har_check_get(c, req, "request", "url", cJSON_String, 1, &url);
  if (err == REQLOG_OK)
    err = har_check_url(c, url->valuestring);
  if (err == REQLOG_OK)
    err = har_check_str(c, req, "request", "httpVersion", version);
  if (err == REQLOG_OK)
    err = har_check_get(c, req, "request", "headers", cJSON_Array, 0, &headers);
  if (err == REQLOG_OK)
    err = har_check_get(c, req, "request", "postData", cJSON_Object, 0, &pd);
  if (err != REQLOG_OK)
    return err;

  const char *mime = NULL, *ctype = NULL;
  err = request_body(c, pd, &rec->req_body, &mime, oom);
  if (err != REQLOG_OK)
    return err;
  capbuf_finish(&rec->req_body);

  har_text head;
  har_text_init(&head);
  int oom_v = 0;
  char *v = har_check_version(*version, &oom_v);
  har_text_str(&head, method->valuestring);
  har_text_add(&head, " ", 1);
  har_text_line_safe(&head, url->valuestring);
  har_text_add(&head, " ", 1);
  har_text_str(&head, v ? v : "HTTP/1.1");
  har_text_add(&head, "\r\n", 2);
  free(v);
  err = header_lines(c, headers, "request.headers", &head, &ctype);
  if (err != REQLOG_OK) {
    dynbuf_free(&head.d);
    return err;
  }
  /* a body typed only by postData.mimeType: the header tells redaction how to read it */
  if (!ctype && mime && *mime && rec->req_body.total > 0) {
    har_text_str(&head, "Content-Type: ");
    har_text_line_safe(&head, mime);
    har_text_add(&head, "\r\n", 2);
  }
  har_text_add(&head, "\r\n", 2);
  rec->method = strdup(method->valuestring);
  rec->url = strdup(url->valuestring);
  rec->req_head_len = head.d.len;
  rec->req_head = dynbuf_take(&head.d);
  if (head.err != REQLOG_OK || oom_v || !rec->method || !rec->url)
    *oom = 1;
  return REQLOG_OK;
}

/* The response: status, header block, body, content type and error into REC.
 * REQ_VERSION is the request's httpVersion (used when the response has none). */
static reqlog_err response(const har_ctx *c, const cJSON *e, record *rec,
                           const char *req_version, int *oom) {
  const cJSON *resp = NULL, *status = NULL, *headers = NULL, *content = NULL, *size = NULL;
  const char *status_text = NULL, *version = NULL, *text = NULL, *enc = NULL, *mime = NULL;
  const char *err1 = NULL, *err2 = NULL;
  reqlog_err err = har_check_get(c, e, "", "response", cJSON_Object, 1, &resp);
  if (err == REQLOG_OK)
    err = har_check_get(c, resp, "response", "status", cJSON_Number, 1, &status);
  if (err == REQLOG_OK && (status->valuedouble < -1 || status->valuedouble > 999 ||
                           status->valuedouble != floor(status->valuedouble)))
    err = har_check_bad(c, "response.status", "not an HTTP status");
  if (err == REQLOG_OK)
    err = har_check_str(c, resp, "response", "statusText", &status_text);
  if (err == REQLOG_OK)
    err = har_check_str(c, resp, "response", "httpVersion", &version);
  if (err == REQLOG_OK)
    err = har_check_get(c, resp, "response", "headers", cJSON_Array, 0, &headers);
  if (err == REQLOG_OK)
    err = har_check_get(c, resp, "response", "content", cJSON_Object, 0, &content);
  if (err == REQLOG_OK)
    err = har_check_str(c, content, "response.content", "text", &text);
  if (err == REQLOG_OK)
    err = har_check_str(c, content, "response.content", "encoding", &enc);
  if (err == REQLOG_OK)
    err = har_check_str(c, content, "response.content", "mimeType", &mime);
  if (err == REQLOG_OK)
    err = har_check_get(c, content, "response.content", "size", cJSON_Number, 0, &size);
  if (err == REQLOG_OK)
    err = har_check_str(c, resp, "response", "_error", &err1);
  if (err == REQLOG_OK)
    err = har_check_str(c, resp, "response", "_failureText", &err2);
  if (err != REQLOG_OK)
    return err;

  rec->status = status->valuedouble > 0 ? (long)status->valuedouble : 0;
  if (text) {
    if (is_base64(enc)) {
      if (har_text_base64(&rec->resp_body, text) != 0)
        return har_check_bad(c, "response.content.text", "not valid base64");
    } else {
      capbuf_append(&rec->resp_body, text, strlen(text));
    }
  }
  capbuf_finish(&rec->resp_body);
  /* a HAR saved without content still tells the body's size (not for a 304, whose size
   * is the cached copy's) */
  if (!text && rec->status != 304 && size && size->valuedouble > 0)
    body_size(&rec->resp_body, (int64_t)size->valuedouble, 1);

  const char *ctype = NULL;
  if (rec->status > 0) {
    har_text head;
    har_text_init(&head);
    char code[16];
    int oom_v = 0;
    char *v = har_check_version(version ? version : req_version, &oom_v);
    rec->http_version = v;
    snprintf(code, sizeof code, " %ld ", rec->status);
    har_text_str(&head, v ? v : "HTTP/1.1");
    har_text_str(&head, code);
    har_text_line_safe(&head, status_text ? status_text : "");
    har_text_add(&head, "\r\n", 2);
    err = header_lines(c, headers, "response.headers", &head, &ctype);
    if (err != REQLOG_OK) {
      dynbuf_free(&head.d);
      return err;
    }
    har_text_add(&head, "\r\n", 2);
    rec->resp_head_len = head.d.len;
    rec->resp_head = dynbuf_take(&head.d);
    if (head.err != REQLOG_OK || oom_v)
      *oom = 1;
  } else {
    /* Chrome says why in _error, Playwright in _failureText */
    const char *why = "no response";
    if (err1 && *err1)
      why = err1;
    else if (err2 && *err2)
      why = err2;
    rec->error = strdup(why);
    if (!rec->error)
      *oom = 1;
  }
  if (mime && *mime && strcmp(mime, "x-unknown") != 0)
    ctype = mime;
  if (ctype) {
    rec->content_type = strdup(ctype);
    if (!rec->content_type)
      *oom = 1;
  }
  return REQLOG_OK;
}

/* reqlog's own fields (_reqlog), when the HAR came from reqlog export. */
static reqlog_err custom(const har_ctx *c, const cJSON *e, har_built *out, int *oom) {
  const cJSON *x = NULL, *id = NULL, *attempt = NULL, *retry_of = NULL, *rq_trunc = NULL,
              *rs_trunc = NULL, *rq_size = NULL, *rs_size = NULL;
  const char *error = NULL, *origin = NULL;
  reqlog_err err = har_check_get(c, e, "", "_reqlog", cJSON_Object, 0, &x);
  if (err != REQLOG_OK || !x)
    return err;
  err = har_check_get(c, x, "_reqlog", "id", cJSON_Number, 0, &id);
  if (err == REQLOG_OK)
    err = har_check_get(c, x, "_reqlog", "attempt", cJSON_Number, 0, &attempt);
  if (err == REQLOG_OK)
    err = har_check_get(c, x, "_reqlog", "retry_of", cJSON_Number, 0, &retry_of);
  if (err == REQLOG_OK)
    err = har_check_str(c, x, "_reqlog", "error", &error);
  if (err == REQLOG_OK)
    err = har_check_str(c, x, "_reqlog", "origin", &origin);
  if (err == REQLOG_OK && origin && !util_is_origin(origin))
    err = har_check_bad(c, "_reqlog.origin", "not an origin (1 to 255 bytes of text, no "
                        "control character, no blank at either end)");
  if (err == REQLOG_OK)
    err = har_check_get(c, x, "_reqlog", "request_truncated", cJSON_True, 0, &rq_trunc);
  if (err == REQLOG_OK)
    err = har_check_get(c, x, "_reqlog", "response_truncated", cJSON_True, 0, &rs_trunc);
  if (err == REQLOG_OK)
    err = har_check_get(c, x, "_reqlog", "request_size", cJSON_Number, 0, &rq_size);
  if (err == REQLOG_OK)
    err = har_check_get(c, x, "_reqlog", "response_size", cJSON_Number, 0, &rs_size);
  if (err != REQLOG_OK)
    return err;
  record *rec = out->rec;
  if (id && id->valuedouble >= 1)
    out->har_id = (int64_t)id->valuedouble;
  if (retry_of && retry_of->valuedouble >= 1)
    out->har_retry_of = (int64_t)retry_of->valuedouble;
  if (attempt && attempt->valuedouble >= 1 && attempt->valuedouble <= 1000)
    rec->attempt = (int)attempt->valuedouble;
  if (error && *error) {
    free(rec->error);
    rec->error = strdup(error);
    if (!rec->error)
      *oom = 1;
  }
  if (origin) {
    rec->origin = strdup(origin);
    if (!rec->origin)
      *oom = 1;
  }
  if (rq_size)
    body_size(&rec->req_body, (int64_t)rq_size->valuedouble, cJSON_IsTrue(rq_trunc));
  if (rs_size)
    body_size(&rec->resp_body, (int64_t)rs_size->valuedouble, cJSON_IsTrue(rs_trunc));
  return REQLOG_OK;
}

/* Checks entry E (number I) and builds its record, bodies kept up to CAP bytes.
 * Returns REQLOG_OK and *out, or an error (ARG with the JSON path, NOMEM) and nothing. */
reqlog_err har_entry_build(const cJSON *e, size_t i, size_t cap, har_built *out,
                           char **cause) {
  har_ctx c = {.entry = i, .cause = cause};
  const cJSON *started, *ip;
  const char *req_version = NULL;
  int oom = 0;
  memset(out, 0, sizeof *out);
  if (!cJSON_IsObject(e))
    return util_fail(cause, REQLOG_ERR_ARG, "log.entries[%zu]: not an object", i);
  record *rec = record_new(cap);
  if (!rec)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  out->rec = rec;
  snprintf(rec->source, sizeof rec->source, "import");
  reqlog_err err = har_check_get(&c, e, "", "startedDateTime", cJSON_String, 1, &started);
  if (err == REQLOG_OK && !har_check_started(started->valuestring, &rec->started_us))
    err = har_check_bad(&c, "startedDateTime", "not an ISO 8601 time");
  if (err == REQLOG_OK)
    err = request(&c, e, rec, &req_version, &oom);
  if (err == REQLOG_OK)
    err = response(&c, e, rec, req_version, &oom);
  if (err == REQLOG_OK)
    err = timings(&c, e, rec);
  if (err == REQLOG_OK)
    err = har_check_get(&c, e, "", "serverIPAddress", cJSON_String, 0, &ip);
  if (err == REQLOG_OK)
    err = custom(&c, e, out, &oom);
  if (err == REQLOG_OK && ip && *ip->valuestring) {
    /* Chrome writes IPv6 addresses in brackets: "[::1]" */
    const char *a = ip->valuestring;
    size_t n = strlen(a);
    if (n >= 2 && a[0] == '[' && a[n - 1] == ']')
      rec->remote_ip = util_strndup(a + 1, n - 2);
    else
      rec->remote_ip = strdup(a);
    if (!rec->remote_ip)
      oom = 1;
  }
  if (err == REQLOG_OK && (oom || rec->req_body.oom || rec->resp_body.oom))
    err = util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  if (err != REQLOG_OK) {
    record_free(rec);
    out->rec = NULL;
  }
  return err;
}
