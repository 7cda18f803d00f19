# Shared by the daemon-driven tests of tests/systemd: the real hugevmd on a
# fake /sys + /proc tree (what KERNEL.md describes, one node, 2048kB pages,
# Linux 6.18, HVO off until the daemon turns it on), a config and a temp dir
# removed by the EXIT trap. Source it; it sources tests/lib.sh and
# tests/fakeroot.sh.
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

# One node, 2048kB pages only; the rest is the shared builder's default host
# (16 blocks of 128 MiB: a memmap baseline of 8192 pages, nothing saved yet).
. "$top_srcdir/tests/fakeroot.sh"
make_fakeroot() { fake_root "$root" nodes=1 sizes=2048 || { echo "Bail out! cannot build the fake root $root"; exit 1; }; }
# set_memmap NR_MEMMAP_PAGES NR_MEMMAP_BOOT_PAGES: what /proc/vmstat reports.
set_memmap() { fake_vmstat "$root" "$1" "$2"; }

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
