#!/bin/bash
# The real hugevmd under a NOTIFY_SOCKET of our own (what systemd gives a
# Type=notify service) with WATCHDOG_USEC set: READY=1, STATUS=, WATCHDOG=1,
# then on SIGHUP RELOADING=1 (with MONOTONIC_USEC) and READY=1 again, then on
# SIGTERM STOPPING=1, in that order, and a clean exit.
. "$top_srcdir/tests/systemd/daemon-env.sh"
make_fakeroot
write_config
notify=$tmp/notify.sock
msgs=$tmp/notify.log
: >"$msgs"

python3 "$top_srcdir/tests/systemd/notify-capture.py" "$notify" "$msgs" 60 &
pids_to_kill=$!
poll_until 5 test -S "$notify"; tap_ok $? "notify socket listening"

# 400 ms watchdog: a ping every 200 ms.
NOTIFY_SOCKET=$notify WATCHDOG_USEC=400000 \
        "$HUGEVMD" --root "$root" --config "$conf" --socket "$tmp/hugevmd.sock" >"$log" 2>&1 &
daemon=$!
pids_to_kill="$pids_to_kill $daemon"

# line_of PATTERN [AFTER]: first line number > AFTER whose message matches.
line_of() { awk -v after="${2:-0}" -v re="$1" 'NR > after && $0 ~ re { print NR; exit }' "$msgs"; }
has() { [ -n "$(line_of "$@")" ]; }

poll_until 10 has '^READY=1$'; tap_ok $? "READY=1 once the socket listens"
ready=$(line_of '^READY=1$')
poll_until 10 has '^STATUS=.*converged' "$ready"; tap_ok $? "STATUS= says the pools converged"
# Readiness means "socket and config", not "pools": convergence is reported after it.
[ "$(line_of '^STATUS=all pools converged')" -gt "${ready:-999999}" ]
tap_ok $? "READY=1 does not wait for the pools"
grep '^STATUS=' "$msgs" | head -3 | sed 's/^/#   /'
# Over one second, 200 ms pings make about 5.
pings() { grep -c '^WATCHDOG=1$' "$msgs"; }
before=$(pings); sleep 1; n=$(($(pings) - before))
[ "$n" -ge 3 ] && [ "$n" -le 8 ]; tap_ok $? "WATCHDOG=1 every half interval ($n in 1 s at WATCHDOG_USEC=400000)"
[ "$(line_of '^WATCHDOG=1$')" -gt "$ready" ]; tap_ok $? "no WATCHDOG=1 before READY=1"

kill -HUP "$daemon"
poll_until 10 has '^RELOADING=1' "$ready"; tap_ok $? "SIGHUP: RELOADING=1"
reloading=$(line_of '^RELOADING=1' "$ready")
has '^RELOADING=1[|]MONOTONIC_USEC=[0-9]+$' "$ready"; tap_ok $? "RELOADING=1 carries MONOTONIC_USEC="
poll_until 10 has '^READY=1$' "${reloading:-999999}"; tap_ok $? "READY=1 again after the reload"
ready2=$(line_of '^READY=1$' "${reloading:-999999}")

kill -TERM "$daemon"
for _ in $(seq 100); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
wait "$daemon"
tap_is "$?" 0 "SIGTERM: clean exit"
poll_until 5 has '^STOPPING=1$' "${ready2:-999999}"; tap_ok $? "STOPPING=1 after the second READY=1"
stopping=$(line_of '^STOPPING=1$')
! has '^(READY|RELOADING)=1' "${stopping:-0}"; tap_ok $? "nothing claims readiness after STOPPING=1"

echo "# order seen (watchdog pings folded):"
uniq "$msgs" | sed 's/^/#   /'
[ "$tap_failed" -eq 0 ] || show_log
tap_done
