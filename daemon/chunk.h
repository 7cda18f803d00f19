/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How many pages one resize write moves. Each write is one threadpool job, so
 * the loop answers requests and reports progress between writes; the size
 * aims at ~75 ms per write from the measured cost per page, which keeps the
 * fixed cost of a write (syscalls, the kernel's hstate mutex, the threadpool
 * hop) far below 5% of the work (tests/daemon/bench-chunk measures it).
 */
#ifndef HUGEVMD_CHUNK_H
#define HUGEVMD_CHUNK_H

#include <stdint.h>

#define CHUNK_TARGET_NS    75e6
#define CHUNK_FIRST_PAGES  128u      /* before anything is measured */
#define CHUNK_MIN_PAGES    16u
#define CHUNK_MAX_PAGES    (1u << 20)

/* ns_per_page <= 0: nothing measured yet. */
uint64_t chunk_pages(double ns_per_page);

#endif
