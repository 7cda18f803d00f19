#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Build hugevm's Debian packages the way tests/deb/build.sh does (a clean copy
# of what git tracks or would track, dpkg-buildpackage -us -uc -b) and put the
# .debs into OUTDIR. Build dependencies must be installed (tests/deb/build.sh
# or tools/install-deps.sh do it). Quiet on success; the build log's tail on
# failure.
#
#   tests/guest/build-debs.sh OUTDIR
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
out=$1
work=$(mktemp -d /tmp/hugevm-guest-debs.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/hugevm" "$out"
if git -C "$src" rev-parse --show-toplevel >/dev/null 2>&1; then
        (cd "$src" && git ls-files -z -c -o --exclude-standard | tar --null -T - --ignore-failed-read -cf - 2>/dev/null) |
                tar -xf - -C "$work/hugevm"
else
        (cd "$src" && tar --exclude=./autom4te.cache -cf - .) | tar -xf - -C "$work/hugevm"
fi
cd "$work/hugevm"
if ! DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=$(nproc)" dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1; then
        tail -n 40 "$work/build.log" | sed 's/^/# build: /'
        exit 1
fi
cp "$work"/hugevm_*.deb "$work"/libvmemmap0_*.deb "$out/"
