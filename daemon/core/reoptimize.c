/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Re-optimization: pages allocated while HVO was off keep their vmemmap until
 * they leave the pool. This replaces a node's free unoptimized pages by new,
 * optimized ones, one batch at a time, never shrinking the pool
 * (vmm_pool_replace), where the model says they lie on the kernel's free list.
 * After each batch the kernel's memmap counters must have moved by exactly
 * the vmemmap pages of the pages converted; if not, it stops and says so.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "core.h"
#include "log.h"

#define REOPT_BATCH_BYTES (UINT64_C(64) << 20)   /* per batch: 32 pages of 2 MiB, 1 of 1 GiB */
#define REOPT_AUTO_MS     1000u                  /* Reoptimize=yes: a run starts at most once a second */
#define REOPT_RETRY_MS    60000u                 /* ... and after a batch that could not run */

struct reopt_job {
        uv_work_t req;
        struct core *core;
        size_t pool;
        unsigned node;
        uint64_t size_kb, batch, above;   /* above: free pages to hold first (the run's first batch) */
        int hold_fd;
        int rc, memmap_rc[2];
        struct vmm_memmap memmap[2];   /* around the batch */
        struct vmm_replace res;
        double seconds;
};

void reoptimize_unoptimized(const struct pool_rt *p, unsigned node, uint64_t *free_pages, uint64_t *used_pages)
{
        ledger_node_unoptimized(&p->ledger, node, free_pages, used_pages);
}

bool reoptimize_pending(const struct core *core, const struct pool_rt *p, int node)
{
        for (size_t k = 0; k < core->n_nodes; k++) {
                unsigned n = core->nodes[k];
                if (n < HUGEVMD_MAX_NODES && (node < 0 || (unsigned)node == n) && p->ncur[n].reopt.wanted)
                        return true;
        }
        return false;
}

/* The run's held pages back to the pool (at the head of its free list, where
 * the model already counts them). */
static void release(struct pool_rt *p, unsigned node)
{
        struct reopt_rt *r = &p->ncur[node].reopt;
        if (!r->holding)
                return;
        close(r->hold_fd);
        r->holding = false;
        r->held = 0;
        p->resync = true;
}

void reoptimize_release_all(struct core *core)
{
        for (size_t i = 0; i < core->n_pools; i++)
                for (unsigned node = 0; node < HUGEVMD_MAX_NODES; node++)
                        release(&core->pools[i], node);
}

static void stop_node(struct pool_rt *p, unsigned node, int level, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void stop_node(struct pool_rt *p, unsigned node, int level, const char *fmt, ...)
{
        struct reopt_rt *r = &p->ncur[node].reopt;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->reason, sizeof r->reason, fmt, ap);
        va_end(ap);
        r->blocked = true;
        r->wanted = false;
        release(p, node);
        log_pool(level, p->label, (int)node, UINT64_MAX, "%s node %u: not re-optimized: %s", p->label, node, r->reason);
}

int core_reoptimize(struct core *core, struct pool_rt *p, int node, const char **why)
{
        if (strcmp(vmm_ctx_root(core->ctx), "/") != 0) {
                *why = "re-optimization holds pages of the running kernel, which hugevmd under --root does not manage";
                return -EOPNOTSUPP;
        }
        if (!core->hvo.supported || !p->hvo.eligible) {
                *why = "HVO does not apply to this size on this kernel";
                return -EOPNOTSUPP;
        }
        if (!core->hvo.enabled) {
                *why = "HVO is off: new pages would not be optimized either (hugevmctl vmemmap on)";
                return -EOPNOTSUPP;
        }
        if (core->n_nodes == 0 || p->ledger_whole) {
                *why = "the kernel's free lists are per node, and this pool's node files are missing or do not add up";
                return -EOPNOTSUPP;
        }
        for (size_t k = 0; k < core->n_nodes; k++) {
                unsigned n = core->nodes[k];
                if (n >= HUGEVMD_MAX_NODES || (node >= 0 && (unsigned)node != n))
                        continue;
                struct reopt_rt *r = &p->ncur[n].reopt;
                r->wanted = true;
                r->blocked = false;
                r->reason[0] = '\0';
                r->next_attempt = 0;
        }
        reconcile_kick(core);
        return 0;
}

static void work_cb(uv_work_t *req)
{
        struct reopt_job *j = req->data;
        vmm_ctx *ctx = j->core->worker_ctx;
        double t0 = clock_seconds();
        j->memmap_rc[0] = vmm_memmap_read(ctx, &j->memmap[0]);
        j->rc = vmm_pool_replace(ctx, j->size_kb, j->node, j->batch, j->above, &j->hold_fd, &j->res);
        j->memmap_rc[1] = vmm_memmap_read(ctx, &j->memmap[1]);
        j->seconds = clock_seconds() - t0;
}

