# Shared by the daemon-driven tests of tests/systemd: the real hugevmd on the
# fake kernel (tests/fakekernel: a FUSE mount that serves /sys and /proc as
# the kernel does; one node, 2048kB pages, Linux 6.18, HVO off until the
# daemon turns it on), a config and a temp dir, unmounted and removed by the
# EXIT trap. Source it; it sources tests/lib.sh and
# tests/fakekernel/fakekernel.sh.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/fakekernel/fakekernel.sh"

HUGEVMD=$top_builddir/daemon/hugevmd
HUGEVMCTL=$top_builddir/ctl/hugevmctl
[ -x "$HUGEVMD" ] || tap_skip_all "hugevmd is not built yet ($HUGEVMD)"
command -v python3 >/dev/null || tap_skip_all "python3 not installed"
# No fake kernel here (no libfuse3, /dev/fuse, fusermount3 or root): a skip,
# but a failure under CI=true on a machine that can run the kernel tiers.
fk_usable || tap_skip_all_unless_ci "$fk_why"

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
        fk_stop_all   # after the daemons: nothing may hold the mount
        rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# One node of 2 GiB (16 blocks of 128 MiB: a memmap baseline of 8192 pages,
# nothing saved yet; 1 GiB of it available to hugetlb), 2048kB pages only.
# The memmap counters move by themselves when HVO is on and the pool grows
# (`fk_ctl "$root" memmap PAGES BOOT` only for a deliberate lie).
make_fakeroot() {
        fk_start "$root" -s nodes=1 -s sizes=2048 -s mem=2G "$@" ||
                { echo "Bail out! cannot start the fake kernel on $root"; exit 1; }
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
