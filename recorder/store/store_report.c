/* store_report.c: what the store has to say: to the error handler, recording errors, each
 * handed to it at once (the first since the last flush is also kept for store_flush() and
 * store_close() to return), and the notice of opening, kept until a handler is set; to
 * whoever asks, what the writer went through (store_stats). */
#include "store/store_int.h"

#include <stdlib.h>

#include "base/util.h"

void store_report(store *s, reqlog_err err, const char *msg) {
  pthread_mutex_lock(&s->lock);
  if (s->first_err == REQLOG_OK) {
    s->first_err = err;
    s->first_cause = util_strdup(msg);
  }
  reqlog_error_fn fn = s->err_fn;
  void *ctx = s->err_ctx;
  pthread_mutex_unlock(&s->lock);
  if (fn)
    fn(ctx, err, msg);
}

/* The first error kept and its message (*cause, malloc'd, when CAUSE is not NULL), and
 * forgets them. */
reqlog_err store_report_take(store *s, char **cause) {
  reqlog_err err = s->first_err;
  if (cause)
    *cause = err != REQLOG_OK ? util_strdup(s->first_cause) : NULL;
  s->first_err = REQLOG_OK;
  free(s->first_cause);
  s->first_cause = NULL;
  return err;
}

void store_stats(store *s, reqlog_writer_stats *out) {
  pthread_mutex_lock(&s->lock);
  *out = s->stats;
  pthread_mutex_unlock(&s->lock);
}

void store_set_error_handler(store *s, reqlog_error_fn fn, void *ctx) {
  pthread_mutex_lock(&s->lock);
  s->err_fn = fn;
  s->err_ctx = ctx;
  notice pending = fn ? notice_take(&s->file.notice) : (notice){0};
  pthread_mutex_unlock(&s->lock);
  notice_hand(&pending, fn, ctx); /* the notice of opening, said once */
}
