/* prepare_int.h: the parts of row_prepare (privacy/prepare.h) that prepare.c puts
 * together: the header blocks (prepare_head.c) and the bodies (prepare_body.c). Each
 * learns what redaction removed into the row's taint, so that prepare.c can scrub it
 * from the rest of the row. */
#ifndef REQLOG_PREPARE_INT_H
#define REQLOG_PREPARE_INT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "privacy/prepare.h"
#include "privacy/taint.h"

/* prepare_head.c: parses a header block BLK[0..LEN) (first line skipped) into *OUT, a
 * JSON array of [name, value], each value redacted. Copies the fingerprint of an
 * Authorization header into KEY_FP and the Content-Type value into *CTYPE (malloc'd)
 * when CTYPE is not NULL. What redaction removed is learnt into T. REQLOG_OK or
 * REQLOG_ERR_NOMEM. */
reqlog_err head_json(const redactor *rd, taint *t, const char *blk, size_t len, char **out,
                     char key_fp[48], char **ctype);

/* prepare_body.c: sets the body fields from B: text or blob, redacted as CTYPE says (into
 * *OWN when redaction changed it). The digest is left to body_digest. */
reqlog_err body_values(const redactor *rd, taint *t, const capbuf *b, const char *ctype,
                       const void **data, size_t *len, int *is_text, int *is_null, char **own);

/* prepare_body.c: replaces what T learnt in a text body (into *OWN, freeing the one
 * there). */
reqlog_err body_scrub(const taint *t, const void **data, size_t *len, int is_text, int is_null,
                      char **own);

/* prepare_body.c: B's digest into SHA, unless redaction or scrubbing changed the kept
 * bytes (OWN is their redacted copy): a digest of a body holding a secret would let
 * anyone confirm a guess of that secret. Taken last, so a body that loses a secret is
 * never hashed. */
void body_digest(const capbuf *b, const char *own, char sha[65]);

#endif
