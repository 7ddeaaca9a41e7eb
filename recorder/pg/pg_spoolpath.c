/* pg_spoolpath.c: where the local spool of a store URL lives: $REQLOG_SPOOL, else a file
 * per store in the user's state folder, named by a digest of the URL without its
 * password (docs/design.md §9). */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pg/pg.h"
#include "pg/pg_record.h"
#include "base/util.h"

/* Makes the folder PATH and those above it that are missing, each mode 0700. PATH is
 * changed while it runs and restored. */
static int make_dirs(char *path) {
  for (char *p = path + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    int rc = mkdir(path, 0700);
    *p = '/';
    if (rc != 0 && errno != EEXIST)
      return -1;
  }
  return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* The state folder: $XDG_STATE_HOME when absolute, else HOME/.local/state; malloc'd. */
static char *state_home(void) {
  const char *xdg = getenv("XDG_STATE_HOME");
  if (xdg && xdg[0] == '/')
    return util_strdup(xdg);
  const char *home = getenv("HOME");
  if (!home || home[0] != '/') {
    struct passwd *pw = getpwuid(getuid());
    home = pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
  }
  if (!home)
    return NULL;
  size_t n = strlen(home) + sizeof "/.local/state";
  char *s = malloc(n);
  if (s)
    snprintf(s, n, "%s/.local/state", home);
  return s;
}

reqlog_err pg_spool_path(const char *url, char **out, char **cause) {
  *out = NULL;
  const char *env = getenv("REQLOG_SPOOL");
  if (env && *env) {
    if (reqlog_is_store_url(env))
      return util_fail(cause, REQLOG_ERR_ARG, "REQLOG_SPOOL names the local spool file, "
                       "not a store URL");
    *out = util_strdup(env);
    return *out ? REQLOG_OK : util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  }
  char *base = state_home();
  if (!base)
    return util_fail(cause, REQLOG_ERR_IO, "no home folder for the spool: set REQLOG_SPOOL");
  /* the URL as shown: its password replaced, so that it never names the file */
  char *shown = pg_url_shown(url);
  unsigned char digest[32];
  char hex[17];
  char *dir = NULL;
  reqlog_err e = REQLOG_OK;
  if (!shown || util_sha256(shown, strlen(shown), digest) != 0 ||
      asprintf(&dir, "%s/reqlog", base) < 0) {
    dir = NULL;
    e = util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  } else if (make_dirs(dir) != 0) {
    e = util_fail(cause, REQLOG_ERR_IO, "cannot make the spool's folder %s: %s", dir,
                  strerror(errno));
  } else {
    util_hex_encode(digest, 8, hex);
    if (asprintf(out, "%s/spool-%s.db", dir, hex) < 0) {
      *out = NULL;
      e = util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
    }
  }
  free(dir);
  free(shown);
  free(base);
  return e;
}
