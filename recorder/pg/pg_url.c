/* pg_url.c: libpq URIs as text, without libpq: telling one from a file path
 * (reqlog_is_store_url), finding its password (user:password@ or password=) and keeping
 * it out of what is shown: a copy of the URI fit for messages, and libpq's messages
 * (which may quote the URI) scrubbed of it. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pg/pg.h"
#include "base/textbuf.h"
#include "base/util.h"

#define HIDDEN "[REDACTED]"

int reqlog_is_store_url(const char *db) {
  return db && (strncasecmp(db, "postgresql://", 13) == 0 || strncasecmp(db, "postgres://", 11) == 0);
}

/* A span of the URL: where a password is written. */
typedef struct {
  size_t at, len;
} span;

/* The spans of URL's passwords: [0] the one of user:password@, [1] the value of a
 * password= parameter; len 0 when absent. As libpq reads a URI: the user information
 * ends at the first '@' before any '/', the parameters follow the first '?'. */
static void find_passwords(const char *url, span pw[2]) {
  memset(pw, 0, 2 * sizeof pw[0]);
  const char *p = strstr(url, "://");
  if (!p)
    return;
  p += 3;
  size_t auth = strcspn(p, "@/");
  if (p[auth] == '@') {
    const char *colon = memchr(p, ':', auth);
    if (colon) {
      pw[0].at = (size_t)(colon + 1 - url);
      pw[0].len = (size_t)(p + auth - colon - 1);
    }
  }
  const char *q = strchr(p + (p[auth] == '@' ? auth + 1 : 0), '?');
  while (q) {
    q++;
    size_t plen = strcspn(q, "&");
    if (plen > 9 && strncmp(q, "password=", 9) == 0) {
      pw[1].at = (size_t)(q + 9 - url);
      pw[1].len = plen - 9;
    }
    q = q[plen] ? q + plen : NULL;
  }
}

/* The text gathered in growing buffer B, malloc'd; NULL when out of memory. */
static char *take(textbuf *b) {
  if (b->nomem) {
    free(b->data);
    return NULL;
  }
  if (!b->data)
    return util_strdup("");
  tb_terminate(b);
  return b->data;
}

int pg_url_has_password(const char *url) {
  span pw[2];
  find_passwords(url, pw);
  return pw[0].len > 0 || pw[1].len > 0;
}

char *pg_url_shown(const char *url) {
  span pw[2];
  find_passwords(url, pw);
  textbuf b = {0};
  size_t from = 0;
  for (int i = 0; i < 2; i++) {
    if (!pw[i].len)
      continue;
    tb_bytes(&b, url + from, pw[i].at - from);
    tb_str(&b, HIDDEN);
    from = pw[i].at + pw[i].len;
  }
  tb_str(&b, url + from);
  return take(&b);
}

/* The percent-decoded copy of N bytes at S (malloc'd; NULL when out of memory). */
static char *decoded(const char *s, size_t n) {
  char *out = malloc(n + 1);
  size_t o = 0;
  if (!out)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%' && i + 2 < n && util_hex_value((unsigned char)s[i + 1]) >= 0 &&
        util_hex_value((unsigned char)s[i + 2]) >= 0) {
      out[o++] = (char)(util_hex_value((unsigned char)s[i + 1]) * 16 +
                        util_hex_value((unsigned char)s[i + 2]));
      i += 2;
    } else {
      out[o++] = s[i];
    }
  }
  out[o] = '\0';
  return out;
}

/* Replaces every occurrence of NEEDLE (not empty) in *MSG by HIDDEN; 0, or -1 when out
 * of memory. */
static int hide(char **msg, const char *needle) {
  if (!*needle || !strstr(*msg, needle))
    return 0;
  textbuf b = {0};
  const char *p = *msg, *hit;
  size_t nl = strlen(needle);
  while ((hit = strstr(p, needle))) {
    tb_bytes(&b, p, (size_t)(hit - p));
    tb_str(&b, HIDDEN);
    p = hit + nl;
  }
  tb_str(&b, p);
  char *s = take(&b);
  if (!s)
    return -1;
  free(*msg);
  *msg = s;
  return 0;
}

char *pg_url_scrub(const char *msg, const char *url) {
  char *out = util_strdup(msg ? msg : "");
  span pw[2];
  find_passwords(url ? url : "", pw);
  for (int i = 0; i < 2 && out; i++) {
    if (!pw[i].len)
      continue;
    char *raw = util_strndup(url + pw[i].at, pw[i].len);
    char *dec = raw ? decoded(raw, pw[i].len) : NULL;
    if (!raw || !dec || hide(&out, raw) < 0 || hide(&out, dec) < 0) {
      free(out);
      out = NULL;
    }
    if (raw)
      explicit_bzero(raw, pw[i].len);
    if (dec)
      explicit_bzero(dec, strlen(dec));
    free(raw);
    free(dec);
  }
  return out;
}

int reqlog_store_url_has_password(const char *url) {
  return url && pg_url_has_password(url);
}

char *reqlog_store_url_shown(const char *url) {
  return url ? pg_url_shown(url) : NULL;
}
