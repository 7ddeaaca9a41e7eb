/* notice.h: notices the library has for the caller before anyone listens: messages that
 * are kept until an error handler is set (reqlog_set_error_handler()), then handed to
 * it once, with REQLOG_OK, and forgotten. The library never prints them itself. */
#ifndef REQLOG_NOTICE_H
#define REQLOG_NOTICE_H

#include <stddef.h>
#include "reqlog.h"

/* The messages kept, oldest first. A zeroed notice is empty. Not locked: the owner
 * guards it (take it under its lock, hand it outside). */
typedef struct notice {
  char **msgs;
  size_t n;
} notice;

/* Keeps a printf-formatted message. Returns REQLOG_OK, or REQLOG_ERR_NOMEM with nothing
 * kept. */
reqlog_err notice_add(notice *nt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* What NT holds, moved out: NT is empty afterwards. */
notice notice_take(notice *nt);

/* Hands every message of NT, oldest first, to FN (with CTX and REQLOG_OK), then frees
 * them: NT is empty afterwards. With FN NULL the messages are dropped. */
void notice_hand(notice *nt, reqlog_error_fn fn, void *ctx);

/* Frees what NT holds, unsaid. */
void notice_free(notice *nt);

#endif
