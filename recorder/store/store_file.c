/* store_file.c: the checks on the history file before SQLite opens it (store_file.h).
 *
 * They never close a descriptor that could carry locks. On Linux (and POSIX), closing
 * any descriptor of a file drops every fcntl lock the process holds on that file,
 * including the locks of SQLite's own connections to it: in WAL mode each connection's
 * shared lock on the database file and its read lock on the -shm's dead-man-switch byte.
 * A process that opens a history it already has open (reqlog_open_readonly() beside a
 * recording handle, a second reqlog_open(), the upgrade before a read) would otherwise
 * lose them, and another process closing the file would think itself the last user,
 * checkpoint and delete the WAL under the first: rows lost (tests/integration/
 * test_file_locks.c). So:
 *   - every file is looked at through an O_PATH descriptor (opened with O_NOFOLLOW, so a
 *     link is the link itself): fstat works on it, and closing one drops no lock (Linux
 *     skips lock removal for O_PATH files). Whether the file may be read is asked with
 *     faccessat() and it is made private with chmod(), both on /proc/self/fd/N: the very
 *     inode checked, never a path that could have been swapped for a link since;
 *   - a new file is created with mknod(), which opens nothing;
 *   - the 100-byte header (is it SQLite, is it in WAL mode) is the one thing that needs a
 *     readable descriptor. It is read through SQLite's own VFS (which opens the path
 *     with O_NOFOLLOW; the file read is then compared with the one checked): SQLite
 *     keeps a table of the files its connections have open, by inode, and its xClose
 *     does not close a descriptor of a file on which connections of this process hold
 *     locks (it keeps it for them to reuse, and closes it when their last lock goes). A table of our own that kept one read descriptor per file open
 *     until exit would also work, but would hold a descriptor (and a deleted file's
 *     space) for every history a long-running process ever looked at, and would know
 *     nothing of SQLite's locks; SQLite's table is the one that knows who holds them.
 * This needs Linux with /proc mounted; without it the checks fail ("cannot read"). */
#include "store/store_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"

/* The files SQLite keeps next to the database, by suffix. */
static const char *const SIDECARS[] = {"-wal", "-shm", "-journal"};
#define NSIDECARS (sizeof SIDECARS / sizeof SIDECARS[0])

/* The files made private, for the one notice. */
typedef struct privacy {
  unsigned main_mode;   /* the database file's mode before, 0 when it was private */
  unsigned side_mode;   /* the first sidecar's mode before */
  char sides[32];       /* "-wal, -shm" */
  int reading;          /* for store_file_check_read() */
} privacy;

/* "/proc/self/fd/FD", the file an O_PATH descriptor refers to, followed by a second NUL
 * (SQLite's VFS may look past the first for URI parameters). */
typedef struct fd_name {
  char s[40];
} fd_name;

static fd_name name_of(int fd) {
  fd_name n = {{0}};
  snprintf(n.s, sizeof n.s - 1, "/proc/self/fd/%d", fd);
  return n;
}

static reqlog_err refuse_link(const char *p, char **cause) {
  return util_fail(cause, REQLOG_ERR_IO,
                   "%s is a symbolic link: reqlog does not follow links to a history; give "
                   "the path of the file itself", p);
}

static reqlog_err refuse_owner(const char *p, const struct stat *st, char **cause) {
  return util_fail(cause, REQLOG_ERR_READONLY,
                   "%s belongs to another user (uid %u): reqlog writes only into files of its "
                   "own user; remove it if it should not be there", p, (unsigned)st->st_uid);
}

/* Looks at P itself (never through a link) with an O_PATH descriptor *fd and fstat's it
 * into *ST; P must be readable by this process. *fd is -1 (with REQLOG_OK) when P does
 * not exist, and is closed by the caller (which drops no lock). */
