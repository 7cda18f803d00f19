/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness: hugevmd's request parser and dispatcher
 * (daemon/rpc.c rpc_handle_line) with the real daemon behind it: config,
 * reconciler (its resize jobs run on libuv's threadpool and write the fake
 * root), status, state file, ledger, metrics, all on a fake machine
 * (x86-64 6.18, hstates 2048kB and 1048576kB, nodes 0 and 1, 4 GiB).
 *
 * Input: request lines separated by '\n', as a client sends them (at most
 * MAX_LINES). Each input gets a fresh daemon (set up as main.c does) and a
 * freshly reset fake root, so a reproducer replays alone.
 *
 * What stands in for what is not fuzzed: the socket layer (server.c) is
 * replaced by a recording client (server_send, server_broadcast,
 * server_client_hold, server_client_set_subscribed below), and main.c's
 * shutdown (daemon_stop, daemon_stop_continue) by the harness's own teardown.
 *
 * Properties (docs/DESIGN.md "Control protocol", proto.h):
 *   - every reply and notification is one compact JSON-RPC 2.0 line that
 *     parses back to itself: "jsonrpc":"2.0", an id, exactly one of result
 *     or error, an error has an integer code from proto.h and a string message;
 *   - a reply's id is the request's id (null when the line was not a request
 *     or the id was not a string or integer);
 *   - every request with an id gets exactly one reply: now, or later for a
 *     parked wait (counted at the end: direct + later replies + still parked);
 *   - a notification (no id) gets no reply, except the parse/invalid-request
 *     errors that make the id unknowable (answered with id null);
 *   - a peer without a role (ROLE_NONE) is refused everything but version;
 *   - a pool.set that succeeded with persist (not dry_run) is in the state
 *     file, read back with state_load, exactly as the daemon now holds it;
 *     the state file is never unreadable;
 *   - at teardown the loop closes cleanly (no handle left behind) and ASan
 *     sees no leak.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "fuzz-root.h"
#include "log.h"
#include "metrics.h"
#include "proto.h"
#include "state.h"

#define MAX_LINES 16

#define CHECK(cond, ...) do { if (!(cond)) { \
        fprintf(stderr, "fuzz-rpc: property violated at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
        fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } } while (0)

static char root[PATH_MAX], conf_path[PATH_MAX], state_dir[PATH_MAX];

/* ---- the recording client: stands in for server.c ----------------------- */

struct client {
        int holds;            /* parked waits holding it open */
        bool subscribed;
        size_t late_replies;  /* replies sent through server_send (waits) */
        size_t notifications;
};

static struct client the_client;

static void check_line(json_object *o, const char *what);

void server_send(struct client *c, json_object *obj)
{
        CHECK(c == &the_client, "server_send to an unknown client %p", (void *)c);
        check_line(obj, "late reply");
        CHECK(json_object_object_get_ex(obj, PROTO_F_ID, NULL), "server_send of a message without id");
        c->late_replies++;
        json_object_put(obj);
}

void server_broadcast(struct daemon *d, json_object *obj)
{
        json_object *v;

        (void)d;
        check_line(obj, "notification");
        CHECK(!json_object_object_get_ex(obj, PROTO_F_ID, NULL), "notification with an id");
        CHECK(json_object_object_get_ex(obj, PROTO_F_METHOD, &v) && json_object_is_type(v, json_type_string),
              "notification without method");
        the_client.notifications++;
        json_object_put(obj);
}

void server_client_set_subscribed(struct client *c)
{
        CHECK(c == &the_client, "subscribe of an unknown client");
        c->subscribed = true;
}

void server_client_hold(struct client *c, int delta)
{
        CHECK(c == &the_client, "hold of an unknown client");
        c->holds += delta;
        CHECK(c->holds >= 0, "client released more often than held");
}

int server_start(struct daemon *d, const char *socket_path)
{
        (void)d;
        (void)socket_path;
        return -EOPNOTSUPP;
}

void server_stop(struct daemon *d)
{
        (void)d;
}

/* main.c's shutdown: the harness tears the daemon down itself (teardown()). */
void daemon_stop(struct daemon *d)
{
        d->stopping = true;
}

void daemon_stop_continue(struct daemon *d)
{
        (void)d;
}

