/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one place that opens, reads, writes and parses /sys and /proc files. */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

int vmmi_path(const vmm_ctx *ctx, char buf[static PATH_MAX], const char *fmt, ...)
{
        size_t n = strlen(ctx->prefix);
        va_list ap;
        int r;

        if (n >= PATH_MAX)
                return -ENAMETOOLONG;
        memcpy(buf, ctx->prefix, n);
        va_start(ap, fmt);
        r = vsnprintf(buf + n, PATH_MAX - n, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -EINVAL;
        if ((size_t)r >= PATH_MAX - n)
                return -ENAMETOOLONG;
        return 0;
}

ssize_t vmmi_read_file(const char *path, char *buf, size_t size)
{
        size_t len = 0;
        int fd, r = 0;

        if (size < 2)
                return -EINVAL;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        /* Read until EOF; one byte more than fits tells "too long" apart from
         * "exactly full". */
        for (;;) {
                char probe;
                char *dst = len < size - 1 ? buf + len : &probe;
                size_t want = len < size - 1 ? size - 1 - len : 1;
                ssize_t k = read(fd, dst, want);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                if (k == 0)
                        break;
                if (dst == &probe) {
                        r = -EBADMSG;
                        break;
                }
                len += (size_t)k;
        }
        close(fd);
        if (r < 0)
                return r;
        /* Kernel text files never hold a NUL; one would cut the string short. */
        if (memchr(buf, '\0', len))
                return -EBADMSG;
        if (len > 0 && buf[len - 1] == '\n')
                len--;
        buf[len] = '\0';
        return (ssize_t)len;
}

int vmmi_write_file(const char *path, const char *text)
{
        size_t len = strlen(text);
        ssize_t k;
        int fd, r = 0;

        /* No O_CREAT: these files belong to the kernel; a missing one is an error.
         * O_TRUNC as `echo >` does: sysfs and procfs ignore it, and on a fake
         * tree of regular files "4" written over "20" must read back "4". */
        fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        do
                k = write(fd, text, len);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                r = -errno;
        else if ((size_t)k != len)
                r = -EIO;
        /* Some filesystems report errors only at close; the first error wins. */
        if (close(fd) < 0 && r == 0 && errno != EINTR)
                r = -errno;
        return r;
}

static int digit_value(char c, unsigned base)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (base == 16 && c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (base == 16 && c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static int parse_u64(const char *text, unsigned base, uint64_t *ret)
{
        uint64_t v = 0;
        bool overflow = false;

        if (!text || !ret || !*text)
                return -EINVAL;
        for (const char *p = text; *p; p++) {
                int d = digit_value(*p, base);

                if (d < 0)
                        return -EINVAL;
                /* Keep scanning after an overflow: trailing garbage is -EINVAL. */
                if (__builtin_mul_overflow(v, base, &v) || __builtin_add_overflow(v, (uint64_t)d, &v))
                        overflow = true;
        }
        if (overflow)
                return -ERANGE;
        *ret = v;
        return 0;
}

int vmmi_parse_u64_dec(const char *text, uint64_t *ret)
{
        return parse_u64(text, 10, ret);
}

int vmmi_parse_u64_hex(const char *text, uint64_t *ret)
{
        return parse_u64(text, 16, ret);
}

static int read_number(const char *path, unsigned base, uint64_t *ret)
{
        char buf[VMMI_NUMBER_FILE_MAX];
        ssize_t n = vmmi_read_file(path, buf, sizeof(buf));
        int r;

        if (n < 0)
                return (int)n;
        r = parse_u64(buf, base, ret);
        /* Text the kernel would never write in a number file is a bad message,
         * not an invalid argument from our caller. */
        return r == -EINVAL ? -EBADMSG : r;
}

int vmmi_read_u64(const char *path, uint64_t *ret)
{
        return read_number(path, 10, ret);
}

int vmmi_read_u64_hex(const char *path, uint64_t *ret)
{
        return read_number(path, 16, ret);
}

int vmmi_write_u64(const char *path, uint64_t value)
{
        char text[32];

        snprintf(text, sizeof(text), "%" PRIu64, value);
        return vmmi_write_file(path, text);
}
