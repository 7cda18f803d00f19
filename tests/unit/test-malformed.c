/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hostile sysfs and procfs files: empty, malformed, non-numeric, huge,
 * overflowing, directories where files should be. Every one must give a clean
 * negative errno and leave the caller's result untouched, never garbage. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "fake.h"
#include "tap.h"
#include "vmemmap.h"


#define NR "sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
#define NODE_FREE "sys/devices/system/node/node1/hugepages/hugepages-2048kB/free_hugepages"

/* A file of n copies of c (no newline). */
static void fake_big(const char *root, const char *rel, size_t n, char c)
{
        char *text = malloc(n + 1);

        if (!text) {
                printf("Bail out! out of memory\n");
                exit(1);
        }
        memset(text, c, n);
        text[n] = '\0';
        fake_file(root, rel, "%s", text);
        free(text);
}

static const struct {
        const char *content;
        size_t len; /* 0: strlen(content) */
        int r;
        uint64_t value;
        const char *what;
} number_cases[] = {
        { "12\n", 0, 0, 12, "a number and newline, as the kernel writes it" },
        { "12", 0, 0, 12, "a number without newline" },
        { "0\n", 0, 0, 0, "zero" },
        { "18446744073709551615\n", 0, 0, UINT64_MAX, "the largest 64-bit number" },
        { "", 0, -EBADMSG, 0, "empty file" },
        { "\n", 0, -EBADMSG, 0, "only a newline" },
        { "12abc\n", 0, -EBADMSG, 0, "trailing text" },
        { "abc\n", 0, -EBADMSG, 0, "not a number" },
        { "-1\n", 0, -EBADMSG, 0, "negative" },
        { "+1\n", 0, -EBADMSG, 0, "plus sign" },
        { " 12\n", 0, -EBADMSG, 0, "leading space" },
        { "12 \n", 0, -EBADMSG, 0, "trailing space" },
        { "12\n\n", 0, -EBADMSG, 0, "two newlines" },
        { "12\n13\n", 0, -EBADMSG, 0, "two lines" },
        { "0x10\n", 0, -EBADMSG, 0, "hex in a decimal file" },
        { "1.5\n", 0, -EBADMSG, 0, "fraction" },
        { "1\0" "2\n", 4, -EBADMSG, 0, "NUL byte inside" },
        { "99999999999999999999\n", 0, -ERANGE, 0, "20 digits: overflow" },
        { "18446744073709551616\n", 0, -ERANGE, 0, "2^64: overflow by one" },
};

