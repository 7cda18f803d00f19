/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hugetlbfs mounts from /proc/mounts and the SysV shm sysctls, on fake trees:
 * escapes, default page size, hostile lines; shm limits raised, never lowered. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
        test_mounts();
        test_shm();
        return tap_done();
}
