/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The operator's intent (targets in force: runtime over config), the state
 * file, reload, HVO, and the core's life cycle: one place for each action. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <inttypes.h>
#include <stdio.h>

#include "core.h"
#include "log.h"
#include "proto.h"
#include "state.h"

const char *pool_state_name(enum pool_state s)
{
        switch (s) {
        case POOL_CONVERGED:  return PROTO_STATE_CONVERGED;
        case POOL_CONVERGING: return PROTO_STATE_CONVERGING;
        case POOL_DEGRADED:   return PROTO_STATE_DEGRADED;
        default:              return PROTO_STATE_UNMANAGED;
        }
}

struct pool_rt *core_pool(struct core *core, uint64_t size_kb)
{
        for (size_t i = 0; i < core->n_pools; i++)
                if (core->pools[i].size_kb == size_kb)
                        return &core->pools[i];
        return NULL;
}

static struct target *runtime_target(struct core *core, uint64_t size_kb, bool create)
{
        for (size_t i = 0; i < core->n_runtime; i++)
                if (core->runtime[i].size_kb == size_kb)
                        return &core->runtime[i];
        if (!create || core->n_runtime >= HUGEVMD_MAX_POOLS)
                return NULL;
        struct target *t = &core->runtime[core->n_runtime++];
        memset(t, 0, sizeof *t);
        t->size_kb = size_kb;
        return t;
}

static const struct target *runtime_of(const struct core *core, uint64_t size_kb)
{
        for (size_t i = 0; i < core->n_runtime; i++)
                if (core->runtime[i].size_kb == size_kb)
                        return &core->runtime[i];
        return NULL;
}

static uint64_t present_nodes(const struct core *core)
{
        uint64_t mask = 0;
        for (size_t i = 0; i < core->n_nodes; i++)
                if (core->nodes[i] < HUGEVMD_MAX_NODES)
                        mask |= UINT64_C(1) << core->nodes[i];
        return mask;
}

void core_effective_target(const struct core *core, uint64_t size_kb, struct target *ret)
{
        const struct target *c = config_pool(core->cfg, size_kb), *r = runtime_of(core, size_kb);
        memset(ret, 0, sizeof *ret);
        ret->size_kb = size_kb;
        /* A runtime pool target replaces the config's pool target as a whole
         * (whole-pool or per-node); overcommit separately. */
        const struct target *pages_from = r && target_managed(r) ? r : c;
        if (pages_from) {
                ret->has_pages = pages_from->has_pages;
                ret->pages = pages_from->pages;
                ret->node_mask = pages_from->node_mask & present_nodes(core);
                memcpy(ret->node_pages, pages_from->node_pages, sizeof ret->node_pages);
        }
        const struct target *oc_from = r && r->has_overcommit ? r : c;
        if (oc_from && oc_from->has_overcommit) {
                ret->has_overcommit = true;
                ret->overcommit = oc_from->overcommit;
        }
}

uint64_t core_absent_nodes(const struct core *core, uint64_t size_kb)
{
        const struct target *c = config_pool(core->cfg, size_kb);
        return c ? c->node_mask & ~present_nodes(core) : 0;
}

static bool persisted_as(const struct core *core, const struct target *t)
{
        for (size_t i = 0; i < core->n_persisted; i++)
                if (core->persisted[i].size_kb == t->size_kb)
                        return target_equal(&core->persisted[i], t);
        return false;
}

enum target_source core_target_source(const struct core *core, uint64_t size_kb)
{
        const struct target *r = runtime_of(core, size_kb), *c = config_pool(core->cfg, size_kb);
        if (r && (target_managed(r) || r->has_overcommit))
                return persisted_as(core, r) ? SOURCE_OVERRIDE : SOURCE_RUNTIME;
        return c && (target_managed(c) || c->has_overcommit) ? SOURCE_CONFIG : SOURCE_NONE;
}

