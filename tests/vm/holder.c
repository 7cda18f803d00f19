/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * holder: map and touch COUNT hugepages of SIZE_KB (MAP_HUGETLB, private,
 * anonymous), say so on stdout, then hold them until killed. The VM tier uses
 * it to keep pages in use while a pool is shrunk below them, so the kernel has
 * to turn the excess into surplus pages.
 *
 *   holder SIZE_KB COUNT
 *
 * Built with gcc -static so it runs in the busybox initramfs without libc.
 * Exits 1 with a message naming what failed if the pages cannot be had.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif

static int parse_u64(const char *s, uint64_t *ret)
{
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
                return -EINVAL;
        *ret = v;
        return 0;
}

int main(int argc, char **argv)
{
        uint64_t size_kb, count, size_bytes;
        int size_log2 = 0;
        unsigned char *map;

        if (argc != 3 || parse_u64(argv[1], &size_kb) < 0 || parse_u64(argv[2], &count) < 0 ||
            size_kb == 0 || (size_kb & (size_kb - 1)) != 0 || count == 0) {
                fprintf(stderr, "usage: holder SIZE_KB COUNT (SIZE_KB a power of two, COUNT > 0)\n");
                return 2;
        }
        size_bytes = size_kb * 1024;
        while ((UINT64_C(1) << size_log2) < size_bytes)
                size_log2++;

        /* The page size goes in the flags, so a non-default hstate can be asked for. */
        map = mmap(NULL, size_bytes * count, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE |
                   (size_log2 << MAP_HUGE_SHIFT), -1, 0);
        if (map == MAP_FAILED) {
                fprintf(stderr, "holder: mmap of %" PRIu64 " x %" PRIu64 "kB hugepages: %s\n",
                        count, size_kb, strerror(errno));
                return 1;
        }
        /* MAP_POPULATE may stop early without telling; touching every page makes
         * sure each one is really allocated (or SIGBUS says it is not). */
        for (uint64_t i = 0; i < count; i++)
                map[i * size_bytes] = 1;

        printf("holding %" PRIu64 " x %" PRIu64 "kB\n", count, size_kb);
        fflush(stdout);
        for (;;)
                pause();
}
