# tests/daemon: unit tests of hugevmd's modules (the core with its reconciler,
# methods, status objects and waits without a socket; config parser, savings
# ledger, state file, request checks). bench-chunk is built, not run: it changes the
# real pools (see its header).
DAEMON_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/daemon -I$(top_srcdir)/daemon/core -I$(top_srcdir)/daemon/api \
	-I$(top_srcdir)/daemon/util $(UV_CFLAGS) $(JSONC_CFLAGS) $(INIH_CFLAGS) $(SYSTEMD_CFLAGS) $(MHD_CFLAGS)
# hugevmd's internal library: every module but main.c.
DAEMON_LIBS = $(top_builddir)/daemon/libhugevmd.la

daemon_tests = daemon/test-core daemon/test-ledger daemon/test-chunk daemon/test-conf daemon/test-state daemon/test-rpc-params
TESTS += $(daemon_tests)
check_PROGRAMS += $(daemon_tests) daemon/bench-chunk

daemon_test_ledger_SOURCES = daemon/test-ledger.c
daemon_test_ledger_CFLAGS = $(DAEMON_CFLAGS)
daemon_test_ledger_LDADD = $(DAEMON_LIBS)

daemon_test_conf_SOURCES = daemon/test-conf.c unit/fake.c unit/fake.h
daemon_test_conf_CFLAGS = $(DAEMON_CFLAGS)
daemon_test_conf_LDADD = $(DAEMON_LIBS)

daemon_test_state_SOURCES = daemon/test-state.c unit/fake.c unit/fake.h
daemon_test_state_CFLAGS = $(DAEMON_CFLAGS)
daemon_test_state_LDADD = $(DAEMON_LIBS)

daemon_test_rpc_params_SOURCES = daemon/test-rpc-params.c
daemon_test_rpc_params_CFLAGS = $(DAEMON_CFLAGS)
daemon_test_rpc_params_LDADD = $(DAEMON_LIBS)

daemon_bench_chunk_SOURCES = daemon/bench-chunk.c
daemon_bench_chunk_CFLAGS = $(DAEMON_CFLAGS)
daemon_bench_chunk_LDADD = $(DAEMON_LIBS)

daemon_test_chunk_SOURCES = daemon/test-chunk.c
daemon_test_chunk_CFLAGS = $(DAEMON_CFLAGS)
daemon_test_chunk_LDADD = $(DAEMON_LIBS)

# On the fake kernel (fakekernel/fakekernel, started by fakekernel/fk.c); the
# config and state directory are plain files (unit/fake.c).
daemon_test_core_SOURCES = daemon/test-core.c unit/fake.c unit/fake.h fakekernel/fk.c fakekernel/fk.h
daemon_test_core_CFLAGS = $(DAEMON_CFLAGS) -DFK_FAKEKERNEL='"$(abs_top_builddir)/tests/fakekernel/fakekernel"'
daemon_test_core_LDADD = $(DAEMON_LIBS)
