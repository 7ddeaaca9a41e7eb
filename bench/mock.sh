#!/bin/sh
# `reqlog mock` on a generated history (bench/gen_history.c, MOCK_ROWS rows, default
# 100,000): the time until it is ready (every call read with its bodies through the
# library, deduplicated and indexed) against `reqlog export --format ndjson` of the same
# history (the same rows and bodies read and written out) in the same run, its peak RSS,
# and wrk (1 thread, 4 connections, MOCK_BENCH_SECONDS, default 5) on a request a recorded
# call answers and on one none does (the 404 naming the closest calls). Not a test:
# nothing here passes or fails on timing.
# Usage: bench/mock.sh BUILD_DIR
set -eu
build=${1:-build}
rows=${MOCK_ROWS:-100000}
seconds=${MOCK_BENCH_SECONDS:-5}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/reqlog-mock-bench-XXXXXX")
pid=""
cleanup() {
  [ -z "$pid" ] || { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
now() { date +%s.%N; }

echo "== mock: $rows generated calls, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$build/bench/gen_history" "$rows" "$tmp/h.db" >/dev/null
t0=$(now)
"$build/reqlog" --db "$tmp/h.db" export --format ndjson >/dev/null
t1=$(now)
"$build/reqlog" --db "$tmp/h.db" mock --listen 127.0.0.1:0 2>"$tmp/mock.log" &
pid=$!
while ! grep -q "mock: serving" "$tmp/mock.log"; do
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/mock.log"; exit 1; }
  sleep 0.05
done
t2=$(now)
url=$(sed -n 's/.* on \(http:[^ ]*\)$/\1/p' "$tmp/mock.log")
echo "$(sed -n 's/^mock: \(serving [0-9,]* recorded calls\).*/\1/p' "$tmp/mock.log") (distinct requests)"
awk -v e="$t1" -v s="$t0" -v r="$t2" 'BEGIN { printf "ready after %.2f s; export --format ndjson of the same: %.2f s (ratio %.1f)\n", r - e, e - s, (r - e) / (e - s) }'
echo "peak RSS $(awk '/VmHWM/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$pid/status")"
if command -v wrk >/dev/null; then
  for path in /public/v1/participants /public/v1/nothing/here; do
    printf '%-28s ' "$path"
    wrk -t1 -c4 -d"${seconds}s" "$url$path" | awk '/Requests\/sec/ { printf "%s req/s", $2 } /^ +Latency/ { lat = $2 } END { printf ", mean latency %s\n", lat }'
  done
else
  echo "wrk is not installed: no throughput"
fi
