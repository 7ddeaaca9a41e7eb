/* testcheck.c: values as reqlog writes them (ISO times, key fingerprints, base64, JSON
 * members) and the checks that fail the running cmocka test with a message saying what
 * went wrong (see testutil.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "testutil.h"

const char *tu_str(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

int tu_is_null(const cJSON *o, const char *k) {
  return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, k));
}

int tu_is_true(const cJSON *o, const char *k) {
  return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k));
}

const char *tu_header(const cJSON *row, const char *which, const char *name) {
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(row, which), *it;
  cJSON_ArrayForEach(it, arr) {
    const cJSON *n = cJSON_GetArrayItem(it, 0), *v = cJSON_GetArrayItem(it, 1);
    if (cJSON_IsString(n) && strcasecmp(n->valuestring, name) == 0 && cJSON_IsString(v))
      return v->valuestring;
  }
  return NULL;
}

void tu_iso_us(int64_t us, char out[40]) {
  time_t t = (time_t)(us / 1000000);
  struct tm tm;
  gmtime_r(&t, &tm);
  char secs[24];
  strftime(secs, sizeof secs, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, 40, "%.20s.%06dZ", secs, (int)(us % 1000000));
}

void tu_fingerprint(const char *key, char out[64]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  assert_int_equal(EVP_Digest(key, strlen(key), md, &n, EVP_sha256(), NULL), 1);
  snprintf(out, 64, "\xe2\x80\xa6%s#%02x%02x%02x%02x", key + strlen(key) - 4, md[0], md[1],
           md[2], md[3]);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *tu_base64(const unsigned char *s, size_t len) {
  char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;
  assert_non_null(out);
  for (size_t i = 0; i < len; i += 3) {
    uint32_t v = (uint32_t)s[i] << 16;
    if (i + 1 < len)
      v |= (uint32_t)s[i + 1] << 8;
    if (i + 2 < len)
      v |= s[i + 2];
    *o++ = b64[(v >> 18) & 63];
    *o++ = b64[(v >> 12) & 63];
    *o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
    *o++ = i + 2 < len ? b64[v & 63] : '=';
  }
  *o = '\0';
  return out;
}

void tu_expect_exit(int rc, int want, const char *what, const char *err) {
  if (rc != want)
    fprintf(stderr, "%s: exit %d, expected %d; stderr:\n%s\n", what, rc, want,
            err ? err : "");
  assert_int_equal(rc, want);
}

void tu_expect_has(const char *hay, const char *needle, const char *what) {
  if (!strstr(hay, needle))
    fprintf(stderr, "%s: '%s' not found in:\n%s\n", what, needle, hay);
  assert_non_null(strstr(hay, needle));
}

const char *tu_label_of(const char *const *args, char *out, size_t size) {
  size_t len = 0;
  out[0] = '\0';
  for (size_t k = 0; args[k] && len + 1 < size; k++) {
    int w = snprintf(out + len, size - len, "%s%s", k ? " " : "", args[k]);
    if (w < 0)
      break;
    len += (size_t)w < size - len ? (size_t)w : size - len - 1;
  }
  return out;
}

int64_t tu_jint(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  assert_true(cJSON_IsNumber(v));
  return (int64_t)v->valuedouble;
}

double tu_num(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  if (!cJSON_IsNumber(v))
    fail_msg("'%s' is not a number", k);
  return v->valuedouble;
}
