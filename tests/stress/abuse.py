#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Abuse hugevmd's control socket while a well-behaved client measures how
promptly it is answered, and the daemon's memory is sampled.

usage: abuse.py SOCKET DAEMON_PID
Prints "CHECK <0|1> <description>" lines (0 = pass) and "# ..." diagnostics,
and last "END <number of CHECK lines>": the calling shell (stress_py in
stress/common.sh) turns CHECK lines into TAP cases and fails the run when END
is missing (an early exit). A check that cannot be made here is a CHECK 0 with
a "# SKIP" description, counted as skipped. Names and limits come from
proto/proto.h through tests/integration/hv.py.
"""
import importlib.util
import json
import os
import random
import socket
import sys
import threading
import time

TOP = os.environ.get("top_srcdir") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
spec = importlib.util.spec_from_file_location("hv", os.path.join(TOP, "tests", "integration", "hv.py"))
hv = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hv)
P = hv.P

SOCK, PID = sys.argv[1], int(sys.argv[2])
RSS_BOUND_KB = int(os.environ.get("STRESS_RSS_BOUND_KB", 64 * 1024))
PROMPT_MS = float(os.environ.get("STRESS_PROMPT_MS", 1000))
CONNECTIONS = int(os.environ.get("STRESS_CONNECTIONS", 10000))
SANITIZED = False     # set in main()
CLOSE_GRACE_S = 5.5   # refused clients linger up to the daemon's CLOSE_GRACE_MS (server.c)


CHECKS = 0


def check(ok, what):
    global CHECKS
    CHECKS += 1
    print("CHECK %d %s" % (0 if ok else 1, what), flush=True)


def skip(what):
    check(True, "# SKIP " + what)


def diag(text):
    print("# " + text, flush=True)


def sanitized():
    """Under AddressSanitizer RSS is mostly its quarantine and shadow memory."""
    try:
        with open("/proc/%d/maps" % PID) as f:
            return "libasan" in f.read()
    except OSError:
        return False


def check_memory(ok, what):
    """A memory bound: checked in the plain build only (see sanitized())."""
    if SANITIZED:
        skip("under AddressSanitizer: " + what)
    else:
        check(ok, what)


def request(method, params=None, rid=1):
    r = {P["F_JSONRPC"]: "2.0", P["F_METHOD"]: method, P["F_ID"]: rid}
    if params is not None:
        r[P["F_PARAMS"]] = params
    return (json.dumps(r, separators=(",", ":")) + "\n").encode()


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(SOCK)
    return s


def proc_kb(field):
    try:
        with open("/proc/%d/status" % PID) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def alive():
    try:
        os.kill(PID, 0)
        return True
    except OSError:
        return False


def read_all(s, idle=5.0, limit=None):
    """Every line until EOF or idle seconds of silence: (lines, eof)."""
    lines = hv.read_lines(s, idle, want=limit)
    eof = bool(lines) and lines[-1] == "EOF"
    return [l for l in lines if l not in ("EOF", "TIMEOUT")], eof


def error_code(line):
    try:
        return json.loads(line)[P["F_ERROR"]][P["F_CODE"]]
    except (ValueError, KeyError, TypeError):
        return None


class Probe(threading.Thread):
    """A well-behaved client: one status request every 10 ms on its own
    connection, a fresh one per phase (the daemon may close idle ones)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.lat, self.failures, self.stop, self.phase_lat = [], 0, False, {}
        self.phase = "start"
        self.max_rss = 0

    def run(self):
        rid = 0
        s = None
        while not self.stop:
            self.max_rss = max(self.max_rss, proc_kb("VmRSS"))
            try:
                if s is None:
                    s = connect()
                rid += 1
                t0 = time.monotonic()
                s.sendall(request(P["M_STATUS"], rid=rid))
                lines = hv.read_lines(s, 30, want=1)   # slow is measured as latency, lost as failure
                ms = (time.monotonic() - t0) * 1000
                if lines[0] in ("EOF", "TIMEOUT"):
                    raise ValueError("%s after %.0f ms" % (lines[0], (time.monotonic() - t0) * 1000))
                reply = json.loads(lines[0])
                if reply.get(P["F_ID"]) != rid or P["F_RESULT"] not in reply:
                    raise ValueError(lines[0][:200])
                self.lat.append(ms)
                self.phase_lat.setdefault(self.phase, []).append(ms)
            except (OSError, ValueError, IndexError) as e:
                self.failures += 1
                diag("probe failure in phase %s: %s" % (self.phase, e))
                s = None
            time.sleep(0.01)


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))] if v else float("nan")


