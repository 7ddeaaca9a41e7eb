/* cmd_show.c: `reqlog show ID`: one recorded call in full, as a readable view or as the
 * row's JSON. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_text[] =
  "usage: reqlog show ID [--json]\n"
  "\n"
  "Shows one recorded call: overview, timing phases, transport error, the API's\n"
  "message and field errors, request and response headers and bodies (JSON is\n"
  "pretty-printed; control characters are shown as \\xNN).\n"
  "\n"
  "Options:\n"
  "  --json        the full row as JSON (binary bodies as {\"base64\": ...})\n"
  "  -h, --help    this help\n"
  "\n"
  "Example:\n"
  "  reqlog show 17\n"
  "\n"
  "Exit: 0 shown, 2 ID is not a number, 4 database error, 5 no call with that id.\n";

static const char *reason_phrase(long status) {
  static const struct { long code; const char *text; } reasons[] = {
    {200, "OK"}, {201, "Created"}, {202, "Accepted"}, {204, "No Content"},
    {301, "Moved Permanently"}, {302, "Found"}, {304, "Not Modified"},
    {400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not Found"},
    {405, "Method Not Allowed"}, {409, "Conflict"}, {413, "Content Too Large"},
    {422, "Unprocessable Content"}, {429, "Too Many Requests"},
    {500, "Internal Server Error"}, {502, "Bad Gateway"}, {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
  };
  for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
    if (reasons[i].code == status)
      return reasons[i].text;
  return "";
}

static void heading(const char *title, int color) {
  printf("\n%s%s%s\n", color ? "\033[1m" : "", title, color ? "\033[0m" : "");
}

/* "  LABEL      VALUE\n", the value made terminal-safe. */
static void field(const char *label, const char *value) {
  printf("  %-10s ", label);
  cli_put_safe(stdout, value ? value : "-", strlen(value ? value : "-"));
  fputc('\n', stdout);
}

static void print_overview(const cJSON *row, int color) {
  char buf[256], local[64], a[32], b[32];
  const char *method = cli_str(row, "method"), *url = cli_str(row, "url");
  printf("%s#%.0f%s  ", color ? "\033[1m" : "", cli_num(row, "id", 0), CLI_RESET(color));
  cli_put_safe(stdout, method ? method : "-", strlen(method ? method : "-"));
  fputc(' ', stdout);
  cli_put_safe(stdout, url ? url : "-", strlen(url ? url : "-"));
  fputc('\n', stdout);

  long status = (long)cli_num(row, "status", 0);
  printf("  %-10s %s", "status", cli_status_color(status, color));
  if (status > 0)
    printf("%ld %s", status, reason_phrase(status));
  else
    fputs("no response (transport error)", stdout);
  printf("%s\n", CLI_RESET(color));

  const char *started = cli_str(row, "started_at");
  snprintf(buf, sizeof buf, "%s  (local %s)", started ? started : "-",
           cli_local_time(started, 1, local));
  field("started", buf);
  snprintf(buf, sizeof buf, "%.3f ms", cli_num(row, "duration_ms", 0));
  field("duration", buf);
  field("key", cli_str(row, "key") ? cli_str(row, "key") : "(none)");
  double retry_of = cli_num(row, "retry_of", 0);
  if (retry_of > 0)
    snprintf(buf, sizeof buf, "%.0f, retry of #%.0f", cli_num(row, "attempt", 1), retry_of);
  else
    snprintf(buf, sizeof buf, "%.0f", cli_num(row, "attempt", 1));
  field("attempt", buf);
  field("source", cli_str(row, "source"));
  field("origin", cli_str(row, "origin"));
  field("request id", cli_str(row, "request_id") ? cli_str(row, "request_id") : "(none)");
  snprintf(buf, sizeof buf, "request %s, response %s",
           cli_human_size((int64_t)cli_num(row, "request_size", 0), a),
           cli_human_size((int64_t)cli_num(row, "response_size", 0), b));
  field("sizes", buf);
  field("content", cli_str(row, "content_type"));
  field("http", cli_str(row, "http_version"));
  field("remote ip", cli_str(row, "remote_ip"));
}

