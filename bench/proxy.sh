#!/bin/sh
# The recording proxy against other reverse proxies, all in front of the same fake API on
# loopback: wrk (2 threads, 32 connections, PROXY_BENCH_SECONDS, default 10) fetching the
# 1 KB JSON of /bench directly, through `reqlog proxy` (recording every call), through
# nginx (proxy_pass with upstream keep-alive) and through mitmdump (reverse mode, writing
# every flow to a file). Prints req/s and p50/p99 latency of each and the ratios
# (goals: reqlog >= 0.8x nginx's throughput, its p99 <= 2x nginx's in every round, >= 20x
# mitmdump), then one connection alone (wrk -t1 -c1: the latency each proxy adds to
# direct's p50; goal for reqlog <= 40 us), whether every answer was recorded, how the
# proxy's loops and writer kept up (its --stats line), and the proxy's peak RSS while it
# streams a 100 MiB response (goal <= 64 MiB). Installs nginx-light and mitmproxy with
# apt-get when they are missing. Not a test: nothing here passes or fails on timing.
# Usage: bench/proxy.sh BUILD_DIR  (PROXY_BENCH_SECONDS, PROXY_BENCH_ROUNDS,
#        PROXY_BENCH_C1_SECONDS)
set -eu
# shellcheck source=bench/lib/proxybench.sh
. "$(dirname "$0")/lib/proxybench.sh"
build=${1:-build}
seconds=${PROXY_BENCH_SECONDS:-10}
key=sk_test_4f9a2c7e1b8d6053alpha
proxybench_start proxy-bench
rps_direct=0 rps_reqlog=0 rps_nginx=0 rps_mitm=0 # set by measure_file

echo "== proxy: wrk -t2 -c32 -d${seconds}s, 1 KB JSON (/bench), $(nproc) cores"

apt_install() { # PACKAGE: installs it when apt-get can; quiet either way
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo -n"; else return 1; fi
  $sudo apt-get install -y -qq "$1" >/dev/null 2>&1 ||
    { $sudo apt-get update -qq >/dev/null 2>&1 && $sudo apt-get install -y -qq "$1" >/dev/null 2>&1; }
}
if ! command -v wrk >/dev/null; then apt_install wrk || true; fi
if ! command -v wrk >/dev/null; then echo "wrk is not installed and could not be; skipped"; exit 0; fi
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || apt_install nginx-light || true
[ -x "$nginx" ] || nginx=""
command -v mitmdump >/dev/null || apt_install mitmproxy || true
mitm=$(command -v mitmdump || true)

free_port() { # a port nothing listens on now
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $((20000 + $$ % 20000 + ${1:-0}))
}
wait_url() { # URL: until it answers (10 s at most)
  i=0
  while [ $i -lt 100 ]; do
    curl -s -o /dev/null --noproxy '*' -H "Authorization: Bearer $key" "$1" && return 0
    sleep 0.1
    i=$((i + 1))
  done
  echo "no answer from $1" >&2
  return 1
}
to_ms() { # "274.48us" / "1.23ms" / "1.02s" -> milliseconds
  echo "$1" | awk '/us$/ {sub("us",""); printf "%.3f", $0/1000; next}
                   /ms$/ {sub("ms",""); printf "%.3f", $0; next}
                   /s$/  {sub("s","");  printf "%.3f", $0*1000; next} {print $0}'
}
# NAME LABEL: the numbers of the wrk output in $tmp/wrk-NAME.txt; sets rps_NAME
measure_file() {
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk-$1.txt")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$tmp/wrk-$1.txt")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$tmp/wrk-$1.txt")")
  errs=$(awk '/Non-2xx|Socket errors/ {printf " (%s)", $0}' "$tmp/wrk-$1.txt")
  rps=${rps:-0}
  eval "rps_$1=$rps"
  printf '  %-22s %10.0f req/s   p50 %8s ms   p99 %8s ms%s\n' "$2" "$rps" "${p50:-?}" "${p99:-?}" "$errs"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# the fake API
"$build/reqlog-testapi" --port 0 >"$tmp/api.out" 2>"$tmp/api.err" &
pids="$pids $!"
api_base=$(first_line "$tmp/api.out" | sed -n 's/^listening on //p')
api_root=${api_base%/public/v1}
wait_url "$api_base/bench"