const char *target_source_name(enum target_source s)
{
        switch (s) {
        case SOURCE_CONFIG:   return PROTO_SOURCE_CONFIG;
        case SOURCE_OVERRIDE: return PROTO_SOURCE_OVERRIDE;
        case SOURCE_RUNTIME:  return PROTO_SOURCE_RUNTIME;
        default:              return PROTO_SOURCE_NONE;
        }
}

/* "512 pages", "per-node 0:10 1:5", "no target", then ", overcommit N". */
static void target_describe(const struct target *t, char *buf, size_t len)
{
        size_t at;
        if (!t || !target_managed(t))
                at = (size_t)snprintf(buf, len, "no target");
        else if (t->has_pages)
                at = (size_t)snprintf(buf, len, "%" PRIu64 " page%s", t->pages, t->pages == 1 ? "" : "s");
        else {
                at = (size_t)snprintf(buf, len, "per-node");
                for (unsigned node = 0; node < HUGEVMD_MAX_NODES && at < len; node++)
                        if (t->node_mask & (UINT64_C(1) << node))
                                at += (size_t)snprintf(buf + at, len - at, " %u:%" PRIu64, node, t->node_pages[node]);
        }
        if (t && t->has_overcommit && at < len)
                snprintf(buf + at, len - at, ", overcommit %" PRIu64, t->overcommit);
}

size_t core_overrides_describe(const struct core *core, char (*lines)[192], size_t max)
{
        size_t n = 0;
        for (size_t i = 0; i < core->n_pools && n < max; i++) {
                const struct pool_rt *p = &core->pools[i];
                enum target_source s = core_target_source(core, p->size_kb);
                if (s != SOURCE_OVERRIDE && s != SOURCE_RUNTIME)
                        continue;
                char in_force[80], declared[80];
                struct target t;
                core_effective_target(core, p->size_kb, &t);
                target_describe(&t, in_force, sizeof in_force);
                target_describe(config_pool(core->cfg, p->size_kb), declared, sizeof declared);
                snprintf(lines[n++], sizeof lines[0], "%s: %s %s in force, config says %s", p->label,
                         target_source_name(s), in_force, declared);
        }
        return n;
}

bool core_has_runtime_target(const struct core *core, uint64_t size_kb)
{
        return runtime_of(core, size_kb) != NULL;
}

bool core_node_present(const struct core *core, uint64_t node)
{
        for (size_t i = 0; i < core->n_nodes; i++)
                if (core->nodes[i] == node)
                        return true;
        return false;
}

const char *core_state_dir(const struct core *core)
{
        return core->state_dir_override ? core->state_dir_override : core->cfg->state_dir;
}

/* Put the persisted list as it would be with size_kb's entry replaced by t
 * (NULL: removed), save it; on failure put it back. */
static int persist_target(struct core *core, uint64_t size_kb, const struct target *t)
{
        struct target saved[HUGEVMD_MAX_POOLS];
        size_t saved_n = core->n_persisted, k;
        memcpy(saved, core->persisted, sizeof saved);
        for (k = 0; k < core->n_persisted && core->persisted[k].size_kb != size_kb; k++)
                ;
        if (!t) {
                if (k == core->n_persisted)
                        return 0;
                memmove(&core->persisted[k], &core->persisted[k + 1], (core->n_persisted - k - 1) * sizeof *t);
                core->n_persisted--;
        } else {
                if (k == HUGEVMD_MAX_POOLS)
                        return -ENOSPC;
                if (k == core->n_persisted)
                        core->n_persisted++;
                core->persisted[k] = *t;
        }
        int r = state_save(core_state_dir(core), core->persisted, core->n_persisted);
        if (r < 0) {
                memcpy(core->persisted, saved, sizeof saved);
                core->n_persisted = saved_n;
                log_error("Cannot save state in %s: %s", core_state_dir(core), strerror(-r));
        }
        return r;
}

