/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hugevmd's state, shared by the loop's modules (reconcile, server, rpc, main).
 * Everything here is touched only from the loop thread; the one threadpool job
 * at a time gets its own vmm_ctx and a copy of what it needs.
 */
#ifndef HUGEVMD_DAEMON_H
#define HUGEVMD_DAEMON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "chunk.h"
#include "conf.h"
#include "ledger.h"
#include "vmemmap.h"

struct server;
struct client;
struct metrics;

enum pool_state { POOL_UNMANAGED, POOL_CONVERGED, POOL_CONVERGING, POOL_DEGRADED };

/* What the reconciler knows about one node's share of a pool (per-node targets). */
struct node_rt {
        unsigned node;
        struct vmm_node_pool cur;
        uint64_t last_seen;      /* total after our last write or refresh */
        bool seen;
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
        enum pool_state reported_state;  /* last state announced (pool.changed) */
        char reported_reason[256];
        struct ledger_entry ledger;
};

/* A wait request parked until pools converge, degrade, or the timeout fires. */
struct pending_wait {
        struct pending_wait *next;
        struct daemon *d;
        struct client *client;
        json_object *id;
        uv_timer_t timer;
        bool has_timer;
};

struct daemon {
        uv_loop_t *loop;
        char *root;
        char *config_path;
        bool config_missing_ok;
        char *socket_override;
        char *state_dir_override;
        vmm_ctx *ctx;            /* loop thread only */
        vmm_ctx *worker_ctx;     /* the threadpool job only */
        struct config *cfg;
        struct target runtime[HUGEVMD_MAX_POOLS];   /* pool.set targets, override the config's */
        size_t n_runtime;
        struct target persisted[HUGEVMD_MAX_POOLS]; /* what the state file holds */
        size_t n_persisted;

        struct vmm_kernel kernel;
        struct vmm_hvo hvo;
        struct vmm_memmap memmap;
        bool memmap_ok;
        unsigned *nodes;
        size_t n_nodes;
        struct pool_rt pools[HUGEVMD_MAX_POOLS];
        size_t n_pools;

        /* reconciler */
        bool job_running;
        size_t job_pool;
        int job_node;
        struct chunk_model chunk[2];  /* write cost model for shrinking [0] and growing [1] */
        char last_status[256];   /* last sd_notify STATUS= text */
        uint64_t last_textfile;  /* uv_now() of the last metrics textfile write */
        uv_timer_t refresh_timer, retry_timer;
        uv_check_t refresh_expiry;  /* ends the loop iteration's shared refresh */
        bool refresh_fresh;      /* pools were read in this loop iteration */
        uv_signal_t sig_term, sig_int, sig_hup;
        bool stopping;
        int exit_code;

        /* host.c: hugetlbfs mounts and SysV shm, as last read */
        struct vmm_mount *mounts;
        size_t n_mounts;
        uv_poll_t mounts_watch;  /* POLLPRI on /proc/mounts: the table changed */
        int mounts_fd;           /* -1: not watched */
        bool mounts_watched;     /* else the table is read at every refresh */
        bool mounts_stale;
        char mount_errors[HUGEVMD_MAX_POOLS][256];  /* for cfg->mounts[i]; "" when fine */
        struct vmm_shm shm;
        bool shm_ok;
        char shm_error[256];

        struct server *server;
        struct metrics *metrics;
        struct pending_wait *waits;
};

/* daemon.c */
struct target *daemon_runtime_target(struct daemon *d, uint64_t size_kb, bool create);
/* The target in force for a pool: runtime over config; overcommit likewise. */
void daemon_effective_target(const struct daemon *d, uint64_t size_kb, struct target *ret);
struct pool_rt *daemon_pool(struct daemon *d, uint64_t size_kb);
const char *pool_state_name(enum pool_state s);
const char *daemon_state_dir(const struct daemon *d);
int daemon_save_state(struct daemon *d);
/* Validate and apply a new config; on failure the old one stays and errors say why. */
int daemon_reload(struct daemon *d, struct config_errors *errors);
/* main.c: called once no job runs any more after a stop was requested. */
void daemon_stop_continue(struct daemon *d);
void daemon_stop(struct daemon *d);

/* reconcile.c */
void reconcile_init(struct daemon *d);
/* (Re)arm the periodic refresh at the config's RefreshSec. */
void reconcile_start_timer(struct daemon *d);
/* Re-read pools, HVO and the memmap counters; update ledger, states,
 * notifications, metrics; answer waits. */
void reconcile_refresh(struct daemon *d);
/* For requests that only read: one refresh per loop iteration serves them all,
 * so a burst of status calls costs one pass over sysfs, not one each. */
void reconcile_refresh_shared(struct daemon *d);
/* Close the reconciler's handles (the loop frees nothing else of it). */
void reconcile_close(struct daemon *d);
/* Start the next chunk if one is due and none is running. */
void reconcile_kick(struct daemon *d);
/* A pool's target changed: start a new episode (clears degraded, retries). */
void reconcile_target_changed(struct daemon *d, struct pool_rt *p);
/* Turn HVO on/off, observing pools before and after. Negative errno. */
int reconcile_hvo_set(struct daemon *d, bool enabled);
/* The state of a pool overall (worst of its nodes for per-node targets). */
enum pool_state reconcile_pool_state(const struct daemon *d, const struct pool_rt *p, const char **ret_reason);
bool reconcile_all_converged(const struct daemon *d);

/* host.c: hugetlbfs mounts and shm settings (never unmounts anything) */
void host_watch_init(struct daemon *d);   /* watch /proc/mounts (reconcile_init) */
void host_watch_close(struct daemon *d);  /* (reconcile_close) */
void host_refresh(struct daemon *d);      /* re-read the mount table (if it changed) and shm sysctls */
void host_apply(struct daemon *d);        /* mounts and shm as the config says (start, reload) */
void host_periodic(struct daemon *d);     /* RefreshSec: re-read the mount table, retry failed mounts */
void host_apply_shm(struct daemon *d);    /* shm group, and limits to fit the targets */
void host_free(struct daemon *d);

/* status.c: the STATUS / POOL / VMEMMAP objects of proto.h */
json_object *status_build(struct daemon *d);
json_object *status_pool(struct daemon *d, struct pool_rt *p, const struct target *override);
json_object *status_vmemmap(struct daemon *d);
/* UNCONVERGED: [{size, pages, target, state, reason, nodes?: [{node, pages, target, state}]}]
 * of pools not converged (nodes only for per-node targets) */
json_object *status_unconverged(struct daemon *d);

/* rpc.c: one request line -> reply (NULL: none now, e.g. wait or a notification) */
enum rpc_role { ROLE_NONE = 0, ROLE_READ = 1, ROLE_ADMIN = 2 };
json_object *rpc_handle_line(struct daemon *d, struct client *c, enum rpc_role role, const char *line, size_t len);
void rpc_waits_check(struct daemon *d);
void rpc_waits_drop_client(struct daemon *d, struct client *c);
void rpc_waits_free(struct daemon *d);

/* server.c */
int server_start(struct daemon *d, const char *socket_path);
void server_stop(struct daemon *d);
/* Send to one client (a reply or a notification); takes ownership of obj. */
void server_send(struct client *c, json_object *obj);
void server_client_set_subscribed(struct client *c);
void server_client_hold(struct client *c, int delta);  /* pending async replies keep it open */
/* To every subscriber; takes ownership of obj. */
void server_broadcast(struct daemon *d, json_object *obj);

#endif
