/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Ranges a page of a given order could come from. Pages above the buddy
 * allocator's largest order (1 GiB on x86-64) are taken by
 * alloc_contig_pages(): an aligned range inside one zone, whose pages it
 * migrates away (mlocked ones too). What it cannot migrate makes the range
 * fail, and no compaction helps. Smaller pages come from the free lists after
 * compaction, which empties a block by migrating the same kinds of pages, and
 * unevictable (mlocked) ones only with vm.compact_unevictable_allowed=1.
 * /proc/kpageflags shows most of that, page by page: slab, page tables,
 * reserved pages, holes, offline and poisoned pages, and hugetlb pages (a
 * range that is all hugetlb is a page of the pool already). It does not show
 * a kernel page that carries no flag (a kernel stack, vmalloc memory), which
 * looks like a free page: so the count is an upper bound, but a far closer
 * one than free memory.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "vmemmap.h"

/* include/uapi/linux/kernel-page-flags.h (RESERVED: the kernel-hacking bits). */
#define KPF_SLAB 7
#define KPF_HUGE 17
#define KPF_UNEVICTABLE 18
#define KPF_HWPOISON 19
#define KPF_NOPAGE 20
#define KPF_OFFLINE 23
#define KPF_PGTABLE 26
#define KPF_RESERVED 32

#define BIT(k) (UINT64_C(1) << (k))
#define BLOCKS (BIT(KPF_SLAB) | BIT(KPF_HWPOISON) | BIT(KPF_NOPAGE) | BIT(KPF_OFFLINE) | BIT(KPF_PGTABLE) | BIT(KPF_RESERVED))

#define CHUNK 8192   /* entries per read: 64 KiB */

/* The scan: kpageflags read in chunks, in order, for one call. */
struct scan {
        int fd;
        uint64_t *buf, buf_start, buf_n;
        uint64_t blocks;     /* flags that keep a range from becoming a page */
        uint64_t budget;     /* entries still to read */
};

/* Flags of pfn, reading ahead; -EIO past the end of the memory map. */
static int flags_at(struct scan *s, uint64_t pfn, uint64_t end, uint64_t *ret)
{
        if (pfn < s->buf_start || pfn >= s->buf_start + s->buf_n) {
                size_t n = end - pfn < CHUNK ? (size_t)(end - pfn) : CHUNK;
                ssize_t got = pread(s->fd, s->buf, n * sizeof s->buf[0], (off_t)(pfn * sizeof s->buf[0]));
                if (got < 0)
                        return -errno;
                if ((size_t)got < sizeof s->buf[0])
                        return -EIO;
                s->buf_start = pfn;
                s->buf_n = (size_t)got / sizeof s->buf[0];
                s->budget = s->budget > s->buf_n ? s->budget - s->buf_n : 0;
        }
        *ret = s->buf[pfn - s->buf_start];
        return 0;
}

/* Add to *count the aligned ranges of 2^order pages in [start, end) that
 * could become a page, until it reaches max. A range blocks on a page with a
 * blocking flag, or when every page of it is hugetlb (a page of the pool
 * already; smaller hugetlb pages inside it recent kernels migrate). Once the
 * budget is spent, the ranges left are counted unread: still an upper bound. */
static int count_zone(struct scan *s, uint64_t start, uint64_t end, int order, uint64_t max, uint64_t *count)
{
        uint64_t span = UINT64_C(1) << order, first = (start + span - 1) & ~(span - 1);
        for (uint64_t r = first; r + span <= end && *count < max; r += span) {
                if (s->budget == 0) {
                        uint64_t left = (end - r) / span;
                        *count = max - *count < left ? max : *count + left;
                        break;
                }
                bool blocked = false, all_huge = true;
                for (uint64_t pfn = r; pfn < r + span && !blocked; pfn++) {
                        uint64_t f = 0;
                        int e = flags_at(s, pfn, end, &f);
                        if (e < 0)
                                return e;
                        blocked = f & s->blocks;
                        all_huge = all_huge && (f & BIT(KPF_HUGE));
                }
                if (!blocked && !all_huge)
                        (*count)++;
        }
        return 0;
}

int vmm_contig_ranges(vmm_ctx *ctx, int node, int order, bool gigantic, uint64_t max, uint64_t *budget,
                      uint64_t *ret_count)
{
        char zoneinfo[PATH_MAX], kpageflags[PATH_MAX];
        if (!ctx || node < 0 || order <= 0 || order >= 40 || !budget || !ret_count)
                return -EINVAL;
        *ret_count = 0;
        if (max == 0)
                return 0;
        /* Compaction moves mlocked pages only with vm.compact_unevictable_allowed=1;
         * alloc_contig_pages, for gigantic pages, always does. */
        bool allowed = true;
        if (!gigantic && vmm_compact_unevictable_allowed(ctx, &allowed) < 0)
                allowed = true;
        struct scan s = { .fd = -1, .blocks = BLOCKS | (allowed ? 0 : BIT(KPF_UNEVICTABLE)), .budget = *budget };
        int r = vmmi_path(ctx, zoneinfo, "/proc/zoneinfo");
        if (r == 0)
                r = vmmi_path(ctx, kpageflags, "/proc/kpageflags");
        if (r < 0)
                return r;
        FILE *f = fopen(zoneinfo, "re");
        if (!f)
                return -errno;
        s.fd = open(kpageflags, O_RDONLY | O_CLOEXEC);
        s.buf = s.fd < 0 ? NULL : malloc(CHUNK * sizeof *s.buf);
        if (!s.buf) {
                r = s.fd < 0 ? -errno : -ENOMEM;
                if (s.fd >= 0)
                        close(s.fd);
                fclose(f);
                return r;
        }
        /* "Node N, zone NAME" opens a zone; its "spanned X" and "start_pfn: Y"
         * follow. Gigantic pages are never movable allocations: not from
         * ZONE_MOVABLE (nor from device memory). */
        char line[512], zone[32] = "";
        bool in_node = false, any = false;
        uint64_t spanned = 0, count = 0;
        r = 0;
        while (r == 0 && count < max && fgets(line, sizeof line, f)) {
                unsigned n;
                unsigned long long v;
                if (sscanf(line, "Node %u, zone %31s", &n, zone) == 2) {
                        in_node = n == (unsigned)node && !(gigantic && (strcmp(zone, "Movable") == 0 ||
                                                                        strcmp(zone, "Device") == 0));
                        any = any || n == (unsigned)node;
                        spanned = 0;
                } else if (in_node && sscanf(line, " spanned %llu", &v) == 1)
                        spanned = v;
                else if (in_node && sscanf(line, " start_pfn: %llu", &v) == 1 && spanned &&
                         v <= UINT64_MAX / sizeof(uint64_t) - spanned)
                        r = count_zone(&s, v, v + spanned, order, max, &count);
        }
        free(s.buf);
        close(s.fd);
        fclose(f);
        *budget = s.budget;
        if (r < 0)
                return r;
        if (!any)
                return -ENODATA;
        *ret_count = count;
        return 0;
}

int vmm_compact_unevictable_allowed(vmm_ctx *ctx, bool *ret)
{
        char path[PATH_MAX];
        uint64_t v;
        int r = ctx && ret ? vmmi_path(ctx, path, "/proc/sys/vm/compact_unevictable_allowed") : -EINVAL;
        if (r == 0)
                r = vmmi_read_u64(path, &v);
        if (r == 0)
                *ret = v != 0;
        return r;
}
