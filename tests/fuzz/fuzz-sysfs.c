/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness: libvmemmap's /sys and /proc readers on a fake root whose
 * files come from the fuzz input.
 *
 * Input: pieces separated by the byte 0x1e (ASCII record separator), in the
 * order of files[] below, then one last piece of directory names. A piece
 * that is missing (input too short) or is exactly the byte 0x7f leaves that
 * file out, so every "file absent" path is reachable too.
 *
 * Beyond "no crash, no leak, no UB", each reader is checked against what
 * vmemmap.h promises, with a small independent reference written from the
 * header's contract (not from the implementation):
 *   - number files: value, or -ENOENT / -EBADMSG / -ERANGE exactly as the
 *     contract says, for the whole pool and a node's pool;
 *   - the HVO sysctl: supported/enabled or the error; boot parameter: putting
 *     "hugetlb_free_vmemmap=off " in front of the command line must give OFF
 *     when the original had no valid setting, else the original's value
 *     (the last valid occurrence wins);
 *   - osrelease: major.minor exactly, reserve pages from the version;
 *   - hstate, node and memory-block directory names: exactly the names that
 *     are "<prefix><decimal without leading zeros>[suffix]", sorted;
 *   - memmap: baseline from the block count and size, saved = baseline -
 *     current, -ENODATA when a counter is missing;
 *   - /proc/mounts: no more hugetlbfs mounts than hugetlbfs lines, each with
 *     a page size and terminated fields (pagesize= or /proc/meminfo's default).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz-root.h"
#include "vmemmap.h"

#define SEP 0x1e
#define ABSENT 0x7f
#define PAGE 4096u
#define STRUCT_PAGE 64u
#define MAX_NAMES 16

#define HP "/sys/kernel/mm/hugepages"
#define HS HP "/hugepages-2048kB"
#define NODE "/sys/devices/system/node"
#define NH NODE "/node0/hugepages/hugepages-2048kB"
#define MEM "/sys/devices/system/memory"

enum {
        F_NR, F_FREE, F_RESV, F_SURPLUS, F_OVERCOMMIT,
        F_NODE_NR, F_NODE_FREE, F_NODE_SURPLUS,
        F_VMSTAT, F_CMDLINE, F_OSRELEASE, F_ARCH, F_HVO, F_BLOCK_SIZE,
        F_MOUNTS, F_MEMINFO,
        N_FILES
};

static const char *const files[N_FILES] = {
        [F_NR] = HS "/nr_hugepages",
        [F_FREE] = HS "/free_hugepages",
        [F_RESV] = HS "/resv_hugepages",
        [F_SURPLUS] = HS "/surplus_hugepages",
        [F_OVERCOMMIT] = HS "/nr_overcommit_hugepages",
        [F_NODE_NR] = NH "/nr_hugepages",
        [F_NODE_FREE] = NH "/free_hugepages",
        [F_NODE_SURPLUS] = NH "/surplus_hugepages",
        [F_VMSTAT] = "/proc/vmstat",
        [F_CMDLINE] = "/proc/cmdline",
        [F_OSRELEASE] = "/proc/sys/kernel/osrelease",
        [F_ARCH] = "/proc/sys/kernel/arch",
        [F_HVO] = "/proc/sys/vm/hugetlb_optimize_vmemmap",
        [F_BLOCK_SIZE] = MEM "/block_size_bytes",
        [F_MOUNTS] = "/proc/mounts",
        [F_MEMINFO] = "/proc/meminfo",
};

struct piece {
        bool present;
        const uint8_t *data;
        size_t len;
};

static char root[PATH_MAX];

#define CHECK(cond, ...) do { if (!(cond)) { \
        fprintf(stderr, "fuzz-sysfs: property violated at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
        fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } } while (0)

static void die(const char *what)
{
        perror(what);
        abort();
}

static void path_of(char *buf, const char *rel)
{
        if ((size_t)snprintf(buf, PATH_MAX, "%s%s", root, rel) >= PATH_MAX)
                abort();
}

