#!/bin/sh
# Runs one libFuzzer target of `make fuzz` for a while, niced, and optionally merges what
# it found that grows coverage into the tree's corpus. Usage (from the top of the tree):
#   fuzz/run.sh NAME [SECONDS] [merge]
# NAME: a target (fuzz/fuzz_NAME.c). SECONDS: how long (default 600). "merge": afterwards,
# add the inputs that reach new coverage to fuzz/corpus/NAME (libFuzzer's -merge=1: only
# those, so the corpus stays small). New inputs go to build/fuzz/corpus/NAME meanwhile;
# a crash is saved as build/fuzz/artifacts/NAME-crash-<sha1> (replay it with
# build/fuzz/fuzz_NAME FILE, or BUILD/tests/fuzz/replay_NAME FILE).
set -eu
name=${1:?usage: fuzz/run.sh NAME [SECONDS] [merge]}
secs=${2:-600}
bin=build/fuzz/fuzz_$name
[ -x "$bin" ] || { echo "fuzz/run.sh: $bin missing: run make fuzz" >&2; exit 2; }
work=build/fuzz/corpus/$name
mkdir -p "$work" build/fuzz/artifacts
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
rc=0
nice -n 10 "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=25 -rss_limit_mb=1024 \
  -artifact_prefix="build/fuzz/artifacts/$name-" "$work" "fuzz/corpus/$name" || rc=$?
if [ "${3:-}" = merge ] && [ "$rc" -eq 0 ]; then
  nice -n 10 "$bin" -merge=1 "fuzz/corpus/$name" "$work"
fi
exit "$rc"
