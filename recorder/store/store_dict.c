/* store_dict.c: the zstd dictionaries a history's values are packed with (table zdict,
 * schema/004_compact.sql; the packed form is store_pack.c's). Short JSON bodies and
 * header lists hardly shrink alone, but share most of their text with each other: a
 * dictionary trained on the history's own recent values lets each be packed to a
 * fraction. A history gets its first dictionary once it holds DICT_FIRST_ROWS rows, and
 * a new one each time it has grown DICT_GROWTH times since; older values keep the one
 * they were packed with. A dictionary holds text of the rows it was trained on: prune
 * retires those it trained on a row it deletes (store_dict_retire_pruned). */
#include "store/store_int.h"
#include "base/errors.h"

#include <stdlib.h>
#include <string.h>
#include <zdict.h>

#include "base/dynbuf.h"

#define DICT_FIRST_ROWS 1000     /* rows before the first dictionary */
#define DICT_GROWTH 8            /* a new one each time the history is this much larger */
#define DICT_SAMPLE_ROWS 4000    /* the newest rows it is trained on */
#define DICT_SAMPLE_MAX 4096     /* bytes of one value a sample takes at most */
#define DICT_SIZE (64 * 1024)

/* The newest dictionary (*id, 0 none; *trained_at the history's top id when it was
 * trained, 0 none, also when only a failed attempt is recorded) and the top id (*top). */
static int current(sqlite3 *db, int64_t *id, int64_t *trained_at, int64_t *top) {
  sqlite3_stmt *st = NULL;
  *id = *trained_at = *top = 0;
  int rc = sqlite3_prepare_v2(db,
      "SELECT (SELECT id FROM zdict WHERE length(dict) > 0 ORDER BY id DESC LIMIT 1),"
      " (SELECT max(trained_at) FROM zdict), (SELECT max(id) FROM calls)", -1, &st, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    *id = sqlite3_column_int64(st, 0);
    *trained_at = sqlite3_column_int64(st, 1);
    *top = sqlite3_column_int64(st, 2);
    rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  return rc;
}

/* The samples: the plain values of the newest rows, each cut at DICT_SAMPLE_MAX, one
 * after the other in BUF with their sizes in SIZES; *from the lowest id sampled.
 * Returns an SQLite code. */
static int gather(sqlite3 *db, dynbuf *buf, size_t **sizes, unsigned *n, int64_t *from) {
  sqlite3_stmt *st = NULL;
  *n = 0;
  *from = 0;
  *sizes = malloc(4 * DICT_SAMPLE_ROWS * sizeof **sizes);
  if (!*sizes)
    return SQLITE_NOMEM;
  int rc = sqlite3_prepare_v2(db,
      "SELECT reqlog_unpack(packed, request_headers), reqlog_unpack(packed, response_headers),"
      " reqlog_unpack(packed, request_body), reqlog_unpack(packed, response_body), id"
      " FROM calls ORDER BY id DESC LIMIT ?", -1, &st, NULL);
  if (rc == SQLITE_OK)
    sqlite3_bind_int(st, 1, DICT_SAMPLE_ROWS);
  while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    rc = SQLITE_OK;
    *from = sqlite3_column_int64(st, 4);
    for (int i = 0; i < 4 && rc == SQLITE_OK; i++) {
      size_t len = (size_t)sqlite3_column_bytes(st, i);
      if (len < 8)
        continue;
      len = len < DICT_SAMPLE_MAX ? len : DICT_SAMPLE_MAX;
      if (dynbuf_add(buf, sqlite3_column_blob(st, i), len) != REQLOG_OK)
        rc = SQLITE_NOMEM;
      else
        (*sizes)[(*n)++] = len;
    }
  }
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Trains a dictionary on the newest rows into *dict (malloc'd, *len bytes; *from the
 * lowest id it read); *len 0 when the values are too few or too alike to make one.
 * Returns an SQLite code. */
static int train(sqlite3 *db, void **dict, size_t *len, int64_t *from) {
  dynbuf buf;
  dynbuf_init(&buf, (size_t)4 * DICT_SAMPLE_ROWS * DICT_SAMPLE_MAX);
  size_t *sizes = NULL;
  unsigned n = 0;
  *len = 0;
  *dict = NULL;
  int rc = gather(db, &buf, &sizes, &n, from);
  if (rc == SQLITE_OK && n >= 16 && buf.len >= 8 * DICT_SIZE / 4) {
    *dict = malloc(DICT_SIZE);
    if (!*dict) {
      rc = SQLITE_NOMEM;
    } else {
      size_t got = ZDICT_trainFromBuffer(*dict, DICT_SIZE, buf.data, sizes, n);
      *len = ZDICT_isError(got) ? 0 : got;
    }
  }
  dynbuf_free(&buf);
  free(sizes);
  return rc;
}

/* Trains a dictionary on the newest rows and records it (or, when none could be made,
 * the attempt), trained at TOP, in the open transaction; *id is its id (0: none made).
 * Returns an SQLite code. */
static int train_and_insert(sqlite3 *db, int64_t top, int64_t *id) {
  void *dict = NULL;
  size_t len = 0;
  int64_t from = 0;
  sqlite3_stmt *st = NULL;
  *id = 0;
  int rc = train(db, &dict, &len, &from);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(db, "INSERT INTO zdict(trained_at, sampled_from, dict)"
                            " VALUES (?, ?, ?)", -1, &st, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(st, 1, top);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_blob64(st, 3, len ? dict : "", len, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
  }
  if (rc == SQLITE_OK && len)
    *id = sqlite3_last_insert_rowid(db);
  sqlite3_finalize(st);
  free(dict);
  return rc;
}

reqlog_err store_dict_current(sqlite3 *db, int64_t *dict_id) {
  int64_t trained_at = 0, top = 0;
  *dict_id = 0;
  int rc = current(db, dict_id, &trained_at, &top);
  if (rc != SQLITE_OK)
    return errors_from_sqlite(rc);
  int due = trained_at ? top / DICT_GROWTH >= trained_at : top >= DICT_FIRST_ROWS;
  if (!due)
    return REQLOG_OK;
  /* in its own transaction, committed before any value refers to it */
  int64_t made = 0;
  rc = store_conn_exec(db, "BEGIN IMMEDIATE");
  if (rc == SQLITE_OK)
    rc = train_and_insert(db, top, &made);
  if (rc == SQLITE_OK)
    rc = store_conn_exec(db, "COMMIT");
  if (rc != SQLITE_OK)
    store_conn_exec(db, "ROLLBACK");
  if (rc == SQLITE_OK)
    rc = current(db, dict_id, &trained_at, &top);
  return errors_from_sqlite(rc);
}

/* Runs SQL (no parameters but ?1 = ID when it has one) in the open transaction. */
static int run_with(sqlite3 *db, const char *sql, int64_t id) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK) {
    if (sqlite3_bind_parameter_count(st) > 0)
      sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
  }
  sqlite3_finalize(st);
  return rc;
}

