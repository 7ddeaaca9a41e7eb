/* test_redact.c: redaction of headers, URLs, bodies and free text (recorder/privacy/redact_*.c) and
 * the key fingerprint (recorder/privacy/keyfp.c), against docs/design.md §4.
 *
 * Plan:
 *   fingerprint_format       "…" + last four + "#" + 8 hex of SHA-256 (computed here with
 *                            EVP), short keys without tail, UTF-8 tails, NULL key
 *   authorization            Bearer / bearer / Token / custom / bare values, key_fp
 *                            copied for Authorization and untouched for other headers
 *   basic_credentials        Basic (Authorization, Proxy-Authorization): the user name and
 *                            [REDACTED], never a fingerprint; odd values; idempotent
 *   folded_names             accessToken / access-token / ACCESS-TOKEN ... in JSON, query,
 *                            form, multipart and header names; added names fold too
 *   default_headers          every default header name and name part, in mixed case; other
 *                            headers unchanged; empty values stay empty
 *   header_values_scanned    Bearer tokens / JWTs inside other header values, URL headers
 *   default_query_params     every default query parameter, case-insensitively, in first,
 *                            middle and last position; look-alike names untouched
 *   url_shapes               userinfo, fragments, encoded and bracketed names, empty
 *                            values, bytes kept, URLs without query
 *   added_names              redactor_add / _add_list: JSON keys, parameters, headers
 *   json_default_keys        every default JSON key, each value type, formatting kept
 *   json_nesting             nested objects, arrays of objects, NDJSON, 600-deep input
 *   json_escaped_keys        \u escapes in keys, surrogates, escaped quotes
 *   json_names_as_values     "password" as a value or array element stays
 *   json_tricky_strings      braces, quotes and backslashes inside strings, bad JSON
 *   json_errors_shape        the API's {"errors":{"password":[...]}} keeps its messages
 *   json_truncated           every prefix of a sample: no secret byte survives; the
 *                            whole sample's output parses with cJSON
 *   json_differential        random valid JSON: the output parses and equals a reference
 *                            redaction done on cJSON's tree
 *   json_fuzz                random mutations and garbage: never crashes or overreads
 *   form_bodies              x-www-form-urlencoded, JSON sent as a form, multipart
 *   text_bearer_jwt          Bearer and JWTs in free text; prose left readable
 *   binary_bodies            NUL-containing bodies get the Bearer/JWT scan
 *   nothing_changed          clean bodies give NULL; redacting twice changes nothing
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "privacy/redact.h"

#define ELLIPSIS "\xE2\x80\xA6"

/* ------------------------------------------------------------------ helpers */

static redactor *new_rd(void) {
  redactor *rd = NULL;
  assert_int_equal(redactor_new(&rd), REQLOG_OK);
  assert_non_null(rd);
  return rd;
}

/* The redacted body as a NUL-terminated string, or NULL when redact_body left it. */
static char *body(const redactor *rd, const char *ct, const char *data, size_t len) {
  char *out = (char *)0x1;
  size_t out_len = 12345;
  assert_int_equal(redact_body(rd, ct, data, len, &out, &out_len), REQLOG_OK);
  if (!out) {
    assert_int_equal(out_len, 0);
    return NULL;
  }
  char *s = malloc(out_len + 1);
  assert_non_null(s);
  memcpy(s, out, out_len);
  s[out_len] = '\0';
  free(out);
  return s;
}

/* WANT NULL: the body must come back unchanged (*out NULL). */
static void expect_body(const redactor *rd, const char *ct, const char *in,
                        const char *want) {
  char *got = body(rd, ct, in, strlen(in));
  if (want == NULL && got != NULL)
    print_error("body %s\n  changed to %s\n", in, got);
  if (want != NULL && (got == NULL || strcmp(got, want) != 0))
    print_error("body %s\n  got  %s\n  want %s\n", in, got ? got : "(unchanged)", want);
  if (want == NULL) {
    assert_null(got);
  } else {
    assert_non_null(got);
    assert_string_equal(got, want);
  }
  free(got);
}

static void expect_url(const redactor *rd, const char *in, const char *want) {
  char *got = redact_url(rd, in);
  assert_non_null(got);
  if (strcmp(got, want) != 0)
    print_error("url %s\n  got  %s\n  want %s\n", in, got, want);
  assert_string_equal(got, want);
  free(got);
}

static void expect_header(const redactor *rd, const char *name, const char *value,
                          const char *want) {
  char fp[48] = "untouched";
  char *got = redact_header(rd, name, value, fp);
  assert_non_null(got);
  if (strcmp(got, want) != 0)
    print_error("header %s: %s\n  got  %s\n  want %s\n", name, value, got, want);
  assert_string_equal(got, want);
  assert_string_equal(fp, "untouched");
  free(got);
}

static void expect_text(const redactor *rd, const char *in, const char *want) {
  char *got = redact_text(rd, in);
  assert_non_null(got);
  if (strcmp(got, want) != 0)
    print_error("text %s\n  got  %s\n  want %s\n", in, got, want);
  assert_string_equal(got, want);
  free(got);
}

/* The fingerprint computed independently of keyfp.c. */
static void expected_fp(const char *key, int with_tail, char out[48]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  assert_int_equal(EVP_Digest(key, strlen(key), md, &n, EVP_sha256(), NULL), 1);
  assert_int_equal(n, 32);
  size_t len = strlen(key);
  snprintf(out, 48, ELLIPSIS "%s#%02x%02x%02x%02x", with_tail ? key + len - 4 : "", md[0],
           md[1], md[2], md[3]);
}

static const char *const default_keys[] = {
  "password", "password_confirmation", "current_password", "new_password", "secret",
  "client_secret", "token", "access_token", "refresh_token", "id_token", "api_key",
  "authorization", "private_key", "session_id",
};

