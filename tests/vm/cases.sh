#!/bin/sh
# VM tier cases, run by /init inside the qemu guest: Debian's 6.1 kernel, two
# NUMA nodes of 3 GiB, the 2048kB and 1048576kB hstates, HVO booted off.
# TAP on stdout (the host counts it), diagnostics on stderr (the console).
#
# Each node has room for exactly one 1 GiB page (run.sh explains the layout),
# which makes the shortfall case certain: three 1 GiB pages on a 3 GiB node.
. /vm/lib.sh
. /vm/vmlib.sh


# ---- The machine is what the tier claims to test on --------------------------
is "$(ls -d $node_dir/node[0-9]* | wc -l)" 2 "guest has two NUMA nodes"
ok "$([ -d $hp_dir/hugepages-2048kB ] && [ -d $hp_dir/hugepages-1048576kB ]; echo $?)" \
        "guest has the 2048kB and 1048576kB hstates (-cpu max: pdpe1gb)"
ok "$([ -f /proc/sys/vm/hugetlb_optimize_vmemmap ]; echo $?)" "6.1 has the HVO sysctl"
ok "$(! grep -q '^nr_memmap' /proc/vmstat; echo $?)" "6.1 has no nr_memmap counters"
is "$(cat /proc/sys/vm/hugetlb_optimize_vmemmap)" 0 "HVO is off at boot (hugetlb_free_vmemmap=off)"

if [ "$(cat /vm/kernel_only)" = 1 ]; then tap_done; exit; fi

# ---- The daemon ---------------------------------------------------------------
mkdir -p /etc/hugevmd /run/hugevmd /var/lib/hugevmd
cat >/etc/hugevmd/hugevmd.conf <<'EOF'
# VM tier: no pool targets at start; the cases set them with hugevmctl.
[Daemon]
HVO=yes
RefreshSec=1
MetricsListen=no
EOF
start_hugevmd
ok $? "hugevmd answers status within 30 s"
if ! kill -0 "$daemon_pid" 2>/dev/null; then
        say "hugevmd is not running; its log:"; sed 's/^/# /' "$log"
        echo "Bail out! hugevmd did not start"
        exit 1
fi

# ---- HVO on 6.1: the sysctl, the model, no measurement ------------------------
is "$(cat /proc/sys/vm/hugetlb_optimize_vmemmap)" 1 "hugevmd turned HVO on at start (HVO=yes)"
vm=$(ctl --json vmemmap status | jq -c .)
is "$(printf '%s' "$vm" | jq -r '[.supported, .enabled, .boot_param, .reserve_pages, .page_size, .struct_page_size] | map(tostring) | join(" ")')" \
        "true true off 1 4096 64" "vmemmap status: supported, enabled, boot param off, reserve 1 page, 4 KiB pages, 64-byte struct page"
is "$(printf '%s' "$vm" | jq -r .kernel)" "$(uname -r)" "vmemmap status names the running kernel"
is "$(printf '%s' "$vm" | jq -r '.sizes[] | select(.size == "2048kB") | [.eligible, .vmemmap_pages, .saved_bytes_per_hugepage] | map(tostring) | join(" ")')" \
        "true 8 28672" "2048kB: 8 vmemmap pages, 7 x 4 KiB = 28672 bytes saved per hugepage"
is "$(printf '%s' "$vm" | jq -r '.sizes[] | select(.size == "1048576kB") | [.eligible, .vmemmap_pages, .saved_bytes_per_hugepage] | map(tostring) | join(" ")')" \
        "true 4096 16773120" "1048576kB: 4096 vmemmap pages, 4095 x 4 KiB = 16773120 bytes saved per hugepage"

