/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The STATUS, POOL, NODE, VMEMMAP and MEASURED objects described in proto.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <inttypes.h>
#include <stdio.h>

#include "core.h"
#include "proto.h"
#include "status.h"

static json_object *target_or_null(bool has, uint64_t pages)
{
        return has ? json_object_new_uint64(pages) : NULL;
}

static json_object *mount_new(const char *path, const char *options, bool configured, const char *error)
{
        json_object *m = json_object_new_object();
        json_object_object_add(m, PROTO_F_PATH, json_object_new_string(path));
        json_object_object_add(m, PROTO_F_OPTIONS, options ? json_object_new_string(options) : NULL);
        json_object_object_add(m, PROTO_F_CONFIGURED, json_object_new_boolean(configured));
        json_object_object_add(m, PROTO_F_REASON, json_object_new_string(error));
        return m;
}

/* Every hugetlbfs mount of this page size, and a configured one that is not. */
static json_object *status_mounts(struct core *core, uint64_t size_kb)
{
        json_object *a = json_object_new_array();
        const char *want = NULL, *error = "";
        for (size_t i = 0; i < core->cfg->n_pools; i++)
                if (core->cfg->pools[i].size_kb == size_kb && core->cfg->mounts[i].path) {
                        want = core->cfg->mounts[i].path;
                        error = core->mount_errors[i];
                }
        bool listed = false;
        for (size_t i = 0; i < core->n_mounts; i++) {
                const struct vmm_mount *m = &core->mounts[i];
                if (m->size_kb != size_kb)
                        continue;
                bool mine = want && strcmp(m->path, want) == 0;
                listed = listed || mine;
                json_object_array_add(a, mount_new(m->path, m->options, mine, mine ? error : ""));
        }
        if (want && !listed)
                json_object_array_add(a, mount_new(want, NULL, true, *error ? error : "not mounted"));
        return a;
}

static json_object *u64_or_null(bool ok, uint64_t v)
{
        return ok ? json_object_new_uint64(v) : NULL;
}

static json_object *status_shm(struct core *core)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, PROTO_F_GROUP, u64_or_null(core->shm_ok, core->shm.group));
        json_object_object_add(o, PROTO_F_SHMMAX, u64_or_null(core->shm_ok, core->shm.shmmax));
        json_object_object_add(o, PROTO_F_SHMALL, u64_or_null(core->shm_ok, core->shm.shmall));
        json_object_object_add(o, PROTO_F_REASON, json_object_new_string(core->shm_error));
        return o;
}

/* What HVO saved in a pool (node -1) or one node: the figure reported (measured
 * where the counters pin it), and the model's own. */
static void add_savings(json_object *o, struct core *core, struct pool_rt *p, int node)
{
        bool exact;
        if (node >= 0 && p->ledger_whole) {
                /* The node files do not add up to the pool: no figure per node. */
                json_object_object_add(o, PROTO_F_OPTIMIZED_PAGES, NULL);
                json_object_object_add(o, PROTO_F_SAVED_BYTES, NULL);
                json_object_object_add(o, PROTO_F_SAVED_EXACT, json_object_new_boolean(false));
                json_object_object_add(o, PROTO_F_MODEL_OPTIMIZED, NULL);
                json_object_object_add(o, PROTO_F_MODEL_SAVED, NULL);
                return;
        }
        uint64_t optimized = reconcile_optimized_pages(core, p, node, &exact);
        uint64_t model = node < 0 ? ledger_optimized(&p->ledger, NULL) : ledger_node_optimized(&p->ledger, (unsigned)node, NULL);
        json_object_object_add(o, PROTO_F_OPTIMIZED_PAGES, json_object_new_uint64(optimized));
        json_object_object_add(o, PROTO_F_SAVED_BYTES, json_object_new_uint64(optimized * p->hvo.saved_bytes));
        json_object_object_add(o, PROTO_F_SAVED_EXACT, json_object_new_boolean(exact));
        json_object_object_add(o, PROTO_F_MODEL_OPTIMIZED, json_object_new_uint64(model));
        json_object_object_add(o, PROTO_F_MODEL_SAVED, json_object_new_uint64(model * p->hvo.saved_bytes));
}

/* Pages HVO missed and re-optimization (node -1: the pool's sums, the first
 * reason of a node). */
