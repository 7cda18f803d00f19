#!/bin/sh
# VM tier, boot-plan stage, second boot: the guest booted with the line that
# plan.sh's `hugevmctl boot-plan` printed. The kernel made the pools at boot
# and optimized them (hugetlb_free_vmemmap=on); hugevmd adopts them: it opens
# no pool file for writing (strace says so, not hugevmd) and reports their
# saving, which MemTotal confirms: the kernel gives the freed vmemmap pages
# back to the managed memory, so this boot has MemTotal of the plan boot (no
# page optimized) plus exactly the saved pages.
. /vm/lib.sh
. /vm/vmlib.sh

cmdline=$(cat /proc/cmdline)
memtotal_off_kb=$(printf '%s\n' $cmdline | sed -n 's/^hugevm\.memtotal_off_kb=//p')
pages_at_boot() { echo $(sysfs_node 0 1048576kB nr_hugepages) $(sysfs_node 1 1048576kB nr_hugepages) \
        $(sysfs_node 0 2048kB nr_hugepages) $(sysfs_node 1 2048kB nr_hugepages); }
vmstat() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }

# ---- What the kernel did at boot, before hugevmd ------------------------------
is "$(pages_at_boot)" "1 1 64 32" "the kernel made the planned pools at boot: 1 GiB x 1 on each node, 2 MiB x 64 and 32"
is "$(cat /proc/sys/vm/hugetlb_optimize_vmemmap)" 1 "HVO is on from boot (hugetlb_free_vmemmap=on)"
is "$(vmstat htlb_buddy_alloc_success)" 96 "the 96 pages of 2 MiB came from the buddy allocator at boot (vmstat)"
# 4 KiB pages of struct page metadata freed: 4095 per 1 GiB page, 7 per 2 MiB one.
saved_pages=$((2 * 4095 + 96 * 7))
memtotal_kb=$(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo)
say "MemTotal: $memtotal_kb kB now, $memtotal_off_kb kB in the boot without the plan"
is "$((memtotal_kb - memtotal_off_kb))" "$((saved_pages * 4))" \
        "MemTotal grew by the freed vmemmap: (2 x 4095 + 96 x 7) x 4 KiB = $((saved_pages * 4)) kB"

# ---- hugevmd adopts them ---------------------------------------------------------
mkdir -p /etc/hugevmd /run/hugevmd /var/lib/hugevmd
cp /vm/bootplan.conf /etc/hugevmd/hugevmd.conf
trace=/tmp/hugevmd.strace
start_hugevmd strace -f -qq -e trace=openat,open -o "$trace"
ok $? "hugevmd (under strace) answers status"
ctl wait --timeout 30 >/dev/null; is $? 0 "the pools are converged at once (hugevmctl wait exits 0)"
# A refresh after convergence (RefreshSec=1) reads the pool files again: the
# trace must hold one more read before the write check means anything.
reads() { grep -c 'hugepages-2048kB/nr_hugepages", O_RDONLY' "$trace"; }
n0=$(reads)
until_true 20 sh -c "[ \$(grep -c 'hugepages-2048kB/nr_hugepages\", O_RDONLY' $trace) -gt $n0 ]"
ok $? "the trace shows hugevmd reading the pool files after convergence ($n0 reads before)"
is "$(grep -E '"/(sys|proc/sys)/[^"]*", [^)]*O_(WRONLY|RDWR)' "$trace" | head -3 | tr '\n' ' ')" "" \
        "hugevmd opened no file under /sys or /proc/sys for writing (strace)"
is "$(pages_at_boot) $(vmstat htlb_buddy_alloc_success)" "1 1 64 32 96" \
        "the pools are as booted and no page came from the buddy allocator since"

st=$(status_json)
is "$(pool_q "$st" 1048576kB '"\(.pages)/\([.nodes[].target] | add) \(.state) \(.optimized_pages) \(.saved_bytes)"')" \
        "2/2 converged 2 $((2 * 4095 * 4096))" "1048576kB: 2 of 2, converged, both booted pages counted optimized: 2 x 4095 x 4 KiB saved"
is "$(pool_q "$st" 2048kB '"\(.pages)/\([.nodes[].target] | add) \(.state) \(.optimized_pages) \(.saved_bytes)"')" \
        "96/96 converged 96 $((96 * 7 * 4096))" "2048kB: 96 of 96, converged, all optimized: 96 x 7 x 4 KiB saved"
is "$(printf '%s' "$st" | jq -r .measured.model_saved_bytes)" "$(((memtotal_kb - memtotal_off_kb) * 1024))" \
        "hugevmd's saving is the MemTotal growth the kernel shows"

ctl boot-plan >/tmp/plan.out 2>&1; rc=$?
sed 's/^/# boot-plan: /' /tmp/plan.out
is "$rc" 0 "boot-plan exits 0: the running command line has the plan"
ok "$(grep -qx "The running kernel's command line has the plan." /tmp/plan.out; echo $?)" "... and says so"
kill $(pidof hugevmd)     # not strace's pid ($daemon_pid): hugevmd's own
until_true 30 sh -c "! kill -0 $daemon_pid 2>/dev/null"
ok $? "hugevmd (and strace with it) stop on SIGTERM"
daemon_pid=
tap_done
