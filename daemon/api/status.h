/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the core's state and events look like to the outside: the STATUS, POOL,
 * VMEMMAP and UNCONVERGED objects of proto.h, notifications, and the one-line
 * summary systemd shows (STATUS=). */
#ifndef HUGEVMD_STATUS_H
#define HUGEVMD_STATUS_H

#include <json-c/json.h>

#include "core.h"

json_object *status_build(struct core *core);
/* override: a hypothetical target (pool.set dry_run): states are what it would make them. */
json_object *status_pool(struct core *core, struct pool_rt *p, const struct target *override);
json_object *status_vmemmap(struct core *core);
/* [{size, pages, target, state, reason, nodes?: [{node, pages, target, state}]}]
 * of pools not converged (nodes only for per-node targets); only: just that pool. */
json_object *status_unconverged(struct core *core, const struct pool_rt *only);
/* The notification an event is told to subscribers as; NULL for events that are not told. */
json_object *status_notification(const struct core_event *ev);
/* "degraded 2048kB: ...", "converging 2048kB 12/512", "all pools converged, 14.0 MiB saved" */
void status_text(struct core *core, char *text, size_t len);

#endif
