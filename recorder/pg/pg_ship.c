/* pg_ship.c: one batch of the shipper: the spool's rows above what the store has of this
 * history, streamed with COPY into a temporary staging table, then moved into calls
 * (retry_of resolved to store ids, duplicates skipped) and the history's ship_state
 * moved past them, all in one transaction: a batch is in the store entirely or not at
 * all, so an interrupted shipper (kill -9, a server gone) neither loses nor repeats a
 * row. The days of the batch get their partitions first. */
#include "pg/pg_ship.h"
#include "pg/pg_int.h"
#include "pg/pg_spool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/errors.h"

/* A batch ends at this many rows, or once its COPY text passes PG_SHIP_BYTES. */
#define PG_SHIP_ROWS 2000
#define PG_SHIP_BYTES (16u << 20)

struct pg_shipper {
  pg_spool *spool;
  pg_db *db;
  int64_t history_id;
  int64_t shipped_id; /* the store's ship_state.shipped_id; -1 when to be read again */
  int staged;         /* the staging table exists on this connection */
  textbuf copy;
  int64_t *days;
  size_t ndays, capdays;
};

/* The staging table: the spool's columns as COPY sends them, and the store id each row
 * will get (drawn by DRAW_SQL). Emptied at every commit. */
static const char STAGE_SQL[] =
  "CREATE TEMP TABLE IF NOT EXISTS reqlog_stage ("
  " spool_id bigint NOT NULL, started_at bigint NOT NULL, method text, url text, host text,"
  " path text, status integer, error text, duration_us bigint, queued_us bigint,"
  " dns_us bigint, connect_us bigint, tls_us bigint, ttfb_us bigint, key text,"
  " attempt integer, retry_spool bigint, source text, request_headers text,"
  " response_headers text, request_size bigint, request_truncated boolean,"
  " request_sha256 text, response_size bigint, response_truncated boolean,"
  " response_sha256 text, content_type text, http_version text, remote_ip text,"
  " error_message text, error_fields text, origin text, fields text, request_id text,"
  " replay_spool bigint,"
  " request_body text,"
  " request_body_bin bytea, response_body text, response_body_bin bytea,"
  " id bigint"
  ") ON COMMIT DELETE ROWS";

/* Store ids are drawn in spool order under one lock for every inserter, held until the
 * commit: a transaction that drew ids commits before the next one draws any, so ids
 * grow in commit order and a reader that has seen id X never gets a row below X later
 * (the dashboard's live tail and `list --after` read "id > X"). Taken after the COPY,
 * so only the insert itself is serialized. Volatile expressions of a select list run
 * after its ORDER BY, so nextval() follows the spool order. */
static const char DRAW_SQL[] =
  "SELECT pg_advisory_xact_lock(" PG_SQL(PG_LOCK_CLASS) ", " PG_SQL(PG_LOCK_INSERT) ");"
  "UPDATE reqlog_stage s SET id = d.id FROM"
  " (SELECT spool_id, nextval('calls_id_seq') AS id FROM"
  "  (SELECT spool_id FROM reqlog_stage ORDER BY spool_id) AS o) AS d"
  " WHERE s.spool_id = d.spool_id";

static const char COPY_SQL[] =
  "COPY reqlog_stage (spool_id, started_at, method, url, host, path, status, error,"
  " duration_us, queued_us, dns_us, connect_us, tls_us, ttfb_us, key, attempt, retry_spool,"
  " source, request_headers, response_headers, request_size, request_truncated,"
  " request_sha256, response_size, response_truncated, response_sha256, content_type,"
  " http_version, remote_ip, error_message, error_fields, origin, fields, request_id,"
  " replay_spool,"
  " request_body, request_body_bin, response_body, response_body_bin) FROM STDIN";

/* The call a replay names (replay_of) is looked for the same way, without the week's
 * bound (a replay may be of any older call).
 * The first attempt a retry names: in the store already (it started before the retry,
 * within a week), or in this batch. */
