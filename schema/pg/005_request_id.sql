-- 005_request_id.sql: the API's request id of each call, as SQLite's 005_request_id.sql
-- (the same column, the same default list of headers, in the same order, for the rows
-- already here; shipped rows bring the spool's value). The index serves the request_id
-- filter.
ALTER TABLE calls ADD COLUMN request_id text;

-- The rows already here are filled after this transaction, one day partition at a time
-- (recorder/pg/pg_fill.c, which holds the expression): one UPDATE of every row held the
-- migration's transaction for over 10 minutes on 10M calls. reqlog_fill lists each day
-- partition that exists now (the work a migration left on it, design.md §9 Schema),
-- here with the highest id of the calls already in the store (ADD COLUMN above locked
-- calls, so no insert is in flight: every row up to that id came without the column,
-- every later one with its own value). pg_fill.c fills a partition, builds its part of
-- the indexes below and takes its row out, and drops the table once it is empty.
CREATE TABLE IF NOT EXISTS reqlog_fill (
  part text   PRIMARY KEY,   -- the day partition's name (pg_class.relname)
  top  bigint                -- fill the request id of its calls with id <= top; NULL:
                             -- only its part of the indexes made ON ONLY calls
);
INSERT INTO reqlog_fill (part, top)
  SELECT c.relname, (SELECT coalesce(max(id), 0) FROM calls)
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  WHERE i.inhparent = 'calls'::regclass
  ON CONFLICT (part) DO UPDATE SET top = excluded.top;

-- On the parent only: it is complete (valid) once every listed partition has attached
-- its own (made after its fill, so the fill's updates need not touch it); partitions
-- made later get theirs when they are made.
CREATE INDEX calls_request_id ON ONLY calls (request_id) WHERE request_id IS NOT NULL;
