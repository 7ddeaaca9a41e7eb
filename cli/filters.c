/* filters.c: the FILTER options of the reading commands (list, stats, export), made
 * from the library's table of filters (reqlog_filter_info_at()): their getopt_long
 * entries, their help text (and a command's usage text, where it marks their place),
 * and setting a filter from the option getopt returned. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum {
  LONGOPTS_MAX = 64,  /* a command's own options and the filter options */
  HELP_WIDTH = 80,    /* columns of a help line */
  HELP_INDENT = 18    /* where the filters' help text starts */
};

const struct option *cli_filter_longopts(const char *cmd, const struct option *own) {
  static struct option all[LONGOPTS_MAX];
  size_t n = 0;
  for (; own[n].name; n++) {
    if (n + 1 >= LONGOPTS_MAX)
      goto full;
    all[n] = own[n];
  }
  const reqlog_filter_info *fi;
  for (size_t i = 0; (fi = reqlog_filter_info_at(i)) != NULL; i++) {
    /* the flag, and the name when it is spelt otherwise (--min-ms and --min_ms) */
    const char *spellings[2] = {fi->flag, strcmp(fi->flag, fi->name) ? fi->name : NULL};
    for (size_t k = 0; k < 2 && spellings[k]; k++) {
      if (n + 1 >= LONGOPTS_MAX)
        goto full;
      all[n++] = (struct option){spellings[k], required_argument, NULL,
                                 CLI_OPT_FILTER + (int)i};
    }
  }
  all[n] = (struct option){NULL, 0, NULL, 0};
  return all;
full:
  cli_error(cmd, "more than %d options", LONGOPTS_MAX - 1);
  return NULL;
}

/* Prints TEXT from column COL on, words wrapped at HELP_WIDTH onto lines indented by
 * HELP_INDENT, and ends the line. */
static void print_wrapped(FILE *out, const char *text, size_t col) {
  const char *p = text;
  while (*p) {
    size_t len = strcspn(p, " ");
    if (p != text && col + 1 + len > HELP_WIDTH) {
      fprintf(out, "\n%*s", HELP_INDENT, "");
      col = HELP_INDENT;
    } else if (p != text) {
      fputc(' ', out);
      col++;
    }
    fwrite(p, 1, len, out);
    col += len;
    p += len;
    p += strspn(p, " ");
  }
  fputc('\n', out);
}

void cli_filter_help(FILE *out) {
  fputs("Filters (all optional, combined with AND):\n", out);
  const reqlog_filter_info *fi;
  for (size_t i = 0; (fi = reqlog_filter_info_at(i)) != NULL; i++) {
    char left[64];
    if (fi->short_flag)
      snprintf(left, sizeof left, "-%c, --%s %s", fi->short_flag, fi->flag, fi->arg);
    else
      snprintf(left, sizeof left, "--%s %s", fi->flag, fi->arg);
    fprintf(out, "  %-*s", HELP_INDENT - 2, left);
    print_wrapped(out, fi->help, HELP_INDENT);
  }
}

/* --method VALUE was accepted: warns when it names a method no standard one is called
 * (any token is a method, but FROB is more likely a typo that matches nothing). */
static void warn_odd_method(const char *value) {
  reqlog_filter *one = NULL;
  char odd[64];
  if (reqlog_filter_new(&one) == REQLOG_OK &&
      reqlog_filter_set(one, "method", value, NULL) == REQLOG_OK &&
      reqlog_filter_odd_method(one, odd, sizeof odd))
    cli_warn("--method: no standard method is called '%s' (GET, HEAD, POST, PUT, PATCH, "
             "DELETE, OPTIONS, TRACE, CONNECT); only calls made with exactly that method "
             "match", odd);
  reqlog_filter_free(one);
}

/* The filter option OPT (getopt_long's answer) stands for, or NULL. */
static const reqlog_filter_info *filter_of(int opt) {
  const reqlog_filter_info *fi;
  if (opt >= CLI_OPT_FILTER)
    return reqlog_filter_info_at((size_t)(opt - CLI_OPT_FILTER));
  for (size_t i = 0; (fi = reqlog_filter_info_at(i)) != NULL; i++)
    if (fi->short_flag && fi->short_flag == opt)
      return fi;
  return NULL;
}

int cli_filter_option(const char *cmd, int opt, const char *value, reqlog_filter **f) {
  const reqlog_filter_info *fi = filter_of(opt);
  if (!fi)
    return 0;
  const char *name = fi->name;
  if (!*f && reqlog_filter_new(f) != REQLOG_OK) {
    cli_error(cmd, "out of memory");
    exit(CLI_EXIT_DB);
  }
  char *cause = NULL;
  reqlog_err err = reqlog_filter_set(*f, name, value, &cause);
  if (err == REQLOG_OK) {
    if (strcmp(name, "method") == 0)
      warn_odd_method(value);
    return 1;
  }
  if (err == REQLOG_ERR_NOMEM) {
    cli_error(cmd, "out of memory");
    exit(CLI_EXIT_DB);
  }
  if (cause)
    cli_error(cmd, "%s", cause);
  else
    cli_error(cmd, "--%s: '%s': %s", name, value, reqlog_strerror(err));
  reqlog_free(cause);
  return -1;
}

void cli_usage(const cli_command *cmd, FILE *out) {
  const char *mark = strstr(cmd->usage, CLI_FILTER_HELP);
  if (!mark) {
    fputs(cmd->usage, out);
    return;
  }
  fwrite(cmd->usage, 1, (size_t)(mark - cmd->usage), out);
  cli_filter_help(out);
  fputs(mark + strlen(CLI_FILTER_HELP), out);
}

int cli_filter_json_args(const cli_command *self, int argc, char **argv, reqlog_filter **f,
                         int *json, int *storage) {
  static const struct option own[] = {
    {"json", no_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  static const struct option own_storage[] = {
    {"json", no_argument, NULL, 'j'},
    {"storage", no_argument, NULL, 's'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  const char *cmd = self->name;
  const struct option *longopts = cli_filter_longopts(cmd, storage ? own_storage : own);
  if (!longopts)
    return CLI_EXIT_USAGE;
  for (;;) {
    int c = getopt_long(argc, argv, ":q:h", longopts, NULL);
    if (c == -1)
      break;
    int handled = cli_filter_option(cmd, c, optarg, f);
    if (handled < 0)
      return CLI_EXIT_USAGE;
    if (handled)
      continue;
    if (c == 'j') {
      *json = 1;
    } else if (c == 's' && storage) {
      *storage = 1;
    } else if (c == 'h') {
      cli_usage(self, stdout);
      return CLI_EXIT_OK;
    } else {
      return cli_bad_option(cmd, c, argv);
    }
  }
  if (cli_extra_args(cmd, argc, argv) != 0)
    return CLI_EXIT_USAGE;
  if (storage && *storage && *f) {
    fprintf(stderr, "reqlog: %s: --storage takes no filters (it is the whole history)\n", cmd);
    return CLI_EXIT_USAGE;
  }
  return -1;
}
