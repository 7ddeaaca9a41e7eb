-- 003_stats_hour.sql (PostgreSQL): rollups by the UTC hour, so `stats` reads only the
-- partial hours at the two ends of a time range from the calls (at most two hours of
-- rows) instead of the partial days (up to two days of rows), and the keys of whole
-- days without going through their minutes. Same meanings as 002_stats.sql's day
-- tables, by hour (hours since the epoch: started_at / 3600000000):
--   stats_hour       calls per (hour, status); status -1 for transport errors
--   stats_hour_hist  answered calls per (hour, duration bucket)
--   stats_day_key    calls per (day, key) and the most calls of that key in one minute
--                    of that day (peak; its stats_minute row's n): a whole month's
--                    keys are 30 rows per key, not 43,200
--   stats_minute_all calls per minute, all keys together: a month's chart sums 43,200
--                    rows, not one per minute and key
-- The per-minute counts (stats_minute) serve any range of whole minutes. A range
-- of hours is read by its primary key, so the rows of one hour lie together: filled in
-- key order below, and each page keeps room (fillfactor) for the trigger's updates to
-- stay on it (a scattered histogram read 20 times slower). Kept by statement triggers
-- like the day tables, so they agree with the rows of any snapshot (002_stats.sql's
-- refusal of updates to the counted columns covers them too); prune's DROP of a whole
-- day deletes that day's rows itself (recorder/pg/pg_prune.c). recorder/pg/pg_stats.c
-- reads whole days from the day tables (and stats_day_key, stats_minute_all) and the
-- whole hours around them from these.

CREATE TABLE stats_hour (
  hour   bigint  NOT NULL,
  status integer NOT NULL,
  n      bigint  NOT NULL,
  PRIMARY KEY (hour, status)
) WITH (fillfactor = 70);

CREATE TABLE stats_hour_hist (
  hour   bigint  NOT NULL,
  bucket integer NOT NULL,
  n      bigint  NOT NULL,
  PRIMARY KEY (hour, bucket)
) WITH (fillfactor = 70);

CREATE TABLE stats_day_key (
  day  bigint NOT NULL,
  key  text   NOT NULL,
  n    bigint NOT NULL,
  peak bigint NOT NULL,
  PRIMARY KEY (day, key)
) WITH (fillfactor = 70);

CREATE TABLE stats_minute_all (
  minute bigint NOT NULL PRIMARY KEY,
  n      bigint NOT NULL
) WITH (fillfactor = 70);

-- Adds the rows an INSERT brought (reqlog_rows, its transition table) or takes back
-- those a DELETE removed, in the statement's transaction, after 002_stats.sql's trigger
-- of the same statement (PostgreSQL fires the triggers of one event in the order of
-- their names: calls_stats_insert, then calls_stats_more_insert), so stats_minute
-- already holds the new counts that the day's peaks come from. Rows are upserted in key
-- order, so two transactions never wait on each other in a circle; counts that reach 0
-- are removed.
CREATE FUNCTION reqlog_stats_more() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  sign bigint := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END;
BEGIN
  INSERT INTO stats_minute_all AS t (minute, n)
    SELECT started_at / 60000000, sign * count(*) FROM reqlog_rows GROUP BY 1 ORDER BY 1
    ON CONFLICT (minute) DO UPDATE SET n = t.n + excluded.n;
  -- an insert only raises a day's peak; a delete finds it again below
  INSERT INTO stats_day_key AS t (day, key, n, peak)
    SELECT r.minute / 1440, r.key, sign * sum(r.n), coalesce(max(m.n), 0)
    FROM (SELECT started_at / 60000000 AS minute, coalesce(key, '') AS key, count(*) AS n
          FROM reqlog_rows GROUP BY 1, 2) AS r
    LEFT JOIN stats_minute AS m USING (minute, key) -- (a delete may have emptied the minute)
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (day, key) DO UPDATE SET n = t.n + excluded.n, peak = greatest(t.peak, excluded.peak);
  INSERT INTO stats_hour AS t (hour, status, n)
    SELECT started_at / 3600000000, coalesce(status, -1), sign * count(*) FROM reqlog_rows
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (hour, status) DO UPDATE SET n = t.n + excluded.n;
  INSERT INTO stats_hour_hist AS t (hour, bucket, n)
    SELECT started_at / 3600000000, reqlog_hist_bucket(duration_us), sign * count(*)
    FROM reqlog_rows WHERE status IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (hour, bucket) DO UPDATE SET n = t.n + excluded.n;
  IF sign < 0 THEN
    DELETE FROM stats_minute_all WHERE n <= 0 AND minute IN
      (SELECT started_at / 60000000 FROM reqlog_rows);
    DELETE FROM stats_hour WHERE n <= 0 AND hour IN
      (SELECT started_at / 3600000000 FROM reqlog_rows);
    DELETE FROM stats_hour_hist WHERE n <= 0 AND hour IN
      (SELECT started_at / 3600000000 FROM reqlog_rows);
    DELETE FROM stats_day_key WHERE n <= 0 AND (day, key) IN
      (SELECT started_at / 86400000000, coalesce(key, '') FROM reqlog_rows);
    UPDATE stats_day_key AS t SET peak = (SELECT coalesce(max(m.n), 0) FROM stats_minute AS m
      WHERE m.minute >= t.day * 1440 AND m.minute < (t.day + 1) * 1440 AND m.key = t.key)
      WHERE (t.day, t.key) IN (SELECT started_at / 86400000000, coalesce(key, '') FROM reqlog_rows);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER calls_stats_more_insert AFTER INSERT ON calls
  REFERENCING NEW TABLE AS reqlog_rows
  FOR EACH STATEMENT EXECUTE FUNCTION reqlog_stats_more();
CREATE TRIGGER calls_stats_more_delete AFTER DELETE ON calls
  REFERENCING OLD TABLE AS reqlog_rows
  FOR EACH STATEMENT EXECUTE FUNCTION reqlog_stats_more();

-- The rows already in the store (the migration runs under the schema lock, in one
-- transaction with the trigger's new body: no insert is counted twice or missed).
LOCK TABLE calls IN SHARE MODE;
INSERT INTO stats_hour (hour, status, n)
  SELECT started_at / 3600000000, coalesce(status, -1), count(*) FROM calls GROUP BY 1, 2
  ORDER BY 1, 2;
INSERT INTO stats_hour_hist (hour, bucket, n)
  SELECT started_at / 3600000000, reqlog_hist_bucket(duration_us), count(*) FROM calls
  WHERE status IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2;
INSERT INTO stats_day_key (day, key, n, peak)
  SELECT minute / 1440, key, sum(n), max(n) FROM stats_minute GROUP BY 1, 2 ORDER BY 1, 2;
INSERT INTO stats_minute_all (minute, n)
  SELECT minute, sum(n) FROM stats_minute GROUP BY 1 ORDER BY 1;
ANALYZE stats_hour, stats_hour_hist, stats_day_key, stats_minute_all;
