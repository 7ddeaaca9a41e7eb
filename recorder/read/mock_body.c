/* mock_body.c: whether a request body matches a recorded one: the same bytes, the same
 * JSON value (members in any order), or the same form parameters; a recorded
 * [REDACTED] matches any value, a body cut at the cap anything that starts with it. */
#include "read/mock.h"

#include <string.h>

/* Non-zero when the JSON value GIVEN matches the recorded value REC. */
static int same_json(const cJSON *rec, const cJSON *given) {
  if (cJSON_IsString(rec) && strcmp(rec->valuestring, MOCK_REDACTED) == 0)
    return 1;
  if ((rec->type & 0xff) != (given->type & 0xff))
    return 0;
  if (cJSON_IsNumber(rec))
    return rec->valuedouble == given->valuedouble;
  if (cJSON_IsString(rec))
    return strcmp(rec->valuestring, given->valuestring) == 0;
  if (cJSON_IsArray(rec) || cJSON_IsObject(rec)) {
    if (cJSON_GetArraySize(rec) != cJSON_GetArraySize(given))
      return 0;
    const cJSON *g = given->child;
    for (const cJSON *r = rec->child; r; r = r->next, g = g ? g->next : NULL) {
      const cJSON *other = cJSON_IsArray(rec) ? g
                                             : cJSON_GetObjectItemCaseSensitive(given, r->string);
      if (!other || !same_json(r, other))
        return 0;
    }
    return 1;
  }
  return 1; /* null, true, false: the type said it */
}

/* Non-zero when the N bytes at S look like a form body: "a=1&b=2", no blank or line. */
static int formish(const unsigned char *s, size_t n) {
  if (!n || !memchr(s, '=', n))
    return 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] <= ' ' || s[i] == 0x7f || s[i] == '{' || s[i] == '"')
      return 0;
  return 1;
}

static int same_form(const unsigned char *rec, size_t rec_len, const unsigned char *given,
                     size_t given_len) {
  mock_params a, b;
  if (mock_params_parse((const char *)rec, rec_len, &a) != REQLOG_OK)
    return 0;
  if (mock_params_parse((const char *)given, given_len, &b) != REQLOG_OK) {
    mock_params_free(&a);
    return 0;
  }
  int same = mock_params_match(&a, &b);
  mock_params_free(&a);
  mock_params_free(&b);
  return same;
}

/* The N bytes at S as one JSON value with nothing but blanks after it, or NULL. */
static cJSON *parse_whole(const unsigned char *s, size_t n) {
  const char *end = NULL;
  cJSON *v = cJSON_ParseWithLengthOpts((const char *)s, n, &end, 0);
  if (!v)
    return NULL;
  while (end && end < (const char *)s + n && strchr(" \t\r\n", *end) && *end)
    end++;
  if (end != (const char *)s + n) {
    cJSON_Delete(v);
    return NULL;
  }
  return v;
}

int mock_body_match(const unsigned char *rec, size_t rec_len, int truncated,
                    const unsigned char *given, size_t given_len) {
  if (!rec)
    rec_len = 0;
  if (!given)
    given_len = 0;
  if (truncated) /* what was kept of it is the start of the body sent */
    return given_len >= rec_len && (rec_len == 0 || memcmp(rec, given, rec_len) == 0);
  if (rec_len == given_len && (rec_len == 0 || memcmp(rec, given, rec_len) == 0))
    return 1;
  if (!rec_len || !given_len)
    return 0;
  cJSON *r = parse_whole(rec, rec_len);
  if (r) {
    cJSON *g = parse_whole(given, given_len);
    int same = g && same_json(r, g);
    cJSON_Delete(r);
    cJSON_Delete(g);
    return same;
  }
  return formish(rec, rec_len) && formish(given, given_len) &&
         same_form(rec, rec_len, given, given_len);
}