# ---- Per-node targets for both sizes -----------------------------------------
# 1 GiB pages first: 2 MiB pages scattered into a node's free GiB would make
# the contiguous allocation migrate them (slow under emulation).
ctl set 1G 1 --node 0 --wait --timeout 120 >&2; is $? 0 "set 1G 1 --node 0 --wait: exit 0"
ctl set 1G 1 --node 1 --wait --timeout 120 >&2; is $? 0 "set 1G 1 --node 1 --wait: exit 0"
ctl set 2M 64 --node 0 --wait --timeout 120 >&2; is $? 0 "set 2M 64 --node 0 --wait: exit 0"
ctl set 2M 32 --node 1 --wait --timeout 120 >&2; is $? 0 "set 2M 32 --node 1 --wait: exit 0"
st=$(status_json)
is "$(node_q "$st" 2048kB 0 '"\(.pages)/\(.target) \(.state)"') $(node_q "$st" 2048kB 1 '"\(.pages)/\(.target) \(.state)"')" \
        "64/64 converged 32/32 converged" "2048kB reported per node: node0 64 of 64, node1 32 of 32, converged"
is "$(node_q "$st" 1048576kB 0 '"\(.pages)/\(.target) \(.state)"') $(node_q "$st" 1048576kB 1 '"\(.pages)/\(.target) \(.state)"')" \
        "1/1 converged 1/1 converged" "1048576kB reported per node: one page on each node, converged"
is "$(sysfs_node 0 2048kB nr_hugepages) $(sysfs_node 1 2048kB nr_hugepages) $(sysfs_node 0 1048576kB nr_hugepages) $(sysfs_node 1 1048576kB nr_hugepages)" \
        "64 32 1 1" "the kernel's per-node files agree (2048kB 64 32, 1048576kB 1 1)"
is "$(pool_q "$st" 2048kB .pages) $(pool_q "$st" 1048576kB .pages) $(printf '%s' "$st" | jq -r .converged)" \
        "96 2 true" "pool totals 96 x 2 MiB and 2 x 1 GiB, all converged"

metric_line() { # NAME SIZE NODE: the sample's value from `hugevmctl metrics`
        ctl metrics | grep "^$1{" | grep "size=\"$2\"" | grep "node=\"$3\"" | awk '{ print $NF }'
}
is "$(metric_line hugevm_node_pages 1048576kB 0) $(metric_line hugevm_node_pages 1048576kB 1) $(metric_line hugevm_node_target_pages 2048kB 1)" \
        "1 1 32" "metrics: per-node samples (1048576kB pages 1 and 1 on nodes 0 and 1, 2048kB node1 target 32)"

# ---- Savings from the model (no memmap counters on 6.1) -----------------------
is "$(printf '%s' "$st" | jq -r '.measured | [.available, .saved_bytes, .agrees] | map(tostring) | join(" ")')" \
        "false null null" "measured: not available on 6.1, no measured figure, no agreement claimed"
# saved_exact is true only for a measured figure: without counters every
# figure is the model's, right here, but not measured.
is "$(pool_q "$st" 2048kB '"\(.optimized_pages) \(.saved_bytes) \(.model_optimized_pages) \(.saved_exact)"')" "96 $((96 * 28672)) 96 false" \
        "2048kB: 96 pages optimized (the model: all grown with HVO on), saved 96 x 28672 bytes, not measured"
is "$(pool_q "$st" 1048576kB '"\(.optimized_pages) \(.saved_bytes) \(.model_optimized_pages) \(.saved_exact)"')" "2 $((2 * 16773120)) 2 false" \
        "1048576kB: 2 pages optimized (the model), saved 2 x 16773120 bytes, not measured"
is "$(printf '%s' "$st" | jq -r '.measured.model_saved_bytes')" "$((96 * 28672 + 2 * 16773120))" \
        "model_saved_bytes is the sum of both sizes' savings"

# ---- A 1 GiB target the node cannot hold -------------------------------------
# The wait goes on while hugevmd retries (1, 2, 4 s, then degraded), to its
# timeout: exit 4 then, with the reason.
t0=$(date +%s)
ctl set 1G 3 --node 1 --wait --timeout 20 >&2; rc=$?
waited=$(( $(date +%s) - t0 ))
say "set 1G 3 --node 1 --wait --timeout 20 returned $rc after $waited s"
is "$rc" 4 "set 1G 3 --node 1 --wait: exit 4 (shortfall), not a hang"
ok "$([ "$waited" -ge 19 ]; echo $?)" "... after its 20 s timeout ($waited s), not when the pool first degraded"
st=$(status_json)
is "$(node_q "$st" 1048576kB 1 '"\(.pages)/\(.target) \(.state)"')" "1/3 degraded" \
        "node1 1048576kB: partial result 1 of 3, degraded"
