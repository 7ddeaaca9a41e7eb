-- 006_notes.sql: what a developer adds to a recorded call: a note, tags and a pin
-- (`reqlog note|tag|pin`, the dashboard's detail; recorder/read/notes.c). Kept in their
-- own tables: the recorded row (calls) is never changed. The same tables, names and
-- meanings on a team store: schema/pg/006_notes.sql.
--
-- call_notes: one row per annotated call; a call with no note, no tag and no pin has
-- none. tags repeats call_tags as one text (sorted, comma-separated, NULL when none) so
-- a reader gets them with one lookup; the writer keeps both in one transaction.
CREATE TABLE call_notes (
  call_id    INTEGER PRIMARY KEY,
  pinned     INTEGER NOT NULL DEFAULT 0,
  tags       TEXT,
  note       TEXT,
  updated_at INTEGER NOT NULL
);
-- pinned: prune keeps these calls; the filter pinned= reads this index.
CREATE INDEX call_notes_pinned ON call_notes(pinned, call_id);

-- call_tags: one row per tag of a call, for the filter tag=.
CREATE TABLE call_tags (
  tag     TEXT NOT NULL,
  call_id INTEGER NOT NULL,
  PRIMARY KEY (tag, call_id)
) WITHOUT ROWID;
CREATE INDEX call_tags_call ON call_tags(call_id);
