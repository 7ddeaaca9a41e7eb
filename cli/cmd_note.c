/* cmd_note.c: `reqlog note`, `reqlog tag`, `reqlog pin` and `reqlog unpin`: what a
 * developer attaches to a recorded call (reqlog_annotate()), kept beside the recorded
 * row, never in it; and how `show` and `list` print it (cli_print_notes,
 * cli_notes_suffix). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char note_usage[] =
  "usage: reqlog note ID TEXT | reqlog note ID --clear\n"
  "\n"
  "Attaches a note to a recorded call (replacing its note), or removes it. The\n"
  "recorded call itself is never changed; the note is shown by show, list, the\n"
  "dashboard and every export (CSV column note, NDJSON, HAR _reqlog.note).\n"
  "A note is UTF-8 text of at most 4000 bytes; tab and newline are its only\n"
  "control characters.\n"
  "\n"
  "Options:\n"
  "  --clear       remove the note\n"
  "  -h, --help    this help\n"
  "\n"
  "Example:\n"
  "  reqlog note 17 \"the 422 the vendor asked about; ticket 4411\"\n"
  "\n"
  "Exit: 0 done, 2 bad ID or text, 4 database error, 5 no call with that id.\n";

static const char tag_usage[] =
  "usage: reqlog tag ID TAG[,TAG...] [--remove | --set]\n"
  "\n"
  "Adds tags to a recorded call (--remove takes them off, --set makes them its only\n"
  "tags; --set \"\" removes all). A tag is 1 to 64 of A-Z a-z 0-9 . _ - : / +; a call\n"
  "has at most 32. Find tagged calls with the filter --tag TAG (list, export, stats,\n"
  "the dashboard's tag=).\n"
  "\n"
  "Options:\n"
  "  --remove      take the tags off\n"
  "  --set         the tags become the call's only tags\n"
  "  -h, --help    this help\n"
  "\n"
  "Examples:\n"
  "  reqlog tag 17 bug-4411,onboarding\n"
  "  reqlog list --tag bug-4411\n"
  "  reqlog tag 17 onboarding --remove\n"
  "\n"
  "Exit: 0 done, 2 bad ID or tag, 4 database error, 5 no call with that id.\n";

static const char pin_usage[] =
  "usage: reqlog pin ID\n"
  "\n"
  "Pins a recorded call: prune keeps it whatever its age (unless --include-pinned),\n"
  "and the filter --pinned 1 finds it.\n"
  "\n"
  "Options:\n"
  "  -h, --help    this help\n"
  "\n"
  "Example:\n"
  "  reqlog pin 17 && reqlog list --pinned 1\n"
  "\n"
  "Exit: 0 done, 2 bad ID, 4 database error, 5 no call with that id.\n";

static const char unpin_usage[] =
  "usage: reqlog unpin ID\n"
  "\n"
  "Unpins a recorded call (see reqlog pin).\n"
  "\n"
  "Options:\n"
  "  -h, --help    this help\n"
  "\n"
  "Example:\n"
  "  reqlog unpin 17\n"
  "\n"
  "Exit: 0 done, 2 bad ID, 4 database error, 5 no call with that id.\n";

/* ------------------------------------------------------------------ printing */

/* Tags as "a, b" into OUT (OUTLEN bytes); "" when none. */
static void tags_text(const cJSON *row, char *out, size_t outlen) {
  const cJSON *t;
  size_t n = 0;
  out[0] = '\0';
  cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(row, "tags")) {
    if (!cJSON_IsString(t))
      continue;
    int w = snprintf(out + n, outlen - n, "%s%s", n ? ", " : "", t->valuestring);
    if (w < 0 || (size_t)w >= outlen - n)
      break;
    n += (size_t)w;
  }
}

void cli_print_notes(const cJSON *row, int color) {
  char tags[2400];
  tags_text(row, tags, sizeof tags);
  int pinned = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "pinned"));
  const char *note = cli_str(row, "note");
  if (!pinned && !tags[0] && !note)
    return;
  printf("\n%sNotes%s\n", color ? "\033[1m" : "", CLI_RESET(color));
  if (pinned)
    puts("  pinned     yes (prune keeps it)");
  if (tags[0])
    printf("  tags       %s\n", tags);
  if (note) {
    fputs("  note       ", stdout);
    /* each line of the note on its own line, made terminal-safe */
    for (const char *p = note; *p;) {
      size_t n = strcspn(p, "\n");
      cli_put_safe(stdout, p, n);
      p += n;
      if (*p == '\n') {
        p++;
        fputs("\n             ", stdout);
      }
    }
    fputc('\n', stdout);
  }
}

void cli_notes_suffix(const cJSON *row) {
  char tags[2400];
  tags_text(row, tags, sizeof tags);
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "pinned")))
    fputs("  [pinned]", stdout);
  if (tags[0])
    printf("  [%s]", tags);
  const char *note = cli_str(row, "note");
  if (note) {
    size_t n = strcspn(note, "\n"), shown = n > 40 ? 40 : n;
    while (shown > 0 && shown < n && (note[shown] & 0xC0) == 0x80)
      shown--; /* not inside a character */
    fputs("  \"", stdout);
    cli_put_safe(stdout, note, shown);
    fputs(shown < strlen(note) ? "…\"" : "\"", stdout);
  }
}

/* ------------------------------------------------------------------ the commands */