def phase_connections(n):
    """n connections opened and dropped, in waves below the client limit; every
    fourth sends half a request line first."""
    wave = 64
    opened = 0
    refused = 0
    while opened < n:
        conns = []
        for _ in range(min(wave, n - opened)):
            try:
                conns.append(connect())
            except OSError:
                refused += 1
            opened += 1
        for i, c in enumerate(conns):
            if i % 4 == 0:
                try:
                    c.send(b'{"jsonrpc":"2.0","method":"' + P["M_STATUS"].encode()[:3])
                except OSError:
                    pass
            c.close()
    diag("%d connections opened and dropped (%d refused at connect)" % (opened, refused))
    # The daemon must have let them all go: a full set of clients fits again.
    t0 = time.monotonic()
    while time.monotonic() - t0 < 15:
        try:
            c = connect()
            c.sendall(request(P["M_VERSION"]))
            lines, _ = read_all(c, 5, limit=1)
            c.close()
            if lines and P["F_RESULT"] in json.loads(lines[0]):
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    diag("after the storm a new client was served again after %.1f s" % (time.monotonic() - t0))
    # Refused clients may linger up to the close grace period: not a fixed
    # sleep for it, but a full set of clients tried again until all of them
    # are served at once, within the grace period and 5 s more.
    want = P["MAX_CLIENTS"] - 28  # room for the probe and lingering closers
    t0 = time.monotonic()
    tries = 0
    while True:
        tries += 1
        conns = [connect() for _ in range(want)]
        ok = 0
        for i, c in enumerate(conns):
            c.sendall(request(P["M_VERSION"], rid=i))
        for c in conns:
            lines, _ = read_all(c, 5, limit=1)
            try:
                ok += bool(lines) and P["F_RESULT"] in json.loads(lines[0])
            except ValueError:
                pass
            c.close()
        if ok == want or time.monotonic() - t0 > CLOSE_GRACE_S + 5:
            break
        time.sleep(0.2)
    check(ok == want, "after %d dropped connections, %d new clients are all served at once (%d; %d tries in %.1f s)"
          % (n, want, ok, tries, time.monotonic() - t0))


def phase_half_lines():
    """Clients that send half a line and then sit there (well under the idle timeout)."""
    conns = []
    for i in range(40):
        c = connect()
        c.sendall(b'{"jsonrpc":"2.0","id":%d,"method":"' % i)
        conns.append(c)
    time.sleep(1.0)
    # Completing the line later gets the answer: the half line was kept, not lost.
    c = conns[0]
    c.sendall(P["M_VERSION"].encode() + b'"}\n')
    lines, _ = read_all(c, 5, limit=1)
    check(bool(lines) and P["F_RESULT"] in json.loads(lines[0]), "a half-sent line completed a second later is answered")
    for c in conns:
        c.close()


