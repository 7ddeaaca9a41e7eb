/* store.c: the SQLite history: open and migrate, a writer thread that commits queued
 * records in batches (so a recording caller never waits on the disk), background
 * full-text indexing, a pool of read connections, prune. */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "store/schema.h"
#include "store/store_file.h"
#include "base/errors.h"
#include "base/util.h"

#define BATCH_MAX 1000           /* rows per transaction at most */
#define FLUSH_US 50000           /* a queued row is committed within this time */
#define IDLE_INDEX_US 200000     /* index for search after this long without new rows */
#define FTS_CHUNK 500
#define MAX_PENDING 10000        /* rows kept while the database keeps failing */
#define QUEUE_MAX_BYTES (64L << 20) /* a recording caller waits while more than this is */
#define QUEUE_RESUME_BYTES (32L << 20) /* queued, until the writer is down to this */
#define BUSY_TIMEOUT_MS 5000
#define SEQMAP 4096
#define POOL_MAX 8

struct seqmap_entry {
  uint64_t seq;
  int64_t id;                    /* > 0 written, 0 failed */
};

struct store {
  char *path;
  store_file file;               /* what the checks found, how connections open it */
  int readonly;                  /* opened for reading: no writer thread, no writes */
  sqlite3 *wdb;                  /* writer thread only */
  sqlite3_stmt *ins, *fld;       /* the writer's two INSERTs, prepared once */
  sqlite3 *fg;                   /* under fg_lock */
  pthread_mutex_t fg_lock;
  pthread_mutex_t pool_lock;
  sqlite3 *pool[POOL_MAX];
  int npool;

  store_prepare_fn prepare;
  void *prepare_ctx;
  reqlog_error_fn err_fn;
  void *err_ctx;

  pthread_mutex_t lock;          /* everything below */
  pthread_cond_t wake;           /* the writer waits here */
  pthread_cond_t done;           /* flushers and sync submitters wait here */
  record *head, *tail;
  size_t qlen;
  size_t qbytes;                 /* about how much memory the queued records hold */
  int64_t first_queued_mono;     /* when the oldest queued record arrived */
  int64_t last_submit_mono;
  uint64_t next_seq;             /* last seq handed out */
  uint64_t tried_seq;            /* every seq up to this was written or given up */
  int flushers;
  int sync;
  int foreground;                /* the writer keeps its normal priority (store_set_foreground) */
  int lowered;                   /* the writer thread has lowered its priority */
  int stop;
  int failing;                   /* the last batch failed; retry after a pause */
  int broken;                    /* failing since the last success: sync callers don't wait */
  reqlog_err first_err;          /* first error since the last flush */
  char *first_cause;
  struct seqmap_entry map[SEQMAP];
  pthread_t thread;
  int thread_started;
  int fts_backlog;               /* the writer thinks rows wait for indexing */
};

reqlog_err store_err(int rc) {
  return errors_from_sqlite(rc);
}

