/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hstates, NUMA nodes, pool counters, resizing, overcommit and compaction. */
#include "config.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

/* Strict "<prefix><decimal>[<suffix>]" name parse: no leading zeros (except
 * "0" itself), no sign, nothing after the suffix. */
static bool parse_numbered_name(const char *name, const char *prefix, const char *suffix, uint64_t *ret)
{
        size_t plen = strlen(prefix), slen = strlen(suffix), nlen = strlen(name), dlen;
        char digits[32];

        if (nlen <= plen + slen || strncmp(name, prefix, plen) != 0 || strcmp(name + nlen - slen, suffix) != 0)
                return false;
        dlen = nlen - plen - slen;
        if (dlen >= sizeof(digits))
                return false;
        memcpy(digits, name + plen, dlen);
        digits[dlen] = '\0';
        if (digits[0] == '0' && dlen > 1)
                return false;
        return vmmi_parse_u64_dec(digits, ret) == 0;
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return (x > y) - (x < y);
}

/* Numbers from the names of a directory's entries that match prefix/suffix,
 * sorted. A missing directory gives -ENOENT. */
static int list_numbered(const char *dir, const char *prefix, const char *suffix, uint64_t max,
                         uint64_t **ret_values, size_t *ret_n)
{
        uint64_t *values = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        DIR *d;

        d = opendir(dir);
        if (!d)
                return -errno;
        for (;;) {
                uint64_t v;

                errno = 0;
                de = readdir(d);
                if (!de)
                        break;
                if (!parse_numbered_name(de->d_name, prefix, suffix, &v) || v > max)
                        continue;
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 8;
                        uint64_t *nv = realloc(values, ncap * sizeof(*nv));

                        if (!nv) {
                                free(values);
                                closedir(d);
                                return -ENOMEM;
                        }
                        values = nv;
                        cap = ncap;
                }
                values[n++] = v;
        }
        if (errno != 0) {
                int r = -errno;

                free(values);
                closedir(d);
                return r;
        }
        closedir(d);
        if (n > 1)
                qsort(values, n, sizeof(*values), cmp_u64);
        *ret_values = values;
        *ret_n = n;
        return 0;
}

int vmm_hstates_list(vmm_ctx *ctx, uint64_t **ret_sizes_kb, size_t *ret_n)
{
        char path[PATH_MAX];
        int r;

        if (!ctx || !ret_sizes_kb || !ret_n)
                return -EINVAL;
        r = vmmi_path(ctx, path, VMMI_HUGEPAGES_DIR);
        if (r < 0)
                return r;
        r = list_numbered(path, "hugepages-", "kB", UINT64_MAX / 1024, ret_sizes_kb, ret_n);
        return r == -ENOENT ? -EOPNOTSUPP : r;
}

int vmmi_hstate_dir(const vmm_ctx *ctx, uint64_t size_kb, char buf[static PATH_MAX])
{
        struct stat st;
        int r;

        r = vmmi_path(ctx, buf, VMMI_HUGEPAGES_DIR "/hugepages-%" PRIu64 "kB", size_kb);
        if (r < 0)
                return r;
        if (stat(buf, &st) == 0)
                return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
        if (errno != ENOENT)
                return -errno;
        /* Tell "no such size" from "no hugetlb in this kernel". */
        r = vmmi_path(ctx, buf, VMMI_HUGEPAGES_DIR);
        if (r < 0)
                return r;
        if (stat(buf, &st) < 0)
                return errno == ENOENT ? -EOPNOTSUPP : -errno;
        return -ENOENT;
}

int vmm_hstate_exists(vmm_ctx *ctx, uint64_t size_kb)
{
        char path[PATH_MAX];

        if (!ctx)
                return -EINVAL;
        return vmmi_hstate_dir(ctx, size_kb, path);
}

