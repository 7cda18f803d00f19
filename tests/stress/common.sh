# Helpers shared by the stress tier (source after tests/integration/common.sh).

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# Under AddressSanitizer a process's RSS is mostly ASan's own quarantine and
# shadow memory: memory bounds are checked in the plain build only.
sanitized() { grep -q libasan "/proc/$1/maps" 2>/dev/null; }

FAULTINJECT=$top_builddir/tests/stress/.libs/faultinject.so

# ---- The real 2048kB pool (see /work/shared rules: lock, restore) ----------
REAL_POOL=/sys/kernel/mm/hugepages/hugepages-2048kB
REAL_HVO=/proc/sys/vm/hugetlb_optimize_vmemmap
REAL_LOCK=/tmp/hugevm-realkernel.lock
real_saved=

real_kernel_ok() {
        real_kernel_why=
        if [ "$(id -u)" != 0 ]; then real_kernel_why="not root"
        elif [ ! -w "$REAL_POOL/nr_hugepages" ]; then real_kernel_why="no writable $REAL_POOL"
        elif [ -n "${STRESS_NO_REAL:-}" ]; then real_kernel_why="STRESS_NO_REAL is set"
        fi
        [ -z "$real_kernel_why" ]
}

# Take the machine-wide lock (bounded wait) and remember what to put back.
real_lock_and_save() {
        exec 8>"$REAL_LOCK"
        if ! flock -w 300 8; then echo "# SKIP real kernel: lock busy for 300 s"; return 1; fi
        real_saved="$(cat "$REAL_POOL/nr_hugepages") $(cat "$REAL_POOL/nr_overcommit_hugepages") $(cat "$REAL_HVO" 2>/dev/null || echo -)"
        echo "# real kernel before: nr_hugepages overcommit hvo = $real_saved"
        trap 'real_restore; cleanup' EXIT
}

real_restore() {
        [ -n "$real_saved" ] || return 0
        stop_daemon
        set -- $real_saved
        [ "$3" != - ] && echo "$3" >"$REAL_HVO"
        echo "$2" >"$REAL_POOL/nr_overcommit_hugepages"
        echo "$1" >"$REAL_POOL/nr_hugepages"
        echo "# real kernel restored: $(cat "$REAL_POOL/nr_hugepages") $(cat "$REAL_POOL/nr_overcommit_hugepages") $(cat "$REAL_HVO" 2>/dev/null)"
        real_saved=
        flock -u 8
}

# poll_for SECONDS COMMAND...: like poll_until, but bounded by wall time (the
# command itself may take a while, e.g. a python protocol call).
poll_for() {
        local end=$((SECONDS + $1))
        shift
        while [ $SECONDS -lt $end ]; do
                "$@" && return 0
                sleep 0.1
        done
        "$@"
}

# The plan line and exit 0: the TAP driver judges the lines, and lib.sh's
# tap_done would turn expected failures (# TODO, known daemon bugs) into an error.
stress_done() { echo "1..$tap_n"; exit 0; }