static void test_number_files(void)
{
        char *root = fake_root_new();
        struct vmm_pool p;
        struct vmm_node_pool np;
        struct vmm_resize rs;
        vmm_ctx *ctx;

        fake_x86_64(root);
        ctx = fake_ctx(root, 4096);
        for (size_t i = 0; i < sizeof(number_cases) / sizeof(number_cases[0]); i++) {
                const char *c = number_cases[i].content;
                size_t len = number_cases[i].len ? number_cases[i].len : strlen(c);
                char path[PATH_MAX];
                FILE *f;

                snprintf(path, sizeof(path), "%s/" NR, root);
                f = fopen(path, "we");
                if (!f || fwrite(c, 1, len, f) != len || fclose(f) != 0) {
                        printf("Bail out! cannot write %s\n", path);
                        exit(1);
                }
                memset(&p, 0xa5, sizeof(p));
                int r = vmm_pool_read(ctx, 2048, &p);
                is_int(r, number_cases[i].r, "nr_hugepages %s -> %s", number_cases[i].what,
                       number_cases[i].r ? strerror(-number_cases[i].r) : "ok");
                if (number_cases[i].r == 0)
                        ok(p.total == number_cases[i].value, "nr_hugepages %s: value %" PRIu64,
                           number_cases[i].what, number_cases[i].value);
                else
                        ok(p.total == UINT64_C(0xa5a5a5a5a5a5a5a5), "nr_hugepages %s: result untouched",
                           number_cases[i].what);
        }

        /* vmm_pool_set reads before it writes: a malformed file stops it before
         * anything is written. */
        fake_file(root, NR, "12abc\n");
        rs = (struct vmm_resize){ 1, 2, 3 };
        is_int(vmm_pool_set(ctx, 2048, -1, 5, &rs), -EBADMSG, "pool set on malformed nr_hugepages is -EBADMSG");
        ok(rs.before == 1 && rs.requested == 2 && rs.reached == 3, "...and leaves *ret untouched");

        /* Too long for any number the kernel writes. */
        fake_big(root, NR, 100 * 1024, '1');
        is_int(vmm_pool_read(ctx, 2048, &p), -EBADMSG, "100 KB of digits is -EBADMSG");
        fake_big(root, NR, 1024 * 1024, '7');
        is_int(vmm_pool_read(ctx, 2048, &p), -EBADMSG, "1 MB of digits is -EBADMSG");
        fake_big(root, NR, 63, '0');
        is_int(vmm_pool_read(ctx, 2048, &p), 0, "63 zeros still fit the number buffer");
        fake_big(root, NR, 64, '0');
        is_int(vmm_pool_read(ctx, 2048, &p), -EBADMSG, "64 zeros do not fit: -EBADMSG, not truncated");
        fake_remove(root, NR);
        fake_dir(root, NR);
        is_int(vmm_pool_read(ctx, 2048, &p), -EISDIR, "nr_hugepages a directory is -EISDIR");
        fake_remove(root, NR);
        fake_symlink(root, NR, "nr_hugepages");
        is_int(vmm_pool_read(ctx, 2048, &p), -ELOOP, "nr_hugepages a symlink loop is -ELOOP");
        fake_remove(root, NR);
        fake_file(root, NR, "3\n");

        /* Each counter, not only nr_hugepages, is checked. */
        const char *counters[] = { "free_hugepages", "resv_hugepages", "surplus_hugepages", "nr_overcommit_hugepages" };
        for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
                char rel[PATH_MAX];

                snprintf(rel, sizeof(rel), "sys/kernel/mm/hugepages/hugepages-2048kB/%s", counters[i]);
                fake_file(root, rel, "x\n");
                memset(&p, 0xa5, sizeof(p));
                is_int(vmm_pool_read(ctx, 2048, &p), -EBADMSG, "malformed %s is -EBADMSG", counters[i]);
                ok(p.total == UINT64_C(0xa5a5a5a5a5a5a5a5), "malformed %s leaves the result untouched", counters[i]);
                fake_file(root, rel, "0\n");
        }
        is_int(vmm_pool_read(ctx, 2048, &p), 0, "repaired pool reads again");

        fake_file(root, NODE_FREE, "%s", "");
        memset(&np, 0xa5, sizeof(np));
        is_int(vmm_node_pool_read(ctx, 2048, 1, &np), -EBADMSG, "empty node free_hugepages is -EBADMSG");
        ok(np.total == UINT64_C(0xa5a5a5a5a5a5a5a5), "...and leaves the result untouched");
        fake_file(root, NODE_FREE, "99999999999999999999\n");
        is_int(vmm_node_pool_read(ctx, 2048, 1, &np), -ERANGE, "overflowing node free_hugepages is -ERANGE");
        vmm_ctx_free(ctx);
        fake_root_free(root);
}

