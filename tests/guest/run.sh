#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The guest tier: boot a Debian 12 system with systemd as PID 1 under qemu,
# with the hugevm .deb installed, and check the units under a real systemd
# (cases.sh, run inside). Prints the guest's TAP.
#
#   tests/guest/run.sh
#
# - The root file system: mmdebstrap (build-image.sh), cached as an
#   uncompressed cpio in $HUGEVM_GUEST_CACHE/rootfs-<hash>.cpio, the hash of
#   build-image.sh (its package list included): built once (~30 s), reused.
# - The kernel: the qemu tier's (tests/vm/run.sh caches Debian's 6.1 kernel in
#   ${XDG_CACHE_HOME:-/var/cache}/hugevm-vm/boot); run.sh downloads it the
#   same way, into the same cache, only if it is not there yet.
# - The .debs: built from this tree as tests/deb/build.sh does (build-debs.sh),
#   or taken from $HUGEVM_GUEST_DEBS (a directory with hugevm_*.deb and
#   libvmemmap0_*.deb). They are installed with dpkg -i in a chroot of the
#   unpacked image before boot (so the package's enablement is what boots),
#   then the guest's config, test units and cases.sh are added.
# - The guest boots that tree as its initramfs (Debian's kernel has ext4 and
#   virtio as modules; tmpfs is built in): systemd runs from it as on a disk.
#   KVM if /dev/kvm works, else TCG. Its console goes to a file (shown on
#   failure); cases.sh writes TAP to the second serial port.
#
# Exit 0 only if every case passed; 77 with "1..0 # SKIP" when not root.
# Environment: HUGEVM_GUEST_CACHE (default ${XDG_CACHE_HOME:-/var/cache}/hugevm-guest),
# HUGEVM_GUEST_TIMEOUT (seconds the VM may run, default 300), HUGEVM_GUEST_ACCEL
# (kvm or tcg: no detection), HUGEVM_GUEST_DEBS, HUGEVM_GUEST_KEEP=1 (keep the work dir).
set -euo pipefail
t_start=$(date +%s)
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
cache=${HUGEVM_GUEST_CACHE:-${XDG_CACHE_HOME:-/var/cache}/hugevm-guest}
kcache=${HUGEVM_VM_CACHE:-${XDG_CACHE_HOME:-/var/cache}/hugevm-vm}
vm_timeout=${HUGEVM_GUEST_TIMEOUT:-300}

note() { echo "# $*"; }
bail() { echo "Bail out! $*"; exit 1; }

