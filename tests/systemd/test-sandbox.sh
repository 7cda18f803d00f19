#!/bin/bash
# The service's permission model, on the real kernel: what hugevmd.service
# leaves the daemon (root without any capability, NoNewPrivileges, /proc/sys
# and /sys read-only from ProtectKernelTunables= except the unit's
# ReadWritePaths=) is enough to write every pool, HVO and compaction file, and
# the real daemon converges a real pool inside it. The mounts are made the way
# systemd makes them (read-only bind mounts of the parents, read-write bind
# mounts of the listed paths below them), in a private mount namespace; the
# paths come from the unit file itself. ProtectSystem= for the rest of the
# file system is not emulated (StateDirectory= and the socket stay writable
# under systemd too). Holds the real-kernel lock, restores the pool, the
# overcommit and the HVO sysctl. Last, the same sandbox around hugevmd on the
# fake kernel (tests/fakekernel, a FUSE mount) that the daemon-driven tests
# use: the FUSE mount works without capabilities and with NoNewPrivileges.
# (Under a real hugevmd.service, PrivateTmp= would hide a mount in /tmp and
# ProtectSystem=strict would make it read-only: a fake kernel for a real unit
# goes outside /tmp and into ReadWritePaths=.)
#
# A reason not to run is a skip, but under CI=true on a machine that can run
# the real-kernel tiers a failure (tap_skip_all_unless_ci).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/fakekernel/fakekernel.sh"
HUGEVMD=$top_builddir/daemon/hugevmd
HUGEVMCTL=$top_builddir/ctl/hugevmctl
unit=$top_srcdir/systemd/hugevmd.service.in
hp=/sys/kernel/mm/hugepages/hugepages-2048kB
node_hp=/sys/devices/system/node/node0/hugepages/hugepages-2048kB
hvo=/proc/sys/vm/hugetlb_optimize_vmemmap

[ "$(id -u)" = 0 ] || tap_skip_all_unless_ci "needs root"
command -v unshare >/dev/null && command -v setpriv >/dev/null || tap_skip_all_unless_ci "needs unshare and setpriv (util-linux)"
unshare --mount true 2>/dev/null || tap_skip_all_unless_ci "cannot make a mount namespace here"
[ -w $hp/nr_hugepages ] && [ -d $node_hp ] || tap_skip_all_unless_ci "no writable 2048kB pool on node 0"

exec 9>/tmp/hugevm-realkernel.lock
flock 9
orig_nr=$(cat $hp/nr_hugepages)
orig_oc=$(cat $hp/nr_overcommit_hugepages)
orig_hvo=$(cat $hvo 2>/dev/null)
tmp=$(mktemp -d /tmp/hugevm-sandbox.XXXXXX)
daemon=
fake_daemon=
stop_fake_daemon() {
        [ -n "$fake_daemon" ] || return 0
        kill -TERM "$fake_daemon" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$fake_daemon" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$fake_daemon" 2>/dev/null
        wait "$fake_daemon" 2>/dev/null
        fake_daemon_status=$?
        fake_daemon=
        return $fake_daemon_status
}
restore() {
        if [ -n "$daemon" ]; then   # before the pool: it would put its target back
                kill -TERM "$daemon" 2>/dev/null
                for _ in $(seq 50); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
                kill -KILL "$daemon" 2>/dev/null
                wait "$daemon" 2>/dev/null
        fi
        [ -n "$orig_hvo" ] && echo "$orig_hvo" >$hvo
        echo "$orig_oc" >$hp/nr_overcommit_hugepages
        echo "$orig_nr" >$hp/nr_hugepages
        stop_fake_daemon
        fk_stop_all
        rm -rf "$tmp"
}
trap restore EXIT
trap 'exit 1' INT TERM HUP

rw_paths=$(sed -n 's/^ReadWritePaths=//p' "$unit" | tr ' ' '\n' | sed 's/^-//')
grep -qx 'CapabilityBoundingSet=' "$unit"; tap_ok $? "the unit empties the capability bounding set"
grep -qx 'ProtectKernelTunables=yes' "$unit"; tap_ok $? "the unit makes kernel tunables read-only"

# sandbox RW-PATHS CMD...: CMD with /proc/sys and /sys read-only except
# RW-PATHS, no capabilities, no new privileges. It execs: call it in a
# subshell, so that CMD keeps the pid $! names when started with &.
sandbox() {
        exec unshare --mount --propagation private -- bash -c '
                set -e
                rw=$1; shift
                for p in /proc/sys /sys; do mount --bind $p $p; mount -o remount,bind,ro $p; done
                for p in $rw; do
                        [ -e "$p" ] || continue
                        mount --bind "$p" "$p"; mount -o remount,bind,rw "$p"
                done
                exec setpriv --bounding-set=-all --inh-caps=-all --ambient-caps=-all --no-new-privs -- "$@"
        ' sandbox "$1" "${@:2}"
}
# rewrite FILE VALUE: write VALUE (usually what FILE holds: no change) from the sandbox.
rewrite() { (sandbox "$rw_paths" sh -c 'printf "%s\n" "$2" > "$1"' sh "$1" "$2" 2>/dev/null); }

tap_is "$(sandbox "$rw_paths" sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)" 0000000000000000 \
        "no effective capability in the sandbox"
