#!/bin/bash
# Fault injection under the real hugevmd on the fake kernel (tests/fakekernel):
# writes of nr_hugepages fail with EACCES, EINVAL, EROFS, EIO, ENOMEM and
# reads fail with EIO, the way the kernel delivers errors (from write(2) and
# read(2) of the file; the fake kernel's `fail` command); the kernel gives
# less than asked (no memory: the write succeeds, the pool comes up short).
# What no kernel does, an LD_PRELOAD shim (stress/faultinject.c) does in the
# daemon: reads that return garbage, and the 2048kB hstate files gone
# mid-operation (ENOENT at open). For each fault the daemon keeps answering,
# reports it on the 2048kB pool (degraded, with a reason naming the error)
# and converges again once the fault is gone.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/stress/common.sh"

[ -f "$FAULTINJECT" ] || tap_skip_all "the fault injector is not built ($FAULTINJECT)"
faults=$tmp/faults
: >"$faults"
hstate=$root/sys/kernel/mm/hugepages/hugepages-2048kB
nr_path=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages   # as the fake kernel names it

stress_fakekernel
write_config <<EOF2
HVO=no
[Pool 2M]
Pages=4
EOF2
# ASan (sanitizer builds) wants to be first in the library list; the shim is fine before it.
HUGEVM_FAULT_FILE=$faults LD_PRELOAD=$FAULTINJECT ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 start_daemon
tap_ok $? "hugevmd starts with the fault injector preloaded" || { show_log; stress_done; }
ctl wait --timeout 10 >/dev/null 2>&1
tap_is "$(cat "$hstate/nr_hugepages")" 4 "converged to the configured 4 pages"

call() { hv call "$sock" "$@"; }
pool_field() { call M_POOL_GET '{@F_SIZE:"2M"}' | hv get "F_RESULT.$1"; }
state_is() { [ "$(pool_field F_STATE)" = "$(hv const "$1")" ]; }
set_pages() { call M_POOL_SET "{@F_SIZE:\"2M\",@F_PAGES:$1,@F_PERSIST:false}"; }
strerror() { python3 -c "import errno, os, sys; print(os.strerror(errno.${1}))"; }

# The kernel's errors, many times over (the daemon may retry): fail_kernel
# read|write ERRNO. kernel_ok read|write: the fault is gone; the calls it had
# left are used up here (a read, or a write of the count the pool holds,
# changes nothing on the kernel).
fail_kernel() { fk_ctl "$root" fail "$1" "$nr_path" "$2" 1000; }
kernel_ok() {
        local v i=0
        if [ "$1" = read ]; then
                until { read -r v <"$hstate/nr_hugepages"; } 2>/dev/null || [ $i -gt 1000 ]; do i=$((i + 1)); done
        else
                v=$(fk_state "$root" 2048kB.nr)
                until { echo "$v" >"$hstate/nr_hugepages"; } 2>/dev/null || [ $i -gt 1000 ]; do i=$((i + 1)); done
        fi
}
# The daemon's own faults (the shim): its control file emptied.
shim_ok() { : >"$faults"; }

# A fault is on: the daemon answers, and reports it on the pool.
expect_degraded() { # WHAT REASON-WORD
        local t0=$SECONDS
        poll_for 12 state_is STATE_DEGRADED
        tap_ok $? "$1: pool reported degraded (after $((SECONDS - t0)) s)"
        local reason
        reason=$(pool_field F_REASON)
        printf '%s' "$reason" | grep -qiF "$2"
        tap_ok $? "$1: reason names the error ($2)" || echo "#   state $(pool_field F_STATE), reason: '$reason'"
        tap_is "$(call M_STATUS | hv get F_RESULT.F_POOLS.0.F_SIZE)" 2048kB "$1: status still answers during the fault"
}

# The fault is gone: the pool converges to target (an operator's retry, or the
# daemon's own retry when AUTO is set).
expect_recovery() { # WHAT TARGET
        set_pages "$2" >/dev/null
        poll_for 10 state_is STATE_CONVERGED
        tap_ok $? "$1: converged again once the fault is gone"
        tap_is "$(cat "$hstate/nr_hugepages")" "$2" "$1: the pool holds the target"
}

