/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hugetlbfs mounts (listing from /proc/mounts, mounting) and the SysV shm
 * settings that gate hugepage shared memory. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/mount.h>   /* with <linux/mount.h>: fsopen, fsconfig, fsmount, move_mount constants */
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

/* /proc/mounts escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
        char *w = s;
        for (char *r = s; *r; r++) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' &&
                    r[3] <= '7') {
                        *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
                        r += 3;
                } else
                        *w++ = *r;
        }
        *w = '\0';
}

/* A "Key:   N kB" line of a meminfo file (/proc/meminfo, or a node's with keys
 * "Node N Key:"), read with the strict parser every number file gets (no sign,
 * overflow -ERANGE); key includes the ':'. */
static int meminfo_field_kb(vmm_ctx *ctx, const char *file, const char *key, uint64_t *ret_kb)
{
        char path[PATH_MAX], buf[8192], digits[VMMI_NUMBER_FILE_MAX], line_key[64];
        int r = vmmi_path(ctx, path, "%s", file);
        if (r < 0)
                return r;
        ssize_t n = vmmi_read_file(path, buf, sizeof buf);
        if (n < 0)
                return (int)n;
        snprintf(line_key, sizeof line_key, "\n%s", key);
        const char *f = strncmp(buf, key, strlen(key)) == 0 ? buf : strstr(buf, line_key);
        if (!f)
                return -ENODATA;
        f = strchr(f + 1, ':') + 1;
        f += strspn(f, " ");
        size_t len = strcspn(f, " \n");
        uint64_t kb;
        if (len == 0 || len >= sizeof digits)
                return -EBADMSG;
        memcpy(digits, f, len);
        digits[len] = '\0';
        r = vmmi_parse_u64_dec(digits, &kb);
        if (r < 0)
                return r == -ERANGE ? r : -EBADMSG;
        f += len;
        if (strncmp(f, " kB", 3) != 0 || (f[3] != '\n' && f[3] != '\0'))
                return -EBADMSG;
        *ret_kb = kb;
        return 0;
}

/* A /proc/meminfo size that is never 0 on a running machine. */
static int meminfo_kb(vmm_ctx *ctx, const char *key, uint64_t *ret_kb)
{
        int r = meminfo_field_kb(ctx, "/proc/meminfo", key, ret_kb);
        return r < 0 ? r : *ret_kb == 0 ? -EBADMSG : 0;
}

/* The default hugepage size: "Hugepagesize:    2048 kB". */
static int default_size_kb(vmm_ctx *ctx, uint64_t *ret)
{
        return meminfo_kb(ctx, "Hugepagesize:", ret);
}

int vmm_memtotal(vmm_ctx *ctx, uint64_t *ret_bytes)
{
        uint64_t kb;
        int r = meminfo_kb(ctx, "MemTotal:", &kb);
        if (r < 0)
                return r;
        if (kb > UINT64_MAX / 1024)
                return -ERANGE;   /* kB that fit 64 bits, bytes that do not */
        *ret_bytes = kb * 1024;
        return 0;
}

/* Free blocks per order of node's zones (all nodes if node < 0). */
static int buddy_blocks(vmm_ctx *ctx, int node, struct vmm_buddy *ret)
{
        char path[PATH_MAX];
        int r = vmmi_path(ctx, path, "/proc/buddyinfo");
        if (r < 0)
                return r;
        FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        char line[1024];
        bool any = false;
        while (fgets(line, sizeof line, f)) {
                unsigned n;
                int at = -1;   /* %n is set only when the whole "Node N, zone NAME" matched */
                if (sscanf(line, "Node %u, zone %*s%n", &n, &at) != 1 || at < 0 || (node >= 0 && n != (unsigned)node))
                        continue;
                any = true;
                char *p = line + at, *end;
                for (int order = 0; order < VMM_MAX_ORDERS; order++) {
                        p += strspn(p, " \t");
                        if (*p < '0' || *p > '9')
                                break;
                        unsigned long long count = strtoull(p, &end, 10);
                        p = end;
                        ret->free_blocks[order] += count;
                        if (order + 1 > ret->orders)
                                ret->orders = order + 1;
                }
        }
        fclose(f);
        return any ? 0 : -ENODATA;
}

