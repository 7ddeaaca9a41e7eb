/* cmd_call.c: `reqlog call`: one API call through the library, recorded; the body goes
 * to stdout, a status line and the API's errors to stderr. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"

static const char usage_text[] =
  "usage: reqlog call METHOD PATH-or-URL [options]\n"
  "\n"
  "Makes one API call, records it, writes the response body to stdout and a status\n"
  "line (status, time, attempts, row id) to stderr. A PATH is put after the base URL.\n"
  "\n"
  "Options:\n"
  "  -d, --data DATA       request body: JSON text, @FILE, or @- for stdin; must be\n"
  "                        valid JSON unless a Content-Type header is given\n"
  "  -H, --header 'N: V'   extra request header; repeatable; overrides the defaults\n"
  "  -i, --include         write the response header block before the body\n"
  "  --key-file FILE       read the API key from FILE (default $REQLOG_API_KEY)\n"
  "  --base-url URL        base URL for paths (default $REQLOG_BASE_URL, else\n"
  "                        https://api.app.astalty.com.au/public/v1)\n"
  "  --retries N           retries after the first attempt (default 3)\n"
  "  --rate N              client-side limit, requests per minute per key; 0 = off\n"
  "                        (default $REQLOG_RATE, else 60)\n"
  "  --timeout-ms N        give up on an attempt after N ms (default 60000)\n"
  "  --origin NAME         record the calls as made by NAME (default $REQLOG_ORIGIN,\n"
  "                        else this host's name); `list --origin NAME` finds them\n"
  "  -h, --help            this help\n"
  "\n"
  "Keys are never accepted on the command line (shell history and ps would show them).\n"
  "\n"
  "Examples:\n"
  "  export REQLOG_API_KEY=$(cat ~/.astalty-key)\n"
  "  reqlog call GET /participants\n"
  "  reqlog call post /participants -d '{\"first_name\":\"Ada\",\"email\":\"ada@x.org\"}'\n"
  "\n"
  "Only http and https URLs are called. The key goes only to the base URL's scheme,\n"
  "host and port: a URL of another host or port gets no Authorization (use --base-url\n"
  "to name the host the key belongs to).\n"
  "\n"
  "Exit: 0 on 2xx, 1 on any other status, 2 usage (a bad option, method or URL, a URL\n"
  "that is not http or https), 3 no response, 4 a -d @FILE or --key-file that cannot be\n"
  "read. A recording failure is reported as a warning and never changes the exit code.\n";

struct call_args {
  const char *method_arg, *target;
  char *method;      /* upper-cased copy */
  char *path;        /* TARGET, with a '/' added when it is neither a URL nor a path */
  char *body;        /* NULL: no body */
  size_t body_len;
  const char **headers; /* NULL-terminated */
  int nheaders, has_content_type, include;
  int have_key; /* a key came from --key-file or $REQLOG_API_KEY */
  const char *key_file, *base_url;
  const char *origin; /* --origin, or NULL */
  int64_t retries, rate, timeout_ms; /* -1: not given */
};

/* Reads all of F into a new buffer (NUL-terminated, not counted in *LEN). NULL on a read
 * error, errno set. */
static char *read_all(FILE *f, size_t *len) {
  size_t cap = 4096, n = 0;
  char *buf = xmalloc(cap);
  for (;;) {
    if (cap - n < 2) {
      cap *= 2;
      buf = xrealloc(buf, cap);
    }
    size_t got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
    if (got == 0)
      break;
  }
  if (ferror(f)) {
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

/* -d's argument: literal text, @FILE or @-. Returns 0, or CLI_EXIT_DB after "cannot
 * read FILE: ..." (the wording `import` uses for its file). */
static int load_data(const char *arg, struct call_args *a) {
  free(a->body);
  a->body = NULL;
  if (arg[0] != '@') {
    a->body_len = strlen(arg);
    a->body = xstrdup(arg);
    return 0;
  }
  const char *name = arg + 1;
  int is_stdin = strcmp(name, "-") == 0;
  FILE *f = is_stdin ? stdin : fopen(name, "rb");
  if (!f) {
    cli_error("call", "-d: cannot read %s: %s", name, strerror(errno));
    return CLI_EXIT_DB;
  }
  a->body = read_all(f, &a->body_len);
  int saved = errno;
  if (!is_stdin)
    fclose(f);
  if (!a->body) {
    cli_error("call", "-d: cannot read %s: %s", is_stdin ? "stdin" : name, strerror(saved));
    return CLI_EXIT_DB;
  }
  return 0;
}

/* The key in FILE, trailing whitespace trimmed, into *KEY (free it with free_key()).
 * Returns 0, or the exit code after a message: CLI_EXIT_DB when the file cannot be read,
 * CLI_EXIT_USAGE when it holds no usable key. */
static int read_key_file(const char *path, char **out) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) {
    cli_error("call", "--key-file: cannot read %s: %s", path, strerror(errno));
    return CLI_EXIT_DB;
  }
  struct stat st;
  if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
    cli_warn("key file %s can be read by other users (chmod 600 %s)", path, path);
  size_t len = 0;
  char *key = read_all(f, &len);
  int saved = errno;
  fclose(f);
  if (!key) {
    cli_error("call", "--key-file: cannot read %s: %s", path, strerror(saved));
    return CLI_EXIT_DB;
  }
  while (len > 0 && isspace((unsigned char)key[len - 1]))
    key[--len] = '\0';
  if (len == 0 || strlen(key) != len) {
    cli_error("call", "--key-file %s: %s", path, len ? "the key contains a NUL byte"
                                                     : "the file is empty");
    free(key);
    return CLI_EXIT_USAGE;
  }
  *out = key;
  return 0;
}

