/* reqid.c: the API's request id of a call, picked from its stored response headers by a
 * list of header names (reqid.h). Taken from the redacted headers, so a header that
 * redaction hides never becomes a request id in the clear. */
#include "base/reqid.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cjson/cJSON.h>

#include "base/util.h"

enum { NAMES_MAX = 16 };

int reqid_list_parse(const char *list, char out[REQID_LIST_MAX + 1]) {
  char buf[REQID_LIST_MAX + 1];
  size_t len = 0;
  int names = 0;
  if (!list || strlen(list) > REQID_LIST_MAX)
    return -1;
  const char *p = list;
  for (;;) {
    while (*p == ' ' || *p == '\t')
      p++;
    const char *start = p;
    while (*p && *p != ',' && *p != ' ' && *p != '\t')
      p++;
    size_t n = (size_t)(p - start);
    while (*p == ' ' || *p == '\t')
      p++;
    if (n == 0 || (*p && *p != ',') || ++names > NAMES_MAX)
      return -1;
    if (len)
      buf[len++] = ',';
    for (size_t i = 0; i < n; i++) {
      if (!util_is_tchar((unsigned char)start[i]))
        return -1;
      buf[len++] = (char)tolower((unsigned char)start[i]);
    }
    if (!*p)
      break;
    p++; /* the comma */
  }
  buf[len] = '\0';
  memcpy(out, buf, len + 1);
  return 0;
}

/* Non-zero when V can be shown as a request id. */
static int usable(const char *v) {
  size_t n = strlen(v);
  if (n == 0 || n > REQID_VALUE_MAX || strstr(v, "[REDACTED]"))
    return 0;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
      return 0;
  return 1;
}

/* The writer's header JSON is compact, [["Name","value"],...], so a header is the text
 * ["Name"," followed by its value up to the next quote: read that way first (the writer
 * calls this for every row). A value with an escape, or text of another shape, is left
 * to the JSON parser: *unsure is then set. */
static char *scan(const char *list, const char *json, int *unsure) {
  *unsure = 0;
  const char *p = list;
  while (*p) {
    size_t n = strcspn(p, ",");
    char pat[REQID_LIST_MAX + 8];
    memcpy(pat, "[\"", 2);
    memcpy(pat + 2, p, n);
    memcpy(pat + 2 + n, "\",\"", 4);
    const char *at = json;
    while ((at = strcasestr(at, pat)) != NULL) {
      const char *v = at + n + 5, *end = strchr(v, '"');
      if (!end || end[1] != ']' || memchr(v, '\\', (size_t)(end - v))) {
        *unsure = 1;
        return NULL;
      }
      char *value = util_strndup(v, (size_t)(end - v));
      if (!value || usable(value))
        return value;
      free(value);
      at = end;
    }
    p += n + (p[n] == ',');
  }
  return NULL;
}

char *reqid_pick(const char *list, const char *headers_json) {
  if (!list || !*list || !headers_json)
    return NULL;
  int unsure = 0;
  char *fast = scan(list, headers_json, &unsure);
  if (fast || !unsure)
    return fast;
  cJSON *headers = cJSON_Parse(headers_json);
  char *found = NULL;
  const char *p = list;
  while (*p && !found && cJSON_IsArray(headers)) {
    size_t n = strcspn(p, ",");
    const cJSON *h;
    cJSON_ArrayForEach(h, headers) {
      const char *name = cJSON_GetStringValue(cJSON_GetArrayItem(h, 0));
      const char *value = cJSON_GetStringValue(cJSON_GetArrayItem(h, 1));
      if (name && value && strlen(name) == n && strncasecmp(name, p, n) == 0 &&
          usable(value)) {
        found = util_strdup(value);
        break;
      }
    }
    p += n + (p[n] == ',');
  }
  cJSON_Delete(headers);
  return found;
}
