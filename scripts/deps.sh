#!/bin/sh
# Installs what building and testing reqlog needs (Debian packages), with sudo when not
# root. A no-op when everything is present. Called by `make run` and `make test`.
set -eu
PKGS="build-essential pkg-config libcurl4-openssl-dev libsqlite3-dev libmicrohttpd-dev libcjson-dev libssl-dev zlib1g-dev libcmocka-dev sqlite3 curl"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing
