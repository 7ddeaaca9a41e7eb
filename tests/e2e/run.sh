#!/bin/sh
# End-to-end tests of the dashboard in headless Chromium (playwright-core), driven by
# node's built-in test runner. Builds nothing: uses BUILD_DIR/reqlog and
# BUILD_DIR/reqlog-testapi. Seeds a temporary database (the demo plus calls carrying an
# XSS payload, and one recorded with another --origin), serves it with `reqlog serve` on
# a free loopback port, runs the tests, stops everything, writes "N passed, N failed"
# to BUILD_DIR/test-logs/e2e-summary and prints it. Failing tests leave screenshots in BUILD_DIR/e2e-screenshots/; the TAP
# report and the server's stderr stay in BUILD_DIR/test-logs/e2e.tap, e2e-serve.log.
# Usage: tests/e2e/run.sh BUILD_DIR        (from anywhere; needs scripts/deps.sh done)
# Env: E2E_CHROMIUM (default /usr/bin/chromium), E2E_TESTS (test files, default all).
set -u

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
mkdir -p "$build"
build=$(cd "$build" && pwd)
logs="$build/test-logs"
shots="$build/e2e-screenshots"
summary="$logs/e2e-summary"
mkdir -p "$logs"
rm -rf "$shots"
rm -f "$summary"

KEY=sk_test_4f9a2c7e1b8d6053alpha
tmp=""
api_pid=""
srv_pid=""
node_pid=""
demo_pid=""

finish() { # finish PASSED FAILED
  echo "$1 passed, $2 failed" > "$summary"
  echo "e2e: $1 passed, $2 failed"
  [ "$2" -eq 0 ]
  exit $?
}

