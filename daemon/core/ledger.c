/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include "ledger.h"

#include <string.h>

static bool same_kind(const struct ledger_run *a, const struct ledger_run *b)
{
        bool a_pure = a->optimized == 0 || a->optimized == a->pages;
        bool b_pure = b->optimized == 0 || b->optimized == b->pages;
        return a->known && b->known && a_pure && b_pure && (a->optimized == 0) == (b->optimized == 0);
}

/* Put r on the head, merged with the head run when it is the same kind. */
static void push(struct ledger_stack *s, struct ledger_run r)
{
        if (r.pages == 0)
                return;
        if (s->n > 0 && same_kind(&s->run[0], &r)) {
                s->run[0].pages += r.pages;
                s->run[0].optimized += r.optimized;
                return;
        }
        if (s->n == LEDGER_MAX_RUNS) {
                /* Full: the two deepest runs become one mixed run, an estimate. */
                struct ledger_run *a = &s->run[s->n - 2], *b = &s->run[s->n - 1];
                a->known = a->known && b->known && same_kind(a, b);
                a->pages += b->pages;
                a->optimized += b->optimized;
                s->n--;
        }
        memmove(&s->run[1], &s->run[0], s->n * sizeof s->run[0]);
        s->run[0] = r;
        s->n++;
}

/* Take up to pages from the head, pushing them onto to (if not NULL). */
static uint64_t pop(struct ledger_stack *s, uint64_t pages, struct ledger_stack *to)
{
        struct ledger_run taken[LEDGER_MAX_RUNS];
        unsigned n_taken = 0;
        uint64_t done = 0;
        while (done < pages && s->n > 0) {
                struct ledger_run *h = &s->run[0];
                uint64_t k = pages - done < h->pages ? pages - done : h->pages;
                /* From a mixed run, an even share of its optimized pages (an estimate). */
                uint64_t opt = h->optimized == h->pages ? k : h->optimized == 0 ? 0
                               : (uint64_t)((unsigned __int128)h->optimized * k / h->pages);
                bool pure = h->optimized == 0 || h->optimized == h->pages;
                taken[n_taken++] = (struct ledger_run){ .pages = k, .optimized = opt, .known = h->known && pure };
                h->pages -= k;
                h->optimized -= opt;
                done += k;
                if (h->pages == 0) {
                        memmove(&s->run[0], &s->run[1], (s->n - 1) * sizeof s->run[0]);
                        s->n--;
                }
        }
        /* Page by page, as the kernel moves them: the first taken goes on first,
         * so the order reverses (the deepest taken ends on the head). */
        for (unsigned i = 0; to && i < n_taken; i++)
                push(to, taken[i]);
        return done;
}

static uint64_t stack_pages(const struct ledger_stack *s)
{
        uint64_t n = 0;
        for (unsigned i = 0; i < s->n; i++)
                n += s->run[i].pages;
        return n;
}

void ledger_node_start(struct ledger_entry *e, unsigned node, uint64_t total, uint64_t free_pages, bool hvo_on)
{
        struct ledger_node *n = &e->node[node];
        memset(n, 0, sizeof *n);
        if (free_pages > total)
                free_pages = total;
        bool opt = hvo_on && e->saved_pages_per_page;
        push(&n->used, (struct ledger_run){ .pages = total - free_pages, .optimized = opt ? total - free_pages : 0 });
        push(&n->free, (struct ledger_run){ .pages = free_pages, .optimized = opt ? free_pages : 0 });
        n->total = total;
        n->free_pages = free_pages;
        n->seen = true;
}

void ledger_node_known(struct ledger_entry *e, unsigned node, bool optimized)
{
        struct ledger_node *n = &e->node[node];
        uint64_t total = n->total, free_pages = n->free_pages;
        memset(&n->free, 0, sizeof n->free);
        memset(&n->used, 0, sizeof n->used);
        push(&n->used, (struct ledger_run){ .pages = total - free_pages, .optimized = optimized ? total - free_pages : 0,
                                            .known = true });
        push(&n->free, (struct ledger_run){ .pages = free_pages, .optimized = optimized ? free_pages : 0, .known = true });
}