static void print_timing(const cJSON *row, int color) {
  static const char *const phases[][2] = {
    {"queued", "queued_ms"}, {"dns", "dns_ms"},   {"connect", "connect_ms"},
    {"tls", "tls_ms"},       {"ttfb", "ttfb_ms"}, {"total", "total_ms"},
  };
  const cJSON *timing = cJSON_GetObjectItemCaseSensitive(row, "timing");
  heading("Timing", color);
  for (size_t i = 0; i < sizeof phases / sizeof phases[0]; i++) {
    char buf[32] = "-";
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(timing, phases[i][1]);
    if (cJSON_IsNumber(v))
      snprintf(buf, sizeof buf, "%10.3f ms", v->valuedouble);
    field(phases[i][0], buf);
  }
}

/* The API's message and a FIELD / MESSAGE table of its field errors. */
static void print_api_error(const cJSON *row, int color) {
  const char *message = cli_str(row, "error_message");
  const cJSON *fields = cJSON_GetObjectItemCaseSensitive(row, "error_fields");
  if (!message && !cJSON_IsObject(fields))
    return;
  heading("API error", color);
  if (message)
    field("message", message);
  if (!cJSON_IsObject(fields) || !fields->child)
    return;
  int width = 5;
  const cJSON *f;
  cJSON_ArrayForEach(f, fields) {
    int len = f->string ? (int)strlen(f->string) : 1;
    width = len > width ? len : width;
  }
  printf("\n  %-*s  %s\n", width, "FIELD", "MESSAGE");
  cJSON_ArrayForEach(f, fields) {
    const cJSON *m;
    const char *name = f->string ? f->string : "?";
    if (cJSON_IsString(f)) {
      fputs("  ", stdout);
      cli_pad(stdout, name, width, 0);
      fputs("  ", stdout);
      cli_put_safe(stdout, f->valuestring, strlen(f->valuestring));
      fputc('\n', stdout);
      continue;
    }
    cJSON_ArrayForEach(m, f) {
      fputs("  ", stdout);
      cli_pad(stdout, name, width, 0);
      fputs("  ", stdout);
      if (cJSON_IsString(m)) {
        cli_put_safe(stdout, m->valuestring, strlen(m->valuestring));
      } else {
        char *s = cli_json_print(m, 0);
        cli_put_safe(stdout, s, strlen(s));
        free(s);
      }
      fputc('\n', stdout);
      name = ""; /* the field's name only on its first line */
    }
  }
}

static void print_headers(const cJSON *row, const char *member, const char *title,
                          int color) {
  const cJSON *headers = cJSON_GetObjectItemCaseSensitive(row, member);
  heading(title, color);
  if (!cJSON_GetArraySize(headers)) {
    puts("  (none)");
    return;
  }
  const cJSON *h;
  cJSON_ArrayForEach(h, headers) {
    const char *name = cJSON_GetStringValue(cJSON_GetArrayItem(h, 0));
    const char *value = cJSON_GetStringValue(cJSON_GetArrayItem(h, 1));
    fputs("  ", stdout);
    cli_put_safe(stdout, name ? name : "?", strlen(name ? name : "?"));
    fputs(": ", stdout);
    cli_put_safe(stdout, value ? value : "", strlen(value ? value : ""));
    fputc('\n', stdout);
  }
}

