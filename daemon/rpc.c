/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control protocol's methods: envelope checks, strict params, dispatch. */
#include "config.h"
#include "rpc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "proto.h"

#define WAIT_MAX_TIMEOUT_MS (UINT64_C(7) * 24 * 3600 * 1000)

/* ---- the daemon side ----------------------------------------------------- */

struct call {
        struct daemon *d;
        struct client *client;
        json_object *id;        /* borrowed from the request */
        bool notification;      /* no id: no reply */
        const char *method;
        json_object *params;
        char msg[512];
        json_object *data;      /* error data, owned */
};

static json_object *fail(struct call *c, int code)
{
        json_object *e = proto_error_new(c->id, code, c->msg, c->data);
        c->data = NULL;
        if (c->d->metrics)
                metrics_count_request(c->d->metrics, c->method ? c->method : "unknown", proto_error_name(code));
        return e;
}

#define FAIL(c, code, ...) do { snprintf((c)->msg, sizeof (c)->msg, __VA_ARGS__); return fail((c), (code)); } while (0)

static json_object *succeed(struct call *c, json_object *result)
{
        if (c->d->metrics)
                metrics_count_request(c->d->metrics, c->method, "ok");
        return proto_result_new(c->id, result);
}

/* Memory bound for page counts: MemTotal from the root's /proc/meminfo, else sysinfo(). */
static uint64_t memory_bytes(struct daemon *d)
{
        char path[4096];
        unsigned long long kb;
        char line[256];
        snprintf(path, sizeof path, "%s/proc/meminfo", strcmp(d->root, "/") == 0 ? "" : d->root);
        FILE *f = fopen(path, "re");
        if (f) {
                while (fgets(line, sizeof line, f))
                        if (sscanf(line, "MemTotal: %llu kB", &kb) == 1) {
                                fclose(f);
                                return (uint64_t)kb * 1024;
                        }
                fclose(f);
        }
        struct sysinfo si;
        if (sysinfo(&si) == 0)
                return (uint64_t)si.totalram * si.mem_unit;
        return UINT64_MAX;
}

/* size param -> the pool; NULL with a reply in *err. */
static struct pool_rt *get_pool(struct call *c, json_object **err)
{
        json_object *v;
        uint64_t bytes;
        char avail[256] = "";
        if (!c->params || !json_object_object_get_ex(c->params, PROTO_F_SIZE, &v)) {
                snprintf(c->msg, sizeof c->msg, "%s: required (a hugepage size such as \"2M\" or \"2048kB\")", PROTO_F_SIZE);
                *err = fail(c, PROTO_ERR_INVALID_PARAMS);
                return NULL;
        }
        if (!v || !json_object_is_type(v, json_type_string)) {
                snprintf(c->msg, sizeof c->msg, "%s: must be a string such as \"2M\" or \"2048kB\"", PROTO_F_SIZE);
                *err = fail(c, PROTO_ERR_INVALID_PARAMS);
                return NULL;
        }
        const char *text = json_object_get_string(v);
        if (vmm_size_parse(text, &bytes) < 0 || bytes == 0 || bytes % 1024) {
                snprintf(c->msg, sizeof c->msg, "%s: \"%.64s\" is not a size (write it like 2M, 2048kB or 1G)", PROTO_F_SIZE, text);
                *err = fail(c, PROTO_ERR_INVALID_PARAMS);
                return NULL;
        }
        struct pool_rt *p = daemon_pool(c->d, bytes / 1024);
        if (!p) {
                for (size_t i = 0; i < c->d->n_pools; i++)
                        snprintf(avail + strlen(avail), sizeof avail - strlen(avail), "%s%s", i ? ", " : "", c->d->pools[i].label);
                snprintf(c->msg, sizeof c->msg, "%s: %.64s is not a hugepage size on this machine (available: %s)",
                         PROTO_F_SIZE, text, avail[0] ? avail : "none");
                *err = fail(c, PROTO_ERR_UNSUPPORTED);
                return NULL;
        }
        return p;
}

