/* common.c: helpers of fuzz.h, linked into every target in both of its forms. */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

_Noreturn void fuzz_fail(const char *what) {
  fprintf(stderr, "fuzz: property does not hold: %s\n", what);
  abort();
}

size_t fuzz_piece(unsigned *state, size_t max, size_t left) {
  *state = *state * 1103515245u + 12345u;
  size_t n = 1 + (*state >> 16) % max;
  return n < left ? n : left;
}

static char temp_dir[64];

/* Removes the files of the temporary folder (it holds no folders), then the folder. */
static void remove_temp_dir(void) {
  DIR *d = opendir(temp_dir);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
        continue;
      char p[sizeof temp_dir + 260];
      snprintf(p, sizeof p, "%s/%s", temp_dir, e->d_name);
      unlink(p);
    }
    closedir(d);
  }
  rmdir(temp_dir);
}

const char *fuzz_temp_dir(void) {
  if (temp_dir[0])
    return temp_dir;
  snprintf(temp_dir, sizeof temp_dir, "/tmp/reqlog-fuzz-XXXXXX");
  if (!mkdtemp(temp_dir))
    fuzz_fail("a temporary folder can be made");
  atexit(remove_temp_dir);
  return temp_dir;
}

int fuzz_input_file(const uint8_t *data, size_t n, const char **path) {
  static int fd = -1;
  static char name[40];
  if (fd < 0) {
    fd = memfd_create("fuzz-input", MFD_CLOEXEC);
    FUZZ_CHECK(fd >= 0, "memfd_create works");
    snprintf(name, sizeof name, "/proc/self/fd/%d", fd);
  }
  FUZZ_CHECK(ftruncate(fd, 0) == 0, "the input file can be emptied");
  size_t off = 0;
  while (off < n) {
    ssize_t w = pwrite(fd, data + off, n - off, (off_t)off);
    FUZZ_CHECK(w > 0, "the input file can be written");
    off += (size_t)w;
  }
  *path = name;
  return fd;
}
