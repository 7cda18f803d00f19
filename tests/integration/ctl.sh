#!/bin/bash
# hugevmctl against the real hugevmd on the fake kernel: every command, its human
# and --json output, and every exit code (0 ok, 1 error, 2 usage, 3 unreachable,
# 4 shortfall/timeout).
. "$top_srcdir/tests/integration/common.sh"

# Room on node 1 for the two 1G pages set there below (a node of 1 GiB, half
# of it for hugetlb, has none).
make_fakeroot -s mem=4G -s hugemem=3G
write_config <<EOF
HVO=yes
[Pool 2M]
Pages=10
EOF

# ---- Usage errors: exit 2, the bad argument named, no daemon needed -------
usage_case() { # WANT-IN-STDERR ARGS...
        local want=$1 rc
        shift
        ctl "$@" >"$tmp/out" 2>"$tmp/err"
        rc=$?
        tap_is "$rc" 2 "usage: hugevmctl $* exits 2"
        grep -qF -- "$want" "$tmp/err"
        tap_ok $? "usage: hugevmctl $* names '$want'"
}
usage_case "invalid page count '12x'" set 2M 12x
usage_case "invalid page count '-50x'" set 2M -50x
usage_case "'99999999999999999999999' is out of range" set 2M 99999999999999999999999
usage_case "invalid page size '3Q'" set 3Q 1
usage_case "invalid node 'x'" set 2M 1 --node x
usage_case "invalid timeout 'abc'" wait --timeout abc
usage_case "unknown command 'frobnicate'" frobnicate
usage_case "unknown option '--bogus'" --bogus status
usage_case "--node only goes with 'set', 'revert' and 'vmemmap optimize'" status --node 1
usage_case "invalid vmemmap action 'maybe'" vmemmap maybe
usage_case "set needs SIZE" set 2M
"$HUGEVMCTL" >/dev/null 2>&1
tap_is $? 2 "no command exits 2"
ctl --help >"$tmp/out" 2>&1
tap_is $? 0 "--help exits 0"
grep -q "Exit status" "$tmp/out" && grep -q "^  4 " "$tmp/out"
tap_ok $? "--help documents the exit codes"

# ---- Unreachable daemon: exit 3, socket and errno named -------------------
ctl status >"$tmp/out" 2>"$tmp/err"
tap_is $? 3 "status without a daemon exits 3"
grep -qF "$sock: No such file or directory" "$tmp/err"
tap_ok $? "unreachable: the socket path and errno text are named"
HUGEVM_SOCKET=$tmp/other.sock "$HUGEVMCTL" status 2>"$tmp/err"
tap_is $? 3 "HUGEVM_SOCKET is used"
grep -qF "$tmp/other.sock" "$tmp/err"
tap_ok $? "HUGEVM_SOCKET path appears in the message"

# A daemon that dies mid-reply, or answers garbage.
for mode in close partial garbage; do
        rm -f "$tmp/fake.sock"
        hv serve "$tmp/fake.sock" $mode >"$tmp/serve.out" &
        serve_pid=$!
        poll_until 5 test -S "$tmp/fake.sock"
        "$HUGEVMCTL" --socket "$tmp/fake.sock" status >/dev/null 2>"$tmp/err"
        rc=$?
        wait $serve_pid
        if [ $mode = garbage ]; then
                tap_is $rc 1 "a reply that is not JSON exits 1"
                grep -q "not a JSON object" "$tmp/err"
                tap_ok $? "garbage reply: explained"
        else
                tap_is $rc 3 "daemon gone mid-reply ($mode) exits 3"
                grep -q "closed the connection" "$tmp/err"
                tap_ok $? "daemon gone mid-reply ($mode): explained"
        fi
done

# ---- The real daemon ------------------------------------------------------
start_daemon
tap_ok $? "hugevmd starts and listens" || { show_log; tap_done; exit 1; }

ctl wait --timeout 10 >"$tmp/out" 2>"$tmp/err"
tap_is $? 0 "wait: the configured pool converges"
tap_is "$(cat "$(pool_file 2048kB nr_hugepages)")" 10 "config target 10 written to sysfs"
tap_is "$(cat "$root/proc/sys/vm/hugetlb_optimize_vmemmap")" 1 "HVO=yes turned HVO on at start"

