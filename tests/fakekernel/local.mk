# tests/fakekernel: a FUSE filesystem serving the hugetlb sysfs and procfs
# files of a fake machine as the kernel does (fakekernel.c says why FUSE),
# its own tier, and the comparison with the real kernel's 2 MiB pool
# (kernel/fake-vs-real.sh, which holds the real-kernel lock). Without libfuse3
# the program is not built and both scripts skip with a TAP "1..0 # SKIP".
TESTS += fakekernel/test-fakekernel.sh kernel/fake-vs-real.sh
EXTRA_DIST += fakekernel/README.md fakekernel/fakekernel.sh fakekernel/test-fakekernel.sh kernel/fake-vs-real.sh
check_PROGRAMS += fakekernel/fk-holder
fakekernel_fk_holder_SOURCES = fakekernel/fk-holder.c
if HAVE_FUSE
check_PROGRAMS += fakekernel/fakekernel
fakekernel_fakekernel_SOURCES = fakekernel/fakekernel.c fakekernel/model.c fakekernel/model.h
fakekernel_fakekernel_CFLAGS = $(AM_CFLAGS) $(FUSE_CFLAGS) -pthread
fakekernel_fakekernel_LDADD = $(FUSE_LIBS) -lpthread
endif