static const char *const default_params[] = {
  "access_token", "id_token", "refresh_token", "token", "code", "client_secret",
  "api_key", "apikey", "key", "password", "secret", "signature", "sig",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void upper(char *s) {
  for (; *s; s++)
    if (*s >= 'a' && *s <= 'z')
      *s = (char)(*s - 32);
}

/* ------------------------------------------------------------------ fingerprint */

static void fingerprint_format(void **state) {
  (void)state;
  char fp[48], want[48];

  const char *key = "sk_live_0123456789abcd";
  reqlog_key_fingerprint(key, fp);
  expected_fp(key, 1, want);
  assert_string_equal(fp, want);
  assert_memory_equal(fp, ELLIPSIS "abcd#", 8);
  assert_int_equal(strlen(fp), 3 + 4 + 1 + 8);

  /* SHA-256("abc") = ba7816bf...: a short key shows no tail */
  reqlog_key_fingerprint("abc", fp);
  assert_string_equal(fp, ELLIPSIS "#ba7816bf");

  /* 11 characters: no tail; 12: tail */
  reqlog_key_fingerprint("0123456789a", fp);
  expected_fp("0123456789a", 0, want);
  assert_string_equal(fp, want);
  reqlog_key_fingerprint("0123456789ab", fp);
  expected_fp("0123456789ab", 1, want);
  assert_string_equal(fp, want);
  assert_memory_equal(fp, ELLIPSIS "89ab#", 8);

  /* characters, not bytes: 12 characters of which some are two bytes, tail of four
   * characters "éééé" (8 bytes) */
  const char *utf = "abcdefgh\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9";
  reqlog_key_fingerprint(utf, fp);
  assert_memory_equal(fp, ELLIPSIS "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9#", 3 + 8 + 1);
  /* 6 two-byte characters are 12 bytes but 6 characters: no tail */
  reqlog_key_fingerprint("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", fp);
  assert_memory_equal(fp, ELLIPSIS "#", 4);
  /* a tail with a control character or broken UTF-8 is left out */
  reqlog_key_fingerprint("0123456789ab\x01", fp);
  assert_memory_equal(fp, ELLIPSIS "#", 4);
  reqlog_key_fingerprint("0123456789abcdef\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80", fp);
  assert_memory_equal(fp, ELLIPSIS "#", 4);

  /* NULL is the empty key: SHA-256("") = e3b0c442... */
  reqlog_key_fingerprint(NULL, fp);
  assert_string_equal(fp, ELLIPSIS "#e3b0c442");
  print_message("fingerprint: '…'+last four+'#'+8 hex of SHA-256 (checked against EVP and "
                "the 'abc' and '' vectors); keys under 12 characters and odd tails show no "
                "tail; UTF-8 tails count characters\n");
}

static void authorization(void **state) {
  (void)state;
  redactor *rd = new_rd();
  char fp[48], want[64], wantfp[48];
  const char *key = "astalty_live_9f8e7d6c5b4aWXYZ";
  expected_fp(key, 1, wantfp);

  char value[128];
  snprintf(value, sizeof value, "Bearer %s", key);
  memset(fp, 0, sizeof fp);
  char *got = redact_header(rd, "Authorization", value, fp);
  snprintf(want, sizeof want, "Bearer %s", wantfp);
  assert_string_equal(got, want);
  assert_memory_equal(got, "Bearer " ELLIPSIS "WXYZ#", 7 + 3 + 5);
  assert_string_equal(fp, wantfp);
  assert_null(strstr(got, "9f8e7d"));
  free(got);

  /* name and scheme in any case, extra spaces; KEY_FP may be NULL */
  snprintf(value, sizeof value, "  bearer   %s  ", key);
  got = redact_header(rd, "AUTHORIZATION", value, NULL);
  snprintf(want, sizeof want, "bearer %s", wantfp);
  assert_string_equal(got, want);
  free(got);

  /* Basic ("user:hunter2hunter2"): the user name, no fingerprint (basic_credentials) */
  const char *basic = "dXNlcjpodW50ZXIyaHVudGVyMg==";
  snprintf(value, sizeof value, "Basic %s", basic);
  strcpy(fp, "untouched");
  got = redact_header(rd, "authorization", value, fp);
  assert_string_equal(got, "Basic user:" REDACTED);
  assert_string_equal(fp, "untouched");
  free(got);

  /* Token and a custom scheme with digits and dashes */
  got = redact_header(rd, "Authorization", "Token abc", fp);
  assert_string_equal(got, "Token " ELLIPSIS "#ba7816bf");
  assert_string_equal(fp, ELLIPSIS "#ba7816bf");
  free(got);
  got = redact_header(rd, "Authorization", "AWS4-HMAC-SHA256 abc", fp);
  assert_string_equal(got, "AWS4-HMAC-SHA256 " ELLIPSIS "#ba7816bf");
  free(got);

  /* no scheme: the whole value */
  expected_fp(key, 1, wantfp);
  got = redact_header(rd, "Authorization", key, fp);
  assert_string_equal(got, wantfp);
  assert_string_equal(fp, wantfp);
  free(got);
  /* a first word that cannot be a scheme is not shown */
  got = redact_header(rd, "Authorization", "sk_live_123 456", fp);
  assert_null(strstr(got, "sk_live"));
  assert_memory_equal(got, ELLIPSIS, 3);
  free(got);

  /* a scheme without credentials (an unset key): kept, no fingerprint */
  strcpy(fp, "untouched");
  got = redact_header(rd, "Authorization", "Bearer ", fp);
  assert_string_equal(got, "Bearer");
  assert_string_equal(fp, "untouched");
  free(got);
  got = redact_header(rd, "Authorization", "", fp);
  assert_string_equal(got, "");
  assert_string_equal(fp, "untouched");
  free(got);

  /* other headers leave KEY_FP alone */
  strcpy(fp, "untouched");
  snprintf(value, sizeof value, "Bearer %s", key);
  got = redact_header(rd, "Proxy-Authorization", value, fp);
  assert_string_equal(got, REDACTED);
  assert_string_equal(fp, "untouched");
  free(got);
  got = redact_header(rd, "Accept", "application/json", fp);
  assert_string_equal(got, "application/json");
  assert_string_equal(fp, "untouched");
  free(got);
  redactor_free(rd);
  print_message("Authorization: Bearer/bearer/Token/AWS4 -> '<scheme> <fingerprint>', "
                "bare value -> fingerprint, key_fp copied; an empty key stays 'Bearer' "
                "without fingerprint; key_fp untouched for Proxy-Authorization and Accept\n");
}

/* Basic credentials are base64 of user:password, and a password has little entropy: a
 * stored fingerprint (4 characters of the base64 and 32 bits of an unsalted SHA-256)
 * would confirm a guessed password offline. Only the user name is kept, never anything
 * computed from the password; the key column gets nothing (expect_header checks that
 * KEY_FP is left alone). */
static void basic_credentials(void **state) {
  (void)state;
  redactor *rd = new_rd();
  const char *names[] = {"Authorization", "Proxy-Authorization", "proxy-authorization"};
  for (size_t i = 0; i < COUNT(names); i++) {
    const char *n = names[i];
    /* alice:hunter2 */
    expect_header(rd, n, "Basic YWxpY2U6aHVudGVyMg==", "Basic alice:" REDACTED);
    expect_header(rd, n, "  basic   YWxpY2U6aHVudGVyMg==  ", "basic alice:" REDACTED);
    expect_header(rd, n, "BASIC YWxpY2U6aHVudGVyMg", "BASIC alice:" REDACTED); /* no padding */
    /* "ann smith:pa:ss" - the first colon ends the user name */
    expect_header(rd, n, "Basic YW5uIHNtaXRoOnBhOnNz", "Basic ann smith:" REDACTED);
    /* UTF-8 user name "josé:pw" */
    expect_header(rd, n, "Basic am9zw6k6cHc=", "Basic jos\xC3\xA9:" REDACTED);
    /* the user name is the credential (Stripe style "sk_live_abc123:"): nothing shown */
    expect_header(rd, n, "Basic c2tfbGl2ZV9hYmMxMjM6", "Basic " REDACTED);
    /* ":hunter2" (no user), "alicehunter2" (no colon) */
    expect_header(rd, n, "Basic Omh1bnRlcjI=", "Basic " REDACTED);
    expect_header(rd, n, "Basic YWxpY2VodW50ZXIy", "Basic " REDACTED);
    /* not base64, or base64 of bytes that are not a printable user name */
    expect_header(rd, n, "Basic not*base64!", "Basic " REDACTED);
    expect_header(rd, n, "Basic YW=xp", "Basic " REDACTED);
    expect_header(rd, n, "Basic AWxpY2U6aHVudGVyMg==", "Basic " REDACTED); /* \x01lice */
    expect_header(rd, n, "Basic /2xpY2U6aHVudGVyMg==", "Basic " REDACTED); /* \xFFlice */
    /* a user name that is itself a JWT: "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.:pw" */
    expect_header(rd, n, "Basic ZXlKaGJHY2lPaUp1YjI1bEluMC5leUp6ZFdJaU9pSXhJbjAuOnB3",
                 "Basic " REDACTED);
    /* a user name over 64 bytes is not shown: 65 'a' then ":pw" */
    char user[128] = "Basic ";
    for (int k = 0; k < 21; k++)
      strcat(user, "YWFh"); /* "aaa" x 21 = 63 */
    strcat(user, "YWE6cHc="); /* "aa:pw" -> 65 a's */
    expect_header(rd, n, user, "Basic " REDACTED);
    /* reqlog's own output read back (a HAR export imported again): unchanged */
    expect_header(rd, n, "Basic alice:" REDACTED, "Basic alice:" REDACTED);
    expect_header(rd, n, "Basic " REDACTED, "Basic " REDACTED);
    /* an old export's fingerprint of Basic credentials is dropped too */
    expect_header(rd, n, "Basic " ELLIPSIS "Mg==#1a2b3c4d", "Basic " REDACTED);
    /* no credentials at all */
    expect_header(rd, n, "Basic", "Basic");
  }
  /* nothing is derived from the password: not its SHA-256, not the base64's */
  char fp[48];
  reqlog_key_fingerprint("YWxpY2U6aHVudGVyMg==", fp);
  char *got = redact_header(rd, "Authorization", "Basic YWxpY2U6aHVudGVyMg==", NULL);
  assert_null(strstr(got, fp + 3 + 4 + 1)); /* the 8 hex digits */
  assert_null(strstr(got, "Mg=="));
  free(got);
  /* bearer-style credentials keep their fingerprint */
  char key_fp[48] = "";
  got = redact_header(rd, "Authorization", "Bearer sk_test_0123456789abcdef", key_fp);
  assert_memory_equal(got, "Bearer " ELLIPSIS "cdef#", 7 + 3 + 5);
  assert_memory_equal(key_fp, ELLIPSIS "cdef#", 3 + 5);
  free(got);
  redactor_free(rd);
  print_message("Basic (Authorization and Proxy-Authorization): 'Basic <user>:[REDACTED]', "
                "or 'Basic [REDACTED]' when the user name is empty, the credential itself, "
                "unprintable, too long, a token, or the value is not base64 of user:pass; "
                "never a fingerprint, key_fp untouched; idempotent\n");
}

/* Names compare with case, '_' and '-' folded: accessToken = access_token =
 * access-token = ACCESS-TOKEN = AccessToken, in every list and for added names. */
static const char *const folded_spellings[] = {
  "accessToken", "AccessToken", "access-token", "ACCESS-TOKEN", "Access_Token",
  "refreshToken", "refresh-token", "clientSecret", "CLIENT-SECRET", "apiKey", "ApiKey",
  "api-key", "API-KEY", "idToken", "sessionId", "SESSION-ID", "privateKey",
  "passwordConfirmation", "new-password", "currentPassword",
};

/* Spellings that are in the JSON key list only, not the parameter list. */
static int json_only(const char *name) {
  static const char *const j[] = {"sessionId", "SESSION-ID", "privateKey",
                                  "passwordConfirmation", "new-password", "currentPassword"};
  for (size_t i = 0; i < COUNT(j); i++)
    if (strcmp(j[i], name) == 0)
      return 1;
  return 0;
}

static void folded_names(void **state) {
  (void)state;
  redactor *rd = new_rd();
  char in[512], want[512];
  for (size_t i = 0; i < COUNT(folded_spellings); i++) {
    const char *n = folded_spellings[i];
    /* JSON keys, at the top and nested */
    snprintf(in, sizeof in, "{\"id\":1,\"%s\":\"CANARY\",\"d\":{\"%s\":[1]}}", n, n);
    snprintf(want, sizeof want, "{\"id\":1,\"%s\":\"" REDACTED "\",\"d\":{\"%s\":\"" REDACTED
             "\"}}", n, n);
    expect_body(rd, "application/json", in, want);
    if (json_only(n))
      continue;
    /* query string */
    snprintf(in, sizeof in, "https://h/p?page=2&%s=CANARY&x=1", n);
    snprintf(want, sizeof want, "https://h/p?page=2&%s=" REDACTED "&x=1", n);
    expect_url(rd, in, want);
    /* form body, plain and bracketed */
    snprintf(in, sizeof in, "a=1&%s=CANARY&user[%s]=CANARY", n, n);
    snprintf(want, sizeof want, "a=1&%s=" REDACTED "&user[%s]=" REDACTED, n, n);
    expect_body(rd, "application/x-www-form-urlencoded", in, want);
    /* multipart field names */
    snprintf(in, sizeof in,
             "--B\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\nCANARY\r\n--B--\r\n", n);
    snprintf(want, sizeof want,
             "--B\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n" REDACTED
             "\r\n--B--\r\n", n);
    expect_body(rd, "multipart/form-data; boundary=B", in, want);
  }
  /* escaped JSON keys fold too: "access\u005ftoken" is access_token */
  expect_body(rd, NULL, "{\"access\\u005Ftoken\":\"CANARY\",\"Api\\u002dKey\":\"CANARY\"}",
              "{\"access\\u005Ftoken\":\"" REDACTED "\",\"Api\\u002dKey\":\"" REDACTED "\"}");
  /* percent-encoded parameter names: api%2Dkey, client%5FSecret */
  expect_url(rd, "https://h/p?api%2Dkey=CANARY&client%5FSecret=CANARY",
             "https://h/p?api%2Dkey=" REDACTED "&client%5FSecret=" REDACTED);
  /* headers */
  const char *hdrs[] = {"X-Api-Key", "x_api_key", "X_API_KEY", "XApiKey", "x-api_key",
                        "Set_Cookie", "Proxy_Authorization", "X-Pass-Word"};
  for (size_t i = 0; i < COUNT(hdrs); i++)
    expect_header(rd, hdrs[i], "CANARY", REDACTED);
  /* look-alikes stay: folding removes only case, '_' and '-' */
  expect_body(rd, NULL, "{\"accessTokenType\":\"x\",\"access.token\":\"y\",\"tokens\":1,"
                        "\"api key\":2,\"keys\":3}", NULL);
  expect_url(rd, "https://h/p?accessTokens=1&keyring=2&client.secret=3",
             "https://h/p?accessTokens=1&keyring=2&client.secret=3");
  expect_header(rd, "X-Request-Id", "5f1c", "5f1c");
  expect_header(rd, "Content_Type", "text/plain", "text/plain");

  /* added names fold the same way, whichever spelling was added */
  assert_int_equal(redactor_add_list(rd, "date_of_birth, medicareNumber,X-Tenant-Id,--"),
                   REQLOG_OK);
  const char *dob[] = {"dateOfBirth", "DATE-OF-BIRTH", "date_of_birth", "DateOfBirth"};
  for (size_t i = 0; i < COUNT(dob); i++) {
    snprintf(in, sizeof in, "{\"%s\":\"1815-12-10\",\"medicare_number\":42}", dob[i]);
    snprintf(want, sizeof want, "{\"%s\":\"" REDACTED "\",\"medicare_number\":\"" REDACTED
             "\"}", dob[i]);
    expect_body(rd, NULL, in, want);
    snprintf(in, sizeof in, "https://h/p?%s=1815&MEDICARE-NUMBER=42", dob[i]);
    snprintf(want, sizeof want, "https://h/p?%s=" REDACTED "&MEDICARE-NUMBER=" REDACTED,
             dob[i]);
    expect_url(rd, in, want);
    expect_header(rd, dob[i], "1815", REDACTED);
  }
  expect_header(rd, "x_tenant_id", "acme", REDACTED);
  expect_header(rd, "XTenantId", "acme", REDACTED);
  expect_header(rd, "X-Tenant", "acme", "acme"); /* still whole names only */
  /* "--" folds to nothing and is ignored: it must not match every empty name */
  expect_body(rd, NULL, "{\"\":\"v\",\"-\":\"w\"}", NULL);
  redactor_free(rd);
  print_message("folded names: %zu spellings (camelCase, PascalCase, kebab, upper) of default "
                "names in JSON keys (also \\u-escaped), query strings (also %%-encoded), form "
                "bodies, bracketed form names, multipart names and headers -> [REDACTED]; "
                "added names in any spelling match every other spelling; look-alikes stay\n",
                COUNT(folded_spellings));
}

/* ------------------------------------------------------------------ headers */

static void default_headers(void **state) {
  (void)state;
  redactor *rd = new_rd();
  const char *secret_names[] = {
    "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key",
    /* names containing auth/token/secret/session/password/signature */
    "X-Auth-User", "WWW-Authenticate", "X-Csrf-Token", "X-Amz-Security-Token",
    "X-Client-Secret", "X-Session-Id", "Session", "X-Password-Hint", "X-Hub-Signature-256",
  };
  char name[64];
  for (size_t i = 0; i < COUNT(secret_names); i++) {
    expect_header(rd, secret_names[i], "s3cr3t value", REDACTED);
    snprintf(name, sizeof name, "%s", secret_names[i]);
    upper(name);
    expect_header(rd, name, "s3cr3t", REDACTED);
    for (char *c = name; *c; c++)
      if (*c >= 'A' && *c <= 'Z')
        *c = (char)(*c + 32);
    expect_header(rd, name, "s3cr3t", REDACTED);
  }
  expect_header(rd, "sEt-CoOkIe", "sid=abc; HttpOnly", REDACTED);
  expect_header(rd, "Cookie", "", "");
  expect_header(rd, "Cookie", "   ", "");

  const char *plain[][2] = {
    {"Content-Type", "application/json; charset=utf-8"}, {"Accept", "application/json"},
    {"X-Request-Id", "5f1c"}, {"Idempotency-Key", "order-42"}, {"Retry-After", "30"},
    {"X-RateLimit-Remaining", "59"}, {"Keep-Alive", "timeout=5"},
  };
  for (size_t i = 0; i < COUNT(plain); i++)
    expect_header(rd, plain[i][0], plain[i][1], plain[i][1]);
  redactor_free(rd);
  print_message("headers: the 4 default names and 9 names containing "
                "auth/token/secret/session/password/signature, as written, upper and lower "
                "case -> [REDACTED]; 7 ordinary headers unchanged; empty stays empty\n");
}

static void header_values_scanned(void **state) {
  (void)state;
  redactor *rd = new_rd();
  expect_header(rd, "X-Debug", "forwarded Bearer abc123.def", "forwarded Bearer " REDACTED);
  expect_header(rd, "X-Forwarded-For", "10.0.0.1", "10.0.0.1");
  expect_header(rd, "X-Id",
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2ln", REDACTED);
  expect_header(rd, "Location", "https://app.example/cb?code=Q1w2E3&state=xyz",
                "https://app.example/cb?code=" REDACTED "&state=xyz");
  expect_header(rd, "location", "/cb#access_token=abc&token_type=bearer",
                "/cb#access_token=" REDACTED "&token_type=bearer");
  expect_header(rd, "Referer", "https://u:pw@h/x?page=2", "https://u:" REDACTED "@h/x?page=2");
  /* other headers do not get the URL rule: only the Bearer/JWT scan */
  expect_header(rd, "Link", "<https://h/p?page=2>; rel=next", "<https://h/p?page=2>; rel=next");
  redactor_free(rd);
  print_message("header values: Bearer tokens and JWTs replaced in ordinary headers; "
                "Location/Referer get the URL rule (code=, #access_token=, user:pass@)\n");
}

/* ------------------------------------------------------------------ URLs */

static void default_query_params(void **state) {
  (void)state;
  redactor *rd = new_rd();
  char in[256], want[256], name[64];
  for (size_t i = 0; i < COUNT(default_params); i++) {
    const char *n = default_params[i];
    snprintf(in, sizeof in, "https://api.example/v1/x?%s=s3cr3t&page=2", n);
    snprintf(want, sizeof want, "https://api.example/v1/x?%s=" REDACTED "&page=2", n);
    expect_url(rd, in, want);
    snprintf(in, sizeof in, "https://h/x?page=2&%s=s3cr3t", n);
    snprintf(want, sizeof want, "https://h/x?page=2&%s=" REDACTED, n);
    expect_url(rd, in, want);
    snprintf(name, sizeof name, "%s", n);
    upper(name);
    snprintf(in, sizeof in, "https://h/x?a=1&%s=s3cr3t&b=2", name);
    snprintf(want, sizeof want, "https://h/x?a=1&%s=" REDACTED "&b=2", name);
    expect_url(rd, in, want);
  }
  /* look-alikes stay */
  const char *keep[] = {
    "https://h/x?keys=1&tokens=2&password_hint=3&codes=4&sigma=5&page=6",
    "https://h/token/key/password?q=secret",   /* names in the path, a value */
    "https://h/x?q=token%3Dabc",               /* "token=abc" as an encoded value */
  };
  for (size_t i = 0; i < COUNT(keep); i++)
    expect_url(rd, keep[i], keep[i]);
  expect_url(rd, "https://h/x?key=abc&x=1", "https://h/x?key=" REDACTED "&x=1");
  redactor_free(rd);
  print_message("query: all 13 default parameter names, first/last/middle, as written and "
                "upper case -> [REDACTED]; look-alike names and path segments kept\n");
}

static void url_shapes(void **state) {
  (void)state;
  redactor *rd = new_rd();
  expect_url(rd, "https://user:hunter2@api.example:8443/v1?page=1",
             "https://user:" REDACTED "@api.example:8443/v1?page=1");
  expect_url(rd, "ftp://u:p%40ss@h/", "ftp://u:" REDACTED "@h/");
  expect_url(rd, "https://a:b@c:d@h/", "https://a:" REDACTED "@h/"); /* last '@' */
  expect_url(rd, "//user:pw@h/p", "//user:" REDACTED "@h/p");
  expect_url(rd, "https://user@h/p", "https://user@h/p");      /* no password */
  expect_url(rd, "https://user:@h/p", "https://user:@h/p");    /* empty password */
  expect_url(rd, "https://h/p?next=a@b:c", "https://h/p?next=a@b:c"); /* '@' in the query */
  /* fragments: kept, except sensitive parameters in them */
  expect_url(rd, "https://h/p?token=abc#section-2", "https://h/p?token=" REDACTED "#section-2");
  expect_url(rd, "https://h/p#x?token=1", "https://h/p#x?token=" REDACTED);
  expect_url(rd, "https://h/p#token=1&a=2", "https://h/p#token=" REDACTED "&a=2");
  expect_url(rd, "https://h/p#/reset?token=Zz9&lang=en", "https://h/p#/reset?token=" REDACTED "&lang=en");
  expect_url(rd, "https://h/p?a=1#token", "https://h/p?a=1#token");
  /* encoded names, form-style names, empty and missing values */
  expect_url(rd, "https://h/p?%61pi_key=x&b=1", "https://h/p?%61pi_key=" REDACTED "&b=1");
  expect_url(rd, "https://h/p?API%5FKEY=x", "https://h/p?API%5FKEY=" REDACTED);
  expect_url(rd, "https://h/p?client%5fsecret=x", "https://h/p?client%5fsecret=" REDACTED);
  expect_url(rd, "https://h/p?user%5Bpassword%5D=x&password[]=y",
             "https://h/p?user%5Bpassword%5D=" REDACTED "&password[]=" REDACTED);
  expect_url(rd, "https://h/p?token=&key&x=1", "https://h/p?token=&key&x=1");
  expect_url(rd, "https://h/p?token==x=", "https://h/p?token=" REDACTED);
  expect_url(rd, "https://h/p?&&token=1&&", "https://h/p?&&token=" REDACTED "&&");
  /* every other byte unchanged, including odd encodings */
  const char *odd = "https://h/%7Euser/a%20b?q=caf%C3%A9&x=%ZZ&y=+1#frag";
  expect_url(rd, odd, odd);
  expect_url(rd, "", "");
  expect_url(rd, "not a url at all", "not a url at all");
  expect_url(rd, "https://h/p?access_token=a&b=eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
             "https://h/p?access_token=" REDACTED "&b=" REDACTED);
  expect_url(rd, "https://h/p?auth=Bearer%20abc%2Fdef%3D%3D&z=1",
             "https://h/p?auth=Bearer%20" REDACTED "&z=1");
  char *u = redact_url(rd, NULL);
  assert_string_equal(u, "");
  free(u);
  redactor_free(rd);
  print_message("URLs: user:pass@ (last @, // form), fragments kept with their sensitive "
                "parameters redacted, percent-encoded and bracketed names, empty values, "
                "odd bytes unchanged, JWT and Bearer%%20 in values\n");
}

/* ------------------------------------------------------------------ added names */

static void added_names(void **state) {
  (void)state;
  redactor *rd = new_rd();
  assert_int_equal(redactor_add(rd, "  date_of_birth "), REQLOG_OK);
  assert_int_equal(redactor_add_list(rd, " X-Tenant , ,SSN,,medicare_number"), REQLOG_OK);
  assert_int_equal(redactor_add(rd, "ssn"), REQLOG_OK); /* a repeat */
  assert_int_equal(redactor_add(rd, ""), REQLOG_OK);
  assert_int_equal(redactor_add_list(rd, NULL), REQLOG_OK);
  assert_int_equal(redactor_add(rd, NULL), REQLOG_ERR_ARG);
  assert_int_equal(redactor_add(NULL, "x"), REQLOG_ERR_ARG);
  char longname[300];
  memset(longname, 'a', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  assert_int_equal(redactor_add(rd, longname), REQLOG_ERR_ARG);

  expect_body(rd, "application/json",
              "{\"name\":\"Ada\",\"Date_Of_Birth\":\"1815-12-10\",\"ssn\":123456789,"
              "\"x\":{\"MEDICARE_NUMBER\":[1,2]}}",
              "{\"name\":\"Ada\",\"Date_Of_Birth\":\"" REDACTED "\",\"ssn\":\"" REDACTED
              "\",\"x\":{\"MEDICARE_NUMBER\":\"" REDACTED "\"}}");
  expect_url(rd, "https://h/p?DATE_OF_BIRTH=1815&ssn=1&x-tenant=acme",
             "https://h/p?DATE_OF_BIRTH=" REDACTED "&ssn=" REDACTED "&x-tenant=" REDACTED);
  expect_body(rd, "application/x-www-form-urlencoded", "date_of_birth=1815-12-10&n=1",
              "date_of_birth=" REDACTED "&n=1");
  expect_header(rd, "x-tenant", "acme", REDACTED);
  expect_header(rd, "X-Tenant-Id", "acme", "acme"); /* headers: exact names only */
  expect_header(rd, "Date_of_Birth", "1815", REDACTED);
  /* an added name that is a default header part or parameter elsewhere */
  assert_int_equal(redactor_add(rd, "code"), REQLOG_OK);
  expect_body(rd, NULL, "{\"code\":\"4242\"}", "{\"code\":\"" REDACTED "\"}");
  /* without additions those stay */
  redactor *plain = new_rd();
  expect_body(plain, NULL, "{\"date_of_birth\":\"1815\",\"code\":\"4242\"}", NULL);
  redactor_free(plain);
  redactor_free(rd);
  redactor_free(NULL);
  print_message("added names (trimmed, listed, repeated, empty, too long, NULL) apply to JSON "
                "keys, query/form parameters and exact header names, case-insensitively\n");
}

/* ------------------------------------------------------------------ JSON */

static void json_default_keys(void **state) {
  (void)state;
  redactor *rd = new_rd();
  char in[512], want[512], key[64];
  for (size_t i = 0; i < COUNT(default_keys); i++) {
    const char *k = default_keys[i];
    snprintf(in, sizeof in, "{\"id\":7,\"%s\":\"s3cr3t\",\"keep\":\"yes\"}", k);
    snprintf(want, sizeof want, "{\"id\":7,\"%s\":\"" REDACTED "\",\"keep\":\"yes\"}", k);
    expect_body(rd, "application/json", in, want);
    snprintf(key, sizeof key, "%s", k);
    upper(key);
    snprintf(in, sizeof in, "{\"a\": {\"b\": [{\"%s\" : 12.5e-3 }]}}", key);
    snprintf(want, sizeof want, "{\"a\": {\"b\": [{\"%s\" : \"" REDACTED "\" }]}}", key);
    expect_body(rd, "application/vnd.api+json; charset=utf-8", in, want);
  }
  /* every value type, with the formatting of everything else kept byte for byte */
  expect_body(rd, "application/json",
              "{\n  \"n\": 1.50e+3,\n  \"token\": true,\n  \"secret\": false,\n"
              "  \"password\": null,\n  \"api_key\": -0.0,\n  \"private_key\": {\"d\": "
              "\"x\", \"e\": [1, {\"f\": 2}]},\n  \"session_id\": [\"a\", [\"b\"]],\n"
              "  \"id_token\": \"\",\n  \"tail\" :\t[ 1 , 2 ]\n}\n",
              "{\n  \"n\": 1.50e+3,\n  \"token\": \"" REDACTED "\",\n  \"secret\": \"" REDACTED
              "\",\n  \"password\": \"" REDACTED "\",\n  \"api_key\": \"" REDACTED
              "\",\n  \"private_key\": \"" REDACTED "\",\n  \"session_id\": \"" REDACTED
              "\",\n  \"id_token\": \"" REDACTED "\",\n  \"tail\" :\t[ 1 , 2 ]\n}\n");
  /* look-alike keys stay */
  expect_body(rd, "application/json",
              "{\"passwords_match\":true,\"token_type\":\"bearer\",\"keys\":[1],"
              "\"secret_santa\":1,\"session\":2,\"key\":\"k\",\"code\":3}",
              NULL);
  redactor_free(rd);
  print_message("JSON: all 14 default keys (as written and upper case, top level and nested "
                "in arrays) -> \"[REDACTED]\" for string, number, true, false, null, object, "
                "array and empty values; other bytes and look-alike keys unchanged\n");
}

static void json_nesting(void **state) {
  (void)state;
  redactor *rd = new_rd();
  expect_body(rd, NULL,
              "[{\"user\":{\"profile\":{\"settings\":{\"password\":\"a\"}}}},"
              "{\"token\":\"b\"},[[{\"x\":[{\"refresh_token\":\"c\"}]}]]]",
              "[{\"user\":{\"profile\":{\"settings\":{\"password\":\"" REDACTED "\"}}}},"
              "{\"token\":\"" REDACTED "\"},[[{\"x\":[{\"refresh_token\":\"" REDACTED
              "\"}]}]]]");
  /* after a nested value closes, keys are recognised again at the outer level */
  expect_body(rd, NULL, "{\"a\":{\"b\":[1,{\"c\":2}]},\"token\":\"x\",\"d\":[],\"secret\":{}}",
              "{\"a\":{\"b\":[1,{\"c\":2}]},\"token\":\"" REDACTED "\",\"d\":[],\"secret\":\""
              REDACTED "\"}");
  /* NDJSON: one object per line */
  expect_body(rd, "application/x-ndjson", "{\"token\":\"a\"}\n{\"token\":\"b\"}\n",
              "{\"token\":\"" REDACTED "\"}\n{\"token\":\"" REDACTED "\"}\n");
  /* a secret 300 levels down */
  size_t depth = 300;
  size_t cap = depth * 8 + 64;
  char *in = malloc(cap), *want = malloc(cap);
  assert_non_null(in);
  assert_non_null(want);
  size_t n = 0, w = 0;
  for (size_t i = 0; i < depth; i++) {
    memcpy(in + n, "{\"a\":", 5);
    n += 5;
  }
  n += (size_t)sprintf(in + n, "{\"password\":\"deep\"}");
  memcpy(want, in, n);
  w = (size_t)sprintf(want + depth * 5, "{\"password\":\"" REDACTED "\"}") + depth * 5;
  for (size_t i = 0; i < depth; i++)
    in[n++] = '}', want[w++] = '}';
  in[n] = want[w] = '\0';
  expect_body(rd, NULL, in, want);
  cJSON *j = cJSON_Parse(want);
  assert_non_null(j);
  cJSON_Delete(j);
  free(in);
  free(want);

  /* 600 levels: the container beyond level 512 is redacted whole; the text stays JSON */
  depth = 600;
  in = malloc(depth * 2 + 1);
  assert_non_null(in);
  for (size_t i = 0; i < depth; i++)
    in[i] = '[', in[depth * 2 - 1 - i] = ']';
  in[depth * 2] = '\0';
  char *got = body(rd, NULL, in, depth * 2);
  assert_non_null(got);
  assert_int_equal(strncmp(got, in, 512), 0);
  assert_int_equal(strncmp(got + 512, "\"" REDACTED "\"", 12), 0);
  assert_int_equal(strspn(got + 524, "]"), 512);
  assert_int_equal(strlen(got), 512 + 12 + 512);
  j = cJSON_Parse(got);
  assert_non_null(j);
  cJSON_Delete(j);
  free(got);
  free(in);
  /* a million levels, truncated: no recursion, no crash */
  depth = 1000000;
  in = malloc(depth);
  assert_non_null(in);
  memset(in, '[', depth);
  got = body(rd, NULL, in, depth);
  assert_non_null(got);
  free(got);
  free(in);
  redactor_free(rd);
  print_message("JSON nesting: objects in arrays in objects, keys after nested values, "
                "NDJSON, a secret 300 levels deep; past 512 levels the rest is redacted "
                "whole (600 and 1,000,000 levels)\n");
}

static void json_escaped_keys(void **state) {
  (void)state;
  redactor *rd = new_rd();
  expect_body(rd, NULL, "{\"pass\\u0077ord\":\"x\"}", "{\"pass\\u0077ord\":\"" REDACTED "\"}");
  expect_body(rd, NULL, "{\"\\u0074\\u006F\\u006b\\u0065\\u006E\":1}",
              "{\"\\u0074\\u006F\\u006b\\u0065\\u006E\":\"" REDACTED "\"}");
  expect_body(rd, NULL, "{\"\\u0050ASSWORD\":1}", "{\"\\u0050ASSWORD\":\"" REDACTED "\"}");
  expect_body(rd, NULL, "{\"api\\u005fkey\":1,\"client\\/secret\":2}",
              "{\"api\\u005fkey\":\"" REDACTED "\",\"client\\/secret\":2}");
  /* escapes that make a different name */
  expect_body(rd, NULL,
              "{\"password\\n\":1,\"pass\\\"word\":2,\"\\ud83d\\ude00password\":3,"
              "\"pass\\u00\":4,\"token\\u0000\":5}",
              NULL);
  /* an escaped quote does not end a key */
  expect_body(rd, NULL, "{\"a\\\"\":{\"token\":1}}", "{\"a\\\"\":{\"token\":\"" REDACTED "\"}}");
  /* added non-ASCII name, written raw or escaped */
  assert_int_equal(redactor_add(rd, "contrase\xC3\xB1" "a"), REQLOG_OK);
  expect_body(rd, NULL, "{\"contrase\\u00f1a\":\"x\",\"Contrase\xC3\xB1" "a\":\"y\"}",
              "{\"contrase\\u00f1a\":\"" REDACTED "\",\"Contrase\xC3\xB1" "a\":\"" REDACTED "\"}");
  redactor_free(rd);
  print_message("JSON keys with \\u escapes (lower/upper hex, case-insensitive result), \\/, "
                "escapes that change the name, escaped quotes, non-ASCII names\n");
}

static void json_names_as_values(void **state) {
  (void)state;
  redactor *rd = new_rd();
  const char *keep[] = {
    "{\"field\":\"password\"}",
    "[\"token\",\"password\",\"secret\"]",
    "{\"fields\":[\"password\",\"api_key\"],\"type\":\"token\"}",
    "{\"a\":\"password\",\"b\":{\"c\":[\"token\"]}}",
    "\"password\"",
    "{\"msg\":\"the password is hunter2\"}",
  };
  for (size_t i = 0; i < COUNT(keep); i++)
    expect_body(rd, "application/json", keep[i], NULL);
  expect_body(rd, NULL, "{\"field\":\"password\",\"password\":\"password\"}",
              "{\"field\":\"password\",\"password\":\"" REDACTED "\"}");
  redactor_free(rd);
  print_message("JSON: key names used as values or array elements (\"field\":\"password\", "
                "[\"token\"]) are kept; only values of those keys go\n");
}

static void json_tricky_strings(void **state) {
  (void)state;
  redactor *rd = new_rd();
  expect_body(rd, NULL,
              "{\"a\":\"}{\\\"password\\\":\\\"x\\\"\",\"password\":\"p\\\"w}{\\\\\",\"b\":\"[\"}",
              "{\"a\":\"}{\\\"password\\\":\\\"x\\\"\",\"password\":\"" REDACTED "\",\"b\":\"[\"}");
  expect_body(rd, NULL, "{\"token\":{\"s\":\"}]\\\"{\",\"t\":[\"]\"]},\"k\":1}",
              "{\"token\":\"" REDACTED "\",\"k\":1}");
  /* malformed, handled without reading past the end */
  expect_body(rd, NULL, "{\"x\":1 \"password\":\"s\"}",
              "{\"x\":1 \"password\":\"" REDACTED "\"}"); /* missing comma */
  expect_body(rd, NULL, "{\"password\" \"s\"}", "{\"password\" \"" REDACTED "\"}");
  expect_body(rd, NULL, "{\"token\":abc def}", "{\"token\":\"" REDACTED "\" def}");
  expect_body(rd, "application/json", "}}]]{\"token\":1", "}}]]{\"token\":\"" REDACTED "\"");
  expect_body(rd, NULL, "{\"a\":\"b\":\"c\",\"token\":[}", "{\"a\":\"b\":\"c\",\"token\":\""
              REDACTED "\"");
  expect_body(rd, NULL, "{\"token\"", NULL);
  expect_body(rd, NULL, "{\"token\":", NULL);
  expect_body(rd, NULL, "{\"tok", NULL);
  expect_body(rd, NULL, "{\"a\":\"\\", NULL);
  expect_body(rd, NULL, "[", NULL);
  expect_body(rd, NULL, "{", NULL);
  redactor_free(rd);
  print_message("JSON strings with braces, brackets, quotes and backslashes; missing commas "
                "and colons, junk tokens, stray closers, endings inside keys and escapes\n");
}

static void json_errors_shape(void **state) {
  (void)state;
  redactor *rd = new_rd();
  const char *err = "{\"message\": \"The given data was invalid.\", \"errors\": "
                    "{\"email\": [\"The email field is required.\"], \"password\": "
                    "[\"The password must be at least 8 characters.\"]}}";
  expect_body(rd, "application/json", err, NULL);
  /* only an array of messages in the top-level errors object is kept */
  expect_body(rd, NULL, "{\"errors\":{\"password\":\"hunter2\"},\"x\":{\"errors\":"
              "{\"password\":[\"p\"]}}}",
              "{\"errors\":{\"password\":\"" REDACTED "\"},\"x\":{\"errors\":"
              "{\"password\":\"" REDACTED "\"}}}");
  expect_body(rd, NULL, "{\"errors\":{\"token\":[{\"token\":\"t\"}]}}",
              "{\"errors\":{\"token\":[{\"token\":\"" REDACTED "\"}]}}");
  expect_body(rd, NULL, "{\"errors\":{\"password\":[\"x\"]},\"password\":[\"y\"]}",
              "{\"errors\":{\"password\":[\"x\"]},\"password\":\"" REDACTED "\"}");
  redactor_free(rd);
  print_message("the API's 422 shape {\"errors\":{\"password\":[messages]}} keeps its "
                "messages; other values there, nested \"errors\" and top-level keys are "
                "still redacted\n");
}

/* A sample with secrets of every kind. Every secret string holds a 'Z' (and nothing
 * else does); the bare secret values are checked by the key that precedes them. */
static const char sample[] =
  "{\n"
  "  \"id\": 42,\n"
  "  \"user\": {\"name\": \"Ada {\\\"x\\\"}\", \"password\": \"Zp\\\"w}{\\\\Z\","
  " \"tags\": [\"password\", \"token\"]},\n"
  "  \"token\": 987654321,\n"
  "  \"session_id\": {\"Zs\": [1, 2, {\"k\": \"Zv\"}]},\n"
  "  \"items\": [{\"access_token\": \"Za1\"}, {\"api_key\": true}, {\"refresh_token\": null}],\n"
  "  \"note\": \"sent Bearer Zb0123456789 to the API\",\n"
  "  \"jwt\": \"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36"
  "POk6yJV_adQssw5c\",\n"
  "  \"pass\\u0077ord\": \"Ze\",\n"
  "  \"escaped\": \"a\\\\\\\"b\",\n"
  "  \"ratio\": 1.50e+3\n"
  "}\n";

static const char *const sample_leaks[] = {
  "Z", "\"token\": 9", "\"api_key\": t", "\"refresh_token\": n", "NiJ9.", "eyJzdWIi", "SflK",
};

static void check_no_leak(const char *out, size_t cut) {
  for (size_t k = 0; k < COUNT(sample_leaks); k++) {
    if (strstr(out, sample_leaks[k]))
      print_error("cut at %zu: '%s' left in:\n%s\n", cut, sample_leaks[k], out);
    assert_null(strstr(out, sample_leaks[k]));
  }
}

static void json_truncated(void **state) {
  (void)state;
  redactor *rd = new_rd();
  size_t len = strlen(sample);
  size_t changed = 0;
  for (size_t cut = 0; cut <= len; cut++) {
    char *in = malloc(cut ? cut : 1); /* exactly CUT bytes: ASan catches any overread */
    assert_non_null(in);
    memcpy(in, sample, cut);
    char *out = NULL;
    size_t out_len = 0;
    assert_int_equal(redact_body(rd, "application/json", in, cut, &out, &out_len), REQLOG_OK);
    char *text = malloc((out ? out_len : cut) + 1);
    assert_non_null(text);
    memcpy(text, out ? out : in, out ? out_len : cut);
    text[out ? out_len : cut] = '\0';
    check_no_leak(text, cut);
    changed += out != NULL;
    if (cut == len) {
      cJSON *j = cJSON_Parse(text);
      assert_non_null(j);
      cJSON *user = cJSON_GetObjectItemCaseSensitive(j, "user");
      assert_string_equal(cJSON_GetObjectItemCaseSensitive(user, "password")->valuestring,
                          REDACTED);
      assert_string_equal(cJSON_GetObjectItemCaseSensitive(user, "name")->valuestring,
                          "Ada {\"x\"}");
      assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(user, "tags"),
                                             0)->valuestring, "password");
      assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "token")->valuestring, REDACTED);
      assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "session_id")->valuestring,
                          REDACTED);
      assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "note")->valuestring,
                          "sent Bearer " REDACTED " to the API");
      assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "jwt")->valuestring, REDACTED);
      assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "password")->valuestring,
                          REDACTED);
      assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "escaped")->valuestring,
                          "a\\\"b");
      assert_non_null(strstr(text, "\"ratio\": 1.50e+3\n}\n"));
      cJSON *items = cJSON_GetObjectItemCaseSensitive(j, "items");
      assert_int_equal(cJSON_GetArraySize(items), 3);
      cJSON_Delete(j);
    }
    free(text);
    free(out);
    free(in);
  }
  assert_true(changed > len / 2);
  redactor_free(rd);
  print_message("truncated JSON: all %zu prefixes of a sample with string/number/bool/null/"
                "object secrets, an escaped key, Bearer and a JWT leave no secret byte; the "
                "whole sample's output parses with cJSON and keeps every other value\n", len + 1);
}

