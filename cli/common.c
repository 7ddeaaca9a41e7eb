/* common.c: helpers every `reqlog` command shares: messages, option parsing (the filter
 * options and the usage text that lists them are cli/filters.c's), opening the database,
 * terminal-safe output and allocation wrappers that exit. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* ------------------------------------------------------------------ messages */

void cli_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "reqlog: %s: ", cmd);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

void cli_warn(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("reqlog: warning: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* ------------------------------------------------------------------ options */

int cli_bad_option(const char *cmd, int ret, char **argv) {
  const char *arg = argv[optind - 1];
  char shortopt[3] = {'-', (char)optopt, '\0'};
  /* A long option, or a short one that ended its word; otherwise optopt names it. */
  const char *name = (optopt == 0 || optopt >= 0x100 || strncmp(arg, "--", 2) == 0)
                       ? arg : shortopt;
  char *eq = NULL;
  char *copy = xstrdup(name);
  if (strncmp(copy, "--", 2) == 0)
    eq = strchr(copy, '=');
  if (eq)
    *eq = '\0'; /* the value may be a secret: never echo it */
  if (ret == ':')
    cli_error(cmd, "option '%s' needs a value (see 'reqlog %s --help')", copy, cmd);
  else if (eq && optopt != 0)
    cli_error(cmd, "option '%s' takes no value (see 'reqlog %s --help')", copy, cmd);
  else
    cli_error(cmd, "unknown option '%s' (see 'reqlog %s --help')", copy, cmd);
  free(copy);
  return CLI_EXIT_USAGE;
}

int cli_parse_int(const char *cmd, const char *what, const char *text, int64_t min,
                  int64_t max, int64_t *out) {
  char *end = NULL;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (errno || end == text || *end || v < min || v > max) {
    if (max >= INT32_MAX)
      cli_error(cmd, "%s: '%s' is not a whole number of at least %" PRId64, what, text, min);
    else
      cli_error(cmd, "%s: '%s' is not a number from %" PRId64 " to %" PRId64, what, text,
                min, max);
    return -1;
  }
  *out = v;
  return 0;
}

int cli_check_origin(const char *cmd, const char *value) {
  reqlog *probe = NULL;
  if (reqlog_open(NULL, &probe, NULL) != REQLOG_OK) {
    cli_error(cmd, "out of memory");
    exit(CLI_EXIT_DB);
  }
  reqlog_err err = reqlog_set_origin(probe, value);
  reqlog_close(probe);
  if (err == REQLOG_OK)
    return 0;
  cli_error(cmd, "--origin: not an origin name (1 to 255 bytes of UTF-8 text, no control "
                 "character, no blank at either end)");
  return -1;
}

/* ------------------------------------------------------------------ database */

void cli_on_record_error(void *ctx, reqlog_err err, const char *msg) {
  (void)ctx;
  cli_warn("%s", msg && *msg ? msg : reqlog_strerror(err));
}

int cli_open_db(const cli_ctx *ctx, const char *cmd, int mode, reqlog **r) {
  *r = NULL;
  if (mode != CLI_DB_CREATE && !reqlog_is_store_url(ctx->db_path) &&
      access(ctx->db_path, F_OK) != 0) {
    cli_error(cmd, "no database at %s (%s); choose one with --db or REQLOG_DB",
              ctx->db_shown, strerror(errno));
    return CLI_EXIT_DB;
  }
  char *cause = NULL;
  reqlog_err err = mode == CLI_DB_READ ? reqlog_open_readonly(ctx->db_path, r, &cause)
                                        : reqlog_open(ctx->db_path, r, &cause);
  if (err != REQLOG_OK) {
    cli_error(cmd, "cannot open %s: %s", ctx->db_shown, cause ? cause : reqlog_strerror(err));
    reqlog_free(cause);
    return CLI_EXIT_DB;
  }
  reqlog_set_error_handler(*r, cli_on_record_error, NULL);
  if (mode == CLI_DB_CREATE && ctx->request_id_headers)
    reqlog_set_request_id_headers(*r, ctx->request_id_headers); /* checked by main() */
  return CLI_EXIT_OK;
}

int cli_close_db(reqlog *r) {
  reqlog_err err = reqlog_close(r);
  if (err == REQLOG_OK)
    return CLI_EXIT_OK;
  cli_warn("closing the database: %s", reqlog_strerror(err));
  return CLI_EXIT_DB;
}

int cli_lib_error(const char *cmd, reqlog_err err, char *cause) {
  cli_error(cmd, "%s", cause ? cause : reqlog_strerror(err));
  reqlog_free(cause);
  switch (err) {
  case REQLOG_ERR_FILTER:
  case REQLOG_ERR_ARG:
    return CLI_EXIT_USAGE;
  case REQLOG_ERR_NOTFOUND:
    return CLI_EXIT_NOTFOUND;
  default:
    return CLI_EXIT_DB;
  }
}

/* ------------------------------------------------------------------ output */

int cli_color(void) {
  const char *no = getenv("NO_COLOR");
  return isatty(STDOUT_FILENO) && !(no && *no);
}

const char *cli_status_color(long status, int color) {
  if (!color)
    return "";
  if (status <= 0)
    return "\033[1;31m"; /* transport error: bold red */
  if (status < 300)
    return "\033[32m";
  if (status < 400)
    return "\033[36m";
  if (status < 500)
    return "\033[33m";
  return "\033[31m";
}

void cli_pad(FILE *out, const char *s, int width, int right) {
  int cols = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if ((*p & 0xC0) != 0x80) /* count code points, not bytes */
      cols++;
  if (right)
    for (int i = cols; i < width; i++)
      fputc(' ', out);
  cli_put_safe(out, s, strlen(s));
  if (!right)
    for (int i = cols; i < width; i++)
      fputc(' ', out);
}

void cli_put_safe(FILE *out, const char *text, size_t len) {
  size_t start = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)text[i];
    if ((c >= 0x20 && c != 0x7F) || c == '\n' || c == '\t')
      continue;
    fwrite(text + start, 1, i - start, out);
    fprintf(out, "\\x%02X", c);
    start = i + 1;
  }
  fwrite(text + start, 1, len - start, out);
}

