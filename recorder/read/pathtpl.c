/* pathtpl.c: a URL path with its numeric and UUID segments replaced by {id}. */
#include "read/pathtpl.h"

#include <stdlib.h>
#include <string.h>

#define PATHTPL_ID "{id}"

static int all_digits(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return 0;
  return n > 0;
}

static int is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* 8-4-4-4-12 hex digits */
static int is_uuid(const char *s, size_t n) {
  if (n != 36)
    return 0;
  for (size_t i = 0; i < n; i++) {
    int dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_hex(s[i]))
      return 0;
  }
  return 1;
}

char *pathtpl_make(const char *path, size_t len) {
  /* an id segment of one digit grows to {id}: at most 4 bytes out per byte in */
  char *out = malloc(len * 4 + 1);
  if (!out)
    return NULL;
  size_t o = 0, i = 0;
  while (i < len) {
    if (path[i] == '/') {
      out[o++] = path[i++];
      continue;
    }
    size_t n = 0;
    while (i + n < len && path[i + n] != '/')
      n++;
    if (all_digits(path + i, n) || is_uuid(path + i, n)) {
      memcpy(out + o, PATHTPL_ID, strlen(PATHTPL_ID));
      o += strlen(PATHTPL_ID);
    } else {
      memcpy(out + o, path + i, n);
      o += n;
    }
    i += n;
  }
  out[o] = '\0';
  return out;
}
