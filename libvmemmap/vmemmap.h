/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvmemmap: the kernel's HugeTLB pools and HugeTLB Vmemmap Optimization (HVO).
 *
 * Every /sys and /proc path is built from the context's root directory, so the
 * library runs the same on the real machine ("/") and on fake trees in tests.
 *
 * Conventions: functions return 0 (or a documented non-negative value) on
 * success and a negative errno on failure. ret_ out-parameters are written only
 * on success, except where a function says otherwise. A /sys or /proc file whose
 * content is not what the kernel writes (empty, not a number, too long) gives
 * -EBADMSG; a number too big for 64 bits gives -ERANGE. Functions taking a
 * size_kb give -ENOENT when that hstate does not exist and -EOPNOTSUPP when the
 * kernel has no hugetlb at all. The library never logs,
 * never exits and keeps no global state; a context is not thread-safe, use one
 * per thread.
 */
#ifndef VMEMMAP_H
#define VMEMMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VMM_PUBLIC __attribute__((visibility("default")))

typedef struct vmm_ctx vmm_ctx;

/* What cannot be read from /sys or /proc. 0 means "detect": the base page size
 * from sysconf(_SC_PAGESIZE), sizeof(struct page) as 64 (every 64-bit arch with
 * HVO). Tests of other architectures set them. */
struct vmm_platform {
        uint64_t page_size;
        uint64_t struct_page_size;
};

/* root: NULL or "" means "/". platform: NULL means detect everything. */
VMM_PUBLIC int vmm_ctx_new(const char *root, const struct vmm_platform *platform, vmm_ctx **ret_ctx);
VMM_PUBLIC void vmm_ctx_free(vmm_ctx *ctx);
VMM_PUBLIC const char *vmm_ctx_root(const vmm_ctx *ctx);

/* ---- Hugepage sizes (hstates) and NUMA nodes ---------------------------- */

/* Sizes in kB, as named by /sys/kernel/mm/hugepages/hugepages-<N>kB, sorted
 * ascending. *ret_sizes is malloc'ed (NULL when *ret_n == 0); free() it.
 * A machine without hugetlb (no directory) gives -EOPNOTSUPP. */
VMM_PUBLIC int vmm_hstates_list(vmm_ctx *ctx, uint64_t **ret_sizes_kb, size_t *ret_n);
/* 0 if the hstate exists, -ENOENT if not (-EOPNOTSUPP: no hugetlb at all). */
VMM_PUBLIC int vmm_hstate_exists(vmm_ctx *ctx, uint64_t size_kb);

/* Nodes with a directory under /sys/devices/system/node (nodeN), sorted.
 * A kernel without NUMA sysfs gives 0 nodes, not an error. free() the array. */
VMM_PUBLIC int vmm_nodes_list(vmm_ctx *ctx, unsigned **ret_nodes, size_t *ret_n);

struct vmm_pool {
        uint64_t total;      /* nr_hugepages (includes surplus) */
        uint64_t free;       /* free_hugepages */
        uint64_t reserved;   /* resv_hugepages */
        uint64_t surplus;    /* surplus_hugepages */
        uint64_t overcommit; /* nr_overcommit_hugepages */
};
VMM_PUBLIC int vmm_pool_read(vmm_ctx *ctx, uint64_t size_kb, struct vmm_pool *ret_pool);

struct vmm_node_pool {
        uint64_t total;   /* nodeN/hugepages/hugepages-<N>kB/nr_hugepages */
        uint64_t free;
        uint64_t surplus;
};
VMM_PUBLIC int vmm_node_pool_read(vmm_ctx *ctx, uint64_t size_kb, unsigned node, struct vmm_node_pool *ret_pool);

/* ---- Resizing ------------------------------------------------------------ */

struct vmm_resize {
        uint64_t before;    /* pages before the write */
        uint64_t requested; /* pages written */
        uint64_t reached;   /* pages read back after the write */
};

