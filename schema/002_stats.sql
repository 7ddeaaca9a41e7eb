-- 002_stats.sql: what makes the dashboard's list and stats fast on a large history.
--
-- 1. calls_class: `status=4xx` becomes `c.status / 100 = 4`, an index equality whose
--    entries come in id order, so the newest matching page is read without a sort.
-- 2. calls_time replaces calls_started: the same started_at order, also covering the
--    columns stats need (status, duration_us, key), so the rows of a time range are
--    aggregated without reading the table.
-- 3. Rollups of the rows up to meta.fts_indexed, the mark the background indexer moves
--    (recorder/store/store_index.c): it adds the rows it indexes for search to these tables in the
--    same transaction, so recording pays nothing for them; rows above the mark are read
--    from calls itself (recorder/read/stats.c). Deleting or updating a row below the mark
--    (prune, the sqlite3 shell) takes it back through the triggers below, so the
--    rollups never disagree with the rows. Days are UTC days, minutes UTC minutes, both
--    counted from the epoch by integer division of started_at (microseconds):
--      stats_minute  calls per (minute, key); key '' for calls sent without one
--      stats_day     calls per (day, status); status -1 for transport errors
--      stats_hist    answered calls per (day, duration bucket): the bucket keeps the
--                    number of digits of duration_us and its first three digits
--                    (length * 1000 + first three), so a bucket is at most 1% wide
--                    and durations under 1 ms are exact. The bucket is defined once
--                    in recorder/store/histogram.h (HISTOGRAM_BUCKET_SQL for the
--                    library's statements, histogram_bucket() in C); this file writes
--                    the expression out because its triggers must also work from the
--                    plain sqlite3 shell, which has neither. Change all together:
--                    tests/unit/test_store_histogram.c checks that they agree.
--    Stats read them for the whole days of a time range and read calls_time for the
--    rest (see recorder/read/stats.c).
CREATE INDEX calls_class ON calls(status / 100);
DROP INDEX calls_started;
CREATE INDEX calls_time ON calls(started_at, status, duration_us, key);

CREATE TABLE stats_minute (
  minute INTEGER NOT NULL,
  key    TEXT    NOT NULL,
  n      INTEGER NOT NULL,
  PRIMARY KEY (minute, key)
) WITHOUT ROWID;

CREATE TABLE stats_day (
  day    INTEGER NOT NULL,
  status INTEGER NOT NULL,
  n      INTEGER NOT NULL,
  PRIMARY KEY (day, status)
) WITHOUT ROWID;

CREATE TABLE stats_hist (
  day    INTEGER NOT NULL,
  bucket INTEGER NOT NULL,
  n      INTEGER NOT NULL,
  PRIMARY KEY (day, bucket)
) WITHOUT ROWID;

INSERT INTO stats_minute(minute, key, n)
  SELECT started_at / 60000000, coalesce(key, ''), count(*) FROM calls
  WHERE id <= (SELECT value FROM meta WHERE name = 'fts_indexed') GROUP BY 1, 2;
INSERT INTO stats_day(day, status, n)
  SELECT started_at / 86400000000, coalesce(status, -1), count(*) FROM calls
  WHERE id <= (SELECT value FROM meta WHERE name = 'fts_indexed') GROUP BY 1, 2;
INSERT INTO stats_hist(day, bucket, n)
  SELECT started_at / 86400000000,
         length(max(duration_us, 0)) * 1000 + CAST(substr(max(duration_us, 0), 1, 3) AS INTEGER),
         count(*)
  FROM calls WHERE status IS NOT NULL
    AND id <= (SELECT value FROM meta WHERE name = 'fts_indexed') GROUP BY 1, 2;

CREATE TRIGGER calls_stats_delete AFTER DELETE ON calls
WHEN old.id <= (SELECT value FROM meta WHERE name = 'fts_indexed')
BEGIN
  UPDATE stats_minute SET n = n - 1
    WHERE minute = old.started_at / 60000000 AND key = coalesce(old.key, '');
  DELETE FROM stats_minute
    WHERE minute = old.started_at / 60000000 AND key = coalesce(old.key, '') AND n <= 0;
  UPDATE stats_day SET n = n - 1
    WHERE day = old.started_at / 86400000000 AND status = coalesce(old.status, -1);
  DELETE FROM stats_day
    WHERE day = old.started_at / 86400000000 AND status = coalesce(old.status, -1) AND n <= 0;
  UPDATE stats_hist SET n = n - 1
    WHERE old.status IS NOT NULL AND day = old.started_at / 86400000000
      AND bucket = length(max(old.duration_us, 0)) * 1000
                   + CAST(substr(max(old.duration_us, 0), 1, 3) AS INTEGER);
  DELETE FROM stats_hist
    WHERE old.status IS NOT NULL AND day = old.started_at / 86400000000
      AND bucket = length(max(old.duration_us, 0)) * 1000
                   + CAST(substr(max(old.duration_us, 0), 1, 3) AS INTEGER)
      AND n <= 0;
END;

-- An update of a counted column is taken back as the old row and counted as the new one.
CREATE TRIGGER calls_stats_update AFTER UPDATE OF started_at, status, duration_us, key ON calls
WHEN old.id <= (SELECT value FROM meta WHERE name = 'fts_indexed')
BEGIN
  UPDATE stats_minute SET n = n - 1
    WHERE minute = old.started_at / 60000000 AND key = coalesce(old.key, '');
  DELETE FROM stats_minute
    WHERE minute = old.started_at / 60000000 AND key = coalesce(old.key, '') AND n <= 0;
  UPDATE stats_day SET n = n - 1
    WHERE day = old.started_at / 86400000000 AND status = coalesce(old.status, -1);
  DELETE FROM stats_day
    WHERE day = old.started_at / 86400000000 AND status = coalesce(old.status, -1) AND n <= 0;
  UPDATE stats_hist SET n = n - 1
    WHERE old.status IS NOT NULL AND day = old.started_at / 86400000000
      AND bucket = length(max(old.duration_us, 0)) * 1000
                   + CAST(substr(max(old.duration_us, 0), 1, 3) AS INTEGER);
  DELETE FROM stats_hist
    WHERE old.status IS NOT NULL AND day = old.started_at / 86400000000
      AND bucket = length(max(old.duration_us, 0)) * 1000
                   + CAST(substr(max(old.duration_us, 0), 1, 3) AS INTEGER)
      AND n <= 0;
  INSERT INTO stats_minute(minute, key, n)
    VALUES (new.started_at / 60000000, coalesce(new.key, ''), 1)
    ON CONFLICT(minute, key) DO UPDATE SET n = n + 1;
  INSERT INTO stats_day(day, status, n)
    VALUES (new.started_at / 86400000000, coalesce(new.status, -1), 1)
    ON CONFLICT(day, status) DO UPDATE SET n = n + 1;
  INSERT INTO stats_hist(day, bucket, n)
    SELECT new.started_at / 86400000000,
           length(max(new.duration_us, 0)) * 1000
             + CAST(substr(max(new.duration_us, 0), 1, 3) AS INTEGER), 1
    WHERE new.status IS NOT NULL
    ON CONFLICT(day, bucket) DO UPDATE SET n = n + 1;
END;
