#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Build hugevm's Debian packages from this tree, lint them, install them, use
# them, purge them. For CI; needs root and Debian (12). Self-contained: it
# installs missing build dependencies with apt-get, builds in a temp copy of
# the tree (the tree itself stays clean), and leaves the machine as it found it
# (packages purged, groups and directories they created removed, and -- when
# systemd runs and the service started -- pools and HVO put back).
# Output is TAP; exit 0 only if every check passed (77: skipped, not root/Debian).
set -uo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/hugevm-deb.XXXXXX)
failures=0
installed=
lock_held=
pkgs="hugevm libvmemmap0 libvmemmap-dev"
POOL=/sys/kernel/mm/hugepages/hugepages-2048kB
HVO_SYSCTL=/proc/sys/vm/hugetlb_optimize_vmemmap

# TAP: one line per check, the plan at the end; a failed build step bails out.
n=0
ok()   { n=$((n + 1)); printf 'ok %d - %s\n' $n "$*"; }
fail() { n=$((n + 1)); printf 'not ok %d - %s\n' $n "$*"; failures=$((failures + 1)); }
die()  { fail "$*"; echo "Bail out! $*"; exit 1; }
# check DESCRIPTION COMMAND...: its output is shown (as diagnostics) only on failure.
check() {
        local what=$1
        shift
        if "$@" >"$work/check.out" 2>&1; then ok "$what"; else fail "$what"; sed 's/^/#   /' "$work/check.out"; fi
}

[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (apt-get install, dpkg --purge)"; exit 77; }
command -v dpkg-buildpackage >/dev/null && command -v apt-get >/dev/null ||
        { echo "1..0 # SKIP not a Debian system (no dpkg-buildpackage or apt-get)"; exit 77; }

# What the packages may create, to remove what was not there before.
groups_before=$(getent group hugevm hugevm-admin | cut -d: -f1 | tr '\n' ' ')
dirs_before=
for d in /etc/hugevmd /var/lib/hugevmd /run/hugevmd; do [ -e "$d" ] && dirs_before+="$d "; done
saved_pages= saved_overcommit= saved_hvo=

purge() {
        [ -n "$installed" ] || return 0
        DEBIAN_FRONTEND=noninteractive apt-get purge -y $pkgs >"$work/purge.log" 2>&1 ||
                dpkg --purge $pkgs >>"$work/purge.log" 2>&1
        installed=
}

cleanup() {
        purge
        local g d
        for g in hugevm hugevm-admin; do
                case " $groups_before " in *" $g "*) ;; *) getent group "$g" >/dev/null && groupdel "$g" ;; esac
        done
        for d in /etc/hugevmd /var/lib/hugevmd /run/hugevmd; do
                case " $dirs_before " in *" $d "*) ;; *) [ -e "$d" ] && rm -rf "$d" ;; esac
        done
        if [ -n "$lock_held" ] && [ -n "$saved_pages" ]; then
                [ -n "$saved_hvo" ] && echo "$saved_hvo" >"$HVO_SYSCTL"
                echo "$saved_overcommit" >"$POOL/nr_overcommit_hugepages"
                echo "$saved_pages" >"$POOL/nr_hugepages"
        fi
        rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ---- a clean copy of the sources --------------------------------------------
