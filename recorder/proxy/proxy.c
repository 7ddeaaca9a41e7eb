/* proxy.c: reqlog_proxy, the recording reverse proxy, as the library offers it: start
 * (check the upstream, listen, start the event loops, one per CPU core unless
 * opts->threads says otherwise, each in its own thread on the shared listening socket),
 * its URL, and stop (sets px->stop_asked, wakes every loop and joins them). How a loop
 * serves its clients and runs their upstream transfers, streaming bodies through bounded
 * buffers and recording each exchange like any other call, is in the files that
 * proxy/proxy_int.h lists. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "proxy/proxy_int.h"
#include "store/store.h"

#define DEFAULT_LISTEN "127.0.0.1:8081"
#define DEFAULT_TIMEOUT_MS 60000L

static void proxy_free(reqlog_proxy *px) {
  for (int i = 0; i < px->nloops; i++)
    proxy_loop_free(&px->loops[i]);
  if (px->listen_fd >= 0)
    close(px->listen_fd);
  proxy_net_free(&px->net);
  proxy_upstream_free(&px->up);
  free(px);
}

/* Non-zero when the environment names a proxy for libcurl (http_proxy, https_proxy,
 * all_proxy and their upper-case forms; no_proxy alone changes nothing). */
static int env_proxy_set(void) {
  static const char *const names[] = {"http_proxy",  "HTTP_PROXY", "https_proxy",
                                      "HTTPS_PROXY", "all_proxy",  "ALL_PROXY"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    const char *v = getenv(names[i]);
    if (v && *v)
      return 1;
  }
  return 0;
}

/* How many loops: as asked, else one per online CPU, within 1..MAX_LOOPS. */
static int loop_count(int asked) {
  long n = asked > 0 ? asked : sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > MAX_LOOPS ? MAX_LOOPS : (int)n;
}

/* PX's upstream, refused destinations and listening socket, from OPTS. */
static reqlog_err proxy_open(reqlog_proxy *px, const reqlog_proxy_opts *opts, char **cause) {
  reqlog_err err = proxy_upstream_parse(opts->upstream, &px->up, cause);
  if (err == REQLOG_OK)
    err = proxy_net_refuse(&px->net, opts->refuse, cause);
  if (err != REQLOG_OK)
    return err;
  proxy_net_load_local(&px->net);
  const char *listen_on = opts->listen ? opts->listen : DEFAULT_LISTEN;
  px->listen_fd = proxy_net_listen(&px->net, listen_on, opts->allow_remote, px->url,
                                   sizeof px->url, &err, cause);
  if (px->listen_fd < 0)
    return err;
  if (!opts->libcurl_only)
    proxy_h1_setup(px);
  return proxy_net_check_upstream(&px->net, &px->up, cause);
}

/* Sets up THREADS loops (0: one per CPU) and starts their threads. On failure the loops
 * made so far are left in PX for reqlog_proxy_stop(). */
static reqlog_err proxy_start_loops(reqlog_proxy *px, int threads, char **cause) {
  reqlog_err err = REQLOG_OK;
  int n = loop_count(threads);
  for (int i = 0; i < n && err == REQLOG_OK; i++) {
    loop *p = &px->loops[px->nloops++];
    p->px = px;
    p->epfd = p->wakefd = p->mhdfd = -1;
    p->curl_due = -1;
    err = proxy_loop_init(p, cause);
  }
  for (int i = 0; i < px->nloops && err == REQLOG_OK; i++) {
    loop *p = &px->loops[i];
    if (pthread_create(&p->thread, NULL, proxy_loop_main, p) != 0)
      err = util_fail(cause, REQLOG_ERR_IO, "cannot start the proxy's threads");
    else
      p->thread_on = 1;
  }
  return err;
}

reqlog_err reqlog_proxy_start(reqlog *r, const reqlog_proxy_opts *opts, reqlog_proxy **out,
                              char **cause) {
  if (out)
    *out = NULL;
  if (!r || !opts || !out || !opts->upstream || opts->timeout_ms < 0 || opts->threads < 0)
    return util_fail(cause, REQLOG_ERR_ARG, "reqlog_proxy_start: a handle, options with an "
                     "upstream, a timeout and a thread count of at least 0 and an out "
                     "pointer are needed");
  reqlog_proxy *px = calloc(1, sizeof *px);
  if (!px)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  px->r = r;
  /* Recording is this process's job: its writer competes as an equal with the loops
   * (lowered, it fell behind under sustained load, and the full queue stalled whole
   * loops: p99 0.3-0.6 s against 8-10 ms). Too late for a handle that already wrote
   * rows, which keeps the lower priority. */
  if (r->st)
    store_set_foreground(r->st);
  px->listen_fd = -1;
  atomic_init(&px->stop_asked, 0);
  px->timeout_ms = opts->timeout_ms ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
  px->env_proxy = env_proxy_set();
  reqlog_err err = proxy_open(px, opts, cause);
  if (err != REQLOG_OK) {
    proxy_free(px);
    return err;
  }
  err = proxy_start_loops(px, opts->threads, cause);
  if (err != REQLOG_OK) {
    reqlog_proxy_stop(px);
    return err;
  }
  *out = px;
  return REQLOG_OK;
}

const char *reqlog_proxy_url(const reqlog_proxy *px) {
  return px ? px->url : NULL;
}

void reqlog_proxy_stats_get(const reqlog_proxy *px, reqlog_proxy_stats *out) {
  if (!out)
    return;
  memset(out, 0, sizeof *out);
  for (int i = 0; px && i < px->nloops; i++) {
    const loop *p = &px->loops[i];
    out->exchanges += atomic_load_explicit(&p->exchanges, memory_order_relaxed);
    out->turns += atomic_load_explicit(&p->turns, memory_order_relaxed);
    out->own_client += atomic_load_explicit(&p->own_transfers, memory_order_relaxed);
    out->slow_turns += atomic_load_explicit(&p->slow_turns, memory_order_relaxed);
    uint64_t m = atomic_load_explicit(&p->turn_max_us, memory_order_relaxed);
    if (m > out->turn_max_us)
      out->turn_max_us = m;
  }
}

void reqlog_proxy_stop(reqlog_proxy *px) {
  if (!px)
    return;
  atomic_store(&px->stop_asked, 1);
  for (int i = 0; i < px->nloops; i++) {
    uint64_t one = 1;
    if (px->loops[i].wakefd >= 0 && write(px->loops[i].wakefd, &one, sizeof one) < 0) {
      /* an eventfd write fails only on overflow: the loop is awake anyway */
    }
  }
  for (int i = 0; i < px->nloops; i++)
    if (px->loops[i].thread_on)
      pthread_join(px->loops[i].thread, NULL);
  proxy_free(px);
}
