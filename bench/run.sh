#!/bin/sh
# Runs every benchmark of the recorder core; each prints its ratio against a baseline
# measured in the same run. Not a test: nothing here passes or fails on timing.
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
"$(dirname "$0")/proxy.sh" "$build"   # the recording proxy against nginx and mitmdump
