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
#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "proto.h"
#include "sdnotify.h"

#define QUICK_RETRIES      3u
#define QUICK_RETRY_MS     1000u    /* 1 s, 2 s, 4 s */
#define SLOW_RETRY_MS      60000u   /* once degraded */
struct job {
        uv_work_t req;
        struct daemon *d;
        size_t pool;
        int node;
        uint64_t size_kb;
        uint64_t target;      /* the episode's target (for messages) */
        uint64_t pages;       /* this chunk's write */
        uint64_t current;     /* pages when the job started */
        bool compact_first;
        int compact_rc;
        int rc;
        struct vmm_resize res;
        double seconds;
};

static double now_seconds(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool node_present(const struct daemon *d, unsigned node)
{
        for (size_t i = 0; i < d->n_nodes; i++)
                if (d->nodes[i] == node)
                        return true;
        return false;
}

static void refresh_timer_cb(uv_timer_t *t)
{
        struct daemon *d = t->data;
        host_periodic(d);
        reconcile_refresh(d);
        reconcile_kick(d);
}

static void retry_timer_cb(uv_timer_t *t)
{
        reconcile_kick(t->data);
}

static void refresh_expiry_cb(uv_check_t *h)
{
        struct daemon *d = h->data;
        d->refresh_fresh = false;
}

void reconcile_refresh_shared(struct daemon *d)
{
        if (!d->refresh_fresh)
                reconcile_refresh(d);
}

void reconcile_close(struct daemon *d)
{
        uv_close((uv_handle_t *)&d->refresh_timer, NULL);
        uv_close((uv_handle_t *)&d->retry_timer, NULL);
        uv_close((uv_handle_t *)&d->refresh_expiry, NULL);
        host_watch_close(d);
}

void reconcile_init(struct daemon *d)
{
        uint64_t *sizes = NULL;
        size_t n = 0;

        if (vmm_kernel_read(d->ctx, &d->kernel) < 0)
                memset(&d->kernel, 0, sizeof d->kernel);
        if (vmm_hvo_read(d->ctx, &d->hvo) < 0)
                memset(&d->hvo, 0, sizeof d->hvo);
        if (vmm_nodes_list(d->ctx, &d->nodes, &d->n_nodes) < 0) {
                d->nodes = NULL;
                d->n_nodes = 0;
        }
        int r = vmm_hstates_list(d->ctx, &sizes, &n);
        if (r < 0)
                log_warning("No hugepage sizes on this machine (%s): nothing to manage", strerror(-r));
        d->n_pools = 0;
        for (size_t i = 0; i < n && d->n_pools < HUGEVMD_MAX_POOLS; i++) {
                struct pool_rt *p = &d->pools[d->n_pools++];
                memset(p, 0, sizeof *p);
                p->size_kb = sizes[i];
                vmm_size_label(sizes[i], p->label, sizeof p->label);
                if (d->kernel.page_size == 0 || vmm_hstate_hvo_compute(sizes[i], &d->kernel, &p->hvo) < 0)
                        memset(&p->hvo, 0, sizeof p->hvo);
                p->reported_state = POOL_UNMANAGED;
        }
        free(sizes);

        uv_timer_init(d->loop, &d->refresh_timer);
        uv_timer_init(d->loop, &d->retry_timer);
        d->refresh_timer.data = d->retry_timer.data = d;
        /* Check handles run after each iteration's I/O callbacks; unref'd, it
         * keeps no loop alive. */
        uv_check_init(d->loop, &d->refresh_expiry);
        d->refresh_expiry.data = d;
        uv_check_start(&d->refresh_expiry, refresh_expiry_cb);
        uv_unref((uv_handle_t *)&d->refresh_expiry);
        host_watch_init(d);
}

void reconcile_start_timer(struct daemon *d)
{
        uint64_t ms = (uint64_t)d->cfg->refresh_sec * 1000;
        uv_timer_start(&d->refresh_timer, refresh_timer_cb, ms, ms);
}

static enum pool_state worse(enum pool_state a, enum pool_state b)
{
        /* degraded > converging > converged > unmanaged */
        static const int rank[] = { [POOL_UNMANAGED] = 0, [POOL_CONVERGED] = 1, [POOL_CONVERGING] = 2, [POOL_DEGRADED] = 3 };
        return rank[a] >= rank[b] ? a : b;
}

enum pool_state reconcile_pool_state(const struct daemon *d, const struct pool_rt *p, const char **ret_reason)
{
        struct target t;
        daemon_effective_target(d, p->size_kb, &t);
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

bool reconcile_all_converged(const struct daemon *d)
{
        for (size_t i = 0; i < d->n_pools; i++) {
                enum pool_state s = reconcile_pool_state(d, &d->pools[i], NULL);
                if (s != POOL_UNMANAGED && s != POOL_CONVERGED)
                        return false;
        }
        return true;
}

static void episode_reset(struct work_rt *w, uint64_t current)
{
        w->state = POOL_CONVERGING;
        w->reason[0] = '\0';
        w->retries = 0;
        w->next_attempt = 0;
        w->compact_next = false;
        w->from = current;
}

void reconcile_target_changed(struct daemon *d, struct pool_rt *p)
{
        episode_reset(&p->whole, p->cur.total);
        for (unsigned node = 0; node < HUGEVMD_MAX_NODES; node++)
                episode_reset(&p->nodes_w[node], p->ncur[node].cur.total);
}

/* Settle a work item's state against what the pool holds now. */
static void work_update(struct work_rt *w, uint64_t current, uint64_t target)
{
        if (current == target) {
                w->state = POOL_CONVERGED;
                w->reason[0] = '\0';
                w->retries = 0;
                w->next_attempt = 0;
                w->compact_next = false;
                w->from = current;
        } else if (w->state == POOL_CONVERGED || w->state == POOL_UNMANAGED) {
                episode_reset(w, current);
        }
}

static void progress_notify(struct daemon *d, struct pool_rt *p, int node, uint64_t from, uint64_t current, uint64_t target)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, PROTO_F_SIZE, json_object_new_string(p->label));
        json_object_object_add(o, PROTO_F_NODE, node < 0 ? NULL : json_object_new_int(node));
        json_object_object_add(o, PROTO_F_FROM, json_object_new_uint64(from));
        json_object_object_add(o, PROTO_F_CURRENT, json_object_new_uint64(current));
        json_object_object_add(o, PROTO_F_TARGET, json_object_new_uint64(target));
        server_broadcast(d, proto_notification_new(PROTO_N_PROGRESS, o));
}

