/* cmd_diff.c: `reqlog diff A B`: two recorded calls compared (reqlog_diff), side by side
 * as text or as the library's JSON; the exit code says whether they differ. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_text[] =
  "usage: reqlog diff A B|prev [--ignore PATH,...] [--keep PATH,...] [--json]\n"
  "\n"
  "Compares the recorded calls A and B (ids; B 'prev': the call before A to the same\n"
  "endpoint, i.e. the same method, host and path, shown as A): method, URL, status and transport error,\n"
  "timing phases side by side (never a difference), headers by name whatever their\n"
  "order, bodies structurally when both are JSON (added / removed / changed paths,\n"
  "arrays by index), else line by line. Volatile values are ignored and listed as\n"
  "such: the Date header and other date-times, request ids and trace headers,\n"
  "created_at / updated_at, values already redacted.\n"
  "\n"
  "Options:\n"
  "  --ignore PATH,...  also ignore these paths (repeatable): a path as the diff shows\n"
  "                     it (response.body.data.id, request.headers.x-client), or its\n"
  "                     end (id: every key called id), [*] any index, * any key\n"
  "  --keep PATH,...    compare these paths even when they are volatile (repeatable)\n"
  "  --json             the diff as JSON (see reqlog_diff_rows in reqlog.h)\n"
  "  -h, --help         this help\n"
  "\n"
  "Example:\n"
  "  reqlog diff 17 42 --ignore id,meta.page\n"
  "  reqlog diff 42 prev\n"
  "\n"
  "Exit: 0 the two calls are equal (volatile values and timing aside), 1 they differ,\n"
  "2 usage error, 4 database error, 5 no call with one of the ids (or no previous call).\n";

enum { OPT_IGNORE = 1, OPT_KEEP, OPT_JSON };

/* The comma list TEXT appended to *LIST (NULL-terminated, *N items). */
static void add_paths(const char *text, char ***list, size_t *n) {
  char *copy = xstrdup(text), *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    while (*tok == ' ')
      tok++;
    if (!*tok)
      continue;
    *list = xrealloc(*list, (*n + 2) * sizeof **list);
    (*list)[(*n)++] = xstrdup(tok);
    (*list)[*n] = NULL;
  }
  free(copy);
}

static void free_paths(char **list) {
  for (size_t i = 0; list && list[i]; i++)
    free(list[i]);
  free(list);
}

static int parse_id(const char *text, int64_t *id) {
  if (text[0] == '#')
    text++; /* "#17" as printed by `call` */
  return cli_parse_int("diff", "ID", text, 1, INT64_MAX, id);
}

/* ------------------------------------------------------------------ text output */

typedef struct {
  int color;
} out_ctx;

static const char *grey(const out_ctx *o) {
  return o->color ? "\033[2m" : "";
}

/* V as one line of text: a string as is, anything else as compact JSON; ABSENT: the
 * side does not have it. */
static char *value_text(const cJSON *v, int absent) {
  if (absent || !v)
    return xstrdup("-");
  if (cJSON_IsString(v))
    return xstrdup(v->valuestring);
  return cli_json_print(v, 0);
}

static void put_value(const cJSON *v, int absent, int width) {
  char *s = value_text(v, absent);
  size_t len = strlen(s);
  if (width > 0 && len > (size_t)width) {
    cli_put_safe(stdout, s, (size_t)width - 1);
    fputs("…", stdout);
  } else {
    cli_put_safe(stdout, s, len);
    for (int i = (int)len; i < width; i++)
      fputc(' ', stdout);
  }
  free(s);
}

static char mark_of(const char *state) {
  return strcmp(state, "changed") == 0 ? '~' : strcmp(state, "added") == 0 ? '+'
       : strcmp(state, "removed") == 0 ? '-' : ' ';
}

/* One entry: "~ PATH  A  B" (greyed with its reason when ignored); same ones only when
 * ALL is set. */
