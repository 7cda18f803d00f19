/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hugevmctl verify SIZE: one hugepage end to end, in this process, without the
 * daemon (it must work when hugevmd is down). A pool's counters say pages
 * exist; this says a program can get one and that it is what it claims:
 *   1. libhugetlbfs names a hugetlbfs mount for the size (loaded here, not
 *      linked into hugevmctl: its constructor reads the mount table and
 *      meminfo at every start, ~1 ms of each command, and its shmget()
 *      would stand in for libc's);
 *   2. one page is mapped MAP_SHARED from an unlinked file there (the mmap
 *      reserves the page, so an empty pool fails here with ENOMEM, not later);
 *   3. it is written and read back (SIGBUS caught and named);
 *   4. /proc/self/pagemap gives its first and last PFN and /proc/kpageflags
 *      says they are the head and the last tail of one huge compound page.
 * Every failure says which step and why, in words an operator can act on.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <hugetlbfs.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <linux/kernel-page-flags.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "client.h"
#include "proto.h"
#include "verify.h"
#include "vmemmap.h"

enum { V_OK = 0, V_ERROR = 1, V_USAGE = 2 }; /* hugevmctl's exit codes */

#define PM_PFN_MASK ((UINT64_C(1) << 55) - 1) /* pagemap entry bits 0-54 */
#define PM_PRESENT (UINT64_C(1) << 63)
#define BIT(n) (UINT64_C(1) << (n))
#define PATTERN UINT64_C(0x68756765766d0000) /* "hugevm", xor the base page index */

/* The two libhugetlbfs functions verify uses, typed from its header. */
struct hugetlbfs_api {
        void *handle;
        __typeof__(hugetlbfs_find_path_for_size) *find_path_for_size;
        __typeof__(hugetlbfs_unlinked_fd_for_size) *unlinked_fd_for_size;
};

struct verify {
        uint64_t size_kb, size_bytes, page_size, base_pages;
        char label[32];       /* "2048kB", as sysfs and hugevmctl status name it */
        char short_size[32];  /* "2M", as mount -o pagesize= and set take it */
        struct hugetlbfs_api lib;
        const char *path;     /* the hugetlbfs mount; libhugetlbfs owns the string */
        bool mapped, touched, frame_read;
        uint64_t pfn, last_pfn, flags, last_flags;
        const char *reason;   /* one stable word for scripts, NULL when verified */
        char message[1024];
};


static int fail(struct verify *v, const char *reason, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct verify *v, const char *reason, const char *fmt, ...)
{
        va_list ap;
        v->reason = reason;
        va_start(ap, fmt);
        vsnprintf(v->message, sizeof(v->message), fmt, ap);
        va_end(ap);
        return V_ERROR;
}

/* The shortest spelling with a binary unit: 2048kB -> "2M", 1048576kB -> "1G". */
static void short_size(uint64_t size_kb, char *buf, size_t len)
{
        static const char units[] = "KMGTPE";
        size_t u = 0;
        while (size_kb % 1024 == 0 && u + 1 < sizeof(units) - 1) {
                size_kb /= 1024;
                u++;
        }
        snprintf(buf, len, "%" PRIu64 "%c", size_kb, units[u]);
}

static int check_hstate(vmm_ctx *ctx, struct verify *v, const char *text)
{
        int r = vmm_hstate_exists(ctx, v->size_kb);
        if (r == -EOPNOTSUPP)
                return fail(v, "no-hugetlb", "this kernel has no hugetlb (no /sys/kernel/mm/hugepages)");
        if (r == -ENOENT) {
                uint64_t *sizes = NULL;
                size_t n = 0;
                char avail[512] = "";
                if (vmm_hstates_list(ctx, &sizes, &n) == 0)
                        for (size_t i = 0; i < n; i++) {
                                char l[32];
                                vmm_size_label(sizes[i], l, sizeof(l));
                                snprintf(avail + strlen(avail), sizeof(avail) - strlen(avail), "%s%s", i ? ", " : "", l);
                        }
                free(sizes);
                return fail(v, "unsupported-size", "%s is not a hugepage size on this machine (available: %s)",
                            text, avail[0] ? avail : "none");
        }
        if (r < 0)
                return fail(v, "sysfs", "cannot read /sys/kernel/mm/hugepages: %s", strerror(-r));
        return V_OK;
}

/* mmap reserves the page up front: ENOMEM means the pool could not give one.
 * The pool's counters say which of the reasons it was. */
static int no_page(vmm_ctx *ctx, struct verify *v)
{
        struct vmm_pool p;
        char grow[256];
        if (vmm_pool_read(ctx, v->size_kb, &p) < 0)
                return fail(v, "no-free-page", "no free page in the %s pool (mmap: %s); grow it with 'hugevmctl set %s PAGES'",
                            v->label, strerror(ENOMEM), v->short_size);
        /* One persistent page more than now is one free page nobody reserved. */
        uint64_t want = p.total - p.surplus + 1;
        snprintf(grow, sizeof(grow), "grow it with 'hugevmctl set %s %" PRIu64 "' (without hugevmd: echo %" PRIu64
                 " > /sys/kernel/mm/hugepages/hugepages-%s/nr_hugepages)", v->short_size, want, want, v->label);
        if (p.free == 0)
                return fail(v, "no-free-page", "no free page in the %s pool: free_hugepages is 0 (nr_hugepages %" PRIu64
                            ", nr_overcommit_hugepages %" PRIu64 "); %s", v->label, p.total, p.overcommit, grow);
        if (p.free <= p.reserved)
                return fail(v, "no-free-page", "no free page in the %s pool: %s %" PRIu64 " free %s reserved"
                            " (free_hugepages %" PRIu64 ", resv_hugepages %" PRIu64 "); %s", v->label,
                            p.free == 1 ? "its" : "all", p.free, p.free == 1 ? "page is" : "pages are", p.free, p.reserved, grow);
        /* Then the mount's size= (statfs: blocks, none free) or a cgroup said no. */
        struct statfs sf;
        if (statfs(v->path, &sf) == 0 && sf.f_blocks > 0 && sf.f_bfree == 0)
                return fail(v, "limit", "mmap of one %s page from %s was refused (%s) although the pool has %" PRIu64
                            " unreserved free %s: the mount's size= limit (%" PRIu64 " %s) is used up",
                            v->label, v->path, strerror(ENOMEM), p.free - p.reserved, ctl_pages((int64_t)(p.free - p.reserved)),
                            (uint64_t)sf.f_blocks, ctl_pages((int64_t)sf.f_blocks));
        return fail(v, "limit", "mmap of one %s page from %s was refused (%s) although the pool has %" PRIu64
                    " unreserved free %s: a hugetlb cgroup limit of this process is reached",
                    v->label, v->path, strerror(ENOMEM), p.free - p.reserved, ctl_pages((int64_t)(p.free - p.reserved)));
}

/* ---- Touching: SIGBUS is how a hugetlb fault without a page ends ----------- */

static sigjmp_buf bus_jump;
static void *volatile bus_addr;
static volatile int bus_code;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
        (void)sig;
        (void)uc;
        bus_addr = si->si_addr;
        bus_code = si->si_code;
        siglongjmp(bus_jump, 1);
}

