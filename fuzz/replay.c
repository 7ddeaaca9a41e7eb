/* replay.c: main() of the replay form of a fuzz target (fuzz/fuzz.h). Feeds each file
 * named on the command line (a folder: each regular file in it, in name order) to
 * LLVMFuzzerTestOneInput() once. With no argument it replays fuzz/corpus/FUZZ_NAME
 * (run from the top of the tree, as tests/run.sh does). Prints a cmocka-style summary
 * line, so tests/run.sh counts the replay of a target's corpus as one test: "[  PASSED  ]
 * 1 test(s)." when every input ran; an input that breaks a property or trips a
 * sanitizer aborts the run, which tests/run.sh counts as one failure.
 * Exit: 0 when every input ran, 1 when a file could not be read or none was found. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#if defined(__SANITIZE_ADDRESS__)
#define REPLAY_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REPLAY_ASAN 1
#endif
#endif
#ifdef REPLAY_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

#ifndef FUZZ_NAME
#error "FUZZ_NAME (the target's name, e.g. har) must be defined"
#endif
#define STR2(x) #x
#define STR(x) STR2(x)

/* Reads PATH whole into *data (malloc'd, *n bytes). Returns 0, or -1 with a message. */
static int read_all(const char *path, unsigned char **data, size_t *n) {
  FILE *f = fopen(path, "rb");
  *data = NULL;
  *n = 0;
  if (!f) {
    fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
    return -1;
  }
  size_t cap = 4096, len = 0;
  unsigned char *p = malloc(cap);
  while (p) {
    size_t r = fread(p + len, 1, cap - len, f);
    len += r;
    if (r == 0)
      break;
    if (len == cap) {
      unsigned char *q = realloc(p, cap * 2);
      if (!q) {
        free(p);
        p = NULL;
        break;
      }
      p = q;
      cap *= 2;
    }
  }
  int bad = ferror(f) || !p;
  fclose(f);
  if (bad) {
    free(p);
    fprintf(stderr, "replay: cannot read %s\n", path);
    return -1;
  }
  *data = p;
  *n = len;
  return 0;
}

/* The input being replayed, named when the run dies on it (a failed property aborts, a
 * sanitizer report ends the process). */
static const char *current;

static void say_current(void) {
  if (!current)
    return;
  static const char pre[] = "replay: the run died on input ";
  ssize_t w = write(2, pre, sizeof pre - 1);
  w = write(2, current, strlen(current));
  w = write(2, "\n", 1);
  (void)w;
}

static void on_signal(int sig) {
  say_current();
  signal(sig, SIG_DFL);
  raise(sig);
}

/* Feeds the file PATH to the target. Returns 0, or -1 when it could not be read. */
static int replay_file(const char *path) {
  unsigned char *data;
  size_t n;
  if (read_all(path, &data, &n) != 0)
    return -1;
  /* libFuzzer never passes NULL for a non-empty input; an empty one gets a real pointer
   * too, so the target sees what it would see under libFuzzer */
  current = path;
  LLVMFuzzerTestOneInput(data, n);
  current = NULL;
  free(data);
  return 0;
}

static int is_entry(const struct dirent *d) {
  return d->d_name[0] != '.';
}

/* Replays PATH, a file or a folder of files; adds to *count. Returns 0 or -1. */
static int replay_path(const char *path, long *count) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
    return -1;
  }
  if (!S_ISDIR(st.st_mode)) {
    (*count)++;
    return replay_file(path);
  }
  struct dirent **list;
  int m = scandir(path, &list, is_entry, alphasort);
  if (m < 0) {
    fprintf(stderr, "replay: cannot list %s: %s\n", path, strerror(errno));
    return -1;
  }
  int rc = 0;
  for (int i = 0; i < m; i++) {
    char *full = NULL;
    if (asprintf(&full, "%s/%s", path, list[i]->d_name) < 0) {
      rc = -1;
    } else if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
      (*count)++;
      if (replay_file(full) != 0)
        rc = -1;
    }
    free(full);
    free(list[i]);
  }
  free(list);
  return rc;
}

int main(int argc, char **argv) {
  const char *fallback = "fuzz/corpus/" STR(FUZZ_NAME);
  long count = 0;
  int rc = 0;
  signal(SIGABRT, on_signal);
  signal(SIGSEGV, on_signal);
  signal(SIGBUS, on_signal);
#ifdef REPLAY_ASAN
  __sanitizer_set_death_callback(say_current);
#endif
  if (argc < 2)
    rc = replay_path(fallback, &count);
  for (int i = 1; i < argc; i++)
    if (replay_path(argv[i], &count) != 0)
      rc = -1;
  if (rc == 0 && count == 0) {
    fprintf(stderr, "replay: no input found\n");
    rc = -1;
  }
  printf("[==========] %s: %ld corpus input(s) replayed.\n", STR(FUZZ_NAME), count);
  if (rc == 0)
    printf("[  PASSED  ] 1 test(s).\n");
  else
    printf("[  FAILED  ] 1 test(s), listed below:\n[  FAILED  ] replay_%s\n", STR(FUZZ_NAME));
  return rc == 0 ? 0 : 1;
}
