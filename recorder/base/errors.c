/* errors.c: reqlog's error texts and the mapping of SQLite result codes to reqlog
 * errors (see errors.h). Nothing else in the library holds either. */
#include "base/errors.h"

#include <sqlite3.h>

static const char *const messages[] = {
  [REQLOG_OK] = "success",
  [REQLOG_ERR_NOMEM] = "out of memory",
  [REQLOG_ERR_ARG] = "bad argument",
  [REQLOG_ERR_IO] = "input/output error",
  [REQLOG_ERR_DB] = "database error",
  [REQLOG_ERR_BUSY] = "database is busy",
  [REQLOG_ERR_READONLY] = "database is read-only",
  [REQLOG_ERR_FULL] = "disk is full",
  [REQLOG_ERR_FILTER] = "bad filter",
  [REQLOG_ERR_NOTFOUND] = "not found",
  [REQLOG_ERR_TRANSPORT] = "no response (transport error)",
  [REQLOG_ERR_HTTP] = "HTTP error status",
  [REQLOG_ERR_DONE] = "no more rows",
  [REQLOG_ERR_LOST] = "recorded calls were lost",
  [REQLOG_ERR_CANCELLED] = "cancelled",
};

const char *reqlog_strerror(reqlog_err err) {
  if ((unsigned)err < sizeof messages / sizeof messages[0] && messages[err])
    return messages[err];
  return "unknown error";
}

reqlog_err errors_from_sqlite(int rc) {
  switch (rc & 0xff) {
  case SQLITE_OK:
  case SQLITE_DONE:
  case SQLITE_ROW:
    return REQLOG_OK;
  case SQLITE_NOMEM:
    return REQLOG_ERR_NOMEM;
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return REQLOG_ERR_BUSY;
  case SQLITE_READONLY:
  case SQLITE_PERM:
    return REQLOG_ERR_READONLY;
  case SQLITE_FULL:
    return REQLOG_ERR_FULL;
  case SQLITE_IOERR:
  case SQLITE_CANTOPEN:
    return REQLOG_ERR_IO;
  default:
    return REQLOG_ERR_DB;
  }
}
