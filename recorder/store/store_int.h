/* store_int.h: what the files of store/ share and nothing outside the room sees: the
 * state of an open store (struct store), the writer queue's limits, and the functions
 * one file of the room lends another, each prefixed with its file's job (store_conn_
 * in store_conn.c, store_queue_ in store_queue.c, ...). store.h stays the room's
 * interface to the rest of the library; a test may look in here. */
#ifndef REQLOG_STORE_INT_H
#define REQLOG_STORE_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "store/store_file.h"
#include "base/reqid.h"
#include "base/util.h"

#define STORE_BATCH_MAX 1000           /* rows per transaction at most */
#define STORE_MAX_PENDING 10000        /* rows kept while the database keeps failing */
#define STORE_QUEUE_MAX_BYTES (64L << 20) /* a recording caller waits while more than this is */
#define STORE_QUEUE_RESUME_BYTES (32L << 20) /* queued, until the writer is down to this */
#define STORE_YIELD_BELOW (4L << 20) /* the writer yields while less than this is queued */
#define STORE_SEQMAP 4096
#define STORE_POOL_MAX 32
#define STORE_FTS_CHUNK 500            /* rows indexed for search per transaction */

/* The values the contentless full-text index calls_fts is given for a row of calls,
 * after its rowid: the indexer inserts them and prune deletes with exactly the same
 * (a contentless index must be given back what it was given). */
#define STORE_FTS_VALUES                                              \
  "url,"                                                              \
  " reqlog_unpack_text(packed, request_body),"                        \
  " reqlog_unpack_text(packed, response_body)"

struct store_seqmap_entry {
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
  sqlite3 *pool[STORE_POOL_MAX];
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
  size_t queue_max_bytes;        /* STORE_QUEUE_MAX_BYTES (a test may lower it) */
  size_t queue_resume_bytes;     /* STORE_QUEUE_RESUME_BYTES (likewise) */
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
  struct store_seqmap_entry map[STORE_SEQMAP];
  pthread_t thread;
  int thread_started;
  char origin[UTIL_ORIGIN_MAX + 1]; /* written into each new row (store_set_origin) */
  char reqid_headers[REQID_LIST_MAX + 1]; /* response headers whose value is a row's
                                             request id (store_set_request_id_headers) */
  int fts_backlog;               /* the writer thinks rows wait for indexing */
  int make_way;                  /* writer only: the batch yields its core now and then
                                    (store_batch.c), set while under STORE_YIELD_BELOW */
  int64_t yielded_mono;          /* writer only: when it last did */
  reqlog_writer_stats stats;     /* what the writer went through (store_stats) */
};

/* store_conn.c: connections and SQLite results. */
reqlog_err store_conn_fail(sqlite3 *db, int rc, char **cause, const char *what);
int store_conn_exec(sqlite3 *db, const char *sql);
/* Finalizes the statements left on a lent connection (those its readers' cursors parked
 * for reuse: read/sqlq.h) and closes it. */
void store_conn_close(sqlite3 *db);
reqlog_err store_conn_open(const char *path, int flags, sqlite3 **out, char **cause);
reqlog_err store_conn_checked(store *s, sqlite3 **db, char **cause);

/* store_migrate.c: the schema version. */
int store_migrate_count(void);
reqlog_err store_migrate(sqlite3 *db, char **cause);
reqlog_err store_migrate_check_readable(store *s, char **cause);

/* store_dict.c: the dictionary the indexer packs rows with (*dict_id, 0: none), a new
 * one trained first (in its own transaction) when the history has grown enough. */
reqlog_err store_dict_current(sqlite3 *db, int64_t *dict_id);
/* In prune's open transaction, after its deletes: the dictionaries trained on a row of
 * temp.prune_ids are deleted, the values packed with them packed again with a new one
 * trained on the rows kept (or none). Returns an SQLite code. */
int store_dict_retire_pruned(sqlite3 *db);

/* store_report.c: recording errors, to the handler and kept for the next flush.
 * store_report is called unlocked; store_report_take locked. */
void store_report(store *s, reqlog_err err, const char *msg);
reqlog_err store_report_take(store *s, char **cause);

/* store_queue.c: the queue of records waiting for the writer. Called locked. */
size_t store_queue_record_bytes(const record *r);
int64_t store_queue_row_id(store *s, uint64_t seq);
record *store_queue_take(store *s, size_t max, record **last, size_t *n);
size_t store_queue_retire(store *s, record *list);
size_t store_queue_put_back(store *s, record *list, record *last, size_t n);
void store_queue_free_all(store *s);

/* store_batch.c: one batch of records written as rows in one transaction. */
int store_batch_write(store *s, record *list, char *errbuf, size_t errlen);

/* store_writer.c: the writer thread. */
reqlog_err store_writer_start(store *s, char **cause);
void store_writer_stop(store *s);

#endif