reason=$(node_q "$st" 1048576kB 1 .reason)
ok "$(case "$reason" in *1*3*) echo 0;; *) echo 1;; esac)" "node1 degraded with a reason naming what it reached: '$reason'"
is "$(pool_q "$st" 1048576kB .state) $(printf '%s' "$st" | jq -r .converged)" "degraded false" \
        "the 1048576kB pool is degraded and not all pools converged"
retries=$(pool_q "$st" 1048576kB '[.retries // 0, (.nodes[] | .retries // 0)] | max')
ok "$([ "${retries:-0}" -gt 0 ]; echo $?)" "retries reported for the short pool: $retries"
is "$(sysfs_node 1 1048576kB nr_hugepages) $(sysfs_node 0 1048576kB nr_hugepages)" "1 1" \
        "the kernel agrees: node1 kept its one page, node0 untouched"
ctl wait --timeout 5 >/dev/null 2>&1; is $? 4 "hugevmctl wait exits 4 while a pool is degraded"
ctl set 1G 1 --node 1 --wait --timeout 60 >&2; is $? 0 "after lowering the target to 1, set --wait exits 0"
st=$(status_json)
is "$(node_q "$st" 1048576kB 1 '"\(.pages)/\(.target) \(.state) [\(.reason)]"') $(printf '%s' "$st" | jq -r .converged)" \
        "1/1 converged [] true" "node1 1048576kB converged again, reason cleared"

# ---- Shrinking below the pages in use leaves surplus --------------------------
# The holder runs on CPU 0, so its pages come from node 0's 64.
taskset 0x1 holder 2048 48 >/tmp/holder.out 2>&1 &
holder_pid=$!
until_true 30 grep -q holding /tmp/holder.out 2>/dev/null
ok $? "holder maps and touches 48 x 2 MiB pages on node 0"
is "$(sysfs_node 0 2048kB free_hugepages)" 16 "node0 has 16 of 64 pages free while the holder runs"
ctl set 2M 16 --node 0 >&2; is $? 0 "set 2M 16 --node 0 (below the 48 in use): accepted"
surplus_seen() {
        st=$(status_json)
        [ "$(node_q "$st" 2048kB 0 .surplus)" = 32 ] && [ "$(node_q "$st" 2048kB 0 .state)" = degraded ]
}
until_true 30 surplus_seen
is "$(node_q "$st" 2048kB 0 '"\(.pages) surplus=\(.surplus) \(.state)"')" "48 surplus=32 degraded" \
        "node0 2048kB: 48 pages, 32 surplus reported, degraded"
reason=$(node_q "$st" 2048kB 0 .reason)
ok "$(case "$reason" in *surplus*) echo 0;; *) echo 1;; esac)" "node0 degraded because of surplus: '$reason'"
is "$(sysfs_node 0 2048kB surplus_hugepages) $(pool_q "$st" 2048kB .surplus)" "32 32" \
        "the kernel's node0 surplus_hugepages and the pool's surplus agree: 32"
ctl wait --timeout 3 >/dev/null 2>&1; is $? 4 "hugevmctl wait exits 4 while the surplus is held"
kill "$holder_pid"; wait "$holder_pid" 2>/dev/null; holder_pid=
ctl wait --timeout 60 >/dev/null; is $? 0 "after the holder exits, hugevmctl wait exits 0"
st=$(status_json)
is "$(node_q "$st" 2048kB 0 '"\(.pages) surplus=\(.surplus) \(.state)"') $(sysfs_node 0 2048kB nr_hugepages)" \
        "16 surplus=0 converged 16" "node0 2048kB converged at 16, no surplus, kernel agrees"

