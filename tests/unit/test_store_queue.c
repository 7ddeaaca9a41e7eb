/* test_store_queue.c: the writer queue of recorder/store/ (store_queue.c, store_writer.c)
 * on a real SQLite history file in a temp folder, with a prepare function of the test's
 * own (no redaction) that can hold the writer back.
 *
 * Plan:
 *   flush_waits_order_kept  3000 records (three batches) submitted in batch mode:
 *                           store_flush returns once every one is a row, the rows in
 *                           the order submitted, no error; the writer's statistics
 *                           count 3000 rows in at least three transactions, no wait
 *   bounded_nothing_dropped the queue's bound lowered to ten records' worth, the writer
 *                           held in its prepare: a producer of 200 records waits while
 *                           the queue is full (stops short, queue over its bound); let
 *                           go, all 200 are rows, in order; the statistics count the
 *                           waits, one of them at least as long as the test held the
 *                           writer after the producer stopped, and a peak over the bound
 *   close_writes_all        2500 records then store_close without a flush: all are rows
 *   sync_row_ids            in sync mode store_submit returns each record's row id
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <cmocka.h>

#include "store/store_int.h"
#include "testutil.h"

/* The writer's gate: prepare waits while closed, and counts what it prepared. */
typedef struct gate {
  pthread_mutex_t lock;
  pthread_cond_t open_cond;
  int closed;
  int waiting;             /* the writer is held at the gate */
  long prepared;
} gate;

static char *dup_text(const char *s) {
  char *d = strdup(s);
  assert_non_null(d);
  return d;
}

static reqlog_err prepare(void *ctx, const record *r, row_values *v) {
  gate *g = ctx;
  pthread_mutex_lock(&g->lock);
  while (g->closed) {
    g->waiting = 1;
    pthread_cond_wait(&g->open_cond, &g->lock);
  }
  g->waiting = 0;
  g->prepared++;
  pthread_mutex_unlock(&g->lock);
  char url[64];
  snprintf(url, sizeof url, "https://api.test/n/%lld", (long long)r->started_us);
  v->method = dup_text("GET");
  v->url = dup_text(url);
  v->host = dup_text("api.test");
  v->path = dup_text(url + strlen("https://api.test"));
  v->req_body_null = v->resp_body_null = 1;
  return REQLOG_OK;
}

typedef struct fixture {
  char *dir, *path;
  gate g;
  store *s;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  f->dir = tu_tmpdir();
  f->path = tu_path(f->dir, "history.db");
  pthread_mutex_init(&f->g.lock, NULL);
  pthread_cond_init(&f->g.open_cond, NULL);
  char *cause = NULL;
  assert_int_equal(store_open(f->path, prepare, &f->g, &f->s, &cause), REQLOG_OK);
  assert_null(cause);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  assert_int_equal(store_close(f->s), REQLOG_OK);
  pthread_mutex_destroy(&f->g.lock);
  pthread_cond_destroy(&f->g.open_cond);
  tu_rmtree(f->dir);
  free(f->dir);
  free(f->path);
  free(f);
  return 0;
}

/* A record started at N µs (its number in the test). */
static record *rec(int64_t n) {
  record *r = record_new(0);
  assert_non_null(r);
  r->started_us = n;
  r->status = 200;
  r->total_us = 1000;
  return r;
}

static void submit_range(store *s, int64_t from, int64_t to) {
  for (int64_t i = from; i < to; i++) {
    uint64_t seq = 0;
    int64_t id = -1;
    assert_int_equal(store_submit(s, rec(i), &seq, &id), REQLOG_OK);
    assert_int_equal(seq, (uint64_t)i + 1);
    assert_int_equal(id, 0);
  }
}

/* The history at PATH holds exactly rows 0 .. N-1, in the order they were submitted. */
static void assert_rows(const char *path, int64_t n) {
  sqlite3 *db = tu_db(path);
  assert_int_equal(tu_int(db, "SELECT count(*) FROM calls"), n);
  /* ids 1, 2, ... of a fresh file follow the order of writing */
  assert_int_equal(tu_int(db, "SELECT count(*) FROM calls WHERE started_at != id - 1"), 0);
  sqlite3_close(db);
}

