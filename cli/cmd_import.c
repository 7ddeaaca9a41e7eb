/* cmd_import.c: `reqlog import FILE.har`: loads a HAR file into the history, redacted
 * like recorded calls, all or nothing. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const char usage_text[] =
  "usage: reqlog import [--origin NAME] FILE.har\n"
  "\n"
  "Loads a HAR 1.2 file into the history: one call per entry, with source \"import\".\n"
  "Browsers' DevTools (\"Save all as HAR\"), Playwright's recordHar and\n"
  "`reqlog export --format har` write such files. Every entry is imported, API calls\n"
  "and page resources alike, and redacted as a recorded call is: Authorization becomes\n"
  "a key fingerprint; cookies, tokens in URLs and secret JSON keys become [REDACTED].\n"
  "\n"
  "All or nothing: a malformed file is rejected with the JSON path of its first\n"
  "problem (e.g. log.entries[3].request.url: missing) and no call is added. The\n"
  "database is created when it does not exist yet.\n"
  "\n"
  "Options:\n"
  "  --origin NAME   record the calls as made by NAME (default $REQLOG_ORIGIN, else\n"
  "                  this host's name); an entry of reqlog's own export keeps the\n"
  "                  origin it names (_reqlog.origin). `list --origin NAME` finds them\n"
  "  -h, --help      this help\n"
  "\n"
  "Example:\n"
  "  reqlog --db support.db import ~/Downloads/app.example.com.har\n"
  "  reqlog --db support.db list --status 4xx\n"
  "\n"
  "Exit: 0 imported; 2 bad option, or FILE is not a HAR reqlog can load (malformed:\n"
  "the message names the JSON path; or larger than 512 MiB); 4 FILE is missing or\n"
  "unreadable, or the database cannot be opened or written.\n";

static int run(const cli_ctx *ctx, const cli_command *self, int argc, char **argv) {
  static const struct option longopts[] = {
    {"origin", required_argument, NULL, 'O'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  const char *origin = NULL;
  for (;;) {
    int c = getopt_long(argc, argv, ":h", longopts, NULL);
    if (c == -1)
      break;
    if (c == 'h') {
      cli_usage(self, stdout);
      return CLI_EXIT_OK;
    }
    if (c != 'O')
      return cli_bad_option("import", c, argv);
    if (cli_check_origin("import", optarg) != 0)
      return CLI_EXIT_USAGE;
    origin = optarg;
  }
  if (optind >= argc) {
    cli_error("import", "a HAR file is required (see 'reqlog import --help')");
    return CLI_EXIT_USAGE;
  }
  const char *file = argv[optind++];
  if (cli_extra_args("import", argc, argv) != 0)
    return CLI_EXIT_USAGE;

  /* an unreadable file must not leave a new, empty database behind */
  struct stat st;
  if (stat(file, &st) != 0) {
    cli_error("import", "cannot read %s: %s", file, strerror(errno));
    return CLI_EXIT_DB;
  }
  if (!S_ISREG(st.st_mode)) {
    cli_error("import", "%s is not a regular file", file);
    return CLI_EXIT_DB;
  }

  reqlog *r = NULL;
  int rc = cli_open_db(ctx, "import", 0, &r);
  if (rc != CLI_EXIT_OK)
    return rc;
  if (origin)
    reqlog_set_origin(r, origin); /* checked by cli_check_origin() */
  int64_t n = 0;
  char *cause = NULL;
  reqlog_err err = reqlog_import_har(r, file, &n, &cause);
  if (err == REQLOG_ERR_ARG) {
    /* a problem in the file: name it, then where in the file */
    char *msg = xasprintf("%s: %s", file, cause ? cause : reqlog_strerror(err));
    reqlog_free(cause);
    cause = msg;
  }
  if (err != REQLOG_OK) {
    rc = cli_lib_error("import", err, cause);
    reqlog_close(r);
    return rc;
  }
  rc = cli_close_db(r);
  if (rc != CLI_EXIT_OK)
    return rc;
  printf("imported %" PRId64 " call%s from %s\n", n, n == 1 ? "" : "s", file);
  return cli_finish_stdout("import");
}

const cli_command cmd_import = {
  .name = "import",
  .summary = "load a HAR file (browser DevTools, Playwright, reqlog export)",
  .usage = usage_text,
  .run = run,
};
