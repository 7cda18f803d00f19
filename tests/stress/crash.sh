#!/bin/bash
# Crash safety (stress/crash.py): 200 x kill -9 at random points during pool.set
# (persisted state writes) and resizes on the fake kernel; every restart finds a
# valid state file with the last accepted target and converges to it.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/stress/common.sh"

stress_fakekernel
write_config <<EOF2
HVO=no
[Pool 2M]
Pages=10
EOF2
# The real binary, not the libtool wrapper: a kill -9 must hit the daemon itself.
bin=$top_builddir/daemon/.libs/hugevmd
[ -x "$bin" ] && export LD_LIBRARY_PATH=$top_builddir/libvmemmap/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} || bin=$HUGEVMD
stress_py crash.py 150 python3 "$top_srcdir/tests/stress/crash.py" "${STRESS_CRASH_ITER:-200}" "$bin" "$root" "$conf" \
        "$sock" "$state" "$log"
[ "$tap_failed" -eq 0 ] || show_log 20
stress_done
