-- 008_stats_cover.sql (PostgreSQL): the columns `stats` reads from the calls at the
-- partial hours of a range's two ends (recorder/pg/pg_stats.c's feed(): started_at,
-- status, duration_us, key) in one index on started_at, so those ends are index-only
-- scans instead of one heap fetch per call (each call's row is wide: headers and
-- bodies). At 10M calls a busy hour (31,000 calls) read through the started_at index
-- took ~300 ms, through this one a few ms. Made on every day partition; the heap is
-- skipped only on pages the visibility map marks all-visible (autovacuum keeps it, so
-- the newest minutes may still be fetched from the heap).
-- Made on the parent only; each day partition's own is built and attached after this
-- transaction (recorder/pg/pg_fill.c, listed in reqlog_fill as 005_request_id.sql says):
-- building it here read every call of the store with calls locked (63 s at 10M).
CREATE INDEX calls_started_stats ON ONLY calls (started_at) INCLUDE (status, duration_us, key);
CREATE TABLE IF NOT EXISTS reqlog_fill (part text PRIMARY KEY, top bigint);
INSERT INTO reqlog_fill (part, top)
  SELECT c.relname, NULL FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  WHERE i.inhparent = 'calls'::regclass
  ON CONFLICT (part) DO NOTHING;
