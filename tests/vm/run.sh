#!/bin/bash
# The VM tier: boot Debian's 6.1 kernel under qemu-system-x86_64 with two NUMA
# nodes and 1 GiB pages (-cpu max: pdpe1gb), run the built hugevmd and hugevmctl
# inside a busybox initramfs, and print the TAP the guest reports.
#
#   tests/vm/run.sh BUILDDIR [STAGE]
#
# STAGE is what the guest runs (/init runs /vm/STAGE.sh, named by hugevm.stage=
# on the kernel command line):
#   cases      (default) pools, HVO, savings, shortfalls, surplus, re-optimization,
#              restarts and demotion on the running kernel (cases.sh)
#   boot-plan  two boots: hugevmctl boot-plan prints the line for the declared
#              pools (plan.sh), then the guest boots with it and hugevmd adopts
#              the pools made at boot (adopt.sh)
#   fragmentation  the pages hugevmd, one sysfs write, hugeadm and
#              dpdk-hugepages.py get from fragmented memory, beside the limit
#              (frag.sh); HUGEVM_VM_FRAG=full adds vm.compact_unevictable_allowed=0
#
# Not part of `make check`: it installs packages, downloads a kernel package
# (~70 MB, cached) and takes minutes. Stdout is TAP (plain "ok N - ..." lines and
# a final "1..N"); progress and diagnostics are "#" comments. Exits non-zero on
# any failed case, a missing plan, or a VM that did not finish in time.
#
# Environment:
#   HUGEVM_VM_CACHE    kernel cache dir (default ${XDG_CACHE_HOME:-/var/cache}/hugevm-vm)
#   HUGEVM_VM_TIMEOUT  seconds the VM may run before it is killed (default 480)
#   HUGEVM_VM_KEEP=1   keep the work dir (initramfs, console and TAP logs)
#   HUGEVM_VM_KERNEL_ONLY=1  boot without hugevmd/hugevmctl: only the machine checks
set -euo pipefail

t_start=$(date +%s)
srcdir=$(cd "$(dirname "$0")" && pwd)         # tests/vm
top_srcdir=$(cd "$srcdir/../.." && pwd)
cache=${HUGEVM_VM_CACHE:-${XDG_CACHE_HOME:-/var/cache}/hugevm-vm}
vm_timeout=${HUGEVM_VM_TIMEOUT:-480}
kernel_only=${HUGEVM_VM_KERNEL_ONLY:-0}

note() { echo "# $*"; }
bail() { echo "Bail out! $*"; exit 1; }