# reqlog proxy, recording into its own database
"$build/reqlog" --db "$tmp/proxy.db" proxy --upstream "$api_root" --listen 127.0.0.1:0 --stats \
  >"$tmp/proxy.out" 2>"$tmp/proxy.err" &
proxy_pid=$!
pids="$pids $proxy_pid"
proxy_url=$(first_line "$tmp/proxy.out" | sed -n 's/^proxying \([^ ]*\) -> .*/\1/p')
wait_url "$proxy_url/public/v1/bench"

# nginx: a plain reverse proxy with upstream keep-alive, plus a static 100 MiB file
big_port=""
if [ -n "$nginx" ]; then
  ngx_port=$(free_port 1)
  big_port=$(free_port 2)
  mkdir -p "$tmp/nginx/static"
  nginx_conf "$tmp/nginx" "${api_root#http://}" "$ngx_port" "$big_port"
  "$nginx" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" 2>"$tmp/nginx/start.err" &
  ngx_pid=$!
  pids="$pids $ngx_pid"
  wait_url "http://127.0.0.1:$ngx_port/public/v1/bench" || nginx=""
fi

# mitmdump in reverse mode, every flow written to a file
if [ -n "$mitm" ]; then
  mitm_port=$(free_port 3)
  "$mitm" -q --mode "reverse:$api_root/" --listen-host 127.0.0.1 --listen-port "$mitm_port" \
    --set confdir="$tmp/mitm" -w "$tmp/flows.mitm" >"$tmp/mitm.log" 2>&1 &
  mitm_pid=$!
  pids="$pids $mitm_pid"
  wait_url "http://127.0.0.1:$mitm_port/public/v1/bench" || mitm=""
fi

rows() { sqlite3 -readonly "$tmp/proxy.db" 'SELECT count(*) FROM calls' 2>/dev/null || echo 0; }
settle() { # waits until the proxy's writer has written its backlog (rows stop growing)
  prev=-1
  while :; do
    now=$(rows)
    [ "$now" = "$prev" ] && break
    prev=$now
    sleep 0.5
  done
}
now_s() { date +%s.%N; }

# Rounds (PROXY_BENCH_ROUNDS, default 2) take turns: direct, reqlog, nginx, mitmdump,
# then again, so that a slow spell of this shared machine falls on all of them alike; the
# ratios are of the means. The proxy's writer catches up after the load stops: its backlog
# is written (and timed) at the end.
rounds=${PROXY_BENCH_ROUNDS:-2}
warm() { wrk -t2 -c32 -d2s -H "Authorization: Bearer $key" "$1" >/dev/null 2>&1 || true; }
warm "$api_base/bench"
warm "$proxy_url/public/v1/bench"
[ -n "$nginx" ] && warm "http://127.0.0.1:$ngx_port/public/v1/bench"
[ -n "$mitm" ] && warm "http://127.0.0.1:$mitm_port/public/v1/bench"
settle
rows0=$(rows)
ok_count() { sqlite3 -readonly "$tmp/proxy.db" 'SELECT count(*) FROM calls WHERE status = 200' 2>/dev/null || echo 0; }
ok0=$(ok_count)
sum_direct=0 sum_reqlog=0 sum_nginx=0 sum_mitm=0 per_round="" p99_round="" answered=0
p99_reqlog=0 p99_nginx=0
cpu_reqlog=0 cpu_nginx=0 cpu_mitm=0
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
cpu_ticks() { # PID...: CPU time (user + system, all threads) of these processes, in ticks
  t=0
  for p in "$@"; do
    t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}
