/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hugevmd's core: the operator's intent (targets from the config, the state
 * file and requests), the observed pools, the savings ledger and the
 * reconciler. It talks to the kernel only through libvmemmap and to the rest
 * of the daemon only by publishing events (events.h); it includes no header
 * of daemon/api/ and calls no function there.
 *
 * Everything here is touched only from the loop thread; the one threadpool job
 * at a time gets its own vmm_ctx and a copy of what it needs.
 */
#ifndef HUGEVMD_CORE_H
#define HUGEVMD_CORE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "chunk.h"
#include "conf.h"
#include "events.h"
#include "forecast.h"
#include "ledger.h"
#include "vmemmap.h"

enum pool_state { POOL_UNMANAGED, POOL_CONVERGED, POOL_CONVERGING, POOL_DEGRADED };

/* What the reconciler knows about one node's share of a pool (per-node targets). */
/* Re-optimization of one node of a pool (reoptimize.c). */
struct reopt_rt {
        bool wanted;              /* vmemmap.optimize asked: until no unoptimized free page is left */
        bool blocked;             /* stopped for the reason below; a new request clears it */
        char reason[192];         /* why it cannot go on now, "" */
        uint64_t converted;       /* pages re-optimized since the daemon started */
        uint64_t next_attempt;    /* uv_now() ms: Reoptimize=yes starts a run once a second */
        bool holding;             /* a run holds pages in hold_fd (vmm_pool_replace) */
        int hold_fd;
        uint64_t held;            /* ... this many, counted as free by the model */
};

struct node_rt {
        unsigned node;
        struct vmm_node_pool cur;
        uint64_t measured_total;  /* pages when the memmap counters were last read */
        int64_t measured_saved;   /* base pages the counters attribute to this node */
        bool measured_pinned;     /* ... exactly */
        struct reopt_rt reopt;
};

/* One resize target: the whole pool (node -1) or one node of it. */
struct work_rt {
        enum pool_state state;
        char reason[256];
        unsigned retries;        /* quick retries used in this episode */
        uint64_t next_attempt;   /* uv_now() ms before which no write is tried */
        bool compact_next;       /* compact before the next write */
        uint64_t from;           /* pages when this convergence began (progress) */
};

struct pool_rt {
        uint64_t size_kb;
        char label[32];          /* "2048kB" */
        struct vmm_hstate_hvo hvo;
        struct vmm_pool cur;
        bool read_ok;
        int read_err;            /* the last read error, while !read_ok */
        uint64_t last_seen;      /* global total after our last write or refresh */
        bool seen;
        bool resync;             /* our write just changed it: take the next total as is */
        struct node_rt ncur[HUGEVMD_MAX_NODES];   /* indexed by node id */
        int overcommit_err;      /* last overcommit write error, logged once */
        struct work_rt whole;    /* for a whole-pool target */
        struct work_rt nodes_w[HUGEVMD_MAX_NODES];
        enum pool_state reported_state;  /* last state announced (pool changed) */
        char reported_reason[256];
        struct ledger_entry ledger;      /* the model */
        bool ledger_whole;               /* the model follows the pool as one list (node 0) */
        unsigned node_mismatches;        /* readings in a row whose nodes did not add up */
        int64_t measured_saved;          /* base pages the memmap counters attribute to this size */
        bool measured_pinned;            /* ... exactly (see measure_savings) */
        uint64_t retries;                /* writes retried after one fell short, since start (metrics) */
        uint64_t demoted;                /* pages this pool gained by demotion since start (demote.c) */
        uint64_t demote_next;            /* uv_now() ms before which no demotion into it is tried again */
        struct forecast fc;              /* growth forecast of the whole pool (forecast.c), valid while it grows */
        struct forecast nfc[HUGEVMD_MAX_NODES];   /* ... of each node with a growing target */
};

struct core {
        uv_loop_t *loop;
        const char *config_path;
        bool config_missing_ok;
        const char *state_dir_override;
        vmm_ctx *ctx;            /* loop thread only */
        vmm_ctx *worker_ctx;     /* the threadpool job only */
        struct config *cfg;
        struct target runtime[HUGEVMD_MAX_POOLS];   /* pool.set targets, override the config's */
        size_t n_runtime;
        struct target persisted[HUGEVMD_MAX_POOLS]; /* what the state file holds */
        size_t n_persisted;
        bool state_refused;      /* the state file was not used: keep it aside at core_start */

