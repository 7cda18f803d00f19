#!/bin/bash
# Demote=yes: a 2 MiB target met by demoting free 1 GiB pages above the 1 GiB
# pool's own target (no 2 MiB page from the buddy allocator), the new pages'
# saving reported (measured: the memmap counters' move is attributed to both
# pools), demoted_pages in status and metrics; Demote=no and an unmanaged
# 1 GiB pool are never demoted; the 1 GiB pool never goes below its target.
. "$top_srcdir/tests/integration/common.sh"

G=1048576kB
M=2048kB
call() { hv call "$sock" "$@"; }
pool_get() { call M_POOL_GET "{@F_SIZE:\"$1\"}" | hv get "$2"; }
buddy() { fk_state "$root" buddy_alloc_success; }

# scenario NAME CONFIG: a fresh machine (3 GiB a node, HVO on, one free 1 GiB
# page on each node) and a fresh daemon with CONFIG, converged.
scenario() {
        stop_daemon
        fk_stop_all
        rm -rf "$state" "$root"
        : >"$log"
        make_fakeroot -s mem=3G -s hvo=1 -s pool.1G=2
        printf 'HVO=yes\nMetricsTextfile=%s\n%b' "$tmp/metrics.prom" "$2" | write_config
        start_daemon
        tap_ok $? "$1: hugevmd starts" || { show_log; tap_done; exit 1; }
        ctl wait --timeout 20 >/dev/null 2>&1
        tap_is $? 0 "$1: the pools converge"
}

reload() { # reload CONFIG
        printf 'HVO=yes\nMetricsTextfile=%s\n%b' "$tmp/metrics.prom" "$1" | write_config
        ctl reload >/dev/null 2>&1 || { echo "# reload failed"; show_log; }
}

# A watcher of the 1 GiB pool's size: its lowest value while the test runs.
watch_low() {
        low=99
        while [ -e "$tmp/watch" ]; do
                n=$(fk_state "$root" $G.nr 2>/dev/null) && [ -n "$n" ] && [ "$n" -lt "$low" ] && { low=$n; echo "$low" >"$tmp/low"; }
                sleep 0.01
        done
}

# ---- Demote=yes: the 1 GiB excess becomes 2 MiB pages -----------------------
scenario "demote" '[Pool 1G]\nPages=2\n[Pool 2M]\nPages=0\nDemote=yes\n'
b0=$(buddy)
touch "$tmp/watch"; echo 2 >"$tmp/low"; watch_low & extra_pids=$!
reload '[Pool 1G]\nPages=1\n[Pool 2M]\nPages=512\nDemote=yes\n'
ctl wait --timeout 20 >/dev/null 2>&1
tap_is $? 0 "demote: 1G 1 and 2M 512 converge"
tap_is "$(fk_state "$root" $G.nr) $(fk_state "$root" $M.nr)" "1 512" "the kernel holds 1 page of 1G and 512 of 2M"
tap_is "$(buddy)" "$b0" "no 2M page came from the buddy allocator (all by demotion)"
tap_is "$(fk_state "$root" $M.optimized)" 512 "the new 2M pages are optimized (HVO on)"
tap_is "$(pool_get 2M F_RESULT.F_DEMOTED)" 512 "status: 2M demoted_pages 512"
tap_is "$(pool_get 1G F_RESULT.F_DEMOTED)" 0 "status: 1G demoted_pages 0"
tap_is "$(pool_get 2M F_RESULT.F_SAVED_BYTES) $(pool_get 2M F_RESULT.F_SAVED_EXACT)" "$((512 * 7 * 4096)) true" \
        "the new 2M pages' saving is reported, measured (512 x 7 x 4096 bytes)" || show_log
tap_is "$(pool_get 1G F_RESULT.F_SAVED_BYTES) $(pool_get 1G F_RESULT.F_SAVED_EXACT)" "$((4095 * 4096)) true" \
        "the 1G pool's saving stays measured (its remaining page)" || show_log 40
