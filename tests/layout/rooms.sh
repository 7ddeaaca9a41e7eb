#!/bin/sh
# The rooms of recorder/ (docs/design.md §2, "may include"): prints every include from
# one room to another that the table there does not allow, one "FILE: HEADER" a line,
# and exits 1 when there is any. Nothing is compiled: the includes are read as written.
# Usage: tests/layout/rooms.sh [ROOT]   (ROOT holds recorder/; the repo root by default)
set -u
cd "${1:-$(dirname "$0")/../..}" || exit 2
out=$(
  for f in recorder/*.[ch] recorder/*/*.[ch] recorder/exec/shim/*.[ch]; do
    [ -f "$f" ] || continue
    case $f in
      recorder/exec/shim/*) room=shim ;;
      recorder/capture/record.h | recorder/capture/record_mem.c | recorder/capture/record_fill.c | \
        recorder/capture/capbuf.[ch]) room=record ;;
      recorder/handle.h | recorder/api.c) room=handle ;;
      recorder/api_read.c) room=api_read ;;
      recorder/*/*) room=$(echo "$f" | cut -d/ -f2) ;;
      *) room=top ;;
    esac
    grep -o '^#include "[^"]*"' "$f" | sed 's/^#include "//; s/"$//' | while read -r inc; do
      case $inc in
        reqlog.h | reqlog_embedded.h | reqlog_ship.h) continue ;;
        handle.h) to=handle ;;
        capture/record.h | capture/capbuf.h) to=record ;;
        exec/shim/*) to=shim ;;
        */*) to=${inc%%/*} ;;
        *) to=unknown ;;
      esac
      [ "$to" = "$room" ] && continue
      case "$room:$to" in
        record:base | privacy:base | privacy:record) continue ;;
        store:base | store:record | store:privacy) continue ;;
        read:base) continue ;;
        read:store) [ "$inc" = store/histogram.h ] && continue ;;
        capture:base | capture:record | capture:store | capture:handle) continue ;;
        proxy:base | proxy:capture | proxy:record | proxy:store | proxy:handle) continue ;;
        exec:base | exec:capture | exec:record | exec:store | exec:handle) continue ;;
        shim:base | shim:record) continue ;;
        shim:exec) [ "$inc" = exec/shim_wire.h ] && continue ;;
        shim:capture) case $inc in capture/capsess.h | capture/bodydec.h) continue ;; esac ;;
        handle:base | handle:privacy | handle:store | handle:pg) continue ;;
        api_read:base | api_read:read | api_read:handle | api_read:pg) continue ;;
        pg:base | pg:read | pg:store) continue ;;
      esac
      echo "$f: $inc ($room may not include $to)"
    done
  done
)
[ -z "$out" ] && exit 0
printf '%s\n' "$out"
exit 1