# A setup step failed: counts as one failed test, with the reason and the logs.
setup_fail() {
  echo "e2e: setup failed: $*" >&2
  for f in "$tmp"/*.out "$tmp"/*.err; do
    [ -s "$f" ] && { echo "--- $(basename "$f")" >&2; tail -n 20 "$f" >&2; }
  done
  finish 0 1
}

# alive PID: running (an exited child stays a zombie until waited for: not alive)
alive() {
  [ -r "/proc/$1/stat" ] || return 1
  st=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null)
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

stop() { # stop PID: TERM, up to 5 s, then KILL; returns the exit status
  [ -n "$1" ] || return 0
  kill -TERM "$1" 2>/dev/null
  i=0
  while alive "$1" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  alive "$1" && kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}

cleanup() {
  if [ -n "$node_pid" ]; then # interrupted: the whole test process group
    kill -TERM -- "-$node_pid" 2>/dev/null || kill -TERM "$node_pid" 2>/dev/null
    stop "$node_pid"
  fi
  stop "$srv_pid"
  stop "$demo_pid"
  stop "$api_pid"
  [ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_line FILE PATTERN PID: until FILE has a line matching PATTERN (sed -n script that
# prints the wanted part), PID still alive, at most 15 s; prints the match.
wait_line() {
  i=0
  while [ $i -lt 150 ]; do
    v=$(sed -n "$2" "$1" 2>/dev/null | head -n 1)
    [ -n "$v" ] && { echo "$v"; return 0; }
    alive "$3" || return 1
    sleep 0.1
    i=$((i + 1))
  done
  return 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/reqlog-e2e.XXXXXX") || { echo "e2e: mktemp failed" >&2; finish 0 1; }
chromium=${E2E_CHROMIUM:-/usr/bin/chromium}
[ -x "$build/reqlog" ] || setup_fail "$build/reqlog is missing (build it first)"
[ -x "$build/reqlog-testapi" ] || setup_fail "$build/reqlog-testapi is missing (build it first)"
command -v node >/dev/null 2>&1 || setup_fail "node is missing (scripts/deps.sh)"
[ -x "$chromium" ] || setup_fail "$chromium is missing (scripts/deps.sh installs Debian's chromium)"
[ -d "$here/node_modules/playwright-core" ] || setup_fail "tests/e2e/node_modules is missing (scripts/deps.sh runs npm ci)"

db="$tmp/e2e.db"
# as tests/run.sh: sanitizer reports of the ASan+UBSan build end the process
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
started=$(date +%s)

# the fake API, for the seeded XSS calls and the live-tail test's new call
"$build/reqlog-testapi" --port 0 > "$tmp/testapi.out" 2> "$tmp/testapi.err" &
api_pid=$!
api_url=$(wait_line "$tmp/testapi.out" 's/^listening on \(http[^ ]*\).*/\1/p' "$api_pid") ||
  setup_fail "reqlog-testapi did not print 'listening on URL'"

echo "e2e: seeding $db (reqlog demo, about 10 s)"
"$build/reqlog" --db "$db" demo > "$tmp/demo.out" 2> "$tmp/demo.err" &
demo_pid=$! # in the background so that a signal is handled at once (see the traps)
wait "$demo_pid" || setup_fail "reqlog demo failed"
demo_pid=""

# rcall ARGS...: `reqlog call` against the fake API; prints the recorded row id
rcall() {
  REQLOG_BASE_URL="$api_url" REQLOG_API_KEY="$KEY" REQLOG_RATE=0 \
    "$build/reqlog" --db "$db" call "$@" > /dev/null 2> "$tmp/call.err"
  sed -n 's/.*recorded as #\([0-9][0-9]*\).*/\1/p' "$tmp/call.err" | head -n 1
}
xss_id=$(rcall POST /echo -H 'X-Note: <script>alert(3)</script>' \
  -d '{"note":"<img src=x onerror=alert(1)><script>alert(2)</script>","name":"\"><svg onload=alert(4)>"}')
[ -n "$xss_id" ] || setup_fail "recording the XSS call failed: $(cat "$tmp/call.err")"
# a second origin (markup in it, which the page must show as text), for the origin tests
origin_id=$(rcall --origin 'ci-runner-<b>7</b>' GET /participants/2)
[ -n "$origin_id" ] || setup_fail "recording the call of another origin failed: $(cat "$tmp/call.err")"
echo "e2e: seeded $("$build/reqlog" --db "$db" list --json --limit 500 2>/dev/null | grep -o '"id":' | wc -l) calls; XSS payload in #$xss_id"

# the dashboard on a free loopback port
REQLOG_API_KEY="$KEY" "$build/reqlog" --db "$db" serve --listen 127.0.0.1:0 > "$tmp/serve.out" 2> "$tmp/serve.err" &
srv_pid=$!
base=$(wait_line "$tmp/serve.out" 's/^serving \(http:[^ ]*\).*/\1/p' "$srv_pid") ||
  setup_fail "reqlog serve did not print 'serving http://…'"
echo "e2e: dashboard at $base"

# node --test: spec output on the terminal, TAP (for the counts) into the logs
tap="$logs/e2e.tap"
rm -f "$tap"
tests=${E2E_TESTS:-"list.test.js detail.test.js security.test.js hardening.test.js replay.test.js compare.test.js requestid.test.js problems.test.js mock.test.js notes.test.js snippet.test.js editsend.test.js fixes.test.js"}
# In the background and in its own process group (setsid), so that a signal to this
# script stops at once the runner, its per-file test processes and their Chromium.
group=""
command -v setsid >/dev/null 2>&1 && group=setsid
cd "$here" || setup_fail "cannot cd to $here"
E2E_BASE_URL="$base" E2E_REQLOG="$build/reqlog" E2E_DB="$db" E2E_API_URL="$api_url" \
  E2E_API_KEY="$KEY" E2E_XSS_ID="$xss_id" E2E_SCREENSHOTS="$shots" E2E_CHROMIUM="$chromium" \
  TMPDIR="$tmp" \
  $group node --test --test-concurrency=1 --test-timeout=120000 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" \
  $tests &
node_pid=$!
wait "$node_pid"
rc=$?
node_pid=""

passed=$(sed -n 's/^# pass \([0-9][0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -n 1)
failed=$(sed -n 's/^# fail \([0-9][0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -n 1)
passed=${passed:-0}
failed=${failed:-0}
# the runner itself failed (crash, bad file) without counting a failure: count one
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
# the server must have lived through the suite and stop cleanly on SIGTERM (exit 0, no
# sanitizer report in the ASan+UBSan build): otherwise one more failure
srv_alive=yes
alive "$srv_pid" || srv_alive=no
stop "$srv_pid"
srv_rc=$?
srv_pid=""
cp "$tmp/serve.err" "$logs/e2e-serve.log" 2>/dev/null
if [ "$srv_alive" = no ] || [ "$srv_rc" -ne 0 ] ||
  grep -q -E 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$tmp/serve.err"; then
  echo "e2e: reqlog serve: alive until the end: $srv_alive, exit status after SIGTERM: $srv_rc" >&2
  tail -n 40 "$tmp/serve.err" >&2
  failed=$((failed + 1))
fi
[ "$failed" -gt 0 ] && [ -d "$shots" ] && echo "e2e: screenshots in $shots"
echo "e2e: took $(( $(date +%s) - started )) s"
finish "$passed" "$failed"
