/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The savings model (daemon/core/ledger.c) against a second implementation:
 * a page-by-page simulation of the kernel's free lists (mm/hugetlb.c: new and
 * returned pages go to the head, shrinking and applications take from the
 * head), one bool per page. The ledger keeps runs; the simulation keeps pages.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "tap.h"

#define S2M 7   /* base pages HVO frees per 2 MiB page on 5.18+ x86-64 */

/* One node as the kernel keeps it: free list and pages held by applications,
 * each a stack of "optimized?" flags, [n-1] the head. */
struct sim {
        bool free[4096], used[4096];
        unsigned n_free, n_used;
};

static void sim_grow(struct sim *s, unsigned d, bool hvo)
{
        while (d--)
                s->free[s->n_free++] = hvo;
}

static void sim_shrink(struct sim *s, unsigned d)
{
        while (d-- && s->n_free)
                s->n_free--;
}

static void sim_take(struct sim *s, unsigned d)
{
        while (d-- && s->n_free)
                s->used[s->n_used++] = s->free[--s->n_free];
}

static void sim_give_back(struct sim *s, unsigned d)
{
        while (d-- && s->n_used)
                s->free[s->n_free++] = s->used[--s->n_used];
}

static uint64_t sim_optimized(const struct sim *s)
{
        uint64_t n = 0;
        for (unsigned i = 0; i < s->n_free; i++)
                n += s->free[i];
        for (unsigned i = 0; i < s->n_used; i++)
                n += s->used[i];
        return n;
}

/* Tell the ledger what the counters would show now. */
static void observe(struct ledger_entry *e, const struct sim *s, bool hvo)
{
        ledger_node_observe(e, 0, s->n_free + s->n_used, s->n_free, hvo);
}

static struct ledger_entry *new_entry(void)
{
        struct ledger_entry *e = calloc(1, sizeof *e);
        if (!e) {
                printf("Bail out! out of memory\n");
                exit(1);
        }
        e->saved_pages_per_page = S2M;
        return e;
}

/* KERNEL.md's sequence, checked against the counters on the real kernel. */
static void test_kernel_sequence(void)
{
        struct ledger_entry *e = new_entry();
        struct sim s = { 0 };
        bool exact;
        observe(e, &s, false);
        static const struct { unsigned pages; bool hvo; } steps[] = {
                { 400, true }, { 150, true }, { 150, false }, { 300, false }, { 300, true }, { 500, true }, { 100, true },
        };
        for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
                unsigned now = s.n_free;
                if (steps[i].pages > now)
                        sim_grow(&s, steps[i].pages - now, steps[i].hvo);
                else
                        sim_shrink(&s, now - steps[i].pages);
                observe(e, &s, steps[i].hvo);
                is_int(ledger_optimized(e, &exact), sim_optimized(&s), "step %zu (%u pages, HVO %s): model = simulation (%d)", i,
                       steps[i].pages, steps[i].hvo ? "on" : "off", (int)sim_optimized(&s));
                ok(exact, "step %zu: exact", i);
        }
        is_int(ledger_optimized(e, NULL), 100, "the sequence ends with exactly 100 optimized pages, as the kernel showed");
        free(e);
}

/* Applications take pages from the head and give them back to it. */
static void test_applications(void)
{
        struct ledger_entry *e = new_entry();
        struct sim s = { 0 };
        observe(e, &s, false);
        sim_grow(&s, 10, false);
        observe(e, &s, false);
        sim_grow(&s, 10, true);
        observe(e, &s, true);
        sim_take(&s, 15);   /* 10 optimized, 5 plain in use */
        observe(e, &s, true);
        sim_shrink(&s, 5);  /* the 5 plain free pages go */
        observe(e, &s, true);
        is_int(ledger_optimized(e, NULL), 10, "in-use pages are not freed by a shrink: 10 optimized remain");
        sim_give_back(&s, 15);
        observe(e, &s, true);
        sim_shrink(&s, 5);  /* the last 5 given back go first */
        observe(e, &s, true);
        is_int(ledger_optimized(e, NULL), sim_optimized(&s), "returned pages go back to the head (%d)", (int)sim_optimized(&s));
        free(e);
}