static void mkdir_p(const char *rel)
{
        char path[PATH_MAX];

        path_of(path, rel);
        for (char *p = path + strlen(root) + 1; *p; p++)
                if (*p == '/') {
                        *p = '\0';
                        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                                die(path);
                        *p = '/';
                }
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                die(path);
}

static void put_file(const char *rel, const struct piece *pc)
{
        char path[PATH_MAX];
        int fd;

        path_of(path, rel);
        if (!pc->present) {
                if (unlink(path) < 0 && errno != ENOENT)
                        die(path);
                return;
        }
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                die(path);
        if (pc->len && write(fd, pc->data, pc->len) != (ssize_t)pc->len)
                die(path);
        close(fd);
}

/* put_file, skipped when the file already holds exactly this (most
 * mutations change one piece; rewriting all of them dominated the run time). */
static void put_file_cached(size_t index, const char *rel, const struct piece *pc)
{
        static struct {
                bool known, present;
                uint8_t *data;
                size_t len;
        } cache[N_FILES];

        if (cache[index].known && cache[index].present == pc->present &&
            (!pc->present || (cache[index].len == pc->len && (pc->len == 0 || memcmp(cache[index].data, pc->data, pc->len) == 0))))
                return;
        put_file(rel, pc);
        free(cache[index].data);
        cache[index].data = NULL;
        cache[index].len = 0;
        cache[index].known = true;
        cache[index].present = pc->present;
        if (pc->present && pc->len) {
                cache[index].data = malloc(pc->len);
                if (!cache[index].data)
                        abort();
                memcpy(cache[index].data, pc->data, pc->len);
                cache[index].len = pc->len;
        }
}

/* The fixed skeleton: one hstate, node0 with it, the memory directory. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{

        (void)argc;
        (void)argv;
        snprintf(root, sizeof(root), "%s", fuzz_root_new("fuzz-sysfs"));
        mkdir_p(HS);
        mkdir_p(NH);
        mkdir_p(MEM);
        mkdir_p("/proc/sys/kernel");
        mkdir_p("/proc/sys/vm");
        return 0;
}

/* ---- references written from vmemmap.h ----------------------------------- */

/* A kernel text file as the library reads it: the content, or an error. */
static int ref_text(const struct piece *pc, size_t bufsize, char *out)
{
        size_t len = pc->len;

        if (!pc->present)
                return -ENOENT;
        if (len > bufsize - 1 || memchr(pc->data, '\0', len))
                return -EBADMSG;
        if (len > 0 && pc->data[len - 1] == '\n')
                len--;
        memcpy(out, pc->data, len);
        out[len] = '\0';
        return 0;
}

/* Whole string decimal or hex, overflow -ERANGE, anything else -EINVAL. */
static int ref_u64(const char *s, unsigned base, uint64_t *ret)
{
        unsigned __int128 v = 0;
        bool big = false;

        if (!*s)
                return -EINVAL;
        for (; *s; s++) {
                int d;

                if (*s >= '0' && *s <= '9')
                        d = *s - '0';
                else if (base == 16 && *s >= 'a' && *s <= 'f')
                        d = *s - 'a' + 10;
                else if (base == 16 && *s >= 'A' && *s <= 'F')
                        d = *s - 'A' + 10;
                else
                        return -EINVAL;
                v = v * base + (unsigned)d;
                if (v > UINT64_MAX) {
                        big = true;
                        v = UINT64_MAX; /* keep scanning for non-digits */
                }
        }
        if (big)
                return -ERANGE;
        *ret = (uint64_t)v;
        return 0;
}

/* One-number file: "not what the kernel writes" is -EBADMSG (contract). */
static int ref_number_file(const struct piece *pc, unsigned base, uint64_t *ret)
{
        char text[64];
        int r = ref_text(pc, sizeof(text), text);

        if (r < 0)
                return r;
        r = ref_u64(text, base, ret);
        return r == -EINVAL ? -EBADMSG : r;
}