/* One word per base page, so every part of the hugepage is written and read. */
static bool write_and_read_back(volatile uint64_t *mem, uint64_t pages, uint64_t stride, uint64_t *ret_bad)
{
        for (uint64_t i = 0; i < pages; i++)
                mem[i * stride] = PATTERN ^ i;
        for (uint64_t i = 0; i < pages; i++)
                if (mem[i * stride] != (PATTERN ^ i)) {
                        *ret_bad = i;
                        return false;
                }
        return true;
}

static int touch(vmm_ctx *ctx, struct verify *v, void *mem)
{
        struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO }, old;
        uint64_t bad = 0;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGBUS, &sa, &old) < 0)
                return fail(v, "sigaction", "cannot catch SIGBUS: %s", strerror(errno));
        if (sigsetjmp(bus_jump, 1)) {
                sigaction(SIGBUS, &old, NULL);
                if (bus_code == BUS_MCEERR_AR || bus_code == BUS_MCEERR_AO)
                        return fail(v, "sigbus", "SIGBUS touching the mapped %s page at %p: hardware memory error (poisoned page)",
                                    v->label, bus_addr);
                struct vmm_pool p = { 0 };
                vmm_pool_read(ctx, v->size_kb, &p);
                return fail(v, "sigbus", "SIGBUS touching the mapped %s page at %p (si_code %d): the kernel had no"
                            " hugepage to fault in (now free_hugepages %" PRIu64 ", resv_hugepages %" PRIu64 ")",
                            v->label, bus_addr, bus_code, p.free, p.reserved);
        }
        bool same = write_and_read_back(mem, v->base_pages, v->page_size / sizeof(uint64_t), &bad);
        sigaction(SIGBUS, &old, NULL);
        if (!same)
                return fail(v, "readback", "the %s page at %p did not read back what was written (base page %" PRIu64 ")",
                            v->label, mem, bad);
        v->touched = true;
        return V_OK;
}

