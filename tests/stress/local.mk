# tests/stress: faults, crashes, load and abuse against the real hugevmd
# (the fake kernel, tests/fakekernel; one bounded run on the real kernel under
# the real-kernel lock).
# STRESS_FULL=1 runs the issue's full sizes (CI); make check runs smaller ones.
# valgrind.sh is not part of make check: run it as its own CI step
# (tests/stress/valgrind.sh BUILDDIR).
TESTS += \
	stress/fault.sh \
	stress/crash.sh \
	stress/abuse.sh \
	stress/load.sh

check_PROGRAMS += stress/loadgen
stress_loadgen_SOURCES = stress/loadgen.c
stress_loadgen_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) -pthread
stress_loadgen_LDADD = $(top_builddir)/proto/libhugevmproto.la $(top_builddir)/libvmemmap/libvmemmap.la $(JSONC_LIBS) -lpthread

# The LD_PRELOAD fault injector: a libtool module, built for checks only.
check_LTLIBRARIES = stress/faultinject.la
stress_faultinject_la_SOURCES = stress/faultinject.c
stress_faultinject_la_CFLAGS = $(AM_CFLAGS)
# -rpath makes libtool build a real shared object instead of a convenience library.
stress_faultinject_la_LDFLAGS = -module -avoid-version -shared -rpath $(abs_builddir)
stress_faultinject_la_LIBADD = -ldl

EXTRA_DIST += \
	stress/common.sh \
	stress/fault.sh \
	stress/crash.sh \
	stress/crash.py \
	stress/abuse.sh \
	stress/abuse.py \
	stress/load.sh \
	stress/valgrind.sh
