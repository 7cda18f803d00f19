/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* HugeTLB Vmemmap Optimization: the kernel, the sysctl, the boot parameter and
 * the savings arithmetic (KERNEL.md). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* /proc/cmdline is at most a few KiB (COMMAND_LINE_SIZE); s390 allows more. */
#define CMDLINE_MAX (64 * 1024)

unsigned vmm_reserve_pages_for(unsigned major, unsigned minor)
{
        /* 5.18 started keeping only the head vmemmap page; before it kept two. */
        return (major > 5 || (major == 5 && minor >= 18)) ? 1 : 2;
}

/* "6.18.44-fc-v782" -> 6, 18. Both numbers must be there; what follows the
 * minor number (".patch", "-rc1", "+") is not ours to judge. */
static int parse_release(const char *release, unsigned *ret_major, unsigned *ret_minor)
{
        unsigned long major, minor;
        const char *p = release;
        char *end;

        if (*p < '0' || *p > '9')
                return -EBADMSG;
        errno = 0;
        major = strtoul(p, &end, 10);
        if (errno != 0 || *end != '.' || major > UINT_MAX)
                return -EBADMSG;
        p = end + 1;
        if (*p < '0' || *p > '9')
                return -EBADMSG;
        minor = strtoul(p, &end, 10);
        if (errno != 0 || minor > UINT_MAX || (*end >= '0' && *end <= '9'))
                return -EBADMSG;
        *ret_major = (unsigned)major;
        *ret_minor = (unsigned)minor;
        return 0;
}

int vmm_kernel_read(vmm_ctx *ctx, struct vmm_kernel *ret)
{
        struct vmm_kernel k = { 0 };
        char path[PATH_MAX];
        ssize_t n;
        int r;

        if (!ctx || !ret)
                return -EINVAL;
        r = vmmi_path(ctx, path, VMMI_OSRELEASE);
        if (r < 0)
                return r;
        n = vmmi_read_file(path, k.release, sizeof(k.release));
        if (n < 0)
                return (int)n;
        r = parse_release(k.release, &k.major, &k.minor);
        if (r < 0)
                return r;

        /* /proc/sys/kernel/arch appeared in 6.1; older kernels leave it "". */
        r = vmmi_path(ctx, path, VMMI_ARCH);
        if (r < 0)
                return r;
        n = vmmi_read_file(path, k.arch, sizeof(k.arch));
        if (n == -ENOENT)
                k.arch[0] = '\0';
        else if (n < 0)
                return (int)n;

        k.reserve_pages = vmm_reserve_pages_for(k.major, k.minor);
        k.page_size = ctx->page_size;
        k.struct_page_size = ctx->struct_page_size;
        *ret = k;
        return 0;
}

/* The kernel's kstrtobool(), which parses hugetlb_free_vmemmap= since 5.19
 * (5.14-5.18 took "on"/"off" only; both mean the same here). */
static int kstrtobool(const char *s, bool *res)
{
        switch (s[0]) {
        case 'e': case 'E': case 'y': case 'Y': case 't': case 'T': case '1':
                *res = true;
                return 0;
        case 'd': case 'D': case 'n': case 'N': case 'f': case 'F': case '0':
                *res = false;
                return 0;
        case 'o': case 'O':
                if (s[1] == 'n' || s[1] == 'N') {
                        *res = true;
                        return 0;
                }
                if (s[1] == 'f' || s[1] == 'F') {
                        *res = false;
                        return 0;
                }
                break;
        }
        return -EINVAL;
}

/* Parameter names compare with '-' and '_' equal, as the kernel's parameq(). */
static bool param_name_is(const char *name, size_t len, const char *want)
{
        if (strlen(want) != len)
                return false;
        for (size_t i = 0; i < len; i++) {
                char a = name[i] == '-' ? '_' : name[i], b = want[i] == '-' ? '_' : want[i];

                if (a != b)
                        return false;
        }
        return true;
}

/* Walk the command line as the kernel's next_arg() does: whitespace separates
 * arguments except inside double quotes; "--" ends the kernel's part (the rest
 * belongs to init). Each valid occurrence overrides the one before, an invalid
 * value is ignored (the kernel warns and keeps the previous setting). */
static enum vmm_boot_param boot_param_parse(char *cmdline)
{
        enum vmm_boot_param result = VMM_BOOT_ABSENT;
        char *p = cmdline;

