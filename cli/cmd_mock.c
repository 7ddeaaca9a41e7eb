/* cmd_mock.c: `reqlog mock`: serves the recorded responses of the calls matching the
 * filters as a stand-in for the API (reqlog_mock_load, then include/reqlog_mock.h's
 * server), until SIGINT or SIGTERM; with --strict the exit code says whether any
 * request went unmatched. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "reqlog_mock.h"

static const char usage_text[] =
  "usage: reqlog [--db PATH] mock [FILTERS] [--listen HOST:PORT] [--strict]\n"
  "                               [--record] [--allow-remote]\n"
  "\n"
  "Serves the recorded calls matching the filters as a stand-in for the API, for\n"
  "offline work and CI, until interrupted (Ctrl-C or SIGTERM). A request is\n"
  "answered by the newest recorded call with its method, path, query and body;\n"
  "failing that, by the newest with its method, path template (numeric and UUID\n"
  "segments as {id}), query and body. Queries match in any order, JSON bodies with\n"
  "members in any order, and a value recorded as [REDACTED] matches any value. The\n"
  "answer is the recorded status, headers (redacted values stay redacted; framing\n"
  "headers are this server's) and body, with X-Reqlog-Mock-Id and\n"
  "X-Reqlog-Mock-Match (exact or template); a HEAD gets the recorded GET's. A\n"
  "request nothing matches gets a JSON 404 naming the closest recorded calls, and a\n"
  "line on stderr. The mock only reads the history and records nothing, unless\n"
  "--record.\n"
  "\n"
  "Options:\n"
  "  -l, --listen HOST:PORT  address (default 127.0.0.1:8089; port 0 picks a free\n"
  "                          one); IPv6 as [::1]:8089\n"
  "  --strict                exit 1 when stopped if any request matched no\n"
  "                          recorded call, listing them on stderr\n"
  "  --record                record the mock's exchanges into the history too:\n"
  "                          reqlog's recording proxy listens in front of the mock\n"
  "                          (rows with source proxy, host 127.0.0.1); the calls\n"
  "                          served stay those loaded at the start\n"
  "  --allow-remote          allow a listen address other than loopback (the\n"
  "                          recorded answers are then served to the network)\n"
  "  -h, --help              this help\n"
  "\n" CLI_FILTER_HELP
  "\n"
  "The recorded paths are served as they are: point the client's base URL at the\n"
  "mock with the API's path, e.g. http://127.0.0.1:8089/public/v1. Once ready,\n"
  "stderr says \"mock: serving N recorded calls on http://HOST:PORT\".\n"
  "\n"
  "Examples:\n"
  "  reqlog mock --since 24h --status 2xx,4xx\n"
  "  reqlog mock --key abcd --listen 127.0.0.1:0 --strict 2>mock.log & pid=$!\n"
  "  run-tests; kill $pid; wait $pid || cat mock.log\n"
  "\n"
  "Exit: 0 stopped by a signal, 1 (--strict) a request matched no recorded call,\n"
  "2 bad option or filter, 4 the history could not be read or the address bound.\n";

typedef struct mock_args {
  reqlog_filter *filter;
  const char *listen;
  int strict;
  int record;
  int allow_remote;
} mock_args;

/* Returns -1 to go on, else the exit code. */
static int parse_args(const cli_command *self, int argc, char **argv, mock_args *a) {
  static const struct option own[] = {
    {"listen", required_argument, NULL, 'l'},
    {"strict", no_argument, NULL, 'S'},
    {"record", no_argument, NULL, 'W'},
    {"allow-remote", no_argument, NULL, 'R'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  const struct option *longopts = cli_filter_longopts("mock", own);
  if (!longopts)
    return CLI_EXIT_USAGE;
  for (;;) {
    int c = getopt_long(argc, argv, ":q:l:h", longopts, NULL);
    if (c == -1)
      break;
    int handled = cli_filter_option("mock", c, optarg, &a->filter);
    if (handled < 0)
      return CLI_EXIT_USAGE;
    if (handled)
      continue;
    switch (c) {
    case 'l':
      a->listen = optarg;
      break;
    case 'S':
      a->strict = 1;
      break;
    case 'R':
      a->allow_remote = 1;
      break;
    case 'W':
      a->record = 1;
      break;
    case 'h':
      cli_usage(self, stdout);
      return CLI_EXIT_OK;
    default:
      return cli_bad_option("mock", c, argv);
    }
  }
  if (cli_extra_args("mock", argc, argv) != 0)
    return CLI_EXIT_USAGE;
  web_listen l;
  if (cli_parse_listen("mock", a->listen ? a->listen : "127.0.0.1:8089", &l) != 0)
    return CLI_EXIT_USAGE;
  if (!l.loopback && !a->allow_remote) {
    cli_error("mock", "--listen: %s is not a loopback address: the recorded answers would "
              "be served to the network (--allow-remote to do so)", l.host);
    return CLI_EXIT_USAGE;
  }
  return -1;
}

/* "reqlog: mock: no recorded call matches METHOD TARGET", the client's text made safe. */
static void on_unmatched(void *ctx, const char *method, const char *target) {
  (void)ctx;
  flockfile(stderr);
  fputs("reqlog: mock: no recorded call matches ", stderr);
  cli_put_safe(stderr, method, strlen(method));
  fputc(' ', stderr);
  cli_put_safe(stderr, target, strlen(target));
  fputs(" (404)\n", stderr);
  funlockfile(stderr);
}

/* At the end: the counts, and with --strict the unmatched requests. Returns the exit
 * code. */
static int report(mockd *s, int strict) {
  int64_t answered = 0, unmatched = 0;
  mockd_counts(s, &answered, &unmatched);
  char a[32], u[32];
  fprintf(stderr, "mock: answered %s requests, %s unmatched\n", cli_thousands(answered, a),
          cli_thousands(unmatched, u));
  if (!strict || unmatched == 0)
    return CLI_EXIT_OK;
  char method[80], target[2048];
  int64_t count = 0;
  size_t i = 0;
  for (; mockd_unmatched_at(s, i, method, sizeof method, target, sizeof target, &count); i++) {
    fputs("  ", stderr);
    cli_put_safe(stderr, method, strlen(method));
    fputc(' ', stderr);
    cli_put_safe(stderr, target, strlen(target));
    fprintf(stderr, "  x%lld\n", (long long)count);
  }
  if (i == MOCKD_UNMATCHED_KEPT)
    fprintf(stderr, "  (the first %d distinct ones)\n", MOCKD_UNMATCHED_KEPT);
  cli_error("mock", "--strict: %s requests matched no recorded call", u);
  return CLI_EXIT_HTTP;
}

/* --record: reqlog's recording proxy on the user's address, in front of the mock at
 * UPSTREAM, recording into the history through *REC. Returns CLI_EXIT_OK or the code. */
static int start_recording(const cli_ctx *ctx, const mock_args *a, const char *upstream,
                           reqlog **rec, reqlog_proxy **px) {
  int rc = cli_open_db(ctx, "mock", CLI_DB_CREATE, rec);
  if (rc != CLI_EXIT_OK)
    return rc;
  reqlog_set_source(*rec, "proxy");
  reqlog_proxy_opts po = {.upstream = upstream,
                          .listen = a->listen ? a->listen : "127.0.0.1:8089",
                          .allow_remote = a->allow_remote};
  char *cause = NULL;
  reqlog_err err = reqlog_proxy_start(*rec, &po, px, &cause);
  if (err == REQLOG_OK)
    return CLI_EXIT_OK;
  cli_error("mock", "--record: %s", cause ? cause : reqlog_strerror(err));
  reqlog_free(cause);
  cli_close_db(*rec);
  *rec = NULL;
  return CLI_EXIT_DB;
}

static int serve(const cli_ctx *ctx, const mock_args *a, const reqlog_mock *m) {
  cli_block_stop_signals(); /* before the server's threads, which inherit the mask */
  /* with --record the mock itself listens on a free loopback port behind the proxy */
  mockd_opts o = {.mock = m, .listen = a->record ? "127.0.0.1:0" : a->listen,
                  .allow_remote = a->allow_remote && !a->record, .unmatched = on_unmatched};
  mockd *s = NULL;
  char *cause = NULL;
  if (mockd_start(&o, &s, &cause) != 0) {
    cli_error("mock", "%s", cause ? cause : "cannot start the server");
    free(cause);
    return CLI_EXIT_DB;
  }
  reqlog *rec = NULL;
  reqlog_proxy *px = NULL;
  if (a->record) {
    int rc = start_recording(ctx, a, mockd_url(s), &rec, &px);
    if (rc != CLI_EXIT_OK) {
      mockd_stop(s);
      return rc;
    }
  }
  char n[32];
  size_t size = reqlog_mock_size(m);
  if (size == 0)
    cli_warn("mock: no recorded call with a response matches the filters: every request "
             "gets a 404");
  if (px)
    fprintf(stderr, "mock: recording its exchanges into %s\n",
            reqlog_spool_path(rec) ? reqlog_spool_path(rec) : ctx->db_shown);
  fprintf(stderr, "mock: serving %s recorded call%s on %s\n", cli_thousands((int64_t)size, n),
          size == 1 ? "" : "s", px ? reqlog_proxy_url(px) : mockd_url(s));
  cli_wait_stop();
  reqlog_proxy_stop(px); /* first: it may be waiting on the mock */
  int rc = report(s, a->strict);
  mockd_stop(s);
  if (rec) {
    int closed = cli_close_db(rec);
    if (rc == CLI_EXIT_OK)
      rc = closed;
  }
  return rc;
}

static int run(const cli_ctx *ctx, const cli_command *self, int argc, char **argv) {
  mock_args a = {0};
  reqlog *r = NULL;
  reqlog_mock *m = NULL;
  int rc = parse_args(self, argc, argv, &a);
  if (rc >= 0)
    goto done;
  rc = cli_open_db(ctx, "mock", CLI_DB_READ, &r);
  if (rc != CLI_EXIT_OK)
    goto done;
  char *cause = NULL;
  reqlog_err err = reqlog_mock_load(r, a.filter, &m, &cause);
  cli_close_db(r);
  if (err != REQLOG_OK) {
    rc = cli_lib_error("mock", err, cause);
    goto done;
  }
  rc = serve(ctx, &a, m);
done:
  reqlog_mock_free(m);
  reqlog_filter_free(a.filter);
  return rc;
}

const cli_command cmd_mock = {
  .name = "mock",
  .summary = "serve the recorded responses as a stand-in for the API",
  .usage = usage_text,
  .run = run,
};
