/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fake /sys and /proc trees in temporary directories, for what this machine
 * cannot show (other architectures, old kernels, two NUMA nodes, 1G pages,
 * hostile files). Setup failures bail out of the test ("Bail out!"): a test
 * whose fixture is broken must not report anything as passing. */
#ifndef HUGEVM_FAKE_H
#define HUGEVM_FAKE_H

#include <stdint.h>

/* A new empty root under $TMPDIR (or /tmp); free with fake_root_free(). */
char *fake_root_new(void);
/* Remove the whole tree and free the string. */
void fake_root_free(char *root);

/* root/rel with printf content; parent directories are created. */
void fake_file(const char *root, const char *rel, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void fake_dir(const char *root, const char *rel);
void fake_symlink(const char *root, const char *rel, const char *target);
void fake_remove(const char *root, const char *rel);

/* /sys/kernel/mm/hugepages/hugepages-<size_kb>kB with its counters. */
void fake_hstate(const char *root, uint64_t size_kb, uint64_t total, uint64_t free, uint64_t resv,
                 uint64_t surplus, uint64_t overcommit);
/* /sys/devices/system/node/node<node>/hugepages/hugepages-<size_kb>kB. */
void fake_node_hstate(const char *root, unsigned node, uint64_t size_kb, uint64_t total, uint64_t free,
                      uint64_t surplus);
/* osrelease, arch (NULL: absent), cmdline, HVO sysctl (-1: absent). */
void fake_kernel(const char *root, const char *release, const char *arch, const char *cmdline, int hvo);
/* memory0..memory<blocks-1> and block_size_bytes (hex text as the kernel writes it). */
void fake_memory(const char *root, unsigned blocks, const char *block_size_hex);
/* /proc/vmstat with a few ordinary lines around the memmap counters; a
 * negative value leaves that counter out. */
void fake_vmstat(const char *root, int64_t memmap_pages, int64_t memmap_boot_pages);

/* x86-64, 6.18, nodes 0 and 1, 2048kB and 1048576kB hstates, HVO sysctl off,
 * 16 memory blocks of 128 MiB, memmap counters present:
 *   2048kB    global total 10 free 4 resv 2 surplus 1 overcommit 5; node0 6/3/1, node1 4/1/0
 *   1048576kB global total 2 free 2 resv 0 surplus 0 overcommit 0; node0 2/2/0, node1 0/0/0 */
void fake_x86_64(const char *root);

/* A libvmemmap context on root with this base page size and a 64-byte struct
 * page (bails out if it cannot be made); free with vmm_ctx_free(). */
struct vmm_ctx;
struct vmm_ctx *fake_ctx(const char *root, uint64_t page_size);

#endif
