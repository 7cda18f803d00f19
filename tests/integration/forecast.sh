#!/bin/bash
# The growth forecast (docs/protocol.md "Forecast") on the fake kernel: its
# figures against arithmetic done here from the fake's state, the dry-run line
# of hugevmctl, the hugevm_pool_feasible_pages metric, and the growth order
# (1 GiB pages before 2 MiB ones).
. "$top_srcdir/tests/integration/common.sh"

call() { hv call "$sock" "$@"; }
st() { fk_state "$root" "$1"; }

# ---- dry runs on a machine that does not change ----------------------------
# Two nodes of 1 GiB, 512 MiB free each; compaction that does not heal: the
# fragmentation below is unmovable memory (the fake's pagetypeinfo says so).
make_fakeroot -s compact=noop
write_config </dev/null
start_daemon
tap_ok $? "hugevmd starts" || { show_log; tap_done; exit 1; }

# forecast FIELD... of a dry-run reply (stdin) at PATH (F_RESULT or F_RESULT.F_NODES.0)
fc() { local r; r=$(cat); for f in F_FC_NOW F_FC_AFTER F_FC_EXPECT F_FC_SHORT F_FC_WHY; do
        printf '%s ' "$(printf '%s' "$r" | hv get "$1.F_FORECAST.$f")"; done; echo; }

# A whole 2M target of 1000: every free 2 MiB block of both nodes, no more.
a0=$(st node0.avail_kb) a1=$(st node1.avail_kb)
now=$((a0 / 2048 + a1 / 2048))
exp=$((now < 1000 ? now : 1000))
want="$now $now $exp $((1000 - exp)) $(((1000 - exp) * 2)) MiB not free "
got=$(call M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:1000,@F_DRY_RUN:true}' | fc F_RESULT)
tap_is "$got" "$want" "2M 1000 (dry run): now, after compaction, expect, short, why from the free memory"
[ "$(cat "$(pool_file 2048kB nr_hugepages)")" = 0 ]
tap_ok $? "the dry run changed nothing"

# Node 0 fragmented: at most 10 more 2 MiB pages, by unmovable memory.
fk_ctl "$root" fragment 0 2048kB 10
cap=$(st node0.2048kB.cap) a0=$(st node0.avail_kb)
now=$((cap < a0 / 2048 ? cap : a0 / 2048))
got=$(call M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:100,@F_NODE:0,@F_DRY_RUN:true}' | fc F_RESULT.F_NODES.0)
tap_is "$got" "$now $now $now $((100 - now)) $(((100 - now) * 2)) MiB unmovable " \
        "node 0 fragmented: $now now and after compaction, the rest unmovable (free memory would cover it)"
ctl set 2M 100 --node 0 --dry-run >"$tmp/out" 2>&1
grep -qx "2048kB node 0: expect $now of 100 ($((100 - now)) short: $(((100 - now) * 2)) MiB unmovable)" "$tmp/out"
tap_ok $? "hugevmctl set --dry-run prints the forecast line" || sed 's/^/#   /' "$tmp/out"
ctl set 2M 4 --node 0 --dry-run >"$tmp/out" 2>&1
grep -qx "2048kB node 0: expect 4 of 4" "$tmp/out"
tap_ok $? "a target the forecast covers: 'expect 4 of 4', nothing short" || sed 's/^/#   /' "$tmp/out"

# 1 GiB pages: whole GiB of free memory in movable blocks. Node 1 gets 1 GiB
# free; node 0's 512 MiB cannot hold one.
fk_ctl "$root" memory 1 1G
a0=$(st node0.avail_kb) a1=$(st node1.avail_kb) m1=$(st node1.mem_kb)
g=$(( (a0 < 10 * 2048 ? a0 : 10 * 2048) / 1048576 + (a1 < m1 ? a1 : m1) / 1048576 ))
got=$(call M_POOL_SET '{@F_SIZE:"1G",@F_PAGES:2,@F_DRY_RUN:true}' | fc F_RESULT)
tap_is "$got" "$g $g $g $((2 - g)) $((2 - g)) GiB not free " "1G 2 (dry run): $g GiB page(s) in whole free GiB"

# ---- a real target: the forecast in STATUS while growing, and the metric ----
call M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:100,@F_NODE:0,@F_PERSIST:false}' >/dev/null
node0_fc() { call M_POOL_GET '{@F_SIZE:"2M"}' | fc F_RESULT.F_NODES.0; }
short_seen() { [ "$(node0_fc)" = "0 0 $cap $((100 - cap)) $(((100 - cap) * 2)) MiB unmovable " ]; }
poll_until 20 short_seen
tap_ok $? "growing: node 0's forecast is '0 0 $cap $((100 - cap)) ...' after it took its $cap pages" ||
        { echo "# got: $(node0_fc)"; show_log; }
