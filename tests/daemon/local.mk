# tests/daemon: unit tests of hugevmd's modules (config parser, savings ledger,
# state file, request checks). bench-chunk is built, not run: it changes the
# real pools (see its header).
DAEMON_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/daemon $(JSONC_CFLAGS) $(INIH_CFLAGS)

daemon_tests = daemon/test-ledger daemon/test-chunk daemon/test-conf daemon/test-state daemon/test-rpc-params
TESTS += $(daemon_tests)
check_PROGRAMS += $(daemon_tests) daemon/bench-chunk

daemon_test_ledger_SOURCES = daemon/test-ledger.c ../daemon/ledger.c ../daemon/ledger.h
daemon_test_ledger_CFLAGS = $(DAEMON_CFLAGS)

daemon_test_conf_SOURCES = daemon/test-conf.c ../daemon/conf.c ../daemon/conf.h unit/fake.c unit/fake.h
daemon_test_conf_CFLAGS = $(DAEMON_CFLAGS)
daemon_test_conf_LDADD = $(top_builddir)/libvmemmap/libvmemmap.la $(INIH_LIBS)

daemon_test_state_SOURCES = daemon/test-state.c ../daemon/state.c ../daemon/state.h
daemon_test_state_CFLAGS = $(DAEMON_CFLAGS)
daemon_test_state_LDADD = $(top_builddir)/libvmemmap/libvmemmap.la $(JSONC_LIBS)

daemon_test_rpc_params_SOURCES = daemon/test-rpc-params.c ../daemon/rpc-params.c ../daemon/rpc.h
daemon_test_rpc_params_CFLAGS = $(DAEMON_CFLAGS)
daemon_test_rpc_params_LDADD = $(top_builddir)/proto/libhugevmproto.la $(JSONC_LIBS)

daemon_bench_chunk_SOURCES = daemon/bench-chunk.c ../daemon/chunk.c ../daemon/chunk.h
daemon_bench_chunk_CFLAGS = $(DAEMON_CFLAGS) $(UV_CFLAGS)
daemon_bench_chunk_LDADD = $(top_builddir)/libvmemmap/libvmemmap.la $(UV_LIBS) -lm

daemon_test_chunk_SOURCES = daemon/test-chunk.c ../daemon/chunk.c ../daemon/chunk.h
daemon_test_chunk_CFLAGS = $(DAEMON_CFLAGS)
daemon_test_chunk_LDADD = -lm
