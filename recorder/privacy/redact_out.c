/* redact_out.c: the redacted copy under construction. Every rule reads the original
 * bytes once and hands its replacements here in increasing order; the copy keeps every
 * other byte as it was, and no memory is allocated until the first replacement, so the
 * common case (nothing secret) costs a single pass and no malloc. */
#include "privacy/redact_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"

void out_init(edits *e, const char *src, size_t len) {
  memset(e, 0, sizeof *e);
  e->src = src;
  e->len = len;
}

static void out_append(edits *e, const char *p, size_t n) {
  if (e->nomem)
    return;
  if (e->blen + n + 1 > e->bcap) { /* + 1: room for a final NUL */
    size_t cap = e->bcap ? e->bcap : 64;
    while (cap < e->blen + n + 1)
      cap *= 2;
    char *nb = realloc(e->buf, cap);
    if (!nb) {
      e->nomem = 1;
      return;
    }
    e->buf = nb;
    e->bcap = cap;
  }
  if (n)
    memcpy(e->buf + e->blen, p, n);
  e->blen += n;
}

void out_replace(edits *e, size_t start, size_t end, const char *rep) {
  size_t rn = strlen(rep);
  if (end - start == rn && memcmp(e->src + start, rep, rn) == 0)
    return;
  if (!e->buf && !e->nomem) {
    e->bcap = e->len + 64;
    e->buf = malloc(e->bcap);
    if (!e->buf)
      e->nomem = 1;
  }
  out_append(e, e->src + e->done, start - e->done);
  out_append(e, rep, rn);
  e->done = end;
}

reqlog_err out_finish(edits *e, char **out, size_t *out_len) {
  if (e->buf)
    out_append(e, e->src + e->done, e->len - e->done);
  if (e->nomem) {
    free(e->buf);
    *out = NULL;
    *out_len = 0;
    return REQLOG_ERR_NOMEM;
  }
  if (e->buf)
    e->buf[e->blen] = '\0';
  *out = e->buf;
  *out_len = e->blen;
  return REQLOG_OK;
}

char *out_finish_string(edits *e) {
  char *out = NULL;
  size_t n = 0;
  if (out_finish(e, &out, &n) != REQLOG_OK)
    return NULL;
  return out ? out : util_strndup(e->src, e->len);
}
