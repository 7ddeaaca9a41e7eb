/* redact_basic.c: Basic credentials (RFC 7617), base64 of "user:password". A password is
 * a low-entropy secret: anything computed from it (a hash, the last characters of the
 * base64) would confirm a guess offline, so the value keeps at most the decoded user
 * name and never gets a fingerprint. The decoder is shared with taint.c. */
#include "privacy/redact_int.h"
#include "base/utf8.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* Longest user name of Basic credentials that is shown. */
#define BASIC_USER_MAX 64

static const char b64_alphabet[64] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Decodes base64 P[0..N) (RFC 4648 alphabet; '=' padding optional, but only at the end)
 * into OUT, which holds at least N / 4 * 3 + 3 bytes. Returns 0 with *OUT_LEN set, or -1
 * when P is not base64. OpenSSL decodes; it takes '=' anywhere, hence the checks. */
static int b64_decode(const char *p, size_t n, unsigned char *out, size_t *out_len) {
  size_t data = n;
  while (data && n - data < 2 && p[data - 1] == '=')
    data--;
  if (data % 4 == 1 || (data < n && n % 4 != 0) || n > INT_MAX / 2)
    return -1;
  for (size_t i = 0; i < data; i++)
    if (!memchr(b64_alphabet, p[i], sizeof b64_alphabet))
      return -1;
  size_t whole = data - data % 4, o = whole / 4 * 3;
  if (whole && EVP_DecodeBlock(out, (const unsigned char *)p, (int)whole) != (int)o)
    return -1;
  if (data % 4) { /* the last 2 or 3 characters, padded for OpenSSL */
    unsigned char last[4] = {'=', '=', '=', '='}, three[3];
    memcpy(last, p + whole, data % 4);
    if (EVP_DecodeBlock(three, last, 4) != 3)
      return -1;
    memcpy(out + o, three, data % 4 - 1);
    o += data % 4 - 1;
    explicit_bzero(three, sizeof three);
  }
  *out_len = o;
  return 0;
}

int redact_basic_decode(const char *cred, size_t cn, unsigned char *dec, size_t *user_len,
                        size_t *dec_len) {
  size_t dn = 0;
  if (b64_decode(cred, cn, dec, &dn) != 0)
    return -1;
  const unsigned char *colon = memchr(dec, ':', dn);
  if (!colon)
    return -1;
  *user_len = (size_t)(colon - dec);
  *dec_len = dn;
  return 0;
}

/* U[0..N), the user name of Basic credentials, may be stored: not empty, at most
 * BASIC_USER_MAX bytes of printable UTF-8 without ':', and not itself a token (the
 * Bearer/JWT scan leaves it alone). */
static int basic_user_shown(const char *u, size_t n) {
  if (n == 0 || n > BASIC_USER_MAX || memchr(u, ':', n) ||
      !utf8_printable((const unsigned char *)u, n))
    return 0;
  edits e;
  out_init(&e, u, n);
  token_scan(&e, n);
  int clean = !e.buf && !e.nomem;
  free(e.buf);
  return clean;
}

/* SCHEME[0..SL) with credentials CRED[0..CN) becomes "<scheme> <user>:[REDACTED]", the
 * user name decoded ('[', ']' and ':' are not base64, so no decoder takes it for
 * credentials), or "<scheme> [REDACTED]" when there is no user name to show: the value
 * is not base64 of user:password, the user name is empty or not basic_user_shown, or the
 * password is empty (then the user name is the secret, as with "sk_live_...:" keys).
 * reqlog's own output stays as it is. */
char *basic_value(const char *scheme, size_t sl, const char *cred, size_t cn) {
  static const char tail[] = ":" REDACTED;
  const size_t tl = sizeof tail - 1;
  const char *user = NULL;
  size_t un = 0;
  unsigned char *dec = NULL;
  size_t dcap = cn / 4 * 3 + 3;
  if (cn > tl && memcmp(cred + cn - tl, tail, tl) == 0) {
    user = cred; /* already "<user>:[REDACTED]" */
    un = cn - tl;
  } else {
    dec = malloc(dcap);
    if (!dec)
      return NULL;
    size_t dn = 0;
    if (redact_basic_decode(cred, cn, dec, &un, &dn) == 0 && un + 1 < dn)
      user = (const char *)dec;
    else
      un = 0;
  }
  if (user && !basic_user_shown(user, un)) {
    user = NULL;
    un = 0;
  }
  size_t len = sl + 1 + un + 1 + sizeof REDACTED;
  char *out = malloc(len);
  if (out)
    snprintf(out, len, "%.*s %.*s%s" REDACTED, (int)sl, scheme, (int)un, user ? user : "",
             user ? ":" : "");
  if (dec) {
    explicit_bzero(dec, dcap);
    free(dec);
  }
  return out;
}
