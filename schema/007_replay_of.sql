-- 007_replay_of.sql: a replayed call names the call it was replayed from (the dashboard's
-- Replay and "Edit and send", `reqlog replay`), so both details can link to each other.
-- NULL for every other call (and every call recorded before this migration).
ALTER TABLE calls ADD COLUMN replay_of INTEGER;
CREATE INDEX calls_replay_of ON calls(replay_of) WHERE replay_of IS NOT NULL;
