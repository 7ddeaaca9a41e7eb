/* store_dict.c: the zstd dictionaries a history's values are packed with (table zdict,
 * schema/004_compact.sql; the packed form is store_pack.c's). Short JSON bodies and
 * header lists hardly shrink alone, but share most of their text with each other: a
 * dictionary trained on the history's own recent values lets each be packed to a
 * fraction. A history gets its first dictionary once it holds DICT_FIRST_ROWS rows, and
 * a new one each time it has grown DICT_GROWTH times since; older values keep the one
 * they were packed with (a dictionary row is never changed nor deleted). */
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
 * after the other in BUF with their sizes in SIZES. Returns an SQLite code. */
static int gather(sqlite3 *db, dynbuf *buf, size_t **sizes, unsigned *n) {
  sqlite3_stmt *st = NULL;
  *n = 0;
  *sizes = malloc(4 * DICT_SAMPLE_ROWS * sizeof **sizes);
  if (!*sizes)
    return SQLITE_NOMEM;
  int rc = sqlite3_prepare_v2(db,
      "SELECT reqlog_unpack(packed, request_headers), reqlog_unpack(packed, response_headers),"
      " reqlog_unpack(packed, request_body), reqlog_unpack(packed, response_body)"
      " FROM calls ORDER BY id DESC LIMIT ?", -1, &st, NULL);
  if (rc == SQLITE_OK)
    sqlite3_bind_int(st, 1, DICT_SAMPLE_ROWS);
  while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    rc = SQLITE_OK;
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

/* Trains a dictionary on the newest rows into *dict (malloc'd, *len bytes); *len 0 when
 * the values are too few or too alike to make one. Returns an SQLite code. */
static int train(sqlite3 *db, void **dict, size_t *len) {
  dynbuf buf;
  dynbuf_init(&buf, (size_t)4 * DICT_SAMPLE_ROWS * DICT_SAMPLE_MAX);
  size_t *sizes = NULL;
  unsigned n = 0;
  *len = 0;
  *dict = NULL;
  int rc = gather(db, &buf, &sizes, &n);
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

/* Records a dictionary (or, LEN 0, an attempt that made none) trained at TOP. */
static int save(sqlite3 *db, int64_t top, const void *dict, size_t len) {
  sqlite3_stmt *st = NULL;
  int rc = store_conn_exec(db, "BEGIN IMMEDIATE");
  if (rc != SQLITE_OK)
    return rc;
  rc = sqlite3_prepare_v2(db, "INSERT INTO zdict(trained_at, dict) VALUES (?, ?)", -1, &st,
                          NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(st, 1, top);
    sqlite3_bind_blob64(st, 2, len ? dict : "", len, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
  }
  sqlite3_finalize(st);
  if (rc == SQLITE_OK)
    rc = store_conn_exec(db, "COMMIT");
  if (rc != SQLITE_OK)
    store_conn_exec(db, "ROLLBACK");
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
  void *dict = NULL;
  size_t len = 0;
  rc = train(db, &dict, &len);
  if (rc == SQLITE_OK)
    rc = save(db, top, dict, len); /* in its own transaction, so it is committed before
                                    * any value refers to it (store_pack.c keeps it) */
  free(dict);
  if (rc == SQLITE_OK)
    rc = current(db, dict_id, &trained_at, &top);
  return errors_from_sqlite(rc);
}
