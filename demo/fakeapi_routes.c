/* fakeapi_routes.c: the fake API's route table and its endpoints, apart from the
 * participants resource (fakeapi_participants.c). Most endpoints exist to misbehave in
 * one precise way, so a client's handling of it can be tested. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>
#include "fakeapi_int.h"

#define MAX_BODY_BYTES (64L * 1024 * 1024) /* /large and /binary */

bool fa_query_long(const struct fa_call *c, struct fa_reply *r, const char *name,
                   long dflt, long min, long max, long *out)
{
  const char *s = MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, name);
  char *end = NULL, msg[96];
  long long v;

  if (s == NULL || *s == '\0') {
    *out = dflt;
    return true;
  }
  v = strtoll(s, &end, 10);
  if (*end != '\0' || v < min) {
    snprintf(msg, sizeof msg, "The %s must be an integer of at least %ld.", name, min);
    fa_reply_invalid(r, name, msg);
    return false;
  }
  *out = v > max ? max : (long)v;
  return true;
}

/* ------------------------------------------------------------ small endpoints */

static void health(const struct fa_call *c, struct fa_reply *r)
{
  cJSON *o = cJSON_CreateObject();

  if (o != NULL && cJSON_AddTrueToObject(o, "ok") == NULL) {
    cJSON_Delete(o);
    o = NULL;
  }
  fa_reply_json(r, 200, o);
}

static void slow(const struct fa_call *c, struct fa_reply *r)
{
  long ms;
  cJSON *o;

  if (!fa_query_long(c, r, "ms", 1000, 0, 30000, &ms))
    return;
  if (!fa_sleep_ms(c->api, ms)) {
    fa_reply_message(r, 503, "The server is shutting down.");
    return;
  }
  o = cJSON_CreateObject();
  if (o != NULL && cJSON_AddNumberToObject(o, "slept_ms", (double)ms) == NULL) {
    cJSON_Delete(o);
    o = NULL;
  }
  fa_reply_json(r, 200, o);
}

static void large(const struct fa_call *c, struct fa_reply *r)
{
  long bytes;
  char *body;

  /* 11 bytes is the smallest body of this shape: {"data":""} */
  if (!fa_query_long(c, r, "bytes", 2097152, 11, MAX_BODY_BYTES, &bytes))
    return;
  body = fa_padded_json((size_t)bytes);
  if (body == NULL) {
    r->oom = true;
    return;
  }
  fa_reply_raw(r, 200, "application/json", body, (size_t)bytes, cJSON_free);
}

static void binary(const struct fa_call *c, struct fa_reply *r)
{
  long bytes, i;
  char *body;

  if (!fa_query_long(c, r, "bytes", 4096, 0, MAX_BODY_BYTES, &bytes))
    return;
  body = malloc(bytes > 0 ? (size_t)bytes : 1);
  if (body == NULL) {
    r->oom = true;
    return;
  }
  for (i = 0; i < bytes; i++)
    body[i] = (char)(unsigned char)(i % 256);
  fa_reply_raw(r, 200, "application/octet-stream", body, (size_t)bytes, free);
}

/* About 2 KB of JSON: the participants and some repetitive notes (they compress well,
 * which is what a gzip test wants to see). */
static char *gzip_document(void)
{
  cJSON *o = cJSON_CreateObject(), *notes;
  char *text = NULL, line[80];
  int i;

  if (o == NULL || !cJSON_AddItemToObject(o, "data", fa_participants_array()))
    goto fail;
  notes = cJSON_AddArrayToObject(o, "notes");
  for (i = 0; notes != NULL && i < 25; i++) {
    snprintf(line, sizeof line, "Note %02d: the quick brown fox jumps over the lazy dog.",
             i + 1);
    cJSON_AddItemToArray(notes, cJSON_CreateString(line));
  }
  if (notes != NULL)
    text = cJSON_PrintUnformatted(o);
fail:
  cJSON_Delete(o);
  return text;
}

