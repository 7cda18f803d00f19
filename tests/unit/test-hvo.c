/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* HVO on kernels and architectures this machine is not: the savings
 * arithmetic of KERNEL.md (x86-64, arm64 with 4K/16K/64K base pages, 5.15's
 * reserve of 2), the sysctl, and the boot parameter as the kernel reads it. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "fake.h"
#include "tap.h"
#include "vmemmap.h"

#define KiB UINT64_C(1024)

static const struct {
        const char *what;
        uint64_t size_kb, page_size, struct_page_size;
        unsigned reserve;
        bool eligible;
        uint64_t vmemmap_pages, saved_pages, saved_bytes;
} compute_cases[] = {
        /* KERNEL.md's table, x86-64 since 5.18: 7 pages / 28 KiB per 2M, 4095 / 16380 KiB per 1G. */
        { "x86-64 2M", 2048, 4096, 64, 1, true, 8, 7, 28 * KiB },
        { "x86-64 1G", 1048576, 4096, 64, 1, true, 4096, 4095, 16380 * KiB },
        /* 5.14-5.17 keep two pages: 6 / 24 KiB per 2M, 4094 per 1G. */
        { "x86-64 2M reserve 2", 2048, 4096, 64, 2, true, 8, 6, 24 * KiB },
        { "x86-64 1G reserve 2", 1048576, 4096, 64, 2, true, 4096, 4094, 4094 * 4 * KiB },
        /* arm64, 4K base pages: 64K (contiguous PTEs), 2M, 32M (contiguous PMDs), 1G. */
        { "arm64/4K 64K: 1 KiB of vmemmap, less than a page", 64, 4096, 64, 1, false, 0, 0, 0 },
        { "arm64/4K 2M", 2048, 4096, 64, 1, true, 8, 7, 28 * KiB },
        { "arm64/4K 32M", 32768, 4096, 64, 1, true, 128, 127, 127 * 4 * KiB },
        { "arm64/4K 1G", 1048576, 4096, 64, 1, true, 4096, 4095, 16380 * KiB },
        /* arm64, 16K base pages: 2M (contiguous PTEs), 32M (PMD), 1G (contiguous PMDs). */
        { "arm64/16K 2M: 8 KiB of vmemmap, less than a page", 2048, 16384, 64, 1, false, 0, 0, 0 },
        { "arm64/16K 32M", 32768, 16384, 64, 1, true, 8, 7, 7 * 16 * KiB },
        { "arm64/16K 1G", 1048576, 16384, 64, 1, true, 256, 255, 255 * 16 * KiB },
        /* arm64, 64K base pages: 2M (contiguous PTEs), 512M (PMD), 16G (contiguous PMDs). */
        { "arm64/64K 2M: 2 KiB of vmemmap, less than a page", 2048, 65536, 64, 1, false, 0, 0, 0 },
        { "arm64/64K 512M", 524288, 65536, 64, 1, true, 8, 7, 7 * 64 * KiB },
        { "arm64/64K 16G", 16777216, 65536, 64, 1, true, 256, 255, 255 * 64 * KiB },
        { "arm64/64K 512M reserve 2", 524288, 65536, 64, 2, true, 8, 6, 6 * 64 * KiB },
        /* V must exceed the reserve. */
        { "256K hugepage: V = 1 = reserve", 256, 4096, 64, 1, false, 1, 0, 0 },
        { "512K hugepage: V = 2, one page saved", 512, 4096, 64, 1, true, 2, 1, 4 * KiB },
        { "512K hugepage, reserve 2: V = reserve", 512, 4096, 64, 2, false, 2, 0, 0 },
        /* A struct page that is not a power of two would straddle pages: no HVO. */
        { "struct page 56 bytes", 2048, 4096, 56, 1, false, 7, 0, 0 },
        { "struct page 80 bytes", 2048, 4096, 80, 1, false, 10, 0, 0 },
        { "struct page 128 bytes", 2048, 4096, 128, 1, true, 16, 15, 60 * KiB },
};

