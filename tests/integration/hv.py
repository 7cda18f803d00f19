#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Protocol helper for the integration tests: talks to hugevmd's socket
directly, for the corners hugevmctl never produces.

Every protocol name comes from proto/proto.h (parsed here), never spelled twice:
in params and paths, @F_SIZE stands for the JSON string of PROTO_F_SIZE, and a
path segment F_CODE for PROTO_F_CODE.

  hv.py const NAME                  value of PROTO_NAME (#define, or from the lists
                                    PROTO_METHODS and PROTO_ERRORS)
  hv.py env                         every PROTO_NAME as a shell assignment P_NAME=value
  hv.py call SOCK METHOD [PARAMS]   one request (METHOD: M_STATUS or a literal);
                                    prints the reply line, or EOF / TIMEOUT
  hv.py raw SOCK [IDLE_SEC [N]]     send stdin as is; print every line received
                                    until EOF (then "EOF"), IDLE_SEC of silence
                                    (then "TIMEOUT") or N lines
  hv.py flood SOCK N                open N connections, then one more: print its
                                    first reply line to a version request
  hv.py batch SOCK                  cases on stdin, one per line, tab-separated:
                                    DESCRIPTION METHOD PARAMS EXPECT, EXPECT being
                                    "result" or an error name (ERR_PARSE); prints
                                    "0|1 DESCRIPTION" per case (1 = failed, with
                                    the reply), one connection for all
  hv.py get PATH [PATH...]          read JSON from stdin, print each value at PATH
                                    (a.b.0.c; strings raw, else JSON; MISSING)
  hv.py valid FILE                  exit 0 if FILE is one JSON object
  hv.py serve SOCK MODE             a broken daemon for one connection: read a
                                    request, then MODE: close (no reply), partial
                                    (half a line, then close), garbage (not JSON)
"""
import errno
import json
import os
import re
import select
import socket
import sys
import time

TOP = os.environ.get("top_srcdir") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def list_macro(text, name):
    """The entries X(ID, ...) of proto.h's list macro NAME, as argument lists."""
    m = re.search(r'^#define\s+%s\(X\)((?:.*\\\n)*.*)$' % name, text, re.M)
    return [[a.strip() for a in e.split(",")] for e in re.findall(r'\bX\(([^()]*(?:\([^()]*\))?[^()]*)\)', m.group(1))]


def load_proto():
    names = {}
    text = open(os.path.join(TOP, "proto", "proto.h")).read()
    for m in re.finditer(r'^#define\s+PROTO_(\w+)\s+"([^"]*)"', text, re.M):
        names[m.group(1)] = m.group(2)
    for m in re.finditer(r'^#define\s+PROTO_(\w+)\s+\(?(\d+)u?(?:\s*<<\s*(\d+))?\)?\s*(?:/\*.*)?$', text, re.M):
        names[m.group(1)] = int(m.group(2)) << int(m.group(3) or 0)
    # The lists: X(ID, c_name, "name", role, (params)) and X(ID, code, "name").
    for args in list_macro(text, "PROTO_METHODS"):
        names["M_" + args[0]] = json.loads(args[2])
    for args in list_macro(text, "PROTO_ERRORS"):
        names["ERR_" + args[0]] = int(args[1])
    return names


P = load_proto()


def expand(text):
    def sub(m):
        return json.dumps(P[m.group(1)])
    return re.sub(r'@([A-Z][A-Z0-9_]*)', sub, text)


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def read_lines(s, idle, want=None):
    """Lines until EOF, `want` lines, or `idle` seconds of silence."""
    buf, lines = b"", []
    while want is None or len(lines) < want:
        r, _, _ = select.select([s], [], [], idle)
        if not r:
            lines.append("TIMEOUT")
            break
        try:
            chunk = s.recv(1 << 16)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            if buf:
                lines.append(buf.decode(errors="replace"))
            lines.append("EOF")
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            lines.append(line.decode(errors="replace"))
    return lines


def method_name(arg):
    return P[arg] if arg in P else arg


def cmd_call(sock, method, params=None):
    req = {P["F_JSONRPC"]: "2.0", P["F_METHOD"]: method_name(method), P["F_ID"]: 1}
    if params is not None:
        req[P["F_PARAMS"]] = json.loads(expand(params))
    s = connect(sock)
    s.sendall((json.dumps(req, separators=(",", ":")) + "\n").encode())
    print(read_lines(s, 10, want=1)[0])


def cmd_raw(sock, idle="2", want=None):
    s = connect(sock)
    data = expand(sys.stdin.read()).encode() if os.environ.get("HV_EXPAND") else sys.stdin.buffer.read()
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    for line in read_lines(s, float(idle), int(want) if want else None):
        print(line)


def cmd_flood(sock, n):
    """Keep up to n+1 connections open, each asking for the version; print
    which one was refused first and how (or that none was)."""
    conns = []
    for i in range(int(n) + 1):
        c = connect(sock)
        conns.append(c)
        try:
            c.sendall((json.dumps({P["F_JSONRPC"]: "2.0", P["F_METHOD"]: P["M_VERSION"], P["F_ID"]: 1}) + "\n").encode())
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = read_lines(c, 10, want=1)[0]
        if P["F_ERROR"] in reply or reply in ("EOF", "TIMEOUT"):
            print(i + 1, reply)
            return
    print(0, "none refused")


