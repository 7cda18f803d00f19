#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The guest tier's cases, run inside the booted Debian 12 guest by
# guest-cases.service (after multi-user.target) with systemd as PID 1
# and the hugevm .deb installed before boot. TAP goes to the second serial
# port (/dev/ttyS1), between HUGEVM-TAP-BEGIN and HUGEVM-TAP-END rc=N; the
# unit powers the guest off when it ends. Diagnostics are "#" lines.
#
# The guest (see run.sh): node 0 of 1280 MiB, node 1 of 256 MiB;
# /etc/hugevmd/hugevmd.conf with [Pool 2M] Node0.Pages=32, Node1.Pages=8,
# ConvergedFile=/run/hugevmd/converged, FeatureFile=/run/hugevmd/nfd-features;
# consumer.service and a stand-in kubelet.service (the shipped drop-in
# 10-hugevm.conf), hugevm-kubelet-restart.path enabled.
set -u
exec >/dev/ttyS1 2>&1
echo HUGEVM-TAP-BEGIN
export SYSTEMD_PAGER= SYSTEMD_COLORS=0 LC_ALL=C.UTF-8
n=0 failures=0
# Each case ends with the guest's uptime, for the timings.
up() { cut -d' ' -f1 /proc/uptime; }
ok()   { n=$((n + 1)); echo "ok $n - $* [$(up) s]"; }
fail() { n=$((n + 1)); echo "not ok $n - $* [$(up) s]"; failures=$((failures + 1)); }
note() { echo "# $*"; }
# check DESCRIPTION COMMAND...: the command's output is shown only on failure.
check() {
        local what=$1 check_out
        shift
        if check_out=$("$@" 2>&1); then ok "$what"; else fail "$what"; printf '%s\n' "$check_out" | tail -n 15 | sed 's/^/#   /'; fi
}
# wait_for SECONDS 'CONDITION': poll every 0.2 s until CONDITION (eval'ed
# each time) holds; 1 if it did not in time.
wait_for() {
        local deadline=$((SECONDS + $1))
        until eval "$2" >/dev/null 2>&1; do
                [ $SECONDS -lt $deadline ] || return 1
                sleep 0.2
        done
}
prop() { systemctl show -p "$2" --value "$1"; }
N0=/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages
N1=/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages
mono_now() { awk '{ printf "%d\n", $1 * 1000000 }' /proc/uptime; }
starts() { wc -l </var/lib/kubelet-standin/starts; }
finish() {
        echo "1..$n"
        echo "HUGEVM-TAP-END rc=$([ $failures = 0 ] && echo 0 || echo 1)"
        sync
}
trap finish EXIT

# The boot first: every start job done but this unit's and those of the
# targets that wait for it (bounded), else say which are stuck.
other_jobs() {
        systemctl list-jobs --no-legend 2>/dev/null | awk '{print $2}' |
                grep -vxE 'guest-cases.service|multi-user.target|graphical.target|systemd-update-utmp-runlevel.service'
}
if wait_for 120 '[ -z "$(other_jobs)" ]'; then
        ok "the boot finished (no start job left but this one's)"
else
        fail "the boot finished within 120 s (system $(systemctl is-system-running 2>&1))"
        systemctl list-jobs --no-pager 2>&1 | sed 's/^/#   job: /'
        systemctl --failed --no-legend --no-pager 2>&1 | sed 's/^/#   failed: /'
        journalctl -b -u hugevmd -u hugevmd-wait --no-pager 2>&1 | tail -n 20 | sed 's/^/#   journal: /'
fi
note "guest: $(uname -r), systemd $(systemctl --version | head -n1 | awk '{print $2}'), $(nproc) CPUs," \
     "uptime $(cut -d' ' -f1 /proc/uptime) s, system $(systemctl is-system-running 2>&1)"

