#!/bin/bash
# The fake kernel (tests/fakekernel/fakekernel.c) against what mm/hugetlb.c and
# KERNEL.md say the kernel does. Every expected value is worked out here from
# the machine's configuration, not read back from the fake. Needs root (the
# mount serves every uid), /dev/fuse and fusermount3; skips otherwise.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/fakekernel/fakekernel.sh"

fk_usable || tap_skip_all_unless_ci "$fk_why"
command -v python3 >/dev/null || tap_skip_all "python3 is needed for exact write(2) results"

tmp=$(mktemp -d /tmp/hugevm-fk.XXXXXX)
cleanup() { fk_stop_all; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# pyr PATH: read it, or the errno's name ("open EACCES")
pyr() {
        python3 - "$1" <<'EOF'
import errno, os, sys
try:
    f = open(sys.argv[1])
except OSError as e:
    print("open", errno.errorcode[e.errno]); sys.exit()
try:
    print(f.read(), end="")
except OSError as e:
    print(errno.errorcode[e.errno])
EOF
}
val() { cat "$1" 2>/dev/null; }
meminfo() { awk -v k="$2:" '$1 == k { print $2 }' "$1/proc/meminfo"; }
vmstat() { awk -v k="$2" '$1 == k { print $2 }' "$1/proc/vmstat"; }
# rr_free A B K CURSOR: two nodes' free pages after K are freed round robin
# from CURSOR, skipping an empty node (remove_pool_hugetlb_folio).
rr_free() {
        local a=$1 b=$2 k=$3 c=$4
        while [ "$k" -gt 0 ]; do
                if [ "$c" = 0 ]; then
                        if [ "$a" -gt 0 ]; then a=$((a - 1)); c=1; elif [ "$b" -gt 0 ]; then b=$((b - 1)); c=0; fi
                else
                        if [ "$b" -gt 0 ]; then b=$((b - 1)); c=0; elif [ "$a" -gt 0 ]; then a=$((a - 1)); c=1; fi
                fi
                k=$((k - 1))
        done
        echo "$a $b"
}

# ====================================================================== A
# Two nodes; memory for 300 (node 0) and 150 (node 1) 2 MiB pages; 4 GiB each.
A=$tmp/a
fk_start "$A" -s nodes=2 -s mem=4G -s hugemem.0=600M -s hugemem.1=300M -s hvo=0
tap_ok $? "the fake kernel mounts on $A and the starter returns once it serves"
H=$A/sys/kernel/mm/hugepages/hugepages-2048kB
G=$A/sys/kernel/mm/hugepages/hugepages-1048576kB
N0=$A/sys/devices/system/node/node0/hugepages/hugepages-2048kB
N1=$A/sys/devices/system/node/node1/hugepages/hugepages-2048kB
blocks=$((2 * 4 * 1024 / 128))

tap_is "$(ls "$A/sys/kernel/mm/hugepages" | tr '\n' ' ')" "hugepages-1048576kB hugepages-2048kB " "both hstates"
tap_is "$(ls "$H" | tr '\n' ' ')" "free_hugepages nr_hugepages nr_hugepages_mempolicy nr_overcommit_hugepages resv_hugepages surplus_hugepages " \
        "2 MiB hstate files (no demote: no smaller size)"
tap_is "$(ls "$G" | tr '\n' ' ')" "demote demote_size free_hugepages nr_hugepages nr_hugepages_mempolicy nr_overcommit_hugepages resv_hugepages surplus_hugepages " \
        "1 GiB hstate files, with demote"
tap_is "$(ls "$A/sys/devices/system/node/node1/hugepages/hugepages-1048576kB" | tr '\n' ' ')" \
        "demote demote_size free_hugepages nr_hugepages surplus_hugepages " "per-node 1 GiB files"
tap_is "$(val "$A/sys/devices/system/node/online")/$(val "$A/sys/devices/system/node/has_memory")" "0-1/0-1" "node online and has_memory lists"
tap_is "$(val "$A/sys/devices/system/memory/block_size_bytes")" "8000000" "block_size_bytes (hex, 128 MiB)"
tap_is "$(ls -d "$A"/sys/devices/system/memory/memory* | wc -l)" "$blocks" "$blocks memory blocks for 8 GiB"
tap_is "$(meminfo "$A" MemTotal)" "$((8 * 1024 * 1024))" "MemTotal is the nodes' memory"
tap_is "$(vmstat "$A" nr_memmap_pages)/$(vmstat "$A" nr_memmap_boot_pages)" "$((blocks * 512 - 192))/192" \
        "memmap counters sum to the baseline (blocks x 512) with empty pools"
tap_is "$(val "$A/proc/sys/kernel/osrelease")/$(val "$A/proc/sys/kernel/arch")" "6.18.0/x86_64" "osrelease and arch"
grep -q 'BOOT_IMAGE=/boot/vmlinuz-6.18.0' "$A/proc/cmdline"
tap_ok $? "a /proc/cmdline"
tap_is "$(stat -c %s "$H/nr_hugepages")/$(stat -c %s "$A/proc/sys/vm/nr_hugepages")" "4096/0" "sizes as sysfs (4096) and procfs (0) report them"

# Growing interleaves from node 0; the write returns its whole length.
tap_is "$(pyw "$H/nr_hugepages" 100)" "ok 3" "write 100: the whole length"
tap_is "$(val "$H/nr_hugepages") $(val "$N0/nr_hugepages") $(val "$N1/nr_hugepages")" "100 50 50" "100 pages: 50 on each node"
# Short of memory: accepted, silently short (min(asked, 300 + 150)).
tap_is "$(pyw "$H/nr_hugepages" 1000)" "ok 4" "write 1000 with room for 450: success all the same"
tap_is "$(val "$H/nr_hugepages") $(val "$N0/nr_hugepages") $(val "$N1/nr_hugepages")" "450 300 150" \
        "the read-back shows the shortfall: 450 = 300 + 150"
tap_is "$(val "$H/free_hugepages") $(val "$N0/free_hugepages") $(val "$N1/free_hugepages")" "450 300 150" "all free"
tap_is "$(meminfo "$A" HugePages_Total) $(meminfo "$A" HugePages_Free) $(meminfo "$A" Hugetlb)" "450 450 $((450 * 2048))" \
        "meminfo HugePages_Total, HugePages_Free, Hugetlb (kB)"
tap_is "$(meminfo "$A" MemFree)" "0" "MemFree: the hugepage memory is used up"
tap_ok $(($(vmstat "$A" htlb_buddy_alloc_fail) > 0 ? 0 : 1)) "htlb_buddy_alloc_fail counts the failed allocations"
tap_is "$(val "$A/proc/sys/vm/nr_hugepages")" "450" "/proc/sys/vm/nr_hugepages (max_huge_pages)"

# Shrinking frees round robin from node 0, skipping an empty node.
tap_is "$(pyw "$H/nr_hugepages" 50)" "ok 2" "write 50"
read -r e0 e1 <<<"$(rr_free 300 150 400 0)"
tap_is "$(val "$N0/nr_hugepages") $(val "$N1/nr_hugepages") $(val "$H/nr_hugepages")" "$e0 $e1 50" "shrink 450 -> 50 frees round robin: $e0 + $e1"

# Per-node writes change that node only; the global count follows.
pyw "$N1/nr_hugepages" 80 >/dev/null
tap_is "$(val "$N0/nr_hugepages") $(val "$N1/nr_hugepages") $(val "$H/nr_hugepages")" "$e0 80 $((e0 + 80))" "node 1 := 80, node 0 untouched, global = sum"
tap_is "$(pyw "$N1/nr_hugepages" 1000)" "ok 4" "node 1 := 1000: success"
tap_is "$(val "$N1/nr_hugepages") $(val "$H/nr_hugepages")" "150 $((e0 + 150))" "node 1 stops at its 150, silently"
pyw "$N0/nr_hugepages" 10 >/dev/null
tap_is "$(val "$N0/nr_hugepages") $(val "$N1/nr_hugepages") $(val "$H/nr_hugepages")" "10 150 160" "node 0 := 10 shrinks node 0 only"
tap_is "$(val "$H/free_hugepages")" "$(($(val "$N0/free_hugepages") + $(val "$N1/free_hugepages")))" "global free = sum of nodes"
pyw "$H/nr_hugepages" 0 >/dev/null

# What the kernel rejects, with its errno (checked on 6.18, see KERNEL.md).
tap_is "$(pyw "$H/nr_hugepages" abc)" "EINVAL" "nr_hugepages 'abc': EINVAL"
tap_is "$(pyw "$H/nr_hugepages" ' 5')" "EINVAL" "nr_hugepages ' 5': EINVAL (kstrtoul takes no leading space)"
tap_is "$(pyw "$H/nr_hugepages" '5 ')" "EINVAL" "nr_hugepages '5 ': EINVAL"
tap_is "$(pyw "$H/nr_hugepages" -1)" "EINVAL" "nr_hugepages '-1': EINVAL"
tap_is "$(pyw "$H/nr_hugepages" 0x10)" "EINVAL" "nr_hugepages '0x10': EINVAL (base 10)"
tap_is "$(pyw "$H/nr_hugepages" 99999999999999999999)" "ERANGE" "nr_hugepages overflow: ERANGE"
tap_is "$(pyw "$H/nr_hugepages" '5\n\n')" "EINVAL" "nr_hugepages '5\\n\\n': EINVAL (one newline only)"
tap_is "$(pyw "$H/nr_hugepages" '')" "ok 0" "an empty write: 0, nothing done"
tap_is "$(pyw "$H/nr_hugepages" '+2\n')" "ok 3" "nr_hugepages '+2\\n' accepted"
tap_is "$(pyw "$H/nr_hugepages" '3\x00zz')" "ok 4" "nr_hugepages '3\\0zz': the store sees '3'"
tap_is "$(val "$H/nr_hugepages")" "3" "... and the pool is 3"
tap_is "$(pyw "$H/nr_hugepages" 010)" "ok 3" "nr_hugepages '010'"
tap_is "$(val "$H/nr_hugepages")" "10" "... is ten (decimal)"
pyw "$H/nr_hugepages" 0 >/dev/null
tap_is "$(pyw "$H/free_hugepages" 1)" "open EACCES" "free_hugepages is read-only, for root too: EACCES at open"
tap_is "$(pyr "$G/demote")" "open EACCES" "demote is write-only: EACCES"
tap_is "$(pyr "$A/proc/sys/vm/compact_memory")" "open EACCES" "compact_memory is write-only: EACCES"
tap_is "$(pyw "$G/nr_overcommit_hugepages" 1)" "EINVAL" "overcommit of gigantic pages: EINVAL"
tap_is "$(pyw "$H/nr_overcommit_hugepages" x)" "EINVAL" "overcommit 'x': EINVAL"
HVO=$A/proc/sys/vm/hugetlb_optimize_vmemmap
tap_is "$(pyw "$HVO" 2)/$(val "$HVO")" "ok 1/1" "HVO sysctl '2' reads back 1 (proc_dobool)"
tap_is "$(pyw "$HVO" abc)" "EINVAL" "HVO sysctl 'abc': EINVAL"
tap_is "$(pyw "$HVO" ' 0 ')/$(val "$HVO")" "ok 3/0" "HVO sysctl ' 0 ': white space around is consumed"
tap_is "$(pyw "$HVO" '1 0')/$(val "$HVO")" "ok 2/1" "HVO sysctl '1 0': a short write (2 bytes taken)"
pyw "$HVO" 0 >/dev/null
tap_is "$(pyw "$HVO" '1x')" "EINVAL" "HVO sysctl '1x': EINVAL"
tap_is "$(pyw "$A/proc/sys/vm/compact_memory" 2)" "EINVAL" "compact_memory '2': EINVAL (only 1)"
tap_is "$(pyw "$A/proc/sys/vm/compact_memory" 1)" "ok 1" "compact_memory '1'"
tap_is "$(pyw "$A/sys/devices/system/node/node0/compact" junk)" "ok 4" "node compact takes anything"
tap_is "$(pyw "$A/proc/sys/vm/nr_hugepages" ' 0x2 ')/$(val "$H/nr_hugepages")" "ok 5/2" "sysctl nr_hugepages ' 0x2 ' (base 0, spaces)"
tap_is "$(pyw "$A/proc/sys/vm/nr_hugepages" -1)" "EINVAL" "sysctl nr_hugepages '-1': EINVAL"
tap_is "$(pyw "$A/proc/sys/vm/nr_hugepages" 99999999999999999999)" "EINVAL" "sysctl overflow: EINVAL (not ERANGE)"
pyw "$H/nr_hugepages" 0 >/dev/null
echo 3 >"$H/nr_hugepages" 2>/dev/null
tap_is "$(val "$H/nr_hugepages")" "3" "echo > (O_TRUNC) works as on sysfs"
pyw "$H/nr_hugepages" 0 >/dev/null

# Overcommit: a process taking more than the pool gets surplus pages.
pyw "$H/nr_overcommit_hugepages" 3 >/dev/null
tap_is "$(pyw "$A/.fake/control" 'hold 2048kB 1 5')" "ENOMEM" "mapping 5 pages with room for 3 surplus fails (ENOMEM)"
tap_is "$(val "$H/nr_hugepages")/$(val "$H/surplus_hugepages")/$(vmstat "$A" nr_hugetlb)" "0/0/0" "... and leaves nothing behind"
fk_ctl "$A" hold 2048kB 1 3
tap_is "$(val "$H/nr_hugepages") $(val "$H/surplus_hugepages") $(val "$H/free_hugepages") $(val "$H/resv_hugepages")" "3 3 0 0" \
        "3 pages taken from an empty pool: 3 surplus, none free"
tap_is "$(val "$N1/nr_hugepages") $(val "$N1/surplus_hugepages") $(val "$N0/nr_hugepages")" "3 3 0" "on the process's node (1)"
tap_is "$(meminfo "$A" HugePages_Total) $(meminfo "$A" HugePages_Surp)" "3 3" "meminfo HugePages_Total/Surp"
tap_is "$(vmstat "$A" nr_hugetlb)" "$((3 * 512))" "vmstat nr_hugetlb counts pages in use (base pages)"
tap_is "$(val "$A/proc/sys/vm/nr_hugepages")" "0" "/proc/sys/vm/nr_hugepages is max_huge_pages: surplus not counted"
succ=$(vmstat "$A" htlb_buddy_alloc_success)
pyw "$H/nr_hugepages" 3 >/dev/null
tap_is "$(val "$H/nr_hugepages") $(val "$H/surplus_hugepages") $(vmstat "$A" htlb_buddy_alloc_success)" \
        "3 0 $succ" "writing 3 turns the surplus persistent, nothing allocated"
fk_ctl "$A" release 2048kB 1 3
tap_is "$(val "$H/nr_hugepages") $(val "$H/free_hugepages")" "3 3" "released pages go back to the free list"

# Reservations keep pages in the pool.
fk_ctl "$A" reserve 2048kB 2
tap_is "$(val "$H/resv_hugepages") $(meminfo "$A" HugePages_Rsvd)" "2 2" "2 reserved"
pyw "$H/nr_hugepages" 0 >/dev/null
tap_is "$(val "$H/nr_hugepages")" "2" "shrink to 0 keeps the 2 reserved pages"
fk_ctl "$A" unreserve 2048kB 2
pyw "$H/nr_hugepages" 0 >/dev/null
tap_is "$(val "$H/nr_hugepages")/$(val "$H/resv_hugepages")" "0/0" "unreserved, the pool empties"
fk_ctl "$A" reserve 2048kB 3
tap_is "$(val "$H/nr_hugepages") $(val "$H/surplus_hugepages") $(val "$H/resv_hugepages") $(val "$H/free_hugepages")" "3 3 3 3" \
        "a reservation beyond the pool gathers surplus pages (free, reserved)"
fk_ctl "$A" unreserve 2048kB 3
tap_is "$(val "$H/nr_hugepages") $(val "$H/surplus_hugepages")" "0 0" "dropping it returns the unused surplus"

# Shrinking below what is in use: the excess becomes surplus.
pyw "$H/nr_overcommit_hugepages" 0 >/dev/null
pyw "$H/nr_hugepages" 10 >/dev/null
fk_ctl "$A" hold 2048kB 0 8
tap_is "$(val "$N0/free_hugepages") $(val "$N1/free_hugepages")" "0 2" "8 taken by a process on node 0: its 5, then 3 of node 1"
tap_is "$(pyw "$H/nr_hugepages" 2)" "ok 1" "write 2 with 8 in use: success"
tap_is "$(val "$H/nr_hugepages") $(val "$H/surplus_hugepages") $(val "$H/free_hugepages")" "8 6 0" \
        "only the 2 free pages go; 6 in use become surplus (8 - 2)"
fk_ctl "$A" release 2048kB any all
tap_is "$(val "$H/nr_hugepages") $(val "$H/surplus_hugepages") $(val "$H/free_hugepages")" "2 0 2" \
        "released, the surplus pages go back to the allocator: the pool is 2"
pyw "$H/nr_hugepages" 0 >/dev/null

# A read during a write sees the old or the new value, whole, never empty.
fk_ctl "$A" delay 2000
( pyw "$H/nr_hugepages" 100 >"$tmp/bgw" ) &
bg=$!
bad=0 n=0
while kill -0 $bg 2>/dev/null; do
        v=$(val "$H/nr_hugepages")
        n=$((n + 1))
        case $v in 0 | 100) ;; *) bad=$((bad + 1)); echo "# read '$v' during the write" ;; esac
