#!/bin/bash
# Load: 64 clients x 1000 mixed requests (status, pool.get, pool.set, id-less
# notifications) against the real hugevmd on the fake kernel; every request with an
# id gets exactly one correct reply; throughput and p50/p99 latency printed;
# the daemon's RSS stays flat between a warm-up round and the full run.
# Then a smaller run on the REAL kernel: clients make the daemon resize the real
# 2048kB pool between 0 and STRESS_REAL_MAX pages (under the real-kernel lock;
# pool, overcommit and HVO restored at exit).
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/stress/common.sh"

LOADGEN=$top_builddir/tests/stress/loadgen
[ -x "$LOADGEN" ] || tap_skip_all "loadgen is not built"
clients=${STRESS_CLIENTS:-64}
# make check runs a quarter of the issue's 64 x 1000; STRESS_FULL=1 (CI) runs all of it.
requests=${STRESS_REQUESTS:-$([ -n "${STRESS_FULL:-}" ] && echo 1000 || echo 250)}
rss_bound_kb=${STRESS_RSS_GROWTH_KB:-1024}

stress_fakekernel
write_config <<EOF2
HVO=no
[Pool 2M]
Pages=10
EOF2
start_daemon
tap_ok $? "hugevmd starts on the fake kernel" || { show_log; stress_done; }

# loadgen_run NAME ARGS...: run it, echo its diagnostics, tap on its verdict.
loadgen_run() {
        local name=$1 out rc
        shift
        out=$("$LOADGEN" "$sock" "$@" 2>&1)
        rc=$?
        printf '%s\n' "$out" | grep '^#'
        printf '%s\n' "$out" | grep '^RESULT' | sed 's/^/# /'
        tap_ok $rc "$name: every request with an id got exactly one correct reply"
}

loadgen_run "warm-up ($clients x 100)" "$clients" 100 2M 10 64
rss_warm=$(rss_kb "$daemon_pid")
loadgen_run "full run ($clients x $requests)" "$clients" "$requests" 2M 10 64
rss_after=$(rss_kb "$daemon_pid")
echo "# daemon VmRSS: $rss_warm kB after warm-up, $rss_after kB after the full run; VmHWM $(hwm_kb "$daemon_pid") kB"
if sanitized "$daemon_pid"; then
        tap_ok 0 "# SKIP RSS flatness not checked under AddressSanitizer (its quarantine grows RSS); the plain build checks it"
else
        tap_ok $(( rss_after - rss_warm <= rss_bound_kb ? 0 : 1 )) "RSS flat: grew $(( rss_after - rss_warm )) kB (bound $rss_bound_kb kB)"
fi
r=$(ctl status --json 2>/dev/null)
tap_ok $? "daemon still answers status after the load"
stop_daemon
tap_is "$daemon_status" 0 "daemon exits cleanly after the load"

# ---- The real kernel -------------------------------------------------------
# Not able to here: one counted skip (a failure under CI=true on a machine
# that can: tests/lib.sh), and the end.
if ! real_kernel_ok || ! real_lock_and_save; then
        tap_skip_unless_ci "real-kernel load: $real_kernel_why"
        stress_done
fi
real_max=${STRESS_REAL_MAX:-500}
write_config <<EOF2
HVO=no
EOF2
root=/
start_daemon
tap_ok $? "hugevmd starts on the real kernel" || { show_log; stress_done; }
# Watch the real pool move while clients hammer the daemon.
(
        prev=
        while :; do
                v=$(cat "$REAL_POOL/nr_hugepages")
                [ "$v" != "$prev" ] && echo "$v"
                prev=$v
                sleep 0.02
        done
) >"$tmp/seen" &
extra_pids=$!
LOADGEN_SET_PERCENT=20 LOADGEN_PERSIST_EVERY=0 loadgen_run "real kernel (16 x 300, pool.set 0..$real_max)" 16 300 2M 0 "$real_max"
kill "$extra_pids" 2>/dev/null
wait "$extra_pids" 2>/dev/null
extra_pids=
distinct=$(sort -un "$tmp/seen" | wc -l)
echo "# real nr_hugepages took $distinct distinct values during the run"
tap_ok $(( distinct >= 3 ? 0 : 1 )) "the daemon resized the real pool during the load"
r=$(hv call "$sock" M_POOL_SET "{@F_SIZE:\"2M\",@F_PAGES:$real_max,@F_PERSIST:false}")
ctl wait --timeout 30 >/dev/null 2>&1
tap_is "$(cat "$REAL_POOL/nr_hugepages")" "$real_max" "real pool converges to the last target after the load"
stop_daemon
tap_is "$daemon_status" 0 "daemon exits cleanly"
real_restore
stress_done
