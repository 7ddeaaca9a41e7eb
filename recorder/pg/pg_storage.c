/* pg_storage.c: reqlog_storage on a team store: what its calls take in PostgreSQL (the
 * day partitions with their TOAST, their indexes, the other tables of the schema), the
 * same object as SQLite's rs_storage (read/storage.c) with the parts PostgreSQL has. */
#include <stdlib.h>

#include "pg/pg_int.h"
#include "base/util.h"

static const char STORAGE_SQL[] =
  "SELECT (SELECT count(*) FROM calls), pg_database_size(current_database()),"
  " (SELECT coalesce(sum(pg_table_size(relid)), 0) FROM pg_partition_tree('calls')"
  "  WHERE isleaf),"
  " (SELECT coalesce(sum(pg_indexes_size(relid)), 0) FROM pg_partition_tree('calls')"
  "  WHERE isleaf),"
  " (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class AS c"
  "  JOIN pg_namespace AS n ON n.oid = c.relnamespace"
  "  WHERE n.nspname = current_schema() AND c.relkind = 'r' AND NOT c.relispartition)";

reqlog_err pg_storage_on(pg_db *db, cJSON **out, char **cause) {
  *out = NULL;
  PGresult *res = NULL;
  reqlog_err err = pg_query(db, STORAGE_SQL, 0, NULL, &res, cause, "storage");
  if (err != REQLOG_OK)
    return err;
  double v[5] = {0};
  for (int i = 0; i < 5 && PQntuples(res) == 1; i++)
    v[i] = strtod(PQgetvalue(res, 0, i), NULL);
  PQclear(res);
  cJSON *o = cJSON_CreateObject();
  cJSON *parts = o ? cJSON_AddObjectToObject(o, "parts") : NULL;
  int ok = parts && cJSON_AddObjectToObject(o, "indexes") && cJSON_AddObjectToObject(o, "packed");
  ok = ok && cJSON_AddNumberToObject(o, "calls", v[0]) && cJSON_AddNumberToObject(o, "file_bytes", v[1]);
  ok = ok && cJSON_AddNumberToObject(parts, "calls", v[2]) &&
       cJSON_AddNumberToObject(parts, "indexes", v[3]) &&
       cJSON_AddNumberToObject(parts, "other_tables", v[4]);
  if (!ok) {
    cJSON_Delete(o);
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  }
  *out = o;
  return REQLOG_OK;
}