done
wait $bg
tap_is "$bad" 0 "$n reads during a 0.2 s write: each 0 or 100 (6.7+ adds the pages at the end)"
tap_is "$(cat "$tmp/bgw")/$(val "$H/nr_hugepages")" "ok 3/100" "the write completes"
pyw "$H/nr_hugepages" 0 >/dev/null
# A signal stops a slow write early; it still returns success.
fk_ctl "$A" delay 20000
python3 - "$H/nr_hugepages" >"$tmp/intr" <<'EOF'
import os, signal, sys
signal.signal(signal.SIGALRM, lambda *a: None)
fd = os.open(sys.argv[1], os.O_WRONLY)
signal.setitimer(signal.ITIMER_REAL, 0.3)
try:
    print("ok", os.write(fd, b"400"))
except OSError as e:
    print("err", e.errno)
EOF
got=$(val "$H/nr_hugepages")
tap_is "$(cat "$tmp/intr")" "ok 3" "an interrupted write returns its length"
tap_ok $((got > 0 && got < 400 ? 0 : 1)) "... having stopped early: $got of 400"
fk_ctl "$A" delay 0
pyw "$H/nr_hugepages" 0 >/dev/null

# /proc/mounts: POLLPRI once per change of the table, as mounts_poll.
python3 - "$A/proc/mounts" "$A/.fake/control" >"$tmp/poll" <<'EOF'
import select, sys, threading, time
f = open(sys.argv[1])
f.read()
p = select.poll()
p.register(f, select.POLLPRI)
before = p.poll(100)
def change():
    time.sleep(0.2)
    open(sys.argv[2], "w").write("mount hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M\n")
