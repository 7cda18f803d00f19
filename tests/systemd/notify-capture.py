#!/usr/bin/env python3
"""Stand in for systemd's NOTIFY_SOCKET: bind an AF_UNIX datagram socket and
append every message to OUTFILE, one per line ("\n" inside a message written
as "|"). Ends on SIGTERM or after LIMIT seconds (default 120)."""
import signal
import socket
import sys
import time

path, out = sys.argv[1], sys.argv[2]
limit = float(sys.argv[3]) if len(sys.argv) > 3 else 120.0
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
sock.settimeout(0.2)
deadline = time.monotonic() + limit
with open(out, "a", buffering=1) as f:
    while time.monotonic() < deadline:
        try:
            msg = sock.recv(65536)
        except socket.timeout:
            continue
        f.write(msg.decode("utf-8", "replace").replace("\n", "|") + "\n")