static const char MOVE_SQL[] =
  "WITH ins AS (INSERT INTO calls (id, history_id, spool_id, origin, started_at, method, url,"
  " host, path, status, error, duration_us, queued_us, dns_us, connect_us, tls_us, ttfb_us,"
  " key, attempt, retry_of, source, request_headers, response_headers, request_size,"
  " request_truncated, request_sha256, response_size, response_truncated, response_sha256,"
  " content_type, http_version, remote_ip, error_message, error_fields, error_field_list,"
  " request_id, request_body, request_body_bin, response_body, response_body_bin, replay_of)"
  " SELECT s.id, $1::bigint, s.spool_id, s.origin, s.started_at, s.method, s.url, s.host,"
  " s.path, s.status, s.error, s.duration_us, s.queued_us, s.dns_us, s.connect_us, s.tls_us,"
  " s.ttfb_us, s.key, s.attempt,"
  " CASE WHEN s.retry_spool IS NOT NULL THEN coalesce("
  "  (SELECT c.id FROM calls c WHERE c.history_id = $1::bigint AND c.spool_id = s.retry_spool"
  "   AND c.started_at <= s.started_at AND c.started_at > s.started_at - 604800000000"
  "   LIMIT 1),"
  "  (SELECT r.id FROM reqlog_stage r WHERE r.spool_id = s.retry_spool)) END,"
  " s.source, s.request_headers, s.response_headers, s.request_size, s.request_truncated,"
  " s.request_sha256, s.response_size, s.response_truncated, s.response_sha256,"
  " s.content_type, s.http_version, s.remote_ip, s.error_message, s.error_fields,"
  " CASE WHEN s.fields IS NOT NULL THEN"
  "  NULLIF(ARRAY(SELECT jsonb_array_elements_text(s.fields::jsonb)), '{}'::text[]) END,"
  " s.request_id, s.request_body, s.request_body_bin, s.response_body, s.response_body_bin,"
  " CASE WHEN s.replay_spool IS NOT NULL THEN coalesce("
  "  (SELECT c.id FROM calls c WHERE c.history_id = $1::bigint AND c.spool_id = s.replay_spool"
  "   AND c.started_at <= s.started_at LIMIT 1),"
  "  (SELECT r.id FROM reqlog_stage r WHERE r.spool_id = s.replay_spool)) END"
  " FROM reqlog_stage s ORDER BY s.spool_id"
  " ON CONFLICT (history_id, spool_id, started_at) DO NOTHING RETURNING 1)"
  " SELECT count(*) FROM ins";

static const char STATE_SQL[] =
  "INSERT INTO ship_state (history_id, origin, shipped_id, rows, updated_at, last_end_us)"
  " VALUES ($1::bigint, $2, $3::bigint, $4::bigint,"
  "  (extract(epoch FROM clock_timestamp()) * 1000000)::bigint, $5::bigint)"
  " ON CONFLICT (history_id) DO UPDATE SET origin = excluded.origin,"
  "  shipped_id = excluded.shipped_id, rows = ship_state.rows + excluded.rows,"
  "  updated_at = excluded.updated_at, last_end_us = excluded.last_end_us";

reqlog_err pg_ship_open(const char *spool, int here, pg_shipper **out, char **cause) {
  *out = NULL;
  pg_shipper *s = calloc(1, sizeof *s);
  if (!s)
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  reqlog_err e = here ? pg_spool_open_here(spool, &s->spool, cause)
                      : pg_spool_open(spool, &s->spool, cause);
  if (e != REQLOG_OK) {
    free(s);
    return e;
  }
  s->history_id = pg_spool_history(s->spool);
  s->shipped_id = -1;
  *out = s;
  return REQLOG_OK;
}

void pg_ship_close(pg_shipper *s) {
  if (!s)
    return;
  pg_close(s->db);
  pg_spool_close(s->spool);
  free(s->copy.data);
  free(s->days);
  free(s);
}

