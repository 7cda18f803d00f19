#!/bin/bash
# What hugeadm sets up beside the pools, on the fake kernel: hugetlbfs mounts (a
# configured one already mounted is reported, not mounted again; one that
# clashes with another page size is an error on that pool), every hugetlbfs
# mount listed per page size, vm.hugetlb_shm_group from a group name, and
# shmmax/shmall raised to fit the targets but never lowered. Bad Mount*= and
# Shm*= keys are refused with file:line. (The real mount: kernel/host-real.sh.)
. "$top_srcdir/tests/integration/common.sh"

# The mount table this machine booted with (the kernel writes a space as \040).
cat >"$tmp/mounts" <<'EOF'
sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0
hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0
none /mnt/huge\0401g hugetlbfs rw,relatime,pagesize=1024M 0 0
none /mnt/default hugetlbfs rw,relatime 0 0
EOF
make_fakeroot -s mounts="$tmp/mounts"
# An admin made the SysV shm limits tiny (the kernel's defaults are huge).
echo 0 >"$root/proc/sys/vm/hugetlb_shm_group" &&
        echo 4096 >"$root/proc/sys/kernel/shmmax" &&
        echo 1 >"$root/proc/sys/kernel/shmall" || { echo "Bail out! cannot set the shm sysctls"; exit 1; }
nogroup_gid=$(getent group nogroup | cut -d: -f3)
[ -n "$nogroup_gid" ] || tap_skip_all "no group 'nogroup' on this machine"

# refuse_case DESCRIPTION WANT-IN-LOG: the config on stdin is refused.
refuse_case() {
        write_config
        : >"$log"
        start_daemon
        local started=$?
        [ $started -eq 0 ] && stop_daemon
        grep -qF -- "$2" "$log"
        tap_ok $(( started == 0 ? 1 : $? )) "refused, naming '$2': $1"
        grep -qF -- "$2" "$log" || show_log 5
}
refuse_case "relative mount point" "hugevmd.conf:7: Mount=dev/hugepages: needs an absolute path" <<EOF
[Pool 2M]
Pages=1
Mount=dev/hugepages
EOF
refuse_case "MountSize not whole pages" "hugevmd.conf:7: MountSize=3M is not a multiple of the 2048kB page size" <<EOF
[Pool 2M]
Mount=/dev/hugepages
MountSize=3M
EOF
refuse_case "MountMode not octal" "hugevmd.conf:7: MountMode=0789: needs an octal mode" <<EOF
[Pool 2M]
Mount=/dev/hugepages
MountMode=0789
EOF
refuse_case "unknown user" "hugevmd.conf:7: MountUser=no-such-user-hugevm: no such user" <<EOF
[Pool 2M]
Mount=/dev/hugepages
MountUser=no-such-user-hugevm
EOF
refuse_case "unknown Mount key" "hugevmd.conf:7: unknown key MountFlags=" <<EOF
[Pool 2M]
Mount=/dev/hugepages
MountFlags=ro
EOF
refuse_case "mount options without Mount=" "[Pool 2048kB]: MountSize=, MountMinSize=, MountMode=, MountUser= or MountGroup= without Mount=" <<EOF
[Pool 2M]
MountSize=4M
EOF
refuse_case "one mount point for two sizes" "hugevmd.conf:8: Mount=/mnt/x: already the mount point of another [Pool] section" <<EOF
[Pool 2M]
Mount=/mnt/x
[Pool 1G]
Mount=/mnt/x
EOF
refuse_case "unknown shm group" "hugevmd.conf:5: ShmGroup=no-such-group-hugevm: no such group" <<EOF
ShmGroup=no-such-group-hugevm
[Pool 2M]
Pages=1
EOF
refuse_case "ShmLimits not a boolean" "hugevmd.conf:5: ShmLimits=maybe: not a boolean" <<EOF
ShmLimits=maybe
EOF

# A configured mount that exists, one that clashes, shm group and limits.
write_config <<EOF
HVO=no
ShmGroup=nogroup
ShmLimits=yes
[Pool 2M]
Pages=4
Mount=/dev/hugepages
[Pool 1G]
Mount=/mnt/huge 1g
EOF
: >"$log"
start_daemon
tap_ok $? "hugevmd starts with Mount=, ShmGroup= and ShmLimits=" || show_log
ctl --json status >"$tmp/st"
tap_is "$(hv get F_POOLS.0.F_MOUNTS.0.F_PATH F_POOLS.0.F_MOUNTS.0.F_CONFIGURED F_POOLS.0.F_MOUNTS.0.F_REASON <"$tmp/st" | tr '\n' ' ')" \
        "/dev/hugepages true  " "2048kB: the configured /dev/hugepages is listed as mounted, no error"
