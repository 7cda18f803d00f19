/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What hugeadm sets up beside the pools: hugetlbfs mounts and the SysV shm
 * settings. Applied at start, on reload and (shm limits) when a target changes.
 * A mount is never unmounted: files on it may hold pages a consumer still
 * expects, even while nobody has them open.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "log.h"

static const struct vmm_mount *find_mount(const struct core *core, const char *path)
{
        const struct vmm_mount *found = NULL;
        for (size_t i = 0; i < core->n_mounts; i++)
                if (strcmp(core->mounts[i].path, path) == 0)
                        found = &core->mounts[i];   /* the last one is on top */
        return found;
}

/* The kernel flags a changed mount table with POLLPRI, so the
 * list is re-read only then (and at every periodic refresh), not at every
 * request's refresh. A file that cannot be polled (a fake root's) is read
 * every time. */
static void mounts_changed_cb(uv_poll_t *h, int status, int events)
{
        struct core *core = h->data;
        (void)status;
        (void)events;
        core->mounts_stale = true;
}

void host_watch_init(struct core *core)
{
        core->mounts_stale = true;
        core->mounts_fd = -1;
        int fd = vmm_mounts_watch_open(core->ctx);
        if (fd < 0)
                return;
        if (uv_poll_init(core->loop, &core->mounts_watch, fd) < 0) {
                close(fd);
                return;
        }
        core->mounts_watch.data = core;
        core->mounts_fd = fd;   /* closed with the handle, watched or not */
        core->mounts_watched = uv_poll_start(&core->mounts_watch, UV_PRIORITIZED, mounts_changed_cb) == 0;
        uv_unref((uv_handle_t *)&core->mounts_watch);
}

static void mounts_watch_closed(uv_handle_t *h)
{
        struct core *core = h->data;
        close(core->mounts_fd);
        core->mounts_fd = -1;
}

void host_watch_close(struct core *core)
{
        if (core->mounts_fd >= 0)
                uv_close((uv_handle_t *)&core->mounts_watch, mounts_watch_closed);
        core->mounts_watched = false;
}

void host_refresh(struct core *core)
{
        struct vmm_mount *mounts;
        size_t n;
        if ((!core->mounts_watched || core->mounts_stale) && vmm_mounts_list(core->ctx, &mounts, &n) == 0) {
                free(core->mounts);
                core->mounts = mounts;
                core->n_mounts = n;
                core->mounts_stale = false;
        }
        core->shm_ok = vmm_shm_read(core->ctx, &core->shm) == 0;
}

/* Mount what is configured and missing. A failure is logged when it first
 * appears or changes, and tried again at every refresh (min_size= may fit once
 * the pool has grown). */
static void apply_mount(struct core *core, size_t i)
{
        const struct mount_spec *m = &core->cfg->mounts[i];
        uint64_t size_kb = core->cfg->pools[i].size_kb;
        char label[32], error[sizeof core->mount_errors[i]] = "";
        vmm_size_label(size_kb, label, sizeof label);

        const struct vmm_mount *have = find_mount(core, m->path);
        if (have && have->size_kb != size_kb) {
                char other[32];
                vmm_size_label(have->size_kb, other, sizeof other);
                snprintf(error, sizeof error, "%s is already a hugetlbfs mount of %s pages", m->path, other);
        } else if (!have) {
                int r = vmm_hugetlbfs_mount(core->ctx, m->path, size_kb, &m->opts);
                size_t bad = strlen(m->path);
                if (r == -ELOOP || r == -ENOTDIR) {
                        /* Changed since the config was checked: name the component at fault. */
                        (void)vmm_mount_point_check(core->ctx, m->path, &bad);
                        snprintf(error, sizeof error, "cannot mount hugetlbfs at %s: %.*s %s", m->path, (int)bad, m->path,
                                 r == -ELOOP ? "is a symbolic link (mount points are not followed through symlinks)"
                                             : "is not a directory");
                } else if (r < 0)
                        snprintf(error, sizeof error, "cannot mount hugetlbfs at %s: %s%s", m->path, strerror(-r),
                                 r == -EPERM ? " (mounting needs CAP_SYS_ADMIN, which the shipped hugevmd.service"
                                               " does not have: use a systemd .mount unit, see docs/systemd.md)" : "");
                else {
                        log_pool(LOG_NOTICE, label, -1, UINT64_MAX, "Mounted hugetlbfs for %s pages at %s", label, m->path);
                        core->mounts_stale = true;   /* ours: no need to wait for the poll */
                        host_refresh(core);
                }
        }
        if (error[0] && strcmp(error, core->mount_errors[i]) != 0)
                log_pool(LOG_ERR, label, -1, UINT64_MAX, "Mount=%s: %s", m->path, error);
        snprintf(core->mount_errors[i], sizeof core->mount_errors[i], "%s", error);
}

