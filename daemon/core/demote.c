/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Demotion (Demote=yes in a [Pool] section): a pool that needs growth takes
 * free pages of the larger pool whose demote_size is its size, split by the
 * kernel (vmm_pool_demote), instead of new pages from the buddy allocator,
 * which fragmentation may deny. Only pages above the larger pool's own target
 * in force, free and unreserved, per node where either pool has per-node
 * targets; a larger pool hugevmd does not manage is never touched. So it runs
 * where the larger pool would have been shrunk anyway: before that shrink.
 *
 * The larger pool loses pages from the head of its free list (their vmemmap
 * restored), the smaller gains pages optimized iff HVO is on; the job reads
 * the memmap counters around its write and attributes their move to both
 * pools by the model, as a re-optimization batch does, so that the saving of
 * each stays measured.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "core.h"
#include "log.h"

#define DEMOTE_RETRY_MS 60000u   /* after a demotion that moved nothing */

struct demote_job {
        uv_work_t req;
        struct core *core;
        size_t src, dst;
        int node;                 /* -1: the global demote file */
        uint64_t src_kb, dst_kb, pages, target;
        int rc, memmap_rc[2];
        struct vmm_memmap memmap[2];
        struct vmm_demote res;
        size_t n_nodes;
        unsigned nodes[HUGEVMD_MAX_NODES];
        uint64_t src_tot[2][HUGEVMD_MAX_NODES], dst_tot[2][HUGEVMD_MAX_NODES];  /* per node, around the write */
        uint64_t src_all[2], dst_all[2];                                          /* global */
        double seconds;
};

static void read_totals(struct demote_job *j, vmm_ctx *ctx, int when)
{
        struct vmm_pool p;
        struct vmm_node_pool np;
        j->src_all[when] = vmm_pool_read(ctx, j->src_kb, &p) == 0 ? p.total : 0;
        j->dst_all[when] = vmm_pool_read(ctx, j->dst_kb, &p) == 0 ? p.total : 0;
        for (size_t k = 0; k < j->n_nodes; k++) {
                j->src_tot[when][k] = vmm_node_pool_read(ctx, j->src_kb, j->nodes[k], &np) == 0 ? np.total : 0;
                j->dst_tot[when][k] = vmm_node_pool_read(ctx, j->dst_kb, j->nodes[k], &np) == 0 ? np.total : 0;
        }
}

static void work_cb(uv_work_t *req)
{
        struct demote_job *j = req->data;
        vmm_ctx *ctx = j->core->worker_ctx;
        double t0 = clock_seconds();
        read_totals(j, ctx, 0);
        j->memmap_rc[0] = vmm_memmap_read(ctx, &j->memmap[0]);
        j->rc = vmm_pool_demote(ctx, j->src_kb, j->node, j->pages, &j->res);
        j->memmap_rc[1] = vmm_memmap_read(ctx, &j->memmap[1]);
        read_totals(j, ctx, 1);
        j->seconds = clock_seconds() - t0;
}

/* One node of one pool as the model and the counters see it: the pool as a
 * whole on node 0 when the model follows it as one list. */
struct side {
        struct pool_rt *p;
        bool whole;
        size_t n;
        unsigned node[HUGEVMD_MAX_NODES];
        uint64_t before[HUGEVMD_MAX_NODES], after[HUGEVMD_MAX_NODES];
        int64_t delta[HUGEVMD_MAX_NODES];   /* saved base pages the model gives the move */
};

static void side_init(struct side *s, struct core *core, const struct demote_job *j, bool src)
{
        s->p = &core->pools[src ? j->src : j->dst];
        s->whole = s->p->ledger_whole || core->n_nodes == 0;
        if (s->whole) {
                s->n = 1;
                s->node[0] = 0;
                s->before[0] = src ? j->src_all[0] : j->dst_all[0];
                s->after[0] = src ? j->src_all[1] : j->dst_all[1];
                return;
        }
        s->n = j->n_nodes;
        for (size_t k = 0; k < j->n_nodes; k++) {
                s->node[k] = j->nodes[k];
                s->before[k] = src ? j->src_tot[0][k] : j->dst_tot[0][k];
                s->after[k] = src ? j->src_tot[1][k] : j->dst_tot[1][k];
        }
}

