/* cmd_list.c: `reqlog list`: recorded calls, newest first, as an aligned table or a
 * streamed JSON array of rows (without bodies). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_text[] =
  "usage: reqlog list [FILTERS] [--limit N] [--before ID] [--json]\n"
  "\n"
  "Lists recorded calls, newest first: id, local time, method, status, duration,\n"
  "key fingerprint, response size and path.\n"
  "\n"
  "Options:\n"
  "  --limit N       at most N calls (default 50; 0 = all)\n"
  "  --before ID     only calls older than call ID (the next page)\n"
  "  --json          a JSON array of rows (the row model of docs/design.md §7, no bodies)\n"
  "  -h, --help      this help\n"
  "\n" CLI_FILTER_HELP
  "\n"
  "Examples:\n"
  "  reqlog list --status 4xx --since 1h\n"
  "  reqlog list --field email --json | jq '.[].url'\n";

struct list_args {
  reqlog_filter *filter;
  int64_t limit, before;
  int json;
};

/* The path and query of URL ("/participants?page=2"), or FALLBACK. */
static const char *path_of(const char *url, const char *fallback) {
  const char *p = url ? strstr(url, "://") : NULL;
  if (!p)
    return fallback ? fallback : "-";
  p = strchr(p + 3, '/');
  return p ? p : "/";
}

static void print_header(int id_width) {
  cli_pad(stdout, "ID", id_width, 1);
  printf("  %-19s  %-7s  %-6s  %9s  %-14s  %10s  %s\n", "TIME", "METHOD", "STATUS", "MS",
         "KEY", "SIZE", "PATH");
}

static void print_row(const cJSON *row, int id_width, int color) {
  char idbuf[32], when[64], status[24], ms[32], size[32];
  snprintf(idbuf, sizeof idbuf, "%.0f", cli_num(row, "id", 0));
  cli_pad(stdout, idbuf, id_width, 1);
  fputs("  ", stdout);
  cli_pad(stdout, cli_local_time(cli_str(row, "started_at"), 0, when), 19, 0);
  fputs("  ", stdout);
  const char *method = cli_str(row, "method");
  cli_pad(stdout, method ? method : "-", 7, 0);
  fputs("  ", stdout);

  long code = (long)cli_num(row, "status", 0);
  if (code > 0)
    snprintf(status, sizeof status, "%ld", code);
  else
    snprintf(status, sizeof status, "ERR");
  fputs(cli_status_color(code, color), stdout);
  cli_pad(stdout, status, 6, 0);
  fputs(CLI_RESET(color), stdout);

  snprintf(ms, sizeof ms, "%.1f", cli_num(row, "duration_ms", 0));
  fputs("  ", stdout);
  cli_pad(stdout, ms, 9, 1);
  fputs("  ", stdout);
  const char *key = cli_str(row, "key");
  cli_pad(stdout, key ? key : "-", 14, 0);
  fputs("  ", stdout);
  cli_pad(stdout, cli_human_size((int64_t)cli_num(row, "response_size", 0), size), 10, 1);
  fputs("  ", stdout);
  const char *path = path_of(cli_str(row, "url"), cli_str(row, "path"));
  cli_put_safe(stdout, path, strlen(path));
  fputc('\n', stdout);
}

/* Streams the rows of C as a table; the first row fixes the id column's width (ids only
 * go down from there). LIMIT 0: all rows; otherwise one row past LIMIT was asked for,
 * to know whether to print the "more" hint. */