static json_object *m_status(struct call *c)
{
        static const char *const keys[] = { NULL };
        if (rpc_check_keys(c->params, keys, c->msg, sizeof c->msg))
                return fail(c, PROTO_ERR_INVALID_PARAMS);
        reconcile_refresh_shared(c->d);
        return succeed(c, status_build(c->d));
}

static json_object *m_pool_get(struct call *c)
{
        static const char *const keys[] = { PROTO_F_SIZE, NULL };
        json_object *err;
        if (rpc_check_keys(c->params, keys, c->msg, sizeof c->msg))
                return fail(c, PROTO_ERR_INVALID_PARAMS);
        struct pool_rt *p = get_pool(c, &err);
        if (!p)
                return err;
        reconcile_refresh_shared(c->d);
        return succeed(c, status_pool(c->d, p, NULL));
}

static bool node_present(struct daemon *d, uint64_t node)
{
        for (size_t i = 0; i < d->n_nodes; i++)
                if (d->nodes[i] == node)
                        return true;
        return false;
}

/* pages or bytes (integer, or a size string) for one pool, bounded by memory. */
static int get_pages(struct call *c, struct pool_rt *p, json_object *params, const char *what,
                     uint64_t *ret, bool *present)
{
        uint64_t size_bytes = p->size_kb * 1024, mem = memory_bytes(c->d);
        uint64_t max_pages = mem / size_bytes;
        json_object *v;
        char label[32];
        int r;

        vmm_size_format_human(mem, label, sizeof label);
        if (strcmp(what, PROTO_F_PAGES) == 0) {
                r = rpc_get_uint(params, what, UINT64_MAX - 1, ret, present, c->msg, sizeof c->msg);
                if (r < 0)
                        return r;
                if (*present && *ret > max_pages) {
                        snprintf(c->msg, sizeof c->msg, "%s: %" PRIu64 " pages of %s exceed this machine's memory (%s, at most %" PRIu64 " pages)",
                                 what, *ret, p->label, label, max_pages);
                        return PROTO_ERR_INVALID_PARAMS;
                }
                return 0;
        }
        uint64_t bytes;
        *present = false;
        if (!params || !json_object_object_get_ex(params, what, &v))
                return 0;
        if (v && json_object_is_type(v, json_type_string)) {
                r = vmm_size_parse(json_object_get_string(v), &bytes);
                if (r < 0) {
                        snprintf(c->msg, sizeof c->msg, "%s: \"%.64s\" is not a size (write it like 512M or 1G)", what,
                                 json_object_get_string(v));
                        return PROTO_ERR_INVALID_PARAMS;
                }
        } else {
                bool pr;
                r = rpc_get_uint(params, what, UINT64_MAX - 1, &bytes, &pr, c->msg, sizeof c->msg);
                if (r < 0)
                        return r;
        }
        if (bytes % size_bytes) {
                snprintf(c->msg, sizeof c->msg, "%s: %" PRIu64 " is not a multiple of the %s page size", what, bytes, p->label);
                return PROTO_ERR_INVALID_PARAMS;
        }
        if (bytes > mem) {
                snprintf(c->msg, sizeof c->msg, "%s: %" PRIu64 " exceeds this machine's memory (%s)", what, bytes, label);
                return PROTO_ERR_INVALID_PARAMS;
        }
        *ret = bytes / size_bytes;
        *present = true;
        return 0;
}