/* ---- The page frame -------------------------------------------------------- */

static int read_entry(int fd, uint64_t index, uint64_t *ret)
{
        ssize_t n = pread(fd, ret, sizeof(*ret), (off_t)(index * sizeof(*ret)));
        return n == (ssize_t)sizeof(*ret) ? 0 : n < 0 ? -errno : -EIO;
}

static const char *flag_names(uint64_t flags, char *buf, size_t len)
{
        static const char *const names[] = {
                [KPF_LOCKED] = "locked", [KPF_ERROR] = "error", [KPF_REFERENCED] = "referenced",
                [KPF_UPTODATE] = "uptodate", [KPF_DIRTY] = "dirty", [KPF_LRU] = "lru", [KPF_ACTIVE] = "active",
                [KPF_SLAB] = "slab", [KPF_WRITEBACK] = "writeback", [KPF_RECLAIM] = "reclaim",
                [KPF_BUDDY] = "buddy", [KPF_MMAP] = "mmap", [KPF_ANON] = "anon", [KPF_SWAPCACHE] = "swapcache",
                [KPF_SWAPBACKED] = "swapbacked", [KPF_COMPOUND_HEAD] = "compound_head",
                [KPF_COMPOUND_TAIL] = "compound_tail", [KPF_HUGE] = "huge", [KPF_UNEVICTABLE] = "unevictable",
                [KPF_HWPOISON] = "hwpoison", [KPF_NOPAGE] = "nopage", [KPF_KSM] = "ksm", [KPF_THP] = "thp",
                [KPF_OFFLINE] = "offline", [KPF_ZERO_PAGE] = "zero_page", [KPF_IDLE] = "idle",
                [KPF_PGTABLE] = "pgtable",
        };
        size_t off = (size_t)snprintf(buf, len, "0x%" PRIx64, flags);
        for (size_t b = 0; b < sizeof(names) / sizeof(names[0]) && off < len; b++)
                if (flags & BIT(b))
                        off += (size_t)snprintf(buf + off, len - off, " %s", names[b]);
        return buf;
}

static int check_frame(struct verify *v, void *mem)
{
        uint64_t first = (uintptr_t)mem / v->page_size, e0, e1;
        int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC), r;
        if (fd < 0 && (errno == EPERM || errno == EACCES))
                goto hidden;
        if (fd < 0)
                return fail(v, "pagemap", "cannot open /proc/self/pagemap: %s", strerror(errno));
        r = read_entry(fd, first, &e0);
        if (r == 0)
                r = read_entry(fd, first + v->base_pages - 1, &e1);
        close(fd);
        if (r < 0)
                return fail(v, "pagemap", "cannot read /proc/self/pagemap: %s", strerror(-r));
        if (!(e0 & PM_PRESENT) || !(e1 & PM_PRESENT))
                return fail(v, "pagemap", "/proc/self/pagemap says the touched %s page is not present", v->label);
        /* Since Linux 4.2 the PFN reads as 0 without CAP_SYS_ADMIN. */
        if ((e0 & PM_PFN_MASK) == 0)
                goto hidden;
        v->pfn = e0 & PM_PFN_MASK;
        v->last_pfn = e1 & PM_PFN_MASK;

        fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return fail(v, "kpageflags", "the mapping and the touch worked, but cannot open /proc/kpageflags to check"
                            " page frame 0x%" PRIx64 ": %s", v->pfn, strerror(errno));
        r = read_entry(fd, v->pfn, &v->flags);
        if (r == 0)
                r = read_entry(fd, v->last_pfn, &v->last_flags);
        close(fd);
        if (r < 0)
                return fail(v, "kpageflags", "cannot read /proc/kpageflags for page frame 0x%" PRIx64 ": %s",
                            v->pfn, strerror(-r));
        v->frame_read = true;

        /* One huge compound page: the head where the hugepage starts, aligned to
         * its size, and its last tail exactly base_pages - 1 frames further. */
        char why[512] = "", a[256], b[256];