static void test_kernel_files(void)
{
        static const struct { const char *release; int r; unsigned major, minor; } releases[] = {
                { "6.18.44-fc-v782", 0, 6, 18 },  { "5.15.0-91-generic", 0, 5, 15 }, { "6.1", 0, 6, 1 },
                { "6.10-rc1", 0, 6, 10 },         { "4.19.0+", 0, 4, 19 },
                { "", -EBADMSG, 0, 0 },           { "abc", -EBADMSG, 0, 0 },          { "6", -EBADMSG, 0, 0 },
                { "6.", -EBADMSG, 0, 0 },         { "6.x", -EBADMSG, 0, 0 },          { ".18", -EBADMSG, 0, 0 },
                { "-6.18", -EBADMSG, 0, 0 },      { " 6.18", -EBADMSG, 0, 0 },        { "6.+18", -EBADMSG, 0, 0 },
                { "99999999999.1", -EBADMSG, 0, 0 },
        };
        char *root = fake_root_new();
        struct vmm_kernel k;
        struct vmm_hvo h;
        vmm_ctx *ctx;

        fake_x86_64(root);
        ctx = fake_ctx(root, 4096);
        for (size_t i = 0; i < sizeof(releases) / sizeof(releases[0]); i++) {
                fake_file(root, "proc/sys/kernel/osrelease", "%s\n", releases[i].release);
                memset(&k, 0xa5, sizeof(k));
                int r = vmm_kernel_read(ctx, &k);
                if (releases[i].r == 0)
                        ok(r == 0 && k.major == releases[i].major && k.minor == releases[i].minor,
                           "release \"%s\" is %u.%u", releases[i].release, releases[i].major, releases[i].minor);
                else
                        ok(r == releases[i].r && k.major == 0xa5a5a5a5u, "release \"%s\" is -EBADMSG, result untouched",
                           releases[i].release);
        }
        fake_big(root, "proc/sys/kernel/osrelease", 65, '6');
        is_int(vmm_kernel_read(ctx, &k), -EBADMSG, "a release longer than 64 characters is -EBADMSG");
        fake_file(root, "proc/sys/kernel/osrelease", "6.18.0\n");
        fake_big(root, "proc/sys/kernel/arch", 40, 'x');
        is_int(vmm_kernel_read(ctx, &k), -EBADMSG, "an arch longer than 31 characters is -EBADMSG");
        fake_remove(root, "proc/sys/kernel/osrelease");
        is_int(vmm_kernel_read(ctx, &k), -ENOENT, "missing osrelease is -ENOENT");

        static const struct { const char *content; int r; } sysctls[] = {
                { "2\n", -EBADMSG }, { "\n", -EBADMSG }, { "on\n", -EBADMSG }, { "-1\n", -EBADMSG },
                { "1 \n", -EBADMSG }, { "99999999999999999999\n", -ERANGE },
        };
        for (size_t i = 0; i < sizeof(sysctls) / sizeof(sysctls[0]); i++) {
                fake_file(root, "proc/sys/vm/hugetlb_optimize_vmemmap", "%s", sysctls[i].content);
                memset(&h, 0xa5, sizeof(h));
                int r = vmm_hvo_read(ctx, &h);
                ok(r == sysctls[i].r && h.boot_param == (enum vmm_boot_param)0xa5a5a5a5,
                   "HVO sysctl \"%.*s\" is %s, result untouched", (int)strcspn(sysctls[i].content, "\n"),
                   sysctls[i].content, strerror(-sysctls[i].r));
        }
        fake_file(root, "proc/sys/vm/hugetlb_optimize_vmemmap", "1\n");
        fake_big(root, "proc/cmdline", 1024 * 1024, 'a');
        is_int(vmm_hvo_read(ctx, &h), -EBADMSG, "a 1 MB /proc/cmdline is -EBADMSG");
        vmm_ctx_free(ctx);
        fake_root_free(root);
}

