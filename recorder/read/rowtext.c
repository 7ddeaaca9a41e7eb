/* rowtext.c: one result row written as the row model's JSON text, member by member from
 * a table, with the stored JSON columns copied through instead of parsed and printed. */
#include "read/rowtext.h"

#include <stdlib.h>
#include <string.h>

#include "read/row.h"
#include "base/util.h"

/* ------------------------------------------------------------------ stored JSON */

/* How deep stored JSON may nest and still be copied; deeper goes through cJSON. */
enum { COPY_DEPTH = 32 };

static const unsigned char *skip_spaces(const unsigned char *p) {
  while (*p == ' ')
    p++;
  return p;
}

/* Each checker is given the first byte of a value and returns the byte after it, or NULL
 * when the text is not in the plain form that can be copied: strict JSON without
 * numbers, without bytes below 0x20 outside strings too (whitespace is spaces only), and
 * without the \u escapes cJSON would change the meaning of (\u0000 ends a cJSON string;
 * surrogates it checks pairwise). Whatever is refused here is left to cJSON. */
static const unsigned char *plain_string(const unsigned char *p) {
  for (p++;; p++) {
    if (*p == '"')
      return p + 1;
    if (*p < 0x20)
      return NULL; /* also the end of the text */
    if (*p != '\\')
      continue;
    p++;
    if (*p == 'u') {
      unsigned v = 0;
      for (int i = 1; i <= 4; i++) {
        int h = util_hex_value(p[i]);
        if (h < 0)
          return NULL;
        v = v << 4 | (unsigned)h;
      }
      if (v == 0 || (v >= 0xD800 && v <= 0xDFFF))
        return NULL;
      p += 4;
    } else if (!*p || !strchr("\"\\/bfnrt", *p)) {
      return NULL;
    }
  }
}

static const unsigned char *plain_word(const unsigned char *p, const char *word) {
  size_t n = strlen(word);
  return strncmp((const char *)p, word, n) == 0 ? p + n : NULL;
}

static const unsigned char *plain_value(const unsigned char *p, int depth) {
  switch (*p) {
  case '"':
    return plain_string(p);
  case 't':
    return plain_word(p, "true");
  case 'f':
    return plain_word(p, "false");
  case 'n':
    return plain_word(p, "null");
  case '[':
  case '{':
    break;
  default:
    return NULL;
  }
  if (depth == 0)
    return NULL;
  int object = *p == '{';
  unsigned char close = object ? '}' : ']';
  p = skip_spaces(p + 1);
  if (*p == close)
    return p + 1;
  for (;;) {
    if (object) {
      if (*p != '"' || !(p = plain_string(p)))
        return NULL;
      p = skip_spaces(p);
      if (*p != ':')
        return NULL;
      p = skip_spaces(p + 1);
    }
    p = plain_value(p, depth - 1);
    if (!p)
      return NULL;
    p = skip_spaces(p);
    if (*p == close)
      return p + 1;
    if (*p != ',')
      return NULL;
    p = skip_spaces(p + 1);
  }
}

/* Column COL's stored JSON of cJSON type WANT (cJSON_Array, cJSON_Object), or MISSING
 * ("[]", "null") when row_json() would not find one there. */
static void stored_json(textbuf *t, const rowsrc *r, int col, int want, const char *missing) {
  const unsigned char *s = rowsrc_text(r, col, NULL);
  if (!s) {
    tb_str(t, missing);
    return;
  }
  const unsigned char *start = skip_spaces(s);
  const unsigned char *end = NULL;
  if (*start == (want == cJSON_Array ? '[' : '{'))
    end = plain_value(start, COPY_DEPTH);
  if (end && !*skip_spaces(end)) {
    tb_bytes(t, start, (size_t)(end - start));
    return;
  }
  cJSON *v = row_stored_json(r, col, want);
  char *text = v ? cJSON_PrintUnformatted(v) : NULL;
  if (v && !text)
    t->nomem = 1;
  tb_str(t, text ? text : missing);
  cJSON_free(text);
  cJSON_Delete(v);
}

/* ------------------------------------------------------------------ members */

enum kind {
  K_INT,     /* integer or null */
  K_MS,      /* µs as milliseconds, or null */
  K_TIME,    /* Unix µs as ISO 8601 */
  K_TEXT,    /* string or null */
  K_BOOL,    /* 0 false, anything else true */
  K_HEADERS, /* stored [[name, value], ...]; [] when missing */
  K_FIELDS,  /* stored {field: [messages]}; null when missing */
  K_BODY,    /* text as a string, binary as {"base64": ...}, NULL as null */
  K_TAGS,    /* a stored comma list as an array of strings; [] when NULL */
  K_TIMING   /* the timing object */
};

/* NAME is written with its quotes and colon, LEN long. */
struct member {
  const char *name;
  size_t len;
  int col;
  enum kind kind;
};

#define M(name, col, kind) {"\"" name "\":", sizeof "\"" name "\":" - 1, col, kind}