#define WHY(...) snprintf(why + strlen(why), sizeof(why) - strlen(why), __VA_ARGS__)
        if (!(v->flags & BIT(KPF_HUGE)))
                WHY("%sfirst frame is not huge", why[0] ? "; " : "");
        if (!(v->flags & BIT(KPF_COMPOUND_HEAD)))
                WHY("%sfirst frame is not a compound head", why[0] ? "; " : "");
        if (v->pfn % v->base_pages)
                WHY("%sfirst frame is not aligned to %" PRIu64 " frames", why[0] ? "; " : "", v->base_pages);
        if (v->last_pfn != v->pfn + v->base_pages - 1)
                WHY("%slast frame is 0x%" PRIx64 ", want 0x%" PRIx64, why[0] ? "; " : "", v->last_pfn,
                    v->pfn + v->base_pages - 1);
        if (!(v->last_flags & BIT(KPF_HUGE)))
                WHY("%slast frame is not huge", why[0] ? "; " : "");
        if (!(v->last_flags & BIT(KPF_COMPOUND_TAIL)))
                WHY("%slast frame is not a compound tail", why[0] ? "; " : "");
#undef WHY
        if (why[0])
                return fail(v, "flags", "the page mapped from %s is not one %s huge page: %s (first PFN 0x%" PRIx64
                            " flags %s; last PFN 0x%" PRIx64 " flags %s)", v->path, v->label, why,
                            v->pfn, flag_names(v->flags, a, sizeof(a)), v->last_pfn, flag_names(v->last_flags, b, sizeof(b)));
        return V_OK;
hidden:
        return fail(v, "pfn-hidden", "the mapping and the touch worked, but the page frame cannot be checked:"
                    " /proc/self/pagemap hides PFNs from processes without CAP_SYS_ADMIN (run verify as root)");
}

/* ---- The steps ------------------------------------------------------------- */

/* libhugetlbfs skips the mounts this user cannot use: find one to name it.
 * The size is statfs()'s, as libhugetlbfs itself tells mounts apart. */
static bool find_unusable_mount(vmm_ctx *ctx, uint64_t size_bytes, char *buf, size_t len, int *ret_errno)
{
        struct vmm_mount *mounts = NULL;
        size_t n = 0;
        struct statfs sf;
        bool found = false;
        if (vmm_mounts_list(ctx, &mounts, &n) < 0)
                return false;
        for (size_t i = 0; i < n && !found; i++)
                if (statfs(mounts[i].path, &sf) == 0 && (uint64_t)sf.f_bsize == size_bytes &&
                    access(mounts[i].path, R_OK | W_OK | X_OK) < 0) {
                        *ret_errno = errno;
                        snprintf(buf, len, "%s", mounts[i].path);
                        found = true;
                }
        free(mounts);
        return found;
}