/* "<prefix><decimal, no leading zeros><suffix>" with value <= max. */
static bool ref_numbered(const char *name, const char *prefix, const char *suffix, uint64_t max, uint64_t *ret)
{
        size_t pl = strlen(prefix), sl = strlen(suffix), nl = strlen(name);
        char digits[64];

        if (nl <= pl + sl || nl - pl - sl >= sizeof(digits) || strncmp(name, prefix, pl) ||
            strcmp(name + nl - sl, suffix))
                return false;
        memcpy(digits, name + pl, nl - pl - sl);
        digits[nl - pl - sl] = '\0';
        if (digits[0] == '0' && digits[1])
                return false;
        return ref_u64(digits, 10, ret) == 0 && *ret <= max;
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return (x > y) - (x < y);
}

/* A memory block as the kernel names it: "memory<N>", N decimal without
 * leading zeros (any length: the count is what matters, not the value). */
static bool is_block_name(const char *name)
{
        const char *p = name + 6;

        if (strncmp(name, "memory", 6) || !*p || (p[0] == '0' && p[1]))
                return false;
        for (; *p; p++)
                if (*p < '0' || *p > '9')
                        return false;
        return true;
}

/* ---- directories named by the input ------------------------------------- */

struct made {
        char path[PATH_MAX];
};

/* The last piece: lines "h:<name>" (under hugepages), "n:<name>" (nodes),
 * "m:<name>" (memory blocks). Created as directories; the expected lists are
 * built from the names that were really created. */
struct dirs {
        struct made made[MAX_NAMES];
        size_t n_made;
        uint64_t hstates[MAX_NAMES + 1], nodes[MAX_NAMES + 1];
        size_t n_hstates, n_nodes;
        uint64_t blocks;
};

static void make_dirs(const struct piece *pc, struct dirs *dirs)
{
        char text[4096];
        size_t len = pc->present ? pc->len : 0;
        uint64_t v;

        memset(dirs, 0, sizeof(*dirs));
        dirs->hstates[dirs->n_hstates++] = 2048;
        dirs->nodes[dirs->n_nodes++] = 0;
        if (len >= sizeof(text))
                len = sizeof(text) - 1;
        if (len)
                memcpy(text, pc->data, len);
        text[len] = '\0';
        for (char *save = NULL, *line = strtok_r(text, "\n", &save); line && dirs->n_made < MAX_NAMES;
             line = strtok_r(NULL, "\n", &save)) {
                const char *parent, *name = line + 2;
                char path[PATH_MAX];

                if (strlen(line) < 3 || line[1] != ':' || strchr(name, '/') || strlen(name) > 200 ||
                    !strcmp(name, ".") || !strcmp(name, "..") || !strcmp(name, "block_size_bytes"))
                        continue;
                if (line[0] == 'h')
                        parent = HP;
                else if (line[0] == 'n')
                        parent = NODE;
                else if (line[0] == 'm')
                        parent = MEM;
                else
                        continue;
                if ((size_t)snprintf(path, sizeof(path), "%s%s/%s", root, parent, name) >= sizeof(path))
                        continue;
                if (mkdir(path, 0755) < 0)
                        continue; /* exists already (a fixed one, a file, a repeat) */
                memcpy(dirs->made[dirs->n_made++].path, path, sizeof(path));
                if (line[0] == 'h' && ref_numbered(name, "hugepages-", "kB", UINT64_MAX / 1024, &v))
                        dirs->hstates[dirs->n_hstates++] = v;
                else if (line[0] == 'n' && ref_numbered(name, "node", "", INT_MAX, &v))
                        dirs->nodes[dirs->n_nodes++] = v;
                else if (line[0] == 'm' && is_block_name(name))
                        dirs->blocks++;
        }
        qsort(dirs->hstates, dirs->n_hstates, sizeof(uint64_t), cmp_u64);
        qsort(dirs->nodes, dirs->n_nodes, sizeof(uint64_t), cmp_u64);
}

