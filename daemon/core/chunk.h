/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How many pages one resize write moves. Each write is one threadpool job, so
 * the loop answers requests and reports progress between writes.
 *
 * A write costs a fixed part (with HVO on, 6.10+ kernels wait for one RCU
 * grace period per write: tens of ms on a busy VM) plus a part per page. The
 * model t = a + b*n is fitted from the chunks seen so far (kept across
 * resizes), and a chunk is sized so that the fixed part stays below 4% of it
 * (n >= 24 a / b) and it lasts at least ~75 ms, at most ~5 s (a stop request
 * waits for the running chunk). tests/daemon/bench-chunk measures the result
 * against one big write on the real kernel.
 */
#ifndef HUGEVMD_CHUNK_H
#define HUGEVMD_CHUNK_H

#include <stdbool.h>
#include <stdint.h>

#define CHUNK_TARGET_NS    75e6      /* the least a chunk should last */
#define CHUNK_MAX_NS       5e9       /* the most */
#define CHUNK_FIXED_SHARE  0.04      /* fixed cost per write, as a share of a chunk */
#define CHUNK_FIRST_PAGES  128u      /* before anything is measured */
#define CHUNK_MIN_PAGES    16u
#define CHUNK_MAX_PAGES    (1u << 20)

struct chunk_model {
        double a_ns;          /* fixed cost per write */
        double b_ns;          /* cost per page */
        bool fitted;          /* b_ns known */
        bool pair_fitted;     /* a_ns and b_ns come from two sizes */
        uint64_t last_pages;  /* the previous sample, to fit a */
        double last_ns;
};

/* Pages for the next write. */
uint64_t chunk_next(const struct chunk_model *m);
/* A write of pages took ns. */
void chunk_observe(struct chunk_model *m, uint64_t pages, double ns);

#endif