static void after_work_cb(uv_work_t *req, int status)
{
        struct demote_job *j = req->data;
        struct core *core = j->core;
        struct pool_rt *src = &core->pools[j->src], *dst = &core->pools[j->dst];
        int rc = status < 0 ? status : j->rc;
        uint64_t now = uv_now(core->loop);
        char where[32] = "";
        if (j->node >= 0)
                snprintf(where, sizeof where, " on node %d", j->node);

        core->job_running = false;
        core->job_demote = false;
        src->resync = dst->resync = true;

        /* The model's view of the move (the ledger has not seen it yet: the
         * refresh below feeds it): the larger pool's pages leave from the
         * head of its free lists, the new pages are optimized iff HVO is on. */
        struct side s, d;
        side_init(&s, core, j, true);
        side_init(&d, core, j, false);
        int64_t model = 0;
        uint64_t gained = 0;
        for (size_t k = 0; k < s.n; k++) {
                uint64_t lost = s.before[k] > s.after[k] ? s.before[k] - s.after[k] : 0;
                s.delta[k] = -(int64_t)(ledger_node_head_optimized(&src->ledger, s.node[k], lost, NULL) *
                                        src->ledger.saved_pages_per_page);
                model += s.delta[k];
        }
        bool opt = core->hvo.enabled && dst->ledger.saved_pages_per_page;
        uint64_t per = dst->hvo.eligible ? dst->hvo.saved_pages : 0;
        for (size_t k = 0; k < d.n; k++) {
                uint64_t g = d.after[k] > d.before[k] ? d.after[k] - d.before[k] : 0;
                gained += g;
                d.delta[k] = opt ? (int64_t)(g * per) : 0;
                model += d.delta[k];
        }
        bool measured = j->memmap_rc[0] == 0 && j->memmap_rc[1] == 0 && core->measured_started;
        int64_t moved = measured ? j->memmap[1].saved_pages - j->memmap[0].saved_pages : model;
        if (measured) {
                /* This job's move, taken out of what the next reading compares. */
                core->measured_prev += moved;
                struct side *sides[2] = { &s, &d };
                for (int x = 0; x < 2; x++) {
                        struct side *e = sides[x];
                        for (size_t k = 0; k < e->n; k++) {
                                struct node_rt *nr = &e->p->ncur[e->node[k]];
                                if (moved == model && e->before[k] != e->after[k]) {
                                        e->p->measured_saved += e->delta[k];
                                        nr->measured_saved += e->delta[k];
                                } else if (moved != model && e->before[k] != e->after[k] && e->p->hvo.eligible) {
                                        e->p->measured_pinned = false;
                                        nr->measured_pinned = false;
                                }
                                nr->measured_total = e->after[k];
                        }
                }
                if (moved != model)
                        log_pool(LOG_WARNING, dst->label, j->node, UINT64_MAX,
                                 "Demotion: the kernel's memmap counters moved by %" PRId64 " base pages, the model says %"
                                 PRId64 ": the saving of %s and %s is no longer measured exactly",
                                 moved, model, src->label, dst->label);
        }
        dst->demoted += gained;

        if (j->res.demoted > 0)
                log_pool(LOG_INFO, dst->label, j->node, UINT64_MAX,
                         "Demoted %" PRIu64 " free %s page%s%s into %" PRIu64 " %s pages (%s %" PRIu64 " -> %" PRIu64
                         ", %s target %" PRIu64 ") in %.1f ms; memmap counters moved %" PRId64,
                         j->res.demoted, src->label, j->res.demoted == 1 ? "" : "s", where, gained, dst->label,
                         src->label, j->res.before, j->res.after, dst->label, j->target, j->seconds * 1e3, moved);
        if (rc < 0) {
                /* Fewer than asked, or none: the plain ways take over for a while. */
                if (j->res.demoted == 0)
                        dst->demote_next = now + DEMOTE_RETRY_MS;
                log_pool(j->res.demoted ? LOG_INFO : LOG_WARNING, dst->label, j->node, UINT64_MAX,
                         "Demoting %" PRIu64 " %s page%s%s for %s: %s (%" PRIu64 " demoted)", j->pages, src->label,
                         j->pages == 1 ? "" : "s", where, dst->label, strerror(-rc), j->res.demoted);
        }
        if (gained) {
                struct work_rt *w = j->node < 0 ? &dst->whole : &dst->nodes_w[j->node];
                uint64_t cur = 0;
                for (size_t k = 0; k < d.n; k++)
                        if (j->node < 0 || d.node[k] == (unsigned)j->node)
                                cur += d.after[k];
                if (d.whole)
                        cur = j->dst_all[1];
                struct core_event ev = { .kind = CORE_EV_PROGRESS, .pool = dst, .node = j->node, .from = w->from,
                                         .current = cur, .target = j->target, .seconds = j->seconds,
                                         .result = RESIZE_REACHED, .wrote = true };
                core_publish(core, &ev);
        }
        free(j);
        reconcile_job_done(core);
}