static void after_work_cb(uv_work_t *req, int status)
{
        struct reopt_job *j = req->data;
        struct core *core = j->core;
        struct pool_rt *p = &core->pools[j->pool];
        struct node_rt *nr = &p->ncur[j->node];
        struct reopt_rt *r = &nr->reopt;
        int rc = status < 0 ? status : j->rc;
        uint64_t now = uv_now(core->loop);

        core->job_running = false;
        core->job_reopt = false;
        if (j->hold_fd >= 0 && !r->holding) {
                r->holding = true;
                r->hold_fd = j->hold_fd;
        }
        uint64_t skip = r->held + j->above;
        r->held += j->res.held;
        if (rc == 0 && j->res.freed == j->batch) {
                uint64_t converted = ledger_node_replace(&p->ledger, j->node, j->batch, skip);
                int64_t want = (int64_t)(converted * p->ledger.saved_pages_per_page);
                bool measured = j->memmap_rc[0] == 0 && j->memmap_rc[1] == 0;
                int64_t moved = measured ? j->memmap[1].saved_pages - j->memmap[0].saved_pages : want;
                /* The counters' move is this pool's and node's: nothing else
                 * changed size meanwhile (the job held the pools). */
                p->measured_saved += moved;
                nr->measured_saved += moved;
                core->measured_prev += moved;
                r->converted += converted;
                uint64_t above, run;
                if (ledger_node_reopt_target(&p->ledger, j->node, &above, &run) && run == 0) {
                        release(p, j->node);
                        if (r->wanted)
                                log_pool(LOG_INFO, p->label, (int)j->node, UINT64_MAX, "%s node %u: re-optimized, %" PRIu64
                                         " pages in all; no free unoptimized page left", p->label, j->node, r->converted);
                        r->wanted = false;   /* done: a wait on it is answered by the refresh below */
                }
                log_pool(LOG_DEBUG, p->label, (int)j->node, UINT64_MAX,
                         "%s node %u: re-optimized %" PRIu64 " pages (held %" PRIu64 ") in %.1f ms; memmap counters moved %" PRId64,
                         p->label, j->node, converted, j->res.held, j->seconds * 1e3, moved);
                if (moved != want)
                        stop_node(p, j->node, LOG_WARNING,
                                  "the kernel's memmap counters moved by %" PRId64 " pages for %" PRIu64
                                  " pages converted, %" PRId64 " expected: stopped",
                                  moved, converted, want);
        } else if (rc == -ENOMEM || rc == 0 || rc == -EBUSY) {
                /* Nothing old was freed, or not all of it: the pool is back
                 * at (or above) its size, never below. */
                char why[sizeof r->reason];
                if (rc == -ENOMEM)
                        snprintf(why, sizeof why,
                                 "no free memory for a batch of %" PRIu64 " page%s (got %" PRIu64 "); nothing was shrunk",
                                 j->batch, j->batch == 1 ? "" : "s", j->res.grown);
                else
                        snprintf(why, sizeof why, "pages were taken meanwhile (%" PRIu64 " of %" PRIu64
                                 " freed); the pool is left at %" PRIu64 " pages", j->res.freed, j->batch, j->res.after);
                p->resync = true;
                r->next_attempt = now + REOPT_RETRY_MS;
                release(p, j->node);
                /* A partial batch leaves the model unsure where pages lie. */
                if (rc == -EBUSY || (rc == 0 && j->res.freed != j->batch))
                        memset(&p->ledger.node[j->node], 0, sizeof p->ledger.node[j->node]);
                if (r->wanted)
                        stop_node(p, j->node, LOG_WARNING, "%s", why);
                else if (strcmp(why, r->reason) != 0) {   /* Reoptimize=yes: said once, retried later */
                        snprintf(r->reason, sizeof r->reason, "%s", why);
                        log_pool(LOG_WARNING, p->label, (int)j->node, UINT64_MAX, "%s node %u: not re-optimized: %s",
                                 p->label, j->node, why);
                }
        } else {
                stop_node(p, j->node, LOG_ERR, "%s", strerror(-rc));
                r->next_attempt = now + REOPT_RETRY_MS;
        }
        if (!r->wanted && !core->cfg->reoptimize)
                release(p, j->node);
        free(j);
        reconcile_job_done(core);
}

