#!/bin/bash
# On the real kernel: MountUser=, MountGroup= and MountMinSize= (with
# MountSize= and MountMode=) applied to the hugetlbfs hugevmd mounts. With the
# 2048kB pool empty, min_size= cannot be reserved: the mount fails, and the
# pool's MOUNT says why; once the pool holds the pages the next refresh mounts
# it, and the kernel shows the options, the root directory's owner, group and
# mode, and the min_size= reservation in resv_hugepages. Small: 2 pages.
# Holds the real-kernel lock; stops the daemon, unmounts, and puts the pool
# (pages, overcommit) and the HVO sysctl back on every exit.
. "$top_srcdir/tests/integration/common.sh"

hp=/sys/kernel/mm/hugepages/hugepages-2048kB
hvo=/proc/sys/vm/hugetlb_optimize_vmemmap
[ "$(id -u)" = 0 ] || tap_skip_all_unless_ci "needs root to mount hugetlbfs and change the real pool"
[ -w $hp/nr_hugepages ] || tap_skip_all_unless_ci "$hp/nr_hugepages is not writable"
user=nobody group=nogroup
uid=$(id -u $user 2>/dev/null) || tap_skip_all_unless_ci "no user $user on this machine"
gid=$(getent group $group | cut -d: -f3)
[ -n "$gid" ] || tap_skip_all_unless_ci "no group $group on this machine"
command -v mountpoint >/dev/null || tap_skip_all_unless_ci "mountpoint (util-linux) is needed"

# One real-kernel user at a time: other tests measure exact counter deltas.
exec 9>/tmp/hugevm-realkernel.lock
flock -w 600 9 || tap_skip_all_unless_ci "could not get /tmp/hugevm-realkernel.lock within 600 s"

orig_pages=$(cat $hp/nr_hugepages)
orig_overcommit=$(cat $hp/nr_overcommit_hugepages)
orig_hvo=$(cat $hvo 2>/dev/null || echo -)
mnt=$tmp/hugepages-2M
restore() {
        local rc=$?
        stop_daemon   # first, or it would put its target back (and mount again)
        rm -f "$mnt/by-$user" 2>/dev/null
        local i=0
        while mountpoint -q "$mnt" && [ $i -lt 10 ]; do umount "$mnt" || sleep 0.2; i=$((i + 1)); done
        echo "$orig_overcommit" >$hp/nr_overcommit_hugepages
        echo "$orig_pages" >$hp/nr_hugepages
        [ "$orig_hvo" = - ] || echo "$orig_hvo" >$hvo
        [ "$(cat $hp/nr_hugepages)" = "$orig_pages" ] && ! mountpoint -q "$mnt" ||
                echo "# WARNING: could not put back nr_hugepages=$orig_pages or unmount $mnt" >&2
        cleanup
        exit $rc
}
trap restore EXIT
echo "# found: nr_hugepages=$orig_pages nr_overcommit_hugepages=$orig_overcommit hvo=$orig_hvo"

# An empty pool, no overcommit: nothing min_size= could reserve.
echo 0 >$hp/nr_overcommit_hugepages
echo 0 >$hp/nr_hugepages
[ "$(cat $hp/nr_hugepages)" = 0 ] || tap_skip_all_unless_ci "the 2048kB pool cannot be emptied (pages in use: $(cat $hp/nr_hugepages))"

pages=2 size_pages=4 mode=0750
min_bytes=$((pages * 2 * 1024 * 1024)) size_bytes=$((size_pages * 2 * 1024 * 1024))
root=/
write_config <<EOF
HVO=no
[Pool 2M]
Mount=$mnt
MountSize=$((size_bytes >> 20))M
MountMinSize=$((min_bytes >> 20))M
MountMode=$mode
MountUser=$user
MountGroup=$group
EOF
start_daemon
tap_ok $? "hugevmd starts on the real root with MountMinSize=$((min_bytes >> 20))M and an empty pool" ||
        { show_log; tap_done; exit 1; }

