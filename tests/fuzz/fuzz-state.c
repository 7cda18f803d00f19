/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness: hugevmd's state file (daemon/core/state.c), the runtime
 * targets a restart (or a kill -9) reads back.
 *
 * Each input is used twice:
 *   1. as the content of state.json: state_load gives 0 or -EBADMSG (with a
 *      reason), never anything else; what it loads obeys state.h (at most
 *      max pools, distinct positive sizes, never pages and nodes together);
 *      saving what was loaded and loading it again gives the same targets;
 *   2. as raw bytes for up to HUGEVMD_MAX_POOLS targets with any 64-bit
 *      values: state_save then state_load gives exactly those targets back
 *      (those with something to keep: a pool or node target, or overcommit).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz-root.h"
#include "state.h"

#define CHECK(cond, ...) do { if (!(cond)) { \
        fprintf(stderr, "fuzz-state: property violated at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
        fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } } while (0)

static char dir_in[PATH_MAX], dir_out[PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        const char *root = fuzz_root_new("fuzz-state");

        (void)argc;
        (void)argv;
        snprintf(dir_in, sizeof(dir_in), "%s/in", root);
        snprintf(dir_out, sizeof(dir_out), "%s/out", root);
        return 0;
}

static bool kept(const struct target *t)
{
        return target_managed(t) || t->has_overcommit;
}

static bool same(const struct target *a, const struct target *b)
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

static void describe(const char *what, const struct target *t)
{
        fprintf(stderr, "%s: size_kb %" PRIu64 " pages %s%" PRIu64 " nodes %#" PRIx64 " overcommit %s%" PRIu64 "\n", what,
                t->size_kb, t->has_pages ? "" : "(none) ", t->pages, t->node_mask, t->has_overcommit ? "" : "(none) ",
                t->overcommit);
}

/* save(targets) then load: the kept targets, in order, unchanged. */
static void round_trip(const struct target *targets, size_t n)
{
        struct target back[HUGEVMD_MAX_POOLS];
        char err[512] = "";
        size_t m = 0, k = 0;
        int r;

        r = state_save(dir_out, targets, n);
        CHECK(r == 0, "state_save: %s", strerror(-r));
        r = state_load(dir_out, back, HUGEVMD_MAX_POOLS, &m, err, sizeof(err));
        CHECK(r == 0, "what state_save wrote does not load (%d): %s", r, err);
        for (size_t i = 0; i < n; i++) {
                if (!kept(&targets[i]))
                        continue;
                CHECK(k < m, "target %zu lost", i);
                if (!same(&targets[i], &back[k])) {
                        describe("saved ", &targets[i]);
                        describe("loaded", &back[k]);
                        CHECK(false, "target %zu changed on the way through the state file", i);
                }
                k++;
        }
        CHECK(k == m, "%zu targets saved, %zu loaded", k, m);
}

static void as_file(const uint8_t *data, size_t size)
{
        struct target targets[HUGEVMD_MAX_POOLS];
        char path[PATH_MAX], err[512] = "";
        size_t n = 0;
        int fd, r;

        (void)mkdir(dir_in, 0755);
        snprintf(path, sizeof(path), "%s/%s", dir_in, STATE_FILE_NAME);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || close(fd) < 0)
                abort();
        r = state_load(dir_in, targets, HUGEVMD_MAX_POOLS, &n, err, sizeof(err));
        CHECK(r == 0 || r == -EBADMSG, "state_load gave %d", r);
        if (r < 0) {
                CHECK(err[0] != '\0', "-EBADMSG without a reason");
                return;
        }
        CHECK(n <= HUGEVMD_MAX_POOLS, "%zu pools", n);
        for (size_t i = 0; i < n; i++) {
                CHECK(targets[i].size_kb > 0, "pool %zu of size 0", i);
                CHECK(!(targets[i].has_pages && targets[i].node_mask), "pool %zu has pages and nodes", i);
                for (size_t j = 0; j < i; j++)
                        CHECK(targets[j].size_kb != targets[i].size_kb, "size %" PRIu64 " twice", targets[i].size_kb);
        }
        round_trip(targets, n);
}

/* Targets straight from the bytes: every field any 64-bit value. */
static void as_targets(const uint8_t *data, size_t size)
{
        struct target targets[HUGEVMD_MAX_POOLS];
        size_t n = 0, pos = 0;

#define TAKE(dst) do { uint64_t v_ = 0; size_t k_ = size - pos < 8 ? size - pos : 8; \
        memcpy(&v_, data + pos, k_); pos += k_; (dst) = v_; } while (0)
        while (pos < size && n < HUGEVMD_MAX_POOLS) {
                struct target *t = &targets[n];
                uint8_t flags = data[pos++];
                uint64_t size_kb = 0;

                memset(t, 0, sizeof(*t));
                TAKE(size_kb);
                if (size_kb == 0)
                        size_kb = 1;
                for (size_t j = 0; j < n; j++)
                        if (targets[j].size_kb == size_kb)
                                size_kb = 0; /* sizes are distinct in the daemon */
                if (size_kb == 0)
                        continue;
                t->size_kb = size_kb;
                if (flags & 1) {
                        t->has_pages = true;
                        TAKE(t->pages);
                } else if (flags & 2) {
                        TAKE(t->node_mask);
                        for (unsigned b = 0; b < HUGEVMD_MAX_NODES; b++)
                                if (t->node_mask & (UINT64_C(1) << b))
                                        TAKE(t->node_pages[b]);
                }
                if (flags & 4) {
                        t->has_overcommit = true;
                        TAKE(t->overcommit);
                }
                n++;
        }
#undef TAKE
        round_trip(targets, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        as_file(data, size);
        as_targets(data, size);
        return 0;
}
