/* testupstream.c: the scripted upstream (see testupstream.h): one thread polls the
 * listening socket and every open connection; a connection with bytes gets one request
 * read (testwire.c) and answered by the script's next step. */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "testupstream.h"
#include "testwire.h"

#define MAX_CONNS 32
#define MAX_REQS 64
#define READ_MS 5000 /* the longest wait for the next bytes of a request */

struct tup {
  int lfd, port, wake[2];
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  /* under mu: the script and what happened since it was given */
  const tup_step *steps;
  int nsteps, next;
  char *req[MAX_REQS];
  size_t reqlen[MAX_REQS];
  int reqconn[MAX_REQS];
  int nreq, accepted, closed;
  int seq;        /* the last connection's number */
  int first;      /* the first connection's number since the script */
  /* the thread's own */
  tm_sock conns[MAX_CONNS];
  int connid[MAX_CONNS];
  int nconns;
};

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

/* Closes connection I (RESET: with an RST) and counts it when it was accepted since the
 * script; the slot is emptied (fd -1). */
static void drop(tup *u, int i, int reset) {
  if (reset) {
    struct linger l = {1, 0};
    setsockopt(u->conns[i].fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  tm_sock_close(&u->conns[i]);
  pthread_mutex_lock(&u->mu);
  if (u->connid[i] >= u->first)
    u->closed++;
  pthread_cond_broadcast(&u->cv);
  pthread_mutex_unlock(&u->mu);
}

static void keep_request(tup *u, int i, const tm_msg *m) {
  pthread_mutex_lock(&u->mu);
  if (u->nreq < MAX_REQS) {
    char *copy = malloc(m->rawlen + 1);
    if (copy) {
      memcpy(copy, m->raw ? m->raw : "", m->rawlen);
      copy[m->rawlen] = '\0';
    }
    u->req[u->nreq] = copy;
    u->reqlen[u->nreq] = copy ? m->rawlen : 0;
    u->reqconn[u->nreq] = u->connid[i];
    u->nreq++;
  }
  pthread_cond_broadcast(&u->cv);
  pthread_mutex_unlock(&u->mu);
}

static void write_reply(int fd, const tup_step *st) {
  if (!st->reply)
    return;
  size_t len = st->len ? st->len : strlen(st->reply);
  size_t piece = st->piece ? st->piece : len;
  for (size_t off = 0; off < len; off += piece) {
    size_t n = len - off < piece ? len - off : piece;
    if (off && st->pause_ms)
      sleep_ms(st->pause_ms);
    if (tm_write_all(fd, st->reply + off, n) != 0)
      return;
  }
}

/* Connection I has bytes (or its peer closed): one request read and answered. */
static void serve(tup *u, int i) {
  tm_sock *s = &u->conns[i];
  tm_msg m;
  tm_read_request(s, READ_MS, 1, &m);
  if (!m.got_any) { /* the peer closed an idle connection */
    tm_msg_free(&m);
    drop(u, i, 0);
    return;
  }
  pthread_mutex_lock(&u->mu);
  const tup_step *st = u->next < u->nsteps ? &u->steps[u->next++] : NULL;
  pthread_mutex_unlock(&u->mu);
  if (st && st->early)
    write_reply(s->fd, st);
  if (m.headlen == m.rawlen && m.rawlen && !s->eof)
    tm_read_request_body(s, READ_MS, &m);
  keep_request(u, i, &m);
  tm_msg_free(&m);
  if (!st) {
    drop(u, i, 0);
    return;
  }
  if (!st->early)
    write_reply(s->fd, st);
  if (st->after != TUP_KEEP)
    drop(u, i, st->after == TUP_RESET);
}

static void accept_one(tup *u) {
  int fd = accept4(u->lfd, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0)
    return;
  if (u->nconns == MAX_CONNS) {
    close(fd);
    return;
  }
  tm_sock_init(&u->conns[u->nconns], fd);
  pthread_mutex_lock(&u->mu);
  u->connid[u->nconns++] = ++u->seq;
  u->accepted++;
  pthread_cond_broadcast(&u->cv);
  pthread_mutex_unlock(&u->mu);
}

static void *run(void *arg) {
  tup *u = arg;
  for (;;) {
    struct pollfd pf[MAX_CONNS + 2] = {{u->wake[0], POLLIN, 0}, {u->lfd, POLLIN, 0}};
    int n = u->nconns;
    for (int i = 0; i < n; i++)
      pf[2 + i] = (struct pollfd){u->conns[i].fd, POLLIN, 0};
    if (poll(pf, (nfds_t)(n + 2), 1000) < 0 && errno != EINTR)
      break;
    if (pf[0].revents)
      break;
    for (int i = 0; i < n; i++)
      if (pf[2 + i].revents)
        serve(u, i);
    int k = 0; /* the open connections, in order */
    for (int i = 0; i < u->nconns; i++) {
      if (u->conns[i].fd < 0)
        continue;
      u->connid[k] = u->connid[i];
      u->conns[k++] = u->conns[i];
    }
    u->nconns = k;
    if (pf[1].revents)
      accept_one(u);
  }
  return NULL;
}

tup *tup_start(void) {
  tup *u = calloc(1, sizeof *u);
  if (!u)
    return NULL;
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t l = sizeof a;
  u->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (u->lfd < 0 || bind(u->lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
      listen(u->lfd, 64) != 0 || getsockname(u->lfd, (struct sockaddr *)&a, &l) != 0 ||
      pipe(u->wake) != 0) {
    if (u->lfd >= 0)
      close(u->lfd);
    free(u);
    return NULL;
  }
  u->port = ntohs(a.sin_port);
  pthread_mutex_init(&u->mu, NULL);
  pthread_cond_init(&u->cv, NULL);
  if (pthread_create(&u->thread, NULL, run, u) != 0) {
    close(u->lfd);
    close(u->wake[0]);
    close(u->wake[1]);
    free(u);
    return NULL;
  }
  return u;
}

static void forget(tup *u) {
  for (int i = 0; i < u->nreq; i++)
    free(u->req[i]);
  u->nreq = u->accepted = u->closed = 0;
}

void tup_stop(tup *u) {
  if (!u)
    return;
  if (write(u->wake[1], "x", 1) != 1)
    return; /* the thread could not be told: leave it be rather than free under it */
  pthread_join(u->thread, NULL);
  for (int i = 0; i < u->nconns; i++)
    tm_sock_close(&u->conns[i]);
  forget(u);
  close(u->lfd);
  close(u->wake[0]);
  close(u->wake[1]);
  pthread_mutex_destroy(&u->mu);
  pthread_cond_destroy(&u->cv);
  free(u);
}

int tup_port(const tup *u) {
  return u->port;
}

void tup_script(tup *u, const tup_step *steps, int n) {
  pthread_mutex_lock(&u->mu);
  forget(u);
  u->first = u->seq + 1;
  u->steps = steps;
  u->nsteps = n;
  u->next = 0;
  pthread_mutex_unlock(&u->mu);
}

/* Waits (at most MS ms) until *COUNT (under U's mutex) reaches N: its value. */
static int wait_count(tup *u, const int *count, int n, int ms) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += ms / 1000;
  until.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&u->mu);
  while (*count < n && pthread_cond_timedwait(&u->cv, &u->mu, &until) == 0)
    ;
  int got = *count;
  pthread_mutex_unlock(&u->mu);
  return got;
}

int tup_wait_requests(tup *u, int n, int ms) {
  return wait_count(u, &u->nreq, n, ms);
}

int tup_wait_closed(tup *u, int n, int ms) {
  return wait_count(u, &u->closed, n, ms);
}

char *tup_request(tup *u, int i, size_t *len) {
  char *copy = NULL;
  pthread_mutex_lock(&u->mu);
  if (i >= 0 && i < u->nreq && u->req[i]) {
    copy = malloc(u->reqlen[i] + 1);
    if (copy) {
      memcpy(copy, u->req[i], u->reqlen[i] + 1);
      if (len)
        *len = u->reqlen[i];
    }
  }
  pthread_mutex_unlock(&u->mu);
  return copy;
}

int tup_request_conn(tup *u, int i) {
  pthread_mutex_lock(&u->mu);
  int c = i >= 0 && i < u->nreq ? u->reqconn[i] : 0;
  pthread_mutex_unlock(&u->mu);
  return c;
}

int tup_accepted(tup *u) {
  pthread_mutex_lock(&u->mu);
  int n = u->accepted;
  pthread_mutex_unlock(&u->mu);
  return n;
}