threading.Thread(target=change).start()
t = time.time()
during = p.poll(5000)
after = p.poll(100)
print(len(before), bool(during and during[0][1] & select.POLLPRI), round(time.time() - t) < 5, len(after))
EOF
tap_is "$(cat "$tmp/poll")" "0 True True 0" "poll(POLLPRI) on /proc/mounts wakes once when the table changes"
grep -q '^hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0$' "$A/proc/mounts"
tap_ok $? "... and the new line is there"
fk_ctl "$A" umount /dev/hugepages
! grep -q hugetlbfs "$A/proc/mounts"
tap_ok $? "umount removes it"

# Directories can be made outside /sys and /proc (hugevmd's Mount=); a real
# mount beneath the mount point shows in the fake /proc/mounts, relative.
mkdir -p "$A/mnt/t"
tap_ok $? "mkdir -p under the root (outside /sys and /proc)"
tap_ok $(mkdir "$A/sys/x" 2>/dev/null && echo 1 || echo 0) "mkdir in /sys: refused (EPERM)"
python3 - "$A/proc/mounts" "$A/mnt/t" >"$tmp/poll2" <<'EOF'
import select, subprocess, sys
f = open(sys.argv[1]); f.read()
p = select.poll(); p.register(f, select.POLLPRI)
subprocess.run(["mount", "-t", "tmpfs", "fk-test-tmpfs", sys.argv[2]], check=True)
print(bool(p.poll(5000)))
EOF
tap_is "$(cat "$tmp/poll2")" "True" "a real mount beneath it wakes a poller of the fake /proc/mounts"
grep -q '^fk-test-tmpfs /mnt/t tmpfs ' "$A/proc/mounts"
tap_ok $? "... and is listed at /mnt/t"
umount "$A/mnt/t"
! grep -q fk-test-tmpfs "$A/proc/mounts"
tap_ok $? "unmounted, it is gone"
rmdir "$A/mnt/t" "$A/mnt"
tap_ok $? "rmdir"

