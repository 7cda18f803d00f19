/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The context: a root directory and what cannot be read from it. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* Every 64-bit architecture with HVO has a 64-byte struct page. */
#define DEFAULT_STRUCT_PAGE_SIZE 64

int vmm_ctx_new(const char *root, const struct vmm_platform *platform, vmm_ctx **ret_ctx)
{
        uint64_t page_size = platform ? platform->page_size : 0;
        uint64_t struct_page_size = platform ? platform->struct_page_size : 0;
        struct stat st;
        vmm_ctx *ctx;
        size_t n;

        if (!ret_ctx)
                return -EINVAL;
        if (!root || !*root)
                root = "/";
        if (page_size == 0) {
                long sz = sysconf(_SC_PAGESIZE);

                if (sz <= 0)
                        return -EINVAL;
                page_size = (uint64_t)sz;
        }
        if (struct_page_size == 0)
                struct_page_size = DEFAULT_STRUCT_PAGE_SIZE;
        /* Page sizes are powers of two; everything below divides by them. */
        if (page_size & (page_size - 1))
                return -EINVAL;
        if (stat(root, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;

        ctx = calloc(1, sizeof(*ctx));
        if (!ctx)
                return -ENOMEM;
        ctx->root = strdup(root);
        ctx->prefix = strdup(root);
        if (!ctx->root || !ctx->prefix) {
                vmm_ctx_free(ctx);
                return -ENOMEM;
        }
        /* "/" becomes "", "/tmp/x/" becomes "/tmp/x": paths are appended as "/sys/...". */
        n = strlen(ctx->prefix);
        while (n > 0 && ctx->prefix[n - 1] == '/')
                ctx->prefix[--n] = '\0';
        ctx->page_size = page_size;
        ctx->struct_page_size = struct_page_size;
        *ret_ctx = ctx;
        return 0;
}

void vmm_ctx_free(vmm_ctx *ctx)
{
        if (!ctx)
                return;
        free(ctx->root);
        free(ctx->prefix);
        free(ctx);
}

const char *vmm_ctx_root(const vmm_ctx *ctx)
{
        return ctx ? ctx->root : NULL;
}
