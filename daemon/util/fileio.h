/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing files so that readers never see half of one. */
#ifndef HUGEVM_FILEIO_H
#define HUGEVM_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* write(2) until all of buf is written (EINTR retried). Negative errno. */
int write_all(int fd, const void *buf, size_t len);

/* Replace path with data atomically: a temp file ".<name>.XXXXXX" beside it
 * (same filesystem; hidden, and without the name's suffix, so globbing
 * readers such as node_exporter skip it), mode, fsync, rename, and the
 * directory fsynced so the rename survives a crash. On failure before the
 * rename nothing changed and the temp file is gone (negative errno). If only
 * the directory's fsync fails, path already holds data: that is logged, and
 * 0 returned, since every reader sees the new content from now on. */
int atomic_write_file(const char *path, const void *data, size_t len, mode_t mode);

struct stat;
/* Read a whole regular file of at most max bytes into *ret_text (malloc'ed,
 * NUL-terminated, *ret_len bytes; it may hold NUL bytes). Opened
 * O_RDONLY|O_NONBLOCK|O_NOCTTY|O_CLOEXEC plus extra_flags (O_NOFOLLOW where a
 * symlink is not to be trusted), so that a FIFO or a device cannot block the
 * caller, then fstat()ed (into *ret_st if not NULL). -EBADMSG with why saying
 * so ("is a FIFO, not a regular file", "larger than 65535 bytes") for
 * anything but a regular file that fits; another negative errno (why:
 * strerror) when it cannot be opened or read. */
int read_regular_file(const char *path, int extra_flags, size_t max, char **ret_text, size_t *ret_len,
                      struct stat *ret_st, char *why, size_t why_len);

#endif
