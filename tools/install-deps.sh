#!/bin/bash
# Install the Debian packages hugevm builds and tests with, those missing only
# (apt-get update runs only when something is missing). Used by demo.sh and
# tests/run-all.sh; the qemu, fuzz and Debian-package steps install their own extras.
set -euo pipefail
packages=(build-essential autoconf automake libtool pkg-config
          libuv1-dev libjson-c-dev libsystemd-dev libhugetlbfs-dev libhugetlbfs-bin
          libinih-dev libmicrohttpd-dev libsmartcols-dev
          systemd python3 python3-yaml socat util-linux prometheus strace curl bash-completion
          valgrind clang libclang-rt-14-dev
          libfuse3-dev fuse3
          mmdebstrap cpio qemu-system-x86)   # the guest tier (tests/guest/run.sh)
missing=()
for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
        echo "== installing: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        sudo_=""; [ "$(id -u)" = 0 ] || sudo_=sudo
        $sudo_ apt-get update -q
        $sudo_ apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

