/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fake kernel's model of HugeTLB: per node, per hstate, the pools as
 * mm/hugetlb.c keeps them (free lists with each page marked optimized or not,
 * pages in use, surplus, reservations), the node memory they come from, and
 * the vmemmap counters HVO moves. fakekernel.c serves it as sysfs and procfs
 * files; this file knows nothing about FUSE.
 *
 * Every function here but the fk_op_* entry points expects fk.lock held.
 */
#ifndef FAKEKERNEL_MODEL_H
#define FAKEKERNEL_MODEL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FK_MAX_NODES 64
#define FK_MAX_SIZES 8

/* A node's free list: v[n-1] is the head (where the kernel enqueues and
 * dequeues). Each byte is 1 for a page whose vmemmap HVO optimized. */
struct fk_stack {
        uint8_t *v;
        size_t n, cap;
};

/* The pages processes hold, oldest first (a process gives them back in
 * address order, which is the order it faulted them in). Each byte:
 * node | FK_OPT. */
#define FK_OPT 0x80
#define FK_NODE(v) ((unsigned)((v) & 0x7f))
struct fk_fifo {
        uint8_t *v;
        size_t start, n, cap;
};

struct fk_hstate {
        uint64_t kb;           /* page size in kB */
        uint64_t base_pages;   /* base pages per hugepage */
        uint64_t vmemmap;      /* vmemmap pages per hugepage */
        uint64_t saved;        /* vmemmap pages HVO frees per page, 0: not eligible */
        bool gigantic;         /* order > MAX_PAGE_ORDER: no surplus, no buddy counters */
        int demote_to;         /* hstate index demote splits into, -1: no demote files */
        uint64_t demote_kb;    /* demote_size */
        uint64_t nr, free, resv, surplus, overcommit, max_huge_pages;
        unsigned next_alloc, next_free; /* h->next_nid_to_alloc / next_nid_to_free */
        uint64_t nr_node[FK_MAX_NODES], surplus_node[FK_MAX_NODES];
        struct fk_stack freelist[FK_MAX_NODES];
        struct fk_fifo inuse;
        pthread_mutex_t resize; /* h->resize_lock: one resize of this hstate at a time */
};

struct fk_node {
        uint64_t mem_kb;               /* MemTotal share; 0: memoryless (not in N_MEMORY) */
        uint64_t avail_kb;             /* what the page allocator could give hugetlb now */
        int64_t cap[FK_MAX_SIZES];     /* fragmentation: at most this many more pages of
                                        * that size (contiguous ranges); -1: no limit */
        uint64_t cache_kb;             /* clean page cache (used, not in avail_kb): drop_caches frees it */
};

struct fk_fault {               /* an injected error: fail read/write PATH ERRNO COUNT */
        char path[256];
        bool write;
        int err;
        unsigned count;
};

struct fk_machine {
        pthread_mutex_t lock;
        /* the kernel */
        char release[64], arch[64], cmdline[1024];
        unsigned major, minor;
        uint64_t page_size, struct_page, block_size;
        unsigned reserve;           /* vmemmap pages HVO keeps per hugepage: 2 before 5.18, then 1 */
        bool has_hvo_sysctl, has_memmap_counters, has_arch, has_demote, has_nr_hugetlb;
        bool batched_alloc;         /* 6.7+: a write's new pages join the pool at its end */
        bool gigantic_runtime;      /* gigantic pages can be allocated at run time */
        bool compact_heals;         /* compaction lifts the fragmentation caps */
        /* the machine */
        unsigned nnodes, nsizes, default_size;
        struct fk_node node[FK_MAX_NODES];
        struct fk_hstate hs[FK_MAX_SIZES];  /* ascending size */
        bool hvo;
        int64_t memmap_pages, memmap_boot_pages;
        uint64_t memmap_baseline;   /* blocks * block_size / page_size * struct_page / page_size */
        uint64_t buddy_success, buddy_fail;
        bool restore_fail;          /* vmemmap restore fails: optimized pages stay as free surplus */
        unsigned delay_us;          /* per page allocated by a pool write */
        uint64_t shmmax, shmall;
        int64_t shm_group;
        char *mounts;
        uint64_t mounts_event;      /* bumped on every change of the mount table */
        char result[512];           /* what the last control command said */
        struct fk_fault faults[16];
        unsigned nfaults;
        bool (*interrupted)(void);  /* the writer has a signal pending (FUSE interrupt) */
        void (*mounts_changed)(void);
};

extern struct fk_machine fk;

/* A growing string. */
struct fk_buf {
        char *p;
        size_t n, cap;
};
void fk_buf_printf(struct fk_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fk_buf_free(struct fk_buf *b);

/* Configuration, before fk_machine_init: "key=value" (see fakekernel.c's usage). */
void fk_config_defaults(void);
int fk_config_set(const char *key, const char *value, char *err, size_t errlen);
int fk_config_file(const char *path, char *err, size_t errlen);
int fk_machine_init(char *err, size_t errlen);

/* Parsers as the kernel's: kstrtoul(buf, 10) for sysfs; proc_doulongvec_minmax
 * and proc_dointvec for sysctls (consumed: bytes the write reports). */
int fk_kstrtoul(const char *buf, size_t len, uint64_t *ret);
int fk_proc_get_ulong(const char *buf, size_t len, uint64_t *ret, size_t *consumed);
int fk_proc_get_int(const char *buf, size_t len, int64_t *ret, size_t *consumed);
uint64_t fk_memparse(const char *buf, size_t len);
int fk_parse_kb(const char *text, uint64_t *ret_kb);
int fk_hstate_index(uint64_t kb);

/* The entry points the files call. They take the locks themselves and return
 * 0 or -errno, as the kernel's store functions do. node < 0: the global file. */
int fk_op_set_nr_hugepages(unsigned h, int node, uint64_t count);
int fk_op_set_overcommit(unsigned h, uint64_t count);
int fk_op_set_hvo(bool on);
int fk_op_compact(int node);
int fk_op_drop_caches(int64_t mode);
int fk_op_demote(unsigned h, int node, uint64_t count);
int fk_op_set_demote_size(unsigned h, uint64_t bytes);
/* One or more control lines; msg gets what the last one said. */
int fk_op_control(const char *text, size_t len);

/* Text of the generated files, fk.lock held. */
void fk_render_meminfo(struct fk_buf *b);
void fk_render_node_meminfo(struct fk_buf *b, unsigned node);
void fk_render_buddyinfo(struct fk_buf *b);
void fk_render_pagetypeinfo(struct fk_buf *b);
void fk_render_vmstat(struct fk_buf *b);
void fk_render_state(struct fk_buf *b);
void fk_render_nodelist(struct fk_buf *b, bool memory_only);

uint64_t fk_persistent(const struct fk_hstate *h);
uint64_t fk_node_free(const struct fk_hstate *h, unsigned node);

#endif