/* A reference redaction written with cJSON's tree: the value of every default key
 * becomes "[REDACTED]", except an array in the top-level "errors" object. */
static void ref_fold(const char *in, char *out, size_t cap) {
  size_t m = 0;
  for (; *in && m + 1 < cap; in++)
    if (*in != '_' && *in != '-')
      out[m++] = (char)(*in >= 'A' && *in <= 'Z' ? *in + 32 : *in);
  out[m] = '\0';
}

static int ref_sensitive(const char *key) {
  char a[300], b[64];
  ref_fold(key, a, sizeof a);
  for (size_t i = 0; i < COUNT(default_keys); i++) {
    ref_fold(default_keys[i], b, sizeof b);
    if (strcmp(a, b) == 0)
      return 1;
  }
  return 0;
}

static void ref_redact(cJSON *node, int depth, int errors_obj) {
  cJSON *it = node ? node->child : NULL;
  while (it) {
    cJSON *next = it->next;
    if (cJSON_IsObject(node) && ref_sensitive(it->string) &&
        !(errors_obj && cJSON_IsArray(it))) {
      cJSON *rep = cJSON_CreateString(REDACTED);
      assert_non_null(rep);
      rep->string = strdup(it->string); /* the replacement keeps the key; cJSON frees it */
      assert_true(cJSON_ReplaceItemViaPointer(node, it, rep));
    } else {
      int errs = depth == 0 && cJSON_IsObject(node) && cJSON_IsObject(it) &&
                 strcasecmp(it->string, "errors") == 0;
      ref_redact(it, depth + 1, errs);
    }
    it = next;
  }
}

