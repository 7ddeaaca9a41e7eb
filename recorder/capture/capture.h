/* capture.h: recording one transfer made on an easy handle (used by the public
 * reqlog_easy_perform and by reqlog_request's attempts). */
#ifndef REQLOG_CAPTURE_H
#define REQLOG_CAPTURE_H

#include "handle.h"

typedef struct capture_meta {
  int attempt;                 /* 1 for a first try */
  uint64_t retry_of_seq;       /* the attempt this one retries, 0 for none */
  int64_t replay_of;           /* the row this call replays (replay.c), 0 for none */
  int64_t queued_us;           /* time waited on the rate limiter */
  const char *source;          /* NULL: the handle's source */
  const char *key_fp;          /* fingerprint of the key reqlog itself attached, stored
                                  when no request header block was written (a refused
                                  connection); NULL: none */
  curl_debug_callback user_fn; /* the caller's debug settings, restored afterwards */
  void *user_data;
  long user_verbose;
} capture_meta;

typedef struct capture_result {
  uint64_t seq;                /* the record's sequence number in the store */
  int64_t row_id;              /* its row id when the store is in sync mode */
  reqlog_err record_err;       /* why recording failed, or REQLOG_OK */
} capture_result;

/* Performs EASY and records it with M's details (M may be NULL). Returns libcurl's
 * result, whatever happens to the recording (RES, when not NULL, tells). */
CURLcode capture_perform(reqlog *r, CURL *easy, const capture_meta *m, capture_result *res);

#endif