static reqlog_err db_fail(sqlite3 *db, int rc, char **cause, const char *what) {
  return util_fail(cause, store_err(rc), "%s: %s", what,
                   db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

static int exec(sqlite3 *db, const char *sql) {
  return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* Opens one connection to PATH with the settings every connection needs. */
static reqlog_err connect_db(const char *path, int flags, sqlite3 **out, char **cause) {
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2(path, &db, flags, NULL);
  if (rc != SQLITE_OK) {
    reqlog_err e = util_fail(cause, store_err(rc), "cannot open %s: %s", path,
                             db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return e;
  }
  sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
  sqlite3_extended_result_codes(db, 1);
  *out = db;
  return REQLOG_OK;
}

static int schema_count(void) {
  int n = 0;
  while (reqlog_schema_files[n].name)
    n++;
  return n;
}

/* Applies the migrations this build has and the database lacks (PRAGMA user_version
 * counts the ones applied), all in one transaction. */
static reqlog_err migrate(sqlite3 *db, char **cause) {
  int rc = exec(db, "BEGIN IMMEDIATE");
  if (rc != SQLITE_OK)
    return db_fail(db, rc, cause, "cannot start the schema migration");
  sqlite3_stmt *st = NULL;
  int version = 0;
  rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
  if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    version = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  int known = schema_count();
  if (version > known) {
    exec(db, "ROLLBACK");
    return util_fail(cause, REQLOG_ERR_DB,
                     "the database has schema version %d but this reqlog knows only %d: "
                     "it was written by a newer reqlog", version, known);
  }
  for (int i = version; i < known; i++) {
    char *msg = NULL;
    rc = sqlite3_exec(db, (const char *)reqlog_schema_files[i].data, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
      reqlog_err e = util_fail(cause, store_err(rc), "migration %s failed: %s",
                               reqlog_schema_files[i].name, msg ? msg : sqlite3_errstr(rc));
      sqlite3_free(msg);
      exec(db, "ROLLBACK");
      return e;
    }
  }
  if (known != version) {
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", known);
    rc = exec(db, sql);
    if (rc != SQLITE_OK) {
      exec(db, "ROLLBACK");
      return db_fail(db, rc, cause, "cannot record the schema version");
    }
  }
  rc = exec(db, "COMMIT");
  if (rc != SQLITE_OK) {
    exec(db, "ROLLBACK");
    return db_fail(db, rc, cause, "cannot commit the schema migration");
  }
  /* A migration of a large history (new indexes, rollups) leaves a WAL as big as what
   * it wrote (tens of MB for 1M rows), kept on disk until a later checkpoint resets it.
   * Fold it into the database now; when another process is reading, this does what it
   * can and the WAL resets later. */
  if (known != version)
    sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
  return REQLOG_OK;
}

/* ---------------------------------------------------------------- writer */

const char STORE_INSERT_SQL[] =
  "INSERT INTO calls(started_at, method, url, host, path, status, error, duration_us,"
  " queued_us, dns_us, connect_us, tls_us, ttfb_us, key, attempt, retry_of, source,"
  " request_headers, response_headers, request_body, request_size, request_truncated,"
  " request_sha256, response_body, response_size, response_truncated, response_sha256,"
  " content_type, http_version, remote_ip, error_message, error_fields)"
  " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

static void bind_text(sqlite3_stmt *st, int i, const char *s) {
  if (s)
    sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, i);
}

static void bind_body(sqlite3_stmt *st, int i, const void *p, size_t n, int text, int null) {
  if (null)
    sqlite3_bind_null(st, i);
  else if (text)
    sqlite3_bind_text64(st, i, p ? p : "", n, SQLITE_STATIC, SQLITE_UTF8);
  else
    sqlite3_bind_blob64(st, i, p, n, SQLITE_STATIC);
}

/* About how much memory a queued record holds: enough to bound the queue. */
static size_t record_bytes(const record *r) {
  return record_mem_bytes(r) + r->req_head_len + r->resp_head_len + 256;
}

static int64_t lookup_seq(store *s, uint64_t seq) {
  struct seqmap_entry *e = &s->map[seq % SEQMAP];
  return e->seq == seq ? e->id : 0;
}

void store_bind_row(sqlite3_stmt *ins, const record *r, const row_values *v, int64_t retry_of) {
  sqlite3_reset(ins);
  sqlite3_clear_bindings(ins);
  int i = 1;
  sqlite3_bind_int64(ins, i++, r->started_us);
  bind_text(ins, i++, v->method);
  bind_text(ins, i++, v->url);
  bind_text(ins, i++, v->host);
  bind_text(ins, i++, v->path);
  if (r->status > 0)
    sqlite3_bind_int(ins, i++, (int)r->status);
  else
    sqlite3_bind_null(ins, i++);
  bind_text(ins, i++, v->error);
  sqlite3_bind_int64(ins, i++, r->total_us);
  sqlite3_bind_int64(ins, i++, r->queued_us);
  sqlite3_bind_int64(ins, i++, r->dns_us);
  sqlite3_bind_int64(ins, i++, r->connect_us);
  sqlite3_bind_int64(ins, i++, r->tls_us);
  sqlite3_bind_int64(ins, i++, r->ttfb_us);
  bind_text(ins, i++, v->key);
  sqlite3_bind_int(ins, i++, r->attempt > 0 ? r->attempt : 1);
  if (retry_of > 0)
    sqlite3_bind_int64(ins, i++, retry_of);
  else
    sqlite3_bind_null(ins, i++);
  bind_text(ins, i++, r->source[0] ? r->source : "library");
  bind_text(ins, i++, v->req_headers ? v->req_headers : "[]");
  bind_text(ins, i++, v->resp_headers ? v->resp_headers : "[]");
  bind_body(ins, i++, v->req_body, v->req_body_len, v->req_body_text, v->req_body_null);
  sqlite3_bind_int64(ins, i++, (int64_t)r->req_body.total);
  sqlite3_bind_int(ins, i++, r->req_body.truncated);
  bind_text(ins, i++, v->req_sha[0] ? v->req_sha : NULL);
  bind_body(ins, i++, v->resp_body, v->resp_body_len, v->resp_body_text, v->resp_body_null);
  sqlite3_bind_int64(ins, i++, (int64_t)r->resp_body.total);
  sqlite3_bind_int(ins, i++, r->resp_body.truncated);
  bind_text(ins, i++, v->resp_sha[0] ? v->resp_sha : NULL);
  bind_text(ins, i++, r->content_type);
  bind_text(ins, i++, r->http_version);
  bind_text(ins, i++, r->remote_ip);
  bind_text(ins, i++, v->error_message);
  bind_text(ins, i++, v->error_fields);
}

/* Inserts one record inside the open transaction; returns an SQLite code. */
static int insert_one(store *s, sqlite3_stmt *ins, sqlite3_stmt *fld, const record *r,
                      const row_values *v, int64_t *id) {
  store_bind_row(ins, r, v, r->retry_of_seq ? lookup_seq(s, r->retry_of_seq) : 0);
  int rc = sqlite3_step(ins);
  if (rc != SQLITE_DONE)
    return rc;
  *id = sqlite3_last_insert_rowid(s->wdb);
  for (size_t k = 0; k < v->nfields; k++) {
    if (!v->fields[k])
      continue;
    sqlite3_reset(fld);
    sqlite3_bind_int64(fld, 1, *id);
    sqlite3_bind_text(fld, 2, v->fields[k], -1, SQLITE_STATIC);
    rc = sqlite3_step(fld);
    if (rc != SQLITE_DONE)
      return rc;
  }
  return SQLITE_OK;
}

/* Reports ERR through the handler and keeps it for the next flush. Called unlocked. */
static void report(store *s, reqlog_err err, const char *msg) {
  pthread_mutex_lock(&s->lock);
  if (s->first_err == REQLOG_OK) {
    s->first_err = err;
    s->first_cause = util_strdup(msg);
  }
  reqlog_error_fn fn = s->err_fn;
  void *ctx = s->err_ctx;
  pthread_mutex_unlock(&s->lock);
  if (fn)
    fn(ctx, err, msg);
}

/* Writes LIST (in order) in one transaction. Returns an SQLite code; on failure nothing
 * of the batch is kept in the database. */
static int write_batch(store *s, record *list, char *errbuf, size_t errlen) {
  size_t n = 0;
  for (record *r = list; r; r = r->next)
    n++;
  row_values *vals = calloc(n ? n : 1, sizeof *vals);
  int *ok = calloc(n ? n : 1, sizeof *ok);
  if (!vals || !ok) {
    free(vals);
    free(ok);
    snprintf(errbuf, errlen, "out of memory preparing rows");
    return SQLITE_NOMEM;
  }
  size_t i = 0;
  for (record *r = list; r; r = r->next, i++)
    ok[i] = s->prepare(s->prepare_ctx, r, &vals[i]) == REQLOG_OK;

  int rc = exec(s->wdb, "BEGIN IMMEDIATE");
  if (rc == SQLITE_OK && !s->ins)
    rc = sqlite3_prepare_v3(s->wdb, STORE_INSERT_SQL, -1, SQLITE_PREPARE_PERSISTENT, &s->ins,
                            NULL);
  if (rc == SQLITE_OK && !s->fld)
    rc = sqlite3_prepare_v3(s->wdb,
                            "INSERT OR IGNORE INTO call_fields(call_id, field) VALUES (?, ?)",
                            -1, SQLITE_PREPARE_PERSISTENT, &s->fld, NULL);
  sqlite3_stmt *ins = s->ins, *fld = s->fld;
  i = 0;
  for (record *r = list; r && rc == SQLITE_OK; r = r->next, i++) {
    int64_t id = 0;
    if (!ok[i])
      continue; /* could not be prepared (out of memory): reported below */
    rc = insert_one(s, ins, fld, r, &vals[i], &id);
    if (rc == SQLITE_OK) {
      s->map[r->seq % SEQMAP].seq = r->seq;
      s->map[r->seq % SEQMAP].id = id;
    }
  }
  if (rc != SQLITE_OK)
    snprintf(errbuf, errlen, "%s", sqlite3_errmsg(s->wdb));
  /* reset now: a statement left mid-step would keep the transaction from ending; the
   * bound values point into VALS, freed below */
  if (ins) {
    sqlite3_reset(ins);
    sqlite3_clear_bindings(ins);
  }
  if (fld) {
    sqlite3_reset(fld);
    sqlite3_clear_bindings(fld);
  }
  if (rc == SQLITE_OK) {
    rc = exec(s->wdb, "COMMIT");
    if (rc != SQLITE_OK)
      snprintf(errbuf, errlen, "%s", sqlite3_errmsg(s->wdb));
  }
  if (rc != SQLITE_OK) {
    exec(s->wdb, "ROLLBACK");
    for (record *r = list; r; r = r->next)
      if (s->map[r->seq % SEQMAP].seq == r->seq)
        s->map[r->seq % SEQMAP].id = 0;
  }
  size_t dropped = 0;
  for (i = 0; i < n; i++) {
    row_values_free(&vals[i]);
    dropped += !ok[i];
  }
  free(vals);
  free(ok);
  if (rc == SQLITE_OK && dropped) {
    char msg[128];
    snprintf(msg, sizeof msg, "recording failed: out of memory, %zu calls not recorded", dropped);
    report(s, REQLOG_ERR_NOMEM, msg);
  }
  return rc;
}

/* Adds the rows FROM < id <= TO to the stats rollups of 002_stats.sql (which take back
 * deleted and updated rows up to the indexer's mark through triggers). */
static int roll_up(sqlite3 *db, int64_t from, int64_t to) {
  static const char *const sql[] = {
    "INSERT INTO stats_minute(minute, key, n)"
    " SELECT started_at / 60000000, coalesce(key, ''), count(*) FROM calls"
    " WHERE id > ?1 AND id <= ?2 GROUP BY 1, 2"
    " ON CONFLICT(minute, key) DO UPDATE SET n = n + excluded.n",
    "INSERT INTO stats_day(day, status, n)"
    " SELECT started_at / 86400000000, coalesce(status, -1), count(*) FROM calls"
    " WHERE id > ?1 AND id <= ?2 GROUP BY 1, 2"
    " ON CONFLICT(day, status) DO UPDATE SET n = n + excluded.n",
    "INSERT INTO stats_hist(day, bucket, n)"
    " SELECT started_at / 86400000000, length(max(duration_us, 0)) * 1000"
    " + CAST(substr(max(duration_us, 0), 1, 3) AS INTEGER), count(*) FROM calls"
    " WHERE id > ?1 AND id <= ?2 AND status IS NOT NULL GROUP BY 1, 2"
    " ON CONFLICT(day, bucket) DO UPDATE SET n = n + excluded.n",
  };
  int rc = SQLITE_OK;
  for (size_t i = 0; rc == SQLITE_OK && i < sizeof sql / sizeof sql[0]; i++) {
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(db, sql[i], -1, &st, NULL);
    if (rc == SQLITE_OK) {
      sqlite3_bind_int64(st, 1, from);
      sqlite3_bind_int64(st, 2, to);
      rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
    }
    sqlite3_finalize(st);
  }
  return rc;
}

reqlog_err store_index_fts(sqlite3 *db, int max_rows, int *done) {
  *done = 0;
  int rc = exec(db, "BEGIN IMMEDIATE");
  if (rc != SQLITE_OK)
    return store_err(rc);
  sqlite3_stmt *st = NULL;
  int64_t mark = 0, top = 0;
  rc = sqlite3_prepare_v2(db,
      "SELECT (SELECT value FROM meta WHERE name = 'fts_indexed'),"
      " (SELECT max(id) FROM (SELECT id FROM calls WHERE id > (SELECT value FROM meta"
      " WHERE name = 'fts_indexed') ORDER BY id LIMIT ?))", -1, &st, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_int(st, 1, max_rows);
    if (sqlite3_step(st) == SQLITE_ROW) {
      mark = sqlite3_column_int64(st, 0);
      top = sqlite3_column_int64(st, 1);
    }
  }
  sqlite3_finalize(st);
  st = NULL;
  if (rc == SQLITE_OK && top > mark) {
    /* The same expressions are used to delete from the index in prune: a contentless
     * index must be given exactly the values it was given here. */
    rc = sqlite3_prepare_v2(db,
        "INSERT INTO calls_fts(rowid, url, request_body, response_body)"
        " SELECT id, url,"
        " CASE WHEN typeof(request_body) = 'text' THEN request_body END,"
        " CASE WHEN typeof(response_body) = 'text' THEN response_body END"
        " FROM calls WHERE id > ? AND id <= ?", -1, &st, NULL);
    if (rc == SQLITE_OK) {
      sqlite3_bind_int64(st, 1, mark);
      sqlite3_bind_int64(st, 2, top);
      rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
      *done = sqlite3_changes(db);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == SQLITE_OK)
      rc = roll_up(db, mark, top);
    if (rc == SQLITE_OK)
      rc = sqlite3_prepare_v2(db, "UPDATE meta SET value = ? WHERE name = 'fts_indexed'",
                              -1, &st, NULL);
    if (rc == SQLITE_OK) {
      sqlite3_bind_int64(st, 1, top);
      rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
    }
    sqlite3_finalize(st);
  }
  if (rc == SQLITE_OK)
    rc = exec(db, "COMMIT");
  if (rc != SQLITE_OK) {
    exec(db, "ROLLBACK");
    *done = 0;
  }
  return store_err(rc);
}

static void timed_wait(store *s, int64_t wait_us) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t ns = ts.tv_nsec + (wait_us % 1000000) * 1000;
  ts.tv_sec += (time_t)(wait_us / 1000000 + ns / 1000000000);
  ts.tv_nsec = (long)(ns % 1000000000);
  pthread_cond_timedwait(&s->wake, &s->lock, &ts);
}

/* Drops the oldest queued records beyond MAX_PENDING while the database fails.
 * Called locked; returns how many were dropped. */
static size_t shed(store *s) {
  size_t dropped = 0;
  while (s->qlen > MAX_PENDING && s->head) {
    record *r = s->head;
    s->head = r->next;
    if (!s->head)
      s->tail = NULL;
    s->qlen--;
    s->qbytes -= record_bytes(r);
    if (r->seq > s->tried_seq)
      s->tried_seq = r->seq;
    record_free(r);
    dropped++;
  }
  return dropped;
}

static void *writer_main(void *arg) {
  store *s = arg;
  int64_t backoff_us = 100000;
  int busy_since_report = 0;
  int stop_tries = 0;
  pthread_mutex_lock(&s->lock);
  for (;;) {
    int64_t now = util_mono_us();
    if (!s->head) {
      s->tried_seq = s->next_seq;
      pthread_cond_broadcast(&s->done);
      if (s->stop) {
        /* short-lived processes (one CLI call) never sit idle: index a bounded backlog
         * on the way out, so the search index does not depend on a long-lived process */
        pthread_mutex_unlock(&s->lock);
        for (int chunk = 0; chunk < 4 && s->fts_backlog; chunk++) {
          int n = 0;
          if (store_index_fts(s->wdb, FTS_CHUNK, &n) != REQLOG_OK || n < FTS_CHUNK)
            break;
        }
        pthread_mutex_lock(&s->lock);
        break;
      }
      if (s->fts_backlog && now - s->last_submit_mono >= IDLE_INDEX_US) {
        pthread_mutex_unlock(&s->lock);
        int n = 0;
        reqlog_err e = store_index_fts(s->wdb, FTS_CHUNK, &n);
        pthread_mutex_lock(&s->lock);
        if (e != REQLOG_OK || n < FTS_CHUNK)
          s->fts_backlog = 0;
        continue;
      }
      if (s->fts_backlog)
        timed_wait(s, IDLE_INDEX_US - (now - s->last_submit_mono));
      else
        pthread_cond_wait(&s->wake, &s->lock);
      continue;
    }
    int urgent = s->stop || s->flushers || s->sync || s->qlen >= BATCH_MAX ||
                 s->qbytes > QUEUE_RESUME_BYTES;
    if (s->failing) {
      timed_wait(s, s->stop ? 200000 : backoff_us);
      s->failing = 0;
      continue;
    }
    if (!urgent && now - s->first_queued_mono < FLUSH_US) {
      timed_wait(s, FLUSH_US - (now - s->first_queued_mono));
      continue;
    }
    if (!s->lowered) {
      /* Writing the history is background work: under CPU contention the application's
       * own threads go first. Done at the first batch, so that a process whose job is
       * recording (the proxy) can say otherwise first: the priority cannot be raised
       * back without privileges. Failure changes nothing. */
      s->lowered = 1;
      if (!s->foreground && setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10) != 0) {
        /* not permitted here: run at normal priority */
      }
    }
    /* take up to BATCH_MAX records off the queue */
    record *list = s->head, *last = s->head;
    size_t n = 1;
    while (last->next && n < BATCH_MAX) {
      last = last->next;
      n++;
    }
    s->head = last->next;
    if (!s->head)
      s->tail = NULL;
    last->next = NULL;
    s->qlen -= n;
    for (record *r = list; r; r = r->next)
      s->qbytes -= record_bytes(r);
    s->first_queued_mono = now;
    pthread_mutex_unlock(&s->lock);

    char errbuf[256] = "";
    int rc = write_batch(s, list, errbuf, sizeof errbuf);
    reqlog_err err = store_err(rc);
    if (rc == SQLITE_OK) {
      backoff_us = 100000;
      busy_since_report = 0;
      stop_tries = 0;
    } else if (err == REQLOG_ERR_BUSY && !s->stop) {
      /* another process holds the lock longer than the busy timeout: keep trying
       * quietly, a lock is not a failure until it lasts */
      busy_since_report++;
      if (busy_since_report == 6) {
        char msg[320];
        snprintf(msg, sizeof msg, "recording delayed: database locked for over 30 s (%s)", errbuf);
        report(s, REQLOG_ERR_BUSY, msg);
      }
    } else {
      char msg[400];
      snprintf(msg, sizeof msg, "recording failed: %s: %s (%zu calls kept, will retry)",
               reqlog_strerror(err), errbuf, n);
      if (backoff_us == 100000)
        report(s, err, msg);
      backoff_us = backoff_us * 2 > 5000000 ? 5000000 : backoff_us * 2;
    }

    pthread_mutex_lock(&s->lock);
    s->broken = rc != SQLITE_OK;
    if (rc == SQLITE_OK) {
      for (record *r = list, *nx; r; r = nx) {
        nx = r->next;
        if (r->seq > s->tried_seq)
          s->tried_seq = r->seq;
        record_free(r);
      }
      s->fts_backlog = 1;
    } else if (s->stop && ++stop_tries >= 3) {
      /* closing and the database still fails: give the calls up, and say so */
      size_t lost = 0;
      for (record *r = list, *nx; r; r = nx) {
        nx = r->next;
        if (r->seq > s->tried_seq)
          s->tried_seq = r->seq;
        record_free(r);
        lost++;
      }
      pthread_mutex_unlock(&s->lock);
      char msg[400];
      snprintf(msg, sizeof msg, "recording failed: %zu calls could not be written: %s", lost, errbuf);
      report(s, err == REQLOG_ERR_BUSY ? REQLOG_ERR_BUSY : REQLOG_ERR_LOST, msg);
      pthread_mutex_lock(&s->lock);
    } else {
      /* put the batch back in front, in order, and retry after a pause */
      last->next = s->head;
      s->head = list;
      if (!s->tail)
        s->tail = last;
      s->qlen += n;
      for (record *r = list; r; r = r->next)
        s->qbytes += record_bytes(r);
      s->failing = 1;
      for (record *r = list; r; r = r->next)
        s->map[r->seq % SEQMAP] = (struct seqmap_entry){r->seq, 0};
      size_t dropped = shed(s);
      if (dropped) {
        pthread_mutex_unlock(&s->lock);
        char msg[160];
        snprintf(msg, sizeof msg, "recording failed: %zu calls dropped, more than %d waited", dropped, MAX_PENDING);
        report(s, REQLOG_ERR_LOST, msg);
        pthread_mutex_lock(&s->lock);
      }
      if (s->flushers || s->sync) {
        /* a flush or a sync submit must not wait for a database that is broken: mark
         * these tried so they return with the error, while the records stay queued */
        for (record *r = list; r; r = r->next)
          if (r->seq > s->tried_seq)
            s->tried_seq = r->seq;
      }
    }
    pthread_cond_broadcast(&s->done);
  }
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

/* ---------------------------------------------------------------- public to the lib */

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
  pthread_mutex_init(&s->lock, NULL);
  pthread_mutex_init(&s->fg_lock, NULL);
  pthread_mutex_init(&s->pool_lock, NULL);
  pthread_cond_init(&s->wake, NULL);
  pthread_cond_init(&s->done, NULL);
  return s;
}

/* A connection to the checked file, as the checks said to open it. */
static reqlog_err connect_checked(store *s, sqlite3 **db, char **cause) {
  reqlog_err err = connect_db(s->file.open_name, s->file.open_flags | SQLITE_OPEN_NOMUTEX, db,
                              cause);
  if (err == REQLOG_OK && store_file_same(s->path, &s->file) != 0) {
    sqlite3_close(*db);
    *db = NULL;
    err = util_fail(cause, REQLOG_ERR_IO, "%s was replaced while reqlog opened it", s->path);
  }
  return err;
}

/* WAL, synchronous and the writer's cache on a new writer connection. */
static reqlog_err setup_writer(store *s, char **cause) {
  sqlite3_stmt *st = NULL;
  const char *mode = "";
  reqlog_err err = REQLOG_OK;
  /* only a new, empty database takes it: an existing one keeps its page size */
  char pgsz[48];
  snprintf(pgsz, sizeof pgsz, "PRAGMA page_size = %d", STORE_PAGE_SIZE);
  exec(s->wdb, pgsz);
  if (sqlite3_prepare_v2(s->wdb, "PRAGMA journal_mode = WAL", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    mode = (const char *)sqlite3_column_text(st, 0);
  if (!mode || strcmp(mode, "wal") != 0)
    err = util_fail(cause, sqlite3_db_readonly(s->wdb, "main") == 1 ? REQLOG_ERR_READONLY : REQLOG_ERR_DB,
                    "cannot put %s in WAL mode: %s", s->path, sqlite3_errmsg(s->wdb));
  sqlite3_finalize(st);
  if (err == REQLOG_OK && exec(s->wdb, "PRAGMA synchronous = NORMAL") != SQLITE_OK)
    err = db_fail(s->wdb, sqlite3_errcode(s->wdb), cause, "cannot set synchronous");
  /* Speed only, neither changes what a commit guarantees (so failure is fine). The
   * writer's page cache holds a whole batch (BATCH_MAX rows of a few KB and the index
   * pages they touch): with SQLite's 2 MB default it spilled dirty pages into the WAL in
   * mid-transaction and read them back (bench/ingest: 17% more page writes, 75% more
   * reads). A checkpoint once the WAL holds 16 MB (4000 pages of 4 KiB, not SQLite's 1000)
   * copies the index pages that consecutive batches rewrite fewer times (13% fewer bytes
   * written, a quarter of the fsyncs); the WAL file grows to about 16 MB before it is
   * reused, whatever the database's page size. */
  if (err == REQLOG_OK) {
    exec(s->wdb, "PRAGMA cache_size = -8192");
    int psz = 4096;
    sqlite3_stmt *ps = NULL;
    if (sqlite3_prepare_v2(s->wdb, "PRAGMA page_size", -1, &ps, NULL) == SQLITE_OK &&
        sqlite3_step(ps) == SQLITE_ROW && sqlite3_column_int(ps, 0) > 0)
      psz = sqlite3_column_int(ps, 0);
    sqlite3_finalize(ps);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA wal_autocheckpoint = %d", (int)((16L << 20) / psz));
    exec(s->wdb, sql);
  }
  return err;
}

reqlog_err store_open(const char *path, store_prepare_fn prepare, void *prepare_ctx,
                      store **out, char **cause) {
  *out = NULL;
  store *s = store_alloc(path, prepare, prepare_ctx);
  if (!s)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  reqlog_err err = store_file_claim(path, &s->file, cause);
  if (err == REQLOG_OK)
    err = connect_checked(s, &s->wdb, cause);
  if (err == REQLOG_OK)
    err = setup_writer(s, cause);
  if (err == REQLOG_OK)
    err = migrate(s->wdb, cause);
  if (err == REQLOG_OK)
    err = connect_checked(s, &s->fg, cause);
  if (err == REQLOG_OK) {
    s->last_submit_mono = util_mono_us();
    s->fts_backlog = 1;
    if (pthread_create(&s->thread, NULL, writer_main, s) != 0)
      err = util_fail(cause, REQLOG_ERR_NOMEM, "cannot start the writer thread");
    else
      s->thread_started = 1;
  }
  if (err != REQLOG_OK) {
    store_close(s);
    return err;
  }
  *out = s;
  return REQLOG_OK;
}

/* A history written by an older reqlog is upgraded before it is read, by its owner
 * when the owner may write it (as opening it for recording would). */
static reqlog_err upgrade_for_reading(store *s, int version, char **cause) {
  store_file wf;
  sqlite3 *db = NULL;
  char *why = NULL;
  reqlog_err err = store_file_claim(s->path, &wf, &why);
  if (err == REQLOG_OK) {
    err = connect_db(wf.open_name, wf.open_flags | SQLITE_OPEN_NOMUTEX, &db, &why);
    store_file_free(&wf);
  }
  if (err == REQLOG_OK)
    err = migrate(db, &why);
  sqlite3_close(db);
  if (err != REQLOG_OK)
    util_fail(cause, err, "%s was written by an older reqlog (schema %d of %d): it must be "
              "upgraded by its owner, with any command that writes to it such as prune (%s)",
              s->path, version, schema_count(), why ? why : reqlog_strerror(err));
  free(why);
  return err;
}

/* The read connection's history is one this reqlog reads: reqlog's, and no newer. */
static reqlog_err check_readable_schema(store *s, char **cause) {
  sqlite3_stmt *st = NULL;
  int version = -1;
  int rc = sqlite3_prepare_v2(s->fg, "PRAGMA user_version", -1, &st, NULL);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
      version = sqlite3_column_int(st, 0);
  }
  sqlite3_finalize(st);
  if (version < 0 && (rc & 0xff) == SQLITE_CANTOPEN)
    return util_fail(cause, REQLOG_ERR_READONLY, "cannot read %s: %s; a history being "
                     "written is read through its -wal and -shm files, which must be readable "
                     "or, when missing, possible to create in its folder", s->path,
                     sqlite3_errmsg(s->fg));
  if (version < 0)
    return db_fail(s->fg, rc, cause, "cannot read the history");
  if (version == 0)
    return util_fail(cause, REQLOG_ERR_DB, "%s is not a reqlog history (an SQLite database "
                     "without reqlog's tables)", s->path);
  if (version > schema_count())
    return util_fail(cause, REQLOG_ERR_DB,
                     "the database has schema version %d but this reqlog knows only %d: "
                     "it was written by a newer reqlog", version, schema_count());
  return version < schema_count() ? upgrade_for_reading(s, version, cause) : REQLOG_OK;
}

reqlog_err store_open_read(const char *path, store **out, char **cause) {
  *out = NULL;
  store *s = store_alloc(path, NULL, NULL);
  if (!s)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  s->readonly = 1;
  reqlog_err err = store_file_check_read(path, &s->file, cause);
  if (err == REQLOG_OK)
    err = connect_checked(s, &s->fg, cause);
  if (err == REQLOG_OK)
    err = check_readable_schema(s, cause);
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
  if (s->thread_started) {
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
  }
  for (record *r = s->head, *nx; r; r = nx) {
    nx = r->next;
    record_free(r);
  }
  sqlite3_finalize(s->ins);
  sqlite3_finalize(s->fld);
  for (int i = 0; i < s->npool; i++)
    sqlite3_close(s->pool[i]);
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

void store_set_error_handler(store *s, reqlog_error_fn fn, void *ctx) {
  pthread_mutex_lock(&s->lock);
  s->err_fn = fn;
  s->err_ctx = ctx;
  char *notice = fn ? s->file.notice : NULL;
  if (notice)
    s->file.notice = NULL; /* said once */
  pthread_mutex_unlock(&s->lock);
  if (notice)
    fn(ctx, REQLOG_OK, notice);
  free(notice);
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

reqlog_err store_submit(store *s, record *rec, uint64_t *seq, int64_t *row_id) {
  int64_t now = util_mono_us();
  *row_id = 0;
  if (s->readonly) {
    /* opened for reading: nothing is queued, the caller's call goes on unrecorded */
    *seq = 0;
    record_free(rec);
    report(s, REQLOG_ERR_READONLY, "recording failed: the history was opened for reading only");
    return REQLOG_ERR_READONLY;
  }
  pthread_mutex_lock(&s->lock);
  rec->seq = ++s->next_seq;
  *seq = rec->seq;
  rec->next = NULL;
  int was_empty = s->head == NULL;
  if (s->tail)
    s->tail->next = rec;
  else
    s->head = rec;
  s->tail = rec;
  s->qlen++;
  s->qbytes += record_bytes(rec);
  s->last_submit_mono = now;
  if (was_empty)
    s->first_queued_mono = now;
  /* Wake the writer only when it sleeps without a deadline (the queue was empty) or
   * something is urgent; otherwise it wakes by itself at the batch deadline, and the
   * recording thread pays no system call. */
  if (was_empty || s->sync || s->qlen == BATCH_MAX || s->qbytes > QUEUE_MAX_BYTES)
    pthread_cond_signal(&s->wake);
  reqlog_err err = REQLOG_OK;
  if (s->qbytes > QUEUE_MAX_BYTES && !s->broken) {
    /* Backpressure: the writer cannot keep up (a proxy under sustained load). Waiting
     * here bounds memory without losing a call; it never happens at ordinary rates. */
    while (s->qbytes > QUEUE_RESUME_BYTES && !s->stop && !s->broken)
      pthread_cond_wait(&s->done, &s->lock);
  }
  if (s->sync && s->broken) {
    /* the database is failing: the record waits in the queue, the caller does not */
    err = s->first_err != REQLOG_OK ? s->first_err : REQLOG_ERR_DB;
  } else if (s->sync) {
    while (s->tried_seq < *seq && !s->stop)
      pthread_cond_wait(&s->done, &s->lock);
    *row_id = lookup_seq(s, *seq);
    if (*row_id <= 0) {
      *row_id = 0;
      err = s->first_err != REQLOG_OK ? s->first_err : REQLOG_ERR_DB;
    }
  }
  pthread_mutex_unlock(&s->lock);
  return err;
}

reqlog_err store_flush(store *s, char **cause) {
  pthread_mutex_lock(&s->lock);
  uint64_t target = s->next_seq;
  s->flushers++;
  pthread_cond_signal(&s->wake);
  while (s->tried_seq < target)
    pthread_cond_wait(&s->done, &s->lock);
  s->flushers--;
  reqlog_err err = s->first_err;
  if (cause)
    *cause = err != REQLOG_OK ? util_strdup(s->first_cause) : NULL;
  s->first_err = REQLOG_OK;
  free(s->first_cause);
  s->first_cause = NULL;
  pthread_mutex_unlock(&s->lock);
  return err;
}

reqlog_err store_acquire(store *s, sqlite3 **db, char **cause) {
  pthread_mutex_lock(&s->pool_lock);
  if (s->npool > 0) {
    *db = s->pool[--s->npool];
    pthread_mutex_unlock(&s->pool_lock);
    return REQLOG_OK;
  }
  pthread_mutex_unlock(&s->pool_lock);
  return connect_db(s->file.open_name, s->file.open_flags | SQLITE_OPEN_NOMUTEX, db, cause);
}

void store_release(void *arg, sqlite3 *db) {
  store *s = arg;
  if (!db)
    return;
  pthread_mutex_lock(&s->pool_lock);
  if (s->npool < POOL_MAX) {
    s->pool[s->npool++] = db;
    db = NULL;
  }
  pthread_mutex_unlock(&s->pool_lock);
  sqlite3_close(db);
}

sqlite3 *store_fg_lock(store *s) {
  pthread_mutex_lock(&s->fg_lock);
  return s->fg;
}

void store_fg_unlock(store *s) {
  pthread_mutex_unlock(&s->fg_lock);
}

/* Deletes the rows of the temp table prune_ids from the index, the field table and
 * calls, in the open transaction. */
static int delete_ids(sqlite3 *db) {
  int rc = exec(db,
      "INSERT INTO calls_fts(calls_fts, rowid, url, request_body, response_body)"
      " SELECT 'delete', id, url,"
      " CASE WHEN typeof(request_body) = 'text' THEN request_body END,"
      " CASE WHEN typeof(response_body) = 'text' THEN response_body END"
      " FROM calls WHERE id IN (SELECT id FROM temp.prune_ids)"
      " AND id <= (SELECT value FROM meta WHERE name = 'fts_indexed')");
  if (rc == SQLITE_OK)
    rc = exec(db, "DELETE FROM call_fields WHERE call_id IN (SELECT id FROM temp.prune_ids)");
  if (rc == SQLITE_OK)
    rc = exec(db, "DELETE FROM calls WHERE id IN (SELECT id FROM temp.prune_ids)");
  return rc;
}

/* Collects in temp.prune_ids the rows older than OLDER_THAN_US (0: no bound) and those
 * beyond the newest MAX_ROWS (0: no bound), in the open transaction. */
static int select_prune_ids(sqlite3 *db, int64_t older_than_us, int64_t max_rows) {
  static const char *const sql[] = {
    "INSERT OR IGNORE INTO temp.prune_ids SELECT id FROM calls WHERE started_at < ?",
    /* keep the newest MAX_ROWS rows (ids grow with time of recording) */
    "INSERT OR IGNORE INTO temp.prune_ids SELECT id FROM calls"
    " ORDER BY id DESC LIMIT -1 OFFSET ?",
  };
  const int64_t bound[] = {older_than_us, max_rows};
  int rc = exec(db, "DELETE FROM temp.prune_ids");
  for (int i = 0; i < 2 && rc == SQLITE_OK; i++) {
    if (bound[i] <= 0)
      continue;
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(db, sql[i], -1, &st, NULL);
    if (rc == SQLITE_OK) {
      sqlite3_bind_int64(st, 1, bound[i]);
      rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
    }
    sqlite3_finalize(st);
  }
  return rc;
}

/* Pruned text must not stay in the file. secure_delete overwrites the deleted rows and
 * every page freed; the contentless full-text index, though, only adds delete markers
 * for them, next to the old entries that still hold their words: 'optimize' merges the
 * index into one segment without them (and frees, so overwrites, the old segments). The
 * whole index is rewritten, which is why prune does it once, after all its deletes.
 * Returns an SQLite code. */
static int delete_and_wipe(sqlite3 *db, int64_t *deleted) {
  int rc = delete_ids(db);
  if (rc == SQLITE_OK)
    *deleted = sqlite3_changes64(db);
  if (rc == SQLITE_OK && *deleted > 0)
    rc = exec(db, "INSERT INTO calls_fts(calls_fts) VALUES ('optimize')");
  return rc;
}

reqlog_err store_prune(store *s, int64_t older_than_us, int64_t max_rows, int64_t *deleted,
                       char **cause) {
  *deleted = 0;
  sqlite3 *db = store_fg_lock(s);
  int rc = exec(db, "PRAGMA secure_delete = ON");
  if (rc == SQLITE_OK)
    rc = exec(db, "CREATE TEMP TABLE IF NOT EXISTS prune_ids(id INTEGER PRIMARY KEY)");
  if (rc == SQLITE_OK)
    rc = exec(db, "BEGIN IMMEDIATE");
  if (rc == SQLITE_OK)
    rc = select_prune_ids(db, older_than_us, max_rows);
  if (rc == SQLITE_OK)
    rc = delete_and_wipe(db, deleted);
  if (rc == SQLITE_OK)
    rc = exec(db, "COMMIT");
  reqlog_err err = REQLOG_OK;
  if (rc != SQLITE_OK) {
    err = db_fail(db, rc, cause, "prune failed");
    exec(db, "ROLLBACK");
    *deleted = 0;
  } else {
    /* The deletes are in the WAL; the old pages are still in the database file (and the
     * WAL may hold copies of the rows from when they were written). A checkpoint copies
     * the overwritten pages into the file and TRUNCATE empties the WAL. It waits (busy
     * timeout) for readers of older snapshots; one that stays longer keeps the old
     * pages: the rows are gone, but that is reported. Done after every prune, so that
     * running it again finishes what a reader stopped. */
    rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    if (rc != SQLITE_OK && *deleted > 0)
      err = util_fail(cause, store_err(rc),
                      "pruned %lld calls, but their old pages are still in %s and its -wal: "
                      "another process kept reading (%s); run prune again when it is done",
                      (long long)*deleted, s->path, sqlite3_errmsg(db));
  }
  store_fg_unlock(s);
  return err;
}
