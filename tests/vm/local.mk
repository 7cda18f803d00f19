# tests/vm: the qemu tier (Debian 6.1 kernel, two NUMA nodes, 1 GiB pages).
# Not in `make check`: it installs packages, downloads a kernel and takes
# minutes. Run it as tests/vm/run.sh BUILDDIR (tests/run-all.sh does).
# Only shipped in the tarball, so that it can be run from an unpacked release.
EXTRA_DIST += vm/run.sh vm/init vm/vmlib.sh vm/cases.sh vm/plan.sh vm/adopt.sh vm/bootplan.conf vm/frag.sh vm/fragment.c vm/holder.c
# The booted systemd guest (tests/guest/run.sh BUILDDIR, after the deb tier in
# tests/run-all.sh): Debian 12 with systemd as PID 1, the .deb installed.
EXTRA_DIST += guest/run.sh guest/build-image.sh guest/build-debs.sh guest/cases.sh
