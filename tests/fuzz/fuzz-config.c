/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness: hugevmd's configuration loader (daemon/core/conf.c,
 * config_load) on files written from the fuzz input, validated against a fake
 * machine (hstates 2048kB and 1048576kB, nodes 0 and 1).
 *
 * Input: pieces separated by the byte 0x1e: the main file hugevmd.conf, then
 * up to three drop-ins hugevmd.conf.d/10-a.conf, 20-b.conf, 30-c.conf.
 *
 * Properties (conf.h's contract):
 *   - 0 and no new error lines, or -EINVAL with at least one, each starting
 *     with the name of a file that was read and ':' (file:line: reason), and
 *     each one line (no newline to forge log lines with);
 *   - a loaded config only holds what the machine has and the rules allow:
 *     pool sizes that exist, nodes that exist, whole-pool and per-node
 *     targets never both, RefreshSec 1..86400, absolute paths, a Socket path
 *     that fits sun_path, MetricsListen that config_parse_listen accepts;
 *   - loading is deterministic (a second load gives the same config);
 *   - appending "[Daemon] RefreshSec=77" to the last file changes exactly
 *     refresh_sec of a valid config, and never makes an invalid one valid.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz-root.h"
#include "vmemmap.h"

#define SEP 0x1e
#define N_PIECES 4

#define CHECK(cond, ...) do { if (!(cond)) { \
        fprintf(stderr, "fuzz-config: property violated at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
        fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } } while (0)

static char root[PATH_MAX], conf_path[PATH_MAX], dropin_dir[PATH_MAX];
static const char *const dropin_names[N_PIECES - 1] = { "10-a.conf", "20-b.conf", "30-c.conf" };
static vmm_ctx *ctx;

static void die(const char *what)
{
        perror(what);
        abort();
}

static void make(const char *rel, bool dir, const char *content)
{
        char path[PATH_MAX];

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        if (dir) {
                if (mkdir(path, 0755) < 0 && errno != EEXIST)
                        die(path);
                return;
        }
        FILE *f = fopen(path, "we");
        if (!f || fputs(content, f) < 0 || fclose(f) != 0)
                die(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        static const char *const dirs[] = {
                "sys", "sys/kernel", "sys/kernel/mm", "sys/kernel/mm/hugepages",
                "sys/kernel/mm/hugepages/hugepages-2048kB", "sys/kernel/mm/hugepages/hugepages-1048576kB",
                "sys/devices", "sys/devices/system", "sys/devices/system/node",
                "sys/devices/system/node/node0", "sys/devices/system/node/node1",
                "etc", "etc/hugevmd", "etc/hugevmd/hugevmd.conf.d",
        };

        (void)argc;
        (void)argv;
        snprintf(root, sizeof(root), "%s", fuzz_root_new("fuzz-config"));
        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
                make(dirs[i], true, NULL);
        snprintf(conf_path, sizeof(conf_path), "%s/etc/hugevmd/hugevmd.conf", root);
        snprintf(dropin_dir, sizeof(dropin_dir), "%s/etc/hugevmd/hugevmd.conf.d", root);
        if (vmm_ctx_new(root, NULL, &ctx) < 0)
                abort();
        return 0;
}

static void put(const char *path, const uint8_t *data, size_t len, const char *suffix)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        if (fd < 0)
                die(path);
        if ((len && write(fd, data, len) != (ssize_t)len) ||
            (suffix && write(fd, suffix, strlen(suffix)) != (ssize_t)strlen(suffix)))
                die(path);
        close(fd);
}

struct pieces {
        const uint8_t *data[N_PIECES];
        size_t len[N_PIECES];
        size_t n;
};

/* Write the files; the suffix goes at the end of the last one. */
static void write_files(const struct pieces *p, const char *suffix)
{
        char path[PATH_MAX];

        put(conf_path, p->data[0], p->len[0], p->n == 1 ? suffix : NULL);
        for (size_t i = 1; i < N_PIECES; i++) {
                snprintf(path, sizeof(path), "%s/%s", dropin_dir, dropin_names[i - 1]);
                if (i < p->n)
                        put(path, p->data[i], p->len[i], i == p->n - 1 ? suffix : NULL);
                else if (unlink(path) < 0 && errno != ENOENT)
                        die(path);
        }
}

static int load(struct config **ret, struct config_errors *errors)
{
        size_t before = errors->n;
        int r = config_load(conf_path, false, ctx, ret, errors);

        CHECK(r == 0 || r == -EINVAL, "config_load gave %d", r);
        if (r == 0) {
                CHECK(errors->n == before, "success with %zu error lines", errors->n - before);
        } else {
                CHECK(errors->n > before, "-EINVAL without an error line");
                for (size_t i = before; i < errors->n; i++) {
                        const char *e = errors->lines[i];
                        bool named = strncmp(e, conf_path, strlen(conf_path)) == 0 && e[strlen(conf_path)] == ':';

                        for (size_t k = 0; !named && k < N_PIECES - 1; k++) {
                                size_t dl = strlen(dropin_dir);

                                named = strncmp(e, dropin_dir, dl) == 0 && e[dl] == '/' &&
                                        strncmp(e + dl + 1, dropin_names[k], strlen(dropin_names[k])) == 0 &&
                                        e[dl + 1 + strlen(dropin_names[k])] == ':';
                        }
                        CHECK(named, "error line without file: \"%s\"", e);
                        /* One line each: a newline would forge log lines. */
                        CHECK(!strchr(e, '\n'), "error line with a newline: \"%s\"", e);
                }
        }
        return r;
}

