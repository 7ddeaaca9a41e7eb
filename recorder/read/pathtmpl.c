/* pathtmpl.c: a URL path as its endpoint's template (pathtmpl.h). */
#include "read/pathtmpl.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int all_digits(const char *s, size_t n) {
  if (n == 0)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!isdigit((unsigned char)s[i]))
      return 0;
  return 1;
}

/* 8-4-4-4-12 hex digits. */
static int is_uuid(const char *s, size_t n) {
  if (n != 36)
    return 0;
  for (size_t i = 0; i < n; i++) {
    int dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
      return 0;
  }
  return 1;
}

/* Appends N bytes of S to OUT[*len] within CAP (keeping room for the NUL). */
static void put(char *out, size_t cap, size_t *len, const char *s, size_t n) {
  if (*len + 1 >= cap)
    return;
  if (n > cap - 1 - *len)
    n = cap - 1 - *len;
  memcpy(out + *len, s, n);
  *len += n;
}

size_t path_template(const char *path, char *out, size_t cap) {
  size_t len = 0;
  if (!cap)
    return 0;
  out[0] = '\0';
  if (!path)
    return 0;
  size_t end = strcspn(path, "?#");
  size_t i = 0;
  while (i < end) {
    if (path[i] == '/') {
      put(out, cap, &len, "/", 1);
      i++;
      continue;
    }
    size_t n = strcspn(path + i, "/?#");
    if (n > end - i)
      n = end - i;
    if (all_digits(path + i, n) || is_uuid(path + i, n))
      put(out, cap, &len, PATHTMPL_ID, sizeof PATHTMPL_ID - 1);
    else
      put(out, cap, &len, path + i, n);
    i += n;
  }
  out[len] = '\0';
  return len;
}

char *path_template_dup(const char *path) {
  size_t n = path ? strlen(path) : 0;
  /* a segment of one digit grows to {id}: at most 4 bytes out per byte in */
  char *out = malloc(n * 4 + 1);
  if (out)
    path_template(path, out, n * 4 + 1);
  return out;
}