static void add_reoptimize(json_object *o, struct core *core, struct pool_rt *p, int node)
{
        uint64_t free_u = 0, used_u = 0, converted = 0;
        bool pending = false;
        const char *reason = "";
        for (size_t k = 0; k < core->n_nodes; k++) {
                unsigned n = core->nodes[k];
                if (n >= HUGEVMD_MAX_NODES || (node >= 0 && (unsigned)node != n))
                        continue;
                uint64_t f, u;
                reoptimize_unoptimized(p, n, &f, &u);
                free_u += f;
                used_u += u;
                converted += p->ncur[n].reopt.converted;
                pending = pending || p->ncur[n].reopt.wanted;
                if (!*reason)
                        reason = p->ncur[n].reopt.reason;
        }
        json_object_object_add(o, PROTO_F_UNOPTIMIZED, json_object_new_uint64(free_u + used_u));
        json_object_object_add(o, PROTO_F_UNOPT_IN_USE, json_object_new_uint64(used_u));
        json_object_object_add(o, PROTO_F_REOPTIMIZED, json_object_new_uint64(converted));
        json_object_object_add(o, PROTO_F_REOPT_PENDING, json_object_new_boolean(pending));
        json_object_object_add(o, PROTO_F_REOPT_REASON, json_object_new_string(reason));
}

/* A forecast (forecast.c), null when there is none. */
static json_object *forecast_json(const struct forecast *f)
{
        if (!f->valid)
                return NULL;
        json_object *o = json_object_new_object();
        json_object_object_add(o, PROTO_F_FC_NOW, json_object_new_uint64(f->now));
        json_object_object_add(o, PROTO_F_FC_AFTER, json_object_new_uint64(f->after));
        json_object_object_add(o, PROTO_F_FC_EXPECT, json_object_new_uint64(f->expect));
        json_object_object_add(o, PROTO_F_FC_SHORT, json_object_new_uint64(f->short_pages));
        json_object_object_add(o, PROTO_F_FC_WHY, json_object_new_string(f->why));
        return o;
}