/* Write nr_hugepages (node < 0: the global file; else that node's file) and read
 * back what the kernel really did. The kernel reports success for a write that
 * stopped short, so the read-back decides:
 *   0        reached == requested
 *   -ENOMEM  growth stopped short (fragmentation, memory): *ret filled
 *   -EBUSY   shrink stopped short (pages in use became surplus): *ret filled
 *   other    the write itself failed (-EACCES, -EROFS, -EINVAL, ...): *ret untouched */
VMM_PUBLIC int vmm_pool_set(vmm_ctx *ctx, uint64_t size_kb, int node, uint64_t pages, struct vmm_resize *ret);

/* Write nr_overcommit_hugepages and read it back (-EIO if it differs); the
 * kernel's errno when it refuses (-EINVAL for gigantic sizes on kernels that
 * cannot overcommit them). */
VMM_PUBLIC int vmm_overcommit_set(vmm_ctx *ctx, uint64_t size_kb, uint64_t pages);

/* Replace batch free pages of a node's pool by new ones, never shrinking it:
 * grow the node by batch pages (allocated now: optimized if HVO is on), hold
 * them and the `above` free pages under them in a hugetlb memfd bound to the
 * node (*hold_fd: made when < 0, grown on later calls, so that pages held by
 * an earlier batch stay held), shrink the node back: the kernel's free list
 * is a stack per node (new, returned and taken pages at its head), so it
 * frees the batch pages that lay under everything held. close(*hold_fd) at
 * the end gives the held pages back to the pool. Only on the machine's own
 * root (-EOPNOTSUPP under another: the memfd is the running kernel's).
 * -ENOMEM when growth stopped short or the pages could not be held (then the
 * new pages are given back and nothing old is freed); -EBUSY when the shrink
 * stopped short (pages taken meanwhile). */
struct vmm_replace {
        uint64_t before, after;   /* node pages at the start and the end */
        uint64_t grown;           /* pages the growth added */
        uint64_t held;            /* pages this call added to the hold */
        uint64_t freed;           /* pages the shrink freed */
};
VMM_PUBLIC int vmm_pool_replace(vmm_ctx *ctx, uint64_t size_kb, unsigned node, uint64_t batch, uint64_t above,
                                int *hold_fd, struct vmm_replace *ret);

/* Demotion (5.16+): the hstate's demote_size, in kB (-EOPNOTSUPP: no demote
 * files on this kernel). */
VMM_PUBLIC int vmm_demote_size_read(vmm_ctx *ctx, uint64_t size_kb, uint64_t *ret_kb);

struct vmm_demote {
        uint64_t before, after;   /* nr_hugepages of the larger pool (node or global) around the write */
        uint64_t requested;       /* pages written to demote */
        uint64_t demoted;         /* before - after: pages split into demote_size pages */
        uint64_t demote_size_kb;  /* demote_size when written: each page became size_kb / it pages */
};
/* Write the hstate's demote file (node < 0: the global one, else that node's):
 * the kernel splits up to pages free, unreserved pages of size_kb, taken from
 * the head of the free lists, into pages of demote_size (optimized iff HVO is
 * on). *ret says how many went:
 *   0        all of them
 *   -EBUSY   fewer (no more free unreserved pages): *ret filled
 *   -ENOMEM  a vmemmap restore failed (that page stayed): *ret filled
 *   other    the write failed (-EINVAL: no demote_size smaller than size_kb,
 *            -EOPNOTSUPP: no demote file on this kernel, -EACCES, ...) */
VMM_PUBLIC int vmm_pool_demote(vmm_ctx *ctx, uint64_t size_kb, int node, uint64_t pages, struct vmm_demote *ret);

/* Compact memory: node < 0 writes /proc/sys/vm/compact_memory, else
 * /sys/devices/system/node/nodeN/compact. */
VMM_PUBLIC int vmm_compact(vmm_ctx *ctx, int node);

/* ---- HVO ----------------------------------------------------------------- */

struct vmm_kernel {
        char release[65];         /* /proc/sys/kernel/osrelease */
        char arch[32];            /* /proc/sys/kernel/arch, "" if absent */
        unsigned major, minor;    /* parsed from release */
        unsigned reserve_pages;   /* vmemmap pages HVO keeps: 2 before 5.18, 1 since */
        uint64_t page_size;       /* base page size, bytes */
        uint64_t struct_page_size;
};
VMM_PUBLIC int vmm_kernel_read(vmm_ctx *ctx, struct vmm_kernel *ret);

