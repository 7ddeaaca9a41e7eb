/* cli.h: what the `reqlog` command's files share: exit codes, the command record, and
 * helpers for options, filters, the database, output and memory (cli/common.c). */
#ifndef REQLOG_CLI_H
#define REQLOG_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "reqlog.h"
#include "reqlog_web.h"

/* Exit codes of every command. Documented in reqlog.1; never renumbered. */
enum cli_exit {
  CLI_EXIT_OK = 0,        /* done; for `call`, the API answered with a 2xx */
  CLI_EXIT_HTTP = 1,      /* `call`: the API answered with any other status; `mock
                             --strict`: a request matched no recorded call */
  CLI_EXIT_USAGE = 2,     /* bad command, option, filter or value; the message names it */
  CLI_EXIT_TRANSPORT = 3, /* `call`: no response came (DNS, refused, timeout, reset...) */
  CLI_EXIT_DB = 4,        /* the database (or an output file) could not be opened, read
                             or written */
  CLI_EXIT_NOTFOUND = 5   /* `show`: no call with that id */
};

/* What main() parsed before the command name. */
typedef struct cli_ctx {
  const char *db_path; /* --db, else $REQLOG_DB, else ./reqlog.db */
  const char *db_shown; /* db_path for messages: a store URL's password [REDACTED] */
  const char *request_id_headers; /* --request-id-headers, or NULL ($REQLOG_REQUEST_ID_HEADERS
                                     or the default): applied by cli_open_db(CREATE) */
} cli_ctx;

/* One subcommand: its name, a one-line summary for `reqlog --help`, its full usage text
 * (with an example) for `reqlog NAME --help`, and the function that runs it with ARGV[0]
 * being the command name. RUN returns an enum cli_exit value. */
typedef struct cli_command {
  const char *name;
  const char *summary;
  const char *usage;
  int (*run)(const cli_ctx *ctx, const struct cli_command *self, int argc, char **argv);
} cli_command;

extern const cli_command cmd_call, cmd_list, cmd_show, cmd_export, cmd_stats, cmd_prune,
  cmd_demo;
extern const cli_command cmd_import;
extern const cli_command cmd_serve;
extern const cli_command cmd_proxy;
extern const cli_command cmd_exec;
extern const cli_command cmd_ship;
extern const cli_command cmd_diff;
extern const cli_command cmd_problems;
extern const cli_command cmd_note, cmd_tag, cmd_pin, cmd_unpin;
extern const cli_command cmd_snippet, cmd_replay;

/* cmd_note.c: a row's pin, tags and note as `show` prints them (a "Notes" section, none
 * when the call has none), and as `list` ends a line ("  [pinned]  [a, b]  \"note…\""). */
void cli_print_notes(const cJSON *row, int color);
void cli_notes_suffix(const cJSON *row);
extern const cli_command cmd_mock;

/* ------------------------------------------------------------------ messages */

/* Prints "reqlog: CMD: MESSAGE\n" to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "reqlog: warning: MESSAGE\n" to stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints CMD's usage text to OUT, with the filters' help in place of CLI_FILTER_HELP. */
void cli_usage(const cli_command *cmd, FILE *out);

/* ------------------------------------------------------------------ options */

/* cli/filters.c: the FILTER options every reading command accepts, one per filter of
 * the library's table (reqlog_filter_info_at()): its flag, and its name when spelt
 * otherwise (--min-ms and --min_ms), each returning CLI_OPT_FILTER + the filter's index;
 * a filter's short flag (-q) is its own letter. cli_filter_longopts() returns OWN (a
 * getopt_long table ending in a zeroed entry) followed by them, in storage that the next
 * call reuses, or NULL after printing "reqlog: CMD: ..." when they do not fit. Put the
 * short flags ("q:") in the short options, then hand each option getopt returns to
 * cli_filter_option(). */
enum { CLI_OPT_FILTER = 0x1000 };
const struct option *cli_filter_longopts(const char *cmd, const struct option *own);

/* Where a usage text holds this line, cli_usage() prints the filter options' help,
 * cli_filter_help()'s text. */
#define CLI_FILTER_HELP "@FILTERS@\n"
void cli_filter_help(FILE *out);

/* Handles option OPT (as getopt_long returned it, with VALUE its argument) when it is a
 * filter option: sets it in *F, creating the filter on first use. Returns 1 when OPT was
 * a filter option and was set, 0 when OPT is not a filter option, and -1 after printing
 * "reqlog: CMD: <the library's cause>" when the value is bad. */
int cli_filter_option(const char *cmd, int opt, const char *value, reqlog_filter **f);

/* The arguments of a command that takes FILTERS and --json only (stats, problems): sets
 * *F (created on first use) and *JSON, and *STORAGE for --storage when STORAGE is not
 * NULL (stats; no filters with it). Returns -1 to go on, else the exit code (after the
 * help, or a message). */
int cli_filter_json_args(const cli_command *self, int argc, char **argv, reqlog_filter **f,
                         int *json, int *storage);

/* Prints the message for an option getopt_long rejected (RET is '?' or ':'), using
 * optopt and ARGV[optind - 1], with a pointer to `reqlog CMD --help`. Returns
 * CLI_EXIT_USAGE. Call getopt_long with a short-option string starting with ':'. */
int cli_bad_option(const char *cmd, int ret, char **argv);

/* After getopt_long: -1 (and a message naming the first one) when arguments are left
 * over, else 0. */
int cli_extra_args(const char *cmd, int argc, char **argv);

/* Parses TEXT as a whole decimal integer from MIN to MAX. Returns 0 and *OUT, or -1
 * after printing "reqlog: CMD: WHAT: 'TEXT' is not a number from MIN to MAX". */
