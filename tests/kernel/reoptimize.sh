#!/bin/bash
# Re-optimization on the real kernel: HVO off, the 2048kB pool grown to 400
# pages (none optimized), a process maps 50 of them from hugetlbfs and writes
# a pattern, HVO on; then vmemmap.optimize. The kernel's memmap counters must
# drop by exactly 350 x 7 pages (the free ones), the pool must never hold
# fewer than 400 pages (a concurrent reader samples it throughout), the
# process must read back what it wrote, and its 50 pages are reported in use
# and unoptimized; once it exits, Reoptimize=yes converts them, and the
# counters then show 400 x 7 pages saved against a baseline read with the
# pool empty. Holds the real-kernel lock; restores pool, overcommit and HVO.
. "$top_srcdir/tests/integration/common.sh"

. "$top_srcdir/tests/kernel/real-pool.sh"
real_pool_take
mnt=$tmp/hugetlbfs
holder_pid= sampler_pid=
restore() {
        stop_daemon
        [ -n "$holder_pid" ] && kill "$holder_pid" 2>/dev/null && wait "$holder_pid" 2>/dev/null
        [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null && wait "$sampler_pid" 2>/dev/null
        mountpoint -q "$mnt" && umount "$mnt"
        real_pool_put_back
        cleanup
}
trap restore EXIT

call() { hv call "$sock" "$@"; }
status_get() { call M_POOL_GET '{@F_SIZE:"2M"}' | hv get "$@" | tr '\n' ' ' | sed 's/ $//'; }

echo 0 >$pool/nr_hugepages
echo 0 >$hvo
baseline=$(memmap_sum)
echo 400 >$pool/nr_hugepages
tap_is "$(cat $pool/nr_hugepages)" 400 "HVO off: the pool holds 400 pages, none optimized"
tap_is "$(memmap_sum)" "$baseline" "... and the memmap counters did not move"

# The application: 50 pages of a hugetlbfs file, a pattern written in each;
# on SIGUSR1 it checks the pattern and says "intact" or what differs.
mkdir -p "$mnt" && mount -t hugetlbfs -o pagesize=2M none "$mnt"
"$PYTHON" - "$mnt/data" 50 >"$tmp/holder.out" 2>&1 <<'PY' &
import mmap, os, signal, sys
path, n = sys.argv[1], int(sys.argv[2])
size = n << 21
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, size)
m = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
for i in range(n):
    m[i << 21:(i << 21) + 16] = b"page%012d" % i
    m[(i << 21) + (1 << 21) - 8:(i + 1) << 21] = b"end%05d" % i
def check(*_):
    bad = [i for i in range(n) if m[i << 21:(i << 21) + 16] != b"page%012d" % i
           or m[(i << 21) + (1 << 21) - 8:(i + 1) << 21] != b"end%05d" % i]
    print("intact" if not bad else "corrupt pages %s" % bad[:5], flush=True)
signal.signal(signal.SIGUSR1, check)
print("ready", flush=True)
while True:
    signal.pause()
PY
holder_pid=$!
poll_until 10 grep -qx ready "$tmp/holder.out"
tap_ok $? "a process maps 50 pages from hugetlbfs and writes them"
tap_is "$(($(cat $pool/nr_hugepages) - $(cat $pool/free_hugepages)))" 50 "... 50 pages in use"

echo 1 >$hvo
root=/
write_config <<'EOF'
HVO=yes
Reoptimize=no
[Pool 2M]
Pages=400
EOF
start_daemon || { echo "Bail out! hugevmd did not start on the real root"; show_log; exit 1; }
tap_is "$(status_get F_RESULT.F_UNOPTIMIZED F_RESULT.F_UNOPT_IN_USE)" "400 50" \
        "status: 400 pages unoptimized, 50 of them in use"

