/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The savings ledger: how many pages of each pool are HVO-optimized. Pure
 * arithmetic, no I/O, so it is unit-tested on its own (tests/daemon).
 *
 * The kernel has no per-size count of optimized pages, so the ledger follows
 * every change of a pool's size: growth while HVO is on adds optimized pages,
 * growth while it is off adds plain ones. A shrink of a pool holding both
 * kinds leaves the split uncertain: the ledger keeps bounds [lo, hi] on the
 * optimized count. Where the kernel's memmap counters give the measured total
 * (6.11+), ledger_resolve() solves sum(optimized_i * saved_i) == measured for
 * the uncertain sizes; a unique solution makes them exact again.
 */
#ifndef HUGEVMD_LEDGER_H
#define HUGEVMD_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ledger_entry {
        uint64_t size_kb;
        uint64_t saved_pages_per_page; /* base pages HVO frees per hugepage; 0 if not eligible */
        uint64_t total;                /* pool size last observed */
        uint64_t lo, hi;               /* provable bounds on optimized pages */
        uint64_t optimized;            /* exact when lo == hi, else the best estimate */
        bool exact;                    /* the saving of this size is known, not estimated */
};

/* A pool seen for the first time holding total pages, nothing known about
 * them: bounds [0, total], estimate from the current HVO state. */
void ledger_start(struct ledger_entry *e, uint64_t size_kb, uint64_t saved_pages_per_page,
                  uint64_t total, bool hvo_on);

/* The pool now holds new_total pages; hvo_on is HVO's state while it changed. */
void ledger_observe(struct ledger_entry *e, uint64_t new_total, bool hvo_on);

/* Reconcile with a measured saving (base pages) over all entries. Without a
 * measurement, exactness is just lo == hi. Returns true when every entry's
 * saving is exact afterwards. */
bool ledger_resolve(struct ledger_entry *entries, size_t n, bool measured, int64_t measured_saved_pages);

/* Model saving of all entries in base pages. */
uint64_t ledger_saved_pages(const struct ledger_entry *entries, size_t n);

#endif
