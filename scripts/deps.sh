#!/bin/sh
# Installs what building and testing reqlog needs, with sudo when not root: Debian
# packages (the C toolchain and libraries, Chromium for the end-to-end tests, Node.js and
# npm only when the machine has no npm), then tests/e2e/node_modules by `npm ci` when it
# is missing or older than tests/e2e/package-lock.json. A no-op when everything is
# present. Called by `make run` and `make test`; `scripts/deps.sh bench` (called by `make
# bench`) adds wrk. `scripts/deps.sh fuzz` (called by `make fuzz`) instead installs only
# clang and its libFuzzer runtime, when they are missing.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)

# `scripts/deps.sh fuzz` (run by `make fuzz`): only clang and its libFuzzer runtime
if [ "${1:-}" = fuzz ]; then
  if ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){return 0;}' |
      clang -x c -fsanitize=fuzzer,address,undefined -o /dev/null - 2>/dev/null; then
    echo "deps: installing clang and libFuzzer (libclang-rt-dev)" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    ver=$(apt-cache depends clang 2>/dev/null | sed -n 's/.*Depends: clang-\([0-9]*\)$/\1/p' | head -1)
    $SUDO apt-get install -y -qq --no-install-recommends clang ${ver:+libclang-rt-$ver-dev}
  fi
  exit 0
fi
PKGS="build-essential pkg-config libcurl4-openssl-dev libsqlite3-dev libmicrohttpd-dev libcjson-dev libssl-dev zlib1g-dev libcmocka-dev sqlite3 curl git php-cli php-curl python3 python3-requests postgresql libpq-dev libzstd-dev"
# `scripts/deps.sh bench` (run by `make bench`): the same, and wrk, the benchmarks' load
# generator (bench/web.c, bench/proxy.sh)
[ "${1:-}" = bench ] && PKGS="$PKGS wrk"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# Debian's Chromium for the end-to-end tests (never a browser downloaded by a test tool)
[ -x /usr/bin/chromium ] || missing="$missing chromium"
# node and npm come with the machine image; Debian's only when there is no npm at all
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"

if [ -n "$missing" ]; then
  echo "deps: installing$missing" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

# the npm packages of the browser and HAR tests (playwright-core, har-validator), exactly
# as each package-lock.json pins them (run as the invoking user, so node_modules belongs
# to whoever owns the tree)
for dir in "$root/tests/e2e" "$root/tests/har"; do
  [ -f "$dir/package-lock.json" ] || continue
  stamp="$dir/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ]; then
    echo "deps: npm ci in ${dir#$root/}" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
exit 0
