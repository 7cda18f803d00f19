/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The harnesses' scratch directory: a fresh directory under $FUZZ_TMPDIR
 * (run.sh sets it), else /dev/shm or /tmp, removed again when the fuzzer
 * exits. The removal stays on its file system: it never descends into a
 * mount beneath it (the daemon harnesses' fake kernel, should it still be
 * mounted). */
#ifndef HUGEVM_FUZZ_ROOT_H
#define HUGEVM_FUZZ_ROOT_H

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzz_root[PATH_MAX];

static int fuzz_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        remove(path);
        return 0;
}

static void fuzz_root_remove(void)
{
        if (fuzz_root[0])
                nftw(fuzz_root, fuzz_rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* Make the root (name: the fuzzer's) and return it; aborts on failure. */
static const char *fuzz_root_new(const char *name)
{
        const char *tmp = getenv("FUZZ_TMPDIR");

        if (!tmp)
                tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(fuzz_root, sizeof(fuzz_root), "%s/%s.XXXXXX", tmp, name);
        if (!mkdtemp(fuzz_root)) {
                perror(fuzz_root);
                abort();
        }
        atexit(fuzz_root_remove);
        return fuzz_root;
}

#endif
