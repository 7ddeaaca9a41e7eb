-- 007_replay_of.sql (PostgreSQL): as SQLite's schema/007_replay_of.sql: the store id of
-- the call a replay was made from, resolved when shipped (like retry_of), else NULL.
ALTER TABLE calls ADD COLUMN replay_of bigint;
-- Made on the parent only; each day partition's own is built and attached after this
-- transaction (recorder/pg/pg_fill.c, listed in reqlog_fill as 005_request_id.sql says):
-- building it here read every call of the store with calls locked.
CREATE INDEX calls_replay_of ON ONLY calls (replay_of) WHERE replay_of IS NOT NULL;
CREATE TABLE IF NOT EXISTS reqlog_fill (part text PRIMARY KEY, top bigint);
INSERT INTO reqlog_fill (part, top)
  SELECT c.relname, NULL FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  WHERE i.inhparent = 'calls'::regclass
  ON CONFLICT (part) DO NOTHING;
