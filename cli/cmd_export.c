/* cmd_export.c: `reqlog export`: streams the calls matching the filters as CSV or
 * NDJSON to stdout or to a file that appears only once it is complete. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char usage_text[] =
  "usage: reqlog export --format csv|ndjson|har [FILTERS] [-o FILE] [--bodies]\n"
  "\n"
  "Streams the calls matching the filters, oldest first. CSV is RFC 4180 with a header\n"
  "row (cells starting with = + - @ are neutralised); NDJSON is one row per line; HAR\n"
  "is HAR 1.2, for browsers' and other tools' network panels.\n"
  "Secrets were redacted when the calls were recorded.\n"
  "\n"
  "Options:\n"
  "  -f, --format F    csv, ndjson or har; may be left out when -o FILE ends in\n"
  "                    .csv, .ndjson, .jsonl or .har\n"
  "  -o, --output FILE write to FILE (mode 0600) instead of stdout; FILE is replaced\n"
  "                    only when the export is complete, never left half-written\n"
  "  --bodies          CSV: add request_body and response_body columns\n"
  "  -h, --help        this help\n"
  "\n" CLI_FILTER_HELP
  "\n"
  "Progress is shown on stderr when it is a terminal.\n"
  "\n"
  "Examples:\n"
  "  reqlog export --format csv --since 24h -o calls.csv\n"
  "  reqlog export --format ndjson --status 422 | jq .error_fields\n"
  "  reqlog export -o support-ticket.har --since 1h\n"
  "\n"
  "Exit: 0 done, 2 bad option, filter or format, 4 the\n"
  "database could not be read or the output could not be written (a full disk, or a\n"
  "reader that closed the pipe early: then export stops without a message).\n";

struct export_args {
  reqlog_filter *filter;
  reqlog_export_opts opts;
  int have_format;
  const char *output;
};

struct sink {
  FILE *f;
  int write_errno; /* errno of the first failed write, 0 while all is well */
  int progress_shown;
};

/* The temporary file being written, removed if a signal ends the export. */
static volatile sig_atomic_t tmp_live;
static char *tmp_path;

static void on_signal(int sig) {
  if (tmp_live)
    unlink(tmp_path);
  signal(sig, SIG_DFL);
  raise(sig);
}

static int write_out(void *ctx, const char *data, size_t len) {
  struct sink *s = ctx;
  if (fwrite(data, 1, len, s->f) == len)
    return 0;
  s->write_errno = errno ? errno : EIO;
  return 1;
}

static void show_progress(void *ctx, int64_t done, int64_t total) {
  struct sink *s = ctx;
  char d[32], t[32];
  int pct = total > 0 ? (int)(done * 100 / total) : 100;
  fprintf(stderr, "\rexporting: %d%% (%s of %s rows)", pct, cli_thousands(done, d),
          cli_thousands(total, t));
  if (done >= total)
    fputc('\n', stderr);
  s->progress_shown = done < total;
}

static int parse_format(const char *text, reqlog_format *out) {
  static const struct { const char *name; reqlog_format format; } formats[] = {
    {"csv", REQLOG_FORMAT_CSV}, {"ndjson", REQLOG_FORMAT_NDJSON},
    {"jsonl", REQLOG_FORMAT_NDJSON}, {"har", REQLOG_FORMAT_HAR},
  };
  for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
    if (strcmp(text, formats[i].name) == 0) {
      *out = formats[i].format;
      return 0;
    }
  }
  return -1;
}

