/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvmemmap on the real kernel: real pools, real HVO, and the kernel's own
 * memmap counters as the judge. Run only through kernel/hvo-real.sh, which
 * holds the real-kernel lock and restores the pool size, overcommit and the
 * HVO sysctl it found whatever happens here. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "vmemmap.h"

#define SIZE_KB 2048

static vmm_ctx *ctx;

/* What the kernel looked like before; put back at exit, on a fatal signal and
 * on Bail out, besides what the wrapper script restores. */
static struct {
        bool saved;
        uint64_t total, overcommit;
        bool hvo;
} found;

static void restore_found(void)
{
        struct vmm_resize rs;

        if (!found.saved || !ctx)
                return;
        found.saved = false;
        vmm_hvo_set(ctx, found.hvo);
        vmm_pool_set(ctx, SIZE_KB, -1, found.total, &rs);
        vmm_overcommit_set(ctx, SIZE_KB, found.overcommit);
}

static void on_fatal_signal(int sig)
{
        restore_found();
        _exit(128 + sig);
}

static uint64_t memmap_now(void)
{
        struct vmm_memmap m;
        int r = vmm_memmap_read(ctx, &m);

        if (r < 0) {
                printf("Bail out! vmm_memmap_read: %s\n", strerror(-r));
                exit(1);
        }
        return m.current_pages;
}

