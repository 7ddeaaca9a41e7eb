/* cmd_exec.c: `reqlog exec -- PROGRAM ARGS...`: runs an unmodified libcurl program and
 * records each of its transfers; its exit code becomes reqlog's. */
#include "cli.h"

static const char usage_text[] =
  "usage: reqlog exec [--origin NAME] [--] PROGRAM [ARGS...]\n"
  "\n"
  "Runs PROGRAM, a dynamically linked libcurl program such as the curl command or\n"
  "git, and records each HTTP transfer it makes (easy and multi interfaces, including\n"
  "those of the processes it starts) with source \"exec\". Nothing else changes:\n"
  "PROGRAM gets the same stdin, stdout, stderr and arguments, and its exit code (or\n"
  "128 + the signal that ended it) is reqlog's. Rows are redacted like every\n"
  "recorded call: the Authorization key becomes a fingerprint.\n"
  "\n"
  "The recording comes from libreqlog-shim.so, preloaded with LD_PRELOAD; reqlog looks\n"
  "for it next to its own binary, in ../lib/reqlog/, or at $REQLOG_SHIM. Libraries\n"
  "PROGRAM opens with RTLD_DEEPBIND (PHP's curl extension) are opened without it\n"
  "(on x86-64), so their calls are recorded too. Programs with libcurl built in\n"
  "statically and set-user-ID programs run unrecorded; code that calls libcurl past\n"
  "the shim (a library loaded with dlmopen) runs unrecorded with a warning when its\n"
  "process exits. PROGRAM starts with the signal dispositions and mask reqlog was\n"
  "given. The database (--db) is created when missing; if it cannot be opened,\n"
  "PROGRAM still runs, unrecorded, after a warning.\n"
  "\n"
  "Options (before PROGRAM; put -- first when PROGRAM starts with -):\n"
  "  --origin NAME   record the calls as made by NAME (default $REQLOG_ORIGIN, else\n"
  "                  this host's name); `list --origin NAME` finds them\n"
  "  -h, --help      this help\n"
  "\n"
  "Examples:\n"
  "  REQLOG_DB=calls.db reqlog exec -- curl -s -H \"Authorization: Bearer $KEY\" \\\n"
  "      https://api.app.astalty.com.au/public/v1/participants\n"
  "  reqlog --db calls.db exec -- sh ./sync.sh && reqlog --db calls.db list\n"
  "\n"
  "Exit: PROGRAM's exit code; 2 bad option or no PROGRAM; 4 the shim is missing;\n"
  "126 PROGRAM cannot be run; 127 PROGRAM not found.\n";

static int run(const cli_ctx *ctx, const cli_command *self, int argc, char **argv) {
  static const struct option longopts[] = {
    {"origin", required_argument, NULL, 'O'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  const char *origin = NULL;
  for (;;) {
    /* '+': PROGRAM's options are its own */
    int c = getopt_long(argc, argv, "+:h", longopts, NULL);
    if (c == -1)
      break;
    if (c == 'h') {
      cli_usage(self, stdout);
      return CLI_EXIT_OK;
    }
    if (c != 'O')
      return cli_bad_option("exec", c, argv);
    if (cli_check_origin("exec", optarg) != 0)
      return CLI_EXIT_USAGE;
    origin = optarg;
  }
  if (optind >= argc) {
    cli_error("exec", "a PROGRAM to run is required (see 'reqlog exec --help')");
    return CLI_EXIT_USAGE;
  }

  reqlog *r = NULL;
  char *cause = NULL;
  if (reqlog_open(ctx->db_path, &r, &cause) != REQLOG_OK) {
    cli_warn("cannot open %s: %s; %s runs but is not recorded", ctx->db_shown,
             cause ? cause : "unknown error", argv[optind]);
    reqlog_free(cause);
    cause = NULL;
    reqlog_err err = reqlog_open(NULL, &r, &cause);
    if (err != REQLOG_OK)
      return cli_lib_error("exec", err, cause);
  }
  reqlog_set_error_handler(r, cli_on_record_error, NULL);
  reqlog_set_source(r, "exec");
  if (origin)
    reqlog_set_origin(r, origin); /* checked by cli_check_origin() */
  if (ctx->request_id_headers)
    reqlog_set_request_id_headers(r, ctx->request_id_headers); /* checked by main() */

  int code = -1;
  reqlog_err err = reqlog_exec(r, argv + optind, NULL, &code, &cause);
  if (err != REQLOG_OK) {
    cli_error("exec", "%s", cause ? cause : reqlog_strerror(err));
    reqlog_free(cause);
    reqlog_close(r);
    return code >= 0 ? code : CLI_EXIT_DB; /* 126/127: PROGRAM could not be started */
  }
  cli_close_db(r); /* a write failure is a warning: the exit code stays PROGRAM's */
  return code;
}

const cli_command cmd_exec = {
  .name = "exec",
  .summary = "run a libcurl program (curl, git...) and record its calls",
  .usage = usage_text,
  .run = run,
};
