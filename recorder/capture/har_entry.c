/* import_har.c: reqlog_import_har(): a HAR 1.2 file (a browser's DevTools, Playwright's
 * recordHar, reqlog's own export) checked as a whole, then turned into records that the
 * store redacts and writes exactly like captured traffic, with source "import".
 *
 * All or nothing: every entry is checked and built into a record before the first one
 * is submitted, so a malformed file adds no row; the error names the JSON path of the
 * first problem ("log.entries[3].request.url: missing").
 *
 * How an entry becomes a record (the reverse of export_har.c):
 *   headers   a request block "METHOD URL VERSION\r\nName: value\r\n...\r\n\r\n" and a
 *             response block "VERSION STATUS TEXT\r\n...", so row_prepare() redacts
 *             them as it redacts what libcurl saw; HTTP/2 pseudo-headers (":path"...)
 *             are left out: method, URL and status carry them
 *   bodies    postData.text (or its params, form-encoded) and content.text, base64
 *             decoded when marked so (content.encoding, postData._encoding)
 *   timings   queued = blocked, dns, tls = ssl, connect = connect - ssl,
 *             ttfb = send + wait, total = time - blocked (else the sum of the phases);
 *             -1 (not applicable) reads as 0
 *   no answer response.status 0 or -1: no status; the error from _reqlog.error, Chrome's
 *             response._error or Playwright's response._failureText
 *   _reqlog   (reqlog's own exports) attempt, full body sizes and truncation, and
 *             retry_of linked to the imported row of the entry it names
 * HAR cookies arrays, queryString, _initiator and other custom fields are not read: the
 * Cookie headers and the URL hold the same data and are redacted. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handle.h"
#include "capture/record.h"
#include "store/store.h"
#include "base/dynbuf.h"
#include "base/util.h"

#define HAR_MAX_BYTES (512L * 1024 * 1024) /* larger files are refused before reading */
#define MAX_MS 1e11                         /* a timing beyond ~3 years is not a timing */

/* ------------------------------------------------------------------ text builder */

/* Text built onto a capped dynbuf. The first error sticks and later text is dropped:
 * the builder looks at ERR once, when the text is done. */
#define SB_MAX ((size_t)HAR_MAX_BYTES * 4) /* more than any text a HAR file can give */
struct sb {
  dynbuf d;
  reqlog_err err;
};

static void sb_init(struct sb *b) {
  dynbuf_init(&b->d, SB_MAX);
  b->err = REQLOG_OK;
}

static void sb_add(struct sb *b, const char *s, size_t n) {
  if (b->err == REQLOG_OK)
    b->err = dynbuf_add(&b->d, s, n);
}

static void sb_str(struct sb *b, const char *s) {
  sb_add(b, s, strlen(s));
}

/* S with CR, LF and other control characters as spaces: one header line stays one. */
static void sb_line_safe(struct sb *b, const char *s) {
  while (*s) {
    size_t n = 0;
    while (s[n] && (unsigned char)s[n] >= 0x20 && s[n] != 0x7f)
      n++;
    sb_add(b, s, n);
    s += n;
    if (*s) {
      sb_add(b, " ", 1);
      s++;
    }
  }
}

/* ------------------------------------------------------------------ checking */

/* Where checking is: the entry, so messages read "log.entries[3].request.url: missing". */
struct ctx {
  size_t entry;
  char **cause;
};

static reqlog_err bad(const struct ctx *c, const char *path, const char *what) {
  return util_fail(c->cause, REQLOG_ERR_ARG, "log.entries[%zu]%s%s: %s", c->entry,
                   *path ? "." : "", path, what);
}

static const char *type_name(int type) {
  switch (type) {
  case cJSON_String: return "not a string";
  case cJSON_Number: return "not a number";
  case cJSON_Object: return "not an object";
  case cJSON_Array: return "not an array";
  default: return "not true or false";
  }
}

/* Member NAME of OBJ (at PATH, "" for the entry itself) when it has cJSON type TYPE
 * (cJSON_True stands for either boolean). *out is NULL when the member is absent, or
 * null and not REQUIRED. Returns REQLOG_OK, or REQLOG_ERR_ARG with the message. */
