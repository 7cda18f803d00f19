/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The reconciler: brings every managed pool to its target in chunks run in
 * libuv's threadpool (one at a time, with a vmm_ctx of its own), so the loop
 * keeps answering. After each chunk and on every refresh it re-reads the
 * pools, feeds the savings ledger, announces changes and answers waits.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chunk.h"
#include "clock.h"
#include "core.h"
#include "log.h"

#define QUICK_RETRIES      3u
#define QUICK_RETRY_MS     1000u    /* 1 s, 2 s, 4 s */
#define SLOW_RETRY_MS      60000u   /* once degraded */
struct job {
        uv_work_t req;
        struct core *core;
        size_t pool;
        int node;
        uint64_t size_kb;
        uint64_t target;      /* the episode's target (for messages) */
        uint64_t pages;       /* this chunk's write */
        uint64_t current;     /* pages when the job started */
        bool compact_first;
        int compact_rc;
        bool drop_first;      /* DropCaches=yes and the forecast says the page cache covers the shortfall */
        int drop_rc;
        uint64_t pages_before, pages_dropped, pages_compacted;   /* obtainable now, around each step */
        int rc;
        struct vmm_resize res;
        double seconds;
        int free_rc;          /* growth fell short: the free memory right after */
        struct vmm_free free;
};

static void refresh_timer_cb(uv_timer_t *t)
{
        struct core *core = t->data;
        host_periodic(core);
        reconcile_refresh(core);
        reconcile_kick(core);
}

static void retry_timer_cb(uv_timer_t *t)
{
        reconcile_kick(t->data);
}

static void refresh_expiry_cb(uv_check_t *h)
{
        struct core *core = h->data;
        core->refresh_fresh = false;
}

void reconcile_refresh_shared(struct core *core)
{
        if (!core->refresh_fresh)
                reconcile_refresh(core);
}

void reconcile_close(struct core *core)
{
        uv_close((uv_handle_t *)&core->refresh_timer, NULL);
        uv_close((uv_handle_t *)&core->retry_timer, NULL);
        uv_close((uv_handle_t *)&core->refresh_expiry, NULL);
        host_watch_close(core);
}

void reconcile_init(struct core *core)
{
        uint64_t *sizes = NULL;
        size_t n = 0;

        if (vmm_kernel_read(core->ctx, &core->kernel) < 0)
                memset(&core->kernel, 0, sizeof core->kernel);
        if (vmm_hvo_read(core->ctx, &core->hvo) < 0)
                memset(&core->hvo, 0, sizeof core->hvo);
        if (vmm_nodes_list(core->ctx, &core->nodes, &core->n_nodes) < 0) {
                core->nodes = NULL;
                core->n_nodes = 0;
        }
        int r = vmm_hstates_list(core->ctx, &sizes, &n);
        if (r < 0)
                log_warning("No hugepage sizes on this machine (%s): nothing to manage", strerror(-r));
        core->n_pools = 0;
        for (size_t i = 0; i < n && core->n_pools < HUGEVMD_MAX_POOLS; i++) {
                struct pool_rt *p = &core->pools[core->n_pools++];
                memset(p, 0, sizeof *p);
                p->size_kb = sizes[i];
                vmm_size_label(sizes[i], p->label, sizeof p->label);
                if (core->kernel.page_size == 0 || vmm_hstate_hvo_compute(sizes[i], &core->kernel, &p->hvo) < 0)
                        memset(&p->hvo, 0, sizeof p->hvo);
                p->reported_state = POOL_UNMANAGED;
        }
        free(sizes);

        uv_timer_init(core->loop, &core->refresh_timer);
        uv_timer_init(core->loop, &core->retry_timer);
        core->refresh_timer.data = core->retry_timer.data = core;
        /* Check handles run after each iteration's I/O callbacks; unref'd, it
         * keeps no loop alive. */
        uv_check_init(core->loop, &core->refresh_expiry);
        core->refresh_expiry.data = core;
        uv_check_start(&core->refresh_expiry, refresh_expiry_cb);
        uv_unref((uv_handle_t *)&core->refresh_expiry);
        host_watch_init(core);
}

void reconcile_start_timer(struct core *core)
{
        uint64_t ms = (uint64_t)core->cfg->refresh_sec * 1000;
        uv_timer_start(&core->refresh_timer, refresh_timer_cb, ms, ms);
}

static enum pool_state worse(enum pool_state a, enum pool_state b)
{
        /* degraded > converging > converged > unmanaged */
        static const int rank[] = { [POOL_UNMANAGED] = 0, [POOL_CONVERGED] = 1, [POOL_CONVERGING] = 2, [POOL_DEGRADED] = 3 };
        return rank[a] >= rank[b] ? a : b;
}