static void changed_notify(struct daemon *d, struct pool_rt *p, int node, enum pool_state s, const char *reason, bool external)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, PROTO_F_SIZE, json_object_new_string(p->label));
        json_object_object_add(o, PROTO_F_NODE, node < 0 ? NULL : json_object_new_int(node));
        json_object_object_add(o, PROTO_F_STATE, json_object_new_string(pool_state_name(s)));
        json_object_object_add(o, PROTO_F_REASON, json_object_new_string(reason));
        json_object_object_add(o, PROTO_F_EXTERNAL, json_object_new_boolean(external));
        server_broadcast(d, proto_notification_new(PROTO_N_POOL_CHANGED, o));
}

static void notify_status(struct daemon *d)
{
        char text[256] = "";
        uint64_t saved = 0;
        for (size_t i = 0; i < d->n_pools; i++) {
                struct pool_rt *p = &d->pools[i];
                const char *reason;
                enum pool_state s = reconcile_pool_state(d, p, &reason);
                saved += p->ledger.optimized * p->hvo.saved_bytes;
                if (s == POOL_DEGRADED && !text[0])
                        snprintf(text, sizeof text, "degraded %s: %s", p->label, reason);
        }
        for (size_t i = 0; i < d->n_pools && !text[0]; i++) {
                struct pool_rt *p = &d->pools[i];
                struct target t;
                if (reconcile_pool_state(d, p, NULL) != POOL_CONVERGING)
                        continue;
                daemon_effective_target(d, p->size_kb, &t);
                uint64_t target = 0;
                if (t.has_pages)
                        target = t.pages;
                else
                        for (unsigned node = 0; node < HUGEVMD_MAX_NODES; node++)
                                if (t.node_mask & (UINT64_C(1) << node))
                                        target += t.node_pages[node];
                snprintf(text, sizeof text, "converging %s %" PRIu64 "/%" PRIu64, p->label, p->cur.total, target);
        }
        if (!text[0]) {
                char human[32];
                vmm_size_format_human(saved, human, sizeof human);
                snprintf(text, sizeof text, "all pools converged, %s saved", human);
        }
        if (strcmp(text, d->last_status) != 0) {
                snprintf(d->last_status, sizeof d->last_status, "%s", text);
                sdnotify_status("%s", text);
        }
}