[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (mmdebstrap, chroot, dpkg)"; exit 77; }

work=$(mktemp -d /tmp/hugevm-guest.XXXXXX)
qemu_pid=
cleanup() {
        if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then kill -KILL "$qemu_pid" 2>/dev/null || true; fi
        if [ "${HUGEVM_GUEST_KEEP:-0}" = 1 ]; then note "work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# ---- host tools -------------------------------------------------------------------
need=()
want() { command -v "$1" >/dev/null 2>&1 || need+=("$2"); }
want qemu-system-x86_64 qemu-system-x86
want mmdebstrap mmdebstrap
want cpio cpio
want dpkg-buildpackage dpkg-dev
if [ ${#need[@]} -gt 0 ]; then
        note "installing ${need[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >"$work/apt.log" 2>&1 || {
                DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$work/apt.log" 2>&1 || true
                DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >>"$work/apt.log" 2>&1 ||
                        { sed 's/^/# apt: /' "$work/apt.log" | tail -20; bail "could not install ${need[*]}"; }
        }
fi

# ---- the kernel: the qemu tier's cache ---------------------------------------------
mkdir -p "$kcache" 2>/dev/null && [ -w "$kcache" ] || kcache=${HOME:?}/.cache/hugevm-vm
vmlinuz=$(ls "$kcache"/boot/vmlinuz-6.1.0-*-amd64 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$vmlinuz" ]; then
        # As tests/vm/run.sh does, into the same cache (it finds it there next time).
        pkg=$(apt-cache pkgnames linux-image-6.1.0- 2>/dev/null | grep -E '^linux-image-6\.1\.0-[0-9]+-amd64(-unsigned)?$' |
              sort -rV | while read -r p; do apt-cache policy "$p" | grep -q 'Candidate: [0-9]' && { echo "$p"; break; }; done || true)
        [ -n "$pkg" ] || bail "no linux-image-6.1.0-*-amd64 known to apt and no kernel in $kcache/boot"
        note "downloading $pkg into $kcache"
        (cd "$kcache" && apt-get download "$pkg" >"$work/apt.log" 2>&1) || bail "apt-get download $pkg failed"
        deb=$(ls -t "$kcache/${pkg}"_*.deb | head -1)
        rm -rf "$kcache/unpack.tmp"; mkdir "$kcache/unpack.tmp"
        dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$kcache/unpack.tmp" --wildcards './boot/*' || bail "could not unpack $deb"
        rm -rf "${kcache:?}/boot"; mv "$kcache/unpack.tmp/boot" "$kcache/boot"; rm -rf "$kcache/unpack.tmp" "$deb"
        vmlinuz=$(ls "$kcache"/boot/vmlinuz-6.1.0-*-amd64 | sort -V | tail -1)
fi
note "kernel ${vmlinuz##*/}"

# ---- the root file system, cached ---------------------------------------------------------
mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ] || cache=${HOME:?}/.cache/hugevm-guest
mkdir -p "$cache"
key=$(cat "$here/build-image.sh" | sha256sum | cut -c1-16)
image=$cache/rootfs-$key.cpio
if [ -s "$image" ]; then
        note "image $image (cached)"
else
        t0=$(date +%s)
        "$here/build-image.sh" "$image.tmp" >"$work/image.log" 2>&1 ||
                { tail -n 30 "$work/image.log" | sed 's/^/# image: /'; rm -f "$image.tmp"; bail "could not build the guest image"; }
        mv "$image.tmp" "$image"
        find "$cache" -name 'rootfs-*.cpio' ! -name "rootfs-$key.cpio" -delete   # older keys
        note "image $image built in $(($(date +%s) - t0)) s ($(du -h "$image" | cut -f1))"
fi

# ---- the .debs ---------------------------------------------------------------------------
t0=$(date +%s)
if [ -n "${HUGEVM_GUEST_DEBS:-}" ]; then
        debs=$HUGEVM_GUEST_DEBS
else
        debs=$work/debs
        "$here/build-debs.sh" "$debs" || bail "could not build the .debs (see the build log above)"
fi
ls "$debs"/hugevm_*.deb "$debs"/libvmemmap0_*.deb >/dev/null 2>&1 || bail "no hugevm_*.deb and libvmemmap0_*.deb in $debs"
note ".debs: $(cd "$debs" && echo hugevm_*.deb libvmemmap0_*.deb) ($(($(date +%s) - t0)) s)"

# ---- the guest's tree: image + installed .debs + test units -----------------------------------
t0=$(date +%s)
root=$work/root
mkdir "$root"
(cd "$root" && cpio -id --quiet <"$image") || bail "could not unpack $image"
cp "$debs"/hugevm_*.deb "$debs"/libvmemmap0_*.deb "$root/tmp/"
# dpkg in a chroot with its own mounts (gone with the namespace); no systemd
# runs there, so the postinst enables the units but starts nothing.
unshare -m sh -c 'mount -t proc proc "$1/proc" && mount -t sysfs sys "$1/sys" &&
        chroot "$1" sh -c "dpkg -i /tmp/libvmemmap0_*.deb /tmp/hugevm_*.deb"' - "$root" >"$work/dpkg.log" 2>&1 ||
        { sed 's/^/# dpkg: /' "$work/dpkg.log" | tail -20; bail "dpkg -i of the .debs in the guest's tree failed"; }
rm -f "$root"/tmp/*.deb
g=$root/etc/systemd/system
# The config: a per-node target, a fast refresh, the two files for the node.
python3 - "$root/etc/hugevmd/hugevmd.conf" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("[Daemon]\n", "[Daemon]\nRefreshSec=2\nConvergedFile=/run/hugevmd/converged\nFeatureFile=/run/hugevmd/nfd-features\n", 1)
s += "\n[Pool 2M]\nNode0.Pages=32\nNode1.Pages=8\n"
open(p, "w").write(s)
PY
# A shorter watchdog than the shipped 30 s, to keep the tier short.
mkdir -p "$g/hugevmd.service.d"
printf '[Service]\nWatchdogSec=6s\n' >"$g/hugevmd.service.d/10-guest-watchdog.conf"
cat >"$g/consumer.service" <<'EOF'
[Unit]
Description=A consumer of the HugeTLB pools
Wants=hugevm-pools.target
After=hugevm-pools.target
[Service]
ExecStart=/bin/sh -c 'echo $(cat /sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages /sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages) >/run/consumer.pages; exec sleep infinity'
[Install]
WantedBy=multi-user.target
EOF
# The stand-in kubelet: logs the pools it saw at each start; the shipped drop-in.
cat >"$g/kubelet.service" <<'EOF'
[Unit]
Description=A stand-in for kubelet (reads the hugepage pools only at start)
[Service]
ExecStart=/bin/sh -c 'mkdir -p /var/lib/kubelet-standin && echo $(cat /sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages /sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages) >>/var/lib/kubelet-standin/starts; exec sleep infinity'
[Install]
WantedBy=multi-user.target
EOF
mkdir -p "$g/kubelet.service.d"
cp "$root/usr/share/doc/hugevm/examples/kubernetes/kubelet.service.d/10-hugevm.conf" "$g/kubelet.service.d/" ||
        bail "the package has no examples/kubernetes/kubelet.service.d/10-hugevm.conf"
cat >"$g/guest-cases.service" <<'EOF'
[Unit]
Description=hugevm guest cases
# Not After=multi-user.target: a boot that hangs (a start job that never
# ends) must still report; cases.sh waits for the boot, bounded.
After=basic.target
SuccessAction=poweroff-force
FailureAction=poweroff-force
[Service]
Type=oneshot
ExecStart=/usr/local/lib/hugevm-guest/cases.sh
TimeoutStartSec=infinity
[Install]
WantedBy=multi-user.target
EOF
install -D -m 0755 "$here/cases.sh" "$root/usr/local/lib/hugevm-guest/cases.sh"
chroot "$root" systemctl enable consumer.service kubelet.service guest-cases.service \
        hugevm-kubelet-restart.path >"$work/enable.log" 2>&1 ||
        { sed 's/^/# enable: /' "$work/enable.log"; bail "systemctl enable in the guest's tree failed"; }
ln -sf /lib/systemd/systemd "$root/init"
(cd "$root" && find . -xdev | cpio -o -H newc --quiet) >"$work/initrd.cpio"
rm -rf "$root"
note "guest tree: $(du -h "$work/initrd.cpio" | cut -f1) ($(($(date +%s) - t0)) s)"

# ---- boot --------------------------------------------------------------------------------------
accel=${HUGEVM_GUEST_ACCEL:-}
if [ -z "$accel" ]; then
        accel=tcg
        [ -r /dev/kvm ] && [ -w /dev/kvm ] && accel=kvm
fi
append="console=ttyS0 rdinit=/lib/systemd/systemd panic=-1 loglevel=4 hugetlb_free_vmemmap=off systemd.show_status=error"
boot() {
        : >"$work/console.log"; : >"$work/tap.log"
        t_boot=$(date +%s)
        qemu-system-x86_64 \
                -machine pc -accel "$accel" -cpu max -smp 2 -m 1536M \
                -object memory-backend-ram,id=m0,size=1280M -numa node,memdev=m0,nodeid=0,cpus=0 \
                -object memory-backend-ram,id=m1,size=256M -numa node,memdev=m1,nodeid=1,cpus=1 \
                -nodefaults -display none -no-reboot \
                -serial "file:$work/console.log" -serial "file:$work/tap.log" \
                -kernel "$vmlinuz" -initrd "$work/initrd.cpio" -append "$append" \
                >"$work/qemu.out" 2>&1 &
        qemu_pid=$!
        timed_out=0
        local deadline=$((t_boot + vm_timeout))
        while kill -0 "$qemu_pid" 2>/dev/null; do
                # Nested KVM may hang without a word (seen here): no console
                # output in 20 s under KVM is a VM that will not boot.
                if [ "$accel" = kvm ] && [ ! -s "$work/console.log" ] && [ "$(date +%s)" -ge $((t_boot + 20)) ]; then
                        kill -KILL "$qemu_pid" 2>/dev/null || true; break
                fi
                if [ "$(date +%s)" -ge "$deadline" ]; then
                        timed_out=1; kill -KILL "$qemu_pid" 2>/dev/null || true; break
                fi
                sleep 1
        done
        qemu_rc=0; wait "$qemu_pid" 2>/dev/null || qemu_rc=$?
        qemu_pid=
}
note "booting under $accel (timeout ${vm_timeout}s)"
boot
if [ "$accel" = kvm ] && [ "$qemu_rc" != 0 ] && [ ! -s "$work/console.log" ]; then
        note "KVM did not start the VM ($(grep -m1 -i error "$work/qemu.out" || echo "no console output in 20 s")); again under TCG"
        accel=tcg
        boot
fi
t_end=$(date +%s)

# ---- report -----------------------------------------------------------------------------------------
tr -d '\r' <"$work/tap.log" >"$work/tap.txt"
tap=$(sed -n '/^HUGEVM-TAP-BEGIN$/,/^HUGEVM-TAP-END/{/^HUGEVM-TAP-/d;p}' "$work/tap.txt")
[ -n "$tap" ] && printf '%s\n' "$tap"
guest_rc=$(sed -n 's/^HUGEVM-TAP-END rc=//p' "$work/tap.txt")
n_cases=$(printf '%s\n' "$tap" | grep -cE '^(not )?ok( |$)' || true)
n_failed=$(printf '%s\n' "$tap" | grep -c '^not ok' || true)
plan=$(printf '%s\n' "$tap" | sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' | tail -1)
failed=0 why=
if [ "$timed_out" = 1 ]; then failed=1; why="the guest did not finish within ${vm_timeout}s (killed)"
elif [ -z "$guest_rc" ]; then failed=1; why="the guest ended before its cases finished (qemu exit $qemu_rc)"
elif [ -z "$plan" ] || [ "$plan" != "$n_cases" ]; then failed=1; why="plan ${plan:-missing} for $n_cases cases"
elif [ "$n_failed" != 0 ] || [ "$guest_rc" != 0 ]; then failed=1; why="failed cases"
fi
if [ "$failed" = 1 ]; then
        note "FAILED: $why"
        sed 's/^/#   qemu: /' "$work/qemu.out" | tail -n 10
        note "---- guest console (last 80 lines) ----"
        tr -d '\r' <"$work/console.log" | tail -n 80 | sed 's/^/#   /'
        [ -n "$guest_rc" ] || echo "Bail out! $why"
fi
note "cases: $n_cases ($n_failed failed; plan ${plan:-missing})"
note "wall time: $((t_end - t_start)) s (VM $((t_end - t_boot)) s under $accel)"
exit "$failed"
