/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fakekernel: the hugetlb files of a fake machine's /sys and /proc, served by
 * a FUSE filesystem that behaves like the kernel (model.c), so that
 * `hugevmd --root MOUNTPOINT` and every other tool can run on it.
 *
 * Why FUSE and not an LD_PRELOAD shim: with FUSE the program under test makes
 * real open/read/write/poll/stat/readdir system calls on real file
 * descriptors, from any thread (the daemon's libuv threadpool), any process
 * (hugevmctl verify, shell scripts, python helpers, systemd units) and any
 * language or libc, statically linked or not; nothing is injected into it, so
 * what runs is exactly what ships. A shim would have to interpose every libc
 * entry point the product or its libraries may use (open, openat, fopen,
 * __open_2, read, pread, readv, getdents through opendir, stat variants, poll,
 * epoll, io_uring...), would miss raw syscalls and static binaries, would
 * need to be inherited across exec by children, and would run inside the
 * process under test, where its own bugs become the product's. Errors also
 * come back the way the kernel delivers them: from write(2) with the kernel's
 * errno, a short count from a sysctl, EACCES at open(2).
 *
 * Usage: fakekernel [-f] [-p PIDFILE] [-c CONFIG]... [-s KEY=VALUE]... [-o FUSEOPT]... [-d] MOUNTPOINT
 *   -f            stay in the foreground (else: mount, write PIDFILE, then the
 *                 parent exits 0 once the mount is up, 1 if it failed)
 *   -p PIDFILE    the serving process's pid
 *   -c CONFIG     a file of KEY=VALUE lines (# comments); -s one setting.
 *                 Applied in command-line order. Keys (defaults in brackets):
 *     release=6.18.0        osrelease; decides which files exist (HVO sysctl
 *                           5.19+, demote 5.16+, arch 6.1+, nr_memmap 6.11+,
 *                           nr_hugetlb 6.13+), the HVO reserve (2 before 5.18)
 *                           and batched allocation (6.7+)
 *     arch=x86_64|none  cmdline=TEXT [BOOT_IMAGE=... quiet]
 *     nodes=2  sizes=2048,1048576 (kB, or 2M,1G)  default_size=2M
 *     page_size=4096  struct_page=64  block_size=128M
 *     mem[.NODE]=1G         node memory (MemTotal, memory blocks)
 *     hugemem[.NODE]=MEM/2  memory the page allocator can give hugetlb
 *     frag.NODE.SIZE=N      fragmentation: at most N more pages of SIZE
 *     pool.SIZE=N           initial pool, spread as a global write would
 *     pool.SIZE.NODE=N      initial pool of one node (applied in order)
 *     overcommit.SIZE=N
 *     hvo=0|1|none          none: no HVO in this kernel
 *     hvo_sysctl=auto|yes|no  memmap_counters=auto|yes|no  demote=auto|yes|no
 *     memmap_boot=192  memmap=BASELINE-BOOT   (vmstat, with the pools empty)
 *     gigantic_runtime=yes  compact=heals|noop  delay_us=0  restore_fail=no
 *     mounts=FILE (text of /proc/mounts)  mount=LINE (one more line)
 *   -o FUSEOPT    passed to FUSE (e.g. ro)
 *   -d            FUSE debug output
 *
 * MOUNTPOINT/.fake/control takes commands (model.c control_line): hold,
 * release, reserve, unreserve, memory, fragment, hvo, memmap, restore-fail,
 * delay, fail, mount, umount. A failing command fails the write with its
 * errno; reading the file says what the last command did.
 * MOUNTPOINT/.fake/state is the whole model, one "key value" a line.
 *
 * /proc/mounts is the configured text plus the real mounts beneath
 * MOUNTPOINT, at their path relative to it (hugevmd's Mount= mounts a real
 * hugetlbfs there); a change of either wakes its pollers (POLLPRI).
 * Directories may be made (mkdir) outside /sys, /proc and /.fake.
 *
 * SIGTERM, SIGINT or `fusermount3 -u MOUNTPOINT` unmount and exit.
 */
#define FUSE_USE_VERSION 31
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "model.h"

enum kind {
        K_DIR,
        /* hstate files; node < 0 the global directory's */
        K_HS_NR, K_HS_MEMPOL, K_HS_OVERCOMMIT, K_HS_FREE, K_HS_RESV, K_HS_SURPLUS, K_HS_DEMOTE, K_HS_DEMOTE_SIZE,
        K_NODE_COMPACT, K_NODE_MEMINFO, K_NODE_LIST_ALL, K_NODE_LIST_MEM,
        K_BLOCK_SIZE, K_BLOCK_STATE, K_BLOCK_ONLINE, K_BLOCK_PHYS,
        K_MEMINFO, K_BUDDYINFO, K_PAGETYPEINFO, K_SYS_DROP_CACHES, K_VMSTAT, K_MOUNTS, K_CMDLINE, K_OSRELEASE, K_ARCH,
        /* sysctls holding one number */
        K_SYS_HVO, K_SYS_COMPACT, K_SYS_NR, K_SYS_NR_MEMPOL, K_SYS_OVERCOMMIT, K_SYS_SHM_GROUP, K_SYS_SHMMAX,
        K_SYS_SHMALL,
        K_CONTROL, K_STATE,
};

struct ent {
        char *name;
        enum kind kind;
        int hs, node;
        unsigned idx;
        mode_t mode;
        bool proc, user;   /* under /proc (size 0); a directory made by mkdir */
        struct ent *parent, *first, *next;
};

struct fh {                /* one open file */
        struct ent *e;
        char *snap;        /* what the last read at offset 0 generated */
        size_t snap_len;
        bool have_snap;
        uint64_t seen_event;               /* /proc/mounts: the mount table seen */
        struct fuse_pollhandle *ph;
        struct fh *next_poller;
};

static struct ent *root;
static pthread_rwlock_t tree_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct fh *pollers;  /* /proc/mounts files that asked to be woken; fk.lock */
static void mounts_changed(void);
static time_t start_time;
static char mnt_escaped[4096];  /* the mount point as /proc/mounts writes it */

static bool is_sysctl_number(enum kind k)
{
        return k >= K_SYS_HVO && k <= K_SYS_SHMALL;
}

/* ------------------------------------------------------------------ tree */

static struct ent *add(struct ent *parent, const char *name, enum kind kind, mode_t mode)
{
        struct ent *e = calloc(1, sizeof(*e)), **tail;

        if (!e || !(e->name = strdup(name)))
                abort();
        e->kind = kind;
        e->mode = mode;
        e->hs = e->node = -1;
        e->parent = parent;
        if (parent) {
                e->proc = parent->proc;
                for (tail = &parent->first; *tail; tail = &(*tail)->next)
                        ;
                *tail = e;
        }
        return e;
}

static struct ent *child(const struct ent *dir, const char *name, size_t len)
{
        for (struct ent *c = dir->first; c; c = c->next)
                if (strlen(c->name) == len && memcmp(c->name, name, len) == 0)
                        return c;
        return NULL;
}

static struct ent *dir_path(const char *path) /* mkdir -p inside the tree */
{
        struct ent *d = root;

        while (*path) {
                const char *slash = strchr(path, '/');
                size_t len = slash ? (size_t)(slash - path) : strlen(path);
                struct ent *c = child(d, path, len);

                if (!c) {
                        char name[256];
                        snprintf(name, sizeof(name), "%.*s", (int)len, path);
                        c = add(d, name, K_DIR, 0755);
                        if (strcmp(name, "proc") == 0 && d == root)
                                c->proc = true;
                }
                d = c;
                path += len + (slash ? 1 : 0);
        }
        return d;
}

static struct ent *lookup(const char *path)
{
        struct ent *e = root;

        while (*path == '/')
                path++;
        while (*path && e) {
                const char *slash = strchr(path, '/');
                size_t len = slash ? (size_t)(slash - path) : strlen(path);

                e = child(e, path, len);
                path += len;
                while (*path == '/')
                        path++;
        }
        return e;
}

static void add_hstate_files(struct ent *d, int hs, int node)
{
        const struct fk_hstate *h = &fk.hs[hs];
        struct ent *e;

        if (node < 0) {
                add(d, "free_hugepages", K_HS_FREE, 0444)->hs = hs;
                add(d, "nr_hugepages", K_HS_NR, 0644)->hs = hs;
                add(d, "nr_hugepages_mempolicy", K_HS_MEMPOL, 0644)->hs = hs;
                add(d, "nr_overcommit_hugepages", K_HS_OVERCOMMIT, 0644)->hs = hs;
                add(d, "resv_hugepages", K_HS_RESV, 0444)->hs = hs;
                add(d, "surplus_hugepages", K_HS_SURPLUS, 0444)->hs = hs;
        } else {
                const enum kind kinds[] = { K_HS_FREE, K_HS_NR, K_HS_SURPLUS };
                const char *names[] = { "free_hugepages", "nr_hugepages", "surplus_hugepages" };
                for (unsigned i = 0; i < 3; i++) {
                        e = add(d, names[i], kinds[i], kinds[i] == K_HS_NR ? 0644 : 0444);
                        e->hs = hs;
                        e->node = node;
                }
        }
        if (h->demote_to >= 0) {
                e = add(d, "demote", K_HS_DEMOTE, 0200);
                e->hs = hs;
                e->node = node;
                e = add(d, "demote_size", K_HS_DEMOTE_SIZE, 0644);
                e->hs = hs;
                e->node = node;
        }
}

static void build_tree(void)
{
        char p[256];
        struct ent *d, *e;

        root = add(NULL, "", K_DIR, 0755);
        if (fk.nsizes > 0) {
                d = dir_path("sys/kernel/mm/hugepages");
                for (unsigned s = 0; s < fk.nsizes; s++) {
                        snprintf(p, sizeof(p), "hugepages-%" PRIu64 "kB", fk.hs[s].kb);
                        add_hstate_files(add(d, p, K_DIR, 0755), (int)s, -1);
                }
        }
        d = dir_path("sys/devices/system/node");
        add(d, "has_cpu", K_NODE_LIST_ALL, 0444);
        add(d, "has_memory", K_NODE_LIST_MEM, 0444);
        add(d, "has_normal_memory", K_NODE_LIST_MEM, 0444);
        add(d, "online", K_NODE_LIST_ALL, 0444);
        add(d, "possible", K_NODE_LIST_ALL, 0444);
        for (unsigned n = 0; n < fk.nnodes; n++) {
                snprintf(p, sizeof(p), "node%u", n);
                struct ent *nd = add(d, p, K_DIR, 0755);
                add(nd, "compact", K_NODE_COMPACT, 0200)->node = (int)n;
                add(nd, "meminfo", K_NODE_MEMINFO, 0444)->node = (int)n;
                if (fk.nsizes == 0)
                        continue;
                struct ent *hd = add(nd, "hugepages", K_DIR, 0755);
                for (unsigned s = 0; s < fk.nsizes; s++) {
                        snprintf(p, sizeof(p), "hugepages-%" PRIu64 "kB", fk.hs[s].kb);
                        add_hstate_files(add(hd, p, K_DIR, 0755), (int)s, (int)n);
                }
        }
        d = dir_path("sys/devices/system/memory");
        add(d, "block_size_bytes", K_BLOCK_SIZE, 0444);
        unsigned block = 0;
        for (unsigned n = 0; n < fk.nnodes; n++)
                for (uint64_t k = 0; k < fk.node[n].mem_kb * 1024 / fk.block_size; k++, block++) {
                        snprintf(p, sizeof(p), "memory%u", block);
                        struct ent *b = add(d, p, K_DIR, 0755);
                        add(b, "online", K_BLOCK_ONLINE, 0644)->idx = block;
                        add(b, "phys_index", K_BLOCK_PHYS, 0444)->idx = block;
                        e = add(b, "state", K_BLOCK_STATE, 0644);
                        e->idx = block;
                        snprintf(p, sizeof(p), "node%u", n);
                        add(b, p, K_DIR, 0755); /* a symlink to the node on a real kernel */
                }

        d = dir_path("proc");
        add(d, "cmdline", K_CMDLINE, 0444);
        add(d, "meminfo", K_MEMINFO, 0444);
        add(d, "buddyinfo", K_BUDDYINFO, 0444);
        add(d, "pagetypeinfo", K_PAGETYPEINFO, 0400);
        add(d, "mounts", K_MOUNTS, 0444);
        add(d, "vmstat", K_VMSTAT, 0444);
        d = dir_path("proc/sys/vm");
        add(d, "compact_memory", K_SYS_COMPACT, 0200);
        add(d, "drop_caches", K_SYS_DROP_CACHES, 0200);
        add(d, "hugetlb_shm_group", K_SYS_SHM_GROUP, 0644);
        if (fk.has_hvo_sysctl)
                add(d, "hugetlb_optimize_vmemmap", K_SYS_HVO, 0644);
        if (fk.nsizes > 0) {
                add(d, "nr_hugepages", K_SYS_NR, 0644);
                add(d, "nr_hugepages_mempolicy", K_SYS_NR_MEMPOL, 0644);
                add(d, "nr_overcommit_hugepages", K_SYS_OVERCOMMIT, 0644);
        }
        d = dir_path("proc/sys/kernel");
        if (fk.has_arch)
                add(d, "arch", K_ARCH, 0444);
        add(d, "osrelease", K_OSRELEASE, 0444);
        add(d, "shmall", K_SYS_SHMALL, 0644);
        add(d, "shmmax", K_SYS_SHMMAX, 0644);
        d = dir_path(".fake");
        add(d, "control", K_CONTROL, 0644);
        add(d, "state", K_STATE, 0444);
}

/* --------------------------------------------------------------- content */

/* Real mounts made beneath the mount point (a hugetlbfs that hugevmd mounted
 * at ROOT/dev/hugepages-2M) appear in the fake /proc/mounts at their path
 * relative to it, as they would on a machine whose root that is. */
static void real_mounts_below(struct fk_buf *b)
{
        size_t n = strlen(mnt_escaped);
        char line[8192];
        FILE *f;

        if (!n || !(f = fopen("/proc/self/mounts", "re")))
                return;
        while (fgets(line, sizeof(line), f)) {
                char *dev = line, *dir = strchr(line, ' ');
                if (!dir)
                        continue;
                *dir++ = '\0';
                if (strncmp(dir, mnt_escaped, n) != 0 || dir[n] != '/')
                        continue;
                fk_buf_printf(b, "%s %s", dev, dir + n);
        }
        fclose(f);
}

/* Watches the real mount table (POLLPRI on /proc/self/mounts) and wakes the
 * pollers of the fake one when the part beneath the mount point changed
 * (mounts elsewhere are not in the fake's table). */
static void *real_mounts_watch(void *arg)
{
        struct pollfd p = { .fd = open("/proc/self/mounts", O_RDONLY | O_CLOEXEC), .events = POLLPRI };
        struct fk_buf last = { 0 };

        (void)arg;
        if (p.fd < 0)
                return NULL;
        real_mounts_below(&last);
        for (;;) {
                struct fk_buf now = { 0 };

                if (poll(&p, 1, -1) < 0 || !(p.revents & (POLLPRI | POLLERR)))
                        continue;
                real_mounts_below(&now);
                if (now.n == last.n && (now.n == 0 || memcmp(now.p, last.p, now.n) == 0)) {
                        fk_buf_free(&now);
                        continue;
                }
                fk_buf_free(&last);
                last = now;
                pthread_mutex_lock(&fk.lock);
                fk.mounts_event++;
                mounts_changed();
                pthread_mutex_unlock(&fk.lock);
        }
        return NULL;
}

static void render(const struct ent *e, struct fk_buf *b) /* fk.lock held */
{
        const struct fk_hstate *h = e->hs >= 0 ? &fk.hs[e->hs] : &fk.hs[fk.default_size];

        switch (e->kind) {
        case K_HS_NR:
                fk_buf_printf(b, "%" PRIu64 "\n", e->node < 0 ? h->nr : h->nr_node[e->node]);
                break;
        case K_HS_MEMPOL:
                fk_buf_printf(b, "%" PRIu64 "\n", h->nr);
                break;
        case K_HS_OVERCOMMIT:
                fk_buf_printf(b, "%" PRIu64 "\n", h->overcommit);
                break;
        case K_HS_FREE:
                fk_buf_printf(b, "%" PRIu64 "\n", e->node < 0 ? h->free : fk_node_free(h, (unsigned)e->node));
                break;
        case K_HS_RESV:
                fk_buf_printf(b, "%" PRIu64 "\n", h->resv);
                break;
        case K_HS_SURPLUS:
                fk_buf_printf(b, "%" PRIu64 "\n", e->node < 0 ? h->surplus : h->surplus_node[e->node]);
                break;
        case K_HS_DEMOTE_SIZE:
                fk_buf_printf(b, "%" PRIu64 "kB\n", h->demote_kb);
                break;
        case K_NODE_MEMINFO:
                fk_render_node_meminfo(b, (unsigned)e->node);
                break;
        case K_NODE_LIST_ALL:
                fk_render_nodelist(b, false);
                break;
        case K_NODE_LIST_MEM:
                fk_render_nodelist(b, true);
                break;
        case K_BLOCK_SIZE:
                fk_buf_printf(b, "%" PRIx64 "\n", fk.block_size);
                break;
        case K_BLOCK_STATE:
                fk_buf_printf(b, "online\n");
                break;
        case K_BLOCK_ONLINE:
                fk_buf_printf(b, "1\n");
                break;
        case K_BLOCK_PHYS:
                fk_buf_printf(b, "%08x\n", e->idx);
                break;
        case K_MEMINFO:
                fk_render_meminfo(b);
                break;
        case K_BUDDYINFO:
                fk_render_buddyinfo(b);
                break;
        case K_PAGETYPEINFO:
                fk_render_pagetypeinfo(b);
                break;
        case K_VMSTAT:
                fk_render_vmstat(b);
                break;
        case K_MOUNTS:
                fk_buf_printf(b, "%s", fk.mounts ? fk.mounts : "");
                real_mounts_below(b);
                break;
        case K_CMDLINE:
                fk_buf_printf(b, "%s\n", fk.cmdline);
                break;
        case K_OSRELEASE:
                fk_buf_printf(b, "%s\n", fk.release);
                break;
        case K_ARCH:
                fk_buf_printf(b, "%s\n", fk.arch);
                break;
        case K_SYS_HVO:
                fk_buf_printf(b, "%d\n", fk.hvo ? 1 : 0);
                break;
        case K_SYS_NR:
        case K_SYS_NR_MEMPOL:
                /* hugetlb_sysctl_handler_common shows h->max_huge_pages */
                fk_buf_printf(b, "%" PRIu64 "\n", h->max_huge_pages);
                break;
        case K_SYS_OVERCOMMIT:
                fk_buf_printf(b, "%" PRIu64 "\n", h->overcommit);
                break;
        case K_SYS_SHM_GROUP:
                fk_buf_printf(b, "%" PRId64 "\n", fk.shm_group);
                break;
        case K_SYS_SHMMAX:
                fk_buf_printf(b, "%" PRIu64 "\n", fk.shmmax);
                break;
        case K_SYS_SHMALL:
                fk_buf_printf(b, "%" PRIu64 "\n", fk.shmall);
                break;
        case K_STATE:
                fk_render_state(b);
                break;
        case K_CONTROL:
                fk_buf_printf(b, "%s\n", fk.result);
                break;
        default:
                break;
        }
}

/* An injected failure for this path and direction: its errno, else 0. */
static int injected(const char *path, bool write)
{
        int err = 0;

        pthread_mutex_lock(&fk.lock);
        for (unsigned i = 0; i < fk.nfaults; i++) {
                struct fk_fault *f = &fk.faults[i];

                if (f->write != write || strcmp(f->path, path) != 0)
                        continue;
                err = f->err;
                if (--f->count == 0)
                        fk.faults[i] = fk.faults[--fk.nfaults];
                break;
        }
        pthread_mutex_unlock(&fk.lock);
        return err;
}

/* What a write does: bytes the kernel reports, or -errno. */
static int do_write(const struct ent *e, const char *buf, size_t size, off_t off)
{
        uint64_t v;
        int64_t iv;
        size_t used = size;
        int r;
        const struct fk_hstate *h = e->hs >= 0 ? &fk.hs[e->hs] : &fk.hs[fk.default_size];
        unsigned hi = e->hs >= 0 ? (unsigned)e->hs : fk.default_size;

        if (!e->proc && size > 4096) /* kernfs passes at most PAGE_SIZE to ->store */
                size = used = 4096;
        if (is_sysctl_number(e->kind) && off > 0)
                return (int)size; /* sysctl_writes_strict: a write past the start is ignored */

        switch (e->kind) {
        case K_HS_NR:
        case K_HS_MEMPOL:
                if (h->gigantic && !fk.gigantic_runtime)
                        return -EINVAL;
                if ((r = fk_kstrtoul(buf, size, &v)) < 0)
                        return r;
                r = fk_op_set_nr_hugepages(hi, e->kind == K_HS_NR ? e->node : -1, v);
                break;
        case K_HS_OVERCOMMIT:
                if (h->gigantic)
                        return -EINVAL;
                if ((r = fk_kstrtoul(buf, size, &v)) < 0)
                        return r;
                r = fk_op_set_overcommit(hi, v);
                break;
        case K_HS_DEMOTE:
                if ((r = fk_kstrtoul(buf, size, &v)) < 0)
                        return r;
                r = fk_op_demote(hi, e->node, v);
                break;
        case K_HS_DEMOTE_SIZE:
                r = fk_op_set_demote_size(hi, fk_memparse(buf, size));
                break;
        case K_NODE_COMPACT:
                r = fk_op_compact(e->node);
                break;
        case K_BLOCK_STATE:
        case K_BLOCK_ONLINE:
                r = -EINVAL; /* memory hotplug is not modelled */
                break;
        case K_SYS_HVO:
                if ((r = fk_proc_get_int(buf, size, &iv, &used)) < 0)
                        return r;
                r = fk_op_set_hvo(iv != 0); /* proc_dobool: any non-zero int is true */
                break;
        case K_SYS_COMPACT:
                if ((r = fk_proc_get_int(buf, size, &iv, &used)) < 0)
                        return r;
                if (iv != 1)
                        return -EINVAL;
                r = fk_op_compact(-1);
                break;
        case K_SYS_DROP_CACHES: /* proc_dointvec_minmax, 1..4 */
                if ((r = fk_proc_get_int(buf, size, &iv, &used)) < 0)
                        return r;
                if (iv < 1 || iv > 4)
                        return -EINVAL;
                r = fk_op_drop_caches(iv);
                break;
        case K_SYS_NR:
        case K_SYS_NR_MEMPOL:
                if ((r = fk_proc_get_ulong(buf, size, &v, &used)) < 0)
                        return r;
                if (h->gigantic && !fk.gigantic_runtime)
                        return -EINVAL;
                r = fk_op_set_nr_hugepages(hi, -1, v);
                break;
        case K_SYS_OVERCOMMIT:
                if (h->gigantic)
                        return -EINVAL;
                if ((r = fk_proc_get_ulong(buf, size, &v, &used)) < 0)
                        return r;
                r = fk_op_set_overcommit(hi, v);
                break;
        case K_SYS_SHM_GROUP:
                if ((r = fk_proc_get_int(buf, size, &iv, &used)) < 0)
                        return r;
                pthread_mutex_lock(&fk.lock);
                fk.shm_group = iv;
                pthread_mutex_unlock(&fk.lock);
                break;
        case K_SYS_SHMMAX:
        case K_SYS_SHMALL:
                if ((r = fk_proc_get_ulong(buf, size, &v, &used)) < 0)
                        return r;
                pthread_mutex_lock(&fk.lock);
                if (e->kind == K_SYS_SHMMAX)
                        fk.shmmax = v;
                else
                        fk.shmall = v;
                pthread_mutex_unlock(&fk.lock);
                break;
        case K_CONTROL:
                r = fk_op_control(buf, size);
                break;
        default:
                return -EIO;
        }
        return r < 0 ? r : (int)used;
}

/* ------------------------------------------------------------ operations */

static bool allowed(const struct ent *e, int want) /* want: 4 read, 2 write */
{
        /* sysfs and procfs check the mode bits even for root (kernfs_fop_open,
         * sysctl test_perm): root gets the owner's, everybody else the others'. */
        unsigned bits = fuse_get_context()->uid == 0 ? (e->mode >> 6) & 7 : e->mode & 7;

        return (bits & (unsigned)want) == (unsigned)want;
}

static int fk_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
        struct ent *e;

        (void)fi;
        pthread_rwlock_rdlock(&tree_lock);
        e = lookup(path);
        memset(st, 0, sizeof(*st));
        if (e) {
                st->st_mode = (e->kind == K_DIR ? S_IFDIR : S_IFREG) | e->mode;
                st->st_nlink = e->kind == K_DIR ? 2 : 1;
                st->st_size = e->kind == K_DIR || e->proc || e->kind >= K_CONTROL ? 0 : 4096;
                st->st_blksize = 4096;
                st->st_atime = st->st_mtime = st->st_ctime = start_time;
        }
        pthread_rwlock_unlock(&tree_lock);
        return e ? 0 : -ENOENT;
}

static int fk_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off, struct fuse_file_info *fi,
                      enum fuse_readdir_flags flags)
{
        struct ent *e;

