/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake.h"
#include "vmemmap.h"

static void bail(const char *what, const char *path)
{
        printf("Bail out! fake tree: %s %s: %s\n", what, path, strerror(errno));
        exit(1);
}

static void join(char out[static PATH_MAX], const char *root, const char *rel)
{
        if ((size_t)snprintf(out, PATH_MAX, "%s/%s", root, rel) >= PATH_MAX) {
                errno = ENAMETOOLONG;
                bail("path", rel);
        }
}

/* mkdir -p of every parent of path (and path itself when last is true). */
static void make_parents(const char *path, int last)
{
        char tmp[PATH_MAX];

        snprintf(tmp, sizeof(tmp), "%s", path);
        for (char *p = tmp + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
                        bail("mkdir", tmp);
                *p = '/';
        }
        if (last && mkdir(tmp, 0755) < 0 && errno != EEXIST)
                bail("mkdir", tmp);
}

char *fake_root_new(void)
{
        const char *tmpdir = getenv("TMPDIR");
        char *root;

        if (!tmpdir || !*tmpdir)
                tmpdir = "/tmp";
        if (asprintf(&root, "%s/hugevm-fake-XXXXXX", tmpdir) < 0)
                bail("asprintf", tmpdir);
        if (!mkdtemp(root))
                bail("mkdtemp", root);
        return root;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st; (void)flag; (void)ftw;
        if (remove(path) < 0)
                bail("remove", path);
        return 0;
}

void fake_root_free(char *root)
{
        if (!root)
                return;
        /* FTW_PHYS: never follow the symlinks tests plant into /proc or /dev. */
        if (nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
                bail("nftw", root);
        free(root);
}

void fake_file(const char *root, const char *rel, const char *fmt, ...)
{
        char path[PATH_MAX];
        va_list ap;
        FILE *f;

        join(path, root, rel);
        make_parents(path, 0);
        f = fopen(path, "we");
        if (!f)
                bail("fopen", path);
        va_start(ap, fmt);
        vfprintf(f, fmt, ap);
        va_end(ap);
        if (fclose(f) != 0)
                bail("fclose", path);
}

void fake_dir(const char *root, const char *rel)
{
        char path[PATH_MAX];

        join(path, root, rel);
        make_parents(path, 1);
}

void fake_symlink(const char *root, const char *rel, const char *target)
{
        char path[PATH_MAX];

        join(path, root, rel);
        make_parents(path, 0);
        if ((unlink(path) < 0 && errno != ENOENT) || symlink(target, path) < 0)
                bail("symlink", path);
}

void fake_remove(const char *root, const char *rel)
{
        char path[PATH_MAX];
        struct stat st;

        join(path, root, rel);
        if (lstat(path, &st) < 0)
                bail("lstat", path);
        if (S_ISDIR(st.st_mode)) {
                if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
                        bail("nftw", path);
        } else if (unlink(path) < 0)
                bail("unlink", path);
}

void fake_hstate(const char *root, uint64_t size_kb, uint64_t total, uint64_t free, uint64_t resv,
                 uint64_t surplus, uint64_t overcommit)
{
        const struct { const char *name; uint64_t value; } files[] = {
                { "nr_hugepages", total },        { "nr_hugepages_mempolicy", total },
                { "free_hugepages", free },       { "resv_hugepages", resv },
                { "surplus_hugepages", surplus }, { "nr_overcommit_hugepages", overcommit },
        };
        char rel[PATH_MAX];

        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                snprintf(rel, sizeof(rel), "sys/kernel/mm/hugepages/hugepages-%" PRIu64 "kB/%s", size_kb, files[i].name);
                fake_file(root, rel, "%" PRIu64 "\n", files[i].value);
        }
}

