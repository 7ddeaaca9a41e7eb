/* replay_rec.c: replays on a team store. The dashboard reads the store through its own
 * handle, which cannot record; a replay is recorded as the recording commands record
 * for a store URL: reqlog_open() of the same URL, a local spool and the library's
 * shipper thread (docs/design.md §9). That handle is opened at the first replay (a
 * dashboard nobody replays from makes no spool and runs no shipper) and closed with the
 * server. A replayed call is answered with its id in the store: the shipper looks for
 * new rows every 100 ms, and the answer waits for the row, within a bound. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay_rec.h"

/* The library's notices and errors of the replay handle (a new spool, the store out of
 * reach and back, a store that refuses): on stderr, as the recording commands say them. */
static void on_rec_error(void *ctx, reqlog_err err, const char *msg) {
  (void)ctx;
  fprintf(stderr, "reqlog: serve: replays: %s\n", msg && *msg ? msg : reqlog_strerror(err));
}

static int open_locked(struct web_server *s, char **msg) {
  char *cause = NULL;
  reqlog *r = NULL;
  reqlog_err err = reqlog_open(s->store_url, &r, &cause);
  if (err != REQLOG_OK) {
    char *shown = reqlog_store_url_shown(s->store_url);
    if (asprintf(msg, "Replay cannot record into a local spool for %s: %s.",
                 shown ? shown : "the team store", cause ? cause : reqlog_strerror(err)) < 0)
      *msg = NULL;
    reqlog_free(shown);
    reqlog_free(cause);
    return -1;
  }
  if (web_recording_setup(s, r) != 0) {
    reqlog_close(r);
    *msg = strdup("Replay cannot set up its recording handle.");
    return -1;
  }
  char *shown = reqlog_store_url_shown(s->store_url);
  fprintf(stderr, "reqlog: serve: replays are recorded into the spool %s and shipped to %s\n",
          reqlog_spool_path(r), shown ? shown : "the team store");
  reqlog_free(shown);
  reqlog_set_error_handler(r, on_rec_error, NULL);
  s->rec = r;
  return 0;
}

int replay_rec_open(struct web_server *s, reqlog **out, char **msg) {
  *out = NULL;
  *msg = NULL;
  pthread_mutex_lock(&s->rec_lock);
  int rc = s->rec ? 0 : open_locked(s, msg);
  *out = s->rec;
  pthread_mutex_unlock(&s->rec_lock);
  return rc;
}

int replay_rec_store_id(struct web_server *s, reqlog *rec, int64_t spool_id, int64_t *id) {
  /* every look is a query on the store: 20 of them at most */
  for (long waited = 0;; waited += 100) {
    if (reqlog_shipped_id(s->r, rec, spool_id, id, NULL) == REQLOG_OK)
      return 0;
    if (waited >= REPLAY_SHIP_WAIT_MS || web_sleep(s, 100))
      return -1;
  }
}

void replay_rec_close(struct web_server *s) {
  pthread_mutex_lock(&s->rec_lock);
  reqlog *r = s->rec;
  s->rec = NULL;
  pthread_mutex_unlock(&s->rec_lock);
  reqlog_close(r);
}