# The reader: the pool's size and free pages, as fast as it can, until stopped.
"$PYTHON" - "$pool" >"$tmp/samples" <<'PY' &
import signal, sys
d = sys.argv[1]
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
lo_nr = lo_free = None
n = 0
while not stop:
    nr = int(open(d + "/nr_hugepages").read())
    fr = int(open(d + "/free_hugepages").read())
    lo_nr = nr if lo_nr is None else min(lo_nr, nr)
    lo_free = fr if lo_free is None else min(lo_free, fr)
    n += 1
print(n, lo_nr, lo_free)
PY
sampler_pid=$!
free_before=$(cat $pool/free_hugepages)
before=$(memmap_sum)
t0=$(date +%s%N)
r=$(ctl --json vmemmap optimize 2M --wait --timeout 120)
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
after=$(memmap_sum)
kill "$sampler_pid" && wait "$sampler_pid"
sampler_pid=
read -r samples min_nr min_free <"$tmp/samples"
tap_is "$rc $(printf '%s' "$r" | hv get F_REOPTIMIZED F_UNOPTIMIZED F_UNOPT_IN_USE | tr '\n' ' ')" \
        "0 350 50 50 " "hugevmctl vmemmap optimize 2M --wait: 350 re-optimized, the 50 in use left unoptimized" || echo "# $r"
tap_is $((before - after)) $((350 * 7)) "the kernel's memmap counters dropped by exactly 350 x 7 pages"
tap_is "$(cat $pool/nr_hugepages)" 400 "the pool holds 400 pages after"
[ "$samples" -gt 10 ] && [ "$min_nr" -ge 400 ]
tap_ok $? "the pool never held fewer than 400 pages ($samples samples, least $min_nr)"
echo "# $ms ms for 350 pages; free pages: $free_before before, least $min_free during (a batch holds the pages it keeps)"
kill -USR1 "$holder_pid"
poll_until 10 grep -qE "intact|corrupt" "$tmp/holder.out"
tap_is "$(grep -E 'intact|corrupt' "$tmp/holder.out")" intact "the process reads back all it wrote"

r=$(call M_VMEMMAP_OPTIMIZE '{@F_SIZE:"2M",@F_WAIT:true}')
tap_is "$(printf '%s' "$r" | hv get F_RESULT.F_REOPTIMIZED)" 350 "asked again: nothing free is left to convert"

# The application exits: its 50 pages come back unoptimized, and
# Reoptimize=yes converts them by itself.
sed -i 's/^Reoptimize=no$/Reoptimize=yes/' "$conf"
call M_RELOAD >/dev/null
kill "$holder_pid" && wait "$holder_pid" 2>/dev/null
holder_pid=
rm -f "$mnt/data"
all_done() { [ "$(status_get F_RESULT.F_UNOPTIMIZED)" = 0 ]; }
poll_until 30 all_done
tap_ok $? "Reoptimize=yes converts the 50 pages the process gave back"
tap_is "$(status_get F_RESULT.F_REOPTIMIZED)" 400 "400 pages re-optimized in all"
tap_is $((baseline - $(memmap_sum))) $((400 * 7)) "the counters: 400 x 7 pages saved against the empty pool's baseline"
tap_is "$(status_get F_RESULT.F_SAVED_BYTES F_RESULT.F_SAVED_EXACT)" "$((400 * 7 * $(getconf PAGESIZE))) true" \
        "hugevmd reports the same saving, measured"
tap_is "$(cat $pool/nr_hugepages)" 400 "the pool still holds 400 pages"

# Declared state on the real kernel: an override, then back to the config.
ctl set 2M 100 --wait --timeout 60 >/dev/null
tap_is "$?|$(cat $pool/nr_hugepages)" "0|100" "hugevmctl set 2M 100 --wait: the pool holds 100 pages"
out=$(ctl revert 2M)
tap_is "$out" "2048kB: the configuration's target is in force: 400 pages" "hugevmctl revert 2M: the config's 400 again"
ctl wait --timeout 60 >/dev/null
tap_is "$?|$(cat $pool/nr_hugepages)" "0|400" "... and the kernel's pool is back at 400"
daemon_log_clean
tap_ok $? "no sanitizer report"
tap_done
