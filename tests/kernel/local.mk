# tests/kernel: libvmemmap on this machine's real kernel (root, writable sysfs;
# skipped with the reason otherwise). The script holds the real-kernel lock and
# restores what it changed; the C program does the work. verify.sh runs
# 'hugevmctl verify' on a real hugepage from a temporary hugetlbfs mount.
TESTS += kernel/hvo-real.sh kernel/verify.sh
check_PROGRAMS += kernel/test-hvo-real
kernel_test_hvo_real_SOURCES = kernel/test-hvo-real.c
kernel_test_hvo_real_LDADD = $(top_builddir)/libvmemmap/libvmemmap.la
EXTRA_DIST += kernel/hvo-real.sh kernel/verify.sh
TESTS += kernel/reoptimize.sh
EXTRA_DIST += kernel/reoptimize.sh kernel/real-pool.sh
