#!/usr/bin/env python3
"""The soak (`make soak`, not part of `make test`): the real `reqlog proxy` in front of the
real fake API (reqlog-testapi) on loopback, recording into real SQLite files, under load.

  1. kill -9 cycles: a proxy under load is killed with SIGKILL at a random moment, then
     restarted on the same file, CYCLES times. After each kill: every call the client got
     an answer for more than WINDOW_MS before the kill is in the file (README "Durability
     and concurrency": a kill -9 loses the calls still queued for the writer, those of
     the last ~50 ms at ordinary rates and at most those of the last second under a
     sustained load of thousands of calls per second, as here), and
     PRAGMA integrity_check says ok.
  2. concurrent writers: PROCS proxies record CALLS calls each into one file at once; the
     file then holds exactly PROCS x CALLS rows, and no process reported a busy/locked
     database.
  3. disk full: a proxy records into a file on a small tmpfs that is then filled up; the
     calls go on unaffected (every client gets its answer), the failure is reported, and
     once space is freed the kept rows are written: every answered call is in the file
     and integrity_check says ok. Needs root (mount); skipped with the reason otherwise.

Prints its figures; exits 1 when a property does not hold. Not a test of speed: the
figures it prints are for the record only.
Usage: tests/soak/soak.py BUILD_DIR   (SOAK_CYCLES, SOAK_PROCS, SOAK_CALLS override)
"""
import http.client
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
CYCLES = int(os.environ.get("SOAK_CYCLES", "30"))
PROCS = int(os.environ.get("SOAK_PROCS", "4"))
CALLS = int(os.environ.get("SOAK_CALLS", "2000"))
WINDOW_MS = int(os.environ.get("SOAK_WINDOW_MS", "1000"))  # README "Durability and concurrency"
KEY = "sk_test_4f9a2c7e1b8d6053alpha"
ENV = dict(os.environ, REQLOG_DURABILITY="batch", NO_PROXY="*", no_proxy="*")
for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "REQLOG_REDACT"):
    ENV.pop(name, None)

failures = []


def fail(what):
    failures.append(what)
    print("  FAIL: " + what, flush=True)


def first_line(proc, what):
    line = proc.stdout.readline().decode(errors="replace").strip()
    if not line:
        raise SystemExit("soak: %s printed nothing (stderr: %s)" % (what, proc.stderr.read()))
    return line