#define PACKED_WITH_RETIRED(col) \
  "reqlog_packed_dict(" col ") IN (SELECT id FROM temp.retired_dicts)"

int store_dict_retire_pruned(sqlite3 *db) {
  int rc = store_conn_exec(db,
      "CREATE TEMP TABLE IF NOT EXISTS retired_dicts(id INTEGER PRIMARY KEY);"
      " DELETE FROM temp.retired_dicts;"
      " INSERT INTO temp.retired_dicts SELECT id FROM zdict AS z WHERE EXISTS (SELECT 1"
      "  FROM temp.prune_ids AS p WHERE p.id BETWEEN z.sampled_from AND z.trained_at)");
  if (rc != SQLITE_OK || sqlite3_changes(db) == 0)
    return rc;
  int64_t top = 0, made = 0;
  sqlite3_stmt *st = NULL;
  rc = sqlite3_prepare_v2(db, "SELECT coalesce(max(id), 0) FROM calls", -1, &st, NULL);
  if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    top = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  if (rc == SQLITE_OK && top > 0)
    rc = train_and_insert(db, top, &made); /* on the rows kept: the deletes are done */
  if (rc == SQLITE_OK)
    rc = run_with(db,
      "UPDATE calls SET"
      " request_headers = reqlog_pack(reqlog_unpack(1, request_headers), ?1),"
      " response_headers = reqlog_pack(reqlog_unpack(1, response_headers), ?1),"
      " request_body = reqlog_pack(reqlog_unpack(1, request_body), ?1),"
      " response_body = reqlog_pack(reqlog_unpack(1, response_body), ?1)"
      " WHERE packed = 1 AND (" PACKED_WITH_RETIRED("request_headers")
      " OR " PACKED_WITH_RETIRED("response_headers") " OR " PACKED_WITH_RETIRED("request_body")
      " OR " PACKED_WITH_RETIRED("response_body") ")", made);
  if (rc == SQLITE_OK)
    rc = run_with(db, "DELETE FROM zdict WHERE id IN (SELECT id FROM temp.retired_dicts)", 0);
  return rc;
}