int vmm_nodes_list(vmm_ctx *ctx, unsigned **ret_nodes, size_t *ret_n)
{
        char path[PATH_MAX];
        uint64_t *values = NULL;
        unsigned *nodes = NULL;
        size_t n = 0;
        int r;

        if (!ctx || !ret_nodes || !ret_n)
                return -EINVAL;
        r = vmmi_path(ctx, path, VMMI_NODE_DIR);
        if (r < 0)
                return r;
        r = list_numbered(path, "node", "", INT_MAX, &values, &n);
        if (r == -ENOENT) {
                /* A kernel without NUMA sysfs: no nodes, not an error. */
                *ret_nodes = NULL;
                *ret_n = 0;
                return 0;
        }
        if (r < 0)
                return r;
        if (n > 0) {
                nodes = malloc(n * sizeof(*nodes));
                if (!nodes) {
                        free(values);
                        return -ENOMEM;
                }
                for (size_t i = 0; i < n; i++)
                        nodes[i] = (unsigned)values[i];
        }
        free(values);
        *ret_nodes = nodes;
        *ret_n = n;
        return 0;
}

/* Read several number files of one directory; all or nothing. */
struct counter_file {
        const char *name;
        uint64_t *value;
};

static int read_counters(const char *dir, const struct counter_file *files, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                char path[PATH_MAX];
                int r;

                if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, files[i].name) >= sizeof(path))
                        return -ENAMETOOLONG;
                r = vmmi_read_u64(path, files[i].value);
                if (r < 0)
                        return r;
        }
        return 0;
}

int vmm_pool_read(vmm_ctx *ctx, uint64_t size_kb, struct vmm_pool *ret_pool)
{
        char dir[PATH_MAX];
        struct vmm_pool p;
        int r;

        if (!ctx || !ret_pool)
                return -EINVAL;
        r = vmmi_hstate_dir(ctx, size_kb, dir);
        if (r < 0)
                return r;
        const struct counter_file files[] = {
                { "nr_hugepages", &p.total },
                { "free_hugepages", &p.free },
                { "resv_hugepages", &p.reserved },
                { "surplus_hugepages", &p.surplus },
                { "nr_overcommit_hugepages", &p.overcommit },
        };
        r = read_counters(dir, files, sizeof(files) / sizeof(files[0]));
        if (r < 0)
                return r;
        *ret_pool = p;
        return 0;
}

/* A node's directory for one hstate: -ENOENT when the node or the size is
 * missing there, -EOPNOTSUPP when the kernel has no hugetlb at all. */
