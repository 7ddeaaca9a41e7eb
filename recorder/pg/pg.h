/* pg.h: the team store on PostgreSQL, the room's interface to the rest of the library.
 * A connection from a libpq URI whose errors never quote its password (pg_conn.c,
 * pg_url.c), the schema/pg/ migrations applied under an advisory lock (pg_migrate.c),
 * the day partitions of calls (pg_partition.c) and the shipper that copies the rows of
 * a local history into it (pg_ship.c). Only this room includes <libpq-fe.h>: its shared
 * internals are in pg_int.h. docs/design.md §9. */
#ifndef REQLOG_PG_H
#define REQLOG_PG_H

#include <stdint.h>
#include "reqlog.h"

#include <cjson/cJSON.h>

typedef struct pg_db pg_db;

/* ------------------------------------------------------------------ pg_url.c */

/* Non-zero when URL holds a password (user:password@ or a password= parameter). */
int pg_url_has_password(const char *url);
/* A malloc'd copy of URL fit to show: its password replaced by [REDACTED]; NULL when
 * out of memory. */
char *pg_url_shown(const char *url);
/* A malloc'd copy of MSG with every occurrence of URL's password (as written and
 * percent-decoded) replaced by [REDACTED]; NULL when out of memory. */
char *pg_url_scrub(const char *msg, const char *url);

/* ------------------------------------------------------------------ pg_conn.c */

/* Connects to the libpq URI URL (postgresql:// or postgres://, anything else is
 * REQLOG_ERR_ARG) without touching its schema. Errors are REQLOG_ERR_DB with a cause
 * that never holds the password. */
reqlog_err pg_connect(const char *url, pg_db **out, char **cause);
/* pg_connect, then pg_migrate: what every command that opens the store does. */
reqlog_err pg_open(const char *url, pg_db **out, char **cause);
/* Closes and frees DB (NULL is fine); the URL it kept is wiped. */
void pg_close(pg_db *db);
/* Non-zero when the server of URL accepts connections (whether or not this URL's user,
 * password and database would get one): a failed connection to a server that answers
 * is refused, to one that does not is unreachable. */
int pg_server_answers(const char *url);
/* Non-zero while the connection is usable. */
int pg_connected(const pg_db *db);
/* Drops the connection and makes a new one to the same URL. */
reqlog_err pg_reconnect(pg_db *db, char **cause);
/* The URL of DB without its password, for messages. */
const char *pg_shown(const pg_db *db);

/* ------------------------------------------------------------------ pg_migrate.c */

/* How many migrations schema/pg/ holds (the schema version this build writes). */
int pg_migrate_count(void);
/* Applies the migrations this build has and the database lacks, in one transaction under
 * an advisory lock, so that many processes opening a new store at once apply each once;
 * then does, in steps, what a migration left to do on each day partition (pg_fill.c), or
 * waits for the process doing it. A database with a newer schema is refused
 * (REQLOG_ERR_DB) with nothing written. */
reqlog_err pg_migrate(pg_db *db, char **cause);
/* The schema version of the database (0 when it has none) into *version. */
reqlog_err pg_schema_version(pg_db *db, int *version, char **cause);

/* ------------------------------------------------------------------ pg_partition.c */

/* The UTC day (days since 1970-01-01) holding Unix microseconds US. */
int64_t pg_day_of(int64_t us);
/* The partition of DAY: "calls_YYYYMMDD". */
void pg_partition_name(int64_t day, char out[32]);
/* Makes sure the partitions of the N days DAYS exist (any order, repeats allowed),
 * creating the missing ones in their own transaction under an advisory lock, so that
 * several hosts inserting the same new day do not collide. Must not be called inside an
 * open transaction. Days already seen by DB are not asked again. */
reqlog_err pg_partition_ensure_days(pg_db *db, const int64_t *days, size_t n, char **cause);
/* The same for every day from the one of FROM_US to the one of TO_US. */
reqlog_err pg_partition_ensure(pg_db *db, int64_t from_us, int64_t to_us, char **cause);
/* Forgets which days DB saw (after a partition was dropped). */
void pg_partition_forget(pg_db *db);