static reqlog_err inspect(const char *p, int *fd, struct stat *st, char **cause) {
  *fd = open(p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (*fd < 0) {
    int e = errno;
    if (e == ENOENT)
      return REQLOG_OK;
    if (e == ELOOP)
      return refuse_link(p, cause);
    return util_fail(cause, e == EACCES ? REQLOG_ERR_READONLY : REQLOG_ERR_IO,
                     "cannot read %s: %s", p, strerror(e));
  }
  if (fstat(*fd, st) != 0)
    return util_fail(cause, REQLOG_ERR_IO, "cannot check %s: %s", p, strerror(errno));
  if (S_ISLNK(st->st_mode))
    return refuse_link(p, cause);
  if (faccessat(AT_FDCWD, name_of(*fd).s, R_OK, AT_EACCESS) == 0)
    return REQLOG_OK;
  int e = errno;
  if (e == EACCES && st->st_uid != geteuid())
    return refuse_owner(p, st, cause);
  return util_fail(cause, e == EACCES ? REQLOG_ERR_READONLY : REQLOG_ERR_IO, "cannot read %s: %s",
                   p, strerror(e));
}

static reqlog_err check_regular(const char *p, const struct stat *st, char **cause) {
  if (S_ISDIR(st->st_mode))
    return util_fail(cause, REQLOG_ERR_IO, "%s is a directory", p);
  if (!S_ISREG(st->st_mode))
    return util_fail(cause, REQLOG_ERR_IO, "%s is not a regular file", p);
  return REQLOG_OK;
}

/* Reads the first N bytes of the file at P into BUF through SQLite's default VFS (why:
 * the opening comment), and checks that what it read is the file checked, ST. SQLite's
 * VFS opens with O_NOFOLLOW, so it cannot be given /proc/self/fd/N: it opens P, and
 * after the read, SQLITE_FCNTL_HAS_MOVED (the file it opened is the one at P now) and
 * lstat (the one at P is ST) must agree. Returns an SQLite result code; *moved is set
 * when P was replaced meanwhile. */
static int read_head(const char *p, const struct stat *st, unsigned char *buf, int n,
                     int *moved) {
  *moved = 0;
  sqlite3_vfs *vfs = sqlite3_vfs_find(NULL);
  if (!vfs)
    return SQLITE_ERROR;
  sqlite3_file *f = calloc(1, (size_t)vfs->szOsFile);
  char *name = calloc(1, strlen(p) + 2); /* a second NUL: no URI parameters */
  int rc = f && name ? SQLITE_OK : SQLITE_NOMEM, out = 0, has_moved = 0;
  if (rc == SQLITE_OK) {
    memcpy(name, p, strlen(p));
    rc = vfs->xOpen(vfs, name, f, SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_READONLY, &out);
  }
  if (rc == SQLITE_OK)
    rc = f->pMethods->xRead(f, buf, n, 0);
  if (rc == SQLITE_OK &&
      f->pMethods->xFileControl(f, SQLITE_FCNTL_HAS_MOVED, &has_moved) != SQLITE_OK)
    has_moved = 0; /* a VFS that cannot tell: the lstat below still compares */
  if (f && f->pMethods) /* set: xClose is owed even when xOpen failed */
    f->pMethods->xClose(f);
  struct stat now;
  if (rc == SQLITE_OK && (has_moved || lstat(p, &now) != 0 || now.st_dev != st->st_dev ||
                          now.st_ino != st->st_ino))
    *moved = 1;
  free(name);
  free(f);
  return rc;
}

/* Refuses what does not start with SQLite's header; an empty file unless EMPTY_OK. *wal
 * gets whether the database is in WAL mode. ST is what inspect() found at P. */
static reqlog_err check_content(const char *p, const struct stat *st, int empty_ok, int *wal,
                                char **cause) {
  *wal = 0;
  if (st->st_size == 0)
    return empty_ok ? REQLOG_OK
                    : util_fail(cause, REQLOG_ERR_DB, "%s is empty, not a reqlog history", p);
  unsigned char hdr[100];
  int moved = 0;
  int rc = read_head(p, st, hdr, (int)sizeof hdr, &moved);
  if (rc == SQLITE_NOMEM)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  if (moved)
    return util_fail(cause, REQLOG_ERR_IO, "%s was replaced while reqlog checked it", p);
  if (rc != SQLITE_OK || memcmp(hdr, "SQLite format 3", 16) != 0)
    return util_fail(cause, REQLOG_ERR_DB, "%s is not a reqlog history (not an SQLite database)",
                     p);
  *wal = hdr[18] == 2; /* the file format's read version: 2 for WAL */
  return REQLOG_OK;
}

/* Removes the group and other permissions of the file of the O_PATH descriptor FD (at P),
 * noting it in PV under SUFFIX (NULL for the database file itself). Failing to is an
 * error for recording only (pv->reading: a read-only file system still reads). */
static reqlog_err make_private(int fd, const char *p, const struct stat *st, const char *suffix,
                               privacy *pv, char **cause) {
  unsigned mode = (unsigned)(st->st_mode & 07777);
  if (!(mode & 077))
    return REQLOG_OK;
  if (chmod(name_of(fd).s, (mode_t)(mode & 07700)) != 0)
    return pv->reading ? REQLOG_OK
                       : util_fail(cause, REQLOG_ERR_IO, "%s is readable by other users and "
                                   "cannot be made private: %s", p, strerror(errno));
  if (!suffix) {
    pv->main_mode = mode;
  } else {
    if (!pv->sides[0])
      pv->side_mode = mode;
    size_t n = strlen(pv->sides);
    snprintf(pv->sides + n, sizeof pv->sides - n, "%s%s", n ? ", " : "", suffix);
  }
  return REQLOG_OK;
}

/* The -wal, -shm and -journal of PATH that exist must be regular files of this user;
 * they are made private. */
static reqlog_err check_sidecars(const char *path, privacy *pv, char **cause) {
  reqlog_err err = REQLOG_OK;
  for (size_t i = 0; i < NSIDECARS && err == REQLOG_OK; i++) {
    char *p = NULL;
    if (asprintf(&p, "%s%s", path, SIDECARS[i]) < 0)
      return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
    int fd = -1;
    struct stat st;
    err = inspect(p, &fd, &st, cause);
    if (err == REQLOG_OK && fd >= 0) {
      err = check_regular(p, &st, cause);
      if (err == REQLOG_OK && st.st_uid != geteuid())
        err = refuse_owner(p, &st, cause);
      if (err == REQLOG_OK)
        err = make_private(fd, p, &st, SIDECARS[i], pv, cause);
    }
    if (fd >= 0)
      close(fd); /* O_PATH: drops no lock */
    free(p);
  }
  return err;
}

/* Keeps in NT the notice for what was made private, if anything was. REQLOG_OK, or
 * REQLOG_ERR_NOMEM (with the message in *cause) when it cannot be kept. */
static reqlog_err privacy_notice(notice *nt, const char *path, const privacy *pv,
                                 char **cause) {
  reqlog_err err = REQLOG_OK;
  if (pv->main_mode && pv->sides[0])
    err = notice_add(nt, "%s and its %s were readable by other users (mode %04o): reqlog "
                     "made them private (%04o)", path, pv->sides, pv->main_mode,
                     pv->main_mode & 0700);
  else if (pv->main_mode)
    err = notice_add(nt, "%s was readable by other users (mode %04o): reqlog made it "
                     "private (%04o)", path, pv->main_mode, pv->main_mode & 0700);
  else if (pv->sides[0])
    err = notice_add(nt, "the %s of %s were readable by other users (mode %04o): reqlog "
                     "made them private (%04o)", pv->sides, path, pv->side_mode,
                     pv->side_mode & 0700);
  return err == REQLOG_OK ? REQLOG_OK : util_fail(cause, err, "out of memory");
}

static void remember(store_file *f, const struct stat *st) {
  f->dev = st->st_dev;
  f->ino = st->st_ino;
  f->own = st->st_uid == geteuid();
}

/* Whether this process may create files in the folder of PATH. */
static int folder_writable(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    return faccessat(AT_FDCWD, ".", W_OK, AT_EACCESS) == 0;
  char *dir = util_strndup(path, slash == path ? 1 : (size_t)(slash - path));
  int ok = dir && faccessat(AT_FDCWD, dir, W_OK, AT_EACCESS) == 0;
  free(dir);
  return ok;
}

static int exists(const char *path, const char *suffix) {
  char *p = NULL;
  if (asprintf(&p, "%s%s", path, suffix) < 0)
    return 1; /* cannot tell: assume it does (no immutable open) */
  struct stat st;
  int found = lstat(p, &st) == 0;
  free(p);
  return found;
}

/* "file:PATH?immutable=1", PATH percent-encoded where a URI needs it. */
static char *immutable_uri(const char *path) {
  static const char tail[] = "?immutable=1";
  size_t n = strlen(path);
  char *uri = malloc(5 + 3 * n + sizeof tail);
  if (!uri)
    return NULL;
  char *o = uri + sprintf(uri, "file:");
  for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
    if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
        strchr("/-._~", *c))
      *o++ = (char)*c;
    else
      o += sprintf(o, "%%%02X", *c);
  }
  memcpy(o, tail, sizeof tail);
  return uri;
}

