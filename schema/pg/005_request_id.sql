-- 005_request_id.sql: the API's request id of each call, as SQLite's 005_request_id.sql
-- (the same column, the same default list of headers, in the same order, for the rows
-- already here; shipped rows bring the spool's value). The index serves the request_id
-- filter; on the partitioned calls it is made on every day partition.
ALTER TABLE calls ADD COLUMN request_id text;

UPDATE calls SET request_id = (
  SELECT h.value ->> 1 FROM jsonb_array_elements(calls.response_headers::jsonb) AS h(value)
  WHERE jsonb_typeof(h.value) = 'array'
    AND lower(h.value ->> 0) IN ('x-request-id', 'request-id', 'x-amzn-requestid', 'x-trace-id')
    AND jsonb_typeof(h.value -> 1) = 'string'
    AND length(h.value ->> 1) BETWEEN 1 AND 256
    AND position('[REDACTED]' IN h.value ->> 1) = 0
  ORDER BY array_position(ARRAY['x-request-id', 'request-id', 'x-amzn-requestid', 'x-trace-id'],
                          lower(h.value ->> 0))
  LIMIT 1)
WHERE response_headers ILIKE '%id"%' AND left(ltrim(response_headers), 1) = '[';

CREATE INDEX calls_request_id ON calls (request_id) WHERE request_id IS NOT NULL;
