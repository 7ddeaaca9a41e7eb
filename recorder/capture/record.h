/* record.h: one captured transfer as the recording thread saw it, before redaction.
 * It lives only in memory: the writer thread redacts it into a row (row_prepare(),
 * privacy/prepare.h) and frees it. Nothing in a record is ever written to disk as is. */
#ifndef REQLOG_RECORD_H
#define REQLOG_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include "capture/capbuf.h"

typedef struct record {
  struct record *next;        /* queue link */
  uint64_t seq;               /* per-handle sequence number, set by store_submit */
  uint64_t retry_of_seq;      /* seq of the attempt this one retried, 0 for none */
  int64_t replay_of;          /* the row id this call replays, 0 for none */
  int attempt;
  int64_t started_us;         /* wall clock, Unix µs */
  char *method;
  char *url;
  char *req_head;             /* request header block as sent (request line first) */
  size_t req_head_len;
  char *resp_head;            /* final response header block (status line first) */
  size_t resp_head_len;
  capbuf req_body, resp_body;
  long status;                /* 0: no response */
  char *error;                /* transport error text or NULL */
  char *content_type, *http_version, *remote_ip;
  int64_t total_us, queued_us, dns_us, connect_us, tls_us, ttfb_us;
  char source[16];
  char *origin;               /* the origin this call names (an imported HAR's), or NULL
                                 for the store's (reqlog_set_origin) */
  char key_fp[48];            /* the key's fingerprint when no request header block shows
                                 it (the call failed before sending one); "" for none */
  /* A record made by record_new_slab() carries a block of its own, right after it, that
   * record_alloc() hands out: its strings and small bodies then cost no allocation of
   * their own, and the writer thread that frees the record frees one block. */
  char *slab;
  size_t slab_len, slab_cap;
} record;

/* Sets the phases of R (dns_us ... ttfb_us, total_us) from libcurl's cumulative marks
 * (CURLINFO_*_TIME_T, µs since the transfer began), made monotonic and kept within TOTAL,
 * so that the phases add up to at most the total. (record_fill.c) */
void record_set_phases(record *r, int64_t namelookup, int64_t connect, int64_t appconnect,
                       int64_t starttransfer, int64_t total);

/* "HTTP/1.1", "HTTP/2"… for a CURLINFO_HTTP_VERSION value; NULL when unknown. */
const char *record_version_text(long curl_http_version);

/* A zeroed record with both bodies capped at CAP, or NULL. */
record *record_new(size_t cap);
/* The same with SLAB bytes for record_alloc(), in the record's own allocation. */
record *record_new_slab(size_t cap, size_t slab);
/* N bytes from R's slab, or NULL when they do not fit there. */
void *record_slab_take(record *r, size_t n);
/* N bytes from R's slab when they fit, else from malloc; NULL when memory ran out.
 * Either way the memory is R's: record_free() releases it, nothing else may free it. */
void *record_alloc(record *r, size_t n);
/* A NUL-terminated copy of S[0..N) from record_alloc(). */
char *record_strndup(record *r, const char *s, size_t n);
/* The free-able size of what R holds (the record, its slab, its bodies' buffers). */
size_t record_mem_bytes(const record *r);
/* Frees R and every field: a field from R's slab is not freed on its own. */
void record_free(record *r);

#endif