# ---- boot ------------------------------------------------------------------------
check "hugevmd.service is active after boot" [ "$(systemctl is-active hugevmd.service)" = active ]
check "hugevmd.socket is active" [ "$(systemctl is-active hugevmd.socket)" = active ]
check "hugevmd is Type=notify and its main process is hugevmd" \
        sh -c '[ "$(systemctl show -p Type --value hugevmd)" = notify ] && [ "$(cat /proc/$(systemctl show -p MainPID --value hugevmd)/comm)" = hugevmd ]'
# systemd runs a Type=notify unit's start job until READY=1: active (not
# activating) with a start time is READY=1 seen.
check "READY=1: the start job finished (ActiveState=active, SubState=running)" \
        sh -c '[ "$(systemctl show -p ActiveState --value hugevmd)" = active ] && [ "$(systemctl show -p SubState --value hugevmd)" = running ]'
status=$(prop hugevmd StatusText)
note "StatusText=$status"
check "STATUS= text says the pools converged" eval '[[ $status == "all pools converged, "*" saved" ]]'
check "pools at the config's targets (node0 32, node1 8)" [ "$(cat $N0) $(cat $N1)" = "32 8" ]

# hugevm-pools.target only after the pools converged: hugevmd logs the
# convergence (and writes the converged file) before the wait service ends.
t_target=$(prop hugevm-pools.target ActiveEnterTimestampMonotonic)
t_wait=$(prop hugevmd-wait.service ActiveEnterTimestampMonotonic)
t_conv=$(journalctl -b -u hugevmd -o json --output-fields=MESSAGE | jq -r 'select(.MESSAGE | test("pool converged")) | .__MONOTONIC_TIMESTAMP' | tail -n1)
note "monotonic: pools converged (journal) ${t_conv:-?}, hugevmd-wait ${t_wait}, hugevm-pools.target $t_target"
check "hugevm-pools.target is active" [ "$(systemctl is-active hugevm-pools.target)" = active ]
check "hugevm-pools.target reached after the journal says the pools converged" \
        eval '[ -n "$t_conv" ] && [ "$t_target" -gt 0 ] && [ "$t_target" -ge "$t_conv" ] && [ "$t_target" -ge "$t_wait" ]'
t_consumer=$(prop consumer.service ExecMainStartTimestampMonotonic)
check "consumer (Wants=+After=hugevm-pools.target) started after the target" \
        eval '[ "$t_consumer" -ge "$t_target" ] && [ "$t_target" -gt 0 ]'
check "... and found the pools converged when it started (32 8)" [ "$(cat /run/consumer.pages 2>&1)" = "32 8" ]

# journald: the structured fields hugevmd sets (daemon/util/log.c).
journalctl -b -u hugevmd -o json >/tmp/hugevmd.json
check "journald carries SYSLOG_IDENTIFIER=hugevmd and PRIORITY" \
        sh -c 'jq -e -s "any(.[]; .SYSLOG_IDENTIFIER == \"hugevmd\" and (.PRIORITY | length) > 0)" /tmp/hugevmd.json'
check "journald carries SIZE= and PAGES= on pool messages" \
        sh -c 'jq -e -s "any(.[]; .SIZE == \"2048kB\" and .PAGES != null)" /tmp/hugevmd.json'
note "e.g. $(jq -c -s '[.[] | select(.SIZE != null)][0] | {MESSAGE, SIZE, NODE, PAGES}' /tmp/hugevmd.json)"

# ---- Kubernetes nodes: the stand-in kubelet restarts once per converged change ---
note "converged file at boot: $(tr '\n' ';' </run/hugevmd/converged 2>&1)"
check "converged file lists the managed pool per node" [ "$(cat /run/hugevmd/converged 2>&1)" = $'2048kB 0 32\n2048kB 1 8' ]
check "NFD feature file: sizes, HVO on, pages per node, saved bytes" sh -c '
        f=/run/hugevmd/nfd-features
        grep -Eqx "hugevm.hugepage-sizes=2048kB(_1048576kB)?" $f && grep -qx "hugevm.hvo=true" $f &&
        grep -qx "hugevm.pages-2048kB-node0=32" $f && grep -qx "hugevm.pages-2048kB-node1=8" $f &&
        grep -Eqx "hugevm.saved-bytes=[1-9][0-9]*" $f || { cat $f; exit 1; }'