/* ---- the fake machine ---------------------------------------------------- */

static void die(const char *what)
{
        perror(what);
        abort();
}

static void put(const char *rel, const char *content)
{
        char path[PATH_MAX];
        int fd;

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        for (char *p = path + strlen(root) + 1; *p; p++)
                if (*p == '/') {
                        *p = '\0';
                        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                                die(path);
                        *p = '/';
                }
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content) || close(fd) < 0)
                die(path);
}

#define HP "sys/kernel/mm/hugepages/hugepages-"
#define NODE "sys/devices/system/node/node"

/* What a resize, HVO switch or state write may have changed: back to the start. */
static void reset_machine(void)
{
        static const char *const sizes[] = { "2048kB", "1048576kB" };
        char rel[256], path[PATH_MAX];

        for (size_t i = 0; i < 2; i++) {
                snprintf(rel, sizeof(rel), HP "%s/nr_hugepages", sizes[i]);
                put(rel, i == 0 ? "4\n" : "0\n");
                snprintf(rel, sizeof(rel), HP "%s/free_hugepages", sizes[i]);
                put(rel, i == 0 ? "4\n" : "0\n");
                snprintf(rel, sizeof(rel), HP "%s/nr_overcommit_hugepages", sizes[i]);
                put(rel, "0\n");
                for (unsigned node = 0; node < 2; node++) {
                        snprintf(rel, sizeof(rel), NODE "%u/hugepages/hugepages-%s/nr_hugepages", node, sizes[i]);
                        put(rel, i == 0 && node == 0 ? "4\n" : "0\n");
                }
        }
        put("proc/sys/vm/hugetlb_optimize_vmemmap", "0\n");
        snprintf(path, sizeof(path), "%s/state.json", state_dir);
        (void)unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        static const char *const sizes[] = { "2048kB", "1048576kB" };
        char rel[256], text[512];

        (void)argc;
        (void)argv;
        snprintf(root, sizeof(root), "%s", fuzz_root_new("fuzz-rpc"));
        for (size_t i = 0; i < 2; i++) {
                snprintf(rel, sizeof(rel), HP "%s/resv_hugepages", sizes[i]);
                put(rel, "0\n");
                snprintf(rel, sizeof(rel), HP "%s/surplus_hugepages", sizes[i]);
                put(rel, "0\n");
                for (unsigned node = 0; node < 2; node++) {
                        snprintf(rel, sizeof(rel), NODE "%u/hugepages/hugepages-%s/free_hugepages", node, sizes[i]);
                        put(rel, "0\n");
                        snprintf(rel, sizeof(rel), NODE "%u/hugepages/hugepages-%s/surplus_hugepages", node, sizes[i]);
                        put(rel, "0\n");
                }
        }
        put(NODE "0/compact", "");
        put(NODE "1/compact", "");
        put("proc/sys/vm/compact_memory", "");
        put("proc/sys/kernel/osrelease", "6.18.0-fuzz\n");
        put("proc/sys/kernel/arch", "x86_64\n");
        put("proc/cmdline", "root=/dev/vda ro quiet\n");
        put("proc/meminfo", "MemTotal:        4194304 kB\nMemFree:         4000000 kB\n");
        put("proc/vmstat", "nr_free_pages 1000\nnr_memmap_pages 100\nnr_memmap_boot_pages 16284\n");
        put("sys/devices/system/memory/block_size_bytes", "8000000\n");
        for (unsigned b = 0; b < 32; b++) {
                snprintf(rel, sizeof(rel), "sys/devices/system/memory/memory%u/online", b);
                put(rel, "1\n");
        }
        snprintf(state_dir, sizeof(state_dir), "%s/state", root);
        if (mkdir(state_dir, 0755) < 0)
                die(state_dir);
        snprintf(conf_path, sizeof(conf_path), "%s/etc/hugevmd/hugevmd.conf", root);
        snprintf(text, sizeof(text),
                 "[Daemon]\nHVO=no\nRefreshSec=10\nStateDirectory=%s\nMetricsListen=no\n\n[Pool 2M]\nPages=4\n", state_dir);
        put("etc/hugevmd/hugevmd.conf", text);
        log_set_max_level(LOG_CRIT); /* the daemon's warnings about the fuzz are expected */
        return 0;
}