enum pool_state reconcile_pool_state(const struct core *core, const struct pool_rt *p, const char **ret_reason)
{
        struct target t;
        core_effective_target(core, p->size_kb, &t);
        const char *reason = "";
        enum pool_state s = POOL_UNMANAGED;
        if (t.has_pages) {
                s = p->whole.state;
                reason = p->whole.reason;
        } else
                for (unsigned node = 0; node < HUGEVMD_MAX_NODES; node++)
                        if (t.node_mask & (UINT64_C(1) << node)) {
                                enum pool_state ns = p->nodes_w[node].state;
                                if (worse(s, ns) == ns && (ns != s || !*reason)) {
                                        s = ns;
                                        reason = p->nodes_w[node].reason;
                                }
                        }
        if (ret_reason)
                *ret_reason = reason;
        return s;
}

enum pool_state reconcile_node_state(const struct core *core, const struct pool_rt *p, unsigned node, const char **ret_reason)
{
        struct target t;
        core_effective_target(core, p->size_kb, &t);
        if (t.has_pages || node >= HUGEVMD_MAX_NODES || !(t.node_mask & (UINT64_C(1) << node)))
                return reconcile_pool_state(core, p, ret_reason);
        if (ret_reason)
                *ret_reason = p->nodes_w[node].reason;
        return p->nodes_w[node].state;
}

bool reconcile_all_converged(const struct core *core)
{
        for (size_t i = 0; i < core->n_pools; i++) {
                enum pool_state s = reconcile_pool_state(core, &core->pools[i], NULL);
                if (s != POOL_UNMANAGED && s != POOL_CONVERGED)
                        return false;
        }
        return true;
}

/* A new episode in state s from current pages: no reason, retries or backoff. */
static void episode_start(struct work_rt *w, enum pool_state s, uint64_t current)
{
        w->state = s;
        w->reason[0] = '\0';
        w->retries = 0;
        w->next_attempt = 0;
        w->compact_next = false;
        w->from = current;
}

static void episode_reset(struct work_rt *w, uint64_t current)
{
        episode_start(w, POOL_CONVERGING, current);
}

void reconcile_target_changed(struct core *core, struct pool_rt *p)
{
        episode_reset(&p->whole, p->cur.total);
        for (unsigned node = 0; node < HUGEVMD_MAX_NODES; node++)
                episode_reset(&p->nodes_w[node], p->ncur[node].cur.total);
}

/* Settle a work item's state against what the pool holds now. */
static void work_update(struct work_rt *w, uint64_t current, uint64_t target)
{
        if (current == target)
                episode_start(w, POOL_CONVERGED, current);
        else if (w->state == POOL_CONVERGED || w->state == POOL_UNMANAGED)
                episode_reset(w, current);
}

static void publish_pool_changed(struct core *core, struct pool_rt *p, enum pool_state s, const char *reason, bool external)
{
        struct core_event ev = { .kind = CORE_EV_POOL_CHANGED, .pool = p, .node = -1, .state = s, .reason = reason,
                                 .external = external };
        p->reported_state = s;
        snprintf(p->reported_reason, sizeof p->reported_reason, "%s", reason);
        core_publish(core, &ev);
}

/* Read the HVO sysctl; a change is logged and told to subscribers.
 * external: the change was not made through hugevmd. */
static void hvo_observe(struct core *core, bool external)
{
        struct vmm_hvo hvo;
        if (vmm_hvo_read(core->ctx, &hvo) < 0)
                return;
        if (hvo.enabled != core->hvo.enabled) {
                log_notice(external ? "HVO was turned %s behind hugevmd's back" : "Turned HVO %s",
                           hvo.enabled ? "on" : "off");
                core->hvo = hvo;
                struct core_event ev = { .kind = CORE_EV_HVO_CHANGED, .node = -1, .enabled = hvo.enabled, .external = external };
                core_publish(core, &ev);
        }
        core->hvo = hvo;
}

/* Our resize job is writing this pool right now. */
static bool job_on_pool(const struct core *core, size_t pool)
{
        return core->job_running && core->job_pool == pool;
}

/* The model follows every node's free list, with the HVO setting its pages
 * changed under. Where the node files do not add up to the pool (no node
 * files, or a fake root's plain files, which no kernel shows) it follows the
 * pool as one list on node 0 from then on, and says nothing per node. */