reqlog_err pg_ship_connect(pg_shipper *s, const char *url, char **cause) {
  pg_close(s->db);
  s->db = NULL;
  s->staged = 0;
  s->shipped_id = -1;
  return pg_open(url, &s->db, cause);
}

int pg_ship_connected(const pg_shipper *s) {
  return pg_connected(s->db);
}

int64_t pg_ship_history(const pg_shipper *s) {
  return s->history_id;
}

pg_spool *pg_ship_spool(pg_shipper *s) {
  return s->spool;
}

/* hid as text for parameters. */
static void hid_text(const pg_shipper *s, char out[24]) {
  snprintf(out, 24, "%lld", (long long)s->history_id);
}

/* The store's shipped_id of this history into *id (0 when it has none); FOR_UPDATE: in
 * the open transaction, under the history's advisory lock. */
static reqlog_err read_shipped(pg_shipper *s, int locked, int64_t *id, char **cause) {
  char hid[24];
  hid_text(s, hid);
  const char *const params[] = {hid};
  PGresult *res = NULL;
  reqlog_err e = pg_query(s->db, locked
                            ? "SELECT pg_advisory_xact_lock($1::bigint), (SELECT shipped_id FROM "
                              "ship_state WHERE history_id = $1::bigint)"
                            : "SELECT 0, (SELECT shipped_id FROM ship_state WHERE history_id = "
                              "$1::bigint)",
                          1, params, &res, cause, "cannot read how far this history was shipped");
  if (e != REQLOG_OK)
    return e;
  *id = PQgetisnull(res, 0, 1) ? 0 : strtoll(PQgetvalue(res, 0, 1), NULL, 10);
  PQclear(res);
  return REQLOG_OK;
}

reqlog_err pg_ship_shipped(pg_shipper *s, int64_t *id, char **cause) {
  if (s->shipped_id < 0) {
    reqlog_err e = read_shipped(s, 0, &s->shipped_id, cause);
    if (e != REQLOG_OK)
      return e;
  }
  *id = s->shipped_id;
  return REQLOG_OK;
}

static void add_day(pg_shipper *s, int64_t us) {
  int64_t day = pg_day_of(us);
  if (s->ndays && s->days[s->ndays - 1] == day)
    return;
  if (s->ndays == s->capdays) {
    size_t cap = s->capdays ? 2 * s->capdays : 16;
    int64_t *d = realloc(s->days, cap * sizeof *d);
    if (!d) {
      s->copy.nomem = 1;
      return;
    }
    s->days = d;
    s->capdays = cap;
  }
  s->days[s->ndays++] = day;
}

/* Column I of the spool row as COPY text. */
static void put_int(textbuf *b, sqlite3_stmt *st, int i) {
  if (sqlite3_column_type(st, i) == SQLITE_NULL)
    pg_copy_null(b);
  else
    pg_copy_int(b, sqlite3_column_int64(st, i));
}

static void put_text(textbuf *b, sqlite3_stmt *st, int i) {
  if (sqlite3_column_type(st, i) == SQLITE_NULL) {
    pg_copy_null(b);
    return;
  }
  const unsigned char *p = sqlite3_column_text(st, i);
  pg_copy_text(b, p ? p : (const unsigned char *)"", (size_t)sqlite3_column_bytes(st, i));
}

/* A body as its two columns: text when SQLite holds text that is UTF-8 without NUL,
 * else bytes (SQLite's blobs, so they read back as binary, and text that PostgreSQL
 * cannot hold as it is). */