int vmm_free_read(vmm_ctx *ctx, int node, struct vmm_free *ret)
{
        char file[PATH_MAX], key[64];
        int r;
        memset(ret, 0, sizeof *ret);
        if (node < 0)
                r = meminfo_field_kb(ctx, "/proc/meminfo", "MemFree:", &ret->free_kb);
        else {
                snprintf(file, sizeof file, VMMI_NODE_DIR "/node%d/meminfo", node);
                snprintf(key, sizeof key, "Node %d MemFree:", node);
                r = meminfo_field_kb(ctx, file, key, &ret->free_kb);
        }
        if (r < 0)
                return r;
        /* The largest free block: the highest order with one. */
        struct vmm_buddy b = { 0 };
        ret->largest_order = VMM_ORDER_UNKNOWN;
        if (buddy_blocks(ctx, node, &b) == 0) {
                ret->largest_order = -1;
                for (int order = 0; order < b.orders; order++)
                        if (b.free_blocks[order])
                                ret->largest_order = order;
        }
        return 0;
}

/* /proc/pagetypeinfo: "Page block order: 9", then the table
 * "Number of blocks type     Unmovable      Movable  Reclaimable ..." with a
 * "Node 0, zone   Normal    122   4387     99 ..." row per zone. */
static int pageblock_types(vmm_ctx *ctx, int node, struct vmm_buddy *ret)
{
        char path[PATH_MAX];
        int r = vmmi_path(ctx, path, "/proc/pagetypeinfo");
        if (r < 0)
                return r;
        FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        char line[1024];
        int order = -1, col[3] = { -1, -1, -1 };   /* Unmovable, Movable, Reclaimable */
        bool table = false;
        uint64_t sum[3] = { 0, 0, 0 };
        while (fgets(line, sizeof line, f)) {
                if (sscanf(line, "Page block order: %d", &order) == 1)
                        continue;
                if (strncmp(line, "Number of blocks type", 21) == 0) {
                        char *save = NULL;
                        int i = 0;
                        for (char *t = strtok_r(line + 21, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save), i++) {
                                if (strcmp(t, "Unmovable") == 0)
                                        col[0] = i;
                                else if (strcmp(t, "Movable") == 0)
                                        col[1] = i;
                                else if (strcmp(t, "Reclaimable") == 0)
                                        col[2] = i;
                        }
                        table = true;
                        continue;
                }
                unsigned n;
                int at = -1;
                if (table && strncmp(line, "Node ", 5) != 0)
                        table = false;   /* the table ends (page_owner's "Number of mixed blocks" follows) */
                if (!table || sscanf(line, "Node %u, zone %*s%n", &n, &at) != 1 || at < 0)
                        continue;
                if (node >= 0 && n != (unsigned)node)
                        continue;
                char *p = line + at, *end;
                for (int i = 0;; i++) {
                        p += strspn(p, " \t");
                        if (*p < '0' || *p > '9')
                                break;
                        unsigned long long v = strtoull(p, &end, 10);
                        p = end;
                        for (int c = 0; c < 3; c++)
                                if (col[c] == i)
                                        sum[c] += v;
                }
        }
        fclose(f);
        if (order < 0 || order >= 64 || col[1] < 0)
                return -EBADMSG;
        ret->pageblock_order = order;
        ret->unmovable_blocks = sum[0];
        ret->movable_blocks = sum[1];
        ret->reclaimable_blocks = sum[2];
        return 0;
}

