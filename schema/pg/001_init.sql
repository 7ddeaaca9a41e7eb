-- 001_init.sql (PostgreSQL): the team store. The calls of many local histories (each an
-- ordinary reqlog SQLite file, its spool) copied here by `reqlog ship` (recorder/pg/).
-- Same columns, names and meanings as SQLite's calls (schema/001_init.sql and
-- 003_origin.sql): times are integer microseconds since the Unix epoch (UTC), headers
-- and error_fields the JSON text the spool stores. Applied by recorder/pg/pg_migrate.c
-- under an advisory lock, in one transaction with the row of reqlog_schema naming it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The id users see in the team store: grows with the order rows arrive in.
CREATE SEQUENCE calls_id_seq AS bigint;

CREATE TABLE calls (
  id                 bigint  NOT NULL DEFAULT nextval('calls_id_seq'),
  -- where the row came from: the spool's meta.history_id and the row's id there
  history_id         bigint  NOT NULL,
  spool_id           bigint  NOT NULL,
  origin             text    NOT NULL,
  started_at         bigint  NOT NULL,
  method             text    NOT NULL,
  url                text    NOT NULL,
  host               text    NOT NULL,
  path               text    NOT NULL,
  status             integer,
  error              text,
  duration_us        bigint  NOT NULL,
  queued_us          bigint  NOT NULL DEFAULT 0,
  dns_us             bigint,
  connect_us         bigint,
  tls_us             bigint,
  ttfb_us            bigint,
  key                text,
  attempt            integer NOT NULL DEFAULT 1,
  -- the id (here) of the call this one retried: resolved when shipped, NULL when that
  -- call is not in the store
  retry_of           bigint,
  source             text    NOT NULL,
  request_headers    text    NOT NULL DEFAULT '[]',
  response_headers   text    NOT NULL DEFAULT '[]',
  request_size       bigint  NOT NULL DEFAULT 0,
  request_truncated  boolean NOT NULL DEFAULT false,
  request_sha256     text,
  response_size      bigint  NOT NULL DEFAULT 0,
  response_truncated boolean NOT NULL DEFAULT false,
  response_sha256    text,
  content_type       text,
  http_version       text,
  remote_ip          text,
  error_message      text,
  error_fields       text,
  -- the field names of error_fields (SQLite's call_fields), for field=
  error_field_list   text[],
  -- a stored body is in exactly one of these: text when it is valid UTF-8 without NUL,
  -- else bytes
  request_body       text,
  request_body_bin   bytea,
  response_body      text,
  response_body_bin  bytea,
  PRIMARY KEY (started_at, id),
  -- shipping the same spool row again stores nothing
  UNIQUE (history_id, spool_id, started_at)
) PARTITION BY RANGE (started_at);
-- q's columns keep a histogram of 20 values, not 100: the planner tries an ILIKE pattern
-- on every histogram value of every day partition, ~45 ms of planning per q on 31 days
-- with 100, ~9 ms with 20, and the plans for a rare and a common word stay right
-- (bench/pg.sh). pg_partition.c gives each new partition the same (it is not inherited).
ALTER TABLE calls ALTER COLUMN url SET STATISTICS 20, ALTER COLUMN request_body SET STATISTICS 20,
  ALTER COLUMN response_body SET STATISTICS 20;
-- One partition per UTC day, calls_YYYYMMDD, FOR VALUES FROM (day start) TO (next day
-- start) in microseconds: created ahead by whoever inserts (recorder/pg/pg_partition.c),
-- dropped whole by prune.

CREATE INDEX calls_started ON calls (started_at);
CREATE INDEX calls_id ON calls (id);
CREATE INDEX calls_status ON calls (status, started_at);
CREATE INDEX calls_key ON calls (key, started_at);
CREATE INDEX calls_path ON calls (path, started_at);
CREATE INDEX calls_host ON calls (lower(host), started_at);
CREATE INDEX calls_origin ON calls (origin, started_at);
CREATE INDEX calls_retry_of ON calls (retry_of) WHERE retry_of IS NOT NULL;
CREATE INDEX calls_fields ON calls USING gin (error_field_list) WHERE error_field_list IS NOT NULL;
-- q: every word an ILIKE '%word%' over url and the text bodies
CREATE INDEX calls_url_trgm ON calls USING gin (url gin_trgm_ops);
CREATE INDEX calls_request_body_trgm ON calls USING gin (request_body gin_trgm_ops);
CREATE INDEX calls_response_body_trgm ON calls USING gin (response_body gin_trgm_ops);

-- Per local history: how far it has been shipped. Updated in the transaction that
-- inserts the rows it covers, so a row is shipped exactly once.
CREATE TABLE ship_state (
  history_id   bigint PRIMARY KEY,
  origin       text   NOT NULL,      -- the origin of the newest row shipped
  shipped_id   bigint NOT NULL,      -- the highest spool id shipped
  rows         bigint NOT NULL,      -- rows shipped in all
  updated_at   bigint NOT NULL,      -- when the last batch was committed (microseconds)
  last_end_us  bigint NOT NULL       -- when the newest shipped row's call ended
);
