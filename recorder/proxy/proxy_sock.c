/* proxy_sock.c: libcurl's sockets in an event loop's epoll set. libcurl opens, closes and
 * says what it waits for on each socket through the callbacks here, and the loop hands
 * each socket's events back through proxy_sock_event. A socket the proxy opened stays in
 * the epoll set (for input) while its connection idles in libcurl's cache, so the next
 * exchange on it costs no epoll_ctl; an event on it while idle takes it out. Opening is
 * also where a destination the proxy refuses (a dashboard, the proxy itself) is caught. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy/proxy_int.h"

/* What the loop knows of a libcurl socket. */
#define SOCK_OURS 1u     /* opened by proxy_sock_open, closed by proxy_sock_close */
#define SOCK_IN_SET 2u   /* in the loop's epoll set ... */
#define SOCK_IN 4u       /* ... for input */
#define SOCK_OUT 8u      /* ... for output */
#define SOCK_WANTED 16u  /* libcurl waits on it now */

/* The loop's record of libcurl socket FD (grown as needed), or NULL when memory ran out. */
static unsigned char *sock_state(loop *p, int fd) {
  if (fd < 0)
    return NULL;
  if ((size_t)fd >= p->nsock) {
    size_t n = p->nsock ? p->nsock : 256;
    while (n <= (size_t)fd)
      n *= 2;
    unsigned char *st = realloc(p->sock, n);
    if (!st)
      return NULL;
    memset(st + p->nsock, 0, n - p->nsock);
    p->sock = st;
    p->nsock = n;
  }
  return &p->sock[fd];
}

curl_socket_t proxy_sock_open(void *arg, curlsocktype purpose, struct curl_sockaddr *a) {
  exchange *ex = arg;
  const proxy_guard *g = proxy_net_refused(&ex->p->px->net, &a->addr);
  if (g) {
    ex->refused = g;
    ex->why = WHY_REFUSED;
    return CURL_SOCKET_BAD;
  }
  int fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
  unsigned char *st = sock_state(ex->p, fd);
  if (st)
    *st = SOCK_OURS; /* new, so in no epoll set */
  return fd;
}

/* Every socket proxy_sock_open made is closed here: closing takes it out of the loop's
 * epoll set, and the record says so. ARG is the loop (a connection outlives exchanges). */
int proxy_sock_close(void *arg, curl_socket_t fd) {
  unsigned char *st = sock_state(arg, fd);
  if (st)
    *st = 0;
  return close(fd);
}

int proxy_sock_watch(CURL *e, curl_socket_t s, int what, void *userp, void *socketp) {
  loop *p = userp;
  unsigned char *st = sock_state(p, s);
  unsigned have = st ? *st : 0;
  if (what == CURL_POLL_REMOVE) {
    if (have & SOCK_OURS) { /* idle in the connection cache: stays in the set */
      *st = (unsigned char)(have & ~SOCK_WANTED);
      return 0;
    }
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, s, NULL);
    if (st)
      *st = 0;
    return 0;
  }
  unsigned want = ((what & CURL_POLL_IN) ? SOCK_IN : 0u) | ((what & CURL_POLL_OUT) ? SOCK_OUT : 0u);
  if (st && (have & SOCK_IN_SET) && (have & (SOCK_IN | SOCK_OUT)) == want) {
    *st = (unsigned char)(have | SOCK_WANTED);
    return 0;
  }
  struct epoll_event ev = {0};
  ev.events = ((want & SOCK_IN) ? EPOLLIN : 0u) | ((want & SOCK_OUT) ? EPOLLOUT : 0u);
  ev.data.fd = s;
  int op = (have & SOCK_IN_SET) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (epoll_ctl(p->epfd, op, s, &ev) != 0) {
    int again = errno == EEXIST ? EPOLL_CTL_MOD : errno == ENOENT ? EPOLL_CTL_ADD : -1;
    if (again < 0 || epoll_ctl(p->epfd, again, s, &ev) != 0)
      return -1; /* libcurl fails the transfers on this socket */
  }
  if (st)
    *st = (unsigned char)((have & SOCK_OURS) | SOCK_IN_SET | want | SOCK_WANTED);
  return 0;
}

/* Handed to libcurl, unless the socket idles in its cache (the upstream closed it, say),
 * which takes it out of the set until libcurl wants it. */
void proxy_sock_event(loop *p, int fd, uint32_t events) {
  unsigned char *st = fd < 0 || (size_t)fd >= p->nsock ? NULL : &p->sock[fd];
  if (st && (*st & SOCK_IN_SET) && !(*st & SOCK_WANTED)) {
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, NULL);
    *st &= SOCK_OURS;
    return;
  }
  int what = ((events & EPOLLIN) ? CURL_CSELECT_IN : 0) |
             ((events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
             ((events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
  int running = 0;
  curl_multi_socket_action(p->multi, fd, what, &running);
}