grep -q "Demoted 1 free 1048576kB page .*into 512 2048kB pages" "$log"
tap_ok $? "the demotion is logged at info" || show_log
poll_until 5 grep -q '^hugevm_pool_demoted_pages_total{size="2048kB"} 512$' "$tmp/metrics.prom"
tap_ok $? "metric hugevm_pool_demoted_pages_total{size=\"2048kB\"} 512" || grep demoted "$tmp/metrics.prom" | sed 's/^/#   /'

# More than the 1G excess gives: the rest comes from the buddy allocator, the
# 1 GiB pool stays at its target of 1.
reload '[Pool 1G]\nPages=1\n[Pool 2M]\nPages=1024\nDemote=yes\n'
ctl wait --timeout 20 >/dev/null 2>&1
tap_is $? 0 "demote: 2M 1024 converges"
tap_is "$(fk_state "$root" $G.nr) $(fk_state "$root" $M.nr)" "1 1024" "the 1G pool is not demoted below its target"
tap_is "$(pool_get 2M F_RESULT.F_DEMOTED)" 512 "status: still 512 pages by demotion"
rm -f "$tmp/watch"; wait "$extra_pids" 2>/dev/null; extra_pids=
tap_is "$(cat "$tmp/low")" 1 "the 1G pool never went below its target of 1 meanwhile"

# ---- Demote=no: no demotion (the 1G page is freed, 2M pages allocated) ------
scenario "Demote=no" '[Pool 1G]\nPages=2\n[Pool 2M]\nPages=0\n'
b0=$(buddy)
reload '[Pool 1G]\nPages=1\n[Pool 2M]\nPages=512\nDemote=no\n'
ctl wait --timeout 20 >/dev/null 2>&1
tap_is $? 0 "Demote=no: converges"
tap_is "$(pool_get 2M F_RESULT.F_DEMOTED)" 0 "Demote=no: nothing demoted"
[ "$(buddy)" -gt "$b0" ]
tap_ok $? "Demote=no: the 2M pages came from the buddy allocator"
grep -q "Demoted" "$log"
tap_ok $((!$?)) "Demote=no: no demotion logged"

# ---- An unmanaged 1G pool is never touched -----------------------------------
scenario "unmanaged 1G" '[Pool 2M]\nPages=0\nDemote=yes\n'
reload '[Pool 2M]\nPages=512\nDemote=yes\n'
ctl wait --timeout 20 >/dev/null 2>&1
tap_is $? 0 "unmanaged 1G: 2M 512 converges"
tap_is "$(fk_state "$root" $G.nr)" 2 "unmanaged 1G: the 1G pool keeps its 2 pages"
tap_is "$(pool_get 2M F_RESULT.F_DEMOTED)" 0 "unmanaged 1G: nothing demoted"

# ---- Per-node targets: the node's own excess, on that node -------------------
scenario "per node" '[Pool 1G]\nNode0.Pages=1\nNode1.Pages=1\n[Pool 2M]\nNode1.Pages=0\nDemote=yes\n'
b0=$(buddy)
reload '[Pool 1G]\nNode0.Pages=1\nNode1.Pages=0\n[Pool 2M]\nNode0.Pages=0\nNode1.Pages=512\nDemote=yes\n'
ctl wait --timeout 20 >/dev/null 2>&1
tap_is $? 0 "per node: converges"
tap_is "$(fk_state "$root" $G.node0.nr) $(fk_state "$root" $G.node1.nr) $(fk_state "$root" $M.node1.nr)" "1 0 512" \
        "per node: node 1's 1G page became its 512 2M pages, node 0's stays"
tap_is "$(buddy)" "$b0" "per node: no 2M page from the buddy allocator"
tap_is "$(pool_get 2M F_RESULT.F_NODES.1.F_SAVED_BYTES) $(pool_get 2M F_RESULT.F_NODES.1.F_SAVED_EXACT)" \
        "$((512 * 7 * 4096)) true" "per node: node 1's saving is measured"

daemon_log_clean
tap_ok $? "no sanitizer report"
tap_done
