# shellcheck shell=sh
# proxybench.sh: what the proxy benchmarks (bench/proxy.sh, bench/proxy_ab.sh) share,
# sourced by both: a scratch directory and the processes they start, cleaned up on exit;
# waiting for a started server's first line; the nginx they compare `reqlog proxy` with.

# proxybench_start NAME: $tmp, a new scratch directory, and $pids, the processes to end
# on exit (the caller adds to it); both go away when the script ends or is interrupted.
proxybench_start() {
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/reqlog-$1-XXXXXX")
  pids=""
  trap proxybench_cleanup EXIT
  trap 'exit 130' INT TERM
}
proxybench_cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  for p in $pids; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}

# first_line FILE: waits for a first line in FILE (10 s at most) and prints it
first_line() {
  i=0
  while [ $i -lt 100 ] && [ ! -s "$1" ]; do sleep 0.1; i=$((i + 1)); done
  sleep 0.05
  head -n 1 "$1"
}

# nginx_conf DIR API_HOSTPORT PORT [STATIC_PORT]: writes DIR/nginx.conf: a plain reverse
# proxy on 127.0.0.1:PORT to the API with upstream keep-alive, its temporary files under
# DIR, and with STATIC_PORT a static server of DIR/static on 127.0.0.1:STATIC_PORT. Start
# it with: nginx -p DIR -c DIR/nginx.conf
nginx_conf() {
  static=""
  if [ -n "${4:-}" ]; then
    static="server { listen 127.0.0.1:$4; root $1/static; }"
  fi
  cat >"$1/nginx.conf" <<EOC
worker_processes auto;
daemon off;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $1/body;
  proxy_temp_path $1/proxy;
  fastcgi_temp_path $1/fastcgi;
  uwsgi_temp_path $1/uwsgi;
  scgi_temp_path $1/scgi;
  upstream api { server $2; keepalive 64; }
  server {
    listen 127.0.0.1:$3;
    location / {
      proxy_pass http://api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
  $static
}
EOC
}
