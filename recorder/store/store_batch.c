/* store_batch.c: one batch of queued records written as rows of calls (and their
 * fields in call_fields) in one transaction, on the writer's connection: each record is
 * turned into row values by the store's prepare function (redaction), bound to the
 * INSERT and stepped; a failing batch leaves nothing of itself in the database. */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>

/* The id is the next above both the highest row and meta.id_floor, the highest id prune
 * ever deleted (store_prune.c): without the floor, a history emptied by prune would give
 * its next row id 1 again, below the search indexer's mark (the row would never be
 * indexed, nor rolled up for stats) and below what a team store already has of it (it
 * would never be shipped). Two lookups of one B-tree page each per row.
 * Header JSON and bodies are written packed (store_pack.c) with the history's newest
 * dictionary (none, 0, in a history too young to have one: packed all the same), the
 * two SHA-256 digests as their 32 bytes. */
#define NEWEST_DICT "coalesce((SELECT max(id) FROM zdict WHERE length(dict) > 0), 0)"
const char STORE_INSERT_SQL[] =
  "INSERT INTO calls(id, started_at, method, url, host, path, status, error, duration_us,"
  " queued_us, dns_us, connect_us, tls_us, ttfb_us, key, attempt, retry_of, source,"
  " request_headers, response_headers, request_body, request_size, request_truncated,"
  " request_sha256, response_body, response_size, response_truncated, response_sha256,"
  " content_type, http_version, remote_ip, error_message, error_fields, origin, request_id,"
  " replay_of, packed)"
  " VALUES (1 + max(coalesce((SELECT max(id) FROM calls), 0),"
  "                coalesce((SELECT value FROM meta WHERE name = 'id_floor'), 0)),"
  "         ?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
  "         reqlog_pack(?, " NEWEST_DICT "), reqlog_pack(?, " NEWEST_DICT "),"
  "         reqlog_pack(?, " NEWEST_DICT "), ?,?, reqlog_pack(?, 0),"
  "         reqlog_pack(?, " NEWEST_DICT "), ?,?, reqlog_pack(?, 0), ?,?,?,?,?,?,?,?, 1)";

static const char FIELD_INSERT_SQL[] =
  "INSERT OR IGNORE INTO call_fields(call_id, field) VALUES (?, ?)";

/* A batch on its way: its records' row values, and which could be prepared. */
typedef struct batch {
  size_t n;
  row_values *vals;
  int *ok;
} batch;

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

static void bind_int64_or_null(sqlite3_stmt *st, int i, int64_t n, int null) {
  if (null)
    sqlite3_bind_null(st, i);
  else
    sqlite3_bind_int64(st, i, n);
}

void store_bind_row(sqlite3_stmt *ins, const record *r, const row_values *v, int64_t retry_of,
                    const char *origin) {
  sqlite3_reset(ins);
  sqlite3_clear_bindings(ins);
  int i = 1;
  sqlite3_bind_int64(ins, i++, r->started_us);
  bind_text(ins, i++, v->method);
  bind_text(ins, i++, v->url);
  bind_text(ins, i++, v->host);
  bind_text(ins, i++, v->path);
  bind_int64_or_null(ins, i++, r->status, r->status <= 0);
  bind_text(ins, i++, v->error);
  sqlite3_bind_int64(ins, i++, r->total_us);
  sqlite3_bind_int64(ins, i++, r->queued_us);
  sqlite3_bind_int64(ins, i++, r->dns_us);
  sqlite3_bind_int64(ins, i++, r->connect_us);
  sqlite3_bind_int64(ins, i++, r->tls_us);
  sqlite3_bind_int64(ins, i++, r->ttfb_us);
  bind_text(ins, i++, v->key);
  sqlite3_bind_int(ins, i++, r->attempt > 0 ? r->attempt : 1);
  bind_int64_or_null(ins, i++, retry_of, retry_of <= 0);
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
  bind_text(ins, i++, r->origin ? r->origin : origin);
  bind_text(ins, i++, v->request_id);
  bind_int64_or_null(ins, i++, r->replay_of, r->replay_of <= 0);
}

/* Inserts one record inside the open transaction; returns an SQLite code. */
static int insert_one(store *s, const record *r, const row_values *v, const char *origin,
                      int64_t *id) {
  store_bind_row(s->ins, r, v, r->retry_of_seq ? store_queue_row_id(s, r->retry_of_seq) : 0,
                 origin);
  int rc = sqlite3_step(s->ins);
  if (rc != SQLITE_DONE)
    return rc;
  *id = sqlite3_last_insert_rowid(s->wdb);
  for (size_t k = 0; k < v->nfields; k++) {
    if (!v->fields[k])
      continue;
    sqlite3_reset(s->fld);
    sqlite3_bind_int64(s->fld, 1, *id);
    sqlite3_bind_text(s->fld, 2, v->fields[k], -1, SQLITE_STATIC);
    rc = sqlite3_step(s->fld);
    if (rc != SQLITE_DONE)
      return rc;
  }
  return SQLITE_OK;
}

/* A batch takes the writer milliseconds of CPU (400 rows at 8k calls/s are ~11 ms). The
 * threads whose calls it records (the proxy's loops) wake up often and run briefly, so the
 * scheduler does not let them preempt it, and a call that came in meanwhile waited for
 * the writer's time slice: 4-5 ms, the p99 of a lone connection through the proxy. So
 * while the writer keeps up (s->make_way: little is queued), after every YIELD_US of work
 * it offers its core to whoever waits for it; behind, it does not (yielding every 4 rows
 * then let the queue fill under 32 connections, and the loops waited for room: p99
 * 80-130 ms). */
