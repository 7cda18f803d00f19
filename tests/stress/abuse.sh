#!/bin/bash
# Abuse on the control socket (stress/abuse.py): 10,000 connections opened and
# dropped, half-sent lines, a 100 MB line, binary garbage, deeply nested JSON,
# clients that never read (pipelining or subscribed). A well-behaved client's
# latency is measured throughout; the daemon's memory stays under a bound.
# The daemon runs on the fake kernel (tests/fakekernel).
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/stress/common.sh"

stress_fakekernel
write_config <<EOF2
HVO=no
[Pool 2M]
Pages=4
EOF2
start_daemon
tap_ok $? "hugevmd starts" || { show_log; stress_done; }
stress_py abuse.py 240 python3 "$top_srcdir/tests/stress/abuse.py" "$sock" "$daemon_pid"
r=$(ctl status --json 2>/dev/null)
tap_ok $? "status answers after the abuse"
stop_daemon
tap_is "$daemon_status" 0 "daemon exits cleanly after the abuse"
[ "$tap_failed" -eq 0 ] || show_log 20
stress_done