# Injected errors, for tests of what the product does with them.
fk_ctl "$A" fail write /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages EIO 1
tap_is "$(pyw "$H/nr_hugepages" 1)/$(pyw "$H/nr_hugepages" 1)" "EIO/ok 1" "fail write ... EIO 1: the next write only"
fk_ctl "$A" fail read /proc/vmstat EBUSY
tap_is "$(pyr "$A/proc/vmstat" | head -1)" "EBUSY" "fail read: the read fails"
pyw "$H/nr_hugepages" 0 >/dev/null
tap_is "$(pyw "$A/.fake/control" 'frobnicate')" "EINVAL" "an unknown control command: EINVAL"
grep -q "unknown command" "$A/.fake/control"
tap_ok $? "reading the control file says why"

# ====================================================================== B
# One node, HVO on, room for 1000 2 MiB pages: the free-list order decides
# which pages a shrink frees, so which savings go (KERNEL.md's sequence).
B=$tmp/b
fk_start "$B" -s nodes=1 -s mem=4G -s hugemem=2000M -s hvo=1
tap_ok $? "a one-node machine with HVO on"
HB=$B/sys/kernel/mm/hugepages/hugepages-2048kB
V2=$((2048 * 1024 / 4096 * 64 / 4096)) # vmemmap pages per 2 MiB page: 8
S2=$((V2 - 1))                          # freed by HVO (6.18 keeps 1): 7
base=$(vmstat "$B" nr_memmap_pages)
boot=$(vmstat "$B" nr_memmap_boot_pages)
saved() { echo $((base - $(vmstat "$B" nr_memmap_pages))); }
step() { # step WRITE EXPECTED_OPTIMIZED_PAGES DESCRIPTION
        [ "$1" = - ] || pyw "$HB/nr_hugepages" "$1" >/dev/null
        tap_is "$(saved)" "$(($2 * S2))" "$3: nr_memmap_pages down by $2 x $S2"
}
step 400 400 "HVO on, grow 0 -> 400"
step 150 150 "shrink to 150 (the 250 newest go, all optimized)"
pyw "$B/proc/sys/vm/hugetlb_optimize_vmemmap" 0 >/dev/null
step 300 150 "HVO off, grow to 300 (150 plain pages at the head)"
pyw "$B/proc/sys/vm/hugetlb_optimize_vmemmap" 1 >/dev/null
step 500 350 "HVO on, grow to 500 (200 optimized at the head)"
tap_is "$(fk_state "$B" 2048kB.node0.freelist)" "o200 u150 o150" "free list from its head: 200 optimized, 150 plain, 150 optimized"
step 100 100 "shrink to 100: 200 + 150 + 50 freed from the head, 100 optimized stay"
tap_is "$(vmstat "$B" nr_memmap_boot_pages)" "$boot" "nr_memmap_boot_pages does not move"

