#!/bin/sh
# The build's structure, checked the way a newcomer would break it (docs/design.md §2):
#  1. the layers: a cli/ or web/ file that includes a recorder/ header, or a web/ file that
#     includes a cli/ one, does not compile with that folder's include paths (read from
#     the Makefile itself, so the check follows any change to them);
#     and only recorder/pg/ includes <libpq-fe.h> (docs/design.md §9);
#  2. the rooms of recorder/ include only what docs/design.md §2 allows (rooms.sh);
#  3. the installed library: `make install` into a scratch prefix, then a program built
#     only with `pkg-config --cflags --libs --static reqlog` links and runs.
# Leaves "N passed, N failed" in BUILD/test-logs/layout-summary.
# Usage: tests/layout/run.sh BUILD_DIR
set -u
build=${1:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
logs="$build/test-logs"
mkdir -p "$logs"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/reqlog-layout.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "[       OK ] $1"; }
bad() { failed=$((failed + 1)); echo "[  FAILED  ] $1"; }

flags() { make -s --no-print-directory "print-$1"; }
# compiles FILE's text with the include paths of LAYER; 0 when it compiles
compiles() {
  layer=$1 text=$2
  printf '%s\n' "$text" > "$tmp/probe.c"
  # shellcheck disable=SC2046
  cc -std=c11 -D_GNU_SOURCE -fsyntax-only $(flags "INC_$layer") $(pkg-config --cflags libcurl libcjson) \
    "$tmp/probe.c" >"$tmp/cc.out" 2>&1
}

echo "== layout ($build)"
# what each layer may use compiles ...
if compiles cli '#include "reqlog.h"
#include "reqlog_web.h"
#include "reqlog_demo.h"
#include "cli.h"'; then ok "cli sees include/ and cli/"; else bad "cli sees include/ and cli/: $(head -3 "$tmp/cc.out")"; fi
if compiles web '#include "reqlog.h"
#include "web_int.h"'; then ok "web sees include/ and web/"; else bad "web sees include/ and web/: $(head -3 "$tmp/cc.out")"; fi
# ... and what it may not does not
for probe in "cli base/util.h" "cli store/store.h" "cli handle.h" "cli web_int.h" \
             "web base/util.h" "web read/row.h" "web handle.h" "web cli.h" \
             "demo base/util.h" "demo cli.h"; do
  set -- $probe
  if compiles "$1" "#include \"$2\""; then
    bad "a $1/ file including $2 compiled: the layers are not enforced"
  else
    ok "a $1/ file cannot include $2"
  fi
done

# the rooms inside recorder/ include only what the table of design.md §2 allows ...
if tests/layout/rooms.sh . >"$tmp/rooms.out" 2>&1; then
  ok "recorder/'s rooms include only what docs/design.md §2 allows"
else
  bad "rooms: $(head -5 "$tmp/rooms.out")"
fi
# ... and a file that breaks it is found
mkdir -p "$tmp/rooms/recorder/base" "$tmp/rooms/recorder/capture"
printf '#include "store/store.h"\n' > "$tmp/rooms/recorder/base/probe.c"
printf '#include "capture/capsess.h"\n' > "$tmp/rooms/recorder/capture/record.h"
if tests/layout/rooms.sh "$tmp/rooms" >"$tmp/rooms.out" 2>&1; then
  bad "rooms.sh let base/ include store/ and the record include capture/"
elif grep -q 'base/probe.c: store/store.h' "$tmp/rooms.out" && grep -q 'record.h: capture/capsess.h' "$tmp/rooms.out"; then
  ok "rooms.sh names a base/ file including store/ and the record including capture/"
else
  bad "rooms.sh: $(head -5 "$tmp/rooms.out")"
fi
# libpq's header is on every folder's include path (pkg-config): only recorder/pg/ may use it
others=$(grep -rlE '#[[:space:]]*include[[:space:]]*[<"]libpq-fe\.h' cli web demo recorder include 2>/dev/null | grep -v '^recorder/pg/')
if [ -z "$others" ]; then ok "only recorder/pg/ includes libpq-fe.h"; else bad "libpq-fe.h included outside recorder/pg/: $others"; fi

# the installed library, used as a stranger would
if make -s --no-print-directory BUILD="$build" PREFIX="$tmp/prefix" install >"$tmp/install.out" 2>&1; then
  cat > "$tmp/app.c" <<'C'
#include <reqlog.h>
#include <stdio.h>
int main(void) {
  reqlog *r = NULL;
  if (reqlog_open(NULL, &r, NULL) != REQLOG_OK)
    return 1;
  reqlog_filter *f = NULL;
  reqlog_err e = reqlog_filter_new(&f);
  if (e == REQLOG_OK)
    e = reqlog_filter_set(f, "status", "4xx", NULL);
  reqlog_filter_free(f);
  reqlog_close(r);
  printf("%s\n", reqlog_strerror(e));
  return e == REQLOG_OK ? 0 : 1;
}
C
  pc="$tmp/prefix/lib/pkgconfig"
  # the sanitizer build installs a sanitized library: its users link the runtime too
  san=$(make -s --no-print-directory print-SANFLAGS)
  # shellcheck disable=SC2046
  if cc -std=c11 $san "$tmp/app.c" $(PKG_CONFIG_PATH="$pc" pkg-config --cflags --libs --static reqlog) \
       -o "$tmp/app" >"$tmp/link.out" 2>&1 && "$tmp/app" >"$tmp/app.out" 2>&1; then
    ok "a program built with pkg-config --static against the installed reqlog links and runs"
  else
    bad "installed reqlog: $(cat "$tmp/link.out" "$tmp/app.out" 2>/dev/null | head -5)"
  fi
else
  bad "make install: $(tail -5 "$tmp/install.out")"
fi
echo "$passed passed, $failed failed" | tee "$logs/layout-summary"
[ "$failed" -eq 0 ]
