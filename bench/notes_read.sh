#!/bin/sh
# notes_read.sh: what reading a call's notes, tags and pin with its row costs (the row
# model's three call_notes lookups, recorder/read/row.h ROW_NOTE_COLS, or the one join
# a SQLite export uses, ROW_NOTES_JOIN): the same SELECT over a generated history with and
# without them, in the same run, with 1 call in 200
# annotated. Prints the best of 5 of each and their ratio; nothing passes or fails.
# Usage: bench/notes_read.sh [ROWS] (default 200000; needs build/bench/gen_history, sqlite3)
set -eu
rows=${1:-200000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
db=$dir/h.db
build/bench/gen_history "$rows" "$db" >/dev/null
sqlite3 "$db" "INSERT INTO call_notes(call_id, pinned, tags, note, updated_at)
  SELECT id, 1, 'a,b', 'n', 0 FROM calls WHERE id % 200 = 1"
cols="c.id, c.started_at, c.method, c.url, c.host, c.path, c.status, c.error, c.duration_us,
 c.queued_us, c.dns_us, c.connect_us, c.tls_us, c.ttfb_us, c.key, c.attempt, c.retry_of,
 c.source, c.request_headers, c.response_headers, c.request_size, c.request_truncated,
 c.request_sha256, c.response_size, c.response_truncated, c.response_sha256, c.content_type,
 c.http_version, c.remote_ip, c.error_message, c.error_fields, c.origin"
notes=", coalesce((SELECT n.pinned FROM call_notes AS n WHERE n.call_id = c.id), 0),
 (SELECT n.tags FROM call_notes AS n WHERE n.call_id = c.id),
 (SELECT n.note FROM call_notes AS n WHERE n.call_id = c.id)"
best() { # best wall seconds of 5 runs of REPS times SQL, per run of SQL: best SQL REPS
  for i in 1 2 3 4 5; do
    { printf '.timer on\n.output /dev/null\n'; for r in $(seq "$2"); do printf '%s;\n' "$1"; done; } |
      sqlite3 "$db" 2>&1 | sed -n 's/^Run Time: real \([0-9.]*\).*/\1/p' |
      awk -v n="$2" '{ s += $1 } END { printf "%.6f\n", s / n }'
  done | sort -n | head -1
}
for what in "newest 50|200|ORDER BY c.id DESC LIMIT 50" \
            "4xx, newest 50|200|WHERE c.status / 100 = 4 ORDER BY c.id DESC LIMIT 50" \
            "every row (an export)|1|ORDER BY c.id"; do
  name=${what%%|*}
  rest=${what#*|}
  reps=${rest%%|*}
  tail=${rest#*|}
  a=$(best "SELECT $cols FROM calls AS c $tail" "$reps")
  b=$(best "SELECT $cols $notes FROM calls AS c $tail" "$reps")
  j=$(best "SELECT $cols, coalesce(n.pinned, 0), n.tags, n.note FROM calls AS c
    LEFT JOIN call_notes AS n ON n.call_id = c.id $tail" "$reps")
  echo "$name: without notes ${a}s, with (3 lookups) ${b}s, ratio" \
    "$(echo "$b $a" | awk '{printf "%.2f", $1 / $2}'); with (a join, as exports) ${j}s, ratio" \
    "$(echo "$j $a" | awk '{printf "%.2f", $1 / $2}')"
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