# The kernel freed 7 vmemmap pages of each 2M page as it joined the pool with
# HVO on (a 2M page's 512 struct pages are 8 pages of 4 KiB; HVO keeps 1):
# nr_memmap_pages fell by 10 x 7 as the pool grew, so the measurement and the
# ledger (10 pages grown with HVO on) agree, and the pool's figure is measured.
saved_2m=$((10 * (2048 / 4 * 64 / 4096 - 1) * 4096))
tap_is "$(fk_state "$root" memmap_saved)" $((10 * 7)) "the kernel's counters moved by 10 x 7 vmemmap pages"
poll_until 5 sh -c "'$HUGEVMCTL' --socket '$sock' --json status | '$PYTHON' '$top_srcdir/tests/integration/hv.py' get F_MEASURED.F_AGREES | grep -qx true"
tap_ok $? "measured saving (memmap counters) agrees with the ledger"
ctl --json status >"$tmp/status.json"
hv valid "$tmp/status.json"
tap_ok $? "status --json is one JSON object"
set -- $(hv get F_POOLS.0.F_SIZE F_POOLS.0.F_TARGET F_POOLS.0.F_OPTIMIZED_PAGES F_POOLS.0.F_SAVED_BYTES \
        F_POOLS.0.F_SAVED_EXACT F_MEASURED.F_SAVED_BYTES F_MEASURED.F_MODEL_SAVED F_CONVERGED <"$tmp/status.json")
tap_is "$*" "2048kB 10 10 $saved_2m true $saved_2m $saved_2m true" \
        "status --json: size, target, optimized, saved, exact, measured, model, converged"

ctl status >"$tmp/out" 2>"$tmp/err"
tap_is $? 0 "status exits 0"
grep -q "^2048kB .* converged" "$tmp/out"
tap_ok $? "status: a converged 2048kB row"
grep -q "^1048576kB" "$tmp/out"
tap_ok $? "status: a 1048576kB row"
grep -Eq "^ +[01] " "$tmp/out"
tap_ok $? "status: per-node rows"
grep -q "^HVO: on" "$tmp/out"
tap_ok $? "status: HVO line"
grep -q "^Measured saving: 280.0 KiB .*: agree" "$tmp/out"
tap_ok $? "status: measured saving line, agree"
ctl status -o size,node,optimized,saved | grep -q "^2048kB  *all  *10  *280.0 KiB$"
tap_ok $? "status: 10 optimized 2M pages saved 280.0 KiB, in human units, measured (not estimated)"
sed 's/^/# /' "$tmp/out"

# set: pages, bytes, dry run, node, wait
ctl set 2M 20 >"$tmp/out" 2>"$tmp/err"
tap_is $? 0 "set 2M 20 exits 0"
poll_until 5 file_is "$(pool_file 2048kB nr_hugepages)" 20
tap_ok $? "set 2M 20 reaches sysfs"
ctl set 2048kB 8M >"$tmp/out" 2>"$tmp/err"
tap_is $? 0 "set 2048kB 8M (bytes) exits 0"
poll_until 5 file_is "$(pool_file 2048kB nr_hugepages)" 4
tap_ok $? "8M of 2M pages is 4 pages in sysfs (a shrink 20 -> 4)"
ctl --json set 2M 6 >"$tmp/out"
hv valid "$tmp/out" && [ "$(hv get F_TARGET <"$tmp/out")" = 6 ]
tap_ok $? "set --json prints the POOL with the new target"
poll_until 5 file_is "$(pool_file 2048kB nr_hugepages)" 6

ctl set 2M 500 --dry-run >"$tmp/out" 2>"$tmp/err"
tap_is $? 0 "set --dry-run exits 0"
grep -q "dry run: .* from 6 pages to 500 pages" "$tmp/out"
tap_ok $? "dry run says what would change"
# Whatever the dry run had set in motion is over once every pool converged.
ctl wait --timeout 5 >/dev/null 2>&1
tap_is "$(cat "$(pool_file 2048kB nr_hugepages)")" 6 "dry run changed nothing in sysfs"
tap_is "$(ctl --json status | hv get F_POOLS.0.F_TARGET)" 6 "dry run changed nothing in the daemon"

