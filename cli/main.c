/* main.c: the `reqlog` command: global options (--db, --help, --version) and the table
 * of subcommands, each implemented in its own cli/cmd_*.c file. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cli_command *const commands[] = {
  &cmd_call, &cmd_list, &cmd_show, &cmd_export, &cmd_import, &cmd_stats, &cmd_prune,
  &cmd_demo, &cmd_serve, &cmd_proxy, &cmd_exec, &cmd_ship, &cmd_mock, &cmd_diff,
  &cmd_problems, &cmd_note, &cmd_tag, &cmd_pin, &cmd_unpin, &cmd_snippet, &cmd_replay,
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out) {
  fputs("usage: reqlog [--db PATH] [--request-id-headers NAME,...] COMMAND [ARGS...]\n"
        "\n"
        "Records calls to bearer-token JSON APIs into a SQLite history and reads it back.\n"
        "\n"
        "Commands:\n",
        out);
  for (size_t i = 0; i < NCOMMANDS; i++)
    fprintf(out, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
  fputs("\n"
        "Global options (before the command):\n"
        "  --db PATH      history database (default $REQLOG_DB, else ./reqlog.db), or a\n"
        "                 PostgreSQL URL: a team store, recorded into through a local\n"
        "                 spool ($REQLOG_SPOOL) that a thread ships\n"
        "  --request-id-headers NAME,...\n"
        "                 the response headers whose value is a recorded call's request\n"
        "                 id, tried in order (default $REQLOG_REQUEST_ID_HEADERS, else\n"
        "                 X-Request-Id,Request-Id,X-Amzn-RequestId,X-Trace-Id)\n"
        "  -h, --help     this help; 'reqlog COMMAND --help' for a command's own\n"
        "  --version      print the version\n"
        "\n"
        "Example:\n"
        "  REQLOG_API_KEY=... reqlog call GET /participants && reqlog list --status 4xx\n"
        "\n"
        "Exit codes: 0 ok, 1 API answered non-2xx, 2 usage error, 3 transport error,\n"
        "4 database or file error, 5 not found. See reqlog(1).\n",
        out);
}

static const cli_command *find_command(const char *name) {
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (strcmp(commands[i]->name, name) == 0)
      return commands[i];
  return NULL;
}

int main(int argc, char **argv) {
  static const struct option longopts[] = {
    {"db", required_argument, NULL, 'D'},
    {"request-id-headers", required_argument, NULL, 'R'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
  };
  /* Before any SQLite use: the dashboard reads from many threads at once. */
  reqlog_global_init();
  cli_ctx ctx = {0};
  const char *env_db = getenv("REQLOG_DB");
  ctx.db_path = env_db && *env_db ? env_db : "./reqlog.db";

  opterr = 0;
  for (;;) {
    /* '+': stop at the command name, whose options are its own */
    int c = getopt_long(argc, argv, "+:h", longopts, NULL);
    if (c == -1)
      break;
    switch (c) {
    case 'D':
      if (!*optarg) {
        fputs("reqlog: --db needs a path\n", stderr);
        return CLI_EXIT_USAGE;
      }
      ctx.db_path = optarg;
      if (reqlog_store_url_has_password(optarg))
        fputs("reqlog: warning: the URL of --db holds a password, which other users of this "
              "machine can see on a command line: put it in ~/.pgpass or PGPASSFILE (or "
              "PGPASSWORD) instead\n", stderr);
      break;
    case 'R': {
      reqlog *probe = NULL; /* a handle without a database checks the list */
      reqlog_err err = reqlog_open(NULL, &probe, NULL);
      if (err == REQLOG_OK)
        err = reqlog_set_request_id_headers(probe, optarg);
      reqlog_close(probe);
      if (err != REQLOG_OK) {
        fputs("reqlog: --request-id-headers: not a comma list of 1 to 16 header names\n", stderr);
        return CLI_EXIT_USAGE;
      }
      ctx.request_id_headers = optarg;
      break;
    }
    case 'h':
      usage(stdout);
      return CLI_EXIT_OK;
    case 'V':
      printf("reqlog %s (libreqlog %s, libcurl %s, cJSON %s)\n", REQLOG_VERSION,
             reqlog_version(), curl_version_info(CURLVERSION_NOW)->version, cJSON_Version());
      return CLI_EXIT_OK;
    default:
      if (c == ':')
        fprintf(stderr, "reqlog: option '%s' needs a value\n", argv[optind - 1]);
      else
        fprintf(stderr, "reqlog: unknown option '%s' (see 'reqlog --help')\n", argv[optind - 1]);
      return CLI_EXIT_USAGE;
    }
  }
  if (optind >= argc) {
    usage(stderr);
    return CLI_EXIT_USAGE;
  }
  const char *name = argv[optind];
  if (strcmp(name, "help") == 0) {
    const cli_command *cmd = optind + 1 < argc ? find_command(argv[optind + 1]) : NULL;
    if (cmd)
      cli_usage(cmd, stdout);
    else
      usage(stdout);
    return CLI_EXIT_OK;
  }
  const cli_command *cmd = find_command(name);
  if (!cmd) {
    fprintf(stderr, "reqlog: unknown command '%s' (see 'reqlog --help')\n", name);
    return CLI_EXIT_USAGE;
  }
  int cargc = argc - optind;
  char **cargv = argv + optind;
  optind = 0; /* a fresh getopt scan for the command's own options */
  /* An application initialises libcurl once, before any thread exists. */
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    fprintf(stderr, "reqlog: %s: cannot initialise libcurl\n", name);
    return CLI_EXIT_TRANSPORT;
  }
  /* a store URL's password never reaches a message */
  char *shown = reqlog_is_store_url(ctx.db_path) ? reqlog_store_url_shown(ctx.db_path) : NULL;
  ctx.db_shown = shown ? shown : ctx.db_path;
  int rc = cmd->run(&ctx, cmd, cargc, cargv);
  reqlog_free(shown);
  curl_global_cleanup();
  return rc;
}
