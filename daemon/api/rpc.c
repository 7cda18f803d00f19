/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control protocol's methods: envelope checks, strict params, dispatch. */
#include "config.h"
#include "rpc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "proto.h"
#include "server.h"
#include "status.h"
#include "waits.h"

#define WAIT_MAX_TIMEOUT_MS (UINT64_C(7) * 24 * 3600 * 1000)

/* ---- the daemon side ----------------------------------------------------- */

struct call {
        struct daemon *d;
        struct client *client;
        json_object *id;        /* borrowed from the request */
        bool notification;      /* no id: no reply */
        const char *method;
        int index;              /* in proto_methods[] */
        json_object *params;
        char msg[512];
        json_object *data;      /* error data, owned */
};

static json_object *fail(struct call *c, int code)
{
        if (code < PROTO_CODE_MIN || code > PROTO_CODE_MAX) {
                /* A -errno that strayed here: never put it on the wire as a code. */
                log_error("BUG: %s answered with %d, not a protocol error code", c->method ? c->method : "a request", code);
                code = PROTO_ERR_INTERNAL;
        }
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
                snprintf(c->msg, sizeof c->msg, "%s: \"%.*s\" is not a size (write it like 2M, 2048kB or 1G)", PROTO_F_SIZE,
                         rpc_quote_len(text, 64), text);
                *err = fail(c, PROTO_ERR_INVALID_PARAMS);
                return NULL;
        }
        struct pool_rt *p = core_pool(&c->d->core, bytes / 1024);
        if (!p) {
                for (size_t i = 0; i < c->d->core.n_pools; i++)
                        snprintf(avail + strlen(avail), sizeof avail - strlen(avail), "%s%s", i ? ", " : "", c->d->core.pools[i].label);
                snprintf(c->msg, sizeof c->msg, "%s: %.*s is not a hugepage size on this machine (available: %s)",
                         PROTO_F_SIZE, rpc_quote_len(text, 64), text, avail[0] ? avail : "none");
                *err = fail(c, PROTO_ERR_UNSUPPORTED);
                return NULL;
        }
        return p;
}

static json_object *m_status(struct call *c)
{
        reconcile_refresh_shared(&c->d->core);
        return succeed(c, status_build(&c->d->core));
}

static json_object *m_pool_get(struct call *c)
{
        json_object *err;
        struct pool_rt *p = get_pool(c, &err);
        if (!p)
                return err;
        reconcile_refresh_shared(&c->d->core);
        return succeed(c, status_pool(&c->d->core, p, NULL));
}