        (void)off;
        (void)fi;
        (void)flags;
        pthread_rwlock_rdlock(&tree_lock);
        e = lookup(path);
        if (!e || e->kind != K_DIR) {
                pthread_rwlock_unlock(&tree_lock);
                return e ? -ENOTDIR : -ENOENT;
        }
        filler(buf, ".", NULL, 0, 0);
        filler(buf, "..", NULL, 0, 0);
        for (struct ent *c = e->first; c; c = c->next)
                filler(buf, c->name, NULL, 0, 0);
        pthread_rwlock_unlock(&tree_lock);
        return 0;
}

static int fk_open(const char *path, struct fuse_file_info *fi)
{
        struct ent *e;
        struct fh *f;
        int acc = fi->flags & O_ACCMODE, want = acc == O_RDONLY ? 4 : acc == O_WRONLY ? 2 : 6;

        pthread_rwlock_rdlock(&tree_lock);
        e = lookup(path);
        pthread_rwlock_unlock(&tree_lock);
        if (!e)
                return -ENOENT;
        if (e->kind == K_DIR)
                return -EISDIR;
        if (!allowed(e, want))
                return -EACCES;
        f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        f->e = e;
        pthread_mutex_lock(&fk.lock);
        f->seen_event = fk.mounts_event;
        pthread_mutex_unlock(&fk.lock);
        fi->fh = (uintptr_t)f;
        fi->direct_io = 1;   /* every read and write reaches us: no page cache */
        fi->keep_cache = 0;
        fi->nonseekable = 0;
        return 0;
}