static uint64_t min3(uint64_t a, uint64_t b, uint64_t c)
{
        uint64_t m = a < b ? a : b;
        return m < c ? m : c;
}

static bool start(struct core *core, size_t src, size_t dst, int node, uint64_t pages, uint64_t target)
{
        struct demote_job *j = calloc(1, sizeof *j);
        if (!j)
                return false;
        reoptimize_release_all(core);   /* every free page counts */
        *j = (struct demote_job){ .core = core, .src = src, .dst = dst, .node = node, .src_kb = core->pools[src].size_kb,
                                  .dst_kb = core->pools[dst].size_kb, .pages = pages, .target = target };
        for (size_t k = 0; k < core->n_nodes && j->n_nodes < HUGEVMD_MAX_NODES; k++)
                if (core->nodes[k] < HUGEVMD_MAX_NODES)
                        j->nodes[j->n_nodes++] = core->nodes[k];
        j->req.data = j;
        if (uv_queue_work(core->loop, &j->req, work_cb, after_work_cb) < 0) {
                free(j);
                return false;
        }
        core->job_running = true;
        core->job_demote = true;
        core->job_pool = src;
        core->job_pool2 = dst;
        core->job_node = node;
        return true;
}

bool demote_kick(struct core *core, size_t pool, int node, uint64_t current, uint64_t target, uint64_t now,
                 uint64_t *earliest)
{
        struct pool_rt *d = &core->pools[pool];
        if (target <= current || !config_pool_demote(core->cfg, d->size_kb))
                return false;
        if (now < d->demote_next) {
                if (d->demote_next < *earliest)
                        *earliest = d->demote_next;
                return false;
        }
        for (size_t i = 0; i < core->n_pools; i++) {
                struct pool_rt *s = &core->pools[i];
                uint64_t demote_kb;
                struct target st;
                if (i == pool || s->size_kb <= d->size_kb || !s->read_ok ||
                    vmm_demote_size_read(core->ctx, s->size_kb, &demote_kb) < 0 || demote_kb != d->size_kb)
                        continue;
                core_effective_target(core, s->size_kb, &st);
                if (!target_managed(&st))
                        continue;   /* not ours: never touched */
                uint64_t ratio = s->size_kb / d->size_kb;
                uint64_t want = (target - current + ratio - 1) / ratio;
                uint64_t resv = s->cur.reserved;
                uint64_t excess = st.has_pages && s->cur.total > st.pages ? s->cur.total - st.pages : 0;
                if (node < 0 && st.has_pages) {
                        uint64_t avail = s->cur.free > resv ? s->cur.free - resv : 0;
                        uint64_t k = min3(want, excess, avail);
                        if (k)
                                return start(core, i, pool, -1, k, target);
                        continue;
                }
                for (size_t x = 0; x < core->n_nodes; x++) {
                        unsigned n = core->nodes[x];
                        if (n >= HUGEVMD_MAX_NODES || (node >= 0 && (unsigned)node != n))
                                continue;
                        uint64_t ex = excess, total = s->ncur[n].cur.total;
                        if (!st.has_pages)
                                ex = (st.node_mask & (UINT64_C(1) << n)) && total > st.node_pages[n]
                                             ? total - st.node_pages[n] : 0;
                        uint64_t f = s->ncur[n].cur.free;
                        uint64_t k = min3(want, ex, f > resv ? f - resv : 0);
                        if (k)
                                return start(core, i, pool, (int)n, k, target);
                }
        }
        return false;
}

bool demote_kick_all(struct core *core, uint64_t now, uint64_t *earliest)
{
        for (size_t i = 0; i < core->n_pools; i++) {
                struct pool_rt *p = &core->pools[i];
                struct target t;
                if (!p->read_ok || !config_pool_demote(core->cfg, p->size_kb))
                        continue;
                core_effective_target(core, p->size_kb, &t);
                if (t.has_pages && demote_kick(core, i, -1, p->cur.total, t.pages, now, earliest))
                        return true;
                for (unsigned node = 0; node < HUGEVMD_MAX_NODES; node++)
                        if ((t.node_mask & (UINT64_C(1) << node)) && core_node_present(core, node) &&
                            demote_kick(core, i, (int)node, p->ncur[node].cur.total, t.node_pages[node], now, earliest))
                                return true;
        }
        return false;
}