int vmm_buddy_read(vmm_ctx *ctx, int node, struct vmm_buddy *ret)
{
        struct vmm_free fr;
        memset(ret, 0, sizeof *ret);
        ret->pageblock_order = -1;
        int r = vmm_free_read(ctx, node, &fr);
        if (r < 0)
                return r;
        ret->free_kb = fr.free_kb;
        r = buddy_blocks(ctx, node, ret);
        if (r < 0)
                return r;
        /* Clean page cache: what drop_caches can free (missing keys count 0). */
        static const char *const keys[] = { "FilePages:", "Shmem:", "Dirty:", "Writeback:" };
        uint64_t v[4] = { 0, 0, 0, 0 };
        for (int i = 0; i < 4; i++) {
                char file[PATH_MAX], key[64];
                if (node < 0) {
                        snprintf(file, sizeof file, "/proc/meminfo");
                        snprintf(key, sizeof key, "%s", i == 0 ? "Cached:" : keys[i]);
                } else {
                        snprintf(file, sizeof file, VMMI_NODE_DIR "/node%d/meminfo", node);
                        snprintf(key, sizeof key, "Node %d %s", node, keys[i]);
                }
                if (meminfo_field_kb(ctx, file, key, &v[i]) < 0)
                        v[i] = 0;
        }
        uint64_t busy = v[1] + v[2] + v[3];
        ret->cache_kb = v[0] > busy ? v[0] - busy : 0;
        if (pageblock_types(ctx, node, ret) < 0) {
                ret->pageblock_order = -1;   /* not root, or no such file: unknown */
                ret->unmovable_blocks = ret->movable_blocks = ret->reclaimable_blocks = 0;
        }
        return 0;
}

int vmm_drop_caches(vmm_ctx *ctx)
{
        char path[PATH_MAX];
        int r = ctx ? vmmi_path(ctx, path, "/proc/sys/vm/drop_caches") : -EINVAL;
        return r < 0 ? r : vmmi_write_file(path, "1");
}

uint64_t vmm_buddy_obtainable(const struct vmm_buddy *b, int order)
{
        uint64_t n = 0;
        if (order < 0)
                return 0;
        for (int k = order; k < b->orders && k < VMM_MAX_ORDERS; k++)
                if (k - order < 64 && b->free_blocks[k] <= (UINT64_MAX - n) >> (k - order))
                        n += b->free_blocks[k] << (k - order);
                else
                        return UINT64_MAX;
        return n;
}

int vmm_mounts_watch_open(vmm_ctx *ctx)
{
        char path[PATH_MAX];
        int r = vmmi_path(ctx, path, VMMI_MOUNTS);
        if (r < 0)
                return r;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

/* The page size a hugetlbfs mount serves: pagesize= in its options, else the default. */
static int mount_size_kb(const char *options, uint64_t default_kb, uint64_t *ret)
{
        for (const char *o = options; o && *o; o = strchr(o, ',') ? strchr(o, ',') + 1 : NULL) {
                if (strncmp(o, "pagesize=", 9) != 0)
                        continue;
                char text[32];
                size_t len = strcspn(o + 9, ",");
                uint64_t bytes;
                if (len == 0 || len >= sizeof text)
                        return -EBADMSG;
                memcpy(text, o + 9, len);
                text[len] = '\0';
                if (vmm_size_parse(text, &bytes) < 0 || bytes < 1024 || bytes % 1024)
                        return -EBADMSG;
                *ret = bytes / 1024;
                return 0;
        }
        if (!default_kb)
                return -ENODATA;
        *ret = default_kb;
        return 0;
}

int vmm_mounts_list(vmm_ctx *ctx, struct vmm_mount **ret_mounts, size_t *ret_n)
{
        char path[PATH_MAX];
        int r = vmmi_path(ctx, path, VMMI_MOUNTS);
        if (r < 0)
                return r;
        FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        uint64_t default_kb = 0;
        if (default_size_kb(ctx, &default_kb) < 0)
                default_kb = 0;   /* then only mounts that name their pagesize= are placed */

        struct vmm_mount *mounts = NULL;
        size_t n = 0, cap = 0;
        char *line = NULL;
        size_t line_cap = 0;
        r = 0;
        while (getline(&line, &line_cap, f) >= 0) {
                char *save = NULL, *dev = strtok_r(line, " \n", &save), *dir = strtok_r(NULL, " \n", &save),
                     *type = strtok_r(NULL, " \n", &save), *opts = strtok_r(NULL, " \n", &save);
                if (!dev || !dir || !type || !opts || strcmp(type, "hugetlbfs") != 0)
                        continue;
                unescape_octal(dir);
                struct vmm_mount m = { 0 };
                if (strlen(dir) >= sizeof m.path || strlen(opts) >= sizeof m.options ||
                    mount_size_kb(opts, default_kb, &m.size_kb) < 0)
                        continue;   /* not a mount we could name or place; skip it, not the list */
                memcpy(m.path, dir, strlen(dir) + 1);
                memcpy(m.options, opts, strlen(opts) + 1);
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 8;
                        struct vmm_mount *nm = ncap <= VMM_MAX_MOUNTS ? realloc(mounts, ncap * sizeof *nm) : NULL;
                        if (!nm) {
                                r = ncap <= VMM_MAX_MOUNTS ? -ENOMEM : -E2BIG;
                                break;
                        }
                        mounts = nm;
                        cap = ncap;
                }
                mounts[n++] = m;
        }
        if (!r && ferror(f))
                r = -EIO;
        free(line);
        fclose(f);
        if (r < 0) {
                free(mounts);
                return r;
        }
        *ret_mounts = mounts;
        *ret_n = n;
        return 0;
}