        struct vmm_kernel kernel;
        struct vmm_hvo hvo;
        struct vmm_memmap memmap;
        bool memmap_ok;
        bool measured_started;   /* the counters were read once with every pool */
        int64_t measured_prev;   /* their saving (base pages) at the last read */
        bool disagree_logged;    /* model vs counters: said once per disagreement */
        uint64_t mem_bytes;      /* MemTotal: the bound of every target */
        unsigned *nodes;
        size_t n_nodes;
        struct pool_rt pools[HUGEVMD_MAX_POOLS];
        size_t n_pools;

        /* reconciler */
        bool job_running;
        size_t job_pool;
        int job_node;
        bool job_reopt;          /* the job is a re-optimization batch, not a resize */
        bool job_demote;         /* the job demotes pages of job_pool into job_pool2 (demote.c) */
        size_t job_pool2;
        struct chunk_model chunk[2];  /* write cost model for shrinking [0] and growing [1] */
        uv_timer_t refresh_timer, retry_timer;
        uv_check_t refresh_expiry;  /* ends the loop iteration's shared refresh */
        bool refresh_fresh;      /* pools were read in this loop iteration */
        bool started;            /* core_start() ran: the state directory and pools are ours */
        bool stopping;           /* core_stop() was called */
        bool stopped;            /* ... and has finished */
        bool all_converged;      /* as last announced (CORE_EV_CONVERGED) */

        /* host.c: hugetlbfs mounts and SysV shm, as last read */
        struct vmm_mount *mounts;
        size_t n_mounts;
        uv_poll_t mounts_watch;  /* POLLPRI on the mount table: it changed */
        int mounts_fd;           /* -1: not watched */
        bool mounts_watched;     /* else the table is read at every refresh */
        bool mounts_stale;
        char mount_errors[HUGEVMD_MAX_POOLS][256];  /* for cfg->mounts[i]; "" when fine */
        struct vmm_shm shm;
        bool shm_ok;
        char shm_error[256];

        struct core_observers observers;
        struct forecast_mem fmem;         /* forecast.c: the free lists at the last read */
};

/* ---- life cycle (core.c) ---- */
/* Open the kernel interface under root and load the configuration; on a
 * config error, errors say why and nothing is left to free. Negative errno. */
int core_open(struct core *core, const char *root, const char *config_path, bool config_missing_ok,
              const char *state_dir_override, struct config_errors *errors);
/* Read the machine (sizes, nodes, HVO), set up the reconciler's handles on
 * loop and restore the state file's targets (changes no file: --check-config
 * calls it too). */
void core_init(struct core *core, uv_loop_t *loop);
/* Keep a refused state file aside, turn HVO on if the config says so, mount,
 * read everything, start resizing. Only once the socket is ours. */
void core_start(struct core *core);
/* Stop resizing; once no job runs, save state, empty pools for ShrinkOnExit,
 * close the core's handles and publish CORE_EV_STOPPED. */
void core_stop(struct core *core);
/* Free what core_open and core_init allocated (after the loop ended). */
void core_free(struct core *core);

/* ---- the operator's intent (core.c) ---- */
/* The target in force for a pool: runtime over config; overcommit likewise.
 * Only nodes this machine has (a config shared by machines may name others). */
void core_effective_target(const struct core *core, uint64_t size_kb, struct target *ret);
/* Where a pool's target in force comes from, as systemd says it of a unit's
 * properties: the config (declared state), an override (a pool.set persisted
 * in the state file), a runtime-only pool.set, or nowhere (unmanaged). */
enum target_source { SOURCE_NONE, SOURCE_CONFIG, SOURCE_OVERRIDE, SOURCE_RUNTIME };
enum target_source core_target_source(const struct core *core, uint64_t size_kb);
const char *target_source_name(enum target_source s);
/* The nodes the config gives a target that this machine does not have. */
uint64_t core_absent_nodes(const struct core *core, uint64_t size_kb);
/* Back to the config: drop the pool's runtime target (node >= 0: that node's
 * target becomes the config's again), from the state file too. -EINVAL when
 * node is given but the override or the config is a whole-pool target; the
 * state file's errno if it cannot be written (then nothing changed). */
int core_revert(struct core *core, struct pool_rt *p, int node);
/* "2048kB: override 256 pages in force, config says 512" for each pool whose
 * target in force is not the config's; returns how many, at most max. */
size_t core_overrides_describe(const struct core *core, char (*lines)[192], size_t max);
/* Whether a runtime target (request or state file) overrides the config's. */
bool core_has_runtime_target(const struct core *core, uint64_t size_kb);
struct pool_rt *core_pool(struct core *core, uint64_t size_kb);
bool core_node_present(const struct core *core, uint64_t node);
const char *core_state_dir(const struct core *core);
const char *pool_state_name(enum pool_state s);
/* A new runtime target for a pool, persisted first when persist is set: if the
 * state file cannot be written nothing changes and -errno is returned. */
