-- 004_compact.sql: a third of the disk for the same history (issue 13, docs/design.md §10).
--
-- packed: 1 when the row's header JSON and bodies are packed with zstd
-- (recorder/store/store_pack.c): every row the writer writes from now on; the rows
-- already here (0: the default, nothing is rewritten by this statement) are packed by
-- the conversion below. The metadata columns are never packed, so the sqlite3 shell
-- still filters on them.
ALTER TABLE calls ADD COLUMN packed INTEGER NOT NULL DEFAULT 0;

-- The zstd dictionaries values are packed with, trained on the history's own values
-- (recorder/store/store_dict.c): on the rows sampled_from <= id <= trained_at (the
-- highest row id when it was trained); an empty dict records an attempt that made none.
-- A dictionary is never changed; prune deletes one that holds text of a row it deletes
-- (its values packed again with a new one first). AUTOINCREMENT: an id is never used
-- twice, so a reader that keeps a dictionary it loaded never takes it for another.
CREATE TABLE zdict (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  trained_at   INTEGER NOT NULL,
  sampled_from INTEGER NOT NULL,
  dict         BLOB    NOT NULL
);

-- The search index keeps only which rows hold each trigram (detail=none), not where:
-- a third or less of the size. It finds candidates; `q` checks each against the
-- unpacked text (recorder/read/filter_sql.c), so q's meaning is unchanged.
-- columnsize=0: no per-row token counts (only ranking functions, which q never uses,
-- read them).
DROP TABLE calls_fts;
CREATE VIRTUAL TABLE calls_fts USING fts5(
  url, request_body, response_body,
  content='', tokenize='trigram', detail='none', columnsize=0
);

-- Indexes only where a query of the dashboard (bench/web) uses them: `status=422` walks
-- calls_class (status / 100, in id order) and checks the code on the rows of its class
-- (recorder/read/filter_sql.c), as fast for a page, so calls_status goes (1M rows: 12 MB).
DROP INDEX calls_status;

-- Every row is indexed, rolled up and packed again from the start by the indexer's own
-- catch-up, in chunks that each commit with the mark: an interrupted conversion goes
-- on from the last chunk (recorder/store/store_migrate.c runs it to the end with
-- progress; any recording process's idle writer would too). Until then, rows above the
-- mark are searched by scan and counted from calls, as ever.
DELETE FROM stats_minute;
DELETE FROM stats_day;
DELETE FROM stats_hist;
UPDATE meta SET value = 0 WHERE name = 'fts_indexed';
-- The conversion's end (for its progress), removed when it is done and the file compacted.
INSERT INTO meta(name, value) SELECT 'compact_top', max(id) FROM calls WHERE id IS NOT NULL
  HAVING max(id) IS NOT NULL;
