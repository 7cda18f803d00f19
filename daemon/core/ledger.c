/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include "ledger.h"

static void settle(struct ledger_entry *e)
{
        if (e->saved_pages_per_page == 0) {
                /* HVO never touches this size: nothing optimized, saving 0 for sure. */
                e->lo = e->hi = e->optimized = 0;
        }
        if (e->hi > e->total)
                e->hi = e->total;
        if (e->lo > e->hi)
                e->lo = e->hi;
        if (e->optimized < e->lo)
                e->optimized = e->lo;
        if (e->optimized > e->hi)
                e->optimized = e->hi;
        e->exact = e->lo == e->hi;
}

void ledger_start(struct ledger_entry *e, uint64_t size_kb, uint64_t saved_pages_per_page,
                  uint64_t total, bool hvo_on)
{
        e->size_kb = size_kb;
        e->saved_pages_per_page = saved_pages_per_page;
        e->total = total;
        e->lo = 0;
        e->hi = total;
        e->optimized = hvo_on ? total : 0;
        settle(e);
}

void ledger_observe(struct ledger_entry *e, uint64_t new_total, bool hvo_on)
{
        if (new_total > e->total) {
                uint64_t d = new_total - e->total;
                if (hvo_on) {
                        e->lo += d;
                        e->hi += d;
                        e->optimized += d;
                }
        } else if (new_total < e->total) {
                /* Which pages the kernel freed is unknown: either kind may have gone. */
                uint64_t d = e->total - new_total, old_total = e->total;
                e->lo = e->lo > d ? e->lo - d : 0;
                if (e->hi > new_total)
                        e->hi = new_total;
                /* Estimate: the pool shrank proportionally. */
                e->optimized = old_total ? (uint64_t)((unsigned __int128)e->optimized * new_total / old_total) : 0;
        }
        e->total = new_total;
        settle(e);
}

uint64_t ledger_saved_pages(const struct ledger_entry *entries, size_t n)
{
        uint64_t sum = 0;
        for (size_t i = 0; i < n; i++)
                sum += entries[i].optimized * entries[i].saved_pages_per_page;
        return sum;
}

/* Enumeration budget: two uncertain 2M pools of ~1M pages each stay inside. */
#define SOLVE_BUDGET (UINT64_C(1) << 22)

struct solver {
        struct ledger_entry *e;
        size_t *idx;        /* uncertain entries */
        size_t m;
        const uint64_t *lo, *hi;
        uint64_t cur[16], found[16];
        unsigned solutions; /* stops counting at 2 */
        uint64_t budget;
};

/* Count assignments of idx[k..m) within bounds summing to rest. */
static void search(struct solver *s, size_t k, int64_t rest)
{
        if (s->solutions >= 2 || s->budget == 0)
                return;
        size_t i = s->idx[k];
        int64_t per = (int64_t)s->e[i].saved_pages_per_page;
        if (k == s->m - 1) {
                s->budget--;
                if (rest < 0 || rest % per)
                        return;
                uint64_t v = (uint64_t)(rest / per);
                if (v < s->lo[k] || v > s->hi[k])
                        return;
                s->cur[k] = v;
                if (++s->solutions == 1)
                        for (size_t j = 0; j < s->m; j++)
                                s->found[j] = s->cur[j];
                return;
        }
        for (uint64_t v = s->lo[k]; v <= s->hi[k] && s->budget; v++) {
                s->budget--;
                int64_t r = rest - (int64_t)v * per;
                if (r < 0)
                        break;
                s->cur[k] = v;
                search(s, k + 1, r);
                if (s->solutions >= 2)
                        return;
        }
}

/* Try to pin the uncertain entries; wide: ignore the ledger's bounds and use
 * [0, total] for every eligible entry. true if a unique solution was applied. */
static bool try_solve(struct ledger_entry *e, size_t n, int64_t measured, bool wide)
{
        size_t idx[16];
        uint64_t lo[16], hi[16];
        size_t m = 0;
        int64_t rest = measured;

        for (size_t i = 0; i < n; i++) {
                if (e[i].saved_pages_per_page == 0)
                        continue;
                uint64_t l = wide ? 0 : e[i].lo, h = wide ? e[i].total : e[i].hi;
                if (l == h) {
                        rest -= (int64_t)(l * e[i].saved_pages_per_page);
                        continue;
                }
                if (m == 16)
                        return false;
                idx[m] = i;
                lo[m] = l;
                hi[m] = h;
                m++;
        }
        if (m == 0) {
                if (rest != 0)
                        return false;
                /* Every eligible entry is pinned; in wide mode that means empty. */
                if (wide)
                        for (size_t i = 0; i < n; i++)
                                if (e[i].saved_pages_per_page)
                                        e[i].lo = e[i].hi = e[i].optimized = 0;
                return true;
        }
        struct solver s = { .e = e, .idx = idx, .m = m, .lo = lo, .hi = hi, .budget = SOLVE_BUDGET };
        search(&s, 0, rest);
        if (s.solutions != 1 || s.budget == 0)
                return false;
        for (size_t j = 0; j < m; j++) {
                struct ledger_entry *x = &e[idx[j]];
                x->lo = x->hi = x->optimized = s.found[j];
        }
        if (wide)   /* entries pinned by [0,0] bounds */
                for (size_t i = 0; i < n; i++)
                        if (e[i].saved_pages_per_page && e[i].total == 0)
                                e[i].lo = e[i].hi = e[i].optimized = 0;
        return true;
}

bool ledger_resolve(struct ledger_entry *entries, size_t n, bool measured, int64_t measured_saved_pages)
{
        bool all = true;
        if (measured && !try_solve(entries, n, measured_saved_pages, false))
                (void)try_solve(entries, n, measured_saved_pages, true);
        for (size_t i = 0; i < n; i++) {
                settle(&entries[i]);
                all = all && entries[i].exact;
        }
        return all;
}
