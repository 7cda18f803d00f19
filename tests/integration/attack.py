#!/usr/bin/env python3
"""A hostile local user against hugevmd's control socket (run it as nobody).

  attack.py hold SOCK N       open up to N connections, ask each for "version"
                              (held: a result; refused: an error), print
                              "held H refused R busy-message", then trickle one
                              space a second on every held connection (never a
                              whole request) and print "closed C after S s" once
                              the daemon closed all of them (or 60 s passed)
  attack.py burst SOCK N      N connect()+close() in a tight loop on
                              non-blocking sockets; print "eagain E refused F"
  attack.py slowhttp PORT N   N HTTP connections to 127.0.0.1:PORT, each sending
                              a request line, then one header line every 2 s;
                              print "open K" once all K that were accepted sent
                              their first line, then "cut C after S s" once the
                              server closed C of them (or 30 s passed)
  attack.py squat PORT        listen on 127.0.0.1:PORT first; print "listening"
  attack.py waits SOCK N      pipeline N waits for the 2M pool on one connection;
                              print "busy B other O" once all but the parked
                              ones are answered (or 30 s passed)
"""
import errno
import json
import select
import socket
import sys
import threading
import time

REQUEST = b'{"jsonrpc":"2.0","id":1,"method":"version"}\n'


def read_line(s, deadline):
    buf = b""
    while b"\n" not in buf and time.monotonic() < deadline:
        r, _, _ = select.select([s], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            break
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf.split(b"\n", 1)[0]


def hold(path, n):
    held, refused, message = [], 0, ""
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
        except OSError:
            refused += 1
            s.close()
            continue
        try:
            s.sendall(REQUEST)
        except OSError:
            pass  # refused and closed already: its error line is still there to read
        try:
            line = read_line(s, time.monotonic() + 5)
        except OSError:
            line = b""
        reply = json.loads(line) if line else {}
        if "result" in reply:
            held.append(s)
        else:
            refused += 1
            message = reply.get("error", {}).get("message", "no reply")
            s.close()
    print(f"held {len(held)} refused {refused} {message}", flush=True)
    start = time.monotonic()
    open_ = list(held)
    while open_ and time.monotonic() - start < 60:
        for s in list(open_):
            try:
                s.send(b" ")
            except OSError:
                open_.remove(s)
        r, _, _ = select.select(open_, [], [], 1.0)
        for s in r:
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            # The daemon's idle error line, then EOF.
            if not data or b'"error"' in data:
                open_.remove(s)
    print(f"closed {len(held) - len(open_)} after {time.monotonic() - start:.1f} s", flush=True)


def burst(path, n):
    eagain = refused = 0
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(path)
        except BlockingIOError:
            eagain += 1
        except OSError as e:
            if e.errno == errno.EAGAIN:
                eagain += 1
            else:
                refused += 1
        s.close()
    print(f"eagain {eagain} refused {refused}", flush=True)


def slowhttp(port, n):
    conns = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", int(port)))
        try:
            s.sendall(b"GET /metrics HTTP/1.1\r\n")
            conns.append(s)
        except OSError:
            s.close()
    print(f"open {len(conns)}", flush=True)
    start = time.monotonic()
    open_ = list(conns)
    last_send = 0.0
    while open_ and time.monotonic() - start < 30:
        if time.monotonic() - last_send >= 2:
            last_send = time.monotonic()
            for s in list(open_):
                try:
                    s.send(b"X-Slow: 1\r\n")
                except OSError:
                    open_.remove(s)
        r, _, _ = select.select(open_, [], [], 0.5)
        for s in r:
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                open_.remove(s)
    print(f"cut {len(conns) - len(open_)} after {time.monotonic() - start:.1f} s", flush=True)


def waits(path, n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(30)
    line = b'{"jsonrpc":"2.0","id":1,"method":"wait","params":{"size":"2M"}}\n'
    # Send while reading: the daemon reads no more from a client that does
    # not read its replies (backpressure).
    threading.Thread(target=s.sendall, args=(line * n,), daemon=True).start()
    buf, busy, other = b"", 0, 0
    parked = 64
    try:
        while busy + other < n - parked:
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for reply in map(json.loads, lines):
                if reply.get("error", {}).get("message") == "too many waits pending on this connection":
                    busy += 1
                else:
                    other += 1
                    if other <= 3:  # what it was, for the log
                        print("other reply: " + json.dumps(reply)[:300], flush=True)
    except socket.timeout:
        pass
    print(f"busy {busy} other {other}", flush=True)


def squat(port, _):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the port may still have TIME_WAIT connections
    s.bind(("127.0.0.1", int(port)))
    s.listen(16)
    print("listening", flush=True)
    time.sleep(120)


if __name__ == "__main__":
    mode, target = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    {"hold": hold, "burst": burst, "slowhttp": slowhttp, "squat": squat, "waits": waits}[mode](target, count)
