/* stmtpark.h: statements a reader parks on its SQLite connection for the next query of
 * the same text (a list page's statement costs more to prepare than to run). Their text
 * begins with STMT_PARK_MARK, which tells them from every other statement on the
 * connection (FTS5 keeps statements of its own there, which only it may finalize). A
 * connection serves one reader at a time, so a marked statement that is not running is
 * a parked one. */
#ifndef REQLOG_STMTPARK_H
#define REQLOG_STMTPARK_H

#include <sqlite3.h>

#define STMT_PARK_MARK "/* reqlog: parkable */ "
#define STMT_PARKED_MAX 8 /* parked on one connection at most */

/* A parked statement of DB whose text is SQL (which begins with the mark), or NULL. */
sqlite3_stmt *stmt_park_find(sqlite3 *db, const char *sql);
/* Parks ST (reset, bindings cleared) when its text is marked and fewer than
 * STMT_PARKED_MAX are parked on its connection; else finalizes it. Accepts NULL. */
void stmt_park(sqlite3_stmt *st);
/* Finalizes what is parked on DB: before sqlite3_close(). */
void stmt_park_clear(sqlite3 *db);

#endif