# status_mount FIELD: that field of the 2048kB pool's MOUNT at $mnt.
status_mount() {
        ctl --json status | "$PYTHON" -c '
import json, sys
doc = json.load(sys.stdin)
pool = [p for p in doc["pools"] if p["size"] == "2048kB"][0]
m = [m for m in pool["mounts"] if m["path"] == sys.argv[1]]
print(json.dumps(m[0].get(sys.argv[2], "MISSING")) if m else "NO-MOUNT")' "$mnt" "$1"
}
enomem=$("$PYTHON" -c 'import errno, os; print(os.strerror(errno.ENOMEM))')

# ---- min_size= more than the pool has: the mount fails, and says why ----------
# The attempt is logged: after that line, "not mounted" is a verdict.
poll_until 10 grep -q "Mount=$mnt: cannot mount hugetlbfs at $mnt: $enomem" "$log"
tap_ok $? "the mount attempt fails with $enomem, logged" || show_log 10
mountpoint -q "$mnt"
tap_ok $((! $?)) "min_size= of $pages pages with an empty pool: not mounted"
tap_is "$(status_mount reason)" "\"cannot mount hugetlbfs at $mnt: $enomem\"" "the MOUNT's reason: cannot mount ...: $enomem"
tap_is "$(status_mount options) $(status_mount configured)" "null true" "the MOUNT: configured, options null (not mounted)"

# ---- The pool grows: the next refresh mounts it ------------------------------
ctl set 2M $pages --runtime --wait --timeout 30 >"$tmp/out" 2>&1
tap_is $? 0 "set 2M $pages --wait: the real pool holds $pages pages"
poll_until 10 grep -q "Mounted hugetlbfs for 2048kB pages at $mnt" "$log"
tap_ok $? "a refresh retries the mount and it succeeds (logged)" || show_log 10
line=$(awk -v m="$mnt" '$2 == m && $3 == "hugetlbfs" {print $4}' /proc/mounts)
echo "# /proc/mounts options: $line"
# The kernel prints sizes in bytes or with a unit, depending on the version.
for opt in "uid=$uid" "gid=$gid" "mode=${mode#0}" pagesize=2M "size=($size_bytes|$((size_bytes >> 20))M)" \
           "min_size=($min_bytes|$((min_bytes >> 20))M)" nosuid nodev; do
        printf ',%s,' "$line" | grep -Eq ",$opt,"
        tap_ok $? "mount option $opt" || echo "#   want $opt in $line"
done
tap_is "$(stat -c '%u %g %a' "$mnt")" "$uid $gid ${mode#0}" \
        "the mount's root: owner $user ($uid), group $group ($gid), mode ${mode#0}"
tap_is "$(cat $hp/resv_hugepages)" $pages "resv_hugepages is $pages: min_size= reserved $min_bytes bytes of 2048kB pages"
tap_is "$(cat $hp/free_hugepages)" $pages "the reserved pages are still free ($pages)"
tap_is "$(status_mount reason) $(status_mount configured)" "\"\" true" "the MOUNT: configured, no reason"
if command -v setpriv >/dev/null; then
        setpriv --reuid "$uid" --regid "$gid" --clear-groups touch "$mnt/by-$user" 2>"$tmp/err"
        tap_ok $? "$user may create a file on the mount (it owns its root)" || sed 's/^/# /' "$tmp/err"
        tap_is "$(stat -c '%u' "$mnt/by-$user" 2>/dev/null)" "$uid" "the file belongs to $user"
        rm -f "$mnt/by-$user"
else
        tap_skip "setpriv (util-linux) is needed to act as $user"
        tap_skip "setpriv (util-linux) is needed to act as $user"
fi

stop_daemon
tap_is "$daemon_status" 0 "hugevmd exits 0"
umount "$mnt"
tap_ok $? "the mount comes off"
tap_is "$(cat $hp/resv_hugepages)" 0 "the reservation goes with it"
daemon_log_clean
tap_ok $? "no sanitizer report in the daemon log"
[ "$tap_failed" -eq 0 ] || show_log 30
tap_done
