/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Runtime targets (set through pool.set with persist) kept in
 * <StateDirectory>/state.json, written atomically: temp file, fsync, rename,
 * fsync of the directory. A missing file is normal; one that is refused
 * (corrupt, partial, not a regular file, not trusted, a target out of
 * bounds) is reported by the caller, ignored and kept aside
 * (state_keep_aside), never overwritten.
 */
#ifndef HUGEVMD_STATE_H
#define HUGEVMD_STATE_H

#include <stddef.h>

#include "conf.h"

#define STATE_FILE_NAME "state.json"

/* Creates dir (0755) if missing. */
int state_save(const char *dir, const struct target *targets, size_t n);

/* -ENOENT: no state file. -EBADMSG: refused, reason in err: unreadable
 * content; not a regular file (a symlink, a FIFO, a directory: it is opened
 * O_NOFOLLOW|O_NONBLOCK); larger than 64 KiB; not trusted (owned by another
 * uid than the daemon's euid, or writable by group or others: whoever can
 * write it could set the targets). Targets for sizes or nodes that make no
 * sense (beyond HUGEVMD_MAX_*) are refused too. Other negative errno: I/O
 * error (reason in err). Bounds against the machine (target_check_bound) are
 * the caller's. */
int state_load(const char *dir, struct target *targets, size_t max, size_t *ret_n, char *err, size_t err_len);

/* Rename a refused state file to state.json.corrupt-<UTC YYYYmmddTHHMMSSZ>
 * (-2, -3... if taken; never over an earlier one), so that the next save
 * cannot overwrite it and its targets stay for the operator to look at. The
 * new name (without dir) in ret_name. Negative errno. Call only while no
 * other hugevmd can use dir (the socket is ours). */
int state_keep_aside(const char *dir, char *ret_name, size_t name_len);

/* Remove temp files of saves interrupted by a crash (call at start, when no
 * other hugevmd can be saving: the socket is ours). */
void state_cleanup(const char *dir);

#endif
