/* test_errors.c: the error module (recorder/base/errors.c), the one place that holds
 * reqlog's error texts and the SQLite result code mapping.
 *
 * Plan:
 *   strerror_texts     every reqlog_err has its exact text; codes outside the enum
 *                      (negative, one past the last, large) read "unknown error"
 *   sqlite_primary     every primary SQLite result code maps as errors.h says
 *                      (SQLITE_PERM is read-only, as SQLITE_READONLY)
 *   sqlite_extended    extended codes map as their primary code
 *                      (SQLITE_IOERR_READ, SQLITE_BUSY_SNAPSHOT, SQLITE_READONLY_DBMOVED,
 *                      SQLITE_CANTOPEN_ISDIR, SQLITE_CORRUPT_VTAB...)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "base/errors.h"

static void strerror_texts(void **state) {
  (void)state;
  static const struct {
    reqlog_err err;
    const char *text;
  } want[] = {
    {REQLOG_OK, "success"},
    {REQLOG_ERR_NOMEM, "out of memory"},
    {REQLOG_ERR_ARG, "bad argument"},
    {REQLOG_ERR_IO, "input/output error"},
    {REQLOG_ERR_DB, "database error"},
    {REQLOG_ERR_BUSY, "database is busy"},
    {REQLOG_ERR_READONLY, "database is read-only"},
    {REQLOG_ERR_FULL, "disk is full"},
    {REQLOG_ERR_FILTER, "bad filter"},
    {REQLOG_ERR_NOTFOUND, "not found"},
    {REQLOG_ERR_TRANSPORT, "no response (transport error)"},
    {REQLOG_ERR_HTTP, "HTTP error status"},
    {REQLOG_ERR_DONE, "no more rows"},
    {REQLOG_ERR_LOST, "recorded calls were lost"},
    {REQLOG_ERR_CANCELLED, "cancelled"},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    assert_string_equal(reqlog_strerror(want[i].err), want[i].text);
  assert_string_equal(reqlog_strerror((reqlog_err)-1), "unknown error");
  assert_string_equal(reqlog_strerror((reqlog_err)(REQLOG_ERR_CANCELLED + 1)), "unknown error");
  assert_string_equal(reqlog_strerror((reqlog_err)1000000), "unknown error");
}

static void sqlite_primary(void **state) {
  (void)state;
  static const struct {
    int rc;
    reqlog_err err;
  } want[] = {
    {SQLITE_OK, REQLOG_OK},           {SQLITE_ROW, REQLOG_OK},
    {SQLITE_DONE, REQLOG_OK},         {SQLITE_NOMEM, REQLOG_ERR_NOMEM},
    {SQLITE_BUSY, REQLOG_ERR_BUSY},   {SQLITE_LOCKED, REQLOG_ERR_BUSY},
    {SQLITE_READONLY, REQLOG_ERR_READONLY}, {SQLITE_PERM, REQLOG_ERR_READONLY},
    {SQLITE_FULL, REQLOG_ERR_FULL},   {SQLITE_IOERR, REQLOG_ERR_IO},
    {SQLITE_CANTOPEN, REQLOG_ERR_IO}, {SQLITE_ERROR, REQLOG_ERR_DB},
    {SQLITE_INTERNAL, REQLOG_ERR_DB}, {SQLITE_ABORT, REQLOG_ERR_DB},
    {SQLITE_INTERRUPT, REQLOG_ERR_DB}, {SQLITE_CORRUPT, REQLOG_ERR_DB},
    {SQLITE_NOTFOUND, REQLOG_ERR_DB}, {SQLITE_PROTOCOL, REQLOG_ERR_DB},
    {SQLITE_EMPTY, REQLOG_ERR_DB},    {SQLITE_SCHEMA, REQLOG_ERR_DB},
    {SQLITE_TOOBIG, REQLOG_ERR_DB},   {SQLITE_CONSTRAINT, REQLOG_ERR_DB},
    {SQLITE_MISMATCH, REQLOG_ERR_DB}, {SQLITE_MISUSE, REQLOG_ERR_DB},
    {SQLITE_NOLFS, REQLOG_ERR_DB},    {SQLITE_AUTH, REQLOG_ERR_DB},
    {SQLITE_FORMAT, REQLOG_ERR_DB},   {SQLITE_RANGE, REQLOG_ERR_DB},
    {SQLITE_NOTADB, REQLOG_ERR_DB},   {SQLITE_NOTICE, REQLOG_ERR_DB},
    {SQLITE_WARNING, REQLOG_ERR_DB},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    if (errors_from_sqlite(want[i].rc) != want[i].err)
      fail_msg("SQLite code %d (%s): got %d, want %d", want[i].rc,
               sqlite3_errstr(want[i].rc), errors_from_sqlite(want[i].rc), want[i].err);
  }
}

static void sqlite_extended(void **state) {
  (void)state;
  assert_int_equal(errors_from_sqlite(SQLITE_IOERR_READ), REQLOG_ERR_IO);
  assert_int_equal(errors_from_sqlite(SQLITE_IOERR_NOMEM), REQLOG_ERR_IO);
  assert_int_equal(errors_from_sqlite(SQLITE_CANTOPEN_ISDIR), REQLOG_ERR_IO);
  assert_int_equal(errors_from_sqlite(SQLITE_BUSY_SNAPSHOT), REQLOG_ERR_BUSY);
  assert_int_equal(errors_from_sqlite(SQLITE_LOCKED_SHAREDCACHE), REQLOG_ERR_BUSY);
  assert_int_equal(errors_from_sqlite(SQLITE_READONLY_DBMOVED), REQLOG_ERR_READONLY);
  assert_int_equal(errors_from_sqlite(SQLITE_READONLY_CANTINIT), REQLOG_ERR_READONLY);
  assert_int_equal(errors_from_sqlite(SQLITE_CORRUPT_VTAB), REQLOG_ERR_DB);
  assert_int_equal(errors_from_sqlite(SQLITE_CONSTRAINT_UNIQUE), REQLOG_ERR_DB);
  assert_int_equal(errors_from_sqlite(SQLITE_OK_LOAD_PERMANENTLY), REQLOG_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(strerror_texts),
    cmocka_unit_test(sqlite_primary),
    cmocka_unit_test(sqlite_extended),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
