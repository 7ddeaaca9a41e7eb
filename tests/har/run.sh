#!/bin/sh
# HAR checks with outside tools (tests/har/har.test.mjs, node's test runner): exported HARs
# validated by the npm har-validator package, and a HAR recorded by Playwright while
# headless Chromium loaded a local page imported with `reqlog import`. Builds nothing:
# uses BUILD_DIR/reqlog and BUILD_DIR/reqlog-testapi. Ends with "N passed, N failed",
# also written to BUILD_DIR/test-logs/har-summary.
# Usage: tests/har/run.sh BUILD_DIR        (from anywhere; needs `npm ci` in tests/har)
# Env: HAR_CHROMIUM (default /usr/bin/chromium).
set -u

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
mkdir -p "$build"
build=$(cd "$build" && pwd)
logs="$build/test-logs"
summary="$logs/har-summary"
mkdir -p "$logs"
rm -f "$summary"
tmp=""
api_pid=""

finish() { # finish PASSED FAILED
  echo "$1 passed, $2 failed" > "$summary"
  echo "har: took $(( $(date +%s) - started )) s"
  echo "$1 passed, $2 failed"
  [ "$2" -eq 0 ]
  exit $?
}

# A setup step failed: counts as one failed test, with the reason.
setup_fail() {
  echo "har: setup failed: $*" >&2
  [ -n "$tmp" ] && [ -s "$tmp/testapi.err" ] && tail -n 20 "$tmp/testapi.err" >&2
  finish 0 1
}

stop() { # stop PID: TERM, up to 5 s, then KILL
  [ -n "$1" ] || return 0
  kill -TERM "$1" 2>/dev/null || return 0
  i=0
  while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  return 0
}

cleanup() {
  stop "$api_pid"
  [ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

started=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/reqlog-har.XXXXXX") || { echo "har: mktemp failed" >&2; tmp=""; finish 0 1; }
chromium=${HAR_CHROMIUM:-/usr/bin/chromium}
[ -x "$build/reqlog" ] || setup_fail "$build/reqlog is missing (build it first)"
[ -x "$build/reqlog-testapi" ] || setup_fail "$build/reqlog-testapi is missing (build it first)"
command -v node >/dev/null 2>&1 || setup_fail "node is missing (scripts/deps.sh)"
[ -x "$chromium" ] || setup_fail "$chromium is missing (scripts/deps.sh installs Debian's chromium)"
[ -d "$here/node_modules/har-validator" ] && [ -d "$here/node_modules/playwright-core" ] ||
  setup_fail "tests/har/node_modules is missing (npm ci in tests/har)"

# the fake API, for calls to record and a page for Chromium to load
"$build/reqlog-testapi" --port 0 > "$tmp/testapi.out" 2> "$tmp/testapi.err" &
api_pid=$!
i=0
api_url=""
while [ $i -lt 150 ] && [ -z "$api_url" ]; do
  api_url=$(sed -n 's/^listening on \(http[^ ]*\).*/\1/p' "$tmp/testapi.out" 2>/dev/null | head -n 1)
  [ -n "$api_url" ] || { kill -0 "$api_pid" 2>/dev/null || break; sleep 0.1; }
  i=$((i + 1))
done
[ -n "$api_url" ] || setup_fail "reqlog-testapi did not print 'listening on URL'"

# node --test: spec output on the terminal, TAP (for the counts) into the logs
tap="$logs/har.tap"
rm -f "$tap"
(
  cd "$here" &&
    HAR_REQLOG="$build/reqlog" HAR_API_URL="$api_url" HAR_TMP="$tmp" HAR_CHROMIUM="$chromium" \
    TMPDIR="$tmp" \
    node --test --test-concurrency=1 --test-timeout=120000 \
      --test-reporter=spec --test-reporter-destination=stdout \
      --test-reporter=tap --test-reporter-destination="$tap" \
      har.test.mjs
)
rc=$?
passed=$(sed -n 's/^# pass \([0-9][0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -n 1)
failed=$(sed -n 's/^# fail \([0-9][0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -n 1)
passed=${passed:-0}
failed=${failed:-0}
# the runner itself failed (crash, bad file) without counting a failure: count one
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
finish "$passed" "$failed"
