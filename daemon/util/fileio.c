/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
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