static void observe_ledger(struct core *core, struct pool_rt *p, bool busy)
{
        uint64_t sum = 0;
        for (size_t k = 0; k < core->n_nodes; k++)
                if (core->nodes[k] < HUGEVMD_MAX_NODES)
                        sum += p->ncur[core->nodes[k]].cur.total;
        /* Our own write may be between the global and the node reads, and a
         * change by someone else too: a verdict only on two readings in a row. */
        if (sum == p->cur.total || busy)
                p->node_mismatches = 0;
        else if (p->node_mismatches < 2)
                p->node_mismatches++;
        if (!p->ledger_whole && (core->n_nodes == 0 || p->node_mismatches >= 2)) {
                /* Start over with the pool as one list: what the nodes held is
                 * now node 0's, of unknown history, and not measured per node. */
                p->ledger_whole = true;
                memset(p->ledger.node, 0, sizeof p->ledger.node);
                p->measured_pinned = false;
                for (unsigned node = 0; node < HUGEVMD_MAX_NODES; node++) {
                        p->ncur[node].measured_saved = 0;
                        p->ncur[node].measured_pinned = false;
                        p->ncur[node].measured_total = node == 0 ? p->cur.total : 0;
                }
        }
        p->ledger.saved_pages_per_page = p->hvo.eligible ? p->hvo.saved_pages : 0;
        if (p->ledger_whole) {
                ledger_node_observe(&p->ledger, 0, p->cur.total, p->cur.free, core->hvo.enabled);
                return;
        }
        /* Pages a re-optimization run holds are free to the model: they go
         * back to the head of the free list, where it keeps them. */
        for (size_t k = 0; k < core->n_nodes; k++) {
                unsigned node = core->nodes[k];
                if (node < HUGEVMD_MAX_NODES)
                        ledger_node_observe(&p->ledger, node, p->ncur[node].cur.total,
                                            p->ncur[node].cur.free + p->ncur[node].reopt.held, core->hvo.enabled);
        }
}

/* Read one pool (and its nodes) and feed the ledger; a change nobody asked
 * for starts a new episode back to the target. */
static void observe_pool(struct core *core, size_t i)
{
        /* A re-optimization batch grows, holds and shrinks the pool at once:
         * what it did is told when it is done, not seen half-way. */
        if (core->job_running && core->job_reopt && core->job_pool == i)
                return;
        /* So is a demotion's, in both pools (demote.c feeds the move). */
        if (core->job_running && core->job_demote && (core->job_pool == i || core->job_pool2 == i))
                return;
        struct pool_rt *p = &core->pools[i];
        struct vmm_pool cur;
        int r = vmm_pool_read(core->ctx, p->size_kb, &cur);
        if (r < 0) {
                if (p->read_ok || p->read_err != r)
                        log_pool(LOG_WARNING, p->label, -1, UINT64_MAX, "Cannot read the %s pool: %s", p->label, strerror(-r));
                p->read_ok = false;
                p->read_err = r;
                return;
        }
        p->read_ok = true;
        p->read_err = 0;
        p->cur = cur;
        for (size_t k = 0; k < core->n_nodes; k++) {
                unsigned node = core->nodes[k];
                if (node >= HUGEVMD_MAX_NODES)
                        continue;
                struct node_rt *nr = &p->ncur[node];
                nr->node = node;
                if (vmm_node_pool_read(core->ctx, p->size_kb, node, &nr->cur) < 0)
                        memset(&nr->cur, 0, sizeof nr->cur);
        }

        bool busy = job_on_pool(core, i);
        observe_ledger(core, p, busy);
        if (!p->seen)
                p->seen = true;
        else {
                if (!busy && !p->resync && cur.total != p->last_seen) {
                        log_pool(LOG_NOTICE, p->label, -1, cur.total,
                                 "The %s pool changed behind hugevmd's back: %" PRIu64 " -> %" PRIu64 " pages",
                                 p->label, p->last_seen, cur.total);
                        /* A new episode: back to the target at once, from here. */
                        reconcile_target_changed(core, p);
                        const char *reason;
                        enum pool_state s = reconcile_pool_state(core, p, &reason);
                        publish_pool_changed(core, p, s, reason, true);
                }
        }
        p->last_seen = cur.total;
        if (!busy)
                p->resync = false;
}

/* A node's pages, for attributing the counters (a machine without node
 * files: the pool as node 0). */
static uint64_t node_total(const struct core *core, const struct pool_rt *p, unsigned node)
{
        if (p->ledger_whole)
                return node == 0 ? p->cur.total : 0;
        return core->n_nodes == 0 ? p->cur.total : p->ncur[node].cur.total;
}

