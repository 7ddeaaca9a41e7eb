/* test_sqlq.c: SQL built piece by piece with its values beside it (recorder/read/sqlq.c),
 * prepared on real SQLite databases.
 *
 * Plan:
 *   bound_in_order     ints, texts and NULL come back from SELECT in the order appended;
 *                      the SQL text holds one '?' per value and nothing else of them;
 *                      5000 values of both kinds, in one INSERT, land in order
 *   values_not_in_sql  hostile text (quotes, ';', comments, a second statement) is only
 *                      ever a bound value: the SQL text never holds it and it matches
 *                      only itself in a table
 *   errors_mapped      a syntax error (REQLOG_ERR_DB, SQLite's message as the cause),
 *                      an empty query, no database, two statements, placeholders and
 *                      values that disagree (REQLOG_ERR_ARG), a failed append
 *                      (REQLOG_ERR_NOMEM), a database another connection holds locked
 *                      (REQLOG_ERR_BUSY); no statement is left behind on error
 *   after_oom          once oom is set every append is a no-op; NULL is accepted
 *   free_and_reuse     sqlq_free() empties the query, which can be built again
 *   parked_reused      a query marked STMT_PARK_MARK (base/stmtpark.c), parked after use:
 *                      the next of the same text on the connection gets the same
 *                      statement with its own values (right rows), a query of another
 *                      text a new one; a parked statement holds no read (a TRUNCATE
 *                      checkpoint by another connection completes); past
 *                      STMT_PARKED_MAX the extra ones are finalized; stmt_park_clear
 *                      finalizes only the marked ones, leaving FTS5's own statements
 *                      to it, and sqlite3_close then succeeds; an unmarked statement
 *                      handed to stmt_park is finalized
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/stmtpark.h"
#include "read/sqlq.h"
#include "testutil.h"

/* Prepares Q on DB, expecting success. */
static sqlite3_stmt *prepare_ok(const sqlq *q, sqlite3 *db) {
  sqlite3_stmt *st = NULL;
  char *cause = NULL;
  reqlog_err err = sqlq_prepare(q, db, &st, &cause);
  if (err != REQLOG_OK)
    print_error("sqlq_prepare(%s): %s\n", q->sql.data ? q->sql.data : "(null)", cause ? cause : "?");
  assert_int_equal(err, REQLOG_OK);
  assert_null(cause);
  assert_non_null(st);
  return st;
}

/* Prepares Q on DB, expecting WANT and a cause holding NEEDLE; *stmt must stay NULL. */
static void prepare_fails(const sqlq *q, sqlite3 *db, reqlog_err want, const char *needle) {
  sqlite3_stmt *st = (sqlite3_stmt *)q; /* anything but NULL */
  char *cause = NULL;
  reqlog_err err = sqlq_prepare(q, db, &st, &cause);
  assert_int_equal(err, want);
  assert_null(st);
  assert_non_null(cause);
  if (!strstr(cause, needle))
    print_error("cause '%s' does not hold '%s'\n", cause, needle);
  assert_non_null(strstr(cause, needle));
  reqlog_free(cause);
}

#define MANY 5000 /* values in one query: many times the value array's first allocation */

