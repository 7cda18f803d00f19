#!/bin/bash
# Runtime targets survive restarts (persisted through the state file), runtime
# only ones do not; kill -9 at any moment leaves a readable state file and the
# restarted daemon converges to the last accepted target.
. "$top_srcdir/tests/integration/common.sh"

# Room on node 1 for the 1G page set there (a node of 1 GiB, half of it for
# hugetlb, has none).
make_fakeroot -s mem=2G -s hugemem=1536M
write_config <<EOF
HVO=yes
[Pool 2M]
Pages=4
EOF
start_daemon
tap_ok $? "hugevmd starts" || { show_log; tap_done; exit 1; }
nr=$(pool_file 2048kB nr_hugepages)
statefile=$state/state.json

ctl set 2M 24 >/dev/null 2>&1
tap_is $? 0 "set 2M 24 (persisted)"
hv valid "$statefile"
tap_ok $? "state file written and valid JSON"
ctl set 1G 1 --node 1 >/dev/null 2>&1
tap_is $? 0 "set 1G 1 --node 1 (persisted)"
stop_daemon
tap_is $? 0 "SIGTERM: exit 0"
echo 0 >"$nr"
echo 0 >"$root/sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages"
start_daemon
tap_ok $? "hugevmd restarts" || show_log
poll_until 5 file_is "$nr" 24
tap_ok $? "restart: 2M target 24 restored from the state file (not the config's 4)"
poll_until 5 file_is "$root/sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages" 1
tap_ok $? "restart: per-node 1G target restored"
tap_is "$(ctl --json status | hv get F_POOLS.0.F_TARGET)" 24 "status shows the restored target"

ctl set 2M 30 --runtime >/dev/null 2>&1
tap_is $? 0 "set 2M 30 --runtime"
poll_until 5 file_is "$nr" 30
stop_daemon
start_daemon
poll_until 5 file_is "$nr" 24
tap_ok $? "restart: a runtime-only target is not restored (back to 24)"

# kill -9 right after an accepted change, several times: the state file is
# always whole, and the restart converges to the last accepted target.
for t in 41 42 43 44 45; do
        ctl set 2M $t >/dev/null 2>&1
        rc=$?
        kill -KILL "$daemon_pid"
        wait "$daemon_pid" 2>/dev/null
        daemon_pid=
        tap_is $rc 0 "set 2M $t accepted before kill -9"
        hv valid "$statefile"
        tap_ok $? "state file valid JSON after kill -9 (target $t)"
        ls "$state" | grep -v '^state.json$' | sed 's/^/# leftover in state dir: /'
        echo 0 >"$nr"
        start_daemon
        poll_until 5 file_is "$nr" $t
        tap_ok $? "restart after kill -9 converges to the last accepted target $t"
done

# kill -9 while requests are in flight: whatever was last accepted wins.
( for t in $(seq 50 80); do "$HUGEVMCTL" --socket "$sock" set 2M $t >/dev/null 2>&1 && echo $t >>"$tmp/accepted"; done ) &
writer=$!
poll_until 10 test -s "$tmp/accepted" # some accepted, more in flight
kill -KILL "$daemon_pid"
wait "$daemon_pid" 2>/dev/null
daemon_pid=
wait $writer
hv valid "$statefile"
tap_ok $? "state file valid JSON after kill -9 amid a stream of changes"
last=$(tail -1 "$tmp/accepted" 2>/dev/null)
saved=$("$PYTHON" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$statefile")
echo "# last accepted: ${last:-none}; state file: $saved"
start_daemon
tap_ok $((${last:-0} == 0)) "some changes were accepted before the kill (last: ${last:-none})"
# The last accepted one, or one the daemon accepted whose reply the kill cut off.
poll_until 5 sh -c "v=\$(cat '$nr'); [ \"\$v\" -ge ${last:-50} ] && [ \"\$v\" -le 80 ]"
tap_ok $? "restart converges to the last accepted target (${last:-none}) or a later one ($(cat "$nr"))"

# The socket path appears only once it accepts: a client that connects the
# moment the file exists is never refused (bind, listen, then rename into place).
refused=
for i in $(seq 1 15); do
        stop_daemon
        rm -f "$sock"
        hv race "$sock" 10 >"$tmp/race" &
        race_pid=$!
        "$HUGEVMD" --root "$root" --config "$conf" --socket "$sock" --foreground >>"$log" 2>&1 &
        daemon_pid=$!
        wait $race_pid
        r=$(cat "$tmp/race")
        [ "$r" = accepted ] || refused="$refused $i:$r"
done
tap_is "${refused:-none}" none "15 starts: a client racing the socket file is never refused"
ls "$tmp/run" | grep -q "\.tmp$"
tap_ok $((!$?)) "no temporary socket name is left behind"

# A second hugevmd on the same socket gives up, and touches nothing of the
# first one's: not its state file, not its pools (even with ShrinkOnExit=yes).
write_config <<EOF
ShrinkOnExit=yes
[Pool 2M]
Pages=4
EOF
ctl reload >/dev/null 2>&1
ctl set 2M 7 --wait --timeout 10 >/dev/null 2>&1
tap_is "$(cat "$(pool_file 2048kB nr_hugepages)")" 7 "the first hugevmd holds the pool at 7"
state_before=$(cat "$state/state.json")
timeout 10 "$HUGEVMD" --root "$root" --config "$conf" --socket "$sock" --foreground >"$tmp/second.log" 2>&1
tap_is $? 1 "a second hugevmd on the same socket exits 1"
grep -q "Another hugevmd is already listening" "$tmp/second.log"
tap_ok $? "... saying another hugevmd listens there"
tap_is "$(cat "$(pool_file 2048kB nr_hugepages)")" 7 "... and the first one's pool is untouched (no ShrinkOnExit)"
tap_is "$(cat "$state/state.json")" "$state_before" "... and so is its state file"

stop_daemon
tap_is $? 0 "hugevmd exits 0 on SIGTERM"
daemon_log_clean
tap_ok $? "no sanitizer report in the daemon log"
[ "$tap_failed" -eq 0 ] || show_log
tap_done
