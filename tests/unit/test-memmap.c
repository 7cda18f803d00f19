/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Memmap accounting: baseline from the present memory blocks, current from
 * /proc/vmstat, on fake trees (including this machine's own figures). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "fake.h"
#include "tap.h"
#include "vmemmap.h"

static const struct {
        const char *what;
        uint64_t page_size;
        unsigned blocks;
        const char *block_size;
        int64_t memmap, boot;
        uint64_t baseline, current;
        int64_t saved;
        uint64_t saved_bytes;
} cases[] = {
        { "this machine, empty pool: 192 x 128 MiB", 4096, 192, "8000000", 0, 98304, 98304, 98304, 0, 0 },
        { "this machine after 100 x 2M with HVO on", 4096, 192, "8000000", 0, 97604, 98304, 97604, 700, 700 * 4096 },
        { "pages moved between the two counters", 4096, 192, "8000000", 1000, 96604, 98304, 97604, 700, 700 * 4096 },
        { "more memmap than baseline (hotplugged memmap)", 4096, 16, "8000000", 100, 8192, 8192, 8292, -100, 0 },
        { "upper-case hex block size A000000", 4096, 8, "A000000", 0, 5120, 5120, 5120, 0, 0 },
        { "lower-case hex block size a000000", 4096, 8, "a000000", 0, 5000, 5120, 5000, 120, 120 * 4096 },
        { "arm64/64K, 4 blocks of 512 MiB", 65536, 4, "20000000", 0, 60, 32, 60, -28, 0 },
        { "arm64/64K, 4 blocks of 1 GiB, 7 x 512M optimized", 65536, 4, "40000000", 0, 15, 64, 15, 49, 49 * 65536 },
        { "arm64/16K, 2 GiB blocks", 16384, 2, "80000000", 0, 1024, 1024, 1024, 0, 0 },
        { "no memory blocks at all", 4096, 0, "8000000", 0, 0, 0, 0, 0, 0 },
};

int main(void)
{
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *root = fake_root_new();
                struct vmm_memmap m;
                vmm_ctx *ctx;

                fake_memory(root, cases[i].blocks, cases[i].block_size);
                fake_vmstat(root, cases[i].memmap, cases[i].boot);
                ctx = fake_ctx(root, cases[i].page_size);
                int r = vmm_memmap_read(ctx, &m);
                ok(r == 0 && m.baseline_pages == cases[i].baseline && m.current_pages == cases[i].current &&
                   m.saved_pages == cases[i].saved && m.saved_bytes == cases[i].saved_bytes,
                   "%s: baseline %" PRIu64 ", current %" PRIu64 ", saved %" PRId64 " pages / %" PRIu64 " bytes",
                   cases[i].what, cases[i].baseline, cases[i].current, cases[i].saved, cases[i].saved_bytes);
                if (r != 0)
                        printf("#   got %s\n", strerror(-r));
                else if (m.saved_pages != cases[i].saved || m.current_pages != cases[i].current)
                        printf("#   got baseline %" PRIu64 " current %" PRIu64 " saved %" PRId64 " bytes %" PRIu64 "\n",
                               m.baseline_pages, m.current_pages, m.saved_pages, m.saved_bytes);
                vmm_ctx_free(ctx);
                fake_root_free(root);
        }

        /* Only memoryN directories are blocks; the rest of the directory is not. */
        char *root = fake_root_new();
        struct vmm_memmap m = { .baseline_pages = 4242 };
        vmm_ctx *ctx;

        fake_memory(root, 3, "8000000");
        fake_vmstat(root, 0, 1536);
        const char *junk[] = { "memory", "memoryX", "memory01", "memory-1", "power", "uevent", "xmemory5" };
        for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
                char rel[128];

                snprintf(rel, sizeof(rel), "sys/devices/system/memory/%s", junk[i]);
                fake_dir(root, rel);
        }
        fake_file(root, "sys/devices/system/memory/hard_offline_page", "%s", "");
        ctx = fake_ctx(root, 4096);
        ok(vmm_memmap_read(ctx, &m) == 0 && m.baseline_pages == 1536, "3 blocks counted, 8 look-alikes ignored");

        /* Kernels before 6.11: no counters, "not available". */
        m.baseline_pages = 4242;
        fake_vmstat(root, -1, -1);
        is_int(vmm_memmap_read(ctx, &m), -ENODATA, "no memmap counters (6.1) is -ENODATA");
        fake_vmstat(root, 5, -1);
        is_int(vmm_memmap_read(ctx, &m), -ENODATA, "nr_memmap_boot_pages missing is -ENODATA");
        fake_vmstat(root, -1, 5);
        is_int(vmm_memmap_read(ctx, &m), -ENODATA, "nr_memmap_pages missing is -ENODATA");
        is_int(m.baseline_pages, 4242, "-ENODATA leaves the result untouched");
        fake_vmstat(root, 0, 1536);
        fake_remove(root, "sys/devices/system/memory/block_size_bytes");
        is_int(vmm_memmap_read(ctx, &m), -ENODATA, "no block_size_bytes is -ENODATA");
        fake_remove(root, "sys/devices/system/memory");
        is_int(vmm_memmap_read(ctx, &m), -ENODATA, "no memory block directory (no hotplug sysfs) is -ENODATA");
        fake_remove(root, "proc/vmstat");
        is_int(vmm_memmap_read(ctx, &m), -ENOENT, "no /proc/vmstat at all is -ENOENT");
        is_int(vmm_memmap_read(NULL, &m), -EINVAL, "NULL context is -EINVAL");
        is_int(vmm_memmap_read(ctx, NULL), -EINVAL, "NULL result is -EINVAL");
        vmm_ctx_free(ctx);
        fake_root_free(root);
        return tap_done();
}