# ---- Pages grown with HVO off are not counted; a mixed shrink is estimated ----
# 2048kB now: node0 16 + node1 32, all 48 optimized (every shrink so far left
# only optimized pages).
ctl vmemmap off >/dev/null; is "$? $(cat /proc/sys/vm/hugetlb_optimize_vmemmap)" "0 0" "vmemmap off: the sysctl reads 0"
ctl set 2M 48 --node 1 --wait --timeout 60 >&2; is $? 0 "set 2M 48 --node 1 with HVO off: exit 0"
st=$(status_json)
is "$(pool_q "$st" 2048kB '"\(.pages) \(.optimized_pages) \(.saved_bytes) \(.saved_exact)"')" "64 48 $((48 * 28672)) false" \
        "16 pages grown with HVO off add no saving (64 pages, 48 optimized, the model's)"
ctl set 2M 32 --node 1 --wait --timeout 60 >&2; is $? 0 "set 2M 32 --node 1: exit 0"
st=$(status_json)
is "$(pool_q "$st" 2048kB '"\(.pages) \(.saved_exact)"')" "48 false" \
        "after shrinking a pool of mixed pages the 2048kB saving is still the model's estimate"
opt=$(pool_q "$st" 2048kB .optimized_pages)
ok "$([ "${opt:-0}" -ge 32 ] && [ "$opt" -le 48 ] && [ "$(pool_q "$st" 2048kB .saved_bytes)" = $((opt * 28672)) ]; echo $?)" \
        "estimated optimized pages within the provable bounds [32, 48] ($opt), saved_bytes = $opt x 28672"
ctl vmemmap on >/dev/null; is "$? $(cat /proc/sys/vm/hugetlb_optimize_vmemmap)" "0 1" "vmemmap on: the sysctl reads 1"

# ---- Re-optimization: pages grown with HVO off replaced by optimized ones ------
# 32 pages grown on node 0 with HVO off, then converted; no memmap counters on
# 6.1, so the figures are the model's (each batch's check needs 6.11+).
ctl vmemmap off >/dev/null
ctl set 2M 48 --node 0 --wait --timeout 60 >&2; is $? 0 "HVO off: 2048kB node0 grown from 16 to 48"
ctl vmemmap on >/dev/null
st=$(status_json)
is "$(node_q "$st" 2048kB 0 '"\(.unoptimized_pages) \(.unoptimized_in_use)"')" "32 0" "node0: the 32 new pages are unoptimized, none in use"
ctl vmemmap optimize 2M --node 0 --wait --timeout 120 >&2; is $? 0 "vmemmap optimize 2M --node 0 --wait: exit 0"
st=$(status_json)
is "$(node_q "$st" 2048kB 0 '"\(.pages) \(.unoptimized_pages) \(.reoptimized_pages) \(.optimized_pages)"') $(sysfs_node 0 2048kB nr_hugepages)" \
        "48 0 32 48 48" "node0: 48 pages, none unoptimized, 32 re-optimized, all 48 optimized (the model); the kernel agrees on 48"
ctl set 2M 16 --node 0 --wait --timeout 60 >&2; is $? 0 "node0 back to 16 pages"

# A 1 GiB page grown with HVO off on node 0, which has room for no second one:
# the batch cannot grow, nothing is shrunk, exit 4 with the reason.
ctl vmemmap off >/dev/null
ctl set 1G 0 --node 0 --wait --timeout 60 >&2 && ctl set 1G 1 --node 0 --wait --timeout 120 >&2
is $? 0 "HVO off: 1048576kB node0 emptied and grown to 1 page again"
ctl vmemmap on >/dev/null
ctl vmemmap optimize 1G --node 0 --wait --timeout 120 >/dev/null 2>/tmp/reopt.err; rc=$?
say "vmemmap optimize 1G: $(cat /tmp/reopt.err)"
is "$rc" 4 "vmemmap optimize 1G --node 0 --wait without room for a batch: exit 4"
ok "$(grep -q "no free memory for a batch of 1 page" /tmp/reopt.err; echo $?)" "... saying there is no free memory for the batch"
st=$(status_json)
is "$(node_q "$st" 1048576kB 0 '"\(.pages) \(.unoptimized_pages)"') $(sysfs_node 0 1048576kB nr_hugepages)" "1 1 1" \
        "node0 1048576kB: still 1 page, still unoptimized; nothing shrunk (the kernel agrees)"