static void bound_in_order(void **state) {
  (void)state;
  sqlite3 *db = tu_memdb();
  sqlq q = {0};
  sqlq_add(&q, "SELECT ");
  sqlq_int(&q, 7);
  sqlq_add(&q, ", ");
  sqlq_text(&q, "seven");
  sqlq_add(&q, ", ");
  sqlq_text(&q, NULL);
  sqlq_add(&q, ", ");
  sqlq_int(&q, INT64_MIN);
  sqlq_add(&q, ", ");
  sqlq_text(&q, "");
  sqlq_add(&q, ", ");
  sqlq_int(&q, INT64_MAX);
  assert_string_equal(q.sql.data, "SELECT ?, ?, ?, ?, ?, ?");
  assert_int_equal(q.nvals, 6);
  assert_false(q.oom);

  sqlite3_stmt *st = prepare_ok(&q, db);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_int_equal(sqlite3_column_type(st, 0), SQLITE_INTEGER);
  assert_int_equal(sqlite3_column_int64(st, 0), 7);
  assert_int_equal(sqlite3_column_type(st, 1), SQLITE_TEXT);
  assert_string_equal((const char *)sqlite3_column_text(st, 1), "seven");
  assert_int_equal(sqlite3_column_type(st, 2), SQLITE_NULL);
  assert_true(sqlite3_column_int64(st, 3) == INT64_MIN);
  assert_int_equal(sqlite3_column_type(st, 4), SQLITE_TEXT);
  assert_string_equal((const char *)sqlite3_column_text(st, 4), "");
  assert_true(sqlite3_column_int64(st, 5) == INT64_MAX);
  assert_int_equal(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);

  /* Many values: the value array grows past its first allocation, order kept. */
  sqlq_free(&q);
  sqlq_add(&q, "SELECT 0");
  for (int i = 1; i <= 100; i++) {
    sqlq_add(&q, " + ");
    sqlq_int(&q, i);
  }
  st = prepare_ok(&q, db);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_int_equal(sqlite3_column_int64(st, 0), 5050);
  sqlite3_finalize(st);
  sqlq_free(&q);

  /* Many more: the array grows several times over, ints and texts alternating, and each
   * row keeps its own value. */
  tu_exec(db, "CREATE TABLE many (v)");
  sqlq_add(&q, "INSERT INTO many (v) VALUES ");
  char word[16], *want = calloc(MANY * 8, 1);
  assert_non_null(want);
  for (int i = 0; i < MANY; i++) {
    sqlq_add(&q, i ? ", (" : "(");
    snprintf(word, sizeof word, "t%d", i);
    if (i % 2)
      sqlq_text(&q, word);
    else
      sqlq_int(&q, i);
    sqlq_add(&q, ")");
    if (i % 2)
      strcat(want, word);
    else
      sprintf(want + strlen(want), "%d", i);
    strcat(want, i + 1 < MANY ? "," : "");
  }
  assert_int_equal(q.nvals, MANY);
  assert_false(q.oom);
  st = prepare_ok(&q, db);
  assert_int_equal(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
  sqlq_free(&q);
  char *got = tu_text(db, "SELECT group_concat(v, ',') FROM (SELECT v FROM many ORDER BY rowid)");
  assert_string_equal(got, want);
  assert_int_equal(tu_int(db, "SELECT count(*) FROM many WHERE typeof(v) = 'integer'"), MANY / 2);
  free(got);
  free(want);
  sqlite3_close(db);
  printf("checked: ints, texts, NULL and the int64 limits come back in order; 100 and %d "
         "values grow the array; the SQL holds only '?'\n", MANY);
}

static void values_not_in_sql(void **state) {
  (void)state;
  static const char *const hostile[] = {
    "x' OR '1'='1", "a\"; DROP TABLE t; --", "') UNION SELECT 1 --", "/* */ ?", "?1 :a @b $c",
    "line\nbreak\ttab", "caf\xc3\xa9",
  };
  sqlite3 *db = tu_memdb();
  tu_exec(db, "CREATE TABLE t (name TEXT)");
  for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
    sqlq ins = {0};
    sqlq_add(&ins, "INSERT INTO t (name) VALUES (");
    sqlq_text(&ins, hostile[i]);
    sqlq_add(&ins, ")");
    assert_string_equal(ins.sql.data, "INSERT INTO t (name) VALUES (?)");
    sqlite3_stmt *st = prepare_ok(&ins, db);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlq_free(&ins);
  }
  assert_int_equal(tu_int(db, "SELECT count(*) FROM t"), sizeof hostile / sizeof hostile[0]);
  for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
    sqlq q = {0};
    sqlq_add(&q, "SELECT count(*), min(name) FROM t WHERE name = ");
    sqlq_text(&q, hostile[i]);
    assert_null(strstr(q.sql.data, hostile[i]));
    sqlite3_stmt *st = prepare_ok(&q, db);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), 1);
    assert_string_equal((const char *)sqlite3_column_text(st, 1), hostile[i]);
    sqlite3_finalize(st);
    sqlq_free(&q);
  }
  sqlite3_close(db);
  printf("checked: %zu hostile texts are stored and found as themselves, never in the SQL\n",
         sizeof hostile / sizeof hostile[0]);
}

