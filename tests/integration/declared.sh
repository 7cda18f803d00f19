#!/bin/bash
# Declared state and overrides, the systemd way: the config is what the
# operator declared, a pool.set is an override shown as such (source), listed
# by reload and dropped by pool.revert; switching a pool between a whole-pool
# and per-node targets is said; reload re-applies HVO; a wait waits while the
# daemon retries and says why the pool fell short; a config naming a node this
# machine lacks is applied where it can be. Real hugevmd on the fake kernel;
# expected values come from the config the test wrote, the state file and the
# fake kernel's files.
. "$top_srcdir/tests/integration/common.sh"
call() { hv call "$sock" "$@"; }
get() { hv get "$@"; }
nr() { cat "$(pool_file 2048kB nr_hugepages)"; }
node_nr() { cat "$root/sys/devices/system/node/node$1/hugepages/hugepages-2048kB/nr_hugepages"; }
hvo_file=$root/proc/sys/vm/hugetlb_optimize_vmemmap
# The state file's 2048kB entry ("pages" of it), or "none".
state_pages() {
        "$PYTHON" - "$state/state.json" <<'PY'
import json, sys
try:
    pools = json.load(open(sys.argv[1])).get("pools", [])
except FileNotFoundError:
    pools = []
e = [p for p in pools if p.get("size_kb") == 2048]
print(e[0].get("pages", "nodes") if e else "none")
PY
}

make_fakeroot -s compact=noop   # fragmentation stays until the test lifts it
write_config <<'CONF'
HVO=yes
[Pool 2M]
Pages=20
CONF
start_daemon || { echo "Bail out! hugevmd did not start"; show_log; exit 1; }
call M_WAIT '{@F_TIMEOUT_MS:10000}' >/dev/null

# ---- 1. overrides: shown, listed by reload, reverted ------------------------
r=$(call M_POOL_GET '{@F_SIZE:"2M"}')
tap_is "$(printf '%s' "$r" | get F_RESULT.F_SOURCE F_RESULT.F_TARGET F_RESULT.F_CONFIG_TARGET | tr '\n' ' ')" \
        "$P_SOURCE_CONFIG 20 20 " "Pages=20 from the config: source config, target 20, config_target 20"

r=$(call M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:10}')
tap_is "$(printf '%s' "$r" | get F_RESULT.F_SOURCE F_RESULT.F_TARGET F_RESULT.F_CONFIG_TARGET | tr '\n' ' ')" \
        "$P_SOURCE_OVERRIDE 10 20 " "pool.set 10: an override of the config's 20"
tap_is "$(state_pages)" 10 "... kept in the state file"
poll_until 10 file_is "$(pool_file 2048kB nr_hugepages)" 10
tap_is "$(nr)" 10 "... and the pool follows it"

write_config <<'CONF'
HVO=yes
[Pool 2M]
Pages=30
CONF
r=$(call M_RELOAD)
tap_is "$(printf '%s' "$r" | get F_RESULT.F_OVERRIDES.0)" \
        "2048kB: override 10 pages in force, config says 30 pages" "reload names the override in force and the config's new value"
tap_is "$(printf '%s' "$r" | get F_RESULT.F_OVERRIDES.1)" MISSING "... and only that one"
grep -q "2048kB: override 10 pages in force, config says 30 pages (hugevmctl revert drops it)" "$log"
tap_ok $? "... and the log says it, with the way back"

r=$(call M_POOL_REVERT '{@F_SIZE:"2M"}')
tap_is "$(printf '%s' "$r" | get F_RESULT.F_SOURCE F_RESULT.F_TARGET | tr '\n' ' ')" "$P_SOURCE_CONFIG 30 " \
        "pool.revert 2M: back to the config's 30"
tap_is "$(state_pages)" none "... and the state file no longer holds it"
poll_until 10 file_is "$(pool_file 2048kB nr_hugepages)" 30
tap_is "$(nr)" 30 "... and the pool grows to 30"
r=$(call M_RELOAD)
tap_is "$(printf '%s' "$r" | get F_RESULT.F_OVERRIDES.0)" MISSING "reload after revert: no override left"

# The same through hugevmctl, as an operator types it.
ctl set 2M 14 >/dev/null
out=$(ctl reload)
tap_is "$out" "Configuration reloaded.
  2048kB: override 14 pages in force, config says 30 pages (hugevmctl revert drops it)" \
        "hugevmctl reload lists the override and the way back"
out=$(ctl revert 2M)
tap_is "$?|$out" "0|2048kB: the configuration's target is in force: 30 pages" "hugevmctl revert 2M says the config is back"
tap_is "$(state_pages)" none "... and the state file no longer holds it"
ctl set 2M 4 --node 1 >/dev/null
ctl revert 2M --node 1 >/dev/null 2>"$tmp/err"
tap_is "$?|$(cat "$tmp/err")" "2|hugevmctl: cannot revert 2M to the configuration: the configuration's target is a whole-pool target, not one per node; revert the whole pool [invalid-params]" \
        "hugevmctl revert --node when the config is a whole-pool target: exit 2, says why"
