/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sizes and counts as operators write them: parse, format, round-trip. */
#include "config.h"

#include <errno.h>

#include "tap.h"
#include "vmemmap.h"

#define KiB UINT64_C(1024)
#define MiB (KiB * 1024)
#define GiB (MiB * 1024)
#define TiB (GiB * 1024)
#define EiB (TiB * 1024 * 1024)

static const struct {
        const char *text;
        int r;
        uint64_t bytes;
} parse_cases[] = {
        /* What operators write, each spelling the issue names. */
        { "2M", 0, 2 * MiB },          { "2MB", 0, 2 * MiB },        { "2MiB", 0, 2 * MiB },
        { "2048kB", 0, 2 * MiB },      { "2048K", 0, 2 * MiB },      { "1G", 0, GiB },
        { "1GB", 0, GiB },             { "1GiB", 0, GiB },           { "4096", 0, 4096 },
        /* Units are case-insensitive and binary. */
        { "2m", 0, 2 * MiB },          { "2mb", 0, 2 * MiB },        { "2MIB", 0, 2 * MiB },
        { "2048KB", 0, 2 * MiB },      { "2048kib", 0, 2 * MiB },    { "1g", 0, GiB },
        { "64k", 0, 64 * KiB },        { "1T", 0, TiB },             { "1536B", 0, 1536 },
        { "512b", 0, 512 },            { "0", 0, 0 },                { "007M", 0, 7 * MiB },
        { "15E", 0, 15 * EiB },        { "18446744073709551615", 0, UINT64_MAX },
        { "17179869183G", 0, UINT64_C(17179869183) * GiB },
        /* Leading zeros add nothing, however many (found by tests/fuzz/fuzz-size). */
        { "00000000000000000000000000000002M", 0, 2 * MiB },
        { "0000000000000000000000000000000000000000", 0, 0 },
        /* Rejected: what the brief and the issue list, and their neighbours. */
        { "2.5M", -EINVAL, 0 },        { "-2M", -EINVAL, 0 },        { "+2M", -EINVAL, 0 },
        { " 2M", -EINVAL, 0 },         { "2M ", -EINVAL, 0 },        { "2 M", -EINVAL, 0 },
        { "2Mx", -EINVAL, 0 },         { "2MBB", -EINVAL, 0 },       { "2MiBs", -EINVAL, 0 },
        { "0x10", -EINVAL, 0 },        { "", -EINVAL, 0 },           { "M", -EINVAL, 0 },
        { "2Q", -EINVAL, 0 },          { "2iB", -EINVAL, 0 },        { "2Mi", -EINVAL, 0 },
        { "1e6", -EINVAL, 0 },         { "2\n", -EINVAL, 0 },        { "2M\n", -EINVAL, 0 },
        /* Overflow, also when the unit pushes it over. */
        { "20000000000000000000", -ERANGE, 0 },  { "18446744073709551616", -ERANGE, 0 },
        { "99999999999G", -ERANGE, 0 },          { "16E", -ERANGE, 0 },
        { "17179869184G", -ERANGE, 0 },          { "1000000000000000000000000000000000000000K", -ERANGE, 0 },
        /* Garbage after an overflowing number is still garbage. */
        { "99999999999999999999999x", -EINVAL, 0 },
};

static const struct {
        const char *text;
        int r;
        uint64_t value;
} count_cases[] = {
        { "0", 0, 0 },                 { "1", 0, 1 },                { "512", 0, 512 },
        { "0010", 0, 10 },             { "00000000000000000000000000000000007", 0, 7 },             { "18446744073709551615", 0, UINT64_MAX },
        { "", -EINVAL, 0 },            { "-1", -EINVAL, 0 },         { "+1", -EINVAL, 0 },
        { "0x10", -EINVAL, 0 },        { "10 ", -EINVAL, 0 },        { " 10", -EINVAL, 0 },
        { "10\n", -EINVAL, 0 },        { "1e3", -EINVAL, 0 },        { "12abc", -EINVAL, 0 },
        { "2M", -EINVAL, 0 },          { "1.0", -EINVAL, 0 },
        { "18446744073709551616", -ERANGE, 0 },  { "99999999999999999999", -ERANGE, 0 },
};

static const struct {
        uint64_t bytes;
        const char *text;
} format_cases[] = {
        { 0, "0B" },                   { 1, "1B" },                  { 512, "512B" },
        { 1536, "1536B" },             { 1024, "1KiB" },             { 1536 * KiB, "1536KiB" },
        { 2 * MiB, "2MiB" },           { 28 * KiB, "28KiB" },        { 16380 * KiB, "16380KiB" },
        { GiB, "1GiB" },               { 3 * GiB + MiB, "3073MiB" }, { 16 * GiB, "16GiB" },
        { TiB, "1TiB" },               { 8 * EiB, "8EiB" },          { UINT64_MAX, "18446744073709551615B" },
};

