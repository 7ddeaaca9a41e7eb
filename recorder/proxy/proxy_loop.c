/* proxy_loop.c: one event loop of the proxy and its thread. MHD in external epoll mode
 * reads the requests and writes the answers, a libcurl multi handle (socket interface,
 * its own cache of keep-alive upstream connections) runs the transfers, and both sit in
 * the loop's epoll set with an eventfd reqlog_proxy_stop() writes to. Each turn runs what
 * is due: libcurl's sockets and timer, the transfers that ended, the check for a silent
 * upstream, MHD; once stop is asked, the loop ends its transfers, lets the last answers
 * go out and returns. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/util.h"
#include "proxy/proxy_int.h"

#define MAX_CONNECTS 256L          /* idle upstream connections kept for keep-alive */
#define SCAN_MS 50                 /* how often transfers are checked for a silent upstream */
#define STOP_FLUSH_MS 200          /* how long stop lets the last answers go out */
#define EVENTS 64
#define SLOW_TURN_US 1000         /* a turn longer than this is counted as slow */

static int on_timer(CURLM *m, long timeout_ms, void *userp) {
  loop *p = userp;
  p->curl_due = timeout_ms < 0 ? -1 : p->now + (int64_t)timeout_ms * 1000;
  return 0;
}

/* Ends transfers whose upstream has been silent for timeout_ms while the proxy waited for
 * it (not while a direction waits for the client). */
static void end_silent(loop *p, int64_t now) {
  int64_t limit = (int64_t)p->px->timeout_ms * 1000;
  exchange *next;
  for (exchange *ex = p->active; ex; ex = next) {
    next = ex->next;
    if (ex->recv_paused || (ex->send_paused && !ex->req_eof))
      continue;
    if (now - ex->last_activity >= limit)
      proxy_transfer_finish(ex, CURLE_OPERATION_TIMEDOUT, WHY_TIMEOUT);
  }
}

/* Stop: no new connections; transfers under way end (their rows say so) and their
 * clients are answered (503, or a cut body); requests from here on get a 503. */
static void begin_stop(loop *p, int64_t now) {
  p->stopping = 1;
  p->stop_at = now + (int64_t)STOP_FLUSH_MS * 1000;
  MHD_quiesce_daemon(p->daemon); /* the listening socket is closed once, by stop */
  exchange *next;
  for (exchange *ex = p->active; ex; ex = next) {
    next = ex->next;
    proxy_transfer_finish(ex, CURLE_ABORTED_BY_CALLBACK, WHY_STOPPED);
  }
}