/* TEXT as one gzip member (windowBits 31 = 15 plus the gzip wrapper), or NULL. */
static char *gzip_bytes(const char *text, size_t len, size_t *out_len)
{
  z_stream zs;
  char *out;
  uLong bound;
  int rc;

  memset(&zs, 0, sizeof zs);
  if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK)
    return NULL;
  bound = deflateBound(&zs, (uLong)len);
  out = malloc(bound);
  if (out != NULL) {
    zs.next_in = (Bytef *)text;
    zs.avail_in = (uInt)len;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)bound;
    rc = deflate(&zs, Z_FINISH);
    if (rc == Z_STREAM_END) {
      *out_len = zs.total_out;
    } else {
      free(out);
      out = NULL;
    }
  }
  deflateEnd(&zs);
  return out;
}

/* Always compressed, whatever Accept-Encoding says: a client must cope either way. */
static void gzip_json(const struct fa_call *c, struct fa_reply *r)
{
  char *text = gzip_document(), *gz = NULL;
  size_t gz_len = 0;

  if (text != NULL)
    gz = gzip_bytes(text, strlen(text), &gz_len);
  cJSON_free(text);
  if (gz == NULL) {
    r->oom = true;
    return;
  }
  fa_reply_raw(r, 200, "application/json", gz, gz_len, free);
  fa_reply_header(r, "Content-Encoding", "gzip");
}

static bool has_control_chars(const char *s)
{
  for (; *s != '\0'; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      return true;
  return false;
}

static void redirect_to(const struct fa_call *c, struct fa_reply *r)
{
  const char *to = MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, "to");

  if (to == NULL || *to == '\0')
    to = "participants";
  while (*to == '/')
    to++;
  /* The value goes into a header: a CR or LF would let a caller forge headers. */
  if (has_control_chars(to)) {
    fa_reply_invalid(r, "to", "The to must be a path without control characters.");
    return;
  }
  fa_reply_message(r, 302, "Found.");
  fa_reply_header(r, "Location", "%s/%s", FAKEAPI_BASE_PATH, to);
}

/* /redirect/N -> /redirect/N-1 -> ... -> /redirect/1 -> /participants */
static void redirect_chain(const struct fa_call *c, struct fa_reply *r)
{
  long n;

  if (!fa_param_long(c, 1000, &n)) {
    fa_reply_message(r, 404, "Not Found.");
    return;
  }
  fa_reply_message(r, 302, "Found.");
  if (n <= 1)
    fa_reply_header(r, "Location", "%s/participants", FAKEAPI_BASE_PATH);
  else
    fa_reply_header(r, "Location", "%s/redirect/%ld", FAKEAPI_BASE_PATH, n - 1);
}

static void drop(const struct fa_call *c, struct fa_reply *r)
{
  r->drop = true;
}

static void flaky(const struct fa_call *c, struct fa_reply *r)
{
  const char *id = MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, "id");
  long fail, attempts;
  cJSON *o;

  if (!fa_query_long(c, r, "fail", 1, 0, 1000000, &fail))
    return;
  attempts = fa_count(c->api, &c->api->flaky, id ? id : "");
  if (attempts < 0) {
    r->oom = true;
    return;
  }
  if (attempts <= fail) {
    fa_reply_message(r, 503, "Service Unavailable.");
    return;
  }
  o = cJSON_CreateObject();
  if (o != NULL && (cJSON_AddTrueToObject(o, "ok") == NULL ||
                    cJSON_AddNumberToObject(o, "attempts", (double)attempts) == NULL)) {
    cJSON_Delete(o);
    o = NULL;
  }
  fa_reply_json(r, 200, o);
}

/* An IMF-fixdate (RFC 9110): English names whatever the process locale is. */
static void http_date(char *out, size_t size, time_t t)
{
  static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  struct tm tm;

  gmtime_r(&t, &tm);
  snprintf(out, size, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7],
           tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
           tm.tm_sec);
}