void ledger_node_observe(struct ledger_entry *e, unsigned node, uint64_t total, uint64_t free_pages, bool hvo_on)
{
        struct ledger_node *n = &e->node[node];
        if (!n->seen) {
                ledger_node_start(e, node, total, free_pages, hvo_on);
                return;
        }
        if (free_pages > total)
                free_pages = total;
        bool opt = hvo_on && e->saved_pages_per_page;
        if (total > n->total) {
                uint64_t g = total - n->total;
                push(&n->free, (struct ledger_run){ .pages = g, .optimized = opt ? g : 0, .known = true });
        } else if (total < n->total) {
                uint64_t s = n->total - total;
                s -= pop(&n->free, s, NULL);
                pop(&n->used, s, NULL);   /* surplus pages freed as their users let go */
        }
        /* Free pages beyond the pool's own moves went to or came from applications. */
        uint64_t model_free = stack_pages(&n->free);
        if (model_free > free_pages)
                pop(&n->free, model_free - free_pages, &n->used);
        else if (model_free < free_pages)
                pop(&n->used, free_pages - model_free, &n->free);
        n->total = total;
        n->free_pages = free_pages;
}

static uint64_t stack_optimized(const struct ledger_stack *s, bool *exact)
{
        uint64_t n = 0;
        for (unsigned i = 0; i < s->n; i++) {
                n += s->run[i].optimized;
                if (!s->run[i].known)
                        *exact = false;
        }
        return n;
}

uint64_t ledger_node_optimized(const struct ledger_entry *e, unsigned node, bool *exact)
{
        bool ex = true;
        const struct ledger_node *n = &e->node[node];
        uint64_t opt = stack_optimized(&n->free, &ex) + stack_optimized(&n->used, &ex);
        if (exact)
                *exact = ex;
        return opt;
}

uint64_t ledger_optimized(const struct ledger_entry *e, bool *exact)
{
        uint64_t sum = 0;
        bool all = true;
        for (unsigned node = 0; node < HUGEVMD_MAX_NODES; node++) {
                bool ex;
                if (!e->node[node].seen)
                        continue;
                sum += ledger_node_optimized(e, node, &ex);
                all = all && ex;
        }
        if (exact)
                *exact = all;
        return sum;
}

static void stack_unoptimized(const struct ledger_stack *s, uint64_t *ret)
{
        *ret = 0;
        for (unsigned i = 0; i < s->n; i++)
                *ret += s->run[i].pages - s->run[i].optimized;
}

void ledger_node_unoptimized(const struct ledger_entry *e, unsigned node, uint64_t *free_pages, uint64_t *used_pages)
{
        const struct ledger_node *n = &e->node[node];
        stack_unoptimized(&n->free, free_pages);
        stack_unoptimized(&n->used, used_pages);
        if (!e->saved_pages_per_page)
                *free_pages = *used_pages = 0;   /* nothing to optimize in this size */
}

bool ledger_node_reopt_target(const struct ledger_entry *e, unsigned node, uint64_t *above, uint64_t *run)
{
        const struct ledger_stack *s = &e->node[node].free;
        *above = *run = 0;
        if (!e->saved_pages_per_page)
                return true;
        for (unsigned i = 0; i < s->n; i++) {
                const struct ledger_run *r = &s->run[i];
                /* Optimized by estimate only: unoptimized pages could be in it. */
                if (r->optimized == r->pages && !r->known)
                        return false;
                if (r->optimized == r->pages) {
                        *above += r->pages;
                        continue;
                }
                /* A mixed run: where in it the unoptimized pages lie is unknown. */
                if (r->optimized != 0)
                        return false;
                *run = r->pages;
                return true;
        }
        return true;
}

uint64_t ledger_node_replace(struct ledger_entry *e, unsigned node, uint64_t batch, uint64_t skip)
{
        struct ledger_node *n = &e->node[node];
        struct ledger_stack held = { .n = 0 }, freed = { .n = 0 };
        push(&n->free, (struct ledger_run){ .pages = batch, .optimized = batch, .known = true });
        pop(&n->free, batch + skip, &held);
        pop(&n->free, batch, &freed);
        pop(&held, batch + skip, &n->free);   /* back in the same order */
        uint64_t unopt;
        stack_unoptimized(&freed, &unopt);
        return unopt;
}

uint64_t ledger_node_head_optimized(const struct ledger_entry *e, unsigned node, uint64_t pages, bool *exact)
{
        struct ledger_stack copy = e->node[node].free, taken = { .n = 0 };
        bool ex = true;
        pop(&copy, pages, &taken);
        uint64_t opt = stack_optimized(&taken, &ex);
        if (exact)
                *exact = ex;
        return opt;
}
