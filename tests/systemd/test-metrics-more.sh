#!/bin/bash
# The metrics an operator expects beyond the pools (issue 14, item 9), from the
# real hugevmd on the fake kernel, scraped over HTTP; every value is worked out
# here independently: the page size from the size label, the retries from the
# daemon's "compacting, retry" log lines, the reload result from what this
# script made of the config, the process_* figures from /proc/PID. Then: the
# scrape passes promtool, a busy metrics port stops start-up naming the
# address, and after stop the textfile says hugevm_up 0 and nothing else.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/fakekernel/fakekernel.sh"

HUGEVMD=$top_builddir/daemon/hugevmd
[ -x "$HUGEVMD" ] || tap_skip_all "hugevmd is not built yet ($HUGEVMD)"
command -v python3 >/dev/null || tap_skip_all "python3 not installed"
command -v curl >/dev/null || tap_skip_all "curl not installed"
fk_usable || tap_skip_all_unless_ci "$fk_why"

tmp=$(mktemp -d /tmp/hugevm-mm.XXXXXX)
root=$tmp/root conf=$tmp/hugevmd.conf log=$tmp/daemon.log textfile=$tmp/textfile/hugevm.prom
pid= holder=
cleanup() {
        [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
        [ -n "$holder" ] && kill -KILL "$holder" 2>/dev/null
        fk_stop_all
        rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
mkdir -p "$tmp/state" "$tmp/textfile"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
poll_until() { # poll_until SECONDS COMMAND...
        local i=0
        while [ $i -lt $(($1 * 10)) ]; do "${@:2}" && return 0; sleep 0.1; i=$((i + 1)); done
        return 1
}
# write_config PAGES LISTEN
write_config() {
        cat >"$conf" <<CONF
[Daemon]
StateDirectory=$tmp/state
MetricsListen=$2
MetricsTextfile=$textfile
RefreshSec=1

[Pool 2048kB]
Pages=$1
CONF
}
scrape() { scraped=$(curl -sf --max-time 5 "http://127.0.0.1:$port/metrics"); }
# value NAME{LABELS}: the sample's value in the last scrape, or nothing.
value() { printf '%s\n' "$scraped" | awk -v s="$1" '$1 == s { print $2; exit }'; }
# near A B TOLERANCE: |A - B| <= TOLERANCE (floats).
near() { python3 -c 'import sys; a, b, t = map(float, sys.argv[1:]); sys.exit(abs(a - b) > t)' "$1" "$2" "$3" 2>/dev/null; }
show_log() { tail -n 20 "$log" | sed 's/^/# daemon: /'; }

fk_start "$root" -s nodes=1 || { echo "Bail out! cannot start the fake kernel"; exit 1; }
port=$(free_port)
write_config 64 "127.0.0.1:$port"
started=$(date +%s.%N)
"$HUGEVMD" --root "$root" --config "$conf" --socket "$tmp/hugevmd.sock" >"$log" 2>&1 &
pid=$!
at_64() { scrape && [ "$(value 'hugevm_pool_pages{size="2048kB"}')" = 64 ]; }
poll_until 15 at_64; tap_ok $? "hugevmd up on the fake kernel, 64 pages, metrics on 127.0.0.1:$port"

# -- the page size of every hstate, from its label ("2048kB": 2048 KiB) ------
sizes=$(ls "$root/sys/kernel/mm/hugepages" | sed -n 's/^hugepages-//p' | sort)
got=$(printf '%s\n' "$scraped" | sed -n 's/^hugevm_page_size_bytes{size="\([0-9]*kB\)"} \([0-9]*\)$/\1 \2/p' | sort)
want=$(for s in $sizes; do echo "$s $((${s%kB} * 1024))"; done)
tap_is "$got" "$want" "hugevm_page_size_bytes for each hstate of the kernel ($(echo $sizes))"
pages=$(value 'hugevm_pool_pages{size="2048kB"}') psize=$(value 'hugevm_page_size_bytes{size="2048kB"}')
tap_is "$((pages * psize))" $((64 * 2 * 1024 * 1024)) "pool bytes = hugevm_pool_pages * hugevm_page_size_bytes (64 x 2 MiB)"

# -- the start's configuration load ------------------------------------------
now=$(date +%s.%N)
tap_is "$(value hugevm_config_last_reload_successful)" 1 "the configuration loaded at start counts as a successful load"
ts=$(value hugevm_config_last_reload_success_timestamp_seconds)
near "$ts" "$(python3 -c "print(($started + $now) / 2)")" "$(python3 -c "print(($now - $started) / 2 + 1)")"
tap_ok $? "its timestamp ($ts) is between the daemon's launch and now"

# -- retries: a grow that falls short (fragmented memory) is retried ---------
tap_is "$(value 'hugevm_pool_retries_total{size="2048kB"}')" 0 "no retries yet"
fk_ctl "$root" fragment 0 2048kB 10   # 10 more pages until compaction
write_config 128 "127.0.0.1:$port"
before=$(date +%s.%N)
kill -HUP "$pid"
at_128() { scrape && [ "$(value 'hugevm_pool_pages{size="2048kB"}')" = 128 ]; }
poll_until 15 at_128; tap_ok $? "the pool reached 128 pages after a short write and a retry"
# One warning per short write, saying when it is retried.
retried=$(grep -c 'warning: 2048kB pool short: .*retry' "$log")
tap_is "$retried" 1 "the daemon logged one short write to retry"
tap_is "$(value 'hugevm_pool_retries_total{size="2048kB"}')" "$retried" "hugevm_pool_retries_total counts it"

# -- a good reload, then a refused one ---------------------------------------
tap_is "$(value hugevm_config_last_reload_successful)" 1 "after a good reload: successful 1"
ts=$(value hugevm_config_last_reload_success_timestamp_seconds)
near "$ts" "$before" 2; tap_ok $? "... stamped at the SIGHUP ($ts)"
sed -i 's/^Pages=.*/Pages=lots/' "$conf"
kill -HUP "$pid"
refused() { scrape && [ "$(value hugevm_config_last_reload_successful)" = 0 ]; }
poll_until 10 refused; tap_ok $? "after a refused reload (Pages=lots): successful 0"
tap_is "$(value hugevm_config_last_reload_success_timestamp_seconds)" "$ts" "... and the success timestamp stays the last good one"
tap_is "$(value 'hugevm_pool_pages{size="2048kB"}')" 128 "the running configuration stays in force"

# -- process_*: this daemon's own /proc, not the fake's ----------------------
scrape
fds=$(ls "/proc/$pid/fd" | wc -l)
got=$(value process_open_fds)
near "${got:-x}" "$fds" 2; tap_ok $? "process_open_fds ${got:-none} (ls /proc/$pid/fd: $fds, within 2)"
tap_is "$(value process_max_fds)" "$(awk '/^Max open files/ { print $4 }' "/proc/$pid/limits")" "process_max_fds is the soft limit in /proc/$pid/limits"
got=$(value process_start_time_seconds)
near "${got:-x}" "$started" 1.5; tap_ok $? "process_start_time_seconds ${got:-none} (launched at $started)"
got=$(value process_resident_memory_bytes) want=$(awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$pid/status")
near "${got:-x}" "$want" $((want / 4)); tap_ok $? "process_resident_memory_bytes ${got:-none} (VmRSS: $want, within 25%)"
got=$(value process_virtual_memory_bytes) want=$(awk '/^VmSize:/ { print $2 * 1024 }' "/proc/$pid/status")
near "${got:-x}" "$want" $((want / 10)); tap_ok $? "process_virtual_memory_bytes ${got:-none} (VmSize: $want, within 10%)"
got=$(value process_cpu_seconds_total)
want=$(python3 -c "import os; f = open('/proc/$pid/stat').read().rsplit(')', 1)[1].split(); print((int(f[11]) + int(f[12])) / os.sysconf('SC_CLK_TCK'))")
near "${got:-x}" "$want" 0.5; tap_ok $? "process_cpu_seconds_total ${got:-none} (/proc/$pid/stat: $want, within 0.5 s)"
tap_is "$(value hugevm_up)" 1 "hugevm_up 1 while running"

if command -v promtool >/dev/null; then
        lint=$(printf '%s\n' "$scraped" | promtool check metrics 2>&1)
        rc=$?
        [ -n "$lint" ] && printf '%s\n' "$lint" | sed 's/^/#   promtool: /'
        [ $rc -eq 0 ] && [ -z "$lint" ]; tap_ok $? "promtool check metrics passes on the scrape, without warnings"
elif [ "${CI:-}" = true ]; then
        tap_ok 1 "promtool check metrics: promtool missing under CI=true (Debian package prometheus)"
else
        tap_skip "promtool not installed (Debian package prometheus)"
fi
echo "# scraped sample:"
printf '%s\n' "$scraped" | grep -E '^(hugevm_(up|page_size_bytes|pool_retries_total|config_)|process_)' | sed 's/^/#   /'

# -- stop: the textfile says the daemon is down ------------------------------
grep -q '^hugevm_pool_pages{size="2048kB"} 128$' "$textfile"; tap_ok $? "textfile written while running"
kill -TERM "$pid"
wait "$pid"; tap_is $? 0 "hugevmd stops cleanly"
pid=
tap_is "$(grep -v "^#" "$textfile" | head -3)" "hugevm_up 0" "after stop the textfile holds hugevm_up 0 and no stale sample"
[ "$(stat -c %a "$textfile")" = 644 ]; tap_ok $? "... still readable by node_exporter (0644)"

# -- a metrics port in use stops start-up ------------------------------------
busy=$(free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); print("ready", flush=True); time.sleep(60)' "$busy" >"$tmp/holder" &
holder=$!
poll_until 5 grep -q ready "$tmp/holder"
write_config 128 "127.0.0.1:$busy"
echo 'hugevm_up 1' >"$textfile"   # as if another hugevmd's
timeout 20 "$HUGEVMD" --root "$root" --config "$conf" --socket "$tmp/hugevmd2.sock" >"$tmp/busy.log" 2>&1
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ]; tap_ok $? "start-up fails when 127.0.0.1:$busy is taken (exit $rc)"
grep -q "127.0.0.1:$busy: Address already in use" "$tmp/busy.log"; tap_ok $? "the error names the address and the reason"
sed 's/^/# hugevmd: /' "$tmp/busy.log" | grep error
tap_is "$(head -3 "$textfile")" "hugevm_up 1" "a start that failed leaves the textfile alone"
write_config 128 no
"$HUGEVMD" --root "$root" --config "$conf" --socket "$tmp/hugevmd3.sock" >"$tmp/off.log" 2>&1 &
pid=$!
poll_until 10 test -S "$tmp/hugevmd3.sock"; tap_ok $? "MetricsListen=no: starts whatever holds the port"
kill -TERM "$pid"; wait "$pid"; pid=
kill "$holder" 2>/dev/null; holder=

[ "$tap_failed" -eq 0 ] || show_log
tap_done
