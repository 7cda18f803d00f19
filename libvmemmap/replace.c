/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Replacing a node's free hugepages by new ones without shrinking its pool
 * (vmm_pool_replace). mm/hugetlb.c (6.18) keeps one free list per node and
 * size and works at its head only: a new page goes there
 * (enqueue_hugetlb_folio), a page an application takes comes from there
 * (dequeue_hugetlb_folio_node_exact) and shrinking frees from there
 * (remove_pool_hugetlb_folio). So: grow (the new pages land on the head),
 * hold the head with a hugetlb memfd bound to the node (the new pages, and
 * the `above` free pages under them that should stay), shrink back (the
 * kernel frees the pages under the held ones). The memfd keeps what it holds
 * from batch to batch, so that each page is held (and zeroed) once, and the
 * caller closes it at the end: the pages go back to the head.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/memfd.h>
#include <linux/mempolicy.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

/* Hold more pages of size_kb taken from node's free list: the memfd *fd
 * (made on the first call) grows by them. The calling thread's memory policy
 * is bound to node meanwhile (fallocate allocates by it), then back to the
 * default. A fallocate that stops part-way keeps what it got: those pages go
 * back (the file is cut to its old size), so the hold is all or nothing.
 * 0, -ENOMEM when the node had not enough free pages, or -errno. */
static int hold_more(int *fd, uint64_t size_kb, unsigned node, uint64_t pages)
{
        unsigned shift = 0;
        while ((UINT64_C(1) << shift) < size_kb * 1024)
                shift++;
        if ((UINT64_C(1) << shift) != size_kb * 1024 || node >= 64)
                return -EINVAL;
        if (*fd < 0) {
                *fd = memfd_create("hugevm-replace", MFD_CLOEXEC | MFD_HUGETLB | (shift << MFD_HUGE_SHIFT));
                if (*fd < 0)
                        return -errno;
        }
        struct stat st;
        if (fstat(*fd, &st) < 0)
                return -errno;
        unsigned long mask = 1UL << node;
        int r = 0;
        /* maxnode counts one more than the bits the kernel reads. */
        if (syscall(SYS_set_mempolicy, MPOL_BIND, &mask, sizeof mask * 8 + 1) < 0)
                return -errno;
        if (fallocate(*fd, 0, st.st_size, (off_t)(pages * size_kb * 1024)) < 0) {
                r = errno == ENOSPC || errno == EINTR ? -ENOMEM : -errno;
                if (ftruncate(*fd, st.st_size) < 0)
                        r = -errno;   /* pages may stay held: not the plain shortage */
        }
        (void)syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0UL);
        return r;
}

int vmm_pool_replace(vmm_ctx *ctx, uint64_t size_kb, unsigned node, uint64_t batch, uint64_t above, int *hold_fd,
                     struct vmm_replace *ret)
{
        struct vmm_node_pool np;
        struct vmm_resize rs;
        int r;

        if (!ctx || !ret || !hold_fd || batch == 0)
                return -EINVAL;
        memset(ret, 0, sizeof *ret);
        /* The memfd's pages come from the running kernel, not from a root
         * of files standing in for one. */
        if (ctx->prefix[0])
                return -EOPNOTSUPP;
        if ((r = vmm_node_pool_read(ctx, size_kb, node, &np)) < 0)
                return r;
        ret->before = ret->after = np.total;

        /* vmm_pool_set fills rs only when it could write and read back. */
        rs = (struct vmm_resize){ .before = np.total, .requested = np.total + batch, .reached = np.total };
        r = vmm_pool_set(ctx, size_kb, (int)node, np.total + batch, &rs);
        ret->grown = rs.reached > np.total ? rs.reached - np.total : 0;
        if (r == 0) {
                r = hold_more(hold_fd, size_kb, node, batch + above);
                if (r == 0) {
                        ret->held = batch + above;
                        rs.reached = np.total + batch;
                        r = vmm_pool_set(ctx, size_kb, (int)node, np.total, &rs);
                        if (r < 0 && r != -EBUSY)
                                return r;
                        ret->freed = np.total + batch > rs.reached ? np.total + batch - rs.reached : 0;
                        ret->after = rs.reached;
                        return r;
                }
        } else if (r != -ENOMEM && ret->grown == 0)
                return r;

        /* Short of memory for the batch, or it could not be held: give the
         * new pages back (they are on the head: the shrink takes them). */
        rs.reached = np.total + ret->grown;
        int k = vmm_pool_set(ctx, size_kb, (int)node, np.total, &rs);
        ret->after = rs.reached;
        return k < 0 && k != -EBUSY ? k : r;
}
