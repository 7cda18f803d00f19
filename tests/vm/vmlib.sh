# Helpers of the VM tier's guest scripts (cases.sh, plan.sh, adopt.sh), after
# /vm/lib.sh (TAP). POSIX sh: the guest's busybox runs them.
node_dir=/sys/devices/system/node
hp_dir=/sys/kernel/mm/hugepages
sock=/run/hugevmd/hugevmd.sock
log=/tmp/hugevmd.log
ctl_timeout=150          # no single hugevmctl call may hang the tier
daemon_pid=
holder_pid=

say() { echo "# $*"; echo "hugevm-vm: $*" >&2; }
ctl() { timeout "$ctl_timeout" hugevmctl --socket "$sock" "$@"; }
# The JSON status once, compact; every check below reads one snapshot.
status_json() { ctl --json status | jq -c . 2>/dev/null; }
# pool_q STATUS SIZE JQ-EXPR: EXPR evaluated on the pool of that size.
pool_q() { printf '%s\n' "$1" | jq -r --arg s "$2" ".pools[] | select(.size == \$s) | $3" 2>/dev/null; }
node_q() { pool_q "$1" "$2" ".nodes[] | select(.node == $3) | $4"; }
sysfs_node() { cat "$node_dir/node$1/hugepages/hugepages-$2/$3" 2>/dev/null; }
diag_status() {
        echo "#   daemon status:"
        ctl --json status 2>&1 | jq -c '.pools[] | {size, pages, target, state, reason, surplus, retries,
                optimized_pages, saved_exact, nodes: [.nodes[] | {node, pages, free, surplus, target, state, reason}]}' 2>&1 |
                sed 's/^/#     /'
        echo "#   free memory by order (/proc/buddyinfo):"
        sed 's/^/#     /' /proc/buddyinfo
        echo "#   last daemon log lines:"
        tail -5 "$log" 2>/dev/null | sed 's/^/#     /'
}
# is GOT WANT DESCRIPTION: tap_is, plus the daemon's view when it fails.
is() { tap_is "$1" "$2" "$3" || true; [ "$1" = "$2" ] || diag_status; }
ok() { tap_ok "$1" "$2" || true; [ "$1" -eq 0 ] || diag_status; }
# until_true SECONDS CMD...: poll CMD every second; 0 once it succeeds, 1 on timeout.
until_true() {
        until_left=$1; shift
        while [ "$until_left" -gt 0 ]; do
                "$@" && return 0
                sleep 1; until_left=$((until_left - 1))
        done
        "$@"
}
# start_hugevmd [WRAPPER...]: hugevmd on /etc/hugevmd/hugevmd.conf (run by
# WRAPPER, if given), its log appended to $log; 0 once it answers status (30 s).
start_hugevmd() {
        "$@" hugevmd --config /etc/hugevmd/hugevmd.conf --socket "$sock" --state-dir /var/lib/hugevmd \
                --foreground >>"$log" 2>&1 &
        daemon_pid=$!
        until_true 30 sh -c "hugevmctl --socket $sock status >/dev/null 2>&1"
}
cleanup() {
        [ -n "$holder_pid" ] && kill "$holder_pid" 2>/dev/null
        [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null
}
trap cleanup EXIT