static void put_body(textbuf *b, sqlite3_stmt *st, int i) {
  int type = sqlite3_column_type(st, i);
  if (type == SQLITE_NULL) {
    tb_str(b, "\\N\t\\N");
    return;
  }
  const unsigned char *p = type == SQLITE_BLOB ? sqlite3_column_blob(st, i)
                                               : sqlite3_column_text(st, i);
  size_t n = (size_t)sqlite3_column_bytes(st, i);
  if (!p)
    p = (const unsigned char *)"";
  if (type != SQLITE_BLOB && pg_copy_is_text(p, n)) {
    pg_copy_text(b, p, n);
    tb_str(b, "\t\\N");
  } else {
    tb_str(b, "\\N\t");
    pg_copy_bytea(b, p, n);
  }
}

/* One spool row as a line of COPY text, in COPY_SQL's column order. */
static void put_row(textbuf *b, sqlite3_stmt *st) {
  for (int i = 0; i < SP_NCOLS; i++) {
    if (i)
      tb_byte(b, '\t');
    switch (i) {
    case SP_ID: case SP_STARTED_AT: case SP_STATUS: case SP_DURATION_US: case SP_QUEUED_US:
    case SP_DNS_US: case SP_CONNECT_US: case SP_TLS_US: case SP_TTFB_US: case SP_ATTEMPT:
    case SP_RETRY_OF: case SP_REQUEST_SIZE: case SP_RESPONSE_SIZE: case SP_REPLAY_OF:
      put_int(b, st, i);
      break;
    case SP_REQUEST_TRUNCATED: case SP_RESPONSE_TRUNCATED:
      if (sqlite3_column_type(st, i) == SQLITE_NULL)
        pg_copy_null(b);
      else
        pg_copy_bool(b, sqlite3_column_int64(st, i) != 0);
      break;
    case SP_REQUEST_BODY: case SP_RESPONSE_BODY:
      put_body(b, st, i);
      break;
    default:
      put_text(b, st, i);
    }
  }
  tb_byte(b, '\n');
}

/* What a batch read from the spool. */
typedef struct {
  int rows;
  int64_t last_id, last_end_us;
  char origin[UTIL_ORIGIN_MAX + 1];
} batch;

/* Reads the rows above the shipped id into S->copy and S->days. */
static reqlog_err read_batch(pg_shipper *s, batch *bt, char **cause) {
  memset(bt, 0, sizeof *bt);
  s->copy.len = 0;
  s->copy.nomem = 0;
  s->ndays = 0;
  sqlite3_stmt *st = pg_spool_rows(s->spool, s->shipped_id, PG_SHIP_ROWS);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    put_row(&s->copy, st);
    add_day(s, sqlite3_column_int64(st, SP_STARTED_AT));
    bt->rows++;
    bt->last_id = sqlite3_column_int64(st, SP_ID);
    bt->last_end_us = sqlite3_column_int64(st, SP_STARTED_AT) +
                      sqlite3_column_int64(st, SP_DURATION_US);
    const char *o = (const char *)sqlite3_column_text(st, SP_ORIGIN);
    snprintf(bt->origin, sizeof bt->origin, "%s", o ? o : "");
    if (s->copy.len >= PG_SHIP_BYTES)
      break;
  }
  reqlog_err e = pg_spool_rows_done(s->spool, rc, cause);
  if (e == REQLOG_OK && s->copy.nomem)
    e = util_fail(cause, REQLOG_ERR_NOMEM, "out of memory reading the spool");
  return e;
}

/* Streams S->copy into the staging table. */
static reqlog_err copy_in(pg_shipper *s, char **cause) {
  PGconn *c = s->db->conn;
  PGresult *res = PQexec(c, COPY_SQL);
  if (PQresultStatus(res) != PGRES_COPY_IN)
    return pg_fail(s->db, res, cause, "cannot start the COPY into the staging table");
  PQclear(res);
  int ok = 1;
  for (size_t at = 0; ok && at < s->copy.len; at += 1u << 20) {
    size_t n = s->copy.len - at < (1u << 20) ? s->copy.len - at : (1u << 20);
    ok = PQputCopyData(c, s->copy.data + at, (int)n) == 1;
  }
  if (PQputCopyEnd(c, ok ? NULL : "reqlog: sending failed") != 1)
    ok = 0;
  reqlog_err e = REQLOG_OK;
  while ((res = PQgetResult(c))) {
    if (e == REQLOG_OK && PQresultStatus(res) != PGRES_COMMAND_OK) {
      e = pg_fail(s->db, res, cause, "cannot COPY the batch");
      continue;
    }
    PQclear(res);
  }
  if (e == REQLOG_OK && !ok)
    e = pg_fail(s->db, NULL, cause, "cannot COPY the batch");
  return e;
}