static void test_compute(void)
{
        for (size_t i = 0; i < sizeof(compute_cases) / sizeof(compute_cases[0]); i++) {
                const struct vmm_kernel k = {
                        .page_size = compute_cases[i].page_size,
                        .struct_page_size = compute_cases[i].struct_page_size,
                        .reserve_pages = compute_cases[i].reserve,
                };
                struct vmm_hstate_hvo h;
                int r = vmm_hstate_hvo_compute(compute_cases[i].size_kb, &k, &h);

                ok(r == 0 && h.eligible == compute_cases[i].eligible && h.vmemmap_pages == compute_cases[i].vmemmap_pages &&
                   h.saved_pages == compute_cases[i].saved_pages && h.saved_bytes == compute_cases[i].saved_bytes,
                   "%s: %s, V=%" PRIu64 ", saves %" PRIu64 " pages = %" PRIu64 " bytes", compute_cases[i].what,
                   compute_cases[i].eligible ? "eligible" : "not eligible", compute_cases[i].vmemmap_pages,
                   compute_cases[i].saved_pages, compute_cases[i].saved_bytes);
                if (r != 0 || h.saved_bytes != compute_cases[i].saved_bytes)
                        printf("#   got r=%d eligible=%d V=%" PRIu64 " saved=%" PRIu64 " bytes=%" PRIu64 "\n", r,
                               r ? -1 : h.eligible, r ? 0 : h.vmemmap_pages, r ? 0 : h.saved_pages, r ? 0 : h.saved_bytes);
        }

        const struct vmm_kernel x86 = { .page_size = 4096, .struct_page_size = 64, .reserve_pages = 1 };
        struct vmm_kernel bad = x86;
        struct vmm_hstate_hvo h = { .vmemmap_pages = 4242 };

        is_int(vmm_hstate_hvo_compute(0, &x86, &h), -EINVAL, "size 0 is -EINVAL");
        is_int(vmm_hstate_hvo_compute(2, &x86, &h), -EINVAL, "2 kB is not a multiple of a 4K page: -EINVAL");
        is_int(vmm_hstate_hvo_compute(6, &x86, &h), -EINVAL, "6 kB is not a multiple of a 4K page: -EINVAL");
        is_int(vmm_hstate_hvo_compute(UINT64_C(1) << 60, &x86, &h), -EINVAL, "2^60 kB overflows bytes: -EINVAL");
        is_int(vmm_hstate_hvo_compute(2048, NULL, &h), -EINVAL, "NULL kernel is -EINVAL");
        bad.page_size = 0;
        is_int(vmm_hstate_hvo_compute(2048, &bad, &h), -EINVAL, "page size 0 is -EINVAL");
        bad = x86;
        bad.struct_page_size = 0;
        is_int(vmm_hstate_hvo_compute(2048, &bad, &h), -EINVAL, "struct page size 0 is -EINVAL");
        is_int(h.vmemmap_pages, 4242, "failed computations leave the result untouched");

        static const struct { unsigned major, minor, reserve; } reserves[] = {
                { 4, 19, 2 }, { 5, 14, 2 }, { 5, 15, 2 }, { 5, 17, 2 }, { 5, 18, 1 },
                { 5, 19, 1 }, { 6, 0, 1 }, { 6, 1, 1 }, { 6, 18, 1 }, { 7, 0, 1 },
        };
        for (size_t i = 0; i < sizeof(reserves) / sizeof(reserves[0]); i++)
                is_int(vmm_reserve_pages_for(reserves[i].major, reserves[i].minor), reserves[i].reserve,
                       "kernel %u.%u keeps %u vmemmap page(s)", reserves[i].major, reserves[i].minor, reserves[i].reserve);
}

