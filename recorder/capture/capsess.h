/* capsess.h: a capture session, the state machine that turns libcurl's debug stream of
 * one transfer into a record. It has no store and no reqlog handle, so both the library
 * (capture.c) and the exec shim (shim/, preloaded into other programs) use it.
 *
 * Use: capsess_init, install capsess_debug as the transfer's CURLOPT_DEBUGFUNCTION with
 * the session as CURLOPT_DEBUGDATA and CURLOPT_VERBOSE 1, run the transfer, put the
 * caller's debug settings back, then capsess_finish. A session belongs to the thread
 * that drives its transfer. */
#ifndef REQLOG_CAPSESS_H
#define REQLOG_CAPSESS_H

#include <stdio.h>
#include <curl/curl.h>

#include "base/dynbuf.h"
#include "capture/bodydec.h"
#include "capture/record.h"

/* Largest request or response header block kept; the rest of a larger one is dropped. */
#define CAPSESS_HEAD_MAX (1024 * 1024)

/* The libcurl functions a session calls. The library passes libcurl's own; the shim
 * passes the ones it resolved with dlsym(RTLD_NEXT), because the traced program's
 * libcurl (e.g. libcurl-gnutls) need not be the one the shim was linked with. */
typedef struct capsess_curl {
  CURLcode (*getinfo)(CURL *easy, CURLINFO info, ...);
  const char *(*strerror)(CURLcode code);
} capsess_curl;

/* The debug settings of whoever owns the transfer, to which the stream is passed on:
 * when VERBOSE is non-zero, to FN with DATA, or (FN NULL) as libcurl's default would
 * print it, to ERR (NULL: stderr). */
typedef struct capsess_chain {
  curl_debug_callback fn;
  void *data;
  long verbose;
  FILE *err;
} capsess_chain;

typedef struct capsess {
  record *rec;
  const capsess_chain *chain;
  dynbuf req_head, resp_head; /* capped at CAPSESS_HEAD_MAX with the NUL */
  bodydec reqdec, respdec;
  int req_dec_ready, resp_dec_ready;
  int resp_seen;         /* a status line arrived for the current request */
  char last_text[256];   /* the last informational line, for transport errors */
} capsess;

/* Starts a session that captures into REC (a record_new'd record; the caller keeps
 * owning it). CHAIN (may be NULL: nothing is passed on) is read during the transfer, so
 * it must outlive the session; its fields may change between debug calls. */
void capsess_init(capsess *s, record *rec, const capsess_chain *chain);

/* The CURLOPT_DEBUGFUNCTION of a session (the capsess as its CURLOPT_DEBUGDATA):
 * copies what it sees into the record and passes it on as the chain says. Returns 0. */
int capsess_debug(CURL *easy, curl_infotype type, char *data, size_t size, void *sess);

/* Non-zero when a response (a status line) arrived for the transfer's last request. */
int capsess_got_response(const capsess *s);

/* Ends the session after the transfer on EASY ended with CODE: fills the record from
 * what libcurl reports through FNS (method, URL, status, error text, timing phases,
 * version, address, content type) and hands it the captured header blocks. Frees what
 * the session held; the record stays the caller's. */
void capsess_finish(capsess *s, CURL *easy, CURLcode code, const capsess_curl *fns);

/* Ends the session without filling the record (the transfer never ran). */
void capsess_discard(capsess *s);

#endif
