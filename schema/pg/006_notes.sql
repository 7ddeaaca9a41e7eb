-- 006_notes.sql (PostgreSQL): notes, tags and pins of the team store's calls, as
-- SQLite's schema/006_notes.sql: their own tables, the recorded rows never changed.
-- call_id is the store id (calls.id). No foreign key (calls is partitioned by
-- started_at): prune deletes the notes of the calls it deletes (pg_prune.c).
CREATE TABLE call_notes (
  call_id    bigint  PRIMARY KEY,
  pinned     integer NOT NULL DEFAULT 0,
  tags       text,
  note       text,
  updated_at bigint  NOT NULL
);
CREATE INDEX call_notes_pinned ON call_notes (pinned, call_id);

CREATE TABLE call_tags (
  tag     text   NOT NULL,
  call_id bigint NOT NULL,
  PRIMARY KEY (tag, call_id)
);
CREATE INDEX call_tags_call ON call_tags (call_id);