def start_api():
    p = subprocess.Popen([BUILD + "/reqlog-testapi", "--port", "0", "--rate", "1000000000"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    base = re.sub(r"^listening on ", "", first_line(p, "reqlog-testapi"))
    return p, base[: -len("/public/v1")] if base.endswith("/public/v1") else base


def start_proxy(db, api_root, env=None):
    p = subprocess.Popen([BUILD + "/reqlog", "--db", db, "proxy", "--upstream", api_root,
                          "--listen", "127.0.0.1:0", "--threads", "2"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env or ENV)
    m = re.match(r"proxying http://([^ ]+):(\d+) ->", first_line(p, "reqlog proxy"))
    if not m:
        raise SystemExit("soak: unexpected first line from reqlog proxy")
    return p, m.group(1), int(m.group(2))


def request(conn, method, path, body=None):
    headers = {"Authorization": "Bearer " + KEY}
    if body is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    r.read()
    return r.status


def rows(db, where, args=()):
    c = sqlite3.connect(db, timeout=30)
    try:
        ok = c.execute("PRAGMA integrity_check").fetchone()[0]
        urls = [u for (u,) in c.execute("SELECT url FROM calls WHERE " + where, args)]
    finally:
        c.close()
    return ok, urls


def tag_of(url):
    m = re.search(r"[?&]soak=([^&]+)", url)
    return m.group(1) if m else None


# ------------------------------------------------------------------ 1. kill -9 cycles

def client_loop(host, port, prefix, acked, stop):
    """Requests until STOP is set or the proxy is gone; records (tag, answered at)."""
    conn = None
    i = 0
    while not stop.is_set():
        tag = "%s-%d" % (prefix, i)
        i += 1
        try:
            if conn is None:
                conn = http.client.HTTPConnection(host, port, timeout=5)
            status = request(conn, "GET", "/public/v1/bench?soak=" + tag)
            done = time.monotonic()
            if status == 200:
                acked.append((tag, done))
        except (OSError, http.client.HTTPException):
            if conn:
                conn.close()
            conn = None
            if stop.is_set():
                break
            time.sleep(0.01)
    if conn:
        conn.close()


def kill_cycles(tmp, api_root):
    print("== 1. kill -9 cycles: %d, 4 client threads, window %d ms" % (CYCLES, WINDOW_MS),
          flush=True)
    db = os.path.join(tmp, "kill.db")
    total_acked = total_kept = lost_in_window = lost_late = integrity_ok = 0
    oldest_lost_ms = 0.0
    rng = random.Random(20261206)
    for cycle in range(CYCLES):
        proxy, host, port = start_proxy(db, api_root)
        acked = []
        stop = threading.Event()
        threads = [threading.Thread(target=client_loop,
                                    args=(host, port, "k%d.%d" % (cycle, t), acked, stop))
                   for t in range(4)]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.3, 1.5))
        killed_at = time.monotonic()
        proxy.send_signal(signal.SIGKILL)
        proxy.wait()
        stop.set()
        for t in threads:
            t.join()
        proxy.stdout.close()
        proxy.stderr.close()
        ok, urls = rows(db, "url LIKE ?", ("%%soak=k%d.%%" % cycle,))
        present = {tag_of(u) for u in urls}
        if ok == "ok":
            integrity_ok += 1
        else:
            fail("cycle %d: integrity_check: %s" % (cycle, ok))
        late = []
        for tag, at in acked:
            if tag in present:
                total_kept += 1
                continue
            age_ms = (killed_at - at) * 1000
            oldest_lost_ms = max(oldest_lost_ms, age_ms)
            if age_ms > WINDOW_MS:
                late.append((tag, age_ms))
            else:
                lost_in_window += 1
        lost_late += len(late)
        total_acked += len(acked)
        if late:
            fail("cycle %d: %d answered calls older than %d ms missing (oldest %.0f ms)" %
                 (cycle, len(late), WINDOW_MS, max(a for _, a in late)))
    print("  answered calls %d, in the file %d, lost within %d ms of the kill %d, lost older "
          "than that %d (oldest lost call answered %.1f ms before the kill); integrity_check "
          "ok %d/%d" % (total_acked, total_kept, WINDOW_MS, lost_in_window, lost_late,
                        oldest_lost_ms, integrity_ok, CYCLES), flush=True)


# ------------------------------------------------------------------ 2. concurrent writers

def calls_through(host, port, prefix, n, statuses):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    for i in range(n):
        statuses.append(request(conn, "GET", "/public/v1/bench?soak=%s-%d" % (prefix, i)))
    conn.close()


def concurrent_writers(tmp, api_root):
    print("== 2. concurrent writers: %d proxies x %d calls into one file" % (PROCS, CALLS),
          flush=True)
    db = os.path.join(tmp, "concurrent.db")
    proxies = [start_proxy(db, api_root) for _ in range(PROCS)]
    statuses = [[] for _ in proxies]
    started = time.monotonic()
    threads = [threading.Thread(target=calls_through, args=(h, p, "c%d" % i, CALLS, statuses[i]))
               for i, (_, h, p) in enumerate(proxies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    answered = time.monotonic() - started
    errors = []
    for proc, _, _ in proxies:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait()
        err = proc.stderr.read().decode(errors="replace")
        proc.stdout.close()
        proc.stderr.close()
        if rc != 0:
            fail("a proxy exited with %d after SIGTERM" % rc)
        if re.search(r"busy|locked|fail", err, re.I):
            errors.append(err.strip())
    elapsed = time.monotonic() - started
    ok, urls = rows(db, "url LIKE '%soak=c%'")
    per = [0] * PROCS
    for u in urls:
        t = tag_of(u)
        per[int(t[1:t.index("-")])] += 1
    non200 = sum(1 for s in statuses for x in s if x != 200)
    print("  %d calls answered in %.1f s (%.0f/s), all written and closed in %.1f s; rows %d "
          "(per process %s), non-200 answers %d, busy/locked reports %d, integrity_check %s" %
          (sum(len(s) for s in statuses), answered, PROCS * CALLS / answered, elapsed,
           len(urls), per, non200, len(errors), ok), flush=True)
    if len(urls) != PROCS * CALLS or any(c != CALLS for c in per):
        fail("concurrent: %d rows, want exactly %d" % (len(urls), PROCS * CALLS))
    if errors:
        fail("concurrent: a proxy reported: %s" % errors[0][:300])
    if non200:
        fail("concurrent: %d answers were not 200" % non200)
    if ok != "ok":
        fail("concurrent: integrity_check: %s" % ok)


# ------------------------------------------------------------------ 3. disk full

def fill(path):
    """Writes PATH until the file system is full; returns the bytes written."""
    n = 0
    chunk = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                n += f.write(chunk)
            except OSError:
                break
        for size in (4096, 512, 1):  # the last bits of room
            while True:
                try:
                    n += f.write(b"\0" * size)
                except OSError:
                    break
    return n


def disk_full(tmp, api_root):
    print("== 3. disk full: a proxy recording onto a 4 MiB tmpfs that fills up", flush=True)
    mnt = os.path.join(tmp, "small")
    os.mkdir(mnt)
    if os.geteuid() != 0:
        print("  skipped: mounting a tmpfs needs root (this is uid %d)" % os.geteuid())
        return
    m = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt],
                       capture_output=True, text=True)
    if m.returncode != 0:
        print("  skipped: mount -t tmpfs failed: %s" % m.stderr.strip())
        return
    try:
        disk_full_on(mnt, api_root)
    finally:
        subprocess.run(["umount", "-l", mnt])


def disk_full_on(mnt, api_root):
    db = os.path.join(mnt, "full.db")
    proxy, host, port = start_proxy(db, api_root)
    conn = http.client.HTTPConnection(host, port, timeout=30)
    body = '{"note":"%s"}' % ("x" * 3000)
    statuses = []
    for i in range(20):  # some rows before the disk fills
        statuses.append(request(conn, "POST", "/public/v1/echo?soak=f-%d" % i, body))
    time.sleep(0.3)
    filler = os.path.join(mnt, "filler")
    filled = fill(filler)
    for i in range(20, 320):  # the disk is full now
        statuses.append(request(conn, "POST", "/public/v1/echo?soak=f-%d" % i, body))
    time.sleep(1.0)  # let the writer try and fail
    os.unlink(filler)
    for i in range(320, 340):  # room again
        statuses.append(request(conn, "POST", "/public/v1/echo?soak=f-%d" % i, body))
    conn.close()
    proxy.send_signal(signal.SIGTERM)
    rc = proxy.wait()
    err = proxy.stderr.read().decode(errors="replace")
    proxy.stdout.close()
    proxy.stderr.close()
    full_reports = sum(1 for line in err.splitlines() if re.search(r"full", line, re.I))
    ok, urls = rows(db, "url LIKE '%soak=f-%'")
    answered = sum(1 for s in statuses if s == 200)
    print("  filled %d KiB; %d calls, %d answered 200 (%d while full); rows written %d; "
          "lines on stderr that report the full disk %d; proxy exit %d; integrity_check %s" %
          (filled // 1024, len(statuses), answered, 300, len(urls), full_reports, rc, ok),
          flush=True)
    if err.strip():
        print("  proxy stderr: " + " | ".join(err.strip().splitlines()[:4]))
    if answered != len(statuses):
        fail("disk full: %d calls did not get a 200" % (len(statuses) - answered))
    if full_reports == 0:
        fail("disk full: the failure was not reported")
    if len(set(tag_of(u) for u in urls)) != len(statuses):
        fail("disk full: %d rows after space came back, want %d" % (len(urls), len(statuses)))
    if ok != "ok":
        fail("disk full: integrity_check: %s" % ok)


def main():
    tmp = tempfile.mkdtemp(prefix="reqlog-soak-")
    api, api_root = start_api()
    try:
        kill_cycles(tmp, api_root)
        concurrent_writers(tmp, api_root)
        disk_full(tmp, api_root)
    finally:
        api.send_signal(signal.SIGTERM)
        api.wait()
        subprocess.run(["rm", "-rf", tmp])
    print("soak: %s" % ("all properties held" if not failures else
                        "%d failed: %s" % (len(failures), "; ".join(failures))))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
