/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hugetlbfs mounts from /proc/mounts and the SysV shm sysctls, on fake trees:
 * escapes, default page size, hostile lines; shm limits raised, never lowered.
 * MemTotal from /proc/meminfo; the mount table's watch fd. Mount points:
 * never through a symlink, only normalized paths, and (as root, in a private
 * mount namespace, under a temp dir) a real hugetlbfs mounted by fd with its
 * options, then unmounted. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "fake.h"
#include "tap.h"
#include "vmemmap.h"

static void test_mounts(void)
{
        char *root = fake_root_new();
        vmm_ctx *ctx = fake_ctx(root, 4096);
        struct vmm_mount *m = NULL;
        size_t n = 99;
        char longpath[3000];

        ok(vmm_mounts_list(ctx, &m, &n) == -ENOENT, "no /proc/mounts: -ENOENT");

        memset(longpath, 'a', sizeof longpath - 1);
        longpath[0] = '/';
        longpath[sizeof longpath - 1] = '\0';
        fake_file(root, "/proc/meminfo", "MemTotal: 100 kB\nHugepagesize:       2048 kB\n");
        fake_file(root, "/proc/mounts",
                  "proc /proc proc rw 0 0\n"
                  "hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n"
                  "none /mnt/a\\040b\\134c hugetlbfs rw,pagesize=1024M,size=4G 0 0\n"
                  "none /mnt/default hugetlbfs rw,relatime 0 0\n"
                  "none /mnt/badsize hugetlbfs rw,pagesize=huge 0 0\n"
                  "none /mnt/short hugetlbfs\n"
                  "\n"
                  "none %s hugetlbfs rw,pagesize=2M 0 0\n"
                  "hugetlbfs /mnt/64k hugetlbfs rw,pagesize=64K 0 0",
                  longpath);
        int r = vmm_mounts_list(ctx, &m, &n);
        is_int(r, 0, "mounts listed");
        is_int((long long)n, 4, "4 usable hugetlbfs mounts (bad pagesize=, short line, overlong path skipped)");
        if (r == 0 && n == 4) {
                is_str(m[0].path, "/dev/hugepages", "first mount path");
                is_int((long long)m[0].size_kb, 2048, "pagesize=2M -> 2048 kB");
                is_str(m[1].path, "/mnt/a b\\c", "\\040 and \\134 unescaped");
                is_int((long long)m[1].size_kb, 1048576, "pagesize=1024M -> 1048576 kB");
                is_str(m[1].options, "rw,pagesize=1024M,size=4G", "options kept as the kernel shows them");
                is_int((long long)m[2].size_kb, 2048, "no pagesize=: the default size from /proc/meminfo");
                is_str(m[3].path, "/mnt/64k", "a last line without a newline");
                is_int((long long)m[3].size_kb, 64, "pagesize=64K -> 64 kB");
        }
        free(m);

        /* Without Hugepagesize: in meminfo, a mount that names no size cannot be placed. */
        fake_file(root, "/proc/meminfo", "MemTotal: 100 kB\n");
        m = NULL;
        r = vmm_mounts_list(ctx, &m, &n);
        is_int(r, 0, "mounts listed without a default size");
        is_int((long long)n, 3, "the mount without pagesize= is skipped");
        free(m);

        fake_file(root, "/proc/mounts", "%s", "");
        m = NULL;
        r = vmm_mounts_list(ctx, &m, &n);
        ok(r == 0 && n == 0 && m == NULL, "an empty mount table: 0 mounts, NULL array");
        free(m);

        is_int(vmm_hugetlbfs_mount(ctx, "relative", 2048, NULL), -EINVAL, "mount: a relative path is -EINVAL");
        is_int(vmm_hugetlbfs_mount(ctx, "/x", 0, NULL), -EINVAL, "mount: size 0 is -EINVAL");
        fake_file(root, "/dev/null-ish", "%s", "");
        is_int(vmm_hugetlbfs_mount(ctx, "/dev", 2048, NULL), -ENOTEMPTY,
               "mount: over a directory with files in it is -ENOTEMPTY (nothing hidden)");
        is_int(vmm_hugetlbfs_mount(ctx, "/dev/null-ish", 2048, NULL), -ENOTDIR, "mount: over a file is -ENOTDIR");
        vmm_ctx_free(ctx);
        fake_root_free(root);
}