def cmd_batch(sock):
    s = connect(sock)
    for n, line in enumerate(sys.stdin.read().splitlines()):
        if not line.strip() or line.startswith("#"):
            continue
        desc, method, params, expect = line.split("\t")
        req = {P["F_JSONRPC"]: "2.0", P["F_METHOD"]: method_name(method), P["F_ID"]: n + 1}
        if params:
            req[P["F_PARAMS"]] = json.loads(expand(params))
        s.sendall((json.dumps(req, separators=(",", ":")) + "\n").encode())
        reply = read_lines(s, 10, want=1)[0]
        try:
            r = json.loads(reply)
            if expect == "result":
                good = P["F_RESULT"] in r and r.get(P["F_ID"]) == n + 1
            else:
                good = r[P["F_ERROR"]][P["F_CODE"]] == P[expect]
        except (ValueError, KeyError, TypeError):
            good = False
        print("%d %s -> %s" % (0 if good else 1, desc, expect))
        if not good:
            print("#   reply: " + reply[:500])
        sys.stdout.flush()


def cmd_get(*paths):
    doc = json.loads(sys.stdin.read())
    for path in paths:
        v = doc
        for seg in path.split("."):
            key = P[seg] if re.fullmatch(r"[A-Z][A-Z0-9_]*", seg) and seg in P else seg
            if isinstance(v, list) and re.fullmatch(r"\d+", key) and int(key) < len(v):
                v = v[int(key)]
            elif isinstance(v, dict) and key in v:
                v = v[key]
            else:
                v = "MISSING"
                break
        print(v if isinstance(v, str) else json.dumps(v))


def cmd_valid(path):
    with open(path) as f:
        sys.exit(0 if isinstance(json.load(f), dict) else 1)


def cmd_serve(path, mode):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    print("ready", flush=True)
    c, _ = srv.accept()
    read_lines(c, 10, want=1)
    if mode == "partial":
        c.sendall(b'{"jsonrpc":"2.0","res')
    elif mode == "garbage":
        c.sendall(b"this is not json\n")
        time.sleep(0.5)
    c.close()
    srv.close()


def cmd_pipeline(sock, n):
    """One client pipelines n status requests (the last without its newline,
    then EOF) and reads nothing for a second; another asks for the version
    meanwhile. Then the first reads everything. Prints: the other client's
    reply latency in ms, the replies the first got, whether their ids ran
    1..n in order with results only, whether EOF followed, the reply bytes."""
    import threading
    n = int(n)
    a = connect(sock)
    reqs = "".join(json.dumps({P["F_JSONRPC"]: "2.0", P["F_METHOD"]: P["M_STATUS"], P["F_ID"]: i + 1},
                              separators=(",", ":")) + "\n" for i in range(n))
    data = reqs[:-1].encode()   # the last line half-sent: EOF ends it

    def send():
        try:
            a.sendall(data)
            a.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    t = threading.Thread(target=send)
    t.start()
    time.sleep(1.0)
    b = connect(sock)
    t0 = time.monotonic()
    b.sendall((json.dumps({P["F_JSONRPC"]: "2.0", P["F_METHOD"]: P["M_VERSION"], P["F_ID"]: 1}) + "\n").encode())
    got = read_lines(b, 10, want=1)[0]
    latency = (time.monotonic() - t0) * 1000 if P["F_RESULT"] in got else -1
    b.close()
    lines = read_lines(a, 20)
    t.join()
    eof = bool(lines) and lines[-1] == "EOF"
    replies = [l for l in lines if l not in ("EOF", "TIMEOUT")]
    in_order = True
    for i, l in enumerate(replies):
        try:
            r = json.loads(l)
            in_order = in_order and r.get(P["F_ID"]) == i + 1 and P["F_RESULT"] in r
        except ValueError:
            in_order = False
        if not in_order:
            print("# reply %d: %s" % (i + 1, l[:300]))
            break
    print("%d %d %s %s %d" % (latency, len(replies), "yes" if in_order else "no", "yes" if eof else "no",
                              sum(len(l) + 1 for l in replies)))


def cmd_race(sock, seconds):
    """Connect the moment the socket path exists; print "accepted", or how the
    first connect to an existing path failed, or "none" if it never appeared."""
    end = time.monotonic() + float(seconds)
    while time.monotonic() < end:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(sock)
            print("accepted")
            return
        except FileNotFoundError:
            continue
        except OSError as e:
            print(errno.errorcode.get(e.errno, str(e.errno)))
            return
        finally:
            s.close()
    print("none")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "const":
        print(P[args[0].removeprefix("PROTO_")])
    elif cmd == "env":
        for k, v in sorted(P.items()):
            print("P_%s='%s'" % (k, v))
    elif cmd == "call":
        cmd_call(*args)
    elif cmd == "raw":
        cmd_raw(*args)
    elif cmd == "flood":
        cmd_flood(*args)
    elif cmd == "serve":
        cmd_serve(*args)
    elif cmd == "batch":
        cmd_batch(*args)
    elif cmd == "get":
        cmd_get(*args)
    elif cmd == "pipeline":
        cmd_pipeline(*args)
    elif cmd == "race":
        cmd_race(*args)
    elif cmd == "valid":
        try:
            cmd_valid(*args)
        except (ValueError, OSError):
            sys.exit(1)
    else:
        sys.exit("hv.py: unknown command " + cmd)


if __name__ == "__main__":
    main()