check "kubelet (ordered after hugevm-pools.target) started once at boot" [ "$(starts)" = 1 ]
check "... with the converged pools (32 8)" [ "$(tail -n1 /var/lib/kubelet-standin/starts)" = "32 8" ]
expect=1
for pages in 48 64 40; do
        out=$(hugevmctl set 2M "$pages" -n 0 --wait --timeout 60 2>&1); rc=$?
        expect=$((expect + 1))
        wait_for 30 '[ "$(starts)" -ge $expect ]'
        check "set node0 to $pages (converges, exit $rc): kubelet restarted, start $(starts) of $expect" \
                [ $rc = 0 ] && [ "$(starts)" = $expect ]
        check "... and it saw the converged pool ($pages 8), not a pool mid-resize" \
                [ "$(tail -n1 /var/lib/kubelet-standin/starts)" = "$pages 8" ]
done
before=$(stat -c %Y.%i /run/hugevmd/converged)
# Node 1 has 256 MiB: 400 pages of 2 MiB cannot converge (the pool degrades).
out=$(hugevmctl set 2M 400 -n 1 --wait --fail-fast --timeout 60 2>&1); rc=$?
note "set node1 to 400: exit $rc: $(printf '%s' "$out" | tail -n1)"
check "set node1 to 400 does not converge (exit 4), node1 holds $(cat $N1)" [ $rc = 4 ]
sleep 6   # three refreshes (RefreshSec=2)
check "journald carries NODE= on the node's shortfall (SIZE=2048kB NODE=1 PAGES=...)" sh -c '
        journalctl -b -u hugevmd -o json | jq -e -s "any(.[]; .SIZE == \"2048kB\" and .NODE == \"1\" and .PAGES != null)"'
check "the converged file was not rewritten meanwhile" [ "$(stat -c %Y.%i /run/hugevmd/converged)" = "$before" ]
check "kubelet restart count equals the converged changes: $(starts) starts = 1 + 3" [ "$(starts)" = 4 ]
hugevmctl set 2M 8 -n 1 --wait --timeout 60 >/dev/null 2>&1
sleep 3
check "back to the last converged pools: no rewrite, no restart (starts $(starts))" \
        eval '[ "$(stat -c %Y.%i /run/hugevmd/converged)" = "$before" ] && [ "$(starts)" = 4 ]'
journalctl -b -u hugevm-kubelet-restart.service -o short-monotonic | sed 's/^/#   restart unit: /'
check "the restart unit ran for each converged change, and skipped kubelet at boot (it had started with those pools)" sh -c '
        [ "$(journalctl -b -u hugevm-kubelet-restart.service | grep -c "Finished")" -ge 3 ] &&
        journalctl -b -u hugevm-kubelet-restart.service | grep -qi "skipped"'
hugevmctl revert >/dev/null 2>&1
hugevmctl wait --timeout 60 >/dev/null 2>&1

# ---- reload --------------------------------------------------------------------------
sed -i 's/^Node1.Pages=8$/Node1.Pages=12/' /etc/hugevmd/hugevmd.conf
pid=$(prop hugevmd MainPID)
systemctl reload hugevmd.service; rc=$?
hugevmctl wait --timeout 60 >/dev/null 2>&1
check "systemctl reload hugevmd (exit $rc) re-read the config: node1 now $(cat $N1) of 12" \
        eval '[ $rc = 0 ] && [ "$(cat $N1)" = 12 ]'
check "... in the same process, active again after RELOADING=1/READY=1" \
        eval '[ "$(prop hugevmd MainPID)" = "$pid" ] && [ "$(systemctl is-active hugevmd)" = active ]'