def phase_huge_line(total=100 << 20):
    """A 100 MB line: cut at PROTO_MAX_LINE with a JSON-RPC error, never buffered."""
    c = connect()
    chunk = b"x" * (1 << 20)
    sent = 0
    hwm0 = proc_kb("VmHWM")
    c.settimeout(10)
    try:
        while sent < total:
            sent += c.send(chunk)
    except OSError as e:
        diag("100 MB line: the daemon stopped taking bytes after %d bytes (%s)" % (sent, e.__class__.__name__))
    c.settimeout(None)
    lines, eof = read_all(c, 5)
    code = error_code(lines[0]) if lines else None
    check(code == P["ERR_LIMIT"], "100 MB line -> error %s (limit), got %s" % (P["ERR_LIMIT"], lines[:1]))
    check(eof, "100 MB line: connection closed after the error")
    check(sent < 16 << 20, "100 MB line: cut off early (%d bytes accepted before the close)" % sent)
    c.close()
    diag("100 MB line: VmHWM %d -> %d kB" % (hwm0, proc_kb("VmHWM")))


def phase_garbage():
    """Binary garbage (random bytes with newlines): typed errors, no crash."""
    rnd = random.Random(6)
    c = connect()
    data = bytes(rnd.getrandbits(8) for _ in range(1 << 18))
    try:
        c.sendall(data + b"\n")
    except OSError:
        pass
    lines, eof = read_all(c, 3)
    codes = {error_code(l) for l in lines}
    allowed = {P["ERR_PARSE"], P["ERR_INVALID_REQUEST"], P["ERR_LIMIT"]}
    check(bool(lines) and codes <= allowed, "256 KiB of binary garbage -> %d error lines, codes %s" % (len(lines), sorted(c for c in codes if c)))
    c.close()


def phase_nested():
    """Deeply nested JSON within the line limit: refused with a typed error."""
    cases = {
        "array 30000 deep": b"[" * 30000 + b"]" * 30000,
        "params 10000 deep": b'{"jsonrpc":"2.0","id":1,"method":"' + P["M_STATUS"].encode() + b'","params":'
                             + b'{"a":' * 10000 + b"1" + b"}" * 10000 + b"}",
        "id 5000 deep": b'{"jsonrpc":"2.0","id":' + b"[" * 5000 + b"]" * 5000 + b',"method":"x"}',
    }
    for name, line in cases.items():
        c = connect()
        c.sendall(line + b"\n")
        lines, _ = read_all(c, 3, limit=1)
        code = error_code(lines[0]) if lines else None
        check(code in (P["ERR_PARSE"], P["ERR_INVALID_REQUEST"], P["ERR_INVALID_PARAMS"]),
              "nested JSON (%s, %d bytes) -> typed error (got %s)" % (name, len(line), code))
        c.close()


def phase_slow_readers():
    """A client pipelining requests it never reads is paused (backpressure:
    the daemon stops reading it) without growing, and gets every reply once it
    reads; subscribers that never read do not make the daemon grow without bound."""
    hog = connect()
    hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    req = request(P["M_STATUS"])
    sent = 0
    hog.settimeout(20)
    try:
        # Replies are ~1 KB: 40000 of them are ~10x the output limit.
        for _ in range(40):
            hog.sendall(req * 1000)
            sent += 1000
    except OSError as e:
        diag("non-reader: the daemon stopped taking requests after %d (%s)" % (sent, e.__class__.__name__))
    hog.settimeout(None)
    rss_mid = proc_kb("VmRSS")
    check(sent < 40000, "a client that never reads its replies is paused: %d of 40000 requests taken" % sent)
    check_memory(rss_mid < RSS_BOUND_KB, "while it is paused the daemon holds VmRSS %d kB, under %d kB" % (rss_mid, RSS_BOUND_KB))
    hog.shutdown(socket.SHUT_WR)
    lines, eof = read_all(hog, 5)
    bad = [l for l in lines if error_code(l) is not None or P["F_RESULT"] not in json.loads(l)]
    diag("non-reader: sent %d whole requests (and part of the next 1000), read back %d replies then %s"
         % (sent, len(lines), "EOF" if eof else "no EOF"))
    check(len(lines) >= sent and not bad and eof,
          "once it reads it gets a result for every request it sent (%d replies, %d not results)" % (len(lines), len(bad)))
    hog.close()

    subs = []
    for i in range(8):
        s = connect()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(request(P["M_SUBSCRIBE"], rid=i))
        subs.append(s)
    setter = connect()
    t_end = time.monotonic() + float(os.environ.get("STRESS_SUBSCRIBER_SEC", 8))
    n = 0
    while time.monotonic() < t_end:
        setter.sendall(request(P["M_POOL_SET"], {P["F_SIZE"]: "2M", P["F_PAGES"]: 10 + n % 50, P["F_PERSIST"]: False}, rid=n))
        hv.read_lines(setter, 10, want=1)
        n += 1
    rss = proc_kb("VmRSS")
    cut = 0
    for s in subs:
        lines, eof = read_all(s, 2)
        cut += eof
        s.close()
    setter.close()
    diag("8 subscribers that never read, %d pool.set calls: %d cut off at the output limit; VmRSS %d kB" % (n, cut, rss))
    check_memory(rss < RSS_BOUND_KB, "with stuck subscribers VmRSS %d kB stays under %d kB" % (rss, RSS_BOUND_KB))


