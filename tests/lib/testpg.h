/* testpg.h: a throwaway PostgreSQL cluster for the team-store tests (recorder/pg/):
 * initdb + pg_ctl from the PostgreSQL binaries (/usr/lib/postgresql/N/bin, or
 * $REQLOG_PG_BINDIR), listening on a Unix socket in a temp folder only (no TCP), run as
 * the `postgres` system user through runuser when the tests run as root (PostgreSQL
 * refuses root). Its superuser is named like the user running the tests, with local
 * trust, so `postgresql:///DB?host=SOCKDIR` connects; role TPG_PW_USER needs the
 * password TPG_PW_SECRET (scram-sha-256). Stopped and removed by tpg_stop(). */
#ifndef TESTPG_H
#define TESTPG_H

#include <libpq-fe.h>
#include <stdint.h>

#define TPG_PW_USER "tpg_pw"
#define TPG_PW_SECRET "tpg-Secret-pw-4711"

typedef struct tpg {
  char *dir;     /* the temp folder: the cluster's data/ and log, and the socket */
  char *data;    /* DIR/data */
  char *log;     /* DIR/server.log */
  char *sockdir; /* where the socket is (DIR) */
  char *uri;     /* postgresql:///postgres?host=SOCKDIR */
  char bindir[512];
  int as_postgres; /* the binaries run through `runuser -u postgres --` */
} tpg;

/* Makes and starts a cluster. When PostgreSQL's binaries are missing: NULL after saying
 * so, so the caller skips; under CI=true the running test fails instead (CI installs
 * them with scripts/deps.sh). Any other failure fails the running test. */
tpg *tpg_start(void);
/* In a cmocka test: skips it when tpg_start() found no PostgreSQL (PG is NULL). */
#define TPG_SKIP_WITHOUT(pg) \
  do {                       \
    if (!(pg))               \
      skip();                \
  } while (0)

/* Stops the cluster and removes its folder; NULL is fine. */
void tpg_stop(tpg *t);

/* Stops the server (pg_ctl stop -m fast) and starts it again (same data, same socket):
 * for the tests of a server that goes away. Fail the test on failure. The test process
 * becomes a child subreaper when it starts a server, so that the postmaster (orphaned by
 * pg_ctl) is its child and is reaped when it ends: a postmaster left a zombie would keep
 * its postmaster.pid alive and no server could start on the data again. */
void tpg_server_stop(tpg *t);
void tpg_server_start(tpg *t);
/* kill -9 of the whole server: the postmaster (its pid from postmaster.pid) is stopped
 * so that it starts nothing more, every process it started (its backends, walwriter,
 * checkpointer, ...) gets SIGKILL, then the postmaster does; returns once all of them
 * are gone. tpg_server_start() then runs crash recovery. Returns how many processes
 * were killed. Fail the test on failure. */
int tpg_server_kill9(tpg *t);

/* Creates database NAME (fresh: dropped first if it exists) and returns its URI,
 * malloc'd: postgresql:///NAME?host=SOCKDIR. */
char *tpg_createdb(tpg *t, const char *name);

/* The URI of database DB as TPG_PW_USER with PASSWORD in it (right or wrong). */
void tpg_pw_uri(const tpg *t, const char *db, const char *password, char out[512]);

/* A connection for assertions (fails the test when it cannot connect). */
PGconn *tpg_conn(const char *uri);
/* Runs SQL; fails the test with the server's message when it fails. */
void tpg_exec(PGconn *c, const char *sql);
/* The first column of the first row of SQL as an integer (0 when NULL or no row), or as
 * malloc'd text (NULL when NULL or no row). Fail the test when the query fails. */
int64_t tpg_int(PGconn *c, const char *sql);
char *tpg_text(PGconn *c, const char *sql);
int64_t tpg_intf(PGconn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Polls SQL on C (every 100 ms, up to two minutes, so a slow machine passes) until it
 * returns WANT; returns what it last returned (-1 while it fails: the tables may not be
 * made yet, or the connection is gone). Never decides a test's outcome by time. */
int64_t tpg_wait_int(PGconn *c, const char *sql, int64_t want);
/* Non-zero while C sees a shipper's batch in flight: its COPY or INSERT sent, its COMMIT
 * not yet (recorder/pg/pg_ship.c's statements, application_name reqlog). */
int tpg_ship_in_flight(PGconn *c);

/* Takes the store C is connected to, at the current schema, back to schema 4 (before
 * schema/pg/005_request_id.sql): the migration rows from 005 on and what they made (005
 * the request_id column and its index, 006 the notes' tables, 007 replay_of, 008 the
 * stats' covering index), so that opening it applies 005 to 008 again. */
void tpg_back_to_schema4(PGconn *c);

/* A cmocka group's setup and teardown: *state is the cluster (tpg_start(), NULL when
 * PostgreSQL is missing outside CI: every test then skips), stopped at the end. */
int tpg_group_setup(void **state);
int tpg_group_teardown(void **state);

/* Forks N (at most 16) children that wait for a common start, then each exits with what
 * FN(ARG) returns; returns how many did not exit 0. */
int tpg_at_once(int n, int (*fn)(const void *), const void *arg);
/* Opens the store at URI (a const char *) as every command does (pg_open: migrated) and
 * closes it: 0 when it opened, else 1 after printing why; a FN for tpg_at_once. */
int tpg_open_store(const void *uri);

#endif