static json_object *m_pool_set(struct call *c)
{
        static const char *const keys[] = { PROTO_F_SIZE, PROTO_F_PAGES, PROTO_F_BYTES, PROTO_F_NODES, PROTO_F_NODE,
                                            PROTO_F_PERSIST, PROTO_F_OVERCOMMIT, PROTO_F_DRY_RUN, NULL };
        struct daemon *d = c->d;
        json_object *err, *nodes_v = NULL;
        uint64_t pages = 0, bytes_pages = 0, node = 0, overcommit = 0;
        bool has_pages, has_bytes, has_node, has_oc, persist = true, has_persist, dry_run = false, has_dry;
        int r;

        if (rpc_check_keys(c->params, keys, c->msg, sizeof c->msg))
                return fail(c, PROTO_ERR_INVALID_PARAMS);
        struct pool_rt *p = get_pool(c, &err);
        if (!p)
                return err;
        if ((r = get_pages(c, p, c->params, PROTO_F_PAGES, &pages, &has_pages)) < 0 ||
            (r = get_pages(c, p, c->params, PROTO_F_BYTES, &bytes_pages, &has_bytes)) < 0 ||
            (r = rpc_get_uint(c->params, PROTO_F_NODE, UINT32_MAX, &node, &has_node, c->msg, sizeof c->msg)) < 0 ||
            (r = rpc_get_bool(c->params, PROTO_F_PERSIST, &persist, &has_persist, c->msg, sizeof c->msg)) < 0 ||
            (r = rpc_get_bool(c->params, PROTO_F_DRY_RUN, &dry_run, &has_dry, c->msg, sizeof c->msg)) < 0)
                return fail(c, r);
        if (!has_persist)
                persist = true;
        {
                /* overcommit is a page count with the same memory bound */
                json_object *tmp = NULL;
                if (c->params && json_object_object_get_ex(c->params, PROTO_F_OVERCOMMIT, &tmp)) {
                        json_object *wrap = json_object_new_object();
                        json_object_object_add(wrap, PROTO_F_PAGES, json_object_get(tmp));
                        r = get_pages(c, p, wrap, PROTO_F_PAGES, &overcommit, &has_oc);
                        json_object_put(wrap);
                        if (r < 0) {
                                char m[512];
                                /* name the real field */
                                snprintf(m, sizeof m, "%s%s", PROTO_F_OVERCOMMIT, c->msg + strlen(PROTO_F_PAGES));
                                snprintf(c->msg, sizeof c->msg, "%s", m);
                                return fail(c, r);
                        }
                } else
                        has_oc = false;
        }
        if (c->params)
                json_object_object_get_ex(c->params, PROTO_F_NODES, &nodes_v);
        if ((has_pages + has_bytes + (nodes_v != NULL)) > 1)
                FAIL(c, PROTO_ERR_INVALID_PARAMS, "%s: give only one of %s, %s or %s", PROTO_F_PAGES, PROTO_F_PAGES, PROTO_F_BYTES, PROTO_F_NODES);
        if (!has_pages && !has_bytes && !nodes_v && !has_oc)
                FAIL(c, PROTO_ERR_INVALID_PARAMS, "%s: one of %s, %s, %s or %s is required", PROTO_F_PAGES, PROTO_F_PAGES,
                     PROTO_F_BYTES, PROTO_F_NODES, PROTO_F_OVERCOMMIT);
        if (has_node && nodes_v)
                FAIL(c, PROTO_ERR_INVALID_PARAMS, "%s: not together with %s", PROTO_F_NODE, PROTO_F_NODES);
        if (has_node && !has_pages && !has_bytes)
                FAIL(c, PROTO_ERR_INVALID_PARAMS, "%s: needs %s or %s", PROTO_F_NODE, PROTO_F_PAGES, PROTO_F_BYTES);
        if (has_node && (node >= HUGEVMD_MAX_NODES || !node_present(d, node)))
                FAIL(c, PROTO_ERR_UNSUPPORTED, "%s: node %" PRIu64 " does not exist on this machine", PROTO_F_NODE, node);
        if (has_bytes)
                pages = bytes_pages;

        struct target t;
        daemon_effective_target(d, p->size_kb, &t);
        if (has_pages || has_bytes) {
                if (has_node) {
                        t.has_pages = false;
                        t.node_mask |= UINT64_C(1) << node;
                        t.node_pages[node] = pages;
                } else {
                        t.has_pages = true;
                        t.pages = pages;
                        t.node_mask = 0;
                }
        } else if (nodes_v) {
                if (!json_object_is_type(nodes_v, json_type_object) || json_object_object_length(nodes_v) == 0)
                        FAIL(c, PROTO_ERR_INVALID_PARAMS, "%s: must be an object {\"<node>\": pages, ...}", PROTO_F_NODES);
                t.has_pages = false;
                t.node_mask = 0;
                json_object_object_foreach(nodes_v, key, val) {
                        uint64_t n, np;
                        bool pr;
                        json_object *wrap = json_object_new_object();
                        json_object_object_add(wrap, PROTO_F_PAGES, json_object_get(val));
                        r = get_pages(c, p, wrap, PROTO_F_PAGES, &np, &pr);
                        json_object_put(wrap);
                        if (r < 0) {
                                char m[512];
                                snprintf(m, sizeof m, "%s.%s%s", PROTO_F_NODES, key, c->msg + strlen(PROTO_F_PAGES));
                                snprintf(c->msg, sizeof c->msg, "%s", m);
                                return fail(c, r);
                        }
                        if (vmm_count_parse(key, &n) < 0)
                                FAIL(c, PROTO_ERR_INVALID_PARAMS, "%s: key \"%.32s\" is not a node number", PROTO_F_NODES, key);
                        if (n >= HUGEVMD_MAX_NODES || !node_present(d, n))
                                FAIL(c, PROTO_ERR_UNSUPPORTED, "%s: node %" PRIu64 " does not exist on this machine", PROTO_F_NODES, n);
                        t.node_mask |= UINT64_C(1) << n;
                        t.node_pages[n] = np;
                }
        }
        if (has_oc) {
                t.has_overcommit = true;
                t.overcommit = overcommit;
        }

        if (dry_run)
                return succeed(c, status_pool(d, p, &t));

        struct target *rt = daemon_runtime_target(d, p->size_kb, true);
        if (!rt)
                FAIL(c, PROTO_ERR_INTERNAL, "too many runtime targets");
        struct target saved_rt = *rt;
        *rt = t;
        if (persist) {
                struct target saved_persisted[HUGEVMD_MAX_POOLS];
                size_t saved_n = d->n_persisted, k;
                memcpy(saved_persisted, d->persisted, sizeof saved_persisted);
                for (k = 0; k < d->n_persisted && d->persisted[k].size_kb != p->size_kb; k++)
                        ;
                if (k == d->n_persisted)
                        d->n_persisted++;
                d->persisted[k] = t;
                r = daemon_save_state(d);
                if (r < 0) {
                        memcpy(d->persisted, saved_persisted, sizeof saved_persisted);
                        d->n_persisted = saved_n;
                        *rt = saved_rt;
                        log_error("Cannot save state in %s: %s", daemon_state_dir(d), strerror(-r));
                        FAIL(c, PROTO_ERR_STATE, "cannot save the state file in %s: %s; nothing changed",
                             daemon_state_dir(d), strerror(-r));
                }
        }
        log_pool(LOG_INFO, p->label, has_node ? (int)node : -1, pages, "New %s target%s: %s", p->label,
                 persist ? "" : " (runtime only)", json_object_to_json_string(c->params));
        reconcile_target_changed(d, p);
        host_apply_shm(d);
        reconcile_refresh(d);
        reconcile_kick(d);
        return succeed(c, status_pool(d, p, NULL));
}

