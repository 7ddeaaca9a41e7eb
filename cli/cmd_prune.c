/* cmd_prune.c: `reqlog prune`: retention: deletes calls older than a duration and/or the
 * oldest calls beyond a row count. */
#include "cli.h"

static const char usage_text[] =
  "usage: reqlog prune --older-than DURATION | --max-rows N [--include-pinned]\n"
  "\n"
  "Deletes recorded calls: those started more than DURATION ago, then the oldest ones\n"
  "beyond the newest N. At least one of the two is required; both may be given.\n"
  "Nothing of a deleted call stays in the history's files: its row and its words in the\n"
  "search index are overwritten (the index is rewritten, a few seconds per 100,000\n"
  "calls) and the -wal is emptied. When another process keeps reading meanwhile, prune\n"
  "says so and exits 4 after deleting; run it again later to finish.\n"
  "On a team store (--db postgresql://...), whole days older than DURATION are dropped\n"
  "(their partitions) and the rest deleted, in one transaction.\n"
  "Pinned calls (reqlog pin) are kept, whatever their age or place, unless\n"
  "--include-pinned. A deleted call's note and tags go with it.\n"
  "\n"
  "Options:\n"
  "  --older-than D   a duration: 45s, 15m, 12h, 30d, 2w\n"
  "  --max-rows N     keep at most the newest N calls (N >= 1), and the pinned ones\n"
  "  --include-pinned delete pinned calls too\n"
  "  -h, --help       this help\n"
  "\n"
  "Example:\n"
  "  reqlog prune --older-than 30d --max-rows 1000000\n";

/* Returns -1 to go on, else the exit code. */
static int parse_args(const cli_command *self, int argc, char **argv, int64_t *cutoff_us,
                      int64_t *max_rows, int *include_pinned) {
  static const struct option longopts[] = {
    {"include-pinned", no_argument, NULL, 'p'},
    {"older-than", required_argument, NULL, 'o'},
    {"max-rows", required_argument, NULL, 'm'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  for (;;) {
    int c = getopt_long(argc, argv, ":h", longopts, NULL);
    if (c == -1)
      break;
    int64_t age = 0;
    switch (c) {
    case 'o':
      if (reqlog_parse_duration(optarg, &age) != REQLOG_OK || age <= 0) {
        cli_error("prune", "--older-than: '%s' is not a duration like 30d, 12h or 15m",
                  optarg);
        return CLI_EXIT_USAGE;
      }
      *cutoff_us = cli_now_us() - age;
      if (*cutoff_us <= 0)
        *cutoff_us = 1; /* before 1970: nothing is that old, and 0 would mean "no bound" */
      break;
    case 'm':
      if (cli_parse_int("prune", "--max-rows", optarg, 1, INT64_MAX, max_rows) != 0)
        return CLI_EXIT_USAGE;
      break;
    case 'p':
      *include_pinned = 1;
      break;
    case 'h':
      cli_usage(self, stdout);
      return CLI_EXIT_OK;
    default:
      return cli_bad_option("prune", c, argv);
    }
  }
  if (cli_extra_args("prune", argc, argv) != 0)
    return CLI_EXIT_USAGE;
  if (*cutoff_us == 0 && *max_rows == 0) {
    cli_error("prune", "say what to delete: --older-than DURATION and/or --max-rows N");
    return CLI_EXIT_USAGE;
  }
  return -1;
}

static int run(const cli_ctx *ctx, const cli_command *self, int argc, char **argv) {
  int64_t cutoff_us = 0, max_rows = 0, deleted = 0;
  int include_pinned = 0;
  reqlog *r = NULL;
  int rc = parse_args(self, argc, argv, &cutoff_us, &max_rows, &include_pinned);
  if (rc >= 0)
    return rc;
  /* A team store is pruned through its own connections: the store handle
   * (reqlog_open_readonly) deletes there; no local spool is involved. */
  rc = cli_open_db(ctx, "prune", reqlog_is_store_url(ctx->db_path) ? CLI_DB_READ : CLI_DB_WRITE,
                   &r);
  if (rc != CLI_EXIT_OK)
    return rc;
  char *cause = NULL;
  reqlog_err err = reqlog_prune_ex(r, cutoff_us, max_rows, include_pinned, &deleted, &cause);
  if (err != REQLOG_OK) {
    if (deleted > 0) /* deleted, but their old pages are still in the files */
      printf("pruned %lld call%s\n", (long long)deleted, deleted == 1 ? "" : "s");
    rc = cli_lib_error("prune", err, cause);
  } else {
    printf("pruned %lld call%s\n", (long long)deleted, deleted == 1 ? "" : "s");
    rc = cli_finish_stdout("prune");
  }
  if (cli_close_db(r) != CLI_EXIT_OK && rc == CLI_EXIT_OK)
    rc = CLI_EXIT_DB;
  return rc;
}

const cli_command cmd_prune = {
  .name = "prune",
  .summary = "delete old calls (retention)",
  .usage = usage_text,
  .run = run,
};
