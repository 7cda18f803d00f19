/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hstates, nodes, pool reads and writes on a fake x86-64 with two nodes and
 * 2M + 1G pages (this machine has one node and 2M only), and on a kernel
 * without hugetlb. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "fake.h"
#include "internal.h" /* vmmi_resize_verdict(): the read-back decision of vmm_pool_set */
#include "tap.h"
#include "vmemmap.h"

static const struct vmm_platform x86 = { .page_size = 4096, .struct_page_size = 64 };

static uint64_t file_number(const char *root, const char *rel)
{
        char path[PATH_MAX], buf[64] = "";
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        f = fopen(path, "re");
        if (!f || !fgets(buf, sizeof(buf), f)) {
                printf("Bail out! cannot read %s\n", path);
                exit(1);
        }
        fclose(f);
        return strtoull(buf, NULL, 10);
}

static bool exists_in(const char *root, const char *rel)
{
        char path[PATH_MAX];

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        return access(path, F_OK) == 0;
}

static bool resize_untouched(const struct vmm_resize *rs)
{
        return rs->before == 111 && rs->requested == 222 && rs->reached == 333;
}

static void test_ctx(void)
{
        char *root = fake_root_new();
        char file[PATH_MAX];
        struct vmm_platform odd = { .page_size = 3000 };
        vmm_ctx *ctx = NULL;

        is_int(vmm_ctx_new(root, &x86, &ctx), 0, "context on a fake root");
        is_str(vmm_ctx_root(ctx), root, "vmm_ctx_root gives the root back");
        vmm_ctx_free(ctx);
        ctx = NULL;
        is_int(vmm_ctx_new(NULL, NULL, &ctx), 0, "context on the default root");
        is_str(vmm_ctx_root(ctx), "/", "NULL root means /");
        vmm_ctx_free(ctx);
        ctx = NULL;
        is_int(vmm_ctx_new("", NULL, &ctx), 0, "context on \"\"");
        is_str(vmm_ctx_root(ctx), "/", "\"\" root means /");
        vmm_ctx_free(ctx);
        ctx = NULL;

        snprintf(file, sizeof(file), "%s/missing", root);
        is_int(vmm_ctx_new(file, NULL, &ctx), -ENOENT, "missing root is -ENOENT");
        fake_file(root, "plain", "x");
        snprintf(file, sizeof(file), "%s/plain", root);
        is_int(vmm_ctx_new(file, NULL, &ctx), -ENOTDIR, "a file as root is -ENOTDIR");
        is_int(vmm_ctx_new(root, &odd, &ctx), -EINVAL, "page size 3000 (not a power of two) is -EINVAL");
        ok(ctx == NULL, "failed vmm_ctx_new leaves *ret_ctx untouched");
        is_int(vmm_ctx_new(root, NULL, NULL), -EINVAL, "NULL ret_ctx is -EINVAL");
        vmm_ctx_free(NULL); /* must not crash */

        /* A trailing slash on the root changes nothing. */
        fake_x86_64(root);
        snprintf(file, sizeof(file), "%s/", root);
        is_int(vmm_ctx_new(file, &x86, &ctx), 0, "context on root with trailing slash");
        is_int(vmm_hstate_exists(ctx, 2048), 0, "paths hang off a root with trailing slash");
        vmm_ctx_free(ctx);
        fake_root_free(root);
}