enum vmm_boot_param { VMM_BOOT_ABSENT = -1, VMM_BOOT_OFF = 0, VMM_BOOT_ON = 1 };

struct vmm_hvo {
        bool supported;        /* /proc/sys/vm/hugetlb_optimize_vmemmap exists */
        bool enabled;          /* its value (false when unsupported) */
        enum vmm_boot_param boot_param; /* hugetlb_free_vmemmap= on /proc/cmdline, read as
                                         * the kernel does: kstrtobool (on/off, y/n, 1/0, ...),
                                         * last valid occurrence wins, nothing after "--" */
};
VMM_PUBLIC int vmm_hvo_read(vmm_ctx *ctx, struct vmm_hvo *ret);

/* Turn HVO on or off. -EOPNOTSUPP when the sysctl does not exist; the kernel's
 * errno (-EPERM, -EACCES, -EROFS, -EINVAL...) when it refuses; -EIO when the
 * value read back differs from what was written. */
VMM_PUBLIC int vmm_hvo_set(vmm_ctx *ctx, bool enabled);

/* What HVO does to one hugepage of a size on this kernel. */
struct vmm_hstate_hvo {
        bool eligible;               /* struct page size a power of two && vmemmap_pages > reserve */
        uint64_t vmemmap_pages;      /* V = pages per hugepage * sizeof(struct page) / page size */
        uint64_t saved_pages;        /* V - reserve if eligible, else 0 */
        uint64_t saved_bytes;        /* saved_pages * page size */
};
/* Pure arithmetic; no I/O. -EINVAL on nonsense input (zero sizes, size_kb not a
 * multiple of the page size). */
VMM_PUBLIC int vmm_hstate_hvo_compute(uint64_t size_kb, const struct vmm_kernel *kernel, struct vmm_hstate_hvo *ret);
/* Reserve pages for a kernel version: 2 before 5.18, 1 from 5.18 on. */
VMM_PUBLIC unsigned vmm_reserve_pages_for(unsigned major, unsigned minor);

/* ---- Memmap accounting (kernel 6.11+) ------------------------------------ */

struct vmm_memmap {
        uint64_t baseline_pages; /* present memory blocks' struct pages, in pages */
        uint64_t current_pages;  /* nr_memmap_pages + nr_memmap_boot_pages */
        int64_t saved_pages;     /* baseline - current */
        uint64_t saved_bytes;    /* saved_pages * page size, 0 if negative */
};
/* -ENODATA when /proc/vmstat has no nr_memmap counters (kernels before 6.11)
 * or there are no memory block directories (no CONFIG_MEMORY_HOTPLUG). */
VMM_PUBLIC int vmm_memmap_read(vmm_ctx *ctx, struct vmm_memmap *ret);

/* MemTotal from /proc/meminfo, in bytes: the bound of any pool. -ENODATA when
 * there is no MemTotal: line; -ERANGE when the bytes do not fit 64 bits. */
VMM_PUBLIC int vmm_memtotal(vmm_ctx *ctx, uint64_t *ret_bytes);

/* Free memory on a node (node < 0: the machine), as the page allocator has
 * it: what a pool of a size could still take, and whether it comes in blocks
 * big enough (a free block of order o is page_size << o bytes). */
#define VMM_ORDER_UNKNOWN (-2)   /* no /proc/buddyinfo */
struct vmm_free {
        uint64_t free_kb;        /* MemFree (Node N MemFree) */
        int largest_order;       /* the largest free block's order; -1 none, VMM_ORDER_UNKNOWN */
};
VMM_PUBLIC int vmm_free_read(vmm_ctx *ctx, int node, struct vmm_free *ret);

/* What growth can get on a node (node < 0: the machine, summed over nodes):
 * the free blocks per order from /proc/buddyinfo (over the node's zones) and
 * the pageblocks by migrate type from /proc/pagetypeinfo ("Number of blocks
 * type"; the file is 0400 root: without it pageblock_order is -1 and the
 * block counts 0). -ENODATA when buddyinfo lists no zone of the node. */
