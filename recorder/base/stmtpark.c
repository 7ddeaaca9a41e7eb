/* stmtpark.c: parked statements (see stmtpark.h). */
#include "base/stmtpark.h"

#include <string.h>

static int marked(sqlite3_stmt *s) {
  const char *text = sqlite3_sql(s);
  return text && strncmp(text, STMT_PARK_MARK, sizeof STMT_PARK_MARK - 1) == 0;
}

sqlite3_stmt *stmt_park_find(sqlite3 *db, const char *sql) {
  if (strncmp(sql, STMT_PARK_MARK, sizeof STMT_PARK_MARK - 1) != 0)
    return NULL; /* not parkable: no walk over the connection's statements */
  for (sqlite3_stmt *s = sqlite3_next_stmt(db, NULL); s; s = sqlite3_next_stmt(db, s))
    if (marked(s) && !sqlite3_stmt_busy(s) && strcmp(sqlite3_sql(s), sql) == 0)
      return s;
  return NULL;
}

void stmt_park(sqlite3_stmt *st) {
  if (!st)
    return;
  if (!marked(st)) {
    sqlite3_finalize(st);
    return;
  }
  sqlite3_reset(st); /* ends its read: the next step starts a fresh one */
  sqlite3_clear_bindings(st);
  int n = 0;
  sqlite3 *db = sqlite3_db_handle(st);
  for (sqlite3_stmt *s = sqlite3_next_stmt(db, NULL); s; s = sqlite3_next_stmt(db, s))
    n += marked(s);
  if (n > STMT_PARKED_MAX)
    sqlite3_finalize(st);
}

void stmt_park_clear(sqlite3 *db) {
  sqlite3_stmt *s = sqlite3_next_stmt(db, NULL);
  while (s) {
    sqlite3_stmt *next = sqlite3_next_stmt(db, s);
    if (marked(s))
      sqlite3_finalize(s);
    s = next;
  }
}
