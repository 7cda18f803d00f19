/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

int write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

/* The temp file, written and synced; its fd is closed either way. */
static int write_temp(int fd, const void *data, size_t len, mode_t mode)
{
        int r = 0;
        if (fchmod(fd, mode) < 0)
                r = -errno;
        else if ((r = write_all(fd, data, len)) == 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        return r;
}

int atomic_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
        const char *slash = strrchr(path, '/');
        const char *base = slash ? slash + 1 : path;
        char *dir = NULL, *tmp = NULL;
        int r;

        if (!*base)
                return -EISDIR;
        if (!slash)
                dir = strdup(".");
        else if (slash == path)
                dir = strdup("/");
        else
                dir = strndup(path, (size_t)(slash - path));
        if (!dir || asprintf(&tmp, "%s/.%s.XXXXXX", dir, base) < 0) {
                free(dir);
                return -ENOMEM;
        }
        int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                goto out;
        }
        if ((r = write_temp(fd, data, len, mode)) < 0 || (rename(tmp, path) < 0 && (r = -errno) < 0)) {
                unlink(tmp);
                goto out;
        }
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) < 0)
                log_warning("%s is written, but syncing its directory failed (%s): a crash may bring back the old one",
                            path, strerror(errno));
        if (dfd >= 0)
                close(dfd);
        r = 0;
out:
        free(tmp);
        free(dir);
        return r;
}

static const char *file_kind(mode_t mode)
{
        switch (mode & S_IFMT) {
        case S_IFDIR:  return "a directory";
        case S_IFIFO:  return "a FIFO";
        case S_IFSOCK: return "a socket";
        case S_IFCHR:  return "a character device";
        case S_IFBLK:  return "a block device";
        case S_IFLNK:  return "a symbolic link";
        default:       return "not a regular file";
        }
}

/* Read until EOF or max + 1 bytes (one more tells a file that grew too large). */
static ssize_t read_bounded(int fd, char *buf, size_t max)
{
        size_t len = 0;
        while (len <= max) {
                ssize_t n = read(fd, buf + len, max + 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        return (ssize_t)len;
}

int read_regular_file(const char *path, int extra_flags, size_t max, char **ret_text, size_t *ret_len,
                      struct stat *ret_st, char *why, size_t why_len)
{
        struct stat st;
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | extra_flags);
        if (fd < 0) {
                int r = -errno;
                /* A socket (ENXIO), a symlink under O_NOFOLLOW (ELOOP): say what it is. */
                int k = extra_flags & O_NOFOLLOW ? lstat(path, &st) : stat(path, &st);
                if (r != -ENOENT && k == 0 && !S_ISREG(st.st_mode)) {
                        snprintf(why, why_len, "is %s, not a regular file", file_kind(st.st_mode));
                        return -EBADMSG;
                }
                snprintf(why, why_len, "%s", strerror(-r));
                return r;
        }
        int r = 0;
        char *text = NULL;
        ssize_t n = 0;
        if (fstat(fd, &st) < 0) {
                r = -errno;
                snprintf(why, why_len, "%s", strerror(-r));
        } else if (!S_ISREG(st.st_mode)) {
                snprintf(why, why_len, "is %s, not a regular file", file_kind(st.st_mode));
                r = -EBADMSG;
        } else if ((uint64_t)st.st_size > max) {
                snprintf(why, why_len, "larger than %zu bytes", max);
                r = -EBADMSG;
        } else if (!(text = malloc(max + 2))) {
                snprintf(why, why_len, "%s", strerror(ENOMEM));
                r = -ENOMEM;
        } else if ((n = read_bounded(fd, text, max)) < 0) {
                r = (int)n;
                snprintf(why, why_len, "%s", strerror(-r));
        } else if ((size_t)n > max) {
                snprintf(why, why_len, "larger than %zu bytes", max);
                r = -EBADMSG;
        }
        close(fd);
        if (r < 0) {
                free(text);
                return r;
        }
        text[n] = '\0';
        *ret_text = text;
        *ret_len = (size_t)n;
        if (ret_st)
                *ret_st = st;
        return 0;
}