static uint32_t rnd(uint32_t *seed) {
  *seed = *seed * 1103515245u + 12345u;
  return *seed >> 8;
}

static cJSON *random_json(uint32_t *seed, int depth) {
  static const char *const keys[] = {
    "password", "PassWord", "token", "id", "name", "errors", "data", "api_key", "x",
    "field", "session_id", "tags", "pass\"word", "a\\b", "{", "}", "[", ":", ",", "key",
    "code", "message", "caf\xC3\xA9", "private_key", "authorization", "ctl\x01",
    "accessToken", "Api-Key", "SESSION-ID", "client-secret", "access.token",
  };
  static const char *const strs[] = {
    "password", "token", "{\"password\":\"x\"}", "a\"b", "\\", "}", "[", "", "ok",
    "caf\xC3\xA9", "line\nbreak", "\x01", "\"password\":", "errors",
  };
  uint32_t r = rnd(seed) % (depth >= 6 ? 6 : 9);
  switch (r) {
  case 0: return cJSON_CreateNumber((double)(int)(rnd(seed) % 20000) - 10000);
  case 1: return cJSON_CreateNumber((double)(rnd(seed) % 1000) / 8.0);
  case 2: return cJSON_CreateBool(rnd(seed) & 1);
  case 3: return cJSON_CreateNull();
  case 4:
  case 5: return cJSON_CreateString(strs[rnd(seed) % COUNT(strs)]);
  case 6: {
    cJSON *a = cJSON_CreateArray();
    for (uint32_t i = rnd(seed) % 4; i > 0; i--)
      cJSON_AddItemToArray(a, random_json(seed, depth + 1));
    return a;
  }
  default: {
    cJSON *o = cJSON_CreateObject();
    for (uint32_t i = rnd(seed) % 5; i > 0; i--)
      cJSON_AddItemToObject(o, keys[rnd(seed) % COUNT(keys)], random_json(seed, depth + 1));
    return o;
  }
  }
}

