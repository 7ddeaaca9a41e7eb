/* redact_json.c: the JSON rule. A tolerant scanner, not a parser: it follows strings,
 * containers and bare tokens so that it knows, for each string, whether it is an object
 * key, and replaces the value of a sensitive key (redact_jsonkey.c) at any depth by
 * "[REDACTED]", whatever the value's type, keeping every other byte, so valid JSON stays
 * valid. Malformed or truncated input is scanned to its end without ever reading past it.
 *
 * One exception keeps the API's own error shape readable (docs/design.md §1): in a
 * top-level "errors" object, {"password": ["The password must be at least 8
 * characters."]} holds validation messages about the field, not its value, so an ARRAY
 * there is scanned like any other value (its strings stay, the Bearer/JWT scan still
 * applies) instead of being replaced. Any other value type there is redacted as usual. */
#include "privacy/redact_int.h"

#include <string.h>

/* JSON nesting tracked per level; a container deeper than this is redacted whole. */
#define JSON_MAX_DEPTH 512

#define JSON_REDACTED "\"" REDACTED "\""

/* End of the JSON string whose opening quote is at S[I]: the index after its closing
 * quote, or LEN when the data ends first (*CLOSED 0). */
static size_t json_string_end(const char *s, size_t len, size_t i, int *closed) {
  size_t from = i + 1;
  for (;;) {
    const char *q = from < len ? memchr(s + from, '"', len - from) : NULL;
    if (!q) {
      *closed = 0;
      return len;
    }
    /* the quote is escaped when an odd number of backslashes comes before it (the
     * opening quote stops the count) */
    size_t at = (size_t)(q - s), k = 0;
    while (s[at - 1 - k] == '\\')
      k++;
    if (k % 2 == 0) {
      *closed = 1;
      return at + 1;
    }
    from = at + 1;
  }
}

/* Bytes that end a bare JSON token: white space and , : { } [ ] " */
static const unsigned char json_delim[256] = {
  [' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\n'] = 1, [','] = 1, [':'] = 1,
  ['{'] = 1, ['}'] = 1, ['['] = 1, [']'] = 1, ['"'] = 1,
};

/* End of the container opening at S[I], with everything nested in it, or LEN. */
static size_t json_container_end(const char *s, size_t len, size_t i) {
  size_t depth = 0;
  int closed;
  while (i < len) {
    char c = s[i];
    if (c == '"') {
      i = json_string_end(s, len, i, &closed);
      continue;
    }
    if (c == '{' || c == '[') {
      depth++;
    } else if (c == '}' || c == ']') {
      if (--depth == 0)
        return i + 1;
    }
    i++;
  }
  return len;
}

/* End of the JSON value starting at S[I] (not white space nor , : } ]): a string, a
 * container with everything nested in it, or a bare token (number, true, junk). A value
 * cut by the end of the data ends at LEN. */
static size_t json_value_end(const char *s, size_t len, size_t i) {
  int closed;
  if (s[i] == '"')
    return json_string_end(s, len, i, &closed);
  if (s[i] == '{' || s[i] == '[')
    return json_container_end(s, len, i);
  while (i < len && !json_delim[(unsigned char)s[i]])
    i++;
  return i;
}

enum { J_VALUE, J_KEY, J_COLON, J_AFTER };

/* The scanner's state between two bytes of the text. */
typedef struct {
  const redactor *rd;
  edits *e;
  unsigned char is_obj[JSON_MAX_DEPTH / 8]; /* one bit per open container */
  size_t depth;
  int state;
  int key_hit;    /* the last key was sensitive */
  int errors_key; /* the last key of the top-level object was "errors" */
  int in_errors;  /* depth 2 is the top-level "errors" object */
} json_scan;

/* The innermost open container is an object. */
static int json_in_obj(const json_scan *j) {
  size_t d = j->depth;
  return d > 0 && (j->is_obj[(d - 1) / 8] >> ((d - 1) % 8) & 1);
}

/* A value ended at END: returns END. */
static size_t json_value_done(json_scan *j, size_t end) {
  j->state = J_AFTER;
  j->key_hit = 0;
  return end;
}

/* '{' or '[' C at I, the value of a sensitive key when SECRET: redacted whole, or
 * entered. Returns where the scan goes on. */
static size_t json_open(json_scan *j, size_t i, char c, int secret) {
  if (secret && c == '[' && j->depth == 2 && j->in_errors)
    secret = 0; /* field -> messages, see above */
  if (secret || j->depth == JSON_MAX_DEPTH) {
    size_t end = json_value_end(j->e->src, j->e->len, i);
    token_span(j->e, i, end, JSON_REDACTED);
    return json_value_done(j, end);
  }
  size_t d = j->depth;
  if (c == '{')
    j->is_obj[d / 8] |= (unsigned char)(1u << (d % 8));
  else
    j->is_obj[d / 8] &= (unsigned char)~(1u << (d % 8));
  if (d == 1)
    j->in_errors = c == '{' && json_in_obj(j) && j->errors_key && j->state == J_VALUE;
  j->depth++;
  j->state = c == '{' ? J_KEY : J_VALUE;
  j->key_hit = 0;
  return i + 1;
}

/* The string at I: a secret value, an object key, or any other string. */
static size_t json_string(json_scan *j, size_t i, int secret) {
  static const name_t errors = NAME("errors");
  const char *s = j->e->src;
  int closed;
  size_t end = json_string_end(s, j->e->len, i, &closed);
  if (secret) {
    token_span(j->e, i, end, JSON_REDACTED);
    return json_value_done(j, end);
  }
  if (!json_in_obj(j) || (j->state != J_KEY && j->state != J_AFTER))
    return json_value_done(j, end);
  /* a key (J_AFTER: after a missing comma) */
  j->key_hit = closed && jsonkey_sensitive(j->rd, s + i + 1, end - i - 2);
  if (j->depth == 1)
    j->errors_key = closed && names_eq_nocase(s + i + 1, end - i - 2, &errors);
  j->state = J_COLON;
  return end;
}

/* The JSON text byte C at I (not white space): returns where the scan goes on. */
static size_t json_step(json_scan *j, size_t i, char c) {
  /* A value of a sensitive key: after its colon, or where a colon was left out. */
  int secret = j->key_hit && (j->state == J_VALUE || j->state == J_COLON);
  switch (c) {
  case '{':
  case '[':
    return json_open(j, i, c, secret);
  case '}':
  case ']':
    if (j->depth > 0)
      j->depth--;
    if (j->depth < 2)
      j->in_errors = 0;
    return json_value_done(j, i + 1);
  case ',':
    j->state = json_in_obj(j) ? J_KEY : J_VALUE;
    j->key_hit = 0;
    return i + 1;
  case ':':
    j->state = J_VALUE; /* key_hit stays: it is this value's key */
    return i + 1;
  case '"':
    return json_string(j, i, secret);
  default: {
    size_t end = json_value_end(j->e->src, j->e->len, i);
    if (secret)
      token_span(j->e, i, end, JSON_REDACTED);
    return json_value_done(j, end);
  }
  }
}

void json_redact(const redactor *rd, edits *e) {
  json_scan j = {.rd = rd, .e = e, .state = J_VALUE};
  size_t i = 0;
  while (i < e->len) {
    char c = e->src[i];
    if (ch_space((unsigned char)c))
      i++;
    else
      i = json_step(&j, i, c);
  }
}