static void free_key(char *key) {
  if (key) {
    memset(key, 0, strlen(key)); /* the key leaves memory wiped, not just freed */
    free(key);
  }
}

/* 0 when the body is JSON, else -1 after "-d is not valid JSON (...)". */
static int check_json(const struct call_args *a) {
  const char *end = NULL;
  /* The body is NUL-terminated: counting the NUL lets cJSON check nothing follows the
   * value; a NUL inside the body is never JSON. */
  cJSON *doc = strlen(a->body) == a->body_len
                 ? cJSON_ParseWithLengthOpts(a->body, a->body_len + 1, &end, 1)
                 : NULL;
  if (doc) {
    cJSON_Delete(doc);
    return 0;
  }
  size_t at = end && end >= a->body ? (size_t)(end - a->body) : 0;
  if (at >= a->body_len) {
    cli_error("call", "-d is not valid JSON (it ends too soon; add -H 'Content-Type: ...' "
                      "to send other data)");
    return -1;
  }
  char near[24];
  size_t n = 0;
  for (size_t i = at; i < a->body_len && n < 20; i++)
    near[n++] = isprint((unsigned char)a->body[i]) ? a->body[i] : '?';
  near[n] = '\0';
  cli_error("call", "-d is not valid JSON (error at byte %zu, near '%s'; add "
                    "-H 'Content-Type: ...' to send other data)", at + 1, near);
  return -1;
}

/* Checks and normalises METHOD and TARGET. Returns 0, or -1 after a message. */
static int prepare_request(struct call_args *a) {
  if (!*a->method_arg || !*a->target) {
    cli_error("call", "METHOD and PATH-or-URL must not be empty");
    return -1;
  }
  if (!reqlog_is_token(a->method_arg)) {
    cli_error("call", "'%s' is not an HTTP method", a->method_arg);
    return -1;
  }
  a->method = xstrdup(a->method_arg);
  for (char *p = a->method; *p; p++)
    *p = (char)toupper((unsigned char)*p);
  if (a->target[0] == '/' || strstr(a->target, "://"))
    a->path = xstrdup(a->target);
  else
    a->path = xasprintf("/%s", a->target); /* "participants" means the path */
  if (a->body && !a->has_content_type && check_json(a) != 0)
    return -1;
  return 0;
}

static int add_header(struct call_args *a, const char *h) {
  const char *colon = strchr(h, ':');
  if (!colon || colon == h) {
    cli_error("call", "-H '%s' is not 'Name: value'", h);
    return -1;
  }
  size_t nlen = (size_t)(colon - h);
  if (nlen == 12 && strncasecmp(h, "Content-Type", 12) == 0)
    a->has_content_type = 1;
  if (nlen == 13 && strncasecmp(h, "Authorization", 13) == 0)
    cli_warn("a credential in -H is visible in shell history and ps; prefer "
             "REQLOG_API_KEY or --key-file");
  a->headers = xrealloc(a->headers, sizeof *a->headers * (size_t)(a->nheaders + 2));
  a->headers[a->nheaders++] = h;
  a->headers[a->nheaders] = NULL;
  return 0;
}

static int refuse_key(void) {
  cli_error("call", "API keys are never taken on the command line (they would land in "
                    "shell history and in ps); set REQLOG_API_KEY or use --key-file FILE");
  return CLI_EXIT_USAGE;
}

