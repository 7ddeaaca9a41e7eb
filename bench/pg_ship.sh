#!/bin/sh
# Shipping into the team store against a raw COPY of the same rows: a generated spool
# (bench/gen_history, PG_SHIP_ROWS rows, default 60,000: realistic ~450-byte JSON bodies)
# shipped by `reqlog ship --to URL` into a fresh store, then the very rows it stored
# (`\copy (SELECT * FROM calls ...) TO`) loaded again by `psql \copy calls FROM` into a
# second store with the same schema, partitions and indexes (pg_dump --schema-only of the
# first): rows/s of each and their ratio (goal >= 0.5). Both stores are migrated (and
# their day partitions made) by shipping a small spool first, so neither side pays for
# them. PG_SHIP_VARIANTS names index variants to compare (default: `schema`, the
# indexes of schema/pg/ as they are); see variant() below. Not a test: nothing here
# passes or fails on timing.
# Usage: bench/pg_ship.sh BUILD_DIR SOCKET_DIR   (SOCKET_DIR: a cluster of bench/pgcluster.sh)
set -eu
build=${1:?usage: pg_ship.sh BUILD_DIR SOCKET_DIR}
sock=${2:?usage: pg_ship.sh BUILD_DIR SOCKET_DIR}
rows=${PG_SHIP_ROWS:-60000}
variants=${PG_SHIP_VARIANTS:-schema}
out="$build/bench/pgship"
mkdir -p "$out"
out=$(cd "$out" && pwd)
uri() { echo "postgresql:///$1?host=$sock"; }
psqlq() { db=$1; shift; psql -X -q -v ON_ERROR_STOP=1 "$(uri "$db")" "$@"; }
now_s() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN { if (t > 0) printf "%.0f", n / t; else print 0 }'; }

# the spools, made once per size (a generated history is an ordinary reqlog history)
spool="$out/spool-$rows.db"
small="$out/spool-small.db"
[ -s "$spool" ] || "$build/bench/gen_history" "$rows" "$spool" >/dev/null
[ -s "$small" ] || "$build/bench/gen_history" 1000 "$small" >/dev/null

# VARIANT DB: replaces the pg_trgm indexes of schema/pg/ by the variant's (on a migrated,
# still empty-of-the-big-spool store)
variant() {
  trgm_drop="DROP INDEX IF EXISTS calls_url_trgm, calls_request_body_trgm, calls_response_body_trgm;"
  combined="(url || ' ' || coalesce(request_body, '') || ' ' || coalesce(response_body, ''))"
  case $1 in
  schema) return 0 ;;
  no-trgm) sql="$trgm_drop" ;;
  fastupdate-off)
    sql="$trgm_drop CREATE INDEX calls_url_trgm ON calls USING gin (url gin_trgm_ops) WITH (fastupdate = off);
      CREATE INDEX calls_request_body_trgm ON calls USING gin (request_body gin_trgm_ops) WITH (fastupdate = off);
      CREATE INDEX calls_response_body_trgm ON calls USING gin (response_body gin_trgm_ops) WITH (fastupdate = off);" ;;
  pending-64mb)
    sql="$trgm_drop CREATE INDEX calls_url_trgm ON calls USING gin (url gin_trgm_ops) WITH (gin_pending_list_limit = 65536);
      CREATE INDEX calls_request_body_trgm ON calls USING gin (request_body gin_trgm_ops) WITH (gin_pending_list_limit = 65536);
      CREATE INDEX calls_response_body_trgm ON calls USING gin (response_body gin_trgm_ops) WITH (gin_pending_list_limit = 65536);" ;;
  combined) sql="$trgm_drop CREATE INDEX calls_q_trgm ON calls USING gin ($combined gin_trgm_ops);" ;;
  combined-fastupdate-off)
    sql="$trgm_drop CREATE INDEX calls_q_trgm ON calls USING gin ($combined gin_trgm_ops) WITH (fastupdate = off);" ;;
  prefix-2k)
    sql="$trgm_drop CREATE INDEX calls_url_trgm ON calls USING gin (url gin_trgm_ops);
      CREATE INDEX calls_request_body_trgm ON calls USING gin (left(request_body, 2048) gin_trgm_ops);
      CREATE INDEX calls_response_body_trgm ON calls USING gin (left(response_body, 2048) gin_trgm_ops);" ;;
  *) echo "pg_ship: unknown variant $1" >&2; return 1 ;;
  esac
  psqlq "$2" -c "$sql"
}

