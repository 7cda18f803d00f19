#!/bin/bash
# hugevmctl boot-plan on the fake kernel: the kernel command line for the
# declared pools (checked against one built here from the config written
# here), its comparison with the fake's /proc/cmdline (cmdline= setting),
# --apply for grub (/etc/default/grub.d/hugevm.cfg) and for kernel-install
# (/etc/kernel/cmdline, other parameters kept) under a temp --root, the exit
# codes (0 has the plan, 5 lacks it, 3 no daemon, 1 cannot tell or write);
# and hugevmd adopting pools that exist at boot: no write when the target is
# met, pages optimized at boot counted as saved, exactly.
. "$top_srcdir/tests/integration/common.sh"

call() { hv call "$sock" "$@"; }
N0=2 N1=1 P2M=4
PLAN="hugepagesz=1G hugepages=0:$N0,1:$N1 hugepagesz=2M hugepages=$P2M hugetlb_free_vmemmap=on"
BASE="BOOT_IMAGE=/boot/vmlinuz-6.1.0-28-amd64 root=/dev/vda1 ro quiet"

# ---- A machine booted with an older line: node 1 gets no 1 GiB page at runtime
make_fakeroot -s mem=4G -s hugemem=3G -s hvo=1 -s compact=noop -s pool.1G.0=1 \
        -s "cmdline=$BASE hugepagesz=1G hugepages=0:1 hugetlb_free_vmemmap=off"
fk_ctl "$root" fragment 1 1048576kB 0
write_config <<EOF
HVO=yes
[Pool 1G]
Node0.Pages=$N0
Node1.Pages=$N1
[Pool 2M]
Pages=$P2M
EOF

ctl --root "$root" boot-plan >"$tmp/out" 2>"$tmp/err"
tap_is $? 3 "boot-plan without hugevmd exits 3"
grep -q "needs hugevmd's declared pools" "$tmp/err"
tap_ok $? "... and says hugevmd is needed" || sed 's/^/#   /' "$tmp/err"

start_daemon
tap_ok $? "hugevmd starts" || { show_log; tap_done; exit 1; }
converged2m() { call M_POOL_GET '{@F_SIZE:"2M"}' | hv get F_RESULT.F_STATE | grep -qx "$P_STATE_CONVERGED"; }
poll_until 10 converged2m
tap_ok $? "the 2M pool converges at runtime"

ctl --root "$root" boot-plan >"$tmp/out" 2>"$tmp/err"
tap_is $? 5 "boot-plan exits 5 when the running line lacks the plan" || sed 's/^/#   /' "$tmp/out" "$tmp/err"
tap_is "$(sed -n 2p "$tmp/out" | sed 's/^  //')" "$PLAN" "the planned line is the config's targets, largest size first, with HVO on"
grep -qx "  hugepagesz=1G: hugepages=0:1 now, the plan has hugepages=0:$N0,1:$N1" "$tmp/out"
tap_ok $? "a different hugepages= for 1G is named with both values" || sed 's/^/#   /' "$tmp/out"
grep -qx "  hugepagesz=2M hugepages=$P2M: missing" "$tmp/out"
tap_ok $? "a size missing from /proc/cmdline is named"
grep -qx "  hugetlb_free_vmemmap=on: off now" "$tmp/out"
tap_ok $? "hugetlb_free_vmemmap=off on the running line is named"
grep -Eq "^  1048576kB: needs it \((converging|degraded)" "$tmp/out"
tap_ok $? "the 1G pool runtime cannot fill needs it, with its state"
grep -q "^  2048kB: does not need it" "$tmp/out"
tap_ok $? "the converged 2M pool does not need it"
ctl --root "$root" --json boot-plan >"$tmp/json"
tap_is "$(hv get matches cmdline differences.2 pools.0.needs_boot pools.1.needs_boot <"$tmp/json" | tr '\n' '|')" \
        "false|$PLAN|hugetlb_free_vmemmap=on: off now|true|false|" "--json: matches, the line, the differences, which pools need it"
ctl --root "$root" boot-plan --wait >/dev/null 2>&1
tap_is $? 2 "--wait does not go with boot-plan (usage, exit 2)"
ctl --root "$root" status --apply >/dev/null 2>&1
tap_is $? 2 "--apply only goes with boot-plan"