/* ---- one daemon per input, set up as main.c does ------------------------- */

static void setup(struct daemon *d, uv_loop_t *loop)
{
        struct config_errors errors = { 0 };

        memset(d, 0, sizeof(*d));
        d->root = root;
        d->config_path = conf_path;
        d->state_dir_override = state_dir;
        if (vmm_ctx_new(root, NULL, &d->ctx) < 0 || vmm_ctx_new(root, NULL, &d->worker_ctx) < 0)
                abort();
        if (config_load(conf_path, false, d->ctx, &d->cfg, &errors) < 0) {
                for (size_t i = 0; i < errors.n; i++)
                        fprintf(stderr, "%s\n", errors.lines[i]);
                abort();
        }
        if (uv_loop_init(loop) < 0)
                abort();
        d->loop = loop;
        reconcile_init(d);
        if (metrics_new(&d->metrics) < 0)
                abort();
        reconcile_refresh(d);
}

static size_t count_waits(const struct daemon *d)
{
        size_t n = 0;

        for (const struct pending_wait *w = d->waits; w; w = w->next)
                n++;
        return n;
}

static void teardown(struct daemon *d)
{
        int r;

        /* Let a running resize chunk finish; start no new one. */
        d->stopping = true;
        while (d->job_running)
                uv_run(d->loop, UV_RUN_ONCE);
        rpc_waits_free(d);
        uv_close((uv_handle_t *)&d->refresh_timer, NULL);
        uv_close((uv_handle_t *)&d->retry_timer, NULL);
        uv_run(d->loop, UV_RUN_DEFAULT);
        r = uv_loop_close(d->loop);
        CHECK(r == 0, "uv_loop_close: %s (a handle was left open)", uv_strerror(r));
        metrics_free(d->metrics);
        config_free(d->cfg);
        free(d->nodes);
        vmm_ctx_free(d->ctx);
        vmm_ctx_free(d->worker_ctx);
}

/* ---- message checks ------------------------------------------------------ */

static bool known_code(int64_t code)
{
        static const int codes[] = {
                PROTO_ERR_PARSE, PROTO_ERR_INVALID_REQUEST, PROTO_ERR_METHOD_NOT_FOUND, PROTO_ERR_INVALID_PARAMS,
                PROTO_ERR_INTERNAL, PROTO_ERR_PERMISSION, PROTO_ERR_KERNEL, PROTO_ERR_UNSUPPORTED,
                PROTO_ERR_SHORTFALL, PROTO_ERR_BUSY, PROTO_ERR_LIMIT, PROTO_ERR_TIMEOUT, PROTO_ERR_CONFIG,
                PROTO_ERR_STATE,
        };
        for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
                if (code == codes[i])
                        return true;
        return false;
}

/* One compact line of JSON-RPC 2.0 that parses back to the same object. */
static void check_line(json_object *o, const char *what)
{
        json_object *v, *back;
        const char *text;
        size_t len;

        CHECK(o && json_object_is_type(o, json_type_object), "%s is not an object", what);
        text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
        CHECK(text && strlen(text) == len && !memchr(text, '\n', len), "%s is not one line", what);
        CHECK(len < PROTO_MAX_OUTBUF, "%s of %zu bytes", what, len);
        back = json_tokener_parse(text);
        CHECK(back && json_object_equal(back, o), "%s does not parse back: %.300s", what, text);
        json_object_put(back);
        CHECK(json_object_object_get_ex(o, PROTO_F_JSONRPC, &v) && json_object_is_type(v, json_type_string) &&
              strcmp(json_object_get_string(v), "2.0") == 0, "%s without \"jsonrpc\":\"2.0\": %.300s", what, text);
        if (!json_object_object_get_ex(o, PROTO_F_ID, NULL))
                return; /* a notification: checked by the caller */
        bool has_result = json_object_object_get_ex(o, PROTO_F_RESULT, NULL);
        bool has_error = json_object_object_get_ex(o, PROTO_F_ERROR, &v);
        CHECK(has_result != has_error, "%s needs exactly one of result and error: %.300s", what, text);
        if (has_error) {
                json_object *code, *msg;

                CHECK(json_object_is_type(v, json_type_object) && json_object_object_get_ex(v, PROTO_F_CODE, &code) &&
                      json_object_is_type(code, json_type_int) && known_code(json_object_get_int64(code)) &&
                      json_object_object_get_ex(v, PROTO_F_MESSAGE, &msg) && json_object_is_type(msg, json_type_string) &&
                      json_object_get_string_len(msg) > 0,
                      "%s has a malformed error: %.300s", what, text);
        }
}

