/* notes.h: notes, tags and pins of recorded calls (reqlog_annotate(), schema/006_notes.sql
 * and schema/pg/006_notes.sql): what a valid tag and note are, a change applied to what
 * a call has, and the SQL that reads and writes them, in either backend's dialect, so
 * SQLite (notes_sqlite.c) and PostgreSQL (pg/pg_notes.c) run the same statements. */
#ifndef REQLOG_READ_NOTES_H
#define REQLOG_READ_NOTES_H

#include <stddef.h>
#include <stdint.h>
#include "reqlog.h"
#include "read/sqlq.h"

enum {
  NOTES_TAG_MAX = 64,     /* bytes in one tag */
  NOTES_TAGS_MAX = 32,    /* tags on one call */
  NOTES_NOTE_MAX = 4000   /* bytes in a note */
};

/* Non-zero when S[0..LEN) is a tag: 1 to NOTES_TAG_MAX of A-Z a-z 0-9 . _ - : / +. */
int notes_tag_ok(const char *s, size_t len);

/* What a call has: PINNED 0 or 1, TAGS the sorted comma list (NULL: none), NOTE (NULL:
 * none). Strings malloc'd; notes_state_free() frees them. */
typedef struct notes_state {
  int pinned;
  char *tags;
  char *note;
} notes_state;
void notes_state_free(notes_state *s);

/* NEW = OLD changed by A (checked: REQLOG_ERR_ARG with *cause naming "note" or "tags",
 * NEW left empty). */
reqlog_err notes_apply(const notes_state *old, const reqlog_annotation *a, notes_state *new_,
                       char **cause);

/* SELECT c.id, pinned, tags, note of call ID (no row: no such call), into Q. */
void notes_read_sql(int64_t id, sqlq *q);

/* The statements that make call ID's notes S (NOW_US the time of the change), in Q's
 * dialect: Q[0] clears its tags, Q[1] adds S's tags (empty text when there is none: skip
 * it), Q[2] writes or deletes its call_notes row. The caller runs them in one
 * transaction after notes_read_sql() in the same, and frees each with sqlq_free(). */
enum { NOTES_WRITES = 3 };
void notes_write_sql(int64_t id, const notes_state *s, int64_t now_us, sqlq q[NOTES_WRITES]);

/* A backend's side of a change, inside the transaction it opened: READ runs
 * notes_read_sql()'s query into *OLD (REQLOG_ERR_NOTFOUND for no row), EXEC one write. */
typedef struct notes_ops {
  reqlog_err (*read)(void *ctx, sqlq *q, notes_state *old, char **cause);
  reqlog_err (*exec)(void *ctx, sqlq *q, char **cause);
} notes_ops;

/* reqlog_annotate()'s change A to call ID at NOW_US through OPS in DIALECT: what the call
 * has read, A applied, the result written. The caller commits on REQLOG_OK. */
reqlog_err notes_change(int64_t id, const reqlog_annotation *a, int64_t now_us,
                        sqlq_dialect dialect, const notes_ops *ops, void *ctx, char **cause);

#endif
