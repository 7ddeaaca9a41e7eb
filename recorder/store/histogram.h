/* histogram.h: the bucket of the duration histogram, defined once: the bucket keeps the
 * number of digits of a duration in microseconds and its first three digits
 * (length * 1000 + first three; negative durations count as 0), so a bucket is at most
 * 1% wide and durations under 1 ms are exact. histogram_bucket() is it in C (for the
 * rows stats read from calls itself); HISTOGRAM_BUCKET_SQL is it in SQL, for every
 * statement the library runs (the rollups of store_index.c). The triggers and the first
 * rollup of schema/002_stats.sql write the same expression out: they must keep working
 * from the plain sqlite3 shell, where neither a C function nor this macro exists;
 * tests/unit/test_store_histogram.c checks that all three agree. The team store
 * (PostgreSQL) has it as the SQL function reqlog_hist_bucket() of
 * schema/pg/002_stats.sql, checked against histogram_bucket() by
 * tests/integration/test_backends.c. */
#ifndef REQLOG_HISTOGRAM_H
#define REQLOG_HISTOGRAM_H

#include <stdint.h>

/* The number of buckets: digits (1..19) * 1000 + first three digits (0..999). */
#define HISTOGRAM_BUCKETS 20000

/* The bucket of duration D (µs). */
int histogram_bucket(int64_t d);

/* The bucket of the SQL expression D (a column name such as "duration_us" or
 * "old.duration_us"), as an SQL expression: a string literal to paste into a statement. */
#define HISTOGRAM_BUCKET_SQL(d) \
  "length(max(" d ", 0)) * 1000 + CAST(substr(max(" d ", 0), 1, 3) AS INTEGER)"

#endif
