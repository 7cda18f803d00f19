/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A minimal TAP producer for automake's tap-driver: every check is one counted case. */
#ifndef HUGEVM_TAP_H
#define HUGEVM_TAP_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...) do {                                                   \
        int ok_c_ = !!(cond);                                                \
        printf("%s %d - ", ok_c_ ? "ok" : "not ok", ++tap_n);                \
        printf(__VA_ARGS__);                                                 \
        printf("\n");                                                        \
        if (!ok_c_) {                                                        \
                tap_failed++;                                                \
                printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                    \
} while (0)

#define is_int(got, want, ...) do {                                          \
        long long is_g_ = (long long)(got), is_w_ = (long long)(want);       \
        ok(is_g_ == is_w_, __VA_ARGS__);                                     \
        if (is_g_ != is_w_)                                                  \
                printf("#   got %lld, want %lld\n", is_g_, is_w_);           \
} while (0)

#define is_str(got, want, ...) do {                                          \
        const char *is_g_ = (got), *is_w_ = (want);                          \
        int is_eq_ = is_g_ && is_w_ && strcmp(is_g_, is_w_) == 0;            \
        ok(is_eq_, __VA_ARGS__);                                             \
        if (!is_eq_)                                                         \
                printf("#   got \"%s\", want \"%s\"\n", is_g_ ? is_g_ : "(null)", is_w_ ? is_w_ : "(null)"); \
} while (0)

/* n cases that cannot run here: counted as skipped by the driver. */
#define skip(n, ...) do {                                                    \
        for (int skip_i_ = 0; skip_i_ < (n); skip_i_++) {                    \
                printf("ok %d # SKIP ", ++tap_n);                            \
                printf(__VA_ARGS__);                                         \
                printf("\n");                                                \
        }                                                                    \
} while (0)

#define skip_all(...) do { printf("1..0 # SKIP "); printf(__VA_ARGS__); printf("\n"); return 0; } while (0)

/* Call last: prints the plan and gives main's exit code. */
static inline int tap_done(void)
{
        printf("1..%d\n", tap_n);
        return tap_failed ? 1 : 0;
}

#endif
