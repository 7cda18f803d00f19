# tests/unit: libvmemmap on fake /sys and /proc trees built in temp dirs (see unit/fake.h),
# and the protocol's doc against proto/proto.h.
UNIT_FAKE = unit/fake.c unit/fake.h
UNIT_LDADD = $(top_builddir)/libvmemmap/libvmemmap.la

unit_tests = \
	unit/test-size \
	unit/test-pool \
	unit/test-malformed \
	unit/test-hvo \
	unit/test-memmap \
	unit/test-hugetlbfs \
	unit/test-protocol-doc
TESTS += $(unit_tests)
check_PROGRAMS += $(unit_tests)

unit_test_size_SOURCES = unit/test-size.c
unit_test_size_LDADD = $(UNIT_LDADD)
unit_test_pool_SOURCES = unit/test-pool.c $(UNIT_FAKE)
unit_test_pool_LDADD = $(UNIT_LDADD)
unit_test_malformed_SOURCES = unit/test-malformed.c $(UNIT_FAKE)
unit_test_malformed_LDADD = $(UNIT_LDADD)
unit_test_hvo_SOURCES = unit/test-hvo.c $(UNIT_FAKE)
unit_test_hvo_LDADD = $(UNIT_LDADD)
unit_test_memmap_SOURCES = unit/test-memmap.c $(UNIT_FAKE)
unit_test_memmap_LDADD = $(UNIT_LDADD)
unit_test_hugetlbfs_SOURCES = unit/test-hugetlbfs.c $(UNIT_FAKE)
unit_test_hugetlbfs_LDADD = $(UNIT_LDADD)

# docs/protocol.md's method and error tables against proto/proto.h's lists.
unit_test_protocol_doc_SOURCES = unit/test-protocol-doc.c
unit_test_protocol_doc_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
unit_test_protocol_doc_LDADD = $(top_builddir)/proto/libhugevmproto.la $(JSONC_LIBS)
