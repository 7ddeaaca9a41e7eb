/* conns.c: the connection registry of conns.h. A record is made when MHD accepts a
 * connection and dropped when MHD closes it; MHD calls the CLOSED notice before it
 * closes the socket, so a record's fd is the connection's own for as long as the record
 * is linked, and shutdown() on it under the lock can only reach that connection. A
 * shutdown wakes the connection's thread, which sees the end of input and closes. */
#include "conns.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "web_int.h"

enum { REAP_EVERY_MS = 250 };

typedef struct web_conn {
  struct web_conn *prev, *next;
  int fd;
  unsigned char ip[16];    /* the peer's address (IPv4 in the first 4 bytes) */
  int family;
  int64_t since_ms;        /* when it began to wait for its current request */
  int waiting;             /* no whole request yet: held to the deadline */
  int stream;              /* serves a live stream */
  int cut;                 /* shut down by us: closing */
} web_conn;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_peer(web_conn *w, struct MHD_Connection *conn) {
  const union MHD_ConnectionInfo *info =
    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  const struct sockaddr *sa = info ? info->client_addr : NULL;
  w->family = sa ? sa->sa_family : AF_UNSPEC;
  if (w->family == AF_INET)
    memcpy(w->ip, &((const struct sockaddr_in *)sa)->sin_addr, 4);
  else if (w->family == AF_INET6)
    memcpy(w->ip, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
}

static int same_peer(const web_conn *a, const web_conn *b) {
  return a->family == b->family && memcmp(a->ip, b->ip, sizeof a->ip) == 0;
}

static int socket_of(struct MHD_Connection *conn) {
  const union MHD_ConnectionInfo *info =
    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  return info ? info->connect_fd : -1;
}

static web_conn *record_of(struct MHD_Connection *conn) {
  const union MHD_ConnectionInfo *info =
    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return info ? info->socket_context : NULL;
}

/* Under the lock. */
static void cut(web_conn *w) {
  w->cut = 1;
  w->waiting = 0;
  if (w->fd >= 0)
    shutdown(w->fd, SHUT_RDWR);
}

/* Under the lock: the connections waiting for a request, from W's address (PEER) and
 * in all. */
static void count_waiting(const web_conns *c, const web_conn *peer, int *same, int *all) {
  *same = *all = 0;
  for (const web_conn *w = c->head; w; w = w->next) {
    if (!w->waiting)
      continue;
    (*all)++;
    *same += same_peer(w, peer);
  }
}

/* Under the lock: cuts the connection that has waited longest, other than KEEP; from
 * KEEP's address only when SAME_PEER. Returns 0, or -1 when there is none. */
static int cut_longest_waiting(web_conns *c, const web_conn *keep, int only_same_peer) {
  web_conn *oldest = NULL;
  for (web_conn *w = c->head; w; w = w->next)
    if (w != keep && w->waiting && (!only_same_peer || same_peer(w, keep)) &&
        (!oldest || w->since_ms <= oldest->since_ms))
      oldest = w;
  if (!oldest)
    return -1;
  cut(oldest);
  return 0;
}

static void started(web_conns *c, struct MHD_Connection *conn, void **socket_context) {
  web_conn *w = calloc(1, sizeof *w);
  if (!w) { /* cannot be held to the deadline: not served */
    int fd = socket_of(conn);
    if (fd >= 0)
      shutdown(fd, SHUT_RDWR);
    return;
  }
  w->fd = socket_of(conn);
  set_peer(w, conn);
  w->since_ms = now_ms();
  w->waiting = 1;
  pthread_mutex_lock(&c->lock);
  w->next = c->head;
  if (c->head)
    c->head->prev = w;
  c->head = w;
  int same, all;
  count_waiting(c, w, &same, &all);
  while (same > WEB_WAITING_PER_IP && cut_longest_waiting(c, w, 1) == 0)
    count_waiting(c, w, &same, &all);
  while (all > WEB_WAITING_TOTAL && cut_longest_waiting(c, w, 0) == 0)
    count_waiting(c, w, &same, &all);
  pthread_mutex_unlock(&c->lock);
  *socket_context = w;
}

static void closed(web_conns *c, void **socket_context) {
  web_conn *w = *socket_context;
  if (!w)
    return;
  pthread_mutex_lock(&c->lock);
  if (w->prev)
    w->prev->next = w->next;
  else
    c->head = w->next;
  if (w->next)
    w->next->prev = w->prev;
  pthread_mutex_unlock(&c->lock);
  free(w);
  *socket_context = NULL;
}

void conns_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                  enum MHD_ConnectionNotificationCode code) {
  struct web_server *s = cls;
  if (code == MHD_CONNECTION_NOTIFY_STARTED)
    started(&s->conns, conn, socket_context);
  else if (code == MHD_CONNECTION_NOTIFY_CLOSED)
    closed(&s->conns, socket_context);
}

/* Sets CONN's record waiting (since now) or not; a request's end also ends its stream
 * (a kept-alive connection may ask for something else next). */
static void set_waiting(web_conns *c, struct MHD_Connection *conn, int waiting) {
  web_conn *w = record_of(conn);
  if (!w)
    return;
  pthread_mutex_lock(&c->lock);
  if (!w->cut) {
    w->waiting = waiting;
    w->since_ms = now_ms();
  }
  if (waiting)
    w->stream = 0;
  pthread_mutex_unlock(&c->lock);
}

void conns_request_received(web_conns *c, struct MHD_Connection *conn) {
  set_waiting(c, conn, 0);
}

void conns_request_done(web_conns *c, struct MHD_Connection *conn) {
  set_waiting(c, conn, 1);
}

int conns_stream_begin(web_conns *c, struct MHD_Connection *conn) {
  web_conn *me = record_of(conn);
  if (!me)
    return -1;
  pthread_mutex_lock(&c->lock);
  int same = 0, all = 0;
  for (const web_conn *w = c->head; w; w = w->next) {
    if (!w->stream || w->cut)
      continue;
    all++;
    same += same_peer(w, me);
  }
  int ok = same < WEB_STREAMS_PER_IP && all < WEB_STREAMS_TOTAL;
  if (ok)
    me->stream = 1;
  pthread_mutex_unlock(&c->lock);
  return ok ? 0 : -1;
}

/* Cuts every connection whose request is overdue. */
static void reap(web_conns *c) {
  int64_t now = now_ms();
  pthread_mutex_lock(&c->lock);
  for (web_conn *w = c->head; w; w = w->next)
    if (w->waiting && now - w->since_ms >= WEB_REQUEST_DEADLINE_MS)
      cut(w);
  pthread_mutex_unlock(&c->lock);
}

static void *reaper(void *arg) {
  struct web_server *s = arg;
  while (!web_sleep(s, REAP_EVERY_MS))
    reap(&s->conns);
  return NULL;
}

void conns_init(web_conns *c) {
  memset(c, 0, sizeof *c);
  pthread_mutex_init(&c->lock, NULL);
}

int conns_start_reaper(struct web_server *s) {
  if (pthread_create(&s->conns.reaper, NULL, reaper, s) != 0)
    return -1;
  s->conns.reaper_running = 1;
  return 0;
}

void conns_stop_reaper(web_conns *c) {
  if (c->reaper_running)
    pthread_join(c->reaper, NULL);
  c->reaper_running = 0;
}

void conns_destroy(web_conns *c) {
  /* MHD_stop_daemon() closed every connection, so the list is empty */
  pthread_mutex_destroy(&c->lock);
}
