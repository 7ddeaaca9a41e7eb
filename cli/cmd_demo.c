/* cmd_demo.c: `reqlog demo`: starts the tests' fake API on loopback and records a
 * realistic mix of calls through the library (every status class, retries, 422s, 429s,
 * queueing, truncation, binary, redaction), for `make run` and for trying reqlog out. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "reqlog_demo.h" /* the tests' fake API server, linked from build/libfakeapi.a */

static const char usage_text[] =
  "usage: reqlog [--db PATH] demo [--port N]\n"
  "\n"
  "Starts the tests' fake API on 127.0.0.1 (a rate limit of 8 calls per 3 s per key,\n"
  "so 429s come quickly) and records about fifty calls into the database: lists and\n"
  "reads, a 404, a 201 and a 422 with field errors, PATCH and DELETE, 401s and a 403,\n"
  "a 503-503-200 retry chain, a burst that gets a 429 and waits as Retry-After says,\n"
  "calls queued by the client-side limiter, a slow, a truncated, a binary, a gzip and\n"
  "a redirected response, a dropped connection, and secrets that are redacted.\n"
  "Takes about ten seconds.\n"
  "\n"
  "Options:\n"
  "  --port N      port for the fake API (default 0: any free port)\n"
  "  -h, --help    this help\n"
  "\n"
  "Example:\n"
  "  reqlog --db /tmp/demo.db demo && reqlog --db /tmp/demo.db list\n";

#define DEMO_RATE 8
#define DEMO_WINDOW_MS 3000L
/* A third valid key, used only by the burst, so its 429 comes at a known call. */
#define DEMO_KEY_BATCH "sk_test_batchjob_61c0e4f2d7a9"

enum demo_key { K_MAIN, K_SECOND, K_BATCH, K_READONLY, K_REVOKED, K_NONE };

struct demo_step {
  enum demo_key key;
  const char *method, *path, *body;
  int repeat; /* 0 or 1: once */
  int unique; /* append this run's id to PATH */
};

struct demo_phase {
  int rate;      /* client-side limit per window; 0 = off */
  int attempts;  /* reqlog_set_retry's max attempts */
  const struct demo_step *steps;
  size_t n;
};

static const struct demo_step browse[] = {
  {K_MAIN, "GET", "/participants", NULL, 0, 0},
  {K_MAIN, "GET", "/participants/1", NULL, 0, 0},
  {K_MAIN, "GET", "/participants/2", NULL, 0, 0},
  {K_SECOND, "GET", "/participants?page=1", NULL, 0, 0},
  {K_SECOND, "GET", "/participants/3", NULL, 0, 0},
  {K_SECOND, "GET", "/participants/4", NULL, 0, 0},
  {K_SECOND, "GET", "/participants/5", NULL, 0, 0},
  {K_MAIN, "GET", "/participants/999", NULL, 0, 0},
  {K_MAIN, "POST", "/participants",
   "{\"first_name\":\"Ada\",\"last_name\":\"Lovelace\",\"email\":\"ada@example.com\"}", 0, 0},
  {K_MAIN, "POST", "/participants", "{\"last_name\":\"Hopper\",\"email\":\"not-an-email\"}",
   0, 0},
  {K_MAIN, "PATCH", "/participants/2", "{\"email\":\"grace@example.com\"}", 0, 0},
  {K_MAIN, "DELETE", "/participants/3", NULL, 0, 0},
  {K_NONE, "GET", "/participants", NULL, 0, 0},
  {K_REVOKED, "GET", "/participants", NULL, 0, 0},
  {K_READONLY, "GET", "/participants/1", NULL, 0, 0},
  {K_READONLY, "POST", "/participants",
   "{\"first_name\":\"Readonly\",\"last_name\":\"Key\",\"email\":\"ro@example.com\"}", 0, 0},
  {K_SECOND, "GET", "/flaky?fail=2&id=", NULL, 0, 1},
};

/* Past the server's limit with the client limiter off: the ninth call gets a 429 with
 * Retry-After and is retried automatically. */
static const struct demo_step burst[] = {
  {K_BATCH, "GET", "/participants", NULL, DEMO_RATE + 2, 0},
};

