#!/bin/bash
# On the real kernel: hugevmd mounts the hugetlbfs its config asks for (with
# pagesize=, size=, mode=), reports it, sets vm.hugetlb_shm_group from a group
# name, and leaves the mount in place when it stops. Holds the real-kernel
# lock; unmounts, removes the mount point and puts vm.hugetlb_shm_group back,
# also on failure. The pools themselves are not touched (no Pages=).
. "$top_srcdir/tests/integration/common.sh"

shm_group=/proc/sys/vm/hugetlb_shm_group
[ "$(id -u)" = 0 ] || tap_skip_all_unless_ci "needs root to mount hugetlbfs"
[ -d /sys/kernel/mm/hugepages/hugepages-2048kB ] || tap_skip_all_unless_ci "no 2048kB hugepages on this kernel"
[ -w $shm_group ] || tap_skip_all_unless_ci "$shm_group is not writable"
nogroup_gid=$(getent group nogroup | cut -d: -f3)
[ -n "$nogroup_gid" ] || tap_skip_all_unless_ci "no group 'nogroup' on this machine"

exec 9>/tmp/hugevm-realkernel.lock
flock -w 600 9 || tap_skip_all_unless_ci "could not get /tmp/hugevm-realkernel.lock within 600 s"

orig_group=$(cat $shm_group)
mnt=$tmp/hugepages-2M
other=$tmp/by-hand
restore() {
        stop_daemon
        mountpoint -q "$mnt" && umount "$mnt"
        mountpoint -q "$other" && umount "$other"
        echo "$orig_group" >$shm_group
        [ "$(cat $shm_group)" = "$orig_group" ] || echo "# WARNING: could not restore $shm_group=$orig_group" >&2
        cleanup
}
trap restore EXIT
echo "# found: vm.hugetlb_shm_group=$orig_group"

root=/
write_config <<EOF
HVO=no
RefreshSec=60
ShmGroup=nogroup
[Pool 2M]
Mount=$mnt
MountSize=4M
MountMode=0770
EOF
start_daemon
tap_ok $? "hugevmd starts on the real root" || { show_log; tap_done; exit 1; }

line=$(awk -v m="$mnt" '$2 == m && $3 == "hugetlbfs"' /proc/mounts)
echo "# /proc/mounts: $line"
tap_ok $([ -n "$line" ]; echo $?) "hugetlbfs is mounted at the configured path"
for opt in pagesize=2M size=4194304 mode=770 nosuid nodev; do
        # The kernel prints size= in bytes or with a unit, depending on the version.
        case $opt in size=*) pat='size=(4194304|4M)' ;; *) pat=$opt ;; esac
        echo "$line" | grep -Eq "[ ,]$pat(,| )"
        tap_ok $? "mount option $opt"
done
tap_is "$(stat -c %a "$mnt")" 770 "the mount's root has mode 770"
ctl --json status >"$tmp/st"
pool_index=$(hv get F_POOLS <"$tmp/st" | python3 -c 'import json,sys; print([p["size"] for p in json.load(sys.stdin)].index("2048kB"))')
n=$(hv get F_POOLS.$pool_index.F_MOUNTS <"$tmp/st" | python3 -c '
import json, sys
print(len([m for m in json.load(sys.stdin) if m["path"] == sys.argv[1] and m["configured"] and not m["reason"]]))' "$mnt")
tap_is "$n" 1 "status lists the mount under 2048kB, configured, without error"
tap_is "$(cat $shm_group)" "$nogroup_gid" "vm.hugetlb_shm_group is the gid of nogroup"

# A mount made by hand shows up at once (the daemon polls /proc/mounts for
# changes), long before the next periodic refresh.
listed() { ctl --json status | grep -qF "\"$1\""; }
mkdir -p "$other" && mount -t hugetlbfs -o pagesize=2M none "$other"
t0=$(date +%s%N)
poll_until 3 listed "$other"
tap_ok $? "a hugetlbfs mounted by hand is listed in status within $(( ($(date +%s%N) - t0) / 1000000 )) ms (RefreshSec=60)"
umount "$other"
poll_until 3 eval '! listed "$other"'
tap_ok $? "and it is gone from status once unmounted"
grep -q "Mounted hugetlbfs for 2048kB pages at $mnt" "$log"
tap_ok $? "the mount is logged"

stop_daemon
tap_is "$daemon_status" 0 "hugevmd exits 0"
mountpoint -q "$mnt"
tap_ok $? "the mount stays when hugevmd stops (consumers may hold files on it)"

# Started again, it finds the mount and does not mount a second one on top.
: >"$log"
start_daemon
tap_ok $? "hugevmd starts again"
tap_is "$(awk -v m="$mnt" '$2 == m' /proc/mounts | wc -l)" 1 "one mount at the path, not two"
grep -q "Mounted hugetlbfs" "$log"
tap_ok $((! $?)) "nothing mounted the second time"
tap_done
