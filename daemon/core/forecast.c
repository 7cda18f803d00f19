/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The forecast (docs/protocol.md "Forecast"), per size and node, from
 * /proc/buddyinfo and /proc/pagetypeinfo (libvmemmap's vmm_buddy_read):
 *   now   = free blocks of the page's order or larger, in pages of the size
 *           (a size above the buddy orders, 1 GiB: the memory in blocks of the
 *           largest order, as if they were contiguous);
 *   after = max(now, min(MemFree, movable memory) / page size), where movable
 *           memory is the Movable pageblocks less the node's hugetlb pages
 *           (they sit in Movable blocks but compaction does not move them);
 *           without pagetypeinfo (not root): max(now, MemFree / page size);
 *   expect = min(target, current + after); short = target - expect.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "forecast.h"
#include "log.h"

/* kpageflags entries all scans may read between two reads of the free lists,
 * over every node: the scans run on the event loop. 2^22 pages (16 GiB of
 * 4 KiB pages, 32 MiB read) took 150 ms here; past it ranges count unread. */
#define FORECAST_SCAN_BUDGET (UINT64_C(1) << 22)

void forecast_read(struct core *core)
{
        struct forecast_mem *m = &core->fmem;
        m->read_mask = 0;
        m->contig_mask = 0;
        memset(m->contig_order, 0, sizeof m->contig_order);
        m->contig_budget = FORECAST_SCAN_BUDGET;
        bool allowed = true;   /* the kernel's default; unreadable (before 5.7): moved */
        vmm_compact_unevictable_allowed(core->ctx, &allowed);
        m->unevictable_pinned = !allowed;
        for (size_t k = 0; k < core->n_nodes; k++) {
                unsigned n = core->nodes[k];
                if (n >= 64)
                        continue;
                int r = vmm_buddy_read(core->ctx, (int)n, &m->node[n]);
                if (r == -ENODATA)   /* a memoryless node: no zone in buddyinfo, nothing to give */
                        memset(&m->node[n], 0, sizeof m->node[n]);
                if (r == 0 || r == -ENODATA)
                        m->read_mask |= UINT64_C(1) << n;
        }
}

/* The buddy order of a page size: 9 for 2 MiB on 4 KiB pages. */
static int size_order(uint64_t size_kb, uint64_t base_kb)
{
        int order = 0;
        while ((base_kb << order) < size_kb && order < 63)
                order++;
        return order;
}

/* Pages of order (gigantic: above the buddy orders) node n has ranges for,
 * counted up to need (vmm_contig_ranges reads 2 MiB of kpageflags per GiB it
 * scans, so it stops there); read at most once per read of the free lists
 * unless another order or a larger need comes. False when kpageflags cannot
 * be read (not root). */
static bool contig_ranges(struct core *core, unsigned n, int order, bool gigantic, uint64_t need, uint64_t *ret)
{
        struct forecast_mem *m = &core->fmem;
        bool known = m->contig_order[n] == order &&
                     (m->contig[n] < m->contig_max[n] || need <= m->contig_max[n]);   /* all counted, or enough */
        if (!known) {
                m->contig_order[n] = order;
                m->contig_max[n] = need;
                m->contig_mask &= ~(UINT64_C(1) << n);
                if (vmm_contig_ranges(core->ctx, (int)n, order, gigantic, need, &m->contig_budget, &m->contig[n]) == 0)
                        m->contig_mask |= UINT64_C(1) << n;
        }
        *ret = m->contig[n] < need ? m->contig[n] : need;
        return m->contig_mask & (UINT64_C(1) << n);
}

/* Pages of p's size node n can give now and after compaction (gigantic
 * pages: counted up to need). */
static bool node_pages(struct core *core, const struct pool_rt *p, unsigned n, uint64_t need, uint64_t *now,
                       uint64_t *after, uint64_t *free_pages)
{
        const struct vmm_buddy *b = &core->fmem.node[n];
        if (!(core->fmem.read_mask & (UINT64_C(1) << n)))
                return false;
        if (b->orders == 0) {
                *now = *after = *free_pages = 0;   /* memoryless */
                return true;
        }
        uint64_t base_kb = core->kernel.page_size / 1024;
        if (!base_kb)
                base_kb = 4;
        int order = size_order(p->size_kb, base_kb);
        bool gigantic = order >= b->orders;
        if (!gigantic)
                *now = vmm_buddy_obtainable(b, order);
        else {
                int top = b->orders - 1;
                *now = (b->free_blocks[top] << top) * base_kb / p->size_kb;
        }
        uint64_t limit_kb = b->free_kb;
        if (b->pageblock_order >= 0) {
                uint64_t movable_kb = (b->movable_blocks << b->pageblock_order) * base_kb, huge_kb = 0;
                for (size_t i = 0; i < core->n_pools; i++)
                        huge_kb += core->pools[i].ncur[n].cur.total * core->pools[i].size_kb;
                movable_kb = movable_kb > huge_kb ? movable_kb - huge_kb : 0;
                if (movable_kb < limit_kb)
                        limit_kb = movable_kb;
        }
        *after = limit_kb / p->size_kb > *now ? limit_kb / p->size_kb : *now;
        /* Above the buddy orders no compaction helps: only ranges free of
         * unmovable pages can become a page. Below, mlocked pages that
         * compaction may not move (vm.compact_unevictable_allowed=0) keep
         * their blocks: counted only then, the scan costs. */
        uint64_t ranges;
        if ((gigantic || core->fmem.unevictable_pinned) && contig_ranges(core, n, order, gigantic, need, &ranges)) {
                if (*now > ranges)
                        *now = ranges;
                if (*after > ranges)
                        *after = ranges;
        }
        *free_pages = b->free_kb / p->size_kb;
        return true;
}

void forecast_compute(struct core *core, const struct pool_rt *p, int node, uint64_t target, struct forecast *ret)
{
        memset(ret, 0, sizeof *ret);
        if (core->n_nodes == 0)
                return;   /* no node files: the free lists cannot be read per node */
        uint64_t now = 0, after = 0, free_pages = 0, current = node < 0 ? p->cur.total : p->ncur[node].cur.total;
        for (size_t k = 0; k < core->n_nodes; k++) {
                unsigned n = core->nodes[k];
                uint64_t a, b, c;
                if (n >= 64 || (node >= 0 && (unsigned)node != n))
                        continue;
                if (!node_pages(core, p, n, target > current ? target - current : 0, &a, &b, &c))
                        return;   /* a node unread: no forecast */
                now += a;
                after += b;
                free_pages += c;
        }
        ret->valid = true;
        ret->now = now;
        ret->after = after;
        ret->expect = target <= current ? target : target - current < after ? target : current + after;
        ret->short_pages = target - ret->expect;
        if (ret->short_pages) {
                /* Whole units, as operators write sizes: "424 MiB", "2 GiB". */
                uint64_t kb = ret->short_pages * p->size_kb;
                char human[32];
                if (kb % (1024 * 1024) == 0)
                        snprintf(human, sizeof human, "%" PRIu64 " GiB", kb / (1024 * 1024));
                else if (kb >= 1024)
                        snprintf(human, sizeof human, "%" PRIu64 " MiB", (kb + 512) / 1024);
                else
                        snprintf(human, sizeof human, "%" PRIu64 " KiB", kb);
                snprintf(ret->why, sizeof ret->why, "%s %s", human,
                         free_pages < target - current ? "not free" : "unmovable");
        }
}

void forecast_for_target(struct core *core, const struct pool_rt *p, const struct target *t, struct forecast *whole,
                         struct forecast *nodes)
{
        memset(whole, 0, sizeof *whole);
        if (t->has_pages && t->pages > p->cur.total)
                forecast_compute(core, p, -1, t->pages, whole);
        struct forecast sum = { .valid = true };
        bool any = false;
        for (unsigned n = 0; n < HUGEVMD_MAX_NODES && n < 64; n++) {
                memset(&nodes[n], 0, sizeof nodes[n]);
                if (!(t->node_mask & (UINT64_C(1) << n)) || !core_node_present(core, n))
                        continue;
                if (t->node_pages[n] <= p->ncur[n].cur.total) {
                        sum.expect += t->node_pages[n];
                        continue;
                }
                forecast_compute(core, p, (int)n, t->node_pages[n], &nodes[n]);
                any = true;
                sum.valid = sum.valid && nodes[n].valid;
                sum.now += nodes[n].now;
                sum.after += nodes[n].after;
                sum.expect += nodes[n].expect;
                sum.short_pages += nodes[n].short_pages;
                if (nodes[n].short_pages && !sum.why[0])
                        snprintf(sum.why, sizeof sum.why, "node %u: %s", n, nodes[n].why);
        }
        /* Per-node targets: the pool's forecast is the sum of its growing nodes'. */
        if (any && !t->has_pages && sum.valid)
                *whole = sum;
}

bool forecast_cache_covers(struct core *core, const struct pool_rt *p, int node, uint64_t target)
{
        struct forecast f;
        forecast_read(core);
        forecast_compute(core, p, node, target, &f);
        if (!f.valid || !f.short_pages)
                return false;
        uint64_t cache_pages = 0;
        for (size_t k = 0; k < core->n_nodes; k++) {
                unsigned n = core->nodes[k];
                if (n < 64 && (node < 0 || (unsigned)node == n) && (core->fmem.read_mask & (UINT64_C(1) << n)))
                        cache_pages += core->fmem.node[n].cache_kb / p->size_kb;
        }
        return cache_pages >= f.short_pages;
}

uint64_t forecast_pages_now(vmm_ctx *ctx, int node, uint64_t size_kb, uint64_t base_kb)
{
        struct vmm_buddy b;
        if (vmm_buddy_read(ctx, node, &b) < 0 || !base_kb)
                return UINT64_MAX;
        int order = size_order(size_kb, base_kb);
        if (order < b.orders)
                return vmm_buddy_obtainable(&b, order);
        return b.free_kb / size_kb;
}

static bool grows(struct core *core, const struct pool_rt *p)
{
        struct target t;
        core_effective_target(core, p->size_kb, &t);
        if (!p->read_ok || !target_managed(&t))
                return false;
        if (t.has_pages && t.pages > p->cur.total)
                return true;
        for (unsigned n = 0; n < HUGEVMD_MAX_NODES; n++)
                if ((t.node_mask & (UINT64_C(1) << n)) && core_node_present(core, n) && t.node_pages[n] > p->ncur[n].cur.total)
                        return true;
        return false;
}

void forecast_refresh(struct core *core)
{
        bool any = false;
        for (size_t i = 0; i < core->n_pools; i++)
                any = any || grows(core, &core->pools[i]);
        if (any)
                forecast_read(core);
        for (size_t i = 0; i < core->n_pools; i++) {
                struct pool_rt *p = &core->pools[i];
                memset(&p->fc, 0, sizeof p->fc);
                memset(p->nfc, 0, sizeof p->nfc);
                if (!any || !grows(core, p))
                        continue;
                struct target t;
                core_effective_target(core, p->size_kb, &t);
                forecast_for_target(core, p, &t, &p->fc, p->nfc);
        }
}