static void json_differential(void **state) {
  (void)state;
  redactor *rd = new_rd();
  uint32_t seed = 777;
  int redacted = 0;
  const int rounds = 3000;
  for (int round = 0; round < rounds; round++) {
    cJSON *doc = cJSON_CreateObject();
    for (uint32_t i = rnd(&seed) % 6 + 1; i > 0; i--) {
      static const char *const top[] = {"errors", "message", "data", "token", "password"};
      cJSON_AddItemToObject(doc, top[rnd(&seed) % COUNT(top)], random_json(&seed, 1));
    }
    char *text = round % 2 ? cJSON_Print(doc) : cJSON_PrintUnformatted(doc);
    assert_non_null(text);
    char *got = body(rd, "application/json", text, strlen(text));
    cJSON *out = cJSON_Parse(got ? got : text);
    if (!out)
      print_error("output is not JSON:\n%s\n", got);
    assert_non_null(out);
    ref_redact(doc, 0, 0);
    /* compared as compact text: cJSON_Compare mismatches repeated keys */
    char *want = cJSON_PrintUnformatted(doc), *have = cJSON_PrintUnformatted(out);
    assert_non_null(want);
    assert_non_null(have);
    if (strcmp(want, have) != 0)
      print_error("input  %s\noutput %s\nwant   %s\n", text, got ? got : "(same)", want);
    assert_string_equal(have, want);
    free(want);
    free(have);
    redacted += got != NULL;
    cJSON_Delete(out);
    cJSON_Delete(doc);
    free(got);
    free(text);
  }
  assert_true(redacted > rounds / 4);
  redactor_free(rd);
  print_message("differential: %d random JSON documents (formatted and compact, awkward keys "
                "and strings, %d with secrets): output always parses and equals a cJSON-tree "
                "reference redaction\n", rounds, redacted);
}

