/* testupstream.h: a scripted HTTP upstream in the test's own process, for tests that pin
 * down what a proxy sends upstream and how it takes every kind of answer. A thread
 * listens on 127.0.0.1 (a port from the kernel), accepts any number of connections and,
 * for each request it reads (head, then a Content-Length or chunked body), keeps the raw
 * bytes it received and answers with the next step of its script: a byte string written
 * at once or in pieces, then the connection kept, closed or reset. Every wait is bounded
 * (poll); nothing of it asserts (it runs off the test's thread). */
#ifndef TESTUPSTREAM_H
#define TESTUPSTREAM_H

#include <stddef.h>

/* What becomes of the connection once a step's reply is written. */
typedef enum {
  TUP_KEEP = 0,  /* kept for the next request (or the peer's close) */
  TUP_CLOSE,     /* closed (FIN) */
  TUP_RESET      /* reset: SO_LINGER 0, then closed (RST) */
} tup_after;

/* The answer to one request. */
typedef struct tup_step {
  const char *reply;  /* bytes written back; NULL: nothing (then AFTER) */
  size_t len;         /* REPLY's length; 0: strlen(REPLY) */
  size_t piece;       /* write in pieces of this many bytes (0: at once) ... */
  int pause_ms;       /* ... with this pause between them */
  int early;          /* answer once the head is in, then read the body (if it comes) */
  tup_after after;
} tup_step;

typedef struct tup tup;

/* Starts the upstream (NULL when it cannot listen). */
tup *tup_start(void);
/* Stops its thread, closes every connection and frees U. */
void tup_stop(tup *u);
int tup_port(const tup *u);
/* Gives U the N steps of its next script (STEPS must outlive it), forgetting the requests
 * it kept and its counts. A request that finds no step left is not answered: its
 * connection is closed. Connections still open stay. */
void tup_script(tup *u, const tup_step *steps, int n);
/* Waits (at most MS ms) until U has read N requests since the script was given (a request
 * is kept once its body is read, before its answer is written): returns how many it has. */
int tup_wait_requests(tup *u, int n, int ms);
/* Waits (at most MS ms) until U has closed N of the connections accepted since the script
 * was given (after a step, or because the peer closed): returns how many it has. */
int tup_wait_closed(tup *u, int n, int ms);
/* The raw bytes of request I since the script (head and body as received; malloc'd,
 * NUL-terminated, length in *LEN when not NULL), or NULL when there is no such request. */
char *tup_request(tup *u, int i, size_t *len);
/* The connection (numbered from 1 in order of acceptance, over U's life) request I came on. */
int tup_request_conn(tup *u, int i);
/* Connections accepted since the script was given. */
int tup_accepted(tup *u);

#endif