/* ------------------------------------------------------------------ pg_read.c */

/* The team store as reqlog's reading functions see it: a pool of connections to URL
 * (the first opened and migrated now; a newer schema is refused). */
typedef struct pg_store pg_store;
reqlog_err pg_store_open(const char *url, pg_store **out, char **cause);
void pg_store_close(pg_store *s);
/* reqlog_query, reqlog_get, reqlog_count and reqlog_export over S: the same rows, order,
 * paging, errors and output as the SQLite reader (read/read.h), ids aside. A cursor
 * holds one connection of the pool until it is freed. */
reqlog_err pg_read_query(pg_store *s, const reqlog_filter *f, const reqlog_query_opts *opts,
                         int64_t now_us, reqlog_cursor **out, char **cause);
reqlog_err pg_read_get(pg_store *s, int64_t id, cJSON **row, char **cause);
reqlog_err pg_read_count(pg_store *s, const reqlog_filter *f, int64_t now_us, int64_t *n,
                         char **cause);
/* The store id of the call that the history HISTORY_ID (its meta.history_id) shipped as
 * its row SPOOL_ID into *id; REQLOG_ERR_NOTFOUND while it is not in the store. */
reqlog_err pg_read_find(pg_store *s, int64_t history_id, int64_t spool_id, int64_t *id,
                        char **cause);
/* reqlog_stats over S: the same object as rs_stats (read/stats.h), in one snapshot. */
reqlog_err pg_read_stats(pg_store *s, const reqlog_filter *f, int64_t now_us, int rate_limit,
                         cJSON **out, char **cause);
/* reqlog_storage over S (pg_storage.c). */
reqlog_err pg_read_storage(pg_store *s, cJSON **out, char **cause);
/* reqlog_prune_ex over S (pg_prune_on on a connection of the pool). */
reqlog_err pg_read_prune(pg_store *s, int64_t older_than_us, int64_t max_rows,
                         int include_pinned, int64_t *deleted, char **cause);
/* reqlog_annotate over S (pg_notes_on on a connection of the pool). */
reqlog_err pg_read_annotate(pg_store *s, int64_t id, const reqlog_annotation *a,
                            int64_t now_us, char **cause);
/* reqlog_problems() on the store: the failing rows of F grouped by read/problems.c. */
reqlog_err pg_read_problems(pg_store *s, const reqlog_filter *f, int64_t now_us, cJSON **out,
                            char **cause);
reqlog_err pg_read_export(pg_store *s, const reqlog_filter *f, int64_t now_us,
                          const reqlog_export_opts *opts, reqlog_write_fn write, void *ctx,
                          char **cause);

/* ------------------------------------------------------------------ pg_storage.c */

/* Where the store's disk goes on DB (reqlog_storage's object). */
reqlog_err pg_storage_on(pg_db *db, cJSON **out, char **cause);

/* ------------------------------------------------------------------ pg_stats.c */

/* The statistics of the calls matching F on DB (idle: no transaction open). */
reqlog_err pg_stats_on(pg_db *db, const reqlog_filter *f, int64_t now_us, int rate_limit,
                       cJSON **out, char **cause);

/* ------------------------------------------------------------------ pg_prune.c */

/* Deletes from DB (idle) the calls that started before OLDER_THAN_US (0: no bound) and
 * those beyond the newest MAX_ROWS by id (0: no bound), in one transaction; how many
 * into *DELETED. Whole days go by dropping their partitions. */
reqlog_err pg_prune_on(pg_db *db, int64_t older_than_us, int64_t max_rows, int include_pinned,
                       int64_t *deleted, char **cause);

/* ------------------------------------------------------------------ pg_notes.c */

/* reqlog_annotate() on DB (idle), in one transaction (read/notes.h). */
reqlog_err pg_notes_on(pg_db *db, int64_t id, const reqlog_annotation *a, int64_t now_us,
                       char **cause);

#endif