static void json_fuzz(void **state) {
  (void)state;
  redactor *rd = new_rd();
  uint32_t seed = 12345;
  const char alphabet[] = "{}[]\":,\\ \t\nu0eyJ.aZ-_=/+%Bbearer";
  size_t len = strlen(sample);
  char *buf = malloc(len + 64);
  assert_non_null(buf);
  size_t runs = 0;
  for (int it = 0; it < 20000; it++) {
    size_t n;
    if (it % 4 == 3) { /* pure junk */
      n = (size_t)(seed % 200);
      for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (seed >> 16) % 3 ? alphabet[(seed >> 8) % (sizeof alphabet - 1)]
                                  : (char)(seed >> 3);
      }
    } else { /* the sample with a few bytes changed, then cut */
      memcpy(buf, sample, len);
      n = len;
      seed = seed * 1103515245u + 12345u;
      int flips = (int)(seed >> 16) % 6;
      for (int f = 0; f < flips; f++) {
        seed = seed * 1103515245u + 12345u;
        size_t at = (seed >> 8) % len;
        seed = seed * 1103515245u + 12345u;
        buf[at] = (seed >> 16) & 1 ? alphabet[(seed >> 8) % (sizeof alphabet - 1)]
                                   : (char)(seed >> 20);
      }
      seed = seed * 1103515245u + 12345u;
      n = (seed >> 8) % (len + 1);
    }
    char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, buf, n);
    const char *cts[] = {"application/json", NULL, "application/x-www-form-urlencoded",
                         "multipart/form-data; boundary=Z", "text/plain"};
    char *out = NULL;
    size_t out_len = 0;
    assert_int_equal(redact_body(rd, cts[it % 5], copy, n, &out, &out_len), REQLOG_OK);
    if (out) {
      /* redacting the result again changes nothing more than a second pass could */
      char *out2 = NULL;
      size_t out2_len = 0;
      assert_int_equal(redact_body(rd, cts[it % 5], out, out_len, &out2, &out2_len),
                       REQLOG_OK);
      free(out2);
    }
    free(out);
    /* the same bytes as a URL, a header value and free text */
    char *z = malloc(n + 1);
    assert_non_null(z);
    memcpy(z, copy, n);
    z[n] = '\0';
    char fp[48];
    char *r1 = redact_url(rd, z), *r2 = redact_text(rd, z);
    char *r3 = redact_header(rd, it % 2 ? "Authorization" : "Location", z, fp);
    assert_non_null(r1);
    assert_non_null(r2);
    assert_non_null(r3);
    free(r1);
    free(r2);
    free(r3);
    free(z);
    free(copy);
    runs++;
  }
  free(buf);
  redactor_free(rd);
  print_message("fuzz: %zu mutated, cut and junk inputs as bodies under 5 content types, "
                "URLs, headers and text: no crash, no read past the end (exact-size buffers "
                "under ASan)\n", runs);
}