# Pages a process takes come from the head; a mapping reserves first, and the
# surplus pages it gathers are put at the head, so they are faulted first and
# given back first.
pyw "$B/proc/sys/vm/hugetlb_optimize_vmemmap" 0 >/dev/null
pyw "$HB/nr_overcommit_hugepages" 10 >/dev/null
fk_ctl "$B" hold 2048kB 0 105
tap_is "$(val "$HB/nr_hugepages") $(val "$HB/surplus_hugepages") $(val "$HB/free_hugepages") $(val "$HB/resv_hugepages")" "105 5 0 0" \
        "a mapping of 105 pages over a pool of 100: 5 surplus (HVO off)"
fk_ctl "$B" release 2048kB 0 5
tap_is "$(val "$HB/nr_hugepages") $(val "$HB/surplus_hugepages") $(saved)" "100 0 $((100 * S2))" \
        "the first 5 given back were the surplus (plain) pages: savings unchanged"
fk_ctl "$B" release 2048kB 0 all
# Without a reservation (fallocate, MAP_NORESERVE) the free pages go first and
# the surplus pages come last, so the first pages given back are pool pages.
fk_ctl "$B" hold 2048kB 0 105 noreserve
tap_is "$(val "$HB/nr_hugepages") $(val "$HB/surplus_hugepages")" "105 5" "fallocate of 105: the 100 free pages, then 5 surplus"
fk_ctl "$B" release 2048kB 0 5
tap_is "$(saved)" "$((95 * S2))" "the first 5 given back are optimized pool pages, freed (surplus was 5): 5 x $S2 restored"
fk_ctl "$B" release 2048kB 0 all
tap_is "$(val "$HB/nr_hugepages") $(fk_state "$B" 2048kB.node0.freelist)" "100 u5 o95" "the pool: 5 plain pages (head), 95 optimized"