/* override: a hypothetical target (pool.set dry_run): states are what it would make them. */
json_object *status_pool(struct core *core, struct pool_rt *p, const struct target *override)
{
        struct target t;
        if (override)
                t = *override;
        else
                core_effective_target(core, p->size_kb, &t);
        json_object *o = json_object_new_object();
        const char *reason = "";
        enum pool_state s;

        if (override) {
                /* What the reconciler would make of it: converged iff already there. */
                bool there = t.has_pages ? p->cur.total == t.pages : true;
                for (unsigned node = 0; node < HUGEVMD_MAX_NODES; node++)
                        if (t.node_mask & (UINT64_C(1) << node))
                                there = there && p->ncur[node].cur.total == t.node_pages[node];
                s = !target_managed(&t) ? POOL_UNMANAGED : there ? POOL_CONVERGED : POOL_CONVERGING;
        } else
                s = reconcile_pool_state(core, p, &reason);

        json_object_object_add(o, PROTO_F_SIZE, json_object_new_string(p->label));
        json_object_object_add(o, PROTO_F_SIZE_BYTES, json_object_new_uint64(p->size_kb * 1024));
        json_object_object_add(o, PROTO_F_PAGES, json_object_new_uint64(p->cur.total));
        json_object_object_add(o, PROTO_F_FREE, json_object_new_uint64(p->cur.free));
        json_object_object_add(o, PROTO_F_RESERVED, json_object_new_uint64(p->cur.reserved));
        json_object_object_add(o, PROTO_F_SURPLUS, json_object_new_uint64(p->cur.surplus));
        json_object_object_add(o, PROTO_F_OVERCOMMIT,
                               json_object_new_uint64(override && t.has_overcommit ? t.overcommit : p->cur.overcommit));
        json_object_object_add(o, PROTO_F_TARGET, target_or_null(t.has_pages, t.pages));
        const struct target *declared = config_pool(core->cfg, p->size_kb);
        json_object_object_add(o, PROTO_F_SOURCE, json_object_new_string(target_source_name(core_target_source(core, p->size_kb))));
        json_object_object_add(o, PROTO_F_CONFIG_TARGET, target_or_null(declared && declared->has_pages, declared ? declared->pages : 0));
        json_object *absent = json_object_new_array();
        uint64_t absent_mask = core_absent_nodes(core, p->size_kb);
        for (unsigned node = 0; node < HUGEVMD_MAX_NODES; node++)
                if (absent_mask & (UINT64_C(1) << node))
                        json_object_array_add(absent, json_object_new_int((int)node));
        json_object_object_add(o, PROTO_F_ABSENT_NODES, absent);
        json_object_object_add(o, PROTO_F_STATE, json_object_new_string(pool_state_name(s)));
        json_object_object_add(o, PROTO_F_REASON, json_object_new_string(reason));
        /* Per-node targets retry node by node: the pool's figure is their sum. */
        unsigned retries = t.has_pages ? p->whole.retries : 0;
        for (unsigned node = 0; node < HUGEVMD_MAX_NODES; node++)
                if (t.node_mask & (UINT64_C(1) << node))
                        retries += p->nodes_w[node].retries;
        json_object_object_add(o, PROTO_F_RETRIES, json_object_new_int((int)retries));
        add_savings(o, core, p, -1);
        add_reoptimize(o, core, p, -1);
        /* A dry run reads the free lists for its hypothetical target. */
        static struct forecast dry_nodes[HUGEVMD_MAX_NODES];
        struct forecast dry_whole;
        if (override) {
                forecast_read(core);
                forecast_for_target(core, p, &t, &dry_whole, dry_nodes);
        }
        json_object_object_add(o, PROTO_F_FORECAST, forecast_json(override ? &dry_whole : &p->fc));
        json_object_object_add(o, PROTO_F_DEMOTED, json_object_new_uint64(p->demoted));

        json_object *nodes = json_object_new_array();
        for (size_t k = 0; k < core->n_nodes; k++) {
                unsigned node = core->nodes[k];
                if (node >= HUGEVMD_MAX_NODES)
                        continue;
                const struct node_rt *nr = &p->ncur[node];
                bool has = t.node_mask & (UINT64_C(1) << node);
                json_object *n = json_object_new_object();
                enum pool_state ns = !has ? POOL_UNMANAGED
                                     : override ? (nr->cur.total == t.node_pages[node] ? POOL_CONVERGED : POOL_CONVERGING)
                                     : p->nodes_w[node].state;
                json_object_object_add(n, PROTO_F_NODE, json_object_new_int((int)node));
                json_object_object_add(n, PROTO_F_PAGES, json_object_new_uint64(nr->cur.total));
                json_object_object_add(n, PROTO_F_FREE, json_object_new_uint64(nr->cur.free));
                json_object_object_add(n, PROTO_F_SURPLUS, json_object_new_uint64(nr->cur.surplus));
                json_object_object_add(n, PROTO_F_TARGET, target_or_null(has, t.node_pages[node]));
                bool declared_here = declared && (declared->node_mask & (UINT64_C(1) << node));
                json_object_object_add(n, PROTO_F_CONFIG_TARGET, target_or_null(declared_here, declared_here ? declared->node_pages[node] : 0));
                json_object_object_add(n, PROTO_F_STATE, json_object_new_string(pool_state_name(ns)));
                json_object_object_add(n, PROTO_F_REASON,
                                       json_object_new_string(has && !override ? p->nodes_w[node].reason : ""));
                json_object_object_add(n, PROTO_F_RETRIES,
                                       json_object_new_int((int)(has ? p->nodes_w[node].retries : 0)));
                add_savings(n, core, p, (int)node);
                add_reoptimize(n, core, p, (int)node);
                json_object_object_add(n, PROTO_F_FORECAST, forecast_json(override ? &dry_nodes[node] : &p->nfc[node]));
                json_object_array_add(nodes, n);
        }
        json_object_object_add(o, PROTO_F_NODES, nodes);
        json_object_object_add(o, PROTO_F_MOUNTS, status_mounts(core, p->size_kb));
        return o;
}

json_object *status_vmemmap(struct core *core)
{
        json_object *o = json_object_new_object(), *sizes = json_object_new_array();
        json_object_object_add(o, PROTO_F_SUPPORTED, json_object_new_boolean(core->hvo.supported));
        json_object_object_add(o, PROTO_F_ENABLED, json_object_new_boolean(core->hvo.enabled));
        json_object_object_add(o, PROTO_F_BOOT_PARAM,
                               core->hvo.boot_param == VMM_BOOT_ABSENT ? NULL
                               : json_object_new_string(core->hvo.boot_param == VMM_BOOT_ON ? "on" : "off"));
        json_object_object_add(o, PROTO_F_KERNEL, json_object_new_string(core->kernel.release));
        json_object_object_add(o, PROTO_F_RESERVE_PAGES, json_object_new_int((int)core->kernel.reserve_pages));
        json_object_object_add(o, PROTO_F_PAGE_SIZE, json_object_new_uint64(core->kernel.page_size));
        json_object_object_add(o, PROTO_F_STRUCT_PAGE, json_object_new_uint64(core->kernel.struct_page_size));
        for (size_t i = 0; i < core->n_pools; i++) {
                struct pool_rt *p = &core->pools[i];
                json_object *s = json_object_new_object();
                json_object_object_add(s, PROTO_F_SIZE, json_object_new_string(p->label));
                json_object_object_add(s, PROTO_F_ELIGIBLE, json_object_new_boolean(p->hvo.eligible));
                json_object_object_add(s, PROTO_F_VMEMMAP_PAGES, json_object_new_uint64(p->hvo.vmemmap_pages));
                json_object_object_add(s, PROTO_F_SAVED_PER_PAGE, json_object_new_uint64(p->hvo.saved_bytes));
                json_object_array_add(sizes, s);
        }
        json_object_object_add(o, PROTO_F_SIZES, sizes);
        return o;
}

