#!/bin/sh
# Runs every test binary of one build (unit, integration, then the fuzz corpus replays of
# fuzz/README.md) from the repo root, keeps each one's output in BUILD/test-logs/, and
# ends with "N passed, N failed".
# Usage: tests/run.sh BUILD_DIR
set -u
build=${1:-build}
logs="$build/test-logs"
mkdir -p "$logs"
passed=0
failed=0
failed_names=""
export REQLOG_TEST_BIN="$build/reqlog"
# LeakSanitizer needs ptrace, which some sandboxes forbid: keep leak checking where it works
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
for t in "$build"/tests/unit/test_* "$build"/tests/integration/test_* "$build"/tests/fuzz/replay_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  log="$logs/$name.log"
  echo "== $name ($build)"
  "$t" >"$log" 2>&1
  rc=$?
  cat "$log"
  # cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)..." for each group
  # a binary runs (test_proxy_upstream runs its cases twice, once per upstream client)
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
  p=${p:-0}
  f=${f:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    # crashed or a sanitizer stopped it: count the binary as one failure
    f=1
  fi
  passed=$((passed + p))
  failed=$((failed + f))
  [ "$f" -gt 0 ] && failed_names="$failed_names $name"
done
echo "$passed passed, $failed failed" > "$logs/summary"
if [ -n "$failed_names" ]; then
  echo "failed in $build:$failed_names"
fi
echo "$build: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