/* The kernel as read from the tree, end to end: release -> reserve -> savings. */
static void test_kernels(void)
{
        char *root = fake_root_new();
        struct vmm_kernel k;
        struct vmm_hstate_hvo h;
        struct vmm_hvo hvo;
        vmm_ctx *ctx;

        /* x86-64, 6.18, sysctl present and off. */
        fake_x86_64(root);
        ctx = fake_ctx(root, 4096);
        is_int(vmm_kernel_read(ctx, &k), 0, "6.18 x86-64 kernel read");
        is_str(k.release, "6.18.0-1-amd64", "release as in osrelease, newline trimmed");
        is_str(k.arch, "x86_64", "arch from /proc/sys/kernel/arch");
        ok(k.major == 6 && k.minor == 18 && k.reserve_pages == 1, "6.18 keeps 1 page");
        ok(k.page_size == 4096 && k.struct_page_size == 64, "page 4096, struct page 64");
        ok(vmm_hstate_hvo_compute(2048, &k, &h) == 0 && h.saved_pages == 7 && h.saved_bytes == 28 * KiB,
           "6.18 x86-64 2M saves 7 pages = 28 KiB");
        ok(vmm_hstate_hvo_compute(1048576, &k, &h) == 0 && h.saved_pages == 4095, "6.18 x86-64 1G saves 4095 pages");

        is_int(vmm_hvo_read(ctx, &hvo), 0, "HVO read");
        ok(hvo.supported && !hvo.enabled && hvo.boot_param == VMM_BOOT_ABSENT, "supported, off, no boot parameter");
        is_int(vmm_hvo_set(ctx, true), 0, "HVO turned on");
        ok(vmm_hvo_read(ctx, &hvo) == 0 && hvo.enabled, "HVO reads back on");
        is_int(vmm_hvo_set(ctx, true), 0, "HVO turned on again (idempotent)");
        is_int(vmm_hvo_set(ctx, false), 0, "HVO turned off");
        ok(vmm_hvo_read(ctx, &hvo) == 0 && hvo.supported && !hvo.enabled, "HVO reads back off");
        if (access("/proc/sys/kernel/ngroups_max", R_OK) == 0) {
                /* A sysctl the kernel will not let anyone write: its real errno. */
                fake_symlink(root, "proc/sys/vm/hugetlb_optimize_vmemmap", "/proc/sys/kernel/ngroups_max");
                is_int(vmm_hvo_set(ctx, true), -EACCES, "kernel refusing the sysctl write gives -EACCES");
        } else
                printf("ok %d - # SKIP /proc/sys/kernel/ngroups_max not readable\n", ++tap_n);
        fake_dir(root, "proc/sys/vm/hugetlb_optimize_vmemmap.d"); /* unrelated entry changes nothing */
        fake_remove(root, "proc/sys/vm/hugetlb_optimize_vmemmap");
        fake_dir(root, "proc/sys/vm/hugetlb_optimize_vmemmap");
        is_int(vmm_hvo_set(ctx, true), -EISDIR, "sysctl a directory is -EISDIR, not -EOPNOTSUPP");
        vmm_ctx_free(ctx);
        fake_root_free(root);

        /* 5.15 (Ubuntu 22.04): reserve 2, no sysctl, no /proc/sys/kernel/arch. */
        root = fake_root_new();
        fake_kernel(root, "5.15.0-91-generic", NULL, "BOOT_IMAGE=/vmlinuz hugetlb_free_vmemmap=on", -1);
        fake_hstate(root, 2048, 0, 0, 0, 0, 0);
        fake_hstate(root, 1048576, 0, 0, 0, 0, 0);
        ctx = fake_ctx(root, 4096);
        is_int(vmm_kernel_read(ctx, &k), 0, "5.15 kernel read");
        ok(k.major == 5 && k.minor == 15 && k.reserve_pages == 2, "5.15 keeps 2 pages");
        is_str(k.arch, "", "no arch file: arch \"\"");
        ok(vmm_hstate_hvo_compute(2048, &k, &h) == 0 && h.saved_pages == 6 && h.saved_bytes == 24 * KiB,
           "5.15 x86-64 2M saves 6 pages = 24 KiB");
        ok(vmm_hstate_hvo_compute(1048576, &k, &h) == 0 && h.saved_pages == 4094, "5.15 x86-64 1G saves 4094 pages");
        is_int(vmm_hvo_read(ctx, &hvo), 0, "5.15 HVO read");
        ok(!hvo.supported && !hvo.enabled, "5.15: no sysctl, so not supported and not enabled");
        is_int(hvo.boot_param, VMM_BOOT_ON, "5.15: boot parameter on");
        is_int(vmm_hvo_set(ctx, true), -EOPNOTSUPP, "5.15: turning HVO on is -EOPNOTSUPP");
        is_int(vmm_hvo_set(ctx, false), -EOPNOTSUPP, "5.15: turning HVO off is -EOPNOTSUPP");
        vmm_ctx_free(ctx);
        fake_root_free(root);

        /* arm64 with each base page size, through vmm_platform. */
        static const struct {
                uint64_t page_size, size_kb, saved_bytes;
                bool eligible;
        } arm[] = {
                { 4096, 2048, 28 * KiB, true },        { 4096, 64, 0, false },
                { 16384, 32768, 112 * KiB, true },     { 16384, 2048, 0, false },
                { 65536, 524288, 448 * KiB, true },    { 65536, 2048, 0, false },
        };
        for (size_t i = 0; i < sizeof(arm) / sizeof(arm[0]); i++) {
                root = fake_root_new();
                fake_kernel(root, "6.1.0-13-arm64", "aarch64", "console=ttyAMA0", 0);
                fake_hstate(root, arm[i].size_kb, 0, 0, 0, 0, 0);
                ctx = fake_ctx(root, arm[i].page_size);
                ok(vmm_kernel_read(ctx, &k) == 0 && strcmp(k.arch, "aarch64") == 0 && k.page_size == arm[i].page_size &&
                   k.reserve_pages == 1, "arm64/%" PRIu64 "K kernel read with page size from vmm_platform",
                   arm[i].page_size / KiB);
                ok(vmm_hstate_hvo_compute(arm[i].size_kb, &k, &h) == 0 && h.eligible == arm[i].eligible &&
                   h.saved_bytes == arm[i].saved_bytes, "arm64/%" PRIu64 "K %" PRIu64 "kB hugepage: %s, saves %" PRIu64 " bytes",
                   arm[i].page_size / KiB, arm[i].size_kb, arm[i].eligible ? "eligible" : "not eligible", arm[i].saved_bytes);
                vmm_ctx_free(ctx);
                fake_root_free(root);
        }
}

