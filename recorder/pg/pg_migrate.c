/* pg_migrate.c: the schema version of a team store (table reqlog_schema, one row per
 * migration of schema/pg/ applied) and applying those this build has and the database
 * lacks: in one transaction under an advisory lock, so that hosts starting at once
 * apply each migration once; a database newer than this build is refused with nothing
 * written. What a migration leaves to do on each day partition (filling a column,
 * building its part of an index) is done after it, in steps (pg_fill.c). */
#include "pg/pg_int.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/util.h"
#include "reqlog_embedded.h"

extern const struct embedded_file reqlog_pg_schema_files[];

int pg_migrate_count(void) {
  int n = 0;
  while (reqlog_pg_schema_files[n].name)
    n++;
  return n;
}

reqlog_err pg_schema_version(pg_db *db, int *version, char **cause) {
  PGresult *res = NULL;
  *version = 0;
  reqlog_err e = pg_query(db, "SELECT to_regclass('reqlog_schema') IS NOT NULL", 0, NULL,
                          &res, cause, "cannot read the schema version");
  if (e != REQLOG_OK)
    return e;
  int exists = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
  PQclear(res);
  if (!exists)
    return REQLOG_OK;
  e = pg_query(db, "SELECT coalesce(max(version), 0) FROM reqlog_schema", 0, NULL, &res,
               cause, "cannot read the schema version");
  if (e != REQLOG_OK)
    return e;
  *version = PQntuples(res) == 1 ? atoi(PQgetvalue(res, 0, 0)) : 0;
  PQclear(res);
  return REQLOG_OK;
}

static reqlog_err newer(pg_db *db, int version, char **cause) {
  return util_fail(cause, REQLOG_ERR_DB,
                   "%s has schema version %d but this reqlog knows only %d: it was written "
                   "by a newer reqlog (nothing was changed)", db->shown, version,
                   pg_migrate_count());
}

/* Migrations VERSION up to KNOWN, each with its row in reqlog_schema, in the open
 * transaction. */
static reqlog_err apply(pg_db *db, int version, int known, char **cause) {
  for (int i = version; i < known; i++) {
    char what[128], num[16];
    snprintf(what, sizeof what, "migration pg/%s failed", reqlog_pg_schema_files[i].name);
    reqlog_err e = pg_exec(db, (const char *)reqlog_pg_schema_files[i].data, cause, what);
    if (e != REQLOG_OK)
      return e;
    snprintf(num, sizeof num, "%d", i + 1);
    const char *const params[] = {num, reqlog_pg_schema_files[i].name};
    PGresult *res = NULL;
    e = pg_query(db, "INSERT INTO reqlog_schema(version, name) VALUES ($1, $2)", 2, params,
                 &res, cause, "cannot record the schema version");
    PQclear(res);
    if (e != REQLOG_OK)
      return e;
  }
  return REQLOG_OK;
}

static reqlog_err migrate_schema(pg_db *db, char **cause) {
  int version = 0, known = pg_migrate_count();
  reqlog_err e = pg_schema_version(db, &version, cause);
  if (e != REQLOG_OK)
    return e;
  if (version > known)
    return newer(db, version, cause);
  if (version == known)
    return REQLOG_OK;
  char lock[128];
  snprintf(lock, sizeof lock, "BEGIN; SELECT pg_advisory_xact_lock(%d, %d)", PG_LOCK_CLASS,
           PG_LOCK_SCHEMA);
  e = pg_exec(db, lock, cause, "cannot start the schema migration");
  if (e == REQLOG_OK)
    e = pg_exec(db, "CREATE TABLE IF NOT EXISTS reqlog_schema ("
                    "version integer PRIMARY KEY, name text NOT NULL, "
                    "applied_at timestamptz NOT NULL DEFAULT now())",
                cause, "cannot create the schema version table");
  /* again under the lock: another process may have migrated meanwhile */
  if (e == REQLOG_OK)
    e = pg_schema_version(db, &version, cause);
  if (e == REQLOG_OK && version > known)
    e = newer(db, version, cause);
  if (e == REQLOG_OK)
    e = apply(db, version, known, cause);
  if (e == REQLOG_OK)
    e = pg_exec(db, "COMMIT", cause, "cannot commit the schema migration");
  if (e != REQLOG_OK && pg_connected(db))
    PQclear(PQexec(db->conn, "ROLLBACK"));
  return e;
}

/* The schema, then what the migrations left to do on the day partitions (pg_fill.c). */
reqlog_err pg_migrate(pg_db *db, char **cause) {
  reqlog_err e = migrate_schema(db, cause);
  return e == REQLOG_OK ? pg_fill_parts(db, cause) : e;
}
