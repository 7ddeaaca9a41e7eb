/* serving.c: what the commands that serve until stopped (serve, proxy, mock) share: the
 * stop signals and the --listen address. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "cli.h"

static void stop_set(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGINT);
  sigaddset(set, SIGTERM);
}

void cli_block_stop_signals(void) {
  sigset_t stop;
  stop_set(&stop);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  signal(SIGPIPE, SIG_IGN);
}

void cli_wait_stop(void) {
  sigset_t stop;
  stop_set(&stop);
  int sig = 0;
  sigwait(&stop, &sig);
}

int cli_parse_listen(const char *cmd, const char *text, web_listen *l) {
  char *cause = NULL;
  if (web_parse_listen(text, l, &cause) == 0)
    return 0;
  cli_error(cmd, "%s", cause ? cause : "bad --listen address");
  free(cause);
  return -1;
}
