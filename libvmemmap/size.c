/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sizes and page counts as operators write them. All units are binary: "kB"
 * means 1024 bytes, as in sysfs and /proc/meminfo. */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

static const struct {
        char letter;       /* K, M, G...; shift = 10 * (index + 1) */
        const char *name;  /* as formatted */
} units[] = {
        { 'K', "KiB" }, { 'M', "MiB" }, { 'G', "GiB" }, { 'T', "TiB" }, { 'P', "PiB" }, { 'E', "EiB" },
};
#define N_UNITS (sizeof(units) / sizeof(units[0]))

int vmm_count_parse(const char *text, uint64_t *ret)
{
        return vmmi_parse_u64_dec(text, ret);
}

/* Shift (bytes = value << shift) for a unit suffix: "" or "B" is 0; "K", "KB"
 * and "KiB" (any case) are 10, and so on. -EINVAL for anything else. */
static int unit_shift(const char *suffix, unsigned *ret_shift)
{
        if (*suffix == '\0' || strcasecmp(suffix, "B") == 0) {
                *ret_shift = 0;
                return 0;
        }
        for (size_t i = 0; i < N_UNITS; i++) {
                char c = suffix[0];

                if (c != units[i].letter && c != units[i].letter + ('a' - 'A'))
                        continue;
                if (suffix[1] == '\0' || strcasecmp(suffix + 1, "B") == 0 || strcasecmp(suffix + 1, "iB") == 0) {
                        *ret_shift = 10 * (unsigned)(i + 1);
                        return 0;
                }
                return -EINVAL;
        }
        return -EINVAL;
}

int vmm_size_parse(const char *text, uint64_t *ret_bytes)
{
        char digits[32];
        const char *p;
        uint64_t value;
        unsigned shift;
        size_t n;
        int r;

        if (!text || !ret_bytes)
                return -EINVAL;
        for (p = text; *p >= '0' && *p <= '9'; p++)
                ;
        n = (size_t)(p - text);
        if (n == 0)
                return -EINVAL;
        r = unit_shift(p, &shift);
        if (r < 0)
                return r;
        /* Leading zeros add nothing ("0002M" is 2M, however many there are). */
        while (n > 1 && *text == '0') {
                text++;
                n--;
        }
        /* More significant digits than any uint64_t has: overflow. */
        if (n >= sizeof(digits))
                return -ERANGE;
        memcpy(digits, text, n);
        digits[n] = '\0';
        r = vmmi_parse_u64_dec(digits, &value);
        if (r < 0)
                return r;
        if (shift > 0 && value > (UINT64_MAX >> shift))
                return -ERANGE;
        *ret_bytes = value << shift;
        return 0;
}

/* snprintf into buf; -ENOBUFS when it does not fit. */
static int format_into(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int format_into(char *buf, size_t len, const char *fmt, ...)
{
        va_list ap;
        int r;

        if (!buf || len == 0)
                return -ENOBUFS;
        va_start(ap, fmt);
        r = vsnprintf(buf, len, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -EINVAL;
        if ((size_t)r >= len) {
                buf[0] = '\0';
                return -ENOBUFS;
        }
        return 0;
}

int vmm_size_format(uint64_t bytes, char *buf, size_t len)
{
        int i;

        if (bytes == 0)
                return format_into(buf, len, "0B");
        /* Largest unit that divides exactly. */
        for (i = (int)N_UNITS - 1; i >= 0; i--) {
                unsigned shift = 10 * (unsigned)(i + 1);

                if ((bytes & ((UINT64_C(1) << shift) - 1)) == 0)
                        return format_into(buf, len, "%" PRIu64 "%s", bytes >> shift, units[i].name);
        }
        return format_into(buf, len, "%" PRIu64 "B", bytes);
}

int vmm_size_format_human(uint64_t bytes, char *buf, size_t len)
{
        uint64_t whole, tenths;
        unsigned shift;
        int i;

        if (bytes < 1024)
                return format_into(buf, len, "%" PRIu64 " B", bytes);
        for (i = (int)N_UNITS - 1; i > 0; i--)
                if (bytes >> (10 * (i + 1)))
                        break;
        for (;;) {
                uint64_t unit, rem;

                shift = 10 * (unsigned)(i + 1);
                unit = UINT64_C(1) << shift;
                whole = bytes >> shift;
                rem = bytes & (unit - 1);
                /* rem * 10 < 10 * 2^60 fits in 64 bits. Round half up. */
                tenths = (rem * 10 + unit / 2) >> shift;
                if (tenths == 10) {
                        whole++;
                        tenths = 0;
                }
                /* 1023.96 KiB rounds to 1024.0 KiB: say 1.0 MiB instead. */
                if (whole >= 1024 && i + 1 < (int)N_UNITS) {
                        i++;
                        continue;
                }
                break;
        }
        return format_into(buf, len, "%" PRIu64 ".%" PRIu64 " %s", whole, tenths, units[i].name);
}

int vmm_size_label(uint64_t size_kb, char *buf, size_t len)
{
        return format_into(buf, len, "%" PRIu64 "kB", size_kb);
}
