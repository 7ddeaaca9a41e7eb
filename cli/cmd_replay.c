/* cmd_replay.c: `reqlog replay ID [--base-url URL] [-X M] [-H 'N: v']... [-d BODY]`: a
 * recorded call sent again, as recorded or changed, through the library's reqlog_replay()
 * (the dashboard's Replay and "Edit and send" use the same), recorded as a new call that
 * names the one it came from (replay_of). What will be sent, and with which key, is
 * printed on stderr before it goes. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_text[] =
  "usage: reqlog replay ID [--base-url URL] [-X METHOD] [-H 'Name: value']... [-d BODY]\n"
  "                        [--dry-run]\n"
  "\n"
  "Sends recorded call ID again and records the answer as a new call whose replay_of is\n"
  "ID. Without options the call goes as recorded: method, URL, the request headers that\n"
  "were not redacted, the body (refused when it was truncated or binary: give -d).\n"
  "The key ($REQLOG_API_KEY) goes only to $REQLOG_BASE_URL's scheme, host and port, or,\n"
  "with --base-url, to that URL's only, and only with a call that was recorded with a\n"
  "key: never to a host a recorded row names. What is sent and with which key (its\n"
  "fingerprint) is printed on stderr first.\n"
  "\n"
  "Options:\n"
  "  --base-url URL    the base URL for this replay (staging, a local server): the key\n"
  "                    goes to its origin only; the recorded URL moves onto it (its part\n"
  "                    after $REQLOG_BASE_URL, else its path) unless --url is given\n"
  "  --url URL         send to URL (a path goes after the base URL)\n"
  "  -X, --method M    the method\n"
  "  -H, --header 'N: v'  send these headers instead of the recorded ones (repeatable)\n"
  "  -d, --data BODY   send BODY (\"\" for none) instead of the recorded body\n"
  "  --dry-run         say what would be sent, send nothing\n"
  "  -h, --help        this help\n"
  "\n"
  "Examples:\n"
  "  reqlog replay 17\n"
  "  reqlog replay 17 --base-url http://localhost:8000/public/v1 -d '{\"email\":\"a@b.c\"}'\n"
  "\n"
  "Exit: 0 sent and 2xx, 1 non-2xx answer, 2 bad option or a call that cannot be sent,\n"
  "3 no response, 4 database error, 5 no call with that id.\n";

enum { HEADERS_MAX = 64 };

struct args {
  int64_t id;
  const char *headers[HEADERS_MAX + 1];
  size_t nheaders;
  int dry_run;
  reqlog_replay_edit e;
};

static int parse_args(const cli_command *self, int argc, char **argv, struct args *a,
                      const char **url) {
  static const struct option longopts[] = {
    {"base-url", required_argument, NULL, 'b'}, {"url", required_argument, NULL, 'u'},
    {"method", required_argument, NULL, 'X'},   {"header", required_argument, NULL, 'H'},
    {"data", required_argument, NULL, 'd'},     {"dry-run", no_argument, NULL, 'n'},
    {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
  };
  for (;;) {
    int c = getopt_long(argc, argv, ":hX:H:d:", longopts, NULL);
    if (c == -1)
      break;
    switch (c) {
    case 'b': a->e.base_url = optarg; break;
    case 'u': *url = optarg; break;
    case 'X': a->e.method = optarg; break;
    case 'H':
      if (a->nheaders == HEADERS_MAX) {
        cli_error("replay", "-H: at most %d headers", HEADERS_MAX);
        return CLI_EXIT_USAGE;
      }
      a->headers[a->nheaders++] = optarg;
      a->e.headers = a->headers;
      break;
    case 'd':
      a->e.body = optarg;
      a->e.body_set = 1;
      break;
    case 'n': a->dry_run = 1; break;
    case 'h':
      cli_usage(self, stdout);
      return CLI_EXIT_OK;
    default:
      return cli_bad_option("replay", c, argv);
    }
  }
  if (argc - optind != 1) {
    cli_error("replay", "expected one call ID (see 'reqlog replay --help')");
    return CLI_EXIT_USAGE;
  }
  const char *text = argv[optind][0] == '#' ? argv[optind] + 1 : argv[optind];
  if (cli_parse_int("replay", "ID", text, 1, INT64_MAX, &a->id) != 0)
    return CLI_EXIT_USAGE;
  return -1;
}

static void say_plan(const reqlog_replay_plan *p) {
  fputs("reqlog: replay: sends ", stderr);
  cli_put_safe(stderr, p->method, strlen(p->method));
  fputc(' ', stderr);
  cli_put_safe(stderr, p->url, strlen(p->url));
  if (p->sends_key)
    fprintf(stderr, " with key %s\n", p->key);
  else
    fprintf(stderr, " with no Authorization. %s\n", p->why ? p->why : "");
}

static int run(const cli_ctx *ctx, const cli_command *self, int argc, char **argv) {
  struct args a = {0};
  const char *url = NULL;
  int rc = parse_args(self, argc, argv, &a, &url);
  if (rc >= 0)
    return rc;
  reqlog *r = NULL;
  rc = cli_open_db(ctx, "replay", a.dry_run ? CLI_DB_READ : CLI_DB_WRITE, &r);
  if (rc != CLI_EXIT_OK)
    return rc;
  reqlog_set_source(r, "cli");
  cJSON *row = NULL;
  char *cause = NULL;
  reqlog_err err = reqlog_get(r, a.id, &row, &cause);
  if (err == REQLOG_ERR_NOTFOUND) {
    reqlog_free(cause);
    cli_error("replay", "no call with id %lld", (long long)a.id);
    reqlog_close(r);
    return CLI_EXIT_NOTFOUND;
  }
  if (err != REQLOG_OK) {
    rc = cli_lib_error("replay", err, cause);
    reqlog_close(r);
    return rc;
  }
  a.e.url = url;
  reqlog_replay_plan plan;
  err = reqlog_replay_plan_of(r, row, &a.e, &plan, &cause);
  if (err != REQLOG_OK) {
    cli_error("replay", "%s", cause ? cause : reqlog_strerror(err));
    reqlog_free(cause);
    cJSON_Delete(row);
    reqlog_close(r);
    return CLI_EXIT_USAGE;
  }
  say_plan(&plan);
  reqlog_replay_plan_free(&plan);
  if (a.dry_run) {
    cJSON_Delete(row);
    reqlog_close(r);
    return CLI_EXIT_OK;
  }
  reqlog_set_durability(r, REQLOG_DURABILITY_SYNC);
  reqlog_response *resp = NULL;
  err = reqlog_replay(r, row, &a.e, &resp, &cause);
  cJSON_Delete(row);
  if (err == REQLOG_ERR_ARG || !resp) {
    cli_error("replay", "%s", cause ? cause : reqlog_strerror(err));
    reqlog_free(cause);
    reqlog_close(r);
    return err == REQLOG_ERR_ARG ? CLI_EXIT_USAGE : CLI_EXIT_DB;
  }
  reqlog_free(cause);
  if (resp->status > 0)
    printf("#%lld  %ld  (replay of #%lld)\n", (long long)resp->row_id, resp->status,
           (long long)a.id);
  else
    printf("#%lld  ERR %s  (replay of #%lld)\n", (long long)resp->row_id,
           resp->error ? resp->error : "no response", (long long)a.id);
  fwrite(resp->body, 1, resp->body_len, stdout);
  if (resp->body_len && resp->body[resp->body_len - 1] != '\n')
    fputc('\n', stdout);
  rc = resp->status == 0 ? CLI_EXIT_TRANSPORT : resp->status >= 400 ? CLI_EXIT_HTTP : CLI_EXIT_OK;
  reqlog_response_free(resp);
  if (cli_close_db(r) != CLI_EXIT_OK && rc == CLI_EXIT_OK)
    rc = CLI_EXIT_DB;
  return rc;
}

const cli_command cmd_replay = {
  .name = "replay",
  .summary = "send a recorded call again (changed: -X, -H, -d, --base-url)",
  .usage = usage_text,
  .run = run,
};