static void put_entry(const out_ctx *o, const cJSON *e, int all) {
  const char *state = cli_str(e, "state"), *path = cli_str(e, "path");
  const char *why = cli_str(e, "ignored");
  if (!state || !path || (!all && strcmp(state, "same") == 0))
    return;
  printf("%s%c ", why ? grey(o) : "", why ? '=' : mark_of(state));
  cli_put_safe(stdout, path, strlen(path));
  fputs("\n      A: ", stdout);
  put_value(cJSON_GetObjectItemCaseSensitive(e, "a"), strcmp(state, "added") == 0, 0);
  fputs("\n      B: ", stdout);
  put_value(cJSON_GetObjectItemCaseSensitive(e, "b"), strcmp(state, "removed") == 0, 0);
  if (why)
    printf("\n      (ignored: %s)%s", why, CLI_RESET(o->color));
  fputc('\n', stdout);
}

static void heading(const out_ctx *o, const char *title) {
  printf("\n%s%s%s\n", o->color ? "\033[1m" : "", title, CLI_RESET(o->color));
}

/* The overview fields: one line each when their values are short, else as entries. */
static void put_fields(const out_ctx *o, const cJSON *d) {
  const cJSON *e;
  cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(d, "fields")) {
    const char *state = cli_str(e, "state"), *path = cli_str(e, "path");
    if (!state || !path)
      continue;
    const char *why = cli_str(e, "ignored");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(e, "a");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(e, "b");
    char *ta = value_text(a, cJSON_IsNull(a)), *tb = value_text(b, cJSON_IsNull(b));
    int long_values = strlen(ta) > 30 || strlen(tb) > 30;
    free(ta);
    free(tb);
    if (long_values) {
      put_entry(o, e, 1);
      continue;
    }
    printf("%s%c %-8s ", why ? grey(o) : "", why ? '=' : mark_of(state), path);
    put_value(a, cJSON_IsNull(a), 30);
    fputs("  ", stdout);
    put_value(b, cJSON_IsNull(b), 0);
    printf("%s\n", why ? CLI_RESET(o->color) : "");
  }
}

static void put_timing(const out_ctx *o, const cJSON *d) {
  heading(o, "Timing (ms, not compared)");
  const cJSON *p;
  cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(d, "timing")) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(p, "a");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(p, "b");
    const char *phase = cli_str(p, "phase");
    printf("  %-11s", phase ? phase : "?");
    if (cJSON_IsNumber(a))
      printf("%12.3f", a->valuedouble);
    else
      printf("%12s", "-");
    if (cJSON_IsNumber(b))
      printf("%14.3f\n", b->valuedouble);
    else
      printf("%14s\n", "-");
  }
}

static void put_headers(const out_ctx *o, const cJSON *d, const char *member,
                        const char *title) {
  heading(o, title);
  int shown = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(d, member)) {
    const char *state = cli_str(e, "state");
    if (state && strcmp(state, "same") != 0) {
      put_entry(o, e, 0);
      shown++;
    }
  }
  if (!shown)
    puts("  (the same)");
}

static void put_body(const out_ctx *o, const cJSON *d, const char *member,
                     const char *title) {
  const cJSON *body = cJSON_GetObjectItemCaseSensitive(d, member);
  const char *kind = cli_str(body, "kind");
  char buf[64];
  snprintf(buf, sizeof buf, "%s (%s)", title, kind ? kind : "?");
  heading(o, buf);
  if (cli_num(body, "differences", 0) == 0 && cli_num(body, "ignored", 0) == 0) {
    puts(kind && strcmp(kind, "none") == 0 ? "  (no body on either side)" : "  (the same)");
    return;
  }
  const cJSON *e;
  cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(body, "changes")) put_entry(o, e, 0);
  cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(body, "lines")) {
    const char *op = cli_str(e, "op"), *text = cli_str(e, "text");
    if (!op)
      continue;
    if (strcmp(op, "skip") == 0) {
      printf("%s  ... %.0f unchanged lines%s\n", grey(o), cli_num(e, "count", 0),
             CLI_RESET(o->color));
      continue;
    }
    char m = strcmp(op, "added") == 0 ? '+' : strcmp(op, "removed") == 0 ? '-' : ' ';
    const char *col = !o->color || m == ' ' ? "" : m == '+' ? "\033[32m" : "\033[31m";
    printf("%s%c ", col, m);
    cli_put_safe(stdout, text ? text : "", strlen(text ? text : ""));
    printf("%s\n", *col ? CLI_RESET(o->color) : "");
  }
}

