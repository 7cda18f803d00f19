#!/bin/bash
# Per-node targets end to end: the retries a node used show in its NODE object
# and add up in its POOL; a failed wait lists each pool's target (and its nodes'
# targets) so hugevmctl can say "6 of 12 pages"; hugevmctl set on a node prints
# the node's figures, not the pool's null target.
. "$top_srcdir/tests/integration/common.sh"

# Resizes stop short as on the kernel: the fake kernel's node memory runs out
# ("memory"), the write succeeds and the read-back is short.
make_fakeroot
write_config <<EOF
HVO=yes
[Pool 2M]
Node0.Pages=4
EOF
start_daemon
tap_ok $? "hugevmd starts" || { show_log; tap_done; exit 1; }
ctl wait --timeout 10 >/dev/null 2>&1
tap_is $? 0 "the per-node target converges"

call() { hv call "$sock" "$@"; }

# ---- hugevmctl set on a node: the node's figures ----------------------------
ctl set 2M 6 --node 0 --runtime >"$tmp/out" 2>"$tmp/err"
tap_is $? 0 "set 2M 6 --node 0 exits 0"
grep -Eq "^2048kB target set \(runtime only\): 2048kB: node 0: [0-9]+ of 6 pages, " "$tmp/out"
tap_ok $? "set --node prints the node's pages and target" || sed 's/^/#   /' "$tmp/out"
grep -q "of target -" "$tmp/out"
tap_ok $((!$?)) "set --node does not print the pool's null target"
ctl set 2M 6 --node 0 --runtime --wait >"$tmp/out" 2>"$tmp/err"
tap_is $? 0 "set --node --wait exits 0"
grep -qx "2048kB: node 0: 6 of 6 pages, converged" "$tmp/out"
tap_ok $? "set --node --wait prints 'node 0: 6 of 6 pages, converged'" || sed 's/^/#   /' "$tmp/out"
ctl set 2M 8 --runtime >"$tmp/out" 2>&1
grep -Eq "2048kB: [0-9]+ of target 8 pages" "$tmp/out"
tap_ok $? "a whole-pool target still prints 'N of target 8 pages'" || sed 's/^/#   /' "$tmp/out"
call M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:6,@F_NODE:0,@F_PERSIST:false}' >/dev/null
ctl wait --timeout 10 >/dev/null 2>&1

# ---- A stuck node degrades: its retries are reported ------------------------
# node 0 of 2M stays short (per-node target), and so does the whole 1G pool:
# node 0 has no memory left for more pages, node 1 less than a 1G page.
have0=$(cat "$root/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages")
fk_ctl "$root" memory 0 0 && fk_ctl "$root" memory 1 512M
call M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:12,@F_NODE:0,@F_PERSIST:false}' >/dev/null
call M_POOL_SET '{@F_SIZE:"1G",@F_PAGES:2,@F_PERSIST:false}' >/dev/null
degraded() { call M_POOL_GET "{@F_SIZE:\"$1\"}" | hv get F_RESULT.F_STATE | grep -qx "$P_STATE_DEGRADED"; }
poll_until 30 degraded 2M
tap_ok $? "the stuck node's pool is degraded"
poll_until 30 degraded 1G
tap_ok $? "the stuck whole pool is degraded"

r=$(call M_POOL_GET '{@F_SIZE:"2M"}')
pool_retries=$(printf '%s' "$r" | hv get F_RESULT.F_RETRIES)
node0_retries=$(printf '%s' "$r" | hv get F_RESULT.F_NODES.0.F_RETRIES)
node1_retries=$(printf '%s' "$r" | hv get F_RESULT.F_NODES.1.F_RETRIES)
reason=$(printf '%s' "$r" | hv get F_RESULT.F_NODES.0.F_REASON)
[ "$node0_retries" -gt 0 ] 2>/dev/null
tap_ok $? "the stuck node reports its retries ($node0_retries; reason: $reason)"
printf '%s' "$reason" | grep -q "after [0-9]* retries"
tap_ok $? "its reason speaks of retries"
tap_is "$node1_retries" 0 "a node without a target reports 0 retries"
tap_is "$pool_retries" "$node0_retries" "the pool's retries are the sum of its nodes'"
r1g=$(call M_POOL_GET '{@F_SIZE:"1G"}')
[ "$(printf '%s' "$r1g" | hv get F_RESULT.F_RETRIES)" -gt 0 ] 2>/dev/null
tap_ok $? "a stuck whole-pool target still reports its retries"
tap_is "$(printf '%s' "$r1g" | hv get F_RESULT.F_NODES.0.F_RETRIES)" 0 "its nodes (no per-node target) report 0"

# ---- wait fails: the pools' targets are in the error ------------------------
r=$(call M_WAIT '{@F_TIMEOUT_MS:2000}')
tap_is "$(printf '%s' "$r" | hv get F_ERROR.F_CODE)" "$P_ERR_SHORTFALL" "wait with degraded pools -> ERR_SHORTFALL"
i2m=0; i1g=1
[ "$(printf '%s' "$r" | hv get F_ERROR.F_DATA.F_POOLS.0.F_SIZE)" = 2048kB ] || { i2m=1; i1g=0; }
tap_is "$(printf '%s' "$r" | hv get F_ERROR.F_DATA.F_POOLS.$i1g.F_TARGET)" 2 "shortfall: a whole pool's target is listed"
tap_is "$(printf '%s' "$r" | hv get F_ERROR.F_DATA.F_POOLS.$i1g.F_NODES)" MISSING "shortfall: no nodes for a whole-pool target"
tap_is "$(printf '%s' "$r" | hv get F_ERROR.F_DATA.F_POOLS.$i2m.F_TARGET)" null "shortfall: per-node pool has a null target"
tap_is "$have0" 6 "node 0 held its target of 6 when its memory ran out"
tap_is "$(printf '%s' "$r" | hv get F_ERROR.F_DATA.F_POOLS.$i2m.F_NODES.0.F_NODE F_ERROR.F_DATA.F_POOLS.$i2m.F_NODES.0.F_PAGES F_ERROR.F_DATA.F_POOLS.$i2m.F_NODES.0.F_TARGET | tr '\n' ' ')" \
        "0 6 12 " "shortfall: the node's pages and target are listed"
tap_is "$(printf '%s' "$r" | hv get F_ERROR.F_DATA.F_POOLS.$i2m.F_NODES.1)" MISSING "shortfall: only targeted nodes are listed"

ctl wait --timeout 2 >"$tmp/out" 2>"$tmp/err"
tap_is $? 4 "hugevmctl wait with degraded pools exits 4"
grep -q "^hugevmctl:   1048576kB: 0 of 2 pages, $P_STATE_DEGRADED" "$tmp/err"
tap_ok $? "hugevmctl wait prints '0 of 2 pages' for the whole pool" || sed 's/^/#   /' "$tmp/err"
grep -q "^hugevmctl:     node 0: 6 of 12 pages, $P_STATE_DEGRADED" "$tmp/err"
tap_ok $? "hugevmctl wait prints 'node 0: 6 of 12 pages' for the per-node pool" || sed 's/^/#   /' "$tmp/err"

stop_daemon
tap_is $? 0 "hugevmd exits 0 on SIGTERM"
daemon_log_clean
tap_ok $? "no sanitizer report in the daemon log"
[ "$tap_failed" -eq 0 ] || show_log
tap_done