# A restore that fails leaves the page in the pool as a free surplus page;
# writing a higher target, then the lower one, retries.
pyw "$HB/nr_hugepages" 95 >/dev/null # the 5 plain pages go
fk_ctl "$B" restore-fail on
pyw "$HB/nr_hugepages" 90 >/dev/null
tap_is "$(val "$HB/nr_hugepages") $(val "$HB/surplus_hugepages") $(val "$HB/free_hugepages") $(saved)" "95 5 95 $((95 * S2))" \
        "shrink 95 -> 90 with restores failing: 5 free surplus pages, nothing restored"
fk_ctl "$B" restore-fail off
pyw "$HB/nr_hugepages" 95 >/dev/null
tap_is "$(val "$HB/nr_hugepages") $(val "$HB/surplus_hugepages")" "95 0" "writing 95: the surplus pages are persistent again"
pyw "$HB/nr_hugepages" 90 >/dev/null
tap_is "$(val "$HB/nr_hugepages") $(val "$HB/surplus_hugepages") $(saved)" "90 0 $((90 * S2))" "writing 90 again: restored and freed"
pyw "$HB/nr_hugepages" 0 >/dev/null
tap_is "$(saved)" 0 "an empty pool saves nothing"

# ====================================================================== C
# Two nodes of 8 GiB with room for three 1 GiB pages each, HVO on: gigantic
# pages, fragmentation, compaction, demotion.
C=$tmp/c
fk_start "$C" -s nodes=2 -s mem=8G -s hugemem=3G -s hvo=1
tap_ok $? "a two-node machine for 1 GiB pages"
GC=$C/sys/kernel/mm/hugepages/hugepages-1048576kB
HC=$C/sys/kernel/mm/hugepages/hugepages-2048kB
GN0=$C/sys/devices/system/node/node0/hugepages/hugepages-1048576kB
GN1=$C/sys/devices/system/node/node1/hugepages/hugepages-1048576kB
V1G=$((1024 * 1024 * 1024 / 4096 * 64 / 4096)) # 4096
S1G=$((V1G - 1))                                # 4095
cbase=$(vmstat "$C" nr_memmap_pages)
csaved() { echo $((cbase - $(vmstat "$C" nr_memmap_pages))); }
fk_ctl "$C" fragment 0 on
tap_is "$(pyw "$GC/nr_hugepages" 4)" "ok 1" "write 4 x 1 GiB with node 0 fragmented: success"
tap_is "$(val "$GN0/nr_hugepages") $(val "$GN1/nr_hugepages") $(val "$GC/nr_hugepages")" "0 3 3" "node 0 gives none, node 1 its 3"
pyw "$HC/nr_hugepages" 2 >/dev/null
tap_is "$(val "$HC/nr_hugepages")" "2" "2 MiB pages still come from the fragmented node"
pyw "$HC/nr_hugepages" 0 >/dev/null
tap_is "$(csaved)" "$((3 * S1G))" "3 gigantic pages optimized: $S1G vmemmap pages each"
pyw "$C/sys/devices/system/node/node0/compact" 1 >/dev/null
pyw "$GC/nr_hugepages" 4 >/dev/null
tap_is "$(val "$GN0/nr_hugepages") $(val "$GN1/nr_hugepages")" "1 3" "after compacting node 0 the fourth comes from it"
tap_is "$(val "$GC/demote_size")" "2048kB" "demote_size"
tap_is "$(pyw "$GC/demote_size" 1G)" "EINVAL" "demote_size 1G (not smaller): EINVAL"
tap_is "$(pyw "$GC/demote_size" 4M)" "EINVAL" "demote_size 4M (no such hstate): EINVAL"
tap_is "$(pyw "$GC/demote_size" 2048kB)" "ok 6" "demote_size 2048kB (memparse)"
tap_is "$(pyw "$GN1/demote" 1)" "ok 1" "demote one page of node 1"
tap_is "$(val "$GN1/nr_hugepages") $(val "$GC/nr_hugepages") $(val "$HC/nr_hugepages") $(val "$C/sys/devices/system/node/node1/hugepages/hugepages-2048kB/free_hugepages")" \
        "2 3 512 512" "1 GiB page -> 512 free 2 MiB pages on node 1"
