/* cmd_proxy.c: `reqlog proxy`: a recording reverse proxy (reqlog_proxy_start) in front of
 * an API, until SIGINT or SIGTERM. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_text[] =
  "usage: reqlog [--db PATH] proxy --upstream URL [--listen HOST:PORT] [options]\n"
  "\n"
  "A recording reverse proxy: point any client's base URL at it and every request is\n"
  "forwarded to URL + its path and query, with the same method, headers (hop-by-hop\n"
  "ones aside) and body; the answer comes back unchanged. Bodies stream both ways, of\n"
  "any size. Each exchange is recorded with source 'proxy' (secrets redacted, bodies\n"
  "kept up to REQLOG_BODY_CAP). No retries: a 429 reaches the client as it came.\n"
  "No answer gives the client a 502, a silent upstream a 504 (JSON bodies).\n"
  "A request whose head is malformed (a method or header name that is not a token,\n"
  "a CR or other control character in a value, a folded header line, conflicting\n"
  "Content-Length values, Transfer-Encoding with Content-Length) gets a 400, one\n"
  "with a transfer coding other than chunked a 501; nothing is forwarded, the\n"
  "connection is closed and the refusal is recorded. Location and Content-Location\n"
  "pointing under URL are rewritten to the proxy's address.\n"
  "\n"
  "Options:\n"
  "  -u, --upstream URL      base URL requests are forwarded to (http or https)\n"
  "  -l, --listen HOST:PORT  address to listen on (default 127.0.0.1:8081; port 0\n"
  "                          picks a free one); IPv6 as [::1]:8081\n"
  "  --allow-remote          allow a listen address other than loopback (anyone who can\n"
  "                          reach it can then use your credentials' upstream)\n"
  "  --timeout-ms N          answer 504 when the upstream sends nothing for N ms\n"
  "                          (default 60000)\n"
  "  --refuse HOST:PORT      never forward there, e.g. a dashboard on another port;\n"
  "                          repeatable. 127.0.0.1:8080 and localhost:8080 (the default\n"
  "                          dashboard) are always refused (508); an upstream that\n"
  "                          is the proxy's own address stops it at start (exit 2)\n"
  "  --threads N             event-loop threads serving clients, 1 to 16 (default: one\n"
  "                          per CPU core); each serves many connections at once\n"
  "  --libcurl               carry every upstream request on libcurl; by default a\n"
  "                          plain http upstream at an IP address (a local server, a\n"
  "                          mock) is reached through reqlog's own HTTP/1.1 client,\n"
  "                          which costs less CPU per request; https, host names and\n"
  "                          proxy variables always use libcurl\n"
  "  --origin NAME           record the calls as made by NAME (default $REQLOG_ORIGIN,\n"
  "                          else this host's name); `list --origin NAME` finds them\n"
  "  --stats                 on stopping, print to stderr how the event loops and the\n"
  "                          history's writer kept up (requests, the longest loop turn,\n"
  "                          turns over 1 ms, the recording queue's peak, waits for it)\n"
  "  -h, --help              this help\n"
  "\n"
  "Example:\n"
  "  reqlog proxy --upstream https://api.app.astalty.com.au/public/v1 &\n"
  "  curl -H \"Authorization: Bearer $KEY\" http://127.0.0.1:8081/participants\n"
  "  reqlog list --path /public/v1/participants\n"
  "\n"
  "Prints 'proxying http://HOST:PORT -> URL' once listening, and a warning on stopping\n"
  "if requests had to wait for the recording queue (the writer did not keep up).\n"
  "Exit: 0 stopped by a signal, 2 bad option or address, 4 the database could not be\n"
  "opened.\n";

struct proxy_args {
  reqlog_proxy_opts opts;
  const char *origin; /* --origin, or NULL */
  int stats;          /* --stats */
  const char **refuse; /* NULL-terminated: the defaults, then --refuse */
  int nrefuse;
};

static void add_refuse(struct proxy_args *a, const char *hostport) {
  a->refuse = xrealloc(a->refuse, sizeof *a->refuse * (size_t)(a->nrefuse + 2));
  a->refuse[a->nrefuse++] = hostport;
  a->refuse[a->nrefuse] = NULL;
}

