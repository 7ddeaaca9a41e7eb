-- 001_init.sql: the recorded-calls table, its indexes, the full-text index and the
-- shared rate-limiter log. Times are integer microseconds (started_at: since the Unix
-- epoch, UTC); bodies are stored as TEXT when valid UTF-8, as BLOB otherwise.
CREATE TABLE calls (
  id                 INTEGER PRIMARY KEY,
  started_at         INTEGER NOT NULL,
  method             TEXT    NOT NULL,
  url                TEXT    NOT NULL,
  host               TEXT    NOT NULL,
  path               TEXT    NOT NULL,
  status             INTEGER,
  error              TEXT,
  duration_us        INTEGER NOT NULL,
  queued_us          INTEGER NOT NULL DEFAULT 0,
  dns_us             INTEGER,
  connect_us         INTEGER,
  tls_us             INTEGER,
  ttfb_us            INTEGER,
  key                TEXT,
  attempt            INTEGER NOT NULL DEFAULT 1,
  retry_of           INTEGER,
  source             TEXT    NOT NULL,
  request_headers    TEXT    NOT NULL DEFAULT '[]',
  response_headers   TEXT    NOT NULL DEFAULT '[]',
  request_size       INTEGER NOT NULL DEFAULT 0,
  request_truncated  INTEGER NOT NULL DEFAULT 0,
  request_sha256     TEXT,
  response_size      INTEGER NOT NULL DEFAULT 0,
  response_truncated INTEGER NOT NULL DEFAULT 0,
  response_sha256    TEXT,
  content_type       TEXT,
  http_version       TEXT,
  remote_ip          TEXT,
  error_message      TEXT,
  error_fields       TEXT,
  -- bodies last, so a row read without them never walks their overflow pages; declared
-- BLOB for no type affinity: text stays text ("007" is not turned into 7), binary stays binary
  request_body       BLOB,
  response_body      BLOB
);
CREATE INDEX calls_started ON calls(started_at);
CREATE INDEX calls_status ON calls(status);
CREATE INDEX calls_key ON calls(key);
CREATE INDEX calls_path ON calls(path);
CREATE INDEX calls_retry_of ON calls(retry_of) WHERE retry_of IS NOT NULL;

-- One row per 422 error field so `field=email` is an index lookup.
CREATE TABLE call_fields (
  call_id INTEGER NOT NULL,
  field   TEXT    NOT NULL,
  PRIMARY KEY (field, call_id)
) WITHOUT ROWID;

-- Full-text index over URL and text bodies, contentless, trigram: a query word of 3 or
-- more characters matches as a case-insensitive substring, the same meaning as the scan
-- used for rows above meta.fts_indexed (the writer thread fills the index in the
-- background up to that mark).
CREATE VIRTUAL TABLE calls_fts USING fts5(
  url, request_body, response_body,
  content='', tokenize='trigram'
);

CREATE TABLE meta (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta(name, value) VALUES ('fts_indexed', 0);

-- Rate limiter: one row per admitted request, per key fingerprint; shared by every
-- process that records into this database.
CREATE TABLE ratelimit (
  key TEXT    NOT NULL,
  at  INTEGER NOT NULL
);
CREATE INDEX ratelimit_key_at ON ratelimit(key, at);