static int fk_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
        struct fh *f = (struct fh *)(uintptr_t)fi->fh;
        int err = injected(path, false);

        if (err)
                return -err;
        if (off == 0 || !f->have_snap) {
                /* Generated whole under the lock: a read racing a write sees
                 * the old or the new value, never a half or empty file. */
                struct fk_buf b = { 0 };

                pthread_mutex_lock(&fk.lock);
                render(f->e, &b);
                pthread_mutex_unlock(&fk.lock);
                free(f->snap);
                f->snap = b.p;
                f->snap_len = b.n;
                f->have_snap = true;
        }
        if (is_sysctl_number(f->e->kind) && off > 0)
                return 0; /* proc_dointvec and friends: one read or nothing */
        if ((size_t)off >= f->snap_len)
                return 0;
        size_t n = f->snap_len - (size_t)off;
        if (n > size)
                n = size;
        memcpy(buf, f->snap + off, n);
        return (int)n;
}

static int fk_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
        struct fh *f = (struct fh *)(uintptr_t)fi->fh;
        int err = injected(path, true);

        if (err)
                return -err;
        return do_write(f->e, buf, size, off);
}

static int fk_access(const char *path, int mask)
{
        struct ent *e;
        int r = 0;

        pthread_rwlock_rdlock(&tree_lock);
        e = lookup(path);
        if (!e)
                r = -ENOENT;
        else if (fuse_get_context()->uid == 0) {
                /* root: anything but executing a file nobody may execute */
                if ((mask & X_OK) && e->kind != K_DIR && !(e->mode & 0111))
                        r = -EACCES;
        } else if (((mask & R_OK) && !(e->mode & 04)) || ((mask & W_OK) && !(e->mode & 02)) ||
                   ((mask & X_OK) && !(e->mode & 01)))
                r = -EACCES;
        pthread_rwlock_unlock(&tree_lock);
        return r;
}

