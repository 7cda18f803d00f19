/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hugetlbfs mounts from /proc/mounts and the SysV shm sysctls, on fake trees:
 * escapes, default page size, hostile lines; shm limits raised, never lowered.
 * MemTotal from /proc/meminfo; the mount table's watch fd. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
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

int main(void)
{
        test_mounts();
        test_shm();
        test_memtotal();
        test_mounts_watch();
        return tap_done();
}
