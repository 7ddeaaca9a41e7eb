#!/bin/sh
# Adds up the summaries that tests/run.sh left for each build and prints the closing
# line of `make test`. Usage: tests/summary.sh BUILD_DIR...
set -u
passed=0
failed=0
for b in "$@"; do
  s=$(cat "$b/test-logs/summary" 2>/dev/null || echo "0 passed, 1 failed")
  p=$(echo "$s" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
  f=$(echo "$s" | sed -n 's/.*passed, \([0-9]*\) failed.*/\1/p')
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-1}))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