tap_is "$(sandbox "$rw_paths" sed -n 's/^NoNewPrivs:[[:space:]]*//p' /proc/self/status)" 1 "NoNewPrivileges in effect"
# Controls: the read-only part is really read-only.
! rewrite /proc/sys/kernel/printk "$(cat /proc/sys/kernel/printk)"; tap_ok $? "control: /proc/sys/kernel stays read-only"
! (sandbox "" sh -c "echo $orig_oc > $hp/nr_overcommit_hugepages" 2>/dev/null)
tap_ok $? "control: without ReadWritePaths= the pool is read-only"

rewrite $hp/nr_overcommit_hugepages "$orig_oc"; tap_ok $? "writes $hp/nr_overcommit_hugepages"
rewrite $hp/nr_hugepages "$orig_nr"; tap_ok $? "writes $hp/nr_hugepages"
rewrite $node_hp/nr_hugepages "$(cat $node_hp/nr_hugepages)"; tap_ok $? "writes $node_hp/nr_hugepages"
rewrite /proc/sys/vm/nr_overcommit_hugepages "$(cat /proc/sys/vm/nr_overcommit_hugepages)"
tap_ok $? "writes /proc/sys/vm/nr_overcommit_hugepages"
if [ -n "$orig_hvo" ]; then
        rewrite $hvo "$orig_hvo"; tap_ok $? "writes $hvo (euid 0 is enough, no capability)"
fi
rewrite /sys/devices/system/node/node0/compact 1; tap_ok $? "writes /sys/devices/system/node/node0/compact"
rewrite /proc/sys/vm/compact_memory 1; tap_ok $? "writes /proc/sys/vm/compact_memory"

# The real daemon in the sandbox grows the real pool by 4 pages with HVO on.
if [ -x "$HUGEVMD" ] && [ -x "$HUGEVMCTL" ]; then
        want=$((orig_nr + 4))
        mkdir -p "$tmp/state"
        hvo_wanted=no
        [ -n "$orig_hvo" ] && hvo_wanted=yes
        cat >"$tmp/hugevmd.conf" <<CONF
[Daemon]
HVO=$hvo_wanted
StateDirectory=$tmp/state
MetricsListen=no

[Pool 2048kB]
Pages=$want
CONF
        # fd 9 (the lock) closed: a daemon that outlived us must not hold it.
        (sandbox "$rw_paths" "$HUGEVMD" --config "$tmp/hugevmd.conf" --socket "$tmp/hugevmd.sock" \
                >"$tmp/log" 2>&1 9>&-) &
        daemon=$!
        for _ in $(seq 100); do [ -S "$tmp/hugevmd.sock" ] && break; sleep 0.1; done
        tap_is "$(cat /proc/$daemon/comm 2>/dev/null)" hugevmd "the daemon runs as the process we stop"
        "$HUGEVMCTL" --socket "$tmp/hugevmd.sock" wait --timeout 30 >/dev/null 2>&1
        tap_ok $? "hugevmd in the sandbox converges the real pool"
        tap_is "$(cat $hp/nr_hugepages)" "$want" "the kernel's pool is at the target ($want)"
        [ -n "$orig_hvo" ] && { tap_is "$(cat $hvo)" 1 "the daemon turned HVO on from the sandbox"; }
        [ "$tap_failed" -eq 0 ] || sed 's/^/# daemon: /' "$tmp/log" | tail -20
else
        echo "# hugevmd or hugevmctl not built: the daemon part is left out"
fi

# The fake kernel through the same sandbox: hugevmd --root on a FUSE mount
# (made outside the sandbox, as the test tiers make it) with no capability
# and NoNewPrivileges converges the fake pool with HVO on.
if ! [ -x "$HUGEVMD" ] || ! [ -x "$HUGEVMCTL" ]; then
        :
elif ! fk_usable; then
        tap_skip_unless_ci "the daemon in the sandbox on the fake kernel: $fk_why"
else
        fk=$tmp/fk
        fk_start "$fk" -s nodes=1 -s sizes=2048 -s hvo=0
        tap_ok $? "fake kernel mounted on $fk"
        mkdir -p "$tmp/fkstate"
        printf '[Daemon]\nHVO=yes\nStateDirectory=%s\nMetricsListen=no\n\n[Pool 2048kB]\nPages=16\n' \
                "$tmp/fkstate" >"$tmp/fk.conf"
        (sandbox "$rw_paths" "$HUGEVMD" --root "$fk" --config "$tmp/fk.conf" --socket "$tmp/fk.sock" \
                >"$tmp/fk.log" 2>&1 9>&-) &
        fake_daemon=$!
        for _ in $(seq 100); do [ -S "$tmp/fk.sock" ] && break; sleep 0.1; done
        "$HUGEVMCTL" --socket "$tmp/fk.sock" wait --timeout 30 >/dev/null 2>&1
        tap_ok $? "hugevmd in the sandbox converges the fake kernel's pool"
        tap_is "$(cat "$fk/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")" 16 "the fake pool is at the target (16)"
        tap_is "$(cat "$fk/proc/sys/vm/hugetlb_optimize_vmemmap")" 1 "the daemon turned the fake HVO sysctl on from the sandbox"
        tap_is "$(fk_state "$fk" 2048kB.optimized)" 16 "the fake kernel optimized the 16 pages it grew"
        stop_fake_daemon
        tap_is "$fake_daemon_status" 0 "the sandboxed daemon stops cleanly"
        [ "$tap_failed" -eq 0 ] || sed 's/^/# fake-kernel daemon: /' "$tmp/fk.log" | tail -20
fi
tap_done
