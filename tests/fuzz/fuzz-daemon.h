/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the daemon harnesses (fuzz-rpc, fuzz-server) share: a fake machine
 * (x86-64 6.18, hstates 2048kB and 1048576kB, nodes 0 and 1, 4 GiB, a config
 * managing the 2M pool), a fresh daemon per input set up as main.c does and
 * torn down again, and the checks every JSON-RPC message must pass.
 * Include once, from the harness, after defining FUZZ_NAME.
 */
#ifndef HUGEVM_FUZZ_DAEMON_H
#define HUGEVM_FUZZ_DAEMON_H

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

#define CHECK(cond, ...) do { if (!(cond)) { \
        fprintf(stderr, FUZZ_NAME ": property violated at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
        fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } } while (0)

static char root[PATH_MAX], conf_path[PATH_MAX], state_dir[PATH_MAX];

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

/* The fixed part of the machine and the config; once per process. */
static void fuzz_daemon_init(void)
{
        static const char *const sizes[] = { "2048kB", "1048576kB" };
        char rel[256], text[512];

        snprintf(root, sizeof(root), "%s", fuzz_root_new(FUZZ_NAME));
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

static __attribute__((unused)) size_t count_waits(const struct daemon *d)
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
        reconcile_close(d);
        uv_run(d->loop, UV_RUN_DEFAULT);
        r = uv_loop_close(d->loop);
        CHECK(r == 0, "uv_loop_close: %s (a handle was left open)", uv_strerror(r));
        metrics_free(d->metrics);
        config_free(d->cfg);
        host_free(d);
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

static __attribute__((unused)) int error_code(json_object *reply)
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
        if (!e->req && json_tokener_get_error(tok) == json_tokener_continue) {
                /* The end of the line ends the text (a bare number, a // comment). */
                e->req = json_tokener_parse_ex(tok, "", 1);
                end = len;
        }
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

#endif
