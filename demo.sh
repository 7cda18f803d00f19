#!/bin/bash
# Build hugevm and run hugevmd's main job on this host with the shipped config
# (etc/hugevmd.conf: HVO on, the 2048kB pool at its target), show the pools and
# what HVO saved, then stop the daemon and put back the pool size, overcommit
# and HVO setting it found (this is a demo, not an install).
# Needs root (it resizes the real pool); installs missing build packages first.
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
build=${HUGEVM_BUILD:-$src/build-demo}
config=${1:-$src/etc/hugevmd.conf}
hp=/sys/kernel/mm/hugepages/hugepages-2048kB
hvo=/proc/sys/vm/hugetlb_optimize_vmemmap

[ "$(id -u)" = 0 ] || { echo "demo.sh: needs root to resize the real hugepage pools" >&2; exit 1; }
"$src/tools/install-deps.sh"
if [ ! -x "$build/daemon/hugevmd" ] || [ ! -x "$build/ctl/hugevmctl" ]; then
        (cd "$src" && ./autogen.sh >/dev/null)
        mkdir -p "$build" && (cd "$build" && "$src/configure" -q)
fi
make -C "$build" -j"$(nproc)" -s >/dev/null

# One user of the real pools at a time: the tests measure exact counter deltas.
exec 9>/tmp/hugevm-realkernel.lock
flock -w 600 9 || { echo "demo.sh: /tmp/hugevm-realkernel.lock is held by a test (waited 600 s)" >&2; exit 1; }
run=$(mktemp -d /tmp/hugevm-demo.XXXXXX)
found_pages=$(cat $hp/nr_hugepages) found_over=$(cat $hp/nr_overcommit_hugepages)
found_hvo=$(cat $hvo 2>/dev/null || echo none)
pid=""
restore() {
        [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
        echo "$found_pages" > $hp/nr_hugepages
        echo "$found_over" > $hp/nr_overcommit_hugepages
        [ "$found_hvo" = none ] || echo "$found_hvo" > $hvo
        rm -rf "$run"
        echo "demo: put back 2048kB nr_hugepages=$found_pages overcommit=$found_over hvo=$found_hvo"
}
trap restore EXIT

ctl() { "$build/ctl/hugevmctl" --socket "$run/hugevmd.sock" "$@"; }
echo "\$ hugevmd --config ${config#$src/} --socket $run/hugevmd.sock --state-dir $run/state --foreground &"
"$build/daemon/hugevmd" --config "$config" --socket "$run/hugevmd.sock" \
        --state-dir "$run/state" --foreground 2> "$run/hugevmd.log" &
pid=$!
for _ in $(seq 100); do [ -S "$run/hugevmd.sock" ] && break; sleep 0.1; done
echo "\$ hugevmctl wait --timeout 60"
ctl wait --timeout 60
echo "\$ hugevmctl status"
ctl status
echo "--- hugevmd log"
cat "$run/hugevmd.log"