/* What one command line asks for. */
struct ask {
  const char *cmd;
  int64_t id;
  reqlog_annotation a;
};

/* Parses ARGV: the ID, and for note and tag their one value and options. NVALUES is 0 or
 * 1. Returns -1 to go on, else the exit code. */
static int parse_args(const cli_command *self, int argc, char **argv, int nvalues,
                      struct ask *k) {
  static const struct option longopts[] = {
    {"clear", no_argument, NULL, 'c'},
    {"remove", no_argument, NULL, 'r'},
    {"set", no_argument, NULL, 's'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  int is_note = strcmp(k->cmd, "note") == 0, is_tag = strcmp(k->cmd, "tag") == 0;
  int clear = 0;
  for (;;) {
    int c = getopt_long(argc, argv, ":h", longopts, NULL);
    if (c == -1)
      break;
    if (c == 'h') {
      cli_usage(self, stdout);
      return CLI_EXIT_OK;
    }
    if (c == 'c' && is_note) {
      clear = 1;
    } else if ((c == 'r' || c == 's') && is_tag) {
      if (k->a.tags_op != REQLOG_TAGS_ADD) {
        cli_error(k->cmd, "--remove and --set cannot be given together");
        return CLI_EXIT_USAGE;
      }
      k->a.tags_op = c == 'r' ? REQLOG_TAGS_REMOVE : REQLOG_TAGS_SET;
    } else {
      if (c == 'c' || c == 'r' || c == 's')
        c = '?', optopt = 0;
      return cli_bad_option(k->cmd, c, argv);
    }
  }
  int want = 1 + (clear ? 0 : nvalues);
  if (argc - optind != want) {
    cli_error(k->cmd, "expected %s (see 'reqlog %s --help')",
              want == 1 ? "one call ID" : is_note ? "a call ID and the note's text"
                                                  : "a call ID and its tags",
              k->cmd);
    return CLI_EXIT_USAGE;
  }
  const char *text = argv[optind];
  if (text[0] == '#')
    text++; /* "#17" as printed by `call` */
  if (cli_parse_int(k->cmd, "ID", text, 1, INT64_MAX, &k->id) != 0)
    return CLI_EXIT_USAGE;
  if (is_note)
    k->a.note = clear ? "" : argv[optind + 1];
  if (is_tag)
    k->a.tags = argv[optind + 1];
  return -1;
}

/* Opens the history for writing (a team store through its own connections), applies
 * K's change and prints what the call has now. */
static int apply(const cli_ctx *ctx, struct ask *k) {
  reqlog *r = NULL;
  int rc = cli_open_db(ctx, k->cmd,
                       reqlog_is_store_url(ctx->db_path) ? CLI_DB_READ : CLI_DB_WRITE, &r);
  if (rc != CLI_EXIT_OK)
    return rc;
  char *cause = NULL;
  cJSON *row = NULL;
  reqlog_err err = reqlog_annotate(r, k->id, &k->a, &cause);
  if (err == REQLOG_OK)
    err = reqlog_get(r, k->id, &row, &cause);
  if (err == REQLOG_ERR_ARG) {
    cli_error(k->cmd, "%s", cause ? cause : reqlog_strerror(err));
    reqlog_free(cause);
    rc = CLI_EXIT_USAGE;
  } else if (err != REQLOG_OK) {
    rc = cli_lib_error(k->cmd, err, cause);
  } else {
    printf("#%lld", (long long)k->id);
    cli_notes_suffix(row);
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "pinned")) &&
        cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(row, "tags")) == 0 &&
        !cli_str(row, "note"))
      fputs("  (no notes, tags or pin)", stdout);
    fputc('\n', stdout);
    rc = cli_finish_stdout(k->cmd);
  }
  cJSON_Delete(row);
  if (cli_close_db(r) != CLI_EXIT_OK && rc == CLI_EXIT_OK)
    rc = CLI_EXIT_DB;
  return rc;
}

static int run_note(const cli_ctx *ctx, const cli_command *self, int argc, char **argv) {
  struct ask k = {.cmd = "note", .a = {.pin = -1}};
  int rc = parse_args(self, argc, argv, 1, &k);
  return rc >= 0 ? rc : apply(ctx, &k);
}

static int run_tag(const cli_ctx *ctx, const cli_command *self, int argc, char **argv) {
  struct ask k = {.cmd = "tag", .a = {.pin = -1, .tags_op = REQLOG_TAGS_ADD}};
  int rc = parse_args(self, argc, argv, 1, &k);
  return rc >= 0 ? rc : apply(ctx, &k);
}

static int run_pin(const cli_ctx *ctx, const cli_command *self, int argc, char **argv) {
  struct ask k = {.cmd = self->name, .a = {.pin = strcmp(self->name, "pin") == 0}};
  int rc = parse_args(self, argc, argv, 0, &k);
  return rc >= 0 ? rc : apply(ctx, &k);
}

const cli_command cmd_note = {
  .name = "note", .summary = "attach a note to a call", .usage = note_usage, .run = run_note,
};
const cli_command cmd_tag = {
  .name = "tag", .summary = "tag a call (--remove, --set)", .usage = tag_usage, .run = run_tag,
};
const cli_command cmd_pin = {
  .name = "pin", .summary = "pin a call (prune keeps it)", .usage = pin_usage, .run = run_pin,
};
const cli_command cmd_unpin = {
  .name = "unpin", .summary = "unpin a call", .usage = unpin_usage, .run = run_pin,
};
