/* problems.h: failing calls grouped into problems (reqlog_problems, reqlog.h): the
 * grouping (problems.c) reads the rows a backend gives as an export source (export.h),
 * so SQLite (rs_problems, export_sqlite.c) and PostgreSQL (pg_read_problems) group the
 * same rows the same way. */
#ifndef REQLOG_READ_PROBLEMS_H
#define REQLOG_READ_PROBLEMS_H

#include <stdint.h>
#include "reqlog.h"
#include "read/export.h"

/* The filter a backend's source reads for F: F's copy with status 4xx,5xx,error added
 * when F has no status filter (with one, rows that did not fail are left out while
 * grouping). NULL when out of memory; free with reqlog_filter_free(). */
reqlog_filter *problems_filter(const reqlog_filter *f);

/* The columns the grouping reads. */
#define PROBLEMS_COLS                                                                     \
  (ROW_COL(RC_ID) | ROW_COL(RC_STARTED_AT) | ROW_COL(RC_METHOD) | ROW_COL(RC_PATH) |      \
   ROW_COL(RC_STATUS) | ROW_COL(RC_ERROR) | ROW_COL(RC_KEY) | ROW_COL(RC_ERROR_MESSAGE) | \
   ROW_COL(RC_ERROR_FIELDS))

/* Groups SRC's rows (opened with PROBLEMS_COLS) into *out, reqlog_problems()'s JSON; F
 * is the caller's filter (its since/until, at NOW_US, bound the sparklines). */
reqlog_err problems_run(const export_source *src, const reqlog_filter *f, int64_t now_us,
                        cJSON **out, char **cause);

#endif
