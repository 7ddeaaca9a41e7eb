/* cmd_problems.c: `reqlog problems [FILTERS]`: the failing calls grouped by endpoint,
 * status and the API's message (reqlog_problems), busiest first, each with a sparkline
 * of its calls over the range; or the library's JSON. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_text[] =
  "usage: reqlog problems [FILTERS] [--json]\n"
  "\n"
  "Groups the failing calls (status 400 or more, or no response) among those matching\n"
  "the filters by method, path template (numeric and UUID segments as {id}), status and\n"
  "the API's message (the transport error when no response came; for a 422 also its\n"
  "failing fields), busiest first: exact count, keys affected, first and last time, and\n"
  "a sparkline of the calls per hour over the range (the filters' --since/--until, else\n"
  "from the first failing call to now; wider points beyond 168 hours). Each group ends\n"
  "with the list command that shows its calls.\n"
  "\n"
  "Options:\n"
  "  --json        the groups as JSON (see reqlog_problems in reqlog.h)\n"
  "  -h, --help    this help\n"
  "\n" CLI_FILTER_HELP
  "\n"
  "Example:\n"
  "  reqlog problems --since 24h\n"
  "\n"
  "Exit: 0 shown (with or without problems), 2 usage error, 4 database error.\n";

/* Counts as a line of block characters, the highest as a full block. */
static void sparkline(const cJSON *hours) {
  static const char *const blocks[] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  double max = 0;
  const cJSON *v;
  cJSON_ArrayForEach(v, hours) max = v->valuedouble > max ? v->valuedouble : max;
  cJSON_ArrayForEach(v, hours) {
    int level = max > 0 && v->valuedouble > 0 ? 1 + (int)(7.0 * v->valuedouble / max) : 0;
    fputs(blocks[level > 8 ? 8 : level], stdout);
  }
}

/* The `reqlog list` options of the group's "filter" object. */
static void print_list_command(const cJSON *filter) {
  static const char *const names[] = {"method", "path", "status", "field"};
  fputs("    reqlog list", stdout);
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    const char *v = cli_str(filter, names[i]);
    if (!v)
      continue;
    printf(" --%s '", names[i]);
    for (const char *p = v; *p; p++) {
      if (*p == '\'')
        fputs("'\\''", stdout);
      else
        cli_put_safe(stdout, p, 1);
    }
    fputc('\'', stdout);
  }
  fputc('\n', stdout);
}

static void print_group(const cJSON *g, int color) {
  char last[64], status[16];
  double st = cli_num(g, "status", 0);
  if (st > 0)
    snprintf(status, sizeof status, "%.0f", st);
  else
    snprintf(status, sizeof status, "ERR");
  printf("%7.0f  %s", cli_num(g, "count", 0), cli_status_color((long)st, color));
  cli_pad(stdout, status, 4, 0);
  printf("%s  ", CLI_RESET(color));
  const char *method = cli_str(g, "method"), *tmpl = cli_str(g, "template");
  cli_put_safe(stdout, method ? method : "-", strlen(method ? method : "-"));
  fputc(' ', stdout);
  cli_put_safe(stdout, tmpl ? tmpl : "", strlen(tmpl ? tmpl : ""));
  fputs("\n         ", stdout);
  const char *message = cli_str(g, "message");
  cli_put_safe(stdout, message ? message : "(no message)",
               strlen(message ? message : "(no message)"));
  const cJSON *fields = cJSON_GetObjectItemCaseSensitive(g, "fields");
  if (cJSON_IsArray(fields)) {
    fputs("  [", stdout);
    const cJSON *f;
    int first = 1;
    cJSON_ArrayForEach(f, fields) {
      if (!cJSON_IsString(f))
        continue;
      fputs(first ? "" : ", ", stdout);
      cli_put_safe(stdout, f->valuestring, strlen(f->valuestring));
      first = 0;
    }
    fputc(']', stdout);
  }
  printf("\n         keys %.0f%s · first %s", cli_num(g, "keys", 0),
         cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g, "without_key")) ? " (+ no key)" : "",
         cli_local_time(cli_str(g, "first"), 0, last));
  printf(" · last %s · newest #%.0f\n         ", cli_local_time(cli_str(g, "last"), 0, last),
         cli_num(g, "newest_id", 0));
  sparkline(cJSON_GetObjectItemCaseSensitive(g, "hours"));
  fputc('\n', stdout);
  print_list_command(cJSON_GetObjectItemCaseSensitive(g, "filter"));
}

static void print_readable(const cJSON *p) {
  int color = cli_color();
  char from[64], to[64];
  const cJSON *range = cJSON_GetObjectItemCaseSensitive(p, "range");
  double total = cli_num(p, "total", 0), groups = cli_num(p, "groups_total", 0);
  printf("%.0f failing call%s in %.0f group%s, %s to %s (a sparkline point is %.0f h)\n",
         total, total == 1 ? "" : "s", groups, groups == 1 ? "" : "s",
         cli_local_time(cli_str(range, "from"), 0, from),
         cli_local_time(cli_str(range, "to"), 0, to), cli_num(p, "bucket_s", 3600) / 3600);
  const cJSON *g;
  cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(p, "groups")) {
    fputc('\n', stdout);
    print_group(g, color);
  }
  int shown = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "groups"));
  if (shown < groups)
    printf("\n(the %d busiest of %.0f groups; narrow the filters for the others)\n", shown,
           groups);
}

static int run(const cli_ctx *ctx, const cli_command *self, int argc, char **argv) {
  reqlog_filter *filter = NULL;
  reqlog *r = NULL;
  cJSON *p = NULL;
  int json = 0;
  int rc = cli_filter_json_args(self, argc, argv, &filter, &json, NULL);
  if (rc < 0) {
    rc = cli_open_db(ctx, "problems", CLI_DB_READ, &r);
    if (rc == CLI_EXIT_OK) {
      char *cause = NULL;
      reqlog_err err = reqlog_problems(r, filter, &p, &cause);
      if (err != REQLOG_OK) {
        rc = cli_lib_error("problems", err, cause);
      } else {
        if (json) {
          char *text = cli_json_print(p, 1);
          puts(text);
          free(text);
        } else {
          print_readable(p);
        }
        rc = cli_finish_stdout("problems");
      }
    }
  }
  cJSON_Delete(p);
  reqlog_close(r);
  reqlog_filter_free(filter);
  return rc;
}

const cli_command cmd_problems = {
  .name = "problems",
  .summary = "failing calls grouped by endpoint, status and message",
  .usage = usage_text,
  .run = run,
};
