/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hugevmctl boot-plan: the kernel command line that allocates the declared
 * pools at boot, compared with /proc/cmdline, and (--apply) written where
 * Debian's boot loaders read it.
 */
#ifndef HUGEVMCTL_BOOTPLAN_H
#define HUGEVMCTL_BOOTPLAN_H

#include <json-c/json.h>
#include <stdbool.h>

/* Exit code when the running kernel's command line lacks the plan (or has it
 * otherwise): a reboot with the planned line is needed. */
#define BOOTPLAN_EXIT_REBOOT 5

/* Plan from a daemon STATUS; compare with ROOT/proc/cmdline; with apply,
 * write ROOT/etc/default/grub.d/hugevm.cfg or ROOT/etc/kernel/cmdline.
 * Returns 0 (the running line has the plan), 1 (cannot read or write),
 * or BOOTPLAN_EXIT_REBOOT. */
int bootplan_run(json_object *status, const char *root, bool apply, bool json);

#endif
