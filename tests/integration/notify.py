#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Notifications for the integration tests: a subscriber that writes what it
gets to a file as it arrives, and waits on that file, so that a test waits for
an event instead of sleeping. Names come from proto/proto.h through hv.py:
METHOD is N_PROGRESS, N_POOL_CHANGED or N_VMEMMAP (or a literal), FIELD a
PROTO_F_* name without the prefix's P (F_SIZE) or a literal.

  notify.py listen SOCK
        subscribe; print "SUBSCRIBED" once the daemon said so, then every
        notification line as received (flushed), until EOF ("EOF") or an error
        line (printed as it came). Run it in the background into a file.
  notify.py wait FILE FROM SECONDS METHOD [FIELD=JSON ...]
        wait (polling FILE every 20 ms, at most SECONDS) for a notification
        METHOD after line FROM whose params hold every FIELD=JSON; print
        "LINE PARAMS-JSON" of the first and exit 0, else print what came and
        exit 1.
  notify.py list FILE FROM METHOD [FIELD=JSON ...]
        every such notification after line FROM so far: "LINE PARAMS-JSON"
        per line (nothing if none).
  notify.py lines FILE
        the number of lines in FILE (a mark for FROM).
"""
import importlib.util
import json
import os
import socket
import sys
import time

TOP = os.environ.get("top_srcdir") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
spec = importlib.util.spec_from_file_location("hv", os.path.join(TOP, "tests", "integration", "hv.py"))
hv = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hv)
P = hv.P


def name(text):
    return P[text] if text in P else text


def listen(sock):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    req = {P["F_JSONRPC"]: "2.0", P["F_METHOD"]: P["M_SUBSCRIBE"], P["F_ID"]: 1}
    s.sendall((json.dumps(req) + "\n").encode())
    buf = b""
    while True:
        chunk = s.recv(1 << 16)
        if not chunk:
            print("EOF", flush=True)
            return
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            text = line.decode(errors="replace")
            try:
                doc = json.loads(text)
            except ValueError:
                print(text, flush=True)
                continue
            if doc.get(P["F_ID"]) == 1 and P["F_RESULT"] in doc:
                print("SUBSCRIBED", flush=True)
            else:
                print(text, flush=True)


def matches(path, start, method, conds):
    """(line number, params) of every notification METHOD after line START
    whose params hold every condition."""
    want = [(name(k), json.loads(v)) for k, v in (c.split("=", 1) for c in conds)]
    out = []
    try:
        with open(path) as f:
            lines = f.read().split("\n")
    except OSError:
        return out
    for n, text in enumerate(lines, 1):
        if n <= start or not text.startswith("{"):
            continue
        try:
            doc = json.loads(text)
        except ValueError:
            continue   # a line still being written
        if doc.get(P["F_METHOD"]) != name(method):
            continue
        params = doc.get(P["F_PARAMS"], {})
        if all(k in params and params[k] == v for k, v in want):
            out.append((n, params))
    return out


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "listen":
        listen(args[0])
    elif cmd == "wait":
        path, start, secs, method, conds = args[0], int(args[1]), float(args[2]), args[3], args[4:]
        end = time.monotonic() + secs
        while True:
            found = matches(path, start, method, conds)
            if found:
                print(found[0][0], json.dumps(found[0][1], separators=(",", ":")))
                return
            if time.monotonic() > end:
                break
            time.sleep(0.02)
        print("# no %s %s after line %d within %g s; came:" % (name(method), " ".join(conds), start, secs))
        with open(path) as f:
            for n, text in enumerate(f.read().split("\n"), 1):
                if n > start and text:
                    print("#   %d: %s" % (n, text[:300]))
        sys.exit(1)
    elif cmd == "list":
        for n, params in matches(args[0], int(args[1]), args[2], args[3:]):
            print(n, json.dumps(params, separators=(",", ":")))
    elif cmd == "lines":
        with open(args[0]) as f:
            print(len(f.read().split("\n")) - 1)
    else:
        sys.exit("notify.py: unknown command " + cmd)


if __name__ == "__main__":
    main()
