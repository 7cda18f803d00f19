/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness: sizes and page counts as operators write them
 * (vmm_size_parse, vmm_count_parse) and as the library writes them
 * (vmm_size_format, vmm_size_format_human, vmm_size_label).
 *
 * Properties, from vmemmap.h's contract:
 *   - vmm_size_parse and vmm_count_parse accept exactly the grammar the header
 *     describes, with the value it names, -ERANGE on overflow, else -EINVAL
 *     (an independent reference decides);
 *   - parse(format(x)) == x for every x: the input's text when it parsed, and
 *     a 64-bit number from the input (also shifted onto unit boundaries);
 *   - format_human is within half a tenth of a unit of x and never says 1024
 *     of a unit when a bigger one exists;
 *   - into a buffer of every small length, the formatters either fit (NUL
 *     terminated, within len) or say -ENOBUFS with an empty string; ASan
 *     watches the buffer's exact end.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vmemmap.h"

#define CHECK(cond, ...) do { if (!(cond)) { \
        fprintf(stderr, "fuzz-size: property violated at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
        fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } } while (0)

static const char *const unit_letters = "KMGTPE";

/* Reference for vmm_size_parse, from the header: digits, then nothing, "B",
 * or a unit letter alone / with "B" / with "iB", any case. */
static int ref_size_parse(const char *s, uint64_t *ret)
{
        const char *p = s;
        unsigned __int128 v = 0;
        bool big = false;
        unsigned shift = 0;

        for (; *p >= '0' && *p <= '9'; p++) {
                v = v * 10 + (unsigned)(*p - '0');
                if (v > UINT64_MAX) {
                        big = true;
                        v = UINT64_MAX;
                }
        }
        if (p == s)
                return -EINVAL;
        if (*p && strcasecmp(p, "B") != 0) {
                char c = p[0] >= 'a' && p[0] <= 'z' ? (char)(p[0] - 'a' + 'A') : p[0];
                const char *u = strchr(unit_letters, c);

                if (!u || !*u || (p[1] && strcasecmp(p + 1, "B") != 0 && strcasecmp(p + 1, "iB") != 0))
                        return -EINVAL;
                shift = 10 * (unsigned)(u - unit_letters + 1);
        }
        if (big || (v << shift) > UINT64_MAX)
                return -ERANGE;
        *ret = (uint64_t)(v << shift);
        return 0;
}

static int ref_count_parse(const char *s, uint64_t *ret)
{
        unsigned __int128 v = 0;
        bool big = false;

        if (!*s)
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                v = v * 10 + (unsigned)(*p - '0');
                if (v > UINT64_MAX) {
                        big = true;
                        v = UINT64_MAX;
                }
        }
        if (big)
                return -ERANGE;
        *ret = (uint64_t)v;
        return 0;
}

static void check_round_trip(uint64_t x)
{
        char buf[64];
        uint64_t back = 0;
        int r;

        r = vmm_size_format(x, buf, sizeof(buf));
        CHECK(r == 0, "vmm_size_format(%" PRIu64 ") gave %d", x, r);
        r = vmm_size_parse(buf, &back);
        CHECK(r == 0 && back == x, "format(%" PRIu64 ") = \"%s\" parses back as %d, %" PRIu64, x, buf, r, back);

        r = vmm_size_label(x, buf, sizeof(buf));
        char want[64];
        snprintf(want, sizeof(want), "%" PRIu64 "kB", x);
        CHECK(r == 0 && strcmp(buf, want) == 0, "label(%" PRIu64 ") = \"%s\"", x, buf);
}

