-- 005_request_id.sql: the API's request id of each call (X-Request-Id and the like: the
-- id a vendor's support desk asks for), the value of the first response header of a
-- list (recorder/base/reqid.h: REQID_DEFAULT, REQLOG_REQUEST_ID_HEADERS) that the call
-- carries, written by the writer with each new row. Existing rows get it from their
-- stored (redacted) response headers with the default list, in its order; a redacted
-- or empty value is no id. The headers are read through reqlog_unpack (004_compact.sql):
-- a history converted before this migration holds them packed. The index serves the request_id filter (an exact value);
-- rows without an id stay out of it.
ALTER TABLE calls ADD COLUMN request_id TEXT;

UPDATE calls SET request_id = (
  SELECT json_extract(h.value, '$[1]') FROM json_each(reqlog_unpack(calls.packed, calls.response_headers)) AS h
  WHERE json_type(h.value) = 'array'
    AND lower(json_extract(h.value, '$[0]'))
        IN ('x-request-id', 'request-id', 'x-amzn-requestid', 'x-trace-id')
    AND json_type(h.value, '$[1]') = 'text'
    AND length(json_extract(h.value, '$[1]')) BETWEEN 1 AND 256
    AND instr(json_extract(h.value, '$[1]'), '[REDACTED]') = 0
  ORDER BY CASE lower(json_extract(h.value, '$[0]'))
             WHEN 'x-request-id' THEN 0 WHEN 'request-id' THEN 1
             WHEN 'x-amzn-requestid' THEN 2 ELSE 3 END
  LIMIT 1)
WHERE json_valid(reqlog_unpack(packed, response_headers))
  AND json_type(reqlog_unpack(packed, response_headers)) = 'array'
  AND reqlog_unpack(packed, response_headers) LIKE '%id"%';

CREATE INDEX calls_request_id ON calls(request_id) WHERE request_id IS NOT NULL;