static size_t node_count(const struct core *core, const struct pool_rt *p)
{
        return core->n_nodes == 0 || p->ledger_whole ? 1 : core->n_nodes;
}

static unsigned node_at(const struct core *core, const struct pool_rt *p, size_t k)
{
        return core->n_nodes == 0 || p->ledger_whole ? 0 : core->nodes[k];
}

static bool node_moved(const struct core *core, const struct pool_rt *p, unsigned node)
{
        return node_total(core, p, node) != p->ncur[node].measured_total;
}

/* The counters' first reading: a pool is pinned if it is empty, or the only
 * one that holds pages (then the whole saving is its). */
static void measure_start(struct core *core, int64_t saved)
{
        size_t holding = 0;
        for (size_t i = 0; i < core->n_pools; i++)
                holding += core->pools[i].hvo.eligible && core->pools[i].cur.total > 0;
        for (size_t i = 0; i < core->n_pools; i++) {
                struct pool_rt *p = &core->pools[i];
                bool alone = p->hvo.eligible && p->cur.total > 0 && holding == 1;
                p->measured_saved = alone ? saved : 0;
                /* Pages from before hugevmd: the model guessed from HVO now;
                 * the counters know when none or all are optimized. */
                uint64_t per = p->ledger.saved_pages_per_page;
                if (alone && per && (saved == 0 || saved == (int64_t)(p->cur.total * per)))
                        for (size_t k = 0; k < node_count(core, p); k++)
                                ledger_node_known(&p->ledger, node_at(core, p, k), saved != 0);
                p->measured_pinned = !p->hvo.eligible || p->cur.total == 0 || alone;
                size_t nodes_holding = 0;
                for (size_t k = 0; k < node_count(core, p); k++)
                        nodes_holding += node_total(core, p, node_at(core, p, k)) > 0;
                for (size_t k = 0; k < node_count(core, p); k++) {
                        unsigned node = node_at(core, p, k);
                        struct node_rt *nr = &p->ncur[node];
                        uint64_t total = node_total(core, p, node);
                        nr->measured_saved = total > 0 && alone && nodes_holding == 1 ? saved : 0;
                        nr->measured_pinned = total == 0 || !p->hvo.eligible || (alone && nodes_holding == 1);
                }
        }
}

/* The one pool that moved takes the whole delta; of its nodes, the one that
 * moved, or each what the model says if the model accounts for all of it. */
static void attribute(struct core *core, struct pool_rt *p, int64_t delta)
{
        int64_t model_sum = 0, model_delta[HUGEVMD_MAX_NODES] = { 0 };
        size_t nodes_moved = 0;
        p->measured_saved += delta;
        for (size_t k = 0; k < node_count(core, p); k++) {
                unsigned node = node_at(core, p, k);
                if (!node_moved(core, p, node))
                        continue;
                nodes_moved++;
                model_delta[node] = (int64_t)(ledger_node_optimized(&p->ledger, node, NULL) * p->ledger.saved_pages_per_page) -
                                    p->ncur[node].measured_saved;
                model_sum += model_delta[node];
        }
        for (size_t k = 0; k < node_count(core, p); k++) {
                unsigned node = node_at(core, p, k);
                struct node_rt *nr = &p->ncur[node];
                if (!node_moved(core, p, node))
                        continue;
                if (nodes_moved == 1)
                        nr->measured_saved += delta;
                else if (model_sum == delta)
                        nr->measured_saved += model_delta[node];
                else
                        nr->measured_pinned = false;
        }
}

/* What the counters moved since their last reading belongs to the pools whose
 * size changed meanwhile. Our own resize writes are one at a time with a
 * reading right after each, so it is usually one pool: then it is exact. */
static void measure_delta(struct core *core, int64_t delta)
{
        struct pool_rt *moved = NULL;
        size_t n_moved = 0;
        for (size_t i = 0; i < core->n_pools; i++) {
                struct pool_rt *p = &core->pools[i];
                bool any = false;
                for (size_t k = 0; k < node_count(core, p); k++)
                        any = any || node_moved(core, p, node_at(core, p, k));
                if (any && p->hvo.eligible) {
                        moved = p;
                        n_moved++;
                }
        }
        if (n_moved == 1)
                attribute(core, moved, delta);
        else if (n_moved > 1 || delta != 0)
                /* Several pools moved together, or the saving moved with none:
                 * whoever holds pages can no longer be told apart. */
                for (size_t i = 0; i < core->n_pools; i++) {
                        struct pool_rt *p = &core->pools[i];
                        for (size_t k = 0; k < node_count(core, p); k++) {
                                unsigned node = node_at(core, p, k);
                                if (node_moved(core, p, node) || (n_moved == 0 && node_total(core, p, node) > 0)) {
                                        p->measured_pinned = p->measured_pinned && !p->hvo.eligible;
                                        p->ncur[node].measured_pinned = p->ncur[node].measured_pinned && !p->hvo.eligible;
                                }
                        }
                }
}

