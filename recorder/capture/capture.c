/* capture.c: records a transfer made on the caller's own easy handle by watching
 * libcurl's debug stream (the only place that shows the headers and body actually sent),
 * leaving the caller's write and header callbacks untouched. A capture session
 * (capsess.c) copies the stream into a record; redaction and SQL happen on the store's
 * writer thread. */
#include "capture/capture.h"

#include <stdio.h>
#include <string.h>

#include "capture/capsess.h"
#include "base/util.h"
#include "store/store.h"

/* The session reads transfer details through libcurl's own functions. */
static const capsess_curl libcurl_fns = {curl_easy_getinfo, curl_easy_strerror};

CURLcode capture_perform(reqlog *r, CURL *easy, const capture_meta *m, capture_result *res) {
  capture_meta none = {0};
  if (!m)
    m = &none;
  if (res)
    memset(res, 0, sizeof *res);
  if (!r || !r->st)
    return curl_easy_perform(easy);

  pthread_rwlock_rdlock(&r->cfg);
  size_t cap_bytes = r->body_cap;
  char source[16];
  memcpy(source, r->source, sizeof source);
  pthread_rwlock_unlock(&r->cfg);

  record *rec = record_new(cap_bytes);
  if (!rec) {
    handle_report(r, REQLOG_ERR_NOMEM, "recording failed: out of memory");
    if (res)
      res->record_err = REQLOG_ERR_NOMEM;
    return curl_easy_perform(easy);
  }
  rec->started_us = util_now_us();
  rec->attempt = m->attempt > 0 ? m->attempt : 1;
  rec->retry_of_seq = m->retry_of_seq;
  rec->replay_of = m->replay_of;
  rec->queued_us = m->queued_us;
  memcpy(rec->source, m->source ? m->source : source, sizeof rec->source);
  rec->source[sizeof rec->source - 1] = '\0';

  capsess_chain chain = {m->user_fn, m->user_data, m->user_verbose, NULL};
  capsess sess;
  capsess_init(&sess, rec, &chain);
  curl_easy_setopt(easy, CURLOPT_DEBUGFUNCTION, capsess_debug);
  curl_easy_setopt(easy, CURLOPT_DEBUGDATA, &sess);
  curl_easy_setopt(easy, CURLOPT_VERBOSE, 1L);
  CURLcode code = curl_easy_perform(easy);
  curl_easy_setopt(easy, CURLOPT_DEBUGFUNCTION, m->user_fn);
  curl_easy_setopt(easy, CURLOPT_DEBUGDATA, m->user_data);
  curl_easy_setopt(easy, CURLOPT_VERBOSE, m->user_verbose);
  capsess_finish(&sess, easy, code, &libcurl_fns);
  if (m->key_fp && rec->req_head_len == 0) /* no header went out: name the key it carried */
    snprintf(rec->key_fp, sizeof rec->key_fp, "%s", m->key_fp);

  uint64_t seq = 0;
  int64_t row_id = 0;
  reqlog_err err = store_submit(r->st, rec, &seq, &row_id);
  if (res) {
    res->seq = seq;
    res->row_id = row_id;
    res->record_err = err;
  }
  return code;
}

CURLcode reqlog_easy_perform(reqlog *r, CURL *easy) {
  return capture_perform(r, easy, NULL, NULL);
}

CURLcode reqlog_easy_perform_debug(reqlog *r, CURL *easy, curl_debug_callback fn,
                                   void *data, long verbose) {
  capture_meta m = {0};
  m.user_fn = fn;
  m.user_data = data;
  m.user_verbose = verbose;
  if (!r || !r->st) {
    curl_easy_setopt(easy, CURLOPT_DEBUGFUNCTION, fn);
    curl_easy_setopt(easy, CURLOPT_DEBUGDATA, data);
    curl_easy_setopt(easy, CURLOPT_VERBOSE, verbose);
    return curl_easy_perform(easy);
  }
  return capture_perform(r, easy, &m, NULL);
}
