/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The savings ledger: a model of which hugepages are HVO-optimized, built
 * only from what the pools' counters show and the HVO setting at each change
 * (never corrected by the kernel's memmap counters: those are the independent
 * measurement it is checked against). Pure arithmetic, no I/O: unit-tested on
 * its own (tests/daemon/test-ledger).
 *
 * The kernel keeps one free list per node and size (mm/hugetlb.c): new pages
 * and pages applications give back go to its head; shrinking the pool and
 * applications taking pages both take from the head. A page is optimized iff
 * HVO was on when it was allocated. So each node is modelled as a stack of
 * runs of free pages, head first, and a stack of runs applications hold
 * (most recently taken first: what they give back is assumed to be what they
 * took last).
 */
#ifndef HUGEVMD_LEDGER_H
#define HUGEVMD_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

/* Pages allocated together: how many, and how many of them are optimized.
 * A run from one allocation is pure (0 or all optimized); runs merged when a
 * stack is full, and pages of unknown history, are mixed. */
struct ledger_run {
        uint64_t pages, optimized;
        bool known;              /* the split is known, not estimated */
};

#define LEDGER_MAX_RUNS 24u      /* per stack; beyond, the two deepest runs merge */

struct ledger_stack {
        struct ledger_run run[LEDGER_MAX_RUNS];   /* [0] is the head */
        unsigned n;
};

struct ledger_node {
        struct ledger_stack free, used;
        uint64_t total, free_pages;   /* as last observed */
        bool seen;
};

struct ledger_entry {
        uint64_t saved_pages_per_page;   /* base pages HVO frees per hugepage; 0 if not eligible */
        struct ledger_node node[HUGEVMD_MAX_NODES];
};

/* A node of the pool seen for the first time: what it holds came before us,
 * so its split is unknown (estimated from the HVO setting now)... */
void ledger_node_start(struct ledger_entry *e, unsigned node, uint64_t total, uint64_t free_pages, bool hvo_on);
/* ... unless the kernel's counters say that none or all of the pool's pages
 * are optimized: then every page of the node is, known. */
void ledger_node_known(struct ledger_entry *e, unsigned node, bool optimized);
/* The node now holds total pages, free_pages of them free; hvo_on is HVO's
 * setting while it changed. Growth pushes new pages on the free list's head,
 * shrinking pops them from there; free pages that went without the total
 * changing were taken by applications, and came back when it grew. */
void ledger_node_observe(struct ledger_entry *e, unsigned node, uint64_t total, uint64_t free_pages, bool hvo_on);

/* Unoptimized pages of a node, free and held by applications (per the model;
 * mixed runs count their estimated share). */
void ledger_node_unoptimized(const struct ledger_entry *e, unsigned node, uint64_t *free_pages, uint64_t *used_pages);
/* Where the next re-optimization batch can take unoptimized free pages from:
 * *above optimized free pages lie on the free list's head before the first
 * unoptimized run, which holds *run pages (0: none, or its split is only an
 * estimate: *run 0 and returns false; so when optimized pages above it are
 * only estimated). */
bool ledger_node_reopt_target(const struct ledger_entry *e, unsigned node, uint64_t *above, uint64_t *run);
/* A batch replaced: batch new optimized pages grown on the free list's head,
 * the batch freed from under the first batch + skip pages (held meanwhile:
 * the caller counts them free, so they stay on the model's list, where the
 * kernel puts them back). Returns how many freed pages were unoptimized. */
uint64_t ledger_node_replace(struct ledger_entry *e, unsigned node, uint64_t batch, uint64_t skip);

/* Optimized pages among the first pages free pages of a node's free list
 * (what demotion or a shrink takes next); *exact (may be NULL): no estimate. */
uint64_t ledger_node_head_optimized(const struct ledger_entry *e, unsigned node, uint64_t pages, bool *exact);

/* Optimized pages of one node or all, per the model; *exact (may be NULL):
 * no page of unknown history is counted. */
uint64_t ledger_node_optimized(const struct ledger_entry *e, unsigned node, bool *exact);
uint64_t ledger_optimized(const struct ledger_entry *e, bool *exact);

#endif
