#!/bin/sh
# Runs every benchmark (the recorder core, the dashboard, the proxy, then the team store
# on PostgreSQL: bench/pg.sh); each prints its ratio against a baseline measured in the
# same run. Not a test: nothing here passes or fails on timing.
# Usage: bench/run.sh BUILD_DIR   (make bench)
set -eu
build=${1:-build}
out="$build/bench"
mkdir -p "$out"
echo "== machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo
"$build/bench/overhead" "${OVERHEAD_CALLS:-20000}" "$out/overhead.db"
echo
"$build/bench/ingest" "${INGEST_ROWS:-50000}" "$out"
rm -f "$out"/*.db "$out"/*.db-wal "$out"/*.db-shm
echo
# The dashboard server (reqlog serve) on a large generated history: bench/gen_history.c
# makes it once (WEB_ROWS rows, default 1,000,000: ~3.7 GB and ~4 minutes on 2 cores) into
# $out/history/, kept between runs and made again when older than 12 hours, since the
# since=24h queries follow the clock; bench/web.c measures on it (WEB_REQUESTS per list query).
web_rows=${WEB_ROWS:-1000000}
history="$out/history/history-$web_rows.db"
mkdir -p "$out/history"
if [ ! -s "$history" ] || [ -n "$(find "$history" -mmin +720)" ]; then
  "$build/bench/gen_history" "$web_rows" "$history.tmp"
  rm -f "$history-wal" "$history-shm"
  mv "$history.tmp" "$history"
  echo
fi
"$build/bench/web" "$build/reqlog" "$history" "${WEB_REQUESTS:-200}"
echo; "$(dirname "$0")/proxy.sh" "$build"   # the recording proxy against nginx and mitmdump
echo; "$(dirname "$0")/pg.sh" "$build"      # the team store on PostgreSQL (issue 12)
echo; "$(dirname "$0")/mock.sh" "$build"     # reqlog mock on a generated history