/* Random operations, HVO toggling, applications: the model follows the pages
 * exactly while its stacks hold every run, and says so. */
static void test_random(void)
{
        unsigned mismatches = 0, inexact = 0, exact_wrong = 0;
        srand(12345);
        for (int round = 0; round < 200; round++) {
                struct ledger_entry *e = new_entry();
                struct sim s = { 0 };
                bool hvo = rand() % 2, exact;
                observe(e, &s, hvo);
                for (int step = 0; step < 120; step++) {
                        unsigned k = 1 + (unsigned)rand() % 50;
                        switch (rand() % 5) {
                        case 0: hvo = !hvo; break;
                        case 1: if (s.n_free + s.n_used + k < 4000) sim_grow(&s, k, hvo); break;
                        case 2: sim_shrink(&s, k); break;
                        case 3: sim_take(&s, k); break;
                        default: sim_give_back(&s, k); break;
                        }
                        observe(e, &s, hvo);
                        uint64_t got = ledger_optimized(e, &exact);
                        if (!exact)
                                inexact++;
                        else if (got != sim_optimized(&s))
                                exact_wrong++;
                        mismatches += got != sim_optimized(&s);
                }
                free(e);
        }
        is_int(exact_wrong, 0, "24,000 random steps: whenever the model says exact, it equals the simulation");
        printf("# inexact steps %u, mismatches %u\n", inexact, mismatches);
        ok(mismatches <= inexact, "a mismatch only where the model says it is an estimate");
}

static void test_startup_and_ineligible(void)
{
        struct ledger_entry *e = new_entry();
        bool exact;
        ledger_node_start(e, 0, 50, 50, true);
        ledger_optimized(e, &exact);
        ok(!exact, "pages found at start have an unknown history: an estimate");
        ledger_node_observe(e, 0, 0, 0, true);
        is_int(ledger_optimized(e, &exact), 0, "once they are gone, nothing is optimized");
        ok(exact, "... and that is exact again");
        ledger_node_observe(e, 0, 20, 20, true);
        is_int(ledger_optimized(e, &exact), 20, "growth with HVO on after that: 20 optimized");
        ok(exact, "... exactly");

        e->saved_pages_per_page = 0;   /* a size HVO never touches */
        ledger_node_observe(e, 0, 40, 40, true);
        is_int(ledger_node_optimized(e, 0, NULL), 20, "pages already counted stay what they were");
        memset(e, 0, sizeof *e);
        ledger_node_observe(e, 0, 40, 40, true);
        is_int(ledger_optimized(e, NULL), 0, "an ineligible size has no optimized pages");
        free(e);
}

/* More runs than a stack keeps: the deepest merge, and what comes from them
 * is called an estimate. */
static void test_overflow(void)
{
        struct ledger_entry *e = new_entry();
        struct sim s = { 0 };
        bool exact;
        observe(e, &s, false);
        for (unsigned i = 0; i < 2 * LEDGER_MAX_RUNS; i++) {
                sim_grow(&s, 1 + i, i % 2);
                observe(e, &s, i % 2);
        }
        is_int(ledger_optimized(e, &exact), sim_optimized(&s), "after %u alternating growths the count is still right",
               2 * LEDGER_MAX_RUNS);
        ok(!exact, "... but the order of the deepest pages is lost: an estimate");
        sim_shrink(&s, s.n_free - 3);
        observe(e, &s, true);
        ledger_optimized(e, &exact);
        ok(!exact, "what is left of the merged runs stays an estimate");
        free(e);
}

/* Nodes are separate free lists. */
static void test_nodes(void)
{
        struct ledger_entry *e = new_entry();
        ledger_node_observe(e, 0, 0, 0, true);
        ledger_node_observe(e, 1, 0, 0, true);
        ledger_node_observe(e, 0, 10, 10, true);
        ledger_node_observe(e, 1, 10, 10, false);
        ledger_node_observe(e, 0, 5, 5, false);
        is_int(ledger_node_optimized(e, 0, NULL), 5, "node 0: 5 optimized left");
        is_int(ledger_node_optimized(e, 1, NULL), 0, "node 1: none");
        is_int(ledger_optimized(e, NULL), 5, "the pool: the sum of its nodes");
        free(e);
}

