/* cmd_ship.c: `reqlog ship`: copies this history (--db, a local file) into a PostgreSQL
 * team store (--to URL) and exits when caught up, or keeps shipping new calls with
 * --follow until SIGINT/SIGTERM; --status tells how far histories are shipped. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "reqlog_ship.h"

static const char usage_text[] =
  "usage: reqlog ship --to URL [--follow]\n"
  "       reqlog ship --status [--to URL]\n"
  "\n"
  "Copies the calls of this history (--db, a local file: the spool) into a PostgreSQL\n"
  "team store, in batches, each committed together with the store's record of how far\n"
  "this history got, so every call is stored once however often shipping stops (Ctrl-C,\n"
  "kill -9, the server going away). Calls already redacted in the spool are shipped as\n"
  "stored. Without --follow it exits once the store has every call; progress on a\n"
  "terminal. While the store cannot be reached it says so once, retries with backoff\n"
  "and resumes by itself (without --follow it gives up after a minute, exit 4).\n"
  "\n"
  "Options:\n"
  "  --to URL     the store: a libpq URI, postgresql://[USER@]HOST[:PORT]/DB or\n"
  "               postgresql:///DB?host=/run/postgresql. Keep the password out of it\n"
  "               (others can see a command line): libpq reads ~/.pgpass, PGPASSFILE\n"
  "               or PGPASSWORD\n"
  "  --follow     keep shipping calls as they are recorded, until SIGINT or SIGTERM\n"
  "               (the batch in flight is committed or rolled back first)\n"
  "  --status     per history: calls in the spool, shipped, waiting, and the lag from\n"
  "               a call's commit to the store; with --db URL (or without --to the\n"
  "               spool alone): every history the store has\n"
  "  -h, --help   this help\n"
  "\n"
  "Example:\n"
  "  reqlog --db calls.db ship --to 'postgresql://reqlog@db.internal/team' --follow\n";

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) {
  (void)sig;
  stop_flag = 1;
}

typedef struct shipping {
  int tty;
  int64_t t0;
  int shown;      /* a progress line is on the terminal */
  int64_t shipped; /* rows this run shipped */
} shipping;

static void on_progress(void *ctx, const reqlog_ship_progress *p) {
  shipping *s = ctx;
  s->shipped = p->shipped;
  if (!s->tty)
    return;
  char a[32], b[32], rate[32];
  double secs = (double)(cli_now_us() - s->t0) / 1e6;
  cli_thousands(secs > 0 ? (int64_t)((double)p->shipped / secs) : 0, rate);
  fprintf(stderr, "\rshipping: %s of %s rows (%s rows/s)%s\033[K", cli_thousands(p->shipped, a),
          cli_thousands(p->shipped + p->pending, b), rate, p->caught_up ? ", caught up" : "");
  s->shown = 1;
}

static void on_notice(void *ctx, const char *msg) {
  shipping *s = ctx;
  if (s->shown)
    fputc('\n', stderr);
  s->shown = 0;
  fprintf(stderr, "reqlog: ship: %s\n", msg);
}

static int print_status(void *ctx, const reqlog_ship_status *st) {
  (void)ctx;
  char a[32];
  printf("history %lld  origin %s\n", (long long)st->history_id, st->origin);
  if (st->spool_rows >= 0)
    printf("  in the spool   %s\n", cli_thousands(st->spool_rows, a));
  if (st->shipped_rows >= 0) {
    printf("  shipped        %s (spool ids up to %lld)\n", cli_thousands(st->shipped_rows, a),
           (long long)st->shipped_id);
    if (st->pending >= 0)
      printf("  waiting        %s\n", cli_thousands(st->pending, a));
    if (st->lag_s >= 0)
      printf("  lag            %.3f s%s\n", st->lag_s,
             st->pending > 0 ? " (the oldest waiting call)" : "");
  } else {
    printf("  shipped        unknown (give --to URL)\n");
  }
  return 0;
}

static int status(const cli_ctx *ctx, const char *to) {
  int db_is_url = reqlog_is_store_url(ctx->db_path);
  const char *spool = db_is_url ? NULL : ctx->db_path;
  const char *url = to ? to : db_is_url ? ctx->db_path : NULL;
  char *cause = NULL;
  reqlog_err e = reqlog_ship_status_each(spool, url, print_status, NULL, &cause);
  if (e != REQLOG_OK)
    return cli_lib_error("ship", e, cause);
  return cli_finish_stdout("ship");
}

static int ship(const cli_ctx *ctx, const char *to, int follow) {
  if (reqlog_is_store_url(ctx->db_path)) {
    cli_error("ship", "--db names the history to ship (a local file), not a store; the "
              "store is --to URL");
    return CLI_EXIT_USAGE;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  shipping s = {.tty = isatty(STDERR_FILENO), .t0 = cli_now_us()};
  reqlog_ship_opts o = {.follow = follow, .stop = &stop_flag, .progress = on_progress,
                        .notice = on_notice, .ctx = &s};
  char *cause = NULL;
  reqlog_err e = reqlog_ship(ctx->db_path, to, &o, &cause);
  if (s.shown)
    fputc('\n', stderr);
  if (e != REQLOG_OK)
    return cli_lib_error("ship", e, cause);
  printf("shipped %lld call%s\n", (long long)s.shipped, s.shipped == 1 ? "" : "s");
  return cli_finish_stdout("ship");
}

static int run(const cli_ctx *ctx, const cli_command *self, int argc, char **argv) {
  static const struct option longopts[] = {
    {"to", required_argument, NULL, 't'},
    {"follow", no_argument, NULL, 'f'},
    {"status", no_argument, NULL, 's'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  const char *to = NULL;
  int follow = 0, want_status = 0;
  for (;;) {
    int c = getopt_long(argc, argv, ":h", longopts, NULL);
    if (c == -1)
      break;
    switch (c) {
    case 't':
      if (!reqlog_is_store_url(optarg)) {
        cli_error("ship", "--to: not a PostgreSQL URL (postgresql://... or postgres://...)");
        return CLI_EXIT_USAGE;
      }
      to = optarg;
      break;
    case 'f':
      follow = 1;
      break;
    case 's':
      want_status = 1;
      break;
    case 'h':
      cli_usage(self, stdout);
      return CLI_EXIT_OK;
    default:
      return cli_bad_option("ship", c, argv);
    }
  }
  if (cli_extra_args("ship", argc, argv) != 0)
    return CLI_EXIT_USAGE;
  if (to && reqlog_store_url_has_password(to))
    cli_warn("the URL of --to holds a password, which other users of this machine can see "
             "on a command line: put it in ~/.pgpass or PGPASSFILE (or PGPASSWORD) instead");
  if (want_status) {
    if (follow) {
      cli_error("ship", "--status and --follow do not go together");
      return CLI_EXIT_USAGE;
    }
    return status(ctx, to);
  }
  if (!to) {
    cli_error("ship", "say where to ship: --to URL (or --status)");
    return CLI_EXIT_USAGE;
  }
  return ship(ctx, to, follow);
}

const cli_command cmd_ship = {
  .name = "ship",
  .summary = "copy this history into a PostgreSQL team store",
  .usage = usage_text,
  .run = run,
};