/* Mount points are taken as written: absolute, not "/", without empty, "."
 * or ".." components and without a trailing '/' (the form /proc/mounts
 * shows them in, so that a configured mount is found there by name). */
static bool mount_path_normalized(const char *dir)
{
        if (!dir || dir[0] != '/' || dir[1] == '\0')
                return false;
        for (const char *c = dir + 1;; c++) {
                size_t len = strcspn(c, "/");
                if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                c += len;
                if (!*c)
                        return true;
        }
}

/* One path component below dirfd, never through a symlink. glibc 2.36 has no
 * openat2() wrapper; where the syscall is missing (before 5.6, or valgrind
 * 3.19, which does not know it) openat with O_NOFOLLOW gives the same answer
 * for a single component: a symlink is -ELOOP, anything but a directory
 * -ENOTDIR. */
static int openat2_fd(int dirfd, const char *name, uint64_t flags)
{
        struct open_how how = { .flags = flags, .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH };
        long fd = syscall(SYS_openat2, dirfd, name, &how, sizeof how);
        if (fd < 0 && errno == ENOSYS) {
                /* Not O_DIRECTORY: with it a symlink reads as -ENOTDIR. O_NONBLOCK:
                 * a FIFO in the way must not hang the open. */
                struct stat st;
                fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
                if (fd >= 0 && (fstat((int)fd, &st) < 0 || !S_ISDIR(st.st_mode))) {
                        close((int)fd);
                        errno = ENOTDIR;
                        fd = -1;
                }
        }
        return fd < 0 ? -errno : (int)fd;
}

/*
 * The directory dir below the root, opened one component at a time with
 * RESOLVE_NO_SYMLINKS: a symlink anywhere on the way is -ELOOP, a file that
 * is not a directory -ENOTDIR, so the fd is the directory the path names and
 * no other (a user who can write some directory on the way cannot redirect
 * it). The root itself is the caller's and may hold symlinks. With create,
 * missing components are made (0755) relative to their parent's fd; else a
 * missing one is -ENOENT. On failure *ret_bad_len (may be NULL) is the length
 * of dir's prefix up to the component at fault. Returns an O_RDONLY directory fd.
 */