static void test_boot_param(void)
{
        static const struct { const char *cmdline; enum vmm_boot_param want; const char *why; } cases[] = {
                { "root=/dev/sda1 quiet", VMM_BOOT_ABSENT, "absent" },
                { "hugetlb_free_vmemmap=on", VMM_BOOT_ON, "on" },
                { "hugetlb_free_vmemmap=off", VMM_BOOT_OFF, "off" },
                { "quiet hugetlb_free_vmemmap=1 ro", VMM_BOOT_ON, "1 among others" },
                { "hugetlb_free_vmemmap=0", VMM_BOOT_OFF, "0" },
                { "hugetlb_free_vmemmap=y", VMM_BOOT_ON, "y" },
                { "hugetlb_free_vmemmap=n", VMM_BOOT_OFF, "n" },
                { "hugetlb_free_vmemmap=yes", VMM_BOOT_ON, "yes" },
                { "hugetlb_free_vmemmap=no", VMM_BOOT_OFF, "no" },
                { "hugetlb_free_vmemmap=ON", VMM_BOOT_ON, "ON (kstrtobool ignores case)" },
                { "hugetlb_free_vmemmap=Off", VMM_BOOT_OFF, "Off" },
                { "hugetlb_free_vmemmap=true", VMM_BOOT_ON, "true (kstrtobool)" },
                { "hugetlb_free_vmemmap=on hugetlb_free_vmemmap=off", VMM_BOOT_OFF, "last occurrence wins (off)" },
                { "hugetlb_free_vmemmap=off quiet hugetlb_free_vmemmap=on", VMM_BOOT_ON, "last occurrence wins (on)" },
                { "hugetlb_free_vmemmap=on hugetlb_free_vmemmap=maybe", VMM_BOOT_ON, "an invalid later value is ignored" },
                { "hugetlb_free_vmemmap=maybe", VMM_BOOT_ABSENT, "only an invalid value: as if absent" },
                { "hugetlb_free_vmemmap=o", VMM_BOOT_ABSENT, "\"o\" is neither on nor off" },
                { "hugetlb_free_vmemmap=", VMM_BOOT_ABSENT, "empty value" },
                { "hugetlb_free_vmemmap", VMM_BOOT_ABSENT, "no value" },
                { "xhugetlb_free_vmemmap=on", VMM_BOOT_ABSENT, "longer name before" },
                { "hugetlb_free_vmemmap_x=on", VMM_BOOT_ABSENT, "longer name after" },
                { "hugetlb-free-vmemmap=on", VMM_BOOT_ON, "dashes equal underscores, as in parameq()" },
                { "hugetlb_free_vmemmap=\"off\"", VMM_BOOT_OFF, "quoted value" },
                { "\"hugetlb_free_vmemmap=on\"", VMM_BOOT_ON, "quoted argument" },
                { "foo=\"a hugetlb_free_vmemmap=on b\"", VMM_BOOT_ABSENT, "inside another argument's quotes" },
                { "root=/dev/sda -- hugetlb_free_vmemmap=on", VMM_BOOT_ABSENT, "after --: init's arguments" },
                { "hugetlb_free_vmemmap=off -- hugetlb_free_vmemmap=on", VMM_BOOT_OFF, "before -- counts, after not" },
                { "\thugetlb_free_vmemmap=1  \t", VMM_BOOT_ON, "tabs and runs of spaces" },
                { "", VMM_BOOT_ABSENT, "empty command line" },
        };
        char *root = fake_root_new();
        struct vmm_hvo hvo;
        vmm_ctx *ctx;

        fake_x86_64(root);
        ctx = fake_ctx(root, 4096);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                fake_file(root, "proc/cmdline", "%s\n", cases[i].cmdline);
                hvo.boot_param = (enum vmm_boot_param)42;
                int r = vmm_hvo_read(ctx, &hvo);
                ok(r == 0 && hvo.boot_param == cases[i].want, "cmdline %s: %s", cases[i].why,
                   cases[i].want == VMM_BOOT_ON ? "on" : cases[i].want == VMM_BOOT_OFF ? "off" : "absent");
        }
        fake_remove(root, "proc/cmdline");
        ok(vmm_hvo_read(ctx, &hvo) == 0 && hvo.boot_param == VMM_BOOT_ABSENT, "no /proc/cmdline: absent");
        vmm_ctx_free(ctx);
        fake_root_free(root);
}

int main(void)
{
        test_compute();
        test_kernels();
        test_boot_param();
        return tap_done();
}
