#!/bin/sh
# Two builds of `reqlog proxy` side by side, one connection at a time: the same fake API,
# proxy A (e.g. built from main), proxy B (a branch) and nginx (proxy_pass with upstream
# keep-alive, when installed), measured in turns: every round runs direct, then A and B
# (which goes first alternates) and nginx, each `wrk -t1 -c1` (or -t2 -cCONNS). Prints per
# round the p50 each proxy adds over direct's p50 of that round, its p99, req/s, and the
# CPU it spent per request from /proc/PID/task/*/schedstat (exact, unlike tick-based
# utime): the loop threads alone ("loops") and the whole process ("all", with the
# writer); then the medians over the rounds. On a shared machine single rounds vary by
# ±20 us: compare medians of 6 or more rounds, and the CPU more than the latency. Not a
# test and not part of `make bench`: nothing here passes or fails.
# Usage: bench/proxy_ab.sh BUILD_DIR REQLOG_A REQLOG_B [ROUNDS [SECONDS [CONNS]]]
set -eu
# shellcheck source=bench/lib/proxybench.sh
. "$(dirname "$0")/lib/proxybench.sh"
build=$1 bin_a=$2 bin_b=$3 rounds=${4:-6} seconds=${5:-4} conns=${6:-1}
key=sk_test_4f9a2c7e1b8d6053alpha
proxybench_start proxy-ab
command -v wrk >/dev/null || { echo "wrk is not installed; skipped"; exit 0; }

"$build/reqlog-testapi" --port 0 >"$tmp/api.out" 2>"$tmp/api.err" &
pids="$pids $!"
api_base=$(first_line "$tmp/api.out" | sed -n 's/^listening on //p')
api_root=${api_base%/public/v1}
start() { # BIN NAME: a recording proxy; prints its pid
  "$1" --db "$tmp/$2.db" proxy --upstream "$api_root" --listen 127.0.0.1:0 --stats \
    >"$tmp/$2.out" 2>"$tmp/$2.err" &
  echo $!
}
pid_a=$(start "$bin_a" a)
pid_b=$(start "$bin_b" b)
pids="$pids $pid_a $pid_b"
url_a=$(first_line "$tmp/a.out" | sed -n 's/^proxying \([^ ]*\) -> .*/\1/p')/public/v1/bench
url_b=$(first_line "$tmp/b.out" | sed -n 's/^proxying \([^ ]*\) -> .*/\1/p')/public/v1/bench

nginx=$(command -v nginx || echo /usr/sbin/nginx)
url_n="" ngx_pid=""
if [ -x "$nginx" ]; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$tmp/nginx"
  nginx_conf "$tmp/nginx" "${api_root#http://}" "$port"
  "$nginx" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" 2>"$tmp/nginx/start.err" &
  ngx_pid=$!
  pids="$pids $ngx_pid"
  url_n=http://127.0.0.1:$port/public/v1/bench
fi
sleep 0.5

to_us() { # "274.48us" / "1.23ms" / "1.02s" -> microseconds
  echo "$1" | awk '/us$/ {sub("us",""); printf "%.0f", $0; next}
                   /ms$/ {sub("ms",""); printf "%.0f", $0 * 1000; next}
                   /s$/  {sub("s","");  printf "%.0f", $0 * 1e6; next}'
}
cpu_ns() { # PID [COMM]: CPU time of the process's threads (named COMM) in ns
  for t in /proc/"$1"/task/*; do
    if [ -z "${2:-}" ] || grep -q "$2" "$t/comm" 2>/dev/null; then cut -d' ' -f1 "$t/schedstat"; fi
  done | awk '{ s += $1 } END { print s + 0 }'
}
procs() { # NAME: the pids whose CPU counts for it
  case $1 in a) echo "$pid_a" ;; b) echo "$pid_b" ;; n) pgrep -P "$ngx_pid" || echo "$ngx_pid" ;; esac
}
sum_cpu() { # NAME [COMM]
  for p in $(procs "$1"); do cpu_ns "$p" "${2:-}"; done | awk '{ s += $1 } END { print s + 0 }'
}
if [ "$conns" -eq 1 ]; then load="-t1 -c1"; else load="-t2 -c$conns"; fi
measure() { # URL: "p50_us p99_us requests req_per_s"
  wrk $load -d"${seconds}s" --latency -H "Authorization: Bearer $key" "$1" >"$tmp/wrk.txt" 2>&1 || true
  echo "$(to_us "$(awk '$1 == "50%" {print $2}' "$tmp/wrk.txt")")" \
    "$(to_us "$(awk '$1 == "99%" {print $2}' "$tmp/wrk.txt")")" \
    "$(awk '/ requests in / {print $1}' "$tmp/wrk.txt")" \
    "$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$tmp/wrk.txt")"
}
for u in "$api_base/bench" "$url_a" "$url_b" $url_n; do
  wrk -t2 -c8 -d1s -H "Authorization: Bearer $key" "$u" >/dev/null 2>&1 || true
done
echo "== proxy A/B: wrk $load -d${seconds}s, $rounds rounds; A=$bin_a B=$bin_b"
for n in a b n; do : >"$tmp/add-$n" && : >"$tmp/loop-$n" && : >"$tmp/all-$n"; done
r=1
while [ "$r" -le "$rounds" ]; do
  # shellcheck disable=SC2046 # measure prints four numbers, one word each
  set -- $(measure "$api_base/bench")
  direct=$1
  if [ $((r % 2)) -eq 1 ]; then order="a b"; else order="b a"; fi
  [ -n "$url_n" ] && order="$order n"
  line="round $r (load $(cut -d' ' -f1 /proc/loadavg)): direct p50 $direct us"
  for n in $order; do
    case $n in a) url=$url_a ;; b) url=$url_b ;; *) url=$url_n ;; esac
    l0=$(sum_cpu "$n" reqlog-proxy) t0=$(sum_cpu "$n")
    # shellcheck disable=SC2046 # four numbers, one word each
    set -- $(measure "$url")
    l1=$(sum_cpu "$n" reqlog-proxy) t1=$(sum_cpu "$n")
    added=$(($1 - direct))
    loops=$(awk -v a="$l0" -v b="$l1" -v n="$3" 'BEGIN { printf "%.1f", n ? (b - a) / 1000 / n : 0 }')
    all=$(awk -v a="$t0" -v b="$t1" -v n="$3" 'BEGIN { printf "%.1f", n ? (b - a) / 1000 / n : 0 }')
    echo "$added" >>"$tmp/add-$n"
    [ "$n" = n ] && loops=-
    echo "$loops" >>"$tmp/loop-$n"
    echo "$all" >>"$tmp/all-$n"
    line="$line | $n +$added us (p99 $2 us, $4 req/s) CPU/req loops $loops all $all us"
    [ "$conns" -gt 1 ] && sleep 2 # the writers catch up before the next measurement
  done
  echo "  $line"
  r=$((r + 1))
done
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2); else print "-" }'; }
for n in a b n; do
  [ -s "$tmp/add-$n" ] || continue
  loops="loops $(median "$tmp/loop-$n") us, "
  [ "$n" = n ] && loops=""
  echo "  median $n: +$(median "$tmp/add-$n") us at p50; CPU per request: ${loops}all $(median "$tmp/all-$n") us"
done
kill -TERM "$pid_a" "$pid_b" 2>/dev/null || true
wait "$pid_a" "$pid_b" 2>/dev/null || true
grep -h '^reqlog proxy:' "$tmp/a.err" | sed 's/^/  A: /' || true
grep -h '^reqlog proxy:' "$tmp/b.err" | sed 's/^/  B: /' || true