/* One body: PREFIX is "request" or "response". */
static void print_body(const cJSON *row, const char *prefix, const char *title, int color) {
  char member[32], size_name[32], trunc_name[32], sha_name[32], num[32];
  snprintf(member, sizeof member, "%s_body", prefix);
  snprintf(size_name, sizeof size_name, "%s_size", prefix);
  snprintf(trunc_name, sizeof trunc_name, "%s_truncated", prefix);
  snprintf(sha_name, sizeof sha_name, "%s_sha256", prefix);
  const cJSON *body = cJSON_GetObjectItemCaseSensitive(row, member);
  int64_t size = (int64_t)cli_num(row, size_name, 0);
  int truncated = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, trunc_name));

  heading(title, color);
  if (cJSON_IsObject(body)) {
    printf("  %s bytes of binary, base64 in --json\n", cli_thousands(size, num));
    return;
  }
  if (!cJSON_IsString(body) || (!*body->valuestring && size == 0)) {
    puts("  (none)");
    return;
  }
  if (truncated) {
    const char *sha = cli_str(row, sha_name);
    printf("  (truncated at cap: full size %s bytes, sha256 %s)\n", cli_thousands(size, num),
           sha ? sha : "unknown");
  }
  const char *text = body->valuestring;
  const char *end = NULL;
  cJSON *doc = truncated ? NULL : cJSON_ParseWithOpts(text, &end, 1);
  if (doc && (cJSON_IsObject(doc) || cJSON_IsArray(doc))) {
    cli_json_pretty(stdout, doc);
    fputc('\n', stdout);
  } else {
    size_t len = strlen(text);
    cli_put_safe(stdout, text, len);
    if (len && text[len - 1] != '\n')
      fputc('\n', stdout);
  }
  cJSON_Delete(doc);
}

static void print_readable(const cJSON *row) {
  int color = cli_color();
  print_overview(row, color);
  cli_print_notes(row, color);
  print_timing(row, color);
  const char *error = cli_str(row, "error");
  if (error) {
    heading("Error", color);
    field("transport", error);
  }
  print_api_error(row, color);
  print_headers(row, "request_headers", "Request headers", color);
  print_body(row, "request", "Request body", color);
  print_headers(row, "response_headers", "Response headers", color);
  print_body(row, "response", "Response body", color);
}

/* Returns -1 to go on, else the exit code. */
static int parse_args(const cli_command *self, int argc, char **argv, int64_t *id,
                      int *json) {
  static const struct option longopts[] = {
    {"json", no_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  for (;;) {
    int c = getopt_long(argc, argv, ":h", longopts, NULL);
    if (c == -1)
      break;
    if (c == 'j') {
      *json = 1;
    } else if (c == 'h') {
      cli_usage(self, stdout);
      return CLI_EXIT_OK;
    } else {
      return cli_bad_option("show", c, argv);
    }
  }
  if (argc - optind != 1) {
    cli_error("show", "expected one call ID (see 'reqlog show --help')");
    return CLI_EXIT_USAGE;
  }
  const char *text = argv[optind];
  if (text[0] == '#')
    text++; /* "#17" as printed by `call` */
  if (cli_parse_int("show", "ID", text, 1, INT64_MAX, id) != 0)
    return CLI_EXIT_USAGE;
  return -1;
}

static int run(const cli_ctx *ctx, const cli_command *self, int argc, char **argv) {
  int64_t id = 0;
  int json = 0;
  reqlog *r = NULL;
  cJSON *row = NULL;
  int rc = parse_args(self, argc, argv, &id, &json);
  if (rc >= 0)
    return rc;
  rc = cli_open_db(ctx, "show", 1, &r);
  if (rc != CLI_EXIT_OK)
    return rc;
  char *cause = NULL;
  reqlog_err err = reqlog_get(r, id, &row, &cause);
  if (err == REQLOG_ERR_NOTFOUND) {
    reqlog_free(cause);
    cli_error("show", "no call with id %lld", (long long)id);
    rc = CLI_EXIT_NOTFOUND;
  } else if (err != REQLOG_OK) {
    rc = cli_lib_error("show", err, cause);
  } else {
    if (json) {
      char *text = cli_json_print(row, 1);
      puts(text);
      free(text);
    } else {
      print_readable(row);
    }
    rc = cli_finish_stdout("show");
  }
  cJSON_Delete(row);
  reqlog_close(r);
  return rc;
}

const cli_command cmd_show = {
  .name = "show",
  .summary = "show one recorded call in full",
  .usage = usage_text,
  .run = run,
};
