/* cmd_serve.c: `reqlog serve`: the dashboard (web/server.h) over the history, until
 * SIGINT or SIGTERM. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "reqlog_web.h"

static const char usage_text[] =
  "usage: reqlog [--db PATH] serve [--listen HOST:PORT] [--token T] [--assets-dir DIR]\n"
  "                              [--idle-timeout SECONDS]\n"
  "\n"
  "Serves the dashboard (list, filters, detail, live tail, stats, export, replay) and\n"
  "its JSON API over the history, until interrupted (Ctrl-C or SIGTERM).\n"
  "\n"
  "Options:\n"
  "  -l, --listen HOST:PORT  address to listen on (default 127.0.0.1:8080; port 0 picks\n"
  "                          a free one); IPv6 as [::1]:8080\n"
  "  --token T               require this access token (letters, digits, - . _ ~):\n"
  "                          'Authorization: Bearer T', or open the printed login link\n"
  "                          once to get a session cookie. Without --token, a listen\n"
  "                          address other than loopback gets a generated token\n"
  "  --assets-dir DIR        serve the page's files from DIR instead of the copy built\n"
  "                          into reqlog (for working on web/static)\n"
  "  --idle-timeout SECONDS  close a connection that neither sends nor receives a byte\n"
  "                          for this long (default 30, 1-86400); an export waiting\n"
  "                          for the store's next rows is not idle\n"
  "  -h, --help              this help\n"
  "\n"
  "Requests whose Host header is not this server's name are refused (DNS rebinding);\n"
  "replays use the key in $REQLOG_API_KEY. A request must arrive whole within 10 s\n"
  "(slow or stalled clients are disconnected); at most 8 live tails per address.\n"
  "\n"
  "Examples:\n"
  "  reqlog serve                                  # then open http://127.0.0.1:8080\n"
  "  reqlog --db calls.db serve --listen 0.0.0.0:8080\n"
  "\n"
  "Exit: 0 stopped by a signal, 2 bad option, 4 the database could not be opened or the\n"
  "address could not be bound.\n";

/* Returns -1 to go on, else the exit code. */
static int parse_args(const cli_command *self, int argc, char **argv, web_opts *o) {
  static const struct option longopts[] = {
    {"listen", required_argument, NULL, 'l'},
    {"token", required_argument, NULL, 'T'},
    {"assets-dir", required_argument, NULL, 'A'},
    {"idle-timeout", required_argument, NULL, 'I'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  for (;;) {
    int c = getopt_long(argc, argv, ":l:h", longopts, NULL);
    if (c == -1)
      break;
    switch (c) {
    case 'l':
      o->listen = optarg;
      break;
    case 'T':
      o->token = optarg;
      break;
    case 'A':
      o->assets_dir = optarg;
      break;
    case 'I': {
      int64_t v = 0;
      if (cli_parse_int("serve", "--idle-timeout", optarg, 1, 86400, &v) != 0)
        return CLI_EXIT_USAGE;
      o->idle_s = (unsigned)v;
      break;
    }
    case 'h':
      cli_usage(self, stdout);
      return CLI_EXIT_OK;
    default:
      return cli_bad_option("serve", c, argv);
    }
  }
  if (cli_extra_args("serve", argc, argv) != 0)
    return CLI_EXIT_USAGE;
  web_listen l;
  if (cli_parse_listen("serve", o->listen, &l) != 0)
    return CLI_EXIT_USAGE;
  if (o->token && !web_token_valid(o->token)) {
    cli_error("serve", "--token: use 1 to 256 letters, digits, '-', '.', '_' or '~'");
    return CLI_EXIT_USAGE;
  }
  if (o->assets_dir && !*o->assets_dir) {
    cli_error("serve", "--assets-dir needs a folder");
    return CLI_EXIT_USAGE;
  }
  return -1;
}

static int run(const cli_ctx *ctx, const cli_command *self, int argc, char **argv) {
  web_opts o = {0};
  int rc = parse_args(self, argc, argv, &o);
  if (rc >= 0)
    return rc;
  /* the same refusal of a missing or unreadable history as every reading command */
  reqlog *r = NULL;
  rc = cli_open_db(ctx, "serve", 1, &r);
  if (rc != CLI_EXIT_OK)
    return rc;
  cli_close_db(r);
  o.db_path = ctx->db_path;

  cli_block_stop_signals(); /* before the server's threads, which inherit the mask */

  web_server *s = NULL;
  char *cause = NULL;
  if (web_start(&o, &s, &cause) != 0) {
    cli_error("serve", "%s", cause ? cause : "cannot start the server");
    free(cause);
    return CLI_EXIT_DB;
  }
  printf("serving %s\n", web_url(s));
  const char *token = web_token(s);
  if (token) {
    if (!o.token)
      printf("access token (generated): %s\n", token);
    printf("login: %s/login?token=%s\n", web_url(s), token);
  }
  if (cli_finish_stdout("serve") != CLI_EXIT_OK) {
    web_stop(s);
    return CLI_EXIT_DB;
  }
  cli_wait_stop();
  web_stop(s);
  return CLI_EXIT_OK;
}

const cli_command cmd_serve = {
  .name = "serve",
  .summary = "the dashboard: list, filter, live tail, stats, export, replay",
  .usage = usage_text,
  .run = run,
};