static void flush_waits_order_kept(void **state) {
  fixture *f = *state;
  submit_range(f->s, 0, 3000);
  char *cause = NULL;
  assert_int_equal(store_flush(f->s, &cause), REQLOG_OK);
  assert_null(cause);
  assert_rows(f->path, 3000);
  reqlog_writer_stats st;
  store_stats(f->s, &st);
  assert_int_equal(st.rows, 3000);
  assert_true(st.batches >= 3);
  assert_int_equal(st.waits, 0);
  assert_int_equal(st.wait_us, 0);
  assert_true(st.queue_peak_bytes > 0);
}

typedef struct producer {
  store *s;
  int64_t n;
  pthread_mutex_t lock;
  int64_t submitted;
} producer;

static void *produce(void *arg) {
  producer *p = arg;
  for (int64_t i = 0; i < p->n; i++) {
    uint64_t seq = 0;
    int64_t id = 0;
    reqlog_err e = store_submit(p->s, rec(i), &seq, &id);
    pthread_mutex_lock(&p->lock);
    p->submitted += e == REQLOG_OK;
    pthread_mutex_unlock(&p->lock);
  }
  return NULL;
}

static int64_t submitted(producer *p) {
  pthread_mutex_lock(&p->lock);
  int64_t n = p->submitted;
  pthread_mutex_unlock(&p->lock);
  return n;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void bounded_nothing_dropped(void **state) {
  fixture *f = *state;
  record *sample = rec(0);
  size_t one = store_queue_record_bytes(sample);
  record_free(sample);
  pthread_mutex_lock(&f->s->lock);
  f->s->queue_max_bytes = 10 * one;
  f->s->queue_resume_bytes = 5 * one;
  pthread_mutex_unlock(&f->s->lock);
  f->g.closed = 1;

  producer p = {.s = f->s, .n = 200};
  pthread_mutex_init(&p.lock, NULL);
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, produce, &p), 0);
  /* the producer runs until the queue is full, then waits: its count stops growing */
  int64_t before = -1, now = submitted(&p);
  for (int i = 0; i < 100 && now != before; i++) {
    sleep_ms(100);
    before = now;
    now = submitted(&p);
  }
  /* at most a full queue in the writer's held batch and a full queue behind it */
  assert_true(now <= 22);
  pthread_mutex_lock(&f->g.lock);
  assert_true(f->g.waiting);
  pthread_mutex_unlock(&f->g.lock);
  sleep_ms(150); /* the producer waits all along: its wait lasts at least this */

  pthread_mutex_lock(&f->g.lock);
  f->g.closed = 0;
  pthread_cond_broadcast(&f->g.open_cond);
  pthread_mutex_unlock(&f->g.lock);
  assert_int_equal(pthread_join(t, NULL), 0);
  assert_int_equal(submitted(&p), p.n);
  char *cause = NULL;
  assert_int_equal(store_flush(f->s, &cause), REQLOG_OK);
  assert_null(cause);
  assert_int_equal(f->g.prepared, p.n);
  assert_rows(f->path, p.n);
  reqlog_writer_stats st;
  store_stats(f->s, &st);
  assert_int_equal(st.rows, (uint64_t)p.n);
  assert_true(st.waits >= 1);
  assert_true(st.wait_max_us >= 150000 && st.wait_max_us <= st.wait_us);
  assert_true(st.queue_peak_bytes > 10 * one);
  pthread_mutex_destroy(&p.lock);
}

static void close_writes_all(void **state) {
  fixture *f = *state;
  submit_range(f->s, 0, 2500);
  assert_int_equal(store_close(f->s), REQLOG_OK);
  assert_rows(f->path, 2500);
  /* teardown closes a store again: open one on the same file */
  char *cause = NULL;
  assert_int_equal(store_open(f->path, prepare, &f->g, &f->s, &cause), REQLOG_OK);
}

static void sync_row_ids(void **state) {
  fixture *f = *state;
  store_set_sync(f->s, 1);
  for (int64_t i = 0; i < 50; i++) {
    uint64_t seq = 0;
    int64_t id = 0;
    assert_int_equal(store_submit(f->s, rec(i), &seq, &id), REQLOG_OK);
    assert_int_equal(id, i + 1);
  }
  assert_rows(f->path, 50);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(flush_waits_order_kept, setup, teardown),
    cmocka_unit_test_setup_teardown(bounded_nothing_dropped, setup, teardown),
    cmocka_unit_test_setup_teardown(close_writes_all, setup, teardown),
    cmocka_unit_test_setup_teardown(sync_row_ids, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