/* Read the kernel's memmap counters (the measurement), attribute what they
 * moved, and say once when the model and the measurement part. */
static void measure_savings(struct core *core)
{
        if (core->job_running && (core->job_reopt || core->job_demote))
                return;   /* the batch (or demotion) measures its own move */
        core->memmap_ok = vmm_memmap_read(core->ctx, &core->memmap) == 0;
        if (!core->memmap_ok) {
                core->measured_started = false;
                return;
        }
        int64_t saved = core->memmap.saved_pages;
        if (!core->measured_started)
                measure_start(core, saved);
        else
                measure_delta(core, saved - core->measured_prev);
        for (size_t i = 0; i < core->n_pools; i++) {
                struct pool_rt *p = &core->pools[i];
                for (size_t k = 0; k < node_count(core, p); k++)
                        p->ncur[node_at(core, p, k)].measured_total = node_total(core, p, node_at(core, p, k));
        }
        core->measured_started = true;
        core->measured_prev = saved;

        uint64_t model = 0;
        for (size_t i = 0; i < core->n_pools; i++)
                model += ledger_optimized(&core->pools[i].ledger, NULL) * core->pools[i].ledger.saved_pages_per_page;
        if ((int64_t)model == saved)
                core->disagree_logged = false;
        else if (!core->disagree_logged) {
                log_notice("The savings model says %" PRIu64 " base pages, the kernel's memmap counters %" PRId64
                           ": pages changed before hugevmd watched or in an order the model does not follow;"
                           " what the counters pin down is reported as measured", model, saved);
                core->disagree_logged = true;
        }
}

uint64_t reconcile_optimized_pages(const struct core *core, const struct pool_rt *p, int node, bool *exact)
{
        uint64_t per = p->ledger.saved_pages_per_page;
        bool model_exact;
        uint64_t model = node < 0 ? ledger_optimized(&p->ledger, &model_exact)
                                  : ledger_node_optimized(&p->ledger, (unsigned)node, &model_exact);
        int64_t measured = node < 0 ? p->measured_saved : p->ncur[node].measured_saved;
        bool pinned = core->memmap_ok && core->measured_started &&
                      (node < 0 ? p->measured_pinned : p->ncur[node].measured_pinned);
        *exact = true;
        if (per == 0)
                return 0;
        if (pinned && measured >= 0 && measured % (int64_t)per == 0)
                return (uint64_t)measured / per;
        *exact = false;
        return model;
}

/* Nothing is written blind: every target of an unreadable pool is degraded
 * until it reads again. */
static void degrade_unreadable(struct pool_rt *p, const struct target *t)
{
        struct work_rt *ws[HUGEVMD_MAX_NODES + 1];
        size_t nw = 0;
        if (t->has_pages)
                ws[nw++] = &p->whole;
        for (unsigned node = 0; node < HUGEVMD_MAX_NODES; node++)
                if (t->node_mask & (UINT64_C(1) << node))
                        ws[nw++] = &p->nodes_w[node];
        for (size_t k = 0; k < nw; k++) {
                ws[k]->state = POOL_DEGRADED;
                snprintf(ws[k]->reason, sizeof ws[k]->reason, "cannot read the %s pool: %s", p->label, strerror(-p->read_err));
        }
}

/* Settle a pool's work items against what it holds; announce a changed state. */
static void settle_pool(struct core *core, size_t i)
{
        struct pool_rt *p = &core->pools[i];
        struct target t;
        core_effective_target(core, p->size_kb, &t);
        bool job_here = job_on_pool(core, i);
        if (!p->read_ok)
                degrade_unreadable(p, &t);
        else if (t.has_pages) {
                /* A running job settles its own item once its write is read
                 * back, after its progress: a wait answered earlier would
                 * overtake that progress. */
                if (!(job_here && core->job_node < 0))
                        work_update(&p->whole, p->cur.total, t.pages);
        } else
                p->whole.state = POOL_UNMANAGED;
        for (unsigned node = 0; node < HUGEVMD_MAX_NODES && p->read_ok; node++) {
                if (t.node_mask & (UINT64_C(1) << node)) {
                        if (!(job_here && core->job_node == (int)node))
                                work_update(&p->nodes_w[node], p->ncur[node].cur.total, t.node_pages[node]);
                } else
                        p->nodes_w[node].state = POOL_UNMANAGED;
        }
        const char *reason;
        enum pool_state s = reconcile_pool_state(core, p, &reason);
        if (s != p->reported_state || strcmp(reason, p->reported_reason) != 0) {
                log_pool(s == POOL_DEGRADED ? LOG_WARNING : LOG_INFO, p->label, -1, p->cur.total,
                         "%s pool %s%s%s (%" PRIu64 " pages)", p->label, pool_state_name(s),
                         *reason ? ": " : "", reason, p->cur.total);
                publish_pool_changed(core, p, s, reason, false);
        }
}