static json_object *status_measured(struct core *core)
{
        json_object *o = json_object_new_object();
        uint64_t model = 0;
        for (size_t i = 0; i < core->n_pools; i++)
                model += ledger_optimized(&core->pools[i].ledger, NULL) * core->pools[i].hvo.saved_bytes;
        json_object_object_add(o, PROTO_F_AVAILABLE, json_object_new_boolean(core->memmap_ok));
        if (core->memmap_ok) {
                json_object_object_add(o, PROTO_F_BASELINE_PAGES, json_object_new_uint64(core->memmap.baseline_pages));
                json_object_object_add(o, PROTO_F_CURRENT_PAGES, json_object_new_uint64(core->memmap.current_pages));
                json_object_object_add(o, PROTO_F_SAVED_PAGES, json_object_new_int64(core->memmap.saved_pages));
                json_object_object_add(o, PROTO_F_SAVED_BYTES, json_object_new_uint64(core->memmap.saved_bytes));
        } else {
                json_object_object_add(o, PROTO_F_BASELINE_PAGES, NULL);
                json_object_object_add(o, PROTO_F_CURRENT_PAGES, NULL);
                json_object_object_add(o, PROTO_F_SAVED_PAGES, NULL);
                json_object_object_add(o, PROTO_F_SAVED_BYTES, NULL);
        }
        json_object_object_add(o, PROTO_F_MODEL_SAVED, json_object_new_uint64(model));
        json_object_object_add(o, PROTO_F_AGREES,
                               core->memmap_ok ? json_object_new_boolean(model == core->memmap.saved_bytes) : NULL);
        return o;
}

json_object *status_build(struct core *core)
{
        json_object *o = json_object_new_object(), *pools = json_object_new_array();
        json_object_object_add(o, PROTO_F_VERSION, json_object_new_string(PACKAGE_VERSION));
        json_object_object_add(o, PROTO_F_PROTOCOL, json_object_new_int(PROTO_VERSION));
        json_object_object_add(o, PROTO_F_HVO, status_vmemmap(core));
        for (size_t i = 0; i < core->n_pools; i++)
                json_object_array_add(pools, status_pool(core, &core->pools[i], NULL));
        json_object_object_add(o, PROTO_F_POOLS, pools);
        json_object_object_add(o, PROTO_F_MEASURED, status_measured(core));
        json_object_object_add(o, PROTO_F_SHM, status_shm(core));
        json_object_object_add(o, PROTO_F_CONVERGED, json_object_new_boolean(reconcile_all_converged(core)));
        return o;
}

json_object *status_unconverged(struct core *core, const struct pool_rt *only)
{
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < core->n_pools; i++) {
                struct pool_rt *p = &core->pools[i];
                if (only && p != only)
                        continue;
                const char *reason;
                enum pool_state s = reconcile_pool_state(core, p, &reason);
                if (s == POOL_UNMANAGED || s == POOL_CONVERGED)
                        continue;
                struct target t;
                core_effective_target(core, p->size_kb, &t);
                json_object *o = json_object_new_object();
                json_object_object_add(o, PROTO_F_SIZE, json_object_new_string(p->label));
                json_object_object_add(o, PROTO_F_PAGES, json_object_new_uint64(p->cur.total));
                json_object_object_add(o, PROTO_F_TARGET, target_or_null(t.has_pages, t.pages));
                json_object_object_add(o, PROTO_F_STATE, json_object_new_string(pool_state_name(s)));
                json_object_object_add(o, PROTO_F_REASON, json_object_new_string(reason));
                /* Per-node targets: each targeted node's pages and target, so a
                 * client can say "node 0: 812 of 1024 pages". */
                if (t.node_mask) {
                        json_object *nodes = json_object_new_array();
                        for (unsigned node = 0; node < HUGEVMD_MAX_NODES; node++) {
                                if (!(t.node_mask & (UINT64_C(1) << node)))
                                        continue;
                                json_object *n = json_object_new_object();
                                json_object_object_add(n, PROTO_F_NODE, json_object_new_int((int)node));
                                json_object_object_add(n, PROTO_F_PAGES, json_object_new_uint64(p->ncur[node].cur.total));
                                json_object_object_add(n, PROTO_F_TARGET, json_object_new_uint64(t.node_pages[node]));
                                json_object_object_add(n, PROTO_F_STATE,
                                                       json_object_new_string(pool_state_name(p->nodes_w[node].state)));
                                json_object_array_add(nodes, n);
                        }
                        json_object_object_add(o, PROTO_F_NODES, nodes);
                }
                json_object_array_add(a, o);
        }
        return a;
}

