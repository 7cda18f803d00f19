#!/bin/bash
# Real-kernel test of 'hugevmctl verify': map one real 2048kB hugepage from a
# temporary hugetlbfs mount, touch it and check its page frame, with no daemon
# running. Holds the real-kernel lock; puts back nr_hugepages and
# nr_overcommit_hugepages and unmounts the temporary mount on every exit,
# also when a case fails or hugevmctl crashes.
. "${top_srcdir:-.}/tests/lib.sh"

hp=/sys/kernel/mm/hugepages/hugepages-2048kB
ctl="${top_builddir:-.}/ctl/hugevmctl"

[ "$(id -u)" -eq 0 ] || tap_skip_all_unless_ci "needs root to change the real hugepage pools and mount hugetlbfs"
[ -d "$hp" ] || tap_skip_all_unless_ci "no 2048kB hstate ($hp)"
[ -w "$hp/nr_hugepages" ] || tap_skip_all_unless_ci "$hp/nr_hugepages is not writable"
[ -x "$ctl" ] || tap_skip_all_unless_ci "$ctl not built"
command -v setpriv >/dev/null || tap_skip_all_unless_ci "setpriv (util-linux) is needed"
command -v python3 >/dev/null || tap_skip_all_unless_ci "python3 is needed to check the JSON"

exec 9>/tmp/hugevm-realkernel.lock
flock -w 600 9 || tap_skip_all_unless_ci "could not get /tmp/hugevm-realkernel.lock within 600 s"

saved_nr=$(cat $hp/nr_hugepages)
saved_over=$(cat $hp/nr_overcommit_hugepages)
mnt=
tmp=$(mktemp -d /tmp/hugevm-verify.XXXXXX)
restore() {
        if [ -n "$mnt" ]; then
                umount "$mnt" 2>/dev/null || umount -l "$mnt" || echo "# WARNING: could not unmount $mnt" >&2
                rmdir "$mnt"
        fi
        echo "$saved_over" >$hp/nr_overcommit_hugepages
        echo "$saved_nr" >$hp/nr_hugepages
        [ "$(cat $hp/nr_hugepages)/$(cat $hp/nr_overcommit_hugepages)" = "$saved_nr/$saved_over" ] ||
                echo "# WARNING: could not restore nr_hugepages/overcommit: now $(cat $hp/nr_hugepages)/$(cat $hp/nr_overcommit_hugepages), was $saved_nr/$saved_over" >&2
        rm -rf "$tmp"
}
trap restore EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
echo "# found: nr_hugepages=$saved_nr nr_overcommit_hugepages=$saved_over"

# No daemon: verify must never need one.
export HUGEVM_SOCKET=$tmp/no-daemon.sock
# run ARGS...: hugevmctl with stdout/stderr in $tmp/out, $tmp/err; sets rc.
# A crash (rc > 128) is named; the EXIT trap still restores the pool.
run() {
        "$@" >"$tmp/out" 2>"$tmp/err"
        rc=$?
        [ $rc -le 128 ] || echo "# hugevmctl died of signal $((rc - 128)): $*"
        sed 's/^/#   /' "$tmp/err"
}

# hugetlbfs mounts for 2 MiB pages already there (libhugetlbfs takes the first
# in /proc/mounts for a size; then point it at ours with HUGETLB_PATH).
other_mounts() {
        awk '$3 == "hugetlbfs" { print $2 }' /proc/mounts | while read -r m; do
                [ "$(stat -f -c %S "$m" 2>/dev/null)" = 2097152 ] && [ "$m" != "$mnt" ] && echo "$m"
        done
}

# ---- No mount ---------------------------------------------------------------
if [ -z "$(other_mounts)" ]; then
        run "$ctl" verify 2M
        tap_is $rc 1 "verify 2M without a hugetlbfs mount exits 1"
        grep -q "no hugetlbfs mount for 2048kB pages.*mount -t hugetlbfs -o pagesize=2M none /dev/hugepages-2M" "$tmp/err"
        tap_ok $? "without a mount: says so and how to mount one"
else
        echo "# other 2 MiB hugetlbfs mounts exist ($(other_mounts | tr '\n' ' ')): no-mount case not run"
fi

mnt=$(mktemp -d /tmp/hugevm-verify-mnt.XXXXXX)
# mode=1777: the unprivileged case below creates its file there too.
mount -t hugetlbfs -o pagesize=2M,mode=1777 none "$mnt"
tap_ok $? "mount a temporary hugetlbfs (pagesize=2M) at $mnt" || { mnt_failed=1; rmdir "$mnt"; mnt=; }
[ -z "${mnt_failed:-}" ] || { tap_done; exit 1; }
grep -q " $mnt hugetlbfs " /proc/mounts
tap_ok $? "the temporary mount is in /proc/mounts (where libhugetlbfs finds it)"
if [ -n "$(other_mounts)" ]; then
        export HUGETLB_PATH=$mnt
        echo "# other 2 MiB mounts exist: HUGETLB_PATH=$mnt"
