# The real 2048kB pool for a test that changes it and measures HVO's saving
# (tests/kernel/e2e-savings.sh, reoptimize.sh). Source after
# tests/integration/common.sh:
#   real_pool_take        skip (fail under CI) unless the pool, the HVO sysctl
#                         and the memmap counters (6.11+) are there; take the
#                         machine-wide lock; remember what to put back
#   real_pool_put_back    from the script's EXIT trap, after its daemon stopped
#   memmap_sum            nr_memmap_pages + nr_memmap_boot_pages now
pool=/sys/kernel/mm/hugepages/hugepages-2048kB
hvo=/proc/sys/vm/hugetlb_optimize_vmemmap
real_orig=

real_pool_take() {
        [ "$(id -u)" = 0 ] || tap_skip_all_unless_ci "needs root to change the real hugepage pools"
        [ -w $pool/nr_hugepages ] || tap_skip_all_unless_ci "$pool/nr_hugepages is not writable"
        [ -w $hvo ] || tap_skip_all_unless_ci "no writable $hvo (kernel without HVO)"
        grep -q '^nr_memmap_pages ' /proc/vmstat || tap_skip_all_unless_ci "no nr_memmap counters in /proc/vmstat (kernel before 6.11)"
        # One real-kernel user at a time: other tests measure exact counter deltas.
        exec 9>/tmp/hugevm-realkernel.lock
        flock -w 600 9 || tap_skip_all_unless_ci "could not get /tmp/hugevm-realkernel.lock within 600 s"
        real_orig="$(cat $pool/nr_hugepages) $(cat $pool/nr_overcommit_hugepages) $(cat $hvo)"
        set -- $real_orig
        echo "# found: nr_hugepages=$1 nr_overcommit_hugepages=$2 hugetlb_optimize_vmemmap=$3"
}

real_pool_put_back() {
        [ -n "$real_orig" ] || return 0
        set -- $real_orig
        echo "$2" >$pool/nr_overcommit_hugepages
        echo 0 >$pool/nr_hugepages   # the pages of the test go, whatever they were
        echo "$1" >$pool/nr_hugepages
        echo "$3" >$hvo
        [ "$(cat $pool/nr_hugepages) $(cat $pool/nr_overcommit_hugepages) $(cat $hvo)" = "$real_orig" ] ||
                echo "# WARNING: could not put back nr_hugepages, overcommit, HVO = $real_orig" >&2
}

memmap_sum() { awk '$1 == "nr_memmap_pages" || $1 == "nr_memmap_boot_pages" { s += $2 } END { print s }' /proc/vmstat; }