static int open_dir_nofollow(vmm_ctx *ctx, const char *dir, bool create, size_t *ret_bad_len)
{
        char name[NAME_MAX + 1];
        int fd = open(ctx->prefix[0] ? ctx->prefix : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (const char *c = dir + 1;;) {
                size_t len = strcspn(c, "/");
                bool last = c[len] == '\0';
                int next;
                if (len > NAME_MAX)
                        next = -ENAMETOOLONG;
                else {
                        memcpy(name, c, len);
                        name[len] = '\0';
                        /* O_PATH on the way; the last one is read (its entries) and mounted on. */
                        uint64_t flags = O_DIRECTORY | O_CLOEXEC | (last ? O_RDONLY : O_PATH);
                        next = openat2_fd(fd, name, flags);
                        if (next == -ENOENT && create)
                                next = mkdirat(fd, name, 0755) < 0 && errno != EEXIST ? -errno : openat2_fd(fd, name, flags);
                }
                close(fd);
                if (next < 0) {
                        if (ret_bad_len)
                                *ret_bad_len = (size_t)(c - dir) + len;
                        return next;
                }
                fd = next;
                if (last)
                        return fd;
                c += len + 1;
        }
}

int vmm_mount_point_check(vmm_ctx *ctx, const char *dir, size_t *ret_bad_len)
{
        if (!mount_path_normalized(dir))
                return -EINVAL;
        int fd = open_dir_nofollow(ctx, dir, false, ret_bad_len);
        if (fd == -ENOENT)
                return 0;   /* the rest is created at mount time */
        if (fd < 0)
                return fd;
        close(fd);
        return 0;
}

/* A mount over a directory hides what is in it (a Mount=/dev typo would hide
 * the devices): only an empty directory is mounted over. Read from the fd that
 * is then mounted on, not from a path that may name another directory by then. */
static int dir_fd_empty(int fd)
{
        int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0)
                return -errno;
        DIR *dir = fdopendir(dup_fd);
        if (!dir) {
                int r = -errno;
                close(dup_fd);
                return r;
        }
        struct dirent *e;
        int r = 0;
        errno = 0;
        while ((e = readdir(dir)))
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
                        r = -ENOTEMPTY;
                        break;
                }
        if (!e && errno)
                r = -errno;
        closedir(dir);
        return r;
}

static int fs_set(int fs_fd, const char *key, const char *value)
{
        return syscall(SYS_fsconfig, fs_fd, FSCONFIG_SET_STRING, key, value, 0) < 0 ? -errno : 0;
}