tap_is "$(csaved)" "$((3 * S1G + 512 * 7))" "restored ($S1G), split, 512 optimized again (7 each)"
tap_is "$(pyw "$HC/nr_overcommit_hugepages" 1)/$(pyw "$GC/nr_overcommit_hugepages" 1)" "ok 1/EINVAL" "overcommit: 2 MiB yes, 1 GiB EINVAL"
fk_ctl "$C" memory 1 2048kB 10
pyw "$C/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages" 1000 >/dev/null
tap_is "$(val "$C/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages")" "522" \
        "'memory 1 2048kB 10': node 1 grows by 10 more (512 + 10)"
fk_stop "$C"
tap_ok $? "SIGTERM unmounts"
tap_ok $([ ! -e "$C.pid" ] && echo 0 || echo 1) "... and removes the pidfile"

# ====================================================================== D
# Older kernels: the files that did not exist yet are absent.
D=$tmp/d
fk_start "$D" -s release=5.10.0 -s nodes=1
tap_ok $? "a 5.10 kernel"
tap_ok $([ ! -e "$D/proc/sys/vm/hugetlb_optimize_vmemmap" ] && [ ! -e "$D/proc/sys/kernel/arch" ] &&
        [ ! -e "$D/sys/kernel/mm/hugepages/hugepages-1048576kB/demote" ] && echo 0 || echo 1) "5.10: no HVO sysctl, no arch, no demote"