ctl revert >/dev/null

r=$(call M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:12,@F_PERSIST:false}')
tap_is "$(printf '%s' "$r" | get F_RESULT.F_SOURCE)" "$P_SOURCE_RUNTIME" "pool.set persist false: source runtime"
tap_is "$(state_pages)" none "... not in the state file"
r=$(call M_POOL_REVERT)
tap_is "$(printf '%s' "$r" | get F_RESULT.F_POOLS.0.F_SOURCE F_RESULT.F_POOLS.0.F_TARGET | tr '\n' ' ')" "$P_SOURCE_CONFIG 30 " \
        "pool.revert without a size reverts every pool"

# ---- 2. whole-pool <-> per-node: said, also in a dry run ---------------------
r=$(call M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:4,@F_NODE:1,@F_DRY_RUN:true}')
tap_is "$(printf '%s' "$r" | get F_RESULT.F_REPLACED)" "the whole-pool target of 30 pages" \
        "dry run of a node target says it would replace the whole-pool target"
tap_is "$(printf '%s' "$r" | get F_RESULT.F_SOURCE)" "$P_SOURCE_CONFIG" "... and changed nothing"
r=$(call M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:4,@F_NODE:1}')
tap_is "$(printf '%s' "$r" | get F_RESULT.F_REPLACED F_RESULT.F_TARGET F_RESULT.F_NODES.1.F_TARGET | tr '\n' ' ')" \
        "the whole-pool target of 30 pages null 4 " "node 1 target 4: replaces the whole-pool target, said in the reply"
r=$(call M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:6,@F_NODE:0}')
tap_is "$(printf '%s' "$r" | get F_RESULT.F_REPLACED)" "" "another node's target replaces nothing"
r=$(call M_POOL_SET '{@F_SIZE:"2M",@F_PAGES:30,@F_DRY_RUN:true}')
tap_is "$(printf '%s' "$r" | get F_RESULT.F_REPLACED)" "the per-node targets" "a whole-pool target would replace the per-node targets"
grep -q 'New 2048kB target: .*; replaces the whole-pool target of 30 pages' "$log"
tap_ok $? "the log says what a target replaced"

out=$(ctl set 2M 30 --dry-run)
tap_is "$out" "dry run: 2048kB target would change from none to 30 pages (replaces the per-node targets) (it has 10 now); nothing changed
2048kB: expect 30 of 30" \
        "hugevmctl set --dry-run says the per-node targets would go (and the forecast)"
out=$(ctl set 2M 30 --runtime)
case $out in "2048kB target set (runtime only) (replaces the per-node targets): "*) r=0 ;; *) r=1 ;; esac
tap_ok $r "hugevmctl set says the per-node targets went: $out"

r=$(call M_POOL_REVERT '{@F_SIZE:"2M",@F_NODE:1}')
tap_is "$(printf '%s' "$r" | get F_ERROR.F_CODE F_ERROR.F_MESSAGE | tr '\n' '|')" \
        "$P_ERR_INVALID_PARAMS|node: the configuration's target is a whole-pool target, not one per node; revert the whole pool|" \
        "revert of one node when the config is a whole-pool target: refused, with the way"
r=$(call M_POOL_REVERT '{@F_NODE:1}')
tap_is "$(printf '%s' "$r" | get F_ERROR.F_CODE F_ERROR.F_MESSAGE | tr '\n' '|')" \
        "$P_ERR_INVALID_PARAMS|node: needs size|" "revert with a node and no size: refused"
call M_POOL_REVERT '{@F_SIZE:"2M"}' >/dev/null

# ---- 9. reload re-applies HVO ----------------------------------------------
call M_VMEMMAP_SET '{@F_ENABLED:false}' >/dev/null
tap_is "$(cat "$hvo_file")" 0 "vmemmap.set false turned HVO off"
call M_RELOAD >/dev/null
tap_is "$(cat "$hvo_file")" 1 "reload with HVO=yes turns it back on"

# ---- 3. a wait waits while the daemon retries --------------------------------
# Node 0 has room for 10 more pages and node 1 for none: a node 0 target
# of 200 stops short, the daemon retries (1, 2, 4 s) and then degrades.
call M_WAIT '{@F_TIMEOUT_MS:10000}' >/dev/null
fk_ctl "$root" memory 0 2048kB 10
fk_ctl "$root" memory 1 2048kB 0
before0=$(node_nr 0)
call M_POOL_SET '{@F_SIZE:"2M",@F_NODES:{"0":200,"1":0},@F_PERSIST:false}' >/dev/null
degraded() { [ "$(call M_POOL_GET '{@F_SIZE:"2M"}' | get F_RESULT.F_STATE)" = "$P_STATE_DEGRADED" ]; }
poll_until 20 degraded
tap_ok $? "a node 0 target beyond its memory degrades after the retries"
reached=$(node_nr 0)
tap_is "$reached" $((before0 + 10)) "... having taken the 10 pages node 0 had room for"
free_kb=$(sed -n 's/^Node 0 MemFree: *\([0-9]*\) kB$/\1/p' "$root/sys/devices/system/node/node0/meminfo")
need_mib=$(((200 - reached) * 2))
reason=$(call M_POOL_GET '{@F_SIZE:"2M"}' | get F_RESULT.F_REASON)
case $reason in
"reached $reached of 200 pages after 3 retries: not enough free memory on node 0 (needs $need_mib.0 MiB, has "*) r=0 ;;
*) r=1 ;;
esac
tap_ok $r "the reason tells a lack of memory ($need_mib MiB missing, $free_kb kB free): $reason"

