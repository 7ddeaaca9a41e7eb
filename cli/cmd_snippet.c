/* cmd_snippet.c: `reqlog snippet ID --lang L`: a recorded call as code that makes it
 * again (the library's reqlog_snippet(), which the dashboard's "Copy as" shows too). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_text[] =
  "usage: reqlog snippet ID [--lang curl|python|node|php|httpie|go]\n"
  "\n"
  "Prints a recorded call as code that makes it again: curl (the default), Python\n"
  "requests, JavaScript fetch (node 18+), PHP's curl extension, HTTPie, Go net/http.\n"
  "The key is never in the history: a call that carried one reads it from the\n"
  "environment variable REQLOG_API_KEY. Headers redacted when recorded, [REDACTED]\n"
  "values and a truncated or binary body are said in comments. Shell commands quote\n"
  "every recorded part, so running one runs that program and nothing else.\n"
  "\n"
  "Options:\n"
  "  -l, --lang L   the language (default curl)\n"
  "  -h, --help     this help\n"
  "\n"
  "Example:\n"
  "  reqlog snippet 17 --lang python > replay.py && REQLOG_API_KEY=... python3 replay.py\n"
  "\n"
  "Exit: 0 printed, 2 bad ID or language, 4 database error, 5 no call with that id.\n";

static int run(const cli_ctx *ctx, const cli_command *self, int argc, char **argv) {
  static const struct option longopts[] = {
    {"lang", required_argument, NULL, 'l'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  const char *lang = "curl";
  for (;;) {
    int c = getopt_long(argc, argv, ":hl:", longopts, NULL);
    if (c == -1)
      break;
    if (c == 'l') {
      lang = optarg;
    } else if (c == 'h') {
      cli_usage(self, stdout);
      return CLI_EXIT_OK;
    } else {
      return cli_bad_option("snippet", c, argv);
    }
  }
  int known = 0;
  for (const char *const *l = reqlog_snippet_langs(); *l; l++)
    known |= strcmp(*l, lang) == 0;
  if (!known) {
    cli_error("snippet", "--lang: not one of curl, python, node, php, httpie, go");
    return CLI_EXIT_USAGE;
  }
  if (argc - optind != 1) {
    cli_error("snippet", "expected one call ID (see 'reqlog snippet --help')");
    return CLI_EXIT_USAGE;
  }
  int64_t id = 0;
  const char *text = argv[optind][0] == '#' ? argv[optind] + 1 : argv[optind];
  if (cli_parse_int("snippet", "ID", text, 1, INT64_MAX, &id) != 0)
    return CLI_EXIT_USAGE;
  reqlog *r = NULL;
  int rc = cli_open_db(ctx, "snippet", CLI_DB_READ, &r);
  if (rc != CLI_EXIT_OK)
    return rc;
  cJSON *row = NULL;
  char *cause = NULL, *code = NULL;
  reqlog_err err = reqlog_get(r, id, &row, &cause);
  if (err == REQLOG_OK)
    err = reqlog_snippet(row, lang, &code, &cause);
  if (err == REQLOG_ERR_NOTFOUND) {
    reqlog_free(cause);
    cli_error("snippet", "no call with id %lld", (long long)id);
    rc = CLI_EXIT_NOTFOUND;
  } else if (err != REQLOG_OK) {
    rc = cli_lib_error("snippet", err, cause);
  } else {
    fputs(code, stdout);
    rc = cli_finish_stdout("snippet");
  }
  reqlog_free(code);
  cJSON_Delete(row);
  reqlog_close(r);
  return rc;
}

const cli_command cmd_snippet = {
  .name = "snippet",
  .summary = "a call as code: curl, python, node, php, httpie, go",
  .usage = usage_text,
  .run = run,
};
