#!/bin/bash
# End to end on the real kernel: the real hugevmd on "/" driven by the real
# hugevmctl through grow, shrink, HVO off, grow, HVO on, grow, shrink of the
# 2048kB pool. After every step the saved bytes hugevmd reports for 2048kB, its
# measured figure, and the kernel's memmap counters read here independently
# (KERNEL.md "Measuring what HVO saved") must be equal, exactly.
# Holds the real-kernel lock; restores the pool, overcommit and the HVO sysctl.
. "$top_srcdir/tests/integration/common.sh"

pool=/sys/kernel/mm/hugepages/hugepages-2048kB
hvo=/proc/sys/vm/hugetlb_optimize_vmemmap
[ "$(id -u)" = 0 ] || tap_skip_all "needs root to change the real hugepage pools"
[ -w $pool/nr_hugepages ] || tap_skip_all "$pool/nr_hugepages is not writable"
[ -w $hvo ] || tap_skip_all "no writable $hvo (kernel without HVO)"
grep -q '^nr_memmap_pages ' /proc/vmstat || tap_skip_all "no nr_memmap counters in /proc/vmstat (kernel before 6.11)"

# One real-kernel user at a time: other tests measure exact counter deltas.
exec 9>/tmp/hugevm-realkernel.lock
flock -w 600 9 || tap_skip_all "could not get /tmp/hugevm-realkernel.lock within 600 s"

orig_pages=$(cat $pool/nr_hugepages)
orig_overcommit=$(cat $pool/nr_overcommit_hugepages)
orig_hvo=$(cat $hvo)
restore() {
        stop_daemon # first, or it would put its target back
        echo "$orig_overcommit" >$pool/nr_overcommit_hugepages
        echo "$orig_pages" >$pool/nr_hugepages
        echo "$orig_hvo" >$hvo
        [ "$(cat $pool/nr_hugepages)" = "$orig_pages" ] && [ "$(cat $hvo)" = "$orig_hvo" ] ||
                echo "# WARNING: could not restore nr_hugepages=$orig_pages / HVO=$orig_hvo" >&2
        cleanup
}
trap restore EXIT
echo "# found: nr_hugepages=$orig_pages nr_overcommit_hugepages=$orig_overcommit hugetlb_optimize_vmemmap=$orig_hvo"

# The kernel's saving, computed here from sysfs and vmstat, in bytes.
page_size=$(getconf PAGESIZE)
struct_page=64
kernel_saved_bytes() {
        local block blocks baseline current
        block=$((16#$(cat /sys/devices/system/memory/block_size_bytes)))
        blocks=$(ls -d /sys/devices/system/memory/memory[0-9]* | wc -l)
        baseline=$((blocks * (block / page_size) * struct_page / page_size))
        current=$(awk '$1 == "nr_memmap_pages" || $1 == "nr_memmap_boot_pages" { s += $2 } END { print s }' /proc/vmstat)
        echo $(((baseline - current) * page_size))
}

# Start from an empty pool with HVO off, so that every saved page is ours.
echo 0 >$pool/nr_hugepages
echo 0 >$hvo
tap_is "$(kernel_saved_bytes)" 0 "empty pool: the kernel's memmap counters show nothing saved"

root=/
write_config <<EOF
HVO=no
EOF
start_daemon
tap_ok $? "hugevmd starts on the real root" || { show_log; tap_done; exit 1; }

table="step|action|pages|HVO|optimized|reported|measured(daemon)|measured(kernel)|agree"
optimized_model=0
# check STEP ACTION: compare the three figures after an action.
check() {
        local st size pages target saved optimized exact m_saved agrees k_saved
        st=$(ctl --json status)
        read -r size pages target saved optimized exact m_saved agrees < <(printf '%s' "$st" |
                hv get F_POOLS.0.F_SIZE F_POOLS.0.F_PAGES F_POOLS.0.F_TARGET F_POOLS.0.F_SAVED_BYTES F_POOLS.0.F_OPTIMIZED_PAGES \
                       F_POOLS.0.F_SAVED_EXACT F_MEASURED.F_SAVED_BYTES F_MEASURED.F_AGREES | tr '\n' ' ')
        k_saved=$(kernel_saved_bytes)
        echo "# step $1 ($2): pages=$pages target=$target optimized=$optimized reported=$saved (exact=$exact)" \
             "measured(daemon)=$m_saved measured(kernel)=$k_saved agrees=$agrees"
        [ "$size" = 2048kB ] || echo "# first pool is $size, not 2048kB"
        tap_is "$saved" "$k_saved" "step $1 ($2): reported 2048kB saved bytes = kernel memmap saving"
        tap_is "$m_saved" "$k_saved" "step $1 ($2): daemon's measured saving = kernel memmap saving"
        tap_is "$agrees" true "step $1 ($2): daemon says model and measurement agree"
        table="$table
$1|$2|$pages|$(cat $hvo)|$optimized|$saved|$m_saved|$k_saved|$agrees"
}
# grow_or_shrink STEP PAGES
set_step() {
        ctl set 2M "$2" --runtime --wait --timeout 120 >"$tmp/out" 2>"$tmp/err"
        tap_is $? 0 "step $1: hugevmctl set 2M $2 --runtime --wait"
        sed 's/^/# /' "$tmp/out" "$tmp/err" | tail -3
        tap_is "$(cat $pool/nr_hugepages)" "$2" "step $1: $pool/nr_hugepages reads back $2"
}
hvo_step() {
        ctl vmemmap "$2" >"$tmp/out" 2>"$tmp/err"
        tap_is $? 0 "step $1: hugevmctl vmemmap $2"
        tap_is "$(cat $hvo)" "$([ "$2" = on ] && echo 1 || echo 0)" "step $1: sysctl reads back $2"
}

check 0 "start, empty pool, HVO off"
hvo_step 1 on
set_step 1 200;  check 1 "HVO on, grow to 200"
set_step 2 100;  check 2 "shrink to 100"
hvo_step 3 off;  check 3 "HVO off"
set_step 4 300;  check 4 "grow to 300 (HVO off)"
hvo_step 5 on;   check 5 "HVO on"
set_step 6 400;  check 6 "grow to 400"
set_step 7 150;  check 7 "shrink to 150"
set_step 8 0;    check 8 "shrink to 0"

echo "# reported vs measured savings (bytes):"
printf '%s\n' "$table" | column -t -s '|' | sed 's/^/#   /'
[ "$tap_failed" -eq 0 ] || show_log
tap_done
