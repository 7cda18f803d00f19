/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hugevmctl verify SIZE: prove in this process, without the daemon, that the
 * pool of one hugepage size hands out pages that work and are what they claim.
 */
#ifndef HUGEVMCTL_VERIFY_H
#define HUGEVMCTL_VERIFY_H

#include <stdbool.h>

/* Map one hugepage of size_text ("2M", "2048kB", "1G") from an unlinked file on
 * a hugetlbfs mount, touch it, and check its page frame in /proc/kpageflags.
 * Prints the outcome (a line, or a JSON object with json) on stdout and every
 * failure on stderr. Returns hugevmctl's exit code: 0 verified, 1 not (the
 * reason is printed), 2 size_text is not a size. */
int verify_run(const char *size_text, bool json);

#endif
