#!/bin/sh
# The team store's benchmarks (issue 12), on the benchmarks' own PostgreSQL cluster
# (bench/pgcluster.sh, kept in BUILD_DIR/bench/pg between runs): shipping against psql
# \copy (bench/pg_ship.sh), recording with `reqlog ship --follow` beside the caller
# against recording alone (bench/overhead), and the dashboard's queries, throughput and
# CSV export on a generated store of WEB_PG_ROWS calls (default 10,000,000) against
# in-process and psql baselines (bench/web). The store is made once by bench/gen_pg into
# database reqlog_bench_ROWS and kept, like run.sh's SQLite history, until it is older
# than WEB_PG_MAX_AGE_MIN minutes (default 720: the since=24h queries follow the clock).
# Each figure is printed with its baseline and the load average; nothing passes or fails
# on timing. Skipped when PostgreSQL's binaries are missing (scripts/deps.sh installs them).
# Usage: bench/pg.sh BUILD_DIR   (run by bench/run.sh)
set -eu
build=${1:-build}
here=$(dirname "$0")
out="$build/bench"
mkdir -p "$out/pg" "$out/pgweb"
if ! sock=$("$here/pgcluster.sh" start "$out/pg"); then
  echo "== team store: no PostgreSQL cluster (see above): skipped"
  exit 0
fi
uri() { echo "postgresql:///$1?host=$sock"; }
fresh() { # DB: an empty database of that name
  psql -X -q -v ON_ERROR_STOP=1 "$(uri postgres)" -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"
}
load() { cut -d' ' -f1 /proc/loadavg; }
echo "== team store on PostgreSQL $(psql -X -At "$(uri postgres)" -c 'SHOW server_version'):" \
  "its own cluster in $out/pg (Unix socket only); load $(load)"

echo
"$here/pg_ship.sh" "$build" "$sock"

echo
echo "== recording with shipping on (a spool, \`reqlog ship --follow\` beside the caller) against recording into SQLite alone; load $(load)"
fresh bench_overhead
"$build/bench/overhead" "${OVERHEAD_CALLS:-20000}" "$out/overhead-ship.db" \
  "$(uri bench_overhead)" "$build/reqlog" || echo "  (overhead: some calls failed or were not shipped, above)"
rm -f "$out"/overhead-ship.db*

echo
rows=${WEB_PG_ROWS:-10000000}
db=reqlog_bench_$rows
stamp="$out/pg/store-$rows.stamp"
if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +"${WEB_PG_MAX_AGE_MIN:-720}")" ]; then
  rm -f "$stamp"
  fresh "$db"
  "$build/bench/gen_pg" "$rows" "$(uri "$db")"
  touch "$stamp"
  echo
fi
# a kept store made by an older reqlog gets this one's migrations now, not while the
# dashboard server is being waited for (a rollup migration reads every row)
"$build/reqlog" --db "$(uri "$db")" list --limit 1 >/dev/null
WEB_DIR="$out/pgweb" "$build/bench/web" "$build/reqlog" "$(uri "$db")" "${WEB_REQUESTS:-200}"