static void remove_dirs(struct dirs *dirs)
{
        for (size_t i = dirs->n_made; i-- > 0;)
                if (rmdir(dirs->made[i].path) < 0)
                        die(dirs->made[i].path);
}

/* ---- the checks ---------------------------------------------------------- */

static void check_pools(vmm_ctx *ctx, const struct piece *pcs)
{
        struct vmm_pool p;
        struct vmm_node_pool np;
        uint64_t want[5] = { 0 };
        int r, expect = 0;

        for (int i = F_NR; i <= F_OVERCOMMIT && expect == 0; i++)
                expect = ref_number_file(&pcs[i], 10, &want[i - F_NR]);
        r = vmm_pool_read(ctx, 2048, &p);
        CHECK(r == expect, "vmm_pool_read gave %d, contract says %d", r, expect);
        if (r == 0)
                CHECK(p.total == want[0] && p.free == want[1] && p.reserved == want[2] && p.surplus == want[3] &&
                      p.overcommit == want[4], "pool values differ from the files");

        expect = 0;
        for (int i = F_NODE_NR; i <= F_NODE_SURPLUS && expect == 0; i++)
                expect = ref_number_file(&pcs[i], 10, &want[i - F_NODE_NR]);
        r = vmm_node_pool_read(ctx, 2048, 0, &np);
        CHECK(r == expect, "vmm_node_pool_read gave %d, contract says %d", r, expect);
        if (r == 0)
                CHECK(np.total == want[0] && np.free == want[1] && np.surplus == want[2], "node pool values differ");
        /* No node1/hugepages directory is ever made. */
        r = vmm_node_pool_read(ctx, 2048, 1, &np);
        CHECK(r == -ENOENT, "node1 has no hugepages directory but gave %d", r);
}

static void check_kernel(vmm_ctx *ctx, const struct piece *pcs, const struct dirs *dirs)
{
        struct vmm_kernel k;
        char release[65], arch[32];
        unsigned long long major = 0, minor = 0;
        int expect, r;

        expect = ref_text(&pcs[F_OSRELEASE], sizeof(release), release);
        if (expect == 0) {
                /* "<major>.<minor>" then anything but another digit. */
                const char *p = release;
                bool ok = *p >= '0' && *p <= '9';

                for (; ok && *p >= '0' && *p <= '9'; p++)
                        if ((major = major * 10 + (unsigned)(*p - '0')) > UINT_MAX)
                                ok = false;
                ok = ok && *p == '.';
                p++;
                ok = ok && *p >= '0' && *p <= '9';
                for (; ok && *p >= '0' && *p <= '9'; p++)
                        if ((minor = minor * 10 + (unsigned)(*p - '0')) > UINT_MAX)
                                ok = false;
                if (!ok)
                        expect = -EBADMSG;
        }
        if (expect == 0) {
                expect = ref_text(&pcs[F_ARCH], sizeof(arch), arch);
                if (expect == -ENOENT) {
                        arch[0] = '\0';
                        expect = 0;
                }
        }
        r = vmm_kernel_read(ctx, &k);
        CHECK(r == expect, "vmm_kernel_read gave %d, contract says %d", r, expect);
        if (r < 0)
                return;
        CHECK(k.major == major && k.minor == minor, "release %s read as %u.%u", release, k.major, k.minor);
        CHECK(strcmp(k.release, release) == 0 && strcmp(k.arch, arch) == 0, "release or arch text differs");
        CHECK(k.reserve_pages == ((major > 5 || (major == 5 && minor >= 18)) ? 1u : 2u), "reserve %u for %llu.%llu",
              k.reserve_pages, major, minor);
        CHECK(k.page_size == PAGE && k.struct_page_size == STRUCT_PAGE, "platform not kept");

        for (size_t i = 0; i < dirs->n_hstates; i++) {
                struct vmm_hstate_hvo h;
                unsigned __int128 bytes = (unsigned __int128)dirs->hstates[i] * 1024;

                r = vmm_hstate_hvo_compute(dirs->hstates[i], &k, &h);
                if (dirs->hstates[i] == 0 || bytes % PAGE) {
                        CHECK(r == -EINVAL, "nonsense size %" PRIu64 "kB gave %d", dirs->hstates[i], r);
                        continue;
                }
                unsigned __int128 vbytes = bytes / PAGE * STRUCT_PAGE;
                if (vbytes > UINT64_MAX) {
                        CHECK(r == -EINVAL, "overflowing size %" PRIu64 "kB gave %d", dirs->hstates[i], r);
                        continue;
                }
                CHECK(r == 0, "size %" PRIu64 "kB gave %d", dirs->hstates[i], r);
                CHECK(h.vmemmap_pages == (uint64_t)(vbytes / PAGE), "V for %" PRIu64 "kB", dirs->hstates[i]);
                CHECK(h.eligible == (h.vmemmap_pages > k.reserve_pages), "eligible for %" PRIu64 "kB", dirs->hstates[i]);
                CHECK(h.saved_pages == (h.eligible ? h.vmemmap_pages - k.reserve_pages : 0) &&
                      h.saved_bytes == h.saved_pages * PAGE, "savings for %" PRIu64 "kB", dirs->hstates[i]);
        }
}