static int fk_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
        struct ent *e;

        (void)size;
        (void)fi;
        pthread_rwlock_rdlock(&tree_lock);
        e = lookup(path);
        pthread_rwlock_unlock(&tree_lock);
        if (!e)
                return -ENOENT;
        if (e->kind == K_DIR)
                return -EISDIR;
        return allowed(e, 2) ? 0 : -EACCES; /* O_TRUNC on sysfs and procfs: ignored */
}

static int fk_release(const char *path, struct fuse_file_info *fi)
{
        struct fh *f = (struct fh *)(uintptr_t)fi->fh;

        (void)path;
        pthread_mutex_lock(&fk.lock);
        for (struct fh **p = &pollers; *p; p = &(*p)->next_poller)
                if (*p == f) {
                        *p = f->next_poller;
                        break;
                }
        pthread_mutex_unlock(&fk.lock);
        if (f->ph)
                fuse_pollhandle_destroy(f->ph);
        free(f->snap);
        free(f);
        return 0;
}

static int fk_poll(const char *path, struct fuse_file_info *fi, struct fuse_pollhandle *ph, unsigned *reventsp)
{
        struct fh *f = (struct fh *)(uintptr_t)fi->fh;

        (void)path;
        if (f->e->kind != K_MOUNTS) {
                if (ph)
                        fuse_pollhandle_destroy(ph);
                *reventsp = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM; /* DEFAULT_POLLMASK */
                return 0;
        }
        /* mounts_poll: readable, plus POLLERR|POLLPRI once per change of the table */
        pthread_mutex_lock(&fk.lock);
        *reventsp = POLLIN | POLLRDNORM;
        if (f->seen_event != fk.mounts_event) {
                f->seen_event = fk.mounts_event;
                *reventsp |= POLLERR | POLLPRI;
        }
        if (ph) {
                bool listed = f->ph != NULL;
                if (f->ph)
                        fuse_pollhandle_destroy(f->ph);
                f->ph = ph;
                if (!listed) {
                        f->next_poller = pollers;
                        pollers = f;
                }
        }
        pthread_mutex_unlock(&fk.lock);
        return 0;
}

