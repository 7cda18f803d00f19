/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"
#include "kernel.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "vmemmap.h"

static json_object *hvo_object(vmm_ctx *ctx, const uint64_t *sizes_kb, size_t n)
{
        struct vmm_hvo hvo = { 0 };
        struct vmm_kernel k = { 0 };
        bool have_kernel = vmm_kernel_read(ctx, &k) == 0;
        json_object *o = json_object_new_object(), *sizes = json_object_new_array();

        vmm_hvo_read(ctx, &hvo); /* unreadable: reported as unsupported */
        json_object_object_add(o, PROTO_F_SUPPORTED, json_object_new_boolean(hvo.supported));
        json_object_object_add(o, PROTO_F_ENABLED, json_object_new_boolean(hvo.enabled));
        json_object_object_add(o, PROTO_F_BOOT_PARAM, hvo.boot_param == VMM_BOOT_ABSENT ? NULL
                               : json_object_new_string(hvo.boot_param == VMM_BOOT_ON ? "on" : "off"));
        json_object_object_add(o, PROTO_F_KERNEL, json_object_new_string(have_kernel ? k.release : "?"));
        json_object_object_add(o, PROTO_F_RESERVE_PAGES, json_object_new_int((int)k.reserve_pages));
        for (size_t i = 0; have_kernel && i < n; i++) {
                struct vmm_hstate_hvo h;
                char label[32];
                if (vmm_hstate_hvo_compute(sizes_kb[i], &k, &h) < 0 || vmm_size_label(sizes_kb[i], label, sizeof label) < 0)
                        continue;
                json_object *s = json_object_new_object();
                json_object_object_add(s, PROTO_F_SIZE, json_object_new_string(label));
                json_object_object_add(s, PROTO_F_ELIGIBLE, json_object_new_boolean(h.eligible));
                json_object_object_add(s, PROTO_F_VMEMMAP_PAGES, json_object_new_uint64(h.vmemmap_pages));
                json_object_object_add(s, PROTO_F_SAVED_PER_PAGE, json_object_new_uint64(h.saved_bytes));
                json_object_array_add(sizes, s);
        }
        json_object_object_add(o, PROTO_F_SIZES, sizes);
        return o;
}

/* The hugetlbfs mounts serving size_kb, as the daemon lists them (none configured here). */
static json_object *mounts_array(const struct vmm_mount *m, size_t n, uint64_t size_kb)
{
        json_object *arr = json_object_new_array();
        for (size_t i = 0; i < n; i++) {
                if (m[i].size_kb != size_kb)
                        continue;
                json_object *o = json_object_new_object();
                json_object_object_add(o, PROTO_F_PATH, json_object_new_string(m[i].path));
                json_object_object_add(o, PROTO_F_OPTIONS, json_object_new_string(m[i].options));
                json_object_object_add(o, PROTO_F_CONFIGURED, json_object_new_boolean(false));
                json_object_object_add(o, PROTO_F_REASON, json_object_new_string(""));
                json_object_array_add(arr, o);
        }
        return arr;
}

static json_object *pool_object(vmm_ctx *ctx, uint64_t size_kb, const unsigned *nodes, size_t n_nodes,
                                const struct vmm_mount *mounts, size_t n_mounts)
{
        struct vmm_pool p;
        char label[32];
        if (vmm_pool_read(ctx, size_kb, &p) < 0 || vmm_size_label(size_kb, label, sizeof label) < 0)
                return NULL;
        json_object *o = json_object_new_object(), *arr = json_object_new_array();
        json_object_object_add(o, PROTO_F_SIZE, json_object_new_string(label));
        json_object_object_add(o, PROTO_F_SIZE_BYTES, json_object_new_uint64(size_kb * 1024));
        json_object_object_add(o, PROTO_F_PAGES, json_object_new_uint64(p.total));
        json_object_object_add(o, PROTO_F_FREE, json_object_new_uint64(p.free));
        json_object_object_add(o, PROTO_F_RESERVED, json_object_new_uint64(p.reserved));
        json_object_object_add(o, PROTO_F_SURPLUS, json_object_new_uint64(p.surplus));
        json_object_object_add(o, PROTO_F_OVERCOMMIT, json_object_new_uint64(p.overcommit));
        for (size_t k = 0; k < n_nodes; k++) {
                struct vmm_node_pool np;
                if (vmm_node_pool_read(ctx, size_kb, nodes[k], &np) < 0)
                        continue;
                json_object *no = json_object_new_object();
                json_object_object_add(no, PROTO_F_NODE, json_object_new_int((int)nodes[k]));
                json_object_object_add(no, PROTO_F_PAGES, json_object_new_uint64(np.total));
                json_object_object_add(no, PROTO_F_FREE, json_object_new_uint64(np.free));
                json_object_object_add(no, PROTO_F_SURPLUS, json_object_new_uint64(np.surplus));
                json_object_array_add(arr, no);
        }
        json_object_object_add(o, PROTO_F_NODES, arr);
        json_object_object_add(o, PROTO_F_MOUNTS, mounts_array(mounts, n_mounts, size_kb));
        return o;
}

int kernel_status(const char *root, json_object **ret_status)
{
        vmm_ctx *ctx;
        uint64_t *sizes = NULL;
        unsigned *nodes = NULL;
        struct vmm_mount *mounts = NULL;
        size_t n = 0, n_nodes = 0, n_mounts = 0;
        int r = vmm_ctx_new(root, NULL, &ctx);
        if (r < 0)
                return r;
        r = vmm_hstates_list(ctx, &sizes, &n);
        if (r == 0)
                r = vmm_nodes_list(ctx, &nodes, &n_nodes);
        if (r == 0 && vmm_mounts_list(ctx, &mounts, &n_mounts) < 0)
                n_mounts = 0; /* no mount table: none listed */
        if (r == 0) {
                json_object *st = json_object_new_object(), *pools = json_object_new_array();
                for (size_t i = 0; i < n; i++) {
                        json_object *p = pool_object(ctx, sizes[i], nodes, n_nodes, mounts, n_mounts);
                        if (p)
                                json_object_array_add(pools, p);
                }
                json_object_object_add(st, PROTO_F_HVO, hvo_object(ctx, sizes, n));
                json_object_object_add(st, PROTO_F_POOLS, pools);
                *ret_status = st;
        }
        free(sizes);
        free(nodes);
        free(mounts);
        vmm_ctx_free(ctx);
        return r;
}

/* libvmemmap reads Hugepagesize only for its mounts and does not export it. */
int kernel_default_size_kb(const char *root, uint64_t *ret_kb)
{
        char path[PATH_MAX], line[256];
        int len = snprintf(path, sizeof path, "%s/proc/meminfo", root && strcmp(root, "/") != 0 ? root : "");
        if (len < 0 || (size_t)len >= sizeof path)
                return -ENAMETOOLONG;
        FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        int r = -ENODATA;
        while (r == -ENODATA && fgets(line, sizeof line, f)) {
                uint64_t kb;
                if (sscanf(line, "Hugepagesize: %" SCNu64 " kB", &kb) == 1 && kb > 0) {
                        *ret_kb = kb;
                        r = 0;
                }
        }
        fclose(f);
        return r;
}