/* Returns -1 to go on, else the exit code. */
static int parse_args(const cli_command *self, int argc, char **argv, struct export_args *a) {
  static const struct option own[] = {
    {"format", required_argument, NULL, 'f'},
    {"output", required_argument, NULL, 'o'},
    {"bodies", no_argument, NULL, 'B'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  const struct option *longopts = cli_filter_longopts("export", own);
  if (!longopts)
    return CLI_EXIT_USAGE;
  for (;;) {
    int c = getopt_long(argc, argv, ":f:o:q:h", longopts, NULL);
    if (c == -1)
      break;
    int handled = cli_filter_option("export", c, optarg, &a->filter);
    if (handled < 0)
      return CLI_EXIT_USAGE;
    if (handled)
      continue;
    switch (c) {
    case 'f':
      if (parse_format(optarg, &a->opts.format) != 0) {
        cli_error("export", "--format: '%s' is not csv, ndjson or har", optarg);
        return CLI_EXIT_USAGE;
      }
      a->have_format = 1;
      break;
    case 'o':
      a->output = optarg;
      break;
    case 'B':
      a->opts.with_bodies = 1;
      break;
    case 'h':
      cli_usage(self, stdout);
      return CLI_EXIT_OK;
    default:
      return cli_bad_option("export", c, argv);
    }
  }
  if (cli_extra_args("export", argc, argv) != 0)
    return CLI_EXIT_USAGE;
  if (!a->have_format && a->output) {
    const char *dot = strrchr(a->output, '.');
    a->have_format = dot && parse_format(dot + 1, &a->opts.format) == 0;
  }
  if (!a->have_format) {
    cli_error("export", "--format csv|ndjson|har is required");
    return CLI_EXIT_USAGE;
  }
  if (a->output && !*a->output) {
    cli_error("export", "-o needs a file name");
    return CLI_EXIT_USAGE;
  }
  return -1;
}

/* Opens a new temporary file, mode 0600, next to OUTPUT (so rename() is atomic). */
static FILE *open_temp(const char *output) {
  tmp_path = xasprintf("%s.XXXXXX", output);
  int fd = mkstemp(tmp_path);
  if (fd < 0) {
    cli_error("export", "cannot create a file next to %s: %s", output, strerror(errno));
    return NULL;
  }
  tmp_live = 1;
  FILE *f = fdopen(fd, "w");
  if (!f) {
    cli_error("export", "%s: %s", tmp_path, strerror(errno));
    close(fd);
  }
  return f;
}

/* Flushes and closes the sink; renames the temporary file into place on success
 * (OK non-zero), removes it otherwise. Returns 0, or -1 with errno set. */
static int finish_file(struct sink *s, const char *output, int ok) {
  int failed = 0, saved = 0;
  if (fflush(s->f) != 0 || ferror(s->f) || fsync(fileno(s->f)) != 0) {
    failed = 1;
    saved = errno ? errno : EIO;
  }
  if (fclose(s->f) != 0 && !failed) {
    failed = 1;
    saved = errno;
  }
  s->f = NULL;
  if (ok && !failed && rename(tmp_path, output) != 0) {
    failed = 1;
    saved = errno;
  }
  if (!ok || failed)
    unlink(tmp_path);
  tmp_live = 0;
  errno = saved;
  return failed ? -1 : 0;
}

static int export_to(reqlog *r, struct export_args *a, struct sink *s) {
  char *cause = NULL;
  if (isatty(STDERR_FILENO)) {
    a->opts.progress = show_progress;
    a->opts.progress_ctx = s;
  }
  reqlog_err err = reqlog_export(r, a->filter, &a->opts, write_out, s, &cause);
  if (s->progress_shown)
    fputc('\n', stderr);
  int rc = CLI_EXIT_OK;
  if (err == REQLOG_OK && !a->output && (fflush(stdout) != 0 || ferror(stdout)))
    s->write_errno = errno ? errno : EIO;
  if (s->write_errno) {
    reqlog_free(cause);
    if (s->write_errno != EPIPE) /* the reader left: nothing to tell it */
      cli_error("export", "cannot write to %s: %s", a->output ? a->output : "stdout",
                strerror(s->write_errno));
    rc = CLI_EXIT_DB;
  } else if (err != REQLOG_OK) {
    rc = cli_lib_error("export", err, cause);
  }
  if (a->output && finish_file(s, a->output, rc == CLI_EXIT_OK) != 0 && rc == CLI_EXIT_OK) {
    cli_error("export", "cannot write %s: %s", a->output, strerror(errno));
    rc = CLI_EXIT_DB;
  }
  return rc;
}

static int run(const cli_ctx *ctx, const cli_command *self, int argc, char **argv) {
  struct export_args a = {0};
  struct sink s = {.f = stdout};
  reqlog *r = NULL;
  int rc = parse_args(self, argc, argv, &a);
  if (rc >= 0)
    goto done;
  struct stat st;
  if (a.output && stat(a.output, &st) == 0 && S_ISDIR(st.st_mode)) {
    cli_error("export", "%s is a directory: -o needs a file name (e.g. -o %s%scalls.csv)",
              a.output, a.output, a.output[strlen(a.output) - 1] == '/' ? "" : "/");
    rc = CLI_EXIT_DB;
    goto done;
  }
  rc = cli_open_db(ctx, "export", 1, &r);
  if (rc != CLI_EXIT_OK)
    goto done;
  signal(SIGPIPE, SIG_IGN); /* a closed pipe is an EPIPE write error, handled */
  if (a.output) {
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    s.f = open_temp(a.output);
    if (!s.f) {
      if (tmp_live)
        unlink(tmp_path);
      tmp_live = 0;
      rc = CLI_EXIT_DB;
      goto done;
    }
  }
  rc = export_to(r, &a, &s);

done:
  reqlog_close(r);
  if (a.filter)
    reqlog_filter_free(a.filter);
  free(tmp_path);
  tmp_path = NULL;
  return rc;
}

const cli_command cmd_export = {
  .name = "export",
  .summary = "stream matching calls as CSV, NDJSON or HAR",
  .usage = usage_text,
  .run = run,
};