/* Returns -1 to go on, else the exit code. */
static int parse_args(const cli_command *self, int argc, char **argv, struct proxy_args *a) {
  static const struct option longopts[] = {
    {"upstream", required_argument, NULL, 'u'},
    {"listen", required_argument, NULL, 'l'},
    {"allow-remote", no_argument, NULL, 'R'},
    {"timeout-ms", required_argument, NULL, 'T'},
    {"refuse", required_argument, NULL, 'F'},
    {"threads", required_argument, NULL, 'N'},
    {"origin", required_argument, NULL, 'O'},
    {"stats", no_argument, NULL, 'S'},
    {"libcurl", no_argument, NULL, 'C'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  add_refuse(a, "127.0.0.1:8080");
  add_refuse(a, "localhost:8080");
  for (;;) {
    int c = getopt_long(argc, argv, ":u:l:h", longopts, NULL);
    if (c == -1)
      break;
    int64_t ms = 0;
    switch (c) {
    case 'u':
      a->opts.upstream = optarg;
      break;
    case 'l':
      a->opts.listen = optarg;
      break;
    case 'R':
      a->opts.allow_remote = 1;
      break;
    case 'T':
      if (cli_parse_int("proxy", "--timeout-ms", optarg, 1, 86400000, &ms) != 0)
        return CLI_EXIT_USAGE;
      a->opts.timeout_ms = (long)ms;
      break;
    case 'F':
      add_refuse(a, optarg);
      break;
    case 'N':
      if (cli_parse_int("proxy", "--threads", optarg, 1, 16, &ms) != 0)
        return CLI_EXIT_USAGE;
      a->opts.threads = (int)ms;
      break;
    case 'O':
      if (cli_check_origin("proxy", optarg) != 0)
        return CLI_EXIT_USAGE;
      a->origin = optarg;
      break;
    case 'S':
      a->stats = 1;
      break;
    case 'C':
      a->opts.libcurl_only = 1;
      break;
    case 'h':
      cli_usage(self, stdout);
      return CLI_EXIT_OK;
    default:
      return cli_bad_option("proxy", c, argv);
    }
  }
  if (cli_extra_args("proxy", argc, argv) != 0)
    return CLI_EXIT_USAGE;
  if (!a->opts.upstream || !*a->opts.upstream) {
    cli_error("proxy", "--upstream URL is required, e.g. --upstream "
                       "https://api.app.astalty.com.au/public/v1 (see 'reqlog proxy --help')");
    return CLI_EXIT_USAGE;
  }
  a->opts.refuse = a->refuse;
  return -1;
}

/* Non-zero when the bound URL "http://HOST:PORT" is a loopback address. */
static int is_loopback_url(const char *url) {
  return strncmp(url, "http://127.", 11) == 0 || strncmp(url, "http://[::1]", 12) == 0;
}

/* On stopping: a warning when requests waited for the recording queue; with --stats
 * (STATS), how the loops and the writer fared. */
static void report(reqlog *r, const reqlog_proxy_stats *ps, int stats) {
  reqlog_writer_stats ws;
  if (reqlog_writer_stats_get(r, &ws) != REQLOG_OK)
    return;
  if (ws.waits)
    cli_warn("requests waited %llu times for room in the recording queue (%.1f ms in all, "
             "the longest %.1f ms): the history's writer did not keep up with the traffic "
             "(a slow disk, or the CPU taken by other work)",
             (unsigned long long)ws.waits, (double)ws.wait_us / 1000.0,
             (double)ws.wait_max_us / 1000.0);
  if (stats)
    fprintf(stderr,
            "reqlog proxy: %llu requests (%llu upstream transfers on the own HTTP/1.1 "
            "client, the others on libcurl); event loops: %llu turns, the longest %.2f ms, "
            "%llu over 1 ms; writer: %llu rows so far in %llu transactions (the longest "
            "%.1f ms), queue peak %.1f MiB, %llu waits for room (%.1f ms)\n",
            (unsigned long long)ps->exchanges, (unsigned long long)ps->own_client,
            (unsigned long long)ps->turns,
            (double)ps->turn_max_us / 1000.0, (unsigned long long)ps->slow_turns,
            (unsigned long long)ws.rows, (unsigned long long)ws.batches,
            (double)ws.batch_max_us / 1000.0, (double)ws.queue_peak_bytes / 1048576.0,
            (unsigned long long)ws.waits, (double)ws.wait_us / 1000.0);
}

static int run(const cli_ctx *ctx, const cli_command *self, int argc, char **argv) {
  struct proxy_args a = {0};
  int rc = parse_args(self, argc, argv, &a);
  if (rc >= 0) {
    free(a.refuse);
    return rc;
  }
  /* Every thread started from here on inherits this mask, so the signals come to
   * cli_wait_stop() below and the proxy stops cleanly. */
  cli_block_stop_signals();

  reqlog *r = NULL;
  rc = cli_open_db(ctx, "proxy", 0, &r); /* warnings for recording failures */
  if (rc != CLI_EXIT_OK) {
    free(a.refuse);
    return rc;
  }
  reqlog_set_source(r, "proxy");
  if (a.origin)
    reqlog_set_origin(r, a.origin); /* checked by cli_check_origin() */
  reqlog_proxy *p = NULL;
  char *cause = NULL;
  reqlog_err err = reqlog_proxy_start(r, &a.opts, &p, &cause);
  free(a.refuse);
  if (err != REQLOG_OK) {
    if (err == REQLOG_ERR_ARG && cause && strncmp(cause, "listen: ", 8) == 0 &&
        strstr(cause, "loopback"))
      cli_error("proxy", "--listen %s is not a loopback address: anyone who can reach it "
                "could send requests through the proxy; add --allow-remote to mean it",
                a.opts.listen);
    else
      cli_error("proxy", "%s", cause ? cause : reqlog_strerror(err));
    reqlog_free(cause);
    cli_close_db(r);
    return err == REQLOG_ERR_ARG ? CLI_EXIT_USAGE : CLI_EXIT_DB;
  }
  const char *url = reqlog_proxy_url(p);
  if (!is_loopback_url(url))
    cli_warn("listening on %s, which is not loopback: anyone who can reach it can send "
             "requests to %s through it, and they are recorded into %s", url,
             a.opts.upstream, reqlog_spool_path(r) ? reqlog_spool_path(r) : ctx->db_shown);
  printf("proxying %s -> %s\n", url, a.opts.upstream);
  if (cli_finish_stdout("proxy") != CLI_EXIT_OK) {
    reqlog_proxy_stop(p);
    cli_close_db(r);
    return CLI_EXIT_DB;
  }
  cli_wait_stop();
  reqlog_proxy_stats ps;
  reqlog_proxy_stats_get(p, &ps);
  reqlog_proxy_stop(p);
  report(r, &ps, a.stats);
  return cli_close_db(r);
}

const cli_command cmd_proxy = {
  .name = "proxy",
  .summary = "recording reverse proxy: point any client's base URL at it",
  .usage = usage_text,
  .run = run,
};
