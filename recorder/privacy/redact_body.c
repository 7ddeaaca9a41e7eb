/* redact_body.c: the body rule. It picks the rule by the content type and the first
 * bytes (JSON, x-www-form-urlencoded, multipart/form-data), and gives every body, binary
 * included, the Bearer/JWT scan. */
#include "privacy/redact_int.h"

#include <string.h>

/* The media type of CT (its parameters left out): its length from *CT, which moves past
 * leading white space. */
static size_t media_type(const char **ct) {
  while (ch_space((unsigned char)**ct))
    (*ct)++;
  size_t n = 0;
  while ((*ct)[n] && (*ct)[n] != ';' && !ch_space((unsigned char)(*ct)[n]))
    n++;
  return n;
}

/* The media type of CT (parameters and case ignored) is TYPE, lower case. */
static int media_is(const char *ct, const char *type) {
  size_t n = media_type(&ct);
  name_t t = {type, strlen(type)};
  return names_eq_nocase(ct, n, &t);
}

/* application/json, text/json, anything+json, ndjson. */
static int media_is_json(const char *ct) {
  size_t n = media_type(&ct);
  const char *slash = memchr(ct, '/', n);
  if (!slash)
    return 0;
  const char *sub = slash + 1;
  size_t sn = n - (size_t)(sub - ct);
  static const name_t json = NAME("json"), plus = NAME("+json"), nd = NAME("x-ndjson"),
                      nd2 = NAME("ndjson");
  return names_eq_nocase(sub, sn, &json) || names_eq_nocase(sub, sn, &nd) ||
         names_eq_nocase(sub, sn, &nd2) ||
         (sn > plus.n && names_eq_nocase(sub + sn - plus.n, plus.n, &plus));
}

/* DATA[0..LEN) starts with { or [ after a byte order mark and white space. */
static int looks_json(const char *data, size_t len) {
  size_t first = 0;
  if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
    first = 3; /* byte order mark */
  while (first < len && ch_space((unsigned char)data[first]))
    first++;
  return first < len && (data[first] == '{' || data[first] == '[');
}

/* Applies the rule of content type CT to E. */
static void body_rule(const redactor *rd, const char *ct, edits *e) {
  static const name_t boundary = NAME("boundary=");
  const char *bv;
  size_t bn;
  /* JSON first: `curl -d '{...}'` labels JSON as a form. */
  if (looks_json(e->src, e->len) || media_is_json(ct))
    json_redact(rd, e);
  else if (media_is(ct, "application/x-www-form-urlencoded"))
    url_params(rd, e, 0, e->len);
  else if (media_is(ct, "multipart/form-data") &&
           multipart_param(ct, strlen(ct), &boundary, &bv, &bn) && bn > 0 &&
           bn <= BOUNDARY_MAX_LEN)
    multipart_redact(rd, e, bv, bn);
}

reqlog_err redact_body(const redactor *rd, const char *content_type,
                       const char *data, size_t len, char **out, size_t *out_len) {
  if (!out || !out_len)
    return REQLOG_ERR_ARG;
  *out = NULL;
  *out_len = 0;
  if (!data || len == 0)
    return REQLOG_OK;
  edits e;
  out_init(&e, data, len);
  body_rule(rd, content_type ? content_type : "", &e);
  /* Everything else, binary included (application/octet-stream, NUL bytes, not UTF-8),
   * gets the Bearer/JWT scan only: it reads bytes, so it is as safe on binary as on
   * text, and a credential inside an upload is as secret as one in JSON. Its
   * replacements are ASCII, so they make no binary body "less binary". */
  token_scan(&e, e.len);
  return out_finish(&e, out, out_len);
}
