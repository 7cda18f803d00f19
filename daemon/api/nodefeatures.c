/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ConvergedFile= and FeatureFile= (nodefeatures.h; not "features.h", which
 * would hide glibc's <features.h> from the -I list): an observer of the core's
 * CORE_EV_CONVERGED and CORE_EV_REFRESHED events. It keeps no state: each
 * file is compared with what it holds on disk before it is rewritten.
 */
#include "config.h"
#include "nodefeatures.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "fileio.h"
#include "log.h"

#define FEATURES_MAX 16384

struct buf {
        char *p;
        size_t len, used;
        bool full;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
        va_list ap;
        if (b->full)
                return;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->used, b->len - b->used, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= b->len - b->used)
                b->full = true;
        else
                b->used += (size_t)n;
}

/* A pool's pages on one node (the whole pool when the machine shows no nodes). */
static uint64_t node_pages(const struct core *core, const struct pool_rt *p, unsigned node)
{
        return core->n_nodes == 0 ? p->cur.total : p->ncur[node].cur.total;
}

int features_converged_text(const struct core *core, char *p, size_t len)
{
        struct buf b = { p, len, 0, false };
        if (len)
                p[0] = '\0';
        for (size_t i = 0; i < core->n_pools; i++) {
                const struct pool_rt *pool = &core->pools[i];
                struct target t;
                core_effective_target(core, pool->size_kb, &t);
                if (!target_managed(&t))
                        continue;
                if (core->n_nodes == 0)
                        put(&b, "%s 0 %" PRIu64 "\n", pool->label, node_pages(core, pool, 0));
                for (size_t k = 0; k < core->n_nodes; k++)
                        put(&b, "%s %u %" PRIu64 "\n", pool->label, core->nodes[k], node_pages(core, pool, core->nodes[k]));
        }
        return b.full ? -ENOSPC : 0;
}

int features_nfd_text(const struct core *core, char *p, size_t len)
{
        struct buf b = { p, len, 0, false };
        uint64_t saved = 0;
        if (len)
                p[0] = '\0';
        /* Label values allow [A-Za-z0-9_.-] only: the sizes are joined by '_'. */
        put(&b, "hugevm.hugepage-sizes=");
        for (size_t i = 0; i < core->n_pools; i++)
                put(&b, "%s%s", i ? "_" : "", core->pools[i].label);
        put(&b, "\nhugevm.hvo=%s\n", core->hvo.enabled ? "true" : "false");
        for (size_t i = 0; i < core->n_pools; i++) {
                const struct pool_rt *pool = &core->pools[i];
                bool exact;
                saved += reconcile_optimized_pages(core, pool, -1, &exact) * pool->hvo.saved_bytes;
                if (core->n_nodes == 0)
                        put(&b, "hugevm.pages-%s-node0=%" PRIu64 "\n", pool->label, node_pages(core, pool, 0));
                for (size_t k = 0; k < core->n_nodes; k++)
                        put(&b, "hugevm.pages-%s-node%u=%" PRIu64 "\n", pool->label, core->nodes[k],
                            node_pages(core, pool, core->nodes[k]));
        }
        put(&b, "hugevm.saved-bytes=%" PRIu64 "\n", saved);
        return b.full ? -ENOSPC : 0;
}

/* Write text to path unless the file holds it already. *last_err: the errno
 * last logged for this file, so that a failure is logged once, not at every
 * refresh. True if the file was written. */
static bool update(const char *what, const char *path, const char *text, int *last_err)
{
        char *old = NULL, why[128];
        size_t old_len = 0, len = strlen(text);
        int r = read_regular_file(path, O_NOFOLLOW, FEATURES_MAX, &old, &old_len, NULL, why, sizeof why);
        bool same = r == 0 && old_len == len && memcmp(old, text, len) == 0;
        free(old);
        if (same)
                return false;
        r = atomic_write_file(path, text, len, 0644);
        if (r < 0) {
                if (*last_err != -r)
                        log_warning("Cannot write the %s %s: %s", what, path, strerror(-r));
                *last_err = -r;
                return false;
        }
        if (*last_err)
                log_info("The %s %s is written again", what, path);
        *last_err = 0;
        return true;
}

static void features_on_event(void *data, struct core *core, const struct core_event *ev)
{
        static int converged_err, nfd_err;
        char text[FEATURES_MAX];
        (void)data;
        if (ev->kind != CORE_EV_CONVERGED && ev->kind != CORE_EV_REFRESHED)
                return;
        if (!core->started || core->stopping || !core->cfg)
                return;
        const char *converged = core->cfg->converged_file, *nfd = core->cfg->feature_file;
        /* Only when every managed pool is at its target: never mid-resize, and
         * not while a pool is degraded (short of memory). */
        if (converged && reconcile_all_converged(core) && features_converged_text(core, text, sizeof text) == 0 &&
            update("converged file", converged, text, &converged_err))
                log_info("Pools converged: %s rewritten", converged);
        if (nfd && features_nfd_text(core, text, sizeof text) == 0 && update("feature file", nfd, text, &nfd_err))
                log_debug("Feature file %s rewritten", nfd);
}

int features_init(struct daemon *d)
{
        return core_subscribe(&d->core, features_on_event, d);
}
