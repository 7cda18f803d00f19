#!/bin/sh
# VM tier, boot-plan stage, first boot (HVO off at boot, no pool): hugevmctl
# boot-plan prints the kernel command line for bootplan.conf's pools. run.sh
# boots the guest again with that line (adopt.sh). Reported to the host in
# /tmp/vm-data: the line, and MemTotal of this boot (no page optimized yet).
. /vm/lib.sh
. /vm/vmlib.sh

memtotal_kb=$(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo)
is "$(cat $hp_dir/hugepages-1048576kB/nr_hugepages) $(cat $hp_dir/hugepages-2048kB/nr_hugepages) $(cat /proc/sys/vm/hugetlb_optimize_vmemmap)" \
        "0 0 0" "booted without pools and with HVO off"
mkdir -p /etc/hugevmd /run/hugevmd /var/lib/hugevmd
cp /vm/bootplan.conf /etc/hugevmd/hugevmd.conf
start_hugevmd
ok $? "hugevmd answers status"
ctl --json boot-plan >/tmp/plan.json 2>/tmp/plan.err; rc=$?
say "boot-plan: $(jq -c . /tmp/plan.json) $(cat /tmp/plan.err)"
is "$rc" 5 "boot-plan exits 5: the running command line lacks the plan"
# The line as Documentation/admin-guide/kernel-parameters.txt spells it for
# these pools: per-node hugepages= after each hugepagesz=, HVO at boot.
is "$(jq -r .cmdline /tmp/plan.json)" \
        "hugepagesz=1G hugepages=0:1,1:1 hugepagesz=2M hugepages=0:64,1:32 hugetlb_free_vmemmap=on" \
        "the planned line: both sizes' per-node counts and hugetlb_free_vmemmap=on"
is "$(jq -r '.differences | length' /tmp/plan.json)" 3 "three differences from /proc/cmdline: two sizes missing, HVO off"
{
        echo "cmdline=$(jq -r .cmdline /tmp/plan.json)"
        echo "memtotal_kb=$memtotal_kb"
} >/tmp/vm-data
tap_done