static void status(const struct fa_call *c, struct fa_reply *r)
{
  long code, after;
  char msg[32], date[64];
  const char *as_date;

  if (!fa_param_long(c, 599, &code) || code < 200) {
    fa_reply_invalid(r, "code", "The code must be between 200 and 599.");
    return;
  }
  if (!fa_query_long(c, r, "retry_after", -1, 0, 365L * 86400, &after))
    return;
  if (code == 204 || code == 304) {
    fa_reply_raw(r, (unsigned)code, NULL, NULL, 0, free); /* these never have a body */
  } else {
    snprintf(msg, sizeof msg, "Status %ld", code);
    fa_reply_message(r, (unsigned)code, msg);
  }
  if (after < 0)
    return;
  as_date = MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND,
                                        "retry_after_date");
  if (as_date != NULL && strcmp(as_date, "0") != 0) {
    http_date(date, sizeof date, time(NULL) + after);
    fa_reply_header(r, "Retry-After", "%s", date);
  } else {
    fa_reply_header(r, "Retry-After", "%ld", after);
  }
}

static void session(const struct fa_call *c, struct fa_reply *r)
{
  health(c, r);
  fa_reply_header(r, "Set-Cookie", "session=SESSSECRET123; HttpOnly");
}

/* Tokens in a response body, for the recorder's JSON-key redaction to find. */
static void oauth_token(const struct fa_call *c, struct fa_reply *r)
{
  cJSON *o = cJSON_CreateObject();

  if (o != NULL &&
      (cJSON_AddStringToObject(o, "access_token", "at_SECRET_abc") == NULL ||
       cJSON_AddStringToObject(o, "refresh_token", "rt_SECRET_def") == NULL ||
       cJSON_AddStringToObject(o, "token_type", "Bearer") == NULL ||
       cJSON_AddNumberToObject(o, "expires_in", 3600) == NULL)) {
    cJSON_Delete(o);
    o = NULL;
  }
  fa_reply_json(r, 200, o);
}

static void bench(const struct fa_call *c, struct fa_reply *r)
{
  r->status = 200;
  r->shared = c->api->bench;
}

/* ------------------------------------------------------------ /echo */

/* True when S[0..LEN) is UTF-8 that a JSON string can carry as is: well-formed, no
 * overlong forms or surrogates, and no NUL (cJSON strings end at the first NUL). */
static bool is_text(const unsigned char *s, size_t len)
{
  size_t i = 0, k, n;
  uint32_t cp;

  while (i < len) {
    if (s[i] == 0)
      return false;
    if (s[i] < 0x80) {
      i++;
      continue;
    }
    if (s[i] >= 0xc2 && s[i] <= 0xdf) {
      n = 1;
      cp = s[i] & 0x1f;
    } else if (s[i] >= 0xe0 && s[i] <= 0xef) {
      n = 2;
      cp = s[i] & 0x0f;
    } else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
      n = 3;
      cp = s[i] & 0x07;
    } else {
      return false;
    }
    if (len - i <= n)
      return false;
    for (k = 1; k <= n; k++) {
      if ((s[i + k] & 0xc0) != 0x80)
        return false;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
      return false;
    i += n + 1;
  }
  return true;
}