static void test_shm(void)
{
        char *root = fake_root_new();
        vmm_ctx *ctx = fake_ctx(root, 4096);
        struct vmm_shm s;
        unsigned raised = 99;

        ok(vmm_shm_read(ctx, &s) == -ENOENT, "no shm sysctls: -ENOENT");
        fake_file(root, "/proc/sys/vm/hugetlb_shm_group", "0\n");
        fake_file(root, "/proc/sys/kernel/shmmax", "1000\n");
        fake_file(root, "/proc/sys/kernel/shmall", "garbage\n");
        is_int(vmm_shm_read(ctx, &s), -EBADMSG, "a non-numeric shmall: -EBADMSG");
        fake_file(root, "/proc/sys/kernel/shmall", "1\n");
        is_int(vmm_shm_read(ctx, &s), 0, "shm read");
        ok(s.group == 0 && s.shmmax == 1000 && s.shmall == 1, "group 0, shmmax 1000, shmall 1");

        is_int(vmm_shm_limits_raise(ctx, 8192 + 1, &raised), 0, "raise to 8193 bytes");
        is_int(raised, VMM_SHM_RAISED_SHMMAX | VMM_SHM_RAISED_SHMALL, "both raised");
        vmm_shm_read(ctx, &s);
        ok(s.shmmax == 8193 && s.shmall == 3, "shmmax 8193 bytes, shmall 3 pages (rounded up)");
        is_int(vmm_shm_limits_raise(ctx, 100, &raised), 0, "raise to less than there is");
        is_int(raised, 0, "nothing written");
        vmm_shm_read(ctx, &s);
        ok(s.shmmax == 8193 && s.shmall == 3, "a larger value is never lowered");

        is_int(vmm_shm_group_set(ctx, 65534), 0, "group set");
        vmm_shm_read(ctx, &s);
        is_int((long long)s.group, 65534, "group read back");
        is_int(vmm_shm_group_set(ctx, (uint64_t)1 << 32), -ERANGE, "a gid beyond 32 bits: -ERANGE");
        vmm_ctx_free(ctx);
        fake_root_free(root);
}

static void test_memtotal(void)
{
        char *root = fake_root_new();
        vmm_ctx *ctx = fake_ctx(root, 4096);
        uint64_t bytes = 7;

        is_int(vmm_memtotal(ctx, &bytes), -ENOENT, "memtotal: no /proc/meminfo is -ENOENT");

        fake_file(root, "/proc/meminfo", "MemTotal:          24576 kB\nMemFree:           12288 kB\n");
        is_int(vmm_memtotal(ctx, &bytes), 0, "memtotal: read");
        ok(bytes == UINT64_C(24576) * 1024, "MemTotal: 24576 kB is 24576 * 1024 bytes (got %" PRIu64 ")", bytes);

        /* Where the kernel puts it: not the first line, after names that end alike. */
        fake_file(root, "/proc/meminfo", "HugeMemTotal:  1 kB\nMemTotalX:  2 kB\nMemTotal:  3072 kB\n"
                  "Hugepagesize:  2048 kB");
        bytes = 7;
        is_int(vmm_memtotal(ctx, &bytes), 0, "memtotal: a later line");
        ok(bytes == UINT64_C(3072) * 1024, "only the MemTotal: line counts, not *MemTotal: or MemTotal* (got %"
           PRIu64 ")", bytes);
        fake_file(root, "/proc/meminfo", "MemTotal:  4096 kB");
        bytes = 7;
        ok(vmm_memtotal(ctx, &bytes) == 0 && bytes == UINT64_C(4096) * 1024, "memtotal: a last line without a newline");

        /* The largest kB whose bytes fit 64 bits, and one more. */
        fake_file(root, "/proc/meminfo", "MemTotal: %" PRIu64 " kB\n", UINT64_MAX / 1024);
        bytes = 7;
        is_int(vmm_memtotal(ctx, &bytes), 0, "memtotal: UINT64_MAX / 1024 kB is read");
        ok(bytes == UINT64_MAX / 1024 * 1024, "... as its bytes (got %" PRIu64 ")", bytes);

        const struct {
                const char *meminfo;
                int want;
                const char *what;
        } bad[] = {
                { "MemFree: 12288 kB\nSwapTotal: 0 kB\n", -ENODATA, "no MemTotal: line" },
                { "", -ENODATA, "an empty meminfo" },
                { "MemTotal: 24576\n", -EBADMSG, "no unit" },
                { "MemTotal: 24576 MB\n", -EBADMSG, "another unit" },
                { "MemTotal: 24576 kBytes\n", -EBADMSG, "text after kB" },
                { "MemTotal: 24576kB\n", -EBADMSG, "no space before kB" },
                { "MemTotal: kB\n", -EBADMSG, "no number" },
                { "MemTotal:\n", -EBADMSG, "nothing after the colon" },
                { "MemTotal: 0 kB\n", -EBADMSG, "zero" },
                { "MemTotal: -1 kB\n", -EBADMSG, "negative" },
                { "MemTotal: +24576 kB\n", -EBADMSG, "plus sign" },
                { "MemTotal: 0x6000 kB\n", -EBADMSG, "hex" },
                { "MemTotal: 18014398509481984 kB\n", -ERANGE, "2^54 kB: the bytes overflow 64 bits" },
                { "MemTotal: 18446744073709551616 kB\n", -ERANGE, "2^64 kB: the kB overflow 64 bits" },
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                fake_file(root, "/proc/meminfo", "%s", bad[i].meminfo);
                bytes = 7;
                is_int(vmm_memtotal(ctx, &bytes), bad[i].want, "memtotal: %s", bad[i].what);
                is_int((long long)bytes, 7, "... and the result is left alone");
        }
        vmm_ctx_free(ctx);
        fake_root_free(root);
}

