/* testutil.h: what the integration tests share: temp folders, the fake API, running
 * the reqlog binary, reading the database, and grepping its raw files for secrets. */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "reqlog_demo.h"

/* A fresh folder under $TMPDIR (or /tmp); tu_rmtree removes it. Abort on failure. */
char *tu_tmpdir(void);
void tu_rmtree(const char *dir);
/* malloc'd "DIR/NAME". */
char *tu_path(const char *dir, const char *name);

/* Starts the fake API (RATE per WINDOW_MS per key; 0 = defaults) or fails the test. */
fakeapi *tu_api(int rate, long window_ms);

/* Non-zero when the file at PATH contains NEEDLE as raw bytes (0 if it does not exist). */
int tu_file_contains(const char *path, const char *needle);
/* Non-zero when DB, DB-wal or DB-shm contains NEEDLE; prints which file. */
int tu_db_files_contain(const char *db, const char *needle);

/* Runs the reqlog binary ($REQLOG_TEST_BIN, else build/reqlog) with ARGV (NULL-ended,
 * without the program name), STDIN_DATA (may be NULL) on its stdin and ENV (NULL-ended
 * "NAME=value" strings added to the environment, may be NULL). *out and *err get what
 * it printed (malloc'd, NUL-terminated; pass NULL to ignore). Returns its exit code, or
 * 128 + signal. */
int tu_run(const char *const *argv, const char *stdin_data, const char *const *env,
           char **out, char **err);

/* A connection for assertions; abort on failure. */
sqlite3 *tu_db(const char *path);
int64_t tu_int(sqlite3 *db, const char *sql);
/* malloc'd text of the first column of the first row, or NULL. */
char *tu_text(sqlite3 *db, const char *sql);

/* An in-memory database with every migration embedded in the library applied (the
 * schema the store uses); abort on failure. */
sqlite3 *tu_memdb(void);
/* Runs SQL on DB; abort with the message on failure. */
void tu_exec(sqlite3 *db, const char *sql);

/* An INSERT of row 7 with every column of `calls` set: a 422 with both bodies, repeated
 * headers, timing phases, a retry link and error_fields. */
extern const char TU_FULL_ROW_SQL[];

/* Reading a row-model object (cJSON): member K as a string (NULL when absent or not a
 * string), whether it is JSON null, and the value of header NAME (case-insensitive) in
 * the stored [[name, value], ...] array WHICH ("request_headers"/"response_headers"). */
const char *tu_str(const cJSON *o, const char *k);
int tu_is_null(const cJSON *o, const char *k);
const char *tu_header(const cJSON *row, const char *which, const char *name);

/* Unix microseconds now. */
int64_t tu_now_us(void);

#endif