ok "$(kill -0 "$daemon_pid" 2>/dev/null; echo $?)" "hugevmd is still running after every case"

# ---- A restart keeps the per-node targets (state directory) ------------------
kill "$daemon_pid"
until_true 30 sh -c "! kill -0 $daemon_pid 2>/dev/null"
ok $? "hugevmd stops on SIGTERM within 30 s"
wait "$daemon_pid" 2>/dev/null
daemon_pid=
start_hugevmd
ctl wait --timeout 60 >/dev/null; is $? 0 "restarted hugevmd answers and its pools are converged"
st=$(status_json)
is "$(for s in 2048kB 1048576kB; do for n in 0 1; do node_q "$st" $s $n '"\(.target)"'; done; done | tr '\n' ' ')" "16 32 1 1 " \
        "after a restart the per-node targets are the ones set before (2048kB 16/32, 1048576kB 1/1)"
is "$(sysfs_node 0 2048kB nr_hugepages) $(sysfs_node 1 2048kB nr_hugepages) $(sysfs_node 0 1048576kB nr_hugepages) $(sysfs_node 1 1048576kB nr_hugepages)" \
        "16 32 1 1" "the pools themselves survived the restart"

# ---- Demote=yes: a 2 MiB target met by demoting a free 1 GiB page -------------
# Both targets change at one start (a config, no state file): node 1's 1 GiB
# page goes (target 0) while its 2 MiB pool grows by 512 pages: the page is
# demoted, not freed to the buddy allocator and reallocated.
kill "$daemon_pid"
until_true 30 sh -c "! kill -0 $daemon_pid 2>/dev/null"
wait "$daemon_pid" 2>/dev/null
daemon_pid=
rm -f /var/lib/hugevmd/*
buddy0=$(awk '$1 == "htlb_buddy_alloc_success" { print $2 }' /proc/vmstat)
cat >>/etc/hugevmd/hugevmd.conf <<'EOF'
[Pool 1G]
Node0.Pages=1
Node1.Pages=0
[Pool 2M]
Node0.Pages=16
Node1.Pages=544
Demote=yes
EOF
start_hugevmd
ctl wait --timeout 120 >/dev/null; is $? 0 "Demote=yes: 2M node1 544 and 1G node1 0 converge"
is "$(cat $hp_dir/hugepages-1048576kB/demote_size)" 2048kB "the 1 GiB hstate demotes to 2048kB"
is "$(sysfs_node 0 2048kB nr_hugepages) $(sysfs_node 1 2048kB nr_hugepages) $(sysfs_node 0 1048576kB nr_hugepages) $(sysfs_node 1 1048576kB nr_hugepages)" \
        "16 544 1 0" "the kernel's per-node files: node1's 1 GiB page became 512 pages of 2 MiB, node0 untouched"
is "$(awk '$1 == "htlb_buddy_alloc_success" { print $2 }' /proc/vmstat)" "$buddy0" \
        "no 2 MiB page came from the buddy allocator (vmstat htlb_buddy_alloc_success unchanged)"
ok "$(grep -q 'Demoted 1 free 1048576kB page on node 1 into 512 2048kB pages' "$log"; echo $?)" \
        "hugevmd logged the demotion of node1's 1 GiB page into 512 pages of 2 MiB"
st=$(status_json)
is "$(pool_q "$st" 2048kB .demoted_pages) $(pool_q "$st" 1048576kB .demoted_pages)" "512 0" \
        "status: 2048kB demoted_pages 512, 1048576kB 0"
is "$(node_q "$st" 2048kB 1 '"\(.optimized_pages) \(.saved_bytes) \(.saved_exact)"')" "544 $((544 * 28672)) false" \
        "node1 2048kB: the 512 demoted pages are optimized (HVO on): 544 x 28672 bytes saved (the model; 6.1 has no counters)"
is "$(ctl metrics | grep '^hugevm_pool_demoted_pages_total{' | grep 'size="2048kB"' | awk '{ print $NF }')" 512 \
        "metrics: hugevm_pool_demoted_pages_total{size=\"2048kB\"} 512"
tap_done