/* Read the HVO sysctl; a change is logged and told to subscribers.
 * external: the change was not made through hugevmd. */
static void hvo_observe(struct daemon *d, bool external)
{
        struct vmm_hvo hvo;
        if (vmm_hvo_read(d->ctx, &hvo) < 0)
                return;
        if (hvo.enabled != d->hvo.enabled) {
                log_notice(external ? "HVO was turned %s behind hugevmd's back" : "HVO turned %s",
                           hvo.enabled ? "on" : "off");
                json_object *o = json_object_new_object();
                json_object_object_add(o, PROTO_F_ENABLED, json_object_new_boolean(hvo.enabled));
                server_broadcast(d, proto_notification_new(PROTO_N_VMEMMAP, o));
        }
        d->hvo = hvo;
}

/* Our resize job is writing this pool right now. */
static bool job_on_pool(const struct daemon *d, size_t pool)
{
        return d->job_running && d->job_pool == pool;
}

void reconcile_refresh(struct daemon *d)
{
        hvo_observe(d, true);
        host_refresh(d);

        for (size_t i = 0; i < d->n_pools; i++) {
                struct pool_rt *p = &d->pools[i];
                struct vmm_pool cur;
                int r = vmm_pool_read(d->ctx, p->size_kb, &cur);
                /* A read racing our own job's write of this pool is no verdict:
                 * a regular file (fake roots) reads empty while it is rewritten.
                 * Keep the last reading; after_work_cb re-reads once it is done. */
                if (r < 0 && p->read_ok && job_on_pool(d, i))
                        continue;
                if (r < 0) {
                        if (p->read_ok || p->read_err != r)
                                log_pool(LOG_WARNING, p->label, -1, UINT64_MAX, "Cannot read the %s pool: %s", p->label, strerror(-r));
                        p->read_ok = false;
                        p->read_err = r;
                        continue;
                }
                p->read_ok = true;
                p->read_err = 0;
                p->cur = cur;
                for (size_t k = 0; k < d->n_nodes; k++) {
                        unsigned node = d->nodes[k];
                        if (node >= HUGEVMD_MAX_NODES)
                                continue;
                        struct node_rt *nr = &p->ncur[node];
                        nr->node = node;
                        if (vmm_node_pool_read(d->ctx, p->size_kb, node, &nr->cur) < 0)
                                memset(&nr->cur, 0, sizeof nr->cur);
                }

                bool busy = job_on_pool(d, i);
                if (!p->seen) {
                        ledger_start(&p->ledger, p->size_kb, p->hvo.eligible ? p->hvo.saved_pages : 0, cur.total, d->hvo.enabled);
                        p->seen = true;
                } else {
                        if (!busy && !p->resync && cur.total != p->last_seen) {
                                log_pool(LOG_NOTICE, p->label, -1, cur.total,
                                         "The %s pool changed behind hugevmd's back: %" PRIu64 " -> %" PRIu64 " pages",
                                         p->label, p->last_seen, cur.total);
                                /* A new episode: back to the target at once, from here. */
                                reconcile_target_changed(d, p);
                                const char *reason;
                                enum pool_state s = reconcile_pool_state(d, p, &reason);
                                changed_notify(d, p, -1, s, reason, true);
                                p->reported_state = s;
                                snprintf(p->reported_reason, sizeof p->reported_reason, "%s", reason);
                        }
                        ledger_observe(&p->ledger, cur.total, d->hvo.enabled);
                }
                p->last_seen = cur.total;
                if (!busy)
                        p->resync = false;
        }

        /* The kernel's measurement pins the ledger's uncertain splits. */
        struct ledger_entry entries[HUGEVMD_MAX_POOLS];
        size_t n = 0;
        for (size_t i = 0; i < d->n_pools; i++)
                if (d->pools[i].seen)
                        entries[n++] = d->pools[i].ledger;
        d->memmap_ok = vmm_memmap_read(d->ctx, &d->memmap) == 0;
        ledger_resolve(entries, n, d->memmap_ok, d->memmap_ok ? d->memmap.saved_pages : 0);
        n = 0;
        for (size_t i = 0; i < d->n_pools; i++)
                if (d->pools[i].seen)
                        d->pools[i].ledger = entries[n++];

        /* States, and announce what changed. */
        for (size_t i = 0; i < d->n_pools; i++) {
                struct pool_rt *p = &d->pools[i];
                struct target t;
                daemon_effective_target(d, p->size_kb, &t);
                bool job_here = job_on_pool(d, i);
                if (!p->read_ok) {
                        /* Nothing is written blind: degraded until the pool reads again. */
                        struct work_rt *ws[HUGEVMD_MAX_NODES + 1];
                        size_t nw = 0;
                        if (t.has_pages)
                                ws[nw++] = &p->whole;
                        for (unsigned node = 0; node < HUGEVMD_MAX_NODES; node++)
                                if (t.node_mask & (UINT64_C(1) << node))
                                        ws[nw++] = &p->nodes_w[node];
                        for (size_t k = 0; k < nw; k++) {
                                ws[k]->state = POOL_DEGRADED;
                                snprintf(ws[k]->reason, sizeof ws[k]->reason, "cannot read the %s pool: %s", p->label,
                                         strerror(-p->read_err));
                        }
                } else if (t.has_pages) {
                        /* A running job settles its own item once its write is read
                         * back, after its progress: a wait answered earlier would
                         * overtake that progress. */
                        if (!(job_here && d->job_node < 0))
                                work_update(&p->whole, p->cur.total, t.pages);
                } else
                        p->whole.state = POOL_UNMANAGED;
                for (unsigned node = 0; node < HUGEVMD_MAX_NODES && p->read_ok; node++) {
                        if (t.node_mask & (UINT64_C(1) << node)) {
                                if (!(job_here && d->job_node == (int)node))
                                        work_update(&p->nodes_w[node], p->ncur[node].cur.total, t.node_pages[node]);
                        } else
                                p->nodes_w[node].state = POOL_UNMANAGED;
                }
                const char *reason;
                enum pool_state s = reconcile_pool_state(d, p, &reason);
                if (s != p->reported_state || strcmp(reason, p->reported_reason) != 0) {
                        log_pool(s == POOL_DEGRADED ? LOG_WARNING : LOG_INFO, p->label, -1, p->cur.total,
                                 "%s pool %s%s%s (%" PRIu64 " pages)", p->label, pool_state_name(s),
                                 *reason ? ": " : "", reason, p->cur.total);
                        changed_notify(d, p, -1, s, reason, false);
                        p->reported_state = s;
                        snprintf(p->reported_reason, sizeof p->reported_reason, "%s", reason);
                }
        }

        notify_status(d);
        if (d->metrics) {
                json_object *status = status_build(d);
                if (status) {
                        metrics_publish(d->metrics, status);
                        json_object_put(status);
                }
                /* The textfile costs an fsync: at most once per refresh interval. */
                uint64_t now = uv_now(d->loop);
                if (d->cfg->metrics_textfile && (d->last_textfile == 0 || now - d->last_textfile >= (uint64_t)d->cfg->refresh_sec * 1000)) {
                        int r = metrics_write_textfile(d->metrics, d->cfg->metrics_textfile);
                        if (r < 0)
                                log_warning("Cannot write metrics textfile %s: %s", d->cfg->metrics_textfile, strerror(-r));
                        d->last_textfile = now;
                }
        }
        d->refresh_fresh = true;
        rpc_waits_check(d);
}