static int node_hstate_dir(const vmm_ctx *ctx, uint64_t size_kb, unsigned node, char buf[static PATH_MAX])
{
        struct stat st;
        int r;

        r = vmmi_hstate_dir(ctx, size_kb, buf);
        if (r < 0)
                return r;
        r = vmmi_path(ctx, buf, VMMI_NODE_DIR "/node%u/hugepages/hugepages-%" PRIu64 "kB", node, size_kb);
        if (r < 0)
                return r;
        if (stat(buf, &st) < 0)
                return -errno;
        return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int vmm_node_pool_read(vmm_ctx *ctx, uint64_t size_kb, unsigned node, struct vmm_node_pool *ret_pool)
{
        char dir[PATH_MAX];
        struct vmm_node_pool p;
        int r;

        if (!ctx || !ret_pool)
                return -EINVAL;
        r = node_hstate_dir(ctx, size_kb, node, dir);
        if (r < 0)
                return r;
        const struct counter_file files[] = {
                { "nr_hugepages", &p.total },
                { "free_hugepages", &p.free },
                { "surplus_hugepages", &p.surplus },
        };
        r = read_counters(dir, files, sizeof(files) / sizeof(files[0]));
        if (r < 0)
                return r;
        *ret_pool = p;
        return 0;
}

/* One file of an hstate: node < 0 the global directory, else that node's. */
static int pool_file(const vmm_ctx *ctx, uint64_t size_kb, int node, const char *name, char buf[static PATH_MAX])
{
        size_t n;
        int r;

        if (node < 0)
                r = vmmi_hstate_dir(ctx, size_kb, buf);
        else
                r = node_hstate_dir(ctx, size_kb, (unsigned)node, buf);
        if (r < 0)
                return r;
        n = strlen(buf);
        if ((size_t)snprintf(buf + n, PATH_MAX - n, "/%s", name) >= PATH_MAX - n)
                return -ENAMETOOLONG;
        return 0;
}

int vmm_pool_set(vmm_ctx *ctx, uint64_t size_kb, int node, uint64_t pages, struct vmm_resize *ret)
{
        char path[PATH_MAX];
        struct vmm_resize rs = { .requested = pages };
        int r;

        if (!ctx || !ret)
                return -EINVAL;
        r = pool_file(ctx, size_kb, node, "nr_hugepages", path);
        if (r < 0)
                return r;

        r = vmmi_read_u64(path, &rs.before);
        if (r < 0)
                return r;
        r = vmmi_write_u64(path, pages);
        if (r < 0)
                return r;
        /* The write succeeds even when the kernel stopped short: the read-back decides. */
        r = vmmi_read_u64(path, &rs.reached);
        if (r < 0)
                return r;
        *ret = rs;
        return vmmi_resize_verdict(rs.requested, rs.reached);
}

int vmm_overcommit_set(vmm_ctx *ctx, uint64_t size_kb, uint64_t pages)
{
        char path[PATH_MAX];
        uint64_t back;
        int r;

        if (!ctx)
                return -EINVAL;
        r = pool_file(ctx, size_kb, -1, "nr_overcommit_hugepages", path);
        if (r < 0)
                return r;
        r = vmmi_write_u64(path, pages);
        if (r < 0)
                return r;
        r = vmmi_read_u64(path, &back);
        if (r < 0)
                return r;
        return back == pages ? 0 : -EIO;
}

int vmm_compact(vmm_ctx *ctx, int node)
{
        char path[PATH_MAX];
        int r;

        if (!ctx)
                return -EINVAL;
        if (node < 0)
                r = vmmi_path(ctx, path, VMMI_COMPACT_SYSCTL);
        else
                r = vmmi_path(ctx, path, VMMI_NODE_DIR "/node%d/compact", node);
        if (r < 0)
                return r;
        return vmmi_write_file(path, "1");
}

int vmm_demote_size_read(vmm_ctx *ctx, uint64_t size_kb, uint64_t *ret_kb)
{
        char path[PATH_MAX], buf[64];
        uint64_t bytes;
        ssize_t n;
        int r;

        if (!ctx || !ret_kb)
                return -EINVAL;
        r = pool_file(ctx, size_kb, -1, "demote_size", path);
        if (r < 0)
                return r;
        n = vmmi_read_file(path, buf, sizeof buf);
        if (n < 0)
                return n == -ENOENT ? -EOPNOTSUPP : (int)n;
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
                n--;
        buf[n] = '\0';
        /* demote_size_show: "%lukB\n" */
        r = vmm_size_parse(buf, &bytes);
        if (r < 0 || bytes % 1024)
                return -EIO;
        *ret_kb = bytes / 1024;
        return 0;
}

/* demote_store (mm/hugetlb.c, 5.16+; as in 6.18): while pages are left to
 * demote and the free list holds unreserved pages (free - resv; per node, the
 * node's free pages minus the global reservation), take free pages from the
 * head of the free lists (round robin over the nodes from next_nid_to_free),
 * restore their vmemmap, split them into pages of demote_size and add those
 * to the smaller pool (optimized by HVO if it is on, at the head of the
 * node's list). The write returns its length even when fewer pages went
 * (none free), -EINVAL without a demote target, -ENOMEM when a vmemmap
 * restore failed (that page stays in the larger pool). */
int vmm_pool_demote(vmm_ctx *ctx, uint64_t size_kb, int node, uint64_t pages, struct vmm_demote *ret)
{
        char path[PATH_MAX], nr_path[PATH_MAX];
        struct vmm_demote d = { .requested = pages };
        int r, w;

        if (!ctx || !ret)
                return -EINVAL;
        r = pool_file(ctx, size_kb, node, "nr_hugepages", nr_path);
        if (r < 0)
                return r;
        r = pool_file(ctx, size_kb, node, "demote", path);
        if (r < 0)
                return r;
        r = vmm_demote_size_read(ctx, size_kb, &d.demote_size_kb);
        if (r < 0)
                return r;
        if (d.demote_size_kb == 0 || d.demote_size_kb >= size_kb)
                return -EINVAL;
        r = vmmi_read_u64(nr_path, &d.before);
        if (r < 0)
                return r;
        w = vmmi_write_u64(path, pages);
        if (w == -ENOENT)
                return -EOPNOTSUPP;
        /* Some pages may have gone before a failure: read back either way. */
        r = vmmi_read_u64(nr_path, &d.after);
        if (r < 0)
                return w < 0 ? w : r;
        d.demoted = d.before > d.after ? d.before - d.after : 0;
        *ret = d;
        if (w < 0)
                return w;
        return d.demoted == pages ? 0 : -EBUSY;
}