/* The next batch of one node, if there is one to do now. */
static bool plan(struct core *core, struct pool_rt *p, unsigned node, uint64_t now, uint64_t *earliest,
                 uint64_t *batch, uint64_t *above)
{
        struct reopt_rt *r = &p->ncur[node].reopt;
        uint64_t run;
        if (!r->wanted && (!core->cfg->reoptimize || r->blocked)) {
                release(p, node);   /* Reoptimize=no since the run began */
                return false;
        }
        /* Surplus pages: growing would make them persistent, not new. */
        if (p->ncur[node].cur.surplus > 0) {
                if (r->wanted)
                        stop_node(p, node, LOG_NOTICE, "%" PRIu64 " surplus pages on the node; re-optimize once they are gone",
                                  p->ncur[node].cur.surplus);
                release(p, node);
                return false;
        }
        if (!ledger_node_reopt_target(&p->ledger, node, above, &run)) {
                if (r->wanted)
                        stop_node(p, node, LOG_NOTICE, "where its unoptimized pages lie on the free list is not known");
                return false;
        }
        /* What the run holds is the model's head; anything else there came
         * back from an application meanwhile: start over from where it is. */
        if (r->holding && *above != r->held) {
                release(p, node);
                return false;
        }
        if (r->holding)
                *above = 0;
        if (run == 0) {
                release(p, node);
                if (r->wanted)
                        log_pool(LOG_INFO, p->label, (int)node, UINT64_MAX, "%s node %u: no free unoptimized page left",
                                 p->label, node);
                r->wanted = false;
                r->reason[0] = '\0';
                return false;
        }
        if (!r->wanted && !r->holding && now < r->next_attempt) {
                if (r->next_attempt < *earliest)
                        *earliest = r->next_attempt;
                return false;
        }
        uint64_t per_batch = REOPT_BATCH_BYTES / (p->size_kb * 1024);
        *batch = run < per_batch ? run : per_batch ? per_batch : 1;
        /* What the hold takes must be free and unreserved: it never takes a
         * page a mapping counts on. */
        uint64_t free_node = p->ncur[node].cur.free;
        uint64_t resv = p->cur.reserved;
        if (free_node < resv || free_node - resv < *above + *batch) {
                if (r->wanted)
                        stop_node(p, node, LOG_NOTICE, "%" PRIu64 " free pages, %" PRIu64 " reserved: too few to hold %" PRIu64,
                                  free_node, resv, *above + *batch);
                else
                        r->next_attempt = now + REOPT_RETRY_MS;
                return false;
        }
        return true;
}

/* A pool that cannot be re-optimized now: its holds go back, and a request
 * for it ends with why (NULL: it only waits, e.g. for a resize). */
static void pause_pool(struct core *core, struct pool_rt *p, const char *why)
{
        for (size_t k = 0; k < core->n_nodes; k++) {
                unsigned node = core->nodes[k];
                if (node >= HUGEVMD_MAX_NODES)
                        continue;
                release(p, node);
                if (why && p->ncur[node].reopt.wanted)
                        stop_node(p, node, LOG_NOTICE, "%s", why);
        }
}

bool reoptimize_kick(struct core *core, uint64_t now, uint64_t *earliest)
{
        if (core->job_running || core->stopping)
                return false;
        const char *why = !core->hvo.enabled ? "HVO was turned off"
                          : strcmp(vmm_ctx_root(core->ctx), "/") != 0 ? "hugevmd runs under --root" : NULL;
        for (size_t i = 0; i < core->n_pools; i++) {
                struct pool_rt *p = &core->pools[i];
                if (why || !p->hvo.eligible || p->ledger_whole) {
                        pause_pool(core, p, why ? why : !p->hvo.eligible ? "HVO does not apply to this size"
                                                                         : "the pool's node files do not add up to it");
                        continue;
                }
                /* A pool still being resized first gets to its target. */
                if (!p->read_ok || reconcile_pool_state(core, p, NULL) == POOL_CONVERGING) {
                        pause_pool(core, p, NULL);
                        continue;
                }
                for (size_t k = 0; k < core->n_nodes; k++) {
                        unsigned node = core->nodes[k];
                        uint64_t batch, above;
                        if (node >= HUGEVMD_MAX_NODES || !plan(core, p, node, now, earliest, &batch, &above))
                                continue;
                        struct reopt_job *j = calloc(1, sizeof *j);
                        if (!j)
                                return false;
                        struct reopt_rt *r = &p->ncur[node].reopt;
                        *j = (struct reopt_job){ .core = core, .pool = i, .node = node, .size_kb = p->size_kb,
                                                 .batch = batch, .above = above, .hold_fd = r->holding ? r->hold_fd : -1 };
                        j->req.data = j;
                        if (uv_queue_work(core->loop, &j->req, work_cb, after_work_cb) < 0) {
                                free(j);
                                return false;
                        }
                        p->ncur[node].reopt.next_attempt = now + REOPT_AUTO_MS;
                        core->job_running = true;
                        core->job_reopt = true;
                        core->job_pool = i;
                        core->job_node = (int)node;
                        return true;
                }
        }
        return false;
}