static void work_cb(uv_work_t *req)
{
        struct job *j = req->data;
        vmm_ctx *ctx = j->d->worker_ctx;
        if (j->compact_first)
                j->compact_rc = vmm_compact(ctx, j->node);
        double t0 = now_seconds();
        /* A write that fails outright leaves res untouched: the pool kept what it had. */
        j->res = (struct vmm_resize){ .before = j->current, .requested = j->pages, .reached = j->current };
        j->rc = vmm_pool_set(ctx, j->size_kb, j->node, j->pages, &j->res);
        j->seconds = now_seconds() - t0;
}

static void after_work_cb(uv_work_t *req, int status)
{
        struct job *j = req->data;
        struct daemon *d = j->d;
        struct pool_rt *p = &d->pools[j->pool];
        struct work_rt *w = j->node < 0 ? &p->whole : &p->nodes_w[j->node];
        uint64_t now = uv_now(d->loop);
        int rc = status < 0 ? status : j->rc;

        d->job_running = false;
        if (j->compact_first && j->compact_rc < 0)
                log_pool(LOG_WARNING, p->label, j->node, UINT64_MAX, "Compaction failed: %s", strerror(-j->compact_rc));

        const char *result = rc == 0 ? "reached" : (rc == -ENOMEM || rc == -EBUSY) ? "short" : "error";
        if (d->metrics)
                metrics_count_resize(d->metrics, p->label, result, j->seconds);

        if (rc == 0 || rc == -ENOMEM || rc == -EBUSY) {
                uint64_t before = j->res.before, reached = j->res.reached;
                /* Our own write: the next refresh takes the pool's total as it
                 * finds it (a node write moves the global total too). */
                p->resync = true;
                uint64_t delta = reached > before ? reached - before : before - reached;
                if (rc == 0 && delta > 0)
                        chunk_observe(&d->chunk[reached > before], delta, j->seconds * 1e9);
                log_pool(LOG_DEBUG, p->label, j->node, reached, "%s: wrote %" PRIu64 " -> %" PRIu64 " pages (reached %" PRIu64
                         ") in %.1f ms%s", p->label, before, j->res.requested, reached, j->seconds * 1e3,
                         j->compact_first ? " after compaction" : "");
                progress_notify(d, p, j->node, w->from, reached, j->target);
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
                if (w->retries <= QUICK_RETRIES) {
                        unsigned ms = QUICK_RETRY_MS << (w->retries - 1);
                        snprintf(w->reason, sizeof w->reason,
                                 "reached %" PRIu64 " of %" PRIu64 " pages; compacting, retry %u of %u in %u s",
                                 j->res.reached, j->target, w->retries, QUICK_RETRIES, ms / 1000);
                        w->next_attempt = now + ms;
                } else {
                        w->state = POOL_DEGRADED;
                        snprintf(w->reason, sizeof w->reason,
                                 "reached %" PRIu64 " of %" PRIu64 " pages after %u retries: memory fragmented",
                                 j->res.reached, j->target, QUICK_RETRIES);
                        w->next_attempt = now + SLOW_RETRY_MS;
                }
                log_pool(LOG_WARNING, p->label, j->node, j->res.reached, "%s pool short: %s", p->label, w->reason);
        } else if (rc == -EBUSY) {
                w->state = POOL_DEGRADED;
                snprintf(w->reason, sizeof w->reason, "%" PRIu64 " pages in use became surplus",
                         j->res.reached - j->res.requested);
                w->next_attempt = now + (uint64_t)d->cfg->refresh_sec * 1000;
                log_pool(LOG_WARNING, p->label, j->node, j->res.reached, "%s pool: %s", p->label, w->reason);
        } else {
                w->state = POOL_DEGRADED;
                snprintf(w->reason, sizeof w->reason, "writing nr_hugepages failed: %s", strerror(-rc));
                w->next_attempt = now + SLOW_RETRY_MS;
                log_pool(LOG_ERR, p->label, j->node, j->pages, "%s pool: %s", p->label, w->reason);
        }
        free(j);

        reconcile_refresh(d);
        if (d->stopping)
                daemon_stop_continue(d);
        else
                reconcile_kick(d);
}

