/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hugevmd's configuration: /etc/hugevmd/hugevmd.conf plus hugevmd.conf.d/NAME.conf
 * (lexical order, later files override earlier keys). docs/protocol.md and
 * etc/hugevmd.conf describe every key.
 *
 *   [Daemon]  HVO= Socket= SocketGroup= AdminGroup= RefreshSec= StateDirectory=
 *             MetricsListen= MetricsTextfile= ShrinkOnExit= ShmGroup= ShmLimits=
 *             Reoptimize= ConvergedFile= FeatureFile=
 *   [Pool <size>]  Pages= | Size=        a target for the whole pool, or
 *                  Node<N>.Pages= | Node<N>.Size=   per-node targets
 *                  Overcommit=           nr_overcommit_hugepages
 *                  Demote=               grow by demoting free pages of the larger pool above its target
 *                  Mount= MountSize= MountMinSize= MountMode= MountUser= MountGroup=
 *                                        a hugetlbfs mount of this page size
 */
#ifndef HUGEVMD_CONF_H
#define HUGEVMD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vmemmap.h"

#define HUGEVMD_CONFIG_PATH "/etc/hugevmd/hugevmd.conf"
#define HUGEVMD_STATE_DIR   "/var/lib/hugevmd"
#define HUGEVMD_METRICS_LISTEN "127.0.0.1:9464"
#define HUGEVMD_REFRESH_SEC 10u
#define HUGEVMD_MAX_NODES   64u   /* node ids 0..63 */
#define HUGEVMD_MAX_POOLS   16u

/* What an operator asked for one hugepage size: a whole-pool target, per-node
 * targets, or neither (then the pool is unmanaged); and an overcommit value. */
struct target {
        uint64_t size_kb;
        bool has_pages;             /* whole-pool target */
        uint64_t pages;
        uint64_t node_mask;         /* bit N: a target for node N */
        uint64_t node_pages[HUGEVMD_MAX_NODES];
        bool has_overcommit;
        uint64_t overcommit;
};

static inline bool target_managed(const struct target *t)
{
        return t && (t->has_pages || t->node_mask);
}

/* The same node targets: the same nodes, each with the same pages. */
bool target_nodes_equal(const struct target *a, const struct target *b);
/* The same target in every field that counts (never memcmp: padding and the
 * pages of nodes without a target are not part of it). */
bool target_equal(const struct target *a, const struct target *b);

/* The one bound of a target, wherever it comes from (the config, the state
 * file, pool.set): no page count, whole-pool, per node or overcommit, above
 * what MemTotal (mem_bytes) holds in pages of that size. */
uint64_t target_max_pages(uint64_t mem_bytes, uint64_t size_kb);
/* 0 if pages of size_kb fit; else -ERANGE and why = "N pages of 2048kB exceed
 * this machine's memory (2.0 GiB, at most M pages)". */
int target_pages_check(uint64_t mem_bytes, uint64_t size_kb, uint64_t pages, char *why, size_t why_len);
/* Every count of t; -ERANGE with why naming the first one out of bounds
 * ("pages: ...", "nodes.1: ...", "overcommit: ..."). */
int target_check_bound(const struct target *t, uint64_t mem_bytes, char *why, size_t why_len);
/* MemTotal under ctx's root; a root without /proc/meminfo (a test's) is
 * bounded by this machine's memory. */
uint64_t config_mem_bytes(vmm_ctx *ctx);

/* A hugetlbfs mount a [Pool] section asks for; path NULL: none. The path is
 * normalized as the kernel shows it in /proc/mounts ("//", "/./" and a
 * trailing '/' dropped; ".." refused) and goes through no symlink. */
struct mount_spec {
        char *path;
        struct vmm_mount_opts opts;
        bool has_extras;            /* a Mount*= key other than Mount= was given */
        bool path_refused;          /* Mount= was refused: reported once, not again as missing */
};

/* Errors collected while loading: "file:line: reason" each. */
struct config_errors {
        char **lines;
        size_t n;
};
void config_errors_clear(struct config_errors *e);

struct config {
        bool hvo;                   /* turn HVO on at start (default yes) */
        char *socket_path;
        char *socket_group;         /* NULL: none */
        char *admin_group;
        bool has_socket_gid, has_admin_gid;
        gid_t socket_gid, admin_gid;
        unsigned refresh_sec;
        char *state_dir;
        char *metrics_listen;       /* NULL when "no" */
        char *metrics_textfile;     /* NULL: none */
        char *converged_file;       /* ConvergedFile=: the converged pools, for path units; NULL: none */
        char *feature_file;         /* FeatureFile=: an NFD local feature file; NULL: none */
        bool shrink_on_exit;
        bool reoptimize;            /* replace free unoptimized pages by optimized ones (default no) */
        bool drop_caches;           /* DropCaches=: drop clean page cache before a retry it would serve (default no) */
        bool has_shm_gid;           /* ShmGroup=: vm.hugetlb_shm_group */
        gid_t shm_gid;
        bool shm_limits;            /* ShmLimits=: raise shmmax/shmall to fit the pools */
        struct target pools[HUGEVMD_MAX_POOLS];
        struct mount_spec mounts[HUGEVMD_MAX_POOLS];  /* mounts[i] belongs to pools[i] */
        bool demote[HUGEVMD_MAX_POOLS];   /* Demote= of pools[i]: grow it by demoting larger free pages */
        size_t n_pools;
        char **files;               /* the files read, in order (NULL-terminated) */
        struct config_errors warnings;  /* accepted, but worth saying: "file:line: reason" */
};


/* Load path and its drop-in directory <dir of path>/hugevmd.conf.d/NAME.conf.
 * ctx validates sizes, nodes, targets (target_check_bound) and mount points
 * (vmm_mount_point_check) against the machine. Only regular files are read
 * (a symlink to one is followed), and no line longer than inih reads whole.
 * A missing main file is an error unless missing_ok (the built-in default
 * path). On any error returns -EINVAL with every problem in *errors and no
 * config (-ENOMEM if no problem could even be described: out of memory). */
int config_load(const char *path, bool missing_ok, vmm_ctx *ctx, struct config **ret, struct config_errors *errors);
void config_free(struct config *c);

/* The config's target for a size, or NULL. */
const struct target *config_pool(const struct config *c, uint64_t size_kb);
/* Demote=yes in the size's [Pool] section. */
bool config_pool_demote(const struct config *c, uint64_t size_kb);

/* "127.0.0.1:9464" or "[::1]:9464" -> address text and port. -EINVAL if malformed. */
int config_parse_listen(const char *text, char *addr, size_t addr_len, uint16_t *ret_port);

#endif
