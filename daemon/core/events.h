/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the core tells the rest of hugevmd: events, published to one small
 * list of observers. The edges (socket, waits, metrics, sd_notify) subscribe;
 * the core never knows who listens.
 */
#ifndef HUGEVMD_EVENTS_H
#define HUGEVMD_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct core;
struct pool_rt;

enum core_event_kind {
        CORE_EV_POOL_CHANGED,   /* a pool's state or reason changed: pool, state, reason, external */
        CORE_EV_PROGRESS,       /* a resize write ended: pool, node, from, current, target, result, seconds */
        CORE_EV_HVO_CHANGED,    /* the HVO sysctl changed: enabled, external */
        CORE_EV_CONVERGED,      /* every managed pool reached its target (after some did not) */
        CORE_EV_REFRESHED,      /* pools, HVO and counters were re-read and states settled */
        CORE_EV_RELOADING,      /* a valid new configuration is being applied */
        CORE_EV_RELOADED,       /* ... and is in force */
        CORE_EV_RELOAD_FAILED,  /* a reload was refused (invalid): the running configuration stays */
        CORE_EV_STOPPED,        /* core_stop() finished: no job runs, handles closed */
};

/* How a resize write ended (CORE_EV_PROGRESS). */
enum resize_result { RESIZE_REACHED, RESIZE_SHORT, RESIZE_ERROR };

struct core_event {
        enum core_event_kind kind;
        const struct pool_rt *pool;
        int node;                 /* -1: the whole pool */
        int state;                /* enum pool_state */
        const char *reason;
        bool external;            /* the change was not made through hugevmd */
        bool enabled;
        uint64_t from, current, target;
        enum resize_result result;
        bool wrote;               /* the write changed or read back the pool (progress to show) */
        double seconds;
};

typedef void (*core_observer_fn)(void *data, struct core *core, const struct core_event *ev);

#define CORE_MAX_OBSERVERS 8

struct core_observers {
        struct {
                core_observer_fn fn;
                void *data;
        } list[CORE_MAX_OBSERVERS];
        size_t n;
};

/* Observers are called in the order they subscribed. -ENOSPC when full. */
int core_subscribe(struct core *core, core_observer_fn fn, void *data);
void core_publish(struct core *core, const struct core_event *ev);

#endif
