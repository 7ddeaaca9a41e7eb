/* store_queue.c: the bounded queue between the recording threads and the writer: a
 * producer appends a record and gets its sequence number (and in sync mode waits for its
 * row), waits while the queue holds more than queue_max_bytes until the writer is down to
 * queue_resume_bytes (nothing is dropped for being many), and a flush waits until every
 * record queued before it was written or given up. The writer takes batches off the
 * front, in order, and puts back a batch that failed. The sequence map remembers the row
 * id of recent records (for sync callers and retry links). */
#include "store/store_int.h"

#include "base/util.h"

/* About how much memory a queued record holds: enough to bound the queue. */
size_t store_queue_record_bytes(const record *r) {
  return record_mem_bytes(r) + r->req_head_len + r->resp_head_len + 256;
}

/* The row id of the record numbered SEQ when it was written and is still remembered;
 * else 0. */
int64_t store_queue_row_id(store *s, uint64_t seq) {
  struct store_seqmap_entry *e = &s->map[seq % STORE_SEQMAP];
  return e->seq == seq ? e->id : 0;
}

/* Appends REC, locked; wakes the writer when it must hear of it. */
static void push(store *s, record *rec, int64_t now) {
  rec->seq = ++s->next_seq;
  rec->next = NULL;
  int was_empty = s->head == NULL;
  if (s->tail)
    s->tail->next = rec;
  else
    s->head = rec;
  s->tail = rec;
  s->qlen++;
  s->qbytes += store_queue_record_bytes(rec);
  if (s->qbytes > s->stats.queue_peak_bytes)
    s->stats.queue_peak_bytes = s->qbytes;
  s->last_submit_mono = now;
  if (was_empty)
    s->first_queued_mono = now;
  /* Wake the writer only when it sleeps without a deadline (the queue was empty) or
   * something is urgent; otherwise it wakes by itself at the batch deadline, and the
   * recording thread pays no system call. */
  if (was_empty || s->sync || s->qlen == STORE_BATCH_MAX || s->qbytes > s->queue_max_bytes)
    pthread_cond_signal(&s->wake);
}

/* In sync mode, waits (locked) until record SEQ was tried; its row id, or the error. */
static reqlog_err wait_for_row(store *s, uint64_t seq, int64_t *row_id) {
  if (s->broken) /* the database is failing: the record waits in the queue, the caller does not */
    return s->first_err != REQLOG_OK ? s->first_err : REQLOG_ERR_DB;
  while (s->tried_seq < seq && !s->stop)
    pthread_cond_wait(&s->done, &s->lock);
  *row_id = store_queue_row_id(s, seq);
  if (*row_id > 0)
    return REQLOG_OK;
  *row_id = 0;
  return s->first_err != REQLOG_OK ? s->first_err : REQLOG_ERR_DB;
}

reqlog_err store_submit(store *s, record *rec, uint64_t *seq, int64_t *row_id) {
  int64_t now = util_mono_us();
  *row_id = 0;
  if (s->readonly) {
    /* opened for reading: nothing is queued, the caller's call goes on unrecorded */
    *seq = 0;
    record_free(rec);
    store_report(s, REQLOG_ERR_READONLY, "recording failed: the history was opened for reading only");
    return REQLOG_ERR_READONLY;
  }
  pthread_mutex_lock(&s->lock);
  push(s, rec, now);
  *seq = rec->seq;
  if (s->qbytes > s->queue_max_bytes && !s->broken) {
    /* Backpressure: the writer cannot keep up (a proxy under sustained load). Waiting
     * here bounds memory without losing a call; it never happens at ordinary rates. */
    while (s->qbytes > s->queue_resume_bytes && !s->stop && !s->broken)
      pthread_cond_wait(&s->done, &s->lock);
    uint64_t waited = (uint64_t)(util_mono_us() - now);
    s->stats.waits++;
    s->stats.wait_us += waited;
    if (waited > s->stats.wait_max_us)
      s->stats.wait_max_us = waited;
  }
  reqlog_err err = s->sync ? wait_for_row(s, *seq, row_id) : REQLOG_OK;
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
  reqlog_err err = store_report_take(s, cause);
  pthread_mutex_unlock(&s->lock);
  return err;
}

/* Takes up to MAX records (at least one must be queued) off the front: the list, its
 * *last record and their number *n. */
record *store_queue_take(store *s, size_t max, record **last, size_t *n) {
  record *list = s->head;
  *last = s->head;
  *n = 1;
  while ((*last)->next && *n < max) {
    *last = (*last)->next;
    (*n)++;
  }
  s->head = (*last)->next;
  if (!s->head)
    s->tail = NULL;
  (*last)->next = NULL;
  s->qlen -= *n;
  for (record *r = list; r; r = r->next)
    s->qbytes -= store_queue_record_bytes(r);
  return list;
}

/* Marks the records of LIST (taken off the queue) tried and frees them; returns how
 * many. */
size_t store_queue_retire(store *s, record *list) {
  size_t n = 0;
  for (record *r = list, *nx; r; r = nx) {
    nx = r->next;
    if (r->seq > s->tried_seq)
      s->tried_seq = r->seq;
    record_free(r);
    n++;
  }
  return n;
}

/* Drops the oldest queued records beyond STORE_MAX_PENDING while the database fails.
 * Returns how many were dropped. */
static size_t shed(store *s) {
  size_t dropped = 0;
  while (s->qlen > STORE_MAX_PENDING && s->head) {
    record *r = s->head;
    s->head = r->next;
    if (!s->head)
      s->tail = NULL;
    s->qlen--;
    s->qbytes -= store_queue_record_bytes(r);
    if (r->seq > s->tried_seq)
      s->tried_seq = r->seq;
    record_free(r);
    dropped++;
  }
  return dropped;
}

/* Puts LIST .. LAST (N records, taken off the queue, not written) back in front, in
 * order, forgetting their row ids; a flush or a sync submit waiting must not wait for a
 * database that is broken: they are then marked tried, so those return with the error
 * while the records stay queued. Drops the oldest records beyond STORE_MAX_PENDING;
 * returns how many. */
size_t store_queue_put_back(store *s, record *list, record *last, size_t n) {
  last->next = s->head;
  s->head = list;
  if (!s->tail)
    s->tail = last;
  s->qlen += n;
  for (record *r = list; r != last->next; r = r->next) {
    s->qbytes += store_queue_record_bytes(r);
    s->map[r->seq % STORE_SEQMAP] = (struct store_seqmap_entry){r->seq, 0};
    if ((s->flushers || s->sync) && r->seq > s->tried_seq)
      s->tried_seq = r->seq;
  }
  return shed(s);
}

/* Frees what is still queued (the writer has stopped). */
void store_queue_free_all(store *s) {
  for (record *r = s->head, *nx; r; r = nx) {
    nx = r->next;
    record_free(r);
  }
  s->head = s->tail = NULL;
  s->qlen = 0;
  s->qbytes = 0;
}