static double ms_since(const struct timespec *t0)
{
        struct timespec t1;

        clock_gettime(CLOCK_MONOTONIC, &t1);
        return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Grow by n and shrink back with HVO on or off; the memmap sum must drop by
 * exactly n * saved_per_page and come back to where it was. */
static void grow_and_shrink(uint64_t base, uint64_t n, bool hvo, uint64_t saved_per_page)
{
        const char *mode = hvo ? "HVO on" : "HVO off";
        struct vmm_resize rs;
        struct vmm_hvo h;
        struct timespec t0;
        uint64_t m0, m1, m2;
        int r;

        is_int(vmm_hvo_set(ctx, hvo), 0, "%s: vmm_hvo_set", mode);
        ok(vmm_hvo_read(ctx, &h) == 0 && h.supported && h.enabled == hvo, "%s: vmm_hvo_read reflects it", mode);

        m0 = memmap_now();
        clock_gettime(CLOCK_MONOTONIC, &t0);
        r = vmm_pool_set(ctx, SIZE_KB, -1, base + n, &rs);
        printf("# %s: grew %" PRIu64 " -> %" PRIu64 " pages in %.1f ms\n", mode, base, base + n, ms_since(&t0));
        is_int(r, 0, "%s: growing by %" PRIu64 " reports 0", mode, n);
        ok(r == 0 && rs.before == base && rs.requested == base + n && rs.reached == base + n,
           "%s: before %" PRIu64 ", requested == reached == %" PRIu64, mode, base, base + n);
        m1 = memmap_now();
        printf("# %s: memmap sum %" PRIu64 " -> %" PRIu64 " (dropped %" PRId64 ", model %" PRIu64 " x %" PRIu64 ")\n",
               mode, m0, m1, (int64_t)(m0 - m1), n, saved_per_page);
        is_int((int64_t)(m0 - m1), hvo ? (int64_t)(n * saved_per_page) : 0,
               "%s: memmap sum dropped by exactly %" PRIu64 " x %" PRIu64, mode, n, hvo ? saved_per_page : 0);

        clock_gettime(CLOCK_MONOTONIC, &t0);
        r = vmm_pool_set(ctx, SIZE_KB, -1, base, &rs);
        printf("# %s: shrank back to %" PRIu64 " pages in %.1f ms\n", mode, base, ms_since(&t0));
        ok(r == 0 && rs.reached == base, "%s: shrinking back to %" PRIu64 " reports 0", mode, base);
        m2 = memmap_now();
        printf("# %s: memmap sum after shrinking %" PRIu64 "\n", mode, m2);
        is_int(m2, m0, "%s: shrinking gives the memmap pages back", mode);
}

/* KERNEL.md: toggling the sysctl affects only pages allocated afterwards. */
static void toggle_affects_only_new_pages(uint64_t base, uint64_t n, uint64_t saved_per_page)
{
        struct vmm_resize rs;
        uint64_t m0, m;

        vmm_hvo_set(ctx, false);
        m0 = memmap_now();
        ok(vmm_pool_set(ctx, SIZE_KB, -1, base + n, &rs) == 0, "HVO off: %" PRIu64 " unoptimized pages added", n);
        is_int(vmm_hvo_set(ctx, true), 0, "HVO turned on with those pages in the pool");
        m = memmap_now();
        is_int((int64_t)(m0 - m), 0, "turning HVO on does not optimize pages already in the pool");
        ok(vmm_pool_set(ctx, SIZE_KB, -1, base + 2 * n, &rs) == 0, "HVO on: %" PRIu64 " more pages added", n);
        m = memmap_now();
        printf("# mixed pool: memmap sum %" PRIu64 " -> %" PRIu64 "\n", m0, m);
        is_int((int64_t)(m0 - m), (int64_t)(n * saved_per_page), "only the %" PRIu64 " new pages are optimized", n);
        is_int(vmm_hvo_set(ctx, false), 0, "HVO turned off with optimized pages in the pool");
        ok(vmm_pool_set(ctx, SIZE_KB, -1, base, &rs) == 0, "pool emptied back to %" PRIu64 " with HVO off", base);
        is_int(memmap_now(), m0, "optimized pages are restored when freed, even with HVO off");
}

/* A page in use cannot be freed: shrinking past it leaves it as surplus and
 * vmm_pool_set says -EBUSY with the numbers. Needs an empty pool to start. */
static void shrink_past_a_page_in_use(uint64_t base)
{
        const size_t len = (size_t)SIZE_KB * 1024;
        struct vmm_resize rs = { 0 };
        struct vmm_pool p;
        char *mem;
        int r;

        if (base != 0) {
                for (int i = 0; i < 5; i++)
                        printf("ok %d # SKIP the 2048kB pool was not empty (%" PRIu64 " pages)\n", ++tap_n, base);
                return;
        }
        is_int(vmm_pool_set(ctx, SIZE_KB, -1, 1, &rs), 0, "one 2M page allocated");
        mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
        if (mem == MAP_FAILED) {
                printf("Bail out! mmap(MAP_HUGETLB): %s\n", strerror(errno));
                exit(1);
        }
        mem[0] = 1; /* fault it in: now the page is in use */
        r = vmm_pool_set(ctx, SIZE_KB, -1, 0, &rs);
        is_int(r, -EBUSY, "shrinking to 0 with the page in use is -EBUSY");
        ok(rs.before == 1 && rs.requested == 0 && rs.reached == 1, "...before 1, requested 0, reached 1 (got %" PRIu64
           "/%" PRIu64 "/%" PRIu64 ")", rs.before, rs.requested, rs.reached);
        ok(vmm_pool_read(ctx, SIZE_KB, &p) == 0 && p.surplus == 1 && p.total == 1, "the page in use became surplus");
        munmap(mem, len);
        ok(vmm_pool_read(ctx, SIZE_KB, &p) == 0 && p.total == 0 && p.surplus == 0,
           "released, the surplus page went back to the kernel");
}

/* The per-node file drives the same pool: the global count follows. */
static void node_resize(void)
{
        struct vmm_node_pool np, np2;
        struct vmm_pool before, after;
        struct vmm_resize rs;
        unsigned *nodes = NULL;
        size_t n = 0;

        ok(vmm_nodes_list(ctx, &nodes, &n) == 0 && n >= 1, "real nodes listed (%zu)", n);
        if (n == 0) {
                free(nodes);
                return;
        }
        unsigned node = nodes[0];
        free(nodes);
        ok(vmm_node_pool_read(ctx, SIZE_KB, node, &np) == 0 && vmm_pool_read(ctx, SIZE_KB, &before) == 0,
           "node%u pool read (%" PRIu64 " pages)", node, np.total);
        is_int(vmm_pool_set(ctx, SIZE_KB, (int)node, np.total + 10, &rs), 0, "node%u grown by 10 through its own file", node);
        ok(rs.before == np.total && rs.reached == np.total + 10, "node%u: before %" PRIu64 ", reached %" PRIu64, node,
           rs.before, rs.reached);
        ok(vmm_node_pool_read(ctx, SIZE_KB, node, &np2) == 0 && np2.total == np.total + 10 &&
           vmm_pool_read(ctx, SIZE_KB, &after) == 0 && after.total == before.total + 10,
           "node%u and global counts both went up by 10", node);
        is_int(vmm_pool_set(ctx, SIZE_KB, (int)node, np.total, &rs), 0, "node%u shrunk back to %" PRIu64, node, np.total);
}

static void on_alarm(int sig)
{
        (void)sig;
}

/* The kernel stops a growth early when a signal is pending and still reports
 * success; only the read-back tells. Signals every 50 us during a big write
 * make that happen for real. */
static void growth_stopped_by_signals(uint64_t base)
{
        const uint64_t n = 1000;
        struct sigaction sa = { .sa_handler = on_alarm };
        struct itimerval on = { { 0, 50 }, { 0, 50 } }, off = { { 0, 0 }, { 0, 0 } };
        struct vmm_resize rs = { 0 };
        int r = 0, tries;

        sigemptyset(&sa.sa_mask);
        sigaction(SIGALRM, &sa, NULL);
        for (tries = 1; tries <= 10; tries++) {
                setitimer(ITIMER_REAL, &on, NULL);
                r = vmm_pool_set(ctx, SIZE_KB, -1, base + n, &rs);
                setitimer(ITIMER_REAL, &off, NULL);
                if (vmm_pool_set(ctx, SIZE_KB, -1, base, &(struct vmm_resize){ 0 }) != 0) {
                        printf("Bail out! could not shrink the pool back to %" PRIu64 "\n", base);
                        exit(1);
                }
                if (r == -ENOMEM)
                        break;
        }
        if (r != -ENOMEM) {
                printf("ok %d # SKIP no signal landed inside the write in 10 tries (last result %d)\n", ++tap_n, r);
                printf("ok %d # SKIP (as above)\n", ++tap_n);
                return;
        }
        printf("# signals stopped the growth at %" PRIu64 " of %" PRIu64 " pages (try %d)\n", rs.reached, rs.requested, tries);
        is_int(r, -ENOMEM, "growth interrupted by a signal is reported short (-ENOMEM), not success");
        ok(rs.before == base && rs.requested == base + n && rs.reached >= base && rs.reached < base + n,
           "...with before %" PRIu64 ", requested %" PRIu64 ", reached %" PRIu64, rs.before, rs.requested, rs.reached);
}

int main(void)
{
        const uint64_t n = 200;
        struct vmm_kernel k;
        struct vmm_hstate_hvo hh;
        struct vmm_memmap m;
        struct vmm_pool p;
        struct vmm_hvo h;
        uint64_t *sizes = NULL;
        size_t nsizes = 0;
        int r;

        if (!getenv("HUGEVM_REALKERNEL_LOCKED"))
                skip_all("run through kernel/hvo-real.sh (it holds the lock and restores the kernel)");
        r = vmm_ctx_new("/", NULL, &ctx);
        if (r < 0)
                skip_all("vmm_ctx_new(/): %s", strerror(-r));
        if (vmm_hstate_exists(ctx, SIZE_KB) != 0)
                skip_all("no 2048kB hstate on this kernel");
        if (vmm_hvo_read(ctx, &h) != 0 || !h.supported)
                skip_all("no /proc/sys/vm/hugetlb_optimize_vmemmap on this kernel");
        r = vmm_memmap_read(ctx, &m);
        if (r < 0)
                skip_all("no memmap counters to measure with (%s)", strerror(-r));

        ok(vmm_hstates_list(ctx, &sizes, &nsizes) == 0 && nsizes >= 1, "real hstates listed (%zu)", nsizes);
        free(sizes);
        is_int(vmm_kernel_read(ctx, &k), 0, "real kernel read");
        printf("# kernel %s (%u.%u) arch %s, page %" PRIu64 ", struct page %" PRIu64 ", reserve %u\n", k.release,
               k.major, k.minor, k.arch, k.page_size, k.struct_page_size, k.reserve_pages);
        is_int(vmm_hstate_hvo_compute(SIZE_KB, &k, &hh), 0, "savings of a 2M page computed");
        printf("# model: 2048kB V=%" PRIu64 " saves %" PRIu64 " pages (%" PRIu64 " bytes) per hugepage\n",
               hh.vmemmap_pages, hh.saved_pages, hh.saved_bytes);
        printf("# memmap: baseline %" PRIu64 " current %" PRIu64 " saved %" PRId64 "\n", m.baseline_pages,
               m.current_pages, m.saved_pages);
        ok(m.current_pages <= m.baseline_pages, "current memmap is within the baseline");
        is_int(vmm_pool_read(ctx, SIZE_KB, &p), 0, "real 2048kB pool read");
        printf("# pool before: total %" PRIu64 " free %" PRIu64 " resv %" PRIu64 " surplus %" PRIu64 " overcommit %" PRIu64 "\n",
               p.total, p.free, p.reserved, p.surplus, p.overcommit);

        found.total = p.total;
        found.overcommit = p.overcommit;
        found.hvo = h.enabled;
        found.saved = true;
        atexit(restore_found);
        signal(SIGINT, on_fatal_signal);
        signal(SIGTERM, on_fatal_signal);
        signal(SIGHUP, on_fatal_signal);

        grow_and_shrink(p.total, n, true, hh.saved_pages);
        grow_and_shrink(p.total, n, false, hh.saved_pages);
        toggle_affects_only_new_pages(p.total, n, hh.saved_pages);
        node_resize();
        shrink_past_a_page_in_use(p.total);
        is_int(vmm_hvo_set(ctx, true), 0, "HVO on for the signal test (slower growth, more chances)");
        growth_stopped_by_signals(p.total);

        is_int(vmm_overcommit_set(ctx, SIZE_KB, p.overcommit + 3), 0, "overcommit raised by 3");
        struct vmm_pool q;
        ok(vmm_pool_read(ctx, SIZE_KB, &q) == 0 && q.overcommit == p.overcommit + 3, "overcommit reads back");
        is_int(vmm_overcommit_set(ctx, SIZE_KB, p.overcommit), 0, "overcommit restored");
        is_int(vmm_compact(ctx, 0), 0, "node0 compaction accepted by the kernel");

        ok(vmm_pool_read(ctx, SIZE_KB, &q) == 0 && q.total == p.total, "pool back to %" PRIu64 " pages", p.total);
        is_int(vmm_hvo_set(ctx, h.enabled), 0, "HVO back to %s", h.enabled ? "on" : "off");
        found.saved = false;
        vmm_ctx_free(ctx);
        return tap_done();
}
