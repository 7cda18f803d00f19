/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An LD_PRELOAD shim that makes file I/O fail on chosen paths, switchable while
 * the process runs. It interposes on libc's open/openat/read/write/close (as
 * libvmemmap calls them), so the code under test is the real code.
 *
 * Control: HUGEVM_FAULT_FILE names a file re-read at every open(). Each line:
 *     OP GLOB ACTION
 *   OP      open | read | write
 *   GLOB    fnmatch(3) pattern for the path as passed to open ("*" matches '/')
 *   ACTION  an errno name (EACCES EINVAL ENOMEM EROFS EIO ENOENT ENOSPC EBUSY
 *           EPERM ENODEV), or for read: "garbage" (the read returns junk text)
 * An empty or missing file means no faults. '#' starts a comment line.
 * The file's own path is never faulted.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_FD 65536
enum { F_NONE = 0, F_READ_ERR = 1, F_READ_GARBAGE = 2, F_WRITE_ERR = 4, F_GARBAGE_DONE = 8 };

/* Per fd: which faults its open() armed, and the errno to use. Plain bytes:
 * an fd is used by one thread at a time in the code under test. */
static unsigned char fd_flags[MAX_FD];
static unsigned char fd_read_errno[MAX_FD], fd_write_errno[MAX_FD];

static const struct { const char *name; int value; } errnos[] = {
        { "EACCES", EACCES }, { "EINVAL", EINVAL }, { "ENOMEM", ENOMEM }, { "EROFS", EROFS },
        { "EIO", EIO },       { "ENOENT", ENOENT }, { "ENOSPC", ENOSPC }, { "EBUSY", EBUSY },
        { "EPERM", EPERM },   { "ENODEV", ENODEV },
};

static int errno_by_name(const char *s)
{
        for (size_t i = 0; i < sizeof errnos / sizeof errnos[0]; i++)
                if (strcmp(errnos[i].name, s) == 0)
                        return errnos[i].value;
        return 0;
}

/* Raw syscalls for the control file, so the shim never recurses into itself. */
static ssize_t read_control(char *buf, size_t size)
{
        const char *path = getenv("HUGEVM_FAULT_FILE");
        if (!path || !*path)
                return 0;
        int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        size_t len = 0;
        while (len < size - 1) {
                ssize_t k = syscall(SYS_read, fd, buf + len, size - 1 - len);
                if (k <= 0)
                        break;
                len += (size_t)k;
        }
        syscall(SYS_close, fd);
        buf[len] = '\0';
        return (ssize_t)len;
}

/* Which faults apply to path: F_* bits, errnos in the out-parameters. */
static unsigned faults_for(const char *path, int *open_err, int *read_err, int *write_err)
{
        char buf[4096];
        unsigned flags = F_NONE;
        *open_err = *read_err = *write_err = 0;
        if (!path || read_control(buf, sizeof buf) <= 0)
                return flags;
        char *save = NULL;
        for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char op[16], glob[1024], action[32];
                if (line[0] == '#' || sscanf(line, "%15s %1023s %31s", op, glob, action) != 3)
                        continue;
                if (fnmatch(glob, path, 0) != 0)
                        continue;
                int e = errno_by_name(action);
                if (strcmp(op, "open") == 0 && e)
                        *open_err = e;
                else if (strcmp(op, "read") == 0 && strcmp(action, "garbage") == 0)
                        flags |= F_READ_GARBAGE;
                else if (strcmp(op, "read") == 0 && e) {
                        flags |= F_READ_ERR;
                        *read_err = e;
                } else if (strcmp(op, "write") == 0 && e) {
                        flags |= F_WRITE_ERR;
                        *write_err = e;
                }
        }
        return flags;
}

/* Decide at open time: -errno to fail the open, else 0 and arm the fd later. */
static int open_check(const char *path, unsigned *flags, int *rerr, int *werr)
{
        int oerr;
        *flags = faults_for(path, &oerr, rerr, werr);
        return oerr ? -oerr : 0;
}