static int error_code(json_object *reply)
{
        json_object *e, *code;

        if (!json_object_object_get_ex(reply, PROTO_F_ERROR, &e) || !json_object_object_get_ex(e, PROTO_F_CODE, &code))
                return 0;
        return json_object_get_int(code);
}

/* What the line is, read independently: a request (with id), a notification
 * (an object without id), or not a JSON object at all (NULL). */
struct expect {
        json_object *req;   /* owned */
        bool has_id;
        json_object *id;    /* what the reply's id must equal (NULL: null) */
        const char *method; /* NULL if none or not a string */
};

static void expect_of(const char *line, size_t len, struct expect *e)
{
        struct json_tokener *tok = json_tokener_new_ex(PROTO_MAX_DEPTH);
        json_object *v;

        memset(e, 0, sizeof(*e));
        if (!tok)
                abort();
        e->req = json_tokener_parse_ex(tok, line, (int)len);
        size_t end = json_tokener_get_parse_end(tok);
        bool ok = e->req && json_tokener_get_error(tok) == json_tokener_success;
        json_tokener_free(tok);
        for (; ok && end < len; end++)
                ok = line[end] == ' ' || line[end] == '\t' || line[end] == '\r';
        if (!ok || !json_object_is_type(e->req, json_type_object)) {
                json_object_put(e->req);
                e->req = NULL;
                return;
        }
        e->has_id = json_object_object_get_ex(e->req, PROTO_F_ID, &v);
        if (e->has_id && v && (json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int)))
                e->id = v;
        if (json_object_object_get_ex(e->req, PROTO_F_METHOD, &v) && json_object_is_type(v, json_type_string))
                e->method = json_object_get_string(v);
}

static bool param_is(json_object *req, const char *key, bool value)
{
        json_object *params, *v;

        return json_object_object_get_ex(req, PROTO_F_PARAMS, &params) && params &&
               json_object_object_get_ex(params, key, &v) && json_object_is_type(v, json_type_boolean) &&
               json_object_get_boolean(v) == value;
}

static bool same_target(const struct target *a, const struct target *b)
{
        if (a->size_kb != b->size_kb || a->has_pages != b->has_pages || (a->has_pages && a->pages != b->pages) ||
            a->node_mask != b->node_mask || a->has_overcommit != b->has_overcommit ||
            (a->has_overcommit && a->overcommit != b->overcommit))
                return false;
        for (unsigned n = 0; n < HUGEVMD_MAX_NODES; n++)
                if ((a->node_mask & (UINT64_C(1) << n)) && a->node_pages[n] != b->node_pages[n])
                        return false;
        return true;
}

/* The state file: readable (or absent); after a persisted pool.set it holds
 * the daemon's runtime target for that size. */
static void check_state(struct daemon *d, const struct expect *e, json_object *reply, const char *line)
{
        struct target targets[HUGEVMD_MAX_POOLS];
        char err[512] = "";
        size_t n = 0;
        int r = state_load(state_dir, targets, HUGEVMD_MAX_POOLS, &n, err, sizeof(err));
        json_object *result, *v;

        CHECK(r == 0 || r == -ENOENT, "state file unreadable (%d: %s) after %.200s", r, err, line);
        if (!reply || !e->method || strcmp(e->method, PROTO_M_POOL_SET) != 0 ||
            !json_object_object_get_ex(reply, PROTO_F_RESULT, &result) ||
            param_is(e->req, PROTO_F_PERSIST, false) || param_is(e->req, PROTO_F_DRY_RUN, true))
                return;
        CHECK(r == 0, "a persisted pool.set left no state file: %.200s", line);
        CHECK(json_object_object_get_ex(result, PROTO_F_SIZE_BYTES, &v), "pool.set result without %s", PROTO_F_SIZE_BYTES);
        uint64_t size_kb = json_object_get_uint64(v) / 1024;
        const struct target *rt = daemon_runtime_target(d, size_kb, false);
        CHECK(rt, "a persisted pool.set left no runtime target: %.200s", line);
        size_t i;
        for (i = 0; i < n && targets[i].size_kb != size_kb; i++)
                ;
        CHECK(i < n, "the state file has no target for %llukB after %.200s", (unsigned long long)size_kb, line);
        CHECK(same_target(&targets[i], rt), "the state file's %llukB target differs from the daemon's after %.200s",
              (unsigned long long)size_kb, line);
}