static enum vmm_boot_param read_boot_param(vmm_ctx *ctx, int *ret_r, struct vmm_hvo *h)
{
        *ret_r = vmm_hvo_read(ctx, h);
        return *ret_r == 0 ? h->boot_param : VMM_BOOT_ABSENT;
}

static void check_hvo(vmm_ctx *ctx, const struct piece *pcs)
{
        struct vmm_hvo h, h2;
        uint64_t v = 0;
        int expect, r, r2;
        struct piece cmd = pcs[F_CMDLINE];

        expect = ref_number_file(&pcs[F_HVO], 10, &v);
        if (expect == 0 && v > 1)
                expect = -EBADMSG;
        if (expect == -ENOENT)
                expect = 0;
        if (expect == 0 && cmd.present && (cmd.len >= 64 * 1024 || memchr(cmd.data, '\0', cmd.len)))
                expect = -EBADMSG;
        read_boot_param(ctx, &r, &h);
        CHECK(r == expect, "vmm_hvo_read gave %d, contract says %d", r, expect);
        if (r < 0)
                return;
        CHECK(h.supported == pcs[F_HVO].present && h.enabled == (h.supported && v == 1), "sysctl misread");
        if (!cmd.present)
                CHECK(h.boot_param == VMM_BOOT_ABSENT, "no /proc/cmdline but boot_param %d", h.boot_param);

        /* Put a valid "off" in front: the original's last valid setting still wins. */
        static const char prefix[] = "hugetlb_free_vmemmap=off ";
        size_t n = sizeof(prefix) - 1 + (cmd.present ? cmd.len : 0);
        uint8_t *text = malloc(n ? n : 1);
        if (!text)
                abort();
        memcpy(text, prefix, sizeof(prefix) - 1);
        if (cmd.present && cmd.len)
                memcpy(text + sizeof(prefix) - 1, cmd.data, cmd.len);
        struct piece pre = { .present = true, .data = text, .len = n };
        put_file_cached(F_CMDLINE, files[F_CMDLINE], &pre);
        read_boot_param(ctx, &r2, &h2);
        free(text); /* the next input rewrites /proc/cmdline (the cache knows it changed) */
        if (n >= 64 * 1024)
                return; /* longer than any command line: refused, fine */
        CHECK(r2 == 0, "prefixed command line gave %d", r2);
        CHECK(h2.boot_param == (h.boot_param == VMM_BOOT_ABSENT ? VMM_BOOT_OFF : h.boot_param),
              "boot_param %d, with a leading hugetlb_free_vmemmap=off %d", h.boot_param, h2.boot_param);
}