int cli_parse_int(const char *cmd, const char *what, const char *text, int64_t min,
                  int64_t max, int64_t *out);

/* --origin NAME of the recording commands (call, proxy, exec, import) names the calls
 * they record; on the reading commands --origin is the filter (cli/filters.c). Each
 * recording command's usage says so in the same words. */
/* Checks the --origin VALUE of command CMD (what reqlog_set_origin() accepts), before a
 * database is opened. Returns 0, or -1 after "reqlog: CMD: --origin: ..." (the value is
 * not repeated: it may hold control characters). */
int cli_check_origin(const char *cmd, const char *value);

/* ------------------------------------------------------------------ serving */

/* cli/serving.c, for the commands that serve until stopped (serve, proxy, mock).
 * cli_block_stop_signals() blocks SIGINT and SIGTERM in the calling thread, so that every
 * thread started afterwards inherits the mask and the signals come to cli_wait_stop()
 * (call it before starting any thread), and ignores SIGPIPE (a client that went away).
 * cli_wait_stop() returns once one of them came. */
void cli_block_stop_signals(void);
void cli_wait_stop(void);

/* Parses the --listen address TEXT (NULL: web_parse_listen()'s default) into *L. Returns
 * 0, or -1 after "reqlog: CMD: <why>". */
int cli_parse_listen(const char *cmd, const char *text, web_listen *l);

/* ------------------------------------------------------------------ database */

/* How cli_open_db() opens the history: CLI_DB_CREATE for recording (created when
 * absent), CLI_DB_READ for reading only (reqlog_open_readonly(): must exist, never
 * written, may be read-only or another user's), CLI_DB_WRITE for changing an existing one
 * (prune). */
enum { CLI_DB_CREATE = 0, CLI_DB_READ = 1, CLI_DB_WRITE = 2 };

/* Opens the history database CTX->db_path for command CMD as MODE says (CLI_DB_*), with
 * an error handler that prints recording failures (and the notice that the file was made
 * private) as warnings. A missing file is an error instead of a new empty database
 * unless MODE is CLI_DB_CREATE (readers should not create files). Returns CLI_EXIT_OK and
 * *R, or CLI_EXIT_DB after printing why. */
int cli_open_db(const cli_ctx *ctx, const char *cmd, int mode, reqlog **r);

/* Closes R; prints a warning naming the error when calls could not be written.
 * Returns CLI_EXIT_OK, or CLI_EXIT_DB when reqlog_close() reported an error. */
int cli_close_db(reqlog *r);

/* Prints "reqlog: CMD: CAUSE" (or the error's text when CAUSE is NULL), frees CAUSE and
 * returns the exit code for ERR: CLI_EXIT_USAGE for filter and argument errors,
 * CLI_EXIT_NOTFOUND for NOTFOUND, CLI_EXIT_DB otherwise. */
int cli_lib_error(const char *cmd, reqlog_err err, char *cause);

/* The error handler cli_open_db() installs: "reqlog: warning: MSG" on stderr. */
void cli_on_record_error(void *ctx, reqlog_err err, const char *msg);

/* ------------------------------------------------------------------ output */

/* Non-zero when colour may be written to stdout: it is a terminal and NO_COLOR is unset
 * or empty. */
int cli_color(void);

/* The ANSI colour for an HTTP status (0 = transport error), or "" without colour. */
const char *cli_status_color(long status, int color);
#define CLI_RESET(color) ((color) ? "\033[0m" : "")

/* Writes S to OUT padded with spaces to WIDTH display columns (UTF-8 aware); RIGHT
 * aligns to the right. Longer text is written whole. */
void cli_pad(FILE *out, const char *s, int width, int right);

/* Writes LEN bytes of TEXT to OUT with control characters (other than newline and tab)
 * shown as \xNN, so recorded data cannot drive the terminal. */
void cli_put_safe(FILE *out, const char *text, size_t len);

/* Human-readable byte count in BUF ("512 B", "1.5 KiB", "2.0 MiB"). Returns BUF. */
char *cli_human_size(int64_t bytes, char buf[32]);

/* N with thousands separators ("45,000") in BUF. Returns BUF. */
char *cli_thousands(int64_t n, char buf[32]);

/* ISO 8601 UTC text (as in rows) as local time "2026-11-27 21:04:05" in BUF; with
 * ZONE, the zone abbreviation is appended. Falls back to ISO unchanged. Returns BUF. */
char *cli_local_time(const char *iso, int zone, char buf[64]);

/* Pretty-printed JSON text of ITEM (free with free()); exits on out of memory. */
char *cli_json_print(const cJSON *item, int formatted);

/* Writes ITEM to OUT as JSON indented by two spaces per level ("key": value), with
 * every control character escaped; no newline after the last line. */
void cli_json_pretty(FILE *out, const cJSON *item);

/* Number member NAME of OBJ, or DFLT when absent or not a number. */
double cli_num(const cJSON *obj, const char *name, double dflt);

/* String member NAME of OBJ, or NULL when absent or not a string. */
const char *cli_str(const cJSON *obj, const char *name);

/* Prints the API's error MESSAGE and FIELDS ({"field": ["msg", ...]}) to OUT as
 * "error: MESSAGE" and one "  field: msg" line per message. Either may be NULL. */
void cli_print_api_error(FILE *out, const char *message, const cJSON *fields);

/* Flushes stdout. Returns CLI_EXIT_OK, or CLI_EXIT_DB after "reqlog: CMD: cannot write
 * to stdout: ..." when any write failed (a closed pipe, a full disk). */
int cli_finish_stdout(const char *cmd);

/* Current time in Unix microseconds. */
int64_t cli_now_us(void);

/* ------------------------------------------------------------------ memory */

/* Allocation wrappers: on failure they print "reqlog: out of memory" and exit(4). */
void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
