-- 002_stats.sql (PostgreSQL): the rollups that make `stats` fast on the team store, the
-- same three tables as SQLite's schema/002_stats.sql with the same meanings, kept by
-- statement triggers on calls, so every way a row arrives (the shipper's batch, a bulk
-- load) or leaves (prune's DELETE of an edge day) moves them in the same transaction:
-- they never disagree with the rows of any snapshot. Prune's DROP of a whole day's
-- partition fires no trigger: it deletes the rollups of that day itself
-- (recorder/pg/pg_prune.c). Days are UTC days, minutes UTC minutes, both counted from
-- the epoch by integer division of started_at (microseconds), as in SQLite:
--   stats_minute  calls per (minute, key); key '' for calls sent without one
--   stats_day     calls per (day, status); status -1 for transport errors
--   stats_hist    answered calls per (day, duration bucket)
-- recorder/pg/pg_stats.c reads them for the whole days of a time range.

-- The duration bucket of recorder/store/histogram.h: the number of digits of duration_us
-- and its first three digits (negative durations count as 0). The store's one spelling
-- of it; tests/integration/test_backends.c checks that it agrees with histogram_bucket().
CREATE FUNCTION reqlog_hist_bucket(d bigint) RETURNS integer
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN length(greatest(d, 0)::text) * 1000 + substr(greatest(d, 0)::text, 1, 3)::integer;

CREATE TABLE stats_minute (
  minute bigint NOT NULL,
  key    text   NOT NULL,
  n      bigint NOT NULL,
  PRIMARY KEY (minute, key)
);

CREATE TABLE stats_day (
  day    bigint  NOT NULL,
  status integer NOT NULL,
  n      bigint  NOT NULL,
  PRIMARY KEY (day, status)
);

CREATE TABLE stats_hist (
  day    bigint  NOT NULL,
  bucket integer NOT NULL,
  n      bigint  NOT NULL,
  PRIMARY KEY (day, bucket)
);

-- Adds the rows an INSERT brought (reqlog_rows, its transition table) or takes back
-- those a DELETE removed, in the statement's transaction. Rows are upserted in key
-- order, so two transactions never wait on each other in a circle; counts that reach 0
-- are removed.
CREATE FUNCTION reqlog_stats_count() RETURNS trigger LANGUAGE plpgsql AS $$
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
  IF sign < 0 THEN
    DELETE FROM stats_minute WHERE n <= 0 AND (minute, key) IN
      (SELECT started_at / 60000000, coalesce(key, '') FROM reqlog_rows);
    DELETE FROM stats_day WHERE n <= 0 AND day IN
      (SELECT started_at / 86400000000 FROM reqlog_rows);
    DELETE FROM stats_hist WHERE n <= 0 AND day IN
      (SELECT started_at / 86400000000 FROM reqlog_rows);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER calls_stats_insert AFTER INSERT ON calls
  REFERENCING NEW TABLE AS reqlog_rows
  FOR EACH STATEMENT EXECUTE FUNCTION reqlog_stats_count();
CREATE TRIGGER calls_stats_delete AFTER DELETE ON calls
  REFERENCING OLD TABLE AS reqlog_rows
  FOR EACH STATEMENT EXECUTE FUNCTION reqlog_stats_count();

-- reqlog never updates what the rollups count; nobody else may either, or they would
-- disagree with the rows.
CREATE FUNCTION reqlog_stats_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'calls: started_at, status, duration_us and key are never updated'
    ' (stats_minute, stats_day and stats_hist count them)';
END $$;
CREATE TRIGGER calls_stats_frozen BEFORE UPDATE OF started_at, status, duration_us, key
  ON calls FOR EACH ROW EXECUTE FUNCTION reqlog_stats_frozen();

-- The rows already in the store.
INSERT INTO stats_minute (minute, key, n)
  SELECT started_at / 60000000, coalesce(key, ''), count(*) FROM calls GROUP BY 1, 2;
INSERT INTO stats_day (day, status, n)
  SELECT started_at / 86400000000, coalesce(status, -1), count(*) FROM calls GROUP BY 1, 2;
INSERT INTO stats_hist (day, bucket, n)
  SELECT started_at / 86400000000, reqlog_hist_bucket(duration_us), count(*) FROM calls
  WHERE status IS NOT NULL GROUP BY 1, 2;