static void test_memmap_files(void)
{
        static const struct { const char *content; int r; } block_sizes[] = {
                { "8000000", 0 },             { "8000000\n", 0 },        { "8000000 \n", -EBADMSG },
                { "0x8000000\n", -EBADMSG },  { "\n", -EBADMSG },         { "zz\n", -EBADMSG },
                { "0\n", -EBADMSG },          { "7ff\n", -EBADMSG },      { "-8000000\n", -EBADMSG },
                { "10000000000000000\n", -ERANGE },
        };
        static const struct { const char *vmstat; int r; const char *what; } vmstats[] = {
                { "nr_memmap_pages 0\nnr_memmap_boot_pages 8192\n", 0, "both counters" },
                { "nr_memmap_boot_pages 8192\nnr_memmap_pages 0", 0, "other order, no final newline" },
                { "nr_memmap_pages 0\n", -ENODATA, "boot counter missing" },
                { "nr_memmap_boot_pages 8192\n", -ENODATA, "memmap counter missing" },
                { "", -ENODATA, "empty vmstat" },
                { "nr_memmap_pages_x 0\nnr_memmap_boot_pages 8192\n", -ENODATA, "only a longer name" },
                { "nr_memmap_pages abc\nnr_memmap_boot_pages 8192\n", -EBADMSG, "non-numeric counter" },
                { "nr_memmap_pages -5\nnr_memmap_boot_pages 8192\n", -EBADMSG, "negative counter" },
                { "nr_memmap_pages\nnr_memmap_boot_pages 8192\n", -EBADMSG, "counter without value" },
                { "nr_memmap_pages 0 0\nnr_memmap_boot_pages 8192\n", -EBADMSG, "two values" },
                { "nr_memmap_pages 99999999999999999999\nnr_memmap_boot_pages 1\n", -ERANGE, "overflowing counter" },
                { "nr_memmap_pages 18446744073709551615\nnr_memmap_boot_pages 1\n", -ERANGE, "sum overflows" },
        };
        char *root = fake_root_new();
        struct vmm_memmap m;
        vmm_ctx *ctx;

        fake_x86_64(root);
        ctx = fake_ctx(root, 4096);
        for (size_t i = 0; i < sizeof(block_sizes) / sizeof(block_sizes[0]); i++) {
                fake_file(root, "sys/devices/system/memory/block_size_bytes", "%s", block_sizes[i].content);
                memset(&m, 0xa5, sizeof(m));
                int r = vmm_memmap_read(ctx, &m);
                if (block_sizes[i].r == 0)
                        ok(r == 0 && m.baseline_pages == 8192, "block_size_bytes \"%.*s\" reads (baseline 8192)",
                           (int)strcspn(block_sizes[i].content, "\n"), block_sizes[i].content);
                else
                        ok(r == block_sizes[i].r && m.baseline_pages == UINT64_C(0xa5a5a5a5a5a5a5a5),
                           "block_size_bytes \"%.*s\" is %s, result untouched",
                           (int)strcspn(block_sizes[i].content, "\n"), block_sizes[i].content,
                           strerror(-block_sizes[i].r));
        }
        fake_file(root, "sys/devices/system/memory/block_size_bytes", "8000000\n");
        for (size_t i = 0; i < sizeof(vmstats) / sizeof(vmstats[0]); i++) {
                fake_file(root, "proc/vmstat", "%s", vmstats[i].vmstat);
                memset(&m, 0xa5, sizeof(m));
                int r = vmm_memmap_read(ctx, &m);
                if (vmstats[i].r == 0)
                        ok(r == 0 && m.current_pages == 8192, "vmstat %s reads (current 8192)", vmstats[i].what);
                else
                        ok(r == vmstats[i].r && m.current_pages == UINT64_C(0xa5a5a5a5a5a5a5a5),
                           "vmstat %s is %s, result untouched", vmstats[i].what, strerror(-vmstats[i].r));
        }
        fake_big(root, "proc/vmstat", 1024 * 1024, 'n');
        is_int(vmm_memmap_read(ctx, &m), -EBADMSG, "a 1 MB /proc/vmstat is -EBADMSG");
        vmm_ctx_free(ctx);
        fake_root_free(root);
}

int main(void)
{
        test_number_files();
        test_kernel_files();
        test_memmap_files();
        return tap_done();
}
