# Helpers shared by the stress tier (source after tests/integration/common.sh).
# The fake machine is the fake kernel (tests/fakekernel, a FUSE mount that
# behaves like the kernel): stress_fakekernel starts it on $root, and
# stress_exit unmounts it after the daemon stopped.
. "$top_srcdir/tests/fakekernel/fakekernel.sh"

# stress_fakekernel [-s KEY=VALUE]...: the fake kernel on $root (fakekernel.c
# lists the settings; the defaults are two nodes of 1 GiB, half of it for
# hugetlb, 2M and 1G pages, HVO off, Linux 6.18). Without FUSE: a skip, a
# failure under CI=true on a capable machine (tests/lib.sh).
stress_fakekernel() {
        fk_usable || tap_skip_all_unless_ci "$fk_why"
        fk_start "$root" "$@" || { echo "Bail out! cannot start the fake kernel on $root"; exit 1; }
}

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

# Take the machine-wide lock (bounded wait) and remember what to put back
# (stress_exit puts it back on every exit). Sets real_kernel_why on failure.
real_lock_and_save() {
        exec 8>"$REAL_LOCK"
        if ! flock -w 300 8; then real_kernel_why="$REAL_LOCK busy for 300 s"; return 1; fi
        real_saved="$(cat "$REAL_POOL/nr_hugepages") $(cat "$REAL_POOL/nr_overcommit_hugepages") $(cat "$REAL_HVO" 2>/dev/null || echo -)"
        echo "# real kernel before: nr_hugepages overcommit hvo = $real_saved"
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
        exec 8>&-
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

# stress_py NAME SECONDS COMMAND...: run a python checker (abuse.py, crash.py)
# for at most SECONDS. Its "CHECK <0|1> <description>" lines become cases, its
# "# ..." lines pass through, anything else (a traceback) is shown as a
# diagnostic. It must end with "END <number of CHECK lines>" and exit 0: a
# checker that stopped early (an exception, the timeout, a kill) fails the
# case "NAME ran to its end" however many checks it passed before.
stress_py() {
        local name=$1 secs=$2 line word rc desc checks=0 end='' status=''
        shift 2
        while IFS= read -r line; do
                read -r word rc desc <<<"$line"
                case $word in
                CHECK) tap_ok "$rc" "$desc"; checks=$((checks + 1)) ;;
                END) end=$rc ;;
                EXIT) status=$rc ;;
                '#'*) printf '%s\n' "$line" ;;
                *) printf '# %s: %s\n' "$name" "$line" ;;
                esac
        done < <(timeout "$secs" "$@" 2>&1; echo "EXIT $?")
        [ "$status" = 0 ] && [ "$end" = "$checks" ]
        tap_ok $? "$name ran to its end ($checks checks; END ${end:-missing}, exit status ${status:-unknown}$(
                [ "$status" = 124 ] && echo ": killed after $secs s"))"
}

# ---- The end of a stress script ----------------------------------------------
# stress_done: the plan, and exit 0 only if every case passed (a known daemon
# bug is a failure like any other, never a "# TODO"). A script that cannot go
# on calls it after a failed case saying why. A script that exits any other
# way before a plan is printed (a signal, an exit in a helper, bash dying)
# gets a failed case for it from stress_exit, the EXIT trap installed here;
# that trap also puts the real kernel back (real_restore) and then runs the
# integration tier's cleanup.
stress_done() { tap_done; exit; }
stress_exit() {
        local rc=$?
        trap - EXIT
        if [ -z "$tap_planned" ]; then
                tap_ok 1 "the script ran to its end (it stopped early, exit status $rc)"
                tap_done
                rc=1
        fi
        real_restore
        stop_daemon     # before the unmount: the daemon must not see its machine go away
        fk_stop_all
        cleanup
        exit $rc
}
trap stress_exit EXIT