static void test_lists(void)
{
        char *root = fake_root_new();
        vmm_ctx *ctx;
        uint64_t *sizes = NULL;
        unsigned *nodes = NULL;
        size_t n = 99;

        fake_x86_64(root);
        /* Names that look like hstates or nodes but are not what the kernel writes. */
        const char *junk[] = {
                "sys/kernel/mm/hugepages/hugepages-02048kB", "sys/kernel/mm/hugepages/hugepages-2048kb",
                "sys/kernel/mm/hugepages/hugepages-2048kBx", "sys/kernel/mm/hugepages/hugepages-kB",
                "sys/kernel/mm/hugepages/hugepages--1kB",    "sys/kernel/mm/hugepages/hugepages-2048",
                "sys/kernel/mm/hugepages/hugepages-+4kB",    "sys/kernel/mm/hugepages/xhugepages-4kB",
                "sys/kernel/mm/hugepages/hugepages- 4kB",    "sys/kernel/mm/hugepages/hugepages-99999999999999999999kB",
                "sys/devices/system/node/node01",            "sys/devices/system/node/nodeX",
                "sys/devices/system/node/node",              "sys/devices/system/node/node-1",
                "sys/devices/system/node/node99999999999",
        };
        for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
                fake_dir(root, junk[i]);
        /* Creation order must not matter: add a small size last. */
        fake_hstate(root, 64, 0, 0, 0, 0, 0);
        ctx = fake_ctx(root, 4096);

        is_int(vmm_hstates_list(ctx, &sizes, &n), 0, "hstates listed");
        is_int(n, 3, "three hstates, look-alike names ignored");
        ok(n == 3 && sizes[0] == 64 && sizes[1] == 2048 && sizes[2] == 1048576, "sorted ascending: 64, 2048, 1048576");
        free(sizes);
        is_int(vmm_hstate_exists(ctx, 2048), 0, "2048kB exists");
        is_int(vmm_hstate_exists(ctx, 1048576), 0, "1048576kB exists");
        is_int(vmm_hstate_exists(ctx, 4096), -ENOENT, "4096kB does not exist");
        is_int(vmm_hstate_exists(ctx, 0), -ENOENT, "0kB does not exist");

        is_int(vmm_nodes_list(ctx, &nodes, &n), 0, "nodes listed");
        is_int(n, 2, "two nodes; possible/online/has_cpu and look-alikes ignored");
        ok(n == 2 && nodes[0] == 0 && nodes[1] == 1, "nodes 0 and 1");
        free(nodes);

        /* Ten nodes sort numerically, not as strings (node10 after node9). */
        for (unsigned i = 2; i <= 10; i++) {
                char rel[64];

                snprintf(rel, sizeof(rel), "sys/devices/system/node/node%u", i);
                fake_dir(root, rel);
        }
        is_int(vmm_nodes_list(ctx, &nodes, &n), 0, "eleven nodes listed");
        ok(n == 11 && nodes[2] == 2 && nodes[9] == 9 && nodes[10] == 10, "node10 sorts after node9");
        free(nodes);

        /* No NUMA sysfs: zero nodes, not an error. */
        fake_remove(root, "sys/devices/system/node");
        nodes = (unsigned *)&n; /* must become NULL */
        is_int(vmm_nodes_list(ctx, &nodes, &n), 0, "no node directory is not an error");
        ok(n == 0 && nodes == NULL, "no node directory gives 0 nodes and NULL");

        /* An empty hugepages directory: hugetlb present, no sizes. */
        fake_remove(root, "sys/kernel/mm/hugepages");
        fake_dir(root, "sys/kernel/mm/hugepages");
        sizes = (uint64_t *)&n;
        is_int(vmm_hstates_list(ctx, &sizes, &n), 0, "empty hugepages directory lists");
        ok(n == 0 && sizes == NULL, "empty hugepages directory gives 0 sizes and NULL");
        is_int(vmm_hstate_exists(ctx, 2048), -ENOENT, "no 2048kB in an empty hugepages directory");
        vmm_ctx_free(ctx);
        fake_root_free(root);
}

static void test_reads(void)
{
        char *root = fake_root_new();
        struct vmm_pool p = { 0 };
        struct vmm_node_pool np = { 0 };
        vmm_ctx *ctx;

        fake_x86_64(root);
        ctx = fake_ctx(root, 4096);

        is_int(vmm_pool_read(ctx, 2048, &p), 0, "2048kB pool read");
        ok(p.total == 10 && p.free == 4 && p.reserved == 2 && p.surplus == 1 && p.overcommit == 5,
           "2048kB: total 10 free 4 resv 2 surplus 1 overcommit 5");
        is_int(vmm_pool_read(ctx, 1048576, &p), 0, "1048576kB pool read");
        ok(p.total == 2 && p.free == 2 && p.reserved == 0 && p.surplus == 0 && p.overcommit == 0,
           "1048576kB: total 2 free 2, rest 0");
        p.total = 12345;
        is_int(vmm_pool_read(ctx, 4096, &p), -ENOENT, "pool of a missing size is -ENOENT");
        is_int(p.total, 12345, "failed pool read leaves the result untouched");

        is_int(vmm_node_pool_read(ctx, 2048, 0, &np), 0, "node0 2048kB read");
        ok(np.total == 6 && np.free == 3 && np.surplus == 1, "node0 2048kB: 6/3/1");
        is_int(vmm_node_pool_read(ctx, 2048, 1, &np), 0, "node1 2048kB read");
        ok(np.total == 4 && np.free == 1 && np.surplus == 0, "node1 2048kB: 4/1/0");
        is_int(vmm_node_pool_read(ctx, 1048576, 0, &np), 0, "node0 1048576kB read");
        ok(np.total == 2 && np.free == 2 && np.surplus == 0, "node0 1048576kB: 2/2/0");
        np.total = 12345;
        is_int(vmm_node_pool_read(ctx, 2048, 2, &np), -ENOENT, "missing node2 is -ENOENT");
        is_int(vmm_node_pool_read(ctx, 4096, 0, &np), -ENOENT, "missing size on node0 is -ENOENT");
        is_int(np.total, 12345, "failed node read leaves the result untouched");

        /* A node that exists but has no hugepages directory (memoryless node). */
        fake_dir(root, "sys/devices/system/node/node2");
        is_int(vmm_node_pool_read(ctx, 2048, 2, &np), -ENOENT, "node without hugepages dir is -ENOENT");
        /* One node file missing: all or nothing. */
        fake_remove(root, "sys/devices/system/node/node1/hugepages/hugepages-2048kB/surplus_hugepages");
        is_int(vmm_node_pool_read(ctx, 2048, 1, &np), -ENOENT, "node pool with a missing counter file is -ENOENT");
        is_int(np.total, 12345, "...and leaves the result untouched");
        fake_remove(root, "sys/kernel/mm/hugepages/hugepages-1048576kB/resv_hugepages");
        is_int(vmm_pool_read(ctx, 1048576, &p), -ENOENT, "pool with a missing resv_hugepages is -ENOENT");
        is_int(vmm_pool_read(NULL, 2048, &p), -EINVAL, "NULL context is -EINVAL");
        is_int(vmm_pool_read(ctx, 2048, NULL), -EINVAL, "NULL result is -EINVAL");
        vmm_ctx_free(ctx);
        fake_root_free(root);
}