static void check_reply_id(json_object *reply, const struct expect *e, const char *line)
{
        json_object *id = NULL;

        CHECK(json_object_object_get_ex(reply, PROTO_F_ID, &id), "reply without id to %.200s", line);
        CHECK(e->id ? id && json_object_equal(id, e->id) : id == NULL, "reply id %s, request %.200s",
              json_object_to_json_string(id), line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct daemon d;
        uv_loop_t loop;
        size_t requests = 0, direct = 0, start = 0, lines = 0;

        reset_machine();
        memset(&the_client, 0, sizeof(the_client));
        setup(&d, &loop);

        for (size_t pos = 0; pos <= size && lines < MAX_LINES; pos++) {
                if (pos < size && data[pos] != '\n')
                        continue;
                const char *line = (const char *)data + start;
                size_t len = pos - start;
                struct expect e;
                json_object *reply;
                int holds = the_client.holds;

                start = pos + 1;
                lines++;
                expect_of(line, len, &e);

                /* A peer with no role: version only. */
                reply = rpc_handle_line(&d, &the_client, ROLE_NONE, line, len);
                if (reply) {
                        check_line(reply, "reply");
                        if (!json_object_object_get_ex(reply, PROTO_F_ERROR, NULL))
                                CHECK(e.method && strcmp(e.method, PROTO_M_VERSION) == 0,
                                      "ROLE_NONE got a result for %.200s", line);
                }
                json_object_put(reply);
                CHECK(the_client.holds == holds, "ROLE_NONE parked a request");

                reply = rpc_handle_line(&d, &the_client, ROLE_ADMIN, line, len);
                if (getenv("FUZZ_VERBOSE"))
                        fprintf(stderr, "> %.*s\n< %s\n", (int)len, line,
                                reply ? json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN) : "(none)");
                if (!e.req) {
                        CHECK(reply, "no reply to a line that is not a JSON object: %.200s", line);
                        check_line(reply, "reply");
                        check_reply_id(reply, &e, line);
                        CHECK(error_code(reply) == PROTO_ERR_PARSE || error_code(reply) == PROTO_ERR_INVALID_REQUEST,
                              "not an object but code %d: %.200s", error_code(reply), line);
                } else if (!e.has_id) {
                        if (reply) {
                                check_line(reply, "reply");
                                check_reply_id(reply, &e, line);
                                CHECK(error_code(reply) == PROTO_ERR_PARSE || error_code(reply) == PROTO_ERR_INVALID_REQUEST,
                                      "a notification was answered (code %d): %.200s", error_code(reply), line);
                        }
                } else {
                        requests++;
                        if (reply) {
                                check_line(reply, "reply");
                                check_reply_id(reply, &e, line);
                                direct++;
                                CHECK(the_client.holds == holds, "answered and parked: %.200s", line);
                        } else
                                CHECK(the_client.holds == holds + 1, "a request was neither answered nor parked: %.200s", line);
                }
                check_state(&d, &e, reply, line);
                json_object_put(reply);
                json_object_put(e.req);
                /* The daemon works between requests: finished jobs, due timers. */
                uv_run(&loop, UV_RUN_NOWAIT);
        }
        /* Let the last job finish (it may answer waits) before counting. */
        d.stopping = true;
        while (d.job_running)
                uv_run(&loop, UV_RUN_ONCE);
        size_t parked = count_waits(&d);
        CHECK(requests == direct + the_client.late_replies + parked,
              "%zu requests, %zu replies now, %zu later, %zu still waiting", requests, direct,
              the_client.late_replies, parked);
        CHECK((size_t)the_client.holds == parked, "%d holds for %zu parked waits", the_client.holds, parked);
        teardown(&d);
        return 0;
}
