/* mock_body.c: whether a request body matches a recorded one: the same bytes, the same
 * JSON value (members in any order), or the same form parameters; a recorded
 * [REDACTED] matches any value, a body cut at the cap anything that starts with it. */
#include "read/mock.h"

#include <stdlib.h>
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

static int by_member_name(const void *a, const void *b) {
  const cJSON *x = *(cJSON *const *)a, *y = *(cJSON *const *)b;
  return strcmp(x->string, y->string);
}

/* Sorts the members of every object in V by name. Returns 0, or -1 out of memory. */
static int sort_members(cJSON *v) {
  if (!cJSON_IsArray(v) && !cJSON_IsObject(v))
    return 0;
  size_t n = 0;
  for (cJSON *c = v->child; c; c = c->next, n++)
    if (sort_members(c) != 0)
      return -1;
  if (!cJSON_IsObject(v) || n < 2)
    return 0;
  cJSON **all = malloc(n * sizeof *all);
  if (!all)
    return -1;
  n = 0;
  for (cJSON *c = v->child; c; c = c->next)
    all[n++] = c;
  qsort(all, n, sizeof *all, by_member_name);
  for (size_t i = 0; i < n; i++) {
    all[i]->prev = i ? all[i - 1] : all[n - 1]; /* cJSON: the first's prev is the last */
    all[i]->next = i + 1 < n ? all[i + 1] : NULL;
  }
  v->child = all[0];
  free(all);
  return 0;
}

reqlog_err mock_body_init(mock_body *b, const unsigned char *p, size_t len, int truncated) {
  memset(b, 0, sizeof *b);
  b->p = p;
  b->len = p ? len : 0;
  b->truncated = truncated;
  if (!b->len || truncated)
    return REQLOG_OK;
  cJSON *v = parse_whole(p, len);
  if (!v)
    return REQLOG_OK; /* not JSON (or no memory to tell: compared as bytes) */
  reqlog_err err = REQLOG_OK;
  if (sort_members(v) != 0 || !(b->canon = cJSON_PrintUnformatted(v)))
    err = REQLOG_ERR_NOMEM;
  else
    b->wild = strstr(b->canon, "\"" MOCK_REDACTED "\"") != NULL;
  cJSON_Delete(v);
  return err;
}

void mock_body_free(mock_body *b) {
  free(b->canon);
  b->canon = NULL;
}

/* The canonical texts of REC and GIVEN as the same JSON value, REC's [REDACTED]
 * matching anything. */
static int same_canon(const mock_body *rec, const mock_body *given) {
  if (!rec->wild)
    return strcmp(rec->canon, given->canon) == 0;
  cJSON *r = cJSON_Parse(rec->canon), *g = cJSON_Parse(given->canon);
  int same = r && g && same_json(r, g);
  cJSON_Delete(r);
  cJSON_Delete(g);
  return same;
}

int mock_body_match(const mock_body *rec, const mock_body *given) {
  if (rec->truncated) /* what was kept of it is the start of the body sent */
    return given->len >= rec->len && (rec->len == 0 || memcmp(rec->p, given->p, rec->len) == 0);
  if (rec->len == given->len && (rec->len == 0 || memcmp(rec->p, given->p, rec->len) == 0))
    return 1;
  if (!rec->len || !given->len)
    return 0;
  if (rec->canon || given->canon)
    return rec->canon && given->canon && same_canon(rec, given);
  return formish(rec->p, rec->len) && formish(given->p, given->len) &&
         same_form(rec->p, rec->len, given->p, given->len);
}