static void test_writes(void)
{
        char *root = fake_root_new();
        struct vmm_resize rs;
        struct vmm_pool p;
        vmm_ctx *ctx;

        fake_x86_64(root);
        ctx = fake_ctx(root, 4096);

        is_int(vmm_pool_set(ctx, 2048, -1, 20, &rs), 0, "global 2048kB pool set to 20");
        ok(rs.before == 10 && rs.requested == 20 && rs.reached == 20, "before 10, requested 20, reached 20");
        is_int(file_number(root, "sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"), 20,
               "20 written to the global nr_hugepages");
        is_int(vmm_pool_set(ctx, 2048, -1, 0, &rs), 0, "global 2048kB pool set to 0");
        ok(rs.before == 20 && rs.requested == 0 && rs.reached == 0, "before 20, requested 0, reached 0");

        is_int(vmm_pool_set(ctx, 1048576, 1, 3, &rs), 0, "node1 1048576kB pool set to 3");
        ok(rs.before == 0 && rs.requested == 3 && rs.reached == 3, "node1: before 0, requested 3, reached 3");
        is_int(file_number(root, "sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages"), 3,
               "3 written to node1's file");
        is_int(file_number(root, "sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages"), 2,
               "the global 1048576kB file is not touched by a node write");

        rs = (struct vmm_resize){ 111, 222, 333 };
        is_int(vmm_pool_set(ctx, 2048, 5, 1, &rs), -ENOENT, "set on missing node5 is -ENOENT");
        ok(resize_untouched(&rs), "...and leaves *ret untouched");
        is_int(vmm_pool_set(ctx, 4096, -1, 1, &rs), -ENOENT, "set on a missing size is -ENOENT");
        ok(resize_untouched(&rs), "...and leaves *ret untouched");

        /* The kernel refuses the write (a read-only 0444 sysctl, as nr_hugepages
         * is to an unprivileged user): the real EACCES, *ret untouched. */
        if (access("/proc/sys/kernel/ngroups_max", R_OK) == 0) {
                fake_symlink(root, "sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages",
                             "/proc/sys/kernel/ngroups_max");
                is_int(vmm_pool_set(ctx, 2048, 0, 1, &rs), -EACCES, "write refused by the kernel is -EACCES");
                ok(resize_untouched(&rs), "...and leaves *ret untouched");
        } else {
                printf("ok %d - # SKIP /proc/sys/kernel/ngroups_max not readable\n", ++tap_n);
                printf("ok %d - # SKIP /proc/sys/kernel/ngroups_max not readable\n", ++tap_n);
        }
        /* A directory where the file should be: the read before the write fails. */
        fake_remove(root, "sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages");
        fake_dir(root, "sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages");
        is_int(vmm_pool_set(ctx, 2048, -1, 1, &rs), -EISDIR, "nr_hugepages a directory is -EISDIR");
        ok(resize_untouched(&rs), "...and leaves *ret untouched");
        /* A missing file is never created: the kernel owns these files. */
        fake_remove(root, "sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages");
        is_int(vmm_pool_set(ctx, 1048576, -1, 1, &rs), -ENOENT, "missing nr_hugepages is -ENOENT");
        ok(resize_untouched(&rs), "...and leaves *ret untouched");
        ok(!exists_in(root, "sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages"), "...and is not created");

        is_int(vmm_overcommit_set(ctx, 1048576, 7), 0, "overcommit of 1048576kB set to 7");
        is_int(file_number(root, "sys/kernel/mm/hugepages/hugepages-1048576kB/nr_overcommit_hugepages"), 7,
               "7 written to nr_overcommit_hugepages");
        is_int(vmm_overcommit_set(ctx, 4096, 7), -ENOENT, "overcommit of a missing size is -ENOENT");

        is_int(vmm_compact(ctx, -1), 0, "global compaction");
        is_int(file_number(root, "proc/sys/vm/compact_memory"), 1, "1 written to compact_memory");
        is_int(vmm_compact(ctx, 1), 0, "node1 compaction");
        is_int(file_number(root, "sys/devices/system/node/node1/compact"), 1, "1 written to node1/compact");
        is_int(vmm_compact(ctx, 7), -ENOENT, "compaction of missing node7 is -ENOENT");
        (void)p;
        vmm_ctx_free(ctx);
        fake_root_free(root);
}

/* A real shortfall needs a kernel that runs out of memory or gets a signal
 * mid-write; a fake file just stores what is written. So the decision
 * vmm_pool_set makes from the read-back is tested here directly, and the real
 * kernel tier forces real shortfalls (a page in use; a signal mid-growth). */