int core_set_target(struct core *core, struct pool_rt *p, const struct target *t, bool persist)
{
        bool existed = core_has_runtime_target(core, p->size_kb);
        struct target *rt = runtime_target(core, p->size_kb, true);
        if (!rt)
                return -ENOSPC;
        struct target want = *t;
        want.size_kb = p->size_kb;
        if (persist) {
                int r = persist_target(core, p->size_kb, &want);
                if (r < 0) {
                        if (!existed)
                                core->n_runtime--;   /* created just now, last in the list */
                        return r;
                }
        }
        *rt = want;
        reconcile_target_changed(core, p);
        host_apply_shm(core);
        reconcile_refresh(core);
        reconcile_kick(core);
        return 0;
}

int core_revert(struct core *core, struct pool_rt *p, int node)
{
        struct target *rt = runtime_target(core, p->size_kb, false);
        if (!rt)
                return 0;
        struct target want = *rt;
        const struct target *c = config_pool(core->cfg, p->size_kb);
        if (node >= 0) {
                uint64_t bit = UINT64_C(1) << node;
                if (want.has_pages || (c && c->has_pages))
                        return -EINVAL;
                want.node_mask = (want.node_mask & ~bit) | (c ? c->node_mask & bit : 0);
                want.node_pages[node] = c && (c->node_mask & bit) ? c->node_pages[node] : 0;
        }
        /* Nothing left that differs from the config: no override at all. */
        bool same_pages = node < 0 || (c ? target_nodes_equal(&want, c) : !want.node_mask);
        bool drop = node < 0 || (same_pages && !want.has_overcommit);
        /* The whole pool: whatever the state file holds for it goes too. */
        if (node < 0 || persisted_as(core, rt)) {
                int r = persist_target(core, p->size_kb, drop ? NULL : &want);
                if (r < 0)
                        return r;
        }
        if (drop)
                *rt = core->runtime[--core->n_runtime];
        else
                *rt = want;
        log_pool(LOG_INFO, p->label, node, UINT64_MAX, "%s: reverted to the config%s", p->label,
                 node >= 0 ? " for one node" : "");
        reconcile_target_changed(core, p);
        host_apply_shm(core);
        reconcile_refresh(core);
        reconcile_kick(core);
        return 0;
}

int core_hvo_set(struct core *core, bool enabled)
{
        return reconcile_hvo_set(core, enabled);
}

static void log_config_warnings(const struct config *c)
{
        for (size_t i = 0; i < c->warnings.n; i++)
                log_warning("%s", c->warnings.lines[i]);
}

int core_reload(struct core *core, struct config_errors *errors)
{
        struct config *c = NULL;
        int r = config_load(core->config_path, core->config_missing_ok, core->ctx, &c, errors);
        if (r < 0) {
                for (size_t i = 0; i < errors->n; i++)
                        log_error("%s", errors->lines[i]);
                log_error("Configuration not reloaded; the running one stays in force");
                core_publish(core, &(struct core_event){ .kind = CORE_EV_RELOAD_FAILED, .node = -1 });
                return r;
        }
        log_config_warnings(c);
        struct core_event ev = { .kind = CORE_EV_RELOADING, .node = -1 };
        core_publish(core, &ev);
        struct config *old = core->cfg;
        struct target before[HUGEVMD_MAX_POOLS];
        for (size_t i = 0; i < core->n_pools; i++)
                core_effective_target(core, core->pools[i].size_kb, &before[i]);
        core->cfg = c;

        if ((old->socket_path && c->socket_path && strcmp(old->socket_path, c->socket_path) != 0) ||
            (old->metrics_listen == NULL) != (c->metrics_listen == NULL) ||
            (old->metrics_listen && c->metrics_listen && strcmp(old->metrics_listen, c->metrics_listen) != 0) ||
            strcmp(old->state_dir, c->state_dir) != 0)
                log_warning("Socket=, MetricsListen= and StateDirectory= changes take effect at the next start");
        if (old->refresh_sec != c->refresh_sec)
                reconcile_start_timer(core);
        /* Every declared setting again, HVO too: `vmemmap off` lasts until a reload. */
        if (c->hvo && core->hvo.supported && !core->hvo.enabled) {
                int k = core_hvo_set(core, true);
                if (k < 0)
                        log_error("Cannot turn HVO on: %s", strerror(-k));
        }
        for (size_t i = 0; i < core->n_pools; i++) {
                struct target now;
                core_effective_target(core, core->pools[i].size_kb, &now);
                if (!target_equal(&now, &before[i]))
                        reconcile_target_changed(core, &core->pools[i]);
        }
        config_free(old);
        log_info("Configuration reloaded from %s", core->config_path);
        char overrides[HUGEVMD_MAX_POOLS][192];
        size_t n = core_overrides_describe(core, overrides, HUGEVMD_MAX_POOLS);
        for (size_t i = 0; i < n; i++)
                log_notice("%s (hugevmctl revert drops it)", overrides[i]);
        host_apply(core);
        reconcile_refresh(core);
        reconcile_kick(core);
        ev.kind = CORE_EV_RELOADED;
        core_publish(core, &ev);
        return 0;
}