t0=$(date +%s%N)
r=$(call M_WAIT '{@F_SIZE:"2M",@F_TIMEOUT_MS:3000}')
elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
tap_is "$(printf '%s' "$r" | get F_ERROR.F_CODE)" "$P_ERR_SHORTFALL" "a wait on the degraded pool ends as a shortfall"
[ "$elapsed_ms" -ge 2900 ]
tap_ok $? "... only when its 3 s timeout passed ($elapsed_ms ms), not at once"
tap_is "$(printf '%s' "$r" | get F_ERROR.F_DATA.F_POOLS.0.F_REASON)" "$reason" "... carrying the reason"
r=$(call M_WAIT '{@F_SIZE:"2M",@F_TIMEOUT_MS:60000,@F_FAIL_FAST:true}')
tap_is "$(printf '%s' "$r" | get F_ERROR.F_CODE)" "$P_ERR_SHORTFALL" "fail_fast: the degraded pool ends the wait at once"
t0=$(date +%s%N)
ctl wait --timeout 3 >/dev/null 2>"$tmp/err"
rc=$?
elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
tap_is "$rc" 4 "hugevmctl wait --timeout 3 on a degraded pool: exit 4"
[ "$elapsed_ms" -ge 2900 ]
tap_ok $? "... after its timeout ($elapsed_ms ms), not at once"
grep -qF "not enough free memory on node 0" "$tmp/err"
tap_ok $? "... naming the reason" || sed 's/^/# /' "$tmp/err"
ctl wait --timeout 60 --fail-fast >/dev/null 2>&1
tap_is $? 4 "hugevmctl wait --fail-fast: exit 4 at once (not after 60 s)"

# Memory enough, but in blocks too small: fragmented, with the largest block
# (the fake keeps order 8 blocks when 2M pages are capped: 4 KiB << 8).
fk_ctl "$root" memory 1 2048kB 100
fk_ctl "$root" fragment 1 2048kB 0
before1=$(node_nr 1)
call M_POOL_SET '{@F_SIZE:"2M",@F_NODES:{"0":0,"1":50},@F_PERSIST:false}' >/dev/null
poll_until 20 degraded
reason=$(call M_POOL_GET '{@F_SIZE:"2M"}' | get F_RESULT.F_NODES.1.F_REASON)
case $reason in
"reached $before1 of 50 pages after 3 retries: memory fragmented on node 1 ("*" free, largest free block 1.0 MiB)") r=0 ;;
*) r=1 ;;
esac
tap_ok $r "free memory in small blocks is fragmentation, with the largest block: $reason" ||
        call M_POOL_GET '{@F_SIZE:"2M"}' | sed 's/^/# /'

fk_ctl "$root" fragment 1 off
call M_POOL_REVERT >/dev/null

# Re-optimization holds pages of the running kernel: not under --root.
ctl vmemmap optimize 2M >/dev/null 2>"$tmp/err"
tap_is "$?|$(cat "$tmp/err")" "1|hugevmctl: cannot re-optimize 2M: 2048kB: re-optimization holds pages of the running kernel, which hugevmd under --root does not manage [unsupported]" \
        "vmemmap optimize under --root: refused with the reason, exit 1"

# ---- 5. a node this machine lacks --------------------------------------------
stop_daemon
write_config <<'CONF'
[Pool 2M]
Node0.Pages=2
Node5.Pages=3
CONF
out=$("$HUGEVMD" --root "$root" --config "$conf" --check-config 2>&1)
tap_ok $? "--check-config accepts a target for node 5 on a two-node machine"
case $out in *"$conf:7: Node5.Pages=: node 5 does not exist on this machine; its target applies where it does"*) r=0 ;; *) r=1 ;; esac
tap_ok $r "... and warns, naming the file and line" || printf '%s\n' "$out" | sed 's/^/# /'
start_daemon || { echo "Bail out! hugevmd did not start with Node5.Pages="; show_log; exit 1; }
r=$(call M_WAIT '{@F_SIZE:"2M",@F_TIMEOUT_MS:10000}')
tap_is "$(printf '%s' "$r" | get F_RESULT.F_STATE F_RESULT.F_ABSENT_NODES.0 F_RESULT.F_NODES.0.F_TARGET | tr '\n' ' ')" \
        "$P_STATE_CONVERGED 5 2 " "the daemon applies node 0's target, converges, and shows node 5 as absent"
tap_is "$(node_nr 0)" 2 "node 0 holds its 2 pages"
stop_daemon
daemon_log_clean
tap_ok $? "no sanitizer report"
tap_done