static void check_lists(vmm_ctx *ctx, const struct dirs *dirs)
{
        uint64_t *sizes = NULL;
        unsigned *nodes = NULL;
        size_t n;
        int r;

        r = vmm_hstates_list(ctx, &sizes, &n);
        CHECK(r == 0, "vmm_hstates_list gave %d", r);
        CHECK(n == dirs->n_hstates, "%zu hstates listed, %zu made", n, dirs->n_hstates);
        for (size_t i = 0; i < n; i++) {
                CHECK(sizes[i] == dirs->hstates[i], "hstate %zu: %" PRIu64 " vs %" PRIu64, i, sizes[i], dirs->hstates[i]);
                CHECK(vmm_hstate_exists(ctx, sizes[i]) == 0, "listed hstate %" PRIu64 " does not exist", sizes[i]);
        }
        free(sizes);

        r = vmm_nodes_list(ctx, &nodes, &n);
        CHECK(r == 0, "vmm_nodes_list gave %d", r);
        CHECK(n == dirs->n_nodes, "%zu nodes listed, %zu made", n, dirs->n_nodes);
        for (size_t i = 0; i < n; i++)
                CHECK(nodes[i] == dirs->nodes[i], "node %zu: %u vs %" PRIu64, i, nodes[i], dirs->nodes[i]);
        free(nodes);
}

/* First line "name value": the value as the library must read it. */
static int ref_vmstat(const struct piece *pc, const char *name, uint64_t *ret)
{
        size_t nl = strlen(name);
        const char *p = (const char *)pc->data, *end = p + pc->len;

        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t)(end - p));
                size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);

                if (len >= nl && memcmp(p, name, nl) == 0 && (len == nl || p[nl] == ' ')) {
                        char value[64];
                        size_t vl = len > nl ? len - nl - 1 : 0;
                        int r;

                        if (vl >= 32)
                                return -EBADMSG;
                        memcpy(value, p + nl + (len > nl), vl);
                        value[vl] = '\0';
                        r = ref_u64(value, 10, ret);
                        return r == -EINVAL ? -EBADMSG : r;
                }
                p += len + 1;
        }
        return -ENODATA;
}

static void check_memmap(vmm_ctx *ctx, const struct piece *pcs, const struct dirs *dirs)
{
        const struct piece *vs = &pcs[F_VMSTAT];
        struct vmm_memmap m;
        uint64_t a = 0, b = 0, bs = 0, current = 0, baseline = 0;
        int expect, r;

        if (!vs->present)
                expect = -ENOENT;
        else if (vs->len >= 256 * 1024 || memchr(vs->data, '\0', vs->len))
                expect = -EBADMSG;
        else {
                /* The library drops one trailing newline before looking; so do we. */
                struct piece t = *vs;
                if (t.len && t.data[t.len - 1] == '\n')
                        t.len--;
                expect = ref_vmstat(&t, "nr_memmap_pages", &a);
                if (expect == 0)
                        expect = ref_vmstat(&t, "nr_memmap_boot_pages", &b);
                if (expect == 0 && __builtin_add_overflow(a, b, &current))
                        expect = -ERANGE;
        }
        if (expect == 0) {
                expect = ref_number_file(&pcs[F_BLOCK_SIZE], 16, &bs);
                if (expect == -ENOENT)
                        expect = -ENODATA;
                else if (expect == 0 && (bs == 0 || bs % PAGE))
                        expect = -EBADMSG;
                else if (expect == 0) {
                        unsigned __int128 bytes = (unsigned __int128)dirs->blocks * (bs / PAGE) * STRUCT_PAGE;
                        if ((unsigned __int128)dirs->blocks * (bs / PAGE) > UINT64_MAX || bytes > UINT64_MAX)
                                expect = -ERANGE;
                        else
                                baseline = (uint64_t)(bytes / PAGE);
                }
        }
        if (expect == 0 && (baseline > INT64_MAX || current > INT64_MAX))
                expect = -ERANGE;
        if (expect == 0) {
                int64_t saved = (int64_t)baseline - (int64_t)current;
                if (saved > 0 && (unsigned __int128)saved * PAGE > UINT64_MAX)
                        expect = -ERANGE;
        }
        r = vmm_memmap_read(ctx, &m);
        CHECK(r == expect, "vmm_memmap_read gave %d, contract says %d", r, expect);
        if (r < 0)
                return;
        CHECK(m.current_pages == current && m.baseline_pages == baseline, "current %" PRIu64 "/%" PRIu64
              " baseline %" PRIu64 "/%" PRIu64, m.current_pages, current, m.baseline_pages, baseline);
        CHECK(m.saved_pages == (int64_t)baseline - (int64_t)current, "saved pages");
        CHECK(m.saved_bytes == (m.saved_pages > 0 ? (uint64_t)m.saved_pages * PAGE : 0), "saved bytes");
}

