/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The chunk size model (daemon/core/chunk.c) on synthetic write costs t = a + b*n. */
#include "config.h"

#include "chunk.h"
#include "tap.h"

/* Grow 0 -> total with the model; return the writes used and the fixed share. */
static unsigned simulate(struct chunk_model *m, double a, double b, uint64_t total, double *overhead)
{
        uint64_t cur = 0;
        unsigned writes = 0;
        double t = 0;
        while (cur < total) {
                uint64_t n = chunk_next(m);
                if (n > total - cur)
                        n = total - cur;
                double ns = a + b * (double)n;
                chunk_observe(m, n, ns);
                t += ns;
                cur += n;
                writes++;
        }
        *overhead = (t - (a + b * (double)total)) / (a + b * (double)total);
        return writes;
}

int main(void)
{
        struct chunk_model m = { 0 };
        double ov;
        is_int(chunk_next(&m), CHUNK_FIRST_PAGES, "nothing measured: the first chunk is %u pages", CHUNK_FIRST_PAGES);

        /* Negligible fixed cost (HVO off, 5 us per page): ~75 ms chunks. */
        chunk_observe(&m, 128, 128 * 5e3);
        uint64_t n = chunk_next(&m);
        ok(n >= 14000 && n <= 15000, "cheap writes: ~75 ms worth of pages (%llu)", (unsigned long long)n);

        /* A 30 ms fixed cost (an RCU grace period) + 46 us per page (HVO on). */
        struct chunk_model h = { 0 };
        chunk_observe(&h, 128, 30e6 + 128 * 46e3);
        chunk_observe(&h, 1000, 30e6 + 1000 * 46e3);
        ok(h.a_ns > 29e6 && h.a_ns < 31e6 && h.b_ns > 45e3 && h.b_ns < 47e3, "two sizes fit a and b (%.1f ms, %.1f us)",
           h.a_ns / 1e6, h.b_ns / 1e3);
        n = chunk_next(&h);
        ok(30e6 / (30e6 + 46e3 * (double)n) <= CHUNK_FIXED_SHARE + 1e-9, "chunk keeps the fixed cost at or under 4%% (%llu pages)",
           (unsigned long long)n);
        ok(30e6 + 46e3 * (double)n <= CHUNK_MAX_NS, "and under the 5 s cap");

        /* Steady state (model kept across resizes): a big resize costs < 5%. */
        unsigned w = simulate(&h, 30e6, 46e3, 100000, &ov);
        ok(ov < 0.05, "100000 pages with a warm model: %u writes, overhead %.2f%%", w, ov * 100);

        /* A huge fixed cost hits the 5 s cap rather than one endless write. */
        struct chunk_model s = { 0 };
        chunk_observe(&s, 100, 1e9 + 100 * 1e5);
        chunk_observe(&s, 1000, 1e9 + 1000 * 1e5);
        n = chunk_next(&s);
        ok(1e9 + 1e5 * (double)n <= CHUNK_MAX_NS + 1e5 && n > 30000, "a chunk never plans beyond ~5 s (%llu pages)", (unsigned long long)n);

        /* Noise: a pair giving a negative slope does not produce nonsense. */
        struct chunk_model z = { 0 };
        chunk_observe(&z, 128, 50e6);
        chunk_observe(&z, 1000, 40e6);
        n = chunk_next(&z);
        ok(n >= CHUNK_MIN_PAGES && n <= CHUNK_MAX_PAGES && z.b_ns > 0, "noisy samples keep a positive cost per page (%llu pages)",
           (unsigned long long)n);
        return tap_done();
}
