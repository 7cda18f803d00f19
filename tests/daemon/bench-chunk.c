/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-chunk: what chunked growth costs compared with one big write, on the
 * REAL kernel with HVO on. Built by `make check`, never run by it: it changes
 * the real 2048kB pool. Run as root:  tests/daemon/bench-chunk [PAGES] [ROUNDS]
 *
 * It holds /tmp/hugevm-realkernel.lock for its whole run and puts back
 * nr_hugepages, nr_overcommit_hugepages and the HVO sysctl as it found them,
 * also on SIGINT/SIGTERM. Each chunk runs as a uv_queue_work job like the
 * daemon's, sized by the daemon's own policy (daemon/core/chunk.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "chunk.h"
#include "vmemmap.h"

#define SIZE_KB 2048

static vmm_ctx *ctx;
static struct vmm_pool saved_pool;
static struct vmm_hvo saved_hvo;
static bool have_saved;

static void restore(void)
{
        struct vmm_resize r;
        if (!have_saved)
                return;
        have_saved = false;
        vmm_pool_set(ctx, SIZE_KB, -1, saved_pool.total, &r);
        vmm_overcommit_set(ctx, SIZE_KB, saved_pool.overcommit);
        if (saved_hvo.supported)
                vmm_hvo_set(ctx, saved_hvo.enabled);
}

static void on_signal(int sig)
{
        restore();
        signal(sig, SIG_DFL);
        raise(sig);
}

static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Kept across rounds, as the daemon keeps it across resizes. */
static struct chunk_model model;

struct chunked {
        uv_work_t req;
        uint64_t target, current, pages, before;
        double seconds;
        unsigned writes;
        int rc;
};

static void work_cb(uv_work_t *req)
{
        struct chunked *c = req->data;
        struct vmm_resize r;
        double t0 = now();
        c->rc = vmm_pool_set(ctx, SIZE_KB, -1, c->pages, &r);
        c->seconds = now() - t0;
        if (c->rc == 0 || c->rc == -ENOMEM)
                c->current = r.reached;
}

static void after_cb(uv_work_t *req, int status);

static void next_chunk(uv_loop_t *loop, struct chunked *c)
{
        uint64_t chunk = chunk_next(&model);
        c->before = c->current;
        c->pages = c->target - c->current > chunk ? c->current + chunk : c->target;
        c->writes++;
        c->req.data = c;
        uv_queue_work(loop, &c->req, work_cb, after_cb);
}

static void after_cb(uv_work_t *req, int status)
{
        struct chunked *c = req->data;
        if (c->rc < 0)
                return;
        chunk_observe(&model, c->current - c->before, c->seconds * 1e9);
        if (c->current < c->target)
                next_chunk(req->loop, c);
}

static double chunked_growth(uv_loop_t *loop, uint64_t pages, unsigned *writes)
{
        struct chunked c = { .target = pages };
        double t0 = now();
        next_chunk(loop, &c);
        uv_run(loop, UV_RUN_DEFAULT);
        double t = now() - t0;
        *writes = c.writes;
        if (c.rc < 0 || c.current != pages) {
                fprintf(stderr, "bench-chunk: chunked growth stopped at %" PRIu64 ": %s\n", c.current, strerror(-c.rc));
                exit(1);
        }
        return t;
}

static int empty_pool(void)
{
        struct vmm_resize r;
        int k = vmm_pool_set(ctx, SIZE_KB, -1, 0, &r);
        if (k < 0)
                fprintf(stderr, "bench-chunk: cannot empty the pool: %s\n", strerror(-k));
        return k;
}

static int cmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
        uint64_t pages = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000;
        unsigned rounds = argc > 2 ? (unsigned)atoi(argv[2]) : 5;
        double one[32], chunked[32];
        unsigned writes = 0;

        if (geteuid() != 0) {
                printf("bench-chunk: needs root (it changes the real pools)\n");
                return 77;
        }
        if (rounds < 1 || rounds > 32 || pages < 1 || pages > 2000) {
                fprintf(stderr, "usage: bench-chunk [PAGES<=2000] [ROUNDS<=32]\n");
                return 2;
        }
        int lock = open("/tmp/hugevm-realkernel.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (lock < 0 || flock(lock, LOCK_EX) < 0) {
                perror("bench-chunk: /tmp/hugevm-realkernel.lock");
                return 1;
        }
        if (vmm_ctx_new("/", NULL, &ctx) < 0 || vmm_pool_read(ctx, SIZE_KB, &saved_pool) < 0 || vmm_hvo_read(ctx, &saved_hvo) < 0) {
                fprintf(stderr, "bench-chunk: no 2048kB pool here\n");
                return 77;
        }
        if (!saved_hvo.supported) {
                printf("bench-chunk: HVO not supported by this kernel\n");
                return 77;
        }
        have_saved = true;
        atexit(restore);
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        if (vmm_hvo_set(ctx, true) < 0 || empty_pool() < 0)
                return 1;

        uv_loop_t *loop = uv_default_loop();
        struct vmm_resize r;
        /* Cold: the first resize after the daemon starts, nothing measured yet. */
        double t0 = now();
        if (vmm_pool_set(ctx, SIZE_KB, -1, pages, &r) < 0 || empty_pool() < 0)
                return 1;
        double cold_one = now() - t0;
        unsigned cold_writes;
        double cold = chunked_growth(loop, pages, &cold_writes);
        if (empty_pool() < 0)
                return 1;
        for (unsigned i = 0; i < rounds; i++) {
                /* Alternate which goes first: the state memory is left in matters. */
                for (unsigned k = 0; k < 2; k++) {
                        if ((k == 0) == (i % 2 == 0)) {
                                t0 = now();
                                int e = vmm_pool_set(ctx, SIZE_KB, -1, pages, &r);
                                one[i] = now() - t0;
                                if (e < 0) {
                                        fprintf(stderr, "bench-chunk: one write of %" PRIu64 " pages: %s\n", pages, strerror(-e));
                                        return 1;
                                }
                        } else
                                chunked[i] = chunked_growth(loop, pages, &writes);
                        if (empty_pool() < 0)
                                return 1;
                }
        }
        qsort(one, rounds, sizeof *one, cmp);
        qsort(chunked, rounds, sizeof *chunked, cmp);
        double m1 = one[rounds / 2], mc = chunked[rounds / 2];
        printf("growing 0 -> %" PRIu64 " pages of 2048kB with HVO on\n", pages);
        printf("cold (nothing measured yet): one write %.1f ms, chunked %.1f ms in %u writes: %+.1f %%\n",
               cold_one * 1e3, cold * 1e3, cold_writes, (cold - cold_one) / cold_one * 100);
        printf("model: fixed %.2f ms per write, %.1f us per page\n", model.a_ns / 1e6, model.b_ns / 1e3);
        printf("steady, %u rounds (medians): one write %.1f ms, chunked %.1f ms in %u writes\n", rounds, m1 * 1e3,
               mc * 1e3, writes);
        printf("model's own estimate of the fixed cost: %u extra writes x %.2f ms = %.2f %% of one write\n", writes - 1,
               model.a_ns / 1e6, (writes - 1) * model.a_ns / 1e9 / m1 * 100);
        printf("overhead: %+.2f %% (medians), %+.2f %% (fastest of each: one %.1f ms, chunked %.1f ms)\n",
               (mc - m1) / m1 * 100, (chunked[0] - one[0]) / one[0] * 100, one[0] * 1e3, chunked[0] * 1e3);
        restore();
        uv_loop_close(loop);
        vmm_ctx_free(ctx);
        return 0;
}