void fake_node_hstate(const char *root, unsigned node, uint64_t size_kb, uint64_t total, uint64_t free,
                      uint64_t surplus)
{
        const struct { const char *name; uint64_t value; } files[] = {
                { "nr_hugepages", total }, { "free_hugepages", free }, { "surplus_hugepages", surplus },
        };
        char rel[PATH_MAX];

        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                snprintf(rel, sizeof(rel), "sys/devices/system/node/node%u/hugepages/hugepages-%" PRIu64 "kB/%s",
                         node, size_kb, files[i].name);
                fake_file(root, rel, "%" PRIu64 "\n", files[i].value);
        }
        snprintf(rel, sizeof(rel), "sys/devices/system/node/node%u/compact", node);
        fake_file(root, rel, "%s", "");
}

void fake_kernel(const char *root, const char *release, const char *arch, const char *cmdline, int hvo)
{
        fake_file(root, "proc/sys/kernel/osrelease", "%s\n", release);
        if (arch)
                fake_file(root, "proc/sys/kernel/arch", "%s\n", arch);
        fake_file(root, "proc/cmdline", "%s\n", cmdline);
        fake_file(root, "proc/sys/vm/compact_memory", "%s", "");
        if (hvo >= 0)
                fake_file(root, "proc/sys/vm/hugetlb_optimize_vmemmap", "%d\n", hvo);
}

void fake_memory(const char *root, unsigned blocks, const char *block_size_hex)
{
        char rel[PATH_MAX];

        fake_file(root, "sys/devices/system/memory/block_size_bytes", "%s\n", block_size_hex);
        fake_file(root, "sys/devices/system/memory/auto_online_blocks", "online\n");
        for (unsigned i = 0; i < blocks; i++) {
                snprintf(rel, sizeof(rel), "sys/devices/system/memory/memory%u/online", i);
                fake_file(root, rel, "1\n");
        }
}

void fake_vmstat(const char *root, int64_t memmap_pages, int64_t memmap_boot_pages)
{
        char text[512];
        int n = 0;

        n += snprintf(text + n, sizeof(text) - n, "nr_free_pages 5873351\nnr_zone_inactive_anon 0\n");
        if (memmap_pages >= 0)
                n += snprintf(text + n, sizeof(text) - n, "nr_memmap_pages %" PRId64 "\n", memmap_pages);
        if (memmap_boot_pages >= 0)
                n += snprintf(text + n, sizeof(text) - n, "nr_memmap_boot_pages %" PRId64 "\n", memmap_boot_pages);
        snprintf(text + n, sizeof(text) - n, "nr_hugetlb 0\nhtlb_buddy_alloc_success 0\n");
        fake_file(root, "proc/vmstat", "%s", text);
}

void fake_x86_64(const char *root)
{
        fake_kernel(root, "6.18.0-1-amd64", "x86_64",
                    "BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro quiet", 0);
        fake_hstate(root, 2048, 10, 4, 2, 1, 5);
        fake_hstate(root, 1048576, 2, 2, 0, 0, 0);
        fake_node_hstate(root, 0, 2048, 6, 3, 1);
        fake_node_hstate(root, 1, 2048, 4, 1, 0);
        fake_node_hstate(root, 0, 1048576, 2, 2, 0);
        fake_node_hstate(root, 1, 1048576, 0, 0, 0);
        /* What else the kernel puts there; none of it is a node. */
        fake_file(root, "sys/devices/system/node/possible", "0-1\n");
        fake_file(root, "sys/devices/system/node/online", "0-1\n");
        fake_file(root, "sys/devices/system/node/has_cpu", "0-1\n");
        fake_memory(root, 16, "8000000");
        /* 16 x 128 MiB = 2 GiB = 524288 pages -> 8192 memmap pages. */
        fake_vmstat(root, 0, 8192);
}

struct vmm_ctx *fake_ctx(const char *root, uint64_t page_size)
{
        const struct vmm_platform plat = { .page_size = page_size, .struct_page_size = 64 };
        vmm_ctx *ctx = NULL;
        int r = vmm_ctx_new(root, &plat, &ctx);
        if (r < 0) {
                printf("Bail out! vmm_ctx_new(%s): %s\n", root, strerror(-r));
                exit(1);
        }
        return ctx;
}
