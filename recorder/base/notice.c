/* notice.c: messages kept until an error handler is set, then handed to it once (see
 * notice.h). */
#include "base/notice.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

reqlog_err notice_add(notice *nt, const char *fmt, ...) {
  char **msgs = realloc(nt->msgs, (nt->n + 1) * sizeof *msgs);
  if (!msgs)
    return REQLOG_ERR_NOMEM;
  nt->msgs = msgs;
  va_list ap;
  va_start(ap, fmt);
  int n = vasprintf(&msgs[nt->n], fmt, ap);
  va_end(ap);
  if (n < 0)
    return REQLOG_ERR_NOMEM;
  nt->n++;
  return REQLOG_OK;
}

notice notice_take(notice *nt) {
  notice taken = *nt;
  nt->msgs = NULL;
  nt->n = 0;
  return taken;
}

void notice_hand(notice *nt, reqlog_error_fn fn, void *ctx) {
  for (size_t i = 0; fn && i < nt->n; i++)
    fn(ctx, REQLOG_OK, nt->msgs[i]);
  notice_free(nt);
}

void notice_free(notice *nt) {
  for (size_t i = 0; i < nt->n; i++)
    free(nt->msgs[i]);
  free(nt->msgs);
  nt->msgs = NULL;
  nt->n = 0;
}
