#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the guest tier's Debian 12 root file system with mmdebstrap and pack
# it as an uncompressed cpio archive (the guest boots it as its initramfs:
# Debian's kernel has ext4, virtio and 9p as modules, and the qemu tier's
# kernel cache holds no modules; tmpfs and initramfs are built in).
#
#   tests/guest/build-image.sh OUTFILE
#
# The packages: systemd as PID 1, udev, jq and python3 for the checks, and
# what the hugevm .deb depends on (its shlibs: libc6 and the libraries below),
# so that the .deb installs with dpkg -i without network. run.sh keys its
# cache on a hash of this file, so changing the list rebuilds the image.
set -euo pipefail
out=$1
PACKAGES="systemd systemd-sysv udev dbus jq python3 procps kmod
libuv1 libjson-c5 libsystemd0 libinih1 libmicrohttpd12 libsmartcols1"

# The mirror apt uses on this machine (deb822 or one-line sources).
uris=$( { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources || true
          grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list || true; } | awk '{print $2}')
mirror=$(printf '%s\n' "$uris" | grep -v security | head -n1 || true)
security=$(printf '%s\n' "$uris" | grep security | head -n1 || true)
mirror=${mirror:-http://deb.debian.org/debian}
work=$(mktemp -d /tmp/hugevm-guest-image.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root
srcs=("deb $mirror bookworm main" "deb $mirror bookworm-updates main")
[ -n "$security" ] && srcs+=("deb $security bookworm-security main")
echo "# mmdebstrap from $mirror${security:+ and $security}"
mmdebstrap --quiet --mode=root --variant=apt --include="$(echo $PACKAGES | tr ' ' ',')" \
        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --dpkgopt='path-include=/usr/share/doc/hugevm/*' \
        --aptopt='Acquire::Languages "none"' \
        bookworm "$root" "${srcs[@]}" </dev/null

# A quiet, offline machine: no getty, no timers that reach the network.
echo hugevm-guest >"$root/etc/hostname"
: >"$root/etc/fstab"
: >"$root/etc/machine-id"
for u in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer \
         systemd-timesyncd.service serial-getty@ttyS0.service getty@tty1.service getty-static.service \
         systemd-networkd-wait-online.service; do
        ln -sf /dev/null "$root/etc/systemd/system/$u"
done
mkdir -p "$root/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\nForwardToConsole=no\n' >"$root/etc/systemd/journald.conf.d/guest.conf"
rm -rf "$root/var/cache/apt/"*.bin "$root/var/lib/apt/lists/"* "$root/var/cache/apt/archives/"*.deb
(cd "$root" && find . -xdev | LC_ALL=C sort | cpio -o -H newc --quiet) >"$work/rootfs.cpio"
mv "$work/rootfs.cpio" "$out"
echo "# image: $(du -h "$out" | cut -f1) ($(echo $PACKAGES | wc -w) packages asked)"
