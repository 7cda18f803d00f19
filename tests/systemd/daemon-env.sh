# Shared by the daemon-driven tests of tests/systemd: the real hugevmd on a
# fake /sys + /proc tree (what KERNEL.md describes, one node, 2048kB pages,
# Linux 6.18, HVO off until the daemon turns it on), a config and a temp dir
# removed by the EXIT trap. Source it; it sources tests/lib.sh.
. "$top_srcdir/tests/lib.sh"

HUGEVMD=$top_builddir/daemon/hugevmd
HUGEVMCTL=$top_builddir/ctl/hugevmctl
[ -x "$HUGEVMD" ] || tap_skip_all "hugevmd is not built yet ($HUGEVMD)"
command -v python3 >/dev/null || tap_skip_all "python3 not installed"

tmp=$(mktemp -d /tmp/hugevm-sd.XXXXXX)
root=$tmp/root
conf=$tmp/hugevmd.conf
log=$tmp/daemon.log
pids_to_kill=
cleanup() {
        local p
        for p in $pids_to_kill; do kill -TERM "$p" 2>/dev/null; done
        for p in $pids_to_kill; do
                for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
                kill -KILL "$p" 2>/dev/null
        done
        rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

put() { mkdir -p "$(dirname "$1")" && printf '%s\n' "$2" >"$1"; }

make_fakeroot() {
        local f
        for f in nr_hugepages nr_hugepages_mempolicy nr_overcommit_hugepages free_hugepages \
                 resv_hugepages surplus_hugepages; do
                put "$root/sys/kernel/mm/hugepages/hugepages-2048kB/$f" 0
        done
        for f in nr_hugepages free_hugepages surplus_hugepages; do
                put "$root/sys/devices/system/node/node0/hugepages/hugepages-2048kB/$f" 0
        done
        put "$root/sys/devices/system/node/node0/compact" ""
        put "$root/sys/devices/system/node/online" 0
        put "$root/sys/devices/system/memory/block_size_bytes" 8000000
        for f in $(seq 0 15); do put "$root/sys/devices/system/memory/memory$f/state" online; done
        put "$root/proc/sys/vm/hugetlb_optimize_vmemmap" 0
        put "$root/proc/sys/vm/compact_memory" ""
        put "$root/proc/sys/vm/nr_hugepages" 0
        put "$root/proc/sys/vm/nr_overcommit_hugepages" 0
        put "$root/proc/sys/kernel/osrelease" 6.18.0
        put "$root/proc/sys/kernel/arch" x86_64
        put "$root/proc/cmdline" "BOOT_IMAGE=/boot/vmlinuz-6.18.0 root=/dev/vda ro"
        # 16 blocks of 128 MiB: a memmap baseline of 8192 pages, nothing saved yet.
        printf 'nr_free_pages 262144\nnr_memmap_pages 8000\nnr_memmap_boot_pages 192\n' >"$root/proc/vmstat"
        printf 'MemTotal:        2097152 kB\nMemFree:         1048576 kB\nHugepagesize:       2048 kB\n' \
                >"$root/proc/meminfo"
}

# write_config [METRICS-LISTEN]: HVO on, a 2048kB pool of 64 pages.
write_config() {
        mkdir -p "$tmp/state"
        cat >"$conf" <<CONF
[Daemon]
HVO=yes
StateDirectory=$tmp/state
MetricsListen=${1:-no}
RefreshSec=1

[Pool 2048kB]
Pages=64
CONF
}

# free_port: a TCP port on 127.0.0.1 nobody listens on right now.
free_port() {
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# poll_until SECONDS COMMAND...: every 100 ms until COMMAND succeeds.
poll_until() {
        local i=0 limit=$(($1 * 10))
        shift
        while [ $i -lt $limit ]; do
                "$@" && return 0
                sleep 0.1
                i=$((i + 1))
        done
        return 1
}

show_log() { [ -f "$log" ] && tail -n "${1:-20}" "$log" | sed 's/^/# daemon: /'; }