static json_object *m_vmemmap_get(struct call *c)
{
        static const char *const keys[] = { NULL };
        if (rpc_check_keys(c->params, keys, c->msg, sizeof c->msg))
                return fail(c, PROTO_ERR_INVALID_PARAMS);
        reconcile_refresh_shared(c->d);
        return succeed(c, status_vmemmap(c->d));
}

static json_object *m_vmemmap_set(struct call *c)
{
        static const char *const keys[] = { PROTO_F_ENABLED, NULL };
        bool enabled, present;
        int r;
        if (rpc_check_keys(c->params, keys, c->msg, sizeof c->msg))
                return fail(c, PROTO_ERR_INVALID_PARAMS);
        if ((r = rpc_get_bool(c->params, PROTO_F_ENABLED, &enabled, &present, c->msg, sizeof c->msg)) < 0)
                return fail(c, r);
        if (!present)
                FAIL(c, PROTO_ERR_INVALID_PARAMS, "%s: required (true or false)", PROTO_F_ENABLED);
        r = reconcile_hvo_set(c->d, enabled);
        if (r == -EOPNOTSUPP)
                FAIL(c, PROTO_ERR_UNSUPPORTED, "HVO is not supported by this kernel (no /proc/sys/vm/hugetlb_optimize_vmemmap)");
        if (r < 0) {
                c->data = json_object_new_object();
                json_object_object_add(c->data, PROTO_F_ERRNO, json_object_new_int(-r));
                json_object_object_add(c->data, PROTO_F_PATH, json_object_new_string("/proc/sys/vm/hugetlb_optimize_vmemmap"));
                FAIL(c, PROTO_ERR_KERNEL, "the kernel refused to turn HVO %s: %s", enabled ? "on" : "off", strerror(-r));
        }
        return succeed(c, status_vmemmap(c->d));
}