r=$(call M_POOL_GET '{@F_SIZE:"2M"}')
tap_is "$(printf '%s' "$r" | hv get F_RESULT.F_FORECAST.F_FC_EXPECT) $(printf '%s' "$r" | hv get F_RESULT.F_FORECAST.F_FC_WHY)" \
        "$cap node 0: $(((100 - cap) * 2)) MiB unmovable" "the pool's forecast sums its growing nodes"
tap_is "$(printf '%s' "$r" | hv get F_RESULT.F_NODES.1.F_FORECAST)" "null" "a node without a target has no forecast"
tap_is "$(call M_POOL_GET '{@F_SIZE:"1G"}' | hv get F_RESULT.F_FORECAST)" "null" "an unmanaged pool has no forecast"
ctl metrics >"$tmp/metrics" 2>&1
grep -qx "hugevm_pool_feasible_pages{size=\"2048kB\",node=\"0\"} $cap" "$tmp/metrics"
tap_ok $? "metric hugevm_pool_feasible_pages{size=2048kB,node=0} is $cap" || grep feasible "$tmp/metrics" | sed 's/^/#   /'
grep -qx "hugevm_pool_feasible_pages{size=\"2048kB\"} $cap" "$tmp/metrics"
tap_ok $? "... and the pool's"
grep -q "feasible_pages{size=\"1048576kB\"" "$tmp/metrics"
tap_ok $((!$?)) "no feasible sample for a pool that does not grow"
stop_daemon
fk_stop "$root"

# ---- growth order: 1 GiB pages before 2 MiB ones ----------------------------
# One node with room for one 1 GiB page and 9 of 2 MiB: taken 2 MiB first, the
# ten small pages would leave less than a GiB.
make_fakeroot -s nodes=1 -s mem=2G -s hugemem=$((1024 + 18))M
write_config <<EOF
[Pool 2M]
Pages=10
[Pool 1G]
Pages=1
EOF
start_daemon
tap_ok $? "hugevmd starts with a 2M and a 1G target" || { show_log; tap_done; exit 1; }
both() { [ "$(st 1048576kB.nr)" = 1 ] && [ "$(st 2048kB.nr)" = 9 ]; }
poll_until 20 both
tap_ok $? "the 1 GiB page was taken first (1G: $(st 1048576kB.nr), 2M: $(st 2048kB.nr) of 10)" || show_log
fcw() { call M_POOL_GET '{@F_SIZE:"2M"}' | fc F_RESULT; }
settled() { [ "$(fcw)" = "0 0 9 1 2 MiB not free " ]; }
poll_until 20 settled
tap_ok $? "the short 2M pool forecasts 9 of 10, 2 MiB not free" || echo "# got: $(fcw)"

stop_daemon
daemon_log_clean
tap_ok $? "no sanitizer report"
fk_stop "$root"

# ---- DropCaches: clean page cache stands in the way -------------------------
# One node: 512 MiB for hugetlb, 200 MiB of it page cache; a 2M target of 200
# pages (400 MiB) gets 156 pages from the free memory, the rest only once the
# cache is dropped.
drop_run() { # drop_run yes|no
        make_fakeroot -s nodes=1 -s mem=1G -s hugemem=512M
        fk_ctl "$root" cache 0 200M
        printf 'DropCaches=%s\n[Pool 2M]\nPages=200\n' "$1" | write_config
        : >"$log"
        start_daemon -v || { show_log; return 1; }
}
drop_run yes
tap_ok $? "hugevmd starts with DropCaches=yes"
poll_until 20 eval '[ "$(st 2048kB.nr)" = 200 ]'
tap_ok $? "DropCaches=yes: the retry dropped the page cache and the pool reached 200 ($(st 2048kB.nr))" || show_log
tap_is "$(st node0.cache_kb)" 0 "... the fake's page cache is gone"
grep -q "dropping the page cache: 0 -> 100 pages free now" "$log"
tap_ok $? "the drop is logged at debug with the pages it gained (0 -> 100)" || grep -i "cache\|compaction" "$log" | sed 's/^/#   /'
grep -q "compaction: 100 -> 100 pages free now" "$log"
tap_ok $? "... and so is the compaction after it (100 -> 100)"
stop_daemon
fk_stop "$root"

drop_run no
tap_ok $? "hugevmd starts with DropCaches=no"
retried() { [ "$(call M_POOL_GET '{@F_SIZE:"2M"}' | hv get F_RESULT.F_RETRIES)" -ge 2 ] 2>/dev/null; }
poll_until 20 retried
tap_ok $? "DropCaches=no: the pool retried (and stayed short)"
tap_is "$(st 2048kB.nr) $(st node0.cache_kb)" "156 204800" "DropCaches=no (the default): 156 pages, the cache left alone"
fcw=$(call M_POOL_GET '{@F_SIZE:"2M"}' | fc F_RESULT)
tap_is "$fcw" "0 0 156 44 88 MiB not free " "the forecast counts the page cache as used: 88 MiB not free"
grep -q "dropping the page cache" "$log"
tap_ok $((!$?)) "nothing dropped"

tap_done