static reqlog_err get(const struct ctx *c, const cJSON *obj, const char *path, const char *name,
                      int type, int required, const cJSON **out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  *out = NULL;
  char where[160];
  snprintf(where, sizeof where, "%s%s%s", path, *path ? "." : "", name);
  if (!v || (cJSON_IsNull(v) && !required))
    return required ? bad(c, where, "missing") : REQLOG_OK;
  int ok = type == cJSON_True ? cJSON_IsBool(v) : (v->type & 0xFF) == type;
  if (!ok)
    return bad(c, where, type_name(type));
  *out = v;
  return REQLOG_OK;
}

/* The value of an optional string member, or NULL. */
static reqlog_err get_str(const struct ctx *c, const cJSON *obj, const char *path,
                          const char *name, const char **out) {
  const cJSON *v;
  reqlog_err err = get(c, obj, path, name, cJSON_String, 0, &v);
  *out = v ? v->valuestring : NULL;
  return err;
}

/* An optional time in milliseconds as µs: absent, null or negative (HAR's -1, "not
 * applicable") read as -1. */
static reqlog_err get_ms(const struct ctx *c, const cJSON *obj, const char *path,
                         const char *name, int64_t *us) {
  const cJSON *v;
  reqlog_err err = get(c, obj, path, name, cJSON_Number, 0, &v);
  *us = -1;
  if (err != REQLOG_OK || !v || v->valuedouble < 0)
    return err;
  if (!(v->valuedouble <= MAX_MS)) {
    char where[160];
    snprintf(where, sizeof where, "%s%s%s", path, *path ? "." : "", name);
    return bad(c, where, "not a time in milliseconds");
  }
  *us = llround(v->valuedouble * 1000.0);
  return REQLOG_OK;
}

/* "scheme:rest" without control characters: what any HAR writer puts in request.url. */
static int is_absolute_url(const char *s) {
  size_t n = util_url_scheme_len(s);
  if (!n || !s[n + 1])
    return 0;
  for (const char *p = s; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      return 0;
  return 1;
}

/* The request's URL: absolute, and http or https, the only schemes reqlog sends (a row
 * is a call that may be replayed). Returns REQLOG_OK, or REQLOG_ERR_ARG with the path. */
static reqlog_err check_url(const struct ctx *c, const char *url) {
  if (!is_absolute_url(url))
    return bad(c, "request.url", "not an absolute URL");
  size_t n = util_url_scheme_len(url);
  if (util_scheme_is_http(url, n))
    return REQLOG_OK;
  char what[64];
  snprintf(what, sizeof what, "scheme '%.*s' is not http or https", n > 20 ? 20 : (int)n, url);
  return bad(c, "request.url", what);
}

/* The start time: ISO 8601 (what reqlog_parse_time() reads as a date, not an age). */
static int parse_started(const char *s, int64_t *us) {
  for (int i = 0; i < 4; i++)
    if (s[i] < '0' || s[i] > '9')
      return 0;
  return s[4] == '-' && reqlog_parse_time(s, 0, us) == REQLOG_OK;
}

/* The HTTP version as reqlog writes it ("HTTP/1.1", "HTTP/2"), from what browsers write
 * ("http/1.1", "h2", "HTTP/2.0"); NULL for none or "unknown". Returns a malloc'd copy,
 * or NULL; *oom is set when a copy could not be made. */
static char *http_version(const char *v, int *oom) {
  static const struct { const char *in, *out; } known[] = {
    {"http/1.0", "HTTP/1.0"}, {"http/1.1", "HTTP/1.1"}, {"h2", "HTTP/2"},
    {"http/2", "HTTP/2"},     {"http/2.0", "HTTP/2"},   {"h3", "HTTP/3"},
    {"http/3", "HTTP/3"},     {"http/3.0", "HTTP/3"},   {"h2c", "HTTP/2"},
  };
  if (!v || !*v || strcasecmp(v, "unknown") == 0)
    return NULL;
  const char *out = v;
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (strcasecmp(v, known[i].in) == 0)
      out = known[i].out;
  char *copy = strndup(out, 31);
  if (!copy)
    *oom = 1;
  return copy;
}

/* ------------------------------------------------------------------ bodies */

static int b64_value(unsigned char ch) {
  if (ch >= 'A' && ch <= 'Z')
    return ch - 'A';
  if (ch >= 'a' && ch <= 'z')
    return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9')
    return ch - '0' + 52;
  if (ch == '+' || ch == '-')
    return 62;
  if (ch == '/' || ch == '_')
    return 63;
  return -1;
}

/* Decodes base64 TEXT (standard or URL-safe alphabet, padding optional, white space
 * ignored) into B. Returns 0, or -1 when TEXT is not base64. */
static int base64_into(capbuf *b, const char *text) {
  unsigned char out[3072];
  size_t n = 0;
  uint32_t acc = 0;
  int have = 0, pad = 0;
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
      continue;
    if (*p == '=') {
      pad++;
      continue;
    }
    int v = b64_value(*p);
    if (v < 0 || pad)
      return -1; /* not base64, or data after the padding */
    acc = acc << 6 | (uint32_t)v;
    if (++have == 4) {
      out[n++] = (unsigned char)(acc >> 16);
      out[n++] = (unsigned char)(acc >> 8);
      out[n++] = (unsigned char)acc;
      have = 0;
      acc = 0;
      if (n == sizeof out) {
        capbuf_append(b, out, n);
        n = 0;
      }
    }
  }
  if (have == 1 || pad > 2 || (pad && (have + pad) % 4 != 0))
    return -1;
  if (have == 2) {
    out[n++] = (unsigned char)(acc >> 4);
  } else if (have == 3) {
    out[n++] = (unsigned char)(acc >> 10);
    out[n++] = (unsigned char)(acc >> 2);
  }
  capbuf_append(b, out, n);
  return 0;
}

