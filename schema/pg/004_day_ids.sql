-- 004_day_ids.sql (PostgreSQL): the range of ids each day partition holds, so that the
-- newest page of a list (ORDER BY id DESC LIMIT n) is read from the one partition that
-- holds the newest ids, not from every day partition and its indexes at once
-- (recorder/pg/pg_newest.c). Ids follow arrival, not started_at: a call shipped late
-- lands in an old day with a new id, so which days hold the newest ids is kept here:
--   calls_day_ids  per UTC day (floored, started_at / 86400000000): the lowest and the
--                  highest id ever inserted into that day
-- Kept by a statement trigger on calls in the transaction of every insert, so a reader
-- sees it agree with the rows of its own snapshot. A DELETE leaves the bounds as they
-- are (they stay bounds: every id of the day is inside them); prune's DROP of a whole
-- day deletes the day's row (recorder/pg/pg_prune.c). Ids are never updated.

CREATE TABLE calls_day_ids (
  day    bigint NOT NULL PRIMARY KEY,
  min_id bigint NOT NULL,
  max_id bigint NOT NULL
);

CREATE FUNCTION reqlog_day_ids() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO calls_day_ids AS t (day, min_id, max_id)
    SELECT started_at / 86400000000 - (started_at % 86400000000 < 0)::int, min(id), max(id)
    FROM reqlog_rows GROUP BY 1 ORDER BY 1
    ON CONFLICT (day) DO UPDATE
      SET min_id = least(t.min_id, excluded.min_id), max_id = greatest(t.max_id, excluded.max_id);
  RETURN NULL;
END $$;

CREATE TRIGGER calls_day_ids_insert AFTER INSERT ON calls
  REFERENCING NEW TABLE AS reqlog_rows
  FOR EACH STATEMENT EXECUTE FUNCTION reqlog_day_ids();

CREATE FUNCTION reqlog_ids_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'calls: id is never updated (calls_day_ids bounds the ids of each day)';
END $$;
CREATE TRIGGER calls_ids_frozen BEFORE UPDATE OF id ON calls
  FOR EACH ROW EXECUTE FUNCTION reqlog_ids_frozen();

-- The rows already in the store (the trigger exists from here on; the lock keeps
-- inserts out until this transaction commits).
LOCK TABLE calls IN SHARE MODE;
INSERT INTO calls_day_ids (day, min_id, max_id)
  SELECT started_at / 86400000000 - (started_at % 86400000000 < 0)::int, min(id), max(id)
  FROM calls GROUP BY 1;