/* row_json()'s members in its order. */
static const struct member members[] = {
  M("id", RC_ID, K_INT),
  M("started_at", RC_STARTED_AT, K_TIME),
  M("method", RC_METHOD, K_TEXT),
  M("url", RC_URL, K_TEXT),
  M("host", RC_HOST, K_TEXT),
  M("path", RC_PATH, K_TEXT),
  M("status", RC_STATUS, K_INT),
  M("error", RC_ERROR, K_TEXT),
  M("duration_ms", RC_DURATION_US, K_MS),
  M("timing", -1, K_TIMING),
  M("key", RC_KEY, K_TEXT),
  M("attempt", RC_ATTEMPT, K_INT),
  M("retry_of", RC_RETRY_OF, K_INT),
  M("replay_of", RC_REPLAY_OF, K_INT),
  M("source", RC_SOURCE, K_TEXT),
  M("origin", RC_ORIGIN, K_TEXT),
  M("request_id", RC_REQUEST_ID, K_TEXT),
  M("pinned", RC_PINNED, K_BOOL),
  M("tags", RC_TAGS, K_TAGS),
  M("note", RC_NOTE, K_TEXT),
  M("request_headers", RC_REQUEST_HEADERS, K_HEADERS),
  M("response_headers", RC_RESPONSE_HEADERS, K_HEADERS),
  M("request_body", RC_REQUEST_BODY, K_BODY),
  M("response_body", RC_RESPONSE_BODY, K_BODY),
  M("request_size", RC_REQUEST_SIZE, K_INT),
  M("response_size", RC_RESPONSE_SIZE, K_INT),
  M("request_truncated", RC_REQUEST_TRUNCATED, K_BOOL),
  M("response_truncated", RC_RESPONSE_TRUNCATED, K_BOOL),
  M("request_sha256", RC_REQUEST_SHA256, K_TEXT),
  M("response_sha256", RC_RESPONSE_SHA256, K_TEXT),
  M("content_type", RC_CONTENT_TYPE, K_TEXT),
  M("http_version", RC_HTTP_VERSION, K_TEXT),
  M("remote_ip", RC_REMOTE_IP, K_TEXT),
  M("error_message", RC_ERROR_MESSAGE, K_TEXT),
  M("error_fields", RC_ERROR_FIELDS, K_FIELDS),
};

static const struct member timing_members[] = {
  M("queued_ms", RC_QUEUED_US, K_MS),
  M("dns_ms", RC_DNS_US, K_MS),
  M("connect_ms", RC_CONNECT_US, K_MS),
  M("tls_ms", RC_TLS_US, K_MS),
  M("ttfb_ms", RC_TTFB_US, K_MS),
  M("total_ms", RC_DURATION_US, K_MS),
};

#define COUNT(a) (sizeof a / sizeof a[0])

static void object(textbuf *t, const rowsrc *r, const struct member *m, size_t n,
                   int with_bodies);

/* Any column read as text, as the backend converts it. */
static void text_or_null(textbuf *t, const rowsrc *r, int col) {
  const char *s = (const char *)rowsrc_text(r, col, NULL);
  if (s)
    tb_json_string(t, s);
  else
    tb_str(t, "null");
}

static void body(textbuf *t, const rowsrc *r, int col) {
  const unsigned char *data;
  size_t n;
  rowsrc_kind kind = rowsrc_body(r, col, &data, &n);
  if (kind == ROWSRC_NULL) {
    tb_str(t, "null");
    return;
  }
  if (kind == ROWSRC_TEXT) {
    tb_json_string(t, (const char *)data);
    return;
  }
  tb_str(t, "{\"base64\":\"");
  tb_base64(t, data, n);
  tb_str(t, "\"}");
}

/* As row.c's: the comma list's items (empty ones skipped) as JSON strings. */
static void tags(textbuf *t, const rowsrc *r, int col) {
  const char *s = (const char *)rowsrc_text(r, col, NULL);
  const char *sep = "";
  tb_byte(t, '[');
  while (s && *s) {
    const char *e = strchr(s, ',');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    char *item = n ? util_strndup(s, n) : NULL;
    if (n && !item)
      t->nomem = 1;
    if (item) {
      tb_str(t, sep);
      tb_json_string(t, item);
      sep = ",";
    }
    free(item);
    s += e ? n + 1 : n;
  }
  tb_byte(t, ']');
}

static void value(textbuf *t, const rowsrc *r, const struct member *m) {
  int col = m->col;
  int64_t v = 0;
  if ((m->kind == K_INT || m->kind == K_MS) && !rowsrc_int_or_null(r, col, &v)) {
    tb_str(t, "null");
    return;
  }
  switch (m->kind) {
  case K_INT:
    tb_int(t, v);
    break;
  case K_MS:
    tb_ms(t, v, 0);
    break;
  case K_TIME: {
    char iso[32];
    util_format_time(rowsrc_int(r, col), iso);
    tb_json_string(t, iso);
    break;
  }
  case K_TEXT:
    text_or_null(t, r, col);
    break;
  case K_BODY:
    body(t, r, col);
    break;
  case K_TAGS:
    tags(t, r, col);
    break;
  case K_BOOL:
    tb_str(t, rowsrc_int(r, col) != 0 ? "true" : "false");
    break;
  case K_HEADERS:
    stored_json(t, r, col, cJSON_Array, "[]");
    break;
  case K_FIELDS:
    stored_json(t, r, col, cJSON_Object, "null");
    break;
  case K_TIMING:
    object(t, r, timing_members, COUNT(timing_members), 0);
    break;
  }
}

static void object(textbuf *t, const rowsrc *r, const struct member *m, size_t n,
                   int with_bodies) {
  tb_byte(t, '{');
  for (size_t i = 0; i < n; i++) {
    if (m[i].kind == K_BODY && !with_bodies)
      continue;
    if (i > 0)
      tb_byte(t, ',');
    tb_bytes(t, m[i].name, m[i].len);
    value(t, r, &m[i]);
  }
  tb_byte(t, '}');
}

void row_text(const rowsrc *r, int with_bodies, textbuf *t) {
  object(t, r, members, COUNT(members), with_bodies);
}