void reconcile_refresh(struct core *core)
{
        hvo_observe(core, true);
        host_refresh(core);
        for (size_t i = 0; i < core->n_pools; i++)
                observe_pool(core, i);
        measure_savings(core);
        for (size_t i = 0; i < core->n_pools; i++)
                settle_pool(core, i);
        forecast_refresh(core);

        core->refresh_fresh = true;
        bool converged = reconcile_all_converged(core);
        if (converged && !core->all_converged) {
                struct core_event ev = { .kind = CORE_EV_CONVERGED, .node = -1 };
                core_publish(core, &ev);
        }
        core->all_converged = converged;
        struct core_event ev = { .kind = CORE_EV_REFRESHED, .node = -1 };
        core_publish(core, &ev);
}

static void work_cb(uv_work_t *req)
{
        struct job *j = req->data;
        vmm_ctx *ctx = j->core->worker_ctx;
        uint64_t base_kb = j->core->kernel.page_size / 1024;
        if (j->drop_first || j->compact_first)
                j->pages_before = j->pages_dropped = forecast_pages_now(ctx, j->node, j->size_kb, base_kb);
        if (j->drop_first) {
                j->drop_rc = vmm_drop_caches(ctx);
                j->pages_dropped = forecast_pages_now(ctx, j->node, j->size_kb, base_kb);
        }
        if (j->compact_first) {
                j->compact_rc = vmm_compact(ctx, j->node);
                j->pages_compacted = forecast_pages_now(ctx, j->node, j->size_kb, base_kb);
        }
        double t0 = clock_seconds();
        /* A write that fails outright leaves res untouched: the pool kept what it had. */
        j->res = (struct vmm_resize){ .before = j->current, .requested = j->pages, .reached = j->current };
        j->rc = vmm_pool_set(ctx, j->size_kb, j->node, j->pages, &j->res);
        j->seconds = clock_seconds() - t0;
        if (j->rc == -ENOMEM)
                j->free_rc = vmm_free_read(ctx, j->node, &j->free);
}

/* Why growth fell short, from the free memory read right after: too little
 * of it, or enough but in blocks smaller than a page of this size. */
static void shortfall_why(const struct core *core, const struct job *j, char *buf, size_t len)
{
        char need[32], have[32], block[32];
        if (j->free_rc < 0) {
                snprintf(buf, len, "the kernel gave no more pages (free memory unknown: %s)", strerror(-j->free_rc));
                return;
        }
        uint64_t need_kb = (j->target - j->res.reached) * j->size_kb;
        vmm_size_format_human(need_kb * 1024, need, sizeof need);
        vmm_size_format_human(j->free.free_kb * 1024, have, sizeof have);
        char where[32] = "";
        if (j->node >= 0)
                snprintf(where, sizeof where, " on node %d", j->node);
        if (j->free.free_kb < need_kb) {
                snprintf(buf, len, "not enough free memory%s (needs %s, has %s)", where, need, have);
                return;
        }
        if (j->free.largest_order == VMM_ORDER_UNKNOWN)
                snprintf(block, sizeof block, "unknown");
        else if (j->free.largest_order < 0)
                snprintf(block, sizeof block, "none");
        else
                vmm_size_format_human(core->kernel.page_size << j->free.largest_order, block, sizeof block);
        snprintf(buf, len, "memory fragmented%s (%s free, largest free block %s)", where, have, block);
}