/* ---- notifications: what the core's events look like on the socket ---- */

json_object *status_notification(const struct core_event *ev)
{
        json_object *o = json_object_new_object();
        switch (ev->kind) {
        case CORE_EV_PROGRESS:
                if (!ev->wrote)
                        break;   /* a write that failed outright moved nothing */
                json_object_object_add(o, PROTO_F_SIZE, json_object_new_string(ev->pool->label));
                json_object_object_add(o, PROTO_F_NODE, ev->node < 0 ? NULL : json_object_new_int(ev->node));
                json_object_object_add(o, PROTO_F_FROM, json_object_new_uint64(ev->from));
                json_object_object_add(o, PROTO_F_CURRENT, json_object_new_uint64(ev->current));
                json_object_object_add(o, PROTO_F_TARGET, json_object_new_uint64(ev->target));
                return proto_notification_new(PROTO_N_PROGRESS, o);
        case CORE_EV_POOL_CHANGED:
                json_object_object_add(o, PROTO_F_SIZE, json_object_new_string(ev->pool->label));
                json_object_object_add(o, PROTO_F_NODE, ev->node < 0 ? NULL : json_object_new_int(ev->node));
                json_object_object_add(o, PROTO_F_STATE, json_object_new_string(pool_state_name((enum pool_state)ev->state)));
                json_object_object_add(o, PROTO_F_REASON, json_object_new_string(ev->reason));
                json_object_object_add(o, PROTO_F_EXTERNAL, json_object_new_boolean(ev->external));
                return proto_notification_new(PROTO_N_POOL_CHANGED, o);
        case CORE_EV_HVO_CHANGED:
                json_object_object_add(o, PROTO_F_ENABLED, json_object_new_boolean(ev->enabled));
                return proto_notification_new(PROTO_N_VMEMMAP, o);
        default:
                break;
        }
        json_object_put(o);
        return NULL;
}

/* The target a pool is converging to, whole or summed over its nodes. */
static uint64_t target_total(const struct target *t)
{
        if (t->has_pages)
                return t->pages;
        uint64_t sum = 0;
        for (unsigned node = 0; node < HUGEVMD_MAX_NODES; node++)
                if (t->node_mask & (UINT64_C(1) << node))
                        sum += t->node_pages[node];
        return sum;
}

void status_text(struct core *core, char *text, size_t len)
{
        uint64_t saved = 0;
        text[0] = '\0';
        for (size_t i = 0; i < core->n_pools; i++) {
                struct pool_rt *p = &core->pools[i];
                const char *reason;
                enum pool_state s = reconcile_pool_state(core, p, &reason);
                bool exact;
                saved += reconcile_optimized_pages(core, p, -1, &exact) * p->hvo.saved_bytes;
                if (s == POOL_DEGRADED && !text[0])
                        snprintf(text, len, "degraded %s: %s", p->label, reason);
        }
        for (size_t i = 0; i < core->n_pools && !text[0]; i++) {
                struct pool_rt *p = &core->pools[i];
                struct target t;
                if (reconcile_pool_state(core, p, NULL) != POOL_CONVERGING)
                        continue;
                core_effective_target(core, p->size_kb, &t);
                snprintf(text, len, "converging %s %" PRIu64 "/%" PRIu64, p->label, p->cur.total, target_total(&t));
        }
        if (!text[0]) {
                char human[32];
                vmm_size_format_human(saved, human, sizeof human);
                snprintf(text, len, "all pools converged, %s saved", human);
        }
}
