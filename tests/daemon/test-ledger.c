/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The savings ledger's arithmetic (daemon/ledger.c): growth, shrink bounds,
 * solving against a measured total, and the real-kernel test's sequence. */
#include "config.h"

#include <stdbool.h>

#include "ledger.h"
#include "tap.h"

#define S2M 7      /* base pages HVO frees per 2 MiB page on 5.18+ x86-64 */
#define S1G 4095   /* per 1 GiB page */

/* A stand-in for the kernel: how many pages of the pool really are optimized.
 * free_optimized_first decides which kind a shrink gives back. */
struct truth {
        uint64_t total, optimized;
};

static void truth_grow(struct truth *t, uint64_t d, bool hvo)
{
        t->total += d;
        if (hvo)
                t->optimized += d;
}

static void truth_shrink(struct truth *t, uint64_t d, bool free_optimized_first)
{
        uint64_t plain = t->total - t->optimized;
        uint64_t from_opt = free_optimized_first ? (d < t->optimized ? d : t->optimized)
                                                 : (d > plain ? d - plain : 0);
        t->optimized -= from_opt;
        t->total -= d;
}

static void test_growth(void)
{
        struct ledger_entry e;
        ledger_start(&e, 2048, S2M, 0, true);
        ok(e.exact && e.optimized == 0, "an empty pool starts exact");
        ledger_observe(&e, 100, true);
        is_int(e.optimized, 100, "growth with HVO on: every new page is optimized");
        ok(e.exact, "growth alone stays exact");
        ledger_observe(&e, 150, false);
        is_int(e.optimized, 100, "growth with HVO off adds plain pages");
        ok(e.exact, "still exact after plain growth");
        ledger_observe(&e, 120, false);
        ok(!e.exact, "a shrink of a mixed pool makes the split uncertain");
        is_int(e.lo, 70, "lower bound: 30 freed pages may all have been optimized");
        is_int(e.hi, 100, "upper bound: or all plain");
        is_int(e.optimized, 80, "estimate: proportional (100 * 120 / 150)");
        ledger_observe(&e, 0, false);
        ok(e.exact && e.optimized == 0, "an emptied pool is exact again");
}

static void test_pure_shrinks(void)
{
        struct ledger_entry e;
        ledger_start(&e, 2048, S2M, 0, true);
        ledger_observe(&e, 500, true);
        ledger_observe(&e, 200, true);
        ok(e.exact && e.optimized == 200, "shrinking an all-optimized pool is exact");
        ledger_start(&e, 2048, S2M, 0, false);
        ledger_observe(&e, 500, false);
        ledger_observe(&e, 200, false);
        ok(e.exact && e.optimized == 0, "shrinking an all-plain pool is exact");
}

static void test_startup(void)
{
        struct ledger_entry e;
        ledger_start(&e, 2048, S2M, 64, true);
        ok(!e.exact, "pages found at start: unknown split");
        is_int(e.optimized, 64, "estimate from HVO on at start");
        ok(ledger_resolve(&e, 1, true, 40 * S2M), "measured 280 pages saved pins it");
        is_int(e.optimized, 40, "40 of 64 optimized");
        ledger_start(&e, 2048, S2M, 64, false);
        is_int(e.optimized, 0, "estimate from HVO off at start");
        ok(!ledger_resolve(&e, 1, false, 0), "no measurement: stays estimated");
}

static void test_ineligible(void)
{
        struct ledger_entry e;
        ledger_start(&e, 64, 0, 0, true);
        ledger_observe(&e, 100, true);
        ok(e.exact && e.optimized == 0, "a size HVO cannot optimize never counts optimized pages");
}