static void check_human(uint64_t x)
{
        static const char *const names[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        char buf[64], unit[8];
        unsigned long long whole, tenths;
        int r, k = 0;

        r = vmm_size_format_human(x, buf, sizeof(buf));
        CHECK(r == 0, "format_human(%" PRIu64 ") gave %d", x, r);
        if (x < 1024) {
                char want[32];
                snprintf(want, sizeof(want), "%" PRIu64 " B", x);
                CHECK(strcmp(buf, want) == 0, "format_human(%" PRIu64 ") = \"%s\"", x, buf);
                return;
        }
        CHECK(sscanf(buf, "%llu.%1llu %7s%n", &whole, &tenths, unit, &k) == 3 && (size_t)k == strlen(buf),
              "format_human(%" PRIu64 ") = \"%s\" is not \"<n>.<d> <unit>\"", x, buf);
        unsigned i;
        for (i = 0; i < 6 && strcmp(unit, names[i]); i++)
                ;
        CHECK(i < 6, "format_human(%" PRIu64 ") = \"%s\": unknown unit", x, buf);
        unsigned shift = 10 * (i + 1);
        CHECK(whole >= 1 && (whole < 1024 || i == 5), "format_human(%" PRIu64 ") = \"%s\": not the largest unit", x, buf);
        /* |(whole + tenths/10) * 2^shift - x| <= 2^shift / 20 */
        unsigned __int128 shown = ((unsigned __int128)whole * 10 + tenths) << shift;
        unsigned __int128 exact = (unsigned __int128)x * 10;
        unsigned __int128 diff = shown > exact ? shown - exact : exact - shown;
        CHECK(diff <= ((unsigned __int128)1 << shift) / 2, "format_human(%" PRIu64 ") = \"%s\" is off by more than 0.05 unit", x, buf);
}

/* Every formatter into a heap buffer of exactly len bytes. */
static void check_small_buffers(uint64_t x)
{
        int (*const fns[])(uint64_t, char *, size_t) = { vmm_size_format, vmm_size_format_human, vmm_size_label };
        char full[64];

        for (size_t f = 0; f < sizeof(fns) / sizeof(fns[0]); f++) {
                CHECK(fns[f](x, full, sizeof(full)) == 0, "formatter %zu of %" PRIu64, f, x);
                for (size_t len = 0; len <= strlen(full) + 1; len++) {
                        char *buf = malloc(len ? len : 1);
                        int r;

                        if (!buf)
                                abort();
                        if (len)
                                memset(buf, 'x', len);
                        r = fns[f](x, len ? buf : NULL, len);
                        if (len > strlen(full))
                                CHECK(r == 0 && strcmp(buf, full) == 0, "formatter %zu, len %zu: %d", f, len, r);
                        else
                                CHECK(r == -ENOBUFS && (len == 0 || buf[0] == '\0'),
                                      "formatter %zu, len %zu of \"%s\": %d", f, len, full, r);
                        free(buf);
                }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = malloc(size + 1);
        uint64_t got = 0, want = 0, x = 0;
        int r, expect;

        if (!text)
                abort();
        memcpy(text, data, size);
        text[size] = '\0';

        expect = ref_size_parse(text, &want);
        r = vmm_size_parse(text, &got);
        CHECK(r == expect, "vmm_size_parse(\"%.80s\") gave %d, contract says %d", text, r, expect);
        if (r == 0) {
                CHECK(got == want, "vmm_size_parse(\"%.80s\") = %" PRIu64 ", contract says %" PRIu64, text, got, want);
                check_round_trip(got);
        }
        expect = ref_count_parse(text, &want);
        r = vmm_count_parse(text, &got);
        CHECK(r == expect, "vmm_count_parse(\"%.80s\") gave %d, contract says %d", text, r, expect);
        if (r == 0)
                CHECK(got == want, "vmm_count_parse(\"%.80s\") = %" PRIu64, text, got);
        free(text);

        /* The raw bytes as a number, and shifted onto unit boundaries. */
        memcpy(&x, data, size < sizeof(x) ? size : sizeof(x));
        unsigned shift = size > 8 ? data[8] % 64 : 0;
        const uint64_t xs[] = { x, x << shift, (x >> shift) << shift, x >> shift, UINT64_MAX - x };
        for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
                check_round_trip(xs[i]);
                check_human(xs[i]);
        }
        check_small_buffers(x << shift);
        return 0;
}