void host_periodic(struct core *core)
{
        /* A change that came between open() and the first poll is not
         * signalled: the periodic refresh re-reads the table in any case. */
        core->mounts_stale = true;
        for (size_t i = 0; i < core->cfg->n_pools; i++)
                if (core->cfg->mounts[i].path && core->mount_errors[i][0])
                        apply_mount(core, i);
}

/* Bytes the configured targets add up to: what shmmax/shmall must allow. */
static uint64_t target_bytes(const struct core *core)
{
        uint64_t total = 0;
        for (size_t i = 0; i < core->n_pools; i++) {
                struct target t;
                core_effective_target(core, core->pools[i].size_kb, &t);
                uint64_t pages = t.has_pages ? t.pages : 0;
                for (unsigned node = 0; node < HUGEVMD_MAX_NODES; node++)
                        if (t.node_mask & (UINT64_C(1) << node))
                                pages = t.node_pages[node] > UINT64_MAX - pages ? UINT64_MAX : pages + t.node_pages[node];
                uint64_t bytes = core->pools[i].size_kb * 1024;
                if (pages > (UINT64_MAX - total) / bytes)
                        return UINT64_MAX;
                total += pages * bytes;
        }
        return total;
}

void host_apply_shm(struct core *core)
{
        int r;
        if (!core->cfg->has_shm_gid && !core->cfg->shm_limits)
                return;
        core->shm_error[0] = '\0';
        if (core->cfg->has_shm_gid) {
                if (!core->shm_ok || core->shm.group != core->cfg->shm_gid) {
                        if ((r = vmm_shm_group_set(core->ctx, core->cfg->shm_gid)) < 0) {
                                snprintf(core->shm_error, sizeof core->shm_error, "cannot set vm.hugetlb_shm_group to %u: %s",
                                         (unsigned)core->cfg->shm_gid, strerror(-r));
                                log_error("%s", core->shm_error);
                        } else
                                log_notice("vm.hugetlb_shm_group set to %u", (unsigned)core->cfg->shm_gid);
                }
        }
        if (core->cfg->shm_limits) {
                unsigned raised = 0;
                uint64_t bytes = target_bytes(core);
                if ((r = vmm_shm_limits_raise(core->ctx, bytes, &raised)) < 0) {
                        snprintf(core->shm_error, sizeof core->shm_error, "cannot raise kernel.shmmax/shmall to %" PRIu64
                                 " bytes: %s%s", bytes, strerror(-r),
                                 r == -EROFS ? " (the shipped hugevmd.service keeps /proc/sys/kernel read-only and has"
                                               " its own IPC namespace: set them in /etc/sysctl.d)" : "");
                        log_error("%s", core->shm_error);
                } else if (raised)
                        log_notice("Raised%s%s to fit %" PRIu64 " bytes of pools",
                                   raised & VMM_SHM_RAISED_SHMMAX ? " kernel.shmmax" : "",
                                   raised & VMM_SHM_RAISED_SHMALL ? " kernel.shmall" : "", bytes);
        }
        /* Every caller refreshes next, which re-reads what was written. */
}

void host_apply(struct core *core)
{
        host_refresh(core);
        for (size_t i = 0; i < core->cfg->n_pools; i++) {
                core->mount_errors[i][0] = '\0';
                if (core->cfg->mounts[i].path)
                        apply_mount(core, i);
        }
        host_apply_shm(core);
}

void host_free(struct core *core)
{
        free(core->mounts);
        core->mounts = NULL;
        core->n_mounts = 0;
}