check "... and the journal says it reloaded" sh -c 'journalctl -b -u hugevmd | grep -q "SIGHUP: reloading"'

# ---- watchdog --------------------------------------------------------------------------
restarts=$(prop hugevmd NRestarts)
pid=$(prop hugevmd MainPID)
wd=$(prop hugevmd WatchdogUSec)
note "WatchdogUSec=$wd; stopping hugevmd ($pid) with SIGSTOP"
kill -STOP "$pid"
wait_for 60 '[ "$(prop hugevmd NRestarts)" -gt "$restarts" ]'
wait_for 30 '[ "$(systemctl is-active hugevmd)" = active ]'
check "the watchdog killed the stopped hugevmd and systemd restarted it (NRestarts $restarts -> $(prop hugevmd NRestarts))" \
        eval '[ "$(prop hugevmd NRestarts)" = $((restarts + 1)) ] && [ "$(prop hugevmd MainPID)" != "$pid" ]'
check "... the journal names the watchdog" sh -c 'journalctl -b -u hugevmd | grep -qi "watchdog timeout"'
check "... and it is active and converged again" hugevmctl wait --timeout 30

# ---- socket activation; the consumer survives hugevmd's stop -----------------------------
consumer_pid=$(prop consumer.service MainPID)
systemctl stop hugevmd.service 2>/dev/null
check "hugevmd stopped, hugevmd.socket still listening" \
        eval '[ "$(systemctl is-active hugevmd.service)" = inactive ] && [ "$(systemctl is-active hugevmd.socket)" = active ]'
check "stopping hugevmd does not stop the consumer" \
        eval '[ "$(systemctl is-active consumer.service)" = active ] && [ "$(prop consumer.service MainPID)" = "$consumer_pid" ]'
out=$(hugevmctl status 2>&1); rc=$?
check "the first hugevmctl status (exit $rc) socket-activated hugevmd" \
        eval '[ $rc = 0 ] && [ "$(systemctl is-active hugevmd.service)" = active ]'
printf '%s\n' "$out" | head -n 4 | sed 's/^/#   /'
check "... which answered with the pools" eval '[[ $out == *2048kB* || $out == *" 2M "* ]]'
check "... and the converged file was not rewritten by the restarts (kubelet starts still $(starts) after revert and reload)" \
        eval '[ "$(starts)" = 6 ]'

# ---- purge -----------------------------------------------------------------------------------
dpkg -L hugevm libvmemmap0 >/tmp/files 2>/dev/null
rm -r /etc/systemd/system/hugevmd.service.d   # this tier's watchdog drop-in, not the package's
systemctl disable --now hugevm-kubelet-restart.path >/dev/null 2>&1   # the admin enabled it: the admin disables it
out=$(DEBIAN_FRONTEND=noninteractive apt-get purge -y hugevm libvmemmap0 2>&1); rc=$?
check "apt-get purge hugevm libvmemmap0 (exit $rc)" [ $rc = 0 ]
systemctl daemon-reload
left=$(while read -r f; do [ -e "$f" ] && [ ! -d "$f" ] && echo "$f"; done </tmp/files)
check "no file of the packages is left ($(wc -l </tmp/files) listed)" [ -z "$left" ]
[ -z "$left" ] || note "left: $left"
check "no /etc/hugevmd, /var/lib/hugevmd or /run/hugevmd" \
        sh -c '! ls -d /etc/hugevmd /var/lib/hugevmd /run/hugevmd 2>/dev/null | grep .'
check "no hugevm unit known to systemd, no enablement symlink" sh -c '
        ! systemctl list-unit-files --no-legend "hugevm*" | grep . &&
        ! find /etc/systemd/system -name "hugevm*" | grep .'
check "hugevmd is no longer running" sh -c '! pidof hugevmd'
check "dpkg knows neither package" sh -c '! dpkg-query -W hugevm libvmemmap0 2>/dev/null | grep .'
