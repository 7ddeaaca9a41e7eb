#!/bin/sh
# Adds up the summaries that tests/run.sh left for each build and prints the closing
# line of `make test`. Usage: tests/summary.sh BUILD_DIR...
set -u
passed=0
failed=0
# each build has the C suites' summary, the layout checks', the browser suite's and the HAR checks'; a missing one (an
# interrupted run, a build that failed) counts as a failure
for b in "$@"; do
  for f in summary layout-summary e2e-summary har-summary; do
    s=$(cat "$b/test-logs/$f" 2>/dev/null || echo "0 passed, 1 failed")
    p=$(echo "$s" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
    n=$(echo "$s" | sed -n 's/.*passed, \([0-9]*\) failed.*/\1/p')
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${n:-1}))
  done
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
