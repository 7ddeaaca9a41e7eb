-- 003_stats_hour.sql (PostgreSQL): rollups by the UTC hour, so `stats` reads only the
-- partial hours at the two ends of a time range from the calls (at most two hours of
-- rows) instead of the partial days (up to two days of rows). Same meanings as
-- 002_stats.sql's day tables, by hour (hours since the epoch: started_at / 3600000000):
--   stats_hour       calls per (hour, status); status -1 for transport errors
--   stats_hour_hist  answered calls per (hour, duration bucket)
-- The per-minute counts (stats_minute) already serve any range of whole minutes. Kept by
-- the same statement trigger as the day tables (reqlog_stats_count, replaced here), so
-- they agree with the rows of any snapshot; prune's DROP of a whole day deletes that
-- day's hours itself (recorder/pg/pg_prune.c). recorder/pg/pg_stats.c reads whole days
-- from the day tables and the whole hours around them from these.

CREATE TABLE stats_hour (
  hour   bigint  NOT NULL,
  status integer NOT NULL,
  n      bigint  NOT NULL,
  PRIMARY KEY (hour, status)
);

CREATE TABLE stats_hour_hist (
  hour   bigint  NOT NULL,
  bucket integer NOT NULL,
  n      bigint  NOT NULL,
  PRIMARY KEY (hour, bucket)
);

CREATE OR REPLACE FUNCTION reqlog_stats_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  sign bigint := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END;
BEGIN
  INSERT INTO stats_minute AS t (minute, key, n)
    SELECT started_at / 60000000, coalesce(key, ''), sign * count(*) FROM reqlog_rows
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (minute, key) DO UPDATE SET n = t.n + excluded.n;
  INSERT INTO stats_day AS t (day, status, n)
    SELECT started_at / 86400000000, coalesce(status, -1), sign * count(*) FROM reqlog_rows
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (day, status) DO UPDATE SET n = t.n + excluded.n;
  INSERT INTO stats_hist AS t (day, bucket, n)
    SELECT started_at / 86400000000, reqlog_hist_bucket(duration_us), sign * count(*)
    FROM reqlog_rows WHERE status IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (day, bucket) DO UPDATE SET n = t.n + excluded.n;
  INSERT INTO stats_hour AS t (hour, status, n)
    SELECT started_at / 3600000000, coalesce(status, -1), sign * count(*) FROM reqlog_rows
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (hour, status) DO UPDATE SET n = t.n + excluded.n;
  INSERT INTO stats_hour_hist AS t (hour, bucket, n)
    SELECT started_at / 3600000000, reqlog_hist_bucket(duration_us), sign * count(*)
    FROM reqlog_rows WHERE status IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (hour, bucket) DO UPDATE SET n = t.n + excluded.n;
  IF sign < 0 THEN
    DELETE FROM stats_minute WHERE n <= 0 AND (minute, key) IN
      (SELECT started_at / 60000000, coalesce(key, '') FROM reqlog_rows);
    DELETE FROM stats_day WHERE n <= 0 AND day IN
      (SELECT started_at / 86400000000 FROM reqlog_rows);
    DELETE FROM stats_hist WHERE n <= 0 AND day IN
      (SELECT started_at / 86400000000 FROM reqlog_rows);
    DELETE FROM stats_hour WHERE n <= 0 AND hour IN
      (SELECT started_at / 3600000000 FROM reqlog_rows);
    DELETE FROM stats_hour_hist WHERE n <= 0 AND hour IN
      (SELECT started_at / 3600000000 FROM reqlog_rows);
  END IF;
  RETURN NULL;
END $$;

-- The rows already in the store (the migration runs under the schema lock, in one
-- transaction with the trigger's new body: no insert is counted twice or missed).
LOCK TABLE calls IN SHARE MODE;
INSERT INTO stats_hour (hour, status, n)
  SELECT started_at / 3600000000, coalesce(status, -1), count(*) FROM calls GROUP BY 1, 2;
INSERT INTO stats_hour_hist (hour, bucket, n)
  SELECT started_at / 3600000000, reqlog_hist_bucket(duration_us), count(*) FROM calls
  WHERE status IS NOT NULL GROUP BY 1, 2;
