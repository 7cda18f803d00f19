/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The wait method: answered at once when its pools are already settled, else
 * parked here and answered at the first refresh that settles them, or when its
 * timer fires. Without a size it waits for every pool; with a size, only that
 * pool (or node of it) counts. A degraded pool is still being retried, so the
 * wait goes on until the timeout (then it is a shortfall, with the reason),
 * unless fail_fast asks for the answer at once.
 */
#include "config.h"
#include "waits.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon.h"
#include "metrics.h"
#include "proto.h"
#include "server.h"
#include "status.h"

struct pending_wait {
        struct pending_wait *next;
        struct daemon *d;
        struct client *client;
        json_object *id;
        struct wait_spec spec;
        uv_timer_t timer;
};

struct waits {
        struct pending_wait *list;
};

static void count(struct daemon *d, const char *result)
{
        if (d->metrics)
                metrics_count_request(d->metrics, PROTO_M_WAIT, result);
}

static enum pool_state spec_state(struct core *core, const struct wait_spec *spec)
{
        if (spec->node >= 0)
                return reconcile_node_state(core, spec->pool, (unsigned)spec->node, NULL);
        return reconcile_pool_state(core, spec->pool, NULL);
}

static bool any_degraded(struct core *core)
{
        for (size_t i = 0; i < core->n_pools; i++)
                if (reconcile_pool_state(core, &core->pools[i], NULL) == POOL_DEGRADED)
                        return true;
        return false;
}

static json_object *fail(struct daemon *d, json_object *id, const struct wait_spec *spec, int code, const char *msg)
{
        json_object *data = json_object_new_object();
        json_object_object_add(data, PROTO_F_POOLS, status_unconverged(&d->core, spec->pool));
        count(d, proto_error_name(code));
        return proto_error_new(id, code, msg, data);
}

/* vmemmap.optimize's reply: when no node it asked for is still pending; a
 * shortfall if one of them stopped short (its reason in data.pools). */
static json_object *reopt_outcome(struct daemon *d, json_object *id, const struct wait_spec *spec, bool timed_out)
{
        struct core *core = &d->core;
        const char *stopped = NULL;
        for (size_t i = 0; i < core->n_pools; i++) {
                struct pool_rt *p = &core->pools[i];
                if (spec->pool && p != spec->pool)
                        continue;
                if (reoptimize_pending(core, p, spec->node))
                        return timed_out ? fail(d, id, spec, PROTO_ERR_TIMEOUT, "timed out before re-optimization finished")
                                         : NULL;
                for (size_t k = 0; k < core->n_nodes; k++) {
                        unsigned n = core->nodes[k];
                        if (n < HUGEVMD_MAX_NODES && (spec->node < 0 || (unsigned)spec->node == n) &&
                            p->ncur[n].reopt.blocked)
                                stopped = p->ncur[n].reopt.reason;
                }
        }
        if (stopped) {
                char msg[256];
                snprintf(msg, sizeof msg, "re-optimization stopped: %s", stopped);
                return fail(d, id, spec, PROTO_ERR_SHORTFALL, msg);
        }
        count(d, "ok");
        return proto_result_new(id, spec->pool ? status_pool(core, spec->pool, NULL) : status_build(core));
}

/* The reply a wait gets now, or NULL if it keeps waiting. */
static json_object *outcome(struct daemon *d, json_object *id, const struct wait_spec *spec, bool timed_out)
{
        struct core *core = &d->core;
        if (spec->reoptimize)
                return reopt_outcome(d, id, spec, timed_out);
        bool degraded, converged;
        if (spec->pool) {
                enum pool_state s = spec_state(core, spec);
                degraded = s == POOL_DEGRADED;
                converged = s == POOL_CONVERGED || s == POOL_UNMANAGED;
        } else {
                degraded = any_degraded(core);
                converged = reconcile_all_converged(core);
        }
        if (converged) {
                count(d, "ok");
                return proto_result_new(id, spec->pool ? status_pool(core, spec->pool, NULL) : status_build(core));
        }
        if (degraded && (spec->fail_fast || timed_out))
                return fail(d, id, spec, PROTO_ERR_SHORTFALL,
                            spec->pool ? "pool degraded: it did not reach its target"
                                       : "pools degraded: they did not reach their targets");
        if (!timed_out)
                return NULL;
        return fail(d, id, spec, PROTO_ERR_TIMEOUT,
                    spec->pool ? "timed out before the pool converged" : "timed out before every pool converged");
}

static void wait_timer_closed(uv_handle_t *h)
{
        struct pending_wait *w = h->data;
        json_object_put(w->id);
        free(w);
}