tap_is "$(grep -c memmap "$D/proc/vmstat")" "0" "5.10: no nr_memmap counters"
fk_stop "$D"
E=$tmp/e
fk_start "$E" -s release=5.17.3 -s nodes=1 -s hvo=1 -s memmap_counters=yes
tap_is "$(fk_state "$E" 2048kB.saved_per_page)/$(fk_state "$E" 1048576kB.saved_per_page)" "6/4094" \
        "5.17 keeps 2 vmemmap pages: 6 saved per 2 MiB, 4094 per 1 GiB"
tap_ok $([ ! -e "$E/proc/sys/vm/hugetlb_optimize_vmemmap" ] && echo 0 || echo 1) "5.17: no HVO sysctl (5.19)"
fk_stop "$E"

# Foreground, stopped by fusermount3 -u.
F=$tmp/f
mkdir -p "$F"
"$FAKEKERNEL" -f -s nodes=1 "$F" 2>"$tmp/f.err" &
fpid=$!
i=0
while ! mountpoint -q "$F" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
tap_is "$(val "$F/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")" "0" "-f serves in the foreground"
fusermount3 -u "$F"
wait $fpid
tap_is "$?" "0" "fusermount3 -u ends it with status 0"
tap_ok $(mountpoint -q "$F" && echo 1 || echo 0) "... unmounted"

fk_stop "$A"
fk_stop "$B"
tap_done
