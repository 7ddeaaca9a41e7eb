/* filter.h: the one filter model (docs/design.md §3 FILTERS) shared by the CLI, the web
 * API and the exporters; the public half is in reqlog.h (filter.c, filter_parse.c). This
 * half, filter_sql.c, turns a filter into SQL conditions over `calls AS c` with bound
 * values only, for the readers of this room. */
#ifndef REQLOG_FILTER_H
#define REQLOG_FILTER_H

#include "reqlog.h"
#include "read/sqlq.h"

/* Appends to Q one boolean SQL expression (in parentheses, "1" when F is NULL or empty)
 * that holds for the rows of `calls AS c` matching F. Relative times (since=15m) are
 * taken from NOW_US. `q` uses the calls_fts index (prefix match of each word) for ids up
 * to meta.fts_indexed and a substring scan (instr) above that mark, so it never misses a
 * row the indexer has not reached yet. */
void filter_sql(const reqlog_filter *f, int64_t now_us, sqlq *q);

/* Non-zero when F has no condition. */
int filter_is_empty(const reqlog_filter *f);

/* A copy of F (F NULL: an empty filter), freed with reqlog_filter_free(); NULL when out
 * of memory. */
reqlog_filter *filter_copy(const reqlog_filter *f);

/* Non-zero when F has a status filter. */
int filter_has_status(const reqlog_filter *f);

/* Non-zero when F matches text against a pattern (q, path), whose selectivity, and so
 * the best plan, depends on the very words: a server that caches plans should plan such
 * a query with its values each time. */
int filter_has_pattern(const reqlog_filter *f);

/* A query with `q` reads best from the full-text index in id order (the index walks its
 * rowids newest first and stops at the page's end) rather than testing every row against
 * the index's answer. The reader then runs two parts, whose rows are disjoint:
 *   FILTER_FTS_PART   the rows of calls_fts MATCH filter_fts_match() with rowid up to
 *                     meta.fts_indexed, joined to `calls AS c`, AND this condition;
 *   FILTER_TAIL_PART  the rows above the mark, this condition alone (a scan).
 * FILTER_ALL is filter_sql()'s one condition holding both. */
#define FILTER_FTS_MARK "coalesce((SELECT value FROM meta WHERE name = 'fts_indexed'), 0)"
typedef enum { FILTER_ALL, FILTER_FTS_PART, FILTER_TAIL_PART, FILTER_FIELD_PART } filter_part;
void filter_sql_part(const reqlog_filter *f, int64_t now_us, filter_part part, sqlq *q);

/* A status filter of several items (4xx,5xx; 422,429,error) reads best as one branch per
 * item, each an index equality walked in id order (c.status / 100 = k, c.status = code,
 * c.status IS NULL), merged: a single condition over them all makes SQLite sort every
 * matching row to find the newest page. filter_status_branches() is how many items F's
 * status filter has (0 when none); filter_sql_branch() is filter_sql() with the status
 * filter narrowed to item BRANCH. The items are disjoint. */
size_t filter_status_branches(const reqlog_filter *f);
void filter_sql_branch(const reqlog_filter *f, int64_t now_us, size_t branch, sqlq *q);

/* Likewise `field`: a page reads best from call_fields, whose (field, call_id) key gives
 * the calls of a field newest first, joined to `calls AS c` (no list of every call_id
 * of the field to sort: 0.04 vs 4.9 ms for field=email on 1M rows). FILTER_FIELD_PART is
 * the condition without the field filter, which the caller's join on call_fields.field
 * = filter_field() stands for. filter_field() is F's field, NULL when none. */
const char *filter_field(const reqlog_filter *f);

/* The MATCH text for calls_fts of F's q words the index can find (malloc'd), or NULL
 * when there is none (or on out of memory, then *OOM is set). */
char *filter_fts_match(const reqlog_filter *f, int *oom);

/* Non-zero when F has no condition but since/until (or none); *SINCE_US / *UNTIL_US then
 * hold the bounds at NOW_US: rows with SINCE_US <= started_at < UNTIL_US, INT64_MIN /
 * INT64_MAX when not given. */
int filter_time_range(const reqlog_filter *f, int64_t now_us, int64_t *since_us,
                      int64_t *until_us);

/* F's since/until at NOW_US, whatever else F holds: *SINCE_US / *UNTIL_US as in
 * filter_time_range(), INT64_MIN / INT64_MAX when not given (F NULL: neither). */
void filter_bounds(const reqlog_filter *f, int64_t now_us, int64_t *since_us,
                   int64_t *until_us);

#endif