/* Moves the staged rows into calls and ship_state past them, in the open transaction. */
static reqlog_err move(pg_shipper *s, const batch *bt, char **cause) {
  char hid[24], last[24], inserted[24], end[24];
  hid_text(s, hid);
  const char *const p1[] = {hid};
  PGresult *res = NULL;
  reqlog_err e = pg_query(s->db, MOVE_SQL, 1, p1, &res, cause, "cannot insert the batch");
  if (e != REQLOG_OK)
    return e;
  snprintf(inserted, sizeof inserted, "%s", PQgetvalue(res, 0, 0));
  PQclear(res);
  snprintf(last, sizeof last, "%lld", (long long)bt->last_id);
  snprintf(end, sizeof end, "%lld", (long long)bt->last_end_us);
  const char *const p2[] = {hid, bt->origin, last, inserted, end};
  e = pg_query(s->db, STATE_SQL, 5, p2, &res, cause, "cannot record how far this history was shipped");
  PQclear(res);
  return e;
}

reqlog_err pg_ship_batch(pg_shipper *s, int *shipped, char **cause) {
  *shipped = 0;
  if (!pg_connected(s->db))
    return util_fail(cause, REQLOG_ERR_DB, "not connected to the store");
  int64_t shipped_id;
  reqlog_err e = pg_ship_shipped(s, &shipped_id, cause);
  batch bt;
  if (e == REQLOG_OK)
    e = read_batch(s, &bt, cause);
  if (e != REQLOG_OK || bt.rows == 0)
    return e;
  e = pg_partition_ensure_days(s->db, s->days, s->ndays, cause);
  if (e == REQLOG_OK && !s->staged && (e = pg_exec(s->db, STAGE_SQL, cause,
                                                   "cannot create the staging table")) == REQLOG_OK)
    s->staged = 1;
  if (e == REQLOG_OK)
    e = pg_exec(s->db, "BEGIN", cause, "cannot start the batch");
  if (e != REQLOG_OK)
    return e;
  /* under the history's lock: another shipper of this spool may have moved it on */
  int64_t now_id = 0;
  e = read_shipped(s, 1, &now_id, cause);
  if (e == REQLOG_OK && now_id != s->shipped_id) {
    PQclear(PQexec(s->db->conn, "ROLLBACK"));
    s->shipped_id = now_id;
    return REQLOG_OK; /* nothing shipped by us; the caller asks again */
  }
  if (e == REQLOG_OK)
    e = copy_in(s, cause);
  if (e == REQLOG_OK)
    e = pg_exec(s->db, DRAW_SQL, cause, "cannot number the batch");
  if (e == REQLOG_OK)
    e = move(s, &bt, cause);
  if (e == REQLOG_OK)
    e = pg_exec(s->db, "COMMIT", cause, "cannot commit the batch");
  if (e != REQLOG_OK) {
    if (pg_connected(s->db))
      PQclear(PQexec(s->db->conn, "ROLLBACK"));
    s->shipped_id = -1; /* whether a lost COMMIT happened: the store will say */
    if (strstr(*cause ? *cause : "", "no partition of relation"))
      pg_partition_forget(s->db);
    return e;
  }
  s->shipped_id = bt.last_id;
  *shipped = bt.rows;
  return REQLOG_OK;
}