tap_is "$(hv get F_POOLS.0.F_MOUNTS.1.F_PATH <"$tmp/st")" "/mnt/default" \
        "2048kB: a mount without pagesize= is listed under the default size (Hugepagesize: 2048 kB)"
tap_is "$(hv get F_POOLS.1.F_MOUNTS.0.F_PATH F_POOLS.1.F_MOUNTS.0.F_CONFIGURED <"$tmp/st" | tr '\n' ' ')" \
        "/mnt/huge 1g true " "1048576kB: the mount with an escaped space in /proc/mounts is found and matched"
grep -q "Mounted hugetlbfs" "$log"
tap_ok $((! $?)) "nothing already mounted is mounted again"
tap_is "$(cat "$root/proc/sys/vm/hugetlb_shm_group")" "$nogroup_gid" "ShmGroup=nogroup wrote its gid to vm.hugetlb_shm_group"
tap_is "$(cat "$root/proc/sys/kernel/shmmax") $(cat "$root/proc/sys/kernel/shmall")" "8388608 2048" \
        "ShmLimits=yes raised shmmax/shmall to fit 4 x 2 MiB (8388608 bytes, 2048 pages)"
tap_is "$(hv get F_SHM.F_GROUP F_SHM.F_SHMMAX F_SHM.F_REASON <"$tmp/st" | tr '\n' ' ')" "$nogroup_gid 8388608  " \
        "status reports the shm settings it made"
ctl status >"$tmp/out"
grep -q "^  2048kB     /dev/hugepages  rw,relatime,pagesize=2M (configured)$" "$tmp/out" &&
        grep -q "^SysV shm: vm.hugetlb_shm_group $nogroup_gid, kernel.shmmax 8388608 bytes, kernel.shmall 2048 pages$" "$tmp/out"
tap_ok $? "hugevmctl status prints the mounts and the shm settings"
sed 's/^/# /' "$tmp/out" | tail -6

ctl set 2M 16 --runtime >/dev/null
tap_is "$(cat "$root/proc/sys/kernel/shmmax")" 33554432 "a larger target raises shmmax with it (16 x 2 MiB)"
ctl set 2M 2 --runtime >/dev/null
tap_is "$(cat "$root/proc/sys/kernel/shmmax")" 33554432 "a smaller target never lowers shmmax"
echo 18446744073692774399 >"$root/proc/sys/kernel/shmmax"
ctl set 2M 8 --runtime >/dev/null
tap_is "$(cat "$root/proc/sys/kernel/shmmax")" 18446744073692774399 "the kernel's huge default shmmax is left alone"
stop_daemon

# A configured mount point taken by another page size: an error on that pool, the daemon goes on.
write_config <<EOF
HVO=no
[Pool 2M]
Pages=1
Mount=/mnt/huge 1g
EOF
: >"$log"
start_daemon
tap_ok $? "hugevmd starts although its Mount= is taken by a 1G mount"
ctl --json status >"$tmp/st"
tap_is "$(hv get F_POOLS.0.F_MOUNTS.2.F_REASON <"$tmp/st")" "/mnt/huge 1g is already a hugetlbfs mount of 1048576kB pages" \
        "status names the clash on the 2048kB pool"
grep -q "Mount=/mnt/huge 1g: /mnt/huge 1g is already a hugetlbfs mount of 1048576kB pages" "$log"
tap_ok $? "the clash is logged"
tap_is "$(grep -c "already a hugetlbfs mount" "$log")" 1 "logged once, not at every retry"
# The periodic refresh retries the mount, then re-reads the machine: HVO turned
# on by hand shows in the log once a refresh after it ran (no request is made
# meanwhile, so no other refresh can see it first).
echo 1 >"$root/proc/sys/vm/hugetlb_optimize_vmemmap"
poll_until 10 grep -q "HVO was turned on behind hugevmd's back" "$log"
tap_ok $? "a later refresh ran (it saw HVO turned on by hand)"
tap_is "$(grep -c "already a hugetlbfs mount" "$log")" 1 "still logged once after a retry"
tap_is "$(ctl --json status | hv get F_POOLS.0.F_STATE)" converged "the pool itself is unaffected"
stop_daemon
tap_is "$daemon_status" 0 "hugevmd exits 0"
tap_done