static void mounts_changed(void) /* fk.lock held */
{
        for (struct fh *f = pollers; f; f = f->next_poller)
                if (f->ph)
                        fuse_notify_poll(f->ph);
}

static bool user_area(const struct ent *d)
{
        /* Directories may be made where no kernel file lives: under the root
         * (dev, mnt, run...) and in directories made that way. */
        return d == root || d->user;
}

static int fk_mkdir(const char *path, mode_t mode)
{
        const char *slash = strrchr(path, '/');
        struct ent *parent;
        char dir[4096];
        int r = 0;

        if (!slash || strlen(path) >= sizeof(dir))
                return -EINVAL;
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
        pthread_rwlock_wrlock(&tree_lock);
        parent = lookup(dir);
        if (!parent)
                r = -ENOENT;
        else if (parent->kind != K_DIR)
                r = -ENOTDIR;
        else if (child(parent, slash + 1, strlen(slash + 1)))
                r = -EEXIST;
        else if (!user_area(parent))
                r = -EPERM; /* as sysfs */
        else {
                struct ent *e = add(parent, slash + 1, K_DIR, mode & 07777);
                e->user = true;
        }
        pthread_rwlock_unlock(&tree_lock);
        return r;
}

static int fk_rmdir(const char *path)
{
        struct ent *e;
        int r = 0;

        pthread_rwlock_wrlock(&tree_lock);
        e = lookup(path);
        if (!e)
                r = -ENOENT;
        else if (e->kind != K_DIR)
                r = -ENOTDIR;
        else if (!e->user)
                r = -EPERM;
        else if (e->first)
                r = -ENOTEMPTY;
        else {
                for (struct ent **p = &e->parent->first; *p; p = &(*p)->next)
                        if (*p == e) {
                                *p = e->next;
                                break;
                        }
                free(e->name);
                free(e);
        }
        pthread_rwlock_unlock(&tree_lock);
        return r;
}