[ $# -eq 1 ] || [ $# -eq 2 ] || { echo "usage: $0 BUILDDIR [STAGE]" >&2; exit 2; }
stage=${2:-cases}
[ -d "$1" ] || bail "build dir '$1' does not exist"
builddir=$(cd "$1" && pwd)

work=$(mktemp -d /tmp/hugevm-vm.XXXXXX)
qemu_pid=
cleanup() {
        if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then kill -KILL "$qemu_pid" 2>/dev/null || true; fi
        if [ "${HUGEVM_VM_KEEP:-0}" = 1 ]; then note "work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# ---- Host tools ---------------------------------------------------------------
# command -> Debian package that provides it
need_pkgs=()
want() { command -v "$1" >/dev/null 2>&1 || need_pkgs+=("$2"); }
want qemu-system-x86_64 qemu-system-x86
want cpio cpio
want jq jq
want strace strace
# The fragmentation stage's peers: hugeadm, and dpdk-hugepages.py (from Debian's
# dpdk, cached below) under Debian's python3.
if [ "$stage" = fragmentation ]; then
        want hugeadm libhugetlbfs-bin
        [ -x /usr/bin/python3 ] || need_pkgs+=(python3)
fi
want gcc gcc
want dpkg-deb dpkg
[ -x /bin/busybox ] && file_is_static=$( (ldd /bin/busybox 2>&1 || true) | grep -c 'not a dynamic' || true) || file_is_static=0
[ "$file_is_static" = 1 ] || need_pkgs+=(busybox-static)
# gcc -static needs libc.a
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || need_pkgs+=(libc6-dev)
if [ ${#need_pkgs[@]} -gt 0 ]; then
        note "installing ${need_pkgs[*]}"
        if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_pkgs[@]}" >"$work/apt.log" 2>&1; then
                DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$work/apt.log" 2>&1 || true
                DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_pkgs[@]}" >>"$work/apt.log" 2>&1 ||
                        { sed 's/^/# apt: /' "$work/apt.log" | tail -20; bail "could not install ${need_pkgs[*]}"; }
        fi
fi

# ---- The kernel: Debian's 6.1, cached across runs ----------------------------
find_kernel_pkg() {
        # Newest linux-image-6.1.0-NN-amd64[-unsigned] with an installable candidate.
        local name policy
        for name in $(apt-cache pkgnames linux-image-6.1.0- 2>/dev/null |
                      grep -E '^linux-image-6\.1\.0-[0-9]+-amd64(-unsigned)?$' | sort -rV); do
                # Captured first: grep -q would close the pipe early (pipefail).
                policy=$(apt-cache policy "$name" 2>/dev/null || true)
                if printf '%s\n' "$policy" | grep -q 'Candidate: [0-9]'; then
                        echo "$name"; return 0
                fi
        done
        return 1
}
# Not root (no /var/cache): the user's own cache.
mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ] || cache=${HOME:?}/.cache/hugevm-vm
mkdir -p "$cache" || bail "cannot create the kernel cache $cache"
vmlinuz=$(ls "$cache"/boot/vmlinuz-6.1.0-*-amd64 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$vmlinuz" ]; then
        pkg=$(find_kernel_pkg) || { apt-get update -q >"$work/apt.log" 2>&1 || true; pkg=$(find_kernel_pkg); } ||
                bail "no linux-image-6.1.0-*-amd64 package known to apt (is this Debian 12?)"
        note "downloading $pkg into $cache"
        (cd "$cache" && apt-get download "$pkg" >"$work/apt.log" 2>&1) ||
                { sed 's/^/# apt: /' "$work/apt.log" | tail -20; bail "apt-get download $pkg failed"; }
        deb=$(ls -t "$cache/${pkg}"_*.deb | head -1)
        # Only boot/ is needed: hugetlbfs and NUMA are built in (checked below).
        # Unpack to a temp dir and rename, so a killed run leaves no half kernel.
        rm -rf "$cache/unpack.tmp"; mkdir "$cache/unpack.tmp"
        dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$cache/unpack.tmp" --wildcards './boot/*' ||
                bail "could not unpack $deb"
        rm -rf "${cache:?}/boot"; mv "$cache/unpack.tmp/boot" "$cache/boot"; rm -rf "$cache/unpack.tmp" "$deb"
        vmlinuz=$(ls "$cache"/boot/vmlinuz-6.1.0-*-amd64 | sort -V | tail -1)
fi
kver=${vmlinuz##*/vmlinuz-}
kconfig=$cache/boot/config-$kver
for opt in CONFIG_NUMA CONFIG_HUGETLBFS CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP CONFIG_SERIAL_8250 CONFIG_DEVTMPFS CONFIG_RD_GZIP; do
        grep -qx "$opt=y" "$kconfig" || bail "$kver: $opt is not built in (modules are not loaded by this tier)"
done
note "kernel $kver ($vmlinuz)"

# ---- The initramfs ------------------------------------------------------------
root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,vm,etc/hugevmd,proc,sys,dev,tmp,run}
cp /bin/busybox "$root/bin/busybox"

# Copy an ELF program and everything ldd says it loads (the loader included),
# system libraries at their host path so the guest's ld.so finds them as on the
# host, the build tree's own (libvmemmap) in /usr/lib under their soname.
libpath=$builddir/libvmemmap/.libs:$builddir/proto/.libs
copy_with_libs() { # SRC DEST-IN-ROOT
        local lib dest
        install -D -m 0755 "$1" "$root$2"
        LD_LIBRARY_PATH=$libpath ldd "$1" >"$work/ldd.out" || bail "ldd $1 failed"
        if grep -q 'not found' "$work/ldd.out"; then
                bail "$1 needs libraries ldd cannot find: $(grep 'not found' "$work/ldd.out" | tr -s ' \t\n' ' ')"
        fi
        awk '/=> \// { print $3; next } /^[ \t]*\// { print $1 }' "$work/ldd.out" >"$work/libs"
        while read -r lib; do
                case $lib in
                "$builddir"/*) dest=/usr/lib/${lib##*/} ;;
                *) dest=$lib ;;
                esac
                [ -e "$root$dest" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$dest"
        done <"$work/libs"
}
# The real ELF of a libtool-built program: .libs/NAME when linked against the
# shared libvmemmap (NAME itself is then a wrapper script), else NAME.
real_elf() { # DIR NAME
        local f
        for f in "$1/.libs/$2" "$1/.libs/lt-$2" "$1/$2"; do
                [ -f "$f" ] && head -c 4 "$f" | grep -q 'ELF' && { echo "$f"; return 0; }
        done
        return 1
}

if [ "$kernel_only" != 1 ]; then
        hugevmd=$(real_elf "$builddir/daemon" hugevmd) || bail "no hugevmd in $builddir/daemon (run make first)"
        hugevmctl=$(real_elf "$builddir/ctl" hugevmctl) || bail "no hugevmctl in $builddir/ctl (run make first)"
        copy_with_libs "$hugevmd" /usr/sbin/hugevmd
        copy_with_libs "$hugevmctl" /usr/bin/hugevmctl
        note "hugevmd: $hugevmd"
        note "hugevmctl: $hugevmctl"
fi
copy_with_libs "$(command -v jq)" /usr/bin/jq
# The adopt boot traces hugevmd's opens: what it wrote is the kernel's word, not its own.
copy_with_libs "$(command -v strace)" /usr/bin/strace
gcc -static -O2 -Wall -Wextra -Werror -o "$root/usr/bin/holder" "$srcdir/holder.c" ||
        bail "could not build holder.c statically"
if [ "$stage" = fragmentation ]; then
        gcc -static -O2 -Wall -Wextra -Werror -o "$root/usr/bin/fragment" "$srcdir/fragment.c" ||
                bail "could not build fragment.c statically"
        copy_with_libs "$(command -v hugeadm)" /usr/bin/hugeadm
        dpdk_script=$cache/dpdk/dpdk-hugepages.py
        if [ ! -s "$dpdk_script" ]; then
                mkdir -p "$cache/dpdk"
                (cd "$cache/dpdk" && rm -f dpdk_*.deb && apt-get download dpdk >"$work/apt.log" 2>&1) ||
                        { apt-get update -q >>"$work/apt.log" 2>&1; (cd "$cache/dpdk" && apt-get download dpdk >>"$work/apt.log" 2>&1); } ||
                        { sed 's/^/# apt: /' "$work/apt.log" | tail -5; bail "apt-get download dpdk failed"; }
                dpkg-deb --fsys-tarfile "$cache"/dpdk/dpdk_*.deb | tar -xO ./usr/bin/dpdk-hugepages.py >"$dpdk_script.tmp" ||
                        bail "no usr/bin/dpdk-hugepages.py in $(ls "$cache"/dpdk/dpdk_*.deb)"
                (cd "$cache/dpdk" && ls dpdk_*.deb) >"$cache/dpdk/from"
                mv "$dpdk_script.tmp" "$dpdk_script"; rm -f "$cache"/dpdk/dpdk_*.deb
        fi
        install -D -m 0755 "$dpdk_script" "$root/usr/bin/dpdk-hugepages.py"
        # Debian's python3 and the part of its standard library a script can use.
        py=$(readlink -f /usr/bin/python3); pyver=${py##*/}
        copy_with_libs "$py" /usr/bin/python3
        tar -C /usr/lib -c --exclude=__pycache__ --exclude="$pyver/test" --exclude="$pyver/config-*" \
                --exclude="$pyver/lib2to3" --exclude="$pyver/idlelib" --exclude="$pyver/tkinter" \
                --exclude="$pyver/ensurepip" --exclude="$pyver/pydoc_data" --exclude="$pyver/dist-packages" \
                --exclude="$pyver/site-packages" "$pyver" | tar -C "$root/usr/lib" -x ||
                bail "could not copy /usr/lib/$pyver"
        note "fragmentation: $(dpkg-query -W -f '${Package} ${Version}' libhugetlbfs-bin 2>/dev/null), dpdk-hugepages.py of $(cat "$cache/dpdk/from" 2>/dev/null), $(/usr/bin/python3 --version)"
fi
install -m 0755 "$srcdir/init" "$root/init"
for f in vmlib.sh cases.sh plan.sh adopt.sh bootplan.conf frag.sh; do install -m 0644 "$srcdir/$f" "$root/vm/$f"; done
install -m 0644 "$top_srcdir/tests/lib.sh" "$root/vm/lib.sh"
echo "$kernel_only" >"$root/vm/kernel_only"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.gz"
note "initramfs $(du -h "$work/initrd.gz" | cut -f1)"

# ---- Boot ---------------------------------------------------------------------
# Memory layout (pc machine, nokaslr), found by reading /proc/kpageflags in the
# guest: node 0 = 0-3 GiB, node 1 = 4-7 GiB. On each node the kernel's own early
# allocations sit at the top GiB and its runtime slab at the bottom GiB, so exactly
# one whole GiB in the middle is free: each node can hold one 1 GiB page, never
# two, and three (more than the node has) is impossible by arithmetic. nokaslr
# keeps the kernel image out of that middle GiB.
accel=tcg
if [ -r /dev/kvm ] && [ -w /dev/kvm ] && grep -qw pdpe1gb /proc/cpuinfo; then accel=kvm; fi
note "accelerator: $accel$([ -e /dev/kvm ] || echo ' (no /dev/kvm)')"
base_append="console=ttyS0 panic=-1 oops=panic nokaslr quiet"

# boot APPEND: run the VM with $accel until it powers off or vm_timeout; sets
# qemu_rc, timed_out.
boot() {
        : >"$work/console.log"; : >"$work/tap.log"
        t_boot=$(date +%s)
        qemu-system-x86_64 \
                -machine pc -accel "$accel" -cpu max -smp 2 -m 6G \
                -object memory-backend-ram,id=m0,size=3G -numa node,memdev=m0,nodeid=0,cpus=0 \
                -object memory-backend-ram,id=m1,size=3G -numa node,memdev=m1,nodeid=1,cpus=1 \
                -nodefaults -display none -no-reboot \
                -serial "file:$work/console.log" -serial "file:$work/tap.log" \
                -kernel "$vmlinuz" -initrd "$work/initrd.gz" -append "$1" \
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

# ---- One boot, reported -------------------------------------------------------
# run_boot NAME APPEND: boot once with hugevm.stage=NAME (init runs
# /vm/NAME.sh); its TAP is printed renumbered after the boots before it, and
# its "HUGEVM-DATA key=value" lines go to $work/data.NAME. Returns 1 (and says
# why in $stage_why) if the boot failed: a case, its plan, its end.
n_all=0 n_failed_all=0 n_skipped_all=0
run_boot() {
        local name=$1 append="$2 hugevm.stage=$1"
        note "boot '$name' under $accel: $append"
        boot "$append"
        # Nested KVM may refuse -cpu max's vCPU (seen: "failed to set MSR 0x10a")
        # or hang: a VM that ended before its kernel printed anything runs again
        # under TCG, and so do the boots after it.
        if [ "$accel" = kvm ] && [ "$qemu_rc" != 0 ] && [ ! -s "$work/console.log" ]; then
                note "KVM could not start the VM ($(grep -m1 -i error "$work/qemu.out" || echo "no console output in 20 s")); again with software emulation"
                accel=tcg
                boot "$append"
        fi
        local t_end tap guest_rc n_cases n_failed n_skipped plan failed=0 why=
        t_end=$(date +%s)
        tr -d '\r' <"$work/tap.log" >"$work/tap.txt"
        tap=$(sed -n '/^HUGEVM-TAP-BEGIN$/,/^HUGEVM-TAP-END/{/^HUGEVM-TAP-/d;p}' "$work/tap.txt")
        sed -n 's/^HUGEVM-DATA //p' "$work/tap.txt" >"$work/data.$name"
        guest_rc=$(sed -n 's/^HUGEVM-TAP-END rc=//p' "$work/tap.txt")
        # Counted as the TAP driver does: a skip is an "ok" line with a "# SKIP"
        # directive; the plan must match the cases.
        n_cases=$(printf '%s\n' "$tap" | grep -cE '^(not )?ok( |$)' || true)
        n_failed=$(printf '%s\n' "$tap" | grep -c '^not ok' || true)
        n_skipped=$(printf '%s\n' "$tap" | grep -E '^ok( |$)' | grep -cE '[^\\]#[[:space:]]*[Ss][Kk][Ii][Pp]([^[:alnum:]_]|$)' || true)
        plan=$(printf '%s\n' "$tap" | sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' | tail -1)
        if [ "$timed_out" = 1 ]; then failed=1; why="VM did not finish within ${vm_timeout}s (killed)"
        elif [ -z "$guest_rc" ]; then failed=1; why="VM ended before the cases finished (qemu exit $qemu_rc)"
        elif [ -z "$plan" ]; then failed=1; why="no TAP plan from the guest"
        elif [ "$plan" != "$n_cases" ]; then failed=1; why="the guest planned $plan cases and reported $n_cases"
        elif [ "$n_failed" != 0 ]; then failed=1; why="failed cases"
        elif [ "$guest_rc" != 0 ]; then failed=1; why="guest cases exited $guest_rc"
        fi
        # A guest that hangs (seen once in ~40 fragmentation trials under TCG: both
        # vCPUs in soft lockup for minutes) boots once more, when the caller
        # allows it (retry_hung=1): said here, with the console's end.
        if [ "$timed_out" = 1 ] && [ "${retry_hung:-0}" = 1 ]; then
                note "boot '$name' did not end within ${vm_timeout}s; its console's end, then the same boot once more:"
                tr -d '\r' <"$work/console.log" | tail -n 40 | sed 's/^/#   /'
                retry_hung=0
                run_boot "$1" "$2"; local rc=$?
                retry_hung=1
                return $rc
        fi
        # Renumbered: "ok 3 - x" of the second boot is "ok N+3 - x" of the tier.
        [ -n "$tap" ] && printf '%s\n' "$tap" | awk -v base="$n_all" '
                /^1\.\.[0-9]/ { next }
                /^(not )?ok [0-9]+/ { i = ($1 == "not") ? 3 : 2; $i = $i + base }
                { print }'
        n_all=$((n_all + n_cases)) n_failed_all=$((n_failed_all + n_failed)) n_skipped_all=$((n_skipped_all + n_skipped))
        if [ "$failed" = 1 ]; then
                note "FAILED ($name): $why"
                note "---- qemu output ----"
                sed 's/^/#   /' "$work/qemu.out" | tail -20
                note "---- guest console (last 150 lines; hugevmd log between markers) ----"
                tr -d '\r' <"$work/console.log" | tail -150 | sed 's/^/#   /'
                [ -n "$guest_rc" ] || echo "Bail out! boot '$name': $why"
        fi
        note "boot '$name': $n_cases cases ($n_failed failed, $n_skipped skipped; plan ${plan:-missing}), VM $((t_end - t_boot))s"
        [ "$failed" = 0 ] || { stage_why="boot '$name': $why"; return 1; }
}

# data NAME KEY: a value the boot NAME reported.
data() { sed -n "s/^$2=//p" "$work/data.$1" | tail -n1; }

stage_why=
case $stage in
cases)
        # HVO off at boot: hugevmd turns it on (HVO=yes), and the cases see it do so.
        run_boot cases "$base_append hugetlb_free_vmemmap=off" || true
        ;;
boot-plan)
        # The plan boot: no pool and HVO off at boot; hugevmctl boot-plan prints
        # the line for the declared pools. The adopt boot: that line, as printed.
        if run_boot plan "$base_append hugetlb_free_vmemmap=off"; then
                plan_line=$(data plan cmdline)
                memtotal=$(data plan memtotal_kb)
                if [ -z "$plan_line" ] || [ -z "$memtotal" ]; then
                        stage_why="the plan boot reported no command line or MemTotal"
                        echo "Bail out! $stage_why"
                else
                        run_boot adopt "$base_append $plan_line hugevm.memtotal_off_kb=$memtotal" || true
                fi
        fi
        ;;
fragmentation)
        # The benchmark (frag.sh): one boot per trial, so that every trial
        # starts from the same machine; HVO on from boot, as hugevmd keeps it.
        # HUGEVM_VM_FRAG: short (unevictable=1), full (and 0), or trials
        # "UNEVICTABLE:SIZE:TOOL ..." to rerun some.
        case ${HUGEVM_VM_FRAG:=short} in
        short|full)
                trials=
                for setting in 1 $([ "$HUGEVM_VM_FRAG" = full ] && echo 0); do
                        for size in 2048kB 1048576kB; do
                                for tool in sysfs hugeadm dpdk hugevmd; do trials="$trials $setting:$size:$tool"; done
                        done
                done ;;
        *) trials=$HUGEVM_VM_FRAG ;;
        esac
        : >"$work/frag.results"
        retry_hung=1 vm_timeout=${HUGEVM_VM_TIMEOUT:-300}
        for trial in $trials; do
                # Not quiet: a kernel's warning and its trace belong in the console log.
                run_boot frag "${base_append% quiet} hugetlb_free_vmemmap=on hugevm.trial=$trial" || true
                data frag frag >>"$work/frag.results"
        done
        # The table (Markdown, for docs/benchmarks.md): per tool, its pages of the
        # limit of its own boot (the limit measured right after it), and seconds.
        note "fragmentation benchmark: pages reached / the limit of that boot (seconds)"
        awk '
        function cell(k, t) { return (k, t) in got ? sprintf("%d / %d (%d s)", got[k, t], lim[k, t], secs[k, t]) : "-" }
        function val(k, t) { return (k, t) in got ? got[k, t] : -1 }
        { k = $1 " " $2; if (!(k in seen)) { seen[k] = 1; order[++n] = k; target[k] = $4 }
          got[k, $3] = $5; secs[k, $3] = $6; lim[k, $3] = $8; if ($3 == "hugevmd") fc[k] = $7 }
        END {
                print "| compact_unevictable_allowed | size | target | one sysfs write | hugeadm --hard | dpdk-hugepages.py | hugevmd | hugevmd vs best peer | hugevmd of its limit | forecast (off by) |"
                print "|---|---|---|---|---|---|---|---|---|---|"
                for (i = 1; i <= n; i++) {
                        k = order[i]; split(k, p, " ")
                        best = val(k, "sysfs"); if (val(k, "hugeadm") > best) best = val(k, "hugeadm"); if (val(k, "dpdk") > best) best = val(k, "dpdk")
                        h = val(k, "hugevmd")
                        vs = best < 0 || h < 0 ? "-" : (h >= best ? ">= " : "< ") best
                        of = h >= 0 && lim[k, "hugevmd"] > 0 ? sprintf("%.1f%%", 100 * h / lim[k, "hugevmd"]) : "-"
                        f = fc[k] ~ /^[0-9]+$/ && h >= 0 ? sprintf("%d (%s)", fc[k], h > 0 ? sprintf("%+.1f%%", 100 * (fc[k] - h) / h) : fc[k] - h) : "-"
                        printf "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", p[1], p[2], target[k],
                                cell(k, "sysfs"), cell(k, "hugeadm"), cell(k, "dpdk"), cell(k, "hugevmd"), vs, of, f
                }
        }' "$work/frag.results" | sed 's/^/# /'
        ;;
*) bail "unknown stage '$stage' (cases, boot-plan, fragmentation)" ;;
esac
t_end=$(date +%s)
echo "1..$n_all"
[ -z "$stage_why" ] || note "FAILED: $stage_why"
note "cases: $n_all ($n_failed_all failed, $n_skipped_all skipped)"
note "wall time: $((t_end - t_start))s (accel $accel, kernel $kver)"
[ -z "$stage_why" ]
