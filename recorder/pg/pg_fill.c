/* pg_fill.c: what the migrations of schema/pg/ leave to do on each day partition that
 * existed when they ran (the table reqlog_fill lists them): the request id of the calls
 * that were in the store before the column (005_request_id.sql), and the partition's
 * part of the indexes made ON ONLY calls (005, 007, 008), one day partition at a time in
 * short transactions, so that a big store is not held in one transaction over every
 * row, an interrupted fill (kill -9 included) goes on where it stopped, and progress is
 * shown on a terminal (design.md §9 Schema).
 *
 * A day partition's calls are filled in rounds of at most one call per heap page each,
 * largest first, each round its own transaction: the first round's new row versions go
 * to other pages (no page has room), the next round's find the room the previous round
 * left once it committed (PostgreSQL prunes a page when it reads it full), so most calls
 * are updated on their own page (HOT: no index entry written, the trigram indexes
 * included) instead of every call written again into every index. The partition's part
 * of the indexes is built after its fill, for the same reason. */
#include "pg/pg_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

/* The request id of a call from its stored response headers (the alias p), exactly as
 * 005's single UPDATE computed it before it was split up and as SQLite's
 * 005_request_id.sql does: the first header of the default list, in the list's order,
 * whose value is a string of 1 to 256 characters that is not redacted. */
#define FILL_VALUE                                                                        \
  "(SELECT h.value ->> 1 FROM jsonb_array_elements(p.response_headers::jsonb) AS h(value)" \
  " WHERE jsonb_typeof(h.value) = 'array'"                                                \
  " AND lower(h.value ->> 0) IN ('x-request-id', 'request-id', 'x-amzn-requestid',"       \
  " 'x-trace-id')"                                                                        \
  " AND jsonb_typeof(h.value -> 1) = 'string'"                                            \
  " AND length(h.value ->> 1) BETWEEN 1 AND 256"                                          \
  " AND position('[REDACTED]' IN h.value ->> 1) = 0"                                      \
  " ORDER BY array_position(ARRAY['x-request-id', 'request-id', 'x-amzn-requestid',"      \
  " 'x-trace-id'], lower(h.value ->> 0)) LIMIT 1)"
/* The rows 005 filled: those whose headers may hold a candidate (a JSON array); a
 * printf format (the pattern is '%id"%'). */
#define FILL_WHERE \
  "p.response_headers ILIKE '%%id\"%%' AND left(ltrim(p.response_headers), 1) = '['"
/* A call's stored size, to fill the largest of a page first (a later, smaller one then
 * fits where it was); sizes as stored, nothing read from TOAST. */
#define FILL_SIZE                                                                          \
  "coalesce(pg_column_size(p.url), 0) + coalesce(pg_column_size(p.request_headers), 0)"    \
  " + coalesce(pg_column_size(p.response_headers), 0)"                                     \
  " + coalesce(pg_column_size(p.request_body), 0) + coalesce(pg_column_size(p.response_body), 0)" \
  " + coalesce(pg_column_size(p.request_body_bin), 0)"                                     \
  " + coalesce(pg_column_size(p.response_body_bin), 0)"                                    \
  " + coalesce(pg_column_size(p.error_fields), 0)"

typedef struct fill {
  pg_db *db;
  int tty;          /* progress on stderr */
  int64_t t0;       /* util_mono_us() at the start */
  int64_t parts;    /* day partitions left when this process started */
  int64_t done;     /* of which this process filled */
  int64_t calls;    /* calls it filled */
} fill;

/* One line, written over (\r): under 80 columns, so that a terminal does not wrap it. */
static void say_progress(const fill *f, double step_s) {
  if (!f->tty)
    return;
  double s = (double)(util_mono_us() - f->t0) / 1e6;
  fprintf(stderr, "\rreqlog: migrating the calls: day %lld / %lld (%.0f%%, %.0f s; the last %.1f s) ",
          (long long)f->done, (long long)f->parts,
          f->parts > 0 ? 100.0 * (double)f->done / (double)f->parts : 100.0, s, step_s);
  fflush(stderr);
}