ctl set 2M 30 --wait --timeout 10 >"$tmp/out" 2>"$tmp/err"
tap_is $? 0 "set --wait exits 0 once converged"
grep -q "^2048kB: 30 of target 30 pages, converged" "$tmp/out"
tap_ok $? "set --wait reports the converged pool"
grep -q $'\r' "$tmp/err"
tap_ok $((! $?)) "no progress bar when stderr is not a terminal"
sed 's/^/# stderr: /' "$tmp/err"

# On a terminal: a progress bar redrawn in place (\r), ending with a newline.
if command -v script >/dev/null; then
        # Every resize's progress reaches the client before its wait is answered,
        # even an instant one (the fake kernel allocates without delay here).
        t=31
        script -qec "'$HUGEVMCTL' --socket '$sock' set 2M $t --wait --timeout 10" /dev/null >"$tmp/tty" 2>&1
        rc=$?
        tap_is $rc 0 "set --wait on a terminal exits 0"
        grep -q $'\r.*2048kB \[#*-*\] 100% '$t/$t' pages' "$tmp/tty"
        tap_ok $? "set --wait on a terminal draws a progress bar"
        cat -v "$tmp/tty" | sed 's/^/# tty: /'
else
        tap_ok 0 "# SKIP script(1) not available for a terminal"
        tap_ok 0 "# SKIP script(1) not available for a terminal"
fi

# set --wait is one connection and two requests (pool.set, then a wait for
# that pool), as the daemon counts requests and connect(2) counts connections.
requests() { # requests METRICS-TEXT-FILE [METHOD]: hugevm_requests_total, summed
        awk -v m="${2:-}" '$1 ~ /^hugevm_requests_total\{/ && (m == "" || index($1, "method=\"" m "\"")) { n += $NF }
                END { print n + 0 }' "$1"
}
ctl metrics >"$tmp/metrics0"
if strace -o /dev/null true 2>/dev/null; then
        # LeakSanitizer cannot run under ptrace (sanitizer builds): no leak check here.
        ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -s 4096 -e trace=connect -o "$tmp/strace" \
                "$HUGEVMCTL" --socket "$sock" set 2M 32 --wait --timeout 10 >"$tmp/out" 2>"$tmp/err"
        rc=$?
        connects=$(grep -cF "sun_path=\"$sock\"" "$tmp/strace")
else
        ctl set 2M 32 --wait --timeout 10 >"$tmp/out" 2>"$tmp/err"
        rc=$?
        connects=
fi
ctl metrics >"$tmp/metrics1"
tap_is $rc 0 "set --wait (counted) exits 0" || sed 's/^/# /' "$tmp/err"
# metrics counts itself before it renders: the second one is in its own text.
tap_is $(($(requests "$tmp/metrics1") - $(requests "$tmp/metrics0") - 1)) 2 "set --wait makes two requests"
tap_is "$(for m in pool.set wait subscribe; do
                echo $(($(requests "$tmp/metrics1" $m) - $(requests "$tmp/metrics0" $m)))
        done | tr '\n' ' ')" "1 1 0 " "set --wait: one pool.set, one wait, no subscribe"
if [ -n "$connects" ]; then
        tap_is "$connects" 1 "set --wait opens one connection"
else
        tap_ok 0 "# SKIP strace(1) cannot trace here to count connections"
fi
ctl --json wait --timeout 10 >"$tmp/out"
tap_is $? 0 "wait --json exits 0"
tap_is "$(hv get F_CONVERGED <"$tmp/out")" true "wait --json prints the converged STATUS"

ctl set 1G 2 --node 1 --wait --timeout 10 >"$tmp/out" 2>"$tmp/err"
tap_is $? 0 "set 1G 2 --node 1 --wait exits 0"
tap_is "$(cat "$root/sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages")" 2 \
        "per-node target written to node1's file"