/* ---- wait ------------------------------------------------------------------ */

static bool any_degraded(struct daemon *d)
{
        for (size_t i = 0; i < d->n_pools; i++)
                if (reconcile_pool_state(d, &d->pools[i], NULL) == POOL_DEGRADED)
                        return true;
        return false;
}

/* The reply a wait gets now, or NULL if it keeps waiting. */
static json_object *wait_outcome(struct daemon *d, json_object *id, bool timed_out)
{
        json_object *data;
        if (any_degraded(d)) {
                data = json_object_new_object();
                json_object_object_add(data, PROTO_F_POOLS, status_unconverged(d));
                if (d->metrics)
                        metrics_count_request(d->metrics, PROTO_M_WAIT, proto_error_name(PROTO_ERR_SHORTFALL));
                return proto_error_new(id, PROTO_ERR_SHORTFALL, "pools degraded: they did not reach their targets", data);
        }
        if (reconcile_all_converged(d)) {
                if (d->metrics)
                        metrics_count_request(d->metrics, PROTO_M_WAIT, "ok");
                return proto_result_new(id, status_build(d));
        }
        if (!timed_out)
                return NULL;
        data = json_object_new_object();
        json_object_object_add(data, PROTO_F_POOLS, status_unconverged(d));
        if (d->metrics)
                metrics_count_request(d->metrics, PROTO_M_WAIT, proto_error_name(PROTO_ERR_TIMEOUT));
        return proto_error_new(id, PROTO_ERR_TIMEOUT, "timed out before every pool converged", data);
}

static void wait_timer_closed(uv_handle_t *h)
{
        struct pending_wait *w = h->data;
        json_object_put(w->id);
        free(w);
}

static void wait_finish(struct pending_wait *w, json_object *reply)
{
        if (reply && w->client) {
                server_send(w->client, reply);
                server_client_hold(w->client, -1);
        } else
                json_object_put(reply);
        if (w->has_timer)
                uv_close((uv_handle_t *)&w->timer, wait_timer_closed);
        else {
                json_object_put(w->id);
                free(w);
        }
}

static void unlink_wait(struct daemon *d, struct pending_wait *w)
{
        for (struct pending_wait **pp = &d->waits; *pp; pp = &(*pp)->next)
                if (*pp == w) {
                        *pp = w->next;
                        return;
                }
}

static void wait_timeout_cb(uv_timer_t *t)
{
        struct pending_wait *w = t->data;
        unlink_wait(w->d, w);
        wait_finish(w, wait_outcome(w->d, w->id, true));
}

void rpc_waits_check(struct daemon *d)
{
        /* Detach first: answering may close a client, which edits the list. */
        struct pending_wait *list = d->waits, *keep = NULL;
        d->waits = NULL;
        while (list) {
                struct pending_wait *w = list;
                list = w->next;
                json_object *reply = wait_outcome(d, w->id, false);
                if (reply)
                        wait_finish(w, reply);
                else {
                        w->next = keep;
                        keep = w;
                }
        }
        /* Waits added meanwhile stay too. */
        while (keep) {
                struct pending_wait *w = keep;
                keep = w->next;
                w->next = d->waits;
                d->waits = w;
        }
}