static void test_verdict(void)
{
        static const struct { uint64_t requested, reached; int r; const char *why; } cases[] = {
                { 20, 20, 0, "reached what was asked" },
                { 0, 0, 0, "emptied" },
                { 200, 150, -ENOMEM, "growth stopped short" },
                { 200, 0, -ENOMEM, "growth got nothing" },
                { 10, 12, -EBUSY, "shrink stopped short: pages in use became surplus" },
                { 0, 1, -EBUSY, "shrink to 0 with one page in use" },
                { UINT64_MAX, 5, -ENOMEM, "absurd request" },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                is_int(vmmi_resize_verdict(cases[i].requested, cases[i].reached), cases[i].r,
                       "verdict requested %" PRIu64 " reached %" PRIu64 ": %s", cases[i].requested,
                       cases[i].reached, cases[i].why);
}

static void test_no_hugetlb(void)
{
        char *root = fake_root_new();
        struct vmm_pool p;
        struct vmm_node_pool np;
        struct vmm_resize rs = { 111, 222, 333 };
        uint64_t *sizes = NULL;
        unsigned *nodes = NULL;
        size_t n = 0;
        vmm_ctx *ctx;

        /* CONFIG_HUGETLBFS=n: no hugepages directories anywhere, nodes still there. */
        fake_kernel(root, "6.18.0", "x86_64", "quiet", -1);
        fake_dir(root, "sys/kernel/mm");
        fake_dir(root, "sys/devices/system/node/node0");
        ctx = fake_ctx(root, 4096);
        is_int(vmm_hstates_list(ctx, &sizes, &n), -EOPNOTSUPP, "no hugetlb: list is -EOPNOTSUPP");
        is_int(vmm_hstate_exists(ctx, 2048), -EOPNOTSUPP, "no hugetlb: exists is -EOPNOTSUPP");
        is_int(vmm_pool_read(ctx, 2048, &p), -EOPNOTSUPP, "no hugetlb: pool read is -EOPNOTSUPP");
        is_int(vmm_node_pool_read(ctx, 2048, 0, &np), -EOPNOTSUPP, "no hugetlb: node read is -EOPNOTSUPP");
        is_int(vmm_pool_set(ctx, 2048, -1, 1, &rs), -EOPNOTSUPP, "no hugetlb: pool set is -EOPNOTSUPP");
        is_int(vmm_pool_set(ctx, 2048, 0, 1, &rs), -EOPNOTSUPP, "no hugetlb: node pool set is -EOPNOTSUPP");
        ok(resize_untouched(&rs), "...and leaves *ret untouched");
        is_int(vmm_overcommit_set(ctx, 2048, 1), -EOPNOTSUPP, "no hugetlb: overcommit is -EOPNOTSUPP");
        is_int(vmm_nodes_list(ctx, &nodes, &n), 0, "no hugetlb: nodes still listed");
        is_int(n, 1, "no hugetlb: one node");
        free(nodes);
        vmm_ctx_free(ctx);
        fake_root_free(root);
}

/* Free memory and the largest free block: the node's and the machine's
 * meminfo, and buddyinfo's highest order with a block, over every zone. */
static void test_free(void)
{
        char *root = fake_root_new();
        struct vmm_free f;
        vmm_ctx *ctx;

        fake_kernel(root, "6.18.0", "x86_64", "quiet", -1);
        fake_file(root, "proc/meminfo", "MemTotal:        4194304 kB\nMemFree:         1048576 kB\n");
        fake_file(root, "sys/devices/system/node/node0/meminfo",
                  "Node 0 MemTotal:  2097152 kB\nNode 0 MemFree:    524288 kB\n");
        fake_file(root, "sys/devices/system/node/node1/meminfo",
                  "Node 1 MemTotal:  2097152 kB\nNode 1 MemFree:         0 kB\n");
        fake_file(root, "proc/buddyinfo",
                  "Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3 \n"
                  "Node 0, zone   Normal   4039   1036    211      0 \n"
                  "Node 1, zone   Normal      7      0      0      0      0      2      0      0      0      0      0 \n");
        ctx = fake_ctx(root, 4096);
        is_int(vmm_free_read(ctx, -1, &f), 0, "free: the machine's");
        ok(f.free_kb == 1048576, "free: MemFree of /proc/meminfo (%" PRIu64 ")", f.free_kb);
        is_int(f.largest_order, 10, "free: the largest block over all nodes and zones is order 10");
        is_int(vmm_free_read(ctx, 0, &f), 0, "free: node 0");
        ok(f.free_kb == 524288, "free: node 0's MemFree (%" PRIu64 ")", f.free_kb);
        is_int(f.largest_order, 10, "free: node 0's largest block is in its DMA zone");
        is_int(vmm_free_read(ctx, 1, &f), 0, "free: node 1");
        ok(f.free_kb == 0, "free: a node with nothing free reads 0, not an error");
        is_int(f.largest_order, 5, "free: node 1's largest block is order 5");
        is_int(vmm_free_read(ctx, 2, &f), -ENOENT, "free: a node that does not exist is -ENOENT");
        fake_file(root, "sys/devices/system/node/node1/meminfo", "Node 1 MemFree:  12 MB\n");
        is_int(vmm_free_read(ctx, 1, &f), -EBADMSG, "free: a size not in kB is -EBADMSG");
        fake_remove(root, "proc/buddyinfo");
        is_int(vmm_free_read(ctx, 0, &f), 0, "free: no buddyinfo still gives MemFree");
        is_int(f.largest_order, VMM_ORDER_UNKNOWN, "free: ... and says the largest block is unknown");
        fake_file(root, "proc/buddyinfo", "Node 0, zone   Normal      0      0 \n");
        is_int(vmm_free_read(ctx, 0, &f), 0, "free: nothing free in buddyinfo");
        is_int(f.largest_order, -1, "free: ... is order -1");
        fake_file(root, "proc/buddyinfo", "Node 0, zone\nNode 0, foo 1 2 3\nNode 0,\n");
        is_int(vmm_free_read(ctx, 0, &f), 0, "free: buddyinfo lines without a whole \"Node N, zone NAME\"");
        is_int(f.largest_order, VMM_ORDER_UNKNOWN, "free: ... are not read (the largest block is unknown)");
        vmm_ctx_free(ctx);
        fake_root_free(root);

        /* This machine's own files, against an independent reading. */
        if (access("/proc/buddyinfo", R_OK) != 0) {
                skip(2, "no /proc/buddyinfo here");
                return;
        }
        FILE *b = fopen("/proc/buddyinfo", "re");
        int want = -1;
        char line[1024];
        while (b && fgets(line, sizeof line, b)) {
                int order = 0, at = 0;
                char *p = strstr(line, "zone");
                if (!p)
                        continue;
                p += 4;
                while (*p == ' ')
                        p++;
                p += strcspn(p, " ");   /* the zone's name */
                for (unsigned long long c; sscanf(p, "%llu%n", &c, &at) == 1; p += at, order++)
                        if (c && order > want)
                                want = order;
        }
        if (b)
                fclose(b);
        ctx = NULL;
        is_int(vmm_ctx_new(NULL, NULL, &ctx), 0, "free: this machine's root");
        ok(ctx && vmm_free_read(ctx, -1, &f) == 0 && f.largest_order >= want - 1 && f.largest_order <= want + 1 && f.free_kb > 0,
           "free: this machine's largest order %d (an independent reading said %d, a moment apart)", f.largest_order, want);
        vmm_ctx_free(ctx);
}

/* The free blocks per order and the pageblocks by type: what the forecast reads. */
static void test_buddy(void)
{
        char *root = fake_root_new();
        struct vmm_buddy b;
        vmm_ctx *ctx;

        fake_kernel(root, "6.18.0", "x86_64", "quiet", -1);
        fake_file(root, "proc/meminfo", "MemTotal:        4194304 kB\nMemFree:         1048576 kB\n");
        fake_file(root, "sys/devices/system/node/node0/meminfo",
                  "Node 0 MemFree:    524288 kB\nNode 0 Dirty:          100 kB\nNode 0 Writeback:        0 kB\n"
                  "Node 0 FilePages:   81920 kB\nNode 0 Shmem:         1820 kB\n");
        fake_file(root, "sys/devices/system/node/node1/meminfo", "Node 1 MemFree:      1024 kB\n");
        fake_file(root, "proc/buddyinfo",
                  "Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3 \n"
                  "Node 0, zone   Normal   4039   1036    211      0      0      0      0      0      0      2      5 \n"
                  "Node 1, zone   Normal      7      0      0      0      0      2      0      0      0      0      0 \n");
        fake_file(root, "proc/pagetypeinfo",
                  "Page block order: 9\nPages per block:  512\n\n"
                  "Free pages count per migrate type at order       0      1      2      3      4      5      6      7      8      9     10 \n"
                  "Node    0, zone   Normal, type    Unmovable      9      0      0      0      0      0      0      0      0      0      0 \n"
                  "Node    0, zone   Normal, type      Movable      9      0      0      0      0      0      0      0      0      0      0 \n\n"
                  "Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic      Isolate \n"
                  "Node 0, zone      DMA            1            7            0            0            0 \n"
                  "Node 0, zone   Normal          122         4387           99            0            0 \n"
                  "Node 1, zone   Normal           10           20            3            0            0 \n"
                  "Number of mixed blocks    Unmovable      Movable  Reclaimable   HighAtomic      Isolate \n"
                  "Node 0, zone   Normal          100          100          100            0            0 \n");
        ctx = fake_ctx(root, 4096);
        is_int(vmm_buddy_read(ctx, 0, &b), 0, "buddy: node 0");
        ok(b.free_kb == 524288, "buddy: node 0's MemFree (%" PRIu64 ")", b.free_kb);
        is_int(b.orders, 11, "buddy: 11 orders listed");
        ok(b.free_blocks[0] == 4039 && b.free_blocks[8] == 1 && b.free_blocks[9] == 3 && b.free_blocks[10] == 8,
           "buddy: node 0's blocks summed over its zones");
        ok(vmm_buddy_obtainable(&b, 9) == 3 + 16, "buddy: order 9 now: 3 + 8 << 1 (%" PRIu64 ")", vmm_buddy_obtainable(&b, 9));
        ok(vmm_buddy_obtainable(&b, 8) == 1 + 6 + 32, "buddy: order 8 now: 1 + 3 << 1 + 8 << 2");
        ok(vmm_buddy_obtainable(&b, 11) == 0, "buddy: nothing beyond the orders listed");
        is_int(b.pageblock_order, 9, "buddy: pageblock order 9");
        ok(b.cache_kb == 81920 - 1820 - 100, "buddy: node 0's clean page cache: FilePages - Shmem - Dirty - Writeback (%" PRIu64 ")",
           b.cache_kb);
        fake_file(root, "proc/sys/vm/drop_caches", "%s", "");
        is_int(vmm_drop_caches(ctx), 0, "drop_caches: written");
        char dpath[PATH_MAX], dropped[8] = "";
        snprintf(dpath, sizeof dpath, "%s/proc/sys/vm/drop_caches", root);
        FILE *d = fopen(dpath, "re");
        if (d) {
                if (!fgets(dropped, sizeof dropped, d))
                        dropped[0] = '\0';
                fclose(d);
        }
        ok(strcmp(dropped, "1") == 0, "drop_caches: '1' (page cache only)");
        ok(b.unmovable_blocks == 123 && b.movable_blocks == 4394 && b.reclaimable_blocks == 99,
           "buddy: node 0's blocks by type, over its zones, not the mixed-blocks table (%" PRIu64 " %" PRIu64 " %" PRIu64 ")",
           b.unmovable_blocks, b.movable_blocks, b.reclaimable_blocks);
        is_int(vmm_buddy_read(ctx, -1, &b), 0, "buddy: the machine");
        ok(b.movable_blocks == 4414 && b.unmovable_blocks == 133 && b.free_blocks[5] == 2 && b.free_kb == 1048576,
           "buddy: the machine sums the nodes");
        is_int(vmm_buddy_read(ctx, 1, &b), 0, "buddy: node 1");
        ok(vmm_buddy_obtainable(&b, 5) == 2 && vmm_buddy_obtainable(&b, 0) == 7 + 64 && b.cache_kb == 0,
           "buddy: node 1's blocks (no page cache keys: 0)");
        is_int(vmm_buddy_read(ctx, 2, &b), -ENOENT, "buddy: a node that does not exist is -ENOENT");
        fake_remove(root, "proc/pagetypeinfo");
        is_int(vmm_buddy_read(ctx, 0, &b), 0, "buddy: no pagetypeinfo (not root) still reads");
        ok(b.pageblock_order == -1 && b.movable_blocks == 0, "buddy: ... and says the types are unknown");
        fake_remove(root, "proc/buddyinfo");
        is_int(vmm_buddy_read(ctx, 0, &b), -ENOENT, "buddy: no buddyinfo is -ENOENT");
        vmm_ctx_free(ctx);
        fake_root_free(root);

        /* This machine's own files, against an independent reading. */
        FILE *t = fopen("/proc/pagetypeinfo", "re");
        if (!t || access("/proc/buddyinfo", R_OK) != 0) {
                if (t)
                        fclose(t);
                skip(3, "no /proc/pagetypeinfo readable here");
                return;
        }
        char line[1024];
        int order = -1;
        unsigned long long movable = 0, unmovable = 0, top = 0;
        bool in = false;
        while (fgets(line, sizeof line, t)) {
                unsigned long long u, m;
                if (sscanf(line, "Page block order: %d", &order) == 1)
                        continue;
                if (strstr(line, "Number of blocks type"))
                        in = true;
                else if (in && sscanf(line, "Node %*u, zone %*s %llu %llu", &u, &m) == 2)
                        unmovable += u, movable += m;
                else
                        in = false;
        }
        fclose(t);
        FILE *bi = fopen("/proc/buddyinfo", "re");
        while (bi && fgets(line, sizeof line, bi)) {
                char *p = strrchr(line, ' ');
                while (p > line && p[-1] == ' ')
                        p--;   /* the trailing blank */
                *p = '\0';
                p = strrchr(line, ' ');
                top += strtoull(p + 1, NULL, 10);   /* the last order's count */
        }
        if (bi)
                fclose(bi);
        ctx = NULL;
        is_int(vmm_ctx_new(NULL, NULL, &ctx), 0, "buddy: this machine's root");
        ok(ctx && vmm_buddy_read(ctx, -1, &b) == 0 && b.pageblock_order == order && b.movable_blocks == movable &&
           b.unmovable_blocks == unmovable,
           "buddy: this machine's pageblocks: order %d, %" PRIu64 " movable, %" PRIu64 " unmovable (independently: %d, %llu, %llu)",
           b.pageblock_order, b.movable_blocks, b.unmovable_blocks, order, movable, unmovable);
        uint64_t got = b.orders > 0 ? b.free_blocks[b.orders - 1] : 0;
        ok(b.orders > 0 && got + got / 10 + 8 >= top && top + top / 10 + 8 >= got,
           "buddy: this machine's top-order blocks %" PRIu64 " (independently %llu, a moment apart)", got, top);
        vmm_ctx_free(ctx);
}

/* write_flags ROOT FLAGS N: /proc/kpageflags of a fake machine, one 64-bit word per page. */
static void write_flags(const char *root, const uint64_t *flags, size_t n)
{
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/proc/kpageflags", root);
        FILE *f = fopen(path, "we");
        if (!f || fwrite(flags, sizeof flags[0], n, f) != n || fclose(f) != 0) {
                printf("Bail out! fake tree: cannot write %s: %s\n", path, strerror(errno));
                exit(1);
        }
}

/* Ranges that could become a page: aligned, in one zone, no unmovable page (kpageflags). */
static void test_contig(void)
{
        char *root = fake_root_new();
        vmm_ctx *ctx;
        uint64_t n = 99;
        uint64_t budget;
#define BUDGET (budget = UINT64_MAX, &budget)
        enum { SLAB = 1 << 7, LRU = 1 << 5, BUDDY = 1 << 10, HEAD = 1 << 15, TAIL = 1 << 16, HUGE = 1 << 17,
               UNEVICTABLE = 1 << 18, NOPAGE = 1 << 20, PGTABLE = 1 << 26 };

        fake_kernel(root, "6.18.0", "x86_64", "quiet", -1);
        ctx = fake_ctx(root, 4096);
        is_int(vmm_contig_ranges(ctx, 0, 2, true, UINT64_MAX, BUDGET, &n), -ENOENT, "contig: no /proc/zoneinfo: -ENOENT");
        /* Node 0: pages 1-32 (ranges of 4: 4-7 ... 28-31), 40-47 and a Movable
         * zone 64-71; node 1: 48-63. */
        fake_file(root, "proc/zoneinfo",
                  "Node 0, zone    DMA32\n  pages free     3\n        spanned  32\n        present  32\n  start_pfn:           1\n"
                  "Node 0, zone   Normal\n        spanned  8\n  start_pfn:           40\n"
                  "Node 0, zone  Movable\n        spanned  8\n  start_pfn:           64\n"
                  "Node 1, zone   Normal\n        spanned  16\n  start_pfn:           48\n");
        is_int(vmm_contig_ranges(ctx, 0, 2, true, UINT64_MAX, BUDGET, &n), -ENOENT, "contig: no /proc/kpageflags: -ENOENT");
        uint64_t f[72] = { 0 };
        f[4] = BUDDY;                                     /* 4-7: free: counts */
        f[8] = LRU; f[9] = LRU; f[11] = LRU;              /* 8-11: movable and free: counts */
        f[13] = SLAB;                                     /* 12-15: blocked */
        f[16] = HEAD | SLAB; f[17] = f[18] = f[19] = TAIL; /* 16-19: a slab of 4 pages: blocked */
        f[20] = HEAD | HUGE; f[21] = f[22] = f[23] = TAIL | HUGE;   /* 20-23: a hugetlb page of the order: not counted */
        f[24] = HEAD | LRU; f[25] = f[26] = f[27] = TAIL; /* 24-27: a THP: counts */
        f[30] = PGTABLE;                                  /* 28-31: blocked */
        f[40] = HEAD | HUGE; f[41] = TAIL | HUGE;         /* 40-43: a smaller hugetlb page and free pages: counts */
        f[47] = NOPAGE;                                   /* 44-47: a hole: blocked */
        write_flags(root, f, 72);
        is_int(vmm_contig_ranges(ctx, 0, 2, true, UINT64_MAX, BUDGET, &n), 0, "contig: node 0, gigantic");
        ok(n == 4, "contig: 4 ranges (4-7 free, 8-11 movable, 24-27 a THP, 40-43 a smaller hugetlb page), not ZONE_MOVABLE (%" PRIu64 ")", n);
        is_int(vmm_contig_ranges(ctx, 0, 2, false, UINT64_MAX, BUDGET, &n), 0, "contig: node 0, by compaction");
        ok(n == 6, "contig: by compaction ZONE_MOVABLE's 2 ranges count too (%" PRIu64 ")", n);
        is_int(vmm_contig_ranges(ctx, 1, 2, true, UINT64_MAX, BUDGET, &n), 0, "contig: node 1");
        ok(n == 4, "contig: node 1's zone, 16 pages, is 4 ranges (%" PRIu64 ")", n);
        is_int(vmm_contig_ranges(ctx, 1, 3, true, UINT64_MAX, BUDGET, &n), 0, "contig: node 1, ranges of 8");
        ok(n == 2, "contig: 2 ranges of 8 in 48-63 (%" PRIu64 ")", n);
        is_int(vmm_contig_ranges(ctx, 1, 5, true, UINT64_MAX, BUDGET, &n), 0, "contig: node 1, ranges of 32");
        ok(n == 0, "contig: no aligned range of 32 inside 48-63 (%" PRIu64 ")", n);
        f[5] = LRU | UNEVICTABLE;                         /* 4-7 now holds a mlocked page */
        write_flags(root, f, 72);
        fake_file(root, "proc/sys/vm/compact_unevictable_allowed", "1\n");
        ok(vmm_contig_ranges(ctx, 0, 2, false, UINT64_MAX, BUDGET, &n) == 0 && n == 6,
           "contig: compaction that moves mlocked pages: still 6 (%" PRIu64 ")", n);
        fake_file(root, "proc/sys/vm/compact_unevictable_allowed", "0\n");
        ok(vmm_contig_ranges(ctx, 0, 2, false, UINT64_MAX, BUDGET, &n) == 0 && n == 5,
           "contig: compaction_unevictable_allowed=0: the mlocked page blocks its range, 5 (%" PRIu64 ")", n);
        ok(vmm_contig_ranges(ctx, 0, 2, true, UINT64_MAX, BUDGET, &n) == 0 && n == 4,
           "contig: gigantic pages move mlocked pages whatever the sysctl: 4 (%" PRIu64 ")", n);
        is_int(vmm_contig_ranges(ctx, 0, 2, true, 2, BUDGET, &n), 0, "contig: node 0, counting up to 2");
        ok(n == 2, "contig: stops at 2 (%" PRIu64 ")", n);
        is_int(vmm_contig_ranges(ctx, 0, 2, true, 0, BUDGET, &n), 0, "contig: up to 0");
        ok(n == 0, "contig: nothing counted when nothing is needed (%" PRIu64 ")", n);
        is_int(vmm_contig_ranges(ctx, 2, 2, true, UINT64_MAX, BUDGET, &n), -ENODATA, "contig: a node with no zone: -ENODATA");
        is_int(vmm_contig_ranges(ctx, 0, 0, true, UINT64_MAX, BUDGET, &n), -EINVAL, "contig: order 0: -EINVAL");
        write_flags(root, f, 44);                         /* the map ends inside node 0's Normal zone */
        is_int(vmm_contig_ranges(ctx, 0, 2, true, UINT64_MAX, BUDGET, &n), -EIO, "contig: a memory map shorter than the zones: -EIO");

        /* The scan budget: a zone of 8 ranges of 2^20 pages (a sparse map of 8M
         * pages); a slab page in range 1 (read, blocked) and in ranges 5-7
         * (past the budget of 2^22 pages: counted unread). */
        fake_file(root, "proc/zoneinfo", "Node 0, zone   Normal\n        spanned  8388608\n  start_pfn:           0\n");
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/proc/kpageflags", root);
        int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        uint64_t slab = SLAB;
        bool made = fd >= 0 && ftruncate(fd, (off_t)(8388608 * sizeof slab)) == 0;
        for (uint64_t r = 1; made && r < 8; r += (r == 1 ? 4 : 1))
                made = pwrite(fd, &slab, sizeof slab, (off_t)((r << 20) * sizeof slab)) == sizeof slab;
        if (fd >= 0)
                close(fd);
        ok(made, "contig: a sparse memory map of 8M pages");
        budget = UINT64_C(1) << 22;
        ok(vmm_contig_ranges(ctx, 0, 20, true, UINT64_MAX, &budget, &n) == 0 && n == 7,
           "contig: range 1 read and blocked, ranges 4-7 past a budget of 2^22 pages counted unread: 7 (%" PRIu64 ")", n);
        ok(budget == 0, "contig: the budget is spent (%" PRIu64 " left)", budget);
        budget = UINT64_C(3) << 20;
        /* Up to 2: range 0 read whole, range 1 one read of 8192 entries (blocked
         * at its first page), range 2 whole, then stop. */
        ok(vmm_contig_ranges(ctx, 0, 20, true, 2, &budget, &n) == 0 && n == 2 && budget == (UINT64_C(1) << 20) - 8192,
           "contig: counting up to 2 reads 2 ranges and one chunk, no more (%" PRIu64 " pages of budget left)", budget);
        budget = UINT64_C(1) << 20;
        ok(vmm_contig_ranges(ctx, 0, 20, true, UINT64_MAX, &budget, &n) == 0 && n == 8 && budget == 0,
           "contig: a budget of one range reads range 0 and counts 1-7 unread, range 1's slab unseen: 8 (%" PRIu64 ")", n);
        budget = (UINT64_C(1) << 20) + 8192;
        ok(vmm_contig_ranges(ctx, 0, 20, true, UINT64_MAX, &budget, &n) == 0 && n == 7,
           "contig: one chunk more sees range 1's slab: 7 (%" PRIu64 ")", n);
        ok(vmm_contig_ranges(ctx, 0, 20, true, UINT64_MAX, &budget, &n) == 0 && n == 8,
           "contig: the budget spent by the call before: the next reads nothing, 8 (%" PRIu64 ")", n);
        is_int(vmm_contig_ranges(ctx, 0, 20, true, UINT64_MAX, NULL, &n), -EINVAL, "contig: no budget: -EINVAL");
        vmm_ctx_free(ctx);
        fake_root_free(root);
#undef BUDGET
}

int main(void)
{
        test_ctx();
        test_lists();
        test_reads();
        test_writes();
        test_verdict();
        test_no_hugetlb();
        test_free();
        test_buddy();
        test_contig();
        return tap_done();
}
