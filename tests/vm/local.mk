# tests/vm: the qemu tier (Debian 6.1 kernel, two NUMA nodes, 1 GiB pages).
# Not in `make check`: it installs packages, downloads a kernel and takes
# minutes. Run it as tests/vm/run.sh BUILDDIR (tests/run-all.sh does).
# Only shipped in the tarball, so that it can be run from an unpacked release.
EXTRA_DIST += vm/run.sh vm/init vm/cases.sh vm/holder.c
