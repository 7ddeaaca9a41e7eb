/* har_text.h: the text of a HAR import (import_har.c): a builder of header blocks and
 * form bodies, and the base64 decoder of HAR body text. */
#ifndef REQLOG_HAR_TEXT_H
#define REQLOG_HAR_TEXT_H

#include <stddef.h>
#include "base/dynbuf.h"
#include "capture/capbuf.h"
#include "reqlog.h"

#define HAR_MAX_BYTES (512L * 1024 * 1024) /* larger HAR files are refused before reading */

/* Text built onto a capped dynbuf. The first error sticks and later text is dropped:
 * the builder looks at ERR once, when the text is done (then D holds it, NUL-ended). */
typedef struct har_text {
  dynbuf d;
  reqlog_err err;
} har_text;

void har_text_init(har_text *b);
void har_text_add(har_text *b, const char *s, size_t n);
void har_text_str(har_text *b, const char *s);
/* S with CR, LF and other control characters as spaces: one header line stays one. */
void har_text_line_safe(har_text *b, const char *s);
/* S form-encoded (application/x-www-form-urlencoded). */
void har_text_form(har_text *b, const char *s);

/* Decodes base64 TEXT (standard or URL-safe alphabet, padding optional, white space
 * ignored) into B. Returns 0, or -1 when TEXT is not base64. */
int har_text_base64(capbuf *b, const char *text);

#endif