#define YIELD_US 300
static void make_way(store *s) {
  if (!s->make_way)
    return;
  int64_t now = util_mono_us();
  if (now - s->yielded_mono >= YIELD_US) {
    sched_yield();
    s->yielded_mono = util_mono_us();
  }
}

/* Prepares the row values of LIST's records into B (a record that cannot be prepared,
 * out of memory, is left out). Returns SQLITE_OK or SQLITE_NOMEM. */
static int batch_prepare(store *s, record *list, batch *b) {
  b->n = 0;
  for (record *r = list; r; r = r->next)
    b->n++;
  b->vals = calloc(b->n ? b->n : 1, sizeof *b->vals);
  b->ok = calloc(b->n ? b->n : 1, sizeof *b->ok);
  if (!b->vals || !b->ok)
    return SQLITE_NOMEM;
  char reqid[sizeof s->reqid_headers];
  pthread_mutex_lock(&s->lock);
  memcpy(reqid, s->reqid_headers, sizeof reqid);
  pthread_mutex_unlock(&s->lock);
  size_t i = 0;
  for (record *r = list; r; r = r->next, i++) {
    make_way(s);
    b->ok[i] = s->prepare(s->prepare_ctx, r, &b->vals[i]) == REQLOG_OK;
    /* from the redacted headers: a header redaction hides is never an id in the clear */
    if (b->ok[i])
      b->vals[i].request_id = reqid_pick(reqid, b->vals[i].resp_headers);
  }
  return SQLITE_OK;
}

/* Frees B's values; returns how many records could not be prepared. */
static size_t batch_free(batch *b) {
  size_t dropped = 0;
  for (size_t i = 0; b->vals && i < b->n; i++) {
    row_values_free(&b->vals[i]);
    dropped += b->ok && !b->ok[i];
  }
  free(b->vals);
  free(b->ok);
  return dropped;
}

/* The writer's two INSERTs, prepared once for the connection's life. */
static int prepare_statements(store *s) {
  int rc = SQLITE_OK;
  if (!s->ins)
    rc = sqlite3_prepare_v3(s->wdb, STORE_INSERT_SQL, -1, SQLITE_PREPARE_PERSISTENT, &s->ins,
                            NULL);
  if (rc == SQLITE_OK && !s->fld)
    rc = sqlite3_prepare_v3(s->wdb, FIELD_INSERT_SQL, -1, SQLITE_PREPARE_PERSISTENT, &s->fld,
                            NULL);
  return rc;
}

/* Resets a statement now: one left mid-step would keep the transaction from ending, and
 * the bound values point into the batch's values, about to be freed. */
static void reset_statement(sqlite3_stmt *st) {
  if (st) {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
  }
}

/* Inserts B's prepared records of LIST, noting each one's row id in the sequence map,
 * in one transaction; returns an SQLite code (ERRBUF gets the message). */
static int batch_insert(store *s, record *list, const batch *b, char *errbuf, size_t errlen) {
  char origin[sizeof s->origin];
  pthread_mutex_lock(&s->lock);
  memcpy(origin, s->origin, sizeof origin);
  pthread_mutex_unlock(&s->lock);
  int rc = store_conn_exec(s->wdb, "BEGIN IMMEDIATE");
  if (rc == SQLITE_OK)
    rc = prepare_statements(s);
  size_t i = 0;
  for (record *r = list; r && rc == SQLITE_OK; r = r->next, i++) {
    int64_t id = 0;
    if (!b->ok[i])
      continue; /* could not be prepared (out of memory): reported by the caller */
    make_way(s);
    rc = insert_one(s, r, &b->vals[i], origin, &id);
    if (rc == SQLITE_OK)
      s->map[r->seq % STORE_SEQMAP] = (struct store_seqmap_entry){r->seq, id};
  }
  if (rc != SQLITE_OK)
    snprintf(errbuf, errlen, "%s", sqlite3_errmsg(s->wdb));
  reset_statement(s->ins);
  reset_statement(s->fld);
  if (rc == SQLITE_OK) {
    rc = store_conn_exec(s->wdb, "COMMIT");
    if (rc != SQLITE_OK)
      snprintf(errbuf, errlen, "%s", sqlite3_errmsg(s->wdb));
  }
  if (rc != SQLITE_OK) {
    store_conn_exec(s->wdb, "ROLLBACK");
    for (record *r = list; r; r = r->next)
      if (s->map[r->seq % STORE_SEQMAP].seq == r->seq)
        s->map[r->seq % STORE_SEQMAP].id = 0;
  }
  return rc;
}

/* Writes LIST (in order) in one transaction. Returns an SQLite code; on failure nothing
 * of the batch is kept in the database. */
int store_batch_write(store *s, record *list, char *errbuf, size_t errlen) {
  batch b = {0};
  int rc = batch_prepare(s, list, &b);
  if (rc != SQLITE_OK)
    snprintf(errbuf, errlen, "out of memory preparing rows");
  else
    rc = batch_insert(s, list, &b, errbuf, errlen);
  size_t dropped = batch_free(&b);
  if (rc == SQLITE_OK && dropped) {
    char msg[128];
    snprintf(msg, sizeof msg, "recording failed: out of memory, %zu calls not recorded", dropped);
    store_report(s, REQLOG_ERR_NOMEM, msg);
  }
  return rc;
}