/* ------------------------------------------------------------------ forms */

static void form_bodies(void **state) {
  (void)state;
  redactor *rd = new_rd();
  const char *form = "application/x-www-form-urlencoded";
  char in[256], want[256];
  for (size_t i = 0; i < COUNT(default_params); i++) {
    snprintf(in, sizeof in, "grant_type=x&%s=s3cr3t+val%%20ue&scope=read", default_params[i]);
    snprintf(want, sizeof want, "grant_type=x&%s=" REDACTED "&scope=read", default_params[i]);
    expect_body(rd, form, in, want);
  }
  expect_body(rd, "Application/X-WWW-Form-Urlencoded; charset=UTF-8",
              "username=ada&Password=hunter2", "username=ada&Password=" REDACTED);
  expect_body(rd, form, "user%5Bpassword%5D=x&user[name]=ada&client+secret=1&client_secret=2",
              "user%5Bpassword%5D=" REDACTED "&user[name]=ada&client+secret=1&client_secret="
              REDACTED);
  expect_body(rd, form, "username=ada&page=2", NULL);
  expect_body(rd, form, "note=Bearer+abc123def&x=1", "note=Bearer+" REDACTED "&x=1");
  /* `curl -d '{...}'` sends JSON labelled as a form: it gets the JSON rule */
  expect_body(rd, form, " {\"password\":\"x\"}", " {\"password\":\"" REDACTED "\"}");
  /* the form rule only for form bodies: text/plain key=value is text */
  expect_body(rd, "text/plain", "password=hunter2", NULL);

  /* multipart/form-data */
  const char *mp =
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"username\"\r\n\r\n"
    "ada\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"password\"\r\n\r\n"
    "hunter2\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"avatar\"; filename=\"token\"\r\n"
    "Content-Type: image/png\r\n\r\n"
    "PNG...\r\n"
    "--XyZ\r\n"
    "content-disposition: form-data; name=user[api_key]\r\n\r\n"
    "k1\r\nk2\r\n"
    "--XyZ--\r\n";
  const char *mp_want =
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"username\"\r\n\r\n"
    "ada\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"password\"\r\n\r\n"
    REDACTED "\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"avatar\"; filename=\"token\"\r\n"
    "Content-Type: image/png\r\n\r\n"
    "PNG...\r\n"
    "--XyZ\r\n"
    "content-disposition: form-data; name=user[api_key]\r\n\r\n"
    REDACTED "\r\n"
    "--XyZ--\r\n";
  expect_body(rd, "multipart/form-data; boundary=XyZ", mp, mp_want);
  expect_body(rd, "multipart/form-data; boundary=\"XyZ\"", mp, mp_want);
  /* every cut of the multipart body and of a form body: the secrets never survive */
  size_t len = strlen(mp);
  for (size_t cut = 0; cut <= len; cut++) {
    char *got = body(rd, "multipart/form-data; boundary=XyZ", mp, cut);
    const char *text = got ? got : NULL;
    char *orig = NULL;
    if (!text) {
      orig = strndup(mp, cut);
      text = orig;
    }
    if (strstr(text, "hunt") || strstr(text, "k1") || strstr(text, "k2")) {
      print_error("multipart cut at %zu leaks:\n%s\n", cut, text);
      fail();
    }
    /* a cut right after "name=\"password\"\r\n\r\n" may keep "h"... it must not */
    assert_null(strstr(text, "\r\n\r\nh"));
    free(got);
    free(orig);
  }
  const char *f = "a=1&password=Zhunter2&b=2";
  for (size_t cut = 0; cut <= strlen(f); cut++) {
    char *got = body(rd, form, f, cut);
    char *text = got ? got : strndup(f, cut);
    assert_null(strchr(text, 'Z'));
    free(text);
  }
  redactor_free(rd);
  print_message("form bodies: all 13 default names, charset parameter, bracketed and encoded "
                "names, Bearer+token, JSON labelled as a form; multipart parts by name "
                "(quoted, bare, bracketed; filename= ignored) and every cut of both\n");
}

