#!/bin/bash
# Socket activation as systemd does it, through systemd-socket-activate: the
# daemon starts on the first connection, serves it on the passed socket (fd
# 3, LISTEN_FDS=1), binds no socket of its own, and leaves the passed one in
# place when it stops (systemd owns it and keeps it across restarts).
. "$top_srcdir/tests/systemd/daemon-env.sh"
command -v systemd-socket-activate >/dev/null || tap_skip_all "systemd-socket-activate not installed (Debian package systemd)"
[ -x "$HUGEVMCTL" ] || tap_skip_all "hugevmctl is not built yet ($HUGEVMCTL)"
make_fakeroot
write_config
sock=$tmp/activated.sock
own=$tmp/own.sock

systemd-socket-activate -l "$sock" -- "$HUGEVMD" --root "$root" --config "$conf" --socket "$own" >"$log" 2>&1 &
pid=$!
pids_to_kill=$pid
poll_until 5 test -S "$sock"; tap_ok $? "systemd-socket-activate listens on $sock"
# Not a pause but the event: it said where it listens and sleeps in
# epoll_wait for a connection; whatever it would start before one, it has.
waiting() {
        grep -q "^Listening on $sock" "$log" || return 1
        case $(cat /proc/$pid/wchan 2>/dev/null) in *poll*) return 0 ;; *) return 1 ;; esac   # do_epoll_wait
}
poll_until 5 waiting; tap_ok $? "systemd-socket-activate waits for a connection"
tap_is "$(cat /proc/$pid/comm 2>/dev/null)" systemd-socket- "no daemon before the first connection"

out=$("$HUGEVMCTL" --socket "$sock" --json status 2>&1)
tap_ok $? "the first request starts the daemon and is answered"
printf '%s' "$out" | python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(0 if "pools" in d else 1)'
tap_ok $? "the answer is a STATUS object"
tap_is "$(cat /proc/$pid/comm 2>/dev/null)" hugevmd "the daemon runs in the activated process"
grep -q "passed by systemd" "$log"; tap_ok $? "the daemon says it uses the passed socket"
[ ! -e "$own" ]; tap_ok $? "no socket of its own bound"
"$HUGEVMCTL" --socket "$sock" version >/dev/null 2>&1; tap_ok $? "a second connection is served too"

kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
wait "$pid"
tap_is "$?" 0 "clean exit on SIGTERM"
[ -S "$sock" ]; tap_ok $? "the passed socket is left to its owner"
[ "$tap_failed" -eq 0 ] || show_log
tap_done
