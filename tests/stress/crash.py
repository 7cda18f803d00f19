#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""kill -9 hugevmd at random points while it takes pool.set requests (each one
persisted: a state file write) and resizes the pool, then restart it; repeat.
Every restart must find a valid state file holding the last accepted target
(the last pool.set that got a reply; or the one in flight at the kill, which
may or may not have landed) and converge the pool to it.

usage: crash.py ITERATIONS HUGEVMD ROOT CONF SOCK STATEDIR LOG
Prints "CHECK <0|1> <description>" and "# ..." lines, then "END <checks>"
(see abuse.py).
"""
import importlib.util
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time

TOP = os.environ.get("top_srcdir") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
spec = importlib.util.spec_from_file_location("hv", os.path.join(TOP, "tests", "integration", "hv.py"))
hv = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hv)
P = hv.P

ITER = int(sys.argv[1])
HUGEVMD, ROOT, CONF, SOCK, STATEDIR, LOG = sys.argv[2:8]
POOL = os.path.join(ROOT, "sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")
STATE = os.path.join(STATEDIR, "state.json")
SIZE_KB = 2048
BUDGET_S = float(os.environ.get("STRESS_CRASH_BUDGET_S", 90))


CHECKS = 0


def check(ok, what):
    global CHECKS
    CHECKS += 1
    print("CHECK %d %s" % (0 if ok else 1, what), flush=True)


def diag(text):
    print("# " + text, flush=True)


def request(method, params, rid):
    return (json.dumps({P["F_JSONRPC"]: "2.0", P["F_METHOD"]: method, P["F_PARAMS"]: params, P["F_ID"]: rid},
                       separators=(",", ":")) + "\n").encode()


def start(log):
    try:
        os.unlink(SOCK)
    except FileNotFoundError:
        pass
    p = subprocess.Popen([HUGEVMD, "--root", ROOT, "--config", CONF, "--socket", SOCK, "--foreground"],
                         stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if p.poll() is not None:
            return p, False
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(SOCK)
            return p, s
        except OSError:
            time.sleep(0.005)
    return p, False


def call(s, method, params, rid):
    s.sendall(request(method, params, rid))
    lines = hv.read_lines(s, 10, want=1)
    return json.loads(lines[0]) if lines and lines[0] not in ("EOF", "TIMEOUT") else None


def state_target():
    """The 2048kB target in the state file: (valid, pages or None)."""
    try:
        with open(STATE) as f:
            doc = json.load(f)
    except FileNotFoundError:
        return True, None
    except (ValueError, OSError):
        return False, None
    for pool in doc.get("pools", []):
        if pool.get("size_kb") == SIZE_KB:
            return True, pool.get("pages")
    return True, None


def main():
    rnd = random.Random(int(os.environ.get("STRESS_SEED", time.time())))
    t_start = time.monotonic()
    log = open(LOG, "ab")
    acked, inflight = None, None  # last target with a reply; one sent without
    bad_state = bad_target = not_converged = start_fail = 0
    kills_inflight = sets_total = leftovers_max = 0
    done = 0
    unreadable = 0    # kills after which the kernel's nr_hugepages was not a count
    for i in range(ITER):
        if time.monotonic() - t_start > BUDGET_S:
            diag("time budget of %.0f s spent after %d iterations" % (BUDGET_S, i))
            break
        p, s = start(log)
        if not s:
            start_fail += 1
            diag("iteration %d: the daemon did not start (exit %s)" % (i, p.poll()))
            p.kill()
            p.wait()
            break
        # 1. The state file it found is valid and holds an accepted target.
        valid, pages = state_target()
        if not valid:
            bad_state += 1
            diag("iteration %d: state file not valid JSON: %r" % (i, open(STATE, "rb").read()[:200]))
        want = {acked, inflight} - {None} if inflight is not None else {acked}
        if acked is not None and pages not in want:
            bad_target += 1
            diag("iteration %d: state file holds %s, accepted %s, in flight %s" % (i, pages, acked, inflight))
        leftovers = [f for f in os.listdir(STATEDIR) if f != "state.json"] if os.path.isdir(STATEDIR) else []
        leftovers_max = max(leftovers_max, len(leftovers))
        # 2. It converges to that target.
        expect = pages if pages is not None else 10
        converged = False
        deadline = time.monotonic() + 5
        rid = 0
        while time.monotonic() < deadline:
            rid += 1
            r = call(s, P["M_POOL_GET"], {P["F_SIZE"]: "2M"}, rid)
            res = (r or {}).get(P["F_RESULT"], {})
            if res.get(P["F_STATE"]) == P["STATE_CONVERGED"] and res.get(P["F_TARGET"]) == expect:
                with open(POOL) as f:
                    converged = int(f.read()) == expect
                if converged:
                    break
            time.sleep(0.01)
        if not converged:
            not_converged += 1
            diag("iteration %d: not converged to %s within 5 s: %s" % (i, expect, r))
        acked = pages if pages is not None else acked
        inflight = None
        # 3. New targets, and a kill -9 at a random moment among them.
        killer = threading.Timer(rnd.uniform(0.0, 0.03), lambda: p.send_signal(signal.SIGKILL))
        killer.start()
        try:
            for k in range(rnd.randint(1, 6)):
                # Any count, shorter or longer than the last: the fake kernel parses
                # each write as the kernel does (no stale digits left behind).
                target = rnd.randint(0, 99)
                inflight = target
                rid += 1
                sets_total += 1
                r = call(s, P["M_POOL_SET"], {P["F_SIZE"]: "2M", P["F_PAGES"]: target}, rid)
                if r is None:
                    break
                if P["F_RESULT"] not in r:
                    diag("iteration %d: pool.set refused: %s" % (i, r))
                    break
                acked, inflight = target, None
        except OSError:
            pass
        killer.join()
        p.send_signal(signal.SIGKILL)
        p.wait()
        # Wherever the kill landed (even between open and write), the kernel's
        # file holds a count: sysfs is never empty, nothing to repair here.
        with open(POOL) as f:
            text = f.read()
        if not text.strip().isdigit():
            unreadable += 1
            diag("iteration %d: after the kill nr_hugepages reads %r" % (i, text))
        s.close()
        kills_inflight += inflight is not None
        done += 1
    log.close()
    diag("%d kill -9 cycles in %.1f s, %d pool.set sent, %d kills with a pool.set in flight; up to %d leftover temp files in the state dir"
         % (done, time.monotonic() - t_start, sets_total, kills_inflight, leftovers_max))
    check(start_fail == 0, "the daemon restarted after every kill -9")
    check(done >= min(ITER, 200), "%d kill -9 cycles done (want %d)" % (done, min(ITER, 200)))
    check(bad_state == 0, "every restart found a valid state file (%d bad)" % bad_state)
    check(bad_target == 0, "every restart found the last accepted target (%d wrong)" % bad_target)
    check(not_converged == 0, "every restart converged to it (%d did not)" % not_converged)
    check(unreadable == 0, "after every kill -9 nr_hugepages reads a count (%d did not)" % unreadable)
    check(leftovers_max <= 1, "temp files from interrupted writes do not pile up (max %d seen)" % leftovers_max)


if __name__ == "__main__":
    main()
    print("END %d" % CHECKS, flush=True)
