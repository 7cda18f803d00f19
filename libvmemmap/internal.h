/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvmemmap internals shared by its .c files. Not installed, not exported:
 * the library is built with -fvisibility=hidden and only VMM_PUBLIC symbols
 * (vmm_*) leave it. Internal names use the vmmi_ prefix. */
#ifndef VMEMMAP_INTERNAL_H
#define VMEMMAP_INTERNAL_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vmemmap.h"

struct vmm_ctx {
        char *root;        /* as given ("/" when NULL or ""), for vmm_ctx_root() */
        char *prefix;      /* root without trailing '/', prepended to absolute paths */
        uint64_t page_size;
        uint64_t struct_page_size;
};

/* Fixed sysfs and procfs locations, relative to the context's root. */
#define VMMI_HUGEPAGES_DIR   "/sys/kernel/mm/hugepages"
#define VMMI_NODE_DIR        "/sys/devices/system/node"
#define VMMI_MEMORY_DIR      "/sys/devices/system/memory"
#define VMMI_HVO_SYSCTL      "/proc/sys/vm/hugetlb_optimize_vmemmap"
#define VMMI_COMPACT_SYSCTL  "/proc/sys/vm/compact_memory"
#define VMMI_OSRELEASE       "/proc/sys/kernel/osrelease"
#define VMMI_ARCH            "/proc/sys/kernel/arch"
#define VMMI_CMDLINE         "/proc/cmdline"
#define VMMI_VMSTAT          "/proc/vmstat"
#define VMMI_MOUNTS          "/proc/mounts"

/* Size of the buffer for one-number sysfs files: "18446744073709551615\n"
 * fits with room to spare; anything longer is not what the kernel writes. */
#define VMMI_NUMBER_FILE_MAX 64

/* Path building: root prefix + printf-formatted absolute path into buf
 * (PATH_MAX bytes). -ENAMETOOLONG when it does not fit. */
int vmmi_path(const vmm_ctx *ctx, char buf[static PATH_MAX], const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Read a whole (small) file into buf: O_CLOEXEC, EINTR retried, at most
 * size-1 bytes, NUL-terminated, one trailing newline removed. A file that does
 * not fit, or holds a NUL byte, gives -EBADMSG (no sysfs or procfs file we read
 * is that long or holds one).
 * Returns the length kept (>= 0) or a negative errno. */
ssize_t vmmi_read_file(const char *path, char *buf, size_t size);

/* Write text to an existing file with a single write(2), as sysfs and sysctl
 * files need. Returns 0 or the kernel's errno from open, write or close
 * (negative); a short write is -EIO. */
int vmmi_write_file(const char *path, const char *text);

/* Strict unsigned parsers: the whole string, at least one digit, no sign, no
 * spaces, no prefix. -EINVAL for anything else, -ERANGE on overflow. */
int vmmi_parse_u64_dec(const char *text, uint64_t *ret);
int vmmi_parse_u64_hex(const char *text, uint64_t *ret);

/* Read a file holding one decimal (or hex) number. Content that is not one
 * number (empty, text, too long) is -EBADMSG; overflow is -ERANGE. */
int vmmi_read_u64(const char *path, uint64_t *ret);
int vmmi_read_u64_hex(const char *path, uint64_t *ret);
/* Write one decimal number. */
int vmmi_write_u64(const char *path, uint64_t value);

/* Directory of an hstate: -ENOENT when the size does not exist, -EOPNOTSUPP
 * when the kernel has no hugetlb at all. */
int vmmi_hstate_dir(const vmm_ctx *ctx, uint64_t size_kb, char buf[static PATH_MAX]);

/* What a resize achieved, decided from the read-back alone (the kernel returns
 * success from a write that stopped short). Fewer pages than asked means the
 * growth stopped short; more pages than asked means pages still in use stayed
 * (as surplus) or an optimized page could not be restored. */
static inline int vmmi_resize_verdict(uint64_t requested, uint64_t reached)
{
        if (reached < requested)
                return -ENOMEM;
        if (reached > requested)
                return -EBUSY;
        return 0;
}

#endif