/* ---- life cycle ---------------------------------------------------------- */

int core_open(struct core *core, const char *root, const char *config_path, bool config_missing_ok,
              const char *state_dir_override, struct config_errors *errors)
{
        int r;
        memset(core, 0, sizeof *core);
        core->config_path = config_path;
        core->config_missing_ok = config_missing_ok;
        core->state_dir_override = state_dir_override;
        core->mounts_fd = -1;
        if ((r = vmm_ctx_new(root, NULL, &core->ctx)) < 0 || (r = vmm_ctx_new(root, NULL, &core->worker_ctx)) < 0) {
                log_error("Cannot open the kernel interface under %s: %s", root, strerror(-r));
                vmm_ctx_free(core->ctx);
                return r;
        }
        r = config_load(config_path, config_missing_ok, core->ctx, &core->cfg, errors);
        if (r < 0) {
                vmm_ctx_free(core->ctx);
                vmm_ctx_free(core->worker_ctx);
                core->ctx = core->worker_ctx = NULL;
        } else
                log_config_warnings(core->cfg);
        return r;
}

/* Runtime targets from the state file, for the sizes and nodes this machine
 * has. A file refused whole (state_load's reasons, or a target beyond this
 * machine's memory: target_check_bound, the bound pool.set and the config
 * have) restores nothing; it is kept aside at core_start, once the state
 * directory is ours, and never overwritten. */
static void load_state(struct core *core)
{
        struct target targets[HUGEVMD_MAX_POOLS];
        size_t n = 0;
        char err[512] = "", why[300];
        const char *dir = core_state_dir(core);
        int r = state_load(dir, targets, HUGEVMD_MAX_POOLS, &n, err, sizeof err);
        if (r == -ENOENT)
                return;
        if (r == -EBADMSG) {
                log_warning("Not using the state file: %s", err);
                core->state_refused = true;
                return;
        }
        if (r < 0) {
                log_warning("Cannot read the state file in %s: %s; ignoring it", dir, strerror(-r));
                return;
        }
        for (size_t i = 0; i < n; i++)
                if (target_check_bound(&targets[i], core->mem_bytes, why, sizeof why) < 0) {
                        log_warning("Not using the state file: %s/%s: pools[%zu].%s", dir, STATE_FILE_NAME, i, why);
                        core->state_refused = true;
                        return;
                }
        for (size_t i = 0; i < n; i++) {
                struct pool_rt *p = core_pool(core, targets[i].size_kb);
                if (!p) {
                        log_warning("State file: size %" PRIu64 "kB is not on this machine; ignoring its target", targets[i].size_kb);
                        continue;
                }
                uint64_t bad = targets[i].node_mask;
                for (size_t k = 0; k < core->n_nodes; k++)
                        if (core->nodes[k] < HUGEVMD_MAX_NODES)
                                bad &= ~(UINT64_C(1) << core->nodes[k]);
                if (bad) {
                        log_warning("State file: %s names nodes not on this machine; ignoring its target", p->label);
                        continue;
                }
                core->persisted[core->n_persisted++] = targets[i];
                core->runtime[core->n_runtime++] = targets[i];
                log_pool(LOG_INFO, p->label, -1, targets[i].has_pages ? targets[i].pages : UINT64_MAX,
                         "Restored the runtime target of %s from the state file", p->label);
        }
}