reqlog_err store_file_claim(const char *path, store_file *f, char **cause) {
  memset(f, 0, sizeof *f);
  privacy pv = {0};
  struct stat st;
  int fd = -1, wal = 0;
  /* a new file is made without opening it (a link or anything else there: EEXIST) */
  if (mknod(path, S_IFREG | 0600, 0) != 0 && errno != EEXIST)
    return util_fail(cause, errno == EACCES || errno == EROFS ? REQLOG_ERR_READONLY : REQLOG_ERR_IO,
                     "cannot create %s: %s", path, strerror(errno));
  reqlog_err err = inspect(path, &fd, &st, cause);
  if (err == REQLOG_OK && fd < 0)
    err = util_fail(cause, REQLOG_ERR_IO, "%s disappeared while reqlog opened it", path);
  if (err == REQLOG_OK)
    err = check_regular(path, &st, cause);
  if (err == REQLOG_OK && st.st_uid != geteuid())
    err = refuse_owner(path, &st, cause);
  if (err == REQLOG_OK)
    err = check_content(path, &st, 1, &wal, cause);
  if (err == REQLOG_OK && faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) != 0)
    err = util_fail(cause, REQLOG_ERR_READONLY, "%s is read-only (mode %04o): reqlog cannot "
                    "record into it", path, (unsigned)(st.st_mode & 07777));
  if (err == REQLOG_OK)
    err = make_private(fd, path, &st, NULL, &pv, cause);
  if (fd >= 0)
    close(fd); /* O_PATH: drops no lock */
  /* a new file too: someone may have put a -wal there first */
  if (err == REQLOG_OK)
    err = check_sidecars(path, &pv, cause);
  if (err == REQLOG_OK) {
    remember(f, &st);
    f->open_name = strdup(path);
    f->open_flags = SQLITE_OPEN_READWRITE;
    if (!f->open_name)
      err = util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  }
  if (err == REQLOG_OK)
    err = privacy_notice(&f->notice, path, &pv, cause);
  if (err != REQLOG_OK)
    store_file_free(f);
  return err;
}