/* The client limiter on, at the server's own rate: the last calls wait in the queue
 * instead of getting 429s. */
static const struct demo_step queued[] = {
  {K_SECOND, "GET", "/participants", NULL, DEMO_RATE + 2, 0},
};

static const struct demo_step misc[] = {
  {K_MAIN, "GET", "/slow?ms=300", NULL, 0, 0},
  {K_MAIN, "GET", "/large", NULL, 0, 0},
  {K_MAIN, "GET", "/binary", NULL, 0, 0},
  {K_MAIN, "GET", "/gzip", NULL, 0, 0},
  {K_MAIN, "GET", "/redirect/2", NULL, 0, 0},
  {K_READONLY, "GET", "/status/304", NULL, 0, 0},
  {K_READONLY, "GET", "/status/500", NULL, 0, 0},
  {K_BATCH, "POST", "/echo",
   "{\"email\":\"ada@example.com\",\"password\":\"hunter2-demo\",\"note\":\"redacted?\"}", 0,
   0},
  {K_BATCH, "POST", "/oauth/token", "{\"grant_type\":\"client_credentials\"}", 0, 0},
  {K_BATCH, "GET", "/session", NULL, 0, 0},
  {K_BATCH, "GET", "/drop", NULL, 0, 0},
};

#define PHASE(rate, attempts, steps) {rate, attempts, steps, sizeof steps / sizeof steps[0]}
static const struct demo_phase phases[] = {
  PHASE(0, 4, browse),
  PHASE(0, 4, burst),
  PHASE(DEMO_RATE, 4, queued),
  PHASE(0, 4, misc),
};

static const char *key_of(enum demo_key k) {
  switch (k) {
  case K_MAIN:
    return FAKEAPI_KEY;
  case K_SECOND:
    return FAKEAPI_KEY2;
  case K_BATCH:
    return DEMO_KEY_BATCH;
  case K_READONLY:
    return FAKEAPI_KEY_RO;
  case K_REVOKED:
    return FAKEAPI_KEY_REVOKED;
  default:
    return NULL;
  }
}

struct demo_run {
  reqlog *r;
  char run_id[48];
  int done, total, tty, failures;
};

static void progress(struct demo_run *d, const struct demo_step *s) {
  d->done++;
  if (d->tty)
    fprintf(stderr, "\rrecording demo calls: %d/%d  %-7s %-32.32s", d->done, d->total,
            s->method, s->path);
  else if (d->done % 10 == 0 || d->done == d->total)
    fprintf(stderr, "recording demo calls: %d/%d\n", d->done, d->total);
  if (d->tty && d->done == d->total)
    fprintf(stderr, "\rrecording demo calls: %d/%d%45s\n", d->done, d->total, "");
}

static void run_step(struct demo_run *d, const struct demo_step *s) {
  char *path = s->unique ? xasprintf("%s%s", s->path, d->run_id) : NULL;
  reqlog_response *resp = NULL;
  reqlog_set_api_key(d->r, key_of(s->key));
  reqlog_err err = reqlog_request(d->r, s->method, path ? path : s->path, s->body,
                                  s->body ? strlen(s->body) : 0, NULL, &resp);
  if (!resp) {
    cli_warn("demo: %s %s: %s", s->method, s->path, reqlog_strerror(err));
    d->failures++;
  } else if (resp->record_err != REQLOG_OK) {
    d->failures++;
  }
  reqlog_response_free(resp);
  free(path);
  progress(d, s);
}

static void run_phases(struct demo_run *d) {
  for (size_t p = 0; p < sizeof phases / sizeof phases[0]; p++) {
    reqlog_set_rate_limit(d->r, phases[p].rate);
    reqlog_set_retry(d->r, phases[p].attempts, 200, 10000);
    for (size_t i = 0; i < phases[p].n; i++) {
      const struct demo_step *s = &phases[p].steps[i];
      for (int k = 0; k < (s->repeat > 1 ? s->repeat : 1); k++)
        run_step(d, s);
    }
  }
}

