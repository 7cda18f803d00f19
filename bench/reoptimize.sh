#!/bin/bash
# Re-optimization benchmark (`make bench`, after run.sh): for each size in
# BENCH_REOPT_PAGES (2 MiB pages, default "1000 4000"), on the real kernel:
# HVO off, the pool grown to that size, HVO on, then hugevmd's
# vmemmap.optimize with wait. Prints the time it took, the kernel's memmap
# counters' drop against N x 7 pages, and the dip of free pages a concurrent
# reader saw. Figures only; nothing passes or fails. Needs root; holds the
# real-kernel lock and puts back the pool, overcommit and the HVO sysctl.
set -u
top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-.}
PAGES=${BENCH_REOPT_PAGES:-1000 4000}
HUGEVMD=$top_builddir/daemon/hugevmd
pool=/sys/kernel/mm/hugepages/hugepages-2048kB
hvo=/proc/sys/vm/hugetlb_optimize_vmemmap
if [ "$(id -u)" != 0 ] || [ ! -w $pool/nr_hugepages ] || [ ! -w $hvo ] || ! grep -q '^nr_memmap_pages ' /proc/vmstat; then
        echo "re-optimization benchmark: skipped (needs root, a writable 2 MiB pool, HVO and 6.11+ memmap counters)"
        exit 0
fi
exec 9>/tmp/hugevm-realkernel.lock
flock -w 600 9 || { echo "re-optimization benchmark: /tmp/hugevm-realkernel.lock busy"; exit 0; }
tmp=$(mktemp -d /tmp/hugevm-bench-reopt.XXXXXX)
orig_pages=$(cat $pool/nr_hugepages) orig_overcommit=$(cat $pool/nr_overcommit_hugepages) orig_hvo=$(cat $hvo)
pid=
restore() {
        [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
        echo "$orig_overcommit" >$pool/nr_overcommit_hugepages
        echo 0 >$pool/nr_hugepages
        echo "$orig_pages" >$pool/nr_hugepages
        echo "$orig_hvo" >$hvo
        rm -rf "$tmp"
}
trap restore EXIT
memmap_sum() { awk '$1 == "nr_memmap_pages" || $1 == "nr_memmap_boot_pages" { s += $2 } END { print s }' /proc/vmstat; }

echo "## Re-optimization (vmemmap.optimize, 2 MiB pages, $(uname -r), $(nproc) CPUs)"
echo
echo "| pages | time | per 1000 pages | memmap drop (want N x 7) | free pages before | least free during |"
echo "|---|---|---|---|---|---|"
for n in $PAGES; do
        echo 0 >$pool/nr_hugepages
        echo 0 >$hvo
        echo "$n" >$pool/nr_hugepages
        [ "$(cat $pool/nr_hugepages)" = "$n" ] || { echo "| $n | (the pool reached only $(cat $pool/nr_hugepages)) |"; continue; }
        echo 1 >$hvo
        printf '[Daemon]\nStateDirectory=%s/state\nMetricsListen=no\nHVO=yes\nReoptimize=no\n[Pool 2M]\nPages=%s\n' "$tmp" "$n" >"$tmp/conf"
        rm -f "$tmp/sock"
        "$HUGEVMD" --config "$tmp/conf" --socket "$tmp/sock" --foreground >"$tmp/log" 2>&1 &
        pid=$!
        for _ in $(seq 100); do [ -S "$tmp/sock" ] && break; sleep 0.1; done
        before=$(memmap_sum)
        out=$(python3 - "$tmp/sock" "$pool" <<'PY'
import json, socket, sys, threading, time
sock, pool = sys.argv[1], sys.argv[2]
lo, stop = [], []
def reader():
    m = None
    while not stop:
        f = int(open(pool + "/free_hugepages").read())
        m = f if m is None else min(m, f)
    lo.append(m)
free_before = int(open(pool + "/free_hugepages").read())
t = threading.Thread(target=reader)
t.start()
s = socket.socket(socket.AF_UNIX)
s.connect(sock)
t0 = time.monotonic()
s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"vmemmap.optimize","params":{"size":"2M","wait":true}}\n')
buf = b""
while not buf.endswith(b"\n"):
    chunk = s.recv(1 << 20)
    if not chunk:
        break
    buf += chunk
secs = time.monotonic() - t0
stop.append(1)
t.join()
r = json.loads(buf).get("result", {})
print("%.2f %d %d %d" % (secs, r.get("reoptimized_pages", -1), free_before, lo[0]))
PY
)
        after=$(memmap_sum)
        kill "$pid"; wait "$pid" 2>/dev/null; pid=
        read -r secs converted free_before least <<<"$out"
        per=$(awk -v s="$secs" -v n="$n" 'BEGIN { printf "%.2f s", s * 1000 / n }')
        echo "| $n | ${secs} s | $per | $((before - after)) ($((n * 7))) | $free_before | $least |"
done
echo
echo "Each batch grows the pool by 32 pages, holds them (fallocate zeroes each held page once) and"
echo "shrinks it back; the run holds what it converted until the node is done, hence the dip."
