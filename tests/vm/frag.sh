#!/bin/sh
# VM tier, fragmentation stage: the pages each tool gets from fragmented
# memory (issue 15's benchmark; docs/benchmarks.md has the table and how to
# rerun it). Per trial, from the same start: both nodes fragmented by
# `fragment` (one 4 KiB page kept at the start of every 2 MiB block it filled,
# mlocked), then one tool asks for more pages than the machine has free as
# contiguous blocks (the target is for the whole pool):
#   sysfs     one write of nr_hugepages
#   hugeadm   hugeadm --pool-pages-min SIZE:N --hard
#   dpdk      dpdk-hugepages.py -p SIZE -r MEMORY (Debian's dpdk; its only form on
#             a NUMA machine: MEMORY on every node, N/2 each, node by node until one falls short)
#   hugevmd   hugevmctl set SIZE N, then wait --fail-fast; its forecast
#             (set --dry-run) taken before growth
# and after it, in the same boot, the limit: full compaction (vm.compact_memory),
# then writes of nr_hugepages until one gains nothing, on top of the tool's pages.
# with vm.compact_unevictable_allowed=1 (short and full) and 0 (full only),
# vm.compaction_proactiveness=0 (below).
# One trial per boot (hugevm.trial=, below); run.sh boots one per tool, size
# and setting (HUGEVM_VM_FRAG=short: unevictable=1 only) and prints the table.
# TAP checks the benchmark's premises (fragmented as claimed, each tool ran to
# its end); the targets are figures, in the table.
. /vm/lib.sh
. /vm/vmlib.sh

keep=512 reserve_mb=64
frag_pids=
mkdir -p /etc/hugevmd /run/hugevmd /var/lib/hugevmd
printf '[Daemon]\nHVO=yes\nRefreshSec=1\nMetricsListen=no\n' >/etc/hugevmd/hugevmd.conf
echo 1 >/proc/sys/vm/hugetlb_optimize_vmemmap   # as hugevmd would: the same for every tool
# Proactive compaction off: kcompactd would otherwise undo the fragmentation
# (and move pages while `fragment` reads their frame numbers) between trials,
# so that no two trials would start alike. Compaction a tool asks for still runs.
echo 0 >/proc/sys/vm/compaction_proactiveness