static void test_mounts_watch(void)
{
        char *root = fake_root_new();
        vmm_ctx *ctx = fake_ctx(root, 4096);
        const char *table = "hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n";
        char buf[256];

        is_int(vmm_mounts_watch_open(ctx), -ENOENT, "watch: no /proc/mounts is -ENOENT");

        /* As on the real /proc: mounts is a link to self/mounts. */
        fake_file(root, "/proc/self/mounts", "%s", table);
        fake_symlink(root, "/proc/mounts", "self/mounts");
        int fd = vmm_mounts_watch_open(ctx);
        ok(fd >= 0, "watch: an fd on the fake mount table (got %d)", fd);
        if (fd >= 0) {
                ssize_t n = read(fd, buf, sizeof buf - 1);
                buf[n > 0 ? n : 0] = '\0';
                is_str(buf, table, "the fd reads the root's mount table, not this machine's");
                ok((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY, "the fd is read-only");
                ok(fcntl(fd, F_GETFD) & FD_CLOEXEC, "the fd is close-on-exec");
                /* The header's promise: a regular file never flags POLLPRI, not even when rewritten. */
                fake_file(root, "/proc/self/mounts", "%s", "");
                struct pollfd p = { .fd = fd, .events = POLLPRI };
                ok(poll(&p, 1, 0) >= 0 && !(p.revents & POLLPRI), "a fake table's fd is never flagged POLLPRI");
                close(fd);
        }
        vmm_ctx_free(ctx);
        fake_root_free(root);
}

#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif

static bool is_hugetlbfs(const char *path)
{
        struct statfs sf;
        return statfs(path, &sf) == 0 && sf.f_type == HUGETLBFS_MAGIC;
}

/* Mounts the test did not want (the code under test followed a link or took a
 * path it should have refused): undo every one below root, so that the tree
 * can be removed and the next case starts clean. */
static void unmount_below(const char *root)
{
        for (bool again = true; again;) {
                FILE *f = fopen("/proc/self/mountinfo", "re");
                char line[4096], point[4096];
                again = false;
                while (f && fgets(line, sizeof line, f))
                        if (sscanf(line, "%*s %*s %*s %*s %4095s", point) == 1 &&
                            strncmp(point, root, strlen(root)) == 0 && umount2(point, MNT_DETACH) == 0) {
                                printf("# unmounted %s, which should not be a mount point\n", point);
                                again = true;
                        }
                if (f)
                        fclose(f);
        }
}

/* Everything a mount point must be before anything is mounted: refused
 * without privileges, so these run as any user. */
static void test_mount_point_checks(void)
{
        char *root = fake_root_new();
        vmm_ctx *ctx = fake_ctx(root, 4096);
        char target[4096];
        size_t bad = 0;

        fake_dir(root, "/victim");
        fake_dir(root, "/victimdir/sub");
        fake_dir(root, "/tmp");
        fake_file(root, "/etc/file", "%s", "x\n");
        snprintf(target, sizeof target, "%s/victim", root);
        fake_symlink(root, "/tmp/hp", target);           /* absolute, as a user would plant it */
        fake_symlink(root, "/tmp/rel", "../victim");      /* relative */
        fake_symlink(root, "/dirlink", "victimdir");      /* a link on the way, not at the end */

        const char *not_normalized[] = { "/", "//", "/.", "/mnt/x/..", "/mnt/../etc", "/mnt//x", "/mnt/x/", "/mnt/./x",
                                         "relative", "" };
        for (size_t i = 0; i < sizeof not_normalized / sizeof not_normalized[0]; i++) {
                is_int(vmm_mount_point_check(ctx, not_normalized[i], NULL), -EINVAL, "check: \"%s\" is -EINVAL",
                       not_normalized[i]);
                is_int(vmm_hugetlbfs_mount(ctx, not_normalized[i], 2048, NULL), -EINVAL, "mount: \"%s\" is -EINVAL",
                       not_normalized[i]);
        }
        is_int(vmm_hugetlbfs_mount(ctx, NULL, 2048, NULL), -EINVAL, "mount: NULL is -EINVAL");

        is_int(vmm_mount_point_check(ctx, "/mnt/new/deeper", &bad), 0, "check: a missing path is fine (created at mount)");
        is_int(vmm_mount_point_check(ctx, "/victim", &bad), 0, "check: an existing directory is fine");
        bad = 0;
        is_int(vmm_mount_point_check(ctx, "/tmp/hp", &bad), -ELOOP, "check: a symlink as the mount point is -ELOOP");
        is_int((long long)bad, (long long)strlen("/tmp/hp"), "... naming /tmp/hp");
        bad = 0;
        is_int(vmm_mount_point_check(ctx, "/dirlink/sub", &bad), -ELOOP, "check: a symlink on the way is -ELOOP");
        is_int((long long)bad, (long long)strlen("/dirlink"), "... naming /dirlink, not /dirlink/sub");
        is_int(vmm_mount_point_check(ctx, "/tmp/hp/below/it", NULL), -ELOOP, "check: below a symlink is -ELOOP");
        bad = 0;
        is_int(vmm_mount_point_check(ctx, "/etc/file/x", &bad), -ENOTDIR, "check: a file on the way is -ENOTDIR");
        is_int((long long)bad, (long long)strlen("/etc/file"), "... naming /etc/file");

        /* Refused before anything is mounted or created, whoever runs it. */
        is_int(vmm_hugetlbfs_mount(ctx, "/tmp/hp", 2048, NULL), -ELOOP, "mount: a symlink as the mount point is -ELOOP");
        is_int(vmm_hugetlbfs_mount(ctx, "/tmp/rel", 2048, NULL), -ELOOP, "mount: a relative symlink is -ELOOP");
        is_int(vmm_hugetlbfs_mount(ctx, "/dirlink/sub", 2048, NULL), -ELOOP, "mount: a symlink on the way is -ELOOP");
        is_int(vmm_hugetlbfs_mount(ctx, "/tmp/hp/new", 2048, NULL), -ELOOP, "mount: below a symlink is -ELOOP");
        char victim_new[4096];
        snprintf(victim_new, sizeof victim_new, "%s/victim/new", root);
        ok(access(victim_new, F_OK) < 0, "... and nothing was created through it");
        snprintf(target, sizeof target, "%s/victim", root);
        ok(!is_hugetlbfs(target), "the link's target is not a hugetlbfs");
        unmount_below(root);
        vmm_ctx_free(ctx);
        fake_root_free(root);
}

/* The line of /proc/self/mountinfo for a mount point, from its mount ID on. */
static bool mountinfo_line(const char *path, char *out, size_t len)
{
        FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096], point[4096];
        bool found = false;
        while (f && fgets(line, sizeof line, f))
                if (sscanf(line, "%*s %*s %*s %*s %4095s", point) == 1 && strcmp(point, path) == 0) {
                        snprintf(out, len, "%s", line);
                        found = true;   /* the last one is on top */
                }
        if (f)
                fclose(f);
        return found;
}

