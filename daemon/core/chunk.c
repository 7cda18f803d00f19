/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include "chunk.h"

#include <math.h>

uint64_t chunk_next(const struct chunk_model *m)
{
        if (!m->fitted || m->b_ns <= 0)
                return CHUNK_FIRST_PAGES;
        double by_time = m->a_ns < CHUNK_TARGET_NS ? (CHUNK_TARGET_NS - m->a_ns) / m->b_ns : 0;
        double by_share = m->a_ns * (1 / CHUNK_FIXED_SHARE - 1) / m->b_ns;
        double cap = (CHUNK_MAX_NS - m->a_ns) / m->b_ns;
        double n = by_time > by_share ? by_time : by_share;
        if (cap > 0 && n > cap)
                n = cap;
        if (n < CHUNK_MIN_PAGES)
                return CHUNK_MIN_PAGES;
        if (n > CHUNK_MAX_PAGES)
                return CHUNK_MAX_PAGES;
        return (uint64_t)ceil(n);
}

void chunk_observe(struct chunk_model *m, uint64_t pages, double ns)
{
        if (pages == 0 || ns <= 0)
                return;
        double a = m->a_ns, b;
        uint64_t lo = pages < m->last_pages ? pages : m->last_pages;
        uint64_t hi = pages < m->last_pages ? m->last_pages : pages;
        if (m->last_pages && lo * 3 <= hi * 2) {
                /* Two sizes far enough apart: fit both a and b. */
                double fb = (ns - m->last_ns) / ((double)pages - (double)m->last_pages);
                double fa = ns - fb * (double)pages;
                if (fb > 0 && fa >= 0) {
                        /* Smooth: one noisy pair must not swing the size wildly. */
                        a = m->pair_fitted ? (m->a_ns + fa) / 2 : fa;
                        b = m->pair_fitted ? (m->b_ns + fb) / 2 : fb;
                        m->pair_fitted = true;
                        goto done;
                }
        }
        /* Keep a; b from what remains of this sample. */
        if (a >= ns)
                a = ns / 2;
        b = (ns - a) / (double)pages;
        if (m->pair_fitted)
                b = (m->b_ns + b) / 2;
done:
        m->a_ns = a;
        m->b_ns = b;
        m->fitted = true;
        m->last_pages = pages;
        m->last_ns = ns;
}
