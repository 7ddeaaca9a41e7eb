/* redact.h: removes secrets from captured headers, URLs and bodies before anything is
 * written (docs/design.md §4). A redactor holds the name lists; it is read-only once built,
 * so one redactor may be used by several threads at once. */
#ifndef REQLOG_REDACT_H
#define REQLOG_REDACT_H

#include <stddef.h>
#include "reqlog.h"

#define REDACTED "[REDACTED]"

typedef struct redactor redactor;

/* A redactor with the default lists. Returns REQLOG_OK or REQLOG_ERR_NOMEM. */
reqlog_err redactor_new(redactor **out);
void redactor_free(redactor *rd);

/* Adds NAME to the header, query/form-parameter and JSON-key lists alike. Names, added
 * and default, are compared folded: case, '_' and '-' are ignored, so date_of_birth
 * also matches dateOfBirth, DATE-OF-BIRTH and DateOfBirth. Surrounding spaces are
 * trimmed; a name empty once folded is ignored; longer than 255 bytes is
 * REQLOG_ERR_ARG. */
reqlog_err redactor_add(redactor *rd, const char *name);

/* Adds every name of a comma-separated LIST (e.g. $REQLOG_REDACT). */
reqlog_err redactor_add_list(redactor *rd, const char *list);

/* The redacted value of header NAME: VALUE.
 * Authorization becomes "<scheme> <fingerprint>" (fingerprint as reqlog_key_fingerprint
 * of the credentials), and when KEY_FP is not NULL the fingerprint is copied there (it
 * is left untouched for other headers). Basic credentials, in Authorization and
 * Proxy-Authorization alike, get no fingerprint, since they hide a password: they
 * become "Basic <user>:[REDACTED]" or, with no user name fit to show,
 * "Basic [REDACTED]". Other Proxy-Authorization values, Cookie, Set-Cookie, X-Api-Key,
 * names containing auth/token/secret/session/password/signature/cookie/apikey and added
 * names become "[REDACTED]"; other values have Bearer tokens and JWTs replaced. Names
 * are compared with case, '_' and '-' ignored (X-Api-Key = x_api_key).
 * Returns a malloc'd string (free()) or NULL on out of memory. */
char *redact_header(const redactor *rd, const char *name, const char *value,
                    char key_fp[48]);

/* URL with the password of user:password@ and sensitive query parameters' values
 * replaced by [REDACTED], and Bearer tokens / JWTs anywhere replaced. The rest of the
 * URL is byte-for-byte unchanged. malloc'd, or NULL on out of memory. */
char *redact_url(const redactor *rd, const char *url);

/* Free text (an error message): Bearer tokens and JWTs replaced. malloc'd or NULL. */
char *redact_text(const redactor *rd, const char *text);

/* A body. CONTENT_TYPE (may be NULL) picks the method: JSON (application/json, +json,
 * or a body that starts with { or [ after white space) gets the values of sensitive keys
 * at any depth replaced by "[REDACTED]" (whatever the value's type: string, number,
 * object, array), keeping every other byte as it was, so valid JSON stays valid; a body
 * cut short (truncated at the cap) is handled, and a sensitive value cut short is
 * redacted to the end. application/x-www-form-urlencoded gets the query-parameter rule.
 * Every text body also gets Bearer tokens and JWTs replaced.
 * Returns REQLOG_OK with *out NULL when nothing changed, or *out a malloc'd buffer of
 * *out_len bytes (not NUL-terminated necessarily; free()). REQLOG_ERR_NOMEM on failure. */
reqlog_err redact_body(const redactor *rd, const char *content_type,
                       const char *data, size_t len, char **out, size_t *out_len);

/* Basic credentials CRED[0..CN) (the base64 after "Basic ") decoded into DEC, which
 * holds at least CN / 4 * 3 + 3 bytes: returns 0 with the user name at DEC[0..*USER_LEN)
 * and the password at DEC[*USER_LEN + 1..*DEC_LEN), or -1 when CRED is not base64 of
 * user:password. The caller wipes DEC. */
int redact_basic_decode(const char *cred, size_t cn, unsigned char *dec, size_t *user_len,
                        size_t *dec_len);

#endif