fi

# ---- No free page -----------------------------------------------------------
echo 0 >$hp/nr_overcommit_hugepages
echo 0 >$hp/nr_hugepages
tap_is "$(cat $hp/free_hugepages)" 0 "pool emptied: free_hugepages is 0"
run "$ctl" verify 2M
tap_is $rc 1 "verify 2M with no free page exits 1"
grep -q "no free page in the 2048kB pool: free_hugepages is 0.*hugevmctl set 2M" "$tmp/err"
tap_ok $? "no free page: names free_hugepages 0 and how to grow (hugevmctl set)"

# ---- A usable pool ----------------------------------------------------------
want=$(($(cat $hp/nr_hugepages) + 2))
echo $want >$hp/nr_hugepages
tap_is "$(cat $hp/free_hugepages)" 2 "pool grown by 2 pages"
run "$ctl" verify 2M
tap_is $rc 0 "verify 2M exits 0"
grep -q "^2048kB: verified: mapped 1 hugepage at PFN 0x[0-9a-f]* via $mnt (huge, compound head, 512 base pages)$" "$tmp/out"
tap_ok $? "verify 2M prints 'verified' with the PFN and the mount"
sed 's/^/# /' "$tmp/out"
run "$ctl" verify 2048kB --json
tap_is $rc 0 "verify 2048kB --json exits 0"
python3 - "$tmp/out" "$mnt" <<'EOF'
import json, sys
o = json.load(open(sys.argv[1]))
assert o["verified"] is True and o["size"] == "2048kB" and o["path"] == sys.argv[2], o
assert isinstance(o["pfn"], int) and o["pfn"] > 0 and o["pfn"] % 512 == 0, o
assert o["pfn_hex"] == hex(o["pfn"]) and o["last_pfn"] == o["pfn"] + 511, o
assert o["flags"] & (1 << 17) and o["flags"] & (1 << 15) and o["last_flags"] & (1 << 16), o
EOF
tap_ok $? "--json is valid JSON: verified, the PFN aligned to 512, head and tail flags"
tap_is "$(cat $hp/free_hugepages)/$(cat $hp/resv_hugepages)" 2/0 "verify gave its page back (2 free, none reserved)"

# ---- Sizes ------------------------------------------------------------------
# 1G if this machine lacks it; else the first of a few it surely lacks.
absent=
for s in 1G 16M 4M 32M 64K; do
        kb=$(python3 -c "print({'G': 1 << 20, 'M': 1 << 10, 'K': 1}['$s'[-1]] * int('$s'[:-1]))")
        [ -d "/sys/kernel/mm/hugepages/hugepages-${kb}kB" ] || { absent=$s; break; }
done
run "$ctl" verify $absent
tap_is $rc 1 "verify $absent (no such hstate here) exits 1, as set does"
grep -q "$absent is not a hugepage size on this machine (available: .*2048kB" "$tmp/err"
tap_ok $? "verify $absent: names the size and lists the sizes there are"
run "$ctl" verify abc
tap_is $rc 2 "verify abc exits 2"
grep -q "invalid page size 'abc'" "$tmp/err"
tap_ok $? "verify abc: names 'abc'"

# ---- Unprivileged -----------------------------------------------------------
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
if as_nobody test -x "$ctl"; then
        run as_nobody "$ctl" verify 2M
        tap_is $rc 1 "verify 2M as nobody exits 1 (the frame is not checked)"
        grep -q "the mapping and the touch worked, but the page frame cannot be checked.*CAP_SYS_ADMIN" "$tmp/err"
        tap_ok $? "as nobody: mapping and touch worked, the frame check needs CAP_SYS_ADMIN"
        run as_nobody "$ctl" --json verify 2M
        python3 -c 'import json, sys; o = json.load(open(sys.argv[1])); assert (o["reason"], o["mapped"], o["touched"], o["verified"]) == ("pfn-hidden", True, True, False), o' "$tmp/out"
        tap_ok $? "as nobody, --json: reason pfn-hidden, mapped and touched"
        chmod 0755 "$mnt"
        run as_nobody "$ctl" verify 2M
        tap_is $rc 1 "verify 2M as nobody on a mount nobody cannot write exits 1"
        grep -q "the hugetlbfs mount $mnt serves 2048kB pages but this user cannot create files in it" "$tmp/err"
        tap_ok $? "as nobody on a mode 0755 mount: names the mount and why libhugetlbfs skips it"
        chmod 1777 "$mnt"
else
        echo "# nobody cannot run $ctl (build tree not readable): unprivileged case not run"
fi
tap_is "$(cat $hp/free_hugepages)" 2 "no page left in use after every verify"

tap_done