/* A real hugetlbfs, by fd, on this kernel: root only, in the test's own mount
 * namespace (see main), under a temp dir, unmounted again. */
static void test_mount_real(bool private_ns)
{
        if (!private_ns || access("/sys/kernel/mm/hugepages/hugepages-2048kB", F_OK) < 0) {
                ok(1, "# SKIP real mounts need root, a private mount namespace and 2048kB hugepages");
                return;
        }
        const char *preload = getenv("LD_PRELOAD");
        if (preload && strstr(preload, "vgpreload")) {
                /* valgrind 3.19 mishandles the new mount API's calls (openat2, fsconfig). */
                ok(1, "# SKIP real mounts are not run under valgrind (it does not know the new mount API)");
                return;
        }
        char *root = fake_root_new();
        vmm_ctx *ctx = fake_ctx(root, 4096);
        char path[4096], info[4096];
        struct vmm_mount_opts opts = { .size_bytes = 4 << 20, .mode = 0770, .uid = -1, .gid = 65534 };

        int r = vmm_hugetlbfs_mount(ctx, "/mnt/hp-2M", 2048, &opts);
        is_int(r, 0, "mount: a real hugetlbfs at a missing path (%s)", r < 0 ? strerror(-r) : "ok");
        snprintf(path, sizeof path, "%s/mnt/hp-2M", root);
        ok(is_hugetlbfs(path), "it is a hugetlbfs");
        ok(mountinfo_line(path, info, sizeof info), "it is in the mount table");
        printf("# %s%s", info, strchr(info, '\n') ? "" : "\n");
        ok(strstr(info, " nosuid") || strstr(info, ",nosuid"), "nosuid");
        ok(strstr(info, "nodev"), "nodev");
        ok(strstr(info, " - hugetlbfs hugetlbfs "), "type hugetlbfs, source hugetlbfs");
        ok(strstr(info, "pagesize=2M"), "pagesize=2M");
        ok(strstr(info, "size=4194304") || strstr(info, "size=4M"), "size= 4 MiB");
        ok(strstr(info, "mode=770"), "mode=770");
        ok(strstr(info, "gid=65534"), "gid=65534");
        struct stat st;
        ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0770, "the mount's root has mode 0770");

        /* Its root is empty: a second mount on it would stack; the caller looks
         * for it in /proc/mounts first. A file in it makes it not empty. */
        snprintf(info, sizeof info, "%s/mnt/hp-2M/file", root);
        int fd = open(info, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0)
                close(fd);
        is_int(vmm_hugetlbfs_mount(ctx, "/mnt/hp-2M", 2048, NULL), -ENOTEMPTY,
               "mount: over a hugetlbfs with a file in it is -ENOTEMPTY");
        unlink(info);
        is_int(umount2(path, 0), 0, "unmounted");
        ok(!is_hugetlbfs(path), "nothing left mounted there");

        /* A link to an empty directory: mount(2) on the path mounted on the
         * target; by fd after RESOLVE_NO_SYMLINKS nothing is mounted. */
        fake_dir(root, "/victim");
        snprintf(path, sizeof path, "%s/victim", root);
        fake_symlink(root, "/hp", path);
        is_int(vmm_hugetlbfs_mount(ctx, "/hp", 2048, &opts), -ELOOP, "mount as root: a symlink is still -ELOOP");
        ok(!is_hugetlbfs(path), "the symlink's target was not mounted on");
        unmount_below(root);
        vmm_ctx_free(ctx);
        fake_root_free(root);
}

int main(void)
{
        /* As root, a mount point the library should refuse would really be
         * mounted on: in a mount namespace of the test's own, nothing can
         * leak to the machine, even if the test dies. */
        bool private_ns = geteuid() == 0 && unshare(CLONE_NEWNS) == 0 &&
                          mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == 0;   /* (names ignored) */
        if (geteuid() == 0 && !private_ns) {
                printf("Bail out! root without a private mount namespace: %s\n", strerror(errno));
                return 1;
        }
        test_mounts();
        test_shm();
        test_memtotal();
        test_mounts_watch();
        test_mount_point_checks();
        test_mount_real(private_ns);
        return tap_done();
}
