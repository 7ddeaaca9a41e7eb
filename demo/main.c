/* main.c: reqlog-testapi, the fake Astalty API as a program, for trying reqlog by hand
 * and for tests that need the server in another process. Runs until SIGINT/SIGTERM. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include "reqlog_demo.h"

enum exit_code { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

static void usage(FILE *out)
{
  fprintf(out,
          "usage: reqlog-testapi [--port N] [--rate N] [--window-ms N]\n"
          "\n"
          "Serves a fake of the Astalty public API on 127.0.0.1 until interrupted.\n"
          "\n"
          "  --port N        port to listen on (default 0: any free port)\n"
          "  --rate N        requests per window per key (default %d)\n"
          "  --window-ms N   rate-limit window in milliseconds (default %ld)\n"
          "  --help          show this help\n"
          "\n"
          "Keys: %s, %s (full access), %s (read-only), %s (revoked).\n",
          FAKEAPI_DEFAULT_RATE, FAKEAPI_DEFAULT_WINDOW_MS, FAKEAPI_KEY, FAKEAPI_KEY2,
          FAKEAPI_KEY_RO, FAKEAPI_KEY_REVOKED);
}

/* ARG as a number in [MIN, MAX]; false when it is not one. */
static bool parse_number(const char *arg, long min, long max, long *out)
{
  char *end = NULL;
  long v;

  errno = 0;
  v = strtol(arg, &end, 10);
  if (errno != 0 || end == arg || *end != '\0' || v < min || v > max)
    return false;
  *out = v;
  return true;
}

static int parse_args(int argc, char **argv, fakeapi_opts *opts)
{
  static const struct option longopts[] = {
    {"port", required_argument, NULL, 'p'},
    {"rate", required_argument, NULL, 'r'},
    {"window-ms", required_argument, NULL, 'w'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  long v;
  int ch;

  while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (ch) {
    case 'p':
      if (!parse_number(optarg, 0, 65535, &v))
        goto bad_value;
      opts->port = (int)v;
      break;
    case 'r':
      if (!parse_number(optarg, 1, INT_MAX, &v))
        goto bad_value;
      opts->rate = (int)v;
      break;
    case 'w':
      if (!parse_number(optarg, 1, LONG_MAX, &v))
        goto bad_value;
      opts->window_ms = v;
      break;
    case 'h':
      usage(stdout);
      exit(EXIT_OK);
    default:
      usage(stderr);
      return -1;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "reqlog-testapi: unexpected argument '%s'\n", argv[optind]);
    return -1;
  }
  return 0;

bad_value:
  fprintf(stderr, "reqlog-testapi: invalid value '%s' for --%s\n", optarg,
          ch == 'p' ? "port" : ch == 'r' ? "rate" : "window-ms");
  return -1;
}

int main(int argc, char **argv)
{
  fakeapi_opts opts = {0};
  fakeapi *api = NULL;
  char *cause = NULL;
  sigset_t stop_signals;
  int sig = 0;

  if (parse_args(argc, argv, &opts) != 0)
    return EXIT_USAGE;

  /* Blocked before the server starts, so its threads inherit the mask and the signals
   * wait for sigwait() below instead of killing the process mid-request. */
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
  signal(SIGPIPE, SIG_IGN); /* a client hanging up must not end the server */

  if (fakeapi_start(&opts, &api, &cause) != 0) {
    fprintf(stderr, "reqlog-testapi: %s\n", cause ? cause : "cannot start");
    free(cause);
    return EXIT_FAILED;
  }
  printf("listening on %s\n", fakeapi_base_url(api));
  fflush(stdout);

  sigwait(&stop_signals, &sig);
  fakeapi_stop(api);
  return EXIT_OK;
}