void rpc_waits_drop_client(struct daemon *d, struct client *c)
{
        struct pending_wait **pp = &d->waits;
        while (*pp) {
                struct pending_wait *w = *pp;
                if (w->client == c) {
                        *pp = w->next;
                        w->client = NULL;
                        wait_finish(w, NULL);
                } else
                        pp = &w->next;
        }
}

void rpc_waits_free(struct daemon *d)
{
        while (d->waits) {
                struct pending_wait *w = d->waits;
                d->waits = w->next;
                w->client = NULL;
                wait_finish(w, NULL);
        }
}

static json_object *m_wait(struct call *c)
{
        static const char *const keys[] = { PROTO_F_TIMEOUT_MS, NULL };
        uint64_t timeout = 0;
        bool has_timeout;
        int r;
        if (rpc_check_keys(c->params, keys, c->msg, sizeof c->msg))
                return fail(c, PROTO_ERR_INVALID_PARAMS);
        if ((r = rpc_get_uint(c->params, PROTO_F_TIMEOUT_MS, WAIT_MAX_TIMEOUT_MS, &timeout, &has_timeout, c->msg, sizeof c->msg)) < 0)
                return fail(c, r);
        reconcile_refresh_shared(c->d);
        json_object *now = wait_outcome(c->d, c->id, has_timeout && timeout == 0);
        if (now || c->notification)
                return now;
        struct pending_wait *w = calloc(1, sizeof *w);
        if (!w)
                FAIL(c, PROTO_ERR_INTERNAL, "out of memory");
        w->d = c->d;
        w->client = c->client;
        w->id = c->id ? json_object_get(c->id) : NULL;
        if (has_timeout) {
                uv_timer_init(c->d->loop, &w->timer);
                w->timer.data = w;
                w->has_timer = true;
                uv_timer_start(&w->timer, wait_timeout_cb, timeout, 0);
        }
        w->next = c->d->waits;
        c->d->waits = w;
        server_client_hold(c->client, +1);
        return NULL;
}

static json_object *m_subscribe(struct call *c)
{
        static const char *const keys[] = { NULL };
        if (rpc_check_keys(c->params, keys, c->msg, sizeof c->msg))
                return fail(c, PROTO_ERR_INVALID_PARAMS);
        server_client_set_subscribed(c->client);
        json_object *o = json_object_new_object();
        json_object_object_add(o, PROTO_F_SUBSCRIBED, json_object_new_boolean(true));
        return succeed(c, o);
}

static json_object *m_reload(struct call *c)
{
        static const char *const keys[] = { NULL };
        struct config_errors errors = { 0 };
        if (rpc_check_keys(c->params, keys, c->msg, sizeof c->msg))
                return fail(c, PROTO_ERR_INVALID_PARAMS);
        if (daemon_reload(c->d, &errors) < 0) {
                json_object *list = json_object_new_array();
                for (size_t i = 0; i < errors.n; i++)
                        json_object_array_add(list, json_object_new_string(errors.lines[i]));
                c->data = json_object_new_object();
                json_object_object_add(c->data, PROTO_F_ERRORS, list);
                snprintf(c->msg, sizeof c->msg, "configuration invalid (%zu error%s); the running one stays in force",
                         errors.n, errors.n == 1 ? "" : "s");
                config_errors_clear(&errors);
                return fail(c, PROTO_ERR_CONFIG);
        }
        json_object *o = json_object_new_object();
        json_object_object_add(o, PROTO_F_RELOADED, json_object_new_boolean(true));
        return succeed(c, o);
}