static int arm(int fd, unsigned flags, int rerr, int werr)
{
        if (fd >= 0 && fd < MAX_FD) {
                fd_flags[fd] = (unsigned char)flags;
                fd_read_errno[fd] = (unsigned char)rerr;
                fd_write_errno[fd] = (unsigned char)werr;
        }
        return fd;
}

/* The next definition of name (libc's), looked up once. */
#define REAL(name) \
        static __typeof__(&name) real_##name; \
        if (!real_##name) \
                real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

static mode_t mode_arg(int flags, va_list ap)
{
        return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

#define DEFINE_OPEN(fname) \
        int fname(const char *path, int flags, ...) \
        { \
                REAL(fname); \
                va_list ap; \
                va_start(ap, flags); \
                mode_t mode = mode_arg(flags, ap); \
                va_end(ap); \
                unsigned f; \
                int rerr, werr, r = open_check(path, &f, &rerr, &werr); \
                if (r < 0) { \
                        errno = -r; \
                        return -1; \
                } \
                if (f & F_WRITE_ERR) \
                        flags &= ~O_TRUNC;  /* a failing sysfs write leaves the value */ \
                return arm(real_##fname(path, flags, mode), f, rerr, werr); \
        }
DEFINE_OPEN(open)
DEFINE_OPEN(open64)

#define DEFINE_OPENAT(fname) \
        int fname(int dirfd, const char *path, int flags, ...) \
        { \
                REAL(fname); \
                va_list ap; \
                va_start(ap, flags); \
                mode_t mode = mode_arg(flags, ap); \
                va_end(ap); \
                unsigned f; \
                int rerr, werr, r = open_check(path, &f, &rerr, &werr); \
                if (r < 0) { \
                        errno = -r; \
                        return -1; \
                } \
                if (f & F_WRITE_ERR) \
                        flags &= ~O_TRUNC; \
                return arm(real_##fname(dirfd, path, flags, mode), f, rerr, werr); \
        }
DEFINE_OPENAT(openat)
DEFINE_OPENAT(openat64)

/* _FORTIFY_SOURCE builds call these instead of open() and read(). */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
int __open_2(const char *path, int flags) { return open(path, flags); }
int __open64_2(const char *path, int flags) { return open64(path, flags); }

static const char garbage[] = "\x01garbage \xff\xfe{]not-a-number -17e9\n";

static ssize_t faulted_read(int fd, void *buf, size_t n, bool *handled)
{
        *handled = false;
        if (fd < 0 || fd >= MAX_FD || !fd_flags[fd])
                return 0;
        if (fd_flags[fd] & F_READ_ERR) {
                *handled = true;
                errno = fd_read_errno[fd];
                return -1;
        }
        if (fd_flags[fd] & F_READ_GARBAGE) {
                *handled = true;
                if (fd_flags[fd] & F_GARBAGE_DONE)
                        return 0;  /* EOF after the junk */
                fd_flags[fd] |= F_GARBAGE_DONE;
                size_t k = n < sizeof garbage - 1 ? n : sizeof garbage - 1;
                memcpy(buf, garbage, k);
                return (ssize_t)k;
        }
        return 0;
}

ssize_t read(int fd, void *buf, size_t n)
{
        REAL(read);
        bool handled;
        ssize_t r = faulted_read(fd, buf, n, &handled);
        return handled ? r : real_read(fd, buf, n);
}

ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
        (void)buflen;
        return read(fd, buf, n);
}

ssize_t write(int fd, const void *buf, size_t n)
{
        REAL(write);
        if (fd >= 0 && fd < MAX_FD && (fd_flags[fd] & F_WRITE_ERR)) {
                errno = fd_write_errno[fd];
                return -1;
        }
        return real_write(fd, buf, n);
}

int close(int fd)
{
        REAL(close);
        if (fd >= 0 && fd < MAX_FD)
                fd_flags[fd] = 0;
        return real_close(fd);
}