/* A hugetlbfs superblock with the options, as a detached mount fd (nosuid, nodev). */
static int hugetlbfs_create(uint64_t size_kb, const struct vmm_mount_opts *opts)
{
        char text[32];
        int r = 0;
        long fs_fd = syscall(SYS_fsopen, "hugetlbfs", FSOPEN_CLOEXEC);
        if (fs_fd < 0)
                return -errno;
        /* "hugetlbfs" as the source, as mount -t hugetlbfs hugetlbfs shows it. */
        if ((r = fs_set((int)fs_fd, "source", "hugetlbfs")) < 0)
                goto out;
        snprintf(text, sizeof text, "%" PRIu64 "K", size_kb);
        if ((r = fs_set((int)fs_fd, "pagesize", text)) < 0)
                goto out;
        if (opts && opts->size_bytes) {
                snprintf(text, sizeof text, "%" PRIu64, opts->size_bytes);
                if ((r = fs_set((int)fs_fd, "size", text)) < 0)
                        goto out;
        }
        if (opts && opts->min_size_bytes) {
                snprintf(text, sizeof text, "%" PRIu64, opts->min_size_bytes);
                if ((r = fs_set((int)fs_fd, "min_size", text)) < 0)
                        goto out;
        }
        if (opts && opts->mode >= 0) {
                snprintf(text, sizeof text, "%o", (unsigned)opts->mode);
                if ((r = fs_set((int)fs_fd, "mode", text)) < 0)
                        goto out;
        }
        if (opts && opts->uid >= 0) {
                snprintf(text, sizeof text, "%" PRId64, opts->uid);
                if ((r = fs_set((int)fs_fd, "uid", text)) < 0)
                        goto out;
        }
        if (opts && opts->gid >= 0) {
                snprintf(text, sizeof text, "%" PRId64, opts->gid);
                if ((r = fs_set((int)fs_fd, "gid", text)) < 0)
                        goto out;
        }
        if (syscall(SYS_fsconfig, fs_fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
                r = -errno;
                goto out;
        }
        long mnt_fd = syscall(SYS_fsmount, fs_fd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
        r = mnt_fd < 0 ? -errno : (int)mnt_fd;
out:
        close((int)fs_fd);
        return r;
}

int vmm_hugetlbfs_mount(vmm_ctx *ctx, const char *dir, uint64_t size_kb, const struct vmm_mount_opts *opts)
{
        if (!mount_path_normalized(dir) || !size_kb)
                return -EINVAL;
        int dir_fd = open_dir_nofollow(ctx, dir, true, NULL);
        if (dir_fd < 0)
                return dir_fd;
        int r = dir_fd_empty(dir_fd);
        if (r == 0 && (r = hugetlbfs_create(size_kb, opts)) >= 0) {
                int mnt_fd = r;
                /* Onto the very directory checked above: by fd, not by name. */
                r = syscall(SYS_move_mount, mnt_fd, "", dir_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0
                            ? -errno : 0;
                close(mnt_fd);
        }
        close(dir_fd);
        return r;
}

int vmm_shm_read(vmm_ctx *ctx, struct vmm_shm *ret)
{
        char path[PATH_MAX];
        struct vmm_shm s;
        int r;
        if ((r = vmmi_path(ctx, path, "/proc/sys/vm/hugetlb_shm_group")) < 0 || (r = vmmi_read_u64(path, &s.group)) < 0 ||
            (r = vmmi_path(ctx, path, "/proc/sys/kernel/shmmax")) < 0 || (r = vmmi_read_u64(path, &s.shmmax)) < 0 ||
            (r = vmmi_path(ctx, path, "/proc/sys/kernel/shmall")) < 0 || (r = vmmi_read_u64(path, &s.shmall)) < 0)
                return r;
        *ret = s;
        return 0;
}

/* Write a number and read it back: the kernel clamps some sysctls silently. */
static int write_checked(vmm_ctx *ctx, const char *file, uint64_t value)
{
        char path[PATH_MAX];
        uint64_t back;
        int r;
        if ((r = vmmi_path(ctx, path, "%s", file)) < 0 || (r = vmmi_write_u64(path, value)) < 0 ||
            (r = vmmi_read_u64(path, &back)) < 0)
                return r;
        return back == value ? 0 : -EIO;
}

int vmm_shm_group_set(vmm_ctx *ctx, uint64_t gid)
{
        if (gid > UINT32_MAX - 1)
                return -ERANGE;
        return write_checked(ctx, "/proc/sys/vm/hugetlb_shm_group", gid);
}

int vmm_shm_limits_raise(vmm_ctx *ctx, uint64_t bytes, unsigned *ret_raised)
{
        struct vmm_shm s;
        uint64_t page = ctx->page_size;
        unsigned raised = 0;
        int r = vmm_shm_read(ctx, &s);
        if (r < 0)
                return r;
        uint64_t pages = bytes / page + (bytes % page != 0);
        if (s.shmmax < bytes) {
                if ((r = write_checked(ctx, "/proc/sys/kernel/shmmax", bytes)) < 0)
                        return r;
                raised |= VMM_SHM_RAISED_SHMMAX;
        }
        if (s.shmall < pages) {
                if ((r = write_checked(ctx, "/proc/sys/kernel/shmall", pages)) < 0)
                        return r;
                raised |= VMM_SHM_RAISED_SHMALL;
        }
        if (ret_raised)
                *ret_raised = raised;
        return 0;
}