# ---- --apply: grub ------------------------------------------------------------
g=$tmp/grub
mkdir -p "$g/etc/default" "$g/proc" && cp "$root/proc/cmdline" "$g/proc/cmdline" && echo 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"' >"$g/etc/default/grub"
ctl --root "$g" boot-plan --apply >"$tmp/out" 2>"$tmp/err"
tap_is $? 5 "--apply still exits 5: the running kernel lacks the plan until the reboot" || sed 's/^/#   /' "$tmp/err"
tap_is "$(grep -v '^#' "$g/etc/default/grub.d/hugevm.cfg")" "GRUB_CMDLINE_LINUX_DEFAULT=\"\$GRUB_CMDLINE_LINUX_DEFAULT $PLAN\"" \
        "grub: the snippet appends the plan to GRUB_CMDLINE_LINUX_DEFAULT"
# As grub-mkconfig does: /etc/default/grub, then each /etc/default/grub.d/*.cfg.
got=$(sh -c '. "$1/etc/default/grub"; for x in "$1"/etc/default/grub.d/*.cfg; do . "$x"; done; echo "$GRUB_CMDLINE_LINUX_DEFAULT"' sh "$g")
tap_is "$got" "quiet $PLAN" "grub: sourced after /etc/default/grub, the line is the old one plus the plan"
tap_is "$(stat -c %a "$g/etc/default/grub.d/hugevm.cfg")" 644 "grub: the snippet is 0644"
tap_is "$(cd "$g" && find . -type f | sort | tr '\n' ' ')" "./etc/default/grub ./etc/default/grub.d/hugevm.cfg ./proc/cmdline " \
        "grub: nothing else written (no temp file left)"
grep -q "update-grub" "$tmp/out"
tap_ok $? "grub: says to run update-grub"
ctl --root "$g" boot-plan --apply >"$tmp/out" 2>&1
grep -q "^Already up to date: $g/etc/default/grub.d/hugevm.cfg" "$tmp/out"
tap_ok $? "grub: a second --apply leaves the snippet alone" || sed 's/^/#   /' "$tmp/out"

# A hugepages= for a planned size already on grub's line would come first and
# win (the kernel takes the first): refused, where it is said, nothing written.
before=$(cat "$g/etc/default/grub.d/hugevm.cfg")
echo 'GRUB_CMDLINE_LINUX="console=ttyS0 hugepagesz=1G hugepages=2 hugepagesz=16G hugepages=1"' >>"$g/etc/default/grub"
printf "GRUB_CMDLINE_LINUX_DEFAULT='quiet hugepages=128'\n" >"$g/etc/default/grub.d/50-cloudimg.cfg"
ctl --root "$g" boot-plan --apply >/dev/null 2>"$tmp/err"
tap_is $? 1 "grub: a planned size already in GRUB_CMDLINE_LINUX or a grub.d snippet: exit 1"
grep -q "^hugevmctl: $g/etc/default/grub sets hugepagesz=1G in GRUB_CMDLINE_LINUX: the kernel takes the first hugepages= of a size" "$tmp/err"
tap_ok $? "... naming /etc/default/grub, the parameter and the variable" || sed 's/^/#   /' "$tmp/err"
grep -q "$g/etc/default/grub.d/50-cloudimg.cfg sets hugepages=128 in GRUB_CMDLINE_LINUX_DEFAULT" "$tmp/err"
tap_ok $? "... and the snippet's default-size hugepages= (2M is the default size and planned)" || sed 's/^/#   /' "$tmp/err"
tap_is "$(grep -c 16G "$tmp/err")" 0 "... but not hugepagesz=16G, which the plan leaves alone"
tap_is "$(cat "$g/etc/default/grub.d/hugevm.cfg")" "$before" "... and the snippet is unchanged"
sed -i '/hugepagesz=1G/d' "$g/etc/default/grub" && rm "$g/etc/default/grub.d/50-cloudimg.cfg"

# ---- --apply: kernel-install (/etc/kernel/cmdline) ---------------------------
k=$tmp/ki
mkdir -p "$k/etc/kernel" "$k/proc" && cp "$root/proc/cmdline" "$k/proc/cmdline"
echo "hugepages=64 root=UUID=0a1b ro hugepagesz=1G hugepages=3 quiet hugepagesz=16G hugepages=0:1 hugetlb_free_vmemmap=off splash -- single" \
        >"$k/etc/kernel/cmdline"
ctl --root "$k" boot-plan --apply >"$tmp/out" 2>"$tmp/err"
tap_is $? 5 "kernel-install: --apply exits 5" || sed 's/^/#   /' "$tmp/err"
tap_is "$(cat "$k/etc/kernel/cmdline")" "root=UUID=0a1b ro quiet hugepagesz=16G hugepages=0:1 splash $PLAN -- single" \
        "kernel-install: our parameters replaced, the others kept in order, the plan before --"