nr() { sysfs_node "$1" "$2" nr_hugepages; }
# free_2m NODE: 2 MiB pages in the node's free blocks of order 9 and 10 (/proc/buddyinfo).
free_2m() { awk -v n="$1," '$1 == "Node" && $2 == n { t += $14 + 2 * $15 } END { print t + 0 }' /proc/buddyinfo; }
node_free_mb() { awk '$3 == "MemFree:" { print int($4 / 1024) }' "$node_dir/node$1/meminfo"; }
fragment_start() { # LOCK
        rm -f /tmp/frag.0 /tmp/frag.1
        for n in 0 1; do
                fragment "$n" "$keep" "$1" "$reserve_mb" >/tmp/frag.$n 2>&1 &
                frag_pids="$frag_pids $!"
        done
        # Until both are ready or one died (its error is in /tmp/frag.N); under run.sh's 300 s.
        until_true 200 frag_settled
        frag_ready
}
frag_ready() { grep -q ^fragmented /tmp/frag.0 && grep -q ^fragmented /tmp/frag.1; }
frag_settled() { frag_ready || ! kill -0 $frag_pids 2>/dev/null; }
fragment_stop() { [ -z "$frag_pids" ] || { kill $frag_pids; wait $frag_pids 2>/dev/null; frag_pids=; }; }
stop_hugevmd() {
        [ -n "$daemon_pid" ] || return 0
        kill "$daemon_pid"; wait "$daemon_pid" 2>/dev/null; daemon_pid=
        rm -f /var/lib/hugevmd/*
}
trap 'fragment_stop; stop_hugevmd' EXIT
: >/tmp/tool.out

# limit SIZE T: what full compaction and writes until one gains nothing give.
limit() {
        echo 1 >/proc/sys/vm/compact_memory
        last=-1
        while [ "$(cat $hp_dir/hugepages-$1/nr_hugepages)" != "$last" ]; do
                last=$(cat $hp_dir/hugepages-$1/nr_hugepages)
                echo "$2" >$hp_dir/hugepages-$1/nr_hugepages 2>/dev/null
        done
        cat $hp_dir/hugepages-$1/nr_hugepages
}

# run_tool TOOL SIZE T: ask for T pages in all; prints the forecast (hugevmd)
# or "-"; the tool's exit status in /tmp/tool.rc, its output in /tmp/tool.out.
run_tool() {
        param=$([ "$2" = 2048kB ] && echo 2M || echo 1G)
        mb=$([ "$2" = 2048kB ] && echo 2 || echo 1024)
        rc=0
        case $1 in
        sysfs) echo "$3" 2>/tmp/tool.out >$hp_dir/hugepages-$2/nr_hugepages || rc=$?; echo - ;;
        hugeadm) hugeadm --pool-pages-min "$param:$3" --hard >/tmp/tool.out 2>&1 || rc=$?; echo - ;;
        dpdk) python3 /usr/bin/dpdk-hugepages.py -p "$param" -r "$(($3 / 2 * mb))M" >/tmp/tool.out 2>&1 || rc=$?; echo - ;;
        hugevmd)
                if start_hugevmd; then
                        ctl --json set "$param" "$3" --dry-run | jq -r '.forecast.expect // "-"'
                        ctl set "$param" "$3" >/dev/null
                        ctl wait --fail-fast --timeout 120 >/tmp/tool.out 2>&1 || rc=$?   # under ctl's own 150 s
                        stop_hugevmd
                else
                        rc=3; echo -
                fi ;;
        esac
        echo "$rc" >/tmp/tool.rc
}
# tool_ran TOOL RC: it ran to its end: exit 0, or its own word for a shortfall
# (dpdk-hugepages.py: "Unable to set pages"; hugevmctl wait: 4), and nothing
# of a broken install (a missing library or module) in its output.
tool_ran() {
        ! grep -Eq 'Traceback|error while loading shared libraries|not found|No module' /tmp/tool.out || return 1
        case $1:$2 in
        *:0|hugevmd:4) return 0 ;;
        dpdk:*) grep -q 'Unable to set pages' /tmp/tool.out ;;
        *) return 1 ;;
        esac
}

# The trial: hugevm.trial=UNEVICTABLE:SIZE:TOOL (run.sh boots once per trial,
# so that every trial starts from the same freshly booted machine).
trial=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^hugevm\.trial=//p')
IFS=: read -r setting size tool <<EOT
$trial
EOT
case "$setting:$size:$tool" in
[01]:2048kB:sysfs|[01]:2048kB:hugeadm|[01]:2048kB:dpdk|[01]:2048kB:hugevmd) ;;
[01]:1048576kB:sysfs|[01]:1048576kB:hugeadm|[01]:1048576kB:dpdk|[01]:1048576kB:hugevmd) ;;
*) echo "Bail out! hugevm.trial='$trial' is not UNEVICTABLE(0|1):SIZE(2048kB|1048576kB):TOOL"; exit 1 ;;
esac
echo "$setting" >/proc/sys/vm/compact_unevictable_allowed
sync; echo 3 >/proc/sys/vm/drop_caches
# Fixed targets, the same at every boot: 2 MiB, 2950 pages (5900 MiB: more than
# the whole free memory, about 5830 MiB after boot); 1 GiB, two per node (the
# layout leaves room for one, run.sh).
f0=$(node_free_mb 0) f1=$(node_free_mb 1)
t2=$(( (f0 + f1) / 2 ))     # the free memory in pages of 2 MiB
want=$([ "$size" = 2048kB ] && echo 2950 || echo 4)
say "fragmentation trial: unevictable=$setting $size $tool, target $want; free $f0 and $f1 MiB"
if ! fragment_start 1; then
        tap_ok 1 "[unevictable=$setting $size $tool] both nodes fragmented"
        sed 's/^/#   /' /tmp/frag.0 /tmp/frag.1
        tap_done; exit 1
fi
tap_ok 0 "[unevictable=$setting $size $tool] both nodes fragmented:$(sed -n 's/^fragmented node \([0-9]\): filled \([0-9]*\) MiB, kept \([0-9]*\) pages.*/ node \1 \2 MiB, \3 kept;/p' /tmp/frag.0 /tmp/frag.1 | tr -d '\n')"
before=$(( $(free_2m 0) + $(free_2m 1) ))
ok "$([ $((before * 10)) -lt "$t2" ]; echo $?)" \
        "... $before free blocks of 2 MiB or more before the tool: under a tenth of the $t2 pages of 2 MiB the free memory holds"
s0=$(date +%s)
fc=$(run_tool "$tool" "$size" "$want")
got=$(( $(nr 0 "$size") + $(nr 1 "$size") ))
secs=$(( $(date +%s) - s0 ))
say "unevictable=$setting $size $tool: $got of $want (node0 $(nr 0 "$size"), node1 $(nr 1 "$size")) in $secs s, forecast $fc"
[ -s /tmp/tool.out ] && sed "s/^/hugevm-vm:   $tool: /" /tmp/tool.out >&2
rc=$(cat /tmp/tool.rc)
tool_ran "$tool" "$rc"
ok $? "... $tool ran to its end (exit $rc) and reached $got of $want pages of $size"
lim=$(limit "$size" "$want")
say "unevictable=$setting $size: the limit of this boot, after $tool: $lim (node0 $(nr 0 "$size"), node1 $(nr 1 "$size"))"
fragment_stop
echo "frag=$setting $size $tool $want $got $secs $fc $lim" >/tmp/vm-data
tap_done
