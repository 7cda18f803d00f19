#!/bin/bash
# End to end on the real kernel: the real hugevmd on "/" driven by the real
# hugevmctl through HVO on, grow 0 -> 400, shrink to 150, HVO off, grow to
# 300, HVO on, grow to 500, shrink to 100 of the 2048kB pool. After every step
# the model's saving (the ledger alone, never corrected by the counters), the
# saving hugevmd reports, its measured figure and the kernel's memmap counters
# read here against a baseline read with the pool empty must all be equal.
# Holds the real-kernel lock; restores the pool, overcommit and the HVO sysctl.
. "$top_srcdir/tests/integration/common.sh"

. "$top_srcdir/tests/kernel/real-pool.sh"
real_pool_take
restore() {
        stop_daemon # first, or it would put its target back
        real_pool_put_back
        cleanup
}
trap restore EXIT

# The kernel's saving in bytes: how far the memmap counters dropped below
# what they read with the pool empty and HVO off, before hugevmd started (a
# baseline read, not computed from a struct page size).
page_size=$(getconf PAGESIZE)
kernel_saved_bytes() { echo $(((baseline - $(memmap_sum)) * page_size)); }

# Start from an empty pool with HVO off, so that every saved page is ours.
echo 0 >$pool/nr_hugepages
echo 0 >$hvo
baseline=$(memmap_sum)
echo "# baseline: nr_memmap_pages + nr_memmap_boot_pages = $baseline with the pool empty, HVO off"

root=/
write_config <<EOF
HVO=no
EOF
start_daemon
tap_ok $? "hugevmd starts on the real root" || { show_log; tap_done; exit 1; }

table="step|action|pages|HVO|model optimized|model saved|reported|exact|measured(daemon)|measured(kernel)|agree"
# check STEP ACTION: the model's saving, the reported one and the daemon's
# measurement against the kernel's counters read here.
check() {
        local st size pages model_opt model_saved saved exact m_saved agrees k_saved
        st=$(ctl --json status)
        read -r size pages model_opt model_saved saved exact m_saved agrees < <(printf '%s' "$st" |
                hv get F_POOLS.0.F_SIZE F_POOLS.0.F_PAGES F_POOLS.0.F_MODEL_OPTIMIZED F_POOLS.0.F_MODEL_SAVED \
                       F_POOLS.0.F_SAVED_BYTES F_POOLS.0.F_SAVED_EXACT F_MEASURED.F_SAVED_BYTES F_MEASURED.F_AGREES | tr '\n' ' ')
        k_saved=$(kernel_saved_bytes)
        echo "# step $1 ($2): pages=$pages model=$model_opt pages/$model_saved B reported=$saved (exact=$exact)" \
             "measured(daemon)=$m_saved measured(kernel)=$k_saved agrees=$agrees"
        [ "$size" = 2048kB ] || echo "# first pool is $size, not 2048kB"
        tap_is "$model_saved" "$k_saved" "step $1 ($2): the model's 2048kB saving = kernel memmap saving"
        tap_is "$saved" "$k_saved" "step $1 ($2): reported 2048kB saved bytes = kernel memmap saving"
        tap_is "$exact" true "step $1 ($2): the reported saving is measured (exact)"
        tap_is "$m_saved" "$k_saved" "step $1 ($2): daemon's measured saving = kernel memmap saving"
        tap_is "$agrees" true "step $1 ($2): daemon says model and measurement agree"
        table="$table
$1|$2|$pages|$(cat $hvo)|$model_opt|$model_saved|$saved|$exact|$m_saved|$k_saved|$agrees"
}
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
set_step 1 400;  check 1 "HVO on, grow 0 -> 400"
tap_is "$((baseline - $(memmap_sum)))" $((400 * 7)) "the first growth saved exactly 400 x 7 vmemmap pages"
set_step 2 150;  check 2 "shrink to 150"
hvo_step 3 off;  check 3 "HVO off"
set_step 4 300;  check 4 "grow to 300 (HVO off)"
hvo_step 5 on;   check 5 "HVO on"
set_step 6 500;  check 6 "grow to 500"
set_step 7 100;  check 7 "shrink to 100"
set_step 8 0;    check 8 "shrink to 0"

echo "# reported vs measured savings (bytes):"
printf '%s\n' "$table" | column -t -s '|' | sed 's/^/#   /'
[ "$tap_failed" -eq 0 ] || show_log
tap_done