/* A database file another connection holds under an exclusive lock. */
static void busy_is_mapped(void) {
  char *dir = tu_tmpdir();
  char *path = tu_path(dir, "locked.db");
  sqlite3 *owner = NULL;
  assert_int_equal(sqlite3_open(path, &owner), SQLITE_OK);
  tu_exec(owner, "CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1)");
  sqlite3 *other = NULL;
  assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
  sqlq q = {0};
  sqlq_add(&q, "SELECT x FROM t");
  prepare_fails(&q, other, REQLOG_ERR_BUSY, "locked");
  sqlq_free(&q);
  sqlite3_close(other);
  tu_exec(owner, "COMMIT");
  sqlite3_close(owner);
  tu_rmtree(dir);
  free(path);
  free(dir);
}

static void errors_mapped(void **state) {
  (void)state;
  sqlite3 *db = tu_memdb();
  sqlq q = {0};

  prepare_fails(&q, db, REQLOG_ERR_ARG, "empty query");

  sqlq_add(&q, "SELEC ");
  sqlq_int(&q, 1);
  prepare_fails(&q, db, REQLOG_ERR_DB, "syntax error");
  sqlq_free(&q);

  sqlq_add(&q, "SELECT * FROM no_such_table");
  prepare_fails(&q, db, REQLOG_ERR_DB, "no such table");
  prepare_fails(&q, NULL, REQLOG_ERR_ARG, "no query, database or statement");
  sqlq_free(&q);

  sqlq_add(&q, "SELECT 1; SELECT 2");
  prepare_fails(&q, db, REQLOG_ERR_ARG, "more than one SQL statement");
  sqlq_free(&q);

  sqlq_add(&q, "SELECT 1;  \n;");
  sqlite3_stmt *st = prepare_ok(&q, db); /* trailing separators are no statement */
  sqlite3_finalize(st);
  sqlq_free(&q);

  sqlq_add(&q, "SELECT ?, ");
  sqlq_int(&q, 1);
  prepare_fails(&q, db, REQLOG_ERR_ARG, "2 placeholders for 1 values");
  sqlq_free(&q);

  sqlq_add(&q, "SELECT ");
  sqlq_int(&q, 1);
  q.oom = 1;
  prepare_fails(&q, db, REQLOG_ERR_NOMEM, "out of memory");
  sqlq_free(&q);

  busy_is_mapped();
  sqlite3_close(db);
  printf("checked: empty, syntax, unknown table, no db, two statements, count mismatch, "
         "oom and a locked database give ARG/DB/NOMEM/BUSY with a cause, no statement\n");
}

static void after_oom(void **state) {
  (void)state;
  sqlq q = {0};
  sqlq_add(&q, "SELECT ");
  sqlq_int(&q, 1);
  q.oom = 1;
  sqlq_add(&q, ", 2");
  sqlq_int(&q, 3);
  sqlq_text(&q, "four");
  assert_string_equal(q.sql.data, "SELECT ?");
  assert_int_equal(q.nvals, 1);
  sqlq_free(&q);

  /* NULL query or text: no-ops, no crash. */
  sqlq_add(NULL, "x");
  sqlq_int(NULL, 1);
  sqlq_text(NULL, "x");
  sqlq_free(NULL);
  sqlq_add(&q, NULL);
  assert_null(q.sql.data);
  printf("checked: appends after oom change nothing; NULL query and text are no-ops\n");
}

static void free_and_reuse(void **state) {
  (void)state;
  sqlite3 *db = tu_memdb();
  sqlq q = {0};
  sqlq_add(&q, "SELECT ");
  sqlq_text(&q, "first");
  sqlq_free(&q);
  assert_null(q.sql.data);
  assert_null(q.vals.data);
  assert_int_equal(q.sql.len + q.sql.cap + q.vals.len + q.vals.cap + q.nvals, 0);
  assert_false(q.oom);

  sqlq_add(&q, "SELECT ");
  sqlq_text(&q, "second");
  sqlite3_stmt *st = prepare_ok(&q, db);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(st, 0), "second");
  sqlite3_finalize(st);
  /* The statement holds its own copy of the text: freeing the query is safe at once. */
  st = prepare_ok(&q, db);
  sqlq_free(&q);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(st, 0), "second");
  sqlite3_finalize(st);
  sqlite3_close(db);
  printf("checked: sqlq_free() empties the query for reuse; a prepared statement outlives it\n");
}

