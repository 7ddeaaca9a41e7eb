/* storage.c: rs_storage, where a SQLite history's bytes go (`reqlog stats --storage`):
 * the file by part from SQLite's dbstat (the calls table, the search index, each other
 * index, the other tables), per call, and the packed columns' bytes as stored against
 * their plain size (docs/design.md §10). */
#include <stdlib.h>
#include <string.h>

#include "read/read.h"
#include "read/row.h"
#include "base/errors.h"
#include "base/util.h"

/* The part of the file that B-tree NAME (dbstat's name; TYPE from sqlite_schema) is. */
static const char *part_of(const char *name, const char *type) {
  if (strcmp(name, "calls") == 0)
    return "calls";
  if (strncmp(name, "calls_fts", 9) == 0)
    return "search_index";
  if (type && strcmp(type, "index") == 0)
    return "indexes";
  return "other_tables";
}

/* Adds BYTES under NAME to OBJ (created as a number, else summed). Returns 0 when out
 * of memory. */
static int add_bytes(cJSON *obj, const char *name, double bytes) {
  cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (v) {
    cJSON_SetNumberValue(v, v->valuedouble + bytes);
    return 1;
  }
  return cJSON_AddNumberToObject(obj, name, bytes) != NULL;
}

static reqlog_err fail(sqlite3 *db, int rc, char **cause) {
  return util_fail(cause, errors_from_sqlite(rc), "storage: %s", sqlite3_errmsg(db));
}

/* Steps ST (one row) into V[0..N); returns an SQLite code. */
static int one_row(sqlite3_stmt *st, double *v, int n) {
  int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW)
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
  for (int i = 0; i < n; i++)
    v[i] = sqlite3_column_double(st, i);
  return SQLITE_OK;
}

/* The bytes of every B-tree by part into PARTS and, for indexes, by name into INDEXES. */
static reqlog_err by_part(sqlite3 *db, cJSON *parts, cJSON *indexes, char **cause) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db,
      "SELECT d.name, s.type, sum(d.pgsize) FROM dbstat AS d"
      " LEFT JOIN sqlite_schema AS s ON s.name = d.name GROUP BY d.name", -1, &st, NULL);
  int ok = 1;
  while (rc == SQLITE_OK && ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    rc = SQLITE_OK;
    const char *name = (const char *)sqlite3_column_text(st, 0);
    const char *type = (const char *)sqlite3_column_text(st, 1);
    double bytes = sqlite3_column_double(st, 2);
    const char *part = part_of(name ? name : "", type);
    ok = add_bytes(parts, part, bytes);
    if (ok && strcmp(part, "indexes") == 0)
      ok = add_bytes(indexes, name, bytes);
  }
  reqlog_err err = !ok ? util_fail(cause, REQLOG_ERR_NOMEM, "out of memory")
                   : rc == SQLITE_DONE ? REQLOG_OK : fail(db, rc, cause);
  sqlite3_finalize(st);
  return err;
}

/* The calls, the file's size, and the packed columns' bytes stored and plain. */
static reqlog_err totals(sqlite3 *db, double *v, char **cause) {
  static const char sql[] =
    "SELECT (SELECT count(*) FROM calls),"
    " (SELECT page_count FROM pragma_page_count) * (SELECT page_size FROM pragma_page_size),"
    " (SELECT page_size * freelist_count FROM pragma_page_size, pragma_freelist_count),"
    " (SELECT coalesce(sum(length(request_headers) + length(response_headers)), 0)"
    "  FROM calls),"
    " (SELECT coalesce(sum(reqlog_plain_length(packed, request_headers)"
    "   + reqlog_plain_length(packed, response_headers)), 0) FROM calls),"
    " (SELECT coalesce(sum(coalesce(length(request_body), 0)"
    "   + coalesce(length(response_body), 0)), 0) FROM calls),"
    " (SELECT coalesce(sum(coalesce(reqlog_plain_length(packed, request_body), 0)"
    "   + coalesce(reqlog_plain_length(packed, response_body), 0)), 0) FROM calls)";
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK)
    rc = one_row(st, v, 7);
  sqlite3_finalize(st);
  return rc == SQLITE_OK ? REQLOG_OK : fail(db, rc, cause);
}

reqlog_err rs_storage(sqlite3 *db, cJSON **out, char **cause) {
  *out = NULL;
  cJSON *o = cJSON_CreateObject(), *parts = cJSON_CreateObject();
  cJSON *indexes = cJSON_CreateObject(), *packed = cJSON_CreateObject();
  if (!o || !parts || !indexes || !packed) {
    cJSON_Delete(o);
    cJSON_Delete(parts);
    cJSON_Delete(indexes);
    cJSON_Delete(packed);
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  }
  cJSON_AddItemToObject(o, "parts", parts);
  cJSON_AddItemToObject(o, "indexes", indexes);
  cJSON_AddItemToObject(o, "packed", packed);
  double t[7] = {0};
  int owned = 0;
  reqlog_err err = row_snapshot_begin(db, &owned, cause);
  if (err == REQLOG_OK)
    err = totals(db, t, cause);
  if (err == REQLOG_OK)
    err = by_part(db, parts, indexes, cause);
  row_snapshot_end(db, owned);
  int ok = err == REQLOG_OK;
  if (ok) {
    ok &= cJSON_AddNumberToObject(o, "calls", t[0]) != NULL;
    ok &= cJSON_AddNumberToObject(o, "file_bytes", t[1]) != NULL;
    ok &= add_bytes(parts, "free_pages", t[2]);
    ok &= cJSON_AddNumberToObject(packed, "headers_stored", t[3]) != NULL;
    ok &= cJSON_AddNumberToObject(packed, "headers_plain", t[4]) != NULL;
    ok &= cJSON_AddNumberToObject(packed, "bodies_stored", t[5]) != NULL;
    ok &= cJSON_AddNumberToObject(packed, "bodies_plain", t[6]) != NULL;
    if (!ok)
      err = util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  }
  if (err != REQLOG_OK) {
    cJSON_Delete(o);
    return err;
  }
  *out = o;
  return REQLOG_OK;
}