mkdir -p "$work/hugevm"
if git -C "$src" rev-parse --show-toplevel >/dev/null 2>&1; then
        # What git tracks or would track, as it is in the work tree: no build products.
        (cd "$src" && git ls-files -z -c -o --exclude-standard | tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$work/hugevm"
else
        (cd "$src" && tar --exclude=./autom4te.cache -cf - .) | tar -xf - -C "$work/hugevm"
fi
[ -f "$work/hugevm/debian/control" ] || die "no debian/control in $src"
ok "copied the sources to $work/hugevm"

# ---- build dependencies --------------------------------------------------------
cd "$work/hugevm" || die "cd $work/hugevm"
missing=$(dpkg-checkbuilddeps 2>&1 | sed -n 's/.*Unmet build dependencies: //p' | sed 's/([^)]*)//g; s/|[^ ]*//g')
for tool in lintian; do command -v $tool >/dev/null || missing+=" $tool"; done
if [ -n "${missing// /}" ]; then
        echo "# installing build dependencies:$missing"
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >"$work/deps.log" 2>&1 ||
                { tail -n 20 "$work/deps.log"; die "apt-get install$missing"; }
fi
check "build dependencies satisfied" dpkg-checkbuilddeps

# ---- build ----------------------------------------------------------------------
if dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1; then
        ok "dpkg-buildpackage -us -uc -b"
else
        tail -n 40 "$work/build.log"
        die "dpkg-buildpackage -us -uc -b (log above)"
fi
changes=$(ls "$work"/hugevm_*.changes)
debs=
for p in $pkgs; do       # the -dbgsym packages are built but not installed
        deb=$(ls "$work/${p}"_*.deb 2>/dev/null)
        check "built $p" [ -n "$deb" ]
        debs+="$deb "
done
for deb in $debs; do
        echo "# $(basename "$deb"): $(dpkg-deb -f "$deb" Depends)"
done

# ---- what the hugevm package holds (issue 14, item 7) ---------------------------
hugevm_deb=$(ls "$work"/hugevm_*.deb 2>/dev/null | head -n 1)
check "hugevm ships /etc/hugevmd/hugevmd.conf (dpkg-deb -c)" \
        sh -c "dpkg-deb -c '$hugevm_deb' | grep -Eq ' \./etc/hugevmd/hugevmd\.conf\$'"
check "/etc/hugevmd/hugevmd.conf is a conffile (DEBIAN/conffiles)" \
        sh -c "dpkg-deb -I '$hugevm_deb' conffiles | grep -qx /etc/hugevmd/hugevmd.conf"
dpkg-deb --fsys-tarfile "$hugevm_deb" | tar -xOf - ./etc/hugevmd/hugevmd.conf >"$work/conffile" 2>/dev/null
check "the conffile turns HVO on" grep -qx 'HVO=yes' "$work/conffile"
check "the conffile manages no pool" sh -c "! grep -Eq '^[[:space:]]*\[Pool' '$work/conffile'"
check "the conffile shows the other keys commented out" \
        sh -c "grep -Eq '^#SocketGroup=' '$work/conffile' && grep -Eq '^#Pages=' '$work/conffile' && grep -Eq '^#MountGroup=' '$work/conffile'"
echo "# hugevm: Depends: $(dpkg-deb -f "$hugevm_deb" Depends); Recommends: $(dpkg-deb -f "$hugevm_deb" Recommends)"
check "libhugetlbfs0 is a Recommends of hugevm" sh -c "dpkg-deb -f '$hugevm_deb' Recommends | grep -q libhugetlbfs0"
check "libhugetlbfs0 is not a Depends of hugevm" sh -c "! dpkg-deb -f '$hugevm_deb' Depends | grep -q libhugetlbfs"
dpkg-deb -x "$hugevm_deb" "$work/hugevm-deb"
for u in hugevmd.service hugevmd.socket hugevmd-wait.service hugevm-pools.target; do
        check "unit $u has Documentation=" grep -q '^Documentation=man:' "$work/hugevm-deb/lib/systemd/system/$u"
done

# ---- lintian ----------------------------------------------------------------------
echo "# lintian $(lintian --version | awk '{ print $2 }') on $(basename "$changes"):"
lintian --display-info --fail-on error "$changes" >"$work/lintian.log" 2>&1
lintian_rc=$?
if [ -s "$work/lintian.log" ]; then sed 's/^/#   /' "$work/lintian.log"; else echo "#   (no tags)"; fi
echo "# lintian: $(grep -c '^E:' "$work/lintian.log") errors, $(grep -c '^W:' "$work/lintian.log") warnings," \
     "$(grep -c '^I:' "$work/lintian.log") info"
check "lintian: no errors" [ $lintian_rc = 0 ]

# ---- install ------------------------------------------------------------------------
# With systemd running, installing starts hugevmd, which turns HVO on: hold
# the real-kernel lock and put pools and HVO back afterwards.
if [ -d /run/systemd/system ] && [ -w "$POOL/nr_hugepages" ]; then
        exec 9>/tmp/hugevm-realkernel.lock
        flock 9
        lock_held=1
        saved_pages=$(cat "$POOL/nr_hugepages")
        saved_overcommit=$(cat "$POOL/nr_overcommit_hugepages")
        saved_hvo=$(cat "$HVO_SYSCTL" 2>/dev/null)
fi
installed=1
if DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $debs >"$work/install.log" 2>&1; then
        ok "apt-get install $(for d in $debs; do printf '%s ' "${d##*/}"; done)"
else
        tail -n 30 "$work/install.log"
        die "apt-get install of the packages"
fi
for p in $pkgs; do
        check "$p is installed" sh -c "dpkg-query -W -f='\${Status}' $p | grep -q 'install ok installed'"
done

# ---- use what was installed -----------------------------------------------------------
cd /
check "hugevmctl is /usr/bin/hugevmctl from the package" [ "$(dpkg -S /usr/bin/hugevmctl | cut -d: -f1)" = hugevm ]
out=$(/usr/bin/hugevmctl --help 2>&1); rc=$?
echo "$out" | head -n 3 | sed 's/^/#   /'
check "hugevmctl --help exits 0 and prints usage" eval '[ $rc = 0 ] && [[ $out == *"Usage: hugevmctl"* ]]'
version=$(dpkg-parsechangelog -l "$work/hugevm/debian/changelog" -S Version)
out=$(/usr/bin/hugevmctl --version 2>&1); rc=$?
if [ $rc = 2 ]; then
        # No --version option: the version command prints the client's version
        # even when no daemon answers (exit 3).
        out=$(/usr/bin/hugevmctl version 2>&1); rc=$?
        echo "$out" | sed 's/^/#   /'
        check "hugevmctl version prints $version (exit $rc)" eval '[[ $out == *"hugevmctl $version"* ]]'
else
        echo "$out" | sed 's/^/#   /'
        check "hugevmctl --version prints $version" eval '[[ $out == *"$version"* ]]'
fi
out=$(/usr/sbin/hugevmd --version 2>&1)
check "hugevmd --version prints $version" eval '[[ $out == *"hugevmd $version"* ]]'
check "/etc/hugevmd/hugevmd.conf installed" [ -f /etc/hugevmd/hugevmd.conf ]
check "dpkg lists /etc/hugevmd/hugevmd.conf as a conffile of hugevm" \
        sh -c "dpkg-query -W -f='\${Conffiles}' hugevm | grep -q '/etc/hugevmd/hugevmd.conf '"
# The daemon's default path is the conffile: HVO comes from a file the
# operator can see and change, and no pool is managed.
out=$(/usr/sbin/hugevmd --check-config 2>&1); rc=$?
echo "$out" | head -n 2 | sed 's/^/#   /'
check "hugevmd --check-config (default path) reads the conffile" \
        eval '[ $rc = 0 ] && [[ $out == *"Configuration OK: /etc/hugevmd/hugevmd.conf"* ]] && [[ $out == *"HVO: turn on at start"* ]]'
check "... and manages no pool" sh -c "echo \"\$1\" | grep '^Pool ' | grep -qv unmanaged; [ \$? = 1 ]" - "$out"
# verify needs libhugetlbfs0, now only recommended: installed without
# recommends, it says what is missing.
if dpkg-query -W -f='${Status}' libhugetlbfs0 2>/dev/null | grep -q 'install ok installed'; then
        echo "# libhugetlbfs0 is installed here (a build dependency pulls it in): verify's message when it is missing is not shown"
else
        out=$(/usr/bin/hugevmctl verify 2M 2>&1)
        echo "$out" | sed 's/^/#   /'
        check "verify without libhugetlbfs0 names the package" eval '[[ $out == *libhugetlbfs0* ]]'
fi
example=/usr/share/doc/hugevm/examples/hugevmd.conf
check "example config installed" [ -f "$example" ]
out=$(/usr/sbin/hugevmd --check-config -c "$example" 2>&1); rc=$?
echo "$out" | head -n 3 | sed 's/^/#   /'
check "hugevmd --check-config accepts the example" [ $rc = 0 ]
for m in man8/hugevmd.8 man8/hugevmctl.8 man5/hugevmd.conf.5; do
        check "manual $m" [ -f "/usr/share/man/$m.gz" ]
done
check "bash completion installed" [ -f /usr/share/bash-completion/completions/hugevmctl ]
for u in hugevmd.service hugevmd.socket hugevmd-wait.service hugevm-pools.target; do
        check "unit $u installed" [ -f "/lib/systemd/system/$u" ]
done
for u in hugevmd.service hugevmd.socket; do
        state=$(systemctl is-enabled "$u" 2>/dev/null)
        check "$u is enabled ($state)" [ "$state" = enabled ]
done
check "hugevmd.service wanted by multi-user.target" [ -L /etc/systemd/system/multi-user.target.wants/hugevmd.service ]
check "group hugevm exists (sysusers.d)" getent group hugevm
check "group hugevm-admin exists (sysusers.d)" getent group hugevm-admin
check "state directory /var/lib/hugevmd (tmpfiles.d)" [ -d /var/lib/hugevmd ]
check "pkg-config libvmemmap = $version" [ "$(pkg-config --modversion libvmemmap 2>/dev/null)" = "$version" ]
cat >"$work/use.c" <<'C'
#include <stdio.h>
#include <vmemmap.h>
int main(void)
{
        vmm_ctx *ctx;
        int r = vmm_ctx_new("/", NULL, &ctx);
        if (r < 0)
                return 1;
        vmm_ctx_free(ctx);
        puts("libvmemmap ok");
        return 0;
}
C
check "a program builds against libvmemmap-dev and runs" \
        sh -c "cc -o '$work/use' '$work/use.c' \$(pkg-config --cflags --libs libvmemmap) && '$work/use'"

# ---- purge ---------------------------------------------------------------------------
purge
for p in $pkgs; do
        check "$p purged" sh -c "! dpkg-query -W -f='\${Status}' $p 2>/dev/null | grep -q installed"
done
check "no unit left" eval '[ ! -e /lib/systemd/system/hugevmd.service ] && [ ! -L /etc/systemd/system/multi-user.target.wants/hugevmd.service ]'
check "no state left" [ ! -e /var/lib/hugevmd ]
check "the conffile is gone with the purge" [ ! -e /etc/hugevmd/hugevmd.conf ]

echo "1..$n"
if [ $failures = 0 ]; then echo "# all $n checks passed"; exit 0; fi
echo "# $failures of $n checks failed"
exit 1