/* Send reply (may be NULL) and free w; w is no longer on the list. */
static void finish(struct pending_wait *w, json_object *reply)
{
        if (reply && w->client)
                server_send(w->client, reply);
        else
                json_object_put(reply);
        if (w->client)
                server_client_hold(w->client, -1);
        uv_close((uv_handle_t *)&w->timer, wait_timer_closed);
}

static void unlink_wait(struct waits *ws, struct pending_wait *w)
{
        for (struct pending_wait **pp = &ws->list; *pp; pp = &(*pp)->next)
                if (*pp == w) {
                        *pp = w->next;
                        return;
                }
}

static void timeout_cb(uv_timer_t *t)
{
        struct pending_wait *w = t->data;
        unlink_wait(w->d->waits, w);
        finish(w, outcome(w->d, w->id, &w->spec, true));
}

/* After every refresh: answer the waits it settled. */
static void on_event(void *data, struct core *core, const struct core_event *ev)
{
        struct daemon *d = data;
        (void)core;
        if (ev->kind != CORE_EV_REFRESHED || !d->waits)
                return;
        /* Detach first: answering may close a client, which edits the list. */
        struct pending_wait *list = d->waits->list, *keep = NULL;
        d->waits->list = NULL;
        while (list) {
                struct pending_wait *w = list;
                list = w->next;
                if (w->client && server_client_gone(w->client)) {
                        /* Closed while an earlier answer was sent: not on the list
                         * waits_drop_client saw, so dropped here. */
                        w->client = NULL;
                        finish(w, NULL);
                        continue;
                }
                json_object *reply = outcome(d, w->id, &w->spec, false);
                if (reply)
                        finish(w, reply);
                else {
                        w->next = keep;
                        keep = w;
                }
        }
        /* Waits added meanwhile stay too. */
        while (keep) {
                struct pending_wait *w = keep;
                keep = w->next;
                w->next = d->waits->list;
                d->waits->list = w;
        }
}

int waits_init(struct daemon *d)
{
        d->waits = calloc(1, sizeof *d->waits);
        if (!d->waits)
                return -ENOMEM;
        return core_subscribe(&d->core, on_event, d);
}

static size_t client_waits(const struct waits *ws, const struct client *client)
{
        size_t n = 0;
        for (const struct pending_wait *w = ws->list; w; w = w->next)
                n += w->client == client;
        return n;
}

json_object *waits_start(struct daemon *d, struct client *client, json_object *id, bool reply_wanted,
                         const struct wait_spec *spec)
{
        reconcile_refresh_shared(&d->core);
        /* Without a connection (tests, fuzzers) a wait cannot be parked: it is
         * answered at once, as with timeout_ms 0. */
        bool at_once = (spec->has_timeout && spec->timeout_ms == 0) || !client;
        json_object *now = outcome(d, id, spec, at_once);
        if (now || !reply_wanted)
                return now;
        if (client_waits(d->waits, client) >= WAITS_MAX_PER_CLIENT) {
                count(d, proto_error_name(PROTO_ERR_BUSY));
                return proto_error_new(id, PROTO_ERR_BUSY, "too many waits pending on this connection", NULL);
        }
        struct pending_wait *w = calloc(1, sizeof *w);
        if (!w) {
                count(d, proto_error_name(PROTO_ERR_INTERNAL));
                return proto_error_new(id, PROTO_ERR_INTERNAL, "out of memory", NULL);
        }
        w->d = d;
        w->client = client;
        w->id = id ? json_object_get(id) : NULL;
        w->spec = *spec;
        uv_timer_init(d->loop, &w->timer);
        w->timer.data = w;
        if (spec->has_timeout)
                uv_timer_start(&w->timer, timeout_cb, spec->timeout_ms, 0);
        w->next = d->waits->list;
        d->waits->list = w;
        server_client_hold(client, +1);
        return NULL;
}

bool waits_client_follows(const struct daemon *d, const struct client *client, const struct pool_rt *pool)
{
        for (const struct pending_wait *w = d->waits ? d->waits->list : NULL; pool && w; w = w->next)
                if (w->client == client && w->spec.pool == pool)
                        return true;
        return false;
}

void waits_drop_client(struct daemon *d, struct client *client)
{
        if (!d->waits)
                return;
        struct pending_wait **pp = &d->waits->list;
        while (*pp) {
                struct pending_wait *w = *pp;
                if (w->client == client) {
                        *pp = w->next;
                        w->client = NULL;
                        finish(w, NULL);
                } else
                        pp = &w->next;
        }
}

void waits_free(struct daemon *d)
{
        if (!d->waits)
                return;
        while (d->waits->list) {
                struct pending_wait *w = d->waits->list;
                d->waits->list = w->next;
                w->client = NULL;
                finish(w, NULL);
        }
        free(d->waits);
        d->waits = NULL;
}
