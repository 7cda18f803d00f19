/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one monotonic clock of hugevmd and hugevmctl (never jumps with the wall clock). */
#ifndef HUGEVM_CLOCK_H
#define HUGEVM_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline double clock_seconds(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline int64_t clock_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