static void print_readable(const cJSON *d) {
  out_ctx o = {cli_color()};
  double diffs = cli_num(d, "differences", 0), ignored = cli_num(d, "ignored", 0);
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(d, "a");
  const cJSON *b = cJSON_GetObjectItemCaseSensitive(d, "b");
  printf("%sA #%.0f  B #%.0f: %s", o.color ? "\033[1m" : "", cli_num(a, "id", 0),
         cli_num(b, "id", 0), diffs == 0 ? "equal" : "different");
  printf(" (%.0f difference%s, %.0f ignored)%s\n", diffs, diffs == 1 ? "" : "s", ignored,
         CLI_RESET(o.color));
  printf("  %-8s %-30s  %s\n", "", "A", "B");
  put_fields(&o, d);
  put_timing(&o, d);
  put_headers(&o, d, "request_headers", "Request headers");
  put_body(&o, d, "request_body", "Request body");
  put_headers(&o, d, "response_headers", "Response headers");
  put_body(&o, d, "response_body", "Response body");
  puts("\n~ changed, - only in A, + only in B, = ignored");
}

/* ------------------------------------------------------------------ run */

static int run(const cli_ctx *ctx, const cli_command *self, int argc, char **argv) {
  static const struct option longopts[] = {
    {"ignore", required_argument, NULL, OPT_IGNORE},
    {"keep", required_argument, NULL, OPT_KEEP},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  char **ignore = NULL, **keep = NULL;
  size_t nignore = 0, nkeep = 0;
  int json = 0, rc = -1;
  for (;;) {
    int c = getopt_long(argc, argv, ":h", longopts, NULL);
    if (c == -1)
      break;
    if (c == OPT_IGNORE) {
      add_paths(optarg, &ignore, &nignore);
    } else if (c == OPT_KEEP) {
      add_paths(optarg, &keep, &nkeep);
    } else if (c == OPT_JSON) {
      json = 1;
    } else if (c == 'h') {
      cli_usage(self, stdout);
      rc = CLI_EXIT_OK;
      break;
    } else {
      rc = cli_bad_option("diff", c, argv);
      break;
    }
  }
  int64_t a = 0, b = 0;
  if (rc < 0 && argc - optind != 2) {
    cli_error("diff", "expected two call IDs (see 'reqlog diff --help')");
    rc = CLI_EXIT_USAGE;
  }
  int prev = rc < 0 && strcmp(argv[optind + 1], "prev") == 0;
  if (rc < 0 && (parse_id(argv[optind], &a) != 0 ||
                 (!prev && parse_id(argv[optind + 1], &b) != 0)))
    rc = CLI_EXIT_USAGE;
  reqlog *r = NULL;
  if (rc < 0) {
    rc = cli_open_db(ctx, "diff", CLI_DB_READ, &r);
    rc = rc == CLI_EXIT_OK ? -1 : rc;
  }
  if (rc < 0) {
    reqlog_diff_opts opts = {(const char *const *)ignore, (const char *const *)keep};
    cJSON *d = NULL;
    char *cause = NULL;
    reqlog_err err = REQLOG_OK;
    if (prev) { /* older first: A the previous call, B the one named */
      b = a;
      err = reqlog_previous_call(r, b, &a, &cause);
    }
    if (err == REQLOG_OK)
      err = reqlog_diff(r, a, b, &opts, &d, &cause);
    if (err != REQLOG_OK) {
      rc = cli_lib_error("diff", err, cause);
    } else {
      if (json) {
        char *text = cli_json_print(d, 1);
        puts(text);
        free(text);
      } else {
        print_readable(d);
      }
      rc = cli_finish_stdout("diff");
      if (rc == CLI_EXIT_OK && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "equal")))
        rc = CLI_EXIT_HTTP; /* 1: they differ */
    }
    cJSON_Delete(d);
    reqlog_close(r);
  }
  free_paths(ignore);
  free_paths(keep);
  return rc;
}

const cli_command cmd_diff = {
  .name = "diff",
  .summary = "compare two recorded calls",
  .usage = usage_text,
  .run = run,
};
