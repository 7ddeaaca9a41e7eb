/* export_har.c: how a stored row becomes a HAR 1.2 entry, made with cJSON from the row
 * (already redacted, so the export is too); export.c streams the envelope and the entries
 * one at a time in bounded memory.
 *
 * How a row becomes an entry (the importer, import_har.c, reads the same mapping back):
 *   timings  blocked = queued, dns, connect = connect + tls (HAR counts ssl inside
 *            connect), ssl = tls (-1 for plain http), send = 0, wait = time to first byte,
 *            receive = total minus the phases before it (never negative);
 *            time = the sum of them, so queued + total
 *   bodies   text as is; binary as base64 with content.encoding "base64" (response) or
 *            the custom postData._encoding "base64" (request: HAR has no field for it)
 *   no response   response.status 0, httpVersion "", the transport error in _reqlog.error
 *   _reqlog  what HAR has no place for: id, key, attempt, retry_of, source, origin, request_id,
 *            error, error_message, error_fields, truncation flags and full body sizes */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "read/export_har.h"
#include "read/row.h"
#include "base/utf8.h"
#include "base/util.h"

/* ------------------------------------------------------------------ building blocks */

/* Adds ITEM to OBJ under NAME; returns 0 (deleting ITEM) when ITEM is NULL or adding
 * failed, so an object is built as a run of `ok &= row_put(...)`. */
static int push(cJSON *arr, cJSON *item) {
  if (!item)
    return 0;
  if (!cJSON_AddItemToArray(arr, item)) {
    cJSON_Delete(item);
    return 0;
  }
  return 1;
}

/* Member NAME of ROW moved out of it (the caller owns it), or a new null. Moving keeps
 * bodies from being copied. */
static cJSON *take(cJSON *row, const char *name) {
  cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(row, name);
  return v ? v : cJSON_CreateNull();
}

static const char *str_of(const cJSON *obj, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Number member NAME in milliseconds as whole microseconds; 0 when absent or null. */
static int64_t us_of(const cJSON *obj, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (!cJSON_IsNumber(v) || !(v->valuedouble > 0))
    return 0;
  return llround(v->valuedouble * 1000.0);
}

static int64_t int_of(const cJSON *obj, const char *name, int64_t dflt) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : dflt;
}

static cJSON *ms(int64_t us) {
  return cJSON_CreateNumber((double)us / 1000.0);
}

/* Value of the first header NAME in HEADERS ([[name, value], ...]), or NULL. */
static const char *header_value(const cJSON *headers, const char *name) {
  const cJSON *pair;
  cJSON_ArrayForEach(pair, headers) {
    const cJSON *n = cJSON_GetArrayItem(pair, 0), *v = cJSON_GetArrayItem(pair, 1);
    if (cJSON_IsString(n) && cJSON_IsString(v) && strcasecmp(n->valuestring, name) == 0)
      return v->valuestring;
  }
  return NULL;
}

