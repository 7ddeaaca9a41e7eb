/* errors.h: the one place that knows reqlog's error codes: their English texts
 * (reqlog_strerror(), declared in reqlog.h) and how an SQLite result code becomes one.
 * Every file that talks to SQLite maps its results here, so writing and reading report
 * the same failure with the same code. */
#ifndef REQLOG_ERRORS_H
#define REQLOG_ERRORS_H

#include "reqlog.h"

/* The reqlog error for the SQLite result code RC (primary or extended):
 *   SQLITE_OK, SQLITE_ROW, SQLITE_DONE    REQLOG_OK
 *   SQLITE_NOMEM                          REQLOG_ERR_NOMEM
 *   SQLITE_BUSY, SQLITE_LOCKED            REQLOG_ERR_BUSY
 *   SQLITE_READONLY, SQLITE_PERM          REQLOG_ERR_READONLY (may not write: the file,
 *                                         its folder or the access mode forbids it)
 *   SQLITE_FULL                           REQLOG_ERR_FULL
 *   SQLITE_IOERR, SQLITE_CANTOPEN         REQLOG_ERR_IO
 *   anything else                         REQLOG_ERR_DB */
reqlog_err errors_from_sqlite(int rc);

#endif