/* vmm_pool_replace as the kernel does it, page by page: grow batch (on the
 * head), hold batch + above more from the head (fallocate, kept between
 * batches), free batch from the head (the shrink). Returns unoptimized pages
 * freed. sim_release gives the held pages back in index order (each to the
 * head, so the last held ends on top). */
struct hold {
        bool page[4096];
        unsigned n;
};

static unsigned sim_replace(struct sim *s, struct hold *h, unsigned batch, unsigned above)
{
        unsigned unopt = 0;
        sim_grow(s, batch, true);
        for (unsigned i = 0; i < batch + above && s->n_free; i++)
                h->page[h->n++] = s->free[--s->n_free];
        for (unsigned i = 0; i < batch && s->n_free; i++)
                unopt += !s->free[--s->n_free];
        return unopt;
}

static void sim_release(struct sim *s, struct hold *h)
{
        for (unsigned i = 0; i < h->n; i++)
                s->free[s->n_free++] = h->page[i];
        h->n = 0;
}

/* Re-optimization, batch by batch, where the ledger says the unoptimized
 * pages lie: the simulation frees exactly the pages the ledger predicts. The
 * daemon tells the ledger the held pages as free (they come back). */
static void test_reoptimize(void)
{
        struct ledger_entry *e = new_entry();
        struct sim s = { .n_free = 0 };
        struct hold h = { .n = 0 };
        uint64_t above, run, fu, uu;
        /* HVO off: 300 pages; on: 100 more; 40 taken by an application. */
        observe(e, &s, false);
        sim_grow(&s, 300, false);
        observe(e, &s, false);
        sim_grow(&s, 100, true);
        observe(e, &s, true);
        sim_take(&s, 40);
        observe(e, &s, true);
        ledger_node_unoptimized(e, 0, &fu, &uu);
        is_int(fu, 300, "300 free pages unoptimized (under the 60 optimized left free)");
        is_int(uu, 0, "the 40 taken were optimized: none in use unoptimized");
        ok(ledger_node_reopt_target(e, 0, &above, &run) && above == 60 && run == 300,
           "the next batch holds 60 optimized pages above 300 unoptimized (%llu, %llu)",
           (unsigned long long)above, (unsigned long long)run);
        unsigned rounds = 0, bad = 0, held = 0;
        while (ledger_node_reopt_target(e, 0, &above, &run) && run > 0 && rounds < 100) {
                unsigned batch = run < 32 ? (unsigned)run : 32;
                /* The pages held so far are the head of the model's list: above them. */
                unsigned extra = held ? 0 : (unsigned)above;
                unsigned want = sim_replace(&s, &h, batch, extra);
                bad += ledger_node_replace(e, 0, batch, held + extra) != want || want != batch;
                held += batch + extra;
                ledger_node_observe(e, 0, s.n_free + s.n_used + h.n, s.n_free + h.n, true);
                bad += ledger_node_optimized(e, 0, NULL) != sim_optimized(&s) + h.n;
                rounds++;
        }
        is_int(rounds, 10, "300 pages in 10 batches of at most 32");
        is_int(bad, 0, "each batch freed only unoptimized pages, as the simulation did, and the totals agree");
        sim_release(&s, &h);
        observe(e, &s, true);
        is_int(sim_optimized(&s), 400, "the simulation: every page optimized once the hold is given back");
        is_int(ledger_optimized(e, NULL), 400, "the ledger agrees");
        sim_give_back(&s, 40);
        observe(e, &s, true);
        ledger_node_unoptimized(e, 0, &fu, &uu);
        is_int(fu + uu, 0, "nothing unoptimized left");
        free(e);
}

int main(void)
{
        test_kernel_sequence();
        test_applications();
        test_random();
        test_startup_and_ineligible();
        test_overflow();
        test_nodes();
        test_reoptimize();
        return tap_done();
}