/* The mount table: every mount listed is a hugetlbfs line of the input, with a
 * page size, a path and options that fit their fields and a path that starts
 * where the line's second field does; no more mounts than hugetlbfs lines. */
static void check_mounts(vmm_ctx *ctx, const struct piece *pcs)
{
        const struct piece *mt = &pcs[F_MOUNTS];
        struct vmm_mount *m = NULL;
        size_t n = 0, lines = 0;
        int r = vmm_mounts_list(ctx, &m, &n);
        if (!mt->present) {
                CHECK(r == -ENOENT, "no /proc/mounts but vmm_mounts_list gave %d", r);
                return;
        }
        CHECK(r == 0 || r == -ENOMEM || r == -E2BIG, "vmm_mounts_list gave %d", r);
        if (r < 0)
                return;
        /* Lines naming hugetlbfs anywhere: an upper bound on what may be listed. */
        for (size_t i = 0, start = 0; i <= mt->len; i++)
                if (i == mt->len || mt->data[i] == '\n') {
                        if (memmem(mt->data + start, i - start, "hugetlbfs", 9))
                                lines++;
                        start = i + 1;
                }
        CHECK(n <= lines, "%zu mounts listed from %zu hugetlbfs lines", n, lines);
        CHECK((n == 0) == (m == NULL), "%zu mounts but array %p", n, (void *)m);
        for (size_t i = 0; i < n; i++) {
                CHECK(m[i].size_kb > 0, "mount %zu has page size 0", i);
                CHECK(memchr(m[i].path, '\0', sizeof m[i].path) && memchr(m[i].options, '\0', sizeof m[i].options),
                      "mount %zu: path or options not terminated", i);
                CHECK(!strchr(m[i].options, ' ') && !strchr(m[i].options, '\n'), "mount %zu: options hold a separator", i);
        }
        free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const struct vmm_platform x86 = { .page_size = PAGE, .struct_page_size = STRUCT_PAGE };
        struct piece pcs[N_FILES + 1] = { 0 };
        struct dirs dirs;
        size_t i = 0, start = 0;
        vmm_ctx *ctx = NULL;

        for (size_t pos = 0; pos <= size && i <= N_FILES; pos++)
                if (pos == size || data[pos] == SEP) {
                        pcs[i].data = data + start;
                        pcs[i].len = pos - start;
                        pcs[i].present = !(pcs[i].len == 1 && pcs[i].data[0] == ABSENT);
                        i++;
                        start = pos + 1;
                }
        for (size_t f = 0; f < N_FILES; f++)
                put_file_cached(f, files[f], &pcs[f]);
        make_dirs(&pcs[N_FILES], &dirs);

        if (vmm_ctx_new(root, &x86, &ctx) < 0)
                abort();
        check_pools(ctx, pcs);
        check_kernel(ctx, pcs, &dirs);
        check_hvo(ctx, pcs);
        check_lists(ctx, &dirs);
        check_memmap(ctx, pcs, &dirs);
        check_mounts(ctx, pcs);
        vmm_ctx_free(ctx);
        remove_dirs(&dirs);
        return 0;
}