static void after_work_cb(uv_work_t *req, int status)
{
        struct job *j = req->data;
        struct core *core = j->core;
        struct pool_rt *p = &core->pools[j->pool];
        struct work_rt *w = j->node < 0 ? &p->whole : &p->nodes_w[j->node];
        uint64_t now = uv_now(core->loop);
        int rc = status < 0 ? status : j->rc;

        core->job_running = false;
        if (j->drop_first)
                log_pool(j->drop_rc < 0 ? LOG_WARNING : LOG_DEBUG, p->label, j->node, UINT64_MAX,
                         "%s: dropping the page cache: %" PRIu64 " -> %" PRIu64 " pages free now%s%s", p->label,
                         j->pages_before, j->pages_dropped, j->drop_rc < 0 ? ", failed: " : "",
                         j->drop_rc < 0 ? strerror(-j->drop_rc) : "");
        if (j->compact_first && j->compact_rc >= 0)
                log_pool(LOG_DEBUG, p->label, j->node, UINT64_MAX, "%s: compaction: %" PRIu64 " -> %" PRIu64 " pages free now",
                         p->label, j->pages_dropped, j->pages_compacted);
        if (j->compact_first && j->compact_rc < 0)
                log_pool(LOG_WARNING, p->label, j->node, UINT64_MAX, "Compaction failed: %s", strerror(-j->compact_rc));

        struct core_event ev = { .kind = CORE_EV_PROGRESS, .pool = p, .node = j->node, .from = w->from,
                                 .current = j->res.reached, .target = j->target, .seconds = j->seconds,
                                 .result = rc == 0 ? RESIZE_REACHED : (rc == -ENOMEM || rc == -EBUSY) ? RESIZE_SHORT : RESIZE_ERROR };

        if (rc == 0 || rc == -ENOMEM || rc == -EBUSY) {
                uint64_t before = j->res.before, reached = j->res.reached;
                /* Our own write: the next refresh takes the pool's total as it
                 * finds it (a node write moves the global total too). */
                p->resync = true;
                uint64_t delta = reached > before ? reached - before : before - reached;
                if (rc == 0 && delta > 0)
                        chunk_observe(&core->chunk[reached > before], delta, j->seconds * 1e9);
                log_pool(LOG_DEBUG, p->label, j->node, reached, "%s: wrote %" PRIu64 " -> %" PRIu64 " pages (reached %" PRIu64
                         ") in %.1f ms%s", p->label, before, j->res.requested, reached, j->seconds * 1e3,
                         j->compact_first ? " after compaction" : "");
                ev.wrote = true;
        }

        if (rc == 0) {
                if (w->retries || w->state == POOL_DEGRADED) {
                        w->retries = 0;
                        w->state = POOL_CONVERGING;
                        w->reason[0] = '\0';
                }
                w->compact_next = false;
        } else if (rc == -ENOMEM) {
                w->retries++;
                w->compact_next = true;
                char why[160];
                shortfall_why(core, j, why, sizeof why);
                if (w->retries <= QUICK_RETRIES) {
                        unsigned ms = QUICK_RETRY_MS << (w->retries - 1);
                        snprintf(w->reason, sizeof w->reason,
                                 "reached %" PRIu64 " of %" PRIu64 " pages: %s; compacting, retry %u of %u in %u s",
                                 j->res.reached, j->target, why, w->retries, QUICK_RETRIES, ms / 1000);
                        w->next_attempt = now + ms;
                } else {
                        w->state = POOL_DEGRADED;
                        snprintf(w->reason, sizeof w->reason, "reached %" PRIu64 " of %" PRIu64 " pages after %u retries: %s",
                                 j->res.reached, j->target, QUICK_RETRIES, why);
                        w->next_attempt = now + SLOW_RETRY_MS;
                }
                log_pool(LOG_WARNING, p->label, j->node, j->res.reached, "%s pool short: %s", p->label, w->reason);
        } else if (rc == -EBUSY) {
                w->state = POOL_DEGRADED;
                snprintf(w->reason, sizeof w->reason, "%" PRIu64 " pages in use became surplus",
                         j->res.reached - j->res.requested);
                w->next_attempt = now + (uint64_t)core->cfg->refresh_sec * 1000;
                log_pool(LOG_WARNING, p->label, j->node, j->res.reached, "%s pool: %s", p->label, w->reason);
        } else {
                w->state = POOL_DEGRADED;
                snprintf(w->reason, sizeof w->reason, "writing nr_hugepages failed: %s", strerror(-rc));
                w->next_attempt = now + SLOW_RETRY_MS;
                log_pool(LOG_ERR, p->label, j->node, j->pages, "%s pool: %s", p->label, w->reason);
        }
        free(j);

        core_publish(core, &ev);
        reconcile_job_done(core);
}

void reconcile_job_done(struct core *core)
{
        reconcile_refresh(core);
        if (core->stopping)
                core_stop(core);
        else
                reconcile_kick(core);
}