# NAME URL LABEL [PID...]: one measurement of a round, added to sum_NAME; with PIDs, also
# the CPU time those processes spent per request (less noisy than req/s), added to cpu_NAME
run() {
  name=$1 url=$2 label=$3
  shift 3
  c0=$(cpu_ticks "$@")
  wrk -t2 -c32 -d"${seconds}s" --latency -H "Authorization: Bearer $key" "$url" >"$tmp/wrk-$name.txt" 2>&1 || true
  c1=$(cpu_ticks "$@")
  measure_file "$name" "$label"
  eval "p99_$name=\$p99"
  if [ "$name" = reqlog ]; then
    answered=$((answered + $(awk '/ requests in / { print $1 }' "$tmp/wrk-$name.txt")))
  fi
  eval "sum_$name=\$(awk -v a=\"\$sum_$name\" -v b=\"\$rps_$name\" 'BEGIN { print a + b }')"
  if [ $# -gt 0 ]; then
    n=$(awk '/ requests in / { print $1 }' "$tmp/wrk-$name.txt")
    us=$(awk -v d=$((c1 - c0)) -v hz="$hz" -v n="${n:-0}" 'BEGIN { if (n > 0) printf "%.1f", d / hz * 1e6 / n; else print 0 }')
    printf '  %-22s %10s us of CPU per request (the proxy process, all its threads)\n' "" "$us"
    eval "cpu_$name=\$(awk -v a=\"\$cpu_$name\" -v b=\"$us\" 'BEGIN { print a + b }')"
  fi
}
r=1
while [ "$r" -le "$rounds" ]; do
  echo "  round $r of $rounds"
  run direct "$api_base/bench" "direct (fake API)"
  run reqlog "$proxy_url/public/v1/bench" "reqlog proxy" "$proxy_pid"
  # shellcheck disable=SC2046 # the worker pids, one word each
  [ -n "$nginx" ] && run nginx "http://127.0.0.1:$ngx_port/public/v1/bench" "nginx proxy_pass" \
    $(pgrep -P "$ngx_pid" 2>/dev/null || echo "$ngx_pid")
  [ -n "$mitm" ] && run mitm "http://127.0.0.1:$mitm_port/public/v1/bench" "mitmdump -w" "$mitm_pid"
  per_round="$per_round $(ratio "$rps_reqlog" "${rps_nginx:-0}")"
  p99_round="$p99_round $(ratio "$p99_reqlog" "${p99_nginx:-0}")"
  r=$((r + 1))
done
# One connection (wrk -t1 -c1): the latency each proxy adds to a lone client, p50 over
# direct's p50 in the same round (goal for reqlog: <= 40 us)
c1_seconds=${PROXY_BENCH_C1_SECONDS:-5}
add_reqlog=0 add_nginx=0
to_us() { awk -v m="$(to_ms "$1")" 'BEGIN { printf "%.0f", m * 1000 }'; }
c1() { # NAME URL: one -c1 measurement; sets c1_NAME (p50 in us) and c1p99_NAME (ms)
  wrk -t1 -c1 -d"${c1_seconds}s" --latency -H "Authorization: Bearer $key" "$2" >"$tmp/c1-$1.txt" 2>&1 || true
  eval "c1_$1=$(to_us "$(awk '$1 == "50%" {print $2}' "$tmp/c1-$1.txt")")"
  eval "c1p99_$1=$(to_ms "$(awk '$1 == "99%" {print $2}' "$tmp/c1-$1.txt")")"
  if [ "$1" = reqlog ]; then
    answered=$((answered + $(awk '/ requests in / { print $1 }' "$tmp/c1-$1.txt")))
  fi
}
echo "  one connection (wrk -t1 -c1 -d${c1_seconds}s), p50 added over direct's p50 in the same round:"
r=1
while [ "$r" -le "$rounds" ]; do
  c1 direct "$api_base/bench"
  c1 reqlog "$proxy_url/public/v1/bench"
  [ -n "$nginx" ] && c1 nginx "http://127.0.0.1:$ngx_port/public/v1/bench"
  a_reqlog=$(awk -v a="$c1_reqlog" -v d="$c1_direct" 'BEGIN { printf "%.0f", a - d }')
  a_nginx=$(awk -v a="${c1_nginx:-0}" -v d="$c1_direct" 'BEGIN { printf "%.0f", a - d }')
  printf '    round %s: direct p50 %s us (p99 %s ms); reqlog +%s us (p99 %s ms); nginx +%s us (p99 %s ms)\n' \
    "$r" "$c1_direct" "$c1p99_direct" "$a_reqlog" "$c1p99_reqlog" "$a_nginx" "${c1p99_nginx:-?}"
  add_reqlog=$((add_reqlog + a_reqlog))
  add_nginx=$((add_nginx + a_nginx))
  r=$((r + 1))
done
echo "  one connection, mean added p50: reqlog $((add_reqlog / rounds)) us (goal <= 40), nginx $((add_nginx / rounds)) us"
settle

t0=$(now_s)
rss_load=$(awk '/^VmHWM:/ {print $2}' "/proc/$proxy_pid/status")
kill -TERM "$proxy_pid"
wait "$proxy_pid" || true # returns once every recorded call is written
drain=$(awk -v a="$t0" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }')
rows1=$(rows)
[ -n "$nginx" ] || echo "  nginx: not installed and could not be installed (apt-get nginx-light): skipped"
[ -n "$mitm" ] || echo "  mitmdump: not installed and could not be installed (apt-get mitmproxy): skipped"
mean() { awk -v a="$1" -v n="$rounds" 'BEGIN { printf "%.0f", a / n }'; }
m_direct=$(mean "$sum_direct") m_reqlog=$(mean "$sum_reqlog") m_nginx=$(mean "$sum_nginx")
m_mitm=$(mean "$sum_mitm")
echo "  mean of $rounds rounds: direct $m_direct, reqlog $m_reqlog, nginx $m_nginx," \
  "mitmdump $m_mitm req/s"
meanf() { awk -v a="$1" -v n="$rounds" 'BEGIN { printf "%.1f", a / n }'; }
echo "  CPU per request, mean: reqlog $(meanf "$cpu_reqlog") us (event loops and writer)," \
  "nginx $(meanf "$cpu_nginx") us (workers), mitmdump $(meanf "$cpu_mitm") us"
recorded=$((rows1 - rows0))
# every answer wrk counted must be a row: wrk stops with requests in flight, which the
# proxy records too (as cut by the client), so rows >= answers; fewer would be a loss
ok_rows=$(($(ok_count) - ok0))
if [ "$ok_rows" -ge "$answered" ]; then lost="none lost"; else lost="LOST $((answered - ok_rows))"; fi
echo "  wrk counted $answered answers from reqlog; $ok_rows rows with status 200 among the $recorded recorded: $lost"
grep '^reqlog proxy:' "$tmp/proxy.err" | sed 's/^/  /' || true
grep 'warning' "$tmp/proxy.err" | sed 's/^/  /' || true
load_s=$((rounds * seconds))
echo "  reqlog recorded $recorded calls in its $load_s s of load; the last were written ${drain} s" \
  "after the load stopped; peak RSS under load" \
  "$(awk -v k="$rss_load" 'BEGIN { printf "%.0f", k / 1024 }') MiB (the queue not yet written)"
echo "  ratio reqlog / direct:   $(ratio "$m_reqlog" "$m_direct")"
[ -n "$nginx" ] && echo "  ratio reqlog / nginx:    $(ratio "$m_reqlog" "$m_nginx")  (goal >= 0.8; by round:$per_round)"
[ -n "$nginx" ] && echo "  p99 reqlog / nginx by round:$p99_round  (goal <= 2 in every round)"
[ -n "$mitm" ] && echo "  ratio reqlog / mitmdump: $(ratio "$m_reqlog" "$m_mitm")  (goal >= 20)"

# peak RSS of a fresh proxy streaming a 100 MiB response
if [ -z "$big_port" ] && command -v python3 >/dev/null; then
  big_port=$(free_port 4)
  mkdir -p "$tmp/nginx/static"
  python3 -m http.server "$big_port" --bind 127.0.0.1 --directory "$tmp/nginx/static" \
    >/dev/null 2>&1 &
  pids="$pids $!"
fi
if [ -n "$big_port" ]; then
  head -c 104857600 /dev/urandom >"$tmp/nginx/static/big.bin"
  chmod a+rx "$tmp" "$tmp/nginx" "$tmp/nginx/static" # nginx workers may run as nobody
  chmod a+r "$tmp/nginx/static/big.bin"
  "$build/reqlog" --db "$tmp/big.db" proxy --upstream "http://127.0.0.1:$big_port" \
    --listen 127.0.0.1:0 >"$tmp/big.out" 2>"$tmp/big.err" &
  big_pid=$!
  pids="$pids $big_pid"
  big_url=$(first_line "$tmp/big.out" | sed -n 's/^proxying \([^ ]*\) -> .*/\1/p')
  wait_url "http://127.0.0.1:$big_port/big.bin" >/dev/null
  got=$(curl -s --noproxy '*' -o /dev/null -w '%{size_download} %{time_total}' "$big_url/big.bin")
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$big_pid/status")
  printf '  100 MiB through the proxy: %s bytes in %.2f s, peak RSS %.1f MiB (goal <= 64 MiB)\n' \
    "${got% *}" "${got#* }" "$(awk -v k="$hwm" 'BEGIN { print k / 1024 }')"
else
  echo "  100 MiB peak RSS: no static server (nginx or python3) to serve the file: skipped"
fi
