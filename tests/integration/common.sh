# Shared setup for the integration tier: the real hugevmd and the real hugevmctl
# on a fake machine's /sys + /proc (the FUSE fake kernel, tests/fakekernel) and
# a socket in a temp dir. Source it after setting nothing; it sources ../lib.sh,
# ../fakekernel/fakekernel.sh and ../fakeroot.sh and installs the cleanup trap.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/fakekernel/fakekernel.sh"

HUGEVMD=$top_builddir/daemon/hugevmd
HUGEVMCTL=$top_builddir/ctl/hugevmctl
[ -x "$HUGEVMD" ] || tap_skip_all "hugevmd is not built ($HUGEVMD)"
[ -x "$HUGEVMCTL" ] || tap_skip_all "hugevmctl is not built ($HUGEVMCTL)"
command -v python3 >/dev/null || tap_skip_all "python3 is needed for the protocol helper"

# The interpreter itself, not a version manager's shim: the helper runs often.
# (/usr/bin/python3 first: other uids in auth.sh must be able to run it too.)
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=$(python3 -c 'import sys; print(sys.executable)')
hv() { "$PYTHON" "$top_srcdir/tests/integration/hv.py" "$@"; }
eval "$(hv env)" # P_M_STATUS=status, P_ERR_PARSE=-32700, ...

tmp=$(mktemp -d /tmp/hugevm-it.XXXXXX)
chmod 755 "$tmp" # other uids must reach the socket (the refusal must come from SO_PEERCRED)
root=$tmp/root
sock=$tmp/run/hugevmd.sock
conf=$tmp/etc/hugevmd.conf
state=$tmp/state
log=$tmp/daemon.log
daemon_pid=
mkdir -p "$tmp/run" "$tmp/etc" && chmod 755 "$tmp/run" "$tmp/etc"

stop_daemon() {
        [ -n "$daemon_pid" ] || return 0
        kill -TERM "$daemon_pid" 2>/dev/null
        local i=0
        while kill -0 "$daemon_pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
        kill -KILL "$daemon_pid" 2>/dev/null
        wait "$daemon_pid" 2>/dev/null
        daemon_status=$?
        daemon_pid=
        return $daemon_status
}

cleanup() {
        stop_daemon     # first: it must not see its machine go away
        [ -n "${extra_pids:-}" ] && kill $extra_pids 2>/dev/null
        fk_stop_all     # unmounted before anything under $tmp is removed
        chattr -R -i "$tmp" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# The plain-file builder (fake_root), for hostile-files.sh only: its point is
# file contents no kernel writes.
. "$top_srcdir/tests/fakeroot.sh"

# make_fakeroot [-s KEY=VALUE | -c FILE]...: the fake kernel on $root
# (fakekernel.c lists the settings; the defaults are an x86-64 host on Linux
# 6.18, two nodes of 1 GiB, half of it for hugetlb, 2M and 1G pages, HVO off).
# Returns once it serves; a test changes the machine through fk_ctl "$root"
# (hold/release/memory/fragment/fail...) or by writing its files, as an admin
# would. A broken fixture must not let anything pass.
make_fakeroot() {
        fk_usable || tap_skip_all_unless_ci "$fk_why"
        fk_start "$root" "$@" || { echo "Bail out! cannot start the fake kernel on $root"; exit 1; }
}
# make_fakeroot_plain [fake_root KEY=VALUE...]: a tree of plain files instead.
make_fakeroot_plain() { fake_root "$root" "$@" || { echo "Bail out! cannot build the fake root $root"; exit 1; }; }

# write_config: [Daemon] basics, then whatever is on stdin.
write_config() {
        {
                printf '[Daemon]\nStateDirectory=%s\nMetricsListen=no\nRefreshSec=1\n' "$state"
                cat
        } >"$conf"
}

# start_daemon [ARGS...]: start hugevmd in the background and wait (bounded)
# for its socket. Returns non-zero if it died or never listened.
start_daemon() {
        rm -f "$sock"
        # HUGEVM_WRAPPER: e.g. valgrind through libtool (tests/stress/valgrind.sh).
        ${HUGEVM_WRAPPER:-} "$HUGEVMD" --root "$root" --config "$conf" --socket "$sock" --foreground "$@" >>"$log" 2>&1 &
        daemon_pid=$!
        local i=0
        while [ $i -lt 200 ]; do
                # Ready means answering, not just a socket file (bind comes before listen).
                if [ -S "$sock" ] && "$HUGEVMCTL" --socket "$sock" version >/dev/null 2>&1; then
                        chmod 666 "$sock"
                        return 0
                fi
                kill -0 "$daemon_pid" 2>/dev/null || { wait "$daemon_pid"; daemon_status=$?; daemon_pid=; return 1; }
                sleep 0.05
                i=$((i + 1))
        done
        return 1
}

ctl() { ${HUGEVM_WRAPPER:-} "$HUGEVMCTL" --socket "$sock" "$@"; }

# poll_until SECONDS COMMAND...: run COMMAND every 50 ms until it succeeds.
poll_until() {
        local limit=$(($1 * 20)) i=0
        shift
        while [ $i -lt $limit ]; do
                "$@" && return 0
                sleep 0.05
                i=$((i + 1))
        done
        return 1
}

# file_is PATH VALUE: the first word of PATH is VALUE (for poll_until).
file_is() { [ "$(cat "$1" 2>/dev/null)" = "$2" ]; }

pool_file() { echo "$root/sys/kernel/mm/hugepages/hugepages-$1/$2"; }

# Dump the daemon log as TAP diagnostics (on failure).
show_log() { [ -f "$log" ] && sed 's/^/# daemon: /' "$log" | tail -n "${1:-30}"; }

# The daemon's log has no sanitizer report (meaningful in ASan/UBSan builds).
daemon_log_clean() {
        if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$log" 2>/dev/null; then
                grep -E -A12 "ERROR: (Address|Leak)Sanitizer|runtime error:" "$log" | sed 's/^/# sanitizer: /'
                return 1
        fi
        return 0
}