static bool start_job(struct daemon *d, size_t pool, int node, uint64_t current, uint64_t target)
{
        struct pool_rt *p = &d->pools[pool];
        struct work_rt *w = node < 0 ? &p->whole : &p->nodes_w[node];
        struct job *j = calloc(1, sizeof *j);
        if (!j)
                return false;
        uint64_t chunk = chunk_next(&d->chunk[target > current]);
        j->d = d;
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
        j->req.data = j;
        if (uv_queue_work(d->loop, &j->req, work_cb, after_work_cb) < 0) {
                free(j);
                return false;
        }
        d->job_running = true;
        d->job_pool = pool;
        d->job_node = node;
        return true;
}

static void apply_overcommit(struct daemon *d, struct pool_rt *p, const struct target *t)
{
        if (!t->has_overcommit || p->cur.overcommit == t->overcommit)
                return;
        int r = vmm_overcommit_set(d->ctx, p->size_kb, t->overcommit);
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

void reconcile_kick(struct daemon *d)
{
        if (d->job_running || d->stopping)
                return;
        uint64_t now = uv_now(d->loop), earliest = UINT64_MAX;

        for (size_t i = 0; i < d->n_pools; i++) {
                struct pool_rt *p = &d->pools[i];
                struct target t;
                if (!p->read_ok)
                        continue;
                daemon_effective_target(d, p->size_kb, &t);
                apply_overcommit(d, p, &t);
                if (t.has_pages && p->cur.total != t.pages) {
                        if (now >= p->whole.next_attempt) {
                                if (start_job(d, i, -1, p->cur.total, t.pages))
                                        return;
                        } else if (p->whole.next_attempt < earliest)
                                earliest = p->whole.next_attempt;
                }
                for (unsigned node = 0; node < HUGEVMD_MAX_NODES; node++) {
                        if (!(t.node_mask & (UINT64_C(1) << node)) || !node_present(d, node))
                                continue;
                        struct work_rt *w = &p->nodes_w[node];
                        uint64_t cur = p->ncur[node].cur.total;
                        if (cur == t.node_pages[node])
                                continue;
                        if (now >= w->next_attempt) {
                                if (start_job(d, i, (int)node, cur, t.node_pages[node]))
                                        return;
                        } else if (w->next_attempt < earliest)
                                earliest = w->next_attempt;
                }
        }
        if (earliest != UINT64_MAX)
                uv_timer_start(&d->retry_timer, retry_timer_cb, earliest - now, 0);
}

int reconcile_hvo_set(struct daemon *d, bool enabled)
{
        /* Pages that came before the switch belong to the old state. */
        reconcile_refresh(d);
        int r = vmm_hvo_set(d->ctx, enabled);
        hvo_observe(d, false);
        reconcile_refresh(d);
        return r;
}