static reqlog_err print_table(reqlog_cursor *c, int64_t limit) {
  int color = cli_color(), id_width = 2;
  int64_t shown = 0, last_id = 0;
  for (;;) {
    cJSON *row = NULL;
    reqlog_err err = reqlog_cursor_next(c, &row);
    if (err == REQLOG_ERR_DONE)
      break;
    if (err != REQLOG_OK)
      return err;
    if (limit > 0 && shown == limit) {
      cJSON_Delete(row);
      fprintf(stderr, "… more: --before %lld\n", (long long)last_id);
      break;
    }
    if (shown == 0) {
      char idbuf[32];
      int w = snprintf(idbuf, sizeof idbuf, "%.0f", cli_num(row, "id", 0));
      id_width = w > id_width ? w : id_width;
      print_header(id_width);
    }
    print_row(row, id_width, color);
    last_id = (int64_t)cli_num(row, "id", 0);
    shown++;
    cJSON_Delete(row);
  }
  if (shown == 0)
    fputs("no calls match\n", stderr);
  return REQLOG_OK;
}

/* Streams the rows of C as one JSON array, a row per line. */
static reqlog_err print_json(reqlog_cursor *c) {
  int first = 1;
  fputc('[', stdout);
  for (;;) {
    cJSON *row = NULL;
    reqlog_err err = reqlog_cursor_next(c, &row);
    if (err == REQLOG_ERR_DONE)
      break;
    if (err != REQLOG_OK)
      return err;
    char *text = cli_json_print(row, 0);
    fputs(first ? "" : ",\n", stdout);
    fputs(text, stdout);
    free(text);
    cJSON_Delete(row);
    first = 0;
  }
  fputs("]\n", stdout);
  return REQLOG_OK;
}

/* Returns -1 to go on, else the exit code. */
static int parse_args(const cli_command *self, int argc, char **argv, struct list_args *a) {
  static const struct option own[] = {
    {"limit", required_argument, NULL, 'n'},
    {"before", required_argument, NULL, 'b'},
    {"json", no_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  const struct option *longopts = cli_filter_longopts("list", own);
  if (!longopts)
    return CLI_EXIT_USAGE;
  for (;;) {
    int c = getopt_long(argc, argv, ":q:h", longopts, NULL);
    if (c == -1)
      break;
    int handled = cli_filter_option("list", c, optarg, &a->filter);
    if (handled < 0)
      return CLI_EXIT_USAGE;
    if (handled)
      continue;
    switch (c) {
    case 'n':
      if (cli_parse_int("list", "--limit", optarg, 0, INT64_MAX - 1, &a->limit) != 0)
        return CLI_EXIT_USAGE;
      break;
    case 'b':
      if (cli_parse_int("list", "--before", optarg, 1, INT64_MAX, &a->before) != 0)
        return CLI_EXIT_USAGE;
      break;
    case 'j':
      a->json = 1;
      break;
    case 'h':
      cli_usage(self, stdout);
      return CLI_EXIT_OK;
    default:
      return cli_bad_option("list", c, argv);
    }
  }
  if (cli_extra_args("list", argc, argv) != 0)
    return CLI_EXIT_USAGE;
  return -1;
}

static int run(const cli_ctx *ctx, const cli_command *self, int argc, char **argv) {
  struct list_args a = {.limit = 50};
  reqlog *r = NULL;
  reqlog_cursor *cur = NULL;
  int rc = parse_args(self, argc, argv, &a);
  if (rc >= 0)
    goto done;
  rc = cli_open_db(ctx, "list", 1, &r);
  if (rc != CLI_EXIT_OK)
    goto done;
  reqlog_query_opts opts = {
    .limit = a.json || a.limit == 0 ? a.limit : a.limit + 1,
    .before_id = a.before,
  };
  char *cause = NULL;
  reqlog_err err = reqlog_query(r, a.filter, &opts, &cur, &cause);
  if (err == REQLOG_OK)
    err = a.json ? print_json(cur) : print_table(cur, a.limit);
  if (err != REQLOG_OK) {
    rc = cli_lib_error("list", err, cause);
    goto done;
  }
  rc = cli_finish_stdout("list");

done:
  if (cur)
    reqlog_cursor_free(cur);
  reqlog_close(r);
  if (a.filter)
    reqlog_filter_free(a.filter);
  return rc;
}

const cli_command cmd_list = {
  .name = "list",
  .summary = "list recorded calls, newest first",
  .usage = usage_text,
  .run = run,
};
