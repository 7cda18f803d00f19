/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The forecast: how many pages of a size growth can get, now and after
 * compaction, from the kernel's free lists (docs/protocol.md "Forecast"). */
#ifndef HUGEVMD_FORECAST_H
#define HUGEVMD_FORECAST_H

#include <stdbool.h>
#include <stdint.h>

#include "vmemmap.h"

struct forecast {
        bool valid;            /* else the forecast is null */
        uint64_t now;          /* pages the free lists give now */
        uint64_t after;        /* pages after compaction (free and movable memory) */
        uint64_t expect;       /* min(target, current + after) */
        uint64_t short_pages;  /* target - expect */
        char why[64];          /* "424 MiB unmovable", "424 MiB not free", "" */
};

/* What the free lists held at the last read, per node. */
struct forecast_mem {
        struct vmm_buddy node[64];
        uint64_t read_mask;    /* nodes read */
        /* Ranges that could become a page (vmm_contig_ranges): gigantic pages,
         * and smaller ones while compaction leaves mlocked pages; per node for
         * one order, counted up to contig_max, read when first needed after
         * each read of the lists. */
        uint64_t contig[64], contig_max[64];
        int contig_order[64];  /* 0: not read since the lists were */
        uint64_t contig_mask;  /* nodes whose count is known */
        bool unevictable_pinned; /* vm.compact_unevictable_allowed=0: compaction leaves mlocked pages */
        uint64_t contig_budget; /* kpageflags entries the scans may still read until the next read of the lists */
};

struct core;
struct pool_rt;
struct target;

/* Read every node's free lists and pageblocks (core->fmem). */
void forecast_read(struct core *core);
/* The forecast for pool p reaching target (node < 0: the whole pool, summed
 * over the nodes), from the last read. */
void forecast_compute(struct core *core, const struct pool_rt *p, int node, uint64_t target, struct forecast *ret);
/* At refresh: the forecasts of the managed pools that grow, reading the free
 * lists once if any does; every other forecast is null. */
void forecast_refresh(struct core *core);
/* The forecasts of pool p for a target t (a dry run): fills whole and nodes. */
void forecast_for_target(struct core *core, const struct pool_rt *p, const struct target *t, struct forecast *whole,
                         struct forecast *nodes);

/* Whether dropping the clean page cache would cover what the pool (node < 0)
 * or node still misses toward target, by the last forecast: short, and the
 * clean cache of its nodes, in pages, at least the shortfall. */
bool forecast_cache_covers(struct core *core, const struct pool_rt *p, int node, uint64_t target);
/* Pages of size_kb the free lists give now on node (< 0: the machine), read
 * with ctx (any thread); UINT64_MAX when unreadable. */
uint64_t forecast_pages_now(vmm_ctx *ctx, int node, uint64_t size_kb, uint64_t base_kb);

#endif