static bool str_eq(const char *a, const char *b)
{
        return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void check_valid(const struct config *c)
{
        char addr[64];
        uint16_t port;

        CHECK(c->n_pools <= HUGEVMD_MAX_POOLS, "%zu pools", c->n_pools);
        for (size_t i = 0; i < c->n_pools; i++) {
                const struct target *t = &c->pools[i];

                CHECK(t->size_kb == 2048 || t->size_kb == 1048576, "pool of %lukB", (unsigned long)t->size_kb);
                for (size_t k = 0; k < i; k++)
                        CHECK(c->pools[k].size_kb != t->size_kb, "two pools of %lukB", (unsigned long)t->size_kb);
                CHECK(!(t->has_pages && t->node_mask), "whole-pool and per-node targets together");
                CHECK((t->node_mask & ~UINT64_C(3)) == 0, "node mask %#llx names absent nodes",
                      (unsigned long long)t->node_mask);
                CHECK(config_pool(c, t->size_kb) == t, "config_pool does not find its pool");
        }
        CHECK(c->refresh_sec >= 1 && c->refresh_sec <= 86400, "RefreshSec %u", c->refresh_sec);
        CHECK(c->socket_path && c->socket_path[0] == '/' && strlen(c->socket_path) < sizeof(((struct sockaddr_un *)0)->sun_path),
              "Socket %s", c->socket_path ? c->socket_path : "(null)");
        CHECK(c->state_dir && c->state_dir[0] == '/', "StateDirectory %s", c->state_dir ? c->state_dir : "(null)");
        CHECK(!c->metrics_textfile || c->metrics_textfile[0] == '/', "MetricsTextfile %s", c->metrics_textfile);
        CHECK(!c->metrics_listen || config_parse_listen(c->metrics_listen, addr, sizeof(addr), &port) == 0,
              "MetricsListen %s not parseable", c->metrics_listen);
        CHECK(c->has_socket_gid == (c->socket_group != NULL) && c->has_admin_gid == (c->admin_group != NULL),
              "group names and gids disagree");
        CHECK(c->files && c->files[0] && strcmp(c->files[0], conf_path) == 0, "main file not listed first");
}

/* Everything but refresh_sec equal (and refresh_sec too unless skip_refresh). */
static void check_same(const struct config *a, const struct config *b, bool skip_refresh, const char *why)
{
        CHECK(a->hvo == b->hvo && a->shrink_on_exit == b->shrink_on_exit, "%s: booleans differ", why);
        CHECK(skip_refresh || a->refresh_sec == b->refresh_sec, "%s: RefreshSec differs", why);
        CHECK(str_eq(a->socket_path, b->socket_path) && str_eq(a->socket_group, b->socket_group) &&
              str_eq(a->admin_group, b->admin_group) && str_eq(a->state_dir, b->state_dir) &&
              str_eq(a->metrics_listen, b->metrics_listen) && str_eq(a->metrics_textfile, b->metrics_textfile),
              "%s: strings differ", why);
        CHECK(a->has_socket_gid == b->has_socket_gid && a->has_admin_gid == b->has_admin_gid &&
              (!a->has_socket_gid || a->socket_gid == b->socket_gid) && (!a->has_admin_gid || a->admin_gid == b->admin_gid),
              "%s: groups differ", why);
        CHECK(a->n_pools == b->n_pools && memcmp(a->pools, b->pools, a->n_pools * sizeof(a->pools[0])) == 0,
              "%s: pools differ", why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct pieces p = { .n = 0 };
        struct config_errors errors = { 0 };
        struct config *c1 = NULL, *c2 = NULL, *c3 = NULL;
        size_t start = 0, n1;
        int r1, r2, r3;

        for (size_t pos = 0; pos <= size && p.n < N_PIECES; pos++)
                if (pos == size || data[pos] == SEP) {
                        p.data[p.n] = data + start;
                        p.len[p.n++] = pos - start;
                        start = pos + 1;
                }

        write_files(&p, NULL);
        r1 = load(&c1, &errors);
        n1 = errors.n;
        if (r1 == 0)
                check_valid(c1);

        r2 = load(&c2, &errors);
        CHECK(r1 == r2 && errors.n - n1 == n1, "second load differs: %d/%d, %zu/%zu errors", r1, r2, n1, errors.n - n1);
        for (size_t i = 0; i < n1; i++)
                CHECK(strcmp(errors.lines[i], errors.lines[n1 + i]) == 0, "error %zu differs", i);
        if (r1 == 0)
                check_same(c1, c2, false, "second load");
        config_free(c2);
        config_errors_clear(&errors);

        write_files(&p, "\n[Daemon]\nRefreshSec=77\n");
        r3 = load(&c3, &errors);
        if (r1 == 0) {
                CHECK(r3 == 0, "a valid config with RefreshSec=77 appended is refused: %s", errors.n ? errors.lines[0] : "?");
                CHECK(c3->refresh_sec == 77, "appended RefreshSec=77 gave %u", c3->refresh_sec);
                check_same(c1, c3, true, "RefreshSec appended");
        } else
                CHECK(r3 < 0, "an invalid config became valid with RefreshSec=77 appended");
        config_free(c3);
        config_free(c1);
        config_errors_clear(&errors);
        return 0;
}