#define VMM_MAX_ORDERS 16
struct vmm_buddy {
        uint64_t free_kb;                     /* MemFree (Node N MemFree) */
        int orders;                           /* orders buddyinfo lists: MAX_PAGE_ORDER + 1 */
        uint64_t free_blocks[VMM_MAX_ORDERS]; /* free blocks of each order */
        int pageblock_order;                  /* "Page block order:", -1 unknown */
        uint64_t unmovable_blocks, movable_blocks, reclaimable_blocks;
        uint64_t cache_kb;                    /* clean page cache (FilePages - Shmem - Dirty - Writeback;
                                               * Cached: of /proc/meminfo for the machine), 0 unknown */
};
VMM_PUBLIC int vmm_buddy_read(vmm_ctx *ctx, int node, struct vmm_buddy *ret);
/* Blocks of order that the free lists give now, without compaction: the sum
 * over k >= order of free_blocks[k] << (k - order). */
VMM_PUBLIC uint64_t vmm_buddy_obtainable(const struct vmm_buddy *b, int order);
/* Aligned ranges of 2^order base pages on node that could become a page of
 * that order, from /proc/zoneinfo (inside one zone; for a gigantic page not
 * ZONE_MOVABLE) and /proc/kpageflags: no page in the range is slab, a page
 * table, reserved, a hole, offline or poisoned, the range is not all hugetlb
 * (a page of the pool already), and, unless gigantic (alloc_contig_pages moves
 * them) or vm.compact_unevictable_allowed=1, no page is mlocked. An upper
 * bound: kernel pages without flags look free. Counting stops at max, and the
 * scan when *budget pages have been read (8 bytes each; *budget is lowered by
 * what was read, so one budget can span several calls); the ranges left then
 * count unread. Root only (kpageflags is 0400); -ENODATA: no zone on node. */
VMM_PUBLIC int vmm_contig_ranges(vmm_ctx *ctx, int node, int order, bool gigantic, uint64_t max, uint64_t *budget,
                                 uint64_t *ret_count);
/* vm.compact_unevictable_allowed: whether compaction moves mlocked pages. */
VMM_PUBLIC int vmm_compact_unevictable_allowed(vmm_ctx *ctx, bool *ret);
/* Drop the clean page cache (write 1 to /proc/sys/vm/drop_caches): the
 * machine's, there is no per-node file. */
VMM_PUBLIC int vmm_drop_caches(vmm_ctx *ctx);

/* ---- hugetlbfs mounts and SysV shared memory ----------------------------- */

#define VMM_MAX_MOUNTS 4096   /* hugetlbfs mounts listed at most (-E2BIG beyond) */

struct vmm_mount {
        char path[1024];      /* mount point, unescaped */
        uint64_t size_kb;     /* page size it serves: pagesize=, else the default size */
        char options[512];    /* as /proc/mounts shows them */
};
/* The hugetlbfs mounts in /proc/mounts, in its order; free() *ret_mounts.
 * Lines the library cannot place (overlong, unparsable pagesize=) are skipped. */
VMM_PUBLIC int vmm_mounts_list(vmm_ctx *ctx, struct vmm_mount **ret_mounts, size_t *ret_n);

/* An fd on the mount table for poll(): the kernel flags every change of it
 * with POLLPRI (a fake root's regular file is never flagged). close() it. */
VMM_PUBLIC int vmm_mounts_watch_open(vmm_ctx *ctx);

