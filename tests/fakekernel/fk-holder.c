/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fk-holder: an application holding hugepages, for tests on the real kernel
 * (tests/kernel/fake-vs-real.sh plays the same part on the fake kernel with
 * `hold` and `release` control commands).
 *
 *   fk-holder [-n] SIZE_KB MAP TOUCH
 *
 * memfd_create(MFD_HUGETLB) of MAP pages of SIZE_KB, mmap(MAP_SHARED) of all
 * of them (the kernel reserves MAP pages: resv_hugepages, surplus pages if the
 * pool is short and overcommit allows), then the first TOUCH pages touched in
 * address order (each fault consumes one reservation). -n: fallocate the
 * TOUCH pages instead, with no mapping and so no reservation (as
 * MAP_NORESERVE: free pages first, then surplus pages one by one).
 * Prints "ready" once done and holds everything until killed; the pages go
 * back in address order when the process exits.
 * Exit 1 with a message if the mapping or a page cannot be had.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#ifndef MFD_HUGE_SHIFT
#define MFD_HUGE_SHIFT 26
#endif

static int parse(const char *s, uint64_t *v)
{
        char *end;

        errno = 0;
        *v = strtoull(s, &end, 10);
        return errno || end == s || *end || s[0] == '-' ? -1 : 0;
}

int main(int argc, char **argv)
{
        uint64_t kb, map, touch, bytes;
        bool noreserve = false;
        unsigned shift = 0;
        int fd, a = 1;

        if (argc > 1 && strcmp(argv[1], "-n") == 0) {
                noreserve = true;
                a++;
        }
        if (argc - a != 3 || parse(argv[a], &kb) < 0 || parse(argv[a + 1], &map) < 0 || parse(argv[a + 2], &touch) < 0 ||
            kb == 0 || (kb & (kb - 1)) || touch > map) {
                fprintf(stderr, "usage: fk-holder [-n] SIZE_KB MAP TOUCH (TOUCH <= MAP)\n");
                return 2;
        }
        bytes = kb * 1024;
        while ((UINT64_C(1) << shift) < bytes)
                shift++;
        fd = memfd_create("fk-holder", MFD_HUGETLB | (shift << MFD_HUGE_SHIFT));
        if (fd < 0 || ftruncate(fd, (off_t)(bytes * map)) < 0) {
                fprintf(stderr, "fk-holder: memfd of %" PRIu64 " x %" PRIu64 "kB: %s\n", map, kb, strerror(errno));
                return 1;
        }
        if (noreserve) {
                int r = touch ? posix_fallocate(fd, 0, (off_t)(bytes * touch)) : 0;
                if (r) {
                        fprintf(stderr, "fk-holder: fallocate %" PRIu64 " pages: %s\n", touch, strerror(r));
                        return 1;
                }
        } else if (map) {
                volatile unsigned char *p = mmap(NULL, bytes * map, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
                if (p == MAP_FAILED) {
                        fprintf(stderr, "fk-holder: mmap %" PRIu64 " pages: %s\n", map, strerror(errno));
                        return 1;
                }
                for (uint64_t i = 0; i < touch; i++)
                        p[i * bytes] = 1;
        }
        printf("ready\n");
        fflush(stdout);
        for (;;)
                pause();
}
