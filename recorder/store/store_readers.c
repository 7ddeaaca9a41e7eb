/* store_readers.c: the connections the store lends: a pool of read connections (opened
 * on demand, up to STORE_POOL_MAX kept for reuse) and the one foreground connection
 * (rate limiter, prune), held under its lock. */
#include "store/store_int.h"

reqlog_err store_acquire(store *s, sqlite3 **db, char **cause) {
  pthread_mutex_lock(&s->pool_lock);
  if (s->npool > 0) {
    *db = s->pool[--s->npool];
    pthread_mutex_unlock(&s->pool_lock);
    return REQLOG_OK;
  }
  pthread_mutex_unlock(&s->pool_lock);
  return store_conn_open(s->file.open_name, s->file.open_flags | SQLITE_OPEN_NOMUTEX, db, cause);
}

void store_release(void *arg, sqlite3 *db) {
  store *s = arg;
  if (!db)
    return;
  pthread_mutex_lock(&s->pool_lock);
  if (s->npool < STORE_POOL_MAX) {
    s->pool[s->npool++] = db;
    db = NULL;
  }
  pthread_mutex_unlock(&s->pool_lock);
  if (db)
    store_conn_close(db);
}

sqlite3 *store_fg_lock(store *s) {
  pthread_mutex_lock(&s->fg_lock);
  return s->fg;
}

void store_fg_unlock(store *s) {
  pthread_mutex_unlock(&s->fg_lock);
}