static int load_hugetlbfs(struct verify *v)
{
        struct hugetlbfs_api *api = &v->lib;
        api->handle = dlopen(LIBHUGETLBFS_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (api->handle) {
                *(void **)&api->find_path_for_size = dlsym(api->handle, "hugetlbfs_find_path_for_size");
                *(void **)&api->unlinked_fd_for_size = dlsym(api->handle, "hugetlbfs_unlinked_fd_for_size");
                if (api->find_path_for_size && api->unlinked_fd_for_size)
                        return V_OK;
        }
        return fail(v, "libhugetlbfs", "verify needs %s (Debian: apt-get install libhugetlbfs0): %s",
                    LIBHUGETLBFS_SONAME, dlerror());
}

static int exercise(vmm_ctx *ctx, struct verify *v)
{
        int ex = load_hugetlbfs(v);
        if (ex != V_OK)
                return ex;
        v->path = v->lib.find_path_for_size((long)v->size_bytes);
        if (!v->path) {
                const char *env = getenv("HUGETLB_PATH");
                char mnt[1024];
                int e = 0;
                if (!env && find_unusable_mount(ctx, v->size_bytes, mnt, sizeof(mnt), &e))
                        return fail(v, "mount", "the hugetlbfs mount %s serves %s pages but this user cannot create files"
                                    " in it (%s), so libhugetlbfs skips it; run as root, or mount it with a mode=, uid="
                                    " or gid= that lets this user in", mnt, v->label, strerror(e));
                return fail(v, "no-mount", "no hugetlbfs mount for %s pages%s%s%s; mount one with"
                            " 'mount -t hugetlbfs -o pagesize=%s none /dev/hugepages-%s', or have hugevmd mount it:"
                            " Mount=/dev/hugepages-%s in the [Pool %s] section of hugevmd.conf", v->label,
                            env ? " (HUGETLB_PATH is set: only " : "", env ? env : "", env ? " was looked at)" : "",
                            v->short_size, v->short_size, v->short_size, v->short_size);
        }
        /* libhugetlbfs would only log a failed mkstemp; ask first to say why. */
        if (access(v->path, W_OK | X_OK) < 0)
                return fail(v, "mount", "cannot create a file in the hugetlbfs mount %s: %s", v->path, strerror(errno));
        int fd = v->lib.unlinked_fd_for_size((long)v->size_bytes);
        if (fd < 0)
                return fail(v, "mount", "cannot create an unlinked file in the hugetlbfs mount %s: %s", v->path, strerror(errno));

        /* A writable shared mapping grows the hugetlbfs file to cover it. */
        void *mem = mmap(NULL, v->size_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (mem == MAP_FAILED) {
                int e = errno;
                ex = e == ENOMEM ? no_page(ctx, v)
                                 : fail(v, "mmap", "mmap of one %s page from %s failed: %s", v->label, v->path, strerror(e));
        } else {
                v->mapped = true;
                ex = touch(ctx, v, mem);
                if (ex == V_OK)
                        ex = check_frame(v, mem);
                if (munmap(mem, v->size_bytes) < 0 && ex == V_OK)
                        ex = fail(v, "munmap", "munmap of the %s page: %s", v->label, strerror(errno));
        }
        close(fd);
        return ex;
}

static void report(const struct verify *v, int ex, bool json)
{
        if (json) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, PROTO_F_SIZE, json_object_new_string(v->label));
                json_object_object_add(o, PROTO_F_SIZE_BYTES, json_object_new_uint64(v->size_bytes));
                json_object_object_add(o, "verified", json_object_new_boolean(ex == V_OK));
                json_object_object_add(o, PROTO_F_PATH, v->path ? json_object_new_string(v->path) : NULL);
                json_object_object_add(o, "mapped", json_object_new_boolean(v->mapped));
                json_object_object_add(o, "touched", json_object_new_boolean(v->touched));
                json_object_object_add(o, "base_pages", json_object_new_uint64(v->base_pages));
                if (v->frame_read) {
                        char hex[32];
                        snprintf(hex, sizeof(hex), "0x%" PRIx64, v->pfn);
                        json_object_object_add(o, "pfn", json_object_new_uint64(v->pfn));
                        json_object_object_add(o, "pfn_hex", json_object_new_string(hex));
                        json_object_object_add(o, "last_pfn", json_object_new_uint64(v->last_pfn));
                        json_object_object_add(o, "flags", json_object_new_uint64(v->flags));
                        json_object_object_add(o, "last_flags", json_object_new_uint64(v->last_flags));
                }
                if (ex != V_OK) {
                        json_object_object_add(o, PROTO_F_REASON, json_object_new_string(v->reason));
                        json_object_object_add(o, PROTO_F_MESSAGE, json_object_new_string(v->message));
                }
                puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                       JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(o);
        } else if (ex == V_OK)
                printf("%s: verified: mapped 1 hugepage at PFN 0x%" PRIx64 " via %s (huge, compound head, %" PRIu64
                       " base pages)\n", v->label, v->pfn, v->path, v->base_pages);
        if (ex != V_OK)
                ctl_errorf("verify %s: %s", v->label, v->message);
}

int verify_run(const char *size_text, bool json)
{
        struct verify v = { .page_size = (uint64_t)sysconf(_SC_PAGESIZE) };
        if (vmm_size_parse(size_text, &v.size_bytes) < 0 || v.size_bytes == 0 || v.size_bytes % 1024) {
                ctl_errorf("invalid page size '%s' (want a size like 2M, 2MB, 2048kB or 1G)", size_text);
                return V_USAGE;
        }
        v.size_kb = v.size_bytes / 1024;
        v.base_pages = v.size_bytes / v.page_size;
        vmm_size_label(v.size_kb, v.label, sizeof(v.label));
        short_size(v.size_kb, v.short_size, sizeof(v.short_size));

        vmm_ctx *ctx;
        int r = vmm_ctx_new(NULL, NULL, &ctx), ex;
        if (r < 0)
                ex = fail(&v, "sysfs", "cannot read the hugepage sizes: %s", strerror(-r));
        else {
                ex = check_hstate(ctx, &v, size_text);
                if (ex == V_OK)
                        ex = exercise(ctx, &v);
                vmm_ctx_free(ctx);
        }
        report(&v, ex, json);
        if (v.lib.handle)
                dlclose(v.lib.handle);   /* after report(): v.path is its string */
        return ex;
}