static const struct {
        uint64_t bytes;
        const char *text;
} human_cases[] = {
        { 0, "0 B" },                  { 512, "512 B" },             { 1023, "1023 B" },
        { 1024, "1.0 KiB" },           { 1536, "1.5 KiB" },          { 28 * MiB, "28.0 MiB" },
        { GiB + GiB / 5, "1.2 GiB" },  { 28 * KiB, "28.0 KiB" },     { 7 * 4 * KiB * 1000, "27.3 MiB" },
        /* Rounding up across a unit boundary says the bigger unit. */
        { MiB - 1, "1.0 MiB" },        { 1023 * KiB + 50, "1023.0 KiB" }, { 1023 * KiB + 1024 - 40, "1.0 MiB" },
        { 1075 * KiB, "1.0 MiB" },     { 1076 * KiB, "1.1 MiB" },    { UINT64_MAX, "16.0 EiB" },
};

/* The text with newlines shown as \n, so a TAP line stays one line. */
static const char *shown(const char *text)
{
        static char buf[4][96];
        static int which;
        char *out = buf[which++ % 4];
        size_t n = 0;

        for (; *text && n + 3 < sizeof(buf[0]); text++) {
                if (*text == '\n') {
                        out[n++] = '\\';
                        out[n++] = 'n';
                } else
                        out[n++] = *text;
        }
        out[n] = '\0';
        return out;
}

int main(void)
{
        char buf[64];
        uint64_t v;

        for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
                v = 0xdeadbeef;
                int r = vmm_size_parse(parse_cases[i].text, &v);

                if (parse_cases[i].r == 0) {
                        is_int(r, 0, "size \"%s\" parses", parse_cases[i].text);
                        ok(v == parse_cases[i].bytes, "size \"%s\" is %" PRIu64 " bytes (got %" PRIu64 ")",
                           parse_cases[i].text, parse_cases[i].bytes, v);
                } else {
                        is_int(r, parse_cases[i].r, "size \"%s\" rejected with %s", shown(parse_cases[i].text),
                               strerror(-parse_cases[i].r));
                        ok(v == 0xdeadbeef, "size \"%s\" leaves the result untouched", shown(parse_cases[i].text));
                }
        }
        is_int(vmm_size_parse(NULL, &v), -EINVAL, "size NULL text is -EINVAL");

        for (size_t i = 0; i < sizeof(count_cases) / sizeof(count_cases[0]); i++) {
                v = 0xdeadbeef;
                int r = vmm_count_parse(count_cases[i].text, &v);

                is_int(r, count_cases[i].r, "count \"%s\" -> %d", shown(count_cases[i].text), count_cases[i].r);
                ok(v == (count_cases[i].r == 0 ? count_cases[i].value : 0xdeadbeef),
                   "count \"%s\" value %s", shown(count_cases[i].text), count_cases[i].r == 0 ? "right" : "untouched");
        }

        for (size_t i = 0; i < sizeof(format_cases) / sizeof(format_cases[0]); i++) {
                int r = vmm_size_format(format_cases[i].bytes, buf, sizeof(buf));

                ok(r == 0 && strcmp(buf, format_cases[i].text) == 0, "format %" PRIu64 " -> \"%s\" (got %d \"%s\")",
                   format_cases[i].bytes, format_cases[i].text, r, buf);
                /* What format writes, parse reads back to the same number. */
                ok(vmm_size_parse(buf, &v) == 0 && v == format_cases[i].bytes, "\"%s\" parses back to %" PRIu64,
                   buf, format_cases[i].bytes);
        }
        is_int(vmm_size_format(2 * MiB, buf, 5), 0, "format \"2MiB\" into exactly 5 bytes fits");
        is_int(vmm_size_format(2 * MiB, buf, 4), -ENOBUFS, "format into 4 bytes is -ENOBUFS");
        is_int(vmm_size_format(2 * MiB, buf, 0), -ENOBUFS, "format into 0 bytes is -ENOBUFS");

        for (size_t i = 0; i < sizeof(human_cases) / sizeof(human_cases[0]); i++) {
                int r = vmm_size_format_human(human_cases[i].bytes, buf, sizeof(buf));

                ok(r == 0 && strcmp(buf, human_cases[i].text) == 0, "human %" PRIu64 " -> \"%s\" (got %d \"%s\")",
                   human_cases[i].bytes, human_cases[i].text, r, buf);
        }
        is_int(vmm_size_format_human(28 * MiB, buf, 8), -ENOBUFS, "human \"28.0 MiB\" into 8 bytes is -ENOBUFS");

        is_int(vmm_size_label(2048, buf, sizeof(buf)), 0, "label 2048 ok");
        is_str(buf, "2048kB", "label 2048 -> 2048kB (the sysfs name)");
        is_int(vmm_size_label(1048576, buf, sizeof(buf)), 0, "label 1048576 ok");
        is_str(buf, "1048576kB", "label 1048576 -> 1048576kB");
        is_int(vmm_size_label(2048, buf, 6), -ENOBUFS, "label 2048 into 6 bytes is -ENOBUFS");
        is_int(vmm_size_label(2048, buf, 7), 0, "label 2048 into exactly 7 bytes fits");
        return tap_done();
}
