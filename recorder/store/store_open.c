/* store_open.c: an open store's life: opening a history for recording (the file's
 * checks, the writer's connection in WAL mode, migrations, the foreground connection,
 * the writer thread) or for reading only, the settings a handle makes, and closing
 * (everything queued written first). */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

static store *store_alloc(const char *path, store_prepare_fn prepare, void *prepare_ctx) {
  store *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->path = strdup(path);
  if (!s->path) {
    free(s);
    return NULL;
  }
  s->prepare = prepare;
  s->prepare_ctx = prepare_ctx;
  util_host_origin(s->origin, sizeof s->origin);
  snprintf(s->reqid_headers, sizeof s->reqid_headers, "%s", REQID_DEFAULT);
  s->queue_max_bytes = STORE_QUEUE_MAX_BYTES;
  s->queue_resume_bytes = STORE_QUEUE_RESUME_BYTES;
  pthread_mutex_init(&s->lock, NULL);
  pthread_mutex_init(&s->fg_lock, NULL);
  pthread_mutex_init(&s->pool_lock, NULL);
  pthread_cond_init(&s->wake, NULL);
  pthread_cond_init(&s->done, NULL);
  return s;
}

/* The page size of a new database, WAL and synchronous on the writer's connection. */
static reqlog_err setup_wal(store *s, char **cause) {
  sqlite3_stmt *st = NULL;
  const char *mode = "";
  reqlog_err err = REQLOG_OK;
  /* only a new, empty database takes it: an existing one keeps its page size */
  char pgsz[48];
  snprintf(pgsz, sizeof pgsz, "PRAGMA page_size = %d", STORE_PAGE_SIZE);
  store_conn_exec(s->wdb, pgsz);
  if (sqlite3_prepare_v2(s->wdb, "PRAGMA journal_mode = WAL", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    mode = (const char *)sqlite3_column_text(st, 0);
  if (!mode || strcmp(mode, "wal") != 0)
    err = util_fail(cause, sqlite3_db_readonly(s->wdb, "main") == 1 ? REQLOG_ERR_READONLY : REQLOG_ERR_DB,
                    "cannot put %s in WAL mode: %s", s->path, sqlite3_errmsg(s->wdb));
  sqlite3_finalize(st);
  if (err == REQLOG_OK && store_conn_exec(s->wdb, "PRAGMA synchronous = NORMAL") != SQLITE_OK)
    err = store_conn_fail(s->wdb, sqlite3_errcode(s->wdb), cause, "cannot set synchronous");
  return err;
}

/* Speed only, neither changes what a commit guarantees (so failure is fine). The
 * writer's page cache holds a whole batch (STORE_BATCH_MAX rows of a few KB and the
 * index pages they touch): with SQLite's 2 MB default it spilled dirty pages into the
 * WAL in mid-transaction and read them back (bench/ingest: 17% more page writes, 75%
 * more reads). A checkpoint once the WAL holds 16 MB (4000 pages of 4 KiB, not SQLite's
 * 1000) copies the index pages that consecutive batches rewrite fewer times (13% fewer
 * bytes written, a quarter of the fsyncs); the WAL file grows to about 16 MB before it
 * is reused, whatever the database's page size. */
static void tune_writer(store *s) {
  store_conn_exec(s->wdb, "PRAGMA cache_size = -8192");
  int psz = 4096;
  sqlite3_stmt *ps = NULL;
  if (sqlite3_prepare_v2(s->wdb, "PRAGMA page_size", -1, &ps, NULL) == SQLITE_OK &&
      sqlite3_step(ps) == SQLITE_ROW && sqlite3_column_int(ps, 0) > 0)
    psz = sqlite3_column_int(ps, 0);
  sqlite3_finalize(ps);
  char sql[64];
  snprintf(sql, sizeof sql, "PRAGMA wal_autocheckpoint = %d", (int)((16L << 20) / psz));
  store_conn_exec(s->wdb, sql);
}

reqlog_err store_open(const char *path, store_prepare_fn prepare, void *prepare_ctx,
                      store **out, char **cause) {
  *out = NULL;
  store *s = store_alloc(path, prepare, prepare_ctx);
  if (!s)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  reqlog_err err = store_file_claim(path, &s->file, cause);
  if (err == REQLOG_OK)
    err = store_conn_checked(s, &s->wdb, cause);
  if (err == REQLOG_OK)
    err = setup_wal(s, cause);
  if (err == REQLOG_OK) {
    tune_writer(s);
    err = store_migrate(s->wdb, cause);
  }
  if (err == REQLOG_OK)
    err = store_conn_checked(s, &s->fg, cause);
  if (err == REQLOG_OK)
    err = store_writer_start(s, cause);
  if (err != REQLOG_OK) {
    store_close(s);
    return err;
  }
  *out = s;
  return REQLOG_OK;
}

reqlog_err store_open_read(const char *path, store **out, char **cause) {
  *out = NULL;
  store *s = store_alloc(path, NULL, NULL);
  if (!s)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  s->readonly = 1;
  reqlog_err err = store_file_check_read(path, &s->file, cause);
  if (err == REQLOG_OK)
    err = store_conn_checked(s, &s->fg, cause);
  if (err == REQLOG_OK)
    err = store_migrate_check_readable(s, cause);
  if (err != REQLOG_OK) {
    store_close(s);
    return err;
  }
  *out = s;
  return REQLOG_OK;
}

reqlog_err store_close(store *s) {
  if (!s)
    return REQLOG_OK;
  store_writer_stop(s);
  store_queue_free_all(s);
  sqlite3_finalize(s->ins);
  sqlite3_finalize(s->fld);
  for (int i = 0; i < s->npool; i++)
    store_conn_close(s->pool[i]);
  sqlite3_close(s->fg);
  sqlite3_close(s->wdb);
  reqlog_err err = s->first_err;
  free(s->first_cause);
  store_file_free(&s->file);
  free(s->path);
  pthread_mutex_destroy(&s->lock);
  pthread_mutex_destroy(&s->fg_lock);
  pthread_mutex_destroy(&s->pool_lock);
  pthread_cond_destroy(&s->wake);
  pthread_cond_destroy(&s->done);
  free(s);
  return err;
}

void store_set_origin(store *s, const char *origin) {
  pthread_mutex_lock(&s->lock);
  snprintf(s->origin, sizeof s->origin, "%s", origin);
  pthread_mutex_unlock(&s->lock);
}

void store_set_request_id_headers(store *s, const char *list) {
  pthread_mutex_lock(&s->lock);
  snprintf(s->reqid_headers, sizeof s->reqid_headers, "%s", list);
  pthread_mutex_unlock(&s->lock);
}

void store_set_sync(store *s, int sync) {
  pthread_mutex_lock(&s->lock);
  s->sync = sync;
  pthread_mutex_unlock(&s->lock);
}

int store_set_foreground(store *s) {
  pthread_mutex_lock(&s->lock);
  s->foreground = 1;
  int ok = !s->lowered;
  pthread_mutex_unlock(&s->lock);
  return ok ? 0 : -1;
}
