/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fake kernel (tests/fakekernel/fakekernel) from C tests and fuzz
 * harnesses, as fakekernel.sh is from shell: start one on a mount point
 * (returns once it serves), send control commands, read its model, stop it.
 *
 * The fake runs in the foreground as a child of the caller with
 * PR_SET_PDEATHSIG: when the caller dies (a crash, a libFuzzer _Exit, a
 * "Bail out!" exit) it gets SIGTERM and unmounts, so no mount outlives a test.
 * fk_stop() (or the atexit handler fk_start() registers) kills it and waits
 * for the unmount.
 *
 * The program: fk_start's bin, else $FAKEKERNEL, else
 * $top_builddir/tests/fakekernel/fakekernel (make check exports top_builddir),
 * else FK_FAKEKERNEL if the build defines it.
 */
#ifndef HUGEVM_FK_H
#define HUGEVM_FK_H

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>

struct fk {
        char mnt[PATH_MAX];
        char pidfile[PATH_MAX + 8];
        pid_t pid;      /* the serving process; 0 when stopped */
};

/* The program fk_start(bin NULL) would run. */
const char *fk_program(void);
/* Why the fake kernel cannot run here (a static string), or NULL: built,
 * /dev/fuse, fusermount3, root. bin: as fk_start's. */
const char *fk_unusable(const char *bin);
/* fk_unusable() says it cannot run, but this machine could run it
 * (root and /dev/fuse): under CI=true that is a failure, not a skip. */
int fk_ci_must_run(void);

/* Mount a fake kernel on mnt (made if missing; absolute or not) with the
 * settings "KEY=VALUE" (NULL-terminated list, NULL for none), and return once
 * it serves. 0, or -errno with a message in err. */
int fk_start(struct fk *fk, const char *bin, const char *mnt, const char *const *settings, char *err, size_t errlen);
/* One control command (printf format, no newline); 0 or -errno (the fake's
 * reason in err if err is not NULL). */
int fk_ctl(const struct fk *fk, char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* One value of MNT/.fake/state ("2048kB.node0.nr"); 0 or -errno. */
int fk_state(const struct fk *fk, const char *key, char *buf, size_t len);
/* The same as a number; 0 or -errno (-EINVAL: not a number). */
int fk_state_u64(const struct fk *fk, const char *key, uint64_t *v);
/* Write text to MNT/rel (a kernel file: one write(2), as echo does); 0 or -errno. */
int fk_write(const struct fk *fk, const char *rel, const char *text);
/* SIGTERM, wait for the process and the unmount (fusermount3 -u -z if it is
 * still mounted). 0, or -errno when the mount is still there. */
int fk_stop(struct fk *fk);

#endif
