#!/bin/sh
# Real-kernel tier: libvmemmap against this machine's pools, HVO sysctl and
# memmap counters (kernel/test-hvo-real.c). Holds the real-kernel lock for its
# whole run (other tests measure exact counter deltas) and puts back the pool
# size, overcommit and HVO sysctl it found, also when the test fails or is killed.
. "${top_srcdir:-.}/tests/lib.sh"

hp=/sys/kernel/mm/hugepages/hugepages-2048kB
hvo=/proc/sys/vm/hugetlb_optimize_vmemmap
prog="${top_builddir:-.}/tests/kernel/test-hvo-real"

[ "$(id -u)" -eq 0 ] || tap_skip_all_unless_ci "needs root to change hugepage pools"
[ -d "$hp" ] || tap_skip_all_unless_ci "no 2048kB hstate ($hp)"
[ -w "$hp/nr_hugepages" ] || tap_skip_all_unless_ci "$hp/nr_hugepages is not writable"
[ -x "$prog" ] || tap_skip_all_unless_ci "$prog not built"

exec 9>/tmp/hugevm-realkernel.lock
flock 9

saved_nr=$(cat "$hp/nr_hugepages")
saved_over=$(cat "$hp/nr_overcommit_hugepages")
saved_hvo=$(cat "$hvo" 2>/dev/null || echo none)
restore() {
        echo "$saved_nr" >"$hp/nr_hugepages"
        echo "$saved_over" >"$hp/nr_overcommit_hugepages"
        [ "$saved_hvo" = none ] || echo "$saved_hvo" >"$hvo"
        now="$(cat "$hp/nr_hugepages")/$(cat "$hp/nr_overcommit_hugepages")/$(cat "$hvo" 2>/dev/null || echo none)"
        [ "$now" = "$saved_nr/$saved_over/$saved_hvo" ] ||
                echo "# WARNING: could not restore nr_hugepages/overcommit/HVO: now $now, was $saved_nr/$saved_over/$saved_hvo" >&2
}
trap restore EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

HUGEVM_REALKERNEL_LOCKED=1 "$prog"