/* {"name": NAME, "value": VALUE}, or NULL when out of memory. */
static cJSON *name_value(cJSON *name, cJSON *value) {
  cJSON *o = cJSON_CreateObject();
  int ok = o != NULL;
  ok = row_put(o, "name", name) && ok;
  ok = row_put(o, "value", value) && ok;
  if (!ok) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

/* HAR headers [{name, value}] from stored [[name, value], ...]; NULL when out of memory. */
static cJSON *har_headers(const cJSON *stored) {
  cJSON *arr = cJSON_CreateArray();
  const cJSON *pair;
  cJSON_ArrayForEach(pair, stored) {
    const cJSON *n = cJSON_GetArrayItem(pair, 0), *v = cJSON_GetArrayItem(pair, 1);
    if (!arr)
      return NULL;
    if (!cJSON_IsString(n) || !cJSON_IsString(v))
      continue;
    if (!push(arr, name_value(cJSON_CreateString(n->valuestring),
                              cJSON_CreateString(v->valuestring)))) {
      cJSON_Delete(arr);
      arr = NULL;
    }
  }
  return arr;
}

/* ------------------------------------------------------------------ query string */

/* P[0..N) form-decoded ('+' is a space, %XX a byte) as a new JSON string; the text as it
 * stands when decoding gives bytes that are not UTF-8. */
static cJSON *query_part(const char *p, size_t n) {
  size_t o = 0;
  char *d = util_form_decode(p, n, &o);
  if (!d)
    return NULL;
  cJSON *s;
  if (utf8_valid((const unsigned char *)d, o)) { /* JSON text must be UTF-8 */
    s = cJSON_CreateString(d);
  } else {
    memcpy(d, p, n);
    d[n] = '\0';
    s = cJSON_CreateString(d);
  }
  free(d);
  return s;
}

/* HAR queryString [{name, value}] of URL's query (between '?' and '#'). */
static cJSON *query_string(const char *url) {
  cJSON *arr = cJSON_CreateArray();
  const char *q = url ? strchr(url, '?') : NULL;
  if (!arr || !q)
    return arr;
  q++;
  const char *end = q + strcspn(q, "#");
  while (q < end) {
    const char *amp = memchr(q, '&', (size_t)(end - q));
    const char *pe = amp ? amp : end;
    if (pe > q) {
      const char *eq = memchr(q, '=', (size_t)(pe - q));
      const char *ne = eq ? eq : pe;
      const char *vs = eq ? eq + 1 : pe;
      if (!push(arr, name_value(query_part(q, (size_t)(ne - q)),
                                query_part(vs, (size_t)(pe - vs))))) {
        cJSON_Delete(arr);
        return NULL;
      }
    }
    q = amp ? amp + 1 : end;
  }
  return arr;
}

/* ------------------------------------------------------------------ entry */

/* The reason phrase of STATUS (rows keep the code only; HTTP/2 sends none), or "". */
static const char *status_text(long status) {
  static const struct { int code; const char *text; } reasons[] = {
    {100, "Continue"}, {101, "Switching Protocols"}, {200, "OK"}, {201, "Created"},
    {202, "Accepted"}, {203, "Non-Authoritative Information"}, {204, "No Content"},
    {205, "Reset Content"}, {206, "Partial Content"}, {301, "Moved Permanently"},
    {302, "Found"}, {303, "See Other"}, {304, "Not Modified"}, {307, "Temporary Redirect"},
    {308, "Permanent Redirect"}, {400, "Bad Request"}, {401, "Unauthorized"},
    {403, "Forbidden"}, {404, "Not Found"}, {405, "Method Not Allowed"},
    {406, "Not Acceptable"}, {408, "Request Timeout"}, {409, "Conflict"}, {410, "Gone"},
    {411, "Length Required"}, {412, "Precondition Failed"}, {413, "Content Too Large"},
    {414, "URI Too Long"}, {415, "Unsupported Media Type"}, {418, "I'm a teapot"},
    {422, "Unprocessable Content"}, {425, "Too Early"}, {428, "Precondition Required"},
    {429, "Too Many Requests"}, {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"}, {501, "Not Implemented"}, {502, "Bad Gateway"},
    {503, "Service Unavailable"}, {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
  };
  for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
    if (reasons[i].code == status)
      return reasons[i].text;
  return "";
}

/* A body of the row (a string, {"base64": ...} or null), moved out of ROW: *text gets
 * the text or the base64 (the caller owns it), *base64 says which. NULL text: no body. */
static void take_body(cJSON *row, const char *name, cJSON **text, int *base64) {
  cJSON *b = cJSON_DetachItemFromObjectCaseSensitive(row, name);
  *text = NULL;
  *base64 = 0;
  if (cJSON_IsString(b)) {
    *text = b;
    return;
  }
  if (cJSON_IsObject(b)) {
    cJSON *s = cJSON_DetachItemFromObjectCaseSensitive(b, "base64");
    if (cJSON_IsString(s)) {
      *text = s;
      *base64 = 1;
    } else {
      cJSON_Delete(s);
    }
  }
  cJSON_Delete(b);
}

static cJSON *har_request(cJSON *row, const char *version) {
  cJSON *req = cJSON_CreateObject();
  if (!req)
    return NULL;
  const cJSON *headers = cJSON_GetObjectItemCaseSensitive(row, "request_headers");
  const char *url = str_of(row, "url");
  cJSON *body = NULL;
  int base64 = 0;
  take_body(row, "request_body", &body, &base64);
  int ok = 1;
  ok &= row_put(req, "method", take(row, "method"));
  ok &= row_put(req, "url", cJSON_CreateString(url ? url : ""));
  ok &= row_put(req, "httpVersion", cJSON_CreateString(version));
  ok &= row_put(req, "cookies", cJSON_CreateArray());
  ok &= row_put(req, "headers", har_headers(headers));
  ok &= row_put(req, "queryString", query_string(url));
  if (body) {
    const char *ctype = header_value(headers, "Content-Type");
    cJSON *pd = cJSON_CreateObject();
    int pok = pd != NULL;
    pok = pok && row_put(pd, "mimeType", cJSON_CreateString(ctype ? ctype : ""));
    pok = pok && row_put(pd, "text", body);
    body = NULL;
    if (pok && base64)
      pok = row_put(pd, "_encoding", cJSON_CreateString("base64"));
    if (!pok)
      cJSON_Delete(pd);
    ok &= pok && row_put(req, "postData", pd);
  }
  cJSON_Delete(body);
  ok &= row_put(req, "headersSize", cJSON_CreateNumber(-1));
  ok &= row_put(req, "bodySize", cJSON_CreateNumber((double)int_of(row, "request_size", 0)));
  if (!ok) {
    cJSON_Delete(req);
    return NULL;
  }
  return req;
}

static cJSON *har_response(cJSON *row, const char *version) {
  cJSON *resp = cJSON_CreateObject();
  if (!resp)
    return NULL;
  const cJSON *headers = cJSON_GetObjectItemCaseSensitive(row, "response_headers");
  long status = (long)int_of(row, "status", 0);
  int64_t size = int_of(row, "response_size", 0);
  const char *ctype = str_of(row, "content_type");
  /* a body that came compressed was stored decoded: its size on the wire is unknown */
  const char *enc = header_value(headers, "Content-Encoding");
  int64_t body_size = status == 0 || (enc && strcasecmp(enc, "identity") != 0) ? -1 : size;
  cJSON *body = NULL;
  int base64 = 0;
  take_body(row, "response_body", &body, &base64);

  cJSON *content = cJSON_CreateObject();
  int ok = content != NULL;
  ok = ok && row_put(content, "size", cJSON_CreateNumber((double)size));
  ok = ok && row_put(content, "mimeType", cJSON_CreateString(ctype ? ctype : ""));
  if (ok && body) {
    ok = row_put(content, "text", body);
    if (ok && base64)
      ok = row_put(content, "encoding", cJSON_CreateString("base64"));
  } else {
    cJSON_Delete(body);
  }
  if (!ok) {
    cJSON_Delete(content);
    content = NULL;
  }

  ok = 1;
  ok &= row_put(resp, "status", cJSON_CreateNumber((double)status));
  ok &= row_put(resp, "statusText", cJSON_CreateString(status_text(status)));
  ok &= row_put(resp, "httpVersion", cJSON_CreateString(version));
  ok &= row_put(resp, "cookies", cJSON_CreateArray());
  ok &= row_put(resp, "headers", har_headers(headers));
  ok &= row_put(resp, "content", content);
  ok &= row_put(resp, "redirectURL", cJSON_CreateString(""));
  ok &= row_put(resp, "headersSize", cJSON_CreateNumber(-1));
  ok &= row_put(resp, "bodySize", cJSON_CreateNumber((double)body_size));
  if (!ok) {
    cJSON_Delete(resp);
    return NULL;
  }
  return resp;
}

/* Timing phases of a row, in µs, as the HAR timings object wants them. */
struct phases {
  int64_t blocked, dns, connect, ssl, wait, receive, time;
  int ssl_na; /* plain http: no TLS phase at all */
};

static struct phases phases_of(const cJSON *row) {
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(row, "timing");
  struct phases p = {0};
  int64_t tls = us_of(t, "tls_ms"), total = us_of(t, "total_ms");
  const char *url = str_of(row, "url");
  p.blocked = us_of(t, "queued_ms");
  p.dns = us_of(t, "dns_ms");
  p.ssl = tls;
  p.ssl_na = tls == 0 && url && strncasecmp(url, "http:", 5) == 0;
  p.connect = us_of(t, "connect_ms") + tls;
  p.wait = us_of(t, "ttfb_ms");
  int64_t before = p.dns + p.connect + p.wait;
  p.receive = total > before ? total - before : 0;
  p.time = p.blocked + before + p.receive;
  return p;
}

static cJSON *har_timings(const struct phases *p) {
  cJSON *t = cJSON_CreateObject();
  if (!t)
    return NULL;
  int ok = 1;
  ok &= row_put(t, "blocked", ms(p->blocked));
  ok &= row_put(t, "dns", ms(p->dns));
  ok &= row_put(t, "connect", ms(p->connect));
  ok &= row_put(t, "ssl", p->ssl_na ? cJSON_CreateNumber(-1) : ms(p->ssl));
  ok &= row_put(t, "send", cJSON_CreateNumber(0));
  ok &= row_put(t, "wait", ms(p->wait));
  ok &= row_put(t, "receive", ms(p->receive));
  if (!ok) {
    cJSON_Delete(t);
    return NULL;
  }
  return t;
}

/* What HAR has no field for, moved out of ROW. */
static cJSON *har_custom(cJSON *row) {
  static const char *const moved[] = {
    "id", "key", "attempt", "retry_of", "replay_of", "source", "origin", "request_id",
    "error", "error_message",
    "error_fields", "request_truncated", "response_truncated", "request_size",
    "response_size", "pinned", "tags", "note",
  };
  cJSON *c = cJSON_CreateObject();
  if (!c)
    return NULL;
  int ok = 1;
  for (size_t i = 0; i < sizeof moved / sizeof moved[0]; i++)
    ok &= row_put(c, moved[i], take(row, moved[i]));
  if (!ok) {
    cJSON_Delete(c);
    return NULL;
  }
  return c;
}

/* See export_har.h. */
cJSON *har_entry(cJSON *row) {
  cJSON *e = cJSON_CreateObject();
  if (!e)
    return NULL;
  const char *v = str_of(row, "http_version");
  char *version = util_strdup(v ? v : "");
  const char *ip = str_of(row, "remote_ip");
  cJSON *server_ip = ip && *ip ? cJSON_CreateString(ip) : NULL;
  struct phases p = phases_of(row);
  int ok = version != NULL;
  ok &= row_put(e, "startedDateTime", take(row, "started_at"));
  ok &= row_put(e, "time", ms(p.time));
  ok &= version && row_put(e, "request", har_request(row, version));
  ok &= version && row_put(e, "response", har_response(row, version));
  ok &= row_put(e, "cache", cJSON_CreateObject());
  ok &= row_put(e, "timings", har_timings(&p));
  if (ip && *ip)
    ok &= row_put(e, "serverIPAddress", server_ip);
  ok &= row_put(e, "_reqlog", har_custom(row));
  free(version);
  if (!ok) {
    cJSON_Delete(e);
    return NULL;
  }
  return e;
}

/* ------------------------------------------------------------------ the export */

/* `{"log":{"version":"1.2","creator":{...},"entries":[` made with cJSON: the log object
 * printed without its closing brace, so the entries can follow one at a time. */
char *har_envelope_head(void) {
  cJSON *log = cJSON_CreateObject();
  cJSON *creator = cJSON_CreateObject();
  int ok = log && creator;
  ok = ok && row_put(creator, "name", cJSON_CreateString("reqlog"));
  ok = ok && row_put(creator, "version", cJSON_CreateString(REQLOG_VERSION));
  ok = ok && row_put(log, "version", cJSON_CreateString("1.2"));
  if (ok) {
    ok = row_put(log, "creator", creator);
    creator = NULL;
  }
  ok = ok && row_put(log, "entries", cJSON_CreateArray());
  char *text = ok ? cJSON_PrintUnformatted(log) : NULL;
  cJSON_Delete(log);
  cJSON_Delete(creator);
  if (!text)
    return NULL;
  /* ends with "entries":[]} : cut the "]}" so entries and the ending can follow */
  size_t n = strlen(text);
  if (n < 3 || strcmp(text + n - 3, "[]}") != 0) {
    cJSON_free(text);
    return NULL;
  }
  text[n - 2] = '\0';
  char *head = NULL;
  if (asprintf(&head, "{\"log\":%s\n", text) < 0)
    head = NULL;
  cJSON_free(text);
  return head;
}