static bool start_job(struct core *core, size_t pool, int node, uint64_t current, uint64_t target)
{
        struct pool_rt *p = &core->pools[pool];
        struct work_rt *w = node < 0 ? &p->whole : &p->nodes_w[node];
        struct job *j = calloc(1, sizeof *j);
        if (!j)
                return false;
        uint64_t chunk = chunk_next(&core->chunk[target > current]);
        reoptimize_release_all(core);   /* a resize counts every page */
        j->core = core;
        j->pool = pool;
        j->node = node;
        j->size_kb = p->size_kb;
        j->target = target;
        j->current = current;
        if (target > current)
                j->pages = target - current > chunk ? current + chunk : target;
        else
                j->pages = current - target > chunk ? current - chunk : target;
        j->compact_first = w->compact_next;
        j->drop_first = j->compact_first && target > current && core->cfg->drop_caches &&
                        forecast_cache_covers(core, p, node, target);
        p->retries += j->compact_first;   /* a retry: the last write fell short */
        j->req.data = j;
        if (uv_queue_work(core->loop, &j->req, work_cb, after_work_cb) < 0) {
                free(j);
                return false;
        }
        core->job_running = true;
        core->job_pool = pool;
        core->job_node = node;
        return true;
}

static void apply_overcommit(struct core *core, struct pool_rt *p, const struct target *t)
{
        if (!t->has_overcommit || p->cur.overcommit == t->overcommit)
                return;
        int r = vmm_overcommit_set(core->ctx, p->size_kb, t->overcommit);
        if (r < 0) {
                if (r != p->overcommit_err)
                        log_pool(LOG_ERR, p->label, -1, t->overcommit, "Cannot set %s overcommit to %" PRIu64 ": %s",
                                 p->label, t->overcommit, strerror(-r));
        } else {
                p->cur.overcommit = t->overcommit;
                log_pool(LOG_INFO, p->label, -1, t->overcommit, "%s overcommit set to %" PRIu64 " pages", p->label, t->overcommit);
        }
        p->overcommit_err = r;
}

void reconcile_kick(struct core *core)
{
        if (core->job_running || core->stopping)
                return;
        uint64_t now = uv_now(core->loop), earliest = UINT64_MAX;

        /* Demotion (Demote=yes) before any plain resize: it takes the
         * larger pool's excess before a shrink would free it. */
        if (demote_kick_all(core, now, &earliest))
                return;
        /* Larger page sizes first: 1 GiB pages are taken before 2 MiB pages
         * fragment the memory they need. */
        size_t order[HUGEVMD_MAX_POOLS];
        for (size_t k = 0; k < core->n_pools; k++) {
                size_t at = k;
                for (; at > 0 && core->pools[order[at - 1]].size_kb < core->pools[k].size_kb; at--)
                        order[at] = order[at - 1];
                order[at] = k;
        }
        for (size_t k = 0; k < core->n_pools; k++) {
                size_t i = order[k];
                struct pool_rt *p = &core->pools[i];
                struct target t;
                if (!p->read_ok)
                        continue;
                core_effective_target(core, p->size_kb, &t);
                apply_overcommit(core, p, &t);
                if (t.has_pages && p->cur.total != t.pages) {
                        if (now >= p->whole.next_attempt) {
                                if (start_job(core, i, -1, p->cur.total, t.pages))
                                        return;
                        } else if (p->whole.next_attempt < earliest)
                                earliest = p->whole.next_attempt;
                }
                for (unsigned node = 0; node < HUGEVMD_MAX_NODES; node++) {
                        if (!(t.node_mask & (UINT64_C(1) << node)) || !core_node_present(core, node))
                                continue;
                        struct work_rt *w = &p->nodes_w[node];
                        uint64_t cur = p->ncur[node].cur.total;
                        if (cur == t.node_pages[node])
                                continue;
                        if (now >= w->next_attempt) {
                                if (start_job(core, i, (int)node, cur, t.node_pages[node]))
                                        return;
                        } else if (w->next_attempt < earliest)
                                earliest = w->next_attempt;
                }
        }
        /* Pools at their targets: time to re-optimize what HVO missed. */
        if (reoptimize_kick(core, now, &earliest))
                return;
        if (earliest != UINT64_MAX)
                uv_timer_start(&core->retry_timer, retry_timer_cb, earliest - now, 0);
}

int reconcile_hvo_set(struct core *core, bool enabled)
{
        /* Pages that came before the switch belong to the old state. */
        reconcile_refresh(core);
        int r = vmm_hvo_set(core->ctx, enabled);
        hvo_observe(core, false);
        reconcile_refresh(core);
        return r;
}