grep -q "kernel-install add" "$tmp/out"
tap_ok $? "kernel-install: says to run kernel-install"
rm "$k/etc/kernel/cmdline" && mkdir -p "$k/boot/loader/entries"
ctl --root "$k" boot-plan --apply >/dev/null 2>&1
tap_is "$(cat "$k/etc/kernel/cmdline")" "root=/dev/vda1 ro quiet $PLAN" \
        "systemd-boot without /etc/kernel/cmdline: the running line, without BOOT_IMAGE= and ours"

# ---- Cannot tell the boot loader: nothing written, exit 1 ---------------------
mkdir -p "$k/etc/default" && touch "$k/etc/default/grub"
before=$(cd "$k" && find . | sort; cat "$k/etc/kernel/cmdline")
ctl --root "$k" boot-plan --apply >/dev/null 2>"$tmp/err"
tap_is $? 1 "grub and kernel-install both set up: exit 1"
grep -q "cannot tell the boot loader" "$tmp/err"
tap_ok $? "... saying it cannot tell the boot loader"
tap_is "$(cd "$k" && find . | sort; cat "$k/etc/kernel/cmdline")" "$before" "... and nothing is written"
n=$tmp/none
mkdir -p "$n/proc" "$n/etc/kernel/postinst.d" "$n/etc/default" && cp "$root/proc/cmdline" "$n/proc/cmdline"
ctl --root "$n" boot-plan --apply >/dev/null 2>&1
tap_is "$?|$(cd "$n" && find . -type f | sort | tr '\n' ' ')" "1|./proc/cmdline " "no boot loader found: exit 1, nothing written"

stop_daemon
fk_stop "$root"

# ---- Booted with the plan: hugevmd adopts the pools without a write ----------
# A machine booted with the 1G part of the plan: its pages are there, optimized
# at boot (HVO on), and every write of a pool file would fail (EIO).
make_fakeroot -s mem=4G -s hugemem=3G -s hvo=1 -s pool.1G.0=$N0 -s pool.1G.1=$N1 \
        -s "cmdline=$BASE hugepagesz=1G hugepages=0:$N0,1:$N1 hugetlb_free_vmemmap=on"
write_config <<EOF
HVO=yes
[Pool 1G]
Node0.Pages=$N0
Node1.Pages=$N1
EOF
f_all=/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages
f_n0=/sys/devices/system/node/node0/hugepages/hugepages-1048576kB/nr_hugepages
f_n1=/sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages
for f in $f_all $f_n0 $f_n1; do fk_ctl "$root" fail write "$f" EIO 1; done
start_daemon
tap_ok $? "hugevmd starts on the booted pools" || { show_log; tap_done; exit 1; }
ctl wait --timeout 5 >/dev/null 2>&1
tap_is $? 0 "the pools are converged at once"
sleep 1.5 # a refresh (RefreshSec=1) passes: still nothing written
r=$(call M_POOL_GET '{@F_SIZE:"1G"}')
tap_is "$(printf '%s' "$r" | hv get F_RESULT.F_STATE F_RESULT.F_OPTIMIZED_PAGES F_RESULT.F_SAVED_EXACT F_RESULT.F_SAVED_BYTES | tr '\n' ' ')" \
        "$P_STATE_CONVERGED $((N0 + N1)) true $(((N0 + N1) * 4095 * 4096)) " \
        "the booted pages are counted optimized and saved, exactly (measured)"
tap_is "$(fk_state "$root" 1048576kB.node0.nr) $(fk_state "$root" 1048576kB.node1.nr)" "$N0 $N1" "the pools are as booted"
grep -Eq "EIO|Input/output error" "$log"
tap_ok $((!$?)) "hugevmd hit no armed write fault" || show_log
for f in $f_all $f_n0 $f_n1; do
        tap_is "$(pyw "$root$f" "$(cat "$root$f")")" EIO "the fault armed on $f is still pending: hugevmd wrote nothing there"
done
ctl --root "$root" boot-plan >"$tmp/out" 2>"$tmp/err"
tap_is $? 0 "boot-plan exits 0 when the running line has the plan" || sed 's/^/#   /' "$tmp/out" "$tmp/err"
grep -qx "The running kernel's command line has the plan." "$tmp/out"
tap_ok $? "... and says so"
grep -q "^  1048576kB: does not need it" "$tmp/out"
tap_ok $? "... the adopted pool does not need it"

daemon_log_clean
tap_ok $? "no sanitizer report in the daemon log"
tap_done