/* Parses ARGV into A. Returns -1 to go on, else the exit code. */
static int parse_args(const cli_command *self, int argc, char **argv, struct call_args *a) {
  static const struct option longopts[] = {
    {"data", required_argument, NULL, 'd'},
    {"header", required_argument, NULL, 'H'},
    {"include", no_argument, NULL, 'i'},
    {"key-file", required_argument, NULL, 'K'},
    {"base-url", required_argument, NULL, 'B'},
    {"retries", required_argument, NULL, 'R'},
    {"rate", required_argument, NULL, 'r'},
    {"timeout-ms", required_argument, NULL, 'T'},
    {"origin", required_argument, NULL, 'O'},
    {"help", no_argument, NULL, 'h'},
    {"key", required_argument, NULL, 'k'},
    {"api-key", required_argument, NULL, 'k'},
    {NULL, 0, NULL, 0},
  };
  for (;;) {
    int c = getopt_long(argc, argv, ":d:H:ik:h", longopts, NULL);
    if (c == -1)
      break;
    switch (c) {
    case 'd': {
      int rc = load_data(optarg, a);
      if (rc != 0)
        return rc;
      break;
    }
    case 'H':
      if (add_header(a, optarg) != 0)
        return CLI_EXIT_USAGE;
      break;
    case 'i':
      a->include = 1;
      break;
    case 'K':
      a->key_file = optarg;
      break;
    case 'B':
      a->base_url = optarg;
      break;
    case 'R':
      if (cli_parse_int("call", "--retries", optarg, 0, 20, &a->retries) != 0)
        return CLI_EXIT_USAGE;
      break;
    case 'r':
      if (cli_parse_int("call", "--rate", optarg, 0, 100000, &a->rate) != 0)
        return CLI_EXIT_USAGE;
      break;
    case 'T':
      if (cli_parse_int("call", "--timeout-ms", optarg, 1, 86400000, &a->timeout_ms) != 0)
        return CLI_EXIT_USAGE;
      break;
    case 'O':
      if (cli_check_origin("call", optarg) != 0)
        return CLI_EXIT_USAGE;
      a->origin = optarg;
      break;
    case 'h':
      cli_usage(self, stdout);
      return CLI_EXIT_OK;
    case 'k':
      return refuse_key();
    default:
      if (optopt == 'k')
        return refuse_key();
      return cli_bad_option("call", c, argv);
    }
  }
  if (argc - optind != 2) {
    cli_error("call", "expected METHOD and PATH-or-URL (see 'reqlog call --help')");
    return CLI_EXIT_USAGE;
  }
  a->method_arg = argv[optind];
  a->target = argv[optind + 1];
  return prepare_request(a) == 0 ? -1 : CLI_EXIT_USAGE;
}

/* Refuses, before a database is opened, a target reqlog would not send (not http or
 * https). Returns 0, or CLI_EXIT_USAGE after a message. */
static int check_target(const struct call_args *a) {
  reqlog *probe = NULL;
  if (reqlog_open(NULL, &probe, NULL) != REQLOG_OK)
    return 0; /* the call itself reports it */
  int rc = 0;
  char *cause = NULL;
  if (a->base_url && reqlog_set_base_url(probe, a->base_url) != REQLOG_OK) {
    cli_error("call", "--base-url: '%s' is not an http or https URL", a->base_url);
    rc = CLI_EXIT_USAGE;
  } else if (reqlog_key_applies(probe, a->path, NULL, &cause) == REQLOG_KEY_REFUSED) {
    cli_error("call", "%s: %s", a->target, cause ? cause : "not a URL reqlog can send");
    rc = CLI_EXIT_USAGE;
  }
  reqlog_free(cause);
  reqlog_close(probe);
  return rc;
}

/* Opens the database; when that fails, warns once and returns a handle that records
 * nothing, so the call is still made. Applies the options. NULL after a message. */