/* ------------------------------------------------------------------ free text */

static void text_bearer_jwt(void **state) {
  (void)state;
  redactor *rd = new_rd();
  const char *jwt = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZS"
                    "I6IkpvaG4gRG9lIn0.POstGetfAytaZS82wHcjoTyoqhMyxXiWdR7Nn7A29DNSl0EiXLdwJ6x";
  char in[512], want[512];
  expect_text(rd, "401: sent Bearer abc123 but it was revoked",
              "401: sent Bearer " REDACTED " but it was revoked");
  expect_text(rd, "BEARER x-Y.z_~+/abc==, next", "BEARER " REDACTED ", next");
  expect_text(rd, "bearer\tabc", "bearer\t" REDACTED);
  expect_text(rd, "Authorization: Bearer sk-1\r\nAccept: */*",
              "Authorization: Bearer " REDACTED "\r\nAccept: */*");
  expect_text(rd, "{\"h\":\"Bearer ab\\/cd\\/ef==\"}", "{\"h\":\"Bearer " REDACTED "\"}");
  expect_text(rd, "Bearer abc Bearer def", "Bearer " REDACTED " Bearer " REDACTED);
  snprintf(in, sizeof in, "token %s expired", jwt);
  expect_text(rd, in, "token " REDACTED " expired");
  snprintf(in, sizeof in, "Bearer %s", jwt);
  expect_text(rd, in, "Bearer " REDACTED);
  snprintf(in, sizeof in, "(%s).", jwt);
  expect_text(rd, in, "(" REDACTED ").");
  expect_text(rd, "x=eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.&y",
              "x=" REDACTED "&y"); /* unsigned token, empty signature */
  /* a JWE has five segments */
  expect_text(rd, "eyJhbGciOiJSU0EiLCJlbmMiOiJBIn0.a2V5a2V5.aXZpdg.Y2lwaGVy.dGFn ok",
              REDACTED " ok");
  /* a prefixed token: its eyJ segments are still redacted */
  expect_text(rd, "v1.eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig ok", "v1." REDACTED " ok");
  /* cut at the end of the text after the first dot: still a token */
  expect_text(rd, "jwt=eyJhbGciOiJIUzI1NiJ9.eyJzdW", "jwt=" REDACTED);
  /* every alignment and position, including the very end of the text */
  for (int pad = 0; pad < 8; pad++) {
    char pre[16];
    memset(pre, ' ', (size_t)pad);
    pre[pad] = '\0';
    snprintf(in, sizeof in, "%sBearer abc123", pre);
    snprintf(want, sizeof want, "%sBearer " REDACTED, pre);
    expect_text(rd, in, want);
    snprintf(in, sizeof in, "%s%s%s", pre, jwt, pre);
    snprintf(want, sizeof want, "%s" REDACTED "%s", pre, pre);
    expect_text(rd, in, want);
    snprintf(in, sizeof in, "xy.%sBearer 1", pre);
    snprintf(want, sizeof want, "xy.%sBearer " REDACTED, pre);
    expect_text(rd, in, want);
  }
  /* prose and near misses stay */
  const char *keep[] = {
    "Invalid bearer token", "Bearer token missing or malformed",
    "WWW-Authenticate: Bearer realm=\"api\", error=\"invalid_token\"",
    "Bearer", "Bearer ", "Bearer [REDACTED]", "Bearer: yes", "forbearer abc", "bearers abc",
    "eyJ is how base64 JSON starts", "eyJhbGciOiJIUzI1NiJ9", "eyJhbGci.eyJz.abcd",
    "keyJhbGciOiJIUzI1NiJ9.abcdefgh.sig", "eyJhbGciOiJIUzI1NiJ9.abc.def",
    "version 1.2.3 of eyJ-lib", "",
  };
  for (size_t i = 0; i < COUNT(keep); i++)
    expect_text(rd, keep[i], keep[i]);
  char *t = redact_text(rd, NULL);
  assert_string_equal(t, "");
  free(t);
  /* bodies of other types get the same scan */
  snprintf(in, sizeof in, "<p>token: %s</p>", jwt);
  expect_body(rd, "text/html", in, "<p>token: " REDACTED "</p>");
  snprintf(want, sizeof want, "{\"jwt\":\"%s\"}", REDACTED);
  snprintf(in, sizeof in, "{\"jwt\":\"%s\"}", jwt);
  expect_body(rd, "application/json", in, want);
  redactor_free(rd);
  print_message("free text: Bearer (any case, space/tab/+/%%20, b64token with padding and "
                "JSON \\/) and JWTs (signed, unsigned, JWE, cut) -> [REDACTED]; prose "
                "('invalid bearer token', realm=), near misses and short eyJ text kept\n");
}

static void binary_bodies(void **state) {
  (void)state;
  redactor *rd = new_rd();
  const char bin[] = "\x89PNG\0\0\x01\xff Bearer abc123\0\xfe\xfd";
  size_t n = sizeof bin - 1;
  char *out = NULL;
  size_t out_len = 0;
  assert_int_equal(redact_body(rd, "application/octet-stream", bin, n, &out, &out_len),
                   REQLOG_OK);
  assert_non_null(out);
  const char want[] = "\x89PNG\0\0\x01\xff Bearer " REDACTED "\0\xfe\xfd";
  assert_int_equal(out_len, sizeof want - 1);
  assert_memory_equal(out, want, sizeof want - 1);
  free(out);
  const char clean[] = "\0\x01\x02{\"password\":\"x\"}\xff";
  assert_int_equal(redact_body(rd, "application/octet-stream", clean, sizeof clean - 1, &out,
                               &out_len), REQLOG_OK);
  assert_null(out); /* not JSON: it does not start with { or [ */
  redactor_free(rd);
  print_message("binary bodies (NUL, invalid UTF-8): only the Bearer/JWT scan, bytes around "
                "it kept; embedded JSON-looking bytes are not parsed\n");
}

static void nothing_changed(void **state) {
  (void)state;
  redactor *rd = new_rd();
  expect_body(rd, "application/json",
              "{\"data\":[{\"id\":1,\"first_name\":\"Ada\",\"email\":\"ada@example.com\"}],"
              "\"meta\":{\"page\":1}}", NULL);
  expect_body(rd, "application/x-www-form-urlencoded", "a=1&b=2", NULL);
  expect_body(rd, "text/plain", "hello world", NULL);
  expect_body(rd, NULL, "   ", NULL);
  char *out = (char *)0x1;
  size_t out_len = 9;
  assert_int_equal(redact_body(rd, "application/json", NULL, 0, &out, &out_len), REQLOG_OK);
  assert_null(out);
  assert_int_equal(out_len, 0);
  assert_int_equal(redact_body(rd, "application/json", "x", 1, NULL, &out_len), REQLOG_ERR_ARG);
  /* a second pass over redacted output finds nothing more */
  const char *in = "{\"password\":\"x\",\"n\":\"Bearer abc\",\"u\":[{\"token\":{}}]}";
  char *once = body(rd, NULL, in, strlen(in));
  assert_non_null(once);
  expect_body(rd, NULL, once, NULL);
  free(once);
  char *u1 = redact_url(rd, "https://a:b@h/?token=x#code=y");
  char *u2 = redact_url(rd, u1);
  assert_string_equal(u1, u2);
  free(u1);
  free(u2);
  /* a NULL redactor acts as the defaults */
  expect_body(NULL, NULL, "{\"token\":1}", "{\"token\":\"" REDACTED "\"}");
  redactor_free(rd);
  print_message("nothing to redact -> *out NULL (JSON, form, text, empty, NULL data); "
                "redacting redacted output changes nothing; NULL redactor = defaults\n");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(fingerprint_format),
    cmocka_unit_test(authorization),
    cmocka_unit_test(basic_credentials),
    cmocka_unit_test(folded_names),
    cmocka_unit_test(default_headers),
    cmocka_unit_test(header_values_scanned),
    cmocka_unit_test(default_query_params),
    cmocka_unit_test(url_shapes),
    cmocka_unit_test(added_names),
    cmocka_unit_test(json_default_keys),
    cmocka_unit_test(json_nesting),
    cmocka_unit_test(json_escaped_keys),
    cmocka_unit_test(json_names_as_values),
    cmocka_unit_test(json_tricky_strings),
    cmocka_unit_test(json_errors_shape),
    cmocka_unit_test(json_truncated),
    cmocka_unit_test(json_differential),
    cmocka_unit_test(json_fuzz),
    cmocka_unit_test(form_bodies),
    cmocka_unit_test(text_bearer_jwt),
    cmocka_unit_test(binary_bodies),
    cmocka_unit_test(nothing_changed),
  };
  return cmocka_run_group_tests_name("redact", tests, NULL, NULL);
}