reqlog_err store_file_check_read(const char *path, store_file *f, char **cause) {
  memset(f, 0, sizeof *f);
  privacy pv = {.reading = 1};
  struct stat st;
  int fd = -1, wal = 0;
  reqlog_err err = inspect(path, &fd, &st, cause);
  if (err == REQLOG_OK && fd < 0)
    err = util_fail(cause, REQLOG_ERR_IO, "no history at %s", path);
  if (err == REQLOG_OK)
    err = check_regular(path, &st, cause);
  if (err == REQLOG_OK)
    err = check_content(path, &st, 0, &wal, cause);
  if (err == REQLOG_OK)
    remember(f, &st);
  /* our own files are made private; another user's are theirs to manage */
  if (err == REQLOG_OK && f->own)
    err = make_private(fd, path, &st, NULL, &pv, cause);
  if (fd >= 0)
    close(fd); /* O_PATH: drops no lock */
  if (err == REQLOG_OK && f->own)
    err = check_sidecars(path, &pv, cause);
  if (err == REQLOG_OK)
    err = privacy_notice(&f->notice, path, &pv, cause);
  if (err != REQLOG_OK) {
    store_file_free(f);
    return err;
  }
  /* Reading a WAL database needs its -shm, which SQLite creates when it is missing:
   * never in another user's folder, and not possible in one we cannot write. Without
   * -wal and -shm nobody is writing it now, and the file alone is the whole history. */
  if (wal && !exists(path, "-wal") && !exists(path, "-shm") &&
      (!f->own || !folder_writable(path))) {
    f->open_name = immutable_uri(path);
    f->open_flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
  } else {
    f->open_name = strdup(path);
    f->open_flags = SQLITE_OPEN_READONLY;
  }
  if (!f->open_name) {
    store_file_free(f);
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  }
  return REQLOG_OK;
}

int store_file_same(const char *path, const store_file *f) {
  struct stat st;
  if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
    return -1;
  return st.st_dev == f->dev && st.st_ino == f->ino ? 0 : -1;
}

void store_file_free(store_file *f) {
  free(f->open_name);
  notice_free(&f->notice);
  f->open_name = NULL;
}
