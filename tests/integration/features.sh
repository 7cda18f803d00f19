#!/bin/bash
# ConvergedFile= and FeatureFile= (daemon/api/nodefeatures.c) on the fake
# kernel: the converged file lists the managed pools per node once they
# converged, is rewritten only when that changes, never mid-resize (a slow
# resize: the fake's "delay") and not while a pool is degraded; the Node
# Feature Discovery file says sizes, HVO, pages per node and saved bytes and
# follows the pools.
. "$top_srcdir/tests/integration/common.sh"

make_fakeroot
conv=$tmp/run/converged
nfd=$tmp/run/nfd-features
write_config <<EOF
HVO=yes
ConvergedFile=$conv
FeatureFile=$nfd
[Pool 2M]
Node0.Pages=2
Node1.Pages=2
EOF
start_daemon
tap_ok $? "hugevmd starts" || { show_log; tap_done; exit 1; }
ctl wait --timeout 10 >/dev/null 2>&1
tap_is $? 0 "the pool converges"

node_pages() { cat "$root/sys/devices/system/node/node$1/hugepages/hugepages-2048kB/nr_hugepages"; }
expected() { printf '2048kB 0 %s\n2048kB 1 %s' "$(node_pages 0)" "$(node_pages 1)"; }
inode() { stat -c %i "$conv" 2>/dev/null; }

poll_until 5 test -f "$conv"
tap_is "$(cat "$conv" 2>&1)" "$(expected)" "the converged file lists the pool per node (SIZE NODE PAGES)"
tap_is "$(stat -c %a "$conv")" 644 "... readable by all (0644)"
grep -qx 'hugevm.hugepage-sizes=2048kB_1048576kB' "$nfd" && grep -qx 'hugevm.hvo=true' "$nfd" &&
        grep -qx "hugevm.pages-2048kB-node0=$(node_pages 0)" "$nfd" && grep -qx "hugevm.pages-2048kB-node1=$(node_pages 1)" "$nfd" &&
        grep -qx 'hugevm.pages-1048576kB-node1=0' "$nfd" && grep -Eqx 'hugevm.saved-bytes=[1-9][0-9]*' "$nfd"
tap_ok $? "the NFD feature file: sizes, HVO on, pages per size and node, saved bytes" || sed 's/^/#   /' "$nfd"
# NFD's format: key=value lines; label values only [A-Za-z0-9_.-], at most 63.
bad=$(grep -Ev '^[A-Za-z0-9.-]{1,63}=[A-Za-z0-9_.-]{0,63}$' "$nfd")
tap_is "$bad" "" "every line of the feature file is a valid NFD key=value label"
tap_is "$(ls -a "$tmp/run" | grep -c '^\.converged\|^\.nfd')" 0 "no temp file is left beside them"

# ---- unchanged: not rewritten ----------------------------------------------
ino=$(inode) nfd_ino=$(stat -c %i "$nfd")
sleep 2.5   # two refreshes at least (RefreshSec=1)
ctl status >/dev/null 2>&1
tap_is "$(inode) $(stat -c %i "$nfd")" "$ino $nfd_ino" "neither file is rewritten while nothing changes"
stop_daemon
start_daemon
ctl wait --timeout 10 >/dev/null 2>&1
sleep 1.5
tap_is "$(inode)" "$ino" "a restarted hugevmd does not rewrite an unchanged converged file"

# ---- a slow resize: no write until it converged -----------------------------
# Both nodes grow, one job after the other, each page taking 40 ms: node 0
# reaches its target while node 1 is still short (the pool is converging).
fk_ctl "$root" delay 40000
write_config <<EOF
HVO=yes
ConvergedFile=$conv
FeatureFile=$nfd
[Pool 2M]
Node0.Pages=22
Node1.Pages=22
EOF
samples=$tmp/samples
# Sample the file's inode (a rename gives a new one) and the nodes every 20 ms.
( for _ in $(seq 1 400); do
        echo "$(inode) $(node_pages 0) $(node_pages 1)"
        sleep 0.02
  done ) >"$samples" &
sampler=$!
extra_pids="$sampler"
ctl reload >/dev/null 2>&1
ctl wait --timeout 30 >/dev/null 2>&1
tap_is $? 0 "the slow resize of both nodes to 22 pages converges"
sleep 0.5
kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null; extra_pids=
fk_ctl "$root" delay 0
mid=$(awk -v ino="$ino" '$1 == ino && !($2 == 2 && $3 == 2) && !($2 == 22 && $3 == 22)' "$samples" | wc -l)
early=$(awk -v ino="$ino" '$1 != ino && !($2 == 22 && $3 == 22)' "$samples" | wc -l)
echo "# nodes while sampled: $(awk '{print $2 "+" $3}' "$samples" | uniq | tr '\n' ' ')"
[ "$mid" -gt 0 ]
tap_ok $? "the resize was seen mid-way ($mid samples with one node converged and the other not)"
tap_is "$early" 0 "the converged file was not rewritten before both nodes reached 22 pages"
tap_ok $( ([ "$(inode)" != "$ino" ] && [ "$(cat "$conv")" = "$(expected)" ]) && echo 0 || echo 1) \
        "... and once they had, it was rewritten with the new pages ($(tr '\n' ' ' <"$conv"))"
grep -qx "hugevm.pages-2048kB-node0=$(node_pages 0)" "$nfd"
tap_ok $? "the feature file follows the new pages too"

# ---- a change that cannot converge: no rewrite --------------------------------
ino=$(inode)
fk_ctl "$root" memory 1 2048kB 0   # node 1 has no room for one more page
ctl set 2M 60 --node 1 --runtime --wait --fail-fast --timeout 10 >/dev/null 2>&1
tap_is $? 4 "node 1 cannot reach 60 pages: the pool degrades (exit 4)"
sleep 2.5
tap_is "$(inode)" "$ino" "the converged file is not rewritten while a pool is degraded"

# ---- reload: ConvergedFile= off stops the writes --------------------------------
ctl revert >/dev/null 2>&1
fk_ctl "$root" memory 1 2048kB 100
write_config <<EOF
HVO=yes
FeatureFile=$nfd
[Pool 2M]
Pages=6
EOF
ctl reload >/dev/null 2>&1
ctl wait --timeout 10 >/dev/null 2>&1
rm -f "$conv"
sleep 1.5
tap_ok $([ ! -e "$conv" ] && echo 0 || echo 1) "without ConvergedFile= (reloaded) no converged file is written"

# ---- the keys' checks --------------------------------------------------------------
printf '[Daemon]\nConvergedFile=relative/path\nFeatureFile=also-relative\n' >"$tmp/bad.conf"
out=$("$HUGEVMD" --root "$root" --check-config -c "$tmp/bad.conf" 2>&1)
tap_ok $([ $? != 0 ] && [[ $out == *"ConvergedFile=relative/path: needs an absolute path"* ]] &&
        [[ $out == *"FeatureFile=also-relative: needs an absolute path"* ]] && echo 0 || echo 1) \
        "relative ConvergedFile= and FeatureFile= are refused"

daemon_log_clean
tap_ok $? "no sanitizer report"
tap_done