struct vmm_mount_opts {
        uint64_t size_bytes;      /* size=, 0 for none */
        uint64_t min_size_bytes;  /* min_size= (reserves pages at mount time), 0 for none */
        int mode;                 /* mode= of the root directory, -1 for the default */
        int64_t uid, gid;         /* owner, -1 for the default */
};
/* Mount hugetlbfs for size_kb at dir (below the root; created, 0755, if missing)
 * with nosuid,nodev; opts may be NULL. dir is resolved without following
 * symlinks (openat2 RESOLVE_NO_SYMLINKS, component by component; the root
 * itself may hold them), checked empty and mounted on by file descriptor
 * (fsopen, fsconfig, fsmount, move_mount): what is mounted on is the directory
 * that was checked, whatever happens to the path meanwhile. -EINVAL if dir is
 * not absolute and normalized (see vmm_mount_point_check), -ELOOP if a
 * component is a symlink, -ENOTDIR if one is not a directory, -ENOTEMPTY if
 * dir holds anything (the mount would hide it). The kernel's errno when it
 * refuses (-EPERM without CAP_SYS_ADMIN, -EINVAL for a size without an
 * hstate, -ENOMEM when min_size= cannot be reserved, -ENOSYS without the new
 * mount API: before Linux 5.2). */
VMM_PUBLIC int vmm_hugetlbfs_mount(vmm_ctx *ctx, const char *dir, uint64_t size_kb, const struct vmm_mount_opts *opts);

/* Whether dir could be mounted on by vmm_hugetlbfs_mount, as the path stands
 * now (for a configuration check; the mount checks again): 0 if every
 * existing component is a directory and none a symlink (missing ones would be
 * created). -EINVAL if dir is not absolute, is "/", or has an empty, "." or
 * ".." component or a trailing '/'; -ELOOP (a symlink) or -ENOTDIR, with
 * *ret_bad_len (may be NULL) the length of dir's prefix naming that component. */
VMM_PUBLIC int vmm_mount_point_check(vmm_ctx *ctx, const char *dir, size_t *ret_bad_len);

struct vmm_shm {
        uint64_t group;    /* vm.hugetlb_shm_group: the gid allowed shmget(SHM_HUGETLB) */
        uint64_t shmmax;   /* kernel.shmmax, bytes */
        uint64_t shmall;   /* kernel.shmall, base pages */
};
VMM_PUBLIC int vmm_shm_read(vmm_ctx *ctx, struct vmm_shm *ret);
/* Set vm.hugetlb_shm_group (read back: -EIO if the kernel kept another value). */
VMM_PUBLIC int vmm_shm_group_set(vmm_ctx *ctx, uint64_t gid);
#define VMM_SHM_RAISED_SHMMAX 1u
#define VMM_SHM_RAISED_SHMALL 2u
/* Raise kernel.shmmax to at least bytes and kernel.shmall to at least as many
 * base pages; a larger value is never lowered. *ret_raised (may be NULL): the
 * VMM_SHM_RAISED_* bits of what was written. */
VMM_PUBLIC int vmm_shm_limits_raise(vmm_ctx *ctx, uint64_t bytes, unsigned *ret_raised);

/* ---- Sizes and counts as operators write them ---------------------------- */

/* "2M", "2MB", "2MiB", "2048kB", "2048K", "1G", "1GB", "1GiB", "4096" (bytes).
 * Units are binary whatever their spelling (kB = KiB = 1024, as sysfs means
 * it): B, K/KB/KiB, M, G, T, P, E. Case-insensitive units; no sign, no spaces
 * inside, no fractions; overflow is -ERANGE; anything else -EINVAL. Everything
 * vmm_size_format() writes parses back to the same number. */
VMM_PUBLIC int vmm_size_parse(const char *text, uint64_t *ret_bytes);
/* Largest exact binary unit: 2097152 -> "2MiB", 1536 -> "1536B" ... "1.5KiB" never.
 * Returns -ENOBUFS if buf is too small. */
VMM_PUBLIC int vmm_size_format(uint64_t bytes, char *buf, size_t len);
/* Human rounding for reports: "28.0 MiB", "1.2 GiB", "512 B". */
VMM_PUBLIC int vmm_size_format_human(uint64_t bytes, char *buf, size_t len);
/* The sysfs name of a size: 2048 -> "2048kB". */
VMM_PUBLIC int vmm_size_label(uint64_t size_kb, char *buf, size_t len);

/* Decimal page count: digits only (no sign, no hex, no spaces, no trailing
 * text), at least one digit, overflow -ERANGE, else -EINVAL. */
VMM_PUBLIC int vmm_count_parse(const char *text, uint64_t *ret);

#ifdef __cplusplus
}
#endif
#endif
