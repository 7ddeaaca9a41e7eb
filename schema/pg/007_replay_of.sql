-- 007_replay_of.sql (PostgreSQL): as SQLite's schema/007_replay_of.sql: the store id of
-- the call a replay was made from, resolved when shipped (like retry_of), else NULL.
ALTER TABLE calls ADD COLUMN replay_of bigint;
CREATE INDEX calls_replay_of ON calls (replay_of) WHERE replay_of IS NOT NULL;
