-- 003_origin.sql: where each call was recorded, and who this history is.
--
-- origin: the host (or the name given by REQLOG_ORIGIN / --origin) that recorded the
-- call, so that histories of several hosts can be told apart once they meet in a team
-- store (recorder/pg/, docs/design.md §9). Added with a constant default, so an existing
-- history is not rewritten: its rows read as recorded on this host, the name the
-- migration puts in place of the marker below (recorder/store/store_migrate.c). New rows
-- always name their origin. The column comes after the bodies (ALTER TABLE appends);
-- reading it walks a body's overflow pages only for bodies larger than a page (16 KiB).
ALTER TABLE calls ADD COLUMN origin TEXT NOT NULL DEFAULT '@local_origin@';

-- history_id: a random number naming this history file among all others, drawn once.
-- A team store keys the rows it receives by (history_id, id), so shipping the same row
-- twice stores it once.
INSERT INTO meta(name, value) VALUES ('history_id', (random() & 9223372036854775807) | 1);
