/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Targets in force (runtime over config), the state file, and reload. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "proto.h"
#include "sdnotify.h"
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

struct pool_rt *daemon_pool(struct daemon *d, uint64_t size_kb)
{
        for (size_t i = 0; i < d->n_pools; i++)
                if (d->pools[i].size_kb == size_kb)
                        return &d->pools[i];
        return NULL;
}

struct target *daemon_runtime_target(struct daemon *d, uint64_t size_kb, bool create)
{
        for (size_t i = 0; i < d->n_runtime; i++)
                if (d->runtime[i].size_kb == size_kb)
                        return &d->runtime[i];
        if (!create || d->n_runtime >= HUGEVMD_MAX_POOLS)
                return NULL;
        struct target *t = &d->runtime[d->n_runtime++];
        memset(t, 0, sizeof *t);
        t->size_kb = size_kb;
        return t;
}

void daemon_effective_target(const struct daemon *d, uint64_t size_kb, struct target *ret)
{
        const struct target *c = config_pool(d->cfg, size_kb), *r = NULL;
        for (size_t i = 0; i < d->n_runtime; i++)
                if (d->runtime[i].size_kb == size_kb)
                        r = &d->runtime[i];
        memset(ret, 0, sizeof *ret);
        ret->size_kb = size_kb;
        /* A runtime pool target replaces the config's pool target as a whole
         * (whole-pool or per-node); overcommit separately. */
        const struct target *pages_from = r && target_managed(r) ? r : c;
        if (pages_from) {
                ret->has_pages = pages_from->has_pages;
                ret->pages = pages_from->pages;
                ret->node_mask = pages_from->node_mask;
                memcpy(ret->node_pages, pages_from->node_pages, sizeof ret->node_pages);
        }
        const struct target *oc_from = r && r->has_overcommit ? r : c;
        if (oc_from && oc_from->has_overcommit) {
                ret->has_overcommit = true;
                ret->overcommit = oc_from->overcommit;
        }
}

const char *daemon_state_dir(const struct daemon *d)
{
        return d->state_dir_override ? d->state_dir_override : d->cfg->state_dir;
}

int daemon_save_state(struct daemon *d)
{
        return state_save(daemon_state_dir(d), d->persisted, d->n_persisted);
}

int daemon_reload(struct daemon *d, struct config_errors *errors)
{
        struct config *c = NULL;
        int r = config_load(d->config_path, d->config_missing_ok, d->ctx, &c, errors);
        if (r < 0) {
                for (size_t i = 0; i < errors->n; i++)
                        log_error("%s", errors->lines[i]);
                log_error("Configuration not reloaded; the running one stays in force");
                return r;
        }
        sdnotify_reloading();
        struct config *old = d->cfg;
        struct target before[HUGEVMD_MAX_POOLS];
        for (size_t i = 0; i < d->n_pools; i++)
                daemon_effective_target(d, d->pools[i].size_kb, &before[i]);
        d->cfg = c;

        if ((old->socket_path && c->socket_path && strcmp(old->socket_path, c->socket_path) != 0) ||
            (old->metrics_listen == NULL) != (c->metrics_listen == NULL) ||
            (old->metrics_listen && c->metrics_listen && strcmp(old->metrics_listen, c->metrics_listen) != 0) ||
            strcmp(old->state_dir, c->state_dir) != 0)
                log_warning("Socket=, MetricsListen= and StateDirectory= changes take effect at the next start");
        if (old->refresh_sec != c->refresh_sec)
                reconcile_start_timer(d);
        if (c->hvo && !old->hvo && d->hvo.supported && !d->hvo.enabled) {
                int k = reconcile_hvo_set(d, true);
                if (k < 0)
                        log_error("Cannot turn HVO on: %s", strerror(-k));
        }
        for (size_t i = 0; i < d->n_pools; i++) {
                struct target now;
                daemon_effective_target(d, d->pools[i].size_kb, &now);
                if (memcmp(&now, &before[i], sizeof now) != 0)
                        reconcile_target_changed(d, &d->pools[i]);
        }
        config_free(old);
        log_info("Configuration reloaded from %s", d->config_path);
        host_apply(d);
        reconcile_refresh(d);
        reconcile_kick(d);
        sdnotify_ready();
        return 0;
}