static void *fk_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
        if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
                conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
        cfg->direct_io = 1;
        cfg->kernel_cache = 0;
        cfg->entry_timeout = 1.0;
        cfg->attr_timeout = 1.0;
        cfg->negative_timeout = 0;
        return NULL;
}

static const struct fuse_operations ops = {
        .getattr = fk_getattr,
        .readdir = fk_readdir,
        .open = fk_open,
        .read = fk_read,
        .write = fk_write,
        .truncate = fk_truncate,
        .access = fk_access,
        .release = fk_release,
        .poll = fk_poll,
        .mkdir = fk_mkdir,
        .rmdir = fk_rmdir,
        .init = fk_init,
};

/* ------------------------------------------------------------------ main */

static bool fuse_was_interrupted(void)
{
        return fuse_interrupted() != 0;
}

static void usage(FILE *out)
{
        fprintf(out, "usage: fakekernel [-f] [-p PIDFILE] [-c CONFIG]... [-s KEY=VALUE]... [-o FUSEOPT]... [-d] MOUNTPOINT\n"
                     "(the settings are described at the top of tests/fakekernel/fakekernel.c)\n");
}

static int write_pidfile(const char *path)
{
        FILE *f;

        if (!path)
                return 0;
        f = fopen(path, "we");
        if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0) {
                fprintf(stderr, "fakekernel: cannot write %s: %s\n", path, strerror(errno));
                return -1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        const char *pidfile = NULL, *mountpoint;
        bool foreground = false, debug = false;
        char err[1024], fuseopts[2048] = "fsname=fakekernel,subtype=fakekernel";
        int opt, ready[2] = { -1, -1 }, status = 1;
        struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
        struct fuse *f;

        fk_config_defaults();
        while ((opt = getopt(argc, argv, "fp:c:s:o:dh")) != -1) {
                switch (opt) {
                case 'f':
                        foreground = true;
                        break;
                case 'p':
                        pidfile = optarg;
                        break;
                case 'c':
                        if (fk_config_file(optarg, err, sizeof(err)) < 0) {
                                fprintf(stderr, "fakekernel: %s\n", err);
                                return 2;
                        }
                        break;
                case 's': {
                        char *eq = strchr(optarg, '=');
                        if (!eq) {
                                fprintf(stderr, "fakekernel: -s KEY=VALUE, not '%s'\n", optarg);
                                return 2;
                        }
                        *eq = '\0';
                        if (fk_config_set(optarg, eq + 1, err, sizeof(err)) < 0) {
                                fprintf(stderr, "fakekernel: %s\n", err);
                                return 2;
                        }
                        break;
                }
                case 'o':
                        if (strlen(fuseopts) + strlen(optarg) + 2 >= sizeof(fuseopts))
                                return 2;
                        strcat(fuseopts, ",");
                        strcat(fuseopts, optarg);
                        break;
                case 'd':
                        debug = true;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind != argc - 1) {
                usage(stderr);
                return 2;
        }
        mountpoint = argv[optind];
        {
                /* the mount point as the real /proc/mounts escapes it */
                char abs[4096], *w = mnt_escaped;
                if (!realpath(mountpoint, abs)) {
                        fprintf(stderr, "fakekernel: %s: %s\n", mountpoint, strerror(errno));
                        return 2;
                }
                for (const char *r = abs; *r && w < mnt_escaped + sizeof(mnt_escaped) - 5; r++) {
                        if (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\\')
                                w += sprintf(w, "\\%03o", (unsigned char)*r);
                        else
                                *w++ = *r;
                }
                *w = '\0';
        }
        if (fk_machine_init(err, sizeof(err)) < 0) {
                fprintf(stderr, "fakekernel: %s\n", err);
                return 2;
        }
        fk.interrupted = fuse_was_interrupted;
        fk.mounts_changed = mounts_changed;
        start_time = time(NULL);
        build_tree();

        /* Root may let every uid in (the daemon's clients run as others). */
        if (geteuid() == 0)
                strcat(fuseopts, ",allow_other");
        if (fuse_opt_add_arg(&args, argv[0]) < 0 || fuse_opt_add_arg(&args, "-o") < 0 ||
            fuse_opt_add_arg(&args, fuseopts) < 0 || (debug && fuse_opt_add_arg(&args, "-d") < 0))
                return 1;

        if (!foreground) {
                pid_t pid;

                if (pipe(ready) < 0) {
                        perror("fakekernel: pipe");
                        return 1;
                }
                pid = fork();
                if (pid < 0) {
                        perror("fakekernel: fork");
                        return 1;
                }
                if (pid > 0) { /* the parent: wait for the mount, then leave */
                        char c = 0;
                        close(ready[1]);
                        while (read(ready[0], &c, 1) < 0 && errno == EINTR)
                                ;
                        fuse_opt_free_args(&args);
                        return c == 'R' ? 0 : 1;
                }
                close(ready[0]);
                setsid();
        }

        f = fuse_new(&args, &ops, sizeof(ops), NULL);
        if (!f)
                goto out;
        if (fuse_mount(f, mountpoint) != 0) {
                fuse_destroy(f);
                goto out;
        }
        if (fuse_set_signal_handlers(fuse_get_session(f)) != 0 || write_pidfile(pidfile) < 0) {
                fuse_unmount(f);
                fuse_destroy(f);
                goto out;
        }
        if (!foreground) {
                int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (fd >= 0) {
                        dup2(fd, 0);
                        dup2(fd, 1);
                        close(fd);
                }
                if (chdir("/") < 0)
                        perror("fakekernel: chdir /");
                while (write(ready[1], "R", 1) < 0 && errno == EINTR)
                        ;
                close(ready[1]);
                ready[1] = -1;
        }
        /* > 0: the signal that ended the loop, a clean stop; < 0: an error */
        {
                pthread_t watcher;
                pthread_attr_t attr;
                sigset_t all, old_mask;

                /* the watcher takes no signals: SIGTERM is the loop's */
                sigfillset(&all);
                pthread_sigmask(SIG_BLOCK, &all, &old_mask);
                pthread_attr_init(&attr);
                pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                if (pthread_create(&watcher, &attr, real_mounts_watch, NULL) != 0)
                        fprintf(stderr, "fakekernel: no watch on the real mount table\n");
                pthread_attr_destroy(&attr);
                pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
        }
        status = fuse_loop_mt(f, 0) < 0 ? 1 : 0;
        fuse_remove_signal_handlers(fuse_get_session(f));
        fuse_unmount(f);
        fuse_destroy(f);
        if (pidfile)
                unlink(pidfile);
out:
        fuse_opt_free_args(&args);
        if (ready[1] >= 0) {
                while (write(ready[1], "E", 1) < 0 && errno == EINTR)
                        ;
                close(ready[1]);
        }
        return status;
}
