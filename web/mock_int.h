/* mock_int.h: what the mock server's files share (include/reqlog_mock.h is its
 * interface): the server, one request, and the answers (mock_reply.c). */
#ifndef REQLOG_WEB_MOCK_INT_H
#define REQLOG_WEB_MOCK_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <microhttpd.h>

#include "reqlog_mock.h"

/* Request bodies above this are refused with 413 (a recorded body is capped at the
 * history's body cap, 1 MiB by default; a client of an API sends less). */
#define MOCKD_MAX_BODY ((size_t)16 * 1024 * 1024)

typedef struct mockd_miss {
  char *method, *target;
  int64_t count;
} mockd_miss;

struct mockd {
  struct MHD_Daemon *daemon;
  const reqlog_mock *mock;
  char *url;
  char host[300];          /* as in Host headers: lower case, IPv6 in brackets */
  unsigned port;
  int wildcard;
  mockd_unmatched_fn unmatched;
  void *ctx;
  pthread_mutex_t lock;    /* the counts and the misses */
  int64_t answered, missed;
  mockd_miss misses[MOCKD_UNMATCHED_KEPT];
  size_t nmisses;
};

/* One request, made by the URI logger (which sees the target as sent), freed when MHD
 * says the request is complete. */
typedef struct mockd_req {
  char *target;            /* path and query as sent */
  int started;             /* the access handler saw the headers */
  int answered;
  unsigned char *body;
  size_t len, cap;
  int too_large;
} mockd_req;

/* The answer of CALL (the recorded response) to CONN, matched as KIND. */
enum MHD_Result mockd_reply_call(struct MHD_Connection *conn, const reqlog_mock_call *call,
                                 reqlog_mock_match_kind kind);
/* 404 {"message": ..., "request": {...}, "closest": [...]} for a request no call
 * matched. */
enum MHD_Result mockd_reply_none(struct MHD_Connection *conn, const reqlog_mock *m,
                                 const reqlog_mock_request *req);
/* {"message": MESSAGE} with STATUS, from the mock (X-Reqlog-Mock-Match: none). */
enum MHD_Result mockd_reply_message(struct MHD_Connection *conn, unsigned status,
                                    const char *message);

#endif
