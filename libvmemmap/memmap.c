/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Measured HVO savings: struct pages the present memory needs (baseline) minus
 * the memmap pages the kernel holds now (/proc/vmstat, 6.11+). KERNEL.md. */
#include "config.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* /proc/vmstat is a few KiB (about 200 lines on 6.18). */
#define VMSTAT_MAX (256 * 1024)

/* "memoryN", N decimal without sign or leading zeros. */
static bool is_memory_block_name(const char *name)
{
        const char *p = name + strlen("memory");

        if (strncmp(name, "memory", strlen("memory")) != 0 || !*p)
                return false;
        if (p[0] == '0' && p[1])
                return false;
        for (; *p; p++)
                if (*p < '0' || *p > '9')
                        return false;
        return true;
}

static int count_memory_blocks(const char *dir, uint64_t *ret)
{
        struct dirent *de;
        uint64_t n = 0;
        DIR *d;
        int r = 0;

        d = opendir(dir);
        if (!d)
                return -errno;
        for (;;) {
                errno = 0;
                de = readdir(d);
                if (!de) {
                        r = -errno;
                        break;
                }
                if (is_memory_block_name(de->d_name))
                        n++;
        }
        closedir(d);
        if (r < 0)
                return r;
        *ret = n;
        return 0;
}

/* Value of "name value" in /proc/vmstat: -ENODATA when the line is missing. */
static int vmstat_value(const char *vmstat, const char *name, uint64_t *ret)
{
        size_t nlen = strlen(name);

        for (const char *line = vmstat; *line;) {
                const char *eol = strchr(line, '\n');
                size_t len = eol ? (size_t)(eol - line) : strlen(line);

                if (len >= nlen && strncmp(line, name, nlen) == 0 && (len == nlen || line[nlen] == ' ')) {
                        char value[32];
                        size_t vlen = len > nlen ? len - nlen - 1 : 0;
                        int r;

                        if (vlen >= sizeof(value))
                                return -EBADMSG;
                        memcpy(value, line + len - vlen, vlen);
                        value[vlen] = '\0';
                        r = vmmi_parse_u64_dec(value, ret);
                        return r == -EINVAL ? -EBADMSG : r;
                }
                line += len;
                if (*line == '\n')
                        line++;
        }
        return -ENODATA;
}

static int read_current(const vmm_ctx *ctx, uint64_t *ret)
{
        uint64_t memmap, boot;
        char path[PATH_MAX];
        char *vmstat;
        ssize_t n;
        int r;

        r = vmmi_path(ctx, path, VMMI_VMSTAT);
        if (r < 0)
                return r;
        vmstat = malloc(VMSTAT_MAX);
        if (!vmstat)
                return -ENOMEM;
        n = vmmi_read_file(path, vmstat, VMSTAT_MAX);
        if (n < 0) {
                free(vmstat);
                return (int)n;
        }
        /* Only the sum means anything: pages move from one counter to the other. */
        r = vmstat_value(vmstat, "nr_memmap_pages", &memmap);
        if (r == 0)
                r = vmstat_value(vmstat, "nr_memmap_boot_pages", &boot);
        free(vmstat);
        if (r < 0)
                return r;
        if (__builtin_add_overflow(memmap, boot, ret))
                return -ERANGE;
        return 0;
}

static int read_baseline(const vmm_ctx *ctx, uint64_t *ret)
{
        uint64_t blocks = 0, block_size, pages, bytes;
        char path[PATH_MAX];
        int r;

        r = vmmi_path(ctx, path, VMMI_MEMORY_DIR);
        if (r < 0)
                return r;
        r = count_memory_blocks(path, &blocks);
        if (r == -ENOENT)
                return -ENODATA; /* no memory block sysfs (no CONFIG_MEMORY_HOTPLUG) */
        if (r < 0)
                return r;
        r = vmmi_path(ctx, path, VMMI_MEMORY_DIR "/block_size_bytes");
        if (r < 0)
                return r;
        r = vmmi_read_u64_hex(path, &block_size);
        if (r == -ENOENT)
                return -ENODATA;
        if (r < 0)
                return r;
        if (block_size == 0 || block_size % ctx->page_size != 0)
                return -EBADMSG;
        if (__builtin_mul_overflow(blocks, block_size / ctx->page_size, &pages) ||
            __builtin_mul_overflow(pages, ctx->struct_page_size, &bytes))
                return -ERANGE;
        *ret = bytes / ctx->page_size;
        return 0;
}

int vmm_memmap_read(vmm_ctx *ctx, struct vmm_memmap *ret)
{
        struct vmm_memmap m = { 0 };
        int r;

        if (!ctx || !ret)
                return -EINVAL;
        r = read_current(ctx, &m.current_pages);
        if (r < 0)
                return r;
        r = read_baseline(ctx, &m.baseline_pages);
        if (r < 0)
                return r;
        if (m.baseline_pages > (uint64_t)INT64_MAX || m.current_pages > (uint64_t)INT64_MAX)
                return -ERANGE;
        m.saved_pages = (int64_t)m.baseline_pages - (int64_t)m.current_pages;
        if (m.saved_pages > 0 && __builtin_mul_overflow((uint64_t)m.saved_pages, ctx->page_size, &m.saved_bytes))
                return -ERANGE;
        *ret = m;
        return 0;
}
