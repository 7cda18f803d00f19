/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Runtime targets (set through pool.set with persist) kept in
 * <StateDirectory>/state.json, written atomically: temp file, fsync, rename,
 * fsync of the directory. A missing file is normal; a corrupt or partial one
 * is reported by the caller and ignored.
 */
#ifndef HUGEVMD_STATE_H
#define HUGEVMD_STATE_H

#include <stddef.h>

#include "conf.h"

#define STATE_FILE_NAME "state.json"

/* Creates dir (0755) if missing. */
int state_save(const char *dir, const struct target *targets, size_t n);

/* -ENOENT: no state file. -EBADMSG: unreadable content, reason in err.
 * Other negative errno: I/O error. Targets for sizes or nodes that make no
 * sense (beyond HUGEVMD_MAX_*) are refused as -EBADMSG too. */
int state_load(const char *dir, struct target *targets, size_t max, size_t *ret_n, char *err, size_t err_len);

/* Remove temp files of saves interrupted by a crash (call at start, when no
 * other hugevmd can be saving: the socket is ours). */
void state_cleanup(const char *dir);

#endif
