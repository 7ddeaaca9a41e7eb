/* conns.h: the dashboard's own account of its connections, for what MHD's limits do not
 * cover (API.md, Security):
 *   - a request must arrive whole within WEB_REQUEST_DEADLINE_MS of the connection's
 *     accept, or of the end of the previous response on a kept-alive connection,
 *     however slowly its bytes trickle in (MHD's idle timeout restarts with each byte);
 *   - few connections may wait for their request at once: past WEB_WAITING_PER_IP from
 *     one address (WEB_WAITING_TOTAL in all), a new connection closes the one that has
 *     waited longest, so slow clients cannot fill the per-address limit and lock out a
 *     client that sends its request at once (on loopback, every client is one address);
 *   - live streams (which have no timeout) are capped per address and in all.
 * MHD runs a thread per connection; these functions are called from those threads,
 * from MHD's listening thread and from the reaper thread, under the registry's lock. */
#ifndef REQLOG_WEB_CONNS_H
#define REQLOG_WEB_CONNS_H

#include <pthread.h>
#include <stdint.h>
#include <microhttpd.h>

enum {
  WEB_REQUEST_DEADLINE_MS = 10000,
  WEB_WAITING_PER_IP = 40,   /* under the server's per-address limit (64), and over the
                                32 kept-alive connections of a busy client (wrk -c32),
                                whose idle ones must not be cut (16 churned them) */
  WEB_WAITING_TOTAL = 48,
  WEB_STREAMS_PER_IP = 8,
  WEB_STREAMS_TOTAL = 16
};

struct web_conn;

typedef struct web_conns {
  pthread_mutex_t lock;
  struct web_conn *head;   /* every open connection, newest first */
  pthread_t reaper;
  int reaper_running;
} web_conns;

struct web_server;

void conns_init(web_conns *c);
/* Starts the thread that cuts overdue connections about four times a second, until the
 * server stops (web_stopping). Returns 0 or -1. */
int conns_start_reaper(struct web_server *s);
/* Stops the reaper (the caller set the server's stopping flag and woke it). */
void conns_stop_reaper(web_conns *c);
void conns_destroy(web_conns *c);

/* MHD_OPTION_NOTIFY_CONNECTION's callback; CLS is the server (web_int.h). */
void conns_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                  enum MHD_ConnectionNotificationCode code);

/* The request on CONN arrived whole: it is no longer held to the deadline. */
void conns_request_received(web_conns *c, struct MHD_Connection *conn);
/* The response on CONN is done: the connection waits for its next request. */
void conns_request_done(web_conns *c, struct MHD_Connection *conn);

/* Counts CONN as a live stream. Returns 0, or -1 when the cap of its address or of the
 * server is reached (then nothing is counted). */
int conns_stream_begin(web_conns *c, struct MHD_Connection *conn);

#endif