printf '== shipping: %s generated rows (spool %s MB) from a spool into PostgreSQL, against psql \\copy of the same rows into the same table; load %s\n' \
  "$rows" "$(du -m "$spool" | cut -f1)" "$(cut -d' ' -f1 /proc/loadavg)"
printf '  %-26s %14s %14s %9s %10s  %s\n' "indexes" "reqlog ship" "psql \\copy" "ratio" "index MB" "goal: ratio >= 0.5"
for v in $variants; do
  ship=bench_ship raw=bench_raw
  psqlq postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $ship WITH (FORCE)" -c "DROP DATABASE IF EXISTS $raw WITH (FORCE)" \
    -c "CREATE DATABASE $ship" -c "CREATE DATABASE $raw"
  # migrated, with the days' partitions, by a small spool of its own
  "$build/reqlog" --db "$small" ship --to "$(uri $ship)" >/dev/null
  variant "$v" "$ship"
  psqlq "$ship" -c "VACUUM ANALYZE" -c "CHECKPOINT"
  t0=$(now_s)
  "$build/reqlog" --db "$spool" ship --to "$(uri $ship)" >"$out/ship.log" 2>&1 ||
    { cat "$out/ship.log" >&2; exit 1; }
  t_ship=$(secs "$t0" "$(now_s)")
  n=$(psqlq "$ship" -At -c "SELECT count(*) FROM calls")
  n=$((n - 1000))
  hid=$(sqlite3 "$spool" "SELECT value FROM meta WHERE name = 'history_id'")
  mb=$(psqlq "$ship" -At -c "SELECT round(sum(pg_relation_size(i.indexrelid)) / 1e6) FROM pg_index i
         JOIN pg_class c ON c.oid = i.indrelid WHERE c.relname LIKE 'calls_2%'")
  # the same rows, as the store holds them, into a copy of the store without them
  psqlq "$ship" -c "\\copy (SELECT * FROM calls WHERE history_id = $hid ORDER BY spool_id) TO '$out/rows.copy'"
  pg_dump --schema-only "$(uri $ship)" | psqlq "$raw" >/dev/null
  psqlq "$ship" -c "\\copy (SELECT * FROM calls WHERE history_id <> $hid) TO '$out/small.copy'"
  psqlq "$raw" -c "\\copy calls FROM '$out/small.copy'" -c "VACUUM ANALYZE" -c "CHECKPOINT"
  t0=$(now_s)
  psqlq "$raw" -c "\\copy calls FROM '$out/rows.copy'"
  t_raw=$(secs "$t0" "$(now_s)")
  r_ship=$(rate "$n" "$t_ship") r_raw=$(rate "$n" "$t_raw")
  ratio=$(awk -v a="$r_ship" -v b="$r_raw" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
  met=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.5) ? "met" : "MISSED" }')
  printf '  %-26s %8s rows/s %8s rows/s %9s %10s  %s (%s s vs %s s, %s rows)\n' "$v" "$r_ship" "$r_raw" \
    "$ratio" "$mb" "$met" "$t_ship" "$t_raw" "$n"
  psqlq postgres -c "DROP DATABASE $ship WITH (FORCE)" -c "DROP DATABASE $raw WITH (FORCE)"
  rm -f "$out/rows.copy" "$out/small.copy"
done
echo "  load average at the end: $(cut -d' ' -f1 /proc/loadavg)"
