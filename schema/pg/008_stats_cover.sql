-- 008_stats_cover.sql (PostgreSQL): the columns `stats` reads from the calls at the
-- partial hours of a range's two ends (recorder/pg/pg_stats.c's feed(): started_at,
-- status, duration_us, key) in one index on started_at, so those ends are index-only
-- scans instead of one heap fetch per call (each call's row is wide: headers and
-- bodies). At 10M calls a busy hour (31,000 calls) read through the started_at index
-- took ~300 ms, through this one a few ms. Made on every day partition; the heap is
-- skipped only on pages the visibility map marks all-visible (autovacuum keeps it, so
-- the newest minutes may still be fetched from the heap).
CREATE INDEX calls_started_stats ON calls (started_at) INCLUDE (status, duration_us, key);