static json_object *m_metrics(struct call *c)
{
        static const char *const keys[] = { NULL };
        if (rpc_check_keys(c->params, keys, c->msg, sizeof c->msg))
                return fail(c, PROTO_ERR_INVALID_PARAMS);
        if (!c->d->metrics)
                FAIL(c, PROTO_ERR_INTERNAL, "metrics are not available");
        reconcile_refresh_shared(c->d);
        json_object *status = status_build(c->d);
        /* Count this request before rendering, so it appears in its own answer. */
        metrics_count_request(c->d->metrics, c->method, "ok");
        char *text = metrics_render(c->d->metrics, status);
        json_object_put(status);
        if (!text)
                FAIL(c, PROTO_ERR_INTERNAL, "out of memory");
        json_object *o = json_object_new_object();
        json_object_object_add(o, PROTO_F_TEXT, json_object_new_string(text));
        free(text);
        return proto_result_new(c->id, o);
}

static json_object *m_version(struct call *c)
{
        static const char *const keys[] = { NULL };
        if (rpc_check_keys(c->params, keys, c->msg, sizeof c->msg))
                return fail(c, PROTO_ERR_INVALID_PARAMS);
        json_object *o = json_object_new_object();
        json_object_object_add(o, PROTO_F_VERSION, json_object_new_string(PACKAGE_VERSION));
        json_object_object_add(o, PROTO_F_PROTOCOL, json_object_new_int(PROTO_VERSION));
        return succeed(c, o);
}

static const struct method {
        const char *name;
        enum rpc_role needs;
        json_object *(*fn)(struct call *c);
} methods[] = {
        { PROTO_M_STATUS,      ROLE_READ,  m_status },
        { PROTO_M_POOL_GET,    ROLE_READ,  m_pool_get },
        { PROTO_M_POOL_SET,    ROLE_ADMIN, m_pool_set },
        { PROTO_M_VMEMMAP_GET, ROLE_READ,  m_vmemmap_get },
        { PROTO_M_VMEMMAP_SET, ROLE_ADMIN, m_vmemmap_set },
        { PROTO_M_WAIT,        ROLE_READ,  m_wait },
        { PROTO_M_SUBSCRIBE,   ROLE_READ,  m_subscribe },
        { PROTO_M_RELOAD,      ROLE_ADMIN, m_reload },
        { PROTO_M_METRICS,     ROLE_READ,  m_metrics },
        { PROTO_M_VERSION,     ROLE_NONE,  m_version },
};

json_object *rpc_handle_line(struct daemon *d, struct client *client, enum rpc_role role, const char *line, size_t len)
{
        struct call c = { .d = d, .client = client };
        json_object *req = NULL, *reply;
        int code = rpc_parse_envelope(line, len, &req, &c.id, &c.method, &c.params, c.msg, sizeof c.msg);
        c.notification = req && json_object_is_type(req, json_type_object) &&
                         !json_object_object_get_ex(req, PROTO_F_ID, NULL);
        if (code) {
                /* Errors that make the id unknowable are answered with id null, even for notifications. */
                c.method = NULL;
                reply = fail(&c, code);
                if (c.notification && code != PROTO_ERR_PARSE && code != PROTO_ERR_INVALID_REQUEST) {
                        json_object_put(reply);
                        reply = NULL;
                }
                json_object_put(req);
                return reply;
        }
        const struct method *m = NULL;
        for (size_t i = 0; i < sizeof methods / sizeof *methods; i++)
                if (strcmp(methods[i].name, c.method) == 0)
                        m = &methods[i];
        if (!m) {
                snprintf(c.msg, sizeof c.msg, "unknown method \"%.64s\"", c.method);
                c.method = NULL;
                reply = fail(&c, PROTO_ERR_METHOD_NOT_FOUND);
        } else if (role < m->needs) {
                snprintf(c.msg, sizeof c.msg, "permission denied: %s needs %s", m->name,
                         m->needs == ROLE_ADMIN ? "root or the AdminGroup" : "root, the SocketGroup or the AdminGroup");
                reply = fail(&c, PROTO_ERR_PERMISSION);
        } else
                reply = m->fn(&c);
        json_object_put(c.data);
        if (c.notification) {
                json_object_put(reply);
                reply = NULL;
        }
        json_object_put(req);
        return reply;
}