/* Statements of DB whose text is marked, and all. */
static int count_stmts(sqlite3 *db, int *all) {
  int marked = 0;
  *all = 0;
  for (sqlite3_stmt *s = sqlite3_next_stmt(db, NULL); s; s = sqlite3_next_stmt(db, s)) {
    (*all)++;
    marked += strncmp(sqlite3_sql(s), STMT_PARK_MARK, strlen(STMT_PARK_MARK)) == 0;
  }
  return marked;
}

/* A marked query for the row of t with id ID; its statement on DB. */
static sqlite3_stmt *marked_query(sqlite3 *db, int64_t id, const char *column) {
  sqlq q = {0};
  sqlq_add(&q, STMT_PARK_MARK "SELECT ");
  sqlq_add(&q, column);
  sqlq_add(&q, " FROM t WHERE id = ");
  sqlq_int(&q, id);
  sqlite3_stmt *st = prepare_ok(&q, db);
  sqlq_free(&q);
  return st;
}

static void parked_reused(void **state) {
  (void)state;
  char *dir = tu_tmpdir();
  char *path = tu_path(dir, "park.db");
  sqlite3 *db = NULL, *other = NULL;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER "
                                    "PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'one'), "
                                    "(2, 'two'); CREATE VIRTUAL TABLE f USING fts5(x); "
                                    "INSERT INTO f VALUES ('hello world');", NULL, NULL, NULL),
                   SQLITE_OK);
  int all = 0;
  sqlite3_stmt *a = marked_query(db, 1, "v");
  assert_int_equal(sqlite3_step(a), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(a, 0), "one");
  stmt_park(a);
  assert_int_equal(count_stmts(db, &all), 1);
  sqlite3_stmt *b = marked_query(db, 2, "v");
  assert_ptr_equal(a, b); /* the parked one, with the new value bound */
  assert_int_equal(sqlite3_step(b), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(b, 0), "two");
  sqlite3_stmt *c = marked_query(db, 1, "id, v"); /* another text: its own statement */
  assert_ptr_not_equal(c, b);
  stmt_park(c);
  stmt_park(b);
  assert_int_equal(count_stmts(db, &all), 2);

  /* parked, the statements hold no read: another connection's TRUNCATE checkpoint
   * after a write completes (busy 0) */
  assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
  assert_int_equal(sqlite3_exec(other, "INSERT INTO t VALUES (3, 'three')", NULL, NULL, NULL),
                   SQLITE_OK);
  assert_int_equal(tu_int(other, "PRAGMA wal_checkpoint(TRUNCATE)"), 0); /* busy */
  sqlite3_close(other);

  /* no more than STMT_PARKED_MAX stay parked */
  char col[32];
  for (int i = 0; i < STMT_PARKED_MAX + 3; i++) {
    snprintf(col, sizeof col, "v AS c%d", i);
    stmt_park(marked_query(db, 1, col));
  }
  assert_int_equal(count_stmts(db, &all), STMT_PARKED_MAX);

  /* an FTS5 query makes statements of FTS5's own; clearing leaves them to it */
  sqlite3_stmt *fts = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, "SELECT rowid FROM f WHERE f MATCH 'hello'", -1,
                                      &fts, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(fts), SQLITE_ROW);
  stmt_park(fts); /* not marked: finalized */
  stmt_park_clear(db);
  assert_int_equal(count_stmts(db, &all), 0);
  assert_true(all > 0); /* FTS5's, still there */
  assert_int_equal(sqlite3_close(db), SQLITE_OK);
  tu_rmtree(dir);
  free(path);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(bound_in_order),
    cmocka_unit_test(values_not_in_sql),
    cmocka_unit_test(errors_mapped),
    cmocka_unit_test(after_oom),
    cmocka_unit_test(free_and_reuse),
    cmocka_unit_test(parked_reused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