static char *base64(const unsigned char *s, size_t len)
{
  static const char abc[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;
  size_t i;
  uint32_t v;

  if (out == NULL)
    return NULL;
  for (i = 0; i < len; i += 3) {
    v = (uint32_t)s[i] << 16;
    if (i + 1 < len)
      v |= (uint32_t)s[i + 1] << 8;
    if (i + 2 < len)
      v |= s[i + 2];
    *o++ = abc[(v >> 18) & 63];
    *o++ = abc[(v >> 12) & 63];
    *o++ = i + 1 < len ? abc[(v >> 6) & 63] : '=';
    *o++ = i + 2 < len ? abc[v & 63] : '=';
  }
  *o = '\0';
  return out;
}

static enum MHD_Result add_header_pair(void *cls, enum MHD_ValueKind kind,
                                       const char *name, const char *value)
{
  cJSON *pair = cJSON_CreateArray();

  if (pair == NULL)
    return MHD_NO;
  cJSON_AddItemToArray(pair, cJSON_CreateString(name));
  cJSON_AddItemToArray(pair, cJSON_CreateString(value ? value : ""));
  cJSON_AddItemToArray(cls, pair);
  return MHD_YES;
}

/* The body as a string when it is text; otherwise null plus "body_base64", so binary
 * uploads come back intact. */
static bool add_body(cJSON *o, const struct fa_call *c)
{
  char *b64;
  bool ok;

  if (is_text((const unsigned char *)c->body, c->body_len))
    return cJSON_AddStringToObject(o, "body", c->body) != NULL;
  b64 = base64((const unsigned char *)c->body, c->body_len);
  ok = b64 != NULL && cJSON_AddNullToObject(o, "body") != NULL &&
       cJSON_AddStringToObject(o, "body_base64", b64) != NULL;
  free(b64);
  return ok;
}

/* Echoes the Authorization header too, on purpose: the recorder must redact it from
 * the stored response body. */
static void echo(const struct fa_call *c, struct fa_reply *r)
{
  cJSON *o = cJSON_CreateObject(), *headers;

  if (o == NULL || cJSON_AddStringToObject(o, "method", c->method) == NULL ||
      cJSON_AddStringToObject(o, "path", c->path) == NULL ||
      cJSON_AddStringToObject(o, "query", c->query) == NULL)
    goto fail;
  headers = cJSON_AddArrayToObject(o, "headers");
  if (headers == NULL)
    goto fail;
  MHD_get_connection_values(c->conn, MHD_HEADER_KIND, add_header_pair, headers);
  if (!add_body(o, c) ||
      cJSON_AddNumberToObject(o, "body_size", (double)c->body_len) == NULL)
    goto fail;
  fa_reply_json(r, 200, o);
  return;
fail:
  cJSON_Delete(o);
  fa_reply_json(r, 500, NULL);
}

/* ------------------------------------------------------------ the table */

static const struct fa_route routes[] = {
  {"GET", "/health", FA_PUBLIC, health},
  {"GET", "/participants", 0, fa_participants_list},
  {"POST", "/participants", 0, fa_participants_create},
  {"GET", "/participants/{}", 0, fa_participants_show},
  {"PUT", "/participants/{}", 0, fa_participants_replace},
  {"PATCH", "/participants/{}", 0, fa_participants_patch},
  {"DELETE", "/participants/{}", 0, fa_participants_delete},
  {"GET", "/slow", 0, slow},
  {"GET", "/large", 0, large},
  {"GET", "/binary", 0, binary},
  {"GET", "/gzip", 0, gzip_json},
  {"GET", "/redirect", 0, redirect_to},
  {"GET", "/redirect/{}", 0, redirect_chain},
  /* Any method: retry tests need POSTs that fail the same way GETs do. */
  {"*", "/drop", 0, drop},
  {"*", "/flaky", 0, flaky},
  {"*", "/status/{}", 0, status},
  {"*", "/echo", 0, echo},
  {"GET", "/session", 0, session},
  {"POST", "/oauth/token", 0, oauth_token},
  /* Benchmarks make tens of thousands of calls: a key, but no rate limit. */
  {"GET", "/bench", FA_UNLIMITED, bench},
};

/* PATTERN against PATH, where a "{}" in PATTERN matches one non-empty segment. */
static bool pattern_match(const char *pattern, const char *path, const char **param,
                          size_t *param_len)
{
  const char *hole = strstr(pattern, "{}"), *seg;
  size_t before, seg_len;

  if (hole == NULL)
    return strcmp(pattern, path) == 0;
  before = (size_t)(hole - pattern);
  if (strncmp(pattern, path, before) != 0)
    return false;
  seg = path + before;
  seg_len = strcspn(seg, "/");
  if (seg_len == 0 || strcmp(hole + 2, seg + seg_len) != 0)
    return false;
  *param = seg;
  *param_len = seg_len;
  return true;
}

static bool method_match(const char *route_method, const char *method)
{
  return strcmp(route_method, "*") == 0 || strcmp(route_method, method) == 0 ||
         (strcmp(route_method, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

enum fa_match fa_route_find(const char *method, const char *path,
                            const struct fa_route **route,
                            const char **param, size_t *param_len)
{
  enum fa_match found = FA_MATCH_NONE;
  size_t i;

  for (i = 0; i < sizeof routes / sizeof routes[0]; i++) {
    const char *p = NULL;
    size_t plen = 0;

    if (!pattern_match(routes[i].pattern, path, &p, &plen))
      continue;
    found = FA_MATCH_METHOD;
    if (method_match(routes[i].method, method)) {
      *route = &routes[i];
      *param = p;
      *param_len = plen;
      return FA_MATCH_OK;
    }
  }
  return found;
}
