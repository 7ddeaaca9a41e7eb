#!/bin/sh
# The benchmarks' own PostgreSQL cluster (the team store's benchmarks, bench/pg.sh):
# initdb + pg_ctl from Debian's PostgreSQL binaries (/usr/lib/postgresql/N/bin, or
# $REQLOG_PG_BINDIR), a Unix socket in DIR only (no TCP port), run as the `postgres`
# system user through runuser when the caller is root (PostgreSQL refuses root). The
# caller's user name is its superuser, with local trust, so `postgresql:///DB?host=DIR`
# connects. Unlike the tests' throwaway cluster (tests/lib/testpg.c) it is durable
# (fsync on, PostgreSQL's defaults) and may be kept between runs: the 10M-row store
# lives in it.
# Usage: bench/pgcluster.sh start DIR   (makes DIR/data when missing; prints the socket dir)
#        bench/pgcluster.sh stop DIR
#        bench/pgcluster.sh remove DIR  (stops it and removes DIR)
set -eu
cmd=${1:?usage: pgcluster.sh start|stop|remove DIR}
dir=${2:?usage: pgcluster.sh start|stop|remove DIR}

bindir=${REQLOG_PG_BINDIR:-}
if [ -z "$bindir" ]; then
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && bindir=$d; done
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "pgcluster: PostgreSQL's binaries (initdb, pg_ctl) are missing: scripts/deps.sh installs them" >&2
  exit 3
fi
as() { # runs PostgreSQL's binary $1 with the rest, as postgres when we are root
  prog="$bindir/$1"
  shift
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$prog" "$@"; else "$prog" "$@"; fi
}
running() { [ -f "$dir/data/postmaster.pid" ] && as pg_ctl -D "$dir/data" status >/dev/null 2>&1; }

case $cmd in
start)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    rm -rf "$dir/data"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    as initdb -D "$dir/data" --username="$(id -un)" --auth=trust -E UTF8 --locale=C \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    cat >>"$dir/data/postgresql.conf" <<EOF

# bench/pgcluster.sh: a Unix socket only; memory for a 10M-row store on a small machine
listen_addresses = ''
unix_socket_directories = '$dir'
shared_buffers = 1GB
effective_cache_size = 8GB
maintenance_work_mem = 512MB
work_mem = 32MB
max_wal_size = 8GB
max_connections = 60
max_parallel_workers_per_gather = 2
EOF
  fi
  if ! running; then
    [ "$(id -u)" -eq 0 ] && touch "$dir/server.log" && chown postgres: "$dir/server.log"
    as pg_ctl -D "$dir/data" -l "$dir/server.log" -w -t 300 start >/dev/null ||
      { tail -20 "$dir/server.log" >&2; exit 1; }
  fi
  echo "$dir"
  ;;
stop)
  if running; then as pg_ctl -D "$dir/data" -m fast -w -t 300 stop >/dev/null; fi
  ;;
remove)
  if running; then as pg_ctl -D "$dir/data" -m immediate -w stop >/dev/null || true; fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: pgcluster.sh start|stop|remove DIR" >&2
  exit 2
  ;;
esac
