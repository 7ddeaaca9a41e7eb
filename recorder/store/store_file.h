/* store_file.h: the checks on the history file before SQLite opens it: what it is (a
 * regular file, not a link, a directory or something that is not a history), whose it
 * is, and that it is private. Used by store_open.c and store_migrate.c; SQLite itself
 * never sees a path these checks refused. */
#ifndef REQLOG_STORE_FILE_H
#define REQLOG_STORE_FILE_H

#include <sys/types.h>
#include "base/notice.h"
#include "reqlog.h"

/* What the checks learnt, and how SQLite must open the file. */
typedef struct store_file {
  dev_t dev;          /* the file checked: store_file_same() compares with the path again */
  ino_t ino;
  int own;            /* it belongs to this process's user */
  char *open_name;    /* what to give sqlite3_open_v2(): the path, or a file: URI */
  int open_flags;     /* SQLITE_OPEN_* for every connection */
  notice notice;      /* for the error handler: the file was made private */
} store_file;

/* For recording: PATH is created 0600 when absent. An existing PATH must be a regular
 * file (not a symbolic link, not a directory) of this user, empty or an SQLite database;
 * so must its -wal, -shm and -journal when they exist. Group and other permission bits of
 * these files are removed (said in f->notice, kept until a handler is set). Returns REQLOG_OK, or an error with a
 * message in *cause: REQLOG_ERR_READONLY for a file of another user or one this user
 * cannot write, REQLOG_ERR_DB for what is not a database, REQLOG_ERR_IO otherwise. */
reqlog_err store_file_claim(const char *path, store_file *f, char **cause);

/* For reading: PATH must exist and be a regular file holding an SQLite database (an
 * empty file is refused); it may belong to another user and be read-only. Never creates
 * or writes a file, except that this user's own files are made private as above. Opened
 * read-only; a WAL history without -wal and -shm files that this process must not or
 * cannot create (another user's, or in a folder it cannot write) is opened as immutable. */
reqlog_err store_file_check_read(const char *path, store_file *f, char **cause);

/* 0 when PATH is still the regular file that was checked (not replaced since). */
int store_file_same(const char *path, const store_file *f);

void store_file_free(store_file *f);

#endif
