/* test_proxy_net.c: the recording proxy's addresses and hops (recorder/proxy/proxy_net.c)
 * on real sockets on loopback, and its upstream base URL (proxy_upstream.c). Plan:
 * proxy_hop_by_hop answers for the RFC 9110 list, the Proxy-* fields and those a Connection
 * header names, and for nothing else; proxy_upstream_parse splits real base URLs into the
 * parts the proxy uses and refuses what is not an http(s) base URL, with a reason;
 * proxy_net_listen binds loopback addresses, says where, refuses what is not HOST:PORT or
 * not loopback, and guards against forwarding to itself (proxy_net_refused,
 * proxy_net_check_upstream); proxy_net_refuse guards the destinations given, an exact
 * address or a wildcard one, across IPv4-mapped and IPv6 forms, and this machine's own
 * interface addresses once proxy_net_load_local has learnt them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proxy/proxy_net.h"

/* ------------------------------------------------------------------ helpers */

/* The guard a connection to IP (v4 or v6 text) port PORT would reach, or NULL. */
static const proxy_guard *refused_at(const proxy_net *n, const char *ip, unsigned port) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
  if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
  } else {
    assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)port);
  }
  return proxy_net_refused(n, (struct sockaddr *)&ss);
}

/* The port socket FD is bound to. */
static unsigned bound_port(int fd) {
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
  if (ss.ss_family == AF_INET)
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
  return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* Asserts CAUSE holds PART, then frees it. */
static void assert_cause(char *cause, const char *part) {
  assert_non_null(cause);
  if (!strstr(cause, part))
    fprintf(stderr, "cause '%s' lacks '%s'\n", cause, part);
  assert_non_null(strstr(cause, part));
  free(cause);
}

/* ------------------------------------------------------------------ hop-by-hop */

static void test_hop_by_hop(void **state) {
  (void)state;
  static const struct {
    const char *name;
    const char *connection;
    int hop;
  } cases[] = {
    {"Connection", NULL, 1},
    {"keep-alive", NULL, 1},
    {"TE", NULL, 1},
    {"Trailer", NULL, 1},
    {"Trailers", NULL, 1},
    {"TRANSFER-ENCODING", NULL, 1},
    {"Upgrade", NULL, 1},
    {"Proxy-Authorization", NULL, 1},
    {"proxy-connection", NULL, 1},
    {"Proxy", NULL, 0},
    {"TEX", NULL, 0},
    {"Content-Type", NULL, 0},
    {"Content-Length", NULL, 0},
    {"Authorization", NULL, 0},
    {"X-Trace", "close, X-Trace", 1},
    {"x-trace", " X-TRACE ,\tkeep-alive", 1},
    {"X-Trace", "X-Tracer", 0},
    {"X-Trace", "X-Trac", 0},
    {"X-Trace", "close", 0},
    {"X-Trace", "", 0},
    {"X-Trace", ",,", 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int got = proxy_hop_by_hop(cases[i].name, strlen(cases[i].name), cases[i].connection);
    if (got != cases[i].hop)
      fprintf(stderr, "%s (Connection: %s): %d\n", cases[i].name,
              cases[i].connection ? cases[i].connection : "-", got);
    assert_int_equal(got, cases[i].hop);
  }
  /* only NLEN bytes of the name count: the name need not end there */
  assert_true(proxy_hop_by_hop("Upgrade-Insecure-Requests", 7, NULL));
  assert_false(proxy_hop_by_hop("Upgrade-Insecure-Requests", 25, NULL));
  assert_true(proxy_hop_by_hop("X-A: b", 3, "x-a"));
  printf("checked: %zu header names, hop-by-hop or end-to-end\n",
         sizeof cases / sizeof cases[0] + 3);
}

/* ------------------------------------------------------------------ the upstream URL */

static void test_upstream_parse(void **state) {
  (void)state;
  static const struct {
    const char *url, *base, *scheme, *host, *path, *authority;
    unsigned port;
  } good[] = {
    {"https://api.example.com/v1/", "https://api.example.com/v1", "https", "api.example.com",
     "/v1", "api.example.com", 443},
    {"http://h.example:8080", "http://h.example:8080", "http", "h.example", "",
     "h.example:8080", 8080},
    {"http://h.example:80/a/b//", "http://h.example:80/a/b", "http", "h.example", "/a/b",
     "h.example", 80},
    {"https://h.example:80/", "https://h.example:80", "https", "h.example", "",
     "h.example:80", 80},
    {"http://[::1]:9000/x", "http://[::1]:9000/x", "http", "[::1]", "/x", "[::1]:9000",
     9000},
    {"http://127.0.0.1", "http://127.0.0.1", "http", "127.0.0.1", "", "127.0.0.1", 80},
  };
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    proxy_upstream u;
    char *cause = NULL;
    assert_int_equal(proxy_upstream_parse(good[i].url, &u, &cause), REQLOG_OK);
    assert_null(cause);
    assert_string_equal(u.base, good[i].base);
    assert_string_equal(u.scheme, good[i].scheme);
    assert_string_equal(u.host, good[i].host);
    assert_string_equal(u.path, good[i].path);
    assert_string_equal(u.authority, good[i].authority);
    assert_int_equal(u.port, good[i].port);
    proxy_upstream_free(&u);
    assert_null(u.base);
    assert_null(u.authority);
  }
  static const char *const bad[][2] = {
    {"ftp://h.example/", "not an http or https URL"},
    {"file:///etc/passwd", "is not a URL like"},
    {"http://h.example/?q=1", "query or fragment"},
    {"http://h.example/v1#top", "query or fragment"},
    {"h.example/v1", "is not a URL like"},
    {"http://", "is not a URL like"},
    {"", "is not a URL like"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    proxy_upstream u;
    char *cause = NULL;
    assert_int_equal(proxy_upstream_parse(bad[i][0], &u, &cause), REQLOG_ERR_ARG);
    assert_null(u.base); /* nothing left to free */
    assert_null(u.scheme);
    assert_cause(cause, bad[i][1]);
  }
  printf("checked: %zu upstream URLs split, %zu refused\n", sizeof good / sizeof good[0],
         sizeof bad / sizeof bad[0]);
}

/* ------------------------------------------------------------------ listening */

static void test_listen_loopback(void **state) {
  (void)state;
  proxy_net n = {0};
  char url[96], want[96];
  reqlog_err err = REQLOG_ERR_IO;
  char *cause = NULL;
  int fd = proxy_net_listen(&n, "127.0.0.1:0", 0, url, sizeof url, &err, &cause);
  assert_true(fd >= 0);
  assert_int_equal(err, REQLOG_OK);
  assert_null(cause);
  unsigned port = bound_port(fd);
  assert_true(port > 0);
  snprintf(want, sizeof want, "http://127.0.0.1:%u", port);
  assert_string_equal(url, want);

  /* the proxy's own address is guarded, by its bound name */
  assert_int_equal(n.nguards, 1);
  const proxy_guard *g = refused_at(&n, "127.0.0.1", port);
  assert_non_null(g);
  assert_true(g->self);
  assert_string_equal(g->name, want + 7);
  assert_ptr_equal(refused_at(&n, "0.0.0.0", port), g);       /* "any" lands on it too */
  assert_ptr_equal(refused_at(&n, "::ffff:127.0.0.1", port), g); /* v4-mapped */
  assert_null(refused_at(&n, "127.0.0.1", port == 65535 ? port - 1 : port + 1));
  assert_null(refused_at(&n, "127.0.0.2", port));             /* another loopback address */
  assert_null(refused_at(&n, "192.0.2.1", port));

  /* an upstream that is the proxy itself is refused at the start */
  proxy_upstream u;
  char upstream[128];
  snprintf(upstream, sizeof upstream, "http://127.0.0.1:%u/v1", port);
  assert_int_equal(proxy_upstream_parse(upstream, &u, NULL), REQLOG_OK);
  assert_int_equal(proxy_net_check_upstream(&n, &u, &cause), REQLOG_ERR_ARG);
  assert_cause(cause, "this proxy's own listen address");
  cause = NULL;
  proxy_upstream_free(&u);
  snprintf(upstream, sizeof upstream, "http://127.0.0.1:%u/v1",
           port == 65535 ? port - 1 : port + 1);
  assert_int_equal(proxy_upstream_parse(upstream, &u, NULL), REQLOG_OK);
  assert_int_equal(proxy_net_check_upstream(&n, &u, &cause), REQLOG_OK);
  assert_null(cause);
  proxy_upstream_free(&u);

  /* the same address again: taken */
  snprintf(want, sizeof want, "127.0.0.1:%u", port);
  int again = proxy_net_listen(&n, want, 0, url, sizeof url, &err, &cause);
  assert_int_equal(again, -1);
  assert_int_equal(err, REQLOG_ERR_IO);
  assert_cause(cause, "cannot listen on");
  close(fd);
  proxy_net_free(&n);
  assert_null(n.guards);
  assert_int_equal(n.nguards, 0);
}

static void test_listen_ipv6(void **state) {
  (void)state;
  proxy_net n = {0};
  char url[96], want[96];
  reqlog_err err = REQLOG_OK;
  char *cause = NULL;
  int fd = proxy_net_listen(&n, "[::1]:0", 0, url, sizeof url, &err, &cause);
  if (fd < 0 && err == REQLOG_ERR_IO) { /* no IPv6 loopback on this machine */
    free(cause);
    proxy_net_free(&n);
    skip();
  }
  assert_true(fd >= 0);
  unsigned port = bound_port(fd);
  snprintf(want, sizeof want, "http://[::1]:%u", port);
  assert_string_equal(url, want);
  const proxy_guard *g = refused_at(&n, "::1", port);
  assert_non_null(g);
  assert_true(g->self);
  assert_null(refused_at(&n, "127.0.0.1", port)); /* another address family's loopback */
  close(fd);
  proxy_net_free(&n);
}

static void test_listen_refusals(void **state) {
  (void)state;
  static const char *const cases[][2] = {
    {"0.0.0.0:0", "is not a loopback address"},
    {"[::]:0", "is not a loopback address"},
    {"localhost", "is not HOST:PORT"},
    {":8081", "is not HOST:PORT"},
    {"127.0.0.1:", "is not HOST:PORT"},
    {"127.0.0.1:65536", "is not HOST:PORT"},
    {"127.0.0.1:80x", "is not HOST:PORT"},
    {"[::1:8081", "is not HOST:PORT"},
    {"[]:8081", "is not HOST:PORT"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    proxy_net n = {0};
    char url[96] = "unchanged";
    reqlog_err err = REQLOG_OK;
    char *cause = NULL;
    assert_int_equal(proxy_net_listen(&n, cases[i][0], 0, url, sizeof url, &err, &cause), -1);
    assert_int_equal(err, REQLOG_ERR_ARG);
    assert_cause(cause, cases[i][1]);
    assert_string_equal(url, "unchanged");
    assert_int_equal(n.nguards, 0); /* nothing guarded for a socket never made */
    proxy_net_free(&n);
  }
  /* allowed explicitly, a wildcard address listens */
  proxy_net n = {0};
  char url[96];
  reqlog_err err = REQLOG_ERR_IO;
  int fd = proxy_net_listen(&n, "0.0.0.0:0", 1, url, sizeof url, &err, NULL);
  assert_true(fd >= 0);
  assert_int_equal(err, REQLOG_OK);
  unsigned port = bound_port(fd);
  char want[96];
  snprintf(want, sizeof want, "http://0.0.0.0:%u", port);
  assert_string_equal(url, want);
  /* listening everywhere, every local address reaches it */
  assert_non_null(refused_at(&n, "127.0.0.1", port));
  assert_non_null(refused_at(&n, "127.8.9.10", port));
  assert_null(refused_at(&n, "192.0.2.1", port)); /* not this machine's (none learnt) */
  close(fd);
  proxy_net_free(&n);
  printf("checked: %zu listen addresses refused, a wildcard one allowed\n",
         sizeof cases / sizeof cases[0]);
}

/* ------------------------------------------------------------------ refused destinations */

static void test_refuse(void **state) {
  (void)state;
  proxy_net n = {0};
  const char *const refuse[] = {"127.0.0.1:9", "0.0.0.0:7", NULL};
  assert_int_equal(proxy_net_refuse(&n, refuse, NULL), REQLOG_OK);
  assert_int_equal(n.nguards, 2);

  const proxy_guard *g = refused_at(&n, "127.0.0.1", 9);
  assert_non_null(g);
  assert_false(g->self);
  assert_string_equal(g->name, "127.0.0.1:9");
  assert_ptr_equal(refused_at(&n, "::ffff:127.0.0.1", 9), g);
  assert_ptr_equal(refused_at(&n, "0.0.0.0", 9), g);
  assert_null(refused_at(&n, "127.0.0.1", 10));
  assert_null(refused_at(&n, "127.0.0.2", 9));
  assert_null(refused_at(&n, "::1", 9)); /* a v4 listener is not on ::1 */

  /* a wildcard listener is reached through every local address, of either family */
  g = refused_at(&n, "127.0.0.2", 7);
  assert_non_null(g);
  assert_string_equal(g->name, "0.0.0.0:7");
  assert_ptr_equal(refused_at(&n, "::1", 7), g);
  assert_ptr_equal(refused_at(&n, "0.0.0.0", 7), g);
  assert_null(refused_at(&n, "192.0.2.1", 7));
  assert_null(refused_at(&n, "127.0.0.1", 8));

  /* an address that is not IP is never refused */
  struct sockaddr_un un = {0};
  un.sun_family = AF_UNIX;
  snprintf(un.sun_path, sizeof un.sun_path, "/tmp/x");
  assert_null(proxy_net_refused(&n, (struct sockaddr *)&un));

  /* a malformed entry: nothing more is added, and the caller is told which */
  char *cause = NULL;
  const char *const bad[] = {"nohost", NULL};
  assert_int_equal(proxy_net_refuse(&n, bad, &cause), REQLOG_ERR_ARG);
  assert_cause(cause, "refuse: 'nohost' is not HOST:PORT");
  assert_int_equal(n.nguards, 2);
  assert_int_equal(proxy_net_refuse(&n, NULL, NULL), REQLOG_OK);
  proxy_net_free(&n);
}

/* This machine's first IPv4 interface address outside 127/8, into IP; 0 when it has none. */
static int an_interface_v4(char *ip, size_t iplen) {
  struct ifaddrs *ifa = NULL;
  int found = 0;
  if (getifaddrs(&ifa) != 0)
    return 0;
  for (struct ifaddrs *i = ifa; i && !found; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
      continue;
    const struct in_addr *a = &((struct sockaddr_in *)i->ifa_addr)->sin_addr;
    if ((ntohl(a->s_addr) >> 24) == 127)
      continue;
    found = inet_ntop(AF_INET, a, ip, (socklen_t)iplen) != NULL;
  }
  freeifaddrs(ifa);
  return found;
}

static void test_refuse_local_addresses(void **state) {
  (void)state;
  char ip[INET_ADDRSTRLEN];
  if (!an_interface_v4(ip, sizeof ip))
    skip(); /* loopback only: nothing to learn */
  proxy_net n = {0};
  const char *const refuse[] = {"0.0.0.0:7", NULL};
  assert_int_equal(proxy_net_refuse(&n, refuse, NULL), REQLOG_OK);
  assert_null(refused_at(&n, ip, 7)); /* not known to be this machine's yet */
  proxy_net_load_local(&n);
  assert_true(n.nlocal >= 2); /* loopback and IP at least */
  assert_non_null(refused_at(&n, ip, 7));
  assert_null(refused_at(&n, ip, 8));
  assert_null(refused_at(&n, "192.0.2.1", 7));
  proxy_net_free(&n);
  assert_null(n.local);
  assert_int_equal(n.nlocal, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_hop_by_hop),
    cmocka_unit_test(test_upstream_parse),
    cmocka_unit_test(test_listen_loopback),
    cmocka_unit_test(test_listen_ipv6),
    cmocka_unit_test(test_listen_refusals),
    cmocka_unit_test(test_refuse),
    cmocka_unit_test(test_refuse_local_addresses),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
