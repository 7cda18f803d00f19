/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fragment NODE KEEP LOCK RESERVE_MB: fragment one NUMA node's free memory,
 * reproducibly, for the fragmentation benchmark (tests/vm/frag.sh).
 *
 * Fills the node's free memory but RESERVE_MB with anonymous 4 KiB pages
 * (bound to the node, no THP), then gives back every page except those whose
 * physical frame number is a multiple of KEEP (/proc/self/pagemap): KEEP=512
 * keeps exactly one 4 KiB page at the start of each 2 MiB block it filled, so
 * no filled block is free as a whole and only compaction can make it so.
 * LOCK=1 mlocks the kept pages: unevictable, which compaction moves only with
 * vm.compact_unevictable_allowed=1. Prints one "fragmented ..." line, then
 * holds the pages until killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#define MPOL_BIND 2
#define PAGE 4096UL

static void die(const char *what)
{
        fprintf(stderr, "fragment: %s: %s\n", what, strerror(errno));
        exit(1);
}

/* "Node N MemFree: X kB" of the node's meminfo, in bytes. */
static uint64_t node_free(int node)
{
        char path[96], line[256];
        unsigned long long kb = 0;
        snprintf(path, sizeof path, "/sys/devices/system/node/node%d/meminfo", node);
        FILE *f = fopen(path, "re");
        if (!f)
                die(path);
        while (fgets(line, sizeof line, f))
                if (strstr(line, " MemFree:") && sscanf(strstr(line, "MemFree:"), "MemFree: %llu", &kb) == 1)
                        break;
        fclose(f);
        return (uint64_t)kb * 1024;
}

int main(int argc, char **argv)
{
        if (argc != 5) {
                fprintf(stderr, "usage: fragment NODE KEEP LOCK RESERVE_MB\n");
                return 2;
        }
        int node = atoi(argv[1]), lock = atoi(argv[3]);
        unsigned long keep = strtoul(argv[2], NULL, 10);
        uint64_t reserve = strtoull(argv[4], NULL, 10) << 20;
        if (node < 0 || node >= 64 || keep == 0)
                return 2;

        unsigned long mask = 1UL << node;
        if (syscall(SYS_set_mempolicy, MPOL_BIND, &mask, sizeof mask * 8) < 0)
                die("set_mempolicy");
        uint64_t free_now = node_free(node);
        if (free_now <= reserve) {
                fprintf(stderr, "fragment: node %d has %" PRIu64 " MiB free, not more than the reserve\n", node,
                        free_now >> 20);
                return 1;
        }
        size_t len = (free_now - reserve) & ~(PAGE - 1), npages = len / PAGE;
        char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED)
                die("mmap");
        if (madvise(mem, len, MADV_NOHUGEPAGE) < 0)
                die("madvise(MADV_NOHUGEPAGE)");
        if (madvise(mem, len, MADV_POPULATE_WRITE) < 0)
                die("madvise(MADV_POPULATE_WRITE)");

        int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
        if (pm < 0)
                die("/proc/self/pagemap");
        enum { CHUNK = 4096 };
        static uint64_t ent[CHUNK];
        size_t kept = 0, run_start = 0;
        bool in_run = false;
        for (size_t base = 0; base < npages; base += CHUNK) {
                size_t n = npages - base < CHUNK ? npages - base : CHUNK;
                off_t off = (off_t)(((uintptr_t)mem / PAGE + base) * sizeof(uint64_t));
                if (pread(pm, ent, n * sizeof(uint64_t), off) != (ssize_t)(n * sizeof(uint64_t)))
                        die("pread(pagemap)");
                for (size_t i = 0; i < n; i++) {
                        uint64_t pfn = ent[i] & ((1ULL << 55) - 1);
                        bool present = ent[i] >> 63;
                        if (present && pfn == 0) {
                                fprintf(stderr, "fragment: pagemap shows no frame numbers (not root?)\n");
                                return 1;
                        }
                        bool keep_it = present && pfn % keep == 0;
                        size_t idx = base + i;
                        if (keep_it) {
                                if (in_run && madvise(mem + run_start * PAGE, (idx - run_start) * PAGE, MADV_DONTNEED) < 0)
                                        die("madvise(MADV_DONTNEED)");
                                in_run = false;
                                if (lock && mlock(mem + idx * PAGE, PAGE) < 0)
                                        die("mlock");
                                kept++;
                        } else if (!in_run) {
                                in_run = true;
                                run_start = idx;
                        }
                }
        }
        if (in_run && madvise(mem + run_start * PAGE, (npages - run_start) * PAGE, MADV_DONTNEED) < 0)
                die("madvise(MADV_DONTNEED)");
        close(pm);
        printf("fragmented node %d: filled %zu MiB, kept %zu pages (every frame number divisible by %lu%s), free %" PRIu64
               " MiB\n",
               node, len >> 20, kept, keep, lock ? ", mlocked" : "", node_free(node) >> 20);
        fflush(stdout);
        for (;;)
                pause();
}
