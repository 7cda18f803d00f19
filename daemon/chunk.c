/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include "chunk.h"

uint64_t chunk_pages(double ns_per_page)
{
        if (ns_per_page <= 0)
                return CHUNK_FIRST_PAGES;
        double pages = CHUNK_TARGET_NS / ns_per_page;
        if (pages < CHUNK_MIN_PAGES)
                return CHUNK_MIN_PAGES;
        if (pages > CHUNK_MAX_PAGES)
                return CHUNK_MAX_PAGES;
        return (uint64_t)pages;
}
