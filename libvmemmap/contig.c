/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Ranges a page of a given order could come from. Pages above the buddy
 * allocator's largest order (1 GiB on x86-64) are taken by
 * alloc_contig_pages(): an aligned range inside one zone, whose pages it
 * migrates away (mlocked ones too). What it cannot migrate makes the range
 * fail, and no compaction helps. Smaller pages come from the free lists after
 * compaction, which empties a block by migrating the same kinds of pages, and
 * unevictable (mlocked) ones only with vm.compact_unevictable_allowed=1.
 * /proc/kpageflags
 * shows most of that, page by page: slab (a compound slab's tail pages
 * through its head), page tables, reserved pages, holes, hugetlb pages,
 * offline and poisoned pages. It does not show a kernel page that carries no
 * flag (a kernel stack, vmalloc memory), which looks like a free page: so
 * the count is an upper bound, but a far closer one than free memory.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "vmemmap.h"

/* include/uapi/linux/kernel-page-flags.h (RESERVED: the kernel-hacking bits). */
#define KPF_SLAB 7
#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16
#define KPF_HUGE 17
#define KPF_UNEVICTABLE 18
#define KPF_HWPOISON 19
#define KPF_NOPAGE 20
#define KPF_OFFLINE 23
#define KPF_PGTABLE 26
#define KPF_RESERVED 32

#define BLOCKS                                                                                                      \
        ((UINT64_C(1) << KPF_SLAB) | (UINT64_C(1) << KPF_HUGE) | (UINT64_C(1) << KPF_HWPOISON) |                   \
         (UINT64_C(1) << KPF_NOPAGE) | (UINT64_C(1) << KPF_OFFLINE) | (UINT64_C(1) << KPF_PGTABLE) |               \
         (UINT64_C(1) << KPF_RESERVED))

#define CHUNK 8192   /* entries per read: 64 KiB */

/* Count the aligned ranges of 2^order pages in [start, end) with no page that
 * blocks, until *count reaches max; fd is /proc/kpageflags. */
static int count_zone(int fd, uint64_t *buf, uint64_t start, uint64_t end, int order, uint64_t blocks, uint64_t max,
                      uint64_t *count)
{
        uint64_t span = UINT64_C(1) << order;
        uint64_t first = (start + span - 1) & ~(span - 1);
        bool head_blocks = false;   /* the last compound head seen blocks: so do its tails */
        for (uint64_t r = first; r + span <= end && *count < max; r += span) {
                bool blocked = false;
                for (uint64_t pfn = r; pfn < r + span && !blocked;) {
                        size_t n = r + span - pfn < CHUNK ? (size_t)(r + span - pfn) : CHUNK;
                        ssize_t got = pread(fd, buf, n * sizeof buf[0], (off_t)(pfn * sizeof buf[0]));
                        if (got < 0)
                                return -errno;
                        if ((size_t)got < sizeof buf[0])
                                return -EIO;   /* past the end of the memory map */
                        n = (size_t)got / sizeof buf[0];
                        for (size_t i = 0; i < n; i++) {
                                uint64_t f = buf[i];
                                if (f & (UINT64_C(1) << KPF_COMPOUND_HEAD))
                                        head_blocks = (f & blocks) != 0;
                                if ((f & blocks) || ((f & (UINT64_C(1) << KPF_COMPOUND_TAIL)) && head_blocks)) {
                                        blocked = true;
                                        break;
                                }
                        }
                        pfn += n;
                }
                if (!blocked)
                        (*count)++;
        }
        return 0;
}

int vmm_contig_ranges(vmm_ctx *ctx, int node, int order, bool unevictable_blocks, uint64_t max, uint64_t *ret_count)
{
        char zoneinfo[PATH_MAX], kpageflags[PATH_MAX];
        if (!ctx || node < 0 || order <= 0 || order >= 40 || !ret_count)
                return -EINVAL;
        *ret_count = 0;
        if (max == 0)
                return 0;
        int r = vmmi_path(ctx, zoneinfo, "/proc/zoneinfo");
        if (r == 0)
                r = vmmi_path(ctx, kpageflags, "/proc/kpageflags");
        if (r < 0)
                return r;
        FILE *f = fopen(zoneinfo, "re");
        if (!f)
                return -errno;
        int fd = open(kpageflags, O_RDONLY | O_CLOEXEC);
        uint64_t *buf = fd < 0 ? NULL : malloc(CHUNK * sizeof *buf);
        if (!buf) {
                r = fd < 0 ? -errno : -ENOMEM;
                if (fd >= 0)
                        close(fd);
                fclose(f);
                return r;
        }
        /* "Node N, zone NAME" opens a zone; its "spanned X" and "start_pfn: Y" follow. */
        char line[512];
        bool in_node = false, any = false;
        uint64_t spanned = 0, count = 0;
        r = 0;
        while (r == 0 && count < max && fgets(line, sizeof line, f)) {
                unsigned n;
                unsigned long long v;
                int at = -1;
                if (sscanf(line, "Node %u, zone %*s%n", &n, &at) == 1 && at >= 0) {
                        in_node = n == (unsigned)node;
                        spanned = 0;
                } else if (in_node && sscanf(line, " spanned %llu", &v) == 1)
                        spanned = v;
                else if (in_node && sscanf(line, " start_pfn: %llu", &v) == 1) {
                        any = true;
                        if (spanned && v <= UINT64_MAX / sizeof(uint64_t) - spanned)
                                r = count_zone(fd, buf, v, v + spanned, order,
                                               BLOCKS | (unevictable_blocks ? UINT64_C(1) << KPF_UNEVICTABLE : 0), max,
                                               &count);
                }
        }
        free(buf);
        close(fd);
        fclose(f);
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
