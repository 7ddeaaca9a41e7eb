/* filter.h: the one filter model (DESIGN.md §3 FILTERS) shared by the CLI, the web API
 * and the exporters; the public half is in reqlog.h. This half turns a filter into SQL
 * conditions over `calls AS c` with bound values only. */
#ifndef REQLOG_FILTER_H
#define REQLOG_FILTER_H

#include "reqlog.h"
#include "sqlq.h"

/* Appends to Q one boolean SQL expression (in parentheses, "1" when F is NULL or empty)
 * that holds for the rows of `calls AS c` matching F. Relative times (since=15m) are
 * taken from NOW_US. `q` uses the calls_fts index (prefix match of each word) for ids up
 * to meta.fts_indexed and a substring scan (instr) above that mark, so it never misses a
 * row the indexer has not reached yet. */
void filter_sql(const reqlog_filter *f, int64_t now_us, sqlq *q);

/* Non-zero when F has no condition. */
int filter_is_empty(const reqlog_filter *f);

#endif