char *cli_human_size(int64_t bytes, char buf[32]) {
  static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) {
    snprintf(buf, 32, "%" PRId64 " B", bytes);
    return buf;
  }
  double v = (double)bytes / 1024.0;
  int u = 0;
  while (v >= 1024.0 && u < 3) {
    v /= 1024.0;
    u++;
  }
  snprintf(buf, 32, "%.1f %s", v, units[u]);
  return buf;
}

char *cli_thousands(int64_t n, char buf[32]) {
  char digits[32];
  int len = snprintf(digits, sizeof digits, "%" PRId64, n < 0 ? -n : n);
  char *o = buf;
  if (n < 0)
    *o++ = '-';
  for (int i = 0; i < len; i++) {
    if (i > 0 && (len - i) % 3 == 0)
      *o++ = ',';
    *o++ = digits[i];
  }
  *o = '\0';
  return buf;
}

char *cli_local_time(const char *iso, int zone, char buf[64]) {
  int64_t us = 0;
  snprintf(buf, 64, "%s", iso ? iso : "-");
  if (!iso || reqlog_parse_time(iso, 0, &us) != REQLOG_OK)
    return buf;
  time_t t = (time_t)(us / 1000000);
  if (us < 0 && us % 1000000)
    t--;
  struct tm tm;
  if (!localtime_r(&t, &tm))
    return buf;
  strftime(buf, 64, zone ? "%Y-%m-%d %H:%M:%S %Z" : "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

char *cli_json_print(const cJSON *item, int formatted) {
  char *s = formatted ? cJSON_Print(item) : cJSON_PrintUnformatted(item);
  if (!s) {
    fputs("reqlog: out of memory\n", stderr);
    exit(CLI_EXIT_DB);
  }
  return s;
}

/* S as a JSON string literal, quotes included. */
static void json_string(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(out, "\\%c", *p);
    else if (*p == '\n')
      fputs("\\n", out);
    else if (*p == '\t')
      fputs("\\t", out);
    else if (*p < 0x20 || *p == 0x7F)
      fprintf(out, "\\u%04x", *p);
    else
      fputc(*p, out);
  }
  fputc('"', out);
}

/* Non-zero when ARRAY holds only a few short scalars, worth one line. */
static int short_scalars(const cJSON *array) {
  size_t len = 0;
  for (const cJSON *c = array->child; c; c = c->next) {
    if (cJSON_IsArray(c) || cJSON_IsObject(c))
      return 0;
    len += cJSON_IsString(c) ? strlen(c->valuestring) + 4 : 12;
  }
  return len <= 72;
}

/* Recursion is bounded: cJSON refuses to parse past CJSON_NESTING_LIMIT levels. */
static void json_pretty(FILE *out, const cJSON *item, int depth) {
  if (cJSON_IsString(item)) {
    json_string(out, item->valuestring);
    return;
  }
  if (!cJSON_IsArray(item) && !cJSON_IsObject(item)) {
    char *s = cli_json_print(item, 0);
    fputs(s, out);
    free(s);
    return;
  }
  int obj = cJSON_IsObject(item);
  if (!item->child) {
    fputs(obj ? "{}" : "[]", out);
    return;
  }
  if (!obj && short_scalars(item)) { /* ["Host", "example.com"] on one line */
    fputc('[', out);
    for (const cJSON *c = item->child; c; c = c->next) {
      json_pretty(out, c, depth + 1);
      fputs(c->next ? ", " : "", out);
    }
    fputc(']', out);
    return;
  }
  fputs(obj ? "{\n" : "[\n", out);
  for (const cJSON *c = item->child; c; c = c->next) {
    fprintf(out, "%*s", 2 * (depth + 1), "");
    if (obj) {
      json_string(out, c->string ? c->string : "");
      fputs(": ", out);
    }
    json_pretty(out, c, depth + 1);
    fputs(c->next ? ",\n" : "\n", out);
  }
  fprintf(out, "%*s%c", 2 * depth, "", obj ? '}' : ']');
}

void cli_json_pretty(FILE *out, const cJSON *item) {
  json_pretty(out, item, 0);
}

double cli_num(const cJSON *obj, const char *name, double dflt) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

const char *cli_str(const cJSON *obj, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void put_line(FILE *out, const char *s) {
  cli_put_safe(out, s, strlen(s));
  fputc('\n', out);
}

void cli_print_api_error(FILE *out, const char *message, const cJSON *fields) {
  if (message) {
    fputs("error: ", out);
    put_line(out, message);
  }
  if (!cJSON_IsObject(fields))
    return;
  const cJSON *field;
  cJSON_ArrayForEach(field, fields) {
    const char *name = field->string ? field->string : "?";
    if (cJSON_IsString(field)) {
      fprintf(out, "  %s: ", name);
      put_line(out, field->valuestring);
      continue;
    }
    const cJSON *msg;
    cJSON_ArrayForEach(msg, field) {
      fprintf(out, "  %s: ", name);
      if (cJSON_IsString(msg)) {
        put_line(out, msg->valuestring);
      } else {
        char *s = cli_json_print(msg, 0);
        put_line(out, s);
        free(s);
      }
    }
  }
}

int cli_finish_stdout(const char *cmd) {
  errno = 0;
  if (fflush(stdout) == 0 && !ferror(stdout))
    return CLI_EXIT_OK;
  cli_error(cmd, "cannot write to stdout: %s", errno ? strerror(errno) : "write error");
  return CLI_EXIT_DB;
}

int64_t cli_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ------------------------------------------------------------------ memory */

static void out_of_memory(void) {
  fputs("reqlog: out of memory\n", stderr);
  exit(CLI_EXIT_DB);
}

void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p)
    out_of_memory();
  return p;
}

void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q)
    out_of_memory();
  return q;
}

char *xstrdup(const char *s) {
  char *p = strdup(s);
  if (!p)
    out_of_memory();
  return p;
}

char *xasprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0)
    out_of_memory();
  return s;
}

int cli_extra_args(const char *cmd, int argc, char **argv) {
  if (optind >= argc)
    return 0;
  cli_error(cmd, "unexpected argument '%s' (see 'reqlog %s --help')", argv[optind], cmd);
  return -1;
}