ctl set 16M 1 >"$tmp/out" 2>"$tmp/err"
tap_is $? 2 "set of a size this machine lacks exits 2"
grep -q "unsupported" "$tmp/err"
tap_ok $? "unknown size: the daemon's reason is shown"
ctl set 2M 1 --node 7 >"$tmp/out" 2>"$tmp/err"
tap_is $? 2 "set on a node that does not exist exits 2"
ctl set 2M 3M >"$tmp/out" 2>"$tmp/err"
tap_is $? 2 "bytes not a multiple of the page size: exit 2 (daemon: invalid params)"
ctl --json set 16M 1 >"$tmp/out" 2>/dev/null
hv valid "$tmp/out" && [ "$(hv get F_CODE <"$tmp/out")" = "$P_ERR_UNSUPPORTED" ]
tap_ok $? "--json: the error object on stdout"

# vmemmap
ctl vmemmap off >"$tmp/out" 2>"$tmp/err"
tap_is $? 0 "vmemmap off exits 0"
tap_is "$(cat "$root/proc/sys/vm/hugetlb_optimize_vmemmap")" 0 "vmemmap off wrote the sysctl"
ctl vmemmap status >"$tmp/out"
grep -q "^HVO: off" "$tmp/out"
tap_ok $? "vmemmap status says off"
grep -q "2048kB .* saves 28.0 KiB each" "$tmp/out"
tap_ok $? "vmemmap status: 28.0 KiB saved per 2M page on 6.18"
ctl vmemmap on >/dev/null
tap_is "$(cat "$root/proc/sys/vm/hugetlb_optimize_vmemmap")" 1 "vmemmap on wrote the sysctl"
ctl --json vmemmap >"$tmp/out"
[ "$(hv get F_ENABLED F_RESERVE_PAGES <"$tmp/out" | tr '\n' ' ')" = "true 1 " ]
tap_ok $? "vmemmap --json: enabled, reserve 1 page"

# Kernel refused (the sysctl write fails with EPERM, once): exit 1, errno named.
fk_ctl "$root" fail write /proc/sys/vm/hugetlb_optimize_vmemmap EPERM 1
ctl vmemmap off >"$tmp/out" 2>"$tmp/err"
tap_is $? 1 "vmemmap off refused by the kernel exits 1"
grep -q "Operation not permitted" "$tmp/err"
tap_ok $? "kernel refusal: errno text shown"
tap_is "$(cat "$root/proc/sys/vm/hugetlb_optimize_vmemmap")" 1 "a refused vmemmap off leaves HVO on"

# Shortfall: no memory is left for more 2M pages on either node, so the pool
# stops short (the kernel's write succeeds, the read-back is short) and never
# reaches its target (45: above every target the terminal tries above may have left).
have=$(cat "$(pool_file 2048kB nr_hugepages)")
fk_ctl "$root" memory 0 0 && fk_ctl "$root" memory 1 0
ctl set 2M 45 --wait --timeout 3 >"$tmp/out" 2>"$tmp/err"
tap_is $? 4 "set --wait on a pool that cannot grow exits 4"
sed 's/^/# stderr: /' "$tmp/err"
ctl wait --timeout 2 >"$tmp/out" 2>"$tmp/err"
tap_is $? 4 "wait with a pool short of its target exits 4"
grep -q "2048kB: $have of 45 pages, .*reached $have of 45 pages" "$tmp/err"
tap_ok $? "wait names the pool that is short, and how far the kernel got ($have of 45)"
tap_is "$(cat "$(pool_file 2048kB nr_hugepages)")" "$have" "the pool kept its $have pages"
ctl status >"$tmp/out"
tap_is $? 0 "status itself still exits 0"
fk_ctl "$root" memory 0 256M && fk_ctl "$root" memory 1 256M
ctl set 2M 46 --wait --timeout 10 >/dev/null 2>&1
tap_is $? 0 "once there is memory again the pool converges"