/* The lead's real-kernel sequence, against both kernel behaviours on shrink. */
static void test_sequence(bool free_optimized_first)
{
        static const struct { int delta; bool hvo; } steps[] = {
                { +400, true }, { -150, true }, { 0, false }, { +300, false },
                { 0, true }, { +200, true }, { -500, true }, { -100, false }, { +50, true },
        };
        struct truth t = { 0, 0 };
        struct ledger_entry e;
        bool all = true;
        ledger_start(&e, 2048, S2M, 0, true);
        for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
                if (steps[i].delta > 0)
                        truth_grow(&t, (uint64_t)steps[i].delta, steps[i].hvo);
                else if (steps[i].delta < 0)
                        truth_shrink(&t, (uint64_t)-steps[i].delta, free_optimized_first);
                ledger_observe(&e, t.total, steps[i].hvo);
                bool exact = ledger_resolve(&e, 1, true, (int64_t)(t.optimized * S2M));
                all = all && exact && e.optimized == t.optimized &&
                      ledger_saved_pages(&e, 1) == t.optimized * S2M;
                if (!(exact && e.optimized == t.optimized))
                        printf("# step %zu: ledger %llu (exact %d), kernel %llu\n", i,
                               (unsigned long long)e.optimized, exact, (unsigned long long)t.optimized);
        }
        ok(all, "grow/shrink/HVO off/grow/HVO on/grow/shrink: saving equals the measurement at every step (%s freed first)",
           free_optimized_first ? "optimized" : "plain");
}

static void test_two_sizes(void)
{
        struct ledger_entry e[2];
        /* 2M: 100 pages, 60 optimized (unknown); 1G: 4 pages, 1 optimized (unknown). */
        ledger_start(&e[0], 2048, S2M, 100, true);
        ledger_start(&e[1], 1048576, S1G, 4, true);
        ok(ledger_resolve(e, 2, true, 60 * S2M + 1 * S1G), "two uncertain sizes: a unique solution is found");
        is_int(e[0].optimized, 60, "2M split solved");
        is_int(e[1].optimized, 1, "1G split solved");

        /* Ambiguous: saved pages per page 1 and 2 with totals allowing many splits. */
        struct ledger_entry a[2];
        ledger_start(&a[0], 4, 1, 10, true);
        ledger_start(&a[1], 8, 2, 10, true);
        ok(!ledger_resolve(a, 2, true, 6), "several solutions: estimated");
        ok(!a[0].exact && !a[1].exact, "both sizes marked estimated");
        ok(a[0].optimized <= 10 && a[1].optimized <= 10, "estimates stay within the pools");

        /* One size known exactly, the other uncertain: solved from the rest. */
        ledger_start(&e[0], 2048, S2M, 0, true);
        ledger_observe(&e[0], 50, true);
        ledger_start(&e[1], 1048576, S1G, 3, false);
        ok(ledger_resolve(e, 2, true, 50 * S2M + 2 * S1G), "one uncertain size: (S - known) / saved");
        is_int(e[1].optimized, 2, "1G: 2 of 3 optimized");

        /* Measurement not a multiple: no solution, stays estimated. */
        ledger_start(&e[0], 2048, S2M, 10, true);
        ok(!ledger_resolve(e, 1, true, 3), "a measurement that fits no split leaves an estimate");
        ok(e[0].optimized <= 10, "the estimate stays within the pool");
}

static void test_behind_our_back(void)
{
        /* The ledger believes 100 plain pages; someone turned HVO on and
         * rebuilt the pool between two refreshes. The measurement wins. */
        struct ledger_entry e;
        ledger_start(&e, 2048, S2M, 0, false);
        ledger_observe(&e, 100, false);
        ok(e.exact && e.optimized == 0, "ledger: 100 plain pages");
        ok(ledger_resolve(&e, 1, true, 100 * S2M), "measurement 700 saved contradicts the ledger: solved wide");
        is_int(e.optimized, 100, "corrected to 100 optimized");
}

int main(void)
{
        test_growth();
        test_pure_shrinks();
        test_startup();
        test_ineligible();
        test_sequence(true);
        test_sequence(false);
        test_two_sizes();
        test_behind_our_back();
        return tap_done();
}
