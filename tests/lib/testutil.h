/* testutil.h: what the tests share, whatever they test: temp folders and files, the fake
 * API, running the reqlog binary (testutil.c); reading and preparing databases
 * (testdb.c); values as reqlog writes them and checks that fail the running cmocka test
 * with a message saying what went wrong (testcheck.c). The fixtures of one family of
 * suites build on it: testcli.h, testhar.h, testexec.h, testproxy.h. */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "reqlog.h"
#include "reqlog_demo.h"

/* A NULL-ended argument list for tu_run and its callers: ARGS("list", "--json"). */
#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ------------------------------------------------------------------ testutil.c */

/* A fresh folder under $TMPDIR (or /tmp); tu_rmtree removes it. Abort on failure. */
char *tu_tmpdir(void);
void tu_rmtree(const char *dir);
/* malloc'd "DIR/NAME". */
char *tu_path(const char *dir, const char *name);

/* Starts the fake API (RATE per WINDOW_MS per key; 0 = defaults) or fails the test. */
fakeapi *tu_api(int rate, long window_ms);

/* Non-zero when the file at PATH contains NEEDLE as raw bytes (0 if it does not exist). */
int tu_file_contains(const char *path, const char *needle);
/* Non-zero when DB, DB-wal or DB-shm contains NEEDLE as raw bytes, or a packed value of
 * DB does once unpacked (tu_db_values_contain); prints where. */
int tu_db_files_contain(const char *db, const char *needle);
/* Non-zero when the header JSON or a body of a row of the history DB, read back as
 * recorded (packed values unpacked, docs/design.md §10), contains NEEDLE; 0 when DB is
 * not there or holds no calls table. */
int tu_db_values_contain(const char *db, const char *needle);
/* Raw bytes of DB's files, or its values as recorded: where a test looks for what was
 * recorded (tu_db_files_contain prints where a secret is). */
int tu_history_contains(const char *db, const char *needle);

/* Runs the reqlog binary ($REQLOG_TEST_BIN, else build/reqlog) with ARGV (NULL-ended,
 * without the program name), STDIN_DATA (may be NULL) on its stdin and ENV (NULL-ended
 * "NAME=value" strings added to the environment, may be NULL). *out and *err get what
 * it printed (malloc'd, NUL-terminated; pass NULL to ignore). Returns its exit code, or
 * 128 + signal. */
int tu_run(const char *const *argv, const char *stdin_data, const char *const *env,
           char **out, char **err);
/* Starts the reqlog binary (as tu_run) with ARGV and ENV in the background, its stdout
 * and stderr into OUTFILE (made 0600, truncated); its pid (fails the test when it cannot
 * fork). tu_wait_exit() waits for it: its exit code, or 128 + the signal that ended it. */
pid_t tu_spawn(const char *const *argv, const char *const *env, const char *outfile);
int tu_wait_exit(pid_t pid);
/* Hands S (malloc'd) to *TO, or frees it when TO is NULL: a run's output to its caller. */
void tu_give(char *s, char **to);
/* Frees *A and *B and sets both to NULL (a run's stdout and stderr). */
void tu_free2(char **a, char **b);

/* Unix microseconds now. */
int64_t tu_now_us(void);
/* Sleeps MS milliseconds (for polling loops: never to decide a test's outcome). */
void tu_sleep_ms(long ms);

/* Writes TEXT to PATH and gives the file MODE; fails the test when it cannot. */
void tu_write_file(const char *path, const char *text, mode_t mode);
/* The whole file as a malloc'd NUL-terminated string, or NULL when it cannot be read;
 * tu_slurp also gives its length in *SIZE (when SIZE is not NULL), for binary files. */
char *tu_read_file(const char *path);
char *tu_slurp(const char *path, size_t *size);
/* How many entries of DIR (".", ".." included) have a name starting with PREFIX. */
int tu_dir_count(const char *dir, const char *prefix);

/* ------------------------------------------------------------------ testdb.c */

/* A connection for assertions; abort on failure. */
sqlite3 *tu_db(const char *path);
int64_t tu_int(sqlite3 *db, const char *sql);
/* tu_int on the database at PATH, opened for it and closed. */
int64_t tu_file_int(const char *path, const char *sql);
/* malloc'd text of the first column of the first row, or NULL. */
char *tu_text(sqlite3 *db, const char *sql);
/* tu_int and tu_text over SQL formatted like printf. */
int64_t tu_intf(sqlite3 *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *tu_textf(sqlite3 *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An in-memory database with every migration embedded in the library applied (the
 * schema the store uses); abort on failure. */
sqlite3 *tu_memdb(void);
/* Runs SQL on DB; abort with the message on failure. */
void tu_exec(sqlite3 *db, const char *sql);

/* An INSERT of row 7 with every column of `calls` set: a 422 with both bodies, repeated
 * headers, timing phases, a retry link and error_fields. */
extern const char TU_FULL_ROW_SQL[];

/* A new empty history DIR/NAME made by reqlog_open (malloc'd path; fails the test). */
char *tu_new_history(const char *dir, const char *name);
/* Adds N generated calls of ORIGIN to the history at PATH with one INSERT: started STEP_US
 * apart from START_US, GET https://api.example/v1/items/I, status 200, 300 or 400 in
 * turn, each with a JSON response body of about BODY bytes and a key fingerprint. */
void tu_gen_calls(const char *path, int n, const char *origin, int64_t start_us,
                  int64_t step_us, int body);

/* Every row of R, oldest first, with bodies, once what R recorded is written. */
cJSON *tu_rows(reqlog *r);

/* ------------------------------------------------------------------ testcheck.c */

/* Reading a row-model object (cJSON): member K as a string (NULL when absent or not a
 * string), whether it is JSON null or true, and the value of header NAME (case-insensitive) in
 * the stored [[name, value], ...] array WHICH ("request_headers"/"response_headers"). */
const char *tu_str(const cJSON *o, const char *k);
int tu_is_null(const cJSON *o, const char *k);
int tu_is_true(const cJSON *o, const char *k);
const char *tu_header(const cJSON *row, const char *which, const char *name);
/* Member K of O, which must be a number (else the test fails). */
int64_t tu_jint(const cJSON *o, const char *k);
double tu_num(const cJSON *o, const char *k);

/* Unix microseconds as the row model writes them: 2026-11-27T21:04:05.123456Z. */
void tu_iso_us(int64_t us, char out[40]);
/* "…abcd#3f2a9c1e": the key's last four characters and the first 8 hex digits of its
 * SHA-256, as the store fingerprints keys (docs/design.md §4). */
void tu_fingerprint(const char *key, char out[64]);
/* malloc'd standard base64 (with padding) of LEN bytes at S. */
char *tu_base64(const unsigned char *s, size_t len);

/* Fails the test, showing WHAT and the program's stderr ERR, when RC is not WANT. */
void tu_expect_exit(int rc, int want, const char *what, const char *err);
/* Fails the test, showing WHAT and HAY, when HAY does not contain NEEDLE. */
void tu_expect_has(const char *hay, const char *needle, const char *what);
/* ARGS joined by spaces into OUT (cut at SIZE), for messages; returns OUT. */
const char *tu_label_of(const char *const *args, char *out, size_t size);

#endif