/* The refused state file out of the way before any save could replace it. */
static void keep_state_aside(struct core *core)
{
        char name[256];
        const char *dir = core_state_dir(core);
        int r = state_keep_aside(dir, name, sizeof name);
        if (r < 0)
                log_error("Cannot keep the refused state file %s/%s aside: %s; the next persisted target replaces it",
                          dir, STATE_FILE_NAME, strerror(-r));
        else
                log_warning("Kept the refused state file aside as %s/%s", dir, name);
        core->state_refused = false;
}

void core_init(struct core *core, uv_loop_t *loop)
{
        core->loop = loop;
        core->mem_bytes = config_mem_bytes(core->ctx);
        reconcile_init(core);
        load_state(core);
}

void core_start(struct core *core)
{
        core->started = true;
        /* HVO before any growth, so the pages the reconciler adds are optimized. */
        if (core->cfg->hvo && core->hvo.supported && !core->hvo.enabled) {
                int r = core_hvo_set(core, true);
                if (r < 0)
                        log_error("Cannot turn HVO on: %s; pools will grow without it", strerror(-r));
        } else if (core->cfg->hvo && !core->hvo.supported)
                log_notice("HVO is not supported by this kernel; pools are managed without it");
        state_cleanup(core_state_dir(core));
        if (core->state_refused)
                keep_state_aside(core);
        host_apply(core);
        reconcile_refresh(core);
        reconcile_start_timer(core);
        reconcile_kick(core);
}

/* ShrinkOnExit: give back every managed pool's pages. */
static void shrink_pools(struct core *core)
{
        for (size_t i = 0; i < core->n_pools; i++) {
                struct pool_rt *p = &core->pools[i];
                struct target t;
                struct vmm_resize res;
                core_effective_target(core, p->size_kb, &t);
                if (!target_managed(&t))
                        continue;
                int r = 0;
                if (t.has_pages)
                        r = vmm_pool_set(core->ctx, p->size_kb, -1, 0, &res);
                else
                        for (unsigned node = 0; node < HUGEVMD_MAX_NODES; node++)
                                if (t.node_mask & (UINT64_C(1) << node)) {
                                        int k = vmm_pool_set(core->ctx, p->size_kb, (int)node, 0, &res);
                                        if (k < 0)
                                                r = k;
                                }
                log_pool(r < 0 ? LOG_WARNING : LOG_INFO, p->label, -1, 0, "ShrinkOnExit: %s pool %s", p->label,
                         r < 0 ? strerror(-r) : "emptied");
        }
}

void core_stop(struct core *core)
{
        if (!core->stopping) {
                core->stopping = true;
                uv_timer_stop(&core->refresh_timer);
                uv_timer_stop(&core->retry_timer);
                /* Never abandon a worker thread: the running chunk finishes first. */
                if (core->job_running)
                        log_info("Waiting for the running resize chunk to finish");
        }
        if (core->job_running || core->stopped)
                return;
        core->stopped = true;
        /* A daemon that never started (say the socket was another hugevmd's)
         * must not save over that one's state nor empty its pools. */
        if (!core->started) {
                reconcile_close(core);
                struct core_event ev = { .kind = CORE_EV_STOPPED, .node = -1 };
                core_publish(core, &ev);
                return;
        }
        if (core->n_persisted > 0) {
                int r = state_save(core_state_dir(core), core->persisted, core->n_persisted);
                if (r < 0)
                        log_error("Cannot save state in %s: %s", core_state_dir(core), strerror(-r));
        }
        reoptimize_release_all(core);
        if (core->cfg->shrink_on_exit)
                shrink_pools(core);
        reconcile_close(core);
        struct core_event ev = { .kind = CORE_EV_STOPPED, .node = -1 };
        core_publish(core, &ev);
}

void core_free(struct core *core)
{
        config_free(core->cfg);
        host_free(core);
        free(core->nodes);
        vmm_ctx_free(core->ctx);
        vmm_ctx_free(core->worker_ctx);
        memset(core, 0, sizeof *core);
}