/* pages or bytes (integer, or a size string) for one pool, bounded by memory. */
static int get_pages(struct call *c, struct pool_rt *p, json_object *params, const char *what,
                     uint64_t *ret, bool *present)
{
        uint64_t size_bytes = p->size_kb * 1024, mem = c->d->core.mem_bytes;
        json_object *v;
        char label[32], why[256];
        int r;

        if (strcmp(what, PROTO_F_PAGES) == 0) {
                r = rpc_get_uint(params, what, UINT64_MAX - 1, ret, present, c->msg, sizeof c->msg);
                if (r < 0)
                        return r;
                /* The one bound of a target (conf.h), as the config and the state file have it. */
                if (*present && target_pages_check(mem, p->size_kb, *ret, why, sizeof why) < 0) {
                        snprintf(c->msg, sizeof c->msg, "%s: %s", what, why);
                        return PROTO_ERR_INVALID_PARAMS;
                }
                return 0;
        }
        vmm_size_format_human(mem, label, sizeof label);
        uint64_t bytes;
        *present = false;
        if (!params || !json_object_object_get_ex(params, what, &v))
                return 0;
        if (v && json_object_is_type(v, json_type_string)) {
                r = vmm_size_parse(json_object_get_string(v), &bytes);
                if (r < 0) {
                        snprintf(c->msg, sizeof c->msg, "%s: \"%.*s\" is not a size (write it like 512M or 1G)", what,
                                 rpc_quote_len(json_object_get_string(v), 64), json_object_get_string(v));
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

/* pool.set's params, checked one by one. */
struct set_params {
        struct pool_rt *pool;
        uint64_t pages, node, overcommit;
        bool has_pages, has_node, has_overcommit, persist, dry_run;
        json_object *nodes;     /* borrowed from the request */
};

/* A page-count param that is not named pages (overcommit, nodes.N): checked as
 * pages, the message then names the real field. */
static int get_pages_as(struct call *c, struct pool_rt *p, json_object *value, const char *name, uint64_t *ret)
{
        bool present;
        json_object *wrap = json_object_new_object();
        json_object_object_add(wrap, PROTO_F_PAGES, json_object_get(value));
        int r = get_pages(c, p, wrap, PROTO_F_PAGES, ret, &present);
        json_object_put(wrap);
        if (r < 0) {
                char m[sizeof c->msg];
                snprintf(m, sizeof m, "%s%s", name, c->msg + strlen(PROTO_F_PAGES));
                snprintf(c->msg, sizeof c->msg, "%s", m);
        }
        return r;
}

/* 0, or a protocol error with c->msg. */
static int parse_set_params(struct call *c, struct set_params *sp)
{
        uint64_t bytes_pages = 0;
        bool has_bytes, has_persist, has_dry;
        json_object *v;
        int r;
        if ((r = get_pages(c, sp->pool, c->params, PROTO_F_PAGES, &sp->pages, &sp->has_pages)) < 0 ||
            (r = get_pages(c, sp->pool, c->params, PROTO_F_BYTES, &bytes_pages, &has_bytes)) < 0 ||
            (r = rpc_get_uint(c->params, PROTO_F_NODE, UINT32_MAX, &sp->node, &sp->has_node, c->msg, sizeof c->msg)) < 0 ||
            (r = rpc_get_bool(c->params, PROTO_F_PERSIST, &sp->persist, &has_persist, c->msg, sizeof c->msg)) < 0 ||
            (r = rpc_get_bool(c->params, PROTO_F_DRY_RUN, &sp->dry_run, &has_dry, c->msg, sizeof c->msg)) < 0)
                return r;
        if (!has_persist)
                sp->persist = true;
        if (json_object_object_get_ex(c->params, PROTO_F_OVERCOMMIT, &v)) {
                if ((r = get_pages_as(c, sp->pool, v, PROTO_F_OVERCOMMIT, &sp->overcommit)) < 0)
                        return r;
                sp->has_overcommit = true;
        }
        json_object_object_get_ex(c->params, PROTO_F_NODES, &sp->nodes);
#define SET_FAIL(code, ...) do { snprintf(c->msg, sizeof c->msg, __VA_ARGS__); return (code); } while (0)
        if ((sp->has_pages + has_bytes + (sp->nodes != NULL)) > 1)
                SET_FAIL(PROTO_ERR_INVALID_PARAMS, "%s: give only one of %s, %s or %s", PROTO_F_PAGES, PROTO_F_PAGES,
                         PROTO_F_BYTES, PROTO_F_NODES);
        if (!sp->has_pages && !has_bytes && !sp->nodes && !sp->has_overcommit)
                SET_FAIL(PROTO_ERR_INVALID_PARAMS, "%s: one of %s, %s, %s or %s is required", PROTO_F_PAGES, PROTO_F_PAGES,
                         PROTO_F_BYTES, PROTO_F_NODES, PROTO_F_OVERCOMMIT);
        if (sp->has_node && sp->nodes)
                SET_FAIL(PROTO_ERR_INVALID_PARAMS, "%s: not together with %s", PROTO_F_NODE, PROTO_F_NODES);
        if (sp->has_node && !sp->has_pages && !has_bytes)
                SET_FAIL(PROTO_ERR_INVALID_PARAMS, "%s: needs %s or %s", PROTO_F_NODE, PROTO_F_PAGES, PROTO_F_BYTES);
        if (sp->has_node && (sp->node >= HUGEVMD_MAX_NODES || !core_node_present(&c->d->core, sp->node)))
                SET_FAIL(PROTO_ERR_UNSUPPORTED, "%s: node %" PRIu64 " does not exist on this machine", PROTO_F_NODE, sp->node);
        if (has_bytes) {
                sp->pages = bytes_pages;
                sp->has_pages = true;
        }
        return 0;
}

/* The pool's target in force, changed as the params say. 0, or a protocol error with c->msg. */
static int build_target(struct call *c, const struct set_params *sp, struct target *t)
{
        core_effective_target(&c->d->core, sp->pool->size_kb, t);
        if (sp->has_pages && sp->has_node) {
                t->has_pages = false;
                t->node_mask |= UINT64_C(1) << sp->node;
                t->node_pages[sp->node] = sp->pages;
        } else if (sp->has_pages) {
                t->has_pages = true;
                t->pages = sp->pages;
                t->node_mask = 0;
        } else if (sp->nodes) {
                if (!json_object_is_type(sp->nodes, json_type_object) || json_object_object_length(sp->nodes) == 0)
                        SET_FAIL(PROTO_ERR_INVALID_PARAMS, "%s: must be an object {\"<node>\": pages, ...}", PROTO_F_NODES);
                t->has_pages = false;
                t->node_mask = 0;
                json_object_object_foreach(sp->nodes, key, val) {
                        uint64_t n, np;
                        char name[64];
                        snprintf(name, sizeof name, "%s.%.*s", PROTO_F_NODES, rpc_quote_len(key, 32), key);
                        int r = get_pages_as(c, sp->pool, val, name, &np);
                        if (r < 0)
                                return r;
                        if (vmm_count_parse(key, &n) < 0)
                                SET_FAIL(PROTO_ERR_INVALID_PARAMS, "%s: key \"%.*s\" is not a node number", PROTO_F_NODES,
                                         rpc_quote_len(key, 32), key);
                        if (n >= HUGEVMD_MAX_NODES || !core_node_present(&c->d->core, n))
                                SET_FAIL(PROTO_ERR_UNSUPPORTED, "%s: node %" PRIu64 " does not exist on this machine", PROTO_F_NODES, n);
                        t->node_mask |= UINT64_C(1) << n;
                        t->node_pages[n] = np;
                }
        }
        if (sp->has_overcommit) {
                t->has_overcommit = true;
                t->overcommit = sp->overcommit;
        }
        return 0;
#undef SET_FAIL
}

/* What t replaces in the target in force: "" or "the whole-pool target of
 * 600 pages" / "the per-node targets". Said in pool.set's reply. */
static void replaced_kind(struct core *core, const struct pool_rt *p, const struct target *t, char *buf, size_t len)
{
        struct target now;
        core_effective_target(core, p->size_kb, &now);
        buf[0] = '\0';
        if (now.has_pages && !t->has_pages && t->node_mask)
                snprintf(buf, len, "the whole-pool target of %" PRIu64 " page%s", now.pages, now.pages == 1 ? "" : "s");
        else if (now.node_mask && t->has_pages)
                snprintf(buf, len, "the per-node targets");
}

static json_object *m_pool_set(struct call *c)
{
        struct core *core = &c->d->core;
        struct set_params sp = { 0 };
        struct target t;
        json_object *err;
        int r;

        if (!(sp.pool = get_pool(c, &err)))
                return err;
        if ((r = parse_set_params(c, &sp)) < 0 || (r = build_target(c, &sp, &t)) < 0)
                return fail(c, r);
        char replaced[96];
        replaced_kind(core, sp.pool, &t, replaced, sizeof replaced);
        json_object *o;
        if (sp.dry_run) {
                o = status_pool(core, sp.pool, &t);
                json_object_object_add(o, PROTO_F_REPLACED, json_object_new_string(replaced));
                return succeed(c, o);
        }
        r = core_set_target(core, sp.pool, &t, sp.persist);
        if (r == -ENOSPC)
                FAIL(c, PROTO_ERR_INTERNAL, "too many runtime targets");
        if (r < 0)
                FAIL(c, PROTO_ERR_STATE, "cannot save the state file in %s: %s; nothing changed", core_state_dir(core), strerror(-r));
        log_pool(LOG_INFO, sp.pool->label, sp.has_node ? (int)sp.node : -1, sp.pages, "New %s target%s: %s%s%s", sp.pool->label,
                 sp.persist ? "" : " (runtime only)", json_object_to_json_string(c->params),
                 *replaced ? "; replaces " : "", replaced);
        o = status_pool(core, sp.pool, NULL);
        json_object_object_add(o, PROTO_F_REPLACED, json_object_new_string(replaced));
        return succeed(c, o);
}

/* The optional {size, node} of wait, pool.revert and vmemmap.optimize:
 * *pool (NULL without size), *node (-1 without). NULL, or the error reply: a
 * node without a size, a size or a node this machine lacks. */
static json_object *get_pool_node(struct call *c, struct pool_rt **pool, int *node)
{
        json_object *err;
        uint64_t n;
        bool has_node;
        int r;
        *pool = NULL;
        *node = -1;
        if ((r = rpc_get_uint(c->params, PROTO_F_NODE, UINT32_MAX, &n, &has_node, c->msg, sizeof c->msg)) < 0)
                return fail(c, r);
        if (json_object_object_get_ex(c->params, PROTO_F_SIZE, NULL) && !(*pool = get_pool(c, &err)))
                return err;
        if (has_node && !*pool)
                FAIL(c, PROTO_ERR_INVALID_PARAMS, "%s: needs %s", PROTO_F_NODE, PROTO_F_SIZE);
        if (has_node && (n >= HUGEVMD_MAX_NODES || !core_node_present(&c->d->core, n)))
                FAIL(c, PROTO_ERR_UNSUPPORTED, "%s: node %" PRIu64 " does not exist on this machine", PROTO_F_NODE, n);
        if (has_node)
                *node = (int)n;
        return NULL;
}

static json_object *m_pool_revert(struct call *c)
{
        struct core *core = &c->d->core;
        struct pool_rt *pool;
        json_object *err;
        int node, r;
        if ((err = get_pool_node(c, &pool, &node)))
                return err;
        for (size_t i = 0; i < core->n_pools; i++) {
                struct pool_rt *p = &core->pools[i];
                if (pool && p != pool)
                        continue;
                r = core_revert(core, p, node);
                if (r == -EINVAL)
                        FAIL(c, PROTO_ERR_INVALID_PARAMS, "%s: %s is a whole-pool target, not one per node; revert the whole pool",
                             PROTO_F_NODE, config_pool(core->cfg, p->size_kb) && config_pool(core->cfg, p->size_kb)->has_pages
                                           ? "the configuration's target" : "the override");
                if (r < 0)
                        FAIL(c, PROTO_ERR_STATE, "cannot save the state file in %s: %s; %s not reverted", core_state_dir(core),
                             strerror(-r), p->label);
        }
        return succeed(c, pool ? status_pool(core, pool, NULL) : status_build(core));
}

static json_object *m_vmemmap_get(struct call *c)
{
        reconcile_refresh_shared(&c->d->core);
        return succeed(c, status_vmemmap(&c->d->core));
}

static json_object *m_vmemmap_set(struct call *c)
{
        bool enabled, present;
        int r;
        if ((r = rpc_get_bool(c->params, PROTO_F_ENABLED, &enabled, &present, c->msg, sizeof c->msg)) < 0)
                return fail(c, r);
        if (!present)
                FAIL(c, PROTO_ERR_INVALID_PARAMS, "%s: required (true or false)", PROTO_F_ENABLED);
        r = core_hvo_set(&c->d->core, enabled);
        if (r == -EOPNOTSUPP)
                FAIL(c, PROTO_ERR_UNSUPPORTED, "HVO is not supported by this kernel (no /proc/sys/vm/hugetlb_optimize_vmemmap)");
        if (r < 0) {
                c->data = json_object_new_object();
                json_object_object_add(c->data, PROTO_F_ERRNO, json_object_new_int(-r));
                json_object_object_add(c->data, PROTO_F_PATH, json_object_new_string("/proc/sys/vm/hugetlb_optimize_vmemmap"));
                FAIL(c, PROTO_ERR_KERNEL, "the kernel refused to turn HVO %s: %s", enabled ? "on" : "off", strerror(-r));
        }
        return succeed(c, status_vmemmap(&c->d->core));
}

static json_object *m_vmemmap_optimize(struct call *c)
{
        struct core *core = &c->d->core;
        struct wait_spec spec = { .node = -1, .reoptimize = true };
        json_object *err;
        bool wait = false, has_wait;
        const char *why = "";
        int r;
        if ((r = rpc_get_bool(c->params, PROTO_F_WAIT, &wait, &has_wait, c->msg, sizeof c->msg)) < 0 ||
            (r = rpc_get_uint(c->params, PROTO_F_TIMEOUT_MS, WAIT_MAX_TIMEOUT_MS, &spec.timeout_ms, &spec.has_timeout,
                              c->msg, sizeof c->msg)) < 0)
                return fail(c, r);
        if ((err = get_pool_node(c, &spec.pool, &spec.node)))
                return err;
        if (spec.has_timeout && !wait)
                FAIL(c, PROTO_ERR_INVALID_PARAMS, "%s: needs %s", PROTO_F_TIMEOUT_MS, PROTO_F_WAIT);
        size_t asked = 0;
        for (size_t i = 0; i < core->n_pools; i++) {
                struct pool_rt *p = &core->pools[i];
                if ((spec.pool && p != spec.pool) || (!spec.pool && !p->hvo.eligible))
                        continue;
                r = core_reoptimize(core, p, spec.node, &why);
                if (r < 0)
                        FAIL(c, PROTO_ERR_UNSUPPORTED, "%s: %s", p->label, why);
                asked++;
        }
        if (asked == 0)
                FAIL(c, PROTO_ERR_UNSUPPORTED, "no hugepage size here that HVO applies to");
        if (wait)
                return waits_start(c->d, c->client, c->id, !c->notification, &spec);
        return succeed(c, spec.pool ? status_pool(core, spec.pool, NULL) : status_build(core));
}

static json_object *m_wait(struct call *c)
{
        struct wait_spec spec = { .node = -1 };
        json_object *err;
        bool has_fail_fast;
        int r;
        if ((r = rpc_get_uint(c->params, PROTO_F_TIMEOUT_MS, WAIT_MAX_TIMEOUT_MS, &spec.timeout_ms, &spec.has_timeout,
                              c->msg, sizeof c->msg)) < 0 ||
            (r = rpc_get_bool(c->params, PROTO_F_FAIL_FAST, &spec.fail_fast, &has_fail_fast, c->msg, sizeof c->msg)) < 0)
                return fail(c, r);
        if ((err = get_pool_node(c, &spec.pool, &spec.node)))
                return err;
        return waits_start(c->d, c->client, c->id, !c->notification, &spec);
}

static json_object *m_subscribe(struct call *c)
{
        /* A request with no connection (tests, fuzzers) has nowhere to stream to. */
        if (!c->client)
                FAIL(c, PROTO_ERR_INTERNAL, "subscribe needs a connection");
        server_client_set_subscribed(c->client);
        json_object *o = json_object_new_object();
        json_object_object_add(o, PROTO_F_SUBSCRIBED, json_object_new_boolean(true));
        return succeed(c, o);
}

static json_object *m_reload(struct call *c)
{
        struct config_errors errors = { 0 };
        if (core_reload(&c->d->core, &errors) < 0) {
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
        json_object *o = json_object_new_object(), *list = json_object_new_array();
        char overrides[HUGEVMD_MAX_POOLS][192];
        size_t n = core_overrides_describe(&c->d->core, overrides, HUGEVMD_MAX_POOLS);
        for (size_t i = 0; i < n; i++)
                json_object_array_add(list, json_object_new_string(overrides[i]));
        json_object_object_add(o, PROTO_F_RELOADED, json_object_new_boolean(true));
        json_object_object_add(o, PROTO_F_OVERRIDES, list);
        return succeed(c, o);
}

static json_object *m_metrics(struct call *c)
{
        if (!c->d->metrics)
                FAIL(c, PROTO_ERR_INTERNAL, "metrics are not available");
        reconcile_refresh_shared(&c->d->core);
        json_object *status = status_build(&c->d->core);
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
        json_object *o = json_object_new_object();
        json_object_object_add(o, PROTO_F_VERSION, json_object_new_string(PACKAGE_VERSION));
        json_object_object_add(o, PROTO_F_PROTOCOL, json_object_new_int(PROTO_VERSION));
        return succeed(c, o);
}

/* The handlers, indexed by enum proto_method: the list in proto.h names them. */
#define HANDLER(id, c_name, name, role, params) [PROTO_METHOD_##id] = m_##c_name,
static json_object *(*const handlers[PROTO_METHOD_COUNT])(struct call *c) = { PROTO_METHODS(HANDLER) };
#undef HANDLER

json_object *rpc_handle_line(struct daemon *d, struct client *client, enum proto_role role, const char *line, size_t len)
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
        int index = proto_method_find(c.method);
        const struct proto_method_info *m = index < 0 ? NULL : &proto_methods[index];
        c.index = index;
        if (!m) {
                snprintf(c.msg, sizeof c.msg, "unknown method \"%.*s\"", rpc_quote_len(c.method, 64), c.method);
                c.method = NULL;
                reply = fail(&c, PROTO_ERR_METHOD_NOT_FOUND);
        } else if ((int)role < (int)m->role) {
                const struct config *cfg = d->core.cfg;
                snprintf(c.msg, sizeof c.msg, "permission denied: %s needs %s%s", m->name,
                         m->role == PROTO_ROLE_ADMIN ? "root or the AdminGroup" : "root, the SocketGroup or the AdminGroup",
                         cfg->has_socket_gid || cfg->has_admin_gid ? ""
                         : " (neither SocketGroup= nor AdminGroup= is set, and groups hugevm and hugevm-admin do not "
                           "exist here: only root is allowed; see hugevmd.conf(5))");
                reply = fail(&c, PROTO_ERR_PERMISSION);
        } else if (rpc_check_keys(c.params, m->params, c.msg, sizeof c.msg))
                reply = fail(&c, PROTO_ERR_INVALID_PARAMS);
        else
                reply = handlers[index](&c);
        json_object_put(c.data);
        if (c.notification) {
                json_object_put(reply);
                reply = NULL;
        }
        json_object_put(req);
        return reply;
}