# ---- Writes of nr_hugepages fail ------------------------------------------
target=4
for e in EACCES EINVAL EROFS EIO ENOMEM; do
        target=$((target + 2))
        fail_kernel write $e
        r=$(set_pages $target)
        tap_is "$(printf '%s' "$r" | hv get F_RESULT.F_TARGET)" $target "write $e: pool.set accepted (target $target)"
        if [ $e = ENOMEM ]; then
                # ENOMEM from the write: quick retries with compaction, then degraded.
                expect_degraded "write $e" "memory"
                reason=$(pool_field F_REASON)
                reached=$(printf '%s' "$reason" | sed -n 's/.*reached \([0-9]*\) of.*/\1/p')
                # Only when the reason quotes a count: it must be what the pool holds.
                tap_is "${reached:-$(cat "$hstate/nr_hugepages")}" "$(cat "$hstate/nr_hugepages")" \
                        "write $e: a count in the reason is what the pool holds (reason: $reason)"
        else
                expect_degraded "write $e" "$(strerror $e)"
        fi
        tap_is "$(cat "$hstate/nr_hugepages")" $((target - 2)) "write $e: the pool kept its pages"
        kernel_ok write
        expect_recovery "write $e" $target
done

# ---- The kernel gives less than asked ----------------------------------------
# No error at all: room for 1 more 2 MiB page on each node, the write of
# target+4 returns its whole length, and the pool comes up 2 short.
have=$target
target=$((target + 4))
fk_ctl "$root" memory 0 2048kB 1 && fk_ctl "$root" memory 1 2048kB 1
set_pages $target >/dev/null
expect_degraded "short of memory" "memory"
tap_is "$(cat "$hstate/nr_hugepages")" $((have + 2)) "short of memory: the pool holds what the kernel gave ($((have + 2)) of $target)"
reason=$(pool_field F_REASON)
reached=$(printf '%s' "$reason" | sed -n 's/.*reached \([0-9]*\) of.*/\1/p')
tap_is "${reached:-$(cat "$hstate/nr_hugepages")}" "$(cat "$hstate/nr_hugepages")" \
        "short of memory: a count in the reason is what the pool holds (reason: $reason)"
fk_ctl "$root" memory 0 512M && fk_ctl "$root" memory 1 512M
expect_recovery "memory back" $target

# Automatic recovery (no operator): the daemon retries a failed write by itself.
# Its slow retry period is 60 s, so this runs only in the full (CI) mode.
if [ -n "${STRESS_FULL:-}" ]; then
        fail_kernel write EIO
        target=$((target + 2))
        set_pages $target >/dev/null
        poll_for 20 state_is STATE_DEGRADED
        kernel_ok write
        t0=$SECONDS
        poll_for 90 state_is STATE_CONVERGED
        tap_ok $? "write EIO: the daemon's own retry converges once the fault is gone ($((SECONDS - t0)) s)"
else
        tap_skip "write EIO: the daemon's own retry (60 s away) is waited for with STRESS_FULL=1 only"
fi

# ---- Reads fail ----------------------------------------------------------------
fail_kernel read EIO
expect_degraded "read EIO" "$(strerror EIO)"
kernel_ok read
expect_recovery "read EIO" "$target"

# ---- What no kernel does (the shim in the daemon) -------------------------------
# Reads that return garbage.
echo "read */hugepages-2048kB/* garbage" >"$faults"
expect_degraded "read garbage" 2048kB
shim_ok
expect_recovery "read garbage" "$target"
# The 2048kB hstate's files gone mid-operation.
target=$((target + 2))
echo "open */hugepages-2048kB/* ENOENT" >"$faults"
set_pages $target >/dev/null
expect_degraded "hstate gone" "$(strerror ENOENT)"
shim_ok
expect_recovery "hstate back" $target

kill -0 "$daemon_pid" 2>/dev/null
tap_ok $? "the daemon survived every fault"
stop_daemon
tap_is "$daemon_status" 0 "daemon exits cleanly"
[ "$tap_failed" -eq 0 ] || show_log 40
stress_done