static int stop_done(loop *p, int64_t now) {
  if (p->active || p->settling || p->nsuspended)
    return 0;
  const union MHD_DaemonInfo *i = MHD_get_daemon_info(p->daemon,
                                                      MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
  return now >= p->stop_at || !i || i->num_connections == 0;
}

/* How long the loop may sleep: until libcurl's, MHD's or the silence check's next due. */
static int sleep_ms(loop *p, int64_t now) {
  MHD_UNSIGNED_LONG_LONG mt = 0;
  p->mhd_due = now + 1000000;
  if (MHD_get_timeout(p->daemon, &mt) == MHD_YES && mt < 1000)
    p->mhd_due = now + (int64_t)mt * 1000;
  if (p->resumed)
    return 0;
  int64_t due = p->mhd_due;
  if (p->curl_due >= 0 && p->curl_due < due)
    due = p->curl_due;
  if (p->active && p->next_scan < due)
    due = p->next_scan;
  if (p->stopping && p->stop_at < due)
    due = p->stop_at;
  return due <= now ? 0 : (int)((due - now + 999) / 1000);
}

/* Hands the N events EV to their owners. Returns non-zero when MHD has work. */
static int dispatch(loop *p, const struct epoll_event *ev, int n) {
  int run_mhd = 0;
  for (int i = 0; i < n; i++) {
    int fd = ev[i].data.fd;
    if (fd == p->mhdfd) {
      run_mhd = 1;
    } else if (fd == p->wakefd) {
      uint64_t v;
      if (read(p->wakefd, &v, sizeof v) < 0 && errno != EAGAIN)
        run_mhd = 1;
    } else if (proxy_h1_owns(p, fd)) {
      proxy_h1_event(p, fd, ev[i].events);
    } else {
      proxy_sock_event(p, fd, ev[i].events);
    }
  }
  return run_mhd;
}

/* Counts a turn whose work took US (reqlog_proxy_stats); only this thread writes. */
static void count_turn(loop *p, uint64_t us) {
  atomic_store_explicit(&p->turns, atomic_load_explicit(&p->turns, memory_order_relaxed) + 1,
                        memory_order_relaxed);
  if (us > SLOW_TURN_US)
    atomic_store_explicit(&p->slow_turns,
                          atomic_load_explicit(&p->slow_turns, memory_order_relaxed) + 1,
                          memory_order_relaxed);
  if (us > atomic_load_explicit(&p->turn_max_us, memory_order_relaxed))
    atomic_store_explicit(&p->turn_max_us, us, memory_order_relaxed);
}

#define MHD_AGAIN 3                /* MHD runs a turn may add when it asks to run again */

/* Runs MHD, and the transfers its callbacks start (libcurl asks for a zero timeout: they
 * start now rather than after another epoll_wait), and again while MHD has work at once:
 * a connection resumed meanwhile (an answer already here), or, after an answer, the end
 * of the request and the connection's return to reading, for which MHD asks to run
 * again right away (a timeout of 0) and would otherwise cost a turn of the loop each. */
static void run_daemon(loop *p) {
  for (int i = 0; i <= MHD_AGAIN; i++) {
    p->resumed = 0;
    MHD_run(p->daemon);
    proxy_transfer_run_timer(p);
    MHD_UNSIGNED_LONG_LONG mt = 1;
    if (!p->resumed && (MHD_get_timeout(p->daemon, &mt) != MHD_YES || mt > 0))
      break;
  }
}

void *proxy_loop_main(void *arg) {
  loop *p = arg;
  pthread_setname_np(pthread_self(), "reqlog-proxy");
  struct epoll_event ev[EVENTS];
  int64_t end = util_mono_us();
  for (;;) {
    int n = epoll_wait(p->epfd, ev, EVENTS, sleep_ms(p, end));
    p->now = util_mono_us();
    int run_mhd = dispatch(p, ev, n);
    int64_t now = p->now;
    proxy_transfer_run_timer(p);
    proxy_transfer_reap(p);
    if (p->active && now >= p->next_scan) {
      end_silent(p, now);
      p->next_scan = now + (int64_t)SCAN_MS * 1000;
    }
    if (!p->stopping && atomic_load(&p->px->stop_asked))
      begin_stop(p, now);
    if (run_mhd || p->resumed || now >= p->mhd_due)
      run_daemon(p);
    /* the records of the transfers that ended, now that their answers are out */
    proxy_transfer_settle(p);
    end = util_mono_us();
    count_turn(p, (uint64_t)(end - now));
    if (p->stopping && stop_done(p, end))
      break;
  }
  MHD_stop_daemon(p->daemon); /* closes the connections left (idle keep-alive ones) */
  p->daemon = NULL;
  return NULL;
}

void proxy_loop_free(loop *p) {
  if (p->daemon) {
    MHD_quiesce_daemon(p->daemon); /* the shared listening socket stays open */
    MHD_stop_daemon(p->daemon);
  }
  proxy_h1_free(p);
  for (int i = 0; i < p->npool; i++)
    curl_easy_cleanup(p->pool[i]);
  if (p->multi)
    curl_multi_cleanup(p->multi); /* closes cached connections through proxy_sock_close */
  if (p->epfd >= 0)
    close(p->epfd);
  if (p->wakefd >= 0)
    close(p->wakefd);
  free(p->sock);
}

static int watch(int epfd, int fd) {
  struct epoll_event ev = {0};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* Loop P's multi handle, with its socket and timer callbacks. */
static reqlog_err multi_init(loop *p, char **cause) {
  CURLMcode rc = curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, proxy_sock_watch);
  if (rc == CURLM_OK)
    rc = curl_multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p);
  if (rc == CURLM_OK)
    rc = curl_multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, on_timer);
  if (rc == CURLM_OK)
    rc = curl_multi_setopt(p->multi, CURLMOPT_TIMERDATA, p);
  if (rc == CURLM_OK)
    rc = curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, MAX_CONNECTS);
  if (rc != CURLM_OK)
    return util_fail(cause, REQLOG_ERR_IO, "cannot set up libcurl: %s", curl_multi_strerror(rc));
  return REQLOG_OK;
}

/* Loop P's MHD daemon on the shared listening socket, polled by the loop
 * (suspend/resume being how a connection waits), its epoll descriptor in P's set. */
static reqlog_err daemon_init(loop *p, char **cause) {
  unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO;
  if (strchr(p->px->url + 7, '['))
    flags |= MHD_USE_IPv6;
  p->daemon = MHD_start_daemon(
    flags, 0, NULL, NULL, proxy_client_on_request, p,
    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)p->px->listen_fd,
    MHD_OPTION_URI_LOG_CALLBACK, proxy_client_on_uri, p,
    MHD_OPTION_NOTIFY_COMPLETED, proxy_client_on_completed, p,
    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1024,
    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)512,
    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
    MHD_OPTION_END);
  const union MHD_DaemonInfo *info =
    p->daemon ? MHD_get_daemon_info(p->daemon, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
  if (!info || (p->mhdfd = info->epoll_fd) < 0 || watch(p->epfd, p->mhdfd) != 0)
    return util_fail(cause, REQLOG_ERR_IO, "cannot start the HTTP server on %s", p->px->url);
  return REQLOG_OK;
}

reqlog_err proxy_loop_init(loop *p, char **cause) {
  p->multi = curl_multi_init();
  p->epfd = epoll_create1(EPOLL_CLOEXEC);
  p->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (!p->multi || p->epfd < 0 || p->wakefd < 0 || watch(p->epfd, p->wakefd) != 0)
    return util_fail(cause, REQLOG_ERR_IO, "cannot set up the proxy's event loop: %s",
                     strerror(errno));
  reqlog_err err = multi_init(p, cause);
  return err == REQLOG_OK ? daemon_init(p, cause) : err;
}