        for (;;) {
                char *arg, *eq = NULL, *val;
                bool in_quote = false;
                size_t name_len;

                while (*p == ' ' || *p == '\t' || *p == '\n')
                        p++;
                if (!*p)
                        break;
                arg = p;
                for (; *p; p++) {
                        if (*p == '"')
                                in_quote = !in_quote;
                        else if (!in_quote && (*p == ' ' || *p == '\t' || *p == '\n'))
                                break;
                        else if (*p == '=' && !eq)
                                eq = p;
                }
                if (*p)
                        *p++ = '\0';
                if (strcmp(arg, "--") == 0)
                        break;
                if (*arg == '"')
                        arg++;
                name_len = eq ? (size_t)(eq - arg) : strlen(arg);
                if (!eq || !param_name_is(arg, name_len, "hugetlb_free_vmemmap"))
                        continue;
                val = eq + 1;
                if (*val == '"') {
                        size_t vlen;

                        val++;
                        vlen = strlen(val);
                        if (vlen > 0 && val[vlen - 1] == '"')
                                val[vlen - 1] = '\0';
                }
                bool on;
                if (kstrtobool(val, &on) == 0)
                        result = on ? VMM_BOOT_ON : VMM_BOOT_OFF;
        }
        return result;
}

int vmm_hvo_read(vmm_ctx *ctx, struct vmm_hvo *ret)
{
        struct vmm_hvo h = { .boot_param = VMM_BOOT_ABSENT };
        char path[PATH_MAX];
        uint64_t value;
        char *cmdline;
        ssize_t n;
        int r;

        if (!ctx || !ret)
                return -EINVAL;
        r = vmmi_path(ctx, path, VMMI_HVO_SYSCTL);
        if (r < 0)
                return r;
        /* The sysctl is absent before 5.19 and when no hstate can be optimized. */
        r = vmmi_read_u64(path, &value);
        if (r == 0) {
                if (value > 1)
                        return -EBADMSG;
                h.supported = true;
                h.enabled = value == 1;
        } else if (r != -ENOENT)
                return r;

        r = vmmi_path(ctx, path, VMMI_CMDLINE);
        if (r < 0)
                return r;
        cmdline = malloc(CMDLINE_MAX);
        if (!cmdline)
                return -ENOMEM;
        n = vmmi_read_file(path, cmdline, CMDLINE_MAX);
        if (n >= 0)
                h.boot_param = boot_param_parse(cmdline);
        free(cmdline);
        if (n < 0 && n != -ENOENT)
                return (int)n;

        *ret = h;
        return 0;
}

int vmm_hvo_set(vmm_ctx *ctx, bool enabled)
{
        char path[PATH_MAX];
        uint64_t back;
        int r;

        if (!ctx)
                return -EINVAL;
        r = vmmi_path(ctx, path, VMMI_HVO_SYSCTL);
        if (r < 0)
                return r;
        r = vmmi_write_file(path, enabled ? "1" : "0");
        if (r == -ENOENT)
                return -EOPNOTSUPP;
        if (r < 0)
                return r;
        r = vmmi_read_u64(path, &back);
        if (r < 0)
                return r;
        return back == (enabled ? 1u : 0u) ? 0 : -EIO;
}

int vmm_hstate_hvo_compute(uint64_t size_kb, const struct vmm_kernel *kernel, struct vmm_hstate_hvo *ret)
{
        uint64_t ps, sps, bytes, pages, vmemmap_bytes;
        struct vmm_hstate_hvo h = { 0 };

        if (!kernel || !ret)
                return -EINVAL;
        ps = kernel->page_size;
        sps = kernel->struct_page_size;
        if (size_kb == 0 || ps == 0 || sps == 0)
                return -EINVAL;
        if (__builtin_mul_overflow(size_kb, 1024, &bytes) || bytes % ps != 0)
                return -EINVAL;
        pages = bytes / ps;
        if (__builtin_mul_overflow(pages, sps, &vmemmap_bytes))
                return -EINVAL;
        /* A vmemmap smaller than one page (2M hugepages on 64K base pages)
         * rounds to 0 pages: nothing to remap, as in the kernel. */
        h.vmemmap_pages = vmemmap_bytes / ps;
        h.eligible = (sps & (sps - 1)) == 0 && h.vmemmap_pages > kernel->reserve_pages;
        if (h.eligible) {
                h.saved_pages = h.vmemmap_pages - kernel->reserve_pages;
                h.saved_bytes = h.saved_pages * ps;
        }
        *ret = h;
        return 0;
}
