/* cmd_list.c: `reqlog list`: recorded calls, newest first, as an aligned table or a
 * streamed JSON array of rows (without bodies). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_text[] =
  "usage: reqlog list [FILTERS] [--limit N] [--before ID] [--json]\n"
  "\n"
  "Lists recorded calls, newest first: id, local time, method, status, duration,\n"
  "key fingerprint, response size and path; and the origin (where each call was\n"
  "recorded) when the calls listed come from more than one (judged on the first 50).\n"
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
  "  reqlog list --field email --json | jq '.[].url'\n"
  "  reqlog list --origin ci-runner-3 --status 429\n";

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

/* The table's layout, fixed by the first rows (ids only go down from there). The ORIGIN
 * column is shown only when those rows come from more than one origin: a local history
 * mostly holds one (this host), where the column would repeat one name on every line;
 * a team store or a merged history holds several, and then it says where each call was
 * made. `--json`, `show` and every export always carry the origin. The REQUEST ID column
 * (the API's request id) is shown when one of those rows has one. */
struct layout {
  int id_width;
  int origin_width; /* 0: no ORIGIN column */
  int reqid_width;  /* 0: no REQUEST ID column */
  int color;
};

enum {
  LOOKAHEAD = 50,     /* rows read before the header is printed */
  ORIGIN_WIDTH_MAX = 24,
  REQID_WIDTH_MAX = 28
};

static int text_width(const char *s) {
  int cols = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    cols += (*p & 0xC0) != 0x80; /* code points, as cli_pad() counts them */
  return cols;
}

static struct layout layout_of(cJSON *const *rows, size_t n) {
  struct layout l = {.id_width = 2, .color = cli_color()};
  if (n == 0)
    return l;
  char idbuf[32];
  int w = snprintf(idbuf, sizeof idbuf, "%.0f", cli_num(rows[0], "id", 0));
  l.id_width = w > l.id_width ? w : l.id_width;
  const char *first = cli_str(rows[0], "origin");
  int several = 0, width = 6; /* "ORIGIN" */
  for (size_t i = 0; i < n; i++) {
    const char *o = cli_str(rows[i], "origin");
    several |= !first != !o || (o && first && strcmp(o, first) != 0);
    int ow = o ? text_width(o) : 1;
    width = ow > width ? ow : width;
  }
  if (several)
    l.origin_width = width < ORIGIN_WIDTH_MAX ? width : ORIGIN_WIDTH_MAX;
  for (size_t i = 0; i < n; i++) {
    const char *id = cli_str(rows[i], "request_id");
    int iw = id ? text_width(id) : 0;
    if (iw && iw < 10)
      iw = 10; /* "REQUEST ID" */
    l.reqid_width = iw > l.reqid_width ? iw : l.reqid_width;
  }
  if (l.reqid_width > REQID_WIDTH_MAX)
    l.reqid_width = REQID_WIDTH_MAX;
  return l;
}

static void print_header(const struct layout *l) {
  cli_pad(stdout, "ID", l->id_width, 1);
  printf("  %-19s  %-7s  %-6s  %9s  %-14s  %10s  ", "TIME", "METHOD", "STATUS", "MS", "KEY",
         "SIZE");
  if (l->reqid_width) {
    cli_pad(stdout, "REQUEST ID", l->reqid_width, 0);
    fputs("  ", stdout);
  }
  if (l->origin_width) {
    cli_pad(stdout, "ORIGIN", l->origin_width, 0);
    fputs("  ", stdout);
  }
  puts("PATH");
}

static void print_row(const cJSON *row, const struct layout *l) {
  char idbuf[32], when[64], status[24], ms[32], size[32];
  int color = l->color;
  snprintf(idbuf, sizeof idbuf, "%.0f", cli_num(row, "id", 0));
  cli_pad(stdout, idbuf, l->id_width, 1);
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
  if (l->reqid_width) {
    const char *id = cli_str(row, "request_id");
    char *safe = xstrdup(id ? id : "-");
    for (char *p = safe; *p; p++)
      if ((unsigned char)*p < 0x20 || *p == 0x7f)
        *p = '?'; /* the writer keeps none; a store row is shown safely all the same */
    cli_pad(stdout, safe, l->reqid_width, 0); /* a longer one whole */
    free(safe);
    fputs("  ", stdout);
  }
  if (l->origin_width) {
    const char *origin = cli_str(row, "origin");
    cli_pad(stdout, origin ? origin : "-", l->origin_width, 0); /* a longer one whole */
    fputs("  ", stdout);
  }
  const char *path = path_of(cli_str(row, "url"), cli_str(row, "path"));
  cli_put_safe(stdout, path, strlen(path));
  cli_notes_suffix(row);
  fputc('\n', stdout);
}

/* Prints ROW (and frees it), or stops at the row past LIMIT with the "more" hint.
 * Returns 0 when the table is done. */
static int table_row(cJSON *row, const struct layout *l, int64_t limit, int64_t *shown,
                     int64_t *last_id) {
  if (limit > 0 && *shown == limit) {
    cJSON_Delete(row);
    fprintf(stderr, "… more: --before %lld\n", (long long)*last_id);
    return 0;
  }
  print_row(row, l);
  *last_id = (int64_t)cli_num(row, "id", 0);
  (*shown)++;
  cJSON_Delete(row);
  return 1;
}

/* Streams the rows of C as a table; the first LOOKAHEAD rows fix its layout. LIMIT 0:
 * all rows; otherwise one row past LIMIT was asked for, to know whether to print the
 * "more" hint. */
static reqlog_err print_table(reqlog_cursor *c, int64_t limit) {
  cJSON *first[LOOKAHEAD];
  size_t n = 0;
  reqlog_err err = REQLOG_OK;
  while (n < LOOKAHEAD && (err = reqlog_cursor_next(c, &first[n])) == REQLOG_OK)
    n++;
  /* the rows shown: the one past LIMIT only says whether there are more */
  struct layout l = layout_of(first, limit > 0 && (int64_t)n > limit ? (size_t)limit : n);
  int64_t shown = 0, last_id = 0;
  int going = 1;
  if (n > 0)
    print_header(&l);
  for (size_t i = 0; i < n; i++) {
    if (going)
      going = table_row(first[i], &l, limit, &shown, &last_id);
    else
      cJSON_Delete(first[i]);
  }
  while (going && err == REQLOG_OK) {
    cJSON *row = NULL;
    err = reqlog_cursor_next(c, &row);
    if (err == REQLOG_OK)
      going = table_row(row, &l, limit, &shown, &last_id);
  }
  if (err != REQLOG_OK && err != REQLOG_ERR_DONE)
    return err;
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
