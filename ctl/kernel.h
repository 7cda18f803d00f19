/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hugevmctl without the daemon: what the kernel alone says, read through
 * libvmemmap under a root directory ("/" on a real host).
 */
#ifndef HUGEVMCTL_KERNEL_H
#define HUGEVMCTL_KERNEL_H

#include <json-c/json.h>
#include <stdint.h>

/* A STATUS object (proto.h) with the pools per size and node and the HVO
 * state, as the daemon would send it but without what only the daemon knows
 * (targets, states, savings, measured, shm, converged). 0, or a negative
 * errno (-EOPNOTSUPP: no hugetlb at all). */
int kernel_status(const char *root, json_object **ret_status);

/* The kernel's default hugepage size in kB ("Hugepagesize:" in /proc/meminfo). */
int kernel_default_size_kb(const char *root, uint64_t *ret_kb);

#endif
