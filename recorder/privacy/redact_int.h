/* redact_int.h: what the redact_*.c files share and nothing outside them sees (redact.h
 * is the room's interface): the byte classes, the name lists (redact_names.c), the
 * output under construction (redact_out.c), the Bearer/JWT scan (redact_token.c) and
 * the rule of each kind of text (URL and form, JSON, multipart, Basic credentials).
 * The files stand in layers: names and out at the bottom, token on out, the rules on
 * both, redact_header.c and redact_body.c on top. */
#ifndef REQLOG_REDACT_INT_H
#define REQLOG_REDACT_INT_H

#include <stddef.h>

#include "privacy/redact.h"

/* Longest name redactor_add() accepts; also bounds the buffers that decode names. */
#define NAME_MAX_LEN 255

typedef struct {
  const char *s;
  size_t n;
} name_t;

#define NAME(lit) { lit, sizeof(lit) - 1 }
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ byte classes */

static inline unsigned char ch_lower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

static inline int ch_alpha(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int ch_alnum(unsigned char c) {
  return ch_alpha(c) || (c >= '0' && c <= '9');
}

static inline int ch_hex(unsigned char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  c = ch_lower(c);
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/* base64url alphabet: the characters of a JWT segment. */
static inline int ch_b64url(unsigned char c) {
  return ch_alnum(c) || c == '-' || c == '_';
}

/* RFC 6750 b64token characters (without the '=' padding). */
static inline int ch_b64token(unsigned char c) {
  return ch_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

static inline int ch_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* S[I..I+3) is a %XX escape (S[0..TO) readable). */
static inline int ch_pct_escape(const char *s, size_t i, size_t to) {
  return i + 2 < to && s[i] == '%' && ch_hex((unsigned char)s[i + 1]) >= 0 &&
         ch_hex((unsigned char)s[i + 2]) >= 0;
}

/* ------------------------------------------------------------------ redact_names.c */

/* The lists of names (docs/design.md §4), compared folded. */
typedef enum {
  NAMES_PARAMS,      /* query and form parameters, multipart form names */
  NAMES_KEYS,        /* JSON keys */
  NAMES_HEADERS,     /* headers whose value is redacted whole */
  NAMES_URL_HEADERS, /* headers whose value is a URL */
} names_list;

/* P[0..N) is, folded, one of LIST's names or (RD not NULL) one of RD's added names. */
int names_listed(const redactor *rd, names_list list, const char *p, size_t n);

/* NAME[0..N), folded, contains auth, token, secret, session, ... (redact.h). */
int names_has_secret_part(const char *name, size_t n);

/* P[0..N) equals the lower-case name NM, ASCII case-insensitively. */
int names_eq_nocase(const char *p, size_t n, const name_t *nm);

/* P[0..N) is one of the lower-case words of LIST, ASCII case-insensitively (words of
 * prose and schemes, not names: see names_listed). */
int names_word_in(const name_t *list, size_t count, const char *p, size_t n);

/* Moves *P and *N past white space (ch_space) at both ends. */
void names_trim(const char **p, size_t *n);

/* ------------------------------------------------------------------ redact_out.c */

/* The redacted copy of SRC[0..LEN) under construction: BUF holds SRC[0..DONE) with its
 * replacements made; BUF stays NULL until the first replacement. SRC[0..SCANNED) has
 * had its Bearer/JWT scan (SCANNED >= DONE). */
typedef struct {
  const char *src;
  size_t len;
  size_t done;
  size_t scanned;
  char *buf;
  size_t blen, bcap;
  int nomem;
} edits;

void out_init(edits *e, const char *src, size_t len);

/* Replaces SRC[START..END) (START >= DONE) by REP. A span that already reads REP is
 * left alone, so redacting redacted data changes nothing. Out of memory is kept in
 * E->nomem and reported by out_finish. */
void out_replace(edits *e, size_t start, size_t end, const char *rep);

/* Hands back the result (the caller has scanned it: token_scan): REQLOG_OK with *OUT
 * NULL when nothing changed, else the buffer (NUL-terminated, *OUT_LEN without the NUL);
 * REQLOG_ERR_NOMEM when an edit ran out of memory. */
reqlog_err out_finish(edits *e, char **out, size_t *out_len);

/* out_finish for a NUL-terminated string: always a malloc'd string, NULL on no memory. */
char *out_finish_string(edits *e);

/* ------------------------------------------------------------------ redact_token.c */

/* Replaces Bearer credentials and JWTs in SRC[SCANNED..TO). */
void token_scan(edits *e, size_t to);

/* Replaces SRC[START..END) by REP after scanning the bytes before it for Bearer tokens
 * and JWTs. Spans come in increasing order; the scan covers everything between them. */
void token_span(edits *e, size_t start, size_t end, const char *rep);

/* A rule: the replacements of one kind of text over E (url_redact, json_redact, ...). */
typedef void (*token_rule)(const redactor *rd, edits *e);

/* The NUL-terminated TEXT (NULL reads "") redacted by RULE (NULL: none) and the scan:
 * a malloc'd string, NULL on out of memory. */
char *token_redact_string(const redactor *rd, const char *text, token_rule rule);

/* ------------------------------------------------------------------ the rules */

/* redact_url.c: a query or form parameter name P[0..N), percent-decoded ('+' is a
 * space), is sensitive; bracketed form names count by their last part. */
int url_param_sensitive(const redactor *rd, const char *p, size_t n);

/* redact_url.c: query or form parameters in SRC[FROM..TO), '&'-separated: a sensitive
 * name's non-empty value becomes [REDACTED]. */
void url_params(const redactor *rd, edits *e, size_t from, size_t to);

/* redact_url.c: the URL rule over E's text (redact_url). */
void url_redact(const redactor *rd, edits *e);

/* redact_jsonkey.c: a JSON object key P[0..N) (the text between the quotes) is
 * sensitive; escapes are decoded first, so "pass\u0077ord" is "password". */
int jsonkey_sensitive(const redactor *rd, const char *p, size_t n);

/* redact_json.c: the values of sensitive keys in the JSON text of E, at any depth. */
void json_redact(const redactor *rd, edits *e);

/* redact_multipart.c: the value of parameter PARAM (lower case, with its '=') in header
 * text P[0..N): quoted or a bare token, preceded by ';' or white space so that "name="
 * skips "filename=". Returns non-zero with the value at [*V, *V + *VN). */
int multipart_param(const char *p, size_t n, const name_t *param, const char **v,
                    size_t *vn);

/* A multipart boundary is at most 70 characters (RFC 2046); leave room for junk. */
#define BOUNDARY_MAX_LEN 200

/* redact_multipart.c: multipart/form-data with boundary BND[0..BN) (BN at most
 * BOUNDARY_MAX_LEN): the content of a part whose form name is sensitive is redacted. */
void multipart_redact(const redactor *rd, edits *e, const char *bnd, size_t bn);

/* redact_basic.c: the redacted value of Basic credentials CRED[0..CN) under scheme
 * SCHEME[0..SL) (redact.h). malloc'd, or NULL on out of memory. */
char *basic_value(const char *scheme, size_t sl, const char *cred, size_t cn);

#endif