/* S form-encoded (application/x-www-form-urlencoded) onto B. */
static void sb_form(struct sb *b, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    char enc[3];
    if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
        strchr("-._~", ch)) {
      sb_add(b, s, 1);
    } else if (ch == ' ') {
      sb_add(b, "+", 1);
    } else {
      enc[0] = '%';
      enc[1] = hex[ch >> 4];
      enc[2] = hex[ch & 15];
      sb_add(b, enc, 3);
    }
  }
}

/* Non-zero when ENC (may be NULL) says base64. */
static int is_base64(const char *enc) {
  return enc && strcasecmp(enc, "base64") == 0;
}

/* The request body of POSTDATA (may be NULL) into B: its text, base64-decoded when
 * _encoding (or encoding) says so, else its params form-encoded. *mime gets mimeType. */
static reqlog_err request_body(const struct ctx *c, const cJSON *pd, capbuf *b,
                               const char **mime, int *oom) {
  const char *text = NULL, *enc = NULL, *enc2 = NULL;
  const cJSON *params = NULL;
  *mime = NULL;
  if (!pd)
    return REQLOG_OK;
  reqlog_err err = get_str(c, pd, "request.postData", "mimeType", mime);
  if (err == REQLOG_OK)
    err = get_str(c, pd, "request.postData", "text", &text);
  if (err == REQLOG_OK)
    err = get_str(c, pd, "request.postData", "_encoding", &enc);
  if (err == REQLOG_OK)
    err = get_str(c, pd, "request.postData", "encoding", &enc2);
  if (err == REQLOG_OK)
    err = get(c, pd, "request.postData", "params", cJSON_Array, 0, &params);
  if (err != REQLOG_OK)
    return err;
  if (text) {
    if (is_base64(enc) || is_base64(enc2)) {
      if (base64_into(b, text) != 0)
        return bad(c, "request.postData.text", "not valid base64");
    } else {
      capbuf_append(b, text, strlen(text));
    }
    return REQLOG_OK;
  }
  struct sb form;
  sb_init(&form);
  const cJSON *p;
  int k = 0;
  cJSON_ArrayForEach(p, params) {
    char path[64];
    const cJSON *name;
    const char *value;
    snprintf(path, sizeof path, "request.postData.params[%d]", k);
    if (!cJSON_IsObject(p))
      err = bad(c, path, "not an object");
    if (err == REQLOG_OK)
      err = get(c, p, path, "name", cJSON_String, 1, &name);
    if (err == REQLOG_OK)
      err = get_str(c, p, path, "value", &value);
    if (err != REQLOG_OK) {
      dynbuf_free(&form.d);
      return err;
    }
    if (k++ > 0)
      sb_add(&form, "&", 1);
    sb_form(&form, name->valuestring);
    sb_add(&form, "=", 1);
    sb_form(&form, value ? value : "");
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
static reqlog_err header_lines(const struct ctx *c, const cJSON *headers, const char *path,
                               struct sb *b, const char **ctype) {
  const cJSON *h;
  int k = 0;
  *ctype = NULL;
  cJSON_ArrayForEach(h, headers) {
    char where[64];
    const cJSON *name, *value;
    snprintf(where, sizeof where, "%s[%d]", path, k++);
    reqlog_err err = cJSON_IsObject(h) ? REQLOG_OK : bad(c, where, "not an object");
    if (err == REQLOG_OK)
      err = get(c, h, where, "name", cJSON_String, 1, &name);
    if (err == REQLOG_OK)
      err = get(c, h, where, "value", cJSON_String, 1, &value);
    if (err != REQLOG_OK)
      return err;
    const char *n = name->valuestring;
    if (!*n || n[strcspn(n, ": \t\r\n")] != '\0')
      continue;
    if (!*ctype && strcasecmp(n, "Content-Type") == 0)
      *ctype = value->valuestring;
    sb_str(b, n);
    sb_add(b, ": ", 2);
    sb_line_safe(b, value->valuestring);
    sb_add(b, "\r\n", 2);
  }
  return REQLOG_OK;
}

/* ------------------------------------------------------------------ one entry */

/* One entry built: its record, and reqlog's own id and retry link when it has them. */
struct built {
  record *rec;
  int64_t har_id;       /* _reqlog.id, 0 when absent */
  int64_t har_retry_of; /* _reqlog.retry_of, 0 when absent */
};

static int64_t nonneg(int64_t v) {
  return v > 0 ? v : 0;
}

/* The entry's timings as the record's phases. */
static reqlog_err timings(const struct ctx *c, const cJSON *e, record *rec) {
  const cJSON *t = NULL;
  int64_t time = -1, blocked = -1, dns = -1, connect = -1, ssl = -1, send = -1, wait = -1,
          receive = -1;
  reqlog_err err = get(c, e, "", "timings", cJSON_Object, 0, &t);
  if (err == REQLOG_OK)
    err = get_ms(c, e, "", "time", &time);
  if (err == REQLOG_OK)
    err = get_ms(c, t, "timings", "blocked", &blocked);
  if (err == REQLOG_OK)
    err = get_ms(c, t, "timings", "dns", &dns);
  if (err == REQLOG_OK)
    err = get_ms(c, t, "timings", "connect", &connect);
  if (err == REQLOG_OK)
    err = get_ms(c, t, "timings", "ssl", &ssl);
  if (err == REQLOG_OK)
    err = get_ms(c, t, "timings", "send", &send);
  if (err == REQLOG_OK)
    err = get_ms(c, t, "timings", "wait", &wait);
  if (err == REQLOG_OK)
    err = get_ms(c, t, "timings", "receive", &receive);
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
static reqlog_err request(const struct ctx *c, const cJSON *e, record *rec,
                          const char **version, int *oom) {
  const cJSON *req = NULL, *method = NULL, *url = NULL, *headers = NULL, *pd = NULL;
  reqlog_err err = get(c, e, "", "request", cJSON_Object, 1, &req);
  if (err == REQLOG_OK)
    err = get(c, req, "request", "method", cJSON_String, 1, &method);
  if (err == REQLOG_OK && !util_is_method(method->valuestring))
    err = bad(c, "request.method", "not an HTTP method");
  if (err == REQLOG_OK)
    err = get(c, req, "request", "url", cJSON_String, 1, &url);
  if (err == REQLOG_OK)
    err = check_url(c, url->valuestring);
  if (err == REQLOG_OK)
    err = get_str(c, req, "request", "httpVersion", version);
  if (err == REQLOG_OK)
    err = get(c, req, "request", "headers", cJSON_Array, 0, &headers);
  if (err == REQLOG_OK)
    err = get(c, req, "request", "postData", cJSON_Object, 0, &pd);
  if (err != REQLOG_OK)
    return err;

  const char *mime = NULL, *ctype = NULL;
  err = request_body(c, pd, &rec->req_body, &mime, oom);
  if (err != REQLOG_OK)
    return err;
  capbuf_finish(&rec->req_body);

  struct sb head;
  sb_init(&head);
  int oom_v = 0;
  char *v = http_version(*version, &oom_v);
  sb_str(&head, method->valuestring);
  sb_add(&head, " ", 1);
  sb_line_safe(&head, url->valuestring);
  sb_add(&head, " ", 1);
  sb_str(&head, v ? v : "HTTP/1.1");
  sb_add(&head, "\r\n", 2);
  free(v);
  err = header_lines(c, headers, "request.headers", &head, &ctype);
  if (err != REQLOG_OK) {
    dynbuf_free(&head.d);
    return err;
  }
  /* a body typed only by postData.mimeType: the header tells redaction how to read it */
  if (!ctype && mime && *mime && rec->req_body.total > 0) {
    sb_str(&head, "Content-Type: ");
    sb_line_safe(&head, mime);
    sb_add(&head, "\r\n", 2);
  }
  sb_add(&head, "\r\n", 2);
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
static reqlog_err response(const struct ctx *c, const cJSON *e, record *rec,
                           const char *req_version, int *oom) {
  const cJSON *resp = NULL, *status = NULL, *headers = NULL, *content = NULL, *size = NULL;
  const char *status_text = NULL, *version = NULL, *text = NULL, *enc = NULL, *mime = NULL;
  const char *err1 = NULL, *err2 = NULL;
  reqlog_err err = get(c, e, "", "response", cJSON_Object, 1, &resp);
  if (err == REQLOG_OK)
    err = get(c, resp, "response", "status", cJSON_Number, 1, &status);
  if (err == REQLOG_OK && (status->valuedouble < -1 || status->valuedouble > 999 ||
                           status->valuedouble != floor(status->valuedouble)))
    err = bad(c, "response.status", "not an HTTP status");
  if (err == REQLOG_OK)
    err = get_str(c, resp, "response", "statusText", &status_text);
  if (err == REQLOG_OK)
    err = get_str(c, resp, "response", "httpVersion", &version);
  if (err == REQLOG_OK)
    err = get(c, resp, "response", "headers", cJSON_Array, 0, &headers);
  if (err == REQLOG_OK)
    err = get(c, resp, "response", "content", cJSON_Object, 0, &content);
  if (err == REQLOG_OK)
    err = get_str(c, content, "response.content", "text", &text);
  if (err == REQLOG_OK)
    err = get_str(c, content, "response.content", "encoding", &enc);
  if (err == REQLOG_OK)
    err = get_str(c, content, "response.content", "mimeType", &mime);
  if (err == REQLOG_OK)
    err = get(c, content, "response.content", "size", cJSON_Number, 0, &size);
  if (err == REQLOG_OK)
    err = get_str(c, resp, "response", "_error", &err1);
  if (err == REQLOG_OK)
    err = get_str(c, resp, "response", "_failureText", &err2);
  if (err != REQLOG_OK)
    return err;

  rec->status = status->valuedouble > 0 ? (long)status->valuedouble : 0;
  if (text) {
    if (is_base64(enc)) {
      if (base64_into(&rec->resp_body, text) != 0)
        return bad(c, "response.content.text", "not valid base64");
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
    struct sb head;
    sb_init(&head);
    char code[16];
    int oom_v = 0;
    char *v = http_version(version ? version : req_version, &oom_v);
    rec->http_version = v;
    snprintf(code, sizeof code, " %ld ", rec->status);
    sb_str(&head, v ? v : "HTTP/1.1");
    sb_str(&head, code);
    sb_line_safe(&head, status_text ? status_text : "");
    sb_add(&head, "\r\n", 2);
    err = header_lines(c, headers, "response.headers", &head, &ctype);
    if (err != REQLOG_OK) {
      dynbuf_free(&head.d);
      return err;
    }
    sb_add(&head, "\r\n", 2);
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
static reqlog_err custom(const struct ctx *c, const cJSON *e, struct built *out, int *oom) {
  const cJSON *x = NULL, *id = NULL, *attempt = NULL, *retry_of = NULL, *rq_trunc = NULL,
              *rs_trunc = NULL, *rq_size = NULL, *rs_size = NULL;
  const char *error = NULL;
  reqlog_err err = get(c, e, "", "_reqlog", cJSON_Object, 0, &x);
  if (err != REQLOG_OK || !x)
    return err;
  err = get(c, x, "_reqlog", "id", cJSON_Number, 0, &id);
  if (err == REQLOG_OK)
    err = get(c, x, "_reqlog", "attempt", cJSON_Number, 0, &attempt);
  if (err == REQLOG_OK)
    err = get(c, x, "_reqlog", "retry_of", cJSON_Number, 0, &retry_of);
  if (err == REQLOG_OK)
    err = get_str(c, x, "_reqlog", "error", &error);
  if (err == REQLOG_OK)
    err = get(c, x, "_reqlog", "request_truncated", cJSON_True, 0, &rq_trunc);
  if (err == REQLOG_OK)
    err = get(c, x, "_reqlog", "response_truncated", cJSON_True, 0, &rs_trunc);
  if (err == REQLOG_OK)
    err = get(c, x, "_reqlog", "request_size", cJSON_Number, 0, &rq_size);
  if (err == REQLOG_OK)
    err = get(c, x, "_reqlog", "response_size", cJSON_Number, 0, &rs_size);
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
  if (rq_size)
    body_size(&rec->req_body, (int64_t)rq_size->valuedouble, cJSON_IsTrue(rq_trunc));
  if (rs_size)
    body_size(&rec->resp_body, (int64_t)rs_size->valuedouble, cJSON_IsTrue(rs_trunc));
  return REQLOG_OK;
}

/* Checks entry E (number I) and builds its record, bodies kept up to CAP bytes.
 * Returns REQLOG_OK and *out, or an error (ARG with the JSON path, NOMEM) and nothing. */
static reqlog_err build_entry(const cJSON *e, size_t i, size_t cap, struct built *out,
                              char **cause) {
  struct ctx c = {.entry = i, .cause = cause};
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
  reqlog_err err = get(&c, e, "", "startedDateTime", cJSON_String, 1, &started);
  if (err == REQLOG_OK && !parse_started(started->valuestring, &rec->started_us))
    err = bad(&c, "startedDateTime", "not an ISO 8601 time");
  if (err == REQLOG_OK)
    err = request(&c, e, rec, &req_version, &oom);
  if (err == REQLOG_OK)
    err = response(&c, e, rec, req_version, &oom);
  if (err == REQLOG_OK)
    err = timings(&c, e, rec);
  if (err == REQLOG_OK)
    err = get(&c, e, "", "serverIPAddress", cJSON_String, 0, &ip);
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

/* ------------------------------------------------------------------ the file */

/* Reads FD onto B to its end or B's cap, first making room for the EXPECT bytes fstat()
 * gave. */
static reqlog_err read_all(int fd, const char *path, size_t expect, dynbuf *b, char **cause) {
  size_t want = expect ? expect : 1;
  for (;;) {
    reqlog_err err = dynbuf_reserve(b, want);
    if (err == REQLOG_ERR_FULL)
      return REQLOG_OK; /* past the cap: read_file() refuses it */
    if (err != REQLOG_OK)
      return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory reading %s", path);
    ssize_t r = read(fd, b->data + b->len, b->cap - 1 - b->len);
    if (r == 0)
      return REQLOG_OK;
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return util_fail(cause, REQLOG_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    dynbuf_grew(b, (size_t)r);
    want = 1;
  }
}

/* Reads PATH whole (at most HAR_MAX_BYTES) into *buf, NUL-terminated. */
static reqlog_err read_file(const char *path, char **buf, size_t *len, char **cause) {
  *buf = NULL;
  *len = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return util_fail(cause, REQLOG_ERR_IO, "cannot open %s: %s", path, strerror(errno));
  struct stat st;
  reqlog_err err = REQLOG_OK;
  if (fstat(fd, &st) != 0) {
    err = util_fail(cause, REQLOG_ERR_IO, "cannot read %s: %s", path, strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    err = util_fail(cause, REQLOG_ERR_IO, "%s is not a regular file", path);
  } else if (st.st_size > HAR_MAX_BYTES) {
    err = util_fail(cause, REQLOG_ERR_ARG, "%lld bytes: reqlog imports HAR files of up "
                    "to 512 MiB", (long long)st.st_size);
  }
  if (err != REQLOG_OK) {
    close(fd);
    return err;
  }
  dynbuf b;
  dynbuf_init(&b, (size_t)HAR_MAX_BYTES + 1); /* one byte more: growth is seen */
  err = read_all(fd, path, (size_t)st.st_size, &b, cause);
  close(fd);
  if (err == REQLOG_OK && b.len > (size_t)HAR_MAX_BYTES)
    err = util_fail(cause, REQLOG_ERR_ARG, "the file grew past 512 MiB while being read");
  if (err != REQLOG_OK) {
    dynbuf_free(&b);
    return err;
  }
  *len = b.len;
  *buf = dynbuf_take(&b);
  return REQLOG_OK;
}

/* Parses TEXT (LEN bytes) as JSON; on failure the cause gives the line and column. */
static reqlog_err parse_json(const char *text, size_t len, cJSON **out, char **cause) {
  if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) /* a BOM, as Windows tools write */
    text += 3;
  /* our own end pointer: cJSON's global error pointer is not thread-safe */
  const char *end = NULL;
  *out = cJSON_ParseWithOpts(text, &end, 1);
  if (*out)
    return REQLOG_OK;
  size_t tl = strlen(text);
  if (!end || end < text || end > text + tl)
    end = text;
  long line = 1, col = 1;
  for (const char *p = text; p < end; p++) {
    if (*p == '\n') {
      line++;
      col = 1;
    } else if (((unsigned char)*p & 0xC0) != 0x80) {
      col++;
    }
  }
  return util_fail(cause, REQLOG_ERR_ARG, "not valid JSON (line %ld, column %ld)", line, col);
}

/* The entries array of a HAR document, checked down to it. */
static reqlog_err entries_of(const cJSON *root, cJSON **entries, char **cause) {
  if (!cJSON_IsObject(root))
    return util_fail(cause, REQLOG_ERR_ARG, "not a HAR file: the top level is not a JSON object");
  const cJSON *log = cJSON_GetObjectItemCaseSensitive(root, "log");
  if (!log)
    return util_fail(cause, REQLOG_ERR_ARG, "log: missing");
  if (!cJSON_IsObject(log))
    return util_fail(cause, REQLOG_ERR_ARG, "log: not an object");
  const cJSON *version = cJSON_GetObjectItemCaseSensitive(log, "version");
  if (version && !cJSON_IsString(version))
    return util_fail(cause, REQLOG_ERR_ARG, "log.version: not a string");
  *entries = cJSON_GetObjectItemCaseSensitive(log, "entries");
  if (!*entries)
    return util_fail(cause, REQLOG_ERR_ARG, "log.entries: missing");
  if (!cJSON_IsArray(*entries))
    return util_fail(cause, REQLOG_ERR_ARG, "log.entries: not an array");
  return REQLOG_OK;
}

/* ------------------------------------------------------------------ retry links */

struct id_index {
  int64_t id;
  size_t at;
};

static int by_id(const void *a, const void *b) {
  const struct id_index *x = a, *y = b;
  if (x->id != y->id)
    return x->id < y->id ? -1 : 1;
  return x->at < y->at ? -1 : x->at > y->at;
}

/* For each entry, the index of the earlier entry its _reqlog.retry_of names, or -1:
 * *links (malloc'd, N items). */
static reqlog_err retry_links(const struct built *b, size_t n, ptrdiff_t **links) {
  *links = malloc((n ? n : 1) * sizeof **links);
  struct id_index *idx = malloc((n ? n : 1) * sizeof *idx);
  if (!*links || !idx) {
    free(*links);
    free(idx);
    *links = NULL;
    return REQLOG_ERR_NOMEM;
  }
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    (*links)[i] = -1;
    if (b[i].har_id > 0)
      idx[m++] = (struct id_index){b[i].har_id, i};
  }
  qsort(idx, m, sizeof *idx, by_id);
  for (size_t i = 0; i < n; i++) {
    if (b[i].har_retry_of <= 0)
      continue;
    /* the first entry with that id: the lowest index of the run */
    size_t lo = 0, hi = m;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (idx[mid].id < b[i].har_retry_of)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo < m && idx[lo].id == b[i].har_retry_of && idx[lo].at < i)
      (*links)[i] = (ptrdiff_t)idx[lo].at;
  }
  free(idx);
  return REQLOG_OK;
}

/* ------------------------------------------------------------------ entry point */

/* Checks and builds every entry of the HAR at PATH: *out (malloc'd, *n items) owns the
 * records. Nothing is built when an entry is malformed. */
static reqlog_err build_all(const char *path, size_t cap, struct built **out, size_t *n,
                            char **cause) {
  char *text = NULL;
  size_t len = 0;
  cJSON *root = NULL, *entries = NULL;
  *out = NULL;
  *n = 0;
  reqlog_err err = read_file(path, &text, &len, cause);
  if (err == REQLOG_OK)
    err = parse_json(text, len, &root, cause);
  free(text); /* cJSON holds copies: the text goes before the records grow */
  if (err == REQLOG_OK)
    err = entries_of(root, &entries, cause);
  if (err != REQLOG_OK) {
    cJSON_Delete(root);
    return err;
  }
  size_t count = (size_t)cJSON_GetArraySize(entries);
  struct built *b = calloc(count ? count : 1, sizeof *b);
  if (!b) {
    cJSON_Delete(root);
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  }
  size_t i = 0;
  cJSON *e = entries->child;
  while (e && err == REQLOG_OK) {
    err = build_entry(e, i, cap, &b[i], cause);
    /* each entry's JSON goes once its record holds what it needs */
    cJSON *next = e->next;
    cJSON_Delete(cJSON_DetachItemViaPointer(entries, e));
    e = next;
    if (err == REQLOG_OK)
      i++;
  }
  cJSON_Delete(root);
  if (err != REQLOG_OK) {
    for (size_t k = 0; k < i; k++)
      record_free(b[k].rec);
    free(b);
    return err;
  }
  *out = b;
  *n = i;
  return REQLOG_OK;
}

reqlog_err reqlog_import_har(reqlog *r, const char *path, int64_t *imported, char **cause) {
  if (imported)
    *imported = 0;
  if (cause)
    *cause = NULL;
  if (!r || !path || !imported)
    return util_fail(cause, REQLOG_ERR_ARG, "reqlog_import_har: no handle, path or count");
  if (!r->st)
    return util_fail(cause, REQLOG_ERR_ARG, "this reqlog handle has no database");
  pthread_rwlock_rdlock(&r->cfg);
  size_t cap = r->body_cap;
  pthread_rwlock_unlock(&r->cfg);

  struct built *b = NULL;
  size_t n = 0;
  reqlog_err err = build_all(path, cap, &b, &n, cause);
  if (err != REQLOG_OK)
    return err;
  ptrdiff_t *links = NULL;
  uint64_t *seqs = calloc(n ? n : 1, sizeof *seqs);
  if (!seqs || retry_links(b, n, &links) != REQLOG_OK) {
    for (size_t i = 0; i < n; i++)
      record_free(b[i].rec);
    free(b);
    free(seqs);
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  }

  /* Everything is built: from here every record goes to the store, which owns it. */
  for (size_t i = 0; i < n; i++) {
    int64_t row_id = 0;
    if (links[i] >= 0)
      b[i].rec->retry_of_seq = seqs[links[i]];
    store_submit(r->st, b[i].rec, &seqs[i], &row_id); /* failures come back from flush */
    b[i].rec = NULL;
  }
  free(b);
  free(links);
  free(seqs);
  char *why = NULL;
  err = store_flush(r->st, &why);
  if (err != REQLOG_OK) {
    util_fail(cause, err, "writing the %zu imported calls failed: %s", n,
              why ? why : reqlog_strerror(err));
    free(why);
    return err;
  }
  *imported = (int64_t)n;
  return REQLOG_OK;
}