def main():
    global SANITIZED
    SANITIZED = sanitized()
    check(alive(), "daemon running before the abuse")
    rss0 = proc_kb("VmRSS")
    probe = Probe()
    probe.start()
    # The connection storm last: VmHWM is checked before it and after it.
    phases = [("half-lines", phase_half_lines), ("100MB-line", phase_huge_line), ("garbage", phase_garbage),
              ("nested", phase_nested), ("slow-readers", phase_slow_readers),
              ("connections", lambda: phase_connections(CONNECTIONS))]
    only = os.environ.get("STRESS_PHASES")
    if only:
        for name, _ in phases:
            if name not in only.split(","):
                skip("phase %s: not in STRESS_PHASES=%s" % (name, only))
        phases = [ph for ph in phases if ph[0] in only.split(",")]
    for name, fn in phases:
        if name == "connections":
            hwm = proc_kb("VmHWM")
            check_memory(0 < hwm < RSS_BOUND_KB, "before the connection storm: VmHWM %d kB under %d kB" % (hwm, RSS_BOUND_KB))
        probe.phase = name
        t0 = time.monotonic()
        try:
            fn()
        except Exception as e:  # a phase that blew up is a failure, the rest still run
            check(False, "phase %s raised %r" % (name, e))
        diag("phase %s: %.1f s, daemon VmRSS %d kB, VmHWM %d kB" % (name, time.monotonic() - t0, proc_kb("VmRSS"), proc_kb("VmHWM")))
        check(alive(), "daemon alive after phase %s" % name)
    probe.stop = True
    probe.join(15)
    for name, _ in phases:
        v = probe.phase_lat.get(name, [])
        diag("well-behaved client during %-12s: %4d requests, p50 %.2f ms, p99 %.2f ms, max %.2f ms"
             % (name, len(v), pct(v, 0.5), pct(v, 0.99), max(v) if v else float("nan")))
        if not v:
            skip("well-behaved client during %s: the phase was over before its next request" % name)
            continue
        worst = max(v)
        check(worst < PROMPT_MS, "well-behaved client during %s: worst latency %.1f ms under %.0f ms"
              % (name, worst, PROMPT_MS))
    check(probe.failures == 0, "the well-behaved client was answered every time (%d failures)" % probe.failures)
    hwm = proc_kb("VmHWM")
    diag("daemon memory: VmRSS %d kB before, max sampled %d kB, %d kB after; VmHWM %d kB"
         % (rss0, probe.max_rss, proc_kb("VmRSS"), hwm))
    check_memory(0 < hwm < RSS_BOUND_KB, "after everything: VmHWM %d kB under the bound %d kB"
          % (hwm, RSS_BOUND_KB))


if __name__ == "__main__":
    main()
    print("END %d" % CHECKS, flush=True)