/* Runs SQL and returns the integer in its first row and column (0 when NULL). */
static reqlog_err query_int(pg_db *db, const char *sql, int64_t *v, char **cause,
                            const char *what) {
  PGresult *res = NULL;
  *v = 0;
  reqlog_err e = pg_query(db, sql, 0, NULL, &res, cause, what);
  if (e == REQLOG_OK && PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
    *v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
  PQclear(res);
  return e;
}

/* The next partition to finish (its name malloc'd in *part, its bound in *top, -1 when
 * it has no request id to fill), or *part NULL when none is left; *left says how many
 * are. */
static reqlog_err next_part(pg_db *db, char **part, int64_t *top, int64_t *left,
                            char **cause) {
  PGresult *res = NULL;
  *part = NULL;
  reqlog_err e = pg_query(db, "SELECT part, top, count(*) OVER () FROM reqlog_fill"
                              " ORDER BY part LIMIT 1", 0, NULL, &res, cause,
                          "cannot read what is left of the migration of the day partitions");
  if (e != REQLOG_OK)
    return e;
  *left = 0;
  if (PQntuples(res) == 1) {
    *part = util_strdup(PQgetvalue(res, 0, 0));
    *top = PQgetisnull(res, 0, 1) ? -1 : strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    *left = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    if (!*part)
      e = util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  }
  PQclear(res);
  return e;
}

/* The SQL text FMT formats, in *out (malloc'd). */
static reqlog_err sqlf(char **out, char **cause, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
static reqlog_err sqlf(char **out, char **cause, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vasprintf(out, fmt, ap);
  va_end(ap);
  if (n < 0) {
    *out = NULL;
    return util_fail(cause, REQLOG_ERR_NOMEM, "out of memory");
  }
  return REQLOG_OK;
}

static reqlog_err exec_free(pg_db *db, char *sql, char **cause, const char *what) {
  reqlog_err e = sql ? pg_exec(db, sql, cause, what) : REQLOG_ERR_NOMEM;
  free(sql);
  return e;
}

/* Lists the calls of partition QP (quoted) up to TOP still to fill, with their value and
 * their round (rank by size within their heap page), in the session's temporary table
 * reqlog_fill_rows (analyzed, so that each round hashes its few calls rather than the
 * partition); *n and *rounds say how many and how many rounds. */
static reqlog_err list_rows(pg_db *db, const char *qp, int64_t top, int64_t *n,
                            int64_t *rounds, char **cause) {
  char *sql = NULL;
  reqlog_err e = sqlf(&sql, cause,
    "DROP TABLE IF EXISTS pg_temp.reqlog_fill_rows;"
    "CREATE TEMP TABLE reqlog_fill_rows AS"
    " SELECT tid, id, rid, row_number() OVER (PARTITION BY (tid::text::point)[0]"
    " ORDER BY size DESC, tid) AS rn"
    " FROM (SELECT p.ctid AS tid, p.id, " FILL_VALUE " AS rid, " FILL_SIZE " AS size"
    " FROM ONLY %s p WHERE p.id <= %" PRId64 " AND p.request_id IS NULL AND " FILL_WHERE
    ") s WHERE rid IS NOT NULL; ANALYZE pg_temp.reqlog_fill_rows", qp, top);
  if (e == REQLOG_OK)
    e = exec_free(db, sql, cause, "cannot list the calls whose request id is to fill");
  PGresult *res = NULL;
  if (e == REQLOG_OK)
    e = pg_query(db, "SELECT count(*), coalesce(max(rn), 0) FROM pg_temp.reqlog_fill_rows",
                 0, NULL, &res, cause, "cannot list the calls whose request id is to fill");
  if (e == REQLOG_OK) {
    *n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    *rounds = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
  }
  PQclear(res);
  return e;
}

/* Round K of partition QP in its own transaction. The join reads the partition (a
 * sequential scan, which prunes the pages the previous round left dead versions on)
 * rather than fetching each row by its ctid (which does not prune). */
static reqlog_err round_k(pg_db *db, const char *qp, int64_t k, char **cause) {
  char *sql = NULL;
  reqlog_err e = sqlf(&sql, cause,
    "BEGIN; SET LOCAL enable_nestloop = off; SET LOCAL enable_mergejoin = off;"
    " SET LOCAL enable_tidscan = off;"
    " UPDATE ONLY %s p SET request_id = f.rid FROM pg_temp.reqlog_fill_rows f"
    " WHERE f.rn = %" PRId64 " AND p.ctid = f.tid AND p.id = f.id AND p.request_id IS NULL;"
    " COMMIT", qp, k);
  return e == REQLOG_OK ? exec_free(db, sql, cause, "cannot fill the request ids") : e;
}

/* Builds, for each index made ON ONLY calls, the partition named by the setting
 * reqlog.fill_part its own (from the parent's definition, named PART plus the parent's
 * name after "calls") when it has none attached yet, and attaches it. */
static const char INDEX_PART_SQL[] =
  "DO $reqlog$ DECLARE part text := current_setting('reqlog.fill_part'); r record;"
  " BEGIN"
  " FOR r IN SELECT pi.relname AS parent, pg_get_indexdef(pi.oid) AS def"
  " FROM pg_index x JOIN pg_class pi ON pi.oid = x.indexrelid"
  " WHERE x.indrelid = 'calls'::regclass AND pi.relkind = 'I'"
  " AND NOT EXISTS (SELECT 1 FROM pg_inherits ih JOIN pg_index cx ON cx.indexrelid = ih.inhrelid"
  " WHERE ih.inhparent = pi.oid AND cx.indrelid = quote_ident(part)::regclass)"
  " ORDER BY 1 LOOP"
  " EXECUTE regexp_replace(r.def, '^CREATE (UNIQUE )?INDEX \\S+ ON ONLY \\S+ ',"
  " 'CREATE \\1INDEX ' || quote_ident(part || substr(r.parent, 6)) || ' ON ' || quote_ident(part) || ' ');"
  " EXECUTE 'ALTER INDEX ' || quote_ident(r.parent) || ' ATTACH PARTITION '"
  " || quote_ident(part || substr(r.parent, 6));"
  " END LOOP;"
  " END $reqlog$";

/* Partition PART's part of the indexes made ON ONLY calls, built and attached, and its
 * row out of reqlog_fill, in one transaction. */
static reqlog_err finish_part(pg_db *db, const char *part, char **cause) {
  const char *const params[] = {part};
  PGresult *res = NULL;
  reqlog_err e = pg_exec(db, "BEGIN", cause, "cannot index a day partition");
  if (e == REQLOG_OK) {
    e = pg_query(db, "SELECT set_config('reqlog.fill_part', $1, true)", 1, params, &res,
                 cause, "cannot index a day partition");
    PQclear(res);
  }
  if (e == REQLOG_OK)
    e = pg_exec(db, INDEX_PART_SQL, cause, "cannot index a day partition");
  if (e == REQLOG_OK) {
    e = pg_query(db, "DELETE FROM reqlog_fill WHERE part = $1", 1, params, &res, cause,
                 "cannot index a day partition");
    PQclear(res);
  }
  if (e == REQLOG_OK)
    e = pg_exec(db, "COMMIT", cause, "cannot index a day partition");
  return e;
}

/* Fills partition PART (up to TOP, nothing when TOP is -1), indexes it and takes it off
 * the list. */
static reqlog_err fill_part(fill *f, const char *part, int64_t top, char **cause) {
  pg_db *db = f->db;
  int64_t t0 = util_mono_us();
  char *lit = PQescapeLiteral(db->conn, part, strlen(part));
  char *qp = PQescapeIdentifier(db->conn, part, strlen(part));
  char *sql = NULL;
  int64_t exists = 0, n = 0, rounds = 0;
  reqlog_err e = lit && qp ? REQLOG_OK : pg_fail(db, NULL, cause, "cannot quote a name");
  if (e == REQLOG_OK)
    e = sqlf(&sql, cause, "SELECT (to_regclass(quote_ident(%s)) IS NOT NULL)::int", lit);
  if (e == REQLOG_OK) {
    e = query_int(db, sql, &exists, cause, "cannot find a day partition");
    free(sql);
  }
  if (e == REQLOG_OK && !exists) { /* dropped by prune meanwhile */
    e = sqlf(&sql, cause, "DELETE FROM reqlog_fill WHERE part = %s", lit);
    if (e == REQLOG_OK)
      e = exec_free(db, sql, cause, "cannot update the migration of the day partitions");
  } else if (e == REQLOG_OK) {
    if (top >= 0)
      e = list_rows(db, qp, top, &n, &rounds, cause);
    for (int64_t k = 1; e == REQLOG_OK && k <= rounds; k++)
      e = round_k(db, qp, k, cause);
    if (e == REQLOG_OK)
      e = finish_part(db, part, cause);
    if (e == REQLOG_OK)
      e = pg_exec(db, "DROP TABLE IF EXISTS pg_temp.reqlog_fill_rows", cause,
                  "cannot drop the list of calls filled");
    /* the new column's statistics: without them the planner takes `request_id = $1` to
     * match 0.5% of a day and walks the id index of every day for a page (3 minutes at
     * 10M) instead of looking the id up in its index; autovacuum would get there, later */
    if (e == REQLOG_OK && top >= 0) {
      e = sqlf(&sql, cause, "ANALYZE %s", qp);
      if (e == REQLOG_OK)
        e = exec_free(db, sql, cause, "cannot analyze a day partition");
    }
  }
  PQfreemem(lit);
  PQfreemem(qp);
  if (e == REQLOG_OK) {
    f->done++;
    f->calls += n;
    say_progress(f, (double)(util_mono_us() - t0) / 1e6);
  }
  return e;
}

/* Every partition left, under the fill's lock (held by this session). */
static reqlog_err fill_all(fill *f, char **cause) {
  reqlog_err e = REQLOG_OK;
  int64_t left = 0, top = 0;
  char *part = NULL;
  int first = 1;
  while (e == REQLOG_OK && (e = next_part(f->db, &part, &top, &left, cause)) == REQLOG_OK &&
         part) {
    if (first) {
      f->parts = left;
      first = 0;
    }
    e = fill_part(f, part, top, cause);
    free(part);
    part = NULL;
  }
  if (e == REQLOG_OK) /* done: what is left of it goes (another process may have done it) */
    e = pg_exec(f->db, "DROP TABLE IF EXISTS reqlog_fill", cause,
                "cannot end the migration of the day partitions");
  return e;
}

reqlog_err pg_fill_parts(pg_db *db, char **cause) {
  int64_t pending = 0;
  reqlog_err e = query_int(db, "SELECT (to_regclass('reqlog_fill') IS NOT NULL)::int",
                           &pending, cause, "cannot read the migration of the day partitions");
  if (e != REQLOG_OK || !pending)
    return e;
  fill f = {.db = db, .tty = isatty(2), .t0 = util_mono_us()};
  int64_t got = 0;
  e = query_int(db, "SELECT pg_try_advisory_lock(" PG_SQL(PG_LOCK_CLASS) ", "
                    PG_SQL(PG_LOCK_FILL) ")::int", &got, cause,
                "cannot start the migration of the day partitions");
  if (e == REQLOG_OK && !got) {
    if (f.tty)
      fprintf(stderr, "reqlog: another reqlog is migrating the calls already in the store; "
              "waiting for it\n");
    e = pg_exec(db, "SELECT pg_advisory_lock(" PG_SQL(PG_LOCK_CLASS) ", "
                    PG_SQL(PG_LOCK_FILL) ")", cause, "cannot wait for the migration of the day partitions");
  }
  if (e != REQLOG_OK)
    return e;
  /* the table may be gone now: the other process finished it */
  e = query_int(db, "SELECT (to_regclass('reqlog_fill') IS NOT NULL)::int",
                &pending, cause, "cannot read the migration of the day partitions");
  if (e == REQLOG_OK && pending)
    e = fill_all(&f, cause);
  if (e != REQLOG_OK && pg_connected(db) && PQtransactionStatus(db->conn) != PQTRANS_IDLE)
    PQclear(PQexec(db->conn, "ROLLBACK"));
  if (pg_connected(db))
    PQclear(PQexec(db->conn, "SELECT pg_advisory_unlock(" PG_SQL(PG_LOCK_CLASS) ", "
                             PG_SQL(PG_LOCK_FILL) ")"));
  if (f.tty && f.parts > 0)
    fprintf(stderr, "\nreqlog: %s: %lld request ids filled, %lld days indexed (%.0f s)\n",
            e == REQLOG_OK ? "the calls are migrated" : "the migration of the calls stopped",
            (long long)f.calls, (long long)f.done, (double)(util_mono_us() - f.t0) / 1e6);
  return e;
}
