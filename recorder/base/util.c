/* util.c: clock, string and error-cause helpers shared inside the library. */
#include "base/util.h"
#include "base/utf8.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

int64_t util_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t util_mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct timespec util_deadline(clockid_t clock, int64_t wait_us) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  int64_t ns = ts.tv_nsec + (wait_us % 1000000) * 1000;
  ts.tv_sec += (time_t)(wait_us / 1000000 + ns / 1000000000);
  ts.tv_nsec = (long)(ns % 1000000000);
  return ts;
}

reqlog_err util_fail(char **cause, reqlog_err err, const char *fmt, ...) {
  if (cause) {
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(cause, fmt, ap) < 0)
      *cause = NULL;
    va_end(ap);
  }
  return err;
}

char *util_strdup(const char *s) {
  return s ? strdup(s) : NULL;
}

char *util_strndup(const char *s, size_t len) {
  char *p = malloc(len + 1);
  if (!p)
    return NULL;
  if (len)
    memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

int util_is_tchar(int c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         (c > 0 && c < 0x80 && strchr("!#$%&'*+-.^_`|~", c));
}

int util_is_token(const char *s) {
  if (!s || !*s)
    return 0;
  for (; *s; s++)
    if (!util_is_tchar((unsigned char)*s))
      return 0;
  return 1;
}

int util_is_method(const char *s) {
  return util_is_token(s) && strlen(s) <= UTIL_METHOD_MAX;
}

size_t util_url_scheme_len(const char *s) {
  if (!s || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
    return 0;
  size_t n = 1;
  while ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z') ||
         (s[n] >= '0' && s[n] <= '9') || s[n] == '+' || s[n] == '-' || s[n] == '.')
    n++;
  return s[n] == ':' ? n : 0;
}

int util_scheme_is_http(const char *scheme, size_t n) {
  return (n == 4 && strncasecmp(scheme, "http", 4) == 0) ||
         (n == 5 && strncasecmp(scheme, "https", 5) == 0);
}

int util_http_origin(const char *url, char *origin, size_t origin_len, char scheme[16]) {
  scheme[0] = '\0';
  CURLU *u = curl_url();
  char *sch = NULL, *host = NULL, *port = NULL;
  int rc = -1;
  /* CURLU_NON_SUPPORT_SCHEME: a scheme libcurl does not know is still read, so that it
   * is named rather than called malformed */
  if (u && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_SCHEME, &sch, 0) == CURLUE_OK) {
    snprintf(scheme, 16, "%s", sch);
    for (char *p = scheme; *p; p++)
      *p = (char)tolower((unsigned char)*p);
    if (!util_scheme_is_http(sch, strlen(sch))) {
      rc = -2;
    } else if (curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
               curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
      int n = snprintf(origin, origin_len, "%s://%s:%s", scheme, host, port);
      if (n > 0 && (size_t)n < origin_len) {
        for (char *p = origin; *p; p++)
          *p = (char)tolower((unsigned char)*p);
        rc = 0;
      }
    }
  }
  curl_free(sch);
  curl_free(host);
  curl_free(port);
  curl_url_cleanup(u);
  return rc;
}

int util_hex_value(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

uint64_t util_fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    h = (h ^ b[i]) * UINT64_C(1099511628211);
  return h;
}

char *util_form_decode(const char *p, size_t n, size_t *len) {
  char *d = malloc(n + 1);
  if (!d)
    return NULL;
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] == '%' && i + 2 < n) {
      int hi = util_hex_value((unsigned char)p[i + 1]);
      int lo = util_hex_value((unsigned char)p[i + 2]);
      if (hi >= 0 && lo >= 0 && (hi || lo)) { /* %00 stays as written: no NUL */
        d[o++] = (char)(hi << 4 | lo);
        i += 2;
        continue;
      }
    }
    d[o++] = p[i] == '+' ? ' ' : p[i];
  }
  d[o] = '\0';
  if (len)
    *len = o;
  return d;
}

void util_hex_encode(const unsigned char *p, size_t n, char *out) {
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = hex[p[i] >> 4];
    out[2 * i + 1] = hex[p[i] & 15];
  }
  out[2 * n] = '\0';
}

void util_format_time(int64_t us, char out[32]) {
  time_t secs = (time_t)(us / 1000000);
  long frac = (long)(us % 1000000);
  if (frac < 0) {
    frac += 1000000;
    secs -= 1;
  }
  struct tm tm;
  gmtime_r(&secs, &tm);
  char tmp[96];
  int n = snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  if (n < 0 || n > 31)
    n = 0; /* a year past 9999 cannot happen for a recorded call */
  memcpy(out, tmp, (size_t)n);
  out[n] = '\0';
}

int util_header_value(const char *block, const char *name, char *out, size_t outlen) {
  out[0] = '\0';
  size_t nl = strlen(name);
  for (const char *p = block; p && *p;) {
    if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
      const char *v = p + nl + 1;
      while (*v == ' ' || *v == '\t')
        v++;
      size_t n = strcspn(v, "\r\n");
      if (n >= outlen)
        n = outlen - 1;
      memcpy(out, v, n);
      out[n] = '\0';
      return 1;
    }
    p = strchr(p, '\n');
    if (p)
      p++;
  }
  return 0;
}

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_fetched; /* kept for the life of the process */

static void sha256_fetch(void) {
  sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

const EVP_MD *util_sha256_md(void) {
  pthread_once(&sha256_once, sha256_fetch);
  return sha256_fetched ? sha256_fetched : EVP_sha256();
}

int util_sha256(const void *p, size_t n, unsigned char out[32]) {
  unsigned int len = 0;
  if (EVP_Digest(p, n, out, &len, util_sha256_md(), NULL) != 1 || len != 32)
    return -1;
  return 0;
}

int util_is_origin(const char *s) {
  if (!s)
    return 0;
  size_t n = strlen(s);
  if (n == 0 || n > UTIL_ORIGIN_MAX || s[0] == ' ' || s[n - 1] == ' ')
    return 0;
  return utf8_scan((const unsigned char *)s, n, UTF8_STRICT | UTF8_NO_CONTROL) == n;
}

void util_host_origin(char *out, size_t outlen) {
  char host[UTIL_ORIGIN_MAX + 2] = "";
  if (gethostname(host, sizeof host - 1) != 0 || !util_is_origin(host))
    snprintf(host, sizeof host, "localhost");
  snprintf(out, outlen, "%s", host);
}
