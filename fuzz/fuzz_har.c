/* fuzz_har.c: the HAR importer (recorder/capture/import_har.c) through its public entry point,
 * reqlog_import_har(), into a real history file, as `reqlog import` runs it.
 *
 * Input: the HAR file's bytes. Properties checked besides "no crash, no leak":
 *   - a refused file (any error) adds no row: the import is all or nothing;
 *   - an accepted one adds exactly as many rows as it reports;
 *   - the file stays sound: PRAGMA integrity_check says ok after every accepted import
 *     (not quick_check: SQLite 3.40.1's quick_check reports a false "NULL value in
 *     call_fields.call_id" on a WITHOUT ROWID table whose primary key reorders columns).
 * The history file lives in fuzz_temp_dir(), and is started
 * afresh every few hundred rows so it stays small. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "reqlog.h"

#define FRESH_AFTER_ROWS 500

static char db_path[128];
static reqlog *handle;
static sqlite3 *reader;
static long rows_in_file;

static void remove_files(void) {
  static const char *const suffixes[] = {"", "-wal", "-shm", "-journal", NULL};
  for (size_t i = 0; suffixes[i]; i++) {
    char p[160];
    snprintf(p, sizeof p, "%s%s", db_path, suffixes[i]);
    unlink(p);
  }
}

static void close_history(void) {
  if (reader)
    sqlite3_close(reader);
  reader = NULL;
  if (handle)
    reqlog_close(handle);
  handle = NULL;
  remove_files();
}

static void at_exit(void) {
  close_history();
}

static void open_history(void) {
  char *cause = NULL;
  if (reqlog_open(db_path, &handle, &cause) != REQLOG_OK) {
    fprintf(stderr, "fuzz_har: cannot open %s: %s\n", db_path, cause ? cause : "?");
    fuzz_fail("the history file opens");
  }
  if (sqlite3_open_v2(db_path, &reader, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    fuzz_fail("the history file opens for reading");
  sqlite3_busy_timeout(reader, 10000);
  rows_in_file = 0;
}

static void setup(void) {
  snprintf(db_path, sizeof db_path, "%s/history.db", fuzz_temp_dir());
  unsetenv("REQLOG_BODY_CAP");
  unsetenv("REQLOG_REDACT");
  atexit(at_exit);
  open_history();
}

static long count_rows(void) {
  sqlite3_stmt *st = NULL;
  long n = -1;
  if (sqlite3_prepare_v2(reader, "SELECT count(*) FROM calls", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    n = (long)sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  FUZZ_CHECK(n >= 0, "the calls table can be counted");
  return n;
}

static int integrity_ok(void) {
  sqlite3_stmt *st = NULL;
  int ok = 0;
  if (sqlite3_prepare_v2(reader, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    const unsigned char *t = sqlite3_column_text(st, 0);
    ok = t && strcmp((const char *)t, "ok") == 0;
    if (!ok)
      fprintf(stderr, "fuzz_har: integrity_check: %s\n", t ? (const char *)t : "(null)");
  } else {
    fprintf(stderr, "fuzz_har: integrity_check: %s\n", sqlite3_errmsg(reader));
  }
  sqlite3_finalize(st);
  return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!handle)
    setup();
  /* the importer's only way in is a path: an in-memory file */
  const char *input_path;
  fuzz_input_file(data, size, &input_path);
  long before = count_rows();
  int64_t imported = -1;
  char *cause = NULL;
  reqlog_err err = reqlog_import_har(handle, input_path, &imported, &cause);
  long after = count_rows();
  if (err == REQLOG_OK) {
    FUZZ_CHECK(imported >= 0 && after - before == imported,
               "an accepted import adds as many rows as it reports");
    FUZZ_CHECK(cause == NULL, "an accepted import gives no cause");
    if (imported > 0)
      FUZZ_CHECK(integrity_ok(), "the history passes integrity_check after an import");
  } else {
    FUZZ_CHECK(after == before, "a refused import adds no row");
    FUZZ_CHECK(imported == 0, "a refused import reports 0 rows");
    FUZZ_CHECK(cause != NULL && cause[0] != '\0', "a refused import says why");
    FUZZ_CHECK(err == REQLOG_ERR_ARG || err == REQLOG_ERR_NOMEM,
               "a refused in-memory file is a bad argument (or out of memory)");
  }
  reqlog_free(cause);
  rows_in_file = after;
  if (rows_in_file > FRESH_AFTER_ROWS) {
    close_history();
    open_history();
  }
  return 0;
}