static reqlog *open_recorder(const cli_ctx *ctx, const struct call_args *a, int *recording) {
  reqlog *r = NULL;
  char *cause = NULL;
  *recording = 1;
  if (reqlog_open(ctx->db_path, &r, &cause) != REQLOG_OK) {
    cli_warn("cannot open %s: %s; the call is made but not recorded", ctx->db_shown,
             cause ? cause : "unknown error");
    reqlog_free(cause);
    cause = NULL;
    *recording = 0;
    reqlog_err err = reqlog_open(NULL, &r, &cause);
    if (err != REQLOG_OK) {
      cli_error("call", "%s", cause ? cause : reqlog_strerror(err));
      reqlog_free(cause);
      return NULL;
    }
  }
  reqlog_set_error_handler(r, cli_on_record_error, NULL);
  reqlog_set_source(r, "cli");
  reqlog_set_durability(r, REQLOG_DURABILITY_SYNC);
  if (a->base_url && reqlog_set_base_url(r, a->base_url) != REQLOG_OK) {
    cli_error("call", "--base-url: '%s' is not an http or https URL", a->base_url);
    reqlog_close(r);
    return NULL;
  }
  if (a->rate >= 0)
    reqlog_set_rate_limit(r, (int)a->rate);
  if (a->retries >= 0)
    reqlog_set_retry(r, (int)a->retries + 1, 500, 120000);
  if (a->timeout_ms > 0)
    reqlog_set_timeout(r, (long)a->timeout_ms);
  if (a->origin)
    reqlog_set_origin(r, a->origin); /* checked by cli_check_origin() */
  if (ctx->request_id_headers)
    reqlog_set_request_id_headers(r, ctx->request_id_headers); /* checked by main() */
  return r;
}

static void print_status_line(const reqlog_response *resp, double ms, int recording) {
  if (resp->status > 0)
    fprintf(stderr, "HTTP %ld", resp->status);
  else
    fputs("no response", stderr);
  fprintf(stderr, " · %.1f ms · %d attempt%s · queued %.0f ms · ", ms, resp->attempts,
          resp->attempts == 1 ? "" : "s", resp->queued_ms);
  if (!recording)
    fputs("not recorded: no database\n", stderr);
  else if (resp->record_err != REQLOG_OK)
    fprintf(stderr, "not recorded: %s\n", reqlog_strerror(resp->record_err));
  else if (resp->row_id > 0)
    fprintf(stderr, "recorded as #%lld\n", (long long)resp->row_id);
  else
    fputs("recorded\n", stderr);
}

static int perform(const struct call_args *a, reqlog *r, int recording) {
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  reqlog_response *resp = NULL;
  reqlog_err err = reqlog_request(r, a->method, a->path, a->body, a->body_len,
                                  a->headers, &resp);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (!resp) {
    cli_error("call", "%s", reqlog_strerror(err));
    return err == REQLOG_ERR_ARG ? CLI_EXIT_USAGE : CLI_EXIT_DB;
  }
  double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
  if (a->include && resp->headers)
    fputs(resp->headers, stdout);
  if (resp->body && resp->body_len)
    fwrite(resp->body, 1, resp->body_len, stdout);
  fflush(stdout);
  print_status_line(resp, ms, recording);
  int rc = CLI_EXIT_OK;
  if (err == REQLOG_ERR_TRANSPORT || resp->status == 0) {
    cli_error("call", "%s", resp->error ? resp->error : curl_easy_strerror(resp->curl_code));
    rc = CLI_EXIT_TRANSPORT;
  } else if (resp->status >= 400) {
    cli_print_api_error(stderr, resp->error_message, resp->error_fields);
    if (resp->status == 401 && !a->have_key)
      fputs("hint: no API key was sent; set REQLOG_API_KEY or use --key-file FILE\n", stderr);
    rc = CLI_EXIT_HTTP;
  } else if (resp->status < 200 || resp->status >= 300) {
    /* a 1xx or 3xx as the final answer (a redirect without Location, a 304) is not a
     * success either: only 2xx exits 0 */
    rc = CLI_EXIT_HTTP;
  }
  reqlog_response_free(resp);
  return rc;
}

static int run(const cli_ctx *ctx, const cli_command *self, int argc, char **argv) {
  struct call_args a = {.retries = -1, .rate = -1, .timeout_ms = -1};
  char *key = NULL;
  reqlog *r = NULL;
  int recording = 0;
  int rc = parse_args(self, argc, argv, &a);
  if (rc >= 0)
    goto done;
  rc = check_target(&a);
  if (rc != 0)
    goto done;
  if (a.key_file) {
    rc = read_key_file(a.key_file, &key);
    if (rc != 0)
      goto done;
  }
  r = open_recorder(ctx, &a, &recording);
  if (!r) {
    rc = CLI_EXIT_USAGE;
    goto done;
  }
  if (key)
    reqlog_set_api_key(r, key);
  const char *env_key = getenv("REQLOG_API_KEY");
  a.have_key = key || (env_key && *env_key);
  rc = perform(&a, r, recording);

done:
  reqlog_close(r); /* recording errors were reported by the handler and the status line */
  free_key(key);
  free(a.body);
  free(a.headers);
  free(a.method);
  free(a.path);
  return rc;
}

const cli_command cmd_call = {
  .name = "call",
  .summary = "make one API call and record it",
  .usage = usage_text,
  .run = run,
};