int core_set_target(struct core *core, struct pool_rt *p, const struct target *t, bool persist);
/* vmemmap.optimize: re-optimize the pool's free unoptimized pages (node < 0:
 * every node) until none is left. -EOPNOTSUPP (with why) when it cannot be
 * done here at all; else 0, and progress goes to the pool's events. */
int core_reoptimize(struct core *core, struct pool_rt *p, int node, const char **why);

/* ---- re-optimization (reoptimize.c) ---- */
/* Start the next batch if one is due; false if none started (*earliest: when
 * Reoptimize=yes would try again). */
bool reoptimize_kick(struct core *core, uint64_t now, uint64_t *earliest);
/* A node's pages that HVO did not optimize, per the model: free and in use. */
void reoptimize_unoptimized(const struct pool_rt *p, unsigned node, uint64_t *free_pages, uint64_t *used_pages);
/* Give back the pages every run holds (before a resize, at stop). */
void reoptimize_release_all(struct core *core);
/* Re-optimization asked for the pool (node < 0: any node) and not finished. */
bool reoptimize_pending(const struct core *core, const struct pool_rt *p, int node);
/* ---- demotion (demote.c) ---- */
/* Pool p (Demote=yes) needs growth on node (-1: the whole pool) from current
 * to target: start a job demoting free pages of the larger pool whose
 * demote_size is p's size, above that pool's own target; false if none. */
bool demote_kick(struct core *core, size_t pool, int node, uint64_t current, uint64_t target, uint64_t now,
                 uint64_t *earliest);
/* demote_kick for every Demote=yes pool and target short of pages (the
 * reconciler's first step, before any plain resize). */
bool demote_kick_all(struct core *core, uint64_t now, uint64_t *earliest);

/* Turn HVO on/off, observing pools before and after. Negative errno. */
int core_hvo_set(struct core *core, bool enabled);
/* Validate and apply a new config; on failure the old one stays and errors say why. */
int core_reload(struct core *core, struct config_errors *errors);

/* ---- the reconciler (reconcile.c) ---- */
void reconcile_init(struct core *core);
/* (Re)arm the periodic refresh at the config's RefreshSec. */
void reconcile_start_timer(struct core *core);
/* Re-read pools, HVO and the memmap counters; update ledger and states;
 * publish what changed, then CORE_EV_REFRESHED. */
void reconcile_refresh(struct core *core);
/* For requests that only read: one refresh per loop iteration serves them all,
 * so a burst of status calls costs one pass over sysfs, not one each. */
void reconcile_refresh_shared(struct core *core);
void reconcile_close(struct core *core);
/* A job (a resize chunk, a re-optimization batch, a demotion) has ended:
 * re-read what it changed, then finish stopping if asked, else start the next. */
void reconcile_job_done(struct core *core);
/* Start the next chunk if one is due and none is running. */
void reconcile_kick(struct core *core);
/* A pool's target changed: start a new episode (clears degraded, retries). */
void reconcile_target_changed(struct core *core, struct pool_rt *p);
/* Turn HVO on/off between two refreshes. Negative errno. */
int reconcile_hvo_set(struct core *core, bool enabled);
/* The state of a pool overall (worst of its nodes for per-node targets). */
enum pool_state reconcile_pool_state(const struct core *core, const struct pool_rt *p, const char **ret_reason);
/* The state of one node's share of a pool with per-node targets; for a
 * whole-pool target, the pool's. */
enum pool_state reconcile_node_state(const struct core *core, const struct pool_rt *p, unsigned node, const char **ret_reason);
bool reconcile_all_converged(const struct core *core);
/* What HVO saved in one pool (node -1) or one node of it: measured where the
 * memmap counters pin it down (*exact), else the model. Base pages. */
uint64_t reconcile_optimized_pages(const struct core *core, const struct pool_rt *p, int node, bool *exact);

/* ---- host.c: hugetlbfs mounts and shm settings (never unmounts anything) ---- */
void host_watch_init(struct core *core);
void host_watch_close(struct core *core);
void host_refresh(struct core *core);      /* re-read the mount table (if it changed) and shm sysctls */
void host_apply(struct core *core);        /* mounts and shm as the config says (start, reload) */
void host_periodic(struct core *core);     /* RefreshSec: re-read the mount table, retry failed mounts */
void host_apply_shm(struct core *core);    /* shm group, and limits to fit the targets */
void host_free(struct core *core);

#endif