static int count_steps(void) {
  int n = 0;
  for (size_t p = 0; p < sizeof phases / sizeof phases[0]; p++)
    for (size_t i = 0; i < phases[p].n; i++)
      n += phases[p].steps[i].repeat > 1 ? phases[p].steps[i].repeat : 1;
  return n;
}

static int64_t count_rows(reqlog *r) {
  int64_t n = -1;
  char *cause = NULL;
  if (reqlog_count(r, NULL, &n, &cause) != REQLOG_OK) {
    cli_warn("demo: cannot count the calls: %s", cause ? cause : "unknown error");
    n = -1;
  }
  reqlog_free(cause);
  return n;
}

static int start_server(int port, fakeapi **api) {
  static const char *const keys[] = {FAKEAPI_KEY, FAKEAPI_KEY2, DEMO_KEY_BATCH, NULL};
  fakeapi_opts opts = {.port = port, .rate = DEMO_RATE, .window_ms = DEMO_WINDOW_MS,
                       .keys = keys};
  char *cause = NULL;
  if (fakeapi_start(&opts, api, &cause) != 0) {
    cli_error("demo", "cannot start the fake API: %s", cause ? cause : "unknown error");
    free(cause);
    return CLI_EXIT_TRANSPORT;
  }
  fprintf(stderr, "fake API listening on %s\n", fakeapi_base_url(*api));
  return CLI_EXIT_OK;
}

/* Returns -1 to go on, else the exit code. */
static int parse_args(const cli_command *self, int argc, char **argv, int64_t *port) {
  static const struct option longopts[] = {
    {"port", required_argument, NULL, 'p'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  for (;;) {
    int c = getopt_long(argc, argv, ":h", longopts, NULL);
    if (c == -1)
      break;
    if (c == 'p') {
      if (cli_parse_int("demo", "--port", optarg, 0, 65535, port) != 0)
        return CLI_EXIT_USAGE;
    } else if (c == 'h') {
      cli_usage(self, stdout);
      return CLI_EXIT_OK;
    } else {
      return cli_bad_option("demo", c, argv);
    }
  }
  if (cli_extra_args("demo", argc, argv) != 0)
    return CLI_EXIT_USAGE;
  return -1;
}

static int run(const cli_ctx *ctx, const cli_command *self, int argc, char **argv) {
  int64_t port = 0;
  fakeapi *api = NULL;
  struct demo_run d = {.total = count_steps(), .tty = isatty(STDERR_FILENO)};
  int rc = parse_args(self, argc, argv, &port);
  if (rc >= 0)
    return rc;
  /* The limiter's window: the library reads it at open. 3 s like the fake server's. */
  setenv("REQLOG_RATE_WINDOW_MS", "3000", 1);
  rc = cli_open_db(ctx, "demo", 0, &d.r);
  if (rc != CLI_EXIT_OK)
    return rc;
  rc = start_server((int)port, &api);
  if (rc != CLI_EXIT_OK)
    goto done;
  snprintf(d.run_id, sizeof d.run_id, "demo-%ld-%lld", (long)getpid(),
           (long long)time(NULL));
  int64_t before = count_rows(d.r);
  reqlog_set_base_url(d.r, fakeapi_base_url(api));
  run_phases(&d);
  fakeapi_stop(api);
  api = NULL;

  char *cause = NULL;
  reqlog_err err = reqlog_flush(d.r, &cause);
  if (err != REQLOG_OK) {
    cli_error("demo", "some calls were not recorded: %s", cause ? cause : reqlog_strerror(err));
    rc = CLI_EXIT_DB;
  }
  reqlog_free(cause);
  int64_t after = count_rows(d.r);
  if (before >= 0 && after >= 0)
    printf("recorded %lld calls into %s\n", (long long)(after - before), ctx->db_shown);
  if (d.failures && rc == CLI_EXIT_OK)
    rc = CLI_EXIT_DB;

done:
  fakeapi_stop(api);
  if (cli_close_db(d.r) != CLI_EXIT_OK && rc == CLI_EXIT_OK)
    rc = CLI_EXIT_DB;
  return rc;
}

const cli_command cmd_demo = {
  .name = "demo",
  .summary = "record a realistic mix of calls against the built-in fake API",
  .usage = usage_text,
  .run = run,
};