# set --wait is about its own pool: another degraded pool does not fail it,
# but a plain wait (every pool) does. The 1G pool's write is refused (EPERM,
# once: the daemon does not retry a refusal for a minute).
fk_ctl "$root" fail write /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages EPERM 1
ctl set 1G 1 --runtime >/dev/null 2>&1
ctl set 2M 47 --wait --timeout 10 >"$tmp/out" 2>"$tmp/err"
tap_is $? 0 "set 2M --wait exits 0 while the 1G pool is degraded"
grep -q "^2048kB: 47 of target 47 pages, converged" "$tmp/out"
tap_ok $? "set 2M --wait reports the 2048kB pool converged"
ctl wait --timeout 5 >"$tmp/out" 2>"$tmp/err"
rc=$?; sed "s/^/# stderr: /" "$tmp/err"; (exit $rc)
tap_is $? 4 "wait (every pool) exits 4 while the 1G pool is degraded"
# The pool still holds node 1's 2 pages (the global count is the nodes' sum).
grep -q "1048576kB: 2 of 1 page, degraded: writing nr_hugepages failed: Operation not permitted" "$tmp/err"
tap_ok $? "wait names the degraded 1G pool (2 pages, node 1's) and why"
ctl set 1G 0 --runtime --wait --timeout 10 >/dev/null 2>&1
tap_is $? 0 "1G pool back to 0"

# watch: notifications, one per line; --json raw lines.
ctl metrics >"$tmp/metrics.sub"
subs0=$(requests "$tmp/metrics.sub" subscribe)
ctl watch >"$tmp/watch.out" 2>&1 &
watch_pid=$!
ctl --json watch >"$tmp/watch.json" 2>&1 &
watchj_pid=$!
extra_pids="$watch_pid $watchj_pid"
# Both have subscribed once the daemon counted their subscribe requests.
subscribed() { ctl metrics >"$tmp/metrics.sub" && [ "$(requests "$tmp/metrics.sub" subscribe)" -ge $((subs0 + 2)) ]; }
poll_until 5 subscribed
ctl set 2M 40 >/dev/null
poll_until 5 grep -q "2048kB" "$tmp/watch.out"
tap_ok $? "watch prints notifications about the change"
poll_until 5 grep -q "2048kB" "$tmp/watch.json"
kill $watch_pid $watchj_pid 2>/dev/null
wait $watch_pid $watchj_pid 2>/dev/null
extra_pids=
"$PYTHON" -c '
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
assert lines, "no lines"
for l in lines:
    assert isinstance(json.loads(l), dict)
' "$tmp/watch.json"
tap_ok $? "watch --json: every line is a JSON object"
sed 's/^/# watch: /' "$tmp/watch.out" | head -5

# reload, metrics, version
ctl reload >"$tmp/out" 2>"$tmp/err"
tap_is $? 0 "reload exits 0"
ctl --json reload >"$tmp/out"
hv valid "$tmp/out"
tap_ok $? "reload --json is JSON"
ctl metrics >"$tmp/out" 2>"$tmp/err"
tap_is $? 0 "metrics exits 0"
grep -q '^hugevm_.*size="2048kB"' "$tmp/out"
tap_ok $? "metrics prints the Prometheus text"
ctl --json metrics >"$tmp/out"
hv valid "$tmp/out"
tap_ok $? "metrics --json is JSON"
ctl version >"$tmp/out" 2>"$tmp/err"
tap_is $? 0 "version exits 0"
grep -q "^hugevmctl " "$tmp/out" && grep -q "^hugevmd " "$tmp/out"
tap_ok $? "version shows client and daemon"
ctl --json version >"$tmp/out"
hv valid "$tmp/out"
tap_ok $? "version --json is JSON"

kill -0 "$daemon_pid"
tap_ok $? "daemon still running after all of that"
stop_daemon
tap_is $? 0 "SIGTERM: hugevmd exits 0"
tap_is "$(cat "$(pool_file 2048kB nr_hugepages)")" 40 "pools stay as they are on exit"
daemon_log_clean
tap_ok $? "no sanitizer report in the daemon log"
[ "$tap_failed" -eq 0 ] || show_log
tap_done
