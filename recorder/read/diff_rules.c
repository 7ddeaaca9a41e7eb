/* diff_rules.c: which differences between two calls a diff ignores: the volatile ones by
 * default (the Date header and other date-times, request ids, created_at / updated_at,
 * values already redacted), the paths the caller names with --ignore, and never the
 * paths the caller keeps. Also the path pattern both lists use. */
#include "read/diff.h"

#include <ctype.h>
#include <string.h>

/* Headers whose value changes from one call to the next by design. */
static const char *const volatile_headers[] = {
  "date", "expires", "last-modified", "age", "etag", "x-request-id", "request-id",
  "x-amzn-requestid", "x-amzn-trace-id", "x-trace-id", "x-correlation-id", "traceparent",
  "tracestate", "cf-ray", "x-runtime", "server-timing", "x-ratelimit-remaining",
  "x-ratelimit-reset", "retry-after", "content-length", NULL,
};

/* JSON keys, folded (case, '_' and '-' ignored), whose values change by design. */
static const char *const volatile_keys[] = {
  "createdat", "updatedat", "modifiedat", "timestamp", "requestid", "traceid",
  "correlationid", NULL,
};

/* Non-zero when NAME folded is one of LIST's words. */
static int folded_in(const char *name, const char *const *list) {
  char f[64];
  size_t n = 0;
  for (const char *p = name; *p; p++) {
    if (*p == '_' || *p == '-')
      continue;
    if (n + 1 >= sizeof f)
      return 0;
    f[n++] = (char)tolower((unsigned char)*p);
  }
  f[n] = '\0';
  for (size_t i = 0; list[i]; i++)
    if (strcmp(f, list[i]) == 0)
      return 1;
  return 0;
}

/* ------------------------------------------------------------------ values */

/* Skips N digits at *P; 0 when they are not all there. */
static int digits(const char **p, int n) {
  for (int i = 0; i < n; i++, (*p)++)
    if (!isdigit((unsigned char)**p))
      return 0;
  return 1;
}

static int iso_datetime(const char *p) {
  if (!digits(&p, 4) || *p++ != '-' || !digits(&p, 2) || *p++ != '-' || !digits(&p, 2))
    return 0;
  if (*p != 'T' && *p != 't' && *p != ' ')
    return 0; /* a date without a time is data (a birthday), not a timestamp */
  p++;
  if (!digits(&p, 2) || *p++ != ':' || !digits(&p, 2))
    return 0;
  if (*p == ':') {
    p++;
    if (!digits(&p, 2))
      return 0;
    if (*p == '.' || *p == ',') {
      p++;
      if (!isdigit((unsigned char)*p))
        return 0;
      while (isdigit((unsigned char)*p))
        p++;
    }
  }
  if (*p == 'Z' || *p == 'z')
    return p[1] == '\0';
  if (*p == '+' || *p == '-') {
    p++;
    if (!digits(&p, 2))
      return 0;
    if (*p == ':')
      p++;
    return *p == '\0' || (digits(&p, 2) && *p == '\0');
  }
  return *p == '\0';
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110's IMF-fixdate). */
static int http_date(const char *p) {
  if (strlen(p) != 29 || p[3] != ',' || p[4] != ' ' || strcmp(p + 25, " GMT") != 0)
    return 0;
  const char *d = p + 5;
  if (!digits(&d, 2) || *d++ != ' ')
    return 0;
  d += 4; /* month and a blank */
  if (!digits(&d, 4) || *d++ != ' ' || !digits(&d, 2) || *d++ != ':' || !digits(&d, 2) ||
      *d++ != ':' || !digits(&d, 2))
    return 0;
  return 1;
}

int diff_is_datetime(const char *s) {
  return s && (iso_datetime(s) || http_date(s));
}

/* "…abcd#3f2a9c1e" or "#3f2a9c1e" at the end of S: a key fingerprint (design.md §4). */
static int ends_with_fingerprint(const char *s) {
  size_t n = strlen(s);
  if (n < 9 || s[n - 9] != '#')
    return 0;
  for (size_t i = n - 8; i < n; i++)
    if (!isxdigit((unsigned char)s[i]))
      return 0;
  return 1;
}

int diff_is_redacted(const char *s) {
  return s && (strstr(s, "[REDACTED]") != NULL || ends_with_fingerprint(s));
}

static const char *string_of(const cJSON *v) {
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ------------------------------------------------------------------ paths */

/* Matches PAT against PATH from their starts: 1 when PAT is used up where PATH ends or
 * a segment of PATH begins. */
static int match_here(const char *pat, const char *path) {
  while (*pat) {
    if (pat[0] == '[' && pat[1] == '*' && pat[2] == ']') {
      if (*path != '[')
        return 0;
      const char *close = strchr(path, ']');
      if (!close)
        return 0;
      path = close + 1;
      pat += 3;
    } else if (*pat == '*') {
      while (*path && *path != '.' && *path != '[')
        path++;
      pat++;
    } else {
      if (tolower((unsigned char)*pat) != tolower((unsigned char)*path))
        return 0;
      pat++;
      path++;
    }
  }
  return *path == '\0' || *path == '.' || *path == '[';
}

int diff_path_match(const char *pat, const char *path) {
  if (!pat || !*pat || !path)
    return 0;
  for (const char *p = path; *p; p++) {
    int boundary = p == path || p[-1] == '.' || *p == '[';
    if (boundary && match_here(pat, p))
      return 1;
  }
  return 0;
}

static int listed(const char *const *pats, const char *path) {
  for (size_t i = 0; pats && pats[i]; i++)
    if (diff_path_match(pats[i], path))
      return 1;
  return 0;
}

/* ------------------------------------------------------------------ the rules */

const char *diff_ignored(const diff_rules *rules, const char *path, int header,
                         const char *name, const cJSON *a, const cJSON *b) {
  if (rules && listed(rules->keep, path))
    return NULL;
  if (rules && listed(rules->ignore, path))
    return "ignored by request";
  const char *sa = string_of(a), *sb = string_of(b);
  if (diff_is_redacted(sa) || diff_is_redacted(sb))
    return "redacted";
  if (header) {
    for (size_t i = 0; volatile_headers[i]; i++)
      if (name && strcmp(name, volatile_headers[i]) == 0)
        return "volatile header";
    return NULL;
  }
  if (!a || !b)
    return NULL; /* a key that comes or goes is a change of shape */
  if (name && folded_in(name, volatile_keys))
    return "volatile value";
  if (diff_is_datetime(sa) && diff_is_datetime(sb))
    return "date and time";
  return NULL;
}
