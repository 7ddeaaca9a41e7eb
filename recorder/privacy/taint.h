/* taint.h: secrets learnt from what redaction removed from a call, scrubbed from
 * everywhere else in the same row. An API that reflects a request (an echo endpoint, an
 * error quoting the bad value, a debug header) would otherwise put the key, a cookie or
 * a password back into the response under a name no list knows. */
#ifndef REQLOG_TAINT_H
#define REQLOG_TAINT_H

#include <stddef.h>
#include "reqlog.h"

typedef struct taint {
  char **tok;
  size_t *len;
  size_t n, cap;
  int oom;
} taint;

/* Learns the words of ORIG (ORIG_LEN bytes) that are absent from its redacted form RED:
 * the secret parts. Words are runs between spaces, quotes, brackets and = & ; : , ? #,
 * at least 4 bytes long. An ORIG that reads "Basic <base64>" (an Authorization or
 * Proxy-Authorization value) also teaches the decoded password, or the user name when the
 * password is empty. */
void taint_learn(taint *t, const char *orig, size_t orig_len, const char *red, size_t red_len);

/* Learns the values of a Cookie header ("a=1; b=2") or, SET_COOKIE non-zero, of a
 * Set-Cookie header (its first name=value only): names and attributes are not secret. */
void taint_learn_cookie(taint *t, const char *value, int set_cookie);

/* Adds one secret verbatim (an API key). */
void taint_add(taint *t, const char *secret, size_t len);

/* TEXT (LEN bytes) with every learnt secret replaced by [REDACTED]: *out is a malloc'd
 * copy of *out_len bytes (NUL-terminated), or NULL when nothing was found.
 * Returns REQLOG_OK or REQLOG_ERR_NOMEM. */
reqlog_err taint_scrub(const taint *t, const char *text, size_t len, char **out, size_t *out_len);

/* Scrubs the NUL-terminated *text in place of itself (frees and replaces it). */
reqlog_err taint_scrub_str(const taint *t, char **text);

void taint_free(taint *t);

#endif
